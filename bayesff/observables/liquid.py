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
``"vm"`` (the default of the structure targets)
    Verlet-modified bridge function with a density-weighted WCA split:

    .. math::

        B = -\frac{\gamma^{*2}}{2(1 + \alpha(T^*) \gamma^*)}, \qquad
        \gamma^* = \gamma - w(\rho^*)\, \beta u_{att}, \qquad
        w(\rho^*) = 1 - e^{-(\rho^*/0.5)^4},

    with :math:`\alpha(T^*) = \max(0.94 - 0.2/T^*, 0.5)` (:func:`vm_alpha`;
    T* = k_B T / |u_min|),

    with :math:`u_{att} = u(r_{min})` for :math:`r < r_{min}` and u(r) beyond
    (Weeks, Chandler and Andersen 1971) and :math:`\rho^* = \rho\,\ell^3`, ell the
    potential's ``length_scale`` (sigma). This is Verlet's (1980) form
    :math:`-\tfrac{A}{2}\gamma^2/(1 + B\gamma/2)` (A = 1, B = 8/5) in the argument
    Duh and Haymet (1995) used for LJ, :math:`\gamma - \beta u_{att}`, except that
    the split is switched off at low density and Verlet's constant B/2 = 0.8 is
    replaced by alpha(T*), which rises from 0.66 at T* = 0.72 to 0.89 at T* = 4
    (it equals 0.8 at T* = 1.43; ``"vm_consistent"`` finds 0.68 and 0.86 at those
    dense states), which takes the largest |dp*| on the validation table from 0.40
    to 0.14. Without the switch (``"vm_wca"``)
    gamma* -> -beta u_att as rho -> 0, so B stays finite and u* is 8-19 % off at
    vapour states. With it B vanishes **at second order in rho**: w = O(rho^4), so
    :math:`B = -\tfrac12 \rho^2 \gamma_1^2 + O(\rho^3)` with gamma = rho gamma_1 + ...,
    the same leading term as the Percus-Yevick bridge (fitted order 2.00-2.04 and
    B_vm / B_py = 1.000 at rho* = 1e-3, ``tests/observables/test_liquid.py``); g(r)
    is exact to first order in rho and p to the third virial coefficient, as for HNC
    and PY. At rho* >= 0.75 the switch is 1 to within 0.7 % and the closure is the
    WCA one. The switch is our own (no published low-density form of this bridge
    was found); its two constants were chosen on tuning states disjoint from the
    validation table (``python benchmarks/liquid_bench.py --switch-scan``).
    r_min is the grid point where u is lowest (for LJ the error from r_min on the
    grid is second order because u is flat there). Where :math:`\gamma^* < -1`
    (never seen in LJ liquids) the denominator is evaluated at
    :math:`\gamma^* = -1` so that it stays positive.
``"vm_wca"``
    The same with w = 1 at every density: ``"vm"`` as it was before issue 17 (kept
    for comparison; wrong in the dilute gas).
``"vm_consistent"``
    Thermodynamically consistent VM: :math:`B = -\gamma^{*2}/(2(1 + \alpha
    \max(\gamma^*, 0)))`, :math:`\gamma^* = \gamma - w \beta u_{att}` (the
    Choudhury-Ghosh 2002 form of the Verlet bridge, whose denominator stays >= 1),
    with the closure parameters (w, alpha) solved per state so that the virial and
    compressibility routes agree (the criterion of Rogers and Young 1984 and Zerah
    and Hansen 1986),

    .. math:: \beta \left(\frac{\partial p_v}{\partial \rho}\right)_{T, w, \alpha} S(0) = 1,

    the derivative (parameters frozen, as in those papers) by a central difference
    of the virial pressure over rho (1 +- 5e-4). One equation fixes one number, so
    (w, alpha) moves along a path with coordinate lam in [-1, 2] from the default
    closure (lam = 0: w(rho*), alpha = 0.8): on [0, 1] w rises to 1, on [1, 2]
    alpha falls to 0.5 at w = 1, on [-1, 0] alpha rises to 1.6 at the default w.
    The mismatch falls along the path at every state tried, so the root is unique;
    it is found by bracketing from lam = 0 and the Illinois method, each of the
    three solves warm-started, to |mismatch| <= 1e4 tol (1e-6 at tol = 1e-10).
    Where the path holds no root (subcritical vapour states, where the parameters
    hardly matter; mismatch ~1e-4) the path point with the smallest mismatch is
    used if that is <= 1e-2, otherwise the status is ``NONPHYSICAL``.
    The path and its ends are our own; Choudhury and Ghosh used an empirical
    alpha(rho) instead of a consistency condition. The parameters found are in
    ``LiquidSolution.closure_params``; ``closure_params=`` freezes them.
    Gradients: implicit differentiation of the root as well,
    d lam / d theta = -(dm/d theta)/(dm/d lam), both from one reverse pass through
    the three fixed points. Low density: w* ~ rho* at supercritical states and
    w = w(rho*) = O(rho^4) (an end of the path) at subcritical vapour states, so
    B = O(rho^2) there too (fitted order 2, not proved). Cost: about 6x a "vm" solve
    (a median of 350 Anderson iterations over all solves against 60).

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
inconsistency), except ``"vm_consistent"`` in the sense above; the virial route
is reported.

Closure errors against the Thol et al. (2016) LJ EOS, by region, are tabulated in
``docs/liquid.md`` and available as validated bounds from
:func:`closure_error_floor`.

Failures are values: ``status`` is ``CONVERGED`` (0), ``MAX_ITER`` (1),
``NONPHYSICAL`` (2: 1 - rho c(k) <= 0 somewhere, i.e. S(k) <= 0 or
infinite, a spurious branch or a state inside the closure's spinodal) or
``NONFINITE`` (3). Outputs of a solve whose status is not 0 are NaN.

Gradients are taken by implicit differentiation at the fixed point
(``jax.custom_vjp``): the adjoint system :math:`(I - \partial G/\partial\gamma)^T w = v`
is solved with the same Anderson iteration; the loop is never differentiated.

Batches: :func:`solve_batch` solves B members (draws of the
parameters, or states) in chunks, one batched Anderson iteration per chunk in
which every member keeps its own convergence test, ramp stage, history and
status (a converged member is frozen while the others go on); its gradients
come from a batched adjoint. ``jax.vmap(solve)`` gives the same solutions but
runs the whole batch until its slowest member converges. A chunk costs as many
iterations as its slowest member, so chunks should be small enough that one slow
member holds up few others and large enough to amortise the per-iteration overhead
(8-32 on a CPU; ``benchmarks/liquid_bench.py``). Which to use: ``solve_batch`` for
many draws of one model (posterior predictive checks, prior screening, a batch of
states); ``jax.vmap(solve)`` where the solve sits inside a function that is vmapped
as a whole, or for a handful of members.

Units: r in angstrom, k in 1/angstrom, rho in 1/angstrom^3, T in K,
energies in kJ/mol, p in MPa, kappa_T in 1/MPa.

References
----------
- L. S. Ornstein and F. Zernike, Proc. Akad. Sci. Amsterdam 17, 793 (1914).
- J.-P. Hansen and I. R. McDonald, *Theory of Simple Liquids*, 4th ed. (2013),
  ch. 4, doi:10.1016/C2010-0-66723-X.
- L. Verlet, Mol. Phys. 41, 183 (1980), doi:10.1080/00268978000102671.
- J. D. Weeks, D. Chandler and H. C. Andersen, J. Chem. Phys. 54, 5237 (1971),
  doi:10.1063/1.1674820.
- F. J. Rogers and D. A. Young, Phys. Rev. A 30, 999 (1984),
  doi:10.1103/PhysRevA.30.999.
- G. Zerah and J.-P. Hansen, J. Chem. Phys. 84, 2336 (1986), doi:10.1063/1.450397.
- N. Choudhury and S. K. Ghosh, J. Chem. Phys. 116, 8517 (2002) (modified Verlet
  bridge function for LJ).
- M. Thol, G. Rutkai, A. Koester, R. Lustig, R. Span and J. Vrabec, J. Phys. Chem.
  Ref. Data 45, 023101 (2016), doi:10.1063/1.4945000 (the reference of
  :func:`closure_error_floor`).
- D.-M. Duh and A. D. J. Haymet, J. Chem. Phys. 103, 2625 (1995),
  doi:10.1063/1.470724.
- M. S. Wertheim, Phys. Rev. Lett. 10, 321 (1963), doi:10.1103/PhysRevLett.10.321.
- D. G. Anderson, J. ACM 12, 547 (1965), doi:10.1145/321296.321305.
- H. F. Walker and P. Ni, SIAM J. Numer. Anal. 49, 1715 (2011),
  doi:10.1137/10078356X (Anderson mixing as a Krylov-like method).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.potentials._spec import PairPotential
from bayesff.potentials.cutoff import tail_correction
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "CLOSURES",
    "CLOSURE_ERROR_REGIONS",
    "CONVERGED",
    "MAX_ITER",
    "NONFINITE",
    "NONPHYSICAL",
    "STATUS_MESSAGES",
    "ClosureErrorFloor",
    "LiquidSolution",
    "boltzmann_limits",
    "closure_error_floor",
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
    "may lie inside the closure's spinodal, or the iteration reached a spurious branch; for "
    "'vm_consistent', also: no parameter on its path makes the virial and compressibility "
    "routes agree to 1e-2",
    "non-finite values in the iteration",
)
CLOSURES = ("hnc", "py", "vm", "vm_wca", "vm_consistent")
#: Closures built on the Verlet-modified bridge with the WCA split (parameters w, alpha).
_VM_FAMILY = ("vm", "vm_wca", "vm_consistent")

_VM_A = 0.8  # Verlet (1980) B/2 with B = 8/5 (A = 1)
#: Temperature dependence of "vm"'s alpha: alpha = max(_VM_ALPHA_A + _VM_ALPHA_B (1 - 1/T*),
#: _ALPHA_MIN) with T* = k_B T / |u_min| (u_min the potential's minimum on the grid). Chosen
#: on tuning states disjoint from the validation table (``benchmarks/liquid_bench.py
#: --alpha-scan``; docs/liquid.md).
_VM_ALPHA_A, _VM_ALPHA_B = 0.74, 0.2
#: Width of the smooth floor of alpha at 0.5: alpha = 0.5 + w softplus((raw - 0.5) / w); it
#: moves alpha by < 1e-5 where raw >= 0.66 (T* >= 0.72, the validated range).
_VM_ALPHA_FLOOR_WIDTH = 0.02
#: Low-density switch of "vm": w = 1 - exp(-(rho* / _SWITCH_RHO)^_SWITCH_POWER), rho* = rho
#: length_scale^3. Chosen on tuning states disjoint from the validation table (docs/liquid.md).
_SWITCH_RHO, _SWITCH_POWER = 0.5, 4
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
        Fixed-point iterations used, all ramp stages together (for
        ``"vm_consistent"`` also those of every solve of its parameter search,
        the three densities of each evaluation counted separately).
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
    closure_params
        Parameters (w, alpha) of the Verlet-modified closures, shape (2,): the
        weight w of the WCA split in gamma* = gamma - w beta u_att and Verlet's
        alpha (B/2); for ``"vm_consistent"`` the values that make the two
        routes agree. NaN for ``"hnc"`` and ``"py"``.
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
    closure_params: jax.Array


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


def _vm_switch(rho_star):
    """Weight w of the WCA split in "vm": 1 - exp(-(rho*/0.5)^4), O(rho*^4) as rho* -> 0."""
    return -jnp.expm1(-((rho_star / _SWITCH_RHO) ** _SWITCH_POWER))


def vm_alpha(T_star):
    r"""Verlet parameter alpha of the default closure ``"vm"`` at reduced temperature T*.

    .. math:: \alpha(T^*) \approx \max\big(0.74 + 0.2\,(1 - 1/T^*),\ 0.5\big)

    with the maximum taken smoothly (0.5 + 0.02 softplus((raw - 0.5)/0.02), within 1e-5
    of the plain maximum at T* >= 0.72, 0.514 where raw = 0.5, so that the log density
    of a calibration has no kink where alpha meets its floor)

    (0.8 at T* = 1.43, 0.66 at T* = 0.72, 0.89 at T* = 4, 0.94 as T* -> infinity, the
    value a purely repulsive potential gets). Verlet's constant 0.8 is right near the
    LJ critical temperature but too large in the cold dense liquid and too small in
    the hot dense fluid (p* off by -0.40 at T* = 4, rho* = 0.9); the consistent closure
    ``"vm_consistent"`` finds alpha* = 0.68 and 0.86 at T* = 0.72 and 4 on the same
    dense states. The two constants are ours, chosen on tuning states disjoint from
    the validation table (``python benchmarks/liquid_bench.py --alpha-scan``,
    docs/liquid.md).

    Parameters
    ----------
    T_star
        k_B T / |u_min|, u_min the potential's minimum on the grid (epsilon for LJ).
        Array-like; ``inf`` for a potential without attraction.

    Returns
    -------
    jax.Array
        alpha, in (0.5, 0.94).
    """
    return _vm_alpha_inv(1.0 / jnp.asarray(T_star, dtype=float))


def _vm_alpha_inv(inv_T_star):
    # in 1/T* so that a potential without attraction (1/T* = 0) has finite gradients;
    # the floor at _ALPHA_MIN is smooth (softplus of width _VM_ALPHA_FLOOR_WIDTH): a kink in
    # alpha would be a kink in the log density, which NUTS answers with divergences
    raw = _VM_ALPHA_A + _VM_ALPHA_B * (1.0 - inv_T_star)
    w = _VM_ALPHA_FLOOR_WIDTH
    return _ALPHA_MIN + w * jax.nn.softplus((raw - _ALPHA_MIN) / w)


def _bridge(name, gamma, beta_u_att, alpha):
    """Bridge function B(r) of a closure (0 for HNC).

    ``beta_u_att`` is w beta u_att (the split already weighted); ``alpha`` is the
    Verlet parameter (:func:`vm_alpha` for "vm", 0.8 for "vm_wca", solved for
    "vm_consistent").
    """
    gs = gamma - beta_u_att
    if name in ("vm", "vm_wca"):
        # alpha < 1 (vm_alpha), so the denominator stays >= 1 - alpha > 0
        return -0.5 * gs**2 / (1.0 + alpha * jnp.maximum(gs, -1.0))
    if name == "vm_consistent":
        # Choudhury-Ghosh form: the denominator acts only where gamma* > 0, so it stays >= 1
        # for every alpha >= 0 (Verlet's clamp at gamma* = -1 would vanish at alpha = 1).
        return -0.5 * gs**2 / (1.0 + alpha * jnp.maximum(gs, 0.0))
    return jnp.zeros_like(gamma)


def _closure(name, gamma, boltz, beta_u_att, alpha):
    """c(r) from gamma(r); ``boltz`` = exp(-beta u) on the grid."""
    if name == "hnc":
        return boltz * jnp.exp(gamma) - 1.0 - gamma
    if name == "py":
        return (boltz - 1.0) * (1.0 + gamma)
    if name in _VM_FAMILY:
        return boltz * jnp.exp(gamma + _bridge(name, gamma, beta_u_att, alpha)) - 1.0 - gamma
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
    beta_u_att: jax.Array  # w beta u_att (0 outside the VM family)
    rho: jax.Array
    alpha: jax.Array  # Verlet parameter of the VM family (0.8 except for vm_consistent)


def _oz_map(closure, inputs, gamma):
    """One Picard step gamma -> G(gamma); also returns 1 - rho c_hat(k)."""
    grid = inputs.grid
    c = _closure(closure, gamma, inputs.boltz, inputs.beta_u_att, inputs.alpha)
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


# ----------------------------------------------------------------------------- consistent VM

#: Path of "vm_consistent" through its parameters (w, alpha), lam in [-1, 2]: on [0, 1] w rises
#: from the default closure's w(rho*) to 1 at alpha = 0.8; on [1, 2] alpha falls from 0.8 to
#: _ALPHA_MIN at w = 1; on [-1, 0] alpha rises from 0.8 to _ALPHA_MAX at the default w. lam = 0
#: is Verlet's alpha = 0.8 with "vm"'s switch (up to the Choudhury-Ghosh denominator; "vm" itself
#: now takes alpha from vm_alpha(T*)). Along the path the virial slope
#: times S(0) falls (measured at every state of the table in docs/liquid.md).
_LAMBDA_MIN, _LAMBDA_MAX = -1.0, 2.0
_ALPHA_MIN, _ALPHA_MAX = 0.5, 1.6
_LAMBDA_STEP = 0.5  # bracketing step along the path
_FD_STEP = 5e-4  # relative density step of the central difference of the virial pressure
#: Root tolerance on |beta (dp_v/drho) S(0) - 1|: 1e4 tol (1e-6 at the default tol = 1e-10),
#: within [_MISMATCH_TOL_MIN, _MISMATCH_TOL_MAX]; below ~1e4 tol the difference quotient is noise.
_MISMATCH_TOL_FACTOR, _MISMATCH_TOL_MIN, _MISMATCH_TOL_MAX = 1e4, 1e-9, 1e-6
_MISMATCH_ACCEPT = 1e-2  # largest mismatch accepted where the path holds no root
_MAX_EVALUATIONS = 40  # of the mismatch (three OZ solves each)
_CONSISTENCY_SOLVE_TOL = 1e-10  # the solves inside the root find use at most this tol


def _path(lam, w_default):
    """Closure parameters (w, alpha) of "vm_consistent" at path coordinate ``lam``."""
    down = jnp.clip(-lam, 0.0, 1.0)
    mid = jnp.clip(lam, 0.0, 1.0)
    up = jnp.clip(lam - 1.0, 0.0, 1.0)
    w = w_default + (1.0 - w_default) * mid
    alpha = _VM_A + (_ALPHA_MAX - _VM_A) * down - (_VM_A - _ALPHA_MIN) * up
    return jnp.stack([w, alpha])


def _default_w(potential, params, rho):
    """The default closure's w at density rho (1/angstrom^3)."""
    return _vm_switch(jnp.asarray(rho, dtype=float) * potential.length_scale(**params) ** 3)


def _consistency_states(potential, params, T_K, rho, n, dr, lam):
    """Inputs at rho (1 - d), rho and rho (1 + d) (leading axis 3), with the closure
    parameters of path point ``lam`` frozen at their values for rho."""
    rho = jnp.asarray(rho, dtype=float)
    cparams = _path(lam, _default_w(potential, params, rho))
    rhos = rho * jnp.array([1.0 - _FD_STEP, 1.0, 1.0 + _FD_STEP])

    def prepare(r):
        return _prepare(potential, params, T_K, r, "vm_consistent", n, dr, cparams)

    return jax.vmap(prepare)(rhos)


def _mismatch(potential, params, n, states, gamma3, ok3, finite3):
    """(beta dp_v/drho S(0) - 1, worst status) from the three solutions of the states."""
    inputs3, u3, kt3, cp3 = states

    def finish(inputs, u, kt, cp, gamma, ok, finite):
        return _finish(
            potential, params, "vm_consistent", n, (inputs, u, kt, cp), (gamma, 0, ok, finite)
        )

    sols = jax.vmap(finish)(inputs3, u3, kt3, cp3, gamma3, ok3, finite3)
    beta_p = sols.pressure_MPa / (kt3 * KJ_PER_MOL_PER_A3_IN_MPA)  # 1/angstrom^3
    slope = (beta_p[2] - beta_p[0]) / (inputs3.rho[2] - inputs3.rho[0])
    return slope * sols.S0[1] - 1.0, jnp.max(sols.status)


class _Path(NamedTuple):
    """The static part of the vm_consistent path solve (nondiff in its custom VJP)."""

    potential: Any
    opts: Any  # _Options
    n: int
    ramp: int


class _PathPoint(NamedTuple):
    """One state along the path: what :func:`_evaluate_lambda` solves at each lam."""

    potential: Any
    opts: Any
    n: int
    params: Any
    T_K: Any
    rho: Any
    dr: Any


class _ChunkSetup(NamedTuple):
    """What every chunk of :func:`solve_batch` shares (bound once by functools.partial)."""

    potential: Any
    closure: str
    n: int
    opts: Any
    n_ramp: int
    stages: int
    solve_params: bool
    no_dr: bool


class _RootState(NamedTuple):
    """Loop state of :func:`_find_lambda` (scalars unless noted)."""

    a: jax.Array  # last valid point on the start's side of the root
    m_a: jax.Array  # mismatch there (halved by the Illinois rule)
    b: jax.Array  # other end of the bracket, once bracketed
    m_b: jax.Array  # mismatch there: NaN where the solve failed
    bracketed: jax.Array
    sign_change: jax.Array  # a valid mismatch of the other sign was seen (a root is bracketed)
    side: jax.Array  # end replaced by the last evaluation: 1 (a), -1 (b), 0 (none yet)
    best: jax.Array  # valid point with the smallest |mismatch| so far
    m_best: jax.Array
    gamma_best: jax.Array  # (3, n - 1): solutions there
    gamma_a: jax.Array  # (3, n - 1): solutions at a (warm start of the next evaluation)
    count: jax.Array  # mismatch evaluations
    iterations: jax.Array  # Anderson iterations, all solves together
    done: jax.Array


def _find_lambda(path: _Path, params, T_K, rho, dr, gamma0):
    """Root of the consistency mismatch along the path (forward only, no gradient).

    Bracketing from lam = 0 (the default closure) in steps of _LAMBDA_STEP towards the
    side where the mismatch m(lam) has the other sign (m falls along the path), then the
    Illinois variant of regula falsi (bisection while an end of the bracket is a failed
    solve). A failed solve counts as lying beyond the root. Each evaluation solves the
    three states warm-started from the last valid point's solutions.

    Hand-written rather than a library root finder (optimistix) because each evaluation
    carries the previous one's OZ solutions as its warm start, which a pure ``fn(y, args)``
    cannot, and because the solves are reverse-mode only (custom VJP), so the implicit
    gradient is taken by :func:`_consistent_lambda` itself.

    Returns (lam, solutions (3, n - 1) at lam, status, iterations, is_root).
    """
    potential, opts, n, ramp = path
    opts = opts._replace(tol=min(opts.tol, _CONSISTENCY_SOLVE_TOL))
    tol_m = min(max(_MISMATCH_TOL_FACTOR * opts.tol, _MISMATCH_TOL_MIN), _MISMATCH_TOL_MAX)
    evaluate = functools.partial(
        _evaluate_lambda, _PathPoint(potential, opts, n, params, T_K, rho, dr)
    )
    gamma0 = jnp.broadcast_to(gamma0, (3, n - 1))
    m0, g0, it0, status0 = evaluate(jnp.asarray(0.0), gamma0, ramp)
    direction = jnp.where(m0 > 0, 1.0, -1.0)
    body = functools.partial(_root_step, evaluate, m0, direction, tol_m)
    init = _root_init(m0, g0, it0, tol_m)
    s = jax.lax.while_loop(lambda s: ~s.done, body, init)
    status, is_root = _root_outcome(s, m0, status0, tol_m)
    return s.best, s.gamma_best, status, s.iterations, is_root


def _evaluate_lambda(point: _PathPoint, lam, gamma3, stages):
    """Mismatch at path coordinate lam: (m, solutions (3, n - 1), iterations, status)."""
    potential, opts, n, params, T_K, rho, dr = point
    states = _consistency_states(potential, params, T_K, rho, n, dr, lam)
    g3, it3, ok3, fin3 = _solve_gamma_batch("vm_consistent", opts, states[0], gamma3, stages)
    m, status = _mismatch(potential, params, n, states, g3, ok3, fin3)
    return m, g3, jnp.sum(it3), status


def _root_init(m0, g0, it0, tol_m):
    """The root search's state after the evaluation at lam = 0."""
    nan = jnp.asarray(jnp.nan)
    zero = jnp.asarray(0.0)
    return _RootState(
        a=zero,
        m_a=m0,
        b=zero,
        m_b=nan,
        bracketed=jnp.asarray(False),
        sign_change=jnp.asarray(False),
        side=jnp.asarray(0),
        best=zero,
        m_best=m0,
        gamma_best=g0,
        gamma_a=g0,
        count=jnp.asarray(1),
        iterations=it0,
        done=~jnp.isfinite(m0) | (jnp.abs(m0) <= tol_m),
    )


def _root_step(evaluate, m0, direction, tol_m, s):
    """One evaluation of the root search: a bracketing step, or Illinois / bisection."""
    step = jnp.clip(s.a + direction * _LAMBDA_STEP, _LAMBDA_MIN, _LAMBDA_MAX)
    falsi = s.a - s.m_a * (s.b - s.a) / (s.m_b - s.m_a)
    mid = 0.5 * (s.a + s.b)
    inner = jnp.where(jnp.isfinite(falsi) & ((falsi - s.a) * (falsi - s.b) < 0), falsi, mid)
    t = jnp.where(s.bracketed, inner, step)
    m, g3, it, _ = evaluate(t, s.gamma_a, 1)
    valid = jnp.isfinite(m)
    cross = ~valid | (jnp.sign(m) != jnp.sign(m0))
    keep_a = ~cross
    m_a = jnp.where(keep_a, m, s.m_a)
    m_b = jnp.where(cross, m, s.m_b)
    # Illinois: the end kept twice in a row has its value halved.
    m_a = jnp.where(s.bracketed & cross & (s.side == -1), 0.5 * m_a, m_a)
    m_b = jnp.where(s.bracketed & keep_a & (s.side == 1), 0.5 * m_b, m_b)
    a = jnp.where(keep_a, t, s.a)
    b = jnp.where(cross, t, s.b)
    bracketed = s.bracketed | cross
    better = valid & (jnp.abs(m) < jnp.abs(s.m_best))
    count = s.count + 1
    walked_out = ~bracketed & ((a <= _LAMBDA_MIN) | (a >= _LAMBDA_MAX))
    converged = valid & (jnp.abs(m) <= tol_m)
    collapsed = bracketed & (jnp.abs(b - a) <= 1e-10)
    return _RootState(
        a=a,
        m_a=m_a,
        b=b,
        m_b=m_b,
        bracketed=bracketed,
        sign_change=s.sign_change | (valid & cross),
        side=jnp.where(keep_a, 1, -1),
        best=jnp.where(better, t, s.best),
        m_best=jnp.where(better, m, s.m_best),
        gamma_best=jnp.where(better, g3, s.gamma_best),
        gamma_a=jnp.where(keep_a, g3, s.gamma_a),
        count=count,
        iterations=s.iterations + it,
        done=converged | walked_out | collapsed | (count >= _MAX_EVALUATIONS),
    )


def _root_outcome(s, m0, status0, tol_m):
    """(status, is_root) of a finished root search; falls back to the smallest mismatch."""
    accepted = jnp.abs(s.m_best) <= _MISMATCH_ACCEPT
    # A root: the mismatch changed sign along the path (the bracket then closes on it) or
    # vanished at the start. Otherwise lam is an end of the path or of the solvable range.
    is_root = (s.sign_change | (jnp.abs(m0) <= tol_m)) & accepted
    status = jnp.where(
        ~jnp.isfinite(m0),
        jnp.where(status0 == CONVERGED, NONFINITE, status0),
        jnp.where(
            accepted,
            CONVERGED,
            jnp.where(s.bracketed & (s.count >= _MAX_EVALUATIONS), MAX_ITER, NONPHYSICAL),
        ),
    ).astype(jnp.int32)
    return status, is_root


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _consistent_lambda(path: _Path, params, T_K, rho, dr, gamma0):
    """Path coordinate of "vm_consistent" at one state, differentiable in (params, T, rho, dr).

    Returns (lam, gamma at rho, status, iterations); only lam carries a gradient.
    """
    lam, gamma3, status, iterations, _ = _find_lambda(path, params, T_K, rho, dr, gamma0)
    return lam, gamma3[1], status, iterations


def _consistent_lambda_fwd(path: _Path, params, T_K, rho, dr, gamma0):
    lam, gamma3, status, iterations, is_root = _find_lambda(path, params, T_K, rho, dr, gamma0)
    res = (params, T_K, rho, dr, gamma0, lam, gamma3, is_root)
    return (lam, gamma3[1], status, iterations), res


def _consistent_lambda_bwd(path: _Path, res, ct):
    params, T_K, rho, dr, gamma0, lam, gamma3, is_root = res
    potential, opts, n, _ = path

    # Implicit function theorem on m(theta, lam*) = 0: dlam/dtheta = -(dm/dtheta) / (dm/dlam),
    # both from one reverse pass through the three fixed points (their own adjoints).
    def mismatch(params, T_K, rho, dr, lam):
        states = _consistency_states(potential, params, T_K, rho, n, dr, lam)
        g3 = _fixed_point_batch("vm_consistent", opts, states[0], gamma3)
        ok = jnp.ones(3, bool)
        return _mismatch(potential, params, n, states, g3, ok, ok)[0]

    _, vjp = jax.vjp(mismatch, params, T_K, rho, dr, lam)
    *grads, g_lam = vjp(jnp.ones((), dtype=float))
    # No root (an end of the path was kept, e.g. at vapour densities): lam is a constant.
    scale = jnp.where(is_root, -ct[0] / g_lam, 0.0)
    grads = jax.tree.map(lambda x: x * scale, tuple(grads))
    return (*grads, jnp.zeros_like(gamma0))


_consistent_lambda.defvjp(_consistent_lambda_fwd, _consistent_lambda_bwd)


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


def boltzmann_limits(potential, params, r, T_K, dr):
    """exp(-u/kT) at radii ``r`` from below and from above each breakpoint.

    Parameters
    ----------
    potential, params
        The pair potential and its parameters (internal units).
    r
        Radii, angstrom (a solution's grid).
    T_K
        Temperature, K.
    dr
        The grid's spacing, angstrom: the limits are taken 1e-7 dr either side of ``r``,
        as the solver takes them (its node value at a breakpoint is their mean).

    Returns
    -------
    (below, above)
        Equal arrays for a potential without breakpoints (no discontinuity).
    """
    beta = 1.0 / (GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(T_K, dtype=float))
    if not tuple(potential.breakpoints(**params)):
        e = _potential_and_boltzmann(potential, params, r, beta)[1]
        return e, e
    (_, below), (_, above) = _one_sided(potential, params, r, beta, dr)
    return below, above


def _one_sided(potential, params, r, beta, dr):
    """(u, exp(-beta u)) 1e-7 dr below and above the radii ``r``: a breakpoint's limits."""
    delta = 1e-7 * dr
    return (
        _potential_and_boltzmann(potential, params, r - delta, beta),
        _potential_and_boltzmann(potential, params, r + delta, beta),
    )


def _boltzmann(potential, params, r, beta, dr):
    """exp(-beta u) and u on the grid, with the mean of one-sided limits at breakpoints."""
    if not tuple(potential.breakpoints(**params)):
        u, e = _potential_and_boltzmann(potential, params, r, beta)
        return e, u
    (u_lo, e_lo), (u_hi, e_hi) = _one_sided(potential, params, r, beta, dr)
    return 0.5 * (e_lo + e_hi), 0.5 * (u_lo + u_hi)


def _virial_smooth(potential, params, r, beta):
    """d exp(-beta u)/dr = -beta u'(r) exp(-beta u) on the grid (0 in a hard core)."""

    def e_of_r(x):
        return _potential_and_boltzmann(potential, params, x, beta)[1]

    return jax.jvp(e_of_r, (r,), (jnp.ones_like(r),))[1]


def _check(closure, n, ramp, memory, closure_params=None):
    if closure not in CLOSURES:
        raise ValueError(f"unknown closure {closure!r}; expected one of {', '.join(CLOSURES)}")
    if closure_params is not None:
        if closure != "vm_consistent":
            raise ValueError(
                "closure_params (w, alpha) applies only to closure='vm_consistent' (it freezes "
                f"the parameters that closure otherwise solves for), got closure={closure!r}"
            )
        shape = np.shape(closure_params)
        if shape[-1:] != (2,) or len(shape) > 2:
            raise ValueError(
                "closure_params must have shape (2,) (w, alpha) or, in solve_batch, (B, 2); "
                f"got shape {shape}"
            )
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
    closure_params=None,
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
        ``"hnc"``, ``"py"``, ``"vm"``, ``"vm_wca"`` or ``"vm_consistent"`` (see
        the module docstring).
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
    closure_params
        Only for ``"vm_consistent"``: (w, alpha) to use instead of solving for
        them (the closure is then not consistent in general; used to check the
        consistency by finite differences at fixed parameters).

    Returns
    -------
    LiquidSolution
        Grids, g(r), S(k), c(r), status, iterations, pressure (MPa, virial
        route), kappa_T (1/MPa) and S(0) (compressibility route), excess energy
        per particle (kJ/mol), the closure parameters (w, alpha). Scalars are
        NaN unless ``status == CONVERGED``.

    Raises
    ------
    ValueError
        For an unknown closure, a bad grid size, ramp, memory or gamma0, or
        ``closure_params`` with another closure than ``"vm_consistent"`` (before
        any tracing).
    """
    _check(closure, n, ramp, memory, closure_params)
    opts = _options(memory, mixing, tol, max_iter, adjoint_tol)
    gamma_init, n_ramp = _single_start(gamma0, n, ramp)
    pre_status, pre_iterations, cparams = jnp.asarray(CONVERGED), jnp.asarray(0), None
    if closure == "vm_consistent" and closure_params is None:
        lam, gamma_c, pre_status, pre_iterations = _consistent_lambda(
            _Path(potential, opts, n, n_ramp), params, T_K, rho_per_A3, dr, gamma_init
        )
        cparams = _path(lam, _default_w(potential, params, rho_per_A3))
        gamma_init, n_ramp = gamma_c, 1
    elif closure == "vm_consistent":
        cparams = jnp.asarray(closure_params, dtype=float)
    sol = _solve_one(
        potential, params, T_K, rho_per_A3, closure=closure, n=n, dr=dr, opts=opts,
        gamma_init=gamma_init, n_ramp=n_ramp, cparams=cparams,
    )  # fmt: skip
    return _with_prior_status(sol, pre_status, pre_iterations)


def _options(memory, mixing, tol, max_iter, adjoint_tol):
    """The solver options of :func:`solve` and :func:`solve_batch`."""
    return _Options(memory, float(mixing), float(tol), int(max_iter), float(adjoint_tol))


def _single_start(gamma0, n, ramp):
    """(starting gamma, ramp stages) of :func:`solve`; raises for a gamma0 of the wrong shape."""
    if gamma0 is None:
        gamma_init, n_ramp = jnp.zeros(n - 1), ramp
    else:
        gamma_init, n_ramp = jnp.asarray(gamma0, dtype=float), 1
    if gamma_init.shape != (n - 1,):
        raise ValueError(
            f"gamma0 must have shape ({n - 1},) (n - 1 points), got {gamma_init.shape}"
        )
    return gamma_init, n_ramp


def _solve_one(potential, params, T_K, rho, *, closure, n, dr, opts, gamma_init, n_ramp, cparams):
    """One state's OZ solve from gamma_init, with the closure parameters cparams."""
    inputs, u, kt, cparams = _prepare(potential, params, T_K, rho, closure, n, dr, cparams)
    # Fixed-point values carry no gradient of their own: it comes from _fixed_point.
    stopped = jax.tree.map(jax.lax.stop_gradient, inputs)
    gamma, iterations, ok, finite = _solve_gamma(
        closure, opts, stopped, jax.lax.stop_gradient(gamma_init), n_ramp
    )
    gamma = _fixed_point(closure, opts, inputs, jax.lax.stop_gradient(gamma))
    return _finish(
        potential, params, closure, n, (inputs, u, kt, cparams), (gamma, iterations, ok, finite)
    )


def _with_prior_status(sol, pre_status, pre_iterations):
    """A solution whose status is ``pre_status`` (the parameter solve's) unless that is 0,
    with the parameter solve's iterations added."""
    status = jnp.where(pre_status != CONVERGED, pre_status, sol.status).astype(jnp.int32)
    valid = status == CONVERGED

    def ok_or_nan(x):
        return jnp.where(valid, x, jnp.nan)

    return sol._replace(
        status=status,
        iterations=sol.iterations + pre_iterations,
        pressure_MPa=ok_or_nan(sol.pressure_MPa),
        kappa_T_per_MPa=ok_or_nan(sol.kappa_T_per_MPa),
        S0=ok_or_nan(sol.S0),
        energy_kJ_per_mol=ok_or_nan(sol.energy_kJ_per_mol),
    )


def _prepare(potential, params, T_K, rho_per_A3, closure, n, dr, closure_params=None):
    """Grid and closure inputs at one state.

    Returns (inputs, u on the grid, kT in kJ/mol, closure parameters (w, alpha)).
    ``closure_params`` (w, alpha) is required for "vm_consistent" and ignored otherwise.
    """
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
    if closure in _VM_FAMILY:
        i_min = jnp.argmin(jnp.where(boltz > 0, u, jnp.inf))
        u_att = jnp.where(jnp.arange(n - 1) < i_min, u[i_min], u)
        if closure == "vm":
            w = _vm_switch(rho * potential.length_scale(**params) ** 3)
            # 1/T* = beta |u_min|; 0 (alpha's high-T limit) for a potential without attraction
            alpha = _vm_alpha_inv(beta * jnp.maximum(-u[i_min], 0.0))
        elif closure == "vm_wca":
            w, alpha = 1.0, _VM_A
        else:
            w, alpha = closure_params[0], closure_params[1]
        w = jnp.asarray(w, dtype=float)
        alpha = jnp.asarray(alpha, dtype=float)
        beta_u_att = w * beta * u_att
        cparams = jnp.stack([w, alpha])
    else:
        beta_u_att = jnp.zeros_like(r)
        alpha = jnp.asarray(0.0)
        cparams = jnp.full(2, jnp.nan)
    inputs = _Inputs(grid=grid, boltz=boltz, beta_u_att=beta_u_att, rho=rho, alpha=alpha)
    return inputs, u, kt, cparams


def _finish(potential, params, closure, n, prepared, solved):
    """LiquidSolution at one state from the converged gamma (differentiable through it).

    ``prepared``: (inputs, u, kt, cparams) of :func:`_prepare`; ``solved``: (gamma,
    iterations, ok, finite) of the fixed-point solve.
    """
    inputs, u, kt, cparams = prepared
    gamma, iterations, ok, finite = solved
    grid, boltz, beta_u_att, rho, alpha = inputs
    r, dr = grid.r, grid.dr
    beta = 1.0 / kt
    c = _closure(closure, gamma, boltz, beta_u_att, alpha)
    # y = g exp(beta u) = exp(gamma + B) (HNC, VM) or 1 + gamma (PY): continuous.
    if closure == "py":
        y = 1.0 + gamma
    else:
        y = jnp.exp(gamma + _bridge(closure, gamma, beta_u_att, alpha))
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
        closure_params=cparams,
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
    closure_params=None,
) -> LiquidSolution:
    r"""Solve the OZ equation for a batch of parameter draws (or states), in chunks.

    The same solutions as ``jax.vmap`` of :func:`solve`, member by member, at a
    higher throughput for many draws (module docstring, "Batches"). Chunks of
    ``chunk`` members are done one after another (``jax.lax.map``); within a
    chunk one Anderson iteration advances all members together, each with its
    own convergence test, ramp stage, history and status, so one that fails
    (e.g. a state inside the closure's spinodal) gets its own status and NaN
    outputs without affecting the rest.

    jit-able (``potential``, ``closure``, ``n``, ``chunk``, ``ramp`` and
    ``memory`` static) and differentiable in ``params_batch``, ``T_K`` and
    ``rho_per_A3`` by implicit differentiation at each member's fixed point
    (the adjoint systems of a chunk solved together, as in :func:`solve`).

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
    closure_params
        As in :func:`solve`, shape (2,) (shared) or (B, 2).

    For ``"vm_consistent"`` each member's parameters are first solved for one
    member after another (``jax.lax.map``), then the chunk is solved as above.

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
    _check(closure, n, ramp, memory, closure_params)
    if not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk must be an int >= 1, got {chunk!r}")
    size = _batch_size(params_batch, T_K, rho_per_A3, dr, gamma0, n)
    chunk = min(chunk, size)
    if gamma0 is None:
        gamma_init, n_ramp = jnp.zeros(n - 1), ramp
    else:
        gamma_init, n_ramp = gamma0, 1
    args = _chunked_args(
        params_batch, T_K, rho_per_A3, dr, gamma_init, closure_params, n=n, size=size, chunk=chunk
    )
    one_chunk = _chunk_solver(
        potential, closure, n, _options(memory, mixing, tol, max_iter, adjoint_tol), n_ramp,
        closure_params, dr is None,
    )  # fmt: skip
    out = jax.lax.map(one_chunk, args)
    return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:])[:size], out)


def _chunk_solver(potential, closure, n, opts, n_ramp, closure_params, default_dr):
    """The solve of one chunk of :func:`solve_batch` (a function of its arguments)."""
    solve_params = closure == "vm_consistent" and closure_params is None
    stages = 1 if solve_params else n_ramp
    return functools.partial(
        _solve_chunk,
        _ChunkSetup(potential, closure, n, opts, n_ramp, stages, solve_params, default_dr),
    )


def _chunked_args(
    params_batch, T_K, rho_per_A3, dr, gamma_init, closure_params, *, n, size, chunk
):
    """The batched arguments of :func:`solve_batch`, shaped (n_chunks, chunk, ...)."""
    n_chunks = -(-size // chunk)
    # Pad with copies of the last member: they converge with it and are cut off below.
    take = jnp.minimum(jnp.arange(n_chunks * chunk), size - 1)

    def batched(value, tail=()):
        value = jnp.asarray(value, dtype=float)
        if value.ndim == len(tail):
            value = jnp.broadcast_to(value, (size, *tail))
        return value[take].reshape(n_chunks, chunk, *tail)

    return (
        {k: batched(v) for k, v in params_batch.items()},
        batched(T_K),
        batched(rho_per_A3),
        None if dr is None else batched(dr),
        batched(gamma_init, (n - 1,)),
        batched(jnp.zeros(2) if closure_params is None else closure_params, (2,)),
    )


def _solve_chunk(setup: _ChunkSetup, chunk_args):
    """One chunk of :func:`solve_batch`: its members' solutions (leading axis chunk)."""
    potential, closure, n, opts, n_ramp, stages, solve_params, no_dr = setup

    def prepare(params, T, rho, dr_, cparams):
        dr_ = None if no_dr else dr_
        return _prepare(potential, params, T, rho, closure, n, dr_, cparams)

    def finish(params, prepared, solved):
        return _finish(potential, params, closure, n, prepared, solved)

    def member_lambda(member_args):
        params, T, rho, dr_, gamma_start = member_args
        dr_ = None if no_dr else dr_
        return _consistent_lambda(
            _Path(potential, opts, n, n_ramp), params, T, rho, dr_, gamma_start
        )

    params, T, rho, dr_, gamma_start, cparams = chunk_args
    if solve_params:
        lam, gamma_start, pre_status, pre_iterations = jax.lax.map(
            member_lambda, (params, T, rho, dr_, gamma_start)
        )
        w_default = jax.vmap(lambda p, r: _default_w(potential, p, r))(params, rho)
        cparams = jax.vmap(_path)(lam, w_default)
    inputs, u, kt, cparams = jax.vmap(prepare)(params, T, rho, dr_, cparams)
    stopped = jax.tree.map(jax.lax.stop_gradient, inputs)
    gamma, iterations, ok, finite = _solve_gamma_batch(
        closure, opts, stopped, jax.lax.stop_gradient(gamma_start), stages
    )
    gamma = _fixed_point_batch(closure, opts, inputs, jax.lax.stop_gradient(gamma))
    sols = jax.vmap(finish)(params, (inputs, u, kt, cparams), (gamma, iterations, ok, finite))
    if solve_params:
        sols = jax.vmap(_with_prior_status)(sols, pre_status, pre_iterations)
    return sols


# ----------------------------------------------------------------------------- closure error

#: Regions of :func:`closure_error_floor`, in the potential's reduced units (T* = k_B T /
#: epsilon, rho* = rho sigma^3), split at the critical point of the Thol et al. (2016) LJ EOS,
#: T*_c = 1.32 and rho*_c = 0.31: ``supercritical`` T* >= 1.32; ``liquid`` T* < 1.32 and
#: rho* >= 0.31; ``vapour`` T* < 1.32 and rho* < 0.31.
CLOSURE_ERROR_REGIONS = ("vapour", "liquid", "supercritical")
_T_STAR_CRITICAL, _RHO_STAR_CRITICAL = 1.32, 0.31
#: The validated box: T* and rho* of the table's states (the two-phase region excepted).
_VALIDATED_T_STAR, _VALIDATED_RHO_STAR = (0.72, 4.0), (0.0, 0.9)

#: Upper bounds (|dp*|, |du*|, |du*/u*|, |dkappa_T/kappa_T|) of each closure's error against
#: the Thol EOS over the validation states of each region: the maxima over the states where
#: the closure converged, rounded up to two significant figures. Produced by
#: ``python benchmarks/liquid_bench.py --accuracy`` (N = 4096, dr = sigma/100), raw output
#: ``benchmarks/results/liquid_accuracy.json`` ("floor"); tests/observables/test_liquid.py
#: checks that these entries bound that file's maxima.
_CLOSURE_ERROR_TABLE = {
    "hnc": {
        "vapour": (0.0016, 0.055, 0.047, 3.0),
        "liquid": (1.9, 0.34, 0.057, 2.3),
        "supercritical": (3.7, 0.76, 0.23, 0.79),
    },
    "py": {
        "vapour": (0.00046, 0.018, 0.015, 0.044),
        "liquid": (1.5, 0.17, 0.028, 1.9),
        "supercritical": (1.1, 0.25, 0.073, 0.41),
    },
    "vm_wca": {
        "vapour": (0.015, 0.093, 0.2, 0.52),
        "liquid": (0.31, 0.055, 0.009, 0.42),
        "supercritical": (0.4, 0.086, 0.064, 0.51),
    },
    "vm": {
        "vapour": (0.00053, 0.018, 0.016, 0.045),
        "liquid": (0.072, 0.016, 0.0028, 0.25),
        "supercritical": (0.14, 0.022, 0.0067, 0.13),
    },
    "vm_consistent": {
        "vapour": (0.0013, 0.017, 0.015, 0.034),
        "liquid": (0.062, 0.017, 0.0034, 0.23),
        "supercritical": (0.11, 0.025, 0.0071, 0.16),
    },
}


class ClosureErrorFloor(NamedTuple):
    """Validated closure-error bounds at given states (arrays broadcast from the inputs).

    Each bound holds on its own over the region's validation states: |p* - p*_Thol| <=
    ``dp_star``, |u* - u*_Thol| <= ``du_star``, |u*/u*_Thol - 1| <= ``du_rel`` and
    |kappa_T/kappa_T,Thol - 1| <= ``dkappa_rel`` (so the smaller of ``du_star`` and
    ``du_rel |u*|`` is a bound too). Reduced units: p* = p sigma^3/epsilon, u* = u/epsilon.

    Attributes
    ----------
    dp_star, du_star, du_rel, dkappa_rel
        The bounds (float arrays).
    region
        ``"vapour"``, ``"liquid"`` or ``"supercritical"`` (str array).
    validated
        True inside the validated box, 0.72 <= T* <= 4 and rho* <= 0.9; elsewhere the
        region's bound is returned but was not validated there.
    """

    dp_star: np.ndarray
    du_star: np.ndarray
    du_rel: np.ndarray
    dkappa_rel: np.ndarray
    region: np.ndarray
    validated: np.ndarray


def closure_error_floor(closure: str, T_star, rho_star) -> ClosureErrorFloor:
    r"""Validated upper bound on a closure's error for the LJ fluid, by state region.

    Pure NumPy (for building a model, not for use inside jit). The bounds are the
    maxima of the closure's errors against the Thol et al. (2016) LJ equation of state
    (doi:10.1063/1.4945000) over the validation states of the region (10 vapour, 12
    liquid, 22 supercritical states, T* 0.72-4, rho* 0.005-0.9; table in
    ``docs/liquid.md``), rounded up to two significant figures. Regions are split at
    the critical point of the same EOS (``CLOSURE_ERROR_REGIONS``):

    .. math::

        \text{supercritical}: T^* \ge 1.32, \quad
        \text{liquid}: T^* < 1.32,\ \rho^* \ge 0.31, \quad
        \text{vapour}: T^* < 1.32,\ \rho^* < 0.31.

    To convert to physical units for a potential with well depth epsilon and size
    sigma: dp = dp* epsilon / sigma^3, du = du* epsilon; the relative bounds carry over.
    States inside the vapour-liquid coexistence region are classified by density;
    none was validated (a closure may have no solution there: its status says so).

    Parameters
    ----------
    closure
        One of ``CLOSURES``.
    T_star
        Reduced temperature k_B T / epsilon (array-like).
    rho_star
        Reduced number density rho sigma^3 (array-like, broadcast with ``T_star``).

    Returns
    -------
    ClosureErrorFloor
        Bounds, region and whether the state lies in the validated box.

    Raises
    ------
    ValueError
        For an unknown closure, or a non-positive or non-finite T* or a negative or
        non-finite rho*.
    """
    if closure not in _CLOSURE_ERROR_TABLE:
        raise ValueError(f"unknown closure {closure!r}; expected one of {', '.join(CLOSURES)}")
    t, rho = np.broadcast_arrays(np.asarray(T_star, dtype=float), np.asarray(rho_star, float))
    if not (np.all(np.isfinite(t)) and np.all(t > 0)):
        raise ValueError(f"T_star must be finite and > 0, got {T_star!r}")
    if not (np.all(np.isfinite(rho)) and np.all(rho >= 0)):
        raise ValueError(f"rho_star must be finite and >= 0, got {rho_star!r}")
    region = np.where(
        t >= _T_STAR_CRITICAL,
        "supercritical",
        np.where(rho >= _RHO_STAR_CRITICAL, "liquid", "vapour"),
    )
    table = _CLOSURE_ERROR_TABLE[closure]
    bounds = np.array([table[name] for name in CLOSURE_ERROR_REGIONS])  # (region, 4)
    index = np.select(
        [region == name for name in CLOSURE_ERROR_REGIONS], range(len(CLOSURE_ERROR_REGIONS))
    )
    values = bounds[index]
    validated = (
        (t >= _VALIDATED_T_STAR[0])
        & (t <= _VALIDATED_T_STAR[1])
        & (rho >= _VALIDATED_RHO_STAR[0])
        & (rho <= _VALIDATED_RHO_STAR[1])
    )
    return ClosureErrorFloor(
        dp_star=values[..., 0],
        du_star=values[..., 1],
        du_rel=values[..., 2],
        dkappa_rel=values[..., 3],
        region=region,
        validated=validated,
    )
