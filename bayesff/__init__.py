"""bayesff: Bayesian calibration of force-field parameters, with transferability.

The public API: the nouns to build a problem in Python, the verbs of a
calibration, and the run::

    import bayesff
    problem = bayesff.load_problem("models/argon_lj_b2.toml")
    run = bayesff.calibrate(problem, out="runs/argon/posterior.nc")
    bayesff.evaluate(run.datatree).verdict_lines()
    bayesff.report("runs/argon/posterior.nc")      # -> reports/argon_lj_b2/index.html
    dt = bayesff.load_run("runs/argon/posterior.nc")

or in Python, from the same nouns a problem file names::

    b2 = bayesff.Target.from_file("B2", "second_virial", "data/argon/b2.csv",
                                  inadequacy=bayesff.Inadequacy("inferred_scale"))
    problem = bayesff.Problem(
        name="argon", potential=bayesff.get_potential("lennard_jones"),
        parameters={"sigma": bayesff.Parameter(
            "sigma", "angstrom", bayesff.PriorSpec("Uniform", {"low": 3.0, "high": 4.0}))},
        targets=[b2], inference=bayesff.InferenceSettings(chains=4))

Names load on first use: ``import bayesff`` (and so ``bayesff --help``) imports
neither JAX nor the rest, and changes no JAX setting (:func:`configure` does).
The ``TYPE_CHECKING`` block below lists the same names for type checkers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from bayesff._version import __version__ as __version__

if TYPE_CHECKING:
    from bayesff import units as units
    from bayesff.inference import Run as Run
    from bayesff.inference import calibrate as calibrate
    from bayesff.inference import calibrate_many as calibrate_many
    from bayesff.inference import repredict as repredict
    from bayesff.observables import Observable as Observable
    from bayesff.observables import get_observable as get_observable
    from bayesff.potentials import PairPotential as PairPotential
    from bayesff.potentials import ParamSpec as ParamSpec
    from bayesff.potentials import get_potential as get_potential
    from bayesff.potentials import register as register_potential
    from bayesff.priors import Parameter as Parameter
    from bayesff.priors import Pooling as Pooling
    from bayesff.priors import PriorSpec as PriorSpec
    from bayesff.priors import Support as Support
    from bayesff.problem import Problem as Problem
    from bayesff.problem import dump_problem as dump_problem
    from bayesff.problem import load_problem as load_problem
    from bayesff.report import report as report
    from bayesff.runfile import read as load_run
    from bayesff.runtime import configure as configure
    from bayesff.settings import InferenceSettings as InferenceSettings
    from bayesff.targets import ErrorModel as ErrorModel
    from bayesff.targets import Inadequacy as Inadequacy
    from bayesff.targets import Nuisance as Nuisance
    from bayesff.targets import Target as Target
    from bayesff.transferability import compare as compare
    from bayesff.transferability import evaluate as evaluate

__all__ = [
    "ErrorModel",
    "Inadequacy",
    "InferenceSettings",
    "Nuisance",
    "Observable",
    "PairPotential",
    "ParamSpec",
    "Parameter",
    "Pooling",
    "PriorSpec",
    "Problem",
    "Run",
    "Support",
    "Target",
    "__version__",
    "calibrate",
    "calibrate_many",
    "compare",
    "configure",
    "dump_problem",
    "evaluate",
    "get_observable",
    "get_potential",
    "load_problem",
    "load_run",
    "register_potential",
    "report",
    "repredict",
    "units",
]

#: Public name -> (module, attribute); the attribute ``None`` is the module itself.
_WHERE = {
    "ErrorModel": ("bayesff.targets", "ErrorModel"),
    "Inadequacy": ("bayesff.targets", "Inadequacy"),
    "InferenceSettings": ("bayesff.settings", "InferenceSettings"),
    "Nuisance": ("bayesff.targets", "Nuisance"),
    "Observable": ("bayesff.observables", "Observable"),
    "PairPotential": ("bayesff.potentials", "PairPotential"),
    "ParamSpec": ("bayesff.potentials", "ParamSpec"),
    "Parameter": ("bayesff.priors", "Parameter"),
    "Pooling": ("bayesff.priors", "Pooling"),
    "PriorSpec": ("bayesff.priors", "PriorSpec"),
    "Problem": ("bayesff.problem", "Problem"),
    "Run": ("bayesff.inference", "Run"),
    "Support": ("bayesff.priors", "Support"),
    "Target": ("bayesff.targets", "Target"),
    "calibrate": ("bayesff.inference", "calibrate"),
    "calibrate_many": ("bayesff.inference", "calibrate_many"),
    "compare": ("bayesff.transferability", "compare"),
    "configure": ("bayesff.runtime", "configure"),
    "dump_problem": ("bayesff.problem", "dump_problem"),
    "evaluate": ("bayesff.transferability", "evaluate"),
    "get_observable": ("bayesff.observables", "get_observable"),
    "get_potential": ("bayesff.potentials", "get_potential"),
    "load_problem": ("bayesff.problem", "load_problem"),
    "load_run": ("bayesff.runfile", "read"),
    "register_potential": ("bayesff.potentials", "register"),
    "report": ("bayesff.report", "report"),
    "repredict": ("bayesff.inference", "repredict"),
    "units": ("bayesff.units", None),
}


def __getattr__(name: str):
    if name in _WHERE:
        module, attr = _WHERE[name]
        mod = importlib.import_module(module)
        return mod if attr is None else getattr(mod, attr)
    raise AttributeError(f"module 'bayesff' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
