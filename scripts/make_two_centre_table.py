"""Regenerate bayesff/observables/tables/two_centre_b2.npz and its provenance JSON.

The reduced second virial coefficient B2* = B2 / (N_A sigma^3) of the 2CLJ and 2CLJQ
potentials on the Chebyshev grids of ``bayesff.observables.two_centre_table.TABLES``, by
the orientational quadrature (``two_centre_table.tabulate``). Run on one core:

    OPENBLAS_NUM_THREADS=1 taskset -c 1 python scripts/make_two_centre_table.py

(about half an hour on one core of the 2-core CPU; ``--cache DIR`` keeps each potential's
grid, so that a change to one table's spec recomputes only that table).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="the .npz (default: the package's)")
    parser.add_argument("--cache", type=Path, default=None, help="folder of per-table results")
    parser.add_argument(
        "--check",
        type=int,
        default=0,
        metavar="N_L",
        help="measure the stored table against the direct quadrature at N_L random L* "
        "values x 25 random (T*, Q*^2) each, and record the figures in the JSON",
    )
    parser.add_argument(
        "--only", default=None, help="compute this table into --cache and write nothing else"
    )
    args = parser.parse_args(argv)
    if args.only and not args.cache:
        parser.error("--only needs --cache")

    import jax

    jax.config.update("jax_enable_x64", True)
    import bayesff
    from bayesff.observables import two_centre_table as tc

    out = args.out or tc.TABLE_PATH
    if args.check:
        return check(out, args.check)
    arrays, meta = {}, {}
    for name, spec in tc.TABLES.items():
        if args.only and name != args.only:
            continue
        spec_dict = dataclasses.asdict(spec)
        key = hashlib.sha256(json.dumps(spec_dict, sort_keys=True).encode()).hexdigest()[:16]
        cached = args.cache / f"{name}-{key}.npz" if args.cache else None
        t0 = time.perf_counter()
        if cached is not None and cached.exists():
            with np.load(cached, allow_pickle=False) as d:
                table = {k: d[k] for k in d.files}
            seconds = json.loads(cached.with_suffix(".json").read_text())["seconds"]
        else:

            def progress(done, total, name=name, t0=t0):
                el = time.perf_counter() - t0
                print(f"{name}: L* node {done}/{total}, {el:.0f} s", file=sys.stderr, flush=True)

            table = tc.tabulate(spec, progress=progress)
            seconds = time.perf_counter() - t0
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cached, **table)
                cached.with_suffix(".json").write_text(json.dumps({"seconds": seconds}))
        if not np.all(np.isfinite(table["b2_star"])):
            raise SystemExit(f"{name}: non-finite B2* in the table")
        arrays |= {f"{name}/{k}": v for k, v in table.items()}
        meta[name] = {
            **spec_dict,
            "grid_shape": list(table["b2_star"].shape),
            "b2_star_range": [float(table["b2_star"].min()), float(table["b2_star"].max())],
            "seconds": round(seconds, 1),
        }
    if args.only:
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    provenance = {
        "file": out.name,
        "sha256": sha,
        "description": (
            "reduced second virial coefficient B2* = B2 / (N_A sigma^3) of the 2CLJ and "
            "2CLJQ potentials at the Chebyshev-Lobatto nodes of (ln T*, L*[, w]), "
            "w = Q*^2 / Q*^2_max(T*, L*), Q*^2_max = ((g T*)^-4 + c^-4)^(-1/4), g and c "
            "from g_max and q_cap at L* = 0 and L*_max joined by (L*/L*_max)^4; "
            "arrays NAME/t_star, NAME/l_star, [NAME/w, NAME/q_star2], NAME/b2_star"
        ),
        "tables": meta,
        "bayesff_version": bayesff.__version__,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
    }
    out.with_suffix(".json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, sha256 {sha})")
    return 0


def _region_max(err, mask_list):
    return {label: float(err[m].max()) if m.any() else None for label, m in mask_list}


#: Finer quadrature settings against which the tables' own settings are checked.
FINER = {"two_centre_lj": (24, 80, 80), "two_centre_lj_quadrupole": (24, 64, 64)}


def convergence(name, spec) -> dict:
    """Error of the table's quadrature settings against FINER at a few points per table:
    L* at 1/4, 1/2, 3/4 and all of its range, T* in {0.4, 0.7, 2, 20, 200}, and for
    2CLJQ Q*^2 = Q*^2_max(T*) / 2 and Q*^2_max(T*); |a - b| / max(|b|, 1)."""
    import jax.numpy as jnp

    from bayesff.observables import two_centre_table as tc

    t = np.array([0.4, 0.7, 2.0, 20.0, 200.0])
    ws = (0.5, 1.0) if spec.has_quadrupole else (0.0,)
    tt = np.concatenate([t for _ in ws])
    lo = tc._reduced_quadrature(name, tuple(spec.quadrature))
    hi = tc._reduced_quadrature(name, FINER[name])
    out = {}
    for frac in (0.25, 0.5, 0.75, 1.0):
        lv = frac * spec.l_star[1]
        qq = np.concatenate([spec.q_max(t, lv) * w if spec.has_quadrupole else 0 * t for w in ws])
        a = np.asarray(lo(lv, jnp.asarray(tt), jnp.asarray(qq)))
        b = np.asarray(hi(lv, jnp.asarray(tt), jnp.asarray(qq)))
        out[f"L*={lv:g}"] = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))
    return {"finer": list(FINER[name]), "rel_diff_max_by_L*": out}


def check(path: Path, n_l: int, per_l: int = 25, seed: int = 0) -> int:
    """Interpolation error of the stored table at random points against direct quadrature.

    Values: n_l random L* x per_l random (ln T*, w), uniform over the table's box, against
    the quadrature at the table's own settings (so this is the interpolation error);
    error |table - quadrature| / max(|quadrature|, 1). Gradients: at n_l // 4 of the L*
    values and 5 (T*, w) each, d B2* / d(T*, L*, Q*^2) of the table against the
    quadrature's explicit JVP (through epsilon = 1 kJ/mol, sigma = 1 angstrom, L = L*,
    Q = (Q*^2 / COULOMB)^(1/2)), error relative to max(|gradient|, 1) per component.
    """
    import jax
    import jax.numpy as jnp

    from bayesff.observables import orientational
    from bayesff.observables import two_centre_table as tc
    from bayesff.potentials import get_potential
    from bayesff.units import AVOGADRO, COULOMB_KJ_PER_MOL_ANGSTROM, GAS_CONSTANT_KJ_PER_MOL_K

    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    rng = np.random.default_rng(seed)
    a3 = AVOGADRO * 1e-24
    for name, spec in tc.TABLES.items():
        t0 = time.perf_counter()
        run = tc._reduced_quadrature(name, tuple(spec.quadrature))
        s0, s1 = np.log(spec.t_star)
        rows = []
        for lv in rng.uniform(*spec.l_star, n_l):
            t = np.exp(rng.uniform(s0, s1, per_l))
            q = spec.q_max(t, lv) * rng.uniform(0, 1, per_l) if spec.has_quadrupole else 0 * t
            ref = np.asarray(run(float(lv), jnp.asarray(t), jnp.asarray(q)))
            got = np.asarray(tc.reduced_second_virial(name, t, lv, q))
            rows.append(np.stack([t, np.full_like(t, lv), q, ref, got], axis=1))
            print(f"{name}: values at L* = {lv:.3f} done", file=sys.stderr, flush=True)
        a = np.concatenate(rows)
        err = np.abs(a[:, 4] - a[:, 3]) / np.maximum(np.abs(a[:, 3]), 1.0)
        lmax = spec.l_star[1]
        regions = [
            ("all", np.ones_like(err, bool)),
            (f"L* <= {lmax / 2:g}", a[:, 1] <= lmax / 2),
            (f"L* > {lmax / 2:g}", a[:, 1] > lmax / 2),
            ("T* < 0.7", a[:, 0] < 0.7),
            ("T* >= 0.7", a[:, 0] >= 0.7),
            (f"T* >= 0.7, L* <= {lmax / 2:g}", (a[:, 0] >= 0.7) & (a[:, 1] <= lmax / 2)),
        ]
        worst = a[np.argmax(err)]
        # gradients
        pot = get_potential(name)
        n_c, n_p, n_f = spec.quadrature

        def quad_b2(x, t, pot=pot, n_c=n_c, n_p=n_p, n_f=n_f, quad=spec.has_quadrupole):
            params = {"epsilon": 1.0, "sigma": 1.0, "L": x[0]}
            if quad:
                params["Q"] = jnp.sqrt(x[1] / COULOMB_KJ_PER_MOL_ANGSTROM)
            b2 = orientational.second_virial_linear(
                pot,
                params,
                t / GAS_CONSTANT_KJ_PER_MOL_K,
                nodes_per_panel=n_c,
                n_cos=n_p,
                n_phi=n_f,
                method="quadrature",
            )
            return b2 / a3

        # d B2*/d(T*, L*, Q*^2) of the quadrature (its explicit JVP), jitted once per table
        grad_quad = jax.jit(
            jax.grad(lambda x, t: quad_b2(x, jnp.reshape(t, (1,)))[0], argnums=(0, 1))
        )
        grad_tab = jax.jit(
            jax.grad(
                lambda t, lv, q, name=name: tc.reduced_second_virial(name, t, lv, q),
                argnums=(0, 1, 2),
            )
        )
        gerr = []
        for lv in rng.uniform(*spec.l_star, max(1, n_l // 4)):
            t = np.exp(rng.uniform(s0, s1, 5))
            q = spec.q_max(t, lv) * rng.uniform(0.05, 0.95, 5) if spec.has_quadrupole else 0 * t
            for ti, qi in zip(t, q, strict=True):
                gx, g_t = grad_quad(jnp.array([lv, max(qi, 1e-12)]), jnp.asarray(ti))
                gq = np.array([float(g_t), float(gx[0]), float(gx[1])])
                gt = np.array([float(v) for v in grad_tab(ti, lv, qi)])
                if not spec.has_quadrupole:
                    gq[2] = gt[2] = 0.0
                gerr.append(np.abs(gt - gq) / np.maximum(np.abs(gq), 1.0))
            print(f"{name}: gradients at L* = {lv:.3f} done", file=sys.stderr, flush=True)
        gerr = np.max(np.array(gerr), axis=0)
        meta["tables"][name]["accuracy"] = {
            "points": int(err.size),
            "value_rel_err_max": _region_max(err, regions),
            "worst_point": {"t_star": worst[0], "l_star": worst[1], "q_star2": worst[2]},
            "gradient_points": 5 * max(1, n_l // 4),
            "gradient_rel_err_max": {"d/dT*": gerr[0], "d/dL*": gerr[1], "d/dQ*^2": gerr[2]},
            "reference": f"direct quadrature at {list(spec.quadrature)}",
            "quadrature_convergence": convergence(name, spec),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(name, json.dumps(meta["tables"][name]["accuracy"], indent=1), flush=True)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
