"""The report's sensitivity section: which target drives which parameter, and the priors.

:func:`sensitivity_section` returns the HTML of the section (headed
``<h2 id="sensitivity">``) for a run: the findings in words, the power-scaling
table, the leave-one-target-out table, and ArviZ's power-scaling figures
(``arviz_plots.plot_psense_dist`` and ``plot_psense_quantities``, one pair for all
components and one figure per target) with a plain matplotlib figure of the
leave-one-target-out intervals, all as embedded PNG. :func:`sensitivity_record` is
the same numbers for ``summary.json``. The numbers come from
:func:`bayesff.sensitivity.sensitivity`, with ``refit="cached"`` by default: the
report never samples, it uses refits kept beside the run by ``bayesff sensitivity``
and flags the importance-sampling estimates that need one.
"""

from __future__ import annotations

import base64
import html

import arviz_plots as azp
import matplotlib.pyplot as plt
import numpy as np

from bayesff.report.plots import agg_backend, png_bytes
from bayesff.sensitivity import (
    K_REFIT,
    SENSITIVE,
    SensitivityError,
    psense_view,
    read_run,
    sensitivity,
)

__all__ = ["sensitivity_record", "sensitivity_section"]


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _figure(key: str, title: str, caption: str, made_with: str, draw) -> str:
    """A ``<figure>`` with the PNG embedded, or a line saying why it failed to draw."""
    try:
        png = png_bytes(draw())
    except Exception as exc:  # shown in place of the image, never hidden
        return (
            f'<figure id="fig-{_e(key)}"><div class="err">{_e(title)}: the figure failed '
            f"to draw ({_e(type(exc).__name__)}: {_e(exc)}).</div></figure>"
        )
    b64 = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="fig-{_e(key)}"><img src="data:image/png;base64,{b64}" alt="{_e(title)}">'
        f"<figcaption><strong>{_e(title)}.</strong> {_e(caption)} <span class='muted'>(drawn "
        f"with {_e(made_with)})</span></figcaption></figure>"
    )


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{_e(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _psense_table(res) -> str:
    head = ["parameter", "mean", "sd", "all priors", "own prior", "likelihood"]
    head += [f"{t}" for t in res.targets] + ["diagnosis"]
    rows = []
    for p in res.parameters:
        own = res.by_prior.get(p, {}).get(p)
        rows.append(
            [
                p if res.units.get(p) in ("", "1") else f"{p} [{res.units[p]}]",
                f"{res.posterior[p]['mean']:.5g}",
                f"{res.posterior[p]['sd']:.3g}",
                f"{res.prior[p]:.3f}",
                "flat" if p in res.flat_priors else ("-" if own is None else f"{own:.3f}"),
                f"{res.likelihood[p]:.3f}",
                *(f"{res.by_target[t][p]:.3f}" for t in res.targets),
                res.diagnosis(p),
            ]
        )
    return _table(head, rows)


def _left_out_table(res) -> str:
    head = ["left out", "Pareto k", "method"]
    for p in res.parameters:
        head += [f"{p} mean", f"{p} shift (sd)", f"{p} sd ratio"]
    rows = []
    for t, lo in res.left_out.items():
        row = [t, "-" if not np.isfinite(lo.pareto_k) else f"{lo.pareto_k:.2f}", lo.shown_method]
        for p in res.parameters:
            row += [f"{lo.mean[p]:.5g}", f"{lo.shift[p]:+.2f}", f"{lo.widen[p]:.2f}"]
        rows.append(row)
    return _table(head, rows)


def _left_out_figure(res):
    """Posterior 90 % intervals and means with every target and without each one."""

    params = res.parameters
    labels = ["all targets", *(f"without {t}" for t in res.left_out)]
    size = (3.2 * len(params) + 0.6, 0.45 * len(labels) + 1.2)
    fig, axes = plt.subplots(1, len(params), figsize=size, squeeze=False)
    for ax, p in zip(axes[0], params, strict=True):
        rows = [(res.posterior[p]["mean"], res.posterior[p]["q05"], res.posterior[p]["q95"], "k")]
        for lo in res.left_out.values():
            unreliable = lo.method == "psis, unreliable" or lo.diagnostics
            colour = "#d95f02" if unreliable else "#1f77b4"
            rows.append((lo.mean[p], lo.q05[p], lo.q95[p], colour))
        for i, (m, a, b, c) in enumerate(rows):
            ax.plot([a, b], [i, i], color=c, lw=2)
            ax.plot([m], [i], "o", color=c)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0][0] else [""] * len(labels))
        ax.invert_yaxis()
        unit = res.units.get(p, "")
        ax.set_xlabel(f"{p} [{unit}]" if unit and unit != "1" else p)
    fig.tight_layout()
    return fig


def _view(dt, res):

    # flat priors add a constant to the summed log prior: no effect on the weights
    sites = list(dt["log_prior"].to_dataset().data_vars)
    return psense_view(dt, res.parameters, sites, res.targets)


def sensitivity_section(run, result=None, *, refit="cached", log=None) -> str:
    """The report's "Sensitivity" section (HTML) for a run.

    Parameters
    ----------
    run
        A run file path, a :class:`~bayesff.inference.Run` or a run DataTree.
    result
        A :class:`~bayesff.sensitivity.SensitivityResult` already computed for
        this run (default: computed here with ``refit``).
    refit
        Passed to :func:`bayesff.sensitivity.sensitivity` when ``result`` is not
        given; ``"cached"`` (default) never samples.
    log
        Where progress lines go.

    Returns
    -------
    str
        ``<h2 id="sensitivity">`` and its content, with figures embedded as PNG;
        a run without ``log_prior`` or ``log_likelihood`` groups gives a short
        section saying so.
    """

    head = '<h2 id="sensitivity">Sensitivity: which data drive which parameter</h2>'
    dt, _ = read_run(run)
    if result is None:
        try:
            result = sensitivity(run, refit=refit, log=log)
        except SensitivityError as e:
            return f"{head}<p>Not available: {_e(e)}.</p>"
    res = result
    words = _findings(res)
    figs = _figures(dt, res)
    parts = [
        head,
        _intro(),
        words,
        "<h3>Power-scaling sensitivity</h3>",
        _psense_table(res),
    ]
    if res.left_out:
        parts += ["<h3>Leaving one target out</h3>", _left_out_table(res)]
    parts += figs
    return "".join(parts)


def _intro() -> str:
    """The paragraph saying what the section's numbers are."""

    return (
        "<p>Power-scaling sensitivity (Kallioinen et al., Stat. Comput. 34, 57 (2024), "
        "doi:10.1007/s11222-023-10366-5; computed by ArviZ's <code>psense</code>): how much "
        "each parameter's posterior moves when the priors, the whole likelihood or one "
        "target's likelihood is raised to a power near 1, estimated by Pareto-smoothed "
        f"importance weights. {SENSITIVE} or more counts as sensitive; a flat (uniform) "
        "prior cannot be power-scaled and is judged by how much of the posterior lies at "
        "its bounds. Leaving one target out: its likelihood removed by Pareto-smoothed "
        f"importance sampling, or sampled again where Pareto k > {K_REFIT} "
        "(<code>bayesff sensitivity RUN</code> keeps the refits beside the run).</p>"
    )


def _findings(res) -> str:
    """The findings in words, as a list."""
    words = "".join(f"<li>{_e(line)}</li>" for line in res.lines())
    return f"<ul>{words}</ul>"


def _figures(dt, res) -> list[str]:
    """The section's figures (ArviZ power-scaling plots, leave-one-target-out intervals)."""
    figs = []
    if len(res.parameters) and len(dt["posterior"].to_dataset().data_vars):
        with agg_backend():
            figs += _psense_figures(dt, res)
            if res.left_out:
                figs.append(_left_out_figure_html(res))
    return figs


def _psense_figures(dt, res) -> list[str]:
    """ArviZ's power-scaling figures: all components, then one per target."""

    view = _view(dt, res)
    size = {"figsize": (9.0, 1.9 * len(res.parameters) + 0.6)}

    def arviz(plot, **kw):
        def draw():
            pc = plot(
                view,
                var_names=res.parameters,
                backend="matplotlib",
                figure_kwargs=size,
                **kw,
            )
            return pc.viz["figure"].item()

        return draw

    figs = [
        _figure(
            "psense_dist",
            "Power-scaled posteriors",
            "Each parameter's posterior with the priors (left) or the whole "
            "likelihood (right) raised to the power 0.8, 1 and 1.25 (importance "
            "weights). Curves that move mean sensitivity.",
            "arviz-plots",
            arviz(azp.plot_psense_dist),
        ),
        _figure(
            "psense_quantities",
            "Power-scaled mean and sd",
            "Posterior mean and sd of each parameter against the power applied "
            "to the priors and to the likelihood; dashed lines: +/- 2 Monte Carlo "
            "standard errors.",
            "arviz-plots",
            arviz(azp.plot_psense_quantities),
        ),
    ]
    if len(res.targets) > 1:
        for t in res.targets:
            figs.append(
                _figure(
                    f"psense_{t}",
                    f"Power-scaling target {t}",
                    f"As the first figure, with only {t}'s likelihood power-scaled "
                    "(right column).",
                    "arviz-plots",
                    arviz(azp.plot_psense_dist, likelihood_var_names=[t]),
                )
            )
    return figs


def _left_out_figure_html(res) -> str:
    """The leave-one-target-out intervals as an embedded figure."""

    return _figure(
        "left_out",
        "Leaving one target out",
        "Posterior mean and 90 % interval with every target (black) and "
        "without each one (blue; orange where the importance weights are "
        f"unreliable, Pareto k > {K_REFIT}, and no refit was kept).",
        "matplotlib",
        lambda: _left_out_figure(res),
    )


def sensitivity_record(result) -> dict:
    """The section's numbers for ``summary.json`` (:meth:`SensitivityResult.to_dict`)."""
    return result.to_dict()
