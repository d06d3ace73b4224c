"""The square-well joint-transferability case: argon B2(T) and the liquid's first peak.

Three posteriors of the square well (sigma, epsilon, lambda) for argon
(``models/argon_sw_*.toml``, :data:`PROBLEMS`):

* ``argon_sw_b2``: B2(T) only (110-500 K), r_peak predicted;
* ``argon_sw_structure``: the nearest-neighbour distance at 85 K only
  (r_peak of the measured g(r), Yarnell et al. 1973), B2 predicted;
* ``argon_sw_joint``: both.

From the posterior draws of each (read through :mod:`bayesff.runfile`),
:func:`errors` gives, draw by draw, the structure error
``|r_peak(theta) - r_peak_obs|`` (angstrom) and the thermo error
``max_n |B2_n(theta) - B2_n,obs| / |B2_n,obs|`` over the held-out B2 states
(:data:`THERMO_T_K`), and :func:`probabilities` the joint tolerance
probability

    P(structure error <= tau_s and thermo error <= tau_t)

(:func:`bayesff.transferability.joint_tolerance_probability`), next to the
marginal probabilities and their product (equal to the joint only if the two
errors were independent under the posterior). A failed OZ solve (no liquid
solution at the parameters: NaN) counts as outside the tolerance and is
reported. :func:`profile` maps the trade-off without sampling: for each sigma
on a grid, (epsilon, lambda) are fitted to the training B2 by weighted least
squares, and both errors of that best fit are computed. :func:`run_study`
does it all and writes the figures and tables of docs/square_well.md.

Run from the repository root (``--reuse`` reads run files already there)::

    python -m studies.square_well [--reuse] [--closure-check]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import least_squares

import bayesff
from bayesff import runfile
from bayesff.inference import calibrate, diagnose
from bayesff.observables import liquid
from bayesff.observables.structure import FIRST_PEAK_POSITION, first_peak
from bayesff.observables.virial import second_virial
from bayesff.potentials.pair import SQUARE_WELL
from bayesff.problem import Problem
from bayesff.report import report
from bayesff.transferability import (
    all_within_tolerance_probability,
    evaluate,
    joint_tolerance_probability,
    jsonable,
    tolerance_probability,
)
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

__all__ = [
    "PARAMS",
    "PROBLEMS",
    "THERMO_T_K",
    "closure_check",
    "errors",
    "errors_figure",
    "get_run",
    "load_problem",
    "main",
    "pair_figure",
    "parser",
    "posterior_summary",
    "probabilities",
    "profile",
    "run_study",
    "study_markdown",
    "target_draws",
    "thermo_mask",
    "tradeoff_figure",
]

PROBLEMS = {
    "B2 only": "argon_sw_b2",
    "structure only": "argon_sw_structure",
    "joint": "argon_sw_joint",
}
COLORS = {"B2 only": "tab:blue", "structure only": "tab:orange", "joint": "tab:green"}
#: The square well's parameters and their axis labels.
PARAMS = (("sigma", "sigma (angstrom)"), ("epsilon", "epsilon/k (K)"), ("lam", "lambda"))
#: Held-out B2 states of the thermo error, K (the [transferability] holdout of the problems).
THERMO_T_K = ((85.0, 109.0), (500.1, 700.0))


# ----------------------------------------------------------------------------------- runs


def load_problem(name: str, models_dir="models"):
    """``models_dir/NAME.toml`` as a :class:`~bayesff.problem.Problem`."""

    return Problem.from_toml(Path(models_dir) / f"{name}.toml")


def get_run(name: str, runs_dir, reuse: bool, models_dir="models", log=print, **overrides):
    """The run of problem ``name``: read from ``runs_dir/NAME/posterior.nc`` with ``reuse``
    if there, else calibrated (and written there). Returns ``(DataTree, wall time s or None)``."""

    log = log or (lambda *a, **k: None)
    path = Path(runs_dir) / name / "posterior.nc"
    if reuse and path.is_file():
        log(f"{name}: reusing {path}")
        return runfile.read(path), None
    problem = load_problem(name, models_dir)
    t0 = time.perf_counter()
    run = calibrate(problem, out=path, force=True, progress=False, log=None, **overrides)
    wall = time.perf_counter() - t0
    log(f"{name}: calibrated in {wall:.0f} s; {run.diagnostics.warnings or 'diagnostics ok'}")
    return run.datatree, wall


def target_draws(dt, target: str):
    """(model draws (S, N), observed (N,), T in K (N,)) of a target's rows.

    Training rows first, then held-out rows (a target is trained, held out, or
    both), draws in (chain, draw) order.
    """

    draws, obs, env = [], [], []
    for kind in ("train", "holdout"):
        rows = runfile.rows(dt, target, kind)
        if rows is None:
            continue
        draws.append(rows.model.reshape(-1, rows.model.shape[2]))
        obs.append(np.asarray(rows.observed, float))
        env.append(np.asarray(rows.env["T"], float))
    if not draws:
        raise KeyError(f"run has no draws of target {target!r}")
    return np.concatenate(draws, axis=1), np.concatenate(obs), np.concatenate(env)


def thermo_mask(T_K, ranges=THERMO_T_K) -> np.ndarray:
    """States whose temperature (K) lies in one of ``ranges`` (inclusive)."""
    T_K = np.asarray(T_K)
    return np.any([(T_K >= lo) & (T_K <= hi) for lo, hi in ranges], axis=0)


def errors(dt, thermo_T_K=THERMO_T_K, *, structure: str = "r_peak", thermo: str = "B2") -> dict:
    """Per-draw structure and thermo errors and the model draws they come from.

    Parameters
    ----------
    dt
        A run with targets ``structure`` (one row) and ``thermo``.
    thermo_T_K
        Temperature ranges (K) of the thermo target's states that count.

    Returns
    -------
    dict
        ``r_peak_model`` (S, 1), ``r_peak_obs`` (1,), ``B2_model`` (S, N),
        ``B2_obs``, ``B2_T_K`` (N,, by temperature), ``structure_error`` (S,,
        angstrom; NaN where the OZ solve failed) and ``thermo_error`` (S,,
        relative).
    """
    r_mod, r_obs, _ = target_draws(dt, structure)
    b_mod, b_obs, b_T = target_draws(dt, thermo)
    m = thermo_mask(b_T, thermo_T_K)
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
        "structure_error": s_err,
        "thermo_error": t_err,
    }


def probabilities(e: dict, tau_s: float, tau_t: float) -> dict:
    """Marginal and joint tolerance probabilities from the aligned draws of :func:`errors`.

    Parameters
    ----------
    e
        :func:`errors` of a run.
    tau_s
        Structure tolerance, angstrom (absolute).
    tau_t
        Thermo tolerance, relative (every held-out state).

    Returns
    -------
    dict
        ``p_structure``, ``p_thermo``, ``p_joint``, ``product_of_marginals``,
        ``n_draws``, ``mc_resolution`` (1/S), ``failed_oz_fraction``, the
        errors' quantiles and their correlation over the draws.
    """

    s_tol, t_tol = {"abs": tau_s}, {"rel": tau_t}
    p_s = float(tolerance_probability(e["r_peak_model"], e["r_peak_obs"], s_tol)[0])
    p_t = all_within_tolerance_probability(e["B2_model"], e["B2_obs"], t_tol)
    p_joint = joint_tolerance_probability(
        {
            "r_peak": (e["r_peak_model"], e["r_peak_obs"], s_tol),
            "B2": (e["B2_model"], e["B2_obs"], t_tol),
        }
    )
    s, t = e["structure_error"], e["thermo_error"]
    ok = np.isfinite(s)
    rho = float(np.corrcoef(s[ok], t[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    return {
        "n_draws": int(s.size),
        "p_structure": p_s,
        "p_thermo": p_t,
        "p_joint": p_joint,
        "product_of_marginals": p_s * p_t,
        "mc_resolution": 1.0 / s.size,
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


def _flat_latent(lat, name: str) -> np.ndarray:
    return np.asarray(lat[name].transpose("chain", "draw", ...).values, float).reshape(-1)


def posterior_summary(dt) -> dict:
    """Mean and 90 % interval of each parameter (and tau_B2), correlations, diagnostics."""

    lat = runfile.latents(dt)
    out = {}
    for p, _ in PARAMS:
        x = _flat_latent(lat, p)
        q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        out[p] = {
            "mean": float(x.mean()),
            "q05": float(q05),
            "median": float(q50),
            "q95": float(q95),
        }
    names = runfile.parameter_names(dt)
    scale = [v for v in lat.data_vars if v not in names and lat[v].ndim == 2]
    for name in scale:  # scalar inadequacy terms (the inferred scale of B2), if any
        x = _flat_latent(lat, name)
        out[name] = {
            "mean": float(x.mean()),
            "q05": float(np.quantile(x, 0.05)),
            "q95": float(np.quantile(x, 0.95)),
        }
    corr = np.corrcoef(np.stack([_flat_latent(lat, p) for p, _ in PARAMS]))
    out["correlation"] = {
        f"{a}-{b}": float(corr[i, j])
        for i, (a, _) in enumerate(PARAMS)
        for j, (b, _) in enumerate(PARAMS)
        if i < j
    }
    out["diagnostics"] = diagnose(dt).as_dict()
    return out


# ------------------------------------------------------------------------------- profile


def _best_b2_fit(b2_of, sigma, y, u, train):
    """Weighted least squares of (epsilon/k, lambda) at fixed sigma, from three starts."""

    best = None
    for start in ((60.0, 1.5), (100.0, 1.7), (150.0, 1.3)):
        res = least_squares(
            lambda p: (np.asarray(b2_of(jnp.asarray(p), sigma))[train] - y[train]) / u[train],
            start,
            bounds=([1.0, 1.01], [2000.0, 3.0]),
        )
        if best is None or res.cost < best.cost:
            best = res
    return best


def profile(sigmas, closure_opts: dict, problem=None, models_dir="models", log=print) -> list:
    """Best (epsilon, lambda) for the training B2 at each fixed sigma, and both errors.

    Weighted least squares over the training rows of ``argon_sw_b2``
    (110-500 K), ``scipy.optimize.least_squares`` from three starts; r_peak of
    the best fit by the OZ solver with ``closure_opts`` (the r_peak target's
    options).

    Parameters
    ----------
    sigmas
        Core diameters, angstrom.
    closure_opts
        Options of ``first_peak_position`` (closure, grid).
    problem
        The B2-only problem (default: ``models_dir/argon_sw_b2.toml``).

    Returns
    -------
    list of dict
        Per sigma: ``epsilon_K``, ``lam``, ``chi2_per_point_train``,
        ``max_rel_error_train``, ``thermo_error`` (held-out states),
        ``r_peak`` and ``structure_error`` (angstrom).
    """

    log = log or (lambda *a, **k: None)
    problem = problem or load_problem("argon_sw_b2", models_dir)
    sw = problem.potential
    b2 = next(t for t in problem.targets if t.name == "B2")
    rp = next(t for t in problem.targets if t.name == "r_peak")
    T_all, tr, y, u = np.asarray(b2.env["T_K"]), b2.train, b2.values, b2.uncertainties
    ho = thermo_mask(T_all)

    @jax.jit
    def b2_of(p, sigma):
        return second_virial(sw, {"epsilon": p[0] * R, "sigma": sigma, "lam": p[1]}, T_all)

    predict = jax.jit(FIRST_PEAK_POSITION.build(sw, **closure_opts))
    env = {c: jnp.asarray(v) for c, v in rp.env.items()}
    out = []
    for s in sigmas:
        best = _best_b2_fit(b2_of, s, y, u, tr)
        eps, lam = (float(v) for v in best.x)
        b = np.asarray(b2_of(jnp.asarray(best.x), s))
        r = float(predict({"epsilon": eps * R, "sigma": float(s), "lam": lam}, env)[0])
        row = {
            "sigma": float(s),
            "epsilon_K": eps,
            "lam": lam,
            "chi2_per_point_train": float(2 * best.cost / tr.sum()),
            "max_rel_error_train": float(np.max(np.abs(b[tr] - y[tr]) / np.abs(y[tr]))),
            "thermo_error": float(np.max(np.abs(b[ho] - y[ho]) / np.abs(y[ho]))),
            "r_peak": r,
            "structure_error": abs(r - float(rp.values[0])),
        }
        out.append(row)
        log(
            f"  profile sigma {s:.3f}: eps {eps:6.1f} K lam {lam:.3f} thermo "
            f"{row['thermo_error']:.3f} structure {row['structure_error']:.3f} A"
        )
    return out


# ------------------------------------------------------------------------- closure check


def _closure_rows(closure: str, n: int) -> list[dict]:

    T, rho = 85.0, 0.02125

    @jax.jit
    def solve(eps, sig, lam):
        p = {"epsilon": eps * R, "sigma": sig, "lam": lam}
        sol = liquid.solve(SQUARE_WELL, p, T, rho, closure=closure, n=n)
        return (sol.status, *first_peak(sol.r, sol.g))

    rows = []
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
    return rows


def closure_check(n: int = 2048, log=print) -> list[dict]:
    """VM vs PY for the square well at 85 K, 0.02125 1/A^3 over a grid of the prior.

    sigma in 3.0-3.7 angstrom, epsilon/k in {50, 100, 150} K, lambda in
    {1.2, 1.5, 1.8}: status, r_peak / sigma and first-peak height of each
    solve, and the hard-sphere limit (epsilon -> 0) against the
    Carnahan-Starling contact value (1 - eta/2) / (1 - eta)^3 (N. F.
    Carnahan and K. E. Starling, J. Chem. Phys. 51, 635 (1969),
    doi:10.1063/1.1672048).
    """
    log = log or (lambda *a, **k: None)
    rows = _closure_rows("vm", n) + _closure_rows("py", n)
    for c in ("vm", "py"):
        sw = [r for r in rows if r["closure"] == c and r["epsilon_K"] > 1]
        ok = [r for r in sw if r["status"] == 0]
        rr = [r["r_peak_over_sigma"] for r in ok] or [math.nan]
        log(
            f"closure {c}: {len(ok)} of {len(sw)} square-well solves converged; "
            f"r_peak/sigma {min(rr):.4f}-{max(rr):.4f}"
        )
        for r in rows:
            if r["closure"] == c and r["epsilon_K"] < 1:
                log(
                    f"  hard spheres, eta {r['packing_fraction']:.3f}: g_peak "
                    f"{r['g_peak']:.3f} (Carnahan-Starling contact "
                    f"{r['carnahan_starling_contact']:.3f})"
                )
    return rows


# ------------------------------------------------------------------------------- figures


def _plt():

    matplotlib.use("Agg")

    return plt


def _pair_panel(ax, i, j, x, idx, label):
    pi, pj = PARAMS[i][0], PARAMS[j][0]
    if i == j:
        ax.hist(x[pi], bins=40, density=True, histtype="step", color=COLORS[label], label=label)
    elif i > j:
        ax.scatter(x[pj][idx], x[pi][idx], s=3, alpha=0.35, color=COLORS[label], rasterized=True)
    else:
        ax.axis("off")


def pair_figure(trees: dict, path, n_max: int = 600) -> None:
    """Pair plot of (sigma, epsilon, lambda) of each posterior."""

    plt = _plt()
    k = len(PARAMS)
    fig, axes = plt.subplots(k, k, figsize=(8.5, 8.0))
    rng = np.random.default_rng(0)
    for label, dt in trees.items():
        lat = runfile.latents(dt)
        x = {p: _flat_latent(lat, p) for p, _ in PARAMS}
        n = x["sigma"].size
        idx = rng.choice(n, size=min(n, n_max), replace=False)
        for i in range(k):
            for j in range(k):
                _pair_panel(axes[i, j], i, j, x, idx, label)
    for i, (_, li) in enumerate(PARAMS):
        axes[k - 1, i].set_xlabel(li)
        if i > 0:
            axes[i, 0].set_ylabel(li)
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


def _draw_errors(ax, errs: dict) -> None:
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


def errors_figure(errs: dict, prof: list[dict], tau_s: float, tau_t: float, path) -> None:
    """Structure vs thermo error per draw, the profile, and the tolerance box."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    _draw_errors(ax, errs)
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


def tradeoff_figure(prof: list[dict], tau_s: float, tau_t: float, path) -> None:
    """The profile: both errors and the best (epsilon, lambda) against sigma."""
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


# ---------------------------------------------------------------------------------- tables


def _iv(d: dict, f: str = "{:.3g}") -> str:
    return f"{f.format(d['median'])} [{f.format(d['q05'])}, {f.format(d['q95'])}]"


def _num(x, fmt: str, scale: float = 1.0) -> str:
    # None: a NaN in the study (no liquid solution at that profile point)
    return "n/a" if x is None else format(scale * x, fmt)


def _posterior_rows(study: dict) -> list[str]:
    lines = []
    for label, r in study["posteriors"].items():
        ps, pr = r["parameters"], r["probabilities"]
        se, te = pr["structure_error_angstrom"], pr["thermo_error_rel"]
        se_txt = "-" if se["median"] is None else _iv(se)
        lines.append(
            f"| {label} | {_iv(ps['sigma'], '{:.3f}')} | {_iv(ps['epsilon'], '{:.0f}')} | "
            f"{_iv(ps['lam'], '{:.2f}')} | {pr['p_structure']:.3f} | {pr['p_thermo']:.3f} | "
            f"{pr['p_joint']:.3f} | {pr['product_of_marginals']:.3f} | "
            f"{pr['failed_oz_fraction']:.1%} | {se_txt} | "
            f"{_iv({k: 100 * v for k, v in te.items()}, '{:.3g}')} % |"
        )
    return lines


def _profile_rows(study: dict) -> list[str]:
    return [
        f"| {p['sigma']:.2f} | {p['epsilon_K']:.1f} | {p['lam']:.3f} | "
        f"{_num(p['chi2_per_point_train'], '.3g')} | "
        f"{_num(p['max_rel_error_train'], '.2f', 100)} % | "
        f"{_num(p['thermo_error'], '.2f', 100)} % | {_num(p['r_peak'], '.3f')} | "
        f"{_num(p['structure_error'], '.3f')} |"
        for p in study["profile"]
    ]


def study_markdown(study: dict) -> str:
    """The posterior and profile tables of :func:`run_study` (a JSON-able study dict)."""
    tau_s, tau_t = study["tau_s_angstrom"], study["tau_t_rel"]
    draws = ", ".join(str(r["probabilities"]["n_draws"]) for r in study["posteriors"].values())
    lines = [
        f"Tolerances: tau_s = {tau_s:g} angstrom on r_peak, tau_t = {100 * tau_t:g} % on B2 "
        "(every held-out state).",
        "",
        "| posterior | sigma (angstrom) | epsilon/k (K) | lambda | P(structure) | P(thermo) "
        "| P(joint) | product | failed OZ | structure error (angstrom) | thermo error |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *_posterior_rows(study),
        "",
        "Intervals: median [5 %, 95 %] over the posterior draws; probabilities have a "
        f"resolution of 1/S (S = {draws}).",
        "",
        "Profile (best weighted least-squares B2 fit, 110-500 K, at fixed sigma):",
        "",
        "| sigma (angstrom) | epsilon/k (K) | lambda | chi2/point (train) | max rel. error "
        "(train) | thermo error (held out) | r_peak (angstrom) | structure error (angstrom) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *_profile_rows(study),
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ study


def _analyse(trees: dict, walls: dict, joint_problem) -> tuple[dict, dict]:

    tol = joint_problem.tolerance
    tau_s, tau_t = float(tol["r_peak"]["abs"]), float(tol["B2"]["rel"])
    opts = next(t for t in joint_problem.targets if t.name == "r_peak").options
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
    study["joint_run_verdicts"] = evaluate(trees["joint"]).verdict_lines()
    return study, errs


def _write(study: dict, errs: dict, trees: dict, out: Path, report_run) -> None:

    if report_run is not None:
        report(report_run, out, log=None)
    out.mkdir(parents=True, exist_ok=True)
    tau_s, tau_t = study["tau_s_angstrom"], study["tau_t_rel"]
    pair_figure(trees, out / "pairs.png")
    errors_figure(errs, study["profile"], tau_s, tau_t, out / "errors.png")
    tradeoff_figure(study["profile"], tau_s, tau_t, out / "tradeoff.png")
    (out / "study.md").write_text(study_markdown(jsonable(study)))
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summary["square_well_study"] = jsonable(study)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")


def run_study(
    *,
    runs="runs",
    out="reports/argon_sw_joint",
    reuse: bool = False,
    report: bool = True,
    models_dir="models",
    log=print,
) -> dict:
    """Run (or, with ``reuse``, read) the three posteriors, analyse them, write the outputs.

    Writes into ``out``: ``index.html`` and ``summary.json`` (``bayesff
    report`` of the joint run, unless ``report`` is false; this study adds its
    numbers to summary.json under ``"square_well_study"``), ``pairs.png``,
    ``errors.png``, ``tradeoff.png`` and ``study.md`` (docs/square_well.md).

    Returns
    -------
    dict
        The study: tolerances, per posterior its parameters and
        probabilities, the joint run's verdicts, and the profile.
    """
    log = log or (lambda *a, **k: None)
    trees, walls = {}, {}
    for label, name in PROBLEMS.items():
        trees[label], walls[label] = get_run(name, runs, reuse, models_dir, log=log)
    joint_problem = load_problem("argon_sw_joint", models_dir)
    study, errs = _analyse(trees, walls, joint_problem)
    log("profile: best B2 fit at fixed sigma")
    opts = next(t for t in joint_problem.targets if t.name == "r_peak").options
    sigmas = np.round(np.arange(2.95, 3.751, 0.05), 3)
    study["profile"] = profile(sigmas, opts, models_dir=models_dir, log=log)
    for label, r in study["posteriors"].items():
        pr = r["probabilities"]
        log(
            f"{label:>15}: P(structure) {pr['p_structure']:.3f}  P(thermo) {pr['p_thermo']:.3f}"
            f"  P(joint) {pr['p_joint']:.3f}  product {pr['product_of_marginals']:.3f}  "
            f"failed OZ {pr['failed_oz_fraction']:.1%}"
        )
    out = Path(out)
    report_run = Path(runs) / PROBLEMS["joint"] / "posterior.nc" if report else None
    _write(study, errs, trees, out, report_run)
    log(f"wrote {out}/pairs.png, errors.png, tradeoff.png, study.md, summary.json")
    return study


OUT = "reports/argon_sw_joint"


def parser() -> argparse.ArgumentParser:
    """The options of :func:`main`."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="runs", help="run folder (default runs/)")
    ap.add_argument("--out", default=OUT, help=f"output folder (default {OUT})")
    ap.add_argument("--models", default="models", help="folder of the problem files")
    ap.add_argument("--reuse", action="store_true", help="read existing run files")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    ap.add_argument("--no-report", action="store_true", help="skip the HTML report")
    ap.add_argument(
        "--closure-check", action="store_true", help="only the VM/PY scan (~1 min), then exit"
    )
    return ap


def main(argv=None) -> int:
    """``python -m studies.square_well``: the three runs, probabilities, profile, figures."""
    args = parser().parse_args(argv)
    bayesff.configure()
    log = None if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    if args.closure_check:
        rows = closure_check(log=log or (lambda *a, **k: None))
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "closure_check.json").write_text(json.dumps(rows, indent=1) + "\n")
        return 0
    run_study(
        runs=args.runs,
        out=args.out,
        reuse=args.reuse,
        report=not args.no_report,
        models_dir=args.models,
        log=log,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
