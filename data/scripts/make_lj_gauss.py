"""Make data/synthetic_lj_gauss/forces_train.csv and truth_grid.csv (SYNTHETIC).

Both files are SYNTHETIC: computed from a made-up pair potential with known
parameters, for the classical-versus-ML transferability study
(``studies/classical_vs_ml.py``, ``docs/transfer_ml.md``). Nothing here is a
measurement or a quantum-chemical value.

Ground truth: Lennard-Jones 12-6 plus a Gaussian well,

    u(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6] + A exp(-(r - r0)^2 / (2 w^2)),
    F(r) = -du/dr
         = (24 eps / r) [2 (sigma/r)^12 - (sigma/r)^6] + A (r - r0) / w^2 exp(...)

with eps/k_B = 120 K (0.99774 kJ/mol), sigma = 3.4 angstrom (argon-like; J. E.
Jones, Proc. R. Soc. Lond. A 106, 463 (1924), doi:10.1098/rspa.1924.0082 for
the form), and the well A = -0.5 kJ/mol, r0 = 4.4 angstrom, w = 0.25 angstrom:
a second, shallower dip outside the LJ minimum (2^(1/6) sigma = 3.816
angstrom). The well's force reaches |A|/w exp(-1/2) = 1.21 kJ/mol/angstrom at
r0 -/+ w, comparable to the LJ force there (about -0.7 kJ/mol/angstrom at 4.4
angstrom) and 12 times the label noise, so a 2-parameter LJ cannot absorb it.

* forces_train.csv: r = 3.00, 3.05, ..., 5.00 angstrom (41 points, the training
  domain D0 = [3, 5] angstrom); F_kJ_per_mol_A = F(r) plus Gaussian noise of
  standard deviation u_F = 0.1 kJ/mol/angstrom, ONE SEEDED DRAW
  (numpy.random.default_rng(SEED)); F_exact and E_exact keep the noise-free
  values.
* truth_grid.csv: r = 2.70, 2.72, ..., 8.00 angstrom (266 points): the
  noise-free F and u on the evaluation grid (repulsive [2.7, 3), D0 [3, 5],
  long range (5, 8]).

R = k_B N_A = 8.31446261815324 J/(mol K) (exact in the 2019 SI).

Usage (from the repository root)::

    python data/scripts/make_lj_gauss.py [--force]

Refuses to overwrite unless ``--force``; prints the sha256 of each file and the
package versions (copy them into the manifest entry).
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
OUT_DIR = REPO_ROOT / "data" / "synthetic_lj_gauss"

R_KJ_PER_MOL_K = 1.380649e-23 * 6.02214076e23 / 1000.0

#: Ground truth (SYNTHETIC). Energies in kJ/mol, lengths in angstrom.
TRUTH = {
    "epsilon_K": 120.0,
    "sigma_angstrom": 3.4,
    "well_A_kJ_per_mol": -0.5,
    "well_r0_angstrom": 4.4,
    "well_w_angstrom": 0.25,
}
SEED = 2024
U_F = 0.1  # kJ/mol/angstrom, standard deviation of the added noise
D0_ANGSTROM = (3.0, 5.0)


def train_distances() -> np.ndarray:
    """The training distances: 3.00 to 5.00 angstrom every 0.05 (41 points)."""
    return np.round(np.linspace(3.0, 5.0, 41), 10)


def eval_distances() -> np.ndarray:
    """The evaluation grid: 2.70 to 8.00 angstrom every 0.02 (266 points)."""
    return np.round(np.linspace(2.7, 8.0, 266), 10)


def _unpack(truth: dict) -> tuple[float, float, float, float, float]:
    eps = truth["epsilon_K"] * R_KJ_PER_MOL_K
    return (
        eps,
        truth["sigma_angstrom"],
        truth["well_A_kJ_per_mol"],
        truth["well_r0_angstrom"],
        truth["well_w_angstrom"],
    )


def true_energy(r, truth: dict = TRUTH) -> np.ndarray:
    """u(r) in kJ/mol at r in angstrom: LJ plus the Gaussian well (A = 0: plain LJ)."""
    eps, sigma, a, r0, w = _unpack(truth)
    r = np.asarray(r, dtype=float)
    s6 = (sigma / r) ** 6
    return 4.0 * eps * (s6 * s6 - s6) + a * np.exp(-((r - r0) ** 2) / (2.0 * w * w))


def true_force(r, truth: dict = TRUTH) -> np.ndarray:
    """F(r) = -du/dr in kJ/mol/angstrom at r in angstrom (positive: repulsive)."""
    eps, sigma, a, r0, w = _unpack(truth)
    r = np.asarray(r, dtype=float)
    s6 = (sigma / r) ** 6
    lj = 24.0 * eps / r * (2.0 * s6 * s6 - s6)
    well = a * (r - r0) / (w * w) * np.exp(-((r - r0) ** 2) / (2.0 * w * w))
    return lj + well


def noisy_forces(r, rng: np.random.Generator, u_F: float = U_F, truth: dict = TRUTH):
    """F(r) plus independent N(0, u_F^2) noise (kJ/mol/angstrom)."""
    r = np.asarray(r, dtype=float)
    return true_force(r, truth) + u_F * rng.standard_normal(r.shape)


def _csv(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    buf.write(",".join(header) + "\n")
    for row in rows:
        buf.write(",".join(row) + "\n")
    return buf.getvalue().encode()


def make_files() -> dict[str, bytes]:
    r = train_distances()
    rng = np.random.default_rng(SEED)
    f_obs = noisy_forces(r, rng)
    train = _csv(
        [
            "r_angstrom",
            "F_kJ_per_mol_A",
            "u_F_kJ_per_mol_A",
            "F_exact_kJ_per_mol_A",
            "E_exact_kJ_per_mol",
        ],
        (
            [f"{x:.2f}", f"{f:.6f}", f"{U_F:g}", f"{fe:.9f}", f"{e:.9f}"]
            for x, f, fe, e in zip(r, f_obs, true_force(r), true_energy(r), strict=True)
        ),
    )
    g = eval_distances()
    grid = _csv(
        ["r_angstrom", "F_exact_kJ_per_mol_A", "E_exact_kJ_per_mol"],
        (
            [f"{x:.2f}", f"{f:.9f}", f"{e:.9f}"]
            for x, f, e in zip(g, true_force(g), true_energy(g), strict=True)
        ),
    )
    return {"forces_train.csv": train, "truth_grid.csv": grid}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    args = ap.parse_args(argv)
    files = make_files()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = OUT_DIR / name
        if path.exists() and not args.force and path.read_bytes() != content:
            print(f"{path} exists and differs; pass --force to overwrite", file=sys.stderr)
            return 1
        path.write_bytes(content)
        print(f"{path.relative_to(REPO_ROOT)}  sha256 {hashlib.sha256(content).hexdigest()}")
    print(f"Python {platform.python_version()}, numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
