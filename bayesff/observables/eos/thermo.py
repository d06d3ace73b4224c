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
    """

    OK = 0
    ABOVE_CRITICAL = 1
    OUTSIDE_VALIDITY = 2
    NOT_CONVERGED = 3
    TRIVIAL = 4
    UNSTABLE = 5
    CRITICAL_FAILED = 6
    NONFINITE = 7


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
    return a, a_r, a_rr


def compressibility_factor(eos: ReducedEOS, T_star, rho_star, **shape):
    """Z = p / (rho k_B T) = 1 + rho* d(alpha^r)/d(rho*) (dimensionless)."""
    _, a_r = jax.jvp(
        lambda r: eos.alphar(T_star, r, **shape), (rho_star,), (jnp.ones_like(rho_star),)
    )
    return 1.0 + rho_star * a_r


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
    _, a_t = jax.jvp(
        lambda t: eos.alphar(t, rho_star, **shape), (T_star,), (jnp.ones_like(T_star),)
    )
    return -(T_star**2) * a_t


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
        compile than the forward-mode Jacobian used otherwise).

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


def _density_series(eos, T_star, rho_star, shape, order):
    """alpha^r and its first ``order`` (3 or 4) rho* derivatives at fixed T*.

    Nested forward passes, each keeping only the new highest derivative: the trace holds
    about 2^order copies of the EOS. (Taylor mode, ``jax.experimental.jet``, compiled
    no faster here and has no rules for some operations an EOS may use.)
    """

    def f(r):
        return eos.alphar(T_star, r, **shape)

    def d2(r):
        (a, a1), (_, a2) = jax.jvp(
            lambda x: jax.jvp(f, (x,), (jnp.ones_like(x),)), (r,), (jnp.ones_like(r),)
        )
        return a, a1, a2

    def d3(r):
        p, t = jax.jvp(d2, (r,), (jnp.ones_like(r),))
        return (*p, t[2])

    if order == 3:
        return d3(rho_star)
    p, t = jax.jvp(d3, (rho_star,), (jnp.ones_like(rho_star),))
    return (*p, t[3])


def _b_derivatives(eos, T_star, rho_star, shape, order=4):
    """B = (dp/drho)/T* and its density derivatives: (B, B') for order 3, (B, B', B'') for 4."""
    r = rho_star
    a = _density_series(eos, T_star, r, shape, order)
    b0 = 1.0 + 2.0 * r * a[1] + r**2 * a[2]
    b1 = 2.0 * a[1] + 4.0 * r * a[2] + r**2 * a[3]
    if order == 3:
        return b0, b1
    return b0, b1, 6.0 * a[2] + 6.0 * r * a[3] + r**2 * a[4]


def _critical_residual(eos):
    def residual(x, shape):
        # x = (T*, ln rho*); conditions: dp/drho = 0 and rho d2p/drho2 / T = 0
        t, r = x[0], jnp.exp(x[1])
        b0, db = _b_derivatives(eos, t, r, shape, order=3)
        return jnp.stack([b0, r * db])

    return residual


#: Starts of the critical-point solve, as factors on the model's (T*c, rho*c) estimate,
#: tried in order. Newton from one start can land on a spurious inflection inside the
#: two-phase region (the Thol LJ EOS has one at T* = 1.3035, where its own estimate
#: (1.32, 0.31) leads); the next start, from above, then finds the top of the spinodal.
CRITICAL_STARTS = ((1.0, 1.0), (1.06, 1.1), (1.06, 0.9), (1.12, 1.0))


def _critical_newton(eos, x0, shape, max_iter, tol, active=True):
    """Damped Newton on the critical conditions from x0 = (T*, ln rho*).

    Returns (x, status, iterations).
    """
    steps = jnp.array([0.05, 0.2])

    def converged(f):
        return (jnp.abs(f[0]) <= tol) & (jnp.abs(f[1]) <= 100 * tol)

    def cond(c):
        x, f, it = c
        return (~converged(f)) & jnp.all(jnp.isfinite(x)) & (it < max_iter)

    def body(c):
        x, _, it = c
        t, r = x[0], jnp.exp(x[1])
        # The T column by a forward difference: the step is exact where it matters (the
        # residual decides convergence), and a forward-mode T derivative of the 4th-order
        # density series took 2-3x longer to compile. ln rho column from B' and B''.
        h = 1e-7 * t
        b0, b1, b2 = _b_derivatives(eos, t, r, shape)
        b0_h, b1_h = _b_derivatives(eos, t + h, r, shape, order=3)
        f = jnp.stack([b0, r * b1])
        jac = jnp.array([[(b0_h - b0) / h, r * b1], [r * (b1_h - b1) / h, r * b1 + r**2 * b2]])
        dx = -jnp.linalg.solve(jac, f)
        # limit the step to 5 % of T* and 0.2 in ln rho*
        limit = steps * jnp.array([x[0], 1.0])
        scale = jnp.minimum(1.0, jnp.min(limit / (jnp.abs(dx) + 1e-300)))
        return x + scale * dx, f, it + 1

    f0 = jnp.where(active, jnp.inf, 0.0) * jnp.ones(2)  # an inactive member does not iterate
    x, _, it = jax.lax.while_loop(cond, body, (x0, f0, jnp.int32(0)))
    b0, b1, d2b = _b_derivatives(eos, x[0], jnp.exp(x[1]), shape)
    f = jnp.stack([b0, jnp.exp(x[1]) * b1])
    finite = jnp.all(jnp.isfinite(x)) & jnp.all(jnp.isfinite(f)) & jnp.isfinite(d2b)
    status = jnp.where(
        ~finite,
        SolveStatus.NONFINITE,
        jnp.where(
            ~converged(f),
            SolveStatus.NOT_CONVERGED,
            jnp.where(d2b < 0.0, SolveStatus.UNSTABLE, SolveStatus.OK),
        ),
    ).astype(jnp.int32)
    return x, status, it


def critical_point(
    eos: ReducedEOS, *, max_iter: int = 60, tol: float = 1e-10, **shape
) -> CriticalPoint:
    r"""The critical point of a model fluid: dp/drho = d2p/drho2 = 0, the top of the spinodal.

    Newton's method in (T*, ln rho*) on B = 0 and rho dB/drho = 0, with B =
    (dp/drho)/T*, from the model's ``critical_estimate(**shape)`` scaled by each
    of :data:`CRITICAL_STARTS` in turn; steps limited to 5 % in T* and 0.2 in ln rho*, at
    most ``max_iter`` iterations, converged when |B| <= tol and |rho dB/drho| <=
    100 tol. A root is valid only where B has a minimum in rho (d2B/drho2 >= 0):
    a root with d2B/drho2 < 0 is a spurious inflection inside the two-phase
    region, which multiparameter EOS can have (the Thol LJ EOS has one at T* =
    1.3035), and the next start is tried. Differentiable in the shape
    parameters by the implicit function theorem (not in ``max_iter``, ``tol``).

    Parameters
    ----------
    eos
        The model.
    max_iter, tol
        Iteration limit and residual tolerance (see above).
    **shape
        The model's shape parameters (scalars).

    Returns
    -------
    CriticalPoint
        T*c, rho*c, p*c and the status: ``OK``; otherwise that of the first start
        (``NOT_CONVERGED``, ``UNSTABLE`` or ``NONFINITE``) and NaN numbers.
    """
    t0, r0 = eos.critical_estimate(**shape)
    t0, r0 = jnp.asarray(t0, float), jnp.asarray(r0, float)
    sh = jax.lax.stop_gradient(shape)
    # the starts one after another: a later one iterates only if no earlier one found a
    # valid root, and is kept only if it is hotter (a member that needs no restart costs
    # nothing in a vmapped batch)
    x0 = jnp.stack([t0 * CRITICAL_STARTS[0][0], jnp.log(r0 * CRITICAL_STARTS[0][1])])
    best, status0, its = _critical_newton(eos, x0, sh, max_iter, tol)
    ok = status0 == SolveStatus.OK
    for ft, fr in CRITICAL_STARTS[1:]:
        xi = jnp.stack([t0 * ft, jnp.log(r0 * fr)])
        x, st, it = _critical_newton(eos, xi, sh, max_iter, tol, active=~ok)
        better = (st == SolveStatus.OK) & (~ok | (x[0] > best[0]))
        best = jnp.where(better, x, best)
        ok = ok | (st == SolveStatus.OK)
        its = its + it
    status = jnp.where(ok, SolveStatus.OK, status0).astype(jnp.int32)
    x_safe = jnp.where(ok, best, x0)
    x_imp = implicit_solution(_critical_residual(eos), x_safe, shape)
    t_c, rho_c = x_imp[0], jnp.exp(x_imp[1])
    p_c = pressure(eos, t_c, rho_c, **shape)
    nan = jnp.nan
    return CriticalPoint(
        jnp.where(ok, t_c, nan),
        jnp.where(ok, rho_c, nan),
        jnp.where(ok, p_c, nan),
        status,
        its,
    )
