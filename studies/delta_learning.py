"""Delta learning: a GP correction on a cheap potential needs fewer accurate points.

Two GP pair potentials (:mod:`bayesff.potentials.gp`) learn argon's accurate
dimer curve, Aziz's HFD-ID1 (R. A. Aziz, J. Chem. Phys. 99, 4518 (1993),
doi:10.1063/1.466106; :func:`bayesff.potentials.reference.hfdid1`), from n
accurate energies:

* ``delta``: u = LJ(eps/k = 119.8 K, sigma = 3.405 angstrom) + f(r): the GP
  learns only the correction from the cheap potential to the accurate one;
* ``direct``: u = u_WCA(r) + f(r), the same LJ's repulsive wall only (the
  Weeks-Chandler-Andersen repulsion, LJ + eps below its minimum 2^(1/6) sigma,
  0 beyond; J. D. Weeks, D. Chandler and H. C. Andersen, J. Chem. Phys. 54,
  5237 (1971), doi:10.1063/1.1674820): the GP learns the whole well and tail;
* ``direct_r12``: u = 4 eps (sigma/r)^12 + f(r), a cruder wall (it fails in
  an instructive way: the GP must also soften the wall by several kJ/mol,
  which a stationary GP cannot do with a few points).

All use the same GP (:data:`BOX`: 24 sine basis functions on [2.9, 12]
angstrom, switch 0.2 angstrom), the same hyperpriors (amplitude ~
HalfNormal(1 kJ/mol), length scale ~ LogNormal(median 1 angstrom, sd of ln
0.5)) and the same fit: :func:`studies.empirical_bayes.grid_empirical_bayes`
on a 40 x 40 grid, then the exact posterior mean of the weights. Training
radii: n points evenly spaced on [3.3, 9.0] angstrom; test: the RMS error
against HFD-ID1 on 500 points on [3.3, 10.0] angstrom (the well and the tail;
at 3.3 angstrom u = 0.47 kJ/mol, in the thermally accessible part of the
wall). docs/gp.md has the results.

Run from the repository root::

    python -m studies.delta_learning [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import jax.numpy as jnp
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

import bayesff
from bayesff.potentials import LENNARD_JONES, PairPotential
from bayesff.potentials.gp import gp_pair_potential, predict
from bayesff.potentials.reference import hfdid1
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K
from studies.empirical_bayes import grid_empirical_bayes, half_normal_log_normal

__all__ = [
    "AMPLITUDE_GRID",
    "BOX",
    "LENGTH_GRID",
    "LJ_ARGON",
    "MODELS",
    "N_POINTS",
    "TEST_RANGE",
    "TRAIN_RANGE",
    "WALL",
    "WCA",
    "figure",
    "fit",
    "main",
    "models",
    "noise_sd",
    "parser",
    "points_needed",
    "rms_error",
    "run_study",
    "study",
    "training_radii",
]

#: Classic LJ argon (Michels et al. 1949; Hirschfelder, Curtiss and Bird 1954), internal units.
LJ_ARGON = {"epsilon": 119.8 * GAS_CONSTANT_KJ_PER_MOL_K, "sigma": 3.405}
#: Numbers of accurate points of the study.
N_POINTS = (3, 5, 8, 12, 20)
#: Training and test ranges, angstrom.
TRAIN_RANGE = (3.3, 9.0)
TEST_RANGE = (3.3, 10.0)
MODELS = ("delta", "direct", "direct_r12")
#: The GP box of every model (angstrom).
BOX = {"basis": 24, "r_min": 2.9, "r_c": 12.0, "switch_width": 0.2}
#: Hyperparameter grids: amplitude (kJ/mol) and length scale (angstrom).
AMPLITUDE_GRID = np.geomspace(1e-3, 5.0, 40)
LENGTH_GRID = np.geomspace(0.35, 5.0, 40)


def noise_sd(u):
    """Assumed accuracy of an "accurate" energy, kJ/mol: 0.01 |u| + 0.002.

    The same chosen weight as data/argon_aziz/dimer_target.csv (u_E). HFD-ID1
    values are exact model evaluations; the noise term stands for the accuracy
    one would trust an ab-initio point to, and it absorbs what 24 basis
    functions cannot represent (with 1e-4 kJ/mol the hyperparameter mode ran
    to the edge of the grid and the curve blew up between points).
    """
    return 0.01 * np.abs(u) + 0.002


def repulsive_wall(r, epsilon, sigma):
    r"""The repulsive term of LJ alone, :math:`4 \varepsilon (\sigma/r)^{12}` (kJ/mol)."""
    return 4.0 * epsilon * (sigma / r) ** 12


def wca_repulsion(r, epsilon, sigma):
    r"""WCA repulsion: LJ + eps for r < 2^(1/6) sigma, 0 beyond (kJ/mol); C^1 at the junction."""

    x = jnp.minimum(r, 2.0 ** (1.0 / 6.0) * sigma)
    s6 = (sigma / x) ** 6
    return 4.0 * epsilon * (s6 * s6 - s6) + epsilon


#: 4 eps (sigma/r)^12: the repulsive term of LJ alone (a weak base).
WALL = PairPotential(
    name="lj_repulsive_wall",
    energy=repulsive_wall,
    params=LENNARD_JONES.params,
    length_scale=lambda sigma, **kw: sigma,
    description="4 eps (sigma/r)^12: the repulsive term of LJ alone (a weak base)",
)
#: The WCA repulsion of LJ.
WCA = PairPotential(
    name="wca_repulsion",
    energy=wca_repulsion,
    params=LENNARD_JONES.params,
    length_scale=lambda sigma, **kw: sigma,
    description="WCA repulsion of LJ (Weeks, Chandler and Andersen 1971)",
    reference="J. D. Weeks, D. Chandler, H. C. Andersen, J. Chem. Phys. 54, 5237 (1971), "
    "doi:10.1063/1.1674820",
)


def models() -> dict:
    """The GP potentials of the study: ``delta`` (LJ base), ``direct`` (WCA), ``direct_r12``."""

    return {
        "delta": gp_pair_potential(LENNARD_JONES, **BOX),
        "direct": gp_pair_potential(WCA, **BOX),
        "direct_r12": gp_pair_potential(WALL, **BOX),
    }


def fit(gp, r, u):
    """Hyperparameters at their posterior mode on the grid, then the weights' posterior.

    Parameters
    ----------
    gp
        One of :func:`models`.
    r, u
        Distances (angstrom) and accurate energies (kJ/mol).

    Returns
    -------
    params, posterior, log_posterior_grid
        The base parameters (classic LJ argon) with the chosen hyperparameters,
        the weights' posterior, and the grid
        (:class:`studies.empirical_bayes.GridFit`).
    """

    res = grid_empirical_bayes(
        gp,
        LJ_ARGON,
        r,
        u,
        noise_sd(np.asarray(u)),
        amplitude_grid=AMPLITUDE_GRID,
        length_grid=LENGTH_GRID,
        log_hyperprior=half_normal_log_normal(1.0, 1.0, 0.5),
    )
    return res.params, res.posterior, res.log_posterior


def training_radii(n: int) -> np.ndarray:
    """n radii evenly spaced on :data:`TRAIN_RANGE` (angstrom)."""
    return np.linspace(*TRAIN_RANGE, n)


def rms_error(gp, params, posterior, r_test) -> float:
    """RMS of (posterior-mean u - HFD-ID1) on ``r_test`` (angstrom), kJ/mol."""

    mean, _ = predict(gp, params, posterior, r_test)
    return float(np.sqrt(np.mean((np.asarray(mean) - np.asarray(hfdid1(r_test))) ** 2)))


def study(n_points=N_POINTS, n_test: int = 500) -> dict:
    """RMS error against n for every model; every number of the figure and table.

    Returns
    -------
    dict
        The setting (reference, base, box, ranges, noise) and ``rows``: per n,
        ``rms_<model>_kJ_per_mol``, the chosen ``amplitude_<model>_kJ_per_mol``
        and ``length_scale_<model>_angstrom``, and ``ratio_direct_over_delta``.
    """

    r_test = np.linspace(*TEST_RANGE, n_test)
    lj = np.asarray(LENNARD_JONES.energy(jnp.asarray(r_test), **LJ_ARGON))
    out = {
        "reference": "HFD-ID1, R. A. Aziz, J. Chem. Phys. 99, 4518 (1993), doi:10.1063/1.466106",
        "cheap": "LJ eps/k = 119.8 K, sigma = 3.405 angstrom",
        "box": BOX,
        "train_range_angstrom": TRAIN_RANGE,
        "test_range_angstrom": TEST_RANGE,
        "noise_sd_kJ_per_mol": "0.01 |u| + 0.002",
        "rms_lj_alone_kJ_per_mol": float(np.sqrt(np.mean((lj - np.asarray(hfdid1(r_test))) ** 2))),
        "rows": [],
    }
    gps = models()
    for n in n_points:
        r = training_radii(n)
        u = np.asarray(hfdid1(r))
        row = {"n": int(n)}
        for name, gp in gps.items():
            params, post, _ = fit(gp, r, u)
            row[f"rms_{name}_kJ_per_mol"] = rms_error(gp, params, post, r_test)
            row[f"amplitude_{name}_kJ_per_mol"] = params["amplitude"]
            row[f"length_scale_{name}_angstrom"] = params["length_scale"]
        row["ratio_direct_over_delta"] = row["rms_direct_kJ_per_mol"] / row["rms_delta_kJ_per_mol"]
        out["rows"].append(row)
    for tol in (0.1, 0.05, 0.02):
        out[f"points_needed_for_rms_{tol:g}_kJ_per_mol"] = {
            m: points_needed(out, m, tol) for m in MODELS
        }
    return out


def points_needed(result: dict, model: str, tol: float) -> int | None:
    """Smallest n in the study whose RMS error is <= tol (kJ/mol), or None."""
    for row in result["rows"]:
        if row[f"rms_{model}_kJ_per_mol"] <= tol:
            return row["n"]
    return None


def _error_panel(ax, result: dict) -> None:

    rows = result["rows"]
    n = [r["n"] for r in rows]
    ax.loglog(n, [r["rms_delta_kJ_per_mol"] for r in rows], "o-", label="delta: LJ + GP")
    ax.loglog(n, [r["rms_direct_kJ_per_mol"] for r in rows], "s-", label="direct: WCA wall + GP")
    ax.loglog(
        n, [r["rms_direct_r12_kJ_per_mol"] for r in rows], "^--", label="direct: r^-12 wall + GP"
    )
    ax.axhline(result["rms_lj_alone_kJ_per_mol"], color="grey", ls=":", label="LJ alone")
    ax.set_xlabel("accurate (HFD-ID1) points n")
    ax.set_ylabel(f"RMS error on {TEST_RANGE[0]:g}-{TEST_RANGE[1]:g} \u00c5 [kJ/mol]")
    ax.set_xticks(n, [str(k) for k in n])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend()
    ax.set_title("Error against number of accurate points")


def _curve_panel(bx, n0: int) -> None:

    r_test = np.linspace(*TEST_RANGE, 400)
    r = training_radii(n0)
    u = np.asarray(hfdid1(r))
    bx.plot(r_test, hfdid1(r_test), "k-", lw=2, label="HFD-ID1 (reference)")
    bx.plot(
        r_test, LENNARD_JONES.energy(jnp.asarray(r_test), **LJ_ARGON), "k:", label="LJ (cheap)"
    )
    for (name, gp), style in zip(list(models().items())[:2], ("C0", "C1"), strict=True):
        params, post, _ = fit(gp, r, u)
        mean, sd = (np.asarray(x) for x in predict(gp, params, post, r_test))
        bx.plot(r_test, mean, color=style, label=f"{name} (n = {n0})")
        bx.fill_between(r_test, mean - 2 * sd, mean + 2 * sd, color=style, alpha=0.2)
    bx.plot(r, u, "ko", ms=5, label="training points")
    bx.set_ylim(-1.4, 1.0)
    bx.set_xlabel("r [\u00c5]")
    bx.set_ylabel("u(r) [kJ/mol]")
    bx.legend(fontsize=8)
    bx.set_title(f"Posterior mean \u00b1 2 sd, n = {n0}")


def figure(result: dict, path) -> None:
    """RMS error against n, and the curves at the second-smallest n."""

    matplotlib.use("Agg")

    n = [r["n"] for r in result["rows"]]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    _error_panel(ax, result)
    _curve_panel(bx, n[1] if len(n) > 1 else n[0])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_CSV_COLUMNS = (
    "n",
    "rms_delta_kJ_per_mol",
    "rms_direct_kJ_per_mol",
    "rms_direct_r12_kJ_per_mol",
    "ratio_direct_over_delta",
    "amplitude_delta_kJ_per_mol",
    "length_scale_delta_angstrom",
    "amplitude_direct_kJ_per_mol",
    "length_scale_direct_angstrom",
    "amplitude_direct_r12_kJ_per_mol",
    "length_scale_direct_r12_angstrom",
)


def run_study(out="reports/argon_gp", *, log=print) -> dict:
    """:func:`study` written to ``out`` (``delta_learning.{json,csv,png}``); the table to log."""
    log = log or (lambda *a, **k: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = study()
    (out / "delta_learning.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [",".join(_CSV_COLUMNS)]
    lines += [",".join(f"{row[c]:.6g}" for c in _CSV_COLUMNS) for row in result["rows"]]
    (out / "delta_learning.csv").write_text("\n".join(lines) + "\n")
    figure(result, out / "delta_learning.png")
    log(f"LJ alone: RMS {result['rms_lj_alone_kJ_per_mol']:.4f} kJ/mol")
    log(f"{'n':>3} {'delta':>10} {'direct':>10} {'r^-12':>10} {'ratio':>7}  (RMS, kJ/mol)")
    for row in result["rows"]:
        log(
            f"{row['n']:>3} {row['rms_delta_kJ_per_mol']:>10.4f} "
            f"{row['rms_direct_kJ_per_mol']:>10.4f} {row['rms_direct_r12_kJ_per_mol']:>10.4f} "
            f"{row['ratio_direct_over_delta']:>7.1f}"
        )
    for k, v in result.items():
        if k.startswith("points_needed"):
            log(f"{k}: {v}")
    log(f"wrote {out}/delta_learning.{{png,csv,json}}")
    if not all(math.isfinite(r["rms_delta_kJ_per_mol"]) for r in result["rows"]):
        log("warning: a non-finite RMS error (a failed fit)")
    return result


def parser() -> argparse.ArgumentParser:
    """The options of :func:`main`."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="reports/argon_gp", help="output folder")
    return ap


def main(argv=None) -> int:
    """``python -m studies.delta_learning``: the study's figure, table and numbers."""
    args = parser().parse_args(argv)
    bayesff.configure()
    run_study(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
