"""Pair potentials against their closed forms, and their registry entries."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from bayesff.potentials import (
    LENNARD_JONES,
    MIE,
    MIE_VDW,
    SQUARE_WELL,
    get_potential,
    lennard_jones,
    mie,
    mie_vdw,
    square_well,
    vdw_alpha,
)
from bayesff.units import INTERNAL_UNITS, known_units

# float64 throughout (bayesff.configure, in conftest). Closed-form identities hold to rounding:
# a few ulp of the O(1)-O(100) terms that cancel, hence rtol 1e-12.
RTOL = 1e-12


def _random_params(seed: int, size: int = 20):
    """epsilon in [0.1, 10] kJ/mol and sigma in [2, 5] angstrom, covering the priors' bulk."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 10.0, size), rng.uniform(2.0, 5.0, size)


def test_lennard_jones_minimum():
    """u(2^(1/6) sigma) = -epsilon and u' = 0 there (analytic; jax-md energy_test)."""
    d_u = jax.vmap(jax.grad(lennard_jones), in_axes=(0, 0, 0))
    for epsilon, sigma in zip(*_random_params(0), strict=True):
        r_min = 2.0 ** (1.0 / 6.0) * sigma
        np.testing.assert_allclose(lennard_jones(r_min, epsilon, sigma), -epsilon, rtol=RTOL)
        # u' is a difference of O(24 eps / sigma) terms: zero to ~1e-13 absolute.
        np.testing.assert_allclose(
            d_u(jnp.array([r_min]), jnp.array([epsilon]), jnp.array([sigma])), 0.0, atol=1e-12
        )
    # Zero at sigma, and 4 eps (2^-12 - 2^-6) at 2 sigma, by hand.
    np.testing.assert_allclose(lennard_jones(3.4, 1.0, 3.4), 0.0, atol=1e-15)
    np.testing.assert_allclose(lennard_jones(6.8, 1.0, 3.4), 4.0 * (2.0**-12 - 2.0**-6), rtol=RTOL)


def test_lennard_jones_broadcasts():
    """Elementwise over an array of r, with scalar parameters."""
    r = jnp.linspace(3.0, 10.0, 7)
    expected = np.array([lennard_jones(float(x), 1.2, 3.4) for x in r])
    np.testing.assert_allclose(lennard_jones(r, 1.2, 3.4), expected, rtol=RTOL)


def test_mie_12_6_is_lennard_jones():
    """Mie with n = 12, m = 6 has C = 12/6 * 2^(6/6) = 4: identical to LJ."""
    r = jnp.linspace(2.5, 15.0, 50)
    for epsilon, sigma in zip(*_random_params(1), strict=True):
        np.testing.assert_allclose(
            mie(r, epsilon, sigma, 12.0, 6.0), lennard_jones(r, epsilon, sigma), rtol=RTOL
        )


def test_mie_minimum():
    """u(sigma (n/m)^(1/(n-m))) = -epsilon with zero slope (analytic), n in [8, 30], m in [5, 6].

    rtol 1e-11: the two powers cancel to -epsilon, losing ~1 digit more than LJ; the slope
    is a difference of O(epsilon n / sigma) terms, zero to rounding at that scale.
    """
    rng = np.random.default_rng(2)
    d_u = jax.grad(mie)
    for epsilon, sigma in zip(*_random_params(3), strict=True):
        n, m = rng.uniform(8.0, 30.0), rng.uniform(5.0, 6.0)
        r_min = sigma * (n / m) ** (1.0 / (n - m))
        np.testing.assert_allclose(mie(r_min, epsilon, sigma, n, m), -epsilon, rtol=1e-11)
        assert abs(float(d_u(r_min, epsilon, sigma, n, m))) < 1e-10 * epsilon * n / sigma
        np.testing.assert_allclose(mie(sigma, epsilon, sigma, n, m), 0.0, atol=1e-13)


def test_square_well_regions():
    """inf in the core, -epsilon in the well (edges included at sigma), 0 from lam*sigma on."""
    eps, sigma, lam = 1.5, 3.0, 1.5
    r = jnp.array([0.5, 2.999, 3.0, 3.5, 4.499, 4.5, 10.0])
    expected = np.array([np.inf, np.inf, -eps, -eps, -eps, 0.0, 0.0])
    np.testing.assert_array_equal(square_well(r, eps, sigma, lam), expected)


def test_square_well_parameter_gradients_finite():
    """d exp(-u/kT)/d eps is exp(eps/kT)/kT in the well, 0 in the core and beyond, never NaN."""
    kT = 2.5

    def boltzmann(eps, r):
        return jnp.exp(-square_well(r, eps, 3.0, 1.5) / kT)

    g = jax.vmap(jax.grad(boltzmann), in_axes=(None, 0))(1.0, jnp.array([1.0, 3.5, 6.0]))
    np.testing.assert_allclose(g, [0.0, math.exp(1.0 / kT) / kT, 0.0], rtol=RTOL)


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (lennard_jones, (3.7, 1.1, 3.4)),
        (lennard_jones, (5.0, 0.8, 3.0)),
        (mie, (3.9, 1.1, 3.4, 14.0, 5.5)),
        (mie, (6.0, 0.9, 3.6, 20.0, 6.0)),
    ],
)
def test_gradients_against_central_differences(fn, args):
    """jax.grad (first and second order, fwd and rev) vs central differences, float64.

    Step h = 1e-4 (check_grads' eps, along random directions). The truncation error of a
    central difference is h^2 |f'''| / 6; near the well |u'''| / |u'| ~ (n / r)^2 <~ 30 per
    angstrom^2, so the relative error is ~ 1e-8 x 30 / 6 ~ 5e-8, and rounding adds
    ~ 1e-16 / h ~ 1e-12. rtol = atol = 1e-5 sits well above both; a wrong derivative (a
    missing factor or sign) is off by O(1).
    """
    check_grads(fn, args, order=2, modes=("fwd", "rev"), eps=1e-4, atol=1e-5, rtol=1e-5)


def test_square_well_gradient_in_r_is_zero_away_from_edges():
    """Piecewise constant: du/dr = 0 inside each region (finite differences would agree)."""
    g = jax.vmap(jax.grad(square_well), in_axes=(0, None, None, None))(
        jnp.array([3.5, 6.0]), 1.0, 3.0, 1.5
    )
    np.testing.assert_array_equal(g, [0.0, 0.0])


@pytest.mark.parametrize("spec", [LENNARD_JONES, MIE, MIE_VDW, SQUARE_WELL])
def test_registry_entries(spec):
    """Registered by name; every parameter has a known unit and a prior inside its support."""
    assert get_potential(spec.name) is spec
    assert spec.kind == "pair"
    for p in spec.params:
        assert p.unit == INTERNAL_UNITS[p.dimension]
        assert p.prior_unit in known_units(p.dimension)
        p.default_prior.check_within(p.support)  # raises ProblemError otherwise
        assert p.support.contains(p.default_prior.median())
    assert "doi:" in spec.reference
    params = {p.name: p.default_prior.median() for p in spec.params}
    assert spec.length_scale(**params) == params["sigma"]


def test_spec_callables():
    """Breakpoints: none for LJ and Mie, (sigma, lam sigma) for the square well."""
    assert LENNARD_JONES.breakpoints(epsilon=1.0, sigma=3.4) == ()
    assert MIE.breakpoints(epsilon=1.0, sigma=3.4, n=12.0, m=6.0) == ()
    assert SQUARE_WELL.breakpoints(epsilon=1.0, sigma=3.0, lam=1.5) == (3.0, 4.5)
    assert SQUARE_WELL.hard_core and not LENNARD_JONES.hard_core and not MIE.hard_core
    assert MIE.param_names == ("epsilon", "sigma", "n", "m")


def test_mie_supports_keep_n_above_m_above_3():
    """The disjoint supports guarantee n > m > 3 (finite B2) for every allowed pair."""
    n = next(p for p in MIE.params if p.name == "n").support
    m = next(p for p in MIE.params if p.name == "m").support
    assert n.low > m.high
    assert m.low > 3.0


@pytest.mark.parametrize(("n", "m"), [(6.0, 6.0), (5.0, 6.0), (12.0, 0.0), (12.0, -1.0)])
def test_mie_is_nan_without_a_repulsive_exponent_above_the_attractive(n, m):
    """n <= m (C = n/(n-m) (n/m)^(m/(n-m)) is undefined at n = m, and below it the curve
    has no well) or m <= 0 is no Mie potential: NaN, not a ZeroDivisionError (Python
    floats, n = m) or a curve; its gradient stays finite (zero) so a masked row cannot
    poison the gradient of the rows beside it. Beside it, a valid pair is unchanged."""
    r = jnp.linspace(3.0, 8.0, 5)
    assert np.all(np.isnan(mie(r, 1.0, 3.4, n, m)))
    g = jax.grad(lambda e: jnp.nansum(mie(r, e, 3.4, n, m)))(1.0)
    assert np.isfinite(g)
    both = jax.vmap(lambda nn, mm: mie(4.0, 1.0, 3.4, nn, mm))(
        jnp.array([n, 12.0]), jnp.array([m, 6.0])
    )
    assert np.isnan(both[0])
    np.testing.assert_allclose(both[1], lennard_jones(4.0, 1.0, 3.4), rtol=RTOL)
    d = jax.grad(lambda nn: jnp.nansum(mie(r, 1.0, 3.4, nn, m)))(n)
    assert np.isfinite(d)


def test_mie_vdw_is_mie_at_epsilon_vdw_over_alpha():
    """``mie_vdw`` at epsilon_vdw is ``mie`` at epsilon = epsilon_vdw / alpha(n, m), alpha =
    C [1/(m-3) - 1/(n-3)] written out here (Ramrattan et al. 2015, eq. 6): its well depth
    is -epsilon_vdw / alpha at r_min = sigma (n/m)^(1/(n-m)) (closed form); the LJ 12-6
    case has alpha = 8/9 exactly. Its other parameters are mie's."""
    assert MIE_VDW.param_names == ("epsilon_vdw", "sigma", "n", "m")
    assert MIE_VDW.params[1:] == MIE.params[1:]
    assert vdw_alpha(12.0, 6.0) == pytest.approx(8.0 / 9.0, rel=1e-15)
    rng = np.random.default_rng(5)
    for _ in range(5):
        e_vdw, sigma = rng.uniform(0.1, 10.0), rng.uniform(2.0, 5.0)
        n, m = rng.uniform(6.5, 50.0), rng.uniform(4.0, 6.0)
        c = n / (n - m) * (n / m) ** (m / (n - m))
        alpha = c * (1.0 / (m - 3.0) - 1.0 / (n - 3.0))
        r = np.linspace(0.9, 3.0, 9) * sigma
        np.testing.assert_allclose(
            mie_vdw(r, e_vdw, sigma, n, m), mie(r, e_vdw / alpha, sigma, n, m), rtol=RTOL
        )
        r_min = sigma * (n / m) ** (1.0 / (n - m))
        np.testing.assert_allclose(mie_vdw(r_min, e_vdw, sigma, n, m), -e_vdw / alpha, rtol=RTOL)
