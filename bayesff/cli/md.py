"""``bayesff prepare PROBLEM`` and ``bayesff refine PROBLEM``: MD reference runs."""

from __future__ import annotations

from bayesff.cli.allow import add_allow_plugin, allowing_plugins
from bayesff.cli.argtypes import count, fraction
from bayesff.cli.command import EXIT_FAILED, EXIT_OK, Command, logger
from bayesff.runtime import configure
from bayesff.workflows.prepare import prepare
from bayesff.workflows.refine import MAX_OUTSIDE, N_DRAWS, refine

__all__ = ["COMMANDS"]


def _prepare_arguments(c) -> None:
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
    add_allow_plugin(c)


def _prepare(args) -> int:
    configure()
    prepare(args.problem, force=args.force, log=logger(args))
    return EXIT_OK


def _refine_arguments(c) -> None:
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
        "--draws", type=count(1), default=N_DRAWS, metavar="N",
        help=f"posterior draws checked per round ({N_DRAWS})",
    )  # fmt: skip
    c.add_argument(
        "--max-outside", type=fraction, default=MAX_OUTSIDE, metavar="F",
        help=f"largest fraction of a state's draws outside the trust region ({MAX_OUTSIDE})",
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
    add_allow_plugin(c)


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
    "prepare": Command(_prepare_arguments, allowing_plugins(_prepare)),
    "refine": Command(_refine_arguments, allowing_plugins(_refine)),
}
