"""The index page of a sweep: one row per task, linking each task's report.

``reports/SWEEP/index.html`` (self-contained, opens offline) lists every task
of a sweep with its status, posterior means and 90 % intervals, diagnostics
and transferability verdicts, coloured by verdict, with links to the task
reports. Everything shown is also in ``runs/SWEEP/summary.csv``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from html import escape, unescape
from pathlib import Path

from bayesff.io import OutputError, atomic_path
from bayesff.report.html import _CSS, fmt_number

__all__ = ["check_sweep_outputs", "runs_tag", "write_index"]

#: How a page of a sweep (index.html, and the atlas's tasks.html and fluid_*.html) is
#: known for one that a sweep wrote, in its first 4 kB: the generator tag, or (pages
#: written before it) the sweep index's, the atlas's and a fluid page's titles. A
#: single problem's report ("bayesff report: NAME") is not a sweep's page.
_PAGE_MARKS = ("<title>sweep ", "<title>atlas ", "<title>atlas: ", 'content="bayesff"')
#: The first columns of a sweep's summary.csv and of an atlas's atlas.csv.
_CSV_HEADS = {"summary.csv": ("task", "status"), "atlas.csv": ("fluid", "potential")}
#: The tag in a sweep's or an atlas's index.html that records the run folder it was made
#: from (``runs/SWEEP``, as given: a relative one stays relative, so a committed page
#: holds no machine path).
_RUNS_TAG = re.compile(r'<meta name="bayesff-runs" content="([^"]*)">')


def runs_tag(runs: str | Path | None) -> str:
    """The ``<meta>`` tag by which an index page records its run folder ("" for None)."""
    return "" if runs is None else f'<meta name="bayesff-runs" content="{escape(str(runs))}">'


def _head(path: Path) -> str | None:
    """The first 4 kB of ``path`` as text (None where it cannot be read)."""
    try:
        with path.open("rb") as fh:
            return fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return None


def _ours(path: Path) -> bool:
    """Whether ``path`` is a file a sweep or an atlas wrote (and may replace)."""
    head = _head(path)
    if head is None:
        return False
    if path.suffix == ".html":
        return any(m in head for m in _PAGE_MARKS)
    if path.name in _CSV_HEADS:
        first = head.splitlines()[0] if head else ""
        return tuple(first.split(",")[:2]) == _CSV_HEADS[path.name]
    if path.name == "atlas.json":
        return head.lstrip().startswith('{\n "sweep"')
    return False


def check_sweep_outputs(
    report_folder: Path,
    summary: Path | None,
    atlas: bool,
    fluids: Iterable[str] = (),
    runs: Path | None = None,
) -> None:
    """Before any work: the pages a sweep (or ``bayesff atlas``) replaces in
    ``report_folder``, and its ``summary`` (``runs/SWEEP/summary.csv``; None: not
    written), are files a sweep wrote, never a user's own (``--reports site`` replaced a
    website's index.html without a word: input audit). ``fluids``: the atlas's fluid
    labels, whose ``fluid_NAME.html`` it writes. ``runs``: the run folder the new pages
    are made from (``runs/SWEEP``); an index.html made from another one is not replaced.

    Raises
    ------
    bayesff.io.OutputError
        Naming the first file that is not a sweep's, or a folder that is a file, or an
        index.html made from another run folder.
    """
    report_folder = Path(report_folder)
    if report_folder.exists() and not report_folder.is_dir():
        raise OutputError("names a file, expected the sweep's report folder", str(report_folder))
    names = ["index.html"] + (["tasks.html", "atlas.csv", "atlas.json"] if atlas else [])
    files = [report_folder / n for n in names] + ([Path(summary)] if summary else [])
    if atlas:
        files += [report_folder / f"fluid_{f}.html" for f in sorted(set(fluids))]
    for f in files:
        if f.exists() and (not f.is_file() or not _ours(f)):
            raise OutputError(
                f"{f.name} there is not one that a bayesff sweep wrote, and a sweep replaces "
                "only its own; move it or choose another folder (--reports, --runs)",
                str(f),
            )
    if runs is not None:
        _check_same_runs(report_folder / "index.html", Path(runs))


def _check_same_runs(page: Path, runs: Path) -> None:
    """An index page made from the run files in another folder is not replaced: a slice
    of the atlas run with ``--runs`` elsewhere replaced the page of 126 runs by one of 2
    runs and 124 shown as missing (2026-11-29). A page without the tag (written before
    it) is replaced as before. A relative folder is taken from the working directory."""
    head = _head(page) if page.is_file() else None
    found = _RUNS_TAG.search(head) if head else None
    if found is None:
        return
    made = Path(unescape(found.group(1)))
    if made.resolve() != runs.resolve():
        raise OutputError(
            f"index.html there was made from the run files in {made}, and these pages would "
            f"be made from those in {runs}, showing the runs of {made} as missing; choose "
            "another folder for the pages (--reports), or the same run folder (--runs), or "
            "move the old pages",
            str(page),
        )


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
        "<!doctype html><html><head><meta charset='utf-8'>"
        '<meta name="generator" content="bayesff">'
        f"{runs_tag(getattr(res, 'runs', None))}"
        f"<title>sweep {escape(res.name)}"
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
