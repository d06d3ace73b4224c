"""Model checks of a run: the posterior predictive residual check, and the conformer
criteria epsilon_p / epsilon_G.

Both read the run through :mod:`bayesff.runfile` (via
:mod:`bayesff.transferability.states`); the conformer metrics of one
environment are the pure function
:func:`bayesff.observables.conformers.population_errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesff import units
from bayesff.observables.conformers import population_errors
from bayesff.transferability.criteria import CriteriaError, check_probabilities, state_verdict
from bayesff.transferability.states import States, as_run, states_of, targets_by_name
from bayesff.transferability.thresholds import (
    EPS_G_MAX,
    EPS_P_MAX,
    FAIL_PROB,
    PASS_PROB,
    RESIDUAL_ALPHA,
)

__all__ = ["ResidualCheck", "conformer_metrics", "conformer_transferability", "residual_check"]

#: The observable whose targets get the conformer criteria.
CONFORMER_OBSERVABLE = "conformer_population"


# ------------------------------------------------------------------------------ residuals


@dataclass
class ResidualCheck:
    """Standardised residuals of a fit and a posterior predictive check of its noise model.

    Attributes
    ----------
    targets
        Per trained target: ``n`` (scalar observations: rows x components),
        ``rms_z`` and ``max_abs_z`` of ``z = (y - mean_s f_s) / sigma``, with
        ``sigma`` the noise scale of the check (see :func:`residual_check`);
        ``rms_z`` is about 1 when the model explains the data to within it.
    p_value
        Posterior predictive tail probability of the chi^2 discrepancy
        ``T = sum z^2`` over all targets: ``P(T(y_rep) >= T(y))``; small values
        say the data scatter about the model more than the noise allows.
    adequate
        ``p_value >= alpha``.
    alpha
        The threshold used.
    noise
        ``"data"``: sigma from the data's uncertainties and the forward-model
        floor only; ``"predictive"``: the posterior predictive's own scatter,
        inferred inadequacy included.
    """

    targets: dict
    p_value: float
    adequate: bool
    alpha: float
    noise: str

    def as_dict(self) -> dict:
        return {
            "targets": self.targets,
            "p_value": self.p_value,
            "adequate": self.adequate,
            "alpha": self.alpha,
            "noise": self.noise,
        }


def _discrepancy(st: States, noise: str, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T(y, theta_s), T(y_rep_s, theta_s), z of the posterior-mean model) of one target."""
    mu, y = st.model, st.observed
    if noise == "data":
        sigma = np.sqrt(st.u**2 + st.floor**2)
        e_rep = sigma * rng.standard_normal(mu.shape)
    else:
        e_rep = st.replicated - mu
        sigma = np.sqrt(np.mean(e_rep**2, axis=0))
    t_obs = np.sum(((y - mu) / sigma) ** 2, axis=1)
    t_rep = np.sum((e_rep / sigma) ** 2, axis=1)
    return t_obs, t_rep, (y - mu.mean(axis=0)) / sigma


def residual_check(
    dt_or_path, *, alpha: float = RESIDUAL_ALPHA, seed: int = 0, noise: str = "data"
) -> ResidualCheck:
    """Flag a fit whose residuals are larger than its noise model (model inadequacy).

    For every trained target and every posterior draw ``s`` the discrepancy

    .. math::

        T(y, \\theta_s) = \\sum_n \\left(\\frac{y_n - f_n(\\theta_s)}{\\sigma_n}\\right)^2

    is compared with the same sum for replicated data
    :math:`y^{rep}_s = f(\\theta_s) + \\sigma\\,\\epsilon` (Gelman, Meng and Stern
    1996, Statistica Sinica 6, 733; the chi^2 discrepancy); the p-value is the
    fraction of draws with :math:`T(y^{rep}_s) \\ge T(y)`. Vector rows count
    component by component.

    Parameters
    ----------
    dt_or_path
        A run or the path of its file.
    alpha
        Threshold on the p-value (default
        :data:`~bayesff.transferability.thresholds.RESIDUAL_ALPHA`).
    seed
        Seed of the replicated noise (``noise="data"``).
    noise
        ``"data"`` (default): :math:`\\sigma_n^2 = u_n^2 + floor_n^2`, the
        data's standard uncertainties and the forward model's error floor,
        without the inferred inadequacy term: is the noise model enough, or
        does the model need its inadequacy term? (force matching against a
        reference that LJ cannot represent fails here). ``"predictive"``: the
        whole predictive, :math:`\\sigma_n` the rms of the run's replicated
        draws about the model, replicated data the run's own posterior
        predictive draws.

    Returns
    -------
    ResidualCheck
    """
    if noise not in ("data", "predictive"):
        raise CriteriaError(f'noise must be "data" or "predictive", got {noise!r}')
    dt = as_run(dt_or_path)
    rng = np.random.default_rng(seed)
    t_obs = t_rep = 0.0
    per_target = {}
    for info in targets_by_name(dt).values():
        st = states_of(dt, info, "train") if info.trained else None
        if st is None:
            continue
        o, r, z = _discrepancy(st, noise, rng)
        t_obs, t_rep = t_obs + o, t_rep + r
        per_target[info.name] = {
            "n": st.n,
            "rms_z": float(np.sqrt(np.mean(z**2))),
            "max_abs_z": float(np.max(np.abs(z))),
        }
    if not per_target:
        raise CriteriaError("the run has no trained target with posterior predictive draws")
    p = float(np.mean(np.asarray(t_rep) >= np.asarray(t_obs)))
    return ResidualCheck(per_target, p, p >= alpha, float(alpha), noise)


# ------------------------------------------------------------------------------ conformers


def _temperature_K(values, unit: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if unit in ("", "K"):
        return values

    return units.to_internal(values, unit, "temperature")


def _conformer_columns(st: States, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T in K, basin index, W in its file unit) per row of a conformer target."""
    missing = [c for c in ("T_K", "basin", "W_kJ_per_mol") if c not in st.env]
    if missing:
        raise CriteriaError(
            f"the run has no environment column(s) {', '.join(missing)} for {target!r}: is it "
            "a conformer_population target?"
        )
    T = _temperature_K(st.env["T_K"], st.env_units.get("T_K", "K"))
    basin = np.rint(np.asarray(st.env["basin"], dtype=float)).astype(int)
    return T, basin, np.asarray(st.env["W_kJ_per_mol"], dtype=float)


def _environment(pred, y, t_k, eps_p_max, eps_g_max, pass_prob, fail_prob) -> dict:
    """epsilon_p / epsilon_G of one environment over the posterior draws."""

    err = population_errors(pred, y, t_k)
    at_mean = population_errors(pred.mean(axis=0), y, t_k)
    ok_p = err["epsilon_p"] <= eps_p_max
    ok_g = err["epsilon_G"] <= eps_g_max
    p_both = float(np.mean(ok_p & ok_g))
    verdict = {"pass": "transferable", "fail": "not transferable"}.get(
        state_verdict(p_both, pass_prob, fail_prob), "uncertain"
    )
    return {
        "observed": y.tolist(),
        "pred_mean": pred.mean(axis=0).tolist(),
        "pred_pi90": np.quantile(pred, [0.05, 0.95], axis=0).T.tolist(),
        "epsilon_p_mean": float(np.mean(err["epsilon_p"])),
        "epsilon_p_pi90": np.quantile(err["epsilon_p"], [0.05, 0.95]).tolist(),
        "epsilon_G_mean": float(np.mean(err["epsilon_G"])),
        "epsilon_G_pi90": np.quantile(err["epsilon_G"], [0.05, 0.95]).tolist(),
        "epsilon_p_at_mean": at_mean["epsilon_p"],
        "epsilon_G_at_mean": at_mean["epsilon_G"],
        "eps_p_max": float(eps_p_max),
        "eps_G_max": float(eps_g_max),
        "P_epsilon_p": float(np.mean(ok_p)),
        "P_epsilon_G": float(np.mean(ok_g)),
        "P_both": p_both,
        "n_draws": int(pred.shape[0]),
        "verdict": verdict,
    }


def _environments(st: States, target: str, held_out: bool, thresholds: tuple) -> list[dict]:
    T, basin, W = _conformer_columns(st, target)
    n_basins = int(basin.max()) + 1
    groups = st.group if held_out else np.full(st.n, "training")
    out = []
    for t_k, w_a in dict.fromkeys(zip(T.tolist(), W.tolist(), strict=True)):
        sel = np.flatnonzero((T == t_k) & (W == w_a))
        sel = sel[np.argsort(basin[sel], kind="stable")]
        head = {
            "target": target,
            "group": str(groups[sel[0]]),
            "held_out": held_out,
            "T_K": float(t_k),
            "W_kJ_per_mol": float(w_a),
            "W_unit": st.env_units.get("W_kJ_per_mol", "kJ/mol"),
            "basins": basin[sel].tolist(),
            "complete": sorted(basin[sel].tolist()) == list(range(n_basins)),
        }
        out.append(head | _environment(st.model[:, sel], st.observed[sel], t_k, *thresholds))
    return out


def conformer_transferability(
    dt_or_path,
    target: str,
    eps_p_max: float = EPS_P_MAX,
    eps_G_max: float = EPS_G_MAX,
    *,
    include_training: bool = True,
    pass_prob: float = PASS_PROB,
    fail_prob: float = FAIL_PROB,
) -> list[dict]:
    """Conformer criteria per environment (T, A) of a ``conformer_population`` target.

    For every posterior draw s the forward-model populations
    :math:`p_b(\\theta_s)` of an environment (no measurement noise) give

    .. math::

        \\epsilon_p = \\sqrt{\\tfrac1B \\sum_b (p_b^{pred} - p_b^{obs})^2}, \\qquad
        \\epsilon_G = RT \\max_b \\left|\\ln\\frac{p_b^{pred}}{p_b^{obs}}\\right|

    (:func:`bayesff.observables.conformers.population_errors`); the criteria
    are the posterior probabilities :math:`P(\\epsilon_p \\le \\epsilon_p^{max})`,
    :math:`P(\\epsilon_G \\le \\epsilon_G^{max})` and of both jointly (the same
    draws). An environment is *transferable* when the joint probability is
    ``>= pass_prob``, *not transferable* when ``<= fail_prob``, else
    *uncertain*.

    Parameters
    ----------
    dt_or_path
        A run or the path of its file.
    target
        Name of a target of observable ``conformer_population``.
    eps_p_max, eps_G_max
        Thresholds: RMS population error (dimensionless) and largest
        free-energy error (kJ/mol); defaults and their reasons in
        :mod:`bayesff.transferability.thresholds`.
    include_training
        Also report the training environments (``held_out = False``, group
        ``"training"``), the reference for how well the model fits.
    pass_prob, fail_prob
        Verdict thresholds on the joint probability.

    Returns
    -------
    list of dict
        One per environment, held-out ones first: ``target``, ``group``,
        ``held_out``, ``T_K``, ``W_kJ_per_mol`` (file unit, ``W_unit``),
        ``basins`` (indices, sorted), ``complete`` (all basins present; when
        not, the metrics cover the present ones only), ``observed``,
        ``pred_mean``, ``pred_pi90`` (per basin), ``epsilon_p_mean``,
        ``epsilon_p_pi90``, ``epsilon_G_mean``, ``epsilon_G_pi90``,
        ``epsilon_p_at_mean``, ``epsilon_G_at_mean`` (of the posterior-mean
        populations), ``P_epsilon_p``, ``P_epsilon_G``, ``P_both``, the
        thresholds, ``n_draws`` and ``verdict``. Probabilities from S draws
        have a resolution of 1/S.
    """
    if not (eps_p_max > 0 and eps_G_max > 0):
        raise CriteriaError(f"thresholds must be > 0, got {eps_p_max!r}, {eps_G_max!r}")
    check_probabilities(pass_prob, fail_prob)
    dt = as_run(dt_or_path)
    info = targets_by_name(dt).get(target)
    kinds = [("holdout", True)] + ([("train", False)] if include_training else [])
    thresholds = (eps_p_max, eps_G_max, pass_prob, fail_prob)
    out, found = [], False
    for kind, held_out in kinds:
        st = None if info is None else states_of(dt, info, kind)
        if st is None:
            continue
        found = True
        out += _environments(st, target, held_out, thresholds)
    if not found:
        raise CriteriaError(f"the run file has no model draws for target {target!r}")
    return out


def conformer_metrics(dt) -> list[dict]:
    """epsilon_p and epsilon_G per environment of every conformer-population target of a run."""
    out = []
    for name, info in targets_by_name(dt).items():
        if info.observable == CONFORMER_OBSERVABLE:
            out += conformer_transferability(dt, name)
    return out
