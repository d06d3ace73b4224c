"""From a batch's draws to one problem's run (a DataTree through :mod:`bayesff.runfile`)."""

from __future__ import annotations

import jax
import numpy as np

from bayesff import runfile
from bayesff.inference.predictive import CHUNK, get_postprocessor
from bayesff.inference.sampling import _Progress

__all__ = ["assemble", "forward_at"]


def forward_at(problem, target, values: dict) -> np.ndarray:
    """The bare forward model of ``target`` at every row, for parameters in the problem's units.

    Nuisance parameters take their fixed value or their prior's median.
    """

    params = {n: np.asarray(problem.to_internal(n, float(v))) for n, v in values.items()}
    nuis = {
        n.name: (n.value if n.prior is None else n.prior.median()) * n.factor
        for n in target.nuisance.values()
    }
    predict = target.forward(problem).build()
    env = {c: np.asarray(v) for c, v in target.env.items()}
    return np.asarray(jax.jit(lambda p, e: predict(p, e, **nuis))(params, env))


def _rows(a: np.ndarray, c: int, n: int, rows: int) -> np.ndarray:
    """(C*N, padded rows, ...) -> (C, N, rows, ...)."""
    a = np.asarray(a)[:, :rows]
    return a.reshape(c, n, *a.shape[1:])


def _candidates(problem) -> dict | None:
    if not problem.candidates:
        return None
    out = {}
    for cand in problem.candidates:
        values = {
            n: cand["values"].get(n, p.value if p.fixed else np.nan)
            for n, p in problem.parameters.items()
        }
        out[cand["name"]] = {t.name: forward_at(problem, t, values) for t in problem.targets}
    return out


def _settings(batch, i: int) -> dict:
    s = batch.settings[i]
    return {
        "seed": int(s.seed),
        "chains": int(s.chains),
        "warmup": int(s.warmup),
        "samples": int(s.samples),
        "thin": int(s.thin),
        "sampler": s.sampler,
        "init": s.init,
        # devices the chains were split over: the same seed gives the same draws only
        # with the same split (BAYESFF_HOST_DEVICES), as vectorised maths differs in the
        # last bit between batch widths
        "chain_devices": int(getattr(batch.kernel, "shards", 1)),
        "target_accept": float(s.target_accept),
        "max_tree_depth": int(s.max_tree_depth),
        "dense_mass": int(s.dense_mass),
        "prior_draws": int(s.prior_draws),
        "parameters": list(batch.structure.free),
    }


def assemble(batch, i: int, draws: dict):
    """The DataTree of problem ``i`` of a batch (see :func:`bayesff.runfile.build`)."""

    problem = batch.problems[i]
    z = {k: v[i] for k, v in draws.items()}
    c, n = next(iter(z.values())).shape[:2]
    flat = {k: v.reshape(c * n, *v.shape[2:]) for k, v in z.items()}
    n_prior = batch.settings[i].prior_draws
    total = c * n + n_prior
    report = None
    if total > CHUNK:
        # held-out liquid predictions can take minutes: say how far post-processing is

        bar = _Progress(
            total, 0, batch.progress, batch.log, "post-processing", unit="draws", quiet_for=5.0
        )

        def report(done, _total):
            bar.update(done, "post-processing")

    r = get_postprocessor(batch.structure).run(
        flat,
        batch.k_post[i],
        batch.k_prior[i],
        batch.train[i],
        batch.holdout[i],
        n_prior,
        progress=report,
    )
    if report is not None:
        bar.close()

    def chains(a):
        return a.reshape(c, n, *a.shape[1:])

    out = {
        "posterior": {k: chains(v) for k, v in r["posterior"].items()},
        "prior": {k: r["prior"][k][None] for k in batch.structure.latent_names},
        "log_prior": {k: chains(v) for k, v in r["log_prior"].items()},
        "stats": {k: v[i] for k, v in batch.stats.items()},
        "pp": {},
        "ll": {},
        "prior_pp": {},
        "pred": {},
        "candidates": _candidates(problem),
        "chains": c,
        "draws": n,
        "prior_draws": n_prior,
    }
    pr = {"draws": r["prior"]}
    for t in problem.targets:
        n_tr, n_ho = int(t.train.sum()), int(t.holdout_mask().sum())
        for name in (t.name, f"{t.name}_model"):
            if n_tr:
                out["pp"][name] = _rows(r["pp"][name], c, n, n_tr)
                out["prior_pp"][name] = _rows(pr["draws"][name], 1, n_prior, n_tr)
            if n_ho:
                out["pred"][name] = _rows(r["pred"][name], c, n, n_ho)
        if n_tr and t.error_model.correlated:
            # one observation per curve; remove the constant of padded rows (unit normals
            # with zero residual: -log(2 pi)/2 each)
            n_pad = batch.train[i]["targets"][t.name]["mask"].shape[0] - n_tr
            ll = np.asarray(r["ll"][t.name]) + 0.5 * np.log(2 * np.pi) * n_pad
            out["ll"][t.name] = ll.reshape(c, n, 1)
        elif n_tr:
            out["ll"][t.name] = _rows(r["ll"][t.name], c, n, n_tr)
    attrs = _settings(batch, i)
    return runfile.build(problem, batch.structure, out, attrs)
