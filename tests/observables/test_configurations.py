"""Configuration observables: dimer energy and force, configuration energies and forces."""

import jax
import numpy as np
import pytest

from bayesff.configdata import random_trimers
from bayesff.observables import get_observable
from bayesff.observables.configurations import (
    configuration_energy,
    configuration_forces,
    energies_and_forces,
)
from bayesff.potentials.pair import LENNARD_JONES


def test_pair_energy_is_the_potential_at_its_closed_form_points():
    # LJ closed form: u(sigma) = 0 and u(2^(1/6) sigma) = -epsilon exactly.
    predict = get_observable("pair_energy").build(LENNARD_JONES)
    eps, sig = 0.99607, 3.405  # kJ/mol, angstrom
    r = np.array([sig, 2 ** (1 / 6) * sig])
    got = predict({"epsilon": eps, "sigma": sig}, {"r_angstrom": r})
    np.testing.assert_allclose(got, [0.0, -eps], atol=1e-12)


def test_pair_force_is_minus_the_lj_derivative_in_closed_form():
    # LJ closed form: F(r) = 24 eps/r (2 (sigma/r)^12 - (sigma/r)^6); zero at 2^(1/6) sigma.
    predict = get_observable("pair_force").build(LENNARD_JONES)
    eps, sig = 0.99607, 3.405  # kJ/mol, angstrom
    r = np.array([3.2, 2 ** (1 / 6) * sig, 4.5, 8.0])
    want = 24 * eps / r * (2 * (sig / r) ** 12 - (sig / r) ** 6)
    got = predict({"epsilon": eps, "sigma": sig}, {"r_angstrom": r})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- configurations
LJ = {"epsilon": 0.99607, "sigma": 3.405}  # kJ/mol, angstrom (119.8 K, Michels et al. 1949)


def _cluster(n=5, seed=0):
    """n atoms on a loose random cluster, all pair distances >= 3 angstrom."""
    rng = np.random.default_rng(seed)
    x = [np.zeros(3)]
    while len(x) < n:
        y = rng.uniform(-5.0, 5.0, 3)
        if min(np.linalg.norm(y - z) for z in x) >= 3.0:
            x.append(y)
    return np.array(x)


def test_dimer_energy_is_the_pair_potential():
    # Closed form: a two-atom configuration has E = u(r) exactly.
    r = 3.9
    x = np.array([[0.1, -0.2, 0.3], [0.1, -0.2, 0.3]]) + np.array([[0, 0, 0], [0.6, 0.0, -r]])
    rr = np.linalg.norm(x[1] - x[0])
    got = configuration_energy(LENNARD_JONES, LJ, x)
    np.testing.assert_allclose(got, LENNARD_JONES.energy(rr, **LJ), rtol=1e-14)


def test_forces_are_minus_the_gradient_by_central_differences():
    # Central differences with step h = 1e-5 angstrom: truncation error ~ h^2 u''' ~ 1e-9
    # and rounding ~ 1e-16 / h ~ 1e-11, so rtol 1e-7 is safe.
    x = _cluster()
    f = np.asarray(configuration_forces(LENNARD_JONES, LJ, x))
    h = 1e-5
    fd = np.zeros_like(x)
    for i in range(x.shape[0]):
        for a in range(3):
            xp, xm = x.copy(), x.copy()
            xp[i, a] += h
            xm[i, a] -= h
            ep = float(configuration_energy(LENNARD_JONES, LJ, xp))
            em = float(configuration_energy(LENNARD_JONES, LJ, xm))
            fd[i, a] = -(ep - em) / (2 * h)
    np.testing.assert_allclose(f, fd, rtol=1e-7, atol=1e-9)


def test_newton_third_law_and_invariances():
    # Exact symmetries: sum F = 0; E invariant and F covariant under rigid motions.
    x = _cluster(6, seed=1)
    e = float(configuration_energy(LENNARD_JONES, LJ, x))
    f = np.asarray(configuration_forces(LENNARD_JONES, LJ, x))
    np.testing.assert_allclose(f.sum(axis=0), 0.0, atol=1e-12)
    q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((3, 3)))
    y = x @ q.T + np.array([10.0, -3.0, 0.5])
    np.testing.assert_allclose(configuration_energy(LENNARD_JONES, LJ, y), e, rtol=1e-12)
    np.testing.assert_allclose(configuration_forces(LENNARD_JONES, LJ, y), f @ q.T, atol=1e-12)


def test_batched_equals_single_and_is_jittable():
    xs = random_trimers(np.random.default_rng(3), 4, 3.0, 7.0)
    e, f = jax.jit(lambda p, x: energies_and_forces(LENNARD_JONES, p, x))(LJ, xs)
    for m in range(4):
        np.testing.assert_allclose(e[m], configuration_energy(LENNARD_JONES, LJ, xs[m]))
        np.testing.assert_allclose(f[m], configuration_forces(LENNARD_JONES, LJ, xs[m]))
    assert e.shape == (4,) and f.shape == (4, 3, 3)


def test_bad_shapes_are_refused_before_tracing():
    with pytest.raises(ValueError, match=r"shape \(N, 3\).*got shape \(3, 2\)"):
        configuration_energy(LENNARD_JONES, LJ, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\(M, N, 3\).*got shape \(3, 3\)"):
        energies_and_forces(LENNARD_JONES, LJ, np.zeros((3, 3)))


def test_coincident_atoms_are_not_a_silent_zero():
    x = np.zeros((2, 3))
    assert not np.isfinite(float(configuration_energy(LENNARD_JONES, LJ, x)))
