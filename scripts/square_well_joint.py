"""The square-well joint-transferability case: argon B2(T) and the liquid's first peak.

Runs (or, with ``--reuse``, loads) three posteriors of the square well
(sigma, epsilon, lambda) for argon:

* ``argon_sw_b2``: B2(T) only (110-500 K), r_peak predicted;
* ``argon_sw_structure``: the nearest-neighbour distance at 85 K only
  (r_peak of the measured g(r), Yarnell et al. 1973), B2 predicted;
* ``argon_sw_joint``: both.

From the posterior draws of each it computes, draw by draw, the structure
error ``|r_peak(theta) - r_peak_obs|`` (angstrom) and the thermo error
``max_n |B2_n(theta) - B2_n,obs| / |B2_n,obs|`` over the held-out B2 states
(85-105 K and 520-700 K), and the joint tolerance probability

    P(structure error <= tau_s and thermo error <= tau_t)

with :func:`bayesff.transferability.joint_tolerance_probability`, next to the
marginal probabilities and their product (equal to the joint only if the two
errors were independent under the posterior). A failed OZ solve (no liquid
solution at the parameters: NaN) counts as outside the tolerance and is
reported. The trade-off is also mapped without any sampling: for each
sigma on a grid, (epsilon, lambda) are fitted to the training B2 by weighted
least squares (the profile), and both errors of that best fit are computed.

Writes into ``reports/argon_sw_joint/``: ``index.html`` and ``summary.json``
(``bayesff report`` of the joint run; this script adds its own numbers to
summary.json under ``"square_well_study"``), ``pairs.png`` (pair plot of the
three posteriors), ``errors.png`` (structure vs thermo error per draw with the
tolerance box), ``tradeoff.png`` (the profile: errors and best-fit epsilon,
lambda against sigma) and ``study.md`` (the tables, for docs/square_well.md).

    python scripts/square_well_joint.py            # about 5-10 min on 2 busy cores
    python scripts/square_well_joint.py --reuse    # only the analysis, from runs/
    python scripts/square_well_joint.py --closure-check   # VM vs PY over the prior (~1 min)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = {
    "B2 only": "argon_sw_b2",
    "structure only": "argon_sw_structure",
    "joint": "argon_sw_joint",
}
COLORS = {"B2 only": "tab:blue", "structure only": "tab:orange", "joint": "tab:green"}
PARAMS = (("sigma", "sigma (angstrom)"), ("epsilon", "epsilon/k (K)"), ("lam", "lambda"))
#: held-out B2 states of the thermo error, K (the [transferability] holdout of the problems)
THERMO_T_K = ((85.0, 109.0), (500.1, 700.0))


# ----------------------------------------------------------------------------------- runs


def load_problem(name: str):
    from bayesff.problem import Problem

    return Problem.from_toml(ROOT / "models" / f"{name}.toml")


def get_run(name: str, runs_dir: Path, reuse: bool, **overrides):
    """The run file of problem ``name``: loaded with ``reuse`` if present, else calibrated."""
    import xarray as xr

    from bayesff.inference import calibrate

    path = runs_dir / name / "posterior.nc"
    if reuse and path.is_file():
        print(f"{name}: reusing {path}", flush=True)
        return xr.open_datatree(path), None
    problem = load_problem(name)
    t0 = time.perf_counter()
    run = calibrate(problem, out=path, force=True, progress=False, log=None, **overrides)
    wall = time.perf_counter() - t0
    print(f"{name}: calibrated in {wall:.0f} s; {run.diagnostics.warnings or 'diagnostics ok'}")
    return run.datatree, wall


def _flat(da) -> np.ndarray:
    """(chain, draw, ...) -> (S, ...)."""
    a = np.asarray(da.values, dtype=float)
    return a.reshape(-1, *a.shape[2:])


def _target_draws(dt, target: str):
    """(model draws (S, N), observed (N,), env column values (N,) or None) of a target.

    Training rows come from ``posterior_predictive``/``observed_data``, held-out
    rows from ``predictions``/``predictions_constant_data``; both are returned
    concatenated (a target is trained, held out, or both).
    """
    draws, obs, env = [], [], []
    groups = {g for g in ("posterior_predictive", "predictions") if g in dt.children}
    if "posterior_predictive" in groups and f"{target}_model" in dt["posterior_predictive"]:
        da = dt["posterior_predictive"][f"{target}_model"]
        draws.append(_flat(da))
        obs.append(np.asarray(dt["observed_data"][target].values, float))
        cd = dt["constant_data"]
        env.append(np.asarray(cd[f"{target}_T_K"].values, float))
    if "predictions" in groups and f"{target}_model" in dt["predictions"]:
        da = dt["predictions"][f"{target}_model"]
        draws.append(_flat(da))
        pc = dt["predictions_constant_data"]
        obs.append(np.asarray(pc[f"{target}_observed"].values, float))
        env.append(np.asarray(pc[f"{target}_T_K"].values, float))
    if not draws:
        raise KeyError(f"run has no draws of target {target!r}")
    return np.concatenate(draws, axis=1), np.concatenate(obs), np.concatenate(env)


def thermo_mask(T_K: np.ndarray) -> np.ndarray:
    """The held-out B2 states of the thermo error."""
    return np.any([(T_K >= lo) & (T_K <= hi) for lo, hi in THERMO_T_K], axis=0)


def errors(dt) -> dict:
    """Per-draw structure and thermo errors and the model draws they come from."""
    r_mod, r_obs, _ = _target_draws(dt, "r_peak")
    b_mod, b_obs, b_T = _target_draws(dt, "B2")
    m = thermo_mask(b_T)
    order = np.argsort(b_T[m])
    b_mod, b_obs, b_T = b_mod[:, m][:, order], b_obs[m][order], b_T[m][order]
    with np.errstate(invalid="ignore"):
        s_err = np.abs(r_mod[:, 0] - r_obs[0])
        t_err = np.max(np.abs(b_mod - b_obs) / np.abs(b_obs), axis=1)
    return {
        "r_peak_model": r_mod,
        "r_peak_obs": r_obs,
        "B2_model": b_mod,
        "B2_obs": b_obs,
        "B2_T_K": b_T,
        "structure_error": s_err,  # NaN where the OZ solve failed
        "thermo_error": t_err,
    }


def probabilities(e: dict, tau_s: float, tau_t: float) -> dict:
    """Marginal and joint tolerance probabilities from aligned draws."""
    from bayesff.transferability import (
        all_within_tolerance_probability,
        joint_tolerance_probability,
        tolerance_probability,
    )

    s_tol, t_tol = {"abs": tau_s}, {"rel": tau_t}
    p_s = float(tolerance_probability(e["r_peak_model"], e["r_peak_obs"], s_tol)[0])
    p_t = all_within_tolerance_probability(e["B2_model"], e["B2_obs"], t_tol)
    p_joint = joint_tolerance_probability(
        {
            "r_peak": (e["r_peak_model"], e["r_peak_obs"], s_tol),
            "B2": (e["B2_model"], e["B2_obs"], t_tol),
        }
    )
    s = e["structure_error"]
    t = e["thermo_error"]
    ok = np.isfinite(s)
    rho = float(np.corrcoef(s[ok], t[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    n = s.size
    return {
        "n_draws": int(n),
        "p_structure": p_s,
        "p_thermo": p_t,
        "p_joint": p_joint,
        "product_of_marginals": p_s * p_t,
        "mc_resolution": 1.0 / n,
        "failed_oz_fraction": float(np.mean(~ok)),
        "structure_error_angstrom": _q(s[ok]),
        "thermo_error_rel": _q(t),
        "error_correlation": rho,
    }


def _q(x: np.ndarray) -> dict:
    if x.size == 0:
        return {"median": None, "q05": None, "q95": None}
    q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
    return {"median": float(q50), "q05": float(q05), "q95": float(q95)}


def posterior_summary(dt) -> dict:
    from bayesff.inference import diagnose

    post = dt["posterior"]
    out = {}
    for p, _ in PARAMS:
        x = _flat(post[p])
        q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        out[p] = {
            "mean": float(x.mean()),
            "q05": float(q05),
            "median": float(q50),
            "q95": float(q95),
        }
    if "tau_B2" in post:
        x = _flat(post["tau_B2"])
        out["tau_B2"] = {
            "mean": float(x.mean()),
            "q05": float(np.quantile(x, 0.05)),
            "q95": float(np.quantile(x, 0.95)),
        }
    diag = diagnose(dt)
    corr = np.corrcoef(np.stack([_flat(post[p]) for p, _ in PARAMS]))
    out["correlation"] = {
        f"{a}-{b}": float(corr[i, j])
        for i, (a, _) in enumerate(PARAMS)
        for j, (b, _) in enumerate(PARAMS)
        if i < j
    }
    out["diagnostics"] = diag.as_dict()
    return out


# ------------------------------------------------------------------------------- profile


def profile(sigmas, tau_t: float, tau_s: float, closure_opts: dict) -> list[dict]:
    """Best (epsilon, lambda) for the training B2 at each fixed sigma, and both errors.

    Weighted least squares over the training rows of argon_sw_b2 (110-500 K),
    ``scipy.optimize.least_squares`` from three starts; r_peak of the best fit
    by the OZ solver with the problem's options.
    """
    import jax
    import jax.numpy as jnp
    from scipy.optimize import least_squares

    from bayesff.observables.structure import FIRST_PEAK_POSITION
    from bayesff.observables.virial import second_virial
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    problem = load_problem("argon_sw_b2")
    sw = problem.potential
    b2 = next(t for t in problem.targets if t.name == "B2")
    rp = next(t for t in problem.targets if t.name == "r_peak")
    T_all = np.asarray(b2.env["T_K"])
    tr = b2.train
    ho = thermo_mask(T_all)
    y, u = b2.values, b2.uncertainties

    @jax.jit
    def b2_of(p, sigma):
        return second_virial(sw, {"epsilon": p[0] * R, "sigma": sigma, "lam": p[1]}, T_all)

    predict = jax.jit(FIRST_PEAK_POSITION.build(sw, **closure_opts))
    env = {c: jnp.asarray(v) for c, v in rp.env.items()}
    out = []
    for s in sigmas:
        best = None
        for start in ((60.0, 1.5), (100.0, 1.7), (150.0, 1.3)):
            res = least_squares(
                lambda p, s=s: (np.asarray(b2_of(jnp.asarray(p), s))[tr] - y[tr]) / u[tr],
                start,
                bounds=([1.0, 1.01], [2000.0, 3.0]),
            )
            if best is None or res.cost < best.cost:
                best = res
        eps, lam = (float(v) for v in best.x)
        b = np.asarray(b2_of(jnp.asarray(best.x), s))
        r = float(predict({"epsilon": eps * R, "sigma": float(s), "lam": lam}, env)[0])
        out.append(
            {
                "sigma": float(s),
                "epsilon_K": eps,
                "lam": lam,
                "chi2_per_point_train": float(2 * best.cost / tr.sum()),
                "max_rel_error_train": float(np.max(np.abs(b[tr] - y[tr]) / np.abs(y[tr]))),
                "thermo_error": float(np.max(np.abs(b[ho] - y[ho]) / np.abs(y[ho]))),
                "r_peak": r,
                "structure_error": abs(r - float(rp.values[0])),
            }
        )
        print(
            f"  profile sigma {s:.3f}: eps {eps:6.1f} K lam {lam:.3f} thermo "
            f"{out[-1]['thermo_error']:.3f} structure {out[-1]['structure_error']:.3f} A",
            flush=True,
        )
    return out


# ------------------------------------------------------------------------- closure check


def closure_check(n: int = 2048) -> list[dict]:
    """VM vs PY for the square well at 85 K, 0.02125 1/A^3 over a grid of the prior.

    sigma in 3.0-3.7 angstrom, epsilon/k in {50, 100, 150} K, lambda in
    {1.2, 1.5, 1.8}: status, r_peak / sigma and first-peak height of each solve,
    and the hard-sphere limit (epsilon -> 0) against Carnahan-Starling.
    """
    import jax

    from bayesff.observables import liquid
    from bayesff.observables.structure import first_peak
    from bayesff.potentials.pair import SQUARE_WELL
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    T, rho = 85.0, 0.02125
    rows = []
    for closure in ("vm", "py"):

        @jax.jit
        def solve(eps, sig, lam, closure=closure):
            p = {"epsilon": eps * R, "sigma": sig, "lam": lam}
            sol = liquid.solve(SQUARE_WELL, p, T, rho, closure=closure, n=n)
            return (sol.status, *first_peak(sol.r, sol.g))

        for sig in (3.0, 3.2, 3.4, 3.6, 3.7):
            for eps in (1e-3, 50.0, 100.0, 150.0):
                for lam in (1.2, 1.5, 1.8):
                    if eps < 1 and lam != 1.5:
                        continue  # hard spheres: lambda does not matter
                    st, rp, gp = (float(x) for x in solve(eps, sig, lam))
                    eta = math.pi / 6 * rho * sig**3
                    rows.append(
                        {
                            "closure": closure,
                            "sigma": sig,
                            "epsilon_K": eps,
                            "lam": lam,
                            "status": int(st),
                            "r_peak_over_sigma": rp / sig,
                            "g_peak": gp,
                            "packing_fraction": eta,
                            "carnahan_starling_contact": (1 - eta / 2) / (1 - eta) ** 3,
                        }
                    )
    for c in ("vm", "py"):
        sw = [r for r in rows if r["closure"] == c and r["epsilon_K"] > 1]
        ok = [r for r in sw if r["status"] == 0]
        rr = [r["r_peak_over_sigma"] for r in ok]
        print(
            f"closure {c}: {len(ok)} of {len(sw)} square-well solves converged; "
            f"r_peak/sigma {min(rr):.4f}-{max(rr):.4f}"
        )
        for r in rows:
            if r["closure"] == c and r["epsilon_K"] < 1:
                print(
                    f"  hard spheres, eta {r['packing_fraction']:.3f}: g_peak "
                    f"{r['g_peak']:.3f} (Carnahan-Starling contact "
                    f"{r['carnahan_starling_contact']:.3f})"
                )
    return rows


# ------------------------------------------------------------------------------- figures


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pair_figure(trees: dict, path: Path, n_max: int = 600) -> None:
    plt = _plt()
    k = len(PARAMS)
    fig, axes = plt.subplots(k, k, figsize=(8.5, 8.0))
    rng = np.random.default_rng(0)
    for label, dt in trees.items():
        x = {p: _flat(dt["posterior"][p]) for p, _ in PARAMS}
        n = x["sigma"].size
        idx = rng.choice(n, size=min(n, n_max), replace=False)
        for i, (pi, li) in enumerate(PARAMS):
            for j, (pj, lj) in enumerate(PARAMS):
                ax = axes[i, j]
                if i == j:
                    ax.hist(
                        x[pi],
                        bins=40,
                        density=True,
                        histtype="step",
                        color=COLORS[label],
                        label=label,
                    )
                elif i > j:
                    ax.scatter(
                        x[pj][idx],
                        x[pi][idx],
                        s=3,
                        alpha=0.35,
                        color=COLORS[label],
                        rasterized=True,
                    )
                else:
                    ax.axis("off")
                if i == k - 1:
                    ax.set_xlabel(lj)
                if j == 0 and i > 0:
                    ax.set_ylabel(li)
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.15, 1.0), frameon=False)
    fig.suptitle("Square well for argon: posteriors of (sigma, epsilon, lambda)")
    fig.text(
        0.5,
        0.005,
        "B2 alone couples all three (a bigger core needs a deeper or wider well); the first "
        "peak pins sigma only;\njoint: sigma from the structure, epsilon and lambda moved by "
        "B2 along its coupling.",
        ha="center",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def errors_figure(errs: dict, prof: list[dict], tau_s: float, tau_t: float, path: Path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    for label, e in errs.items():
        s, t = e["structure_error"], e["thermo_error"]
        ok = np.isfinite(s)
        ax.scatter(
            s[ok],
            100 * t[ok],
            s=4,
            alpha=0.35,
            color=COLORS[label],
            label=f"{label} posterior draws",
            rasterized=True,
        )
        if (~ok).any():
            ax.scatter(
                np.full((~ok).sum(), 1.4),
                100 * t[~ok],
                s=6,
                marker="x",
                color=COLORS[label],
                alpha=0.5,
                label=f"{label}: no OZ solution ({(~ok).mean():.0%}), at the right edge",
            )
    ps = np.array([p["structure_error"] for p in prof])
    pt = np.array([p["thermo_error"] for p in prof])
    ax.plot(ps, 100 * pt, "k.-", lw=1, ms=4, label="profile: best B2 fit at fixed sigma")
    for p in prof[:: max(1, len(prof) // 6)]:
        ax.annotate(
            f"{p['sigma']:.2f}",
            (p["structure_error"], 100 * p["thermo_error"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.add_patch(
        plt.Rectangle(
            (1e-4, 1e-2),
            tau_s - 1e-4,
            100 * tau_t - 1e-2,
            fill=True,
            alpha=0.15,
            color="k",
            label=f"tolerance box (tau_s = {tau_s:g} angstrom, tau_t = {100 * tau_t:g} %)",
        )
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-3, 2.0)
    ax.set_xlabel("structure error |r_peak - 3.707 angstrom| (angstrom)")
    ax.set_ylabel("thermo error: max relative B2 error, held-out states (%)")
    ax.set_title("Square well for argon: structure vs thermo error per posterior draw")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tradeoff_figure(prof: list[dict], tau_s: float, tau_t: float, path: Path) -> None:
    plt = _plt()
    s = np.array([p["sigma"] for p in prof])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
    a1.plot(
        s,
        [p["structure_error"] for p in prof],
        "o-",
        color="tab:orange",
        label="structure error (angstrom)",
    )
    a1.axhline(tau_s, color="tab:orange", ls=":", label=f"tau_s = {tau_s:g} angstrom")
    a1.set_xlabel("sigma (angstrom), (epsilon, lambda) fitted to B2 110-500 K")
    a1.set_ylabel("structure error (angstrom)", color="tab:orange")
    a1b = a1.twinx()
    a1b.semilogy(
        s,
        [100 * p["thermo_error"] for p in prof],
        "s-",
        color="tab:blue",
        label="thermo error (%)",
    )
    a1b.axhline(100 * tau_t, color="tab:blue", ls=":")
    a1b.set_ylabel("max relative B2 error, held-out states (%)", color="tab:blue")
    a1.set_title("Errors of the best B2 fit at fixed sigma")
    a2.plot(s, [p["epsilon_K"] for p in prof], "o-", color="tab:red", label="epsilon/k (K)")
    a2.set_xlabel("sigma (angstrom)")
    a2.set_ylabel("best epsilon/k (K)", color="tab:red")
    a2b = a2.twinx()
    a2b.plot(s, [p["lam"] for p in prof], "s-", color="tab:purple", label="lambda")
    a2b.set_ylabel("best lambda", color="tab:purple")
    a2.set_title("Coupling: the well that B2 asks for at each core size")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------- main


def study_markdown(study: dict) -> str:
    tau_s, tau_t = study["tau_s_angstrom"], study["tau_t_rel"]
    lines = [
        f"Tolerances: tau_s = {tau_s:g} angstrom on r_peak, tau_t = {100 * tau_t:g} % on B2 "
        "(every held-out state).",
        "",
        "| posterior | sigma (angstrom) | epsilon/k (K) | lambda | P(structure) | P(thermo) "
        "| P(joint) | product | failed OZ | structure error (angstrom) | thermo error |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in study["posteriors"].items():
        ps = r["parameters"]
        pr = r["probabilities"]
        se, te = pr["structure_error_angstrom"], pr["thermo_error_rel"]

        def iv(d, f="{:.3g}"):
            return f"{f.format(d['median'])} [{f.format(d['q05'])}, {f.format(d['q95'])}]"

        se_txt = "-" if se["median"] is None else iv(se)
        lines.append(
            f"| {label} | {iv(ps['sigma'], '{:.3f}')} | {iv(ps['epsilon'], '{:.0f}')} | "
            f"{iv(ps['lam'], '{:.2f}')} | {pr['p_structure']:.3f} | {pr['p_thermo']:.3f} | "
            f"{pr['p_joint']:.3f} | {pr['product_of_marginals']:.3f} | "
            f"{pr['failed_oz_fraction']:.1%} | {se_txt} | "
            f"{iv({k: 100 * v for k, v in te.items()}, '{:.3g}')} % |"
        )
    lines += [
        "",
        "Intervals: median [5 %, 95 %] over the posterior draws; probabilities have a "
        "resolution of 1/S (S = "
        + ", ".join(str(r["probabilities"]["n_draws"]) for r in study["posteriors"].values())
        + ").",
        "",
        "Profile (best weighted least-squares B2 fit, 110-500 K, at fixed sigma):",
        "",
        "| sigma (angstrom) | epsilon/k (K) | lambda | chi2/point (train) | max rel. error "
        "(train) | thermo error (held out) | r_peak (angstrom) | structure error (angstrom) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def num(x, fmt, scale=1.0):
        # None: a NaN in the study (no liquid solution at that profile point)
        return "n/a" if x is None else format(scale * x, fmt)

    for p in study["profile"]:
        lines.append(
            f"| {p['sigma']:.2f} | {p['epsilon_K']:.1f} | {p['lam']:.3f} | "
            f"{num(p['chi2_per_point_train'], '.3g')} | "
            f"{num(p['max_rel_error_train'], '.2f', 100)} % | "
            f"{num(p['thermo_error'], '.2f', 100)} % | {num(p['r_peak'], '.3f')} | "
            f"{num(p['structure_error'], '.3f')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reuse", action="store_true", help="load existing runs from --runs")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs", help="run folder (runs/)")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "argon_sw_joint")
    ap.add_argument("--no-report", action="store_true", help="skip the bayesff report HTML")
    ap.add_argument(
        "--closure-check", action="store_true", help="only the VM/PY scan (~1 min), then exit"
    )
    args = ap.parse_args(argv)
    if args.closure_check:
        rows = closure_check()
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "closure_check.json").write_text(json.dumps(rows, indent=1) + "\n")
        return 0

    from bayesff.transferability import evaluate, jsonable

    joint_problem = load_problem("argon_sw_joint")
    tol = joint_problem.tolerance
    tau_s, tau_t = float(tol["r_peak"]["abs"]), float(tol["B2"]["rel"])
    opts = next(t for t in joint_problem.targets if t.name == "r_peak").options

    trees, walls = {}, {}
    for label, name in PROBLEMS.items():
        trees[label], walls[label] = get_run(name, args.runs, args.reuse)

    errs = {label: errors(dt) for label, dt in trees.items()}
    study = {
        "tau_s_angstrom": tau_s,
        "tau_t_rel": tau_t,
        "structure_error": "|r_peak(theta) - r_peak_obs|, angstrom (first_peak_position, "
        f"options {opts})",
        "thermo_error": "max over held-out B2 states (T in 85-105 K and 520-700 K) of "
        "|B2(theta) - B2_obs| / |B2_obs|",
        "posteriors": {},
    }
    for label, dt in trees.items():
        study["posteriors"][label] = {
            "problem": PROBLEMS[label],
            "wall_time_s": walls[label] or dt.attrs.get("wall_time_s"),
            "parameters": posterior_summary(dt),
            "probabilities": probabilities(errs[label], tau_s, tau_t),
        }
    res = evaluate(trees["joint"])
    study["joint_run_verdicts"] = res.verdict_lines()

    print("profile: best B2 fit at fixed sigma", flush=True)
    study["profile"] = profile(np.round(np.arange(2.95, 3.751, 0.05), 3), tau_t, tau_s, opts)

    for label, r in study["posteriors"].items():
        pr = r["probabilities"]
        print(
            f"{label:>15}: P(structure) {pr['p_structure']:.3f}  P(thermo) {pr['p_thermo']:.3f}"
            f"  P(joint) {pr['p_joint']:.3f}  product {pr['product_of_marginals']:.3f}  "
            f"failed OZ {pr['failed_oz_fraction']:.1%}"
        )

    out = args.out
    if not args.no_report:
        from bayesff.report import write_report

        write_report(args.runs / "argon_sw_joint" / "posterior.nc", out, log=print)
    out.mkdir(parents=True, exist_ok=True)
    pair_figure(trees, out / "pairs.png")
    errors_figure(errs, study["profile"], tau_s, tau_t, out / "errors.png")
    tradeoff_figure(study["profile"], tau_s, tau_t, out / "tradeoff.png")
    (out / "study.md").write_text(study_markdown(jsonable(study)))
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summary["square_well_study"] = jsonable(study)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {out}/pairs.png, errors.png, tradeoff.png, study.md, summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
