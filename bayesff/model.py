r"""From a :class:`~bayesff.problem.Problem` to a NumPyro model.

For each free parameter :math:`\theta_k` (in the problem's unit, e.g.
epsilon/k_B in K) a prior is drawn from the problem or from the potential's
default; the potential receives :math:`\theta_k` converted to internal units.
For each target with training rows :math:`i`,

.. math:: y_i \sim N\!\left(f_i(\theta),\ \sqrt{u_i^2 + \tau^2 s_i^2}\right)

where :math:`f_i` is the forward model, :math:`u_i` the data's standard
uncertainty and the inadequacy term :math:`\tau` is present only for
``inadequacy = "inferred_scale"`` (see :class:`bayesff.targets.Inadequacy`).

Observed values and environments are *arguments* of the model, not closed
over, so that one compiled model serves any data of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from bayesff import units
from bayesff.problem import Problem

__all__ = ["CompiledProblem", "build_model"]


@dataclass
class CompiledProblem:
    """A problem turned into functions of arrays.

    Attributes
    ----------
    model
        ``model(data)``: the NumPyro model; ``data`` as from :meth:`data`.
    free
        Names of the sampled potential parameters.
    tau_names
        Names of the inadequacy scales, one per target that has one.
    to_params
        ``to_params(theta) -> dict``: sampled values (problem units) to the
        potential's full parameter dict in internal units (fixed ones added).
    predicts
        One ``predict(params, env)`` per target.
    """

    problem: Problem
    model: object
    free: list[str]
    tau_names: dict[str, str]
    to_params: object
    predicts: list

    def data(self, rows: str = "train", values=None) -> tuple:
        """Model arguments for the training rows (or ``rows="all"``).

        ``values`` replaces the observed values (list per target), e.g. with
        synthetic data; ``None`` entries mean "sample them" (prior predictive).
        """
        out = []
        for k, t in enumerate(self.problem.targets):
            m = t.train if rows == "train" else np.ones(t.n, bool)
            env = {c: jnp.asarray(t.env[c][m]) for c in t.observable.env_columns}
            y = t.values[m] if values is None else values[k]
            out.append(
                (
                    env,
                    None if y is None else jnp.asarray(y),
                    jnp.asarray(t.uncertainties[m]),
                    jnp.asarray(np.abs(t.values[m])),
                )
            )
        return tuple(out)


def noise_scale(target, u, scale, tau):
    """Total standard deviation of an observation: data uncertainty and inadequacy."""
    if target.inadequacy.kind == "inferred_scale":
        s = scale if target.inadequacy.form == "relative" else 1.0
        return jnp.sqrt(u**2 + (tau * s) ** 2)
    return u


def build_model(problem: Problem) -> CompiledProblem:
    """Build the NumPyro model of a problem.

    Returns
    -------
    CompiledProblem
        The model, and the helpers that the inference layer uses to map draws
        to the potential's parameters and to predictions.
    """
    import numpyro
    import numpyro.distributions as dist

    free = problem.free_parameters
    specs = {s.name: s for s in problem.potential.params}
    priors = {n: problem.parameters[n].prior.to_numpyro() for n in free}
    factors = {n: units.factor(problem.parameters[n].unit, specs[n].dimension) for n in free}
    fixed = {
        n: jnp.asarray(problem.to_internal(n, p.value))
        for n, p in problem.parameters.items()
        if p.fixed
    }
    nodes = problem.inference.nodes_per_panel
    predicts = [
        t.observable.build(problem.potential, nodes_per_panel=nodes) for t in problem.targets
    ]
    tau_names = {
        t.name: f"tau_{t.name}" for t in problem.targets if t.inadequacy.kind == "inferred_scale"
    }

    def to_params(theta):
        return {**fixed, **{n: theta[n] * factors[n] for n in free}}

    def model(data):
        theta = {n: numpyro.sample(n, priors[n]) for n in free}
        params = to_params(theta)
        for t, predict, (env, y, u, scale) in zip(problem.targets, predicts, data, strict=True):
            mu = predict(params, env)
            tau = None
            if t.name in tau_names:
                tau = numpyro.sample(tau_names[t.name], dist.HalfNormal(t.inadequacy.prior_scale))
            sigma = noise_scale(t, u, scale, tau)
            # A non-finite prediction means the forward model failed at these
            # parameters. Reject the proposal (log density -inf) instead of
            # letting NaN reach the sampler, and keep the likelihood finite.
            ok = jnp.all(jnp.isfinite(mu))
            numpyro.factor(f"valid_{t.name}", jnp.where(ok, 0.0, -jnp.inf))
            mu = jnp.where(jnp.isfinite(mu), mu, 0.0)
            numpyro.sample(t.name, dist.Normal(mu, sigma), obs=y)

    return CompiledProblem(problem, model, free, tau_names, to_params, predicts)


def predict_draws(cp: CompiledProblem, theta: dict, k: int):
    """Model predictions of target ``k`` at all its rows for each draw.

    ``theta`` maps free parameter names to arrays of draws (any leading shape);
    returns an array of that shape plus (rows,).
    """
    t = cp.problem.targets[k]
    env = {c: jnp.asarray(t.env[c]) for c in t.observable.env_columns}
    lead = np.shape(theta[cp.free[0]])
    flat = {n: jnp.reshape(jnp.asarray(theta[n]), (-1,)) for n in cp.free}
    f = jax.jit(jax.vmap(lambda th: cp.predicts[k](cp.to_params(th), env)))
    return np.asarray(f(flat)).reshape((*lead, t.n))
