"""The arguments of every ``bayesff`` command, without the numerical stack.

:data:`ARGUMENTS` maps each command of :data:`bayesff.cli.COMMANDS` to the function
that adds its options to its parser. This module imports only the standard library,
:mod:`bayesff.cli.argtypes` and :mod:`bayesff.defaults`, so that ``bayesff COMMAND
--help`` and a usage error are answered in a fraction of a second; the command's own
module (which imports jax, numpyro and arviz: seconds) is imported only to run it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bayesff.cli.argtypes import (
    axis_labels,
    count,
    folder,
    fraction,
    module_name,
    nonnegative,
    positive,
)
from bayesff.defaults import (
    CHAIN_R_CUT_ANGSTROM,
    DEFAULT_MAX_TASKS,
    EXPORT_FORMATS,
    REFINE_MAX_OUTSIDE,
    REFINE_N_DRAWS,
)

__all__ = ["ARGUMENTS"]


def _add_allow_plugin(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--allow-plugin MODULE`` flag."""
    parser.add_argument(
        "--allow-plugin",
        action="append",
        default=[],
        type=module_name,
        metavar="MODULE",
        help="let the problem or sweep file name kind = 'MODULE:factory' (imports MODULE: "
        "allow only code you trust; repeatable; also [plugins] allow in "
        "~/.config/bayesff/config.toml)",
    )


def _add_limits(c) -> None:
    """Options both commands share: the task limit and the plug-in allow list."""
    c.add_argument(
        "--max-tasks",
        type=count(1),
        default=DEFAULT_MAX_TASKS,
        metavar="N",
        help=f"refuse a sweep of more than N tasks, before any work (default {DEFAULT_MAX_TASKS})",
    )
    _add_allow_plugin(c)


def _add_roots(c) -> None:
    """--runs and --reports: the output roots (folders; a file there is a usage error)."""
    c.add_argument(
        "--runs", default="runs", type=folder, help="output root of run files (default runs)"
    )
    c.add_argument(
        "--reports",
        default="reports",
        type=folder,
        help="output root of reports (default reports)",
    )


def _check(c) -> None:
    c.add_argument("problem", help="problem file, e.g. models/argon_lj_b2.toml")
    _add_allow_plugin(c)


def _list(c) -> None:
    pass


def _calibrate(c) -> None:
    c.add_argument("problem", help="problem file, e.g. models/argon_lj_b2.toml")
    c.add_argument("--out", help="run file (default runs/NAME/posterior.nc)")
    c.add_argument("--force", action="store_true", help="replace an existing run file")
    c.add_argument("--chains", type=count(1), metavar="N", help="chains (>= 1)")
    c.add_argument("--warmup", type=count(1), metavar="N", help="warm-up draws per chain (>= 1)")
    c.add_argument("--samples", type=count(1), metavar="N", help="kept draws per chain (>= 1)")
    c.add_argument("--seed", type=count(0), metavar="N", help="PRNG seed (>= 0)")
    c.add_argument("--thin", type=count(1), metavar="N", help="keep every N-th draw")
    c.add_argument(
        "--sampler",
        choices=("nuts", "chees", "tempered"),
        help="NUTS (default), ChEES-HMC, or NUTS within parallel tempering",
    )
    c.add_argument(
        "--checkpoint-every",
        type=count(0),
        default=0,
        metavar="N",
        help="save the sampler state every N draws (checkpoint.npz beside the run file); "
        "Ctrl-C always saves one",
    )
    c.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    c.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if diagnostics fail; the run then goes to NAME.failed.nc, never over a "
        "good one",
    )
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the summary")
    c.add_argument(
        "--prepared",
        metavar="DIR",
        help="the prepared MD runs of the problem's MD targets (default prepared/NAME): a "
        "variant of a problem can use the runs `bayesff prepare` made for the original",
    )
    _add_allow_plugin(c)


def _repredict(c) -> None:
    c.add_argument("problem", help="problem file, e.g. models/alkane_chains/trend.toml")
    c.add_argument("run", help="a run of the same training model, e.g. runs/NAME/posterior.nc")
    c.add_argument("--out", required=True, help="the new run file (the run itself: --force)")
    c.add_argument("--force", action="store_true", help="replace an existing file at --out")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the verdicts")
    _add_allow_plugin(c)


def _report(c) -> None:
    c.add_argument("run", help="run file, e.g. runs/argon_lj_b2/posterior.nc")
    c.add_argument("--out", help="report folder (default reports/NAME)")
    c.add_argument("--compare", nargs="+", metavar="RUN", help="other runs on the same data")
    c.add_argument("--quiet", action="store_true", help="only the page's path")


def _evaluate(c) -> None:
    c.add_argument("run", help="run file")


def _compare(c) -> None:
    c.add_argument("runs", nargs="+", help="run files fitted to the same data")
    c.add_argument("--bands", type=count(2), default=None, help="environment bands for LOEO")


def _sensitivity(c) -> None:
    c.add_argument("run", help="run file, e.g. runs/argon_joint/posterior.nc")
    c.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="never sample again: leave-one-target-out by importance sampling only "
        "(flagged where Pareto k > 0.7)",
    )
    c.add_argument(
        "--warmup", type=count(1), metavar="N", help="warm-up draws per chain of refits (>= 1)"
    )
    c.add_argument(
        "--samples", type=count(1), metavar="N", help="kept draws per chain of refits (>= 1)"
    )
    c.add_argument("--json", action="store_true", help="every number as JSON")
    c.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_allow_plugin(c)


def _sweep(c) -> None:
    c.add_argument("sweep", help="sweep file, e.g. models/sweeps/argon_forms.toml")
    c.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running dask.distributed scheduler, e.g. tcp://host:8786 (default: a "
        "LocalCluster on this machine)",
    )
    c.add_argument("--workers", type=count(1), metavar="N", help="LocalCluster workers")
    c.add_argument(
        "--cluster",
        choices=("slurm",),
        help="start workers through SLURM "
        "(dask-jobqueue, the 'hpc' extra; configure it in ~/.config/dask/jobqueue.yaml)",
    )
    _add_roots(c)
    c.add_argument(
        "--force",
        action="store_true",
        help="run again the tasks whose run file was made from another problem or other "
        "settings, replacing it (without it the sweep names them and stops before any work)",
    )
    c.add_argument("--no-report", action="store_true", help="no per-task reports")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the summary line")
    c.add_argument(
        "--check",
        action="store_true",
        help="build every task's problem and read its data, print one line per task and "
        "run nothing (exit status 1 if a task is invalid)",
    )
    c.add_argument(
        "--only",
        action="append",
        type=axis_labels,
        default=[],
        metavar="AXIS=LABEL[,LABEL...]",
        help="run only the tasks with one of these labels on that axis (repeatable: the "
        "conditions on different axes must all hold, and labels given twice for one axis "
        "are joined), e.g. --only potential=lj --only training=B2,VLE; the others are "
        "listed as not run",
    )
    _add_limits(c)


def _atlas(c) -> None:
    c.description = (
        "Write the atlas page (index.html, atlas.csv, a page per fluid) of a sweep file "
        "with a [sweep.atlas] table from the run files it has, sampling nothing: tasks "
        "without an up-to-date run file are shown as missing (or, with --previous, as "
        "carried over from an earlier page)."
    )
    c.add_argument("sweep", help="sweep file, e.g. models/atlas/atlas.toml")
    _add_roots(c)
    c.add_argument(
        "--previous",
        metavar="ATLAS_JSON",
        help="an earlier page's atlas.json (e.g. reports/atlas/atlas.json): a task without "
        "a run file here shows that page's entry when it was made from the same problem "
        "and sampler settings, marked as carried over",
    )
    c.add_argument("--quiet", action="store_true", help="only the page's path")
    _add_limits(c)


def _prepare(c) -> None:
    c.description = (
        "Run one NVT reference simulation per state of every MD target and store the "
        "frames as data files with provenance in prepared/NAME/ (npz + JSON + "
        "manifest.toml); runs that are up to date are kept. Calibration reads them."
    )
    c.add_argument("problem", help="problem file, e.g. models/argon_md.toml")
    c.add_argument(
        "--force",
        action="store_true",
        help="simulate every run again at the problem's reference (undoes bayesff refine)",
    )
    c.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_allow_plugin(c)


def _refine(c) -> None:
    c.description = (
        "Loop: calibrate (runs/NAME/refine/round-K/posterior.nc), check the ESS of the MD "
        "reference runs at the posterior draws, re-simulate them at the posterior mean if "
        "more than --max-outside of a state's draws leave the trust region; stop when none "
        "does (exit 0), or after --rounds, or when the reference no longer moves (exit 1)."
    )
    c.add_argument("problem", help="problem file with MD targets, e.g. models/argon_md.toml")
    c.add_argument("--rounds", type=count(1), default=3, metavar="N", help="at most N rounds (3)")
    c.add_argument("--chains", type=count(1), metavar="N", help="chains (>= 1)")
    c.add_argument("--warmup", type=count(1), metavar="N", help="warm-up draws per chain")
    c.add_argument("--samples", type=count(1), metavar="N", help="kept draws per chain")
    c.add_argument("--seed", type=count(0), metavar="N", help="PRNG seed (>= 0)")
    c.add_argument(
        "--draws", type=count(1), default=REFINE_N_DRAWS, metavar="N",
        help=f"posterior draws checked per round ({REFINE_N_DRAWS})",
    )  # fmt: skip
    c.add_argument(
        "--max-outside", type=fraction, default=REFINE_MAX_OUTSIDE, metavar="F",
        help="largest fraction of a state's draws outside the trust region "
        f"({REFINE_MAX_OUTSIDE})",
    )  # fmt: skip
    c.add_argument("--out", help="folder of the rounds' runs (default runs/NAME/refine)")
    c.add_argument(
        "--force", action="store_true",
        help="replace the round files of an earlier refine (its run files, checkpoint and "
        "prepared copies; nothing else)",
    )  # fmt: skip
    c.add_argument(
        "--resume", action="store_true",
        help="continue the round that Ctrl-C interrupted from its checkpoint "
        "(round-K/checkpoint.npz), the rounds before it kept",
    )  # fmt: skip
    c.add_argument(
        "--replace-runs", action="store_true",
        help="re-simulated molecular runs replace the earlier ones (default: pooled by MBAR)",
    )  # fmt: skip
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the final line")
    _add_allow_plugin(c)


def _active(c) -> None:
    c.description = (
        "Rank a run's held-out rows (the candidate pool: a held-out group or a "
        "target with train = false) by the spread of the posterior draws there."
    )
    c.add_argument("run", help="run file, e.g. runs/NAME/posterior.nc")
    c.add_argument("--target", help="target whose held-out rows are the pool")
    c.add_argument("--group", help="only this held-out group")
    c.add_argument("-k", type=count(1), default=5, help="how many to choose (default 5)")
    c.add_argument(
        "--method",
        choices=("committee", "variance"),
        default="committee",
        help="score: sd of the draws (committee, default) or their variance",
    )
    c.add_argument(
        "--threshold", type=nonnegative, help="choose nothing scoring below this (score unit)"
    )


def _export(c) -> None:
    c.add_argument("run", help="run file, e.g. runs/butane/posterior.nc")
    c.add_argument(
        "--format", required=True, choices=EXPORT_FORMATS, help="the engine's file format"
    )
    c.add_argument(
        "--topology",
        metavar="FILE",
        help="TOML file of the molecules and site types (docs/molecular.md, dict form); "
        "its parameter names must be the run's. Default: the molecules of the run's own "
        "problem (a forcefield potential)",
    )
    c.add_argument(
        "--draws",
        type=count(0),
        default=0,
        metavar="K",
        help="also K posterior draws, evenly spaced (default 0: the mean only)",
    )
    c.add_argument(
        "--molar-mass",
        type=positive,
        metavar="G_PER_MOL",
        help="mie_chain runs: the molecule's molar mass, g/mol (each bead carries 1/segments)",
    )
    c.add_argument(
        "--segments",
        type=count(1),
        metavar="N",
        help="mie_chain runs: beads per molecule (default: the problem's fixed value, if a "
        "whole number)",
    )
    c.add_argument(
        "--r-cut",
        type=positive,
        default=None,
        metavar="ANGSTROM",
        help="mie_chain runs: cut-off of the pair potential (default "
        f"{CHAIN_R_CUT_ANGSTROM:g} angstrom, with tail)",
    )
    c.add_argument("--out", help="folder for the files (default exports/NAME/FORMAT)")
    c.add_argument("--force", action="store_true", help="replace files that exist")
    c.add_argument("--quiet", action="store_true", help="only the folder's path")


#: Command -> the function that adds its arguments to its parser.
ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "check": _check,
    "calibrate": _calibrate,
    "repredict": _repredict,
    "report": _report,
    "evaluate": _evaluate,
    "compare": _compare,
    "export": _export,
    "sweep": _sweep,
    "list": _list,
    "active": _active,
    "prepare": _prepare,
    "refine": _refine,
    "atlas": _atlas,
    "sensitivity": _sensitivity,
}
