"""Speed of the integral-equation solver (bayesff.observables.liquid), and its accuracy table.

Speed (default): argon-like LJ (epsilon/k_B = 120 K, sigma = 3.405 angstrom) at 85 K and
0.02125 1/angstrom^3 (T* = 0.708, rho* = 0.839, a liquid near the triple point), N = 4096:

- one solve after compilation, median of repeats: forward for VM, PY and HNC, and value +
  gradient of (p, u) with respect to (epsilon, sigma) for VM;
- throughput over D parameter draws (epsilon and sigma uniform within +-5 % of argon's,
  fixed seed), VM, cold starts: a Python loop over the jitted single solve (the baseline),
  ``jax.jit(jax.vmap(solve))`` over all draws at once, and ``solve_batch`` at a few chunk
  sizes, each compiled ahead of time and timed once; every method's pressures are compared
  with the loop's.

Accuracy (``--accuracy``): p* and u* from the three closures against the Thol et al. (2016)
LJ EOS (teqp ``LJ126_TholJPCRD2016``, doi:10.1063/1.4945000) at liquid and supercritical
states, as a markdown table (the one in ``docs/liquid.md``).

Usage (from the repository root)::

    python benchmarks/liquid_bench.py            # 1000 draws, 20 repeats
    python benchmarks/liquid_bench.py --quick    # 100 draws, 5 repeats
    python benchmarks/liquid_bench.py --accuracy

Writes ``benchmarks/results/liquid_bench[_quick].json`` (or ``liquid_accuracy.json``) and
prints the tables. Timings on a shared machine are noisy: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables import liquid
from bayesff.potentials.pair import LENNARD_JONES
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

RESULTS = Path(__file__).resolve().parent / "results"
EPSILON_K, SIGMA_A = 120.0, 3.405  # argon-like LJ, epsilon / k_B in K
EPSILON = EPSILON_K * GAS_CONSTANT_KJ_PER_MOL_K  # kJ/mol
T_K, RHO = 85.0, 0.02125  # K, 1/angstrom^3
N = 4096
CHUNKS = (8, 16, 32, 64)

#: Accuracy states (T*, rho*): liquid (T* below the critical 1.32, rho* above the saturated
#: liquid density) and supercritical.
LIQUID = ((0.72, 0.84), (0.8, 0.82), (0.9, 0.8), (1.0, 0.75), (1.0, 0.85), (1.2, 0.75))
SUPERCRITICAL = ((1.5, 0.4), (1.5, 0.6), (1.5, 0.8), (2.0, 0.5), (2.0, 0.7), (3.0, 0.85))


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
    }


def median_ms(fn, args, repeats):
    """Median wall and process-CPU milliseconds of fn(*args) after a first (compiling) call.

    CPU time (all threads of this process) is less affected by other processes on a
    shared machine than wall time.
    """
    jax.block_until_ready(fn(*args))  # compile (not timed)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*args))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


def single_solve(repeats: int) -> list[dict]:
    params = {"epsilon": EPSILON, "sigma": SIGMA_A}
    rows = []
    for closure in ("vm", "py", "hnc"):
        fn = jax.jit(lambda t, rho, c=closure: liquid.solve(LENNARD_JONES, params, t, rho, c, N))
        sol = fn(T_K, RHO)
        rows.append(
            {
                "closure": closure,
                "what": "forward",
                "median_ms_wall_cpu": median_ms(fn, (T_K, RHO), repeats),
                "iterations": int(sol.iterations),
                "status": int(sol.status),
            }
        )

    def p_and_u(x):
        sol = liquid.solve(
            LENNARD_JONES, {"epsilon": x[0], "sigma": x[1]}, T_K, RHO, closure="vm", n=N
        )
        return sol.pressure_MPa + sol.energy_kJ_per_mol

    grad = jax.jit(jax.value_and_grad(p_and_u))
    x = jnp.array([EPSILON, SIGMA_A])
    rows.append(
        {
            "closure": "vm",
            "what": "value + gradient",
            "median_ms_wall_cpu": median_ms(grad, (x,), repeats),
            "iterations": rows[0]["iterations"],
            "status": rows[0]["status"],
        }
    )
    return rows


def draws(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        jnp.asarray(EPSILON * rng.uniform(0.95, 1.05, count)),
        jnp.asarray(SIGMA_A * rng.uniform(0.95, 1.05, count)),
    )


def timed_once(compiled, args):
    t0, c0 = time.perf_counter(), time.process_time()
    out = jax.block_until_ready(compiled(*args))
    return (time.perf_counter() - t0, time.process_time() - c0), out


def throughput(count: int) -> list[dict]:
    eps, sig = draws(count)

    def one(e, s):
        return liquid.solve(LENNARD_JONES, {"epsilon": e, "sigma": s}, T_K, RHO, "vm", N)

    rows = []
    single = jax.jit(one).lower(eps[0], sig[0]).compile()
    t0, c0 = time.perf_counter(), time.process_time()
    loop = [single(e, s) for e, s in zip(eps, sig, strict=True)]
    p_ref = np.array([float(sol.pressure_MPa) for sol in loop])  # blocks on every result
    seconds = (time.perf_counter() - t0, time.process_time() - c0)
    status = np.array([int(sol.status) for sol in loop])
    rows.append(("Python loop over jit(solve)", seconds, status, p_ref, None))

    vmapped = jax.jit(jax.vmap(one)).lower(eps, sig).compile()
    seconds, out = timed_once(vmapped, (eps, sig))
    rows.append(("jit(vmap(solve))", seconds, out.status, out.pressure_MPa, None))

    for chunk in CHUNKS:

        def batch(e, s, chunk=chunk):
            params = {"epsilon": e, "sigma": s}
            return liquid.solve_batch(LENNARD_JONES, params, T_K, RHO, "vm", N, chunk=chunk)

        compiled = jax.jit(batch).lower(eps, sig).compile()
        seconds, out = timed_once(compiled, (eps, sig))
        rows.append((f"solve_batch, chunk={chunk}", seconds, out.status, out.pressure_MPa, chunk))

    return [
        {
            "method": name,
            "chunk": chunk,
            "draws": count,
            "seconds_wall": seconds[0],
            "seconds_cpu": seconds[1],
            "solves_per_s_wall": count / seconds[0],
            "solves_per_cpu_s": count / seconds[1],
            "converged": int(np.sum(np.asarray(status) == liquid.CONVERGED)),
            "max_abs_diff_p_vs_loop_MPa": float(np.nanmax(np.abs(np.asarray(p) - p_ref))),
        }
        for name, seconds, status, p, chunk in rows
    ]


def speed(quick: bool) -> dict:
    count, repeats = (100, 5) if quick else (1000, 20)
    result = {"machine": machine(), "state": {"T_K": T_K, "rho_per_A3": RHO, "n": N}}
    result["single"] = single_solve(repeats)
    result["throughput"] = throughput(count)
    result["machine"]["load_average_after"] = os.getloadavg()
    lines = [
        f"LJ (epsilon/k_B = {EPSILON_K} K, sigma = {SIGMA_A} A) at {T_K} K, "
        f"{RHO} 1/A^3, N = {N}; {result['machine']['jax_devices']}, "
        f"{result['machine']['cpu_count']} CPUs, "
        f"load {result['machine']['load_average_1_5_15min']}",
        "",
        f"| closure | one solve after compilation | median ms wall (of {repeats}) "
        "| median ms CPU | iterations |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in result["single"]:
        lines.append(
            f"| {row['closure']} | {row['what']} | {row['median_ms_wall_cpu'][0]:.1f} "
            f"| {row['median_ms_wall_cpu'][1]:.1f} | {row['iterations']} |"
        )
    lines += [
        "",
        f"| VM, {count} draws (epsilon, sigma +-5 %) | s wall | solves/s wall | s CPU "
        "| solves per CPU s | converged | max abs diff in p vs loop, MPa |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["throughput"]:
        lines.append(
            f"| {row['method']} | {row['seconds_wall']:.2f} | {row['solves_per_s_wall']:.0f} "
            f"| {row['seconds_cpu']:.2f} | {row['solves_per_cpu_s']:.0f} "
            f"| {row['converged']} | {row['max_abs_diff_p_vs_loop_MPa']:.1e} |"
        )
    result["table"] = "\n".join(lines)
    return result


def accuracy() -> dict:
    import teqp

    model = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    z = np.array([1.0])
    params = {"epsilon": 1.0, "sigma": 1.0}  # reduced units: T = T* / R, rho = rho*
    solvers = {
        c: jax.jit(lambda t, rho, c=c: liquid.solve(LENNARD_JONES, params, t, rho, c, N))
        for c in ("hnc", "py", "vm")
    }
    rows = []
    for phase, states in (("liquid", LIQUID), ("supercritical", SUPERCRITICAL)):
        for t, rho in states:
            p_ref = rho * t * (1 + model.get_Ar01(t, rho, z))
            u_ref = t * model.get_Ar10(t, rho, z)
            row = {"phase": phase, "T*": t, "rho*": rho, "p*_thol": p_ref, "u*_thol": u_ref}
            for c, solver in solvers.items():
                sol = solver(t / GAS_CONSTANT_KJ_PER_MOL_K, rho)
                row[f"status_{c}"] = int(sol.status)
                row[f"dp_{c}"] = float(sol.pressure_MPa) / KJ_PER_MOL_PER_A3_IN_MPA - p_ref
                row[f"du_{c}"] = float(sol.energy_kJ_per_mol) / u_ref - 1
            rows.append(row)
    lines = [
        "| state | T* | rho* | p* Thol | p* error HNC / PY / VM | u* Thol "
        "| u* error HNC / PY / VM |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        dp = " / ".join(f"{r[f'dp_{c}']:+.2f}" for c in ("hnc", "py", "vm"))
        du = " / ".join(f"{100 * r[f'du_{c}']:+.1f} %" for c in ("hnc", "py", "vm"))
        lines.append(
            f"| {r['phase']} | {r['T*']} | {r['rho*']} | {r['p*_thol']:.3f} | {dp} "
            f"| {r['u*_thol']:.3f} | {du} |"
        )
    lines += ["", "| closure | phase | mean / max abs error in p* | mean / max error in u* |"]
    lines.append("| --- | --- | --- | --- |")
    summary = {}
    for c in ("hnc", "py", "vm"):
        for phase in ("liquid", "supercritical"):
            dp = np.abs([r[f"dp_{c}"] for r in rows if r["phase"] == phase])
            du = np.abs([r[f"du_{c}"] for r in rows if r["phase"] == phase])
            summary[f"{c}_{phase}"] = {
                "p_mean": dp.mean(),
                "p_max": dp.max(),
                "u_mean": du.mean(),
                "u_max": du.max(),
            }
            lines.append(
                f"| {c.upper()} | {phase} | {dp.mean():.2f} / {dp.max():.2f} "
                f"| {100 * du.mean():.1f} % / {100 * du.max():.1f} % |"
            )
    return {
        "machine": machine(),
        "reference": f"Thol et al. 2016 LJ EOS, teqp {teqp.__version__}",
        "n": N,
        "states": rows,
        "summary": summary,
        "table": "\n".join(lines),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 draws, 5 repeats")
    parser.add_argument("--accuracy", action="store_true", help="error table against Thol")
    args = parser.parse_args()
    if args.accuracy:
        result, name = accuracy(), "liquid_accuracy.json"
    else:
        result = speed(args.quick)
        name = "liquid_bench_quick.json" if args.quick else "liquid_bench.json"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(result["table"])
    print(f"\nwritten: {RESULTS / name}")


if __name__ == "__main__":
    main()
