"""bayesff: Bayesian calibration of force-field parameters, with transferability.

The public API is imported lazily so that ``import bayesff`` (and the CLI) stay
fast; ``bayesff.Problem``, ``bayesff.calibrate`` and friends load the numerical
stack (jax, numpyro, arviz) on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Problem", "Target", "calibrate", "get_observable", "get_potential", "units"]

_LAZY = {
    "Problem": ("bayesff.problem", "Problem"),
    "Target": ("bayesff.targets", "Target"),
    "calibrate": ("bayesff.inference", "calibrate"),
    "get_potential": ("bayesff.potentials", "get_potential"),
    "get_observable": ("bayesff.observables", "get_observable"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    if name == "units":
        import importlib

        return importlib.import_module("bayesff.units")
    raise AttributeError(f"module 'bayesff' has no attribute {name!r}")
