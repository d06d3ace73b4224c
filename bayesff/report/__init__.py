"""HTML report of a run: ``bayesff report runs/NAME/posterior.nc`` or :func:`report`.

:func:`report` reads a run file through :mod:`bayesff.runfile` and writes
``reports/NAME/index.html`` (self-contained: figures embedded, no external
scripts, styles or fonts, so it opens offline) and ``reports/NAME/summary.json``
(every number on the page). The page names the potential and its source,
shows the problem, the data's provenance and the data rows left out, the
sampler diagnostics with their warnings, posterior marginals, prior against
posterior, pair, trace and rank plots, posterior predictive bands against
each target's environment coordinate (training and held-out regions marked),
the transferability tables coloured by verdict, a model comparison when other
runs are given, and the citations for data and methods.

Modules: :mod:`~bayesff.report.summary` (summary.json and its schema),
:mod:`~bayesff.report.plots` (figures) and :mod:`~bayesff.report.html` (the
page).
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import sys
import tempfile
import types
from collections.abc import Callable, Iterable
from pathlib import Path

import xarray as xr

from bayesff import runfile
from bayesff.errors import BayesffError
from bayesff.io import OutputError, confined
from bayesff.report import html, plots
from bayesff.report.sensitivity import sensitivity_record, sensitivity_section
from bayesff.report.summary import (
    SCHEMA,
    SummaryError,
    build_summary,
    comparison_section,
    validate_summary,
)
from bayesff.schemas import NAME_PATTERN
from bayesff.sensitivity import SensitivityError, sensitivity

__all__ = [
    "SCHEMA",
    "ReportError",
    "SummaryError",
    "build_summary",
    "report",
    "validate_summary",
    "write_report",
]

#: Where reports go when no folder is given: reports/<problem name>/.
REPORTS_ROOT = "reports"


class ReportError(BayesffError):
    """A report cannot be written: a missing plotting library, or a run whose problem name
    is not a valid folder name."""


def _check_plotting() -> None:
    """Fail early, with the fix, when the plotting libraries are missing."""
    for mod, pkg in (("matplotlib", "matplotlib"), ("arviz_plots", "arviz-plots")):
        try:
            __import__(mod)
        except ImportError as exc:
            raise ReportError(
                f"the report draws its figures with {pkg}, which is not installed ({exc}); "
                f"install it with `pip install {pkg}`"
            ) from exc


def _load(run) -> tuple[object, Path | None]:
    """(DataTree, its file or None) of a path, a DataTree or a calibrate() result."""

    if isinstance(run, str | os.PathLike):
        return runfile.read(run), Path(run)
    if isinstance(run, xr.DataTree):  # (its .path is the node's path, not a file)
        runfile.check_version(run)
        return run, None
    if getattr(run, "path", None) is not None:  # a calibrate() result written to a file
        return runfile.read(run.path), Path(run.path)
    runfile.check_version(run.datatree)
    return run.datatree, None


def _labels(paths: list, trees: list) -> list[str]:
    """Run labels for the comparison: problem names, made unique with the file's folder."""

    names = [
        str(runfile.info(t).get("problem_name") or (p.parent.name if p else "run"))
        for p, t in zip(paths, trees, strict=True)
    ]
    out = []
    for p, n in zip(paths, names, strict=True):
        where = f"{p.parent.name}/{p.name}" if p else "in memory"
        label = n if names.count(n) == 1 else f"{n} ({where})"
        k, base = 2, label
        while label in out:
            label, k = f"{base} #{k}", k + 1
        out.append(label)
    return out


def _folder(dt, run_path: Path | None, out) -> tuple[Path, Path]:
    """The report's folder, resolved and confined to its output root, and as given.

    ``out`` given: that folder (its own root). Else ``reports/<problem name>``,
    the name checked against :data:`bayesff.schemas.NAME_PATTERN` first (a run
    file is data from elsewhere: a name such as ``../../..`` must not choose
    where bayesff writes), then resolved (symbolic links followed) and
    refused unless inside ``reports/``.
    """

    if out is not None:
        folder = confined(out, out, "report folder")
        _check_report_folder(folder, Path(out))
        return folder, Path(out)
    name = runfile.info(dt).get("problem_name")
    where = str(run_path) if run_path else "run"
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise ReportError(
            f"the run's problem name {name!r} cannot name a report folder (expected "
            f"{NAME_PATTERN}); give the folder with out= (--out)",
            f"{where}: problem_name",
        )
    folder = Path(REPORTS_ROOT) / name
    resolved = confined(folder, REPORTS_ROOT, "report folder")
    _check_report_folder(resolved, folder)
    return resolved, folder


def _is_report_summary(path: Path) -> bool:
    """A ``summary.json`` that a bayesff report wrote (its ``schema`` is one of ours)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and str(doc.get("schema", "")).startswith("bayesff.report.")


def _check_report_folder(folder: Path, shown: Path) -> None:
    """Before any work: the folder is a folder we may write, and the ``index.html`` and
    ``summary.json`` a report replaces there are a previous report's, never a user's own
    page (``--out site`` replaced a website's index.html without a word)."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            "names a file, expected the report's folder (index.html and summary.json are "
            "written into it); choose another --out",
            str(shown),
        )
    ours = {"index.html", "summary.json"}
    present = sorted(f for f in ours if (folder / f).exists())
    if present and not _is_report_summary(folder / "summary.json"):
        raise OutputError(
            f"{' and '.join(present)} there {'is' if len(present) == 1 else 'are'} not a "
            "bayesff report's (no summary.json of one beside it), and a report replaces "
            "only its own; choose another --out",
            str(shown),
        )
    # writable, without creating it yet (a bad run to compare must leave no folder behind)
    here = folder
    while not here.exists() and here != here.parent:
        here = here.parent
    if not os.access(here, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write in {here} (choose another --out)", str(shown))


def _write_atomic(files: dict[str, str], out: Path) -> None:
    """Write the report's own files into ``out``, each atomically; leave every other file.

    Each file is written beside its final name and renamed into place, so a
    reader never sees a half-written page, and a failed run leaves the old
    report. Other files in the folder (a study's tables, a user's notes) are
    kept: only ``index.html`` and ``summary.json`` belong to the report.
    """
    out.mkdir(parents=True, exist_ok=True)
    tmps = {}
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            tmps[name] = Path(tmp)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644)
        for name, tmp in tmps.items():
            os.replace(tmp, out / name)
    finally:
        for tmp in tmps.values():
            if tmp.exists():
                tmp.unlink()


def _comparison(dt, run_path, compare, log):

    paths = [run_path, *(Path(p) for p in compare)]
    trees = [dt, *(runfile.read(p) for p in paths[1:])]
    labels = _labels(paths, trees)
    log(f"report: comparing {len(paths)} runs (PSIS-LOO, leave-one-environment-out)")
    return comparison_section(
        dict(zip(labels, trees, strict=True)),
        {lab: str(p or "") for lab, p in zip(labels, paths, strict=True)},
    )


def _sensitivity(dt, run_path, summary: dict, log) -> str:
    """The sensitivity section's HTML; its numbers go to ``summary["sensitivity"]``.

    Kept leave-one-target-out refits beside the run are used, nothing is sampled
    (``refit="cached"``): ``bayesff sensitivity RUN`` does the refits.
    """

    try:
        res = sensitivity(run_path if run_path is not None else dt, refit="cached")
    except SensitivityError as e:
        summary["sensitivity"] = None
        log(f"report: sensitivity not available: {e.message}")
        return (
            '<h2 id="sensitivity">Sensitivity: which data drive which parameter</h2>'
            f"<p>Not available: {html_lib.escape(str(e))}.</p>"
        )
    summary["sensitivity"] = sensitivity_record(res)
    return sensitivity_section(dt, res)


def report(
    run_or_path,
    out: str | os.PathLike | None = None,
    compare: Iterable[str | os.PathLike] = (),
    log: Callable[..., None] | None = None,
) -> Path:
    """Write ``index.html`` and ``summary.json`` for a run.

    Parameters
    ----------
    run_or_path
        A run file written by :func:`bayesff.calibrate` (``runs/NAME/posterior.nc``),
        the :class:`~bayesff.inference.Run` it returned, or a run DataTree.
    out
        Folder of the report; default ``reports/<problem name>/`` under the
        current directory (the name is validated, and the folder must resolve
        inside ``reports/``). An existing report there (``index.html``,
        ``summary.json``) is replaced, each file written beside its final name
        and renamed into place, so a failed run leaves the old report intact;
        other files in the folder are kept.
    compare
        Other run files fitted to the same data; with any given, the page has a
        model comparison table (PSIS-LOO and leave-one-environment-out elpd,
        :func:`bayesff.transferability.compare`) over this run and those.
    log
        Where one-line progress messages go (``None``: nowhere).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Raises
    ------
    bayesff.runfile.RunFileError
        A run file that is missing, not a run file, damaged, or of a newer
        schema version.
    ReportError
        A problem name that cannot name a folder, or missing plotting libraries.
    bayesff.io.OutputError
        A report folder outside its output root (e.g. through a symbolic link).
    bayesff.transferability.DifferentDataError
        Runs to compare that were fitted to different data.
    """

    log = log or (lambda *a, **k: None)
    _check_plotting()
    dt, run_path = _load(run_or_path)
    folder, shown = _folder(dt, run_path, out)
    comparison = _comparison(dt, run_path, compare, log) if compare else None
    log("report: transferability and summary")
    summary = build_summary(dt, run_path, comparison=comparison)
    log(f"report: drawing figures for {summary['problem']['name']}")
    figures = plots.make_figures(dt, summary, log=log)
    summary["figures"] = plots.figure_records(figures)
    sections = {}
    if "log_prior" in dt.children and "log_likelihood" in dt.children:
        log("report: sensitivity (power-scaling, leave one target out)")
        sections["sensitivity"] = _sensitivity(dt, run_path, summary, log)
    validate_summary(summary)
    page = html.render(summary, figures, sections=sections)
    _write_atomic(
        {
            "summary.json": json.dumps(summary, indent=1, allow_nan=False) + "\n",
            "index.html": page,
        },
        folder,
    )
    size = (folder / "index.html").stat().st_size
    log(f"report: wrote {folder / 'summary.json'} and index.html ({size / 1e6:.1f} MB)")
    return shown / "index.html"


def write_report(
    run_path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    compare: Iterable[str | os.PathLike] = (),
    *,
    log: Callable[..., None] | None = print,
) -> Path:
    """:func:`report` with progress printed by default (the scripts' older name)."""
    return report(run_path, out_dir, compare, log=log)


class _CallableModule(types.ModuleType):
    """``bayesff.report`` is both this subpackage and the public function: calling the
    module calls :func:`report` (``bayesff.report(run)``), whichever of the two the
    import system left on the parent package."""

    def __call__(self, *args, **kwargs):
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
