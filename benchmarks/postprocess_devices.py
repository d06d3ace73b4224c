"""Post-processing on one CPU device against one chunk per device (two devices).

Run from the repository root (writes ``benchmarks/results/postprocess_devices.json``)::

    python benchmarks/postprocess_devices.py [--draws 2000] [--prior 500] [--repeat 2]

Problem: ``models/alkane_chains/transferable_n12.toml`` (issue 30's model b12: eight
n-alkanes' saturated liquid density and vapour pressure trained; n-decane, n-dodecane,
Delta H_vap and compressed-liquid density held out: the held-out VLE predictions are most
of the post-processing's time). The draws are the prior's median in unconstrained
coordinates plus Normal(0, 0.02) noise (fixed seed): near one point, as a posterior's are.

The CPU is split into two JAX devices. Both programs are compiled first (a call each,
recorded as ``first_call_with_compile_s``, not compared); then ``PostProcessor.run`` is
timed ``--repeat`` times each way, alternating, in this one process: the ratio compares
the two on the same machine at the same time.
The two ways' outputs must agree to rounding, 1e-9 relative (else the script stops): the
sharded program is compiled on its own, and XLA may order its floating-point operations
differently (2026-11-27: model means within 1.9e-12 relative).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "postprocess_devices.json"
PROBLEM = ROOT / "models" / "alkane_chains" / "transferable_n12.toml"


def _agree(one, two) -> float:
    """Stop unless two post-processings agree to rounding; the largest relative difference
    of a model mean (training and held-out rows)."""
    worst = 0.0
    for field in one._fields:
        for k, a in getattr(one, field).items():
            a, b = np.asarray(a), np.asarray(getattr(two, field)[k])
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=f"{field}/{k}")
            if k.endswith("_model"):
                fin = np.isfinite(a) & (a != 0)
                worst = max(worst, float(np.max(np.abs(b[fin] / a[fin] - 1), initial=0.0)))
    return worst


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--prior", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    import bayesff

    bayesff.configure(host_devices=2)
    import jax
    from numpyro.infer import init_to_median
    from numpyro.infer.util import initialize_model

    from bayesff.inference import predictive
    from bayesff.model import arrays, model_of, structure_of

    problem = bayesff.load_problem(PROBLEM)
    structure = structure_of(problem)
    train, holdout = arrays(problem), arrays(problem, "holdout")
    z0 = initialize_model(
        jax.random.PRNGKey(1), model_of(structure), model_args=(train,),
        init_strategy=init_to_median,
    ).param_info.z  # fmt: skip
    rng = np.random.default_rng(0)
    z = {
        k: np.asarray(v)[None] + 0.02 * rng.standard_normal((args.draws, *np.shape(v)))
        for k, v in z0.items()
    }
    key, key_prior = jax.random.PRNGKey(0), jax.random.PRNGKey(1)
    post = predictive.PostProcessor(structure)
    native = predictive.chunk_devices

    def run(devices: int):
        predictive.chunk_devices = native if devices == 2 else (lambda n_chunks: 1)
        try:
            t = time.perf_counter()
            r = post.run(z, key, key_prior, train, holdout, args.prior)
            return time.perf_counter() - t, r
        finally:
            predictive.chunk_devices = native

    first = {d: run(d) for d in (1, 2)}  # compiles each program
    worst = _agree(first[1][1], first[2][1])
    times = {1: [], 2: []}
    for _ in range(args.repeat):
        for d in (1, 2):
            times[d].append(run(d)[0])
    out = {
        "machine": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "problem": str(PROBLEM.relative_to(ROOT)),
        "draws": args.draws,
        "prior_draws": args.prior,
        "chunk": predictive.chunk_size(args.draws, args.prior),
        "first_call_with_compile_s": {str(d): first[d][0] for d in (1, 2)},
        "one_device_s": min(times[1]),
        "two_devices_s": min(times[2]),
        "all_s": {str(d): times[d] for d in (1, 2)},
        "speed_up": min(times[1]) / min(times[2]),
        "largest_relative_difference_of_a_model_mean": worst,
    }
    print(json.dumps(out, indent=1), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
