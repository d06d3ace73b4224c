"""A target's noise column must hold the uncertainties of the target's own value column.

Input audit findings F2 and F9. The expectation comes from docs/vle.md ("The uncertainty
column is `u_` + the value column"): in a file with columns X and u_X, u_X holds the
standard uncertainties of X and of nothing else, and X is a value, not an uncertainty.

F2: ``noise = { column = "u_rho_v_mol_per_L" }`` on the saturated liquid density of
data/vle/saturation_argon.csv passed ``bayesff check`` and gave the liquid density the
vapour density's uncertainties (240 x too small); ``noise = { column = "rho_v_mol_per_L" }``
(a value column read as uncertainties) passed too. F9: a noise column in a unit of another
quantity (``u_p_sat_MPa``, ``err_MPa`` in MPa on a density) failed with an error blaming
data/manifest.toml ("unknown number_density unit 'MPa'"); the fault is the problem file's
noise field. A misspelled noise column (absent from the file) was reported as the data
file's missing column, without the problem file's field. Each test below failed on the
code before the fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bayesff import Problem
from bayesff.cli import main
from bayesff.data import read_manifest
from bayesff.errors import BayesffError, ProblemError

from support import ROOT, manifest_entry

SATURATION = ROOT / "data" / "vle" / "saturation_argon.csv"

PROBLEM = """\
[problem]
name = "noise_columns"

[potential]
kind = "lennard_jones"
cutoff = {{ scheme = "none" }}

[parameters.epsilon]
unit = "K"
prior = {{ dist = "LogNormal", median = 120.0, scale = 0.3 }}

[parameters.sigma]
unit = "angstrom"
prior = {{ dist = "LogNormal", median = 3.4, scale = 0.15 }}

[[targets]]
name = "rho_l"
observable = "saturated_liquid_density"
data = "{data}"
noise = {{ column = "{column}" }}
"""


def _problem(tmp_path: Path, column: str) -> Path:
    """tmp/models/p.toml: the liquid density of a copy of saturation_argon.csv (with two
    extra columns: sigma_rho_l, a density uncertainty in mol/L not named u_*, and err_MPa,
    in MPa) and its manifest entry, read with noise = { column = COLUMN }."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    lines = SATURATION.read_text().splitlines()
    rows = [lines[0] + ",sigma_rho_l,err_MPa"]
    rows += [f"{line},0.01,0.001" for line in lines[1:] if line.strip()]
    (data / "sat.csv").write_text("\n".join(rows) + "\n")
    entry = read_manifest(ROOT / "data" / "manifest.toml")["vle/saturation_argon.csv"]
    units = {**entry.units, "sigma_rho_l": "mol/L", "err_MPa": "MPa"}
    (data / "manifest.toml").write_text(manifest_entry(data, "sat.csv", units))
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    path = models / "p.toml"
    path.write_text(PROBLEM.format(data=data / "sat.csv", column=column))
    return path


def _refused(path: Path) -> ProblemError:
    """The error loading PATH raises; it must be a ProblemError at the noise field."""
    with pytest.raises(BayesffError) as err:
        Problem.from_toml(path)
    e = err.value
    assert isinstance(e, ProblemError), f"{type(e).__name__} at {e.where}: {e.message}"
    assert e.where == f"{path}: targets[0] (rho_l).noise.column", e.where
    return e


@pytest.mark.parametrize(
    ("column", "says"),
    [
        # F2 (a): u_X with X another column of the file: X's uncertainties
        ("u_rho_v_mol_per_L", "uncertainties of 'rho_v_mol_per_L'"),
        # F2 (b): a column C with u_C beside it is a value with its own uncertainty
        ("rho_v_mol_per_L", "'u_rho_v_mol_per_L' beside it"),
    ],
)
def test_another_columns_uncertainty_or_a_value_is_refused_as_noise(tmp_path, column, says):
    path = _problem(tmp_path, column)
    e = _refused(path)
    assert says in e.message, e.message
    assert "expected 'u_rho_l_mol_per_L'" in e.message, e.message


def test_check_refuses_the_vapour_uncertainties_on_the_liquid_density(tmp_path, capsys):
    """F2 as reported: `bayesff check` said the problem was valid."""
    path = _problem(tmp_path, "u_rho_v_mol_per_L")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: targets[0] (rho_l).noise.column: " in err, err


@pytest.mark.parametrize(
    ("column", "says"),
    [
        # F9 as reported: another value's u_ column, in MPa, blamed the manifest
        ("u_p_sat_MPa", "uncertainties of 'p_sat_MPa'"),
        # not another column's u_: a column in a pressure unit on a density target
        ("err_MPa", "in 'MPa' (a pressure unit"),
    ],
)
def test_a_noise_column_of_another_quantity_names_the_noise_field(tmp_path, column, says):
    path = _problem(tmp_path, column)
    e = _refused(path)
    assert says in e.message, e.message
    assert "manifest" not in e.where


def test_a_misspelled_noise_column_names_the_noise_field_and_the_near_name(tmp_path):
    """A noise column the file lacks (wrong case) is the problem file's typo: the error
    names the noise field and the file's own column, not only the data file (which the
    loader's missing-column error named)."""
    path = _problem(tmp_path, "u_rho_l_mol_per_l")
    e = _refused(path)
    assert e.where.endswith("targets[0] (rho_l).noise.column"), e.where
    assert "did you mean 'u_rho_l_mol_per_L'?" in e.message, e.message


@pytest.mark.parametrize("column", ["u_rho_l_mol_per_L", "sigma_rho_l"])
def test_the_own_or_an_otherwise_named_uncertainty_column_is_accepted(tmp_path, column):
    """The target's own u_ column, and a column of density uncertainties named anything
    else (not u_ + another column, no u_ column of its own), are still read."""
    problem = Problem.from_toml(_problem(tmp_path, column))
    u = problem.targets[0].data.uncertainties
    expected = 0.01 if column == "sigma_rho_l" else 0.00709  # first row of the file
    assert u[0] == pytest.approx(expected)


def test_a_noise_column_named_sigma_b2_is_accepted(tmp_path):
    """The brief's example of a name outside the rule: sigma_B2 on a B2 file."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ROOT / "data" / "argon" / "b2.csv", data / "b2.csv")
    lines = (data / "b2.csv").read_text().splitlines()
    text = "\n".join([lines[0] + ",sigma_B2"] + [f"{s},2.5" for s in lines[1:] if s.strip()])
    (data / "b2.csv").write_text(text + "\n")
    units = {
        "T_K": "K",
        "B2_cm3_per_mol": "cm^3/mol",
        "u_B2_cm3_per_mol": "cm^3/mol",
        "B2_GERG2008_cm3_per_mol": "cm^3/mol",
        "sigma_B2": "cm^3/mol",
    }
    (data / "manifest.toml").write_text(manifest_entry(data, "b2.csv", units))
    toml = (
        PROBLEM.format(data=data / "b2.csv", column="sigma_B2")
        .replace('"rho_l"', '"B2"')
        .replace("saturated_liquid_density", "second_virial")
    )
    (tmp_path / "p.toml").write_text(toml)
    problem = Problem.from_toml(tmp_path / "p.toml")
    assert problem.targets[0].data.uncertainties[0] == pytest.approx(2.5)


def test_an_unreadable_header_is_left_to_the_data_loader(tmp_path):
    """A first line the csv module refuses (one field over its 131072-character limit)
    is the data file's fault: the data loader's DataError, not an unexpected csv.Error
    from the noise-column check (a review of this change found it escaping)."""
    from bayesff.errors import DataError

    path = _problem(tmp_path, "u_rho_l_mol_per_L")
    sat = tmp_path / "data" / "sat.csv"
    sat.write_text("x" * 140_000 + "\n1\n")
    units = {"x" * 140_000: "1"}
    (tmp_path / "data" / "manifest.toml").write_text(manifest_entry(sat.parent, "sat.csv", units))
    with pytest.raises(DataError):
        Problem.from_toml(path)
