"""Do Mie-chain parameters transfer along the n-alkanes? (issue 30; docs/chains.md)

Run from the repository root::

    python -m studies.alkane_chains            # the study (runs in runs/alkane_chains/)
    python -m studies.alkane_chains --quick    # 2 chains x (150 + 150): a smoke run
    python -m studies.alkane_chains --only b12 --reuse   # one model; the others from
                                                         # their run files

Models (problem files in ``models/alkane_chains/``, written by its ``make_models.py``):

* (a) ``per_molecule``: each molecule on its own (epsilon, sigma, n free; segments by
  m_s = 1 + (C - 1)/3), for C1-C8, C10 and C12, one batch (:func:`bayesff.calibrate_many`);
* (b) ``transferable``: one (epsilon, sigma, n) for every molecule, segments per molecule
  by the same rule, trained on the saturated liquid density and vapour pressure of
  C1-C8; n-decane and n-dodecane held out, with the enthalpy of vaporisation and the
  compressed-liquid density of every molecule;
* (b12) ``transferable_n12``: (b) with n fixed at 12;
* (c) ``pooled``: epsilon and sigma per molecule, partially pooled (``[pooling]``), one
  shared n; trained as (b); n-decane and n-dodecane predicted from the population.
* (d) ``trend``: epsilon and sigma on trends along the series (epsilon in 1/C, sigma in
  1/m_s: ``[pooling] covariate``, no spread about them), one shared n; trained as (b);
  n-decane and n-dodecane predicted along the trends.

What it writes: ``reports/alkane_chains/index.html`` (posteriors, diagnostics, the elpd
table, verdicts per molecule and property), ``reports/alkane_chains/predictions.csv``
(every held-out state of n-decane and n-dodecane under model (b), and under (b12)) and
``reports/alkane_chains/summary.json`` (every number of the page). Public API only.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import math
import sys
import time
import tomllib
from pathlib import Path

import arviz as az
import numpy as np

import bayesff
from bayesff import runfile

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models" / "alkane_chains"
RUNS = ROOT / "runs" / "alkane_chains"
REPORT = ROOT / "reports" / "alkane_chains"

#: (molecule, carbon number): the molecules of model (a) (those of models/alkane_chains).
MOLECULES = (
    ("methane", 1),
    ("ethane", 2),
    ("propane", 3),
    ("n_butane", 4),
    ("n_pentane", 5),
    ("n_hexane", 6),
    ("n_heptane", 7),
    ("n_octane", 8),
    ("n_decane", 10),
    ("n_dodecane", 12),
)
HELD_OUT_MOLECULES = ("n_decane", "n_dodecane")
#: target prefix -> (observable name written in predictions.csv)
PROPERTY = {
    "rho_l": "saturated_liquid_density",
    "p_sat": "vapour_pressure",
    "dH_vap": "enthalpy_of_vaporisation",
    "rho_comp": "compressed_liquid_density",
}
TRANSFERABLE = {
    "b": "transferable.toml",
    "b12": "transferable_n12.toml",
    "c": "pooled.toml",
    "d": "trend.toml",
}


def _molecule_of(carbon: int) -> str:
    return next(m for m, c in MOLECULES if c == carbon)


def _split(target: str) -> tuple[str, int]:
    """'rho_l_c10' -> ('rho_l', 10)."""
    prefix, _, c = target.rpartition("_c")
    return prefix, int(c)


def per_molecule_problems(settings: dict) -> list:
    """Model (a): per_molecule.toml with each molecule's data and segment count."""
    text = (MODELS / "per_molecule.toml").read_text()
    sweep = tomllib.loads((MODELS / "per_molecule_sweep.toml").read_text())
    problems = []
    for value in sweep["axes"][0]["values"]:
        doc = tomllib.loads(text)
        doc["problem"]["name"] = f"alkane_per_molecule_{value['label']}"
        doc["parameters"].update(value["set"]["parameters"])
        for t in doc["targets"]:
            t.update(value["set"]["targets"][t["name"]])
        doc["inference"].update(settings)
        problems.append(
            bayesff.Problem.from_dict(
                doc, path=f"{MODELS / 'per_molecule.toml'} ({value['label']})", base_dirs=(ROOT,)
            )
        )
    return problems


def transferable_problem(file: str, settings: dict):
    """Model (b) or (b12) from its file, with the study's sampler settings."""
    doc = tomllib.loads((MODELS / file).read_text())
    doc["inference"].update(settings)
    return bayesff.Problem.from_dict(doc, path=str(MODELS / file), base_dirs=(ROOT,))


# ------------------------------------------------------------------------------ numbers


def _heldout_elpd(dt, target: str) -> float:
    """sum over held-out rows of log mean_s p(y | theta_s), nats (run file predictions)."""
    ll = np.asarray(dt["predictions"][f"{target}_log_likelihood"])
    ll = ll.reshape(-1, ll.shape[-1]) if ll.ndim > 1 else ll.reshape(-1, 1)
    m = ll.max(axis=0)
    with np.errstate(divide="ignore"):
        return float(np.sum(m + np.log(np.mean(np.exp(ll - m), axis=0))))


def _pooled_posterior(dt, names) -> dict:
    """Models (c) and (d): each trained molecule's own values ('epsilon c4', the run file's
    ``epsilon_pooled`` per group), the spreads omega between molecules ('omega epsilon')
    and the slopes of a trend ('slope epsilon'), where the run has them."""
    post = dt["posterior"]
    out = {}
    for n in names:
        if f"slope_{n}_pooled" in post:  # model (d): the trend along the series
            out[f"slope {n}"] = _stats(np.asarray(post[f"slope_{n}_pooled"]).reshape(-1))
        own = f"{n}_pooled"
        if own not in post:
            continue
        for g in post[own]["group_pooled"].values:
            out[f"{n} {g}"] = _stats(np.asarray(post[own].sel(group_pooled=g)).reshape(-1))
        out[f"omega {n}"] = _stats(np.asarray(post[f"omega_{n}_pooled"]).reshape(-1))
    return out


def _stats(x) -> dict:
    return {
        "mean": float(np.mean(x)),
        "sd": float(np.std(x)),
        "q05": float(np.quantile(x, 0.05)),
        "q95": float(np.quantile(x, 0.95)),
    }


def _posterior(dt, names) -> dict:
    out = _pooled_posterior(dt, names)
    # the sampled parameters, and those they determine (model b's epsilon from epsilon_vdw)
    post = dt["posterior"].to_dataset().merge(runfile.derived_parameters(dt))
    for n in [*names, *(["epsilon_vdw"] if "epsilon_vdw" in post else [])]:
        if n in post:
            out[n] = _stats(np.asarray(post[n]).reshape(-1))
    return out


class _Stored:
    """A run read back from its file (the run of an earlier invocation)."""

    def __init__(self, path: Path):
        self.path = path
        self.datatree = bayesff.load_run(path)


def _stored(problem, path: Path, again: bool = False) -> _Stored:
    """A stored run of ``problem``; if the problem has changed since (its held-out side: a
    new group's inadequacy), or ``again``, its draws predicted again under it
    (bayesff.repredict, which refuses draws of another training model) and the run file
    replaced."""
    run = _Stored(path)
    if problem.matches(str(run.datatree.attrs.get("problem_fingerprint", ""))) and not again:
        return run
    print(f"{path}: predicting again from its draws under the current problem and package")
    bayesff.repredict(problem, run.datatree, out=path, force=True, progress=True)
    return _Stored(path)


def _timing(label: str, wall_s: float | None = None) -> float | None:
    """Record (or read back) the calibration wall time of a model, s (runs/.../timing.json)."""
    f = RUNS / "timing.json"
    t = json.loads(f.read_text()) if f.exists() else {}
    if wall_s is not None:
        t[label] = wall_s
        f.write_text(json.dumps(t, indent=1))
    return t.get(label)


def _diagnostics(run) -> dict:
    """Worst R-hat and bulk ESS over the parameters and inadequacy scales (arviz), and the
    number of divergent transitions, from the run file."""
    dt = run.datatree
    post = dt["posterior"].to_dataset()
    rhat = az.rhat(post)
    ess = az.ess(post, method="bulk")
    div = int(np.asarray(dt["sample_stats"]["diverging"]).sum())
    max_rhat = max(float(np.nanmax(np.asarray(rhat[v]))) for v in rhat.data_vars)
    min_ess = min(float(np.nanmin(np.asarray(ess[v]))) for v in ess.data_vars)
    return {
        "max_rhat": max_rhat,
        "min_ess_bulk": min_ess,
        "divergences": div,
        "ok": bool(max_rhat <= 1.01 and min_ess >= 400 and div == 0),
    }


def _state_rows(label: str, res, molecule: str | None = None) -> list[dict]:
    """predictions.csv rows: held-out states of C10 and C12 of a transferable run, or of
    one molecule's own run of model (a) (``molecule``; its targets carry no ``_cN``)."""
    rows = []
    for s in res.states:
        if molecule is None:
            prefix, carbon = _split(s["target"])
            mol = _molecule_of(carbon)
        else:
            prefix, mol = s["target"], molecule
        if mol not in HELD_OUT_MOLECULES:
            continue
        lo, hi = s["pi90"]
        rows.append(
            {
                "model": label,
                "molecule": mol,
                "T_K": s["env"]["T_K"],
                "p_MPa": s["env"].get("p_MPa", ""),
                "property": PROPERTY[prefix],
                "unit": s["unit"],
                "observed": s["observed"],
                "u_observed": s["u"],
                "mean": s["pred_mean"],
                "q05": lo,
                "q95": hi,
                "rel_error": s["rel_error"],
                "p_within_tolerance": s["p_within_tolerance"],
                "tolerance_rel": s["tolerance"].get("rel", "") if s["tolerance"] else "",
                "verdict": s["verdict"],
            }
        )
    return rows


def _group_rows(label: str, res) -> list[dict]:
    out = []
    for g in res.groups:
        prefix, carbon = _split(g["target"])
        out.append(
            {
                "model": label,
                "molecule": _molecule_of(carbon),
                "property": PROPERTY[prefix],
                "n": g["n"],
                "p_all_within": g["p_all_within_tolerance"],
                "coverage90": g["coverage90"],
                "verdict": g["verdict"],
            }
        )
    return out


def _abs_rel(res, target: str) -> dict:
    """Median and max |posterior-mean relative error| of a held-out target's states."""
    e = [s["rel_error"] for s in res.states if s["target"] == target]
    if not e:
        return {}
    # a state the model cannot predict (no finite mean: outside the EOS's range, or above
    # the model's critical temperature) has no error: counted, and the error is NaN
    missing = sum(x is None for x in e)
    e = np.abs([np.nan if x is None else x for x in e])
    if missing == len(e):
        return {"unpredicted": missing}
    return {"median": float(np.nanmedian(e)), "max": float(np.nanmax(e)), "unpredicted": missing}


# ------------------------------------------------------------------------------ page


def _table(rows: list[dict], cols: list[str]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:.4g}" if math.isfinite(v) else "nan"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(summary: dict) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>Mie chains for the n-alkanes</title><style>body{font-family:sans-serif;"
        "max-width:70em;margin:auto}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>",
        "<h1>Do Mie-chain parameters transfer along the n-alkanes?</h1>",
        f"<p>{html.escape(summary['what'])}</p>",
        f"<p>Command: <code>{html.escape(summary['command'])}</code>; wall time "
        f"{summary['wall_s']:.0f} s; settings {html.escape(json.dumps(summary['settings']))}.</p>",
        "<h2>Posteriors and diagnostics</h2>",
    ]
    rows = []
    for label, m in summary["models"].items():
        for p, s in m["posterior"].items():
            rows.append({"model": label, "parameter": p, **s})
    parts.append(_table(rows, ["model", "parameter", "mean", "sd", "q05", "q95"]))
    drows = [
        {"model": k, **v["diagnostics"], "source": v.get("carried", "this run")}
        for k, v in summary["models"].items()
    ]
    parts.append(
        _table(
            drows, ["model", "max_rhat", "min_ess_bulk", "divergences", "ok", "wall_s", "source"]
        )
    )
    parts.append("<h2>Model comparison (elpd, nats)</h2>")
    parts.append(f"<p>{html.escape(summary['elpd_note'])}</p>")
    parts.append(
        _table(
            summary["elpd"],
            ["model", "elpd_loo_C1_C8", "se", "p_loo", "elpd_heldout_common", "n_heldout_common"],
        )
    )
    parts.append("<h2>Held-out verdicts per molecule and property</h2>")
    parts.append(
        _table(
            summary["groups"],
            ["model", "molecule", "property", "n", "p_all_within", "coverage90", "verdict"],
        )
    )
    parts.append("<h2>n-decane and n-dodecane: |relative error| of the posterior mean</h2>")
    parts.append(
        _table(
            summary["heldout_errors"],
            ["model", "molecule", "property", "median", "max", "unpredicted"],
        )
    )
    parts.append(
        "<p>Every held-out state of n-decane and n-dodecane is in "
        "<code>predictions.csv</code> (mean, q05, q95: the posterior predictive).</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------ main


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 chains x (150 + 150)")
    ap.add_argument("--skip-per-molecule", action="store_true", help="models (b) only")
    ap.add_argument(
        "--only",
        choices=["b", "b12", "c", "d", "a"],
        action="append",
        help="calibrate only these models (repeatable); the others are read from their "
        "run files in runs/alkane_chains/ when present",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="read every model whose run file exists instead of calibrating it again",
    )
    ap.add_argument(
        "--repredict",
        choices=["b", "b12", "c", "d"],
        action="append",
        default=[],
        help="with --reuse: predict this model's stored draws again (bayesff.repredict), "
        "after a change to how the package predicts (repeatable)",
    )
    ap.add_argument(
        "--carry",
        action="store_true",
        help="keep the models that were neither calibrated nor found as run files from "
        "the report this run replaces (reports/alkane_chains/summary.json and "
        "predictions.csv), each marked with where it came from",
    )
    args = ap.parse_args(argv)
    previous = _previous_report() if args.carry else None
    # Laplace starts (the mode and its Hessian as the first mass matrix): from the
    # prior-central starts NUTS's warm-up ran at the largest tree depth (65 s per
    # iteration for model b12, 2026-11-25; docs/chains.md)
    settings = (
        {"chains": 2, "warmup": 150, "samples": 150}
        if args.quick
        else {"chains": 4, "warmup": 500, "samples": 500}
    ) | {"init": "laplace"}
    bayesff.configure()
    t_start = time.perf_counter()
    RUNS.mkdir(parents=True, exist_ok=True)
    REPORT.mkdir(parents=True, exist_ok=True)
    models, groups, states, errors = {}, [], [], []
    runs = {}

    def wanted(label: str) -> bool:
        return args.only is None or label in args.only

    for label, file in TRANSFERABLE.items():
        path = RUNS / label / "posterior.nc"
        if not wanted(label) or (args.reuse and path.exists()):
            if not path.exists():
                continue
            run = _stored(transferable_problem(file, settings), path, label in args.repredict)
        else:
            run = bayesff.calibrate(transferable_problem(file, settings), out=path, force=True)
            _timing(label, run.wall_time_s)
        runs[label] = run
        res = bayesff.evaluate(run.datatree)
        models[label] = {
            "file": f"models/alkane_chains/{file}",
            "posterior": _posterior(run.datatree, ["epsilon", "sigma", "n"]),
            "diagnostics": {**_diagnostics(run), "wall_s": _timing(label)},
        }
        groups += _group_rows(label, res)
        states += _state_rows(label, res)
        for mol in HELD_OUT_MOLECULES:
            carbon = dict(MOLECULES)[mol]
            for prefix, prop in PROPERTY.items():
                errors.append(
                    {
                        "model": label,
                        "molecule": mol,
                        "property": prop,
                        **_abs_rel(res, f"{prefix}_c{carbon}"),
                    }
                )
    per_molecule = []
    if not args.skip_per_molecule:
        problems = per_molecule_problems(settings)
        outs = [RUNS / "a" / p.name / "posterior.nc" for p in problems]
        if not wanted("a") or (args.reuse and all(o.exists() for o in outs)):
            per_molecule = [_Stored(o) for o in outs if o.exists()]
            if len(per_molecule) != len(outs):
                per_molecule = []
        else:
            t0 = time.perf_counter()
            per_molecule = bayesff.calibrate_many(problems, outs=outs, force=True)
            _timing("a", time.perf_counter() - t0)
        _per_molecule_rows(per_molecule, models, groups, states)
    elpd, note = _elpd_table(runs, per_molecule)
    summary = {
        "what": "Mie chains (SAFT-VR Mie EOS) for the n-alkanes: per molecule (a), "
        "transferable with segments m_s = 1 + (C - 1)/3 (b), (b) with n = 12 (b12), and "
        "epsilon and sigma partially pooled over the molecules (c), epsilon and sigma on "
        "trends in 1/C and 1/m_s (d). Trained on saturated liquid density and vapour "
        "pressure (C1-C8 for b, b12, c, d).",
        "command": " ".join(["python -m studies.alkane_chains", *(argv or sys.argv[1:])]),
        "settings": settings,
        "models": models,
        "groups": groups,
        "heldout_errors": errors,
        "elpd": elpd,
        "elpd_note": note,
        "wall_s": time.perf_counter() - t_start,
    }
    if previous is not None:
        _carry(previous, summary, states)
    _write(summary, states)
    print(f"wrote {REPORT / 'index.html'} in {summary['wall_s']:.0f} s")
    return summary


def _base(label: str) -> str:
    """The model of a row's label: 'a_c4' and 'a (sum over C1-C8)' -> 'a', 'b12' -> 'b12'."""
    return label.split()[0].split("_")[0]


def _previous_report() -> tuple[dict, list[dict]] | None:
    """The summary and predictions.csv rows of the report in reports/alkane_chains/ (read
    before this run replaces them), or None if there is none."""
    if not (REPORT / "summary.json").exists():
        return None
    with open(REPORT / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return json.loads((REPORT / "summary.json").read_text()), rows


def _carry(previous: tuple[dict, list[dict]], summary: dict, states: list[dict]) -> None:
    """Add, in place, every model of the previous report that this run has not computed
    (its run file absent: a fresh checkout keeps no runs/): its posterior, diagnostics,
    verdicts, errors, elpd row and predictions.csv rows, as that report had them, each
    model marked ``carried`` with the command that made it."""
    old, old_states = previous
    done = {_base(k) for k in summary["models"]}
    note = f"carried from the previous report ({old.get('command', '?')})"
    for key in ("groups", "heldout_errors", "elpd"):
        summary[key] += [r for r in old.get(key, []) if _base(r["model"]) not in done]
    for label, m in old.get("models", {}).items():
        if _base(label) not in done:
            summary["models"][label] = {**m, "carried": m.get("carried", note)}
    states += [r for r in old_states if _base(r["model"]) not in done]
    summary["carried"] = sorted({_base(k) for k in summary["models"]} - done)


def _common_heldout() -> list[tuple[str, int]]:
    """(property prefix, carbon number) of the held-out targets every model predicts: the
    compressed-liquid density of C1-C8 and the enthalpy of vaporisation of C4-C8 (the
    transferable files leave out that of C1-C3: make_models.LOWEST_DH_VAP_CARBON)."""
    return [
        (p, c)
        for p in ("dH_vap", "rho_comp")
        for _, c in MOLECULES
        if c <= 8 and (p != "dH_vap" or c >= 4)
    ]


def _per_molecule_rows(per_molecule: list, models: dict, groups: list, states: list) -> None:
    """Model (a)'s posteriors, diagnostics, held-out groups and states, added in place."""
    for (mol, carbon), run in zip(MOLECULES, per_molecule, strict=False):
        models[f"a_c{carbon}"] = {
            "file": "models/alkane_chains/per_molecule.toml",
            "posterior": _posterior(run.datatree, ["epsilon", "sigma", "n"]),
            "diagnostics": {**_diagnostics(run), "wall_s": _timing("a")},
        }
        res = bayesff.evaluate(run.datatree)
        states += _state_rows(f"a_c{carbon}", res, molecule=mol)
        for g in res.groups:
            groups.append(
                {
                    "model": f"a_c{carbon}",
                    "molecule": mol,
                    "property": PROPERTY[g["target"]],
                    "n": g["n"],
                    "p_all_within": g["p_all_within_tolerance"],
                    "coverage90": g["coverage90"],
                    "verdict": g["verdict"],
                }
            )


def _elpd_table(runs: dict, per_molecule: list) -> tuple[list[dict], str]:
    """PSIS-LOO on the C1-C8 training rows and the held-out elpd on rows every model
    predicts (the enthalpy of vaporisation and compressed-liquid density of C1-C8)."""
    common = [f"{p}_c{c}" for p, c in _common_heldout()]
    out = []
    if not runs:
        return out, "no transferable run"
    cmp = bayesff.compare({k: r.datatree for k, r in runs.items()})
    for label, run in runs.items():
        loo = cmp["loo"][label]
        out.append(
            {
                "model": label,
                "elpd_loo_C1_C8": loo["elpd"],
                "se": loo["se"],
                "p_loo": loo["p"],
                "elpd_heldout_common": sum(_heldout_elpd(run.datatree, t) for t in common),
                "n_heldout_common": len(common),
            }
        )
    if per_molecule:
        elpd = se2 = p = held = 0.0
        for (mol, carbon), run in zip(MOLECULES, per_molecule, strict=True):
            if carbon > 8:
                continue
            loo = bayesff.compare({mol: run.datatree})["loo"][mol]
            elpd += loo["elpd"]
            se2 += loo["se"] ** 2
            p += loo["p"]
            own = [q for q, c in _common_heldout() if c == carbon]
            held += sum(_heldout_elpd(run.datatree, q) for q in own)
        out.append(
            {
                "model": "a (sum over C1-C8)",
                "elpd_loo_C1_C8": elpd,
                "se": math.sqrt(se2),
                "p_loo": p,
                "elpd_heldout_common": held,
                "n_heldout_common": len(common),
            }
        )
    note = (
        "elpd_loo: PSIS-LOO over the same training rows (rho_l and p_sat of C1-C8; for (a) "
        "the sum of the eight per-molecule runs, its se from theirs in quadrature). "
        "elpd_heldout_common: sum over the held-out rows every model predicts (dH_vap and "
        "the compressed-liquid density of C1-C8; Delta H_vap of C4-C8) of log mean_s p(y | "
        "theta_s). Larger is "
        "better; n_heldout_common counts targets."
    )
    return out, note


def _write(summary: dict, states: list[dict]) -> None:
    cols = [
        "molecule",
        "T_K",
        "property",
        "unit",
        "observed",
        "u_observed",
        "mean",
        "q05",
        "q95",
        "verdict",
        "model",
        "p_MPa",
        "rel_error",
        "p_within_tolerance",
        "tolerance_rel",
    ]
    with open(REPORT / "predictions.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in states:
            w.writerow({k: (f"{v:.8g}" if isinstance(v, float) else v) for k, v in r.items()})
    (REPORT / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    (REPORT / "index.html").write_text(_page(summary))


if __name__ == "__main__":
    main()
