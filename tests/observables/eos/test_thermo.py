"""Thermodynamics of a reduced EOS by autodiff (bayesff.observables.eos.thermo), LJ case.

References: teqp 0.23.2's ``LJ126_TholJPCRD2016`` residual derivatives (independent code)
turned into p, Z, mu_res, ln phi, u_res and dp/drho by the textbook relations
(p* = rho* T* (1 + Ar01), mu_res/kT = Ar00 + Ar01, u_res* = T* Ar10, dp/drho = T* (1 + 2
Ar01 + Ar02)); teqp's ``solve_pure_critical`` for the critical point.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import teqp

from bayesff.observables.eos import SolveStatus, status_counts, thermo
from bayesff.observables.eos.lj import LJ_THOL2016

jax.config.update("jax_enable_x64", True)

TEQP = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
Z1 = np.array([1.0])


def test_properties_match_teqp_at_random_states():
    """p*, Z, mu_res/kT, ln phi, u_res* and dp*/drho* at 100 random states (T* 0.7-6,
    rho* 0.005-1, fixed seed) equal the same relations applied to teqp's derivatives to
    1e-10 relative (float64 rounding of sums of 23 terms is ~1e-13)."""
    rng = np.random.default_rng(7)
    ts, rs = rng.uniform(0.7, 6.0, 100), rng.uniform(0.005, 1.0, 100)
    e = LJ_THOL2016

    def ours(t, r):
        return jnp.stack(
            [
                thermo.pressure(e, t, r),
                thermo.compressibility_factor(e, t, r),
                thermo.residual_chemical_potential(e, t, r),
                thermo.ln_fugacity_coefficient(e, t, r),
                thermo.residual_energy(e, t, r),
                thermo.dp_drho(e, t, r),
            ]
        )

    got = np.asarray(jax.jit(jax.vmap(ours))(jnp.asarray(ts), jnp.asarray(rs)))
    for i, (t, r) in enumerate(zip(ts, rs, strict=True)):
        a00, a01 = TEQP.get_Ar00(t, r, Z1), TEQP.get_Ar01(t, r, Z1)
        a10, a02 = TEQP.get_Ar10(t, r, Z1), TEQP.get_Ar02(t, r, Z1)
        z = 1 + a01
        # ln phi needs Z > 0 (states inside the two-phase dome can have p < 0: NaN there)
        ln_phi = a00 + a01 - np.log(z) if z > 0 else np.nan
        want = [r * t * z, z, a00 + a01, ln_phi, t * a10, t * (1 + 2 * a01 + a02)]
        np.testing.assert_allclose(got[i], want, rtol=1e-10, atol=1e-13)


@pytest.mark.slow
def test_critical_point_is_the_top_of_the_spinodal():
    """The Thol EOS's critical point: teqp's solve_pure_critical from (1.33, 0.31), above
    the spinodal, gives (1.32000035, 0.31320022); ours agrees to 1e-8 in T* and 1e-5 in
    rho* (the critical isotherm is nearly flat: dp/drho varies by 3e-7 over rho* 0.308-
    0.313). p*c agrees with the paper's 0.13006 to its five digits."""
    cp = jax.jit(lambda: thermo.critical_point(LJ_THOL2016))()
    t_ref, r_ref = TEQP.solve_pure_critical(1.33, 0.31)
    assert int(cp.status) == SolveStatus.OK
    assert abs(float(cp.T_star) / t_ref - 1) < 1e-8
    assert abs(float(cp.rho_star) / r_ref - 1) < 1e-5
    assert abs(float(cp.p_star) - 0.13006) < 5e-6


@pytest.mark.slow
def test_a_spurious_critical_point_is_rejected():
    """The spurious point inside the two-phase region (T* = 1.3035, rho* = 0.3104, where
    teqp's solve_pure_critical lands from (1.3, 0.3)) satisfies the critical conditions
    (B = dB/ds = 0 to 1e-7 on the solver's stencil) with d2B/ds2 < 0, a maximum of B:
    the solver rejects it. Started there, the solve moves on to its next start and
    returns the true critical point, T* = 1.32000035 (teqp from above)."""
    x = jnp.array([1.3035125549100017, jnp.log(0.3103860327864468)])
    b0, b_s, b_ss, _, _ = thermo._critical_terms(LJ_THOL2016, x, {})
    assert abs(float(b0)) < 1e-7 and abs(float(b_s)) < 1e-7 and float(b_ss) < 0
    spurious = dataclasses.replace(
        LJ_THOL2016, critical_estimate=lambda: (1.3035125549100017, 0.3103860327864468)
    )
    cp = jax.jit(lambda: thermo.critical_point(spurious))()
    assert int(cp.status) == SolveStatus.OK and abs(float(cp.T_star) - 1.3200003) < 1e-6


def test_a_critical_solve_that_cannot_converge_says_so():
    """A start where the model is not finite gives NaN and a status, never a number."""
    bad = dataclasses.replace(LJ_THOL2016, critical_estimate=lambda: (jnp.nan, 0.31))
    cp = thermo.critical_point(bad)
    assert int(cp.status) != SolveStatus.OK and np.isnan(float(cp.T_star))


def test_status_counts():
    """status_counts names and counts the codes (host-side helper for reports)."""
    codes = np.array([0, 0, 1, 3, 3, 3])
    assert status_counts(codes) == {"OK": 2, "ABOVE_CRITICAL": 1, "NOT_CONVERGED": 3}
