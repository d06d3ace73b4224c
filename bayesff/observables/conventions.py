r"""Mapping parameters between cut-off conventions through B2.

A force field calibrated with one cut-off convention (the full potential, or
one truncated, shifted or force-shifted at r_c; see
:mod:`bayesff.potentials.cutoff`) is often used with another. The parameters
do not carry over unchanged: truncating the attractive tail makes B2 less
negative, so the same epsilon under a truncated potential is a weaker gas.

The scale factor
----------------
For a reference potential u_ref and a target potential u_to with the same
parameters theta, the factor s(T) on the energy parameters (epsilon) that
restores B2 solves, at each temperature,

.. math::

    F(x) = B_2^{to}(T;\, e^{x}\varepsilon, \ldots)
           - B_2^{ref}(T;\, \varepsilon, \ldots) = 0, \qquad s = e^{x}.

For the registered pair potentials u is linear in epsilon, so scaling epsilon
by s is the same as scaling T by 1/s, and B2(T; s eps) = b(T*/s) with
T* = k_B T / eps. b(T*) rises from -inf at T* -> 0 to a maximum (at T* = 25.2
for the full LJ; 22.8, 20.6 and 17.7 for LJ truncated, shifted and
force-shifted at 2.5 sigma) and decays slowly beyond it. F therefore has
exactly one root on the rising branch, where dB2/d eps < 0 at T*/s, and that
is the root returned: it is the physical one below the maximum (continuous
with s = 1 as the two conventions coincide). B2 = 0 at the Boyle temperature
(T* = 3.42 for LJ) is not special for F: we never divide by B2, only by
dF/dx = eps dB2/d eps, which is bounded away from 0 below the maximum.

Solver: the root is bracketed, then found by bisection (``optimistix``).
F is evaluated on a fixed grid of x = ln s (:data:`X_GRID`, s from e^-3 to
e^3); the rising-branch root is the one place where F goes from positive to
non-positive as x grows (F rises from -B2_ref at x -> -inf to the maximum of
B2 and falls to -inf after it, so that down-crossing is unique), and the
grid cell holding it is the bracket. :class:`optimistix.Bisection` then
narrows it to :data:`X_TOL` in x. A Newton iteration (optimistix's, or a
hand-written one) needs a start on the rising branch and a safeguard against
the other root on the falling branch; the bracket gives both for the price
of one grid of evaluations, and bisection cannot leave it. After the solve
the residual is checked; where it is not below 1e-9 of ``|B2_ref| + b0``
(b0 = 2 pi N_A l^3 / 3 with l the potential's length scale), or where the
grid shows no down-crossing (no root with s in [e^-3, e^3]), the result is
NaN, never a silently wrong number.

Derivatives: implicit function theorem. With x*(theta, T) the root,
dx*/dtheta = -(dF/dtheta) / (dF/dx), by optimistix's
:class:`~optimistix.ImplicitAdjoint` (forward and reverse mode), so gradients
cost one extra linearisation of F and never differentiate through the loop.
``jit`` and ``vmap`` (over parameter draws or temperatures) apply.

Limitations: near and beyond the maximum of b (T* > ~15 for LJ) B2 hardly
depends on epsilon, dF/dx -> 0, and s grows steeply (s = 1.38 at T* = 20 and
4.2 at T* = 50 for LJ truncated at 2.5 sigma): the mapping is ill-conditioned
there and not meaningful. Mapping a cut potential onto the full one (s < 1)
has no solution where the cut B2 exceeds the full B2's maximum (T* >~ 15 at
2.5 sigma); the result is NaN. Argon data stop at T* ~ 6.

The repair
----------
:func:`matched_predict` predicts B2 under the target convention with epsilon
mapped so that B2 under the target convention equals B2 under the
calibration convention at each temperature. For B2 itself this *is* the
calibration-convention prediction, by construction: the repair is the
convention mapping, not an independent prediction. Its honest tests are (i)
a T-independent mapping (one s at a reference temperature, applied at every
T: ``reference_T_K``), which shows how far a single rescaling of epsilon
carries, and (ii) observables other than B2 predicted with the mapped
parameters. ``docs/cutoffs.md`` shows both on argon.

References
----------
M. P. Allen and D. J. Tildesley, *Computer Simulation of Liquids*, 2nd ed.
(2017), section 2.8 (cut-off conventions); D. A. McQuarrie, *Statistical
Mechanics* (2000), ch. 12 (B2); W. H. Press et al., *Numerical Recipes*, 3rd
ed. (2007), section 9.1 (bracketing and bisection); P. Kidger et al.,
optimistix (root finding with implicit differentiation in JAX).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from bayesff.observables.virial import DEFAULT_NODES, second_virial
from bayesff.potentials import PairPotential
from bayesff.units import AVOGADRO

__all__ = [
    "MAX_STEPS",
    "X_GRID",
    "X_TOL",
    "epsilon_scale_factor",
    "matched_builder",
    "matched_predict",
    "unmatched_temperatures",
]

#: Grid of x = ln s on which the root is bracketed (s from e^-3 = 0.05 to e^3 = 20).
X_GRID = np.linspace(-3.0, 3.0, 25)
#: Width in x at which bisection stops (s to 1e-14 relative).
X_TOL = 1e-14
#: Most bisection steps: log2(0.25 / 1e-14) = 45 are needed from one grid cell.
MAX_STEPS = 64
#: Residual |F| accepted after the solve, relative to |B2_ref| + b0.
_RESIDUAL_RTOL = 1e-9
#: Angstrom^3 per molecule -> cm^3/mol.
_A3_TO_CM3_PER_MOL = AVOGADRO * 1e-24


def _energy_names(potential: PairPotential) -> tuple[str, ...]:
    names = tuple(p.name for p in potential.params if p.dimension == "energy")
    if not names:
        raise ValueError(
            f"potential {potential.name!r} has no energy parameter to scale; "
            f"its parameters are {', '.join(potential.param_names)}"
        )
    return names


def _check_pair(potential_ref: PairPotential, potential_to: PairPotential):
    for pot in (potential_ref, potential_to):
        if getattr(pot, "kind", None) != "pair":
            raise ValueError(f"B2 matching needs pair potentials, got {pot!r}")
    if potential_ref.param_names != potential_to.param_names:
        raise ValueError(
            "the two conventions must share the parameters: "
            f"{potential_ref.param_names} vs {potential_to.param_names}"
        )
    return _energy_names(potential_to)


def _scaled(params: dict, x, energy: tuple[str, ...]) -> dict:
    """Parameters with every energy parameter multiplied by s = e^x."""
    return {k: (v * jnp.exp(x) if k in energy else v) for k, v in params.items()}


def _make_solver(potential_ref, potential_to, nodes_per_panel, max_steps):
    """x = ln s as a function ``solve(params, T_flat) -> (n,)``, differentiable (implicit)."""

    energy = _check_pair(potential_ref, potential_to)
    bisection = optx.Bisection(rtol=0.0, atol=X_TOL, flip=True)  # F decreases across the root

    def residual(x, args):
        """F(x) / (|B2_ref| + b0) at one temperature: dimensionless, O(1)."""
        params, T, target, norm = args
        b2 = second_virial(
            potential_to, _scaled(params, x, energy), T, nodes_per_panel=nodes_per_panel
        )
        return (b2 - target) / norm

    def solve_one(params, T):
        grid = jnp.asarray(X_GRID)  # here, not at build time: a constant of this trace
        target = second_virial(potential_ref, params, T, nodes_per_panel=nodes_per_panel)
        b0 = 2.0 * jnp.pi / 3.0 * potential_to.length_scale(**params) ** 3 * _A3_TO_CM3_PER_MOL
        args = (params, T, target, jnp.abs(target) + b0)
        # the bracket: the grid cell where F turns from > 0 to <= 0 (NaN never brackets)
        f = jax.vmap(lambda x: residual(x, jax.lax.stop_gradient(args)))(grid)
        down = (f[:-1] > 0) & (f[1:] <= 0)
        k = jnp.argmax(down)
        lo, hi = grid[k], grid[k + 1]
        sol = optx.root_find(
            residual,
            bisection,
            0.5 * (lo + hi),
            args,
            options={"lower": lo, "upper": hi},
            max_steps=max_steps,
            throw=False,
        )
        x = sol.value
        good = down.any() & (jnp.abs(residual(x, jax.lax.stop_gradient(args))) <= _RESIDUAL_RTOL)
        return jnp.where(good, x, jnp.nan)

    def solve(params, T):
        return jax.vmap(solve_one, in_axes=(None, 0))(params, T)

    return solve


def _params_check(params: dict, potential: PairPotential):
    missing = set(potential.param_names) - set(params)
    if missing:
        raise ValueError(f"missing parameter(s) {', '.join(sorted(missing))} for {potential.name}")


def epsilon_scale_factor(
    potential_full: PairPotential,
    potential_cut: PairPotential,
    params: dict,
    T_K,
    *,
    nodes_per_panel: int = DEFAULT_NODES,
    max_steps: int = MAX_STEPS,
):
    r"""Factor s(T) on the energy parameters that makes B2 of the cut potential equal the full one.

    Solves :math:`B_2^{cut}(T;\, s\varepsilon) = B_2^{full}(T;\, \varepsilon)` at each
    temperature (see the module docstring for the solver and its derivative).
    Every parameter of dimension energy is multiplied by s (epsilon for LJ,
    Mie and the square well).

    Parameters
    ----------
    potential_full
        The reference convention (usually the untruncated potential), whose
        B2 is to be reproduced.
    potential_cut
        The convention whose energy parameters are rescaled (e.g.
        ``truncated(LENNARD_JONES, r_c)``). Any two conventions with the same
        parameters work: with the roles swapped, s < 1 maps a truncated
        calibration onto the full potential.
    params
        Parameters in internal units (kJ/mol, angstrom), scalars; vmap for
        batches of draws.
    T_K
        Temperature(s) in K, any shape.
    nodes_per_panel
        Gauss-Legendre nodes per panel of the B2 quadrature.
    max_steps
        Most bisection steps (the default reaches :data:`X_TOL`).

    Returns
    -------
    jax.Array
        s, shape of ``T_K``; NaN where the solver did not converge (far beyond
        the maximum of B2, or s outside [e^-3, e^3]; see the module docstring).

    Notes
    -----
    For LJ truncated at r_c, s > 1 (truncation removes attraction) and, to
    leading order in (sigma/r_c)^3,

    .. math:: s - 1 \approx \frac{8\pi N_A \varepsilon\, \sigma^6}{3 k_B T\, r_c^3}
              \Big/ \left(-\frac{\partial B_2}{\partial \ln\varepsilon}\right).
    """
    _params_check(params, potential_full)
    solve = _make_solver(potential_full, potential_cut, nodes_per_panel, max_steps)
    T = jnp.asarray(T_K, dtype=float)
    p = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
    x = solve(p, T.reshape(-1))
    return jnp.exp(x).reshape(T.shape)


def unmatched_temperatures(potential_full, potential_cut, params, T_K) -> np.ndarray:
    """Where the B2-matching factor has no solution: a boolean array over ``T_K``.

    :func:`epsilon_scale_factor` at ``params`` (internal units, scalars), solved in
    float64 whatever JAX's setting (in float32 the bracket's B2 differences lose the
    root), eagerly: the check a problem makes at its prior centre before sampling.
    """
    with jax.enable_x64(True):
        p = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
        T = jnp.asarray(np.asarray(T_K, float), jnp.float64)
        s = np.asarray(_compiled_scale_factor(potential_full, potential_cut)(p, T))
    return ~np.isfinite(s)


@functools.lru_cache(maxsize=32)
def _compiled_scale_factor(potential_full, potential_cut):
    """:func:`epsilon_scale_factor` compiled once per pair of conventions (eager, the
    bracket and bisection dispatch op by op: seconds per call; a sweep builds the same
    pair for every task)."""
    return jax.jit(lambda q, t: epsilon_scale_factor(potential_full, potential_cut, q, t))


def matched_predict(
    observable,
    potential_from: PairPotential,
    potential_to: PairPotential,
    nodes_per_panel: int = DEFAULT_NODES,
    *,
    reference_T_K: float | None = None,
    max_steps: int = MAX_STEPS,
):
    r"""Predictions under ``potential_to`` of parameters calibrated under ``potential_from``.

    The energy parameters are mapped as eps_to(T) = s(T) eps_from, with s
    solving :math:`B_2^{to}(T;\, s\varepsilon) = B_2^{from}(T;\, \varepsilon)`
    (:func:`epsilon_scale_factor` with ``potential_full=potential_from``,
    ``potential_cut=potential_to``).

    Parameters
    ----------
    observable
        An :class:`~bayesff.observables.Observable` or its name. Only
        ``"second_virial"`` for now.
    potential_from
        The convention the parameters were calibrated under.
    potential_to
        The convention to predict under.
    nodes_per_panel
        Gauss-Legendre nodes per panel of the B2 quadrature.
    reference_T_K
        ``None`` (default): s is solved at each environment temperature; for
        B2 the prediction then equals the ``potential_from`` prediction by
        construction (the repair is the convention mapping). A number: s is
        solved once at that temperature (K) and applied at every
        temperature, the T-independent rescaling of epsilon an MD user would
        make; how well it carries is the honest test of the repair.
    max_steps
        Most bisection steps of the root finder.

    Returns
    -------
    predict(params, env) -> jax.Array
        B2 in cm^3/mol at ``env["T_K"]``; jit-, vmap- and grad-compatible.

    Raises
    ------
    ValueError
        For an observable other than ``second_virial``, potentials that do
        not share parameters, or a reference temperature that is not a
        finite positive number.
    """
    name = observable if isinstance(observable, str) else getattr(observable, "name", None)
    if name != "second_virial":
        raise ValueError(
            f"repair 'match_b2' is implemented for observable 'second_virial' only, got {name!r}; "
            "predict other observables under the target convention without repair, or with "
            "parameters mapped by bayesff.observables.conventions.epsilon_scale_factor"
        )
    energy = _check_pair(potential_from, potential_to)
    if reference_T_K is not None:
        t_ref = float(reference_T_K)
        if not (t_ref > 0 and t_ref < float("inf")):
            raise ValueError(f"reference_T_K must be a finite temperature > 0 K, got {t_ref!r}")
    solve = _make_solver(potential_from, potential_to, nodes_per_panel, max_steps)

    def predict(params, env):
        T = jnp.asarray(env["T_K"], dtype=float)
        p = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
        if reference_T_K is None:
            x = solve(p, T.reshape(-1))
            flat = T.reshape(-1)

            def one(xi, ti):
                q = _scaled(p, xi, energy)
                return second_virial(potential_to, q, ti, nodes_per_panel=nodes_per_panel)

            return jax.vmap(one)(x, flat).reshape(T.shape)
        x = solve(p, jnp.asarray([t_ref]))[0]
        q = _scaled(p, x, energy)
        return second_virial(potential_to, q, T, nodes_per_panel=nodes_per_panel)

    return predict


def matched_builder(
    potential_to,
    *,
    observable,
    potential_from,
    reference_T_K=None,
    nodes_per_panel: int = DEFAULT_NODES,
):
    """Builder form of :func:`matched_predict` for a target's forward-model key.

    ``predict(params, env)`` of parameters calibrated under ``potential_from``
    predicted under ``potential_to`` with the B2-matching repair.
    """
    return matched_predict(
        observable,
        potential_from,
        potential_to,
        nodes_per_panel,
        reference_T_K=reference_T_K,
    )
