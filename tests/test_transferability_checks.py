"""Model checks of a run (residual check), vector rows, and the forces problem end to end.

The fast tests use runs written by bayesff's own writer from hand-chosen draws
(``tests/handmade_runs.py``); the slow ones calibrate the shipped force-matching
problem (models/argon_forcematch.toml: LJ against HFD-ID1 argon dimers) and the
same data with the potential that made them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from handmade_runs import build_run, target
from scipy.stats import chi2

from bayesff import transferability as tf
from bayesff.errors import BayesffError

from support import ROOT

S = 400


def _scalar_run(offset_in_u: float, n: int = 20, u: float = 0.1):
    """B2-like target with n training rows; every draw of the model is y - offset * u."""
    T = np.linspace(200.0, 600.0, n)
    y = np.linspace(-50.0, 20.0, n)
    mu = np.broadcast_to(y - offset_in_u * u, (S, n))
    t = target("B2", "second_virial", {"T_K": T}, y, u=u, file_units={"T_K": "K"})
    rep = mu + u * np.random.default_rng(1).standard_normal((S, n))
    return build_run([t], {"B2": {"train": {"model": mu, "rep": rep, "ll": np.zeros((S, n))}}})


def test_residual_check_flags_residuals_larger_than_the_noise():
    """Residuals of 3 u at each of 20 rows: z = 3 exactly, T(y) = 9 x 20 = 180, while
    T(y_rep) ~ chi^2_20 (P(chi^2_20 >= 180) ~ 1e-27): p = 0 in 400 draws."""
    chk = tf.residual_check(_scalar_run(3.0))
    assert chi2.sf(180.0, 20) < 1e-20
    # pytest.approx: y - 3 u carries a rounding error of ~1e-12 relative
    assert chk.targets["B2"] == {
        "n": 20,
        "rms_z": pytest.approx(3.0),
        "max_abs_z": pytest.approx(3.0),
    }
    assert chk.p_value == 0.0 and not chk.adequate and chk.alpha == 0.01
    assert chk.noise == "data"


def test_residual_check_passes_a_model_within_its_noise():
    """Residuals of 1 u: T(y) = 20, P(chi^2_20 >= 20) = 0.458 (scipy); the Monte Carlo
    p-value from 400 replicated chi^2_20 draws has sd sqrt(0.458 * 0.542 / 400) = 0.025,
    so it lies within 0.1 (4 sd) of the exact value."""
    chk = tf.residual_check(_scalar_run(1.0))
    assert chk.targets["B2"]["rms_z"] == pytest.approx(1.0)
    assert chk.p_value == pytest.approx(chi2.sf(20.0, 20), abs=0.1) and chk.adequate
    # the predictive noise here is the data noise itself: the same verdict
    assert tf.residual_check(_scalar_run(1.0), noise="predictive").adequate
    with pytest.raises(tf.CriteriaError, match="noise must be"):
        tf.residual_check(_scalar_run(1.0), noise="other")


def _force_run(tol):
    """Forces of 3 two-atom configurations (training) and 2 held out: vector rows."""
    rng = np.random.default_rng(2)
    pos = rng.uniform(-2.0, 2.0, (5, 2, 3))
    f = rng.uniform(-1.0, 1.0, (5, 2, 3))
    train = np.array([True, True, True, False, False])
    t = target(
        "F",
        "configuration_forces",
        {"positions_angstrom": pos},
        f,
        u=0.01,
        train=train,
        holdout={"far": ~train},
    )
    off = 0.02 * np.linspace(-1.0, 1.0, 10)[:, None, None, None]  # (10, 1, 1, 1)
    d = {
        "train": {"model": f[train] + off, "rep": f[train] + off, "ll": np.zeros((10, 3))},
        "holdout": {"model": f[~train] + off, "rep": f[~train] + 2 * off},
    }
    return build_run([t], {"F": d}, tolerance={"F": tol}), f[~train], off


def test_vector_rows_are_judged_component_by_component():
    """A force row (atom, xyz) gives one state per component; a configuration is within
    tolerance when every component is (numpy.isclose componentwise)."""
    tol = {"rel": 0.05, "abs": 0.015}
    dt, f_ho, off = _force_run(tol)
    r = tf.evaluate(dt)
    assert len(r.states) == 2 * 2 * 3
    assert set(r.states[0]["env"]) == {"config", "atom", "xyz"}
    assert [s["env"]["xyz"] for s in r.states[:3]] == [0.0, 1.0, 2.0]
    # reference: numpy.isclose on the same draws, all components of both configurations
    model = f_ho[None] + off
    ok = np.isclose(model, f_ho[None], rtol=tol["rel"], atol=tol["abs"])
    (g,) = r.groups
    assert g["n"] == 12
    assert g["p_all_within_tolerance"] == pytest.approx(ok.reshape(10, -1).all(axis=1).mean())
    p_state = [s["p_within_tolerance"] for s in r.states]
    assert p_state == pytest.approx(ok.reshape(10, -1).mean(axis=0).tolist())
    assert r.training["F"]["n"] == 3 * 2 * 3
    chk = tf.residual_check(dt)
    assert chk.targets["F"]["n"] == 18


# ------------------------------------------------------------------------------ force matching


def _calibrate(path, **kw):
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    problem = Problem.from_toml(path)
    return calibrate(problem, progress=False, log=None, **kw).datatree


@pytest.fixture(scope="module")
def lj_on_aziz():
    """The shipped force-matching problem, 2 chains x (150 + 150) draws (~30 s)."""
    return _calibrate(ROOT / "models" / "argon_forcematch.toml", chains=2, warmup=150,
                      samples=150)  # fmt: skip


@pytest.mark.slow
def test_lj_fitted_to_the_aziz_reference_is_flagged_and_hfdid1_is_not(lj_on_aziz, tmp_path):
    """Negative control: the HFD-ID1 argon curve (Aziz 1993, doi:10.1063/1.466106) is not
    of LJ form (softer repulsion, deeper well), so with u = 0.01 kJ/mol (energies) and
    0.01 kJ/mol/angstrom (force components) -- the weights the problem chooses, ~1 K --
    the best LJ leaves residuals many times the noise and the posterior predictive p-value
    is ~0 (the problem's inferred inadequacy term absorbs them: with it, the predictive
    check passes). Positive companion on the same data: the potential that made them
    (exact data, residuals ~0, far below the noise) passes."""
    bad = tf.residual_check(lj_on_aziz)
    assert not bad.adequate and bad.p_value == 0.0
    assert bad.targets["E_dimers"]["rms_z"] > 5 and bad.targets["F_dimers"]["rms_z"] > 5
    assert tf.residual_check(lj_on_aziz, noise="predictive").adequate

    text = (ROOT / "models" / "argon_forcematch.toml").read_text()
    head, _, rest = text.partition("[potential]")
    body = rest[rest.index("[[targets]]") :]
    hfd = (
        head.replace('name = "argon_forcematch"', 'name = "argon_forcematch_hfdid1"')
        + '[potential]\nkind = "argon_hfdid1"\n\n'
        + '[parameters.epsilon]\nunit = "K"\n'
        + 'prior = { dist = "LogNormal", median = 143.0, scale = 0.2 }\n\n'
        + '[parameters.r_m]\nunit = "angstrom"\n'
        + 'prior = { dist = "Uniform", low = 3.5, high = 4.0 }\n\n'
        + body
    ).replace(
        'inadequacy = { kind = "inferred_scale", form = "absolute", prior_scale = 0.1 }\n', ""
    )
    path = tmp_path / "models" / "hfd.toml"  # data paths resolve from models/..
    path.parent.mkdir()
    path.write_text(hfd)
    (tmp_path / "data").symlink_to(ROOT / "data")
    good = tf.residual_check(_calibrate(path, chains=2, warmup=150, samples=150))
    assert good.adequate
    assert good.targets["F_dimers"]["rms_z"] < 1 and good.targets["E_dimers"]["rms_z"] < 1


@pytest.mark.slow
def test_forces_problem_evaluates_and_reports(lj_on_aziz, tmp_path):
    """The force-matching run through evaluate, compare and report like any other run:
    trimers held out (vector rows judged per component), the report written."""
    import json

    from bayesff import runfile
    from bayesff.report import report

    r = tf.evaluate(lj_on_aziz)
    groups = {g["target"]: g for g in r.groups}
    assert set(groups) == {"E_trimers", "F_trimers"}
    assert groups["F_trimers"]["n"] == 200 * 3 * 3
    assert groups["E_trimers"]["tolerance"] == {"rel": 0.05, "abs": 0.02}
    path = runfile.write(lj_on_aziz, tmp_path / "fm.nc")
    cmp = tf.compare({"a": path, "b": path})
    assert cmp["targets"] == ["E_dimers", "F_dimers"]
    index = report(path, tmp_path / "rep")
    s = json.loads((index.parent / "summary.json").read_text())
    assert s["problem"]["potential"]["name"] == "lennard_jones"
    assert [f["error"] for f in s["figures"]] == [None] * len(s["figures"])
    assert len(s["transferability"]["states"]) == 200 + 1800
    assert index.stat().st_size < 3_000_000  # state tables capped per target on the page


def test_compare_errors_are_bayesff_errors():
    assert issubclass(tf.DifferentDataError, tf.CompareError)
    assert issubclass(tf.CompareError, BayesffError)
    assert issubclass(tf.CriteriaError, BayesffError)
    assert math.isfinite(tf.residual_check(_scalar_run(1.0)).p_value)
