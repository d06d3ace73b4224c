"""What the compressed-liquid solve costs: compile time and call time of the value and
gradient of ``liquid_density`` for a SAFT-VR Mie chain (4 segments, lambda_r 14) at 27
states (T* 0.70-1.00, p* 0.05-2), vmapped, with its critical point.

Run from the repository root (prints one JSON line; the compilation cache is off, so
the compile time is a cold one)::

    BAYESFF_CACHE_DIR=off python benchmarks/liquid_density_cost.py LABEL

Written to size the vapour search that marks a liquid below the vapour pressure
(``BELOW_VAPOUR_PRESSURE``, 2026-11-28): run it on this checkout and on one whose
``bayesff/observables/eos/coexistence.py`` and ``thermo.py`` are those of commit b9dba46.
"""

from __future__ import annotations

import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from bayesff.observables.eos import coexistence  # noqa: E402 (after float64 is on)
from bayesff.observables.eos.saft_vr_mie import SAFT_VR_MIE  # noqa: E402
from bayesff.observables.eos.thermo import critical_point  # noqa: E402

SHAPE = {"segments": 4.0, "lambda_r": 14.0, "lambda_a": 6.0}
T_STAR = jnp.repeat(jnp.linspace(0.7, 1.0, 9), 3)
P_STAR = jnp.tile(jnp.array([0.05, 0.5, 2.0]), 9)


def total_density(shape):
    crit = critical_point(SAFT_VR_MIE, **jax.lax.stop_gradient(shape))

    def one(t, p):
        return coexistence.liquid_density(SAFT_VR_MIE, t, p, critical=crit, **shape).rho

    return jax.vmap(one)(T_STAR, P_STAR).sum()


def main(label: str) -> dict:
    start = time.perf_counter()
    compiled = jax.jit(jax.value_and_grad(total_density)).lower(SHAPE).compile()
    compile_s = time.perf_counter() - start
    jax.block_until_ready(compiled(SHAPE))
    times = []
    for _ in range(30):
        t = time.perf_counter()
        jax.block_until_ready(compiled(SHAPE))
        times.append(time.perf_counter() - t)
    return {
        "label": label,
        "compile_s": round(compile_s, 2),
        "call_ms_min": round(1e3 * min(times), 3),
        "call_ms_median": round(1e3 * float(np.median(times)), 3),
        "sum_rho_star": float(compiled(SHAPE)[0]),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "this checkout")))
