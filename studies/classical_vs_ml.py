r"""Classical versus ML pair force: transferability over distance, and active learning (SYNTHETIC).

Shows, on a known truth, how a 2-parameter physical model (Lennard-Jones)
and a flexible model (a Gaussian process on the force) trained on the same
distances transfer to other distances, and how the Bayesian intervals of
each behave there; then how choosing the next distance by predictive
uncertainty (:func:`bayesff.workflows.active.query`) compares with random
choice. docs/transfer_ml.md has the results.

Truth (SYNTHETIC; :data:`TRUTH`, the same closed form as
``data/scripts/make_lj_gauss.py``, which wrote the training file): LJ 12-6
with eps/k_B = 120 K, sigma = 3.4 angstrom, plus a Gaussian well
A exp(-(r - r0)^2 / (2 w^2)), A = -0.5 kJ/mol, r0 = 4.4 angstrom,
w = 0.25 angstrom. Labels: the force F = -du/dr at 41 distances on
D0 = [3, 5] angstrom with N(0, 0.1^2) noise (kJ/mol/angstrom),
``data/synthetic_lj_gauss/forces_train.csv``.

Models
------
LJ
    ``lennard_jones`` with a ``pair_force`` target, NUTS through
    :func:`bayesff.calibrate` (no inadequacy term: the physical model as the
    field uses it); the evaluation grid is a held-out group of the problem,
    so the run file holds the posterior force draws there.
    Priors: eps/k_B ~ LogNormal(median 100 K, 0.5), sigma ~ Uniform(2.8, 4.2)
    angstrom.
GP
    :class:`studies.forcegp.ForceGP`: exact Matérn-5/2 GP on F(r)
    (tinygp) with the labels' known noise, hyperparameters at their
    posterior mode.
LJ + HSGP
    LJ plus a Hilbert-space GP correction on u(r)
    (:func:`bayesff.potentials.gp.gp_pair_potential`, box [2.9, 8] angstrom,
    16 basis functions, zero outside the box), NUTS through
    :func:`bayesff.calibrate`, the module's default priors.

Per domain (repulsive [2.7, 3), D0 [3, 5], the well [4, 4.8] inside D0, long
range (5, 8] angstrom): RMS error of the posterior-mean force against the
truth, transferability index T = RMS(domain) / RMS(training distances) (both
against the truth), coverage of the TRUE force by the central 90 % credible
band of the noise-free force, and the band's mean width.

Run from the repository root (about 10 minutes; ``--quick`` for a smoke run)::

    python -m studies.classical_vs_ml [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

import bayesff
from bayesff import runfile
from bayesff.data import load_table
from bayesff.errors import BayesffError
from bayesff.inference import calibrate
from bayesff.observables import get_observable
from bayesff.potentials import get_potential
from bayesff.potentials.gp import gp_pair_potential
from bayesff.priors import PriorSpec
from bayesff.problem import InferenceSettings, Parameter, Problem
from bayesff.targets import Target
from bayesff.transferability import transferability_index
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K
from bayesff.workflows.active import STRATEGIES, active_learning
from studies.forcegp import ForceGP

__all__ = [
    "DEFAULT_DATA",
    "DOMAINS",
    "HSGP_BOX",
    "PROB",
    "TRUTH",
    "U_F",
    "ForcePosterior",
    "active_learning_curve",
    "active_learning_study",
    "band_from_draws",
    "band_from_gaussian",
    "comparison",
    "domain_mask",
    "domain_metrics",
    "eval_distances",
    "fit_hsgp",
    "fit_lj",
    "force_problem",
    "main",
    "noisy_forces",
    "parser",
    "read_training",
    "train_distances",
    "true_energy",
    "true_force",
]

#: The synthetic truth (energies kJ/mol, lengths angstrom; epsilon as E/k_B in K).
TRUTH = {
    "epsilon_K": 120.0,
    "sigma_angstrom": 3.4,
    "well_A_kJ_per_mol": -0.5,
    "well_r0_angstrom": 4.4,
    "well_w_angstrom": 0.25,
}
#: Standard deviation of the label noise, kJ/mol/angstrom.
U_F = 0.1
#: The training file, relative to the repository root.
DEFAULT_DATA = "data/synthetic_lj_gauss/forces_train.csv"
#: Evaluation domains, angstrom: name -> (low, high, low inclusive, high inclusive).
DOMAINS = {
    "repulsive": (2.7, 3.0, True, False),
    "D0": (3.0, 5.0, True, True),
    "well": (4.0, 4.8, True, True),
    "long_range": (5.0, 8.0, False, True),
}
DOMAIN_LABELS = {
    "repulsive": "repulsive [2.7, 3.0)",
    "D0": "training domain D0 [3, 5]",
    "well": "well region [4.0, 4.8] (in D0)",
    "long_range": "long range (5, 8]",
}
#: Central credible probability of the bands.
PROB = 0.9
#: The LJ + HSGP potential of the third model: box and basis (angstrom).
HSGP_BOX = {"basis": 16, "r_min": 2.9, "r_c": 8.0}


# ------------------------------------------------------------------------------------ truth


def train_distances() -> np.ndarray:
    """The training distances: 3.00 to 5.00 angstrom every 0.05 (41 points)."""
    return np.round(np.linspace(3.0, 5.0, 41), 10)


def eval_distances() -> np.ndarray:
    """The evaluation grid: 2.70 to 8.00 angstrom every 0.02 (266 points)."""
    return np.round(np.linspace(2.7, 8.0, 266), 10)


def _unpack(truth: dict) -> tuple[float, float, float, float, float]:
    return (
        truth["epsilon_K"] * GAS_CONSTANT_KJ_PER_MOL_K,
        truth["sigma_angstrom"],
        truth["well_A_kJ_per_mol"],
        truth["well_r0_angstrom"],
        truth["well_w_angstrom"],
    )


def true_energy(r, truth: dict = TRUTH) -> np.ndarray:
    r"""u(r) in kJ/mol at r in angstrom: LJ plus the Gaussian well (A = 0: plain LJ).

    .. math:: u = 4\varepsilon[(\sigma/r)^{12} - (\sigma/r)^6] + A e^{-(r - r_0)^2 / 2w^2}
    """
    eps, sigma, a, r0, w = _unpack(truth)
    r = np.asarray(r, dtype=float)
    s6 = (sigma / r) ** 6
    return 4.0 * eps * (s6 * s6 - s6) + a * np.exp(-((r - r0) ** 2) / (2.0 * w * w))


def true_force(r, truth: dict = TRUTH) -> np.ndarray:
    """F(r) = -du/dr in kJ/mol/angstrom at r in angstrom (positive: repulsive)."""
    eps, sigma, a, r0, w = _unpack(truth)
    r = np.asarray(r, dtype=float)
    s6 = (sigma / r) ** 6
    lj = 24.0 * eps / r * (2.0 * s6 * s6 - s6)
    well = a * (r - r0) / (w * w) * np.exp(-((r - r0) ** 2) / (2.0 * w * w))
    return lj + well


def noisy_forces(r, rng: np.random.Generator, u_F: float = U_F, truth: dict = TRUTH):
    """F(r) plus independent N(0, u_F^2) noise (kJ/mol/angstrom)."""
    r = np.asarray(r, dtype=float)
    return true_force(r, truth) + u_F * rng.standard_normal(r.shape)


def domain_mask(r, name: str) -> np.ndarray:
    """Rows of ``r`` (angstrom) in domain ``name`` (a key of :data:`DOMAINS`)."""
    lo, hi, lo_in, hi_in = DOMAINS[name]
    r = np.asarray(r)
    eps = 1e-9
    above = r >= lo - eps if lo_in else r > lo + eps
    below = r <= hi + eps if hi_in else r < hi - eps
    return above & below


def read_training(path=DEFAULT_DATA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(r angstrom, F, u_F kJ/mol/angstrom) from the training file, checked against the truth.

    The file is read through :func:`bayesff.data.load_table` (manifest entry,
    sha256, units); its noise-free column must equal :func:`true_force`.

    Raises
    ------
    DataError
        For a file that is missing, not in its manifest, or altered.
    BayesffError
        If its exact forces are not those of :data:`TRUTH`.
    """

    cols = {
        "r_angstrom": "length",
        "F_kJ_per_mol_A": "force",
        "u_F_kJ_per_mol_A": "force",
        "F_exact_kJ_per_mol_A": "force",
    }
    t = load_table(path, cols, where="classical_vs_ml training file")
    r = t.columns["r_angstrom"]
    if not np.allclose(t.columns["F_exact_kJ_per_mol_A"], true_force(r), rtol=0, atol=1e-8):
        raise BayesffError("the exact forces differ from the study's truth; regenerate", str(path))
    return r, t.columns["F_kJ_per_mol_A"], t.columns["u_F_kJ_per_mol_A"]


# ------------------------------------------------------------------------- calibrated models


def force_problem(
    r,
    f,
    u,
    *,
    r_eval=None,
    f_eval=None,
    seed: int = 0,
    chains: int = 2,
    warmup: int = 400,
    samples: int = 500,
    potential=None,
    name: str = "lj_force_D0",
):
    """A Problem: a pair potential fitted to forces ``f`` (kJ/mol/angstrom) at ``r`` (angstrom).

    Parameters
    ----------
    r, f, u
        Training distances, forces and their standard uncertainties.
    r_eval, f_eval
        Evaluation distances and the true forces there: the held-out group
        ``"grid"``, where the run stores the posterior force draws.
    seed, chains, warmup, samples
        Inference settings.
    potential
        A pair potential with LJ's epsilon and sigma among its parameters
        (default LJ; the LJ + HSGP potential); its other parameters keep
        their default priors.
    name
        The problem's name.
    """

    r_all, f_all, u_all = (
        np.asarray(r, float),
        np.asarray(f, float),
        np.broadcast_to(u, np.shape(r)),
    )
    train = np.ones(r_all.size, bool)
    if r_eval is not None:
        if f_eval is None or np.shape(f_eval) != np.shape(r_eval):
            raise BayesffError("r_eval needs f_eval (the true forces there), of the same shape")
        r_all = np.concatenate([r_all, np.asarray(r_eval, float)])
        f_all = np.concatenate([f_all, np.asarray(f_eval, float)])
        u_all = np.concatenate([u_all, np.full(np.size(r_eval), float(np.mean(u)))])
        train = np.concatenate([train, np.zeros(np.size(r_eval), bool)])
    target = Target.from_arrays(
        "F", get_observable("pair_force"), {"r_angstrom": r_all}, f_all, u_all, train=train
    )
    if (~train).any():
        target = target.replace(holdout={"grid": ~train})
    return Problem(
        name=name,
        description="pair potential from synthetic pair forces on [3, 5] angstrom",
        potential=potential or get_potential("lennard_jones"),
        parameters={
            "epsilon": Parameter(
                "epsilon", "K", PriorSpec("LogNormal", {"median": 100.0, "scale": 0.5})
            ),
            "sigma": Parameter(
                "sigma", "angstrom", PriorSpec("Uniform", {"low": 2.8, "high": 4.2})
            ),
        },
        targets=[target],
        inference=InferenceSettings(
            chains=chains, warmup=warmup, samples=samples, seed=seed, prior_draws=10
        ),
    )


@dataclass
class ForcePosterior:
    """Posterior draws of the noise-free force at the distances a run holds.

    ``posterior(x)`` returns the ``(n_draws, len(x))`` draws at distances
    ``x`` (angstrom), each of which must be a training or evaluation
    distance of the run (the draws are read from the run file, not
    recomputed).

    Attributes
    ----------
    r
        Every distance with draws (training first, then the evaluation grid).
    draws
        ``(n_draws, len(r))`` force draws, kJ/mol/angstrom.
    """

    r: np.ndarray
    draws: np.ndarray

    @classmethod
    def from_run(cls, run, target: str = "F") -> ForcePosterior:
        """Training and held-out rows of ``target`` from a run (result, DataTree or path)."""

        dt = runfile.read(run) if isinstance(run, (str, Path)) else getattr(run, "datatree", run)
        rs, ds = [], []
        for kind in ("train", "holdout"):
            rows = runfile.rows(dt, target, kind)
            if rows is not None:
                rs.append(np.asarray(rows.env["r"], float))
                ds.append(rows.model.reshape(-1, rows.model.shape[2]))
        return cls(np.concatenate(rs), np.concatenate(ds, axis=1))

    def __call__(self, x) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, float))
        hit = np.isclose(x[:, None], self.r[None, :], rtol=0, atol=1e-9)
        missing = ~hit.any(axis=1)
        if missing.any():
            raise BayesffError(
                f"no draws at r = {x[missing][:5]} angstrom: the run holds draws at its "
                "training distances and its evaluation grid only (pass r_eval when fitting)"
            )
        return self.draws[:, hit.argmax(axis=1)]


def _fit(problem):

    run = calibrate(problem, progress=False, log=None)
    return ForcePosterior.from_run(run), run, problem


def fit_lj(r, f, u, *, r_eval=None, f_eval=None, **settings):
    """NUTS fit of LJ; returns ``(posterior, run, problem)``.

    ``posterior(x)`` gives the ``(n_draws, len(x))`` posterior force draws at
    training or evaluation distances ``x`` (:class:`ForcePosterior`).
    ``settings``: ``seed``, ``chains``, ``warmup``, ``samples`` (see
    :func:`force_problem`).
    """
    return _fit(force_problem(r, f, u, r_eval=r_eval, f_eval=f_eval, **settings))


def fit_hsgp(r, f, u, *, r_eval=None, f_eval=None, **settings):
    """NUTS fit of LJ + an HSGP correction on u(r); returns ``(posterior, run, problem)``."""

    pot = gp_pair_potential("lennard_jones", **HSGP_BOX)
    problem = force_problem(
        r, f, u, r_eval=r_eval, f_eval=f_eval, potential=pot, name="lj_hsgp_force_D0", **settings
    )
    return _fit(problem)


# ---------------------------------------------------------------------------------- metrics


def band_from_draws(draws, prob: float = PROB) -> dict:
    """Posterior mean and central ``prob`` band (quantiles) of ``(S, N)`` draws."""
    lo, hi = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return {"mean": draws.mean(axis=0), "lo": lo, "hi": hi}


def band_from_gaussian(mean, var, prob: float = PROB) -> dict:
    """Exact mean and central ``prob`` band of a Gaussian posterior (no Monte Carlo error)."""

    half = norm.ppf(0.5 + prob / 2) * np.sqrt(var)
    return {"mean": np.asarray(mean), "lo": mean - half, "hi": mean + half}


def domain_metrics(mean_train, f_train, r_grid, band: dict, f_grid) -> dict:
    """Per domain: RMS error, T, coverage of the truth, band width.

    Parameters
    ----------
    mean_train, f_train
        Posterior-mean and TRUE force at the training distances (kJ/mol/angstrom).
    r_grid, band, f_grid
        Evaluation distances (angstrom), the posterior band there
        (:func:`band_from_draws` or :func:`band_from_gaussian`), TRUE force.

    Returns
    -------
    dict
        ``train_rmse`` and, per domain, ``n``, ``rmse``, ``T``, ``coverage``
        (fraction of grid points whose true force is inside the band),
        ``width`` (mean band width). Forces in kJ/mol/angstrom; T and coverage
        dimensionless.
    """

    mean_train = np.asarray(mean_train)
    out = {"train_rmse": float(np.sqrt(np.mean((mean_train - f_train) ** 2)))}
    for name in DOMAINS:
        m = domain_mask(r_grid, name)
        mean, lo, hi = band["mean"][m], band["lo"][m], band["hi"][m]
        out[name] = {
            "n": int(m.sum()),
            "rmse": float(np.sqrt(np.mean((mean - f_grid[m]) ** 2))),
            "T": float(transferability_index(mean_train, f_train, mean, f_grid[m])),
            "coverage": float(np.mean((f_grid[m] >= lo) & (f_grid[m] <= hi))),
            "width": float(np.mean(hi - lo)),
        }
    return out


# ------------------------------------------------------------------------------ comparison


def _posterior_entry(run, names) -> dict:

    lat = runfile.latents(run.datatree)
    return {
        n: {
            "mean": float(lat[n].mean()),
            "sd": float(lat[n].std()),
            "unit": str(lat[n].attrs.get("units", "")),
        }
        for n in names
    }


def _calibrated_entry(what, fitted, names, f_train, r_grid, f_grid, r, t0) -> tuple[dict, dict]:
    post, run, _ = fitted
    band = band_from_draws(post(r_grid))
    entry = {
        "what": what,
        "posterior": _posterior_entry(run, names),
        "diagnostics": {"warnings": run.diagnostics.warnings},
        "fit_s": time.perf_counter() - t0,
        "metrics": domain_metrics(post(r).mean(axis=0), f_train, r_grid, band, f_grid),
    }
    return entry, band


def comparison(
    *,
    data=DEFAULT_DATA,
    seed: int = 0,
    quick: bool = False,
    hsgp: bool = True,
    out=None,
    log=print,
) -> dict:
    """Fit LJ, the GP (and LJ + HSGP) on the training file; metrics per domain.

    Parameters
    ----------
    data
        The training file (:func:`read_training`).
    seed
        Seed of the NUTS fits.
    quick
        250 instead of 1000 draws (LJ), 150 instead of 400 (LJ + HSGP).
    hsgp
        Include the LJ + HSGP model (the slowest fit).
    out
        Folder for ``comparison.{md,json,png}`` (``None``: write nothing).
    log
        Where progress lines go (``None``: silence).

    Returns
    -------
    dict
        ``truth``, ``u_F``, ``prob``, ``n_train`` and ``models``: per model
        ``what``, ``posterior`` or ``hyperparameters``, ``fit_s`` and
        ``metrics`` (:func:`domain_metrics`).
    """

    log = log or (lambda *a, **k: None)
    r, f, u = read_training(data)
    r_grid = eval_distances()
    f_grid, f_train = true_force(r_grid), true_force(r)
    res = {"truth": TRUTH, "u_F": U_F, "prob": PROB, "n_train": int(r.size), "models": {}}
    grid = {"r_eval": r_grid, "f_eval": f_grid}
    n = 250 if quick else 1000
    t0 = time.perf_counter()
    fitted = fit_lj(r, f, u, seed=seed, chains=2, warmup=n, samples=n, **grid)
    what = "Lennard-Jones 12-6, NUTS (bayesff.calibrate), no inadequacy term"
    res["models"]["LJ"], lj_band = _calibrated_entry(
        what, fitted, ("epsilon", "sigma"), f_train, r_grid, f_grid, r, t0
    )
    log(f"LJ fitted in {res['models']['LJ']['fit_s']:.1f} s")
    t0 = time.perf_counter()
    gp = ForceGP.fit(r, f, u)
    gp_band = band_from_gaussian(*gp.predict(r_grid))
    res["models"]["GP"] = {
        "what": "zero-mean GP on F(r), Matern-5/2 kernel (tinygp), closed form, type-II MAP "
        "hyperparameters",
        "hyperparameters": {"amplitude_kJ_per_mol_A": gp.amplitude, "length_angstrom": gp.length},
        "fit_s": time.perf_counter() - t0,
        "metrics": domain_metrics(gp.predict(r)[0], f_train, r_grid, gp_band, f_grid),
    }
    fit_s = res["models"]["GP"]["fit_s"]
    log(f"GP fitted in {fit_s:.1f} s: a = {gp.amplitude:.3g}, l = {gp.length:.3g}")
    bands = {"LJ": lj_band, "GP": gp_band}
    if hsgp:
        t0 = time.perf_counter()
        m = 150 if quick else 400
        fitted = fit_hsgp(r, f, u, seed=seed, warmup=m, samples=m, **grid)
        what = (
            f"LJ + HSGP correction f(r) on u (bayesff.potentials.gp, {HSGP_BOX['basis']} sine "
            f"basis functions on [{HSGP_BOX['r_min']}, {HSGP_BOX['r_c']}] angstrom, f = 0 "
            "outside), NUTS (bayesff.calibrate), default GP priors"
        )
        names = ("epsilon", "sigma", "amplitude", "length_scale")
        res["models"]["LJ + HSGP"], bands["LJ + HSGP"] = _calibrated_entry(
            what, fitted, names, f_train, r_grid, f_grid, r, t0
        )
        log(f"LJ + HSGP fitted in {res['models']['LJ + HSGP']['fit_s']:.1f} s")
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        comparison_figure(r, f, r_grid, f_grid, bands, out / "comparison.png")
        (out / "comparison.json").write_text(json.dumps(res, indent=2, default=float) + "\n")
        (out / "comparison.md").write_text(comparison_markdown(res))
    return res


def comparison_markdown(res: dict) -> str:
    """The per-domain table of :func:`comparison` as markdown."""
    head = (
        "| model | domain | n | RMS error (kJ/mol/Å) | T = RMS / RMS(train) | "
        f"{PROB:.0%} coverage of truth | mean {PROB:.0%} width (kJ/mol/Å) |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
    )
    rows = []
    for m, d in res["models"].items():
        mt = d["metrics"]
        rows.append(
            f"| {m} | training distances | {res['n_train']} | {mt['train_rmse']:.3g} | 1 | | |"
        )
        for name in DOMAINS:
            x = mt[name]
            rows.append(
                f"| {m} | {DOMAIN_LABELS[name]} | {x['n']} | {x['rmse']:.3g} | {x['T']:.3g} | "
                f"{x['coverage']:.2f} | {x['width']:.3g} |"
            )
    return (
        "<!-- generated by python -m studies.classical_vs_ml; do not edit -->\n"
        "SYNTHETIC truth: LJ (eps/k_B = 120 K, sigma = 3.4 Å) + Gaussian well "
        "(A = -0.5 kJ/mol, r0 = 4.4 Å, w = 0.25 Å); 41 force labels on [3, 5] Å, noise sd "
        f"{res['u_F']} kJ/mol/Å. Errors and coverage against the TRUE force on a 0.02 Å grid.\n\n"
        + head
        + "\n".join(rows)
        + "\n"
    )


def _plt():

    matplotlib.use("Agg")

    return plt


def comparison_figure(r, f, r_grid, f_grid, bands: dict, path) -> None:
    """Truth, labels and each model's mean and band (full range and a zoom)."""
    plt = _plt()
    colours = {"LJ": "tab:red", "GP": "tab:blue", "LJ + HSGP": "tab:green"}
    fig, axes = plt.subplots(2, 1, figsize=(8, 8), constrained_layout=True)
    for ax, (ylim, yscale) in zip(axes, (((-5, 300), "symlog"), ((-3, 3), "linear")), strict=True):
        ax.axvspan(3.0, 5.0, color="0.93", label="training domain D0")
        ax.plot(r_grid, f_grid, "k-", lw=1.5, label="truth (LJ + Gaussian well)")
        for name, b in bands.items():
            c = colours.get(name, "tab:gray")
            ax.fill_between(r_grid, b["lo"], b["hi"], color=c, alpha=0.25, lw=0)
            ax.plot(r_grid, b["mean"], color=c, lw=1.2, label=f"{name}: mean, {PROB:.0%} band")
        ax.plot(r, f, "k.", ms=4, label="labels (noise sd 0.1)")
        ax.set_yscale(yscale, **({"linthresh": 1.0} if yscale == "symlog" else {}))
        ax.set_ylim(*ylim)
        ax.set_xlim(2.7, 8.0)
        ax.set_xlabel("r (Å)")
        ax.set_ylabel("F (kJ/mol/Å)")
    axes[0].set_title("Pair force: truth, labels on D0, and each model's posterior")
    axes[1].set_title("zoom on the well and the long range")
    axes[0].legend(fontsize=8, loc="upper right")
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -------------------------------------------------------------------------- active learning


@dataclass
class _Committee:
    """A fitted GP as the model of :func:`~bayesff.workflows.active.active_learning`."""

    gp: object
    n: int
    rng: np.random.Generator

    def variance(self, x):
        return self.gp.variance(x)

    def draws(self, x):
        return self.gp.draws(x, self.n, self.rng)


def active_learning_curve(
    strategy: str,
    seed: int,
    *,
    pool=None,
    r_eval=None,
    n_start: int = 3,
    n_max: int = 30,
    k: int = 1,
    threshold_sd: float = 1.0,
    n_committee: int = 64,
) -> dict:
    """One active-learning run with the GP: label, refit, query; RMS error per label count.

    Parameters
    ----------
    strategy
        ``"variance"`` (GP predictive variance), ``"committee"`` (sd over
        ``n_committee`` GP posterior draws) or ``"random"``
        (:data:`bayesff.workflows.active.STRATEGIES`).
    seed
        Seeds the start labels, the label noise and the random choice.
    pool
        Candidate distances, angstrom (default 2.7 to 8.0, 107 points).
    r_eval
        Distances where the RMS error against the truth is measured (default
        :func:`eval_distances`).
    n_start, n_max, k
        Start labels (random distances in D0), the label budget, labels per round.
    threshold_sd
        Stopping threshold on the predictive sd (kJ/mol/angstrom): the label count
        at which the query with it first returns nothing is recorded.
    n_committee
        Committee size (GP draws) of the committee strategy.

    Returns
    -------
    dict
        ``n_labels``, ``rmse`` (whole grid), ``rmse_D0``, ``max_sd`` (over the
        pool), ``labelled`` distances, ``converged_at`` (label count or None).

    Raises
    ------
    ValueError
        For an unknown strategy.
    """

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    pool = np.round(np.linspace(2.7, 8.0, 107), 10) if pool is None else np.asarray(pool)
    r_eval = eval_distances() if r_eval is None else np.asarray(r_eval)
    f_eval = true_force(r_eval)
    in_d0 = domain_mask(r_eval, "D0")
    rng = np.random.default_rng(seed)
    start = rng.choice(np.flatnonzero(domain_mask(pool, "D0")), n_start, replace=False)

    def fit(x, y):
        return _Committee(
            ForceGP.fit(x, y, U_F), n_committee, np.random.default_rng([seed, len(x)])
        )

    def evaluate(model):
        mean, _ = model.gp.predict(r_eval)
        err = mean - f_eval
        return {
            "rmse": float(np.sqrt(np.mean(err**2))),
            "rmse_D0": float(np.sqrt(np.mean(err[in_d0] ** 2))),
            "max_sd": float(np.sqrt(model.variance(pool)).max()),
        }

    thr = threshold_sd**2 if strategy == "variance" else threshold_sd
    rounds = active_learning(
        fit,
        lambda x: noisy_forces(x, rng),
        pool,
        start,
        n_max=n_max,
        strategy=strategy,
        k=k,
        threshold=thr,
        evaluate=evaluate,
        rng=rng,
    )
    out = {key: [r.metrics[key] for r in rounds] for key in ("rmse", "rmse_D0", "max_sd")}
    out["n_labels"] = [r.n_labels for r in rounds]
    out["converged_at"] = next((r.n_labels for r in rounds if r.converged), None)
    out["labelled"] = [float(x) for x in pool[rounds[-1].labelled]]
    return out


def active_learning_study(
    *, seeds=range(5), n_max: int = 45, threshold_sd: float = 1.0, out=None, log=print
) -> dict:
    """Every strategy over several seeds: median curves; figure and table in ``out``."""

    log = log or (lambda *a, **k: None)
    t0 = time.perf_counter()
    curves = {
        s: [active_learning_curve(s, i, n_max=n_max, threshold_sd=threshold_sd) for i in seeds]
        for s in STRATEGIES
    }
    summary = {}
    for s, runs in curves.items():
        e = np.array([c["rmse"] for c in runs])
        summary[s] = {
            "median_rmse": np.median(e, axis=0).tolist(),
            "q25_rmse": np.quantile(e, 0.25, axis=0).tolist(),
            "q75_rmse": np.quantile(e, 0.75, axis=0).tolist(),
            "median_rmse_D0": np.median([c["rmse_D0"] for c in runs], axis=0).tolist(),
            "converged_at": [c["converged_at"] for c in runs],
        }
    res = {
        "n_labels": curves["random"][0]["n_labels"],
        "seeds": list(seeds),
        "pool": "2.7 to 8.0 angstrom every 0.05 (107 distances)",
        "threshold_sd_kJ_per_mol_A": threshold_sd,
        "summary": summary,
        "curves": curves,
        "wall_s": time.perf_counter() - t0,
    }
    log(
        f"active learning: {len(list(seeds))} seeds x {len(STRATEGIES)} strategies in "
        f"{res['wall_s']:.1f} s"
    )
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        active_learning_figure(res, out / "active_learning.png")
        (out / "active_learning.json").write_text(json.dumps(res, indent=1, default=float) + "\n")
        (out / "active_learning.md").write_text(active_learning_markdown(res))
    return res


def active_learning_markdown(res: dict, at=(5, 10, 20, 30, 45)) -> str:
    """The median RMS error per strategy at a few label counts, as markdown."""
    n = res["n_labels"]
    at = [a for a in at if a in n]
    head = (
        "| strategy | "
        + " | ".join(f"RMS @ {a} labels" for a in at)
        + f" | RMS in D0 @ {at[-1]} | stopped at (sd < {res['threshold_sd_kJ_per_mol_A']} "
        "kJ/mol/Å), per seed |\n| --- | " + " | ".join("---:" for _ in at) + " | ---: | --- |\n"
    )
    rows = []
    for s, d in res["summary"].items():
        cells = [f"{d['median_rmse'][n.index(a)]:.3g}" for a in at]
        conv = ", ".join("-" if c is None else str(c) for c in d["converged_at"])
        rows.append(
            f"| {s} | "
            + " | ".join(cells)
            + f" | {d['median_rmse_D0'][n.index(at[-1])]:.3g} | "
            + (conv if s != "random" else "n/a")
            + " |"
        )
    return (
        "<!-- generated by python -m studies.classical_vs_ml; do not edit -->\n"
        f"Median over {len(res['seeds'])} seeds of the RMS error (kJ/mol/Å) of the GP "
        "posterior-mean force against the truth on [2.7, 8] Å (0.02 Å grid); start: 3 random "
        "labels in D0; one label per round.\n\n" + head + "\n".join(rows) + "\n"
    )


def active_learning_figure(res: dict, path) -> None:
    """Median RMS error (with the inter-quartile range) against the number of labels."""
    plt = _plt()
    n = np.asarray(res["n_labels"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    colours = {"variance": "tab:blue", "committee": "tab:orange", "random": "tab:gray"}
    for s, d in res["summary"].items():
        c = colours[s]
        axes[0].plot(n, d["median_rmse"], color=c, label=s)
        axes[0].fill_between(n, d["q25_rmse"], d["q75_rmse"], color=c, alpha=0.2, lw=0)
        axes[1].plot(n, d["median_rmse_D0"], color=c, label=s)
    axes[0].set_title("RMS error on [2.7, 8] Å (median, IQR over seeds)")
    axes[1].set_title("RMS error inside D0 = [3, 5] Å (median)")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("number of labels")
        ax.set_ylabel("RMS force error (kJ/mol/Å)")
        ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_study(
    *,
    out="reports/classical_vs_ml",
    data=DEFAULT_DATA,
    seed: int = 0,
    quick: bool = False,
    hsgp: bool = True,
    log=print,
) -> dict:
    """The whole study: :func:`comparison` and :func:`active_learning_study`, written to ``out``.

    ``quick``: fewer draws, 2 seeds and 20 labels (a smoke test). Returns
    ``{"comparison": ..., "active_learning": ...}``.
    """
    comp = comparison(data=data, seed=seed, quick=quick, hsgp=hsgp, out=out, log=log)
    al = active_learning_study(
        seeds=range(2) if quick else range(5), n_max=20 if quick else 45, out=out, log=log
    )
    return {"comparison": comp, "active_learning": al}


def parser() -> argparse.ArgumentParser:
    """The options of :func:`main`."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="reports/classical_vs_ml", help="output folder")
    ap.add_argument(
        "--data", default=DEFAULT_DATA, help="training file (default: the shipped one)"
    )
    ap.add_argument("--seed", type=int, default=0, help="NUTS seed")
    ap.add_argument("--quick", action="store_true", help="fewer draws and seeds (smoke test)")
    ap.add_argument("--no-hsgp", action="store_true", help="skip the LJ + HSGP model")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    return ap


def main(argv=None) -> int:
    """``python -m studies.classical_vs_ml``: the study, its tables printed."""
    args = parser().parse_args(argv)
    bayesff.configure()
    res = run_study(
        out=args.out,
        data=args.data,
        seed=args.seed,
        quick=args.quick,
        hsgp=not args.no_hsgp,
        log=None if args.quiet else (lambda *a, **k: print(*a, **k, flush=True)),
    )
    print(comparison_markdown(res["comparison"]))
    print(active_learning_markdown(res["active_learning"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
