"""Defaults and choices that the library and the command line share.

This module imports nothing, so that ``bayesff COMMAND --help`` (whose options
show these values) is answered without the numerical stack
(:mod:`bayesff.cli.arguments`). The modules that use them re-export them:
:data:`bayesff.sweep.DEFAULT_MAX_TASKS`, :data:`bayesff.workflows.refine.MAX_OUTSIDE`
and :data:`~bayesff.workflows.refine.N_DRAWS`, :data:`bayesff.export.FORMATS`.
"""

from __future__ import annotations

__all__ = [
    "CHAIN_R_CUT_ANGSTROM",
    "DEFAULT_MAX_TASKS",
    "EXPORT_FORMATS",
    "REFINE_MAX_OUTSIDE",
    "REFINE_N_DRAWS",
]

#: Tasks a sweep may have unless told otherwise (``max_tasks``, ``--max-tasks``). Every
#: task's problem is built and its data read before any sampling (about 15 ms each on a
#: laptop core), its document kept in memory and its row written to the summary and the
#: index page: 10,000 tasks take minutes to check, while axes that multiply into
#: millions would exhaust the memory before a single calibration.
DEFAULT_MAX_TASKS = 10_000

#: Largest fraction of posterior draws of a trained state allowed outside the trust
#: region of its MD reference runs (``bayesff refine --max-outside``).
REFINE_MAX_OUTSIDE = 0.05
#: Posterior draws at which refine evaluates the ESS fractions (evenly thinned;
#: ``bayesff refine --draws``).
REFINE_N_DRAWS = 200

#: Force-field file formats of :func:`bayesff.export.render_ensemble` (``--format``).
EXPORT_FORMATS = ("openmm", "lammps", "gromacs")
#: Pair cut-off of an exported Mie chain force field unless ``--r-cut`` is given
#: (angstrom; the files add the tail correction).
CHAIN_R_CUT_ANGSTROM = 14.0
