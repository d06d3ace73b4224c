r"""The Bayesian 1-4 re-mapping as a calibration problem, sampled by :func:`bayesff.calibrate`.

:mod:`bayesff.potentials.scaling` states the re-mapping of per-atom
parameters between 1-4 scaling conventions as a linear system
:math:`M x = b` (x = ln f for LJ, ln g for Coulomb; one row per interacting
pair, :math:`b_{ij} = \ln(s_A(ij)/s_B(ij))`) and solves it by least squares.
The Bayesian model of the same system is

.. math::

    x_i \sim \mathcal N(0, s^2), \quad
    \sigma_\mathrm{res} \sim \mathrm{HalfNormal}(\tau), \quad
    b_{ij} \sim \mathcal N\!\left(x_i + x_j,\;
        \sqrt{\sigma_\mathrm{res}^2 + \sigma_0^2}\right),

:math:`\sigma_\mathrm{res}` the per-pair log energy mismatch that no x
removes and :math:`\sigma_0` a fixed floor.

As a calibration problem
------------------------
Sampled as written, x and :math:`\sigma_\mathrm{res}` form a funnel: along a
direction the data pin, x given :math:`\sigma_\mathrm{res}` is as narrow as
:math:`\sqrt{\sigma_\mathrm{res}^2 + \sigma_0^2}`, so where the data say
nothing about :math:`\sigma_\mathrm{res}` (a tree of pairs) NUTS diverges in
the neck and misses the small values (17 % divergences for butane). The
problem sampled here is the same model written so that the neck is gone:
each x is split into two independent Gaussians,

.. math::

    x = w + \eta, \quad w_i \sim \mathcal N(0, s^2/2), \quad
    \eta_i \sim \mathcal N(0, s^2/2),

w sampled and :math:`\eta` integrated out. In the singular basis of
:math:`M = U S V^T` the marginal is diagonal: row k of the target is the
combination :math:`(U^T b)_k` of the pairs, with model mean
:math:`(U^T M w)_k` (the forward model :data:`LOG_FACTOR_COMBINATION`), stated
standard uncertainty :math:`\sqrt{s^2 S_k^2 / 2 + \sigma_0^2}` and
:math:`\sigma_\mathrm{res}` as the target's absolute inferred-scale
inadequacy term (:class:`bayesff.targets.Inadequacy`). Rows with
:math:`S_k = 0` are the consistency conditions of the system (alternating sums
around even cycles); only they and the prior tell about
:math:`\sigma_\mathrm{res}`. The conditional width of w is at least
:math:`s/2` whatever :math:`\sigma_\mathrm{res}`. The posterior of
:math:`\sigma_\mathrm{res}` is exactly the one of the model above; x is
completed draw by draw from the closed-form Gaussian
:math:`p(\eta \mid w, \sigma_\mathrm{res}, b)` (:func:`summarise`).

What the data can say about :math:`\sigma_\mathrm{res}` comes from the
m - rank redundant combinations of b: with none (m = rank) its posterior is
its prior (up to the weak pull of the data directions). A consistent redundant
system pushes it below ~:math:`\sigma_0`; an inconsistent one puts it near
:math:`\sqrt{\mathrm{RSS}/(m - \mathrm{rank})}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.observables import EnvField, Observable
from bayesff.potentials import ParamSpec
from bayesff.potentials.scaling import Convention, Molecule, remap_system
from bayesff.priors import PriorSpec, Support
from bayesff.problem import InferenceSettings, Parameter, Problem
from bayesff.targets import Inadequacy, Target

__all__ = [
    "EXPLICIT_FRACTION",
    "LOG_FACTOR_COMBINATION",
    "REMAP_KIND",
    "TARGET",
    "LogFactors",
    "RemapModes",
    "bayesian_remap",
    "remap_modes",
    "remap_problem",
    "summarise",
]

#: ``kind`` of the per-atom log-factor "potential" (:data:`LOG_FACTOR_COMBINATION` accepts it).
REMAP_KIND = "per_atom_log_factors"
#: Name of the target whose rows are the singular combinations of the pairs.
TARGET = "modes"
#: Share of the prior variance s^2 of each ln f sampled explicitly (w); the rest (eta) is
#: integrated out. 1/2 bounds the conditional width of w below by s/2.
EXPLICIT_FRACTION = 0.5


@dataclass(frozen=True)
class LogFactors:
    """The parameters of a re-mapping: one log-factor part per atom, in a potential's clothes.

    A :class:`~bayesff.problem.Problem` calibrates the parameters of its
    potential; here they are ``w_k``, the sampled part of x_k = ln f_k (LJ,
    epsilon_k' = epsilon_k f_k^2) or ln g_k (Coulomb, q_k' = q_k g_k),
    dimensionless.
    """

    name: str
    params: tuple[ParamSpec, ...]
    description: str = ""
    reference: str = ""
    kind: str = REMAP_KIND

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @classmethod
    def for_atoms(cls, n_atoms: int, kind: str, scale: float) -> LogFactors:
        """``n_atoms`` parameters ``w_k`` with prior N(0, ``scale``^2)."""
        prior = PriorSpec("Normal", {"loc": 0.0, "scale": float(scale)})
        letter = "f" if kind == "lj" else "g"
        params = tuple(
            ParamSpec(
                f"w_{k}",
                "dimensionless",
                Support("real"),
                prior,
                "1",
                f"sampled part of ln {letter} of atom {k}",
            )
            for k in range(n_atoms)
        )
        return cls(
            name=f"log_factors_{kind}",
            params=params,
            description=f"per-atom ln {letter} of the 1-4 re-mapping ({kind}), sampled part",
        )


def _build_combination(potential, **options):
    """``predict(params, env) = A w``: each row's combination of the per-atom log-factors."""

    names = potential.param_names

    def predict(params, env):
        w = jnp.stack([jnp.asarray(params[n]) for n in names])
        return jnp.asarray(env["coefficients"]) @ w

    return predict


#: Forward model of a re-mapping: a linear combination sum_i A_ki w_i of the per-atom
#: log-factors per row (A = U^T M, see the module docstring).
LOG_FACTOR_COMBINATION = Observable(
    name="log_factor_combination",
    env=(EnvField("coefficients", "dimensionless", "row k of A = U^T M"),),
    value_column="log_ratio",
    uncertainty_column="u_log_ratio",
    dimension="dimensionless",
    unit="1",
    build=_build_combination,
    potential_kind=REMAP_KIND,
    description="a combination of per-atom log-factors; observed: the same combination of the "
    "conventions' log-ratios ln(s_A / s_B)",
    row_dim="mode",
)


@dataclass(frozen=True)
class RemapModes:
    """The system ``M x = b`` in the singular basis ``M = U S V^T``.

    Attributes
    ----------
    M, b, pairs
        As :func:`bayesff.potentials.scaling.remap_system` returns them.
    U, Vt
        (m, m) and (n, n) orthogonal factors.
    S
        (min(m, n),) singular values, exact zeros beyond the rank.
    rank
        Rank of M.
    """

    M: np.ndarray
    b: np.ndarray
    pairs: tuple
    U: np.ndarray
    S: np.ndarray
    Vt: np.ndarray
    rank: int

    @property
    def lam(self) -> np.ndarray:
        """(m,) eigenvalues of M M^T aligned with U's columns (S^2, zeros after)."""
        out = np.zeros(self.M.shape[0])
        out[: self.S.size] = self.S**2
        return out


def remap_modes(mol, conv_from, conv_to, kind="lj", *, intermolecular=False) -> RemapModes:
    """:func:`~bayesff.potentials.scaling.remap_system` and its singular value decomposition."""
    M, b, pairs = remap_system(mol, conv_from, conv_to, kind, intermolecular=intermolecular)
    U, S, Vt = np.linalg.svd(M, full_matrices=True)
    rank = int(np.linalg.matrix_rank(M))
    S = np.where(np.arange(S.size) < rank, S, 0.0)  # exact zeros beyond the rank
    return RemapModes(M, b, pairs, U, S, Vt, rank)


def _check_settings(prior_scale, sigma_res_scale, sigma_floor, counts: dict, accept) -> None:
    for name, v in (
        ("prior_scale", prior_scale),
        ("sigma_res_scale", sigma_res_scale),
        ("sigma_floor", sigma_floor),
    ):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"bayesian_remap: {name} must be finite and > 0, found {v!r}")
    for name, v in counts.items():
        if isinstance(v, bool) or not (isinstance(v, int) and v >= 1):
            raise ValueError(f"bayesian_remap: {name} must be a positive integer, found {v!r}")
    if not 0.0 < accept < 1.0:
        raise ValueError(f"bayesian_remap: target_accept_prob must be in (0, 1), found {accept!r}")


def remap_problem(
    modes: RemapModes,
    *,
    kind: str = "lj",
    prior_scale: float = 1.0,
    sigma_res_scale: float = 0.5,
    sigma_floor: float = 1e-3,
    inference=None,
    name: str = "remap_14",
):
    """The re-mapping of :func:`remap_modes` as a :class:`~bayesff.problem.Problem`.

    Parameters
    ----------
    modes
        The system and its decomposition (:func:`remap_modes`).
    kind
        ``"lj"`` or ``"coulomb"`` (names only).
    prior_scale
        s, prior standard deviation of each ln f_k (1: f within a factor e).
    sigma_res_scale
        tau, scale of the half-normal prior on sigma_res (ln units; |ln 0.6|
        = 0.51 is the size of the OPLS -> AMBER Coulomb data).
    sigma_floor
        sigma_0, a fixed mismatch treated as zero (1e-3: 0.1 % of a pair
        energy). It keeps the posterior proper: without it the density of
        sigma diverges at 0 for a consistent redundant system.
    inference
        :class:`~bayesff.problem.InferenceSettings` (default: the defaults).
    name
        The problem's name.

    Returns
    -------
    Problem
        Parameters ``w_k``, one target :data:`TARGET` with one row per
        singular combination (``"mode k"``, or ``"cycle k"`` for a
        consistency condition) and an absolute inferred-scale inadequacy
        term (sigma_res, the latent ``tau_modes``).

    Raises
    ------
    ValueError
        When the molecule has no interacting pair (nothing to re-map).
    """

    m, n = modes.M.shape
    if m == 0:
        raise ValueError(
            "bayesian_remap: the molecule has no interacting pair (every pair is 1-2 or 1-3): "
            "nothing to re-map"
        )
    s2 = float(prior_scale) ** 2
    pot = LogFactors.for_atoms(n, kind, math.sqrt(EXPLICIT_FRACTION * s2))
    u = np.sqrt((1.0 - EXPLICIT_FRACTION) * s2 * modes.lam + float(sigma_floor) ** 2)
    target = Target.from_arrays(
        TARGET,
        LOG_FACTOR_COMBINATION,
        {"coefficients": modes.U.T @ modes.M},
        modes.U.T @ modes.b,
        u,
        inadequacy=Inadequacy("inferred_scale", "absolute", float(sigma_res_scale)),
        file_units={"coefficients": "1"},
    )
    target = target.replace(
        labels=np.array(
            [f"mode {k}" if k < modes.rank else f"cycle {k - modes.rank}" for k in range(m)]
        )
    )
    return Problem(
        name=name,
        description=f"1-4 re-mapping ({kind}) of a {n}-atom molecule, {m} interacting pairs",
        potential=pot,
        parameters={p.name: Parameter(p.name, "1", p.default_prior) for p in pot.params},
        targets=[target],
        inference=inference or InferenceSettings(),
    )


def bayesian_remap(
    mol: Molecule,
    conv_from: Convention | str,
    conv_to: Convention | str,
    kind: str = "lj",
    *,
    intermolecular: bool = False,
    prior_scale: float = 1.0,
    sigma_res_scale: float = 0.5,
    sigma_floor: float = 1e-3,
    num_warmup: int = 500,
    num_samples: int = 1000,
    num_chains: int = 2,
    target_accept_prob: float = 0.95,
    seed: int = 0,
    out=None,
) -> dict:
    r"""Posterior of the per-atom factors and of the irreducible residual (see the module).

    Builds :func:`remap_problem` and samples it with :func:`bayesff.calibrate`.

    Parameters
    ----------
    mol, conv_from, conv_to, kind, intermolecular
        As in :func:`bayesff.potentials.scaling.remap_system`.
    prior_scale, sigma_res_scale, sigma_floor
        s, tau and sigma_0 (see :func:`remap_problem`).
    num_warmup, num_samples, num_chains, seed
        NUTS settings (chains vectorised on one device).
    target_accept_prob
        NUTS target acceptance. 0.95 rather than 0.8: in the unconstrained
        ln sigma the half-normal prior has a super-exponential upper tail,
        where a larger step diverges (no-information cases).
    out
        Run-file path, replaced if present (``None``: write nothing).

    Returns
    -------
    dict
        ``log_factor_mean``, ``log_factor_sd``, ``factor_mean``, ``factor_sd``,
        ``factor_median`` (shape (n,); an atom in no interacting pair keeps
        its prior, ln f ~ N(0, s^2), so its f has mean exp(s^2 / 2));
        ``sigma_res`` with ``mean``, ``sd``, ``q05``, ``q50``, ``q95``;
        ``residual_mean`` (shape (m,), b - M x); ``pairs``; ``redundancy``
        (m - rank); ``sigma_res_identified`` (redundancy > 0);
        ``num_divergences``; ``samples`` with ``log_factors`` (draws, n) and
        ``sigma_res`` (draws,), draws in (chain, draw) order; ``settings``;
        ``run`` (the :class:`~bayesff.inference.Run`).

    Raises
    ------
    ValueError
        For a setting that is not a finite positive number or a positive
        integer, or a molecule without interacting pairs; before any sampling.
    """

    counts = {"num_warmup": num_warmup, "num_samples": num_samples, "num_chains": num_chains}
    _check_settings(prior_scale, sigma_res_scale, sigma_floor, counts, target_accept_prob)
    modes = remap_modes(mol, conv_from, conv_to, kind, intermolecular=intermolecular)
    settings = InferenceSettings(
        chains=num_chains,
        warmup=num_warmup,
        samples=num_samples,
        seed=seed,
        target_accept=target_accept_prob,
        prior_draws=100,
    )
    problem = remap_problem(
        modes,
        kind=kind,
        prior_scale=prior_scale,
        sigma_res_scale=sigma_res_scale,
        sigma_floor=sigma_floor,
        inference=settings,
    )
    run = calibrate(problem, out=out, force=out is not None, progress=False, log=None)
    res = summarise(run, modes, prior_scale=prior_scale, sigma_floor=sigma_floor, seed=seed)
    res["kind"] = kind
    res["settings"] = {
        "prior_scale": prior_scale,
        "sigma_res_scale": sigma_res_scale,
        "sigma_floor": sigma_floor,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "num_chains": num_chains,
        "target_accept_prob": target_accept_prob,
        "seed": seed,
    }
    return res


def _run_draws(run) -> tuple[np.ndarray, np.ndarray]:
    """(w (S, n), sigma_res (S,)) from a re-mapping run, draws in (chain, draw) order."""

    dt = run.datatree
    lat = runfile.latents(dt)
    names = runfile.parameter_names(dt)
    (scale,) = [v for v in lat.data_vars if v not in names]  # the inferred scale: sigma_res

    def flat(v):
        return np.asarray(lat[v].transpose("chain", "draw").values).reshape(-1)

    return np.stack([flat(v) for v in names], axis=1), flat(scale)


def complete_log_factors(modes: RemapModes, w, sigma, *, prior_scale, sigma_floor, rng):
    r"""Draws of x = w + eta, eta drawn from its Gaussian conditional given (w, sigma_res, b).

    In the right-singular basis z = V^T eta the conditional is independent per
    direction: for :math:`S_k > 0`,
    :math:`(U^T b)_k - S_k (V^T w)_k = S_k z_k + e_k`,
    :math:`e_k \sim N(0, \sigma^2 + \sigma_0^2)`, :math:`z_k \sim N(0, s^2/2)`;
    the other directions keep the prior.

    Parameters
    ----------
    modes
        The system (:func:`remap_modes`).
    w, sigma
        (S, n) and (S,) posterior draws.
    prior_scale, sigma_floor
        s and sigma_0.
    rng
        A :class:`numpy.random.Generator`.

    Returns
    -------
    numpy.ndarray
        (S, n) draws of x.
    """
    m, n = modes.M.shape
    k = min(m, n)
    s2 = (1.0 - EXPLICIT_FRACTION) * prior_scale**2
    v = sigma[:, None] ** 2 + sigma_floor**2
    S = np.zeros(n)
    S[:k] = modes.S[:k]
    r = np.zeros((w.shape[0], n))
    r[:, :k] = (modes.U.T @ modes.b)[None, :k] - (w @ modes.Vt.T)[:, :k] * S[None, :k]
    prec = 1.0 / s2 + S[None, :] ** 2 / v
    mean = (S[None, :] * r / v) / prec
    z = mean + rng.standard_normal(mean.shape) / np.sqrt(prec)
    return w + z @ modes.Vt


def summarise(run, modes: RemapModes, *, prior_scale: float, sigma_floor: float, seed: int = 0):
    """The numbers of :func:`bayesian_remap` from a re-mapping run (see its Returns)."""
    w, sigma = _run_draws(run)
    rng = np.random.default_rng([seed, 14])
    x = complete_log_factors(
        modes, w, sigma, prior_scale=prior_scale, sigma_floor=sigma_floor, rng=rng
    )
    f = np.exp(x)
    q05, q50, q95 = np.quantile(sigma, [0.05, 0.5, 0.95])
    m = modes.M.shape[0]
    return {
        "log_factor_mean": x.mean(axis=0),
        "log_factor_sd": x.std(axis=0, ddof=1),
        "factor_mean": f.mean(axis=0),
        "factor_sd": f.std(axis=0, ddof=1),
        "factor_median": np.median(f, axis=0),
        "sigma_res": {
            "mean": float(sigma.mean()),
            "sd": float(sigma.std(ddof=1)),
            "q05": float(q05),
            "q50": float(q50),
            "q95": float(q95),
        },
        "residual_mean": (modes.b[None, :] - x @ modes.M.T).mean(axis=0),
        "pairs": modes.pairs,
        "redundancy": m - modes.rank,
        "sigma_res_identified": m > modes.rank,
        "num_divergences": int(run.diagnostics.divergences),
        "samples": {"log_factors": x, "sigma_res": sigma},
        "run": run,
    }
