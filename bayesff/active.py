r"""Active learning: which environment to label next, from the posterior's disagreement.

Given a calibrated run and a pool of candidate environments (e.g. pair
distances for a ``pair_force`` target), :func:`query` returns the ``k``
candidates where the model is least certain, so that labelling them (running
the reference calculation there) teaches the model the most:

``method="committee"``
    query by committee. Every posterior draw :math:`\theta_s` is a committee
    member; the disagreement at candidate :math:`x_n` is the standard
    deviation of the members' noise-free predictions,

    .. math:: d_n = \operatorname{sd}_s\, \mu(\theta_s; x_n)

    (observable unit, ``ddof=1``).
``method="variance"``
    the predictive variance :math:`d_n^2` (observable unit squared): for a
    run, the variance of the same draws; for a Gaussian process, its
    closed-form predictive variance (pass a callable that returns it, below).

Both rank candidates identically for a given set of draws; they differ in the
unit of ``threshold``. Measurement noise is left out on purpose: it is the
same wherever one labels (or grows with the label, for a relative noise
model) and no label reduces it, so only the epistemic spread says where a new
label helps.

A candidate whose score is below ``threshold`` is never chosen, so ``query``
returns fewer than ``k`` candidates, or none (:attr:`Query.converged`): the
model is certain enough everywhere in the pool.

Two ways to give the model:

* a run: the DataTree from :func:`bayesff.calibrate` or the path of its
  netCDF file. The forward model is rebuilt from the problem file text stored
  in the run (``problem_text`` attribute, data files resolved as
  ``bayesff calibrate`` resolved them) or, for problems built in Python (which
  store no text), from ``problem=``; the rebuilt model is checked against the
  run's own predictions at the training rows before it is used;
* a callable ``draws(candidates) -> (n_draws, n_candidates)`` array of
  predictions (any model: a committee of networks, draws of a GP), or, with
  ``method="variance"``, a callable returning the ``(n_candidates,)``
  predictive variances.

Examples
--------
>>> import numpy as np
>>> from bayesff.active import query
>>> draws = lambda r: np.stack([np.zeros_like(r), r**2])  # two members disagree by r^2
>>> q = query(draws, np.array([1.0, 3.0, 2.0]), k=2)
>>> q.candidates, q.index
(array([3., 2.]), array([1, 2]))
>>> query(draws, np.array([1.0, 3.0, 2.0]), k=2, threshold=100.0).converged
True
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bayesff.errors import BayesffError

__all__ = ["METHODS", "Predictor", "Query", "predict_at", "query"]

#: Disagreement measures :func:`query` knows.
METHODS = ("committee", "variance")


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
        array, or a dict ``column -> (m,)`` array.
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


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


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


def _pool(candidates, columns: tuple[str, ...] | None) -> tuple[dict | np.ndarray, int]:
    """Validate the candidate pool; return it (array or dict of arrays) and its size.

    ``columns`` are the environment columns the model needs (None: any, for a
    callable model).
    """
    if isinstance(candidates, Mapping):
        if not candidates:
            raise BayesffError("candidates is empty: give at least one candidate environment")
        if columns is not None:
            missing = [c for c in columns if c not in candidates]
            extra = [c for c in candidates if c not in columns]
            if missing or extra:
                raise BayesffError(
                    f"candidate columns {sorted(candidates)} do not match the target's "
                    f"environment columns {list(columns)}"
                )
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
        if columns is not None and len(columns) != 1:
            raise BayesffError(
                f"the target has environment columns {list(columns)}: give candidates as a "
                "dict column -> array"
            )
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


# --------------------------------------------------------------------------------------------
# Predictions of a run at new environments
# --------------------------------------------------------------------------------------------


def _open_run(run):
    if isinstance(run, (str, os.PathLike)):
        import xarray as xr

        path = Path(run)
        if not path.is_file():
            raise BayesffError(
                "no run file there; run `bayesff calibrate PROBLEM` first", str(path)
            )
        with xr.open_datatree(path, engine="h5netcdf") as dt:
            return dt.load()
    if not hasattr(run, "attrs") or "posterior" not in getattr(run, "children", {}):
        raise BayesffError(
            "run must be a DataTree from bayesff.calibrate (with a posterior group), the path "
            f"of its netCDF file, or a callable draws(candidates); got {type(run).__name__}"
        )
    return run


def _problem_of(dt, problem):
    """The run's problem: given, or rebuilt from the problem file text stored in the run."""
    if problem is not None:
        return problem
    from bayesff.problem import Problem

    text = str(dt.attrs.get("problem_text", "") or "")
    if not text.strip():
        raise BayesffError(
            "this run stores no problem file text (its problem was built in Python); pass "
            "problem= (the Problem it was calibrated on) or a callable draws(candidates)"
        )
    ppath = str(dt.attrs.get("problem_path", "") or "")
    base = [Path.cwd()]
    if ppath:
        d = Path(ppath).resolve().parent
        base = [d, d.parent, Path.cwd()]
    return Problem.from_dict(
        tomllib.loads(text), path=ppath or "<run>", source_text=text, base_dirs=tuple(base)
    )


def _resolve_target(names: list[str], target) -> int:
    if target is None:
        if len(names) != 1:
            raise BayesffError(f"the run has targets {names}: name one with target=")
        return 0
    if target not in names:
        raise BayesffError(f"unknown target {target!r}; the run has targets {names}")
    return names.index(target)


def _posterior(dt, names: list[str]) -> dict:
    post = dt["posterior"]
    missing = [n for n in names if n not in post.data_vars]
    if missing:
        raise BayesffError(
            f"the run's posterior lacks {missing} (it has {list(post.data_vars)}): the problem "
            "does not match the run"
        )
    return {n: np.asarray(post[n].transpose("chain", "draw", ...).values) for n in names}


def _check_reproduces(cp, post: dict, k: int, dt) -> None:
    """The rebuilt model must give the run's own training predictions (first draw)."""
    from bayesff.model import predict_draws

    t = cp.problem.targets[k]
    pp = dt["posterior_predictive"] if "posterior_predictive" in dt.children else None
    name = f"{t.name}_model"
    if pp is None or name not in pp.data_vars or not t.train.any():
        return
    ref = np.asarray(pp[name].transpose("chain", "draw", ...).values)[0, 0]
    first = {n: v[:1, :1] for n, v in post.items()}
    got = predict_draws(cp, first, k, np.flatnonzero(t.train))[0, 0]
    if ref.shape != got.shape or not np.allclose(got, ref, rtol=1e-6, atol=1e-12):
        raise BayesffError(
            f"the problem does not reproduce the run's training predictions of {t.name!r} "
            "(different data, potential or settings): pass the problem the run was made from"
        )


def predict_at(run, candidates, *, target: str | None = None, problem=None, seed: int = 0):
    """Noise-free predictions of every posterior draw at new environments.

    Parameters
    ----------
    run
        DataTree from :func:`bayesff.calibrate`, or the path of its netCDF file.
    candidates
        Environments in internal units (angstrom, K, 1/angstrom^3): an array
        for a target with one environment column (e.g. distances for
        ``pair_force``), else a dict ``column -> array``.
    target
        Target name; may be left out when the run has one target.
    problem
        The :class:`~bayesff.problem.Problem` the run was calibrated on;
        needed when the run stores no problem file text (a problem built in
        Python), else rebuilt from the run.
    seed
        Seeds the new environment of a hierarchical target (one fresh
        per-environment deviation per draw, shared by all candidates).

    Returns
    -------
    numpy.ndarray
        ``(n_draws, n_candidates)`` model means in the target's unit, draws
        in (chain, draw) order. A GP inadequacy term is evaluated on the
        run's own scaled coordinate, so it reverts to its prior away from
        the data.
    """
    dt = _open_run(run)
    return Predictor(dt, target, problem)(candidates, seed=seed)


class Predictor:
    """A run's forward model, rebuilt once, to predict every posterior draw at new environments.

    ``Predictor(dt, target, problem)(candidates)`` is :func:`predict_at`
    without rebuilding (and recompiling) the model for each pool, e.g. in a
    plot over a dense grid or an active-learning loop over one run.

    Parameters
    ----------
    dt
        The run's DataTree (loaded).
    target
        Target name, or ``None`` for a run with one target.
    problem
        The run's :class:`~bayesff.problem.Problem`, or ``None`` to rebuild it
        from the problem file text stored in the run.

    Raises
    ------
    BayesffError
        If the problem cannot be rebuilt, names other targets than the run's,
        lacks a posterior variable, or does not reproduce the run's own
        training predictions (first draw, relative tolerance 1e-6).
    """

    def __init__(self, dt, target, problem):
        from bayesff.model import build_model

        meta = json.loads(dt.attrs["targets"]) if "targets" in dt.attrs else None
        prob = _problem_of(dt, problem)
        names = [t.name for t in prob.targets]
        if meta is not None and sorted(meta) != sorted(names):
            raise BayesffError(
                f"the problem's targets {names} are not the run's {sorted(meta)}: pass the "
                "problem the run was made from"
            )
        self.k = _resolve_target(names, target)
        self.cp = build_model(prob)
        self.post = _posterior(dt, self.cp.latent_names)
        _check_reproduces(self.cp, self.post, self.k, dt)
        self.target = prob.targets[self.k]
        self.columns = tuple(self.target.observable.env_columns)

    def __call__(self, candidates, seed: int = 0) -> np.ndarray:
        pool, n = _pool(candidates, self.columns)
        env = pool if isinstance(pool, dict) else {self.columns[0]: pool}
        return self._draws(env, n, seed)

    def _draws(self, env: dict, n: int, seed: int) -> np.ndarray:
        import jax
        import jax.numpy as jnp

        from bayesff.model import _Layout, mean_prediction

        cp, k, t = self.cp, self.k, self.target
        old = cp.layouts[k]
        x_scaled = None
        if old.x_scaled is not None:  # GP inadequacy: the run's own scaling of x
            x_all = old.env_all[self.columns[0]]
            lo, hi = float(x_all.min()), float(x_all.max())
            x = env[self.columns[0]]
            x_scaled = 2.0 * (x - lo) / (hi - lo) - 1.0 if hi > lo else np.zeros_like(x)
        lay = _Layout(
            env_all={c: np.asarray(env[c], float) for c in self.columns},
            train_idx=np.zeros(0, int),
            band=np.full(n, -1),  # every candidate is a new environment
            x_scaled=x_scaled,
            pooled=old.pooled,
        )
        cp2 = dataclasses.replace(cp, layouts=[*cp.layouts[:k], lay, *cp.layouts[k + 1 :]])
        lead = next(iter(self.post.values())).shape[:2]
        s = int(np.prod(lead))
        flat = {
            name: jnp.reshape(jnp.asarray(v), (s, *v.shape[2:])) for name, v in self.post.items()
        }
        rows = np.arange(n)
        if t.inadequacy.kind == "hierarchical":
            rng = np.random.default_rng(seed)
            new_z = {q: jnp.asarray(rng.standard_normal(s)) for q in lay.pooled}
            f = jax.jit(jax.vmap(lambda lat, z: mean_prediction(cp2, k, lat, rows, z)))
            return np.asarray(f(flat, new_z))
        f = jax.jit(jax.vmap(lambda lat: mean_prediction(cp2, k, lat, rows)))
        return np.asarray(f(flat))


# --------------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------------


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
    if a.ndim != 2 or a.shape[1] != n:
        raise BayesffError(
            f"the model returned shape {a.shape}; expected draws (n_draws, {n}) with the draws "
            "axis first"
        )
    if a.shape[0] < 2:
        raise BayesffError(f"a committee needs at least 2 draws, got {a.shape[0]}")
    sd = a.std(axis=0, ddof=1)
    return sd if method == "committee" else sd**2


def query(
    run,
    candidates,
    k: int,
    *,
    method: str = "committee",
    threshold: float | None = None,
    target: str | None = None,
    problem=None,
) -> Query:
    """Choose the ``k`` candidate environments where the posterior disagrees most.

    Parameters
    ----------
    run
        The model: a DataTree from :func:`bayesff.calibrate`, the path of its
        netCDF file, or a callable ``draws(candidates)`` returning an
        ``(n_draws, n_candidates)`` array of noise-free predictions (or, for
        ``method="variance"``, an ``(n_candidates,)`` array of predictive
        variances, e.g. a Gaussian process's).
    candidates
        The pool of environments, in internal units: an array (one value per
        candidate, e.g. distances in angstrom) or a dict ``column -> array``
        for targets with several environment columns. A callable model
        receives the pool as given.
    k
        How many to choose (>= 1). Fewer come back when fewer candidates
        reach ``threshold`` or the pool is smaller.
    method
        ``"committee"``: score = standard deviation of the draws (observable
        unit). ``"variance"``: score = predictive variance (unit squared).
    threshold
        Candidates with a score below it are never chosen; ``None`` = no
        threshold. Same unit as the score.
    target
        Target of a run to predict; may be left out when the run has one.
    problem
        For a run whose problem was built in Python (no problem text stored):
        the :class:`~bayesff.problem.Problem` it was calibrated on.

    Returns
    -------
    Query
        ``.candidates`` (the chosen environments, by decreasing score),
        ``.index``, ``.score``, all ``.scores`` and ``.converged``.

    Raises
    ------
    BayesffError
        (a ``ValueError``) for ``k < 1``, an empty or non-finite pool, an
        unknown method or target, a negative threshold, a model output of the
        wrong shape, or a non-finite score (the forward model failed at a
        candidate: the error lists where). Raised before any prediction
        where the input allows.
    """
    k = _check_k(k)
    method = _check_method(method)
    threshold = _check_threshold(threshold)
    pool, n = _pool(candidates, None)  # empty or non-finite pools fail before any work
    if callable(run) and not hasattr(run, "children"):
        out = run(pool)
    else:
        dt = _open_run(run)
        pred = Predictor(dt, target, problem)
        pool, n = _pool(candidates, pred.columns)
        env = pool if isinstance(pool, dict) else {pred.columns[0]: pool}
        out = pred._draws(env, n, 0)
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
