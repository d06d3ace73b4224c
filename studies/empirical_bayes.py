r"""Empirical Bayes for GP pair potentials: hyperparameters at their posterior mode on a grid.

A GP potential of :mod:`bayesff.potentials.gp` (u = u_base + f, f an HSGP
correction with weights :math:`\beta`) is linear-Gaussian in :math:`\beta`
given its hyperparameters (amplitude :math:`a` in kJ/mol, length scale
:math:`\ell` in angstrom) and the base parameters, so the weights integrate
out exactly (:func:`bayesff.potentials.gp.log_marginal_likelihood`). Type-II
MAP ("empirical Bayes"): choose :math:`(a, \ell)` where

.. math:: \ln p(u \mid a, \ell) + \ln p(a) + \ln p(\ell)

is largest on a grid, then condition the weights on the data in closed form
(:func:`bayesff.potentials.gp.condition`). With two hyperparameters a grid is
cheaper and safer than a gradient search: the surface has flat ridges where
the amplitude and the length scale trade off, the grid evaluates in one
vectorised call, and its maximum cannot be a local one. The uncertainty of
:math:`(a, \ell)` is not propagated (use :func:`bayesff.calibrate` on the GP
potential for that).

Reference: C. E. Rasmussen and C. K. I. Williams, *Gaussian Processes for
Machine Learning* (MIT Press, 2006), section 5.4 (marginal likelihood).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.potentials.gp import condition, log_marginal_likelihood
from bayesff.runtime import ensure_configured

__all__ = ["GridFit", "grid_empirical_bayes", "half_normal_log_normal"]


@dataclass
class GridFit:
    """The outcome of :func:`grid_empirical_bayes`.

    Attributes
    ----------
    params
        The base parameters (internal units) with ``amplitude`` (kJ/mol) and
        ``length_scale`` (angstrom) at the grid's best point.
    posterior
        The weights' Gaussian posterior there
        (:class:`bayesff.potentials.gp.WeightPosterior`).
    log_posterior
        ``(len(amplitude_grid), len(length_grid))`` log marginal likelihood
        plus log hyperprior (``-inf`` where not finite).
    amplitude_grid, length_grid
        The grids, kJ/mol and angstrom.
    """

    params: dict
    posterior: object
    log_posterior: np.ndarray
    amplitude_grid: np.ndarray
    length_grid: np.ndarray


def half_normal_log_normal(
    amplitude_scale: float = 1.0, length_median: float = 1.0, length_sd: float = 0.5
) -> Callable:
    r"""``log p(a) + log p(l)`` up to a constant: a ~ HalfNormal, l ~ LogNormal.

    .. math:: -\frac{a^2}{2 s_a^2} - \frac{(\ln \ell - \ln \ell_0)^2}{2 s_\ell^2} - \ln \ell

    Parameters
    ----------
    amplitude_scale
        :math:`s_a`, kJ/mol.
    length_median, length_sd
        :math:`\ell_0` (angstrom) and :math:`s_\ell` (sd of ln l).
    """

    def log_prior(amplitude, length_scale):
        z = (jnp.log(length_scale) - jnp.log(length_median)) / length_sd
        return -0.5 * (amplitude / amplitude_scale) ** 2 - 0.5 * z**2 - jnp.log(length_scale)

    return log_prior


def grid_empirical_bayes(
    gp,
    base_params: dict,
    r,
    u,
    noise_sd,
    *,
    amplitude_grid,
    length_grid,
    log_hyperprior: Callable | None = None,
) -> GridFit:
    """GP hyperparameters at their posterior mode on a grid, then the weights' posterior.

    Parameters
    ----------
    gp
        A GP pair potential (:func:`bayesff.potentials.gp.gp_pair_potential`).
    base_params
        Its base potential's parameters, fixed (internal units).
    r, u
        Distances (angstrom) and reference energies (kJ/mol).
    noise_sd
        Standard deviation of each energy (kJ/mol): a scalar or one per point.
    amplitude_grid, length_grid
        Grid values of the amplitude (kJ/mol) and length scale (angstrom).
    log_hyperprior
        ``log_hyperprior(amplitude, length_scale)`` (jax-traceable); default
        :func:`half_normal_log_normal` with its defaults.

    Returns
    -------
    GridFit
    """

    ensure_configured()
    log_hyperprior = log_hyperprior or half_normal_log_normal()
    a_grid, l_grid = np.asarray(amplitude_grid, float), np.asarray(length_grid, float)
    aa, ll = np.meshgrid(a_grid, l_grid, indexing="ij")
    s = np.broadcast_to(np.asarray(noise_sd, float), np.shape(r))

    def score(a, ell):
        p = {**base_params, "amplitude": a, "length_scale": ell}
        return log_marginal_likelihood(gp, p, r, u, s) + log_hyperprior(a, ell)

    grid = np.asarray(jax.jit(jax.vmap(score))(jnp.asarray(aa.ravel()), jnp.asarray(ll.ravel())))
    grid = np.where(np.isfinite(grid), grid, -np.inf).reshape(aa.shape)
    i, j = np.unravel_index(np.argmax(grid), grid.shape)
    params = {**base_params, "amplitude": float(aa[i, j]), "length_scale": float(ll[i, j])}
    return GridFit(params, condition(gp, params, r, u, s), grid, a_grid, l_grid)
