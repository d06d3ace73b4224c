r"""The OpenMM engine: a bayesff molecular system as an ``openmm.System``, and MD.

:func:`openmm_system` translates a :class:`~bayesff.potentials.forcefield.System`
and its parameters term by term (units: nm, kJ/mol, rad, amu):

- fixed bonds -> ``System.addConstraint``; harmonic bonds ->
  ``HarmonicBondForce`` (same :math:`\tfrac{k}{2}(r - r_0)^2` convention);
- angles -> ``HarmonicAngleForce``; torsions -> ``RBTorsionForce`` (OpenMM's
  RB angle is :math:`\psi = \phi - 180°`, as in
  :func:`bayesff.potentials.torsion.ryckaert_bellemans`);
- LJ with Lorentz-Berthelot -> ``NonbondedForce`` (uncharged; its fast CPU
  kernels); any other form or rule -> ``CustomNonbondedForce`` with (T, T)
  tables of epsilon, sigma and the exponents (``Discrete2DFunction``);
  truncated at r_c without switching (``CutoffPeriodic``), exclusions from the
  topology, 1-4 pairs as exceptions / a ``CustomBondForce`` without cut-off;
- the tail: ``setUseDispersionCorrection`` / ``setUseLongRangeCorrection``.
  OpenMM averages the pair integrals over the N(N+1)/2 pairs of particle
  classes, bayesff over the N^2 ordered site pairs
  (:func:`bayesff.potentials.forcefield.tail`): identical for one site type,
  different by O(1/N) for a mixture of types (measured in docs/molecular.md).

OpenMM's CPU platform computes in mixed precision; energies for reweighting
are recomputed in float64 by the JAX force field, never taken from here.
"""

from __future__ import annotations

import math
import time

import numpy as np
import openmm
from openmm import unit

from bayesff.potentials.forcefield import System, pair_tables
from bayesff.simulate.engines import (
    EngineError,
    RunSettings,
    SimulatedSystem,
    State,
    Trajectory,
)

__all__ = ["context", "openmm_system", "potential_energy", "run"]

_NM = 0.1  # nm per angstrom


def _lj_lorentz_berthelot(topology) -> bool:
    return topology.form == "lj" and topology.combining_rule == "lorentz_berthelot"


def openmm_system(system: System, params, *, periodic: bool = True) -> openmm.System:
    """The ``openmm.System`` of a bayesff system at ``params`` (module docstring).

    Parameters
    ----------
    system
        Topology and composition.
    params
        Nonbonded parameters, internal units.
    periodic
        True for the periodic liquid (cut-off, tail); False for isolated
        molecules (no cut-off, no tail, no interaction between molecules).
    """
    topo = system.topology
    a = system.arrays
    oms = openmm.System()
    for m in a["mass"]:
        oms.addParticle(float(m))
    for (i, j), d in zip(a["constraints"], a["constraint_length"], strict=True):
        oms.addConstraint(int(i), int(j), float(d) * _NM)
    if a["bonds"].shape[0]:
        f = openmm.HarmonicBondForce()
        for (i, j), r0, k in zip(a["bonds"], a["bond_r0"], a["bond_k"], strict=True):
            f.addBond(int(i), int(j), float(r0) * _NM, float(k) / _NM**2)
        f.setUsesPeriodicBoundaryConditions(periodic)
        oms.addForce(f)
    if a["angles"].shape[0]:
        f = openmm.HarmonicAngleForce()
        for (i, j, k), th, kt in zip(a["angles"], a["theta0"], a["k_theta"], strict=True):
            f.addAngle(int(i), int(j), int(k), float(th), float(kt))
        f.setUsesPeriodicBoundaryConditions(periodic)
        oms.addForce(f)
    if a["torsions"].shape[0]:
        f = openmm.RBTorsionForce()
        for (i, j, k, l), c in zip(a["torsions"], a["rb"], strict=True):  # noqa: E741
            f.addTorsion(int(i), int(j), int(k), int(l), *(float(x) for x in c))
        f.setUsesPeriodicBoundaryConditions(periodic)
        oms.addForce(f)
    tables = [np.asarray(t, dtype=float) for t in pair_tables(topo, params)]
    excluded = _excluded_pairs(system, isolated=not periodic)
    if _lj_lorentz_berthelot(topo):
        _add_nonbonded(oms, system, tables, excluded, periodic)
    else:
        _add_custom_nonbonded(oms, system, tables, excluded, periodic)
    return oms


def _excluded_pairs(system: System, isolated: bool = False) -> list[tuple[int, int]]:
    """Every pair that the pair sum skips (excluded and 1-4), global indices; with
    ``isolated`` also every pair of sites of different molecules (the gas phase of
    independent molecules)."""
    out = []
    a = system.arrays
    if isolated:
        mol = a["site_molecule"]
        i, j = np.triu_indices(len(mol), k=1)
        inter = mol[i] != mol[j]
        out += list(zip(i[inter].tolist(), j[inter].tolist(), strict=True))
    for first, kind in zip(a["molecule_first"], a["molecule_kind"], strict=True):
        m = system.topology.molecules[kind]
        for group in ("excluded", "scaled14"):
            out += [(int(first) + i, int(first) + j) for i, j in m.pair_lists[group]]
    return out


def _add_nonbonded(oms, system, tables, excluded, periodic):
    eps, sig = tables[0], tables[1]
    a = system.arrays
    t = a["site_type"]
    f = openmm.NonbondedForce()
    for ti in t:
        f.addParticle(0.0, float(sig[ti, ti]) * _NM, float(eps[ti, ti]))
    for i, j in excluded:
        f.addException(i, j, 0.0, 1.0, 0.0)
    # 1-4 pairs: scaled exceptions (computed without cut-off, like bayesff's pairs14);
    # addException replaces the exclusion above for the same pair.
    for (i, j), s in zip(a["pairs14"], a["scale14"], strict=True):
        ti, tj = t[i], t[j]
        f.addException(int(i), int(j), 0.0, float(sig[ti, tj]) * _NM, float(s * eps[ti, tj]), True)
    if periodic:
        f.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)
        f.setCutoffDistance(system.topology.r_cut_angstrom * _NM)
        f.setUseSwitchingFunction(False)
        f.setUseDispersionCorrection(bool(system.topology.tail))
        # no charges: the reaction field of CutoffPeriodic multiplies zero
    else:
        f.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
    oms.addForce(f)


def _pair_expression(form: str) -> str:
    if form == "lj":
        return "4*eps*((sig/r)^12-(sig/r)^6)"
    return "C*eps*((sig/r)^n-(sig/r)^m); C=(n/(n-m))*(n/m)^(m/(n-m))"


def _add_custom_nonbonded(oms, system, tables, excluded, periodic):
    topo = system.topology
    a = system.arrays
    n_types = len(topo.site_types)
    expr = _pair_expression(topo.form)
    lookups = (
        "; eps=epsT(type1,type2); sig=sigT(type1,type2); n=nT(type1,type2); m=mT(type1,type2)"
    )
    f = openmm.CustomNonbondedForce(expr + lookups)
    for name, table, scale in zip(
        ("epsT", "sigT", "nT", "mT"), tables, (1.0, _NM, 1.0, 1.0), strict=True
    ):
        values = (np.asarray(table) * scale).T.ravel()  # Discrete2DFunction is x-fastest
        f.addTabulatedFunction(name, openmm.Discrete2DFunction(n_types, n_types, values.tolist()))
    f.addPerParticleParameter("type")
    for ti in a["site_type"]:
        f.addParticle([float(ti)])
    for i, j in excluded:
        f.addExclusion(i, j)
    if periodic:
        f.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffPeriodic)
        f.setCutoffDistance(topo.r_cut_angstrom * _NM)
        f.setUseSwitchingFunction(False)
        f.setUseLongRangeCorrection(bool(topo.tail))
    else:
        f.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
    oms.addForce(f)
    if a["pairs14"].shape[0]:
        b = openmm.CustomBondForce("s*" + expr)
        for p in ("s", "eps", "sig", "n", "m"):
            b.addPerBondParameter(p)
        t = a["site_type"]
        for (i, j), s in zip(a["pairs14"], a["scale14"], strict=True):
            ti, tj = t[i], t[j]
            b.addBond(
                int(i),
                int(j),
                [float(s), float(tables[0][ti, tj]), float(tables[1][ti, tj]) * _NM,
                 float(tables[2][ti, tj]), float(tables[3][ti, tj])],
            )  # fmt: skip
        b.setUsesPeriodicBoundaryConditions(periodic)
        oms.addForce(b)


def _platform(name: str, threads: int):
    platform = openmm.Platform.getPlatformByName(name)
    props = {"Threads": str(threads)} if name == "CPU" else {}
    if name in ("CUDA", "OpenCL"):
        props = {"Precision": "mixed"}
    return platform, props


def context(
    system: System, params, positions, box, *, platform="Reference", threads=2, integrator=None
):
    """An ``openmm.Context`` at the given positions and box (angstrom; box None: gas)."""
    oms = openmm_system(system, params, periodic=box is not None)
    if box is not None:
        b = np.broadcast_to(np.asarray(box, dtype=float), (3,)) * _NM
        oms.setDefaultPeriodicBoxVectors(
            openmm.Vec3(b[0], 0, 0), openmm.Vec3(0, b[1], 0), openmm.Vec3(0, 0, b[2])
        )
    integ = integrator or openmm.VerletIntegrator(0.001)
    plat, props = _platform(platform, threads)
    ctx = openmm.Context(oms, integ, plat, props)
    ctx.setPositions(np.asarray(positions, dtype=float) * _NM)
    return ctx


def potential_energy(system: System, params, positions, box, *, platform="Reference") -> float:
    """OpenMM's potential energy of one configuration, kJ/mol (Reference platform: float64)."""
    ctx = context(system, params, positions, box, platform=platform)
    state = ctx.getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


def _whole(system: System, R, box):
    """Molecules made whole (sites by minimum image from the molecule's first site)."""
    if box is None:
        return R
    a = system.arrays
    first = R[a["molecule_first"][a["site_molecule"]]]
    d = R - first
    return first + d - box * np.round(d / box)


def run(system: SimulatedSystem, state: State, settings: RunSettings) -> Trajectory:
    """NPT liquid or gas-phase molecule with OpenMM (see :mod:`bayesff.simulate.engines`)."""
    t0 = time.perf_counter()
    s = system.system
    gas = settings.ensemble == "gas"
    T = settings.T_K * unit.kelvin
    integ = openmm.LangevinMiddleIntegrator(
        T, settings.friction_per_ps / unit.picosecond, settings.dt_fs * unit.femtosecond
    )
    integ.setRandomNumberSeed(settings.seed + 1)
    integ.setConstraintTolerance(settings.constraint_tolerance)
    oms = openmm_system(s, system.params, periodic=not gas)
    if not gas:
        oms.addForce(
            openmm.MonteCarloBarostat(settings.p_MPa * 10.0 * unit.bar, T, settings.barostat_every)
        )
        oms.getForce(oms.getNumForces() - 1).setRandomNumberSeed(settings.seed + 2)
        b = state.box * _NM
        oms.setDefaultPeriodicBoxVectors(
            openmm.Vec3(b[0], 0, 0), openmm.Vec3(0, b[1], 0), openmm.Vec3(0, 0, b[2])
        )
    plat, props = _platform(settings.platform, settings.threads)
    ctx = openmm.Context(oms, integ, plat, props)
    ctx.setPositions(state.positions * _NM)
    where = f"openmm, {settings.describe()}"
    try:
        ctx.applyConstraints(settings.constraint_tolerance)
        if settings.minimize:
            openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 2000)
        if state.velocities is not None:
            ctx.setVelocities(state.velocities * _NM)
        else:
            ctx.setVelocitiesToTemperature(T, settings.seed + 3)
        if settings.n_equil:
            integ.step(settings.n_equil)
        t_prod = time.perf_counter()
        frames = settings.n_steps // settings.sample_every
        pos, boxes, energies = [], [], []
        for f in range(frames):
            integ.step(settings.sample_every)
            st = ctx.getState(getPositions=True, getEnergy=True)
            e = st.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
            R = np.asarray(st.getPositions(asNumpy=True).value_in_unit(unit.nanometer)) / _NM
            if not (math.isfinite(e) and np.all(np.isfinite(R))):
                raise EngineError(
                    f"{where}: non-finite potential energy or positions at frame {f} "
                    f"(step {(f + 1) * settings.sample_every}): the run blew up; lower dt_fs or "
                    "equilibrate from a less strained start"
                )
            if gas:
                bx = np.full(3, np.nan)
            else:
                v = st.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer)
                bx = np.diag(np.asarray(v)) / _NM
                R = _whole(s, R, bx)
            pos.append(R)
            boxes.append(bx)
            energies.append(e)
    except openmm.OpenMMException as err:
        raise EngineError(f"{where}: OpenMM failed: {str(err).strip()}") from err
    t_end = time.perf_counter()
    boxes = np.asarray(boxes)
    dt_ps = settings.dt_fs * 1e-3
    ns = frames * settings.sample_every * dt_ps * 1e-3
    return Trajectory(
        system=s,
        params=dict(system.params),
        settings=settings,
        engine="openmm",
        positions=np.asarray(pos),
        box=boxes,
        potential_energy=np.asarray(energies),
        volume=np.prod(boxes, axis=1),
        time_ps=(np.arange(frames) + 1) * settings.sample_every * dt_ps,
        wall_s=t_end - t0,
        ns_per_day=ns / ((t_end - t_prod) / 86400.0),
        info={"openmm_version": openmm.__version__, "platform": settings.platform},
    )
