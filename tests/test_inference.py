"""Inference on known truth: recovery, interval coverage, and controls.

Synthetic B2 data are generated from LJ 12-6 with the classic argon values
epsilon/k = 119.8 K, sigma = 3.405 angstrom (synthetic, not measurements) at
the training temperatures of the shipped problem.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from bayesff.errors import BayesffError, RunExistsError
from bayesff.inference import Sampler, calibrate
from bayesff.model import build_model
from bayesff.observables import SECOND_VIRIAL, second_virial
from bayesff.potentials import LENNARD_JONES
from bayesff.problem import InferenceSettings, Problem
from bayesff.targets import Inadequacy, Target
from bayesff.units import to_internal

from support import ROOT, lj_problem

pytestmark = pytest.mark.slow

EPS_K, SIGMA_A = 119.8, 3.405
T_TRAIN = np.linspace(110.0, 500.0, 14)


def b2_true(T):
    params = {"epsilon": to_internal(EPS_K, "K", "energy"), "sigma": SIGMA_A}
    return np.asarray(second_virial(LENNARD_JONES, params, T))


def synthetic_problem(values, u, inadequacy="none", settings=None, T=T_TRAIN):
    target = Target.from_arrays(
        "B2", SECOND_VIRIAL, {"T_K": T}, values, u, inadequacy=Inadequacy(inadequacy)
    )
    settings = settings or InferenceSettings(chains=4, warmup=500, samples=500, prior_draws=50)
    return lj_problem([target], settings)


def u_of(y):
    """Uncertainty model like the argon data: 1 % with a 0.5 cm^3/mol floor."""
    return np.maximum(0.5, 0.01 * np.abs(y))


def test_recovers_known_parameters_from_noise_free_data():
    """Noise-free data: the posterior mean sits on the truth.

    Tolerance: 4 Monte Carlo standard errors of the mean (arviz mcse, from the
    ESS) plus 0.25 posterior sd for the shift of the mean away from the
    mode that the prior and the curvature of B2(epsilon, sigma) cause; with
    noise-free data the mode is the truth.
    """
    import arviz as az

    y = b2_true(T_TRAIN)
    run = calibrate(
        synthetic_problem(y, u_of(y)), write=False, progress=False, log=None, samples=1000
    )
    assert run.diagnostics.ok, run.diagnostics.warnings
    mcse = az.mcse(run.datatree, method="mean")
    for name, truth in (("epsilon", EPS_K), ("sigma", SIGMA_A)):
        x = run.datatree["posterior"][name].values
        tol = 4 * float(mcse[name].values) + 0.25 * x.std()
        assert abs(x.mean() - truth) < tol, (name, x.mean(), truth, tol)
    # and the posterior is informative: far narrower than the prior
    assert run.datatree["posterior"]["epsilon"].values.std() < 0.05 * 120 * 0.3


def test_interval_coverage_over_repeated_synthetic_data():
    """90 % equal-tailed intervals cover the truth in ~90 % of 40 data sets.

    Bounds: the number of covering intervals X ~ Binomial(40, 0.9) when the
    intervals are calibrated (2 parameters tested separately); a count of 28
    or fewer has probability P(X <= 28) = 0.0003 (scipy), so it fails. The
    lower bound is the 0.1 % quantile of that binomial. Data sets differ only
    in the noise draw; one compiled sampler serves them all.
    """
    n_sets = 40
    rng = np.random.default_rng(20261122)
    y0 = b2_true(T_TRAIN)
    u = u_of(y0)
    settings = InferenceSettings(chains=2, warmup=300, samples=400, prior_draws=10)
    cp = build_model(synthetic_problem(y0, u, settings=settings))
    sampler = Sampler(cp, chains=2, warmup=300, samples=400)
    covered = {"epsilon": 0, "sigma": 0}
    for k in range(n_sets):
        y = y0 + u * rng.standard_normal(len(y0))
        post, _ = sampler.run(jax.random.PRNGKey(k), cp.data("train", values=[y]))
        for name, truth in (("epsilon", EPS_K), ("sigma", SIGMA_A)):
            lo, hi = np.quantile(post[name], [0.05, 0.95])
            covered[name] += bool(lo <= truth <= hi)
    low = stats.binom.ppf(0.001, n_sets, 0.9)
    assert low == 29
    print(f"90 % interval coverage over {n_sets} synthetic data sets: {covered}")
    for name, c in covered.items():
        assert c >= low, (name, c, n_sets)


def test_negative_control_lj_cannot_fit_argon_over_85_to_700_K():
    """A model known to be wrong is flagged: LJ 12-6 on argon's B2 over 85-700 K.

    LJ is several percent too weak at low T (Tegeler-Span-Wagner data; see the
    README), far beyond the data's ~1 % uncertainty, so the inferred relative
    inadequacy scale tau must be clearly non-zero: its 5 % quantile above 1 %.
    Positive control: the same model on synthetic LJ data (within the model)
    gives a tau whose 95 % quantile is below 1 %.
    """
    p = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    t = p.targets[0]
    t.train = np.ones(t.n, bool)
    t.holdout = {}
    wrong = calibrate(p, write=False, progress=False, log=None, warmup=500, samples=500)
    tau_wrong = wrong.datatree["posterior"]["tau_B2"].values
    assert np.quantile(tau_wrong, 0.05) > 0.01

    T = t.env["T_K"]
    y = b2_true(T)
    ok = calibrate(
        synthetic_problem(y, t.uncertainties, inadequacy="inferred_scale", T=T),
        write=False,
        progress=False,
        log=None,
        warmup=500,
        samples=500,
    )
    assert np.quantile(ok.datatree["posterior"]["tau_B2"].values, 0.95) < 0.01


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory):
    p = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    out = tmp_path_factory.mktemp("run") / "posterior.nc"
    run = calibrate(p, out=out, progress=False, log=None, chains=2, warmup=200, samples=200)
    return p, run, out


def test_run_file_groups_dims_and_attributes(shipped_run):
    p, _, out = shipped_run
    dt = xr.open_datatree(out, engine="h5netcdf")
    for g in (
        "posterior",
        "prior",
        "posterior_predictive",
        "prior_predictive",
        "observed_data",
        "log_likelihood",
        "sample_stats",
        "constant_data",
        "predictions",
        "predictions_constant_data",
    ):
        assert g in dt.children, g
    t = p.targets[0]
    assert dt["posterior"]["epsilon"].dims == ("chain", "draw")
    assert dt["posterior"]["epsilon"].attrs["units"] == "K"
    assert dt["posterior_predictive"]["B2"].dims == ("chain", "draw", "T")
    np.testing.assert_array_equal(dt["observed_data"]["T"].values, t.env["T_K"][t.train])
    np.testing.assert_array_equal(dt["observed_data"]["B2"].values, t.values[t.train])
    ho = dt["predictions"]["B2"]
    assert ho.sizes["T"] == sum(int(m.sum()) for m in t.holdout.values())
    assert set(ho["holdout_group"].values) == {"low T", "high T"}
    assert dt["log_likelihood"]["B2"].shape == (2, 200, int(t.train.sum()))
    assert dt.attrs["problem_text"] == (ROOT / "models" / "argon_lj_b2.toml").read_text()
    assert dt.attrs["seed"] == 0
    assert "numpyro" in dt.attrs["package_versions"]
    assert dt.attrs["wall_time_s"] > 0


def test_log_likelihood_matches_normal_density(shipped_run):
    """The stored pointwise log-likelihood is N(y | mu, sqrt(u^2 + tau^2 mu^2)) (scipy).

    The relative inadequacy scale uses the model mean mu, not the observation
    (bayesff.model.noise_scale), so that no observed value sets a width.
    """
    p, run, _ = shipped_run
    dt = run.datatree
    t = p.targets[0]
    y, u = t.values[t.train], t.uncertainties[t.train]
    mu = dt["posterior_predictive"]["B2_model"].values[1, 7]
    tau = dt["posterior"]["tau_B2"].values[1, 7]
    ref = stats.norm.logpdf(y, mu, np.sqrt(u**2 + (tau * mu) ** 2))
    np.testing.assert_allclose(dt["log_likelihood"]["B2"].values[1, 7], ref, rtol=1e-10)
    # and the model mean is the forward model at that draw
    params = {
        "epsilon": to_internal(float(dt["posterior"]["epsilon"].values[1, 7]), "K", "energy"),
        "sigma": float(dt["posterior"]["sigma"].values[1, 7]),
    }
    np.testing.assert_allclose(
        mu, second_virial(LENNARD_JONES, params, t.env["T_K"][t.train]), rtol=1e-12
    )


def test_existing_run_is_not_overwritten(shipped_run):
    p, _, out = shipped_run
    before = out.read_bytes()
    with pytest.raises(RunExistsError, match=r"posterior\.nc: a run file is already there"):
        calibrate(p, out=out, progress=False, log=None)
    assert out.read_bytes() == before


def test_same_seed_same_draws():
    """Reproducibility: the same problem and seed give identical draws."""
    y = b2_true(T_TRAIN)
    s = InferenceSettings(chains=2, warmup=100, samples=100, prior_draws=10, seed=3)
    a = calibrate(synthetic_problem(y, u_of(y), settings=s), write=False, progress=False, log=None)
    b = calibrate(synthetic_problem(y, u_of(y), settings=s), write=False, progress=False, log=None)
    np.testing.assert_array_equal(
        a.datatree["posterior"]["epsilon"].values, b.datatree["posterior"]["epsilon"].values
    )
    assert not math.isnan(float(a.datatree["posterior"]["epsilon"].values.mean()))
    # thinning keeps every 4th draw of the same chains: the kept draws are a subset
    t = dataclasses.replace(s, thin=4)
    c = calibrate(synthetic_problem(y, u_of(y), settings=t), write=False, progress=False, log=None)
    full = a.datatree["posterior"]["epsilon"].values
    kept = c.datatree["posterior"]["epsilon"].values
    assert kept.shape == (2, 25)
    np.testing.assert_array_equal(kept, full[:, ::4])
    assert c.datatree["posterior_predictive"]["B2"].shape[:2] == (2, 25)


def test_resume_after_interruption(tmp_path):
    """A run killed after a checkpoint resumes and ends with all draws."""
    y = b2_true(T_TRAIN)
    s = InferenceSettings(chains=2, warmup=100, samples=200, prior_draws=10)
    out = tmp_path / "posterior.nc"

    class Killed(Exception):
        pass

    def log(msg):
        if msg.startswith("100 of 200"):
            raise Killed

    with pytest.raises(Killed):
        calibrate(
            synthetic_problem(y, u_of(y), settings=s), out=out, checkpoint_every=100, log=log
        )
    assert (tmp_path / "checkpoint.pkl").exists() and not out.exists()
    # resuming with other settings would mix two posteriors: refused
    with pytest.raises(BayesffError, match=r"checkpoint was written for a different problem"):
        calibrate(
            synthetic_problem(y, u_of(y), settings=s),
            out=out,
            seed=9,
            checkpoint_every=100,
            resume=True,
            log=None,
        )
    msgs = []
    run = calibrate(
        synthetic_problem(y, u_of(y), settings=s),
        out=out,
        checkpoint_every=100,
        resume=True,
        log=msgs.append,
    )
    assert any("resuming" in m and "100 of 200" in m for m in msgs)
    assert run.datatree["posterior"].sizes["draw"] == 200
    assert out.exists() and not (tmp_path / "checkpoint.pkl").exists()


def test_checkpoint_fingerprint_sees_data_and_settings():
    """Resuming must never mix two posteriors: the fingerprint changes with the data
    values, their uncertainties and the sampler settings (review finding)."""
    from dataclasses import replace

    from bayesff.inference import Checkpoint

    y = b2_true(T_TRAIN)
    base = Checkpoint("x", synthetic_problem(y, u_of(y)), 2, 10, 10, 0).fingerprint
    for p in (
        synthetic_problem(1.3 * y, u_of(y)),
        synthetic_problem(y, 5 * u_of(y)),
    ):
        assert Checkpoint("x", p, 2, 10, 10, 0).fingerprint != base
    p = synthetic_problem(y, u_of(y))
    p.inference = replace(p.inference, target_accept=0.99)
    assert Checkpoint("x", p, 2, 10, 10, 0).fingerprint != base


def test_prior_predictive_keeps_forward_model_failures_visible():
    """Where the forward model fails (kappa_T of the B2-truncated EOS is NaN when
    1 + 2 B2 rho <= 0, which wide priors reach at 150 K and rho = 0.003), the prior
    predictive holds NaN, not plausible-looking numbers (review finding)."""
    from bayesff.observables import ISOTHERMAL_COMPRESSIBILITY

    t = Target.from_arrays(
        "kappa",
        ISOTHERMAL_COMPRESSIBILITY,
        {"T_K": np.array([150.0, 500.0]), "rho_per_A3": np.array([0.003, 0.0002])},
        [0.3, 7.0],
        [0.003, 0.07],
    )
    s = InferenceSettings(chains=1, warmup=20, samples=20, prior_draws=400)
    run = calibrate(lj_problem([t], s), write=False, progress=False, log=None)
    pp = run.datatree["prior_predictive"]["kappa"].values[0]
    assert np.isnan(pp[:, 0]).any()  # failures at 150 K, 0.003 are visible
    assert not np.isnan(pp[:, 1]).any()  # the dilute state never fails


def test_laplace_start_finds_the_mode_and_its_curvature():
    """``laplace_start`` on noise-free synthetic B2: the mode is the truth and the
    Laplace sd matches the NUTS posterior sd.

    References: with noise-free data and flat-ish priors the mode sits on the
    truth (tolerance 0.2 posterior sd: the LogNormal prior and the Jacobian of
    the unconstrained transform move it slightly). The posterior of
    (epsilon, sigma) on 14 B2 points is close to Gaussian, so the delta-method sd
    from the inverse Hessian must agree with the sd of 2000 NUTS draws within
    25 % (the Monte Carlo error of an sd from ~500 effective draws is ~3 %; the
    rest is the curvature of B2 in (epsilon, sigma)).
    """
    from bayesff.inference import laplace_start

    y = b2_true(T_TRAIN)
    prob = synthetic_problem(y, u_of(y))
    cp = build_model(prob)
    start = laplace_start(cp, cp.data(), jax.random.PRNGKey(3), chains=4)
    ref = calibrate(prob, write=False, progress=False, log=None, samples=500)
    post = ref.datatree["posterior"]
    for name, truth in (("epsilon", EPS_K), ("sigma", SIGMA_A)):
        sd = float(post[name].std())
        assert abs(float(start.mode[name]) - truth) < 0.2 * sd, (name, start.mode[name])
    # unconstrained order is sorted by name: epsilon (log), sigma (logit of (3, 4))
    cov = start.inverse_mass_matrix
    assert cov.shape == (2, 2) and np.all(np.linalg.eigvalsh(cov) > 0)
    sd_eps = float(start.mode["epsilon"]) * math.sqrt(cov[0, 0])  # d eps = eps d log eps
    s01 = (float(start.mode["sigma"]) - 3.0) / 1.0
    sd_sig = s01 * (1.0 - s01) * math.sqrt(cov[1, 1])  # logit Jacobian on (3, 4)
    assert sd_eps == pytest.approx(float(post["epsilon"].std()), rel=0.25)
    assert sd_sig == pytest.approx(float(post["sigma"].std()), rel=0.25)
    # one start per chain, unconstrained, dispersed but all with a finite density
    assert start.init_params["epsilon"].shape == (4,)
    assert np.unique(np.asarray(start.init_params["epsilon"])).size == 4
    # one chain: no chain axis (numpyro's convention for a single chain)
    one = laplace_start(cp, cp.data(), jax.random.PRNGKey(3), chains=1)
    assert np.shape(one.init_params["epsilon"]) == ()


def test_laplace_init_gives_the_same_posterior():
    """``[inference] init = "laplace"``: the same posterior as the default start.

    Tolerance: 5 Monte Carlo standard errors of the difference of the two means
    (each mcse from arviz; independent runs). Also records the setting in the run.
    """
    import arviz as az

    y = b2_true(T_TRAIN)
    base = InferenceSettings(chains=4, warmup=300, samples=500, prior_draws=20)
    runs = {
        init: calibrate(
            synthetic_problem(y, u_of(y), settings=dataclasses.replace(base, init=init)),
            write=False,
            progress=False,
            log=None,
        )
        for init in ("central", "laplace")
    }
    assert runs["laplace"].diagnostics.ok, runs["laplace"].diagnostics.warnings
    assert runs["laplace"].datatree.attrs["init"] == "laplace"
    assert "epsilon" in runs["laplace"].datatree.attrs["init_mode"]
    for name in ("epsilon", "sigma"):
        m = {k: float(r.datatree["posterior"][name].mean()) for k, r in runs.items()}
        se = {k: float(az.mcse(r.datatree, method="mean")[name]) for k, r in runs.items()}
        tol = 5 * math.hypot(se["central"], se["laplace"])
        assert abs(m["central"] - m["laplace"]) < tol, (name, m, tol)


def test_unknown_init_is_rejected():
    with pytest.raises(Exception, match="init must be one of 'central', 'laplace', got 'map'"):
        InferenceSettings(init="map")
