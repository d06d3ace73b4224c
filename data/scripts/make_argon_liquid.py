"""Make data/argon_liquid/: liquid-argon reference states for the joint calibration.

Files written (all in data/argon_liquid/):

* ``saturated_liquid.csv`` -- COMPUTED FROM A REFERENCE EQUATION OF STATE, not
  measured: the saturated liquid of argon at T = 90, 100, ..., 140 K from the
  Tegeler-Span-Wagner (TSW) equation (Ch. Tegeler, R. Span, W. Wagner, J. Phys.
  Chem. Ref. Data 28, 779 (1999), doi:10.1063/1.556037). Columns: T_K, p_MPa
  (vapour pressure), rho_per_A3 (saturated liquid number density),
  kappa_T_per_MPa (isothermal compressibility of the saturated liquid), S0
  (= rho k_B T kappa_T, the k -> 0 structure factor of the liquid),
  E_res_kJ_per_mol (residual internal energy per particle, u_res = R T A^r_10),
  each with a standard uncertainty column ``u_<name>``.
* ``s0_85K.csv`` -- the same equation at Yarnell's state (T = 85 K,
  rho = 0.02125 1/angstrom^3, a compressed liquid just above saturation):
  S0, kappa_T_per_MPa, p_MPa with uncertainties.
* ``sq_85K_thinned.csv`` -- MEASURED: every 7th row of
  data/argon_yarnell1973/sq_85K_target.csv with 1.0 <= q <= 8.0 1/angstrom
  (values copied as text, unchanged). Why thinned: S(q) - 1 is the Fourier
  transform of h(r), which is negligible beyond R ~ 15 angstrom, so S(q) holds
  about one independent value per pi / R ~ 0.2 1/angstrom; the file's grid is
  0.0294 1/angstrom, 7 times finer. The q window drops q < 1 (S(q) -> S(0), set
  by the compressibility, where the closure is least accurate and the measured
  points have the largest relative error) and q > 8 (S ~ 1, little information,
  termination noise).

Evaluation: TSW from CoolProp's fluid file ``Argon.json`` (EOS BibTeX key
"Tegeler-JPCRD-1999"; 41-term Helmholtz energy) as bundled with teqp 0.23.2
(``teqp.build_multifluid_model(["Argon"], teqp.get_datapath())``); CoolProp
itself is not installed in the project environment. Saturation from
``pure_VLE_T`` (Maxwell construction of the EOS, started from the EOS's own
ancillary equations), checked: equal pressure and equal chemical potential of
the two phases to 1e-9 relative. As a cross-check of the evaluation the script
compares B2(300 K) with data/argon/b2.csv (CoolProp 8.0.0, same equation).

Uncertainties (standard, our reading of Tegeler et al. 1999, abstract and
section 8): density "less than 0.02 % for pressures up to 12 MPa and temperatures
up to 340 K with the exception of the critical region"; we use u(rho) = 0.02 %
of rho up to 130 K and 0.1 % at 140 K (T/Tc > 0.89, the edge of the
critical region: OUR ASSUMPTION). Vapour pressure: 0.02 % (the paper quotes
comparable or smaller deviations of the best vapour-pressure data; assumption).
kappa_T and S0: 2 %, E_res: 0.5 % -- ASSUMED (the paper gives no uncertainty
for derivatives of p(rho); 2 % is its stated uncertainty of liquid heat
capacities, a second derivative of the same Helmholtz energy). These are the
uncertainties of the equation, i.e. of the reference values; the model error
of an integral-equation prediction is far larger (docs/joint.md).

Usage (repository root)::

    python data/scripts/make_argon_liquid.py [--force]

Prints each file's sha256 and the package versions (copy them into the
manifest).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import platform
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "data" / "argon_liquid"
YARNELL = REPO_ROOT / "data" / "argon_yarnell1973" / "sq_85K_target.csv"
B2_FILE = REPO_ROOT / "data" / "argon" / "b2.csv"

AVOGADRO = 6.02214076e23  # 1/mol, exact (SI 2019)
M3_PER_A3 = 1e-30
TEMPERATURES_K = np.arange(90.0, 140.0 + 1e-9, 10.0)
YARNELL_T_K, YARNELL_RHO = 85.0, 0.02125
Q_WINDOW = (1.0, 8.0)
THIN = 7

U_RHO_REL = lambda T: 2e-4 if T <= 130.0 else 1e-3  # noqa: E731  (see docstring)
U_P_REL = 2e-4
U_KAPPA_REL = 0.02
U_E_REL = 0.005


def _model():
    import teqp

    return teqp.build_multifluid_model(["Argon"], teqp.get_datapath()), teqp.__version__


def _props(model, T, rho_molar):
    """p (MPa), kappa_T (1/MPa), S0, u_res (kJ/mol) at T (K), rho (mol/m^3)."""
    z = np.array([1.0])
    R = model.get_R(z)
    a01 = model.get_Ar01(T, rho_molar, z)
    a02 = model.get_Ar02n(T, rho_molar, z)[2]
    a10 = model.get_Ar10(T, rho_molar, z)
    p = rho_molar * R * T * (1.0 + a01) * 1e-6
    dpdrho = R * T * (1.0 + 2.0 * a01 + a02)  # Pa m^3/mol
    kappa = 1.0 / (rho_molar * dpdrho) * 1e6  # 1/MPa
    s0 = 1.0 / (1.0 + 2.0 * a01 + a02)
    e_res = R * T * a10 * 1e-3
    return p, kappa, s0, e_res


def _saturation(model, T):
    import teqp

    anc = model.build_ancillaries()
    rl, rv = model.pure_VLE_T(T, anc.rhoL(T), anc.rhoV(T), 20)
    pl, *_ = _props(model, T, rl)
    pv, *_ = _props(model, T, rv)
    z = np.array([1.0])
    # chemical potential equality: mu_res/RT + ln(rho) equal in both phases
    mu = [model.get_Ar00(T, r, z) + model.get_Ar01(T, r, z) + np.log(r) for r in (rl, rv)]
    assert abs(pl / pv - 1.0) < 1e-9 and abs(mu[0] - mu[1]) < 1e-9, (T, pl, pv, mu)
    del teqp
    return rl, pl


def _fmt(x, sig=7):
    return f"{x:.{sig}g}"


def _csv(header, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def build() -> dict[str, bytes]:
    model, teqp_version = _model()
    # cross-check the evaluation against data/argon/b2.csv (CoolProp, same equation)
    b2 = model.get_B2vir(300.0, np.array([1.0])) * 1e6
    with B2_FILE.open() as fh:
        ref = {float(r["T_K"]): float(r["B2_cm3_per_mol"]) for r in csv.DictReader(fh)}
    assert abs(b2 - ref[300.0]) < 1e-3, (b2, ref[300.0])

    rows = []
    for T in TEMPERATURES_K:
        rl, p = _saturation(model, T)
        _, kappa, s0, e_res = _props(model, T, rl)
        rho = rl * AVOGADRO * M3_PER_A3
        rows.append(
            [
                _fmt(T, 5),
                _fmt(p),
                _fmt(U_P_REL * p, 3),
                _fmt(rho),
                _fmt(U_RHO_REL(T) * rho, 3),
                _fmt(kappa),
                _fmt(U_KAPPA_REL * kappa, 3),
                _fmt(s0),
                _fmt(U_KAPPA_REL * s0, 3),
                _fmt(e_res),
                _fmt(U_E_REL * abs(e_res), 3),
            ]
        )
    sat = _csv(
        [
            "T_K",
            "p_MPa",
            "u_p_MPa",
            "rho_per_A3",
            "u_rho_per_A3",
            "kappa_T_per_MPa",
            "u_kappa_T_per_MPa",
            "S0",
            "u_S0",
            "E_res_kJ_per_mol",
            "u_E_res_kJ_per_mol",
        ],
        rows,
    )

    rho_m = YARNELL_RHO / (AVOGADRO * M3_PER_A3)
    p, kappa, s0, _ = _props(model, YARNELL_T_K, rho_m)
    _, p_sat = _saturation(model, YARNELL_T_K)
    assert p > p_sat, "Yarnell's state should be a (compressed) liquid on the TSW equation"
    s0_rows = [
        [
            _fmt(YARNELL_T_K, 5),
            _fmt(YARNELL_RHO, 5),
            _fmt(s0),
            _fmt(U_KAPPA_REL * s0, 3),
            _fmt(kappa),
            _fmt(U_KAPPA_REL * kappa, 3),
            _fmt(p),
        ]
    ]
    s0_file = _csv(
        ["T_K", "rho_per_A3", "S0", "u_S0", "kappa_T_per_MPa", "u_kappa_T_per_MPa", "p_MPa"],
        s0_rows,
    )

    with YARNELL.open() as fh:
        lines = fh.read().splitlines()
    header, body = lines[0], lines[1:]
    q = [float(line.split(",")[2]) for line in body]
    window = [line for line, qq in zip(body, q, strict=True) if Q_WINDOW[0] <= qq <= Q_WINDOW[1]]
    thinned = ("\n".join([header, *window[::THIN]]) + "\n").encode()

    print(f"teqp {teqp_version}, Python {platform.python_version()}, numpy {np.__version__}")
    return {
        "saturated_liquid.csv": sat,
        "s0_85K.csv": s0_file,
        "sq_85K_thinned.csv": thinned,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    files = build()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        path = args.out / name
        if path.exists() and not args.force and path.read_bytes() != payload:
            print(f"{path} exists and differs; pass --force to replace it", file=sys.stderr)
            return 1
        path.write_bytes(payload)
        print(f"{path.relative_to(REPO_ROOT)}  sha256 {hashlib.sha256(payload).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
