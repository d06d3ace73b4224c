"""Make data/argon_md/liquid_states.csv: compressed-liquid argon states for MD targets.

COMPUTED FROM A REFERENCE EQUATION OF STATE, not measured: pressure and residual
energy of liquid argon at four (T, rho) states just above the saturated-liquid
density, from the Tegeler-Span-Wagner (TSW) equation (Ch. Tegeler, R. Span,
W. Wagner, J. Phys. Chem. Ref. Data 28, 779 (1999), doi:10.1063/1.556037),
evaluated as in data/scripts/make_argon_liquid.py (teqp's bundled CoolProp fluid
file ``Argon.json``, EOS key "Tegeler-JPCRD-1999").

Columns: T_K, rho_per_A3 (the state, chosen: round densities 1-2 % above the
saturated liquid at each T, so every state is a single-phase liquid on the
equation, checked), p_MPa = rho R T (1 + A^r_01) with u_p_MPa,
E_res_kJ_per_mol = R T A^r_10 (residual internal energy per particle, the MD
excess energy) with u_E_res_kJ_per_mol, and kappa_T_per_MPa for information.

Uncertainties (standard, of the EQUATION's values): TSW's density uncertainty
in the liquid is < 0.02 % (abstract); at fixed (T, rho) we carry it over to the
pressure as u_p = (dp/drho) 0.0002 rho = 0.0002 / kappa_T (0.05-0.1 MPa here),
an ASSUMPTION (TSW states uncertainties in rho at given p, not in p at given
rho). u(E_res) = 0.5 %: ASSUMED, as in data/argon_liquid/ (TSW gives none for
the energy). A Lennard-Jones model's own error in these properties is far
larger (tens of MPa in p); problem files add an inferred inadequacy term.

Usage (repository root)::

    python data/scripts/make_argon_md_states.py [--force]

Prints the file's sha256 and the package versions (copy them into the manifest).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import platform
import sys
from pathlib import Path

import numpy as np

# the TSW evaluation, saturation and formatting of data/argon_liquid/ (same folder)
from make_argon_liquid import _csv, _fmt, _model, _props, _saturation

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "data" / "argon_md"
B2_FILE = REPO_ROOT / "data" / "argon" / "b2.csv"

AVOGADRO = 6.02214076e23  # 1/mol, exact (SI 2019)
M3_PER_A3 = 1e-30
#: (T in K, rho in 1/angstrom^3): round densities just above the saturated liquid
#: (TSW: 0.02078 at 90 K, 0.01980 at 100 K, 0.01873 at 110 K, 0.01753 at 120 K).
STATES = ((90.0, 0.0210), (100.0, 0.0200), (110.0, 0.0190), (120.0, 0.0178))
U_RHO_REL = 2e-4
U_E_REL = 0.005


def build() -> bytes:
    model, teqp_version = _model()
    # the same evaluation as data/argon_liquid/ (cross-check against data/argon/b2.csv)
    b2 = model.get_B2vir(300.0, np.array([1.0])) * 1e6
    with B2_FILE.open() as fh:
        ref = {float(r["T_K"]): float(r["B2_cm3_per_mol"]) for r in csv.DictReader(fh)}
    assert abs(b2 - ref[300.0]) < 1e-3, (b2, ref[300.0])
    rows = []
    for T, rho in STATES:
        rho_m = rho / (AVOGADRO * M3_PER_A3)
        rl, _ = _saturation(model, T)
        assert rho_m > rl, f"({T} K, {rho}) is not denser than the saturated liquid"
        p, kappa, _, e_res = _props(model, T, rho_m)
        assert kappa > 0 and p > 0, (T, rho, p, kappa)
        rows.append(
            [
                _fmt(T, 5),
                _fmt(rho, 5),
                _fmt(p),
                _fmt(U_RHO_REL / kappa, 3),
                _fmt(e_res),
                _fmt(U_E_REL * abs(e_res), 3),
                _fmt(kappa),
            ]
        )
    header = [
        "T_K",
        "rho_per_A3",
        "p_MPa",
        "u_p_MPa",
        "E_res_kJ_per_mol",
        "u_E_res_kJ_per_mol",
        "kappa_T_per_MPa",
    ]
    print(f"teqp {teqp_version}, Python {platform.python_version()}, numpy {np.__version__}")
    return _csv(header, rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite an existing, different file")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    payload = build()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "liquid_states.csv"
    if path.exists() and not args.force and path.read_bytes() != payload:
        print(f"{path} exists and differs; pass --force to replace it", file=sys.stderr)
        return 1
    path.write_bytes(payload)
    print(f"{path}  sha256 {hashlib.sha256(payload).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
