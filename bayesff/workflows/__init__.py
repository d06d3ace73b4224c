"""Workflows: what runs simulations or loops around :func:`bayesff.calibrate`.

The layer above inference. Forward models never simulate; the steps that do
live here:

* :func:`prepare` (``bayesff prepare PROBLEM``): the reference MD runs of a
  problem's MD targets, stored as data files (:mod:`bayesff.prepared`);
* :func:`refine` (``bayesff refine PROBLEM``): calibrate, check the MD trust
  regions at the posterior (:func:`check_trust`), re-simulate at the
  posterior mean, until no re-simulation is needed.

The CLI subcommands are added by ``add_parser(subparsers)`` of
:mod:`bayesff.workflows.prepare` and :mod:`bayesff.workflows.refine`.
Imported lazily, so that importing this package costs nothing.
"""

from __future__ import annotations

__all__ = ["check_trust", "prepare", "reference_from_posterior", "refine", "set_reference"]

_LAZY = {
    "prepare": "bayesff.workflows.prepare",
    "refine": "bayesff.workflows.refine",
    "check_trust": "bayesff.workflows.refine",
    "reference_from_posterior": "bayesff.workflows.refine",
    "set_reference": "bayesff.workflows.refine",
}


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bayesff.workflows' has no attribute {name!r}")
