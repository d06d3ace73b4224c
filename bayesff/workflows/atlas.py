"""``bayesff atlas SWEEP``: the transferability atlas of a sweep from the run files it has.

``bayesff sweep`` writes the atlas page at its end when the sweep file has a
``[sweep.atlas]`` table (:mod:`bayesff.report.atlas`). This command writes the
same page without sampling anything: every task whose run file exists with the
same problem fingerprint and settings (the rule by which a sweep skips a task)
is shown; a task without one is shown as ``missing`` (an invalid task as
``failed``, with its message). It serves to rebuild the page after a change to
the report code, or to look at a sweep that is still running or was stopped.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_parser", "build_atlas"]


def build_atlas(
    sweep: str | Path,
    *,
    out_root: str | Path = "runs",
    report_root: str | Path = "reports",
    log=print,
) -> Path:
    """Write ``report_root/NAME/index.html`` (and ``atlas.csv``, ...) from existing runs.

    Parameters
    ----------
    sweep
        A sweep file with a ``[sweep.atlas]`` table, e.g. ``models/atlas/atlas.toml``.
    out_root, report_root
        Where the sweep's run files are (``out_root/NAME/TASK/posterior.nc``) and where
        the atlas goes, as for ``bayesff sweep``.

    Returns
    -------
    Path
        The atlas page.

    Raises
    ------
    bayesff.errors.ProblemError
        For a sweep file that is not valid or has no ``[sweep.atlas]`` table.
    """
    from bayesff.errors import ProblemError
    from bayesff.report.atlas import write_atlas
    from bayesff.sweep import SweepResult, _done, _existing_row, _prepare, expand, read_sweep

    log = log or (lambda *a, **k: None)
    sweep = Path(sweep)
    doc = read_sweep(sweep)
    atlas = doc["sweep"].get("atlas")
    if atlas is None:
        raise ProblemError(
            "no [sweep.atlas] table: add one (fluids = 'path/to/fluids.csv') to make an atlas",
            f"{sweep}: [sweep]",
        )
    name, tasks = expand(sweep, out_root)
    res = SweepResult(name, tasks)
    folder = Path(report_root) / name
    ok = _prepare(tasks, log)
    rows = []
    for t in tasks:
        if t.error:
            res.status[t.name], res.messages[t.name] = "failed", t.error
        elif t in ok and _done(t):
            res.status[t.name] = "skipped"
            rows.append({**_existing_row(t, folder), "status": "skipped"})
        else:
            res.status[t.name] = "missing"
            res.messages[t.name] = f"not run: no up-to-date run file {t.out}"
    res.rows = rows
    have = sum(s == "skipped" for s in res.status.values())
    log(f"atlas {name}: {have} of {len(tasks)} tasks have a run file")
    return write_atlas(
        res,
        folder,
        (sweep.parent / atlas["fluids"]).resolve(),
        fluid_axis=atlas.get("fluid_axis", "fluid"),
        potential_axis=atlas.get("potential_axis", "potential"),
        description=doc["sweep"].get("description", ""),
        log=log,
    )


def _cmd(args) -> int:
    index = build_atlas(
        args.sweep,
        out_root=args.runs,
        report_root=args.reports,
        log=None if args.quiet else print,
    )
    print(f"atlas {index}")
    return 0


def add_parser(subparsers) -> None:
    """Add ``bayesff atlas SWEEP [--runs R] [--reports R] [--quiet]`` to the subcommands."""
    c = subparsers.add_parser(
        "atlas",
        help="write the transferability atlas of a sweep from its existing run files",
        description=(
            "Write the atlas page (index.html, atlas.csv, a page per fluid) of a sweep file "
            "with a [sweep.atlas] table from the run files it has, sampling nothing: tasks "
            "without an up-to-date run file are shown as missing."
        ),
    )
    c.add_argument("sweep", help="sweep file, e.g. models/atlas/atlas.toml")
    c.add_argument("--runs", default="runs", help="output root of run files (default runs)")
    c.add_argument("--reports", default="reports", help="output root of reports (default reports)")
    c.add_argument("--quiet", action="store_true", help="only the page's path")
    c.set_defaults(func=_cmd)
