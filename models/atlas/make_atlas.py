"""Write the atlas sweep files and their data subsets from the rules they state.

Run from the repository root::

    .venv/bin/python models/atlas/make_atlas.py          # (re)write everything
    .venv/bin/python models/atlas/make_atlas.py --check  # exit 1 if a file would change

It writes

* ``models/atlas/atlas.toml`` and ``models/atlas/atlas_2core.toml`` (the per-fluid
  ``[[when]]`` blocks: priors of every form, L of the two-centre forms, the data files);
* ``models/atlas/subsets/vle_FLUID.csv``: the rows of ``data/vle/saturation_FLUID.csv``
  at T/Tc >= 0.55 (column for column, unchanged), and
  ``models/atlas/subsets/dense_FLUID_FORM.csv``: the supercritical rows (branch 1 and 2)
  of ``data/atlas/liquid_FLUID.csv`` that lie inside the validated range of the form's
  equation of state at the centre of its priors, with a margin (below);
* ``models/atlas/subsets/manifest.toml``: each subset's provenance (its parent file, that
  file's sha256, the selection) and sha256.

Why subsets: an EOS observable refuses, when the problem is built, a row outside its
EOS's validated range at the prior centre (docs/vle.md, "Bad input and failed solves"),
and a problem file has no row filter besides the training selection and the held-out
groups (a target with ``train = false`` holds out every row). The triple-point end of the
saturation files (down to T/Tc = 0.30 for ethane) lies below the Thol LJ EOS's lowest
temperature, T* = 0.661, i.e. T/Tc = 0.50 at the LJ prior centre; the 2.5 Tc isotherm
lies above the two-centre EOS's highest, T* = 6.08.

The prior rules (each form's own corresponding states at the centre of its shape prior):

* LJ: epsilon/k = Tc / 1.31, sigma = 0.316^(1/3) l, l = (Vc / N_A)^(1/3) (the LJ critical
  point of J. J. Potoff and A. Z. Panagiotopoulos, J. Chem. Phys. 109, 10914 (1998),
  doi:10.1063/1.477787);
* Mie n-6, n ~ TruncatedNormal(16, 5), in critical-point coordinates (``mie_critical``):
  epsilon_c = Tc and l_c = l at the centre, i.e. epsilon/k = Tc / T*c(n), sigma =
  rho*c(n)^(1/3) l at every n, with T*c(n), rho*c(n) the critical point of the SAFT-VR Mie
  n-6 monomer (the EOS of the VLE observables). The dense subsets use the centre at n = 16,
  solved by bayesff.observables.eos.thermo.critical_point: T*c = 1.1282, rho*c = 0.3094.
  Centred on the LJ point instead, the Mie model's Tc at the prior centre is 0.86 Tc and
  the saturation rows up to 0.95 Tc have no coexistence there;
* 2CLJ and 2CLJQ (site-site): sigma = 0.59 l, epsilon/k = Tc / T*c(L*) with L* = L / sigma
  at the centre (L = r_e for the diatomics, the heavy-atom separation d otherwise) and
  T*c the critical temperature of the 2CLJ EOS of Lisal et al. (2004) at that L*, solved as
  above (3.49 for N2, 2.23 for CO2); the same epsilon prior for 2CLJQ (Q at its centre,
  Q*^2 = 0.5, raises T*c by 0.4 % at L* = 0.3-0.8). Scale 0.4 (log), as before;
* Q (2CLJQ): LogNormal(Q_c, 0.3) with Q*^2 = 0.5 at the centre of (epsilon, sigma): the
  published 2CLJQ models' range, inside the EOS's validated Q*^2 <= 4 (the header says
  more); with L fixed, since 2026-11-28, the same centre and width in ln Q*^2
  (``two_centre_lj_quadrupole_qstar``, :data:`LN_Q2_STAR`), bounded at ln 4;
* L free (ethane, ethylene, CO2): the two-centre forms in critical-point coordinates
  (``two_centre_lj_critical``, ``two_centre_lj_quadrupole_critical``; atlas.toml's header):
  epsilon_c ~ LogNormal(Tc, 0.4), l_c ~ LogNormal(l, 0.15), L* ~ TruncatedNormal(L*_0,
  0.3 L*_0) on [0.2 L*_0, min(2 L*_0, 0.8)] with L*_0 sigma = d at the centre
  (:func:`critical_centre`); the Q prior's centre uses the derived epsilon and sigma there.

Dense supercritical subset, per form: a state is kept when at the prior centre its T* lies
inside the EOS's validated range divided by 1.1 on each side and its rho* below 0.8 times the
EOS's highest validated density (the posterior's sigma may lie 5-7 % above the centre, which
is 15-22 % in rho*); a draw that leaves the range still gives NaN there, counted as outside
tolerance.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import math
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

from bayesff.observables.eos.thermo import critical_point  # noqa: E402
from bayesff.observables.vle import FLUID_EOS  # noqa: E402
from bayesff.potentials.molecular import two_centre_critical_point  # noqa: E402
from bayesff.units import (  # noqa: E402
    COULOMB_KJ_PER_MOL_ANGSTROM,
    DEBYE_E_ANGSTROM,
    GAS_CONSTANT_KJ_PER_MOL_K,
)

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "models" / "atlas"
SUBSETS = HERE / "subsets"
N_A = 6.02214076e23  # 1/mol, CODATA 2018 (exact)
R_K = 1.0  # energies in K: T* = T / (epsilon/k)

#: LJ critical point (Potoff and Panagiotopoulos 1998).
LJ_TC, LJ_RHOC = 1.31, 0.316
#: Mie n of the prior centre.
MIE_N = 16.0
#: site sigma / l for the two-centre forms.
TWO_CENTRE_SIGMA = 0.59
#: 2CLJQ quadrupole prior: median where Q*^2 = Q^2 / (4 pi eps0 epsilon sigma^5) is
#: Q2_CENTRE at the prior centre of (epsilon, sigma), log-scale Q_SCALE (see the header).
Q2_CENTRE, Q_SCALE = 0.5, 0.3
#: The 2CLJQ EOS's validated edge, Q*^2 <= 4 (Stoll, Vrabec and Hasse 2001; docs/vle.md).
Q2_STAR_EDGE = 4.0
#: 2CLJQ with L fixed is sampled in ln Q*^2 (``two_centre_lj_quadrupole_qstar``), with the
#: Q prior's centre and width carried over: TruncatedNormal(ln Q2_CENTRE, 2 Q_SCALE) on
#: [ln 1e-3, ln Q2_STAR_EDGE] (Q*^2 goes as Q^2), 4 significant digits. In Q, B2 alone let
#: chains reach the wall that B2's Q^4 / T term makes near Q*^2 = 4.5 (fluorine-2CLJQ-B2:
#: R-hat 1.033 at 12000 draws); in ln Q*^2 the wall lies outside the support (R-hat 1.002;
#: docs/atlas.md, 2026-11-28).
LN_Q2_STAR = {
    "loc": float(f"{math.log(Q2_CENTRE):.4g}"),
    "scale": 2 * Q_SCALE,
    "low": float(f"{math.log(1e-3):.4g}"),
    "high": float(f"{math.log(Q2_STAR_EDGE):.4g}"),
}
#: VLE rows kept: T/Tc at or above this.
VLE_T_MIN = 0.55
#: Training range of the VLE targets and the held-out ends.
VLE_TRAIN = (0.65, 0.85)
B2_TRAIN = (0.8, 1.5)
#: heavy-atom separations d (angstrom) of the fluids with L free (Harmony et al. 1979).
L_FREE = {"ethane": 1.535, "ethylene": 1.339, "carbon_dioxide": 2.32}
#: The two-centre EOS's validated edge, L* = L / sigma <= 0.8 (Lisal et al. 2004).
L_STAR_EDGE = 0.8
#: Longer chains, 4 x (2000 + 3000) draws, for the runs that did not converge at the
#: atlas's 4 x (1000 + 1000) by slow mixing along a ridge or between two modes (R-hat
#: > 1.01 or bulk ESS < 400 with few or no divergences; docs/atlas.md, 2026-11-27). Runs
#: whose chains diverged along a curved ridge (the two-centre runs with L free) needed
#: another parameterisation, not more draws: the critical-point coordinates above. The
#: Mie entries were measured in (epsilon, sigma, n), before the Mie form moved to critical-
#: point coordinates (mie_critical); kept until re-measured, but for neon-Mie-VLE, which
#: converges at 1000 draws there (R-hat 1.0033, bulk ESS 1052; docs/atlas.md).
#: task (FLUID-FORM-TRAINING) -> (R-hat, bulk ESS, divergences) at 1000 draws.
LONGER_CHAINS = {
    "xenon-mie-B2": (1.012, 452, 0),
    "r14-mie-B2": (1.010, 358, 0),
    "sf6-mie-B2": (1.023, 317, 0),
    "ethane-mie-B2": (1.007, 350, 0),
    "carbon_dioxide-mie-B2": (1.010, 388, 3),
    "oxygen-lj-B2_VLE": (1.024, 174, 0),
    "fluorine-2cljq-B2": (1.079, 42, 0),
    "fluorine-2cljq-B2_VLE": (1.011, 585, 6),
    "ethane-2cljq-B2": (1.011, 362, 12),
    "carbon_dioxide-2cljq-B2": (1.013, 401, 0),
    "carbon_monoxide-2cljq-VLE": (1.024, 168, 26),
    "oxygen-mie-B2_VLE": (1.020, 203, 0),
    "ethane-mie-B2_VLE": (1.031, 76, 0),
    # slow mixing along n (B2 alone fixes n weakly); in mie_critical at 1000 draws
    # (2026-11-28), where 6 of the other 9 Mie-B2 runs converge
    "carbon_monoxide-mie-B2": (1.011, 443, 0),
    "fluorine-mie-B2": (1.012, 615, 0),
    "methane-mie-B2": (1.012, 402, 0),
    # two modes (tau_B2 against tau_p_sat); in mie_critical at 1000 draws (2026-11-28)
    "methane-mie-B2_VLE": (1.061, 50, 0),
    # the same two modes in (epsilon, sigma, n); not yet measured in mie_critical
    "ethylene-mie-B2_VLE": (1.163, 21, 0),
    # slow mixing along n and l_c, in mie_critical at 1000 draws (2026-11-29)
    "sf6-mie-VLE": (1.011, 580, 0),
    # converged at 1000 draws on the 2026-11-27 page, not in the full re-run (2026-11-29)
    "carbon_dioxide-2clj-B2": (1.017, 512, 0),
    "ethane-2cljq-B2_VLE": (1.011, 368, 19),
}
LONGER = {"warmup": 2000, "samples": 3000}
#: Kept draws per chain for the runs that 3000 did not converge (2026-11-27, fourth
#: session): two modes, one trusting the gas and one the liquid, between which the chains
#: pass rarely (oxygen-LJ-B2+VLE: R-hat 1.019 at 3000; at 12000 1.005 and bulk ESS 513 with
#: the chains on two devices, 1.011 and 371 on one as the sweep runs them; docs/atlas.md).
LONGER_SAMPLES = {
    "oxygen-mie-B2_VLE": 8000,
}
#: Runs sampled with NUTS within parallel tempering (``sampler = "tempered"``, 4 replicas to
#: T = 10), task -> warm-up and draws per chain, each with its form's target_accept
#: (docs/atlas.md, "Parallel tempering for the runs with two modes", 2026-11-29/30).
#: Methane-Mie-B2+VLE's NUTS run (4 x 20000 at 0.99) passed R-hat and ESS, but its chains
#: put 0.005-6.7 % of their draws in the minor mode (tau_rho_l > 0.03), where importance
#: sampling puts 4.25 % and the check of the Laplace modes' shares flags it; tempered at
#: 4 x 5000 its chains pass between the modes 102-147 times each and give 5.0 +- 0.6 %.
#: The other three converged with NUTS at 4 x 30000 (oxygen-LJ), 4 x 40000 (ethylene-Mie)
#: and 4 x 12000 (fluorine-2CLJQ, in ln Q*^2) draws and converge tempered with 1.7x, 2.6x
#: and 1.5x fewer leapfrog steps, warm-up included (R-hat 1.0031, 1.0053, 1.0012; bulk ESS
#: 1239, 673, 767), their chains passing between the modes hundreds of times.
TEMPERED = {
    # 5000 on the page of 2026-11-30 gave its minor mode's share an ESS of 404, at the
    # check's 400: twice the draws (2026-11-30, twenty-sixth session)
    "methane-mie-B2_VLE": {"warmup": 1000, "samples": 10000},
    "oxygen-lj-B2_VLE": {"warmup": 1000, "samples": 3000},
    "ethylene-mie-B2_VLE": {"warmup": 1000, "samples": 4000},
    # 3000 on the page of 2026-11-30 gave R-hat 1.0091, near the line: twice the draws
    "fluorine-2cljq-B2": {"warmup": 1000, "samples": 6000},
    # NUTS needed 4 x 8000 (R-hat 1.0062, bulk ESS 622, slow in tau_rho_l, whose draws lie
    # near 0 or near 0.08); its Laplace start finds one competing mode, so the check of the
    # modes' shares has nothing to check. Tempered at methane's settings (2026-11-30): R-hat
    # 1.0023, bulk ESS 1249, the same posterior to 0.1 sd (docs/atlas.md)
    "ethane-mie-B2_VLE": {"warmup": 1000, "samples": 5000},
}
#: The three Mie-B2+VLE runs that did not converge at 3000 in mie_critical (2026-11-29,
#: seventeenth session; docs/atlas.md): methane (R-hat 1.009, bulk ESS 328) and ethylene
#: (1.052, 61) have two modes, one trusting the gas or the liquid density and one the
#: vapour pressure (ethylene: tau_rho_l ~ 0 with tau_p_sat ~ 0.13, or tau_rho_l ~ 0.08
#: with tau_p_sat ~ 0.02, and a valley between); oxygen (1.019, 515) had one chain slow.
#: Their target_accept, chosen by bulk ESS per second in a 4 x (2000 + 3000) trial at 0.9
#: against the 0.99 run (2026-11-29): oxygen 734 in 637 s against 515 in 2352 s (so oxygen
#: takes 0.9), ethylene 34 in 574 s against 61 in 2255 s, methane 61 in 604 s against 328
#: in 1895 s (keeps 0.99); oxygen's and ethylene's 0.9 come from KIND_SETTINGS below (they
#: were this file's LONGER_SETTINGS until the twentieth session). Ethylene at 0.9 needs
#: 4 x 40000 draws (bulk ESS 34 at 3000): R-hat 1.005, bulk ESS 1366, 7 divergences in
#: 160,000 draws, 6967 s at nice 19 beside other runs (started in the eighteenth session,
#: put on the page in the nineteenth, 2026-11-29).
#: Sampler settings for every task of a form and training set, written before the
#: LONGER_CHAINS blocks (which add draws to them). The Mie file's target_accept 0.99 was
#: chosen in (epsilon, sigma, n), where at 0.9 the B2-trained runs diverged along a curved
#: ridge (mie.toml). In critical-point coordinates (mie_critical) the runs trained on VLE
#: or on B2 and VLE take about half the leapfrog steps per draw at 0.9 with as much bulk
#: ESS and no divergence (docs/atlas.md, "Mie trained on VLE at target_accept 0.9",
#: 2026-11-29). Fluids left out keep the base file's settings: neon-Mie-VLE mixes slower
#: along n and l_c at 0.9 (bulk ESS 301 at 1000 draws; 1975 at 3000, with more leapfrog
#: steps in all than at 0.99's 1000), nitrogen-Mie-B2+VLE did not converge there (R-hat
#: 1.0106, bulk ESS 576), methane- and ethane-Mie-B2+VLE have LONGER_CHAINS blocks at 0.99
#: (methane mixed worse at 0.9; ethane not tried). (form, training) -> (settings, fluids
#: left out)
KIND_SETTINGS: dict[tuple[str, str], tuple[dict, tuple[str, ...]]] = {
    ("mie", "VLE"): ({"target_accept": 0.9}, ("neon",)),
    ("mie", "B2_VLE"): ({"target_accept": 0.9}, ("nitrogen", "methane", "ethane")),
}
FLUIDS = [
    "neon",
    "argon",
    "krypton",
    "xenon",
    "methane",
    "nitrogen",
    "oxygen",
    "carbon_monoxide",
    "fluorine",
    "r14",
    "sf6",
    "ethane",
    "ethylene",
    "carbon_dioxide",
]


def _sig4(x: float) -> float:
    return float(f"{x:.4g}")


def _fluids() -> dict[str, dict]:
    with (ROOT / "data" / "atlas" / "fluids.csv").open() as fh:
        return {r["fluid"]: r for r in csv.DictReader(fh)}


def _bond_lengths() -> dict[str, float]:
    with (ROOT / "data" / "atlas" / "bond_lengths.csv").open() as fh:
        return {r["fluid"]: float(r["L_angstrom"]) for r in csv.DictReader(fh)}


def _length(f: dict) -> float:
    return (float(f["Vc_cm3_per_mol"]) * 1e24 / N_A) ** (1 / 3)


def mie_critical() -> tuple[float, float]:
    """(T*c, rho*c) of the SAFT-VR Mie 16-6 monomer."""
    c = critical_point(FLUID_EOS["mie"].eos, segments=1.0, lambda_r=MIE_N, lambda_a=6.0)
    return float(c.T_star), float(c.rho_star)


def two_centre_critical(l_star: float) -> float:
    """T*c of the 2CLJ EOS (Lisal et al. 2004) at L*."""
    return float(critical_point(FLUID_EOS["two_centre_lj"].eos, L_star=l_star).T_star)


def centres() -> dict[tuple[str, str], dict]:
    """(fluid, form) -> prior centre: epsilon_K, sigma, L (two-centre), fixed_L."""
    fl, r_e = _fluids(), _bond_lengths()
    mie_tc, mie_rhoc = mie_critical()
    out = {}
    for name in FLUIDS:
        f = fl[name]
        tc, ell = float(f["Tc_K"]), _length(f)
        out[name, "lj"] = {"epsilon": _sig4(tc / LJ_TC), "sigma": _sig4(LJ_RHOC ** (1 / 3) * ell)}
        out[name, "mie"] = {
            "epsilon": _sig4(tc / mie_tc),
            "sigma": _sig4(mie_rhoc ** (1 / 3) * ell),
            "mie_critical": {"epsilon_c": _sig4(tc), "l_c": _sig4(ell)},
        }
        if f["model_class"] != "two-centre":
            continue
        if name in L_FREE:
            c = critical_centre(tc, ell, L_FREE[name])
        else:
            sig = _sig4(TWO_CENTRE_SIGMA * ell)
            length = r_e[name]
            eps = _sig4(tc / two_centre_critical(length / sig))
            c = {"epsilon": eps, "sigma": sig, "L": length, "fixed_L": True}
        for form in ("2clj", "2cljq"):
            out[name, form] = dict(c)
        out[name, "2cljq"]["Q"] = quadrupole_centre(c["epsilon"], c["sigma"])
    return out


def critical_centre(tc: float, ell: float, d: float) -> dict:
    """Prior centre of a two-centre form in critical-point coordinates (L free).

    epsilon_c = Tc and l_c = l, the fluid's critical temperature and (Vc / N_A)^(1/3), and
    L* with L* sigma = d at the centre, sigma = l rho*c(L*)^(1/3) (a fixed point: sigma
    shrinks as L* grows, by less than L* grows); the centre's epsilon and sigma, which the
    dense subsets and the Q prior use, are the derived ones there.
    """
    l_star = d / (TWO_CENTRE_SIGMA * ell)
    for _ in range(100):
        l_star = d / (ell * float(two_centre_critical_point(l_star)[1]) ** (1 / 3))
    tcs, rcs = (float(x) for x in two_centre_critical_point(l_star))
    return {
        "epsilon": _sig4(tc / tcs),
        "sigma": _sig4(ell * rcs ** (1 / 3)),
        "L": d,
        "fixed_L": False,
        "critical": {"epsilon_c": _sig4(tc), "l_c": _sig4(ell), "L_star": _sig4(l_star)},
    }


def quadrupole_centre(epsilon_k: float, sigma: float) -> float:
    """Q (buckingham) at which Q*^2 = Q2_CENTRE for epsilon/k (K) and sigma (angstrom)."""
    eps = epsilon_k * GAS_CONSTANT_KJ_PER_MOL_K
    q = (Q2_CENTRE * eps * sigma**5 / COULOMB_KJ_PER_MOL_ANGSTROM) ** 0.5  # e angstrom^2
    return _sig4(q / DEBYE_E_ANGSTROM)


def _read(path: Path) -> tuple[list[str], list[dict], str]:
    text = path.read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    return list(rows[0].keys()), rows, hashlib.sha256(text.encode()).hexdigest()


def _csv(header: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _dense_keep(row: dict, form: str, c: dict) -> bool:
    eos = FLUID_EOS[
        {"lj": "lennard_jones", "mie": "mie", "2clj": "two_centre_lj"}[form]
    ].eos.validity
    t_star = float(row["T_K"]) / c["epsilon"]
    rho_star = float(row["rho_per_A3"]) * c["sigma"] ** 3
    lo, hi = eos.T_star
    return (
        int(float(row["branch"])) >= 1
        and lo * 1.1 <= t_star <= hi / 1.1
        and rho_star <= 0.8 * eos.rho_star_max
    )


def subsets(cent: dict) -> dict[str, tuple[str, dict]]:
    """File name -> (text, manifest entry)."""
    out = {}
    for name in FLUIDS:
        parent = ROOT / "data" / "vle" / f"saturation_{name}.csv"
        header, rows, sha = _read(parent)
        kept = [r for r in rows if float(r["T_over_Tc"]) >= VLE_T_MIN]
        entry = {
            "title": f"Saturation properties of {name} at T/Tc >= {VLE_T_MIN} "
            f"({len(kept)} of the {len(rows)} rows of data/vle/saturation_{name}.csv)",
            "source": f"Rows of data/vle/saturation_{name}.csv (sha256 {sha}) with "
            f"T_over_Tc >= {VLE_T_MIN}, unchanged; that file's provenance is in "
            "data/manifest.toml (reference equation of state via CoolProp, computed, not "
            "measured).",
            "parent": parent,
        }
        out[f"vle_{name}.csv"] = (_csv(header, kept), entry)
        parent = ROOT / "data" / "atlas" / f"liquid_{name}.csv"
        header, rows, sha = _read(parent)
        for form in ("lj", "mie", "2clj"):
            if (name, form) not in cent:
                continue
            c = cent[name, form]
            kept = [r for r in rows if _dense_keep(r, form, c)]
            entry = {
                "title": f"Dense supercritical states of {name} inside the {form} EOS's range "
                f"({len(kept)} of the {len(rows)} rows of data/atlas/liquid_{name}.csv)",
                "source": f"Rows of data/atlas/liquid_{name}.csv (sha256 {sha}) with branch "
                f">= 1 (supercritical isotherms) and, at the {form} prior centre "
                f"(epsilon/k = {c['epsilon']} K, sigma = {c['sigma']} angstrom), T* within "
                "the EOS's validated range narrowed by 1.1 on each side and rho* <= 0.8 "
                "times its highest validated density; unchanged. That file's provenance "
                "is in data/manifest.toml (computed, not measured).",
                "parent": parent,
            }
            out[f"dense_{name}_{form}.csv"] = (_csv(header, kept), entry)
    return out


def _units(parent: Path) -> str:
    """The [files.units] table of the parent's entry in data/manifest.toml (verbatim)."""
    text = (ROOT / "data" / "manifest.toml").read_text()
    rel = parent.relative_to(ROOT / "data").as_posix()
    start = text.index(f'path = "{rel}"')
    units = text.index("[files.units]", start)
    end = text.find("\n\n", units)
    return text[units : end if end > 0 else None].rstrip() + "\n"


def manifest(files: dict[str, tuple[str, dict]]) -> str:
    lines = [
        "# Provenance of the atlas's data subsets: rows of files in data/, selected by",
        "# models/atlas/make_atlas.py (the rule is in each entry's source).",
        "",
    ]
    for fname, (text, e) in files.items():
        sha = hashlib.sha256(text.encode()).hexdigest()
        lines += [
            "[[files]]",
            f'path = "{fname}"',
            'kind = "reference-equation"',
            f'title = "{e["title"]}"',
            f'source = "{e["source"]}"',
            'licence = "As the parent file in data/manifest.toml (MIT, bayesff)."',
            'script = "models/atlas/make_atlas.py"',
            f'sha256 = "{sha}"',
            'uncertainty = "As the parent file (data/manifest.toml): the same columns."',
            _units(e["parent"]),
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------------ the sweep files

ATLAS_HEADER = """\
# A transferability atlas of simple fluids across the phase boundary: LJ 12-6, Mie n-6 and
# two-centre models, trained on the gas (B2), the liquid (VLE) or both.
#
# WRITTEN BY models/atlas/make_atlas.py (the per-fluid blocks follow the rules below; edit
# the script, not this file). What it shows: for each of the 14 fluids of data/atlas/
# (reference equations of state, via CoolProp; provenance in data/manifest.toml), each
# potential form and each training set, which held-out states the calibrated form predicts:
# "fitted to the gas, does it predict the liquid?" (training = B2) and the reverse
# (training = VLE). Run it with
#
#     bayesff sweep models/atlas/atlas.toml
#     bayesff atlas models/atlas/atlas.toml      # the page again, from the run files
#
# (run files in runs/atlas/TASK/posterior.nc, the atlas in reports/atlas/index.html and
# reports/atlas/atlas.csv; docs/atlas.md says how to read it and what it finds). Tasks are
# FLUID-FORM-TRAINING, e.g. argon-lj-B2, nitrogen-2cljq-B2_VLE (B2_VLE is "B2+VLE": a label
# is part of a task name, which takes no "+").
#
# The rules, the same for every fluid (stated once, in the first [[when]] blocks below):
#   * training (axis "training"):
#       B2      B2 at 0.8 <= T/Tc <= 1.5;
#       VLE     saturated liquid density rho_l and vapour pressure p_sat at
#               0.65 <= T/Tc <= 0.85 (data/vle/saturation_FLUID.csv);
#       B2_VLE  both.
#   * held out:
#       B2 trained:     B2 "low T" (T/Tc < 0.8, to the triple point or the EOS's lower limit)
#                       and "high T" (T/Tc > 1.5, to the EOS's upper limit);
#       B2 not trained: B2 at every temperature (group "B2");
#       VLE trained:    rho_l and p_sat "low T" (0.55 <= T/Tc < 0.65; none for CO2 and SF6,
#                       whose triple point is at 0.70-0.71 Tc) and "high T" (0.85 < T/Tc <= 0.95);
#       VLE not trained: rho_l and p_sat at every temperature 0.55-0.95 Tc (groups "rho_l",
#                       "p_sat");
#       always:         the saturated vapour density rho_v and the enthalpy of vaporisation
#                       dH_vap at 0.55-0.95 Tc (never trained on), and the dense
#                       supercritical states (1.5 Tc and the fluid's second isotherm, up to
#                       2.5 Tc, of data/atlas/liquid_FLUID.csv) as pressure p and residual
#                       energy E_res (groups "p", "E_res").
#     Every VLE and dense prediction comes from the form's equation of state (docs/vle.md:
#     Thol et al. 2016 for LJ, SAFT-VR Mie for Mie, Lisal et al. 2004 (+ Saager-Fischer
#     quadrupole) for 2CLJ/2CLJQ), not from an integral equation: no state is NaN for want of
#     a closure. A draw outside the EOS's validated range (or above the model's Tc for a
#     saturation row) gives NaN for that state, which counts as outside tolerance.
#     The rows come from models/atlas/subsets/ (written by make_atlas.py, provenance in its
#     manifest.toml): saturation rows at T/Tc >= 0.55 (the Thol LJ EOS starts at T* = 0.661,
#     T/Tc = 0.50 at the LJ prior centre) and, per form, the supercritical states inside its
#     EOS's range at the prior centre (T* within the range narrowed by 1.1, rho* <= 0.8 of its
#     maximum): the two-centre EOS ends at T* = 6.08, so the 2.5 Tc isotherm is not there.
#   * inadequacy: each trained target has an inferred relative scale tau ~ HalfNormal(0.05)
#     (B2 as models/argon_lj_b2.toml, rho_l and p_sat as models/argon_lj_vle.toml); a target
#     not trained on has none. Every EOS observable adds its EOS's validated error as a
#     forward-model floor (LJ only so far; docs/vle.md).
#   * tolerances (docs/architecture.md, Transferability criteria; pass when
#     |pred - obs| <= abs + rel |obs|): B2 5 % + 2 cm^3/mol (the absolute part keeps the
#     test meaningful where B2 crosses zero near the Boyle temperature, about 2.5-2.7 Tc);
#     rho_l 2 %; p_sat 5 %; rho_v 5 % and dH_vap 3 % (as models/argon_lj_vle.toml); p 10 % +
#     5 MPa and E_res 5 % + 0.05 kJ/mol (as the integral-equation atlas before, so the dense
#     cells compare). Our choices: a force field that misses the saturated liquid density by
#     more than 2 % or the vapour pressure by more than 5 % would not be called transferable.
#     Verdicts: a state passes at P >= 0.9 and fails at P <= 0.1; a cell whose probability
#     lies within its Monte Carlo error of a threshold says so (docs/atlas.md).
#   * sampler: NUTS from the Laplace start (init = "laplace" in every base file), 4 chains x
#     (1000 warm-up + 1000 draws), seed 0, every draw kept (R-hat <= 1.01 and bulk ESS >= 400
#     are required of every run, docs/architecture.md, Inference defaults); 250 prior draws.
#     target_accept 0.99 for the Mie and 2CLJQ forms (their base files), but 0.9 for most
#     Mie runs trained on VLE or B2+VLE (the "sampler settings" blocks; make_atlas.py's
#     KIND_SETTINGS).
#     The runs that mixed too slowly at that length get 4 x (2000 + 3000) or more draws
#     (the "longer chains" blocks at the end, each with its diagnostics at 1000 draws;
#     make_atlas.py says why); four of them, whose chains pass rarely between two modes,
#     are sampled with parallel tempering instead (sampler = "tempered", 4 replicas to
#     T = 10; make_atlas.py's TEMPERED).
#
# Priors (the same rule for every fluid, from its critical temperature Tc and molar critical
# volume Vc, data/atlas/fluids.csv; l = (Vc / N_A)^(1/3)): each form centred on its own
# corresponding states, so that the model's critical temperature at the prior centre is the
# fluid's (make_atlas.py computes them):
#   * LJ: epsilon/k ~ LogNormal(Tc / 1.31, 0.3), sigma ~ LogNormal(0.316^(1/3) l, 0.15): the
#     LJ critical point T* = 1.31, rho* = 0.316 (J. J. Potoff and A. Z. Panagiotopoulos,
#     J. Chem. Phys. 109, 10914 (1998), doi:10.1063/1.477787).
#   * Mie n-6, sampled in critical-point coordinates (mie_critical, since 2026-11-28):
#     epsilon_c = epsilon T*c(n) ~ LogNormal(Tc, 0.3), l_c = sigma / rho*c(n)^(1/3) ~
#     LogNormal(l, 0.15), with T*c(n), rho*c(n) the critical point of the SAFT-VR Mie n-6
#     monomer (bayesff.potentials.mie_critical_point), so the model's critical point at
#     the centre of (epsilon_c, l_c) is the fluid's at every n. n ~ TruncatedNormal(16, 5)
#     on [8, 40] (mie.toml says why). Sampled in (epsilon, sigma, n) with epsilon/k ~
#     LogNormal(Tc / T*c(16), 0.3), the VLE-trained posteriors bent with n (through the
#     logit of its bounded prior): neon-Mie-VLE needed 4 x (2000 + 3000) draws at some 100
#     leapfrog steps each; in these coordinates 4 x (1000 + 1000) at 20-30 (docs/atlas.md).
#   * 2CLJ and 2CLJQ (site-site parameters; L fixed): sigma ~ LogNormal(0.59 l, 0.15), epsilon/k ~
#     LogNormal(Tc / T*c(L*), 0.4) with T*c the critical temperature of the 2CLJ EOS (Lisal
#     et al. 2004) at L* = L / sigma of the prior centre (3.5 for N2 to 2.2 for CO2; published
#     2CLJQ models have Tc k/epsilon from about 2.3 (CO2) to 3.6 (N2, O2): J. Vrabec,
#     J. Stoll, H. Hasse, J. Phys. Chem. B 105, 12126 (2001), doi:10.1021/jp012542o).
#     L: fixed at the bond length r_e for N2, O2, CO and F2 (data/atlas/bond_lengths.csv).
#     For CO2, ethane and ethylene, whose sites stand for groups of atoms, L is free and the
#     forms are sampled in critical-point coordinates (two_centre_lj_critical,
#     two_centre_lj_quadrupole_critical): epsilon_c = epsilon T*c(L*) ~ LogNormal(Tc, 0.4),
#     l_c = sigma / rho*c(L*)^(1/3) ~ LogNormal(l, 0.15) (T*c, rho*c: the 2CLJ fluid's
#     critical point, Lisal et al. 2004, as a quartic in L* within 0.3 %) and L* = L / sigma
#     ~ TruncatedNormal(L*_0, 0.3 L*_0) on [0.2 L*_0, min(2 L*_0, 0.8)], L*_0 the value at
#     which L = L* sigma is the heavy-atom separation d at the centre (gas-phase structures:
#     M. D. Harmony et al., J. Phys. Chem. Ref. Data 8, 619 (1979), doi:10.1063/1.555605),
#     0.8 the EOS's validated edge. So the model's critical point at the prior centre is the
#     fluid's at every L*, and the posterior's ridge (the data fix Tc and Vc and leave L*
#     loose) lies along one coordinate: sampled in (epsilon, sigma, L) these nine runs had
#     up to 3199 divergences and 6 of 9 did not converge (docs/atlas.md, 2026-11-27).
#     Q (2CLJQ, buckingham): LogNormal(Q_c, 0.3), Q_c the value at
#     which the reduced Q*^2 = Q^2 / (4 pi eps0 epsilon sigma^5) is 0.5 at the centre of
#     (epsilon, sigma). The published 2CLJQ models have Q*^2 of 0.07 (ethane), 0.35 (O2),
#     0.61 (F2), 1.07 (N2) and 2.35 (ethylene) (Vrabec, Stoll and Hasse 2001, as
#     models/madin_2cljq/ lists them; ln Q* has mean -0.33, i.e. Q*^2 = 0.52); the VLE EOS
#     is validated for Q*^2 <= 4 (Stoll et al. 2001; docs/vle.md), 3.5 prior sd above the
#     centre. The VLE data leave a ridge along which epsilon falls as Q rises, up to that
#     edge, so the prior decides how close the posterior comes to it: the former
#     LogNormal(2 B, 1.0) put a third of its mass beyond it for N2 (VLE-trained: 665
#     divergences, R-hat 1.10), scale 0.5 still let a chain stick at the edge (363, 1.29),
#     scale 0.3 does not (2; 2026-11-26, docs/atlas.md). Ethane's and ethylene's published
#     values lie 3.3 and 2.6 sd from the centre: a prior they would have to overcome.
#     With L fixed (N2, O2, CO, F2) the form is sampled in ln Q*^2
#     (two_centre_lj_quadrupole_qstar; Q derived, in B) with the same centre and width:
#     ln Q*^2 ~ TruncatedNormal(ln 0.5, 0.6) on [ln 1e-3, ln 4], so the EOS's edge bounds
#     the support at every (epsilon, sigma), not only at the prior centre. In Q, B2 alone
#     let fluorine's chains lower sigma until Q*^2 reached the wall that B2's Q^4 / T term
#     makes near 4.5 (R-hat 1.033 at 4 x 12000 draws); in ln Q*^2 R-hat 1.002
#     (2026-11-28, docs/atlas.md).
# tests/test_atlas.py checks that every number below follows these rules.
#
# Sweep format: a base problem per form (lj.toml, mie.toml, 2clj.toml, 2cljq.toml), the
# axes fluid x potential x training, [[when]] blocks that set values for matching tasks (in
# file order, after the axes' sets) or exclude combinations (bayesff/sweep.py).

[sweep]
name = "atlas"
description = "LJ, Mie and two-centre models of 14 fluids trained on B2, VLE or both"
retries = 2

[sweep.atlas]
fluids = "../../data/atlas/fluids.csv"
fluid_axis = "fluid"
potential_axis = "potential"

[[axes]]
name = "fluid"
values = [
{fluid_values}]

[[axes]]
name = "potential"
values = [
  {{ label = "lj", base = "lj.toml" }},
  {{ label = "mie", base = "mie.toml" }},
  {{ label = "2clj", base = "2clj.toml" }},
  {{ label = "2cljq", base = "2cljq.toml" }},
]

[[axes]]
name = "training"
[[axes.values]]
label = "B2"
[axes.values.set.targets.B2]
train = {{ T_over_Tc = [0.8, 1.5] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}
[axes.values.set.targets.rho_l]
train = false
[axes.values.set.targets.p_sat]
train = false

[[axes.values]]
label = "VLE"
[axes.values.set.targets.B2]
train = false
[axes.values.set.targets.rho_l]
train = {{ T_over_Tc = [0.65, 0.85] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}
[axes.values.set.targets.p_sat]
train = {{ T_over_Tc = [0.65, 0.85] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}

[[axes.values]]
label = "B2_VLE"
[axes.values.set.targets.B2]
train = {{ T_over_Tc = [0.8, 1.5] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}
[axes.values.set.targets.rho_l]
train = {{ T_over_Tc = [0.65, 0.85] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}
[axes.values.set.targets.p_sat]
train = {{ T_over_Tc = [0.65, 0.85] }}
inadequacy = {{ kind = "inferred_scale", form = "relative", prior_scale = 0.05 }}

# ------------------------------------------------------------------ the rules (every task)

[[when]]
[when.set.transferability.tolerance]
B2 = {{ rel = 0.05, abs = 2.0 }}
rho_l = {{ rel = 0.02 }}
p_sat = {{ rel = 0.05 }}
rho_v = {{ rel = 0.05 }}
dH_vap = {{ rel = 0.03 }}
p = {{ rel = 0.1, abs = 5.0 }}
E_res = {{ rel = 0.05, abs = 0.05 }}

# two-centre forms only for the fluids whose model class is two-centre (fluids.csv)
[[when]]
match = {{ fluid = [
  "neon", "argon", "krypton", "xenon", "methane", "r14", "sf6",
], potential = ["2clj", "2cljq"] }}
exclude = true

"""

SMALL_HEADER = """\
# The atlas of atlas.toml at a size for a 2-core laptop: 2 chains x (300 warm-up + 300
# draws) instead of 4 x (1000 + 1000), 20 prior draws instead of 250. Everything else
# (fluids, forms, training sets, held-out groups, priors, tolerances) is atlas.toml's, line
# for line; the sweep has the same name, so it writes runs/atlas/ and reports/atlas/ (a run
# of the other file re-samples every task: the settings differ, so no run file is reused).
# With 600 draws per run a bulk ESS of 400 is not always reached; the atlas flags such runs.
#
"""


def _prior(median: float, scale: float) -> str:
    return f'{{ dist = "LogNormal", median = {median}, scale = {scale} }}'


def _holdout(training: str, low_vle: bool) -> str:
    b2 = [
        '{ target = "B2", name = "low T", select = { T_over_Tc = [0.0, 0.8] } }',
        '{ target = "B2", name = "high T", select = { T_over_Tc = [1.5, 100.0] } }',
    ]
    vle = []
    for t in ("rho_l", "p_sat"):
        if low_vle:
            vle.append(
                f'{{ target = "{t}", name = "low T", select = {{ T_over_Tc = [0.0, 0.65] }} }}'
            )
        vle.append(
            f'{{ target = "{t}", name = "high T", select = {{ T_over_Tc = [0.85, 1.0] }} }}'
        )
    groups = (b2 if "B2" in training else []) + (vle if "VLE" in training else [])
    return "holdout = [\n" + "".join(f"  {g},\n" for g in groups) + "]\n"


def per_fluid_blocks(cent: dict) -> str:
    out = []
    no_low = [n for n in FLUIDS if not _has_low_vle(n)]
    with_low = [n for n in FLUIDS if n not in no_low]
    out.append(
        "# ------------------------------------------- held-out groups per training value\n"
    )
    for label, training in (("B2", "B2"), ("VLE", "VLE"), ("B2_VLE", "B2+VLE")):
        for fluids, low in ((with_low, True), (no_low, False)):
            if "VLE" not in training and not low:
                continue
            match = f'training = "{label}"'
            if "VLE" in training:
                sel = ", ".join(f'"{n}"' for n in fluids)
                match += f", fluid = [{sel}]"
            note = (
                ""
                if low or "VLE" not in training
                else "# no saturation rows below 0.65 Tc (triple point at 0.70-0.71 Tc): "
                "no low-T VLE group\n"
            )
            out.append(
                f"{note}[[when]]\nmatch = {{ {match} }}\n[when.set.transferability]\n"
                + _holdout(training, low)
                + "\n"
            )
    out.append(
        "# ---------------------------------------------------- per fluid: data and priors\n"
    )
    for name in FLUIDS:
        vle = f"models/atlas/subsets/vle_{name}.csv"
        out.append(
            f'[[when]]\nmatch = {{ fluid = "{name}" }}\n[when.set.targets]\n'
            + "".join(
                f'{t} = {{ data = "{vle}" }}\n' for t in ("rho_l", "p_sat", "rho_v", "dH_vap")
            )
            + "\n"
        )
        for form in ("lj", "mie", "2clj"):
            if (name, form) not in cent:
                continue
            c = cent[name, form]
            forms = '["2clj", "2cljq"]' if form == "2clj" else f'"{form}"'
            dense = f"models/atlas/subsets/dense_{name}_{form}.csv"
            scale = 0.4 if form == "2clj" else 0.3
            block = ""
            if "critical" in c:
                block = _critical_kind_blocks(name)
            block += (
                f'[[when]]\nmatch = {{ fluid = "{name}", potential = {forms} }}\n'
                "[when.set.parameters]\n"
            )
            if "critical" in c:
                block += _critical_parameters(c["critical"])
            elif "mie_critical" in c:
                m = c["mie_critical"]
                block += (
                    f'epsilon_c = {{ unit = "K", prior = {_prior(m["epsilon_c"], 0.3)} }}\n'
                    f'l_c = {{ unit = "angstrom", prior = {_prior(m["l_c"], 0.15)} }}\n'
                )
            else:
                block += (
                    f'epsilon = {{ unit = "K", prior = {_prior(c["epsilon"], scale)} }}\n'
                    f'sigma = {{ unit = "angstrom", prior = {_prior(c["sigma"], 0.15)} }}\n'
                )
            if form == "2clj" and c["fixed_L"]:
                block += f'L = {{ unit = "angstrom", value = {c["L"]} }}\n'
            block += (
                "[when.set.targets]\n"
                f'p = {{ data = "{dense}" }}\nE_res = {{ data = "{dense}" }}\n\n'
            )
            out.append(block)
            if form == "2clj" and (name, "2cljq") in cent:
                out.append(_quadrupole_block(name, cent[name, "2cljq"]))
    return "".join(out)


def _quadrupole_block(name: str, c: dict) -> str:
    """The 2CLJQ form's quadrupole: in ln Q*^2 where L is fixed (:data:`LN_Q2_STAR`), a
    LogNormal Q prior in critical-point coordinates (no such form in ln Q*^2)."""
    head = f'[[when]]\nmatch = {{ fluid = "{name}", potential = "2cljq" }}\n'
    if "critical" in c:
        return head + (
            f'[when.set.parameters]\nQ = {{ unit = "B", prior = {_prior(c["Q"], Q_SCALE)} }}\n\n'
        )
    prior = ", ".join(f"{k} = {v}" for k, v in LN_Q2_STAR.items())
    return head + (
        '[when.set.potential]\nkind = "two_centre_lj_quadrupole_qstar"\n'
        "[when.set.parameters]\n"
        f'lnQ2_star = {{ unit = "1", prior = {{ dist = "TruncatedNormal", {prior} }} }}\n\n'
    )


#: The two-centre forms in critical-point coordinates, by atlas label.
CRITICAL_KINDS = {"2clj": "two_centre_lj_critical", "2cljq": "two_centre_lj_quadrupole_critical"}


def _critical_kind_blocks(name: str) -> str:
    return "".join(
        f'[[when]]\nmatch = {{ fluid = "{name}", potential = "{form}" }}\n'
        f'[when.set.potential]\nkind = "{kind}"\n\n'
        for form, kind in CRITICAL_KINDS.items()
    )


def _critical_parameters(c: dict) -> str:
    ls = c["L_star"]
    return (
        f'epsilon_c = {{ unit = "K", prior = {_prior(c["epsilon_c"], 0.4)} }}\n'
        f'l_c = {{ unit = "angstrom", prior = {_prior(c["l_c"], 0.15)} }}\n'
        'L_star = { unit = "1", prior = { dist = "TruncatedNormal", '
        f"loc = {ls}, scale = {_sig4(0.3 * ls)}, low = {_sig4(0.2 * ls)}, "
        f"high = {min(_sig4(2 * ls), L_STAR_EDGE)} }} }}\n"
    )


def _has_low_vle(name: str) -> bool:
    _, rows, _ = _read(ROOT / "data" / "vle" / f"saturation_{name}.csv")
    return any(VLE_T_MIN <= float(r["T_over_Tc"]) < VLE_TRAIN[0] for r in rows)


def kind_blocks() -> str:
    """[[when]] blocks with KIND_SETTINGS, one per form and training set."""
    out = ["# ------------------------------ sampler settings per form and training set\n"]
    for (form, training), (settings, left_out) in KIND_SETTINGS.items():
        sets = ", ".join(f"{k} = {v}" for k, v in settings.items())
        fluids = ", ".join(f'"{n}"' for n in FLUIDS if n not in left_out)
        out.append(
            f"# make_atlas.py's KIND_SETTINGS (why there); not for {', '.join(left_out)}\n"
            f'[[when]]\nmatch = {{ potential = "{form}", training = "{training}", '
            f"fluid = [{fluids}] }}\nset = {{ inference = {{ {sets} }} }}\n\n"
        )
    return "".join(out)


def longer_chain_blocks() -> str:
    """[[when]] blocks giving the LONGER_CHAINS tasks LONGER draws (the full atlas only:
    they would undo the 2-core atlas's short chains)."""
    out = [
        "# ---------------------------------------------------- longer chains (make_atlas.py\n"
        "# LONGER_CHAINS): runs that did not converge at 1000 draws by slow mixing\n"
    ]
    for task, (rhat, ess, div) in LONGER_CHAINS.items():
        draws = {
            **LONGER,
            "samples": LONGER_SAMPLES.get(task, LONGER["samples"]),
        }
        if task in TEMPERED:
            draws = {"sampler": '"tempered"', **TEMPERED[task]}
        sets = ", ".join(f"{k} = {v}" for k, v in draws.items())
        fluid, form, training = task.split("-")
        how = "; parallel tempering (make_atlas.py's TEMPERED)" if task in TEMPERED else ""
        out.append(
            f"# {task}: R-hat {rhat}, bulk ESS {ess}, {div} divergences at 1000 draws{how}\n"
            f'[[when]]\nmatch = {{ fluid = "{fluid}", potential = "{form}", '
            f'training = "{training}" }}\nset = {{ inference = {{ {sets} }} }}\n\n'
        )
    return "".join(out)


def sweep_text(cent: dict, *, small: bool) -> str:
    b2 = '{{ targets = {{ B2 = {{ data = "data/atlas/b2_{}.csv" }} }} }}'
    values = "".join(f'  {{ label = "{n}", set = {b2.format(n)} }},\n' for n in FLUIDS)
    head = ATLAS_HEADER.format(fluid_values=values)
    if small:
        head = SMALL_HEADER + head
    body = per_fluid_blocks(cent) + kind_blocks() + ("" if small else longer_chain_blocks())
    tail = (
        "[inference]\nchains = 2\nwarmup = 300\nsamples = 300\nprior_draws = 20\nseed = 0\n"
        if small
        else "[inference]\nchains = 4\nwarmup = 1000\nsamples = 1000\nprior_draws = 250\n"
        "seed = 0\n"
    )
    return head + body + tail


SAMPLE_HEADER = """\
# A cross-section of the atlas: argon and nitrogen, every form, trained on B2 or on VLE.
#
# The same tasks as models/atlas/atlas.toml (the same problems, settings and sweep name, so
# the same run files in runs/atlas/: a run of either file reuses the other's), cut down by
# the two exclude blocks marked SAMPLE below; docs/atlas.md quotes its runs. Its sweep name
# is "atlas", so give its page another place, or it replaces reports/atlas/:
#
#     bayesff sweep models/atlas/atlas_sample.toml --reports /tmp/atlas_sample
#
# Written by make_atlas.py as atlas.toml plus the two blocks; everything else is atlas.toml's.
#
"""
SAMPLE_BLOCKS = """\
# SAMPLE: argon and nitrogen only, trained on B2 or VLE (a cross-section of the atlas)
[[when]]
match = { fluid = [
  "neon", "krypton", "xenon", "methane", "oxygen", "carbon_monoxide", "fluorine", "r14",
  "sf6", "ethane", "ethylene", "carbon_dioxide",
] }
exclude = true

[[when]]
match = { training = "B2_VLE" }
exclude = true

"""


def sample_text(atlas: str) -> str:
    """atlas_sample.toml: the atlas cut to argon and nitrogen trained on B2 or VLE."""
    anchor = "# ------------------------------------------- held-out groups per training value"
    head, tail = atlas.split(anchor, 1)
    return SAMPLE_HEADER + head + SAMPLE_BLOCKS + anchor + tail


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a file would change")
    args = ap.parse_args(argv)
    cent = centres()
    files = subsets(cent)
    want = {SUBSETS / k: v[0] for k, v in files.items()}
    want[SUBSETS / "manifest.toml"] = manifest(files)
    want[HERE / "atlas.toml"] = sweep_text(cent, small=False)
    want[HERE / "atlas_2core.toml"] = sweep_text(cent, small=True)
    want[HERE / "atlas_sample.toml"] = sample_text(want[HERE / "atlas.toml"])
    changed = [p for p, t in want.items() if not p.is_file() or p.read_text() != t]
    if args.check:
        for p in changed:
            print(f"would change: {p.relative_to(ROOT)}")
        return 1 if changed else 0
    SUBSETS.mkdir(exist_ok=True)
    for p in changed:
        p.write_text(want[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
