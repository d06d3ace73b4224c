"""SAFT-VR Mie of pure Mie chains (bayesff.observables.eos.saft_vr_mie).

References: teqp 0.23.2's ``SAFT-VR-Mie`` model (independent C++ code of the same paper,
usnistgov/teqp) for the Helmholtz energy, its derivatives Ar_nm, its monomer and chain
terms, the Barker-Henderson diameter and the critical points; scipy's adaptive quadrature
for the diameter integral; the critical points that Lafitte et al. (2013) report for their
alkane parameters (as quoted by feos' and thermopack's SAFT-VR Mie tests); central finite
differences for the gradients in every argument.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import teqp
from jax.test_util import check_grads
from scipy.integrate import quad

from bayesff.observables.eos import thermo
from bayesff.observables.eos.saft_vr_mie import (
    SAFT_VR_MIE,
    alphar,
    alphar_terms,
    barker_henderson_diameter,
    critical_estimate,
    mie_prefactor,
)

jax.config.update("jax_enable_x64", True)

AVOGADRO = 6.02214076e23
R_GAS = 8.314462618  # J/(mol K), CODATA 2018 (k_B N_A)
Z1 = np.array([1.0])
# teqp works in SI; any (sigma, epsilon) maps to the same reduced state.
SIGMA_M, EPS_K = 3.5e-10, 150.0


def _teqp(segments, lambda_r, lambda_a, sigma_m=SIGMA_M, eps_k=EPS_K):
    coeffs = {
        "name": "chain",
        "m": float(segments),
        "sigma_m": sigma_m,
        "epsilon_over_k": eps_k,
        "lambda_r": float(lambda_r),
        "lambda_a": float(lambda_a),
        "BibTeXKey": "Lafitte-JCP-2013",
    }
    return teqp.make_model({"kind": "SAFT-VR-Mie", "model": {"coeffs": [coeffs]}})


def _molar(rho_star, sigma_m=SIGMA_M):
    """rho* = rho_molar N_A sigma^3 -> mol/m^3."""
    return rho_star / (AVOGADRO * sigma_m**3)


def _rho_star(eta, segments, d):
    """Molecule density at packing fraction eta = pi/6 m rho* d^3."""
    return eta / (np.pi / 6.0 * segments * d**3)


def _ar(t, r, segments, lambda_r, lambda_a):
    """Ar00, Ar10, Ar01, Ar20, Ar02, Ar11: teqp's (1/T)^n rho^m d^(n+m) alphar / d(1/T)^n
    d rho^m, unchanged by the reduction to (T*, rho*). Forward mode: nested forward
    derivatives compile about twice as fast as nested reverse ones here."""

    def f(x):  # x = (1/T*, rho*)
        return alphar(1.0 / x[0], x[1], segments, lambda_r, lambda_a)

    x = jnp.stack([1.0 / t, r])
    g, h = jax.jacfwd(f)(x), jax.jacfwd(jax.jacfwd(f))(x)
    tau = x[0]
    return jnp.stack(
        [f(x), tau * g[0], r * g[1], tau**2 * h[0, 0], r**2 * h[1, 1], tau * r * h[0, 1]]
    )


# Compiled once for the module (second derivatives of alphar take tens of seconds to
# compile on the shared 2-core CPU) and called with Python floats, so that every call hits
# the same executable.
_AR = jax.jit(_ar)
_TERMS = jax.jit(alphar_terms)
_ALPHAR = jax.jit(alphar)
_GRAD = jax.jit(jax.grad(alphar, argnums=(0, 1, 2, 3, 4)))


def _random_states(n, seed):
    """segments 1-16, lambda_r 6.5-50, lambda_a 5-7 (lambda_r > lambda_a + 1), T* 0.3-10
    (log-uniform) and packing fraction 1e-6 to 0.55 (log-uniform: dilute gas to beyond the
    densest liquid)."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(1.0, 16.0, n)
    la = rng.uniform(5.0, 7.0, n)
    lr = rng.uniform(np.maximum(6.5, la + 1.0), 50.0)
    t = np.exp(rng.uniform(np.log(0.3), np.log(10.0), n))
    eta = np.exp(rng.uniform(np.log(1e-6), np.log(0.55), n))
    d = np.array([float(barker_henderson_diameter(*x)) for x in zip(t, lr, la, strict=True)])
    return [[float(v) for v in x] for x in (m, lr, la, t, _rho_star(eta, m, d))]


@pytest.mark.slow
def test_alphar_and_derivatives_match_teqp():
    """alphar and Ar10, Ar01, Ar20, Ar02, Ar11 equal teqp's at 60 random parameters and
    states (``_random_states``) to 1e-10 relative, with an absolute floor 1e-13 m (1 + 1/T*)
    for teqp's rounding in the dilute gas: teqp forms ln g^Mie, g_1 and g_2 as differences
    of terms of size C lambda x0^3 ~ 10-100 that cancel at zero density, so its values carry
    absolute errors up to a few 1e-14 m (1 + 1/T*) (measured at packing fractions 1e-6 to
    1e-4; bayesff's arrangement has no such cancellation: test_low_density_limit). Where
    the Ar are not near zero (packing fraction >= 1e-4 and no sign change), the measured
    largest relative deviation is 5e-11."""
    m, lr, la, t, r = _random_states(60, seed=3)
    for i in range(len(m)):
        got = np.asarray(_AR(t[i], r[i], m[i], lr[i], la[i]))
        model = _teqp(m[i], lr[i], la[i])
        temp, rho = t[i] * EPS_K, _molar(r[i])
        want = [
            model.get_Ar00(temp, rho, Z1),
            model.get_Ar10(temp, rho, Z1),
            model.get_Ar01(temp, rho, Z1),
            model.get_Ar20(temp, rho, Z1),
            model.get_Ar02(temp, rho, Z1),
            model.get_Ar11(temp, rho, Z1),
        ]
        floor = 1e-13 * m[i] * (1.0 + 1.0 / t[i])
        np.testing.assert_allclose(
            got, want, rtol=1e-10, atol=floor, err_msg=f"state {i}: {m[i], lr[i], la[i]}"
        )


@pytest.mark.slow
def test_low_density_limit():
    """alphar = 0 at zero density exactly; d alphar / d rho* there is the reduced second
    virial coefficient B2 / (N_A sigma^3), equal to teqp's get_B2vir (an exact derivative
    at zero density in teqp too) to 1e-12 relative; and at packing fraction 1e-6 alphar
    equals the integral of (d alphar / d rho*) from 0 (30-point Gauss-Legendre, exact to
    rounding for this near-linear integrand) to 1e-12, i.e. the value keeps its relative
    accuracy in the dilute gas (teqp's errs by up to 1e-9 there)."""

    def slope(*args):
        return _GRAD(*args)[1]

    x, w = np.polynomial.legendre.leggauss(30)
    for m, lr, la, t in [(1.0, 12.0, 6.0, 1.0), (3.3, 18.0, 6.0, 2.2), (12.1, 21.8, 6.6, 2.2)]:
        assert float(_ALPHAR(t, 0.0, m, lr, la)) == 0.0
        b2 = _teqp(m, lr, la).get_B2vir(t * EPS_K, Z1) / (AVOGADRO * SIGMA_M**3)
        np.testing.assert_allclose(float(slope(t, 0.0, m, lr, la)), b2, rtol=1e-12)
        d = float(barker_henderson_diameter(t, lr, la))
        r = float(_rho_star(1e-6, m, d))
        nodes = r * (x + 1.0) / 2.0
        integral = (
            r
            / 2.0
            * sum(
                wi * float(slope(t, float(ri), m, lr, la)) for wi, ri in zip(w, nodes, strict=True)
            )
        )
        np.testing.assert_allclose(float(_ALPHAR(t, r, m, lr, la)), integral, rtol=1e-12)


def test_monomer_and_chain_terms_and_diameter_match_teqp():
    """The monomer term (hard sphere + a1 + a2 + a3), the chain term and d/sigma equal teqp's
    ``get_core_calcs`` (alphar_mono, alphar_chain, dmat) at 20 random states with packing
    fraction >= 1e-3 to 1e-11 relative (rounding; measured 1e-13)."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        m, lr, la = rng.uniform(1, 16), rng.uniform(8, 50), rng.uniform(5, 7)
        t, eta = rng.uniform(0.4, 8.0), rng.uniform(1e-3, 0.5)
        d = float(barker_henderson_diameter(t, lr, la))
        r = float(_rho_star(eta, m, d))
        terms = _TERMS(float(t), r, float(m), float(lr), float(la))
        calc = _teqp(m, lr, la).get_core_calcs(t * EPS_K, _molar(r), Z1)
        mono = float(terms.hard_sphere + terms.a1 + terms.a2 + terms.a3)
        np.testing.assert_allclose(mono, calc["alphar_mono"], rtol=1e-11)
        np.testing.assert_allclose(float(terms.chain), calc["alphar_chain"], rtol=1e-11)
        np.testing.assert_allclose(d, calc["dmat"][0][0] / (SIGMA_M * 1e10), rtol=1e-13)


def test_chain_term_vanishes_for_a_monomer():
    """segments = 1: the chain term is exactly 0 ((m - 1) ln g = 0) and alphar equals
    teqp's monomer to 1e-11."""
    lr, la = 15.0, 6.0
    for t, eta in [(0.8, 0.45), (1.5, 0.2), (4.0, 0.01)]:
        d = float(barker_henderson_diameter(t, lr, la))
        r = float(_rho_star(eta, 1.0, d))
        terms = _TERMS(t, r, 1.0, lr, la)
        assert float(terms.chain) == 0.0
        want = _teqp(1.0, lr, la).get_Ar00(t * EPS_K, _molar(r), Z1)
        np.testing.assert_allclose(float(_ALPHAR(t, r, 1.0, lr, la)), want, rtol=1e-11)


def test_lennard_jones_monomer_matches_teqp():
    """lambda_r = 12, lambda_a = 6, segments = 1 is SAFT-VR Mie's Lennard-Jones fluid (C = 4):
    Ar00, Ar01 and Ar02 equal teqp's at gas, near-critical and liquid states to 1e-11."""
    assert float(mie_prefactor(12.0, 6.0)) == pytest.approx(4.0, rel=1e-15)
    model = _teqp(1.0, 12.0, 6.0)
    for t, r in [(0.7, 0.84), (1.0, 0.02), (1.3, 0.31), (2.0, 0.7), (5.0, 1.0)]:
        got = np.asarray(_AR(t, r, 1.0, 12.0, 6.0))
        temp, rho = t * EPS_K, _molar(r)
        want = [model.get_Ar00(temp, rho, Z1), model.get_Ar01(temp, rho, Z1)]
        np.testing.assert_allclose(got[[0, 2]], want, rtol=1e-11)
        np.testing.assert_allclose(got[4], model.get_Ar02(temp, rho, Z1), rtol=1e-11)


def test_barker_henderson_diameter_is_the_integral():
    """d/sigma = int_0^sigma (1 - exp(-u/kT)) dr: scipy's adaptive quadrature agrees to 2e-6
    relative for T* 0.3-10 (the 10-point Gauss-Legendre rule that teqp and bayesff share
    errs by 1e-9 at T* <= 1 and up to 8e-7 at T* = 10, measured)."""
    for lr, la in [(8.0, 5.0), (12.0, 6.0), (25.0, 6.5), (50.0, 7.0)]:
        c = float(mie_prefactor(lr, la))
        for t in [0.3, 1.0, 3.0, 10.0]:
            exact = quad(
                lambda x, c=c, lr=lr, la=la, t=t: -np.expm1(-c * (x**-lr - x**-la) / t),
                0.0,
                1.0,
                points=[0.5, 0.8, 0.9],
                epsabs=1e-14,
                limit=200,
            )[0]
            got = float(barker_henderson_diameter(t, lr, la))
            np.testing.assert_allclose(got, exact, rtol=2e-6)
            assert got < 1.0


@pytest.mark.slow
def test_gradients_in_every_argument_match_central_differences():
    """Derivatives of alphar in (T*, rho*, segments, lambda_r, lambda_a) against central
    differences along random directions (jax.test_util.check_grads, step 1e-5: truncation
    ~ h^2 times the next derivative, ~1e-8 relative here; rounding ~1e-11), to 1e-6
    relative: reverse mode to first order (what a sampler uses) and forward mode to second
    order (what the phase-equilibrium Newton and its implicit derivatives use)."""
    args = (0.7, 0.12, 4.3, 22.0, 5.5)  # a liquid-like state of a 4-segment chain
    check_grads(_ALPHAR, args, order=1, modes=("rev",), eps=1e-5, atol=1e-6, rtol=1e-6)
    check_grads(_ALPHAR, args, order=2, modes=("fwd",), eps=1e-5, atol=1e-6, rtol=1e-6)


@pytest.mark.slow
def test_gradient_in_segments_and_lambda_r_against_explicit_differences():
    """d alphar / d segments and d alphar / d lambda_r by jax.grad equal central differences
    with step 1e-5 (truncation ~1e-10, rounding 1e-16/1e-5 ~ 1e-11) to 1e-8 relative."""
    args = (1.2, 0.15, 3.3, 18.0, 6.0)
    grad = _GRAD(*args)
    h = 1e-5
    for k in (2, 3):
        up, down = list(args), list(args)
        up[k] += h
        down[k] -= h
        fd = (float(_ALPHAR(*up)) - float(_ALPHAR(*down))) / (2 * h)
        np.testing.assert_allclose(float(grad[k]), fd, rtol=1e-8)


@jax.jit
def _critical_residual(x, shape):
    """(dp/drho / T, rho d2p/drho2 / T) at (T*, rho*) = exp(x): zero at the critical point.

    p* = rho T (1 + rho a1), so dp/drho = T (1 + 2 rho a1 + rho^2 a2) and d2p/drho2 =
    T (2 a1 + 4 rho a2 + rho^2 a3), with a_k the k-th density derivative of alphar at fixed
    T, by nested forward mode."""
    t, r = jnp.exp(x[0]), jnp.exp(x[1])

    def d1(rho):
        return jax.jvp(lambda q: alphar(t, q, *shape), (rho,), (1.0,))[1]

    def d2(rho):
        return jax.jvp(d1, (rho,), (1.0,))[1]

    a1, a2, a3 = d1(r), d2(r), jax.jvp(d2, (r,), (1.0,))[1]
    return jnp.stack([1.0 + 2.0 * r * a1 + r * r * a2, r * (2.0 * a1 + 4.0 * r * a2 + r * r * a3)])


def _critical_point(segments, lambda_r, lambda_a):
    """Critical point of bayesff's EOS: Newton on dp/drho = d2p/drho2 = 0 in ln(T*, rho*)
    with a central-difference Jacobian (step 1e-6), from ``critical_estimate`` (written here
    so that the test does not depend on the package's solver). Returns T*, rho*, and
    p* = p sigma^3 / epsilon."""
    shape = jnp.array([segments, lambda_r, lambda_a])
    x = np.log([float(v) for v in critical_estimate(segments, lambda_r, lambda_a)])

    def residual(x):
        return np.asarray(_critical_residual(x, shape))

    h = 1e-6
    res = residual(x)
    for _ in range(30):
        if np.max(np.abs(res)) < 1e-12:
            break
        steps = np.eye(2) * h
        jac = np.stack([(residual(x + e) - residual(x - e)) / (2 * h) for e in steps], axis=1)
        x = x - np.linalg.solve(jac, res)
        res = residual(x)
    assert np.max(np.abs(res)) < 1e-10
    t, r = (float(v) for v in np.exp(x))
    z = 1.0 + float(_AR(t, r, segments, lambda_r, lambda_a)[2])
    return t, r, r * t * z


# Lafitte et al. (2013)'s parameters (segments, sigma / angstrom, epsilon/k / K, lambda_r;
# lambda_a = 6) and the critical points their paper reports for them (T_c / K, p_c / MPa,
# rho_c / (kg/m^3)), as quoted with this attribution by feos (feos-org/feos,
# tests/saftvrmie/critical_properties.rs: all three) and thermopack (thermotools/thermopack,
# unittests/test_saftvrmie.pf: T_c and p_c of all three); molar masses g/mol (IUPAC).
LAFITTE_ALKANES = {
    "methane": ((1.0, 3.7412, 153.36, 12.650), (195.30, 5.15, 154.45), 16.043),
    "propane": ((1.6845, 3.9056, 239.89, 13.006), (376.20, 4.77, 219.98), 44.096),
    "n-decane": ((2.9976, 4.5890, 400.79, 18.885), (626.37, 2.31, 219.85), 142.28),
}


@pytest.mark.slow
def test_critical_points_of_lafitte_alkanes():
    """The critical point of bayesff's EOS with Lafitte's parameters is the paper's: T_c to
    0.2 % (teqp's differs from the paper's by 0.1 %, from the paper's own quadrature of
    d), p_c to 0.5 % (quoted to 0.01 MPa: 0.4 % at n-decane), rho_c to 1 % (the molar mass
    the paper used is not given where it is quoted); these are the tolerances of feos'
    test of the same table."""
    for (m, sigma_a, eps_k, lr), (tc, pc, rhoc), molar_mass in LAFITTE_ALKANES.values():
        t, r, p = _critical_point(m, lr, 6.0)
        sigma_m = sigma_a * 1e-10
        assert t * eps_k == pytest.approx(tc, rel=2e-3)
        # p* = p sigma^3 / epsilon: p = p* k_B (epsilon/k) / sigma^3
        assert p * R_GAS / AVOGADRO * eps_k / sigma_m**3 / 1e6 == pytest.approx(pc, rel=5e-3)
        assert r / (AVOGADRO * sigma_m**3) * molar_mass / 1e3 == pytest.approx(rhoc, rel=1e-2)


def test_critical_estimate_within_ten_percent_of_teqp():
    """critical_estimate (bayesff's fit, scripts/fit_saft_critical_estimate.py) is within
    10 % of teqp's critical point (solve_pure_critical started from the estimate) at 30
    random parameters with segments 1-8, lambda_r 8-40, lambda_a 5-7 (the fit's measured
    worst is 0.6 % in T_c and 5.3 % in rho_c) and 10 with segments 8-16, lambda_r 40-50."""
    rng = np.random.default_rng(5)
    ranges = [((1, 8), (8, 40))] * 30 + [((8, 16), (40, 50))] * 10
    for (m_lo, m_hi), (l_lo, l_hi) in ranges:
        m, lr, la = rng.uniform(m_lo, m_hi), rng.uniform(l_lo, l_hi), rng.uniform(5, 7)
        t0, r0 = (float(x) for x in critical_estimate(m, lr, la))
        tc, rc = _teqp(m, lr, la).solve_pure_critical(t0 * EPS_K, _molar(r0))
        assert t0 == pytest.approx(tc / EPS_K, rel=0.1)
        assert r0 == pytest.approx(rc * AVOGADRO * SIGMA_M**3, rel=0.1)


@pytest.mark.slow
def test_coexistence_of_long_chains_from_045_to_097_tc_equals_teqp():
    """Chains of 6-16 segments (lambda_r 8-50, lambda_a 5-7) at 15 temperatures from 0.45
    to 0.97 Tc: every state solves from the solver's own starts and equals teqp's
    pure_VLE_T (started from teqp's own ancillaries, build_ancillaries) to 1e-9 in both
    densities (the EOS agrees with teqp's to 1e-10; measured worst 2.4e-11). Until
    2026-11-26 the solver returned NOT_CONVERGED or TRIVIAL below about 0.6 Tc for 12 and
    16 segments: its liquid start, the LJ-shaped ancillary, lies at 40 % of a long chain's
    liquid density there; and 6 segments at 0.95 Tc and 16 at 0.97 Tc collapsed onto the
    trivial solution from both starts (the restart is now the ancillary with its gap
    widened)."""
    from bayesff.observables.eos.coexistence import solve_coexistence

    fractions = np.append(np.linspace(0.45, 0.93, 13), [0.95, 0.97])

    @jax.jit
    def solve(m, lr, la):
        crit = thermo.critical_point(SAFT_VR_MIE, segments=m, lambda_r=lr, lambda_a=la)
        coex = jax.vmap(
            lambda t: solve_coexistence(
                SAFT_VR_MIE, t, critical=crit, segments=m, lambda_r=lr, lambda_a=la
            )
        )(fractions * crit.T_star)
        return crit, coex

    for m, lr, la in [
        (6.0, 20.0, 6.0),
        (12.0, 15.0, 6.0),
        (16.0, 30.0, 6.0),
        (16.0, 50.0, 5.0),
        (10.0, 9.0, 7.0),
    ]:
        crit, got = solve(m, lr, la)
        model = _teqp(m, lr, la)
        tc, rc = model.solve_pure_critical(float(crit.T_star) * EPS_K, _molar(crit.rho_star))
        anc = teqp.build_ancillaries(model, tc, rc, 0.4 * tc)
        assert np.all(np.asarray(got.status) == thermo.SolveStatus.OK), (m, lr, la)
        for i, f in enumerate(fractions):
            T = f * float(crit.T_star) * EPS_K
            rl, rv = model.pure_VLE_T(T, anc.rhoL(T), anc.rhoV(T), 100)
            assert _molar(float(got.rho_l[i])) == pytest.approx(rl, rel=1e-9), (m, lr, la, f)
            assert _molar(float(got.rho_v[i])) == pytest.approx(rv, rel=1e-9), (m, lr, la, f)


@pytest.mark.slow
def test_alkane_chain_batch_slowest_state_needs_few_newton_steps():
    """In a vmapped batch of coexistence solves every member runs as many Newton steps as
    the slowest, so the slowest sets the cost (docs/chains.md). Chains of issue 30's
    n-alkanes (segments 1 + (C - 1)/3 for C = 1-12, lambda_r 12-14, lambda_a 6) at 20
    temperatures from 0.5 to 0.9 Tc: every state solves; the zero-pressure start takes at
    most 6 steps (measured 5; 9 before 2026-11-26 night, when it refined a start to 1e-8
    after an overshooting first step) and the coexistence Newton at most 6 (measured 5; 25
    before 2026-11-26, when above 0.85 Tc it started from the LJ-shaped ancillary)."""
    from bayesff.observables.eos import coexistence as cx

    carbons = np.arange(1, 13)
    segments = jnp.asarray(1.0 + (carbons - 1.0) / 3.0)
    lambda_r = jnp.asarray(np.linspace(13.7, 12.3, 12))
    fractions = jnp.linspace(0.5, 0.9, 20)

    @jax.jit
    @jax.vmap
    def steps(m, lr):
        shape = {"segments": m, "lambda_r": lr, "lambda_a": 6.0}
        crit = thermo.critical_point(SAFT_VR_MIE, **shape)

        def one(t):
            x_anc = cx._ancillary_start(t, crit)
            _, _, start_steps = cx._liquid_newton(
                SAFT_VR_MIE, t, 0.0, x_anc[0], shape, cx.ZERO_PRESSURE_STEPS,
                tol=cx.START_TOL, max_up=cx.START_MAX_UP,
            )  # fmt: skip
            coex = cx.solve_coexistence(SAFT_VR_MIE, t, critical=crit, **shape)
            return start_steps, coex.iterations, coex.status

        return jax.vmap(one)(fractions * crit.T_star)

    start_steps, newton_steps, status = (np.asarray(a) for a in steps(segments, lambda_r))
    assert np.all(status == thermo.SolveStatus.OK)
    assert start_steps.max() <= 6, start_steps
    assert newton_steps.max() <= 6, newton_steps


def test_nan_outside_the_model():
    """Packing fraction >= 1, negative density, fewer than one segment, lambda_r <= lambda_a
    and T* <= 0 give NaN (a value the caller can reject), not a number."""
    d = float(barker_henderson_diameter(1.0, 12.0, 6.0))
    too_dense = float(_rho_star(1.01, 2.0, d))
    for args in [
        (1.0, too_dense, 2.0, 12.0, 6.0),
        (1.0, -0.1, 2.0, 12.0, 6.0),
        (1.0, 0.1, 0.9, 12.0, 6.0),
        (1.0, 0.1, 2.0, 6.0, 6.0),
        (-1.0, 0.1, 2.0, 12.0, 6.0),
    ]:
        assert np.isnan(float(_ALPHAR(*args))), args


def test_pressure_energy_and_slope_are_nan_beyond_close_packing():
    """Audit, 2026-11-29: alpha^r is NaN at packing fraction >= 1 (no fluid), but pressure,
    residual energy and dp/drho are its density and temperature derivatives by forward
    mode, whose tangent through the NaN guard is 0: an 8-segment chain at packing fraction
    1.2-3 gave the ideal gas's p* = rho* T* and u* = -0 (finite and wrong). Now NaN;
    at packing fraction 0.3 (a dense fluid) they equal teqp's (Ar01, Ar10, Ar02), 1e-10."""
    segments, lr, la, t = 8.0, 15.0, 6.0, 2.0
    shape = {"segments": segments, "lambda_r": lr, "lambda_a": la}
    d = float(barker_henderson_diameter(t, lr, la))
    for eta in (1.2, 2.0, 3.0):
        r = float(_rho_star(eta, segments, d))
        for f in (thermo.pressure, thermo.residual_energy, thermo.dp_drho):
            assert np.isnan(float(f(SAFT_VR_MIE, t, r, **shape))), (eta, f.__name__)
    r = float(_rho_star(0.3, segments, d))
    model, temp, rho = _teqp(segments, lr, la), t * EPS_K, _molar(r)
    a01, a10, a02 = (model.get_Ar01(temp, rho, Z1), model.get_Ar10(temp, rho, Z1),
                     model.get_Ar02(temp, rho, Z1))  # fmt: skip
    # u* = -T*^2 d(alpha^r)/dT* = T* Ar10 (Ar10 = (1/T) d alpha^r / d(1/T))
    want = (r * t * (1 + a01), t * a10, t * (1 + 2 * a01 + a02))
    for f, w in zip((thermo.pressure, thermo.residual_energy, thermo.dp_drho), want, strict=True):
        assert float(f(SAFT_VR_MIE, t, r, **shape)) == pytest.approx(w, rel=1e-10), f.__name__


def test_a_chains_density_limit_is_per_segment():
    """The validated density rho* <= 1.05 is the segments' (packing fraction 0.55, the
    range verified against teqp above): a chain of m segments reaches it at rho* = 1.05 / m
    molecules per sigma^3 (audit, 2026-11-29: it was applied per molecule, so an 8-segment
    chain at packing 0.93 passed with p* = 4e36). The eos_pressure observable of mie_chain
    is NaN above 1.05 / 8 and a number below it; the problem check refuses such a row
    before sampling, naming the densest row (its advice, a sigma centre below
    (0.1313 / 0.0040625)^(1/3) = 3.1849 angstrom, must hold for every flagged row)."""
    from bayesff.errors import ProblemError
    from bayesff.observables import get_observable
    from bayesff.potentials import get_potential
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

    assert SAFT_VR_MIE.validity.rho_star_limit({"segments": 8.0}) == pytest.approx(1.05 / 8)
    chain = get_potential("mie_chain")
    params = {"epsilon": 300.0 * GAS_CONSTANT_KJ_PER_MOL_K, "sigma": 4.0, "n": 15.0, "m": 6.0,
              "segments": 8.0}  # fmt: skip
    rho_star = np.array([0.05, 0.12, 0.14, 0.26])
    env = {"T_K": jnp.full(4, 1085.0), "rho_per_A3": jnp.asarray(rho_star / 4.0**3)}
    got = np.asarray(get_observable("eos_pressure").build(chain)(params, env))
    assert np.array_equal(np.isnan(got), rho_star > 1.05 / 8), got
    check = get_observable("eos_pressure").error_floor
    rows = {k: np.asarray(v) for k, v in env.items()}
    with pytest.raises(
        ProblemError,
        match=r"rho\* = 0.26 .*\(rho\* = 0.131[23]: 1.05 / 8 segments\).*below 3.18",
    ):
        check(chain, params, rows, np.full(4, 100.0), {})
    ok = {k: v[:2] for k, v in rows.items()}
    assert np.all(np.isfinite(check(chain, params, ok, np.full(2, 100.0), {})))


def test_contract():
    """The ReducedEOS record: shape names match alphar's keywords, alphar -> 0 at zero
    density (the residual of an ideal gas), and the critical estimate lies inside the
    declared validity."""
    assert SAFT_VR_MIE.shape == ("segments", "lambda_r", "lambda_a")
    shape = {"segments": 3.0, "lambda_r": 20.0, "lambda_a": 6.0}
    assert float(SAFT_VR_MIE.alphar(1.5, 0.0, **shape)) == 0.0
    tc, rc = SAFT_VR_MIE.critical_estimate(**shape)
    assert SAFT_VR_MIE.validity.T_star[0] < float(tc) < SAFT_VR_MIE.validity.T_star[1]
    assert 0.0 < float(rc) < SAFT_VR_MIE.validity.rho_star_max


def test_a_liquid_denser_than_the_validated_range_is_outside_validity():
    """A steep Mie monomer (lambda_r = 50) far below T_c: teqp's SAFT-VR Mie gives the same
    coexisting liquid, rho* = 1.12 at T* = 0.30 (packing fraction 0.58, beyond the 1.05 /
    0.55 the model was validated to, and almost certainly a solid), and the solve used to
    report it OK (a physics audit, 2026-11-28). Now NaN with OUTSIDE_VALIDITY; at 0.55 T_c
    it is still a number (at 0.5 T_c, rho* = 1.0497, just inside)."""
    from bayesff.observables.eos.coexistence import SolveStatus, solve_coexistence

    shape = {"segments": 1.0, "lambda_r": 50.0, "lambda_a": 6.0}
    crit = thermo.critical_point(SAFT_VR_MIE, **shape)
    low = solve_coexistence(SAFT_VR_MIE, 0.30, critical=crit, **shape)
    assert int(low.status) == SolveStatus.OUTSIDE_VALIDITY and np.isnan(float(low.rho_l))
    inside = solve_coexistence(SAFT_VR_MIE, 0.55 * float(crit.T_star), critical=crit, **shape)
    assert int(inside.status) == SolveStatus.OK
    assert 1.0 < float(inside.rho_l) < 1.05
