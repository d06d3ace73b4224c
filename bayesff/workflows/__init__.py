"""Workflows: studies and loops built on :func:`bayesff.calibrate` and the run file.

This layer sits above inference: its functions build problems, run
calibrations (one sampling path, :func:`bayesff.inference.calibrate`), read
run files through :mod:`bayesff.runfile` and turn them into the numbers,
tables and figures of a study. The numeric core (potentials, forward models,
model, inference) never imports it.

Modules
-------
:mod:`~bayesff.workflows.active`
    active-learning queries (which environment to label next) and the
    label-refit-query loop.
:mod:`~bayesff.workflows.forcegp`
    an exact Gaussian process on a pair force (tinygp), hyperparameters at
    their posterior mode.
:mod:`~bayesff.workflows.empirical_bayes`
    GP-potential hyperparameters at their posterior mode on a grid.
:mod:`~bayesff.workflows.classical_vs_ml`
    LJ against a GP (and LJ + HSGP) on pair forces: transferability over
    distance.
:mod:`~bayesff.workflows.delta_learning`
    a GP correction on a cheap potential against one on a bare wall.
:mod:`~bayesff.workflows.square_well`
    the square well's joint structure-and-thermo tolerance for argon.
:mod:`~bayesff.workflows.argon_joint`
    B2-only, structure-only and joint argon posteriors, LJ against Mie.
:mod:`~bayesff.workflows.inadequacy`
    argon B2 under each model-inadequacy option.
:mod:`~bayesff.workflows.remap`
    the Bayesian 1-4 scaling re-mapping as a calibration problem.
:mod:`~bayesff.workflows.prepare`
    ``bayesff prepare PROBLEM``: the reference MD runs of a problem's MD
    targets, stored as data files (:mod:`bayesff.prepared`); forward models
    never simulate.
:mod:`~bayesff.workflows.refine`
    ``bayesff refine PROBLEM``: calibrate, check the MD trust regions at the
    posterior, re-simulate at the posterior mean, until none is needed.
:mod:`~bayesff.workflows.cli`
    ``bayesff active`` and ``bayesff study`` subcommands.

Submodules are imported on use (``from bayesff.workflows import active``);
importing this package loads nothing heavy.
"""

from __future__ import annotations

__all__ = [
    "active",
    "argon_joint",
    "classical_vs_ml",
    "cli",
    "delta_learning",
    "empirical_bayes",
    "forcegp",
    "inadequacy",
    "prepare",
    "refine",
    "remap",
    "square_well",
]
