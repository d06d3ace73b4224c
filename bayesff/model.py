r"""From a :class:`~bayesff.problem.Problem` to a NumPyro model whose data are arguments.

A problem splits in two here:

* its **structure** (:class:`Structure`, hashable): the potential, the forward
  model of each target and its options, which parameters are sampled and
  with which prior family, the inadequacy and nuisance terms, and the shapes
  of the target arrays;
* its **arrays** (:func:`arrays`, a pytree of NumPy arrays): observed values
  and uncertainties, environments, priors' hyper-parameters, fixed parameter
  values, masks of padded rows.

:func:`model_of` builds the NumPyro model from the structure alone, and the
model reads every number from its ``data`` argument. Two problems with the
same structure therefore share one model function, and a sampler compiled
for one (:mod:`bayesff.inference`) serves the other without tracing again:
another fluid's B2, a bootstrap resample, other priors.

For each free parameter :math:`\theta_k` (in the problem's unit, e.g.
epsilon/k_B in K) the prior is drawn in that unit and multiplied by the
unit's factor to the internal unit before the potential sees it. Each target
with training rows adds a likelihood

.. math:: y_i \sim N\left(f_i(\theta, b),\ \sqrt{u_i^2 + \tau^2 s_i^2 + e_i^2}\right)

with the data's standard uncertainty :math:`u_i`, the inadequacy term of
:class:`bayesff.targets.Inadequacy` (:math:`\tau`, hierarchical or GP),
nuisance parameters :math:`b` of the observable (an energy offset) and a
floor :math:`e_i` that the forward model's own validated error sets
(integral-equation closures, :mod:`bayesff.observables.liquid`). Vector
observations (the forces of one configuration) are one event per row, so the
pointwise log-likelihood has one entry per row.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.contrib.hsgp.laplacian import eigenfunctions
from numpyro.contrib.hsgp.spectral_densities import diag_spectral_density_squared_exponential
from numpyro.distributions import constraints
from numpyro.distributions.transforms import PermuteTransform, Transform, biject_to
from tinygp import GaussianProcess, kernels
from tinygp.kernels import quasisep

from bayesff import sites, units
from bayesff.priors import DISTRIBUTIONS


def _restore_numpyro_submodules() -> None:
    """Bind every loaded ``numpyro.*`` submodule to its parent package again.

    ArviZ (arviz_base) lazy-loads numpyro with :class:`importlib.util.LazyLoader`; when
    ArviZ is imported before numpyro (a user's ``import arviz`` first), CPython 3.12.1's
    LazyLoader leaves ``numpyro.distributions`` without its ``distribution``
    attribute, and ``numpyro.factor`` then fails with an AttributeError. Idempotent and
    cheap (one pass over ``sys.modules``); called at import and whenever the model is
    traced, so the import order of a user's script does not matter.
    """
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("numpyro."):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if parent is not None and child not in vars(parent):
            setattr(parent, child, module)


_restore_numpyro_submodules()

__all__ = [
    "GP_BOX",
    "ModelData",
    "ParamStructure",
    "Structure",
    "TargetData",
    "TargetStructure",
    "arrays",
    "model_of",
    "pad_arrays",
    "pointwise_log_likelihood",
    "prior_distribution",
    "structure_of",
    "target_mean",
]


def prior_distribution(family: str, hyper):
    """The numpyro distribution of a prior family from its :meth:`PriorSpec.hyper` numbers.

    ``hyper`` may be traced (an argument of a compiled function).
    """
    h = hyper
    if family == "LogNormal":
        return dist.LogNormal(h[0], h[1])
    if family == "Normal":
        return dist.Normal(h[0], h[1])
    if family == "TruncatedNormal":
        return dist.TruncatedNormal(h[0], h[1], low=h[2], high=h[3])
    if family == "Uniform":
        return dist.Uniform(h[0], h[1])
    if family == "HalfNormal":
        return dist.HalfNormal(h[0])
    raise ValueError(
        f"unknown prior family {family!r}; expected one of {', '.join(DISTRIBUTIONS)}"
    )


#: Half-width of the HSGP box, in units of the scaled coordinate's range [-1, 1].
GP_BOX = 1.5


@dataclass(frozen=True)
class ParamStructure:
    """A potential parameter in the model: sampled with a prior family, or fixed.

    ``factor`` converts the problem's unit to the internal unit (a constant of
    the unit, so part of the structure); the prior's hyper-parameters are data.
    """

    name: str
    factor: float
    family: str | None  # None: fixed (its value is data)


@dataclass(frozen=True)
class TargetStructure:
    """What the model needs to know about a target before seeing its numbers."""

    name: str
    forward: object  # bayesff.targets.Forward: hashable, builds predict(params, env, **nuisance)
    n_rows: int  # training rows (padded rows included)
    value_shape: tuple[int, ...]
    env_shapes: tuple[tuple[str, tuple[int, ...]], ...]
    inadequacy: str  # none | inferred_scale | hierarchical | gp
    form: str  # relative | absolute
    bands: int
    gp_basis: int
    pooled: tuple[str, ...]
    nuisance: tuple[ParamStructure, ...]
    aux_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    error_model: str = "independent"
    fixed: tuple[str, ...] = ()  # potential parameters fixed per target (values are data)
    group: str = ""  # its group under the problem's pooling ("" none)
    # no training rows: the trained targets whose inferred scale its held-out rows borrow
    borrow: tuple[str, ...] = ()
    shared: str = ""  # the name of its shared inferred scale ("" its own)
    shared_owner: bool = False  # it samples the shared scale (the first trained target)
    # the target whose joint forward-model call gives its mean too ("" its own): same
    # forward model, own values and rows (a molecule's saturated density and vapour
    # pressure at the same temperatures: one phase-equilibrium solve, not two)
    mean_of: str = ""


@dataclass(frozen=True)
class Structure:
    """Everything that shapes the compiled model (hashable; see the module docstring)."""

    params: tuple[ParamStructure, ...]
    targets: tuple[TargetStructure, ...]
    pooled: tuple[str, ...] = ()  # parameters pooled over groups of targets
    groups: tuple[str, ...] = ()  # groups with training rows (their values are sites)
    new_groups: tuple[str, ...] = ()  # groups predicted from the population
    trend: tuple[str, ...] = ()  # pooled parameters with a trend in a covariate of the groups
    spread: bool = True  # False: prior_scale = 0, the groups lie on their trend exactly

    @property
    def free(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.family is not None)

    def pooling_sites(self) -> list[tuple[str, str]]:
        """The problem-level pooling's latent sites: (site name, role ``omega``,
        ``slope`` or ``group_value``)."""
        return [
            site
            for q in self.pooled
            for site in (
                *([(sites.omega(q, sites.POOLED), "omega")] if self.spread else []),
                *([(sites.slope(q), "slope")] if q in self.trend else []),
                *([(sites.group_value(q), "group_value")] if self.spread else []),
            )
        ]

    @functools.cached_property
    def latent_names(self) -> tuple[str, ...]:
        """Every latent site of the posterior, parameters first, in model order."""
        names = list(self.free) + [n for n, _ in self.pooling_sites()]
        for t in self.targets:
            names += [n for n, _ in _target_sites(t)]
        return tuple(names)

    @functools.cached_property
    def folded_names(self) -> tuple[str, ...]:
        """Latent sites sampled as |x| (their unconstrained x and -x are the same point)."""
        return tuple(n for t in self.trained() for n, role in _target_sites(t) if role == "tau")

    def site_roles(self) -> dict[str, tuple[str, str]]:
        """Every latent site of the targets -> (target name, role): ``nuisance``, ``tau``,
        ``omega``, ``eta``, ``alpha``, ``length``, ``beta``, ``delta_amplitude``,
        ``delta_length`` (parameters are not listed)."""
        roles = {n: (sites.POOLED, role) for n, role in self.pooling_sites()}
        return roles | {n: (t.name, role) for t in self.targets for n, role in _target_sites(t)}

    def new_environment_sites(self) -> tuple[str, ...]:
        """Sites drawn only at held-out rows: a hierarchical target's new environment per
        held-out group, and the pooling's new group per draw (the held-out log-likelihood
        is evaluated at the same draws as the predictions)."""
        pooled = tuple(
            sites.znew(q, sites.POOLED) for q in self.pooled if self.new_groups and self.spread
        )
        return (
            pooled
            + tuple(
                sites.znew(q, t.name)
                for t in self.trained()
                if t.inadequacy == "hierarchical"
                for q in t.pooled
            )
            + tuple(sites.borrowed(t.name) for t in self.targets if t.borrow)
        )

    def trained(self) -> tuple[TargetStructure, ...]:
        return tuple(t for t in self.targets if t.n_rows > 0)


def _own_tau(t: TargetStructure) -> str | None:
    """The inferred scale's site a target samples: its own, or its shared scale's when it
    is that scale's owner; None for the other targets of a shared scale."""
    if not t.shared:
        return sites.tau(t.name)
    return sites.tau(t.shared) if t.shared_owner else None


def _target_sites(t: TargetStructure) -> list[tuple[str, str]]:
    """Latent sites a target adds: (site name, role)."""
    out = [(sites.nuisance(p.name, t.name), "nuisance") for p in t.nuisance]
    if t.n_rows == 0:
        return out  # predicted only: no inadequacy term is learned
    if t.inadequacy == "inferred_scale":
        if tau := _own_tau(t):
            out.append((tau, "tau"))
    elif t.inadequacy == "hierarchical":
        for q in t.pooled:
            out += [(sites.omega(q, t.name), "omega"), (sites.eta(q, t.name), "eta")]
    elif t.inadequacy == "gp":
        out += [
            (sites.alpha(t.name), "alpha"),
            (sites.length(t.name), "length"),
            (sites.beta(t.name), "beta"),
        ]
    if t.error_model == "discrepancy_gp":
        out += [
            (sites.delta_amplitude(t.name), "delta_amplitude"),
            (sites.delta_length(t.name), "delta_length"),
        ]
    return out


# ----------------------------------------------------------------------------- from a problem


def structure_of(problem, n_rows: dict[str, int] | None = None) -> Structure:
    """The structure of a problem's model.

    Parameters
    ----------
    problem
        A validated :class:`~bayesff.problem.Problem`.
    n_rows
        Target name -> number of training rows to pad to (batches of problems
        with ragged data; default: each target's own count).
    """
    specs = {s.name: s for s in problem.potential.params}
    params = tuple(
        ParamStructure(
            n,
            units.factor(p.unit, specs[n].dimension),
            None if p.fixed else p.prior.dist,
        )
        for n, p in problem.parameters.items()
    )
    targets = []
    by_name = {t.name: t for t in problem.targets}
    rows_of = {
        t.name: int(t.train.sum()) if n_rows is None else int(n_rows[t.name])
        for t in problem.targets
    }
    owners: dict[str, str] = {}  # shared scale -> the first target with training rows
    for t in problem.targets:
        if t.inadequacy.shared and rows_of[t.name]:
            owners.setdefault(t.inadequacy.shared, t.name)
    for t in problem.targets:
        rows = rows_of[t.name]
        inad = t.inadequacy
        shared = inad.shared or ""
        borrow = () if rows else problem.borrowed_inadequacy(t)
        # a borrowing target takes its donors' form (its own may be left unset)
        form = by_name[borrow[0]].inadequacy.form if borrow else inad.form
        nuis = tuple(
            ParamStructure(n.name, n.factor, n.prior.dist) for n in t.nuisance_parameters()
        )
        targets.append(
            TargetStructure(
                name=t.name,
                forward=t.forward(problem),
                n_rows=rows,
                value_shape=tuple(t.values.shape[1:]),
                env_shapes=tuple((c, tuple(np.shape(v)[1:])) for c, v in sorted(t.env.items())),
                inadequacy="inferred_scale" if borrow else inad.kind if rows or shared else "none",
                form=form,
                bands=inad.bands,
                gp_basis=inad.gp_basis,
                pooled=problem.pooled_parameters(t) if inad.kind == "hierarchical" else (),
                nuisance=nuis,
                aux_shapes=tuple((k, np.shape(v)) for k, v in sorted((t.aux or {}).items())),
                error_model=t.error_model.kind,
                fixed=tuple(sorted(t.fixed)),
                group=t.group or "",
                borrow=borrow,
                shared=shared,
                shared_owner=owners.get(shared) == t.name,
            )
        )
    targets = _share_means(problem, targets)
    if problem.pooling is None:
        return Structure(tuple(params), tuple(targets))
    trained, new = problem.pooling_groups()
    trend = tuple(q for q in problem.pooling.parameters if q in (problem.pooling.covariate or {}))
    spread = problem.pooling.prior_scale > 0
    return Structure(
        tuple(params), tuple(targets), problem.pooling.parameters, trained, new, trend, spread
    )


def _share_means(problem, targets: list[TargetStructure]) -> list[TargetStructure]:
    """``targets`` with ``mean_of`` set where an earlier target's joint forward-model call
    gives the mean: a target of a stackable kind (:func:`_stackable_kind`) with the same
    joint forward model, fixed values, group and rows (environment, training and held-out
    masks).

    Saturated densities and vapour pressures are usually tabulated at the same
    temperatures; each was a phase-equilibrium solve of its own (n-alkane model b12:
    368 solves per evaluation for 184 states, docs/chains.md).
    """
    by_name = {t.name: t for t in problem.targets}
    seen: list[tuple[tuple, str]] = []
    out = []
    for ts in targets:
        if not _stackable_kind(ts):
            out.append(ts)
            continue
        key = (_joint_forward(ts.forward)[0], ts.fixed, ts.group, ts.value_shape, ts.env_shapes)
        rep = next(
            (r for k, r in seen if k == key and _same_rows(by_name[r], by_name[ts.name])), None
        )
        if rep is None:
            seen.append((key, ts.name))
            out.append(ts)
        else:
            out.append(dataclasses.replace(ts, mean_of=rep))
    return out


def _same_rows(a, b) -> bool:
    """Whether two targets have the same rows (environment, training and held-out masks)
    and the same own fixed values."""
    same = (
        a.env.keys() == b.env.keys()
        and a.fixed.keys() == b.fixed.keys()
        and np.array_equal(a.train, b.train)
        and np.array_equal(a.holdout_mask(), b.holdout_mask())
    )
    return (
        same
        and all(np.array_equal(a.env[c], b.env[c]) for c in a.env)
        and all(np.array_equal(a.fixed[n], b.fixed[n]) for n in a.fixed)
    )


class TargetData(NamedTuple):
    """Every number the model reads for one target's rows (a pytree; NumPy or JAX arrays).

    Rows are a target's training rows (the sampler's data) or its held-out rows
    (predictions); ``n`` counts padded rows too. Units are internal, values and
    uncertainties in the observable's unit. Fields a target does not use are
    ``None`` (an empty subtree).

    Attributes
    ----------
    env
        Environment column -> (n, ...) values.
    u, floor
        (n, *value shape) standard uncertainties; (n,) forward-model error floor.
    mask
        (n,) True for real rows, False for padding.
    inadequacy_scale
        Scalar prior scale of the inadequacy term.
    nuisance, nuisance_fixed
        Sampled nuisance parameters' prior hyper-parameters; fixed ones' values.
    y
        (n, *value shape) observations; ``None`` for predictive draws.
    aux
        Prepared arrays the forward model reads (MD reference frames).
    cov
        (n, n) covariance of a ``covariance`` error model.
    x_curve, delta_prior
        Scaled curve coordinate (n,) and the prior (a0, ln l0) of a GP discrepancy.
    band
        (n,) hierarchical band of each row.
    group, n_groups
        Held-out rows of a hierarchical target: each row's group (n,), and an
        array whose length is the number of groups.
    x_gp
        (n,) coordinate of a GP inadequacy, scaled to [-1, 1].
    fixed
        The target's own fixed potential parameters (name -> value, internal
        units), replacing the problem's for this target's forward model.
    mean
        (n, *value shape) the model mean at these rows, given instead of
        computed (:meth:`ModelData.with_means`); ``None``: the forward model
        computes it.
    """

    env: dict
    u: Any
    floor: Any
    mask: Any
    inadequacy_scale: Any
    nuisance: dict
    nuisance_fixed: dict
    y: Any = None
    aux: dict | None = None
    cov: Any = None
    x_curve: Any = None
    delta_prior: Any = None
    band: Any = None
    group: Any = None
    n_groups: Any = None
    x_gp: Any = None
    fixed: dict | None = None
    mean: Any = None

    @property
    def n(self) -> int:
        """Rows, padded ones included."""
        return int(self.mask.shape[0])


class ModelData(NamedTuple):
    """The model's data argument: priors' hyper-parameters, fixed values, targets' rows."""

    prior: dict
    fixed: dict
    targets: dict
    pool_scale: Any = None  # HalfNormal scale of the pooling's omegas (None: no pooling)
    # the pooling's trends: parameter -> covariate of the trained and of the new groups
    # (centred on the trained groups' mean), and the slopes' Normal scale (None: no trend)
    pool_x: Any = None
    pool_x_new: Any = None
    trend_scale: Any = None

    def without_observations(self) -> ModelData:
        """The same rows with ``y`` removed: the model then samples replicated observations."""
        return self._replace(targets={k: v._replace(y=None) for k, v in self.targets.items()})

    def with_means(self, means: dict) -> ModelData:
        """The same rows with the model means of one draw given: ``means`` maps mean
        sites (``sites.mean(target)``, as a predictive run returns them) to (n, ...)
        values; the targets among them skip their forward model.

        The log-likelihood and the prior's log density of a draw whose means a
        predictive run already computed then trace and compile no second copy of the
        forward model (a phase-equilibrium solve: most of a post-processing program).
        """
        targets = {
            k: v._replace(mean=means[sites.mean(k)]) if sites.mean(k) in means else v
            for k, v in self.targets.items()
        }
        return self._replace(targets=targets)


def arrays(problem, rows: str = "train") -> ModelData:
    """The model's data argument for a problem: every number the model reads.

    Parameters
    ----------
    rows
        ``"train"``: each target's training rows (the data of the sampler).
        ``"holdout"``: each target's held-out rows (held-out predictions, with
        :meth:`ModelData.without_observations`, and their log-likelihood), with
        the index of each row's held-out group (a hierarchical target draws one
        new environment per group). Observations are included in both.
    """
    return ModelData(
        prior={
            n: np.asarray(p.prior.hyper(), dtype=float)
            for n, p in problem.parameters.items()
            if not p.fixed
        },
        fixed={
            n: np.asarray(problem.to_internal(n, p.value), dtype=float)
            for n, p in problem.parameters.items()
            if p.fixed
        },
        targets={
            t.name: _target_arrays(t, rows)._replace(
                fixed={
                    n: np.asarray(problem.to_internal(n, v), dtype=float)
                    for n, v in sorted(t.fixed.items())
                }
                or None
            )
            for t in problem.targets
        },
        pool_scale=(
            None
            if problem.pooling is None
            else np.asarray(problem.pooling.prior_scale, dtype=float)
        ),
        **_trend_arrays(problem),
    )


def _trend_arrays(problem) -> dict:
    """The pooling trend's fields of :class:`ModelData` (none without a trend)."""
    if problem.pooling is None or problem.pooling.covariate is None:
        return {}
    xs = {q: problem.pooling_covariate(q) for q in problem.pooling.covariate}
    return {
        "pool_x": {q: x for q, (x, _) in xs.items()},
        "pool_x_new": {q: x for q, (_, x) in xs.items()},
        "trend_scale": np.asarray(problem.pooling.trend_scale, dtype=float),
    }


def _target_arrays(t, rows: str) -> TargetData:
    idx = np.flatnonzero(t.train if rows == "train" else t.holdout_mask())
    inad, em = t.inadequacy, t.error_model
    d = TargetData(
        env={c: np.asarray(v[idx], dtype=float) for c, v in t.env.items()},
        u=np.asarray(t.uncertainties[idx], dtype=float),
        floor=np.asarray(t.floor[idx], dtype=float),
        mask=np.ones(idx.size, bool),
        inadequacy_scale=np.asarray(inad.prior_scale, dtype=float),
        nuisance={n.name: np.asarray(n.prior.hyper(), float) for n in t.nuisance_parameters()},
        nuisance_fixed={
            n.name: np.asarray(n.value * n.factor, float)
            for n in t.nuisance.values()
            if n.prior is None
        },
        y=np.asarray(t.values[idx], dtype=float),
        aux={k: np.asarray(v) for k, v in t.aux.items()} if t.aux else None,
        cov=(
            np.asarray(t.covariance[np.ix_(idx, idx)], dtype=float)
            if em.kind == "covariance"
            else None
        ),
        x_gp=np.asarray(t.gp_coordinate()[idx], dtype=float) if inad.kind == "gp" else None,
    )
    if em.kind == "discrepancy_gp":
        tr_u = t.uncertainties[t.train] if t.train.any() else t.uncertainties
        a0 = em.amplitude_scale or 3.0 * float(np.median(tr_u))
        d = d._replace(
            x_curve=np.asarray(t.curve_coordinate()[idx], dtype=float),
            delta_prior=np.asarray([a0, np.log(em.gp_length_scale)], dtype=float),
        )
    if inad.kind == "hierarchical":
        d = d._replace(band=np.asarray(t.bands()[idx], dtype=np.int32))
        if rows != "train":
            d = d._replace(
                group=np.asarray(t.holdout_group_index()[idx], dtype=np.int32),
                n_groups=np.zeros(len(t.holdout), dtype=float),  # its shape is the count
            )
    return d


def pointwise_log_likelihood(structure: Structure, ll: dict, data: ModelData) -> dict:
    """The model's log-likelihood per observation of each target, from numpyro's values.

    ``ll``: target -> (N, rows) log densities of the model's observed sites (numpyro's
    ``log_likelihood``) at the rows of ``data``. Independent rows are one
    observation each (padded rows give 0 and are cut off later). A correlated
    target's curve is one observation, (N,): its padded rows (unit normals with
    zero residual) each added -log(2 pi)/2, which is removed here.
    """
    out = {}
    for t in structure.targets:
        if t.name not in ll:
            continue
        if t.error_model == "independent":
            out[t.name] = ll[t.name]
        else:
            n_pad = data.targets[t.name].n - int(np.sum(data.targets[t.name].mask))
            out[t.name] = ll[t.name] + 0.5 * np.log(2 * np.pi) * n_pad
    return out


#: Row-wise fields of :class:`TargetData`, padded by repeating the last real row.
_ROW_FIELDS = ("u", "floor", "y", "band", "group", "x_gp", "x_curve")


def pad_arrays(
    data: ModelData, n_rows: dict[str, int], groups: dict[str, int] | None = None
) -> ModelData:
    """Pad each target's rows to ``n_rows[name]`` with masked copies of its last row.

    Padded rows repeat a real row (so forward models see a valid environment)
    and are masked out of the likelihood; their predictions are dropped.
    ``groups`` pads the number of held-out groups of hierarchical targets.
    """
    targets = {}
    for name, td in data.targets.items():
        n = td.n
        extra = int(n_rows[name]) - n
        if extra < 0:
            raise ValueError(f"cannot pad target {name!r} from {n} to {n_rows[name]} rows")
        if groups is not None and td.n_groups is not None:
            td = td._replace(n_groups=np.zeros(max(int(groups[name]), td.n_groups.shape[0])))
        if extra and n:

            def pad(a, extra=extra):
                return np.concatenate([a, np.repeat(a[-1:], extra, axis=0)], axis=0)

            change = {k: pad(getattr(td, k)) for k in _ROW_FIELDS if getattr(td, k) is not None}
            change["env"] = {c: pad(v) for c, v in td.env.items()}
            change["mask"] = np.concatenate([td.mask, np.zeros(extra, bool)])
            if td.cov is not None:  # padded rows: unit variance, uncorrelated, masked out below
                cov = np.eye(n + extra)
                cov[:n, :n] = td.cov
                change["cov"] = cov
            td = td._replace(**change)
        targets[name] = td
    return data._replace(targets=targets)


# ----------------------------------------------------------------------------- the model


def _gp_basis(x_scaled, m: int):

    return eigenfunctions(x=x_scaled, ell=GP_BOX, m=m)


def _gp_spd(alpha, length, m: int):

    return jnp.sqrt(
        diag_spectral_density_squared_exponential(
            alpha=alpha, length=length, ell=GP_BOX, m=m, dim=1
        )
    )


def target_mean(t: TargetStructure, params: dict, latent: dict, td: dict):
    """Model mean of target ``t`` at the rows of ``td`` for one set of latent values.

    ``params`` are the target's own: the problem's, with its fixed values and its
    group's pooled values (:func:`_target_params`). Hierarchical targets give each
    training band its own pooled parameters and each held-out group one new
    environment (``latent`` holds its z).
    """

    predict = t.forward.build()
    nuis = {
        **td.nuisance_fixed,
        **{p.name: latent[sites.nuisance(p.name, t.name)] * p.factor for p in t.nuisance},
    }
    if td.aux is not None:
        nuis["aux"] = td.aux  # per-target arrays the forward model reads (prepared MD frames)
    env = td.env
    if t.inadequacy == "hierarchical":
        band = td.band
        rows = {}
        for name, value in params.items():
            if name not in t.pooled:
                rows[name] = jnp.broadcast_to(value, band.shape)
                continue
            eta = latent[sites.eta(name, t.name)]  # log-deviation per band
            omega = latent[sites.omega(name, t.name)]
            if td.group is not None:  # held-out rows: a new environment per group
                z = numpyro.sample(
                    sites.znew(name, t.name),
                    _normal(0.0, 1.0).expand([td.n_groups.shape[0]]),
                )
                eta_rows = omega * z[td.group]
            else:
                eta_rows = eta[band]
            rows[name] = value * jnp.exp(eta_rows)
        # one parameter set per row: the forward model is vmapped over rows
        return jax.vmap(lambda p, e: predict(p, jax.tree.map(lambda a: a[None], e), **nuis)[0])(
            rows, env
        )
    mu = predict(params, env, **nuis)
    if t.inadequacy == "gp":
        phi = _gp_basis(td.x_gp, t.gp_basis)
        spd = _gp_spd(latent[sites.alpha(t.name)], latent[sites.length(t.name)], t.gp_basis)
        g = phi @ (spd * latent[sites.beta(t.name)])
        s = jnp.abs(mu) if t.form == "relative" else 1.0
        mu = mu + s * g
    return mu


def _normal(loc, scale):

    return dist.Normal(loc, scale)


def _noise(t: TargetStructure, td: dict, mu, latent: dict):
    """Standard deviation of each observation (data, inferred scale and floor in quadrature).

    The relative scale uses |mu|, so that no observed value (training or
    held-out) sets a predictive width.
    """
    floor = td.floor.reshape(td.floor.shape + (1,) * len(t.value_shape))
    var = td.u**2 + floor**2
    if _log_normal(t):  # the sd of ln y: data and floor relative to the mean
        return jnp.sqrt(var / mu**2 + latent[sites.tau(t.name)] ** 2)
    if t.inadequacy == "inferred_scale":
        s = jnp.abs(mu) if t.form == "relative" else 1.0
        var = var + (latent[sites.tau(t.name)] * s) ** 2
    return jnp.sqrt(var)


def _log_normal(t: TargetStructure) -> bool:
    """Whether a target's errors are multiplicative (``form = "log"``)."""
    return t.form == "log" and t.inadequacy == "inferred_scale"


def _sample_target_latents(t: TargetStructure, td: dict, latent: dict) -> None:

    for p in t.nuisance:
        name = sites.nuisance(p.name, t.name)
        latent[name] = numpyro.sample(name, prior_distribution(p.family, td.nuisance[p.name]))
    if t.error_model == "discrepancy_gp":
        a0, log_l0 = td.delta_prior[0], td.delta_prior[1]
        latent[sites.delta_amplitude(t.name)] = numpyro.sample(
            sites.delta_amplitude(t.name), dist.HalfNormal(a0)
        )
        latent[sites.delta_length(t.name)] = numpyro.sample(
            sites.delta_length(t.name), dist.LogNormal(log_l0, 0.75)
        )
    if t.n_rows == 0:
        return
    scale = td.inadequacy_scale
    if t.inadequacy == "inferred_scale":
        if tau := _own_tau(t):
            latent[tau] = numpyro.sample(tau, _FoldedHalfNormal(scale))
    elif t.inadequacy == "hierarchical":
        for q in t.pooled:
            omega = numpyro.sample(sites.omega(q, t.name), dist.HalfNormal(scale))
            latent[sites.omega(q, t.name)] = omega
            # centred: each band is pinned by its own data (B2 bands hold several
            # precise points), where a non-centred form diverges
            latent[sites.eta(q, t.name)] = numpyro.sample(
                sites.eta(q, t.name), dist.Normal(0.0, omega).expand([t.bands])
            )
    elif t.inadequacy == "gp":
        latent[sites.alpha(t.name)] = numpyro.sample(sites.alpha(t.name), dist.HalfNormal(scale))
        latent[sites.length(t.name)] = numpyro.sample(
            sites.length(t.name), dist.LogNormal(np.log(0.5), 0.5)
        )
        latent[sites.beta(t.name)] = numpyro.sample(
            sites.beta(t.name), dist.Normal(0.0, 1.0).expand([t.gp_basis])
        )


def _likelihood(t: TargetStructure, td: dict, mu, sigma, latent: dict) -> None:

    mask = td.mask
    event = len(t.value_shape)
    row_ok = jnp.isfinite(mu) & jnp.isfinite(sigma) & (sigma > 0)
    if _log_normal(t):
        row_ok = row_ok & (mu > 0)  # a log-normal mean must be positive
    if event:
        row_ok = jnp.all(row_ok.reshape(row_ok.shape[0], -1), axis=1)
    # A non-finite prediction means the forward model failed at these
    # parameters: reject the proposal (log density -inf) instead of letting NaN
    # reach the sampler. Padded rows never count.
    ok = jnp.all(row_ok | ~mask)
    numpyro.factor(sites.valid(t.name), jnp.where(ok, 0.0, -jnp.inf))
    y = td.y
    if y is not None:
        # keep the (rejected) likelihood finite so that no NaN reaches NUTS;
        # without data (predictive draws) a failed forward model stays NaN
        mu = jnp.where(jnp.isfinite(mu), mu, 0.0)
        sigma = jnp.where(jnp.isfinite(sigma) & (sigma > 0), sigma, 1.0)
    if t.error_model != "independent":
        _curve_likelihood(t, td, mu, sigma, latent)
        return
    if _log_normal(t):
        # rejected rows (mu <= 0) keep a finite density; the valid factor above is -inf
        # (predictive draws keep a failed forward model's NaN, as the normal does)
        d = dist.LogNormal(jnp.log(jnp.where(mu > 0, mu, 1.0) if y is not None else mu), sigma)
    else:
        d = dist.Normal(mu, sigma)
    if event:
        d = d.to_event(event)
    numpyro.sample(t.name, d.mask(mask), obs=y)


def _curve_covariance(t: TargetStructure, td: dict, sigma, latent: dict):
    """Covariance of a curve's errors under a ``covariance`` error model (data C plus diagonal)."""
    # C replaces the stated u^2 on the diagonal; inadequacy and floor add to it
    return td.cov + jnp.diag(sigma**2 - td.u**2)


# --- [likelihood helper, issue 18] GP discrepancy through tinygp's solvers --------------------
#: Curves with more training rows than this evaluate the GP discrepancy with tinygp's
#: quasiseparable (state-space) solver, O(n) per evaluation and gradient; shorter ones
#: with a dense Cholesky factor (faster below ~130 rows on a CPU). Both are exact and
#: agree to rounding (tests/test_likelihoods.py). Measured value + gradient, one core:
#: 240 rows 4.2 ms dense vs 1.1 ms quasiseparable (benchmarks/likelihood_bench.py).
QUASISEP_MIN_ROWS = 128
#: Padded rows (batches of ragged problems) are moved this far apart along the scaled
#: curve coordinate (range 1), so that the kernel between them and any row is exactly 0.
_PAD_X = 1.0e6


def _discrepancy_gp(t: TargetStructure, td: dict, loc, sigma, latent: dict):
    r"""The marginal of a curve under a GP discrepancy, as a NumPyro distribution.

    :math:`y \sim N(f, K + \mathrm{diag}(\sigma^2))` with the Matern-5/2 kernel
    :math:`K_{ij} = a^2 (1 + \sqrt5 d/\ell + 5 d^2 / 3\ell^2) e^{-\sqrt5 d/\ell}`,
    :math:`d = |x_i - x_j|`. The rows are sorted along x for the quasiseparable solver
    and the draws permuted back, so that row order is the target's.
    """

    a = latent[sites.delta_amplitude(t.name)]
    ell = latent[sites.delta_length(t.name)]
    m = td.mask
    n = m.shape[0]
    x = jnp.where(m, td.x_curve, _PAD_X * (2.0 + jnp.arange(n)))
    order = jnp.argsort(x)
    if n > QUASISEP_MIN_ROWS:
        kernel = quasisep.Matern52(scale=ell, sigma=a)
    else:
        kernel = a**2 * kernels.Matern52(scale=ell)
    gp = GaussianProcess(kernel, x[order], diag=sigma[order] ** 2, mean_value=loc[order])
    inverse = jnp.argsort(order)
    curve = dist.TransformedDistribution(gp.numpyro_dist(), PermuteTransform(inverse))
    # a padded row (unit noise, zero residual, uncorrelated) still carries the kernel's
    # variance a^2: remove it, so that each counts -log(2 pi)/2 exactly as in the dense path
    return _Shifted(curve, 0.5 * jnp.sum(~m) * jnp.log1p(a**2))


@functools.cache
def _shifted_class():
    """A NumPyro distribution: another one with a constant added to its log density."""

    class Shifted(dist.Distribution):
        support = dist.constraints.real_vector

        def __init__(self, base, shift):
            self.base, self.shift = base, shift
            super().__init__(batch_shape=base.batch_shape, event_shape=base.event_shape)

        def sample(self, key, sample_shape=()):

            # tinygp's TinyDistribution.sample calls numpyro's deprecated
            # distributions.util.is_prng_key (a DeprecationWarning at every trace)
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", "Please use numpyro.util.is_prng_key", DeprecationWarning
                )
                return self.base.sample(key, sample_shape)

        def log_prob(self, value):
            return self.base.log_prob(value) + self.shift

    return Shifted


def _Shifted(base, shift):
    """``base`` with ``shift`` added to its log density (draws unchanged)."""
    return _shifted_class()(base, shift)


@functools.cache
def _folded_class():
    """A NumPyro HalfNormal sampled on the whole line as ``tau = |x|``.

    Its support's bijection is ``|x|`` (unit Jacobian) instead of ``exp``. An
    inadequacy scale whose posterior reaches zero (argon B2 under LJ: median
    tau 0.0096, 1 % quantile 0.0002) has in ln(tau) a long exponential tail
    towards -inf that NUTS crosses slowly; as ``|x|`` it is a smooth, even
    density around 0. Measured on argon_lj_b2, 4 x 1000 draws, 17 seeds: median
    bulk ESS of tau 1184 with exp, 2901 folded (docs/inadequacy.md). The
    posterior reports tau = |x|; the start (``init_to_central``) maps tau back
    to x = tau.
    """

    class FoldedPositive(type(constraints.positive)):
        pass

    class AbsTransform(Transform):
        # not monotone: no ``sign`` (numpyro's default raises where one is asked for)

        @property
        def codomain(self):
            return FOLDED

        def __call__(self, x):
            return jnp.abs(x)

        def _inverse(self, y):
            return y

        def log_abs_det_jacobian(self, x, y, intermediates=None):
            return jnp.zeros(jnp.shape(x))

        def tree_flatten(self):
            return (), ((), dict())

        def eq(self, other, static=False):
            return isinstance(other, AbsTransform)

    FOLDED = FoldedPositive()
    biject_to.register(FoldedPositive, lambda constraint: AbsTransform())

    class FoldedHalfNormal(dist.HalfNormal):
        support = FOLDED

    return FoldedHalfNormal


def _FoldedHalfNormal(scale):
    """HalfNormal(``scale``) whose unconstrained coordinate is signed (tau = |x|)."""
    return _folded_class()(scale)


# ----------------------------------------------------------------------------------------------


def _curve_likelihood(t: TargetStructure, td: dict, mu, sigma, latent: dict) -> None:
    """One multivariate normal per curve (a Cholesky factor, or tinygp's O(n) solver).

    Padded rows (batches of ragged problems) get unit variance, no correlation
    and a zero residual; their constant is removed from the stored pointwise
    log-likelihood (bayesff.inference.assemble).
    """

    m = td.mask
    loc = jnp.where(m, mu, 0.0)
    y = td.y
    obs = None if y is None else jnp.where(m, y, 0.0)
    if t.error_model == "discrepancy_gp":
        d = _discrepancy_gp(t, td, loc, jnp.where(m, sigma, 1.0), latent)
    else:
        cov = _curve_covariance(t, td, sigma, latent)
        both = m[:, None] & m[None, :]
        cov = jnp.where(both, cov, 0.0) + jnp.diag(jnp.where(m, 0.0, 1.0))
        d = dist.MultivariateNormal(loc, covariance_matrix=cov)
    numpyro.sample(t.name, d, obs=obs)


def _stackable(t: TargetStructure, td) -> bool:
    """A target whose mean depends only on the parameters, its own fixed values and its rows
    (no nuisance, prepared arrays, hierarchical or GP term), and that has its own fixed
    values or a joint forward model (:func:`_joint_forward`): it may share one vmapped
    forward-model call with the targets of the same forward model."""
    return td.n > 0 and td.mean is None and _stackable_kind(t)


def _stackable_kind(t: TargetStructure) -> bool:
    """:func:`_stackable`'s conditions on the structure (all but having rows)."""
    return (
        (bool(t.fixed) or bool(t.group) or _joint_forward(t.forward)[1] is not None)
        and not t.nuisance
        and not t.aux_shapes
        and t.inadequacy in ("none", "inferred_scale")
    )


def _predict_with(predict, params: dict, own: dict, env: dict):
    """``predict`` at the shared parameters with one target's own values."""
    return predict({**params, **own}, env)


def _stacked_means(structure: Structure, data, params: dict, own: dict) -> dict:
    """Model means of the targets that differ only in their per-target fixed values.

    Targets with the same forward model, the same fixed parameter names and the same
    row shapes (the molecules of a transferable chain model) are predicted by one call
    of the forward model vmapped over the targets, their rows padded to the longest
    with copies of their last row and cut off again. Targets of observables with one
    joint forward model (saturated densities, vapour pressure and enthalpy of
    vaporisation: one phase-equilibrium solve gives all four) share that call and each
    takes its own property from it. The result equals the per-target call; what it
    saves is compilation: one traced copy of the forward model (a phase-equilibrium
    solve) per group instead of one per target and property. A target whose rows and
    own values are another's (``mean_of``, :func:`_share_means`) is not solved again:
    it takes its property from that target's call, and is NaN should the data it is
    given differ from that target's after all. ``own``: target -> its own parameter
    values (fixed per target, pooled per group), vmapped over.
    """
    groups: dict = {}
    readers: dict = {}  # target -> the targets that read its call (mean_of)
    for t in structure.targets:
        td = data.targets[t.name]
        if not _stackable(t, td):
            continue
        if t.mean_of:
            readers.setdefault(t.mean_of, []).append(t)
            continue
        names = tuple(sorted(own[t.name]))
        key = (_joint_forward(t.forward)[0], names, t.value_shape, t.env_shapes)
        groups.setdefault(key, []).append(t)
    out = {}
    for (forward, *_), members in groups.items():
        if len(members) + sum(len(readers.get(t.name, ())) for t in members) < 2:
            continue
        tds = [data.targets[t.name] for t in members]
        mu = _stacked_call(forward, params, [own[t.name] for t in members], tds)
        for i, (t, td) in enumerate(zip(members, tds, strict=True)):
            out[t.name] = _field(t, mu)[i, : td.n]
            for r in readers.get(t.name, ()):
                same = _same_data(data.targets[r.name], td, own[r.name], own[t.name])
                out[r.name] = jnp.where(same, _field(r, mu)[i, : td.n], jnp.nan)
    return out


def _stacked_call(forward, params: dict, owns: list[dict], tds: list) -> Any:
    """The forward model vmapped over targets (own values ``owns``, rows of ``tds``
    padded to the longest with copies of their last row)."""
    n_max = max(td.n for td in tds)

    def pad(a):
        a = jnp.asarray(a)
        extra = n_max - a.shape[0]
        return jnp.concatenate([a, jnp.repeat(a[-1:], extra, axis=0)]) if extra else a

    env = {c: jnp.stack([pad(td.env[c]) for td in tds]) for c in tds[0].env}
    values = {n: jnp.stack([o[n] for o in owns]) for n in owns[0]}
    return jax.vmap(functools.partial(_predict_with, forward.build(), params))(values, env)


def _field(t: TargetStructure, mu):
    """A target's own property of its (joint) forward model's result."""
    field = _joint_forward(t.forward)[1]
    return mu if field is None else getattr(mu, field)


def _same_data(a, b, own_a: dict, own_b: dict):
    """True (traced) where two targets' rows and own values are equal: a guard on
    ``mean_of``, which the structure set from the problem's data."""
    if not (a.n == b.n and a.env.keys() == b.env.keys() and own_a.keys() == own_b.keys()):
        return jnp.asarray(False)
    same = jnp.asarray(True)
    for c in a.env:
        same = same & jnp.all(jnp.asarray(a.env[c]) == jnp.asarray(b.env[c]))
    for n in own_a:
        same = same & jnp.all(jnp.asarray(own_a[n]) == jnp.asarray(own_b[n]))
    return same


def _sample_pooling(structure: Structure, data, latent: dict) -> dict:
    """Each group's own values of the pooled parameters: group -> {parameter: value}
    (internal units; empty without pooling).

    A trained group's value is a site in the problem's unit,
    ``theta_g ~ LogNormal(ln theta, omega)`` (``theta exp(eta)``, ``eta ~ N(0, omega)``),
    sampled as ``ln theta_g``: each group is pinned by its own training rows (a
    molecule's saturation curve), so in these coordinates the groups and the shared
    theta are nearly uncorrelated, where in (theta, eta) every eta moves against theta
    (a ridge that stalled NUTS on the n-alkane chains, docs/chains.md). Groups without
    training rows, only where this data has rows of theirs (held-out predictions): a
    new draw from the population, ``theta exp(omega z)``, ``z ~ N(0, 1)``. For a
    parameter with a trend (``structure.trend``) both are centred on ``theta exp(b x)``
    instead, ``x`` the group's centred covariate and ``b`` the parameter's slope; without a
    spread (``prior_scale = 0``) every group's value is ``theta exp(b x)`` exactly.
    """
    if not structure.pooled:
        return {}
    need_new = any(
        data.targets[t.name].n for t in structure.targets if t.group in structure.new_groups
    )
    factor = {p.name: p.factor for p in structure.params}
    out = {g: {} for g in (*structure.groups, *structure.new_groups)}
    for q in structure.pooled:
        shift, shift_new = 0.0, jnp.zeros(len(structure.new_groups))
        if q in structure.trend:
            b = numpyro.sample(sites.slope(q), _normal(0.0, data.trend_scale))
            latent[sites.slope(q)] = b
            shift, shift_new = b * data.pool_x[q], b * data.pool_x_new[q]
        if not structure.spread:  # every group on its trend (checked: all pooled trended)
            for x, groups in ((shift, structure.groups), (shift_new, structure.new_groups)):
                for i, g in enumerate(groups):
                    out[g][q] = latent[q] * jnp.exp(x[i]) * factor[q]
            continue
        omega = numpyro.sample(sites.omega(q, sites.POOLED), dist.HalfNormal(data.pool_scale))
        latent[sites.omega(q, sites.POOLED)] = omega
        own = numpyro.sample(
            sites.group_value(q),
            dist.LogNormal(jnp.log(latent[q]) + shift * jnp.ones(len(structure.groups)), omega),
        )
        latent[sites.group_value(q)] = own
        for i, g in enumerate(structure.groups):
            out[g][q] = own[i] * factor[q]
        if need_new:
            z = numpyro.sample(
                sites.znew(q, sites.POOLED),
                _normal(0.0, 1.0).expand([len(structure.new_groups)]),
            )
            for i, g in enumerate(structure.new_groups):
                out[g][q] = latent[q] * jnp.exp(shift_new[i] + omega * z[i]) * factor[q]
    return out


def _target_params(structure: Structure, data, pooled: dict) -> dict:
    """Target -> its own parameter values (internal units): its fixed values and, for a
    target of a pooled group, that group's values of the pooled parameters."""
    return {
        t.name: {**(data.targets[t.name].fixed or {}), **pooled.get(t.group, {})}
        for t in structure.targets
    }


def _joint_forward(forward) -> tuple:
    """(forward model to call, field of its result) of a target's forward model.

    An observable whose builder carries ``joint = (joint_builder, field)`` (the
    coexistence properties, :func:`bayesff.observables.vle.build_vle_all`) is predicted
    by the joint forward model, whose result holds every property, and its own field
    taken from it; others by their own forward model (field ``None``).
    """
    joint = getattr(forward.builder, "joint", None)
    if joint is None:
        return forward, None
    builder, field = joint
    return dataclasses.replace(forward, builder=builder), field


def _model(structure: Structure, data: dict) -> None:
    _restore_numpyro_submodules()

    latent = {}
    for p in structure.params:
        if p.family is not None:
            latent[p.name] = numpyro.sample(
                p.name, prior_distribution(p.family, data.prior[p.name])
            )
    params = {
        **data.fixed,
        **{p.name: latent[p.name] * p.factor for p in structure.params if p.family is not None},
    }
    own = _target_params(structure, data, _sample_pooling(structure, data, latent))
    stacked = _stacked_means(structure, data, params, own)
    for t in structure.targets:
        _sample_target_latents(t, data.targets[t.name], latent)
    for t in structure.targets:
        if t.shared:  # every target of a shared scale reads it under its own name
            latent[sites.tau(t.name)] = latent[sites.tau(t.shared)]
    for t in structure.targets:
        td = data.targets[t.name]
        if td.n == 0:
            continue  # no rows of this kind (predicted only, or nothing held out)
        if t.borrow:
            _borrow_scale(t, latent)
        if td.mean is not None:  # given (ModelData.with_means): not computed again
            mu = td.mean
        elif t.name in stacked:
            mu = stacked[t.name]
        else:
            mu = target_mean(t, {**params, **own[t.name]}, latent, td)
        numpyro.deterministic(sites.mean(t.name), mu)
        _likelihood(t, td, mu, _noise(t, td, mu, latent), latent)


def _borrow_scale(t: TargetStructure, latent: dict) -> None:
    """The inadequacy scale of a target without training rows (a new group's): that of one
    of the trained targets ``t.borrow``, picked per draw by a uniform site (so a new
    group's prediction misses the model as a trained group's data do; the held-out
    log-likelihood uses the same pick, a new-environment site)."""
    u = numpyro.sample(sites.borrowed(t.name), dist.Uniform(0.0, 1.0))
    k = len(t.borrow)
    i = jnp.clip(jnp.floor(u * k).astype(jnp.int32), 0, k - 1)
    latent[sites.tau(t.name)] = jnp.stack([latent[sites.tau(b)] for b in t.borrow])[i]


@functools.cache
def model_of(structure: Structure):
    """The NumPyro model of a structure: ``model(data)``, data from :func:`arrays`.

    Cached: the same structure always gives the same function object, which
    is what lets a compiled sampler be found again.
    """
    return functools.partial(_model, structure)
