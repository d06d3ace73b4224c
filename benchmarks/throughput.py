"""Part B: forward-model throughput, B2 evaluations per second.

bayesff: ``jax.jit(jax.vmap(predict))`` over parameter sets, all temperatures
at once, the same forward model the calibration uses (``build_model(problem)``).
Run as a script (``python benchmarks/throughput.py OUT.npz``) it measures the
rate in whatever precision ``BAYESFF_X64`` selects and saves the B2 values,
so that ``run.py`` can run it in a float32 subprocess and compare.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ROOT / "models" / "argon_lj_b2.toml"
#: Boyle temperature of LJ 12-6 in units of epsilon/k_B (B2(T_B) = 0).
BOYLE_TSTAR = 3.4179


def parameter_sets(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` parameter sets drawn from the argon problem's priors (problem units)."""
    rng = np.random.default_rng(seed)
    return {
        "epsilon": 120.0 * np.exp(0.3 * rng.standard_normal(n)),  # K
        "sigma": rng.uniform(3.0, 4.0, n),  # angstrom
    }


def temperatures(n: int = 25) -> np.ndarray:
    return np.linspace(100.0, 700.0, n)


def bayesff_rate(n_sets: int, n_T: int = 25, repeats: int = 3) -> dict:
    """Compile time and best-of-``repeats`` rate of the jitted, vmapped B2."""
    import jax
    import jax.numpy as jnp

    from bayesff.problem import Problem
    from bayesff.runtime import ensure_configured

    ensure_configured()
    problem = Problem.from_toml(PROBLEM)
    predict = problem.targets[0].forward(problem).build()
    factors = {n: problem.to_internal(n, 1.0) for n in problem.free_parameters}

    def to_params(theta):
        return {n: theta[n] * factors[n] for n in factors}

    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    theta = {k: jax.device_put(jnp.asarray(v, dtype)) for k, v in parameter_sets(n_sets).items()}
    env = {"T_K": jax.device_put(jnp.asarray(temperatures(n_T), dtype))}

    f = jax.jit(jax.vmap(lambda th, env: predict(to_params(th), env), in_axes=(0, None)))
    t0 = time.perf_counter()
    compiled = f.lower(theta, env).compile()
    t_compile = time.perf_counter() - t0
    out = compiled(theta, env)
    out.block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        compiled(theta, env).block_until_ready()
        times.append(time.perf_counter() - t0)
    n_eval = n_sets * n_T
    best = min(times)
    return {
        "dtype": str(np.dtype(dtype)),
        "device": str(jax.devices()[0]),
        "n_parameter_sets": n_sets,
        "n_temperatures": n_T,
        "n_evaluations": n_eval,
        "compile_s": t_compile,
        "times_s": times,
        "best_s": best,
        "evals_per_s": n_eval / best,
        "values": np.asarray(out, np.float64),
    }


def quad_rate(n_eval: int, n_sets: int, n_T: int = 25, seed: int = 1) -> dict:
    """Rate of the scipy quad B2 on ``n_eval`` random (parameter set, T) pairs."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from baseline import b2_quad

    th = parameter_sets(n_sets)
    T = temperatures(n_T)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_sets, n_eval)
    jdx = rng.integers(0, n_T, n_eval)
    t0 = time.perf_counter()
    vals = [b2_quad(T[j], th["epsilon"][i], th["sigma"][i]) for i, j in zip(idx, jdx, strict=True)]
    dt = time.perf_counter() - t0
    return {
        "n_evaluations_timed": n_eval,
        "seconds": dt,
        "evals_per_s": n_eval / dt,
        "extrapolated_s_for_full_grid": n_sets * n_T * dt / n_eval,
        "index": (idx, jdx),
        "values": np.asarray(vals),
    }


def float32_errors(b32: np.ndarray, b64: np.ndarray, n_sets: int, n_T: int = 25) -> dict:
    """Errors of float32 B2 against float64 over the same sets.

    Relative error is unbounded where B2 crosses zero (the Boyle temperature),
    so the error is also given over the hard-sphere scale
    b0 = 2 pi N_A sigma^3 / 3, overall and near the Boyle temperature
    (T* = T k_B / epsilon within 15 % of 3.418).
    """
    from scipy import constants

    th = parameter_sets(n_sets)
    T = temperatures(n_T)
    b0 = (2 * np.pi * constants.N_A * 1e-24 / 3) * th["sigma"][:, None] ** 3  # cm^3/mol
    tstar = T[None, :] / th["epsilon"][:, None]
    err = np.abs(b32 - b64)
    rel = err / np.abs(b64)
    scaled = err / b0
    near = np.abs(tstar / BOYLE_TSTAR - 1.0) <= 0.15
    away = np.abs(b64) >= 0.1 * b0
    return {
        "max_rel_err": float(rel.max()),
        "median_rel_err": float(np.median(rel)),
        "max_rel_err_where_abs_B2_ge_0.1_b0": float(rel[away].max()),
        "max_abs_err_over_b0": float(scaled.max()),
        "max_abs_err_over_b0_near_boyle": float(scaled[near].max()),
        "n_near_boyle": int(near.sum()),
        "max_abs_err_cm3_per_mol": float(err.max()),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    n_sets = int(argv[1]) if len(argv) > 1 else 10_000
    import jax

    print("jax.devices():", jax.devices(), file=sys.stderr)
    r = bayesff_rate(n_sets)
    np.save(out.with_suffix(".npy"), r.pop("values"))
    out.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
