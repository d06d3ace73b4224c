"""Everything a run file holds besides the draws, computed by the model itself.

From posterior draws: replicated observations and model means at the
training rows (posterior predictive), the pointwise log-likelihood
(the model's observed sites' densities, as numpyro's ``log_likelihood``
computes them; the one place it is computed), the log prior
density of every latent site, and replicated observations and means at the
held-out rows (predictions). From the prior: draws and prior predictive.

Each set of rows runs the forward model once per draw: the log-likelihood and
the log prior read the means the predictive run computed
(:meth:`~bayesff.model.ModelData.with_means`). For a phase-equilibrium problem a
forward model is most of the program, and each copy in it is traced and compiled:
model (b12) of the n-alkane study held eight copies (docs/chains.md).

The functions are compiled once per structure and chunk length and take the
data as arguments; draws are processed in chunks (the last padded) of
:func:`chunk_size` draws: a power of two up to :data:`CHUNK`, so that runs of
any length reuse a few compiled shapes and a short run (thinned, or a sweep's
small task) does not pay for 256 draws of expensive held-out predictions.

Where the process has several devices (a CPU split into one device per core,
:func:`bayesff.configure`), each call runs one chunk per device
(:func:`chunk_devices`, ``jax.shard_map``; a run of one chunk stays on one device, and a
short last call is filled with a prior chunk whose output is dropped: one compiled shape
per device count, extra work only on devices that would idle). Chunk ``i`` is the same computation
with the same keys on whichever device it runs, so the results are those of one
device to rounding (the sharded program is compiled on its own and XLA may order
its floating-point operations differently: model b12's means agree within 2e-12
relative). Post-processing runs after the chains, alone, so it had one core of two
idle; held-out phase-equilibrium predictions took minutes of it (docs/chains.md).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as Spec
from numpyro.handlers import substitute, trace
from numpyro.infer import Predictive
from numpyro.infer.util import constrain_fn

from bayesff import sites
from bayesff.inference.exported import (
    persistent,
    precompile,
    register_pytrees,
    structure_key,
)
from bayesff.model import ModelData, Structure, TargetData, model_of
from bayesff.runtime import make_room, register_compiled_cache

__all__ = [
    "CHUNK",
    "PostProcessed",
    "PostProcessor",
    "chunk_devices",
    "chunk_plan",
    "chunk_size",
    "get_postprocessor",
]

#: Largest number of draws per call of the compiled post-processing functions.
CHUNK = 256

#: Prior chunk ``i`` draws its replicated observations with the posterior's key folded with
#: ``PRIOR_CHUNKS + i`` (posterior chunk ``i`` with ``i``): no run has this many chunks.
PRIOR_CHUNKS = 1 << 30


def chunk_size(n_posterior: int, n_prior: int) -> int:
    """Draws per compiled call for ``n_posterior`` kept and ``n_prior`` prior draws.

    The smallest power of two (at least 8) that holds both, capped at :data:`CHUNK`.
    """
    n = max(int(n_posterior), int(n_prior), 1)
    return min(CHUNK, max(8, 1 << (n - 1).bit_length()))


def chunk_devices(n_chunks: int) -> int:
    """Devices one call spreads its chunks over: one for a single chunk, else all of the
    process's devices (never a count between: each count is a program of its own)."""
    return 1 if int(n_chunks) <= 1 else len(jax.devices())


class _Chunk(NamedTuple):
    """One chunk of draws: its index among its own (posterior or prior) draws, whether it
    is the prior's, the first posterior draw it holds, and how many of its rows are kept."""

    i: int
    is_prior: bool
    start: int
    take: int


def chunk_plan(n: int, n_prior: int, size: int, devices: int) -> list[list[_Chunk]]:
    """The calls of a run: posterior chunks, then prior chunks, ``devices`` per call.

    A call with fewer chunks than devices is filled with prior chunk 0 with nothing
    kept (its output is dropped): every call has the compiled shape, and a prior chunk
    is the cheapest (its held-out rows are skipped).
    """
    n_post, n_pri = -(-n // size), -(-n_prior // size)
    chunks = [_Chunk(i, False, min(i * size, max(n - 1, 0)), min(size, n - i * size))
              for i in range(n_post)]  # fmt: skip
    chunks += [_Chunk(i, True, 0, min(size, n_prior - i * size)) for i in range(n_pri)]
    calls = [chunks[j : j + devices] for j in range(0, len(chunks), devices)]
    if calls and len(calls[-1]) < devices:
        calls[-1] += [_Chunk(0, True, 0, 0)] * (devices - len(calls[-1]))
    return calls


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
        # jitted so that its trace is cached: lax.cond's skipped branch asks for its output
        # types, the taken branch for its program, and the model is traced once for both
        self._heldout = jax.jit(self._heldout_chunk)
        self._chunk = persistent(jax.jit(self._one_chunk), "postprocess", structure_key(structure))
        self._sharded: dict = {}  # devices -> _ShardedChunks
        #: devices the last :meth:`run` spread its chunks over
        self.devices = 1

    def _program(self, devices: int):
        """The compiled call for ``devices`` chunks at a time (one: :attr:`_chunk`)."""
        if devices == 1:
            return self._chunk
        if devices not in self._sharded:
            mesh = jax.make_mesh((devices,), ("chunks",), devices=jax.devices()[:devices])

            def per_device(z, i, is_prior, *rest):  # this device's chunk: leading axis 1
                out = self._one_chunk(jax.tree.map(lambda a: a[0], z), rest[0], rest[1],
                                      i[0], is_prior[0], *rest[2:])  # fmt: skip
                return jax.tree.map(lambda a: a[None], out)

            # check_vma=False: lax.cond's branches (the held-out rows and their skipped
            # twin) come out with different varying-axes types, as in run_block
            sharded = jax.shard_map(
                per_device,
                mesh=mesh,
                in_specs=(Spec("chunks"),) * 3 + (Spec(),) * 4,
                out_specs=Spec("chunks"),
                check_vma=False,
            )
            key = structure_key(self.structure, devices)
            self._sharded[devices] = _ShardedChunks(
                persistent(jax.jit(sharded), "postprocess", key),
                NamedSharding(mesh, Spec("chunks")),
                NamedSharding(mesh, Spec()),
            )
        return self._sharded[devices]

    def _log_prior(self, samples, data, means):
        """Each latent site's log prior density at each draw (``means``: the draws' model
        means, so that the forward model is not run again)."""

        names = self.structure.latent_names

        def one(s, m):
            tr = trace(substitute(self.model, data=s)).get_trace(data.with_means(m))
            return {n: tr[n]["fn"].log_prob(tr[n]["value"]) for n in names}

        return jax.vmap(one)(samples, means)

    def _log_likelihood(self, samples, means, data):
        """Log density of each observed site at each draw (numpyro's ``log_likelihood``),
        the model means given (``means``: the draws' predictive means)."""

        def one(s, m):
            tr = trace(substitute(self.model, data=s)).get_trace(data.with_means(m))
            return {
                name: site["fn"].log_prob(site["value"])
                for name, site in tr.items()
                if site["type"] == "sample" and site["is_observed"]
            }

        return jax.vmap(one)(samples, means)

    def _one_chunk(self, z, key, key_prior, i, is_prior, data_train, data_holdout):
        """One compiled call: chunk ``i`` of posterior draws (unconstrained ``z``) or, if
        ``is_prior``, of prior draws (``z`` unused), with their predictive quantities.

        Posterior and prior chunks are one program (the flag is traced): the training
        rows' forward model is in it once, and the held-out rows' once, skipped for
        the prior's draws (``lax.cond`` on an unbatched flag runs one branch only).
        Drawing and constraining the latent sites run the model with its means given
        (:meth:`~bayesff.model.ModelData.with_means`): without a forward model.
        """

        n = next(iter(z.values())).shape[0]  # static: the chunk length
        # the latent sites' supports and prior draws only: the forward models are skipped
        blind = data_train.with_means(
            {sites.mean(k): jnp.zeros(jnp.shape(td.u)) for k, td in data_train.targets.items()}
        )

        def prior(k):
            names = list(self.structure.latent_names)
            return Predictive(self.model, num_samples=n, return_sites=names, parallel=True)(
                jax.random.fold_in(k, i),
                blind,  # observed sites draw nothing
            )

        def posterior(zz):
            return jax.vmap(lambda x: constrain_fn(self.model, (blind,), {}, x))(zz)

        samples = jax.lax.cond(is_prior, lambda: prior(key_prior), lambda: posterior(z))
        # replicated observations and held-out draws: the posterior's stream, a prior chunk's
        # past every posterior chunk's counter; its latent draws are the prior's stream. In
        # one stream they would reuse keys (JAX's split(k, n)[j] is fold_in(k, j))
        key = jax.random.fold_in(key, i + jnp.where(is_prior, PRIOR_CHUNKS, 0))
        k1, k2 = jax.random.split(key)
        trained = [t.name for t in self.structure.trained()]
        names = [*trained, *(sites.mean(t) for t in trained)]
        pp = Predictive(self.model, posterior_samples=samples, return_sites=names, parallel=True)(
            k1, data_train.without_observations()
        )
        means = {k: pp[k] for k in names[len(trained) :] if k in pp}
        ll = self._log_likelihood(samples, means, data_train)
        ll = {t: ll[t] for t in trained}

        def skipped(*args):
            return jax.tree.map(
                lambda a: jnp.zeros(a.shape, a.dtype), jax.eval_shape(self._heldout, *args)
            )

        args = (samples, k2, data_holdout)
        pred, pred_ll = jax.lax.cond(is_prior, skipped, self._heldout, *args)
        return samples, pp, ll, pred, pred_ll, self._log_prior(samples, data_train, means)

    def _heldout_chunk(self, samples, key, data_holdout):
        """Predictions and the log-likelihood of the held-out rows at the draws."""
        held = [t.name for t in self.structure.targets if data_holdout.targets[t.name].n]
        if not held:
            return {}, {}
        new_env = list(self.structure.new_environment_sites())
        pred = Predictive(
            self.model,
            posterior_samples=samples,
            return_sites=[*held, *(sites.mean(t) for t in held), *new_env],
            parallel=True,
        )(key, data_holdout.without_observations())
        pred_ll = self._heldout_log_likelihood(samples, pred, held, data_holdout)
        return {k: v for k, v in pred.items() if k not in new_env}, pred_ll

    def _heldout_log_likelihood(self, samples, pred, held, data_holdout):
        """The model's log-likelihood of the held-out observations at each draw.

        Evaluated by the model itself (numpyro's ``log_likelihood``) at the posterior
        draws and the draws of a new environment the predictions used; a draw whose
        forward model failed at a row (non-finite model mean) has density zero there
        (the model rejects it: its ``valid`` factor), so -inf, never a silent number.
        """
        new_env = {k: pred[k] for k in self.structure.new_environment_sites() if k in pred}
        means = {sites.mean(t): pred[sites.mean(t)] for t in held}
        ll = self._log_likelihood({**samples, **new_env}, means, data_holdout)
        out = {}
        for t in held:
            mean = pred[sites.mean(t)]
            finite = jnp.isfinite(mean.reshape(mean.shape[0], mean.shape[1], -1)).all(axis=2)
            if ll[t].ndim == 1:  # a correlated target: one observation per curve
                finite = finite.all(axis=1)
            out[t] = jnp.where(finite, ll[t], -jnp.inf)
        return out

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
        devices = chunk_devices(-(-n // size) + -(-n_prior // size))
        if devices > 1:
            types = {k: ((devices, size, *shape), dtype) for k, (shape, dtype) in latent.items()}
            self._program(devices).prepare(types, key, key_prior, data_train, data_holdout)
            return
        chunk = {k: np.zeros((size, *shape), dtype) for k, (shape, dtype) in latent.items()}
        precompile(self._chunk, chunk, key, key_prior, 0, False, data_train, data_holdout)

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
        if given, is called after each call (a chunk per device) with the draws processed so far
        (posterior and prior counted together).
        """
        n = next(iter(z.values())).shape[0]
        size = chunk_size(n, n_prior)
        calls = chunk_plan(n, n_prior, size, chunk_devices(-(-n // size) + -(-n_prior // size)))
        self.devices = len(calls[0]) if calls else 1
        program = self._program(self.devices)
        post, prior, done = [], [], 0
        for call in calls:
            zs = [{k: _pad(v[c.start : c.start + size], size) for k, v in z.items()} for c in call]
            if self.devices == 1:
                c = call[0]
                outs = [program(zs[0], key, key_prior, c.i, c.is_prior, data_train, data_holdout)]
            else:
                outs = program(zs, call, key, key_prior, data_train, data_holdout)
            for c, out in zip(call, outs, strict=True):
                if c.take > 0:
                    kept = jax.tree.map(lambda a, t=c.take: np.asarray(a)[:t], out)
                    (prior if c.is_prior else post).append(kept)
                    done += c.take
            if progress is not None:
                progress(done, n + n_prior)
        return _collect(post, prior)


class _ShardedChunks:
    """The chunk program with one chunk per device: placement, the call, and its outputs
    split back into chunks (as the chains' ``run_block`` is placed)."""

    def __init__(self, run, by_chunk, replicated):
        self.run, self.by_chunk, self.replicated = run, by_chunk, replicated

    def __call__(self, zs: list, call: list, key, key_prior, data_train, data_holdout):
        z = {k: np.stack([c[k] for c in zs]) for k in zs[0]}
        i = np.asarray([c.i for c in call], np.int32)  # int32 with or without x64
        is_prior = np.asarray([c.is_prior for c in call])
        z, i, is_prior = jax.device_put((z, i, is_prior), self.by_chunk)
        rest = jax.device_put((key, key_prior, data_train, data_holdout), self.replicated)
        out = jax.tree.map(np.asarray, self.run(z, i, is_prior, *rest))
        return [jax.tree.map(lambda a, j=j: a[j], out) for j in range(len(call))]

    def prepare(self, types: dict, key, key_prior, data_train, data_holdout) -> None:
        """Compile ahead for chunks of ``types`` (site -> (shape, dtype), with the device
        axis first), placed as :meth:`__call__` places them."""

        def placed(shape, dtype):
            return jax.ShapeDtypeStruct(shape, dtype, sharding=self.by_chunk)

        devices = next(iter(types.values()))[0][0]
        z = {k: placed(shape, dtype) for k, (shape, dtype) in types.items()}
        i = placed((devices,), np.int32)
        is_prior = placed((devices,), np.bool_)
        rest = jax.device_put((key, key_prior, data_train, data_holdout), self.replicated)
        precompile(self.run, z, i, is_prior, *rest)


def _collect(post: list, prior: list) -> PostProcessed:
    """:class:`PostProcessed` of the chunks' (samples, pp, ll, pred, pred_ll, log prior)."""
    # a prior draw: its latent sites with the replicated training rows and their means
    prior_draws = [{**p[0], **p[1]} for p in prior]
    return PostProcessed(
        posterior=_concat([p[0] for p in post]),
        pp=_concat([p[1] for p in post]),
        ll=_concat([p[2] for p in post]),
        pred=_concat([p[3] for p in post]),
        pred_ll=_concat([p[4] for p in post]),
        log_prior=_concat([p[5] for p in post]),
        prior=_concat(prior_draws),
        prior_log=_concat([p[5] for p in prior]),
    )


def _concat(parts: list[dict]) -> dict:
    if not parts:
        return {}
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
