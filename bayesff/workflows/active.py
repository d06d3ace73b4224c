r"""Active learning: which environment to label next, from the posterior's disagreement.

Given a model and a pool of candidate environments, :func:`query` returns the
``k`` candidates where the model is least certain, so that labelling them
(running the reference calculation there) teaches the model the most:

``method="committee"``
    query by committee. Every posterior draw :math:`\theta_s` is a committee
    member; the disagreement at candidate :math:`x_n` is the standard
    deviation of the members' noise-free predictions,

    .. math:: d_n = \operatorname{sd}_s\, \mu(\theta_s; x_n)

    (observable unit, ``ddof=1``).
``method="variance"``
    the predictive variance :math:`d_n^2` (observable unit squared): for a
    run, the variance of the same draws; for a Gaussian process, its
    closed-form predictive variance (pass a callable that returns it).

Both rank candidates identically for a given set of draws; they differ in the
unit of ``threshold``. Measurement noise is left out on purpose: it is the
same wherever one labels (or grows with the label, for a relative noise
model) and no label reduces it, so only the epistemic spread says where a new
label helps. A candidate whose score is below ``threshold`` is never chosen,
so ``query`` returns fewer than ``k`` candidates, or none
(:attr:`Query.converged`): the model is certain enough everywhere in the pool.

Two kinds of model:

* a run (the result of :func:`bayesff.calibrate`, its DataTree, or the path of
  its run file): the pool is the run's **held-out rows** of a target (all of
  them, or one held-out group), and the draws are the noise-free model means
  the run stores there (:func:`bayesff.runfile.rows`). Put the candidate
  environments in the problem as a held-out group, or as a target with
  ``train = false``, before calibrating; nothing is recomputed afterwards.
* a callable ``draws(candidates) -> (n_draws, n_candidates)`` array of
  predictions (any model: a committee of networks, draws of a GP), or, with
  ``method="variance"``, a callable returning the ``(n_candidates,)``
  predictive variances.

:func:`active_learning` runs the label-refit-query loop around any model.

Examples
--------
>>> import numpy as np
>>> from bayesff.workflows.active import query
>>> draws = lambda r: np.stack([np.zeros_like(r), r**2])  # two members disagree by r^2
>>> q = query(draws, np.array([1.0, 3.0, 2.0]), k=2)
>>> q.candidates, q.index
(array([3., 2.]), array([1, 2]))
>>> query(draws, np.array([1.0, 3.0, 2.0]), k=2, threshold=100.0).converged
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from bayesff import runfile
from bayesff.errors import BayesffError

__all__ = [
    "METHODS",
    "STRATEGIES",
    "ActiveLearningRound",
    "Query",
    "RunPool",
    "active_learning",
    "query",
    "run_pool",
]

#: Disagreement measures :func:`query` knows.
METHODS = ("committee", "variance")
#: Strategies of :func:`active_learning`: the two query methods and random choice.
STRATEGIES = ("variance", "committee", "random")


@dataclass(frozen=True)
class Query:
    """The outcome of :func:`query`.

    Attributes
    ----------
    index
        ``(m,)`` indices of the chosen candidates in the pool, by decreasing
        score (ties: the earlier candidate first); ``m <= k``.
    candidates
        The chosen candidates, in the form the pool was given: an ``(m,)``
        array, or a dict ``column -> (m,)`` array (for a run: environment
        short name -> values in the run file's units).
    score
        ``(m,)`` scores of the chosen candidates.
    scores
        ``(n_candidates,)`` scores of the whole pool: the standard deviation
        (``committee``, observable unit) or variance (``variance``, unit
        squared) of the predictions.
    method, threshold, k
        As passed to :func:`query`.
    """

    index: np.ndarray
    candidates: np.ndarray | dict
    score: np.ndarray
    scores: np.ndarray
    method: str
    threshold: float | None
    k: int

    @property
    def converged(self) -> bool:
        """True when no candidate reaches the threshold (nothing left worth labelling)."""
        return self.index.size == 0

    def __len__(self) -> int:
        return int(self.index.size)


# --------------------------------------------------------------------------------- input checks


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise BayesffError(f"k must be an integer >= 1 (how many candidates to choose), got {k!r}")
    return int(k)


def _check_method(method) -> str:
    if method not in METHODS:
        raise BayesffError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return method


def _check_threshold(threshold) -> float | None:
    if threshold is None:
        return None
    ok = isinstance(threshold, (int, float, np.floating, np.integer)) and not isinstance(
        threshold, bool
    )
    if not ok or not np.isfinite(threshold) or threshold < 0:
        raise BayesffError(
            f"threshold must be None or a finite number >= 0 (in the score's unit), "
            f"got {threshold!r}"
        )
    return float(threshold)


def _pool(candidates) -> tuple[dict | np.ndarray, int]:
    """Validate a candidate pool (array or dict of equal-length 1-D arrays); return it and n."""
    if isinstance(candidates, Mapping):
        if not candidates:
            raise BayesffError("candidates is empty: give at least one candidate environment")
        pool = {c: np.atleast_1d(np.asarray(v, dtype=float)) for c, v in candidates.items()}
        sizes = {c: v.shape for c, v in pool.items()}
        n = next(iter(pool.values())).size
        if any(v.ndim != 1 or v.size != n for v in pool.values()):
            raise BayesffError(f"candidate columns must be 1-D of one length, got shapes {sizes}")
        arrays = list(pool.values())
    else:
        try:
            pool = np.atleast_1d(np.asarray(candidates, dtype=float))
        except (TypeError, ValueError):
            raise BayesffError(
                "candidates must be an array of environments (e.g. distances in angstrom) "
                f"or a dict column -> array, got {type(candidates).__name__}"
            ) from None
        if pool.ndim != 1:
            raise BayesffError(f"candidates must be 1-D (one value each), got shape {pool.shape}")
        n = pool.size
        arrays = [pool]
    if n == 0:
        raise BayesffError("candidates is empty: give at least one candidate environment")
    bad = ~np.all([np.isfinite(a) for a in arrays], axis=0)
    if bad.any():
        raise BayesffError(f"candidates must be finite; not at index {np.flatnonzero(bad)[:10]}")
    return pool, n


# ------------------------------------------------------------------------------ a run's pool


@dataclass(frozen=True)
class RunPool:
    """A run's held-out rows of one target as a candidate pool (see :func:`run_pool`).

    Attributes
    ----------
    target, group
        The target and held-out group (``None``: every held-out row).
    candidates
        ``(n,)`` values of the one environment column, or a dict short name
        -> ``(n,)`` values, in the run file's units (``env_units``).
    draws
        ``(n_draws, n, *value shape)`` noise-free model means, draws in
        (chain, draw) order.
    env_units
        Short name -> unit.
    index
        ``(n,)`` row labels (the row dimension's coordinate).
    unit
        The target's unit (of the draws and of a committee score).
    """

    target: str
    group: str | None
    candidates: np.ndarray | dict
    draws: np.ndarray
    env_units: dict = field(default_factory=dict)
    index: np.ndarray | None = None
    unit: str = ""


def _read_run(run):
    """A run's DataTree from a calibrate result, a DataTree or a run-file path."""

    if isinstance(run, (str, os.PathLike)):
        return runfile.read(run)
    dt = getattr(run, "datatree", run)
    if not hasattr(dt, "attrs") or "posterior" not in getattr(dt, "children", {}):
        raise BayesffError(
            "run must be a DataTree from bayesff.calibrate (with a posterior group), the "
            "result of bayesff.calibrate, the path of its run file, or a callable "
            f"draws(candidates); got {type(run).__name__}"
        )
    return dt


def run_pool(run, target: str | None = None, group: str | None = None) -> RunPool:
    """The held-out rows of a run's target as a candidate pool, with their posterior draws.

    Parameters
    ----------
    run
        A :class:`~bayesff.inference.Run`, its DataTree, or the path of a run file.
    target
        Target name; may be left out when exactly one target has held-out rows.
    group
        Held-out group (``None``: every held-out row of the target).

    Raises
    ------
    BayesffError
        For an unknown target or group, or a target without held-out rows.
    """

    dt = _read_run(run)
    infos = {t.name: t for t in runfile.targets(dt)}
    names = list(infos)
    held = [n for n in names if runfile.rows(dt, n, "holdout") is not None]
    if target is None:
        if len(held) != 1:
            raise BayesffError(
                f"the run's targets with held-out rows are {held or 'none'}: name one with "
                "target= (bayesff active --target; put the candidate environments in the "
                "problem as a held-out group or a target with train = false)",
                str(run) if isinstance(run, (str, os.PathLike)) else None,
            )
        target = held[0]
    if target not in names:
        raise BayesffError(f"unknown target {target!r}; the run has targets {names}")
    rows = runfile.rows(dt, target, "holdout")
    if rows is None:
        raise BayesffError(
            f"target {target!r} has no held-out rows: the candidate pool of a run is its "
            "held-out rows (add the candidates to the problem as a held-out group or a "
            "target with train = false)"
        )
    keep = np.ones(rows.group.size, bool)
    if group is not None:
        groups = sorted(set(rows.group.tolist()))
        if group not in groups:
            raise BayesffError(
                f"target {target!r} has no held-out group {group!r}; its groups are {groups}"
            )
        keep = rows.group == group
    model = rows.model[:, :, keep]
    draws = model.reshape(-1, *model.shape[2:])
    env = {k: np.asarray(v)[keep] for k, v in rows.env.items()}
    cands = next(iter(env.values())) if len(env) == 1 else env
    index = None if rows.index is None else np.asarray(rows.index)[keep]
    return RunPool(target, group, cands, draws, dict(rows.env_units), index, infos[target].unit)


# ------------------------------------------------------------------------------------ query


def _scores(out, n: int, method: str) -> np.ndarray:
    a = np.asarray(out, dtype=float)
    if a.ndim == 1:
        if method != "variance":
            raise BayesffError(
                f"the model returned shape {a.shape}, a variance per candidate; committee needs "
                f"draws of shape (n_draws, {n}), or use method='variance'"
            )
        if a.shape != (n,):
            raise BayesffError(f"the model returned variances of shape {a.shape}, expected ({n},)")
        if np.any(a < 0):
            raise BayesffError("the model returned negative variances")
        return a
    if a.ndim < 2 or a.shape[1] != n:
        raise BayesffError(
            f"the model returned shape {a.shape}; expected draws (n_draws, {n}) with the draws "
            "axis first"
        )
    if a.shape[0] < 2:
        raise BayesffError(f"a committee needs at least 2 draws, got {a.shape[0]}")
    # vector rows (the forces of a configuration): the variance summed over a row's components
    var = a.var(axis=0, ddof=1).reshape(n, -1).sum(axis=1)
    return np.sqrt(var) if method == "committee" else var


def query(
    model,
    candidates=None,
    k: int = 1,
    *,
    method: str = "committee",
    threshold: float | None = None,
    target: str | None = None,
    group: str | None = None,
) -> Query:
    """Choose the ``k`` candidate environments where the posterior disagrees most.

    Parameters
    ----------
    model
        A callable ``draws(candidates)`` returning an ``(n_draws,
        n_candidates)`` array of noise-free predictions (or, for
        ``method="variance"``, an ``(n_candidates,)`` array of predictive
        variances, e.g. a Gaussian process's); or a run (the result of
        :func:`bayesff.calibrate`, its DataTree, or the path of its run
        file), whose held-out rows are the pool (:func:`run_pool`), or a
        :class:`RunPool` already read.
    candidates
        For a callable: the pool, an array (one value per candidate, e.g.
        distances in angstrom) or a dict ``column -> array``; passed to the
        callable as given. For a run: ``None`` (the pool is the run's).
    k
        How many to choose (>= 1). Fewer come back when fewer candidates
        reach ``threshold`` or the pool is smaller.
    method
        ``"committee"``: score = standard deviation of the draws (observable
        unit; for vector rows, the root of the summed variances of the
        components). ``"variance"``: score = predictive variance (unit squared).
    threshold
        Candidates with a score below it are never chosen; ``None`` = no
        threshold. Same unit as the score.
    target, group
        For a run: the target and held-out group whose rows are the pool.

    Returns
    -------
    Query
        ``.candidates`` (the chosen environments, by decreasing score),
        ``.index``, ``.score``, all ``.scores`` and ``.converged``.

    Raises
    ------
    BayesffError
        (a ``ValueError``) for ``k < 1``, an empty or non-finite pool, an
        unknown method, target or group, a negative threshold, candidates
        given with a run, a model output of the wrong shape, or a non-finite
        score (the forward model failed at a candidate: the error lists
        where). Raised before any prediction where the input allows.
    """
    k = _check_k(k)
    method = _check_method(method)
    threshold = _check_threshold(threshold)
    if callable(model) and not hasattr(model, "children") and not isinstance(model, RunPool):
        if candidates is None:
            raise BayesffError("a callable model needs candidates (the pool to choose from)")
        pool, n = _pool(candidates)  # empty or non-finite pools fail before any work
        out = model(pool)
    else:
        if candidates is not None:
            raise BayesffError(
                "the candidates of a run are its held-out rows (candidates=None); add the "
                "candidate environments to the problem as a held-out group or a target with "
                "train = false, and name it with target= / group="
            )
        rp = model if isinstance(model, RunPool) else run_pool(model, target, group)
        pool, n = rp.candidates, rp.draws.shape[1]
        out = rp.draws
    scores = _scores(out, n, method)
    bad = ~np.isfinite(scores)
    if bad.any():
        raise BayesffError(
            f"the model's predictions are not finite at candidate(s) {np.flatnonzero(bad)[:10]} "
            "(a failed forward model); remove them from the pool"
        )
    order = np.argsort(-scores, kind="stable")
    if threshold is not None:
        order = order[scores[order] >= threshold]
    chosen = order[:k]
    picked = {c: v[chosen] for c, v in pool.items()} if isinstance(pool, dict) else pool[chosen]
    return Query(chosen, picked, scores[chosen], scores, method, threshold, k)


# ------------------------------------------------------------------------------------ loop


@dataclass
class ActiveLearningRound:
    """One round of :func:`active_learning`: the model fitted on the labels so far.

    Attributes
    ----------
    n_labels
        Number of labelled candidates the model was fitted on.
    labelled
        Their indices in the pool, in the order they were labelled.
    metrics
        What ``evaluate(model)`` returned for this round.
    converged
        Whether ``query(..., threshold=threshold)`` chose nothing this round.
    """

    n_labels: int
    labelled: list[int]
    metrics: dict
    converged: bool | None = None


def active_learning(
    fit: Callable,
    label: Callable,
    pool,
    start,
    *,
    n_max: int,
    strategy: str = "variance",
    k: int = 1,
    threshold: float | None = None,
    evaluate: Callable | None = None,
    rng: np.random.Generator | None = None,
) -> list[ActiveLearningRound]:
    """Label, refit, query: the active-learning loop around any model.

    Parameters
    ----------
    fit
        ``fit(x, y) -> model``: fit to the labelled candidates ``x`` (a
        subset of ``pool``) and their labels ``y``. The model is what
        :func:`query` takes as a callable: ``model.draws(candidates)`` or
        ``model.variance(candidates)`` is used (see ``strategy``).
    label
        ``label(x) -> y``: the reference calculation (the oracle) at pool points.
    pool
        ``(n,)`` candidate environments.
    start
        Indices of the first labelled candidates.
    n_max
        Label budget: the loop stops once this many are labelled.
    strategy
        ``"variance"`` (``model.variance``, :func:`query` with
        ``method="variance"``), ``"committee"`` (``model.draws``, method
        committee) or ``"random"`` (unlabelled candidates uniformly at random).
    k
        Labels per round.
    threshold
        Stopping threshold in the score's unit (sd for committee, variance
        for variance); each round records whether the query with it chose
        nothing (:attr:`ActiveLearningRound.converged`). The loop goes on to
        ``n_max`` regardless, so that strategies can be compared at equal
        label counts.
    evaluate
        ``evaluate(model) -> dict`` of the round's metrics (errors against a
        truth, the largest sd over the pool...).
    rng
        Random generator (the random strategy).

    Returns
    -------
    list of ActiveLearningRound
        One per fit, from ``len(start)`` labels to ``n_max``.

    Raises
    ------
    ValueError
        For an unknown strategy.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    pool = np.asarray(pool)
    rng = rng or np.random.default_rng()
    labelled = [int(i) for i in start]
    labels = list(np.asarray(label(pool[labelled]), float))
    rounds = []
    while True:
        model = fit(pool[labelled], np.asarray(labels))
        r = ActiveLearningRound(len(labelled), list(labelled), evaluate(model) if evaluate else {})
        rounds.append(r)
        if len(labelled) >= n_max:
            return rounds
        if strategy == "random":
            free = np.setdiff1d(np.arange(pool.size), labelled)
            new = [int(i) for i in rng.choice(free, min(k, free.size), replace=False)]
        else:
            fn = model.variance if strategy == "variance" else model.draws
            if threshold is not None:
                r.converged = query(fn, pool, k, method=strategy, threshold=threshold).converged
            new = [int(i) for i in query(fn, pool, k, method=strategy).index]
        labelled += new
        labels += list(np.asarray(label(pool[new]), float))
