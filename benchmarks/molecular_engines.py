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

import bayesff
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import TRAPPE_UA_ALKANE, trappe_topology
from bayesff.simulate import engines
from bayesff.simulate.molecules import lattice_configuration


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
    if args.out:
        stamp = time.strftime("%Y-%m-%d_%H%M", time.gmtime())
        path = Path(args.out) / f"molecular_engines_{stamp}.json"
        path.write_text(json.dumps(out, indent=2))
        print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
