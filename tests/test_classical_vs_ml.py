"""The classical-versus-ML study (studies.classical_vs_ml, .forcegp, .active).

The truth is SYNTHETIC and known exactly (data/scripts/make_lj_gauss.py wrote the
training file; the workflow holds the same closed form): LJ
with eps/k_B = 120 K, sigma = 3.4 angstrom, plus a Gaussian well (A = -0.5
kJ/mol, r0 = 4.4, w = 0.25 angstrom); force labels on D0 = [3, 5] angstrom with
N(0, 0.1^2) noise. Checks:

* known truth: LJ fitted by NUTS to LJ-only labels recovers eps and sigma;
* calibration: the GP's 90 % bands cover the true force in D0 at the nominal
  rate, within a binomial bound, over replicate data sets;
* negative control: LJ fitted to the LJ + well labels is flagged, its 90 %
  bands missing the truth over the well region.
"""

from __future__ import annotations

import numpy as np
import pytest

from studies import classical_vs_ml as study
from studies.forcegp import ForceGP

from support import ROOT

DATA = ROOT / study.DEFAULT_DATA


def test_truth_and_training_file():
    r = study.train_distances()
    # closed form: the force is minus the derivative of the energy (central difference,
    # step 1e-5 angstrom: truncation error ~ h^2 u''' / 6, well below 1e-4 here)
    h = 1e-5
    num = -(study.true_energy(r + h) - study.true_energy(r - h)) / (2 * h)
    np.testing.assert_allclose(study.true_force(r), num, rtol=1e-6, atol=1e-4)
    # without the well the minimum of u is the LJ one, at 2^(1/6) sigma
    lj = {**study.TRUTH, "well_A_kJ_per_mol": 0.0}
    assert abs(study.true_force(2 ** (1 / 6) * 3.4, lj)) < 1e-12
    rr, f, u = study.read_training(DATA)
    np.testing.assert_array_equal(rr, r)
    assert np.all(u == study.U_F)
    # the shipped labels are the truth plus noise of the stated size (41 draws: the sample
    # sd of N(0, 0.1^2) lies within [0.07, 0.13] with probability > 0.999)
    assert 0.07 < np.std(f - study.true_force(r), ddof=1) < 0.13


def test_domains_partition_the_grid():
    g = study.eval_distances()
    parts = [study.domain_mask(g, d) for d in ("repulsive", "D0", "long_range")]
    assert np.array_equal(np.sum(parts, axis=0), np.ones(g.size))
    assert np.all(study.domain_mask(g, "well") <= study.domain_mask(g, "D0"))


@pytest.mark.slow
def test_lj_recovers_its_truth_on_lj_only_data():
    lj = {**study.TRUTH, "well_A_kJ_per_mol": 0.0}
    r = study.train_distances()
    f = study.noisy_forces(r, np.random.default_rng(11), truth=lj)
    g = study.eval_distances()
    pred, run, _ = study.fit_lj(
        r,
        f,
        study.U_F,
        seed=1,
        chains=2,
        warmup=150,
        samples=150,
        r_eval=g,
        f_eval=study.true_force(g, lj),
    )
    post = run.datatree["posterior"]
    # known truth: under the right model the posterior mean is within a few posterior sd of
    # the truth; 4 sd (plus the Monte Carlo error of 300 draws, ~sd/10) fails by chance
    # with probability < 1e-4
    for name, true in (("epsilon", 120.0), ("sigma", 3.4)):
        x = post[name].values.ravel()
        assert abs(x.mean() - true) < 4.4 * x.std(), (name, x.mean(), x.std())
    # and the right model's bands cover the truth where the study's well would be
    g = study.eval_distances()
    band = study.band_from_draws(pred(g))
    m = study.domain_metrics(
        pred(r).mean(0), study.true_force(r, lj), g, band, study.true_force(g, lj)
    )
    assert m["well"]["coverage"] >= 0.8
    assert m["D0"]["rmse"] < study.U_F


@pytest.mark.slow
def test_lj_is_flagged_where_the_well_matters():
    """Negative control: a model known to be wrong (no well) has bands that miss the truth."""
    r, f, u = study.read_training(DATA)
    g = study.eval_distances()
    pred, _, _ = study.fit_lj(
        r, f, u, seed=2, chains=2, warmup=150, samples=150, r_eval=g, f_eval=study.true_force(g)
    )
    band = study.band_from_draws(pred(g))
    m = study.domain_metrics(pred(r).mean(0), study.true_force(r), g, band, study.true_force(g))
    # nominal 0.9; a calibrated model would cover >= 0.8 (as in the LJ-only test above)
    assert m["well"]["coverage"] < 0.5
    # the error it is over-confident about: RMS over the well region > 5 label sd, band
    # narrower than the error
    assert m["well"]["rmse"] > 5 * study.U_F
    assert m["well"]["width"] < m["well"]["rmse"]


@pytest.mark.slow
def test_gp_covers_the_truth_in_d0_at_the_nominal_rate():
    """Over N = 100 replicate label sets, one uniform random test distance in D0 each.

    If the 90 % bands are calibrated, the number covered is Binomial(100, 0.9): the central
    99.9 % range of that distribution (scipy.stats.binom) is the bound.
    """
    from scipy.stats import binom

    n = 100
    rng = np.random.default_rng(7)
    r = study.train_distances()
    hits = 0
    for _ in range(n):
        gp = ForceGP.fit(r, study.noisy_forces(r, rng), study.U_F)
        x = rng.uniform(3.0, 5.0, 1)
        mean, var = gp.predict(x)
        hits += bool(abs(mean[0] - study.true_force(x[0])) <= 1.6448536 * np.sqrt(var[0]))
    lo, hi = binom.ppf(0.0005, n, 0.9), binom.isf(0.0005, n, 0.9)
    assert lo <= hits <= hi, (hits, lo, hi)


def test_gp_bands_widen_outside_d0():
    r, f, u = study.read_training(DATA)
    gp = ForceGP.fit(r, f, u)
    g = study.eval_distances()
    _, var = gp.predict(g)
    sd = np.sqrt(var)
    inside = sd[study.domain_mask(g, "D0")].max()
    assert sd[g >= 6.0].min() > 10 * inside
    assert sd[g <= 2.8].min() > 10 * inside
    # the GP's draws agree with its closed-form moments (4000 draws: the sample sd is within
    # 5 % of the exact one with probability > 0.99 at each point)
    d = gp.draws(g[::25], 4000, np.random.default_rng(0))
    np.testing.assert_allclose(d.std(axis=0, ddof=1), sd[::25], rtol=0.05)


def test_active_learning_curve_queries_outside_the_labels():
    c = study.active_learning_curve("variance", 0, n_max=5)
    assert c["n_labels"] == [3, 4, 5]
    # the 3 start labels are in D0; the first queried distance is where the GP is least
    # certain: as far from them as the pool allows, outside D0
    first = c["labelled"][3]
    assert first < 3.0 or first > 5.0, c["labelled"]
    assert c["max_sd"][-1] <= c["max_sd"][0]
    with pytest.raises(ValueError, match="strategy must be one of"):
        study.active_learning_curve("greedy", 0)


def test_force_posterior_reads_only_distances_the_run_holds():
    """Draws are looked up (never recomputed): a distance the run holds no draws at is refused."""
    from bayesff.errors import BayesffError

    post = study.ForcePosterior(np.array([3.0, 3.5, 9.0]), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(post([9.0, 3.0]), [[2.0, 0.0], [5.0, 3.0]])
    with pytest.raises(BayesffError, match="no draws at r"):
        post([3.25])
