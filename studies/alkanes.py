"""Do TraPPE-UA CH3 and CH2 parameters fitted on short alkanes predict long ones? (issue 31)

Run from the repository root::

    python -m studies.alkanes            # prepare (MD, ~25 min on 2 cores), calibrate, report
    python -m studies.alkanes --quick    # 2 chains x (200 + 200) on the same prepared runs

Models (``models/alkanes/``):

* ``trappe_ua.toml``: epsilon and sigma of CH3 and CH2 calibrated on the saturated
  liquid density and enthalpy of vaporisation of propane, n-butane and n-pentane (two
  temperatures each), by MD of 128 molecules with MBAR reweighting; held out: the same
  molecules at a higher temperature, and n-hexane, n-octane, n-decane at two temperatures;
* ``trappe_ua_ch2_only.toml`` (the alternative): CH3 fixed at TraPPE-UA's published values
  (fitted by Martin and Siepmann on ethane), only CH2 calibrated, on the same data and the
  same prepared runs; compared by PSIS-LOO and by the held-out verdicts.

What it writes (``reports/alkanes/``): ``index.html`` and ``summary.json`` (bayesff's run
report of the main model, with the model comparison), ``parameters.csv`` (parameter, unit,
mean, sd, q05, q95: epsilon in K, sigma in angstrom), ``predictions.csv`` (molecule, T_K,
property, unit, observed, u_observed, mean, q05, q95, verdict: every held-out state), and
``study.json`` (both models' posteriors beside TraPPE-UA's published values, diagnostics,
held-out deviations, the trust-region check of the reweighting). Public API only.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import tomllib
from pathlib import Path

import arviz as az
import numpy as np

import bayesff
from bayesff.workflows.prepare import prepare
from bayesff.workflows.refine import check_trust

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models" / "alkanes"
RUNS = ROOT / "runs" / "alkanes"
REPORT = ROOT / "reports" / "alkanes"
PREPARED = ROOT / "prepared" / "alkanes_trappe_ua"
FILES = {"main": "trappe_ua.toml", "ch2_only": "trappe_ua_ch2_only.toml"}
#: TraPPE-UA's published values (Martin and Siepmann 1998), problem units (K, angstrom).
TRAPPE = {"epsilon_CH3": 98.0, "sigma_CH3": 3.75, "epsilon_CH2": 46.0, "sigma_CH2": 3.95}
UNITS = {"epsilon_CH3": "K", "sigma_CH3": "angstrom", "epsilon_CH2": "K", "sigma_CH2": "angstrom"}
PROPERTY = {"rho": "saturated_liquid_density", "dhvap": "enthalpy_of_vaporisation"}
MOLECULE = {
    "propane": "propane",
    "butane": "n-butane",
    "pentane": "n-pentane",
    "hexane": "n-hexane",
    "octane": "n-octane",
    "decane": "n-decane",
}


def problem(file: str, settings: dict):
    """A model from its file with the study's sampler settings (prepared runs attached)."""
    path = MODELS / file
    doc = tomllib.loads(path.read_text())
    doc["inference"].update(settings)
    # both models read the runs prepared for the main one (same molecules and settings)
    return bayesff.Problem.from_dict(doc, path=str(path), base_dirs=(ROOT,), prepared=PREPARED)


def _posterior(dt) -> dict:
    out = {}
    for n in TRAPPE:
        if n not in dt["posterior"]:
            continue
        x = np.asarray(dt["posterior"][n]).reshape(-1)
        out[n] = {
            "unit": UNITS[n],
            "mean": float(np.mean(x)),
            "sd": float(np.std(x)),
            "q05": float(np.quantile(x, 0.05)),
            "q95": float(np.quantile(x, 0.95)),
            "trappe_ua": TRAPPE[n],
        }
    return out


def _diagnostics(dt) -> dict:
    post = dt["posterior"].to_dataset()
    rhat, ess = az.rhat(post), az.ess(post, method="bulk")
    max_rhat = max(float(np.nanmax(np.asarray(rhat[v]))) for v in rhat.data_vars)
    min_ess = min(float(np.nanmin(np.asarray(ess[v]))) for v in ess.data_vars)
    div = int(np.asarray(dt["sample_stats"]["diverging"]).sum())
    return {"max_rhat": max_rhat, "min_ess_bulk": min_ess, "divergences": div}


def _prediction_rows(res) -> list[dict]:
    rows = []
    for s in res.states:
        prop, _, mol = s["target"].partition("_")
        lo, hi = s["pi90"]
        rows.append(
            {
                "molecule": MOLECULE[mol],
                "T_K": s["env"]["T_K"],
                "property": PROPERTY[prop],
                "unit": s["unit"],
                "observed": s["observed"],
                "u_observed": s["u"],
                "mean": s["pred_mean"],
                "q05": lo,
                "q95": hi,
                "verdict": s["verdict"],
                "rel_error": s["rel_error"],
                "group": s.get("group", ""),
            }
        )
    return rows


def _errors(rows: list[dict]) -> dict:
    """Median and largest |relative error| of the posterior mean, per property."""
    out = {}
    for prop in PROPERTY.values():
        e = [abs(r["rel_error"]) for r in rows if r["property"] == prop]
        if e:
            out[prop] = {"median": float(np.median(e)), "max": float(np.max(e))}
    return out


def _write_csv(path: Path, rows: list[dict], cols: list[str]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    tmp.replace(path)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 chains x (200 + 200)")
    for name in ("chains", "warmup", "samples"):
        ap.add_argument(f"--{name}", type=int, help=f"{name} (overrides the default)")
        ap.add_argument(
            f"--alt-{name}", type=int, help=f"{name} of the alternative model (default: the same)"
        )
    args = ap.parse_args(argv)
    settings = (
        {"chains": 2, "warmup": 200, "samples": 200}
        if args.quick
        else {"chains": 4, "warmup": 500, "samples": 500}
    )
    settings |= {k: getattr(args, k) for k in ("chains", "warmup", "samples") if getattr(args, k)}
    alt = settings | {
        k: getattr(args, f"alt_{k}")
        for k in ("chains", "warmup", "samples")
        if getattr(args, f"alt_{k}")
    }
    bayesff.configure()
    t_start = time.perf_counter()
    # the reference MD (skipped where prepared/<name>/ already holds up-to-date runs)
    prepare(MODELS / FILES["main"], directory=PREPARED)
    RUNS.mkdir(parents=True, exist_ok=True)
    REPORT.mkdir(parents=True, exist_ok=True)
    runs, problems, timing = {}, {}, {}
    for label, file in FILES.items():
        problems[label] = problem(file, settings if label == "main" else alt)
        t0 = time.perf_counter()
        runs[label] = bayesff.calibrate(
            problems[label], out=RUNS / label / "posterior.nc", force=True
        )
        timing[label] = time.perf_counter() - t0
    main_run = runs["main"]
    bayesff.report(main_run, out=REPORT, compare=[runs["ch2_only"].path])
    models = {}
    for label, run in runs.items():
        res = bayesff.evaluate(run.datatree)
        trust = check_trust(problems[label], run)
        rows = _prediction_rows(res)
        models[label] = {
            "file": f"models/alkanes/{FILES[label]}",
            "posterior": _posterior(run.datatree),
            "diagnostics": {**_diagnostics(run.datatree), "wall_s": timing[label]},
            "groups": [
                {k: g[k] for k in ("target", "group", "n", "coverage90", "verdict") if k in g}
                for g in res.groups
            ],
            "heldout_abs_rel_error": _errors(rows),
            "trust": {
                "needs_resimulation": trust.needs_resimulation,
                "reasons": trust.reasons,
                "states": [
                    {
                        "target": s.target,
                        "T_K": s.T_K,
                        "median_ess_fraction": s.median,
                        "outside": s.outside,
                        "at_mean": s.at_mean,
                    }
                    for s in trust.states
                ],
            },
        }
        if label == "main":
            _write_csv(
                REPORT / "predictions.csv",
                rows,
                ["molecule", "T_K", "property", "unit", "observed", "u_observed", "mean",
                 "q05", "q95", "verdict"],
            )  # fmt: skip
            _write_csv(
                REPORT / "parameters.csv",
                [{"parameter": n, **v} for n, v in models[label]["posterior"].items()],
                ["parameter", "unit", "mean", "sd", "q05", "q95"],
            )
    summary = {
        "what": "TraPPE-UA n-alkanes by MD + MBAR: CH3/CH2 LJ calibrated on C3-C5 "
        "(saturated liquid density, Delta H_vap), predicted for C6, C8, C10",
        "command": " ".join(["python -m studies.alkanes", *(argv or sys.argv[1:])]),
        "settings": settings,
        "settings_alternative": alt,
        "models": models,
        "wall_s": time.perf_counter() - t_start,
    }
    path = REPORT / "study.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=1, default=float) + "\n")
    tmp.replace(path)
    print(f"wrote {REPORT} in {summary['wall_s']:.0f} s")
    return summary


if __name__ == "__main__":
    main()
