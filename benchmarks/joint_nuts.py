"""Time NUTS on the joint argon problem (issue 4 item 7): 4 chains x 500 draws.

Runs ``bayesff calibrate models/argon_joint.toml`` (4 chains x (500 warm-up + 500
draws), vectorised chains, float64) in a fresh process and writes
``benchmarks/results/joint_nuts.json``: the process wall time, the sampling time
(warm-up + draws, compilation included, as recorded in the run file), the
post-processing time (held-out predictions, prior predictive), bulk ESS and ESS per
second of sampling for each parameter, divergences, R-hat, and the machine's load
average before and after (the CPU is shared: timings are noisy).

Usage (repository root)::

    python benchmarks/joint_nuts.py [--problem models/argon_joint.toml]
        [--out runs/argon_joint/posterior.nc] [--result benchmarks/results/joint_nuts.json]

The run file is kept (``studies/argon_joint.py --reuse`` picks it up).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 600.0  # issue 4 item 7: within 10 minutes on this CPU


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="models/argon_joint.toml")
    ap.add_argument("--out", default="runs/argon_joint/posterior.nc")
    ap.add_argument("--result", default="benchmarks/results/joint_nuts.json")
    args = ap.parse_args(argv)

    # ``python -m bayesff.cli`` rather than the console script: works without an install
    # (PYTHONPATH), e.g. on a GPU machine that gets the package as a source tree
    cmd = [sys.executable, "-m", "bayesff.cli", "calibrate", args.problem, "--out", args.out]
    cmd += ["--force", "--no-progress"]
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    if proc.returncode not in (0,):
        print(f"calibrate exited with {proc.returncode}", file=sys.stderr)

    import arviz as az
    import jax
    import numpy as np
    import xarray as xr

    dt = xr.open_datatree(ROOT / args.out)
    post = dt["posterior"].to_dataset()
    stats = dt["sample_stats"].to_dataset()
    t_sample = float(dt.attrs["sampling_time_s"])
    names = [n for n in post.data_vars]
    ess = {n: float(az.ess(post[n].values)) for n in names if post[n].ndim == 2}
    rhat = {n: float(az.rhat(post[n].values)) for n in names if post[n].ndim == 2}
    res = {
        "problem": args.problem,
        "command": " ".join(cmd),
        "chains": int(dt.attrs["chains"]),
        "warmup": int(dt.attrs["warmup"]),
        "samples": int(dt.attrs["samples"]),
        "process_wall_s": wall,
        "run_wall_s": float(dt.attrs["wall_time_s"]),
        "sampling_s": t_sample,
        "postprocess_and_setup_s": float(dt.attrs["wall_time_s"]) - t_sample,
        "budget_s": BUDGET_S,
        "sampling_within_budget": t_sample <= BUDGET_S,
        "ess_bulk": ess,
        "ess_bulk_per_sampling_s": {k: v / t_sample for k, v in ess.items()},
        "rhat": rhat,
        "divergences": int(np.asarray(stats["diverging"]).sum()),
        "mean_leapfrog_steps": float(np.asarray(stats["n_steps"]).mean()),
        "loadavg_before": load0,
        "loadavg_after": load1,
        "cpu_count": os.cpu_count(),
        "jax_devices": [str(d) for d in jax.devices()],
        "jax_version": jax.__version__,
        "host": platform.node(),
        "note": "timings depend on what else runs on the machine: see the load averages",
        "returncode": proc.returncode,
    }
    out = ROOT / args.result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
