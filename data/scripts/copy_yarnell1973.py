"""Copy the Yarnell et al. (1973) liquid-argon structure data and add assumed uncertainties.

Source: J. L. Yarnell, M. J. Katz, R. G. Wenzel and S. H. Koenig, "Structure
Factor and Radial Distribution Function for Liquid Argon at 85 K", Phys. Rev.
A 7, 2130 (1973), doi:10.1103/PhysRevA.7.2130; digitised table from the
MIT-licensed repository hoepfnergroup/LiquidStructureGP-Sullivan
(Argon/Yarnell_Sq_Ar_1973.csv, Argon/Yarnell_gr_Ar_1973.csv), header renamed,
values unchanged (as shipped in shared/data/argon_yarnell1973/).

What it writes into data/argon_yarnell1973/:

* sq_85K.csv, gr_85K.csv: byte-for-byte copies, checked against the sha256
  values stated in the shared README (MEASURED values, no uncertainty column).
* sq_85K_target.csv: T_K, rho_per_A3, q_inv_angstrom, S_q, u_S_q -- the
  measured S(q) with the state point as environment columns and an ASSUMED
  standard uncertainty u_S_q = 0.02 (constant). The paper's table quotes no
  per-point uncertainty; 0.02 is our assumption (about 1-2 % of S at and
  beyond the first peak, where S ~ 1-2.7; a generous absolute floor in the
  small-q region, where S ~ 0.05).
* gr_85K_target.csv: T_K, rho_per_A3, r_angstrom, g_r, u_g_r -- the published
  g(r) with an ASSUMED u_g_r = 0.05: larger than u_S_q because g(r) is the
  authors' Fourier transform of truncated, noisy S(q) (termination ripples,
  first-peak height).

The state point T = 85 K, rho = 0.02125 1/angstrom^3 is the one stated in the
shared README (number density from the paper as quoted there).

Usage (from the repository root)::

    python data/scripts/copy_yarnell1973.py [--src DIR] [--force]

Prints the sha256 of every file it wrote (copy them into data/manifest.toml).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SRC = Path("/work/shared/data/argon_yarnell1973")
OUT_DIR = REPO_ROOT / "data" / "argon_yarnell1973"

#: sha256 of the source files as stated in the shared README.
EXPECTED_SHA256 = {
    "sq_85K.csv": "653b0d043e80dfbe77fa8b306febd9c6d06f8e7886fd0c18acfa01eb69247f4b",
    "gr_85K.csv": "534ff17ce3eea3805cfec8be490f205c9ec4a79d1a241e23e820adf7d036d66f",
}
T_K = 85.0
RHO_PER_A3 = 0.02125
#: ASSUMED standard uncertainties (no per-point uncertainty is published).
U_S_Q = 0.02
U_G_R = 0.05


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def derived(src: Path, x_col: str, y_col: str, u: float) -> str:
    """CSV text: T_K, rho_per_A3, x, y (values copied as text, unchanged), u_y."""
    with src.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if r]
    if header != [x_col, y_col]:
        sys.exit(f"{src}: expected header {x_col},{y_col}, found {','.join(header)}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["T_K", "rho_per_A3", x_col, y_col, f"u_{y_col}"])
    for x, y in body:
        w.writerow([f"{T_K:g}", f"{RHO_PER_A3:g}", x, y, f"{u:g}"])
    return buf.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, expected in EXPECTED_SHA256.items():
        actual = sha256_of(args.src / name)
        if actual != expected:
            sys.exit(f"{args.src / name}: sha256 {actual}, expected {expected}")
    outputs = {
        "sq_85K.csv": None,
        "gr_85K.csv": None,
        "sq_85K_target.csv": derived(args.src / "sq_85K.csv", "q_inv_angstrom", "S_q", U_S_Q),
        "gr_85K_target.csv": derived(args.src / "gr_85K.csv", "r_angstrom", "g_r", U_G_R),
    }
    for name, text in outputs.items():
        out = OUT_DIR / name
        if out.exists() and not args.force:
            sys.exit(f"{out} exists; pass --force to overwrite")
        if text is None:
            shutil.copyfile(args.src / name, out)
            if sha256_of(out) != EXPECTED_SHA256[name]:
                sys.exit(f"{out}: copy differs from its source")
        else:
            out.write_text(text)
        print(f"{out.relative_to(REPO_ROOT)}  sha256 {sha256_of(out)}")
    print(f"Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
