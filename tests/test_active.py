"""Active-learning queries (bayesff.active).

The fast tests use hand-made draws, where the answer is exact: the spread of
each candidate is known in closed form. The slow test calibrates LJ on
noise-free forces from 3 to 5 angstrom and checks that the committee asks for
distances outside that domain (the wall, where the force is most sensitive to
sigma and epsilon).
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff.active import Query, predict_at, query
from bayesff.errors import BayesffError


def two_member(r):
    """Committee of two: 0 and r^2. Spread sd = r^2 / sqrt(2) (ddof=1), exact."""
    r = np.asarray(r, float)
    return np.stack([np.zeros_like(r), r**2])


POOL = np.array([1.0, 3.0, 2.0, -3.0, 0.5])


def test_picks_largest_spread_exactly():
    q = query(two_member, POOL, k=1)
    assert isinstance(q, Query)
    assert q.index.tolist() == [1]  # 3.0 and -3.0 tie: the earlier one first
    assert q.candidates.tolist() == [3.0]
    np.testing.assert_allclose(q.scores, POOL**2 / np.sqrt(2.0), rtol=1e-14)
    q3 = query(two_member, POOL, k=3)
    assert q3.index.tolist() == [1, 3, 2]
    assert q3.candidates.tolist() == [3.0, -3.0, 2.0]
    assert len(q3) == 3 and not q3.converged


def test_variance_method_and_closed_form_variance():
    q = query(two_member, POOL, k=2, method="variance")
    np.testing.assert_allclose(q.scores, POOL**4 / 2.0, rtol=1e-14)
    assert q.index.tolist() == [1, 3]
    # a GP-style model returning its predictive variance directly
    var = query(lambda r: 1.0 / (1.0 + (r - 2.0) ** 2), POOL, k=1, method="variance")
    assert var.candidates.tolist() == [2.0]
    with pytest.raises(BayesffError, match="committee needs draws"):
        query(lambda r: np.ones_like(r), POOL, k=1)


def test_threshold_excludes_and_converges():
    # scores r^2/sqrt(2): 0.707, 6.364, 2.828, 6.364, 0.177
    q = query(two_member, POOL, k=5, threshold=2.0)
    assert q.index.tolist() == [1, 3, 2]  # fewer than k: the rest are below the threshold
    assert np.all(q.score >= 2.0)
    q = query(two_member, POOL, k=5, threshold=POOL[1] ** 2 / np.sqrt(2.0))  # == is eligible
    assert q.index.tolist() == [1, 3]
    q = query(two_member, POOL, k=2, threshold=100.0)
    assert q.converged and len(q) == 0 and q.candidates.size == 0


def test_k_larger_than_pool_and_dict_candidates():
    assert query(two_member, POOL, k=50).index.size == POOL.size

    def draws(env):
        x, y = env["x"], env["y"]
        return np.stack([x, x + y])  # spread |y| / sqrt(2)

    q = query(draws, {"x": [0.0, 1.0, 2.0], "y": [0.1, -5.0, 2.0]}, k=1)
    assert q.index.tolist() == [1]
    assert q.candidates == {"x": np.array([1.0]), "y": np.array([-5.0])} or (
        q.candidates["x"].tolist() == [1.0] and q.candidates["y"].tolist() == [-5.0]
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k must be an integer >= 1"),
        ({"k": 1.5}, "k must be an integer >= 1"),
        ({"k": True}, "k must be an integer >= 1"),
        ({"k": 1, "candidates": []}, "candidates is empty"),
        ({"k": 1, "candidates": {}}, "candidates is empty"),
        ({"k": 1, "candidates": [1.0, np.nan]}, "finite"),
        ({"k": 1, "candidates": [[1.0, 2.0]]}, "1-D"),
        ({"k": 1, "method": "entropy"}, "unknown method"),
        ({"k": 1, "threshold": -1.0}, "threshold must be"),
        ({"k": 1, "threshold": float("nan")}, "threshold must be"),
    ],
)
def test_bad_input(kwargs, match):
    calls = []

    def model(r):
        calls.append(r)
        return two_member(r)

    kwargs = {"candidates": POOL, **kwargs}
    with pytest.raises(BayesffError, match=match):
        query(model, kwargs.pop("candidates"), **kwargs)
    assert not calls  # raised before the model was evaluated


def test_bad_model_output():
    with pytest.raises(BayesffError, match="expected draws"):
        query(lambda r: np.zeros((3, r.size + 1)), POOL, k=1)
    with pytest.raises(BayesffError, match="at least 2 draws"):
        query(lambda r: np.zeros((1, r.size)), POOL, k=1)
    with pytest.raises(BayesffError, match="not finite at candidate"):
        query(lambda r: np.stack([r, np.where(r > 2, np.nan, 0.0)]), POOL, k=1)
    with pytest.raises(BayesffError, match=r"a DataTree from bayesff\.calibrate"):
        query(object(), POOL, k=1)
    with pytest.raises(BayesffError, match="no run file there"):
        query("no/such/run.nc", POOL, k=1)


# --------------------------------------------------------------------------------------------
# A real run
# --------------------------------------------------------------------------------------------

LJ_EPS_K, LJ_SIGMA = 120.0, 3.4

PROBLEM = """\
[problem]
name = "lj_force_active"
description = "LJ from noise-free pair forces on [3, 5] angstrom (test)"

[potential]
kind = "lennard_jones"

[parameters.epsilon]
unit = "K"
prior = { dist = "LogNormal", median = 100.0, scale = 0.5 }

[parameters.sigma]
unit = "angstrom"
prior = { dist = "Uniform", low = 2.8, high = 4.2 }

[[targets]]
name = "F"
observable = "pair_force"
data = "data/forces.csv"

[inference]
chains = 2
warmup = 150
samples = 150
prior_draws = 10
seed = 3
"""


@pytest.fixture(scope="module")
def lj_run(tmp_path_factory):
    """A TOML-built LJ run on exact LJ forces at 3.00, 3.05, ..., 5.00 angstrom (u_F = 0.1).

    Same shapes and sampler settings as tests/test_classical_vs_ml.py, so that JAX's
    persistent compilation cache (bayesff.inference) serves both.
    """
    from bayesff import units
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    from support import write_manifest

    d = tmp_path_factory.mktemp("active")
    (d / "data").mkdir()
    (d / "models").mkdir()
    r = np.round(np.linspace(3.0, 5.0, 41), 10)
    eps = units.to_internal(LJ_EPS_K, "K", "energy")
    s6 = (LJ_SIGMA / r) ** 6
    f = 24.0 * eps / r * (2.0 * s6 * s6 - s6)  # closed-form -du/dr of LJ
    rows = "\n".join(f"{x:.2f},{y:.9f},0.1" for x, y in zip(r, f, strict=True))
    (d / "data" / "forces.csv").write_text(f"r_angstrom,F_kJ_per_mol_A,u_F_kJ_per_mol_A\n{rows}\n")
    write_manifest(
        d / "data",
        "forces.csv",
        {
            "r_angstrom": "angstrom",
            "F_kJ_per_mol_A": "kJ/mol/angstrom",
            "u_F_kJ_per_mol_A": "kJ/mol/angstrom",
        },
    )
    path = d / "models" / "lj.toml"
    path.write_text(PROBLEM)
    problem = Problem.from_toml(path)
    run = calibrate(problem, out=d / "run" / "posterior.nc", progress=False, log=None)
    return run, problem


@pytest.mark.slow
def test_query_on_a_run_asks_outside_the_training_domain(lj_run, monkeypatch, tmp_path):
    run, problem = lj_run
    pool = np.round(np.arange(2.5, 8.0001, 0.1), 10)
    # by path: the problem is rebuilt from the text stored in the run (from any directory)
    monkeypatch.chdir(tmp_path)
    q = query(run.path, pool, k=3)
    assert len(q) == 3
    # the wall: the spread of F grows steeply as r falls below the data (the chosen distances
    # are the three smallest in the pool, all below the training domain [3, 5])
    assert np.all(q.candidates < 3.0), q.candidates
    assert q.candidates.tolist() == [2.5, 2.6, 2.7]
    # the DataTree with the problem given explicitly answers the same
    q2 = query(run.datatree, pool, k=3, problem=problem, method="variance")
    assert q2.index.tolist() == q.index.tolist()
    np.testing.assert_allclose(q2.scores, q.scores**2, rtol=1e-10)
    # predict_at at the training distances equals the run's own training predictions
    r_train = problem.targets[0].env["r_angstrom"]
    mu = predict_at(run.datatree, r_train)
    ref = run.datatree["posterior_predictive"]["F_model"].values.reshape(mu.shape)
    np.testing.assert_allclose(mu, ref, rtol=1e-10)
    # a threshold above every spread: converged, nothing to label
    assert query(run.datatree, pool, k=3, threshold=10 * q.scores.max()).converged


@pytest.mark.slow
def test_query_on_a_run_errors(lj_run):
    from bayesff.problem import Problem

    run, problem = lj_run
    pool = np.array([2.8, 3.5])
    with pytest.raises(BayesffError, match="unknown target 'B2'"):
        query(run.datatree, pool, k=1, target="B2")
    with pytest.raises(BayesffError, match="do not match the target's environment columns"):
        query(run.datatree, {"T_K": [100.0]}, k=1)
    dt = run.datatree.copy()
    dt.attrs = {**dt.attrs, "problem_text": ""}
    with pytest.raises(BayesffError, match="stores no problem file text"):
        query(dt, pool, k=1)
    # a problem at other distances does not reproduce the run's predictions: refused
    # (observed values may differ: predictions do not depend on them)
    other = Problem.from_dict(
        {**__import__("tomllib").loads(problem.source_text), "inference": {}},
        base_dirs=(run.path.parent.parent,),
    )
    other.targets[0].env["r_angstrom"] = other.targets[0].env["r_angstrom"] + 0.01
    with pytest.raises(BayesffError, match="does not reproduce the run"):
        query(run.datatree, pool, k=1, problem=other)
