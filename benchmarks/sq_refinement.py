"""Grid refinement of the argon S(q) likelihood (issue 18 item 2, second half).

Runs ``models/sweeps/argon_sq_refinement.toml`` (LJ sigma from Yarnell's 85 K S(q) on
its own grid and interpolated to 2x and 4x; GP discrepancy against independent errors)
through :func:`bayesff.sweep.run_sweep` (already finished tasks are skipped), then reads
the six run files and writes ``benchmarks/results/sq_refinement.json`` and a markdown
table: sigma's posterior mean and sd, the sd relative to the 1x grid, R-hat, bulk ESS,
divergences, and the GP amplitude and length scale.

The interpolated points carry no new information about argon, so an honest likelihood
keeps sigma's sd (issue 18 asks for a change below 10 %); the independent model's sd
shrinks roughly as 1/sqrt(points) (0.71 at 2x, 0.5 at 4x).

Usage (repository root)::

    python benchmarks/sq_refinement.py [--workers 2] [--no-run]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "models" / "sweeps" / "argon_sq_refinement.toml"
RESULT = ROOT / "benchmarks" / "results" / "sq_refinement.json"
GRIDS = ("x1", "x2", "x4")
ERRORS = ("gp", "independent")
BOUND = 0.10  # issue 18: the correlated model's sd changes by less than 10 %


def _summary(path: Path) -> dict:
    import numpy as np

    from bayesff import runfile
    from bayesff.inference.diagnostics import diagnose

    dt = runfile.read(path)
    post = dt["posterior"].to_dataset()
    sigma = post["sigma"].values
    diag = diagnose(dt)
    row = {
        "sigma_mean_angstrom": float(sigma.mean()),
        "sigma_sd_angstrom": float(sigma.std(ddof=1)),
        "rhat_max": max(diag.rhat.values()),
        "ess_bulk_sigma": diag.ess_bulk["sigma"],
        "divergences": diag.divergences,
        "draws": int(sigma.size),
    }
    for v in post.data_vars:
        if "amplitude" in v or "length" in v:
            row[f"{v}_median"] = float(np.median(post[v].values))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-run", action="store_true", help="only tabulate existing run files")
    ap.add_argument("--runs", default="runs")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    wall = None
    if not args.no_run:
        from bayesff.sweep import run_sweep

        t0 = time.perf_counter()
        res = run_sweep(SWEEP, out_root=args.runs, workers=args.workers, report=False)
        wall = time.perf_counter() - t0
        failed = {k: res.messages.get(k, "") for k, s in res.status.items() if s == "failed"}
        if failed:
            print(f"failed tasks: {failed}", file=sys.stderr)
    rows = {}
    for err in ERRORS:
        for grid in GRIDS:
            path = Path(args.runs) / "argon_sq_refinement" / f"{grid}-{err}" / "posterior.nc"
            if path.is_file():
                rows[f"{grid}-{err}"] = _summary(path)
    for err in ERRORS:
        base = rows.get(f"x1-{err}")
        for grid in GRIDS:
            r = rows.get(f"{grid}-{err}")
            if base and r:
                r["sd_ratio_to_x1"] = r["sigma_sd_angstrom"] / base["sigma_sd_angstrom"]
    out = {"sweep": str(SWEEP.relative_to(ROOT)), "wall_s": wall, "bound": BOUND, "rows": rows}
    out["load_average"] = os.getloadavg()
    if wall is None and RESULT.is_file():  # --no-run: keep the wall time of the sweep
        old = json.loads(RESULT.read_text())
        out["wall_s"], out["load_average"] = old.get("wall_s"), old.get("load_average")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n")
    print("| errors | grid | sigma mean (A) | sigma sd (A) | sd / sd(1x) | R-hat | ESS | div |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, r in rows.items():
        grid, err = key.split("-")
        print(
            f"| {err} | {grid} | {r['sigma_mean_angstrom']:.4f} | {r['sigma_sd_angstrom']:.4f} | "
            f"{r.get('sd_ratio_to_x1', float('nan')):.3f} | {r['rhat_max']:.3f} | "
            f"{r['ess_bulk_sigma']:.0f} | {r['divergences']} |"
        )
    print(f"wrote {RESULT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
