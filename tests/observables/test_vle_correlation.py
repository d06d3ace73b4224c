"""The coexistence observables' ``method = "correlation"`` (bayesff.observables.vle).

Two-centre potentials may predict the saturated densities and the vapour pressure from the
closed-form correlations of Stoll, Vrabec, Hasse and Fischer, Fluid Phase Equilib. 179, 339
(2001), doi:10.1016/S0378-3812(00)00506-9, as Madin et al. (arXiv:2105.07863) did. What is
checked: the observables reproduce the paper's simulated VLE (Table 1, the states at about
0.80 T*c, transcribed in tests/observables/eos/test_two_centre_correlations.py) after the map
to real units, within the correlations' own published agreement; gradients in every
force-field parameter agree with central differences; NaN (with its status) outside the
validated range, above the critical temperature and for the enthalpy of vaporisation; bad
options are one-line ProblemErrors; the floor is the documented relative error.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesff.errors import ProblemError
from bayesff.observables import get_observable, vle
from bayesff.observables.eos import SolveStatus
from bayesff.observables.eos import two_centre_correlations as corr
from bayesff.observables.eos.two_centre import reduced_variables
from bayesff.potentials import get_potential
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA, factor

jax.config.update("jax_enable_x64", True)

POT = get_potential("two_centre_lj_quadrupole")
EPS = 100.0 * GAS_CONSTANT_KJ_PER_MOL_K  # kJ/mol
SIG = 3.5  # angstrom
MOL_PER_L = factor("mol/L", "number_density")

# Stoll et al. (2001), Table 1, three of the 30 fluids at about 0.80 T*c:
# L*, Q*^2, T*, p*, rho'*, rho''* (transcribed in test_two_centre_correlations.py).
STOLL_080 = np.array(
    [
        [0.0, 0.0, 4.256, 0.1469, 0.66404, 0.04347],
        [0.2, 2.0, 3.712, 0.1062, 0.60533, 0.0358],
        [0.4, 1.0, 2.64, 0.06547, 0.47589, 0.03121],
    ]
)


def _params(L_star, Q2_star):
    """Force-field parameters (internal units) of the reduced model (L*, Q*^2) at EPS, SIG."""
    q2_per_q = float(reduced_variables(1.0, 0.0, EPS, SIG, 0.0, 1.0)[3])
    return {
        "epsilon": jnp.asarray(EPS),
        "sigma": jnp.asarray(SIG),
        "L": jnp.asarray(L_star * SIG),
        "Q": jnp.asarray(np.sqrt(Q2_star / q2_per_q)),
    }


def _predict(name, params, T_K):
    obs = get_observable(name)
    return obs.build(POT, method="correlation")(params, {"T_K": jnp.asarray(T_K, float)})


@pytest.mark.parametrize("row", range(len(STOLL_080)))
def test_matches_stoll_simulations_in_real_units(row):
    """Liquid density within 0.5 %, vapour pressure within 6 %, vapour density within 20 % of
    Stoll et al.'s simulations (Table 1): the correlations' published agreement, as
    test_two_centre_correlations.py measures it (max 0.49 %, 5.3 %, 18 % over 30 fluids);
    and equal to the module's reduced correlations mapped by rho = rho*/sigma^3,
    p = p* epsilon/sigma^3 to 1e-12 (exact algebra)."""
    L, q, t, p_star, rl_star, rv_star = STOLL_080[row]
    params = _params(L, q)
    T_K = np.array([t * EPS / GAS_CONSTANT_KJ_PER_MOL_K])
    to_mol_per_L = 1.0 / (SIG**3 * MOL_PER_L)
    to_MPa = EPS / SIG**3 * KJ_PER_MOL_PER_A3_IN_MPA
    rho_l = float(_predict("saturated_liquid_density", params, T_K)[0])
    rho_v = float(_predict("saturated_vapour_density", params, T_K)[0])
    p_sat = float(_predict("vapour_pressure", params, T_K)[0])
    assert rho_l == pytest.approx(rl_star * to_mol_per_L, rel=0.005)
    assert p_sat == pytest.approx(p_star * to_MPa, rel=0.06)
    assert rho_v == pytest.approx(rv_star * to_mol_per_L, rel=0.20)
    exact = float(corr.saturated_liquid_density(t, L, q)) * to_mol_per_L
    assert rho_l == pytest.approx(exact, rel=1e-12)
    assert p_sat == pytest.approx(float(corr.vapour_pressure(t, L, q)) * to_MPa, rel=1e-12)
    exact_v = float(corr.saturated_vapour_density(t, L, q)) * to_mol_per_L
    assert rho_v == pytest.approx(exact_v, rel=1e-12)


@pytest.mark.slow
def test_gradients_match_central_differences():
    """d(prediction)/d(epsilon, sigma, L, Q) against central differences (step 1e-6
    relative), to 1e-6 relative: the map to reduced variables is exact algebra."""
    params = _params(0.4, 1.0)
    T_K = np.array([220.0, 260.0, 300.0])

    def f(x):
        p = dict(zip(("epsilon", "sigma", "L", "Q"), x, strict=True))
        return jnp.concatenate(
            [
                _predict("saturated_liquid_density", p, T_K),
                jnp.log(_predict("vapour_pressure", p, T_K)),
            ]
        )

    x0 = jnp.array([params[k] for k in ("epsilon", "sigma", "L", "Q")])
    jac = np.asarray(jax.jacfwd(f)(x0))
    assert np.all(np.isfinite(jac))
    for i in range(4):
        h = 1e-6 * float(x0[i])
        e = jnp.zeros(4).at[i].set(h)
        fd = (np.asarray(f(x0 + e)) - np.asarray(f(x0 - e))) / (2 * h)
        np.testing.assert_allclose(jac[:, i], fd, rtol=1e-6, atol=1e-10)


def test_nan_outside_the_range_with_status_and_finite_gradients():
    """NaN with status ABOVE_CRITICAL at and above the correlation's T*c, OUTSIDE_VALIDITY
    below CORRELATION_T_R_MIN T*c and for L* > 0.8 (Stoll et al.'s fitted range), never an
    extrapolation; the gradient of the finite rows stays finite. dH_vap is NaN."""
    fluid = vle.fluid_eos_of(POT)
    params = _params(0.4, 1.0)
    tc = float(corr.critical_temperature(0.4, 1.0)) * EPS / GAS_CONSTANT_KJ_PER_MOL_K
    T_K = jnp.array([0.45 * tc, 0.8 * tc, tc, 1.1 * tc])
    pred = vle.correlation_predictions(fluid, params, T_K)
    assert np.asarray(pred.status).tolist() == [
        SolveStatus.OUTSIDE_VALIDITY,
        SolveStatus.OK,
        SolveStatus.ABOVE_CRITICAL,
        SolveStatus.ABOVE_CRITICAL,
    ]
    assert np.isnan(np.asarray(pred.rho_l))[[0, 2, 3]].all()
    assert np.isfinite(float(pred.rho_l[1]))
    assert np.isnan(np.asarray(pred.dH_vap)).all()
    g = jax.grad(
        lambda e: jnp.nansum(
            vle.correlation_predictions(fluid, {**params, "epsilon": e}, T_K).p_sat
        )
    )(params["epsilon"])
    assert np.isfinite(float(g))
    long = vle.correlation_predictions(fluid, _params(0.85, 1.0), 0.5 * T_K[2:3])
    assert int(long.status[0]) == SolveStatus.OUTSIDE_VALIDITY


def test_bad_options_are_problem_errors():
    """Unknown method, a correlation for a potential it does not describe, and a correlation
    of the enthalpy of vaporisation (none exists) are ProblemErrors when built."""
    with pytest.raises(ProblemError, match="one of eos, correlation"):
        get_observable("vapour_pressure").build(POT, method="table")
    with pytest.raises(ProblemError, match="needs a two-centre potential"):
        get_observable("vapour_pressure").build(
            get_potential("lennard_jones"), method="correlation"
        )
    with pytest.raises(ProblemError, match="no correlation"):
        get_observable("enthalpy_of_vaporisation").build(POT, method="correlation")


def test_floor_is_the_documented_error_and_rows_above_tc_are_refused():
    """The floor is CORRELATION_FLOOR x |value| (0.5 % liquid density, 5.3 % vapour pressure:
    the largest deviations from Stoll et al.'s Table 1); a row at or above the correlation's
    critical temperature at the prior centre is a ProblemError naming the row."""
    obs = get_observable("saturated_liquid_density")
    params = {k: float(v) for k, v in _params(0.4, 1.0).items()}
    tc = float(corr.critical_temperature(0.4, 1.0)) * EPS / GAS_CONSTANT_KJ_PER_MOL_K
    env = {"T_K": np.array([0.7 * tc, 0.9 * tc])}
    values = np.array([20.0, 15.0])
    floor = obs.error_floor(POT, params, env, values, {"method": "correlation"})
    np.testing.assert_allclose(floor, 0.005 * values)
    with pytest.raises(ProblemError, match=r"the row at T_K"):
        obs.error_floor(
            POT,
            params,
            {"T_K": np.array([0.7 * tc, 1.01 * tc])},
            values,
            {"method": "correlation"},
        )
