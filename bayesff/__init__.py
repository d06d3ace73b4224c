"""bayesff: Bayesian calibration of force-field parameters, with transferability.

The public API, imported lazily so that ``import bayesff`` (and the CLI) stay
fast and change no global JAX setting (see :func:`configure`)::

    import bayesff
    problem = bayesff.Problem.from_toml("models/argon_lj_b2.toml")
    run = bayesff.calibrate(problem, out="runs/argon/posterior.nc")
    bayesff.evaluate(run.datatree).verdict_lines()
    bayesff.report("runs/argon/posterior.nc")      # -> reports/argon_lj_b2/index.html
    dt = bayesff.load_run("runs/argon/posterior.nc")
"""

from __future__ import annotations

import importlib

from bayesff._version import __version__ as __version__

__all__ = [
    "Problem",
    "Target",
    "calibrate",
    "calibrate_many",
    "compare",
    "configure",
    "evaluate",
    "get_observable",
    "get_potential",
    "load_run",
    "register_potential",
    "report",
    "units",
]

_LAZY = {
    "Problem": ("bayesff.problem", "Problem"),
    "Target": ("bayesff.targets", "Target"),
    "calibrate": ("bayesff.inference", "calibrate"),
    "calibrate_many": ("bayesff.inference", "calibrate_many"),
    "compare": ("bayesff.transferability", "compare"),
    "configure": ("bayesff.runtime", "configure"),
    "evaluate": ("bayesff.transferability", "evaluate"),
    "get_observable": ("bayesff.observables", "get_observable"),
    "get_potential": ("bayesff.potentials", "get_potential"),
    "load_run": ("bayesff.runfile", "read"),
    "register_potential": ("bayesff.potentials", "register"),
    "report": ("bayesff.report", "report"),
}


def __getattr__(name):

    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    if name == "units":
        return importlib.import_module("bayesff.units")
    raise AttributeError(f"module 'bayesff' has no attribute {name!r}")


def __dir__():
    return sorted([*__all__, "__version__"])
