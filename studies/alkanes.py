"""Do TraPPE-UA CH3 and CH2 parameters fitted on short alkanes predict long ones? (issue 31)

Run from the repository root::

    python -m studies.alkanes              # MD at TraPPE-UA, 5 refine rounds, final fits, report
    python -m studies.alkanes --rounds 0   # no refine: calibrate on the prepared runs as they are
    python -m studies.alkanes --quick      # 2 chains x (200 + 200) for the final calibrations

Steps: (1) ``bayesff prepare`` at TraPPE-UA's published parameters (skipped where
``prepared/alkanes_trappe_ua`` is up to date); (2) ``bayesff refine`` (``--rounds``, each
round a short calibration, then new reference runs at its posterior mean, pooled with the
old ones, until the posterior sits in the trust region of the reweighting); (3) the main
and the alternative model calibrated on the final runs; (4) the report.

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
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K
from bayesff.workflows.prepare import prepare
from bayesff.workflows.refine import check_trust, refine

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


def _direct_md() -> list[dict]:
    """Every reference run's own averages (no reweighting) against the reference EOS:
    density and Delta H_vap = <U_gas> - <U_liq>/N + RT - p <V_liq>/N (ideal vapour) at the
    parameters it was simulated at, from the prepared headers."""
    rows = []
    eos = {}
    for path in sorted(PREPARED.glob("*.json")):
        if path.name == "manifest.json":
            continue
        head = json.loads(path.read_text())
        if "molecule" not in head or "runs" not in head:
            continue
        mol = head["molecule"]
        key = mol.removeprefix("n-")
        if key not in eos:
            eos[key] = _eos_rows(mol)
        n_mol = head["simulate"]["n_molecules"]
        for r in head["runs"]:
            if "gas_energy_kJ_per_mol" not in r:
                continue  # made before the gas energy was recorded
            T, p = r["T_K"], r["p_MPa"]
            rho = r["density_kg_per_m3"]
            m_mol = eos[key]["molar_mass"]
            v = m_mol / rho * 1e-3  # m^3/mol
            dh = (r["gas_energy_kJ_per_mol"] - r["potential_energy_kJ_per_mol"] / n_mol
                  + GAS_CONSTANT_KJ_PER_MOL_K * T - p * v * 1e3)  # fmt: skip
            ref = eos[key]["rows"].get(round(T, 2))
            ref_rho = ref["rho_l_mol_per_L"] * m_mol if ref else float("nan")  # g/L = kg/m^3
            ref_dh = ref["dH_vap_kJ_per_mol"] if ref else float("nan")
            rows.append(
                {
                    "molecule": mol,
                    "T_K": T,
                    "reference": {k: float(x) for k, x in r["reference"].items()},
                    "density_kg_per_m3": rho,
                    "density_rel_error": rho / ref_rho - 1.0,
                    "dH_vap_kJ_per_mol": dh,
                    "dH_vap_rel_error": dh / ref_dh - 1.0,
                    "gas_energy_kJ_per_mol": r["gas_energy_kJ_per_mol"],
                }
            )
    return rows


def _eos_rows(molecule: str) -> dict:
    """The reference-EOS rows of a molecule (data/alkanes), by T rounded to 0.01 K."""
    name = molecule.replace("-", "_")
    with open(ROOT / "data" / "alkanes" / f"saturation_{name}.csv") as fh:
        rows = {round(float(r["T_K"]), 2): {k: float(v) for k, v in r.items()}
                for r in csv.DictReader(fh)}  # fmt: skip
    with open(ROOT / "data" / "alkanes" / "molecules.csv") as fh:
        for r in csv.DictReader(fh):
            if r.get("molecule", "").replace("-", "_") == name:
                return {"rows": rows, "molar_mass": float(r["M_g_per_mol"])}
    raise KeyError(f"no molar mass for {molecule} in data/alkanes/molecules.csv")


def _trust_states(states) -> list[dict]:
    """The trust-region check of each state (refine.StateTrust) as plain numbers."""
    keys = {"median_ess_fraction": "median", "outside": "outside", "at_mean": "at_mean"}
    return [
        {"target": s.target, "T_K": s.T_K, **{k: getattr(s, a) for k, a in keys.items()}}
        for s in states
    ]


def _refine_rounds(res) -> list[dict]:
    return [
        {
            "round": r.round,
            "reference": r.reference,
            "status": r.decision.status,
            "reason": r.decision.reason,
            "states": _trust_states(s for s in r.report.states if s.trained),
        }
        for r in res.rounds
    ]


def figure(predictions: Path, out: Path) -> Path:
    """Held-out predictions against the reference EOS: relative deviation of the posterior
    mean with its 90 % interval, and the EOS's own uncertainty, per molecule and T (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(predictions) as fh:
        rows = list(csv.DictReader(fh))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=False)
    for ax, prop, label in zip(axes, PROPERTY.values(), ("liquid density", "Delta H_vap"),
                               strict=True):  # fmt: skip
        sel = [r for r in rows if r["property"] == prop]
        names = [f"{r['molecule']}\n{float(r['T_K']):.0f} K" for r in sel]
        obs = np.array([float(r["observed"]) for r in sel])
        mean, lo, hi = (100 * (np.array([float(r[k]) for r in sel]) / obs - 1)
                        for k in ("mean", "q05", "q95"))  # fmt: skip
        x = np.arange(len(sel))
        ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="o", capsize=3,
                    label="posterior mean, 90 % interval")  # fmt: skip
        u = 100 * np.array([float(r["u_observed"]) for r in sel]) / obs
        ax.fill_between(x, -u, u, color="0.85", step="mid", label="EOS uncertainty")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xticks(x, names, rotation=60, fontsize=7)
        ax.set_ylabel(f"{label}: (predicted - EOS) / EOS, %")
        ax.set_title(label)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 chains x (200 + 200)")
    for name in ("chains", "warmup", "samples"):
        ap.add_argument(f"--{name}", type=int, help=f"{name} (overrides the default)")
        ap.add_argument(
            f"--alt-{name}", type=int, help=f"{name} of the alternative model (default: the same)"
        )
    ap.add_argument(
        "--rounds", type=int, default=5,
        help="refine rounds before the final calibration (0: use the prepared runs as they are)",
    )  # fmt: skip
    ap.add_argument(
        "--refine-draws", type=int, default=300,
        help="warm-up and kept draws per chain (2 chains) of each refine round's calibration",
    )  # fmt: skip
    args = ap.parse_args(argv)
    settings = (
        {"chains": 2, "warmup": 200, "samples": 200}
        if args.quick
        else {"chains": 4, "warmup": 500, "samples": 750}
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
    rounds = []
    t_refine = time.perf_counter()
    if args.rounds > 0:
        n = args.refine_draws
        res = refine(MODELS / FILES["main"], max_rounds=args.rounds, out=RUNS / "refine",
                     force=True, directory=PREPARED, chains=2, warmup=n, samples=n)  # fmt: skip
        rounds = _refine_rounds(res)
    t_refine = time.perf_counter() - t_refine
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
                "states": _trust_states(trust.states),
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
        "refine": {"rounds": rounds, "wall_s": t_refine},
        "direct_md": _direct_md(),
        "wall_s": time.perf_counter() - t_start,
    }
    figure(REPORT / "predictions.csv", REPORT / "heldout.png")
    path = REPORT / "study.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=1, default=float) + "\n")
    tmp.replace(path)
    print(f"wrote {REPORT} in {summary['wall_s']:.0f} s")
    return summary


if __name__ == "__main__":
    main()
