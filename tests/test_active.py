"""Active-learning queries (bayesff.workflows.active).

The fast tests use hand-made draws, where the answer is exact: the spread of
each candidate is known in closed form. The slow test calibrates LJ on
noise-free forces from 3 to 5 angstrom, with a pool of candidate distances
from 2.525 to 7.925 angstrom as a predicted-only target, and checks that the
committee asks for distances outside the training domain (the wall, where the
force is most sensitive to sigma and epsilon).
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff.errors import BayesffError
from bayesff.workflows.active import Query, active_learning, query


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
        query(object(), k=1)
    with pytest.raises(BayesffError, match="run file not found"):
        query("no/such/run.nc", k=1)
    with pytest.raises(BayesffError, match="a callable model needs candidates"):
        query(two_member, k=1)


def test_loop_labels_where_the_committee_disagrees():
    """The loop around a model whose spread is known: |x - labelled| grows away from labels.

    The model's variance at x is the squared distance to the nearest label (exact, no
    sampling), so each round must label the pool point farthest from every label.
    """
    pool = np.arange(10.0)

    class Model:
        def __init__(self, x):
            self.x = np.asarray(x)

        def variance(self, c):
            return np.min((np.asarray(c)[:, None] - self.x[None, :]) ** 2, axis=1)

    seen = []
    rounds = active_learning(
        lambda x, y: Model(x),
        lambda x: (seen.append(np.asarray(x).tolist()), np.zeros(len(x)))[1],
        pool,
        [4],
        n_max=4,
        threshold=2.0,
        evaluate=lambda m: {"max_var": float(m.variance(pool).max())},
    )
    assert [r.n_labels for r in rounds] == [1, 2, 3, 4]
    assert rounds[-1].labelled == [4, 9, 0, 2]  # farthest first; ties: the earlier point
    assert [r.metrics["max_var"] for r in rounds] == [25.0, 16.0, 4.0, 4.0]
    assert [r.converged for r in rounds[:3]] == [False, False, False]
    assert seen == [[4.0], [9.0], [0.0], [2.0]]  # the oracle saw each new point once
    with pytest.raises(ValueError, match="strategy must be one of"):
        active_learning(
            lambda x, y: Model(x), np.zeros_like, pool, [0], n_max=2, strategy="greedy"
        )


def test_query_on_a_handmade_run_reads_its_held_out_rows():
    """A run with hand-chosen draws (no sampling): spreads known exactly.

    Pool rows at 2.6, 2.8, 6.0, 7.0 angstrom in two held-out groups; the two draws differ
    by 0, 2, 4 and 1 there, so the committee sd is that / sqrt(2) (ddof=1).
    """
    from handmade_runs import build_run, target

    from bayesff.observables import get_observable

    obs = get_observable("pair_force")
    f = target("F", obs, {"r_angstrom": [3.0, 4.0]}, [1.0, -0.5], u=0.1)
    r_pool = np.array([2.6, 2.8, 6.0, 7.0])
    groups = {"short": np.array([1, 1, 0, 0], bool), "long": np.array([0, 0, 1, 1], bool)}
    pool = target(
        "pool",
        obs,
        {"r_angstrom": r_pool},
        np.zeros(4),
        u=0.1,
        train=np.zeros(4, bool),
        holdout=groups,
    )
    m = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 4.0, 1.0]])
    tr = np.zeros((2, 2))
    dt = build_run(
        [f, pool],
        {
            "F": {"train": {"model": tr, "rep": tr, "ll": tr}},
            "pool": {"holdout": {"model": m, "rep": m}},
        },
    )
    q = query(dt, k=2)
    np.testing.assert_allclose(q.scores, np.array([0.0, 2.0, 4.0, 1.0]) / np.sqrt(2.0))
    assert q.candidates.tolist() == [6.0, 2.8]
    q = query(dt, k=2, target="pool", group="long", method="variance")
    np.testing.assert_allclose(q.scores, [8.0, 0.5])
    assert q.candidates.tolist() == [6.0, 7.0]


# --------------------------------------------------------------------------------------------
# A real run
# --------------------------------------------------------------------------------------------

LJ_EPS_K, LJ_SIGMA = 120.0, 3.4

PROBLEM = """\
[problem]
name = "lj_force_active"
description = "LJ from noise-free pair forces on [3, 5] angstrom, a predicted pool (test)"

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

[[targets]]
name = "pool"
observable = "pair_force"
data = "data/pool.csv"
train = false

[inference]
chains = 2
warmup = 150
samples = 150
prior_draws = 10
seed = 3
"""


def _lj_force(r, eps_kj, sigma):
    """Closed-form -du/dr of LJ (kJ/mol/angstrom)."""
    s6 = (sigma / r) ** 6
    return 24.0 * eps_kj / r * (2.0 * s6 * s6 - s6)


def _write_forces(path, r, f):
    rows = "\n".join(f"{x:.3f},{y:.9f},0.1" for x, y in zip(r, f, strict=True))
    path.write_text(f"r_angstrom,F_kJ_per_mol_A,u_F_kJ_per_mol_A\n{rows}\n")


@pytest.fixture(scope="module")
def lj_run(tmp_path_factory):
    """A TOML-built LJ run on exact LJ forces at 3.00, 3.05, ..., 5.00 angstrom (u_F = 0.1).

    The pool, 2.525 to 7.925 angstrom every 0.1 (55 distances, none a training
    distance), is a predicted-only target: the run file holds the posterior
    force draws there.
    """
    from bayesff import units
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    from support import write_manifest

    d = tmp_path_factory.mktemp("active")
    (d / "data").mkdir()
    (d / "models").mkdir()
    eps = units.to_internal(LJ_EPS_K, "K", "energy")
    r = np.round(np.linspace(3.0, 5.0, 41), 10)
    _write_forces(d / "data" / "forces.csv", r, _lj_force(r, eps, LJ_SIGMA))
    pool = np.round(2.525 + 0.1 * np.arange(55), 10)
    _write_forces(d / "data" / "pool.csv", pool, _lj_force(pool, eps, LJ_SIGMA))
    units_ = {
        "r_angstrom": "angstrom",
        "F_kJ_per_mol_A": "kJ/mol/angstrom",
        "u_F_kJ_per_mol_A": "kJ/mol/angstrom",
    }
    write_manifest(d / "data", "forces.csv", units_)
    manifest = (d / "data" / "manifest.toml").read_text()
    write_manifest(d / "data", "pool.csv", units_)
    (d / "data" / "manifest.toml").write_text(
        manifest + "\n" + (d / "data" / "manifest.toml").read_text()
    )
    path = d / "models" / "lj.toml"
    path.write_text(PROBLEM)
    problem = Problem.from_toml(path)
    run = calibrate(problem, out=d / "run" / "posterior.nc", progress=False, log=None)
    return run, problem, pool


@pytest.mark.slow
def test_query_on_a_run_asks_outside_the_training_domain(lj_run, monkeypatch, tmp_path):
    from bayesff import runfile

    run, _, pool = lj_run
    # by path, from any directory: the pool and its draws are read from the run file
    monkeypatch.chdir(tmp_path)
    q = query(run.path, k=3)
    assert len(q) == 3
    # the wall: the spread of F grows steeply as r falls below the data (the chosen distances
    # are the three smallest in the pool, all below the training domain [3, 5])
    assert np.all(q.candidates < 3.0), q.candidates
    np.testing.assert_allclose(q.candidates, pool[:3], rtol=0, atol=1e-12)
    # the result of calibrate, with the target named, answers the same
    q2 = query(run, k=3, target="pool", method="variance")
    assert q2.index.tolist() == q.index.tolist()
    np.testing.assert_allclose(q2.scores, q.scores**2, rtol=1e-10)
    # the draws the query ranks are the model's forces at each posterior draw: the closed-form
    # LJ force at that draw's (epsilon, sigma) (reference: -du/dr of LJ, independent of
    # bayesff's forward model)
    dt = runfile.read(run.path)
    post = runfile.latents(dt)
    eps = post["epsilon"].values.reshape(-1, 1) * __import__("bayesff").units.to_internal(
        1.0, "K", "energy"
    )
    sig = post["sigma"].values.reshape(-1, 1)
    rows = runfile.rows(dt, "pool", "holdout")
    ref = _lj_force(pool[None, :], eps, sig)
    np.testing.assert_allclose(rows.model.reshape(ref.shape), ref, rtol=1e-10)
    # a threshold above every spread: converged, nothing to label
    assert query(run.datatree, k=3, threshold=10 * q.scores.max()).converged


@pytest.mark.slow
def test_query_on_a_run_errors(lj_run):
    run, _, _ = lj_run
    pool = np.array([2.8, 3.5])
    with pytest.raises(BayesffError, match="unknown target 'B2'"):
        query(run.datatree, k=1, target="B2")
    with pytest.raises(BayesffError, match="target 'F' has no held-out rows"):
        query(run.datatree, k=1, target="F")
    with pytest.raises(BayesffError, match="no held-out group 'nope'"):
        query(run.datatree, k=1, target="pool", group="nope")
    with pytest.raises(BayesffError, match="the candidates of a run are its held-out rows"):
        query(run.datatree, pool, k=1)
