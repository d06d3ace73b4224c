r"""From a :class:`~bayesff.problem.Problem` to a NumPyro model.

For each free parameter :math:`\theta_k` (in the problem's unit, e.g.
epsilon/k_B in K) a prior is drawn from the problem or from the potential's
default; the potential receives :math:`\theta_k` converted to internal units.
Each target with training rows adds a Gaussian likelihood with the data's
standard uncertainties and its model-inadequacy term
(:class:`bayesff.targets.Inadequacy`: none, an inferred error scale,
hierarchical per-environment parameters, or a GP discrepancy). Targets without
training rows are only predicted.

Observed values are *arguments* of the model, not closed over, so that one
compiled model serves any data of the same shape (synthetic data sets,
checkpoint chunks). The same :func:`mean_prediction` gives the model mean in
the likelihood and in the run file, at training and at held-out rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from bayesff import units
from bayesff.problem import Problem
from bayesff.targets import Target

__all__ = ["CompiledProblem", "build_model", "mean_prediction", "noise_scale"]

#: Half-width of the HSGP box, in units of the scaled coordinate's range [-1, 1].
_GP_BOX = 1.5


@dataclass
class _Layout:
    """Static description of one target's rows, fixed when the model is built."""

    env_all: dict  # column -> (n,) internal units, all rows
    train_idx: np.ndarray
    band: np.ndarray  # (n,) band index for hierarchical; held-out rows get -1
    x_scaled: np.ndarray | None  # (n,) GP coordinate scaled to [-1, 1]
    pooled: tuple[str, ...]


@dataclass
class CompiledProblem:
    """A problem turned into functions of arrays.

    Attributes
    ----------
    model
        ``model(data)``: the NumPyro model; ``data`` as from :meth:`data`.
    free
        Names of the sampled potential parameters.
    latent_names
        Every latent site the posterior holds, in order (parameters first).
    to_params
        ``to_params(theta) -> dict``: sampled values (problem units) to the
        potential's full parameter dict in internal units (fixed ones added).
    predicts
        One ``predict(params, env)`` per target.
    """

    problem: Problem
    model: object
    free: list[str]
    latent_names: list[str]
    to_params: object
    predicts: list
    layouts: list

    def data(self, rows: str = "train", values=None) -> tuple:
        """Model arguments: per target (y, u) at its training rows.

        ``values`` replaces the observed values (list per target), e.g. with
        synthetic data; ``None`` entries mean "sample them" (prior predictive).
        """
        out = []
        for k, t in enumerate(self.problem.targets):
            m = t.train if rows == "train" else np.ones(t.n, bool)
            y = t.values[m] if values is None else values[k]
            out.append((None if y is None else jnp.asarray(y), jnp.asarray(t.uncertainties[m])))
        return tuple(out)


def noise_scale(target: Target, u, mu, tau):
    """Standard deviation of an observation: data uncertainty and inferred scale.

    ``mu`` is the model mean (the relative scale uses |mu|, so that no observed
    value, training or held-out, sets a predictive width).
    """
    if target.inadequacy.kind == "inferred_scale":
        s = jnp.abs(mu) if target.inadequacy.form == "relative" else 1.0
        return jnp.sqrt(u**2 + (tau * s) ** 2)
    return u


def _layout(t: Target, free: list[str], energy_params=()) -> _Layout:
    env_all = {c: np.asarray(t.env[c]) for c in t.observable.env_columns}
    train_idx = np.flatnonzero(t.train)
    band = np.full(t.n, -1)
    x_scaled = None
    pooled: tuple[str, ...] = ()
    inad = t.inadequacy
    x = env_all[t.observable.env_columns[0]]
    if inad.kind == "hierarchical":
        pooled = tuple(inad.parameters or [n for n in free if n in energy_params])
        order = train_idx[np.argsort(x[train_idx], kind="stable")]
        for b, chunk in enumerate(np.array_split(order, inad.bands)):
            band[chunk] = b
    if inad.kind == "gp":
        lo, hi = float(x.min()), float(x.max())
        x_scaled = (2.0 * (x - lo) / (hi - lo) - 1.0) if hi > lo else np.zeros_like(x)
    return _Layout(env_all, train_idx, band, x_scaled, pooled)


def _gp_basis(x_scaled, m: int):
    from numpyro.contrib.hsgp.laplacian import eigenfunctions

    return eigenfunctions(x=jnp.asarray(x_scaled), ell=_GP_BOX, m=m)


def _gp_spd(alpha, length, m: int):
    from numpyro.contrib.hsgp.spectral_densities import diag_spectral_density_squared_exponential

    return jnp.sqrt(
        diag_spectral_density_squared_exponential(
            alpha=alpha, length=length, ell=_GP_BOX, m=m, dim=1
        )
    )


def mean_prediction(cp: CompiledProblem, k: int, latent: dict, rows: np.ndarray, new_z=None):
    """Model mean of target ``k`` at ``rows`` for one set of latent values.

    Parameters
    ----------
    latent
        Values of the latent sites (parameters in problem units, inadequacy
        variables), unbatched.
    rows
        Row indices of the target (training or held-out).
    new_z
        Hierarchical targets: dict parameter -> z of a new environment, used
        for rows outside every training band (held-out rows).
    """
    t = cp.problem.targets[k]
    lay = cp.layouts[k]
    predict = cp.predicts[k]
    # NumPy, not jnp: the states stay concrete while the model is traced, so forward
    # models can check them or key per-state work on them (structure, md_targets)
    env = {c: np.asarray(v[rows]) for c, v in lay.env_all.items()}
    params = cp.to_params(latent)
    inad = t.inadequacy
    if inad.kind == "hierarchical":
        band = lay.band[rows]
        rows_params = {}
        for name, value in params.items():
            if name in lay.pooled:
                eta = latent[f"eta_{name}_{t.name}"]  # log-deviation per band
                omega = latent[f"omega_{name}_{t.name}"]
                eta_new = omega * (new_z[name] if new_z is not None else 0.0)
                eta_rows = jnp.where(band >= 0, eta[np.maximum(band, 0)], eta_new)
                rows_params[name] = value * jnp.exp(eta_rows)
            else:
                rows_params[name] = jnp.broadcast_to(value, band.shape)
        # one parameter set per row: the forward model is vmapped over rows
        return jax.vmap(lambda p, e: predict(p, e))(rows_params, env)
    mu = predict(params, env)
    if inad.kind == "gp":
        phi = _gp_basis(lay.x_scaled[rows], inad.gp_basis)
        spd = _gp_spd(latent[f"alpha_{t.name}"], latent[f"length_{t.name}"], inad.gp_basis)
        g = phi @ (spd * latent[f"beta_{t.name}"])
        s = jnp.abs(mu) if inad.form == "relative" else 1.0
        mu = mu + s * g
    return mu


def _target_predict(problem: Problem, t: Target, nodes: int):
    """The forward model of a target, under its own cut-off convention if it has one."""
    opts = {"nodes_per_panel": nodes, **t.options}
    if t.cutoff is None:
        return t.observable.build(problem.potential, **opts)
    from bayesff.problem import wrap_cutoff

    pot = wrap_cutoff(problem.base_potential, t.cutoff)
    if t.repair == "match_b2":
        from bayesff.observables.conventions import matched_predict

        return matched_predict(
            t.observable,
            problem.potential,
            pot,
            nodes_per_panel=nodes,
            reference_T_K=t.repair_reference_T_K,
        )
    return t.observable.build(pot, **opts)


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
    predicts = [_target_predict(problem, t, nodes) for t in problem.targets]
    energy = [n for n in free if specs[n].dimension == "energy"]
    layouts = [_layout(t, free, energy) for t in problem.targets]

    # inadequacy latent sites: name -> distribution factory
    inad_sites: list[tuple[str, object]] = []
    for t, lay in zip(problem.targets, layouts, strict=True):
        i = t.inadequacy
        if i.kind == "inferred_scale":
            inad_sites.append((f"tau_{t.name}", dist.HalfNormal(i.prior_scale)))
        elif i.kind == "hierarchical":
            for q in lay.pooled:
                inad_sites.append((f"omega_{q}_{t.name}", dist.HalfNormal(i.prior_scale)))
                # centred: each band is pinned by its own data (B2 bands hold
                # several precise points), where a non-centred form diverges
                inad_sites.append((f"eta_{q}_{t.name}", (f"omega_{q}_{t.name}", i.bands)))
        elif i.kind == "gp":
            inad_sites.append((f"alpha_{t.name}", dist.HalfNormal(i.prior_scale)))
            inad_sites.append((f"length_{t.name}", dist.LogNormal(np.log(0.5), 0.5)))
            inad_sites.append((f"beta_{t.name}", dist.Normal(0.0, 1.0).expand([i.gp_basis])))

    def to_params(theta):
        return {**fixed, **{n: theta[n] * factors[n] for n in free}}

    cp = CompiledProblem(
        problem, None, free, [*free, *(n for n, _ in inad_sites)], to_params, predicts, layouts
    )

    def model(data):
        latent = {n: numpyro.sample(n, priors[n]) for n in free}
        for name, d in inad_sites:
            if isinstance(d, tuple):  # centred hierarchical: N(0, omega) per band
                scale_name, n_bands = d
                d = dist.Normal(0.0, latent[scale_name]).expand([n_bands])
            latent[name] = numpyro.sample(name, d)
        for k, (t, lay, (y, u)) in enumerate(zip(problem.targets, layouts, data, strict=True)):
            if lay.train_idx.size == 0:
                continue  # predicted only
            mu = mean_prediction(cp, k, latent, lay.train_idx)
            sigma = noise_scale(t, u, mu, latent.get(f"tau_{t.name}"))
            # A non-finite prediction means the forward model failed at these
            # parameters. Reject the proposal (log density -inf) instead of
            # letting NaN reach the sampler, and keep the likelihood finite.
            ok = jnp.all(jnp.isfinite(mu)) & jnp.all(jnp.isfinite(sigma) & (sigma > 0))
            numpyro.factor(f"valid_{t.name}", jnp.where(ok, 0.0, -jnp.inf))
            if y is not None:
                # keep the (rejected) likelihood finite so that no NaN reaches NUTS
                mu = jnp.where(jnp.isfinite(mu), mu, 0.0)
                sigma = jnp.where(jnp.isfinite(sigma) & (sigma > 0), sigma, 1.0)
            # without data (prior predictive) a failed forward model stays NaN
            numpyro.sample(t.name, dist.Normal(mu, sigma), obs=y)

    cp.model = model
    return cp


def predict_draws(cp: CompiledProblem, post: dict, k: int, rows: np.ndarray, rng=None):
    """Model means of target ``k`` at ``rows`` for every posterior draw.

    ``post`` maps latent names to arrays with leading (chain, draw) axes.
    Held-out rows of a hierarchical target get a new environment: one fresh
    z ~ N(0, 1) per pooled parameter, draw and held-out group (``rng``).
    Returns an array (chain, draw, len(rows)).
    """
    t = cp.problem.targets[k]
    lay = cp.layouts[k]
    lead = np.shape(post[cp.free[0]])[:2]
    n = int(np.prod(lead))
    flat = {
        name: jnp.reshape(jnp.asarray(post[name]), (n, *np.shape(post[name])[2:]))
        for name in cp.latent_names
    }
    rows = np.asarray(rows)
    if t.inadequacy.kind == "hierarchical" and np.any(lay.band[rows] < 0):
        rng = rng or np.random.default_rng(0)
        groups = _holdout_group_index(t, rows)
        out = np.empty((n, rows.size))
        for g in np.unique(groups):
            sel = rows[groups == g]
            new_z = {q: jnp.asarray(rng.standard_normal(n)) for q in lay.pooled}
            f = jax.jit(jax.vmap(lambda lat, z, sel=sel: mean_prediction(cp, k, lat, sel, z)))
            out[:, groups == g] = np.asarray(f(flat, new_z))
        return out.reshape((*lead, rows.size))
    f = jax.jit(jax.vmap(lambda lat: mean_prediction(cp, k, lat, rows)))
    return np.asarray(f(flat)).reshape((*lead, rows.size))


def _holdout_group_index(t: Target, rows: np.ndarray) -> np.ndarray:
    """Index of the held-out group of each row (-1 for training rows)."""
    idx = np.full(rows.size, -1)
    for g, (_, mask) in enumerate(t.holdout.items()):
        idx[mask[rows]] = g
    return idx
