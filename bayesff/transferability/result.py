"""The result of :func:`bayesff.transferability.evaluate` and its plain-text forms."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bayesff.transferability.criteria import format_tolerance
from bayesff.transferability.thresholds import FAIL_PROB, PASS_PROB

__all__ = ["TransferabilityResult", "jsonable"]


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


def _fmt_num(x, digits: int) -> str:
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.{digits}e}"


def _group_line(g: dict) -> str:
    """``B2 low T (5 states, 85-105 K): NOT TRANSFERABLE — P(all within 5 %) = 0.00, ...``"""
    label = g["target"] if g["group"] == g["target"] else f"{g['target']} {g['group']}"
    head = f"{label} ({g['n']} state{'s' if g['n'] != 1 else ''}"
    head += f", {g['env_range']})" if g["env_range"] else ")"
    bits = []
    if g["tolerance"] is not None:
        tol = format_tolerance(g["tolerance"], g["unit"])
        bits.append(f"P(all within {tol}) = {g['p_all_within_tolerance']:.2f}")
    else:
        bits.append("no tolerance given (verdict from 90 % coverage)")
    bits.append(f"90 % coverage {g['n_inside90']}/{g['n']}")
    ti = g["transferability_index"]
    ti_rel = g.get("transferability_index_rel")
    if not g["trained"]:
        bits.append("transferability index n/a (target not trained)")
    elif ti is None and g.get("fraction_no_value", 0.0) >= 1.0:
        bits.append("transferability index undefined (no prediction)")
    elif ti is None and g.get("n_states_no_value", 0):
        bits.append("transferability index undefined (no prediction at some state)")
    elif ti is None:
        bits.append("transferability index undefined (zero training error)")
    else:
        # the absolute ratio also measures how the observable's size changes
        # between training and held-out rows; the relative one does not
        rel = "" if ti_rel is None else f", relative {ti_rel:.2g}"
        bits.append(f"transferability index {ti:.2g}{rel}")
    if g.get("n_states_no_value"):
        every = g["fraction_no_value"] >= 1.0
        bits.append(
            f"NO VALUE from the forward model for {'every draw' if every else 'some draws'} at "
            f"{g['n_states_no_value']} of {g['n']} states ({100 * g['fraction_no_value']:.3g} "
            "% of the values: above the model's Tc, outside its range or not converged), "
            "counted as outside tolerance"
        )
    mc = g.get("mc_verdict") or {}
    if mc and not mc["settled"]:
        bits.append(
            f"within Monte Carlo error of a threshold at {mc['n_states']} state(s): "
            f"{mc['best']} to {mc['worst']}"
        )
    return f"{head}: {g['verdict'].upper()} — {', '.join(bits)}"


def _conformer_line(c: dict) -> str:
    return (
        f"{c['target']} conformers at T = {c['T_K']:g} K, W = {c['W_kJ_per_mol']:g} "
        f"kJ/mol: {c['verdict'].upper()} — epsilon_p = {c['epsilon_p_mean']:.3f} "
        f"(P <= {c['eps_p_max']:g}: {c['P_epsilon_p']:.2f}), epsilon_G = "
        f"{c['epsilon_G_mean']:.2f} kJ/mol (P <= {c['eps_G_max']:g}: "
        f"{c['P_epsilon_G']:.2f})"
    )


def _candidate_line(c: dict) -> str:
    bad = [f"{g['target']} {g['group']}" for g in c["groups"] if g["n_pass"] < g["n"]]
    return f"candidate {c['name']!r} (deterministic rule): " + (
        f"fails in {', '.join(bad)}" if bad else "passes everywhere"
    )


@dataclass
class TransferabilityResult:
    """Transferability of one run (see :func:`bayesff.transferability.evaluate`).

    Attributes
    ----------
    states
        One dict per held-out state: ``target``, ``group``, ``env`` (column ->
        value in its file unit), ``observed``, ``u`` (standard uncertainty),
        ``unit``, ``pred_mean``, ``pred_sd``, ``pi50``, ``pi90`` (predictive
        intervals), ``model_mean``, ``model_pi90`` (noise-free forward model),
        ``rel_error`` (``(pred_mean - y)/|y|``), ``z``, ``tail_p``,
        ``tolerance``, ``p_within_tolerance`` (and its Monte Carlo standard error
        ``p_within_mcse``), ``inside50``, ``inside90``,
        ``verdict`` ("pass", "fail", "uncertain").
    groups
        One dict per (target, held-out group): ``n``, ``env_range``,
        ``p_all_within_tolerance``, ``coverage50``, ``coverage90``,
        ``n_inside90``, ``mean_abs_z``, ``transferability_index`` (and
        ``transferability_index_rel``), ``verdict`` ("transferable",
        "not transferable", "uncertain"), ``verdict_basis``, ``p_all_within_mcse``
        (Monte Carlo standard error of ``p_all_within_tolerance``) and ``mc_verdict``:
        the best and worst verdicts Monte Carlo error alone could give, whether they
        agree (``settled``) and at how many states
        (:func:`~bayesff.transferability.criteria.verdict_range`).
    training
        Per trained target: ``n``, ``rmse``, ``rel_rmse``, ``coverage50``,
        ``coverage90``, ``mean_abs_z``, ``p_all_within_tolerance``.
    joint
        ``P(every held-out state of every trained target with a tolerance is
        within it)`` from the same posterior draws, with the targets it covers;
        None when no target has a tolerance, training rows and held-out states.
    candidates
        The deterministic rule per candidate parameter set
        (:func:`~bayesff.transferability.deterministic_rule`).
    conformers
        epsilon_p / epsilon_G per environment of conformer-population targets
        (:func:`~bayesff.transferability.conformer_transferability`).
    pass_prob, fail_prob
        The state-verdict thresholds used.
    run
        The problem's name.
    notes
        Anything the numbers need said beside them.
    """

    states: list[dict]
    groups: list[dict]
    training: dict
    joint: dict | None = None
    candidates: list = field(default_factory=list)
    conformers: list = field(default_factory=list)
    pass_prob: float = PASS_PROB
    fail_prob: float = FAIL_PROB
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

        then one per held-out conformer environment, one per candidate
        parameter set, and the joint probability when it covers several targets.
        """
        lines = [_group_line(g) for g in self.groups]
        lines += [_conformer_line(c) for c in self.conformers if c.get("held_out", True)]
        lines += [_candidate_line(c) for c in self.candidates]
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
        rows = [_table_row(s) for s in self.states]
        widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
        out = [fmt.format(*head), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        out += [fmt.format(*r) for r in rows]
        return "\n".join(out)


def _table_row(s: dict) -> tuple:
    env = ", ".join(f"{_fmt_num(v, 4)}" for v in s["env"].values())
    return (
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
