r"""Orientation-averaged B2 of linear molecules against exact and published results.

References, each recomputed inside the test that uses it:

* Lennard-Jones: the exact series of Hirschfelder, Curtiss and Bird (1954),
  eq. 3.6-8, imported from ``tests/observables/test_virial.py`` (``lj_b2_star``,
  cross-checked there against mpmath to 2e-15).
* Stockmayer: Stockmayer's exact double series (W. H. Stockmayer, J. Chem.
  Phys. 9, 398 (1941), doi:10.1063/1.1750922; HCB 1954, sec. 3.10),

  .. math::

      \frac{B_2}{b_0} = B^*_{LJ}(T^*) - 3\sum_{n\ge1}
          \frac{\langle f^{2n}\rangle}{(2n)!}\left(\frac{\mu^{*2}}{T^*}\right)^{2n}
          \sum_{j\ge0}\frac{a^j}{j!}\,\frac{a^{(3-6n-6j)/12}}{12}\,
          \Gamma\!\left(\frac{2n+2j-1}{4}\right),\quad a = \frac{4}{T^*},

  with the moments of :math:`f = \sin\theta_1\sin\theta_2\cos\phi - 2\cos\theta_1\cos\theta_2`
  over the three angles in closed form (Beta functions),
  :math:`\langle f^{2n}\rangle = \sum_m \binom{2n}{2m}4^{n-m}\binom{2m}{m}4^{-m}
  [\tfrac12 B(n-m+\tfrac12, m+1)]^2`. This uses neither the module's
  quadrature nor its series coefficients (those come from averaging over one
  dipole analytically, a different derivation).
* Published: the coefficients :math:`\langle f^{2n}\rangle/(2n)!` of that
  series as exact fractions, n = 1..12, from K. Bartke and R. Hentschke,
  Phys. Rev. E 75, 061503 (2007), doi:10.1103/PhysRevE.75.061503.
  No published table of numerical B2 values of the 2CLJ or 2CLJQ model, or
  of the Stockmayer model, could be found with the search tools of this
  project (T. Boublik, Collect. Czech. Chem. Commun. 59, 756 (1994),
  computed 2CLJ B2 for L* in (0, 1), T* = 0.6-3, but its numbers were not
  reachable), so 2CLJ is checked through its L = 0 limit, convergence in the
  nodes, and the explicit-site energy test in ``tests/potentials``.
* High-temperature orientation averages (second-order perturbation in u):
  :math:`-k_BT\ln\langle e^{-u/k_BT}\rangle \to -\langle u^2\rangle/(2k_BT)`
  with :math:`\langle u_{QQ}^2\rangle = \frac{14}{5}\frac{Q^4}{(4\pi\varepsilon_0)^2r^{10}}`
  (free energy :math:`-\frac75 Q^4/((4\pi\varepsilon_0)^2k_BTr^{10})`) and
  :math:`\langle u_{\mu\mu}^2\rangle = \frac23\frac{\mu^4}{(4\pi\varepsilon_0)^2r^6}`.
  For dipoles the free energy is therefore :math:`-\frac13\mu^4/(\ldots k_BTr^6)`;
  the Keesom result :math:`-\frac23\mu^4/((4\pi\varepsilon_0)^2k_BTr^6)` is the
  Boltzmann-averaged *energy* :math:`\langle u e^{-\beta u}\rangle/\langle e^{-\beta u}\rangle`
  (W. H. Keesom, Phys. Z. 22, 129 (1921); J. Israelachvili, *Intermolecular
  and Surface Forces*, 3rd ed. (2011), eq. 5.22). Both are checked.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from observables.test_virial import lj_b2_star
from scipy.integrate import quad
from scipy.special import beta as beta_fn
from scipy.special import gammaln

from bayesff.observables.orientational import (
    angular_rule,
    build,
    orientation_averaged_mayer,
    second_virial_linear,
)
from bayesff.potentials import LENNARD_JONES
from bayesff.potentials.molecular import (
    STOCKMAYER,
    TWO_CENTRE_LJ,
    TWO_CENTRE_LJ_QUADRUPOLE,
    stockmayer_average_coefficients,
    stockmayer_mayer_average,
    stockmayer_series_range,
)
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM as KE
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

N_A = 6.02214076e23
EPS = 100.0 * R  # 100 K in kJ/mol
SIG = 3.4


def b0(sigma):
    """2 pi N_A sigma^3 / 3 in cm^3/mol."""
    return 2 * math.pi * N_A * sigma**3 / 3 * 1e-24


def q_of(q_star2, eps=EPS, sig=SIG):
    """Q (e angstrom^2) for a reduced Q*^2 = Q^2 / (4 pi eps0 eps sigma^5)."""
    return math.sqrt(q_star2 * eps * sig**5 / KE)


def mu_of(mu_star2, eps, sig):
    """mu (e angstrom) for mu*^2 = mu^2 / (4 pi eps0 eps sigma^3)."""
    return math.sqrt(mu_star2 * eps * sig**3 / KE)


# ----------------------------------------------------------------- angular rule


@pytest.mark.parametrize("ht", [True, False])
@pytest.mark.parametrize("phi_rule", ["chebyshev", "legendre"])
def test_angular_rule_moments(ht, phi_rule):
    """Exact low moments of the uniform orientation average (rtol 1e-13).

    <cos^2 theta1 + cos^2 theta2> = 2/3, <cos^2 theta1 cos^2 theta2> = 1/9,
    <(e1.e2)^2> = 1/3, and the dipole and quadrupole moments <f^2> = 2/3,
    <g^2> = 14/5, which set the high-temperature free energies (module
    docstring). All have the exchange symmetry the folded rules assume, and
    are polynomials in the cosines and in cos(phi) that the Gauss-Chebyshev
    phi rule integrates exactly (Gauss-Legendre in phi is given 16 nodes, so
    that its error on cos^2 phi and cos^4 phi is below rounding).
    """
    c1, s1, c2, s2, cp, w = angular_rule(6, 6 if phi_rule == "chebyshev" else 16, ht, phi_rule)
    assert w.sum() == pytest.approx(1.0, rel=1e-14)
    avg = lambda f: float(np.sum(w * f))  # noqa: E731
    e12 = s1 * s2 * cp + c1 * c2
    f = s1 * s2 * cp - 2 * c1 * c2
    g = 0.75 * (
        1 - 5 * c1**2 - 5 * c2**2 - 15 * c1**2 * c2**2 + 2 * (s1 * s2 * cp - 4 * c1 * c2) ** 2
    )
    for got, want in [
        (avg(c1**2 + c2**2), 2 / 3),
        (avg(c1**2 * c2**2), 1 / 9),
        (avg(e12**2), 1 / 3),
        (avg(f**2), 2 / 3),
        (avg(g**2), 14 / 5),
        (avg(g), 0.0),
    ]:
        assert got == pytest.approx(want, rel=1e-13, abs=1e-14)


# ------------------------------------------------------------ exact references


@pytest.mark.parametrize("method", ["auto", "quadrature"])
def test_two_centre_lj_at_zero_elongation_is_lj(method):
    """2CLJ(eps, sigma, L = 0) = LJ(4 eps, sigma): B2 vs the HCB series (rtol 1e-11).

    At L = 0 the radial panels are virial.py's, whose LJ B2 agrees with the
    series to <= 1e-11 over T* = 0.3..100 (test_virial.py); the angular rule
    only averages a constant.
    """
    t_star = np.geomspace(0.4, 50.0, 12)  # in units of 4 eps
    T = t_star * 4 * EPS / R
    got = second_virial_linear(
        TWO_CENTRE_LJ, {"epsilon": EPS, "sigma": SIG, "L": 0.0}, T, n_cos=4, n_phi=4
    )
    np.testing.assert_allclose(np.asarray(got) / b0(SIG), lj_b2_star(t_star), rtol=1e-11)


@pytest.mark.parametrize("method", ["auto", "quadrature"])
def test_stockmayer_without_dipole_is_lj(method):
    """Stockmayer at mu = 0 equals the LJ series, closed form and quadrature (rtol 1e-11)."""
    eps, sig = 250.0 * R, 3.0
    t_star = np.geomspace(0.5, 50.0, 10)
    got = second_virial_linear(
        STOCKMAYER, {"epsilon": eps, "sigma": sig, "mu": 0.0}, t_star * 250.0, method=method
    )
    np.testing.assert_allclose(np.asarray(got) / b0(sig), lj_b2_star(t_star), rtol=1e-11)


def _moment(n):
    """<f^{2n}> for two dipoles over the three angles (closed form, Beta functions)."""
    return sum(
        math.comb(2 * n, 2 * m)
        * 4.0 ** (n - m)
        * math.comb(2 * m, m)
        / 4.0**m
        * (0.5 * beta_fn(n - m + 0.5, m + 1)) ** 2
        for m in range(n + 1)
    )


def _lj_weighted_moment(n, t_star, terms=400):
    """int_0^inf x^(2-6n) exp(-4/T* (x^-12 - x^-6)) dx by the HCB-type series (n >= 1)."""
    a = 4.0 / t_star
    j = np.arange(terms)
    log_t = (
        j * math.log(a)
        - gammaln(j + 1)
        - math.log(12.0)
        + (3 - 6 * n - 6 * j) / 12 * math.log(a)
        + gammaln((2 * n + 2 * j - 1) / 4)
    )
    return float(np.exp(log_t).sum())


def stockmayer_b2_star(t_star, mu_star2, n_max=80):
    """B2 / b0 of the Stockmayer potential by Stockmayer's exact double series."""
    out = float(lj_b2_star(t_star)[0])
    y = mu_star2 / t_star
    for n in range(1, n_max):
        term = y ** (2 * n) * _moment(n) / math.factorial(2 * n) * _lj_weighted_moment(n, t_star)
        out -= 3 * term
        if abs(term) < 1e-19 * abs(out):
            return out
    raise AssertionError("Stockmayer reference series did not converge")


@pytest.mark.parametrize("mu_star2", [0.5, 2.0, 4.0])
def test_stockmayer_against_exact_series(mu_star2):
    """Closed form and angular quadrature vs Stockmayer's series (rtol 1e-10).

    Measured agreement 1e-16..5e-14 for T* <= 5; the tolerance leaves room for
    the reference's own series (a sum of ~100 terms with Gamma functions).
    """
    eps, sig = 200.0 * R, 3.0
    mu = mu_of(mu_star2, eps, sig)
    t_star = np.array([0.8, 1.5, 5.0])
    ref = np.array([stockmayer_b2_star(t, mu_star2) for t in t_star])
    p = {"epsilon": eps, "sigma": sig, "mu": mu}
    closed = np.asarray(second_virial_linear(STOCKMAYER, p, t_star * 200.0)) / b0(sig)
    quadr = second_virial_linear(
        STOCKMAYER, p, t_star * 200.0, method="quadrature", n_cos=24, n_phi=24
    )
    np.testing.assert_allclose(closed, ref, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(quadr) / b0(sig), ref, rtol=1e-10)


def test_stockmayer_coefficients_match_published():
    """c_n = <f^2n>/(2n)! vs Bartke and Hentschke (2007), exact fractions (rtol 1e-15)."""
    published = [
        Fraction(1, 3),
        Fraction(1, 25),
        Fraction(29, 11025),
        Fraction(11, 99225),
        Fraction(13, 4002075),
        Fraction(17, 243486243),
        Fraction(523, 456536705625),
        Fraction(31, 2094271554375),
        Fraction(66197, 428670161650355625),
        Fraction(83651, 63014513762602276875),
        Fraction(21253, 2222311852027773631125),
        Fraction(3660541, 62502520838281133375390625),
    ]
    c = stockmayer_average_coefficients(13)
    assert c[0] == 1.0
    np.testing.assert_allclose(c[1:], [float(x) for x in published], rtol=1e-15)
    # and the independent three-angle moments of this test module
    np.testing.assert_allclose(
        c[1:8], [_moment(n) / math.factorial(2 * n) for n in range(1, 8)], rtol=1e-13
    )


def test_stockmayer_series_range_is_rigorous():
    """At y = y_max(N) the dropped terms are < 1e-17 of G(y), in exact rational arithmetic."""
    terms = 32
    y = Fraction(stockmayer_series_range(terms))
    coef = [
        sum(Fraction(math.comb(n, k) * 3**k, 2 * k + 1) for k in range(n + 1))
        / math.factorial(2 * n + 1)
        for n in range(160)
    ]
    powers = [y ** (2 * n) for n in range(160)]
    total = sum(c * p for c, p in zip(coef, powers, strict=True))
    tail = sum(c * p for c, p in zip(coef[terms:], powers[terms:], strict=True))
    assert float(tail / total) < 1e-17
    assert float(coef[159] * powers[159] / total) < 1e-40  # 160 terms are the whole sum


def test_stockmayer_out_of_range_is_nan_not_a_number():
    """Beyond the series' range (mu*^2/T* = 40) B2 is NaN, the documented failure value."""
    eps, sig = 200.0 * R, 3.0
    p = {"epsilon": eps, "sigma": sig, "mu": mu_of(40.0, eps, sig)}
    assert np.isnan(float(second_virial_linear(STOCKMAYER, p, 200.0)))
    # and inside the range (mu*^2/T* = 6) it is finite
    p["mu"] = mu_of(6.0, eps, sig)
    assert np.isfinite(float(second_virial_linear(STOCKMAYER, p, 200.0)))


# ------------------------------------------------------- high-temperature limits


def _orders(dev_big, dev_small, ratio):
    """Observed order p of dev ~ h^p when h shrinks by ``ratio``."""
    return math.log(dev_big / dev_small) / math.log(ratio)


def test_quadrupole_free_energy_high_temperature():
    """-kT ln<exp(-u_QQ/kT)> -> -(7/5) Q^4 / ((4 pi eps0)^2 kT r^10), error O(1/T).

    Pure quadrupoles (LJ switched off, L = 0) at r = 4 angstrom; the relative
    deviation must fall as T^-1 (the next term is -<u^3>/(6 kT^2)... relative
    order beta u): observed order in 1/T within 0.1 of 1.
    """
    Q = 0.8
    p = {"epsilon": 0.0, "sigma": SIG, "L": 0.0, "Q": Q}
    r = 4.0
    devs = []
    for T in (2000.0, 4000.0, 8000.0):
        m = orientation_averaged_mayer(TWO_CENTRE_LJ_QUADRUPOLE, p, [r], [T], n_cos=8, n_phi=8)
        w = -R * T * math.log1p(float(m[0, 0]))
        leading = -7.0 / 5.0 * (KE * Q**2) ** 2 / (R * T * r**10)
        devs.append(abs(w / leading - 1))
    assert devs[-1] < 0.02
    assert _orders(devs[0], devs[1], 2) == pytest.approx(1.0, abs=0.1)
    assert _orders(devs[1], devs[2], 2) == pytest.approx(1.0, abs=0.1)


def test_dipole_free_energy_and_keesom_energy_high_temperature():
    """Dipoles: free energy -> -(1/3) mu^4/(..kT r^6), Keesom energy -> -(2/3) mu^4/(..kT r^6).

    Both from the closed-form average (and the free energy also from the
    angular quadrature); corrections are O(y^2), y = mu^2/(4 pi eps0 kT r^3)
    (odd moments vanish for dipoles): observed order 2 in 1/T.
    """
    mu, r = 0.4, 4.0
    fe_dev, en_dev = [], []
    for T in (1000.0, 2000.0, 4000.0):
        lead = (KE * mu**2) ** 2 / (R * T * r**6)

        def log_avg(t):
            m = stockmayer_mayer_average(jnp.asarray(r), 1.0 / (R * t), 0.0, 3.0, mu)
            return jnp.log1p(m)

        w = -R * T * float(log_avg(T))
        energy = R * T**2 * float(jax.grad(log_avg)(T))  # <u e^-bu>/<e^-bu> = -d ln Z / d beta
        fe_dev.append(abs(w / (-lead / 3) - 1))
        en_dev.append(abs(energy / (-2 * lead / 3) - 1))
        m_q = orientation_averaged_mayer(
            STOCKMAYER, {"epsilon": 0.0, "sigma": 3.0, "mu": mu}, [r], [T]
        )
        assert -R * T * math.log1p(float(m_q[0, 0])) == pytest.approx(w, rel=1e-12)
    assert fe_dev[-1] < 1e-3 and en_dev[-1] < 2e-3  # measured 5.1e-4 and 1.0e-3
    assert _orders(fe_dev[0], fe_dev[1], 2) == pytest.approx(2.0, abs=0.1)
    assert _orders(en_dev[0], en_dev[1], 2) == pytest.approx(2.0, abs=0.1)


def _leading_b2(eps4, sig, T, coef_over_r, power):
    """-2 pi N_A int r^2 exp(-u_LJ/kT) coef / r^power dr in cm^3/mol (scipy.quad)."""
    beta = 1.0 / (R * T)

    def f(r):
        s6 = (sig / r) ** 6
        return r**2 * math.exp(-beta * 4 * eps4 * (s6 * s6 - s6)) * coef_over_r / r**power

    pts = [0.8 * sig, sig, 1.5 * sig]
    val = sum(
        quad(f, a, b, epsabs=0, epsrel=1e-13, limit=200)[0]
        for a, b in zip([0.3 * sig, *pts], [*pts, np.inf], strict=True)
    )
    return -2 * math.pi * N_A * 1e-24 * val


def test_quadrupole_b2_leading_high_temperature_term():
    """B2(LJ + Q) - B2(LJ) -> -2 pi N_A int r^2 e^{-beta u_LJ} (7/5) beta^2 k^2 Q^4 / r^10 dr.

    2CLJQ at L = 0 (LJ with 4 eps plus a quadrupole); the radial integral of
    the leading term is done by adaptive quad. The relative deviation is
    O(beta Q^2) (the <u^3> term): halving Q*^2 must halve it (order 1 within 0.15).
    """
    T = 3.0 * 4 * EPS / R  # T* = 3 in units of the LJ depth 4 eps
    base = float(second_virial_linear(TWO_CENTRE_LJ, {"epsilon": EPS, "sigma": SIG, "L": 0.0}, T))
    devs = []
    for qs2 in (0.2, 0.1, 0.05):
        Q = q_of(qs2)
        p = {"epsilon": EPS, "sigma": SIG, "L": 0.0, "Q": Q}
        delta = float(second_virial_linear(TWO_CENTRE_LJ_QUADRUPOLE, p, T)) - base
        beta = 1.0 / (R * T)
        lead = _leading_b2(4 * EPS, SIG, T, 7.0 / 5.0 * beta**2 * (KE * Q**2) ** 2, 10)
        devs.append(abs(delta / lead - 1))
    assert devs[-1] < 0.05
    assert _orders(devs[0], devs[1], 2) == pytest.approx(1.0, abs=0.15)
    assert _orders(devs[1], devs[2], 2) == pytest.approx(1.0, abs=0.15)


def test_stockmayer_b2_leading_high_temperature_term():
    """B2(Stockmayer) - B2(LJ) -> -2 pi N_A int r^2 e^{-beta u_LJ} beta^2 k^2 mu^4 / (3 r^6) dr.

    Relative deviation O(y^2) ~ (mu*^2/T*)^2: halving mu*^2 quarters it (order 2 within 0.15).
    """
    eps, sig, T = 300.0 * R, 3.0, 1200.0
    base = float(second_virial_linear(STOCKMAYER, {"epsilon": eps, "sigma": sig, "mu": 0.0}, T))
    devs = []
    for ms2 in (0.4, 0.2, 0.1):
        mu = mu_of(ms2, eps, sig)
        delta = (
            float(second_virial_linear(STOCKMAYER, {"epsilon": eps, "sigma": sig, "mu": mu}, T))
            - base
        )
        beta = 1.0 / (R * T)
        lead = _leading_b2(eps, sig, T, beta**2 * (KE * mu**2) ** 2 / 3.0, 6)
        devs.append(abs(delta / lead - 1))
    assert devs[-1] < 0.01
    assert _orders(devs[0], devs[1], 2) == pytest.approx(2.0, abs=0.15)
    assert _orders(devs[1], devs[2], 2) == pytest.approx(2.0, abs=0.15)


# --------------------------------------------------------- convergence in nodes


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pot", "extra"),
    [(TWO_CENTRE_LJ, {}), (TWO_CENTRE_LJ_QUADRUPOLE, {"Q": q_of(1.0)})],
    ids=["2CLJ", "2CLJQ"],
)
def test_b2_converges_with_angular_nodes(pot, extra):
    """Elongation L/sigma = 0.8, T* = 1, 2, 5: error vs a (24, 40, 40) rule.

    Measured: 12 -> ~1e-6, 16 -> ~2e-8, 24 and 32 -> <= 1e-10 (the error
    falls geometrically until float64 rounding). Asserted: 24 and 32 nodes
    within 1e-8, and 12 nodes worse than 24 (the error does fall).
    """
    p = {"epsilon": EPS, "sigma": SIG, "L": 0.8 * SIG, **extra}
    T = np.array([1.0, 2.0, 5.0]) * EPS / R
    ref = np.asarray(second_virial_linear(pot, p, T, nodes_per_panel=24, n_cos=40, n_phi=40))
    err = {}
    for n in (12, 24, 32):
        got = second_virial_linear(pot, p, T, nodes_per_panel=16, n_cos=n, n_phi=n)
        err[n] = float(np.max(np.abs(np.asarray(got) / ref - 1)))
    assert err[24] < 1e-8 and err[32] < 1e-8
    assert err[12] > 10 * err[24]


def test_chebyshev_phi_rule_beats_legendre():
    """Both phi rules converge to the same B2; Chebyshev is more accurate at equal nodes."""
    p = {"epsilon": EPS, "sigma": SIG, "L": 0.8 * SIG}
    T = np.array([2.0]) * EPS / R
    ref = float(second_virial_linear(TWO_CENTRE_LJ, p, T, n_cos=20, n_phi=32)[0])
    err = {}
    for rule in ("chebyshev", "legendre"):
        got = float(
            second_virial_linear(TWO_CENTRE_LJ, p, T, n_cos=20, n_phi=10, phi_rule=rule)[0]
        )
        err[rule] = abs(got / ref - 1)
    assert err["chebyshev"] < 1e-6
    assert err["chebyshev"] < err["legendre"] / 10


def test_overlap_core_is_immaterial_and_needed():
    """2CLJQ B2 with core fractions 0.3, 0.4, 0.5 agrees to 1e-10; without a core it is -inf.

    L/sigma = 0.8, Q*^2 = 1, T* = 1, 5, 20 (measured spread <= 4e-12).
    """
    import dataclasses

    p = {"epsilon": EPS, "sigma": SIG, "L": 0.8 * SIG, "Q": q_of(1.0)}
    T = np.array([1.0, 5.0, 20.0]) * EPS / R
    kw = {"n_cos": 10, "n_phi": 10}
    ref = np.asarray(second_virial_linear(TWO_CENTRE_LJ_QUADRUPOLE, p, T, **kw))
    for x in (0.3, 0.5):
        pot = dataclasses.replace(TWO_CENTRE_LJ_QUADRUPOLE, overlap_core=x)
        np.testing.assert_allclose(second_virial_linear(pot, p, T, **kw), ref, rtol=1e-10)
    bare = dataclasses.replace(TWO_CENTRE_LJ_QUADRUPOLE, overlap_core=0.0)
    assert np.all(np.isneginf(np.asarray(second_virial_linear(bare, p, T, **kw))))


# ------------------------------------------------- gradients, jit, vmap, errors


def test_gradients_quadrature_path_central_differences():
    """check_grads (fwd and rev, order 1) of 2CLJQ B2 in epsilon, sigma, L, Q and T.

    The explicit JVP differentiates at fixed nodes; moving panels change B2 at
    the quadrature-error level (~1e-9 with these nodes), far below
    check_grads' tolerance (2e-5 relative with its default eps).
    """

    def f(eps, sig, L, Q, T):
        p = {"epsilon": eps, "sigma": sig, "L": L, "Q": Q}
        return second_virial_linear(
            TWO_CENTRE_LJ_QUADRUPOLE, p, T, nodes_per_panel=10, n_cos=6, n_phi=6
        )

    args = (EPS, SIG, 0.6 * SIG, q_of(1.0), jnp.array([150.0, 300.0]))
    check_grads(f, args, order=1, modes=["fwd", "rev"], eps=1e-4)


def test_gradients_closed_form_central_differences():
    """check_grads (fwd and rev, order 1) of Stockmayer B2 in epsilon, sigma, mu and T."""

    def f(eps, sig, mu, T):
        return second_virial_linear(STOCKMAYER, {"epsilon": eps, "sigma": sig, "mu": mu}, T)

    check_grads(f, (300.0 * R, 3.0, 0.35, 400.0), order=1, modes=["fwd", "rev"], eps=1e-4)


def test_build_jit_vmap_over_draws_and_temperatures():
    """predict(params, env) jitted and vmapped over draws equals a loop over draws."""
    predict = build(TWO_CENTRE_LJ, n_cos=6, n_phi=6, nodes_per_panel=12)
    draws = {
        "epsilon": jnp.array([0.6, 0.8, 1.0]),
        "sigma": jnp.array([3.2, 3.4, 3.6]),
        "L": jnp.array([0.5, 1.0, 1.5]),
    }
    env = {"T_K": jnp.array([100.0, 200.0, 400.0, 800.0])}
    batched = jax.jit(jax.vmap(predict, in_axes=(0, None)))(draws, env)
    assert batched.shape == (3, 4)
    for i in range(3):
        one = predict({k: v[i] for k, v in draws.items()}, env)
        np.testing.assert_allclose(batched[i], one, rtol=1e-13)
    grads = jax.jit(jax.vmap(jax.grad(lambda p: jnp.sum(predict(p, env)))))(draws)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads.values())


def test_bad_options_and_wrong_kind_are_clear_errors():
    """Option and potential-kind errors name what was expected, before tracing."""
    with pytest.raises(ValueError, match="n_cos must be a positive integer"):
        build(TWO_CENTRE_LJ, n_cos=0)
    with pytest.raises(ValueError, match="phi_rule"):
        build(TWO_CENTRE_LJ, phi_rule="gauss")
    with pytest.raises(ValueError, match="kind 'linear'"):
        build(LENNARD_JONES)
    with pytest.raises(ValueError, match="no closed-form"):
        second_virial_linear(
            TWO_CENTRE_LJ, {"epsilon": EPS, "sigma": SIG, "L": 1.0}, 300.0, method="closed_form"
        )
