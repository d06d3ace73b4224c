"""From one problem's draws to its run (a DataTree through :mod:`bayesff.runfile`)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from bayesff import runfile, sites
from bayesff.inference.predictive import CHUNK, get_postprocessor
from bayesff.inference.sampling import Progress
from bayesff.model import ModelData, Structure, pointwise_log_likelihood
from bayesff.settings import InferenceSettings

__all__ = ["Drawn", "assemble", "forward_at", "run_attributes"]


def forward_at(problem, target, values: dict) -> np.ndarray:
    """The bare forward model of ``target`` at every row, for parameters in the problem's units.

    Nuisance parameters take their fixed value or their prior's median; the target's own
    fixed values (``Target.fixed``) replace the problem's.
    """

    params = {n: np.asarray(problem.to_internal(n, float(v))) for n, v in values.items()}
    params.update(
        {n: np.asarray(problem.to_internal(n, float(v))) for n, v in target.fixed.items()}
    )
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


class Drawn(NamedTuple):
    """One problem's share of a batch: what :func:`assemble` turns into its run.

    Attributes
    ----------
    z
        Site -> (C, N, ...) unconstrained kept draws.
    stats
        Sample statistics -> (C, N).
    train, holdout
        The problem's model data (:func:`bayesff.model.arrays`, padded to the batch).
    key_post, key_prior
        Raw JAX keys of the posterior predictive and of the prior draws.
    """

    z: dict
    stats: dict
    train: ModelData
    holdout: ModelData
    key_post: np.ndarray
    key_prior: np.ndarray


def run_attributes(s: InferenceSettings, structure: Structure, chain_devices: int) -> dict:
    """The sampler settings a run records (root attributes of its run file)."""
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
        "chain_devices": int(chain_devices),
        "target_accept": float(s.target_accept),
        "max_tree_depth": int(s.max_tree_depth),
        "dense_mass": int(s.dense_mass),
        "adapt_mass": int(s.adapt_mass),
        "prior_draws": int(s.prior_draws),
        "parameters": list(structure.free),
        **(
            {"temperatures": int(s.temperatures), "max_temperature": float(s.max_temperature)}
            if s.sampler == "tempered"
            else {}
        ),
    }


def _postprocess(structure: Structure, drawn: Drawn, n_prior: int, progress: bool, log):
    """Predictive quantities of the draws, with a progress line when they take a while."""
    c, n = next(iter(drawn.z.values())).shape[:2]
    flat = {k: v.reshape(c * n, *v.shape[2:]) for k, v in drawn.z.items()}
    report = bar = None
    if c * n + n_prior > CHUNK:
        # held-out liquid predictions can take minutes: say how far post-processing is
        bar = Progress(
            c * n + n_prior, 0, progress, log, "post-processing", unit="draws", quiet_for=5.0
        )

        def report(done, _total):
            bar.update(done, "post-processing")

    r = get_postprocessor(structure).run(
        flat, drawn.key_post, drawn.key_prior, drawn.train, drawn.holdout, n_prior,
        progress=report,
    )  # fmt: skip
    if bar is not None:
        bar.close()
    return r


def assemble(
    problem,
    structure: Structure,
    settings: InferenceSettings,
    drawn: Drawn,
    *,
    chain_devices: int = 1,
    progress: bool = False,
    log=print,
):
    """The DataTree of one problem's draws (see :func:`bayesff.runfile.build`)."""
    c, n = next(iter(drawn.z.values())).shape[:2]
    n_prior = settings.prior_draws
    r = _postprocess(structure, drawn, n_prior, progress, log)

    def chains(a):
        return a.reshape(c, n, *a.shape[1:])

    pp, ll, prior_pp, pred, pred_ll = {}, {}, {}, {}, {}
    train_ll = pointwise_log_likelihood(structure, r.ll, drawn.train)
    holdout_ll = pointwise_log_likelihood(structure, r.pred_ll, drawn.holdout)
    for t in problem.targets:
        n_tr, n_ho = int(t.train.sum()), int(t.holdout_mask().sum())
        for name in (t.name, sites.mean(t.name)):
            if n_tr:
                pp[name] = _rows(r.pp[name], c, n, n_tr)
                prior_pp[name] = _rows(r.prior[name], 1, n_prior, n_tr)
            if n_ho:
                pred[name] = _rows(r.pred[name], c, n, n_ho)
        # one observation per row, or per curve (1) for a correlated target
        for n_rows, src, into in ((n_tr, train_ll, ll), (n_ho, holdout_ll, pred_ll)):
            if n_rows and t.name in src:
                k = 1 if t.error_model.correlated else n_rows
                into[t.name] = _rows(np.reshape(src[t.name], (c * n, -1)), c, n, k)
    content = runfile.RunContent(
        posterior={k: chains(v) for k, v in r.posterior.items()},
        prior={k: r.prior[k][None] for k in structure.latent_names},
        log_prior={k: chains(v) for k, v in r.log_prior.items()},
        stats=dict(drawn.stats),
        pp=pp,
        ll=ll,
        prior_pp=prior_pp,
        pred=pred,
        pred_ll=pred_ll,
        candidates=_candidates(problem),
        chains=c,
        draws=n,
        prior_draws=n_prior,
    )
    attrs = run_attributes(settings, structure, chain_devices)
    return runfile.build(problem, structure, content, attrs)
