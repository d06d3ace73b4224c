"""``bayesff active RUN``: which held-out environments of a run to label next."""

from __future__ import annotations

import numpy as np

from bayesff.cli.argtypes import count, nonnegative
from bayesff.cli.command import EXIT_OK, Command
from bayesff.workflows.active import query, run_pool

__all__ = ["COMMANDS"]


def _arguments(c) -> None:
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


def _run(args) -> int:
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
    return EXIT_OK


COMMANDS = {"active": Command(_arguments, _run)}
