"""Run-file write and read: the netCDF4 library (bayesff's engine) against h5netcdf.

A real run file (argon B2, LJ 12-6, 2 chains of 200 + 200 draws: 12 groups) is made by a
calibration, then serialised and read back with each engine, ``--repeat`` times each;
the median of each and the ratio against h5netcdf (the engine bayesff used before, the
baseline of the same run) are printed. Needs h5netcdf (a test dependency).

    python benchmarks/runfile_io.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import xarray as xr

import bayesff
from bayesff import runfile

ROOT = Path(__file__).resolve().parents[1]


def _median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    bayesff.configure()
    problem = bayesff.load_problem(ROOT / "models" / "argon_lj_b2.toml")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "posterior.nc"
        bayesff.calibrate(
            problem, out=out, chains=2, warmup=200, samples=200, progress=False, log=None
        )
        dt = runfile.read(out)
        groups = len(list(dt.subtree))
        variables = sum(len(n.ds.variables) for n in dt.subtree)
        print(f"run file: {groups} groups, {variables} variables, {out.stat().st_size} bytes")
        rows = []
        for engine in ("h5netcdf", "netcdf4"):
            path = Path(tmp) / f"{engine}.nc"
            path.write_bytes(bytes(dt.to_netcdf(engine=engine)))
            write = _median_s(lambda e=engine: dt.to_netcdf(engine=e), args.repeat)
            read = _median_s(
                lambda e=engine, p=path: xr.open_datatree(p, engine=e).load(), args.repeat
            )
            rows.append((engine, write, read))
    base_w, base_r = rows[0][1], rows[0][2]
    print("| engine | write (s) | read (s) | write vs h5netcdf | read vs h5netcdf |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for engine, w, r in rows:
        print(f"| {engine} | {w:.3f} | {r:.3f} | {base_w / w:.1f}x | {base_r / r:.1f}x |")


if __name__ == "__main__":
    main()
