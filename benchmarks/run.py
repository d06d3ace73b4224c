"""Benchmark of bayesff against what a user writes today (scipy quad + emcee).

Usage::

    python benchmarks/run.py              # full run (~8 min on 2 CPU cores)
    python benchmarks/run.py --quick      # smoke run (< 2 min): 300 + 300 draws, emcee
                                          # capped at 20 s, no warm-cache and 5000-draw rows
    python benchmarks/run.py --skip-emcee --out DIR

Part A, calibration of LJ 12-6 argon on B2(T) (``models/argon_lj_b2.toml``):
bayesff ``calibrate`` in a fresh process with an empty JAX compilation cache
(cold: import and compilation counted), the same with the cache filled by that
run (warm), the cold ``bayesff calibrate`` CLI process, and emcee (32 walkers)
on the same posterior with B2 from ``scipy.integrate.quad``, run until its
minimum bulk ESS reaches bayesff's. Part B, forward-model throughput: B2
evaluations per second for 10^4 parameter sets x 25 temperatures, bayesff
(float64 and float32) against a quad loop. Results go to ``OUT/results.json``
and a Markdown summary to ``OUT/summary.md``; ``jax.devices()`` is printed,
so the same command benchmarks a GPU where JAX finds one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# On a GPU, JAX reserves 75 % of its memory per process by default; the
# benchmark runs bayesff in subprocesses while this process holds the device,
# so allocate on demand instead (inherited by the subprocesses).
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import throughput  # noqa: E402

PROBLEM = ROOT / "models" / "argon_lj_b2.toml"


# ------------------------------------------------------------------ machine
def _sh(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict:
    cpu = ""
    for line in _sh(["lscpu"]).splitlines():
        if line.startswith("Model name"):
            cpu = line.split(":", 1)[1].strip()
    if not cpu and Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024**2:.1f} GiB"
    os_name = platform.platform()
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.platform()})"
    from importlib.metadata import PackageNotFoundError, version

    pkgs = {}
    for p in ("bayesff", "jax", "jaxlib", "numpyro", "arviz", "emcee", "scipy", "numpy"):
        try:
            pkgs[p] = version(p)
        except PackageNotFoundError:
            pkgs[p] = "not installed"
    import jax

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": os_name,
        "python": platform.python_version(),
        "packages": pkgs,
        "jax_devices": str(jax.devices()),
        "gpu": _sh(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"]),
    }


def load() -> dict:
    return {"uptime": _sh(["uptime"]), "loadavg": list(os.getloadavg())}


# ------------------------------------------------------------------ Part A
def _subprocess(cmd: list[str], env: dict, log) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        log(p.stdout[-3000:])
        log(p.stderr[-3000:])
        raise RuntimeError(f"{' '.join(cmd)} failed with exit status {p.returncode}")
    return wall, p


def bayesff_calibrate(cache_dir: Path, quick: bool, log, samples: int | None = None) -> dict:
    """``calibrate`` in a fresh process; the cache directory decides cold or warm.

    ``samples`` (with the problem's 1000 warm-up draws) overrides the problem's
    number of draws per chain.
    """
    env = {**os.environ, "BAYESFF_CACHE_DIR": str(cache_dir)}
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "cal.json"
        cmd = [sys.executable, str(HERE / "cold_calibrate.py"), str(out)]
        if quick:
            cmd += ["300", "300"]
        elif samples:
            cmd += ["1000", str(samples)]
        wall, _ = _subprocess(cmd, env, log)
        res = json.loads(out.read_text())
    res["wall_s_process"] = wall
    res["ess_per_s"] = res["min_ess_bulk"] / wall
    return res


def bayesff_cli(quick: bool, log) -> dict:
    """The cold ``bayesff calibrate`` command, wall time from process start."""
    exe = Path(sys.executable).parent / "bayesff"
    exe = str(exe) if exe.exists() else shutil.which("bayesff")
    if exe is None:
        raise RuntimeError("the bayesff command is not installed next to this Python")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as td:
        run_file = Path(td) / "posterior.nc"
        cmd = [exe, "calibrate", str(PROBLEM.relative_to(ROOT)), "--out", str(run_file)]
        cmd += ["--force", "--no-progress"]
        if quick:
            cmd += ["--warmup", "300", "--samples", "300"]
        env = {**os.environ, "BAYESFF_CACHE_DIR": cache}
        wall, p = _subprocess(cmd, env, log)
        import xarray as xr

        from bayesff.inference import diagnose

        with xr.open_datatree(run_file, engine="h5netcdf") as dt:
            diag = diagnose(dt).as_dict()
            wall_attr = float(dt.attrs["wall_time_s"])
        cmd_txt = " ".join(
            ["bayesff", *cmd[1:4], "<tmp>/posterior.nc", *cmd[5:]]
        )  # fmt: skip
    ess = diag["ess_bulk"]
    return {
        "command": cmd_txt,
        "wall_s_process": wall,
        "calibrate_wall_s_recorded": wall_attr,
        "ess_bulk": ess,
        "min_ess_bulk": min(ess.values()),
        "ess_per_s": min(ess.values()) / wall,
        "warnings": diag["warnings"],
        "stdout_tail": p.stdout[-2500:],
    }


def part_a(args, log) -> dict:
    from bayesff.problem import Problem

    res = {}
    with tempfile.TemporaryDirectory(prefix="bayesff-bench-cache-") as cache:
        log("A1. bayesff calibrate, fresh process, empty JAX compilation cache (cold) ...")
        res["bayesff_cold"] = r = bayesff_calibrate(Path(cache), args.quick, log)
        log(
            f"    wall {r['wall_s_process']:.1f} s (in-process {r['wall_s_in_process']:.1f} s, "
            f"import {r['import_s']:.1f} s), min bulk ESS {r['min_ess_bulk']:.0f}, "
            f"ESS/s {r['ess_per_s']:.1f}"
        )
        if not args.quick:
            log("A1'. the same, second process, compile cache filled by the first (warm) ...")
            res["bayesff_warm_cache"] = r = bayesff_calibrate(Path(cache), args.quick, log)
            log(
                f"    wall {r['wall_s_process']:.1f} s, min bulk ESS {r['min_ess_bulk']:.0f}, "
                f"ESS/s {r['ess_per_s']:.1f}"
            )
    if not args.quick:
        with tempfile.TemporaryDirectory(prefix="bayesff-bench-cache-") as cache:
            log("A1b. bayesff calibrate, cold, 5000 draws per chain (compile amortised) ...")
            res["bayesff_cold_5000"] = r = bayesff_calibrate(Path(cache), False, log, 5000)
            log(
                f"    wall {r['wall_s_process']:.1f} s, min bulk ESS {r['min_ess_bulk']:.0f}, "
                f"ESS/s {r['ess_per_s']:.1f}"
            )
    log("A1''. cold CLI process: bayesff calibrate ... (empty compilation cache) ...")
    res["bayesff_cli_cold"] = r = bayesff_cli(args.quick, log)
    log(
        f"    wall {r['wall_s_process']:.1f} s, min bulk ESS {r['min_ess_bulk']:.0f}, "
        f"ESS/s {r['ess_per_s']:.1f}"
    )

    log("A2. baseline: scipy quad B2 checked against bayesff ...")
    res["quad_check"] = baseline.check_against_bayesff()
    problem = Problem.from_toml(PROBLEM)
    _, _, res["log_density_check"], rel = baseline.matching_log_prob(problem)
    res["log_density_check"]["relative_inadequacy_scale"] = rel
    log(
        "    quad vs second_virial max rel diff "
        f"{max(x['rel_diff'] for x in res['quad_check']):.1e}; log density differences vs "
        f"NumPyro agree to {res['log_density_check']['max_abs_diff_of_differences']:.1e} "
        f"(relative inadequacy scale: |{'B2(theta)' if rel == 'model' else 'y'}|)"
    )
    res["training_rows"] = int(problem.targets[0].train.sum())
    if args.skip_emcee:
        return res
    target = res["bayesff_cold"]["min_ess_bulk"]
    cap = 20.0 if args.quick else 900.0
    log(f"A2. emcee, 32 walkers, until min bulk ESS >= {target:.0f} (cap {cap:.0f} s) ...")
    em = baseline.run_emcee(
        problem, target, check_every=50 if args.quick else 200, max_seconds=cap, log=log
    )
    res["emcee"] = em
    res["ratio_ess_per_s"] = {
        k: res[k]["ess_per_s"] / em["ess_per_s"]
        for k in ("bayesff_cold", "bayesff_warm_cache", "bayesff_cold_5000", "bayesff_cli_cold")
        if k in res
    }
    log(
        f"    emcee: {em['wall_s']:.1f} s, min bulk ESS {em['min_ess_bulk']:.0f}, "
        f"ESS/s {em['ess_per_s']:.2f}{' (capped, extrapolated)' if em['capped'] else ''}; "
        f"bayesff/emcee ESS/s (cold) = {res['ratio_ess_per_s']['bayesff_cold']:.1f}x"
    )
    return res


# ------------------------------------------------------------------ Part B
def part_b(args, log) -> dict:
    n_sets = 10_000
    n_quad = 50 if args.quick else 300
    log(f"B. bayesff B2 throughput, {n_sets} parameter sets x 25 temperatures, float64 ...")
    r64 = throughput.bayesff_rate(n_sets)
    b64 = r64.pop("values")
    log(f"    compile {r64['compile_s']:.2f} s, {r64['evals_per_s']:.3g} evaluations/s")
    log(f"B. scipy quad loop, {n_quad} evaluations ...")
    q = throughput.quad_rate(n_quad, n_sets)
    i, j = q.pop("index")
    qv = q.pop("values")
    q["max_rel_diff_vs_bayesff"] = float(np.max(np.abs(qv - b64[i, j]) / np.abs(b64[i, j])))
    log(f"    {q['evals_per_s']:.3g} evaluations/s (agrees to {q['max_rel_diff_vs_bayesff']:.1e})")
    log("B. float32 (subprocess with BAYESFF_X64=0) ...")
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "f32.json"
        env = {**os.environ, "BAYESFF_X64": "0"}
        cmd = [sys.executable, str(HERE / "throughput.py"), str(out), str(n_sets)]
        _subprocess(cmd, env, log)
        r32 = json.loads(out.read_text())
        b32 = np.load(out.with_suffix(".npy"))
    if r32["dtype"] != "float32":
        raise RuntimeError(f"the float32 subprocess computed in {r32['dtype']}")
    r32["errors_vs_float64"] = throughput.float32_errors(b32, b64, n_sets)
    log(
        f"    compile {r32['compile_s']:.2f} s, {r32['evals_per_s']:.3g} evaluations/s; max "
        f"|err|/b0 {r32['errors_vs_float64']['max_abs_err_over_b0']:.1e} (near Boyle "
        f"{r32['errors_vs_float64']['max_abs_err_over_b0_near_boyle']:.1e})"
    )
    return {
        "float64": r64,
        "float32": r32,
        "quad": q,
        "speedup_float64_vs_quad": r64["evals_per_s"] / q["evals_per_s"],
    }


# ------------------------------------------------------------------ summary
def _part_c_md(c: dict) -> list[str]:
    s, m, w = c["second_in_process"], c["calibrate_many_20"], c["sweep_20"]
    return [
        "",
        "### Part C: many calibrations (issue 12)",
        "",
        "| what | wall (s) | detail |",
        "| --- | ---: | --- |",
        f"| second calibration, same process, other data | {s['second_wall_s']:.1f} | "
        f"sampling {s['second_sampling_s']:.1f} s, ratio {s['ratio_second_to_sampling']:.2f}; "
        f"kernel cache hit: {s['kernel_cache_hit']} |",
        f"| 20 bootstrap problems, `calibrate_many` | {m['wall_s']:.1f} | worst R-hat "
        f"{m['max_rhat']:.3f}; {m['ess_per_s']:.0f} ESS/s (summed min bulk ESS / wall)"
        + (
            f", {m['ratio_ess_per_s_to_emcee']:.0f}x emcee"
            if "ratio_ess_per_s_to_emcee" in m
            else ""
        )
        + " |",
        f"| the same 20, `bayesff sweep`, 2-worker LocalCluster | {w['wall_s']:.1f} | "
        f"{w['done']}/{w['tasks']} done, worst R-hat {w['max_rhat']}; {w['ess_per_s']:.0f} "
        f"ESS/s; re-run with nothing changed {w['rerun_all_skipped_s']:.1f} s |",
    ]


def summary_md(res: dict) -> str:
    L = []
    m = res["machine"]
    L.append(f"Run {res['created_utc']}, command `{res['command']}`")
    L.append("")
    L.append(f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory']}; {m['os']}")
    L.append(f"- GPU: {m['gpu'] or 'none'}; jax.devices(): {m['jax_devices']}")
    L.append(f"- Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()))
    L.append(f"- load before: `{res['load_before']['uptime']}`")
    L.append(f"- load after: `{res['load_after']['uptime']}`")
    if res.get("part_c"):
        L += _part_c_md(res["part_c"])
    a = res.get("part_a")
    if a:
        L += ["", "### Part A: calibration (LJ argon on B2, same posterior)", ""]
        L.append("| run | wall (s) | min bulk ESS | ESS/s | ratio to emcee |")
        L.append("| --- | ---: | ---: | ---: | ---: |")
        ratio = a.get("ratio_ess_per_s", {})
        rows = [
            ("bayesff `calibrate`, fresh process, empty compile cache", "bayesff_cold"),
            ("bayesff `calibrate`, fresh process, compile cache warm", "bayesff_warm_cache"),
            ("bayesff `calibrate`, cold, 1000 + 5000 draws per chain", "bayesff_cold_5000"),
            ("`bayesff calibrate` CLI, cold process", "bayesff_cli_cold"),
        ]
        for label, k in rows:
            if k not in a:
                continue
            r = a[k]
            rt = f"{ratio[k]:.1f}x" if k in ratio else "-"
            L.append(
                f"| {label} | {r['wall_s_process']:.1f} | {r['min_ess_bulk']:.0f} | "
                f"{r['ess_per_s']:.1f} | {rt} |"
            )
        if "emcee" in a:
            e = a["emcee"]
            note = " (capped; ESS/s extrapolated)" if e["capped"] else ""
            L.append(
                f"| emcee 32 walkers + scipy quad{note} | {e['wall_s']:.1f} | "
                f"{e['min_ess_bulk']:.0f} | {e['ess_per_s']:.2f} | 1x |"
            )
            L += [
                "",
                f"emcee: {e['steps']} steps x {e['walkers']} walkers, burn-in {e['burn_in']} "
                f"steps, integrated autocorrelation times "
                + ", ".join(f"{k} {v:.1f}" for k, v in e["autocorr_time"].items())
                + f", acceptance {e['acceptance_fraction']:.2f}, "
                f"{1e3 * e['s_per_log_prob']:.2f} ms per log density "
                f"({a['training_rows']} quad B2 evaluations).",
            ]
        c = a["bayesff_cold"]
        if "bayesff_cold_5000" in a and "emcee" in a:
            c5 = a["bayesff_cold_5000"]
            extra = (c5["min_ess_bulk"] - c["min_ess_bulk"]) / (
                c5["wall_s_process"] - c["wall_s_process"]
            )
            L += [
                "",
                f"Marginal bayesff rate (extra ESS over extra wall time, 1000 + 5000 vs "
                f"1000 + 1000 draws): {extra:.0f} ESS/s, {extra / a['emcee']['ess_per_s']:.0f}x "
                "emcee: the rest of bayesff's wall time is a fixed cost (tracing, compilation, "
                "post-processing).",
            ]
        L += [
            "",
            f"bayesff cold: {c['chains']} chains x ({c['warmup']} + {c['samples']}), "
            f"import {c['import_s']:.1f} s, calibrate {c['calibrate_s']:.1f} s (sampling incl. "
            f"compile {c['calibrate_timings']['sampling_s']:.1f} s, post-processing "
            f"{c['calibrate_timings']['postprocess_s']:.1f} s); ESS bulk "
            + ", ".join(f"{k} {v:.0f}" for k, v in c["ess_bulk"].items()),
        ]
        L += [
            "",
            "| posterior mean (sd) | " + " | ".join(c["posterior_mean"]) + " |",
            "| --- |" + " ---: |" * len(c["posterior_mean"]),
            "| bayesff | "
            + " | ".join(
                f"{c['posterior_mean'][k]:.4g} ({c['posterior_sd'][k]:.2g})"
                for k in c["posterior_mean"]
            )
            + " |",
        ]
        if "emcee" in a:
            e = a["emcee"]
            L.append(
                "| emcee | "
                + " | ".join(
                    f"{e['posterior_mean'][k]:.4g} ({e['posterior_sd'][k]:.2g})"
                    for k in c["posterior_mean"]
                )
                + " |"
            )
    b = res.get("part_b")
    if b:
        f64, f32, q = b["float64"], b["float32"], b["quad"]
        L += ["", "### Part B: B2 throughput (10^4 parameter sets x 25 temperatures)", ""]
        L.append("| method | compile (s) | best of 3 (s) | evaluations/s |")
        L.append("| --- | ---: | ---: | ---: |")
        L.append(
            f"| bayesff jit(vmap), float64 | {f64['compile_s']:.2f} | {f64['best_s']:.4f} | "
            f"{f64['evals_per_s']:.3g} |"
        )
        L.append(
            f"| bayesff jit(vmap), float32 | {f32['compile_s']:.2f} | {f32['best_s']:.4f} | "
            f"{f32['evals_per_s']:.3g} |"
        )
        L.append(
            f"| scipy quad loop ({q['n_evaluations_timed']} evaluations timed, extrapolated) | "
            f"- | {q['extrapolated_s_for_full_grid']:.1f} (extrapolated) | "
            f"{q['evals_per_s']:.3g} |"
        )
        er = f32["errors_vs_float64"]
        L += [
            "",
            f"float64 / quad: {b['speedup_float64_vs_quad']:.0f}x; quad agrees with bayesff to "
            f"{q['max_rel_diff_vs_bayesff']:.1e} relative.",
            "",
            "float32 vs float64 over the same 250,000 values (b0 = 2 pi N_A sigma^3 / 3):",
            "",
            "| error | value |",
            "| --- | ---: |",
            f"| max abs error / b0, all | {er['max_abs_err_over_b0']:.2e} |",
            f"| max abs error / b0, near Boyle (T* within 15 % of 3.418, "
            f"{er['n_near_boyle']} values) | {er['max_abs_err_over_b0_near_boyle']:.2e} |",
            f"| max relative error, all (diverges where B2 -> 0) | {er['max_rel_err']:.2e} |",
            f"| max relative error where abs(B2) >= 0.1 b0 | "
            f"{er['max_rel_err_where_abs_B2_ge_0.1_b0']:.2e} |",
            f"| median relative error | {er['median_rel_err']:.2e} |",
            f"| max abs error (cm^3/mol) | {er['max_abs_err_cm3_per_mol']:.2e} |",
        ]
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run (< 2 min)")
    ap.add_argument("--out", default=str(HERE / "out"), help="output folder")
    ap.add_argument("--skip-emcee", action="store_true", help="no emcee baseline run")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(*a):
        print(*a, flush=True)

    t0 = time.perf_counter()
    import jax

    from bayesff.runtime import configure

    configure()  # float64 in this process

    log(f"jax.devices(): {jax.devices()}")
    res = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "machine": machine(),
        "load_before": load(),
    }
    log(f"load: {res['load_before']['uptime']}")
    res["part_a"] = part_a(args, log)
    if not args.quick:
        import many

        log("C. many calibrations (issue 12): reuse, calibrate_many, sweep ...")
        res["part_c"] = {
            "second_in_process": many.second_in_process(log),
            "calibrate_many_20": many.many_in_process(log),
            "sweep_20": many.many_in_sweep(log),
        }
        em = res["part_a"].get("emcee")
        if em:
            for k in ("calibrate_many_20", "sweep_20"):
                res["part_c"][k]["ratio_ess_per_s_to_emcee"] = (
                    res["part_c"][k]["ess_per_s"] / em["ess_per_s"]
                )
    res["part_b"] = part_b(args, log)
    res["load_after"] = load()
    res["total_wall_s"] = time.perf_counter() - t0
    log(f"load: {res['load_after']['uptime']}; total {res['total_wall_s']:.0f} s")
    (out / "results.json").write_text(json.dumps(res, indent=1, default=_json_default))
    md = summary_md(res)
    (out / "summary.md").write_text(md)
    log("")
    log(md)
    log(f"written {out / 'results.json'} and {out / 'summary.md'}")
    return 0


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


if __name__ == "__main__":
    raise SystemExit(main())
