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

Solver: a fixed number of safeguarded Newton steps on x = ln s, vectorised
over temperatures. A bracket [lo, hi] with F(lo) > 0 > F(hi) is kept from the
iterates; a Newton step that leaves it, or is taken where dF/dx >= 0 (the
wrong branch), is replaced by bisection, or by a step of +0.5 in x while no
bracket is known (which climbs onto the rising branch, where the root is).
Steps are capped at 0.5 in x. From x = 0 the root is reached in 3-5 steps for
s within a factor of 2 of 1; the default 32 steps leave a margin. After the
loop the residual is checked; where it is not below 1e-9 of
``|B2_ref| + b0`` (b0 = 2 pi N_A l^3 / 3 with l the potential's length scale)
the result is NaN, never a silently wrong number.

Derivatives: implicit function theorem. With x*(theta, T) the root,
dx*/dtheta = -(dF/dtheta) / (dF/dx), implemented as a ``jax.custom_jvp``
(reverse mode works by transposition), so gradients cost one extra JVP of F
and never differentiate through the loop. ``jit`` and ``vmap`` (over
parameter draws or temperatures) apply.

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
ed. (2007), section 9.4 (rtsafe: Newton with bisection safeguard).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from bayesff.observables.virial import _A3_TO_CM3_PER_MOL, DEFAULT_NODES, second_virial
from bayesff.potentials._spec import PairPotential

__all__ = ["epsilon_scale_factor", "matched_builder", "matched_predict"]

#: Newton steps (fixed, so that the loop is a static ``fori_loop``).
DEFAULT_ITERATIONS = 32
#: Largest step in x = ln s.
_MAX_STEP = 0.5
#: Residual |F| accepted after the loop, relative to |B2_ref| + b0.
_RESIDUAL_RTOL = 1e-9
#: Residual below which the iteration stops (x frozen), same normalisation.
_FREEZE_RTOL = 1e-13


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


def _make_solver(potential_ref, potential_to, nodes_per_panel, iterations):
    """x = ln s as a function ``solve(params, T_flat) -> (n,)`` with an implicit JVP."""
    energy = _check_pair(potential_ref, potential_to)

    def scaled(params, x):
        return {k: (v * jnp.exp(x) if k in energy else v) for k, v in params.items()}

    def b2_to(params, x, T):
        # one temperature and one x: vmapped over both by the callers
        return second_virial(potential_to, scaled(params, x), T, nodes_per_panel=nodes_per_panel)

    def b2_ref(params, T):
        return second_virial(potential_ref, params, T, nodes_per_panel=nodes_per_panel)

    def residual(params, x, T, target):
        return jax.vmap(lambda xi, ti: b2_to(params, xi, ti))(x, T) - target

    def value_and_slope(params, x, T, target):
        return jax.jvp(lambda y: residual(params, y, T, target), (x,), (jnp.ones_like(x),))

    def solve_primal(params, T):
        target = b2_ref(params, T)
        scale = potential_to.length_scale(**params)
        b0 = 2.0 * jnp.pi / 3.0 * scale**3 * _A3_TO_CM3_PER_MOL
        zero = jnp.zeros_like(T)
        inf = jnp.full_like(T, jnp.inf)

        tol = _RESIDUAL_RTOL * (jnp.abs(target) + b0)

        def body(_, state):
            x, lo, hi, done = state
            f, df = value_and_slope(params, x, T, target)
            # Converged: freeze. Near the root the sign of F is rounding noise
            # (XLA may sum the quadrature in different orders in different
            # fusions), and a bracket built from noise would send x away.
            done = done | (jnp.abs(f) <= _FREEZE_RTOL * tol / _RESIDUAL_RTOL)
            # F decreases in x on the rising branch (df < 0), where the root is:
            # F > 0 anywhere means the root lies above x; F <= 0 with df < 0, below.
            lo = jnp.where(f > 0, jnp.maximum(lo, x), lo)
            hi = jnp.where((f <= 0) & (df < 0), jnp.minimum(hi, x), hi)
            newton = x - f / jnp.where(df < 0, df, -1.0)
            candidate = x + jnp.clip(newton - x, -_MAX_STEP, _MAX_STEP)
            bracketed = jnp.isfinite(lo) & jnp.isfinite(hi)
            ok = (df < 0) & (candidate >= lo) & (candidate <= hi)
            # wrong branch (df >= 0) and no bracket yet: climb towards larger s
            fallback = jnp.where(bracketed, 0.5 * (lo + hi), x + _MAX_STEP)
            x_new = jnp.where(ok, candidate, fallback)
            return jnp.where(done, x, x_new), lo, hi, done

        state = (zero, -inf, inf, jnp.zeros(T.shape, bool))
        x, _, _, _ = jax.lax.fori_loop(0, iterations, body, state)
        f = residual(params, x, T, target)
        good = jnp.abs(f) <= tol
        return jnp.where(good, x, jnp.nan)

    @jax.custom_jvp
    def solve(params, T):
        return solve_primal(params, T)

    @solve.defjvp
    def solve_jvp(primals, tangents):
        params, T = primals
        x = solve_primal(params, T)
        # F(x; params, T) = B2_to(T; s eps) - B2_ref(T; eps) with x held fixed
        f_of = lambda p, t: residual(p, x, t, b2_ref(p, t))  # noqa: E731
        _, f_dot = jax.jvp(f_of, (params, T), tangents)
        _, df_dx = value_and_slope(params, x, T, b2_ref(params, T))
        return x, -f_dot / df_dx

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
    iterations: int = DEFAULT_ITERATIONS,
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
    iterations
        Safeguarded Newton steps (fixed).

    Returns
    -------
    jax.Array
        s, shape of ``T_K``; NaN where the solver did not converge (far beyond
        the maximum of B2, see the module docstring).

    Notes
    -----
    For LJ truncated at r_c, s > 1 (truncation removes attraction) and, to
    leading order in (sigma/r_c)^3,

    .. math:: s - 1 \approx \frac{8\pi N_A \varepsilon\, \sigma^6}{3 k_B T\, r_c^3}
              \Big/ \left(-\frac{\partial B_2}{\partial \ln\varepsilon}\right).
    """
    _params_check(params, potential_full)
    solve = _make_solver(potential_full, potential_cut, nodes_per_panel, iterations)
    T = jnp.asarray(T_K, dtype=float)
    p = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
    x = solve(p, T.reshape(-1))
    return jnp.exp(x).reshape(T.shape)


def matched_predict(
    observable,
    potential_from: PairPotential,
    potential_to: PairPotential,
    nodes_per_panel: int = DEFAULT_NODES,
    *,
    reference_T_K: float | None = None,
    iterations: int = DEFAULT_ITERATIONS,
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
    iterations
        Safeguarded Newton steps (fixed).

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
    solve = _make_solver(potential_from, potential_to, nodes_per_panel, iterations)

    def predict(params, env):
        T = jnp.asarray(env["T_K"], dtype=float)
        p = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
        if reference_T_K is None:
            x = solve(p, T.reshape(-1))
            flat = T.reshape(-1)

            def one(xi, ti):
                q = {k: (v * jnp.exp(xi) if k in energy else v) for k, v in p.items()}
                return second_virial(potential_to, q, ti, nodes_per_panel=nodes_per_panel)

            return jax.vmap(one)(x, flat).reshape(T.shape)
        x = solve(p, jnp.asarray([t_ref]))[0]
        q = {k: (v * jnp.exp(x) if k in energy else v) for k, v in p.items()}
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
