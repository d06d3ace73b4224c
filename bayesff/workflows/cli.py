"""Subcommands of the workflows: ``bayesff active`` (and the parsers of prepare, refine, ...).

Each ``add_*_parser(subparsers)`` adds its parser to the ``bayesff``
command's subparsers and sets ``func``, a function of the parsed arguments
that returns the exit status. This module imports only :mod:`argparse`; the
workflows (and jax) are imported when a command runs, so ``bayesff --help``
stays fast. :func:`add_parsers` adds them all.

    bayesff active runs/lj_force/posterior.nc -k 3 --target pool

The studies are examples beside the package (``studies/``, ``python -m studies.NAME``).
"""

from __future__ import annotations

from bayesff.argtypes import count as _count
from bayesff.argtypes import nonnegative as _nonnegative

__all__ = ["add_active_parser", "add_parsers"]


def _log(args):
    if getattr(args, "quiet", False):
        return None
    return lambda *a, **k: print(*a, **k, flush=True)


def add_parsers(subparsers) -> None:
    """Add ``active``, ``prepare``, ``refine``, ``atlas`` and ``sensitivity`` to
    the ``bayesff`` command's subparsers."""
    from bayesff import sensitivity
    from bayesff.workflows import atlas, prepare, refine

    add_active_parser(subparsers)
    prepare.add_parser(subparsers)
    refine.add_parser(subparsers)
    atlas.add_parser(subparsers)
    sensitivity.add_parser(subparsers)


# ------------------------------------------------------------------------------- active


def add_active_parser(subparsers) -> None:
    """``bayesff active RUN``: the held-out environments where the posterior disagrees most."""
    c = subparsers.add_parser(
        "active",
        help="which held-out environments of a run to label next (posterior disagreement)",
        description="Rank a run's held-out rows (the candidate pool: a held-out group or a "
        "target with train = false) by the spread of the posterior draws there.",
    )
    c.add_argument("run", help="run file, e.g. runs/NAME/posterior.nc")
    c.add_argument("--target", help="target whose held-out rows are the pool")
    c.add_argument("--group", help="only this held-out group")
    c.add_argument("-k", type=_count(1), default=5, help="how many to choose (default 5)")
    c.add_argument(
        "--method",
        choices=("committee", "variance"),
        default="committee",
        help="score: sd of the draws (committee, default) or their variance",
    )
    c.add_argument(
        "--threshold", type=_nonnegative, help="choose nothing scoring below this (score unit)"
    )
    c.set_defaults(func=_cmd_active)


def _cmd_active(args) -> int:
    import numpy as np

    from bayesff.workflows.active import query, run_pool

    pool = run_pool(args.run, args.target, args.group)
    q = query(pool, k=args.k, method=args.method, threshold=args.threshold)
    unit = pool.unit if args.method == "committee" else f"({pool.unit})^2"
    cands = (
        q.candidates
        if isinstance(q.candidates, dict)
        else {next(iter(pool.env_units), "x"): q.candidates}
    )
    head = [f"{c} [{pool.env_units.get(c, '')}]" for c in cands]
    where = f"{pool.target}" + (f", group {pool.group!r}" if pool.group else "")
    print(f"{len(q)} of {np.size(q.scores)} candidates of {where}, by {args.method} score:")
    print("  ".join(["rank", *head, f"score [{unit}]"]))
    for i in range(len(q)):
        vals = [f"{np.asarray(v)[i]:.6g}" for v in cands.values()]
        print("  ".join([f"{i + 1:>4}", *vals, f"{q.score[i]:.4g}"]))
    if q.converged:
        print(f"converged: no candidate scores {args.threshold:g} {unit} or more")
    return 0
