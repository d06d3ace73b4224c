"""Print the convergence and speed figures of run files, as benchmarks/RESULTS.md quotes them.

For each run file: draws (chains x kept draws), max R-hat and min bulk ESS over every
posterior variable with every draw kept (as the atlas page), divergences, the sampling
wall time and bulk ESS per second of sampling, and for ``sampler = "tempered"`` the ladder
and its exchange acceptance (coldest pair first) and leapfrog steps of all replicas.

    python benchmarks/run_diagnostics.py RUN.nc [RUN.nc ...] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from bayesff import load_run
from bayesff.inference import diagnose


def figures(path: str) -> dict:
    """The figures of one run file (see the module docstring)."""

    dt = load_run(path)
    a = dt.attrs
    post = dt["posterior"]
    d = diagnose(dt)  # the package's own R-hat, bulk ESS and divergences
    ess = d.ess_bulk_min
    wall = float(a.get("sampling_time_s", math.nan))
    out = {
        "run": path,
        "sampler": a.get("sampler"),
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "rhat_max": d.rhat_max,
        "bulk_ess_min": ess,
        "divergences": d.divergences,
        "sampling_time_s": wall,
        "ess_per_s": ess / wall if wall > 0 else math.nan,
        "wall_time_s": float(a.get("wall_time_s", math.nan)),
    }
    for k in ("temperatures", "max_temperature", "swap_acceptance", "replica_leapfrog_steps"):
        if k in a:
            v = np.asarray(a[k])
            out[k] = v.tolist()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run files (posterior.nc)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    rows = [figures(p) for p in args.runs]
    for r in rows:
        print(json.dumps(r))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
