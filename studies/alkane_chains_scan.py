"""How far is one transferable Mie chain from the n-alkanes? (issue 30; docs/chains.md)

Run from the repository root::

    python -m studies.alkane_chains_scan

For a grid of segment epsilon/k (K) and sigma (angstrom) at n = 12, m = 6, with the
segment rule m_s = 1 + (C - 1)/3, the SAFT-VR Mie saturated liquid density and vapour
pressure of methane to n-octane at their reference rows between 0.5 and 0.9 Tc
(data/alkanes/, CoolProp) and the RMS relative error over all of them; NaN rows (T
above the model's Tc, or outside the EOS's range) are counted. This is the misfit that
model (b12) of models/alkane_chains has to absorb in its inferred scales.
"""

from __future__ import annotations

import csv
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import bayesff
from bayesff.observables.vle import fluid_eos_of, vle_predictions
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


def main() -> None:
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
