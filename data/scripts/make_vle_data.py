"""Make data/vle/ and data/alkanes/: vapour-liquid equilibrium data from reference EOS.

COMPUTED FROM REFERENCE EQUATIONS OF STATE (EOS) with CoolProp, not measured.

* ``vle/saturation_<fluid>.csv`` for the 14 fluids of the transferability atlas
  (data/atlas/fluids.csv): :data:`N_VLE` temperatures evenly spaced from
  ``T_lo = max(T_triple, EOS lower limit)`` to ``0.95 Tc``.
* ``alkanes/saturation_<molecule>.csv`` for methane to n-dodecane: temperatures
  from ``T_lo`` to ``0.9 Tc`` on a grid with nodes exactly at ``0.45 Tc`` (where
  above ``T_lo``), ``0.7 Tc`` and ``0.9 Tc`` and about :data:`N_ALKANE` points in
  all, so that ``select = { T_over_Tc = [0.45, 0.9] }`` picks the range of issue
  30 (``max(T_triple, 0.45 Tc)`` to ``0.9 Tc``) and ``T_over_Tc = [0, 0.7]`` that
  of issue 31 (triple point to ``0.7 Tc``). The ``0.45 Tc`` node is rounded up,
  the others down, to 0.01 K, so the written ``T_over_Tc`` lies inside those
  ranges.
* ``alkanes/compressed_<molecule>.csv``: liquid densities on the isotherms
  ``T = 0.65 Tc`` and ``0.8 Tc`` at the pressures of :data:`COMPRESSED_P_MPA`
  above the vapour pressure, up to 100 MPa or the EOS's upper pressure limit if
  lower (n-butane 12 MPa, n-hexane 92 MPa; that limit is then the last point),
  and below the melting pressure where CoolProp has a melting line.
* ``vle/uncertainty_sources.csv``, ``alkanes/uncertainty_sources.csv``: every
  uncertainty figure used, per fluid and property, with its tier and source
  (the table of :data:`RULES`), and ``alkanes/molecules.csv``: constants, EOS
  reference and isotherms of the 12 alkanes.

Saturation columns: ``T_K``, ``T_over_Tc`` (Tc is the EOS's own critical point,
CoolProp ``T_critical``), ``p_sat_MPa``, ``rho_l_mol_per_L``,
``rho_v_mol_per_L``, ``dH_vap_kJ_per_mol`` and ``u_`` of each. Values are
CoolProp's saturation solution at the written (rounded) T: ``p`` and the molar
densities at quality 0 and 1, and ``dH_vap = h(Q=1) - h(Q=0)``.

Uncertainties (standard, relative, of the EOS value; :data:`RULES` per fluid):

* Each EOS's stated uncertainty for the property and region, from its paper's
  abstract or NIST REFPROP's summary of it (tier ``stated``). A figure stated as
  expanded (k = 2) is halved (n-butane only). A figure stated without a
  coverage factor is used as the standard uncertainty: conservative if it was
  meant as expanded.
* Where no figure for a property was found: the figure stated for an equation
  of the same kind (tier ``analogy``, the analogue named), or the atlas's
  assumption for EOS with no statement we could read (tier ``assumed``, 0.2 %).
* Saturated densities include the effect of the vapour-pressure uncertainty at
  fixed T: ``u_r(rho')^2 = u_r,rho,liquid^2 + (kappa_T' p_sat u_r(p_sat))^2``,
  ``u_r(rho'')^2 = u_r,rho,vapour^2 + (kappa_T'' p_sat u_r(p_sat))^2`` (kappa_T
  the EOS's isothermal compressibility of the saturated phase; ``kappa_T'' p``
  is about 1 in a dilute vapour, so ``u_r(rho'') >= u_r(p_sat)`` there).
* Enthalpy of vaporisation: no EOS paper we read states a figure, so it is
  DERIVED through the Clapeyron equation ``dH_vap = T (1/rho'' - 1/rho')
  dp_sat/dT``: ``u_r(dH)^2 = u_r(dp_sat/dT)^2 + u_r(dv)^2`` with ``u_r(dv)`` from
  ``u(rho')``, ``u(rho'')`` (independent) and ``u_r(dp_sat/dT) = sqrt(2)
  u_r(p_sat) / (delta * dln p_sat/dln T)``: the slope of ln p_sat between two
  temperatures ``delta = 10 %`` apart whose vapour-pressure errors are
  independent, each with the stated ``u_r(p_sat)``. ``delta`` is OUR ASSUMPTION
  (:data:`CLAPEYRON_DELTA`): no source states how the EOS's vapour-pressure
  error varies with T. Where GERG-2008 (Kunz and Wagner 2012, via teqp) has an
  equation for the fluid that is independent of the reference EOS, the spread
  ``d = |dH(GERG-2008)/dH(EOS) - 1|`` is added in quadrature (as data/atlas adds
  its spreads): argon, methane, nitrogen, oxygen, ethane, CO2, propane and
  n-butane to n-octane except n-heptane, whose GERG-2008 equation is the EOS
  itself (as for CO, n-nonane and n-decane). Properties with a stated figure do
  not get the spread: at low T GERG-2008's alkane vapour pressures differ by up
  to 9 % (propane at its triple point, 2e-10 MPa), far outside both equations'
  fitted data, and the stated figures are the EOS's own.
* Near the critical point: where the source gives a near-critical figure
  (carbon monoxide: density "approaching 1% near the critical point") it is
  ramped in from 0.9 Tc; elsewhere the non-critical figures are used up to 0.95
  Tc, with the kappa_T and Clapeyron terms above, which grow toward Tc.
* Compressed liquid: the stated liquid-density uncertainty at (T, p).

Usage (repository root, CoolProp and teqp from the ``[data]`` extra)::

    python data/scripts/make_vle_data.py [--force] [--only KEY ...]
    python data/scripts/make_vle_data.py --manifest   # print manifest entries
    python data/scripts/make_vle_data.py --table      # print the README uncertainty table

The script refuses to overwrite files that differ unless ``--force`` is given
and prints each file's sha256 and the package versions.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import hashlib
import io
import itertools
import math
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

# CoolProp and teqp are imported inside the functions that use them: they are the
# optional [data] extra, and tests/test_vle_data.py imports this module without them.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_atlas_data as atlas  # sibling script: EOS citations of the 14 atlas fluids

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
SCRIPT = "data/scripts/make_vle_data.py"

N_VLE = 24  # temperatures per atlas fluid
VLE_T_HI_OVER_TC = 0.95
N_ALKANE = 25  # about this many temperatures per alkane
ALKANE_NODES_OVER_TC = (0.45, 0.7, 0.9)
ISOTHERMS_OVER_TC = (0.65, 0.8)
COMPRESSED_P_MPA = (
    1.0,
    2.0,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    60.0,
    70.0,
    80.0,
    90.0,
    100.0,
)
#: Clapeyron slope model: vapour-pressure errors of the EOS at temperatures this fraction
#: apart are taken as independent (OUR ASSUMPTION, see the module docstring).
CLAPEYRON_DELTA = 0.1
#: Start of the near-critical ramp of a stated near-critical figure (our reading), T/Tc.
NEAR_CRITICAL_FROM = 0.9


# ----------------------------------------------------------------------- statements


@dataclasses.dataclass(frozen=True)
class Statement:
    """One uncertainty figure and where it comes from.

    ``value`` is the relative uncertainty as the source gives it (a fraction);
    ``expanded`` marks a figure stated with coverage factor k = 2, halved by
    :attr:`standard`. ``tier`` is ``stated`` (the EOS's own statement),
    ``analogy`` (the statement for an equation of the same kind; no figure for
    this EOS and property found) or ``assumed`` (no statement found; the atlas's
    assumption).
    """

    value: float
    tier: str
    source: str
    expanded: bool = False
    ramp_from: float | None = None  # near-critical figure: reached at Tc from this at 0.9 Tc

    @property
    def standard(self) -> float:
        """Relative standard uncertainty (k = 1)."""
        return self.value / 2.0 if self.expanded else self.value


def _s(value: float, source: str, expanded: bool = False) -> Statement:
    return Statement(value, "stated", source, expanded)


# Statements for equations of one kind, used by analogy where a paper's own figure
# for a property was not found.
REF_PSAT = Statement(
    2e-4,
    "analogy",
    "no vapour-pressure figure found for this reference equation; ANALOGY: 0.02 % stated for the "
    "propane reference equation of the same generation (E. W. Lemmon, M. O. McLinden, W. Wagner, "
    "J. Chem. Eng. Data 54, 3141 (2009), doi:10.1021/je900217v, abstract: '0.02 % in vapor "
    "pressure above 180 K')",
)
TECH_PSAT = Statement(
    2e-3,
    "analogy",
    "no vapour-pressure figure found for this equation; ANALOGY: 0.2 % as stated for the short "
    "and technical equations (Span and Wagner 2003 and Lemmon and Span 2006 for CO, as summarised "
    "in NIST REFPROP's fluid files: '0.2% in vapor pressure'; Lemmon and Huber 2004, n-dodecane "
    "abstract: '0.2% in vapor pressure')",
)
ASSUMED_RHO = Statement(
    2e-3,
    "assumed",
    "no density-uncertainty statement found for this EOS; ASSUMED 0.2 % (p <= 30 MPa), the "
    "data/atlas rule (make_atlas_data.NOT_FOUND)",
)
ASSUMED_RHO_HIGH_P = Statement(
    1e-2,
    "assumed",
    "no density-uncertainty statement found for this EOS; ASSUMED 1 % above 30 MPa, the "
    "data/atlas rule (make_atlas_data.NOT_FOUND)",
)
LEMMON_SPAN_CO_RHO = (
    "Lemmon and Span (2006) for carbon monoxide, NIST REFPROP summary: 'The uncertainties in the "
    "equation are 0.3% in density (approaching 1% near the critical point), 0.2% in vapor "
    "pressure, and 2% in heat capacities'"
)
SPAN_WAGNER_2003 = (
    "Span and Wagner (2003) short equations, NIST REFPROP summary: 'The uncertainties of the "
    "equation of state are approximately 0.2% (to 0.5% at high pressures) in density, ... and "
    "0.2% in vapor pressure, except in the critical region'"
)

# --- per-EOS statements (comment: where the words were read)
# Tegeler et al. (1999) abstract and NIST REFPROP/WebBook summary (argon).
ARGON_RHO = _s(
    2e-4,
    "Tegeler, Span, Wagner (1999) abstract: density 'less than 0.02% for pressures up to 12 MPa "
    "and temperatures up to 340 K with the exception of the critical region'",
)
# Setzmann and Wagner (1991) abstract (scanned copy of J. Phys. Chem. Ref. Data 20, 1061).
METHANE_RHO = _s(
    3e-4,
    "Setzmann and Wagner (1991) abstract: density '0.03% for pressures below 12 MPa and "
    "temperatures below 350 K'",
)
METHANE_RHO_HIGH = _s(
    1.5e-3,
    "Setzmann and Wagner (1991) abstract: '0.03% to 0.15% for higher pressures and "
    "temperatures' (upper end used)",
)
# Span et al. (2000), NIST WebBook/REFPROP summary (nitrogen).
NITROGEN_RHO = _s(
    2e-4,
    "Span et al. (2000), NIST summary: 'The uncertainty in density of the equation of state is "
    "0.02% from the triple point up to temperatures of 523 K and pressures up to 12 MPa'",
)
NITROGEN_RHO_HIGH = _s(
    6e-3,
    "Span et al. (2000), NIST summary: '0.6% in density' at very high pressures (upper bound used "
    "above 30 MPa)",
)
# Lemmon and Span (2006), REFPROP summary for CO (read in TREND's copy of the fluid file).
CO_RHO = _s(3e-3, LEMMON_SPAN_CO_RHO)
CO_RHO_CRIT = Statement(
    1e-2,
    "stated",
    LEMMON_SPAN_CO_RHO + " (1 % reached at Tc, ramped from 0.3 % at 0.9 Tc: our reading)",
    ramp_from=3e-3,
)
CO_PSAT = _s(2e-3, LEMMON_SPAN_CO_RHO)
# Same paper, other fluids: the per-fluid statements were not found; CO's by analogy.
LS2006_RHO = Statement(
    3e-3, "analogy", "no statement found for this fluid; ANALOGY: " + LEMMON_SPAN_CO_RHO
)
LS2006_RHO_CRIT = Statement(
    1e-2,
    "analogy",
    "no statement found for this fluid; ANALOGY: "
    + LEMMON_SPAN_CO_RHO
    + " (1 % at Tc, ramped from 0.3 % at 0.9 Tc: our reading)",
    ramp_from=3e-3,
)
# Guder and Wagner (2009) abstract and REFPROP summary (SF6), as in data/atlas.
SF6_RHO = _s(
    2e-4,
    "Guder and Wagner (2009), NIST REFPROP summary: density 0.02 % below 340 K (< 30 MPa)",
)
SF6_RHO_500 = _s(
    3e-4, "Guder and Wagner (2009), NIST REFPROP summary: density 0.03 % below 500 K (< 30 MPa)"
)
# Span and Wagner (1996), REFPROP summary (CO2).
CO2_RHO = _s(
    5e-4,
    "Span and Wagner (1996), NIST REFPROP summary: 'At pressures up to 30 MPa and temperatures up "
    "to 523 K, the estimated uncertainty ranges from 0.03% to 0.05% in density' (upper end used)",
)
# Lemmon, McLinden, Wagner (2009) abstract (propane).
PROPANE_RHO = _s(
    3e-4,
    "Lemmon, McLinden, Wagner (2009) abstract: '0.01 % to 0.03 % in density below 350 K' (upper "
    "end used)",
)
PROPANE_PSAT = _s(
    2e-4, "Lemmon, McLinden, Wagner (2009) abstract: '0.02 % in vapor pressure above 180 K'"
)
# Buecker and Wagner (2006) abstract (n-butane): the only k = 2 statement.
BUTANE_RHO = _s(
    2e-4,
    "Buecker and Wagner (2006) abstract: 'uncertainties in density of 0.02% (coverage factor "
    "k=2 corresponding to a confidence level of about 95%) from the melting line up to "
    "temperatures of 340 K and pressures of 12 MPa'",
    expanded=True,
)
# Span and Wagner (2003) (n-heptane), REFPROP summary of the short equations.
SW2003_RHO = _s(2e-3, SPAN_WAGNER_2003)
SW2003_RHO_HIGH = _s(5e-3, SPAN_WAGNER_2003 + " (0.5 % used above 30 MPa: our reading)")
SW2003_PSAT = _s(2e-3, SPAN_WAGNER_2003)
# Beckmueller, Span, Lemmon, Thol (2022) abstract (n-octane).
OCTANE_SRC = (
    "Beckmueller, Span, Lemmon, Thol, J. Phys. Chem. Ref. Data 51(4) (2022), "
    "doi:10.1063/5.0104661, abstract"
)
OCTANE_RHO_ATM = _s(
    3e-4, OCTANE_SRC + ": liquid density 'uncertainty in density is 0.03% at atmospheric pressure'"
)
OCTANE_RHO_200 = _s(
    1e-3,
    OCTANE_SRC + ": 'For pressures up to 200 MPa and temperatures between 270 and 440 K, density "
    "is described with an uncertainty of 0.1%'",
)
OCTANE_RHO_OUT = _s(
    5e-3,
    OCTANE_SRC + ": 'Outside this region, the uncertainty in the liquid phase increases to 0.5%'",
)
OCTANE_RHO_VAP = _s(
    5e-3, OCTANE_SRC + ": 'Densities in the vapor phase are estimated to be accurate within 0.5%'"
)
OCTANE_PSAT = _s(
    4e-3,
    OCTANE_SRC
    + ": 'The uncertainty in vapor pressure depends on the temperature range and varies "
    "from 0.02% to 0.4%' (upper end used: the abstract does not say which T has which)",
)
# Lemmon and Huber (2004) abstract (n-dodecane).
DODECANE_SRC = "Lemmon and Huber, Energy Fuels 18, 960 (2004) abstract"
DODECANE_RHO = _s(2e-3, DODECANE_SRC + ": '0.2% in density at pressures up to 200 MPa'")
DODECANE_PSAT = _s(2e-3, DODECANE_SRC + ": '0.2% in vapor pressure'")


# ----------------------------------------------------------------------- rules per fluid


@dataclasses.dataclass(frozen=True)
class Rules:
    """Uncertainty statements of one EOS as functions of the state.

    ``liquid(T, p, Tc)``, ``vapour(T, p, Tc)``: relative density uncertainty of
    the liquid / vapour at (T in K, p in MPa); ``p_sat(T, Tc)``: of the vapour
    pressure; ``critical``: a stated near-critical density figure ramped in from
    :data:`NEAR_CRITICAL_FROM` Tc to Tc (or ``None``).
    """

    liquid: Callable[[float, float, float], Statement]
    vapour: Callable[[float, float, float], Statement]
    p_sat: Callable[[float, float], Statement]
    critical: Statement | None = None


def _const(st: Statement) -> Callable[..., Statement]:
    return lambda *_: st


def _assumed(T: float, p: float, Tc: float) -> Statement:
    return ASSUMED_RHO if p <= 30.0 else ASSUMED_RHO_HIGH_P


ASSUMED_RULES = Rules(_assumed, _assumed, _const(TECH_PSAT))


def _methane(T: float, p: float, Tc: float) -> Statement:
    return METHANE_RHO if (p < 12.0 and T < 350.0) else METHANE_RHO_HIGH


def _nitrogen(T: float, p: float, Tc: float) -> Statement:
    return NITROGEN_RHO if p <= 30.0 else NITROGEN_RHO_HIGH


def _sf6(T: float, p: float, Tc: float) -> Statement:
    return SF6_RHO if T < 340.0 else SF6_RHO_500


def _propane(T: float, p: float, Tc: float) -> Statement:
    return PROPANE_RHO if T < 350.0 else ASSUMED_RHO


def _propane_psat(T: float, Tc: float) -> Statement:
    return PROPANE_PSAT if T > 180.0 else TECH_PSAT


def _butane(T: float, p: float, Tc: float) -> Statement:
    return BUTANE_RHO if (T <= 340.0 and p <= 12.0) else ASSUMED_RHO


def _sw2003(T: float, p: float, Tc: float) -> Statement:
    return SW2003_RHO if p <= 30.0 else SW2003_RHO_HIGH


def _octane_liquid(T: float, p: float, Tc: float) -> Statement:
    if p <= 0.101325:
        return OCTANE_RHO_ATM
    if p <= 200.0 and 270.0 <= T <= 440.0:
        return OCTANE_RHO_200
    return OCTANE_RHO_OUT


#: Uncertainty rules per fluid key (a comment per entry says what was found).
RULES: dict[str, Rules] = {
    # neon: CoolProp's EOS (Thol et al., 'submitted 2019') is unpublished as far as we found
    "neon": ASSUMED_RULES,
    # argon: Tegeler et al. 1999 density statement; no vapour-pressure figure found
    "argon": Rules(_const(ARGON_RHO), _const(ARGON_RHO), _const(REF_PSAT)),
    # krypton, xenon: Lemmon and Span 2006; the statement for CO of the same paper by analogy
    "krypton": Rules(_const(LS2006_RHO), _const(LS2006_RHO), _const(TECH_PSAT), LS2006_RHO_CRIT),
    "xenon": Rules(_const(LS2006_RHO), _const(LS2006_RHO), _const(TECH_PSAT), LS2006_RHO_CRIT),
    # methane: Setzmann and Wagner 1991 density statement; no vapour-pressure figure found
    "methane": Rules(_methane, _methane, _const(REF_PSAT)),
    # nitrogen: Span et al. 2000 density statement; the p_sat sentence of the NIST summary was
    # cut off in the copy we read
    "nitrogen": Rules(_nitrogen, _nitrogen, _const(REF_PSAT)),
    # oxygen: Schmidt and Wagner 1985 / Stewart et al. 1991: no statement found
    "oxygen": ASSUMED_RULES,
    # carbon monoxide: Lemmon and Span 2006, stated for CO (density, near-critical, p_sat)
    "carbon_monoxide": Rules(_const(CO_RHO), _const(CO_RHO), _const(CO_PSAT), CO_RHO_CRIT),
    # fluorine (de Reuck 1990, a book) and R14 (Platzer et al. 1990, a book): not found
    "fluorine": ASSUMED_RULES,
    "r14": ASSUMED_RULES,
    # sulfur hexafluoride: Guder and Wagner 2009 density statement; no p_sat figure found
    "sf6": Rules(_sf6, _sf6, _const(REF_PSAT)),
    # ethane (Buecker and Wagner 2006) and ethylene (Smukala et al. 2000): not found
    "ethane": ASSUMED_RULES,
    "ethylene": ASSUMED_RULES,
    # carbon dioxide: Span and Wagner 1996 density statement; no p_sat figure found
    "carbon_dioxide": Rules(_const(CO2_RHO), _const(CO2_RHO), _const(REF_PSAT)),
    # propane: Lemmon et al. 2009 density and vapour-pressure statements
    "propane": Rules(_propane, _propane, _propane_psat),
    # n-butane: Buecker and Wagner 2006, density (k = 2) to 340 K and 12 MPa; no p_sat figure
    "n_butane": Rules(_butane, _butane, _const(REF_PSAT)),
    # n-pentane, n-hexane: Thol et al. (CoolProp: FPE 2019), not found published
    "n_pentane": ASSUMED_RULES,
    "n_hexane": ASSUMED_RULES,
    # n-heptane: Span and Wagner 2003 short equation
    "n_heptane": Rules(_sw2003, _sw2003, _const(SW2003_PSAT)),
    # n-octane: Beckmueller et al. 2022 abstract (liquid, vapour, p_sat)
    "n_octane": Rules(_octane_liquid, _const(OCTANE_RHO_VAP), _const(OCTANE_PSAT)),
    # n-nonane, n-decane: Lemmon and Span 2006; CO's statement of the same paper by analogy
    "n_nonane": Rules(_const(LS2006_RHO), _const(LS2006_RHO), _const(TECH_PSAT), LS2006_RHO_CRIT),
    "n_decane": Rules(_const(LS2006_RHO), _const(LS2006_RHO), _const(TECH_PSAT), LS2006_RHO_CRIT),
    # n-undecane: Aleksandrov et al. 2011: not found
    "n_undecane": ASSUMED_RULES,
    # n-dodecane: Lemmon and Huber 2004 abstract (density, p_sat)
    "n_dodecane": Rules(_const(DODECANE_RHO), _const(DODECANE_RHO), _const(DODECANE_PSAT)),
}


# ----------------------------------------------------------------------- fluids


@dataclasses.dataclass(frozen=True)
class Species:
    """A fluid of data/vle or data/alkanes: CoolProp name, EOS citation and limits."""

    key: str  # file stem and key of RULES
    coolprop: str
    name: str
    formula: str
    eos: str  # citation
    eos_doi: str  # "" where none was found
    T_lo_K: float  # stated lower temperature limit of the EOS
    p_hi_MPa: float  # upper pressure limit used for the compressed liquid
    validity: str  # where the limits come from
    carbon_number: int = 0
    note: str = ""
    gerg: str | None = None  # teqp GERG-2008 name where that equation is independent of the EOS


#: Notes on the atlas fluids for the VLE files (the atlas's own notes are about B2).
VLE_NOTES = {
    "neon": (
        "EOS unpublished as far as we could find. Quantum effects in neon are large "
        "(data/atlas/fluids.csv quantum_flag): a classical model fitted to these data absorbs "
        "them."
    ),
    "fluorine": "EOS from a 1990 book (no uncertainty statement found).",
    "r14": "The EOS starts at 120 K, above the 89.54 K triple point: the files start there.",
    "carbon_dioxide": "The triple point is 0.71 Tc: the saturation range is 0.71-0.95 Tc.",
    "sf6": "The triple point is 0.70 Tc: the saturation range is 0.70-0.95 Tc.",
}


def _from_atlas(fluid: atlas.Fluid, carbon_number: int = 0) -> Species:
    return Species(
        key=fluid.key,
        coolprop=fluid.coolprop,
        name=fluid.name,
        formula=fluid.formula,
        eos=fluid.eos,
        eos_doi=fluid.eos_doi,
        T_lo_K=fluid.T_lo_K,
        p_hi_MPa=fluid.p_hi_MPa,
        validity=fluid.validity,
        carbon_number=carbon_number,
        note=VLE_NOTES.get(fluid.key, ""),
        gerg=fluid.gerg,
    )


VLE_FLUIDS: tuple[Species, ...] = tuple(_from_atlas(f) for f in atlas.FLUIDS)
_ATLAS = {f.key: f for f in atlas.FLUIDS}

ALKANES: tuple[Species, ...] = (
    _from_atlas(_ATLAS["methane"], 1),
    _from_atlas(_ATLAS["ethane"], 2),
    Species(
        key="propane",
        coolprop="n-Propane",
        name="propane",
        formula="C3H8",
        eos=(
            "E. W. Lemmon, M. O. McLinden, W. Wagner, 'Thermodynamic Properties of Propane. III. "
            "A Reference Equation of State for Temperatures from the Melting Line to 650 K and "
            "Pressures up to 1000 MPa', J. Chem. Eng. Data 54, 3141 (2009)"
        ),
        eos_doi="10.1021/je900217v",
        T_lo_K=85.525,
        p_hi_MPa=1000.0,
        validity="title of the EOS paper",
        carbon_number=3,
        gerg="propane",
    ),
    Species(
        key="n_butane",
        coolprop="n-Butane",
        name="n-butane",
        formula="C4H10",
        eos=(
            "D. Buecker, W. Wagner, 'Reference Equations of State for the Thermodynamic "
            "Properties of Fluid Phase n-Butane and Isobutane', J. Phys. Chem. Ref. Data 35, 929 "
            "(2006)"
        ),
        eos_doi="10.1063/1.1901687",
        T_lo_K=134.895,
        p_hi_MPa=12.0,
        validity=(
            "CoolProp's upper pressure limit of this EOS (12 MPa), which is the edge of the "
            "region of the paper's stated density uncertainty (melting line to 340 K, 12 MPa); "
            "the paper's primary data reach 575 K and 69 MPa"
        ),
        carbon_number=4,
        note="Compressed-liquid isotherms stop at 12 MPa, the EOS limit in CoolProp.",
        gerg="n-butane",
    ),
    Species(
        key="n_pentane",
        coolprop="n-Pentane",
        name="n-pentane",
        formula="C5H12",
        eos=(
            "M. Thol, T. Uhde, E. W. Lemmon, R. Span, 'Fundamental Equations of State for "
            "Hydrocarbons. Part I. n-Pentane', cited by CoolProp 8.0.0 as Fluid Phase Equilib. "
            "(2019) (key Thol-FPE-2019-alkanes-pentane); we found no published version"
        ),
        eos_doi="",
        T_lo_K=143.47,
        p_hi_MPa=780.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 650 K, pmax)",
        carbon_number=5,
        gerg="n-pentane",
    ),
    Species(
        key="n_hexane",
        coolprop="n-Hexane",
        name="n-hexane",
        formula="C6H14",
        eos=(
            "M. Thol, Y. Wang, E. W. Lemmon, R. Span, 'Fundamental Equations of State for "
            "Hydrocarbons. Part II. n-Hexane', cited by CoolProp 8.0.0 as Fluid Phase Equilib. "
            "(2019) (key Thol-FPE-2019-alkanes-hexane); we found no published version"
        ),
        eos_doi="",
        T_lo_K=177.83,
        p_hi_MPa=92.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 600 K, pmax 92 MPa)",
        carbon_number=6,
        note="Compressed-liquid isotherms stop at 92 MPa, the EOS limit in CoolProp.",
        gerg="n-hexane",
    ),
    Species(
        key="n_heptane",
        coolprop="n-Heptane",
        name="n-heptane",
        formula="C7H16",
        eos=(
            "R. Span, W. Wagner, 'Equations of State for Technical Applications. II. Results for "
            "Nonpolar Fluids', Int. J. Thermophys. 24, 41 (2003)"
        ),
        eos_doi="10.1023/A:1022310214958",
        T_lo_K=182.55,
        p_hi_MPa=100.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 600 K, pmax 100 MPa)",
        carbon_number=7,
        note=(
            "The critical point of this short equation (541.23 K, CoolProp T_critical) differs "
            "from its reducing temperature (540.13 K); T_over_Tc uses the former."
        ),
    ),
    Species(
        key="n_octane",
        coolprop="n-Octane",
        name="n-octane",
        formula="C8H18",
        eos=(
            "R. Beckmueller, M. Thol, E. W. Lemmon, R. Span, 'Fundamental Equation of State for "
            "n-Octane', cited by CoolProp 8.0.0 as Int. J. Thermophys. (2019) (key "
            "Beckmueller-IJT-2019-octane); published as R. Beckmueller, R. Span, E. W. Lemmon, M. "
            "Thol, 'A Fundamental Equation of State for the Calculation of Thermodynamic "
            "Properties of n-Octane', J. Phys. Chem. Ref. Data 51(4) (2022)"
        ),
        eos_doi="10.1063/5.0104661",
        T_lo_K=216.37,
        p_hi_MPa=1000.0,
        validity=(
            "published range 216.37-650 K, 1000 MPa (CoolProp allows 730 K: its coefficients may "
            "be a pre-publication version; we did not compare them with the paper)"
        ),
        carbon_number=8,
        gerg="n-octane",
    ),
    Species(
        key="n_nonane",
        coolprop="n-Nonane",
        name="n-nonane",
        formula="C9H20",
        eos=atlas.LEMMON_SPAN,
        eos_doi="10.1021/je050186n",
        T_lo_K=219.7,
        p_hi_MPa=800.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 600 K, pmax)",
        carbon_number=9,
    ),
    Species(
        key="n_decane",
        coolprop="n-Decane",
        name="n-decane",
        formula="C10H22",
        eos=atlas.LEMMON_SPAN,
        eos_doi="10.1021/je050186n",
        T_lo_K=243.5,
        p_hi_MPa=800.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 675 K, pmax)",
        carbon_number=10,
    ),
    Species(
        key="n_undecane",
        coolprop="n-Undecane",
        name="n-undecane",
        formula="C11H24",
        eos=(
            "I. S. Aleksandrov, A. A. Gerasimov, B. A. Grigor'ev, 'Using Fundamental Equations of "
            "State for Calculating the Thermodynamic Properties of Normal Undecane', Thermal "
            "Engineering 58, 691 (2011)"
        ),
        eos_doi="10.1134/S0040601511080027",
        T_lo_K=247.541,
        p_hi_MPa=500.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 700 K, pmax)",
        carbon_number=11,
    ),
    Species(
        key="n_dodecane",
        coolprop="n-Dodecane",
        name="n-dodecane",
        formula="C12H26",
        eos=(
            "E. W. Lemmon, M. L. Huber, 'Thermodynamic Properties of n-Dodecane', Energy Fuels "
            "18, 960 (2004)"
        ),
        eos_doi="10.1021/ef0341062",
        T_lo_K=263.6,
        p_hi_MPa=200.0,
        validity="CoolProp's limits of this EOS (Tmin, Tmax 700 K, pmax 200 MPa)",
        carbon_number=12,
    ),
)


# ----------------------------------------------------------------------- evaluation


@functools.cache
def _state(coolprop: str):
    import CoolProp.CoolProp as CP

    return CP.AbstractState("HEOS", coolprop)


def constants(sp: Species) -> dict[str, float]:
    """Critical point (the EOS's own), triple point, lower limit and molar mass (CoolProp)."""
    import CoolProp.CoolProp as CP

    AS = _state(sp.coolprop)
    return {
        "Tc_K": AS.T_critical(),
        "pc_MPa": AS.p_critical() * 1e-6,
        "rhoc_mol_per_L": AS.rhomolar_critical() * 1e-3,
        "T_triple_K": AS.Ttriple(),
        "p_triple_MPa": CP.PropsSI("ptriple", sp.coolprop) * 1e-6,
        "T_lo_K": max(AS.Ttriple(), AS.Tmin(), sp.T_lo_K),
        "p_max_MPa": AS.pmax() * 1e-6,
        "M_g_per_mol": AS.molar_mass() * 1e3,
    }


def _kappa_p(sp: Species, T: float, rho_molar: float, liquid: bool) -> float:
    """kappa_T p = p / (rho (dp/drho)_T) of the EOS at (T, rho), the phase imposed (1)."""
    import CoolProp.CoolProp as CP

    AS = _state(sp.coolprop)
    AS.specify_phase(CP.iphase_liquid if liquid else CP.iphase_gas)
    try:
        AS.update(CP.DmolarT_INPUTS, rho_molar, T)
        return AS.p() / (rho_molar * AS.first_partial_deriv(CP.iP, CP.iDmolar, CP.iT))
    finally:
        AS.unspecify_phase()


def saturation_values(sp: Species, T: float) -> dict[str, float]:
    """p_sat (MPa), rho' and rho'' (mol/L), dH_vap (kJ/mol) of the EOS at T (K), CoolProp."""
    import CoolProp.CoolProp as CP

    AS = _state(sp.coolprop)
    AS.update(CP.QT_INPUTS, 0.0, T)
    p, rho_l, h_l = AS.p(), AS.rhomolar(), AS.hmolar()
    AS.update(CP.QT_INPUTS, 1.0, T)
    rho_v, h_v = AS.rhomolar(), AS.hmolar()
    return {
        "p_sat_MPa": p * 1e-6,
        "rho_l_mol_per_L": rho_l * 1e-3,
        "rho_v_mol_per_L": rho_v * 1e-3,
        "dH_vap_kJ_per_mol": (h_v - h_l) * 1e-3,
    }


def _near_critical(rules: Rules, base: Statement, T_over_Tc: float) -> tuple[float, Statement]:
    """The density figure with a stated near-critical value ramped in above NEAR_CRITICAL_FROM."""
    if rules.critical is None or T_over_Tc <= NEAR_CRITICAL_FROM:
        return base.standard, base
    w = (T_over_Tc - NEAR_CRITICAL_FROM) / (1.0 - NEAR_CRITICAL_FROM)
    return base.standard + w * (rules.critical.standard - base.standard), rules.critical


def relative_uncertainties(
    rules: Rules,
    T: float,
    Tc: float,
    values: dict[str, float],
    kappa_p_liquid: float,
    kappa_p_vapour: float,
) -> tuple[dict[str, float], dict[str, Statement]]:
    """Relative standard uncertainties of the four saturation properties at T (module docstring).

    Parameters
    ----------
    rules
        The EOS's statements.
    T, Tc
        Temperature and the EOS's critical temperature, K.
    values
        :func:`saturation_values` at T.
    kappa_p_liquid, kappa_p_vapour
        ``kappa_T p_sat`` (dimensionless) of the saturated liquid and vapour.

    Returns
    -------
    (dict, dict)
        Property name -> relative standard uncertainty; name -> the statement used.
    """
    p = values["p_sat_MPa"]
    st_p = rules.p_sat(T, Tc)
    u_p = st_p.standard
    u_l0, st_l = _near_critical(rules, rules.liquid(T, p, Tc), T / Tc)
    u_v0, st_v = _near_critical(rules, rules.vapour(T, p, Tc), T / Tc)
    u_l = math.hypot(u_l0, kappa_p_liquid * u_p)
    u_v = math.hypot(u_v0, kappa_p_vapour * u_p)
    v_l = 1.0 / values["rho_l_mol_per_L"]
    v_v = 1.0 / values["rho_v_mol_per_L"]
    u_dv = math.hypot(u_v * v_v, u_l * v_l) / (v_v - v_l)
    # Clapeyron: dH = T dv dp/dT, so dln p/dln T = dH / (p dv) (kJ/mol over MPa L/mol = kJ/mol)
    dlnp_dlnT = values["dH_vap_kJ_per_mol"] / (p * (v_v - v_l))
    u_slope = math.sqrt(2.0) * u_p / (CLAPEYRON_DELTA * dlnp_dlnT)
    u_h = math.hypot(u_slope, u_dv)
    rel = {
        "p_sat_MPa": u_p,
        "rho_l_mol_per_L": u_l,
        "rho_v_mol_per_L": u_v,
        "dH_vap_kJ_per_mol": u_h,
    }
    return rel, {"p_sat_MPa": st_p, "rho_l_mol_per_L": st_l, "rho_v_mol_per_L": st_v}


@functools.cache
def _gerg_model(name: str):
    import teqp

    return teqp.make_model({"kind": "GERG2008resid", "model": {"names": [name]}})


def gerg_dh_spread(sp: Species, T: float, values: dict[str, float]) -> float:
    """|dH_vap(GERG-2008) / dH_vap(EOS) - 1| at T: the spread between two equations.

    GERG-2008's pure-fluid equation (Kunz and Wagner 2012, via teqp) is solved for
    coexistence at T from the EOS's densities (teqp ``pure_VLE_T``); dH_vap = h_res'' -
    h_res' with h_res / RT = Ar10 + Ar01 (the ideal-gas parts cancel at equal T).
    """
    m = _gerg_model(sp.gerg)
    z = np.array([1.0])
    R = m.get_R(z)
    rho_l, rho_v = values["rho_l_mol_per_L"] * 1e3, values["rho_v_mol_per_L"] * 1e3
    L, V = m.pure_VLE_T(T, rho_l, rho_v, 50)
    if not (abs(L / rho_l - 1.0) < 0.2 and abs(V / rho_v - 1.0) < 0.5):
        raise RuntimeError(f"{sp.key}: GERG-2008 VLE at {T} K went to ({L}, {V}) mol/m^3")

    def h_res(rho: float) -> float:
        return R * T * (m.get_Ar10(T, rho, z) + m.get_Ar01(T, rho, z))

    d = abs((h_res(V) - h_res(L)) * 1e-3 / values["dH_vap_kJ_per_mol"] - 1.0)
    if d < 1e-9:
        raise RuntimeError(f"{sp.key}: GERG-2008 is the same equation as the EOS (set gerg=None)")
    return d


def saturation_row(sp: Species, T: float, Tc: float) -> tuple[dict[str, float], dict, float]:
    """One row of a saturation file at the (rounded) T, the statements used, the GERG spread."""
    values = saturation_values(sp, T)
    kl = _kappa_p(sp, T, values["rho_l_mol_per_L"] * 1e3, liquid=True)
    kv = _kappa_p(sp, T, values["rho_v_mol_per_L"] * 1e3, liquid=False)
    rel, used = relative_uncertainties(RULES[sp.key], T, Tc, values, kl, kv)
    d = gerg_dh_spread(sp, T, values) if sp.gerg else 0.0
    rel["dH_vap_kJ_per_mol"] = math.hypot(rel["dH_vap_kJ_per_mol"], d)
    row = {"T_K": T, "T_over_Tc": T / Tc}
    for name, x in values.items():
        row[name] = x
        row["u_" + name] = rel[name] * abs(x)
    return row, used, d


def compressed_value(sp: Species, T: float, p_MPa: float) -> float:
    """Liquid molar density (mol/L) of the EOS at (T in K, p in MPa), liquid phase imposed."""
    import CoolProp.CoolProp as CP

    AS = _state(sp.coolprop)
    AS.specify_phase(CP.iphase_liquid)
    try:
        AS.update(CP.PT_INPUTS, p_MPa * 1e6, T)
        return AS.rhomolar() * 1e-3
    finally:
        AS.unspecify_phase()


def melting_pressure_MPa(sp: Species, T: float) -> float | None:
    """CoolProp's melting pressure at T, MPa, or None where it has none at T."""
    import CoolProp.CoolProp as CP

    AS = _state(sp.coolprop)
    if not AS.has_melting_line():
        return None
    try:
        return AS.melting_line(CP.iP, CP.iT, T) * 1e-6
    except ValueError:  # T outside the melting curve's range in CoolProp
        return None


# ----------------------------------------------------------------------- grids


def _ceil2(x: float) -> float:
    return math.ceil(round(x * 100.0, 6)) / 100.0


def _floor2(x: float) -> float:
    return math.floor(round(x * 100.0, 6)) / 100.0


def vle_temperatures(sp: Species) -> np.ndarray:
    """N_VLE temperatures evenly spaced from T_lo (rounded up) to 0.95 Tc (rounded down)."""
    c = constants(sp)
    lo, hi = _ceil2(c["T_lo_K"]), _floor2(VLE_T_HI_OVER_TC * c["Tc_K"])
    T = np.round(np.linspace(lo, hi, N_VLE), 2)
    T[0], T[-1] = lo, hi
    return T


def alkane_temperatures(sp: Species) -> np.ndarray:
    """Piecewise-even grid from T_lo to 0.9 Tc with nodes at 0.45 Tc (if above T_lo) and 0.7 Tc.

    The 0.45 Tc node is rounded up and the others down to 0.01 K, so that
    ``T_over_Tc`` selections [0.45, 0.9] and [0, 0.7] include their end nodes.
    """
    c = constants(sp)
    Tc = c["Tc_K"]
    lo = _ceil2(c["T_lo_K"])
    n45, n70, n90 = (ALKANE_NODES_OVER_TC[0] * Tc, *(x * Tc for x in ALKANE_NODES_OVER_TC[1:]))
    nodes = [lo]
    if _ceil2(n45) > lo:
        nodes.append(_ceil2(n45))
    nodes += [_floor2(n70), _floor2(n90)]
    h = (nodes[-1] - nodes[0]) / (N_ALKANE - 1)
    out = []
    for a, b in itertools.pairwise(nodes):
        n = max(2, round((b - a) / h))
        seg = np.round(np.linspace(a, b, n + 1), 2)
        seg[0], seg[-1] = a, b
        out.extend(seg[:-1])
    out.append(nodes[-1])
    return np.array(out)


def isotherm_temperatures(sp: Species) -> tuple[float, ...]:
    Tc = constants(sp)["Tc_K"]
    return tuple(round(x * Tc, 2) for x in ISOTHERMS_OVER_TC)


def compressed_pressures(sp: Species, T: float) -> tuple[list[float], list[str]]:
    """Pressures (MPa) of the isotherm T, and the candidates dropped with the reason."""
    c = constants(sp)
    p_hi = min(100.0, sp.p_hi_MPa, c["p_max_MPa"])
    p_sat = saturation_values(sp, T)["p_sat_MPa"]
    p_melt = melting_pressure_MPa(sp, T)
    grid = [p for p in COMPRESSED_P_MPA if p < p_hi] + [p_hi]
    keep, dropped = [], []
    for p in grid:
        if p <= p_sat:
            dropped.append(f"T = {T} K, p = {p:g} MPa: below p_sat = {p_sat:.4g} MPa")
        elif p_melt is not None and p >= p_melt:
            dropped.append(
                f"T = {T} K, p = {p:g} MPa: above the melting pressure {p_melt:.4g} MPa"
            )
        else:
            keep.append(p)
    return keep, dropped


# ----------------------------------------------------------------------- tables

SAT_COLUMNS = (
    "T_K",
    "T_over_Tc",
    "p_sat_MPa",
    "u_p_sat_MPa",
    "rho_l_mol_per_L",
    "u_rho_l_mol_per_L",
    "rho_v_mol_per_L",
    "u_rho_v_mol_per_L",
    "dH_vap_kJ_per_mol",
    "u_dH_vap_kJ_per_mol",
)
COMPRESSED_COLUMNS = ("T_K", "p_MPa", "T_over_Tc", "rho_mol_per_L", "u_rho_mol_per_L")
UNITS = {
    "T_K": "K",
    "T_over_Tc": "1",
    "p_sat_MPa": "MPa",
    "u_p_sat_MPa": "MPa",
    "rho_l_mol_per_L": "mol/L",
    "u_rho_l_mol_per_L": "mol/L",
    "rho_v_mol_per_L": "mol/L",
    "u_rho_v_mol_per_L": "mol/L",
    "dH_vap_kJ_per_mol": "kJ/mol",
    "u_dH_vap_kJ_per_mol": "kJ/mol",
    "p_MPa": "MPa",
    "rho_mol_per_L": "mol/L",
    "u_rho_mol_per_L": "mol/L",
}
PROPERTY_NAMES = {
    "p_sat_MPa": "vapour pressure",
    "rho_l_mol_per_L": "saturated liquid density",
    "rho_v_mol_per_L": "saturated vapour density",
    "dH_vap_kJ_per_mol": "enthalpy of vaporisation",
    "rho_mol_per_L": "compressed-liquid density",
}
DH_DERIVATION = (
    "DERIVED (no figure stated): Clapeyron dH = T dv dp_sat/dT; u_r(dH)^2 = u_r(dv)^2 + "
    "(sqrt(2) u_r(p_sat) / (0.1 dln p_sat/dln T))^2, u_r(dv) from u(rho'), u(rho''); the 0.1 "
    "(vapour-pressure errors independent 10 % apart in T) is OUR ASSUMPTION"
)
DH_GERG = (
    "; plus, in quadrature, d = |dH(GERG-2008)/dH(EOS) - 1|, the spread between two "
    "independently fitted equations (O. Kunz, W. Wagner, J. Chem. Eng. Data 57, 3032 (2012), "
    "doi:10.1021/je300655b, pure-fluid equation via teqp; used beyond its stated range where the "
    "grid goes there, which only adds to u)"
)


def _fmt(col: str, x) -> str:
    if isinstance(x, str):
        return x
    if col == "T_K":
        return f"{x:.2f}"
    if col == "p_MPa":
        return f"{x:g}"
    if col == "T_over_Tc":
        return f"{x:.6g}"
    return f"{x:.3g}" if col.startswith("u_") else f"{x:.8g}"


def to_csv(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_fmt(c, r[c]) for c in columns])
    return buf.getvalue().encode("ascii")


def saturation_table(sp: Species, T: np.ndarray) -> tuple[list[dict], list[tuple], list[float]]:
    """Rows of a saturation file at T, (property, statement, T) for the sources table, and
    the GERG-2008 dH_vap spread (relative) at each T (zeros without a second equation)."""
    Tc = constants(sp)["Tc_K"]
    rows, used, spread = [], [], []
    for t in T:
        row, st, d = saturation_row(sp, float(t), Tc)
        rows.append(row)
        spread.append(d)
        used += [(prop, s, float(t)) for prop, s in st.items()]
    return rows, used, spread


def compressed_table(sp: Species) -> tuple[list[dict], list[tuple], list[str]]:
    """Rows of compressed_<key>.csv, the statements used, and the states dropped."""
    Tc = constants(sp)["Tc_K"]
    rules = RULES[sp.key]
    rows, used, dropped = [], [], []
    for T in isotherm_temperatures(sp):
        ps, drop = compressed_pressures(sp, T)
        dropped += drop
        for p in ps:
            rho = compressed_value(sp, T, p)
            rho_sat = saturation_values(sp, T)["rho_l_mol_per_L"]
            if rho < rho_sat * (1.0 - 1e-9):
                raise RuntimeError(f"{sp.key}: rho({T} K, {p} MPa) = {rho} below rho' = {rho_sat}")
            st = rules.liquid(T, p, Tc)
            rows.append(
                {
                    "T_K": T,
                    "p_MPa": p,
                    "T_over_Tc": T / Tc,
                    "rho_mol_per_L": rho,
                    "u_rho_mol_per_L": st.standard * rho,
                }
            )
            used.append(("rho_mol_per_L", st, T))
    return rows, used, dropped


SOURCE_COLUMNS = (
    "fluid",
    "property",
    "T_min_K",
    "T_max_K",
    "tier",
    "u_stated_percent",
    "coverage",
    "u_standard_percent",
    "source",
)


def sources_rows(
    key: str, used: list[tuple], derived_dh: bool = True, spread: list[float] | None = None
) -> list[dict]:
    """One row per (property, statement) with the temperature range it was used over."""
    spans: dict[tuple[str, Statement], list[float]] = {}
    for prop, st, T in used:
        spans.setdefault((prop, st), []).append(T)
    rows = []
    for (prop, st), Ts in spans.items():
        rows.append(
            {
                "fluid": key,
                "property": PROPERTY_NAMES[prop],
                "T_min_K": f"{min(Ts):.2f}",
                "T_max_K": f"{max(Ts):.2f}",
                "tier": st.tier,
                "u_stated_percent": f"{100 * st.value:g}",
                "coverage": "k=2 (halved)" if st.expanded else "as stated",
                "u_standard_percent": (
                    f"{100 * st.standard:g}"
                    if st.ramp_from is None
                    else f"{100 * st.ramp_from:g} at 0.9 Tc to {100 * st.standard:g} at Tc"
                ),
                "source": st.source,
            }
        )
    if derived_dh:
        Ts = [T for _, _, T in used]
        rows.append(
            {
                "fluid": key,
                "property": PROPERTY_NAMES["dH_vap_kJ_per_mol"],
                "T_min_K": f"{min(Ts):.2f}",
                "T_max_K": f"{max(Ts):.2f}",
                "tier": "derived",
                "u_stated_percent": "",
                "coverage": "",
                "u_standard_percent": "",
                "source": DH_DERIVATION
                + (
                    DH_GERG + f"; d = {100 * min(spread):.2g}-{100 * max(spread):.2g} %"
                    if spread and max(spread) > 0
                    else ""
                ),
            }
        )
    return rows


MOLECULE_COLUMNS = (
    "molecule",
    "coolprop_name",
    "formula",
    "carbon_number",
    "Tc_K",
    "pc_MPa",
    "rhoc_mol_per_L",
    "T_triple_K",
    "T_lo_K",
    "M_g_per_mol",
    "isotherm_1_K",
    "isotherm_2_K",
    "p_max_used_MPa",
    "eos_reference",
    "eos_doi",
    "eos_validity_source",
    "note",
)
MOLECULE_UNITS = {
    "molecule": "text",
    "coolprop_name": "text",
    "formula": "text",
    "carbon_number": "1",
    "Tc_K": "K",
    "pc_MPa": "MPa",
    "rhoc_mol_per_L": "mol/L",
    "T_triple_K": "K",
    "T_lo_K": "K",
    "M_g_per_mol": "g/mol",
    "isotherm_1_K": "K",
    "isotherm_2_K": "K",
    "p_max_used_MPa": "MPa",
    "eos_reference": "text",
    "eos_doi": "text",
    "eos_validity_source": "text",
    "note": "text",
}


def molecule_row(sp: Species) -> dict:
    c = constants(sp)
    T1, T2 = isotherm_temperatures(sp)
    return {
        "molecule": sp.key,
        "coolprop_name": sp.coolprop,
        "formula": sp.formula,
        "carbon_number": str(sp.carbon_number),
        "Tc_K": f"{c['Tc_K']:.8g}",
        "pc_MPa": f"{c['pc_MPa']:.8g}",
        "rhoc_mol_per_L": f"{c['rhoc_mol_per_L']:.8g}",
        "T_triple_K": f"{c['T_triple_K']:.8g}",
        "T_lo_K": f"{c['T_lo_K']:.8g}",
        "M_g_per_mol": f"{c['M_g_per_mol']:.8g}",
        "isotherm_1_K": f"{T1:.2f}",
        "isotherm_2_K": f"{T2:.2f}",
        "p_max_used_MPa": f"{min(100.0, sp.p_hi_MPa, c['p_max_MPa']):g}",
        "eos_reference": sp.eos,
        "eos_doi": sp.eos_doi,
        "eos_validity_source": sp.validity,
        "note": sp.note,
    }


def _text_csv(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r[c] for c in columns])
    return buf.getvalue().encode("ascii")


def build(only: tuple[str, ...] = ()) -> tuple[dict[str, bytes], dict[str, dict]]:
    """All files (path relative to data/ -> bytes) and per-file facts for the manifest."""
    files, facts = {}, {}
    for folder, species, grid in (
        ("vle", VLE_FLUIDS, vle_temperatures),
        ("alkanes", ALKANES, alkane_temperatures),
    ):
        sources = []
        for sp in species:
            if only and sp.key not in only:
                continue
            rows, used, spread = saturation_table(sp, grid(sp))
            name = f"{folder}/saturation_{sp.key}.csv"
            files[name] = to_csv(rows, SAT_COLUMNS)
            facts[name] = {"species": sp, "rows": rows, "kind": "saturation", "spread": spread}
            sources += sources_rows(sp.key, used, spread=spread)
            if folder == "alkanes":
                crows, cused, dropped = compressed_table(sp)
                name = f"alkanes/compressed_{sp.key}.csv"
                files[name] = to_csv(crows, COMPRESSED_COLUMNS)
                facts[name] = {
                    "species": sp,
                    "rows": crows,
                    "kind": "compressed",
                    "dropped": dropped,
                }
                sources += sources_rows(sp.key, cused, derived_dh=False)
        if not only:
            files[f"{folder}/uncertainty_sources.csv"] = _text_csv(sources, SOURCE_COLUMNS)
            facts[f"{folder}/uncertainty_sources.csv"] = {"kind": "sources", "rows": sources}
    if not only:
        mol = [molecule_row(sp) for sp in ALKANES]
        files["alkanes/molecules.csv"] = _text_csv(mol, MOLECULE_COLUMNS)
        facts["alkanes/molecules.csv"] = {"kind": "molecules"}
    return files, facts


# ----------------------------------------------------------------------- manifest and CLI


def versions() -> dict[str, str]:
    import CoolProp
    import CoolProp.CoolProp as CP
    import teqp

    return {
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "CoolProp": f"{CoolProp.__version__} (git {CP.get_global_param_string('gitrevision')})",
        "teqp": teqp.__version__,
    }


LICENCE = (
    "Values computed by the bayesff developers from published equations of state; distributed "
    "under the bayesff licence (MIT). CoolProp (MIT) is not redistributed."
)
SOURCES_UNITS = {c: "K" if c.startswith("T_") else "text" for c in SOURCE_COLUMNS}


def _uncertainty_summary(sp: Species, used_rows: list[dict]) -> str:
    parts = [
        f"{r['property']} {r['u_standard_percent']} % ({r['tier']}; {r['source']}; "
        f"{r['T_min_K']}-{r['T_max_K']} K)"
        for r in used_rows
        if r["tier"] != "derived"
    ]
    return "; ".join(parts)


def manifest_text(files: dict[str, bytes], facts: dict[str, dict], vers: dict[str, str]) -> str:
    vtext = ", ".join(f"{k} {x}" for k, x in vers.items())
    sources = {
        folder: facts[f"{folder}/uncertainty_sources.csv"]["rows"]
        for folder in ("vle", "alkanes")
        if f"{folder}/uncertainty_sources.csv" in facts
    }
    out = []
    for name, payload in files.items():
        sha = hashlib.sha256(payload).hexdigest()
        header = payload.decode().splitlines()[0].split(",")
        f = facts[name]
        folder = name.split("/", 1)[0]
        if f["kind"] in ("saturation", "compressed"):
            sp, rows = f["species"], f["rows"]
            src = (
                f"Computed, not measured: {sp.eos}"
                + (f", doi:{sp.eos_doi}" if sp.eos_doi else "")
                + f"; evaluated with CoolProp (fluid '{sp.coolprop}', "
                + (
                    "saturation solver at quality 0 and 1: p, molar densities, dH_vap = h'' - h'"
                    if f["kind"] == "saturation"
                    else "single-phase (p, T) evaluation with the liquid phase imposed"
                )
                + f"). EOS limits: {sp.validity}. {vtext}."
                + (f" Note: {sp.note}" if sp.note else "")
            )
            mine = [r for r in sources.get(folder, []) if r["fluid"] == sp.key]
            if f["kind"] == "saturation":
                Tc = rows[0]["T_K"] / rows[0]["T_over_Tc"]
                title = (
                    f"Vapour pressure, saturated liquid and vapour densities and enthalpy of "
                    f"vaporisation of {sp.name}, {rows[0]['T_K']:.2f}-{rows[-1]['T_K']:.2f} K "
                    f"({len(rows)} temperatures, to {rows[-1]['T_K'] / Tc:.2f} Tc), from its "
                    "reference equation of state (computed, not measured)"
                )
                mine = [r for r in mine if r["property"] != PROPERTY_NAMES["rho_mol_per_L"]]
                unc = (
                    "Relative standard uncertainties of the EOS value (RULES of "
                    "data/scripts/make_vle_data.py; data/README.md): "
                    + _uncertainty_summary(sp, mine)
                    + ". Saturated densities add kappa_T p_sat u_r(p_sat) in quadrature. "
                    + "Enthalpy of vaporisation: "
                    + DH_DERIVATION
                    + (
                        DH_GERG
                        + f"; d = {100 * min(f['spread']):.2g}-{100 * max(f['spread']):.2g} % "
                        "in this file"
                        if sp.gerg
                        else "; no independent second equation available"
                    )
                    + "."
                )
            else:
                Ts = sorted({r["T_K"] for r in rows})
                title = (
                    f"Compressed-liquid density of {sp.name} on the isotherms "
                    + " and ".join(f"{t:.2f} K" for t in Ts)
                    + f" up to {max(r['p_MPa'] for r in rows):g} MPa, from its reference equation "
                    "of state (computed, not measured)"
                )
                mine = [r for r in mine if r["property"] == PROPERTY_NAMES["rho_mol_per_L"]]
                drop = "; ".join(f["dropped"])
                unc = (
                    "Relative standard uncertainty of the EOS liquid density at (T, p): "
                    + _uncertainty_summary(sp, mine)
                    + "."
                    + (f" Grid states not included: {drop}." if drop else "")
                )
        elif f["kind"] == "sources":
            title = (
                f"Uncertainty statements used for data/{folder}: per fluid and property, tier "
                "(stated / analogy / assumed / derived), stated and standard value, source"
            )
            src = (
                "Compiled by the bayesff developers from the EOS papers' abstracts and NIST "
                "REFPROP's fluid-file summaries of them (quoted in the source column); written by "
                f"the script from its RULES table. {vtext}."
            )
            unc = "Text table; the uncertainties it lists are applied in the data files."
        else:
            title = (
                "Critical constants, triple points, lower limits, molar masses, compressed-liquid "
                "isotherms and EOS references of methane to n-dodecane"
            )
            src = (
                "Computed from the reference equations of state via CoolProp (critical point, "
                f"triple point, limits, molar mass as implemented there). {vtext}."
            )
            unc = "Constants of the equations as implemented in CoolProp; no uncertainty columns."
        units = {
            c: (UNITS.get(c) or MOLECULE_UNITS.get(c) or SOURCES_UNITS.get(c) or "text")
            for c in header
        }
        out.append(
            atlas.manifest_entry(
                name, "reference-equation", title, src, LICENCE, SCRIPT, sha, unc, units
            )
        )
    return "\n".join(out)


def readme_table() -> str:
    """Markdown table of the statements (fluid, property, tier, standard %, source)."""
    _, facts = build()
    lines = [
        "| fluid | property | T range (K) | tier | u (standard, %) | source |",
        "|---|---|---|---|---|---|",
    ]
    seen = set()
    for folder in ("vle", "alkanes"):
        for r in facts[f"{folder}/uncertainty_sources.csv"]["rows"]:
            if r["tier"] == "derived":
                continue
            k = (r["fluid"], r["property"], r["source"], r["T_min_K"])
            if k in seen:
                continue
            seen.add(k)
            lines.append(
                f"| {r['fluid']} | {r['property']} | {r['T_min_K']}-{r['T_max_K']} | {r['tier']} "
                f"| {r['u_standard_percent']} | {r['source']} |"
            )
    return "\n".join(lines)


def write_files(files: dict[str, bytes], out: Path, force: bool) -> int:
    for name, payload in files.items():
        path = out / name
        if path.exists() and not force and path.read_bytes() != payload:
            print(f"{path} exists and differs; pass --force to replace it", file=sys.stderr)
            return 1
    for name, payload in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(payload)
        print(f"{out / name}  sha256 {hashlib.sha256(payload).hexdigest()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=DATA_DIR, help="data folder (vle/, alkanes/ in it)"
    )
    ap.add_argument("--force", action="store_true", help="overwrite existing files that differ")
    ap.add_argument("--only", nargs="*", default=(), help="fluid keys (files of those only)")
    ap.add_argument(
        "--manifest", action="store_true", help="print manifest entries, write nothing"
    )
    ap.add_argument("--table", action="store_true", help="print the README table, write nothing")
    args = ap.parse_args(argv)
    try:
        vers = versions()
    except ImportError as exc:
        print(
            f"missing dependency ({exc}); install with: pip install -e '.[data]'", file=sys.stderr
        )
        return 2
    if args.table:
        print(readme_table())
        return 0
    files, facts = build(tuple(args.only))
    if args.manifest:
        print(manifest_text(files, facts, vers))
        return 0
    rc = write_files(files, args.out, args.force)
    for name, f in facts.items():
        if f.get("dropped"):
            print(f"{name}: {len(f['dropped'])} grid states not included")
    print(", ".join(f"{k} {x}" for k, x in vers.items()))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
