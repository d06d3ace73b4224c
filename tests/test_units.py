"""The unit system: reference conversions, round trips, and errors that never guess."""

from __future__ import annotations

import numpy as np
import pytest

from bayesff.errors import UnitError
from bayesff.units import (
    DIMENSIONS,
    INTERNAL_UNITS,
    KJ_PER_MOL_PER_A3_IN_MPA,
    convert,
    from_internal,
    known_units,
    to_internal,
)

# Reference values are computed independently of the module's constants, from the
# CODATA 2018 values written out here (R = 8.31446261815324 J/(mol K) and
# F = 96485.3321233100184 C/mol, both exact in the 2019 SI; N_A = 6.02214076e23 exact;
# a0 = 0.529177210903 Å); rtol 1e-12 leaves room for float64 rounding only.
R_J = 8.31446261815324
N_A = 6.02214076e23


@pytest.mark.parametrize(
    ("value", "unit", "dimension", "expected"),
    [
        (119.8, "K", "energy", 119.8 * R_J / 1000),  # 0.996072621... kJ/mol (argon eps/k_B)
        (1.0, "kcal/mol", "energy", 4.184),  # thermochemical calorie, exact
        (1.0, "eV", "energy", 96.4853321233100184),  # Faraday constant / 1000
        (1000.0, "J/mol", "energy", 1.0),
        (1.0, "nm", "length", 10.0),
        (1.0, "bohr", "length", 0.529177210903),
        (1.0, "Å", "length", 1.0),
        (180.0, "deg", "angle", np.pi),
        (1.0, "angstrom^3", "molar_volume", N_A * 1e-24),  # 1 Å^3/molecule = 0.6022 cm^3/mol
        (1.0, "L/mol", "molar_volume", 1000.0),
        (1.0, "mol/L", "number_density", N_A * 1e-27),  # 6.022e-4 per Å^3
        (1.0, "1/nm^3", "number_density", 1e-3),
        (1.0, "bar", "pressure", 0.1),
        (1.0, "kJ/mol/angstrom^3", "pressure", 1e3 / N_A / 1e-30 / 1e6),  # 1660.54 MPa
        (1.0, "1/bar", "inverse_pressure", 10.0),
        (300.0, "kelvin", "temperature", 300.0),
    ],
)
def test_reference_conversions(value, unit, dimension, expected):
    np.testing.assert_allclose(to_internal(value, unit, dimension), expected, rtol=1e-12)


def test_argon_epsilon_digits():
    """The docstring example: 119.8 K is 0.99607262 kJ/mol (R from CODATA 2018)."""
    np.testing.assert_allclose(to_internal(119.8, "K", "energy"), 0.9960726216, rtol=1e-10)


def test_molar_volume_and_pressure_constants():
    """1 cm^3/mol per molecule is 1/0.602214076 = 1.66054 Å^3; 1 kJ/mol/Å^3 = 1660.539 MPa."""
    np.testing.assert_allclose(
        convert(1.0, "cm^3/mol", "angstrom^3", "molar_volume"), 1.0 / 0.602214076, rtol=1e-12
    )
    np.testing.assert_allclose(KJ_PER_MOL_PER_A3_IN_MPA, 1660.5390671738, rtol=1e-12)


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_round_trip_all_units(dimension):
    """from_internal(to_internal(x)) == x for every unit, and the internal unit has factor 1."""
    x = np.array([0.37, 1.0, 123.4])
    assert INTERNAL_UNITS[dimension] in known_units(dimension)
    np.testing.assert_array_equal(to_internal(x, INTERNAL_UNITS[dimension], dimension), x)
    for unit in known_units(dimension):
        np.testing.assert_allclose(
            from_internal(to_internal(x, unit, dimension), unit, dimension), x, rtol=1e-14
        )
        for other in known_units(dimension):
            there = convert(x, unit, other, dimension)
            np.testing.assert_allclose(convert(there, other, unit, dimension), x, rtol=1e-14)


def test_unknown_unit_is_an_error():
    with pytest.raises(
        UnitError, match=r"f\.toml: x: unknown energy unit 'furlong'; expected one"
    ):
        to_internal(1.0, "furlong", "energy", where="f.toml: x")


@pytest.mark.parametrize("unit", [None, "", "   "])
def test_missing_unit_is_an_error(unit):
    with pytest.raises(UnitError, match=r"^missing unit for an energy; expected one of 'kJ/mol'"):
        to_internal(1.0, unit, "energy")


def test_wrong_dimension_is_an_error():
    """A temperature-like 'K' is an energy unit, never a length."""
    with pytest.raises(UnitError, match="unknown length unit 'K'"):
        to_internal(1.0, "K", "length")
    with pytest.raises(UnitError, match="unknown pressure unit 'kJ/mol'"):
        to_internal(1.0, "kJ/mol", "pressure")


def test_non_string_unit_is_an_error():
    with pytest.raises(UnitError, match="must be a string"):
        to_internal(1.0, 3, "energy")


def test_unknown_dimension_via_known_units():
    with pytest.raises(UnitError, match="unknown dimension 'volume'"):
        known_units("volume")


def test_unknown_dimension_via_to_internal():
    with pytest.raises(UnitError, match="unknown dimension 'volume'"):
        to_internal(1.0, "m^3", "volume")
