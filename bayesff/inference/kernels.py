"""Compiled samplers, one per problem structure, reused for any data.

A :class:`Kernel` is built from a :class:`~bayesff.model.Structure` and the
sampler settings that change the compiled program (chains, warm-up length,
target acceptance, tree depth, metric, block length). Its functions take the
model's data as arguments: a second problem of the same structure (another
fluid, a bootstrap resample, other priors or seeds, any number of draws)
runs the same compiled code. :func:`bayesff.inference.cache.get_kernel` keeps kernels
in memory;
JAX's persistent compilation cache (:func:`bayesff.configure`) carries the
compiled code to the next process.

Every function is batched over problems (leading axis P) and chains (axis
C): a batch of same-structure problems is one vectorised program.

The sampler is numpyro's NUTS (``numpyro.infer.hmc.hmc`` with
``potential_fn_gen``, so that data stay arguments) with its windowed
adaptation of step size and (dense) mass matrix. Draws are collected on the
device in blocks of ``block`` iterations (:meth:`Kernel.run_block`), so the
host sees a few large copies, a progress bar can move and a checkpoint can
be written between blocks, and Ctrl-C is answered within one block.

NUTS moves in scaled coordinates, ``z = scale * w`` (:class:`Scaled`), with
``scale`` each unconstrained coordinate's posterior sd from the Laplace start
(``init = "laplace"``; 1 otherwise), so that every coordinate NUTS sees has a
posterior scale near 1. The reason is numpyro's warm-up (Stan's rule): each
window's mass-matrix estimate is shrunk towards ``1e-3 * I`` with weight
``5 / (n + 5)``, which swamps coordinates whose posterior variance is far below
``1e-5``: the log well depth and diameter of a fit to saturation data
(argon-LJ trained on VLE: sd 6e-4 and 3e-4) got a metric 10-100 times too wide
and a step size of 0.06 (17 leapfrog steps per draw) where the posterior's
curvature allows 0.85 (6 steps). The draws (:class:`Trace`) are in the model's
coordinates ``z``; the chain state (and a checkpoint) holds ``w``.

On a CPU, each device runs its chains one after another (``lax.map``); on an
accelerator they are vectorised (``vmap``). Measured on argon B2 (one core, 4
chains x 2000 iterations): one after another traced in 0.12 s, compiled in
2.0 s and ran in 1.4 s; vectorised, 1.2 s, 4.2 s and 2.2 s. Vectorised NUTS
chains wait at every iteration for the deepest tree among them, and batching
numpyro's nested while loops is what makes tracing slow
(``SamplerSettings.chain_method`` overrides the choice).

Where the process has several devices (a CPU split into host devices by
:func:`bayesff.configure`, or several GPUs), the chains are split over them
with ``jax.shard_map``: each device advances its own chains, and devices
meet only at the end of a block. The posterior is the same; the draws of a
seed are the same only for the same split, since XLA's vectorised maths can
differ in the last bit between batch widths and chains are chaotic (the run
records the split as ``chain_devices``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as Spec
from numpyro.distributions.transforms import biject_to
from numpyro.handlers import seed, substitute, trace
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.hmc_util import HMCAdaptState
from numpyro.infer.initialization import init_to_median
from numpyro.infer.util import ParamInfo, potential_energy

from bayesff.inference.exported import (
    ONE_SHOT,
    background_compilation,
    persistent,
    precompile,
    register_pytrees,
    structure_key,
)
from bayesff.model import ModelData, Structure, TargetData, model_of

__all__ = [
    "Kernel",
    "SamplerSettings",
    "Scaled",
    "Trace",
    "chain_shards",
    "latent_dim",
    "ravel_chains",
    "unravel_chains",
]


class Scaled(NamedTuple):
    """The model's data and the scale of the sampler's coordinates: NUTS moves ``w``,
    the model sees ``z = scale * w`` (the module docstring says why).

    ``scale`` maps each latent site to positive factors of its unconstrained shape,
    with the leading problem axis P where ``data`` has one.
    """

    data: ModelData
    scale: dict


def _times(z: dict, scale: dict) -> dict:
    return {k: v * scale[k] for k, v in z.items()}


def _over(z: dict, scale: dict) -> dict:
    return {k: v / scale[k] for k, v in z.items()}


@dataclass(frozen=True)
class SamplerSettings:
    """Settings that are compiled into a sampler (everything else is data)."""

    chains: int
    warmup: int
    target_accept: float = 0.8
    max_tree_depth: int = 10
    dense_mass: bool = True
    adapt_mass: bool = True
    block: int = 100
    sampler: str = "nuts"
    #: replicas per chain and the hottest's temperature (sampler "tempered")
    temperatures: int = 1
    max_temperature: float = 1.0
    #: "auto": one chain after another on each CPU device, vectorised on accelerators
    chain_method: str = "auto"


class Trace(NamedTuple):
    """What one iteration of every chain records (leading axes: block, P, C)."""

    z: dict  # unconstrained latent values
    diverging: jax.Array
    energy: jax.Array
    num_steps: jax.Array
    accept_prob: jax.Array
    potential_energy: jax.Array
    step_size: jax.Array


def init_to_central(site=None, low: float = 0.25, high: float = 0.75):
    """numpyro init strategy: a random point in the central part of each prior.

    Each chain starts at the prior quantile ``q ~ Uniform(low, high)`` of every
    latent site (drawn with the chain's own key), so chains start dispersed,
    which makes R-hat meaningful, but never in the far tails (numpyro's
    default, uniform(-2, 2) in unconstrained space, puts epsilon/k near 1 K).
    Falls back to ``init_to_median`` for distributions without ``icdf``.
    """

    if site is None:
        return functools.partial(init_to_central, low=low, high=high)
    if site["type"] == "sample" and not site["is_observed"] and not site["fn"].support.is_discrete:
        if site["value"] is not None:
            return site["value"]
        shape = site["kwargs"].get("sample_shape", ()) + site["fn"].shape()
        q = jax.random.uniform(site["kwargs"]["rng_key"], shape, minval=low, maxval=high)
        try:
            return site["fn"].icdf(q)
        except NotImplementedError:
            return init_to_median(site)
    return None


def chain_shards(chains: int) -> int:
    """Devices the chains are split over: the largest divisor of ``chains`` <= devices."""
    n = min(jax.local_device_count(), chains)
    return max(d for d in range(1, n + 1) if chains % d == 0)


class Kernel:
    """A compiled sampler for one structure and one :class:`SamplerSettings`.

    Attributes
    ----------
    draw
        ``draw(keys (P, C, 2), data) -> z``: unconstrained starting points,
        one :func:`init_to_central` draw per chain.
    init_at
        ``init_at(keys, sdata, z (P, C, ...), inverse_mass (P, D, D) or (P, D))
        -> state``: chains start at given unconstrained points (drawn,
        Laplace start); a start without a finite log density and gradient
        shows as a non-finite ``potential_energy`` or ``z_grad``. ``sdata``
        is :meth:`sampler_data` (the model's data and the coordinate scale);
        ``z`` and ``inverse_mass`` are in the model's coordinates.
    run_block
        ``run_block(state, sdata, n) -> (state, Trace)``: ``n <= block``
        iterations of every chain; the trace has ``block`` rows, the first
        ``n`` filled. With ``shards > 1`` the chains are split over that many
        devices (:func:`chain_shards`).
    log_density
        ``log_density(z (D,), data) -> (value, gradient)`` of one problem
        (unbatched, ravelled unconstrained vector; for the Laplace start and
        the chains' start, :meth:`energies`).
    start_from
        ``start_from(keys, sdata, z, inverse_mass, pe (P, C), grad) -> state``:
        the chain states at ``z`` whose potential energies and gradients (in the
        model's coordinates) are given; no model inside (:meth:`init_at` calls it).
    """

    #: whether chains may be split over devices (each chain's state is its own)
    shardable = True

    def __init__(self, structure: Structure, settings: SamplerSettings):

        self.structure = structure
        self.settings = settings
        # the compiled block's state and trace types, for jax.export (bayesff.inference.exported)
        register_pytrees(HMCState, HMCAdaptState, Trace, ModelData, TargetData, Scaled)
        model = model_of(structure)
        self._model = model

        def pe_gen(data):
            if isinstance(data, Scaled):  # NUTS's coordinates w, z = scale * w
                pe = functools.partial(potential_energy, model, (data.data,), {})
                return lambda w: pe(_times(w, data.scale))
            return functools.partial(potential_energy, model, (data,), {})

        self._pe_gen = pe_gen
        self._init_kernel, self._sample_kernel = hmc(potential_fn_gen=pe_gen, algo="NUTS")
        method = settings.chain_method
        if method not in ("auto", "sequential", "vectorized"):
            raise ValueError(
                f"chain_method must be 'auto', 'sequential' or 'vectorized', got {method!r}"
            )
        #: chains vectorised (vmap) rather than one after another (lax.map) on each device
        self.vectorised = method == "vectorized" or (
            method == "auto" and jax.default_backend() != "cpu"
        )
        self.shards = chain_shards(settings.chains) if self.shardable else 1
        # NUTS kernels of bayesff's own potentials and observables are read back from
        # disk in a new process instead of traced again (bayesff.inference.exported)
        key = self._persistent_key()
        self.draw = persistent(
            jax.jit(self._draw, compiler_options=ONE_SHOT), "draw", key, ONE_SHOT
        )
        # the chains' start from energies computed by log_density: the model is compiled
        # into one single-point program (which the Laplace start uses too), not also into
        # the start's (b12 of the n-alkane study: 28 s of compilation, docs/chains.md)
        self.start_from = persistent(
            jax.jit(self._start_from, compiler_options=ONE_SHOT), "start_from", key, ONE_SHOT
        )
        self.run_block = (
            self._sharded_run_block(key)
            if self.shards > 1
            else persistent(jax.jit(self._run_block), "run_block", key)
        )
        # compiled without LLVM's optimisation: called a few hundred times at most (the
        # Laplace start, the chains' start), where XLA's full compilation of a
        # phase-equilibrium model costs more than the calls gain (b12: 33 s against 21 s
        # to compile, 6.4 against 11.5 ms a call; benchmarks/compile_costs.py)
        self.log_density = persistent(
            jax.jit(self._log_density, compiler_options=ONE_SHOT), "log_density", key, ONE_SHOT
        )
        self.calls = 0

    def _persistent_key(self) -> str | None:
        if type(self) is not Kernel:
            return None  # other samplers (ChEES) keep blackjax's own state types
        return structure_key(self.structure, self.settings, self.vectorised, self.shards)

    # ----------------------------------------------------------- building blocks
    @staticmethod
    def _sampler_coordinates(data, z, grad, inverse_mass):
        """A start ``z``, its gradient and metric (model coordinates) in NUTS's coordinates
        ``w = z / scale`` (unchanged for data without a scale)."""
        if not isinstance(data, Scaled):
            return z, grad, inverse_mass
        f = ravel_pytree(data.scale)[0]
        return (
            _over(z, data.scale),
            _times(grad, data.scale),  # d pe / d w = d pe / d z * scale
            inverse_mass / (jnp.outer(f, f) if inverse_mass.ndim == 2 else f**2),
        )

    def _nuts_init(self, init_kernel, key, w, inverse_mass, pe, grad_w, model_args):
        """numpyro's NUTS state at ``w`` (NUTS's coordinates) with these settings."""
        s = self.settings
        return init_kernel(
            ParamInfo(w, pe, grad_w),
            num_warmup=s.warmup,
            inverse_mass_matrix=inverse_mass,
            dense_mass=s.dense_mass,
            adapt_mass_matrix=s.adapt_mass,
            target_accept_prob=s.target_accept,
            max_tree_depth=s.max_tree_depth,
            model_args=model_args,
            rng_key=key,
        )

    def _chain_state(self, key, data, z, inverse_mass, pe, grad):
        """One chain's NUTS state at ``z`` (model coordinates), whose potential energy
        ``pe`` and its gradient ``grad`` (in ``z``) are given."""
        w, grad_w, inverse_mass = self._sampler_coordinates(data, z, grad, inverse_mass)
        return self._nuts_init(self._init_kernel, key, w, inverse_mass, pe, grad_w, (data,))

    def _over_chains(self, fn, per_problem, per_chain):
        """``fn(per_problem_p, per_chain_pc)`` for every chain of every problem.

        ``per_problem`` leaves have a leading axis P, ``per_chain`` leaves (P, C);
        the result's leaves are (P, C, ...). The P x C chains are one flat axis,
        mapped one after another or vectorised (:attr:`vectorised`); a single
        problem's data stay unbatched.
        """
        n_problems, n_chains = jax.tree.leaves(per_chain)[0].shape[:2]
        flat = jax.tree.map(lambda a: a.reshape(n_problems * n_chains, *a.shape[2:]), per_chain)
        if n_problems == 1:
            one = jax.tree.map(lambda a: a[0], per_problem)

            def g(x):
                return fn(one, x)

            args = flat
        else:
            rep = jax.tree.map(lambda a: jnp.repeat(a, n_chains, axis=0), per_problem)

            def g(dx):
                return fn(*dx)

            args = (rep, flat)
        out = jax.vmap(g)(args) if self.vectorised else jax.lax.map(g, args)
        return jax.tree.map(lambda a: a.reshape(n_problems, n_chains, *a.shape[1:]), out)

    def _draw(self, keys, data):
        """Unconstrained starting points: init_to_central draws, (P, C, ...)."""
        return self._over_chains(lambda d, k: self._prototype(k, d), data, keys)

    def sampler_data(self, data, scale: dict):
        """What :attr:`init_at` and :attr:`run_block` take: ``data`` with the coordinate
        ``scale`` (site -> (P, ...)), as :class:`Scaled`."""
        return Scaled(data, scale)

    @staticmethod
    def unit_scale(z: dict) -> dict:
        """Scale 1 for latent values ``z`` with leaves (P, C, ...): leaves (P, ...)."""
        return {k: np.ones(a.shape[:1] + a.shape[2:], a.dtype) for k, a in z.items()}

    def _prototype(self, key, data):
        """Unconstrained latent values of one draw (their shapes are what init needs)."""

        seeded = substitute(seed(self._model, key), substitute_fn=init_to_central())
        tr = trace(seeded).get_trace(data)
        return {
            name: biject_to(site["fn"].support).inv(site["value"])
            for name, site in tr.items()
            if site["type"] == "sample" and not site["is_observed"]
        }

    def _start_from(self, keys, data, z, inverse_mass, pe, grad):
        def one(d_im, k_z):
            return self._chain_state(k_z[0], d_im[0], k_z[1], d_im[1], *k_z[2])

        return self._over_chains(one, (data, inverse_mass), (keys, z, (pe, grad)))

    def init_at(self, keys, data, z, inverse_mass):
        """Chain states at ``z`` (see the class docstring): the energies by
        :attr:`log_density`, one call per chain, then :attr:`start_from`."""
        pe, grad = self.energies(data, z)
        return self.start_from(keys, data, z, inverse_mass, pe, grad)

    def energies(self, data, z) -> tuple[np.ndarray, dict]:
        """Potential energy (P, C) and its gradient (site -> (P, C, ...)) at latent values
        ``z`` (site -> (P, C, ...), the model's coordinates) of every chain of every
        problem of ``data`` (the model's data or :class:`Scaled`), by :attr:`log_density`."""
        d = data.data if isinstance(data, Scaled) else data
        z = {k: np.asarray(v) for k, v in z.items()}
        x = ravel_chains(z)
        template = {k: v[0, 0] for k, v in z.items()}
        pe, grad = np.empty(x.shape[:2]), np.empty(x.shape)
        for p in range(x.shape[0]):
            data_p = jax.tree.map(lambda a, p=p: a[p], d)
            for c in range(x.shape[1]):
                v, g = self.log_density(jnp.asarray(x[p, c]), template, data_p)
                pe[p, c], grad[p, c] = -float(v), -np.asarray(g)
        grad = unravel_chains(grad, {k: v.shape[2:] for k, v in z.items()})
        return pe.astype(x.dtype), {k: grad[k].astype(v.dtype) for k, v in z.items()}

    def _run_block(self, state, data, n):
        block = self.settings.block

        def record(st, d):
            return Trace(
                _times(st.z, d.scale) if isinstance(d, Scaled) else st.z,
                st.diverging,
                st.energy,
                st.num_steps,
                st.accept_prob,
                st.potential_energy,
                st.adapt_state.step_size,
            )

        def chain(d, st):
            def body(i, carry):
                st, buf = carry
                st = self._sample_kernel(st, model_args=(d,))
                buf = jax.tree.map(lambda b, r: b.at[i].set(r), buf, record(st, d))
                return st, buf

            buf0 = jax.tree.map(lambda r: jnp.zeros((block, *r.shape), r.dtype), record(st, d))
            return jax.lax.fori_loop(0, n, body, (st, buf0))

        state, buf = self._over_chains(chain, data, state)
        # (P, C, block, ...) -> (block, P, C, ...)
        return state, jax.tree.map(lambda b: jnp.moveaxis(b, 2, 0), buf)

    def _sharded_run_block(self, key: str | None):
        """``run_block`` with the chain axis split over ``self.shards`` devices."""

        mesh = jax.make_mesh((self.shards,), ("chains",), devices=jax.devices()[: self.shards])
        # state leaves are (P, C, ...), trace leaves (block, P, C, ...); data are replicated.
        # check_vma=False: the branches of lax.cond in numpyro's NUTS come out with different
        # varying-axes types, which the checker refuses (tried: TypeError)
        run = persistent(
            jax.jit(
                jax.shard_map(
                    self._run_block,
                    mesh=mesh,
                    in_specs=(Spec(None, "chains"), Spec(), Spec()),
                    out_specs=(Spec(None, "chains"), Spec(None, None, "chains")),
                    check_vma=False,
                )
            ),
            "run_block",
            key,
        )
        return _ShardedRunBlock(
            run, NamedSharding(mesh, Spec(None, "chains")), NamedSharding(mesh, Spec())
        )

    # ------------------------------------------------------------ compile ahead
    def precompile(self, keys, data) -> dict:
        """Start compiling :attr:`run_block` in the background for these arguments' types.

        The state's types come from tracing ``start_from`` abstractly (no
        compilation); the calling thread goes on with the chains' start while
        the block compiles (:func:`bayesff.inference.exported.precompile`).
        Returns the abstract unconstrained latent values, site -> (P, C, ...).
        """

        # shapes through the jitted functions: their traces are cached for the real calls
        z = jax.eval_shape(_jitted(self.draw), keys, data)
        if not background_compilation() or getattr(self, "warmup_in_one_call", False):
            return z  # ChEES adapts in a call of its own: not compiled ahead
        inverse_mass = self.unit_inverse_mass(keys.shape[0], latent_dim(z))
        sdata = self.sampler_data(data, self.unit_scale(z))  # its types, not its values
        pe = jax.ShapeDtypeStruct(keys.shape[:2], jax.tree.leaves(z)[0].dtype)
        state = jax.eval_shape(_jitted(self.start_from), keys, sdata, z, inverse_mass, pe, z)
        if isinstance(self.run_block, _ShardedRunBlock):
            self.run_block.prepare(state, sdata)
        else:
            precompile(self.run_block, state, sdata, 1)
        return z

    def unit_inverse_mass(self, n_problems: int, d: int) -> np.ndarray:
        """The unadapted metric of ``n_problems`` problems: (P, D, D) identity or (P, D) ones."""
        one = np.eye(d) if self.settings.dense_mass else np.ones(d)
        return np.stack([one] * n_problems)

    def _log_density(self, x, unravel_template, data):

        _, unravel = ravel_pytree(unravel_template)
        return jax.value_and_grad(lambda v: -self._pe_gen(data)(unravel(v)))(x)


def ravel_chains(z: dict, lead_dims: int = 2) -> np.ndarray:
    """Latent values (site -> (P, C, ...)) as (P, C, D) vectors, in NumPy: ravelled in
    NumPyro's (and jax.flatten_util.ravel_pytree's) order, the sites' sorted names (the
    JAX version compiles a reshape and a split program in a new process). ``lead_dims``:
    the leading axes kept, 3 for kept draws (P, C, N, ...) -> (P, C, N, D)."""
    lead = np.shape(z[next(iter(z))])[:lead_dims]
    return np.concatenate([np.asarray(z[k]).reshape(*lead, -1) for k in sorted(z)], axis=-1)


def unravel_chains(x: np.ndarray, shapes: dict) -> dict:
    """Site -> x[..., its part] shaped (..., *shape): the inverse of :func:`ravel_chains`
    along ``x``'s last axis (``shapes``: site -> its shape in one chain)."""
    out, start = {}, 0
    for k in sorted(shapes):
        n = int(np.prod(shapes[k]))
        out[k] = x[..., start : start + n].reshape(*x.shape[:-1], *shapes[k])
        start += n
    return out


def latent_dim(z) -> int:
    """Unconstrained dimension D of one chain, from latent values with leaves (P, C, ...)."""
    return sum(int(np.prod(a.shape[2:])) for a in jax.tree.leaves(z))


def _jitted(function):
    """The ``jax.jit`` function behind a :func:`~bayesff.inference.exported.persistent` one."""
    return getattr(function, "jitted", function)


class _ShardedRunBlock:
    """``run_block`` with the chains split over devices: placement, then the compiled block."""

    def __init__(self, run, by_chain, replicated):
        self.run, self.by_chain, self.replicated = run, by_chain, replicated

    def __call__(self, state, data, n):
        leaf = jax.tree.leaves(state)[0]
        if getattr(leaf, "sharding", None) != self.by_chain:
            # a start made on one device: split it from host memory (a device-side
            # split compiles a slicing program per leaf shape, ~0.15 s in a new process)
            state = jax.device_put(jax.tree.map(np.asarray, state), self.by_chain)
        return self.run(state, jax.device_put(data, self.replicated), n)

    def prepare(self, state, data) -> None:
        """Compile ahead for an abstract ``state`` (placed as :meth:`__call__` places it)."""

        state = jax.tree.map(
            lambda a: jax.ShapeDtypeStruct(
                a.shape, a.dtype, weak_type=a.weak_type, sharding=self.by_chain
            ),
            state,
        )
        precompile(self.run, state, jax.device_put(data, self.replicated), 1)
