"""B2-only, structure-only and joint calibrations of argon, LJ and Mie n-6 (issue 4 item 5).

Runs (or, with ``--reuse``, reads) the six problems

    models/argon_joint_b2.toml         LJ, B2(T) only        (structure predicted)
    models/argon_joint_structure.toml  LJ, S(q) at 85 K only (B2 predicted)
    models/argon_joint.toml            LJ, B2 + S(q)
    models/argon_joint_mie_b2.toml, argon_joint_mie_structure.toml, argon_joint_mie.toml

and writes ``reports/argon_joint/comparison.md`` and ``comparison.json`` (posterior
means and 90 % intervals of epsilon/k, sigma and n; held-out errors: saturated liquid
density 90-140 K, S(0) at 85 K, B2 at the held-out ends, S(q) RMS; PSIS-LOO of LJ
against Mie where both saw the same data) and ``posteriors.png`` (the three LJ
posteriors in the (epsilon, sigma) plane, and n's posterior for the three Mie runs).

Usage (repository root)::

    python scripts/argon_joint_study.py [--reuse] [--chains 4 --warmup 500 --samples 500]
        [--skip argon_joint]

Run files go to ``runs/<problem name>/posterior.nc``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "argon_joint"
RUNS = {
    ("LJ", "B2 only"): "argon_joint_b2",
    ("LJ", "structure only"): "argon_joint_structure",
    ("LJ", "joint"): "argon_joint",
    ("Mie", "B2 only"): "argon_joint_mie_b2",
    ("Mie", "structure only"): "argon_joint_mie_structure",
    ("Mie", "joint"): "argon_joint_mie",
}


def _run_path(name: str) -> Path:
    return ROOT / "runs" / name / "posterior.nc"


def _calibrate(name: str, args) -> None:
    exe = Path(sys.executable).with_name("bayesff")
    cmd = [str(exe), "calibrate", f"models/{name}.toml", "--force", "--no-progress", "--quiet"]
    for opt in ("chains", "warmup", "samples"):
        if getattr(args, opt):
            cmd += [f"--{opt}", str(getattr(args, opt))]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=False)


def _interval(x) -> dict:
    x = np.asarray(x, float).ravel()
    lo, hi = np.quantile(x, [0.05, 0.95])
    return {"mean": float(x.mean()), "q05": float(lo), "q95": float(hi)}


def _heldout(dt, target: str) -> dict | None:
    """Relative error of the posterior-mean model at each held-out row (or all rows)."""
    for group, obs_key in (("predictions", f"{target}_observed"),):
        if group in dt.children and f"{target}_model" in dt[group].data_vars:
            mod = np.asarray(dt[group][f"{target}_model"].values, float)
            obs = np.asarray(dt["predictions_constant_data"][obs_key].values, float)
            mean = np.nanmean(mod.reshape(-1, mod.shape[-1]), axis=0)
            rel = mean / obs - 1.0
            return {
                "rel_error": [float(v) for v in rel],
                "max_abs_rel_error": float(np.nanmax(np.abs(rel))),
                "failed_fraction": float(np.mean(~np.isfinite(mod))),
            }
    return None


def _sq_rms(dt) -> float | None:
    for group, obs in (("posterior_predictive", None), ("predictions", "Sq_observed")):
        if group in dt.children and "Sq_model" in dt[group].data_vars:
            mod = np.asarray(dt[group]["Sq_model"].values, float)
            y = (
                np.asarray(dt["observed_data"]["Sq"].values, float)
                if obs is None
                else np.asarray(dt["predictions_constant_data"][obs].values, float)
            )
            mean = np.nanmean(mod.reshape(-1, mod.shape[-1]), axis=0)
            return float(np.sqrt(np.mean((mean - y) ** 2)))
    return None


def summarise(trees: dict) -> dict:
    rows = []
    for (family, data), dt in trees.items():
        post = dt["posterior"]
        rec = {"family": family, "data": data, "run": RUNS[(family, data)]}
        for p in ("epsilon", "sigma", "n"):
            if p in post.data_vars:
                rec[p] = _interval(post[p].values)
        for t in ("rho_sat", "S0", "B2"):
            rec[f"heldout_{t}"] = _heldout(dt, t)
        rec["Sq_rms"] = _sq_rms(dt)
        rec["sampling_s"] = float(dt.attrs.get("sampling_time_s", float("nan")))
        rows.append(rec)
    loo = {}
    from bayesff.transferability import compare

    for data in ("B2 only", "structure only", "joint"):
        pair = {f: trees.get((f, data)) for f in ("LJ", "Mie")}
        if all(v is not None for v in pair.values()):
            try:
                res = compare(pair)
                loo[data] = {k: res["loo"][k]["elpd"] for k in pair} | {
                    "se": {k: res["loo"][k]["se"] for k in pair}
                }
            except Exception as e:  # report the failure in the table, do not hide it
                loo[data] = {"error": str(e)}
    return {"runs": rows, "psis_loo_elpd": loo}


def _fmt(iv) -> str:
    if not iv:
        return "-"
    return f"{iv['mean']:.4g} [{iv['q05']:.4g}, {iv['q95']:.4g}]"


def write_markdown(res: dict) -> str:
    lines = [
        "# Argon: B2-only, structure-only and joint posteriors (LJ and Mie n-6)",
        "",
        "Generated by `scripts/argon_joint_study.py`; posterior mean [5 %, 95 %].",
        "Held-out errors: relative error of the posterior-mean model (max |.| over rows).",
        "",
        "| family | data | epsilon/k (K) | sigma (angstrom) | n | rho_sat 90-140 K | S0 85 K "
        "| B2 held out | S(q) RMS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in res["runs"]:

        def h(key, r=r):
            v = r.get(key)
            return "-" if not v else f"{100 * v['max_abs_rel_error']:.2f} %"

        sq = "-" if r["Sq_rms"] is None else f"{r['Sq_rms']:.4f}"
        lines.append(
            f"| {r['family']} | {r['data']} | {_fmt(r.get('epsilon'))} | {_fmt(r.get('sigma'))} "
            f"| {_fmt(r.get('n'))} | {h('heldout_rho_sat')} | {h('heldout_S0')} "
            f"| {h('heldout_B2')} | {sq} |"
        )
    lines += ["", "PSIS-LOO elpd (nats, higher is better), LJ against Mie on the same data:", ""]
    for data, v in res["psis_loo_elpd"].items():
        lines.append(f"- {data}: {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def figure(trees: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = {"B2 only": "tab:blue", "structure only": "tab:orange", "joint": "tab:green"}
    for (family, data), dt in trees.items():
        post = dt["posterior"]
        if family == "LJ":
            a.scatter(
                np.ravel(post["epsilon"].values),
                np.ravel(post["sigma"].values),
                s=2,
                alpha=0.3,
                color=colours[data],
                label=f"LJ, {data}",
            )
        elif "n" in post.data_vars:
            b.hist(
                np.ravel(post["n"].values),
                bins=40,
                density=True,
                histtype="step",
                color=colours[data],
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reuse", action="store_true", help="read existing run files")
    ap.add_argument("--chains", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--samples", type=int)
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated problem names not to run (e.g. one another process is running)",
    )
    args = ap.parse_args(argv)
    skip = {x for x in args.skip.split(",") if x}
    import xarray as xr

    trees = {}
    for key, name in RUNS.items():
        path = _run_path(name)
        if not (args.reuse and path.exists()) and name not in skip:
            _calibrate(name, args)
        if path.exists():
            trees[key] = xr.open_datatree(path)
        else:
            print(f"no run file for {name}; left out", file=sys.stderr)
    res = summarise(trees)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "comparison.json").write_text(json.dumps(res, indent=2) + "\n")
    (OUT / "comparison.md").write_text(write_markdown(res))
    figure(trees, OUT / "posteriors.png")
    print(write_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
