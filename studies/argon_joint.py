"""B2-only, structure-only and joint calibrations of argon, LJ and Mie n-6 (docs/joint.md).

The six problems of :data:`RUNS` (``models/argon_joint*.toml``): LJ and Mie
n-6, each calibrated on B2(T) only (structure predicted), on S(q) at 85 K only
(B2 predicted), and on both. :func:`summarise` compares them from their run
files (read through :mod:`bayesff.runfile`): posterior means and 90 %
intervals of epsilon/k, sigma and n; held-out errors of the posterior-mean
model (saturated liquid density 90-140 K, S(0) at 85 K, B2 at the held-out
ends, S(q) RMS); PSIS-LOO of LJ against Mie where both saw the same data
(:func:`bayesff.transferability.compare`). :func:`run_study` calibrates (or
reads) the runs and writes ``comparison.{md,json}`` and ``posteriors.png``.

Run from the repository root (``--reuse`` reads run files already there)::

    python -m studies.argon_joint [--reuse] [--skip NAME,...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

import bayesff
from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.problem import Problem
from bayesff.transferability import compare

__all__ = [
    "RUNS",
    "figure",
    "get_runs",
    "heldout_error",
    "interval",
    "main",
    "parser",
    "run_study",
    "sq_rms",
    "summarise",
    "write_markdown",
]

#: (family, data) -> problem name (``models/NAME.toml``, run ``runs/NAME/posterior.nc``).
RUNS = {
    ("LJ", "B2 only"): "argon_joint_b2",
    ("LJ", "structure only"): "argon_joint_structure",
    ("LJ", "joint"): "argon_joint",
    ("Mie", "B2 only"): "argon_joint_mie_b2",
    ("Mie", "structure only"): "argon_joint_mie_structure",
    ("Mie", "joint"): "argon_joint_mie",
}
COLOURS = {"B2 only": "tab:blue", "structure only": "tab:orange", "joint": "tab:green"}


def get_runs(
    runs="runs", *, reuse: bool = False, skip=(), models_dir="models", log=print, **overrides
) -> dict:
    """The six runs: read from ``runs/NAME/posterior.nc`` (``reuse``) or calibrated there.

    Parameters
    ----------
    runs
        Run folder.
    reuse
        Read an existing run file instead of calibrating.
    skip
        Problem names not to calibrate (their run file is read if present).
    models_dir
        Folder of the problem files.
    overrides
        ``chains``, ``warmup``, ``samples``... for :func:`bayesff.calibrate`.

    Returns
    -------
    dict
        (family, data) -> DataTree, for the runs that exist.
    """

    log = log or (lambda *a, **k: None)
    trees = {}
    for key, name in RUNS.items():
        path = Path(runs) / name / "posterior.nc"
        if not (reuse and path.exists()) and name not in skip:
            log(f"calibrating {name}")
            problem = Problem.from_toml(Path(models_dir) / f"{name}.toml")
            calibrate(problem, out=path, force=True, progress=False, log=None, **overrides)
        if path.exists():
            trees[key] = runfile.read(path)
        else:
            print(f"no run file for {name}; left out", file=sys.stderr)
    return trees


def interval(x) -> dict:
    """Mean and central 90 % interval of draws."""
    x = np.asarray(x, float).ravel()
    lo, hi = np.quantile(x, [0.05, 0.95])
    return {"mean": float(x.mean()), "q05": float(lo), "q95": float(hi)}


def heldout_error(dt, target: str) -> dict | None:
    """Relative error of the posterior-mean model at each held-out row of ``target``.

    Returns ``rel_error`` per row, ``max_abs_rel_error`` and ``failed_fraction``
    (draws where the forward model failed: NaN), or None without held-out rows.
    """

    rows = runfile.rows(dt, target, "holdout")
    if rows is None:
        return None
    mod = rows.model.reshape(-1, rows.model.shape[2])
    rel = np.nanmean(mod, axis=0) / np.asarray(rows.observed, float) - 1.0
    return {
        "rel_error": [float(v) for v in rel],
        "max_abs_rel_error": float(np.nanmax(np.abs(rel))),
        "failed_fraction": float(np.mean(~np.isfinite(mod))),
    }


def sq_rms(dt, target: str = "Sq") -> float | None:
    """RMS of (posterior-mean S(q) - observed) over the training rows, else the held-out rows."""

    for kind in ("train", "holdout"):
        rows = runfile.rows(dt, target, kind)
        if rows is not None:
            mean = np.nanmean(rows.model.reshape(-1, rows.model.shape[2]), axis=0)
            return float(np.sqrt(np.mean((mean - np.asarray(rows.observed, float)) ** 2)))
    return None


def _loo(trees: dict) -> dict:

    loo = {}
    for data in ("B2 only", "structure only", "joint"):
        pair = {f: trees.get((f, data)) for f in ("LJ", "Mie")}
        if all(v is not None for v in pair.values()):
            try:
                res = compare(pair)
                loo[data] = {k: res["loo"][k]["elpd"] for k in pair} | {
                    "se": {k: res["loo"][k]["se"] for k in pair}
                }
            except Exception as e:  # reported in the table, not hidden
                loo[data] = {"error": f"{type(e).__name__}: {e}"}
    return loo


def summarise(trees: dict) -> dict:
    """Per run: parameters (mean, 90 %), held-out errors, S(q) RMS; PSIS-LOO LJ vs Mie.

    Parameters
    ----------
    trees
        (family, data) -> run DataTree (:func:`get_runs`).

    Returns
    -------
    dict
        ``runs`` (one record per run: ``epsilon`` (K), ``sigma`` (angstrom),
        ``n``, ``heldout_rho_sat``, ``heldout_S0``, ``heldout_B2``,
        ``Sq_rms``, ``sampling_s``) and ``psis_loo_elpd`` (nats, per data set).
    """

    rows = []
    for (family, data), dt in trees.items():
        post = runfile.latents(dt)
        rec = {"family": family, "data": data, "run": RUNS[(family, data)]}
        for p in ("epsilon", "sigma", "n"):
            if p in post.data_vars:
                rec[p] = interval(post[p].values)
        for t in ("rho_sat", "S0", "B2"):
            rec[f"heldout_{t}"] = heldout_error(dt, t)
        rec["Sq_rms"] = sq_rms(dt)
        rec["sampling_s"] = float(runfile.info(dt).get("sampling_time_s", float("nan")))
        rows.append(rec)
    return {"runs": rows, "psis_loo_elpd": _loo(trees)}


def _fmt(iv) -> str:
    if not iv:
        return "-"
    return f"{iv['mean']:.4g} [{iv['q05']:.4g}, {iv['q95']:.4g}]"


def _pct(r: dict, key: str) -> str:
    v = r.get(key)
    return "-" if not v else f"{100 * v['max_abs_rel_error']:.2f} %"


def write_markdown(res: dict) -> str:
    """The comparison of :func:`summarise` as a markdown table."""
    lines = [
        "# Argon: B2-only, structure-only and joint posteriors (LJ and Mie n-6)",
        "",
        "Generated by `python -m studies.argon_joint`; posterior mean [5 %, 95 %].",
        "Held-out errors: relative error of the posterior-mean model (max |.| over rows).",
        "",
        "| family | data | epsilon/k (K) | sigma (angstrom) | n | rho_sat 90-140 K | S0 85 K "
        "| B2 held out | S(q) RMS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in res["runs"]:
        sq = "-" if r["Sq_rms"] is None else f"{r['Sq_rms']:.4f}"
        lines.append(
            f"| {r['family']} | {r['data']} | {_fmt(r.get('epsilon'))} | {_fmt(r.get('sigma'))} "
            f"| {_fmt(r.get('n'))} | {_pct(r, 'heldout_rho_sat')} | {_pct(r, 'heldout_S0')} "
            f"| {_pct(r, 'heldout_B2')} | {sq} |"
        )
    lines += ["", "PSIS-LOO elpd (nats, higher is better), LJ against Mie on the same data:", ""]
    for data, v in res["psis_loo_elpd"].items():
        lines.append(f"- {data}: {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def figure(trees: dict, path) -> None:
    """The LJ posteriors in the (epsilon, sigma) plane; n's posterior of the Mie runs."""

    matplotlib.use("Agg")

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    for (family, data), dt in trees.items():
        post = runfile.latents(dt)
        if family == "LJ":
            a.scatter(
                np.ravel(post["epsilon"].values),
                np.ravel(post["sigma"].values),
                s=2,
                alpha=0.3,
                color=COLOURS[data],
                label=f"LJ, {data}",
            )
        elif "n" in post.data_vars:
            b.hist(
                np.ravel(post["n"].values),
                bins=40,
                density=True,
                histtype="step",
                color=COLOURS[data],
                label=f"Mie, {data}",
            )
    a.set_xlabel("epsilon / k (K)")
    a.set_ylabel("sigma (angstrom)")
    a.legend(markerscale=5)
    b.axvline(12.0, color="k", lw=0.8, ls="--", label="n = 12 (LJ)")
    b.set_xlabel("repulsive exponent n")
    b.set_ylabel("posterior density")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_study(
    *,
    runs="runs",
    out="reports/argon_joint",
    reuse: bool = False,
    skip=(),
    models_dir="models",
    log=print,
    **overrides,
) -> dict:
    """:func:`get_runs`, :func:`summarise`, and ``comparison.{md,json}``, ``posteriors.png``."""
    trees = get_runs(runs, reuse=reuse, skip=skip, models_dir=models_dir, log=log, **overrides)
    res = summarise(trees)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps(res, indent=2) + "\n")
    (out / "comparison.md").write_text(write_markdown(res))
    figure(trees, out / "posteriors.png")
    return res


OUT = "reports/argon_joint"


def parser() -> argparse.ArgumentParser:
    """The options of :func:`main`."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="runs", help="run folder (default runs/)")
    ap.add_argument("--out", default=OUT, help=f"output folder (default {OUT})")
    ap.add_argument("--models", default="models", help="folder of the problem files")
    ap.add_argument("--reuse", action="store_true", help="read existing run files")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    ap.add_argument("--skip", default="", help="comma-separated problem names not to calibrate")
    for opt in ("chains", "warmup", "samples"):
        ap.add_argument(f"--{opt}", type=int, metavar="N", help=f"override {opt}")
    return ap


def main(argv=None) -> int:
    """``python -m studies.argon_joint``: the six runs and their comparison."""
    args = parser().parse_args(argv)
    bayesff.configure()
    overrides = {k: getattr(args, k) for k in ("chains", "warmup", "samples")}
    res = run_study(
        runs=args.runs,
        out=args.out,
        reuse=args.reuse,
        skip={x for x in args.skip.split(",") if x},
        models_dir=args.models,
        log=None if args.quiet else (lambda *a, **k: print(*a, **k, flush=True)),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    print(write_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
