r"""Molecular-dynamics targets: reweighting of prepared reference frames inside NUTS.

Three registered observables turn stored NVT reference runs of
:mod:`bayesff.observables.md` into ``predict(params, env, aux=...)`` functions
that a problem file can name, with the environment columns, value columns
and units of the integral-equation (IE) observables of
:mod:`bayesff.observables.structure`, so the same data files work for both:

=======================  ==================================  ==========================
observable               environment                         value (unit)
=======================  ==================================  ==========================
``md_pressure``          T_K, rho_per_A3                     p_MPa (MPa)
``md_energy``            T_K, rho_per_A3                     E_res_kJ_per_mol (kJ/mol,
                                                             excess energy per particle)
``md_structure_factor``  T_K, rho_per_A3, q_inv_angstrom     S_q (1)
=======================  ==================================  ==========================

Prepared data, never a simulation
---------------------------------
``predict`` is a pure function of arrays. The reference runs are made
beforehand, by ``bayesff prepare PROBLEM`` (:func:`bayesff.workflows.prepare.prepare`),
which calls :func:`state_arrays` on each run and writes the result as data
files; loading the problem puts them, stacked over the target's states by
:func:`target_aux`, into :attr:`bayesff.targets.Target.aux`, and the model
passes them as ``aux``. Everything in ``aux`` is data (arguments of the
compiled sampler), so a new reference (``bayesff refine``) reuses the
compiled code. Each row is mapped to its state inside JAX (env and aux may
be traced): the state whose (T, rho) equal the row's to 1e-9 relative; a
row without one predicts NaN (and loading the problem refuses it first).

``aux`` (leading axis S: the target's states):

==================================  =============================================
key                                 content
==================================  =============================================
``T_K``, ``rho_per_A3``             the state (K, 1/angstrom^3), (S,)
``n_particles``, ``volume_A3``      N and the box volume (angstrom^3), (S,)
``r_cut_angstrom``, ``tail``        cut-off of the run and 1.0 if the long-range
                                    tail is added (0.0 if not), (S,)
``reference``                       the run's parameters theta_0, internal units, in
                                    the potential's parameter order, (S, n_params)
``value0``, ``gradient0``           the MD average at theta_0 (the plain average of
                                    the frames) and its derivative in theta, (S,)
                                    and (S, n_params) [S(q): (S, n_q), (S, n_params,
                                    n_q) on the run's shells]
``r``, ``mask``, ``u_ref``          (reweight mode) pair distances within r_cut
                                    (angstrom), which entries are pairs, and each
                                    frame's energy at theta_0 (kJ/mol): (S, F, P),
                                    (S, F, P), (S, F)
``S_frames``                        (reweight mode, S(q)) per-frame S on the shells,
                                    (S, F, n_q)
``q``, ``q_max``                    (S(q)) the shells (1/angstrom, padded past
                                    ``q_max`` with increasing values), (S, n_q), (S,)
==================================  =============================================

Mode ``"reweight"`` (default)
-----------------------------
A prediction at parameters theta is the reweighted average over the stored
frames (DiffTRe, Thaler and Zavadlav, Nat. Commun. 12, 6884 (2021),
doi:10.1038/s41467-021-27241-4), with the Kish effective sample size
(L. Kish, Survey Sampling, Wiley 1965, section 11.7):

.. math::

    w_i \propto e^{-\beta [U_i(\theta) - U_i(\theta_0)]}, \qquad
    A_{rw}(\theta) = \sum_i w_i A_i(\theta), \qquad
    e(\theta) = \mathrm{ESS} / F = \frac{1}{F \sum_i w_i^2}

**The trust region, made smooth.** A reweighted average is only trustworthy
while the frames still cover the configurations that matter at theta; where
e is small it is biased towards the reference, not merely noisy. A hard
rule (prediction NaN where e < ess_min, so log density -inf) makes NUTS
trajectories hit a wall: the argon_md run had 22 % divergent transitions.
Here the prediction blends the reweighted average with a fallback that is
defined everywhere, through a switching function of e:

.. math::

    A(\theta) = s(e)\, A_{rw}(\theta) + [1 - s(e)]\, A_{fb}(\theta), \qquad
    s(e) = S_5\!\left(\frac{e - e_{min} + \Delta/2}{\Delta}\right), \quad
    S_5(t) = 6t^5 - 15t^4 + 10t^3 \text{ on } [0, 1]

with :math:`e_{min}` = ``ess_min`` and :math:`\Delta` = ``ess_width``. S_5 is
Perlin's "smootherstep" (K. Perlin, ACM Trans. Graph. 21, 681 (2002),
doi:10.1145/566654.566636): 0 below the band, 1 above it, with first and
second derivatives continuous and zero at both ends, so the log density is
continuous and twice differentiable everywhere, the way switching functions
make MD cut-offs smooth (B. R. Brooks et al., J. Comput. Chem. 4, 187 (1983),
doi:10.1002/jcc.540040211). Inside the trust region
:math:`e \ge e_{min} + \Delta/2` the prediction is exactly the reweighted one.

The fallback ``fallback = "linear"`` (default) is the first-order expansion
of the MD average about the reference,
:math:`A_{fb} = A(\theta_0) + \nabla_\theta A(\theta_0) \cdot (\theta - \theta_0)`,
whose gradient is the fluctuation formula
:math:`\partial_k \langle A\rangle = \langle \partial_k A\rangle - \beta\,\mathrm{cov}(A,
\partial_k U)` evaluated once on the frames (by automatic differentiation of
the estimator at theta_0, when the data are prepared): it costs nothing
inside NUTS and has the reweighted estimate's value and slope at theta_0.
``fallback = "ie_corrected"`` uses the MD-corrected integral equation of
the mode below instead (better far from theta_0, but an IE solve per state
and evaluation: ~16 ms forward at n = 2048 on this machine, against ~2 ms for
a reweighted pressure). Either way the posterior is no longer truncated;
:func:`bayesff.workflows.refine.refine` checks how much of it lies outside
the trust region and re-simulates at the posterior mean until (nearly) none
does.

Gradients: the reweighted averages are differentiated in forward mode (one
JVP per potential parameter, wrapped in a ``jax.custom_jvp``), because reverse
mode through the (frames x pairs) sums costs 4-5x more on a CPU (measured:
~30 ms against ~7 ms for the value and gradient of a pressure with 200
frames of 2,970 pairs).

Mode ``"ie_corrected"``
-----------------------
``predict = IE(theta) + [MD(theta_0) - IE(theta_0)]``: the integral-equation
prediction (:func:`bayesff.observables.liquid.solve` with ``closure`` and
``n``) shifted by the MD-minus-IE difference at the reference (per q for
S(q), the MD value interpolated between shells). MD(theta_0) is ``value0``
of the prepared data; IE(theta_0) is solved inside ``predict`` from the
reference in ``aux`` (one more forward IE solve per state, with no gradient),
so the prepared data do not depend on the closure. Defined everywhere (no
trust region); NaN only where the IE does not converge.

Units: T in K, rho in 1/angstrom^3, q in 1/angstrom, p in MPa, energies in
kJ/mol per particle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables import liquid, md
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.structure import Q_DIMENSION, structure_factor_at

__all__ = [
    "FALLBACKS",
    "MD_ENERGY",
    "MD_OBSERVABLES",
    "MD_PRESSURE",
    "MD_STRUCTURE_FACTOR",
    "MODES",
    "OPTION_NAMES",
    "MDSettings",
    "ess_fractions",
    "pair_capacity",
    "parse_options",
    "quantity_of",
    "state_arrays",
    "target_aux",
    "trust_weight",
]

MODES = ("reweight", "ie_corrected")
FALLBACKS = ("linear", "ie_corrected")
#: Rows are matched to prepared states when T and rho agree to this relative tolerance.
STATE_MATCH_RTOL = 1e-9
#: Each quantity's keys in the prepared state arrays: (value at theta_0, its gradient).
_VALUE_KEYS = {
    "pressure": ("pressure_MPa", "d_pressure"),
    "energy": ("energy_kJ_per_mol", "d_energy"),
    "structure": ("S", "d_S"),
}


# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class MDSettings:
    """Validated options of an MD target (internal units).

    Attributes
    ----------
    reference
        ``((name, value), ...)``: the potential's parameters at which the
        first reference runs are made, kJ/mol and angstrom (required).
        ``bayesff refine`` may move the runs to another reference (stored
        with the prepared data); this one stays the starting point.
    n_particles
        N (default 256). The box must hold twice the cut-off.
    n_steps, n_equil
        Production and equilibration steps of each reference run (4000, 1000).
    seed
        PRNG seed of the reference runs (0).
    r_cut_angstrom
        Interaction cut-off, angstrom; ``None`` (default): the default of
        :func:`bayesff.simulate.lj_md.simulate` at ``reference`` (3 sigma), fixed
        for every later reference so that the model stays the same.
    sample_every
        Steps between stored frames (20): n_steps // sample_every frames.
    ess_min, ess_width
        Centre and width of the band of ESS / n_frames over which the
        prediction switches from the fallback to the reweighted average
        (0.3, 0.2: fallback only below 0.2, reweighted only above 0.4).
    fallback
        ``"linear"`` or ``"ie_corrected"`` (see the module docstring).
    mode
        ``"reweight"`` or ``"ie_corrected"``.
    closure, n
        The IE's closure (``"vm"``) and grid size (2048), for ``ie_corrected``.
    """

    reference: tuple[tuple[str, float], ...]
    n_particles: int = 256
    n_steps: int = 4000
    n_equil: int = 1000
    seed: int = 0
    r_cut_angstrom: float | None = None
    sample_every: int = 20
    ess_min: float = 0.3
    ess_width: float = 0.2
    fallback: str = "linear"
    mode: str = "reweight"
    closure: str = "vm"
    n: int = 2048

    @property
    def reference_params(self) -> dict[str, float]:
        return dict(self.reference)

    @property
    def n_frames(self) -> int:
        return self.n_steps // self.sample_every

    def simulate_kwargs(self, potential) -> dict:
        """Keyword arguments of :func:`~bayesff.simulate.lj_md.simulate` for a reference run.

        The cut-off and the largest wave number are fixed from the starting
        reference, so that runs at a refined reference simulate the same model
        and give arrays of the same shapes.
        """
        ref = self.reference_params
        r_cut = self.r_cut_angstrom
        if r_cut is None:
            r_cut = md.default_r_cut(potential, ref)
        return {
            "n_particles": self.n_particles,
            "n_steps": self.n_steps,
            "n_equil": self.n_equil,
            "seed": self.seed,
            "r_cut_angstrom": float(r_cut),
            "sample_every": self.sample_every,
            "q_max_per_angstrom": 10.0 / float(potential.length_scale(**ref)),
            "long_range": "tail",
        }


#: Option names a problem file may set in an MD target's ``options`` table.
OPTION_NAMES = tuple(f.name for f in fields(MDSettings))
#: Options the model passes to every builder that MD has no use for.
_IGNORED = ("nodes_per_panel",)


def _int_option(where, name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"{where}: option {name!r} must be an integer >= {minimum}, got {value!r}"
        )
    return int(value)


def _number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_reference(potential, ref, where) -> tuple[tuple[str, float], ...]:
    if not isinstance(ref, Mapping) or set(ref) != set(potential.param_names):
        got = sorted(ref) if isinstance(ref, Mapping) else repr(ref)
        raise ValueError(
            f"{where}: option 'reference' must be a table of every parameter of "
            f"{potential.name!r} ({', '.join(potential.param_names)}) in internal units, got {got}"
        )
    specs = {s.name: s for s in potential.params}
    out = []
    for name in potential.param_names:
        v = ref[name]
        if not (_number(v) and math.isfinite(float(v))):
            raise ValueError(
                f"{where}: option 'reference': {name} must be a finite number "
                f"({specs[name].unit}), got {v!r}"
            )
        if not specs[name].support.contains(float(v)):
            raise ValueError(
                f"{where}: option 'reference': {name} = {v!r} {specs[name].unit} is outside the "
                f"support ({specs[name].support.describe()})"
            )
        out.append((name, float(v)))
    return tuple(out)


def _choice(where, options, name, allowed, kw):
    if name in options:
        if options[name] not in allowed:
            raise ValueError(
                f"{where}: option {name!r} must be one of {', '.join(map(repr, allowed))}, "
                f"got {options[name]!r}"
            )
        kw[name] = options[name]


def _fraction(where, options, name, kw):
    if name in options:
        e = options[name]
        if not (_number(e) and 0.0 < float(e) < 1.0):
            raise ValueError(
                f"{where}: option {name!r} must be a number in (0, 1) (a fraction of the "
                f"stored frames), got {e!r}"
            )
        kw[name] = float(e)


def parse_options(potential, options: Mapping, where: str = "md target") -> MDSettings:
    """Check an MD target's options before anything is simulated or traced.

    Parameters
    ----------
    potential
        The pair potential the target is built for.
    options
        The ``options`` table (names in :data:`OPTION_NAMES`).
    where
        Prefix of error messages (the observable's name).

    Returns
    -------
    MDSettings

    Raises
    ------
    ValueError
        Naming the option, what was expected and what was given: an unknown
        option, a missing or incomplete ``reference``, a non-finite or
        out-of-support reference value, a bad ``mode`` or ``fallback``,
        ``ess_min`` or ``ess_width`` outside (0, 1) or a band that leaves
        (0, 1], non-integer or too small N / steps, fewer than 20 frames, or
        an unknown closure.
    """
    options = {k: v for k, v in options.items() if k not in _IGNORED}
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise ValueError(
            f"{where}: unknown option(s) {', '.join(unknown)}; expected {', '.join(OPTION_NAMES)}"
        )
    if "reference" not in options:
        names = ", ".join(f"{p} = ..." for p in potential.param_names)
        raise ValueError(
            f"{where}: option 'reference' is required: the parameters of {potential.name!r} in "
            f"internal units (kJ/mol, angstrom) at which the reference MD runs, e.g. "
            f"reference = {{ {names} }}"
        )
    kw = {"reference": _check_reference(potential, options["reference"], where)}
    for name, minimum in (
        ("n_particles", 2),
        ("n_steps", 1),
        ("n_equil", 0),
        ("seed", 0),
        ("sample_every", 1),
        ("n", 64),
    ):
        if name in options:
            kw[name] = _int_option(where, name, options[name], minimum)
    if "r_cut_angstrom" in options and options["r_cut_angstrom"] is not None:
        rc = options["r_cut_angstrom"]
        if not (_number(rc) and math.isfinite(float(rc)) and float(rc) > 0):
            raise ValueError(
                f"{where}: option 'r_cut_angstrom' must be a number > 0 (angstrom), got {rc!r}"
            )
        kw["r_cut_angstrom"] = float(rc)
    _fraction(where, options, "ess_min", kw)
    _fraction(where, options, "ess_width", kw)
    _choice(where, options, "mode", MODES, kw)
    _choice(where, options, "fallback", FALLBACKS, kw)
    _choice(where, options, "closure", liquid.CLOSURES, kw)
    s = MDSettings(**kw)
    lo, hi = s.ess_min - s.ess_width / 2, s.ess_min + s.ess_width / 2
    if lo <= 0.0 or hi > 1.0:
        raise ValueError(
            f"{where}: options 'ess_min' = {s.ess_min:g} and 'ess_width' = {s.ess_width:g} give "
            f"the band [{lo:g}, {hi:g}]; it must lie inside (0, 1]"
        )
    if s.n_frames < 20:
        raise ValueError(
            f"{where}: options 'n_steps' // 'sample_every' = {s.n_steps} // {s.sample_every} = "
            f"{s.n_frames} frames; need at least 20 (10 blocks of 2 for the standard errors)"
        )
    return s


# ----------------------------------------------------------------------------- estimators


def trust_weight(ess_fraction, ess_min: float, ess_width: float):
    r"""Weight of the reweighted average: Perlin's smootherstep of the ESS fraction.

    .. math::

        s(e) = S_5\!\left(\frac{e - e_{min} + \Delta/2}{\Delta}\right), \qquad
        S_5(t) = 6t^5 - 15t^4 + 10t^3, \; t \in [0, 1]

    0 for :math:`e \le e_{min} - \Delta/2`, 1 for :math:`e \ge e_{min} + \Delta/2`,
    C^2 everywhere (K. Perlin, ACM Trans. Graph. 21, 681 (2002),
    doi:10.1145/566654.566636).
    """
    t = jnp.clip((ess_fraction - (ess_min - 0.5 * ess_width)) / ess_width, 0.0, 1.0)
    return t * t * t * (t * (6.0 * t - 15.0) + 10.0)


def _params(names, theta):
    return {n: theta[i] for i, n in enumerate(names)}


def _thermo_state(st):
    return (
        st["n_particles"],
        st["T_K"],
        st["rho_per_A3"],
        st["volume_A3"],
        st["r_cut_angstrom"],
        st["tail"],
    )


def _reweighted(potential, names, quantity, theta, st):
    """The reweighted average of one quantity at one state, and the ESS fraction."""
    params = _params(names, theta)
    w, energy, pressure = md.reweighted_thermo(
        potential,
        _thermo_state(st),
        st["r"],
        st["mask"],
        st["u_ref"],
        params,
        virial=quantity == "pressure",
    )
    ess = 1.0 / (st["r"].shape[0] * jnp.sum(w * w))
    if quantity == "pressure":
        return pressure, ess
    if quantity == "energy":
        return energy, ess
    return w @ st["S_frames"], ess


def _all_at(potential, names, theta, st):
    """Pressure, energy and S on the shells (reweighted), for the prepared linearisation."""
    params = _params(names, theta)
    w, energy, pressure = md.reweighted_thermo(
        potential, _thermo_state(st), st["r"], st["mask"], st["u_ref"], params
    )
    return {"pressure_MPa": pressure, "energy_kJ_per_mol": energy, "S": w @ st["S_frames"]}


def _value_and_jacobian(fun, theta, data):
    """``fun(theta, data)`` and its Jacobian in theta (last axis), one JVP per parameter."""
    n = theta.shape[0]
    out, cols = None, []
    for k in range(n):
        e_k = jnp.zeros(n, theta.dtype).at[k].set(1.0)
        out, col = jax.jvp(lambda th: fun(th, data), (theta,), (e_k,))
        cols.append(col)
    return out, jax.tree.map(lambda *c: jnp.stack(c, axis=-1), *cols)


def _sequential(fun):
    """``fun`` evaluated by a loop (``lax.map``) over a batch axis when vmapped.

    As ``jax.custom_batching.sequential_vmap`` (the loop calls the wrapped
    function again, so an outer vmap, e.g. chains around states, loops too),
    which fails ("scan got no values to scan over") when its rule is called
    with no batched argument, as happens inside the JVP of the rule (the
    Hessian of the Laplace start); then this calls the function once.
    """
    wrapped = jax.custom_batching.custom_vmap(fun)

    @wrapped.def_vmap
    def _rule(axis_size, in_batched, *args):
        leaves, tree = jax.tree.flatten(args)
        flags = jax.tree.leaves(in_batched)
        if not any(flags):  # (the wrapped function here would recurse)
            out = fun(*args)
            return out, jax.tree.map(lambda _: False, out)
        mapped = [x for x, b in zip(leaves, flags, strict=True) if b]

        def one(xs):
            it = iter(xs)
            merged = [next(it) if b else x for x, b in zip(leaves, flags, strict=True)]
            return wrapped(*jax.tree.unflatten(tree, merged))

        out = jax.lax.map(one, mapped)
        return out, jax.tree.map(lambda _: True, out)

    return wrapped


def _forward_mode(fun):
    """``fun(theta, data)``, differentiated in forward mode and batched by a loop.

    Written by hand because JAX has no switch for either, and both matter on a
    CPU for sums over (frames x pairs) arrays (measured on this 2-core machine,
    100 frames of 2,432 pairs, value and gradient of a pressure):

    * reverse mode (what NUTS's ``grad`` uses) through the sums costs more
      than one JVP per parameter, which is what the ``jax.custom_jvp`` rule
      does: it returns ``J @ dtheta``, which JAX transposes for reverse mode;
    * under ``vmap`` over chains (the sampler vmaps them) the batched JVPs
      cost ~3.5x a loop over the chains (53 ms against 15 ms for 4 chains),
      so the value and the Jacobian are computed by :func:`_sequential` (a
      loop when batched). It sits outside the linear part ``J @ dtheta``,
      which is all that reverse mode transposes (custom_vmap has no transpose
      rule).

    ``data`` (the prepared frames) is treated as constant.
    """
    value = _sequential(fun)
    value_and_jac = _sequential(partial(_value_and_jacobian, fun))

    @jax.custom_jvp
    def wrapped(theta, data):
        return value(theta, data)

    @wrapped.defjvp
    def _jvp(primals, tangents):
        theta, data = primals
        out, jac = value_and_jac(theta, data)
        return out, jax.tree.map(lambda j: j @ tangents[0], jac)

    return wrapped


def _linear(aux, theta):
    """First-order expansion about each state's reference: (S,) or (S, n_q)."""
    d = theta[None, :] - aux["reference"]
    g = aux["gradient0"]
    if g.ndim == 2:
        return aux["value0"] + jnp.sum(g * d, axis=1)
    return aux["value0"] + jnp.einsum("sk,skq->sq", d, g)


def _solve_states(potential, names, settings, theta_rows, T, rho):
    def one(th, t, r):
        return liquid.solve(
            potential, _params(names, th), t, r, closure=settings.closure, n=settings.n
        )

    return jax.vmap(one)(theta_rows, T, rho)


def _ie_pair(potential, names, settings, theta, aux):
    """IE solutions at theta and (no gradient) at each state's reference."""
    T, rho = aux["T_K"], aux["rho_per_A3"]
    n_states = T.shape[0]
    sol = _solve_states(
        potential, names, settings, jnp.broadcast_to(theta, (n_states, theta.size)), T, rho
    )
    sol0 = _solve_states(
        potential, names, settings, jax.lax.stop_gradient(aux["reference"]), T, rho
    )
    ok = (sol.status == liquid.CONVERGED) & (sol0.status == liquid.CONVERGED)
    return sol, sol0, ok


def _ie_scalar(quantity, sol, sol0, ok, value0):
    if quantity == "pressure":
        v = sol.pressure_MPa + (value0 - sol0.pressure_MPa)
    else:
        v = sol.energy_kJ_per_mol + (value0 - sol0.energy_kJ_per_mol)
    return jnp.where(ok, v, jnp.nan)


def _ie_on_shells(sol, sol0, ok, aux):
    """IE-corrected S on each state's shells, (S, n_q)."""

    def one(s, s0, q, rho, v0):
        return structure_factor_at(s, q, rho) + (v0 - structure_factor_at(s0, q, rho))

    v = jax.vmap(one)(sol, sol0, aux["q"], aux["rho_per_A3"], aux["value0"])
    return jnp.where(ok[:, None], v, jnp.nan)


def _state_index(T, rho, aux):
    """Each row's state in ``aux`` and whether it has one (traceable)."""
    dT = jnp.abs(T[:, None] / aux["T_K"][None, :] - 1.0)
    drho = jnp.abs(rho[:, None] / aux["rho_per_A3"][None, :] - 1.0)
    d = jnp.maximum(dT, drho)
    return jnp.argmin(d, axis=1), jnp.min(d, axis=1) <= STATE_MATCH_RTOL


def _on_shells(q, q_shells, q_max, values):
    """Linear interpolation between shells; NaN outside [first shell, q_max]."""
    inside = (q >= q_shells[0]) & (q <= q_max)
    return jnp.where(inside, jnp.interp(q, q_shells, values), jnp.nan)


# ----------------------------------------------------------------------------- predict


def _state_tree(aux):
    keys = ("T_K", "rho_per_A3", "n_particles", "volume_A3", "r_cut_angstrom", "tail", "r",
            "mask", "u_ref")  # fmt: skip
    st = {k: aux[k] for k in keys}
    if "S_frames" in aux:
        st["S_frames"] = aux["S_frames"]
    return st


class _Predict:
    """``predict(params, env, aux=...)`` of one MD observable (see the module docstring)."""

    def __init__(self, name, quantity, potential, settings: MDSettings):
        self.name, self.quantity = name, quantity
        self.potential, self.settings = potential, settings
        self.names = potential.param_names
        self._reweighted = _forward_mode(partial(_reweighted, potential, self.names, quantity))

    def _require(self, aux):
        need = ("T_K", "rho_per_A3", "reference", "value0", "gradient0")
        if self.settings.mode == "reweight":
            need += ("r", "mask", "u_ref")
        if self.quantity == "structure":
            need += ("q", "q_max") + (("S_frames",) if self.settings.mode == "reweight" else ())
        missing = [k for k in need if aux is None or k not in aux]
        if missing:
            raise ValueError(
                f"{self.name}: no prepared MD data (aux lacks {', '.join(missing)}): the "
                "reference runs are made beforehand; run `bayesff prepare PROBLEM` (or "
                "bayesff.workflows.prepare.prepare(problem)) and load the problem again"
            )

    def per_state(self, theta, aux):
        """Predictions at each prepared state: (S,), or (S, n_q) on the shells for S(q)."""
        s = self.settings
        if s.mode == "reweight":
            rw, ess = jax.vmap(lambda st: self._reweighted(theta, st))(_state_tree(aux))
            if s.fallback == "linear":
                fb = _linear(aux, theta)
            else:
                fb = self._ie_corrected_states(theta, aux)
            b = trust_weight(ess, s.ess_min, s.ess_width)
            if rw.ndim == 2:
                b = b[:, None]
            return b * rw + (1.0 - b) * fb
        return self._ie_corrected_states(theta, aux)

    def _ie_corrected_states(self, theta, aux):
        sol, sol0, ok = _ie_pair(self.potential, self.names, self.settings, theta, aux)
        if self.quantity == "structure":
            return _ie_on_shells(sol, sol0, ok, aux)
        return _ie_scalar(self.quantity, sol, sol0, ok, aux["value0"])

    def _ie_structure_rows(self, theta, aux, idx, q):
        """ie_corrected mode for S(q): the IE at each row's own q, the MD part interpolated."""
        sol, sol0, ok = _ie_pair(self.potential, self.names, self.settings, theta, aux)

        def row(i, qq):
            s = jax.tree.map(lambda a: a[i], sol)
            s0 = jax.tree.map(lambda a: a[i], sol0)
            rho = aux["rho_per_A3"][i]
            md0 = _on_shells(qq, aux["q"][i], aux["q_max"][i], aux["value0"][i])
            v = structure_factor_at(s, qq, rho) + (md0 - structure_factor_at(s0, qq, rho))
            return jnp.where(ok[i], v, jnp.nan)

        return jax.vmap(row)(idx, q)

    def __call__(self, params, env, aux=None):
        self._require(aux)
        aux = {k: jnp.asarray(v) for k, v in aux.items()}
        theta = jnp.stack([jnp.asarray(params[n], dtype=float) for n in self.names])
        T = jnp.ravel(jnp.asarray(env["T_K"], dtype=float))
        rho = jnp.ravel(jnp.asarray(env["rho_per_A3"], dtype=float))
        idx, found = _state_index(T, rho, aux)
        if self.quantity == "structure":
            q = jnp.ravel(jnp.asarray(env["q_inv_angstrom"], dtype=float))
            if self.settings.mode == "ie_corrected":
                out = self._ie_structure_rows(theta, aux, idx, q)
            else:
                shells = self.per_state(theta, aux)
                out = jax.vmap(_on_shells)(q, aux["q"][idx], aux["q_max"][idx], shells[idx])
        else:
            out = self.per_state(theta, aux)[idx]
        return jnp.where(found, out, jnp.nan)


def _builder(name: str, quantity: str):
    def build(potential, **options):
        return _Predict(name, quantity, potential, parse_options(potential, options, name))

    build.__doc__ = (
        f"Build ``predict(params, env, aux=...)`` of {name} (options: :class:`MDSettings`)."
    )
    return build


# ----------------------------------------------------------------------------- prepared data


def quantity_of(observable) -> str | None:
    """``"pressure"``, ``"energy"`` or ``"structure"`` for an MD observable (or its name),
    ``None`` for any other observable."""
    name = getattr(observable, "name", observable)
    return MD_OBSERVABLES.get(name)


def pair_capacity(n_particles: int, rho_per_A3: float, r_cut_angstrom: float, largest: int) -> int:
    """Width of the stored pair arrays: 1.1x the ideal-gas pair count within r_cut
    (and at least the largest count of a frame), rounded up to a multiple of 128, so
    that runs at a refined reference keep the same array shapes (and compiled code)."""
    ideal = 0.5 * (n_particles - 1) * rho_per_A3 * (4.0 / 3.0 * math.pi * r_cut_angstrom**3)
    width = max(math.ceil(1.1 * ideal), int(largest))
    return 128 * math.ceil(width / 128)


def state_arrays(potential, result, reference: Mapping[str, float]) -> dict:
    """What the MD targets need of one reference run, as NumPy arrays (internal units).

    Called by the prepare step on a finished run; pure (no simulation).

    Parameters
    ----------
    potential
        The pair potential the run was made with.
    result
        A finished run whose ``ok`` is true and whose ``trajectory`` holds its frames
        (:class:`bayesff.simulate.lj_md.MDResult`).
    reference
        The parameters of the run, internal units.

    Returns
    -------
    dict
        ``T_K``, ``rho_per_A3``, ``n_particles``, ``volume_A3``,
        ``r_cut_angstrom``, ``tail`` (scalars), ``reference`` (n_params,),
        ``r``, ``mask`` (F, P), ``u_ref`` (F,), ``S_frames`` (F, n_q),
        ``q`` (n_q,), the plain averages over the frames ``pressure_MPa``,
        ``energy_kJ_per_mol``, ``S`` (n_q,), their derivatives in the
        parameters at the reference ``d_pressure``, ``d_energy``
        (n_params,), ``d_S`` (n_params, n_q), and the run's block standard
        errors ``pressure_se_MPa``, ``energy_se_kJ_per_mol``, ``S_se``.
    """
    traj = result.trajectory
    if not result.ok or traj is None:
        raise ValueError("state_arrays: needs an OK run with stored frames (store_frames=True)")
    names = potential.param_names
    theta0 = np.array([float(reference[n]) for n in names])
    r, mask = md.pair_distances(traj)
    cap = pair_capacity(traj.n_particles, traj.rho_per_A3, traj.r_cut_angstrom, r.shape[1])
    r, mask = _pad_last(r, cap, traj.r_cut_angstrom), _pad_last(mask, cap, False)
    st = {
        "T_K": np.float64(traj.T_K),
        "rho_per_A3": np.float64(traj.rho_per_A3),
        "n_particles": np.float64(traj.n_particles),
        "volume_A3": np.float64(traj.box_angstrom**3),
        "r_cut_angstrom": np.float64(traj.r_cut_angstrom),
        "tail": np.float64(traj.long_range == "tail"),
        "r": r,
        "mask": mask,
        "S_frames": np.asarray(traj.structure, dtype=float),
    }
    u_ref = jax.jit(lambda p, r, m: md.frame_sums(potential, r, m, p, virial=False)[0])(
        _params(names, jnp.asarray(theta0)), jnp.asarray(r), jnp.asarray(mask)
    )
    st["u_ref"] = np.asarray(u_ref)
    fun = jax.jit(lambda th, s: _all_at(potential, names, th, s))
    jac = jax.jit(jax.jacfwd(lambda th, s: _all_at(potential, names, th, s)))
    values = fun(jnp.asarray(theta0), st)
    grads = jac(jnp.asarray(theta0), st)
    out = dict(st)
    out["reference"] = theta0
    out["q"] = np.asarray(traj.q, dtype=float)
    for k in ("pressure_MPa", "energy_kJ_per_mol", "S"):
        out[k] = np.asarray(values[k], dtype=float)
    out["d_pressure"] = np.asarray(grads["pressure_MPa"], dtype=float)
    out["d_energy"] = np.asarray(grads["energy_kJ_per_mol"], dtype=float)
    out["d_S"] = np.asarray(grads["S"], dtype=float).T  # (n_params, n_q)
    out["pressure_se_MPa"] = np.float64(result.pressure_se_MPa)
    out["energy_se_kJ_per_mol"] = np.float64(result.energy_se_kJ_per_mol)
    out["S_se"] = np.asarray(result.S_se, dtype=float)
    return out


def _pad_last(a: np.ndarray, width: int, fill) -> np.ndarray:
    extra = width - a.shape[-1]
    if extra <= 0:
        return a
    pad = [(0, 0)] * (a.ndim - 1) + [(0, extra)]
    return np.pad(a, pad, constant_values=fill)


def _shells(states, n_q):
    q = []
    for s in states:
        qs = np.asarray(s["q"], float)
        extra = np.arange(1, n_q - qs.size + 1, dtype=float)
        q.append(np.concatenate([qs, qs[-1] + extra]))  # increasing past q_max, for interp
    return np.stack(q)


def target_aux(states: Sequence[Mapping], quantity: str, settings: MDSettings) -> dict:
    """The ``aux`` arrays of one target: its states' prepared arrays, stacked and padded.

    Parameters
    ----------
    states
        :func:`state_arrays` of each of the target's states (in any order).
    quantity
        ``"pressure"``, ``"energy"`` or ``"structure"``.
    settings
        The target's options (mode and fallback decide which arrays it needs).

    Returns
    -------
    dict of NumPy arrays (see the module docstring for the keys).
    """
    if not states:
        raise ValueError("target_aux: no states")
    value_key, grad_key = _VALUE_KEYS[quantity]
    aux = {
        k: np.array([float(s[k]) for s in states])
        for k in ("T_K", "rho_per_A3", "n_particles", "volume_A3", "r_cut_angstrom", "tail")
    }
    aux["reference"] = np.stack([np.asarray(s["reference"], float) for s in states])
    n_q = max(np.asarray(s["q"]).size for s in states)
    if quantity == "structure":
        aux["q"] = _shells(states, n_q)
        aux["q_max"] = np.array([float(np.asarray(s["q"])[-1]) for s in states])
        aux["value0"] = np.stack([_pad_last(np.asarray(s["S"], float), n_q, 1.0) for s in states])
        aux["gradient0"] = np.stack(
            [_pad_last(np.asarray(s["d_S"], float), n_q, 0.0) for s in states]
        )
    else:
        aux["value0"] = np.array([float(s[value_key]) for s in states])
        aux["gradient0"] = np.stack([np.asarray(s[grad_key], float) for s in states])
    if settings.mode == "reweight":
        width = max(np.shape(s["r"])[1] for s in states)
        frames = {np.shape(s["r"])[0] for s in states}
        if len(frames) != 1:
            raise ValueError(f"target_aux: states have different frame counts {sorted(frames)}")
        aux["r"] = np.stack(
            [
                _pad_last(np.asarray(s["r"], float), width, float(s["r_cut_angstrom"]))
                for s in states
            ]
        )
        aux["mask"] = np.stack(
            [_pad_last(np.asarray(s["mask"], bool), width, False) for s in states]
        )
        aux["u_ref"] = np.stack([np.asarray(s["u_ref"], float) for s in states])
        if quantity == "structure":
            aux["S_frames"] = np.stack(
                [_pad_last(np.asarray(s["S_frames"], float), n_q, 1.0) for s in states]
            )
    return aux


def ess_fractions(potential, params: Mapping, aux: Mapping):
    """Kish ESS / n_frames of each prepared state at ``params`` (internal units): (S,).

    Traceable (vmap it over posterior draws); needs reweight-mode ``aux``.
    """
    names = potential.param_names
    theta = jnp.stack([jnp.asarray(params[n], dtype=float) for n in names])
    st = {k: jnp.asarray(v) for k, v in _state_tree(aux).items()}
    return jax.vmap(lambda s: _reweighted(potential, names, "energy", theta, s)[1])(st)


# ----------------------------------------------------------------------------- registry

_T = EnvField("T_K", "temperature", "temperature")
_RHO = EnvField("rho_per_A3", "number_density", "number density")
_Q = EnvField("q_inv_angstrom", Q_DIMENSION, "scattering wave number q (1/angstrom)")
_REF = (
    "NVT Langevin MD with jax-md (bayesff.observables.md), prepared by `bayesff prepare`, and "
    "trajectory reweighting: Thaler and Zavadlav, Nat. Commun. 12, 6884 (2021), "
    "doi:10.1038/s41467-021-27241-4"
)
_OPTS = (
    "options: reference (required, internal units), n_particles (256), n_steps (4000), "
    "n_equil (1000), seed (0), r_cut_angstrom (3 sigma), sample_every (20), ess_min (0.3), "
    "ess_width (0.2), fallback ('linear' | 'ie_corrected'), mode ('reweight' | "
    "'ie_corrected'), closure ('vm'), n (2048); needs `bayesff prepare`"
)


def _md_observable(name, env, value_column, dimension, unit, quantity, description):
    return register_observable(
        Observable(
            name=name,
            env=env,
            value_column=value_column,
            uncertainty_column=f"u_{value_column}",
            dimension=dimension,
            unit=unit,
            build=_builder(name, quantity),
            potential_kind="pair",
            description=f"{description}; {_OPTS}",
            reference=_REF,
            options=OPTION_NAMES,
        )
    )


MD_PRESSURE = _md_observable(
    "md_pressure",
    (_T, _RHO),
    "p_MPa",
    "pressure",
    "MPa",
    "pressure",
    "pressure from NVT MD (virial + tail), reweighted from prepared reference runs (blended "
    "smoothly into a fallback where ESS/n drops below the trust band) or as an MD-corrected "
    "integral equation",
)
MD_ENERGY = _md_observable(
    "md_energy",
    (_T, _RHO),
    "E_res_kJ_per_mol",
    "energy",
    "kJ/mol",
    "energy",
    "excess (residual) energy per particle from NVT MD (+ tail), reweighted or MD-corrected IE",
)
MD_STRUCTURE_FACTOR = _md_observable(
    "md_structure_factor",
    (_T, _RHO, _Q),
    "S_q",
    "dimensionless",
    "1",
    "structure",
    "S(q) from the box's k vectors in NVT MD, interpolated linearly between shells (NaN "
    "outside 2 pi / L .. q_max), reweighted or MD-corrected IE",
)

#: MD observable name -> the quantity it predicts.
MD_OBSERVABLES = {
    MD_PRESSURE.name: "pressure",
    MD_ENERGY.name: "energy",
    MD_STRUCTURE_FACTOR.name: "structure",
}
