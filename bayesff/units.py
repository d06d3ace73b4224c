"""The internal unit system and conversions at the boundary.

Internal units (docs/architecture.md, Units):

============== =================== ==========================================
dimension      internal unit       notes
============== =================== ==========================================
length         angstrom
energy         kJ/mol              E/k_B in K and kcal/mol convert on loading
temperature    K
number_density 1/angstrom^3
angle          rad
molar_volume   cm^3/mol            reporting unit of virial coefficients
pressure       MPa                 reporting unit; computed as kJ/mol/Å^3
inverse_pressure 1/MPa             isothermal compressibility
inverse_length 1/angstrom          scattering vector q
charge         e                   elementary charges
dipole         e*angstrom          1 D = 0.20819434 e angstrom
quadrupole     e*angstrom^2        1 B (Buckingham) = 1 D angstrom
polarisability angstrom^3          polarisability volume alpha/(4 pi eps0)
dimensionless  1
============== =================== ==========================================

Constants are CODATA 2018 (E. Tiesinga, P. J. Mohr, D. B. Newell and
B. N. Taylor, Rev. Mod. Phys. 93, 025010 (2021), doi:10.1103/RevModPhys.93.025010);
k_B, N_A and e are exact in the 2019 SI. The thermochemical calorie is
4.184 J exactly. The vacuum permittivity is the CODATA 2018 value
eps0 = 8.8541878128(13) x 10^-12 F/m, so that the Coulomb constant
e^2 N_A / (4 pi eps0) = 1389.35457 kJ mol^-1 angstrom e^-2 (relative standard
uncertainty 1.5e-10, that of eps0). The debye is 10^-21/c C m exactly (c the
speed of light), and the buckingham 1 D angstrom.

Electrostatic quantities are in "e-angstrom" units: charges in e, dipoles in
e angstrom, quadrupoles in e angstrom^2 and polarisabilities as polarisability
volumes alpha/(4 pi eps0) in angstrom^3; an energy is then
:data:`COULOMB_KJ_PER_MOL_ANGSTROM` times a product of these over a power of
angstrom (e.g. q_i q_j / r).

Conversions are plain floats so that they can be applied inside jitted code
as constants; nothing here imports jax. A missing or unknown unit raises
:class:`bayesff.errors.UnitError`, never a guess.
"""

from __future__ import annotations

import math

from bayesff.errors import UnitError

__all__ = [
    "AVOGADRO",
    "BOLTZMANN_J_PER_K",
    "COULOMB_KJ_PER_MOL_ANGSTROM",
    "DEBYE_E_ANGSTROM",
    "DIMENSIONS",
    "GAS_CONSTANT_KJ_PER_MOL_K",
    "INTERNAL_UNITS",
    "KJ_PER_MOL_PER_A3_IN_MPA",
    "convert",
    "dimensions_of",
    "from_internal",
    "known_units",
    "to_internal",
]

#: Avogadro constant, 1/mol (exact, SI 2019).
AVOGADRO = 6.02214076e23
#: Boltzmann constant, J/K (exact, SI 2019).
BOLTZMANN_J_PER_K = 1.380649e-23
#: Elementary charge, C (exact, SI 2019).
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: Molar gas constant R = k_B N_A, in kJ/(mol K).
GAS_CONSTANT_KJ_PER_MOL_K = BOLTZMANN_J_PER_K * AVOGADRO / 1000.0
#: Bohr radius in angstrom (CODATA 2018).
BOHR_RADIUS_ANGSTROM = 0.529177210903
#: Thermochemical calorie in J (exact by definition).
CALORIE_J = 4.184
#: Vacuum electric permittivity, F/m (CODATA 2018).
VACUUM_PERMITTIVITY_F_PER_M = 8.8541878128e-12
#: Speed of light in vacuum, m/s (exact).
SPEED_OF_LIGHT_M_PER_S = 299792458.0
#: Coulomb constant e^2 N_A / (4 pi eps0) in kJ mol^-1 angstrom e^-2 (1389.35457...).
COULOMB_KJ_PER_MOL_ANGSTROM = (
    ELEMENTARY_CHARGE_C**2
    * AVOGADRO
    / (4.0 * math.pi * VACUUM_PERMITTIVITY_F_PER_M)
    / 1e-10
    / 1000.0
)
#: One debye (10^-21/c C m) in e angstrom (0.20819434...).
DEBYE_E_ANGSTROM = 1e-21 / SPEED_OF_LIGHT_M_PER_S / (ELEMENTARY_CHARGE_C * 1e-10)
#: 1 kJ/mol/Å^3 expressed in MPa: 1e3 J / N_A / 1e-30 m^3 / 1e6.
KJ_PER_MOL_PER_A3_IN_MPA = 1e3 / AVOGADRO / 1e-30 / 1e6

INTERNAL_UNITS: dict[str, str] = {
    "length": "angstrom",
    "energy": "kJ/mol",
    "temperature": "K",
    "number_density": "1/angstrom^3",
    "angle": "rad",
    "molar_volume": "cm^3/mol",
    "pressure": "MPa",
    "inverse_pressure": "1/MPa",
    "inverse_length": "1/angstrom",
    "force": "kJ/mol/angstrom",
    "charge": "e",
    "dipole": "e*angstrom",
    "quadrupole": "e*angstrom^2",
    "polarisability": "angstrom^3",
    "molar_mass": "g/mol",
    "dimensionless": "1",
}
DIMENSIONS = tuple(INTERNAL_UNITS)

# factor such that value_internal = value * factor, per dimension.
_FACTORS: dict[str, dict[str, float]] = {
    "length": {
        "angstrom": 1.0,
        "nm": 10.0,
        "pm": 0.01,
        "m": 1e10,
        "bohr": BOHR_RADIUS_ANGSTROM,
    },
    "energy": {
        "kJ/mol": 1.0,
        "kcal/mol": CALORIE_J,
        "J/mol": 1e-3,
        # E/k_B: an energy quoted as a temperature.
        "K": GAS_CONSTANT_KJ_PER_MOL_K,
        "eV": ELEMENTARY_CHARGE_C * AVOGADRO / 1000.0,
    },
    "temperature": {"K": 1.0},
    "molar_mass": {"g/mol": 1.0, "kg/mol": 1000.0},
    "number_density": {
        "1/angstrom^3": 1.0,
        "1/nm^3": 1e-3,
        "mol/L": AVOGADRO * 1e-27,
        "mol/m^3": AVOGADRO * 1e-30,
        "mol/cm^3": AVOGADRO * 1e-24,
    },
    "angle": {"rad": 1.0, "deg": math.pi / 180.0},
    "molar_volume": {
        "cm^3/mol": 1.0,
        "m^3/mol": 1e6,
        "L/mol": 1e3,
        # per-molecule volume in Å^3 -> molar volume in cm^3/mol
        "angstrom^3": AVOGADRO * 1e-24,
    },
    "pressure": {
        "MPa": 1.0,
        "kPa": 1e-3,
        "Pa": 1e-6,
        "bar": 0.1,
        "kJ/mol/angstrom^3": KJ_PER_MOL_PER_A3_IN_MPA,
    },
    "inverse_pressure": {
        "1/MPa": 1.0,
        "1/Pa": 1e6,
        "1/kPa": 1e3,
        "1/bar": 10.0,
    },
    "inverse_length": {"1/angstrom": 1.0, "1/nm": 0.1, "1/m": 1e-10},
    "force": {
        "kJ/mol/angstrom": 1.0,
        "kJ/mol/nm": 0.1,
        "kcal/mol/angstrom": CALORIE_J,
        "eV/angstrom": ELEMENTARY_CHARGE_C * AVOGADRO / 1000.0,
    },
    "charge": {"e": 1.0, "C": 1.0 / ELEMENTARY_CHARGE_C},
    "dipole": {
        "e*angstrom": 1.0,
        "D": DEBYE_E_ANGSTROM,
        "e*bohr": BOHR_RADIUS_ANGSTROM,
        "C*m": 1.0 / (ELEMENTARY_CHARGE_C * 1e-10),
    },
    "quadrupole": {
        "e*angstrom^2": 1.0,
        # the buckingham, 1 B = 1 D angstrom = 1e-26 statC cm^2
        "B": DEBYE_E_ANGSTROM,
        "D*angstrom": DEBYE_E_ANGSTROM,
        "e*bohr^2": BOHR_RADIUS_ANGSTROM**2,
        "C*m^2": 1.0 / (ELEMENTARY_CHARGE_C * 1e-20),
    },
    "polarisability": {
        # polarisability volume alpha' = alpha / (4 pi eps0)
        "angstrom^3": 1.0,
        "bohr^3": BOHR_RADIUS_ANGSTROM**3,
        "nm^3": 1e3,
        "cm^3": 1e24,
        # SI polarisability alpha in C m^2 / V -> alpha / (4 pi eps0) in m^3 -> angstrom^3
        "C*m^2/V": 1e30 / (4.0 * math.pi * VACUUM_PERMITTIVITY_F_PER_M),
    },
    "dimensionless": {"1": 1.0, "": 1.0},
}

# Spellings accepted in files, mapped to the canonical names above.
_ALIASES = {
    "Å": "angstrom",
    "angstroms": "angstrom",
    "ang": "angstrom",
    "kelvin": "K",
    "kj/mol": "kJ/mol",
    "kJ mol-1": "kJ/mol",
    "kcal mol-1": "kcal/mol",
    "kcal/mol": "kcal/mol",
    "Å^-3": "1/angstrom^3",
    "angstrom^-3": "1/angstrom^3",
    "cm3/mol": "cm^3/mol",
    "cm^3 mol^-1": "cm^3/mol",
    "m3/mol": "m^3/mol",
    "1/Å": "1/angstrom",
    "angstrom^-1": "1/angstrom",
    "Å^-1": "1/angstrom",
    "degree": "deg",
    "degrees": "deg",
    "radian": "rad",
    "radians": "rad",
    "debye": "D",
    "Debye": "D",
    "e Å": "e*angstrom",
    "e*Å": "e*angstrom",
    "buckingham": "B",
    "Buckingham": "B",
    "e Å^2": "e*angstrom^2",
    "e*Å^2": "e*angstrom^2",
    "Å^3": "angstrom^3",
    "a0^3": "bohr^3",
}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _canonical(unit: str | None, dimension: str, where: str | None) -> str:
    if dimension not in _FACTORS:
        raise UnitError(
            f"unknown dimension {dimension!r}; expected one of {', '.join(DIMENSIONS)}", where
        )
    if unit is None or (
        isinstance(unit, str) and not unit.strip() and dimension != "dimensionless"
    ):
        raise UnitError(
            f"missing unit for {_article(dimension)} {dimension}; expected one of "
            f"{', '.join(repr(u) for u in _FACTORS[dimension] if u)}",
            where,
        )
    if not isinstance(unit, str):
        raise UnitError(f"a unit must be a string, got {unit!r}", where)
    name = _ALIASES.get(unit.strip(), unit.strip())
    if name not in _FACTORS[dimension]:
        raise UnitError(
            f"unknown {dimension} unit {unit!r}; expected one of "
            f"{', '.join(repr(u) for u in _FACTORS[dimension] if u)}",
            where,
        )
    return name


def dimensions_of(unit: str) -> tuple[str, ...]:
    """The dimensions a unit belongs to (``"K"``: temperature and energy, as E/k_B)."""
    out = []
    for d in DIMENSIONS:
        try:
            factor(unit, d)
        except UnitError:
            continue
        out.append(d)
    return tuple(out)


def known_units(dimension: str) -> tuple[str, ...]:
    """Units accepted for a dimension (canonical spellings)."""
    return tuple(u for u in _FACTORS[_canonical_dim(dimension)] if u)


def _canonical_dim(dimension: str) -> str:
    if dimension not in _FACTORS:
        raise UnitError(
            f"unknown dimension {dimension!r}; expected one of {', '.join(DIMENSIONS)}"
        )
    return dimension


def factor(unit: str | None, dimension: str, *, where: str | None = None) -> float:
    """Multiplier taking a value in ``unit`` to the internal unit of ``dimension``.

    Parameters
    ----------
    unit
        Unit as written in a file, e.g. ``"K"`` or ``"kcal/mol"`` for an energy.
    dimension
        One of :data:`DIMENSIONS`.
    where
        File/field for the error message.

    Raises
    ------
    UnitError
        If the unit is missing or unknown for that dimension.
    """
    name = _canonical(unit, dimension, where)  # checks the dimension first
    return _FACTORS[dimension][name]


def to_internal(value, unit: str | None, dimension: str, *, where: str | None = None):
    """Convert ``value`` from ``unit`` to the internal unit of ``dimension``.

    Works on floats, NumPy and JAX arrays (a multiplication by a float).

    Examples
    --------
    >>> round(to_internal(119.8, "K", "energy"), 6)   # epsilon/k_B = 119.8 K in kJ/mol
    0.996073
    """
    return value * factor(unit, dimension, where=where)


def from_internal(value, unit: str | None, dimension: str, *, where: str | None = None):
    """Convert ``value`` from the internal unit of ``dimension`` to ``unit``."""
    return value / factor(unit, dimension, where=where)


def convert(value, from_unit: str, to_unit: str, dimension: str, *, where: str | None = None):
    """Convert ``value`` between two units of the same dimension."""
    return from_internal(to_internal(value, from_unit, dimension, where=where), to_unit, dimension)
