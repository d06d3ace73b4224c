"""What one phase-equilibrium solve per state saves (``TargetStructure.mean_of``).

Run from the repository root (writes ``benchmarks/results/shared_solves.json``)::

    python benchmarks/shared_solves.py [--calls 30]

For each problem below: value and gradient of the whole log density (NumPyro's potential
energy, one point, one CPU device) with the structure as bayesff builds it, where a
target whose rows, fixed values and group are another's reads that target's solve, and
with every ``mean_of`` cleared (each target solves its own rows: the code before that
change, the baseline measured in the same run). Calls of the two variants are
interleaved; the minimum and the median over calls are quoted. The two log densities
must agree (they are the same model); the script stops if they do not.

- ``models/alkane_chains/transferable_n12.toml``: eight n-alkanes, saturated liquid
  density and vapour pressure at the same temperatures (issue 30's model b12);
- the atlas task ``argon-mie-VLE`` (``models/atlas/atlas.toml``): one fluid's rho_l and
  p_sat trained, rho_v and Delta H_vap held out, all at the same temperatures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "shared_solves.json"


def _problems():
    import bayesff
    from bayesff.sweep import _problem, expand

    yield "alkane b12", bayesff.load_problem(ROOT / "models/alkane_chains/transferable_n12.toml")
    _, tasks = expand(ROOT / "models/atlas/atlas.toml")
    task = next(t for t in tasks if t.name == "argon-mie-VLE")
    yield "atlas argon-mie-VLE", _problem(task)


def _variants(problem):
    """(label -> jitted value and gradient), the start point and the training data."""
    import jax
    from numpyro.infer import init_to_median
    from numpyro.infer.util import initialize_model, potential_energy

    from bayesff.model import arrays, model_of, structure_of

    shared = structure_of(problem)
    own = dataclasses.replace(
        shared, targets=tuple(dataclasses.replace(t, mean_of="") for t in shared.targets)
    )
    data = arrays(problem)
    fns = {}
    for label, s in (("one solve per state", shared), ("one solve per target", own)):
        model = model_of(s)
        fns[label] = jax.jit(
            jax.value_and_grad(lambda z, d, m=model: potential_energy(m, (d,), {}, z))
        )
    # the prior medians: a draw from these wide priors may put every row beyond Tc
    z = initialize_model(
        jax.random.PRNGKey(1), model_of(shared), model_args=(data,), init_strategy=init_to_median
    ).param_info.z
    n_shared = sum(bool(t.mean_of) for t in shared.targets)
    return fns, z, data, n_shared


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=30)
    args = ap.parse_args(argv)
    import bayesff

    bayesff.configure(host_devices=1)
    import jax

    out = {"machine": platform.processor() or platform.machine(), "cores": os.cpu_count()}
    for name, problem in _problems():
        fns, z, data, n_shared = _variants(problem)
        values, times = {}, {k: [] for k in fns}
        for label, f in fns.items():
            t = time.perf_counter()
            values[label] = float(jax.block_until_ready(f(z, data))[0])
            times[label + " (compile and first call)"] = time.perf_counter() - t
        a, b = values.values()
        if not abs(a - b) <= 1e-9 * max(1.0, abs(a)):
            raise SystemExit(f"{name}: the variants' log densities differ: {values}")
        for _ in range(args.calls):
            for label, f in fns.items():
                t = time.perf_counter()
                jax.block_until_ready(f(z, data))
                times[label].append(time.perf_counter() - t)
        row = {"targets_reading_another_solve": n_shared, "potential_energy": a}
        for label in fns:
            row[label] = {
                "min_ms": 1e3 * min(times[label]),
                "median_ms": 1e3 * float(np.median(times[label])),
                "compile_s": times[label + " (compile and first call)"],
            }
        before, after = row["one solve per target"], row["one solve per state"]
        row["ratio_min"] = before["min_ms"] / after["min_ms"]
        out[name] = row
        print(name, json.dumps(row, indent=1), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
