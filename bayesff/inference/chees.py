"""ChEES-HMC: many short chains in lockstep, for GPUs (``sampler = "chees"``).

NUTS builds a tree per chain and iteration, so vectorised chains wait for the
longest tree of the batch; on a GPU that wastes the parallel hardware. ChEES-HMC
(Hoffman, Radul and Sountsov, AISTATS 2021, proceedings.mlr.press/v130/hoffman21a)
runs every chain with the same jittered trajectory length, tuned during warm-up
by maximising the Change in the Estimator of the Expected Square across the
ensemble; with 32-256 chains every step is one batched gradient. The warm-up
and the kernel are blackjax's (``blackjax.chees_adaptation``,
``blackjax.mcmc.dynamic_hmc``); this module gives them the interface of
:class:`~bayesff.inference.kernels.Kernel` (data as arguments, batched over
problems and chains, draws in blocks), so diagnostics, run files and reports
are the same as for NUTS. Warm-up runs in one compiled call
(:meth:`CheesKernel.warmup_all`): Ctrl-C is answered after it.
"""

from __future__ import annotations

from typing import NamedTuple

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from blackjax.mcmc.dynamic_hmc import DynamicHMCState, build_kernel, halton_sequence
from jax.flatten_util import ravel_pytree

from bayesff.inference.exported import ONE_SHOT
from bayesff.inference.kernels import Kernel, SamplerSettings, Trace
from bayesff.model import Structure

__all__ = ["CheesKernel", "CheesState"]

#: Jitter sequence length: the Halton sequence of the trajectory lengths must not
#: repeat within a run (warm-up + sampling iterations).
_MAX_ITERATIONS = 2**22


class CheesState(NamedTuple):
    """State of every chain of every problem (leading axes P, C; parameters per P)."""

    z: dict  # unconstrained positions, as for NUTS
    potential_energy: jax.Array
    z_grad: dict
    random_generator_arg: jax.Array
    rng_key: jax.Array
    step_size: jax.Array  # (P,)
    inverse_mass_matrix: jax.Array  # (P, D)
    num_leapfrog_steps: jax.Array  # (P,)


def _integration_steps(warmup: int):
    max_bits = int(np.ceil(np.log2(warmup + _MAX_ITERATIONS)))

    def steps(random_generator_arg, num_leapfrog_steps):

        jitter = halton_sequence(random_generator_arg, max_bits)
        return jnp.asarray(jnp.ceil(jitter * num_leapfrog_steps), dtype=int)

    return steps


class CheesKernel(Kernel):
    """A compiled ChEES-HMC sampler (see the module docstring); same interface as NUTS."""

    warmup_in_one_call = True
    shardable = False  # the chains share one step size, metric and trajectory length

    def __init__(self, structure: Structure, settings: SamplerSettings):
        super().__init__(structure, settings)
        self.warmup_all = jax.jit(self._warmup_all)
        # ChEES's state holds its own energies: its start computes them (not log_density)
        self.init_at = jax.jit(self._init_at, compiler_options=ONE_SHOT)

    def sampler_data(self, data, scale: dict):
        """The model's data alone: ChEES adapts its own diagonal metric over the chains'
        spread (blackjax's adaptation has no fixed floor), so it moves in z."""
        return data

    # positions are ravelled per chain: blackjax works on flat vectors here
    def _flat(self, z):

        one = jax.tree.map(lambda a: a[0], z)
        unravel = ravel_pytree(one)[1]
        flat = jax.vmap(lambda c: ravel_pytree(c)[0])(z)
        return flat, unravel

    def _logdensity(self, data, unravel):
        pe = self._pe_gen(data)
        return lambda x: -pe(unravel(x))

    def _init_at(self, keys, data, z, inverse_mass):
        def one_problem(k, d, zz, im):
            flat, unravel = self._flat(zz)
            ld = self._logdensity(d, unravel)
            v, g = jax.vmap(jax.value_and_grad(ld))(flat)
            dim = flat.shape[1]
            im = jnp.diag(im) if im.ndim == 2 else im  # ChEES adapts a diagonal metric
            return CheesState(
                z=zz,
                potential_energy=-v,
                z_grad=jax.vmap(unravel)(-g),
                random_generator_arg=jnp.zeros(flat.shape[0], dtype=int),
                rng_key=k,
                step_size=jnp.asarray(0.1),
                inverse_mass_matrix=jnp.broadcast_to(im, (dim,)),
                num_leapfrog_steps=jnp.asarray(1.0),
            )

        return jax.vmap(one_problem)(keys, data, z, inverse_mass)

    def _warmup_all(self, state: CheesState, data) -> CheesState:

        s = self.settings

        def one_problem(st, d):
            flat, unravel = self._flat(st.z)
            ld = self._logdensity(d, unravel)
            # a diagonal metric estimated over the ensemble in the second half of warm-up:
            # force-field parameters differ in scale by orders of magnitude
            adapt = blackjax.chees_adaptation(
                ld,
                s.chains,
                target_acceptance_rate=s.target_accept,
                max_leapfrog_steps=1000,
                mass_matrix_estimation="diagonal",
            )
            (last, params), _ = adapt.run(
                st.rng_key[0],
                flat,
                step_size=st.step_size,
                optim=optax.adam(0.05),
                num_steps=s.warmup,
                max_sampling_steps=_MAX_ITERATIONS,
            )
            return st._replace(
                z=jax.vmap(unravel)(last.position),
                potential_energy=-last.logdensity,
                z_grad=jax.vmap(unravel)(-last.logdensity_grad),
                random_generator_arg=last.random_generator_arg,
                rng_key=jax.vmap(lambda k: jax.random.fold_in(k, s.warmup))(st.rng_key),
                step_size=params["step_size"],
                inverse_mass_matrix=params["inverse_mass_matrix"],
                num_leapfrog_steps=params["integration_steps_params"][0],
            )

        return jax.vmap(one_problem)(state, data)

    def _run_block(self, state: CheesState, data, n):

        block = self.settings.block
        step = build_kernel(
            next_random_arg_fn=lambda i: i + 1,
            integration_steps_fn=_integration_steps(self.settings.warmup),
        )

        def one_problem(st, d):
            flat, unravel = self._flat(st.z)
            ld = self._logdensity(d, unravel)
            ravel_g = self._flat(st.z_grad)[0]
            hmc = DynamicHMCState(flat, -st.potential_energy, -ravel_g, st.random_generator_arg)

            def body(i, carry):
                hs, keys, buf = carry
                keys, sub = jax.vmap(lambda k: tuple(jax.random.split(k)))(keys)
                hs, info = jax.vmap(
                    lambda k, h: step(
                        k, h, ld, st.step_size, st.inverse_mass_matrix, (st.num_leapfrog_steps,)
                    )
                )(sub, hs)
                rec = Trace(
                    jax.vmap(unravel)(hs.position),
                    info.is_divergent,
                    info.energy,
                    info.num_integration_steps,
                    info.acceptance_rate,
                    -hs.logdensity,
                    jnp.broadcast_to(st.step_size, hs.logdensity.shape),
                )
                buf = jax.tree.map(lambda b, r: b.at[i].set(r), buf, rec)
                return hs, keys, buf

            rec0 = Trace(
                st.z,
                jnp.zeros(flat.shape[0], bool),
                st.potential_energy,
                jnp.zeros(flat.shape[0], int),
                st.potential_energy,
                st.potential_energy,
                jnp.broadcast_to(st.step_size, st.potential_energy.shape),
            )
            buf0 = jax.tree.map(lambda r: jnp.zeros((block, *r.shape), r.dtype), rec0)
            hs, keys, buf = jax.lax.fori_loop(0, n, body, (hmc, st.rng_key, buf0))
            new = st._replace(
                z=jax.vmap(unravel)(hs.position),
                potential_energy=-hs.logdensity,
                z_grad=jax.vmap(unravel)(-hs.logdensity_grad),
                random_generator_arg=hs.random_generator_arg,
                rng_key=keys,
            )
            return new, buf

        new, buf = jax.vmap(one_problem)(state, data)
        # (P, block, C, ...) -> (block, P, C, ...) as for NUTS
        return new, jax.tree.map(lambda b: jnp.swapaxes(b, 0, 1), buf)
