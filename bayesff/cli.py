"""Command line: ``bayesff check | calibrate | report | compare | list``.

jax, numpyro and arviz are imported inside the commands that need them, so
``bayesff --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _cmd_check(args) -> int:
    from bayesff.problem import Problem

    problem = Problem.from_toml(args.problem)
    print(problem.describe())
    print(f"ok: {args.problem} is valid")
    return 0


def _cmd_calibrate(args) -> int:
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    problem = Problem.from_toml(args.problem)
    log = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    run = calibrate(
        problem,
        out=args.out,
        force=args.force,
        progress=False if args.no_progress else None,
        chains=args.chains,
        warmup=args.warmup,
        samples=args.samples,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        log=log,
    )
    print(run.summary())
    print(
        f"wrote {run.path} in {run.wall_time_s:.1f} s (sampling {run.timings['sampling_s']:.1f} s)"
    )
    if "predictions" in run.datatree.children:
        from bayesff.transferability import evaluate

        print("transferability of the held-out environments:")
        for line in evaluate(run.datatree).verdict_lines():
            print(f"  {line}")
    if run.diagnostics.warnings and args.strict:
        print("error: diagnostics failed and --strict was given", file=sys.stderr)
        return 1
    return 0


def _cmd_report(args) -> int:
    from bayesff.report import write_report

    log = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    page = write_report(args.run, args.out, tuple(args.compare or ()), log=log)
    print(page)
    return 0


def _cmd_compare(args) -> int:
    import xarray as xr

    from bayesff.transferability import compare

    runs = {}
    for path in args.runs:
        dt = xr.open_datatree(path, engine="h5netcdf")
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
    return 0


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
    print("observables (environment columns -> value column [unit])")
    for name, obs in list_observables().items():
        print(
            f"  {name} ({obs.potential_kind}): {', '.join(obs.env_columns)} -> "
            f"{obs.value_column} [{obs.unit}]; {obs.description}"
        )
    print("cut-off schemes: none, truncated, shifted, force_shifted (r_c with unit)")
    print(
        "inadequacy: none, inferred_scale (form relative|absolute, prior_scale), hierarchical "
        "(parameters, bands, prior_scale), gp (form, prior_scale, gp_basis)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bayesff",
        description="Bayesian calibration of force-field parameters, with transferability.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="validate a problem and its data; print what will be fitted")
    c.add_argument("problem", help="problem file, e.g. models/argon_lj_b2.toml")
    c.set_defaults(func=_cmd_check)

    c = sub.add_parser("calibrate", help="sample the posterior; write runs/NAME/posterior.nc")
    c.add_argument("problem")
    c.add_argument("--out", help="run file (default runs/NAME/posterior.nc)")
    c.add_argument("--force", action="store_true", help="replace an existing run file")
    c.add_argument("--chains", type=int)
    c.add_argument("--warmup", type=int)
    c.add_argument("--samples", type=int)
    c.add_argument("--seed", type=int)
    c.add_argument(
        "--checkpoint-every",
        type=int,
        default=0,
        metavar="N",
        help="save sampler state every N draws (runs/NAME/checkpoint.pkl) so a killed run resumes",
    )
    c.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    c.add_argument("--strict", action="store_true", help="exit 1 if diagnostics fail")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--quiet", action="store_true", help="only the summary")
    c.set_defaults(func=_cmd_calibrate)

    c = sub.add_parser("report", help="write reports/NAME/index.html and summary.json")
    c.add_argument("run", help="run file, e.g. runs/argon_lj_b2/posterior.nc")
    c.add_argument("--out", help="report folder (default reports/NAME)")
    c.add_argument("--compare", nargs="+", metavar="RUN", help="other runs on the same data")
    c.add_argument("--quiet", action="store_true", help="only the page's path")
    c.set_defaults(func=_cmd_report)

    c = sub.add_parser("compare", help="PSIS-LOO and leave-one-environment-out elpd of runs")
    c.add_argument("runs", nargs="+", help="run files fitted to the same data")
    c.add_argument("--bands", type=int, default=None, help="environment bands for LOEO")
    c.set_defaults(func=_cmd_compare)

    c = sub.add_parser("list", help="potentials and forward models with parameters and units")
    c.set_defaults(func=_cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bayesff`` command."""
    from bayesff.errors import BayesffError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BayesffError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
