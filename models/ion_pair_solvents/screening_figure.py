"""An ion pair's potential of mean force in water (fitted) and hexane (held out), 3 conventions.

What it shows: after ``bayesff sweep models/ion_pair_solvents/conventions.toml``, for each
screening convention (effective, static, ecc): the posterior of the fitted parameters, the
inadequacy of the water fit, and in the held-out hexane-like solvent the relative error of
the posterior-mean prediction (at contact, r <= 3 angstrom, and beyond 4 angstrom), the
number of states within the tolerance, and the verdict; with a figure of W(r) against the
source (generalized Born, data/ion_pair_solvents/pmf.csv) in both solvents.

Usage (from the repository root, after the sweep)::

    python models/ion_pair_solvents/screening_figure.py [--runs runs/ion_pair_solvents] \\
        [--out reports/ion_pair_solvents]

Writes ``screening.json`` (every number), ``screening.md`` (the table) and
``screening.png`` (the figure) under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CONVENTIONS = ("effective", "static", "ecc")


def _mean_pred(dt, group: str, name: str) -> np.ndarray:
    a = np.asarray(dt[group][name].values)
    return a.reshape(-1, a.shape[-1]).mean(axis=0)


def entry(dt) -> dict:
    from bayesff import runfile
    from bayesff.transferability import evaluate

    post = runfile.latents(dt, "posterior")
    params = {
        f"{n} [{post[n].attrs.get('units', '')}]": float(np.mean(post[n].values))
        for n in post.data_vars
    }
    tr = runfile.rows(dt, "W", "train")
    ho = runfile.rows(dt, "W", "holdout")
    r_tr, r_ho = np.asarray(tr.env["r"], float), np.asarray(ho.env["r"], float)
    w_tr = _mean_pred(dt, "posterior_predictive", "W_model")
    w_ho = _mean_pred(dt, "predictions", "W_model")
    rel = (w_ho - ho.observed) / np.abs(ho.observed)
    g = next(g for g in evaluate(dt).groups if g["target"] == "W")
    return {
        "posterior_means": params,
        "water_rms_error_kJ_per_mol": float(np.sqrt(np.mean((w_tr - tr.observed) ** 2))),
        "hexane_rel_error_contact_max": float(np.max(np.abs(rel[r_ho <= 3.0]))),
        "hexane_rel_error_beyond_4A_max": float(np.max(np.abs(rel[r_ho >= 4.0]))),
        "hexane_rel_error_median": float(np.median(np.abs(rel))),
        "hexane_states_within_tolerance": g.get("n_within", None),
        "hexane_p_all_within": g["p_all_within_tolerance"],
        "hexane_verdict": g["verdict"],
        "curves": {
            "r_water": r_tr.tolist(),
            "W_water_observed": np.asarray(tr.observed).tolist(),
            "W_water_model": w_tr.tolist(),
            "r_hexane": r_ho.tolist(),
            "W_hexane_observed": np.asarray(ho.observed).tolist(),
            "W_hexane_model": w_ho.tolist(),
        },
    }


def table(entries: dict[str, dict]) -> str:
    out = [
        "| convention | water RMS error (kJ/mol) | hexane: max rel. error r <= 3 A | "
        "r >= 4 A | median | verdict (10 % + 0.5 kJ/mol) |",
        "|---|---|---|---|---|---|",
    ]
    for c, e in entries.items():
        out.append(
            f"| {c} | {e['water_rms_error_kJ_per_mol']:.3g} | "
            f"{e['hexane_rel_error_contact_max']:.3g} | "
            f"{e['hexane_rel_error_beyond_4A_max']:.3g} | "
            f"{e['hexane_rel_error_median']:.3g} | {e['hexane_verdict']} |"
        )
    return "\n".join(out) + "\n"


def figure(entries: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    first = next(iter(entries.values()))["curves"]
    ax1.plot(first["r_water"], first["W_water_observed"], "k.", label="source (GB)")
    ax2.plot(first["r_hexane"], first["W_hexane_observed"], "k.", label="source (GB)")
    for i, (c, e) in enumerate(entries.items()):
        cv = e["curves"]
        ax1.plot(cv["r_water"], cv["W_water_model"], color=f"C{i}", label=c)
        ax2.plot(cv["r_hexane"], cv["W_hexane_model"], color=f"C{i}", label=c)
    ax1.set_title("water-like solvent (trained)")
    ax2.set_title("hexane-like solvent (held out)")
    ax2.set_ylim(-320, 150)
    for ax in (ax1, ax2):
        ax.set_xlabel("r (angstrom)")
        ax.set_ylabel("W(r) (kJ/mol)")
        ax.axhline(0.0, color="0.7", lw=0.8)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "ion_pair_solvents")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "ion_pair_solvents")
    args = ap.parse_args(argv)
    from bayesff import runfile

    entries = {}
    for c in CONVENTIONS:
        p = args.runs / f"ion_pair_{c}" / "posterior.nc"
        if p.is_file():
            entries[c] = entry(runfile.read(p))
    if not entries:
        print(f"no run files under {args.runs}; run the sweep first", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "screening.json").write_text(json.dumps(entries, indent=1) + "\n")
    (args.out / "screening.md").write_text(table(entries))
    figure(entries, args.out / "screening.png")
    print(table(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
