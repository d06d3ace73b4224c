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
    ``bayesff prepare PROBLEM``: the reference MD runs of a problem's MD
    targets, stored as data files (:mod:`bayesff.prepared`); forward models
    never simulate.
:mod:`~bayesff.workflows.refine`
    ``bayesff refine PROBLEM``: calibrate, check the MD trust regions at the
    posterior, re-simulate at the posterior mean, until none is needed.
:mod:`~bayesff.workflows.atlas`
    ``bayesff atlas SWEEP``: the transferability atlas of a finished sweep.
:mod:`~bayesff.workflows.cli`
    ``bayesff active`` and the parsers of the commands above.

Submodules are imported on use (``from bayesff.workflows import active``);
importing this package loads nothing heavy.
"""

from __future__ import annotations

__all__ = ["active", "atlas", "cli", "prepare", "refine"]
