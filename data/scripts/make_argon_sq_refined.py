"""Interpolate the Yarnell (1973) argon S(q) target to 2x and 4x its grid (issue 18 item 2).

DERIVED DATA, NOT MEASUREMENTS. The grid-refinement study of docs/likelihoods.md asks
whether a likelihood's posterior changes when the same curve is given on a finer grid.
A finer grid adds no information about argon: every new point is an interpolation of
the measured ones, so a likelihood that narrows with it over-counts.

Input: data/argon_yarnell1973/sq_85K_target.csv (Yarnell, Katz, Wenzel, Koenig, Phys.
Rev. A 7, 2130 (1973), doi:10.1103/PhysRevA.7.2130; 400 rows, dq ~ 0.0294 1/angstrom,
with the ASSUMED u_S_q = 0.02 of data/scripts/copy_yarnell1973.py).

Output (data/argon_yarnell1973/): sq_85K_target_x2.csv (799 rows) and
sq_85K_target_x4.csv (1597 rows), same columns and units. Between each pair of
neighbouring measured q, k - 1 equally spaced points are inserted (k = 2, 4); the
measured rows are kept unchanged (as text), and S at the new q is the not-a-knot cubic
spline through all 400 measured points (scipy.interpolate.CubicSpline), written to 4
decimals as the measured S. u_S_q = 0.02 on every row (the same assumption). The q range
(0.0294-11.7474 1/angstrom) is the measured one, so a problem that scales q over the
file's rows (the GP discrepancy) sees the same coordinate on every grid.

Usage (from the repository root)::

    python data/scripts/make_argon_sq_refined.py [--force]

Prints each file's sha256 and the package versions (copy them into data/manifest.toml).
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy.interpolate import CubicSpline

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC = REPO_ROOT / "data" / "argon_yarnell1973" / "sq_85K_target.csv"
FACTORS = (2, 4)
U_S_Q = "0.02"  # the ASSUMED uncertainty of the source file, kept as text


def refine(text: str, k: int) -> bytes:
    """The source table with ``k - 1`` spline-interpolated rows between neighbours."""
    lines = text.splitlines()
    header, body = lines[0], lines[1:]
    if header.split(",") != ["T_K", "rho_per_A3", "q_inv_angstrom", "S_q", "u_S_q"]:
        raise SystemExit(f"{SRC}: unexpected header {header!r}")
    cells = [line.split(",") for line in body]
    q = np.array([float(c[2]) for c in cells])
    s = np.array([float(c[3]) for c in cells])
    if np.any(np.diff(q) <= 0):
        raise SystemExit(f"{SRC}: q is not strictly increasing")
    spline = CubicSpline(q, s)  # not-a-knot ends
    out = [header]
    for i, c in enumerate(cells):
        out.append(body[i])
        if i + 1 == len(cells):
            break
        for j in range(1, k):
            qj = q[i] + (q[i + 1] - q[i]) * j / k
            out.append(f"{c[0]},{c[1]},{qj:.5f},{float(spline(qj)):.4f},{U_S_Q}")
    return ("\n".join(out) + "\n").encode()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    args = ap.parse_args(argv)
    text = SRC.read_text()
    print(f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")
    for k in FACTORS:
        payload = refine(text, k)
        path = SRC.with_name(f"sq_85K_target_x{k}.csv")
        if path.exists() and not args.force and path.read_bytes() != payload:
            print(f"{path} exists and differs; pass --force to replace it", file=sys.stderr)
            return 1
        path.write_bytes(payload)
        rows, digest = payload.count(b"\n") - 1, hashlib.sha256(payload).hexdigest()
        print(f"{path.relative_to(REPO_ROOT)}  {rows} rows  sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
