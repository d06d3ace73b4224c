"""The EOS observables for the Mie, Mie-chain and two-centre potentials (bayesff.observables.vle).

References (computed here, independent of bayesff's reduction to T*, rho*):

- teqp 0.23.2's ``SAFT-VR-Mie`` (Lafitte et al. 2013) in SI units (sigma in m,
  epsilon/k in K), its ``solve_pure_critical``, ``build_ancillaries`` and ``pure_VLE_T``;
  p = rho R T (1 + Ar01) and Delta H = R T (Ar10(rho_v) - Ar10(rho_l)) + p (1/rho_v -
  1/rho_l), converted to mol/L, MPa, kJ/mol by hand.
- teqp's ``2CLJF-Quadrupole`` and ``2CLJF`` (Lisal et al. 2004 + Saager and Fischer 1992),
  in reduced units, with T* = k_B T / epsilon, rho* = N sigma^3 / V, L* = L / sigma and
  Q*^2 = Q^2 / (4 pi eps0 epsilon sigma^5) computed here in SI from scipy.constants.
- Central finite differences of the same observables for the gradients.

Compiling a SAFT-VR Mie coexistence solve with its Jacobian takes ~20 s on an idle core, a
2CLJQ one ~10 s: each model is compiled once for the module (one jitted function returning
values, statuses and the forward-mode Jacobian) and evaluated at every state and
perturbation the tests need.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.constants as sc
import teqp

from bayesff.observables import get_observable
from bayesff.observables.eos import SolveStatus
from bayesff.observables.eos.saft_vr_mie import SAFT_VR_MIE
from bayesff.observables.eos.two_centre import TWO_CENTRE_LJ, TWO_CENTRE_LJ_QUADRUPOLE
from bayesff.observables.vle import fluid_eos_of, vle_predictions
from bayesff.potentials import get_potential
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, factor

from support import jit_once

jax.config.update("jax_enable_x64", True)

pytestmark = pytest.mark.slow  # compiles two coexistence solves with their Jacobians

R_KJ = GAS_CONSTANT_KJ_PER_MOL_K
Z1 = np.array([1.0])
PROPS = ("rho_l", "rho_v", "p_sat", "dH_vap")
VLE_OBSERVABLES = (
    "saturated_liquid_density",
    "saturated_vapour_density",
    "vapour_pressure",
    "enthalpy_of_vaporisation",
)
#: 1 B (buckingham, 1e-26 esu cm^2 = 1 D angstrom) in the internal e angstrom^2.
BUCKINGHAM = factor("B", "quadrupole")


def _compiled(potential_name: str):
    """jit((params, T_K (3,)) -> (values (4, 3), status (3,), Jacobian {param: (4, 3)})):
    one compile for every state of a module."""
    fluid = fluid_eos_of(get_potential(potential_name))

    def f(p, t):
        out = vle_predictions(fluid, p, t)
        v = jnp.stack([getattr(out, k) for k in PROPS])
        return v, (v, out.status)

    jac = jax.jacfwd(f, has_aux=True)

    def run(p, t):
        j, (v, status) = jac(p, t)
        return v, status, j

    return jit_once(run)


def _check_gradient(run, params: dict, T_K, rel_step: float = 1e-6, rtol: float = 1e-6):
    """The forward-mode Jacobian against central differences in every parameter.

    The solves converge quadratically to ~1e-15, so the differences carry truncation
    ~(1e-6)^2 and rounding ~1e-16 / 1e-6 = 1e-10 of the value: 1e-6 leaves room for the
    conditioning of the coexistence problem near Tc (a factor ~100 at 0.97 Tc).
    """
    t = jnp.asarray(T_K)
    _, _, jac = run(params, t)
    for name, x in params.items():
        h = rel_step * float(x)
        up, _, _ = run({**params, name: x + h}, t)
        down, _, _ = run({**params, name: x - h}, t)
        fd = (np.asarray(up) - np.asarray(down)) / (2 * h)
        np.testing.assert_allclose(np.asarray(jac[name]), fd, rtol=rtol, err_msg=name)


def _teqp_vle(model, T, anc):
    """(rho_l, rho_v in mol/m^3, p in Pa, dH in J/mol) of teqp at T from its ancillaries."""
    rl, rv = model.pure_VLE_T(T, anc.rhoL(T), anc.rhoV(T), 100)
    r = model.get_R(Z1)
    p = rv * r * T * (1 + model.get_Ar01(T, rv, Z1))
    dh = r * T * (model.get_Ar10(T, rv, Z1) - model.get_Ar10(T, rl, Z1)) + p * (1 / rv - 1 / rl)
    return np.array([rl, rv, p, dh])


# ----------------------------------------------------------------------------- Mie chains

EPS_K, SIGMA = 250.0, 3.7  # epsilon/k_B in K, segment sigma in angstrom
#: K: the 15-6 dimer's Tc is 384.6 K, the 12-6 monomer's 329 K (teqp)
T_CHAIN = {2.0: np.array([250.0, 320.0, 375.0]), 1.0: np.array([180.0, 250.0, 315.0])}


def _chain_params(n=15.0, m=6.0, segments=2.0):
    return {
        "epsilon": jnp.float64(EPS_K * R_KJ),
        "sigma": jnp.float64(SIGMA),
        "n": jnp.float64(n),
        "m": jnp.float64(m),
        "segments": jnp.float64(segments),
    }


@pytest.fixture(scope="module")
def chain_run():
    return _compiled("mie_chain")


def _teqp_saft(segments, n, m):
    coeffs = {
        "name": "chain",
        "m": float(segments),
        "sigma_m": SIGMA * 1e-10,
        "epsilon_over_k": EPS_K,
        "lambda_r": float(n),
        "lambda_a": float(m),
        "BibTeXKey": "Lafitte-JCP-2013",
    }
    model = teqp.make_model({"kind": "SAFT-VR-Mie", "model": {"coeffs": [coeffs]}})
    tc, rhoc = model.solve_pure_critical(*_saft_critical_start(segments, n, m))
    anc = teqp.build_ancillaries(model, tc, rhoc, 0.5 * tc)
    si = np.array([_teqp_vle(model, T, anc) for T in T_CHAIN[segments]]).T
    return si / np.array([[1e3], [1e3], [1e6], [1e3]])  # mol/L, mol/L, MPa, kJ/mol


def _saft_critical_start(segments, n, m):
    """teqp's critical solve started from bayesff's estimate (within 1 % of Tc), in SI."""
    t_star, rho_star = (float(x) for x in SAFT_VR_MIE.critical_estimate(segments, n, m))
    return t_star * EPS_K, rho_star / ((SIGMA * 1e-10) ** 3 * sc.N_A)


@pytest.mark.parametrize(("segments", "n", "m"), [(2.0, 15.0, 6.0), (1.0, 12.0, 6.0)])
def test_mie_chain_vle_equals_teqp_saft_vr_mie(chain_run, segments, n, m):
    """The four coexistence observables of a Mie chain (2 segments, 15-6, at 250-375 K;
    the 12-6 monomer at 180-315 K) for eps/k = 250 K, sigma = 3.7 angstrom equal teqp's
    SAFT-VR Mie in SI to 1e-9 relative (the EOS agrees with teqp's to 1e-10, the solve
    converges to ~1e-15; the highest temperatures are 0.975 and 0.96 Tc)."""
    values, status, _ = chain_run(_chain_params(n, m, segments), jnp.asarray(T_CHAIN[segments]))
    assert np.all(np.asarray(status) == SolveStatus.OK)
    np.testing.assert_allclose(np.asarray(values), _teqp_saft(segments, n, m), rtol=1e-9)


def test_mie_chain_gradient_matches_finite_differences(chain_run):
    """d/d(epsilon, sigma, n, m, segments) of all four properties at three temperatures:
    forward mode through the implicit coexistence solve against central differences."""
    _check_gradient(chain_run, _chain_params(), T_CHAIN[2.0])


def test_mie_chain_vdw_vle_equals_teqp_at_epsilon_vdw_over_alpha():
    """``mie_chain_vdw`` at epsilon_vdw = alpha(15, 6) x 250 K (alpha from its closed form,
    C [1/(m-3) - 1/(n-3)]; Ramrattan et al. 2015, eq. 6) is teqp's SAFT-VR Mie chain of
    eps/k = 250 K (2 segments, 15-6) to 1e-9 relative, as ``mie_chain`` is; and its
    Jacobian in (epsilon_vdw, sigma, n, m, segments) matches central differences, so the
    chain rule through alpha(n, m) is exact (d/dn at fixed epsilon_vdw differs from
    mie_chain's d/dn at fixed epsilon)."""
    n, m = 15.0, 6.0
    c = n / (n - m) * (n / m) ** (m / (n - m))
    alpha = c * (1 / (m - 3) - 1 / (n - 3))
    p = _chain_params(n, m, 2.0)
    p = {"epsilon_vdw": p.pop("epsilon") * alpha, **p}
    run = _compiled("mie_chain_vdw")
    values, status, _ = run(p, jnp.asarray(T_CHAIN[2.0]))
    assert np.all(np.asarray(status) == SolveStatus.OK)
    np.testing.assert_allclose(np.asarray(values), _teqp_saft(2.0, n, m), rtol=1e-9)
    _check_gradient(run, p, T_CHAIN[2.0])


def test_mie_vdw_maps_to_the_mie_state_at_epsilon_vdw_over_alpha():
    """``mie_vdw``'s map to SAFT-VR Mie is ``mie``'s at epsilon = epsilon_vdw / alpha(n, m)
    (exact algebra, so the teqp comparisons of the Mie monomer cover its numbers), its
    derivative in n at fixed epsilon_vdw is -epsilon alpha'(n) / alpha (alpha' by central
    differences of the closed form written here), and the VLE observables accept it."""
    n, m = 14.0, 6.0

    def alpha(n):
        c = n / (n - m) * (n / m) ** (m / (n - m))
        return c * (1 / (m - 3) - 1 / (n - 3))

    vdw = fluid_eos_of(get_potential("mie_vdw"))
    mie = fluid_eos_of(get_potential("mie"))
    e_vdw = jnp.float64(2.0)
    p = {"sigma": jnp.float64(SIGMA), "n": jnp.float64(n), "m": jnp.float64(m)}
    eps, sigma, shape = vdw.reduce({"epsilon_vdw": e_vdw, **p})
    assert (eps, sigma, shape) == mie.reduce({"epsilon": e_vdw / alpha(n), **p})
    d_eps_dn = jax.grad(lambda n: vdw.reduce({"epsilon_vdw": e_vdw, **p, "n": n})[0])(p["n"])
    h = 1e-5
    d_alpha = (alpha(n + h) - alpha(n - h)) / (2 * h)
    np.testing.assert_allclose(d_eps_dn, -float(e_vdw) * d_alpha / alpha(n) ** 2, rtol=1e-8)
    for name in VLE_OBSERVABLES:
        get_observable(name).build(get_potential("mie_vdw"))


def test_mie_is_the_one_segment_mie_chain(chain_run):
    """The ``mie`` potential's map to SAFT-VR Mie is the ``mie_chain`` map at segments = 1
    (so the monomer case of test_mie_chain_vle_equals_teqp_saft_vr_mie and the gradient
    test cover its numbers), and all four VLE observables accept the potential."""
    mie = fluid_eos_of(get_potential("mie"))
    chain = fluid_eos_of(get_potential("mie_chain"))
    assert mie.eos is SAFT_VR_MIE and chain.eos is SAFT_VR_MIE
    p = _chain_params(12.0, 5.5, 1.0)
    got = mie.reduce({k: v for k, v in p.items() if k != "segments"})
    assert got == chain.reduce(p)
    for name in VLE_OBSERVABLES:
        get_observable(name).build(get_potential("mie"))


def test_shape_outside_the_validated_range_is_nan_with_a_status(chain_run):
    """At a draw with the attractive exponent m = 7.5 (SAFT-VR Mie is validated for
    lambda_a 5-7) or 17 segments (validated 1-16) every prediction is NaN with status
    OUTSIDE_VALIDITY, not an extrapolation; the 12-6 monomer at 375 K, above its Tc of
    329 K, is NaN with ABOVE_CRITICAL."""
    t = jnp.asarray(T_CHAIN[2.0])
    for params in (_chain_params(15.0, 7.5, 2.0), _chain_params(15.0, 6.0, 17.0)):
        values, status, _ = chain_run(params, t)
        assert np.all(np.isnan(np.asarray(values)))
        assert np.all(np.asarray(status) == SolveStatus.OUTSIDE_VALIDITY)
    values, status, _ = chain_run(_chain_params(12.0, 6.0, 1.0), t)
    assert int(status[-1]) == SolveStatus.ABOVE_CRITICAL and np.all(np.isnan(values[:, -1]))


# ----------------------------------------------------------------------------- two-centre LJ

EPS2_K, SIGMA2, L2, Q2_B = 100.0, 3.3, 1.6, 2.4  # K, angstrom, angstrom, buckingham
T_2C = np.array([170.0, 220.0, 270.0])  # K; Tc of this 2CLJQ fluid is ~288 K


def _two_centre_params(Q_B=Q2_B):
    p = {
        "epsilon": jnp.float64(EPS2_K * R_KJ),
        "sigma": jnp.float64(SIGMA2),
        "L": jnp.float64(L2),
    }
    if Q_B is not None:
        p["Q"] = jnp.float64(Q_B * BUCKINGHAM)
    return p


def _si_q2_star(Q_B):
    """Q*^2 = Q^2 / (4 pi eps0 epsilon sigma^5) in SI (1 B = 1e-26 esu cm^2 = 3.33564e-40
    C m^2)."""
    q = Q_B * 1e-26 * 1e-4 * 0.1 / sc.c  # esu cm^2 -> C m^2 (1 esu = 0.1 / c C, c in m/s)
    return q**2 / (4 * np.pi * sc.epsilon_0 * EPS2_K * sc.k * (SIGMA2 * 1e-10) ** 5)


def _teqp_two_centre_model(Q_B):
    """teqp's 2CLJF (Q_B None) or 2CLJF-Quadrupole model, and its critical point."""
    spec = {"author": "2CLJF_Lisal", "L^*": L2 / SIGMA2}
    if Q_B is None:
        model = teqp.make_model({"kind": "2CLJF", "model": spec})
        start = TWO_CENTRE_LJ.critical_estimate(L2 / SIGMA2)
    else:
        spec["(Q^*)^2"] = _si_q2_star(Q_B)
        model = teqp.make_model({"kind": "2CLJF-Quadrupole", "model": spec})
        start = TWO_CENTRE_LJ_QUADRUPOLE.critical_estimate(L2 / SIGMA2, spec["(Q^*)^2"])
    return model, model.solve_pure_critical(*(float(x) for x in start))


def _teqp_two_centre_vle(Q_B):
    """teqp's coexistence at T_2C in mol/L, MPa, kJ/mol (reduced values converted in SI)."""
    model, (tc, rhoc) = _teqp_two_centre_model(Q_B)
    anc = teqp.build_ancillaries(model, tc, rhoc, 0.5 * tc)
    reduced = np.array([_teqp_vle(model, T / EPS2_K, anc) for T in T_2C]).T
    sigma_m = SIGMA2 * 1e-10
    per_l = 1.0 / (sigma_m**3 * sc.N_A) / 1000.0  # rho* -> mol/L
    eps_j = EPS2_K * sc.k
    conv = np.array([[per_l], [per_l], [eps_j / sigma_m**3 / 1e6], [eps_j * sc.N_A / 1e3]])
    return reduced * conv


@pytest.fixture(scope="module")
def quadrupole_run():
    return _compiled("two_centre_lj_quadrupole")


def test_two_centre_quadrupole_vle_equals_teqp(quadrupole_run):
    """2CLJQ with eps/k = 100 K, sigma = 3.3, L = 1.6 angstrom (L* = 0.485), Q = 2.4 B
    (Q*^2 = 1.07) at 170-270 K equals teqp's 2CLJF-Quadrupole, whose reduced values are
    converted here in SI, to 1e-9 relative (EOS agreement 1e-12, solve ~1e-15)."""
    values, status, _ = quadrupole_run(_two_centre_params(), jnp.asarray(T_2C))
    assert np.all(np.asarray(status) == SolveStatus.OK)
    want = _teqp_two_centre_vle(Q2_B)
    np.testing.assert_allclose(np.asarray(values), want, rtol=1e-9)


def test_two_centre_quadrupole_gradient_matches_finite_differences(quadrupole_run):
    """d/d(epsilon, sigma, L, Q) of all four properties against central differences."""
    _check_gradient(quadrupole_run, _two_centre_params(), T_2C)


def test_two_centre_lj_pressure_equals_teqp_and_its_gradient_differences():
    """The ``two_centre_lj`` potential (no quadrupole) through eos_pressure at three
    single-phase states (T, rho) against teqp's 2CLJF: p = rho* T* (1 + Ar01) eps /
    sigma^3, 1e-10 relative; its gradient in (epsilon, sigma, L) against central
    differences (1e-7). (Its coexistence runs the same solver as the 2CLJQ test.)"""
    predict = get_observable("eos_pressure").build(get_potential("two_centre_lj"))
    t_k = np.array([150.0, 300.0, 500.0])
    rho_star = np.array([0.02, 0.35, 0.25])
    env = {"T_K": jnp.asarray(t_k), "rho_per_A3": jnp.asarray(rho_star / SIGMA2**3)}
    params = _two_centre_params(None)
    run = jit_once(jax.jacfwd(lambda p: predict(p, env), has_aux=False))
    value = jit_once(lambda p: predict(p, env))
    model, _ = _teqp_two_centre_model(None)
    t_star = t_k / EPS2_K
    want = [r * t * (1 + model.get_Ar01(t, r, Z1)) for t, r in zip(t_star, rho_star, strict=True)]
    want = np.array(want) * EPS2_K * sc.k / (SIGMA2 * 1e-10) ** 3 / 1e6
    np.testing.assert_allclose(np.asarray(value(params)), want, rtol=1e-10)
    jac = run(params)
    for name, x in params.items():
        h = 1e-6 * float(x)
        fd = (value({**params, name: x + h}) - value({**params, name: x - h})) / (2 * h)
        np.testing.assert_allclose(np.asarray(jac[name]), np.asarray(fd), rtol=1e-7)
