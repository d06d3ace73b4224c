"""Make data/argon/b2.csv: the second virial coefficient B2(T) of argon, 85-700 K.

The values are COMPUTED FROM REFERENCE EQUATIONS OF STATE, not measured:

* B2_cm3_per_mol: the Tegeler-Span-Wagner reference equation of state for argon
  (Ch. Tegeler, R. Span, W. Wagner, J. Phys. Chem. Ref. Data 28, 779 (1999),
  doi:10.1063/1.556037), valid from the melting line to 700 K, evaluated with
  CoolProp (fluid "Argon", output "Bvirial", in m^3/mol, converted here to
  cm^3/mol). The script checks that "Bvirial" really is the EOS's B2 by comparing
  it with the zero-density limit of (Z - 1)/rho computed from the EOS pressure.
* B2_GERG2008_cm3_per_mol: the pure-argon equation of GERG-2008 (O. Kunz,
  W. Wagner, J. Chem. Eng. Data 57, 3032 (2012), doi:10.1021/je300655b),
  evaluated with teqp (model kind "GERG2008resid", AbstractModel.get_B2vir).
* u_B2_cm3_per_mol: a standard uncertainty, the quadrature sum of
  (a) |B2(TSW) - B2(GERG-2008)|, the spread between two independent equations of
      state fitted to (largely overlapping) experimental data, and
  (b) a floor max(0.5 cm^3/mol, 1 % of |B2|). The floor is OUR ASSUMPTION: the
      TSW paper states uncertainties for density, speed of sound and heat
      capacities but we found no stated uncertainty for B itself; the floor is a
      deliberately conservative stand-in for the uncertainty of the B data the
      equations were fitted to.

Usage (from the repository root, after ``pip install -e '.[data]'``)::

    python data/scripts/make_argon_b2.py [--force] [--out data/argon/b2.csv]

The script refuses to overwrite an existing file unless ``--force`` is given, and
prints the sha256 of the file it wrote together with the package versions it used
(copy both into data/manifest.toml).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import platform
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "data" / "argon" / "b2.csv"

M3_TO_CM3 = 1.0e6

# Temperature grid (K): dense at low T where B2 changes fast, 20 K steps above 200 K.
TEMPERATURES_K = np.concatenate(
    [
        np.arange(85.0, 130.0 + 1e-9, 5.0),  # 85, 90, ..., 130
        np.arange(140.0, 200.0 + 1e-9, 10.0),  # 140, ..., 200
        np.arange(220.0, 700.0 + 1e-9, 20.0),  # 220, ..., 700
    ]
)

# Floor on the standard uncertainty (assumption, see module docstring).
FLOOR_ABS_CM3_PER_MOL = 0.5
FLOOR_REL = 0.01

COLUMNS = ("T_K", "B2_cm3_per_mol", "u_B2_cm3_per_mol", "B2_GERG2008_cm3_per_mol")


def b2_tsw_coolprop(T: float) -> float:
    """B2 of argon from the TSW reference EOS via CoolProp, in cm^3/mol.

    CoolProp's "Bvirial" is the zero-density limit of d(alpha_r)/d(rho) of the
    Helmholtz-energy EOS, i.e. B2, in m^3/mol; it needs a (tiny) density input.
    """
    import CoolProp.CoolProp as CP

    return CP.PropsSI("Bvirial", "T", T, "Dmolar", 1.0e-10, "Argon") * M3_TO_CM3


def b2_tsw_limit(T: float) -> float:
    """Independent check: lim_{rho->0} (Z - 1)/rho from the TSW pressure, in cm^3/mol.

    (Z - 1)/rho = B2 + B3 rho + ...; evaluated at rho = 1 and 2 mol/m^3 and
    extrapolated linearly to rho = 0.
    """
    import CoolProp.CoolProp as CP

    R = CP.PropsSI("gas_constant", "Argon")  # the EOS's own R (8.31451 J/mol/K for TSW)

    def f(rho: float) -> float:
        p = CP.PropsSI("P", "T", T, "Dmolar", rho, "Argon")
        return (p / (rho * R * T) - 1.0) / rho

    f1, f2 = f(1.0), f(2.0)
    return (2.0 * f1 - f2) * M3_TO_CM3


def b2_gerg2008_teqp(T: float) -> float:
    """B2 of argon from the GERG-2008 pure-fluid equation via teqp, in cm^3/mol.

    get_B2vir(T, molefrac) is the zero-density limit of d(alpha_r)/d(rho), in m^3/mol.
    """
    model = _gerg_model()
    return float(model.get_B2vir(T, np.array([1.0]))) * M3_TO_CM3


@functools.cache
def _gerg_model():
    import teqp

    return teqp.make_model({"kind": "GERG2008resid", "model": {"names": ["argon"]}})


def build_table() -> list[tuple[float, float, float, float]]:
    rows = []
    for T in TEMPERATURES_K:
        T = float(T)
        b_tsw = b2_tsw_coolprop(T)
        b_lim = b2_tsw_limit(T)
        # Bvirial must be the EOS's B2: agree with the numerical limit to 1e-6 relative
        # (or 1e-6 cm^3/mol absolute near the Boyle temperature, where B2 ~ 0).
        if abs(b_tsw - b_lim) > max(1e-6 * abs(b_tsw), 1e-6):
            raise RuntimeError(
                f"CoolProp Bvirial ({b_tsw}) disagrees with lim (Z-1)/rho ({b_lim}) at T={T} K"
            )
        b_gerg = b2_gerg2008_teqp(T)
        spread = abs(b_tsw - b_gerg)
        floor = max(FLOOR_ABS_CM3_PER_MOL, FLOOR_REL * abs(b_tsw))
        u = float(np.hypot(spread, floor))
        rows.append((T, b_tsw, u, b_gerg))
    return rows


def to_csv(rows) -> str:
    buf = io.StringIO()
    buf.write(",".join(COLUMNS) + "\n")
    for T, b, u, bg in rows:
        # 4 decimals in cm^3/mol: at least 5-6 significant digits except near the
        # Boyle temperature (~410 K), far finer than u in every row.
        buf.write(f"{T:g},{b:.4f},{u:.4f},{bg:.4f}\n")
    return buf.getvalue()


def versions() -> dict[str, str]:
    import CoolProp
    import CoolProp.CoolProp as CP
    import teqp

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "CoolProp": f"{CoolProp.__version__} (git {CP.get_global_param_string('gitrevision')})",
        "teqp": teqp.__version__,
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

    try:
        vers = versions()
    except ImportError as exc:
        print(
            f"missing dependency ({exc}); install with: pip install -e '.[data]'",
            file=sys.stderr,
        )
        return 2

    text = to_csv(build_table())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(text.encode("ascii"))
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()

    print(f"wrote {out} ({len(TEMPERATURES_K)} rows)")
    print(f"sha256 = {digest}")
    for name, v in vers.items():
        print(f"{name} = {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
