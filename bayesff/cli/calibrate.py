"""``bayesff calibrate PROBLEM``: sample the posterior, write the run file, judge it;
``bayesff repredict PROBLEM RUN --out NEW``: the same draws, predicted again."""

from __future__ import annotations

import sys
from pathlib import Path

from bayesff.cli.allow import add_allow_plugin, allowing_plugins
from bayesff.cli.argtypes import count
from bayesff.cli.command import EXIT_FAILED, EXIT_OK, Command, logger
from bayesff.errors import DiagnosticsError
from bayesff.inference import calibrate, repredict
from bayesff.io import confined
from bayesff.problem import Problem
from bayesff.runtime import configure
from bayesff.transferability import evaluate

__all__ = ["COMMANDS"]


def _arguments(c) -> None:
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
    add_allow_plugin(c)


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


def _repredict_arguments(c) -> None:
    c.add_argument("problem", help="problem file, e.g. models/alkane_chains/trend.toml")
    c.add_argument("run", help="a run of the same training model, e.g. runs/NAME/posterior.nc")
    c.add_argument("--out", required=True, help="the new run file (the run itself: --force)")
    c.add_argument("--force", action="store_true", help="replace an existing file at --out")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the verdicts")
    add_allow_plugin(c)


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
    "calibrate": Command(_arguments, allowing_plugins(_run)),
    "repredict": Command(_repredict_arguments, allowing_plugins(_repredict)),
}
