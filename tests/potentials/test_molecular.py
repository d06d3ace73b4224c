"""Pair potentials of rigid linear molecules against independent constructions.

References, each rebuilt inside the test that uses it:

* 2CLJ: the four site-site LJ energies summed over explicit 3D site
  coordinates of two randomly placed and oriented molecules (NumPy vectors
  and norms; the angles theta1, theta2, phi are then measured from those
  coordinates), so the test checks the module's closed-form distances and
  its angle convention at once.
* Point dipoles and quadrupoles: Coulomb's law between explicit point
  charges (a dipole +q, -q at +-d/2 along the axis, mu = q d; a linear
  quadrupole +q, -2q, +q at -d, 0, +d, Buckingham's Q = 2 q d^2), summed in
  extended precision (numpy.longdouble) and extrapolated to d -> 0 with
  Richardson's rule (the finite-size error is even in d: O(d^2) relative,
  removed; what is left is O(d^4 / r^4) ~ 1e-9 at the d used).
* The Coulomb constant 1389.35457 kJ mol^-1 angstrom e^-2 and the debye
  0.20819434 e angstrom, recomputed from CODATA 2018 values typed in here.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from bayesff.potentials import get_potential
from bayesff.potentials.molecular import (
    STOCKMAYER,
    TWO_CENTRE_LJ,
    TWO_CENTRE_LJ_QUADRUPOLE,
    dipole_dipole,
    quadrupole_quadrupole,
    two_centre_contact_distance,
)
from bayesff.units import factor, to_internal

# CODATA 2018 (E. Tiesinga et al., Rev. Mod. Phys. 93, 025010 (2021)), typed in.
E_C = 1.602176634e-19
EPS0 = 8.8541878128e-12
N_A = 6.02214076e23
C_LIGHT = 299792458.0
KE = E_C**2 * N_A / (4 * math.pi * EPS0) / 1e-10 / 1e3  # kJ/mol angstrom / e^2


def test_electrostatic_units():
    """Coulomb constant and debye from CODATA 2018 (rtol 1e-12: float rounding only)."""
    from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM, DEBYE_E_ANGSTROM

    np.testing.assert_allclose(COULOMB_KJ_PER_MOL_ANGSTROM, KE, rtol=1e-12)
    assert abs(COULOMB_KJ_PER_MOL_ANGSTROM - 1389.35457) < 1e-5  # the value quoted in issue 14
    np.testing.assert_allclose(DEBYE_E_ANGSTROM, 1e-21 / C_LIGHT / (E_C * 1e-10), rtol=1e-12)
    np.testing.assert_allclose(to_internal(1.0, "B", "quadrupole"), DEBYE_E_ANGSTROM, rtol=1e-15)
    np.testing.assert_allclose(to_internal(1.0, "D", "dipole"), 0.2081943, rtol=1e-6)
    # 1 atomic unit of polarisability volume is a0^3
    np.testing.assert_allclose(factor("bohr^3", "polarisability"), 0.529177210903**3, rtol=1e-14)


def _random_pair(rng, r):
    """Two molecules: centres 0 and r along a random direction, random axes.

    Returns (centre1, centre2, e1, e2) and the angles measured from them.
    """
    rot = Rotation.random(random_state=rng)
    rhat = rot.apply([0.0, 0.0, 1.0])
    e1 = Rotation.random(random_state=rng).apply([0.0, 0.0, 1.0])
    e2 = Rotation.random(random_state=rng).apply([0.0, 0.0, 1.0])
    c1, c2 = e1 @ rhat, e2 @ rhat
    p1, p2 = e1 - c1 * rhat, e2 - c2 * rhat
    cphi = p1 @ p2 / (np.linalg.norm(p1) * np.linalg.norm(p2))
    angles = (math.acos(c1), math.acos(c2), math.acos(np.clip(cphi, -1, 1)))
    return np.zeros(3), r * rhat, e1, e2, angles


def _lj(d, eps, sig):
    s6 = (sig / d) ** 6
    return 4 * eps * (s6 * s6 - s6)


@pytest.mark.parametrize("seed", range(5))
def test_two_centre_lj_against_explicit_sites(seed):
    """2CLJ energy = sum of 4 site-site LJ terms from explicit coordinates (rtol 1e-12)."""
    rng = np.random.default_rng(seed)
    eps, sig, L = 0.8, 3.3, 1.7
    for r in (3.0, 4.2, 7.5):
        a, b, e1, e2, (t1, t2, ph) = _random_pair(rng, r)
        sites1 = [a + 0.5 * L * e1, a - 0.5 * L * e1]
        sites2 = [b + 0.5 * L * e2, b - 0.5 * L * e2]
        ref = sum(_lj(np.linalg.norm(x - y), eps, sig) for x in sites1 for y in sites2)
        got = TWO_CENTRE_LJ.energy(r, t1, t2, ph, epsilon=eps, sigma=sig, L=L)
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def _coulomb_sum(charges1, charges2):
    """Coulomb energy between two sets of (q, position) in long double, kJ/mol."""
    tot = np.longdouble(0)
    for q1, x1 in charges1:
        for q2, x2 in charges2:
            d = np.asarray(x1, dtype=np.longdouble) - np.asarray(x2, dtype=np.longdouble)
            tot += np.longdouble(q1) * np.longdouble(q2) / np.sqrt(np.sum(d * d))
    return float(tot * np.longdouble(KE))


def _richardson(f, d):
    """Limit d -> 0 of f(d) = f0 + a d^2 + O(d^4)."""
    return (4.0 * f(d / 2) - f(d)) / 3.0


@pytest.mark.parametrize("seed", range(4))
def test_quadrupole_quadrupole_against_point_charges(seed):
    """u_QQ (Gray-Gubbins form) = d -> 0 limit of two +q,-2q,+q charge triplets (rtol 1e-7).

    Tolerance: Richardson leaves O((d/r)^4) ~ (0.04/6)^4 = 2e-9 relative;
    long-double cancellation of 9 terms of ~1e6 kJ/mol adds ~1e-12.
    """
    rng = np.random.default_rng(100 + seed)
    Q = 0.6  # e angstrom^2
    r = 6.0
    a, b, e1, e2, (t1, t2, ph) = _random_pair(rng, r)

    def triplet(centre, e, d):
        q = Q / (2 * d * d)
        return [(q, centre + d * e), (-2 * q, centre), (q, centre - d * e)]

    ref = _richardson(lambda d: _coulomb_sum(triplet(a, e1, d), triplet(b, e2, d)), 0.04)
    c1, c2 = math.cos(t1), math.cos(t2)
    got = quadrupole_quadrupole(r, c1, math.sin(t1), c2, math.sin(t2), math.cos(ph), Q)
    np.testing.assert_allclose(got, ref, rtol=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_dipole_dipole_against_point_charges(seed):
    """u_dd = d -> 0 limit of two +-q charge pairs, head at +d/2 along e (rtol 1e-7)."""
    rng = np.random.default_rng(200 + seed)
    mu = 0.4  # e angstrom
    r = 5.0
    a, b, e1, e2, (t1, t2, ph) = _random_pair(rng, r)

    def pair(centre, e, d):
        q = mu / d
        return [(q, centre + 0.5 * d * e), (-q, centre - 0.5 * d * e)]

    ref = _richardson(lambda d: _coulomb_sum(pair(a, e1, d), pair(b, e2, d)), 0.04)
    got = dipole_dipole(
        r, math.cos(t1), math.sin(t1), math.cos(t2), math.sin(t2), math.cos(ph), mu
    )
    np.testing.assert_allclose(got, ref, rtol=1e-7)


def test_dipole_head_to_tail_and_stockmayer_decomposition():
    """Head to tail u_dd = -2 k mu^2 / r^3 (Stockmayer 1941); Stockmayer = LJ + u_dd."""
    mu, r = 0.35, 4.0
    np.testing.assert_allclose(
        dipole_dipole(r, 1.0, 0.0, 1.0, 0.0, 1.0, mu), -2 * KE * mu**2 / r**3, rtol=1e-12
    )
    eps, sig = 1.3, 3.1
    t1, t2, ph = 0.3, 2.1, 1.2
    lj = _lj(r, eps, sig)
    udd = dipole_dipole(r, np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2), np.cos(ph), mu)
    np.testing.assert_allclose(
        STOCKMAYER.energy(r, t1, t2, ph, epsilon=eps, sigma=sig, mu=mu), lj + udd, rtol=1e-12
    )


def test_two_centre_lj_at_zero_elongation_is_lj_with_four_epsilon():
    """At L = 0 the four sites coincide: u = 4 x LJ(eps) = LJ(4 eps), in every orientation."""
    rng = np.random.default_rng(3)
    r = np.linspace(2.8, 9.0, 7)
    for _ in range(5):
        t1, t2, ph = rng.uniform(0, math.pi, 3)
        got = TWO_CENTRE_LJ.energy(r, t1, t2, ph, epsilon=0.7, sigma=3.4, L=0.0)
        np.testing.assert_allclose(got, _lj(r, 4 * 0.7, 3.4), rtol=1e-13)


def test_contact_distance():
    """Closest site pair exactly sigma apart at r_c; sigma at L = 0; sigma + L head to tail."""
    sig, L = 3.3, 2.1
    assert float(two_centre_contact_distance(1.0, 0.0, 1.0, 0.0, 1.0, sigma=sig, L=L)) == (
        pytest.approx(sig + L, rel=1e-14)
    )
    rng = np.random.default_rng(7)
    for _ in range(20):
        c1, c2 = rng.uniform(-1, 1, 2)
        cp = math.cos(rng.uniform(0, math.pi))
        s1, s2 = math.sqrt(1 - c1 * c1), math.sqrt(1 - c2 * c2)
        assert float(two_centre_contact_distance(c1, s1, c2, s2, cp, sigma=sig, L=0.0)) == (
            pytest.approx(sig, rel=1e-14)
        )
        rc = float(two_centre_contact_distance(c1, s1, c2, s2, cp, sigma=sig, L=L))
        e1 = np.array([s1, 0.0, c1])
        e2 = np.array([s2 * cp, s2 * math.sqrt(1 - cp * cp), c2])
        d = min(
            np.linalg.norm(np.array([0, 0, rc]) + b * e2 - a * e1)
            for a in (L / 2, -L / 2)
            for b in (L / 2, -L / 2)
        )
        assert d == pytest.approx(sig, rel=1e-12)


@pytest.mark.parametrize("name", ["two_centre_lj", "two_centre_lj_quadrupole", "stockmayer"])
def test_registered_and_priors_inside_support(name):
    """Registry entries: kind 'linear', known units, default priors inside the supports."""
    pot = get_potential(name)
    assert pot.kind == "linear"
    for spec in pot.params:
        f = factor(spec.prior_unit, spec.dimension)
        spec.default_prior.scaled(f).check_within(spec.support)


def test_energies_are_differentiable():
    """jax.grad of each energy in every parameter is finite at a typical geometry."""
    args = (4.0, 0.4, 1.3, 2.0)
    cases = [
        (TWO_CENTRE_LJ, {"epsilon": 0.5, "sigma": 3.3, "L": 1.1}),
        (TWO_CENTRE_LJ_QUADRUPOLE, {"epsilon": 0.5, "sigma": 3.3, "L": 1.1, "Q": 0.8}),
        (STOCKMAYER, {"epsilon": 1.5, "sigma": 3.0, "mu": 0.4}),
    ]
    for pot, p in cases:
        g = jax.grad(lambda q, pot=pot: pot.energy(*args, **q))(p)
        assert all(np.isfinite(float(v)) for v in g.values()), pot.name
