r"""Thermodynamics of any reduced equation of state, by automatic differentiation.

With alpha^r(T*, rho*; theta) the residual Helmholtz energy per molecule over
k_B T (reduced units, T* = k_B T / epsilon, rho* = N sigma^3 / V):

.. math::

    Z = 1 + \rho\,\partial_\rho\alpha^r, \qquad p^* = \rho^* T^* Z, \qquad
    \frac{\mu^{res}}{k_B T} = \alpha^r + Z - 1, \qquad
    \ln\varphi = \alpha^r + Z - 1 - \ln Z,

.. math::

    u^{res*} = \frac{U^{res}}{N\epsilon} = -T^{*2}\,\partial_{T}\alpha^r, \qquad
    \frac{\partial p^*}{\partial\rho^*} = T^*\left(1 + 2\rho\,\partial_\rho\alpha^r
      + \rho^2\,\partial^2_\rho\alpha^r\right).

Every function takes scalars (callers vmap) and the model's shape parameters as
keywords. The critical point (:func:`critical_point`) solves dp/drho = d2p/drho2
= 0 by Newton's method from the model's ``critical_estimate`` and is
differentiable in the shape parameters by the implicit function theorem
(:func:`implicit_solution`).

Failures are values: every solver returns a :class:`SolveStatus` code, and its
numbers are NaN unless the status is ``OK``.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables.eos._base import ReducedEOS

__all__ = [
    "CRITICAL_STARTS",
    "CRITICAL_STENCIL",
    "CriticalPoint",
    "SolveStatus",
    "alphar_density_derivatives",
    "compressibility_factor",
    "critical_point",
    "dp_drho",
    "implicit_solution",
    "ln_fugacity_coefficient",
    "pressure",
    "residual_chemical_potential",
    "residual_energy",
    "status_counts",
]


class SolveStatus(enum.IntEnum):
    """Why a solver's result is (or is not) a number. Arrays of these codes are int32.

    OK
        Converged; the numbers are valid.
    ABOVE_CRITICAL
        Coexistence asked at or above the model's critical temperature.
    OUTSIDE_VALIDITY
        The state lies outside the EOS's validated range (``ReducedEOS.validity``):
        below its lowest temperature, or (single phase) above its highest density.
    NOT_CONVERGED
        The iteration limit was reached before the convergence test passed.
    TRIVIAL
        The two phases collapsed onto one density (rho_l = rho_v).
    UNSTABLE
        Converged on a mechanically unstable root (dp/drho <= 0), or, for the
        critical point, on a spurious one inside the two-phase region
        (d3p/drho3 < 0).
    CRITICAL_FAILED
        The model's critical point, needed for the starts, could not be found.
    NONFINITE
        A non-finite input (temperature, pressure, shape parameter) or EOS value.
    BELOW_VAPOUR_PRESSURE
        A liquid asked at (T, p) below Tc and below the model's vapour pressure: the
        stable phase there is the vapour. The liquid root is a superheated liquid
        (the vapour at that T and p has the lower chemical potential), or there is
        none and the root found is the vapour's (below the critical density).
    """

    OK = 0
    ABOVE_CRITICAL = 1
    OUTSIDE_VALIDITY = 2
    NOT_CONVERGED = 3
    TRIVIAL = 4
    UNSTABLE = 5
    CRITICAL_FAILED = 6
    NONFINITE = 7
    BELOW_VAPOUR_PRESSURE = 8


def status_counts(status) -> dict[str, int]:
    """How many of an array of status codes are of each :class:`SolveStatus` (NumPy, not jit).

    Parameters
    ----------
    status
        Integer codes, any shape.

    Returns
    -------
    dict
        ``{name: count}`` for every status that occurs.
    """
    codes = np.asarray(status).ravel()
    return {s.name: int(np.sum(codes == s)) for s in SolveStatus if np.any(codes == s)}


# ----------------------------------------------------------------------------- derivatives


def alphar_density_derivatives(eos: ReducedEOS, T_star, rho_star, shape: dict):
    """alpha^r and its first and second derivatives in rho* at fixed T* (forward mode).

    Returns
    -------
    tuple of jax.Array
        ``(a, da/drho, d2a/drho2)``.
    """

    def first(r):
        return jax.jvp(lambda x: eos.alphar(T_star, x, **shape), (r,), (jnp.ones_like(r),))

    (a, a_r), (_, a_rr) = jax.jvp(first, (rho_star,), (jnp.ones_like(rho_star),))
    return a, _outside_as_nan(a, a_r), _outside_as_nan(a, a_rr)


def _outside_as_nan(a, x):
    """``x`` where alpha^r ``a`` is a number, else NaN.

    An EOS marks a state outside its model by a NaN alpha^r (``jnp.where``); the tangent
    of that ``where`` is 0, so a derivative taken by ``jax.jvp`` would be a finite number
    there (for a chain beyond close packing, the ideal gas's pressure). Reverse-mode
    gradients stay finite: ``where`` sends none into the discarded branch.
    """
    return jnp.where(jnp.isnan(a), jnp.nan, x)


def compressibility_factor(eos: ReducedEOS, T_star, rho_star, **shape):
    """Z = p / (rho k_B T) = 1 + rho* d(alpha^r)/d(rho*) (dimensionless)."""
    a, a_r = jax.jvp(
        lambda r: eos.alphar(T_star, r, **shape), (rho_star,), (jnp.ones_like(rho_star),)
    )
    return 1.0 + rho_star * _outside_as_nan(a, a_r)


def pressure(eos: ReducedEOS, T_star, rho_star, **shape):
    """Reduced pressure p* = p sigma^3 / epsilon = rho* T* Z."""
    return rho_star * T_star * compressibility_factor(eos, T_star, rho_star, **shape)


def residual_chemical_potential(eos: ReducedEOS, T_star, rho_star, **shape):
    """Residual chemical potential mu_res / (k_B T) = alpha^r + Z - 1 (at fixed T, rho)."""
    a, a_r = jax.jvp(
        lambda r: eos.alphar(T_star, r, **shape), (rho_star,), (jnp.ones_like(rho_star),)
    )
    return a + rho_star * a_r


def ln_fugacity_coefficient(eos: ReducedEOS, T_star, rho_star, **shape):
    """ln phi = alpha^r + Z - 1 - ln Z (fugacity over pressure, at fixed T and p)."""
    z = compressibility_factor(eos, T_star, rho_star, **shape)
    return residual_chemical_potential(eos, T_star, rho_star, **shape) - jnp.log(z)


def residual_energy(eos: ReducedEOS, T_star, rho_star, **shape):
    """Residual internal energy per molecule in units of epsilon: u_res* = -T*^2 d(alpha^r)/dT*."""
    a, a_t = jax.jvp(
        lambda t: eos.alphar(t, rho_star, **shape), (T_star,), (jnp.ones_like(T_star),)
    )
    return -(T_star**2) * _outside_as_nan(a, a_t)


def dp_drho(eos: ReducedEOS, T_star, rho_star, **shape):
    """Isothermal dp*/drho* = T* (1 + 2 rho a_rho + rho^2 a_rhorho) (reduced units)."""
    _, a_r, a_rr = alphar_density_derivatives(eos, T_star, rho_star, shape)
    return T_star * (1.0 + 2.0 * rho_star * a_r + rho_star**2 * a_rr)


# ----------------------------------------------------------------------------- implicit tangents


def _implicit_primal(residual, jacobian, x, args):
    return x


_implicit = jax.custom_jvp(_implicit_primal, nondiff_argnums=(0, 1))


@_implicit.defjvp
def _implicit_jvp(residual, jacobian, primals, tangents):
    x, args = primals
    _, dargs = tangents
    if jacobian == "with_residual":
        # one pass gives F's tangent and J's value (J's own tangent is never used)
        (_, jac), (df, _) = jax.jvp(lambda a: residual(x, a), (args,), (dargs,))
    else:
        if jacobian is None:
            jac = jax.jacfwd(residual, argnums=0)(x, args)
        else:
            jac = jacobian(x, args)
        _, df = jax.jvp(lambda a: residual(x, a), (args,), (dargs,))
    return x, -jnp.linalg.solve(jac, df)


def implicit_solution(residual, x, args, jacobian=None):
    r"""Return the root ``x`` of ``residual(x, args) = 0`` with exact tangents in ``args``.

    The implicit function theorem gives dx = -J^{-1} (dF/dargs) dargs with J =
    dF/dx at the root, so the solver's iterations are never differentiated: a
    forward or reverse derivative costs one Jacobian and one small linear solve.
    Written by hand (a ``jax.custom_jvp``, 10 lines) rather than with
    optimistix's ``ImplicitAdjoint`` because the solvers here need damped steps
    in log density, feasibility guards and a status per vmapped member, which
    optimistix's Newton does not offer, and its machinery costs more per call
    than a 2 x 2 solve.

    Parameters
    ----------
    residual
        ``residual(x, args) -> (n,)`` with ``x`` of shape (n,), pure JAX.
    x
        The root (computed without gradients; its own tangent is ignored).
    args
        Pytree of the parameters the root depends on.
    jacobian
        ``jacobian(x, args) -> (n, n)``, dF/dx in closed form if known (cheaper to
        compile than the forward-mode Jacobian used otherwise); or ``"with_residual"``:
        ``residual(x, args)`` returns ``(F, dF/dx)``, and the tangent pass that gives
        F's tangent gives J's value too (one copy of the model in the compiled
        program where a separate ``jacobian`` adds a second).

    Returns
    -------
    jax.Array
        ``x``, carrying implicit-function tangents.
    """
    return _implicit(residual, jacobian, jax.lax.stop_gradient(x), args)


# ----------------------------------------------------------------------------- critical point


class CriticalPoint(NamedTuple):
    """The model's critical point in reduced units (NaN unless ``status`` is OK).

    Attributes
    ----------
    T_star, rho_star, p_star
        Critical temperature k_B Tc / epsilon, density rho_c sigma^3 (molecules)
        and pressure p_c sigma^3 / epsilon.
    status
        :class:`SolveStatus` code (int32).
    iterations
        Newton iterations used.
    """

    T_star: jax.Array
    rho_star: jax.Array
    p_star: jax.Array
    status: jax.Array
    iterations: jax.Array


#: Relative steps of the critical-point stencil: ln rho* and T*.
CRITICAL_STENCIL = (2e-3, 1e-4)
_K5 = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])


def _b_value(eos, t, rho, shape):
    """B = (dp/drho)/T* = 1 + 2 rho a_rho + rho^2 a_rhorho (second derivatives only)."""
    _, a_r, a_rr = alphar_density_derivatives(eos, t, rho, shape)
    return 1.0 + 2.0 * rho * a_r + rho**2 * a_rr


def _critical_terms(eos, x, shape):
    """B, dB/ds, d2B/ds2 (s = ln rho*) at x = (T*, s), and dB/dT*, d(dB/ds)/dT*.

    From B on a stencil -- five points in s at T*, three at each of T*(1 +- h_T) --
    evaluated by one vmapped call, so the compiled program holds one second-order
    derivative of the EOS, not the nested third and fourth-order ones (2^4 copies of
    a SAFT-VR Mie EOS took minutes to compile). Five-point differences in s with
    step h = 2e-3: truncation ~h^4 and rounding ~1e-16/h^2, both below 1e-9 of B''.
    """
    h, h_t = CRITICAL_STENCIL
    t, s = x[0], x[1]
    dt = h_t * t
    ts = jnp.concatenate([jnp.full(5, t), jnp.full(3, t + dt), jnp.full(3, t - dt)])
    ks = jnp.concatenate([_K5, _K5[1:4], _K5[1:4]])
    b = jax.vmap(lambda ti, ri: _b_value(eos, ti, ri, shape))(ts, jnp.exp(s + h * ks))
    b0 = b[2]
    b_s = (b[0] - 8.0 * b[1] + 8.0 * b[3] - b[4]) / (12.0 * h)
    b_ss = (-b[0] + 16.0 * b[1] - 30.0 * b[2] + 16.0 * b[3] - b[4]) / (12.0 * h**2)
    b_t = (b[6] - b[9]) / (2.0 * dt)
    b_s_plus, b_s_minus = (b[7] - b[5]) / (2.0 * h), (b[10] - b[8]) / (2.0 * h)
    return b0, b_s, b_ss, b_t, (b_s_plus - b_s_minus) / (2.0 * dt)


def _critical_residual(eos):
    def residual(x, shape):
        # x = (T*, ln rho*); conditions: dp/drho = 0 and d2p/drho2 = 0 (B = dB/ds = 0)
        b0, b_s, _, _, _ = _critical_terms(eos, x, shape)
        return jnp.stack([b0, b_s])

    return residual


#: Starts of the critical-point solve, as factors on the model's (T*c, rho*c) estimate,
#: tried in order. Newton from one start can land on a spurious inflection inside the
#: two-phase region (the Thol LJ EOS has one at T* = 1.3035, where its own estimate
#: (1.32, 0.31) leads); the next start, from above, then finds the top of the spinodal.
CRITICAL_STARTS = ((1.0, 1.0), (1.06, 1.1), (1.06, 0.9), (1.12, 1.0))
#: Newton steps per start before the next start is tried.
CRITICAL_STEPS_PER_START = 30


def critical_point(
    eos: ReducedEOS, *, max_iter: int = 30, tol: float = 1e-10, **shape
) -> CriticalPoint:
    r"""The critical point of a model fluid: dp/drho = d2p/drho2 = 0, the top of the spinodal.

    Newton's method in (T*, s = ln rho*) on B = 0 and dB/ds = 0, with B =
    (dp/drho)/T*, from the model's ``critical_estimate(**shape)`` scaled by each of
    :data:`CRITICAL_STARTS` in turn (one loop: a start that fails hands over to the
    next), steps limited to 5 % in T* and 0.2 in s, at most ``max_iter`` steps per
    start, converged when |B| <= tol and |dB/ds| <= 100 tol. The s-derivatives of B
    and the Jacobian come from a stencil of B values (:data:`CRITICAL_STENCIL`,
    five-point differences: ~1e-10 of the exact derivatives), which keeps the compiled
    program to one second-order derivative of the EOS. A root is valid only where B
    has a minimum in rho (d2B/ds2 >= 0): a root with d2B/ds2 < 0 is a spurious
    inflection inside the two-phase region, which multiparameter EOS can have (the
    Thol LJ EOS has one at T* = 1.3035), and the next start is tried. Differentiable
    in the shape parameters by the implicit function theorem applied to the same
    stencil equations (not in ``max_iter`` or ``tol``).

    Parameters
    ----------
    eos
        The model.
    max_iter, tol
        Newton steps per start, and the residual tolerance (see above).
    **shape
        The model's shape parameters (scalars).

    Returns
    -------
    CriticalPoint
        T*c, rho*c, p*c and the status: ``OK``; otherwise that of the last start
        (``NOT_CONVERGED``, ``UNSTABLE`` or ``NONFINITE``) and NaN numbers.
    """
    t0, r0 = eos.critical_estimate(**shape)
    t0, r0 = jnp.asarray(t0, float), jnp.asarray(r0, float)
    sh = jax.lax.stop_gradient(shape)
    factors = jnp.asarray(CRITICAL_STARTS)
    starts = jnp.stack([t0 * factors[:, 0], jnp.log(r0 * factors[:, 1])], axis=1)
    n_starts = len(CRITICAL_STARTS)
    limit = jnp.array([0.05, 0.2])

    def verdict(b0, b_s, b_ss, x):
        converged = (jnp.abs(b0) <= tol) & (jnp.abs(b_s) <= 100 * tol)
        finite = jnp.all(jnp.isfinite(x)) & jnp.isfinite(b0) & jnp.isfinite(b_s)
        return jnp.where(
            ~finite,
            SolveStatus.NONFINITE,
            jnp.where(
                ~converged,
                SolveStatus.NOT_CONVERGED,
                jnp.where(b_ss < 0.0, SolveStatus.UNSTABLE, SolveStatus.OK),
            ),
        ).astype(jnp.int32)

    def body(c):
        x, it, k, _, total, _ = c
        b0, b_s, b_ss, b_t, b_st = _critical_terms(eos, x, sh)
        status = verdict(b0, b_s, b_ss, x)
        jac = jnp.array([[b_t, b_s], [b_st, b_ss]])
        dx = -jnp.linalg.solve(jac, jnp.stack([b0, b_s]))
        scale = jnp.minimum(1.0, jnp.min(limit * jnp.array([x[0], 1.0]) / (jnp.abs(dx) + 1e-300)))
        x_new = jnp.where(status == SolveStatus.OK, x, x + scale * dx)
        # a start that converged on a spurious root, left the finite numbers or ran out
        # of steps hands over to the next one
        failed = (
            (status == SolveStatus.UNSTABLE) | ~jnp.all(jnp.isfinite(x_new)) | (it >= max_iter)
        )
        nxt = failed & (k + 1 < n_starts)
        # the last start, failed, stops where it was judged: on every exit the carried
        # status is the verdict at the returned x, so the stencil is not compiled a second
        # time after the loop to judge it again (docs/chains.md, "Fewer copies of the EOS")
        stop = failed & ~nxt
        x_new = jnp.where(stop, x, x_new)
        x_new = jnp.where(nxt, starts[jnp.minimum(k + 1, n_starts - 1)], x_new)
        return x_new, jnp.where(nxt, 0, it + 1), k + nxt.astype(jnp.int32), status, total + 1, stop

    def cond(c):
        return (c[3] != SolveStatus.OK) & ~c[5]

    not_yet = jnp.int32(SolveStatus.NOT_CONVERGED)
    init = (starts[0], jnp.int32(0), jnp.int32(0), not_yet, 0, jnp.bool_(False))
    x, _, _, status, total, _ = jax.lax.while_loop(cond, body, init)
    ok = status == SolveStatus.OK
    x_safe = jnp.where(ok, x, starts[0])
    x_imp = implicit_solution(_critical_residual(eos), x_safe, shape)
    t_c, rho_c = x_imp[0], jnp.exp(x_imp[1])
    p_c = pressure(eos, t_c, rho_c, **shape)
    nan = jnp.nan
    return CriticalPoint(
        jnp.where(ok, t_c, nan),
        jnp.where(ok, rho_c, nan),
        jnp.where(ok, p_c, nan),
        status,
        jnp.asarray(total, jnp.int32),
    )
