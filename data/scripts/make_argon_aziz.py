"""Make data/argon_aziz/: SYNTHETIC argon dimer and trimer data from Aziz's HFD-ID1.

All values are COMPUTED from a published accurate argon pair potential, not
measured: R. A. Aziz, J. Chem. Phys. 99, 4518 (1993), doi:10.1063/1.466106
(HFD-ID1), as implemented in ``bayesff.potentials.reference.hfdid1`` (constants
and their provenance in that module's docstring). No noise is added.

Files written (units: angstrom, kJ/mol, kJ/mol/angstrom):

* ``dimer_target.csv``: ``r_angstrom, E_kJ_per_mol, u_E_kJ_per_mol`` for r =
  3.0, 3.1, ..., 10.0 angstrom (71 rows), the format of the ``pair_energy``
  observable. E = u_HFDID1(r), exact to the 10 significant digits written.
  ``u_E_kJ_per_mol`` is a CHOSEN weight, not an uncertainty of E: u = 0.01 |E| +
  0.002 kJ/mol (1 % plus a floor of 0.24 K x R), an assumed accuracy of the
  reference potential (of the order of the stated accuracy of modern argon
  pair potentials at the well).
* ``dimers.csv``: 50 dimers, r uniform in [3.0, 7.0] angstrom, random
  orientation and centre; ``trimers.csv``: 200 trimers with all three sides
  uniform in [3.0, 7.0] angstrom (triangle inequality enforced by rejection),
  random orientation and centre. One row per atom: ``config_id, atom,
  x_angstrom, y_angstrom, z_angstrom, E_kJ_per_mol, Fx_kJ_per_mol_A,
  Fy_kJ_per_mol_A, Fz_kJ_per_mol_A``; E is the configuration's total energy
  (repeated on each of its rows), F the force on the atom (-grad E).
  Geometries from ``numpy.random.default_rng(1993)`` via
  ``bayesff.configdata.random_dimers`` / ``random_trimers``.

PAIRWISE ADDITIVE. The trimer energies are sums of the three pair energies.
A real argon trimer also has a non-additive three-body energy (leading term:
Axilrod-Teller-Muto triple-dipole dispersion), which these data lack; a pair
potential fitted to them is therefore NOT tested for three-body inadequacy.

Usage (from the repository root)::

    python data/scripts/make_argon_aziz.py [--force] [--out-dir data/argon_aziz]

Refuses to overwrite existing files without ``--force``; prints the sha256 of
each file and the package versions used (copy them into the manifest).
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
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_OUT = REPO_ROOT / "data" / "argon_aziz"
SEED = 1993
R_GRID = np.round(np.arange(3.0, 10.0 + 1e-9, 0.1), 10)
U_REL, U_FLOOR_KJ = 0.01, 0.002
N_DIMERS, N_TRIMERS = 50, 200
SIDE_MIN, SIDE_MAX = 3.0, 7.0
CONFIG_HEADER = (
    "config_id,atom,x_angstrom,y_angstrom,z_angstrom,E_kJ_per_mol,"
    "Fx_kJ_per_mol_A,Fy_kJ_per_mol_A,Fz_kJ_per_mol_A"
)


def dimer_target_csv() -> str:
    from bayesff.potentials.reference import hfdid1

    e = np.asarray(hfdid1(R_GRID))
    u = U_REL * np.abs(e) + U_FLOOR_KJ
    out = io.StringIO()
    out.write("r_angstrom,E_kJ_per_mol,u_E_kJ_per_mol\n")
    for r, ei, ui in zip(R_GRID, e, u, strict=True):
        out.write(f"{r:.1f},{ei:.10g},{ui:.4g}\n")
    return out.getvalue()


def configs_csv(positions: np.ndarray) -> str:
    from bayesff.configdata import reference_configurations
    from bayesff.potentials.reference import ARGON_HFDID1, HFDID1_CONSTANTS
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

    params = {
        "epsilon": HFDID1_CONSTANTS.epsilon_K * GAS_CONSTANT_KJ_PER_MOL_K,
        "r_m": HFDID1_CONSTANTS.r_m_angstrom,
    }
    # round first, so that E and F belong to the positions exactly as written
    c = reference_configurations(ARGON_HFDID1, params, np.round(positions, 10))
    out = io.StringIO()
    out.write(CONFIG_HEADER + "\n")
    for m in range(c.n_configs):
        for i in range(c.n_atoms):
            x, f = c.positions[m, i], c.forces[m, i]
            out.write(
                f"{m},{i},{x[0]:.10f},{x[1]:.10f},{x[2]:.10f},{c.energy[m]:.12g},"
                f"{f[0]:.12g},{f[1]:.12g},{f[2]:.12g}\n"
            )
    return out.getvalue()


def versions() -> dict[str, str]:
    import jax

    return {"python": platform.python_version(), "numpy": np.__version__, "jax": jax.__version__}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    args = ap.parse_args(argv)

    from bayesff.configdata import random_dimers, random_trimers

    rng = np.random.default_rng(SEED)
    dimers = random_dimers(rng, N_DIMERS, SIDE_MIN, SIDE_MAX)
    trimers = random_trimers(rng, N_TRIMERS, SIDE_MIN, SIDE_MAX)
    files = {
        "dimer_target.csv": dimer_target_csv(),
        "dimers.csv": configs_csv(dimers),
        "trimers.csv": configs_csv(trimers),
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    existing = [n for n in files if (args.out_dir / n).exists()]
    if existing and not args.force:
        print(f"{', '.join(existing)} exist in {args.out_dir}; use --force", file=sys.stderr)
        return 1
    for name, text in files.items():
        p = args.out_dir / name
        p.write_text(text)
        print(f"{p}: sha256 {hashlib.sha256(p.read_bytes()).hexdigest()}")
    print("versions:", versions())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
