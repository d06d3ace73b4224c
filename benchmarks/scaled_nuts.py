"""NUTS in Laplace-scaled coordinates against NUTS in the model's own coordinates.

bayesff's NUTS moves in w = z / scale, scale = the Laplace start's sd of each
unconstrained coordinate (``init = "laplace"``; ``bayesff.inference.kernels.Scaled``).
Without a Laplace start (``init = "central"``) the scale is 1 and NUTS moves in z, where
NumPyro's warm-up shrinks each mass-matrix estimate towards 1e-3 I: that is the baseline
here, run in the same process on the same problem, seed and draws. For each problem and
each start: leapfrog steps per draw, the adapted step sizes, divergences, worst R-hat,
least bulk ESS, bulk ESS per 1000 leapfrog steps (gradient evaluations) of the kept
draws, sampling time (warm-up + draws, compilation included, as the run file records it)
and bulk ESS per second of sampling. The baseline runs first and compiles the sampler
the second reuses, so ESS per gradient, not per second, is the fair ratio.

Usage (repository root)::

    python benchmarks/scaled_nuts.py [PROBLEM.toml ...] [--result FILE]

Default problems: ``models/argon_lj_vle.toml`` (saturation data: posterior sd of log
epsilon and log sigma near 1e-3) and ``models/argon_lj_b2.toml`` (B2: sd near 1e-2).
The result goes to ``benchmarks/results/scaled_nuts.json`` and a table to stdout.
The CPU may be shared: compare the two starts of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["models/argon_lj_vle.toml", "models/argon_lj_b2.toml"]


def one(problem_path: str, init: str) -> dict:
    """Calibrate ``problem_path`` with ``init`` (laplace: scaled; central: scale 1)."""
    import bayesff

    problem = bayesff.load_problem(ROOT / problem_path)
    problem = problem.replace(inference=problem.inference.replace(init=init))
    run = bayesff.calibrate(problem, progress=False, log=None)
    stats = run.datatree["sample_stats"]
    d = run.diagnostics
    sampling = float(run.timings["sampling_s"])
    ess = min(d.ess_bulk.values())
    gradients = float(stats["n_steps"].sum())  # leapfrog steps of the kept draws
    return {
        "problem": problem_path,
        "init": init,
        "leapfrog_steps_per_draw": float(stats["n_steps"].mean()),
        "step_size": [float(x) for x in stats["step_size"].values[:, -1]],
        "divergences": int(d.divergences),
        "rhat_max": float(max(d.rhat.values())),
        "ess_bulk_min": float(ess),
        "sampling_s": sampling,
        "ess_per_s": float(ess / sampling),
        "ess_per_1000_gradients": float(1000 * ess / gradients),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problems", nargs="*", default=DEFAULT)
    ap.add_argument("--result", default="benchmarks/results/scaled_nuts.json")
    args = ap.parse_args(argv)
    rows = []
    for path in args.problems:
        for init in ("central", "laplace"):  # the baseline first
            rows.append(one(path, init))
            r = rows[-1]
            print(
                f"{path} init={init}: {r['leapfrog_steps_per_draw']:.1f} steps/draw, step "
                f"size {np.round(r['step_size'], 3).tolist()}, {r['divergences']} div., "
                f"R-hat {r['rhat_max']:.3f}, ESS {r['ess_bulk_min']:.0f}, "
                f"{r['ess_per_1000_gradients']:.1f} ESS per 1000 gradients; "
                f"{r['sampling_s']:.1f} s, {r['ess_per_s']:.1f} ESS/s",
                flush=True,
            )
        base, new = rows[-2], rows[-1]
        print(
            f"{path}: scaled / unscaled: steps per draw "
            f"{new['leapfrog_steps_per_draw'] / base['leapfrog_steps_per_draw']:.2f}x, "
            "ESS per gradient "
            f"{new['ess_per_1000_gradients'] / base['ess_per_1000_gradients']:.2f}x, "
            f"ESS/s {new['ess_per_s'] / base['ess_per_s']:.2f}x (the first run of a "
            "problem compiles: ESS per gradient is the fair ratio)"
        )
    out = ROOT / args.result
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.node(), "cpus": os.cpu_count(), "load": os.getloadavg()}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
