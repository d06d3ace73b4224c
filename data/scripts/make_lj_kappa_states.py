"""Make data/lj_kappa/kappa_states.csv: SYNTHETIC kappa_T of a Lennard-Jones gas.

THESE VALUES ARE SYNTHETIC: computed, not measured, from a model that is known
to be true for them. They exist for the thermodynamic-state transferability
study (models/lj_kappa_states.toml), where the question is which states a
parameter set calibrated on "easy" states transfers to, not what real argon
does.

* kappa_T_per_MPa: the isothermal compressibility of the B2-truncated virial
  equation of state,

      kappa_T = 1 / (rho k_B T (1 + 2 B2(T) rho)),

  computed with bayesff's own forward model
  (bayesff.observables.virial.isothermal_compressibility, B2 by Gauss-Legendre
  quadrature with the default 16 nodes per panel, <= 1e-11 relative to the
  exact LJ series) for Lennard-Jones 12-6 with the "ground truth" parameters
  epsilon/k_B = 119.8 K, sigma = 3.405 angstrom (the classic argon values,
  Michels et al. 1949; Hirschfelder, Curtiss and Bird 1954). The values are
  NOISE-FREE (no random draw): the file holds the exact model value, rounded
  to 9 significant digits (relative rounding error <= 5e-9).
* u_kappa_T_per_MPa: an ASSUMED standard uncertainty of 1 % of kappa_T (4
  significant digits), a measurement-like noise level chosen for the study. It
  is not a property of the numbers in the file, which carry no noise.

Grid: T in {120, 150, 200, 300, 500, 700} K x rho in {2e-4, 1e-3, 2e-3, 3e-3}
1/angstrom^3 (24 states). States where 1 + 2 B2 rho <= 0.2 are DROPPED: there
the truncated virial EOS is meaningless (it predicts a near-divergent or
negative compressibility; the real fluid is near or inside the two-phase
region, and B3 rho^2 is not small). With the ground-truth parameters this drops
(120 K, 2e-3), (120 K, 3e-3) and (150 K, 3e-3), leaving 21 rows.

Usage (from the repository root)::

    python data/scripts/make_lj_kappa_states.py [--force] [--out data/lj_kappa/kappa_states.csv]

The script refuses to overwrite an existing file unless ``--force`` is given, and
prints the sha256 of the file it wrote together with the package versions it
used (copy both into data/manifest.toml).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import platform
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "data" / "lj_kappa" / "kappa_states.csv"

#: Ground-truth Lennard-Jones parameters (classic argon values).
EPSILON_K = 119.8  # epsilon / k_B, K
SIGMA_A = 3.405  # angstrom

TEMPERATURES_K = (120.0, 150.0, 200.0, 300.0, 500.0, 700.0)
DENSITIES_PER_A3 = (2e-4, 1e-3, 2e-3, 3e-3)

#: States with 1 + 2 B2 rho at or below this are dropped (see module docstring).
MIN_DENOMINATOR = 0.2
#: Assumed relative standard uncertainty (measurement-like noise for the study).
U_REL = 0.01

COLUMNS = ("T_K", "rho_per_A3", "kappa_T_per_MPa", "u_kappa_T_per_MPa")


def ground_truth_params() -> dict:
    """LJ parameters in bayesff's internal units (kJ/mol, angstrom)."""
    from bayesff import units

    return {
        "epsilon": float(units.to_internal(EPSILON_K, "K", "energy")),
        "sigma": SIGMA_A,
    }


def build_table() -> tuple[list[tuple[float, float, float, float]], list[tuple[float, float]]]:
    """Rows (T, rho, kappa, u) and the dropped states (T, rho)."""
    from bayesff.observables.virial import isothermal_compressibility, second_virial
    from bayesff.potentials import LENNARD_JONES
    from bayesff.units import AVOGADRO

    a3_to_cm3_per_mol = AVOGADRO * 1e-24  # B2 per molecule (angstrom^3) -> cm^3/mol

    params = ground_truth_params()
    rows, dropped = [], []
    for T in TEMPERATURES_K:
        b2_a3 = float(second_virial(LENNARD_JONES, params, T)) / a3_to_cm3_per_mol
        for rho in DENSITIES_PER_A3:
            if 1.0 + 2.0 * b2_a3 * rho <= MIN_DENOMINATOR:
                dropped.append((T, rho))
                continue
            kappa = float(isothermal_compressibility(LENNARD_JONES, params, T, rho))
            if not np.isfinite(kappa) or kappa <= 0:
                raise RuntimeError(f"kappa_T = {kappa} at T = {T} K, rho = {rho} 1/angstrom^3")
            rows.append((T, rho, kappa, U_REL * kappa))
    return rows, dropped


def to_csv(rows) -> str:
    buf = io.StringIO()
    buf.write(",".join(COLUMNS) + "\n")
    for T, rho, kappa, u in rows:
        buf.write(f"{T:g},{rho:g},{kappa:.9g},{u:.4g}\n")
    return buf.getvalue()


def versions() -> dict[str, str]:
    import jax

    import bayesff

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "jax": jax.__version__,
        "bayesff": bayesff.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV path")
    ap.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = ap.parse_args(argv)

    out: Path = args.out
    if out.exists() and not args.force:
        print(f"{out} exists; refusing to overwrite (use --force)", file=sys.stderr)
        return 1

    rows, dropped = build_table()
    text = to_csv(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(text.encode("ascii"))
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()

    print(f"wrote {out} ({len(rows)} rows, SYNTHETIC, noise-free)")
    for T, rho in dropped:
        print(
            f"dropped T = {T:g} K, rho = {rho:g} 1/angstrom^3 (1 + 2 B2 rho <= {MIN_DENOMINATOR})"
        )
    print(f"sha256 = {digest}")
    for name, v in versions().items():
        print(f"{name} = {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
