"""Make data/butane/torsion_scan.csv and data/butane/populations.csv (SYNTHETIC).

Both files are SYNTHETIC: computed from the published Ryckaert-Bellemans
torsion potential of n-butane, not measured and not from quantum chemistry.

Ground truth (polymer convention, psi = phi - 180 deg, trans psi = 0):

    u(phi) = sum_{n=0}^{5} C_n cos^n(psi),
    C_0..C_5 = 9.28, 12.16, -13.12, -3.06, 26.24, -31.5 kJ/mol

as tabulated in the GROMACS reference manual ("Proper dihedrals:
Ryckaert-Bellemans function", table "Constants for Ryckaert-Bellemans
potential"), the alkane torsion of J.-P. Ryckaert and A. Bellemans,
Chem. Phys. Lett. 30, 123 (1975), doi:10.1016/0009-2614(75)85513-8, and
Faraday Discuss. Chem. Soc. 66, 95 (1978), doi:10.1039/DC9786600095. The
coefficients sum to zero, so u(trans) = 0.

* torsion_scan.csv: phi = 0, 10, ..., 350 deg (36 points), E = u(phi) - u(180 deg)
  plus Gaussian noise of standard deviation u_E = 0.2 kJ/mol, ONE SEEDED DRAW
  (numpy.random.default_rng(SEED)); E_exact_kJ_per_mol keeps the noise-free value.
* populations.csv: exact Boltzmann populations of the basins trans
  [120, 240) deg (basin 0), gauche+ [0, 120) (1), gauche- [240, 360) (2) at
  T = 250, 300, 350, 400 K in the gas phase (A = 0) and in a modulated
  environment W(phi) = A (1 - cos phi)/2 with A = 1 kJ/mol (an illustrative
  solvent-like term favouring gauche, bayesff.observables.conformers), by
  adaptive quadrature (scipy.integrate.quad, epsrel 1e-13; independent of
  bayesff's Gauss-Legendre rule), rounded to 6 decimals. No noise is added;
  u_p = 0.01 is an ASSUMED measurement-like standard uncertainty. A free
  energy column dG_kJ_per_mol = -RT ln(p_b / p_trans) is included.

R = k_B N_A = 8.31446261815324 J/(mol K) (exact in the 2019 SI).

Usage (from the repository root)::

    python data/scripts/make_butane_torsion.py [--force]

Refuses to overwrite unless ``--force``; prints the sha256 of each file and the
package versions (copy them into data/manifest.toml).
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
OUT_DIR = REPO_ROOT / "data" / "butane"

RB_C_KJ_PER_MOL = (9.28, 12.16, -13.12, -3.06, 26.24, -31.5)
R_KJ_PER_MOL_K = 1.380649e-23 * 6.02214076e23 / 1000.0

SEED = 1975
SCAN_DEG = np.arange(0.0, 360.0, 10.0)
U_E = 0.2  # kJ/mol, standard deviation of the added noise

TEMPERATURES_K = (250.0, 300.0, 350.0, 400.0)
W_AMPLITUDES = (0.0, 1.0)  # kJ/mol
BASINS_DEG = ((120.0, 240.0), (0.0, 120.0), (240.0, 360.0))  # trans, gauche+, gauche-
U_P = 0.01


def rb_energy(phi_rad):
    """Ryckaert-Bellemans u(phi) in kJ/mol, phi in the IUPAC convention (trans = pi)."""
    c = np.cos(np.asarray(phi_rad) - np.pi)
    return sum(cn * c**n for n, cn in enumerate(RB_C_KJ_PER_MOL))


def populations(T: float, A: float) -> np.ndarray:
    """Basin populations by adaptive quadrature."""
    from scipy.integrate import quad

    def f(phi):
        return np.exp(-(rb_energy(phi) + A * 0.5 * (1.0 - np.cos(phi))) / (R_KJ_PER_MOL_K * T))

    z = np.array(
        [
            quad(f, np.deg2rad(lo), np.deg2rad(hi), epsabs=0.0, epsrel=1e-13, limit=200)[0]
            for lo, hi in BASINS_DEG
        ]
    )
    return z / z.sum()


def scan_csv() -> str:
    rng = np.random.default_rng(SEED)
    phi = np.deg2rad(SCAN_DEG)
    exact = rb_energy(phi) - rb_energy(np.pi)
    noisy = exact + U_E * rng.standard_normal(exact.shape)
    buf = io.StringIO()
    buf.write("phi_deg,E_kJ_per_mol,u_E_kJ_per_mol,E_exact_kJ_per_mol\n")
    for d, e, ex in zip(SCAN_DEG, noisy, exact, strict=True):
        buf.write(f"{d:g},{e:.4f},{U_E:g},{ex:.6f}\n")
    return buf.getvalue()


def populations_csv() -> str:
    buf = io.StringIO()
    buf.write("T_K,W_kJ_per_mol,basin,p,u_p,dG_kJ_per_mol\n")
    for A in W_AMPLITUDES:
        for T in TEMPERATURES_K:
            p = populations(T, A)
            dg = -R_KJ_PER_MOL_K * T * np.log(p / p[0])
            for b in range(len(BASINS_DEG)):
                buf.write(f"{T:g},{A:g},{b},{p[b]:.6f},{U_P:g},{dg[b] + 0.0:.6f}\n")
    return buf.getvalue()


def versions() -> dict[str, str]:
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR, help="output directory")
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    args = ap.parse_args(argv)
    files = {"torsion_scan.csv": scan_csv, "populations.csv": populations_csv}
    paths = {name: args.out_dir / name for name in files}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not args.force:
        print(f"{', '.join(existing)} exist; refusing to overwrite (use --force)", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, make in files.items():
        text = make().encode("ascii")
        paths[name].write_bytes(text)
        print(f"wrote {paths[name]}  sha256 = {hashlib.sha256(text).hexdigest()}")
    for k, v in versions().items():
        print(f"{k} = {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
