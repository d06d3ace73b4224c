"""One task of a sweep file sampled with ``sampler = "tempered"``, by the Python API.

The task's problem is the sweep's, with its ``[inference]`` warm-up and draws replaced and
the sampler set to parallel tempering (4 replicas to T = 10 unless given), sampled in this
process with a progress bar on all of the machine's devices, its run file written to
``--out``. Used to time the tempered sampler on a CPU and a GPU at the same settings
(benchmarks/RESULTS.md, "Parallel tempering on a GPU"); the figures of the run file are
printed by benchmarks/run_diagnostics.py.

    python benchmarks/tempered_task.py oxygen-lj-B2_VLE --warmup 300 --samples 300 \
        --out /tmp/probe/oxygen.nc [--sweep models/atlas/atlas.toml]
"""

from __future__ import annotations

import argparse
import time

import bayesff
from bayesff.sweep import _problem, expand


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", help="the task's name, e.g. oxygen-lj-B2_VLE")
    ap.add_argument("--sweep", default="models/atlas/atlas.toml")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--temperatures", type=int, default=4)
    ap.add_argument("--max-temperature", type=float, default=10.0)
    ap.add_argument("--out", required=True, help="run file to write (replaced)")
    args = ap.parse_args(argv)
    bayesff.configure()
    _, tasks = expand(args.sweep)
    by_name = {t.name: t for t in tasks}
    if args.task not in by_name:
        ap.error(f"no task {args.task!r} in {args.sweep}; tasks: {', '.join(sorted(by_name))}")
    task = by_name[args.task]
    task.document.setdefault("inference", {}).update(
        warmup=args.warmup,
        samples=args.samples,
        sampler="tempered",
        temperatures=args.temperatures,
        max_temperature=args.max_temperature,
    )
    t0 = time.perf_counter()
    bayesff.calibrate(_problem(task), out=args.out, progress=True, force=True)
    print(f"wall {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
