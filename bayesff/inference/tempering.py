r"""Parallel tempering with NUTS within (``sampler = "tempered"``), for posteriors with
modes between which NUTS passes rarely.

Each chain of the run is a ladder of K replicas at inverse temperatures
1 = beta_0 > beta_1 > ... > beta_{K-1} = 1 / ``max_temperature`` (geometric). Replica k
samples the posterior with its likelihood tempered,

.. math::

    \pi_k(\theta) \propto p(\theta)\, p(y \mid \theta)^{\beta_k},

so the hot replicas see the prior's breadth and cross the valleys between modes that
the likelihood digs. After every NUTS step of every replica, neighbouring replicas
propose to exchange their positions, accepted with probability
min(1, exp[(beta_k - beta_{k+1}) (L_{k+1} - L_k)]) (L the log-likelihood; Geyer,
Computing Science and Statistics 23, 156 (1991)); pairs (0, 1), (2, 3), ... on even
iterations and (1, 2), (3, 4), ... on odd ones (the deterministic even-odd scheme of
Syed, Bouchard-Cote, Deligiannidis and Doucet, J. R. Stat. Soc. B 84, 321 (2022),
which moves a position along the ladder in O(K) iterations rather than O(K^2)). Only
the cold replica's draws are the posterior's; they are what a run keeps. Every
replica adapts its own step size and mass matrix in warm-up (numpyro's windowed
adaptation), with exchanges on throughout.

Why written here: numpyro has no replica exchange, and blackjax none for NUTS; the
exchange step is 30 lines on top of numpyro's NUTS kernel, which the package's other
samplers already use.

The tempered likelihood is every observed site of the model (its ``scale`` times
beta): the data's terms and the validity factors. The exchange needs each replica's
L, which follows from its tempered potential U_k = -log p(theta) - beta_k L without
running the forward models again: U_0 = -log p(theta) comes from the model with its
observed sites hidden (:func:`numpyro.handlers.block`), whose compiled program holds
no forward model, and L = (U_0 - U_k) / beta_k. A replica that receives another's
position gets its potential and gradient at its own beta the same way.

Cost: K NUTS steps per iteration (each replica's trees), against the cold chain's
alone for NUTS; a posterior with well-separated modes pays that back when NUTS would
need K times the draws or more to pass between them (docs/atlas.md measures it). The
run's ``num_steps`` are the cold replica's; each replica's leapfrog steps and the exchange
acceptance of each pair are logged and recorded in the run file
(``replica_leapfrog_steps``, ``swap_acceptance``). The cold replica's energies include
the jumps of the exchanges, so its E-BFMI reads higher than the NUTS transitions alone
would give.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.handlers import block
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.util import potential_energy
from numpyro.primitives import Messenger

from bayesff.inference.exported import register_pytrees
from bayesff.inference.kernels import Kernel, SamplerSettings, Scaled, Trace, _times
from bayesff.model import Structure

__all__ = ["TemperedKernel", "TemperedState", "ladder", "replica_steps", "swap_acceptance"]


def ladder(temperatures: int, max_temperature: float) -> np.ndarray:
    """Inverse temperatures beta_k = max_temperature ** (-k / (K - 1)), k = 0 .. K-1
    (geometric; beta_0 = 1). ``temperatures`` = 1 gives [1.0]."""
    if temperatures == 1:
        return np.ones(1)
    k = np.arange(temperatures) / (temperatures - 1)
    return float(max_temperature) ** -k


class TemperedState(NamedTuple):
    """Every replica of every chain of every problem.

    ``nuts`` leaves are (P, C, K, ...) (K replicas, the cold one first); ``key`` (P, C, 2)
    draws the exchanges; ``tried`` and ``accepted`` (P, C, K - 1) count the exchanges
    proposed and accepted between replicas k and k + 1 since the start; ``steps`` (P, C,
    K) each replica's leapfrog steps since the start (what the run cost).
    """

    nuts: HMCState
    key: jax.Array
    tried: jax.Array
    accepted: jax.Array
    steps: jax.Array

    @property
    def potential_energy(self):
        """The cold replicas' potential energies, (P, C) (as a NUTS state's)."""
        return self.nuts.potential_energy[:, :, 0]

    @property
    def z_grad(self):
        """The cold replicas' gradients, site -> (P, C, ...) (as a NUTS state's)."""
        return jax.tree.map(lambda a: a[:, :, 0], self.nuts.z_grad)


class _Tempered(Messenger):
    """Multiplies the log density of every observed site by ``beta``."""

    def __init__(self, fn, beta):
        self.beta = beta
        super().__init__(fn)

    def process_message(self, msg):
        if _observed(msg):
            msg["scale"] = self.beta if msg["scale"] is None else self.beta * msg["scale"]


def _observed(msg) -> bool:
    return msg["type"] == "sample" and msg["is_observed"]


def swap_acceptance(state: TemperedState) -> np.ndarray:
    """Accepted fraction of the proposed exchanges between replicas k and k + 1, (P, K - 1),
    pooled over chains (NaN where none was proposed)."""
    tried = np.asarray(state.tried).sum(axis=1)
    accepted = np.asarray(state.accepted).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tried > 0, accepted / np.maximum(tried, 1), np.nan)


def replica_steps(state: TemperedState) -> np.ndarray:
    """Leapfrog steps of each replica since the start, warm-up included, summed over
    chains: (P, K), the cold replica first."""
    return np.asarray(state.steps).sum(axis=1)


def _rungs(x, n: int):
    """Broadcast a (K,) vector against leaves of shape (K, ...)."""
    return x.reshape(x.shape + (1,) * (n - 1))


class TemperedKernel(Kernel):
    """A compiled replica-exchange NUTS sampler (module docstring); the interface of
    :class:`~bayesff.inference.kernels.Kernel`, whose draws are the cold replicas'."""

    # chains may be split over devices as NUTS's are: a chain's replicas, which meet at
    # every iteration, stay on one device (the state's leaves are (P, C, K, ...))

    def __init__(self, structure: Structure, settings: SamplerSettings):
        register_pytrees(TemperedState)
        super().__init__(structure, settings)
        self.betas = ladder(settings.temperatures, settings.max_temperature)
        model = self._model

        def tempered_gen(data, beta):
            tempered = _Tempered(model, beta)
            pe = functools.partial(potential_energy, tempered, (data.data,), {})
            return lambda w: pe(_times(w, data.scale))

        def prior_gen(data):
            hidden = block(model, hide_fn=_observed)
            pe = functools.partial(potential_energy, hidden, (data.data,), {})
            return lambda w: pe(_times(w, data.scale))

        self._prior_gen = prior_gen
        self._init_t, self._sample_t = hmc(potential_fn_gen=tempered_gen, algo="NUTS")

    # ------------------------------------------------------------------- start
    def _start_from(self, keys, data, z, inverse_mass, pe, grad):
        """Every replica of a chain at the chain's start ``z`` (model coordinates), with
        its tempered potential and gradient from the full ones (``pe``, ``grad``) and the
        prior's."""
        betas = jnp.asarray(self.betas)
        k = len(self.betas)

        def one(d_im, k_z):
            d, im = d_im
            key, zz, (u1, g1) = k_z
            w, g1, im = self._sampler_coordinates(d, zz, g1, im)
            u0, g0 = jax.value_and_grad(self._prior_gen(d))(w)
            keys_k = jax.random.split(key, k + 1)

            def replica(kk, beta):
                pe_b = u0 + beta * (u1 - u0)
                g_b = jax.tree.map(lambda a, b: a + beta * (b - a), g0, g1)
                return self._nuts_init(self._init_t, kk, w, im, pe_b, g_b, (d, beta))

            nuts = jax.vmap(replica)(keys_k[1:], betas)
            return nuts, keys_k[0]

        nuts, swap_keys = self._over_chains(one, (data, inverse_mass), (keys, z, (pe, grad)))
        counts = jnp.zeros((*swap_keys.shape[:2], k - 1), jnp.int32)
        steps = jnp.zeros((*swap_keys.shape[:2], k), jnp.int32)
        return TemperedState(nuts, swap_keys, counts, counts, steps)

    def sampler_data(self, data, scale: dict):
        """Always :class:`~bayesff.inference.kernels.Scaled` (scale 1 without a Laplace
        start): the tempered potentials are built on it."""
        return Scaled(data, scale)

    # -------------------------------------------------------------- iterations
    def _exchange(self, key, nuts, u0, g0, parity):
        """One round of exchanges between neighbouring replicas of one chain (leaves
        (K, ...)): the pairs (k, k + 1) with k % 2 == parity. Returns the new states,
        and which pairs were proposed and accepted."""
        betas = jnp.asarray(self.betas)
        k = len(self.betas)
        loglik = (u0 - nuts.potential_energy) / betas
        pair = jnp.arange(k - 1)
        proposed = pair % 2 == parity
        log_ratio = (betas[:-1] - betas[1:]) * (loglik[1:] - loglik[:-1])
        u = jax.random.uniform(key, (k - 1,))
        # a NaN ratio (a replica without a density) is never accepted
        accepted = proposed & (jnp.log(u) < log_ratio)
        no = jnp.zeros(1, bool)
        src = jnp.arange(k)
        src = jnp.where(jnp.concatenate([accepted, no]), src + 1, src)
        src = jnp.where(jnp.concatenate([no, accepted]), src - 1, src)
        moved = src != jnp.arange(k)

        def take(a):
            return a[src]

        w = jax.tree.map(take, nuts.z)
        g0_new = jax.tree.map(take, g0)
        beta_src = betas[src]
        # L and its gradient at the received position, then U and its gradient at beta_k
        ll = loglik[src]
        pe = jnp.where(moved, u0[src] - betas * ll, nuts.potential_energy)
        grad = jax.tree.map(
            lambda g0_, gu, old: jnp.where(
                _rungs(moved, gu.ndim),
                g0_ - _rungs(betas, gu.ndim) * (g0_ - gu) / _rungs(beta_src, gu.ndim),
                old,
            ),
            g0_new,
            jax.tree.map(take, nuts.z_grad),
            nuts.z_grad,
        )
        nuts = nuts._replace(z=w, z_grad=grad, potential_energy=pe)
        return nuts, proposed, accepted

    def _run_block(self, state: TemperedState, data, n):
        block_len = self.settings.block
        betas = jnp.asarray(self.betas)
        k = len(self.betas)

        def record(nuts, d):
            cold = jax.tree.map(lambda a: a[:, :, 0], nuts)
            # scale leaves are (P, ...), the cold replicas' (P, C, ...)
            scale = jax.tree.map(lambda a: a[:, None], d.scale)
            return Trace(
                _times(cold.z, scale),
                cold.diverging,
                cold.energy,
                cold.num_steps,
                cold.accept_prob,
                cold.potential_energy,
                cold.adapt_state.step_size,
            )

        def step(d, sb):
            st, beta = sb
            st = self._sample_t(st, model_args=(d, beta))
            u0, g0 = jax.value_and_grad(self._prior_gen(d))(st.z)
            return st, u0, g0

        def body(i, carry):
            st, buf = carry
            n_p, n_c = st.key.shape[:2]
            flat = jax.tree.map(lambda a: a.reshape(n_p, n_c * k, *a.shape[3:]), st.nuts)
            beta_flat = jnp.broadcast_to(betas, (n_p, n_c, k)).reshape(n_p, n_c * k)
            flat, u0, g0 = self._over_chains(step, data, (flat, beta_flat))
            nuts, u0, g0 = jax.tree.map(
                lambda a: a.reshape(n_p, n_c, k, *a.shape[2:]), (flat, u0, g0)
            )
            # the NUTS step's statistics are the cold replica's before the exchange;
            # its position and potential energy after it
            pre = nuts
            keys = jax.vmap(jax.vmap(lambda kk: jnp.stack(jax.random.split(kk))))(st.key)
            parity = nuts.i[0, 0, 0] % 2
            per_chain = (0, 0, 0, 0, None)
            ex = jax.vmap(jax.vmap(self._exchange, in_axes=per_chain), in_axes=per_chain)
            nuts, proposed, accepted = ex(keys[:, :, 1], nuts, u0, g0, parity)
            rec = record(pre, data)._replace(
                z=record(nuts, data).z, potential_energy=nuts.potential_energy[:, :, 0]
            )
            buf = jax.tree.map(lambda b, r: b.at[i].set(r), buf, rec)
            st = TemperedState(
                nuts,
                keys[:, :, 0],
                st.tried + proposed.astype(jnp.int32),
                st.accepted + accepted.astype(jnp.int32),
                st.steps + pre.num_steps.astype(jnp.int32),
            )
            return st, buf

        rec0 = record(state.nuts, data)
        buf0 = jax.tree.map(lambda r: jnp.zeros((block_len, *r.shape), r.dtype), rec0)
        return jax.lax.fori_loop(0, n, body, (state, buf0))
