"""Command line: ``bayesff check | calibrate | report | evaluate | compare | list | ...``.

jax, numpyro and arviz are imported inside the commands that need them, so
``bayesff --help`` answers at once. Every error that bad input or the
environment can cause is printed as one line (``error: WHERE: WHAT``) with
exit status 2; ``--debug`` shows the traceback instead. Ctrl-C exits with
status 130 (a calibration first saves a checkpoint and says how to resume).
"""

from __future__ import annotations

import argparse
import sys

from bayesff.argtypes import count as _count

__all__ = ["build_parser", "main"]

#: Exit statuses.
EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _log(args):
    if getattr(args, "quiet", False):
        return lambda *a, **k: None
    return lambda *a, **k: print(*a, **k, flush=True)


# ------------------------------------------------------------------------- commands


def _cmd_check(args) -> int:
    from bayesff.problem import Problem

    problem = Problem.from_toml(args.problem)
    print(problem.describe())
    print(f"ok: {args.problem} is valid")
    return EXIT_OK


def _default_out(problem) -> str:
    from pathlib import Path

    from bayesff.io import confined

    path = Path("runs") / problem.name / "posterior.nc"
    confined(path, "runs", "run file")
    return str(path)


def _cmd_calibrate(args) -> int:
    from bayesff.inference import DiagnosticsError, calibrate
    from bayesff.problem import Problem
    from bayesff.runtime import configure

    problem = Problem.from_toml(args.problem)
    configure()
    try:
        run = _calibrate_cli(calibrate, problem, args)
    except DiagnosticsError as e:
        print(e.run.summary())
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(run.summary())
    print(
        f"wrote {run.path} in {run.wall_time_s:.1f} s (sampling {run.timings['sampling_s']:.1f} s)"
    )
    if "predictions" in run.datatree.children:
        from bayesff.transferability import evaluate

        print("transferability of the held-out environments:")
        for line in evaluate(run.datatree).verdict_lines():
            print(f"  {line}")
    return EXIT_OK


def _calibrate_cli(calibrate, problem, args):
    return calibrate(
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
        log=_log(args),
    )


def _cmd_report(args) -> int:
    from bayesff.report import report

    page = report(args.run, args.out, tuple(args.compare or ()), log=_log(args))
    print(page)
    return EXIT_OK


def _cmd_evaluate(args) -> int:
    from bayesff import runfile
    from bayesff.transferability import evaluate

    res = evaluate(runfile.read(args.run))
    lines = res.verdict_lines()
    if not lines:
        print(f"{args.run}: no held-out environments to evaluate")
    for line in lines:
        print(line)
    return EXIT_OK


def _cmd_compare(args) -> int:
    from bayesff import runfile
    from bayesff.transferability import compare

    runs = {}
    for path in args.runs:
        dt = runfile.read(path)
        name = str(dt.attrs.get("problem_name", path))
        runs[name if name not in runs else path] = dt
    res = compare(runs, env_groups=args.bands)
    loeo = {r["run"]: r for r in res["loeo"]["ranking"]}
    head = f"{'run':<28} {'elpd_loo':>10} {'se':>7} {'d_elpd':>8} {'dse':>7} {'p_loo':>7}"
    print(head + f" {'elpd_loeo':>10} {'d_loeo':>8}")
    for row in res["ranking"]:
        n = row["run"]
        print(
            f"{n:<28} {row['elpd']:>10.2f} {res['loo'][n]['se']:>7.2f} {row['elpd_diff']:>8.2f} "
            f"{row['dse']:>7.2f} {res['loo'][n]['p']:>7.2f} "
            f"{loeo[n]['elpd']:>10.2f} {loeo[n]['elpd_diff']:>8.2f}"
        )
    for w in res.get("warnings", []):
        print(f"warning: {w.split('. ')[0]}")  # arviz's first sentence says it
    return EXIT_OK


def _cmd_sweep(args) -> int:
    from bayesff.sweep import run_sweep

    res = run_sweep(
        args.sweep,
        out_root=args.runs,
        report_root=args.reports,
        scheduler=args.scheduler,
        workers=args.workers,
        cluster=args.cluster,
        report=False if args.no_report else None,
        log=_log(args),
        progress=False if args.no_progress else None,
    )
    failed = [t for t, st in res.status.items() if st == "failed"]
    print(f"summary {res.summary}; index {res.index}")
    for t in failed:
        print(f"failed: {t}: {res.messages.get(t, '')}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _sweep_parser(sub) -> None:
    c = sub.add_parser(
        "sweep",
        help="run many calibrations from a sweep file on Dask (runs/SWEEP/, reports/SWEEP/)",
    )
    c.add_argument("sweep", help="sweep file, e.g. models/sweeps/argon_forms.toml")
    c.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running dask.distributed scheduler, e.g. tcp://host:8786 (default: a "
        "LocalCluster on this machine)",
    )
    c.add_argument("--workers", type=_count(1), metavar="N", help="LocalCluster workers")
    c.add_argument(
        "--cluster",
        choices=("slurm",),
        help="start workers through SLURM "
        "(dask-jobqueue, the 'hpc' extra; configure it in ~/.config/dask/jobqueue.yaml)",
    )
    c.add_argument("--runs", default="runs", help="output root of run files (default runs)")
    c.add_argument("--reports", default="reports", help="output root of reports (default reports)")
    c.add_argument("--no-report", action="store_true", help="no per-task reports")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the summary line")
    c.set_defaults(func=_cmd_sweep)


def _cmd_list(args) -> int:
    from bayesff.observables import list_observables
    from bayesff.potentials import list_potentials

    print("potentials (parameters: name [internal unit] support; default prior [its unit])")
    for name, pot in list_potentials().items():
        print(f"  {name} ({pot.kind}): {pot.description}")
        for p in pot.params:
            print(
                f"      {p.name:<8} [{p.unit}] {p.support.describe()}; "
                f"default {p.default_prior.describe()} [{p.prior_unit}]"
            )
    print("  your own: kind = 'package.module:factory' or an entry point of 'bayesff.potentials'")
    print("observables (environment columns -> value column [unit])")
    for name, obs in list_observables().items():
        extra = f"; nuisance: {', '.join(n.name for n in obs.nuisance)}" if obs.nuisance else ""
        kinds = obs.potential_kind
        kinds = kinds if isinstance(kinds, str) else "|".join(kinds)
        print(
            f"  {name} ({kinds}): {', '.join(obs.env_columns)} -> "
            f"{obs.value_column} [{obs.unit}]; {obs.description}{extra}"
        )
    print("cut-off schemes: none, truncated, shifted, force_shifted (r_c with unit)")
    print(
        "inadequacy: none, inferred_scale (form relative|absolute, prior_scale), hierarchical "
        "(parameters, bands, prior_scale), gp (form, prior_scale, gp_basis)"
    )
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _calibrate_parser(sub) -> None:
    c = sub.add_parser("calibrate", help="sample the posterior; write runs/NAME/posterior.nc")
    c.add_argument("problem", help="problem file, e.g. models/argon_lj_b2.toml")
    c.add_argument("--out", help="run file (default runs/NAME/posterior.nc)")
    c.add_argument("--force", action="store_true", help="replace an existing run file")
    c.add_argument("--chains", type=_count(1), metavar="N", help="chains (>= 1)")
    c.add_argument("--warmup", type=_count(1), metavar="N", help="warm-up draws per chain (>= 1)")
    c.add_argument("--samples", type=_count(1), metavar="N", help="kept draws per chain (>= 1)")
    c.add_argument("--seed", type=_count(0), metavar="N", help="PRNG seed (>= 0)")
    c.add_argument("--thin", type=_count(1), metavar="N", help="keep every N-th draw")
    c.add_argument("--sampler", choices=("nuts", "chees"), help="NUTS (default) or ChEES-HMC")
    c.add_argument(
        "--checkpoint-every",
        type=_count(0),
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
    c.set_defaults(func=_cmd_calibrate)


def build_parser() -> argparse.ArgumentParser:
    from bayesff import __version__

    p = argparse.ArgumentParser(
        prog="bayesff",
        description="Bayesian calibration of force-field parameters, with transferability.",
    )
    p.add_argument("--version", action="version", version=f"bayesff {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="validate a problem and its data; print what will be fitted")
    c.add_argument("problem", help="problem file, e.g. models/argon_lj_b2.toml")
    c.set_defaults(func=_cmd_check)
    _calibrate_parser(sub)
    c = sub.add_parser("report", help="write reports/NAME/index.html and summary.json")
    c.add_argument("run", help="run file, e.g. runs/argon_lj_b2/posterior.nc")
    c.add_argument("--out", help="report folder (default reports/NAME)")
    c.add_argument("--compare", nargs="+", metavar="RUN", help="other runs on the same data")
    c.add_argument("--quiet", action="store_true", help="only the page's path")
    c.set_defaults(func=_cmd_report)
    c = sub.add_parser("evaluate", help="transferability verdicts of a run's held-out groups")
    c.add_argument("run", help="run file")
    c.set_defaults(func=_cmd_evaluate)
    c = sub.add_parser("compare", help="PSIS-LOO and leave-one-environment-out elpd of runs")
    c.add_argument("runs", nargs="+", help="run files fitted to the same data")
    c.add_argument("--bands", type=_count(2), default=None, help="environment bands for LOEO")
    c.set_defaults(func=_cmd_compare)
    _sweep_parser(sub)
    c = sub.add_parser("list", help="potentials and forward models with parameters and units")
    c.set_defaults(func=_cmd_list)
    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return p


def _workflow_parsers(sub) -> None:
    from bayesff.workflows.cli import add_parsers

    add_parsers(sub)


#: Subcommands defined in other modules (workflows: active, study; prepare, refine,
#: sensitivity): functions of the subparsers object that add their parsers. Building
#: them imports argparse only, so ``bayesff --help`` stays fast.
_EXTRA_COMMANDS: list = [_workflow_parsers]


def _one_line(e: BaseException) -> str:
    """An error as one line: where, what."""
    from bayesff.errors import BayesffError

    if isinstance(e, BayesffError):
        return str(e)
    if isinstance(e, OSError):
        name = e.filename or ""
        what = e.strerror or str(e)
        return f"{name}: {what}" if name else what
    if isinstance(e, UnicodeDecodeError):
        return f"not UTF-8 text: {e.reason} at byte {e.start}"
    return f"{type(e).__name__}: {e}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bayesff`` command."""
    from bayesff.errors import BayesffError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        if args.debug:
            raise
        from bayesff.inference.calibrate import Interrupted
        from bayesff.inference.diagnostics import DiagnosticsError

        if isinstance(e, Interrupted):
            print(str(e), file=sys.stderr)
            return EXIT_INTERRUPTED
        if isinstance(e, DiagnosticsError):
            print(f"error: {e}", file=sys.stderr)
            return EXIT_FAILED
        expected = (BayesffError, OSError, ValueError, KeyError, UnicodeDecodeError)
        hint = "" if isinstance(e, expected) else " (unexpected; run with --debug and report it)"
        print(f"error: {_one_line(e)}{hint}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
