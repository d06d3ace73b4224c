r"""Differentiable reweighting of stored molecular configurations (NPT liquid, ideal gas).

Stored frames of reference runs (the NPT liquid at parameters
:math:`\theta_k`, temperature :math:`T_k`, pressure :math:`p_k`; isolated
molecules in the gas phase) are turned into averages at new nonbonded
parameters :math:`\theta` by the multistate Bennett acceptance ratio (MBAR:
M. R. Shirts and J. D. Chodera, J. Chem. Phys. 129, 124105 (2008),
doi:10.1063/1.2978177). With :math:`u_k(x) = \beta_k [U(x; \theta_k) + p_k V(x)]`
the reduced potential of reference state k (:math:`N_k` frames, free energy
:math:`f_k`) and :math:`u(x) = \beta [U(x; \theta) + p V(x)]` the target,

.. math::

    w_n \propto \frac{e^{-u(x_n)}}{\sum_k N_k e^{f_k - u_k(x_n)}}, \qquad
    \langle A \rangle_\theta = \sum_n w_n A(x_n), \qquad
    \mathrm{ESS} = \frac{(\sum_n w_n)^2}{\sum_n w_n^2}

over all frames of all reference runs of one kind. The :math:`f_k` are solved
once by pymbar 4 (``solver_protocol="robust"``) when the data are prepared;
the denominator is then a constant per frame, and a prediction is a pure,
jit-able function of :math:`\theta` differentiable by JAX (the frames are
constants: the DiffTRe estimator of S. Thaler and J. Zavadlav, Nat. Commun.
12, 6884 (2021), doi:10.1038/s41467-021-27241-4, generalised to several
reference states). With one reference state and :math:`\theta = \theta_1` the
weights are exactly uniform.

Energies. Every :math:`U(x_n; \cdot)`, the sampled state's included, is
recomputed here in float64 from the configurations, never taken from the
engine (OpenMM's CPU platform is mixed precision). The nonbonded energy is
linear in per-frame sums :math:`S^{(k)}_{ab} = \sum r^{-k}` over the counted
pairs of site types a, b (within :math:`r_c`, exclusions applied; 1-4 pairs,
scaled, separately), so that preparation stores those sums and

.. math::

    U(x; \theta) = \sum_{ab} C_{ab}\varepsilon_{ab} \left[\sigma_{ab}^{n_{ab}} S^{(n)}_{ab}
      - \sigma_{ab}^{m_{ab}} S^{(m)}_{ab}\right] + U_{bonded}(x) + U_{tail}(V; \theta)

is exact (equal to :func:`bayesff.potentials.forcefield.energy` to rounding)
and costs O(frames x type pairs) per evaluation. The exponents are fixed at
their reference values: epsilon and sigma of every site type (and explicit
unlike pairs) are reweightable, Mie exponents are not.

Averages (:class:`MolecularAverages`): the mass density :math:`\langle
M/V\rangle`, the liquid's energy per molecule :math:`\langle U\rangle/N`
(intramolecular, intermolecular and tail), the volume per molecule, the gas
molecule's intramolecular energy, and the enthalpy of vaporisation

.. math::

    \Delta H_{vap} = \langle U_{gas}\rangle - \frac{\langle U_{liq}\rangle}{N}
        + p\left(\frac{V_{gas}}{N} - \frac{\langle V_{liq}\rangle}{N}\right),
        \qquad \frac{p V_{gas}}{N} = k_B T

with the vapour an ideal gas. That fails where the vapour is not ideal: at
the saturation pressure near the critical point, and for strongly
associating molecules (dimers in the vapour); at the normal boiling point of
an n-alkane the second virial correction :math:`B_2 p` is of order 1-3 % of
:math:`k_B T` (not included here).

Limits: a reweighted average is trustworthy only while the frames cover the
configurations that matter at :math:`\theta`; its effective sample size is
returned as the trust-region measure (its fraction of the frames, as for the
argon targets of :mod:`bayesff.observables.md_targets`). One molecule type per
liquid (Delta H_vap of mixtures is not defined here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree

from bayesff.errors import DataError, ProblemError
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import parameter_names
from bayesff.units import AVOGADRO, GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "MolecularAverages",
    "PreparedReweighting",
    "ReferenceRun",
    "StoredRun",
    "averages",
    "dhvap",
    "frame_energies",
    "frame_energies_of",
    "frame_statistics",
    "gas_is_parameter_free",
    "predict",
    "prepare",
    "reweightable_parameters",
    "stored_runs",
]

_KG_M3 = 1e27 / AVOGADRO  # kg/m^3 per (g/mol / angstrom^3)


class ReferenceRun(NamedTuple):
    """Stored frames of one reference run (equilibrated part only).

    Attributes
    ----------
    kind
        ``"liquid"`` (periodic NPT) or ``"gas"`` (independent isolated molecules).
    positions
        (F, N, 3) angstrom.
    box
        (F, 3) angstrom edges (liquid); ignored for the gas.
    T_K, p_MPa
        The run's temperature and pressure (p ignored for the gas).
    params
        The nonbonded parameters it was run with, internal units.
    """

    kind: str
    positions: np.ndarray
    box: np.ndarray | None
    T_K: float
    p_MPa: float
    params: Mapping[str, float]


class StoredRun(NamedTuple):
    """A reference run already reduced to its per-frame statistics (a prepared file's).

    What :func:`prepare` pools with new :class:`ReferenceRun` s so that the runs
    of an earlier reference keep counting (``bayesff refine`` adds a reference
    at each round instead of replacing the last one): the statistics are
    exact, so MBAR over stored and new runs equals MBAR over their positions.

    Attributes
    ----------
    kind
        ``"liquid"`` or ``"gas"``.
    stats
        :func:`frame_statistics` of its frames (``rep``, ``att``, ``rep14``,
        ``att14``: (F, P); ``bonded``, ``volume``: (F,)); for the gas, one row
        per isolated molecule.
    T_K, p_MPa, params
        As for :class:`ReferenceRun`.
    """

    kind: str
    stats: Mapping[str, np.ndarray]
    T_K: float
    p_MPa: float
    params: Mapping[str, float]


class MolecularAverages(NamedTuple):
    """Reweighted averages at new parameters (JAX scalars, differentiable).

    Attributes
    ----------
    density_kg_per_m3
        :math:`\\langle M/V \\rangle` of the liquid.
    energy_liquid_kJ_per_mol
        :math:`\\langle U_{liq} \\rangle / N` (with tail, bonded and intramolecular terms).
    volume_A3_per_molecule
        :math:`\\langle V \\rangle / N`.
    energy_gas_kJ_per_mol
        :math:`\\langle U_{gas} \\rangle` per molecule.
    dHvap_kJ_per_mol
        Enthalpy of vaporisation (module docstring; ideal vapour).
    ess_liquid, ess_gas
        Kish effective sample sizes of the liquid and gas weights.
    ess_fraction_liquid, ess_fraction_gas
        The same over the number of frames (1 at uniform weights).
    """

    density_kg_per_m3: jax.Array
    energy_liquid_kJ_per_mol: jax.Array
    volume_A3_per_molecule: jax.Array
    energy_gas_kJ_per_mol: jax.Array
    dHvap_kJ_per_mol: jax.Array
    ess_liquid: jax.Array
    ess_gas: jax.Array
    ess_fraction_liquid: jax.Array
    ess_fraction_gas: jax.Array


def reweightable_parameters(topology) -> tuple[str, ...]:
    """The parameters :func:`predict` takes: all but the Mie exponents."""
    return tuple(
        n for n in parameter_names(topology) if n.split("_", 1)[0] in ("epsilon", "sigma")
    )


# --------------------------------------------------------------------------- pair types


def _pair_types(n_types: int) -> tuple[np.ndarray, np.ndarray]:
    """Unordered type pairs (P, 2) and the (T, T) table of their index."""
    pairs = [(a, b) for a in range(n_types) for b in range(a, n_types)]
    index = np.zeros((n_types, n_types), dtype=np.int32)
    for k, (a, b) in enumerate(pairs):
        index[a, b] = index[b, a] = k
    return np.asarray(pairs, dtype=np.int32), index


def _exponents(system: ff.System, params) -> tuple[np.ndarray, np.ndarray]:
    """Repulsive and attractive exponent of each unordered type pair, (P,) each."""
    tables = ff.pair_tables(system.topology, {k: float(v) for k, v in params.items()})
    pairs, _ = _pair_types(len(system.topology.site_types))
    n = np.asarray(tables.n)[pairs[:, 0], pairs[:, 1]]
    m = np.asarray(tables.m)[pairs[:, 0], pairs[:, 1]]
    return n, m


# --------------------------------------------------------------------------- statistics


def _wrap(R, box):
    x = R - box * np.floor(R / box)
    return np.where(x >= box, 0.0, x)  # floor rounding can land exactly on L


def frame_statistics(system: ff.System, positions, box, exponents) -> dict[str, np.ndarray]:
    """Per-frame sufficient statistics of the nonbonded energy (NumPy float64).

    Parameters
    ----------
    system
        The liquid's system, or the single-molecule system of a gas run.
    positions
        (F, N, 3) angstrom.
    box
        (F, 3) angstrom (periodic, cut-off, neighbour search by scipy's
        periodic k-d tree), or None (isolated molecules: every counted pair, no
        cut-off).
    exponents
        (n, m) per unordered type pair, (P,) each (:func:`_exponents`).

    Returns
    -------
    dict
        ``rep``, ``att``: (F, P) sums of r^-n and r^-m over the counted pairs;
        ``rep14``, ``att14``: (F, P) scaled sums over the 1-4 pairs;
        ``bonded``: (F,) bonds + angles + torsions, kJ/mol; ``volume``: (F,)
        angstrom^3 (NaN without a box).
    """
    a = system.arrays
    n_exp, m_exp = (np.asarray(e, dtype=float) for e in exponents)
    P = n_exp.shape[0]
    _, ptype = _pair_types(len(system.topology.site_types))
    t = a["site_type"]
    R_all = np.asarray(positions, dtype=float)
    F = R_all.shape[0]
    out = {k: np.zeros((F, P)) for k in ("rep", "att", "rep14", "att14")}
    p14 = a["pairs14"]
    rc = system.topology.r_cut_angstrom
    if box is None:
        ii, jj = np.triu_indices(system.n_sites, k=1)
        same = a["site_molecule"][ii] == a["site_molecule"][jj]
        excl = a["excluded"][a["site_kind"][ii], a["site_local"][ii], a["site_local"][jj]]
        keep = same & ~excl  # isolated molecules: intramolecular pairs only
        ii, jj = ii[keep], jj[keep]
    for f in range(F):
        R = R_all[f]
        if box is not None:
            L = np.asarray(box[f], dtype=float)
            tree = cKDTree(_wrap(R, L), boxsize=L)
            ii, jj = tree.query_pairs(rc, output_type="ndarray").T
            same = a["site_molecule"][ii] == a["site_molecule"][jj]
            excl = (
                same & a["excluded"][a["site_kind"][ii], a["site_local"][ii], a["site_local"][jj]]
            )
            d = R[ii] - R[jj]
            d -= L * np.round(d / L)
            r = np.sqrt(np.sum(d * d, axis=1))
            keep = ~excl & (r < rc)
            i, j, r = ii[keep], jj[keep], r[keep]
        else:
            L = None
            i, j = ii, jj
            r = np.linalg.norm(R[i] - R[j], axis=1)
        k = ptype[t[i], t[j]]
        out["rep"][f] = np.bincount(k, weights=r ** -n_exp[k], minlength=P)
        out["att"][f] = np.bincount(k, weights=r ** -m_exp[k], minlength=P)
        if p14.shape[0]:
            d = R[p14[:, 0]] - R[p14[:, 1]]
            if L is not None:
                d -= L * np.round(d / L)
            r = np.sqrt(np.sum(d * d, axis=1))
            k = ptype[t[p14[:, 0]], t[p14[:, 1]]]
            s = a["scale14"]
            out["rep14"][f] = np.bincount(k, weights=s * r ** -n_exp[k], minlength=P)
            out["att14"][f] = np.bincount(k, weights=s * r ** -m_exp[k], minlength=P)
    bonded = jax.jit(jax.vmap(lambda x, b: ff.bonded_energy(system, x, b)))
    if box is None:
        out["bonded"] = np.asarray(
            jax.jit(jax.vmap(lambda x: ff.bonded_energy(system, x, None)))(R_all)
        )
        out["volume"] = np.full(F, np.nan)
    else:
        out["bonded"] = np.asarray(bonded(R_all, np.asarray(box, dtype=float)))
        out["volume"] = np.prod(np.asarray(box, dtype=float), axis=1)
    return out


def frame_energies(system: ff.System, stats, params, exponents, *, periodic: bool = True):
    """Potential energy of every frame from its statistics, kJ/mol (pure JAX).

    ``params`` holds epsilon and sigma (differentiable); ``exponents`` the
    fixed (n, m) per type pair used for ``stats``. For periodic frames the
    tail, where the topology has one, is added at each frame's volume; isolated
    molecules (``periodic=False``) have none.
    """
    topo = system.topology
    n_types = len(topo.site_types)
    pairs, _ = _pair_types(n_types)
    full = dict(params)
    if topo.form == "mie":
        # exponents per type from the diagonal pairs (the arithmetic rule is linear)
        diag = [
            int(np.flatnonzero((pairs[:, 0] == a) & (pairs[:, 1] == a))[0]) for a in range(n_types)
        ]
        for a, name in enumerate(topo.type_names):
            full[f"n_{name}"] = float(exponents[0][diag[a]])
            full[f"m_{name}"] = float(exponents[1][diag[a]])
    tables = ff.pair_tables(topo, full)
    eps = tables.epsilon[pairs[:, 0], pairs[:, 1]]
    sig = tables.sigma[pairs[:, 0], pairs[:, 1]]
    n = jnp.asarray(exponents[0])
    m = jnp.asarray(exponents[1])
    c = n / (n - m) * (n / m) ** (m / (n - m))
    rep_w = c * eps * sig**n
    att_w = c * eps * sig**m
    u = stats["rep"] @ rep_w - stats["att"] @ att_w
    u = u + stats["rep14"] @ rep_w - stats["att14"] @ att_w + stats["bonded"]
    if periodic and topo.tail:
        u = u + ff.tail(system, full, stats["volume"])[0]
    return u


# --------------------------------------------------------------------------- prepare


@dataclass(frozen=True, eq=False)
class PreparedReweighting:
    """Everything :func:`predict` needs, computed once from the reference runs.

    Attributes
    ----------
    liquid, gas
        The liquid's system and the single-molecule system of the gas phase.
    exponents
        (n, m) per unordered site-type pair, fixed.
    aux
        Arrays (NumPy float64): ``liq_*`` and ``gas_*`` statistics of every
        frame of every run of that kind, pooled; ``liq_log_mix``, ``gas_log_mix``:
        per frame :math:`\\log \\sum_k N_k e^{f_k - u_k(x_n)}`.
    f_liquid, f_gas
        MBAR free energies of the reference states (f_0 = 0).
    runs
        ``(kind, T_K, p_MPa, params, rows)`` of each reference run: rows are its frames
        (liquid) or isolated molecules over all its frames (gas) in the pooled statistics.
    """

    liquid: ff.System
    gas: ff.System
    exponents: tuple[np.ndarray, np.ndarray]
    aux: dict
    f_liquid: np.ndarray
    f_gas: np.ndarray
    runs: tuple


_STAT_KEYS = ("rep", "att", "rep14", "att14", "bonded", "volume")


def _check_stored(run: StoredRun, n_pairs: int, where: str) -> None:
    missing = [k for k in _STAT_KEYS if k not in run.stats]
    if missing:
        raise DataError(f"stored statistics lack {missing}", where)
    n = np.asarray(run.stats["bonded"]).shape
    if len(n) != 1 or n[0] < 1:
        raise DataError(f"bonded must be (frames,) with frames >= 1, found {n}", where)
    for k in _STAT_KEYS:
        want = (n[0], n_pairs) if k in ("rep", "att", "rep14", "att14") else n
        got = np.asarray(run.stats[k]).shape
        if got != want:
            raise DataError(f"{k} must have shape {want}, found {got}", where)


def _check_run(run: ReferenceRun | StoredRun, system: ff.System, k: int) -> None:
    where = f"reference run {k} ({run.kind})"
    if run.kind not in ("liquid", "gas"):
        raise ProblemError(f"kind must be 'liquid' or 'gas', found {run.kind!r}", where)
    if isinstance(run, StoredRun):
        n_types = len(system.topology.site_types)
        _check_stored(run, n_types * (n_types + 1) // 2, where)
        if not (math.isfinite(float(run.T_K)) and float(run.T_K) > 0):
            raise ProblemError(f"T_K must be finite and > 0, found {run.T_K}", where)
        return
    R = np.asarray(run.positions)
    if R.ndim != 3 or R.shape[2] != 3 or R.shape[0] < 1:
        raise DataError(f"positions must be (frames, sites, 3), found {R.shape}", where)
    if run.kind == "liquid":
        if R.shape[1] != system.n_sites:
            raise DataError(
                f"expected {system.n_sites} sites per frame, found {R.shape[1]}", where
            )
        if run.box is None or np.asarray(run.box).shape != (R.shape[0], 3):
            raise DataError(f"box must be (frames, 3) = ({R.shape[0]}, 3)", where)
    if not np.all(np.isfinite(R)):
        raise DataError("positions hold non-finite values", where)
    for name in ("T_K",):
        v = float(getattr(run, name))
        if not (math.isfinite(v) and v > 0):
            raise ProblemError(f"{name} must be finite and > 0, found {v}", where)


def _mbar_free_energies(u_kn: np.ndarray, n_k: np.ndarray) -> np.ndarray:
    """Reference-state free energies by pymbar 4 (robust protocol), f_0 = 0."""
    if u_kn.shape[0] == 1:
        return np.zeros(1)
    # Deferred import (unavoidable): pymbar's solvers switch JAX to float64 globally
    # when they run, and its module imports its JAX solvers; the setting is restored.
    from pymbar import MBAR

    x64 = jax.config.jax_enable_x64
    try:
        mbar = MBAR(u_kn, n_k, solver_protocol="robust")
        f = np.asarray(mbar.f_k, dtype=float)
    finally:
        jax.config.update("jax_enable_x64", x64)
    return f - f[0]


def _log_mix(u_kn, n_k, f_k):
    a = np.log(n_k)[:, None] + f_k[:, None] - u_kn
    mx = a.max(axis=0)
    return mx + np.log(np.exp(a - mx).sum(axis=0))


def prepare(system: ff.System, runs: Sequence[ReferenceRun | StoredRun]) -> PreparedReweighting:
    """Statistics, reduced energies and MBAR free energies of the reference runs.

    Parameters
    ----------
    system
        The liquid's system: one molecule type (its gas phase is the single
        molecule of that type).
    runs
        At least one liquid and one gas run: :class:`ReferenceRun` (frames;
        liquid runs share the system's composition; pass only equilibrated
        frames, :func:`bayesff.simulate.timeseries.trajectory_averages` gives
        t0) or :class:`StoredRun` (their statistics, from an earlier
        :func:`prepare`: :func:`stored_runs`). Each run has its own parameters:
        MBAR pools references at different parameters as at different states.

    Raises
    ------
    ProblemError, DataError
        For a mixture, a missing kind, or runs of the wrong shape.
    """
    if not jax.config.jax_enable_x64:
        raise ProblemError(
            "reweighting recomputes energies in float64: call bayesff.configure() first",
            "molecular reweighting",
        )
    if len(system.counts) != 1:
        raise ProblemError(
            "reweighting of Delta H_vap needs a one-component liquid, found "
            f"{[n for n, _ in system.counts]}",
            "system.counts",
        )
    name = system.counts[0][0]
    gas_system = ff.System(system.topology, ((name, 1),))
    liquid = [r for r in runs if r.kind == "liquid"]
    gas = [r for r in runs if r.kind == "gas"]
    for k, r in enumerate(runs):
        _check_run(r, system, k)
    if not liquid or not gas:
        raise ProblemError(
            f"need at least one liquid and one gas run, found {len(liquid)} and {len(gas)}",
            "reference runs",
        )
    names = reweightable_parameters(system.topology)
    ref_all = ff.check_params(system.topology, liquid[0].params, "reference run 0 params")
    exps = _exponents(system, {k: float(v) for k, v in ref_all.items()})
    for k, r in enumerate(runs):
        e = _exponents(system, {kk: float(v) for kk, v in r.params.items()})
        if not (np.array_equal(e[0], exps[0]) and np.array_equal(e[1], exps[1])):
            raise ProblemError(
                "every reference run must use the same Mie exponents (they are not reweighted)",
                f"reference run {k} params",
            )
    aux = {}
    f_out = {}
    for kind, group, sys_k in (("liq", liquid, system), ("gas", gas, gas_system)):
        stats = []
        for r in group:
            if isinstance(r, StoredRun):
                stats.append({k: np.asarray(r.stats[k], dtype=float) for k in _STAT_KEYS})
                continue
            R = np.asarray(r.positions, dtype=float)
            if kind == "gas":
                n = gas_system.n_sites
                if R.shape[1] % n:
                    raise DataError(
                        f"gas frames hold {R.shape[1]} sites, not a whole number of {name} "
                        f"molecules of {n} sites",
                        "reference run (gas)",
                    )
                R = R.reshape(-1, n, 3)
                stats.append(frame_statistics(sys_k, R, None, exps))
            else:
                stats.append(frame_statistics(sys_k, R, np.asarray(r.box, dtype=float), exps))
        pooled = {k: np.concatenate([s[k] for s in stats]) for k in stats[0]}
        n_k = np.array([s["bonded"].shape[0] for s in stats], dtype=float)
        u_kn = []
        for r in group:
            theta = {k: jnp.asarray(float(r.params[k])) for k in names}
            u = np.asarray(frame_energies(sys_k, pooled, theta, exps, periodic=kind == "liq"))
            beta = 1.0 / (GAS_CONSTANT_KJ_PER_MOL_K * float(r.T_K))
            if kind == "liq":
                u = u + float(r.p_MPa) / KJ_PER_MOL_PER_A3_IN_MPA * pooled["volume"]
            u_kn.append(beta * u)
        u_kn = np.asarray(u_kn)
        f_k = _mbar_free_energies(u_kn, n_k)
        aux.update({f"{kind}_{k}": v for k, v in pooled.items()})
        aux[f"{kind}_log_mix"] = _log_mix(u_kn, n_k, f_k)
        f_out[kind] = f_k
    return PreparedReweighting(
        liquid=system,
        gas=gas_system,
        exponents=exps,
        aux=aux,
        f_liquid=f_out["liq"],
        f_gas=f_out["gas"],
        runs=tuple(
            (r.kind, float(r.T_K), float(r.p_MPa), dict(r.params), n)
            for r, n in zip(runs, _frame_counts(runs, gas_system), strict=True)
        ),
    )


def _frame_counts(runs, gas_system) -> list[int]:
    """Rows each run adds to its kind's pooled statistics (gas: one per molecule)."""
    out = []
    for r in runs:
        if isinstance(r, StoredRun):
            out.append(int(np.asarray(r.stats["bonded"]).shape[0]))
        elif r.kind == "gas":
            R = np.asarray(r.positions)
            out.append(int(R.shape[0] * R.shape[1] // gas_system.n_sites))
        else:
            out.append(int(np.asarray(r.positions).shape[0]))
    return out


def stored_runs(aux: Mapping[str, np.ndarray], runs: Sequence) -> list[StoredRun]:
    """Split pooled statistics back into their runs (the inverse of :func:`prepare`'s pooling).

    Parameters
    ----------
    aux
        The ``liq_*`` and ``gas_*`` statistics of a :class:`PreparedReweighting`
        (or of a prepared file).
    runs
        ``(kind, T_K, p_MPa, params, rows)`` of every run, in the order
        :func:`prepare` pooled them (:attr:`PreparedReweighting.runs`; within a
        kind, rows are consecutive).

    Returns
    -------
    list of StoredRun
        In the order of ``runs``; passing them to :func:`prepare` gives the same
        free energies and log-mixtures.

    Raises
    ------
    DataError
        If the rows of a kind do not add up to its pooled statistics.
    """
    start = {"liquid": 0, "gas": 0}
    prefix = {"liquid": "liq", "gas": "gas"}
    out = []
    for k, (kind, T_K, p_MPa, params, rows) in enumerate(runs):
        if kind not in prefix:
            raise DataError(f"kind must be 'liquid' or 'gas', found {kind!r}", f"run {k}")
        a, b = start[kind], start[kind] + int(rows)
        stats = {key: np.asarray(aux[f"{prefix[kind]}_{key}"])[a:b] for key in _STAT_KEYS}
        out.append(StoredRun(kind, stats, float(T_K), float(p_MPa), dict(params)))
        start[kind] = b
    for kind, n in start.items():
        total = np.asarray(aux[f"{prefix[kind]}_bonded"]).shape[0]
        if n != total:
            raise DataError(
                f"the {kind} runs list {n} rows but the pooled statistics hold {total}",
                f"{prefix[kind]}_bonded",
            )
    return out


# --------------------------------------------------------------------------- predict


def _weights(log_w):
    w = jax.nn.softmax(log_w)
    return w, 1.0 / jnp.sum(w * w)


def predict(prepared: PreparedReweighting, params, T_K, p_MPa) -> MolecularAverages:
    """Reweighted NPT averages and Delta H_vap at ``params``, T and p (pure JAX).

    Parameters
    ----------
    prepared
        From :func:`prepare`.
    params
        Epsilon and sigma of every site type (:func:`reweightable_parameters`),
        internal units (kJ/mol, angstrom); scalars, possibly traced.
    T_K, p_MPa
        Target state (possibly traced).

    Returns
    -------
    MolecularAverages
    """
    names = reweightable_parameters(prepared.liquid.topology)
    missing = [n for n in names if n not in params]
    extra = sorted(set(params) - set(names))
    if missing or extra:
        raise ProblemError(
            f"expected parameters {list(names)}; missing {missing}, unknown {extra}", "params"
        )
    return averages(prepared, frame_energies_of(prepared, params), T_K, p_MPa)


def frame_energies_of(
    prepared: PreparedReweighting, params, gas: bool = True
) -> tuple[jax.Array, jax.Array | None]:
    """(U of every pooled liquid frame, U of every gas sample) at ``params``, kJ/mol.

    They do not depend on T or p: compute them once and pass them to :func:`averages`
    for every state (what :func:`predict` does for one). ``gas=False`` skips the gas
    samples (None in their place): a density needs only the liquid, and the gas samples
    are most of the work (tens of thousands of isolated molecules against hundreds of
    liquid frames).
    """
    aux = prepared.aux
    liq = {k[4:]: jnp.asarray(v) for k, v in aux.items() if k.startswith("liq_")}
    u_liq = frame_energies(prepared.liquid, liq, params, prepared.exponents)
    if not gas:
        return u_liq, None
    g = {k[4:]: jnp.asarray(v) for k, v in aux.items() if k.startswith("gas_")}
    u_gas = frame_energies(prepared.gas, g, params, prepared.exponents, periodic=False)
    return u_liq, u_gas


def dhvap(e_gas, e_liq, v_liq, T_K, p_MPa):
    """Delta H_vap = e_gas - e_liq + k_B T - p v_liq (ideal vapour), kJ/mol.

    ``e_gas``, ``e_liq``: potential energy per molecule of the gas and the liquid
    (kJ/mol); ``v_liq``: liquid volume per molecule (angstrom^3); T in K, p in MPa.
    """
    return (
        e_gas - e_liq + GAS_CONSTANT_KJ_PER_MOL_K * T_K - p_MPa / KJ_PER_MOL_PER_A3_IN_MPA * v_liq
    )


def gas_is_parameter_free(molecule) -> bool:
    """Whether an isolated molecule's energy is the same at every nonbonded parameter
    point: no intramolecular pair beyond the exclusions (full or scaled 1-4) of its
    :class:`~bayesff.potentials.topology.MoleculeType` (propane and n-butane in
    TraPPE-UA). Its gas averages then depend on T only."""
    lists = molecule.pair_lists
    return not lists["full"] and not lists["scaled14"]


def averages(prepared: PreparedReweighting, energies, T_K, p_MPa) -> MolecularAverages:
    """The reweighted averages at (T, p) from :func:`frame_energies_of` (pure JAX).

    Without gas energies (``frame_energies_of(..., gas=False)``) the gas-phase fields
    and Delta H_vap are NaN.
    """
    u_liq, u_gas = energies
    aux = prepared.aux
    kT = GAS_CONSTANT_KJ_PER_MOL_K * T_K
    p = p_MPa / KJ_PER_MOL_PER_A3_IN_MPA
    liq = {"volume": jnp.asarray(aux["liq_volume"]), "log_mix": jnp.asarray(aux["liq_log_mix"])}
    gas = {"log_mix": jnp.asarray(aux["gas_log_mix"])}
    vol = liq["volume"]
    w_l, ess_l = _weights(-(u_liq + p * vol) / kT - liq["log_mix"])
    n_mol = prepared.liquid.n_molecules
    mass = prepared.liquid.total_mass_g_per_mol
    density = jnp.sum(w_l * mass / vol) * _KG_M3
    e_liq = jnp.sum(w_l * u_liq) / n_mol
    v_liq = jnp.sum(w_l * vol) / n_mol
    if u_gas is None:
        nan = jnp.full_like(density, jnp.nan)
        return MolecularAverages(density, e_liq, v_liq, nan, nan, ess_l, nan,
                                 ess_l / vol.shape[0], nan)  # fmt: skip
    w_g, ess_g = _weights(-u_gas / kT - gas["log_mix"])
    e_gas = jnp.sum(w_g * u_gas)
    dh = dhvap(e_gas, e_liq, v_liq, T_K, p_MPa)
    return MolecularAverages(
        density_kg_per_m3=density,
        energy_liquid_kJ_per_mol=e_liq,
        volume_A3_per_molecule=v_liq,
        energy_gas_kJ_per_mol=e_gas,
        dHvap_kJ_per_mol=dh,
        ess_liquid=ess_l,
        ess_gas=ess_g,
        ess_fraction_liquid=ess_l / vol.shape[0],
        ess_fraction_gas=ess_g / u_gas.shape[0],
    )
