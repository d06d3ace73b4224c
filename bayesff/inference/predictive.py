"""Everything a run file holds besides the draws, computed by the model itself.

From posterior draws: replicated observations and model means at the
training rows (posterior predictive), the pointwise log-likelihood
(numpyro's ``log_likelihood``, the one place it is computed), the log prior
density of every latent site, and replicated observations and means at the
held-out rows (predictions). From the prior: draws and prior predictive.

The functions are compiled once per structure and chunk length and take the
data as arguments; draws are processed in chunks (the last padded) of
:func:`chunk_size` draws: a power of two up to :data:`CHUNK`, so that runs of
any length reuse a few compiled shapes and a short run (thinned, or a sweep's
small task) does not pay for 256 draws of expensive held-out predictions.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.handlers import substitute, trace
from numpyro.infer import Predictive
from numpyro.infer.util import constrain_fn, log_likelihood

from bayesff import sites
from bayesff.inference.exported import (
    persistent,
    precompile,
    register_pytrees,
    structure_key,
)
from bayesff.model import ModelData, Structure, TargetData, model_of
from bayesff.runtime import make_room, register_compiled_cache

__all__ = ["CHUNK", "PostProcessed", "PostProcessor", "chunk_size", "get_postprocessor"]

#: Largest number of draws per call of the compiled post-processing functions.
CHUNK = 256


def chunk_size(n_posterior: int, n_prior: int) -> int:
    """Draws per compiled call for ``n_posterior`` kept and ``n_prior`` prior draws.

    The smallest power of two (at least 8) that holds both, capped at :data:`CHUNK`.
    """
    n = max(int(n_posterior), int(n_prior), 1)
    return min(CHUNK, max(8, 1 << (n - 1).bit_length()))


class PostProcessed(NamedTuple):
    """What the post-processing of one problem's draws gives (NumPy arrays).

    Attributes
    ----------
    posterior
        Site -> (N, ...) constrained posterior draws (problem units).
    pp
        Training rows: ``<target>`` replicated observations and ``<target>_model``
        model means, (N, rows, ...).
    ll
        Target -> pointwise log-likelihood of the training rows, (N, rows), or
        (N,) for a correlated target (one observation per curve).
    pred
        Held-out rows, as ``pp``.
    pred_ll
        Target -> log-likelihood of the held-out observations, as ``ll``: the
        model's own, at the draws of ``pred`` (-inf where the forward model failed).
    log_prior
        Site -> (N, ...) log prior density of each posterior draw.
    prior, prior_log
        The same for ``n_prior`` prior draws (sites, replicated training rows and
        model means; log prior densities).
    """

    posterior: dict
    pp: dict
    ll: dict
    pred: dict
    pred_ll: dict
    log_prior: dict
    prior: dict
    prior_log: dict


class PostProcessor:
    """Compiled post-processing of one structure (see the module docstring)."""

    def __init__(self, structure: Structure):
        make_room(structure)  # a long process of many structures: forget the old programs
        self.structure = structure
        self.model = model_of(structure)
        register_pytrees(ModelData, TargetData)  # the data argument, for jax.export
        self._chunk = persistent(
            jax.jit(self._both_chunks), "postprocess", structure_key(structure)
        )

    def _log_prior(self, samples, data):

        names = self.structure.latent_names

        def one(s):
            tr = trace(substitute(self.model, data=s)).get_trace(data)
            return {n: tr[n]["fn"].log_prob(tr[n]["value"]) for n in names}

        return jax.vmap(one)(samples)

    def _both_chunks(self, z, key, key_prior, i, with_prior, data_train, data_holdout):
        """One compiled call: chunk ``i`` of posterior draws (unconstrained ``z``) and, if
        ``with_prior``, as many prior draws (zeros otherwise).

        A run keeps fewer prior draws than posterior ones (500 against 2000 by
        default); the chunks past the last prior draw skip the prior's forward
        model, which for a phase-equilibrium problem costs as much as the
        posterior's (``lax.cond`` on an unbatched flag runs one branch only).
        """

        key, key_prior = jax.random.fold_in(key, i), jax.random.fold_in(key_prior, i)
        n = next(iter(z.values())).shape[0]  # static: the chunk length
        samples = jax.vmap(lambda x: constrain_fn(self.model, (data_train,), {}, x))(z)

        def prior(k):
            return self._prior_chunk(k, data_train, n)

        def skipped(k):
            return jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), jax.eval_shape(prior, k))

        return (
            samples,
            self._posterior_chunk(samples, key, data_train, data_holdout),
            jax.lax.cond(with_prior, prior, skipped, key_prior),
        )

    def _posterior_chunk(self, samples, key, data_train, data_holdout):

        k1, k2 = jax.random.split(key)
        trained = [t.name for t in self.structure.trained()]
        names = [*trained, *(sites.mean(t) for t in trained)]
        pp = Predictive(self.model, posterior_samples=samples, return_sites=names, parallel=True)(
            k1, data_train.without_observations()
        )
        ll = log_likelihood(self.model, samples, data_train, parallel=True)
        ll = {t: ll[t] for t in trained}
        held = [t.name for t in self.structure.targets if data_holdout.targets[t.name].n]
        pred, pred_ll = {}, {}
        if held:
            new_env = list(self.structure.new_environment_sites())
            pred = Predictive(
                self.model,
                posterior_samples=samples,
                return_sites=[*held, *(sites.mean(t) for t in held), *new_env],
                parallel=True,
            )(k2, data_holdout.without_observations())
            pred_ll = self._heldout_log_likelihood(samples, pred, held, data_holdout)
            pred = {k: v for k, v in pred.items() if k not in new_env}
        return pp, ll, pred, pred_ll, self._log_prior(samples, data_train)

    def _heldout_log_likelihood(self, samples, pred, held, data_holdout):
        """The model's log-likelihood of the held-out observations at each draw.

        Evaluated by the model itself (numpyro's ``log_likelihood``) at the posterior
        draws and the draws of a new environment the predictions used; a draw whose
        forward model failed at a row (non-finite model mean) has density zero there
        (the model rejects it: its ``valid`` factor), so -inf, never a silent number.
        """
        new_env = {k: pred[k] for k in self.structure.new_environment_sites() if k in pred}
        ll = log_likelihood(self.model, {**samples, **new_env}, data_holdout, parallel=True)
        out = {}
        for t in held:
            mean = pred[sites.mean(t)]
            finite = jnp.isfinite(mean.reshape(mean.shape[0], mean.shape[1], -1)).all(axis=2)
            if ll[t].ndim == 1:  # a correlated target: one observation per curve
                finite = finite.all(axis=1)
            out[t] = jnp.where(finite, ll[t], -jnp.inf)
        return out

    def _prior_chunk(self, key, data_train, n: int):

        trained = [t.name for t in self.structure.trained()]
        names = [*self.structure.latent_names, *trained, *(sites.mean(t) for t in trained)]
        draws = Predictive(self.model, num_samples=n, return_sites=names, parallel=True)(
            key, data_train.without_observations()
        )
        latent = {k: draws[k] for k in self.structure.latent_names}
        return draws, self._log_prior(latent, data_train)

    def prepare(
        self,
        latent: dict,
        key,
        key_prior,
        data_train: dict,
        data_holdout: dict,
        n: int,
        n_prior: int,
    ) -> None:
        """Start compiling :meth:`run`'s program in the background (see
        :func:`bayesff.inference.exported.precompile`).

        ``latent``: site -> (shape, dtype) of one unconstrained draw; ``n``
        and ``n_prior`` as :meth:`run` will see them (they fix the chunk length).
        """
        size = chunk_size(n, n_prior)
        chunk = {k: np.zeros((size, *shape), dtype) for k, (shape, dtype) in latent.items()}
        precompile(self._chunk, chunk, key, key_prior, 0, True, data_train, data_holdout)

    def run(
        self,
        z: dict,
        key,
        key_prior,
        data_train: dict,
        data_holdout: dict,
        n_prior: int,
        progress=None,
    ):
        """Constrained draws, predictive quantities and prior draws for one problem.

        ``z``: site -> (N, ...) unconstrained posterior draws. Returns a
        :class:`PostProcessed`. ``progress(done, total)``,
        if given, is called after each chunk with the draws processed so far
        (posterior and prior counted together).
        """
        n = next(iter(z.values())).shape[0]
        size = chunk_size(n, n_prior)
        chunks = max(-(-n // size), -(-n_prior // size))
        post, prior = [], []
        for i in range(chunks):
            start = min(i * size, max(n - 1, 0))
            chunk = {k: _pad(v[start : start + size], size) for k, v in z.items()}
            samples, (pp, ll, pred, pred_ll, lp), (pdraws, plp) = self._chunk(
                chunk,
                key,
                key_prior,
                i,
                i * size < n_prior,
                data_train,
                data_holdout,
            )
            if i * size < n:
                take = min(size, n - i * size)
                post.append(
                    jax.tree.map(
                        lambda a, t=take: np.asarray(a)[:t], (samples, pp, ll, pred, pred_ll, lp)
                    )
                )
            if i * size < n_prior:
                take = min(size, n_prior - i * size)
                prior.append(jax.tree.map(lambda a, t=take: np.asarray(a)[:t], (pdraws, plp)))
            if progress is not None:
                done = min((i + 1) * size, n) + min((i + 1) * size, n_prior)
                progress(done, n + n_prior)
        cat = _concat
        return PostProcessed(
            posterior=cat([p[0] for p in post]),
            pp=cat([p[1] for p in post]),
            ll=cat([p[2] for p in post]),
            pred=cat([p[3] for p in post]),
            pred_ll=cat([p[4] for p in post]),
            log_prior=cat([p[5] for p in post]),
            prior=cat([p[0] for p in prior]),
            prior_log=cat([p[1] for p in prior]),
        )


def _concat(parts: list[dict]) -> dict:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _pad(a, n: int):
    """Rows of ``a`` padded to ``n`` with copies of the last (NumPy: no compilation per shape)."""
    a = np.asarray(a)
    if a.shape[0] == n:
        return a
    return np.concatenate([a, np.repeat(a[-1:], n - a.shape[0], axis=0)])


_POSTPROCESSORS: dict = {}


def get_postprocessor(structure: Structure) -> PostProcessor:
    """The post-processor of a structure, built once per process."""
    post = _POSTPROCESSORS.get(structure)
    if post is None:
        post = _POSTPROCESSORS[structure] = PostProcessor(structure)
    return post


def clear_postprocessors(keep: Structure | None = None) -> None:
    """Forget every post-processor (and its compiled functions), or all but ``keep``'s."""
    for s in [s for s in _POSTPROCESSORS if s != keep]:
        del _POSTPROCESSORS[s]


register_compiled_cache(clear_postprocessors)
