"""Make data/polar_gases/: B2(T) of 8 polar fluids and their measured gas-phase dipole moments.

* ``b2_<fluid>.csv`` -- COMPUTED FROM REFERENCE EQUATIONS OF STATE, not measured:
  B2(T) of water, ammonia, sulfur dioxide, methanol, R32, R134a, hydrogen
  sulfide and hydrogen chloride from their reference equations of state via
  CoolProp, on :data:`make_atlas_data.N_B2` temperatures evenly spaced in log T
  from ``max(T_triple, 0.5 Tc, EOS lower limit)`` to the EOS's stated upper
  limit (rounded to 0.01 K). Columns ``T_K``, ``T_over_Tc``, ``B2_cm3_per_mol``,
  ``u_B2_cm3_per_mol`` (and ``B2_GERG2008_cm3_per_mol`` for water, the one
  GERG-2008 component whose GERG equation differs from its reference EOS).
  Same evaluation, checks and uncertainty rule as
  data/scripts/make_atlas_data.py: ``u_B2 = sqrt(d^2 +
  f^2)``, ``d`` the GERG-2008 spread where a second equation exists, ``f =
  max(0.5 cm^3/mol, 2 % |B2|)``, the 2 % OUR ASSUMPTION (none of these EOS
  papers states a B2 uncertainty in a source we could read).
* ``fluids.csv`` -- critical constants, triple point, molar mass, EOS
  reference and stated validity range of each fluid (CoolProp).
* ``dipole_moments.csv`` -- MEASURED gas-phase electric dipole moments (debye),
  one row per (molecule, source), ``preferred = 1`` for the value to compare
  with; values typed in from the cited sources (:data:`DIPOLES`).

Usage (repository root, CoolProp and teqp from the ``[data]`` extra)::

    python data/scripts/make_polar_gases_data.py [--force] [--manifest]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_atlas_data as atlas  # sibling script: the shared evaluation
from make_atlas_data import Fluid

OUT_DIR = atlas.REPO_ROOT / "data" / "polar_gases"
SCRIPT = "data/scripts/make_polar_gases_data.py"
NO_DENSITY = "not used (B2 only)"

POLAR_FLUIDS: tuple[Fluid, ...] = (
    Fluid(
        key="water",
        coolprop="Water",
        name="water",
        formula="H2O",
        geometry="non-linear",
        model_class="polar",
        eos=(
            "W. Wagner, A. Pruss, 'The IAPWS Formulation 1995 for the Thermodynamic Properties of "
            "Ordinary Water Substance for General and Scientific Use', J. Phys. Chem. Ref. Data "
            "31, 387 (2002)"
        ),
        eos_doi="10.1063/1.1461829",
        T_lo_K=273.16,
        T_hi_K=1273.0,
        p_hi_MPa=1000.0,
        validity=(
            "IAPWS-95 range of validity (melting line to 1273 K, 1000 MPa); CoolProp allows 2000 "
            "K, an extrapolation we do not use"
        ),
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
        gerg="water",
    ),
    Fluid(
        key="ammonia",
        coolprop="Ammonia",
        name="ammonia",
        formula="NH3",
        geometry="non-linear",
        model_class="polar",
        eos=(
            "K. Gao, J. Wu, I. H. Bell, E. W. Lemmon, 'Thermodynamic Properties of Ammonia for "
            "Temperatures from the Melting Line to 725 K and Pressures to 1000 MPa', J. Phys. "
            "Chem. Ref. Data (2020) as cited by CoolProp (key Gao-JPCRD-2020)"
        ),
        eos_doi="",
        T_lo_K=195.49,
        T_hi_K=725.0,
        p_hi_MPa=1000.0,
        validity="title of the EOS paper",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
        note=(
            "The EES documentation cites the published ammonia reference EOS as K. Gao, J. Wu, I. "
            "H. Bell, A. H. Harvey, E. W. Lemmon, J. Phys. Chem. Ref. Data 52, 013102 (2023), "
            "doi:10.1063/5.0128269; we did not check that CoolProp's coefficients are that "
            "version."
        ),
    ),
    Fluid(
        key="sulfur_dioxide",
        coolprop="SulfurDioxide",
        name="sulfur dioxide",
        formula="SO2",
        geometry="non-linear",
        model_class="polar",
        eos=(
            "K. Gao, J. Wu, P. Zhang, E. W. Lemmon, 'A Helmholtz Energy Equation of State for "
            "Sulfur Dioxide', J. Chem. Eng. Data 61, 2859 (2016)"
        ),
        eos_doi="",
        T_lo_K=197.7,
        T_hi_K=525.0,
        p_hi_MPa=35.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
    ),
    Fluid(
        key="methanol",
        coolprop="Methanol",
        name="methanol",
        formula="CH3OH",
        geometry="non-linear",
        model_class="polar",
        eos=(
            "K. M. de Reuck, R. J. B. Craven, Methanol: International Thermodynamic Tables of the "
            "Fluid State 12, Blackwell Scientific, Oxford (1993)"
        ),
        eos_doi="",
        T_lo_K=175.61,
        T_hi_K=620.0,
        p_hi_MPa=800.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
        note="Associating fluid: B2 at the low end (~0.5 Tc) is large and least constrained.",
    ),
    Fluid(
        key="r32",
        coolprop="R32",
        name="difluoromethane (R32)",
        formula="CH2F2",
        geometry="non-linear",
        model_class="polar",
        eos="R. Tillner-Roth, A. Yokozeki, J. Phys. Chem. Ref. Data 26, 1273 (1997)",
        eos_doi="10.1063/1.556002",
        T_lo_K=136.34,
        T_hi_K=435.0,
        p_hi_MPa=70.0,
        validity="title of the EOS paper",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
        note="EOS upper limit 435 K = 1.24 Tc: no high-temperature B2.",
    ),
    Fluid(
        key="r134a",
        coolprop="R134a",
        name="1,1,1,2-tetrafluoroethane (R134a)",
        formula="C2H2F4",
        geometry="non-linear",
        model_class="polar",
        eos="R. Tillner-Roth, H. D. Baehr, J. Phys. Chem. Ref. Data 23, 657 (1994)",
        eos_doi="10.1063/1.555958",
        T_lo_K=169.85,
        T_hi_K=455.0,
        p_hi_MPa=70.0,
        validity="title of the EOS paper (170-455 K, 70 MPa)",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
        note="EOS upper limit 455 K = 1.22 Tc: no high-temperature B2.",
    ),
    Fluid(
        key="hydrogen_sulfide",
        coolprop="HydrogenSulfide",
        name="hydrogen sulfide",
        formula="H2S",
        geometry="non-linear",
        model_class="polar",
        eos=atlas.LEMMON_SPAN,
        eos_doi="10.1021/je050186n",
        T_lo_K=187.7,
        T_hi_K=760.0,
        p_hi_MPa=170.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
        note=(
            "GERG-2008's pure-fluid equation for H2S is this same Lemmon-Span equation (B2 "
            "identical to machine precision), so it is not a second equation: no spread term."
        ),
    ),
    Fluid(
        key="hydrogen_chloride",
        coolprop="HydrogenChloride",
        name="hydrogen chloride",
        formula="HCl",
        geometry="linear",
        model_class="polar",
        eos=(
            "M. Thol, F. H. Dubberke, E. Baumhoegger, R. Span, J. Vrabec, 'Speed of Sound "
            "Measurements and a Fundamental Equation of State for Hydrogen Chloride', J. Chem. "
            "Eng. Data 63, 2533 (2018)"
        ),
        eos_doi="10.1021/acs.jced.7b01031",
        T_lo_K=159.07,
        T_hi_K=670.0,
        p_hi_MPa=680.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=atlas._assumed_density,
        density_source=NO_DENSITY,
    ),
)

CCCBDB = (
    "NIST Computational Chemistry Comparison and Benchmark Database (CCCBDB), NIST Standard "
    "Reference Database 101, experimental dipole moments, as collected from cccbdb.nist.gov in "
    "the data file 'chemicals/Misc/cccbdb.nist.gov Dipoles.csv' of the MIT-licensed chemicals "
    "library (github.com/CalebBell/chemicals, commit 82faef900dcf2b48537c31bcf1ab56c35bb79a1e)"
)
MEYER_MORRISON = (
    "C. W. Meyer, G. Morrison, J. Chem. Eng. Data 36, 409 (1991) (dielectric measurement in the "
    "gas), as cited in the dipole-moment line of NIST REFPROP 10's fluid file"
)
SHOSTAK = (
    "S. L. Shostak, W. L. Ebenstein, J. S. Muenter, 'The dipole moment of water. I. Dipole "
    "moments and hyperfine properties of H2O and HDO in the ground and excited vibrational "
    "states', J. Chem. Phys. 94, 5875 (1991) (molecular-beam electric resonance), as cited in the "
    "dipole-moment line of NIST REFPROP 10's fluid file"
)

#: (fluid key, dipole moment in debye, source, preferred). Values typed in from the sources;
#: never computed. Molecules without a citable value are left out of the study.
DIPOLES: tuple[tuple[str, float, str, int], ...] = (
    ("water", 1.855, SHOSTAK, 1),
    ("water", 1.85, CCCBDB, 0),
    ("ammonia", 1.47, CCCBDB, 1),
    ("sulfur_dioxide", 1.63, CCCBDB, 1),
    ("methanol", 1.70, CCCBDB, 1),
    ("r32", 1.978, MEYER_MORRISON, 1),
    ("r32", 1.97, CCCBDB, 0),
    ("r134a", 2.058, MEYER_MORRISON, 1),
    ("hydrogen_sulfide", 0.97, CCCBDB, 1),
    ("hydrogen_chloride", 1.08, CCCBDB, 1),
)

FLUID_COLUMNS = (
    "fluid",
    "coolprop_name",
    "formula",
    "Tc_K",
    "pc_MPa",
    "rhoc_mol_per_m3",
    "Vc_cm3_per_mol",
    "T_triple_K",
    "M_g_per_mol",
    "eos_T_min_K",
    "eos_T_max_K",
    "eos_p_max_MPa",
    "eos_reference",
    "eos_doi",
    "eos_validity_source",
    "second_equation",
    "B2_T_min_K",
    "B2_T_max_K",
    "note",
)


def fluid_row(fluid: Fluid, rows: list[dict]) -> dict:
    c = atlas.constants(fluid)
    return {
        "fluid": fluid.key,
        "coolprop_name": fluid.coolprop,
        "formula": fluid.formula,
        "Tc_K": f"{c['Tc_K']:.8g}",
        "pc_MPa": f"{c['pc_MPa']:.8g}",
        "rhoc_mol_per_m3": f"{c['rhoc_mol_per_m3']:.8g}",
        "Vc_cm3_per_mol": f"{c['Vc_cm3_per_mol']:.8g}",
        "T_triple_K": f"{c['T_triple_K']:.8g}",
        "M_g_per_mol": f"{c['M_g_per_mol']:.8g}",
        "eos_T_min_K": f"{fluid.T_lo_K:g}",
        "eos_T_max_K": f"{fluid.T_hi_K:g}",
        "eos_p_max_MPa": f"{fluid.p_hi_MPa:g}",
        "eos_reference": fluid.eos,
        "eos_doi": fluid.eos_doi,
        "eos_validity_source": fluid.validity,
        "second_equation": atlas.GERG if fluid.gerg else "none",
        "B2_T_min_K": f"{rows[0]['T_K']:g}",
        "B2_T_max_K": f"{rows[-1]['T_K']:g}",
        "note": fluid.note,
    }


def dipole_csv() -> bytes:
    formula = {f.key: f.formula for f in POLAR_FLUIDS}
    rows = [
        {
            "fluid": k,
            "formula": formula[k],
            "mu_D": f"{mu:g}",
            "preferred": str(pref),
            "source": src,
        }
        for k, mu, src, pref in DIPOLES
    ]
    return atlas.to_csv(rows, ("fluid", "formula", "mu_D", "preferred", "source"))


def build(only: tuple[str, ...] = ()) -> tuple[dict[str, bytes], dict[str, dict]]:
    files, facts, frows = {}, {}, []
    for fluid in POLAR_FLUIDS:
        if only and fluid.key not in only:
            continue
        rows = atlas.b2_table(fluid)
        files[f"b2_{fluid.key}.csv"] = atlas.to_csv(rows, atlas.B2_COLUMNS)
        facts[f"b2_{fluid.key}.csv"] = {"fluid": fluid, "rows": rows}
        frows.append(fluid_row(fluid, rows))
    if not only:
        files["fluids.csv"] = atlas.to_csv(frows, FLUID_COLUMNS)
        files["dipole_moments.csv"] = dipole_csv()
    return files, facts


def manifest_text(files: dict[str, bytes], facts: dict[str, dict], vers: dict[str, str]) -> str:
    vtext = atlas._versions_text(vers)
    out = []
    for name, payload in files.items():
        sha = hashlib.sha256(payload).hexdigest()
        header = payload.decode().splitlines()[0].split(",")
        units = {c: atlas.FLUID_UNITS.get(c) or atlas.UNITS.get(c, "text") for c in header}
        if name.startswith("b2_"):
            fluid, rows = facts[name]["fluid"], facts[name]["rows"]
            gerg = (
                f" Second equation: {atlas.GERG}, pure-fluid part, via teqp (GERG2008resid)."
                if fluid.gerg
                else ""
            )
            src = (
                f"Computed, not measured: {fluid.eos}"
                + (f", doi:{fluid.eos_doi}" if fluid.eos_doi else "")
                + f"; evaluated with CoolProp (fluid '{fluid.coolprop}', 'Bvirial', checked "
                "against "
                f"lim (Z-1)/rho at every T).{gerg} EOS stated validity "
                f"{fluid.T_lo_K:g}-{fluid.T_hi_K:g} K "
                f"({fluid.validity}). {vtext}." + (f" Note: {fluid.note}" if fluid.note else "")
            )
            title = (
                f"Second virial coefficient B2 of {fluid.name}, "
                f"{rows[0]['T_K']:g}-{rows[-1]['T_K']:g} K "
                f"({len(rows)} temperatures, log-spaced), from its reference equation of state "
                "(computed, not measured)"
            )
            spread = (
                "d = |B2(EOS) - B2(GERG-2008)| (GERG-2008 used beyond its extended range 60-700 K "
                "where the grid goes there, an extrapolation that only adds to u)"
                if fluid.gerg
                else "d = 0 (no second equation available to us)"
            )
            unc = (
                f"u_B2 = sqrt(d^2 + f^2): {spread}; f = max(0.5 cm^3/mol, 2 % |B2|), OUR "
                "ASSUMPTION (no B2 uncertainty stated by the EOS paper in a source we could read)."
            )
            kind, lic = "reference-equation", atlas.LICENCE
        elif name == "fluids.csv":
            title = (
                "Critical constants, triple points, molar masses, EOS references and validity "
                "ranges of the 8 polar fluids"
            )
            src = (
                "Computed from the reference equations of state via CoolProp and the EOS papers' "
                f"stated limits (per row, column eos_validity_source). {vtext}."
            )
            unc = "Constants of the equations as implemented in CoolProp; no uncertainty columns."
            kind, lic = "reference-equation", atlas.LICENCE
        elif name == "dipole_moments.csv":
            title = (
                "Measured gas-phase electric dipole moments (debye) of the 8 polar fluids, one "
                "row per source"
            )
            src = (
                "Measured values typed in from the sources named in each row (column source): "
                + "; ".join(sorted({s for _, _, s, _ in DIPOLES}))
                + "."
            )
            unc = (
                "No u column: the cited values are quoted to 2-4 significant digits, i.e. to "
                "about 0.005-0.01 D; rows with preferred = 1 are the values to compare with. "
                "CCCBDB values are a compilation of experimental values from the literature."
            )
            units["mu_D"] = "D"
            kind = "measured"
            lic = (
                "Facts from the cited measurements and compilations (not relicensed); file by the "
                "bayesff developers under the bayesff licence (MIT)."
            )
        else:
            raise KeyError(name)
        out.append(
            atlas.manifest_entry(
                f"polar_gases/{name}", kind, title, src, lic, SCRIPT, sha, unc, units
            )
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    ap.add_argument("--force", action="store_true", help="overwrite existing files that differ")
    ap.add_argument("--only", nargs="*", default=(), help="fluid keys (files of those only)")
    ap.add_argument(
        "--manifest", action="store_true", help="print the manifest entries, write nothing"
    )
    args = ap.parse_args(argv)
    try:
        vers = atlas.versions()
    except ImportError as exc:
        print(
            f"missing dependency ({exc}); install with: pip install -e '.[data]'", file=sys.stderr
        )
        return 2
    files, facts = build(tuple(args.only))
    if args.manifest:
        print(manifest_text(files, facts, vers))
        return 0
    rc = atlas.write_files(files, args.out, args.force)
    print(atlas._versions_text(vers))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
