"""Time ``bayesff.calibrate`` in a fresh process, JAX import and compilation included.

Usage: ``python benchmarks/cold_calibrate.py OUT.json [WARMUP SAMPLES]``.
``run.py`` starts it with ``BAYESFF_CACHE_DIR`` pointing at an empty temporary
directory, so JAX's persistent compilation cache holds nothing and every
function is compiled in this process (a true cold start).
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    warmup = int(argv[1]) if len(argv) > 1 else None
    samples = int(argv[2]) if len(argv) > 2 else None
    t_import0 = time.perf_counter()
    import jax

    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    t_import = time.perf_counter() - t_import0
    problem = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    t0 = time.perf_counter()
    run = calibrate(problem, progress=False, log=None, warmup=warmup, samples=samples)
    t_cal = time.perf_counter() - t0
    t_total = time.perf_counter() - T_START
    d = run.diagnostics
    res = {
        "wall_s_in_process": t_total,
        "import_s": t_import,
        "calibrate_s": t_cal,
        "calibrate_timings": run.timings,
        "ess_bulk": d.ess_bulk,
        "ess_tail": d.ess_tail,
        "rhat": d.rhat,
        "divergences": d.divergences,
        "warnings": d.warnings,
        "min_ess_bulk": min(d.ess_bulk.values()),
        "chains": int(run.datatree.attrs["chains"]),
        "warmup": int(run.datatree.attrs["warmup"]),
        "samples": int(run.datatree.attrs["samples"]),
        "device": str(jax.devices()),
        "jax_compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        "posterior_mean": {
            n: float(run.datatree["posterior"][n].mean()) for n in run.datatree["posterior"]
        },
        "posterior_sd": {
            n: float(run.datatree["posterior"][n].std()) for n in run.datatree["posterior"]
        },
    }
    out.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
