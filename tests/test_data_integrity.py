"""Data integrity rules of :func:`bayesff.data.load_table` (issue 16, item 3).

Each test writes a small CSV and its manifest into a temporary folder, with the
file's real sha256 so that the rule under test (not the hash check) is what
answers. The expected messages are the rules' own wording in bayesff/data.py;
the numbers in them are the constants documented there.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from bayesff.data import (
    UNCERTAINTY_ABS_CEILING,
    UNCERTAINTY_ABS_FLOOR,
    UNCERTAINTY_REL_FLOOR,
    UNIT_SUFFIXES,
    Table,
    load_table,
    read_manifest,
    sha256_of,
    unit_from_column_name,
)
from bayesff.errors import DataError, UnitError

B2_COLUMNS = {
    "T_K": "temperature",
    "B2_cm3_per_mol": "molar_volume",
    "u_B2_cm3_per_mol": "molar_volume",
}
B2_UNITS = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
B2_CSV = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n100,-183.5,1.9\n200,-47.4,0.6\n300,-15.6,0.5\n"

ENTRY = {
    "path": "d.csv",
    "kind": "synthetic",
    "title": "test file",
    "source": "written by tests/test_data_integrity.py",
    "licence": "MIT",
    "script": "tests/test_data_integrity.py",
}


def toml_value(v) -> str:
    """TOML text of a value (strings as JSON strings, which TOML basic strings accept)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, int | float):
        return repr(v) if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def manifest_text(entries: list[dict]) -> str:
    """A manifest with one [[files]] table per entry (values written inline)."""
    out = []
    for e in entries:
        out.append("[[files]]")
        out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in e.items()]
    return "\n".join(out) + "\n"


def write(
    folder: Path,
    csv: str | bytes,
    units: dict | None = None,
    *,
    name: str = "d.csv",
    entry: dict | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """Write folder/name and folder/manifest.toml listing it with its real sha256."""
    f = folder / name
    f.write_bytes(csv.encode() if isinstance(csv, str) else csv)
    e = {
        **ENTRY,
        "path": name,
        "sha256": hashlib.sha256(f.read_bytes()).hexdigest(),
        "units": B2_UNITS if units is None else units,
    }
    e.update(entry or {})
    for k in drop:
        e.pop(k)
    (folder / "manifest.toml").write_text(manifest_text([e]))
    return f


def load_b2(path, **kw):
    return load_table(path, B2_COLUMNS, positive=("u_B2_cm3_per_mol",), **kw)


def test_a_valid_file_loads(tmp_path):
    t = load_b2(write(tmp_path, B2_CSV))
    assert isinstance(t, Table) and t.n_rows == 3
    assert list(t.lines) == [2, 3, 4] and t.excluded == []


# ------------------------------------------------------------------ duplicates, conflicts


def test_exact_duplicate_row_is_an_error_naming_both_lines(tmp_path):
    f = write(tmp_path, B2_CSV + "200,-47.4,0.6\n")
    with pytest.raises(DataError, match=r"d\.csv, line 5: exact duplicate of line 3") as e:
        load_b2(f)
    assert "duplicates = 'drop'" in str(e.value)


def test_duplicate_compares_numbers_not_text(tmp_path):
    """'200' and '2.0e2' are the same number: the row is a duplicate."""
    with pytest.raises(DataError, match=r"line 5: exact duplicate of line 3"):
        load_b2(write(tmp_path, B2_CSV + "2.0e2,-47.40,6e-1\n"))


def test_duplicates_drop_keeps_the_first_and_reports_the_rest(tmp_path):
    f = write(tmp_path, B2_CSV + "200,-47.4,0.6\n300,-15.6,0.5\n")
    t = load_b2(f, duplicates="drop")
    assert t.n_rows == 3
    np.testing.assert_array_equal(t.columns["T_K"], [100, 200, 300])
    assert list(t.lines) == [2, 3, 4]
    assert [(x.line, x.reason) for x in t.excluded] == [
        (5, "exact duplicate of line 3"),
        (6, "exact duplicate of line 4"),
    ]


def test_duplicates_option_is_checked(tmp_path):
    with pytest.raises(DataError, match=r"duplicates must be 'error' or 'drop', found 'keep'"):
        load_b2(write(tmp_path, B2_CSV), duplicates="keep")


def test_rows_differing_in_an_unused_column_are_not_duplicates(tmp_path):
    """Whole rows are compared: a column the caller does not load still tells rows apart."""
    csv = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol,src\n100,-183.5,1.9,a\n100,-183.5,1.9,b\n"
    t = load_b2(write(tmp_path, csv, {**B2_UNITS, "src": "1"}))
    assert t.n_rows == 2


def test_conflicting_rows_name_both_lines_and_the_column(tmp_path):
    f = write(tmp_path, B2_CSV + "200,-47.9,0.6\n")
    with pytest.raises(
        DataError,
        match=r"d\.csv, line 5: same environment as line 3 \(T_K = 200\) but B2_cm3_per_mol "
        r"differs: -47\.9 here, -47\.4 on line 3",
    ):
        load_b2(f, key_columns=("T_K",))


def test_conflict_in_the_uncertainty_only(tmp_path):
    f = write(tmp_path, B2_CSV + "300.0,-15.6,0.7\n")
    with pytest.raises(DataError, match=r"line 5: same environment as line 4 .*u_B2_cm3_per_mol"):
        load_b2(f, key_columns=("T_K",))


def test_conflicts_are_errors_even_when_dropping_duplicates(tmp_path):
    f = write(tmp_path, B2_CSV + "200,-47.4,0.6\n200,-47.9,0.6\n")
    with pytest.raises(DataError, match=r"line 6: same environment as line 3"):
        load_b2(f, key_columns=("T_K",), duplicates="drop")


def test_same_environment_same_values_is_a_duplicate_for_the_model(tmp_path):
    """Rows that differ only in an unloaded column are one observation twice for the model."""
    csv = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol,src\n100,-183.5,1.9,a\n100,-183.5,1.9,b\n"
    f = write(tmp_path, csv, {**B2_UNITS, "src": "1"})
    with pytest.raises(DataError, match=r"line 3: same environment and values as line 2"):
        load_b2(f, key_columns=("T_K",))
    t = load_b2(f, key_columns=("T_K",), duplicates="drop")
    assert t.n_rows == 1 and t.excluded[0].line == 3


def test_key_columns_must_be_loaded(tmp_path):
    with pytest.raises(DataError, match=r"key column\(s\) rho_per_A3 are not among the columns"):
        load_b2(write(tmp_path, B2_CSV), key_columns=("rho_per_A3",))


def test_duplicated_header_column(tmp_path):
    csv = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol,B2_cm3_per_mol\n100,-183.5,1.9,-1\n"
    with pytest.raises(
        DataError,
        match=r"d\.csv, line 1: column 'B2_cm3_per_mol' appears twice \(columns 2 and 4\)",
    ):
        load_b2(write(tmp_path, csv))


def test_duplicated_header_column_that_is_not_loaded(tmp_path):
    csv = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol,x,x\n100,-183.5,1.9,1,2\n"
    with pytest.raises(DataError, match=r"column 'x' appears twice \(columns 4 and 5\)"):
        load_b2(write(tmp_path, csv, {**B2_UNITS, "x": "1"}))


def test_empty_column_name(tmp_path):
    csv = "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol,\n100,-183.5,1.9,\n"
    with pytest.raises(DataError, match=r"line 1: column 4 has no name"):
        load_b2(write(tmp_path, csv))


@pytest.mark.parametrize("row", ["100,-183.5", "100,-183.5,1.9,7"])
def test_rows_must_have_one_field_per_column(tmp_path, row):
    n = len(row.split(","))
    with pytest.raises(DataError, match=rf"line 5: row has {n} fields, expected 3"):
        load_b2(write(tmp_path, B2_CSV + row + "\n"))


def test_line_numbers_count_blank_lines(tmp_path):
    """A blank line is skipped but still counted: the message points at the real line."""
    csv = B2_CSV.replace("\n200", "\n\n200").replace("-15.6", "x")
    with pytest.raises(DataError, match=r"line 5, column 'B2_cm3_per_mol': expected a number"):
        load_b2(write(tmp_path, csv))


def test_row_of_empty_cells_is_reported_as_excluded(tmp_path):
    t = load_b2(write(tmp_path, B2_CSV + ",,\n"))
    assert t.n_rows == 3
    assert [(x.line, x.reason) for x in t.excluded] == [(5, "no values (empty cells only)")]


def test_header_only_is_an_error(tmp_path):
    with pytest.raises(DataError, match="file has a header but no rows"):
        load_b2(write(tmp_path, B2_CSV.splitlines()[0] + "\n"))


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("9_0", "underscores"),
        ("1_000.5", "underscores"),
        ("0x10", "hexadecimal"),
        ("0x1p3", "hexadecimal"),
        ("1d5", ""),
        ("1e", ""),
        ("e5", ""),
        ("1.2.3", ""),
        ("+-1", ""),
        ("12 3", ""),
        ("\u0661\u0662\u0663", "ASCII digits"),  # Arabic-Indic digits: float() reads 123
        ("\uff11\uff12", "ASCII digits"),  # fullwidth digits: float() reads 12
        ("1\xa0", ""),  # no-break space: float() strips it
        ("\ufeff1", "byte-order mark"),
    ],
)
def test_only_plain_decimal_or_scientific_numbers(tmp_path, cell, why):
    csv = B2_CSV.replace("-47.4", f'"{cell}"')
    with pytest.raises(
        DataError,
        match=r"d\.csv, line 3, column 'B2_cm3_per_mol': expected a number in plain decimal or "
        r"scientific notation",
    ) as e:
        load_b2(write(tmp_path, csv))
    assert why in str(e.value)


@pytest.mark.parametrize("cell", ["nan", "NaN", "-nan", "inf", "-Infinity", "INF", "1e400"])
def test_non_finite_numbers(tmp_path, cell):
    with pytest.raises(
        DataError, match=r"line 3, column 'B2_cm3_per_mol': expected a finite number"
    ):
        load_b2(write(tmp_path, B2_CSV.replace("-47.4", cell)))


def test_empty_cell(tmp_path):
    with pytest.raises(DataError, match=r"line 3, column 'B2_cm3_per_mol': empty cell"):
        load_b2(write(tmp_path, B2_CSV.replace("-47.4", " ")))


@pytest.mark.parametrize("cell", ["1e-320", "-2.5e-310", "1e-400"])
def test_subnormal_or_underflowing_values(tmp_path, cell):
    """Values below the smallest normal float64 (2.2e-308) are refused, not rounded."""
    with pytest.raises(DataError, match=r"line 3, column 'B2_cm3_per_mol': .*2\.2e-308"):
        load_b2(write(tmp_path, B2_CSV.replace("-47.4", cell)))


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("90", 90.0),
        ("-1.5", -1.5),
        ("+2", 2.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("2.5e-3", 2.5e-3),
        ("1E+05", 1e5),
        (" 42\t", 42.0),  # spaces and tabs around a number are allowed, as in the header
        ("0", 0.0),
        ("-0.0e0", 0.0),
    ],
)
def test_plain_numbers_are_read(tmp_path, cell, value):
    t = load_b2(write(tmp_path, B2_CSV.replace("-47.4", cell)))
    assert t.columns["B2_cm3_per_mol"][1] == value


def test_overflow_on_conversion_is_an_error(tmp_path):
    """1e305 m^3/mol is finite in the file but not in cm^3/mol (x 1e6)."""
    csv = "T_K,B2,u_B2\n100,1e305,1e300\n"
    units = {"T_K": "K", "B2": "m^3/mol", "u_B2": "m^3/mol"}
    cols = {"T_K": "temperature", "B2": "molar_volume", "u_B2": "molar_volume"}
    with pytest.raises(DataError, match=r"line 2, column 'B2': 1e305 m\^3/mol is beyond"):
        load_table(write(tmp_path, csv, units), cols)


@pytest.mark.parametrize(
    ("cells", "column", "says"),
    [
        ("120,-0.001,0.5,0.01", "rho_per_A3", r"density must be > 0 1/angstrom\^3, found -0\.001"),
        ("120,0.0,0.5,0.01", "rho_per_A3", r"density must be > 0 1/angstrom\^3, found 0\.0"),
        ("120,0.02,-0.5,0.01", "q_inv_angstrom", r"wave number must be >= 0 1/angstrom, .*-0\.5"),
        ("-120,0.02,0.5,0.01", "T_K", r"temperature must be > 0 K, found -120"),
    ],
)  # fmt: skip
def test_a_density_or_wave_number_out_of_range_is_refused_at_its_line(
    tmp_path, cells, column, says
):
    """Densities are > 0 like temperatures, wave numbers >= 0 (S(0) is the compressibility
    route's limit; bayesff.data.POSITIVE_DIMENSIONS, NONNEGATIVE_DIMENSIONS). Before (input
    audit, 2026-11-30) a density of -0.001 was read, and the compressibility's forward model
    failed at sampling time naming the priors' centre; q < 0 rows of S(q) were trained on.
    The error names the file, line and column. Columns read beside a target's own, for
    selections (``signed=True``), may hold signed differences: only T must be > 0 there."""
    csv = f"T_K,rho_per_A3,q_inv_angstrom,S\n100,0.02,0.0,0.9\n{cells}\n"
    units = {"T_K": "K", "rho_per_A3": "1/angstrom^3", "q_inv_angstrom": "1/angstrom", "S": "1"}
    cols = {
        "T_K": "temperature",
        "rho_per_A3": "number_density",
        "q_inv_angstrom": "inverse_length",
        "S": "dimensionless",
    }
    assert load_table(write(tmp_path, csv.replace(cells, "90,0.01,2.5,1.1"), units), cols)
    with pytest.raises(DataError, match=rf"d\.csv, line 3, column '{column}': {says}"):
        load_table(write(tmp_path, csv, units), cols)
    if column != "T_K":
        assert load_table(write(tmp_path, csv, units), cols, signed=True)
    else:
        with pytest.raises(DataError, match=says):
            load_table(write(tmp_path, csv, units), cols, signed=True)


# ------------------------------------------------------------------ uncertainty floors


def test_floor_constants_are_documented():
    assert UNCERTAINTY_REL_FLOOR == 1e-12
    assert UNCERTAINTY_ABS_FLOOR == 1e-150


def test_denormal_uncertainty_is_refused(tmp_path):
    """The issue's case: an uncertainty of 1e-320 passed as > 0."""
    with pytest.raises(DataError, match=r"line 3, column 'u_B2_cm3_per_mol'"):
        load_b2(write(tmp_path, B2_CSV.replace("0.6", "1e-320")))


@pytest.mark.parametrize("u", ["4e-11", "1e-13"])
def test_uncertainty_below_the_relative_floor(tmp_path, u):
    """|B2| = 47.4: the relative floor is 4.74e-11 cm^3/mol."""
    with pytest.raises(
        DataError,
        match=r"line 3, column 'u_B2_cm3_per_mol': a standard uncertainty must be at least "
        r"1e-12 x \|B2_cm3_per_mol\|",
    ):
        load_b2(write(tmp_path, B2_CSV.replace("0.6", u)))


def test_uncertainty_above_the_ceiling_is_refused(tmp_path):
    """u = 1e200 cm^3/mol is finite but u**2 is not: every draw would be rejected after the
    sampler is compiled (found by an input audit). 1e150 is the ceiling; 1e140 passes."""
    assert UNCERTAINTY_ABS_CEILING == 1e150
    with pytest.raises(
        DataError,
        match=r"line 3, column 'u_B2_cm3_per_mol': a standard uncertainty must be at most",
    ):
        load_b2(write(tmp_path, B2_CSV.replace("0.6", "1e200")))
    assert (
        load_b2(write(tmp_path, B2_CSV.replace("0.6", "1e140"))).columns["u_B2_cm3_per_mol"][1]
        == 1e140
    )


def test_uncertainty_just_above_the_relative_floor_is_accepted(tmp_path):
    t = load_b2(write(tmp_path, B2_CSV.replace("0.6", "4.8e-11")))
    assert t.columns["u_B2_cm3_per_mol"][1] == 4.8e-11


def test_value_at_zero_needs_only_the_absolute_floor(tmp_path):
    """B2 crosses zero at the Boyle temperature: u = 1e-100 at B2 = 0 is allowed."""
    t = load_b2(write(tmp_path, B2_CSV.replace("-47.4,0.6", "0,1e-100")))
    assert t.columns["u_B2_cm3_per_mol"][1] == 1e-100
    with pytest.raises(DataError, match=r"at least 1e-150 in internal units"):
        load_b2(write(tmp_path, B2_CSV.replace("-47.4,0.6", "0,1e-160")))


def test_relative_floor_uses_an_explicit_pair(tmp_path):
    """A noise column not named u_<value> is paired through uncertainty_pairs."""
    csv = "T_K,B2_cm3_per_mol,sB2\n100,-183.5,1e-20\n"
    units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "sB2": "cm^3/mol"}
    cols = {"T_K": "temperature", "B2_cm3_per_mol": "molar_volume", "sB2": "molar_volume"}
    f = write(tmp_path, csv, units)
    assert load_table(f, cols, positive=("sB2",)).n_rows == 1  # no pair: absolute floor only
    with pytest.raises(DataError, match=r"column 'sB2': .* 1e-12 x \|B2_cm3_per_mol\|"):
        load_table(f, cols, positive=("sB2",), uncertainty_pairs={"sB2": "B2_cm3_per_mol"})


def test_relative_floor_compares_in_internal_units(tmp_path):
    """Value in cm^3/mol, uncertainty in m^3/mol: 1e-17 m^3/mol = 1e-11 cm^3/mol >= 1e-12*1."""
    csv = "T_K,B2,u_B2\n100,1,1e-17\n"
    units = {"T_K": "K", "B2": "cm^3/mol", "u_B2": "m^3/mol"}
    cols = {"T_K": "temperature", "B2": "molar_volume", "u_B2": "molar_volume"}
    assert load_table(write(tmp_path, csv, units), cols).n_rows == 1
    with pytest.raises(DataError, match=r"column 'u_B2'"):
        load_table(write(tmp_path, csv.replace("1e-17", "1e-19"), units), cols)


# ------------------------------------------------------------------ units in column names


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("T_K", "K"),
        ("B2_cm3_per_mol", "cm^3/mol"),
        ("u_B2_cm3_per_mol", "cm^3/mol"),
        ("B2_GERG2008_cm3_per_mol", "cm^3/mol"),
        ("B2_L_per_mol", "L/mol"),
        ("B2_m3_per_mol", "m^3/mol"),
        ("p_MPa", "MPa"),
        ("p_bar", "bar"),
        ("rho_per_A3", "1/angstrom^3"),
        ("rho_mol_per_L", "mol/L"),
        ("kappa_T_per_MPa", "1/MPa"),
        ("E_kJ_per_mol", "kJ/mol"),
        ("E_res_kJ_per_mol", "kJ/mol"),
        ("E_kcal_per_mol", "kcal/mol"),
        ("eps_K", "K"),
        ("q_inv_angstrom", "1/angstrom"),
        ("q_per_nm", "1/nm"),
        ("r_angstrom", "angstrom"),
        ("r_nm", "nm"),
        ("r_peak_angstrom", "angstrom"),
        ("phi_deg", "deg"),
        ("phi_rad", "rad"),
        ("F_kJ_per_mol_A", "kJ/mol/angstrom"),
        ("Fx_kJ_per_mol_A", "kJ/mol/angstrom"),
        ("u_F_kJ_per_mol_A", "kJ/mol/angstrom"),
        # no recognisable unit: not checked
        ("S0", None),
        ("S_q", None),
        ("g_r", None),
        ("p", None),
        ("u_p", None),
        ("basin", None),
        ("config_id", None),
        ("n_coord", None),
        ("K", None),  # a bare unit is a name, not a suffix
        ("x_A", None),  # a bare A could be a label; only compounds (per_A3, ..._A) count
        ("Cv_kJ_per_mol_K", None),  # kJ/(mol K) is not in the table: not read as K
        ("s_J_per_mol_K", None),
    ],
)
def test_unit_from_column_name(name, unit):
    assert unit_from_column_name(name) == unit


def test_every_unit_suffix_names_a_known_unit():
    """A typo in the suffix table would make a name's unit unknown to bayesff.units."""
    from bayesff import units

    for suffix, unit in UNIT_SUFFIXES.items():
        assert any(unit in units.known_units(d) for d in units.DIMENSIONS), (suffix, unit)
        assert unit_from_column_name(f"x_{suffix}") == unit, suffix


@pytest.mark.parametrize(
    ("column", "manifest_unit", "dimension", "message"),
    [
        ("B2_L_per_mol", "cm^3/mol", "molar_volume", r"L/mol.*cm\^3/mol.*factor of 1000"),
        ("B2_cm3_per_mol", "L/mol", "molar_volume", r"cm\^3/mol.*L/mol"),
        ("B2_cm3_per_mol", "m^3/mol", "molar_volume", r"cm\^3/mol.*m\^3/mol"),
        ("rho_per_A3", "1/nm^3", "number_density", r"1/angstrom\^3.*1/nm\^3"),
        ("eps_K", "kJ/mol", "energy", r"K.*kJ/mol"),
        ("E_kJ_per_mol", "K", "energy", r"kJ/mol.*'K'"),
        ("r_angstrom", "nm", "length", r"angstrom.*nm"),
        ("phi_deg", "rad", "angle", r"deg.*rad"),
        # a unit of another dimension than the column's
        (
            "x_MPa",
            "1",
            "dimensionless",
            r"MPa, which is not a dimensionless unit \(it is a unit of pressure\)",
        ),
    ],
)
def test_unit_in_column_name_must_agree_with_the_manifest(
    tmp_path, column, manifest_unit, dimension, message
):
    csv = f"{column}\n1.5\n"
    f = write(tmp_path, csv, {column: manifest_unit})
    with pytest.raises(DataError, match=rf"column {column!r}.*{message}") as e:
        load_table(f, {column: dimension})
    assert "manifest.toml" in str(e.value)


@pytest.mark.parametrize(
    ("column", "manifest_unit", "dimension"),
    [
        ("B2_cm3_per_mol", "cm3/mol", "molar_volume"),  # alias of cm^3/mol
        ("q_inv_angstrom", "angstrom^-1", "inverse_length"),
        ("eps_K", "K", "energy"),  # E/k_B quoted in K
        ("F_kJ_per_mol_A", "kJ/mol/angstrom", "force"),
        ("S_q", "1", "dimensionless"),
        ("Cv_kJ_per_mol_K", "1", "dimensionless"),  # unrecognised suffix: not compared
    ],
)
def test_agreeing_units_load(tmp_path, column, manifest_unit, dimension):
    f = write(tmp_path, f"{column}\n1.5\n", {column: manifest_unit})
    assert load_table(f, {column: dimension}).n_rows == 1


# ------------------------------------------------------------------ manifest types


def _manifest_error(tmp_path, field_text: str | None, *, drop=()):
    """Write the B2 file and a manifest whose entry has field_text appended (raw TOML)."""
    f = write(tmp_path, B2_CSV, drop=drop)
    if field_text is not None:
        m = tmp_path / "manifest.toml"
        key = field_text.split("=")[0].strip()
        lines = [ln for ln in m.read_text().splitlines() if not ln.startswith(f'"{key}" =')]
        m.write_text("\n".join([*lines, field_text]) + "\n")
    return f


@pytest.mark.parametrize(
    ("field_text", "message"),
    [
        ("kind = 42", r"files\[0\] \(path = 'd\.csv'\)\.kind: expected one of measured"),
        ('kind = "made-up"', r"\.kind: expected one of .*found 'made-up'"),
        ("title = 42", r"\.title: expected a non-empty string, found 42 \(an integer\)"),
        ('title = ""', r"\.title: expected a non-empty string, found ''"),
        ("source = [1, 2]", r"\.source: expected a non-empty string, found \[1, 2\] \(an array"),
        ("licence = true", r"\.licence: expected a non-empty string, found true"),
        ("script = 1.5", r"\.script: expected a non-empty string"),
        ("uncertainty = 3", r"\.uncertainty: expected a string"),
        ('units = "K"', r"\.units: expected a table of column = unit, found 'K'"),
        ("units = { T_K = 3 }", r"\.units\.T_K: expected a unit string, found 3"),
        ('sha256 = "abc"', r"\.sha256: expected 64 hexadecimal digits, found 'abc'"),
        ("sha256 = 42", r"\.sha256: expected 64 hexadecimal digits, found 42"),
        ('notes = "x"', r"files\[0\] \(path = 'd\.csv'\): unknown field\(s\) notes; expected"),
    ],
)
def test_manifest_field_types(tmp_path, field_text, message):
    f = _manifest_error(tmp_path, field_text)
    with pytest.raises(DataError, match=r"manifest\.toml: .*" + message):
        load_b2(f)


@pytest.mark.parametrize(
    "missing", ["kind", "title", "source", "licence", "script", "sha256", "units"]
)
def test_manifest_missing_field(tmp_path, missing):
    f = _manifest_error(tmp_path, None, drop=(missing,))
    with pytest.raises(DataError, match=rf"files\[0\] .*: lacks {missing}"):
        load_b2(f)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('files = "x"\n', r"manifest\.toml: files: expected an array of tables"),
        ("files = [1, 2]\n", r"manifest\.toml: files\[0\]: expected a table"),
        ("[[files]]\npath = 42\n", r"files\[0\]\.path: expected a relative path string"),
        ('[[files]]\npath = "/abs/d.csv"\n', r"files\[0\]\.path: expected a relative path"),
        ('[[files]]\npath = "../d.csv"\n', r"files\[0\]\.path: expected a relative path"),
        ("x = 1\n", r"manifest\.toml: unknown top-level key\(s\) x; expected files"),
    ],
)
def test_manifest_structure(tmp_path, text, message):
    f = write(tmp_path, B2_CSV)
    (tmp_path / "manifest.toml").write_text(text)
    with pytest.raises(DataError, match=message):
        load_b2(f)


def test_manifest_lists_a_file_twice(tmp_path):
    f = write(tmp_path, B2_CSV)
    m = tmp_path / "manifest.toml"
    m.write_text(m.read_text() * 2)
    with pytest.raises(DataError, match=r"files\[1\]: path 'd\.csv' is listed again \(files\[0\]"):
        load_b2(f)


def test_sha256_in_capitals_is_accepted(tmp_path):
    f = write(tmp_path, B2_CSV)
    write(tmp_path, B2_CSV, entry={"sha256": hashlib.sha256(f.read_bytes()).hexdigest().upper()})
    assert load_b2(f).n_rows == 3


def test_read_manifest_returns_entries(tmp_path):
    write(tmp_path, B2_CSV)
    entries = read_manifest(tmp_path / "manifest.toml")
    assert list(entries) == ["d.csv"] and entries["d.csv"].units == B2_UNITS


def test_an_edited_manifest_is_read_again_and_the_returned_entries_are_the_callers(tmp_path):
    """Parsed manifests are kept by their text (bayesff.data._parsed_manifest): an edit is
    read at the next call (a new title, then an entry gone), and a caller's change to the
    returned mapping does not reach the next reader."""
    write(tmp_path, B2_CSV)
    m = tmp_path / "manifest.toml"
    first = read_manifest(m)
    first.pop("d.csv")
    assert list(read_manifest(m)) == ["d.csv"]
    write(tmp_path, B2_CSV, entry={"title": "edited title"})
    assert read_manifest(m)["d.csv"].title == "edited title"
    m.write_text("files = []\n")
    assert read_manifest(m) == {}


# ------------------------------------------------------------------ encodings


def test_utf8_bom_in_csv_is_accepted(tmp_path):
    t = load_b2(write(tmp_path, b"\xef\xbb\xbf" + B2_CSV.encode()))
    assert t.n_rows == 3


def test_utf8_bom_in_manifest_is_accepted(tmp_path):
    f = write(tmp_path, B2_CSV)
    m = tmp_path / "manifest.toml"
    m.write_bytes(b"\xef\xbb\xbf" + m.read_bytes())
    assert load_b2(f).n_rows == 3


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_is_refused_by_name(tmp_path, bom):
    f = write(tmp_path, bom + B2_CSV.encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"))
    with pytest.raises(DataError, match=r"d\.csv: starts with a UTF-16 byte-order mark"):
        load_b2(f)


def test_non_utf8_csv_names_the_byte_offset(tmp_path):
    data = B2_CSV.replace("300", "3\xb50").encode("latin-1")  # a latin-1 micro sign
    offset = data.index(b"\xb5")
    assert offset == 66  # 36 bytes of header, 15 + 14 of rows 2-3, then "3"
    with pytest.raises(
        DataError, match=r"d\.csv: not UTF-8 text: byte 0xb5 at offset 66 \(line 4\)"
    ):
        load_b2(write(tmp_path, data))


def test_non_utf8_manifest_names_the_byte_offset(tmp_path):
    f = write(tmp_path, B2_CSV)
    m = tmp_path / "manifest.toml"
    m.write_bytes(m.read_bytes().replace(b"test file", b"test \xe9 file"))
    with pytest.raises(DataError, match=r"manifest\.toml: not UTF-8 text: byte 0xe9 at offset"):
        load_b2(f)


def test_invisible_characters_in_the_header_are_shown(tmp_path):
    csv = B2_CSV.replace("T_K", "T_K\u200b", 1)
    with pytest.raises(DataError, match=r"missing column\(s\) T_K.*found 'T_K\\u200b'"):
        load_b2(write(tmp_path, csv, {**B2_UNITS, "T_K\u200b": "K"}))


def test_a_renamed_column_is_named_with_the_column_it_must_be(tmp_path):
    """Input audit: a value column renamed with another unit (p_sat_MPa -> p_sat_kPa) gave
    "missing column(s) p_sat_MPa; expected ..." naming neither the file's near-miss column
    nor the field that asked for the file. The column of the same quantity in another unit
    (or a close spelling) is named with what the column must hold, after the field."""
    csv = B2_CSV.replace("B2_cm3_per_mol,", "B2_L_per_mol,", 1)
    units = {**B2_UNITS, "B2_L_per_mol": "L/mol"}
    where = "p.toml: targets[0] (B2).data"
    with pytest.raises(DataError) as e:
        load_b2(write(tmp_path, csv, units), where=where)
    assert str(e.value).startswith(
        f"{where}: {tmp_path / 'd.csv'}: missing column(s) B2_cm3_per_mol (the file has "
        "B2_L_per_mol: the column must hold cm^3/mol, named B2_cm3_per_mol); expected T_K, "
        "B2_cm3_per_mol, u_B2_cm3_per_mol, found T_K, B2_L_per_mol, u_B2_cm3_per_mol"
    ), e.value
    # a unit suffix the table does not know (T in Celsius), and a close spelling
    for old, new, hint in (
        ("T_K", "T_C", "(the file has T_C: the column must hold K, named T_K)"),
        (
            "u_B2_cm3_per_mol",
            "u_B2_cm3_per_mo1",
            "(the file has u_B2_cm3_per_mo1: the column must hold cm^3/mol, named "
            "u_B2_cm3_per_mol)",
        ),
    ):
        with pytest.raises(DataError, match=re.escape(hint)):
            load_b2(write(tmp_path, B2_CSV.replace(old, new, 1), {**B2_UNITS, new: "K"}))
    # an uncertainty column is no near miss of a value column (u_p_sat_kPa: 0.8 alike)
    csv = "T_K,u_p_sat_kPa\n100,0.1\n200,0.2\n"
    units = {"T_K": "K", "u_p_sat_kPa": "kPa"}
    with pytest.raises(DataError, match=r"missing column\(s\) p_sat_MPa; expected"):
        load_table(write(tmp_path, csv, units), {"T_K": "temperature", "p_sat_MPa": "pressure"})
    # a column of another quantity is no near miss (T_over_Tc for T_K), nor a loaded one
    csv = B2_CSV.replace("T_K", "T_over_Tc", 1)
    with pytest.raises(DataError, match=r"missing column\(s\) T_K; expected") as e:
        load_b2(write(tmp_path, csv, {**B2_UNITS, "T_over_Tc": "dimensionless"}))
    assert "the file has" not in str(e.value)


@pytest.mark.parametrize(("sep", "shown"), [(";", "';'"), ("\t", "'\\t'")])
def test_a_file_not_separated_by_commas_says_so(tmp_path, sep, shown):
    """Input audit: a file separated by semicolons (or tabs) was "missing column(s) T_K,
    ...; ... found T_K;B2_cm3_per_mol;...": its header is one field. It says the file is
    not comma-separated."""
    with pytest.raises(DataError) as e:
        load_b2(write(tmp_path, B2_CSV.replace(",", sep)))
    assert str(e.value).startswith(
        f"{tmp_path / 'd.csv'}: not comma-separated: the header is one field holding {shown} "
    ), e.value
    assert str(e.value).endswith(
        "expected the columns T_K, B2_cm3_per_mol, u_B2_cm3_per_mol separated by commas"
    )


def test_nul_byte(tmp_path):
    with pytest.raises(DataError, match=r"line 3, column 'B2_cm3_per_mol'"):
        load_b2(write(tmp_path, B2_CSV.replace("-47.4", "-47\x004")))


# ------------------------------------------------------------------ hashing


def test_sha256_of_streams(tmp_path):
    """A 12 MiB file, 48 times the 256 KiB block hashlib.file_digest reads: the same digest
    as hashlib on the whole bytes, and the traced peak memory stays below a quarter of the
    file's size (reading it whole, as the old sha256_of did, peaks above 12 MiB)."""
    f = tmp_path / "big.bin"
    data = np.random.default_rng(16).bytes(12 * 2**20 + 17)
    f.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    del data
    tracemalloc.start()
    try:
        got = sha256_of(f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == want
    assert peak < 3 * 2**20, f"peak {peak} bytes while hashing a 12 MiB file"


def test_sha256_of_empty_file(tmp_path):
    f = tmp_path / "e"
    f.write_bytes(b"")
    assert sha256_of(f) == hashlib.sha256(b"").hexdigest()


def test_hash_checked_is_of_the_bytes_parsed(tmp_path, monkeypatch):
    """load_table hashes the bytes it parses (one read), so a file changed between the hash
    check and the parse cannot slip through."""
    f = write(tmp_path, B2_CSV)
    monkeypatch.setattr("bayesff.data.sha256_of", lambda p: pytest.fail("second read"))
    assert load_b2(f).n_rows == 3


def test_unit_error_is_still_a_unit_error(tmp_path):
    f = write(tmp_path, B2_CSV, {**B2_UNITS, "T_K": "furlong"})
    with pytest.raises(UnitError, match="unknown temperature unit 'furlong'"):
        load_b2(f)


def test_tempdir_helper_roundtrip():
    """The TOML writer of these tests writes what tomllib reads back."""
    import tomllib

    e = {**ENTRY, "sha256": "0" * 64, "units": {"a b": "1"}, "n": [1, 2.5, True]}
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "m.toml").write_text(manifest_text([e]))
        assert tomllib.loads((Path(d) / "m.toml").read_text())["files"] == [e]


# ------------------------------------------------------------------ property-based


def _shipped_b2():
    """data/argon/b2.csv as rows, and its manifest entry (from data/manifest.toml)."""
    import csv
    import io
    import tomllib

    from support import ROOT

    rows = list(csv.reader(io.StringIO((ROOT / "data/argon/b2.csv").read_text())))
    doc = tomllib.loads((ROOT / "data/manifest.toml").read_text())
    entry = next(e for e in doc["files"] if e["path"] == "argon/b2.csv")
    return rows, {**entry, "path": "b2.csv"}


_CELLS = [
    "9_0", "0x1p3", "nan", "inf", "-Infinity", "1e-320", "1e400", "1e-400", "", " ", "-0",
    "2.0e2", "\ufeff1", "\u0661\u0662", "1,5", '"', "1e-160", "0", "1e-13", "300", "-47.4",
]  # fmt: skip
_UNITS = ["K", "cm^3/mol", "cm3/mol", "L/mol", "m^3/mol", "1", "", "kJ/mol", "angstrom^3"]
_FIELDS = ["path", "kind", "title", "source", "licence", "script", "sha256", "units", "extra"]


def _mutations():
    from hypothesis import strategies as st

    i = st.integers(0, 60)
    cell = st.one_of(st.sampled_from(_CELLS), st.text(max_size=6), st.floats().map(repr))
    value = st.one_of(
        st.integers(),
        st.text(max_size=5),
        st.booleans(),
        st.floats(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.sampled_from(["T_K", "B2_cm3_per_mol", "x"]), st.sampled_from(_UNITS)),
    )
    return st.lists(
        st.one_of(
            st.tuples(st.just("del_row"), i),
            st.tuples(st.just("dup_row"), i, i),
            st.tuples(st.just("cell"), i, st.integers(0, 4), cell),
            st.tuples(st.just("drop_col"), st.integers(0, 4)),
            st.tuples(st.just("dup_col"), st.integers(0, 4)),
            st.tuples(st.just("rename_col"), st.integers(0, 4), st.text(max_size=8)),
            st.tuples(st.just("unit"), st.sampled_from(list(B2_UNITS)), st.sampled_from(_UNITS)),
            st.tuples(st.just("field"), st.sampled_from(_FIELDS), value),
            st.tuples(st.just("del_field"), st.sampled_from(_FIELDS)),
            st.tuples(st.just("bytes"), st.integers(0, 3000), st.binary(min_size=1, max_size=3)),
            st.sampled_from([("csv_bom",), ("manifest_bom",), ("stale_hash",), ("blank",)]),
        ),
        max_size=4,
    )


def _apply(ops, rows, entry):
    """Mutated (csv bytes, manifest entry, manifest prefix, whether to re-hash)."""
    import csv
    import io

    rows = [list(r) for r in rows]
    entry = {**entry, "units": dict(entry["units"])}
    raw, csv_bom, man_bom, rehash = [], b"", b"", True
    for op in ops:
        kind, args = op[0], op[1:]
        data = rows[1:]
        if kind == "del_row" and data:
            del rows[1 + args[0] % len(data)]
        elif kind == "dup_row" and data:
            rows.insert(1 + args[1] % (len(data) + 1), list(data[args[0] % len(data)]))
        elif kind == "cell" and data:
            r = data[args[0] % len(data)]
            if r:
                r[args[1] % len(r)] = args[2]
        elif kind in ("drop_col", "dup_col", "rename_col"):
            j = args[0] % max(len(rows[0]), 1)
            for r in rows:
                if j < len(r):
                    if kind == "drop_col":
                        del r[j]
                    elif kind == "dup_col":
                        r.append(r[j])
                    elif r is rows[0]:
                        r[j] = args[1]
        elif kind == "unit":
            if not isinstance(entry.get("units"), dict):
                entry["units"] = {}
            entry["units"][args[0]] = args[1]
        elif kind == "field":
            entry[args[0]] = dict(args[1]) if isinstance(args[1], dict) else args[1]
        elif kind == "del_field":
            entry.pop(args[0], None)
        elif kind == "bytes":
            raw.append(args)
        elif kind == "csv_bom":
            csv_bom = b"\xef\xbb\xbf"
        elif kind == "manifest_bom":
            man_bom = b"\xef\xbb\xbf"
        elif kind == "stale_hash":
            rehash = False
        elif kind == "blank":
            rows.insert(len(rows) // 2, [])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    out = csv_bom + buf.getvalue().encode("utf-8", "surrogatepass")
    for pos, b in raw:
        p = pos % (len(out) + 1)
        out = out[:p] + b + out[p:]
    return out, entry, man_bom, rehash


def test_mutated_files_give_a_table_or_a_data_error():
    """Random mutations of the shipped B2 file and its manifest entry (rows deleted and
    duplicated, cells replaced by odd strings, columns dropped, duplicated or renamed, units
    and manifest fields changed to other values and types, byte-order marks and random
    bytes inserted): load_table returns a consistent Table or raises DataError (UnitError
    for a manifest unit it does not know), never another exception. 500 examples, fixed
    derandomised seed, no example database: the same 500 every run."""
    from hypothesis import HealthCheck, given, settings

    rows, entry = _shipped_b2()

    @settings(
        max_examples=500,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(ops=_mutations(), duplicates=st_dup())
    def check(ops, duplicates):
        data, e, man_bom, rehash = _apply(ops, rows, entry)
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "b2.csv"
            f.write_bytes(data)
            if rehash and "sha256" in e and e["sha256"] == entry["sha256"]:
                e["sha256"] = hashlib.sha256(data).hexdigest()
            (Path(d) / "manifest.toml").write_bytes(
                man_bom + manifest_text([e]).encode("utf-8", "surrogatepass")
            )
            try:
                t = load_b2(f, key_columns=("T_K",), duplicates=duplicates)
            except (DataError, UnitError) as err:
                assert str(err).strip() and "Traceback" not in str(err)
                return
        assert isinstance(t, Table)
        assert t.n_rows == len(t.lines) > 0
        for c in B2_COLUMNS:
            assert t.columns[c].shape == (t.n_rows,) and np.all(np.isfinite(t.columns[c]))
        assert np.all(t.columns["T_K"] > 0)
        u, v = t.columns["u_B2_cm3_per_mol"], t.columns["B2_cm3_per_mol"]
        assert np.all(u >= np.maximum(UNCERTAINTY_REL_FLOOR * np.abs(v), UNCERTAINTY_ABS_FLOOR))
        assert len(set(t.columns["T_K"])) == t.n_rows  # one row per environment
        assert not {x.line for x in t.excluded} & set(t.lines)

    check()


def st_dup():
    from hypothesis import strategies as st

    return st.sampled_from(["error", "drop"])
