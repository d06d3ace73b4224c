"""Cost of the vapour-liquid equilibrium forward models, and the LJ EOS error floors.

Speed (default): value and gradient (with respect to epsilon and sigma) of a Gaussian
log-likelihood of the 4 VLE properties (saturated liquid and vapour density, vapour
pressure, enthalpy of vaporisation) at 25 temperatures (T* 0.70-1.20 for the median draw),
for 4 parameter draws (argon-like LJ, epsilon/k_B = 120 K, sigma = 3.405 angstrom, +-3 %
around it, fixed seed), jit-compiled, timed after warm-up as the median of repeats:

- ``shared``: one coexistence solve per temperature feeding all four properties
  (``bayesff.observables.vle.vle_predictions``, with the LJ EOS's critical point computed
  once, as the observables do);
- ``observables``: the four registered observables' ``predict`` functions, as a problem
  with four targets calls them (four solves);
- ``B2``: the second virial coefficient (``bayesff.observables.virial.second_virial``) at
  the same 25 temperatures and 4 draws.

Floors (``--floors``): the Thol et al. (2016) LJ EOS's error table of
``bayesff.observables.vle.LJ_THOL2016_FLOOR``, from teqp 0.23.2:

- per T/Tc region (edges 0.8, 0.9, 0.95; Tc* = 1.32), the largest relative difference of
  rho_l, rho_v, p_sat and dH_vap between the Thol and Kolafa-Nezbeda (1994) EOS, and of
  the Thol EOS from correlations of simulation data: the vapour pressure of Lotfi, Vrabec
  and Fischer, Mol. Phys. 76, 1319 (1992) (ln p* = 1.2629 T* - 4.8095/T* - 0.15115/T*^4)
  and the saturated densities of Stephan, Thol, Vrabec and Hasse, J. Chem. Inf. Model. 59,
  4248 (2019) (coefficients as transcribed in a public code repository, not checked
  against the paper);
- per single-phase region, the largest |dp*|, |du*| between the two EOS and the relative
  density difference of the compressed liquid at equal (T, p) (T* 0.7-6, rho* 0.005-1,
  p* <= 65, two-phase states excluded; the density difference at rho* >= 0.5 only, away
  from the critical point where dp/drho vanishes).

The simulation-data correlations are compared over 0.7 <= T* <= 1.3 only.

Usage (from the repository root)::

    python benchmarks/vle_bench.py               # 50 repeats
    python benchmarks/vle_bench.py --floors      # needs teqp
    python benchmarks/vle_bench.py --draws 4,64,1024 --chain 1024 --out FILE  # as on the GPU
    python benchmarks/vle_bench.py --alkanes     # 12 n-alkanes x 20 T x 4 chains (issue 30)
    python benchmarks/vle_bench.py --alkanes --host-devices 2  # also the chains on 2 devices

Writes ``benchmarks/results/vle_bench.json`` (or ``vle_floors.json``). Timings on a shared
machine are noisy: the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from bayesff.observables import get_observable  # noqa: E402
from bayesff.observables.virial import second_virial  # noqa: E402
from bayesff.observables.vle import (  # noqa: E402
    constant_critical_point,
    fluid_eos_of,
    vle_predictions,
)
from bayesff.potentials.chain import MIE_CHAIN  # noqa: E402
from bayesff.potentials.pair import LENNARD_JONES  # noqa: E402
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
EPSILON_K, SIGMA_A = 120.0, 3.405
CHAIN_EPSILON_K, CHAIN_SIGMA_A, CHAIN_TC_K = 250.0, 4.0, 420.0
N_T, N_DRAWS = 25, 4
PROPS = ("rho_l", "rho_v", "p_sat", "dH_vap")
OBSERVABLES = (
    "saturated_liquid_density",
    "saturated_vapour_density",
    "vapour_pressure",
    "enthalpy_of_vaporisation",
)


def _draws(n_draws: int = N_DRAWS, seed: int = 0):
    rng = np.random.default_rng(seed)
    eps = EPSILON_K * GAS_CONSTANT_KJ_PER_MOL_K * (1 + 0.03 * rng.uniform(-1, 1, n_draws))
    sig = SIGMA_A * (1 + 0.03 * rng.uniform(-1, 1, n_draws))
    return {"epsilon": jnp.asarray(eps), "sigma": jnp.asarray(sig)}


def _chain_draws(n_draws: int, seed: int = 0):
    """n-butane-like Mie chains (2 segments, epsilon/k 250 K, sigma 4.0 A, n 12-14, m 6)."""
    rng = np.random.default_rng(seed)
    u = lambda: rng.uniform(-1, 1, n_draws)  # noqa: E731
    return {
        "epsilon": jnp.asarray(CHAIN_EPSILON_K * GAS_CONSTANT_KJ_PER_MOL_K * (1 + 0.03 * u())),
        "sigma": jnp.asarray(CHAIN_SIGMA_A * (1 + 0.03 * u())),
        "n": jnp.asarray(13.0 + u()),
        "m": jnp.full(n_draws, 6.0),
        "segments": jnp.full(n_draws, 2.0),
    }


def _times(fn, args, repeats: int) -> dict:
    """Median and minimum wall time in ms after a warm-up call (already compiled)."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(times), "min_ms": 1e3 * min(times)}


def _compile_and_time(fn, draws, repeats: int, grad_key: str) -> dict:
    """Compile ``fn`` (jit of a vmapped value and gradient) for ``draws`` and time it: the
    :func:`_times` figures, the compile time, and whether every draw's value and gradient in
    ``grad_key`` are finite (``finite_draws``: how many draws are)."""
    t0 = time.perf_counter()
    compiled = fn.lower(draws).compile()
    t_compile = time.perf_counter() - t0
    value, grad = compiled(draws)
    g = grad[grad_key].reshape(value.shape[0], -1)
    ok = int(jnp.sum(jnp.isfinite(value) & jnp.all(jnp.isfinite(g), axis=1)))
    return {
        **_times(compiled, (draws,), repeats),
        "compile_s": t_compile,
        "finite": ok == value.shape[0],
        "finite_draws": ok,
    }


def speed(repeats: int, n_draws: int = N_DRAWS) -> dict:
    fluid = fluid_eos_of(LENNARD_JONES)
    T = jnp.linspace(0.70, 1.20, N_T) * EPSILON_K  # K
    draws = _draws(n_draws)
    centre = {"epsilon": jnp.asarray(EPSILON_K * GAS_CONSTANT_KJ_PER_MOL_K), "sigma": SIGMA_A}
    ref = vle_predictions(fluid, centre, T)
    obs = {k: getattr(ref, k) * 1.01 for k in PROPS}  # synthetic data 1 % off
    unc = {k: 0.01 * jnp.abs(getattr(ref, k)) for k in PROPS}
    b2_obs = second_virial(LENNARD_JONES, centre, T) * 1.01
    b2_unc = 0.01 * jnp.abs(b2_obs) + 1.0

    crit = constant_critical_point(fluid.eos)  # LJ: no shape parameters, one critical point

    def loglik_shared(p):
        pred = vle_predictions(fluid, p, T, critical=crit)
        return sum(-0.5 * jnp.sum(((getattr(pred, k) - obs[k]) / unc[k]) ** 2) for k in PROPS)

    predicts = [get_observable(n).build(LENNARD_JONES) for n in OBSERVABLES]

    def loglik_obs(p):
        total = 0.0
        for k, f in zip(PROPS, predicts, strict=True):
            total += -0.5 * jnp.sum(((f(p, {"T_K": T}) - obs[k]) / unc[k]) ** 2)
        return total

    def loglik_b2(p):
        return -0.5 * jnp.sum(((second_virial(LENNARD_JONES, p, T) - b2_obs) / b2_unc) ** 2)

    out = {}
    for name, f in (("shared", loglik_shared), ("observables", loglik_obs), ("B2", loglik_b2)):
        fn = jax.jit(jax.vmap(jax.value_and_grad(f)))
        out[name] = _compile_and_time(fn, draws, repeats, "epsilon")
    # value-only cost of the shared solve
    fv = jax.jit(jax.vmap(loglik_shared)).lower(draws).compile()
    out["shared_value_only"] = _times(fv, (draws,), repeats)
    return out


def chain_speed(repeats: int, n_draws: int) -> dict:
    """The SAFT-VR Mie chain (``mie_chain``): value and gradient of the 4 VLE properties.

    The repulsive exponent varies between draws, so each draw solves its own critical
    point, as a calibration with n free does.
    """
    fluid = fluid_eos_of(MIE_CHAIN)
    draws = _chain_draws(n_draws)
    T = jnp.linspace(0.55, 0.90, N_T) * CHAIN_TC_K  # K, below the chain's critical point
    centre = {k: v[0] for k, v in _chain_draws(1, seed=1).items()}
    ref = vle_predictions(fluid, centre, T)
    obs = {k: getattr(ref, k) * 1.01 for k in PROPS}
    unc = {k: 0.01 * jnp.abs(getattr(ref, k)) for k in PROPS}

    def loglik(p):
        pred = vle_predictions(fluid, p, T)
        return sum(-0.5 * jnp.sum(((getattr(pred, k) - obs[k]) / unc[k]) ** 2) for k in PROPS)

    fn = jax.jit(jax.vmap(jax.value_and_grad(loglik)))
    return {"chain_shared": _compile_and_time(fn, draws, repeats, "epsilon")}


#: The n-alkanes C1-C12 for :func:`alkane_speed`: (carbon number, epsilon/k_B in K, sigma in
#: angstrom, n, critical temperature in K). epsilon, sigma and n are model (a)'s posterior
#: means (reports/alkane_chains/summary.json, 2026-11-26), those of C9 and C11 the means of
#: their neighbours; Tc of the reference equations (data/alkanes/), C9 594.55 K and C11
#: 638.8 K from NIST's webbook (no data file: only the benchmark uses them).
ALKANES = (
    (1, 159.4, 3.745, 13.74, 190.56),
    (2, 231.9, 3.846, 14.47, 305.32),
    (3, 243.9, 3.926, 13.30, 369.89),
    (4, 251.1, 3.967, 12.57, 425.13),
    (5, 257.3, 3.996, 12.28, 469.70),
    (6, 263.2, 4.016, 12.20, 507.82),
    (7, 268.1, 4.029, 12.18, 541.23),
    (8, 272.2, 4.046, 12.19, 568.74),
    (9, 275.2, 4.053, 12.20, 594.55),
    (10, 278.2, 4.060, 12.20, 617.70),
    (11, 280.9, 4.066, 12.24, 638.80),
    (12, 283.6, 4.071, 12.28, 658.10),
)


def alkane_speed(repeats: int, chains: int = 4, n_t: int = 20) -> dict:
    """Issue 30's target: value and gradient of the VLE log-likelihood of the 12 n-alkanes
    (segments 1 + (C - 1)/3, per-molecule epsilon, sigma, n: :data:`ALKANES`, +-1 % per
    chain) at 20 temperatures each (0.5-0.9 Tc), saturated liquid density, vapour pressure
    and enthalpy of vaporisation from one coexistence solve per state, for ``chains``
    parameter sets at once (jit(vmap) over chains and molecules), gradient in every
    molecule's epsilon, sigma and n."""
    fluid = fluid_eos_of(MIE_CHAIN)
    a = np.array(ALKANES)
    rng = np.random.default_rng(0)

    def jitter(x):
        return jnp.asarray(x * (1 + 0.01 * rng.uniform(-1, 1, (chains, len(x)))))

    draws = {
        "epsilon": jitter(a[:, 1] * GAS_CONSTANT_KJ_PER_MOL_K),
        "sigma": jitter(a[:, 2]),
        "n": jitter(a[:, 3]),
    }
    seg = jnp.asarray(1.0 + (a[:, 0] - 1.0) / 3.0)
    T = jnp.asarray(np.linspace(0.5, 0.9, n_t)[None, :] * a[:, 4:5])  # (12, n_t) K

    def predict(eps, sig, n, s, t):
        p = {"epsilon": eps, "sigma": sig, "n": n, "m": 6.0, "segments": s}
        v = vle_predictions(fluid, p, t)
        return jnp.stack([v.rho_l, v.p_sat, v.dH_vap])

    centre = jax.jit(jax.vmap(predict))(*(jnp.asarray(v.mean(0)) for v in draws.values()), seg, T)
    obs, unc = centre * 1.01, 0.01 * jnp.abs(centre)

    def loglik(p):
        pred = jax.vmap(predict)(p["epsilon"], p["sigma"], p["n"], seg, T)
        return -0.5 * jnp.sum(((pred - obs) / unc) ** 2)

    out = {}
    batched = jax.vmap(jax.value_and_grad(loglik))
    devices = jax.devices()
    variants = {"alkanes": (jax.jit(batched), 1)}
    if len(devices) > 1 and chains % len(devices) == 0:
        # the chains split over the CPU's devices, as bayesff's sampler splits them
        # (bayesff.configure(host_devices=...)): each device runs its share
        mesh = jax.sharding.Mesh(np.array(devices), ("chain",))
        spec = jax.sharding.PartitionSpec("chain")
        # check_vma=False as in bayesff.inference.kernels: the solvers' while loops carry
        # unsharded counters that the varying-axes checker refuses
        sharded = jax.shard_map(batched, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)
        variants[f"alkanes_{len(devices)}_devices"] = (jax.jit(sharded), len(devices))
    for name, (fn, n_devices) in variants.items():
        out[name] = {
            **_compile_and_time(fn, draws, repeats, "n"),
            "molecules": len(ALKANES),
            "temperatures": n_t,
            "chains": chains,
            "devices": n_devices,
        }
    out["alkanes"]["newton_steps"] = _alkane_newton_steps(seg, T, draws)
    return out


def _alkane_newton_steps(seg, T, draws) -> dict:
    """Newton steps of the coexistence solves of :func:`alkane_speed`'s first parameter
    set: in a vmapped batch the slowest member sets every member's cost, so the maximum
    is the number that matters."""
    from bayesff.observables.eos.coexistence import solve_coexistence
    from bayesff.observables.eos.saft_vr_mie import SAFT_VR_MIE
    from bayesff.observables.eos.thermo import critical_point

    def steps(s, lr, t_star):
        shape = {"segments": s, "lambda_r": lr, "lambda_a": 6.0}
        crit = critical_point(SAFT_VR_MIE, **shape)
        return jax.vmap(lambda t: solve_coexistence(SAFT_VR_MIE, t, critical=crit, **shape))(
            t_star
        ).iterations

    t_star = T * GAS_CONSTANT_KJ_PER_MOL_K / draws["epsilon"][0][:, None]
    it = np.asarray(jax.jit(jax.vmap(steps))(seg, draws["n"][0], t_star))
    return {"median": float(np.median(it)), "max": int(it.max()), "states": int(it.size)}


def floors() -> dict:
    import teqp  # the [data]/test extra; only this mode needs it

    z = np.array([1.0])
    th = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    kn = teqp.make_model({"kind": "LJ126_KolafaNezbeda1994", "model": {}})
    t_c = 1.32
    edges = (0.8, 0.9, 0.95)

    def vle(m, t, guess):
        rl, rv = m.pure_VLE_T(t, guess[0], guess[1], 100)
        p = rv * t * (1 + m.get_Ar01(t, rv, z))
        h = t * m.get_Ar10(t, rv, z) - t * m.get_Ar10(t, rl, z) + p * (1 / rv - 1 / rl)
        return np.array([rl, rv, p, h])

    def lotfi_p(t):
        return math.exp(1.2629 * t - 4.8095 / t - 0.15115 / t**4)

    st_tc, st_rc = 1.321, 0.316
    n_l = np.array([1.341700, 2.075332, -2.123475, 0.328998, 1.386131])
    t_l = np.array([0.327140, 0.958759, 1.645654, 17.000001, 2.400858])
    n_v = np.array([-8.135822, -102.919110, -3.037979, -44.381841, -34.55892948])
    t_v = np.array([1.651685, 43.469214, 0.462877, 11.500462, 5.394370])

    def stephan(t):
        th_ = 1 - t / st_tc
        return st_rc * (1 + np.sum(n_l * th_**t_l)), st_rc * np.exp(np.sum(n_v * th_**t_v))

    vle_max = np.zeros((len(edges) + 1, 4))
    g1 = g2 = (0.86, 0.0012)
    sat = {}
    for t in np.arange(0.661, 0.99 * t_c, 0.002):
        a = vle(th, t, g1)
        b = vle(kn, t, g2)
        g1, g2 = a[:2], b[:2]
        sat[round(float(t), 6)] = a[:2]
        d = np.abs(b / a - 1)
        d_sim = np.zeros(4)
        if 0.7 <= t <= 1.3:  # the range of the simulation data the correlations were fitted to
            sim_l, sim_v = stephan(t)
            d_sim[:3] = [abs(a[0] / sim_l - 1), abs(a[1] / sim_v - 1), abs(a[2] / lotfi_p(t) - 1)]
        i = int(np.searchsorted(edges, t / t_c, side="right"))
        vle_max[i] = np.maximum(vle_max[i], np.maximum(d, d_sim))
    single = {"vapour": np.zeros(3), "liquid": np.zeros(3), "supercritical": np.zeros(3)}
    ts = np.array(sorted(sat))
    grid_t = np.concatenate([np.arange(0.7, t_c, 0.02), np.arange(t_c, 6.0001, 0.1)])
    for t in grid_t:
        for r in np.arange(0.005, 1.0001, 0.005):
            if t < t_c:
                rl, rv = sat[ts[np.argmin(np.abs(ts - t))]]
                if rv < r < rl:
                    continue
                region = "liquid" if r >= 0.31 else "vapour"
            else:
                region = "supercritical"
            p1 = r * t * (1 + th.get_Ar01(t, r, z))
            if p1 > 65:
                continue
            p2 = r * t * (1 + kn.get_Ar01(t, r, z))
            du = abs(t * th.get_Ar10(t, r, z) - t * kn.get_Ar10(t, r, z))
            drho = 0.0
            if r >= 0.5:  # compressed liquid / dense fluid: density change at equal (T, p)
                dpdrho = t * (1 + 2 * th.get_Ar01(t, r, z) + th.get_Ar02(t, r, z))
                drho = abs(p1 - p2) / (r * dpdrho)
            single[region] = np.maximum(single[region], [abs(p1 - p2), du, drho])

    def up(x):  # round up to two significant figures
        if x == 0:
            return 0.0
        e = math.floor(math.log10(abs(x))) - 1
        return math.ceil(x / 10**e) * 10**e

    return {
        "T_r_edges": list(edges),
        "vle_rel": {k: [up(v) for v in vle_max[:, j]] for j, k in enumerate(PROPS)},
        "vle_rel_raw": {k: vle_max[:, j].tolist() for j, k in enumerate(PROPS)},
        "single_phase": {k: [up(x) for x in v] for k, v in single.items()},
        "single_phase_raw": {k: v.tolist() for k, v in single.items()},
        "teqp": teqp.__version__,
    }


def saft_floors() -> dict:
    """SAFT-VR Mie's error floor: its LJ fluid (one segment, lambda_r 12, lambda_a 6)
    against the Thol et al. (2016) LJ EOS, a fit to simulation data, at equal reduced
    state. Per T/Tc region (Tc: SAFT-VR Mie's own), the largest relative difference of each
    coexistence property at equal T* over T* = 0.661 ... 0.99 Tc, plus the Thol EOS's own
    floor of that region (its distance from simulation data); single phase as
    :func:`floors` (|dp*|, |du*| and the relative density difference at equal (T*, p*) of
    the dense fluid), plus Thol's. A lower bound for chains: the chain term's error
    (Lafitte et al. 2013, against simulations of Mie chains) is not in it."""
    import teqp

    from bayesff.observables.vle import LJ_THOL2016_FLOOR

    z = np.array([1.0])
    avogadro, sigma_m, eps_k = 6.02214076e23, 3.5e-10, 150.0
    to_molar = 1.0 / (avogadro * sigma_m**3)  # rho* -> mol/m^3
    th = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    coeffs = {
        "name": "LJ",
        "m": 1.0,
        "sigma_m": sigma_m,
        "epsilon_over_k": eps_k,
        "lambda_r": 12.0,
        "lambda_a": 6.0,
        "BibTeXKey": "Lafitte-JCP-2013",
    }
    sv = teqp.make_model({"kind": "SAFT-VR-Mie", "model": {"coeffs": [coeffs]}})

    def ar(m, kind, t, r):  # reduced (t*, rho*) -> teqp's own units
        if m is th:
            return getattr(m, kind)(t, r, z)
        return getattr(m, kind)(t * eps_k, r * to_molar, z)

    def vle(m, t, guess):
        if m is th:
            rl, rv = m.pure_VLE_T(t, guess[0], guess[1], 100)
        else:
            rl, rv = m.pure_VLE_T(t * eps_k, guess[0] * to_molar, guess[1] * to_molar, 100)
            rl, rv = rl / to_molar, rv / to_molar
        p = rv * t * (1 + ar(m, "get_Ar01", t, rv))
        h = t * ar(m, "get_Ar10", t, rv) - t * ar(m, "get_Ar10", t, rl) + p * (1 / rv - 1 / rl)
        return np.array([rl, rv, p, h])

    t_c_sv = sv.solve_pure_critical(1.3 * eps_k, 0.3 * to_molar)[0] / eps_k
    edges = LJ_THOL2016_FLOOR.T_r_edges
    vle_max = np.zeros((len(edges) + 1, 4))
    g1 = g2 = (0.86, 0.0012)
    sat = {}
    for t in np.arange(0.661, 0.99 * min(t_c_sv, 1.32), 0.002):
        a = vle(th, t, g1)
        b = vle(sv, t, g2)
        g1, g2 = a[:2], b[:2]
        sat[round(float(t), 6)] = a[:2]
        i = int(np.searchsorted(edges, t / t_c_sv, side="right"))
        vle_max[i] = np.maximum(vle_max[i], np.abs(b / a - 1))
    thol_vle = np.array([LJ_THOL2016_FLOOR.vle_rel[k] for k in PROPS]).T
    vle_max = vle_max + thol_vle
    single = {"vapour": np.zeros(3), "liquid": np.zeros(3), "supercritical": np.zeros(3)}
    ts = np.array(sorted(sat))
    grid_t = np.concatenate([np.arange(0.7, 1.32, 0.02), np.arange(1.32, 6.0001, 0.1)])
    for t in grid_t:
        for r in np.arange(0.005, 1.0001, 0.005):
            if t < 1.32:
                rl, rv = sat[ts[np.argmin(np.abs(ts - t))]]
                if rv < r < rl:
                    continue
                region = "liquid" if r >= 0.31 else "vapour"
            else:
                region = "supercritical"
            p1 = r * t * (1 + ar(th, "get_Ar01", t, r))
            if p1 > 65:
                continue
            p2 = r * t * (1 + ar(sv, "get_Ar01", t, r))
            du = abs(t * ar(th, "get_Ar10", t, r) - t * ar(sv, "get_Ar10", t, r))
            drho = 0.0
            if r >= 0.5:
                dpdrho = t * (1 + 2 * ar(th, "get_Ar01", t, r) + ar(th, "get_Ar02", t, r))
                drho = abs(p1 - p2) / (r * dpdrho)
            single[region] = np.maximum(single[region], [abs(p1 - p2), du, drho])
    for k in single:
        single[k] = single[k] + np.asarray(LJ_THOL2016_FLOOR.single_phase[k])

    return {
        "T_c_star_saft_vr_mie_lj": float(t_c_sv),
        "T_r_edges": list(edges),
        "vle_rel": {k: [_up(v) for v in vle_max[:, j]] for j, k in enumerate(PROPS)},
        "vle_rel_raw": {k: vle_max[:, j].tolist() for j, k in enumerate(PROPS)},
        "single_phase": {k: [_up(x) for x in v] for k, v in single.items()},
        "single_phase_raw": {k: v.tolist() for k, v in single.items()},
        "teqp": teqp.__version__,
    }


#: Q*^2 bands of the two-centre floors: the 2CLJQ EOS is good up to Q*^2 = 1 and fails
#: beyond (Stoll et al. 2001, section 4; tests/observables/eos/test_two_centre.py).
#: The band 0.0 (Q*^2 = 0 only) is the 2CLJ fluid's.
TWO_CENTRE_Q2_BANDS = {
    0.0: (0.0,),
    1.0: (0.0, 0.25, 0.5, 0.75, 1.0),
    4.0: (1.5, 2.0, 2.5, 3.0, 3.5, 4.0),
}
_TC_PROPS = ("rho_l", "rho_v", "p_sat")
TWO_CENTRE_L_STARS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.505, 0.6, 0.7, 0.8)


def two_centre_floors() -> dict:
    """The 2CLJ/2CLJQ EOS's error floors (Lisal et al. 2004 + Saager and Fischer 1992).

    Coexistence, per Q*^2 band (:data:`TWO_CENTRE_Q2_BANDS`) and T/Tc region (Tc: the
    EOS's own critical point at each shape): the largest relative difference of rho_l,
    rho_v and p_sat between the EOS and the Stoll et al. (2001) correlations of their
    simulations, over L* 0-0.8 (:data:`TWO_CENTRE_L_STARS`) and 0.50-0.99 Tc (from the
    EOS's lowest T/Tc, ``validity.T_over_Tc_min``; below 0.55 the correlations are
    extrapolated, so region 0.50-0.55 has a floor of its own), plus the
    correlations' measured error against those simulations (``CORRELATION_FLOOR``: 0.5 %,
    18 %, 5.3 %). The vapour-density correlation is poor below 0.6 of its Tc (up to 100 %
    off at 0.55, the paper says) and still loose at 0.6-0.7, so rho_v is compared from
    0.7 of the correlation's Tc only, and its floor is at least the vapour pressure's of
    the same region (a near-ideal vapour: rho_v = p / (k T Z), Z ~ 1).
    The enthalpy of vaporisation (no correlation) and the single-phase floors come from
    the LJ limit (L* = Q*^2 = 0: T*, p*, u* are four times the one-site LJ's) against the
    Thol et al. (2016) LJ EOS, plus Thol's own floor: lower bounds for elongated and
    quadrupolar molecules, as SAFT-VR Mie's are for chains. bayesff's own EOS and solvers
    (equal to teqp's 2CLJF models to 1e-8, tests/observables/eos/test_two_centre.py).
    """
    from bayesff.observables.eos import two_centre_correlations as corr
    from bayesff.observables.eos.coexistence import enthalpy_of_vaporisation, solve_coexistence
    from bayesff.observables.eos.lj import LJ_THOL2016
    from bayesff.observables.eos.thermo import critical_point, dp_drho, pressure, residual_energy
    from bayesff.observables.eos.two_centre import TWO_CENTRE_LJ_QUADRUPOLE as E
    from bayesff.observables.vle import (
        CORRELATION_FLOOR,
        LJ_THOL2016_FLOOR,
        TWO_CENTRE_T_R_EDGES,
    )

    edges = TWO_CENTRE_T_R_EDGES
    t_r = np.arange(E.validity.T_over_Tc_min, 0.99001, 0.005)

    @jax.jit
    def trace(L, q2):
        crit = critical_point(E, L_star=L, Q2_star=q2)
        t = jnp.asarray(t_r) * crit.T_star

        def one(ti):
            c = solve_coexistence(E, ti, critical=crit, L_star=L, Q2_star=q2)
            return c, enthalpy_of_vaporisation(E, ti, c, L_star=L, Q2_star=q2)

        coex, dh = jax.vmap(one)(t)
        tc_corr = corr.critical_temperature(L, q2)
        ref = (
            corr.saturated_liquid_density(t, L, q2),
            corr.saturated_vapour_density(t, L, q2),
            corr.vapour_pressure(t, L, q2),
        )
        return crit.T_star, t, coex, dh, ref, tc_corr

    region = np.searchsorted(np.asarray(edges), t_r, side="right")
    vle = {}
    for top, q2s in TWO_CENTRE_Q2_BANDS.items():
        worst = np.zeros((len(edges) + 1, 3))
        for L in TWO_CENTRE_L_STARS:
            for q2 in q2s:
                _, t, coex, _, ref, tc_corr = jax.tree.map(np.asarray, trace(L, q2))
                ok = coex.status == 0
                mine = (coex.rho_l, coex.rho_v, coex.p)
                for j, (a, b) in enumerate(zip(mine, ref, strict=True)):
                    use = ok & np.isfinite(b) & (t >= (0.7 * tc_corr if j == 1 else 0.0))
                    d = np.where(use, np.abs(a / np.where(use, b, 1.0) - 1.0), 0.0)
                    np.maximum.at(worst[:, j], region, d)
        own = np.array([CORRELATION_FLOOR[k] for k in ("rho_l", "rho_v", "p_sat")])
        worst = worst + own
        # below 0.55 Tc the correlations are extrapolated (and rho_v is not compared): the
        # distance there is a lower bound, so the floor is at least the region above's
        worst[0] = np.maximum(worst[0], worst[1])
        worst[:, 1] = np.maximum(worst[:, 1], worst[:, 2])
        vle[str(top)] = worst

    # the LJ limit: E at (T*, rho*) against 4 x Thol at (T*/4, rho*)
    tc0, t0, coex0, dh0, _, _ = jax.tree.map(np.asarray, trace(0.0, 0.0))
    th_coex = jax.vmap(lambda ti: solve_coexistence(LJ_THOL2016, ti))(jnp.asarray(t0 / 4))
    th_dh = 4 * np.asarray(
        jax.vmap(lambda ti, c: enthalpy_of_vaporisation(LJ_THOL2016, ti, c))(
            jnp.asarray(t0 / 4), th_coex
        )
    )
    ok = (coex0.status == 0) & (np.asarray(th_coex.status) == 0)
    d = np.where(ok, np.abs(dh0 / np.where(ok, th_dh, 1.0) - 1.0), 0.0)
    dh_worst = np.zeros(len(edges) + 1)
    np.maximum.at(dh_worst, region, d)
    # Thol's own floor of the LJ region each two-centre region starts in
    dh_floor = dh_worst + LJ_THOL2016_FLOOR.vle("dH_vap", np.array([t_r[0], *edges]))
    # 0.50-0.55 Tc: T*/4 is at the low end of Thol's range, mostly below it; as above
    dh_floor[0] = max(dh_floor[0], dh_floor[1])

    def props(eos, t, r, **shape):
        return (
            pressure(eos, t, r, **shape),
            residual_energy(eos, t, r, **shape),
            dp_drho(eos, t, r, **shape),
        )

    def e0(t, r):
        return props(E, t, r, L_star=0.0, Q2_star=0.0)

    t_lo, t_hi = E.validity.T_star
    # from 4 x 0.7 (T* 0.7 of the one-site LJ: the Thol floors' lowest) to the EOS's top
    t_lo = max(t_lo, 4 * 0.7)
    grid_t = np.concatenate([np.arange(t_lo, tc0, 0.04), np.arange(tc0, t_hi, 0.2)])
    grid_r = np.arange(0.005, E.validity.rho_star_max, 0.005)
    T, R = (a.ravel() for a in np.meshgrid(grid_t, grid_r, indexing="ij"))
    pe, ue, dpe = (np.asarray(x) for x in jax.jit(jax.vmap(e0))(jnp.asarray(T), jnp.asarray(R)))
    pt, ut, _ = (
        np.asarray(x)
        for x in jax.jit(jax.vmap(lambda t, r: props(LJ_THOL2016, t, r)))(
            jnp.asarray(T / 4), jnp.asarray(R)
        )
    )
    pt, ut = 4 * pt, 4 * ut
    # two-phase states (below Tc, between the coexisting densities) are left out
    rl = np.interp(T, t0, coex0.rho_l, right=np.nan)
    rv = np.interp(T, t0, coex0.rho_v, right=np.nan)
    two_phase = (T < tc0) & ~((R <= rv) | (R >= rl))
    rho_c0 = float(np.asarray(critical_point(E, L_star=0.0, Q2_star=0.0).rho_star))
    name = np.where(T >= tc0, "supercritical", np.where(R >= rho_c0, "liquid", "vapour"))
    keep = ~two_phase & np.isfinite(pe) & np.isfinite(pt) & (pe < 65 * 4)
    single = {}
    for g in ("vapour", "liquid", "supercritical"):
        m = keep & (name == g)
        dense = m & (R >= 0.5)
        drho = np.abs(pe - pt)[dense] / (R * dpe)[dense] if dense.any() else np.zeros(1)
        thol = np.asarray(LJ_THOL2016_FLOOR.single_phase[g]) * np.array([4.0, 4.0, 1.0])
        single[g] = [
            float(np.abs(pe - pt)[m].max()) + thol[0],
            float(np.abs(ue - ut)[m].max()) + thol[1],
            float(np.max(drho)) + thol[2],
        ]
    return {
        "T_r_edges": list(edges),
        "Q2_bands": {str(k): list(v) for k, v in TWO_CENTRE_Q2_BANDS.items()},
        "L_stars": list(TWO_CENTRE_L_STARS),
        "vle_rel": {
            band: {
                **{
                    k: [_up(x) for x in v[:, j]] for j, k in enumerate(("rho_l", "rho_v", "p_sat"))
                },
                "dH_vap": [_up(x) for x in dh_floor],
            }
            for band, v in vle.items()
        },
        "vle_rel_raw": {band: v.tolist() for band, v in vle.items()},
        "dH_vap_raw": dh_floor.tolist(),
        "single_phase": {k: [_up(x) for x in v] for k, v in single.items()},
        "single_phase_raw": single,
        "critical_LJ_limit": [float(tc0), rho_c0],
    }


def _up(x: float) -> float:
    """Round up to two significant figures."""
    if x == 0:
        return 0.0
    e = math.floor(math.log10(abs(x))) - 1
    return math.ceil(x / 10**e) * 10**e


def _report(n: int, timings: dict) -> None:
    for k, v in timings.items():
        extra = f", compile {v['compile_s']:.1f} s" if "compile_s" in v else ""
        print(
            f"{n:5d} draws  {k:18s} median {v['median_ms']:8.3f} ms, "
            f"min {v['min_ms']:8.3f} ms{extra}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--floors", action="store_true", help="the LJ EOS error floors (teqp)")
    ap.add_argument(
        "--saft-floors", action="store_true", help="the SAFT-VR Mie error floors (teqp)"
    )
    ap.add_argument(
        "--two-centre-floors", action="store_true", help="the 2CLJ/2CLJQ EOS error floors"
    )
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument(
        "--draws",
        default=str(N_DRAWS),
        help="comma-separated numbers of parameter draws to time (default 4; e.g. 4,64,1024)",
    )
    ap.add_argument(
        "--chain",
        type=int,
        default=0,
        metavar="N",
        help="also time the SAFT-VR Mie chain (mie_chain) at N draws (its program compiles "
        "for ~100 s on a CPU, so one size only)",
    )
    ap.add_argument(
        "--alkanes",
        action="store_true",
        help="only issue 30's case: 12 n-alkane chains x 20 temperatures x 4 chains "
        "(writes results/vle_bench_alkanes.json)",
    )
    ap.add_argument(
        "--host-devices",
        type=int,
        default=1,
        metavar="N",
        help="split the CPU into N JAX devices (as bayesff.configure does for sampling); "
        "--alkanes then also times its chains split over them",
    )
    ap.add_argument("--out", type=Path, default=None, help="JSON file (default results/)")
    args = ap.parse_args()
    if args.host_devices > 1:
        jax.config.update("jax_num_cpu_devices", args.host_devices)
    RESULTS.mkdir(exist_ok=True)
    machine = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "jax": jax.__version__,
        "device": str(jax.devices()[0].device_kind),
        "backend": jax.default_backend(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.alkanes:
        res = {"machine": machine, "speed": alkane_speed(args.repeats)}
        _report(4, res["speed"])
        res["machine"]["load_average_after"] = os.getloadavg()
        out = args.out or RESULTS / "vle_bench_alkanes.json"
        out.write_text(json.dumps(res, indent=2))
        return
    if args.saft_floors:
        res = {"machine": machine, "floors": saft_floors()}
        (RESULTS / "saft_vr_mie_floors.json").write_text(json.dumps(res, indent=2))
        print(json.dumps(res["floors"], indent=2))
        return
    if args.two_centre_floors:
        res = {"machine": machine, "floors": two_centre_floors()}
        (RESULTS / "two_centre_floors.json").write_text(json.dumps(res, indent=2))
        print(json.dumps(res["floors"]["vle_rel"], indent=2))
        print(json.dumps(res["floors"]["single_phase"], indent=2))
        return
    if args.floors:
        res = {"machine": machine, "floors": floors()}
        (RESULTS / "vle_floors.json").write_text(json.dumps(res, indent=2))
        print(json.dumps(res["floors"], indent=2))
        return
    counts = [int(c) for c in args.draws.split(",")]
    res = {"machine": machine, "counts": {"temperatures": N_T, "draws": counts}}
    res["speed"] = {}
    for n in counts:
        res["speed"][str(n)] = speed(args.repeats, n)
        _report(n, res["speed"][str(n)])
    if args.chain:
        res["chain"] = {str(args.chain): chain_speed(args.repeats, args.chain)}
        _report(args.chain, res["chain"][str(args.chain)])
    res["machine"]["load_average_after"] = os.getloadavg()
    out = args.out or RESULTS / "vle_bench.json"
    out.write_text(json.dumps(res, indent=2))
    print(f"load average before {machine['load_average']}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
