"""Workflows: loops built on :func:`bayesff.calibrate`, the run file and the simulator.

This layer sits above inference: its functions run calibrations (one
sampling path, :func:`bayesff.inference.calibrate`), simulations or both in a
loop, and read run files through :mod:`bayesff.runfile`. The numeric core
(potentials, forward models, model, inference) never imports it. Worked
studies that use these pieces are examples beside the package (``studies/``).

Modules
-------
:mod:`~bayesff.workflows.active`
    active-learning queries (which environment to label next) and the
    label-refit-query loop.
:mod:`~bayesff.workflows.prepare`
    what ``bayesff prepare PROBLEM`` runs: the reference MD runs of a problem's MD
    targets, stored as data files (:mod:`bayesff.prepared`); forward models
    never simulate.
:mod:`~bayesff.workflows.refine`
    what ``bayesff refine PROBLEM`` runs: calibrate, check the MD trust regions at the
    posterior, re-simulate at the posterior mean, until none is needed.

Submodules are imported on use (``from bayesff.workflows import active``);
importing this package loads nothing heavy.
"""

from __future__ import annotations

__all__ = ["active", "prepare", "refine"]
