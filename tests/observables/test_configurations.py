"""Configuration observables: the dimer energy u(r)."""

import numpy as np

from bayesff.observables import get_observable
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
