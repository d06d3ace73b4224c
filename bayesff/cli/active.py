"""``bayesff active RUN``: which held-out environments of a run to label next."""

from __future__ import annotations

import numpy as np

from bayesff.cli.command import EXIT_OK
from bayesff.workflows.active import query, run_pool

__all__ = ["COMMANDS"]


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


COMMANDS = {"active": _run}
