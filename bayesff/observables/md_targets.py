r"""Molecular-dynamics targets for problem files: trajectory reweighting inside NUTS.

Three registered observables turn the MD forward model of
:mod:`bayesff.observables.md` into ``predict(params, env)`` functions that a
problem file can name, with the same environment columns, value columns and
units as the integral-equation (IE) observables of
:mod:`bayesff.observables.structure`, so the same data files work for both:

=======================  ==================================  ==========================
observable               environment                         value (unit)
=======================  ==================================  ==========================
``md_pressure``          T_K, rho_per_A3                     p_MPa (MPa)
``md_energy``            T_K, rho_per_A3                     E_res_kJ_per_mol (kJ/mol,
                                                             excess energy per particle)
``md_structure_factor``  T_K, rho_per_A3, q_inv_angstrom     S_q (1)
=======================  ==================================  ==========================

Options (the target's ``options`` table; see :class:`MDSettings`): ``reference``
(required: the potential's parameters in internal units, kJ/mol and angstrom, at
which the reference runs are made), ``n_particles``, ``n_steps``, ``n_equil``,
``seed``, ``r_cut_angstrom``, ``sample_every``, ``ess_min``, ``mode``, and for
``mode = "ie_corrected"`` the IE's ``closure`` and ``n``.

Mode ``"reweight"`` (default)
-----------------------------
The first call of ``predict`` (when the model is traced) runs one NVT reference
simulation at ``reference`` for every distinct (T, rho) of the target's rows,
and caches it in-process (key: the potential object, the reference, the state
and every setting). From then on a prediction at parameters theta is the
reweighted average over the stored frames (:func:`bayesff.observables.md.reweight`;
DiffTRe, Thaler and Zavadlav, Nat. Commun. 12, 6884 (2021),
doi:10.1038/s41467-021-27241-4):

.. math::

    w_i \propto e^{-\beta [U_i(\theta) - U_i(\theta_0)]}, \qquad
    \langle A \rangle_\theta = \sum_i w_i A_i(\theta), \qquad
    \mathrm{ESS} / n = \frac{1}{n \sum_i w_i^2}

a pure JAX function of theta (frames are constants), so NUTS gets exact
gradients of the estimator. The states must be concrete when the model is
traced (a hierarchical inadequacy, which vmaps the forward model over rows,
is refused with an error).

**Why the posterior is truncated at ess_min.** A reweighted average is only
trustworthy while the reference frames still cover the configurations that
matter at theta; the Kish ESS says how many of the n frames effectively carry
the estimate. Inside NUTS nothing can be re-simulated (the model is a traced
function, and a new reference would change the log density under the sampler's
feet, breaking detailed balance), and a low-ESS estimate is not merely noisy
but biased towards the reference. So the rule is: where ``ess_fraction <
ess_min`` for any state of a target, the prediction is NaN, which
:mod:`bayesff.model` turns into a log density of -inf. The sampler then explores
the posterior *restricted to the trust region* {theta : ESS(theta)/n >= ess_min
at every state}. If the data want parameters outside it, the draws pile up at
its edge; :func:`refine` detects that (ESS fractions of the posterior draws) and
proposes a new reference (the posterior mean), and ``scripts/md_refine.py``
loops calibrate -> refine -> new reference until the posterior sits inside the
trust region. That outer loop is the "re-simulation when the ESS drops" of
:class:`~bayesff.observables.md.ReweightingEstimator`, done between runs.

The trust region is small for dense liquids: at N = 108, T* = 1, rho* = 0.8,
ESS/n falls to 0.3 at sigma +0.6 % and epsilon +13 % (docs/md.md); it shrinks as
1/sqrt(N). Chains must start inside it (see docs/md.md, "MD targets").

Mode ``"ie_corrected"``
-----------------------
``predict = IE(theta) + [MD(theta_0) - IE(theta_0)]``: the integral-equation
prediction (:func:`bayesff.observables.liquid.solve` with ``closure`` and ``n``)
shifted by the MD-minus-IE difference at the reference, computed once per state
(and per q for S(q)). The cost inside NUTS is the IE's; the closure error is
removed at the reference and assumed to vary slowly with theta. Defined
everywhere (no trust region); NaN only where the IE does not converge.

Units: T in K, rho in 1/angstrom^3, q in 1/angstrom, p in MPa, energies in
kJ/mol per particle.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables import liquid, md
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.structure import Q_DIMENSION, _concrete, structure_factor_at

__all__ = [
    "MD_ENERGY",
    "MD_PRESSURE",
    "MD_STRUCTURE_FACTOR",
    "MODES",
    "OPTION_NAMES",
    "Engine",
    "MDSettings",
    "RefineReport",
    "StateESS",
    "clear_cache",
    "parse_options",
    "reference_from_posterior",
    "refine",
    "set_reference",
]

MODES = ("reweight", "ie_corrected")


# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class MDSettings:
    """Validated options of an MD target (internal units).

    Attributes
    ----------
    reference
        ``((name, value), ...)``: the potential's parameters at which the
        reference runs are made, kJ/mol and angstrom (required).
    n_particles
        N (default 256). The box must hold twice the cut-off.
    n_steps, n_equil
        Production and equilibration steps of each reference run (4000, 1000).
    seed
        PRNG seed of the reference runs (0).
    r_cut_angstrom
        Interaction cut-off, angstrom; ``None`` (default): 3 length scales of
        the reference (3 sigma), as :func:`bayesff.observables.md.simulate`.
    sample_every
        Steps between stored frames (20): n_steps // sample_every frames.
    ess_min
        Smallest accepted ESS / n_frames (0.3); below it the prediction is NaN
        (a rejected proposal).
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
    mode: str = "reweight"
    closure: str = "vm"
    n: int = 2048

    @property
    def reference_params(self) -> dict[str, float]:
        return dict(self.reference)

    def simulate_kwargs(self) -> dict:
        return {
            "n_particles": self.n_particles,
            "n_steps": self.n_steps,
            "n_equil": self.n_equil,
            "seed": self.seed,
            "r_cut_angstrom": self.r_cut_angstrom,
            "sample_every": self.sample_every,
        }


#: Option names a problem file may set in an MD target's ``options`` table.
OPTION_NAMES = tuple(f.name for f in fields(MDSettings))
#: The model passes its B2 quadrature setting to every builder; MD has no use for it.
_IGNORED = ("nodes_per_panel",)


def _int_option(where, name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"{where}: option {name!r} must be an integer >= {minimum}, got {value!r}"
        )
    return int(value)


def _number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def parse_options(potential, options: Mapping, where: str = "md target") -> MDSettings:
    """Check an MD target's options before anything is simulated.

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
        out-of-support reference value, a bad ``mode``, ``ess_min`` outside
        (0, 1], non-integer or too small N / steps, fewer than 20 frames, or an
        unknown closure.
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
    ref = options["reference"]
    if not isinstance(ref, Mapping) or set(ref) != set(potential.param_names):
        got = sorted(ref) if isinstance(ref, Mapping) else repr(ref)
        raise ValueError(
            f"{where}: option 'reference' must be a table of every parameter of "
            f"{potential.name!r} ({', '.join(potential.param_names)}) in internal units, got {got}"
        )
    specs = {s.name: s for s in potential.params}
    reference = []
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
        reference.append((name, float(v)))
    kw = {"reference": tuple(reference)}
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
    if "ess_min" in options:
        e = options["ess_min"]
        if not (_number(e) and 0.0 < float(e) <= 1.0):
            raise ValueError(
                f"{where}: option 'ess_min' must be a number in (0, 1] (a fraction of the "
                f"stored frames), got {e!r}"
            )
        kw["ess_min"] = float(e)
    if "mode" in options:
        if options["mode"] not in MODES:
            raise ValueError(
                f"{where}: option 'mode' must be one of {', '.join(map(repr, MODES))}, "
                f"got {options['mode']!r}"
            )
        kw["mode"] = options["mode"]
    if "closure" in options:
        if options["closure"] not in liquid.CLOSURES:
            raise ValueError(
                f"{where}: option 'closure' must be one of {', '.join(liquid.CLOSURES)}, "
                f"got {options['closure']!r}"
            )
        kw["closure"] = options["closure"]
    s = MDSettings(**kw)
    n_frames = s.n_steps // s.sample_every
    if n_frames < 20:
        raise ValueError(
            f"{where}: options 'n_steps' // 'sample_every' = {s.n_steps} // {s.sample_every} = "
            f"{n_frames} frames; need at least 20 (10 blocks of 2 for the standard errors)"
        )
    return s


# ----------------------------------------------------------------------------- reference runs


class _Reference(NamedTuple):
    """A reference run and the frame data reweighting needs (constants)."""

    result: md.MDResult  # the plain averages (trajectory dropped)
    n: int
    T_K: float
    rho: float
    volume: float
    r_cut: float
    long_range: str
    r: jax.Array  # (F, P) pair distances i < j within r_cut, padded with r_cut
    mask: jax.Array  # (F, P)
    u_ref: jax.Array  # (F,) frame energies at the reference, kJ/mol
    structure: jax.Array  # (F, n_q) per-frame S(q)
    q: np.ndarray  # (n_q,) shell wave numbers, 1/angstrom


#: (id(potential), run settings, T, rho) -> (potential, _Reference); the potential is kept
#: alive so that its id is never reused by another object while the entry exists.
_RUNS: dict[tuple, tuple] = {}


def clear_cache() -> None:
    """Forget every cached reference run and IE correction (e.g. between tests)."""
    _RUNS.clear()
    _IE_REF.clear()


def _run_key(settings: MDSettings) -> tuple:
    """What a reference run depends on: targets that share it share the run (e.g. the
    pressure and the energy of one state, in either mode)."""
    return (settings.reference, *sorted(settings.simulate_kwargs().items()))


def reference_run(potential, settings: MDSettings, T_K: float, rho_per_A3: float) -> _Reference:
    """The reference run of a state, simulated on first use and cached in-process.

    Runs outside any trace (``jax.ensure_compile_time_eval``), so it may be
    called while a model is being traced. Raises ``RuntimeError`` if the run
    fails (status not OK), with md's message.
    """
    key = (id(potential), _run_key(settings), float(T_K), float(rho_per_A3))
    hit = _RUNS.get(key)
    if hit is not None:
        return hit[1]
    with jax.ensure_compile_time_eval():
        res = md.simulate(
            potential,
            settings.reference_params,
            float(T_K),
            float(rho_per_A3),
            store_frames=True,
            **settings.simulate_kwargs(),
        )
        if res.status != md.OK:
            raise RuntimeError(
                f"reference MD run at T = {T_K:g} K, rho = {rho_per_A3:g} /angstrom^3, "
                f"reference {settings.reference_params} failed: {md.STATUS_MESSAGES[res.status]}"
            )
        traj = res.trajectory
        r, mask = md._pair_distances(traj)
        r, mask = jnp.asarray(r), jnp.asarray(mask)
        ref = {k: jnp.asarray(v, dtype=float) for k, v in settings.reference}
        u_ref = jax.jit(partial(md._frame_sums, potential))(r, mask, ref)[0]
        entry = _Reference(
            result=res._replace(trajectory=None),
            n=traj.n_particles,
            T_K=traj.T_K,
            rho=traj.rho_per_A3,
            volume=traj.box_angstrom**3,
            r_cut=traj.r_cut_angstrom,
            long_range=traj.long_range,
            r=r,
            mask=mask,
            u_ref=u_ref,
            structure=jnp.asarray(traj.structure, dtype=float),
            q=np.asarray(traj.q),
        )
    _RUNS[key] = (potential, entry)
    return entry


class Reweighted(NamedTuple):
    """Reweighted averages of one state (JAX arrays, differentiable in the parameters)."""

    pressure_MPa: jax.Array
    energy_kJ_per_mol: jax.Array
    S: jax.Array  # on the reference's shells ``q``
    ess_fraction: jax.Array


def _reweight(potential, ref: _Reference, params) -> Reweighted:
    """The estimator of md.reweight (shared code) on the reference's pair distances."""
    params = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
    state = (ref.n, ref.T_K, ref.rho, ref.volume, ref.r_cut, ref.long_range)
    w, energy, pressure = md._reweighted_thermo(
        potential, state, ref.r, ref.mask, ref.u_ref, params
    )
    ess_fraction = 1.0 / (jnp.sum(w * w) * ref.r.shape[0])
    return Reweighted(pressure, energy, w @ ref.structure, ess_fraction)


def _md_curve_at(ref_q, S, q):
    """S on the MD shells, linearly interpolated to q; NaN outside the shells' range."""
    q = jnp.asarray(q, dtype=float)
    inside = (q >= ref_q[0]) & (q <= ref_q[-1])
    return jnp.where(inside, jnp.interp(q, jnp.asarray(ref_q), S), jnp.nan)


# ----------------------------------------------------------------------------- IE part

#: (id(potential), reference, closure, n, T, rho) -> (potential, IE solution at the reference)
_IE_REF: dict[tuple, tuple] = {}


def _ie(potential, settings, params, T, rho):
    sol = liquid.solve(potential, params, T, rho, closure=settings.closure, n=settings.n)
    ok = sol.status == liquid.CONVERGED
    return sol, ok


def _ie_reference(potential, settings: MDSettings, T, rho):
    key = (id(potential), settings.reference, settings.closure, settings.n, float(T), float(rho))
    hit = _IE_REF.get(key)
    if hit is not None:
        return hit[1]
    with jax.ensure_compile_time_eval():
        ref = {k: jnp.asarray(v, dtype=float) for k, v in settings.reference}
        sol, ok = _ie(potential, settings, ref, float(T), float(rho))
        if not bool(ok):
            raise RuntimeError(
                f"ie_corrected: the {settings.closure} integral equation does not converge at the "
                f"reference {settings.reference_params}, T = {T:g} K, rho = {rho:g} /angstrom^3 "
                f"(status {int(sol.status)}: {liquid.STATUS_MESSAGES[int(sol.status)]})"
            )
    _IE_REF[key] = (potential, sol)
    return sol


# ----------------------------------------------------------------------------- predict


@dataclass
class Engine:
    """What a built MD target's ``predict`` uses (``predict.md_engine``).

    Attributes
    ----------
    observable
        The observable's name.
    quantity
        ``"pressure"``, ``"energy"`` or ``"structure"``.
    potential
        The pair potential.
    settings
        The validated options.
    """

    observable: str
    quantity: str
    potential: object
    settings: MDSettings

    def reference(self, T_K, rho_per_A3) -> _Reference:
        """The (cached) reference run at a state."""
        return reference_run(self.potential, self.settings, T_K, rho_per_A3)

    def reweighted(self, params, T_K, rho_per_A3) -> Reweighted:
        """Reweighted averages at ``params`` (traceable); the state must be concrete."""
        return _reweight(self.potential, self.reference(T_K, rho_per_A3), params)

    def ess_fraction(self, params, T_K, rho_per_A3):
        """Kish ESS / n_frames at ``params`` for a state (traceable)."""
        return self.reweighted(params, T_K, rho_per_A3).ess_fraction

    def states(self, env) -> tuple[np.ndarray, np.ndarray, tuple]:
        """Distinct concrete (T, rho) states of ``env`` and each row's state index."""
        T, rho = _concrete(env["T_K"]), _concrete(env["rho_per_A3"])
        if T is None or rho is None:
            raise ValueError(
                f"{self.observable}: MD targets need concrete states (T_K, rho_per_A3) when the "
                "model is traced, to run one reference simulation per state; they are traced "
                "here: a hierarchical inadequacy vmaps the forward model over rows (use 'none', "
                "'inferred_scale' or 'gp' for MD targets), or env was an argument of jax.jit "
                "(close over it instead)."
            )
        T, rho = np.broadcast_arrays(T.astype(float), rho.astype(float))
        pairs = np.stack([T.ravel(), rho.ravel()], axis=1)
        states, inverse = np.unique(pairs, axis=0, return_inverse=True)
        return states, inverse.ravel(), T.shape

    def _md_value(self, params, T, rho, q):
        rw = self.reweighted(params, T, rho)
        ok = rw.ess_fraction >= self.settings.ess_min
        if self.quantity == "structure":
            val = _md_curve_at(self.reference(T, rho).q, rw.S, q)
        else:
            val = rw.pressure_MPa if self.quantity == "pressure" else rw.energy_kJ_per_mol
        # Outside the trust region the estimate is biased, not just noisy: NaN, which
        # the model turns into a rejected proposal (see the module docstring).
        return jnp.where(ok, val, jnp.nan)

    def _ie_corrected_value(self, params, T, rho, q):
        ref_run = self.reference(T, rho).result
        sol_ref = _ie_reference(self.potential, self.settings, T, rho)
        params = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
        sol, ok = _ie(self.potential, self.settings, params, T, rho)
        if self.quantity == "structure":
            md_ref = _md_curve_at(ref_run.q, jnp.asarray(ref_run.S), q)
            val = structure_factor_at(sol, q, rho) + (
                md_ref - structure_factor_at(sol_ref, q, rho)
            )
        elif self.quantity == "pressure":
            val = sol.pressure_MPa + (ref_run.pressure_MPa - sol_ref.pressure_MPa)
        else:
            val = sol.energy_kJ_per_mol + (ref_run.energy_kJ_per_mol - sol_ref.energy_kJ_per_mol)
        return jnp.where(ok, val, jnp.nan)

    def predict(self, params, env):
        """Predictions at ``params`` for the rows of ``env`` (see the module docstring)."""
        states, inverse, shape = self.states(env)
        value = self._md_value if self.settings.mode == "reweight" else self._ie_corrected_value
        if self.quantity == "structure":
            q = jnp.broadcast_to(jnp.asarray(env["q_inv_angstrom"], dtype=float), shape).ravel()
            out = jnp.full(q.shape, jnp.nan)
            for s, (T, rho) in enumerate(states):
                rows = np.flatnonzero(inverse == s)
                out = out.at[rows].set(value(params, float(T), float(rho), q[rows]))
            return out.reshape(shape)
        per_state = jnp.stack([value(params, float(T), float(rho), None) for T, rho in states])
        return per_state[inverse].reshape(shape)


def _builder(name: str, quantity: str):
    def build(potential, **options):
        settings = parse_options(potential, options, name)
        engine = Engine(name, quantity, potential, settings)

        def predict(params, env):
            return engine.predict(params, env)

        predict.md_engine = engine
        return predict

    build.__doc__ = f"Build ``predict(params, env)`` of {name} (options: :class:`MDSettings`)."
    return build


_T = EnvField("T_K", "temperature", "temperature")
_RHO = EnvField("rho_per_A3", "number_density", "number density")
_Q = EnvField("q_inv_angstrom", Q_DIMENSION, "scattering wave number q (1/angstrom)")
_REF = (
    "NVT Langevin MD with jax-md (bayesff.observables.md) and trajectory reweighting: "
    "Thaler and Zavadlav, Nat. Commun. 12, 6884 (2021), doi:10.1038/s41467-021-27241-4"
)
_OPTS = (
    "options: reference (required, internal units), n_particles (256), n_steps (4000), "
    "n_equil (1000), seed (0), r_cut_angstrom (3 sigma), sample_every (20), ess_min (0.3), "
    "mode ('reweight' | 'ie_corrected'), closure ('vm'), n (2048)"
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
    "pressure from NVT MD (virial + tail), reweighted from reference runs (NaN where "
    "ESS/n < ess_min) or as an MD-corrected integral equation",
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


# ----------------------------------------------------------------------------- refine


class StateESS(NamedTuple):
    """ESS fractions of posterior draws at one state of an MD target.

    ``rejected`` is the fraction of draws with ESS/n < ess_min (predictions NaN);
    ``low`` the fraction below ``ess_target`` (see :func:`refine`).
    """

    target: str
    T_K: float
    rho_per_A3: float
    trained: bool
    ess_min: float
    min: float
    median: float
    rejected: float
    low: float


@dataclass
class RefineReport:
    """Result of :func:`refine`.

    Attributes
    ----------
    states
        One :class:`StateESS` per (MD target in reweight mode, state).
    reference
        Proposed new reference: the posterior mean, internal units (kJ/mol,
        angstrom), every parameter of the potential (fixed ones included).
    reference_problem_units
        The posterior mean of the free parameters in the problem's units.
    needs_resimulation
        True if any trained state's median ESS fraction is below ``ess_target``
        or more than ``max_rejected`` of the draws are rejected there.
    reasons
        Why (empty if not needed).
    n_draws
        Posterior draws evaluated.
    divergent_fraction
        Fraction of divergent transitions of the run (None if unknown): NUTS
        marks trajectories that hit the trust-region wall as divergent.
    """

    states: list[StateESS]
    reference: dict[str, float]
    reference_problem_units: dict[str, float]
    needs_resimulation: bool
    reasons: list[str]
    n_draws: int
    ess_target: float
    divergent_fraction: float | None = None

    def format(self) -> str:
        """A table of the ESS figures and the verdict."""
        lines = [
            f"ESS / n_frames at {self.n_draws} posterior draws "
            f"(target median >= {self.ess_target:g}):",
            f"{'target':<14} {'T_K':>8} {'rho_per_A3':>11} {'min':>6} {'median':>7} "
            f"{'<ess_min':>8} {'<target':>8}",
        ]
        for s in self.states:
            flag = "" if s.trained else "  (held out)"
            lines.append(
                f"{s.target:<14} {s.T_K:>8.2f} {s.rho_per_A3:>11.6f} {s.min:>6.3f} "
                f"{s.median:>7.3f} {s.rejected:>8.1%} {s.low:>8.1%}{flag}"
            )
        if self.divergent_fraction is not None:
            lines.append(f"divergent transitions: {self.divergent_fraction:.1%}")
        ref = ", ".join(f"{k} = {v:.6g}" for k, v in self.reference.items())
        lines.append(f"posterior mean (internal units): {ref}")
        if self.needs_resimulation:
            lines.append("re-simulation needed: " + "; ".join(self.reasons))
        else:
            lines.append("no re-simulation needed: the posterior lies inside the trust region")
        return "\n".join(lines)


def _load_problem(problem):
    from bayesff.problem import Problem

    if isinstance(problem, Problem):
        return problem
    return Problem.from_toml(Path(problem))


def _posterior_draws(run, free):
    """Flat draws {name: (n,)} of the free parameters (problem units) and the divergences."""
    divergent = None
    if isinstance(run, Mapping) and all(n in run for n in free):
        return {n: np.asarray(run[n], dtype=float).ravel() for n in free}, None
    dt = getattr(run, "datatree", run)
    if isinstance(dt, (str, Path)):
        import xarray as xr

        dt = xr.open_datatree(dt, engine="h5netcdf")
    post = dt["posterior"]
    draws = {n: np.asarray(post[n].values, dtype=float).ravel() for n in free}
    try:
        divergent = float(np.mean(np.asarray(dt["sample_stats"]["diverging"].values)))
    except KeyError:
        divergent = None
    return draws, divergent


def reference_from_posterior(problem, run) -> dict[str, float]:
    """Posterior mean of the potential's parameters, internal units (a new reference).

    Parameters
    ----------
    problem
        A :class:`~bayesff.problem.Problem` or the path of its TOML file.
    run
        A :class:`~bayesff.inference.Run`, its DataTree, the path of a run file,
        or a dict of draws (problem units) of every free parameter.

    Returns
    -------
    dict
        Every parameter of the potential (fixed ones at their value), kJ/mol
        and angstrom, as floats: ready for ``options.reference``.
    """
    problem = _load_problem(problem)
    draws, _ = _posterior_draws(run, problem.free_parameters)
    return _mean_reference(problem, draws)[0]


def _mean_reference(problem, draws):
    mean = {n: float(np.mean(v)) for n, v in draws.items()}
    internal = {}
    for p in problem.potential.param_names:
        par = problem.parameters[p]
        value = par.value if par.fixed else mean[p]
        internal[p] = float(problem.to_internal(p, value))
    return internal, mean


def refine(
    problem,
    run,
    *,
    n_draws: int = 100,
    ess_target: float = 0.5,
    max_rejected: float = 0.05,
    batch_size: int = 8,
) -> RefineReport:
    """Check a finished run against its MD trust regions and propose a new reference.

    The outer loop of "re-simulate when the ESS drops": for every MD target in
    ``reweight`` mode and each of its states, the ESS fraction of the reference
    run is computed at ``n_draws`` posterior draws (evenly thinned). Inside
    NUTS every accepted draw had ESS/n >= ess_min; if the data pull the
    posterior out of the trust region, the draws pile up at its edge, just
    above ess_min. So re-simulation is needed when, at a trained state,

    * the median ESS fraction is below ``ess_target`` (default 0.5: the
      threshold of :class:`~bayesff.observables.md.ReweightingEstimator`, where a
      reweighted mean's variance is ~2x a direct run's), or
    * more than ``max_rejected`` of the draws have ESS/n < ess_min (draws that
      the current reference would reject: e.g. a run made with another
      reference).

    The new reference is the posterior mean (internal units). If a
    re-centred reference still fails, the posterior is wider than the trust
    region: fewer particles widen it (reach ~ 1/sqrt(N)), or read the result
    as truncated.

    Parameters
    ----------
    problem
        The :class:`~bayesff.problem.Problem` that was calibrated (or its TOML
        path); its MD targets' reference runs are reused from the in-process
        cache or re-simulated (same seed: the same frames on the same machine).
    run
        A :class:`~bayesff.inference.Run`, its DataTree, a run-file path, or a
        dict of draws (problem units) of every free parameter.
    n_draws
        Posterior draws evaluated (evenly spaced over all chains).
    ess_target
        Median ESS fraction a trained state must reach (0 < ess_target <= 1).
    max_rejected
        Largest tolerated fraction of draws below a target's ess_min.
    batch_size
        Draws reweighted at once (memory: batch x frames x pairs floats).

    Returns
    -------
    RefineReport
    """
    if not 0.0 < ess_target <= 1.0:
        raise ValueError(f"refine: ess_target must be in (0, 1], got {ess_target!r}")
    if not 0.0 <= max_rejected < 1.0:
        raise ValueError(f"refine: max_rejected must be in [0, 1), got {max_rejected!r}")
    from bayesff.model import build_model

    problem = _load_problem(problem)
    cp = build_model(problem)
    draws, divergent = _posterior_draws(run, cp.free)
    total = len(next(iter(draws.values())))
    pick = np.unique(np.linspace(0, total - 1, min(n_draws, total)).round().astype(int))
    thetas = {n: jnp.asarray(v[pick]) for n, v in draws.items()}
    states, reasons = [], []
    for k, t in enumerate(problem.targets):
        engine = getattr(cp.predicts[k], "md_engine", None)
        if engine is None or engine.settings.mode != "reweight":
            continue
        env = {c: t.env[c] for c in t.observable.env_columns}
        grid, inverse, _ = engine.states(env)
        for s, (T, rho) in enumerate(grid):
            T, rho = float(T), float(rho)
            engine.reference(T, rho)  # simulate (or reuse) outside the trace

            def one(theta, engine=engine, T=T, rho=rho):
                return engine.ess_fraction(cp.to_params(theta), T, rho)

            ess = np.asarray(jax.jit(partial(jax.lax.map, one, batch_size=batch_size))(thetas))
            trained = bool(t.train[inverse == s].any())
            st = StateESS(
                target=t.name,
                T_K=T,
                rho_per_A3=rho,
                trained=trained,
                ess_min=engine.settings.ess_min,
                min=float(ess.min()),
                median=float(np.median(ess)),
                rejected=float(np.mean(ess < engine.settings.ess_min)),
                low=float(np.mean(ess < ess_target)),
            )
            states.append(st)
            if not trained:
                continue
            where = f"{t.name} at T = {T:g} K, rho = {rho:g} /angstrom^3"
            if st.median < ess_target:
                reasons.append(f"{where}: median ESS/n {st.median:.3f} < {ess_target:g}")
            if st.rejected > max_rejected:
                reasons.append(
                    f"{where}: {st.rejected:.0%} of the draws below ess_min = {st.ess_min:g}"
                )
    reference, mean = _mean_reference(problem, draws)
    return RefineReport(
        states=states,
        reference=reference,
        reference_problem_units=mean,
        needs_resimulation=bool(reasons),
        reasons=reasons,
        n_draws=len(pick),
        ess_target=ess_target,
        divergent_fraction=divergent,
    )


def set_reference(doc: Mapping, reference: Mapping[str, float], targets=None) -> dict:
    """A copy of a problem document with ``options.reference`` of its MD targets replaced.

    Parameters
    ----------
    doc
        The parsed problem file (``tomllib.load``), as for ``Problem.from_dict``.
    reference
        New reference, internal units (e.g. :attr:`RefineReport.reference`).
    targets
        Names of the targets to change; default every target whose observable
        is an MD one (``md_pressure``, ``md_energy``, ``md_structure_factor``).

    Returns
    -------
    dict
        The new document (the input is not modified).
    """
    out = copy.deepcopy(dict(doc))
    md_names = {MD_PRESSURE.name, MD_ENERGY.name, MD_STRUCTURE_FACTOR.name}
    for t in out.get("targets", []):
        if targets is None:
            chosen = t.get("observable") in md_names
        else:
            chosen = t.get("name") in targets
        if chosen:
            t.setdefault("options", {})["reference"] = {k: float(v) for k, v in reference.items()}
    return out
