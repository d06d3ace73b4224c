"""Laplace start: the posterior mode and its curvature, where chains start and warm-up's metric.

For expensive models whose parameters are strongly correlated (epsilon with
sigma), warm-up otherwise spends most of its gradients on long trajectories
with an unadapted metric (measured on argon_joint: docs/joint.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize

from bayesff.errors import BayesffError

__all__ = ["LaplaceStart", "ModeMap", "laplace_start"]


#: Eigenvalues of the Hessian at the mode are floored at this fraction of the largest, so
#: that the inverse exists where the density is flat or the finite differences noisy. Low:
#: a higher floor shrinks the metric's widest directions (1e-3 cut the widest Laplace sd of
#: the Mie-chain n-butane model 4.4-fold, its eigenvalues spanning 1.9e4).
EIGEN_FLOOR = 1e-6

#: The curvature given to a direction whose Hessian eigenvalue is not positive, as a
#: fraction of the largest (the floor every eigenvalue had before EIGEN_FLOOR).
INDEFINITE_FLOOR = 1e-3

#: A local optimum counts as a competing mode (its chain starts there, so that R-hat
#: can see it) when its log density is within this many nats of the best one's.
#: Lower optima hold less than e^-10 of the best one's mass near their peak.
COMPETING_NATS = 10.0

#: Most BFGS rounds after L-BFGS-B in one optimisation (each from where the last stopped).
POLISH_ROUNDS = 5


@dataclass
class LaplaceStart:
    """Result of :func:`laplace_start` (NumPyro's unconstrained space).

    Attributes
    ----------
    mode
        The best mode found, unconstrained, as a flat vector over the ravelled sites.
    starts
        (chains, D) starting points, unconstrained.
    inverse_mass_matrix
        (D, D) inverse Hessian of the negative log density at the mode, over
        the ravelled sites (NumPyro's ``dense_mass`` layout).
    evaluations
        Log-density evaluations used (optimiser, Hessian and start checks).
    optima
        (K, D) where each optimisation ended (one per starting point).
    log_densities
        (K,) log density at each of ``optima``.
    modes
        Number of distinct competing modes among ``optima`` (1 when every
        optimisation ended at the best mode or far below it).
    mode_map
        The competing modes as a :class:`ModeMap` (the best first), which
        labels each draw with its nearest one.
    """

    mode: np.ndarray
    starts: np.ndarray
    inverse_mass_matrix: np.ndarray
    evaluations: int
    optima: np.ndarray
    log_densities: np.ndarray
    modes: int
    mode_map: ModeMap | None = None


@dataclass
class ModeMap:
    """The distinct competing modes a Laplace start found, to label draws by.

    Attributes
    ----------
    centres
        (M, D) the modes, unconstrained and ravelled, the best first (coordinates
        sampled as |x| taken as |x|).
    precision
        (D, D) the floored Hessian at the best mode: distances are in its Laplace sd.
    folded
        (D,) boolean: coordinates sampled as |x|, whose sign is not part of a point.
    """

    centres: np.ndarray
    precision: np.ndarray
    folded: np.ndarray

    def labels(self, x: np.ndarray) -> np.ndarray:
        """Index of the nearest mode (Mahalanobis distance under ``precision``) of each
        point of ``x`` (..., D): an integer array of shape ``x.shape[:-1]``."""
        x = np.where(self.folded, np.abs(x), x)
        diff = x[..., None, :] - self.centres  # (..., M, D)
        d2 = np.einsum("...md,de,...me->...m", diff, self.precision, diff)
        return np.argmin(d2, axis=-1).astype(np.int8)


def laplace_start(
    kernel, data, x0: np.ndarray, template, key, chains: int, *, widen=2.0, folded=None
):
    """Modes by L-BFGS-B and BFGS from each row of ``x0``; Hessian at the best by differences.

    The negative log density (NumPyro's potential energy, in unconstrained
    space) is minimised with scipy's L-BFGS-B, then BFGS (:func:`_optimise`),
    from every starting point (one per chain is the calibration's default: a
    single optimisation can end in a local mode far below the best, measured
    on argon_lj_b2 where one start in three reached a mode 160 nats down and
    all chains stayed there). The Hessian at the best mode comes from central
    differences of the gradient (the forward models' implicit-function
    gradients have no second derivatives), is symmetrised, and its
    positive eigenvalues are floored at :data:`EIGEN_FLOOR` of the largest and
    non-positive ones set to :data:`INDEFINITE_FLOOR` of it, so that the inverse
    exists. Chain ``c`` starts at
    ``widen`` x a draw from N(0, H^-1) about the best mode, or about its own
    optimum (row ``c mod K``) when that is a distinct mode within
    :data:`COMPETING_NATS` of the best, so that R-hat sees a posterior with
    several comparable modes; at the mode itself if that point has no finite
    density.

    Parameters
    ----------
    kernel
        A :class:`~bayesff.inference.kernels.Kernel` (its ``log_density``).
    data
        One problem's model data (no batch axis).
    x0
        Starting point(s), ravelled unconstrained vectors: (D,) or (K, D).
    template
        The unconstrained latent dict whose ravelling ``x0`` is.
    folded
        Optional boolean mask (D,) of coordinates sampled as |x| (x and -x are
        one point: optima that differ only in their signs are one mode).

    Raises
    ------
    BayesffError
        If every optimisation ends at a point without a finite log density.
    """

    count = [0]

    def fun(x):
        count[0] += 1
        v, g = kernel.log_density(jnp.asarray(x), template, data)
        v, g = -float(v), -np.asarray(g, dtype=float)
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            return 1e30, np.zeros_like(g)  # no density here: the line search backs off
        return v, g

    x0 = np.atleast_2d(np.asarray(x0, dtype=float))
    optima = np.empty_like(x0)
    energy = np.empty(len(x0))
    for k, x in enumerate(x0):
        optima[k], energy[k] = _optimise(fun, x)
    best = int(np.argmin(energy))
    if energy[best] >= 1e30:
        raise BayesffError(
            "laplace start: the optimiser ended where the log density is not finite; "
            'use init = "central"',
            "[inference] init",
        )
    x_map = optima[best]
    d = x_map.size
    h = 1e-4 * np.maximum(1.0, np.abs(x_map))
    hess = np.empty((d, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h[i]
        hess[:, i] = (fun(x_map + e)[1] - fun(x_map - e)[1]) / (2.0 * h[i])
    hess = 0.5 * (hess + hess.T)
    w, v = np.linalg.eigh(hess)
    top = max(float(w.max()), 1e-12)
    # a measured positive curvature is kept down to EIGEN_FLOOR; a direction without one
    # (not a mode there, or noise) gets the conservative INDEFINITE_FLOOR: a near-zero
    # curvature there would send a widened start far away
    w = np.where(w > 0, np.maximum(w, EIGEN_FLOOR * top), INDEFINITE_FLOOR * top)
    cov = (v / w) @ v.T
    chol = v / np.sqrt(w)  # cov = chol @ chol.T
    prec = (v * w) @ v.T  # the floored Hessian: distances in Laplace sd
    mirror = np.zeros(d, bool) if folded is None else np.asarray(folded, dtype=bool)
    canon = np.where(mirror, np.abs(optima), optima)
    best_c = np.where(mirror, np.abs(x_map), x_map)
    # a competing mode: close in density, but more than 3 Laplace sd from the best
    far = np.array([_distance(x, best_c, prec) > 3.0 for x in canon])
    competing = far & (energy - energy[best] < COMPETING_NATS)
    own = np.arange(chains) % len(x0)
    centres = np.where(competing[own, None], optima[own], x_map)
    # NumPy's generator, seeded by the key: jax.random would compile a program here
    z = np.random.default_rng(np.asarray(key, dtype=np.uint32)).standard_normal((chains, d))
    starts = centres + widen * z @ chol.T
    for c in range(chains):
        if fun(starts[c])[0] >= 1e30:
            starts[c] = centres[c]
    others = _distinct(canon[competing], prec)
    mode_map = ModeMap(np.stack([best_c, *others]), prec, mirror)
    return LaplaceStart(x_map, starts, cov, count[0], optima, -energy, 1 + len(others), mode_map)


def _optimise(fun, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimise ``fun`` from ``x``: L-BFGS-B, then BFGS from where it stopped; the lower end.

    L-BFGS-B alone is not enough: where its first trial step (unit length along the
    gradient) lands outside the forward model's domain, its line search returns to the
    start and reports convergence after one iteration. Measured on the Mie-chain model of
    n-butane (models/alkane_chains, per molecule): it stopped at -log p = 7586, where BFGS,
    whose line search backs off, reached the mode at -160 (docs/chains.md). BFGS from an
    optimum L-BFGS-B did reach stops after a step or two. BFGS can stop the same way
    ("precision loss" after a step into the domain's edge); a fresh BFGS from its end, with
    its curvature memory reset, often goes on: it is restarted while it gains (up to
    :data:`POLISH_ROUNDS` times; argon_lj_vle: one start stopped 170 nats above the mode
    and a second round reached it).
    """
    best = minimize(fun, x, jac=True, method="L-BFGS-B").x
    e_best = fun(best)[0]
    for _ in range(POLISH_ROUNDS):
        with warnings.catch_warnings():
            # "precision loss" at a converged optimum of a flat or very narrow density
            warnings.simplefilter("ignore", RuntimeWarning)
            res = minimize(fun, best, jac=True, method="BFGS")
        if not res.fun < e_best - 1e-9 * max(1.0, abs(e_best)):
            break
        best, e_best = res.x, float(res.fun)
    return best, e_best


def _distance(x: np.ndarray, y: np.ndarray, prec: np.ndarray) -> float:
    """Mahalanobis distance of x from y under the precision ``prec``."""
    return float(np.sqrt(max((x - y) @ prec @ (x - y), 0.0)))


def _distinct(points: np.ndarray, prec: np.ndarray) -> list[np.ndarray]:
    """One point of each cluster of ``points`` more than 3 Laplace sd apart (greedy)."""
    kept: list[np.ndarray] = []
    for x in points:
        if all(_distance(x, y, prec) > 3.0 for y in kept):
            kept.append(x)
    return kept
