"""Tests of the Ornstein-Zernike forward model (bayesff.observables.liquid).

Reduced units throughout: epsilon = 1 kJ/mol and sigma = 1 angstrom, so that
T = T* epsilon / R, rho = rho* / sigma^3, p* = p / (1 kJ/mol/angstrom^3) and
u* = u / epsilon. One jitted solver per (closure, grid size) keeps compilation
to a few seconds per closure.
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesff.observables import liquid
from bayesff.potentials.pair import LENNARD_JONES, SQUARE_WELL
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

from support import ROOT

LJ = {"epsilon": 1.0, "sigma": 1.0}
#: Hard spheres: the square well with a zero-depth well.
HS = {"epsilon": 0.0, "sigma": 1.0, "lam": 1.5}


def temperature(t_star):
    return t_star / GAS_CONSTANT_KJ_PER_MOL_K


def reduced_pressure(p_mpa):
    return p_mpa / KJ_PER_MOL_PER_A3_IN_MPA


@functools.cache
def lj_solver(closure, n=4096):
    return jax.jit(lambda t, rho: liquid.solve(LENNARD_JONES, LJ, t, rho, closure=closure, n=n))


@functools.cache
def hs_solver(n, dr):
    return jax.jit(lambda rho: liquid.solve(SQUARE_WELL, HS, 300.0, rho, closure="py", n=n, dr=dr))


# --------------------------------------------------------------------- hard spheres, PY


def wertheim(eta):
    """Exact PY hard-sphere results (Wertheim 1963, Thiele 1963), doi:10.1103/PhysRevLett.10.321.

    Returns the virial-route Z, S(0) (inverse of d(rho Z_c)/d rho) and c(x), x < 1.
    """
    z_v = (1 + 2 * eta + 3 * eta**2) / (1 - eta) ** 2
    s0 = (1 - eta) ** 4 / (1 + 2 * eta) ** 2
    lam1 = (1 + 2 * eta) ** 2 / (1 - eta) ** 4
    lam2 = -((1 + eta / 2) ** 2) / (1 - eta) ** 4

    def c(x):
        return -lam1 - 6 * eta * lam2 * x - 0.5 * eta * lam1 * x**3

    return z_v, s0, c


def hs_errors(eta, n, dr):
    rho = 6 * eta / np.pi
    sol = hs_solver(n, dr)(rho)
    assert int(sol.status) == liquid.CONVERGED
    z_v, s0, c = wertheim(eta)
    kt = GAS_CONSTANT_KJ_PER_MOL_K * 300.0
    z = float(sol.pressure_MPa) / (rho * kt * KJ_PER_MOL_PER_A3_IN_MPA)
    # c(r) inside the core at the points shared by all grids (x = 0.02, 0.04, ..., 0.98).
    x = np.arange(1, 50) * 0.02
    idx = np.rint(x / dr).astype(int) - 1
    c_err = np.max(np.abs(np.asarray(sol.c)[idx] / c(x) - 1))
    return np.array([abs(z / z_v - 1), abs(float(sol.S0) / s0 - 1), c_err])


@pytest.mark.parametrize("eta", [0.2, 0.4])
def test_hard_spheres_py_matches_wertheim_at_second_order(eta):
    """Virial Z, S(0) and c(r < sigma) converge to the exact PY solution as dr^2.

    Errors are relative (c(r) pointwise); the observed order between successive
    halvings of dr must be 2 within 0.15 (measured 1.99-2.08).

    The grid length is fixed at 20.48 sigma (h(r) of hard spheres has decayed
    to < 1e-6 there); N = 1024, 2048, 4096 halves dr from 0.02 to 0.005 sigma.
    The grid point at r = sigma takes the Mayer value -1/2 (module docstring).
    """
    grids = [(1024, 0.02), (2048, 0.01), (4096, 0.005)]
    errors = np.array([hs_errors(eta, n, dr) for n, dr in grids])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(orders - 2.0) < 0.15), (errors, orders)
    # Relative errors at dr = 0.005 sigma: measured <= 6e-4 (c at eta = 0.4).
    assert np.all(errors[-1] < 1e-3), errors


# --------------------------------------------------------------------- LJ against an EOS

#: (T*, rho*) -> (p*, u*) from the Thol et al. (2016) LJ EOS, doi:10.1063/1.4945000,
#: computed with teqp 0.23.2 ("LJ126_TholJPCRD2016"): p* = rho* T* (1 + Ar01),
#: u* = T* Ar10 (see test_reference_eos_values below, which recomputes them).
#: The states of the error table in docs/liquid.md: liquid (T* below the critical 1.32,
#: rho* above the saturated-liquid density of the same EOS, 0.834 at T* = 0.72, 0.799 at
#: 0.8, 0.753 at 0.9, 0.702 at 1.0, 0.566 at 1.2; T* = 0.72, rho* = 0.84 is argon at
#: 85 K) and supercritical.
THOL = {
    # liquid
    (0.72, 0.84): (0.08823343368721465, -6.0561390859273745),
    (0.8, 0.82): (0.27270112888135317, -5.84542443839007),
    (0.9, 0.8): (0.5287571143694928, -5.623950872574016),
    (1.0, 0.75): (0.39958244978570545, -5.221249230098813),
    (1.0, 0.85): (1.9530476806960058, -5.816563836215688),
    (1.2, 0.75): (1.187991884543426, -5.073737672681426),
    # supercritical
    (1.5, 0.4): (0.28343750595351574, -2.70192177755037),
    (1.5, 0.6): (0.7700244065777356, -3.960075018448818),
    (1.5, 0.8): (3.2796813816302124, -5.122962074239439),
    (2.0, 0.5): (1.0751637833293994, -3.1525021361952534),
    (2.0, 0.7): (3.0319602693425587, -4.302396039978794),
    (3.0, 0.85): (11.132069665524472, -4.162751604061166),
}

#: Tolerances (|p* - p*_Thol|, |u*/u*_Thol - 1|): the closures' own errors, not the
#: solver's (the grid error is < 1e-3 in p*, see the hard-sphere test). They are the
#: maximum errors over these 12 states measured with this solver (the table in
#: docs/liquid.md, `python benchmarks/liquid_bench.py --accuracy`), rounded up by
#: 5-10 % (VM: 0.302 and 1.06 %; VM-WCA: 0.302 and 1.79 %; VM consistent: 0.061 and
#: 0.36 %; PY: 1.46 and 2.7 %; HNC: 2.63 and 13.0 %). The PY, HNC and VM-WCA maxima
#: agree with those a prototype measured over 15 similar states
#: (shared/notes/integral-equations.md: 1.30 / 2.7 %, 2.63 / 13 %, 0.31 / 1.8 %).
TOLERANCE = {
    "vm": (0.32, 0.012),
    "vm_wca": (0.32, 0.019),
    "vm_consistent": (0.065, 0.004),
    "py": (1.55, 0.03),
    "hnc": (2.75, 0.137),
}


@pytest.mark.parametrize("closure", ["vm", "vm_wca", "vm_consistent", "py", "hnc"])
def test_lj_against_thol_eos(closure):
    tol_p, tol_u = TOLERANCE[closure]
    solver = lj_solver(closure)
    for (t_star, rho_star), (p_ref, u_ref) in THOL.items():
        sol = solver(temperature(t_star), rho_star)
        assert int(sol.status) == liquid.CONVERGED, (t_star, rho_star, int(sol.status))
        p = reduced_pressure(float(sol.pressure_MPa))
        u = float(sol.energy_kJ_per_mol)
        assert abs(p - p_ref) < tol_p, (t_star, rho_star, p, p_ref)
        assert abs(u / u_ref - 1) < tol_u, (t_star, rho_star, u, u_ref)


def test_reference_eos_values():
    """The stored Thol values, and the spread of three LJ EOS (Thol 2016, Kolafa-Nezbeda
    1994, Johnson-Zollweg-Gubbins 1993) at these states: < 0.05 in p*, < 1.4 % in u*
    (measured 0.045 and 1.3 % at T* = 3, rho* = 0.85; < 0.03 and < 0.3 % elsewhere).
    The CI subset's values (THOL_SUBSET) are recomputed too."""
    pytest.importorskip("teqp")
    from support import lj_reference_eos

    kinds = ("LJ126_TholJPCRD2016", "LJ126_KolafaNezbeda1994", "LJ126_Johnson1993")
    for (t, rho), (p_ref, u_ref) in THOL.items():
        values = np.array([lj_reference_eos(t, rho, kind) for kind in kinds])
        np.testing.assert_allclose(values[0], [p_ref, u_ref], rtol=1e-10)
        assert np.ptp(values[:, 0]) < 0.05
        assert np.ptp(values[:, 1]) / abs(u_ref) < 0.014
    for (t, rho), (p_ref, u_ref) in THOL_SUBSET.items():
        np.testing.assert_allclose(lj_reference_eos(t, rho), [p_ref, u_ref], rtol=1e-10)


# --------------------------------------------------------------------- accuracy bounds (issue 17)

#: CI subset of the validation states of docs/liquid.md (two vapour, three liquid, five
#: supercritical; boundaries in liquid.CLOSURE_ERROR_REGIONS), with (p*, u*) from the Thol
#: EOS as THOL above (teqp 0.23.2; recomputed in test_reference_eos_values). T* = 4,
#: rho* = 0.9 is the hottest, densest state, where "vm" with Verlet's constant alpha = 0.8
#: (now "vm_wca" there, the switch being 1) misses the bound in p* (dp* = -0.40).
THOL_SUBSET = {
    (0.8, 0.005): (0.0038430053100030215, -0.054597389265358266),
    (1.2, 0.08): (0.06837792607940284, -0.6710672856888815),
    (0.72, 0.84): (0.08823343368721465, -6.0561390859273745),
    (1.0, 0.85): (1.9530476806960058, -5.816563836215688),
    (1.3, 0.55): (0.2215227403368856, -3.728816601359807),
    (1.5, 0.05): (0.06603471302265167, -0.3760560622124005),
    (1.5, 0.3): (0.22476620109447612, -2.081233406934695),
    (2.0, 0.5): (1.0751637833293994, -3.1525021361952534),
    (3.0, 0.9): (13.910784363761444, -4.17574901942858),
    (4.0, 0.8): (12.138576618601562, -3.4927583462242873),
    (4.0, 0.9): (18.217396466922946, -3.4204565787747243),
}


def subset_errors(closure):
    """(dp*, du*, u*_Thol) at the CI subset, on the 2048-point grid (20 sigma).

    The smaller grid keeps the accuracy: at every state of the table in docs/liquid.md the
    2048- and 4096-point grids (same dr, tails analytic beyond the grid) give p* and u*
    within 1e-8 of each other for "vm" and "vm_consistent" (measured; largest at the
    near-critical T* = 1.3, rho* = 0.15).
    """
    solver = lj_solver(closure, 2048)
    out = []
    for (t, rho), (p_ref, u_ref) in THOL_SUBSET.items():
        sol = solver(temperature(t), rho)
        assert int(sol.status) == liquid.CONVERGED, (closure, t, rho, int(sol.status))
        out.append(
            (
                reduced_pressure(float(sol.pressure_MPa)) - p_ref,
                float(sol.energy_kJ_per_mol) - u_ref,
                u_ref,
            )
        )
    return np.array(out)


def test_default_closure_meets_the_accuracy_bounds():
    """Issue 17, item 2: |dp*| <= 0.35 and |du*| <= max(2.5 % |u*|, 0.01) for the default
    closure ("vm") at vapour, liquid and supercritical states. The bounds are the issue's
    (not fitted to this solver). Negative controls that the test can fail: the old closure
    "vm_wca" (no low-density switch, alpha = 0.8) must fail them at the vapour states (u*
    10-19 % off there) and, with Verlet's constant alpha, at T* = 4, rho* = 0.9 (dp* = -0.40)."""
    errors = subset_errors("vm")
    for (state, _), (dp, du, u_ref) in zip(THOL_SUBSET.items(), errors, strict=True):
        assert abs(dp) <= 0.35, (state, dp)
        assert abs(du) <= max(0.025 * abs(u_ref), 0.01), (state, du, u_ref)
    old = subset_errors("vm_wca")
    vapour = [i for i, (t, rho) in enumerate(THOL_SUBSET) if t < 1.32 and rho < 0.31]
    assert all(abs(old[i, 1]) > 0.025 * abs(old[i, 2]) for i in vapour)
    hot = list(THOL_SUBSET).index((4.0, 0.9))
    assert abs(old[hot, 0]) > 0.35, old[hot]


def test_vm_alpha_rises_with_temperature_and_is_used():
    """alpha(T*) = max(0.94 - 0.2/T*, 0.5), the maximum taken smoothly (docs/liquid.md):
    Verlet's 0.8 at T* = 10/7, 0.94 without attraction, 0.5 well below T* = 5/11; the
    solution reports the alpha it used, with T* = k_B T / |u_min| taken from the
    potential on the grid."""
    # the floor is smooth (softplus, width 0.02): 1e-5 from the plain maximum at T* >= 0.72
    np.testing.assert_allclose(liquid.vm_alpha(10.0 / 7.0), 0.8, rtol=1e-7)
    np.testing.assert_allclose(liquid.vm_alpha(np.inf), 0.94, rtol=1e-7)
    np.testing.assert_allclose(
        liquid.vm_alpha([0.2, 0.72, 4.0]), [0.5, 0.94 - 0.2 / 0.72, 0.89], atol=1e-5
    )
    np.testing.assert_allclose(liquid.vm_alpha(5.0 / 11.0), 0.5 + 0.02 * np.log(2.0), rtol=1e-7)
    # no kink where alpha meets its floor: d alpha / d T* is continuous there
    slope = jax.vmap(jax.grad(lambda t: liquid.vm_alpha(t)))(jnp.array([0.45, 0.4545, 0.46]))
    assert np.all(np.abs(np.diff(np.asarray(slope))) < 0.3 * np.max(np.asarray(slope)))
    sol = lj_solver("vm", 2048)(temperature(4.0), 0.9)
    # u_min on the grid is -epsilon to O(dr^2) (r_min = 2^(1/6) sigma lies between nodes)
    np.testing.assert_allclose(float(sol.closure_params[1]), 0.89, atol=1e-4)
    old = lj_solver("vm_wca", 2048)(temperature(4.0), 0.9)
    assert float(old.closure_params[1]) == 0.8


def test_consistent_closure_accuracy():
    """Issue 17, item 2: the consistent closure's mean |dp*| over the states <= 0.1 (the
    issue's aim; measured 0.014 on this subset, 0.018 over the full table), and its
    u* within the default closure's bounds."""
    errors = subset_errors("vm_consistent")
    assert np.mean(np.abs(errors[:, 0])) <= 0.1, errors[:, 0]
    assert np.all(np.abs(errors[:, 1]) <= np.maximum(0.025 * np.abs(errors[:, 2]), 0.01))


# --------------------------------------------------------------------- low-density limit


@functools.cache
def tight_solver(closure):
    """Jitted solve on a 1024-point grid (10 sigma) with tol = 1e-13."""
    return jax.jit(
        lambda t, rho: liquid.solve(LENNARD_JONES, LJ, t, rho, closure=closure, n=1024, tol=1e-13)
    )


def bridge_max(closure, t_star, rho_star):
    """max |B(r)| over 0.9 sigma <= r <= 3 sigma, with B = ln g + beta u - gamma computed
    from the solution's g and gamma and the potential itself (not the closure's formula)."""
    sol = tight_solver(closure)(temperature(t_star), rho_star)
    assert int(sol.status) == liquid.CONVERGED
    r = np.asarray(sol.r)
    keep = (r >= 0.9) & (r <= 3.0)
    beta_u = np.asarray(LENNARD_JONES.energy(sol.r, **LJ))[keep] / t_star
    bridge = np.log(np.asarray(sol.g)[keep]) + beta_u - np.asarray(sol.gamma)[keep]
    return np.max(np.abs(bridge))


def test_bridge_vanishes_at_second_order_in_density():
    """B -> 0 as rho^2 for "vm" (docstring: B = -rho^2 gamma_1^2 / 2 + O(rho^3), the leading
    term of the PY bridge): the observed order between rho* = 1e-3, 2e-3, 4e-3 is 2 within
    0.05 (measured 2.002-2.021 at T* = 1 and 2), and B_vm / B_py = 1 within 1e-3 at
    rho* = 1e-3 (measured 0.9998). "vm_consistent" (w* ~ rho* there) too, order 2
    within 0.1 on rho* = 2e-3..8e-3 (measured 2.00-2.04). Negative control: the
    unswitched "vm_wca" keeps |B| > 0.05 with order < 0.05 (measured 0.28 / 0.09 and
    0.002-0.006). The solves use tol = 1e-13 so that B ~ 1e-7 is resolved."""
    rhos = np.array([1e-3, 2e-3, 4e-3])
    for t_star in (1.0, 2.0):
        b_vm = np.array([bridge_max("vm", t_star, rho) for rho in rhos])
        orders = np.log2(b_vm[1:] / b_vm[:-1])
        assert np.all(np.abs(orders - 2.0) < 0.05), (t_star, b_vm, orders)
        assert abs(b_vm[0] / bridge_max("py", t_star, rhos[0]) - 1) < 1e-3
        b_wca = np.array([bridge_max("vm_wca", t_star, rho) for rho in rhos])
        assert np.all(b_wca > 0.05) and np.all(np.log2(b_wca[1:] / b_wca[:-1]) < 0.05)
    b_c = np.array([bridge_max("vm_consistent", 2.0, rho) for rho in 2 * rhos])
    assert np.all(np.abs(np.log2(b_c[1:] / b_c[:-1]) - 2.0) < 0.1), b_c


# --------------------------------------------------------------------- consistent closure


#: States of the consistency test, with the segment of the path where the root lies.
SEGMENTS = {(0.9, 0.8): "alpha < 0.8, w = 1", (1.5, 0.3): "w < 1", (2.0, 0.5): "alpha > 0.8"}


@pytest.mark.parametrize("state", list(SEGMENTS))
def test_consistent_closure_routes_agree(state):
    """The virial slope beta dp/drho (central difference at the solved, frozen closure
    parameters, through the public solve) times S(0) is 1 to the root tolerance: within
    2e-6 with the closure's own step (relative 5e-4; root tolerance 1e-6 plus ~1e-7 of
    difference-quotient noise from the solves' tol = 1e-10; measured <= 5e-7), and within
    1e-4 with a step of 2e-3 (truncation error O(step^2); measured <= 1.7e-5). The three
    states put the root on each of the path's three segments (alpha < 0.8 at w = 1; w < 1;
    alpha > 0.8). Negative control: Percus-Yevick, thermodynamically inconsistent (Hansen and
    McDonald ch. 4), misses by > 0.2 at each (measured 0.26-1.45; "vm" 0.005-0.11)."""
    t_star, rho = state
    t = temperature(t_star)
    sol = lj_solver("vm_consistent", 2048)(t, rho)
    assert int(sol.status) == liquid.CONVERGED
    w, alpha = np.asarray(sol.closure_params)
    expected = {
        "alpha < 0.8, w = 1": w == 1 and 0.5 < alpha < 0.8,
        "w < 1": 0 < w < 1 and alpha == 0.8,
        "alpha > 0.8": 0.8 < alpha < 1.6,
    }
    assert expected[SEGMENTS[state]], (state, w, alpha)

    fixed = jax.jit(
        lambda t, rho, cp: liquid.solve(
            LENNARD_JONES, LJ, t, rho, closure="vm_consistent", n=2048, closure_params=cp
        )
    )

    def mismatch(solver, step, s0):
        d = step * rho
        p_lo, p_hi = (reduced_pressure(float(solver(rho + e).pressure_MPa)) for e in (-d, d))
        return (p_hi - p_lo) / (2 * d) / t_star * s0 - 1

    s0 = float(sol.S0)
    assert abs(mismatch(lambda r: fixed(t, r, sol.closure_params), 5e-4, s0)) < 2e-6
    assert abs(mismatch(lambda r: fixed(t, r, sol.closure_params), 2e-3, s0)) < 1e-4
    py = lj_solver("py", 2048)
    assert abs(mismatch(lambda r: py(t, r), 5e-4, float(py(t, rho).S0))) > 0.2


def consistent_outputs(x):
    """(p, u, S0) of a "vm_consistent" solve as a function of x = (epsilon, sigma, rho, T)."""
    sol = liquid.solve(
        LENNARD_JONES,
        {"epsilon": x[0], "sigma": x[1]},
        x[3],
        x[2],
        closure="vm_consistent",
        n=1024,
        tol=1e-12,
    )
    return jnp.stack([sol.pressure_MPa, sol.energy_kJ_per_mol, sol.S0])


@pytest.mark.slow
@pytest.mark.parametrize("state", [(0.9, 0.8), (2.0, 0.5)])
def test_consistent_closure_gradients_match_central_differences(state):
    """d(p, u, S0)/d(epsilon, sigma, rho, T) of "vm_consistent": implicit differentiation of
    the fixed points and of the parameter's root, against central differences (step 1e-5
    relative). With tol = 1e-12 the root is found to |mismatch| <= 1e-8, which moves the
    outputs by ~1e-9 relative; divided by the step that is ~1e-4 of a derivative at worst,
    measured <= 3e-6, so rtol = 2e-5. Argon-like sigma = 3.4 angstrom; the two states put
    the root on different segments of the path (alpha < 0.8 at w = 1; alpha > 0.8)."""
    t_star, rho_star = state
    x0 = jnp.array([1.0, 3.4, rho_star / 3.4**3, temperature(t_star)])
    jac = np.asarray(jax.jit(jax.jacrev(consistent_outputs))(x0))
    f_jit = jax.jit(consistent_outputs)
    fd = np.empty_like(jac)
    for j in range(x0.size):
        h = 1e-5 * float(x0[j])
        e = jnp.zeros(x0.size).at[j].set(h)
        fd[:, j] = (np.asarray(f_jit(x0 + e)) - np.asarray(f_jit(x0 - e))) / (2 * h)
    np.testing.assert_allclose(jac, fd, rtol=2e-5)


def test_closure_without_a_solution_is_an_error_status():
    """A state inside the LJ vapour-liquid region (T* = 0.8, rho* = 0.1 and 0.2; saturated
    densities 0.006 and 0.799) has no consistent solution: a status and NaN outputs, never
    a number. The default closure reports no solution at rho* = 0.2 as well."""
    for closure, rho in (("vm_consistent", 0.1), ("vm_consistent", 0.2), ("vm", 0.2)):
        sol = lj_solver(closure, 2048)(temperature(0.8), rho)
        assert int(sol.status) in (liquid.MAX_ITER, liquid.NONPHYSICAL, liquid.NONFINITE)
        for value in (sol.pressure_MPa, sol.energy_kJ_per_mol, sol.S0, sol.kappa_T_per_MPa):
            assert np.isnan(float(value)), (closure, rho)


def test_closure_params_only_for_the_consistent_closure():
    with pytest.raises(ValueError, match="only to closure='vm_consistent'"):
        liquid.solve(LENNARD_JONES, LJ, 100.0, 0.5, closure="vm", closure_params=(1.0, 0.8))
    with pytest.raises(ValueError, match="shape"):
        liquid.solve(LENNARD_JONES, LJ, 100.0, 0.5, closure="vm_consistent", closure_params=(1.0,))


# --------------------------------------------------------------------- closure-error floor

ACCURACY_JSON = ROOT / "benchmarks" / "results" / "liquid_accuracy.json"


def test_closure_error_floor_bounds_the_validation_table():
    """Every entry of closure_error_floor is at least the largest error of its closure and
    region in the raw benchmark output (benchmarks/results/liquid_accuracy.json, written by
    `python benchmarks/liquid_bench.py --accuracy`), and at most that rounded up to two
    significant figures (+10 %); each state of the table falls in the region the function
    assigns to it."""
    data = json.loads(ACCURACY_JSON.read_text())
    rows = data["rows"]
    for closure in liquid.CLOSURES:
        for region in liquid.CLOSURE_ERROR_REGIONS:
            sel = [
                r
                for r in rows
                if r["closure"] == closure and r["region"] == region and r["status"] == 0
            ]
            assert sel, (closure, region)
            floor = liquid.closure_error_floor(
                closure, [r["T*"] for r in sel], [r["rho*"] for r in sel]
            )
            assert np.all(floor.region == region), (closure, region)
            assert np.all(floor.validated)
            for field, key in (
                ("dp_star", "dp*"),
                ("du_star", "du*"),
                ("du_rel", "du_rel"),
                ("dkappa_rel", "dkappa_rel"),
            ):
                worst = max(abs(r[key]) for r in sel)
                bound = getattr(floor, field)[0]
                assert worst <= bound <= 1.1 * worst + 1e-12, (closure, region, field, worst)


def test_closure_error_floor_regions_and_arguments():
    """Region boundaries at the Thol EOS critical point (T*_c = 1.32, rho*_c = 0.31),
    broadcasting, the validated box, and errors for bad arguments."""
    floor = liquid.closure_error_floor("vm", [[1.3199], [1.32]], [0.0, 0.3099, 0.31, 0.9, 0.95])
    assert floor.dp_star.shape == (2, 5)
    assert floor.region[0].tolist() == ["vapour", "vapour", "liquid", "liquid", "liquid"]
    assert set(floor.region[1].tolist()) == {"supercritical"}
    assert floor.validated.tolist() == [[True] * 4 + [False]] * 2
    assert not liquid.closure_error_floor("vm", 5.0, 0.5).validated
    liquid_bound = liquid.closure_error_floor("vm", 0.72, 0.84)
    # the largest liquid error of the table (+0.0719 at T* = 1, rho* = 0.85), not the state's
    assert float(liquid_bound.dp_star) >= 0.0719
    with pytest.raises(ValueError, match="unknown closure"):
        liquid.closure_error_floor("msa", 1.0, 0.5)
    with pytest.raises(ValueError, match="T_star"):
        liquid.closure_error_floor("vm", 0.0, 0.5)
    with pytest.raises(ValueError, match="rho_star"):
        liquid.closure_error_floor("vm", 1.0, -0.1)


# --------------------------------------------------------------------- failure as a value


def test_hnc_inside_its_spinodal_is_reported():
    """HNC has no physical solution at T* = 1.4, rho* = 0.3 (note): status, not a number."""
    sol = lj_solver("hnc")(temperature(1.4), 0.3)
    assert int(sol.status) in (liquid.MAX_ITER, liquid.NONPHYSICAL, liquid.NONFINITE)
    for value in (sol.pressure_MPa, sol.energy_kJ_per_mol, sol.S0, sol.kappa_T_per_MPa):
        assert np.isnan(float(value))
    # The same state with a closure that has a solution there converges.
    assert int(lj_solver("vm")(temperature(1.4), 0.3).status) == liquid.CONVERGED


def test_bad_arguments_raise_before_tracing():
    with pytest.raises(ValueError, match="unknown closure"):
        liquid.solve(LENNARD_JONES, LJ, 100.0, 0.5, closure="msa")
    with pytest.raises(ValueError, match="n"):
        liquid.solve(LENNARD_JONES, LJ, 100.0, 0.5, n=8)


# --------------------------------------------------------------------- gradients


def vm_outputs(x):
    """(p, u, S0) of a VM solve as a function of x = (epsilon, sigma, rho, T), 1024 points."""
    sol = liquid.solve(
        LENNARD_JONES,
        {"epsilon": x[0], "sigma": x[1]},
        x[3],
        x[2],
        closure="vm",
        n=1024,
        tol=1e-12,
    )
    assert sol.status.dtype == jnp.int32
    return jnp.stack([sol.pressure_MPa, sol.energy_kJ_per_mol, sol.S0])


@functools.cache
def vm_jacobian():
    return jax.jit(jax.jacrev(vm_outputs))


#: Argon-like LJ (sigma = 3.4 angstrom) at T* = 1.5, rho* = 0.8: x = (epsilon, sigma, rho, T).
X0 = (1.0, 3.4, 0.8 / 3.4**3, temperature(1.5))


def test_gradients_match_central_differences():
    """d(p, u, S0)/d(epsilon, sigma, rho, T) by implicit differentiation vs central differences.

    Argon-like LJ (sigma = 3.4 angstrom) at T* = 1.5, rho* = 0.8, VM closure. A
    1024-point grid (10 sigma, tails analytic) suffices: the identity tested does
    not depend on the grid. Step 1e-5 relative with tol = 1e-12: truncation error
    ~1e-10 and round-off ~1e-7 relative, so rtol = 1e-6.
    """
    x0 = jnp.array(X0)
    jac = np.asarray(vm_jacobian()(x0))
    f_jit = jax.jit(vm_outputs)
    fd = np.empty_like(jac)
    for j in range(x0.size):
        h = 1e-5 * float(x0[j])
        e = jnp.zeros(x0.size).at[j].set(h)
        fd[:, j] = (np.asarray(f_jit(x0 + e)) - np.asarray(f_jit(x0 - e))) / (2 * h)
    np.testing.assert_allclose(jac, fd, rtol=1e-6)


# --------------------------------------------------------------------- structure, sum rules


def test_structure_limits_and_compressibility_consistency():
    """g -> 1 at large r, S(k) > 0 and -> S(0) as k -> 0; S(0) against the slope of the
    virial pressure, which differ by the closure's thermodynamic inconsistency.

    At T* = 2, rho* = 0.7 (supercritical), the ratio of beta dp/drho (central
    difference of the virial pressure, step 0.005 in rho*) to 1/S(0) measured
    0.954 (VM), 1.24 (PY) and 2.04 (HNC): the bridge closure is nearly
    consistent, HNC is not (its S(0) is 82 % off on average in the note). The
    bounds are those measured values with a margin, a qualitative check.
    """
    t = temperature(2.0)
    for closure, (low, high) in (("vm", (0.85, 1.15)), ("py", (1.0, 1.5)), ("hnc", (1.5, 2.5))):
        solver = lj_solver(closure)
        sol = solver(t, 0.7)
        assert int(sol.status) == liquid.CONVERGED
        far = np.asarray(sol.r) > 15.0
        assert np.max(np.abs(np.asarray(sol.g)[far] - 1)) < 1e-4
        assert np.all(np.asarray(sol.S) > 0)
        assert abs(float(sol.S[0]) / float(sol.S0) - 1) < 0.01
        assert np.min(np.asarray(sol.g)[np.asarray(sol.r) < 0.8]) >= 0
        d = 0.005
        p_hi, p_lo = (reduced_pressure(float(solver(t, 0.7 + s).pressure_MPa)) for s in (d, -d))
        slope = (p_hi - p_lo) / (2 * d) / 2.0  # beta dp/drho in reduced units
        assert low < slope * float(sol.S0) < high, (closure, slope, 1 / float(sol.S0))


# --------------------------------------------------------------------- batches of draws

#: States for the batch tests, HNC on a 2048-point grid (20 sigma): (T*, rho*) -> status.
#: (1.0, 0.3) and (1.0, 0.5) lie inside the LJ vapour-liquid region, where HNC has no
#: physical solution; on this grid the first stops at MAX_ITER, the second converges
#: to a branch with S(k) < 0 (measured with the single solve, which the test compares).
BATCH_STATES = {
    (1.0, 0.85): liquid.CONVERGED,
    (1.0, 0.3): liquid.MAX_ITER,
    (1.0, 0.5): liquid.NONPHYSICAL,
    (1.5, 0.6): liquid.CONVERGED,
    (2.0, 0.7): liquid.CONVERGED,
}


def assert_same_solution(batch, b, single, where):
    """Member b of a batched solution equals a single solve (identity: 1e-8)."""
    assert int(batch.status[b]) == int(single.status), where
    if int(single.status) != liquid.CONVERGED:
        for field in ("pressure_MPa", "energy_kJ_per_mol", "S0", "kappa_T_per_MPa"):
            assert np.isnan(float(getattr(batch, field)[b])), (where, field)
        return
    np.testing.assert_allclose(batch.r[b], single.r, rtol=1e-14, err_msg=str(where))
    np.testing.assert_allclose(batch.g[b], single.g, rtol=0, atol=1e-8, err_msg=str(where))
    p_b, p_1 = (reduced_pressure(float(x)) for x in (batch.pressure_MPa[b], single.pressure_MPa))
    assert abs(p_b - p_1) < 1e-8 * max(1.0, abs(p_1)), (where, p_b, p_1)
    u_b, u_1 = float(batch.energy_kJ_per_mol[b]), float(single.energy_kJ_per_mol)
    assert abs(u_b - u_1) < 1e-8 * max(1.0, abs(u_1)), (where, u_b, u_1)


@pytest.mark.slow
def test_batch_and_vmap_equal_single_solves_with_per_member_status():
    """solve_batch (chunks of 3, the last padded) and jax.vmap(solve) over five states give,
    member by member, the single solve's status and, where converged, its g(r), p and u
    to 1e-8: the batched iteration makes the same updates as the single one, so the only
    differences are round-off (measured <= 2e-13 in g). Two members fail (MAX_ITER after
    1000 iterations, NONPHYSICAL) without spoiling the three others, two of which share
    their chunk."""
    t = jnp.array([temperature(s[0]) for s in BATCH_STATES])
    rho = jnp.array([s[1] for s in BATCH_STATES])
    n = 2048
    batch = jax.jit(
        lambda t, rho: liquid.solve_batch(LENNARD_JONES, LJ, t, rho, "hnc", n, chunk=3)
    )(t, rho)
    vmapped = jax.jit(jax.vmap(lambda t, rho: liquid.solve(LENNARD_JONES, LJ, t, rho, "hnc", n)))(
        t, rho
    )
    single = lj_solver("hnc", n)
    assert batch.g.shape == (5, n - 1) and batch.status.shape == (5,)
    for b, (state, expected) in enumerate(BATCH_STATES.items()):
        sol = single(t[b], rho[b])
        assert int(sol.status) == expected, (state, int(sol.status))
        assert_same_solution(batch, b, sol, ("solve_batch", state))
        assert_same_solution(vmapped, b, sol, ("vmap", state))


@pytest.mark.slow
def test_batch_gradients_equal_single_solve_gradients():
    """d(p, u, S0)/d(epsilon, sigma, rho, T) per member of solve_batch (custom VJP with a
    batched adjoint) against the single solve's implicit gradients (checked against central
    differences above), at three draws around X0 with all four inputs batched, chunks of 2
    (the second padded). The members are independent, so the Jacobian of the sum over
    members is each member's own. Both adjoints stop at a relative residual of 1e-10, so
    rtol = 1e-8 (measured agreement ~3e-14)."""
    scale = jnp.array([[1.0, 1.0, 1.0, 1.0], [1.04, 0.98, 1.02, 0.97], [0.96, 1.03, 0.97, 1.05]])
    xs = scale * jnp.array(X0)

    def batch_sum(x):
        sol = liquid.solve_batch(
            LENNARD_JONES,
            {"epsilon": x[:, 0], "sigma": x[:, 1]},
            x[:, 3],
            x[:, 2],
            closure="vm",
            n=1024,
            tol=1e-12,
            chunk=2,
        )
        assert sol.status.shape == (3,)
        out = jnp.stack([sol.pressure_MPa, sol.energy_kJ_per_mol, sol.S0], axis=-1)
        return jnp.sum(out, axis=0)

    jac = np.asarray(jax.jit(jax.jacrev(batch_sum))(xs))  # (output, member, input)
    for b in range(3):
        np.testing.assert_allclose(jac[:, b], vm_jacobian()(xs[b]), rtol=1e-8)


@pytest.mark.slow
def test_batch_consistent_closure_equals_single_solves():
    """solve_batch with "vm_consistent" (each member's closure parameters solved in turn,
    then the chunk solved together) gives each member's single-solve parameters, status
    and p, u: the same root find and updates, so agreement to 1e-8 (round-off; the
    parameters to 1e-9). Three states (chunks of 2, the second padded), one of them
    inside the two-phase region (no solution: a status, NaN)."""
    states = [(0.9, 0.8), (2.0, 0.5), (0.8, 0.1)]
    t = jnp.array([temperature(s[0]) for s in states])
    rho = jnp.array([s[1] for s in states])
    batch = jax.jit(
        lambda t, rho: liquid.solve_batch(
            LENNARD_JONES, LJ, t, rho, "vm_consistent", 1024, chunk=2
        )
    )(t, rho)
    single = lj_solver("vm_consistent", 1024)
    for b, state in enumerate(states):
        sol = single(t[b], rho[b])
        assert_same_solution(batch, b, sol, ("vm_consistent", state))
        if int(sol.status) == liquid.CONVERGED:
            np.testing.assert_allclose(batch.closure_params[b], sol.closure_params, atol=1e-9)


def test_solve_batch_bad_arguments_raise_before_tracing():
    params = {"epsilon": jnp.ones(3), "sigma": jnp.ones(3)}
    with pytest.raises(ValueError, match="differ in length"):
        liquid.solve_batch(LENNARD_JONES, params, jnp.ones(4), 0.5)
    with pytest.raises(ValueError, match="no batched argument"):
        liquid.solve_batch(LENNARD_JONES, LJ, 100.0, 0.5)
    with pytest.raises(ValueError, match="1-d array"):
        liquid.solve_batch(LENNARD_JONES, LJ, jnp.ones((2, 2)), 0.5)
    with pytest.raises(ValueError, match="chunk"):
        liquid.solve_batch(LENNARD_JONES, params, 100.0, 0.5, chunk=0)
    with pytest.raises(ValueError, match="gamma0"):
        liquid.solve_batch(LENNARD_JONES, params, 100.0, 0.5, n=64, gamma0=jnp.zeros(64))
