"""Many calibrations: compiled-sampler reuse, batches and sweeps (issue 12 item 5).

Run by ``benchmarks/run.py`` (part C); alone: ``python benchmarks/many.py OUT.json``.

C1. second calibration in the same process: ``calibrate`` on the argon LJ B2
    problem, then again on B2 values scaled by 1.01 (other data, same structure):
    wall time of the second against its own sampling time.
C2. 20 same-structure problems in one process with ``calibrate_many``: 20
    bootstrap resamples (rows drawn with replacement, seeded) of the argon B2
    training rows, one batched program; R-hat of each.
C2b. ``calibrate_many`` on C3's own problems (the data files below, duplicate rows
    dropped by the loader, so 14-20 training rows each): the like-for-like reference
    for C3, since each distinct row count is its own compiled sampler.
C3. the same 20 problems with ``bayesff sweep`` on a 2-worker LocalCluster: the
    bootstrap sets written as data files (synthetic, with a manifest made here,
    in a temporary folder) and a sweep file whose axis sets each task's data.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROBLEM = ROOT / "models" / "argon_lj_b2.toml"
N_BOOT = 20


def _diag_row(run) -> dict:
    d = run.diagnostics
    return {
        "min_ess_bulk": min(d.ess_bulk.values()),
        "max_rhat": max(d.rhat.values()),
        "divergences": d.divergences,
    }


def second_in_process(log) -> dict:
    """C1: the second calibration of the same structure, other data values."""
    from bayesff.inference import cache_info, calibrate
    from bayesff.problem import Problem

    p = Problem.from_toml(PROBLEM)
    t0 = time.perf_counter()
    first = calibrate(p, progress=False, log=None)
    t_first = time.perf_counter() - t0
    q = Problem.from_toml(PROBLEM)
    q = q.with_target(q.targets[0].replace(values=q.targets[0].values * 1.01))
    hits = cache_info()["hits"]
    t0 = time.perf_counter()
    second = calibrate(q, progress=False, log=None, seed=1)
    t_second = time.perf_counter() - t0
    res = {
        "first_wall_s": t_first,
        "second_wall_s": t_second,
        "second_sampling_s": second.timings["sampling_s"],
        "second_postprocess_s": second.timings["postprocess_s"],
        "ratio_second_to_sampling": t_second / second.timings["sampling_s"],
        "kernel_cache_hit": cache_info()["hits"] == hits + 1,
        "first": _diag_row(first),
        "second": {
            **_diag_row(second),
            "ess_per_s": min(second.diagnostics.ess_bulk.values()) / t_second,
        },
    }
    log(
        f"    first {t_first:.1f} s; second {t_second:.1f} s (sampling "
        f"{res['second_sampling_s']:.1f} s, ratio {res['ratio_second_to_sampling']:.2f}); "
        f"cache hit {res['kernel_cache_hit']}"
    )
    return res


def bootstrap_rows(n_train: int, seed: int = 2026) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.sort(rng.integers(0, n_train, n_train)) for _ in range(N_BOOT)]


def bootstrap_problems():
    """20 problems: the argon LJ B2 problem with its training rows resampled."""
    from bayesff.problem import Problem

    base = Problem.from_toml(PROBLEM)
    tr = np.flatnonzero(base.targets[0].train)
    out = []
    for k, idx in enumerate(bootstrap_rows(tr.size)):
        p = Problem.from_toml(PROBLEM)
        t = p.targets[0]
        rows = tr[idx]
        values, unc = t.values.copy(), t.uncertainties.copy()
        values[tr], unc[tr] = t.values[rows], t.uncertainties[rows]
        env = {c: v.copy() for c, v in t.env.items()}
        for c in env:
            env[c][tr] = t.env[c][rows]
        t = t.replace(values=values, uncertainties=unc, env=env)
        p = p.with_target(t).replace(name=f"boot{k:02d}", inference=p.inference.replace(seed=k))
        out.append(p)
    return out


def many_in_process(log) -> dict:
    """C2: 20 bootstrap problems, one batched program."""
    from bayesff.inference import calibrate_many

    problems = bootstrap_problems()
    t0 = time.perf_counter()
    runs = calibrate_many(problems, progress=False, log=None)
    wall = time.perf_counter() - t0
    rows = [_diag_row(r) for r in runs]
    ess = sum(r["min_ess_bulk"] for r in rows)
    res = {
        "problems": len(runs),
        "wall_s": wall,
        "sampling_s": runs[0].timings["sampling_s"],
        "max_rhat": max(r["max_rhat"] for r in rows),
        "all_rhat_ok": all(r["max_rhat"] <= 1.01 for r in rows),
        "sum_min_ess_bulk": ess,
        "ess_per_s": ess / wall,
        "runs": rows,
        "epsilon_means_K": [float(r.datatree["posterior"]["epsilon"].mean()) for r in runs],
    }
    log(
        f"    {len(runs)} problems in {wall:.1f} s (sampling {res['sampling_s']:.1f} s), worst "
        f"R-hat {res['max_rhat']:.3f}, summed min bulk ESS {ess:.0f} ({res['ess_per_s']:.0f}/s)"
    )
    return res


def _write_sweep(folder: Path) -> Path:
    """Bootstrap data files with a manifest (synthetic) and a sweep over them."""
    from bayesff.problem import Problem

    base = Problem.from_toml(PROBLEM)
    t = base.targets[0]
    tr = np.flatnonzero(t.train)
    header = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n"
    data = folder / "data"
    data.mkdir()
    entries = []
    for k, idx in enumerate(bootstrap_rows(tr.size)):
        rows = list(tr[idx]) + list(np.flatnonzero(~t.train))
        # rows drawn twice are the same measurement: keep one copy plus a tiny shift in T
        # would invent data, so duplicates are dropped by the loader (duplicates = "drop")
        lines = [
            f"{t.env['T_K'][i]:.10g},{t.values[i]:.12g},{t.uncertainties[i]:.6g}\n" for i in rows
        ]
        f = data / f"b2_{k:02d}.csv"
        f.write_text(header + "".join(lines))
        sha = hashlib.sha256(f.read_bytes()).hexdigest()
        entries.append(
            f'[[files]]\npath = "{f.name}"\nkind = "synthetic"\ntitle = "bootstrap {k}"\n'
            f'source = "SYNTHETIC: a bootstrap resample (seed 2026) of data/argon/b2.csv '
            f'written by benchmarks/many.py"\nlicence = "MIT"\n'
            f'script = "benchmarks/many.py"\nsha256 = "{sha}"\n[files.units]\n'
            f'T_K = "K"\nB2_cm3_per_mol = "cm^3/mol"\nu_B2_cm3_per_mol = "cm^3/mol"\n'
        )
    (data / "manifest.toml").write_text("\n".join(entries))
    values = ", ".join(
        f'{{ label = "b{k:02d}", set = {{ inference = {{ seed = {k} }}, targets = {{ B2 = '
        f'{{ data = "{data / f"b2_{k:02d}.csv"}", duplicates = "drop" }} }} }} }}'
        for k in range(N_BOOT)
    )
    sweep = folder / "boot.toml"
    sweep.write_text(
        f'[sweep]\nname = "boot"\nbase = "{PROBLEM}"\nreport = false\n\n'
        f'[[axes]]\nname = "resample"\nvalues = [{values}]\n'
    )
    return sweep


def many_sweep_problems(log) -> dict:
    """C2b: ``calibrate_many`` on the sweep's own 20 problems (C3's data files, duplicates
    dropped), so that C3 is compared with the same problems. Dropping a resample's
    duplicate rows leaves 14-20 training rows: one compiled sampler per row count."""
    from bayesff.inference import calibrate_many
    from bayesff.sweep import _prepare, expand

    with tempfile.TemporaryDirectory(prefix="bayesff-bench-many-") as td:
        _, tasks = expand(_write_sweep(Path(td)), Path(td) / "runs")
        built: dict = {}
        _prepare(tasks, lambda *a, **k: None, built)
        problems = [built[t.name] for t in tasks]
    rows = sorted({int(p.targets[0].train.sum()) for p in problems})
    t0 = time.perf_counter()
    runs = calibrate_many(problems, progress=False, log=None)
    wall = time.perf_counter() - t0
    res = {
        "problems": len(runs),
        "distinct_training_row_counts": rows,
        "wall_s": wall,
        "max_rhat": max(_diag_row(r)["max_rhat"] for r in runs),
    }
    log(f"    {len(runs)} problems ({len(rows)} training row counts) in {wall:.1f} s")
    return res


def many_in_sweep(log) -> dict:
    """C3: the 20 bootstrap sets through ``bayesff sweep`` on 2 LocalCluster workers."""
    from bayesff.sweep import run_sweep

    with tempfile.TemporaryDirectory(prefix="bayesff-bench-sweep-") as td:
        sweep = _write_sweep(Path(td))
        t0 = time.perf_counter()
        res = run_sweep(
            sweep,
            out_root=Path(td) / "runs",
            report_root=Path(td) / "reports",
            workers=2,
            log=None,
            progress=False,
        )
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = run_sweep(
            sweep,
            out_root=Path(td) / "runs",
            report_root=Path(td) / "reports",
            workers=2,
            log=None,
            progress=False,
        )
        wall_again = time.perf_counter() - t1
        rows = getattr(res, "rows", [])
    ok = [r for r in rows if r.get("status") == "done"]
    ess = sum(float(r["ess_bulk_min"]) for r in ok)
    out = {
        "tasks": len(rows),
        "done": len(ok),
        "wall_s": wall,
        "rerun_all_skipped_s": wall_again,
        "rerun_skipped": sum(s == "skipped" for s in again.status.values()),
        "max_rhat": max(float(r["rhat_max"]) for r in ok) if ok else None,
        "sum_min_ess_bulk": ess,
        "ess_per_s": ess / wall,
    }
    log(
        f"    {len(ok)}/{len(rows)} tasks in {wall:.1f} s ({out['ess_per_s']:.0f} ESS/s), "
        f"worst R-hat {out['max_rhat']}; re-run with nothing changed {wall_again:.1f} s"
    )
    return out


def main(argv: list[str]) -> int:
    from bayesff.runtime import configure

    configure()
    log = print
    res = {}
    log("C1. second calibration of the same structure in one process ...")
    res["second_in_process"] = second_in_process(log)
    log("C2. 20 bootstrap problems with calibrate_many ...")
    res["calibrate_many_20"] = many_in_process(log)
    log("C2b. calibrate_many on the sweep's own 20 problems (duplicates dropped) ...")
    res["calibrate_many_sweep_problems_20"] = many_sweep_problems(log)
    log("C3. the same 20 with bayesff sweep on a 2-worker LocalCluster ...")
    res["sweep_20"] = many_in_sweep(log)
    if argv:
        Path(argv[0]).write_text(json.dumps(res, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
