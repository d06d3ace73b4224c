"""Error models of curves (issue 18): the likelihood itself, grid refinement and coverage.

The synthetic curves are second virial coefficients B2(T) of a Lennard-Jones fluid
(bayesff's registered ``second_virial`` forward model, exact to 1e-11) at T = 110-500 K,
with errors made of a smooth correlated part (a Gaussian process with the Matern-5/2
kernel, amplitude ``A`` cm^3/mol and length ``ELL`` on the temperature scaled to [0, 1])
plus independent noise of standard deviation ``W`` (the stated per-point uncertainty).
That is the situation of a measured or simulated curve whose neighbouring points share
their errors: refining the grid adds points but not information.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from support import lj_problem

#: Synthetic noise: white part (the stated u), correlated amplitude and length (scaled T).
W, A, ELL = 0.5, 2.0, 0.15
#: Truth of the synthetic curves: the classic LJ argon parameters (Rowley, Nicholson and
#: Parsonage 1975; any values inside the prior would do).
TRUTH = {"epsilon": 120.0, "sigma": 3.4}
T_RANGE = (110.0, 500.0)


def matern52(x1, x2, amplitude, length):
    """Matern-5/2 covariance (Rasmussen and Williams 2006, eq. 4.17), written out here so
    that the model's kernel (tinygp) is checked against an independent formula."""
    r = np.sqrt(5.0) * np.abs(np.subtract.outer(x1, x2)) / length
    return amplitude**2 * (1.0 + r + r**2 / 3.0) * np.exp(-r)


def b2(temps, epsilon=TRUTH["epsilon"], sigma=TRUTH["sigma"]):
    """LJ B2 (cm^3/mol) by bayesff's forward model; epsilon in K, sigma in angstrom."""
    from bayesff.observables import get_observable
    from bayesff.potentials import get_potential
    from bayesff.units import to_internal

    predict = get_observable("second_virial").build(get_potential("lennard_jones"))
    params = {"epsilon": to_internal(epsilon, "K", "energy"), "sigma": sigma}
    return np.asarray(predict(params, {"T_K": np.asarray(temps, float)}))


def scaled(temps):
    t = np.asarray(temps, float)
    return (t - t.min()) / (t.max() - t.min())


def curve_target(temps, values, kind, *, cov=None, amplitude_scale=A, length_scale=ELL):
    """A B2 target with the given error model (``cov``: the covariance model's matrix)."""
    from bayesff.targets import ErrorModel, Target

    t = Target.from_arrays("B2", "second_virial", {"T_K": temps}, values, W)
    if kind == "covariance":
        t.error_model = ErrorModel(kind="covariance", data="synthetic (known covariance)")
        t.covariance = np.asarray(cov, float)
    elif kind == "discrepancy_gp":
        t.error_model = ErrorModel(
            kind="discrepancy_gp", amplitude_scale=amplitude_scale, length_scale=length_scale
        )
    return t


def settings(**kw):
    from bayesff.problem import InferenceSettings

    base = dict(chains=2, warmup=400, samples=600, seed=0, prior_draws=4)
    return InferenceSettings(**{**base, **kw})


# ----------------------------------------------------------------------- the likelihood


@pytest.mark.parametrize(
    ("kind", "n", "pad"),
    [
        ("covariance", 20, 0),
        ("covariance", 20, 5),
        ("discrepancy_gp", 30, 0),
        ("discrepancy_gp", 30, 6),
        ("discrepancy_gp", 150, 0),  # tinygp's quasiseparable solver (n > QUASISEP_MIN_ROWS)
        ("discrepancy_gp", 150, 9),
    ],
)
def test_curve_log_likelihood_is_the_multivariate_normal(kind, n, pad):
    """The stored log-likelihood of a curve is log N(y; f, C) for the whole curve.

    Reference: scipy.stats.multivariate_normal.logpdf with C built here from the
    Matern-5/2 formula (R&W eq. 4.17) plus diag(u^2) (discrepancy_gp), or the given
    covariance plus the inferred scale tau^2 on the diagonal (covariance with
    ``inferred_scale``, absolute). Rows are given in shuffled order (the quasiseparable
    solver sorts them) and, with ``pad``, padded as in a batch of ragged problems (the
    padded rows must leave exactly -log(2 pi)/2 each, which assemble removes).
    Tolerance 1e-9 relative: both sides are double-precision Cholesky factorisations.
    """
    from numpyro.infer.util import log_likelihood

    from bayesff.model import QUASISEP_MIN_ROWS, arrays, model_of, pad_arrays, structure_of
    from bayesff.targets import Inadequacy

    assert (n > QUASISEP_MIN_ROWS) == (n == 150)
    rng = np.random.default_rng(n + pad)
    temps = rng.permutation(np.linspace(*T_RANGE, n))
    u = 0.3 + rng.random(n)
    y = b2(temps) + 3.0 * rng.standard_normal(n)
    x = scaled(temps)
    cov = matern52(x, x, 1.7, 0.2) + np.diag(u**2)
    t = curve_target(temps, y, kind, cov=cov)
    t.uncertainties = u
    if kind == "covariance":
        t.inadequacy = Inadequacy(kind="inferred_scale", form="absolute", prior_scale=1.0)
    problem = lj_problem([t], settings())
    eps, sig, amp, ell, tau = 117.0, 3.43, 2.3, 0.12, 0.8
    latent = {"epsilon": np.array([eps]), "sigma": np.array([sig])}
    if kind == "discrepancy_gp":
        latent |= {"delta_amplitude_B2": np.array([amp]), "delta_length_B2": np.array([ell])}
        ref_cov = matern52(x, x, amp, ell) + np.diag(u**2)
    else:
        latent |= {"tau_B2": np.array([tau])}
        ref_cov = cov + tau**2 * np.eye(n)
    ref = stats.multivariate_normal(b2(temps, eps, sig), ref_cov).logpdf(y)
    structure = structure_of(problem, {"B2": n + pad})
    data = pad_arrays(arrays(problem), {"B2": n + pad})
    got = float(log_likelihood(model_of(structure), latent, data)["B2"][0])
    got += 0.5 * np.log(2 * np.pi) * pad  # what bayesff.inference.assemble removes
    assert got == pytest.approx(ref, rel=1e-9)


def test_block_bootstrap_keeps_a_trajectory_s_correlation():
    """bootstrap_covariance on a correlated trajectory: blocks recover the variance of the
    mean, single draws underestimate it (negative control).

    Reference: an AR(1) series x_k = phi x_(k-1) + e_k, e_k ~ N(0, 1), has Var(mean of R)
    = (1 + phi) / ((1 - phi) (1 - phi^2) R) for R >> 1/(1 - phi) (Priestley 1981,
    eq. 5.3.33). With phi = 0.9: block_length 1 gives (1 - phi)/(1 + phi) = 0.053 of it.
    Tolerance: one trajectory of 10,000 holds ~100 blocks of 100, so the estimate has
    ~15 % relative sd (sqrt(2/100)) and the moving-block bias is ~ -10 % (Kuensch 1989);
    [0.6, 1.4] is ~2.5 sd either side. The negative control must stay below 0.2.
    """
    from bayesff.targets import bootstrap_covariance

    phi, r = 0.9, 10_000
    rng = np.random.default_rng(4)
    e = rng.standard_normal((r, 2))
    x = np.empty_like(e)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for k in range(1, r):
        x[k] = phi * x[k - 1] + e[k]
    exact = (1 + phi) / ((1 - phi) * (1 - phi**2) * r)
    blocks = bootstrap_covariance(x, block_length=100, n_boot=400, seed=1)
    single = bootstrap_covariance(x, block_length=1, n_boot=400, seed=1)
    assert blocks.shape == (2, 2)
    assert 0.6 < blocks[0, 0] / exact < 1.4
    assert 0.6 < blocks[1, 1] / exact < 1.4
    assert single[0, 0] / exact < 0.2


def test_bootstrap_of_independent_replicates_is_covariance_over_r():
    """Independent replicate curves (block_length 1): the covariance of their mean is C/R.

    Reference: the replicates' own sample covariance over R (numpy.cov), which the
    bootstrap estimates; tolerance 15 %: 2,000 resamples give a variance to
    sqrt(2/2000) = 3 % and a covariance entry to ~4 %.
    """
    from bayesff.targets import bootstrap_covariance

    rng = np.random.default_rng(5)
    x = np.linspace(0, 1, 6)
    c = matern52(x, x, 1.0, 0.3) + 0.01 * np.eye(6)
    curves = rng.multivariate_normal(np.zeros(6), c, size=300)
    got = bootstrap_covariance(curves, block_length=1, n_boot=2000, seed=0)
    ref = np.cov(curves, rowvar=False) / 300
    np.testing.assert_allclose(got, ref, rtol=0.15, atol=0.15 * ref[0, 0] * 0.1)
