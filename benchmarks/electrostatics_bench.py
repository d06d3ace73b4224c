"""Speed and accuracy of the molecular and electrostatic forward models (issues 13 and 14).

1. Stockmayer B2 throughput (target >= 1e6 evaluations/s in float64 on the CPU, with
   1e-8 relative accuracy): D parameter draws (epsilon/k_B uniform in 150-450 K, sigma in
   2.6-4.0 angstrom, mu in 0.5-2.5 D, fixed seed) x 64 temperatures (250-1000 K), one
   ``jax.jit(jax.vmap(build(STOCKMAYER, nodes_per_panel=n)))`` call after compilation, for
   a few n; the accuracy is the largest relative deviation over the whole batch from the
   same forward model with 48 nodes per panel (converged: 16 -> 48 nodes changes B2 by
   < 1e-10, and the forward model agrees with Stockmayer's exact series to < 1e-12 in
   ``tests/observables/test_orientational.py``). Also value + gradient per draw.
2. 2CLJ / 2CLJQ B2: accuracy of node settings against (24, 32, 32) on a grid of
   elongations, quadrupoles and temperatures, and the time of one value and one
   value + gradient over 20 temperatures (the cost that matters for calibration).
3. Induced dipoles of a 100-site ion cluster (a jittered 5 x 5 x 4 rock-salt block, spacing
   2.82 angstrom, +1/-1 charges, alpha 0.4 and 3.5 angstrom^3, Thole a = 0.39, LJ on):
   value, value + gradient in the parameters, value + forces (target < 5 ms after
   compilation for value and gradient); the same with ``jax.numpy.linalg.solve`` (LU)
   in place of the Cholesky solve, for comparison.

Usage (from the repository root)::

    python benchmarks/electrostatics_bench.py                  # D = 1000 draws, 20 repeats
    python benchmarks/electrostatics_bench.py --quick          # D = 200 draws, 5 repeats
    python benchmarks/electrostatics_bench.py --single-thread  # OPENBLAS_NUM_THREADS=1

Writes ``benchmarks/results/electrostatics_bench[_quick][_1thread].json``. Timings on a
shared machine are noisy: the load average is recorded, and process CPU time is given next
to wall time (all threads; on 2 cores CPU time up to 2x wall time).

``--single-thread`` sets ``OPENBLAS_NUM_THREADS=1`` before NumPy, SciPy and JAX load.
JAX's CPU Cholesky and triangular solves call SciPy's LAPACK (OpenBLAS). On this 2-core
machine shared with other jobs (load average 4-5), OpenBLAS's worker threads stall
intermittently: a call that takes ~3 ms then takes ~480 ms of CPU (busy waiting), in
``numpy.linalg.cholesky`` of a 300 x 300 matrix as much as in the JAX model. With one
OpenBLAS thread the times are stable. The default run keeps the library defaults, so that
both are on record.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __name__ == "__main__" and "--single-thread" in sys.argv:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy, scipy and jax load

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables.orientational import build, second_virial_linear
from bayesff.potentials.molecular import STOCKMAYER, TWO_CENTRE_LJ_QUADRUPOLE
from bayesff.potentials.polarisable import POLARISABLE, _system
from bayesff.units import (
    COULOMB_KJ_PER_MOL_ANGSTROM,
    GAS_CONSTANT_KJ_PER_MOL_K,
    to_internal,
)

RESULTS = Path(__file__).resolve().parent / "results"
R = GAS_CONSTANT_KJ_PER_MOL_K


def machine() -> dict:
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "jax_devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15min": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "x64": bool(jax.config.jax_enable_x64),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
    }


def median_ms(fn, args, repeats):
    """Median wall and process-CPU milliseconds of fn(*args) after a first (compiling) call."""
    jax.block_until_ready(fn(*args))
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*args))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


# ------------------------------------------------------------------ 1. Stockmayer


def stockmayer_draws(count, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "epsilon": jnp.asarray(to_internal(rng.uniform(150, 450, count), "K", "energy")),
        "sigma": jnp.asarray(rng.uniform(2.6, 4.0, count)),
        "mu": jnp.asarray(to_internal(rng.uniform(0.5, 2.5, count), "D", "dipole")),
    }


def stockmayer(count, repeats):
    params = stockmayer_draws(count)
    env = {"T_K": jnp.linspace(250.0, 1000.0, 64)}
    n_eval = count * 64
    ref = jax.jit(jax.vmap(build(STOCKMAYER, nodes_per_panel=48), (0, None)))(params, env)
    rows = []
    for nodes in (12, 14, 16):
        fn = jax.jit(jax.vmap(build(STOCKMAYER, nodes_per_panel=nodes), (0, None)))
        out = fn(params, env)
        wall, cpu = median_ms(fn, (params, env), repeats)
        rows.append(
            {
                "nodes_per_panel": nodes,
                "radial_nodes": 7 * nodes,
                "evaluations": n_eval,
                "median_ms_wall_cpu": [wall, cpu],
                "evaluations_per_s_wall": n_eval / (wall / 1e3),
                "evaluations_per_cpu_s": n_eval / (cpu / 1e3),
                "max_rel_err_vs_48_nodes": float(jnp.max(jnp.abs(out / ref - 1))),
                "nan_count": int(jnp.isnan(out).sum()),
            }
        )

    def total(p):
        return jnp.sum(build(STOCKMAYER)(p, env))

    grad = jax.jit(jax.vmap(jax.value_and_grad(total)))
    wall, cpu = median_ms(grad, (params,), repeats)
    rows.append(
        {
            "nodes_per_panel": 16,
            "what": "value + gradient in (epsilon, sigma, mu), per draw, summed over 64 T",
            "draws": count,
            "median_ms_wall_cpu": [wall, cpu],
            "evaluations_per_s_wall": n_eval / (wall / 1e3),
        }
    )
    return {"draws": count, "temperatures": 64, "rows": rows}


# ------------------------------------------------------------------ 2. 2CLJ(Q)


def two_centre(repeats):
    eps, sig = to_internal(100.0, "K", "energy"), 3.4
    t_star = np.array([1.0, 2.0, 5.0, 20.0, 60.0])
    settings = [(12, 8, 8), (12, 12, 12), (16, 12, 12), (16, 16, 16), (16, 24, 24)]
    acc = []
    for l_star in (0.3, 0.6, 0.8):
        for q_star2 in (0.0, 1.0, 4.0):
            q = float(np.sqrt(q_star2 * eps * sig**5 / COULOMB_KJ_PER_MOL_ANGSTROM))
            p = {"epsilon": eps, "sigma": sig, "L": l_star * sig, "Q": q}
            T = t_star * 100.0
            ref = np.asarray(
                second_virial_linear(
                    TWO_CENTRE_LJ_QUADRUPOLE, p, T, nodes_per_panel=24, n_cos=32, n_phi=32
                )
            )
            for nodes, nc, nphi in settings:
                got = np.asarray(
                    second_virial_linear(
                        TWO_CENTRE_LJ_QUADRUPOLE, p, T, nodes_per_panel=nodes, n_cos=nc, n_phi=nphi
                    )
                )
                acc.append(
                    {
                        "L_over_sigma": l_star,
                        "Q_star2": q_star2,
                        "setting": [nodes, nc, nphi],
                        "rel_err_per_T_star": dict(
                            zip(map(str, t_star), np.abs(got / ref - 1).tolist(), strict=True)
                        ),
                    }
                )
    # timing over 20 temperatures (a typical B2 data set)
    p = {"epsilon": eps, "sigma": sig, "L": 0.8 * sig, "Q": 0.8}
    T = jnp.linspace(150.0, 1000.0, 20)
    timing = []
    for nodes, nc, nphi in settings:
        kw = {"nodes_per_panel": nodes, "n_cos": nc, "n_phi": nphi}
        f = jax.jit(lambda p, kw=kw: second_virial_linear(TWO_CENTRE_LJ_QUADRUPOLE, p, T, **kw))
        g = jax.jit(
            jax.value_and_grad(
                lambda p, kw=kw: jnp.sum(
                    second_virial_linear(TWO_CENTRE_LJ_QUADRUPOLE, p, T, **kw)
                )
            )
        )
        timing.append(
            {
                "setting": [nodes, nc, nphi],
                "temperatures": 20,
                "value_ms_wall_cpu": median_ms(f, (p,), repeats),
                "value_and_grad_ms_wall_cpu": median_ms(g, (p,), repeats),
            }
        )
    worst = {}
    for row in acc:
        key = str(row["setting"])
        worst[key] = max(worst.get(key, 0.0), max(row["rel_err_per_T_star"].values()))
    return {"accuracy": acc, "worst_rel_err_per_setting": worst, "timing": timing}


# ------------------------------------------------------------------ 3. induced dipoles


def ion_cluster(seed=0):
    rng = np.random.default_rng(seed)
    grid = np.array([[i, j, k] for i in range(5) for j in range(5) for k in range(4)], float)
    x = 2.82 * grid + rng.normal(scale=0.1, size=grid.shape)
    parity = grid.sum(axis=1).astype(int) % 2
    sites = {"charge_e": np.where(parity == 0, 1.0, -1.0), "type": parity}
    params = {
        "s": 1.0,
        "thole_a": 0.39,
        "alpha_0": 0.4,
        "alpha_1": 3.5,
        "epsilon_0": 0.5,
        "epsilon_1": 0.5,
        "sigma_0": 2.4,
        "sigma_1": 4.0,
    }
    return jnp.asarray(x), sites, params


def induced(repeats):
    x, sites, params = ion_cluster()
    pot = POLARISABLE
    e, status = pot.energy_and_status(x, sites, **params)
    b_mat, _, _ = _system(
        x, jnp.asarray(sites["charge_e"]), jnp.asarray(sites["type"]), params, 2, True
    )
    w = np.linalg.eigvalsh(np.asarray(b_mat))
    value = jax.jit(lambda x, p: pot.energy_and_status(x, sites, **p))
    vg_params = jax.jit(jax.value_and_grad(lambda p, x: pot.energy_and_status(x, sites, **p)[0]))
    vg_forces = jax.jit(jax.value_and_grad(lambda x, p: pot.energy_and_status(x, sites, **p)[0]))
    vg_both = jax.jit(
        jax.value_and_grad(lambda x, p: pot.energy_and_status(x, sites, **p)[0], argnums=(0, 1))
    )

    def lu_energy(p, x):
        # the same induction energy with jax.numpy.linalg.solve (LU, no status)
        b_mat, b_vec, _ = _system(
            x, jnp.asarray(sites["charge_e"]), jnp.asarray(sites["type"]), p, 2, True
        )
        return -0.5 * COULOMB_KJ_PER_MOL_ANGSTROM * b_vec @ jnp.linalg.solve(b_mat, b_vec)

    lu_vg = jax.jit(jax.value_and_grad(lu_energy))
    return {
        "sites": int(x.shape[0]),
        "matrix": f"{3 * x.shape[0]} x {3 * x.shape[0]}",
        "energy_kJ_per_mol": float(e),
        "status": int(status),
        "lowest_eigenvalue_of_B": float(w[0]),
        "value_ms_wall_cpu": median_ms(value, (x, params), repeats),
        "value_and_grad_params_ms_wall_cpu": median_ms(vg_params, (params, x), repeats),
        "value_and_forces_ms_wall_cpu": median_ms(vg_forces, (x, params), repeats),
        "value_and_grad_params_and_forces_ms_wall_cpu": median_ms(vg_both, (x, params), repeats),
        "lu_solve_induction_value_and_grad_params_ms_wall_cpu": median_ms(
            lu_vg, (params, x), repeats
        ),
        "target_ms": 5.0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 draws, 5 repeats")
    parser.add_argument(
        "--single-thread", action="store_true", help="OPENBLAS_NUM_THREADS=1 (see above)"
    )
    args = parser.parse_args()
    count, repeats = (200, 5) if args.quick else (1000, 20)
    result = {"machine": machine()}
    result["stockmayer_b2"] = stockmayer(count, repeats)
    result["induced_dipoles_100_sites"] = induced(repeats)
    result["two_centre_b2"] = two_centre(max(3, repeats // 4))
    result["machine"]["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    name = "electrostatics_bench" + ("_quick" if args.quick else "")
    name += "_1thread.json" if args.single_thread else ".json"
    (RESULTS / name).write_text(json.dumps(result, indent=1, default=float) + "\n")

    print(f"load average {result['machine']['load_average_1_5_15min']}")
    print("Stockmayer B2 (float64, batch of draws x 64 T, after compilation)")
    for row in result["stockmayer_b2"]["rows"]:
        extra = (
            f"max rel err {row['max_rel_err_vs_48_nodes']:.1e}"
            if "max_rel_err_vs_48_nodes" in row
            else row["what"]
        )
        wall, cpu = row["median_ms_wall_cpu"]
        print(
            f"  nodes {row['nodes_per_panel']:3d}: {row['evaluations_per_s_wall']:.3g} evals/s "
            f"(wall {wall:.1f} ms, cpu {cpu:.1f} ms)  {extra}"
        )
    ind = result["induced_dipoles_100_sites"]
    print(f"Induced dipoles, {ind['sites']} sites (status {ind['status']}):")
    for k, v in ind.items():
        if k.endswith("_ms_wall_cpu"):
            print(f"  {k[:-12]:48s} wall {v[0]:.2f} ms  cpu {v[1]:.2f} ms")
    print("2CLJQ B2, worst relative error over L/sigma, Q*^2, T* per (nodes, n_cos, n_phi):")
    for k, v in result["two_centre_b2"]["worst_rel_err_per_setting"].items():
        print(f"  {k}: {v:.1e}")
    for row in result["two_centre_b2"]["timing"]:
        print(
            f"  {row['setting']}: value {row['value_ms_wall_cpu'][0]:.1f} ms, value + grad "
            f"{row['value_and_grad_ms_wall_cpu'][0]:.1f} ms (20 T, wall)"
        )


if __name__ == "__main__":
    main()
