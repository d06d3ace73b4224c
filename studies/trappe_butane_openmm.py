"""TraPPE-UA n-butane's Delta H_vap with plain OpenMM: an independent check of bayesff's
molecular pipeline (no bayesff code: the force field is written out here from the paper).

Run from the repository root::

    python -m studies.trappe_butane_openmm                   # 244.44 K, 128 molecules, r_c 10
    python -m studies.trappe_butane_openmm --rc 14 --n 256   # TraPPE's own cut-off
    python -m studies.trappe_butane_openmm --all-trans       # the old start: every torsion trans

TraPPE-UA (M. G. Martin and J. I. Siepmann, J. Phys. Chem. B 102, 2569 (1998)): CH3 98 K
/ 3.75 angstrom, CH2 46 K / 3.95 angstrom, Lorentz-Berthelot; bonds fixed at 1.54
angstrom; bending (k_theta/2)(theta - 114 deg)^2 with k_theta/k_B = 62500 K/rad^2; torsion
c1 [1 + cos phi] + c2 [1 - cos 2 phi] + c3 [1 + cos 3 phi], c/k_B = 355.03, -68.19, 791.32
K (trans = 180 deg); no intramolecular LJ in butane. NPT liquid (Langevin 1/ps, 2 fs,
Monte Carlo barostat), truncated LJ with the analytic dispersion correction; isolated
molecules for the gas. Delta H_vap = <U_gas> - <U_liq>/N + R T - p <V_liq>/N (ideal vapour).
The first third of the liquid's production is discarded.

Start shapes: each dihedral drawn from exp(-u(phi)/k_B T) (exact for an isolated butane:
no pair beyond 1-4), or all trans with ``--all-trans``. What it printed on 2026-11-25 (this
project's 2-core CPU) is in docs/alkanes.md.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import openmm as mm
from openmm import unit as u

R = 8.314462618e-3  # kJ/mol/K
NA = 6.02214076e23
TYPES = ("CH3", "CH2", "CH2", "CH3")
EPS = {"CH3": 98.0 * R, "CH2": 46.0 * R}
SIG = {"CH3": 3.75, "CH2": 3.95}
MASS = {"CH3": 15.035, "CH2": 14.027}
C1, C2, C3 = (x * R for x in (355.03, -68.19, 791.32))


def torsion(phi):
    return C1 * (1 + np.cos(phi)) + C2 * (1 - np.cos(2 * phi)) + C3 * (1 + np.cos(3 * phi))


def system(n_mol, T, p_MPa, rc, box=None):
    s = mm.System()
    for _ in range(n_mol):
        for t in TYPES:
            s.addParticle(MASS[t])
    ang = mm.HarmonicAngleForce()
    tor = mm.CustomTorsionForce("c1*(1+cos(theta))+c2*(1-cos(2*theta))+c3*(1+cos(3*theta))")
    for name, c in (("c1", C1), ("c2", C2), ("c3", C3)):
        tor.addGlobalParameter(name, c)
    for m in range(n_mol):
        b = 4 * m
        for k in range(3):
            s.addConstraint(b + k, b + k + 1, 0.154)
        for k in range(2):
            ang.addAngle(b + k, b + k + 1, b + k + 2, math.radians(114.0), 62500 * R)
        tor.addTorsion(b, b + 1, b + 2, b + 3, [])
    ang.setForceGroup(1)
    tor.setForceGroup(2)
    s.addForce(ang)
    s.addForce(tor)
    if box is not None:
        nb = mm.NonbondedForce()
        for _ in range(n_mol):
            for t in TYPES:
                nb.addParticle(0.0, SIG[t] * 0.1, EPS[t])
        for m in range(n_mol):
            for i in range(4):
                for j in range(i + 1, 4):
                    nb.addException(4 * m + i, 4 * m + j, 0.0, 1.0, 0.0)
        nb.setNonbondedMethod(mm.NonbondedForce.CutoffPeriodic)
        nb.setCutoffDistance(rc * 0.1)
        nb.setUseSwitchingFunction(False)
        nb.setUseDispersionCorrection(True)
        nb.setForceGroup(3)
        s.addForce(nb)
        L = box * 0.1
        s.setDefaultPeriodicBoxVectors(mm.Vec3(L, 0, 0), mm.Vec3(0, L, 0), mm.Vec3(0, 0, L))
        s.addForce(mm.MonteCarloBarostat(p_MPa * 10 * u.bar, T * u.kelvin, 25))
    return s


def butane(rng, T, all_trans):
    """A butane of fixed bonds and angles; its dihedral trans or drawn at T."""
    a = math.radians(114.0) / 2
    dx, dy = 1.54 * math.sin(a), 1.54 * math.cos(a)
    x = np.array([[0, 0, 0], [dx, dy, 0], [2 * dx, 0, 0], [3 * dx, dy, 0]], dtype=float)
    if all_trans:
        return x - x.mean(0)
    grid = np.linspace(-np.pi, np.pi, 20001)
    w = np.exp(-torsion(grid) / (R * T))
    phi = rng.choice(grid, p=w / w.sum())
    k = (x[2] - x[1]) / np.linalg.norm(x[2] - x[1])
    v, t = x[3] - x[2], phi - np.pi  # the planar zig-zag is trans (pi)
    x[3] = x[2] + v * np.cos(t) + np.cross(k, v) * np.sin(t) + k * (k @ v) * (1 - np.cos(t))
    return x - x.mean(0)


def rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def run(s, positions, T, n_equil, n_prod, every, periodic):
    integ = mm.LangevinMiddleIntegrator(T * u.kelvin, 1 / u.picosecond, 0.002 * u.picoseconds)
    ctx = mm.Context(s, integ, mm.Platform.getPlatformByName("CPU"), {"Threads": "2"})
    ctx.setPositions(positions * 0.1)
    mm.LocalEnergyMinimizer.minimize(ctx, 10.0, 200)
    ctx.setVelocitiesToTemperature(T * u.kelvin, 3)
    integ.step(n_equil)
    rows = []
    for _ in range(n_prod // every):
        integ.step(every)
        e = [ctx.getState(getEnergy=True, groups={g}).getPotentialEnergy() for g in (1, 2)]
        row = [x.value_in_unit(u.kilojoule_per_mole) for x in e]
        st = ctx.getState(getEnergy=True)
        row.append(st.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole))
        if periodic:
            bv = st.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.angstrom)
            row.append(float(np.linalg.det(bv)))
        rows.append(row)
    return np.array(rows)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=float, default=244.44, help="K")
    ap.add_argument("--p", type=float, default=0.030054783, help="MPa (p_sat of the EOS)")
    ap.add_argument("--rc", type=float, default=10.0, help="cut-off, angstrom")
    ap.add_argument("--n", type=int, default=128, help="molecules in the liquid")
    ap.add_argument("--gas-steps", type=int, default=200000)
    ap.add_argument("--all-trans", action="store_true")
    args = ap.parse_args(argv)
    T = args.T
    rng = np.random.default_rng(1)
    box = 34.0 * (args.n / 128) ** (1 / 3)  # ~380 kg/m^3; the barostat compresses
    per_edge = math.ceil(args.n ** (1 / 3))
    cells = [(i, j, k) for i in range(per_edge) for j in range(per_edge) for k in range(per_edge)]
    rng.shuffle(cells)
    pos = np.concatenate(
        [butane(rng, T, args.all_trans) @ rotation(rng).T + (np.array(c) + 0.5) * box / per_edge
         for c in cells[: args.n]]
    )  # fmt: skip
    t0 = time.perf_counter()
    liq = run(system(args.n, T, args.p, args.rc, box), pos, T, 40000, 60000, 250, True)
    liq = liq[len(liq) // 3 :]
    n_gas = 64
    gpos = np.concatenate(
        [butane(rng, T, args.all_trans) + np.array([30.0 * k, 0, 0]) for k in range(n_gas)]
    )
    gas = run(system(n_gas, T, args.p, args.rc), gpos, T, 5000, args.gas_steps, 50, False)
    _, t_l, u_l, v_l = liq.mean(0)
    a_g, t_g, u_g = gas.mean(0) / n_gas
    pv = args.p * 1e6 * v_l * 1e-30 * NA / 1e3 / args.n
    dh = u_g - u_l / args.n + R * T - pv
    out = {
        "T_K": T,
        "r_cut_angstrom": args.rc,
        "n_molecules": args.n,
        "start": "all-trans" if args.all_trans else "drawn",
        "density_mol_per_L": args.n / (v_l * 1e-27) / NA,
        "liquid_torsion_kJ_per_mol": t_l / args.n,
        "gas_torsion_kJ_per_mol": t_g,
        "gas_angles_kJ_per_mol": a_g,
        "dH_vap_kJ_per_mol": dh,
        "wall_s": time.perf_counter() - t0,
    }
    grid = np.linspace(-np.pi, np.pi, 200001)
    w = np.exp(-torsion(grid) / (R * T))
    out["exact_gas_torsion_kJ_per_mol"] = float(np.sum(torsion(grid) * w) / np.sum(w))
    for k, v in out.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return out


if __name__ == "__main__":
    main()
