"""Laplace start: the posterior mode and its curvature, where chains start and warm-up's metric.

For expensive models whose parameters are strongly correlated (epsilon with
sigma), warm-up otherwise spends most of its gradients on long trajectories
with an unadapted metric (measured on argon_joint: docs/joint.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesff.errors import BayesffError

__all__ = ["LaplaceStart", "laplace_start"]


@dataclass
class LaplaceStart:
    """Result of :func:`laplace_start` (NumPyro's unconstrained space).

    Attributes
    ----------
    mode
        The mode, unconstrained, as a flat vector over the ravelled sites.
    starts
        (chains, D) starting points, unconstrained.
    inverse_mass_matrix
        (D, D) inverse Hessian of the negative log density at the mode, over
        the ravelled sites (NumPyro's ``dense_mass`` layout).
    evaluations
        Log-density evaluations used (optimiser, Hessian and start checks).
    """

    mode: np.ndarray
    starts: np.ndarray
    inverse_mass_matrix: np.ndarray
    evaluations: int


def laplace_start(kernel, data, x0: np.ndarray, template, key, chains: int, *, widen=2.0):
    """Mode by L-BFGS from ``x0``, Hessian by central differences of the gradient.

    The negative log density (NumPyro's potential energy, in unconstrained
    space) is minimised with scipy's L-BFGS-B. The Hessian at the mode comes
    from central differences of the gradient (the forward models'
    implicit-function gradients have no second derivatives), is symmetrised,
    and its eigenvalues are floored at 1e-3 of the largest so that the inverse
    exists. Each chain starts at mode + ``widen`` x a draw from N(0, H^-1), or
    at the mode if that point has no finite density.

    Parameters
    ----------
    kernel
        A :class:`~bayesff.inference.kernels.Kernel` (its ``log_density``).
    data
        One problem's model data (no batch axis).
    x0
        Starting point, ravelled unconstrained vector.
    template
        The unconstrained latent dict whose ravelling ``x0`` is.

    Raises
    ------
    BayesffError
        If the optimiser ends at a point without a finite log density.
    """
    import jax.numpy as jnp
    from scipy.optimize import minimize

    count = [0]

    def fun(x):
        count[0] += 1
        v, g = kernel.log_density(jnp.asarray(x), template, data)
        v, g = -float(v), -np.asarray(g, dtype=float)
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            return 1e30, np.zeros_like(g)  # no density here: the line search backs off
        return v, g

    res = minimize(fun, np.asarray(x0, dtype=float), jac=True, method="L-BFGS-B")
    x_map = res.x
    if fun(x_map)[0] >= 1e30:
        raise BayesffError(
            "laplace start: the optimiser ended where the log density is not finite; "
            'use init = "central"',
            "[inference] init",
        )
    d = x_map.size
    h = 1e-4 * np.maximum(1.0, np.abs(x_map))
    hess = np.empty((d, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h[i]
        hess[:, i] = (fun(x_map + e)[1] - fun(x_map - e)[1]) / (2.0 * h[i])
    hess = 0.5 * (hess + hess.T)
    w, v = np.linalg.eigh(hess)
    w = np.maximum(w, 1e-3 * max(float(w.max()), 1e-12))
    cov = (v / w) @ v.T
    chol = v / np.sqrt(w)  # cov = chol @ chol.T
    # NumPy's generator, seeded by the key: jax.random would compile a program here
    z = np.random.default_rng(np.asarray(key, dtype=np.uint32)).standard_normal((chains, d))
    starts = x_map + widen * z @ chol.T
    for c in range(chains):
        if fun(starts[c])[0] >= 1e30:
            starts[c] = x_map
    return LaplaceStart(x_map, starts, cov, count[0])
