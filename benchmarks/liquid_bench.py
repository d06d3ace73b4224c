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
    python benchmarks/liquid_bench.py --switch-scan   # how vm's low-density switch was chosen
    python benchmarks/liquid_bench.py --alpha-scan    # how vm's alpha(T*) was chosen

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

jax.config.update("jax_enable_x64", True)  # the tables are float64 (recorded in "machine")

from bayesff.observables import liquid  # noqa: E402
from bayesff.potentials.pair import LENNARD_JONES  # noqa: E402
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
EPSILON_K, SIGMA_A = 120.0, 3.405  # argon-like LJ, epsilon / k_B in K
EPSILON = EPSILON_K * GAS_CONSTANT_KJ_PER_MOL_K  # kJ/mol
T_K, RHO = 85.0, 0.02125  # K, 1/angstrom^3
N = 4096
CHUNKS = (8, 16, 32, 64)

#: Validation states (T*, rho*) of the accuracy table, by region (boundaries in
#: liquid.CLOSURE_ERROR_REGIONS: T*_c = 1.32 and rho*_c = 0.31 of the Thol EOS):
#: - vapour: T* < 1.32 and rho* below the same EOS's saturated-vapour density
#:   (0.0061 at T* = 0.8, 0.0145 at 0.9, 0.0295 at 1.0, 0.0548 at 1.1, 0.098 at 1.2,
#:   0.193 at 1.3; teqp pure_VLE_T);
#: - liquid: T* < 1.32 and rho* above the saturated-liquid density (0.799 at 0.8, 0.753 at
#:   0.9, 0.702 at 1.0, 0.642 at 1.1, 0.566 at 1.2, 0.436 at 1.3) and below freezing;
#:   T* = 0.72, rho* = 0.84 is argon at 85 K;
#: - supercritical: T* = 1.5-4, rho* = 0.005-0.9.
VAPOUR = (
    (0.8, 0.005),
    (0.9, 0.005),
    (0.9, 0.012),
    (1.0, 0.01),
    (1.0, 0.025),
    (1.1, 0.02),
    (1.1, 0.045),
    (1.2, 0.04),
    (1.2, 0.08),
    (1.3, 0.15),
)
LIQUID = (
    (0.72, 0.84),
    (0.8, 0.82),
    (0.9, 0.8),
    (0.9, 0.83),
    (1.0, 0.75),
    (1.0, 0.85),
    (1.1, 0.7),
    (1.1, 0.8),
    (1.2, 0.65),
    (1.2, 0.75),
    (1.3, 0.55),
    (1.3, 0.7),
)
SUPERCRITICAL = (
    (1.5, 0.005),
    (1.5, 0.05),
    (1.5, 0.1),
    (1.5, 0.2),
    (1.5, 0.3),
    (1.5, 0.4),
    (1.5, 0.6),
    (1.5, 0.8),
    (2.0, 0.05),
    (2.0, 0.3),
    (2.0, 0.5),
    (2.0, 0.7),
    (2.0, 0.9),
    (3.0, 0.1),
    (3.0, 0.4),
    (3.0, 0.7),
    (3.0, 0.85),
    (3.0, 0.9),
    (4.0, 0.2),
    (4.0, 0.5),
    (4.0, 0.8),
    (4.0, 0.9),
)
REGIONS = {"vapour": VAPOUR, "liquid": LIQUID, "supercritical": SUPERCRITICAL}
#: Tuning states of the "vm" low-density switch (--switch-scan), disjoint from the above.
_TUNING_GRID = tuple(
    (t, r) for t in (1.4, 2.5, 3.5) for r in (0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75)
)
TUNING = (*_TUNING_GRID, (0.85, 0.82), (1.1, 0.72), (1.1, 0.03), (0.95, 0.012))
#: Added for the tuning of "vm"'s alpha(T*) (--alpha-scan): hot dense fluid and cold dense
#: liquid, where alpha matters (the switch is 1 there), also disjoint from the validation table.
ALPHA_TUNING = (
    *TUNING,
    *((t, r) for t in (2.5, 3.5, 5.0) for r in (0.8, 0.85, 0.95)),
    (0.75, 0.86),
    (1.2, 0.75),
)
ACCURACY_CLOSURES = ("hnc", "py", "vm_wca", "vm", "vm_consistent")


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


def thol(model, t, rho):
    """(p*, u*, kappa_T*) of the Thol et al. (2016) LJ EOS: p* = rho* T* (1 + Ar01),
    u* = T* Ar10, 1 / (rho* T* kappa_T*) = 1 + 2 Ar01 + Ar02."""
    z = np.array([1.0])
    _, ar01, ar02 = model.get_Ar02n(t, rho, z)
    p = rho * t * (1 + ar01)
    u = t * model.get_Ar10(t, rho, z)
    kappa = 1.0 / (rho * t * (1 + 2 * ar01 + ar02))
    return p, u, kappa


def round_up(x, digits=2):
    """x rounded up to ``digits`` significant figures (0 stays 0)."""
    if not np.isfinite(x) or x <= 0:
        return float(x)
    scale = 10.0 ** (np.floor(np.log10(x)) - digits + 1)
    return float(np.ceil(x / scale - 1e-9) * scale)


def accuracy(n: int = N) -> dict:
    """Errors of every closure against Thol at the validation states; region summaries;
    the closure-error floor table (region maxima rounded up)."""
    import teqp

    model = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    params = {"epsilon": 1.0, "sigma": 1.0}  # reduced units: T = T* / R, rho = rho*
    rows = []
    for c in ACCURACY_CLOSURES:
        fn = jax.jit(lambda t, rho, c=c: liquid.solve(LENNARD_JONES, params, t, rho, c, n))
        jax.block_until_ready(fn(1.0 / GAS_CONSTANT_KJ_PER_MOL_K, 0.5))  # compile
        for region, states in REGIONS.items():
            for t, rho in states:
                p_ref, u_ref, kappa_ref = thol(model, t, rho)
                t0, c0 = time.perf_counter(), time.process_time()
                sol = jax.block_until_ready(fn(t / GAS_CONSTANT_KJ_PER_MOL_K, rho))
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                kt = t  # kJ/mol in reduced units
                p = float(sol.pressure_MPa) / KJ_PER_MOL_PER_A3_IN_MPA
                kappa = float(sol.kappa_T_per_MPa) * KJ_PER_MOL_PER_A3_IN_MPA  # 1/(kJ/mol/A^3)
                rows.append(
                    {
                        "closure": c,
                        "region": region,
                        "T*": t,
                        "rho*": rho,
                        "status": int(sol.status),
                        "iterations": int(sol.iterations),
                        "seconds_wall": wall,
                        "seconds_cpu": cpu,
                        "w": float(sol.closure_params[0]),
                        "alpha": float(sol.closure_params[1]),
                        "p*_thol": p_ref,
                        "u*_thol": u_ref,
                        "kappa*_thol": kappa_ref,
                        "dp*": p - p_ref,
                        "du*": float(sol.energy_kJ_per_mol) - u_ref,
                        "du_rel": float(sol.energy_kJ_per_mol) / u_ref - 1,
                        "dkappa_rel": kappa / kappa_ref - 1,
                        "S0": float(sol.S0),
                        "kT": kt,
                    }
                )
    summary, floor = {}, {}
    for c in ACCURACY_CLOSURES:
        for region in REGIONS:
            sel = [r for r in rows if r["closure"] == c and r["region"] == region]
            ok = [r for r in sel if r["status"] == liquid.CONVERGED]
            dp = np.abs([r["dp*"] for r in ok])
            du = np.abs([r["du*"] for r in ok])
            du_rel = np.abs([r["du_rel"] for r in ok])
            dk = np.abs([r["dkappa_rel"] for r in ok])
            within = [
                abs(r["dp*"]) <= 0.35 and abs(r["du*"]) <= max(0.025 * abs(r["u*_thol"]), 0.01)
                for r in ok
            ]
            summary[f"{c}/{region}"] = {
                "states": len(sel),
                "converged": len(ok),
                "failed": [(r["T*"], r["rho*"], r["status"]) for r in sel if r not in ok],
                "dp_mean": dp.mean(),
                "dp_max": dp.max(),
                "du_abs_max": du.max(),
                "du_rel_mean": du_rel.mean(),
                "du_rel_max": du_rel.max(),
                "dkappa_rel_mean": dk.mean(),
                "dkappa_rel_max": dk.max(),
                "within_issue_bounds": int(sum(within)),
                "seconds_cpu_median": statistics.median(r["seconds_cpu"] for r in sel),
            }
            floor[f"{c}/{region}"] = (
                round_up(dp.max()),
                round_up(du.max()),
                round_up(du_rel.max()),
                round_up(dk.max()),
            )
    path = path_check()
    return {
        "machine": machine(),
        "reference": f"Thol et al. 2016 LJ EOS (doi:10.1063/1.4945000), teqp {teqp.__version__}",
        "path_check": path,
        "n": n,
        "dr": "sigma / 100",
        "rows": rows,
        "summary": summary,
        "floor": floor,
        "table": accuracy_tables(rows, summary, floor) + "\n\n" + path_table(path),
    }


#: States of the path check (one or more per region and segment of the path).
PATH_STATES = (
    (0.72, 0.84),
    (0.9, 0.83),
    (1.1, 0.7),
    (1.3, 0.55),
    (1.3, 0.15),
    (1.0, 0.025),
    (1.5, 0.2),
    (1.5, 0.4),
    (2.0, 0.9),
    (3.0, 0.7),
    (4.0, 0.2),
    (4.0, 0.9),
)


def path_check(n: int = 2048) -> list[dict]:
    """The consistency mismatch beta (dp/drho) S(0) - 1 of "vm_consistent" on a grid of the
    path coordinate lam (closure parameters frozen, same central difference as the solver):
    is it monotone along the path, as the root find assumes?"""
    params = {"epsilon": 1.0, "sigma": 1.0}
    fn = jax.jit(
        lambda t, rho, cp: liquid.solve(
            LENNARD_JONES, params, t, rho, "vm_consistent", n, closure_params=cp
        )
    )
    lams = np.arange(-1.0, 2.001, 0.25)
    out = []
    for t, rho in PATH_STATES:
        w_default = float(liquid._default_w(LENNARD_JONES, params, rho))
        d = liquid._FD_STEP * rho
        ms = []
        for lam in lams:
            cp = liquid._path(lam, w_default)
            sols = [fn(t / GAS_CONSTANT_KJ_PER_MOL_K, r, cp) for r in (rho - d, rho, rho + d)]
            bp = [float(x.pressure_MPa) / KJ_PER_MOL_PER_A3_IN_MPA / t for x in sols]
            ms.append((bp[2] - bp[0]) / (2 * d) * float(sols[1].S0) - 1)
        ms = np.array(ms)
        fin = np.isfinite(ms)
        out.append(
            {
                "T*": t,
                "rho*": rho,
                "lam": lams.tolist(),
                "mismatch": ms.tolist(),
                "monotone_decreasing": bool(np.all(np.diff(ms[fin]) <= 0)),
            }
        )
    return out


NAMES = {
    "hnc": "HNC",
    "py": "PY",
    "vm_wca": "VM-WCA (old vm)",
    "vm": "VM (vm)",
    "vm_consistent": "VM consistent",
}


def accuracy_tables(rows, summary, floor) -> str:
    """Markdown: region summary, floor table, per-state errors."""
    lines = [
        "| closure | region | converged | mean / max abs dp* | mean / max abs du* / u* "
        "| max abs du* | mean / max abs dkappa_T / kappa_T | within issue bounds "
        "| CPU s per solve |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, s in summary.items():
        c, region = key.split("/")
        lines.append(
            f"| {NAMES[c]} | {region} | {s['converged']}/{s['states']} "
            f"| {s['dp_mean']:.3f} / {s['dp_max']:.3f} "
            f"| {100 * s['du_rel_mean']:.2f} % / {100 * s['du_rel_max']:.2f} % "
            f"| {s['du_abs_max']:.4f} "
            f"| {100 * s['dkappa_rel_mean']:.1f} % / {100 * s['dkappa_rel_max']:.1f} % "
            f"| {s['within_issue_bounds']}/{s['converged']} | {s['seconds_cpu_median']:.3f} |"
        )
    lines += [
        "",
        "| closure | region | dp* | du* | du* / u* | dkappa_T / kappa_T |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, (dp, du, du_rel, dk) in floor.items():
        c, region = key.split("/")
        lines.append(f"| {c} | {region} | {dp:g} | {du:g} | {du_rel:g} | {dk:g} |")
    closures = ACCURACY_CLOSURES
    lines += [
        "",
        "| region | T* | rho* | p* Thol | dp* "
        + " / ".join(NAMES[c] for c in closures)
        + " | u* Thol | du*/u* % | dkappa_T/kappa_T % |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    states = [(r["region"], r["T*"], r["rho*"]) for r in rows if r["closure"] == closures[0]]
    by_key = {(r["closure"], r["T*"], r["rho*"]): r for r in rows}

    def cell(r, key, scale, fmt):
        if r["status"] != liquid.CONVERGED:
            return f"fail ({r['status']})"
        return format(scale * r[key], fmt)

    for region, t, rho in states:
        rs = [by_key[(c, t, rho)] for c in closures]
        lines.append(
            f"| {region} | {t} | {rho} | {rs[0]['p*_thol']:.4g} "
            f"| {' / '.join(cell(r, 'dp*', 1, '+.3f') for r in rs)} "
            f"| {rs[0]['u*_thol']:.4g} "
            f"| {' / '.join(cell(r, 'du_rel', 100, '+.2f') for r in rs)} "
            f"| {' / '.join(cell(r, 'dkappa_rel', 100, '+.0f') for r in rs)} |"
        )
    return "\n".join(lines)


def path_table(path) -> str:
    lines = [
        "| T* | rho* | mismatch at lam = -1, 0, 1, 2 | monotone |",
        "| --- | --- | --- | --- |",
    ]
    for p in path:
        m = [p["mismatch"][i] for i in (0, 4, 8, 12)]
        lines.append(
            f"| {p['T*']} | {p['rho*']} | {', '.join(f'{x:+.4f}' for x in m)} "
            f"| {p['monotone_decreasing']} |"
        )
    return "\n".join(lines)


def _bound_units(model, fn, states) -> np.ndarray:
    """Error of ``fn`` at each state in units of issue 17's bounds (0.35 in p*,
    max(2.5 % |u*|, 0.01) in u*); a state without a converged solution counts as 9."""
    errors = []
    for t, rho in states:
        p_ref, u_ref, _ = thol(model, t, rho)
        sol = fn(t / GAS_CONSTANT_KJ_PER_MOL_K, rho)
        dp = float(sol.pressure_MPa) / KJ_PER_MOL_PER_A3_IN_MPA - p_ref
        du = float(sol.energy_kJ_per_mol) - u_ref
        ok = int(sol.status) == liquid.CONVERGED
        errors.append(max(abs(dp) / 0.35, abs(du) / max(0.025 * abs(u_ref), 0.01)) if ok else 9.0)
    return np.array(errors)


def alpha_scan(n: int = 4096) -> dict:
    """The default closure's errors at the ALPHA_TUNING states for alpha(T*) = a + b (1 - 1/T*)
    on a grid of (a, b). The rule: the smallest mean error among the (a, b) that keep every
    tuning state within the bounds; ``"chosen"`` is that (a, b) (docs/liquid.md)."""
    import teqp

    model = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    params = {"epsilon": 1.0, "sigma": 1.0}
    saved = liquid._VM_ALPHA_A, liquid._VM_ALPHA_B
    results = []
    try:
        for a in (0.72, 0.74, 0.76, 0.78, 0.8, 0.82):
            for b in (0.0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.24):
                liquid._VM_ALPHA_A, liquid._VM_ALPHA_B = a, b
                fn = jax.jit(lambda t, rho: liquid.solve(LENNARD_JONES, params, t, rho, "vm", n))
                e = _bound_units(model, fn, ALPHA_TUNING)
                results.append(
                    {
                        "a": a,
                        "b": b,
                        "mean": e.mean(),
                        "max": e.max(),
                        "misses": int((e > 1).sum()),
                    }
                )
                print(results[-1], flush=True)
    finally:
        liquid._VM_ALPHA_A, liquid._VM_ALPHA_B = saved
    lines = [
        "| a | b | mean / max error in units of the bounds | states over |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['a']} | {r['b']} | {r['mean']:.3f} / {r['max']:.3f} | {r['misses']} |"
        for r in results
    ]
    chosen = min((r for r in results if r["misses"] == 0), key=lambda r: r["mean"])
    lines.append(f"\nchosen: a = {chosen['a']}, b = {chosen['b']}")
    return {
        "machine": machine(),
        "n": n,
        "chosen": (chosen["a"], chosen["b"]),
        "tuning_states": ALPHA_TUNING,
        "results": results,
        "table": "\n".join(lines),
    }


def switch_scan(n: int = 2048) -> dict:
    """The default closure's errors at the TUNING states for several switch forms
    w = 1 - exp(-(rho*/rho0)^k): how (rho0, k) = (0.5, 4) was chosen (docs/liquid.md).
    Run, as it was then, with Verlet's constant alpha = 0.8 (alpha(T*) came later)."""
    import teqp

    model = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    params = {"epsilon": 1.0, "sigma": 1.0}
    saved = liquid._SWITCH_RHO, liquid._SWITCH_POWER, liquid._VM_ALPHA_A, liquid._VM_ALPHA_B
    liquid._VM_ALPHA_A, liquid._VM_ALPHA_B = 0.8, 0.0
    results = []
    try:
        for k in (2, 3, 4):
            for rho0 in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
                liquid._SWITCH_RHO, liquid._SWITCH_POWER = rho0, k
                fn = jax.jit(lambda t, rho: liquid.solve(LENNARD_JONES, params, t, rho, "vm", n))
                errors = _bound_units(model, fn, TUNING)
                results.append({"k": k, "rho0": rho0, "mean": errors.mean(), "max": errors.max()})
                print(results[-1], flush=True)
    finally:
        (liquid._SWITCH_RHO, liquid._SWITCH_POWER, liquid._VM_ALPHA_A, liquid._VM_ALPHA_B) = saved
    lines = ["| k | rho0 | mean / max error in units of the bounds |", "| --- | --- | --- |"]
    lines += [f"| {r['k']} | {r['rho0']} | {r['mean']:.3f} / {r['max']:.3f} |" for r in results]
    return {
        "machine": machine(),
        "n": n,
        "tuning_states": TUNING,
        "results": results,
        "table": "\n".join(lines),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 draws, 5 repeats")
    parser.add_argument("--accuracy", action="store_true", help="error table against Thol")
    parser.add_argument(
        "--switch-scan", action="store_true", help="tuning scan of the vm low-density switch"
    )
    parser.add_argument(
        "--alpha-scan", action="store_true", help="tuning scan of the vm alpha(T*)"
    )
    args = parser.parse_args()
    if args.accuracy:
        result, name = accuracy(), "liquid_accuracy.json"
    elif args.alpha_scan:
        result, name = alpha_scan(), "liquid_alpha_scan.json"
    elif args.switch_scan:
        result, name = switch_scan(), "liquid_switch_scan.json"
    else:
        result = speed(args.quick)
        name = "liquid_bench_quick.json" if args.quick else "liquid_bench.json"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(result["table"])
    print(f"\nwritten: {RESULTS / name}")


if __name__ == "__main__":
    main()
