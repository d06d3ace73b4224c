"""MD throughput: NVT Langevin steps per second for LJ, float64 vs float32.

Runs standalone (``/tmp/venv312/bin/python benchmarks/md_bench.py``); prints a
table and records ``jax.devices()``. Lennard-Jones in reduced units (epsilon =
1 kJ/mol, sigma = 1 angstrom) at T* = 1.0, rho* = 0.8, cut-off 2.5 sigma,
skin 0.3 sigma, Dense neighbour list (cell list where the box holds >= 3 cells
per side), the same compiled step as :func:`bayesff.simulate.lj_md.simulate`
(observables measured every ``sample_every`` = 100 steps, frames not stored).

Rates are steps per second of wall time and per CPU-second (user + system of
this process, all threads), after compilation, best of ``--repeats``. On a
shared machine the wall rate depends on the load; the CPU rate less so.

``--accuracy`` also runs a short N = 256 simulation in each precision and
prints p* and u* with block standard errors, to judge whether float32 is
accurate enough.

Options: ``--sizes 500,4000``, ``--steps 300``, ``--repeats 2``, ``--accuracy``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import time
import warnings


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rate(n: int, dtype: str, steps: int, repeats: int) -> dict:
    """Compile time and best-of-``repeats`` steps/s for N particles."""
    import jax
    import jax.numpy as jnp

    from bayesff.potentials.pair import LENNARD_JONES
    from bayesff.simulate import lj_md as md

    rho, kT, r_cut, skin, every = 0.8, 1.0, 2.5, 0.3, 100
    box = md._box(n, rho)
    mass = md.MASS_UNIT * 39.948
    tau = math.sqrt(mass / kT)
    setup = md._Setup(
        md.ByIdentity(LENNARD_JONES), n, box, r_cut, skin, 1.0 / tau, dtype, r_cut, 50, 6.0,
        every,
    )  # fmt: skip
    neighbor_fn, init, sample = md._build(setup)
    jd = jnp.dtype(dtype)
    params = {"epsilon": jnp.asarray(1.0, jd), "sigma": jnp.asarray(1.0, jd)}
    dyn = {"kT": jnp.asarray(kT, jd), "dt": jnp.asarray(0.005 * tau, jd)}
    chunk = max(1, steps // every)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=md._JAX_MD_WARNING, category=FutureWarning)
        R = md._fcc_lattice(n, box, jd)
        nbrs = neighbor_fn.allocate(R)
        state = init(jax.random.PRNGKey(0), R, jnp.asarray(mass, jd), nbrs.idx, params, dyn["kT"])
        t0, c0 = time.perf_counter(), _cpu_s()
        (state, nbrs), _ = sample((state, nbrs), params, dyn, chunk, False)
        jax.block_until_ready(state)
        compile_s = time.perf_counter() - t0
        nbrs = neighbor_fn.allocate(state.position)  # liquid, not lattice
        best_wall, best_cpu, overflow = 0.0, 0.0, False
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), _cpu_s()
            (state, nbrs), _ = sample((state, nbrs), params, dyn, chunk, False)
            jax.block_until_ready(state)
            wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
            overflow |= bool(nbrs.did_buffer_overflow)
            if overflow:
                nbrs = neighbor_fn.allocate(state.position)
            best_wall = max(best_wall, chunk * every / wall)
            best_cpu = max(best_cpu, chunk * every / cpu)
    return {
        "n": n,
        "dtype": dtype,
        "steps": chunk * every,
        "compile_s": compile_s,
        "steps_per_s": best_wall,
        "steps_per_cpu_s": best_cpu,
        "capacity": int(nbrs.idx.shape[1]),
        "cell_list": md._use_cells(box, r_cut, skin),
        "overflow": overflow,
    }


def accuracy(dtype: str) -> dict:
    from bayesff.potentials.pair import LENNARD_JONES
    from bayesff.simulate import lj_md as md
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

    t_star, rho = 1.0, 0.8
    res = md.simulate(
        LENNARD_JONES, {"epsilon": 1.0, "sigma": 1.0}, t_star / GAS_CONSTANT_KJ_PER_MOL_K, rho,
        n_particles=256, n_steps=6000, n_equil=2000, r_cut_angstrom=3.0, seed=0,
        store_frames=False, dtype=dtype,
    )  # fmt: skip
    return {
        "dtype": dtype,
        "p": res.pressure_MPa / KJ_PER_MOL_PER_A3_IN_MPA,
        "p_se": res.pressure_se_MPa / KJ_PER_MOL_PER_A3_IN_MPA,
        "u": res.energy_kJ_per_mol,
        "u_se": res.energy_se_kJ_per_mol,
        "t_kin": res.temperature_kinetic_K * GAS_CONSTANT_KJ_PER_MOL_K,
        "status": res.status,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,4000")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--accuracy", action="store_true")
    args = ap.parse_args(argv)

    from importlib.metadata import version

    import jax

    print(f"jax {jax.__version__}, jax-md {version('jax-md')}, "
          f"python {platform.python_version()}")  # fmt: skip
    print(f"jax.devices() = {jax.devices()}")
    print(f"os.cpu_count() = {os.cpu_count()}, load average = {os.getloadavg()}")
    print("LJ, T* = 1.0, rho* = 0.8, r_c = 2.5 sigma, skin 0.3 sigma, Dense list\n")
    print("| N | dtype | steps/s (wall) | steps per CPU-s | compile s | capacity | cell list |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n in (int(s) for s in args.sizes.split(",")):
        for dtype in ("float64", "float32"):
            r = rate(n, dtype, args.steps, args.repeats)
            print(
                f"| {r['n']} | {r['dtype']} | {r['steps_per_s']:.0f} | {r['steps_per_cpu_s']:.0f} "
                f"| {r['compile_s']:.1f} | {r['capacity']} | {r['cell_list']} |"
                + (" overflow" if r["overflow"] else ""),
                flush=True,
            )
    if args.accuracy:
        print("\nAccuracy, N = 256, T* = 1.0, rho* = 0.8, r_c = 3 sigma + tails, 6000 steps:")
        print("| dtype | p* | u* | T*_kin |")
        print("| --- | --- | --- | --- |")
        for dtype in ("float64", "float32"):
            a = accuracy(dtype)
            print(
                f"| {a['dtype']} | {a['p']:.4f} +- {a['p_se']:.4f} | {a['u']:.4f} +- "
                f"{a['u_se']:.4f} | {a['t_kin']:.4f} |",
                flush=True,
            )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
