"""Speed of the molecular MD engines: NPT liquid TraPPE-UA n-butane, ns/day.

Command (from the repository root)::

    python benchmarks/molecular_engines.py                  # 200 butanes, both engines
    python benchmarks/molecular_engines.py --engines openmm --steps 20000
    python benchmarks/molecular_engines.py --molecules 400 --out benchmarks/results

The system is issue 31's benchmark: N n-butane molecules (TraPPE-UA, fixed
1.54 angstrom bonds, LJ cut at 14 angstrom with tail corrections, Lorentz-Berthelot)
at 250 K and 0.1 MPa, Langevin (1/ps) with a Monte Carlo barostat every 25 steps,
2 fs steps. A lattice start at 500 kg/m^3 is first equilibrated with OpenMM
(``--equil`` steps) to the liquid density; each engine then starts from that
configuration, runs ``--warmup`` steps (jax-md: compilation happens there) and is
timed over ``--steps`` production steps (frames every 500 steps). Reported: ns/day
of production wall time, and the CPU seconds the process used per simulated ps
(user + system, all threads), with the load average (``os.getloadavg``) before and
after each engine: the machine is shared, so quote the figure with its load.

OpenMM runs on its CPU platform with ``--threads`` threads; jax-md on XLA's CPU
backend with its default thread pool (jax has no per-call thread setting).
Writes ``molecular_engines_<UTC time>.json`` into ``--out`` when given.

``--reweight`` also times the reweighting forward model: an OpenMM production run
of the equilibrated liquid (20000 steps, frames every 100, those after the
detected equilibration kept) and a gas-phase run of 64 independent butanes (40000
steps, frames every 200) are prepared
(:func:`bayesff.observables.molecular_reweight.prepare`), and the value and
gradient of the reweighted density and Delta H_vap are timed (mean of 200 calls
after compilation), with the ESS fraction at epsilon_CH2 + 1, 2, 5 %.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import time
from pathlib import Path

import jax
import numpy as np

import bayesff
from bayesff.observables import molecular_reweight as mr
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import TRAPPE_UA_ALKANE, trappe_topology
from bayesff.simulate import engines, timeseries
from bayesff.simulate.molecules import conformer, lattice_configuration


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--molecules", type=int, default=200)
    ap.add_argument("--engines", default="openmm,jax-md")
    ap.add_argument("--equil", type=int, default=20000, help="OpenMM steps to reach the liquid")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--reweight", action="store_true", help="also time the reweighting")
    args = ap.parse_args(argv)
    bayesff.configure()
    pub = TRAPPE_UA_ALKANE.published_parameters()
    params = {k: pub[k] for k in ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")}
    topo = trappe_topology([4], r_cut_angstrom=14.0, tail=True)
    system = ff.System(topo, (("n-butane", args.molecules),))
    model = engines.SimulatedSystem(system, params)
    R, box = lattice_configuration(system, 500.0, seed=0)
    common = dict(T_K=250.0, p_MPa=0.1, dt_fs=2.0, sample_every=500, threads=args.threads)
    start = engines.run(
        model,
        engines.State(R, box),
        engines.RunSettings(engine="openmm", n_steps=args.equil, **common),
    )
    state = engines.State(start.positions[-1], start.box[-1])
    out = {
        "system": f"{args.molecules} TraPPE-UA n-butane, r_c 14 A + tail, 250 K, 0.1 MPa, 2 fs",
        "start_density_kg_per_m3": float(start.density_kg_per_m3[-1]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "results": {},
    }
    for name in args.engines.split(","):
        load0 = os.getloadavg()
        cpu0 = _cpu_s()
        traj = engines.run(
            model,
            state,
            engines.RunSettings(
                engine=name, n_steps=args.steps, n_equil=args.warmup, minimize=False, **common
            ),
        )
        cpu = _cpu_s() - cpu0
        load1 = os.getloadavg()
        ps = args.steps * 2e-3
        out["results"][name] = {
            "ns_per_day": traj.ns_per_day,
            "wall_s_total": traj.wall_s,
            "cpu_s_per_ps_total": cpu / ps,
            "load_before": load0,
            "load_after": load1,
            "mean_density_kg_per_m3": float(traj.density_kg_per_m3.mean()),
        }
        print(
            f"{name:7s} {traj.ns_per_day:8.2f} ns/day  (wall {traj.wall_s:.0f} s incl. warm-up; "
            f"load {load0[0]:.1f} -> {load1[0]:.1f}; density "
            f"{traj.density_kg_per_m3.mean():.0f} kg/m^3)"
        )
    if args.reweight:
        out["reweighting"] = _reweighting(system, topo, params, start, common)
    if args.out:
        stamp = time.strftime("%Y-%m-%d_%H%M", time.gmtime())
        path = Path(args.out) / f"molecular_engines_{stamp}.json"
        path.write_text(json.dumps(out, indent=2))
        print(f"wrote {path}")
    return out


def _timed(fn, arg, repeats=200) -> float:
    jax.block_until_ready(fn(arg))
    t = time.perf_counter()
    for _ in range(repeats):
        r = fn(arg)
    jax.block_until_ready(r)
    return (time.perf_counter() - t) / repeats


def _reweighting(system, topo, params, start, common) -> dict:
    model = engines.SimulatedSystem(system, params)
    state = engines.State(start.positions[-1], start.box[-1])
    liquid = engines.run(
        model,
        state,
        engines.RunSettings(
            engine="openmm", n_steps=20000, minimize=False, **{**common, "sample_every": 100}
        ),
    )
    averages = timeseries.trajectory_averages(liquid)
    t0 = averages["density_kg_per_m3"].t0
    gas_system = ff.System(topo, (("n-butane", 64),))
    x0 = conformer(topo.molecules[0])
    R = np.concatenate([x0 + 15.0 * k for k in range(64)])
    gas = engines.run(
        engines.SimulatedSystem(gas_system, params),
        engines.State(R, None),
        engines.RunSettings(
            engine="openmm", ensemble="gas", T_K=common["T_K"], n_equil=5000, n_steps=40000,
            sample_every=200, threads=common["threads"],
        ),
    )  # fmt: skip
    T, p = common["T_K"], common["p_MPa"]
    runs = [
        mr.ReferenceRun("liquid", liquid.positions[t0:], liquid.box[t0:], T, p, params),
        mr.ReferenceRun("gas", gas.positions, None, T, 0.0, params),
    ]
    t = time.perf_counter()
    prep = mr.prepare(system, runs)
    t_prep = time.perf_counter() - t
    theta = {k: jax.numpy.asarray(v) for k, v in params.items()}
    density = jax.jit(jax.value_and_grad(lambda q: mr.predict(prep, q, T, p).density_kg_per_m3))
    dh = jax.jit(jax.value_and_grad(lambda q: mr.predict(prep, q, T, p).dHvap_kJ_per_mol))
    at = jax.jit(lambda q: mr.predict(prep, q, T, p))
    ref = at(theta)
    res = {
        "liquid_density_direct": list(averages["density_kg_per_m3"][:2]),
        "liquid_frames": int(liquid.n_frames - t0),
        "gas_samples": int(gas.n_frames * 64),
        "prepare_s": t_prep,
        "density_kg_per_m3": float(ref.density_kg_per_m3),
        "dHvap_kJ_per_mol": float(ref.dHvap_kJ_per_mol),
        "value_and_grad_density_ms": 1e3 * _timed(density, theta),
        "value_and_grad_dHvap_ms": 1e3 * _timed(dh, theta),
        "ess_fraction_eps_CH2": {
            d: float(
                at({**theta, "epsilon_CH2": theta["epsilon_CH2"] * (1 + d)}).ess_fraction_liquid
            )
            for d in (0.01, 0.02, 0.05)
        },
    }
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
