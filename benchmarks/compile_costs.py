"""What a problem structure costs to compile: the single-point log density and the
post-processing program of a phase-equilibrium model.

Run from the repository root (writes ``benchmarks/results/compile_costs.json``)::

    python benchmarks/compile_costs.py [--chunk 64]

Problem: ``models/alkane_chains/transferable_n12.toml`` (issue 30's model b12: eight
n-alkanes' saturated liquid density and vapour pressure trained, n-decane, n-dodecane,
Delta H_vap and compressed-liquid density held out). JAX's persistent compilation cache
is off, so every figure is a cold compilation in this process, one after another.

1. The log density's value and gradient at one point (what the Laplace start and the
   chains' start call, ``Kernel.log_density``), compiled with XLA's default options and
   with LLVM's optimisation off (``ONE_SHOT``, as bayesff compiles it): compile seconds
   and the minimum and median of 20 calls. Both in this run; the two values must agree.
2. The post-processing program (``PostProcessor._one_chunk``) for a chunk of ``--chunk``
   draws: tracing and lowering, XLA compilation, one call; and how many copies of a
   forward model its trace holds (calls of the model's forward-model functions while
   tracing). The program before 2026-11-27 (eight copies) is not in the package any
   more: its figures, measured from a checkout of c851cb0 with the same script, are in
   benchmarks/RESULTS.md.
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
OUT = ROOT / "benchmarks" / "results" / "compile_costs.json"
PROBLEM = ROOT / "models" / "alkane_chains" / "transferable_n12.toml"


def _calls(f, args, n=20):
    import jax

    times = []
    for _ in range(n):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t)
    return 1e3 * min(times), 1e3 * float(np.median(times))


def log_density(problem) -> dict:
    """Compile seconds and call milliseconds of the value and gradient at one point."""
    import jax
    from numpyro.infer import init_to_median
    from numpyro.infer.util import initialize_model, potential_energy

    from bayesff.inference.exported import ONE_SHOT
    from bayesff.model import arrays, model_of, structure_of

    model = model_of(structure_of(problem))
    data = arrays(problem)
    z = initialize_model(
        jax.random.PRNGKey(1), model, model_args=(data,), init_strategy=init_to_median
    ).param_info.z
    f = jax.jit(jax.value_and_grad(lambda q, d: potential_energy(model, (d,), {}, q)))
    lowered = f.lower(z, data)
    out, values = {}, {}
    for label, options in (("default", {}), ("one_shot (bayesff)", ONE_SHOT)):
        t = time.perf_counter()
        compiled = lowered.compile(compiler_options=options)
        seconds = time.perf_counter() - t
        values[label] = float(compiled(z, data)[0])
        best, median = _calls(compiled, (z, data))
        out[label] = {"compile_s": seconds, "min_ms": best, "median_ms": median}
        print("log density", label, json.dumps(out[label]), flush=True)
    a, b = values.values()
    if not abs(a - b) <= 1e-9 * max(1.0, abs(a)):
        raise SystemExit(f"the two compilations' log densities differ: {values}")
    return out


def postprocessing(problem, chunk: int) -> dict:
    """Tracing, compilation and one call of the post-processing program."""
    import jax
    from numpyro.infer import init_to_median
    from numpyro.infer.util import initialize_model

    from bayesff import model as model_module
    from bayesff.inference.predictive import PostProcessor
    from bayesff.model import arrays, model_of, structure_of

    structure = structure_of(problem)
    train, holdout = arrays(problem), arrays(problem, "holdout")
    z = initialize_model(
        jax.random.PRNGKey(1),
        model_of(structure),
        model_args=(train,),
        init_strategy=init_to_median,
    ).param_info.z
    z = {k: np.repeat(np.asarray(v)[None], chunk, 0) for k, v in z.items()}
    copies = []
    real = {name: getattr(model_module, name) for name in ("target_mean", "_stacked_call")}

    def counted(name):
        def f(*a, **k):
            copies.append(name)
            return real[name](*a, **k)

        return f

    for name in real:  # every forward-model call goes through one of these two
        setattr(model_module, name, counted(name))
    try:
        post = PostProcessor(structure)
        key = jax.random.PRNGKey(0)
        args = (z, key, key, 0, False, train, holdout)
        t = time.perf_counter()
        lowered = jax.jit(post._one_chunk).lower(*args)
        traced = time.perf_counter() - t
    finally:
        for name, f in real.items():
            setattr(model_module, name, f)
    t = time.perf_counter()
    compiled = lowered.compile()
    seconds = time.perf_counter() - t
    best, median = _calls(compiled, args, n=3)
    out = {
        "chunk": chunk,
        "forward_model_copies": len(copies),
        "trace_and_lower_s": traced,
        "compile_s": seconds,
        "call_min_ms": best,
        "call_median_ms": median,
    }
    print("post-processing", json.dumps(out), flush=True)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", type=int, default=64)
    args = ap.parse_args(argv)
    import bayesff

    bayesff.configure(host_devices=1)
    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    problem = bayesff.load_problem(PROBLEM)
    out = {
        "machine": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "problem": str(PROBLEM.relative_to(ROOT)),
        "log_density": log_density(problem),
        "postprocessing": postprocessing(problem, args.chunk),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
