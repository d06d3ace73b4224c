"""Madin, Messerly and Shirts's UA / AUA / AUA+Q comparison, by PSIS-LOO and held-out verdicts.

Madin et al. (arXiv:2105.07863, 2021) asked, for small molecules modelled as two-centre
Lennard-Jones fluids with an optional point quadrupole (2CLJQ), whether the data justify a
free elongation L (AUA against UA, where L is the bond length) and a free quadrupole Q
(AUA+Q against AUA). They answered with Bayes factors from reversible-jump MCMC on the
Stoll et al. (2001) and Werth et al. (2015) correlations of the 2CLJQ saturated liquid
density, vapour pressure and surface tension. This study asks the same question of the same
three models with bayesff: the 15 problems ``models/madin_2cljq/<fluid>_<model>.toml`` (5
fluids x UA, AUA, AUA+Q; trained on the saturated liquid density and vapour pressure at
0.55-0.95 Tc through the 2CLJ(Q) EOS of Lisal et al. 2004), compared per fluid by PSIS-LOO
(:func:`bayesff.compare`) and judged on held-out data (vapour density, enthalpy of
vaporisation, the trained properties below 0.55 Tc; :func:`bayesff.evaluate`).
docs/vle.md, "Madin, Messerly and Shirts reproduced", puts the two sets of conclusions side
by side and explains where they differ.

Run from the repository root (``--reuse`` reads the run files already in ``runs/``)::

    python -m studies.madin_2cljq [--reuse] [--fluids nitrogen,ethane] [--quick]

It writes ``reports/madin_2cljq/``: ``loo.csv`` (elpd per fluid and model), ``verdicts.csv``
(held-out verdicts), ``posteriors.csv`` (posterior means and 90 % intervals, convergence),
``summary.md`` and ``elpd.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

import bayesff
from bayesff import runfile
from bayesff.inference.diagnostics import diagnose

__all__ = [
    "FLUIDS",
    "MODELS",
    "compare_fluid",
    "figure",
    "get_runs",
    "main",
    "parser",
    "posterior_rows",
    "run_study",
    "verdict_rows",
    "write_outputs",
]

#: The fluids of Madin et al.'s study that CoolProp has a reference EOS for (their acetylene,
#: tetrafluoroethylene, bromine and chlorine have none there; data/madin_2cljq/).
FLUIDS = ("nitrogen", "oxygen", "fluorine", "ethylene", "ethane")
#: Problem-file suffix -> Madin et al.'s model name.
MODELS = {"ua": "UA", "aua": "AUA", "auaq": "AUA+Q"}
#: The PSIS-LOO difference counts as a preference when it exceeds this many paired standard
#: errors (the rule of thumb of Vehtari, Gelman and Gabry 2017 / Sivula et al. 2020).
SE_MULTIPLE = 2.0


def _name(fluid: str, model: str) -> str:
    return f"madin_2cljq_{fluid}_{model}"


def get_runs(
    fluids=FLUIDS,
    *,
    runs: str | Path = "runs",
    models_dir: str | Path = "models/madin_2cljq",
    reuse: bool = False,
    log=print,
    **overrides,
) -> dict:
    """The run of every (fluid, model): read (``reuse``) or calibrated into ``runs/NAME/``.

    The fluids of one model share a structure and run one after another on one compiled
    sampler (:func:`bayesff.calibrate_many`).

    Parameters
    ----------
    fluids
        Fluids to run (subset of :data:`FLUIDS`).
    runs
        Run folder; each run is ``runs/madin_2cljq_<fluid>_<model>/posterior.nc``.
    models_dir
        Folder of the problem files ``<fluid>_<model>.toml``.
    reuse
        Read existing run files (calibrate only those missing).
    overrides
        ``chains``, ``warmup``, ``samples``, ``seed`` for every calibration.

    Returns
    -------
    dict
        ``{(fluid, model): DataTree}`` and, under ``"_wall_s"``, the wall time per model.
    """
    out: dict = {"_wall_s": {}}
    for model in MODELS:
        todo, paths = [], []
        for fluid in fluids:
            path = Path(runs) / _name(fluid, model) / "posterior.nc"
            if reuse and path.exists():
                out[(fluid, model)] = runfile.read(path)
            else:
                todo.append(bayesff.load_problem(Path(models_dir) / f"{fluid}_{model}.toml"))
                paths.append(path)
        if not todo:
            continue
        log(f"calibrating {MODELS[model]} for {', '.join(p.name for p in todo)}")
        done = bayesff.calibrate_many(
            todo, outs=paths, force=True, progress=False, log=log, **overrides
        )
        out["_wall_s"][model] = max(r.wall_time_s for r in done)
        for p, r in zip(todo, done, strict=True):
            out[(p.name.split("_")[2], model)] = r.datatree
    return out


def compare_fluid(trees: dict, fluid: str) -> list[dict]:
    """PSIS-LOO of the three models of one fluid (same training rows), one row per model.

    Returns
    -------
    list of dict
        ``fluid``, ``model``, ``elpd_loo`` (nats), ``se``, ``p_loo``, ``elpd_diff`` (best
        minus this model, >= 0), ``dse`` (its paired standard error), ``weight`` (stacking),
        ``n_k_above_good`` (rows with a Pareto k above ArviZ's threshold), ``rank``, and
        ``preferred``: this model has the highest elpd, and ``decisive``: the next model's
        elpd_diff exceeds :data:`SE_MULTIPLE` x its dse.
    """
    res = bayesff.compare({MODELS[m]: trees[(fluid, m)] for m in MODELS})
    ranking = {r["run"]: (i, r) for i, r in enumerate(res["ranking"])}
    weights = res["weights"] or {}
    rows = []
    for m in MODELS:
        label = MODELS[m]
        loo = res["loo"][label]
        rank, r = ranking[label]
        rows.append(
            {
                "fluid": fluid,
                "model": label,
                "elpd_loo": loo["elpd"],
                "se": loo["se"],
                "p_loo": loo["p"],
                "elpd_diff": r["elpd_diff"],
                "dse": r["dse"],
                "weight": weights.get(label, float("nan")),
                "n_k_above_good": loo["n_k_above_good"],
                "rank": rank + 1,
            }
        )
    rows.sort(key=lambda r: r["rank"])
    second = rows[1]
    for r in rows:
        r["preferred"] = r["rank"] == 1
        r["decisive"] = r["rank"] == 1 and second["elpd_diff"] > SE_MULTIPLE * second["dse"]
    return rows


def verdict_rows(tree, fluid: str, model: str) -> list[dict]:
    """Held-out verdicts of one run (:func:`bayesff.evaluate`), one row per group."""
    res = bayesff.evaluate(tree)
    rows = []
    for g in res.groups:
        rel = [
            s["rel_error"]
            for s in res.states
            if s["group"] == g["group"]
            and s["target"] == g["target"]
            and s["rel_error"] is not None  # None where every draw is NaN
        ]
        rows.append(
            {
                "fluid": fluid,
                "model": MODELS[model],
                "target": g["target"],
                "group": g["group"],
                "n": g["n"],
                "verdict": g["verdict"],
                "p_all_within_tolerance": g["p_all_within_tolerance"],
                "coverage90": g["coverage90"],
                "rel_error_min": float(np.nanmin(rel)) if rel else float("nan"),
                "rel_error_max": float(np.nanmax(rel)) if rel else float("nan"),
            }
        )
    return rows


def posterior_rows(tree, fluid: str, model: str) -> dict:
    """Posterior means and 90 % intervals of the parameters and the run's convergence."""
    post = runfile.latents(tree)
    row: dict = {"fluid": fluid, "model": MODELS[model]}
    for name in ("epsilon", "sigma", "L", "Q"):
        if name in post:
            x = np.asarray(post[name]).ravel()
            lo, hi = np.percentile(x, [5, 95])
            row[name] = float(x.mean())
            row[f"{name}_90"] = f"{lo:.4g}-{hi:.4g}"
        else:
            row[name], row[f"{name}_90"] = float("nan"), "fixed"
    d = diagnose(tree)
    row["rhat_max"] = d.rhat_max
    row["ess_bulk_min"] = d.ess_bulk_min
    row["divergences"] = d.divergences
    return row


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def figure(loo: list[dict], path: Path) -> None:
    """elpd_loo of each model relative to the best, per fluid, with 2 paired se bars."""
    matplotlib.use("Agg")
    fluids = list(dict.fromkeys(r["fluid"] for r in loo))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.25
    for j, label in enumerate(MODELS.values()):
        rows = [next(r for r in loo if r["fluid"] == f and r["model"] == label) for f in fluids]
        x = np.arange(len(fluids)) + (j - 1) * width
        y = [-r["elpd_diff"] for r in rows]
        err = [SE_MULTIPLE * r["dse"] for r in rows]
        ax.bar(x, y, width, yerr=err, label=label, capsize=2)
    ax.set_xticks(np.arange(len(fluids)), fluids)
    ax.set_yscale("symlog", linthresh=5.0)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_ylabel("elpd_loo - best (nats)")
    ax.set_title("PSIS-LOO per fluid (bars: 2 paired se); 0 = preferred model")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _markdown(loo, verdicts, posts, wall) -> str:
    lines = ["# Madin, Messerly and Shirts reproduced (studies/madin_2cljq.py)", ""]
    lines += [
        "| fluid | preferred by PSIS-LOO | elpd_loo UA / AUA / AUA+Q | elpd_diff (dse) 2nd, 3rd |",
        "| --- | --- | --- | --- |",
    ]
    for f in dict.fromkeys(r["fluid"] for r in loo):
        rows = [r for r in loo if r["fluid"] == f]
        by = {r["model"]: r for r in rows}
        best = rows[0]
        pref = best["model"] + ("" if best["decisive"] else " (within 2 se of the next)")
        elpd = " / ".join(f"{by[m]['elpd_loo']:.1f}" for m in MODELS.values())
        diffs = ", ".join(f"{r['model']} {r['elpd_diff']:.1f} ({r['dse']:.1f})" for r in rows[1:])
        lines.append(f"| {f} | {pref} | {elpd} | {diffs} |")
    lines += ["", "Held-out verdicts (T: transferable, N: not, U: uncertain):", ""]
    groups = list(dict.fromkeys(r["group"] for r in verdicts))
    lines += ["| fluid | model | " + " | ".join(groups) + " |", "|---" * (len(groups) + 2) + "|"]
    short = {"transferable": "T", "not transferable": "N", "uncertain": "U"}
    for f in dict.fromkeys(r["fluid"] for r in verdicts):
        for m in MODELS.values():
            cells = []
            for g in groups:
                v = [
                    r for r in verdicts if r["fluid"] == f and r["model"] == m and r["group"] == g
                ]
                cells.append(
                    f"{short[v[0]['verdict']]} ({100 * v[0]['rel_error_min']:+.1f}..."
                    f"{100 * v[0]['rel_error_max']:+.1f} %)"
                    if v
                    else "-"
                )
            lines.append(f"| {f} | {m} | " + " | ".join(cells) + " |")
    lines += ["", "Posteriors (means; 90 % intervals in posteriors.csv) and convergence:", ""]
    lines += [
        "| fluid | model | epsilon/k (K) | sigma (A) | L (A) | Q (B) | R-hat | ESS | div |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in posts:
        lines.append(
            f"| {p['fluid']} | {p['model']} | {p['epsilon']:.2f} | {p['sigma']:.4f} | "
            f"{p['L']:.4f} | {p['Q']:.3f} | {p['rhat_max']:.3f} | {p['ess_bulk_min']:.0f} | "
            f"{p['divergences']} |"
        )
    if wall:
        times = json.dumps({MODELS[k]: round(v, 1) for k, v in wall.items()})
        lines += ["", f"Wall time per model (s): {times}"]
    return "\n".join(lines) + "\n"


def write_outputs(trees: dict, fluids, out: str | Path = "reports/madin_2cljq") -> dict:
    """Compare, judge and write ``loo.csv``, ``verdicts.csv``, ``posteriors.csv``,
    ``summary.md`` and ``elpd.png`` under ``out``; returns the three tables."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loo, verdicts, posts = [], [], []
    for f in fluids:
        loo += compare_fluid(trees, f)
        for m in MODELS:
            verdicts += verdict_rows(trees[(f, m)], f, m)
            posts.append(posterior_rows(trees[(f, m)], f, m))
    _write_csv(out / "loo.csv", loo)
    _write_csv(out / "verdicts.csv", verdicts)
    _write_csv(out / "posteriors.csv", posts)
    (out / "summary.md").write_text(_markdown(loo, verdicts, posts, trees.get("_wall_s", {})))
    figure(loo, out / "elpd.png")
    return {"loo": loo, "verdicts": verdicts, "posteriors": posts}


def run_study(
    fluids=FLUIDS,
    *,
    runs="runs",
    out="reports/madin_2cljq",
    models_dir="models/madin_2cljq",
    reuse=False,
    log=print,
    **overrides,
) -> dict:
    """Calibrate (or read) the runs of ``fluids`` x UA/AUA/AUA+Q and write the report."""
    trees = get_runs(fluids, runs=runs, models_dir=models_dir, reuse=reuse, log=log, **overrides)
    return write_outputs(trees, fluids, out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m studies.madin_2cljq", description=__doc__.split("\n")[0]
    )
    p.add_argument("--reuse", action="store_true", help="read run files already in runs/")
    p.add_argument("--fluids", default=",".join(FLUIDS), help="comma-separated subset")
    p.add_argument("--runs", default="runs", help="run folder")
    p.add_argument("--out", default="reports/madin_2cljq", help="report folder")
    p.add_argument(
        "--quick", action="store_true", help="2 chains x (150 + 150): a smoke test, not a result"
    )
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    fluids = [f for f in args.fluids.split(",") if f]
    bad = sorted(set(fluids) - set(FLUIDS))
    if bad:
        print(f"error: --fluids: unknown {', '.join(bad)}; expected some of {', '.join(FLUIDS)}")
        return 2
    bayesff.configure()
    overrides = {"chains": 2, "warmup": 150, "samples": 150} if args.quick else {}
    run_study(fluids, runs=args.runs, out=args.out, reuse=args.reuse, **overrides)
    print((Path(args.out) / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
