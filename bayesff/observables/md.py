r"""Reweighting stored MD frames to other parameters: pure functions of arrays.

A reference simulation (:func:`bayesff.simulate.lj_md.simulate`, or the
prepared runs of :mod:`bayesff.workflows.prepare`) stores its frames as a
:class:`Trajectory`. :func:`reweight` turns them into averages at other
parameters of the same potential (differentiable in the parameters), with the
Kish effective sample size; :func:`pair_distances`, :func:`frame_sums` and
:func:`reweighted_thermo` are the pieces the MD forward models
(:mod:`bayesff.observables.md_targets`) use on prepared arrays. Nothing here
simulates (simulators live in :mod:`bayesff.simulate`). See ``docs/md.md``.

Units: internal throughout (angstrom, kJ/mol, K, 1/angstrom^3); the pressure
in MPa, energies per particle in kJ/mol.

Reference: reweighting follows DiffTRe, S. Thaler and J. Zavadlav, Nat.
Commun. 12, 6884 (2021), doi:10.1038/s41467-021-27241-4.
"""

from __future__ import annotations

import dataclasses
import functools
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.potentials._spec import PairPotential
from bayesff.potentials.cutoff import tail_correction
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "ByIdentity",
    "ReweightedResult",
    "Trajectory",
    "default_r_cut",
    "frame_sums",
    "pair_distances",
    "reweight",
    "reweighted_thermo",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """Stored frames of a reference simulation, the input of :func:`reweight`.

    Arrays are NumPy (constants for reweighting). ``positions`` (F, N, 3)
    angstrom; ``neighbors`` (F, N, M) Dense neighbour indices valid for each
    frame (padding = N); ``histograms`` (F, n_bins) ordered pair counts;
    ``structure`` (F, n_q) per-frame S(q); ``params`` the reference parameters.
    """

    potential: PairPotential
    params: dict
    T_K: float
    rho_per_A3: float
    box_angstrom: float
    r_cut_angstrom: float
    long_range: str
    positions: np.ndarray
    neighbors: np.ndarray
    histograms: np.ndarray
    structure: np.ndarray
    r: np.ndarray
    r_edges: np.ndarray
    q: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @functools.cached_property
    def _reweighting(self):
        """What :func:`reweight` needs, computed on first use (:func:`_prepared`)."""
        return _prepared(self)

    @property
    def n_particles(self) -> int:
        return int(self.positions.shape[1])


class ReweightedResult(NamedTuple):
    """Reweighted averages at new parameters (JAX arrays, differentiable).

    ``ess`` is Kish's effective sample size (sum w)^2 / sum w^2 and
    ``ess_fraction`` = ess / n_frames; ``weights`` are normalised.
    ``resimulated`` is set by :class:`ReweightingEstimator` (False from
    :func:`reweight`).
    """

    g: jax.Array
    S: jax.Array
    pressure_MPa: jax.Array
    energy_kJ_per_mol: jax.Array
    ess: jax.Array
    ess_fraction: jax.Array
    weights: jax.Array
    resimulated: bool = False


def default_r_cut(potential, params) -> float:
    """The default cut-off of :func:`simulate`, angstrom: the wrapper's r_c for a
    cut-off-wrapped potential, else 3 length scales (3 sigma for LJ) at ``params``."""
    if potential.unwrapped is not None:
        bps = tuple(potential.breakpoints(**params))
        if bps:
            return float(bps[-1])
    return 3.0 * float(potential.length_scale(**params))


class ByIdentity:
    """Hashable-by-identity wrapper, to pass a potential as a static jit argument."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return isinstance(other, ByIdentity) and other.obj is self.obj


class _Meta(NamedTuple):
    potential: ByIdentity
    n: int
    T_K: float
    rho: float
    box: float
    r_cut: float
    long_range: str


def _meta(traj: Trajectory) -> _Meta:
    return _Meta(
        ByIdentity(traj.potential), traj.n_particles, traj.T_K, traj.rho_per_A3,
        traj.box_angstrom, traj.r_cut_angstrom, traj.long_range,
    )  # fmt: skip


def pair_distances(traj: Trajectory):
    """Distances of each stored frame's pairs i < j within r_cut, padded to one width.

    Computed once in NumPy (float64) from the frames' own neighbour lists, so that
    reweighting evaluates u(r) on a flat (frames, pairs) array: no gather or minimum
    image per call (~18x faster than recomputing them from positions, docs/md.md).

    Parameters
    ----------
    traj
        Stored frames (:attr:`MDResult.trajectory`).

    Returns
    -------
    r, mask
        ``(frames, width)`` distances (angstrom) and which entries are pairs,
        width the largest pair count of a frame; padding entries hold r_cut
        and mask False.
    """
    n, box, rc2 = traj.n_particles, traj.box_angstrom, traj.r_cut_angstrom**2
    rows = np.arange(n)[:, None]
    per_frame = []
    for R, idx in zip(traj.positions, traj.neighbors, strict=True):
        j = np.asarray(idx)
        keep = (j < n) & (j > rows)
        dR = R[:, None, :] - R[np.minimum(j, n - 1)]
        dR -= box * np.round(dR / box)
        r2 = np.sum(dR * dR, axis=-1)
        keep &= r2 < rc2
        per_frame.append(np.sqrt(r2[keep]))
    width = max(len(x) for x in per_frame)
    r = np.full((len(per_frame), width), traj.r_cut_angstrom)
    mask = np.zeros(r.shape, bool)
    for f, x in enumerate(per_frame):
        r[f, : len(x)] = x
        mask[f, : len(x)] = True
    return r, mask


def frame_sums(potential, r, mask, params, virial: bool = True):
    """Pair energy U (kJ/mol) and virial W = sum r u'(r) (kJ/mol) of every frame.

    ``r``, ``mask``: ``(..., pairs)`` from :func:`pair_distances`. With
    ``virial=False`` only U is computed (W is None): half the work.
    """
    zero = jnp.zeros_like(r)
    if not virial:
        return jnp.sum(jnp.where(mask, potential.energy(r, **params), zero), axis=-1), None
    u, du = jax.jvp(lambda x: potential.energy(x, **params), (r,), (jnp.ones_like(r),))
    return jnp.sum(jnp.where(mask, u, zero), axis=-1), jnp.sum(jnp.where(mask, r * du, zero), -1)


def reweighted_thermo(potential, state, r, mask, u_ref, params, virial: bool = True):
    r"""Normalised weights, energy per particle (kJ/mol) and pressure (MPa) at ``params``.

    ``state`` = (n, T_K, rho, volume, r_cut, tail) of the reference run, ``tail``
    true (or 1.0) to add the long-range corrections
    (:func:`~bayesff.potentials.cutoff.tail_correction`), false (0.0) not to;
    every entry may be traced.
    The estimator of :func:`reweight`, shared with
    :mod:`bayesff.observables.md_targets`:

    .. math::

        w_i = \frac{e^{-\beta [U_i(\theta) - U_i(\theta_0)]}}{\sum_j e^{-\beta [U_j(\theta)
        - U_j(\theta_0)]}}, \quad e = \sum_i w_i U_i / N, \quad
        p = \rho k_B T - \sum_i w_i W_i / (3 V)

    With ``virial=False`` the pressure is None (only U is evaluated).
    """
    n, T_K, rho, volume, r_cut, tail = state
    kT = GAS_CONSTANT_KJ_PER_MOL_K * T_K
    U, W = frame_sums(potential, r, mask, params, virial)
    w = jax.nn.softmax(-(U - u_ref) / kT)
    energy = jnp.sum(w * U) / n
    pressure = None
    if virial:
        pressure = (rho * kT - jnp.sum(w * W) / (3.0 * volume)) * KJ_PER_MOL_PER_A3_IN_MPA
    # a flag rather than a branch, so that it may be data (traced)
    flag = jnp.asarray(tail, dtype=energy.dtype)
    tc = tail_correction(potential, params, r_cut, rho)
    energy = energy + flag * tc.energy_per_particle
    if virial:
        pressure = pressure + flag * tc.pressure
    return w, energy, pressure


@partial(jax.jit, static_argnums=0)
def _reference_energies_jit(meta, r, mask, params):
    return frame_sums(meta.potential.obj, r, mask, params, virial=False)[0]


@partial(jax.jit, static_argnums=0)
def _reweight_core(meta: _Meta, arrays, params, u_ref):
    r, mask, histograms, structure, shell = arrays
    tail = meta.long_range == "tail"
    state = (meta.n, meta.T_K, meta.rho, meta.box**3, meta.r_cut, tail)
    w, energy, pressure = reweighted_thermo(meta.potential.obj, state, r, mask, u_ref, params)
    ess = 1.0 / jnp.sum(w * w)
    g = (w @ histograms) / (meta.n * (meta.n - 1) / meta.box**3 * shell)
    S = w @ structure
    return ReweightedResult(g, S, pressure, energy, ess, ess / r.shape[0], w)


def _prepared(traj: Trajectory):
    """Device arrays and reference energies of a trajectory (computed once per trajectory:
    :attr:`Trajectory._reweighting` caches them on the object, not in a module cache)."""
    meta = _meta(traj)
    shell = 4.0 / 3.0 * np.pi * (traj.r_edges[1:] ** 3 - traj.r_edges[:-1] ** 3)
    r, mask = pair_distances(traj)
    arrays = (
        jnp.asarray(r),
        jnp.asarray(mask),
        jnp.asarray(traj.histograms, dtype=float),
        jnp.asarray(traj.structure, dtype=float),
        jnp.asarray(shell),
    )
    ref = {k: jnp.asarray(v, dtype=float) for k, v in traj.params.items()}
    u_ref = _reference_energies_jit(meta, arrays[0], arrays[1], ref)
    return meta, arrays, u_ref


def reweight(traj: Trajectory, params: dict) -> ReweightedResult:
    r"""Averages at new parameters from the frames of a reference run (DiffTRe-style).

    For each stored frame i, U_i(theta) is recomputed at the new parameters
    (same r_cut, same state point); with beta = 1 / k_B T,

    .. math::

        w_i \propto \exp[-\beta (U_i(\theta) - U_i(\theta_0))], \qquad
        \langle A \rangle_\theta = \sum_i w_i A_i(\theta), \qquad
        \mathrm{ESS} = \frac{(\sum_i w_i)^2}{\sum_i w_i^2}

    for A = U/N, the virial pressure, the g(r) histogram and S(q) (+ tails).
    The frames are constants, so ``jax.grad`` of any output with respect to
    ``params`` is the reweighting gradient of Thaler and Zavadlav, Nat.
    Commun. 12, 6884 (2021), doi:10.1038/s41467-021-27241-4. At theta_0 the
    weights are exactly uniform and the averages are the plain ones. Works
    under ``jit``/``grad`` (params traced); the reference energies are
    computed once per trajectory, in float64.

    Parameters
    ----------
    traj
        Frames from :func:`simulate` (``MDResult.trajectory``).
    params
        New parameters of the same potential (internal units), scalars.

    Returns
    -------
    ReweightedResult
        A low ``ess_fraction`` (say < 0.5) means the estimate is unreliable:
        re-simulate (:class:`ReweightingEstimator` does it).
    """
    if set(params) != set(traj.potential.param_names):
        raise ValueError(
            f"reweight: potential {traj.potential.name!r} takes parameters "
            f"{list(traj.potential.param_names)}, got {sorted(params)}"
        )
    meta, arrays, u_ref = traj._reweighting
    params = {k: jnp.asarray(v, dtype=float) for k, v in params.items()}
    return _reweight_core(meta, arrays, params, u_ref)
