"""The published argon reference potential (Aziz HFD-ID1, doi:10.1063/1.466106)."""

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from bayesff.potentials import get_potential
from bayesff.potentials.reference import (
    ARGON_HFDID1,
    HFDID1_EPSILON_K,
    HFDID1_R_M_ANGSTROM,
    HFDID1_SIGMA_ANGSTROM,
    argon_hfdid1,
    hfdid1,
)
from bayesff.units import BOHR_RADIUS_ANGSTROM, GAS_CONSTANT_KJ_PER_MOL_K

from support import ARGON_B2

R = GAS_CONSTANT_KJ_PER_MOL_K
PUBLISHED = {"epsilon": HFDID1_EPSILON_K * R, "r_m": HFDID1_R_M_ANGSTROM}


def u_K(r):
    return float(hfdid1(r)) / R


def test_minimum_is_the_published_well_depth_at_the_published_r_m():
    # Aziz (1993), doi:10.1063/1.466106: eps/k = 143.235 K at r_m = 3.757 angstrom
    # (the values stated by both public implementations cited in the module; the
    # task brief's "eps/k ~ 143 K at r_m ~ 3.76 angstrom"). Tolerance: the curve
    # computed from the reduced constants must put its minimum there to the
    # digits given (1e-3 K, 1e-3 angstrom).
    res = minimize_scalar(u_K, bounds=(3.5, 4.0), method="bounded", options={"xatol": 1e-9})
    assert res.x == pytest.approx(3.757, abs=1e-3)
    assert -res.fun == pytest.approx(143.235, abs=1e-3)


def test_zero_crossing_sigma_is_near_3_35_angstrom():
    # The zero crossing of accurate argon pair potentials is 3.35-3.36 angstrom
    # (e.g. sigma = 3.3605 angstrom, eps/k = 142.095 K for the Barker-Fisher-Watts
    # potential, Mol. Phys. 21, 657 (1971), as tabulated on SklogWiki "Argon");
    # HFD-ID1's computed crossing is 3.3502 angstrom. Tolerance 0.02 angstrom
    # covers the spread between the published accurate potentials.
    sigma = brentq(u_K, 3.0, 3.6, xtol=1e-12)
    assert sigma == pytest.approx(HFDID1_SIGMA_ANGSTROM, abs=1e-4)
    assert 3.34 < sigma < 3.37


def test_agrees_with_the_second_implementation_in_atomic_units():
    # Second, independent statement of the same constants (etomica
    # P2ArgonAziz1993, MPL 2.0): beta = -0.168 angstrom^-2 and dispersion
    # coefficients in atomic units (E_h a0^n). Written here in NumPy from those
    # numbers, not from our reduced ones. Tolerance 3e-5 relative: the two sets
    # of C_n are each rounded (C6 = 63.5 a.u. has 3 digits; the reduced C6* = 1.0931
    # it implies differs from 1.09310 by 3e-5).
    a0 = BOHR_RADIUS_ANGSTROM
    hartree_K = 4.3597447222071e-18 / 1.380649e-23  # CODATA 2018 E_h / k_B
    cn = {6: 63.5, 8: 1510.0, 10: 48000.0, 12: 2069581.26, 14: 116670633.0}

    def u_au(r):
        rb = r / a0
        s = 1.107 * rb
        scf = 87393.3927 * 143.235 * np.exp(-9.03228328 / 3.757 * r - 0.168 * r * r)
        f = 1.0 - s**1.68 * np.exp(-0.78 * s)
        g = {n: (1.0 - np.exp(-2.1 * s / n - 0.109 * s * s / np.sqrt(n))) ** n for n in cn}
        return scf - f * sum(c * g[n] / rb**n for n, c in cn.items()) * hartree_K

    r = np.linspace(3.0, 12.0, 37)
    ours = np.asarray(hfdid1(r)) / R
    np.testing.assert_allclose(ours, u_au(r), rtol=3e-5, atol=1e-6)


def test_long_range_is_the_c6_dispersion_tail():
    # Closed form of the model: for r >> r_m all damping -> 1 and
    # u r^6 -> -(C6 + C8/r^2 + ...) with C6 = 63.5, C8 = 1510 E_h a0^n (the
    # etomica statement of the constants). At r = 40 angstrom, C8/(C6 r^2) ~ 4e-3 and
    # C10/(C6 r^4) ~ 2e-5, so two terms suffice to 1e-3.
    r = 40.0
    hartree_kj = 4.3597447222071e-18 * 6.02214076e23 / 1e3
    c6_au = -float(hfdid1(r)) * (r / BOHR_RADIUS_ANGSTROM) ** 6 / hartree_kj
    assert c6_au == pytest.approx(63.5 * (1 + 1510 / 63.5 / (r / BOHR_RADIUS_ANGSTROM) ** 2), 1e-3)


def test_repulsive_at_short_range_without_a_spurious_turnover():
    # An HFD form can turn over at very short range; here u > 0 on 0.05-3.3 angstrom
    # and decreases monotonically (checked on a grid of 400 points).
    r = np.linspace(0.05, 3.3, 400)
    u = np.asarray(hfdid1(r))
    assert np.all(u > 0) and np.all(np.diff(u) < 0)


def test_registered_and_equal_to_the_reference_at_the_published_parameters():
    assert get_potential("argon_hfdid1") is ARGON_HFDID1
    r = np.linspace(3.0, 10.0, 15)
    np.testing.assert_allclose(argon_hfdid1(r, **PUBLISHED), hfdid1(r), rtol=1e-14)
    # corresponding-states rescaling: minimum moves to r_m, depth to epsilon
    u = argon_hfdid1(np.array([4.0]), epsilon=2.0, r_m=4.0)
    np.testing.assert_allclose(u, [-2.0], rtol=1e-6)


def test_default_priors_are_centred_on_the_published_values():
    specs = {p.name: p for p in ARGON_HFDID1.params}
    assert specs["epsilon"].default_prior.median() == HFDID1_EPSILON_K
    assert specs["epsilon"].prior_unit == "K"
    assert specs["r_m"].default_prior.median() == HFDID1_R_M_ANGSTROM


def test_second_virial_matches_the_argon_reference_eos():
    # Independent physics check: the classical B2 of HFD-ID1 against B2 of the
    # Tegeler-Span-Wagner reference EOS (data/argon/b2.csv, doi:10.1063/1.556037).
    # Measured |B2(HFD-ID1) - B2(TSW)| <= 0.55 u_B2 on 85-700 K (classical B2, no
    # quantum correction); the test asks for < 1 u_B2, the file's standard uncertainty.
    from bayesff.observables.virial import second_virial

    d = np.loadtxt(ARGON_B2, delimiter=",", skiprows=1)
    rows = np.isin(d[:, 0], [85.0, 120.0, 200.0, 300.0, 500.0, 700.0])
    T, b2, u = d[rows, 0], d[rows, 1], d[rows, 2]
    got = np.asarray(second_virial(ARGON_HFDID1, PUBLISHED, T))
    assert np.all(np.abs(got - b2) < u), (got - b2) / u
