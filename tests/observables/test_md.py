"""Tests of the molecular-dynamics forward model (bayesff.observables.md).

Reduced LJ units throughout: epsilon = 1 kJ/mol and sigma = 1 angstrom, so
T = T* epsilon / R, rho = rho* / sigma^3, p* = p / (1 kJ/mol/angstrom^3) and
u* = u / epsilon (as in test_liquid.py).

Cost (CI has 2 cores, no GPU): importing jax-md (~10 s of CPU: it pulls in
flax and friends), one compilation per state point (~3-5 s), and two N = 256
runs of 2000 + 8000 steps plus shorter runs that reuse the compiled code.
All runs are module-scoped fixtures, shared between tests.

Statistical tolerances: every MD average is compared with its reference to
within 4 block-average standard errors (10 blocks of 800 steps, 4 tau* at
T* = 1 and 2.8 tau* at T* = 2, against pressure and energy correlation times
of a fraction of tau* in dense LJ; the standard error itself is uncertain by
~1/sqrt(2 (10 - 1)) = 24 %, which 4 sigma covers) plus a systematic allowance
stated at each test.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("jax_md")  # optional extra: pip install bayesff[md]

from bayesff.observables import liquid, md
from bayesff.observables.structure import first_peak, structure_factor_at
from bayesff.potentials.cutoff import truncated
from bayesff.potentials.pair import LENNARD_JONES
from bayesff.simulate import lj_md
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

LJ = {"epsilon": 1.0, "sigma": 1.0}
N = 256
R_CUT = 3.0  # sigma; L/2 = 3.42 sigma at rho* = 0.8, 3.87 at rho* = 0.55
COMMON = {"n_particles": N, "r_cut_angstrom": R_CUT, "n_bins": 120, "sample_every": 20}

#: (T*, rho*) -> (p*, u*) from the Thol et al. (2016) LJ EOS, doi:10.1063/1.4945000,
#: computed with teqp 0.23.2 ("LJ126_TholJPCRD2016"): p* = rho* T* (1 + Ar01),
#: u* = T* Ar10; recomputed by test_reference_values when teqp is installed.
THOL = {
    (1.0, 0.8): (1.0232719052458694, -5.534414837205399),
    (2.0, 0.55): (1.3653519719753489, -3.4546897169705284),
}

#: Systematic allowances added to 4 standard errors in the EOS comparison, in p* and u*:
#: (i) the spread of the reference LJ EOS themselves (Thol 2016, Kolafa-Nezbeda 1994,
#: Johnson et al. 1993 agree to < 0.03 in p* and < 0.3 % in u* at liquid states, see
#: test_liquid.test_reference_eos_values); (ii) finite size and the truncated dynamics:
#: with tail corrections, N = 256 and r_c = 3 sigma the residual is O(1/N) and the
#: neglected g(r) != 1 beyond r_c, both estimated at < 0.02 in p* and < 0.01 in u*
#: (Johnson et al., Mol. Phys. 78, 591 (1993), doi:10.1080/00268979300100411, tables
#: with N = 864 vs 256 runs); (iii) BAOAB's configurational error at dt = 0.005 tau_kT,
#: O(dt^2), below 0.005 in both (Leimkuhler and Matthews 2013).
ALLOW_P, ALLOW_U = 0.05, 0.02


def temperature(t_star):
    return t_star / GAS_CONSTANT_KJ_PER_MOL_K


def reduced_pressure(p_mpa):
    return p_mpa / KJ_PER_MOL_PER_A3_IN_MPA


@functools.cache
def run(t_star, rho_star, seed=0, n_steps=8000, n_equil=2000, **params):
    return lj_md.simulate(
        LENNARD_JONES, {**LJ, **params}, temperature(t_star), rho_star,
        n_steps=n_steps, n_equil=n_equil, seed=seed, **COMMON,
    )  # fmt: skip


@pytest.fixture(scope="module")
def super_run():
    return run(2.0, 0.55)


# ------------------------------------------------------------------- against the EOS


@pytest.mark.slow
@pytest.mark.parametrize("state", [(1.0, 0.8), (2.0, 0.55)], ids=["liquid", "supercritical"])
def test_pressure_and_energy_against_thol(state):
    """MD p* and u* (virial + tail corrections) vs Thol 2016, 4 se + ALLOW_P/ALLOW_U."""
    res = run(*state)
    assert res.status == lj_md.OK, lj_md.STATUS_MESSAGES[res.status]
    p_ref, u_ref = THOL[state]
    p, p_se = reduced_pressure(res.pressure_MPa), reduced_pressure(res.pressure_se_MPa)
    u, u_se = res.energy_kJ_per_mol, res.energy_se_kJ_per_mol
    print(f"\nMD vs Thol at {state}: p* {p:.4f} +- {p_se:.4f} (Thol {p_ref:.4f}), "
          f"u* {u:.4f} +- {u_se:.4f} (Thol {u_ref:.4f}), {res.diagnostics}")  # fmt: skip
    assert abs(p - p_ref) < 4 * p_se + ALLOW_P, (state, p, p_se, p_ref)
    assert abs(u - u_ref) < 4 * u_se + ALLOW_U, (state, u, u_se, u_ref)
    # the thermostat: kinetic temperature within 4 block standard errors plus 2 % for
    # BAOAB's O(dt^2) full-step kinetic bias (Leimkuhler and Matthews 2013; it does not
    # affect configurational averages); measured 1.007 +- 0.008 at the liquid state with
    # dt = 0.005 tau and 1.022 +- 0.007 with dt = 0.0025 tau in 12000-step scratch runs.
    t_se = res.diagnostics["temperature_kinetic_se_K"]
    assert abs(res.temperature_kinetic_K - temperature(state[0])) < 4 * t_se + 0.02 * temperature(
        state[0]
    )
    # the tail corrections were applied and have the textbook values (Allen and Tildesley
    # 2017, eq. 2.144): u_tail = 8/9 pi rho (r_c^-9 - 3 r_c^-3), in reduced units
    rho = state[1]
    u_tail = 8.0 / 9.0 * np.pi * rho * (R_CUT**-9 - 3.0 * R_CUT**-3)
    assert res.diagnostics["tail_energy_kJ_per_mol"] == pytest.approx(u_tail, rel=1e-10)


def test_reference_values():
    """THOL above, recomputed with teqp (skipped without it)."""
    pytest.importorskip("teqp")
    from support import lj_reference_eos

    for (t, rho), (p_ref, u_ref) in THOL.items():
        p, u = lj_reference_eos(t, rho)
        assert p == pytest.approx(p_ref, rel=1e-12)
        assert u == pytest.approx(u_ref, rel=1e-12)


# ------------------------------------------------------------------- structure vs the IE


@pytest.mark.slow
def test_structure_against_integral_equation(super_run):
    """g(r) and S(q) at T* = 2, rho* = 0.55 against the VM integral equation.

    Reference: liquid.solve(closure="vm"), whose closure error for LJ at moderate
    density is ~1 % in u* (docs/liquid.md). Tolerances: 4 block standard errors of
    g per bin, plus a systematic 0.03 (VM closure error in g near the first peak at
    this density, e.g. Duh and Haymet, J. Chem. Phys. 103, 2625 (1995), fig. 2, a
    few hundredths; histogram bins of 0.025 sigma bias the peak height by
    g'' dr^2 / 24 < 2e-3; finite N shifts g by ~S(0)/N ~ 1e-3).
    """
    res = super_run
    sol = liquid.solve(LENNARD_JONES, LJ, temperature(2.0), 0.55, closure="vm", n=2048)
    assert int(sol.status) == liquid.CONVERGED
    g_ie = np.interp(res.r, np.asarray(sol.r), np.asarray(sol.g))
    window = (res.r > 0.8) & (res.r < R_CUT - 0.05)
    dg = np.abs(res.g - g_ie)[window]
    s_ie = np.asarray(structure_factor_at(sol, res.q, 0.55))
    p_ie, u_ie = reduced_pressure(float(sol.pressure_MPa)), float(sol.energy_kJ_per_mol)
    print(
        f"\ng(r) MD vs VM: max |dg| {dg.max():.4f} at r = {res.r[window][np.argmax(dg)]:.3f}, "
        f"max g_se {res.g_se[window].max():.4f}; peak MD {first_peak(res.r, res.g)}, "
        f"VM {first_peak(sol.r, sol.g)}; max |dS| {np.max(np.abs(res.S - s_ie)):.4f}; "
        f"IE p* {p_ie:.4f} u* {u_ie:.4f}"
    )
    assert np.all(dg < 4 * res.g_se[window] + 0.03), (res.r[window][np.argmax(dg)], dg.max())
    r_md, h_md = first_peak(jnp.asarray(res.r), jnp.asarray(res.g))
    r_ie, h_ie = first_peak(sol.r, sol.g)
    assert abs(float(r_md) - float(r_ie)) < 0.025  # one histogram bin
    assert abs(float(h_md) - float(h_ie)) < 0.03 + 4 * float(np.max(res.g_se[window]))
    # S(q) from k vectors vs the IE's S(q) at the same q (q sigma < 10): per shell within
    # 4 block standard errors (shells hold 3-24 vectors, so S_se is up to ~0.06 near the
    # peak) plus the same 0.05 closure allowance (VM's g peak is 0.035 below MD's here).
    assert np.all(np.abs(res.S - s_ie) < 4 * res.S_se + 0.05), np.max(np.abs(res.S - s_ie))
    # Normalisation (N (N - 1) / V, ideal-gas exact): over 2.5-2.95 sigma, where g is
    # within 3 % of 1 and VM is accurate, the mean of g_MD - g_VM is within 0.005 (~4 se
    # of that mean; measured 0.001). A normalisation off by 1 % would fail.
    tail = (res.r > 2.5) & (res.r < 2.95)
    assert abs(np.mean(res.g[tail] - g_ie[tail])) < 0.005


# ------------------------------------------------------------------- reweighting


def test_reweighting_at_reference_is_the_plain_average(super_run):
    """Uniform weights at the reference: ESS = n_frames and the plain averages, to rounding."""
    res = super_run
    out = md.reweight(res.trajectory, LJ)
    n = res.trajectory.n_frames
    assert float(out.ess) == pytest.approx(n, rel=1e-10)
    np.testing.assert_allclose(np.asarray(out.weights), 1.0 / n, rtol=1e-10)
    assert float(out.pressure_MPa) == pytest.approx(res.pressure_MPa, rel=1e-10, abs=1e-8)
    assert float(out.energy_kJ_per_mol) == pytest.approx(res.energy_kJ_per_mol, rel=1e-10)
    np.testing.assert_allclose(np.asarray(out.g), res.g, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(out.S), res.S, rtol=1e-10)


@pytest.mark.slow
def test_reweighting_reproduces_a_direct_simulation(super_run):
    """epsilon +5 %: reweighted p* and u* agree with a direct run at the new epsilon.

    Tolerance: 4 combined standard errors, the reweighted one inflated by
    sqrt(n_frames / ESS) (Kish), no systematic allowance (same N, r_c, dt and state).
    """
    new = {**LJ, "epsilon": 1.05}
    rw = md.reweight(super_run.trajectory, new)
    print(
        f"\nreweighted eps+5%: ESS/n {float(rw.ess_fraction):.3f}, "
        f"p {float(rw.pressure_MPa):.2f}, u {float(rw.energy_kJ_per_mol):.4f}"
    )
    assert float(rw.ess_fraction) > 0.5
    direct = run(2.0, 0.55, seed=1, n_steps=6000, n_equil=1000, epsilon=1.05)
    inflate = np.sqrt(1.0 / float(rw.ess_fraction))
    for value, se, ref, ref_se in [
        (rw.pressure_MPa, super_run.pressure_se_MPa, direct.pressure_MPa, direct.pressure_se_MPa),
        (
            rw.energy_kJ_per_mol,
            super_run.energy_se_kJ_per_mol,
            direct.energy_kJ_per_mol,
            direct.energy_se_kJ_per_mol,
        ),
    ]:
        sigma = np.hypot(inflate * se, ref_se)
        assert abs(float(value) - ref) < 4 * sigma, (float(value), ref, sigma)


def test_reweighted_gradient_matches_finite_differences(super_run):
    """jax.grad through the weights (frames constant) vs central differences, h = 1e-5.

    Tolerance 1e-5 relative: the reweighted average is smooth in the parameters and the
    FD truncation error is O(h^2) ~ 1e-10; rounding in p (~2e3 MPa) is ~1e-13 / h.
    """
    traj = super_run.trajectory

    def pressure(eps, sig):
        return md.reweight(traj, {"epsilon": eps, "sigma": sig}).pressure_MPa

    x0 = (1.02, 1.005)
    grad = np.asarray(jax.grad(pressure, argnums=(0, 1))(*x0))
    h = 1e-5
    fd = np.array(
        [
            (float(pressure(x0[0] + h, x0[1])) - float(pressure(x0[0] - h, x0[1]))) / (2 * h),
            (float(pressure(x0[0], x0[1] + h)) - float(pressure(x0[0], x0[1] - h))) / (2 * h),
        ]
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-5)


@pytest.mark.slow
def test_estimator_resimulates_when_ess_drops(super_run):
    """A small change is reweighted; sigma +5 % drops the ESS below 0.5 and re-simulates."""
    est = lj_md.ReweightingEstimator(
        LENNARD_JONES, temperature(2.0), 0.55, ess_threshold=0.5,
        trajectory=super_run.trajectory, n_steps=1000, n_equil=500, seed=2, **COMMON,
    )  # fmt: skip
    small = est({**LJ, "epsilon": 1.01})
    assert not small.resimulated and est.n_simulations == 0
    far = {**LJ, "sigma": 1.05}
    ess_far = float(md.reweight(super_run.trajectory, far).ess_fraction)
    print(f"\nsigma+5%: ESS/n {ess_far:.4f}; eps+1%: {float(small.ess_fraction):.4f}")
    assert ess_far < 0.5
    out = est(far)
    assert out.resimulated and est.n_simulations == 1
    assert est.trajectory.params == far
    assert float(out.ess_fraction) == pytest.approx(1.0, rel=1e-10)
    again = est(far)
    assert not again.resimulated and est.n_simulations == 1


# ------------------------------------------------------------------- failures and bad input


def test_blow_up_is_a_status_not_numbers():
    """A time step 100x too large: a failure status (here the kinetic temperature is far
    off T; NaN/inf or a neighbour list that cannot keep up are reported likewise) and NaN
    averages, never silent numbers."""
    # default dt = 0.005 sigma sqrt(m / k_B T), m = 0.01 * 39.948 (lj_md.MASS_UNIT, argon)
    dt_default = 0.005 * np.sqrt(lj_md.MASS_UNIT * 39.948 / 2.0)
    res = lj_md.simulate(
        LENNARD_JONES, LJ, temperature(2.0), 0.55, n_steps=1000, n_equil=0,
        dt_ps=100 * dt_default, max_reallocations=0, **COMMON,
    )  # fmt: skip
    assert res.status in (lj_md.NONFINITE, lj_md.NEIGHBOR_OVERFLOW, lj_md.UNSTABLE), (
        res.diagnostics
    )
    assert np.isnan(res.pressure_MPa) and np.isnan(res.energy_kJ_per_mol)
    assert res.trajectory is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"T_K": -1.0}, "T_K must be finite and > 0"),
        ({"rho_per_A3": 0.0}, "rho_per_A3 must be finite and > 0"),
        ({"n_particles": 32}, "too few particles for the cut-off"),
        ({"r_cut_angstrom": 3.5}, "exceeds half the box"),
        ({"r_max_angstrom": 3.2}, "must not exceed r_cut"),
        ({"n_steps": 100}, "samples, need at least"),
        ({"params": {"epsilon": 1.0}}, "takes parameters"),
        ({"params": {"epsilon": 1.0, "sigma": float("nan")}}, "finite scalar"),
        ({"dtype": "float16"}, "dtype must be"),
        ({"long_range": "ewald"}, "long_range must be"),
    ],
)
def test_bad_input_raises_before_simulating(kwargs, message, monkeypatch):
    def no_build(*a, **k):  # pragma: no cover - reached only if validation is missing
        raise AssertionError("simulation started before the input was validated")

    monkeypatch.setattr(lj_md, "_build", no_build)
    args = {
        "potential": LENNARD_JONES, "params": LJ, "T_K": temperature(1.0),
        "rho_per_A3": 0.8, "n_particles": 256, "n_steps": 4000, "n_equil": 0,
        "r_cut_angstrom": 3.0,
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        lj_md.simulate(**args)


def test_options_and_keyword_overrides_reach_the_settings(monkeypatch):
    """Numerical settings come from ``options`` (lj_md.MDOptions), a keyword argument of the
    same name overrides it, and a keyword that names no setting is a TypeError naming it;
    all before anything is built. Reference: the r_cut > L/2 check of the settings (256
    particles at rho* = 0.8 give L/2 = 3.4 sigma)."""

    def no_build(*a, **k):  # pragma: no cover - reached only if validation is missing
        raise AssertionError("simulation started before the input was validated")

    monkeypatch.setattr(lj_md, "_build", no_build)
    args = (LENNARD_JONES, LJ, temperature(1.0), 0.8)
    run = {"n_particles": 256, "n_steps": 4000, "n_equil": 0}
    with pytest.raises(ValueError, match=r"r_cut = 3\.5 angstrom exceeds half the box"):
        lj_md.simulate(*args, **run, options=lj_md.MDOptions(r_cut_angstrom=3.5))
    with pytest.raises(ValueError, match=r"r_cut = 3\.6 angstrom exceeds half the box"):
        lj_md.simulate(
            *args, **run, options=lj_md.MDOptions(r_cut_angstrom=3.0), r_cut_angstrom=3.6
        )
    with pytest.raises(TypeError, match="r_cutoff"):
        lj_md.simulate(*args, **run, r_cutoff=3.0)


def test_wrapped_potential_sets_the_default_cutoff():
    """A cut-off-wrapped potential: r_cut defaults to its r_c (checked via the L/2 error)."""
    pot = truncated(LENNARD_JONES, 4.0)
    with pytest.raises(ValueError, match="r_cut = 4 angstrom exceeds half the box"):
        lj_md.simulate(pot, LJ, temperature(1.0), 0.8, n_particles=256, n_steps=4000, n_equil=0)


def test_block_standard_error_of_white_noise():
    """Closed form: for iid N(0, 1) samples the standard error is 1/sqrt(n) (within 3 x its
    own relative uncertainty 1/sqrt(2 (n_blocks - 1)) at 50 blocks)."""
    x = np.random.default_rng(0).standard_normal(100_000)
    mean, se = lj_md.block_standard_error(x, 50)
    assert abs(mean) < 4 / np.sqrt(x.size)
    assert abs(se * np.sqrt(x.size) - 1.0) < 3 / np.sqrt(2 * 49)


def test_gp_pair_potential_runs_in_md():
    # Issue 6: a GP potential works wherever a pair potential does. With its weights at zero
    # the GP is exactly its LJ base (tests/potentials/test_gp.py), so the same seed must give
    # the same trajectory averages as the LJ itself, to round-off; a non-zero weight must
    # change them (the correction reaches the forces).
    from bayesff.potentials.gp import gp_pair_potential

    gp = gp_pair_potential("lennard_jones", basis=4, r_min=0.9, r_c=2.4)
    zero = {**LJ, "amplitude": 0.3, "length_scale": 0.3, **{f"w_{i:02d}": 0.0 for i in range(4)}}
    run = functools.partial(
        lj_md.simulate, T_K=temperature(2.0), rho_per_A3=0.55, n_steps=200, n_equil=100,
        seed=1, store_frames=False, n_blocks=4, **COMMON,
    )  # fmt: skip
    ref, same = run(LENNARD_JONES, LJ), run(gp, zero)
    assert ref.status == lj_md.OK and same.status == lj_md.OK
    np.testing.assert_allclose(same.energy_kJ_per_mol, ref.energy_kJ_per_mol, rtol=1e-9)
    bumped = run(gp, {**zero, "w_00": 2.0})
    assert bumped.status == lj_md.OK
    assert abs(bumped.energy_kJ_per_mol - ref.energy_kJ_per_mol) > 1e-3
