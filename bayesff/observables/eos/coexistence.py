r"""Vapour-liquid coexistence and the compressed liquid of any reduced equation of state.

Coexistence at T* solves equal pressure and equal chemical potential,

.. math::

    F_1 = \frac{p(\rho_l) - p(\rho_v)}{T} = 0, \qquad
    F_2 = \frac{\mu(\rho_l) - \mu(\rho_v)}{k_B T}
        = \ln\frac{\rho_l}{\rho_v} + \alpha^r_l + Z_l - \alpha^r_v - Z_v = 0,

by Newton's method in (ln rho_l, ln rho_v) (the scheme of Akasaka, J. Therm.
Sci. Technol. 3, 442 (2008), doi:10.1299/jtst.3.442, in log densities). With B
= (dp/drho)/T of each phase its Jacobian is [[rho_l B_l, -rho_v B_v], [B_l,
-B_v]], so a step has a closed form. Steps are capped at 0.5 in ln rho (damping);
converged when both steps are below 1e-8 (Newton converges quadratically: the
result is then good to ~1e-15) and, checked once at the end, the residuals are
below 1e-9 (relative to p_v/T for F1, plus the rounding of the liquid's pressure).

Starts, from the model's own critical point
(:func:`~bayesff.observables.eos.thermo.critical_point`, once per parameter draw)
-- no draw needs a hand-chosen guess:

- the ancillary saturation curve of the Thol et al. (2016) LJ EOS in
  critical-reduced form (:func:`bayesff.observables.eos.lj.ancillary_reduced`)
  scaled by the model's Tc and rho_c;
- the zero-pressure start: the liquid at p = 0 (a 1-D Newton from the ancillary
  liquid density, to 1e-3 in ln rho with steps up capped at 0.25: it is only a start,
  and from an ancillary 16 % too thin the uncapped first step overshot and the last
  two steps refined what the coexistence Newton refines anyway; the slowest of issue
  30's 240 alkane states went from 9 steps to 5) and an ideal-gas vapour of equal
  chemical potential, rho_v = rho_l exp(alpha^r_l - 1), which follows the model's own
  volatility where the LJ shape does not (chains).

The zero-pressure start comes first below 0.85 Tc and, above, wherever p = 0 has a
liquid root at least as dense as the ancillary's liquid (up to about 0.9 Tc for
chains); otherwise the ancillary comes first. A member whose first attempt has not
converged in 20 steps, or converged on an unstable or trivial pair, restarts from the
other start within the same loop. Why not always the ancillary above 0.85 Tc, as
until 2026-11-26: for chains of 3 segments and more its LJ shape is far from the
model's coexistence curve there, the first attempt failed, and in a vmapped batch the
slowest member sets every member's cost (25 Newton steps for one n-alkane state in
240, against 5 now). Why the density condition: the Thol LJ EOS has a zero-pressure
root on a spurious branch at 0.93 Tc, from which Newton converged on a false pair.
Where p = 0 has no liquid root (near Tc) the restart is the ancillary with its gap
about ln rho_c widened 1.5 times: chains' coexistence curves are wider than the LJ
fluid's, and from the LJ gap Newton collapsed onto the trivial solution (6 segments
at 0.95 Tc, 16 at 0.97 Tc).
Tested on the LJ EOS from 0.50 to 0.99 Tc, on PC-SAFT chains of 1-16 segments from
0.35 to 0.99 Tc, and on SAFT-VR Mie chains of 6-16 segments from 0.45 to 0.97 Tc
against teqp (tests/observables/eos/).

Failures are values: above the critical temperature, below the EOS's validity,
unconverged, collapsed onto one density (the trivial solution near Tc) or
converged on a mechanically unstable root, the densities and pressure are NaN
and ``status`` says which (:class:`~bayesff.observables.eos.thermo.SolveStatus`).

Derivatives in T* and every shape parameter are exact and cheap: the solution
carries implicit-function-theorem tangents
(:func:`~bayesff.observables.eos.thermo.implicit_solution`), so the Newton
iterations are never differentiated. Everything is scalar in T*; vmap over
temperatures and parameter draws.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from bayesff.observables.eos._base import ReducedEOS
from bayesff.observables.eos.lj import ancillary_reduced
from bayesff.observables.eos.thermo import (
    CriticalPoint,
    SolveStatus,
    alphar_density_derivatives,
    critical_point,
    implicit_solution,
    pressure,
    residual_energy,
)

__all__ = [
    "Coexistence",
    "SinglePhase",
    "enthalpy_of_vaporisation",
    "liquid_density",
    "solve_coexistence",
]

#: Largest Newton step in ln rho (damping).
MAX_STEP = 0.5
#: Convergence: largest |step| in ln rho, and residual tolerance.
STEP_TOL = 1e-8
RESIDUAL_TOL = 1e-9
#: Newton steps of the first start before the fallback start takes over.
FIRST_ATTEMPT_STEPS = 20
#: Newton steps of the zero-pressure liquid of a start (where it takes more, p = 0 has
#: no liquid root nearby: close to Tc, where the ancillary start serves).
ZERO_PRESSURE_STEPS = 12
#: The zero-pressure liquid of a start: converged when its step is below START_TOL, and
#: steps up capped at START_MAX_UP (both in ln rho).
START_TOL = 1e-3
START_MAX_UP = 0.25
#: Step up in ln rho of the liquid Newton from an iterate between the spinodals.
UNSTABLE_PUSH = 0.3
#: Factor on the ancillary's gap about ln rho_c of the restart where p = 0 has no liquid.
WIDEN = 1.5
#: Densities closer than this in ln rho are one phase (the trivial solution).
TRIVIAL_GAP = 1e-4


class Coexistence(NamedTuple):
    """Coexisting phases at one temperature, reduced units (NaN unless ``status`` is OK).

    Attributes
    ----------
    rho_l, rho_v
        Saturated liquid and vapour densities rho* = rho sigma^3 (molecules).
    p
        Vapour pressure p* = p sigma^3 / epsilon.
    status
        :class:`~bayesff.observables.eos.thermo.SolveStatus` code (int32).
    iterations
        Newton steps used.
    """

    rho_l: jax.Array
    rho_v: jax.Array
    p: jax.Array
    status: jax.Array
    iterations: jax.Array


class SinglePhase(NamedTuple):
    """A single-phase density at given (T*, p*) (NaN unless ``status`` is OK)."""

    rho: jax.Array
    status: jax.Array
    iterations: jax.Array


def _phase_terms(eos, t, rho, shape):
    """(p/T, mu/kT without the T-only part, B = (dp/drho)/T) of one phase."""
    a, a_r, a_rr = alphar_density_derivatives(eos, t, rho, shape)
    z = 1.0 + rho * a_r
    return rho * z, jnp.log(rho) + a + z, 1.0 + 2.0 * rho * a_r + rho**2 * a_rr


def _both_phases(eos, t, x, shape, *, vectorised=True):
    """:func:`_phase_terms` of the liquid and the vapour at x = (ln rho_l, ln rho_v).

    ``vectorised``: one vmapped call over the two densities, not two calls. The
    differentiated uses (the implicit tangents) take it: the compiled program then holds
    one copy of the EOS's second density derivatives where it held two, and for a
    SAFT-VR Mie chain the compiled gradient's HLO is 29 % smaller and compiles in 32 s
    instead of 44 s (idle 2-core CPU, 2026-11-25; docs/chains.md). The Newton loop,
    never differentiated, takes two calls: it runs about 20 % faster so (12 n-alkanes x
    20 T x 4 draws, median 25 -> 20 ms, 2026-11-26). The checks of its result run once
    and take the one call (2026-12-01: one copy of the EOS fewer to compile).
    Returns ((p_l, mu_l, B_l), (p_v, mu_v, B_v)).
    """
    if not vectorised:
        return tuple(_phase_terms(eos, t, jnp.exp(x[i]), shape) for i in (0, 1))
    p, mu, b = jax.vmap(lambda r: _phase_terms(eos, t, r, shape))(jnp.exp(x))
    return (p[0], mu[0], b[0]), (p[1], mu[1], b[1])


def _vle_residual_and_jacobian(eos):
    """The coexistence residual F and its Jacobian dF/d(ln rho_l, ln rho_v), in closed
    form, from one vmapped call of the EOS (the implicit tangents' forward pass: F's
    tangent in the parameters and J's value share the EOS's derivatives)."""

    def residual(x, args):
        t, shape = args
        rho_l, rho_v = jnp.exp(x[0]), jnp.exp(x[1])
        (pl, ml, bl), (pv, mv, bv) = _both_phases(eos, t, x, shape)
        jac = jnp.array([[rho_l * bl, -rho_v * bv], [bl, -bv]])
        return jnp.stack([pl - pv, ml - mv]), jac

    return residual


def _liquid_newton(eos, t, p_target, x0, shape, max_iter, tol=STEP_TOL, max_up=MAX_STEP):
    """Newton on p(rho) = p_target in x = ln rho, kept on the liquid branch.

    Steps are capped at ``MAX_STEP``; an iterate where dp/drho <= 0 (the unstable
    branch between the spinodals) is pushed up by ``UNSTABLE_PUSH`` in ln rho instead
    (0.1 until 2026-11-26: a long chain's liquid from the LJ-shaped ancillary start,
    at 40 % of its density, then took more steps than the start allows). From a
    start denser than the root Newton descends monotonically where p(rho) is
    convex (the liquid branch); from below it overshoots once and then does.
    ``tol``: converged when |step| is below it. ``max_up``: the cap of steps up.
    Returns (x, last |step|, iterations).
    """

    def body(c):
        x, _, it = c
        rho = jnp.exp(x)
        _, a_r, a_rr = alphar_density_derivatives(eos, t, rho, shape)
        p_here = rho * t * (1.0 + rho * a_r)
        dpdx = rho * t * (1.0 + 2.0 * rho * a_r + rho**2 * a_rr)
        dx = jnp.clip(-(p_here - p_target) / dpdx, -MAX_STEP, max_up)
        stable = dpdx > 0
        x_new = jnp.where(stable, x + dx, x + UNSTABLE_PUSH)
        return x_new, jnp.where(stable, jnp.abs(dx), jnp.inf), it + 1

    def cond(c):
        x, size, it = c
        return (size > tol) & jnp.isfinite(x) & (it < max_iter)

    return jax.lax.while_loop(cond, body, (x0, jnp.inf, jnp.int32(0)))


def _vapour_below(eos, t, p_target, mu_l, rho_c, shape, max_iter):
    """Whether a vapour at (t, p_target) exists with a lower chemical potential than
    ``mu_l``, the liquid root's (True: that liquid is superheated, p below the vapour
    pressure).

    Newton on p(rho) = p_target in rho (not ln rho) from the ideal-gas density p/T. The
    vapour branch's p(rho) is increasing and concave and the start lies below its root
    (Z < 1 below Tc), so there the iterates rise to the root without ever passing it.
    An iterate above the target pressure (an overshoot), one where dp/drho <= 0, or one
    at or above the critical density ``rho_c`` has left the vapour branch: p is above
    the vapour spinodal, and the answer is False. A failed search never makes a liquid
    superheated: without the overshoot test, the Thol LJ EOS's spurious loops near
    0.8-0.93 Tc gave a stable-looking root near rho_c with a lower mu than the liquid,
    and stable liquids at 1.6-10 p_sat were marked (review, 2026-11-28). Not
    differentiated (a status, not a value).
    """
    rho0 = p_target / t

    def body(c):
        rho, _, it = c
        _, a_r, a_rr = alphar_density_derivatives(eos, t, rho, shape)
        p_here = rho * t * (1.0 + rho * a_r)
        dpdrho = t * (1.0 + 2.0 * rho * a_r + rho**2 * a_rr)
        step = -(p_here - p_target) / dpdrho
        on_branch = (dpdrho > 0) & (p_here <= p_target * (1.0 + 1e-9)) & (rho < rho_c)
        # off the branch: stop, with a size that says so (negative)
        size = jnp.where(on_branch, jnp.abs(step / rho), -1.0)
        return jnp.where(on_branch, rho + step, rho), size, it + 1

    def cond(c):
        rho, size, it = c
        return (size > STEP_TOL) & jnp.isfinite(rho) & (rho > 0) & (it < max_iter)

    # a vapour lies below the critical density (at 10-100 MPa p/T is dense: no search)
    size0 = jnp.where(rho0 < rho_c, jnp.inf, -1.0)
    rho_v, size, _ = jax.lax.while_loop(cond, body, (rho0, size0, jnp.int32(0)))
    found = (size >= 0) & (size <= STEP_TOL) & (rho_v > 0) & (rho_v < rho_c)
    # where none was found, any vapour-like density will do: the answer is False
    _, mu_v, _ = _phase_terms(eos, t, jnp.where(found, rho_v, 0.5 * rho_c), shape)
    return found & (mu_v < mu_l)


def _below_vapour_pressure(eos, t, p_target, rho, mu, crit, shape, max_iter):
    """Whether the root ``rho`` found at (t, p_target), of chemical potential ``mu``
    (:func:`_phase_terms`), stands for no stable liquid: below Tc, a root under the
    critical density is the vapour (p below the liquid's spinodal: no liquid at all), and
    one above it may be a superheated liquid (:func:`_vapour_below`)."""
    below_tc = (t < crit.T_star) & jnp.isfinite(rho) & (rho > 0)
    vapour_root = below_tc & (rho < crit.rho_star)
    superheated = _vapour_below(eos, t, p_target, mu, crit.rho_star, shape, max_iter)
    return vapour_root | (below_tc & superheated)


def _ancillary_start(t, crit):
    """(ln rho_l, ln rho_v) of the LJ ancillary curve scaled by the model's critical point."""
    t_r = jnp.clip(t / crit.T_star, 0.05, 0.999)
    _, rl, rv = ancillary_reduced(t_r)
    return jnp.stack([jnp.log(rl * crit.rho_star), jnp.log(rv * crit.rho_star)])


def _widened(x_anc, crit):
    """The ancillary pair with its gap about ln rho_c widened by ``WIDEN``: a chain's
    coexistence curve is wider than the LJ fluid's in critical-reduced form, and near Tc
    Newton from the LJ-shaped gap collapsed onto the trivial solution (6 segments at
    0.95 Tc, 16 at 0.97 Tc)."""
    x_c = jnp.log(crit.rho_star)
    return x_c + WIDEN * (x_anc - x_c)


def _zero_pressure_start(eos, t, x_anc, shape, max_iter, fallback):
    """(ln rho_l, ln rho_v) from the liquid at zero pressure and an ideal-gas vapour.

    Well below Tc the saturated liquid is nearly the liquid at zero pressure and the
    vapour nearly an ideal gas: rho_l0 solves p(rho_l0) = 0 on the liquid branch (from
    the ancillary liquid density), and equating mu/kT = ln rho + alpha^r + Z (Z_l = 0)
    with the ideal gas's ln rho_v + 1 gives rho_v0 = rho_l0 exp(alpha^r_l - 1). Both
    follow the model's own thermodynamics, where the LJ shape of the ancillary knows
    nothing of, e.g., a chain's lower volatility. Falls back to ``fallback`` where p = 0
    has no liquid root within ``max_iter`` steps (close to Tc).
    Returns (x, whether the zero-pressure pair was found).
    """
    x_l, size, _ = _liquid_newton(
        eos, t, 0.0, x_anc[0], shape, max_iter, tol=START_TOL, max_up=START_MAX_UP
    )
    x_v = x_l + eos.alphar(t, jnp.exp(x_l), **shape) - 1.0
    ok = (size <= START_TOL) & jnp.isfinite(x_v) & (x_v < x_l - 1.0)
    x = jnp.where(ok, jnp.stack([x_l, x_v]), fallback)
    return x, ok


def _newton(eos, t, x_first, x_fallback, shape, max_iter):
    """Damped Newton on (ln rho_l, ln rho_v) with the closed-form 2 x 2 step, one restart.

    The first start gets at most ``FIRST_ATTEMPT_STEPS`` steps (Newton from a good start
    converges in < 10 or not at all, and a failing member should not hold up a vmapped
    batch); if it has not converged by then, leaves the finite numbers, or converges on
    an unstable or trivial pair, the iteration restarts from ``x_fallback``. One loop
    for both attempts keeps the compiled program small. Returns (x, last max |step|,
    total iterations).
    """

    def body(c):
        x, _, it, attempt = c
        rho_l, rho_v = jnp.exp(x[0]), jnp.exp(x[1])
        (pl, ml, bl), (pv, mv, bv) = _both_phases(eos, t, x, shape, vectorised=False)
        f1, f2 = pl - pv, ml - mv
        gap = rho_l - rho_v
        # J = [[rho_l B_l, -rho_v B_v], [B_l, -B_v]] solved in closed form
        u = (rho_v * f2 - f1) / gap
        w = (rho_l * f2 - f1) / gap
        dx = jnp.stack([u / bl, w / bv])
        size = jnp.max(jnp.abs(dx))
        x_new = x + jnp.minimum(1.0, MAX_STEP / (size + 1e-300)) * dx
        it = it + 1
        done = size <= STEP_TOL
        valid = (bl > 0.0) & (bv > 0.0) & (x_new[0] - x_new[1] >= TRIVIAL_GAP)
        failed = (
            ~jnp.all(jnp.isfinite(x_new))
            | ~jnp.isfinite(size)
            | (done & ~valid)
            | (~done & (it >= FIRST_ATTEMPT_STEPS))
        )
        restart = (attempt == 0) & failed
        x_new = jnp.where(restart, x_fallback, x_new)
        size = jnp.where(restart, jnp.inf, size)
        return x_new, size, it, attempt + restart.astype(jnp.int32)

    def cond(c):
        x, size, it, _ = c
        return (size > STEP_TOL) & jnp.all(jnp.isfinite(x)) & (it < max_iter)

    x, size, it, _ = jax.lax.while_loop(cond, body, (x_first, jnp.inf, jnp.int32(0), 0))
    return x, size, it


def _assess(eos, t, x, size, shape):
    """Checks of a Newton result: (converged, non-trivial, stable, finite, inside the
    validated density)."""
    rho_l = jnp.exp(x[0])
    # one vmapped call: run once per solve, so the two-call speed of the loop buys nothing
    # here, and one copy of the EOS's second density derivatives fewer is compiled
    (pl, ml, bl), (pv, mv, bv) = _both_phases(eos, t, x, shape)
    # |p_l - p_v|/T against p_v/T, plus the rounding of the liquid's p (a 1e-11 change of
    # rho_l moves it by 1e-11 rho_l B_l): at low T the vapour pressure is far below it
    f_ok = (jnp.abs(pl - pv) <= RESIDUAL_TOL * jnp.abs(pv) + 1e-11 * rho_l * jnp.abs(bl)) & (
        jnp.abs(ml - mv) <= RESIDUAL_TOL
    )
    finite = jnp.all(jnp.isfinite(x)) & jnp.isfinite(pl) & jnp.isfinite(pv)
    converged = (size <= STEP_TOL) & f_ok
    distinct = jnp.abs(x[0] - x[1]) >= TRIVIAL_GAP
    stable = (bl > 0.0) & (bv > 0.0) & (x[0] > x[1])
    # a liquid denser than the EOS was validated at (SAFT-VR Mie's steep monomers from
    # about 0.5 Tc down: lambda_r = 50 at 0.37 Tc, rho* 1.12, packing 0.58, almost
    # certainly solid) is no answer. rho* counts molecules, the limit a chain's segments
    # (Validity.rho_star_limit: 1.05 / segments)
    v = eos.validity
    inside = rho_l <= (v.rho_star_limit(shape) if v.coexisting_liquid_limit else jnp.inf)
    return converged, distinct, stable, finite, inside


def _solve_from_starts(eos, t_fixed, crit, sh, max_iter: int):
    """Newton from the better of two starts, restarting from the other: (x, size, steps)."""
    # Two starts, the first and the one _newton restarts from: the scaled ancillary and
    # the zero-pressure pair, which is the widened ancillary (_widened) where p = 0 has
    # no liquid root.
    x_anc = _ancillary_start(t_fixed, crit)
    x_zero, zero_ok = _zero_pressure_start(
        eos, t_fixed, x_anc, sh, ZERO_PRESSURE_STEPS, fallback=_widened(x_anc, crit)
    )
    # Above 0.85 Tc a zero-pressure liquid less dense than the ancillary's is not trusted:
    # the Thol LJ EOS has one at 0.93 Tc on a spurious branch, from which Newton
    # converged on a false coexisting pair (rho_l 0.305 for 0.539).
    zero_first = (t_fixed < 0.85 * crit.T_star) | (zero_ok & (x_zero[0] >= x_anc[0]))
    x_first = jnp.where(zero_first, x_zero, x_anc)
    x_fallback = jnp.where(zero_first, x_anc, x_zero)
    return _newton(eos, t_fixed, x_first, x_fallback, sh, max_iter + FIRST_ATTEMPT_STEPS)


def _status(eos, t, crit, shape, assessed):
    """The solve's :class:`SolveStatus` (int32): the first reason that applies, else OK."""
    converged, distinct, stable, finite_out, inside = assessed
    finite_in = jnp.isfinite(t) & jnp.all(
        jnp.array([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(shape)] or [True])
    )
    return jnp.select(
        [
            ~finite_in,
            crit.status != SolveStatus.OK,
            t >= crit.T_star,
            t < eos.validity.T_star[0],
            # finite inputs and a non-finite result: Newton's iterates diverged (within
            # about 1e-5 of Tc for LJ), a failure to converge, not a non-finite input
            ~finite_out & ~converged,
            ~finite_out,
            ~distinct,
            ~converged,
            ~stable,
            # below the fraction of T*c the EOS was fitted down to (2CLJ(Q): Stoll et al.'s
            # simulations, 0.55 Tc; at short L* its T* floor alone admitted 0.23 Tc)
            t < eos.validity.T_over_Tc_min * crit.T_star,
            ~inside,
        ],
        [
            SolveStatus.NONFINITE,
            SolveStatus.CRITICAL_FAILED,
            SolveStatus.ABOVE_CRITICAL,
            SolveStatus.OUTSIDE_VALIDITY,
            SolveStatus.NOT_CONVERGED,
            SolveStatus.NONFINITE,
            SolveStatus.TRIVIAL,
            SolveStatus.NOT_CONVERGED,
            SolveStatus.UNSTABLE,
            SolveStatus.OUTSIDE_VALIDITY,
            SolveStatus.OUTSIDE_VALIDITY,
        ],
        SolveStatus.OK,
    ).astype(jnp.int32)


def solve_coexistence(
    eos: ReducedEOS,
    T_star,
    *,
    critical: CriticalPoint | None = None,
    max_iter: int = 50,
    **shape,
) -> Coexistence:
    r"""Saturated liquid and vapour densities and the vapour pressure at T*.

    Parameters
    ----------
    eos
        The model (any :class:`~bayesff.observables.eos.ReducedEOS`).
    T_star
        Reduced temperature k_B T / epsilon (scalar; vmap for many).
    critical
        The model's critical point at these shape parameters, if already computed
        (share it across temperatures); computed here otherwise. Only the starts
        and the above-Tc test use it, so its gradient does not enter.
    max_iter
        Newton step limit.
    **shape
        The model's shape parameters (scalars).

    Returns
    -------
    Coexistence
        rho*_l, rho*_v, p*, status, iterations. NaN and a status other than OK
        where T* >= T*c (``ABOVE_CRITICAL``), T* is below ``eos.validity.T_star`` or
        T*/T*c below its ``T_over_Tc_min`` (``OUTSIDE_VALIDITY``), the critical point
        failed (``CRITICAL_FAILED``),
        the iteration did not converge (``NOT_CONVERGED``), the phases collapsed
        (``TRIVIAL``), a phase is mechanically unstable (``UNSTABLE``), or an input
        is not finite (``NONFINITE``).
    """
    t = jnp.asarray(T_star, dtype=float)
    if critical is None:
        # only the starts and the above-Tc test use it: no derivative flows through it
        critical = critical_point(eos, **jax.lax.stop_gradient(shape))
    crit = jax.tree.map(jax.lax.stop_gradient, critical)
    sh = jax.lax.stop_gradient(shape)
    t_fixed = jax.lax.stop_gradient(t)

    x, size, it = _solve_from_starts(eos, t_fixed, crit, sh, max_iter)
    status = _status(eos, t, crit, shape, _assess(eos, t_fixed, x, size, sh))
    ok = status == SolveStatus.OK
    # failed members carry a dummy root, which an EOS may not evaluate (rho* 0.7 is beyond
    # close packing for a chain of 3 or more segments): their inputs are cut from the
    # parameters' graph, so the NaN of their implicit derivative never reaches a gradient
    x_safe = jnp.where(ok, x, jnp.log(jnp.array([0.7, 0.01])))
    t_in, shape_in = _masked(ok, t), {k: _masked(ok, v) for k, v in shape.items()}
    x_imp = implicit_solution(
        _vle_residual_and_jacobian(eos), x_safe, (t_in, shape_in), jacobian="with_residual"
    )
    rho_l, rho_v = jnp.exp(x_imp[0]), jnp.exp(x_imp[1])
    p = pressure(eos, t, rho_v, **shape)
    nan = jnp.nan
    return Coexistence(
        jnp.where(ok, rho_l, nan), jnp.where(ok, rho_v, nan), jnp.where(ok, p, nan), status, it
    )


def enthalpy_of_vaporisation(eos: ReducedEOS, T_star, coex: Coexistence, **shape):
    r"""Enthalpy of vaporisation per molecule in units of epsilon, from a coexistence result.

    .. math::

        \Delta h^* = u^{res*}(\rho_v) - u^{res*}(\rho_l)
                     + p^*\left(\frac{1}{\rho^*_v} - \frac{1}{\rho^*_l}\right)

    (the ideal-gas parts cancel at equal T). NaN where ``coex`` is NaN.
    """
    # one vmapped call over the two phases (one compiled copy of the EOS's T-derivative)
    u_l, u_v = jax.vmap(lambda r: residual_energy(eos, T_star, r, **shape))(
        jnp.stack([coex.rho_l, coex.rho_v])
    )
    return u_v - u_l + coex.p * (1.0 / coex.rho_v - 1.0 / coex.rho_l)


def _masked(ok, v):
    """``v`` where ``ok``, else ``v`` without its derivative (jnp.where's transpose selects,
    so a NaN cotangent of a failed member becomes 0 instead of NaN x 0)."""
    return jnp.where(ok, v, jax.lax.stop_gradient(v))


def _liquid_residual(eos):
    def residual(x, args):
        t, p_target, shape = args
        rho = jnp.exp(x[0])
        return jnp.stack([pressure(eos, t, rho, **shape) / p_target - 1.0])

    return residual


def liquid_density(
    eos: ReducedEOS,
    T_star,
    p_star,
    *,
    critical: CriticalPoint | None = None,
    max_iter: int = 50,
    **shape,
) -> SinglePhase:
    r"""Density of the compressed (or supercritical dense) fluid at given T* and p*.

    Newton's method on p(rho) = p in ln rho from a dense start: 1.15 times the
    scaled ancillary liquid density below Tc, 3 rho*c above. Steps are capped at
    0.5 in ln rho; an iterate where dp/drho <= 0 (the unstable branch) is pushed
    up by 0.3 in ln rho (``UNSTABLE_PUSH``), so the iteration stays on the liquid
    branch. Converged when the step is below 1e-8 (``STEP_TOL``; Newton then has the
    root to rounding). Differentiable in T*, p* and the shape
    parameters (implicit function theorem).

    Below Tc at a pressure under the model's vapour pressure there is no stable
    liquid: the status is then ``BELOW_VAPOUR_PRESSURE`` and the density NaN. The root
    found is a superheated liquid (the vapour at the same T and p, found by
    :func:`_vapour_below`, has the lower chemical potential; no coexistence solve is
    needed) or, below the liquid's spinodal pressure, the vapour itself (a root below
    the critical density, which was returned as the liquid before 2026-11-28).

    Parameters
    ----------
    eos
        The model.
    T_star, p_star
        Reduced temperature and pressure p sigma^3 / epsilon (scalars).
    critical
        The model's critical point, if already computed.
    max_iter
        Newton step limit.
    **shape
        The model's shape parameters.

    Returns
    -------
    SinglePhase
        rho*, status (``OK``, ``NOT_CONVERGED``, ``UNSTABLE``, ``OUTSIDE_VALIDITY``
        (T* below the EOS's range or rho* above its highest density),
        ``CRITICAL_FAILED``, ``NONFINITE`` or ``BELOW_VAPOUR_PRESSURE``), iterations.
    """
    t = jnp.asarray(T_star, dtype=float)
    p = jnp.asarray(p_star, dtype=float)
    if critical is None:
        # only the starts and the above-Tc test use it: no derivative flows through it
        critical = critical_point(eos, **jax.lax.stop_gradient(shape))
    crit = jax.tree.map(jax.lax.stop_gradient, critical)
    sh = jax.lax.stop_gradient(shape)
    t_fixed, p_fixed = jax.lax.stop_gradient(t), jax.lax.stop_gradient(p)

    t_r = jnp.clip(t_fixed / crit.T_star, 0.05, 0.999)
    _, rl, _ = ancillary_reduced(t_r)
    rho0 = jnp.where(t_fixed < crit.T_star, 1.15 * rl, 3.0) * crit.rho_star

    x, size, it = _liquid_newton(eos, t_fixed, p_fixed, jnp.log(rho0), sh, max_iter)
    rho = jnp.exp(x)
    # B and mu of the root from one call: the stability check and the superheated-liquid
    # test share it (one copy of the EOS's second density derivatives, not two)
    _, mu, b = _phase_terms(eos, t_fixed, rho, sh)
    finite_in = jnp.isfinite(t) & jnp.isfinite(p) & (p > 0)
    metastable = _below_vapour_pressure(eos, t_fixed, p_fixed, rho, mu, crit, sh, max_iter)
    status = jnp.select(
        [
            ~finite_in,
            crit.status != SolveStatus.OK,
            t < eos.validity.T_star[0],
            ~jnp.isfinite(x),
            size > STEP_TOL,
            b <= 0.0,
            rho > eos.validity.rho_star_limit(sh),
            metastable,
        ],
        [
            SolveStatus.NONFINITE,
            SolveStatus.CRITICAL_FAILED,
            SolveStatus.OUTSIDE_VALIDITY,
            SolveStatus.NONFINITE,
            SolveStatus.NOT_CONVERGED,
            SolveStatus.UNSTABLE,
            SolveStatus.OUTSIDE_VALIDITY,
            SolveStatus.BELOW_VAPOUR_PRESSURE,
        ],
        SolveStatus.OK,
    ).astype(jnp.int32)
    ok = status == SolveStatus.OK
    x_safe = jnp.where(ok, x, jnp.log(0.7))[None]
    # a failed member's inputs are cut from the parameters' graph (see solve_coexistence)
    args = (_masked(ok, t), _masked(ok, p), {k: _masked(ok, v) for k, v in shape.items()})
    x_imp = implicit_solution(_liquid_residual(eos), x_safe, args)
    return SinglePhase(jnp.where(ok, jnp.exp(x_imp[0]), jnp.nan), status, it)
