"""Cost of the TraPPE-UA study's log density (issue 31): what every NUTS step pays.

Run from the repository root after ``bayesff prepare models/alkanes/trappe_ua.toml``
(writes ``benchmarks/results/alkane_model.json``)::

    PYTHONPATH=$PWD python benchmarks/alkane_model.py [--calls 50] [--chains 2]

``model``: value and gradient of the whole log density of ``models/alkanes/trappe_ua.toml``
(12 training rows of 3 molecules, every prepared run pooled by MBAR), vectorised over
``--chains`` points near TraPPE-UA's parameters as NUTS runs them.

``per molecule``: value and gradient of one molecule's reweighted density and Delta
H_vap at its prepared states, Delta H_vap both as the model computes it (for a molecule
whose gas energy does not depend on the parameters, propane and n-butane, the gas
averages per state are stored once) and with every gas sample reweighted again (the
code before that change: the baseline of the ratio, measured in the same run). Calls of
the variants are interleaved; the minimum over calls is quoted (the call least disturbed
by other processes), the median kept too. (A density traced with the gas samples costs
the same as without: XLA prunes the unused gas work from the compiled program.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ROOT / "models" / "alkanes" / "trappe_ua.toml"
PREPARED = ROOT / "prepared" / "alkanes_trappe_ua"
OUT = ROOT / "benchmarks" / "results" / "alkane_model.json"


def _timed(fns: dict, calls: int) -> dict:
    import jax

    times = {k: [] for k in fns}
    for _ in range(calls):
        for k, (f, args) in fns.items():
            t = time.perf_counter()
            jax.block_until_ready(f(*args))
            times[k].append(time.perf_counter() - t)
    return {k: {"min_ms": 1e3 * min(v), "median_ms": 1e3 * float(np.median(v))} for k, v in
            times.items()}  # fmt: skip


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--prepared", default=str(PREPARED), help="the prepared runs' folder")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)

    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import init_to_value, initialize_model, potential_energy

    import bayesff
    from bayesff.model import arrays, model_of, structure_of
    from bayesff.observables import molecular_targets as mt

    bayesff.configure()
    problem = bayesff.Problem.from_toml(PROBLEM, prepared=Path(args.prepared))
    s = structure_of(problem)
    data = arrays(problem)
    model = model_of(s)
    start = {"epsilon_CH3": 100.0, "sigma_CH3": 3.76, "epsilon_CH2": 47.0, "sigma_CH2": 3.97}
    init = init_to_value(values={k: v for k, v in start.items() if k in s.latent_names})
    info = initialize_model(jax.random.PRNGKey(0), model, model_args=(data,), init_strategy=init)
    rng = np.random.default_rng(0)
    z = jax.tree.map(
        lambda a: a + 1e-3 * rng.standard_normal((args.chains, *np.shape(a))),
        info.param_info.z,
    )

    def pe(zz, d):
        return potential_energy(model, (d,), {}, zz)

    fns = {"model": (jax.jit(jax.vmap(jax.value_and_grad(pe), in_axes=(0, None))), (z, data))}
    per_molecule = {}
    for t in problem.targets:
        if mt.quantity_of(t.observable) != "dhvap":
            continue
        pred = t.forward(problem).build()
        settings = pred.settings
        aux = {k: jnp.asarray(v) for k, v in t.aux.items()}
        full = {k: v for k, v in aux.items() if k not in mt.GAS_CONSTANT_KEYS}
        names = pred.names
        theta = jnp.asarray([float(t.aux["reference"][i]) * 1.01 for i in range(len(names))])
        n_gas = int(np.shape(t.aux["gas_log_mix"])[0])
        n_liq = int(np.shape(t.aux["liq_log_mix"])[0])
        per_molecule[settings.molecule] = {
            "liquid_frames": n_liq,
            "gas_samples": n_gas,
            "gas_parameter_free": all(k in t.aux for k in mt.GAS_CONSTANT_KEYS),
        }
        for label, q, gas, a in (("dhvap", 1, True, aux), ("density", 0, False, aux),
                                 ("dhvap_every_gas_sample", 1, True, full)):  # fmt: skip

            def f(th, a=a, q=q, gas=gas, st=settings, nm=names, pot=pred.potential):
                return jnp.sum(mt._at_states(pot, st, nm, th, a, gas=gas)[q])

            fns[f"{settings.molecule}:{label}"] = (jax.jit(jax.value_and_grad(f)), (theta,))
    for f, a in fns.values():  # compile
        jax.block_until_ready(f(*a))
    res = _timed(fns, args.calls)
    for mol, d in per_molecule.items():
        d |= {k.split(":")[1]: v for k, v in res.items() if k.startswith(f"{mol}:")}
        d["dhvap_speedup"] = d["dhvap_every_gas_sample"]["min_ms"] / d["dhvap"]["min_ms"]
    out = {
        "machine": {
            "host": platform.node(),
            "cpu_count": os.cpu_count(),
            "jax": jax.__version__,
            "device": str(jax.devices()[0]),
        },
        "chains": args.chains,
        "calls": args.calls,
        "prepared": args.prepared,
        "model_value_and_grad": res["model"],
        "per_molecule": per_molecule,
    }
    dest = Path(args.out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(dest)
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
