"""Make data/atlas/: reference-equation data of 14 simple fluids for the transferability atlas.

COMPUTED FROM REFERENCE EQUATIONS OF STATE, not measured. For every fluid of
:data:`FLUIDS` (neon, argon, krypton, xenon, methane, nitrogen, oxygen, carbon
monoxide, fluorine, tetrafluoromethane R14, sulfur hexafluoride, ethane,
ethylene, carbon dioxide) the script evaluates the fluid's reference equation of
state (EOS) with CoolProp and writes

* ``b2_<fluid>.csv``: the second virial coefficient B2(T) on a grid of
  :data:`N_B2` temperatures spaced evenly in log T from
  ``T_lo = max(T_triple, 0.5 Tc, EOS lower limit)`` to the EOS's stated upper
  temperature limit, rounded to 0.01 K. Columns ``T_K``, ``T_over_Tc``,
  ``B2_cm3_per_mol``, ``u_B2_cm3_per_mol``, (``B2_GERG2008_cm3_per_mol`` for the
  fluids with an independent GERG-2008 equation: argon, methane, nitrogen,
  oxygen, ethane, carbon dioxide), ``dB2_q1_cm3_per_mol`` and ``q1_over_u`` (the
  quantum-correction estimate, see below).
* ``liquid_<fluid>.csv``: pressure and residual internal energy at (T, rho)
  states: ``branch = 0``, :data:`N_SAT` temperatures spaced evenly from
  ``max(T_triple, EOS lower limit)`` to ``0.95 Tc`` (rounded to 0.01 K) at the
  saturated-liquid density; ``branch = 1`` and ``2``, the supercritical
  isotherms ``T = 1.5 Tc`` and ``T = min(2.5 Tc, EOS upper limit)`` at
  ``rho / rhoc`` in :data:`ISOTHERM_RHO_OVER_RHOC`, keeping only states whose
  pressure is within the EOS's stated pressure limit (dropped states are
  listed by the script and in the manifest). Densities are rounded to 7
  significant digits in 1/angstrom^3 and every property is evaluated at the
  rounded (T, rho) written to the file. Columns ``T_K``, ``rho_per_A3``,
  ``T_over_Tc``, ``rho_over_rhoc``, ``branch``, ``p_MPa``, ``u_p_MPa``,
  ``E_res_kJ_per_mol``, ``u_E_res_kJ_per_mol`` (and ``p_GERG2008_MPa``,
  ``E_res_GERG2008_kJ_per_mol`` for the same six fluids). These are the
  environment and value columns of the ``liquid_pressure`` and
  ``liquid_energy`` observables (bayesff/observables/structure.py).
* ``fluids.csv``: one row per fluid: critical constants, triple point, molar
  mass, EOS reference, DOI and stated validity range, geometry and model
  class, the uncertainty tier, and the quantum flag.
* ``bond_lengths.csv``: the equilibrium bond length of the four diatomic
  two-centre fluids (N2, O2, CO, F2), Huber and Herzberg (1979).

Uncertainties (standard uncertainties of the EQUATION's value, not of a
measurement; the rules are per fluid in :data:`FLUIDS` and in the manifest):

* ``u_B2 = sqrt(d^2 + f^2)``: ``d = |B2(EOS) - B2(GERG-2008)|`` for those six
  fluids (Kunz and Wagner 2012, doi:10.1021/je300655b, via teqp), 0 otherwise
  (GERG-2008's carbon monoxide equation is the reference EOS itself, so it
  gives no spread; the script refuses a "second" equation identical to the
  first); ``f = max(0.5 cm^3/mol, r |B2|)`` with ``r = 1 %`` for the fluids
  whose EOS paper states a gas-phase density uncertainty of at most 0.05 % that
  we could read (argon, methane, nitrogen, carbon dioxide, SF6) and ``r = 2 %``
  for all others. No EOS paper we read states an uncertainty for B2 itself:
  ``r`` is OUR ASSUMPTION, graded by the stated density uncertainty.
* ``u_p = sqrt((u_rho / kappa_T)^2 + d_p^2)``: the EOS's relative density
  uncertainty ``u_rho`` at (T, p) carried to p at fixed (T, rho)
  (``dp = (dp/drho)_T drho = u_rho / kappa_T``), from the paper's statement
  where we found one, assumed otherwise (``density_rule`` of each fluid), at
  least 0.1 % on the saturated liquid above 0.9 Tc (edge of the critical
  region, assumption); ``d_p`` is the GERG-2008 spread at the same (T, rho).
* ``u_E_res = sqrt((r_E E_res)^2 + d_E^2)``: ``r_E = 0.5 %`` (stated-tier
  fluids) or ``1 %`` (others), an ASSUMPTION (no EOS paper states an
  uncertainty for the internal energy; the closest stated caloric property,
  the heat capacity, has 0.3-2 %); ``d_E`` the GERG-2008 spread.

Quantum corrections: ``dB2_q1_cm3_per_mol`` is an ESTIMATE of the first
(Wigner-Kirkwood) quantum correction to B2 of the centre-of-mass motion,

    B2_q1(T) = N_A hbar^2 / (24 m (k T)^3) int_0^inf exp(-u/kT) (du/dr)^2 4 pi r^2 dr

(E. Wigner, Phys. Rev. 40, 749 (1932), doi:10.1103/PhysRev.40.749; J. O.
Hirschfelder, C. F. Curtiss, R. B. Bird, Molecular Theory of Gases and Liquids,
Wiley 1954, sec. 6.5), with u a Lennard-Jones potential fitted (weighted least
squares, classical B2) to the EOS B2 on the upper half of the temperature
grid, m the molecular mass. ``q1_over_u = |dB2_q1| / u_B2``; a fluid's
``quantum_flag`` in fluids.csv is 1 when the ratio exceeds 1 anywhere on its
grid. It is a flag, not a correction: rotational quantum effects and the
higher-order terms are not included, and the LJ is only a proxy.

Usage (repository root, CoolProp and teqp from the ``[data]`` extra)::

    python data/scripts/make_atlas_data.py [--force] [--out DIR] [--only FLUID ...]
    python data/scripts/make_atlas_data.py --manifest   # print manifest entries

The script refuses to overwrite existing files that differ unless ``--force``
is given, prints each file's sha256 and the package versions, and with
``--manifest`` prints the [[files]] entries for data/manifest.toml.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import hashlib
import io
import math
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "data" / "atlas"
SCRIPT = "data/scripts/make_atlas_data.py"

AVOGADRO = 6.02214076e23  # 1/mol, exact (SI 2019)
BOLTZMANN = 1.380649e-23  # J/K, exact (SI 2019)
HBAR = 1.054571817e-34  # J s (CODATA 2018, exact since h is exact)
M3_TO_CM3 = 1.0e6
M3_PER_A3 = 1.0e-30

N_B2 = 40
N_SAT = 8
SAT_T_HI_OVER_TC = 0.95
ISOTHERMS_OVER_TC = (1.5, 2.5)
ISOTHERM_RHO_OVER_RHOC = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
B2_FLOOR_ABS = 0.5  # cm^3/mol
B2_FLOOR_REL = {"stated": 0.01, "assumed": 0.02}
E_RES_REL = {"stated": 0.005, "assumed": 0.01}
NEAR_CRITICAL_U_RHO = 1e-3  # saturated liquid above 0.9 Tc (assumption)

GERG = "GERG-2008 (O. Kunz, W. Wagner, J. Chem. Eng. Data 57, 3032 (2012), doi:10.1021/je300655b)"
LEMMON_SPAN = (
    "E. W. Lemmon, R. Span, 'Short Fundamental Equations of State for 20 Industrial Fluids', J. "
    "Chem. Eng. Data 51, 785 (2006)"
)
NOT_FOUND = (
    "no density-uncertainty statement of this EOS found in the sources available to us; ASSUMED "
    "0.2 % for p <= 30 MPa and 1 % above"
)


def _assumed_density(T: float, p: float) -> float:
    return 2e-3 if p <= 30.0 else 1e-2


def _argon_density(T: float, p: float) -> float:
    if p <= 12.0 and T <= 340.0:
        return 2e-4
    if p <= 30.0 and 235.0 <= T <= 520.0:
        return 3e-4
    return 2e-3


def _methane_density(T: float, p: float) -> float:
    return 3e-4 if (p < 12.0 and T < 350.0) else 1.5e-3


def _nitrogen_density(T: float, p: float) -> float:
    if p < 12.0 and 270.0 <= T <= 350.0:
        return 1e-4
    return 2e-4 if p <= 30.0 else 6e-3


def _co2_density(T: float, p: float) -> float:
    return 5e-4 if (p <= 30.0 and T <= 523.0) else 5e-3


def _sf6_density(T: float, p: float) -> float:
    if p <= 30.0:
        if T < 340.0:
            return 2e-4
        if T < 500.0:
            return 3e-4
        return 3e-3
    # 0.2 % above 30 MPa, increasing (linearly, our reading) to 1 % at the 150 MPa limit
    return 2e-3 + (1e-2 - 2e-3) * min(1.0, (p - 30.0) / (150.0 - 30.0))


@dataclasses.dataclass(frozen=True)
class Fluid:
    """One fluid: its CoolProp name, its EOS and the uncertainty rules applied to it."""

    key: str  # file stem
    coolprop: str
    name: str
    formula: str
    geometry: str  # atom | spherical top | linear | non-linear
    model_class: str  # spherical | two-centre
    eos: str  # citation
    eos_doi: str  # "" where the EOS has no DOI
    T_lo_K: float  # stated lower temperature limit of the EOS
    T_hi_K: float  # stated upper temperature limit
    p_hi_MPa: float  # stated upper pressure limit
    validity: str  # where the limits come from
    tier: str  # "stated" or "assumed" (density-uncertainty statement found or not)
    density_rule: Callable[[float, float], float]
    density_source: str
    gerg: str | None = None  # teqp GERG-2008 component name
    note: str = ""


FLUIDS: tuple[Fluid, ...] = (
    Fluid(
        key="neon",
        coolprop="Neon",
        name="neon",
        formula="Ne",
        geometry="atom",
        model_class="spherical",
        eos=(
            "M. Thol, R. Beckmueller, R. Weiss, A. H. Harvey, E. W. Lemmon, R. T. Jacobsen, R. "
            "Span, 'Thermodynamic Properties for Neon for Temperatures from the Triple Point to "
            "700 K at Pressures to 700 MPa', submitted to J. Phys. Chem. Ref. Data (2019) as "
            "cited by CoolProp (key Thol-JPCRD-2019-Neon); we found no published version"
        ),
        eos_doi="",
        T_lo_K=24.556,
        T_hi_K=700.0,
        p_hi_MPa=700.0,
        validity="title of the EOS paper",
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        note=(
            "QUANTUM: translational quantum corrections to B2 exceed u_B2 at low T (see q1_over_u "
            "in b2_neon.csv); quantum B2 of neon from ab initio potentials: R. Hellmann, J. Chem. "
            "Phys. 154, 164304 (2021); path-integral (quantum) virial calculations for neon: G. "
            "Garberoglio, A. H. Harvey, J. Res. Natl. Inst. Stand. Technol. (2020). EOS "
            "unpublished as far as we could find."
        ),
    ),
    Fluid(
        key="argon",
        coolprop="Argon",
        name="argon",
        formula="Ar",
        geometry="atom",
        model_class="spherical",
        eos="Ch. Tegeler, R. Span, W. Wagner, J. Phys. Chem. Ref. Data 28, 779 (1999)",
        eos_doi="10.1063/1.556037",
        T_lo_K=83.806,
        T_hi_K=700.0,
        p_hi_MPa=1000.0,
        validity="title of the EOS paper",
        tier="stated",
        density_rule=_argon_density,
        density_source=(
            "Tegeler et al. (1999) abstract: density < 0.02 % to 12 MPa and 340 K (outside the "
            "critical region), < 0.03 % to 30 MPa for 235-520 K; elsewhere 'generally within 0.2 "
            "%' (the fuller statement quoted on the NIST Chemistry WebBook fluid pages)"
        ),
        gerg="argon",
    ),
    Fluid(
        key="krypton",
        coolprop="Krypton",
        name="krypton",
        formula="Kr",
        geometry="atom",
        model_class="spherical",
        eos=LEMMON_SPAN,
        eos_doi="10.1021/je050186n",
        T_lo_K=115.775,
        T_hi_K=750.0,
        p_hi_MPa=200.0,
        validity=(
            "CoolProp's limits of this EOS (Tmax, pmax); lower limit the triple point "
            "115.775 K of the EOS paper (CoolProp's Tmin rounds it to 115.77 K)"
        ),
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
    ),
    Fluid(
        key="xenon",
        coolprop="Xenon",
        name="xenon",
        formula="Xe",
        geometry="atom",
        model_class="spherical",
        eos=LEMMON_SPAN,
        eos_doi="10.1021/je050186n",
        T_lo_K=161.405,
        T_hi_K=750.0,
        p_hi_MPa=700.0,
        validity=(
            "CoolProp's limits of this EOS (Tmax, pmax); lower limit the triple point "
            "161.405 K of the EOS paper (CoolProp's Tmin rounds it to 161.4 K)"
        ),
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
    ),
    Fluid(
        key="methane",
        coolprop="Methane",
        name="methane",
        formula="CH4",
        geometry="spherical top",
        model_class="spherical",
        eos="U. Setzmann, W. Wagner, J. Phys. Chem. Ref. Data 20, 1061 (1991)",
        eos_doi="10.1063/1.555898",
        T_lo_K=90.6941,
        T_hi_K=625.0,
        p_hi_MPa=1000.0,
        validity="title of the EOS paper",
        tier="stated",
        density_rule=_methane_density,
        density_source=(
            "Setzmann and Wagner (1991) abstract: density 0.03 % below 12 MPa and 350 K, "
            "0.03-0.15 % at higher pressures and temperatures (we use 0.15 % there)"
        ),
        gerg="methane",
    ),
    Fluid(
        key="nitrogen",
        coolprop="Nitrogen",
        name="nitrogen",
        formula="N2",
        geometry="linear",
        model_class="two-centre",
        eos=(
            "R. Span, E. W. Lemmon, R. T. Jacobsen, W. Wagner, A. Yokozeki, J. Phys. Chem. Ref. "
            "Data 29, 1361 (2000)"
        ),
        eos_doi="10.1063/1.1349047",
        T_lo_K=63.151,
        T_hi_K=1000.0,
        p_hi_MPa=2200.0,
        validity="title of the EOS paper",
        tier="stated",
        density_rule=_nitrogen_density,
        density_source=(
            "Span et al. (2000) abstract: density 0.02 % below 30 MPa, 0.01 % for 270-350 K below "
            "12 MPa, up to 0.6 % at very high pressures (we use 0.6 % above 30 MPa, the stated "
            "bound)"
        ),
        gerg="nitrogen",
    ),
    Fluid(
        key="oxygen",
        coolprop="Oxygen",
        name="oxygen",
        formula="O2",
        geometry="linear",
        model_class="two-centre",
        eos=(
            "R. Schmidt, W. Wagner, Fluid Phase Equilib. 19, 175 (1985), "
            "doi:10.1016/0378-3812(85)87016-3; also R. B. Stewart, R. T. Jacobsen, W. Wagner, J. "
            "Phys. Chem. Ref. Data 20, 917 (1991), doi:10.1063/1.555897"
        ),
        eos_doi="10.1016/0378-3812(85)87016-3",
        T_lo_K=54.361,
        T_hi_K=300.0,
        p_hi_MPa=80.0,
        validity=(
            "title of Stewart et al. (1991), 'from the Triple Point to 300 K with Pressures to 80 "
            "MPa' (CoolProp allows up to 2000 K: an extrapolation we do not use)"
        ),
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        gerg="oxygen",
    ),
    Fluid(
        key="carbon_monoxide",
        coolprop="CarbonMonoxide",
        name="carbon monoxide",
        formula="CO",
        geometry="linear",
        model_class="two-centre",
        eos=LEMMON_SPAN,
        eos_doi="10.1021/je050186n",
        T_lo_K=68.16,
        T_hi_K=500.0,
        p_hi_MPa=100.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        note=(
            "GERG-2008's pure-fluid equation for CO is this same Lemmon-Span equation (B2 "
            "identical to machine precision), so it is not a second equation: no spread term."
        ),
    ),
    Fluid(
        key="fluorine",
        coolprop="Fluorine",
        name="fluorine",
        formula="F2",
        geometry="linear",
        model_class="two-centre",
        eos=(
            "K. M. de Reuck, Fluorine: International Thermodynamic Tables of the Fluid State 11, "
            "Blackwell Scientific, Oxford (1990)"
        ),
        eos_doi="",
        T_lo_K=53.4811,
        T_hi_K=300.0,
        p_hi_MPa=20.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        note=(
            "EOS from a 1990 book; its upper limits (300 K, 20 MPa) remove the 2.5 Tc isotherm "
            "(replaced by 300 K) and most dense supercritical states."
        ),
    ),
    Fluid(
        key="r14",
        coolprop="R14",
        name="tetrafluoromethane (R14)",
        formula="CF4",
        geometry="spherical top",
        model_class="spherical",
        eos=(
            "B. Platzer, A. Polt, G. Maurer, Thermophysical Properties of Refrigerants, Springer, "
            "Berlin (1990)"
        ),
        eos_doi="10.1007/978-3-662-02608-3",
        T_lo_K=120.0,
        T_hi_K=623.0,
        p_hi_MPa=51.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax, pmax)",
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        note=(
            "The EOS starts at 120 K; the true triple point is 89.54 K (Simon 1967, as in "
            "CoolProp's fluid file), below the EOS range: T_triple_K and p_triple_MPa of this row "
            "are CoolProp's values at the EOS lower limit."
        ),
    ),
    Fluid(
        key="sf6",
        coolprop="SulfurHexafluoride",
        name="sulfur hexafluoride",
        formula="SF6",
        geometry="spherical top",
        model_class="spherical",
        eos="C. Guder, W. Wagner, J. Phys. Chem. Ref. Data 38, 33 (2009)",
        eos_doi="10.1063/1.3037344",
        T_lo_K=223.555,
        T_hi_K=625.0,
        p_hi_MPa=150.0,
        validity="title of the EOS paper",
        tier="stated",
        density_rule=_sf6_density,
        density_source=(
            "Guder and Wagner (2009) abstract: density 0.02-0.03 % from the melting line to 500 K "
            "and 30 MPa; the statement quoted in NIST REFPROP's fluid file: 0.02 % below 340 K, "
            "0.03 % below 500 K (both < 30 MPa), 0.1-0.3 % above 500 K (we use 0.3 %), 0.2 % "
            "above 30 MPa increasing to 1 % at the pressure limit (we ramp linearly from 30 to "
            "150 MPa)"
        ),
    ),
    Fluid(
        key="ethane",
        coolprop="Ethane",
        name="ethane",
        formula="C2H6",
        geometry="non-linear",
        model_class="two-centre",
        eos="D. Buecker, W. Wagner, J. Phys. Chem. Ref. Data 35, 205 (2006)",
        eos_doi="10.1063/1.1859286",
        T_lo_K=90.368,
        T_hi_K=675.0,
        p_hi_MPa=900.0,
        validity="title of the EOS paper",
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        gerg="ethane",
    ),
    Fluid(
        key="ethylene",
        coolprop="Ethylene",
        name="ethylene",
        formula="C2H4",
        geometry="non-linear",
        model_class="two-centre",
        eos="J. Smukala, R. Span, W. Wagner, J. Phys. Chem. Ref. Data 29, 1053 (2000)",
        eos_doi="10.1063/1.1329318",
        T_lo_K=103.989,
        T_hi_K=450.0,
        p_hi_MPa=300.0,
        validity="title of the EOS paper",
        tier="assumed",
        density_rule=_assumed_density,
        density_source=NOT_FOUND,
        note=(
            "EOS upper limit 450 K = 1.59 Tc: the second isotherm is 450 K, close to the first "
            "(1.5 Tc = 423.5 K)."
        ),
    ),
    Fluid(
        key="carbon_dioxide",
        coolprop="CarbonDioxide",
        name="carbon dioxide",
        formula="CO2",
        geometry="linear",
        model_class="two-centre",
        eos="R. Span, W. Wagner, J. Phys. Chem. Ref. Data 25, 1509 (1996)",
        eos_doi="10.1063/1.555991",
        T_lo_K=216.592,
        T_hi_K=1100.0,
        p_hi_MPa=800.0,
        validity="title of the EOS paper",
        tier="stated",
        density_rule=_co2_density,
        density_source=(
            "Span and Wagner (1996) abstract: density 0.03-0.05 % up to 30 MPa and 523 K (we use "
            "0.05 %); no statement found for higher p or T: ASSUMED 0.5 % there"
        ),
        gerg="carbondioxide",
    ),
)

#: Equilibrium internuclear distance r_e of the diatomic two-centre fluids, angstrom:
#: K. P. Huber, G. Herzberg, Molecular Spectra and Molecular Structure IV. Constants of
#: Diatomic Molecules, Van Nostrand Reinhold (1979), doi:10.1007/978-1-4757-0961-2
#: (ground electronic states). CO2, ethane and ethylene have no single bond length that is
#: the two-centre site separation; none is given for them.
BOND_LENGTHS_A = {
    "nitrogen": 1.09768,
    "oxygen": 1.20752,
    "carbon_monoxide": 1.12832,
    "fluorine": 1.41193,
}
HUBER_HERZBERG = (
    "K. P. Huber, G. Herzberg, Constants of Diatomic Molecules (Molecular Spectra and Molecular "
    "Structure IV), Van Nostrand Reinhold (1979), doi:10.1007/978-1-4757-0961-2, r_e of the "
    "ground state"
)


# ----------------------------------------------------------------------- evaluation


@functools.cache
def _state(coolprop: str):
    import CoolProp.CoolProp as CP

    return CP.AbstractState("HEOS", coolprop)


@functools.cache
def _gerg_model(name: str):
    import teqp

    return teqp.make_model({"kind": "GERG2008resid", "model": {"names": [name]}})


def constants(fluid: Fluid) -> dict[str, float]:
    """Critical point, triple point, molar mass and gas constant of the EOS (CoolProp)."""
    import CoolProp.CoolProp as CP

    AS = _state(fluid.coolprop)
    Tc, rhoc = AS.T_critical(), AS.rhomolar_critical()
    return {
        "Tc_K": Tc,
        "pc_MPa": AS.p_critical() * 1e-6,
        "rhoc_mol_per_m3": rhoc,
        "Vc_cm3_per_mol": M3_TO_CM3 / rhoc,
        "T_triple_K": AS.Ttriple(),
        "p_triple_MPa": CP.PropsSI("ptriple", fluid.coolprop) * 1e-6,
        "M_g_per_mol": AS.molar_mass() * 1e3,
        "R_J_per_mol_K": AS.gas_constant(),
        "T_min_coolprop_K": AS.Tmin(),
    }


def b2_reference(fluid: Fluid, T: float) -> float:
    """B2 of the fluid's reference EOS via CoolProp, cm^3/mol.

    CoolProp's ``Bvirial`` output is lim_{rho->0} d(alpha_r)/d(rho), the EOS's second
    virial coefficient, in m^3/mol; it needs a (tiny) density input.
    """
    import CoolProp.CoolProp as CP

    return CP.PropsSI("Bvirial", "T", T, "Dmolar", 1.0e-10, fluid.coolprop) * M3_TO_CM3


def b2_limit(fluid: Fluid, T: float) -> float:
    """Independent check of :func:`b2_reference`: lim (Z - 1)/rho from the EOS pressure.

    (Z - 1)/rho = B2 + B3 rho + B4 rho^2 + ..., evaluated at rho_1, 2 rho_1 and 3 rho_1
    with rho_1 |B2| = 1e-5 (at most 0.01 mol/m^3) and extrapolated to rho = 0 by the
    quadratic through the three points (3 f1 - 3 f2 + f3); cm^3/mol.
    """
    import CoolProp.CoolProp as CP

    R = CP.PropsSI("gas_constant", fluid.coolprop)

    def f(rho: float) -> float:
        p = CP.PropsSI("P", "T", T, "Dmolar", rho, fluid.coolprop)
        return (p / (rho * R * T) - 1.0) / rho

    b_guess = abs(CP.PropsSI("Bvirial", "T", T, "Dmolar", 1.0e-10, fluid.coolprop))
    rho1 = min(0.01, 1e-5 / max(b_guess, 1e-12))
    return (3.0 * f(rho1) - 3.0 * f(2.0 * rho1) + f(3.0 * rho1)) * M3_TO_CM3


def b2_gerg(fluid: Fluid, T: float) -> float:
    """B2 of the GERG-2008 pure-fluid equation (teqp), cm^3/mol."""
    return float(_gerg_model(fluid.gerg).get_B2vir(T, np.array([1.0]))) * M3_TO_CM3


def state_props(fluid: Fluid, T: float, rho_molar: float, phase: str) -> dict[str, float]:
    """p (MPa), residual internal energy (kJ/mol) and kappa_T (1/MPa) of the reference EOS.

    The phase is imposed (``liquid`` or ``supercritical``), so CoolProp evaluates the
    Helmholtz energy at (T, rho) directly instead of flashing; u_res = R T tau
    d(alpha_r)/d(tau), kappa_T = 1 / (rho (dp/drho)_T).
    """
    import CoolProp.CoolProp as CP

    AS = _state(fluid.coolprop)
    AS.specify_phase(CP.iphase_liquid if phase == "liquid" else CP.iphase_supercritical)
    try:
        AS.update(CP.DmolarT_INPUTS, rho_molar, T)
        R = AS.gas_constant()
        p = AS.p()
        e_res = R * T * AS.tau() * AS.dalphar_dTau()
        dpdrho = AS.first_partial_deriv(CP.iP, CP.iDmolar, CP.iT)
    finally:
        AS.unspecify_phase()
    return {
        "p_MPa": p * 1e-6,
        "E_res_kJ_per_mol": e_res * 1e-3,
        "kappa_T_per_MPa": 1e6 / (rho_molar * dpdrho),
    }


def gerg_props(fluid: Fluid, T: float, rho_molar: float) -> dict[str, float]:
    """p (MPa) and residual internal energy (kJ/mol) of GERG-2008 at the same (T, rho)."""
    m = _gerg_model(fluid.gerg)
    z = np.array([1.0])
    R = m.get_R(z)
    p = rho_molar * R * T * (1.0 + m.get_Ar01(T, rho_molar, z))
    return {"p_MPa": p * 1e-6, "E_res_kJ_per_mol": R * T * m.get_Ar10(T, rho_molar, z) * 1e-3}


def saturated_liquid_density(fluid: Fluid, T: float) -> tuple[float, float]:
    """(rho_L in mol/m^3, p_sat in MPa) of the EOS at T (CoolProp's saturation solver)."""
    import CoolProp.CoolProp as CP

    AS = _state(fluid.coolprop)
    AS.update(CP.QT_INPUTS, 0.0, T)
    return AS.rhomolar(), AS.p() * 1e-6


# ----------------------------------------------------------------------- grids


def _round(x: float, sig: int) -> float:
    return float(f"{x:.{sig}g}")


def b2_temperatures(fluid: Fluid, n: int = N_B2) -> np.ndarray:
    """Grid of :func:`b2_table`: n points evenly in log T, T_lo to T_hi, rounded to 0.01 K."""
    c = constants(fluid)
    T_lo = max(c["T_triple_K"], 0.5 * c["Tc_K"], fluid.T_lo_K)
    T_lo = math.ceil(T_lo * 100.0) / 100.0
    T_hi = math.floor(fluid.T_hi_K * 100.0) / 100.0
    return np.round(np.geomspace(T_lo, T_hi, n), 2)


def saturation_temperatures(fluid: Fluid) -> np.ndarray:
    c = constants(fluid)
    T_lo = math.ceil(max(c["T_triple_K"], fluid.T_lo_K) * 100.0) / 100.0
    return np.round(np.linspace(T_lo, SAT_T_HI_OVER_TC * c["Tc_K"], N_SAT), 2)


def isotherm_temperatures(fluid: Fluid) -> tuple[float, float]:
    Tc = constants(fluid)["Tc_K"]
    T1 = round(ISOTHERMS_OVER_TC[0] * Tc, 2)
    T2 = round(min(ISOTHERMS_OVER_TC[1] * Tc, fluid.T_hi_K), 2)
    return T1, T2


# ----------------------------------------------------------------------- quantum estimate


def lj_b2_classical(T: np.ndarray, eps_K: float, sigma_A: float) -> np.ndarray:
    """Classical B2 of a Lennard-Jones 12-6 potential, cm^3/mol (adaptive quadrature)."""
    from scipy.integrate import quad

    b0 = 2.0 * math.pi / 3.0 * AVOGADRO * (sigma_A * 1e-8) ** 3  # cm^3/mol
    out = []
    for t in np.atleast_1d(T) / eps_K:

        def f(x, t=t):
            u = 4.0 * (x**-12 - x**-6)
            return (1.0 - math.exp(-u / t)) * x * x

        val = quad(f, 1e-3, 1.0, limit=200)[0] + quad(f, 1.0, np.inf, limit=200)[0]
        out.append(3.0 * b0 * val)
    return np.array(out)


def lj_b2_q1(T: np.ndarray, eps_K: float, sigma_A: float, mass_kg: float) -> np.ndarray:
    r"""First Wigner-Kirkwood quantum correction to B2 of an LJ fluid, cm^3/mol.

    .. math:: B_{2,q1} = \frac{N_A \hbar^2}{24 m (kT)^3} \int_0^\infty e^{-u/kT} u'^2 4\pi r^2 dr
    """
    from scipy.integrate import quad

    eps = eps_K * BOLTZMANN
    sig = sigma_A * 1e-10
    out = []
    for TT in np.atleast_1d(T):
        kT = BOLTZMANN * TT

        def f(x, kT=kT):
            u = 4.0 * eps * (x**-12 - x**-6)
            du = 4.0 * eps * (-12.0 * x**-13 + 6.0 * x**-7) / sig
            return math.exp(-u / kT) * du * du * 4.0 * math.pi * (x * sig) ** 2 * sig

        integral = quad(f, 0.5, 1.0, limit=200)[0] + quad(f, 1.0, np.inf, limit=200)[0]
        out.append(AVOGADRO * HBAR**2 / (24.0 * mass_kg * kT**3) * integral * M3_TO_CM3)
    return np.array(out)


def fit_lj(T: np.ndarray, b2: np.ndarray, u: np.ndarray, Tc: float, Vc: float):
    """Weighted least-squares LJ (eps/k in K, sigma in angstrom) to classical B2."""
    from scipy.optimize import least_squares

    # start from the corresponding-states estimate eps/k ~ 0.77 Tc, sigma ~ 0.841 Vc^(1/3)
    # (R. B. Bird, W. E. Stewart, E. N. Lightfoot, Transport Phenomena, Wiley 2002, eq. 1.4-11)
    x0 = np.array([0.77 * Tc, 0.841 * Vc ** (1.0 / 3.0)])
    res = least_squares(lambda x: (lj_b2_classical(T, *x) - b2) / u, x0, x_scale=x0)
    return float(res.x[0]), float(res.x[1])


# ----------------------------------------------------------------------- tables


def b2_table(fluid: Fluid, T: np.ndarray | None = None) -> list[dict[str, float]]:
    """Rows of b2_<fluid>.csv (floats, unrounded) at the grid temperatures."""
    c = constants(fluid)
    T = b2_temperatures(fluid) if T is None else np.asarray(T, dtype=float)
    rows = []
    for t in T:
        t = float(t)
        b = b2_reference(fluid, t)
        lim = b2_limit(fluid, t)
        if abs(b - lim) > max(1e-6 * abs(b), 1e-6):
            raise RuntimeError(f"{fluid.key}: Bvirial {b} != lim (Z-1)/rho {lim} at {t} K")
        row = {"T_K": t, "T_over_Tc": t / c["Tc_K"], "B2_cm3_per_mol": b}
        d = 0.0
        if fluid.gerg:
            bg = b2_gerg(fluid, t)
            row["B2_GERG2008_cm3_per_mol"] = bg
            d = abs(b - bg)
        floor = max(B2_FLOOR_ABS, B2_FLOOR_REL[fluid.tier] * abs(b))
        row["u_B2_cm3_per_mol"] = math.hypot(d, floor)
        rows.append(row)
    if fluid.gerg and all(
        abs(r["B2_GERG2008_cm3_per_mol"] - r["B2_cm3_per_mol"]) <= 1e-9 * abs(r["B2_cm3_per_mol"])
        for r in rows
    ):
        raise RuntimeError(
            f"{fluid.key}: GERG-2008 reproduces the reference EOS exactly; it is the same "
            "equation, not a second one (set gerg=None)"
        )
    return rows


def add_quantum_estimate(fluid: Fluid, rows: list[dict[str, float]]) -> tuple[float, float]:
    """Fill dB2_q1 and q1_over_u in the B2 rows; returns the fitted (eps/k, sigma)."""
    c = constants(fluid)
    T = np.array([r["T_K"] for r in rows])
    b = np.array([r["B2_cm3_per_mol"] for r in rows])
    u = np.array([r["u_B2_cm3_per_mol"] for r in rows])
    upper = slice(len(rows) // 2, None)
    eps, sig = fit_lj(T[upper], b[upper], u[upper], c["Tc_K"], c["Vc_cm3_per_mol"])
    mass = c["M_g_per_mol"] * 1e-3 / AVOGADRO
    q1 = lj_b2_q1(T, eps, sig, mass)
    for r, q in zip(rows, q1, strict=True):
        r["dB2_q1_cm3_per_mol"] = float(q)
        r["q1_over_u"] = abs(float(q)) / r["u_B2_cm3_per_mol"]
    return eps, sig


def liquid_table(fluid: Fluid) -> tuple[list[dict[str, float]], list[str]]:
    """Rows of liquid_<fluid>.csv and a list of the states dropped (p above the EOS limit)."""
    c = constants(fluid)
    Tc, rhoc = c["Tc_K"], c["rhoc_mol_per_m3"]
    to_A3 = AVOGADRO * M3_PER_A3
    states = []
    for T in saturation_temperatures(fluid):
        rho_l, _ = saturated_liquid_density(fluid, float(T))
        states.append((0, float(T), rho_l, "liquid"))
    for branch, T in enumerate(isotherm_temperatures(fluid), start=1):
        for x in ISOTHERM_RHO_OVER_RHOC:
            states.append((branch, T, x * rhoc, "supercritical"))
    rows, dropped = [], []
    for branch, T, rho_molar, phase in states:
        rho_A3 = _round(rho_molar * to_A3, 7)
        rho_m = rho_A3 / to_A3  # evaluate at the density written to the file
        pr = state_props(fluid, T, rho_m, phase)
        if pr["p_MPa"] > fluid.p_hi_MPa:
            dropped.append(f"T = {T} K, rho/rhoc = {rho_m / rhoc:.3f} (p = {pr['p_MPa']:.4g} MPa)")
            continue
        u_rho = fluid.density_rule(T, pr["p_MPa"])
        if branch == 0 and T > 0.9 * Tc:
            u_rho = max(u_rho, NEAR_CRITICAL_U_RHO)
        d_p = d_e = 0.0
        row = {
            "T_K": T,
            "rho_per_A3": rho_A3,
            "T_over_Tc": T / Tc,
            "rho_over_rhoc": rho_m / rhoc,
            "branch": branch,
            "p_MPa": pr["p_MPa"],
            "E_res_kJ_per_mol": pr["E_res_kJ_per_mol"],
        }
        if fluid.gerg:
            g = gerg_props(fluid, T, rho_m)
            row["p_GERG2008_MPa"] = g["p_MPa"]
            row["E_res_GERG2008_kJ_per_mol"] = g["E_res_kJ_per_mol"]
            d_p = abs(g["p_MPa"] - pr["p_MPa"])
            d_e = abs(g["E_res_kJ_per_mol"] - pr["E_res_kJ_per_mol"])
        row["u_p_MPa"] = math.hypot(u_rho / pr["kappa_T_per_MPa"], d_p)
        row["u_E_res_kJ_per_mol"] = math.hypot(E_RES_REL[fluid.tier] * pr["E_res_kJ_per_mol"], d_e)
        rows.append(row)
    return rows, dropped


# ----------------------------------------------------------------------- writing

B2_COLUMNS = (
    "T_K",
    "T_over_Tc",
    "B2_cm3_per_mol",
    "u_B2_cm3_per_mol",
    "B2_GERG2008_cm3_per_mol",
    "dB2_q1_cm3_per_mol",
    "q1_over_u",
)
LIQUID_COLUMNS = (
    "T_K",
    "rho_per_A3",
    "T_over_Tc",
    "rho_over_rhoc",
    "branch",
    "p_MPa",
    "u_p_MPa",
    "E_res_kJ_per_mol",
    "u_E_res_kJ_per_mol",
    "p_GERG2008_MPa",
    "E_res_GERG2008_kJ_per_mol",
)
UNITS = {
    "T_K": "K",
    "T_over_Tc": "1",
    "B2_cm3_per_mol": "cm^3/mol",
    "u_B2_cm3_per_mol": "cm^3/mol",
    "B2_GERG2008_cm3_per_mol": "cm^3/mol",
    "dB2_q1_cm3_per_mol": "cm^3/mol",
    "q1_over_u": "1",
    "rho_per_A3": "1/angstrom^3",
    "rho_over_rhoc": "1",
    "branch": "1",
    "p_MPa": "MPa",
    "u_p_MPa": "MPa",
    "E_res_kJ_per_mol": "kJ/mol",
    "u_E_res_kJ_per_mol": "kJ/mol",
    "p_GERG2008_MPa": "MPa",
    "E_res_GERG2008_kJ_per_mol": "kJ/mol",
}
# significant digits written per column (values, uncertainties, estimates)
DIGITS = {
    "T_K": 7,
    "rho_per_A3": 7,
    "T_over_Tc": 6,
    "rho_over_rhoc": 6,
    "branch": 1,
    "B2_cm3_per_mol": 8,
    "B2_GERG2008_cm3_per_mol": 8,
    "p_MPa": 8,
    "p_GERG2008_MPa": 8,
    "E_res_kJ_per_mol": 8,
    "E_res_GERG2008_kJ_per_mol": 8,
}
DIGITS_DEFAULT = 3  # uncertainties and estimates


def _fmt(col: str, x) -> str:
    if isinstance(x, str):
        return x
    if col == "branch":
        return str(int(x))
    return f"{x:.{DIGITS.get(col, DIGITS_DEFAULT)}g}"


def to_csv(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    cols = [c for c in columns if c in rows[0]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_fmt(c, r[c]) for c in cols])
    return buf.getvalue().encode("ascii")


FLUID_COLUMNS = (
    "fluid",
    "coolprop_name",
    "formula",
    "geometry",
    "model_class",
    "Tc_K",
    "pc_MPa",
    "rhoc_mol_per_m3",
    "Vc_cm3_per_mol",
    "T_triple_K",
    "p_triple_MPa",
    "M_g_per_mol",
    "eos_T_min_K",
    "eos_T_max_K",
    "eos_p_max_MPa",
    "eos_reference",
    "eos_doi",
    "eos_validity_source",
    "uncertainty_tier",
    "density_uncertainty_source",
    "second_equation",
    "B2_T_min_K",
    "B2_T_max_K",
    "quantum_flag",
    "q1_over_u_max",
    "lj_proxy_epsilon_K",
    "lj_proxy_sigma_angstrom",
    "note",
)
FLUID_UNITS = {
    "fluid": "text",
    "coolprop_name": "text",
    "formula": "text",
    "geometry": "text",
    "model_class": "text",
    "Tc_K": "K",
    "pc_MPa": "MPa",
    "rhoc_mol_per_m3": "mol/m^3",
    "Vc_cm3_per_mol": "cm^3/mol",
    "T_triple_K": "K",
    "p_triple_MPa": "MPa",
    "M_g_per_mol": "g/mol",
    "eos_T_min_K": "K",
    "eos_T_max_K": "K",
    "eos_p_max_MPa": "MPa",
    "eos_reference": "text",
    "eos_doi": "text",
    "eos_validity_source": "text",
    "uncertainty_tier": "text",
    "density_uncertainty_source": "text",
    "second_equation": "text",
    "B2_T_min_K": "K",
    "B2_T_max_K": "K",
    "quantum_flag": "1",
    "q1_over_u_max": "1",
    "lj_proxy_epsilon_K": "K",
    "lj_proxy_sigma_angstrom": "angstrom",
    "note": "text",
}


def fluid_row(fluid: Fluid, b2_rows: list[dict], lj: tuple[float, float]) -> dict:
    c = constants(fluid)
    qmax = max(r["q1_over_u"] for r in b2_rows)
    note = fluid.note
    if qmax > 1.0:
        Tq = max(r["T_K"] for r in b2_rows if r["q1_over_u"] > 1.0)
        note = (
            f"Estimated first quantum correction to B2 exceeds u_B2 on the grid up to "
            f"T = {Tq:g} K (max {qmax:.3g} u_B2). " + note
        ).strip()
    return {
        "fluid": fluid.key,
        "coolprop_name": fluid.coolprop,
        "formula": fluid.formula,
        "geometry": fluid.geometry,
        "model_class": fluid.model_class,
        "Tc_K": f"{c['Tc_K']:.8g}",
        "pc_MPa": f"{c['pc_MPa']:.8g}",
        "rhoc_mol_per_m3": f"{c['rhoc_mol_per_m3']:.8g}",
        "Vc_cm3_per_mol": f"{c['Vc_cm3_per_mol']:.8g}",
        "T_triple_K": f"{c['T_triple_K']:.8g}",
        "p_triple_MPa": f"{c['p_triple_MPa']:.6g}",
        "M_g_per_mol": f"{c['M_g_per_mol']:.8g}",
        "eos_T_min_K": f"{fluid.T_lo_K:g}",
        "eos_T_max_K": f"{fluid.T_hi_K:g}",
        "eos_p_max_MPa": f"{fluid.p_hi_MPa:g}",
        "eos_reference": fluid.eos,
        "eos_doi": fluid.eos_doi,
        "eos_validity_source": fluid.validity,
        "uncertainty_tier": fluid.tier,
        "density_uncertainty_source": fluid.density_source,
        "second_equation": GERG if fluid.gerg else "none",
        "B2_T_min_K": f"{b2_rows[0]['T_K']:g}",
        "B2_T_max_K": f"{b2_rows[-1]['T_K']:g}",
        "quantum_flag": "1" if qmax > 1.0 else "0",
        "q1_over_u_max": f"{qmax:.3g}",
        "lj_proxy_epsilon_K": f"{lj[0]:.4g}",
        "lj_proxy_sigma_angstrom": f"{lj[1]:.4g}",
        "note": note,
    }


def bond_length_csv() -> bytes:
    rows = [
        {"fluid": k, "L_angstrom": f"{v:.5f}", "source": HUBER_HERZBERG}
        for k, v in BOND_LENGTHS_A.items()
    ]
    return to_csv(rows, ("fluid", "L_angstrom", "source"))


def versions() -> dict[str, str]:
    import CoolProp
    import CoolProp.CoolProp as CP
    import scipy
    import teqp

    return {
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "CoolProp": f"{CoolProp.__version__} (git {CP.get_global_param_string('gitrevision')})",
        "teqp": teqp.__version__,
    }


def build(only: tuple[str, ...] = ()) -> tuple[dict[str, bytes], dict[str, dict]]:
    """All files of data/atlas/ (name -> bytes) and per-file facts for the manifest."""
    files, facts, fluid_rows = {}, {}, []
    for fluid in FLUIDS:
        if only and fluid.key not in only:
            continue
        b2 = b2_table(fluid)
        lj = add_quantum_estimate(fluid, b2)
        files[f"b2_{fluid.key}.csv"] = to_csv(b2, B2_COLUMNS)
        facts[f"b2_{fluid.key}.csv"] = {"fluid": fluid, "rows": b2}
        liq, dropped = liquid_table(fluid)
        files[f"liquid_{fluid.key}.csv"] = to_csv(liq, LIQUID_COLUMNS)
        facts[f"liquid_{fluid.key}.csv"] = {"fluid": fluid, "rows": liq, "dropped": dropped}
        fluid_rows.append(fluid_row(fluid, b2, lj))
    if not only:
        files["fluids.csv"] = to_csv(fluid_rows, FLUID_COLUMNS)
        files["bond_lengths.csv"] = bond_length_csv()
    return files, facts


# ----------------------------------------------------------------------- manifest


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manifest_entry(
    path: str,
    kind: str,
    title: str,
    source: str,
    licence: str,
    script: str,
    sha: str,
    uncertainty: str,
    units: dict[str, str],
) -> str:
    lines = [
        "[[files]]",
        f"path = {_toml_str(path)}",
        f"kind = {_toml_str(kind)}",
        f"title = {_toml_str(title)}",
        f"source = {_toml_str(source)}",
        f"licence = {_toml_str(licence)}",
        f"script = {_toml_str(script)}",
        f"sha256 = {_toml_str(sha)}",
        f"uncertainty = {_toml_str(uncertainty)}",
        "[files.units]",
    ]
    lines += [f"{k} = {_toml_str(v)}" for k, v in units.items()]
    return "\n".join(lines) + "\n"


LICENCE = (
    "Values computed by the bayesff developers from published equations of state; distributed "
    "under the bayesff licence (MIT). CoolProp (MIT) and teqp (NIST, public domain in the US) are "
    "not redistributed."
)


def _versions_text(v: dict[str, str]) -> str:
    return ", ".join(f"{k} {x}" for k, x in v.items())


_TIER_TEXT = {
    "stated": "stated at <= 0.05 % in the gas",
    "assumed": "not stated in a source we could read",
}


def _b2_uncertainty_text(fluid: Fluid) -> str:
    r = B2_FLOOR_REL[fluid.tier]
    spread = (
        "d = |B2(EOS) - B2(GERG-2008)| (spread between two equations; GERG-2008 used beyond its "
        "extended range 60-700 K where the grid goes there, an extrapolation that only adds to u)"
        if fluid.gerg
        else "d = 0 (no second equation available to us)"
    )
    return (
        f"u_B2 = sqrt(d^2 + f^2): {spread}; f = max(0.5 cm^3/mol, {r:.0%} |B2|), OUR ASSUMPTION "
        f"(no B2 uncertainty stated by the EOS paper; {r:.0%} because the EOS's density "
        f"uncertainty is {_TIER_TEXT[fluid.tier]}). "
        "dB2_q1 and q1_over_u: ESTIMATE of the first Wigner-Kirkwood quantum correction with an "
        "LJ proxy fitted to the upper half of the grid (script docstring); a flag, not a "
        "correction."
    )


def _liquid_uncertainty_text(fluid: Fluid, dropped: list[str]) -> str:
    rE = E_RES_REL[fluid.tier]
    g = (
        "; d_p, d_E = |EOS - GERG-2008| at the same (T, rho)"
        if fluid.gerg
        else "; no second equation (d = 0)"
    )
    drop = (
        (
            f"; states dropped (p above the EOS limit of {fluid.p_hi_MPa:g} MPa): "
            + "; ".join(dropped)
        )
        if dropped
        else ""
    )
    return (
        "u_p = sqrt((u_rho/kappa_T)^2 + d_p^2), the EOS's relative density uncertainty u_rho "
        "carried "
        f"to p at fixed (T, rho). u_rho: {fluid.density_source}; saturated liquid above 0.9 Tc at "
        f"least 0.1 % (assumption). u_E_res = sqrt(({rE:.1%} E_res)^2 + d_E^2), the {rE:.1%} an "
        f"ASSUMPTION (no EOS states an internal-energy uncertainty){g}{drop}."
    )


def manifest_text(
    files: dict[str, bytes], facts: dict[str, dict], vers: dict[str, str], prefix: str = "atlas"
) -> str:
    out = []
    vtext = _versions_text(vers)
    for name, payload in files.items():
        sha = hashlib.sha256(payload).hexdigest()
        path = f"{prefix}/{name}"
        header = payload.decode().splitlines()[0].split(",")
        if name.startswith(("b2_", "liquid_")):
            fluid = facts[name]["fluid"]
            gerg = (
                f" Second equation: {GERG}, pure-fluid part, via teqp (GERG2008resid)."
                if fluid.gerg
                else ""
            )
            src = (
                f"Computed, not measured: {fluid.eos}"
                + (f", doi:{fluid.eos_doi}" if fluid.eos_doi else "")
                + f"; evaluated with CoolProp (fluid '{fluid.coolprop}'; "
                + (
                    "'Bvirial', checked against lim (Z-1)/rho at every T"
                    if name.startswith("b2_")
                    else "imposed-phase (T, rho) evaluation of p and u_res = R T tau "
                    "d(alpha_r)/d(tau); saturated-liquid densities from CoolProp's saturation "
                    "solver, written to 7 significant figures in 1/angstrom^3, and p and u_res "
                    "of branch 0 are the EOS's at the density as written, not p_sat: near the "
                    "triple point that rounding leaves a slightly stretched or compressed "
                    "liquid (ethane at 90.37 K: p = -9.5e-5 MPa against p_sat = 1.1e-6 MPa), "
                    "far inside u_p"
                )
                + f").{gerg} EOS stated validity {fluid.T_lo_K:g}-{fluid.T_hi_K:g} K, "
                f"<= {fluid.p_hi_MPa:g} MPa ({fluid.validity}). {vtext}. N_A = 6.02214076e23 /mol."
            )
            if name.startswith("b2_"):
                rows = facts[name]["rows"]
                title = (
                    f"Second virial coefficient B2 of {fluid.name}, {rows[0]['T_K']:g}-"
                    f"{rows[-1]['T_K']:g} K ({len(rows)} temperatures, log-spaced), from its "
                    "reference equation of state (computed, not measured)"
                )
                unc = _b2_uncertainty_text(fluid)
            else:
                rows = facts[name]["rows"]
                T1, T2 = isotherm_temperatures(fluid)
                title = (
                    f"Pressure and residual internal energy of {fluid.name} at {len(rows)} (T, "
                    "rho) "
                    f"states: saturated liquid (branch 0) and isotherms {T1:g} K (branch 1) and "
                    f"{T2:g} K (branch 2), from its reference equation of state (computed, not "
                    "measured)"
                )
                unc = _liquid_uncertainty_text(fluid, facts[name]["dropped"])
            kind = "reference-equation"
            if fluid.note:
                src += " Note: " + fluid.note
        elif name == "fluids.csv":
            title = (
                "Critical constants, triple points, molar masses, EOS references and validity "
                "ranges, geometry and uncertainty tier of the 14 atlas fluids"
            )
            src = (
                "Computed from the reference equations of state via CoolProp (critical point, "
                "triple point, molar mass as implemented there) and the EOS papers' stated limits "
                f"(per row, column eos_validity_source). {vtext}."
            )
            unc = (
                "Constants of the equations as implemented in CoolProp; no uncertainty columns. "
                "quantum_flag = 1 where the estimated first quantum correction to B2 exceeds u_B2 "
                "somewhere on the B2 grid (q1_over_u_max > 1); lj_proxy_* are the LJ parameters "
                "of that estimate, not calibrated force-field parameters."
            )
            kind = "reference-equation"
        elif name == "bond_lengths.csv":
            title = (
                "Equilibrium bond lengths of N2, O2, CO and F2 (two-centre site separations L for "
                "2CLJ models)"
            )
            src = (
                HUBER_HERZBERG
                + ". Values entered by hand from that compilation (see the script's "
                "BOND_LENGTHS_A)."
            )
            unc = (
                "r_e as tabulated (5 decimals in angstrom); the 2CLJ site separation of a fitted "
                "model may differ from r_e."
            )
            kind = "measured"
        else:
            raise KeyError(name)
        units = {
            c: (FLUID_UNITS.get(c) or UNITS.get(c) or {"L_angstrom": "angstrom"}.get(c, "text"))
            for c in header
        }
        out.append(
            manifest_entry(
                path,
                kind,
                title,
                src,
                LICENCE
                if kind != "measured"
                else "Facts from the cited compilation (not relicensed); file by the bayesff "
                "developers under the bayesff licence (MIT).",
                SCRIPT,
                sha,
                unc,
                units,
            )
        )
    return "\n".join(out)


# ----------------------------------------------------------------------- CLI


def write_files(files: dict[str, bytes], out: Path, force: bool) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        path = out / name
        if path.exists() and not force and path.read_bytes() != payload:
            print(f"{path} exists and differs; pass --force to replace it", file=sys.stderr)
            return 1
    for name, payload in files.items():
        (out / name).write_bytes(payload)
        print(f"{out / name}  sha256 {hashlib.sha256(payload).hexdigest()}")
    return 0


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
        vers = versions()
    except ImportError as exc:
        print(
            f"missing dependency ({exc}); install with: pip install -e '.[data]'", file=sys.stderr
        )
        return 2
    files, facts = build(tuple(args.only))
    if args.manifest:
        print(manifest_text(files, facts, vers))
        return 0
    rc = write_files(files, args.out, args.force)
    for name, f in facts.items():
        if f.get("dropped"):
            print(f"{name}: dropped {len(f['dropped'])} states above the EOS pressure limit")
    print(_versions_text(vers))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
