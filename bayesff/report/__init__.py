"""HTML report of a run: ``bayesff report runs/NAME/posterior.nc``.

:func:`write_report` reads a run file and writes ``reports/NAME/index.html``
(self-contained: figures embedded, no external scripts, styles or fonts, so it
opens offline) and ``reports/NAME/summary.json`` (every number on the page).
The page shows the problem and the data's provenance, the sampler diagnostics
with their warnings, posterior marginals, prior against posterior, pair, trace
and rank plots, posterior predictive bands against each target's environment
coordinate (training and held-out regions marked), the transferability tables
coloured by verdict, a model comparison when other runs are given, and the
citations for data and methods.

Modules: :mod:`~bayesff.report.summary` (summary.json and its schema),
:mod:`~bayesff.report.plots` (figures) and :mod:`~bayesff.report.html` (the
page).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from bayesff.report.summary import SCHEMA, SummaryError, build_summary, validate_summary

__all__ = ["SCHEMA", "SummaryError", "build_summary", "validate_summary", "write_report"]


def _open(path: Path):
    import xarray as xr

    from bayesff.errors import BayesffError

    if not path.is_file():
        raise BayesffError("no run file there; run `bayesff calibrate PROBLEM` first", str(path))
    with xr.open_datatree(path, engine="h5netcdf") as dt:
        return dt.load()


def _check_plotting() -> None:
    """Fail early, with the fix, when the plotting libraries are missing."""
    from bayesff.errors import BayesffError

    for mod, pkg in (("matplotlib", "matplotlib"), ("arviz_plots", "arviz-plots")):
        try:
            __import__(mod)
        except ImportError as exc:
            raise BayesffError(
                f"the report draws its figures with {pkg}, which is not installed ({exc}); "
                f"install it with `pip install {pkg}`"
            ) from exc


def _labels(paths: list[Path], trees: list) -> list[str]:
    """Run labels for the comparison: problem names, made unique with the file's folder."""
    names = [
        str(t.attrs.get("problem_name") or p.parent.name)
        for p, t in zip(paths, trees, strict=True)
    ]
    out = []
    for p, n in zip(paths, names, strict=True):
        label = n if names.count(n) == 1 else f"{n} ({p.parent.name}/{p.name})"
        k, base = 2, label
        while label in out:
            label, k = f"{base} #{k}", k + 1
        out.append(label)
    return out


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
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644)
            tmps[name] = Path(tmp)
        for name, tmp in tmps.items():
            os.replace(tmp, out / name)
    finally:
        for tmp in tmps.values():
            if tmp.exists():
                tmp.unlink()


def write_report(
    run_path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    compare: Iterable[str | os.PathLike] = (),
    *,
    log: Callable[..., None] | None = print,
) -> Path:
    """Write ``index.html`` and ``summary.json`` for a run file.

    Parameters
    ----------
    run_path
        A run file written by :func:`bayesff.calibrate` (``runs/NAME/posterior.nc``).
    out_dir
        Folder of the report; default ``reports/<problem name>/`` relative to
        the current directory. An existing report there (``index.html``,
        ``summary.json``) is replaced, each file written beside its final name
        and renamed into place, so a failed run leaves the old report intact;
        other files in the folder are kept.
    compare
        Other run files fitted to the same data; with any given, the page has a
        model comparison table (PSIS-LOO and leave-one-environment-out elpd,
        :func:`bayesff.transferability.compare`) over this run and those.
    log
        Where one-line progress messages go (``None`` for silence).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Raises
    ------
    BayesffError
        If a run file is missing or lacks what the report needs (e.g. written
        by an older bayesff), or the summary does not match its schema.
    """
    from bayesff.report import html, plots
    from bayesff.report.summary import check_run, comparison_section

    log = log or (lambda *a, **k: None)
    _check_plotting()
    run_path = Path(run_path)
    dt = _open(run_path)
    check_run(dt, str(run_path))
    name = str(dt.attrs["problem_name"])
    out = Path(out_dir) if out_dir is not None else Path("reports") / name

    comparison = None
    compare = [Path(p) for p in compare]
    if compare:
        paths = [run_path, *compare]
        trees = [dt, *(_open(p) for p in compare)]
        labels = _labels(paths, trees)
        log(f"report: comparing {len(paths)} runs (PSIS-LOO, leave-one-environment-out)")
        comparison = comparison_section(
            dict(zip(labels, trees, strict=True)),
            {lab: str(p) for lab, p in zip(labels, paths, strict=True)},
        )

    targets = json.loads(dt.attrs["targets"])
    tolerance = json.loads(dt.attrs.get("tolerance", "{}") or "{}")
    log(f"report: drawing figures for {name}")
    figures = plots.make_figures(dt, targets, tolerance, log=log)
    log("report: transferability and summary")
    summary = build_summary(dt, run_path, comparison=comparison, figures=figures)
    validate_summary(summary)
    page = html.render(summary, figures)

    _write_atomic(
        {
            "summary.json": json.dumps(summary, indent=1, allow_nan=False) + "\n",
            "index.html": page,
        },
        out,
    )
    size = (out / "index.html").stat().st_size
    log(f"report: wrote {out / 'summary.json'} and index.html ({size / 1e6:.1f} MB)")
    return out / "index.html"
