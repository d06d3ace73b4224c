"""How often equilibration detection misfires on series that have no transient.

Run from the repository root (writes ``benchmarks/results/equilibration_detection.json``)::

    python benchmarks/equilibration_detection.py [--series 200] [--seed 1]

For stationary AR(1) series (unit variance, the start drawn from the stationary law: no
transient at all) of N samples with correlation time tau (phi = exp(-1 / tau)), the
fraction of series in which

* pymbar's ``detect_equilibration`` (its defaults: every start searched) leaves fewer
  than 20 samples after the detected start (what made bayesff's MD workflow extend or
  refuse such runs before 2026-11-28), and
* :func:`bayesff.simulate.timeseries.equilibration` (starts up to (N - 1)/2) puts the
  start at its bound (``at_bound``: what makes the workflow continue a run once).

Then the same for series that relax in as 3 exp(-t / (0.4 N)) (a transient that lasts the
whole run): the bound's rate there says how much it tells drift from noise. The figures
are quoted in docs/molecular.md and bayesff/simulate/timeseries.py.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np

from bayesff.simulate.timeseries import equilibration

CASES = ((120, 10.0), (120, 30.0), (360, 30.0), (360, 60.0))


def ar1(n: int, tau: float, rng) -> np.ndarray:
    phi = math.exp(-1.0 / tau)
    x = np.empty(n)
    x[0] = rng.normal()
    e = rng.normal(size=n) * math.sqrt(1.0 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/results/equilibration_detection.json")
    args = ap.parse_args(argv)
    from pymbar import timeseries as ts  # deferred: pymbar switches JAX to float64

    warnings.filterwarnings("ignore")  # pymbar's warning on every call
    rng = np.random.default_rng(args.seed)
    rows = []
    for n, tau in CASES:
        late = bound = drift_bound = 0
        for _ in range(args.series):
            x = ar1(n, tau, rng)
            late += n - int(ts.detect_equilibration(x)[0]) < 20
            bound += equilibration(x).at_bound
            y = ar1(n, tau, rng) + 3.0 * np.exp(-np.arange(n) / (0.4 * n))
            drift_bound += equilibration(y).at_bound
        row = {
            "N": n,
            "tau": tau,
            "pymbar_fewer_than_20_left": late / args.series,
            "bounded_at_bound_stationary": bound / args.series,
            "bounded_at_bound_drifting": drift_bound / args.series,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {"series_per_case": args.series, "seed": args.seed, "cases": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
