"""A run's rows as scalar states, the unit every criterion works on.

Reads through :mod:`bayesff.runfile` only. A target whose rows are vectors
(the forces of a configuration: ``(config, atom, xyz)``) gives one state per
component, labelled by its row and component indices, so that intervals,
residuals and tolerances keep their scalar meaning; a tolerance on a vector
row is then met when every component meets it (:func:`numpy.isclose`
componentwise, the way force matching states it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from bayesff import runfile

__all__ = ["States", "as_run", "state_env", "states_of", "targets_by_name"]


def as_run(dt_or_path):
    """A loaded run DataTree: a path is read with :func:`bayesff.runfile.read`, a
    :func:`bayesff.calibrate` result gives its ``datatree``; the schema version is checked."""
    if isinstance(dt_or_path, str | os.PathLike):
        return runfile.read(dt_or_path)
    dt = getattr(dt_or_path, "datatree", dt_or_path)
    runfile.check_version(dt)
    return dt


def targets_by_name(dt) -> dict[str, runfile.TargetInfo]:
    """The run's targets by name, in problem order."""
    return {t.name: t for t in runfile.targets(dt)}


@dataclass
class States:
    """One target's training or held-out rows, flattened to ``N`` scalar states.

    Attributes
    ----------
    target, unit
        Target name and the observable's unit.
    model, replicated
        ``(S, N)`` forward-model means and replicated observations (posterior
        predictive), ``S = chains x draws`` in (chain, draw) order.
    observed, u, floor
        ``(N,)`` observations, standard uncertainties and forward-model error
        floor (observable unit).
    env, env_units
        Environment column (``T_K``) -> ``(N,)`` values in the data file's unit,
        and its unit; a target without a scalar environment column has its
        row label instead, and vector rows add their component indices.
    group
        ``(N,)`` held-out group label ("" for training rows).
    row
        ``(N,)`` index of the row each state belongs to.
    chains
        Number of chains in ``S`` (the draws are ``chains`` runs of ``S / chains``
        consecutive draws), for Monte Carlo errors that account for autocorrelation.
    loglik
        ``(S, rows)`` pointwise log-likelihood of the training rows, or ``(S, 1)``
        for a curve with correlated errors (one value for the whole curve: its rows
        are not independent, so they have no pointwise values), else None.
    """

    target: str
    unit: str
    model: np.ndarray
    replicated: np.ndarray
    observed: np.ndarray
    u: np.ndarray
    floor: np.ndarray
    env: dict
    env_units: dict
    group: np.ndarray
    row: np.ndarray
    loglik: np.ndarray | None = None
    chains: int = 1

    @property
    def n(self) -> int:
        return int(self.observed.size)


def _flat_draws(a: np.ndarray) -> np.ndarray:
    """(chain, draw, n, *value) -> (S, n * prod(value)), row-major within a row."""
    a = np.asarray(a, dtype=float)
    return a.reshape(a.shape[0] * a.shape[1], -1)


def state_env(info: runfile.TargetInfo, env: dict, env_units: dict, index, dim: str, vshape):
    """Environment of each scalar state: column -> (rows x components,) values in file units.

    ``env``/``env_units`` are a reader's short-name dicts (:class:`bayesff.runfile.Rows`);
    each row's value is repeated over its components. A target without a scalar
    environment column is labelled by its row coordinate (``index`` along ``dim``), and
    vector rows add their component indices (``atom``, ``xyz``).
    """
    vshape = tuple(vshape)
    k = int(np.prod(vshape)) if vshape else 1
    n = len(index)
    out, units = {}, {}
    for col, unit in zip(info.env_columns, info.env_units, strict=False):
        short = runfile.short_name(col)
        if short in env:
            out[col] = np.repeat(np.asarray(env[short], dtype=float), k)
            units[col] = env_units.get(short, unit)
    if not out:
        index = np.asarray(index)
        numeric = np.issubdtype(index.dtype, np.number)
        out[dim] = np.repeat(index.astype(float) if numeric else np.arange(n, dtype=float), k)
        units[dim] = ""
    if k > 1:
        names = list(info.value_dims) or [f"component{i}" for i in range(len(vshape))]
        comp = np.indices(vshape).reshape(len(vshape), -1)
        for name, c in zip(names, comp, strict=False):
            out[name] = np.tile(c.astype(float), n)
            units[name] = ""
    return out, units


def states_of(dt, info: runfile.TargetInfo, kind: str) -> States | None:
    """The training (``"train"``) or held-out (``"holdout"``) states of a target, or None."""
    r = runfile.rows(dt, info.name, kind)
    if r is None or r.observed.shape[0] == 0:
        return None
    n = r.observed.shape[0]
    vshape = tuple(r.observed.shape[1:])
    k = int(np.prod(vshape)) if vshape else 1
    env, env_units = state_env(info, r.env, r.env_units, r.index, r.dim, vshape)
    u = np.broadcast_to(np.asarray(r.u, dtype=float).reshape(n, -1), (n, k)).ravel()
    floor = np.repeat(np.asarray(r.floor, dtype=float).reshape(n), k)
    loglik = None
    if r.loglik is not None:
        ll = np.asarray(r.loglik, dtype=float)  # (chain, draw, rows) or (chain, draw, 1)
        loglik = ll.reshape(ll.shape[0] * ll.shape[1], -1)
    return States(
        target=info.name,
        unit=info.unit,
        model=_flat_draws(r.model),
        replicated=_flat_draws(r.replicated),
        observed=np.asarray(r.observed, dtype=float).ravel(),
        u=u,
        floor=floor,
        env=env,
        env_units=env_units,
        group=np.repeat(np.asarray(r.group).astype(str), k),
        row=np.repeat(np.arange(n), k),
        loglik=loglik,
        chains=int(np.shape(r.model)[0]),
    )
