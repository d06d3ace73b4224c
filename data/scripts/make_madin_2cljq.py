"""Make data/madin_2cljq/: row subsets of data/vle/saturation_<fluid>.csv (studies/madin_2cljq.py).

The Madin, Messerly and Shirts comparison trains on 0.55-0.95 Tc (their range) through the
Stoll et al. (2001) correlations and holds out the rows at 0.50-0.55 Tc: the correlations are
used down to half the model's critical temperature (``bayesff.observables.vle.
CORRELATION_T_R_MIN``), and every row of a target is checked when a problem is built, so each
file here keeps the rows of the reference-EOS file from 0.50 Tc to 0.95 Tc, unchanged (same
bytes per row). Nothing is recomputed: values, uncertainties and provenance are those of
data/vle/ (data/manifest.toml, data/scripts/make_vle_data.py).

Run from the repository root: ``python data/scripts/make_madin_2cljq.py``; it rewrites the CSV
files and prints each one's sha256 for data/manifest.toml.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Lowest T / Tc kept per fluid (nitrogen's file starts at 0.50 Tc, its triple point).
LOWEST_T_OVER_TC = {
    "nitrogen": 0.5,
    "oxygen": 0.5,
    "fluorine": 0.5,
    "ethylene": 0.5,
    "ethane": 0.5,
}

ROOT = Path(__file__).resolve().parents[2]


def subset(fluid: str, lowest: float) -> bytes:
    """The header and the rows of the data/vle file with T/Tc >= ``lowest`` (bytes unchanged)."""
    lines = (ROOT / "data" / "vle" / f"saturation_{fluid}.csv").read_bytes().splitlines(True)
    header, rows = lines[0], lines[1:]
    col = header.decode().strip().split(",").index("T_over_Tc")
    # the file's T/Tc is rounded to 6 digits: a 1e-9 slack keeps a row that sits on the bound
    keep = [r for r in rows if float(r.decode().split(",")[col]) >= lowest - 1e-9]
    return header + b"".join(keep)


def main() -> None:
    for fluid, lowest in LOWEST_T_OVER_TC.items():
        out = ROOT / "data" / "madin_2cljq" / f"saturation_{fluid}.csv"
        data = subset(fluid, lowest)
        out.write_bytes(data)
        print(
            f"{out.relative_to(ROOT)} {len(data.splitlines()) - 1} rows "
            f"sha256 {hashlib.sha256(data).hexdigest()}"
        )


if __name__ == "__main__":
    main()
