"""Numerical accuracy of the atlas's cheap settings (docs/atlas.md, "Numerical settings").

1. The dense-fluid grid of models/atlas/lj.toml (256 points at sigma/50) against a fine
   one (4096 points at sigma/100) for LJ argon (the LJ proxy of data/atlas/fluids.csv,
   epsilon/k = 119.8 K, sigma = 3.385 angstrom) at the 24 states of
   data/atlas/liquid_argon.csv: largest |difference| of p (MPa) and E_res (kJ/mol).
2. The B2 of models/atlas/2cljq.toml (the table of bayesff.observables.two_centre_table,
   options = { method = "table" }) against the orientational quadrature at
   (nodes_per_panel, n_cos, n_phi) = (24, 48, 48), the table's own settings, for three
   2CLJQ parameter sets at the atlas's prior medians (N2-like, ethane-like, CO2-like) over
   0.5-4 Tc: largest absolute difference of B2, and largest relative one away from B2's
   zero crossing.

Run: PYTHONPATH=. python scripts/atlas_accuracy.py   (a minute or two on one core)
"""

from __future__ import annotations

import numpy as np

from bayesff.problem import Problem
from bayesff.targets import Forward, freeze


def _predict(problem, target, params, **options):
    opts = {**target.options, **options}
    fwd = Forward(target.observable.build, problem.potential, freeze(opts), opts)
    f = fwd.build()
    return np.asarray(f(params, target.env))


def _fwd(t, problem, opts):
    return Forward(t.observable.build, problem.potential, freeze(opts), opts)


def grid() -> None:
    problem = Problem.from_toml("models/atlas/lj.toml")
    params = {
        "epsilon": problem.to_internal("epsilon", 119.8),
        "sigma": problem.to_internal("sigma", 3.385),
    }
    for t in problem.targets:
        if t.name not in ("p", "E_res"):
            continue
        coarse = _predict(problem, t, params, n=256, dr=3.385 / 50)
        fine = _predict(problem, t, params, n=4096, dr=3.385 / 100)
        ok = np.isfinite(coarse) & np.isfinite(fine)
        print(
            f"{t.name}: max |coarse - fine| = {np.max(np.abs(coarse - fine)[ok]):.3g} "
            f"(MPa for p, kJ/mol for E_res) over {ok.sum()} of {ok.size} states "
            f"(values {np.nanmin(fine):.3g} .. {np.nanmax(fine):.3g})"
        )


def quadrature() -> None:
    problem = Problem.from_toml("models/atlas/2cljq.toml")
    t = next(x for x in problem.targets if x.name == "B2")
    sets = {  # (epsilon K, sigma A, L A, Q B, Tc K): the atlas's prior medians
        "N2-like": (45.1, 3.124, 1.09768, 1.5, 126.192),
        "ethane-like": (109.0, 3.678, 1.535, 0.8, 305.322),
        "CO2-like": (108.6, 3.178, 2.32, 4.3, 304.128),
    }
    for name, (eps, sig, L, Q, tc) in sets.items():
        params = {
            "epsilon": problem.to_internal("epsilon", eps),
            "sigma": problem.to_internal("sigma", sig),
            "L": problem.to_internal("L", L),
            "Q": problem.to_internal("Q", Q),
        }
        temps = np.linspace(0.5, 4.0, 30) * tc
        env = {t.observable.env_columns[0]: temps}
        lo = np.asarray(_fwd(t, problem, dict(t.options)).build()(params, env))
        hi = np.asarray(
            _fwd(t, problem, {"nodes_per_panel": 24, "n_cos": 48, "n_phi": 48}).build()(
                params, env
            )
        )
        diff = np.abs(lo - hi)
        big = np.abs(hi) > 10.0  # relative error where B2 is not near its zero crossing
        print(
            f"{name}: max |difference| {diff.max():.2g} cm^3/mol (at T = "
            f"{temps[int(np.argmax(diff))]:.1f} K); max relative difference where "
            f"|B2| > 10 cm^3/mol {np.max(diff[big] / np.abs(hi[big])):.2g}"
        )


if __name__ == "__main__":
    from bayesff.runtime import ensure_configured

    ensure_configured()  # float64, as in a calibration
    quadrature()
    grid()
