"""Input checks of bayesff.targets that an input audit (2026-11-28) found missing: settings
that would be silently ignored, and Python-built targets with unusable environments."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from bayesff.errors import ProblemError
from bayesff.problem import Problem
from bayesff.targets import ErrorModel, Inadequacy, Target

from .support import ROOT


def test_an_inadequacy_of_kind_none_with_other_fields_is_refused():
    """{ kind = "none", prior_scale = 0.05 } used to be read as no inadequacy, the scale
    dropped; a user who wrote a scale meant an inferred one."""
    with pytest.raises(ProblemError, match="kind 'none' takes no other fields, got prior_scale"):
        Inadequacy.from_value({"kind": "none", "prior_scale": 0.05}, "targets[0].inadequacy")
    assert Inadequacy.from_value({"kind": "none"}).kind == "none"
    assert Inadequacy.from_value("none").kind == "none"


@pytest.mark.parametrize("kind", ["independent", "discrepancy_gp"])
def test_covariance_settings_on_another_error_model_are_refused(kind):
    """data, replicates and block_length mean something only to a covariance error model."""
    with pytest.raises(ProblemError, match=f"data belong to a covariance error model; a {kind}"):
        ErrorModel(kind=kind, data="cov.csv")


@pytest.mark.parametrize("kind", ["independent", "covariance"])
@pytest.mark.parametrize("field", ["amplitude_scale", "length_scale"])
def test_gp_settings_on_another_error_model_are_refused(kind, field):
    """amplitude_scale and length_scale set the GP discrepancy's priors; on another error
    model they were silently ignored (found by the audit of 2026-11-28)."""
    extra = {"data": "cov.csv"} if kind == "covariance" else {}
    with pytest.raises(ProblemError, match=f"{field} belong to a discrepancy_gp error model"):
        ErrorModel(kind=kind, **{field: 0.5}, **extra)
    gp = ErrorModel(kind="discrepancy_gp", **{field: 0.5})
    assert getattr(gp, field) == 0.5
    assert ErrorModel(kind="discrepancy_gp").gp_length_scale == 0.1  # the documented default


@pytest.mark.parametrize(
    ("T", "says"),
    [([90.0, np.nan, 110.0], "'T_K' must be finite and > 0, got nan at row 1"),
     ([90.0, -5.0, 110.0], "'T_K' must be finite and > 0, got -5.0 at row 1"),
     ([90.0, "warm", 110.0], "must be numbers")],
)  # fmt: skip
def test_from_arrays_refuses_unusable_temperatures_with_the_row(T, says):
    """A NaN temperature made every draw's prediction NaN; a negative one was caught only
    by the EOS's range check, in reduced units; text raised NumPy's own error."""
    with pytest.raises(ProblemError, match=says) as e:
        Target.from_arrays("B2", "second_virial", {"T_K": T}, [-50.0, -40.0, -30.0], 1.0)
    assert "target 'B2'" in str(e.value)


def test_from_arrays_refuses_a_density_not_above_zero_with_the_row():
    """The density of an (T, rho) observable is > 0 like T (bayesff.data.POSITIVE_DIMENSIONS;
    input audit, 2026-11-30: a negative one reached the solver)."""
    env = {"T_K": [100.0, 120.0], "rho_per_A3": [0.02, -0.001]}
    with pytest.raises(
        ProblemError, match=r"'rho_per_A3' must be finite and > 0, got -0\.001 at row 1"
    ):
        Target.from_arrays("p", "eos_pressure", env, [1.0, 2.0], 0.1)
    env["rho_per_A3"] = [0.02, 0.001]
    assert len(Target.from_arrays("p", "eos_pressure", env, [1.0, 2.0], 0.1).values) == 2


def test_from_arrays_refuses_uncertainties_of_another_shape():
    with pytest.raises(ProblemError, match=r"the values' shape \(3,\)"):
        Target.from_arrays(
            "B2", "second_virial", {"T_K": [1.0, 2.0, 3.0]}, [1.0, 2.0, 3.0], [1.0, 2.0]
        )


def test_from_arrays_names_the_row_of_a_two_dimensional_environment_column():
    """A column of several numbers per row (coefficients): the row, not the flat index."""
    env = {"T_K": [100.0, 200.0, 300.0], "c": [[1.0, 2.0], [3.0, np.inf], [5.0, 6.0]]}
    with pytest.raises(ProblemError, match="'c' must be finite, got inf at row 1"):
        Target.from_arrays("B2", "second_virial", env, [-50.0, -40.0, -30.0], 1.0)


# --- the rows filter (2026-11-30): a target may use part of its file, without a copy ---

ARGON_VLE_PROBLEM = ROOT / "models" / "argon_lj_vle.toml"
ARGON_SATURATION = ROOT / "data" / "vle" / "saturation_argon.csv"


def _argon_vle(tmp_path, *, median_K: float = 120.0, rows: str | None = None) -> Path:
    """The shipped argon VLE problem with absolute data paths, its epsilon centre at
    ``median_K`` and, if given, ``rows = ROWS`` on each of its four VLE targets."""
    text = ARGON_VLE_PROBLEM.read_text().replace('data = "data/', f'data = "{ROOT}/data/')
    text = text.replace("median = 120.0", f"median = {median_K}")
    if rows is not None:
        text = text.replace(
            f'data = "{ARGON_SATURATION}"', f'data = "{ARGON_SATURATION}"\nrows = {rows}'
        )
    path = tmp_path / "argon_vle_rows.toml"
    path.write_text(text)
    return path


def test_a_rows_filter_keeps_only_its_rows_and_reports_the_others_by_file_line(tmp_path):
    """The expected rows come from the CSV itself (NumPy), not from bayesff: T_K in
    [90, 130] inclusive; the others are one excluded entry naming their file lines (the
    header is line 1)."""
    T = np.loadtxt(ARGON_SATURATION, delimiter=",", skiprows=1, usecols=0)
    keep = (T >= 90) & (T <= 130)
    assert 0 < keep.sum() < T.size  # the filter must drop rows at both ends to test this
    problem = Problem.from_toml(_argon_vle(tmp_path, rows="{ T_K = [90, 130] }"))
    rho_l = next(t for t in problem.targets if t.name == "rho_l")
    assert rho_l.n == keep.sum()
    np.testing.assert_allclose(rho_l.env_display("T_K"), T[keep])
    assert rho_l.train.all()
    lines = np.flatnonzero(~keep) + 2
    low, high = lines[lines < 10], lines[lines >= 10]
    assert rho_l.file_excluded == (
        f"{(~keep).sum()} rows outside the rows filter T_K = [90, 130] (file lines "
        f"{low[0]}-{low[-1]}, {high[0]}-{high[-1]})",
    )
    assert "EXCLUDED" in problem.describe() and "rows filter" in problem.describe()


def test_a_rows_filter_selects_by_another_column_of_the_file_and_trains_within(tmp_path):
    """T_over_Tc is a column of the file beside T_K; train then selects among kept rows."""
    t_over = np.loadtxt(ARGON_SATURATION, delimiter=",", skiprows=1, usecols=1)
    path = _argon_vle(tmp_path, rows="{ T_over_Tc = [0.6, 0.9] }")
    text = path.read_text().replace(
        'name = "rho_l"', 'name = "rho_l"\ntrain = { T_over_Tc = [0.6, 0.75] }'
    )
    path.write_text(text)
    rho_l = next(t for t in Problem.from_toml(path).targets if t.name == "rho_l")
    kept = t_over[(t_over >= 0.6) & (t_over <= 0.9)]
    assert rho_l.n == kept.size
    assert rho_l.train.sum() == ((kept >= 0.6) & (kept <= 0.75)).sum()


def test_a_rows_filter_lets_a_file_reaching_outside_the_eos_range_be_used(tmp_path):
    """At an epsilon centre of 135 K argon's coldest rows (83.8-88.97 K) lie below the
    Thol LJ EOS's validated T* 0.661 (Thol et al. 2016): refused, and the refusal points
    to the filter; with the filter from 90 K the same file builds."""
    with pytest.raises(ProblemError, match=r"leave out the rows below .*rows = \{ T_K"):
        Problem.from_toml(_argon_vle(tmp_path, median_K=135.0))
    problem = Problem.from_toml(_argon_vle(tmp_path, median_K=135.0, rows="{ T_K = [90, 150] }"))
    assert all(t.env_display("T_K").min() >= 90 for t in problem.targets[:4])


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        (
            "{ T_K = [10, 20] }",
            r"rows filter T_K = \[10, 20\] keeps none of the 24 rows of .*saturation_argon"
            r"\.csv \(the file's T_K spans \[83.81, 143.15\]\)",
        ),
        ("{ T = [90, 130] }", "cannot select on 'T'"),
        ("{ T_K = [130, 90] }", r"T_K must be \[low, high\] with finite low <= high"),
    ],
)
def test_a_rows_filter_that_cannot_be_applied_is_refused_naming_the_field(tmp_path, rows, says):
    with pytest.raises(ProblemError, match=says) as e:
        Problem.from_toml(_argon_vle(tmp_path, rows=rows))
    assert "targets[0] (rho_l).rows" in str(e.value)


def test_a_rows_filter_on_a_target_of_configurations_is_refused_before_reading():
    """Configurations have no environment column to filter by (the file is never read:
    its path need not exist)."""
    with pytest.raises(ProblemError, match="no environment column to select rows by"):
        Target.from_file(
            "E", "configuration_energy", "no_such.csv", rows={"T_K": [1, 2]}, where="t"
        )


def test_a_rows_filter_on_another_column_with_dropped_duplicates_keeps_the_right_rows(
    tmp_path,
):
    """Review, 2026-11-30: with duplicates = "drop" the target's load drops a row whose
    key (T_K) and values repeat an earlier one's while another column (a text reference)
    differs; the file's other numeric columns, read by a second load, kept it, so a
    filter on one of them failed with an IndexError (and a train selection on one was
    one row off). The kept rows are those of the file by hand: 300 and 400 K."""
    from support import manifest_entry

    (tmp_path / "b2.csv").write_text(
        "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol,B2_alt_cm3_per_mol,ref\n"
        "200,-40,1,-41,a\n200,-40,1,-41,b\n300,-15,1,-16,a\n400,-5,1,-6,a\n"
    )
    units = {
        "T_K": "K",
        "B2_cm3_per_mol": "cm^3/mol",
        "u_B2_cm3_per_mol": "cm^3/mol",
        "B2_alt_cm3_per_mol": "cm^3/mol",
        "ref": "text",
    }
    (tmp_path / "manifest.toml").write_text(manifest_entry(tmp_path, "b2.csv", units))
    t = Target.from_file(
        "B2",
        "second_virial",
        tmp_path / "b2.csv",
        duplicates="drop",
        rows={"B2_alt_cm3_per_mol": [-20, 0]},
        where="t",
    )
    np.testing.assert_allclose(t.env_display("T_K"), [300.0, 400.0])
    np.testing.assert_allclose(t.values, [-15.0, -5.0])
    assert any("line 3" in e for e in t.file_excluded)  # the dropped duplicate
    assert (
        t.file_excluded[-1]
        == "1 rows outside the rows filter B2_alt_cm3_per_mol = [-20, 0] (file lines 2)"
    )


def _b2_file(tmp_path) -> Path:
    """Four B2 rows at 200-500 K in a folder with its manifest."""
    from support import manifest_entry

    (tmp_path / "b2.csv").write_text(
        "T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n200,-40,1\n300,-15,1\n400,-5,1\n500,1,1\n"
    )
    units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    (tmp_path / "manifest.toml").write_text(manifest_entry(tmp_path, "b2.csv", units))
    return tmp_path / "b2.csv"


def test_a_held_out_selection_emptied_by_the_rows_filter_says_so(tmp_path):
    """Audit, 2026-11-30: a held-out group that selects none of the rows the filter kept
    was refused as keeping 'no rows outside the training set', though nothing was
    trained on (train = false) or trained there; it now names the target and the filter.
    A group whose rows are all trained on still says that."""
    t = Target.from_file(
        "B2", "second_virial", _b2_file(tmp_path), rows={"T_K": [300, 500]}, train=False
    )
    with pytest.raises(ProblemError) as e:
        t.with_holdout("cold", {"T_K": [150, 250]})
    assert "none of the 3 rows of target 'B2' that its rows filter kept lies in it" in str(e.value)
    trained = Target.from_file(
        "B2", "second_virial", _b2_file(tmp_path), train={"T_K": [300, 500]}
    )
    with pytest.raises(ProblemError) as e:
        trained.with_holdout("warm", {"T_K": [350, 450]})
    assert "keeps no rows outside the training set: its 1 rows of target 'B2' are all" in str(
        e.value
    )


def test_rows_bounds_are_shown_as_given_and_any_real_pair_is_accepted(tmp_path):
    """Audit, 2026-11-30: bounds were printed to 6 digits (101.8701 as 101.87, beside a
    file value of 101.87 that they excluded), and a tuple or NumPy pair from Python was
    refused as 'not finite low <= high'."""
    path = _b2_file(tmp_path)
    t = Target.from_file("B2", "second_virial", path, rows={"T_K": [200.0001, 450]})
    assert t.file_excluded[-1] == (
        "2 rows outside the rows filter T_K = [200.0001, 450] (file lines 2, 5)"
    )
    accepted = ((250, 450), np.array([250.0, 450.0]), [np.int64(250), np.float32(450)])
    for pair in (*accepted, (Fraction(500, 2), 450)):
        t = Target.from_file("B2", "second_virial", path, rows={"T_K": pair})
        np.testing.assert_allclose(t.env_display("T_K"), [300.0, 400.0])
    for bad in ((True, 450), np.array(300.0), (450, 250), [250, float("nan")], [250, 10**400]):
        with pytest.raises(ProblemError, match="finite low <= high"):
            Target.from_file("B2", "second_virial", path, rows={"T_K": bad})


def test_a_covariance_file_with_a_rows_filter_is_refused(tmp_path):
    """Audit, 2026-11-30: a correlation file's row indices count the data file's rows; with
    a rows filter they were silently taken as the kept rows' (the correlation of file
    lines 2-11 landed on lines 7-16). Refused, naming the filter; without the filter
    the same file is used."""
    from support import manifest_entry

    corr = tmp_path / "corr.csv"
    corr.write_text("i,j,R\n0,1,0.4\n")
    units = {"i": "1", "j": "1", "R": "1"}
    (tmp_path / "manifest.toml").write_text(manifest_entry(tmp_path, "corr.csv", units))
    base = _argon_vle(tmp_path).read_text()
    block = f'error_model = {{ kind = "covariance", data = "{corr}" }}'
    text = base.replace(f'data = "{ARGON_SATURATION}"', f'data = "{ARGON_SATURATION}"\n{block}', 1)
    plain = tmp_path / "plain.toml"
    plain.write_text(text)
    Problem.from_toml(plain)  # no filter: used
    filtered = tmp_path / "filtered.toml"
    filtered.write_text(text.replace(block, f"{block}\nrows = {{ T_K = [90, 130] }}", 1))
    with pytest.raises(ProblemError) as e:
        Problem.from_toml(filtered)
    msg = str(e.value)
    assert "targets[0] (rho_l).error_model" in msg and "rows outside the rows filter" in msg
    assert "would no longer line up" in msg


def test_another_correlation_file_of_the_same_name_is_another_fingerprint(tmp_path):
    """Review, 2026-11-30: the problem's text only names its correlation file, so two
    files of one name (edited between a run and its resume) gave one fingerprint and a
    checkpoint of one resumed as the other. The covariance is hashed with the data."""
    from support import manifest_entry

    corr = tmp_path / "corr.csv"
    units = {"i": "1", "j": "1", "R": "1"}

    def load(r: float) -> Problem:
        corr.write_text(f"i,j,R\n0,1,{r}\n")
        (tmp_path / "manifest.toml").write_text(manifest_entry(tmp_path, "corr.csv", units))
        return Problem.from_toml(path)

    base = _argon_vle(tmp_path).read_text()
    block = f'error_model = {{ kind = "covariance", data = "{corr}" }}'
    path = tmp_path / "p.toml"
    path.write_text(
        base.replace(f'data = "{ARGON_SATURATION}"', f'data = "{ARGON_SATURATION}"\n{block}', 1)
    )
    a, b, again = load(0.4), load(0.6), load(0.4)
    assert a.document() == b.document()  # one text
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == again.fingerprint()


def test_a_covariance_file_with_a_dropped_duplicate_is_refused(tmp_path):
    """Review, 2026-11-30: duplicates = "drop" also removes a row of the data file, so a
    correlation file's indices shift past it in the same way; refused, naming the line."""
    from support import manifest_entry

    path = _b2_file(tmp_path)
    path.write_text(path.read_text() + "300,-15,1\n")  # line 6 repeats line 3
    (tmp_path / "corr.csv").write_text("i,j,R\n0,1,0.4\n")
    units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    (tmp_path / "manifest.toml").write_text(
        manifest_entry(tmp_path, "b2.csv", units)
        + manifest_entry(tmp_path, "corr.csv", {"i": "1", "j": "1", "R": "1"})
    )
    problem = tmp_path / "p.toml"
    problem.write_text(
        '[problem]\nname = "dup"\n\n[potential]\nkind = "lennard_jones"\n\n'
        '[parameters.epsilon]\nunit = "K"\n'
        'prior = { dist = "LogNormal", median = 120.0, scale = 0.3 }\n\n'
        '[parameters.sigma]\nunit = "angstrom"\n'
        'prior = { dist = "Uniform", low = 3.0, high = 4.0 }\n\n'
        f'[[targets]]\nname = "B2"\nobservable = "second_virial"\ndata = "{path}"\n'
        'duplicates = "drop"\n'
        f'error_model = {{ kind = "covariance", data = "{tmp_path / "corr.csv"}" }}\n'
    )
    with pytest.raises(ProblemError) as e:
        Problem.from_toml(problem)
    msg = str(e.value)
    assert "not every row of it is used (line 6: exact duplicate of line 3)" in msg, msg
