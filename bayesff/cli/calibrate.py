"""``bayesff calibrate PROBLEM``: sample the posterior, write the run file, judge it;
``bayesff repredict PROBLEM RUN --out NEW``: the same draws, predicted again."""

from __future__ import annotations

import sys
from pathlib import Path

from bayesff.cli.allow import allowing_plugins
from bayesff.cli.command import EXIT_FAILED, EXIT_OK, logger
from bayesff.errors import DiagnosticsError
from bayesff.inference import calibrate, repredict
from bayesff.io import confined
from bayesff.problem import Problem
from bayesff.runtime import configure
from bayesff.transferability import evaluate

__all__ = ["COMMANDS"]


def _default_out(problem) -> str:
    path = Path("runs") / problem.name / "posterior.nc"
    confined(path, "runs", "run file")
    return str(path)


def _run(args) -> int:
    problem = Problem.from_toml(args.problem, prepared=args.prepared or True)
    configure()
    try:
        run = calibrate(
            problem,
            out=args.out or _default_out(problem),
            force=args.force,
            progress=False if args.no_progress else None,
            chains=args.chains,
            warmup=args.warmup,
            samples=args.samples,
            seed=args.seed,
            thin=args.thin,
            sampler=args.sampler,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            strict=args.strict,
            log=logger(args),
        )
    except DiagnosticsError as e:
        print(e.run.summary())
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(run.summary())
    print(
        f"wrote {run.path} in {run.wall_time_s:.1f} s (sampling {run.timings['sampling_s']:.1f} s)"
    )
    if "predictions" in run.datatree.children:
        print("transferability of the held-out environments:")
        for line in evaluate(run.datatree).verdict_lines():
            print(f"  {line}")
    return EXIT_OK


def _repredict(args) -> int:
    problem = Problem.from_toml(args.problem, prepared=True)
    configure()
    run = repredict(
        problem,
        args.run,
        out=args.out,
        force=args.force,
        progress=False if args.no_progress else None,
        log=logger(args),
    )
    print(f"wrote {run.path} in {run.wall_time_s:.1f} s from the draws of {args.run}")
    if "predictions" in run.datatree.children:
        print("transferability of the held-out environments:")
        for line in evaluate(run.datatree).verdict_lines():
            print(f"  {line}")
    return EXIT_OK


COMMANDS = {
    "calibrate": allowing_plugins(_run),
    "repredict": allowing_plugins(_repredict),
}
