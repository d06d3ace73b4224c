"""Transferability of a run to its held-out environments: :func:`evaluate` and the
field's deterministic rule on the candidate parameter sets (:func:`deterministic_rule`).

The criteria of docs/architecture.md (Transferability criteria). Every
criterion is computed from the posterior draws of a run file, per held-out
state, then summarised per held-out group (a band of environments named in
the problem file) and per target; the criteria are in
:mod:`bayesff.transferability.criteria`, the thresholds in
:mod:`bayesff.transferability.thresholds`. The run is read through
:mod:`bayesff.runfile` only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from bayesff import runfile
from bayesff.transferability import criteria as cr
from bayesff.transferability.checks import conformer_metrics
from bayesff.transferability.result import TransferabilityResult
from bayesff.transferability.states import (
    States,
    as_run,
    state_env,
    states_of,
    targets_by_name,
)
from bayesff.transferability.thresholds import (
    COVERAGE_NOT_TRANSFERABLE_P,
    COVERAGE_PROB,
    COVERAGE_UNCERTAIN_P,
    FAIL_PROB,
    PASS_PROB,
)

__all__ = ["deterministic_rule", "evaluate"]


def _f(x) -> float | None:
    """float, or None for NaN / inf / None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _tolerances(infos: Mapping, override: Mapping | None) -> dict:
    """Each target's tolerance: the run's, replaced per target by ``override``."""
    unknown = sorted(set(override or {}) - set(infos))
    if unknown:
        raise cr.CriteriaError(
            f"tolerance given for unknown target(s) {unknown}; the run's targets are "
            f"{sorted(infos)}"
        )
    tol = {n: dict(i.tolerance) for n, i in infos.items() if i.tolerance}
    tol.update({k: dict(v) for k, v in (override or {}).items()})
    return {k: cr.check_tolerance(v) for k, v in tol.items()}


def _env_range(env: Mapping[str, np.ndarray], units: Mapping[str, str]) -> str:
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


def _rel_error(pred: float, y: float) -> float | None:
    return _f((pred - y) / abs(y)) if y != 0 else None


# ------------------------------------------------------------------------------ training


def _training_entry(st: States, tol) -> dict:
    mu = st.model.mean(axis=0)
    y = st.observed
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = float(np.sqrt(np.mean(((mu - y) / np.abs(y)) ** 2)))
    return {
        "unit": st.unit,
        "n": st.n,
        "rmse": float(np.sqrt(np.mean((mu - y) ** 2))),
        "rel_rmse": rel,
        "coverage50": cr.interval_coverage(st.replicated, y, 0.5)[0],
        "coverage90": cr.interval_coverage(st.replicated, y, 0.9)[0],
        "mean_abs_z": float(np.mean(np.abs(cr.standardized_residuals(st.replicated, y)))),
        "tolerance": tol,
        "p_all_within_tolerance": (
            None if tol is None else cr.all_within_tolerance_probability(st.model, y, tol)
        ),
    }


def _training(dt, infos: Mapping, tols: Mapping):
    """Training summary per trained target, the posterior-mean fit, and notes."""
    training, fit, notes = {}, {}, []
    for name, info in infos.items():
        if not info.trained:
            continue
        st = states_of(dt, info, "train")
        if st is None:
            notes.append(f"{name}: no posterior_predictive draws for the training rows")
            continue
        training[name] = _training_entry(st, tols.get(name))
        fit[name] = (st.model.mean(axis=0), st.observed)
    return training, fit, notes


# ------------------------------------------------------------------------------ held out


def _state_arrays(st: States, tol) -> dict:
    """Per-state summaries of one target's held-out states, as arrays."""
    rep, mod, y = st.replicated, st.model, st.observed
    pred_mean, pred_sd = cr.finite_mean_sd(rep)
    place = cr.predictive_place(rep, y)
    no_value = ~np.isfinite(rep)
    # Draws without a value (NaN: above the model's Tc, outside its range, not
    # converged) count as outside tolerance per draw, and as outside every predictive
    # interval, half in each tail (criteria.central_interval); means, sds, z and tail
    # probabilities are over the draws with a value.
    a = {
        "pred_mean": pred_mean,
        "pred_sd": pred_sd,
        "no_value": no_value.mean(axis=0),
        "no_value_mcse": cr.indicator_mcse(no_value, st.chains),
        "pi50": cr.central_interval(rep, 0.5),
        "pi90": cr.central_interval(rep, 0.9),
        "model_pi90": cr.central_interval(mod, 0.9),
        "model_mean": cr.finite_mean_sd(mod)[0],
        "in50": cr.interval_coverage(rep, y, 0.5)[1],
        "in90": cr.interval_coverage(rep, y, 0.9)[1],
        "in_cov": cr.interval_coverage(rep, y, COVERAGE_PROB)[1],
        "z": cr.standardized_residuals(rep, y),
        "tail": cr.tail_probability(rep, y),
        "ptol": None if tol is None else cr.tolerance_probability(mod, y, tol),
        # Monte Carlo errors (from the effective sample size across chains) of the
        # tolerance probabilities and of each state's place in its predictive, F
        "ptol_mcse": (
            None if tol is None else cr.indicator_mcse(cr.within_tolerance(mod, y, tol), st.chains)
        ),
        "cdf": place.mean(axis=0),
        "cdf_mcse": cr.indicator_mcse(place, st.chains),
    }
    return a


def _state_dicts(st: States, a: dict, tol, pass_prob, fail_prob) -> list[dict]:
    out = []
    for i in range(st.n):
        y = st.observed[i]
        if a["ptol"] is not None:
            v = cr.state_verdict(a["ptol"][i], pass_prob, fail_prob)
        else:
            v = "pass" if a["in90"][i] else "fail"
        out.append(
            {
                "target": st.target,
                "group": str(st.group[i]),
                "env": {c: _f(vals[i]) for c, vals in st.env.items()},
                "unit": st.unit,
                "observed": _f(y),
                "u": _f(st.u[i]),
                "pred_mean": _f(a["pred_mean"][i]),
                "pred_sd": _f(a["pred_sd"][i]),
                "pi50": [_f(a["pi50"][0][i]), _f(a["pi50"][1][i])],
                "pi90": [_f(a["pi90"][0][i]), _f(a["pi90"][1][i])],
                "model_mean": _f(a["model_mean"][i]),
                "fraction_no_value": float(a["no_value"][i]),
                "model_pi90": [_f(a["model_pi90"][0][i]), _f(a["model_pi90"][1][i])],
                "rel_error": _rel_error(a["pred_mean"][i], y),
                "z": _f(a["z"][i]),
                "tail_p": _f(a["tail"][i]),
                "tolerance": tol,
                "p_within_tolerance": None if a["ptol"] is None else _f(a["ptol"][i]),
                "p_within_mcse": None if a["ptol"] is None else _f(a["ptol_mcse"][i]),
                "inside50": bool(a["in50"][i]),
                "inside90": bool(a["in90"][i]),
                "verdict": v,
            }
        )
    return out


def _group_verdict(st, tol, verdicts, k_out, n, pass_prob, fail_prob) -> tuple[str, str]:
    """(verdict, basis): the worse of the tolerance and the coverage verdicts."""
    cov_verdict, p_bin = cr.coverage_verdict(k_out, n, COVERAGE_PROB)
    cov_basis = (
        f"{100 * COVERAGE_PROB:g} % predictive coverage: {k_out} of {n} states outside, "
        f"P(>= {k_out} outside | calibrated) = {p_bin:.3g} (not transferable below "
        f"{COVERAGE_NOT_TRANSFERABLE_P:g}, uncertain below {COVERAGE_UNCERTAIN_P:g})"
    )
    if tol is None:
        return cov_verdict, f"no tolerance for {st.target}: {cov_basis}"
    tol_verdict = cr.tolerance_verdict(verdicts)
    # Both must hold: predictions within tolerance, and predictive intervals that
    # cover the data (a model can be "close enough" while claiming a precision it
    # does not have).
    basis = (
        f"tolerance {cr.format_tolerance(tol, st.unit)} on the forward model ({tol_verdict}: a "
        f"state passes when P(within) >= {pass_prob:g}, fails when <= {fail_prob:g}) "
        f"and {cov_basis} ({cov_verdict}); the worse of the two"
    )
    return cr.worse_verdict(tol_verdict, cov_verdict), basis


def _no_value(mod: np.ndarray) -> tuple[int, float]:
    """(states where some draw's forward model gave no finite value, fraction of the
    (draw, state) values that are not finite): draws (axis 0) x states (axis 1) [x ...]."""
    bad = ~np.isfinite(np.asarray(mod, dtype=float))
    bad = bad.reshape(bad.shape[0], bad.shape[1], -1).any(axis=2)
    return int(bad.any(axis=0).sum()), float(bad.mean()) if bad.size else 0.0


def _group_dicts(st: States, a: dict, verdicts, tol, fit, pass_prob, fail_prob) -> list[dict]:
    out = []
    for g in dict.fromkeys(st.group.tolist()):
        sel = st.group == g
        n = int(sel.sum())
        mod, y = st.model[:, sel], st.observed[sel]
        n_no_value, frac_no_value = _no_value(mod)
        vs = [v for v, s in zip(verdicts, sel, strict=True) if s]
        k_out = int(n - a["in_cov"][sel].sum())
        verdict, basis = _group_verdict(st, tol, vs, k_out, n, pass_prob, fail_prob)
        mc = cr.verdict_range(
            None if tol is None else a["ptol"][sel],
            None if tol is None else a["ptol_mcse"][sel],
            a["cdf"][sel],
            a["cdf_mcse"][sel],
            a["in_cov"][sel],
            pass_prob=pass_prob,
            fail_prob=fail_prob,
            no_value=a["no_value"][sel],
            no_value_mcse=a["no_value_mcse"][sel],
        )
        ti = ti_rel = None
        if fit is not None:
            ti = cr.transferability_index(*fit, a["model_mean"][sel], st.observed[sel])
            ti_rel = cr.transferability_index(
                *fit, a["model_mean"][sel], st.observed[sel], relative=True
            )
        out.append(
            {
                "target": st.target,
                "group": str(g),
                "n": n,
                "unit": st.unit,
                "env_range": _env_range({c: v[sel] for c, v in st.env.items()}, st.env_units),
                "tolerance": tol,
                "p_all_within_tolerance": (
                    None if tol is None else cr.all_within_tolerance_probability(mod, y, tol)
                ),
                "p_all_within_mcse": (
                    None
                    if tol is None
                    else _f(
                        cr.indicator_mcse(cr.within_tolerance(mod, y, tol).all(axis=1), st.chains)[
                            0
                        ]
                    )
                ),
                "coverage50": float(a["in50"][sel].mean()),
                "coverage90": float(a["in90"][sel].mean()),
                "n_inside90": int(a["in90"][sel].sum()),
                "mean_abs_z": _f(np.mean(np.abs(a["z"][sel]))),
                "transferability_index": None if ti is None else _f(ti),
                "transferability_index_rel": None if ti_rel is None else _f(ti_rel),
                "trained": fit is not None,
                "n_pass": vs.count("pass"),
                "n_fail": vs.count("fail"),
                "n_uncertain": vs.count("uncertain"),
                # forward model without a value (NaN: above the model's Tc, outside its
                # range, not converged): counted as outside tolerance per draw and as
                # outside the predictive intervals (criteria.central_interval)
                "n_states_no_value": n_no_value,
                "fraction_no_value": frac_no_value,
                "verdict": verdict,
                "verdict_basis": basis,
                # the verdicts Monte Carlo error alone could give (criteria.verdict_range)
                "mc_verdict": mc,
            }
        )
    return out


def _held_out(dt, infos, tols, fit, pass_prob, fail_prob):
    """States, groups and the joint-probability parts of every target's held-out rows."""
    states, groups, joint_parts = [], [], {}
    for name, info in infos.items():
        st = states_of(dt, info, "holdout")
        if st is None:
            continue
        tol = tols.get(name)
        a = _state_arrays(st, tol)
        sd = _state_dicts(st, a, tol, pass_prob, fail_prob)
        states += sd
        verdicts = [s["verdict"] for s in sd]
        groups += _group_dicts(st, a, verdicts, tol, fit.get(name), pass_prob, fail_prob)
        if tol is not None and name in fit:
            joint_parts[name] = (st.model, st.observed, tol)
    return states, groups, joint_parts


def evaluate(
    dt_or_path,
    tolerance: Mapping | None = None,
    pass_prob: float = PASS_PROB,
    fail_prob: float = FAIL_PROB,
) -> TransferabilityResult:
    """Transferability criteria of a run file, per held-out state and group.

    Parameters
    ----------
    dt_or_path
        A run (DataTree from :func:`bayesff.calibrate` or
        :func:`bayesff.runfile.read`) or the path of its file.
    tolerance
        ``{target: {"rel": r} | {"abs": a} | {"rel": r, "abs": a}}``;
        replaces, per target, the tolerance recorded in the run. A prediction
        ``f`` of ``y`` is within it when ``|f - y| <= a + r |y|``.
    pass_prob, fail_prob
        A held-out state *passes* when its tolerance probability is
        ``>= pass_prob`` and *fails* when it is ``<= fail_prob``; in between it
        is *uncertain* (defaults in :mod:`bayesff.transferability.thresholds`).

    Returns
    -------
    TransferabilityResult

    Raises
    ------
    bayesff.runfile.RunFileError
        For a file that is not a readable run of a known schema version.
    CriteriaError
        For a tolerance of an unknown target or a malformed tolerance, or
        thresholds outside ``0 <= fail_prob < pass_prob <= 1``.

    Notes
    -----
    Tolerance probabilities use the noise-free forward-model draws: the
    tolerance is a statement about the force field, not about measurement
    noise. Coverage, ``z`` and tail probabilities use the posterior
    predictive, which includes measurement noise and the inferred
    inadequacy term. The transferability index uses posterior-mean
    forward-model predictions, held-out group against that target's
    training rows.

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
    Vector rows (forces of a configuration) are judged component by component
    (:mod:`bayesff.transferability.states`).
    """
    cr.check_probabilities(pass_prob, fail_prob)
    dt = as_run(dt_or_path)
    infos = targets_by_name(dt)
    tols = _tolerances(infos, tolerance)
    training, fit, notes = _training(dt, infos, tols)
    states, groups, joint_parts = _held_out(dt, infos, tols, fit, pass_prob, fail_prob)
    joint = None
    if joint_parts:
        joint = {
            "targets": list(joint_parts),
            "n_states": int(sum(p[1].size for p in joint_parts.values())),
            "p_all_within_tolerance": cr.joint_tolerance_probability(joint_parts),
        }

    return TransferabilityResult(
        states=states,
        groups=groups,
        training=training,
        joint=joint,
        candidates=deterministic_rule(dt, tolerance),
        conformers=conformer_metrics(dt),
        pass_prob=pass_prob,
        fail_prob=fail_prob,
        run=str(runfile.info(dt).get("problem_name", "")),
        notes=notes,
    )


# ------------------------------------------------------------------------------ candidates


def _candidate_labels(dt, info, cand: dict) -> list[str]:
    """Each row's group: its held-out group, else "training" or (rows neither trained on
    nor held out) "excluded", told apart by their environment values."""
    labels = [g or "training" for g in cand["group"].tolist()]
    if info.excluded_rows == 0:
        return labels
    train = runfile.rows(dt, info.name, "train")
    if train is None:
        return [g or "excluded" for g in cand["group"].tolist()]
    keys = sorted(set(cand["env"]) & set(train.env))
    if keys:
        seen = set(zip(*(np.asarray(train.env[k]).tolist() for k in keys), strict=True))
        rows = zip(*(np.asarray(cand["env"][k]).tolist() for k in keys), strict=True)
    else:
        seen = set(np.asarray(train.index).tolist())
        rows = iter(np.asarray(cand["index"]).tolist())
    return [
        g if g != "training" or key in seen else "excluded"
        for g, key in zip(labels, rows, strict=True)
    ]


def _candidate_states(info, cand, c: int, labels, tol, env) -> list[dict]:
    """One candidate's states of one target (vector rows per component)."""
    y = np.asarray(cand["observed"], float).ravel()
    f = np.asarray(cand["predicted"][c], float).ravel()
    k = y.size // cand["observed"].shape[0]
    ok = cr.within_tolerance(f[None, :], y, tol)[0]
    return [
        {
            "target": info.name,
            "group": labels[i // k],
            "env": {col: _f(v[i]) for col, v in env.items()},
            "observed": _f(y[i]),
            "predicted": _f(f[i]),
            "rel_error": _rel_error(f[i], y[i]),
            "tolerance": tol,
            "verdict": "pass" if ok[i] else "fail",
        }
        for i in range(y.size)
    ]


def _candidate_groups(states: list[dict], target: str) -> list[dict]:
    out = []
    for g in dict.fromkeys(s["group"] for s in states):
        vs = [s["verdict"] for s in states if s["group"] == g]
        n_pass = vs.count("pass")
        out.append(
            {
                "target": target,
                "group": g,
                "n": len(vs),
                "n_pass": n_pass,
                "verdict": "transferable" if n_pass == len(vs) else "not transferable",
            }
        )
    return out


def deterministic_rule(dt_or_path, tolerance: Mapping | None = None) -> list[dict]:
    """The field's deterministic rule for the candidate parameter sets of a run.

    For each candidate stored in the run (``[transferability] candidates`` of
    the problem file, evaluated by :func:`bayesff.calibrate` with the bare
    forward model) and each state of each target with a tolerance: pass when
    :math:`|f(\\theta_c) - y| \\le a + r |y|`. This is the rule the Bayesian
    tolerance probability generalises.

    Returns
    -------
    list of dict
        One per candidate: ``name``, ``parameters`` (name -> value in the
        problem's unit), ``parameter_units``, ``states`` (target, group --
        "training" for training rows, "excluded" for rows neither trained on
        nor held out --, env, observed, predicted, rel_error, tolerance,
        verdict) and ``groups`` (target, group, n, n_pass, verdict:
        "transferable" when every state passes).
    """
    dt = as_run(dt_or_path)
    infos = targets_by_name(dt)
    tols = _tolerances(infos, tolerance)
    out: dict[str, dict] = {}
    for name, info in infos.items():
        cand = runfile.candidate_rows(dt, name)
        if cand is None or name not in tols:
            continue
        labels = _candidate_labels(dt, info, cand)
        vshape = cand["observed"].shape[1:]
        env, _ = state_env(
            info, cand["env"], cand["env_units"], cand["index"], cand["dim"], vshape
        )
        for c, cname in enumerate(cand["names"]):
            entry = out.setdefault(cname, _candidate_entry(cname, c, cand))
            sts = _candidate_states(info, cand, c, labels, tols[name], env)
            entry["states"] += sts
            entry["groups"] += _candidate_groups(sts, name)
    return list(out.values())


def _candidate_entry(name: str, c: int, cand: dict) -> dict:
    params = cand["parameters"]
    return {
        "name": name,
        "parameters": {p: _f(v[c]) for p, (v, _) in params.items()},
        "parameter_units": {p: u for p, (_, u) in params.items()},
        "states": [],
        "groups": [],
    }
