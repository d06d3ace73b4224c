"""Argon B2 under each model-inadequacy option: what it does to held-out coverage.

Calibrates ``models/argon_lj_b2.toml`` four times, changing only the target's
``inadequacy`` (:data:`OPTIONS`: none, inferred_scale, hierarchical, gp),
evaluates the held-out environments with :func:`bayesff.transferability.evaluate`,
compares the fits with PSIS-LOO (:func:`bayesff.transferability.compare`),
and writes the table of docs/inadequacy.md (between its markers) and the raw
numbers to ``results.json``.

Run from the repository root (``--no-doc`` leaves docs/inadequacy.md alone)::

    python -m studies.inadequacy [--no-doc]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

import bayesff
from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.problem import Problem
from bayesff.transferability import compare, evaluate

__all__ = [
    "BASE",
    "DOC_MARKERS",
    "OPTIONS",
    "main",
    "markdown_table",
    "parser",
    "run_study",
    "run_variant",
    "update_doc",
    "variant",
    "variant_problem",
]

#: The problem every variant starts from.
BASE = "models/argon_lj_b2.toml"
#: Inadequacy kind -> the value written into the problem file.
OPTIONS = {
    "none": '"none"',
    "inferred_scale": '{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
    "hierarchical": '{ kind = "hierarchical", prior_scale = 0.05, bands = 4 }',
    "gp": '{ kind = "gp", form = "relative", prior_scale = 0.05, gp_basis = 10 }',
}
#: The markers in docs/inadequacy.md between which the table goes.
DOC_MARKERS = ("<!-- study:start -->", "<!-- study:end -->")


def variant(kind: str, base_text: str) -> str:
    """The problem file text of one variant: ``inadequacy`` replaced, name suffixed.

    Hierarchical and GP variants also raise ``target_accept`` to 0.95 (their
    posteriors have narrower ridges).

    Raises
    ------
    ValueError
        For an unknown kind, or a base text without exactly one ``inadequacy`` line.
    """
    if kind not in OPTIONS:
        raise ValueError(f"unknown inadequacy {kind!r}; expected one of {', '.join(OPTIONS)}")
    text, n = re.subn(r"^inadequacy = .*$", f"inadequacy = {OPTIONS[kind]}", base_text, flags=re.M)
    if n != 1:
        raise ValueError(f"the base problem must have one 'inadequacy = ...' line, found {n}")
    name = re.search(r'^name = "([^"]+)"', text, flags=re.M).group(1)
    text = text.replace(f'name = "{name}"', f'name = "{name}_{kind}"', 1)
    if kind in ("hierarchical", "gp"):
        text = re.sub(r"^(seed = .*)$", r"\1\ntarget_accept = 0.95", text, count=1, flags=re.M)
    return text


def variant_problem(kind: str, base=BASE, root="."):
    """The :class:`~bayesff.problem.Problem` of :func:`variant`; data resolved from ``root``."""

    text = variant(kind, Path(base).read_text())
    return Problem.from_dict(
        tomllib.loads(text),
        path=f"{base} ({kind})",
        source_text=text,
        base_dirs=(Path(root),),
    )


def run_variant(kind: str, base=BASE, out_dir=None, root=".") -> tuple[dict, object]:
    """Calibrate and evaluate one variant; returns (its row of the table, its DataTree).

    ``out_dir``: where ``KIND.nc`` is written (``None``: nothing written).
    """

    problem = variant_problem(kind, base, root)
    out = None if out_dir is None else Path(out_dir) / f"{kind}.nc"
    t0 = time.perf_counter()
    run = calibrate(problem, out=out, force=True, progress=False, log=None)
    wall = time.perf_counter() - t0
    res = evaluate(run.datatree)
    lat = runfile.latents(run.datatree)
    eps, sig = (np.asarray(lat[p].values).ravel() for p in ("epsilon", "sigma"))
    row = {
        "inadequacy": kind,
        "epsilon_K": [float(np.mean(eps)), *map(float, np.quantile(eps, [0.05, 0.95]))],
        "sigma_A": [float(np.mean(sig)), *map(float, np.quantile(sig, [0.05, 0.95]))],
        "diagnostics_ok": run.diagnostics.ok,
        "warnings": run.diagnostics.warnings,
        "wall_s": wall,
        "training": res.training["B2"],
        "groups": {g["group"]: g for g in res.groups},
        "verdicts": res.verdict_lines(),
    }
    return row, run.datatree


def markdown_table(rows: list[dict], elpd: dict) -> str:
    """The study's table: parameters, coverage, tolerance probability, verdict, elpd_loo."""
    lines = [
        "| inadequacy | epsilon/k [K] (90 %) | sigma [angstrom] (90 %) | training 90 % coverage "
        "| low T: 90 % coverage, P(all within 5 %), verdict "
        "| high T: 90 % coverage, P(all within 5 %), verdict | elpd_loo | diagnostics |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        e, s = r["epsilon_K"], r["sigma_A"]
        cells = []
        for g in ("low T", "high T"):
            gg = r["groups"][g]
            cells.append(
                f"{gg['n_inside90']}/{gg['n']}, {gg['p_all_within_tolerance']:.2f}, "
                f"{gg['verdict']}"
            )
        diag = "ok" if r["diagnostics_ok"] else "; ".join(r["warnings"])
        lines.append(
            f"| {r['inadequacy']} | {e[0]:.1f} ({e[1]:.1f}-{e[2]:.1f}) | {s[0]:.3f} "
            f"({s[1]:.3f}-{s[2]:.3f}) | {r['training']['coverage90']:.2f} | {cells[0]} | "
            f"{cells[1]} | {elpd[r['inadequacy']]:.1f} | {diag} |"
        )
    return "\n".join(lines)


def update_doc(doc, table: str) -> None:
    """Put ``table`` between :data:`DOC_MARKERS` in the markdown file ``doc``."""
    doc = Path(doc)
    text = doc.read_text()
    start, end = DOC_MARKERS
    i, j = text.index(start) + len(start), text.index(end)
    doc.write_text(text[:i] + "\n" + table + "\n" + text[j:])


def run_study(
    *, base=BASE, out="runs/inadequacy_study", doc="docs/inadequacy.md", root=".", log=print
) -> dict:
    """Every variant: calibrate, evaluate, compare; ``results.json`` in ``out``, table to ``doc``.

    ``doc=None`` leaves the documentation alone. About 5 minutes on 2 cores.

    Returns
    -------
    dict
        ``rows`` (per variant: parameters, diagnostics, wall time, training
        and held-out criteria), ``compare`` (the PSIS-LOO ranking) and
        ``table`` (markdown).
    """

    log = log or (lambda *a, **k: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, trees = [], {}
    for kind in OPTIONS:
        row, trees[kind] = run_variant(kind, base, out, root)
        rows.append(row)
        log(kind, f"{row['wall_s']:.0f} s", *row["verdicts"], sep="\n  ")
    comp = compare(trees)
    results = {"rows": rows, "compare": comp["ranking"]}
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    table = markdown_table(rows, {r["run"]: r["elpd"] for r in comp["ranking"]})
    if doc is not None:
        update_doc(doc, table)
    return {**results, "table": table}


def parser() -> argparse.ArgumentParser:
    """The options of :func:`main`."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=BASE, help="the problem to vary")
    ap.add_argument("--out", default="runs/inadequacy_study", help="run files and results.json")
    ap.add_argument("--doc", default="docs/inadequacy.md", help="markdown file to update")
    ap.add_argument("--no-doc", action="store_true", help="leave the documentation alone")
    ap.add_argument("--root", default=".", help="where data paths are resolved (repository)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines, only the table")
    return ap


def main(argv=None) -> int:
    """``python -m studies.inadequacy``: the four runs and the table of docs/inadequacy.md."""
    args = parser().parse_args(argv)
    bayesff.configure()
    res = run_study(
        base=args.base,
        out=args.out,
        doc=None if args.no_doc else args.doc,
        root=args.root,
        log=None if args.quiet else (lambda *a, **k: print(*a, **k, flush=True)),
    )
    print(res["table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
