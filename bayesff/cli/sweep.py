"""``bayesff sweep SWEEP`` (many calibrations on Dask) and ``bayesff atlas SWEEP``."""

from __future__ import annotations

import logging
import sys

from bayesff.cli.allow import add_allow_plugin, allowing_plugins
from bayesff.cli.argtypes import axis_labels, count, folder
from bayesff.cli.command import EXIT_FAILED, EXIT_OK, Command, logger
from bayesff.sweep import DEFAULT_MAX_TASKS, build_atlas, check_sweep, run_sweep

__all__ = ["COMMANDS"]


def _add_limits(c) -> None:
    """Options both commands share: the task limit and the plug-in allow list."""
    c.add_argument(
        "--max-tasks",
        type=count(1),
        default=DEFAULT_MAX_TASKS,
        metavar="N",
        help=f"refuse a sweep of more than N tasks, before any work (default {DEFAULT_MAX_TASKS})",
    )
    add_allow_plugin(c)


def _sweep_arguments(c) -> None:
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


def _sweep(args) -> int:
    if args.check:
        return _check(args)
    if not getattr(args, "debug", False):
        # distributed logs each failed reconnection to a lost scheduler with a traceback;
        # run_sweep reports a lost scheduler itself, in one line (--debug shows them)
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
    res = run_sweep(
        args.sweep,
        out_root=args.runs,
        report_root=args.reports,
        scheduler=args.scheduler,
        workers=args.workers,
        cluster=args.cluster,
        report=False if args.no_report else None,
        log=logger(args),
        progress=False if args.no_progress else None,
        max_tasks=args.max_tasks,
        only=_only(args.only),
        force=args.force,
    )
    failed = [t for t, st in res.status.items() if st == "failed"]
    print(f"summary {res.summary}; index {res.index}")
    for t in failed:
        print(f"failed: {t}: {res.messages.get(t, '')}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _check(args) -> int:
    """``bayesff sweep --check``: every task's problem built, one line each."""
    name, problems, errors = check_sweep(
        args.sweep, max_tasks=args.max_tasks, only=_only(args.only)
    )
    for task, p in problems.items():
        trained = sum(t.train.any() for t in p.targets)
        if not args.quiet:
            print(
                f"  {task}: ok, {len(p.free_parameters)} sampled parameters "
                f"({', '.join(p.free_parameters)}), {trained} of {len(p.targets)} targets "
                "trained"
            )
    for task, message in errors.items():
        print(f"  {task}: invalid: {message}", file=sys.stderr)
    print(
        f"sweep {name}: {len(problems) + len(errors)} tasks checked, {len(problems)} valid, "
        f"{len(errors)} invalid"
    )
    return EXIT_FAILED if errors else EXIT_OK


def _only(pairs: list[tuple[str, list[str]]]) -> dict[str, list[str]] | None:
    """--only AXIS=LABELS options as one dict; an axis given twice keeps both label lists."""
    out: dict[str, list[str]] = {}
    for axis, labels in pairs:
        out.setdefault(axis, []).extend(labels)
    return out or None


def _atlas_arguments(c) -> None:
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


def _atlas(args) -> int:
    index = build_atlas(
        args.sweep,
        out_root=args.runs,
        report_root=args.reports,
        log=None if args.quiet else print,
        max_tasks=args.max_tasks,
        previous=args.previous,
    )
    print(f"atlas {index}")
    return EXIT_OK


COMMANDS = {
    "sweep": Command(_sweep_arguments, allowing_plugins(_sweep)),
    "atlas": Command(_atlas_arguments, allowing_plugins(_atlas)),
}
