r"""The jax-md engine: molecular MD with the JAX force field, in float64.

Forces are ``-grad`` of :func:`bayesff.potentials.forcefield.energy` (the
same code that reweighting uses). The rest, and why it is written here:

- **Neighbour list**: jax-md's ``partition.neighbor_list`` in the
  ``OrderedSparse`` format (pairs i < j, padding N, exactly the input of
  :func:`~bayesff.potentials.forcefield.energy`), on fractional coordinates so
  that the box may change, with jax-md's cell list when the box holds 3 cells
  per edge. Chosen over a hand-written cell list because it is jax-md's
  maintained code with overflow flags; every chunk of steps checks them
  (``did_buffer_overflow``, ``cell_size_too_small``), re-allocates a larger
  list and redoes the chunk. The list's radius is r_c + ``box_margin``; the
  skin covers particle motion (rebuild when a site moved half of it), the
  margin covers the shrinking of the box by volume moves (a rebuild is forced
  once the box has shrunk by more than the margin allows since the last one).
- **Integrator**: geodesic BAOAB Langevin (B. Leimkuhler and C. Matthews,
  Proc. R. Soc. A 472, 20160138 (2016), doi:10.1098/rspa.2016.0138) with
  SHAKE for positions and RATTLE for velocities (H. C. Andersen, J. Comput.
  Phys. 52, 24 (1983), doi:10.1016/0021-9991(83)90014-1) on fixed bonds.
  jax-md has no constraint solver; the constraints are applied colour by
  colour (an edge colouring of the bond graph: constraints of one colour share
  no site, so each colour is one exact parallel update), iterated to a
  relative tolerance, with a failure flag when they do not converge.
- **Barostat**: Monte Carlo volume moves scaling the molecular centres of
  mass at fixed internal geometry (the molecular NPT ensemble: K.-H. Chow and
  D. M. Ferguson, Comput. Phys. Commun. 91, 283 (1995),
  doi:10.1016/0010-4655(95)00059-O; J. Åqvist et al., Chem. Phys. Lett. 384,
  288 (2004), doi:10.1016/j.cplett.2003.12.039), as OpenMM's
  ``MonteCarloBarostat`` does: uniform steps in V, acceptance
  :math:`\min[1, e^{-\beta(\Delta U + p\Delta V) + N_{mol}\ln(V'/V)}]`, the
  energy including the tail. The step size adapts during equilibration only.

Units: angstrom, ps, kJ/mol, g/mol (mass in kJ/mol ps^2/angstrom^2 is
0.01 m in g/mol). Positions are never wrapped, so molecules stay whole.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import ProblemError
from bayesff.potentials import forcefield as ff
from bayesff.simulate.engines import (
    EngineError,
    RunSettings,
    SimulatedSystem,
    State,
    Trajectory,
)
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = ["JaxMDOptions", "constraint_colours", "run"]

#: m [kJ/mol ps^2 / angstrom^2] = MASS_UNIT * m [g/mol] (1 kJ/mol = 100 g/mol A^2/ps^2).
MASS_UNIT = 0.01

#: jax-md's sparse neighbour-list pruning mixes int dtypes under x64 and jax warns at
#: trace time; harmless (indices < N). Filtered only around jax-md calls.
_JAX_MD_WARNING = "scatter inputs have incompatible types"

_FRAMES_PER_CHUNK = 10

#: XLA options for programs that run once (minimisation, first forces): compiling them
#: with backend optimisation off saves ~10 s here and costs little at run time.
_ONE_SHOT = {"xla_backend_optimization_level": 0}


@dataclasses.dataclass(frozen=True)
class JaxMDOptions:
    """Numerical settings of the jax-md engine beyond :class:`RunSettings`.

    Attributes
    ----------
    skin_angstrom
        Neighbour-list skin (rebuild when a site moved half of it).
    box_margin_angstrom
        Extra list radius reserved for volume moves that shrink the box.
    capacity_multiplier
        Spare capacity of a newly allocated list.
    max_reallocations
        Overflows tolerated before the run fails.
    max_constraint_iterations
        SHAKE/RATTLE sweeps before a step is declared failed.
    minimize_steps
        Steepest-descent steps (with SHAKE) when ``settings.minimize``.
    """

    skin_angstrom: float = 1.0
    box_margin_angstrom: float = 0.5
    capacity_multiplier: float = 1.25
    max_reallocations: int = 8
    max_constraint_iterations: int = 500
    minimize_steps: int = 200


def constraint_colours(pairs: np.ndarray) -> list[np.ndarray]:
    """Greedy edge colouring: groups of constraint indices that share no site.

    For a linear chain this gives two colours (alternate bonds).
    """
    colour_of: list[int] = []
    used_by_site: dict[int, set[int]] = {}
    for i, j in pairs:
        taken = used_by_site.get(int(i), set()) | used_by_site.get(int(j), set())
        c = 0
        while c in taken:
            c += 1
        colour_of.append(c)
        used_by_site.setdefault(int(i), set()).add(c)
        used_by_site.setdefault(int(j), set()).add(c)
    colours = np.asarray(colour_of, dtype=int)
    return (
        [np.flatnonzero(colours == c) for c in range(int(colours.max()) + 1)]
        if len(colours)
        else []
    )


class _Constraints(NamedTuple):
    groups: tuple  # per colour: (i, j, d, inv_mi, inv_mj)


def _constraint_data(system: ff.System, inv_mass: np.ndarray) -> _Constraints:
    a = system.arrays
    pairs, lengths = a["constraints"], a["constraint_length"]
    groups = []
    for idx in constraint_colours(pairs):
        i, j = pairs[idx, 0], pairs[idx, 1]
        groups.append((i, j, lengths[idx], inv_mass[i], inv_mass[j]))
    return _Constraints(tuple(groups))


def _shake(cons: _Constraints, q, q_ref, box, tol, max_iter):
    """Positions q corrected so that every constrained distance equals its length.

    Correction along the reference bond vectors (q_ref, which satisfy the
    constraints); returns (q, converged).
    """
    if not cons.groups:
        return q, jnp.array(True)

    def sweep(q):
        err = jnp.zeros((), q.dtype)
        for i, j, d, wi, wj in cons.groups:
            s = ff.minimum_image(q[i] - q[j], box)
            s0 = ff.minimum_image(q_ref[i] - q_ref[j], box)
            diff = d * d - jnp.sum(s * s, axis=-1)
            g = diff / (2.0 * (wi + wj) * jnp.sum(s * s0, axis=-1))
            q = q.at[i].add((g * wi)[:, None] * s0).at[j].add(-(g * wj)[:, None] * s0)
            err = jnp.maximum(err, jnp.max(jnp.abs(diff) / (d * d)))
        return q, err

    def cond(c):
        _, err, k = c
        return (err > tol) & (k < max_iter)

    def body(c):
        q, _, k = c
        q, err = sweep(q)
        return q, err, k + 1

    q, err, _ = jax.lax.while_loop(cond, body, (q, jnp.asarray(jnp.inf, q.dtype), 0))
    return q, err <= tol


def _rattle(cons: _Constraints, q, v, box, tol, max_iter):
    """Velocities projected so that every constrained distance is stationary."""
    if not cons.groups:
        return v, jnp.array(True)

    def sweep(v):
        err = jnp.zeros((), v.dtype)
        for i, j, d, wi, wj in cons.groups:
            s = ff.minimum_image(q[i] - q[j], box)
            sv = jnp.sum(s * (v[i] - v[j]), axis=-1)
            k = sv / ((wi + wj) * d * d)
            v = v.at[i].add(-(k * wi)[:, None] * s).at[j].add((k * wj)[:, None] * s)
            err = jnp.maximum(err, jnp.max(jnp.abs(sv)) / jnp.min(d * d))
        return v, err

    def cond(c):
        _, err, k = c
        return (err > tol) & (k < max_iter)

    def body(c):
        v, _, k = c
        v, err = sweep(v)
        return v, err, k + 1

    v, err, _ = jax.lax.while_loop(cond, body, (v, jnp.asarray(jnp.inf, v.dtype), 0))
    return v, err <= tol


class _MDState(NamedTuple):
    R: jax.Array  # (N, 3) angstrom, unwrapped
    V: jax.Array  # (N, 3) angstrom/ps
    F: jax.Array  # (N, 3) kJ/mol/angstrom
    U: jax.Array  # potential energy, kJ/mol
    box: jax.Array  # (3,)
    key: jax.Array
    ok: jax.Array  # constraints converged so far
    shrink: jax.Array  # box edge / edge at the last list rebuild
    n_moves: jax.Array
    n_accepted: jax.Array


def _fractional(R, box):
    return jnp.mod(R / box, 1.0)


class _Engine:
    """Compiled pieces of one run (built once per call of :func:`run`)."""

    def __init__(
        self, system: SimulatedSystem, settings: RunSettings, opts: JaxMDOptions, gas: bool
    ):
        s = system.system
        self.system = s
        self.gas = gas
        self.params = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in system.params.items()}
        self.settings = settings
        self.opts = opts
        mass = s.masses * MASS_UNIT
        self.inv_mass = jnp.asarray(1.0 / mass)
        self.sqrt_mass = jnp.asarray(np.sqrt(mass))
        self.cons = _constraint_data(s, 1.0 / mass)
        self.n_constraints = int(s.arrays["constraints"].shape[0])
        self.kT = GAS_CONSTANT_KJ_PER_MOL_K * settings.T_K
        self.dt = settings.dt_fs * 1e-3
        self.c = math.exp(-settings.friction_per_ps * self.dt)
        self.p = settings.p_MPa / KJ_PER_MOL_PER_A3_IN_MPA  # kJ/mol/A^3
        rc = s.topology.r_cut_angstrom
        self.list_radius = rc + opts.box_margin_angstrom
        # rebuild when the box has shrunk so far that an unlisted pair may be within r_c
        self.min_shrink = (rc + opts.skin_angstrom) / (self.list_radius + opts.skin_angstrom)
        self.mol = s.arrays["site_molecule"]
        self.n_mol = s.n_molecules
        self.mol_mass = jax.ops.segment_sum(jnp.asarray(s.masses), self.mol, self.n_mol)
        self.single = ff.System(s.topology, ((s.counts[0][0], 1),)) if gas else None
        if not gas:
            # jax_md creates arrays when imported, which starts JAX's backend before
            # bayesff.configure() could split the CPU: imported when an engine is built
            from jax_md import partition, space

            disp, _ = space.periodic_general(jnp.ones(3), fractional_coordinates=True)
            self.neighbor_fn = partition.neighbor_list(
                disp,
                jnp.ones(3),
                self.list_radius,
                dr_threshold=opts.skin_angstrom,
                capacity_multiplier=opts.capacity_multiplier,
                fractional_coordinates=True,
                format=partition.NeighborListFormat.OrderedSparse,
            )

    # ----------------------------------------------------------------- energy, forces

    def energy(self, R, box, idx):
        if self.gas:
            # independent molecules: the sum of single-molecule energies
            x = R.reshape(self.system.n_molecules, -1, 3)
            one = partial(ff.energy, self.single, box=None, params=self.params)
            return jnp.sum(jax.vmap(one)(x))
        return ff.energy(self.system, R, box, self.params, idx)

    def energy_forces(self, R, box, idx):
        u, g = jax.value_and_grad(self.energy)(R, box, idx)
        return u, -g

    # ----------------------------------------------------------------- neighbour list

    def refresh(self, nbrs, R, box, force):
        """Update the list at (R, box); force a rebuild by moving the reference far."""
        if self.gas:
            return nbrs
        ref = jnp.where(force, nbrs.reference_position + 0.5, nbrs.reference_position)
        nbrs = dataclasses.replace(nbrs, reference_position=jnp.mod(ref, 1.0))
        return nbrs.update(_fractional(R, box), box=box)

    def allocate(self, R, box, extra=0):
        if self.gas:
            return None
        return self.neighbor_fn.allocate(_fractional(R, box), box=box, extra_capacity=extra)

    @staticmethod
    def idx(nbrs):
        return None if nbrs is None else nbrs.idx

    # ----------------------------------------------------------------- integrator

    def cbox(self, box):
        """The box for minimum images of bond vectors (None in the gas phase)."""
        return None if self.gas else box

    def shake(self, q, q_ref, box):
        tol, n = self.settings.constraint_tolerance, self.opts.max_constraint_iterations
        return _shake(self.cons, q, q_ref, self.cbox(box), tol, n)

    def project(self, R, V, box):
        tol, n = self.settings.constraint_tolerance, self.opts.max_constraint_iterations
        return _rattle(self.cons, R, V, self.cbox(box), tol, n)

    def drift(self, R, V, box, h):
        Rn = R + h * V
        Rc, ok = self.shake(Rn, R, box)
        V = V + (Rc - Rn) / h
        V, ok2 = self.project(Rc, V, box)
        return Rc, V, ok & ok2

    def step(self, st: _MDState, nbrs):
        dt = self.dt
        box = st.box
        V = st.V + 0.5 * dt * st.F * self.inv_mass[:, None]
        V, ok0 = self.project(st.R, V, box)
        R, V, ok1 = self.drift(st.R, V, box, 0.5 * dt)
        key, sub = jax.random.split(st.key)
        noise = jax.random.normal(sub, V.shape, V.dtype)
        V = self.c * V + math.sqrt((1.0 - self.c**2) * self.kT) * noise / self.sqrt_mass[:, None]
        V, ok2 = self.project(R, V, box)
        R, V, ok3 = self.drift(R, V, box, 0.5 * dt)
        nbrs = self.refresh(nbrs, R, box, st.shrink < self.min_shrink)
        shrink = jnp.where(st.shrink < self.min_shrink, 1.0, st.shrink)
        U, F = self.energy_forces(R, box, self.idx(nbrs))
        V = V + 0.5 * dt * F * self.inv_mass[:, None]
        V, ok4 = self.project(R, V, box)
        ok = st.ok & ok0 & ok1 & ok2 & ok3 & ok4
        return st._replace(R=R, V=V, F=F, U=U, key=key, ok=ok, shrink=shrink), nbrs

    # ----------------------------------------------------------------- barostat

    def volume_move(self, st: _MDState, nbrs, dv_max):
        key, k1, k2 = jax.random.split(st.key, 3)
        vol = jnp.prod(st.box)
        new_vol = vol + dv_max * jax.random.uniform(k1, (), minval=-1.0, maxval=1.0)
        lam = jnp.cbrt(jnp.maximum(new_vol, 1e-3 * vol) / vol)
        m = jnp.asarray(self.system.masses)
        com = jax.ops.segment_sum(m[:, None] * st.R, self.mol, self.n_mol) / self.mol_mass[:, None]
        R_new = st.R + (lam - 1.0) * com[self.mol]
        box_new = lam * st.box
        shrink = st.shrink * lam
        force = shrink < self.min_shrink
        nbrs_new = self.refresh(nbrs, R_new, box_new, force)
        U_new, F_new = self.energy_forces(R_new, box_new, self.idx(nbrs_new))
        log_acc = -(U_new - st.U + self.p * (new_vol - vol)) / self.kT + self.n_mol * jnp.log(
            new_vol / vol
        )
        accept = (
            (new_vol > 0) & (jnp.log(jax.random.uniform(k2, ())) < log_acc) & jnp.isfinite(U_new)
        )
        pick = partial(jnp.where, accept)
        st = st._replace(
            R=pick(R_new, st.R),
            F=pick(F_new, st.F),
            U=pick(U_new, st.U),
            box=pick(box_new, st.box),
            key=key,
            shrink=pick(jnp.where(force, 1.0, shrink), st.shrink),
            n_moves=st.n_moves + 1,
            n_accepted=st.n_accepted + accept.astype(st.n_accepted.dtype),
        )
        nbrs = jax.tree.map(partial(jnp.where, accept), nbrs_new, nbrs)
        return st, nbrs

    # ----------------------------------------------------------------- frames

    def frames(self, carry, dv_max, n_frames):
        """``n_frames`` frames of ``sample_every`` steps; volume moves every ``barostat_every``."""
        every = self.settings.sample_every
        baro = self.settings.barostat_every

        def one_step(k, c):
            st, nbrs = c
            st, nbrs = self.step(st, nbrs)
            if not self.gas:
                st, nbrs = jax.lax.cond(
                    (k + 1) % baro == 0,
                    lambda a: self.volume_move(a[0], a[1], dv_max),
                    lambda a: a,
                    (st, nbrs),
                )
            return st, nbrs

        def frame(c, _):
            c = jax.lax.fori_loop(0, every, one_step, c)
            st = c[0]
            return c, (st.R, st.box, st.U)

        return jax.lax.scan(frame, carry, None, length=n_frames)

    # ----------------------------------------------------------------- minimisation

    def minimize(self, R, box, nbrs, n_steps):
        """Steepest descent with SHAKE; the step (angstrom per max force) adapts."""

        def body(_, c):
            R, U, F, h, nbrs = c
            fmax = jnp.max(jnp.linalg.norm(F, axis=-1))
            trial = R + h * F / jnp.maximum(fmax, 1e-12)
            trial, _ = self.shake(trial, R, box)
            nb = self.refresh(nbrs, trial, box, jnp.array(False))
            U2, F2 = self.energy_forces(trial, box, self.idx(nb))
            better = U2 < U
            pick = partial(jnp.where, better)
            nbrs = jax.tree.map(pick, nb, nbrs) if nbrs is not None else None
            return (
                pick(trial, R),
                pick(U2, U),
                pick(F2, F),
                jnp.where(better, 1.2 * h, 0.5 * h),
                nbrs,
            )

        U, F = self.energy_forces(R, box, self.idx(nbrs))
        R, U, F, _, nbrs = jax.lax.fori_loop(0, n_steps, body, (R, U, F, jnp.asarray(0.05), nbrs))
        return R, nbrs


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", message=_JAX_MD_WARNING, category=FutureWarning)
    return ctx


def _nbr_failed(nbrs) -> bool:
    if nbrs is None:
        return False
    return bool(nbrs.did_buffer_overflow) or bool(nbrs.cell_size_too_small)


class _Advance:
    """Frames of the compiled integrator with the run's checks: the neighbour list
    reallocated (bounded) when it overflows, blow-ups and failed constraints as
    EngineError."""

    def __init__(self, eng: _Engine, opts: JaxMDOptions, where: str):
        self.eng, self.opts, self.where = eng, opts, where
        self.frames_fn = jax.jit(eng.frames, static_argnums=2)
        self.n_realloc = 0

    def __call__(self, st, nbrs, dv, n_frames):
        where = self.where
        while True:
            (new, new_nbrs), obs = self.frames_fn((st, nbrs), jnp.asarray(dv), n_frames)
            if not _nbr_failed(new_nbrs):
                break
            self.n_realloc += 1
            if self.n_realloc > self.opts.max_reallocations:
                raise EngineError(
                    f"{where}: the neighbour list overflowed {self.n_realloc} times; the density "
                    "changed far from what the list was sized for (raise max_reallocations "
                    "or capacity_multiplier)"
                )
            nbrs = self.eng.allocate(st.R, st.box, extra=max(int(nbrs.idx.shape[1]) // 4, 1))
        if not bool(new.ok):
            raise EngineError(
                f"{where}: the bond constraints did not converge within "
                f"{self.opts.max_constraint_iterations} iterations: the run blew up; lower dt_fs"
            )
        R_obs, _, U_obs = obs
        if not (np.all(np.isfinite(np.asarray(U_obs))) and np.all(np.isfinite(np.asarray(R_obs)))):
            raise EngineError(
                f"{where}: non-finite potential energy or positions: the run blew up; lower "
                "dt_fs or equilibrate from a less strained start"
            )
        return new, new_nbrs, obs


def _start(eng: _Engine, system: SimulatedSystem, state: State, settings: RunSettings, *,
           opts: JaxMDOptions, gas: bool, where: str):  # fmt: skip
    """The first integrator state (constrained, minimised if asked, velocities drawn or
    given, constraint-projected) and its neighbour list."""
    R = jnp.asarray(state.positions, dtype=jnp.float64)
    box = jnp.ones(3) if gas else jnp.asarray(state.box, dtype=jnp.float64)
    if not gas:
        R = ff.unwrap(system.system, R, box)  # molecules whole from here on
    nbrs = eng.allocate(R, box)
    R, ok = eng.shake(R, R, box)
    if not bool(ok):
        raise EngineError(f"{where}: the start configuration cannot satisfy its bond constraints")
    if settings.minimize:
        minimize = jax.jit(eng.minimize, static_argnums=3, compiler_options=_ONE_SHOT)
        R, nbrs = minimize(R, box, nbrs, opts.minimize_steps)
        nbrs = eng.allocate(R, box)
    U, F = jax.jit(eng.energy_forces, compiler_options=_ONE_SHOT)(R, box, eng.idx(nbrs))
    key = jax.random.PRNGKey(settings.seed)
    key, kv = jax.random.split(key)
    if state.velocities is not None:
        V = jnp.asarray(state.velocities, dtype=jnp.float64)
    else:
        V = jax.random.normal(kv, R.shape) * jnp.sqrt(eng.kT * eng.inv_mass)[:, None]
    V, _ = eng.project(R, V, box)
    st = _MDState(
        R, V, F, U, box, key, jnp.array(True), jnp.asarray(1.0), jnp.asarray(0), jnp.asarray(0)
    )
    return st, nbrs


def _equilibrate(advance: _Advance, st, nbrs, settings: RunSettings, gas: bool):
    """Equilibration in frames of sample_every steps; returns the state, the list and the
    volume step (A^3), adapted per chunk towards half of the volume moves accepted."""
    # initial volume step: 1 % of the volume
    dv = 0.01 * float(jnp.prod(st.box)) if not gas else 0.0
    n_eq_frames = -(-settings.n_equil // settings.sample_every)
    while n_eq_frames > 0:
        k = min(_FRAMES_PER_CHUNK, n_eq_frames)
        moves0, acc0 = int(st.n_moves), int(st.n_accepted)
        st, nbrs, _ = advance(st, nbrs, dv, k)
        moves = int(st.n_moves) - moves0
        if moves and not gas:
            rate = (int(st.n_accepted) - acc0) / moves
            # towards half of the moves accepted (OpenMM's MonteCarloBarostat aims at
            # 25-75 %); adapted in equilibration only, fixed in production
            dv *= min(max(rate / 0.5, 0.5), 2.0)
            dv = min(dv, 0.05 * float(jnp.prod(st.box)))
        n_eq_frames -= k
    return st, nbrs, dv


def _produce(advance: _Advance, st, nbrs, dv: float, n_frames: int):
    """Production frames in chunks; returns the last state and (positions, boxes,
    energies) as NumPy arrays."""
    chunks = []
    done = 0
    while done < n_frames:
        k = min(_FRAMES_PER_CHUNK, n_frames - done)
        st, nbrs, obs = advance(st, nbrs, dv, k)
        chunks.append(tuple(np.asarray(x) for x in obs))
        done += k
    return st, tuple(np.concatenate([c[i] for c in chunks]) for i in range(3))


def run(
    system: SimulatedSystem,
    state: State,
    settings: RunSettings,
    options: JaxMDOptions | None = None,
) -> Trajectory:
    """NPT liquid or gas-phase molecule with the jax-md engine (module docstring)."""
    if not jax.config.jax_enable_x64:
        raise ProblemError(
            "the jax-md engine integrates in float64: call bayesff.configure() (or enable "
            "jax_enable_x64) first",
            "jax-md engine",
        )
    opts = options or JaxMDOptions()
    t0 = time.perf_counter()
    gas = settings.ensemble == "gas"
    eng = _Engine(system, settings, opts, gas)
    where = f"jax-md, {settings.describe()}"
    s = system.system
    ctx = _quiet()
    try:
        st, nbrs = _start(eng, system, state, settings, opts=opts, gas=gas, where=where)
        advance = _Advance(eng, opts, where)
        st, nbrs, dv = _equilibrate(advance, st, nbrs, settings, gas)
        t_prod = time.perf_counter()
        n_frames = settings.n_steps // settings.sample_every
        moves0, acc0 = int(st.n_moves), int(st.n_accepted)
        st, (positions, boxes, energies) = _produce(advance, st, nbrs, dv, n_frames)
    finally:
        ctx.__exit__(None, None, None)
    t_end = time.perf_counter()
    if gas:
        boxes = np.full_like(boxes, np.nan)
    dt_ps = eng.dt
    ns = n_frames * settings.sample_every * dt_ps * 1e-3
    moves = int(st.n_moves) - moves0
    return Trajectory(
        system=s,
        params=dict(system.params),
        settings=settings,
        engine="jax-md",
        positions=positions,
        box=boxes,
        potential_energy=energies,
        volume=np.prod(boxes, axis=1),
        time_ps=(np.arange(n_frames) + 1) * settings.sample_every * dt_ps,
        wall_s=t_end - t0,
        ns_per_day=ns / ((t_end - t_prod) / 86400.0),
        info={
            "n_reallocations": advance.n_realloc,
            "volume_step_A3": dv,
            "volume_acceptance": (int(st.n_accepted) - acc0) / moves if moves else None,
            "degrees_of_freedom": 3 * s.n_sites - eng.n_constraints,
            "options": dataclasses.asdict(opts),
        },
    )
