r"""The B2-matching factor s(T, r_c) on epsilon between cut-off conventions.

s solves :math:`B_2^{cut}(T; s\varepsilon) = B_2^{full}(T; \varepsilon)`. References
used below, each recomputed inside the test that needs it:

* An independent root: ``scipy.optimize.brentq`` on B2 from the defining
  integral :math:`B_2 = -2\pi N_A \int_0^\infty (e^{-u/RT} - 1) r^2\,dr` by
  adaptive ``scipy.integrate.quad`` (neither the Newton solver nor the
  Gauss-Legendre rule under test).
* The leading order in (sigma/r_c)^3 for LJ truncated at r_c: the removed tail
  changes B2 by :math:`\Delta B_2 \approx 2\pi N_A \int_{r_c}^\infty (u/RT) r^2 dr
  = -\frac{8\pi N_A}{3}\frac{\varepsilon}{RT}\frac{\sigma^6}{r_c^3}`, and
  :math:`s - 1 \approx -\Delta B_2 / (\partial B_2/\partial\ln\varepsilon)` with
  :math:`\partial B_2/\partial \ln\varepsilon = -b_0 T^* dB_2^*/dT^*` from the
  exact LJ series of Hirschfelder, Curtiss and Bird (1954), eq. 3.6-8.
* Pointwise ordering of the conventions (Allen and Tildesley 2017, section
  2.8): for r_c beyond the LJ minimum, u(r_c) < 0 and u'(r_c) > 0, so
  u_truncated <= u_shifted <= u_force_shifted everywhere; a larger u gives a
  smaller Mayer function and a larger (less negative) B2 at every epsilon,
  so more epsilon is needed to restore the full B2: s_t < s_s < s_fs.
* How much more, at large r_c and high T (e^{-u/kT} ~ 1 inside r_c, first
  order in u): truncation removes :math:`\int_{r_c}^\infty u\,r^2 dr
  = -\tfrac{4}{3}\varepsilon\sigma^6/r_c^3`; the shift adds
  :math:`-u(r_c) r_c^3/3`, the same amount again; the force shift adds
  :math:`u'(r_c) r_c^4/12 = 2\varepsilon\sigma^6/r_c^3`, 1.5 times it. So
  (s - 1) of shifted : force-shifted : truncated -> 2 : 3.5 : 1.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import gammaln

from bayesff.observables import get_observable
from bayesff.observables.conventions import epsilon_scale_factor, matched_predict
from bayesff.observables.virial import second_virial
from bayesff.potentials import LENNARD_JONES as LJ
from bayesff.potentials import force_shifted, shifted, truncated
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

N_A = 6.02214076e23  # 1/mol, exact (2019 SI), typed here on purpose
EPS_K = 119.8  # argon LJ, epsilon/k_B in K (Michels et al. 1949)
SIGMA = 3.405  # angstrom
PARAMS = {"epsilon": EPS_K * R, "sigma": SIGMA}
B0 = 2.0 * math.pi / 3.0 * N_A * SIGMA**3 * 1e-24  # cm^3/mol
T_STARS = (0.5, 1.0, 2.0, 3.4, 5.0, 10.0, 20.0)
SCHEMES = {"truncated": truncated, "shifted": shifted, "force_shifted": force_shifted}


def _series_dT(t_star, terms=80):
    """d B2*/d T* of LJ by the exact series (HCB 1954, eq. 3.6-8), term by term."""
    j = np.arange(terms)[:, None]
    t = np.atleast_1d(np.asarray(t_star, float))[None, :]
    sign = np.sign(np.vectorize(math.gamma)((2.0 * j - 1.0) / 4.0))
    log_mag = (
        (j + 0.5) * np.log(2.0)
        - np.log(4.0)
        - gammaln(j + 1.0)
        + gammaln((2.0 * j - 1.0) / 4.0)
        - (2.0 * j + 1.0) / 4.0 * np.log(t)
    )
    terms_ = -sign * np.exp(log_mag)
    return (terms_ * (-(2.0 * j + 1.0) / 4.0) / t).sum(axis=0)


def _quad_b2(energy, T, r_c):
    """B2 in cm^3/mol by adaptive quad, split at the features of u."""
    kT = R * T

    def f(r):
        return -2.0 * math.pi * math.expm1(-energy(r) / kT) * r * r

    edges = [0.0, 0.8 * SIGMA, SIGMA, 2 ** (1 / 6) * SIGMA, 1.5 * SIGMA, r_c]
    total = sum(
        quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0] for a, b in itertools.pairwise(edges)
    )
    total += quad(f, r_c, np.inf, epsabs=0.0, epsrel=1e-13, limit=200)[0]
    return total * N_A * 1e-24


def _lj(r, eps):
    s6 = (SIGMA / r) ** 6
    return 4.0 * eps * (s6 * s6 - s6)


@pytest.mark.parametrize(
    ("scheme", "rc", "t_star"), [("truncated", 2.5, 1.0), ("shifted", 3.0, 2.0)]
)
def test_s_against_independent_root(scheme, rc, t_star):
    """s against brentq on quad-B2 (reference: independent root and integral)."""
    r_c = rc * SIGMA
    T = t_star * EPS_K
    eps = PARAMS["epsilon"]

    def u_cut(r, e):
        if r >= r_c:
            return 0.0
        return _lj(r, e) - (_lj(r_c, e) if scheme == "shifted" else 0.0)

    target = _quad_b2(lambda r: _lj(r, eps), T, r_c)
    ref = brentq(
        lambda s: _quad_b2(lambda r: u_cut(r, s * eps), T, r_c) - target, 1.0, 1.5, xtol=1e-14
    )
    s = float(epsilon_scale_factor(LJ, SCHEMES[scheme](LJ, r_c), PARAMS, T))
    assert s == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("rc", [2.5, 4.0])
def test_residual_after_solve(scheme, rc):
    """B2_cut(s eps) = B2_full(eps) to 1e-10 of |B2| + b0 (reference: the defining equation)."""
    cut = SCHEMES[scheme](LJ, rc * SIGMA)
    T = jnp.asarray(T_STARS) * EPS_K
    s = epsilon_scale_factor(LJ, cut, PARAMS, T)
    full = second_virial(LJ, PARAMS, T)
    matched = jax.vmap(
        lambda si, t: second_virial(cut, {**PARAMS, "epsilon": si * PARAMS["epsilon"]}, t)
    )(s, T)
    np.testing.assert_array_less(np.abs(matched - full), 1e-10 * (np.abs(full) + B0))


@pytest.mark.parametrize("rc", [2.5, 3.0, 4.0, 6.0, 10.0])
def test_s_exceeds_one_for_truncated_lj(rc):
    """s > 1 at every finite r_c (reference: truncation raises u beyond r_c, u < 0 there)."""
    s = epsilon_scale_factor(LJ, truncated(LJ, rc * SIGMA), PARAMS, jnp.asarray(T_STARS) * EPS_K)
    assert np.all(np.asarray(s) > 1.0)


@pytest.mark.parametrize("t_star", [0.5, 1.0, 2.0, 5.0])
def test_s_tends_to_one_as_sigma_over_rc_cubed(t_star):
    """s -> 1 monotonically in r_c, with (s - 1) -> the leading (sigma/r_c)^3 term.

    Reference: the leading-order formula of the module docstring, with
    dB2/d ln eps from the exact LJ series. Its relative error is O(s - 1)
    (the next order of the expansion in the removed tail), which the test
    checks shrinks with r_c: < 5 % at 4 sigma, < 1 % at 10 sigma.
    """
    T = t_star * EPS_K
    rcs = np.array([2.5, 4.0, 6.0, 10.0])
    s = np.array(
        [float(epsilon_scale_factor(LJ, truncated(LJ, rc * SIGMA), PARAMS, T)) for rc in rcs]
    )
    assert np.all(np.diff(s) < 0) and np.all(s > 1.0)
    dB2_dlneps = -B0 * t_star * _series_dT(t_star)[0]
    delta_b2 = -8.0 * math.pi / 3.0 * N_A * 1e-24 / t_star * SIGMA**3 / rcs**3
    lead = -delta_b2 / (-dB2_dlneps)
    rel = np.abs((s - 1.0) / lead - 1.0)
    assert np.all(np.diff(rel) < 0)
    assert rel[1] < 0.05 and rel[-1] < 0.01


def test_scheme_ordering():
    """s_truncated < s_shifted < s_force_shifted (reference: pointwise ordering of u)."""
    r_c = 2.5 * SIGMA
    r = jnp.linspace(0.9 * SIGMA, r_c * 0.999, 200)
    u = {k: w(LJ, r_c).energy(r, **PARAMS) for k, w in SCHEMES.items()}
    assert np.all(u["truncated"] <= u["shifted"]) and np.all(u["shifted"] <= u["force_shifted"])
    T = jnp.asarray(T_STARS) * EPS_K
    s = {
        k: np.asarray(epsilon_scale_factor(LJ, w(LJ, r_c), PARAMS, T)) for k, w in SCHEMES.items()
    }
    assert np.all(1.0 < s["truncated"])
    assert np.all(s["truncated"] < s["shifted"]) and np.all(s["shifted"] < s["force_shifted"])


def test_scheme_ratios_at_large_cutoff():
    """(s-1) ratios shifted/truncated -> 2 and force-shifted/truncated -> 3.5.

    Reference: first-order removed attraction of each scheme (module
    docstring); at r_c = 10 sigma and T* = 5 the neglected terms (r^-12 part,
    Boltzmann weight inside r_c) are below 1 %.
    """
    r_c = 10.0 * SIGMA
    T = 5.0 * EPS_K
    d = {
        k: float(epsilon_scale_factor(LJ, w(LJ, r_c), PARAMS, T)) - 1.0 for k, w in SCHEMES.items()
    }
    assert d["shifted"] / d["truncated"] == pytest.approx(2.0, rel=0.01)
    assert d["force_shifted"] / d["truncated"] == pytest.approx(3.5, rel=0.01)


@pytest.mark.parametrize("name", ["epsilon", "sigma"])
def test_gradient_against_central_differences(name):
    """Implicit-function derivative against central differences of the solver itself."""
    cut = truncated(LJ, 8.5)
    T = jnp.asarray([100.0, 400.0, 2000.0])

    def s_of(v):
        return epsilon_scale_factor(LJ, cut, {**PARAMS, name: v}, T)

    v0 = PARAMS[name]
    h = 1e-5 * v0
    fd = (s_of(v0 + h) - s_of(v0 - h)) / (2 * h)
    fwd = jax.jacfwd(s_of)(v0)
    rev = jax.jacrev(s_of)(v0)
    np.testing.assert_allclose(fwd, fd, rtol=1e-6)
    np.testing.assert_allclose(rev, fwd, rtol=1e-12)


def test_gradient_in_temperature():
    """ds/dT by the implicit rule against central differences in T."""
    cut = shifted(LJ, 3.0 * SIGMA)
    T0 = 150.0
    g = jax.grad(lambda t: epsilon_scale_factor(LJ, cut, PARAMS, t))(T0)
    fd = (
        epsilon_scale_factor(LJ, cut, PARAMS, T0 + 1e-3)
        - epsilon_scale_factor(LJ, cut, PARAMS, T0 - 1e-3)
    ) / 2e-3
    assert float(g) == pytest.approx(float(fd), rel=1e-6)


def test_jit_and_vmap_match_loop():
    """vmap over parameter draws and jit agree with a Python loop."""
    cut = truncated(LJ, 8.5)
    T = jnp.asarray([90.0, 300.0, 700.0])
    eps = jnp.asarray([110.0, 120.0, 130.0]) * R
    sig = jnp.asarray([3.3, 3.4, 3.5])
    f = jax.jit(
        jax.vmap(lambda e, s: epsilon_scale_factor(LJ, cut, {"epsilon": e, "sigma": s}, T))
    )
    loop = np.stack(
        [
            np.asarray(epsilon_scale_factor(LJ, cut, {"epsilon": e, "sigma": s}, T))
            for e, s in zip(eps, sig, strict=True)
        ]
    )
    np.testing.assert_allclose(np.asarray(f(eps, sig)), loop, rtol=1e-13)
    assert epsilon_scale_factor(LJ, cut, PARAMS, 300.0).shape == ()


def test_no_solution_is_nan():
    """Mapping cut -> full where the cut B2 exceeds the full LJ's maximum: NaN, not a number.

    Reference: the maximum of the full-LJ B2 over T (from the same quadrature
    on a dense grid; the exact series gives 26.32 cm^3/mol at T* = 25.2).
    """
    cut = truncated(LJ, 2.5 * SIGMA)
    T = 20.0 * EPS_K
    b2_max = float(jnp.max(second_virial(LJ, PARAMS, jnp.geomspace(5.0, 100.0, 400) * EPS_K)))
    assert float(second_virial(cut, PARAMS, T)) > b2_max
    s = epsilon_scale_factor(cut, LJ, PARAMS, jnp.asarray([T, EPS_K]))
    assert np.isnan(s[0]) and 0.9 < float(s[1]) < 1.0


def test_matched_predict_reproduces_source_convention():
    """T-dependent repair: B2 under the full LJ equals B2 under the truncated one (by design)."""
    cut = truncated(LJ, 8.5)
    env = {"T_K": jnp.asarray([85.0, 150.0, 400.0, 700.0])}
    predict = matched_predict(get_observable("second_virial"), cut, LJ)
    source = second_virial(cut, PARAMS, env["T_K"])
    np.testing.assert_allclose(predict(PARAMS, env), source, rtol=0, atol=1e-9 * B0)
    # the unrepaired full-LJ B2 is more negative (truncation removed attraction)
    assert np.all(second_virial(LJ, PARAMS, env["T_K"]) < source)
    # differentiable: d/d eps of the repaired prediction equals that of the source
    g = jax.grad(lambda e: predict({**PARAMS, "epsilon": e}, env).sum())(PARAMS["epsilon"])
    g0 = jax.grad(lambda e: second_virial(cut, {**PARAMS, "epsilon": e}, env["T_K"]).sum())(
        PARAMS["epsilon"]
    )
    assert float(g) == pytest.approx(float(g0), rel=1e-8)


def test_matched_predict_reference_temperature():
    """One s at reference_T_K: exact there, an approximation elsewhere (s depends on T)."""
    cut = truncated(LJ, 8.5)
    T = jnp.asarray([100.0, 300.0, 700.0])
    predict = matched_predict("second_virial", cut, LJ, reference_T_K=300.0)
    source = second_virial(cut, PARAMS, T)
    pred = predict(PARAMS, {"T_K": T})
    assert abs(float(pred[1] - source[1])) < 1e-9 * B0
    s = epsilon_scale_factor(cut, LJ, PARAMS, T)
    assert float(s[0]) != pytest.approx(float(s[2]), rel=1e-3)
    assert abs(float(pred[0] - source[0])) > 1e-3 * B0


def test_matched_predict_rejects_other_observables():
    with pytest.raises(ValueError, match="second_virial"):
        matched_predict("isothermal_compressibility", truncated(LJ, 8.5), LJ)
    with pytest.raises(ValueError, match="reference_T_K"):
        matched_predict("second_virial", truncated(LJ, 8.5), LJ, reference_T_K=-1.0)
