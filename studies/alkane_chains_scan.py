"""How far is one transferable Mie chain from the n-alkanes? (issue 30; docs/chains.md)

Run from the repository root::

    python -m studies.alkane_chains_scan          # the grid below
    python -m studies.alkane_chains_scan --fit    # least-squares fits (below)
    python -m studies.alkane_chains_scan --ridge  # model (b)'s ridge in (epsilon, n)

For a grid of segment epsilon/k (K) and sigma (angstrom) at n = 12, m = 6, with the
segment rule m_s = 1 + (C - 1)/3, the SAFT-VR Mie saturated liquid density and vapour
pressure of methane to n-octane at their reference rows between 0.5 and 0.9 Tc
(data/alkanes/, CoolProp) and the RMS relative error over all of them; NaN rows (T
above the model's Tc, or outside the EOS's range) are counted. This is the misfit that
model (b12) of models/alkane_chains has to absorb in its inferred scales.

``--fit``: the least-squares optimum (scipy ``least_squares``, residuals the relative
error of rho_l and the error of ln p_sat at the same rows, C1-C8) of three transferable
models: (b12) the rule above with n = 12; (b) the rule with n free; (b-lin) n free and a
linear segment rule m_s = a + b (C - 1) with a and b fitted. It prints each optimum and
its RMS errors, and writes them to reports/alkane_chains/segment_rule_fit.json: the
misfit each model leaves for its inferred scales, and the rule model (b) could use.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import bayesff
from bayesff.observables.vle import fluid_eos_of, vle_predictions
from bayesff.potentials import vdw_alpha
from studies.alkane_chains import MOLECULES as CHAIN_MOLECULES

ROOT = Path(__file__).resolve().parent.parent
#: the trained molecules of model (b12): methane to n-octane
MOLECULES = tuple((m, c) for m, c in CHAIN_MOLECULES if c <= 8)
#: k_B in kJ/(mol K): epsilon/k (K) -> the package's epsilon (kJ/mol)
R_KJ = 0.0083144626


def _rows(name: str):
    with open(ROOT / "data" / "alkanes" / f"saturation_{name}.csv") as f:
        rows = [r for r in csv.DictReader(f) if 0.5 <= float(r["T_over_Tc"]) <= 0.9]
    return (
        np.array([float(r["T_K"]) for r in rows]),
        np.array([float(r["rho_l_mol_per_L"]) for r in rows]),
        np.array([float(r["p_sat_MPa"]) for r in rows]),
    )


def _stacked():
    """The C1-C8 rows at 0.5-0.9 Tc, one row of arrays per molecule padded to the same
    length (the last row repeated): carbons, T (K), rho_l (mol/L), p_sat (MPa), and the
    mask of real rows."""
    data = [(c, *_rows(name)) for name, c in MOLECULES]
    width = max(len(t) for _, t, _, _ in data)

    def pad(x):
        return np.concatenate([x, np.full(width - len(x), x[-1])])

    carbons = np.array([c for c, *_ in data], float)
    T = jnp.asarray(np.stack([pad(t) for _, t, _, _ in data]))
    rho = np.stack([pad(r) for _, _, r, _ in data])
    p_sat = np.stack([pad(q) for _, _, _, q in data])
    real = np.stack([np.arange(width) < len(t) for _, t, _, _ in data])
    return carbons, T, rho, p_sat, real


def _ridge() -> list[dict]:
    """Model (b)'s ridge (docs/chains.md): at each fixed n, the least-squares epsilon and
    sigma (segments 1 + (C - 1)/3; residuals the relative error of rho_l over 0.041 and
    the error of ln p_sat over 0.62, the posterior's inferred scales), and alpha(n, 6)
    epsilon, the van der Waals energy that model (b) samples."""
    from scipy.optimize import least_squares

    bayesff.configure()
    fluid = fluid_eos_of(bayesff.get_potential("mie_chain"))
    carbons, T, rho, p_sat, real = _stacked()
    seg = jnp.asarray(1.0 + (carbons - 1.0) / 3.0)

    @jax.jit
    def predict(eps_k, sigma, n):
        def one(s, t):
            p = {"epsilon": eps_k * R_KJ, "sigma": sigma, "n": n, "m": 6.0, "segments": s}
            v = vle_predictions(fluid, p, t)
            return v.rho_l, v.p_sat

        return jax.vmap(one)(seg, T)

    def residuals(x, n):
        r, q = (np.asarray(v) for v in predict(x[0], x[1], n))
        e = np.concatenate([(r / rho - 1)[real] / 0.041, np.log(q / p_sat)[real] / 0.62])
        return np.where(np.isfinite(e), e, 30.0)  # a NaN row weighs as a large miss

    out, x = [], np.array([187.0, 3.968])  # model (b)'s posterior mean as the first start
    for n in (6.6, 7.0, 7.5, 8.0, 8.5, 9.0, 10.0, 12.0):
        x = least_squares(residuals, x, args=(n,), diff_step=1e-6, x_scale="jac").x
        out.append(
            {
                "n": n,
                "epsilon_K": float(x[0]),
                "sigma_A": float(x[1]),
                "epsilon_vdw_K": float(x[0] * vdw_alpha(n, 6.0)),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def _fit() -> dict:
    """Least-squares fits of (b12), (b) and (b-lin) (module docstring)."""
    from scipy.optimize import least_squares

    bayesff.configure()
    fluid = fluid_eos_of(bayesff.get_potential("mie_chain"))
    carbons, T, rho, p_sat, real = _stacked()

    @jax.jit
    def predict(eps_k, sigma, n, seg):
        def one(s, t):
            v = vle_predictions(
                fluid,
                {"epsilon": eps_k * R_KJ, "sigma": sigma, "n": n, "m": 6.0, "segments": s},
                t,
            )
            return v.rho_l, v.p_sat

        return jax.vmap(one)(seg, T)

    def residuals_raw(eps_k, sigma, n, a, b):
        seg = jnp.asarray(np.maximum(a + b * (carbons - 1.0), 1.0))
        r, q = (np.asarray(x) for x in predict(eps_k, sigma, n, seg))
        return np.concatenate([(r / rho - 1)[real], np.log(q / p_sat)[real]])

    def residuals(*x):
        e = residuals_raw(*x)
        return np.where(np.isfinite(e), e, 1.0)  # a NaN row (above Tc, outside the EOS)

    models = {
        "b12": (("eps", "sigma"), lambda x: (x[0], x[1], 12.0, 1.0, 1 / 3)),
        "b": (("eps", "sigma", "n"), lambda x: (x[0], x[1], x[2], 1.0, 1 / 3)),
        "b-lin": (("eps", "sigma", "n", "a", "b"), lambda x: tuple(x)),
    }
    # starts: the prior centre of model (b), and model (a)'s posterior means of n-butane
    # and n-octane (docs/chains.md); the fit from each, the best kept
    starts = (
        {"eps": 295.0, "sigma": 4.0, "n": 14.0, "a": 1.0, "b": 1 / 3},
        {"eps": 251.0, "sigma": 3.97, "n": 12.5, "a": 1.0, "b": 1 / 3},
        {"eps": 272.0, "sigma": 4.05, "n": 12.4, "a": 1.0, "b": 1 / 3},
        {"eps": 160.0, "sigma": 3.75, "n": 13.7, "a": 1.0, "b": 0.5},
    )
    lower = {"eps": 100.0, "sigma": 3.0, "n": 8.0, "a": 1.0, "b": 0.05}
    upper = {"eps": 600.0, "sigma": 5.0, "n": 30.0, "a": 3.0, "b": 1.0}
    out = {}
    for name, (free, full) in models.items():
        fits = [
            least_squares(
                lambda x, full=full: residuals(*full(x)),
                [st[k] for k in free],
                bounds=([lower[k] for k in free], [upper[k] for k in free]),
                diff_step=1e-6,
                x_scale="jac",
            )
            for st in starts
        ]
        sol = min(fits, key=lambda f: f.cost)
        e = residuals(*full(sol.x))
        k = int(real.sum())
        out[name] = {
            "parameters": dict(
                zip(("epsilon_K", "sigma_A", "n", "a", "b"), map(float, full(sol.x)), strict=True)
            ),
            "rms_rel_rho_l": float(np.sqrt(np.mean(e[:k] ** 2))),
            "rms_ln_p_sat": float(np.sqrt(np.mean(e[k:] ** 2))),
            "median_abs_rel_p_sat": float(np.median(np.abs(np.expm1(e[k:])))),
            "nan_rows": int(np.sum(~np.isfinite(residuals_raw(*full(sol.x))))),
            "costs_of_the_starts": [float(f.cost) for f in fits],
            "max_rel_rho_l": float(np.max(np.abs(e[:k]))),
            "max_ln_p_sat": float(np.max(np.abs(e[k:]))),
            "rows": k,
        }
        print(name, json.dumps(out[name]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", action="store_true", help="least-squares fits (module docstring)")
    ap.add_argument(
        "--ridge", action="store_true", help="model (b)'s ridge in (epsilon, n) (docs/chains.md)"
    )
    args = ap.parse_args()
    if args.ridge:
        _ridge()
        return
    if args.fit:
        res = _fit()
        out = ROOT / "reports" / "alkane_chains" / "segment_rule_fit.json"
        out.write_text(json.dumps(res, indent=2) + "\n")
        print(f"wrote {out}")
        return
    bayesff.configure()
    fluid = fluid_eos_of(bayesff.get_potential("mie_chain"))

    @jax.jit
    def predict(eps_k, sigma, segments, t_k):
        p = {"epsilon": eps_k * R_KJ, "sigma": sigma, "n": 12.0, "m": 6.0, "segments": segments}
        v = vle_predictions(fluid, p, t_k)
        return v.rho_l, v.p_sat

    data = {name: (c, *_rows(name)) for name, c in MOLECULES}
    print("epsilon/k (K)  sigma (A)  RMS rel. error (rho_l and p_sat)  NaN rows")
    for eps_k in (250.0, 280.0, 295.0, 310.0, 330.0):
        for sigma in (3.8, 4.0, 4.2):
            errs, nan = [], 0
            for c, t, rho, p in data.values():
                r, q = predict(eps_k, sigma, 1.0 + (c - 1) / 3.0, jnp.asarray(t))
                e = np.concatenate([np.asarray(r) / rho - 1, np.asarray(q) / p - 1])
                nan += int(np.isnan(e).sum())
                errs.append(e)
            rms = float(np.sqrt(np.nanmean(np.concatenate(errs) ** 2)))
            print(f"{eps_k:13.0f}  {sigma:9.2f}  {rms:33.3f}  {nan:8d}")


if __name__ == "__main__":
    main()
