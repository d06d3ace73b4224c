"""Transferability of a calibrated force field to held-out environments.

DESIGN.md section 6. Every criterion is computed from posterior draws of a run
file (:mod:`bayesff.inference`), per held-out state, then summarised per
held-out group (a contiguous band of environments named in the problem file)
and per target:

- **tolerance probability** ``P(|mu - y| / |y| <= delta)`` (or
  ``P(|mu - y| <= delta)`` for an absolute tolerance), computed from the
  noise-free forward-model draws ``mu(theta_s)``: the Bayesian version of the
  field's deterministic rule ``|mu(theta_hat) - y| / |y| <= delta``; and the
  probability that *all* held-out states are within tolerance jointly;
- **joint transferability** over several targets,
  ``P(structure error <= tau_s and thermo error <= tau_t)``, from the same
  posterior draws;
- **central interval coverage** (50 %, 90 %) of the posterior predictive
  (replicated observations with measurement noise and inadequacy) and
  **standardised residuals**;
- the **posterior predictive tail probability** (two-sided p-value);
- the **transferability index** RMSE(held out) / RMSE(training);
- **model comparison** (:func:`compare`): PSIS-LOO and
  leave-one-environment-out elpd across runs fitted to the same data.

The metric functions take plain arrays with the draws axis first,
``(S, N)`` for ``S`` posterior draws and ``N`` states, and observations of
shape ``(N,)``; all values are in the observable's unit (e.g. cm^3/mol for
B2) unless stated otherwise. Probabilities estimated from ``S`` draws have a
resolution of ``1/S``: a reported 0 means "less than about 1/S".

Only numpy, xarray and arviz are used; nothing here imports jax.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "TransferabilityResult",
    "all_within_tolerance_probability",
    "compare",
    "evaluate",
    "interval_coverage",
    "joint_tolerance_probability",
    "standardized_residuals",
    "tail_probability",
    "tolerance_probability",
    "transferability_index",
]

_SAMPLE_DIMS = ("chain", "draw")


# --------------------------------------------------------------------------------------------
# Pure-array metrics
# --------------------------------------------------------------------------------------------


def _draws_obs(draws, observed) -> tuple[np.ndarray, np.ndarray]:
    """Validate and shape ``draws`` to ``(S, N)`` and ``observed`` to ``(N,)``."""
    y = np.atleast_1d(np.asarray(observed, dtype=float))
    x = np.asarray(draws, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"observed must be one-dimensional (N,), got shape {y.shape}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != y.shape[0]:
        raise ValueError(
            f"draws must have shape (S, N) = (S, {y.shape[0]}) with the draws axis first, "
            f"got {np.shape(draws)}"
        )
    if x.shape[0] < 1:
        raise ValueError("draws is empty (no posterior draws)")
    return x, y


def _check_tol(tol: Mapping) -> tuple[str, float]:
    if not isinstance(tol, Mapping) or len(tol) != 1 or next(iter(tol)) not in ("rel", "abs"):
        raise ValueError(f'tolerance must be {{"rel": delta}} or {{"abs": delta}}, got {tol!r}')
    kind, delta = next(iter(tol.items()))
    delta = float(delta)
    if not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"tolerance {kind} must be a positive finite number, got {delta!r}")
    return kind, delta


def _within(model_draws, observed, tol: Mapping) -> np.ndarray:
    """Boolean ``(S, N)``: draw ``s`` puts state ``n`` within tolerance."""
    x, y = _draws_obs(model_draws, observed)
    kind, delta = _check_tol(tol)
    err = np.abs(x - y)
    if kind == "rel":
        if np.any(y == 0):
            raise ValueError("a relative tolerance needs non-zero observations")
        return err <= delta * np.abs(y)
    return err <= delta


def tolerance_probability(model_draws, observed, tol: Mapping) -> np.ndarray:
    """Posterior probability that each state is predicted within tolerance.

    .. math::

        p_n = \\frac{1}{S} \\sum_{s=1}^{S}
              \\mathbb{1}\\left[\\frac{|\\mu_{sn} - y_n|}{|y_n|} \\le \\delta\\right]
        \\quad (\\text{rel}), \\qquad
        p_n = \\frac{1}{S} \\sum_{s} \\mathbb{1}\\left[|\\mu_{sn} - y_n| \\le \\delta\\right]
        \\quad (\\text{abs})

    where :math:`\\mu_{sn}` is the noise-free forward model for posterior draw
    ``s`` at state ``n``. This is the Bayesian version of the field's
    deterministic rule :math:`|\\mu(\\hat\\theta) - y| / |y| \\le \\delta`: the
    rule is applied to every posterior draw instead of one best fit.

    Parameters
    ----------
    model_draws
        ``(S, N)`` forward-model means (no measurement noise), observable unit.
    observed
        ``(N,)`` observations, same unit.
    tol
        ``{"rel": delta}`` (dimensionless, e.g. 0.05 for 5 %) or
        ``{"abs": delta}`` (observable unit).

    Returns
    -------
    numpy.ndarray
        ``(N,)`` probabilities in [0, 1].
    """
    return _within(model_draws, observed, tol).mean(axis=0)


def all_within_tolerance_probability(model_draws, observed, tol: Mapping) -> float:
    """Posterior probability that *all* states are within tolerance jointly.

    .. math::

        P_\\text{all} = \\frac{1}{S} \\sum_s \\prod_n
        \\mathbb{1}\\left[|\\mu_{sn} - y_n| \\le \\delta_n\\right],
        \\qquad \\delta_n = \\delta |y_n| \\text{ (rel) or } \\delta \\text{ (abs)}

    The product is taken within each draw, so correlations between states
    (one parameter set predicting all of them) are kept; in general
    :math:`P_\\text{all} \\ne \\prod_n p_n`.

    Parameters are as in :func:`tolerance_probability`; returns a float.
    """
    return float(np.all(_within(model_draws, observed, tol), axis=1).mean())


def joint_tolerance_probability(parts: Mapping[str, tuple]) -> float:
    """Joint transferability over several targets from the same posterior draws.

    .. math::

        P = \\frac{1}{S} \\sum_s \\prod_{k \\in \\text{targets}} \\prod_{n}
            \\mathbb{1}\\left[|\\mu^{(k)}_{sn} - y^{(k)}_n| \\le \\delta^{(k)}_n\\right]

    e.g. ``P(structure error <= tau_s and thermo error <= tau_t)``. Row ``s``
    of every target's draws must come from the same posterior draw (the same
    parameter vector), which holds for variables of one run file flattened in
    the same (chain, draw) order.

    Parameters
    ----------
    parts
        ``{target: (model_draws (S, N_k), observed (N_k,), tol)}``.

    Returns
    -------
    float
        The probability that every state of every target is within its
        target's tolerance.
    """
    if not parts:
        raise ValueError("joint_tolerance_probability needs at least one target")
    ok, n_draws = None, None
    for name, (draws, obs, tol) in parts.items():
        w = np.all(_within(draws, obs, tol), axis=1)
        if n_draws is not None and w.shape[0] != n_draws:
            raise ValueError(
                f"target {name!r} has {w.shape[0]} draws, others {n_draws}: the draws must be "
                "aligned (the same posterior draws for every target)"
            )
        n_draws = w.shape[0]
        ok = w if ok is None else ok & w
    return float(ok.mean())


def _interval(draws: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return lo, hi


def interval_coverage(pred_draws, observed, prob: float = 0.9) -> tuple[float, np.ndarray]:
    """Coverage of the central (equal-tailed) posterior predictive interval.

    The interval for state ``n`` is ``[q_{(1-prob)/2}, q_{(1+prob)/2}]`` of the
    predictive draws (``numpy.quantile``, linear interpolation); the state is
    covered when ``q_lo <= y_n <= q_hi``. For a calibrated predictive the
    expected coverage is ``prob``.

    Parameters
    ----------
    pred_draws
        ``(S, N)`` posterior predictive draws: replicated observations including
        measurement noise and model inadequacy, observable unit.
    observed
        ``(N,)`` observations.
    prob
        Central probability of the interval, e.g. 0.5 or 0.9.

    Returns
    -------
    coverage : float
        Fraction of states covered.
    inside : numpy.ndarray
        ``(N,)`` booleans.
    """
    x, y = _draws_obs(pred_draws, observed)
    lo, hi = _interval(x, prob)
    inside = (y >= lo) & (y <= hi)
    return float(inside.mean()) if inside.size else float("nan"), inside


def standardized_residuals(pred_draws, observed) -> np.ndarray:
    """Standardised residuals ``z_n = (y_n - mean_s ỹ_sn) / sd_s ỹ_sn``.

    Mean and standard deviation (``ddof=1``) of the posterior predictive
    draws; dimensionless. For a calibrated predictive ``z`` is roughly
    standard normal; ``|z| > 2`` flags a state the model does not explain.
    Zero predictive spread gives ``±inf`` (or NaN when the residual is 0).
    """
    x, y = _draws_obs(pred_draws, observed)
    sd = x.std(axis=0, ddof=1) if x.shape[0] > 1 else np.zeros(x.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - x.mean(axis=0)) / sd


def tail_probability(pred_draws, observed) -> np.ndarray:
    """Two-sided posterior predictive tail probability (p-value) per state.

    .. math::

        p_n = \\min\\left(1,\\; 2 \\min\\left(P(\\tilde y_n \\ge y_n),\\;
              P(\\tilde y_n \\le y_n)\\right)\\right)

    with the probabilities estimated as fractions of predictive draws. Small
    values (e.g. < 0.05) mean the observation is in a tail of the predictive;
    the resolution is ``2/S``.
    """
    x, y = _draws_obs(pred_draws, observed)
    upper = (x >= y).mean(axis=0)
    lower = (x <= y).mean(axis=0)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def transferability_index(
    train_mean, train_obs, test_mean, test_obs, *, relative: bool = False
) -> float:
    """Held-out over training prediction error.

    .. math::

        \\mathrm{TI} = \\frac{\\mathrm{RMSE}_\\text{test}}{\\mathrm{RMSE}_\\text{train}},
        \\qquad \\mathrm{RMSE} = \\sqrt{\\tfrac{1}{N}\\sum_n (\\bar\\mu_n - y_n)^2}

    with :math:`\\bar\\mu_n` the posterior-mean prediction (observable unit;
    the ratio is dimensionless). With ``relative=True`` the errors are relative,
    :math:`(\\bar\\mu_n - y_n)/|y_n|`, which compares states of very different
    magnitude fairly (B2 spans two orders of magnitude over 85-700 K).
    ``TI ~ 1``: the model predicts held-out environments as well as it fits
    the training ones; ``TI >> 1``: it does not transfer. Returns ``inf`` when
    the training error is 0 and the test error is not, NaN when either set is
    empty.
    """
    errs = []
    for m, y in ((train_mean, train_obs), (test_mean, test_obs)):
        m = np.atleast_1d(np.asarray(m, dtype=float))
        y = np.atleast_1d(np.asarray(y, dtype=float))
        if m.shape != y.shape:
            raise ValueError(f"predictions {m.shape} and observations {y.shape} differ in shape")
        if m.size == 0:
            return float("nan")
        e = (m - y) / np.abs(y) if relative else m - y
        errs.append(float(np.sqrt(np.mean(e**2))))
    tr, te = errs
    if tr == 0:
        return float("inf") if te > 0 else float("nan")
    return te / tr


# --------------------------------------------------------------------------------------------
# Reading a run file
# --------------------------------------------------------------------------------------------


def _group(dt, name: str):
    """Dataset of a DataTree group, or None when the group is absent."""
    try:
        node = dt[name]
    except KeyError:
        return None
    return node.to_dataset()


def _flat(da, dim: str) -> np.ndarray:
    """``(chain, draw, dim)`` DataArray -> ``(S, N)`` array (chain-major, draw order)."""
    da = da.transpose(*_SAMPLE_DIMS, dim)
    return np.asarray(da.values, dtype=float).reshape(-1, da.sizes[dim])


def _target_meta(dt) -> dict:
    """Target metadata: the ``targets`` attribute, else inferred from the groups.

    Run files written before the ``targets`` attribute existed are read by
    inferring each target from the variable names (``NAME`` and ``NAME_model``).
    """
    if "targets" in dt.attrs:
        meta = json.loads(dt.attrs["targets"])
    else:
        meta = {}
        for gname in ("posterior_predictive", "predictions"):
            ds = _group(dt, gname)
            if ds is None:
                continue
            for v in ds.data_vars:
                if v.endswith("_model") or v in meta:
                    continue
                dims = [d for d in ds[v].dims if d not in _SAMPLE_DIMS]
                meta[v] = {
                    "unit": ds[v].attrs.get("units", ""),
                    "dim": dims[0],
                    "env_columns": [],
                    "env_units": {},
                }
        pcd = _group(dt, "predictions_constant_data")
        cd = _group(dt, "constant_data")
        for name, m in meta.items():
            cols = []
            for ds in (cd, pcd):
                if ds is None:
                    continue
                for v in ds.data_vars:
                    col = v[len(name) + 1 :]
                    if v.startswith(f"{name}_") and col not in ("u", "observed", *cols):
                        cols.append(col)
                        m["env_units"][col] = ds[v].attrs.get("units", "")
            m["env_columns"] = cols
    obs = _group(dt, "observed_data")
    for name, m in meta.items():
        m["trained"] = bool(
            m.get("trained", True) and obs is not None and name in obs and obs[name].size > 0
        )
    return meta


def holdout_groups(dt, target: str) -> np.ndarray:
    """Held-out group label of each held-out row of ``target``.

    ``predictions_constant_data[f"{target}_holdout_group"]`` (written by
    :func:`bayesff.calibrate`), else the ``holdout_group*`` coordinate of older
    run files.
    """
    pc = dt["predictions_constant_data"]
    if f"{target}_holdout_group" in pc:
        return np.asarray(pc[f"{target}_holdout_group"].values)
    da = dt["predictions"][target]
    name = next(c for c in da.coords if str(c).startswith("holdout_group"))
    return np.asarray(da[name].values)


def _holdout_groups(da, dim: str, pcd, name: str) -> np.ndarray:
    """Held-out group label per row of target ``name``.

    Read from the coordinate ``holdout_group`` along ``dim`` (or one named
    ``holdout_group_*``, the way to keep several targets with different dims in
    one Dataset), else from ``predictions_constant_data[NAME_holdout_group]``,
    else every row is in a group named after the target.
    """
    cands = [c for c in da.coords if str(c).startswith("holdout_group") and da[c].dims == (dim,)]
    if cands:
        key = "holdout_group" if "holdout_group" in cands else sorted(cands)[0]
        return np.asarray(da.coords[key].values).astype(str)
    if pcd is not None and f"{name}_holdout_group" in pcd:
        return np.asarray(pcd[f"{name}_holdout_group"].values).astype(str)
    return np.full(da.sizes[dim], name)


def _tolerances(dt, override) -> dict:
    tol = json.loads(dt.attrs["tolerance"]) if "tolerance" in dt.attrs else {}
    tol = dict(tol or {})
    tol.update(override or {})
    for t in tol.values():
        _check_tol(t)
    return tol


def _q(x: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    return _interval(x, p)


def _fmt_tol(tol: Mapping, unit: str) -> str:
    kind, delta = _check_tol(tol)
    if kind == "rel":
        return f"{100 * delta:g} %"
    return f"±{delta:g} {unit if unit != '1' else ''}".rstrip()


def _binom_upper(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``."""
    return float(sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)))


def _env_range(env: dict[str, np.ndarray], units: Mapping[str, str]) -> str:
    parts = []
    for col, vals in env.items():
        vals = np.asarray(vals, dtype=float)
        if vals.size == 0:
            continue
        lo, hi = float(vals.min()), float(vals.max())
        r = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
        unit = units.get(col, "")
        unit = "" if unit == "1" else unit
        label = "" if len(env) == 1 else f"{col.split('_')[0]} "
        parts.append(f"{label}{r} {unit}".strip())
    return ", ".join(parts)


def _env_of(dt_group, name: str, meta: dict, dim: str, coord) -> dict[str, np.ndarray]:
    cols = meta.get("env_columns") or []
    env = {}
    for c in cols:
        v = f"{name}_{c}"
        if dt_group is not None and v in dt_group:
            env[c] = np.asarray(dt_group[v].values)
    if not env:
        env[dim] = np.asarray(coord)
    return env


@dataclass
class TransferabilityResult:
    """Transferability of one run (see :func:`evaluate`).

    Attributes
    ----------
    states
        One dict per held-out state: ``target``, ``group``, ``env`` (column ->
        value in its file unit), ``observed``, ``u`` (standard uncertainty),
        ``unit``, ``pred_mean``, ``pred_sd``, ``pi50``, ``pi90`` (predictive
        intervals), ``model_mean``, ``model_pi90`` (noise-free forward model),
        ``rel_error`` (``(pred_mean - y)/|y|``), ``z``, ``tail_p``,
        ``tolerance``, ``p_within_tolerance``, ``inside50``, ``inside90``,
        ``verdict`` ("pass", "fail", "uncertain").
    groups
        One dict per (target, held-out group): ``n``, ``env_range``,
        ``p_all_within_tolerance``, ``coverage50``, ``coverage90``,
        ``n_inside90``, ``mean_abs_z``, ``transferability_index`` (and
        ``transferability_index_rel``), ``verdict`` ("transferable",
        "not transferable", "uncertain") and ``verdict_basis``.
    training
        Per trained target: ``n``, ``rmse``, ``rel_rmse``, ``coverage50``,
        ``coverage90``, ``mean_abs_z``, ``p_all_within_tolerance``.
    joint
        ``P(every held-out state of every target with a tolerance is within
        it)`` from the same posterior draws, with the targets it covers; None
        when no target has both a tolerance and held-out states.
    """

    states: list[dict]
    groups: list[dict]
    training: dict
    joint: dict | None = None
    candidates: list = field(default_factory=list)
    conformers: list = field(default_factory=list)
    pass_prob: float = 0.9
    fail_prob: float = 0.1
    run: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Everything as JSON-serialisable builtins (NaN and inf become None)."""
        return jsonable(
            {
                "run": self.run,
                "pass_prob": self.pass_prob,
                "fail_prob": self.fail_prob,
                "states": self.states,
                "groups": self.groups,
                "training": self.training,
                "joint": self.joint,
                "candidates": self.candidates,
                "conformers": self.conformers,
                "notes": self.notes,
            }
        )

    def verdict_lines(self) -> list[str]:
        """One line per held-out group, e.g.

        ``B2 low T (5 states, 85-105 K): NOT TRANSFERABLE — P(all within 5 %) = 0.00,
        90 % coverage 0/5, transferability index 6.1``
        """
        lines = []
        for g in self.groups:
            label = g["target"] if g["group"] == g["target"] else f"{g['target']} {g['group']}"
            head = f"{label} ({g['n']} state{'s' if g['n'] != 1 else ''}"
            head += f", {g['env_range']})" if g["env_range"] else ")"
            bits = []
            if g["tolerance"] is not None:
                tol = _fmt_tol(g["tolerance"], g["unit"])
                bits.append(f"P(all within {tol}) = {g['p_all_within_tolerance']:.2f}")
            else:
                bits.append("no tolerance given (verdict from 90 % coverage)")
            bits.append(f"90 % coverage {g['n_inside90']}/{g['n']}")
            ti = g["transferability_index"]
            ti_rel = g.get("transferability_index_rel")
            if not g["trained"]:
                bits.append("transferability index n/a (target not trained)")
            elif ti is None:
                bits.append("transferability index undefined (zero training error)")
            else:
                # the absolute ratio also measures how the observable's size changes
                # between training and held-out rows; the relative one does not
                rel = "" if ti_rel is None else f", relative {ti_rel:.2g}"
                bits.append(f"transferability index {ti:.2g}{rel}")
            lines.append(f"{head}: {g['verdict'].upper()} — {', '.join(bits)}")
        for c in self.conformers:
            if c.get("held_out", True):
                lines.append(
                    f"{c['target']} conformers at T = {c['T_K']:g} K, W = {c['W_kJ_per_mol']:g} "
                    f"kJ/mol: {c['verdict'].upper()} — epsilon_p = {c['epsilon_p_mean']:.3f} "
                    f"(P <= {c['eps_p_max']:g}: {c['P_epsilon_p']:.2f}), epsilon_G = "
                    f"{c['epsilon_G_mean']:.2f} kJ/mol (P <= {c['eps_G_max']:g}: "
                    f"{c['P_epsilon_G']:.2f})"
                )
        for c in self.candidates:
            bad = [f"{g['target']} {g['group']}" for g in c["groups"] if g["n_pass"] < g["n"]]
            lines.append(
                f"candidate {c['name']!r} (deterministic rule): "
                + (f"fails in {', '.join(bad)}" if bad else "passes everywhere")
            )
        if self.joint is not None and len(self.joint["targets"]) > 1:
            lines.append(
                f"joint ({' and '.join(self.joint['targets'])}, "
                f"{self.joint['n_states']} states): P(all within tolerance) = "
                f"{self.joint['p_all_within_tolerance']:.2f}"
            )
        return lines

    def table(self) -> str:
        """Plain-text table of the held-out states."""
        head = (
            "target",
            "group",
            "environment",
            "observed",
            "pred mean",
            "pred sd",
            "90 % interval",
            "z",
            "tail p",
            "P(tol)",
            "verdict",
        )
        rows = []
        for s in self.states:
            env = ", ".join(f"{_fmt_num(v, 4)}" for v in s["env"].values())
            rows.append(
                (
                    s["target"],
                    s["group"],
                    env,
                    _fmt_num(s["observed"], 5),
                    _fmt_num(s["pred_mean"], 5),
                    _fmt_num(s["pred_sd"], 3),
                    f"[{_fmt_num(s['pi90'][0], 4)}, {_fmt_num(s['pi90'][1], 4)}]",
                    "-" if s["z"] is None else f"{s['z']:.2f}",
                    "-" if s["tail_p"] is None else f"{s['tail_p']:.3f}",
                    "-" if s["p_within_tolerance"] is None else f"{s['p_within_tolerance']:.2f}",
                    s["verdict"],
                )
            )
        widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
        out = [fmt.format(*head), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        out += [fmt.format(*r) for r in rows]
        return "\n".join(out)


def _fmt_num(x, digits: int) -> str:
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.{digits}e}"


def jsonable(x):
    """Plain JSON builtins (dicts, lists, numbers, strings); NaN and inf become None."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()]
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.str_ | bytes):
        return str(x)
    return x


def _f(x) -> float | None:
    """float, or None for NaN / inf / None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _conformer_metrics(dt) -> list[dict]:
    """epsilon_p and epsilon_G per environment of every conformer-population target
    (:func:`bayesff.observables.conformers.conformer_transferability`)."""
    meta = _target_meta(dt)
    names = [n for n, m in meta.items() if m.get("observable") == "conformer_population"]
    if not names:
        return []
    from bayesff.observables.conformers import conformer_transferability  # imports jax

    out = []
    for n in names:
        for row in conformer_transferability(dt, n):
            out.append({"target": n, **row})
    return out


_VERDICT_RANK = {"transferable": 0, "uncertain": 1, "not transferable": 2}


def deterministic_rule(dt, tolerance: Mapping | None = None) -> list[dict]:
    """The field's deterministic rule for candidate parameter sets.

    For each candidate stored in the run (``[transferability] candidates`` of
    the problem file, evaluated by :func:`bayesff.calibrate` with the bare
    forward model) and each state of each target with a tolerance:
    pass when :math:`|f(\\theta_c) - y| / |y| \\le \\delta` (or
    :math:`|f - y| \\le \\delta` for an absolute tolerance). This is the rule
    the Bayesian tolerance probability generalises.

    Returns
    -------
    list of dict
        One per candidate: ``name``, ``parameters``, ``states`` (target,
        group -- "training" for training rows --, env, observed, predicted,
        rel_error, verdict) and ``groups`` (target, group, n, n_pass, verdict:
        "transferable" when every state passes).
    """
    import json

    raw = dt.attrs.get("candidates")
    if not raw:
        return []
    cands = json.loads(raw) if isinstance(raw, str) else raw
    tols = _tolerances(dt, tolerance)
    out = []
    for c in cands:
        states, groups = [], []
        for tname, rows in c["targets"].items():
            tol = tols.get(tname)
            if tol is None:
                continue
            y = np.asarray(rows["observed"], float)
            f = np.asarray(rows["predicted"], float)
            ok = _within(f[None, :], y, tol)[0]
            labels = [g or "training" for g in rows["group"]]
            for i in range(y.size):
                states.append(
                    {
                        "target": tname,
                        "group": labels[i],
                        "env": {k: _f(v[i]) for k, v in rows["env"].items()},
                        "observed": _f(y[i]),
                        "predicted": _f(f[i]),
                        "rel_error": _f((f[i] - y[i]) / abs(y[i])) if y[i] != 0 else None,
                        "tolerance": tol,
                        "verdict": "pass" if ok[i] else "fail",
                    }
                )
            for g in dict.fromkeys(labels):
                sel = np.array([lab == g for lab in labels])
                n_pass = int(ok[sel].sum())
                groups.append(
                    {
                        "target": tname,
                        "group": g,
                        "n": int(sel.sum()),
                        "n_pass": n_pass,
                        "verdict": "transferable" if n_pass == sel.sum() else "not transferable",
                    }
                )
        out.append(
            {"name": c["name"], "parameters": c["parameters"], "states": states, "groups": groups}
        )
    return out


def evaluate(
    dt, tolerance: Mapping | None = None, pass_prob: float = 0.9, fail_prob: float = 0.1
) -> TransferabilityResult:
    """Transferability criteria of a run file, per held-out state and group.

    Parameters
    ----------
    dt
        The run DataTree (``xarray.open_datatree(path)``), with the groups
        written by :func:`bayesff.calibrate`: ``predictions`` (``NAME`` =
        replicated observations, ``NAME_model`` = forward-model mean, per draw,
        coordinate ``holdout_group``), ``predictions_constant_data``
        (``NAME_observed``, ``NAME_u``, environment columns ``NAME_COLUMN``),
        and for training rows ``posterior_predictive``, ``observed_data``.
    tolerance
        ``{target: {"rel": delta} | {"abs": delta}}``; overrides, per target,
        the run file's ``tolerance`` attribute.
    pass_prob, fail_prob
        A held-out state *passes* when its tolerance probability is
        ``>= pass_prob`` and *fails* when it is ``<= fail_prob``; in between it
        is *uncertain* (the posterior does not know yet).

    Returns
    -------
    TransferabilityResult

    Notes
    -----
    Tolerance probabilities use the noise-free forward model draws
    (``NAME_model``): the tolerance is a statement about the force field, not
    about measurement noise. Coverage, ``z`` and tail probabilities use the
    posterior predictive (``NAME``), which includes measurement noise and the
    inferred inadequacy term. The transferability index uses posterior-mean
    forward-model predictions, held-out group against that target's training
    rows.

    A group's verdict is the worse of two: the tolerance verdict
    ("transferable" when all of its states pass, "not transferable" when any
    fails, else "uncertain") and the coverage verdict ("not transferable" when
    so many of its k of n states fall outside their central 90 % predictive
    intervals that a calibrated predictive would do so with binomial
    probability ``P(X >= k | n, 0.1) < 0.01``, "uncertain" when below 0.05,
    else "transferable"). A target without a tolerance gets the coverage
    verdict alone; ``verdict_basis`` says which rules were used.

    The joint probability covers the targets that have a tolerance and
    training rows (targets with ``train = false`` are alternative predictions,
    e.g. under another convention, not a second observable of the same fit).
    """
    if not 0 <= fail_prob < pass_prob <= 1:
        raise ValueError(f"need 0 <= fail_prob < pass_prob <= 1, got {fail_prob}, {pass_prob}")
    meta = _target_meta(dt)
    tols = _tolerances(dt, tolerance)
    unknown = set(tolerance or {}) - set(meta)
    if unknown:
        raise ValueError(f"tolerance given for unknown target(s) {sorted(unknown)}")
    preds = _group(dt, "predictions")
    pcd = _group(dt, "predictions_constant_data")
    pp = _group(dt, "posterior_predictive")
    obs = _group(dt, "observed_data")

    states, groups, training, notes = [], [], {}, []
    joint_parts: dict[str, tuple] = {}

    # Training rows: per trained target.
    train_mean = {}
    for name, m in meta.items():
        if not m["trained"]:
            continue
        dim = m.get("dim") or next(d for d in obs[name].dims)
        y = np.asarray(obs[name].values, dtype=float)
        if pp is None or name not in pp or f"{name}_model" not in pp:
            notes.append(f"{name}: no posterior_predictive draws for the training rows")
            continue
        rep = _flat(pp[name], dim)
        mod = _flat(pp[f"{name}_model"], dim)
        mu = mod.mean(axis=0)
        train_mean[name] = (mu, y)
        tol = tols.get(name)
        training[name] = {
            "unit": m.get("unit", ""),
            "n": int(y.size),
            "rmse": float(np.sqrt(np.mean((mu - y) ** 2))),
            "rel_rmse": float(np.sqrt(np.mean(((mu - y) / np.abs(y)) ** 2))),
            "coverage50": interval_coverage(rep, y, 0.5)[0],
            "coverage90": interval_coverage(rep, y, 0.9)[0],
            "mean_abs_z": float(np.mean(np.abs(standardized_residuals(rep, y)))),
            "tolerance": tol,
            "p_all_within_tolerance": (
                None if tol is None else all_within_tolerance_probability(mod, y, tol)
            ),
        }

    # Held-out rows: per state, then per (target, group).
    for name, m in meta.items():
        if preds is None or name not in preds:
            continue
        da = preds[name]
        dim = m.get("dim") or next(d for d in da.dims if d not in _SAMPLE_DIMS)
        rep = _flat(da, dim)
        mod = _flat(preds[f"{name}_model"], dim)
        y = np.asarray(pcd[f"{name}_observed"].values, dtype=float)
        u = np.asarray(pcd[f"{name}_u"].values, dtype=float) if f"{name}_u" in pcd else None
        grp = _holdout_groups(da, dim, pcd, name)
        env = _env_of(pcd, name, m, dim, da[dim].values)
        env_units = dict(m.get("env_units") or {})
        if dim in env and dim not in env_units:
            env_units[dim] = ""
        unit = m.get("unit", "")
        tol = tols.get(name)

        pred_mean = rep.mean(axis=0)
        pred_sd = rep.std(axis=0, ddof=1) if rep.shape[0] > 1 else np.zeros(y.size)
        lo50, hi50 = _q(rep, 0.5)
        lo90, hi90 = _q(rep, 0.9)
        mlo90, mhi90 = _q(mod, 0.9)
        model_mean = mod.mean(axis=0)
        _, in50 = interval_coverage(rep, y, 0.5)
        _, in90 = interval_coverage(rep, y, 0.9)
        z = standardized_residuals(rep, y)
        tail = tail_probability(rep, y)
        ptol = None if tol is None else tolerance_probability(mod, y, tol)
        if tol is not None and name in train_mean:
            joint_parts[name] = (mod, y, tol)

        verdicts = []
        for i in range(y.size):
            if ptol is not None:
                v = (
                    "pass"
                    if ptol[i] >= pass_prob
                    else "fail"
                    if ptol[i] <= fail_prob
                    else ("uncertain")
                )
            else:
                v = "pass" if in90[i] else "fail"
            verdicts.append(v)
            states.append(
                {
                    "target": name,
                    "group": grp[i],
                    "env": {c: _f(vals[i]) for c, vals in env.items()},
                    "unit": unit,
                    "observed": _f(y[i]),
                    "u": None if u is None else _f(u[i]),
                    "pred_mean": _f(pred_mean[i]),
                    "pred_sd": _f(pred_sd[i]),
                    "pi50": [_f(lo50[i]), _f(hi50[i])],
                    "pi90": [_f(lo90[i]), _f(hi90[i])],
                    "model_mean": _f(model_mean[i]),
                    "model_pi90": [_f(mlo90[i]), _f(mhi90[i])],
                    "rel_error": _f((pred_mean[i] - y[i]) / abs(y[i])) if y[i] != 0 else None,
                    "z": _f(z[i]),
                    "tail_p": _f(tail[i]),
                    "tolerance": tol,
                    "p_within_tolerance": None if ptol is None else _f(ptol[i]),
                    "inside50": bool(in50[i]),
                    "inside90": bool(in90[i]),
                    "verdict": v,
                }
            )

        for g in dict.fromkeys(grp):
            sel = grp == g
            n = int(sel.sum())
            vs = [v for v, s in zip(verdicts, sel, strict=True) if s]
            k_out = int(n - in90[sel].sum())
            p_bin = _binom_upper(k_out, n, 0.1)
            cov_verdict = (
                "not transferable"
                if p_bin < 0.01
                else "uncertain"
                if p_bin < 0.05
                else "transferable"
            )
            cov_basis = (
                f"90 % predictive coverage: {k_out} of {n} states outside, "
                f"P(>= {k_out} outside | calibrated) = {p_bin:.3g} (not transferable below 0.01, "
                "uncertain below 0.05)"
            )
            if tol is not None:
                if all(v == "pass" for v in vs):
                    tol_verdict = "transferable"
                elif any(v == "fail" for v in vs):
                    tol_verdict = "not transferable"
                else:
                    tol_verdict = "uncertain"
                # Both must hold: predictions within tolerance, and predictive
                # intervals that cover the data (a model can be "close enough"
                # while claiming a precision it does not have).
                gv = max(tol_verdict, cov_verdict, key=_VERDICT_RANK.__getitem__)
                basis = (
                    f"tolerance {_fmt_tol(tol, unit)} on the forward model ({tol_verdict}: a "
                    f"state passes when P(within) >= {pass_prob:g}, fails when <= {fail_prob:g}) "
                    f"and {cov_basis} ({cov_verdict}); the worse of the two"
                )
            else:
                gv = cov_verdict
                basis = f"no tolerance for {name}: {cov_basis}"
            if name in train_mean:
                tm, ty = train_mean[name]
                ti = transferability_index(tm, ty, model_mean[sel], y[sel])
                ti_rel = transferability_index(tm, ty, model_mean[sel], y[sel], relative=True)
            else:
                ti = ti_rel = None
            groups.append(
                {
                    "target": name,
                    "group": str(g),
                    "n": n,
                    "unit": unit,
                    "env_range": _env_range({c: v[sel] for c, v in env.items()}, env_units),
                    "tolerance": tol,
                    "p_all_within_tolerance": (
                        None
                        if tol is None
                        else all_within_tolerance_probability(mod[:, sel], y[sel], tol)
                    ),
                    "coverage50": float(in50[sel].mean()),
                    "coverage90": float(in90[sel].mean()),
                    "n_inside90": n - k_out,
                    "mean_abs_z": _f(np.mean(np.abs(z[sel]))),
                    "transferability_index": None if ti is None else _f(ti),
                    "transferability_index_rel": None if ti_rel is None else _f(ti_rel),
                    "trained": name in train_mean,
                    "n_pass": vs.count("pass"),
                    "n_fail": vs.count("fail"),
                    "n_uncertain": vs.count("uncertain"),
                    "verdict": gv,
                    "verdict_basis": basis,
                }
            )

    joint = None
    if joint_parts:
        joint = {
            "targets": list(joint_parts),
            "n_states": int(sum(p[1].size for p in joint_parts.values())),
            "p_all_within_tolerance": joint_tolerance_probability(joint_parts),
        }
    return TransferabilityResult(
        states=states,
        groups=groups,
        training=training,
        joint=joint,
        candidates=deterministic_rule(dt, tolerance),
        conformers=_conformer_metrics(dt),
        pass_prob=pass_prob,
        fail_prob=fail_prob,
        run=str(dt.attrs.get("problem_name", "")),
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# Model comparison
# --------------------------------------------------------------------------------------------


def _training_rows(dt, name: str, meta: dict) -> tuple[np.ndarray, str, str]:
    """(position along the default band axis, axis label, unit) of a target's training rows."""
    obs = dt["observed_data"].to_dataset()
    da = obs[name]
    dim = da.dims[0]
    cols = meta.get("env_columns") or []
    units = meta.get("env_units") or {}
    cd = _group(dt, "constant_data")
    if len(cols) == 1 and cd is not None and f"{name}_{cols[0]}" in cd:
        return np.asarray(cd[f"{name}_{cols[0]}"].values, float), cols[0], units.get(cols[0], "")
    coord = np.asarray(da[dim].values)
    if np.issubdtype(coord.dtype, np.number) and dim != "environment":
        return coord.astype(float), dim, units.get(cols[0], "") if cols else ""
    if cols and cd is not None and f"{name}_{cols[0]}" in cd:
        c = cols[0]
        return np.asarray(cd[f"{name}_{c}"].values, float), c, units.get(c, "")
    return np.arange(da.size, dtype=float), "row", ""


def _bands(x: np.ndarray, n_bands: int, name: str, label: str, unit: str) -> np.ndarray:
    """Split rows into ``n_bands`` contiguous bands of ~equal counts along ``x``."""
    labels = np.empty(x.size, dtype=object)
    order = np.argsort(x, kind="stable")
    for chunk in np.array_split(order, min(n_bands, x.size)):
        lo, hi = x[chunk].min(), x[chunk].max()
        r = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
        labels[chunk] = f"{name} {label.split('_')[0]} {r} {unit}".rstrip()
    return labels


def _check_same_data(runs: Mapping) -> list[str]:
    names = list(runs)
    ref_name = names[0]
    ref = _group(runs[ref_name], "observed_data")
    if ref is None:
        raise ValueError(f"run {ref_name!r} has no observed_data group")
    for n in names[1:]:
        other = _group(runs[n], "observed_data")
        if other is None:
            raise ValueError(f"run {n!r} has no observed_data group")
        if set(other.data_vars) != set(ref.data_vars):
            raise ValueError(
                f"runs {ref_name!r} and {n!r} were fitted to different data: observed "
                f"variables {sorted(ref.data_vars)} vs {sorted(other.data_vars)}"
            )
        for v in ref.data_vars:
            a, b = ref[v], other[v]
            same = (
                a.dims == b.dims
                and a.shape == b.shape
                and all(
                    np.array_equal(np.asarray(a[d].values), np.asarray(b[d].values))
                    for d in a.dims
                    if d in a.coords and d in b.coords
                )
                and np.allclose(a.values, b.values, rtol=1e-12, atol=0, equal_nan=True)
            )
            if not same:
                raise ValueError(
                    f"runs {ref_name!r} and {n!r} were fitted to different data: "
                    f"observed_data[{v!r}] differs (dims, environments or values); elpd values "
                    "are only comparable on the same observations"
                )
    return [str(v) for v in ref.data_vars]


def _pointwise_ll(dt, targets: list[str]) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """``(chain, draw, rows)`` log-likelihood of all training rows, and (target, index) per row."""
    ll = _group(dt, "log_likelihood")
    if ll is None:
        raise ValueError("run has no log_likelihood group (needed for PSIS-LOO)")
    blocks, rows = [], []
    for t in targets:
        if t not in ll:
            raise ValueError(f"log_likelihood has no variable {t!r}")
        da = ll[t]
        dims = [d for d in da.dims if d not in _SAMPLE_DIMS]
        if len(dims) != 1:
            raise ValueError(f"log_likelihood[{t!r}] must have one observation dim, got {dims}")
        a = np.asarray(da.transpose(*_SAMPLE_DIMS, dims[0]).values, float)
        blocks.append(a)
        rows += [(t, i) for i in range(a.shape[-1])]
    return np.concatenate(blocks, axis=-1), rows


def _loo_tree(dt, ll: np.ndarray, dim: str, coord):
    import xarray as xr

    post = dt["posterior"].to_dataset()
    c, d = ll.shape[:2]
    da = xr.DataArray(
        ll,
        dims=("chain", "draw", dim),
        coords={"chain": post["chain"].values[:c], "draw": post["draw"].values[:d], dim: coord},
    )
    return xr.DataTree.from_dict(
        {"posterior": post, "log_likelihood": xr.Dataset({"log_lik": da})}
    )


def _loo(tree, coord_labels) -> tuple[dict, np.ndarray, list[str]]:
    import arviz as az

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = az.loo(tree, pointwise=True, var_name="log_lik")
    k = np.asarray(r.pareto_k.values, float)
    good_k = float(r.good_k)
    out = {
        "elpd": float(r.elpd),
        "se": float(r.se),
        "p": float(r.p),
        "n_samples": int(r.n_samples),
        "n_data_points": int(r.n_data_points),
        "good_k": good_k,
        "pareto_k_max": float(np.max(k)) if k.size else None,
        "n_k_above_good": int(np.sum(k > good_k)),
        "pareto_k": {str(lab): float(kk) for lab, kk in zip(coord_labels, k, strict=True)},
        "reliable": bool(np.all(k <= good_k)),
    }
    return out, np.asarray(r.elpd_i.values, float), [str(w.message) for w in caught]


def _rank(elpd_i: dict[str, np.ndarray], summary: dict[str, dict]) -> list[dict]:
    """Rank by elpd; differences to the best with paired standard errors.

    ``se(Δ) = sqrt(N var_n(elpd_best,n - elpd_m,n))`` (Vehtari et al. 2017, eq. 24).
    """
    order = sorted(elpd_i, key=lambda n: -summary[n]["elpd"])
    best = order[0]
    out = []
    for r, n in enumerate(order):
        diff = elpd_i[best] - elpd_i[n]
        n_pts = diff.size
        dse = float(np.sqrt(n_pts * np.var(diff, ddof=1))) if n_pts > 1 else float("nan")
        out.append(
            {
                "run": n,
                "rank": r,
                "elpd": summary[n]["elpd"],
                "elpd_diff": float(summary[best]["elpd"] - summary[n]["elpd"]),
                "dse": 0.0 if n == best else dse,
            }
        )
    return out


def compare(
    runs: Mapping,
    env_groups: Mapping[str, Sequence] | Sequence | int | None = None,
) -> dict:
    """Compare runs fitted to the same data: PSIS-LOO and leave-one-environment-out elpd.

    Parameters
    ----------
    runs
        ``{label: DataTree}``: run files of different models (e.g. potential
        families) calibrated on the same training observations. Each needs
        ``posterior``, ``log_likelihood`` (pointwise log-likelihood per training
        row) and ``observed_data`` groups.
    env_groups
        How training rows are grouped into environments for
        leave-one-environment-out (LOEO): None (default) = 5 contiguous bands
        per target along its environment coordinate (e.g. temperature), each
        with about the same number of rows; an ``int`` = that many bands;
        a sequence of labels, one per training row (single-target runs); or
        ``{target: labels}``. Rows with equal labels form one environment, also
        across targets (so a label such as ``"300 K"`` used for a structure and
        a thermodynamic target leaves out both).

    Returns
    -------
    dict
        ``loo``: per run ``elpd`` (elpd_loo, log density summed over training
        rows, in nats), its ``se``, ``p`` (p_loo, effective number of
        parameters), ``pareto_k`` per row, ``good_k`` (arviz's threshold
        ``min(1 - 1/log10(S), 0.7)``), ``n_k_above_good`` and ``reliable``;
        ``ranking``: runs by decreasing elpd with ``elpd_diff`` (best minus this
        run, >= 0) and ``dse``, the paired standard error of the difference
        ``sqrt(N var_n(elpd_best,n - elpd_m,n))`` from the pointwise values;
        ``weights``: stacking weights from ``arviz.compare`` (None if it
        failed); ``loeo``: the same for environments, with the group labels and
        sizes; ``warnings``: messages arviz raised (e.g. high Pareto k).

    Raises
    ------
    ValueError
        If fewer than one run is given, or the runs' observed data differ
        (elpd values are only comparable on the same observations).

    Notes
    -----
    PSIS-LOO (Vehtari, Gelman and Gabry 2017, doi:10.1007/s11222-016-9696-4)
    estimates ``elpd = sum_n log p(y_n | y_-n)`` by Pareto-smoothed importance
    sampling from the full posterior, with weights ``1/p(y_n | theta_s)``.

    LOEO replaces the pointwise log-likelihood by the grouped one,
    ``log p(y_g | theta_s) = sum_{n in g} log p(y_n | theta_s)`` (the rows are
    conditionally independent given theta), and runs PSIS-LOO on the groups:
    the PSIS approximation to refitting without a whole environment band and
    predicting it, ``elpd_LOEO = sum_g log p(y_g | y_-g)``. Leaving out a band
    moves the posterior much more than leaving out one row, so the importance
    weights are heavier-tailed: Pareto k above ``good_k`` (reported per group)
    means that group's estimate is unreliable and only an actual refit
    without it (K-fold by environment) gives a trustworthy number.
    """
    import arviz as az

    if not runs:
        raise ValueError("compare needs at least one run")
    names = list(runs)
    targets = _check_same_data(runs)
    first = runs[names[0]]
    meta = _target_meta(first)

    # Environment labels per training row (target order = observed_data order).
    obs = first["observed_data"].to_dataset()
    n_rows = {t: int(obs[t].size) for t in targets}
    if env_groups is None or isinstance(env_groups, int):
        n_bands = 5 if env_groups is None else int(env_groups)
        if n_bands < 1:
            raise ValueError(f"env_groups as a number of bands must be >= 1, got {n_bands}")
        lab = {}
        for t in targets:
            if n_rows[t] == 0:
                lab[t] = np.empty(0, dtype=object)
                continue
            x, label, unit = _training_rows(first, t, meta.get(t, {}))
            lab[t] = _bands(x, n_bands, t, label, unit)
    elif isinstance(env_groups, Mapping):
        missing = [t for t in targets if n_rows[t] and t not in env_groups]
        if missing:
            raise ValueError(f"env_groups has no labels for target(s) {missing}")
        lab = {t: np.asarray(env_groups.get(t, []), dtype=object) for t in targets}
    else:
        trained = [t for t in targets if n_rows[t]]
        if len(trained) != 1:
            raise ValueError(
                "env_groups as one sequence of labels needs a single trained target; give "
                f"{{target: labels}} for {trained}"
            )
        lab = {t: np.asarray(env_groups if t == trained[0] else [], dtype=object) for t in targets}
    for t in targets:
        if lab[t].shape != (n_rows[t],):
            raise ValueError(
                f"env_groups for {t!r}: {lab[t].shape[0]} labels for {n_rows[t]} training rows"
            )
    row_labels = np.concatenate([lab[t] for t in targets]).astype(str)
    group_names = list(dict.fromkeys(row_labels))
    members = [row_labels == g for g in group_names]

    loo_res, loo_i, loeo_res, loeo_i, msgs, trees = {}, {}, {}, {}, [], {}
    for n in names:
        ll, rows = _pointwise_ll(runs[n], targets)
        row_ids = [f"{t}[{i}]" for t, i in rows]
        tree = _loo_tree(runs[n], ll, "obs", np.arange(ll.shape[-1]))
        trees[n] = tree
        loo_res[n], loo_i[n], w = _loo(tree, row_ids)
        msgs += [f"{n} (LOO): {m}" for m in w]
        gll = np.stack([ll[..., m].sum(axis=-1) for m in members], axis=-1)
        gtree = _loo_tree(runs[n], gll, "env_group", np.asarray(group_names))
        loeo_res[n], loeo_i[n], w = _loo(gtree, group_names)
        msgs += [f"{n} (LOEO): {m}" for m in w]

    weights = None
    if len(names) > 1:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = az.compare(trees, var_name="log_lik", round_to="none")
            weights = {str(k): float(v) for k, v in table["weight"].items()}
        except Exception as e:  # stacking weights are an optional extra
            msgs.append(f"arviz.compare failed, no stacking weights: {e}")

    return {
        "runs": names,
        "targets": targets,
        "n_rows": int(row_labels.size),
        "loo": loo_res,
        "ranking": _rank(loo_i, loo_res),
        "weights": weights,
        "loeo": {
            "groups": [
                {"label": g, "n_rows": int(m.sum())}
                for g, m in zip(group_names, members, strict=True)
            ],
            "runs": loeo_res,
            "ranking": _rank(loeo_i, loeo_res),
        },
        "warnings": msgs,
        "method": (
            "PSIS-LOO (arviz.loo) on the pointwise log-likelihood of the training rows; LOEO = "
            "PSIS-LOO on the log-likelihood summed within environment groups (an approximation "
            "to refitting without each group; check pareto_k against good_k)"
        ),
    }
