r"""Liquid structure and thermodynamics from the Ornstein-Zernike equation.

For a simple fluid of number density rho with pair potential u(r), the
Ornstein-Zernike (OZ) equation and a closure

.. math::

    h(r) = c(r) + \rho \int c(|\mathbf r - \mathbf r'|)\, h(r')\, d\mathbf r', \qquad
    c(r) = e^{-\beta u(r)} e^{\gamma(r) + B(r)} - 1 - \gamma(r),

with h = g - 1 and gamma = h - c, are solved on a radial grid. In Fourier space
the OZ equation is algebraic, :math:`\hat\gamma = \rho \hat c^2 / (1 - \rho \hat c)`,
so one fixed-point step is: closure (r space) -> sine transform -> OZ
(k space) -> inverse sine transform.

Closures (``closure=``)
-----------------------
``"hnc"``
    Hypernetted chain, B = 0.
``"py"``
    Percus-Yevick, :math:`c = (e^{-\beta u} - 1)(1 + \gamma)`; exact contact
    values are known for hard spheres (Wertheim 1963, Thiele 1963).
``"vm"``
    Verlet-modified bridge function with the WCA split of the potential
    (the form used for LJ by Duh and Haymet 1995):
    :math:`B = -\tfrac12 \gamma^{*2} / (1 + \tfrac45 \gamma^*)`,
    :math:`\gamma^* = \gamma - \beta u_{att}`, where :math:`u_{att} = u(r_{min})`
    for :math:`r < r_{min}` and u(r) beyond (Weeks-Chandler-Andersen). This is
    Verlet's (1980) form :math:`-\tfrac{A}{2}\gamma^2/(1 + B\gamma/2)` with
    A = 1, B = 8/5. r_min is the grid point where u is lowest (for LJ the
    error from r_min on the grid is second order because u is flat there).
    Where :math:`\gamma^* < -1` (never seen in LJ liquids) the denominator is
    evaluated at :math:`\gamma^* = -1` so that it stays positive.

Numerics
--------
Grid :math:`r_i = i\,\Delta r`, i = 1..N-1, :math:`k_j = j\,\Delta k`,
:math:`\Delta k = \pi / (N \Delta r)`; the 3-d Fourier transform of a radial
function is a DST-I of length N - 1, computed as one real FFT of length 2N.
The default :math:`\Delta r` is the potential's ``length_scale`` / 100
(sigma / 100 for LJ), so a hard core at sigma falls on a grid point; there
the Boltzmann factor takes the mean of its two one-sided limits (the Mayer
value -1/2 for hard spheres), which is what makes the grid error second
order in :math:`\Delta r` (``tests/observables/test_liquid.py``). The same
mean is taken at every breakpoint of the potential (well edges, cut-offs).

The fixed point in gamma(r) is found by Anderson mixing (memory
``memory``, damping ``mixing``) inside ``jax.lax.while_loop``, stopping when
max |G(gamma) - gamma| < ``tol``. A cold start (gamma = 0, the ideal gas) ramps
the inverse temperature from beta / ``ramp`` to beta in ``ramp`` equal steps at
the full density, each stage warm-started from the last (a density ramp would
cross the vapour-liquid region at subcritical liquid states: HNC and PY
failed at T* = 1, rho* = 0.85 with it).

Results
-------
- pressure, virial route,
  :math:`\beta p/\rho = 1 + \tfrac{2\pi}{3}\rho \int r^3 y(r)\, \tfrac{d}{dr}e^{-\beta u}\,dr`
  with y = g e^{beta u} (continuous), so jumps of e^{-beta u} at breakpoints
  (hard-core contact, well edge, truncation) enter as
  :math:`\tfrac{2\pi}{3}\rho\, r_b^3\, y(r_b)\, [e^{-\beta u}]_{r_b^-}^{r_b^+}`;
- excess energy per particle :math:`2\pi\rho \int u\, g\, r^2\, dr`;
- :math:`S(0) = 1 / (1 - \rho \hat c(0))` and
  :math:`\kappa_T = S(0) / (\rho k_B T)` (compressibility route).

Beyond the grid (r > (N - 1/2) Delta r, 41 sigma by default) g = 1 and
c = -beta u are assumed, and the potential's tails are added analytically
with :func:`bayesff.potentials.cutoff.tail_correction` (exact for LJ; zero
for a potential truncated inside the grid). The same closures give
different pressures by the virial and compressibility routes (thermodynamic
inconsistency); the virial route is reported.

Failures are values: ``status`` is ``CONVERGED`` (0), ``MAX_ITER`` (1),
``NONPHYSICAL`` (2: 1 - rho c(k) <= 0 somewhere, i.e. S(k) <= 0 or
infinite, a spurious branch or a state inside the closure's spinodal) or
``NONFINITE`` (3). Outputs of a solve whose status is not 0 are NaN.

Gradients are taken by implicit differentiation at the fixed point
(``jax.custom_vjp``): the adjoint system :math:`(I - \partial G/\partial\gamma)^T w = v`
is solved with the same Anderson iteration; the loop is never differentiated.

Batches of parameter draws: :func:`solve_batch` solves B members (draws of the
parameters, or states) in chunks, one batched Anderson iteration per chunk in
which every member keeps its own convergence test, ramp stage, history and
status (a converged member is frozen while the others go on); its gradients
come from a batched adjoint. ``jax.vmap(solve)`` gives the same solutions but
runs the whole batch until its slowest member converges.

Units: r in angstrom, k in 1/angstrom, rho in 1/angstrom^3, T in K,
energies in kJ/mol, p in MPa, kappa_T in 1/MPa.

References
----------
- L. S. Ornstein and F. Zernike, Proc. Akad. Sci. Amsterdam 17, 793 (1914).
- J.-P. Hansen and I. R. McDonald, *Theory of Simple Liquids*, 4th ed. (2013),
  ch. 4, doi:10.1016/C2010-0-66723-X.
- L. Verlet, Mol. Phys. 41, 183 (1980), doi:10.1080/00268978000102671.
- D.-M. Duh and A. D. J. Haymet, J. Chem. Phys. 103, 2625 (1995),
  doi:10.1063/1.470724.
- M. S. Wertheim, Phys. Rev. Lett. 10, 321 (1963), doi:10.1103/PhysRevLett.10.321.
- D. G. Anderson, J. ACM 12, 547 (1965), doi:10.1145/321296.321305.
- H. F. Walker and P. Ni, SIAM J. Numer. Anal. 49, 1715 (2011),
  doi:10.1137/10078356X (Anderson mixing as a Krylov-like method).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from bayesff.potentials._spec import PairPotential
from bayesff.potentials.cutoff import tail_correction
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "CLOSURES",
    "CONVERGED",
    "MAX_ITER",
    "NONFINITE",
    "NONPHYSICAL",
    "STATUS_MESSAGES",
    "LiquidSolution",
    "solve",
    "solve_batch",
]

CONVERGED, MAX_ITER, NONPHYSICAL, NONFINITE = 0, 1, 2, 3
#: Message for each status code, saying what to try.
STATUS_MESSAGES = (
    "converged",
    "maximum number of iterations reached; try a larger max_iter, a longer density ramp "
    "or a smaller mixing",
    "no physical solution: 1 - rho c(k) <= 0 somewhere (S(k) <= 0 or infinite); the state "
    "may lie inside the closure's spinodal, or the iteration reached a spurious branch",
    "non-finite values in the iteration",
)
CLOSURES = ("hnc", "py", "vm")

_VM_A = 0.8  # Verlet (1980) B/2 with B = 8/5 (A = 1)
_DEFAULT_POINTS_PER_LENGTH_SCALE = 100


class LiquidSolution(NamedTuple):
    """Solution of the OZ equation at one state.

    Attributes
    ----------
    r
        Radial grid, angstrom, shape (N - 1,).
    g
        Radial distribution function on ``r``.
    k
        Wave-number grid, 1/angstrom, shape (N - 1,).
    S
        Structure factor on ``k``.
    c
        Direct correlation function on ``r`` (dimensionless).
    status
        Status code (int32): see ``STATUS_MESSAGES``; outputs are NaN unless 0.
    iterations
        Fixed-point iterations used, all ramp stages together.
    pressure_MPa
        Pressure by the virial route, MPa.
    kappa_T_per_MPa
        Isothermal compressibility by the compressibility route, 1/MPa.
    S0
        S(k -> 0) = 1 / (1 - rho c_hat(0)).
    energy_kJ_per_mol
        Excess internal energy per particle, kJ/mol.
    gamma
        gamma = h - c on ``r`` (the iteration variable; pass it as ``gamma0``
        to warm-start a nearby state).
    """

    r: jax.Array
    g: jax.Array
    k: jax.Array
    S: jax.Array
    c: jax.Array
    status: jax.Array
    iterations: jax.Array
    pressure_MPa: jax.Array
    kappa_T_per_MPa: jax.Array
    S0: jax.Array
    energy_kJ_per_mol: jax.Array
    gamma: jax.Array


# ----------------------------------------------------------------------------- transforms


def _dst1(f):
    """DST-I, F_j = sum_{i=1}^{N-1} f_i sin(pi i j / N), via one real FFT of length 2N."""
    zero = jnp.zeros((*f.shape[:-1], 1), f.dtype)
    x = jnp.concatenate([zero, f, zero, -f[..., ::-1]], axis=-1)
    return -0.5 * jnp.fft.rfft(x)[..., 1 : f.shape[-1] + 1].imag


def _fourier(f, r, k, dr):
    """3-d Fourier transform of a radial function on the grid."""
    return 4.0 * jnp.pi * dr / k * _dst1(r * f)


def _inverse_fourier(fk, r, k, dk):
    """Inverse 3-d Fourier transform of a radial function on the grid."""
    return dk / (2.0 * jnp.pi**2 * r) * _dst1(k * fk)


# ----------------------------------------------------------------------------- closures


def _bridge(name, gamma, beta_u_att):
    """Bridge function B(r) of a closure (0 for HNC)."""
    if name == "vm":
        gs = gamma - beta_u_att
        return -0.5 * gs**2 / (1.0 + _VM_A * jnp.maximum(gs, -1.0))
    return jnp.zeros_like(gamma)


def _closure(name, gamma, boltz, beta_u_att):
    """c(r) from gamma(r); ``boltz`` = exp(-beta u) on the grid."""
    if name == "hnc":
        return boltz * jnp.exp(gamma) - 1.0 - gamma
    if name == "py":
        return (boltz - 1.0) * (1.0 + gamma)
    if name == "vm":
        return boltz * jnp.exp(gamma + _bridge(name, gamma, beta_u_att)) - 1.0 - gamma
    raise ValueError(f"unknown closure {name!r}; expected one of {', '.join(CLOSURES)}")


class _Grid(NamedTuple):
    r: jax.Array
    k: jax.Array
    dr: jax.Array
    dk: jax.Array


class _Inputs(NamedTuple):
    """Differentiable inputs of the fixed-point map (the grid too: dr may depend on sigma)."""

    grid: _Grid
    boltz: jax.Array
    beta_u_att: jax.Array
    rho: jax.Array


def _oz_map(closure, inputs, gamma):
    """One Picard step gamma -> G(gamma); also returns 1 - rho c_hat(k)."""
    grid = inputs.grid
    c = _closure(closure, gamma, inputs.boltz, inputs.beta_u_att)
    ck = _fourier(c, grid.r, grid.k, grid.dr)
    denom = 1.0 - inputs.rho * ck
    gk = inputs.rho * ck**2 / denom
    return _inverse_fourier(gk, grid.r, grid.k, grid.dk), denom


# ----------------------------------------------------------------------------- Anderson


class _Options(NamedTuple):
    """Static iteration settings (hashable: a non-differentiable custom_vjp argument)."""

    memory: int
    mixing: float
    tol: float
    max_iter: int
    adjoint_tol: float


def _anderson_update(x, f, dx, df, it, *, memory, mixing):
    """One Anderson step from x with residual f = G(x) - x, for one member.

    ``dx`` and ``df`` (shape (memory, n)) hold the last min(it, memory) changes of
    x and f in ring-buffer slots (update j wrote slot (j - 1) % memory).
    """
    valid = jnp.arange(memory) < jnp.minimum(it, memory)
    a = df @ df.T
    scale = jnp.where(valid, jnp.sqrt(jnp.diag(a)), 1.0)
    scale = jnp.where(scale > 0, scale, 1.0)
    a = a / scale[:, None] / scale[None, :]
    mask = valid[:, None] & valid[None, :]
    a = jnp.where(mask, a, jnp.eye(memory)) + 1e-12 * jnp.eye(memory)
    b = jnp.where(valid, (df @ f) / scale, 0.0)
    theta = jnp.linalg.solve(a, b) / scale
    theta = jnp.where(valid, theta, 0.0)
    return x + mixing * f - theta @ (dx + mixing * df)


def _anderson(step, x0, *, memory, mixing, tol, max_iter):
    """Anderson mixing for x = step(x) (type II, Walker and Ni 2011).

    Returns (x, iterations, converged, finite). ``step`` maps an array to one of
    the same shape.
    """
    n = x0.shape[0]
    dx = jnp.zeros((memory, n), x0.dtype)
    df = jnp.zeros((memory, n), x0.dtype)
    f0 = step(x0) - x0

    def cond(state):
        _, f, _, _, it = state
        err = jnp.max(jnp.abs(f))
        return (it < max_iter) & (err > tol) & jnp.isfinite(err)

    def body(state):
        x, f, dx, df, it = state
        x_new = _anderson_update(x, f, dx, df, it, memory=memory, mixing=mixing)
        f_new = step(x_new) - x_new
        slot = it % memory
        dx = dx.at[slot].set(x_new - x)
        df = df.at[slot].set(f_new - f)
        return x_new, f_new, dx, df, it + 1

    x, f, _, _, it = jax.lax.while_loop(cond, body, (x0, f0, dx, df, jnp.asarray(0)))
    err = jnp.max(jnp.abs(f))
    return x, it, err <= tol, jnp.isfinite(err)


class _BatchState(NamedTuple):
    """Loop state of :func:`_anderson_batch`; every field has a leading member axis."""

    x: jax.Array  # current iterate, (m, n)
    x_prev: jax.Array  # iterate before the last update
    f_prev: jax.Array  # residual at x_prev
    dx: jax.Array  # (m, memory, n) ring buffers of changes in x and in the residual
    df: jax.Array
    k: jax.Array  # updates done in the current stage
    total: jax.Array  # updates done in all stages
    stage: jax.Array  # current stage (temperature-ramp step)
    running: jax.Array  # not finished yet
    ok: jax.Array  # converged (meaningful once finished)
    finite: jax.Array


def _anderson_batch(step, x0, tol, n_stages, *, memory, mixing, max_iter):
    """Anderson mixing for m independent fixed points, one per row of x0 (m, n).

    ``step(x, stage)`` evaluates every member's map, member b at its own stage
    ``stage[b]``, and returns shape (m, n). Each member follows exactly the
    iteration of :func:`_anderson` (the same updates, slots and stopping rule):
    when its residual max |G(x) - x| falls below ``tol[b]`` it moves to its next
    stage with an empty history, or, at the last stage, stops and keeps its state
    while the others go on. A member also stops when an iteration of a stage
    reaches ``max_iter`` updates or its residual is not finite. The loop runs
    until no member is running, so its cost is that of the slowest member.

    The residual is evaluated at the top of the loop body, so a stage costs one
    map evaluation more than its updates, as in :func:`_anderson`.

    Returns (x, iterations over all stages, converged, finite), each with a
    leading member axis; converged and finite refer to the stage where the
    member stopped.
    """
    m, n = x0.shape
    rows = jnp.arange(m)
    zeros_i = jnp.zeros(m, jnp.int32)
    hist = jnp.zeros((m, memory, n), x0.dtype)
    update = jax.vmap(functools.partial(_anderson_update, memory=memory, mixing=mixing))

    def cond(s):
        return jnp.any(s.running)

    def body(s):
        f = step(s.x, s.stage) - s.x
        # Record the update that led to x (none yet at the start of a stage).
        slot = (s.k - 1) % memory
        write = (s.running & (s.k > 0))[:, None]
        dx = s.dx.at[rows, slot].set(jnp.where(write, s.x - s.x_prev, s.dx[rows, slot]))
        df = s.df.at[rows, slot].set(jnp.where(write, f - s.f_prev, s.df[rows, slot]))
        err = jnp.max(jnp.abs(f), axis=1)
        conv = err <= tol
        fin = jnp.isfinite(err)
        stop = conv | ~fin | (s.k >= max_iter)
        advance = s.running & conv & (s.stage < n_stages - 1)
        finish = s.running & stop & ~advance
        move = s.running & ~stop
        x_next = update(s.x, f, dx, df, s.k)
        move_ = move[:, None]
        return _BatchState(
            x=jnp.where(move_, x_next, s.x),
            x_prev=jnp.where(move_, s.x, s.x_prev),
            f_prev=jnp.where(move_, f, s.f_prev),
            dx=dx,
            df=df,
            k=jnp.where(move, s.k + 1, jnp.where(advance, 0, s.k)),
            total=s.total + move.astype(jnp.int32),
            stage=s.stage + advance.astype(jnp.int32),
            running=s.running & ~finish,
            ok=jnp.where(finish, conv, s.ok),
            finite=jnp.where(finish, fin, s.finite),
        )

    init = _BatchState(
        x=x0,
        x_prev=x0,
        f_prev=jnp.zeros_like(x0),
        dx=hist,
        df=hist,
        k=zeros_i,
        total=zeros_i,
        stage=zeros_i,
        running=jnp.ones(m, bool),
        ok=jnp.zeros(m, bool),
        finite=jnp.ones(m, bool),
    )
    s = jax.lax.while_loop(cond, body, init)
    return s.x, s.total, s.ok, s.finite


# ----------------------------------------------------------------------------- fixed point


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _fixed_point(closure, opts, inputs, gamma):
    """gamma* = G(gamma*); ``gamma`` is the converged iterate (the solve is done outside)."""
    return gamma


def _fixed_point_fwd(closure, opts, inputs, gamma):
    return gamma, (inputs, gamma)


def _fixed_point_bwd(closure, opts, res, v):
    inputs, gamma = res
    _, vjp_gamma = jax.vjp(lambda g: _oz_map(closure, inputs, g)[0], gamma)
    # w = v + J^T w, solved with the same Anderson iteration (a Krylov-like method
    # for linear problems, so the slow Picard modes do not matter).
    w, _, _, _ = _anderson(
        lambda w: v + vjp_gamma(w)[0],
        v,
        memory=opts.memory,
        mixing=opts.mixing,
        tol=opts.adjoint_tol * jnp.maximum(jnp.max(jnp.abs(v)), 1e-300),
        max_iter=opts.max_iter,
    )
    _, vjp_inputs = jax.vjp(lambda i: _oz_map(closure, i, gamma)[0], inputs)
    (grad_inputs,) = vjp_inputs(w)
    return grad_inputs, jnp.zeros_like(gamma)


_fixed_point.defvjp(_fixed_point_fwd, _fixed_point_bwd)


def _solve_gamma(closure, opts, inputs, gamma0, ramp):
    """Forward solve (no gradient): temperature ramp, Anderson at each stage."""

    def stage(state):
        gamma, it_total, _, _, s = state
        # Temperature ramp, T_K * ramp / (s + 1) down to T_K, at the full density: a
        # density ramp would cross the vapour-liquid region below the critical point.
        frac = (s + 1) / ramp
        staged = inputs._replace(boltz=inputs.boltz**frac, beta_u_att=inputs.beta_u_att * frac)
        gamma, it, conv, fin = _anderson(
            lambda g: _oz_map(closure, staged, g)[0],
            gamma,
            memory=opts.memory,
            mixing=opts.mixing,
            tol=opts.tol,
            max_iter=opts.max_iter,
        )
        return gamma, it_total + it, conv, fin, s + 1

    def cond(state):
        _, _, ok, finite, s = state
        return (s < ramp) & ok & finite

    init = (gamma0, jnp.asarray(0), jnp.asarray(True), jnp.asarray(True), jnp.asarray(0))
    gamma, it, ok, finite, _ = jax.lax.while_loop(cond, stage, init)
    return gamma, it, ok, finite


def _oz_batch(closure, inputs, gamma):
    """G(gamma) for a batch: ``inputs`` and ``gamma`` have a leading member axis."""
    return jax.vmap(lambda i, g: _oz_map(closure, i, g)[0])(inputs, gamma)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _fixed_point_batch(closure, opts, inputs, gamma):
    """:func:`_fixed_point` for a batch (leading member axis), with a batched adjoint."""
    return gamma


def _fixed_point_batch_fwd(closure, opts, inputs, gamma):
    return gamma, (inputs, gamma)


def _fixed_point_batch_bwd(closure, opts, res, v):
    inputs, gamma = res
    # G acts on each member alone, so its Jacobian is block diagonal and one vjp of the
    # batched map gives every member's J^T w. The adjoints w_b = v_b + J_b^T w_b are
    # solved together, each to its own tolerance, as in _fixed_point_bwd.
    _, vjp_gamma = jax.vjp(lambda g: _oz_batch(closure, inputs, g), gamma)
    tol = opts.adjoint_tol * jnp.maximum(jnp.max(jnp.abs(v), axis=1), 1e-300)
    w, _, _, _ = _anderson_batch(
        lambda w, stage: v + vjp_gamma(w)[0],
        v,
        tol,
        1,
        memory=opts.memory,
        mixing=opts.mixing,
        max_iter=opts.max_iter,
    )
    _, vjp_inputs = jax.vjp(lambda i: _oz_batch(closure, i, gamma), inputs)
    (grad_inputs,) = vjp_inputs(w)
    return grad_inputs, jnp.zeros_like(gamma)


_fixed_point_batch.defvjp(_fixed_point_batch_fwd, _fixed_point_batch_bwd)


def _solve_gamma_batch(closure, opts, inputs, gamma0, ramp):
    """:func:`_solve_gamma` for a batch: each member climbs the temperature ramp at its
    own pace (it starts its next stage as soon as it converges in the current one)."""
    fracs = jnp.arange(1, ramp + 1) / ramp
    # Staged inputs, computed once: (ramp, m, n); the same arithmetic as _solve_gamma.
    boltz = inputs.boltz[None] ** fracs[:, None, None]
    beta_u_att = inputs.beta_u_att[None] * fracs[:, None, None]
    rows = jnp.arange(gamma0.shape[0])

    def step(gamma, stage):
        staged = inputs._replace(boltz=boltz[stage, rows], beta_u_att=beta_u_att[stage, rows])
        return _oz_batch(closure, staged, gamma)

    tol = jnp.full(gamma0.shape[0], opts.tol)
    return _anderson_batch(
        step, gamma0, tol, ramp, memory=opts.memory, mixing=opts.mixing, max_iter=opts.max_iter
    )


# ----------------------------------------------------------------------------- public


def _potential_and_boltzmann(potential, params, x, beta):
    """(u, exp(-beta u)) at radii x; u is set to 0 inside a hard core, where exp(-beta u) = 0.

    Keeps inf out of the arithmetic so that gradients stay finite (0 * inf = nan).
    """
    u = potential.energy(x, **params)
    if potential.hard_core:
        core = jnp.isinf(u)
        u = jnp.where(core, 0.0, u)
        return u, jnp.where(core, 0.0, jnp.exp(-beta * u))
    return u, jnp.exp(-beta * u)


def _boltzmann(potential, params, r, beta, dr):
    """exp(-beta u) and u on the grid, with the mean of one-sided limits at breakpoints."""
    if not tuple(potential.breakpoints(**params)):
        u, e = _potential_and_boltzmann(potential, params, r, beta)
        return e, u
    delta = 1e-7 * dr
    u_lo, e_lo = _potential_and_boltzmann(potential, params, r - delta, beta)
    u_hi, e_hi = _potential_and_boltzmann(potential, params, r + delta, beta)
    return 0.5 * (e_lo + e_hi), 0.5 * (u_lo + u_hi)


def _virial_smooth(potential, params, r, beta):
    """d exp(-beta u)/dr = -beta u'(r) exp(-beta u) on the grid (0 in a hard core)."""

    def e_of_r(x):
        return _potential_and_boltzmann(potential, params, x, beta)[1]

    return jax.jvp(e_of_r, (r,), (jnp.ones_like(r),))[1]


def _check(closure, n, ramp, memory):
    if closure not in CLOSURES:
        raise ValueError(f"unknown closure {closure!r}; expected one of {', '.join(CLOSURES)}")
    if not (isinstance(n, int) and n >= 16):
        raise ValueError(f"n (grid size) must be an int >= 16, got {n!r}")
    if not (isinstance(ramp, int) and ramp >= 1):
        raise ValueError(f"ramp must be an int >= 1, got {ramp!r}")
    if not (isinstance(memory, int) and memory >= 1):
        raise ValueError(f"memory must be an int >= 1, got {memory!r}")


def solve(
    potential: PairPotential,
    params: dict,
    T_K,
    rho_per_A3,
    closure: str = "hnc",
    n: int = 4096,
    dr=None,
    *,
    gamma0=None,
    ramp: int = 4,
    tol: float = 1e-10,
    max_iter: int = 1000,
    memory: int = 5,
    mixing: float = 0.5,
    adjoint_tol: float = 1e-10,
) -> LiquidSolution:
    r"""Solve the OZ equation with a closure for a simple fluid at one state.

    jit-able (``potential``, ``closure``, ``n``, ``ramp``, ``memory`` static),
    vmap-able over parameters and states, and differentiable in ``params``,
    ``T_K`` and ``rho_per_A3`` by implicit differentiation at the fixed point.

    Parameters
    ----------
    potential
        A pair potential (possibly wrapped by a cut-off convention).
    params
        Its parameters, internal units (energies kJ/mol, lengths angstrom).
    T_K
        Temperature, K (scalar).
    rho_per_A3
        Number density, 1/angstrom^3 (scalar).
    closure
        ``"hnc"``, ``"py"`` or ``"vm"`` (see the module docstring).
    n
        Grid size N: the grid has N - 1 points; a power of two keeps the FFT of
        length 2N fast.
    dr
        Grid spacing, angstrom; default ``potential.length_scale(**params) / 100``.
    gamma0
        Starting gamma(r) on the grid (e.g. ``solution.gamma`` of a nearby
        state); with it there is no density ramp. Default: ideal-gas start
        (gamma = 0) and a temperature ramp of ``ramp`` stages.
    ramp
        Stages of a cold start: inverse temperatures beta/ramp, 2 beta/ramp, ..., beta.
    tol
        Convergence: max |G(gamma) - gamma| < tol.
    max_iter
        Maximum Anderson iterations per ramp stage (and for the adjoint solve).
    memory, mixing
        Anderson memory and damping.
    adjoint_tol
        Relative tolerance of the adjoint solve in the backward pass.

    Returns
    -------
    LiquidSolution
        Grids, g(r), S(k), c(r), status, iterations, pressure (MPa, virial
        route), kappa_T (1/MPa) and S(0) (compressibility route), excess energy
        per particle (kJ/mol). Scalars are NaN unless ``status == CONVERGED``.

    Raises
    ------
    ValueError
        For an unknown closure or a bad grid size, ramp or memory (before any
        tracing).
    """
    _check(closure, n, ramp, memory)
    inputs, u, kt = _prepare(potential, params, T_K, rho_per_A3, closure, n, dr)
    r = inputs.grid.r
    opts = _Options(memory, float(mixing), float(tol), int(max_iter), float(adjoint_tol))
    # Fixed-point values carry no gradient of their own: it comes from _fixed_point.
    stopped = jax.tree.map(jax.lax.stop_gradient, inputs)
    if gamma0 is None:
        gamma_init, n_ramp = jnp.zeros_like(r), ramp
    else:
        gamma_init, n_ramp = jnp.asarray(gamma0, dtype=float), 1
    if gamma_init.shape != r.shape:
        raise ValueError(
            f"gamma0 must have shape {r.shape} (n - 1 points), got {gamma_init.shape}"
        )
    gamma, iterations, ok, finite = _solve_gamma(
        closure, opts, stopped, jax.lax.stop_gradient(gamma_init), n_ramp
    )
    gamma = _fixed_point(closure, opts, inputs, jax.lax.stop_gradient(gamma))
    return _finish(potential, params, closure, n, inputs, u, kt, gamma, iterations, ok, finite)


def _prepare(potential, params, T_K, rho_per_A3, closure, n, dr):
    """Grid and closure inputs at one state; returns (inputs, u on the grid, kT in kJ/mol)."""
    T = jnp.asarray(T_K, dtype=float)
    rho = jnp.asarray(rho_per_A3, dtype=float)
    kt = GAS_CONSTANT_KJ_PER_MOL_K * T
    beta = 1.0 / kt
    if dr is None:
        dr = potential.length_scale(**params) / _DEFAULT_POINTS_PER_LENGTH_SCALE
    dr = jnp.asarray(dr, dtype=float)
    idx = jnp.arange(1, n, dtype=float)
    dk = jnp.pi / (n * dr)
    grid = _Grid(r=idx * dr, k=idx * dk, dr=dr, dk=dk)
    r = grid.r

    boltz, u = _boltzmann(potential, params, r, beta, dr)
    if closure == "vm":
        i_min = jnp.argmin(jnp.where(boltz > 0, u, jnp.inf))
        u_att = jnp.where(jnp.arange(n - 1) < i_min, u[i_min], u)
        beta_u_att = beta * u_att
    else:
        beta_u_att = jnp.zeros_like(r)
    return _Inputs(grid=grid, boltz=boltz, beta_u_att=beta_u_att, rho=rho), u, kt


def _finish(potential, params, closure, n, inputs, u, kt, gamma, iterations, ok, finite):
    """LiquidSolution at one state from the converged gamma (differentiable through it)."""
    grid, boltz, beta_u_att, rho = inputs
    r, dr = grid.r, grid.dr
    beta = 1.0 / kt
    c = _closure(closure, gamma, boltz, beta_u_att)
    # y = g exp(beta u) = exp(gamma + B) (HNC, VM) or 1 + gamma (PY): continuous.
    if closure == "py":
        y = 1.0 + gamma
    else:
        y = jnp.exp(gamma + _bridge(closure, gamma, beta_u_att))
    g = boltz * y  # = 1 + gamma + c, but exactly 0 inside a core
    ck = _fourier(c, r, grid.k, dr)
    denom = 1.0 - rho * ck
    c0 = 4.0 * jnp.pi * dr * jnp.sum(r**2 * c)

    # Tails beyond the grid, g = 1 and c = -beta u there (rectangle rule ends at (n - 1/2) dr).
    r_end = (n - 0.5) * dr
    tail = tail_correction(potential, params, r_end, rho)
    c0 = c0 - beta * 2.0 * tail.energy_per_particle / rho
    denom0 = 1.0 - rho * c0
    physical = jnp.all(denom > 0) & (denom0 > 0)

    status = jnp.where(
        ~finite,
        NONFINITE,
        jnp.where(~ok, MAX_ITER, jnp.where(physical, CONVERGED, NONPHYSICAL)),
    ).astype(jnp.int32)
    valid = status == CONVERGED

    de_dr = _virial_smooth(potential, params, r, beta)
    bps = tuple(potential.breakpoints(**params))
    on_bp = jnp.zeros(r.shape, bool)
    jump_sum = 0.0
    for b in bps:
        b = jnp.asarray(b, dtype=float)
        on_bp = on_bp | (jnp.abs(r - b) < 0.5 * dr)
        e_lo = _potential_and_boltzmann(potential, params, b - 1e-7 * dr, beta)[1]
        e_hi = _potential_and_boltzmann(potential, params, b + 1e-7 * dr, beta)[1]
        y_b = jnp.interp(b, r, y)
        inside = b < r_end
        jump_sum = jump_sum + jnp.where(inside, b**3 * y_b * (e_hi - e_lo), 0.0)
    virial = dr * jnp.sum(jnp.where(on_bp, 0.0, r**3 * y * de_dr)) + jump_sum
    z = 1.0 + (2.0 * jnp.pi / 3.0) * rho * virial
    pressure = rho * kt * z * KJ_PER_MOL_PER_A3_IN_MPA + tail.pressure
    u_g = jnp.where(boltz > 0, u, 0.0) * g
    energy = 2.0 * jnp.pi * rho * dr * jnp.sum(r**2 * u_g) + tail.energy_per_particle
    s0 = 1.0 / denom0
    kappa = s0 / (rho * kt * KJ_PER_MOL_PER_A3_IN_MPA)

    nan = jnp.nan

    def ok_or_nan(x):
        return jnp.where(valid, x, nan)

    return LiquidSolution(
        r=r,
        g=g,
        k=grid.k,
        S=1.0 / denom,
        c=c,
        status=status,
        iterations=iterations,
        pressure_MPa=ok_or_nan(pressure),
        kappa_T_per_MPa=ok_or_nan(kappa),
        S0=ok_or_nan(s0),
        energy_kJ_per_mol=ok_or_nan(energy),
        gamma=gamma,
    )


def _batch_size(params_batch, T_K, rho_per_A3, dr, gamma0, n):
    """The common batch size B of the batched arguments; raises if they disagree."""
    sizes = {}
    named = {**{f"params_batch[{k!r}]": v for k, v in params_batch.items()}}
    named.update(T_K=T_K, rho_per_A3=rho_per_A3)
    if dr is not None:
        named["dr"] = dr
    for name, value in named.items():
        shape = jnp.shape(value)
        if len(shape) > 1:
            raise ValueError(
                f"solve_batch: {name} must be a scalar or a 1-d array (one value per draw), "
                f"got shape {shape}"
            )
        if shape:
            sizes[name] = shape[0]
    if gamma0 is not None:
        shape = jnp.shape(gamma0)
        if shape[-1:] != (n - 1,) or len(shape) > 2:
            raise ValueError(
                f"solve_batch: gamma0 must have shape (n - 1,) = ({n - 1},) or (B, {n - 1}), "
                f"got {shape}"
            )
        if len(shape) == 2:
            sizes["gamma0"] = shape[0]
    if not sizes:
        raise ValueError(
            "solve_batch: no batched argument; give params_batch, T_K or rho_per_A3 as 1-d "
            "arrays with one value per draw (or use solve for one state)"
        )
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{k}: {v}" for k, v in sizes.items())
        raise ValueError(f"solve_batch: batched arguments differ in length ({listed})")
    size = next(iter(sizes.values()))
    if size == 0:
        raise ValueError("solve_batch: the batch is empty")
    return size


def solve_batch(
    potential: PairPotential,
    params_batch: dict,
    T_K,
    rho_per_A3,
    closure: str = "hnc",
    n: int = 4096,
    dr=None,
    *,
    chunk: int = 16,
    gamma0=None,
    ramp: int = 4,
    tol: float = 1e-10,
    max_iter: int = 1000,
    memory: int = 5,
    mixing: float = 0.5,
    adjoint_tol: float = 1e-10,
) -> LiquidSolution:
    r"""Solve the OZ equation for a batch of parameter draws (or states), in chunks.

    The same solutions as ``jax.vmap`` of :func:`solve`, member by member, at a
    higher throughput for many draws. The batch is cut into chunks of ``chunk``
    members, done one after another (``jax.lax.map``); within a chunk one
    Anderson iteration advances all members together (one batched FFT per
    step), each member with its own convergence test, temperature-ramp stage,
    history and status: a member that has converged keeps its solution while
    the others go on, and one that fails (e.g. a state inside the closure's
    spinodal) gets its own status and NaN outputs without affecting the rest.
    A chunk costs as many iterations as its slowest member, so chunks should
    be small enough that one slow member holds up few others, and large enough
    to amortise the per-iteration overhead (8-32 on a CPU; see
    ``benchmarks/liquid_bench.py``).

    jit-able (``potential``, ``closure``, ``n``, ``chunk``, ``ramp`` and
    ``memory`` static) and differentiable in ``params_batch``, ``T_K`` and
    ``rho_per_A3`` by implicit differentiation at each member's fixed point;
    the adjoint systems of a chunk are solved together, each to its own
    tolerance, as in :func:`solve`.

    Which to use: ``solve_batch`` for many draws of one model (posterior
    predictive checks, prior screening, a batch of states); ``jax.vmap(solve)``
    where the solve sits inside a function that is vmapped as a whole, or for
    a handful of members (it runs all members until the slowest converges, and
    carries every member's state through every iteration).

    Parameters
    ----------
    potential
        A pair potential (possibly wrapped by a cut-off convention).
    params_batch
        Its parameters, internal units (energies kJ/mol, lengths angstrom); each
        value a scalar (shared by all members) or a 1-d array of length B.
    T_K
        Temperature, K: scalar or shape (B,).
    rho_per_A3
        Number density, 1/angstrom^3: scalar or shape (B,).
    closure, n
        As in :func:`solve`.
    dr
        Grid spacing, angstrom: None (each member's ``length_scale / 100``), a
        scalar or shape (B,).
    chunk
        Members solved together; B is padded to a multiple of ``chunk`` with
        copies of the last member (``chunk`` larger than B is reduced to B).
    gamma0
        Warm start, shape (n - 1,) (shared) or (B, n - 1); then no temperature
        ramp. Default: ideal-gas start and a ramp of ``ramp`` stages.
    ramp, tol, max_iter, memory, mixing, adjoint_tol
        As in :func:`solve`.

    Returns
    -------
    LiquidSolution
        Every field with a leading axis of length B (grids included: the grid
        of member b scales with its own ``dr``); ``status`` per member.

    Raises
    ------
    ValueError
        Before any tracing, for an unknown closure, a bad grid size, ramp,
        memory or chunk, batched arguments of different lengths, or no batched
        argument.
    """
    _check(closure, n, ramp, memory)
    if not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk must be an int >= 1, got {chunk!r}")
    size = _batch_size(params_batch, T_K, rho_per_A3, dr, gamma0, n)
    chunk = min(chunk, size)
    n_chunks = -(-size // chunk)
    # Pad with copies of the last member: they converge with it and are cut off below.
    take = jnp.minimum(jnp.arange(n_chunks * chunk), size - 1)

    def batched(value, tail=()):
        value = jnp.asarray(value, dtype=float)
        if value.ndim == len(tail):
            value = jnp.broadcast_to(value, (size, *tail))
        return value[take].reshape(n_chunks, chunk, *tail)

    if gamma0 is None:
        gamma_init, n_ramp = jnp.zeros(n - 1), ramp
    else:
        gamma_init, n_ramp = gamma0, 1
    args = (
        {k: batched(v) for k, v in params_batch.items()},
        batched(T_K),
        batched(rho_per_A3),
        None if dr is None else batched(dr),
        batched(gamma_init, (n - 1,)),
    )
    opts = _Options(memory, float(mixing), float(tol), int(max_iter), float(adjoint_tol))

    def prepare(params, T, rho, dr_):
        return _prepare(potential, params, T, rho, closure, n, None if dr is None else dr_)

    def finish(params, inputs, u, kt, gamma, iterations, ok, finite):
        return _finish(potential, params, closure, n, inputs, u, kt, gamma, iterations, ok, finite)

    def one_chunk(chunk_args):
        params, T, rho, dr_, gamma_start = chunk_args
        inputs, u, kt = jax.vmap(prepare)(params, T, rho, dr_)
        stopped = jax.tree.map(jax.lax.stop_gradient, inputs)
        gamma, iterations, ok, finite = _solve_gamma_batch(
            closure, opts, stopped, jax.lax.stop_gradient(gamma_start), n_ramp
        )
        gamma = _fixed_point_batch(closure, opts, inputs, jax.lax.stop_gradient(gamma))
        return jax.vmap(finish)(params, inputs, u, kt, gamma, iterations, ok, finite)

    out = jax.lax.map(one_chunk, args)
    return jax.tree.map(lambda x: x.reshape(n_chunks * chunk, *x.shape[2:])[:size], out)
