"""The electrostatics studies of issue 14 (docs/electrostatics.md).

Three studies, each a sweep file under ``models/`` (:data:`STUDIES`) whose
tasks are ordinary problems, so that ``bayesff sweep FILE`` (Dask) and
``python -m studies.electrostatics NAME`` (here: the tasks one after the other in this process)
write the same run files ``runs/SWEEP/TASK/posterior.nc``:

``ion-clusters`` (``models/ion_clusters/alpha_sweep.toml``)
    fixed charges (scaling ``s``) + LJ fitted on dimers of a polarisable ion
    model (synthetic), trimers held out, for six reference polarisabilities;
    :func:`ion_cluster_entry` gives ``s`` and the trimer error of one run.
``ion-pair-solvents`` (``models/ion_pair_solvents/conventions.toml``)
    an ion pair's potential of mean force (synthetic, generalized Born) fitted
    in a water-like solvent under three screening conventions (effective,
    static Mehler-Solmajer, ECC), the hexane-like solvent held out;
    :func:`screening_entry`.
``polar-gases`` (``models/polar_gases/fluids.toml``)
    Stockmayer B2(T) of seven polar fluids (CoolProp reference equations of
    state, real data), low- and high-temperature ends held out, and the
    posterior dipole moment against the measured gas-phase dipole
    (:func:`dipole_entry`).

:func:`run_study` calibrates (or, with ``reuse``, reads) the runs, writes an
HTML report per run (:func:`bayesff.report`) and the study's ``NAME.json``
(every number), ``NAME.md`` (the table) and ``NAME.png`` (the figure) under
``out``.

Run from the repository root, one study at a time (``--reuse`` reads run files)::

    python -m studies.electrostatics ion-clusters|ion-pair-solvents|polar-gases [--reuse]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import tomli_w

import bayesff
from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.problem import Problem
from bayesff.report import report
from bayesff.sweep import expand
from bayesff.transferability import evaluate
from bayesff.transferability.criteria import state_verdict, tolerance_probability

__all__ = [
    "STUDIES",
    "Study",
    "dipole_entry",
    "get_runs",
    "ion_cluster_entry",
    "main",
    "measured_dipoles",
    "parser",
    "run_study",
    "screening_entry",
    "summarise",
    "write_markdown",
]

#: Relative tolerance of the dipole check (a chosen criterion, as a held-out tolerance).
DIPOLE_TOLERANCE = {"rel": 0.10}


@dataclass(frozen=True)
class Study:
    """One study: its sweep file (relative to the models folder) and default output folder."""

    sweep: str
    out: str
    title: str


#: Study name (``python -m studies.electrostatics NAME``) -> its sweep file and report folder.
STUDIES = {
    "ion-clusters": Study(
        "ion_clusters/alpha_sweep.toml",
        "reports/ion_clusters",
        "Fixed charges fitted on ion pairs of a polarisable model, trimers held out",
    ),
    "ion-pair-solvents": Study(
        "ion_pair_solvents/conventions.toml",
        "reports/ion_pair_solvents",
        "Ion-pair screening fitted in a water-like solvent, hexane-like solvent held out",
    ),
    "polar-gases": Study(
        "polar_gases/fluids.toml",
        "reports/polar_gases",
        "Stockmayer B2(T) of polar gases and the dipole that fits it",
    ),
}


def _study(name: str) -> Study:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; expected one of {sorted(STUDIES)}")
    return STUDIES[name]


def _problem(task):

    return Problem.from_dict(
        task.document,
        path=f"task {task.name}",
        source_text=tomli_w.dumps(task.document),
        base_dirs=task.base_dirs,
    )


def get_runs(
    name: str,
    *,
    runs="runs",
    reuse: bool = False,
    models_dir="models",
    report_root: str | None = "reports",
    tasks=None,
    log=print,
    **overrides,
) -> dict:
    """Calibrate (or read) the runs of study ``name``.

    Parameters
    ----------
    name
        A key of :data:`STUDIES`.
    runs
        Run folder; task ``T`` of sweep ``S`` is ``runs/S/T/posterior.nc``.
    reuse
        Read an existing run file (e.g. written by ``bayesff sweep``) instead
        of calibrating.
    models_dir
        Folder of the problem files.
    report_root
        HTML report of each calibrated run under ``report_root/S/T/``
        (``None``: no reports).
    tasks
        Names of the tasks to run (default: all of the sweep's).
    overrides
        ``chains``, ``warmup``, ``samples``, ``seed`` for :func:`bayesff.calibrate`
        (default: the sweep file's ``[inference]``).

    Returns
    -------
    dict
        Task name -> run DataTree, in the sweep's order, with the wall time
        of each calibration in ``attrs["study_wall_s"]`` (0 for a reused run).
    """

    log = log or (lambda *a, **k: None)
    sweep_name, all_tasks = expand(Path(models_dir) / _study(name).sweep, runs)
    if tasks is not None:
        unknown = sorted(set(tasks) - {t.name for t in all_tasks})
        if unknown:
            raise ValueError(
                f"study {name!r} has no task {', '.join(unknown)}; its tasks are "
                f"{', '.join(t.name for t in all_tasks)}"
            )
        all_tasks = [t for t in all_tasks if t.name in set(tasks)]
    trees = {}
    for t in all_tasks:
        wall = 0.0
        if not (reuse and t.out.is_file()):
            log(f"calibrating {sweep_name}/{t.name}")
            t0 = time.perf_counter()
            calibrate(_problem(t), out=t.out, force=True, progress=False, log=None, **overrides)
            wall = time.perf_counter() - t0
            if report_root is not None:
                report(t.out, Path(report_root) / sweep_name / t.name, log=None)
        dt = runfile.read(t.out)
        dt.attrs["study_wall_s"] = wall
        trees[t.name] = dt
    return trees


# ----------------------------------------------------------------------------- helpers


def _interval(x) -> dict:
    x = np.asarray(x, float).ravel()
    lo, hi = np.quantile(x, [0.05, 0.95])
    return {"mean": float(x.mean()), "q05": float(lo), "q95": float(hi)}


def _mean_model(rows) -> np.ndarray:
    m = np.asarray(rows.model, float)
    return np.nanmean(m.reshape(-1, *m.shape[2:]), axis=0)


def _groups(dt, target: str) -> dict:

    return {g["group"]: g for g in evaluate(dt).groups if g["target"] == target}


def _diagnostics(dt) -> dict:
    """Largest R-hat and smallest bulk ESS over the latent sites; sampling time (s)."""

    post = runfile.latents(dt, "posterior")
    rhat = az.rhat(post)
    ess = az.ess(post)
    info = runfile.info(dt)
    return {
        "max_rhat": float(max(np.nanmax(rhat[v].values) for v in rhat.data_vars)),
        "min_ess_bulk": float(min(np.nanmin(ess[v].values) for v in ess.data_vars)),
        "divergences": int(np.sum(dt["sample_stats"]["diverging"].values))
        if "sample_stats" in dt.children and "diverging" in dt["sample_stats"].data_vars
        else None,
        "sampling_time_s": float(info.get("sampling_time_s", float("nan"))),
        "study_wall_s": float(dt.attrs.get("study_wall_s", 0.0)),
    }


# ------------------------------------------------------------------------ ion clusters


def alpha_of(task: str) -> float:
    """Task label ``alpha3p5`` -> the anion polarisability 3.5 (angstrom^3)."""
    return float(task.removeprefix("alpha").replace("p", "."))


def ion_cluster_entry(dt) -> dict:
    """Charge scaling ``s`` (1), cation diameter ``sigma_0`` (angstrom), inferred dimer
    inadequacy (kJ/mol) and the held-out trimer errors (kJ/mol) and verdict of one run."""

    post = runfile.latents(dt, "posterior")
    ho = runfile.rows(dt, "E_trimers", "holdout")
    err = _mean_model(ho) - np.asarray(ho.observed, float)
    g = next(iter(_groups(dt, "E_trimers").values()))
    return {
        "s": _interval(post["s"].values),
        "sigma_0_angstrom": _interval(post["sigma_0"].values),
        "tau_E_dimers_kJ_per_mol": _interval(post["tau_E_dimers"].values)
        if "tau_E_dimers" in post
        else None,
        "trimer_rms_error_kJ_per_mol": float(np.sqrt(np.mean(err**2))),
        "trimer_mean_error_kJ_per_mol": float(err.mean()),
        "trimer_max_abs_error_kJ_per_mol": float(np.max(np.abs(err))),
        "trimer_verdict": g["verdict"],
        "trimer_states_pass": [int(g["n_pass"]), int(g["n"])],
        "trimer_p_all_within": g["p_all_within_tolerance"],
        "diagnostics": _diagnostics(dt),
    }


def _ion_clusters_table(entries: dict) -> str:
    out = [
        "| alpha (angstrom^3) | s, mean [90 %] | sigma_0 (angstrom) | tau dimers (kJ/mol) | "
        "trimer RMS error (kJ/mol) | trimer mean error (kJ/mol) | trimers passing | "
        "verdict (2 kJ/mol) | max R-hat |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for task, e in entries.items():
        s, tau = e["s"], e["tau_E_dimers_kJ_per_mol"]
        out.append(
            f"| {alpha_of(task):g} | {s['mean']:.4f} [{s['q05']:.4f}, {s['q95']:.4f}] | "
            f"{e['sigma_0_angstrom']['mean']:.3f} | "
            f"{'none (no term)' if tau is None else format(tau['mean'], '.3g')} | "
            f"{e['trimer_rms_error_kJ_per_mol']:.3g} | {e['trimer_mean_error_kJ_per_mol']:.3g} | "
            f"{e['trimer_states_pass'][0]}/{e['trimer_states_pass'][1]} | "
            f"{e['trimer_verdict']} | {e['diagnostics']['max_rhat']:.3f} |"
        )
    return "\n".join(out) + "\n"


def _ion_clusters_figure(entries: dict, path: Path) -> None:

    matplotlib.use("Agg")

    a = np.array([alpha_of(t) for t in entries])
    es = list(entries.values())
    s = [e["s"] for e in es]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    ax1.errorbar(
        a,
        [v["mean"] for v in s],
        yerr=[[v["mean"] - v["q05"] for v in s], [v["q95"] - v["mean"] for v in s]],
        fmt="o-",
        capsize=3,
    )
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set_xlabel("anion polarisability alpha of the reference (angstrom^3)")
    ax1.set_ylabel("charge scaling s from dimers (90 %)")
    ax2.plot(a, [e["trimer_rms_error_kJ_per_mol"] for e in es], "o-", label="trimers: RMS error")
    with_tau = [(x, e) for x, e in zip(a, es, strict=True) if e["tau_E_dimers_kJ_per_mol"]]
    ax2.plot(
        [x for x, _ in with_tau],
        [e["tau_E_dimers_kJ_per_mol"]["mean"] for _, e in with_tau],
        "s--",
        label="dimers (trained): inferred inadequacy tau",
    )
    ax2.axhline(2.0, color="0.5", lw=0.8, ls=":", label="tolerance 2 kJ/mol")
    ax2.set_xlabel("anion polarisability alpha of the reference (angstrom^3)")
    ax2.set_ylabel("kJ/mol")
    ax2.legend(fontsize=8)
    fig.suptitle(STUDIES["ion-clusters"].title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------- ion pair solvents


def screening_entry(dt) -> dict:
    """Posterior means, the water fit's RMS error (kJ/mol) and the held-out hexane
    errors (relative, at contact r <= 3 angstrom and beyond 4 angstrom) and verdict."""

    post = runfile.latents(dt, "posterior")
    tr, ho = runfile.rows(dt, "W", "train"), runfile.rows(dt, "W", "holdout")
    r_tr, r_ho = np.asarray(tr.env["r"], float), np.asarray(ho.env["r"], float)
    w_tr, w_ho = _mean_model(tr), _mean_model(ho)
    obs_tr, obs_ho = np.asarray(tr.observed, float), np.asarray(ho.observed, float)
    rel = (w_ho - obs_ho) / np.abs(obs_ho)
    g = next(iter(_groups(dt, "W").values()))
    return {
        "posterior": {
            f"{n} [{post[n].attrs.get('units', '')}]": _interval(post[n].values)
            for n in post.data_vars
        },
        "water_rms_error_kJ_per_mol": float(np.sqrt(np.mean((w_tr - obs_tr) ** 2))),
        "hexane_rel_error_contact_max": float(np.max(np.abs(rel[r_ho <= 3.0]))),
        "hexane_rel_error_beyond_4A_max": float(np.max(np.abs(rel[r_ho >= 4.0]))),
        "hexane_rel_error_median": float(np.median(np.abs(rel))),
        "hexane_p_all_within": g["p_all_within_tolerance"],
        "hexane_states_pass": [int(g["n_pass"]), int(g["n"])],
        "hexane_verdict": g["verdict"],
        "diagnostics": _diagnostics(dt),
        "curves": {
            "r_water": r_tr.tolist(),
            "W_water_observed": obs_tr.tolist(),
            "W_water_model": w_tr.tolist(),
            "r_hexane": r_ho.tolist(),
            "W_hexane_observed": obs_ho.tolist(),
            "W_hexane_model": w_ho.tolist(),
        },
    }


def _convention(task: str) -> str:
    return task.removeprefix("ion_pair_")


def _screening_table(entries: dict) -> str:
    out = [
        "| convention | water RMS error (kJ/mol) | hexane: max rel. error r <= 3 A | "
        "r >= 4 A | median | states passing | verdict (10 % + 0.5 kJ/mol) | max R-hat |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, e in entries.items():
        out.append(
            f"| {_convention(c)} | {e['water_rms_error_kJ_per_mol']:.3g} | "
            f"{e['hexane_rel_error_contact_max']:.3g} | "
            f"{e['hexane_rel_error_beyond_4A_max']:.3g} | "
            f"{e['hexane_rel_error_median']:.3g} | "
            f"{e['hexane_states_pass'][0]}/{e['hexane_states_pass'][1]} | {e['hexane_verdict']} | "
            f"{e['diagnostics']['max_rhat']:.3f} |"
        )
    return "\n".join(out) + "\n"


def _screening_figure(entries: dict, path: Path) -> None:

    matplotlib.use("Agg")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    first = next(iter(entries.values()))["curves"]
    ax1.plot(first["r_water"], first["W_water_observed"], "k.", label="source (GB)")
    ax2.plot(first["r_hexane"], first["W_hexane_observed"], "k.", label="source (GB)")
    for i, (c, e) in enumerate(entries.items()):
        cv = e["curves"]
        ax1.plot(cv["r_water"], cv["W_water_model"], color=f"C{i}", label=_convention(c))
        ax2.plot(cv["r_hexane"], cv["W_hexane_model"], color=f"C{i}", label=_convention(c))
    ax1.set_title("water-like solvent (trained)")
    ax2.set_title("hexane-like solvent (held out)")
    lo = min(first["W_hexane_observed"])
    ax2.set_ylim(1.2 * lo, 0.5 * abs(lo))
    for ax in (ax1, ax2):
        ax.set_xlabel("r (angstrom)")
        ax.set_ylabel("W(r) (kJ/mol)")
        ax.axhline(0.0, color="0.7", lw=0.8)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------- polar gases


def measured_dipoles(path) -> dict[str, dict]:
    """Fluid -> ``{"mu_D", "source"}`` from the rows of ``dipole_moments.csv`` marked
    preferred (data/polar_gases/, cited in data/manifest.toml)."""
    with Path(path).open(newline="") as fh:
        return {
            r["fluid"]: {"mu_D": float(r["mu_D"]), "source": r["source"]}
            for r in csv.DictReader(fh)
            if r["preferred"].strip() == "1"
        }


def dipole_entry(dt, mu_measured_D: float) -> dict:
    """The dipole check of one Stockmayer run: the posterior of ``mu`` (D) against the
    measured gas-phase dipole, as a transferability check of its own.

    The probability that ``mu`` lies within :data:`DIPOLE_TOLERANCE` of the
    measured value is :func:`bayesff.transferability.criteria.tolerance_probability`
    over the posterior draws, and its verdict the held-out states' rule
    (:func:`~bayesff.transferability.criteria.state_verdict`). Also the B2
    verdicts of the held-out temperature ends.
    """

    post = runfile.latents(dt, "posterior")
    unit = str(post["mu"].attrs.get("units", ""))
    if unit != "D":
        raise ValueError(f"expected the posterior of mu in D, found {unit!r}")
    mu = np.asarray(post["mu"].values, float).ravel()
    p = float(tolerance_probability(mu[:, None], np.array([mu_measured_D]), DIPOLE_TOLERANCE)[0])
    iv = _interval(mu)
    groups = _groups(dt, "B2")
    return {
        "mu_measured_D": mu_measured_D,
        "mu_D": iv,
        "ratio": {k: v / mu_measured_D for k, v in iv.items()},
        "p_within_tolerance": p,
        "verdict": state_verdict(p),
        "epsilon_K": _interval(post["epsilon"].values),
        "sigma_angstrom": _interval(post["sigma"].values),
        "b2_verdicts": {k: g["verdict"] for k, g in groups.items()},
        "b2_p_all_within": {k: g["p_all_within_tolerance"] for k, g in groups.items()},
        "diagnostics": _diagnostics(dt),
    }


def _dipole_table(entries: dict) -> str:
    out = [
        "| fluid | mu measured (D) | mu from B2 (D), mean [90 %] | ratio | P(within 10 %) | "
        "dipole check | B2 low T | B2 high T | max R-hat |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f, e in entries.items():
        m = e["mu_D"]
        out.append(
            f"| {f} | {e['mu_measured_D']:.3f} | {m['mean']:.3f} [{m['q05']:.3f}, "
            f"{m['q95']:.3f}] | {e['ratio']['mean']:.3f} | {e['p_within_tolerance']:.2f} | "
            f"{e['verdict']} | {e['b2_verdicts'].get('low T', '-')} | "
            f"{e['b2_verdicts'].get('high T', '-')} | {e['diagnostics']['max_rhat']:.3f} |"
        )
    return "\n".join(out) + "\n"


def _dipole_figure(entries: dict, path: Path) -> None:

    matplotlib.use("Agg")

    names = list(entries)
    fig, ax = plt.subplots(figsize=(7.0, 0.45 * len(names) + 1.2))
    for i, f in enumerate(names):
        r = entries[f]["ratio"]
        ax.plot([r["q05"], r["q95"]], [i, i], color="C0", lw=3)
        ax.plot(r["mean"], i, "o", color="C0")
    ax.axvline(1.0, color="k", lw=1)
    t = DIPOLE_TOLERANCE["rel"]
    ax.axvspan(1 - t, 1 + t, color="0.85", zorder=0)
    ax.set_yticks(np.arange(len(names)), names)
    ax.set_xlabel("mu from B2 (Stockmayer) / measured gas-phase mu (mean, 90 % interval)")
    ax.set_title("Effective dipole from B2 vs the molecule's dipole (band: +-10 %)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- the study


def summarise(name: str, trees: dict, *, data_dir="data") -> dict:
    """Every number of study ``name`` from its runs (:func:`get_runs`): task -> entry."""
    if name == "ion-clusters":
        return {t: ion_cluster_entry(dt) for t, dt in trees.items()}
    if name == "ion-pair-solvents":
        return {t: screening_entry(dt) for t, dt in trees.items()}
    if name == "polar-gases":
        measured = measured_dipoles(Path(data_dir) / "polar_gases" / "dipole_moments.csv")
        out = {}
        for fluid, dt in trees.items():
            if fluid not in measured:
                raise ValueError(f"no measured dipole for {fluid!r} in dipole_moments.csv")
            out[fluid] = dipole_entry(dt, measured[fluid]["mu_D"])
            out[fluid]["mu_measured_source"] = measured[fluid]["source"]
        return out
    _study(name)
    raise AssertionError(name)


def write_markdown(name: str, entries: dict) -> str:
    """The table of study ``name``."""
    table = {
        "ion-clusters": _ion_clusters_table,
        "ion-pair-solvents": _screening_table,
        "polar-gases": _dipole_table,
    }[name](entries)
    command = f"python -m studies.electrostatics {name}"
    return f"# {_study(name).title}\n\nGenerated by `{command}`.\n\n{table}"


def run_study(
    name: str,
    *,
    runs="runs",
    out=None,
    reuse: bool = False,
    models_dir="models",
    data_dir="data",
    report: bool = True,
    tasks=None,
    log=print,
    **overrides,
) -> dict:
    """Run study ``name``: :func:`get_runs`, :func:`summarise`, and under ``out``
    (default :attr:`Study.out`) ``NAME.json``, ``NAME.md`` and ``NAME.png``.

    ``tasks`` (default all) and ``overrides`` (``chains``, ``warmup``,
    ``samples``, ``seed``) as for :func:`get_runs`. Returns the entries of
    :func:`summarise`, task -> numbers.
    """
    study = _study(name)
    out = Path(out or study.out)
    trees = get_runs(
        name,
        runs=runs,
        reuse=reuse,
        models_dir=models_dir,
        report_root=str(out.parent) if report else None,
        tasks=tasks,
        log=log,
        **overrides,
    )
    entries = summarise(name, trees, data_dir=data_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name.replace("-", "_")
    (out / f"{stem}.json").write_text(json.dumps(entries, indent=1) + "\n")
    (out / f"{stem}.md").write_text(write_markdown(name, entries))
    figure = {
        "ion-clusters": _ion_clusters_figure,
        "ion-pair-solvents": _screening_figure,
        "polar-gases": _dipole_figure,
    }[name]
    figure(entries, out / f"{stem}.png")
    return entries


def parser() -> argparse.ArgumentParser:
    """The options of :func:`main`."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", choices=tuple(STUDIES), help="which study")
    ap.add_argument("--runs", default="runs", help="run folder (default runs/)")
    ap.add_argument("--out", help="output folder (default the study's reports/ folder)")
    ap.add_argument("--models", default="models", help="folder of the problem files")
    ap.add_argument("--reuse", action="store_true", help="read existing run files")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    ap.add_argument("--data", default="data", help="data folder (default data/)")
    ap.add_argument("--no-report", action="store_true", help="no HTML report per run")
    ap.add_argument("--tasks", default="", help="comma-separated task names (default all)")
    for opt in ("chains", "warmup", "samples", "seed"):
        ap.add_argument(f"--{opt}", type=int, metavar="N")
    return ap


def main(argv=None) -> int:
    """``python -m studies.electrostatics NAME``: one of the three studies."""
    args = parser().parse_args(argv)
    bayesff.configure()
    overrides = {k: getattr(args, k) for k in ("chains", "warmup", "samples", "seed")}
    entries = run_study(
        args.study,
        runs=args.runs,
        out=args.out,
        reuse=args.reuse,
        models_dir=args.models,
        data_dir=args.data,
        report=not args.no_report,
        tasks=[t for t in args.tasks.split(",") if t] or None,
        log=None if args.quiet else (lambda *a, **k: print(*a, **k, flush=True)),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    print(write_markdown(args.study, entries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
