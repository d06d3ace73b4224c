"""Does the EOS speak for MD? NPT MD of a tangent Mie chain against SAFT-VR Mie (issue 30).

A ``mie_chain`` calibration predicts the liquid through the SAFT-VR Mie equation of
state (Lafitte et al., J. Chem. Phys. 139, 154504 (2013)), but a user takes the
parameters into MD. This study measures the gap: for parameter sets of one molecule
(the posterior mean and a few posterior draws of a run, or values given on the command
line) it simulates the force field that the parameters stand for, tangent Mie beads
joined by fixed bonds of length sigma, at two temperatures and the reference
saturation pressure, and compares the MD liquid density and configurational energy
with the EOS at the same (T, p) and (T, rho)::

    python -m studies.mie_chain_md --run runs/alkane_chains/transferable/posterior.nc \\
        --molecule n_butane --segments 2 --draws 2
    python -m studies.mie_chain_md --epsilon 280 --sigma 3.95 --n 16 --segments 2
    python -m studies.mie_chain_md --epsilon 251.135 --sigma 3.96714 --n 12.5663 \\
        --label "posterior mean" --engine jax-md     # on a GPU: benchmarks/gpu.sh chainmd

The chain force field is the one SAFT-VR Mie describes: beads of one type, the Mie
n-6 pair potential between beads of different molecules, no intramolecular
nonbonded term (a 2-bead chain has none to exclude; longer chains would need the
1-3 and further pairs that SAFT's chain term assumes, so only ``--segments 2`` is
offered), a cut-off with the analytic tail correction, bead mass = molar mass /
segments. MD: OpenMM (CPU), Langevin 1/ps, Monte Carlo barostat, 2 fs steps
(bonds constrained), equilibration detected from the density series and the
uncertainty of every average from its statistical inefficiency
(:mod:`bayesff.simulate.timeseries`).

Writes ``reports/alkane_chains/md_vs_eos.csv`` (one row per parameter set and
temperature: T, p, EOS and MD density in mol/L with the MD standard error, their
relative difference, EOS residual energy at the MD density and MD energy per
molecule in kJ/mol) and prints the same table.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np

import bayesff
from bayesff import runfile
from bayesff.export import chain_topology
from bayesff.io import atomic_write_bytes
from bayesff.observables import get_observable
from bayesff.potentials import forcefield as ff
from bayesff.potentials import get_potential
from bayesff.simulate import engines, timeseries
from bayesff.simulate.molecules import lattice_configuration
from bayesff.units import AVOGADRO, GAS_CONSTANT_KJ_PER_MOL_K

ROOT = Path(__file__).resolve().parent.parent
MOLAR_MASS_G_PER_MOL = {"n_butane": 58.1222}  # CoolProp 8 (n-Butane), as data/alkanes/
#: Temperatures of the data rows used (K): 0.60 and 0.775 Tc of n-butane.
TEMPERATURES_K = (255.07, 329.47)


def parameter_sets(args) -> list[tuple[str, dict]]:
    """(label, {epsilon K, sigma angstrom, n, m}) from a run or from the command line."""
    if args.run is None:
        given = {"epsilon": args.epsilon, "sigma": args.sigma, "n": args.n, "m": 6.0}
        return [(args.label, given)]
    post = runfile.latents(runfile.read(args.run), "posterior")
    flat = {k: np.asarray(post[k].values, float).reshape(-1) for k in ("epsilon", "sigma", "n")}
    fixed_m = "m" not in post.data_vars
    m = np.full(flat["epsilon"].size, 6.0) if fixed_m else np.asarray(post["m"]).reshape(-1)
    out = [("posterior mean", {**{k: float(v.mean()) for k, v in flat.items()}, "m": m.mean()})]
    picks = np.linspace(0, flat["epsilon"].size - 1, args.draws).round().astype(int)
    for i in picks:
        out.append((f"draw {i}", {**{k: float(v[i]) for k, v in flat.items()}, "m": float(m[i])}))
    return out


def eos_predictions(p: dict, segments: int, T_K: float, p_MPa: float, rho_mol_per_L: float):
    """SAFT-VR Mie density at (T, p) (mol/L) and residual energy at (T, rho) (kJ/mol)."""
    pot = get_potential("mie_chain")
    params = {
        "epsilon": p["epsilon"] * GAS_CONSTANT_KJ_PER_MOL_K,
        "sigma": p["sigma"],
        "n": p["n"],
        "m": p["m"],
        "segments": float(segments),
    }
    params = {k: jnp.asarray(v) for k, v in params.items()}
    rho = get_observable("compressed_liquid_density").build(pot)(
        params, {"T_K": jnp.array([T_K]), "p_MPa": jnp.array([p_MPa])}
    )
    rho_A3 = rho_mol_per_L * AVOGADRO * 1e-27  # mol/L -> 1/angstrom^3
    e_res = get_observable("eos_residual_energy").build(pot)(
        params, {"T_K": jnp.array([T_K]), "rho_per_A3": jnp.array([rho_A3])}
    )
    return float(rho[0]), float(e_res[0])


def simulate(p: dict, segments: int, T_K: float, p_MPa: float, args) -> dict:
    """NPT MD of the chain liquid: density (mol/L) and energy per molecule (kJ/mol)."""
    topo = chain_topology(segments, args.molar_mass, p["sigma"], args.r_cut)
    system = ff.System(topo, (("chain", args.molecules),))
    params = {
        "epsilon_M": p["epsilon"] * GAS_CONSTANT_KJ_PER_MOL_K,
        "sigma_M": p["sigma"],
        "n_M": p["n"],
        "m_M": p["m"],
    }
    model = engines.SimulatedSystem(system, params)
    R, box = lattice_configuration(system, args.start_density, seed=args.seed)
    common = {
        "T_K": T_K,
        "p_MPa": p_MPa,
        "dt_fs": 2.0,
        "threads": args.threads,
        "engine": args.engine,
        "seed": args.seed,
    }
    start = engines.run(
        model,
        engines.State(R, box),
        engines.RunSettings(n_steps=args.equil, sample_every=500, **common),
    )
    traj = engines.run(
        model,
        engines.State(start.positions[-1], start.box[-1]),
        engines.RunSettings(n_steps=args.steps, sample_every=100, minimize=False, **common),
    )
    n = args.molecules
    rho = n / traj.volume / AVOGADRO * 1e27  # molecules per angstrom^3 -> mol/L
    rho_avg = timeseries.average(rho, where="MD density")
    u_avg = timeseries.average(
        traj.potential_energy / n, t0=rho_avg.t0, where="MD energy per molecule"
    )
    return {"rho": rho_avg, "u": u_avg, "ns_per_day": traj.ns_per_day}


def done_rows(path) -> list[dict]:
    """The rows of an earlier run of this study (numbers as floats; none if no file)."""
    if not Path(path).exists():
        return []
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    text = ("parameters", "engine")
    out = [{k: v if k in text else float(v) for k, v in r.items()} for r in rows]
    for r in out:  # rows written before the engine and seed columns: OpenMM's, seed 0
        r.setdefault("engine", "openmm")
        r["seed"] = int(r.get("seed", 0))
    return out


def _same_state(row: dict, p: dict, T_K: float, engine: str, seed: int = 0) -> bool:
    """Whether ``row`` simulated parameters ``p`` at ``T_K`` with ``engine`` and ``seed``."""
    keys = (("epsilon_K", "epsilon"), ("sigma_angstrom", "sigma"), ("n", "n"))
    same = (row["engine"], row["seed"]) == (engine, seed)
    same = same and math.isclose(row["T_K"], T_K, rel_tol=1e-5)
    return same and all(math.isclose(row[a], p[b], rel_tol=1e-5) for a, b in keys)


def write_rows(rows: list[dict], path) -> None:
    """Write the table atomically (6 significant digits; the columns of the newest row)."""
    cols = list(rows[-1])
    fmt = lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = [",".join(cols)] + [",".join(fmt(r[k]) for k in cols) for r in rows]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", help="a mie_chain run file (posterior mean and draws)")
    ap.add_argument("--draws", type=int, default=2, help="posterior draws besides the mean")
    ap.add_argument("--epsilon", type=float, help="epsilon/k_B, K (without --run)")
    ap.add_argument("--sigma", type=float, help="sigma, angstrom (without --run)")
    ap.add_argument("--n", type=float, help="repulsive exponent (without --run)")
    ap.add_argument("--label", default="given", help="the parameter set's name in the table")
    ap.add_argument("--molecule", default="n_butane", choices=sorted(MOLAR_MASS_G_PER_MOL))
    ap.add_argument("--segments", type=int, default=2, choices=(2,))
    ap.add_argument("--molecules", type=int, default=200)
    ap.add_argument("--r-cut", type=float, default=14.0, help="cut-off, angstrom")
    ap.add_argument("--equil", type=int, default=20000, help="equilibration steps")
    ap.add_argument("--steps", type=int, default=50000, help="production steps")
    ap.add_argument("--start-density", type=float, default=450.0, help="kg/m^3")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (OpenMM)")
    ap.add_argument("--engine", default="openmm", choices=("openmm", "jax-md"))
    ap.add_argument("--seed", type=int, default=0, help="start lattice, velocities, noise")
    ap.add_argument(
        "--temperature",
        type=float,
        action="append",
        choices=TEMPERATURES_K,
        help="run only this temperature, K (repeatable; default: both)",
    )
    ap.add_argument("--out", default=str(ROOT / "reports" / "alkane_chains" / "md_vs_eos.csv"))
    args = ap.parse_args(argv)
    if args.run is None and None in (args.epsilon, args.sigma, args.n):
        ap.error("give --run, or --epsilon, --sigma and --n")
    bayesff.configure()
    args.molar_mass = MOLAR_MASS_G_PER_MOL[args.molecule]
    sat = {}
    with open(ROOT / "data" / "alkanes" / f"saturation_{args.molecule}.csv") as fh:
        for row in csv.DictReader(fh):
            sat[float(row["T_K"])] = float(row["p_sat_MPa"])
    rows = done_rows(args.out)
    for label, p in parameter_sets(args):
        for T in args.temperature or TEMPERATURES_K:
            if any(_same_state(r, p, T, args.engine, args.seed) for r in rows):
                print(f"{label:>15s} T = {T:6.2f} K: in {args.out} already, skipped")
                continue
            p_MPa = max(sat[T], 0.1)  # below 0.1 MPa the liquid's density hardly changes
            t0 = time.perf_counter()
            md = simulate(p, args.segments, T, p_MPa, args)
            rho_eos, e_eos = eos_predictions(p, args.segments, T, p_MPa, md["rho"].mean)
            row = {
                "parameters": label,
                "engine": args.engine,
                "seed": args.seed,
                "epsilon_K": p["epsilon"],
                "sigma_angstrom": p["sigma"],
                "n": p["n"],
                "T_K": T,
                "p_MPa": p_MPa,
                "rho_eos_mol_per_L": rho_eos,
                "rho_md_mol_per_L": md["rho"].mean,
                "u_rho_md_mol_per_L": md["rho"].sem,
                "rho_rel_diff": (md["rho"].mean - rho_eos) / rho_eos,
                "E_res_eos_kJ_per_mol": e_eos,
                "E_md_kJ_per_mol": md["u"].mean,
                "u_E_md_kJ_per_mol": md["u"].sem,
                "ns_per_day": md["ns_per_day"],
                "wall_s": time.perf_counter() - t0,
            }
            rows.append(row)
            write_rows(rows, args.out)  # after every state: a stopped study resumes
            print(
                f"{label:>15s} T = {T:6.2f} K: rho EOS {rho_eos:.4f}, MD {md['rho'].mean:.4f} "
                f"+- {md['rho'].sem:.4f} mol/L ({100 * row['rho_rel_diff']:+.2f} %); E_res EOS "
                f"{e_eos:.3f}, MD {md['u'].mean:.3f} +- {md['u'].sem:.3f} kJ/mol "
                f"({row['ns_per_day']:.0f} ns/day, {row['wall_s']:.0f} s)",
                flush=True,
            )
    print(f"wrote {args.out}")
    if not all(math.isfinite(r["rho_eos_mol_per_L"]) for r in rows):
        print("warning: the EOS gave NaN for some state (outside its range at these parameters)")
    return rows


if __name__ == "__main__":
    main()
