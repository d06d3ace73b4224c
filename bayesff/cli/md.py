"""``bayesff prepare PROBLEM`` and ``bayesff refine PROBLEM``: MD reference runs."""

from __future__ import annotations

from bayesff.cli.allow import allowing_plugins
from bayesff.cli.command import EXIT_FAILED, EXIT_OK, logger
from bayesff.runtime import configure
from bayesff.workflows.prepare import prepare
from bayesff.workflows.refine import refine

__all__ = ["COMMANDS"]


def _prepare(args) -> int:
    configure()
    prepare(args.problem, force=args.force, log=logger(args))
    return EXIT_OK


def _refine(args) -> int:
    configure()
    res = refine(
        args.problem,
        max_rounds=args.rounds,
        out=args.out,
        force=args.force,
        resume=args.resume,
        n_draws=args.draws,
        max_outside=args.max_outside,
        progress=False if args.no_progress else None,
        log=logger(args),
        pool=not args.replace_runs,
        chains=args.chains,
        warmup=args.warmup,
        samples=args.samples,
        seed=args.seed,
    )
    last = res.rounds[-1]
    print(
        f"refine: {res.status} after {last.round} round(s); last run {res.run_path}; "
        f"prepared runs now at {res.reference}"
    )
    if not res.converged:
        print(f"refine: {last.decision.reason}")
    return EXIT_OK if res.converged else EXIT_FAILED


COMMANDS = {
    "prepare": allowing_plugins(_prepare),
    "refine": allowing_plugins(_refine),
}
