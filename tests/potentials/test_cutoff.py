"""Cut-off wrappers and tail corrections against closed forms."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesff.potentials import (
    LENNARD_JONES,
    MIE,
    SQUARE_WELL,
    PairPotential,
    force_shifted,
    get_potential,
    lennard_jones,
    shifted,
    tail_correction,
    truncated,
)
from bayesff.potentials.cutoff import TailCorrection
from bayesff.units import KJ_PER_MOL_PER_A3_IN_MPA

P = {"epsilon": 0.996, "sigma": 3.405}  # argon-like, kJ/mol and angstrom
R_C = 8.5
# float64; the identities below are exact up to rounding of O(1) kJ/mol terms.
RTOL = 1e-12


def _du(pot, r, params):
    return jax.grad(lambda x: pot.energy(x, **params))(r)


def test_truncated():
    """Equal to u inside, exactly 0 at and beyond r_c (definition, A&T 2017 sec. 2.8)."""
    pot = truncated(LENNARD_JONES, R_C)
    r_in = jnp.linspace(3.0, R_C - 1e-9, 40)
    np.testing.assert_allclose(pot.energy(r_in, **P), lennard_jones(r_in, **P), rtol=RTOL)
    r_out = jnp.array([R_C, R_C + 1e-9, 12.0, 1e6])
    np.testing.assert_array_equal(pot.energy(r_out, **P), 0.0)
    # The jump at r_c is -u(r_c) (non-zero: so the other wrappers have work to do).
    assert float(pot.energy(R_C - 1e-12, **P)) < -1e-3


def test_shifted_is_continuous():
    """u_s(r_c^-) -> 0 linearly (|u'| h) and u_s = u - u(r_c) inside."""
    pot = shifted(LENNARD_JONES, R_C)
    h = 1e-7
    slope = abs(float(_du(LENNARD_JONES, R_C, P)))
    assert abs(float(pot.energy(R_C - h, **P))) <= 1.01 * slope * h
    r = jnp.linspace(3.0, 8.0, 20)
    np.testing.assert_allclose(
        pot.energy(r, **P), lennard_jones(r, **P) - lennard_jones(R_C, **P), rtol=RTOL
    )
    # The force is not continuous: that is what force_shifted adds.
    assert abs(float(_du(pot, R_C - h, P))) > 0.5 * slope


def test_force_shifted_value_and_force_continuous():
    """u_fs and du_fs/dr -> 0 at r_c^- (value O(h^2 u''), force O(h u'')); u'(r_c) by hand."""
    pot = force_shifted(LENNARD_JONES, R_C)
    h = 1e-5
    eps, sig = P["epsilon"], P["sigma"]
    # u'(r) = 24 eps / r [ (s/r)^6 - 2 (s/r)^12 ], u'' <= ~ 7 |u'| / r_c here.
    du_rc = 24 * eps / R_C * ((sig / R_C) ** 6 - 2 * (sig / R_C) ** 12)
    assert abs(float(pot.energy(R_C - h, **P))) <= 8 * abs(du_rc) / R_C * h**2
    assert abs(float(_du(pot, R_C - h, P))) <= 8 * abs(du_rc) / R_C * h
    r = jnp.linspace(3.0, 8.0, 20)
    expected = lennard_jones(r, **P) - lennard_jones(R_C, **P) - (r - R_C) * du_rc
    np.testing.assert_allclose(pot.energy(r, **P), expected, rtol=1e-11)
    np.testing.assert_array_equal(pot.energy(jnp.array([R_C, 20.0]), **P), 0.0)


@pytest.mark.parametrize("wrap", [truncated, shifted, force_shifted])
def test_wrapped_spec(wrap):
    """Same params, r_c appended to breakpoints, named after the scheme, not registered."""
    pot = wrap(SQUARE_WELL, R_C)
    assert pot.name == f"square_well+{wrap.__name__}(r_c=8.5)"
    assert pot.params == SQUARE_WELL.params and pot.hard_core
    assert pot.breakpoints(epsilon=1.0, sigma=3.0, lam=1.5) == (3.0, 4.5, R_C)
    assert wrap(LENNARD_JONES, R_C).breakpoints(**P) == (R_C,)
    with pytest.raises(Exception, match="unknown potential"):
        get_potential(pot.name)
    # Hard core stays infinite; the well stays -eps (no shift needed: u(r_c) = 0, u' = 0).
    np.testing.assert_array_equal(
        pot.energy(jnp.array([1.0, 4.0, 9.0]), epsilon=1.0, sigma=3.0, lam=1.5),
        [np.inf, -1.0, 0.0],
    )


@pytest.mark.parametrize("wrap", [truncated, shifted, force_shifted])
@pytest.mark.parametrize("r_c", [0.0, -1.0, math.inf, math.nan, "8.5 A", None])
def test_bad_cutoff_radius(wrap, r_c):
    with pytest.raises(ValueError, match="r_c"):
        wrap(LENNARD_JONES, r_c)


@pytest.mark.parametrize("wrap", [truncated, shifted, force_shifted])
def test_gradients_finite_everywhere(wrap):
    """No NaN from the masked branch: parameter gradients at r beyond r_c are exactly 0."""
    pot = wrap(LENNARD_JONES, R_C)
    g = jax.vmap(jax.grad(lambda e, r: pot.energy(r, epsilon=e, sigma=3.4)), in_axes=(None, 0))(
        1.0, jnp.array([4.0, 9.0, jnp.inf])
    )
    assert bool(jnp.all(jnp.isfinite(g)))
    np.testing.assert_array_equal(g[1:], 0.0)


@pytest.mark.parametrize("wrap", [truncated, shifted, force_shifted])
def test_masked_branch_does_not_leak_nan(wrap):
    """A potential that is NaN beyond 10 Å (sqrt of a negative) gives 0, and 0 gradient, there.

    Without evaluating u at a safe radius in the masked branch, jnp.where would still
    propagate NaN into the gradient (0 x NaN = NaN).
    """
    toy = PairPotential(
        name="toy_sqrt",
        energy=lambda r, epsilon: -epsilon * jnp.sqrt(10.0 - r),
        params=LENNARD_JONES.params[:1],
        length_scale=lambda **kw: 1.0,
    )
    pot = wrap(toy, R_C)
    r = jnp.array([12.0, 50.0])
    np.testing.assert_array_equal(pot.energy(r, epsilon=1.0), 0.0)
    g = jax.vmap(jax.grad(lambda e, x: pot.energy(x, epsilon=e)), in_axes=(None, 0))(1.0, r)
    np.testing.assert_array_equal(g, 0.0)
    gr = jax.vmap(jax.grad(lambda x: pot.energy(x, epsilon=1.0)))(r)
    np.testing.assert_array_equal(gr, 0.0)


def _lj_tail(eps, sigma, r_c, rho):
    """Analytic LJ tails (Allen & Tildesley 2017, eqs 2.144-2.145), kJ/mol and MPa."""
    x3 = (sigma / r_c) ** 3
    u = 8.0 / 3.0 * math.pi * rho * eps * sigma**3 * (x3**3 / 3.0 - x3)
    p = 16.0 / 3.0 * math.pi * rho**2 * eps * sigma**3 * (2.0 / 3.0 * x3**3 - x3)
    return u, p * KJ_PER_MOL_PER_A3_IN_MPA


def test_tail_correction_lennard_jones():
    """Against the analytic LJ tails to 1e-10 relative (the rule is exact for LJ).

    Random parameters from a seeded rng; r_c from 1.2 sigma (where the r^-12 term matters)
    to 5 sigma.
    """
    rng = np.random.default_rng(7)
    for _ in range(20):
        eps, sigma = rng.uniform(0.1, 5.0), rng.uniform(2.5, 4.5)
        r_c, rho = sigma * rng.uniform(1.2, 5.0), rng.uniform(1e-4, 0.03)
        tc = tail_correction(LENNARD_JONES, {"epsilon": eps, "sigma": sigma}, r_c, rho)
        assert isinstance(tc, TailCorrection)
        u, p = _lj_tail(eps, sigma, r_c, rho)
        np.testing.assert_allclose(tc.energy_per_particle, u, rtol=1e-10)
        np.testing.assert_allclose(tc.pressure, p, rtol=1e-10)


def test_tail_correction_argon_value():
    """LJ at rho* = 0.8442, r_c = 2.5 sigma: U_tail/N = -0.452013 eps (A&T eq. 2.144 by hand).

    (8/3) pi 0.8442 [(1/3) 2.5^-9 - 2.5^-3] = 7.07231 x (-0.0639126) = -0.452013 in reduced
    units; rtol 1e-5 is the 6 digits quoted.
    """
    sigma, eps = 3.405, 0.996
    rho = 0.8442 / sigma**3
    tc = tail_correction(LENNARD_JONES, {"epsilon": eps, "sigma": sigma}, 2.5 * sigma, rho)
    np.testing.assert_allclose(tc.energy_per_particle / eps, -0.452013, rtol=1e-5)


def test_tail_correction_mie():
    """Mie with non-integer exponents vs its closed form, to 1e-10 relative.

    int_{r_c}^inf u r^2 dr = C eps [sigma^n r_c^(3-n)/(n-3) - sigma^m r_c^(3-m)/(m-3)];
    int r^3 u' dr = -r_c^3 u(r_c) - 3 int u r^2 dr (by parts). m = 4.1 is the hardest case
    (mapped integrand ~ t^0.1 at t = 0).
    """
    for n, m in [(14.3, 4.1), (8.0, 5.5), (30.0, 6.0), (12.0, 6.0)]:
        eps, sigma, r_c, rho = 1.3, 3.4, 9.0, 0.02
        c = n / (n - m) * (n / m) ** (m / (n - m))
        i_u = c * eps * (sigma**n * r_c ** (3 - n) / (n - 3) - sigma**m * r_c ** (3 - m) / (m - 3))
        u_rc = c * eps * ((sigma / r_c) ** n - (sigma / r_c) ** m)
        i_v = -(r_c**3) * u_rc - 3.0 * i_u
        tc = tail_correction(MIE, {"epsilon": eps, "sigma": sigma, "n": n, "m": m}, r_c, rho)
        np.testing.assert_allclose(tc.energy_per_particle, 2 * math.pi * rho * i_u, rtol=1e-10)
        p = -(2 * math.pi / 3) * rho**2 * i_v * KJ_PER_MOL_PER_A3_IN_MPA
        np.testing.assert_allclose(tc.pressure, p, rtol=1e-10)


def test_tail_correction_jit_and_grad():
    """jit-able with traced r_c and rho; d(U_tail/N)/d eps = U_tail/N / eps (linear in eps)."""

    def f(eps, r_c, rho):
        return tail_correction(LENNARD_JONES, {"epsilon": eps, "sigma": 3.4}, r_c, rho)

    tc = jax.jit(f)(1.0, 8.5, 0.02)
    np.testing.assert_allclose(tc.energy_per_particle, _lj_tail(1.0, 3.4, 8.5, 0.02)[0], 1e-10)
    g = jax.grad(lambda e: f(e, 8.5, 0.02).energy_per_particle)(2.0)
    np.testing.assert_allclose(g, tc.energy_per_particle, rtol=1e-10)
    # d/dr_c of U_tail/N = -2 pi rho u(r_c) r_c^2 (fundamental theorem of calculus).
    g_rc = jax.grad(lambda r: f(1.0, r, 0.02).energy_per_particle)(8.5)
    np.testing.assert_allclose(
        g_rc, -2 * math.pi * 0.02 * lennard_jones(8.5, 1.0, 3.4) * 8.5**2, rtol=1e-10
    )


def test_tail_correction_bad_cutoff():
    with pytest.raises(ValueError, match="r_c"):
        tail_correction(LENNARD_JONES, P, 0.0, 0.02)
