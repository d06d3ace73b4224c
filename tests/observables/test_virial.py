r"""Second virial coefficient and low-density EOS against exact results.

References used below, each recomputed inside the test that needs it:

* Lennard-Jones: the exact series of Hirschfelder, Curtiss and Bird,
  *Molecular Theory of Gases and Liquids* (Wiley, 1954), eq. 3.6-8,

  .. math::

      B_2^* = \frac{B_2}{b_0} = -\sum_{j \ge 0} \frac{2^{j + 1/2}}{4\, j!}
              \Gamma\!\left(\frac{2j - 1}{4}\right) T^{*\,-(2j+1)/4},
      \qquad b_0 = \frac{2\pi N_A \sigma^3}{3}, \quad T^* = \frac{RT}{\varepsilon}.

* Square well: the closed form
  :math:`B_2 = b_0 [1 - (\lambda^3 - 1)(e^{\varepsilon/RT} - 1)]`
  (McQuarrie, *Statistical Mechanics*, 2000, problem 12-5).
* Everything else (truncated, shifted, Mie): the defining integral
  :math:`B_2 = -2\pi N_A \int_0^\infty (e^{-u/RT} - 1) r^2\,dr` by adaptive
  ``scipy.integrate.quad``, an algorithm independent of the fixed
  Gauss-Legendre rule under test.

Reduced quantities are compared in units of b0 (dimensionless); the module
returns cm^3/mol, so b0 is computed here in the same unit.
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

from bayesff.observables.virial import (
    isothermal_compressibility,
    low_density_pressure,
    second_virial,
)
from bayesff.potentials import LENNARD_JONES, MIE, SQUARE_WELL, shifted, truncated
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

# SI constants typed in here on purpose (exact in the 2019 SI), so that the EOS
# tests do not reuse the module's conversion factors.
K_B = 1.380649e-23  # J/K
N_A = 6.02214076e23  # 1/mol

#: Number of terms of the LJ series. The terms fall faster than geometrically
#: (ratio ~ 2 T*^-1/2 sqrt(2/j)); at T* = 0.3 term 60 is 4e-20 and term 79
#: 7e-30 of the sum (checked in ``test_lj_series_reference_converged``).
SERIES_TERMS = 80

#: float64 rounding floor of a reduced B2 from ~100 quadrature terms of size
#: up to |B2*| ~ 30 (T* = 0.3): 100 * 30 * 2.2e-16 ~ 7e-13 in the worst case,
#: ~1e-14 typical (measured: errors settle between 0 and 2e-14 at 20-32 nodes).
FLOOR = 1e-13

T_STAR_GRID = np.geomspace(0.3, 100.0, 40)


def b0_cm3_per_mol(sigma_A):
    """2 pi N_A sigma^3 / 3 in cm^3/mol (sigma in angstrom)."""
    return 2.0 * math.pi * N_A * np.asarray(sigma_A) ** 3 / 3.0 * 1e-24


def _series_terms(t_star, terms=SERIES_TERMS):
    """Terms of HCB eq. 3.6-8 (signed), shape (terms, len(t_star)), via gammaln."""
    j = np.arange(terms, dtype=float)[:, None]
    t = np.atleast_1d(np.asarray(t_star, dtype=float))[None, :]
    # Gamma((2j-1)/4) < 0 only for j = 0 (Gamma(-1/4) = -4.9017...).
    sign = np.where(j == 0, -1.0, 1.0)
    log_mag = (
        (j + 0.5) * math.log(2.0)
        - math.log(4.0)
        - gammaln(j + 1.0)
        + gammaln((2.0 * j - 1.0) / 4.0)
        - (2.0 * j + 1.0) / 4.0 * np.log(t)
    )
    return -sign * np.exp(log_mag), j, t


def lj_b2_star(t_star, terms=SERIES_TERMS):
    r"""Reduced LJ B2* by the exact series (HCB 1954, eq. 3.6-8), float64.

    Cross-checked once against mpmath at 40 digits over ``T_STAR_GRID``: the
    largest absolute difference was 5.3e-15 (1.8e-15 relative)::

        import mpmath as mp
        mp.mp.dps = 40
        def b2s(t):
            t = mp.mpf(t)
            return -mp.nsum(lambda j: mp.mpf(2) ** (j + 0.5) / (4 * mp.factorial(j))
                            * mp.gamma((2 * j - 1) / 4) * t ** (-(2 * j + 1) / 4),
                            [0, mp.inf])
    """
    terms_, _, _ = _series_terms(t_star, terms)
    return terms_.sum(axis=0)


def lj_b2_star_dT(t_star, terms=SERIES_TERMS):
    """d B2*/d T*, differentiating the series term by term (it converges uniformly)."""
    terms_, j, t = _series_terms(t_star, terms)
    return (terms_ * (-(2.0 * j + 1.0) / 4.0) / t).sum(axis=0)


def quad_b2_star(energy, sigma, kT, r_max=np.inf, points=()):
    """-3/sigma^3 int_0^r_max (exp(-u/kT) - 1) r^2 dr by adaptive quad (= B2/b0).

    The interval is split at 0.8 sigma, sigma, 1.5 sigma and ``points`` (the
    minimum of u), so that each piece has one feature (the rise of exp(-u/kT),
    the well, the tail); without the splits QUADPACK reports round-off at
    epsrel 1e-13 for T* = 0.7. With them its error estimates are <= 6e-14
    absolute, and variants of the splits agree to ~1e-15.
    """
    inner = {0.8 * sigma, sigma, 1.5 * sigma, *points}
    edges = [0.0, *sorted(p for p in inner if p < r_max), r_max]

    def f(r):
        return math.expm1(-energy(r) / kT) * r * r

    total = 0.0
    for a, b in itertools.pairwise(edges):
        value, _ = quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=400)
        total += value
    return -3.0 * total / sigma**3


def lj_np(r, epsilon, sigma):
    s6 = (sigma / r) ** 6
    return 4.0 * epsilon * (s6 * s6 - s6)


def mie_np(r, epsilon, sigma, n, m):
    c = n / (n - m) * (n / m) ** (m / (n - m))
    return c * epsilon * ((sigma / r) ** n - (sigma / r) ** m)


def reduced_b2(potential, params, t_star, **kw):
    """B2 / b0 from the module at T = T* epsilon / R."""
    T = np.asarray(t_star) * params["epsilon"] / R
    b2 = second_virial(potential, params, T, **kw)
    return np.asarray(b2) / b0_cm3_per_mol(params["sigma"])


_JIT_GRADS: dict[int, tuple] = {}


def jit_grad_b2(potential):
    """jit(grad(B2)) w.r.t. the parameter dict, T (K) as a second argument.

    Compiled once per potential (cached by identity: potentials hold dicts and
    are not hashable); eager ``jax.grad`` re-dispatches ~100 primitives per
    call, which would dominate this module's run time.
    """
    if id(potential) not in _JIT_GRADS:
        fn = jax.jit(jax.grad(lambda p, T: second_virial(potential, p, T)))
        _JIT_GRADS[id(potential)] = (potential, fn)  # keep potential alive: ids stay unique
    return _JIT_GRADS[id(potential)][1]


def lj_draws(rng, size):
    """Random LJ parameters: epsilon log-uniform 0.1-5 kJ/mol, sigma 2.5-5 angstrom."""
    eps = np.exp(rng.uniform(np.log(0.1), np.log(5.0), size))
    sig = rng.uniform(2.5, 5.0, size)
    return [{"epsilon": float(e), "sigma": float(s)} for e, s in zip(eps, sig, strict=True)]


# --------------------------------------------------------------------------- LJ


def test_lj_series_reference_converged():
    """The float64 series is converged and transcribed correctly.

    Convergence: at the lowest T* (slowest convergence) the last term kept is
    negligible and doubling the number of terms changes nothing. Transcription:
    the series agrees with adaptive quad of the Mayer integral (quad's own
    epsrel 1e-13) and reproduces the classic tabulated values to 4 decimals
    (HCB 1954, Table I-B: B2*(1) = -2.5381, B2*(5) = 0.2433) and the Boyle
    temperature T_B* = 3.4179.
    """
    terms_, _, _ = _series_terms([0.3])
    assert abs(terms_[-1, 0]) < 1e-25 * abs(terms_.sum())
    np.testing.assert_allclose(
        lj_b2_star(T_STAR_GRID, 160), lj_b2_star(T_STAR_GRID), rtol=0, atol=1e-15
    )
    for t_star in (0.3, 1.0, 5.0, 100.0):
        q = quad_b2_star(lambda r: lj_np(r, 1.0, 1.0), 1.0, t_star, points=(2 ** (1 / 6),))
        np.testing.assert_allclose(lj_b2_star(t_star)[0], q, rtol=1e-11)
    np.testing.assert_allclose(lj_b2_star([1.0, 5.0]), [-2.5381, 0.2433], atol=5e-5)
    t_boyle = brentq(lambda t: lj_b2_star(t)[0], 2.0, 5.0, xtol=1e-14)
    assert abs(t_boyle - 3.4179) < 5e-5


def test_lj_against_series():
    """Relative error vs the exact series <= 1e-10 over T* = 0.3-100 (40 points).

    Measured max 7.3e-12 (at T* = 100) with the default 16 nodes per panel;
    the quadrature error is deterministic, so 1e-10 leaves margin only for
    rounding and still fails for 12 nodes (6e-10) or any misplaced panel.
    The 40-point grid stays away from the Boyle temperature (min |B2*| = 0.04),
    so relative error is meaningful here; see ``test_lj_at_boyle_temperature``.
    Random (epsilon, sigma) check that the result depends on them only through
    T* and b0, as the corresponding-states form of the series requires.
    """
    ref = lj_b2_star(T_STAR_GRID)
    for params in lj_draws(np.random.default_rng(20240611), 4):
        got = reduced_b2(LENNARD_JONES, params, T_STAR_GRID)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=0)


def test_lj_at_boyle_temperature():
    """At T_B* (B2 = 0) the error is absolute in units of b0: <= 1e-12.

    Measured 6e-16 at 16 nodes; 1e-12 is the same bound as ``FLOOR`` times 10.
    """
    t_boyle = brentq(lambda t: lj_b2_star(t)[0], 2.0, 5.0, xtol=1e-15)
    for params in lj_draws(np.random.default_rng(7), 3):
        got = reduced_b2(LENNARD_JONES, params, t_boyle)
        assert abs(float(got)) < 1e-12
    # B2 changes sign across T_B (so the bound above is not trivially met).
    p = {"epsilon": 1.0, "sigma": 3.4}
    assert reduced_b2(LENNARD_JONES, p, 0.99 * t_boyle) < -1e-3
    assert reduced_b2(LENNARD_JONES, p, 1.01 * t_boyle) > 1e-3


@pytest.mark.parametrize("t_star", [0.3, 0.5, 1.0, 3.4179, 10.0, 30.0, 100.0])
def test_lj_convergence_in_nodes(t_star):
    """Spectral convergence in ``nodes_per_panel`` down to the float64 floor.

    Errors (absolute, units of b0) for 4, 6, 8, 12 and 16 nodes. The integrand
    is analytic inside every panel, so Gauss-Legendre converges geometrically
    (error ~ rho^-2n): in the style of diffrax's ``test_ode_order`` we fit the
    rate, here log10(error) against n (measured 0.66-1.08 digits per node) and
    require >= 0.5. A method of fixed algebraic order p would have a constant
    apparent order log(e1/e2)/log(n2/n1); here it grows (measured 7.3-15.1
    for 4 -> 8 and 14.8-25.3 for 8 -> 16), which we also require.
    """
    nodes = np.array([4, 6, 8, 12, 16])
    ref = lj_b2_star(t_star)[0]
    params = {"epsilon": 1.3, "sigma": 3.7}
    err = np.array(
        [abs(float(reduced_b2(LENNARD_JONES, params, t_star, nodes_per_panel=n)) - ref)
         for n in nodes]
    )  # fmt: skip
    for e_coarse, e_fine in itertools.pairwise(err):
        assert e_fine < e_coarse or e_fine <= FLOOR, err
    assert err[-1] < 1e-10, err  # brief: < 1e-8; measured <= 3.4e-12
    above = err > FLOOR
    slope = np.polyfit(nodes[above], np.log10(err[above]), 1)[0]
    assert slope <= -0.5, (slope, err)

    def order(i, k):
        return math.log(err[i] / max(err[k], 1e-300)) / math.log(nodes[k] / nodes[i])

    assert order(2, 4) > order(0, 2), err


# ---------------------------------------------------------------- square well


def sw_closed_form(epsilon, sigma, lam, T):
    """B2 and its gradient (d/d epsilon, d/d sigma, d/d lam), cm^3/mol."""
    b0 = b0_cm3_per_mol(sigma)
    beta = 1.0 / (R * T)
    g = math.expm1(beta * epsilon)
    b2 = b0 * (1.0 - (lam**3 - 1.0) * g)
    d_eps = -b0 * (lam**3 - 1.0) * beta * math.exp(beta * epsilon)
    d_sigma = 3.0 * b2 / sigma
    d_lam = -b0 * 3.0 * lam**2 * g
    return b2, np.array([d_eps, d_sigma, d_lam])


def _sw_draws(rng, size):
    """(epsilon kJ/mol, sigma angstrom, lam, T K): eps/RT from 0.1 to 3."""
    out = []
    for _ in range(size):
        eps = float(np.exp(rng.uniform(np.log(0.2), np.log(5.0))))
        T = eps / R / rng.uniform(0.1, 3.0)
        out.append((eps, float(rng.uniform(2.5, 5.0)), float(rng.uniform(1.05, 2.9)), T))
    return out


def test_square_well_closed_form():
    """Value to 1e-12 relative and jax.grad to 1e-11 relative.

    The Boltzmann factor is piecewise constant and the panels end at sigma and
    lam sigma, so Gauss-Legendre is exact in every panel; the remaining error
    is rounding in ~100 terms (measured <= 1e-15). lam in (1.05, 2.9) crosses
    the fixed panel edges 1.1, 1.4 and 2.0, and lam > 2 puts the well edge
    past the last fixed edge. The gradient flows through the panel ends
    (breakpoints), which is what the closed form tests.
    """
    for eps, sig, lam, T in _sw_draws(np.random.default_rng(3), 12):
        ref, dref = sw_closed_form(eps, sig, lam, T)
        p = {"epsilon": eps, "sigma": sig, "lam": lam}
        got = float(second_virial(SQUARE_WELL, p, T))
        np.testing.assert_allclose(got, ref, rtol=1e-12)
        grad = jit_grad_b2(SQUARE_WELL)(p, T)
        got_d = np.array([grad["epsilon"], grad["sigma"], grad["lam"]])
        # Compare each component on the scale of the largest of b0-type size,
        # since d/d lam and d/d sigma can pass through zero for some draws.
        scale = np.abs(dref) + abs(ref) / sig
        np.testing.assert_array_less(np.abs(got_d - dref), 1e-11 * scale)


@pytest.mark.parametrize("lam", [1.1, 1.4, 2.0])
def test_square_well_lam_on_panel_edge(lam):
    """lam sigma exactly on a fixed panel edge (1.1, 1.4, 2.0 sigma) gives a
    zero-width panel; B2 and its epsilon and sigma derivatives still equal the
    closed form (to rounding, as above)."""
    eps, sig, T = 1.0, 3.0, 150.0
    ref, dref = sw_closed_form(eps, sig, lam, T)
    p = {"epsilon": eps, "sigma": sig, "lam": lam}
    np.testing.assert_allclose(float(second_virial(SQUARE_WELL, p, T)), ref, rtol=1e-12)
    grad = jit_grad_b2(SQUARE_WELL)(p, T)
    np.testing.assert_allclose([grad["epsilon"], grad["sigma"]], dref[:2], rtol=1e-11)


@pytest.mark.parametrize("lam", [1.1, 1.4, 2.0])
def test_square_well_lam_gradient_on_panel_edge(lam):
    """d B2/d lam at lam sigma exactly on a fixed panel edge equals the closed form.

    One ulp away (lam = 1.4 (1 + 1e-15)) the gradient is right, so this is a
    tie-breaking defect, but 1.1 is the lower end of lam's default prior and
    round values like 1.4 and 2.0 are natural starting points for optimisers.
    """
    eps, sig, T = 1.0, 3.0, 150.0
    _, dref = sw_closed_form(eps, sig, lam, T)
    p = {"epsilon": eps, "sigma": sig, "lam": lam}
    grad = jit_grad_b2(SQUARE_WELL)(p, T)
    np.testing.assert_allclose(float(grad["lam"]), dref[2], rtol=1e-11)


# ---------------------------------------------------------- truncated / shifted

LJ_P = {"epsilon": 0.9, "sigma": 3.3}


@pytest.mark.parametrize("rc_over_sigma", [1.5, 2.5, 5.0])
@pytest.mark.parametrize("t_star", [0.7, 1.5, 5.0])
@pytest.mark.parametrize("scheme", ["truncated", "shifted"])
def test_cut_lj_against_quad(scheme, rc_over_sigma, t_star):
    """B2 of the cut LJ potential equals quad of the Mayer integral over (0, r_c).

    Beyond r_c the cut potential is 0, so its Mayer function vanishes and the
    integral stops at r_c. quad runs with epsrel 1e-13, split at the LJ minimum
    2^(1/6) sigma; the module's r_c panel edge makes the jump at r_c harmless.
    Tolerance 1e-12 relative: measured <= 4e-15 (the integrand is smooth in
    every panel and the tail beyond r_c is exactly 0); quad's own error
    estimates are <= 6e-14.
    """
    eps, sig = LJ_P["epsilon"], LJ_P["sigma"]
    r_c = rc_over_sigma * sig
    wrap = truncated if scheme == "truncated" else shifted
    shift = 0.0 if scheme == "truncated" else lj_np(r_c, eps, sig)
    kT = eps * t_star
    ref = quad_b2_star(
        lambda r: lj_np(r, eps, sig) - shift, sig, kT, r_max=r_c, points=(2 ** (1 / 6) * sig,)
    )
    got = reduced_b2(wrap(LENNARD_JONES, r_c), LJ_P, t_star)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    # The cut visibly changes B2 (so this is not the full-LJ test again).
    assert abs(got - lj_b2_star(t_star)[0]) > 1e-4


@pytest.mark.parametrize("t_star", [1.0, 2.5])
def test_truncated_lj_tail_limit(t_star):
    r"""B2(full) - B2(truncated at r_c) is the tail of the Mayer integral.

    Exactly: -2 pi N_A int_{r_c}^inf (e^{-u/kT} - 1) r^2 dr (quad, compared in
    units of b0 to 1e-11: both B2 carry ~1e-12 quadrature error). Expanding
    e^{-u/kT} - 1 in powers of u/kT gives, with x = sigma/r_c and
    beta epsilon = 1/T*,

    .. math::

        \frac{B_{full} - B_{trunc}}{b_0} = -\frac{4 \beta\varepsilon}{x^{-3}}
        \Bigl[1 + \tfrac{2\beta\varepsilon - 1}{3} x^6
        + \tfrac{4\beta\varepsilon}{5}\bigl(\tfrac{2\beta\varepsilon}{3} - 1\bigr) x^{12}
        + O(x^{18})\Bigr];

    the leading term is the brief's -(2 pi N_A)(4 eps/kT) sigma^6/(3 r_c^3).
    The relative remainder must shrink like x^18: we require
    <= 10 (1 + beta eps)^3 x^18 (the coefficients of the expansion grow like
    (beta eps)^k) and check the leading term alone is off by ~x^6.
    """
    eps, sig = LJ_P["epsilon"], LJ_P["sigma"]
    be = 1.0 / t_star
    full = float(reduced_b2(LENNARD_JONES, LJ_P, t_star))
    for rc_over_sigma in (2.5, 3.0, 4.0, 6.0):
        r_c = rc_over_sigma * sig
        diff = full - float(reduced_b2(truncated(LENNARD_JONES, r_c), LJ_P, t_star))
        tail = (
            -3.0
            / sig**3
            * quad(
                lambda r: math.expm1(-lj_np(r, eps, sig) * be / eps) * r * r,
                r_c,
                np.inf,
                epsabs=0.0,
                epsrel=1e-13,
                limit=200,
            )[0]
        )
        np.testing.assert_allclose(diff, tail, rtol=0, atol=1e-11)
        x = 1.0 / rc_over_sigma
        leading = -4.0 * be * x**3
        series = leading * (
            1.0 + (2.0 * be - 1.0) / 3.0 * x**6 + 0.8 * be * (2.0 * be / 3.0 - 1.0) * x**12
        )
        # + 2e-12 / |series|: the two B2 each carry ~1e-12 b0 of quadrature error.
        bound = 10.0 * (1.0 + be) ** 3 * x**18 + 2e-12 / abs(series)
        assert abs(diff / series - 1.0) <= bound, (rc_over_sigma, diff / series - 1.0)
        np.testing.assert_allclose(diff / leading - 1.0, (2.0 * be - 1.0) / 3.0 * x**6, rtol=0.1)


# ------------------------------------------------------------------------- Mie


def test_mie_12_6_is_lj():
    """Mie with n = 12, m = 6 has C = 4 and is LJ: same B2 up to rounding (1e-13)."""
    lj = {"epsilon": 1.1, "sigma": 3.6}
    T = T_STAR_GRID * lj["epsilon"] / R
    np.testing.assert_allclose(
        second_virial(MIE, {**lj, "n": 12.0, "m": 6.0}, T),
        second_virial(LENNARD_JONES, lj, T),
        rtol=1e-13,
    )


@pytest.mark.parametrize("n", [8.0, 10.0, 14.0, 18.5, 24.0])
def test_mie_n_6_against_quad(n):
    """Mie n-6 against quad (epsrel 1e-13) at T* = 0.5-50, to 1e-8 relative.

    With m = 6 the mapped tail integrand is smooth, and non-integer n only
    affects the repulsive core, where the fixed panels resolve it less well
    than for n = 12: measured <= 5.8e-10 here (n = 8, T* = 50, where the
    soft core's Boltzmann rise straddles the 0.6 sigma panel edge), 7e-9 at
    n = 36 and 1.4e-8 at n = 6.5, T* = 50 (not tested: beyond 1e-8).
    """
    eps, sig = 0.8, 3.9
    r_min = (n / 6.0) ** (1.0 / (n - 6.0)) * sig
    for t_star in (0.5, 1.0, 5.0, 50.0):
        ref = quad_b2_star(
            lambda r: mie_np(r, eps, sig, n, 6.0), sig, eps * t_star, points=(r_min,)
        )
        got = reduced_b2(MIE, {"epsilon": eps, "sigma": sig, "n": n, "m": 6.0}, t_star)
        np.testing.assert_allclose(got, ref, rtol=1e-8)


@pytest.mark.parametrize(("m", "rtol"), [(4.5, 1e-4), (5.5, 5e-7)])
def test_mie_non_integer_m_against_quad(m, rtol):
    """Mie 12-m with non-integer m (inside the registered support m in [4, 6]).

    The documented limitation of the t = R/r tail map (virial.py docstring):
    the tail integrand t^(m-4) is not smooth, and the error grows to 1.7e-7 at
    m = 5.5 and 6.7e-5 at m = 4.5 (measured against mpmath.quad at 30 digits).
    The tolerances are those figures rounded up; a regression beyond them
    fails.
    """
    eps, sig, n = 0.8, 3.9, 12.0
    r_min = (n / m) ** (1.0 / (n - m)) * sig
    for t_star in (0.5, 1.0, 5.0, 50.0):
        ref = quad_b2_star(lambda r: mie_np(r, eps, sig, n, m), sig, eps * t_star, points=(r_min,))
        got = reduced_b2(MIE, {"epsilon": eps, "sigma": sig, "n": n, "m": m}, t_star)
        np.testing.assert_allclose(got, ref, rtol=rtol)


# ------------------------------------------------------------------- gradients


def test_lj_gradient_against_series():
    """jax.grad w.r.t. (epsilon, sigma) against the differentiated exact series.

    B2 = b0(sigma) B2*(R T / epsilon), so dB2/d epsilon = -b0 (T*/epsilon)
    dB2*/dT* and dB2/d sigma = 3 B2 / sigma. Both are compared in reduced
    form, -(epsilon/b0) dB2/d epsilon = T* dB2*/dT* and (sigma/3 b0) dB2/d
    sigma = B2*, with atol 1e-10 (the accuracy of B2* itself; measured errors
    <= 4.4e-11 at T* = 100, where T* dB2*/dT* = -0.07 is small, 2e-15 below
    T* = 3) and rtol 1e-9. T* = 25, where dB2*/dT* changes sign (B2* peaks),
    is left out; T_B, where dB2/d sigma = 0, is in (hence the atol).
    """
    t_star = np.array([0.3, 0.7, 1.0, 2.0, 3.4179, 8.0, 60.0, 100.0])
    for params in lj_draws(np.random.default_rng(11), 3):
        eps, sig = params["epsilon"], params["sigma"]
        T = t_star * eps / R
        b0 = b0_cm3_per_mol(sig)
        for i, Ti in enumerate(T):
            g = jit_grad_b2(LENNARD_JONES)(params, Ti)
            d_eps = -b0 * t_star[i] / eps * lj_b2_star_dT(t_star[i])[0]
            d_sig = 3.0 * b0 * lj_b2_star(t_star[i])[0] / sig
            np.testing.assert_allclose(
                -float(g["epsilon"]) * eps / b0, -d_eps * eps / b0, rtol=1e-9, atol=1e-10
            )
            np.testing.assert_allclose(
                float(g["sigma"]) * sig / (3.0 * b0),
                d_sig * sig / (3.0 * b0),
                rtol=1e-9,
                atol=1e-10,
            )


def central_difference(f, params, name, rel_step):
    h = rel_step * params[name]
    up = f({**params, name: params[name] + h})
    down = f({**params, name: params[name] - h})
    return (up - down) / (2.0 * h)


@pytest.mark.parametrize(
    ("potential", "params"),
    [
        (LENNARD_JONES, {"epsilon": 1.2, "sigma": 3.4}),
        (MIE, {"epsilon": 0.7, "sigma": 3.8, "n": 14.5, "m": 5.0}),
        (shifted(LENNARD_JONES, 8.5), {"epsilon": 1.2, "sigma": 3.4}),
    ],
    ids=["lj", "mie", "lj-shifted"],
)
@pytest.mark.parametrize("T", [80.0, 300.0, 2000.0])
def test_gradient_against_central_differences(potential, params, T):
    """jax.grad against central differences with relative step 1e-5.

    Both differentiate the same discrete quadrature sum, so quadrature error
    cancels. Truncation error h^2 f'''/6 with f varying on the scale of the
    parameter (and of kT for epsilon: eps/kT <= 1.8 here) is ~ (1e-5)^2 ~ 1e-10
    relative; rounding is ~ 2e-16 |f| / (h |f'|) ~ 2e-11 |f|/(x |f'|). Hence
    rtol 1e-7, with atol on the scale |f|/x for components that pass near 0.
    """

    def f(p):
        return float(second_virial(potential, p, T))

    grad = jit_grad_b2(potential)(params, T)
    value = f(params)
    for name in params:
        fd = central_difference(f, params, name, 1e-5)
        scale = abs(value) / params[name] + abs(fd)
        assert abs(float(grad[name]) - fd) <= 1e-7 * scale, (name, float(grad[name]), fd)


def test_vmap_and_jit_match_loop():
    """vmap over parameter draws and temperatures, and jit, equal a Python loop.

    Same arithmetic, possibly reordered by XLA: rtol 1e-13 (~500 ulp).
    """
    draws = lj_draws(np.random.default_rng(5), 5)
    T = jnp.asarray([60.0, 120.0, 300.0, 900.0])
    batched = {k: jnp.asarray([d[k] for d in draws]) for k in ("epsilon", "sigma")}
    loop = np.array([[float(second_virial(LENNARD_JONES, d, t)) for t in T] for d in draws])

    def b2(p, t):
        return second_virial(LENNARD_JONES, p, t)

    over_draws = jax.vmap(lambda p: b2(p, T))(batched)
    over_both = jax.vmap(jax.vmap(b2, in_axes=(None, 0)), in_axes=(0, None))(batched, T)
    jitted = jax.jit(jax.vmap(lambda p: b2(p, T)))(batched)
    for got in (over_draws, over_both, jitted):
        assert got.shape == (5, 4)
        np.testing.assert_allclose(got, loop, rtol=1e-13)
    # Gradients batch too: vmap(grad) against one (jitted) grad per draw.
    g = jax.jit(jax.vmap(jax.grad(lambda p: b2(p, 300.0))))(batched)
    for i, d in enumerate(draws):
        gi = jit_grad_b2(LENNARD_JONES)(d, 300.0)
        np.testing.assert_allclose(g["epsilon"][i], gi["epsilon"], rtol=1e-13)
        np.testing.assert_allclose(g["sigma"][i], gi["sigma"], rtol=1e-13)


# ------------------------------------------------------------ low-density EOS

ARGON = {"epsilon": 119.8 * R, "sigma": 3.405}  # eps/k_B = 119.8 K (HCB 1954)


def _by_hand(T, rho_per_A3):
    """p (MPa) and kappa_T (1/MPa) in SI from B2 (cm^3/mol) of the module."""
    b2_m3 = float(second_virial(LENNARD_JONES, ARGON, T)) * 1e-6 / N_A  # m^3 per molecule
    rho = rho_per_A3 * 1e30  # 1/m^3
    p_pa = rho * K_B * T * (1.0 + b2_m3 * rho)
    kappa_per_pa = 1.0 / (rho * K_B * T * (1.0 + 2.0 * b2_m3 * rho))
    return p_pa * 1e-6, kappa_per_pa * 1e6, b2_m3 * rho


def test_low_density_eos_by_hand():
    """Argon at 300 K and 1e-4 / angstrom^3 (~0.17 mol/L, ~4 atm).

    Hand formulas with SI constants (k_B, N_A exact); the module converts via
    R and kJ/mol/angstrom^3, a different route, so agreement to 1e-13 relative
    checks the unit conversions (a wrong power of ten or a missing N_A is off
    by orders of magnitude; a B2 in the wrong unit changes the ~0.25 % virial
    correction, far above 1e-13).
    """
    T, rho = 300.0, 1e-4
    p_ref, kappa_ref, b2rho = _by_hand(T, rho)
    assert 1e-3 < abs(b2rho) < 1e-2  # the virial correction is resolved by the test
    np.testing.assert_allclose(
        low_density_pressure(LENNARD_JONES, ARGON, T, rho), p_ref, rtol=1e-13
    )
    np.testing.assert_allclose(
        isothermal_compressibility(LENNARD_JONES, ARGON, T, rho), kappa_ref, rtol=1e-13
    )
    # Plain number: 1e26 m^-3 * k_B * 300 K = 0.41420 MPa ideal, times (1 + B2 rho).
    np.testing.assert_allclose(p_ref / (1.0 + b2rho), 0.4141947, rtol=1e-6)
    # Broadcasting over (T, rho).
    Ts = jnp.asarray([200.0, 300.0, 500.0])[:, None]
    rhos = jnp.asarray([1e-6, 1e-5, 1e-4])[None, :]
    p = low_density_pressure(LENNARD_JONES, ARGON, Ts, rhos)
    assert p.shape == (3, 3)
    np.testing.assert_allclose(p[1, 2], p_ref, rtol=1e-13)


def test_ideal_gas_limit():
    """rho -> 0: p / (rho k T) - 1 = B2 rho -> 0 linearly, and kappa_T p -> 1.

    The deviations from the ideal gas are computed as differences from 1 of
    quantities ~1, so they carry ~1e-16 absolute rounding; at the smallest
    deviation (|B2 rho| ~ 2.4e-7 at rho = 1e-8) that is ~1e-9 relative, hence
    rtol 1e-6 on the ratios.
    """
    T = 300.0
    kt_mpa = K_B * T * 1e30 * 1e-6  # MPa per (1/angstrom^3)
    rhos = np.array([1e-5, 1e-6, 1e-7, 1e-8])
    p = np.asarray(low_density_pressure(LENNARD_JONES, ARGON, T, rhos))
    kappa = np.asarray(isothermal_compressibility(LENNARD_JONES, ARGON, T, rhos))
    dev_p = p / (rhos * kt_mpa) - 1.0
    dev_k = kappa * p - 1.0
    # dev_p = B2 rho exactly: linear in rho.
    np.testing.assert_allclose(dev_p[:-1] / dev_p[1:], 10.0, rtol=1e-6)
    # kappa_T p = (1 + x) / (1 + 2 x) with x = B2 rho, so dev_k = -x / (1 + 2 x) -> -x.
    np.testing.assert_allclose(dev_k, -dev_p / (1.0 + 2.0 * dev_p), rtol=1e-6)
    assert np.all(np.abs(dev_p) < 1e-3) and np.all(np.abs(dev_p) > 1e-11)


def test_compressibility_nan_beyond_validity():
    """kappa_T is NaN where 1 + 2 B2 rho <= 0 and finite positive just before.

    At 100 K argon (T* = 0.83) B2 ~ -180 cm^3/mol, i.e. ~ -300 angstrom^3, so
    1 + 2 B2 rho changes sign near rho ~ 1.7e-3 / angstrom^3.
    """
    T = 100.0
    b2_a3 = float(second_virial(LENNARD_JONES, ARGON, T)) / (N_A * 1e-24)
    assert b2_a3 < 0
    rho_star = -1.0 / (2.0 * b2_a3)
    rhos = jnp.asarray([0.5, 0.99, 1.01, 2.0, 10.0]) * rho_star
    kappa = np.asarray(isothermal_compressibility(LENNARD_JONES, ARGON, T, rhos))
    assert np.all(np.isfinite(kappa[:2])) and np.all(kappa[:2] > 0)
    assert np.all(np.isnan(kappa[2:]))
    # The pressure itself is not masked (a formula, not a validity claim).
    assert np.all(np.isfinite(np.asarray(low_density_pressure(LENNARD_JONES, ARGON, T, rhos))))


def test_b2_outside_the_potentials_domain_is_nan_not_a_number():
    """Physics audit, 2026-11-30: sigma < 0 ran the radial quadrature's panels backwards
    and gave the true B2 with its sign flipped (LJ, 120 K: +125.82 for -125.82
    cm^3/mol); a two-centre molecule with sigma < 0 gave the B2 of |sigma|; T <= 0 gave
    -inf; a Mie attraction r^-3 (m = 3), whose B2 integral diverges (the integrand goes
    as r^(2-m)), gave a finite -2356 cm^3/mol. Each is NaN now; the same potentials
    inside their domain are unchanged (LJ at 120 K: B2* = -2.538 b0 with b0 = 2 pi N_A
    sigma^3 / 3, the LJ series of the tests above)."""
    from bayesff.observables import get_observable
    from bayesff.potentials import get_potential
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    def b2(name, params, T):
        build = get_observable("second_virial").build(get_potential(name))
        return np.asarray(build(params, {"T_K": jnp.asarray(T, dtype=float)}))

    lj = {"epsilon": 120 * R, "sigma": 3.4}
    good = b2("lennard_jones", lj, [120.0])[0]
    b0 = 2 * np.pi * 6.02214076e23 * (3.4e-8) ** 3 / 3
    assert good / b0 == pytest.approx(-2.538, abs=2e-3)
    assert np.all(np.isnan(b2("lennard_jones", {**lj, "sigma": -3.4}, [120.0, 300.0])))
    assert np.all(np.isnan(b2("lennard_jones", lj, [0.0, -5.0])))
    mie = {**lj, "n": 12.0, "m": 3.0}
    assert np.isnan(b2("mie", mie, [120.0])[0])
    assert b2("mie", {**mie, "m": 6.0}, [120.0])[0] == pytest.approx(good, rel=1e-12)
    tc = {"epsilon": 100 * R, "sigma": 3.4, "L": 1.0}
    assert np.isfinite(b2("two_centre_lj", tc, [300.0])[0])
    assert np.isnan(b2("two_centre_lj", {**tc, "sigma": -3.4}, [300.0])[0])
