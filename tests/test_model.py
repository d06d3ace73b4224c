"""Model layer: inadequacy options and predicted-only targets, on synthetic data.

Synthetic B2 data come from LJ 12-6 (epsilon/k = 119.8 K, sigma = 3.405
angstrom); they are not measurements.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff.inference import calibrate
from bayesff.observables import LOW_DENSITY_PRESSURE, SECOND_VIRIAL, second_virial
from bayesff.potentials import LENNARD_JONES
from bayesff.problem import InferenceSettings
from bayesff.targets import Inadequacy, Target
from bayesff.units import to_internal

from support import lj_problem

pytestmark = pytest.mark.slow

T = np.linspace(110.0, 500.0, 12)


def lj_b2(T, eps_K=119.8, sigma=3.405):
    params = {"epsilon": to_internal(np.asarray(eps_K), "K", "energy"), "sigma": sigma}
    return np.asarray(second_virial(LENNARD_JONES, params, np.asarray(T)))


def problem(targets, **settings):
    s = {"chains": 2, "warmup": 300, "samples": 300, "prior_draws": 20, "target_accept": 0.9}
    s.update(settings)
    return lj_problem(targets, InferenceSettings(**s), name="model_test")


def b2_target(y, inadequacy=None, T=T, holdout=None):
    t = Target.from_arrays(
        "B2",
        SECOND_VIRIAL,
        {"T_K": T},
        y,
        np.maximum(0.3, 0.005 * np.abs(y)),
        inadequacy=inadequacy,
    )
    if holdout is not None:
        t = t.replace(train=~holdout, holdout={**t.holdout, "held out": holdout})
    return t


def test_predicted_only_target_is_not_in_the_likelihood():
    """A target with no training rows appears only in `predictions`."""
    y = lj_b2(T)
    rho = np.full(4, 1e-4)
    Tp = np.array([150.0, 200.0, 300.0, 400.0])
    p_true = np.asarray(
        __import__("bayesff.observables", fromlist=["x"]).low_density_pressure(
            LENNARD_JONES, {"epsilon": to_internal(119.8, "K", "energy"), "sigma": 3.405}, Tp, rho
        )
    )
    pt = Target.from_arrays(
        "p",
        LOW_DENSITY_PRESSURE,
        {"T_K": Tp, "rho_per_A3": rho},
        p_true,
        0.01 * p_true,
        train=np.zeros(4, bool),
    )
    pt = pt.replace(holdout={**pt.holdout, "p": np.ones(4, bool)})
    run = calibrate(problem([b2_target(y), pt]), progress=False, log=None)
    dt = run.datatree
    assert "p" not in dt["observed_data"] and "p" not in dt["log_likelihood"]
    # one varying environment column (T): the row dimension is named after it (docs/runfile.md)
    assert dt["predictions"]["p"].dims == ("chain", "draw", "T")
    assert dt["predictions"]["p"].sizes["T"] == 4
    # the true model predicts the pressure within 1 % (B2 pins epsilon and sigma)
    pm = dt["predictions"]["p_model"].values.reshape(-1, 4).mean(0)
    np.testing.assert_allclose(pm, p_true, rtol=1e-2)


def test_hierarchical_spread_detects_a_drifting_epsilon():
    """omega (between-band spread of epsilon) is a measure of non-transferability.

    Positive control: data made with epsilon offset by +3, -3, +3, -3 % in the
    four temperature bands (3 rows each) need omega clearly above zero (5 %
    quantile > 0.01). A *smooth* drift of epsilon with T would not do: B2(T)
    absorbs most of it into a different (epsilon, sigma) pair (measured: a
    +/-4 % linear drift gives omega ~ 0.004), which is why docs/inadequacy.md
    calls omega a measure of band-to-band inconsistency. Negative control:
    data from one epsilon give omega whose 95 % quantile is below 0.02.
    Thresholds: the offsets' spread is 3 %; the data's 0.5 % uncertainty
    resolves band offsets of ~0.5 %.
    """
    inad = Inadequacy("hierarchical", prior_scale=0.05, bands=4)
    offsets = np.repeat([0.03, -0.03, 0.03, -0.03], 3)  # T is sorted: 4 bands of 3
    eps = 119.8 * (1 + offsets)
    y_drift = np.array([lj_b2([Ti], e)[0] for Ti, e in zip(T, eps, strict=True)])
    run = calibrate(
        problem([b2_target(y_drift, inad)], target_accept=0.95),
        progress=False,
        log=None,
    )
    omega = run.datatree["posterior"]["omega_epsilon_B2"].values
    assert np.quantile(omega, 0.05) > 0.01
    run0 = calibrate(
        problem([b2_target(lj_b2(T), inad)], target_accept=0.95),
        progress=False,
        log=None,
    )
    omega0 = run0.datatree["posterior"]["omega_epsilon_B2"].values
    assert np.quantile(omega0, 0.95) < 0.02
    assert run0.datatree["posterior"]["eta_epsilon_B2"].shape[-1] == 4


def test_gp_intervals_widen_away_from_the_training_data():
    """HSGP discrepancy: held-out predictive sd grows with distance from training.

    Train on 110-300 K, hold out 350-700 K; the GP reverts to its prior away
    from the data, so the relative predictive width at 700 K exceeds that at
    the training end (300 K) and that of the inferred-scale model at 700 K.
    """
    Tall = np.linspace(110.0, 700.0, 16)
    y = lj_b2(Tall)
    hold = Tall > 320.0
    gp = calibrate(
        problem(
            [
                b2_target(
                    y,
                    Inadequacy("gp", form="absolute", prior_scale=2.0, gp_basis=10),
                    T=Tall,
                    holdout=hold,
                )
            ],
            target_accept=0.95,
        ),
        progress=False,
        log=None,
    )
    sd_ho = gp.datatree["predictions"]["B2_model"].std(("chain", "draw")).values
    sd_tr = gp.datatree["posterior_predictive"]["B2_model"].std(("chain", "draw")).values
    assert sd_ho[-1] > 3 * sd_tr[-1]
    assert np.all(np.diff(sd_ho[-4:]) > 0)  # monotone growth into the far region


def test_folded_inadequacy_scale_samples_its_half_normal_prior():
    """The inferred scale tau is sampled on the whole line as tau = |x| (unit Jacobian).
    With nothing informative about it, NUTS must return its HalfNormal prior.

    Reference: HalfNormal(s) quantiles q_p = s * sqrt(2) * erfinv(p) (closed form); a
    KS test against that CDF at the 0.1 % level on ~1000 effective draws (a wrong
    Jacobian, e.g. exp's, shifts the median by a factor ~2 and fails it at any seed).
    """
    import jax
    import numpyro
    from numpyro.distributions.transforms import biject_to
    from numpyro.infer import MCMC, NUTS
    from scipy import stats

    from bayesff.model import _FoldedHalfNormal

    d = _FoldedHalfNormal(0.05)
    t = biject_to(d.support)
    x = np.array([-0.3, -0.01, 0.0, 0.02])
    np.testing.assert_allclose(t(x), np.abs(x))  # tau = |x| ...
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)), 0.0)  # ... with unit Jacobian
    assert float(t.inv(0.02)) == pytest.approx(0.02)  # a start tau maps to x = tau

    def model():
        numpyro.sample("tau", _FoldedHalfNormal(0.05))

    mcmc = MCMC(NUTS(model), num_warmup=500, num_samples=2000, progress_bar=False)
    mcmc.run(jax.random.PRNGKey(1))
    tau = np.asarray(mcmc.get_samples()["tau"])
    assert tau.min() >= 0.0
    assert stats.kstest(tau, stats.halfnorm(scale=0.05).cdf).pvalue > 1e-3


def test_folded_tau_recovers_a_known_relative_inadequacy():
    """Synthetic B2 with a known 4 % relative scatter (LJ truth times 1 + 0.04 z at 40
    temperatures, 110-350 K, z standardised to mean 0 and sd 1 so that the data hold
    exactly that scatter; data uncertainty 0.1 %), started at the mode: the posterior of
    tau must cover 0.04 in its 90 % interval and its median must lie within 15 % of it
    (40 points give tau to about +-11 %: the chi distribution with 38 degrees of
    freedom; measured medians 0.041-0.042 over seeds 0-2)."""
    t40 = np.linspace(110.0, 350.0, 40)
    z = np.random.default_rng(7).standard_normal(t40.size)
    z = (z - z.mean()) / z.std()
    y = lj_b2(t40) * (1.0 + 0.04 * z)
    inad = Inadequacy(kind="inferred_scale", form="relative", prior_scale=0.05)
    target = Target.from_arrays(
        "B2", SECOND_VIRIAL, {"T_K": t40}, y, 1e-3 * np.abs(y), inadequacy=inad
    )
    run = calibrate(
        problem([target], warmup=500, samples=1000, init="laplace"), progress=False, log=None
    )
    tau = run.datatree["posterior"]["tau_B2"].values.ravel()
    lo, med, hi = np.quantile(tau, [0.05, 0.5, 0.95])
    assert lo < 0.04 < hi
    assert abs(med - 0.04) < 0.15 * 0.04
    assert run.diagnostics.rhat["tau_B2"] < 1.02


def test_numpyro_works_when_arviz_is_imported_first():
    """A user's script that imports ArviZ before bayesff: arviz_base lazy-loads numpyro,
    and CPython 3.12.1's LazyLoader then leaves numpyro.distributions without its
    'distribution' submodule, on which numpyro.factor (the model's validity factor)
    fails. Run in a new process, where nothing has imported numpyro yet."""
    import subprocess
    import sys

    code = (
        "import arviz\n"
        "import bayesff.report\n"
        "import bayesff.model\n"
        "import numpyro\n"
        "from numpyro.handlers import seed, trace\n"
        "def m():\n"
        "    numpyro.factor('f', 0.0)\n"
        "print(sorted(trace(seed(m, 0)).get_trace()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("['f']")
