"""Figures of the report, as PNG bytes (embedded base64 in the page).

Posterior marginals, prior against posterior, the pair plot, the trace and the
rank plot are drawn by arviz-plots (matplotlib backend); the posterior
predictive bands against each target's environment coordinate are plain
matplotlib (arviz-plots has no plot of predictive bands against a coordinate
with training and held-out regions).

Every figure is drawn with matplotlib's non-interactive Agg backend (pyplot is
switched to it for the duration, then back) and closed after it is rendered,
so building a report opens no window and leaks no figure.
"""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np

from bayesff.transferability import holdout_groups

__all__ = ["FIGURE_DPI", "Figure", "make_figures", "predictive_figure"]

#: Resolution of every embedded PNG. 100 dpi keeps the page under 1 MB.
FIGURE_DPI = 100

_TRAIN_SHADE = "#dbe9f6"
_HOLDOUT_SHADE = "#fde3cf"
_BAND_COLOUR = "#1f77b4"
_HOLDOUT_COLOUR = "#d95f02"


class Figure(dict):
    """One figure of the report: ``key``, ``title``, ``caption``, ``png`` (bytes) or ``error``.

    ``made_with`` says which library drew it ("arviz-plots" or "matplotlib").
    """


@contextlib.contextmanager
def _agg_backend():
    """Draw with Agg whatever backend pyplot had; restore it afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    switch = before.lower() != "agg"
    if switch:
        plt.switch_backend("Agg")
    try:
        yield
    finally:
        if switch:
            with contextlib.suppress(Exception):
                plt.switch_backend(before)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _label(name: str, unit: str) -> str:
    # "/" is not allowed in xarray variable names (the label becomes one):
    # U+2215 DIVISION SLASH looks the same on the page.
    unit = unit.replace("/", "\u2215") if unit else unit
    return f"{name} [{unit}]" if unit and unit != "1" else name


def _display_tree(dt, groups=("posterior", "prior")):
    """A DataTree with the given groups only, variables renamed to ``name [unit]``.

    Units come from the posterior's ``units`` attributes; arviz-plots then
    prints them in every title and axis label.
    """
    import xarray as xr

    post = dt["posterior"].to_dataset()
    names = {v: _label(v, post[v].attrs.get("units", "")) for v in shown_parameters(dt)}
    out = {}
    for g in groups:
        if g in dt.children:
            ds = dt[g].to_dataset()
            out[g] = ds[[v for v in names if v in ds.data_vars]].rename(
                {v: names[v] for v in names if v in ds.data_vars}
            )
    return xr.DataTree.from_dict(out)


#: Most parameters drawn in the per-parameter figures (arviz-plots refuses very many panels).
MAX_PLOTTED = 12


def shown_parameters(dt) -> list[str]:
    """Posterior variables drawn in the parameter figures.

    All of them when there are at most ``MAX_PLOTTED``; otherwise the basis
    weights of a GP potential (``w_00``, ``w_01``, ...: standard-normal
    coordinates with no meaning one by one) are left out, then the list is cut
    at ``MAX_PLOTTED``. The tables of the report still list every parameter.
    """
    names = list(dt["posterior"].data_vars)
    if len(names) <= MAX_PLOTTED:
        return names
    return [v for v in names if not re.fullmatch(r"w_\d+", v)][:MAX_PLOTTED]


def _wrapped_size(n: int, width: float = 9.0) -> tuple[float, float]:
    """Figure size for n panels wrapped three to a row."""
    return (width, 2.4 * -(-n // 3))


def _arviz_figure(plot, key, title, caption):
    import arviz_plots as azp

    fig = plot(azp).viz["figure"].item()
    return Figure(key=key, title=title, caption=caption, png=_png(fig), made_with="arviz-plots")


def _marginals(dt, n):
    def plot(azp):
        return azp.plot_dist(
            _display_tree(dt, ("posterior",)),
            backend="matplotlib",
            ci_prob=0.9,
            point_estimate="mean",
            visuals={"point_estimate_text": False},
            col_wrap=3,
            figure_kwargs={"figsize": _wrapped_size(n)},
        )

    return _arviz_figure(
        plot,
        "marginals",
        "Posterior marginals",
        "Kernel density of each parameter's posterior (all chains); the bar is the 90 % "
        "equal-tailed interval and the dot the mean.",
    )


def _prior_posterior(dt, n):
    def plot(azp):
        return azp.plot_prior_posterior(
            _display_tree(dt),
            backend="matplotlib",
            col_wrap=3,
            figure_kwargs={"figsize": _wrapped_size(n, 9.6)},
        )

    return _arviz_figure(
        plot,
        "prior_posterior",
        "Prior against posterior",
        "Prior density (draws of the prior group) and posterior density on the prior's "
        "range: how much the data narrowed each parameter.",
    )


def _pair(dt, n):
    def plot(azp):
        return azp.plot_pair(
            _display_tree(dt, ("posterior",)),
            backend="matplotlib",
            visuals={"scatter": {"alpha": 0.15, "s": 4}},
            figure_kwargs={"figsize": (min(9.0, 2.6 * n + 1), min(9.0, 2.6 * n))},
        )

    return _arviz_figure(
        plot,
        "pair",
        "Pair plot",
        "Joint posterior draws of each pair of parameters (lower triangle) and marginals "
        "(diagonal). Divergent transitions are counted in the diagnostics table.",
    )


def _trace(dt, n):
    def plot(azp):
        return azp.plot_trace_dist(
            _display_tree(dt, ("posterior",)),
            backend="matplotlib",
            figure_kwargs={"figsize": (9.0, 1.8 * n + 0.6)},
        )

    return _arviz_figure(
        plot,
        "trace",
        "Trace",
        "Per-chain densities (left) and draws in order (right); chains that agree overlap.",
    )


def _rank(dt, n):
    def plot(azp):
        return azp.plot_rank(
            _display_tree(dt, ("posterior",)),
            backend="matplotlib",
            col_wrap=3,
            figure_kwargs={"figsize": _wrapped_size(n)},
        )

    return _arviz_figure(
        plot,
        "rank",
        "Rank plot",
        "Fractional rank ECDF difference per chain (arviz-plots plot_rank; Vehtari et al. "
        "2021, Säilynoja et al. 2022). Chains that sample the same distribution stay "
        "near zero; p is the simultaneous uniformity test, with points outside its "
        "envelope marked.",
    )


def _quantiles(draws: np.ndarray, qs=(0.05, 0.25, 0.75, 0.95)) -> np.ndarray:
    flat = draws.reshape(-1, draws.shape[-1])
    return np.quantile(flat, qs, axis=0)


def _segments(x: np.ndarray, labels: np.ndarray):
    """Index arrays of consecutive runs of the same label (x sorted)."""
    out, start = [], 0
    for i in range(1, len(x) + 1):
        if i == len(x) or labels[i] != labels[start]:
            out.append((labels[start], np.arange(start, i)))
            start = i
    return out


def _varying_column(dt, target: str, env_cols) -> str | None:
    """The single environment column whose value varies over a target's rows, if any."""
    varying = []
    for c in env_cols:
        vals = []
        for group in ("constant_data", "predictions_constant_data"):
            if group in dt.children and f"{target}_{c}" in dt[group].data_vars:
                vals.append(np.asarray(dt[group][f"{target}_{c}"].values, float))
        if vals and np.ptp(np.concatenate(vals)) > 0:
            varying.append(c)
    return varying[0] if len(varying) == 1 else None


def predictive_figure(dt, target: str, info: dict, tolerance: dict | None) -> Figure:
    """Posterior predictive bands of one target against its environment coordinate.

    Top: 50 % and 90 % central bands of the posterior predictive (replicated
    data, model inadequacy included) at the training environments and of the
    ``predictions`` group at the held-out ones, the posterior mean of the model
    (``<target>_model``) and the observations with their standard
    uncertainties. Bottom: the same bands as predicted minus observed, with the
    tolerance envelope (``rel * |obs| + abs``) when the problem states one.
    The training region is shaded blue, held-out regions orange.
    """
    import matplotlib.pyplot as plt

    d = info["dim"]
    unit = info.get("unit", "")
    env_cols = info.get("env_columns", [])
    env_units = info.get("env_units", {})
    # the x axis: the environment coordinate itself, or, for a multi-column environment,
    # the one column that varies over the target's rows (q of S(q) at one state, T of a
    # saturation line); row order only when none or several vary.
    xcol = _varying_column(dt, target, env_cols) if d == "environment" else None
    if d != "environment" and len(env_cols) == 1:
        xlabel = _label(d, env_units.get(env_cols[0], ""))
    elif xcol is not None:
        xlabel = _label(xcol, env_units.get(xcol, ""))
    else:
        xlabel = "environment: training rows first, then held-out rows (see the tables)"

    parts = []  # (kind, group, x, obs, u, y_rep draws, model draws)
    if "posterior_predictive" in dt.children and target in dt["posterior_predictive"].data_vars:
        pp = dt["posterior_predictive"]
        x = np.asarray(pp[target][d].values, float)
        if xcol is not None:
            x = np.asarray(dt["constant_data"][f"{target}_{xcol}"].values, float)
        parts.append(
            (
                "train",
                "training",
                x,
                np.asarray(dt["observed_data"][target].values, float),
                np.asarray(dt["constant_data"][f"{target}_u"].values, float),
                np.asarray(pp[target].values, float),
                np.asarray(pp[f"{target}_model"].values, float),
            )
        )
    if "predictions" in dt.children and target in dt["predictions"].data_vars:
        pr = dt["predictions"]
        pc = dt["predictions_constant_data"]
        x = np.asarray(pr[target][d].values, float)
        if xcol is not None:
            x = np.asarray(pc[f"{target}_{xcol}"].values, float)
        elif d == "environment" and parts:
            x = x + len(parts[0][2])  # held-out rows after the training rows
        groups = np.asarray(holdout_groups(dt, target)).astype(str)
        order = np.argsort(x, kind="stable")
        y_rep = np.asarray(pr[target].values, float)[..., order]
        mod = np.asarray(pr[f"{target}_model"].values, float)[..., order]
        obs = np.asarray(pc[f"{target}_observed"].values, float)[order]
        u = np.asarray(pc[f"{target}_u"].values, float)[order]
        x, groups = x[order], groups[order]
        for g, idx in _segments(x, groups):
            parts.append(("holdout", g, x[idx], obs[idx], u[idx], y_rep[..., idx], mod[..., idx]))

    tol = (tolerance or {}).get(target) or {}
    fig, (ax, axr) = plt.subplots(
        2, 1, figsize=(8.0, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    labelled = set()

    def once(label):
        if label in labelled:
            return None
        labelled.add(label)
        return label

    for kind, g, x, obs, u, y_rep, mod in parts:
        if len(x) == 0:
            continue
        lo, hi = x.min(), x.max()
        # shade half a spacing beyond the end points, so adjacent regions meet
        step = np.diff(x) if len(x) > 1 else np.array([max(abs(lo) * 0.02, 1.0)])
        pad_lo, pad_hi = 0.5 * step[0], 0.5 * step[-1]
        shade = _TRAIN_SHADE if kind == "train" else _HOLDOUT_SHADE
        region = "training region" if kind == "train" else "held-out region"
        for a in (ax, axr):
            a.axvspan(lo - pad_lo, hi + pad_hi, color=shade, lw=0, zorder=0)
        ax.axvspan(lo - pad_lo, lo - pad_lo, color=shade, label=once(region))
        if kind == "holdout":
            ax.text(
                0.5 * (lo + hi),
                1.0,
                g,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=8,
                color=_HOLDOUT_COLOUR,
            )
        q = _quantiles(y_rep)
        qd = _quantiles(y_rep - obs)
        colour = _BAND_COLOUR
        for a, qq in ((ax, q), (axr, qd)):
            a.fill_between(x, qq[0], qq[3], color=colour, alpha=0.2, lw=0, zorder=1)
            a.fill_between(x, qq[1], qq[2], color=colour, alpha=0.4, lw=0, zorder=1)
        ax.fill_between([], [], [], color=colour, alpha=0.2, label=once("90 % predictive"))
        ax.fill_between([], [], [], color=colour, alpha=0.4, label=once("50 % predictive"))
        mean = mod.reshape(-1, mod.shape[-1]).mean(axis=0)
        # rows of a multi-column environment are not a continuum: points, not lines
        points = d == "environment" and xcol is None
        line = dict(ls="none", marker="_", ms=9) if points else dict(lw=1.2)
        ax.plot(x, mean, color=colour, zorder=2, label=once("model, posterior mean"), **line)
        axr.plot(x, mean - obs, color=colour, zorder=2, **line)
        style = (
            dict(fmt="o", color="black", ms=3.5, label=once("observed (training)"))
            if kind == "train"
            else dict(
                fmt="s",
                mfc="white",
                color=_HOLDOUT_COLOUR,
                ms=4,
                label=once("observed (held out)"),
            )
        )
        ax.errorbar(x, obs, yerr=u, capsize=2, lw=1, zorder=3, **style)
        style.pop("label")
        axr.errorbar(x, np.zeros_like(x), yerr=u, capsize=2, lw=1, zorder=3, **style)
        if tol:
            env = float(tol.get("rel", 0.0)) * np.abs(obs) + float(tol.get("abs", 0.0))
            axr.plot(x, env, color="0.3", ls="--", lw=0.9, label=once("tolerance"))
            axr.plot(x, -env, color="0.3", ls="--", lw=0.9)
    ax.set_ylabel(_label(target, unit))
    axr.set_ylabel(_label("predicted - observed", unit))
    axr.axhline(0.0, color="0.5", lw=0.6)
    axr.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    if tol:
        axr.legend(fontsize=8, loc="best")
    fig.tight_layout()
    tol_txt = f" Tolerance: {json.dumps(tol)} (rel: fraction of |observed|)." if tol else ""
    return Figure(
        key=f"predictive_{target}",
        title=f"Posterior predictive: {target}",
        caption=(
            f"{target} against {xlabel}: 50 % and 90 % central bands of the posterior "
            "predictive (model plus noise and inferred inadequacy) at training environments "
            "and of the predictions at held-out environments; line: posterior mean of the "
            "model; points: observations with standard uncertainties (training filled, held "
            f"out open). Bottom: predicted minus observed.{tol_txt}"
        ),
        png=_png(fig),
        made_with="matplotlib",
    )


def make_figures(dt, targets: dict, tolerance: dict | None, log=None) -> list[Figure]:
    """All figures of the report, in page order.

    A figure that fails to draw is returned with ``error`` set (and no PNG) so
    the page says so in place of the image; the caller logs it and records it
    in summary.json. Nothing is skipped silently.
    """
    log = log or (lambda *a, **k: None)
    n = len(shown_parameters(dt))
    makers = [
        ("marginals", "Posterior marginals", lambda: _marginals(dt, n)),
        ("prior_posterior", "Prior against posterior", lambda: _prior_posterior(dt, n)),
        ("pair", "Pair plot", lambda: _pair(dt, n)),
        ("trace", "Trace", lambda: _trace(dt, n)),
        ("rank", "Rank plot", lambda: _rank(dt, n)),
    ]
    if "prior" not in dt.children:
        makers.pop(1)
    for t, info in targets.items():
        makers.append(
            (
                f"predictive_{t}",
                f"Posterior predictive: {t}",
                lambda t=t, info=info: predictive_figure(dt, t, info, tolerance),
            )
        )
    out = []
    with _agg_backend():
        for key, title, make in makers:
            try:
                out.append(make())
            except Exception as exc:  # reported on the page and in summary.json
                msg = f"{type(exc).__name__}: {exc}"
                log(f"report: figure {key!r} failed: {msg}")
                out.append(Figure(key=key, title=title, caption="", error=msg, made_with=""))
    return out
