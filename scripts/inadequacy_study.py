"""Argon B2 under each model-inadequacy option: what it does to held-out coverage.

Runs models/argon_lj_b2.toml four times, changing only the target's
``inadequacy`` (none, inferred_scale, hierarchical, gp), evaluates the held-out
environments with bayesff.transferability, compares the fits with PSIS-LOO, and
writes the table to docs/inadequacy.md (between the markers) and the raw numbers
to runs/inadequacy_study/results.json.

    python scripts/inadequacy_study.py            # about 5 minutes on 2 cores
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from bayesff.inference import calibrate
from bayesff.problem import Problem
from bayesff.transferability import compare, evaluate

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "models" / "argon_lj_b2.toml"
OPTIONS = {
    "none": '"none"',
    "inferred_scale": '{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
    "hierarchical": '{ kind = "hierarchical", prior_scale = 0.05, bands = 4 }',
    "gp": '{ kind = "gp", form = "relative", prior_scale = 0.05, gp_basis = 10 }',
}


def variant(kind: str) -> str:
    text = BASE.read_text()
    text, n = re.subn(r"^inadequacy = .*$", f"inadequacy = {OPTIONS[kind]}", text, flags=re.M)
    assert n == 1
    text = text.replace('name = "argon_lj_b2"', f'name = "argon_lj_b2_{kind}"')
    if kind in ("hierarchical", "gp"):
        text = text.replace("seed = 0", "seed = 0\ntarget_accept = 0.95")
    return text


def main() -> int:
    out_dir = ROOT / "runs" / "inadequacy_study"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, trees = [], {}
    for kind in OPTIONS:
        path = out_dir / f"{kind}.toml"
        path.write_text(variant(kind))
        # resolve data paths from the repository, as models/ does
        problem = Problem.from_dict(
            __import__("tomllib").loads(path.read_text()),
            path=str(path),
            source_text=path.read_text(),
            base_dirs=(ROOT,),
        )
        t0 = time.perf_counter()
        run = calibrate(problem, out=out_dir / f"{kind}.nc", force=True, progress=False, log=None)
        wall = time.perf_counter() - t0
        res = evaluate(run.datatree)
        trees[kind] = run.datatree
        post = run.datatree["posterior"]
        eps = post["epsilon"].values.ravel()
        sig = post["sigma"].values.ravel()
        row = {
            "inadequacy": kind,
            "epsilon_K": [float(np.mean(eps)), *map(float, np.quantile(eps, [0.05, 0.95]))],
            "sigma_A": [float(np.mean(sig)), *map(float, np.quantile(sig, [0.05, 0.95]))],
            "diagnostics_ok": run.diagnostics.ok,
            "warnings": run.diagnostics.warnings,
            "wall_s": wall,
            "training": res.training["B2"],
            "groups": {g["group"]: g for g in res.groups},
        }
        rows.append(row)
        print(kind, f"{wall:.0f} s", *res.verdict_lines(), sep="\n  ", flush=True)
    comp = compare(trees)
    (out_dir / "results.json").write_text(
        json.dumps({"rows": rows, "compare": comp["ranking"]}, indent=1, default=str)
    )
    lines = [
        "| inadequacy | epsilon/k [K] (90 %) | sigma [angstrom] (90 %) | training 90 % coverage "
        "| low T: 90 % coverage, P(all within 5 %), verdict "
        "| high T: 90 % coverage, P(all within 5 %), verdict | elpd_loo | diagnostics |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    elpd = {r["run"]: r["elpd"] for r in comp["ranking"]}
    for r in rows:
        e, s = r["epsilon_K"], r["sigma_A"]
        cells = []
        for g in ("low T", "high T"):
            gg = r["groups"][g]
            p_all = gg["p_all_within_tolerance"]
            cells.append(f"{gg['n_inside90']}/{gg['n']}, {p_all:.2f}, {gg['verdict']}")
        tr = r["training"]
        lines.append(
            f"| {r['inadequacy']} | {e[0]:.1f} ({e[1]:.1f}-{e[2]:.1f}) | {s[0]:.3f} "
            f"({s[1]:.3f}-{s[2]:.3f}) | {tr['coverage90']:.2f} | {cells[0]} | {cells[1]} "
            f"| {elpd[r['inadequacy']]:.1f} | "
            + ("ok" if r["diagnostics_ok"] else "; ".join(r["warnings"]))
            + " |"
        )
    table = "\n".join(lines)
    doc = ROOT / "docs" / "inadequacy.md"
    text = doc.read_text()
    start, end = "<!-- study:start -->", "<!-- study:end -->"
    i, j = text.index(start) + len(start), text.index(end)
    doc.write_text(text[:i] + "\n" + table + "\n" + text[j:])
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
