"""A trend in the pooling (``[pooling] covariate``, issue 30: predicting longer chains).

Known truth: second virial coefficients of six Lennard-Jones "molecules" of a series
that share sigma = 3.405 angstrom and whose epsilon follows a trend in a covariate x
(think 1/carbon number), epsilon_g = 120 K exp(b (x_g - 2) + eta_g), b = 0.12 per unit
of x, with small molecule-to-molecule deviations eta = (0.02, -0.015, 0.0, 0.015,
-0.02). The five trained molecules have x = 0-4; the held-out one is at x = 7, an
extrapolation three units beyond the last (truth epsilon = 120 exp(0.6) = 219 K).
B2 at 10 temperatures (150-400 K) per molecule, bayesff's LJ B2 (checked against the
LJ B2 series in tests/observables), plus Gaussian noise of the stated 0.3 cm3/mol.

* Recovery: the slope's 90 % interval holds b; the held-out molecule's predicted B2
  holds the truth at every temperature.
* Negative control: the same data pooled without the trend (an exchangeable
  population) predict the held-out molecule from the population's centre, about
  120 K: the truth is outside their 90 % interval at every temperature.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff import sites
from bayesff.errors import ProblemError
from bayesff.inference import calibrate
from bayesff.model import structure_of
from bayesff.observables import SECOND_VIRIAL
from bayesff.potentials import get_potential
from bayesff.priors import Pooling
from bayesff.problem import InferenceSettings, load_problem
from bayesff.targets import Target
from bayesff.units import to_internal

from support import lj_problem, two_groups_toml

T = np.linspace(150.0, 400.0, 10)
SLOPE, X_MEAN = 0.12, 2.0
X = {"m0": 0.0, "m1": 1.0, "m2": 2.0, "m3": 3.0, "m4": 4.0, "m7": 7.0}
ETA = {"m0": 0.02, "m1": -0.015, "m2": 0.0, "m3": 0.015, "m4": -0.02, "m7": 0.0}
NEW = "m7"
EPS0, SIGMA, U = 120.0, 3.405, 0.3
SETTINGS = InferenceSettings(chains=2, warmup=400, samples=400, prior_draws=10, seed=3)


def _eps(g: str) -> float:
    return EPS0 * np.exp(SLOPE * (X[g] - X_MEAN) + ETA[g])


def _b2(eps_k: float) -> np.ndarray:
    params = {"epsilon": to_internal(eps_k, "K", "energy"), "sigma": SIGMA}
    return np.asarray(SECOND_VIRIAL.build(get_potential("lennard_jones"))(params, {"T_K": T}))


def _targets(on_trend: bool = False) -> list[Target]:
    rng = np.random.default_rng(8)
    out = []
    for g in X:
        eps = EPS0 * np.exp(SLOPE * (X[g] - X_MEAN)) if on_trend else _eps(g)
        y = _b2(eps) + rng.normal(0.0, U, T.size)
        trained = g != NEW
        t = Target.from_arrays(
            f"B2_{g}", SECOND_VIRIAL, {"T_K": T}, y, U, train=np.full(T.size, trained)
        )
        if not trained:
            t = t.replace(holdout={"longer molecule": np.ones(T.size, bool)})
        out.append(t.replace(group=g))
    return out


def _problem(trend: bool, spread: float = 0.2):
    targets = _targets(on_trend=spread == 0)
    p = lj_problem([t.replace(group=None) for t in targets], SETTINGS, name="trend_lj")
    cov = {"epsilon": dict(X)} if trend else None
    pooling = Pooling(("epsilon",), spread, covariate=cov, trend_scale=0.5)
    return p.replace(targets=targets, pooling=pooling)


def _held_out_interval(run) -> tuple[np.ndarray, np.ndarray]:
    pred = run.datatree["predictions"][sites.mean(f"B2_{NEW}")].values.reshape(-1, T.size)
    return tuple(np.quantile(pred, [0.05, 0.95], axis=0))


@pytest.fixture(scope="module")
def trend_run():
    return calibrate(_problem(trend=True), progress=False, log=None)


def test_the_trend_adds_one_slope_per_pooled_parameter():
    s = structure_of(_problem(trend=True))
    assert s.trend == ("epsilon",) and sites.slope("epsilon") in s.latent_names
    assert not structure_of(_problem(trend=False)).trend
    x, x_new = _problem(trend=True).pooling_covariate("epsilon")
    np.testing.assert_allclose(x, [-2.0, -1.0, 0.0, 1.0, 2.0])  # centred on the trained
    np.testing.assert_allclose(x_new, [5.0])


def test_the_slope_is_recovered_and_the_longer_molecule_predicted(trend_run):
    post = trend_run.datatree["posterior"]
    b = post[sites.slope("epsilon")].values.ravel()
    lo, hi = np.quantile(b, [0.05, 0.95])
    assert lo <= SLOPE <= hi, (lo, hi)
    assert "log-change" in post[sites.slope("epsilon")].attrs["units"]
    lo, hi = _held_out_interval(trend_run)
    truth = _b2(_eps(NEW))
    assert np.all((lo <= truth) & (truth <= hi)), (lo, truth, hi)


def test_without_the_trend_the_longer_molecule_is_missed():
    run = calibrate(_problem(trend=False), progress=False, log=None)
    lo, hi = _held_out_interval(run)
    truth = _b2(_eps(NEW))
    # epsilon 219 K against a population centred near 120 K: B2 far more negative
    assert np.all(truth < lo), (lo, truth, hi)


def test_without_a_spread_every_group_lies_on_the_trend():
    """prior_scale = 0: epsilon_g = theta exp(b x_g) exactly (data made so: no eta), one
    slope and one theta; the held-out molecule is predicted along the line."""
    p = _problem(trend=True, spread=0.0)
    s = structure_of(p)
    assert not s.spread and s.latent_names == ("epsilon", "sigma", sites.slope("epsilon"))
    assert "no spread about the trend" in p.describe()
    run = calibrate(p, progress=False, log=None)
    b = run.datatree["posterior"][sites.slope("epsilon")].values.ravel()
    lo, hi = np.quantile(b, [0.05, 0.95])
    assert lo <= SLOPE <= hi and hi - lo < 0.02, (lo, hi)  # ten B2 rows per molecule
    lo, hi = _held_out_interval(run)
    truth = _b2(EPS0 * np.exp(SLOPE * (X[NEW] - X_MEAN)))
    assert np.all((lo <= truth) & (truth <= hi)), (lo, truth, hi)


def test_the_trend_round_trips_through_the_problem_file():
    p = _problem(trend=True)
    doc = p.document()
    assert doc["pooling"]["covariate"] == {"epsilon": X}
    assert doc["pooling"]["trend_scale"] == 0.5
    assert "along a covariate x for epsilon" in p.describe()


def _toml(tmp_path, pooling: str) -> str:
    return two_groups_toml(tmp_path, pooling, "trend_check")


@pytest.mark.parametrize(
    "pooling, field, words",
    [
        ("covariate.epsilon = { a = 1.0 }", "covariate.epsilon", "missing for b"),
        ("covariate.epsilon = { a = 1, b = 2, c = 3 }", "covariate.epsilon.c", "not a group"),
        ("covariate.epsilon = { a = 1.0, b = 1.0 }", "covariate.epsilon", "two or more"),
        ("covariate.epsilon = { a = 1.0, b = 'x' }", "covariate", "'x'"),
        ("covariate.sigma = { a = 1.0, b = 2.0 }", "covariate.sigma", "pooled parameter"),
        ("trend_scale = 0.5", "[pooling].trend_scale", "there is no trend"),
        ("covariate.epsilon = { a = 1, b = 2 }\ntrend_scale = -1", "trend_scale", "got -1"),
        ("covariate.epsilon = { a = 1.0, b = nan }", "covariate.epsilon.b", "finite number"),
        ("prior_scale = 0", "[pooling].prior_scale", "epsilon has no trend"),
    ],
)
def test_a_bad_trend_is_refused_with_the_field(tmp_path, pooling, field, words):
    with pytest.raises(ProblemError) as e:
        load_problem(_toml(tmp_path, pooling))
    assert field in str(e.value) and words in str(e.value), str(e.value)
    assert "p.toml" in str(e.value)


def test_a_trend_problem_file_loads(tmp_path):
    text = "covariate.epsilon = { a = 1.0, b = 0.5 }\ntrend_scale = 2"
    p = load_problem(_toml(tmp_path, text))
    assert p.pooling.covariate == {"epsilon": {"a": 1.0, "b": 0.5}}
    assert p.pooling.trend_scale == 2
    np.testing.assert_allclose(p.pooling_covariate("epsilon")[0], [0.25, -0.25])
