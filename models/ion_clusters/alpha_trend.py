"""The calibrated charge scaling s and the trimer error against the reference polarisability.

What it shows: after ``bayesff sweep models/ion_clusters/alpha_sweep.toml``, for each anion
polarisability alpha of the polarisable reference (task ``alphaA``): the posterior of s and
of the cation's LJ parameters fitted on the dimers, the inferred inadequacy of the dimer fit
(tau), and on the held-out trimers the RMS and mean error of the posterior-mean prediction
and the transferability verdict (tolerance 2 kJ/mol). As alpha -> 0 the reference becomes the
fitted model with s = 1: s -> 1 and the errors -> 0.

Usage (from the repository root, after the sweep)::

    python models/ion_clusters/alpha_trend.py [--runs runs/ion_clusters] \\
        [--out reports/ion_clusters]

Writes ``alpha_trend.json`` (every number), ``alpha_trend.md`` (the table) and
``alpha_trend.png`` (the figure) under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def alpha_of(task: str) -> float:
    """'alpha3p5' -> 3.5 (angstrom^3)."""
    return float(task.removeprefix("alpha").replace("p", "."))


def entry(dt) -> dict:
    from bayesff import runfile
    from bayesff.transferability import evaluate

    post = runfile.latents(dt, "posterior")

    def q(name):
        x = np.asarray(post[name].values, float).ravel()
        lo, hi = np.quantile(x, [0.05, 0.95])
        return {"mean": float(x.mean()), "q05": float(lo), "q95": float(hi)}

    pred = np.asarray(dt["predictions"]["E_trimers_model"].values)
    mean = pred.reshape(-1, pred.shape[-1]).mean(axis=0)
    obs = np.asarray(runfile.rows(dt, "E_trimers", "holdout").observed, float)
    err = mean - obs
    g = next(g for g in evaluate(dt).groups if g["target"] == "E_trimers")
    return {
        "s": q("s"),
        "sigma_0_angstrom": q("sigma_0"),
        # absent where the task has no inadequacy term (alpha = 0: the model is exact)
        "tau_E_dimers_kJ_per_mol": q("tau_E_dimers") if "tau_E_dimers" in post else None,
        "trimer_rms_error_kJ_per_mol": float(np.sqrt(np.mean(err**2))),
        "trimer_mean_error_kJ_per_mol": float(err.mean()),
        "trimer_max_abs_error_kJ_per_mol": float(np.max(np.abs(err))),
        "trimer_verdict": g["verdict"],
        "trimer_p_all_within": g["p_all_within_tolerance"],
    }


def _tau(e: dict) -> str:
    t = e["tau_E_dimers_kJ_per_mol"]
    return "none (no term)" if t is None else f"{t['mean']:.3g}"


def table(entries: dict[float, dict]) -> str:
    out = [
        "| alpha (angstrom^3) | s, mean [90 %] | sigma_0 (angstrom) | tau dimers (kJ/mol) | "
        "trimer RMS error (kJ/mol) | trimer mean error (kJ/mol) | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for a, e in entries.items():
        s = e["s"]
        out.append(
            f"| {a:g} | {s['mean']:.4f} [{s['q05']:.4f}, {s['q95']:.4f}] | "
            f"{e['sigma_0_angstrom']['mean']:.3f} | "
            f"{_tau(e)} | "
            f"{e['trimer_rms_error_kJ_per_mol']:.3g} | {e['trimer_mean_error_kJ_per_mol']:.3g} | "
            f"{e['trimer_verdict']} |"
        )
    return "\n".join(out) + "\n"


def figure(entries: dict[float, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = np.array(list(entries))
    s = [entries[x]["s"] for x in a]
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
    rms = [entries[x]["trimer_rms_error_kJ_per_mol"] for x in a]
    with_tau = [x for x in a if entries[x]["tau_E_dimers_kJ_per_mol"] is not None]
    tau = [entries[x]["tau_E_dimers_kJ_per_mol"]["mean"] for x in with_tau]
    ax2.plot(a, rms, "o-", label="trimers (held out): RMS error")
    ax2.plot(with_tau, tau, "s--", label="dimers (trained): inferred inadequacy tau")
    ax2.axhline(2.0, color="0.5", lw=0.8, ls=":", label="tolerance 2 kJ/mol")
    ax2.set_xlabel("anion polarisability alpha of the reference (angstrom^3)")
    ax2.set_ylabel("kJ/mol")
    ax2.legend(fontsize=8)
    fig.suptitle("Fixed charges fitted on ion pairs of a polarisable model")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "ion_clusters")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "ion_clusters")
    args = ap.parse_args(argv)
    from bayesff import runfile

    runs = sorted(args.runs.glob("alpha*/posterior.nc"), key=lambda p: alpha_of(p.parent.name))
    if not runs:
        print(f"no run files under {args.runs}; run the sweep first", file=sys.stderr)
        return 1
    entries = {alpha_of(p.parent.name): entry(runfile.read(p)) for p in runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alpha_trend.json").write_text(
        json.dumps({str(a): e for a, e in entries.items()}, indent=1) + "\n"
    )
    (args.out / "alpha_trend.md").write_text(table(entries))
    figure(entries, args.out / "alpha_trend.png")
    print(table(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
