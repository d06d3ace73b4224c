"""The index page of a sweep: one row per task, linking each task's report.

``reports/SWEEP/index.html`` (self-contained, opens offline) lists every task
of a sweep with its status, posterior means and 90 % intervals, diagnostics
and transferability verdicts, coloured by verdict, with links to the task
reports. Everything shown is also in ``runs/SWEEP/summary.csv``.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from bayesff.io import atomic_path
from bayesff.report.html import _CSS, fmt_number

__all__ = ["write_index"]

_VERDICT_CLASS = {
    "TRANSFERABLE": "v-transferable",
    "UNCERTAIN": "v-uncertain",
    "NOT TRANSFERABLE": "v-not-transferable",
}


def _cell(row: dict, key: str) -> str:
    v = row.get(key, "")
    if isinstance(v, float):
        return f'<td class="num">{escape(fmt_number(v))}</td>'
    cls = _VERDICT_CLASS.get(str(v).upper(), "")
    return f'<td class="{cls}">{escape(str(v))}</td>' if cls else f"<td>{escape(str(v))}</td>"


def _link(row: dict, folder: Path) -> str:
    page = row.get("report") or ""
    if not page:
        return escape(str(row.get("task", "")))
    rel = os.path.relpath(page, folder)
    return f'<a href="{escape(rel)}">{escape(str(row["task"]))}</a>'


def _columns(rows: list[dict]) -> list[str]:
    skip = {"task", "report", "run", "message"}
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols and c not in skip and not c.endswith("_q50")]
    return cols


def render_index(res, rows: list[dict], folder: Path) -> str:
    """The HTML of a sweep's index page."""
    cols = _columns(rows)
    head = "".join(f"<th>{escape(c)}</th>" for c in ["task", *cols, "message"])
    body = []
    for r in rows:
        cells = "".join(_cell(r, c) for c in cols)
        msg = escape(str(r.get("message", "")))
        body.append(f"<tr><td>{_link(r, folder)}</td>{cells}<td>{msg}</td></tr>")
    counts = {}
    for r in rows:
        counts[r.get("status", "")] = counts.get(r.get("status", ""), 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>sweep {escape(res.name)}"
        f"</title><style>{_CSS}</style></head><body>"
        f"<h1>Sweep {escape(res.name)}</h1><p>{len(rows)} tasks: {escape(summary)}; wall time "
        f"{res.wall_time_s:.1f} s. Columns: posterior mean and 5 / 95 % quantiles of each "
        "parameter (unit in the name), worst R-hat, smallest bulk ESS, divergences, and the "
        "transferability verdict and P(all within tolerance) of each held-out group. "
        f"Every number is in {escape(str(res.summary))}.</p>"
        f"<div class='scroll'><table id='tasks'><tr>{head}</tr>{''.join(body)}</table></div>"
        "</body></html>"
    )


def write_index(res, rows: list[dict], folder: Path) -> Path:
    """Write ``folder/index.html`` atomically, inside ``reports/``-like ``folder``."""

    folder = Path(folder)
    page = folder / "index.html"
    with atomic_path(page) as tmp:
        tmp.write_text(render_index(res, rows, folder), encoding="utf-8")
    return page
