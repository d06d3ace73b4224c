"""Transferability criteria (docs/architecture.md) on hand-built draws and run files.

No sampling, except in the tests marked slow: every run here is written by
bayesff's own writer (:func:`bayesff.runfile.build`, through
``tests/handmade_runs.py``) from a real problem and hand-chosen draws, and
read back by the code under test through :mod:`bayesff.runfile`. Each test
says where its reference value comes from.
"""

from __future__ import annotations

import json
import math

import arviz_stats
import numpy as np
import pytest
from handmade_runs import build_run as _write_run
from handmade_runs import target as _target

from bayesff import runfile
from bayesff import transferability as tf
from bayesff.errors import BayesffError

# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------

#: Observable standing in for each set of environment columns (only the columns, the unit
#: and the layout matter here; the forward models are never evaluated).
_OBSERVABLE = {("T_K",): "second_virial", ("T_K", "rho_per_A3"): "liquid_pressure"}


def build_run(targets: list[dict], tolerance: dict | None = None):
    """A run with one chain of S hand-chosen draws.

    Each target dict: name, env_units {column: unit}; optional ``train`` = {env, y, model,
    rep, ll} and ``holdout`` = {env, group, y, u, model, rep} (draw arrays of shape (S, N),
    env = {column: values}). Training rows come first, then held-out rows.
    """
    made, draws = [], {}
    for t in targets:
        tr, ho = t.get("train"), t.get("holdout")
        parts = [p for p in (tr, ho) if p is not None]
        cols = tuple(t["env_units"])
        env = {c: np.concatenate([np.asarray(p["env"][c], float) for p in parts]) for c in cols}
        y = np.concatenate([np.asarray(p["y"], float) for p in parts])
        n_tr = 0 if tr is None else len(tr["y"])
        u = np.concatenate(
            ([np.ones(n_tr)] if tr is not None else []) + ([ho["u"]] if ho is not None else [])
        )
        train = np.arange(y.size) < n_tr
        holdout = None
        if ho is not None:
            labels = np.r_[np.full(n_tr, ""), np.asarray(ho["group"], str)]
            holdout = {g: labels == g for g in dict.fromkeys(ho["group"])}
        made.append(
            _target(
                t["name"],
                _OBSERVABLE[cols],
                env,
                y,
                u=u,
                train=train,
                holdout=holdout,
                file_units=t["env_units"],
            )
        )
        draws[t["name"]] = {}
        if tr is not None:
            draws[t["name"]]["train"] = {k: tr[k] for k in ("model", "rep", "ll")}
        if ho is not None:
            draws[t["name"]]["holdout"] = {k: ho[k] for k in ("model", "rep")}
    return _write_run(made, draws, tolerance=tolerance)


S = 10
#: ten fixed standard-normal-like offsets with mean 0 (used as "noise" in hand-built draws)
Z10 = np.linspace(-1.5, 1.5, S)


def _hand_run(tolerance=None, p_outside=(False, False, False, True)):
    """B2 (trained, rel 5 %) with held-out groups 'low T', 'high T', 'very high T';
    p (not trained, two environment columns, no tolerance) with 4 held-out states."""
    col = np.ones((S, 1))
    b2_train_y = np.array([-50.0, -20.0, -5.0])
    # posterior-mean model errors +1, -1, +1 at the training rows -> training RMSE = 1
    b2_train_model = b2_train_y + np.array([1.0, -1.0, 1.0]) + 0.01 * Z10[:, None]
    ho_y = np.array([-100.0, -90.0, 10.0, 12.0, 15.0])
    ho_model = np.column_stack(
        [
            -100.0 + 0.5 * Z10,  # |err| <= 0.75 < 5 (5 % of 100): P(tol) = 1 -> pass
            -80.0 + 0.1 * Z10,  # err ~10 > 4.5: P(tol) = 0 -> fail
            10.0 + 0.2 * Z10,  # |err| <= 0.3 < 0.5: pass
            12.0 + np.r_[np.full(5, 0.1), np.full(5, 1.0)],  # 5 of 10 within 0.6: uncertain
            15.0 + 0.1 * Z10,  # pass
        ]
    )
    ho_rep = ho_model + 0.5 * col * Z10[:, None]
    p_y = np.array([1.0, 2.0, 3.0, 4.0])
    p_rep = p_y + 0.1 * Z10[:, None] + np.where(p_outside, 10.0, 0.0)
    targets = [
        {
            "name": "B2",
            "env_units": {"T_K": "K"},
            "train": {
                "env": {"T_K": np.array([200.0, 300.0, 400.0])},
                "y": b2_train_y,
                "model": b2_train_model,
                "rep": b2_train_model + Z10[:, None],
                "ll": -0.5 * (Z10[:, None] * 0.01) ** 2 * np.ones((1, 3)),
            },
            "holdout": {
                "env": {"T_K": np.array([100.0, 110.0, 600.0, 700.0, 800.0])},
                "group": ["low T", "low T", "high T", "high T", "very high T"],
                "y": ho_y,
                "u": np.full(5, 0.1),
                "model": ho_model,
                "rep": ho_rep,
            },
        },
        {
            "name": "p",
            "env_units": {"T_K": "K", "rho_per_A3": "1/angstrom^3"},
            "holdout": {
                "env": {
                    "T_K": np.array([300.0, 350.0, 400.0, 400.0]),
                    "rho_per_A3": np.array([0.01, 0.015, 0.02, 0.01]),
                },
                "group": ["p"] * 4,
                "y": p_y,
                "u": np.full(4, 0.05),
                "model": p_y + 0.1 * Z10[:, None],
                "rep": p_rep,
            },
        },
    ]
    return build_run(targets, tolerance={"B2": {"rel": 0.05}}), targets


# --------------------------------------------------------------------------------------------
# pure metrics against hand-computed values
# --------------------------------------------------------------------------------------------


def test_tolerance_probability_by_hand():
    # |0.9-1|, |1.0-1|, |1.1-1| <= 0.15 but |1.3-1| = 0.3 > 0.15: 3 of 4 draws.
    d = np.array([0.9, 1.0, 1.1, 1.3])
    assert tf.tolerance_probability(d, 1.0, {"rel": 0.15}) == pytest.approx([0.75])
    # abs 0.05: only the draw 1.0 is within -> 1/4.
    assert tf.tolerance_probability(d, 1.0, {"abs": 0.05}) == pytest.approx([0.25])
    # negative observation, relative to |y| = 2 -> delta = 0.2: errors 0.1, 0.3, 0.3, 0 -> 2/4
    # (state 1 with rel 0.1: errors 0.05, 0, 0.2, 0.3 -> 2/4)
    d2 = np.array([[0.95, -2.1], [1.0, -1.7], [1.2, -2.3], [1.3, -2.0]])
    p = tf.tolerance_probability(d2, [1.0, -2.0], {"rel": 0.1})
    assert p == pytest.approx([0.5, 0.5])


def test_all_within_and_joint_by_hand():
    # per-draw check (rel 0.1): draw 0 both ok, draw 1 state 2 off (2.5), draw 2 state 1 off
    # (1.3), draw 3 both ok -> P(all) = 2/4, while the product of marginals is 0.75^2 = 0.5625.
    d = np.array([[1.0, 2.0], [1.0, 2.5], [1.3, 2.0], [1.0, 2.0]])
    y = [1.0, 2.0]
    assert tf.tolerance_probability(d, y, {"rel": 0.1}) == pytest.approx([0.75, 0.75])
    assert tf.all_within_tolerance_probability(d, y, {"rel": 0.1}) == 0.5
    # second target aligned draw by draw: ok in draws 0, 1, 2, off in draw 3 -> joint only draw 0
    e = np.array([[5.0], [5.0], [5.0], [9.0]])
    parts = {"g(r)": (d, y, {"rel": 0.1}), "U": (e, [5.0], {"abs": 1.0})}
    assert tf.joint_tolerance_probability(parts) == 0.25
    with pytest.raises(ValueError, match="aligned"):
        tf.joint_tolerance_probability(
            {"a": (d, y, {"rel": 0.1}), "b": (e[:3], [5.0], {"abs": 1})}
        )


@pytest.mark.parametrize(
    "tol",
    [
        {"rel": -0.1},
        {"rel": 0.0},
        {"tol": 0.1},
        {"rel": 0.1, "tol": 1.0},
        {"abs": float("nan")},
        {"rel": 0.1, "abs": -1.0},
        {},
        0.1,
    ],
)
def test_bad_tolerance_is_refused(tol):
    with pytest.raises(tf.CriteriaError, match="tolerance"):
        tf.tolerance_probability(np.ones((3, 1)), [1.0], tol)


def test_relative_tolerance_needs_nonzero_observation():
    with pytest.raises(tf.CriteriaError, match=r"non-zero.*abs"):
        tf.tolerance_probability(np.zeros((3, 1)), [0.0], {"rel": 0.1})


def test_relative_plus_absolute_tolerance_by_hand():
    """|f - y| <= abs + rel |y| (numpy.isclose semantics), the form a target crossing
    zero needs (B2 at the Boyle temperature)."""
    # y = 0 (the Boyle point): only the absolute part counts, 0.5 -> draws within 0.5 pass:
    # 0.3, -0.5 pass (<= is inclusive), 0.7 fails -> 2/3
    d = np.array([0.3, -0.5, 0.7])
    assert tf.tolerance_probability(d, 0.0, {"rel": 0.05, "abs": 0.5}) == pytest.approx([2 / 3])
    # y = -100: width 0.5 + 0.05 * 100 = 5.5; errors 5.4 (pass), 5.6 (fail), 0 (pass) -> 2/3,
    # while rel alone (width 5) passes one draw and abs alone (0.5) one draw
    d = np.array([-94.6, -105.6, -100.0])
    both = tf.tolerance_probability(d, -100.0, {"rel": 0.05, "abs": 0.5})
    assert both == pytest.approx([2 / 3])
    assert tf.tolerance_probability(d, -100.0, {"rel": 0.05}) == pytest.approx([1 / 3])
    assert tf.tolerance_probability(d, -100.0, {"abs": 0.5}) == pytest.approx([1 / 3])
    # numpy's own isclose agrees state by state (rtol = rel, atol = abs)
    ok = np.isclose(d, -100.0, rtol=0.05, atol=0.5)
    assert tf.tolerance_probability(d, -100.0, {"rel": 0.05, "abs": 0.5})[0] == ok.mean()
    assert tf.tolerance_width([-100.0, 0.0, 20.0], {"rel": 0.05, "abs": 0.5}) == pytest.approx(
        [5.5, 0.5, 1.5]
    )


def test_interval_coverage_known_quantiles():
    # draws 0..100: numpy's linear quantiles are exactly 5 and 95 (90 %), 25 and 75 (50 %).
    d = np.repeat(np.arange(101.0)[:, None], 4, axis=1)
    y = np.array([50.0, 4.0, 96.0, 95.0])
    cov, inside = tf.interval_coverage(d, y, 0.9)
    assert inside.tolist() == [True, False, False, True]
    assert cov == 0.5
    cov50, inside50 = tf.interval_coverage(d, y, 0.5)
    assert inside50.tolist() == [True, False, False, False] and cov50 == 0.25


def test_standardized_residual_by_hand():
    # mean 3, sd (ddof=1) sqrt(2.5): z = (6 - 3) / sqrt(2.5)
    z = tf.standardized_residuals(np.array([1.0, 2, 3, 4, 5]), 6.0)
    assert z == pytest.approx([3 / math.sqrt(2.5)])


def test_tail_probability_by_hand():
    d = np.repeat(np.arange(1.0, 101.0)[:, None], 3, axis=1)
    # y = 90.5: P(draw >= y) = 10/100, P(draw <= y) = 90/100 -> 2 * 0.1 = 0.2;
    # y = 50.5: 2 * 0.5 = 1; y = 0 below every draw -> 0
    assert tf.tail_probability(d, [90.5, 50.5, 0.0]) == pytest.approx([0.2, 1.0, 0.0])


def test_transferability_index_by_hand():
    # training errors +1, -1 (RMSE 1), test errors +2, -2 (RMSE 2) -> TI = 2
    assert tf.transferability_index([11, 9], [10, 10], [102, 98], [100, 100]) == 2.0
    # relative: training 10 % (RMSE 0.1), test 20 % -> 2; absolute would be 20 / 1 = 20
    args = ([11, 9], [10, 10], [120, 80], [100, 100])
    assert tf.transferability_index(*args, relative=True) == pytest.approx(2.0)
    assert tf.transferability_index(*args) == pytest.approx(20.0)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"\(S, N\)"):
        tf.interval_coverage(np.ones((5, 3)), np.ones(2), 0.9)


# --------------------------------------------------------------------------------------------
# evaluate on a hand-built run file
# --------------------------------------------------------------------------------------------


def test_evaluate_states_groups_and_verdicts():
    dt, targets = _hand_run()
    r = tf.evaluate(dt)
    b2 = [s for s in r.states if s["target"] == "B2"]
    # P(tol) and verdicts as designed in _hand_run (see the comments on ho_model)
    assert [s["p_within_tolerance"] for s in b2] == [1.0, 0.0, 1.0, 0.5, 1.0]
    assert [s["verdict"] for s in b2] == ["pass", "fail", "pass", "uncertain", "pass"]
    g = {(x["target"], x["group"]): x for x in r.groups}
    assert list(g) == [("B2", "low T"), ("B2", "high T"), ("B2", "very high T"), ("p", "p")]
    assert g["B2", "low T"]["verdict"] == "not transferable"
    assert g["B2", "high T"]["verdict"] == "uncertain"
    assert g["B2", "very high T"]["verdict"] == "transferable"
    assert g["B2", "low T"]["n"] == 2 and g["B2", "low T"]["env_range"] == "100-110 K"
    # TI: training posterior-mean errors +1, -1, +1 (RMSE 1); low T errors 0 and +10
    # -> RMSE sqrt(50)
    assert g["B2", "low T"]["transferability_index"] == pytest.approx(math.sqrt(50), rel=1e-9)
    # P(all within) of 'high T' = 0.5 (state 700 K decides; 600 K is always within)
    assert g["B2", "high T"]["p_all_within_tolerance"] == 0.5
    # state-level numbers against direct numpy on the same draws
    ho = targets[0]["holdout"]
    s0 = b2[0]
    assert s0["env"] == {"T_K": 100.0} and s0["observed"] == -100.0 and s0["u"] == 0.1
    assert s0["pred_mean"] == pytest.approx(ho["rep"][:, 0].mean())
    assert s0["pred_sd"] == pytest.approx(ho["rep"][:, 0].std(ddof=1))
    assert s0["pi90"] == pytest.approx(np.quantile(ho["rep"][:, 0], [0.05, 0.95]).tolist())
    assert s0["model_pi90"] == pytest.approx(np.quantile(ho["model"][:, 0], [0.05, 0.95]))
    # coverage of 'low T': state 110 K has predictive -80 +- 0.75 vs y = -90 -> outside both
    assert g["B2", "low T"]["coverage90"] == 0.5 and g["B2", "low T"]["n_inside90"] == 1
    # training summary: RMSE of posterior-mean model = 1 by construction
    assert r.training["B2"]["rmse"] == pytest.approx(1.0)
    assert r.training["B2"]["n"] == 3 and "p" not in r.training


def test_a_group_without_forward_model_values_says_so_in_its_verdict():
    """Draws whose forward model gave NaN (above the model's Tc, outside its range, an
    unsolvable mapping) count as outside tolerance, by design; an audit (2026-11-28)
    found a group whose every value was NaN given a firm NOT TRANSFERABLE with nothing
    to say why. The group now counts the states and the fraction of values without one,
    and its verdict line says it: 'very high T' has no value at any draw, 'high T' at
    half the draws of one state (700 K); 'low T' has all its values."""
    _, targets = _hand_run()
    ho = targets[0]["holdout"]
    for k in ("model", "rep"):
        ho[k] = ho[k].copy()
        ho[k][:, 4] = np.nan
        ho[k][:5, 3] = np.nan
    r = tf.evaluate(build_run(targets, tolerance={"B2": {"rel": 0.05}}))
    g = {x["group"]: x for x in r.groups if x["target"] == "B2"}
    assert (g["very high T"]["n_states_no_value"], g["very high T"]["fraction_no_value"]) == (
        1,
        1.0,
    )
    assert g["very high T"]["verdict"] == "not transferable"
    assert (g["high T"]["n_states_no_value"], g["high T"]["fraction_no_value"]) == (1, 0.25)
    assert g["low T"]["n_states_no_value"] == 0
    lines = "\n".join(r.verdict_lines())
    assert "NO VALUE from the forward model for every draw at 1 of 1 states (100 %" in lines
    assert "NO VALUE from the forward model for some draws at 1 of 2 states (25 %" in lines
    assert lines.count("NO VALUE") == 2
    # its transferability index has no prediction to measure (it said "zero training error")
    very = next(x for x in lines.splitlines() if "very high T" in x)
    assert "transferability index undefined (no prediction)" in very, very


def _coverage_run(nan_draws: int, s: int = 1000):
    """Three held-out B2 states, 2 far outside their predictive (y 5 and 4.5 sd from it)
    and one at its centre; ``nan_draws`` draws of the centred state have no value."""
    rng = np.random.default_rng(3)
    y = np.array([-10.0, -5.0, -100.0, -90.0, -80.0])
    ho_model = np.column_stack([np.full(s, -95.0), np.full(s, -85.5), np.full(s, -80.0)])
    ho_rep = ho_model + 0.5 * rng.standard_normal((s, 3))
    nan = rng.choice(s, nan_draws, replace=False)  # scattered, as independent failures
    ho_model[nan, 2] = ho_rep[nan, 2] = np.nan
    train = y[:2] + 0.01 * rng.standard_normal((s, 2))
    return build_run(
        [
            {
                "name": "B2",
                "env_units": {"T_K": "K"},
                "train": {
                    "env": {"T_K": np.array([300.0, 400.0])},
                    "y": y[:2],
                    "model": train,
                    "rep": train,
                    "ll": np.zeros((s, 2)),
                },
                "holdout": {
                    "env": {"T_K": np.array([100.0, 110.0, 120.0])},
                    "group": ["low T"] * 3,
                    "y": y[2:],
                    "u": np.full(3, 0.1),
                    "model": ho_model,
                    "rep": ho_rep,
                },
            }
        ],
        tolerance={"B2": {"rel": 0.1, "abs": 1.0}},
    )


def test_one_draw_without_a_value_does_not_flip_a_coverage_verdict():
    """Audit (2026-11-29): one NaN draw of 1000 at a state centred in its predictive put the
    state outside its 90 % interval (np.quantile propagates NaN), turning the group from
    UNCERTAIN (2 of 3 outside, binomial P = 0.028) to NOT TRANSFERABLE (3 of 3), and the
    Monte Carlo check called it settled. Draws without a value now count as outside the
    interval, half in each tail (the interval holds 90 % of all draws): 1 in 1000 moves the
    state's place by 0.0005, not across the interval's end. When more than 10 % of its
    draws lack a value no interval of values holds 90 %, and the state is outside."""
    verdicts = {}
    for k in (0, 1, 50, 101, 1000):
        g = tf.evaluate(_coverage_run(k)).groups[0]
        verdicts[k] = (g["verdict"], g["n_inside90"], g["mc_verdict"]["settled"])
    assert verdicts[0] == ("uncertain", 1, True)
    assert verdicts[1] == verdicts[50] == verdicts[0]
    # > 10 % without a value: outside every 90 % interval, 3 of 3 outside
    assert verdicts[101][:2] == verdicts[1000][:2] == ("not transferable", 0)
    st = tf.evaluate(_coverage_run(50)).states[2]
    assert st["fraction_no_value"] == 0.05 and st["inside90"]
    assert st["pred_mean"] == pytest.approx(-80.0, abs=0.1)  # over the 950 with a value


def test_central_interval_counts_draws_without_a_value_in_its_tails():
    """By hand: 95 draws 1..95 and 5 NaN (f = 0.05). The interval holding 90 % of all
    100 draws is the central 0.9 / 0.95 of the 95 values (np.quantile, linear); with
    f = 0.11 > 1 - 0.9 none exists (NaN). Without NaN it is np.quantile's interval."""
    from bayesff.transferability.criteria import central_interval, predictive_place

    x = np.r_[np.arange(1.0, 96.0), np.full(5, np.nan)][:, None]
    q = 0.9 / 0.95
    lo, hi = central_interval(x, 0.9)
    np.testing.assert_allclose(
        [lo[0], hi[0]], np.quantile(np.arange(1.0, 96.0), [(1 - q) / 2, (1 + q) / 2])
    )
    y = np.r_[np.arange(1.0, 90.0), np.full(11, np.nan)][:, None]
    assert np.isnan(central_interval(y, 0.9)[0][0])
    # f = 0.1 exactly (1 of 10): the interval is the whole range of the 9 values
    w = np.r_[np.arange(1.0, 10.0), np.nan][:, None]
    np.testing.assert_allclose(np.ravel(central_interval(w, 0.9)), [1.0, 9.0])
    z = np.arange(1.0, 101.0)[:, None]
    np.testing.assert_allclose(central_interval(z, 0.9), np.quantile(z, [0.05, 0.95], axis=0))
    # place: values <= 50 count 1, NaN 0.5: (50 + 2.5) / 100
    assert predictive_place(x, [50.0]).mean() == pytest.approx(0.525)


def test_a_fraction_without_value_near_its_bound_is_within_monte_carlo_error():
    """A state with 10 % of its draws without a value sits on the bound above which it is
    outside every 90 % interval: which side another seed gives is chance, so verdict_range
    counts it as open; at 1 % (far from the bound) it does not."""
    from bayesff.transferability.criteria import verdict_range

    common = dict(p_within=None, p_mcse=None, outside_cdf=[0.5], cdf_mcse=[0.01], inside=[True])
    near = verdict_range(**common, no_value=[0.1], no_value_mcse=[0.01])
    far = verdict_range(**common, no_value=[0.01], no_value_mcse=[0.003])
    assert near["n_states"] == 1 and far["n_states"] == 0


def test_a_state_without_any_value_says_why_its_index_is_undefined():
    """Audit (2026-11-29): with some held-out draws NaN the verdict line said "transferability
    index undefined (zero training error)" although the training RMSE was 1. The index is
    now over the draws with a value; it is undefined only when a state has none, and the
    line says that."""
    _, targets = _hand_run()
    ho = targets[0]["holdout"]
    for k in ("model", "rep"):
        ho[k] = ho[k].copy()
        ho[k][:3, 3] = np.nan  # some draws at 700 K: the index is still defined
        ho[k][:, 2] = np.nan  # every draw at 600 K (same group, 'high T'): undefined
    r = tf.evaluate(build_run(targets, tolerance={"B2": {"rel": 0.05}}))
    line = next(x for x in r.verdict_lines() if "B2 high T" in x)
    assert "transferability index undefined (no prediction at some state)" in line, line
    assert "zero training error" not in line
    ho["model"][:, 2], ho["rep"][:, 2] = -0.0 + 10.0, 10.0 + Z10 * 0.5
    r = tf.evaluate(build_run(targets, tolerance={"B2": {"rel": 0.05}}))
    g = next(x for x in r.groups if x["group"] == "high T")
    assert g["transferability_index"] is not None and g["n_states_no_value"] == 1


def test_untrained_target_without_tolerance_uses_coverage():
    dt, _ = _hand_run(p_outside=(False, False, False, True))
    g = next(x for x in tf.evaluate(dt).groups if x["target"] == "p")
    # 1 of 4 outside the 90 % interval: P(X >= 1 | 4, 0.1) = 1 - 0.9^4 = 0.34 -> transferable
    assert g["tolerance"] is None and g["p_all_within_tolerance"] is None
    assert g["transferability_index"] is None and g["n_inside90"] == 3
    assert g["verdict"] == "transferable" and "coverage" in g["verdict_basis"]
    assert g["env_range"] == "T 300-400 K, rho 0.01-0.02 1/angstrom^3"
    dt, _ = _hand_run(p_outside=(True, True, True, False))
    g = next(x for x in tf.evaluate(dt).groups if x["target"] == "p")
    # 3 of 4 outside: P(X >= 3 | 4, 0.1) = 4 * 0.1^3 * 0.9 + 0.1^4 = 0.0037 < 0.01
    assert g["verdict"] == "not transferable"


def test_tolerance_override_and_joint():
    dt, targets = _hand_run()
    r = tf.evaluate(dt, tolerance={"p": {"abs": 0.12}})
    p_model = targets[1]["holdout"]["model"]
    # reference: the pure function on the same aligned draws. The joint probability
    # covers trained targets only: p (train = false) is a prediction, not a second
    # calibrated observable, so it is left out even with a tolerance.
    ref = tf.joint_tolerance_probability(
        {"B2": (targets[0]["holdout"]["model"], targets[0]["holdout"]["y"], {"rel": 0.05})}
    )
    assert r.joint["targets"] == ["B2"] and r.joint["p_all_within_tolerance"] == ref
    # B2 low T fails in every draw, so the joint probability is 0
    assert ref == 0.0
    both = tf.joint_tolerance_probability(
        {
            "B2": (targets[0]["holdout"]["model"], targets[0]["holdout"]["y"], {"rel": 0.05}),
            "p": (p_model, targets[1]["holdout"]["y"], {"abs": 0.12}),
        }
    )
    assert both == 0.0
    # p: model offsets 0.1 * Z10 with Z10 = -1.5, -1.17, ..., 1.5: |offset| <= 0.12 except
    # for the two end draws (0.15) -> 8 of 10
    assert [s["p_within_tolerance"] for s in r.states if s["target"] == "p"] == [0.8] * 4
    with pytest.raises(ValueError, match="unknown target"):
        tf.evaluate(dt, tolerance={"nope": {"rel": 0.1}})


def test_as_dict_is_json_and_lines_and_table():
    dt, _ = _hand_run()
    r = tf.evaluate(dt)
    d = r.as_dict()
    text = json.dumps(d, allow_nan=False)  # raises on NaN / inf
    assert json.loads(text) == d
    lines = r.verdict_lines()
    assert len(lines) == 4
    assert lines[0].startswith("B2 low T (2 states, 100-110 K): NOT TRANSFERABLE — ")
    assert "P(all within 5 %) = 0.00" in lines[0] and "90 % coverage 1/2" in lines[0]
    assert "transferability index 7.1" in lines[0]
    assert lines[3].startswith("p (4 states, T 300-400 K") and "not trained" in lines[3]
    table = r.table()
    assert "90 % interval" in table and len(table.splitlines()) == 2 + 9


def test_nan_becomes_none_in_as_dict():
    dt, _ = _hand_run()
    r = tf.evaluate(dt)
    r.groups[0]["transferability_index"] = float("inf")
    r.states[0]["z"] = np.float64("nan")
    d = r.as_dict()
    assert d["groups"][0]["transferability_index"] is None and d["states"][0]["z"] is None
    json.dumps(d, allow_nan=False)


def test_evaluate_reads_the_run_file_from_disk(tmp_path):
    """A path and the DataTree it was written from give the same result."""
    dt, _ = _hand_run()
    path = runfile.write(dt, tmp_path / "posterior.nc")
    assert tf.evaluate(path).as_dict() == tf.evaluate(dt).as_dict()
    assert [(g["target"], g["group"]) for g in tf.evaluate(path).groups][:3] == [
        ("B2", "low T"),
        ("B2", "high T"),
        ("B2", "very high T"),
    ]


def test_run_file_of_a_newer_schema_version_is_refused(tmp_path):
    """A reader must not guess at a layout it does not know (issue 15 item 2)."""
    dt, _ = _hand_run()
    dt.attrs["bayesff_runfile_version"] = 99
    with pytest.raises(runfile.RunFileError, match="version 99 is newer"):
        tf.evaluate(dt)
    path = runfile.write(dt, tmp_path / "future.nc")
    for call in (tf.evaluate, tf.deterministic_rule, tf.residual_check):
        with pytest.raises(runfile.RunFileError, match="upgrade bayesff") as e:
            call(path)
        assert "\n" not in str(e.value) and str(path) in str(e.value)
    with pytest.raises(runfile.RunFileError, match="newer"):
        tf.compare({"a": path, "b": path})
    del dt.attrs["bayesff_runfile_version"]
    with pytest.raises(runfile.RunFileError, match="no bayesff_runfile_version"):
        tf.evaluate(dt)


def _boyle_run():
    """B2 trained at 200-400 K and held out at the Boyle point (y = 0) and at 600 K."""
    return build_run(
        [
            {
                "name": "B2",
                "env_units": {"T_K": "K"},
                "train": {
                    "env": {"T_K": np.array([200.0, 300.0, 400.0])},
                    "y": np.array([-50.0, -20.0, -5.0]),
                    "model": np.array([-50.0, -20.0, -5.0]) + 0.01 * Z10[:, None],
                    "rep": np.array([-50.0, -20.0, -5.0]) + Z10[:, None],
                    "ll": np.zeros((S, 3)),
                },
                "holdout": {
                    "env": {"T_K": np.array([411.0, 600.0])},
                    "group": ["Boyle", "Boyle"],
                    "y": np.array([0.0, 10.0]),
                    "u": np.full(2, 0.1),
                    # |err| at the Boyle point 0.3 * |Z10| <= 0.45; at 600 K 0.1 * |Z10|
                    "model": np.column_stack([0.3 * Z10, 10.0 + 0.1 * Z10]),
                    "rep": np.column_stack([0.3 * Z10, 10.0 + 0.1 * Z10]) + 0.1 * Z10[:, None],
                },
            }
        ],
        tolerance={"B2": {"rel": 0.05, "abs": 0.5}},
    )


def test_target_crossing_zero_needs_and_gets_an_absolute_part():
    dt = _boyle_run()
    r = tf.evaluate(dt)
    # width 0.5 at y = 0 and 0.5 + 0.05 * 10 = 1 at 600 K: every draw is within -> pass
    assert [s["p_within_tolerance"] for s in r.states] == [1.0, 1.0]
    assert r.states[0]["rel_error"] is None  # no relative error of an observation of 0
    assert r.groups[0]["tolerance"] == {"rel": 0.05, "abs": 0.5}
    line = r.verdict_lines()[0]
    assert "P(all within ±(0.5 cm^3/mol + 5 %)) = 1.00" in line
    # abs alone, 0.4: the Boyle point's draws with |0.3 Z10| > 0.4 (Z10 = +-1.5) fail -> 8/10
    r = tf.evaluate(dt, tolerance={"B2": {"abs": 0.4}})
    assert r.states[0]["p_within_tolerance"] == 0.8
    # rel alone cannot judge an observation of 0: a clear error, not a division by zero
    with pytest.raises(tf.CriteriaError, match="non-zero observations; add an absolute part"):
        tf.evaluate(dt, tolerance={"B2": {"rel": 0.05}})


# --------------------------------------------------------------------------------------------
# negative and positive controls: analytic Gaussian posterior of a linear model
# --------------------------------------------------------------------------------------------


def _linear_posterior_run(basis, n_draws=4000, seed=1):
    """Data y = 1 + 0.5 x^2 + N(0, 0.01^2); model y = X beta with flat prior and known noise.

    The posterior is exactly Gaussian: beta ~ N((X'X)^-1 X'y, sigma^2 (X'X)^-1)
    (least squares). Trained on x in [0, 1], held out at x in [3, 4].
    """
    sigma = 0.01
    rng = np.random.default_rng(seed)
    truth = lambda x: 1.0 + 0.5 * x**2  # noqa: E731
    x_tr = np.linspace(0.0, 1.0, 11)
    x_ho = np.array([3.0, 3.5, 4.0])
    y_tr = truth(x_tr) + sigma * rng.standard_normal(x_tr.size)
    y_ho = truth(x_ho) + sigma * rng.standard_normal(x_ho.size)
    X = np.column_stack([np.ones_like(x_tr), basis(x_tr)])
    cov = sigma**2 * np.linalg.inv(X.T @ X)
    mean = np.linalg.solve(X.T @ X, X.T @ y_tr)
    beta = rng.multivariate_normal(mean, cov, size=n_draws)  # (S, 2)

    def mu(x):
        return beta[:, :1] + beta[:, 1:] * basis(x)[None, :]

    m_tr, m_ho = mu(x_tr), mu(x_ho)
    rep_tr = m_tr + sigma * rng.standard_normal(m_tr.shape)
    rep_ho = m_ho + sigma * rng.standard_normal(m_ho.shape)
    # the environment column is a stand-in: T_K = 100 K (1 + x) labels the rows
    target = {
        "name": "y",
        "env_units": {"T_K": "K"},
        "train": {
            "env": {"T_K": 100.0 * (1.0 + x_tr)},
            "y": y_tr,
            "model": m_tr,
            "rep": rep_tr,
            "ll": -0.5 * ((y_tr - m_tr) / sigma) ** 2 - math.log(sigma * math.sqrt(2 * math.pi)),
        },
        "holdout": {
            "env": {"T_K": 100.0 * (1.0 + x_ho)},
            "group": ["far"] * 3,
            "y": y_ho,
            "u": np.full(3, sigma),
            "model": m_ho,
            "rep": rep_ho,
        },
    }
    return build_run([target], tolerance={"y": {"rel": 0.05}})


def test_negative_control_wrong_model_not_transferable():
    # straight line fitted to a parabola on [0, 1]: at x = 3..4 it predicts ~2.4-3.4 for
    # y = 5.5-9: far outside 5 %, every interval misses, and the error is many times the
    # training error.
    r = tf.evaluate(_linear_posterior_run(lambda x: x))
    (g,) = r.groups
    assert g["verdict"] == "not transferable"
    assert g["p_all_within_tolerance"] == 0.0 and g["coverage90"] == 0.0
    assert g["transferability_index"] > 10
    assert all(s["tail_p"] == 0.0 for s in r.states)
    assert "NOT TRANSFERABLE" in r.verdict_lines()[0]


def test_positive_control_true_model_transferable():
    # the true basis (1, x^2): extrapolation sd at x = 4 is ~0.15 against a 5 % tolerance of
    # 0.45, so every state passes; the predictive covers the held-out data.
    r = tf.evaluate(_linear_posterior_run(lambda x: x**2))
    (g,) = r.groups
    assert g["verdict"] == "transferable"
    assert g["p_all_within_tolerance"] > 0.9 and g["coverage90"] == 1.0
    assert r.training["y"]["coverage90"] >= 0.8


# --------------------------------------------------------------------------------------------
# compare: PSIS-LOO and leave-one-environment-out
# --------------------------------------------------------------------------------------------


def _ll_run(ll, y=None, T=None):
    """A run with only posterior, log_likelihood and observed_data (one target B2 on T)."""
    n = ll.shape[1]
    T = np.linspace(100.0, 550.0, n) if T is None else T
    y = np.linspace(-100.0, 20.0, n) if y is None else y
    target = {
        "name": "B2",
        "env_units": {"T_K": "K"},
        "train": {"env": {"T_K": T}, "y": y, "model": ll * 0, "rep": ll * 0, "ll": ll},
    }
    return build_run([target])


def _is_elpd(ll):
    """Plain importance-sampling LOO: log p(y_i | y_-i) = -log mean_s exp(-ll_si).

    PSIS only smooths the largest weights, so for log-likelihoods that vary little between
    draws (weights almost equal) it agrees with this closed form to well below 1e-3.
    """
    return -np.log(np.mean(np.exp(-ll), axis=0))


def test_compare_ranks_higher_likelihood_first():
    rng = np.random.default_rng(3)
    n, s = 10, 400
    ll_good = -1.0 + 0.01 * rng.standard_normal((s, n))
    ll_bad = -1.5 + 0.01 * rng.standard_normal((s, n)) - 0.05 * np.arange(n)
    res = tf.compare({"bad": _ll_run(ll_bad), "good": _ll_run(ll_good)})
    assert [r["run"] for r in res["ranking"]] == ["good", "bad"]
    ref_good, ref_bad = _is_elpd(ll_good), _is_elpd(ll_bad)
    assert res["loo"]["good"]["elpd"] == pytest.approx(ref_good.sum(), abs=1e-3)
    assert res["ranking"][1]["elpd_diff"] == pytest.approx(ref_good.sum() - ref_bad.sum(), 1e-3)
    # paired se of the difference, with the sample variance (Vehtari, Gelman and Gabry
    # 2017, eq. 24; ddof = 1 as arviz's own se): sqrt(n var_i(elpd_good,i - elpd_bad,i))
    dse = math.sqrt(n * np.var(ref_good - ref_bad, ddof=1))
    assert res["ranking"][1]["dse"] == pytest.approx(dse, rel=1e-2)
    assert res["loo"]["good"]["reliable"] and res["loo"]["good"]["n_data_points"] == n
    assert set(res["loo"]["good"]["pareto_k"]) == {f"B2[{i}]" for i in range(n)}
    assert res["weights"] is not None and res["weights"]["good"] > 0.5


def test_compare_leave_one_environment_out():
    rng = np.random.default_rng(4)
    n, s = 10, 400
    ll = -1.0 + 0.01 * rng.standard_normal((s, n))
    runs = {"a": _ll_run(ll), "b": _ll_run(ll - 0.1)}
    res = tf.compare(runs)
    # default: 5 contiguous bands of 2 rows along T (100, 150, ..., 550 K)
    labels = [g["label"] for g in res["loeo"]["groups"]]
    assert labels[0] == "B2 T 100-150 K" and len(labels) == 5
    assert [g["n_rows"] for g in res["loeo"]["groups"]] == [2] * 5
    # reference: IS-LOO on the log-likelihood summed within each band
    grouped = ll.reshape(s, 5, 2).sum(axis=-1)
    assert res["loeo"]["runs"]["a"]["elpd"] == pytest.approx(_is_elpd(grouped).sum(), abs=1e-3)
    assert [r["run"] for r in res["loeo"]["ranking"]] == ["a", "b"]
    assert res["loeo"]["ranking"][1]["elpd_diff"] == pytest.approx(1.0, abs=1e-3)  # 10 x 0.1
    assert set(res["loeo"]["runs"]["a"]["pareto_k"]) == set(labels)
    # explicit labels: rows 0-6 "cold", 7-9 "hot"
    res2 = tf.compare(runs, env_groups=["cold"] * 7 + ["hot"] * 3)
    assert [g["n_rows"] for g in res2["loeo"]["groups"]] == [7, 3]
    grouped2 = np.stack([ll[:, :7].sum(1), ll[:, 7:].sum(1)], axis=1)
    assert res2["loeo"]["runs"]["a"]["elpd"] == pytest.approx(_is_elpd(grouped2).sum(), abs=1e-3)
    with pytest.raises(tf.CompareError, match="labels for 10 training rows"):
        tf.compare(runs, env_groups=["x"] * 9)
    assert not any("one training row" in w for w in res["warnings"] + res2["warnings"])
    # more bands than rows (audit, 2026-11-28: --bands 1000 on 27 rows was LOO, unsaid)
    res3 = tf.compare(runs, env_groups=1000)
    assert len(res3["loeo"]["groups"]) == 10
    assert any("one training row (10 groups for 10 rows)" in w for w in res3["warnings"])


def test_compare_refuses_different_data():
    ll = -np.ones((50, 4)) + 0.01 * np.random.default_rng(5).standard_normal((50, 4))
    a = _ll_run(ll)
    b = _ll_run(ll, y=np.array([-100.0, -60.0, -20.0, 21.0]))
    with pytest.raises(tf.DifferentDataError, match="different data") as e:
        tf.compare({"a": a, "b": b})
    assert isinstance(e.value, BayesffError)  # the CLI prints it as one line
    c = _ll_run(ll, T=np.array([100.0, 200.0, 300.0, 401.0]))
    with pytest.raises(tf.DifferentDataError, match="different data"):
        tf.compare({"a": a, "c": c})
    with pytest.raises(tf.CompareError, match="at least one run"):
        tf.compare({})


def test_within_tolerance_but_overconfident_is_not_transferable():
    """Both criteria must hold: a group whose forward model is within 5 % in
    every draw (tolerance verdict "transferable") but whose 90 % predictive
    intervals miss all 5 observations (P(>= 5 outside | calibrated) = 1e-5,
    binomial with p = 0.1) is NOT transferable: it claims a precision it does
    not have."""
    y = np.full(5, 100.0)
    model = 101.0 + 0.001 * Z10[:, None] * np.ones((1, 5))  # 1 % off, P(within 5 %) = 1
    rep = model + 0.01 * Z10[:, None]  # intervals +/- 0.015 around 101: miss 100
    train_y = np.array([50.0, 60.0])
    dt = build_run(
        [
            {
                "name": "B2",
                "env_units": {"T_K": "K"},
                "train": {
                    "env": {"T_K": np.array([300.0, 400.0])},
                    "y": train_y,
                    "model": train_y + 0.01 * Z10[:, None],
                    "rep": train_y + Z10[:, None],
                    "ll": np.zeros((S, 2)),
                },
                "holdout": {
                    "env": {"T_K": np.arange(100.0, 150.0, 10.0)},
                    "group": ["g"] * 5,
                    "y": y,
                    "u": np.full(5, 0.01),
                    "model": model,
                    "rep": rep,
                },
            }
        ],
        tolerance={"B2": {"rel": 0.05}},
    )
    (g,) = tf.evaluate(dt).groups
    assert g["p_all_within_tolerance"] == 1.0
    assert g["n_inside90"] == 0
    assert g["verdict"] == "not transferable"
    assert "coverage" in g["verdict_basis"] and "the worse of the two" in g["verdict_basis"]


@pytest.mark.slow
def test_candidates_deterministic_rule_on_the_kappa_study(tmp_path):
    """The shipped kappa_T study: epsilon +/- 5 % fails the field's deterministic
    rule (|kappa - kappa_ref| / kappa_ref <= 5 %) at low T and at low T with
    high density and passes on the training states; the ground truth passes
    everywhere (the data are exact model values; tests/test_kappa_study.py
    checks the per-state pattern against the sensitivity formula)."""
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    from support import ROOT

    p = Problem.from_toml(ROOT / "models" / "lj_kappa_states.toml")
    run = calibrate(p, progress=False, log=None, chains=2, warmup=200, samples=200)
    res = tf.evaluate(run.datatree)
    by = {c["name"]: {(g["target"], g["group"]): g for g in c["groups"]} for c in res.candidates}
    assert all(g["verdict"] == "transferable" for g in by["ground truth"].values())
    for cand in ("epsilon +5 %", "epsilon -5 %"):
        assert by[cand][("kappa", "training")]["verdict"] == "transferable"
        assert by[cand][("kappa", "low T and high density")]["verdict"] == "not transferable"
        assert by[cand][("kappa", "low T")]["verdict"] == "not transferable"
    lines = res.verdict_lines()
    assert any(
        line.startswith("candidate 'ground truth'") and "passes everywhere" in line
        for line in lines
    )


def test_deterministic_rule_by_hand_with_excluded_rows():
    """The field's rule on named parameter sets, |f - y| <= abs + rel |y| per state.

    B2 at 200, 300 K (trained), 400 K (neither trained on nor held out: excluded) and
    100 K (held out). Candidate 'close' is off by 1 % everywhere: passes 5 %; 'far' is
    off by 10 % at 100 K only. The excluded row is labelled as such, not as training.
    """
    T = np.array([200.0, 300.0, 400.0, 100.0])
    y = np.array([-50.0, -20.0, -5.0, -180.0])
    t = _target(
        "B2",
        "second_virial",
        {"T_K": T},
        y,
        u=0.1,
        train=np.array([True, True, False, False]),
        holdout={"low T": np.array([False, False, False, True])},
        file_units={"T_K": "K"},
    )
    draws = {
        "B2": {
            "train": {"model": np.ones((S, 2)) * y[:2], "rep": y[:2] + Z10[:, None],
                      "ll": np.zeros((S, 2))},
            "holdout": {"model": np.ones((S, 1)) * y[3], "rep": y[3] + Z10[:, None]},
        }
    }  # fmt: skip
    cands = {
        "close": ({"epsilon": 120.0, "sigma": 3.4}, {"B2": y * 1.01}),
        "far": ({"epsilon": 130.0, "sigma": 3.4}, {"B2": y * np.array([1.0, 1.0, 1.0, 1.1])}),
    }
    dt = _write_run([t], draws, tolerance={"B2": {"rel": 0.05}}, candidates=cands)
    res = tf.deterministic_rule(dt)
    assert [c["name"] for c in res] == ["close", "far"]
    assert res[0]["parameters"] == {"epsilon": 120.0, "sigma": 3.4}
    assert res[0]["parameter_units"]["epsilon"] == "K"
    close, far = ({(s["group"], s["env"]["T_K"]): s for s in c["states"]} for c in res)
    assert set(close) == {("training", 200.0), ("training", 300.0), ("excluded", 400.0),
                          ("low T", 100.0)}  # fmt: skip
    assert all(s["verdict"] == "pass" for s in close.values())
    # (f - y) / |y| with f = 1.01 y and y = -180 < 0
    assert close["low T", 100.0]["rel_error"] == pytest.approx(-0.01)
    assert far["low T", 100.0]["verdict"] == "fail" and far["training", 200.0]["verdict"] == "pass"
    groups = {(g["group"]): g["verdict"] for g in res[1]["groups"]}
    assert groups == {"training": "transferable", "excluded": "transferable",
                      "low T": "not transferable"}  # fmt: skip
    # rel + abs: 10 % of 180 = 18 off; abs 20 on top of 5 % (9) -> width 29 -> passes
    res = tf.deterministic_rule(dt, tolerance={"B2": {"rel": 0.05, "abs": 20.0}})
    assert all(s["verdict"] == "pass" for s in res[1]["states"])
    line = tf.evaluate(dt).verdict_lines()
    assert "candidate 'far' (deterministic rule): fails in B2 low T" in line


# --------------------------------------------------------------------------------------------
# Monte Carlo error of the verdicts
# --------------------------------------------------------------------------------------------


def test_indicator_mcse_iid_and_autocorrelated():
    """The Monte Carlo standard error of a pass probability (the mean of 0/1 draws).

    References, closed forms: for independent Bernoulli(p) draws the standard error of the
    mean is sqrt(p (1 - p) / S); for a stationary two-state Markov chain that stays in its
    state with probability a (p = 1/2, lag-k autocorrelation rho^k with rho = 2a - 1) the
    asymptotic variance of the mean is p (1 - p) / S x (1 + rho) / (1 - rho), i.e. 3x the
    independent standard error at a = 0.9. Tolerance 15 %: the estimator's own scatter
    at S = 20000 (a few %) plus ArviZ's finite-sample ESS estimate."""
    rng = np.random.default_rng(1)
    chains, draws = 4, 5000
    iid = rng.random((chains * draws, 2)) < np.array([0.9, 0.5])
    se = tf.criteria.indicator_mcse(iid, chains)
    want = np.sqrt(np.array([0.9 * 0.1, 0.25]) / (chains * draws))
    assert se == pytest.approx(want, rel=0.15)
    a = 0.9
    x = np.empty((chains, draws), bool)
    x[:, 0] = rng.random(chains) < 0.5
    flips = rng.random((chains, draws)) > a
    for i in range(1, draws):
        x[:, i] = x[:, i - 1] ^ flips[:, i]
    se_ar = tf.criteria.indicator_mcse(x.reshape(-1, 1), chains)[0]
    rho = 2 * a - 1
    assert se_ar == pytest.approx(
        np.sqrt(0.25 / (chains * draws) * (1 + rho) / (1 - rho)), rel=0.15
    )
    # every draw agrees: no Monte Carlo error; draws that do not split into the chains
    assert tf.criteria.indicator_mcse(np.ones((40, 1), bool), 4)[0] == 0.0
    with pytest.raises(tf.criteria.CriteriaError, match="equal length"):
        tf.criteria.indicator_mcse(np.ones((10, 1)), 4)


def test_verdict_range_opens_only_verdicts_within_mc_error_of_a_threshold():
    """Hand cases against the thresholds (pass at P >= 0.9, fail at P <= 0.1, coverage by
    the binomial rule of docs/architecture.md; 2 standard errors): P = 0.91 +- 0.01 could be
    0.89 (uncertain) -> open; 0.95 +- 0.01 -> settled; 0.12 +- 0.02 could be 0.08 (fail).
    Coverage: three states, two certainly outside their 90 % interval (F = 0.999) and one
    at F = 0.951 +- 0.01 counted inside: P(X >= 2 | 3, 0.1) = 0.028 (uncertain) or, if it
    is outside, P(X >= 3 | 3, 0.1) = 0.001 (not transferable)."""
    vr = tf.criteria.verdict_range
    inside = np.array([True])
    mid = np.array([0.5])
    r = vr(np.array([0.91]), np.array([0.01]), mid, np.zeros(1), inside)
    assert (r["best"], r["worst"], r["settled"], r["n_states"]) == (
        "transferable",
        "uncertain",
        False,
        1,
    )
    r = vr(np.array([0.95]), np.array([0.01]), mid, np.zeros(1), inside)
    assert r["settled"] and r["best"] == "transferable" and r["n_states"] == 0
    r = vr(np.array([0.12]), np.array([0.02]), mid, np.zeros(1), inside)
    assert (r["best"], r["worst"]) == ("uncertain", "not transferable")
    f = np.array([0.999, 0.999, 0.951])
    r = vr(None, None, f, np.array([0.0, 0.0, 0.01]), np.array([False, False, True]))
    assert (r["best"], r["worst"], r["n_states"]) == ("uncertain", "not transferable", 1)
    r = vr(None, None, f, np.zeros(3), np.array([False, False, True]))
    assert r["settled"] and r["best"] == "uncertain"


def test_evaluate_reports_the_mc_error_of_each_state_and_group():
    """evaluate's Monte Carlo fields against ArviZ's mcse of the same indicator draws (the
    hand-built run has one chain of 10 draws) and against verdict_range on them: the 700 K
    state (P = 0.5: its first 5 draws within tolerance, the last 5 not, so strongly
    autocorrelated) has a standard error wide enough to reach 0.9 and 0.1 -> the 'high T'
    group is open; 'very high T' (every draw within) is settled."""
    dt, targets = _hand_run()
    r = tf.evaluate(dt)
    ho = targets[0]["holdout"]
    within = np.abs(ho["model"][:, 3] - ho["y"][3]) <= 0.05 * abs(ho["y"][3])
    want = float(arviz_stats.mcse(within.astype(float).reshape(1, -1, 1), method="mean")[0])
    s700 = next(s for s in r.states if s["env"] == {"T_K": 700.0})
    assert s700["p_within_mcse"] == pytest.approx(want, rel=1e-12)
    assert 0.5 - 2 * want <= 0.1 and 0.5 + 2 * want >= 0.9
    g = {x["group"]: x for x in r.groups if x["target"] == "B2"}
    assert not g["high T"]["mc_verdict"]["settled"]
    assert g["high T"]["mc_verdict"]["worst"] == "not transferable"
    assert g["very high T"]["mc_verdict"]["settled"]
    assert g["very high T"]["p_all_within_mcse"] == 0.0
    assert "within Monte Carlo error of a threshold" in "\n".join(r.verdict_lines())
