"""Force matching as an ordinary problem: recovery of known truth, the shipped problem,
the configuration loader.

Synthetic configurations come from LJ 12-6 with epsilon/k = 119.8 K, sigma = 3.405
angstrom (classic argon values, Michels et al. 1949), or from Aziz's HFD-ID1 argon
potential (doi:10.1063/1.466106); they are not measurements.
"""

from pathlib import Path

import numpy as np
import pytest

from bayesff.configdata import (
    load_configurations,
    random_dimers,
    random_trimers,
    reference_configurations,
)
from bayesff.errors import DataError, ProblemError
from bayesff.inference import calibrate
from bayesff.potentials import get_potential
from bayesff.potentials.reference import ARGON_HFDID1, HFDID1_EPSILON_K, HFDID1_R_M_ANGSTROM
from bayesff.priors import PriorSpec
from bayesff.problem import InferenceSettings, Problem
from bayesff.targets import configuration_targets
from bayesff.transferability import residual_check
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

from support import ROOT, lj_problem, write_manifest

LJ = get_potential("lennard_jones")
TRUTH_K = {"epsilon": 119.8, "sigma": 3.405}  # classic argon LJ (Michels et al. 1949)
TRUTH = {"epsilon": 119.8 * R, "sigma": 3.405}
AZIZ = {"epsilon": HFDID1_EPSILON_K * R, "r_m": HFDID1_R_M_ANGSTROM}


def _sets(potential, params, seed=0, n_dimers=10, n_trimers=20):
    rng = np.random.default_rng(seed)
    d = reference_configurations(
        potential, params, random_dimers(rng, n_dimers, 3.2, 7.0), name="dimers"
    )
    t = reference_configurations(
        potential, params, random_trimers(rng, n_trimers, 3.2, 7.0), name="trimers"
    )
    return d, t


def _noisy(c, rng, s_e, s_f, b=0.0):
    return c.replace(
        energy=c.energy + b + s_e * rng.standard_normal(c.energy.shape),
        forces=c.forces + s_f * rng.standard_normal(c.forces.shape),
    )


@pytest.mark.slow
def test_force_matching_recovers_lj_parameters_and_the_energy_offset():
    # Synthetic truth: LJ 119.8 K / 3.405 angstrom, energies shifted by b = 1.5 kJ/mol,
    # Gaussian noise 0.02 kJ/mol on energies and 0.02 kJ/mol/angstrom on each force
    # component (one seeded draw). Checks: truth inside the 90 % equal-tailed interval
    # (fails with probability ~0.1 per parameter for a calibrated posterior; the seed
    # is fixed, so the test is deterministic) and posterior means within 1 % (the
    # posterior sd is ~0.3 % for epsilon, ~0.02 % for sigma).
    rng = np.random.default_rng(42)
    d, t = _sets(LJ, TRUTH)
    b = 1.5
    dn, tn = _noisy(d, rng, 0.02, 0.02, b), _noisy(t, rng, 0.02, 0.02, b)
    # each set has its own offset with the same prior; both must find b
    offset = PriorSpec("Normal", {"loc": 0.0, "scale": 10.0})
    targets = [
        *configuration_targets(dn, noise_E=0.02, noise_F=0.02, offset=offset),
        *configuration_targets(tn, noise_E=0.02, noise_F=0.02, offset=offset),
    ]
    s = InferenceSettings(chains=2, warmup=150, samples=150, seed=1, prior_draws=10)
    run = calibrate(lj_problem(targets, s, name="fm_truth"), progress=False, log=None)
    post = run.datatree["posterior"]
    for name, truth in (*TRUTH_K.items(), ("offset_E_dimers", b), ("offset_E_trimers", b)):
        v = post[name].values.ravel()
        lo, hi = np.quantile(v, [0.05, 0.95])
        assert lo < truth < hi, (name, lo, truth, hi)
        assert v.mean() == pytest.approx(truth, rel=0.01)
    assert post["epsilon"].attrs["units"] == "K"
    assert post["offset_E_dimers"].attrs["units"] == "kJ/mol"
    assert int(run.datatree["sample_stats"]["diverging"].sum()) == 0
    assert run.datatree["observed_data"]["F_dimers"].dims == ("config", "atom", "xyz")
    chk = residual_check(run.datatree)
    # rms standardised residual of a correct model: 1 +- 1/sqrt(2 n) (n = 30 energies,
    # 540 force components, each set pooled over dimers and trimers); 0.7-1.3 leaves
    # room for the 30 energies' scatter.
    assert chk.adequate, chk
    # the 30 energies of both sets together, as one rms
    e = [chk.targets[n] for n in ("E_dimers", "E_trimers")]
    rms_e = np.sqrt(sum(x["n"] * x["rms_z"] ** 2 for x in e) / sum(x["n"] for x in e))
    assert 0.7 < rms_e < 1.3, e
    f = [chk.targets[n] for n in ("F_dimers", "F_trimers")]
    rms_f = np.sqrt(sum(x["n"] * x["rms_z"] ** 2 for x in f) / sum(x["n"] for x in f))
    assert 0.9 < rms_f < 1.1, f


@pytest.mark.slow
def test_shipped_force_matching_problem_runs_through_the_pipeline(tmp_path):
    """models/argon_forcematch.toml: check, calibrate (short), evaluate and report like
    every other problem (issue 15: force matching is an ordinary problem)."""
    from bayesff import report
    from bayesff.cli import main
    from bayesff.transferability import evaluate

    path = ROOT / "models" / "argon_forcematch.toml"
    assert main(["check", str(path)]) == 0
    p = Problem.from_toml(path)
    out = tmp_path / "posterior.nc"
    run = calibrate(p, out=out, progress=False, log=None, chains=2, warmup=100, samples=100)
    assert out.is_file()
    groups = {g["target"] for g in evaluate(run.datatree).groups}
    assert groups == {"E_trimers", "F_trimers"}
    page = report(out, tmp_path / "report")
    assert page.is_file()


def test_configuration_targets_refuse_missing_values():
    d, _ = _sets(LJ, TRUTH, n_dimers=3)
    no_e = d.replace(name="x")
    object.__setattr__(no_e, "energy", None)
    with pytest.raises(ProblemError, match="noise_E is given but set 'x' has no energies"):
        configuration_targets(no_e, noise_E=1.0, noise_F=None)


# -------------------------------------------------------------------- loader
HEADER = (
    "config_id,atom,x_angstrom,y_angstrom,z_angstrom,E_kJ_per_mol,"
    "Fx_kJ_per_mol_A,Fy_kJ_per_mol_A,Fz_kJ_per_mol_A\n"
)
UNITS = {
    "config_id": "1",
    "atom": "1",
    **{f"{a}_angstrom": "angstrom" for a in "xyz"},
    "E_kJ_per_mol": "kJ/mol",
    **{f"F{a}_kJ_per_mol_A": "kJ/mol/angstrom" for a in "xyz"},
}


def _write(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "c.csv"
    p.write_text(HEADER + "".join(r + "\n" for r in rows))
    write_manifest(tmp_path, "c.csv", UNITS)
    return p


GOOD = [
    "0,0,0,0,0,-1.0,1,0,0",
    "0,1,4,0,0,-1.0,-1,0,0",
    "5,0,0,0,0,-0.5,0,1,0",
    "5,1,0,4.5,0,-0.5,0,-1,0",
]


def test_loader_reads_a_file_and_groups_atoms(tmp_path):
    c = load_configurations(_write(tmp_path, GOOD))
    assert c.positions.shape == (2, 2, 3) and c.name == "c"
    np.testing.assert_array_equal(c.config_ids, [0, 5])
    np.testing.assert_allclose(c.energy, [-1.0, -0.5])
    np.testing.assert_allclose(c.forces[1, 1], [0, -1, 0])


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (
            [*GOOD[:2], "5,0,0,0,0,-0.5,0,1,0", "5,2,0,4.5,0,-0.5,0,-1,0"],
            r"line 5, column 'atom'.*expected 1, found 2",
        ),
        ([*GOOD[:3], "5,1,0,4.5,0,-0.6,0,-1,0"], r"line 5, column 'E_kJ_per_mol'.*same on each"),
        (
            [*GOOD, "0,0,0,0,0,-1.0,1,0,0", "0,1,4,0,0,-1.0,-1,0,0"],
            r"line 6: exact duplicate of line 2",
        ),
        (  # the same configuration id again with other positions: a conflict
            [*GOOD, "0,0,0.5,0,0,-1.0,1,0,0", "0,1,4.5,0,0,-1.0,-1,0,0"],
            r"line 6.*line 2|line 2.*line 6",
        ),
        (["0.5,0,0,0,0,-1.0,1,0,0", *GOOD[1:]], r"line 2, column 'config_id'.*integer"),
        ([*GOOD, "7,0,0,0,0,1,0,0,0"], r"line 6, column 'config_id'.*has 1 atoms but"),
    ],
)
def test_loader_errors_name_line_and_column(tmp_path, rows, match):
    with pytest.raises(DataError, match=match):
        load_configurations(_write(tmp_path, rows))


def test_shipped_files_match_the_reference_potential():
    # data/argon_aziz/*.csv were written by data/scripts/make_argon_aziz.py from
    # hfdid1; re-evaluating must give the written values to their 12 digits.
    for name, n in (("dimers", 2), ("trimers", 3)):
        a = np.loadtxt(ROOT / "data" / "argon_aziz" / f"{name}.csv", delimiter=",", skiprows=1)
        x = a[:, 2:5].reshape(-1, n, 3)
        c = reference_configurations(ARGON_HFDID1, AZIZ, x)
        np.testing.assert_allclose(c.energy, a[::n, 5], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(c.forces.reshape(-1, 3), a[:, 6:9], rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize(
    ("edit", "field"),
    [('data = "data/argon_aziz/dimers.csv"\n', "targets[0] (E_dimers).train"),
     ("[transferability]\n", "[transferability].holdout[0].select")],
)  # fmt: skip
def test_a_row_selection_on_configurations_is_a_clear_error(tmp_path, edit, field):
    """A configuration target has no environment column to select rows by: `train` or a
    holdout `select` on one raised a bare StopIteration (input audit, 2026-11-28); now a
    ProblemError naming the field and the way out (the whole file)."""
    text = (ROOT / "models" / "argon_forcematch.toml").read_text()
    if edit.startswith("data"):
        new = edit + "train = { config_id = [0, 10] }\n"
    else:
        new = edit + 'holdout = [ { target = "E_trimers", select = { config_id = [0, 3] } } ]\n'
    assert edit in text  # the first (E_dimers) or the only ([transferability]) one
    text = text.replace(edit, new, 1).replace('data = "data/', f'data = "{ROOT}/data/')
    path = tmp_path / "fm.toml"
    path.write_text(text)
    with pytest.raises(ProblemError, match="no environment column to select rows by") as e:
        Problem.from_toml(path)
    assert field in str(e.value)
