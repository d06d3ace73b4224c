"""``bayesff sweep SWEEP`` (many calibrations on Dask) and ``bayesff atlas SWEEP``."""

from __future__ import annotations

import logging
import sys

from bayesff.cli.allow import allowing_plugins
from bayesff.cli.command import EXIT_FAILED, EXIT_OK, logger
from bayesff.sweep import build_atlas, check_sweep, run_sweep

__all__ = ["COMMANDS"]


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
    "sweep": allowing_plugins(_sweep),
    "atlas": allowing_plugins(_atlas),
}
