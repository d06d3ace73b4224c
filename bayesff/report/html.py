"""The report page: one self-contained HTML file rendered from summary.json.

Every number on the page comes from the summary dictionary
(:func:`bayesff.report.summary.build_summary`) and is written as
``<span data-ref="PATH" data-value="JSON">shown text</span>``, where PATH is
the number's place in summary.json (``transferability.states.3.pi90.0``), so a
reader or a test can tie each shown number to its exact value. Figures are
PNGs embedded as base64 ``data:`` URIs; there is no external script,
stylesheet or font, so the page opens offline. A small inline script records,
on load, whether every image decoded and whether any script error or console
error happened, as attributes of ``<body>`` (``data-images-ok="6/6"``,
``data-errors="0"``); the browser test reads them.
"""

from __future__ import annotations

import base64
import json
import math
from html import escape

__all__ = ["fmt_number", "fmt_percent", "fmt_probability", "render"]

_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 0 24px 48px; color: #1b1b1b; line-height: 1.45; }
h1 { margin-top: 24px; font-size: 1.7em; } h2 { border-bottom: 1px solid #ccc;
     padding-bottom: 4px; margin-top: 36px; } h3 { margin-top: 24px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.88em; }
th, td { border: 1px solid #d0d0d0; padding: 3px 7px; vertical-align: top; }
th { background: #f2f2f2; text-align: left; } td.num { text-align: right;
     font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.v-pass td, .v-pass, tr.v-transferable td { background: #e3f4e1; }
tr.v-fail td, .v-fail, tr.v-not-transferable td { background: #fbe0e0; }
tr.v-uncertain td, .v-uncertain { background: #fff3cd; }
table.states { font-size: 0.8em; } .scroll { overflow-x: auto; }
td.bad { background: #fbe0e0; font-weight: bold; }
.verdict { font-weight: bold; text-transform: uppercase; font-size: 0.9em; }
.warn { background: #fff3cd; border-left: 4px solid #e0a800; padding: 6px 12px; }
.ok { background: #e3f4e1; border-left: 4px solid #3c9a3c; padding: 6px 12px; }
.err { background: #fbe0e0; border-left: 4px solid #c0392b; padding: 6px 12px; }
figure { margin: 16px 0 28px; } figure img { max-width: 100%; height: auto;
     border: 1px solid #eee; } figcaption { font-size: 0.88em; color: #444; max-width: 900px; }
pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 0.82em; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px;
     border: 1px solid #ccc; font-size: 0.85em; }
nav a { margin-right: 12px; } dl { margin: 4px 0 12px; } dt { font-weight: bold; }
dd { margin: 0 0 6px 18px; } .muted { color: #666; font-size: 0.88em; }
"""

# Runs before anything else: counts script and console errors, then on load checks that
# every <img> decoded. Results go on <body> for headless tests; nothing is shown.
_CHECK_JS = """
(function () {
  var errors = [];
  function note() {
    if (document.body) document.body.setAttribute("data-errors", String(errors.length));
  }
  window.addEventListener("error", function (e) {
    var t = e.target;
    errors.push(t && t !== window && t.tagName ? "failed to load " + t.tagName
                                                : String(e.message));
    note();
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled rejection: " + String(e.reason)); note();
  });
  var consoleError = console.error;
  console.error = function () {
    errors.push(Array.prototype.join.call(arguments, " ")); note();
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var imgs = document.images, ok = 0, bad = [];
    for (var i = 0; i < imgs.length; i++) {
      if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; else bad.push(imgs[i].alt || i);
    }
    var b = document.body;
    b.setAttribute("data-images-ok", ok + "/" + imgs.length);
    b.setAttribute("data-images-failed", bad.join("; "));
    b.setAttribute("data-error-messages", errors.join(" | "));
    note();
    b.setAttribute("data-render-check", "done");
  });
})();
"""


# --------------------------------------------------------------------------------------------
# Number formatting (the test reads numbers back with the same rules)
# --------------------------------------------------------------------------------------------


def _finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def fmt_number(x, digits: int = 4) -> str:
    """``digits`` significant digits; ``-`` for a missing value."""
    if not _finite(x):
        return "-" if x is None else str(x)
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def fmt_probability(p) -> str:
    """Three significant digits (probabilities from S draws resolve 1/S)."""
    return fmt_number(p, 3)


def fmt_percent(x) -> str:
    """A fraction as a percentage with three significant digits."""
    return "-" if not _finite(x) else f"{100 * x:.3g} %"


def _fmt_by_sd(x, sd) -> str:
    """To the precision the posterior spread supports (two significant digits of sd)."""
    if not _finite(x):
        return fmt_number(x)
    if _finite(sd) and sd > 0:
        decimals = max(0, 1 - math.floor(math.log10(sd)))
        return f"{x:.{min(decimals, 8)}f}"
    return f"{x:.6g}"


_FORMATS = {"num": fmt_number, "prob": fmt_probability, "pct": fmt_percent}


def _n(value, ref: str, kind: str = "num", text: str | None = None) -> str:
    """A number with its summary.json path and exact value."""
    shown = text if text is not None else _FORMATS[kind](value)
    return (
        f'<span class="n" data-ref="{escape(ref)}" data-value="{escape(json.dumps(value))}">'
        f"{escape(shown)}</span>"
    )


def _td(value, ref, kind="num", cls="num", text=None) -> str:
    return f'<td class="{cls}">{_n(value, ref, kind, text)}</td>'


def _pair(values, ref, kind="num") -> str:
    lo, hi = values
    return f'<td class="num">[{_n(lo, f"{ref}.0", kind)}, {_n(hi, f"{ref}.1", kind)}]</td>'


def _pm(value, sd, ref, sd_ref) -> str:
    """``value ± sd`` in one cell (sd to three significant digits)."""
    return (
        f'<td class="num">{_n(value, ref)} &plusmn; {_n(sd, sd_ref, text=fmt_number(sd, 3))}</td>'
    )


def _e(x) -> str:
    return escape(str(x))


def _table(head: list[str], rows: list[str], cls: str = "") -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _unit(u: str) -> str:
    return "" if u in ("", "1") else f" {_e(u)}"


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _glance(s: dict) -> str:
    out = []
    d = s["diagnostics"]
    if d["ok"]:
        out.append('<p class="ok">Sampler diagnostics: all checks passed.</p>')
    else:
        items = "".join(f"<li>{_e(w)}</li>" for w in d["warnings"])
        out.append(
            '<div class="warn"><strong>Sampler diagnostics raised warnings</strong>; '
            f"treat the numbers below with care:<ul>{items}</ul></div>"
        )
    tr = s["transferability"]
    if tr:
        lines = "".join(f"<li>{_e(x)}</li>" for x in tr["verdict_lines"])
        out.append(f"<p><strong>Transferability:</strong></p><ul>{lines}</ul>")
    else:
        out.append("<p>No held-out environments: transferability was not assessed.</p>")
    bad = [f for f in s["figures"] if f["error"]]
    if bad:
        items = "".join(f"<li>{_e(f['title'])}: {_e(f['error'])}</li>" for f in bad)
        out.append(f'<div class="err">Figures that failed to draw:<ul>{items}</ul></div>')
    return "".join(out)


def _tol_cell(tol: dict | None, ref: str, unit: str, rel_text: str = " of |observed|") -> str:
    """A tolerance ``a + r |y|`` with its numbers tied to summary.json; "none" without one."""
    if not tol:
        return "none"
    parts = []
    if "abs" in tol:
        parts.append(_n(tol["abs"], f"{ref}.abs") + _unit(unit))
    if "rel" in tol:
        parts.append(_n(tol["rel"], f"{ref}.rel", "pct") + rel_text)
    return " + ".join(parts)


def _potential(p: dict) -> str:
    pot = p.get("potential") or {}
    src = pot.get("module", "")
    if pot.get("qualname"):
        src = f"{src}:{pot['qualname']}" if src else pot["qualname"]
    ver = f", version {_e(pot['version'])}" if pot.get("version") else ""
    kind = (
        f" (kind {_e(pot['kind'])})" if pot.get("kind") and pot["kind"] != pot.get("name") else ""
    )
    return (
        f"<p>Potential: <strong>{_e(pot.get('name', ''))}</strong>{kind}, from "
        f"<code>{_e(src)}</code>{ver}.</p>"
    )


def _target_row(s: dict, t: str, info: dict) -> str:
    units = info.get("env_units", {})
    env = ", ".join(f"{c} [{units.get(c, '')}]" for c in info["env_columns"])
    inad = info.get("inadequacy") or {}
    inad_t = _e(inad.get("kind", ""))
    if inad.get("kind") not in (None, "none"):
        inad_t += f" ({_e(inad.get('form', ''))}, prior scale "
        inad_t += _n(inad.get("prior_scale"), f"targets.{t}.inadequacy.prior_scale") + ")"
        if inad.get("shared"):
            inad_t += f", shared as tau_{_e(inad['shared'])}"
    tol_t = _tol_cell(s["tolerance"].get(t), f"tolerance.{t}", info["unit"])
    excl = info["excluded_rows"]
    excl_cls = "num bad" if excl else "num"
    return (
        f"<tr><td>{_e(t)}</td><td>{_e(info.get('observable', ''))}</td>"
        f"<td>{_e(info['unit'])}</td><td>{_e(env)}</td>"
        f"{_td(info['n_train'], f'targets.{t}.n_train')}"
        f"{_td(info['n_holdout'], f'targets.{t}.n_holdout')}"
        f"{_td(excl, f'targets.{t}.excluded_rows', cls=excl_cls)}"
        f"<td>{_e(', '.join(info.get('holdout_groups', [])))}</td>"
        f"<td>{inad_t}</td><td>{tol_t}</td><td>{_e(info.get('data', ''))}</td></tr>"
    )


def _excluded(s: dict) -> str:
    """Data rows neither trained on nor held out, with the reasons the loader gave."""
    out = []
    for t, info in s["targets"].items():
        if not info["excluded_rows"] and not info["excluded_lines"]:
            continue
        items = "".join(f"<li>{_e(x)}</li>" for x in info["excluded_lines"])
        out.append(
            f"<div class='warn'><strong>{_e(t)}</strong>: "
            + _e(info["excluded_rows"])
            + " data row(s) neither trained on nor held out"
            + (f"; lines left out of the data file:<ul>{items}</ul>" if items else ".")
            + "</div>"
        )
    return "".join(out)


def _problem(s: dict) -> str:
    p = s["problem"]
    rows = [_target_row(s, t, info) for t, info in s["targets"].items()]
    table = _table(
        [
            "target",
            "observable",
            "unit",
            "environment",
            "training rows",
            "held-out rows",
            "excluded rows",
            "held-out groups",
            "model inadequacy",
            "tolerance",
            "data file",
        ],
        rows,
    )
    return (
        f'<h2 id="problem">Problem</h2><p><strong>{_e(p["name"])}</strong>: '
        f"{_e(p['description'])}</p>{_potential(p)}{table}{_excluded(s)}"
        f"<details><summary>Problem file <code>{_e(p.get('path', ''))}</code></summary>"
        f"<pre>{_e(p['text'])}</pre></details>"
    )


def _provenance(s: dict) -> str:
    out = ['<h2 id="data">Data and provenance</h2>']
    for t, p in s["provenance"].items():
        out.append(f"<h3>{_e(t)}</h3>")
        if not p:
            out.append('<p class="warn">No provenance recorded for this target.</p>')
            continue
        items = []
        for k, v in p.items():
            if isinstance(v, dict):
                v = ", ".join(f"{a}: {b}" for a, b in v.items())
            items.append(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>")
        out.append(f"<dl>{''.join(items)}</dl>")
    return "".join(out)


#: The run's ``sampler`` as the page names it.
_SAMPLERS = {
    "nuts": "NUTS",
    "chees": "ChEES-HMC",
    "tempered": "NUTS within parallel tempering",
}


def _tempering_row(t: dict | None) -> str:
    """The replica ladder of a tempered run and how often neighbours exchanged."""

    if not t:
        return ""
    rates = " / ".join(
        _n(x, f"run.tempering.swap_acceptance.{i}", "prob")
        for i, x in enumerate(t["swap_acceptance"])
    )
    steps = " / ".join(
        _n(x, f"run.tempering.replica_leapfrog_steps.{i}", text=f"{x:,}")
        for i, x in enumerate(t["replica_leapfrog_steps"])
    )
    return (
        "<tr><th>replicas</th><td>"
        + _n(t["temperatures"], "run.tempering.temperatures")
        + " per chain, temperatures 1 to "
        + _n(t["max_temperature"], "run.tempering.max_temperature")
        + " (geometric); exchange acceptance between neighbours, coldest first: "
        + (rates or "none")
        + "; leapfrog steps per replica, coldest first: "
        + (steps or "none")
        + "</td></tr>"
    )


def _run(s: dict) -> str:
    r = s["run"]
    sampler = r.get("sampler", "nuts")
    rows = [
        f"<tr><th>run file</th><td>{_e(r['path'])}</td></tr>",
        f"<tr><th>sha256</th><td><code>{_e(r['sha256'])}</code></td></tr>",
        f"<tr><th>created</th><td>{_e(r.get('created_utc', ''))}</td></tr>",
        "<tr><th>sampler</th><td>"
        + _e(_SAMPLERS.get(sampler, sampler))
        + ", "
        + _n(r["chains"], "run.chains")
        + " chains x ("
        + _n(r["warmup"], "run.warmup")
        + " warm-up + "
        + _n(r["samples"], "run.samples")
        + " draws), seed "
        + _n(r["seed"], "run.seed")
        + ("" if r.get("float64", True) else ", float32")
        + "</td></tr>",
        _tempering_row(r.get("tempering")),
        f"<tr><th>device</th><td>{_e(r['device'])} on {_e(r.get('host', ''))}</td></tr>",
        "<tr><th>wall time</th><td>"
        + _n(r.get("wall_time_s"), "run.wall_time_s")
        + " s (sampling "
        + _n(r.get("sampling_time_s"), "run.sampling_time_s")
        + " s)</td></tr>",
        "<tr><th>packages</th><td>"
        + _e(", ".join(f"{k} {v}" for k, v in r.get("package_versions", {}).items()))
        + "</td></tr>",
    ]
    return f'<h2 id="run">Run</h2><table>{"".join(rows)}</table>'


def _diagnostics(s: dict) -> str:
    d = s["diagnostics"]
    th = d["thresholds"]
    rows = []
    for i, p in enumerate(s["parameters"]):
        rh, eb = p["rhat"], p["ess_bulk"]
        bad_r = _finite(rh) and "rhat_max" in th and rh > th["rhat_max"]
        bad_e = _finite(eb) and "ess_bulk_min" in th and eb < th["ess_bulk_min"]
        rows.append(
            f"<tr><td>{_e(p['name'])}</td>"
            + _td(rh, f"parameters.{i}.rhat", cls="num bad" if bad_r else "num")
            + _td(eb, f"parameters.{i}.ess_bulk", cls="num bad" if bad_e else "num")
            + _td(p.get("ess_tail"), f"parameters.{i}.ess_tail")
            + "</tr>"
        )
    table = _table(["parameter", "R-hat", "bulk ESS", "tail ESS"], rows)
    ebfmi = ", ".join(
        _n(b, f"diagnostics.ebfmi.{i}", text=fmt_number(b, 3)) for i, b in enumerate(d["ebfmi"])
    )
    thr = (
        "Thresholds: R-hat &le; "
        + _n(th.get("rhat_max"), "diagnostics.thresholds.rhat_max")
        + ", bulk ESS &ge; "
        + _n(th.get("ess_bulk_min"), "diagnostics.thresholds.ess_bulk_min")
        + ", no divergent transitions, E-BFMI &ge; "
        + _n(th.get("ebfmi_min"), "diagnostics.thresholds.ebfmi_min")
        + " per chain (Vehtari et al. 2021; Betancourt 2016)."
    )
    if d["warnings"]:
        warn = '<div class="warn"><ul>' + "".join(f"<li>{_e(w)}</li>" for w in d["warnings"])
        warn += "</ul></div>"
    else:
        warn = '<p class="ok">All diagnostics within their thresholds.</p>'
    return (
        f'<h2 id="diagnostics">Diagnostics</h2>{warn}{table}'
        f"<p>Divergent transitions: {_n(d['divergences'], 'diagnostics.divergences')} of "
        f"{_n(d['n_draws_total'], 'diagnostics.n_draws_total')} draws. "
        f"E-BFMI per chain: {ebfmi}.</p><p class='muted'>{thr}</p>"
    )


def _parameters(s: dict) -> str:
    rows = []
    for i, p in enumerate(s["parameters"]):
        sd = p["sd"]
        cells = "".join(
            _td(p[k], f"parameters.{i}.{k}", text=_fmt_by_sd(p[k], sd))
            for k in ("mean", "sd", "q05", "q50", "q95")
        )
        pr = p.get("prior")
        if pr:
            prior = (
                _td(pr["mean"], f"parameters.{i}.prior.mean")
                + '<td class="num">['
                + _n(pr["q05"], f"parameters.{i}.prior.q05")
                + ", "
                + _n(pr["q95"], f"parameters.{i}.prior.q95")
                + "]</td>"
            )
        else:
            prior = "<td>-</td><td>-</td>"
        unit = "" if p["unit"] == "1" else p["unit"]
        rows.append(f"<tr><td>{_e(p['name'])}</td><td>{_e(unit)}</td>{cells}{prior}</tr>")
    return _table(
        ["parameter", "unit", "mean", "sd", "5 %", "50 %", "95 %", "prior mean", "prior 90 %"],
        rows,
    )


def _figure(f: dict) -> str:
    if f.get("error"):
        return (
            f'<figure id="fig-{_e(f["key"])}"><div class="err">{_e(f["title"])}: '
            f"the figure failed to draw ({_e(f['error'])}).</div></figure>"
        )
    b64 = base64.b64encode(f["png"]).decode("ascii")
    return (
        f'<figure id="fig-{_e(f["key"])}"><img src="data:image/png;base64,{b64}" '
        f'alt="{_e(f["title"])}"><figcaption><strong>{_e(f["title"])}.</strong> '
        f"{_e(f['caption'])} <span class='muted'>(drawn with {_e(f['made_with'])})</span>"
        "</figcaption></figure>"
    )


_VERDICT_CLS = {
    "pass": "v-pass",
    "fail": "v-fail",
    "uncertain": "v-uncertain",
    "transferable": "v-transferable",
    "not transferable": "v-not-transferable",
}


def _candidate_row(i: int, cands: list[dict], bayes: dict) -> str:
    """State i of every candidate: prediction, relative error and verdict, beside the
    posterior's P(within tolerance) of the same held-out state."""
    st = cands[0]["states"][i]
    ref0 = f"transferability.candidates.0.states.{i}"
    env = ", ".join(_n(v, f"{ref0}.env.{c}") for c, v in st["env"].items())
    cells = ""
    for ci, c in enumerate(cands):
        cs = c["states"][i]
        ref = f"transferability.candidates.{ci}.states.{i}"
        cells += (
            f'<td class="num {_VERDICT_CLS.get(cs["verdict"], "")}">'
            + _n(cs["predicted"], f"{ref}.predicted")
            + " ("
            + _n(cs["rel_error"], f"{ref}.rel_error", "pct")
            + f") {_e(cs['verdict'])}</td>"
        )
    key = (st["target"], st["group"], tuple(st["env"].values()))
    if key in bayes:
        j, pw = bayes[key]
        cells += _td(pw, f"transferability.states.{j}.p_within_tolerance", "prob")
    else:
        cells += f"<td class='muted'>{_e(st['group'])}</td>"
    return (
        f"<tr><td>{_e(st['target'])}</td><td>{_e(st['group'])}</td>"
        f"<td class='num'>{env}</td>" + _td(st["observed"], f"{ref0}.observed") + cells + "</tr>"
    )


def _candidates(tr: dict) -> list[str]:
    """The field's deterministic rule for candidate parameter sets, state by state,
    beside the posterior's tolerance probability (its Bayesian version)."""
    cands = tr.get("candidates") or []
    if not cands:
        return []
    bayes = {
        (st["target"], st["group"], tuple(st["env"].values())): (i, st["p_within_tolerance"])
        for i, st in enumerate(tr["states"])
    }
    shown, left = _shown_states(cands[0]["states"])
    rows = [_candidate_row(i, cands, bayes) for i in shown]
    cols = ", ".join(_e(c) for c in cands[0]["states"][0]["env"]) if cands[0]["states"] else ""
    head = ["target", "group", f"environment ({cols})", "observed"]
    head += [f"{_e(c['name'])}: predicted (rel. error)" for c in cands]
    head.append("posterior P(within tolerance)")
    params = "; ".join(
        f"{_e(c['name'])}: "
        + ", ".join(
            f"{_e(k)} = {_e(v)}{_unit(c.get('parameter_units', {}).get(k, ''))}"
            for k, v in c["parameters"].items()
        )
        for c in cands
    )
    return [
        "<h3>Candidate parameter sets: the deterministic rule</h3>",
        _left_out_note(left),
        "<p>Each candidate passes a state when |f(candidate) - observed| &le; abs + rel "
        f"|observed|, the target's tolerance (the field's rule). Candidates: {params}. The "
        "last column is the Bayesian version from the posterior (held-out states only).</p>",
        f'<div class="scroll">{_table(head, rows, "candidates")}</div>',
    ]


#: Held-out states shown per target in the page's state tables; the rest are in
#: summary.json (a force target has one state per force component: thousands).
MAX_STATES_SHOWN = 200


def _shown_states(states: list[dict]) -> tuple[list[int], dict[str, int]]:
    """Indices of the states shown (the first MAX_STATES_SHOWN of each target), and the
    number left out per target."""
    count: dict[str, int] = {}
    shown, left = [], {}
    for i, st in enumerate(states):
        count[st["target"]] = count.get(st["target"], 0) + 1
        if count[st["target"]] <= MAX_STATES_SHOWN:
            shown.append(i)
        else:
            left[st["target"]] = left.get(st["target"], 0) + 1
    return shown, left


def _left_out_note(left: dict[str, int]) -> str:
    if not left:
        return ""
    items = ", ".join(f"{_e(t)}: {n}" for t, n in left.items())
    return (
        f"<p class='muted'>Only the first {MAX_STATES_SHOWN} states of each target are shown; "
        f"left out here (every one is in summary.json): {items}.</p>"
    )


def _transferability_intro(tr: dict) -> str:
    return (
        '<p class="legend">Colours: <span class="v-pass">pass / transferable</span>'
        '<span class="v-uncertain">uncertain</span>'
        '<span class="v-fail">fail / not transferable</span></p>'
        "<p>A held-out state <em>passes</em> when the posterior probability that the "
        "force field (the noise-free forward model) predicts it within tolerance, "
        "|predicted - observed| &le; abs + rel |observed|, is at least "
        + _n(tr.get("pass_prob"), "transferability.pass_prob")
        + ", <em>fails</em> when it is at most "
        + _n(tr.get("fail_prob"), "transferability.fail_prob")
        + ", and is <em>uncertain</em> in between. Predictive intervals and coverage use the "
        "posterior predictive (model plus measurement noise and inferred inadequacy). "
        "Transferability index: RMSE of the posterior-mean model on the held-out group over "
        "its RMSE on the training rows (rel.: the same with relative errors).</p>"
    )


def _group_row(j: int, g: dict) -> str:
    ref = f"transferability.groups.{j}"
    tol_t = _tol_cell(g.get("tolerance"), f"{ref}.tolerance", g.get("unit", ""), " rel.")
    return (
        f'<tr class="{_VERDICT_CLS.get(g["verdict"], "")}" data-group="{j}">'
        f"<td>{_e(g['target'])}</td><td>{_e(g['group'])}</td>"
        f"<td>{_e(g.get('env_range', ''))}</td>"
        + _td(g["n"], f"{ref}.n")
        + f"<td>{tol_t}</td>"
        + _p_mc(g, "p_all_within_tolerance", "p_all_within_mcse", ref)
        + _td(g["coverage50"], f"{ref}.coverage50", "prob")
        + _td(g["coverage90"], f"{ref}.coverage90", "prob")
        + _td(g.get("n_inside90"), f"{ref}.n_inside90")
        + _td(g.get("mean_abs_z"), f"{ref}.mean_abs_z", text=fmt_number(g.get("mean_abs_z"), 3))
        + _td(g["transferability_index"], f"{ref}.transferability_index", "prob")
        + _td(g.get("transferability_index_rel"), f"{ref}.transferability_index_rel", "prob")
        + '<td class="num">'
        + " / ".join(_n(g.get(k), f"{ref}.{k}") for k in ("n_pass", "n_uncertain", "n_fail"))
        + "</td>"
        + _no_value_cell(g, ref)
        + f'<td class="verdict">{_e(g["verdict"])}{_mc_range(g, ref)}</td></tr>'
    )


def _no_value_cell(g: dict, ref: str) -> str:
    """States where the forward model gave no value for some draws, and the fraction of
    values without one (counted as outside tolerance); empty for older runs."""
    if "n_states_no_value" not in g:
        return "<td></td>"
    n = _n(g["n_states_no_value"], f"{ref}.n_states_no_value")
    frac = _n(g["fraction_no_value"], f"{ref}.fraction_no_value", "prob")
    return f'<td class="num">{n} ({frac})</td>'


def _p_mc(row: dict, key: str, mcse_key: str, ref: str) -> str:
    """A probability with its Monte Carlo standard error, when the run has one."""
    se = row.get(mcse_key)
    tail = "" if se is None else " &plusmn; " + _n(se, f"{ref}.{mcse_key}", text=fmt_number(se, 2))
    return f'<td class="num">{_n(row[key], f"{ref}.{key}", "prob")}{tail}</td>'


def _mc_range(g: dict, ref: str) -> str:
    """The verdicts Monte Carlo error alone could give, where they differ."""
    mc = g.get("mc_verdict") or {}
    if not mc:
        return ""
    n = _n(mc.get("n_states"), f"{ref}.mc_verdict.n_states")
    if mc.get("settled", True):
        return f"<br><small>settled ({n} state(s) within MC error of a threshold)</small>"
    return (
        f"<br><small>within MC error: {_e(mc['best'])} to {_e(mc['worst'])} "
        f"({n} state(s) near a threshold)</small>"
    )


def _groups_table(tr: dict) -> str:
    rows = [_group_row(j, g) for j, g in enumerate(tr["groups"])]
    head = [
        "target",
        "group",
        "environments",
        "states",
        "tolerance",
        "P(all within tolerance)",
        "50 % coverage",
        "90 % coverage",
        "inside 90 %",
        "mean |z|",
        "transferability index",
        "index (rel.)",
        "pass / uncertain / fail",
        "no model value: states (fraction of values)",
        "verdict",
    ]
    out = ["<h3>Held-out groups</h3>", f'<div class="scroll">{_table(head, rows)}</div>']
    bases = dict.fromkeys(g.get("verdict_basis", "") for g in tr["groups"])
    out += [f"<p class='muted'>Verdict rule: {_e(b)}.</p>" for b in bases if b]
    joint = tr.get("joint")
    if joint:
        out.append(
            "<p>Joint: probability that every held-out state of "
            f"{_e(' and '.join(joint['targets']))} ("
            + _n(joint["n_states"], "transferability.joint.n_states")
            + " states) is within tolerance, from the same posterior draws: "
            + _n(
                joint["p_all_within_tolerance"],
                "transferability.joint.p_all_within_tolerance",
                "prob",
            )
            + ".</p>"
        )
    return "".join(out)


def _state_row(s: dict, i: int, st: dict) -> str:
    ref = f"transferability.states.{i}"
    units = s["targets"].get(st["target"], {}).get("env_units", {})
    env = ", ".join(
        _n(v, f"{ref}.env.{c}") + _unit(units.get(c, "")) for c, v in st["env"].items()
    )
    return (
        f'<tr class="{_VERDICT_CLS.get(st["verdict"], "")}" data-state="{i}">'
        f"<td>{_e(st['target'])}</td><td>{_e(st['group'])}</td><td class='num'>{env}</td>"
        + _pm(st["observed"], st["u"], f"{ref}.observed", f"{ref}.u")
        + _pm(st["pred_mean"], st["pred_sd"], f"{ref}.pred_mean", f"{ref}.pred_sd")
        + _pair(st["pi50"], f"{ref}.pi50")
        + _pair(st["pi90"], f"{ref}.pi90")
        + '<td class="num">'
        + _n(st["model_mean"], f"{ref}.model_mean")
        + " ["
        + _n(st["model_pi90"][0], f"{ref}.model_pi90.0")
        + ", "
        + _n(st["model_pi90"][1], f"{ref}.model_pi90.1")
        + "]</td>"
        + _td(st["rel_error"], f"{ref}.rel_error", "pct")
        + _td(st["z"], f"{ref}.z", text=fmt_number(st["z"], 3))
        + _td(st["tail_p"], f"{ref}.tail_p", "prob")
        + _p_mc(st, "p_within_tolerance", "p_within_mcse", ref)
        + _no_value_td(st, ref)
        + f'<td class="verdict">{_e(st["verdict"])}</td></tr>'
    )


def _no_value_td(st: dict, ref: str) -> str:
    """The fraction of draws at which the forward model gave no value (the state's means
    are over the others); absent from summaries written before 2026-11-29."""
    if "fraction_no_value" not in st:
        return "<td></td>"
    return _td(st["fraction_no_value"], f"{ref}.fraction_no_value", "pct")


def _states_table(s: dict) -> str:
    tr = s["transferability"]
    shown, left = _shown_states(tr["states"])
    rows = [_state_row(s, i, tr["states"][i]) for i in shown]
    head = [
        "target",
        "group",
        "environment",
        "observed &plusmn; u",
        "predicted mean &plusmn; sd",
        "predicted 50 %",
        "predicted 90 %",
        "model mean [90 %]",
        "rel. error",
        "z",
        "tail p",
        "P(within tolerance)",
        "no value",
        "verdict",
    ]
    return (
        "<h3>Held-out states (environment x target)</h3>"
        + _left_out_note(left)
        + f'<div class="scroll">{_table(head, rows, "states")}</div>'
        + "<p class='muted'>observed and u (standard uncertainty) from the data file; "
        "predicted: posterior predictive mean, sd and central intervals; model: the noise-free "
        "forward model over posterior draws; rel. error = (predicted mean - observed)/"
        "|observed|; z = (observed - predicted mean)/predicted sd; tail p: two-sided posterior "
        "predictive tail probability; no value: the fraction of draws at which the forward "
        "model gave none (outside its range, above the model's Tc, not converged), counted "
        "as outside tolerance and outside the predictive intervals, the means, sd, z and "
        "tail p being over the other draws. Units: those of each target (table above).</p>"
    )


def _training_table(tr: dict) -> str:
    if not tr.get("training"):
        return ""
    rows = []
    for t, r in tr["training"].items():
        ref = f"transferability.training.{t}"
        rows.append(
            f"<tr><td>{_e(t)}</td>"
            + _td(r.get("n"), f"{ref}.n")
            + '<td class="num">'
            + _n(r.get("rmse"), f"{ref}.rmse", text=fmt_number(r.get("rmse"), 3))
            + f"{_unit(r.get('unit', ''))}</td>"
            + _td(r.get("rel_rmse"), f"{ref}.rel_rmse", "pct")
            + _td(r.get("coverage50"), f"{ref}.coverage50", "prob")
            + _td(r.get("coverage90"), f"{ref}.coverage90", "prob")
            + _td(
                r.get("mean_abs_z"), f"{ref}.mean_abs_z", text=fmt_number(r.get("mean_abs_z"), 3)
            )
            + _td(r.get("p_all_within_tolerance"), f"{ref}.p_all_within_tolerance", "prob")
            + "</tr>"
        )
    head = [
        "target",
        "rows",
        "RMSE",
        "relative RMSE",
        "50 % coverage",
        "90 % coverage",
        "mean |z|",
        "P(all within tolerance)",
    ]
    return "<h3>Training fit (for comparison)</h3>" + _table(head, rows)


def _conformers(tr: dict) -> str:
    """epsilon_p / epsilon_G per environment of conformer-population targets."""
    cs = tr.get("conformers") or []
    if not cs:
        return ""
    rows = []
    for i, c in enumerate(cs):
        ref = f"transferability.conformers.{i}"
        rows.append(
            f'<tr class="{_VERDICT_CLS.get(c["verdict"], "")}">'
            f"<td>{_e(c['target'])}</td><td>{_e(c['group'])}</td>"
            + _td(c["T_K"], f"{ref}.T_K")
            + _td(c["W_kJ_per_mol"], f"{ref}.W_kJ_per_mol")
            + _td(
                c["epsilon_p_mean"],
                f"{ref}.epsilon_p_mean",
                text=fmt_number(c["epsilon_p_mean"], 3),
            )
            + _td(c["P_epsilon_p"], f"{ref}.P_epsilon_p", "prob")
            + _td(
                c["epsilon_G_mean"],
                f"{ref}.epsilon_G_mean",
                text=fmt_number(c["epsilon_G_mean"], 3),
            )
            + _td(c["P_epsilon_G"], f"{ref}.P_epsilon_G", "prob")
            + _td(c["P_both"], f"{ref}.P_both", "prob")
            + f'<td class="verdict">{_e(c["verdict"])}</td></tr>'
        )
    head = [
        "target",
        "group",
        "T [K]",
        "W [kJ/mol]",
        "mean epsilon_p",
        "P(epsilon_p &le; max)",
        "mean epsilon_G [kJ/mol]",
        "P(epsilon_G &le; max)",
        "P(both)",
        "verdict",
    ]
    c0 = cs[0]
    return (
        "<h3>Conformer populations</h3><p>RMS population error epsilon_p and largest "
        "free-energy error epsilon_G per environment, over posterior draws; thresholds "
        + _n(c0["eps_p_max"], "transferability.conformers.0.eps_p_max")
        + " and "
        + _n(c0["eps_G_max"], "transferability.conformers.0.eps_G_max")
        + " kJ/mol.</p>"
        + _table(head, rows)
    )


def _transferability(s: dict) -> str:
    tr = s["transferability"]
    out = ['<h2 id="transferability">Transferability</h2>']
    if not tr:
        out.append("<p>The problem has no held-out environments.</p>")
        return "".join(out)
    out.append(_transferability_intro(tr))
    if tr["groups"]:
        out.append(_groups_table(tr))
        out.append(_states_table(s))
    out.append(_conformers(tr))
    out += _candidates(tr)
    out.append(_training_table(tr))
    for note in tr.get("notes", []):
        out.append(f"<p class='warn'>{_e(note)}</p>")
    return "".join(out)


def _loo_table(
    res: dict, ranking: list[dict], weights: dict | None, res_ref: str, rank_ref: str
) -> str:
    rank_of = {r["run"]: (k, r) for k, r in enumerate(ranking)}
    rows = []
    for name in [r["run"] for r in ranking]:
        r = res[name]
        k, rk = rank_of[name]
        w = (weights or {}).get(name)
        rows.append(
            f"<tr><td>{_e(name)}</td>"
            + _td(rk["rank"], f"{rank_ref}.{k}.rank")
            + _td(r["elpd"], f"{res_ref}.{name}.elpd", text=fmt_number(r["elpd"], 5))
            + _td(r["se"], f"{res_ref}.{name}.se", text=fmt_number(r["se"], 3))
            + _td(
                rk["elpd_diff"], f"{rank_ref}.{k}.elpd_diff", text=fmt_number(rk["elpd_diff"], 3)
            )
            + _td(rk["dse"], f"{rank_ref}.{k}.dse", text=fmt_number(rk["dse"], 3))
            + _td(r["p"], f"{res_ref}.{name}.p", text=fmt_number(r["p"], 3))
            + _td(r.get("pareto_k_max"), f"{res_ref}.{name}.pareto_k_max", "prob")
            + _td(r.get("n_k_above_good"), f"{res_ref}.{name}.n_k_above_good")
            + ("" if weights is None else _td(w, f"comparison.weights.{name}", "prob"))
            + f'<td class="{"v-pass" if r.get("reliable") else "v-uncertain"}">'
            + ("yes" if r.get("reliable") else "no (Pareto k too high)")
            + "</td></tr>"
        )
    head = [
        "run",
        "rank",
        "elpd",
        "se",
        "elpd diff",
        "se of diff",
        "p",
        "max Pareto k",
        "k > good",
    ]
    if weights is not None:
        head.append("stacking weight")
    head.append("reliable")
    return _table(head, rows)


def _comparison(s: dict) -> str:
    c = s["comparison"]
    if not c:
        return ""
    out = ['<h2 id="comparison">Model comparison</h2>']
    files = "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in c["files"].items())
    out.append(f"<p>Runs compared on the same training observations:</p><ul>{files}</ul>")
    out.append("<h3>PSIS-LOO (leave one observation out)</h3>")
    out.append(
        _loo_table(
            c["loo"], c["ranking"], c.get("weights"), "comparison.loo", "comparison.ranking"
        )
    )
    loeo = c["loeo"]
    out.append("<h3>Leave one environment out (PSIS on grouped log-likelihood)</h3>")
    groups = ", ".join(
        f"{_e(g['label'])} (" + _n(g["n_rows"], f"comparison.loeo.groups.{k}.n_rows") + " rows)"
        for k, g in enumerate(loeo.get("groups", []))
    )
    out.append(f"<p>Environment groups: {groups}.</p>")
    out.append(
        _loo_table(
            loeo["runs"], loeo["ranking"], None, "comparison.loeo.runs", "comparison.loeo.ranking"
        )
    )
    out.append(
        "<p class='muted'>elpd: expected log pointwise predictive density (nats), higher is "
        "better; elpd diff: best minus this run; se of diff: paired standard error. "
        f"{_e(c.get('method', ''))}.</p>"
    )
    if c.get("warnings"):
        items = "".join(f"<li>{_e(w)}</li>" for w in c["warnings"])
        out.append(f'<div class="warn">Warnings:<ul>{items}</ul></div>')
    return "".join(out)


def _citations(s: dict) -> str:
    c = s["citations"]
    out = ['<h2 id="citations">Citations</h2><h3>Data</h3><ul>']
    for d in c["data"]:
        dois = "".join(
            f' <a href="https://doi.org/{escape(x, quote=True)}">doi:{_e(x)}</a>'
            for x in d.get("dois", [])
        )
        title = f"<em>{_e(d['title'])}</em>. " if d.get("title") else ""
        lic = f" Licence: {_e(d['licence'])}" if d.get("licence") else ""
        out.append(
            f"<li><strong>{_e(d['target'])}</strong>: {title}{_e(d['source'])}{dois}{lic}</li>"
        )
    out.append("</ul><h3>Methods</h3><ul>")
    for m in c["methods"]:
        out.append(
            f"<li>{_e(m.get('what', ''))}: {_e(m['text'])} "
            f'<a href="{escape(m["url"], quote=True)}">{_e(m["url"])}</a></li>'
        )
    out.append("</ul>")
    return "".join(out)


def render(summary: dict, figures: list[dict], sections: dict[str, str] | None = None) -> str:
    """The whole page as one string.

    Parameters
    ----------
    summary
        From :func:`bayesff.report.summary.build_summary` (validated).
    figures
        From :func:`bayesff.report.plots.make_figures`: dicts with ``key``,
        ``title``, ``caption``, ``made_with`` and ``png`` bytes or ``error``.
    sections
        Further sections, already HTML, by id; known: ``"sensitivity"``
        (:func:`bayesff.report.sensitivity.sensitivity_section`), placed after
        the transferability section.
    """
    sections = sections or {}
    s = summary
    name = s["problem"]["name"]
    figs = {f["key"]: f for f in figures}
    posterior_figs = "".join(
        _figure(figs[k])
        for k in ("marginals", "prior_posterior", "pair", "trace", "rank")
        if k in figs
    )
    pred_figs = "".join(_figure(f) for k, f in figs.items() if k.startswith("predictive_"))
    nav = [
        ("problem", "Problem"),
        ("data", "Data"),
        ("run", "Run"),
        ("diagnostics", "Diagnostics"),
        ("posterior", "Posterior"),
        ("predictive", "Predictive"),
        ("transferability", "Transferability"),
    ]
    if sections.get("sensitivity"):
        nav.append(("sensitivity", "Sensitivity"))
    if s["comparison"]:
        nav.append(("comparison", "Comparison"))
    nav.append(("citations", "Citations"))
    nav_html = "".join(f'<a href="#{k}">{v}</a>' for k, v in nav)
    body = "".join(
        [
            f"<h1>bayesff report: {_e(name)}</h1>",
            f"<p>{_e(s['problem']['description'])}</p>",
            f"<nav>{nav_html}</nav>",
            _glance(s),
            _problem(s),
            _provenance(s),
            _run(s),
            _diagnostics(s),
            '<h2 id="posterior">Posterior</h2>',
            "<p>Summaries over all chains and draws; 5 %, 50 % and 95 % are posterior "
            "quantiles (the 90 % equal-tailed interval). Prior: from the run's prior draws.</p>",
            _parameters(s),
            posterior_figs,
            '<h2 id="predictive">Posterior predictive</h2>',
            pred_figs or "<p>No targets.</p>",
            _transferability(s),
            sections.get("sensitivity", ""),
            _comparison(s),
            _citations(s),
            f"<p class='muted'>Generated by bayesff {_e(s['bayesff_version'])} at "
            f"{_e(s['generated_utc'])} from {_e(s['run']['path'])}. Every number on this page "
            "is in summary.json beside it.</p>",
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>bayesff report: {_e(name)}</title>"
        f"<style>{_CSS}</style><script>{_CHECK_JS}</script></head>"
        f'<body data-render-check="pending">{body}</body></html>\n'
    )
