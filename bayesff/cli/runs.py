"""Commands on run files: ``bayesff report | evaluate | compare | sensitivity RUN``."""

from __future__ import annotations

import json
from pathlib import Path

from bayesff import runfile
from bayesff.cli.allow import allowing_plugins
from bayesff.cli.command import EXIT_OK, logger
from bayesff.errors import BayesffError
from bayesff.report import report
from bayesff.runtime import configure
from bayesff.sensitivity import sensitivity
from bayesff.transferability import compare, evaluate

__all__ = ["COMMANDS"]


def _report(args) -> int:
    page = report(args.run, args.out, tuple(args.compare or ()), log=logger(args))
    print(page)
    return EXIT_OK


def _evaluate(args) -> int:
    res = evaluate(runfile.read(args.run))
    lines = res.verdict_lines()
    if not lines:
        print(f"{args.run}: no held-out environments to evaluate")
    for line in lines:
        print(line)
    return EXIT_OK


def _compare(args) -> int:
    seen: dict = {}
    for path in args.runs:  # the same run twice compares it with itself: a slip
        key = Path(path).resolve()
        if key in seen:
            raise BayesffError(
                f"{path!r} is the same run file as {seen[key]!r}; give each run once",
                "compare",
            )
        seen[key] = path
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


def _sensitivity(args) -> int:
    if args.refit:
        configure()
    settings = {k: getattr(args, k) for k in ("warmup", "samples") if getattr(args, k)}
    log = logger(args)
    res = sensitivity(args.run, refit=args.refit, refit_settings=settings or None, log=log)
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
        return EXIT_OK
    print(res.table())
    print()
    for line in res.lines():
        print(line)
    print(f"({res.timings['total_s']:.1f} s)")
    return EXIT_OK


COMMANDS = {
    "report": _report,
    "evaluate": _evaluate,
    "compare": _compare,
    "sensitivity": allowing_plugins(_sensitivity),
}
