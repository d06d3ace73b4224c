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
import re

import arviz_plots as azp
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from bayesff import runfile

__all__ = [
    "FIGURE_DPI",
    "Figure",
    "agg_backend",
    "figure_records",
    "make_figures",
    "png_bytes",
    "predictive_figure",
]

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
def agg_backend():
    """Draw with Agg whatever backend pyplot had; restore it afterwards."""

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


def png_bytes(fig) -> bytes:
    """A figure as PNG bytes at FIGURE_DPI; the figure is closed."""

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


def pair_parameters(dt) -> list[str]:
    """Variables of the pair plot: at most ``MAX_PAIR`` of :func:`shown_parameters`, the
    potential's own parameters first, then the others (inadequacy, nuisance and error-
    model terms) in run order. arviz-plots draws a full n x n grid and refuses more
    than 40 panels."""
    shown = shown_parameters(dt)
    try:
        own = [v for v in runfile.parameter_names(dt) if v in shown]
    except runfile.RunFileError:
        own = []
    return (own + [v for v in shown if v not in own])[:MAX_PAIR]


def _display_tree(dt, groups=("posterior", "prior"), variables=None):
    """A DataTree with the given groups only, variables renamed to ``name [unit]``.

    Units come from the posterior's ``units`` attributes; arviz-plots then
    prints them in every title and axis label. ``variables``: which ones
    (default :func:`shown_parameters`).
    """

    post = runfile.latents(dt, "posterior")
    names = {
        v: _label(v, post[v].attrs.get("units", ""))
        for v in (shown_parameters(dt) if variables is None else variables)
    }
    out = {}
    for g in groups:  # ArviZ's group names, which arviz-plots reads
        ds = runfile.latents(dt, g)
        if ds is not None:
            keep = [v for v in names if v in ds.data_vars]
            out[g] = ds[keep].rename({v: names[v] for v in keep})
    return xr.DataTree.from_dict(out)


#: Most parameters drawn in the per-parameter figures (arviz-plots refuses very many panels).
MAX_PLOTTED = 12
#: Most parameters in the pair plot (an n x n grid: 36 panels; arviz-plots' limit is 40).
MAX_PAIR = 6


def shown_parameters(dt) -> list[str]:
    """Posterior variables drawn in the parameter figures.

    All of them when there are at most ``MAX_PLOTTED``; otherwise the basis
    weights of a GP potential (``w_00``, ``w_01``, ...: standard-normal
    coordinates with no meaning one by one) are left out, then the list is cut
    at ``MAX_PLOTTED``. The tables of the report still list every parameter.
    """
    names = list(runfile.latents(dt, "posterior").data_vars)
    if len(names) <= MAX_PLOTTED:
        return names
    return [v for v in names if not re.fullmatch(r"w_\d+", v)][:MAX_PLOTTED]


def _wrapped_size(n: int, width: float = 9.0) -> tuple[float, float]:
    """Figure size for n panels wrapped three to a row."""
    return (width, 2.4 * -(-n // 3))


def _arviz_figure(plot, key, title, caption):

    fig = plot(azp).viz["figure"].item()
    return Figure(
        key=key, title=title, caption=caption, png=png_bytes(fig), made_with="arviz-plots"
    )


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
    shown = pair_parameters(dt)
    n = len(shown)

    def plot(azp):
        return azp.plot_pair(
            _display_tree(dt, ("posterior",), shown),
            backend="matplotlib",
            visuals={"scatter": {"alpha": 0.15, "s": 4}},
            figure_kwargs={"figsize": (min(9.0, 2.6 * n + 1), min(9.0, 2.6 * n))},
        )

    left = [v for v in shown_parameters(dt) if v not in shown]
    note = f" Not shown (at most {MAX_PAIR} fit the grid): {', '.join(left)}." if left else ""
    return _arviz_figure(
        plot,
        "pair",
        "Pair plot",
        "Joint posterior draws of each pair of parameters (lower triangle) and marginals "
        "(diagonal). Divergent transitions are counted in the diagnostics table." + note,
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


def _one_chain():
    return Figure(
        key="rank",
        title="Rank plot",
        caption="",
        error="not drawn: a rank plot compares chains and this run has one (run with "
        "chains >= 2 to see whether the chains sample the same distribution)",
        made_with="",
    )


def _segments(x: np.ndarray, labels: np.ndarray):
    """Index arrays of consecutive runs of the same label (x sorted)."""
    out, start = [], 0
    for i in range(1, len(x) + 1):
        if i == len(x) or labels[i] != labels[start]:
            out.append((labels[start], np.arange(start, i)))
            start = i
    return out


def _arrays(rows: list[dict]) -> dict[str, np.ndarray]:
    """Columns of a list of predictive rows (summary.json ``predictive``)."""
    return {
        "x": np.array([r["x"] for r in rows], float),
        "obs": np.array([r["observed"] for r in rows], float),
        "u": np.array([np.nan if r["u"] is None else r["u"] for r in rows], float),
        # quantiles 5, 25, 75, 95 % of the posterior predictive
        # float: an interval is null where some draw had no value (numpy makes None NaN)
        "q": np.array(
            [[r["pi90"][0], r["pi50"][0], r["pi50"][1], r["pi90"][1]] for r in rows], float
        ).T,
        "mean": np.array([r["model_mean"] for r in rows], float),
        "group": np.array([r.get("group", "training") for r in rows], dtype=object),
    }


def _parts(pred: dict) -> list[tuple[str, str, dict]]:
    """(kind, group, columns) of the training rows and of each held-out segment (x sorted)."""
    parts = []
    if pred["training"]:
        a = _arrays(pred["training"])
        order = np.argsort(a["x"], kind="stable")
        parts.append(("train", "training", {k: v[..., order] for k, v in a.items()}))
    if pred["held_out"]:
        a = _arrays(pred["held_out"])
        order = np.argsort(a["x"], kind="stable")
        a = {k: v[..., order] for k, v in a.items()}
        for g, idx in _segments(a["x"], a["group"]):
            parts.append(("holdout", str(g), {k: v[..., idx] for k, v in a.items()}))
    return parts


def _shade(ax, axr, kind: str, g: str, x: np.ndarray, once) -> None:
    """Shade a region half a spacing beyond its end points, so adjacent regions meet."""
    lo, hi = x.min(), x.max()
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


def _draw_part(ax, axr, kind: str, a: dict, once, points: bool, tol: dict) -> None:
    """Bands, model mean, observations and tolerance envelope of one region."""
    x, obs, u, q = a["x"], a["obs"], a["u"], a["q"]
    for axis, qq in ((ax, q), (axr, q - obs)):
        axis.fill_between(x, qq[0], qq[3], color=_BAND_COLOUR, alpha=0.2, lw=0, zorder=1)
        axis.fill_between(x, qq[1], qq[2], color=_BAND_COLOUR, alpha=0.4, lw=0, zorder=1)
    ax.fill_between([], [], [], color=_BAND_COLOUR, alpha=0.2, label=once("90 % predictive"))
    ax.fill_between([], [], [], color=_BAND_COLOUR, alpha=0.4, label=once("50 % predictive"))
    # rows that are not a continuum (row order): points, not lines
    line = dict(ls="none", marker="_", ms=9) if points else dict(lw=1.2)
    label = once("model, posterior mean")
    ax.plot(x, a["mean"], color=_BAND_COLOUR, zorder=2, label=label, **line)
    axr.plot(x, a["mean"] - obs, color=_BAND_COLOUR, zorder=2, **line)
    if kind == "train":
        style = dict(fmt="o", color="black", ms=3.5, label=once("observed (training)"))
    else:
        style = dict(
            fmt="s", mfc="white", color=_HOLDOUT_COLOUR, ms=4, label=once("observed (held out)")
        )
    ax.errorbar(x, obs, yerr=u, capsize=2, lw=1, zorder=3, **style)
    style.pop("label")
    axr.errorbar(x, np.zeros_like(x), yerr=u, capsize=2, lw=1, zorder=3, **style)
    if tol:
        env = float(tol.get("rel", 0.0)) * np.abs(obs) + float(tol.get("abs", 0.0))
        axr.plot(x, env, color="0.3", ls="--", lw=0.9, label=once("tolerance"))
        axr.plot(x, -env, color="0.3", ls="--", lw=0.9)


def _tolerance_text(tol: dict) -> str:
    if not tol:
        return ""
    parts = []
    if "abs" in tol:
        parts.append(f"{tol['abs']:g} (absolute)")
    if "rel" in tol:
        parts.append(f"{100 * tol['rel']:g} % of |observed|")
    return f" Tolerance: |predicted - observed| <= {' + '.join(parts)} (dashed)."


def predictive_figure(target: str, pred: dict, info: dict, tolerance: dict | None) -> Figure:
    """Posterior predictive bands of one target against its environment coordinate.

    Parameters
    ----------
    target
        Target name.
    pred
        Its ``predictive`` section of summary.json: ``x_label``, ``x_column``,
        ``x_continuous`` and the ``training`` and ``held_out`` rows (x, observation, u,
        predictive 50 % and 90 % intervals, model mean, group).
    info
        Its ``targets`` entry of summary.json (unit).
    tolerance
        Its tolerance (``rel``, ``abs`` or both) or None.

    Top: 50 % and 90 % central bands of the posterior predictive (replicated
    data, model inadequacy included) at the training and held-out
    environments, the posterior mean of the model and the observations with
    their standard uncertainties. Bottom: the same bands as predicted minus
    observed, with the tolerance envelope (``abs + rel * |obs|``) when the
    problem states one. The training region is shaded blue, held-out
    regions orange.
    """

    unit, tol = info.get("unit", ""), tolerance or {}
    fig, (ax, axr) = plt.subplots(
        2, 1, figsize=(8.0, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    labelled = set()

    def once(label):
        if label in labelled:
            return None
        labelled.add(label)
        return label

    points = not pred.get("x_continuous", False)
    for kind, g, a in _parts(pred):
        _shade(ax, axr, kind, g, a["x"], once)
        _draw_part(ax, axr, kind, a, once, points, tol)
    ax.set_ylabel(_label(target, unit))
    axr.set_ylabel(_label("predicted - observed", unit))
    axr.axhline(0.0, color="0.5", lw=0.6)
    axr.set_xlabel(pred["x_label"])
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    if tol:
        axr.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return Figure(
        key=f"predictive_{target}",
        title=f"Posterior predictive: {target}",
        caption=(
            f"{target} against {pred['x_label']}: 50 % and 90 % central bands of the posterior "
            "predictive (model plus noise and inferred inadequacy) at training environments "
            "and of the predictions at held-out environments; line: posterior mean of the "
            "model; points: observations with standard uncertainties (training filled, held "
            f"out open). Bottom: predicted minus observed.{_tolerance_text(tol)}"
        ),
        png=png_bytes(fig),
        made_with="matplotlib",
    )


def make_figures(dt, summary: dict, log=None) -> list[Figure]:
    """All figures of the report, in page order.

    Parameter figures are drawn from the run's posterior and prior draws
    (:func:`bayesff.runfile.latents`), predictive figures from the summary's
    ``predictive`` section. A figure that fails to draw is returned with
    ``error`` set (and no PNG) so the page says so in place of the image;
    the caller logs it and records it in summary.json. Nothing is skipped
    silently.
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
    if runfile.latents(dt, "prior") is None:
        makers.pop(1)
    chains = dt["posterior"].sizes.get("chain", 1) if "posterior" in dt.children else 1
    if chains < 2:  # ranks compare chains; arviz-plots' test needs two or more
        makers = [(k, t, _one_chain) if k == "rank" else (k, t, m) for k, t, m in makers]
    for t, pred in summary["predictive"].items():
        makers.append(
            (
                f"predictive_{t}",
                f"Posterior predictive: {t}",
                lambda t=t, pred=pred: predictive_figure(
                    t, pred, summary["targets"][t], summary["tolerance"].get(t)
                ),
            )
        )
    out = []
    with agg_backend():
        for key, title, make in makers:
            try:
                out.append(make())
            except Exception as exc:  # reported on the page and in summary.json
                msg = f"{type(exc).__name__}: {exc}"
                log(f"report: figure {key!r} failed: {msg}")
                out.append(Figure(key=key, title=title, caption="", error=msg, made_with=""))
    return out


def figure_records(figures) -> list[dict]:
    """What summary.json records of each figure: key, title, library and error."""
    return [
        {
            "key": f["key"],
            "title": f["title"],
            "made_with": f.get("made_with", ""),
            "error": f.get("error"),
        }
        for f in figures
    ]
