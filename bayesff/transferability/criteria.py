"""Transferability criteria on plain arrays, and the verdict rules.

The criteria are listed in docs/architecture.md (Transferability criteria).

Every function takes draws with the draws axis first, ``(S, N)`` for ``S``
posterior draws and ``N`` states, and observations of shape ``(N,)``; all
values are in the observable's unit (e.g. cm^3/mol for B2) unless stated
otherwise. Probabilities estimated from ``S`` draws have a resolution of
``1/S``: a reported 0 means "less than about 1/S". Nothing here reads a run
file (that is :mod:`bayesff.transferability.states`) or imports jax.

A tolerance is ``{"rel": r}``, ``{"abs": a}`` or both; a prediction ``f`` of an
observation ``y`` is within it when

.. math:: |f - y| \\le a + r\\,|y|

(the semantics of :func:`math.isclose` and :func:`numpy.isclose`), so that a
target crossing zero (B2 at the Boyle temperature) can have a relative
tolerance with an absolute floor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import arviz_stats
import numpy as np
from scipy.stats import binom

from bayesff.errors import BayesffError
from bayesff.transferability.thresholds import (
    COVERAGE_NOT_TRANSFERABLE_P,
    COVERAGE_PROB,
    COVERAGE_UNCERTAIN_P,
    FAIL_PROB,
    MC_ERROR_Z,
    PASS_PROB,
)

__all__ = [
    "GROUP_VERDICTS",
    "CriteriaError",
    "all_within_tolerance_probability",
    "central_interval",
    "check_probabilities",
    "check_tolerance",
    "coverage_verdict",
    "format_tolerance",
    "indicator_mcse",
    "interval_coverage",
    "joint_tolerance_probability",
    "standardized_residuals",
    "state_verdict",
    "tail_probability",
    "tolerance_probability",
    "tolerance_verdict",
    "tolerance_width",
    "transferability_index",
    "verdict_range",
    "within_tolerance",
    "worse_verdict",
]


class CriteriaError(BayesffError):
    """Arrays, a tolerance or a threshold given to a criterion are not what it needs."""


# ------------------------------------------------------------------------------ tolerance


def check_tolerance(tol) -> dict[str, float]:
    """A tolerance as ``{"rel": r, "abs": a}`` (the parts given), each checked.

    Raises
    ------
    CriteriaError
        Unless ``tol`` is a mapping with ``rel``, ``abs`` or both, each a
        finite number > 0.
    """
    if not isinstance(tol, Mapping) or not tol or not set(tol) <= {"rel", "abs"}:
        raise CriteriaError(f'tolerance must be {{"rel": r}}, {{"abs": a}} or both, got {tol!r}')
    out = {}
    for kind in ("rel", "abs"):
        if kind not in tol:
            continue
        try:
            delta = float(tol[kind])
        except (TypeError, ValueError):
            delta = math.nan
        if not (math.isfinite(delta) and delta > 0):
            raise CriteriaError(
                f"tolerance {kind} must be a positive finite number, got {tol[kind]!r}"
            )
        out[kind] = delta
    return out


def tolerance_width(observed, tol) -> np.ndarray:
    """Half-width ``a + r |y|`` of the tolerance band around each observation.

    Raises
    ------
    CriteriaError
        For a purely relative tolerance and an observation of exactly 0 (no
        prediction could pass; give an ``abs`` part too).
    """
    t = check_tolerance(tol)
    y = np.asarray(observed, dtype=float)
    if "abs" not in t and np.any(y == 0):
        raise CriteriaError(
            "a relative tolerance needs non-zero observations; add an absolute part "
            "({ rel = r, abs = a }) for a target that crosses zero"
        )
    return t.get("abs", 0.0) + t.get("rel", 0.0) * np.abs(y)


def format_tolerance(tol, unit: str = "") -> str:
    """``5 %``, ``±0.02 kJ/mol`` or ``±(0.02 kJ/mol + 5 %)``."""
    t = check_tolerance(tol)
    unit = "" if unit in ("", "1") else f" {unit}"
    rel = f"{100 * t['rel']:g} %" if "rel" in t else ""
    if "abs" not in t:
        return rel
    ab = f"{t['abs']:g}{unit}"
    return f"±({ab} + {rel})" if rel else f"±{ab}"


# ------------------------------------------------------------------------------ shapes


def _draws_obs(draws, observed) -> tuple[np.ndarray, np.ndarray]:
    """Validate and shape ``draws`` to ``(S, N)`` and ``observed`` to ``(N,)``."""
    y = np.atleast_1d(np.asarray(observed, dtype=float))
    x = np.asarray(draws, dtype=float)
    if y.ndim != 1:
        raise CriteriaError(f"observed must be one-dimensional (N,), got shape {y.shape}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != y.shape[0]:
        raise CriteriaError(
            f"draws must have shape (S, N) = (S, {y.shape[0]}) with the draws axis first, "
            f"got {np.shape(draws)}"
        )
    if x.shape[0] < 1:
        raise CriteriaError("draws is empty (no posterior draws)")
    return x, y


def within_tolerance(model_draws, observed, tol) -> np.ndarray:
    """Boolean ``(S, N)``: draw s puts state n within tolerance, ``|f - y| <= a + r|y|``."""
    x, y = _draws_obs(model_draws, observed)
    return np.abs(x - y) <= tolerance_width(y, tol)


# ------------------------------------------------------------------------------ criteria


def tolerance_probability(model_draws, observed, tol) -> np.ndarray:
    """Posterior probability that each state is predicted within tolerance.

    .. math::

        p_n = \\frac{1}{S} \\sum_{s=1}^{S}
              \\mathbb{1}\\left[|\\mu_{sn} - y_n| \\le a + r\\,|y_n|\\right]

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
        ``{"rel": r}`` (dimensionless, e.g. 0.05 for 5 %), ``{"abs": a}``
        (observable unit) or both.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` probabilities in [0, 1].
    """
    return within_tolerance(model_draws, observed, tol).mean(axis=0)


def all_within_tolerance_probability(model_draws, observed, tol) -> float:
    """Posterior probability that *all* states are within tolerance jointly.

    .. math::

        P_\\text{all} = \\frac{1}{S} \\sum_s \\prod_n
        \\mathbb{1}\\left[|\\mu_{sn} - y_n| \\le a + r\\,|y_n|\\right]

    The product is taken within each draw, so correlations between states
    (one parameter set predicting all of them) are kept; in general
    :math:`P_\\text{all} \\ne \\prod_n p_n`.

    Parameters are as in :func:`tolerance_probability`; returns a float.
    """
    return float(np.all(within_tolerance(model_draws, observed, tol), axis=1).mean())


def joint_tolerance_probability(parts: Mapping[str, tuple]) -> float:
    """Joint transferability over several targets from the same posterior draws.

    .. math::

        P = \\frac{1}{S} \\sum_s \\prod_{k \\in \\text{targets}} \\prod_{n}
            \\mathbb{1}\\left[|\\mu^{(k)}_{sn} - y^{(k)}_n| \\le a_k + r_k |y^{(k)}_n|\\right]

    e.g. ``P(structure error <= tau_s and thermo error <= tau_t)``. Row ``s``
    of every target's draws must come from the same posterior draw (the same
    parameter vector), which holds for targets of one run file flattened in
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
        raise CriteriaError("joint_tolerance_probability needs at least one target")
    ok, n_draws = None, None
    for name, (draws, obs, tol) in parts.items():
        w = np.all(within_tolerance(draws, obs, tol), axis=1)
        if n_draws is not None and w.shape[0] != n_draws:
            raise CriteriaError(
                f"target {name!r} has {w.shape[0]} draws, others {n_draws}: the draws must be "
                "aligned (the same posterior draws for every target)"
            )
        n_draws = w.shape[0]
        ok = w if ok is None else ok & w
    return float(ok.mean())


def no_value_fraction(draws) -> np.ndarray:
    """``(N,)`` fraction of each column's draws without a value (NaN or infinite: the
    forward model above its Tc, outside its range, not converged)."""
    x = np.asarray(draws, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    return (~np.isfinite(x)).mean(axis=0)


def central_interval(draws, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval holding ``prob`` of the draws, per column (linear quantiles).

    With every draw a value this is ``[q_{(1-prob)/2}, q_{(1+prob)/2}]``. Draws without a
    value (NaN or infinite, a fraction ``f``) lie outside every interval of values, half
    in each tail: the interval is the central ``prob / (1 - f)`` of the draws with a
    value, so that it holds ``prob`` of all draws, and it is NaN (no interval of values
    holds ``prob``) when ``f > 1 - prob``. A state's coverage then changes by about
    ``f`` when a few draws lose their value, instead of from covered to not covered at
    the first such draw.
    """
    if not 0 < prob < 1:
        raise CriteriaError(f"prob must be in (0, 1), got {prob}")
    x = np.asarray(draws, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    f = no_value_fraction(x)
    if not f.any():
        return tuple(np.quantile(x, [(1 - prob) / 2, (1 + prob) / 2], axis=0))
    lo, hi = np.full(x.shape[1], np.nan), np.full(x.shape[1], np.nan)
    # f = 1 - prob exactly (say 1 draw of 10 at prob 0.9) still has an interval, the full
    # range: 1.0 - 0.9 is 0.0999..., so the bound needs a rounding margin
    for j in np.flatnonzero(f <= 1.0 - prob + 1e-12):
        q = min(prob / (1.0 - f[j]), 1.0)
        lo[j], hi[j] = np.quantile(x[np.isfinite(x[:, j]), j], [(1 - q) / 2, (1 + q) / 2])
    return lo, hi


def predictive_place(pred_draws, observed) -> np.ndarray:
    """``(S, N)`` indicator whose column means are each state's place in its predictive.

    1 where a draw is at or below the observation, 0 above it, 0.5 for a draw without a
    value (split between the tails, as :func:`central_interval` counts it). Its mean
    ``u`` puts the state inside the central ``prob`` interval when ``(1 - prob) / 2 <= u
    <= (1 + prob) / 2`` (and no more than ``1 - prob`` of the draws lack a value); with
    :func:`indicator_mcse` it gives the Monte Carlo error of that place.
    """
    x, y = _draws_obs(pred_draws, observed)
    return np.where(np.isfinite(x), (x <= y).astype(float), 0.5)


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
        Fraction of states covered (NaN for no state).
    inside : numpy.ndarray
        ``(N,)`` booleans.
    """
    x, y = _draws_obs(pred_draws, observed)
    lo, hi = central_interval(x, prob)
    inside = (y >= lo) & (y <= hi)
    return float(inside.mean()) if inside.size else float("nan"), inside


def standardized_residuals(pred_draws, observed) -> np.ndarray:
    """Standardised residuals ``z_n = (y_n - mean_s ỹ_sn) / sd_s ỹ_sn``.

    Mean and standard deviation (``ddof=1``) of the posterior predictive
    draws; dimensionless. For a calibrated predictive ``z`` is roughly
    standard normal; ``|z| > 2`` flags a state the model does not explain.
    Zero predictive spread gives ``±inf`` (or NaN when the residual is 0). Over the
    draws with a value (:func:`finite_mean_sd`); NaN for a state with none.
    """
    x, y = _draws_obs(pred_draws, observed)
    mean, sd = finite_mean_sd(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - mean) / sd


def finite_mean_sd(draws) -> tuple[np.ndarray, np.ndarray]:
    """``(N,)`` mean and standard deviation (``ddof=1``; 0 for one draw) per column over
    the draws with a value (NaN for a column with none); how many lack one is
    :func:`no_value_fraction`."""
    x = np.asarray(draws, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    ok = np.isfinite(x)
    k = ok.sum(axis=0)
    xz = np.where(ok, x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = xz.sum(axis=0) / k
        ss = (np.where(ok, x - mean, 0.0) ** 2).sum(axis=0)
        sd = np.where(k > 1, np.sqrt(ss / (k - 1)), np.where(k == 1, 0.0, np.nan))
    return mean, sd


def tail_probability(pred_draws, observed) -> np.ndarray:
    """Two-sided posterior predictive tail probability (p-value) per state.

    .. math::

        p_n = \\min\\left(1,\\; 2 \\min\\left(P(\\tilde y_n \\ge y_n),\\;
              P(\\tilde y_n \\le y_n)\\right)\\right)

    with the probabilities estimated as fractions of the predictive draws with a value
    (NaN for a state with none). Small values (e.g. < 0.05) mean the observation is in
    a tail of the predictive; the resolution is ``2/S``.
    """
    x, y = _draws_obs(pred_draws, observed)
    k = np.isfinite(x).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = (x >= y).sum(axis=0) / k
        lower = (x <= y).sum(axis=0) / k
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
            raise CriteriaError(
                f"predictions {m.shape} and observations {y.shape} differ in shape"
            )
        if m.size == 0:
            return float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            e = (m - y) / np.abs(y) if relative else m - y
        errs.append(float(np.sqrt(np.mean(e**2))))
    tr, te = errs
    if tr == 0:
        return float("inf") if te > 0 else float("nan")
    return te / tr


# ------------------------------------------------------------------------------ verdicts

#: Verdicts of a group, best first (the worse of two is the later one).
GROUP_VERDICTS = ("transferable", "uncertain", "not transferable")


def check_probabilities(pass_prob: float, fail_prob: float) -> None:
    """Refuse verdict thresholds that do not satisfy ``0 <= fail_prob < pass_prob <= 1``."""
    if not 0 <= fail_prob < pass_prob <= 1:
        raise CriteriaError(
            f"need 0 <= fail_prob < pass_prob <= 1, got fail_prob = {fail_prob}, "
            f"pass_prob = {pass_prob}"
        )


def state_verdict(p_within: float, pass_prob: float = PASS_PROB, fail_prob: float = FAIL_PROB):
    """``"pass"`` when ``p_within >= pass_prob``, ``"fail"`` when ``<= fail_prob``, else
    ``"uncertain"`` (the posterior does not know yet)."""
    if p_within >= pass_prob:
        return "pass"
    return "fail" if p_within <= fail_prob else "uncertain"


def tolerance_verdict(state_verdicts) -> str:
    """A group's tolerance verdict: transferable when every state passes, not transferable
    when any fails, else uncertain."""
    vs = list(state_verdicts)
    if all(v == "pass" for v in vs):
        return "transferable"
    return "not transferable" if any(v == "fail" for v in vs) else "uncertain"


def coverage_verdict(k_out: int, n: int, prob: float = COVERAGE_PROB) -> tuple[str, float]:
    """A group's coverage verdict from ``k_out`` of ``n`` states outside their intervals.

    ``p = P(X >= k_out)`` for ``X ~ Binomial(n, 1 - prob)``, the probability
    that a calibrated predictive leaves that many states outside their
    central ``prob`` intervals (scipy.stats.binom). Not transferable when
    ``p <`` :data:`~bayesff.transferability.thresholds.COVERAGE_NOT_TRANSFERABLE_P`,
    uncertain when ``p <``
    :data:`~bayesff.transferability.thresholds.COVERAGE_UNCERTAIN_P`, else
    transferable.

    Returns
    -------
    (verdict, p)
    """

    p = float(binom.sf(k_out - 1, n, 1.0 - prob)) if k_out > 0 else 1.0
    if p < COVERAGE_NOT_TRANSFERABLE_P:
        return "not transferable", p
    return ("uncertain" if p < COVERAGE_UNCERTAIN_P else "transferable"), p


def worse_verdict(*verdicts: str) -> str:
    """The worst of group verdicts (transferable < uncertain < not transferable)."""
    return max(verdicts, key=GROUP_VERDICTS.index)


# ------------------------------------------------------------------------- Monte Carlo error


def indicator_mcse(indicator, chains: int = 1) -> np.ndarray:
    """Monte Carlo standard error of the mean of 0/1 draws, per column.

    Parameters
    ----------
    indicator
        ``(S, N)`` booleans or 0/1 (e.g. :func:`within_tolerance`), the draws axis first in
        (chain, draw) order: ``chains`` runs of ``S / chains`` consecutive draws each.
    chains
        Number of chains in ``S``.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` standard errors of the column means (probabilities): ArviZ's
        ``mcse(method="mean")``, i.e. ``sd / sqrt(ESS)`` with the effective sample size of
        the indicator across chains, so that autocorrelated draws count for less than
        independent ones. A constant column has error 0 (every draw agrees). Fewer than
        4 draws per chain: the independent-draws value ``sqrt(p (1 - p) / S)``.
    """
    x = np.asarray(indicator, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    s, n = x.shape
    if chains < 1 or s % chains:
        raise CriteriaError(f"{s} draws do not split into {chains} chains of equal length")
    p = x.mean(axis=0)
    iid = np.sqrt(p * (1.0 - p) / max(s, 1))
    if s // chains < 4:
        return iid
    se = np.asarray(
        arviz_stats.mcse(
            x.reshape(chains, s // chains, n), method="mean", chain_axis=0, draw_axis=1
        ),
        dtype=float,
    ).reshape(n)
    return np.where(np.isfinite(se), se, iid)


def mc_label(mc: Mapping | None) -> str:
    """A group's ``mc_verdict`` (:func:`verdict_range`) as a table cell: ``settled``, or
    ``within MC error: BEST to WORST``; empty for none."""
    if not mc:
        return ""
    return "settled" if mc["settled"] else f"within MC error: {mc['best']} to {mc['worst']}"


def verdict_range(
    p_within,
    p_mcse,
    outside_cdf,
    cdf_mcse,
    inside,
    *,
    pass_prob: float = PASS_PROB,
    fail_prob: float = FAIL_PROB,
    coverage_prob: float = COVERAGE_PROB,
    z: float = MC_ERROR_Z,
    no_value=None,
    no_value_mcse=None,
) -> dict:
    """The group verdicts that Monte Carlo error alone could give (best and worst).

    A state's tolerance probability ``p`` is known to ``+- z mcse``; each state takes the
    verdict of ``p + z mcse`` (best) or of ``p - z mcse`` (worst). Likewise a state's
    place in its predictive distribution, ``F = P(replicated <= y)``, is known to
    ``+- z mcse``: a state whose ``F`` interval crosses ``(1 - coverage_prob) / 2`` or
    ``(1 + coverage_prob) / 2`` may be inside or outside its central interval. The group
    verdict (the worse of the tolerance and the coverage verdicts, as
    :func:`bayesff.transferability.evaluate` decides it) is computed at both ends.

    Parameters
    ----------
    p_within, p_mcse
        ``(N,)`` tolerance probabilities and their Monte Carlo standard errors, or None for
        a target without a tolerance (the coverage verdict alone).
    outside_cdf, cdf_mcse
        ``(N,)`` ``F`` of each state and its standard error (:func:`predictive_place`:
        draws without a value count half).
    inside
        ``(N,)`` whether each state is inside its central interval (as counted).
    pass_prob, fail_prob, coverage_prob, z
        Thresholds, and the half-width of the Monte Carlo interval in standard errors
        (:data:`~bayesff.transferability.thresholds.MC_ERROR_Z`).
    no_value, no_value_mcse
        ``(N,)`` fraction of each state's draws without a value and its standard error,
        or None: a state with more than ``1 - coverage_prob`` of them is outside every
        interval (:func:`central_interval`), so one whose fraction is within Monte Carlo
        error of that bound may be inside or outside.

    Returns
    -------
    dict
        ``best``, ``worst`` (group verdicts), ``settled`` (``best == worst``) and
        ``n_states`` (states whose tolerance or coverage verdict Monte Carlo error could
        change).
    """
    f = np.asarray(outside_cdf, float)
    fe = z * np.asarray(cdf_mcse, float)
    lo_q, hi_q = (1 - coverage_prob) / 2, (1 + coverage_prob) / 2
    inside = np.asarray(inside, bool)
    # the F interval straddles an interval end: inside or outside by chance
    cov_amb = ((f - fe <= lo_q) & (f + fe >= lo_q)) | ((f - fe <= hi_q) & (f + fe >= hi_q))
    if no_value is not None:
        nv, nve = np.asarray(no_value, float), z * np.asarray(no_value_mcse, float)
        cov_amb |= (nv > 0) & (nv - nve <= 1 - coverage_prob) & (nv + nve >= 1 - coverage_prob)
    n = inside.size
    k_out = int(n - inside.sum())
    k_best = k_out - int((cov_amb & ~inside).sum())
    k_worst = k_out + int((cov_amb & inside).sum())
    cov_best, _ = coverage_verdict(k_best, n, coverage_prob)
    cov_worst, _ = coverage_verdict(k_worst, n, coverage_prob)
    amb = cov_amb.copy()
    if p_within is None:
        best, worst = cov_best, cov_worst
    else:
        p = np.asarray(p_within, float)
        e = z * np.asarray(p_mcse, float)
        hi = [state_verdict(min(x, 1.0), pass_prob, fail_prob) for x in p + e]
        lo = [state_verdict(max(x, 0.0), pass_prob, fail_prob) for x in p - e]
        amb |= np.array([a != b for a, b in zip(hi, lo, strict=True)], bool)
        best = worse_verdict(tolerance_verdict(hi), cov_best)
        worst = worse_verdict(tolerance_verdict(lo), cov_worst)
    return {"best": best, "worst": worst, "settled": best == worst, "n_states": int(amb.sum())}
