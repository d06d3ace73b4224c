"""Problem files: the shipped problem loads, and bad input fails early and clearly.

Each bad-input test asserts the message: it must say where (file, field, row),
what was expected and what was found.
"""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from bayesff.errors import DataError, ProblemError, UnitError
from bayesff.problem import Problem

from support import ROOT, write_manifest


def _load_python_problem():
    spec = importlib.util.spec_from_file_location("argon_py", ROOT / "models" / "argon_lj_b2.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build()


def test_shipped_problem_loads():
    p = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    assert p.free_parameters == ["epsilon", "sigma"]
    (t,) = p.targets
    T = t.env["T_K"]
    # training range and held-out ends as written in the file
    assert T[t.train].min() == 110.0 and T[t.train].max() == 500.0
    assert set(t.holdout) == {"low T", "high T"}
    assert not np.any(t.holdout["low T"] & t.train)
    assert T[t.holdout["low T"]].max() < 110.0
    assert T[t.holdout["high T"]].min() > 500.0
    # epsilon is given in K; the potential receives kJ/mol (R = 8.314462618e-3 kJ/mol/K)
    assert p.to_internal("epsilon", 119.8) == pytest.approx(119.8 * 8.314462618e-3, rel=1e-9)


def test_python_problem_equals_toml_problem():
    a = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    b = _load_python_problem()
    assert a.parameters == b.parameters
    assert a.tolerance == b.tolerance
    assert a.inference == b.inference
    ta, tb = a.targets[0], b.targets[0]
    assert ta.inadequacy == tb.inadequacy
    np.testing.assert_array_equal(ta.values, tb.values)
    np.testing.assert_array_equal(ta.train, tb.train)
    assert {k: v.tolist() for k, v in ta.holdout.items()} == {
        k: v.tolist() for k, v in tb.holdout.items()
    }


def test_default_priors_fill_unlisted_parameters(problem_dir):
    path = problem_dir / "models" / "toy.toml"
    text = path.read_text()
    start = text.index("[parameters.sigma]")
    end = text.index("[[targets]]")
    path.write_text(text[:start] + text[end:])
    p = Problem.from_toml(path)
    assert p.parameters["sigma"].prior.dist == "LogNormal"  # LENNARD_JONES default
    assert p.parameters["sigma"].unit == "angstrom"


def test_fixed_parameter(problem_dir):
    path = problem_dir / "models" / "toy.toml"
    path.write_text(
        path.read_text().replace(
            'prior = { dist = "Uniform", low = 3.0, high = 4.0 }', "value = 3.405"
        )
    )
    p = Problem.from_toml(path)
    assert p.free_parameters == ["epsilon"]


def _break(problem_dir, old, new):
    path = problem_dir / "models" / "toy.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return path


def _edit_csv(problem_dir, fn):
    f = problem_dir / "data" / "b2.csv"
    lines = f.read_text().splitlines()
    f.write_text("\n".join(fn(lines)) + "\n")
    write_manifest(problem_dir / "data")
    return f


@pytest.mark.parametrize(
    ("old", "new", "exc", "pattern"),
    [
        (
            'kind = "lennard_jones"',
            'kind = "lenard_jones"',
            ProblemError,
            r"toy\.toml: \[potential\]\.kind: unknown potential 'lenard_jones'; expected one of "
            r".*lennard_jones",
        ),
        (
            'unit = "K"',
            'unit = "kelvins"',
            UnitError,
            r"\[parameters\.epsilon\]\.unit: unknown energy unit 'kelvins'; expected one of "
            r"'kJ/mol', 'kcal/mol'",
        ),
        (
            'unit = "K"\n',
            "",
            ProblemError,
            r"\[parameters\.epsilon\]: missing 'unit' \(a parameter's unit is never guessed\)",
        ),
        (
            "low = 3.0, high = 4.0",
            "low = -1.0, high = 4.0",
            ProblemError,
            r"\[parameters\.sigma\]\.prior: Uniform prior covers \[-1, 4\] but the parameter must "
            r"be > 0",
        ),
        (
            'dist = "LogNormal"',
            'dist = "Lognormal"',
            ProblemError,
            r"\[parameters\.epsilon\]\.prior: unknown prior distribution 'Lognormal'",
        ),
        (
            'observable = "second_virial"',
            'observable = "third_virial"',
            ProblemError,
            r"targets\[0\] \(B2\)\.observable: unknown observable 'third_virial'",
        ),
        (
            "train = { T_K = [110.0, 500.0] }",
            "train = { T_K = [1000.0, 2000.0] }",
            ProblemError,
            r"targets\[0\] \(B2\)\.train: the training selection keeps no rows",
        ),
        (
            "train = { T_K = [110.0, 500.0] }",
            "train = { T = [110.0, 500.0] }",
            ProblemError,
            r"targets\[0\] \(B2\)\.train: cannot select on 'T'; environment columns are T_K",
        ),
        (
            'data = "data/b2.csv"',
            'data = "data/missing.csv"',
            ProblemError,
            r"targets\[0\] \(B2\)\.data: data file 'data/missing.csv' not found",
        ),
        (  # was "'.../models' is a directory" (input audit, 2026-11-30)
            'data = "data/b2.csv"',
            'data = ""',
            ProblemError,
            r"targets\[0\] \(B2\)\.data: data is empty, expected the path of a CSV file",
        ),
        (
            "[inference]",
            "[inferense]",
            ProblemError,
            r"toy\.toml: unknown section\(s\) inferense",
        ),
        (
            "chains = 2",
            "chains = 0",
            ProblemError,
            r"\[inference\]: chains must be an integer in \[1, 4096\], got 0",
        ),
        (
            "tolerance = { B2 = { rel = 0.05 } }",
            "tolerance = { B3 = { rel = 0.05 } }",
            ProblemError,
            r"\[transferability\]\.tolerance\.B3: no target named 'B3'",
        ),
        (
            "select = { T_K = [85.0, 110.0] }",
            "select = { T_K = [200.0, 300.0] }",
            ProblemError,
            r"holdout\[0\]: the selection keeps no rows outside the training set",
        ),
    ],
)
def test_bad_problem_file(problem_dir, old, new, exc, pattern):
    path = _break(problem_dir, old, new)
    with pytest.raises(exc, match=pattern):
        Problem.from_toml(path)


def test_missing_column(problem_dir):
    _edit_csv(problem_dir, lambda ls: [ls[0].replace("u_B2_cm3_per_mol", "uB2"), *ls[1:]])
    with pytest.raises(
        DataError,
        match=r"b2\.csv: missing column\(s\) u_B2_cm3_per_mol; expected T_K, B2_cm3_per_mol, "
        r"u_B2_cm3_per_mol, found T_K, B2_cm3_per_mol, uB2",
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_negative_temperature(problem_dir):
    _edit_csv(problem_dir, lambda ls: [ls[0], "-85" + ls[1][ls[1].index(",") :], *ls[2:]])
    with pytest.raises(
        DataError, match=r"b2\.csv, line 2, column 'T_K': temperature must be > 0 K, found -85"
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_nan_in_data(problem_dir):
    def f(ls):
        cells = ls[5].split(",")
        cells[1] = "nan"
        return [*ls[:5], ",".join(cells), *ls[6:]]

    _edit_csv(problem_dir, f)
    with pytest.raises(
        DataError,
        match=r"b2\.csv, line 6, column 'B2_cm3_per_mol': expected a finite number, found 'nan'",
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_non_numeric_and_short_rows(problem_dir):
    _edit_csv(problem_dir, lambda ls: [*ls[:3], "90,abc,1.0,1.0", *ls[4:]])
    with pytest.raises(DataError, match=r"line 4, column 'B2_cm3_per_mol': expected a number"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")
    _edit_csv(problem_dir, lambda ls: [*ls[:3], "90,-200.0,1.0", *ls[4:]])
    with pytest.raises(DataError, match=r"line 4: row has 3 fields, expected 4"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_zero_uncertainty(problem_dir):
    def f(ls):
        cells = ls[2].split(",")
        cells[2] = "0"
        return [ls[0], ls[1], ",".join(cells), *ls[3:]]

    _edit_csv(problem_dir, f)
    with pytest.raises(
        DataError, match=r"line 3, column 'u_B2_cm3_per_mol': a standard uncertainty"
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_sha256_mismatch(problem_dir):
    f = problem_dir / "data" / "b2.csv"
    f.write_text(f.read_text() + "\n")  # changed without updating the manifest
    with pytest.raises(DataError, match=r"sha256 is [0-9a-f]{64} but .*manifest\.toml says"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_file_not_in_manifest(problem_dir, monkeypatch):
    """An unlisted file is refused with its sha256 to paste into the manifest; a file
    larger than a table (here the limit is lowered to 10 bytes) is refused unread, the
    message saying how to get its sha256 (audit leftover, 2026-11-30: the refusal read
    any file a path named, whatever its size)."""
    from bayesff import data

    (problem_dir / "data" / "manifest.toml").write_text("files = []\n")
    sha = data.sha256_of(problem_dir / "data" / "b2.csv")
    with pytest.raises(
        DataError, match=rf"not listed in .*manifest\.toml; add a \[\[files\]\] entry.*'{sha}'"
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")
    read = []
    monkeypatch.setattr(data, "HASHED_IN_MESSAGE_BYTES", 10)
    monkeypatch.setattr(data, "sha256_of", lambda p: read.append(p))
    with pytest.raises(DataError, match=r"sha256 = its sha256 \(\d+ bytes, not read"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")
    assert read == []


def test_unknown_unit_in_manifest(problem_dir):
    write_manifest(
        problem_dir / "data",
        units={"T_K": "K", "B2_cm3_per_mol": "cc/mol", "u_B2_cm3_per_mol": "cm^3/mol"},
    )
    with pytest.raises(
        UnitError, match=r"units of column 'B2_cm3_per_mol'.*unknown molar_volume unit 'cc/mol'"
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_missing_unit_in_manifest(problem_dir):
    write_manifest(
        problem_dir / "data", units={"B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    )
    with pytest.raises(UnitError, match=r"units of column 'T_K'.*missing unit for a temperature"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_manifest_units_are_converted(problem_dir):
    """A column in m^3/mol is converted at the boundary (1 m^3/mol = 1e6 cm^3/mol); a column
    whose name states one unit and whose manifest entry another is refused (issue 16)."""
    from bayesff.data import load_table

    f = problem_dir / "data" / "b2.csv"
    lines = f.read_text().splitlines()
    out = ["T_K,B2_m3_per_mol,u_B2_m3_per_mol"]
    for line in lines[1:]:
        c = line.split(",")
        out.append(",".join([c[0], repr(float(c[1]) * 1e-6), repr(float(c[2]) * 1e-6)]))
    f.write_text("\n".join(out) + "\n")
    write_manifest(
        problem_dir / "data",
        units={"T_K": "K", "B2_m3_per_mol": "m^3/mol", "u_B2_m3_per_mol": "m^3/mol"},
    )
    tab = load_table(f, {"T_K": "temperature", "B2_m3_per_mol": "molar_volume"})
    ref = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    # internal molar-volume unit is cm^3/mol: the converted column equals the reference file
    np.testing.assert_allclose(tab.columns["B2_m3_per_mol"], ref.targets[0].values, rtol=1e-12)
    write_manifest(
        problem_dir / "data",
        units={"T_K": "K", "B2_m3_per_mol": "cm^3/mol", "u_B2_m3_per_mol": "m^3/mol"},
    )
    with pytest.raises(DataError, match="differ by a factor of 1e\\+06"):
        load_table(f, {"T_K": "temperature", "B2_m3_per_mol": "molar_volume"})


def test_describe_names_what_is_fitted():
    text = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml").describe()
    assert re.search(r"epsilon\s+\[K\] prior LogNormal\(median=120, scale=0.3\)", text)
    assert "27 training rows of 42" in text
    assert "held out 'low T': 5 rows" in text


# ---------------------------------------------------------------- review findings


def test_noise_column_must_be_positive(problem_dir):
    """A noise column that is not named u_* is still an uncertainty: > 0 on load."""
    _break(
        problem_dir,
        'data = "data/b2.csv"',
        'data = "data/b2.csv"\nnoise = { column = "B2_GERG2008_cm3_per_mol" }',
    )
    units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    write_manifest(problem_dir / "data", units={**units, "B2_GERG2008_cm3_per_mol": "cm^3/mol"})
    with pytest.raises(
        DataError,
        match=r"line 2, column 'B2_GERG2008_cm3_per_mol': a standard uncertainty must be > 0",
    ):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_duplicate_holdout_name_is_an_error(problem_dir):
    _break(
        problem_dir,
        'holdout = [ { target = "B2", select = { T_K = [85.0, 110.0] } } ]',
        'holdout = [ { target = "B2", name = "ends", select = { T_K = [85.0, 105.0] } },\n'
        '            { target = "B2", name = "ends", select = { T_K = [520.0, 700.0] } } ]',
    )
    with pytest.raises(ProblemError, match=r"holdout\[1\]: a held-out group named 'ends' exists"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("rel = 0.05", 'rel = "5%"', r"tolerance\.B2\.rel: expected a number, got a string '5%'"),
        (
            "tolerance = { B2 = { rel = 0.05 } }",
            "tolerance = 0.05",
            r"\[transferability\]\.tolerance: expected a table, got a number 0\.05",
        ),
        (
            "select = { T_K = [85.0, 110.0] }",
            "select = { T_K = [85.0, 90.0, 110.0] }",
            r"holdout\[0\]\.select\.T_K: expected \[low, high\], got \[85\.0, 90\.0, 110\.0\]",
        ),
        (
            'holdout = [ { target = "B2",',
            'holdout = [ { target = "B2", nmae = "x",',
            r"holdout\[0\]: unknown key\(s\) nmae",
        ),
        (
            "chains = 2",
            'chains = 2\ntarget_accept = "0.9"',
            r"\[inference\]\.target_accept: expected a number, got a string '0\.9'",
        ),
        (
            "chains = 2",
            "chains = 2\nseed = true",
            r"\[inference\]\.seed: expected an integer, got a boolean True",
        ),
    ],
)
def test_more_bad_input_is_caught_with_its_place(problem_dir, old, new, pattern):
    path = _break(problem_dir, old, new)
    with pytest.raises(ProblemError, match=pattern):
        Problem.from_toml(path)


def test_selection_bounds_survive_the_unit_round_trip(problem_dir):
    """A bound equal to a file value selects it even when the file's unit is not the
    internal one (K as an energy, mol/L, ... do not round-trip bit for bit)."""
    from bayesff.observables import ISOTHERMAL_COMPRESSIBILITY
    from bayesff.targets import select_rows
    from bayesff.units import from_internal, to_internal

    rho = np.array([0.03, 0.06, 0.11, 0.2])  # mol/L
    shown = from_internal(to_internal(rho, "mol/L", "number_density"), "mol/L", "number_density")
    mask = select_rows({"rho_per_A3": shown}, {"rho_per_A3": [0.03, 0.11]}, "test")
    assert mask.tolist() == [True, True, True, False]
    assert ISOTHERMAL_COMPRESSIBILITY.env_columns == ("T_K", "rho_per_A3")


def test_python_problem_per_target_cutoff_uses_the_bare_potential():
    """A problem built in Python with a truncated LJ: a target under scheme 'none' is
    predicted with the full LJ, not the truncated one wrapped again (review finding)."""
    from bayesff.observables import SECOND_VIRIAL, second_virial
    from bayesff.potentials import LENNARD_JONES, truncated
    from bayesff.priors import PriorSpec
    from bayesff.problem import InferenceSettings, Parameter
    from bayesff.targets import Target

    T = np.array([150.0, 300.0])
    full = Target.from_arrays("full", SECOND_VIRIAL, {"T_K": T}, [-100.0, -15.0], 1.0)
    full = full.replace(cutoff={"scheme": "none"})
    p = Problem(
        name="cut",
        potential=truncated(LENNARD_JONES, 8.5),
        parameters={
            "epsilon": Parameter(
                "epsilon", "K", PriorSpec("LogNormal", {"median": 120.0, "scale": 0.3})
            ),
            "sigma": Parameter(
                "sigma", "angstrom", PriorSpec("Uniform", {"low": 3.0, "high": 4.0})
            ),
        },
        targets=[full],
        inference=InferenceSettings(),
    )
    params = {"epsilon": 119.8 * 8.314462618e-3, "sigma": 3.405}
    got = p.targets[0].forward(p).build()(params, {"T_K": T})
    np.testing.assert_allclose(got, second_virial(LENNARD_JONES, params, T), rtol=1e-12)


def test_repair_is_only_for_b2(problem_dir):
    from support import write_manifest

    (problem_dir / "data" / "k.csv").write_text(
        "T_K,rho_per_A3,kappa_T_per_MPa,u_kappa_T_per_MPa\n300,0.001,0.25,0.0025\n"
    )
    write_manifest(
        problem_dir / "data",
        "k.csv",
        {
            "T_K": "K",
            "rho_per_A3": "1/angstrom^3",
            "kappa_T_per_MPa": "1/MPa",
            "u_kappa_T_per_MPa": "1/MPa",
        },
    )
    path = problem_dir / "models" / "toy.toml"
    text = (
        path.read_text()
        .replace('data = "data/b2.csv"', 'data = "data/k.csv"')
        .replace('observable = "second_virial"', 'observable = "isothermal_compressibility"')
    )
    text = text.replace(
        "train = { T_K = [110.0, 500.0] }", 'cutoff = { scheme = "none" }\nrepair = "match_b2"'
    )
    text = text[: text.index("[transferability]")] + text[text.index("[inference]") :]
    path.write_text(text)
    with pytest.raises(ProblemError, match=r"\.repair: repair 'match_b2' maps B2"):
        Problem.from_toml(path)


def test_a_repair_between_one_convention_is_refused(problem_dir):
    """repair = "match_b2" with the target's cutoff equal to the problem's maps nothing
    and was accepted (input audit, 2026-11-28); a cutoff of its own is accepted."""
    path = problem_dir / "models" / "toy.toml"
    cut = 'cutoff = { scheme = "truncated", r_c = 8.5, unit = "angstrom" }'
    text = path.read_text().replace('kind = "lennard_jones"\n', f'kind = "lennard_jones"\n{cut}\n')
    own = f'{cut}\nrepair = "match_b2"'
    train = "train = { T_K = [110.0, 500.0] }"
    path.write_text(text.replace(train, f"{train}\n{own}"))
    with pytest.raises(
        ProblemError, match=r"B2'\.repair: repair 'match_b2' .* is the problem's own"
    ):
        Problem.from_toml(path)
    path.write_text(text.replace(train, f"{train}\n{own.replace('truncated', 'shifted')}"))
    assert Problem.from_toml(path).targets[0].repair == "match_b2"


def test_a_repair_without_a_solution_at_the_prior_centre_is_refused(problem_dir):
    """At reference_T_K = 1e6 K B2 hardly depends on epsilon, and no factor in [e^-3, e^3]
    maps the shifted cutoff's B2 onto the full potential's: every prediction was NaN and
    the held-out group read "no value" only after the run (audit, 2026-11-28). Now a
    ProblemError at the repair field naming the temperature; at 266 K (the data's range,
    models/argon_lj_cutoff.toml's reference) the problem builds."""
    path = problem_dir / "models" / "toy.toml"
    cut = 'cutoff = { scheme = "shifted", r_c = 8.5, unit = "angstrom" }'
    train = "train = { T_K = [110.0, 500.0] }"
    text = path.read_text()
    repair = '{cut}\nrepair = {{ method = "match_b2", reference_T_K = {t} }}'
    path.write_text(text.replace(train, f"{train}\n{repair.format(cut=cut, t=1e6)}"))
    with pytest.raises(ProblemError) as err:
        Problem.from_toml(path)
    msg = str(err.value)
    assert "'B2'.repair: repair 'match_b2' has no solution at reference_T_K = 1e+06" in msg, msg
    path.write_text(text.replace(train, f"{train}\n{repair.format(cut=cut, t=266.0)}"))
    assert Problem.from_toml(path).targets[0].repair_reference_T_K == 266.0


def test_target_options_are_checked_against_the_observable(problem_dir):
    # second_virial takes only its quadrature setting: any other key is an error with its place
    path = _break(
        problem_dir,
        "train = { T_K = [110.0, 500.0] }",
        'train = { T_K = [110.0, 500.0] }\noptions = { closure = "py" }',
    )
    with pytest.raises(
        ProblemError,
        match=r"targets\[0\] \(B2\)\.options: unknown option\(s\) closure; "
        r"expected nodes_per_panel",
    ):
        Problem.from_toml(path)


@pytest.mark.parametrize(
    "options, says",
    [
        (
            "{ nodes_per_panel = 0 }",
            "nodes_per_panel must be a whole number from 1 to 1000, got 0",
        ),
        ("{ nodes_per_panel = 2.5 }", "got 2.5"),
        ('{ method = "bogus" }', "option(s) method apply to linear molecules only"),
    ],
)
def test_option_values_the_forward_model_refuses_fail_at_check(problem_dir, options, says):
    """Option values that passed ``bayesff check`` and failed in ``calibrate`` with a bare
    ValueError naming neither file nor target (audit, 2026-11-28): the problem now builds
    each target's forward model when it is built, and the error names the target's options."""
    train = "train = { T_K = [110.0, 500.0] }"
    path = _break(problem_dir, train, f"{train}\noptions = {options}")
    with pytest.raises(ProblemError) as err:
        Problem.from_toml(path)
    assert err.value.where.endswith("target 'B2'.options") and says in err.value.message


def test_a_vle_target_under_a_cutoff_fails_at_check(problem_dir):
    """A cut-off on a VLE target (the EOS describe the full potential) passed check and
    failed in calibrate without a place; now the problem names the target."""
    (problem_dir / "data" / "v.csv").write_text(
        "T_K,rho_l_mol_per_L,u_rho_l_mol_per_L\n100,33.0,0.1\n110,31.5,0.1\n"
    )
    units = {"T_K": "K", "rho_l_mol_per_L": "mol/L", "u_rho_l_mol_per_L": "mol/L"}
    write_manifest(problem_dir / "data", "v.csv", units)
    path = problem_dir / "models" / "toy.toml"
    text = path.read_text()
    target = (
        '[[targets]]\nname = "rho_l"\nobservable = "saturated_liquid_density"\n'
        'data = "data/v.csv"\nnoise = { column = "u_rho_l_mol_per_L" }\n'
        'cutoff = { scheme = "truncated", r_c = 8.0, unit = "angstrom" }\n\n'
    )
    head = text[: text.index("[[targets]]")]
    path.write_text(head + target + text[text.index("[inference]") :])
    with pytest.raises(ProblemError, match="predicts from the equation of state of the full") as e:
        Problem.from_toml(path)
    assert e.value.where.endswith("target 'rho_l'"), e.value.where


def test_structure_target_options_reach_the_forward_model(problem_dir):
    from support import write_manifest

    (problem_dir / "data" / "nn.csv").write_text(
        "T_K,rho_per_A3,r_peak_angstrom,u_r_peak_angstrom\n85,0.02125,3.68,0.03\n"
    )
    write_manifest(
        problem_dir / "data",
        "nn.csv",
        {
            "T_K": "K",
            "rho_per_A3": "1/angstrom^3",
            "r_peak_angstrom": "angstrom",
            "u_r_peak_angstrom": "angstrom",
        },
    )
    path = problem_dir / "models" / "toy.toml"
    text = path.read_text()
    old = 'observable = "second_virial"\ndata = "data/b2.csv"'
    assert old in text
    text = text.replace(old, 'observable = "first_peak_position"\ndata = "data/nn.csv"')
    text = text.replace("train = { T_K = [110.0, 500.0] }", "options = { n = 7 }")
    path.write_text(text.split("[transferability]")[0] + "[inference]\nchains = 1\n")
    p = Problem.from_toml(path)
    assert p.targets[0].options == {"n": 7}
    # n = 7 is below the solver's minimum grid: the option really reaches liquid.solve
    with pytest.raises(ValueError, match="n"):
        p.targets[0].forward(p).build()(
            {"epsilon": 0.996, "sigma": 3.405}, {"T_K": 85.0, "rho_per_A3": 0.02125}
        )
    text = path.read_text().replace("options = { n = 7 }", 'options = { closur = "py" }')
    path.write_text(text)
    with pytest.raises(ProblemError, match=r"unknown option\(s\) closur; expected closure, n"):
        Problem.from_toml(path)


def test_closure_error_floor_is_applied_and_never_lowered():
    """Issue 17 item 3: a liquid target's error floor is at least the closure's validated
    error for its state region (liquid.closure_error_floor, the maxima of the closure's
    errors against the Thol et al. 2016 LJ EOS, docs/liquid.md), evaluated at the prior
    medians; a smaller floor set by hand is raised to it, a larger one kept. Reference:
    the floor function itself on the same reduced state (exact equality)."""
    from bayesff.observables import liquid
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

    p = Problem.from_toml(ROOT / "models" / "argon_joint.toml")
    t = next(t for t in p.targets if t.name == "S0")
    eps = p.to_internal("epsilon", p.parameters["epsilon"].prior.median())
    sig = p.parameters["sigma"].prior.median()
    T_star = GAS_CONSTANT_KJ_PER_MOL_K * np.asarray(t.env["T_K"], float) / eps
    rho_star = np.asarray(t.env["rho_per_A3"], float) * sig**3
    want = liquid.closure_error_floor("vm", T_star, rho_star).dkappa_rel * np.abs(t.values)
    assert np.all(want > 0)
    np.testing.assert_allclose(t.floor, want, rtol=1e-12)

    # a hand-set floor below the closure's error is raised (floors apply as a problem is built)
    low = p.with_target(t.replace(floor=0.5 * want))
    k = [u.name for u in p.targets].index(t.name)
    np.testing.assert_allclose(low.targets[k].floor, want, rtol=1e-12)
    high = p.with_target(t.replace(floor=3.0 * want))  # a larger one is kept
    np.testing.assert_allclose(high.targets[k].floor, 3.0 * want, rtol=1e-12)


def test_named_groups_of_an_untrained_target_replace_the_whole_target_group(problem_dir):
    """train = false holds every row out as one group; named held-out groups of that target
    replace it, so only their rows are predicted (the rest are neither trained on nor
    predicted), and two named groups may split it; a target with training rows keeps its
    groups (an overlap is still an error)."""
    t0 = Problem.from_toml(problem_dir / "models" / "toy.toml").targets[0]
    whole = t0.with_train(False, "test")
    assert set(whole.holdout) == {"B2"} and whole.holdout["B2"].all()
    t = whole.with_holdout("cold", {"T_K": [85.0, 105.0]})
    t = t.with_holdout("hot", {"T_K": [520.0, 700.0]})
    assert set(t.holdout) == {"cold", "hot"}
    T = t.env_display("T_K")
    assert np.all((T[t.holdout["cold"]] >= 85.0) & (T[t.holdout["cold"]] <= 105.0))
    assert not t.train.any()
    # rows between the groups are ignored, not held out
    n_out = t.holdout["cold"].sum() + t.holdout["hot"].sum()
    assert t.excluded_mask().sum() == t.n - n_out > 0
    with pytest.raises(ProblemError, match="overlaps held-out group 'cold'"):
        t.with_holdout("again", {"T_K": [85.0, 100.0]})


def test_fingerprint_is_the_problem_not_its_text(tmp_path):
    """The fingerprint names the problem, not how its file is written: the same problem with
    its parameter tables in another order, other comments and other sampler settings has the
    same one (a sweep whose base file moved a parameter ran 24 atlas tasks again, 2026-11-27);
    a changed prior or datum gives another. Run files written before keep matching through
    Problem.legacy_fingerprint, the hash of the text, which the reordered file changes."""
    src = ROOT / "models" / "argon_lj_b2.toml"
    text = src.read_text()
    eps = '[parameters.epsilon]\nunit = "K"                            # epsilon / k_B\n'
    eps += 'prior = { dist = "LogNormal", median = 120.0, scale = 0.3 }\n\n'
    assert eps in text
    swapped = text.replace(eps, "").replace("[[targets]]", eps + "# another comment\n[[targets]]")
    swapped = swapped.replace("samples = 1000", "samples = 250")

    def load(t: str) -> Problem:
        path = tmp_path / "models" / "p.toml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(t)
        return Problem.from_toml(path)

    a, b = Problem.from_toml(src), load(swapped)
    assert list(a.document()["parameters"]) == ["epsilon", "sigma"]
    assert list(b.document()["parameters"]) == ["sigma", "epsilon"]
    assert a.fingerprint() == b.fingerprint()
    assert a.legacy_fingerprint() != b.legacy_fingerprint()  # the text changed
    assert b.matches(a.fingerprint()) and b.matches(b.legacy_fingerprint())
    assert a.matches(a.legacy_fingerprint()) and not b.matches(a.legacy_fingerprint())
    assert not a.matches("") and not a.matches("0" * 64)
    # what shapes the posterior still changes it: a prior, the data's split
    other_prior = load(text.replace("median = 120.0", "median = 121.0"))
    other_split = load(text.replace("T_K = [110.0, 500.0]", "T_K = [120.0, 500.0]"))
    assert len({a.fingerprint(), other_prior.fingerprint(), other_split.fingerprint()}) == 3


def test_a_file_problem_changed_in_python_records_and_hashes_the_change():
    """Review, 2026-11-30: Problem.replace kept the file's text whatever changed, so a
    file's problem given another error model, split or pooling in Python recorded the file
    in its run, and the error model did not change its fingerprint (a checkpoint of one
    resumed as the other). A change to what the text says now drops the text and the
    document is written from the objects; sampler settings keep it."""
    import dataclasses

    from bayesff.targets import ErrorModel

    a = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    t = a.targets[0]
    gp = dataclasses.replace(t.likelihood, error_model=ErrorModel("discrepancy_gp"))
    b = a.with_target(t.replace(likelihood=gp))
    assert b.source_text == "" and b.path == a.path
    assert b.document()["targets"][0]["error_model"] == "discrepancy_gp"
    assert b.fingerprint() != a.fingerprint()
    # the split alone: its masks were hashed before, but the recorded text was the file's
    c = a.with_target(t.with_train({"T_K": [150.0, 500.0]}, "test"))
    assert c.source_text == "" and c.fingerprint() != a.fingerprint()
    assert "error_model" not in a.document()["targets"][0]  # the file's text
    # what the text does not say keeps it, and the fingerprint with it
    for same in (
        a.replace(inference=a.inference.replace(seed=7)),
        a.replace(path="elsewhere.toml"),
        a.with_target(t.replace(aux={})),
    ):
        assert same.source_text == a.source_text and same.fingerprint() == a.fingerprint()
    # back to what the file says: one problem, one fingerprint less the text
    back = b.with_target(t)
    assert back.source_text == "" and back._content() == a._content()


def test_the_cutoff_table_and_the_potential_agree():
    """Review, 2026-11-30: Problem.replace(potential=...) kept the old base potential,
    source and cut-off table (a truncated LJ, or another potential, was recorded and
    fingerprinted as the file's plain LJ), replace(cutoff=...) changed the record but not
    the potential solved, and Problem(potential=truncated(LJ, 8)) recorded no cut-off."""
    from bayesff.potentials import LENNARD_JONES, get_potential, truncated

    a = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    cut = {"scheme": "truncated", "r_c": 8.0, "unit": "angstrom"}
    b = a.replace(potential=truncated(LENNARD_JONES, 8.0))
    assert b.cutoff == cut and b.base_potential is a.base_potential
    assert b.document()["potential"]["cutoff"] == cut and b.source_text == ""
    assert b.fingerprint() != a.fingerprint()
    c = a.replace(cutoff={"scheme": "truncated", "r_c": 0.8, "unit": "nm"})
    assert c.potential.name == "lennard_jones+truncated(r_c=8)"
    assert c.fingerprint() != a.fingerprint()
    mie = a.replace(
        potential=get_potential("mie"),
        parameters={**a.parameters, "n": a.parameters["epsilon"].__class__("n", "1", value=12.0)},
    )
    assert mie.base_potential.name == "mie" and mie.potential_source["kind"] == "mie"
    assert mie.document()["potential"]["kind"] == "mie"
    # the table given with a wrapper must be the wrapper's
    with pytest.raises(ProblemError, match=r"has truncated at r_c = 8 angstrom.*says shifted"):
        b.replace(potential=b.potential, cutoff={**cut, "scheme": "shifted"})
    # the same potential passed back keeps the text and source; a bare potential with a
    # table is wrapped; base_potential alone would leave the potential solved: refused
    assert a.replace(potential=a.potential).source_text == a.source_text
    assert a.replace(potential=LENNARD_JONES, cutoff=cut).potential.name == b.potential.name
    with pytest.raises(ProblemError, match="base_potential follows the potential"):
        a.replace(base_potential=truncated(LENNARD_JONES, 9.0))
    # one convention per potential: a cut-off potential is not cut off again
    with pytest.raises(ValueError, match="already cut off"):
        truncated(truncated(LENNARD_JONES, 9.0), 8.0)
    # built in Python from a wrapper alone: its table is recorded
    same = Problem(**{f: getattr(a, f) for f in ("name", "parameters", "targets")},
                   potential=truncated(LENNARD_JONES, 8.0))  # fmt: skip
    assert same.cutoff == cut and same.document()["potential"]["cutoff"] == cut


def test_a_forward_model_changed_in_python_gets_its_own_floor(tmp_path):
    """Review, 2026-11-30: Problem.replace raised each floor to the forward model's error
    from the floor as already raised, so a closure with a smaller validated error kept the
    old closure's floor (0.0124 for VM instead of 0.0114 for its consistent variant): the
    problem changed in Python solved another likelihood than its own document read back.
    A floor the user sets is still kept where it is larger."""
    import tomllib

    a = Problem.from_toml(ROOT / "models" / "argon_joint_b2.toml")
    s0 = next(t for t in a.targets if t.name == "S0")
    assert s0.options["closure"] == "vm"
    swapped = {**s0.options, "closure": "vm_consistent"}
    b = a.with_target(s0.replace(options=swapped))
    doc = tomllib.loads(b.document_text().replace("<arrays", "x"))
    text = (ROOT / "models" / "argon_joint_b2.toml").read_text()
    path = tmp_path / "models" / "p.toml"
    path.parent.mkdir()
    s0_text = 'name = "S0"\n' + text.split('name = "S0"\n')[1].split("[[targets]]")[0]
    assert s0_text.count('closure = "vm"') == 1
    swapped_text = s0_text.replace('closure = "vm"', 'closure = "vm_consistent"')
    path.write_text(text.replace(s0_text, swapped_text))
    read = Problem.from_toml(path)
    assert next(t for t in doc["targets"] if t["name"] == "S0")["options"] == swapped

    def floor(p):
        return np.asarray(next(t for t in p.targets if t.name == "S0").floor)

    assert floor(b) == pytest.approx(floor(read), rel=1e-12)
    assert floor(b) < floor(a)
    user = 0.02  # above both closures' floors: kept through the change
    c = a.with_target(s0.replace(floor=np.full(s0.n, user)))
    assert floor(c) == pytest.approx(user)
    c2 = c.with_target(next(t for t in c.targets if t.name == "S0").replace(options=swapped))
    assert floor(c2) == pytest.approx(user)


@pytest.mark.parametrize("value", ["0.0", "-1.0", "inf", "1e300"])
def test_a_noise_value_outside_0_to_1e150_is_refused_with_the_target(tmp_path, value):
    """noise = { value = U } must be a standard uncertainty in (0, 1e150]: above 1e150 u**2
    overflows and every draw would be rejected after compilation (an input audit found
    1e300 accepted)."""
    from bayesff.problem import load_problem

    text = (ROOT / "models" / "argon_lj_b2.toml").read_text()
    text = text.replace(
        'noise = { column = "u_B2_cm3_per_mol" }', f"noise = {{ value = {value} }}"
    )
    path = tmp_path / "p.toml"
    path.write_text(text.replace('data = "data/', f'data = "{ROOT}/data/'))
    with pytest.raises(
        ProblemError, match="noise value must be a finite standard uncertainty"
    ) as e:
        load_problem(path)
    assert "targets[0] (B2).noise" in str(e.value)


def test_a_measurement_trained_on_twice_is_refused(problem_dir):
    """Two targets reading one data file over overlapping training rows count each shared
    row twice in the likelihood (an audit of 2026-11-28 found it accepted); targets whose
    rows differ, or the same file held out, are accepted."""
    second = (
        '\n[[targets]]\nname = "B2_again"\nobservable = "second_virial"\n'
        'data = "data/b2.csv"\ntrain = { T_K = [%s] }\n'
    )
    text = (problem_dir / "models" / "toy.toml").read_text()
    head, tail = text.split("[transferability]")
    toy = problem_dir / "models" / "toy.toml"
    toy.write_text(head + second % "300.0, 700.0" + "\n[transferability]" + tail)
    with pytest.raises(ProblemError, match=r"target 'B2_again'.*training row \d+ \(T_K = 300"):
        Problem.from_toml(toy)
    toy.write_text(head + second % "501.0, 700.0" + "\n[transferability]" + tail)
    assert len(Problem.from_toml(toy).targets) == 2  # no shared training row


@pytest.mark.parametrize(
    "name", ["high\nT", "high\u202eT", "x" * 65, "../etc", " low T", ""]
)  # fmt: skip
def test_a_held_out_group_name_is_one_printable_line(problem_dir, name):
    """A newline split the one-line verdict, a direction mark could disguise it, and a
    5000-character name was accepted (input audit, 2026-11-28): the name of a held-out
    group is printable ASCII, a letter or digit first, at most 64 characters."""
    toml = problem_dir / "models" / "toy.toml"
    text = toml.read_text()
    old = 'holdout = [ { target = "B2", select = { T_K = [85.0, 110.0] } } ]'
    assert old in text
    quoted = name.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    toml.write_text(text.replace(old, old.replace("select", f'name = "{quoted}", select')))
    with pytest.raises(ProblemError, match=r"holdout\[0\]\.name: a held-out group's name"):
        Problem.from_toml(toml)
    toml.write_text(text.replace(old, old.replace("select", 'name = "gas, 1 kJ/mol", select')))
    assert "gas, 1 kJ/mol" in Problem.from_toml(toml).targets[0].holdout


@pytest.mark.parametrize("column", ["T_K", "B2_cm3_per_mol"])
def test_a_noise_column_that_is_the_environment_or_the_value_is_refused(problem_dir, column):
    """noise = { column = "T_K" } read the temperature column as uncertainties in the
    observable's unit, and the error blamed the manifest ("unknown ... unit 'K'"; input
    audit, 2026-11-28); now the noise field is named."""
    _break(
        problem_dir,
        "train = { T_K = [110.0, 500.0] }",
        f'train = {{ T_K = [110.0, 500.0] }}\nnoise = {{ column = "{column}" }}',
    )
    with pytest.raises(ProblemError, match=rf"\(B2\)\.noise\.column: .*'{column}' is the obs"):
        Problem.from_toml(problem_dir / "models" / "toy.toml")


def test_a_truncated_normal_without_mass_in_its_bounds_is_refused():
    """TruncatedNormal(loc 30, scale 0.3) on [3, 4] (a sigma prior in the wrong unit) passed
    check; numpyro's normalising mass underflowed (it drew 18.7, outside [3, 4]) and the
    Laplace start failed with advice about init (audit, 2026-11-28). Refused when loc lies
    more than 6 scales outside the bounds (mass < 1e-9); 5.9 scales is accepted."""
    from bayesff.priors import PriorSpec

    args = {"loc": 30.0, "scale": 0.3, "low": 3.0, "high": 4.0}
    with pytest.raises(ProblemError, match=r"has almost no mass in \[3, 4\] \(loc lies 86\.7"):
        PriorSpec("TruncatedNormal", args, "[parameters.sigma].prior")
    PriorSpec("TruncatedNormal", {**args, "loc": 4.0 + 5.9 * 0.3})
    with pytest.raises(ProblemError, match="almost no mass"):
        PriorSpec("TruncatedNormal", {**args, "loc": 3.0 - 6.1 * 0.3})


def test_a_cutoff_inside_the_repulsive_core_is_refused(problem_dir):
    """r_c = 1 angstrom with sigma's prior centred at 3.5 angstrom (r_c in nm read as
    angstrom, or a typo) was accepted (audit, 2026-11-28): refused at the cutoff field,
    for the potential's and a target's. WCA's cut at 2^(1/6) sigma builds."""
    train = "train = { T_K = [110.0, 500.0] }"
    cut = 'cutoff = {{ scheme = "shifted", r_c = {r}, unit = "angstrom" }}'
    path = _break(
        problem_dir, 'kind = "lennard_jones"\n', f'kind = "lennard_jones"\n{cut.format(r=1.0)}\n'
    )
    with pytest.raises(ProblemError, match=r"\[potential\]\.cutoff: r_c = 1 angstrom lies inside"):
        Problem.from_toml(path)
    text = path.read_text().replace(cut.format(r=1.0), cut.format(r=3.5 * 2 ** (1 / 6)))
    path.write_text(text)
    Problem.from_toml(path)
    path.write_text(text.replace(train, f'{train}\n{cut.format(r=0.35)}\nrepair = "match_b2"'))
    with pytest.raises(ProblemError, match=r"target 'B2'\.cutoff: r_c = 0\.35 angstrom"):
        Problem.from_toml(path)


def test_check_prints_the_data_file_a_relative_path_resolved_to(problem_dir, monkeypatch):
    """Audit F10: a relative data path is looked up in the problem file's folder, then its
    parent, then the working folder (bayesff.problem_text._data_path), and the first copy
    wins; `bayesff check` printed only the path as written, so a stale second copy went
    unseen. It now prints the file it found: here the parent's copy, although the working
    folder holds another."""
    other = problem_dir / "elsewhere"
    (other / "data").mkdir(parents=True)
    (other / "data" / "b2.csv").write_text((problem_dir / "data" / "b2.csv").read_text())
    write_manifest(other / "data")
    monkeypatch.chdir(other)
    text = Problem.from_toml(problem_dir / "models" / "toy.toml").describe()
    assert f"data data/b2.csv = {problem_dir / 'data' / 'b2.csv'} (" in text, text


def test_check_shows_each_tolerance_and_notes_a_relative_one_of_100_percent_or_more(problem_dir):
    """Audit F8: `tolerance = { B2 = { rel = 5.0 } }` (500 %, perhaps meant as 5 %) was
    accepted without a word. `bayesff check` now shows every target's tolerance and notes a
    relative one >= 1 (a prediction off by 100 % or more passes); 0.05 gets no note."""
    path = problem_dir / "models" / "toy.toml"
    text = path.read_text()
    assert "tolerance = { B2 = { rel = 0.05 } }" in text
    shown = Problem.from_toml(path).describe()
    assert "  tolerance rel 0.05 (passes if |pred - obs| <= abs + rel |obs|)" in shown, shown
    assert "NOTE" not in shown
    path.write_text(text.replace("rel = 0.05 }", "rel = 5.0 }"))
    shown = Problem.from_toml(path).describe()
    assert "NOTE: rel = 5 lets a prediction off by 500 % or more pass" in shown, shown


@pytest.mark.parametrize(
    ("dist", "args", "says"),
    [
        ("LogNormal", {"median": 120.0, "scale": 1e-300}, r"makes the prior a point"),
        ("Normal", {"loc": 3.4, "scale": 1e-13}, r"below 1e-12 of its centre"),
        ("HalfNormal", {"scale": 1e-200}, r"below 1e-150"),
        ("LogNormal", {"median": 120.0, "scale": 500.0}, r"too wide.*exp\(\+-2\.5e\+03\)"),
        ("Normal", {"loc": 1.0, "scale": 1e308}, r"too wide: 5 scales"),
    ],
)
def test_a_prior_that_is_a_point_or_wider_than_float64_is_refused(dist, args, says):
    """Input audit (2026-11-30): LogNormal scale = 1e-300 was accepted and its run written
    with R-hat NaN; scale = 500 ran with 29 % divergent transitions, its tail at exp(2500)
    beyond float64. Refused where the prior is read, naming the field. The edges accepted:
    a 1e-9 relative scale and a LogNormal scale of 100 (finite 5 scales out)."""
    from bayesff.priors import PriorSpec

    with pytest.raises(ProblemError, match=says) as e:
        PriorSpec(dist, args, where="p.toml: [parameters.epsilon].prior")
    assert "[parameters.epsilon].prior" in str(e.value)
    PriorSpec("Normal", {"loc": 3.4, "scale": 3.4e-9})
    PriorSpec("LogNormal", {"median": 120.0, "scale": 100.0})


def test_a_signed_density_column_beside_the_target_still_loads(problem_dir):
    """A column the target does not fit (read for selections only) may hold a signed density
    difference; only the target's own columns obey bayesff.data.POSITIVE_DIMENSIONS (a
    review of 2026-11-30 found such files refused by the new rule)."""
    f = problem_dir / "data" / "b2.csv"
    lines = f.read_text().splitlines()
    rows = [ln + (",-0.02" if i % 2 else ",0.01") for i, ln in enumerate(lines[1:])]
    f.write_text("\n".join([lines[0] + ",drho_mol_per_L", *rows]) + "\n")
    units = {"T_K": "K", "B2_cm3_per_mol": "cm^3/mol", "u_B2_cm3_per_mol": "cm^3/mol"}
    write_manifest(problem_dir / "data", units={**units, "drho_mol_per_L": "mol/L"})
    problem = Problem.from_toml(problem_dir / "models" / "toy.toml")
    assert problem.targets[0].values.size > 0


@pytest.mark.parametrize(("observed_MPa", "noted"), [(1.0, True), (100.0, False)])
def test_describe_notes_a_floor_that_dwarfs_the_data(observed_MPa, noted):
    """Audit, 2026-11-30: an eos_pressure target whose forward-model floor (SAFT-VR Mie's
    1.4-2.0 epsilon/sigma^3: 78-145 MPa for propane) exceeds its observed pressures
    (5-121 MPa) was described as any other, and its coverage verdict rested on the floor.
    Here the LJ liquid floor, 0.15 epsilon/sigma^3 (Thol against Kolafa-Nezbeda,
    docs/vle.md) = 5.8 MPa at 120 K / 3.5 angstrom, is noted against 1 MPa of data, not
    against 100 MPa."""
    from bayesff.problem import InferenceSettings
    from bayesff.targets import Target

    from support import lj_problem

    rho = np.array([0.75, 0.8]) / 3.5**3
    t = Target.from_arrays(
        "p",
        "eos_pressure",
        {"T_K": np.array([120.0, 120.0]), "rho_per_A3": rho},
        np.full(2, observed_MPa),
        0.1,
    )
    text = lj_problem([t], InferenceSettings(chains=1, warmup=10, samples=10)).describe()
    assert "forward-model error floor 5.8 to 5.8 [MPa]" in text
    note = "NOTE: the floor's median (5.8 MPa) exceeds 0.5 x the median observed value (1 MPa)"
    assert (note in text) is noted, text
    assert ("compressed_liquid_density has a floor in density" in text) is noted


def _python_b2_problem(**train_kw):
    """models/argon_lj_b2.py's problem with every file-reading option a problem file can
    write: a rows filter, duplicates dropped, a constant noise, a training range, two
    held-out groups, and a second, predicted-only target of the same file."""
    from bayesff.targets import Inadequacy, Target

    base = _load_python_problem()
    data = ROOT / "data" / "argon" / "b2.csv"
    b2 = Target.from_file(
        "B2",
        "second_virial",
        data,
        train=train_kw.get("train", {"T_K": [110.0, 400.0]}),
        rows={"T_K": [90.0, 600.0]},
        duplicates="drop",
        noise_value=2.0,
        inadequacy=Inadequacy("inferred_scale", form="relative", prior_scale=0.05),
        data_label="data/argon/b2.csv",
    )
    b2 = b2.with_holdout("low T", {"T_K": [85.0, 110.0]})
    b2 = b2.with_holdout("high T", {"T_K": [400.0, 700.0]})
    predicted = Target.from_file(
        "B2_all", "second_virial", data, train=False, data_label="data/argon/b2.csv"
    )
    return base.replace(targets=[b2, predicted], tolerance={})


def test_a_python_problems_document_reads_back_as_the_problem():
    """Before 2026-12-01 the document of a problem built in Python left out its targets'
    rows filter, duplicate rule, noise, training range and held-out groups: read back
    from its run (what a sensitivity refit does) it trained on every row of the file, and
    the refit was refused as 'the problem changed'. The document now says them, and read
    back it is the problem (same masks, same uncertainties, same fingerprint)."""
    import tomllib

    p = _python_b2_problem()
    assert not p.source_text  # written from the objects
    doc = p.document()
    b2 = doc["targets"][0]
    assert b2["rows"] == {"T_K": [90.0, 600.0]} and b2["duplicates"] == "drop"
    assert b2["noise"] == {"value": 2.0} and b2["train"] == {"T_K": [110.0, 400.0]}
    assert doc["targets"][1]["train"] is False
    assert [(h["target"], h["name"]) for h in doc["transferability"]["holdout"]] == [
        ("B2", "low T"),
        ("B2", "high T"),
    ]
    text = p.document_text()
    q = Problem.from_dict(tomllib.loads(text), path="", source_text=text, base_dirs=(ROOT,))
    assert q.matches(p.fingerprint())
    for a, b in zip(p.targets, q.targets, strict=True):
        np.testing.assert_array_equal(a.train, b.train)
        np.testing.assert_array_equal(a.uncertainties, b.uncertainties)
        assert list(a.holdout) == list(b.holdout)
        for g in a.holdout:
            np.testing.assert_array_equal(a.holdout[g], b.holdout[g])
    # the rows filter held: 90-600 K of the file's 85-700 K
    T = p.targets[0].env["T_K"]
    assert T.min() == 90.0 and T.max() == 600.0


def test_a_split_set_by_hand_is_not_written_as_the_rules_it_replaced():
    """A training mask set in Python after the rules made the split is not what the rules
    say: the document leaves the split out (as before), and read back the problem is not
    the run's (a refit is refused, never run on other rows)."""
    import tomllib

    p = _python_b2_problem()
    t = p.targets[0]
    hand = t.train.copy()
    hand[np.flatnonzero(hand)[0]] = False  # one training row dropped by hand
    changed = p.with_target(t.replace(train=hand))
    assert changed.targets[0].recorded_selection() is None
    doc = changed.document()
    assert "train" not in doc["targets"][0]
    assert "holdout" not in doc.get("transferability", {})
    text = changed.document_text()
    q = Problem.from_dict(tomllib.loads(text), path="", source_text=text, base_dirs=(ROOT,))
    assert not q.matches(changed.fingerprint())
