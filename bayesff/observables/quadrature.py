r"""Quadrature rules shared by the B2 forward models (the bottom of :mod:`bayesff.observables`).

The radial rule of :mod:`bayesff.observables.virial` (Gauss-Legendre panels
placed at fixed multiples of the potential's length scale and at its
breakpoints, and a tail panel mapped from t = R/r), the angular rule and the
flat orientation grid of :mod:`bayesff.observables.orientational`, used as
they are by the stored two-centre table
(:mod:`bayesff.observables.two_centre_table`), so that the three give the same
numbers node for node. Written by hand because the panels must end at the
potential's breakpoints, which generic quadrature libraries do not know
(docs/architecture.md, "What is written by hand").
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

__all__ = [
    "DEFAULT_NODES",
    "PANEL_EDGES",
    "angular_rule",
    "beta",
    "expm1_capped",
    "gauss_legendre",
    "inside_domain",
    "orientation_grid",
    "radial_nodes",
    "radial_rule",
]

#: Panel edges in units of the potential's length scale. Chosen so that the
#: steep rise of exp(-u/kT) (x ~ 0.6 at T* = 100, x ~ 0.95 at T* = 0.3) and the
#: well (x ~ 1.1) each fall inside a panel of their own.
PANEL_EDGES = (0.0, 0.6, 0.8, 0.95, 1.1, 1.4, 2.0)
DEFAULT_NODES = 16


@functools.cache
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights of ``n`` points on [0, 1] (NumPy, cached)."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def radial_rule(potential, params: dict, nodes_per_panel: int = DEFAULT_NODES):
    """Radii (angstrom) and weights of the B2 quadrature for given parameters.

    Parameters
    ----------
    potential
        A pair potential.
    params
        Its parameters, internal units.
    nodes_per_panel
        Gauss-Legendre nodes per panel (the tail panel included).

    Returns
    -------
    r, w : jax.Array
        Radii in angstrom and weights such that ``sum(w * f(r))`` approximates
        the integral of ``f`` over (0, inf) for ``f ~ r^(2-m)`` at large r,
        m > 3 (exact in the limit for integer m; see the module docstring).
    """
    s = potential.length_scale(**params)
    # breakpoints (jumps, kinks) and smooth extra panel ends (e.g. a GP box)
    bps = tuple(potential.breakpoints(**params)) + tuple(potential.quadrature_edges(**params))
    edges = jnp.asarray(PANEL_EDGES) * s
    if bps:
        # Breakpoints first: jnp.sort is stable, so where a breakpoint ties a
        # fixed edge the breakpoint closes the panel below it and the
        # derivative with respect to it (e.g. the square well's lambda) is kept.
        bp = jnp.stack([jnp.asarray(b, dtype=edges.dtype) for b in bps])
        edges = jnp.sort(jnp.concatenate([bp, edges]), stable=True)
    x, wx = gauss_legendre(nodes_per_panel)
    a, b = edges[:-1, None], edges[1:, None]
    r_in = (a + (b - a) * x).ravel()
    w_in = ((b - a) * wx).ravel()
    big_r = edges[-1]
    r_tail = big_r / x  # t = R/r in (0, 1) maps to r in (R, inf)
    w_tail = big_r / x**2 * wx
    return jnp.concatenate([r_in, r_tail]), jnp.concatenate([w_in, w_tail])


@functools.cache
def angular_rule(n_cos: int, n_phi: int, head_tail_symmetric: bool, phi_rule: str = "chebyshev"):
    """Nodes and weights of the orientation average.

    The tensor product of a Gauss-Legendre rule in each cos(theta_i) and a
    rule in phi, folded by the exchange symmetry of identical molecules:
    :math:`u(c_1, c_2, \\cos\\phi) = u(-c_2, -c_1, \\cos\\phi)` (relabelling the
    molecules reverses the intermolecular vector), which for head-tail
    symmetric molecules becomes :math:`u(c_1, c_2, \\cdot) = u(c_2, c_1, \\cdot)`.
    The rule's nodes are closed under that map, so each pair of mirror
    nodes is evaluated once with twice the weight (the result is the same
    number as the full tensor rule's, at about half the cost).

    Parameters
    ----------
    n_cos
        Gauss-Legendre nodes in each cos(theta_i) (over [0, 1] if
        ``head_tail_symmetric``, else over [-1, 1]).
    n_phi
        Nodes in phi over [0, pi].
    head_tail_symmetric
        See :class:`~bayesff.potentials.molecular.LinearPairPotential`.
    phi_rule
        ``"chebyshev"`` (default): the Gauss rule of
        :math:`\\frac1\\pi\\int_0^\\pi g(\\cos\\phi)\\,d\\phi
        = \\frac1\\pi\\int_{-1}^1 g(x)(1-x^2)^{-1/2}dx`, i.e. Gauss-Chebyshev,
        the midpoint rule in phi, exact for polynomials of degree
        2 n_phi - 1 in cos(phi); ``"legendre"``: Gauss-Legendre in phi.
        For the same error Chebyshev needs about half the nodes
        (measured on 2CLJ in ``tests/observables/test_orientational.py``).

    Returns
    -------
    c1, s1, c2, s2, cphi, w : numpy.ndarray
        Flat arrays: cosines and sines of the two polar angles, cos(phi), and
        weights summing to 1, so that ``sum(w * F)`` approximates the
        orientation average of any F with the symmetry above.
    """
    if n_cos < 1 or n_phi < 1:
        raise ValueError(f"n_cos and n_phi must be >= 1, got {n_cos}, {n_phi}")
    x, wx = gauss_legendre(n_cos)
    if head_tail_symmetric:
        c, wc = x, wx  # [0, 1], weights sum to 1
    else:
        c, wc = 2.0 * x - 1.0, wx  # [-1, 1], weights sum to 1 (the 1/2 of the average)
    if phi_rule == "chebyshev":
        # Gauss rule for (1/pi) int_0^pi g(cos phi) dphi
        #   = (1/pi) int_{-1}^{1} g(x) / sqrt(1 - x^2) dx:
        # Gauss-Chebyshev, i.e. the midpoint rule in phi
        phi = np.pi * (np.arange(n_phi) + 0.5) / n_phi
        wp = np.full(n_phi, 1.0 / n_phi)
    elif phi_rule == "legendre":
        p, wp = gauss_legendre(n_phi)
        phi = np.pi * p  # weights wp sum to 1 = (1/pi) * pi
    else:
        raise ValueError(f"phi_rule must be 'chebyshev' or 'legendre', got {phi_rule!r}")
    i, j = np.meshgrid(np.arange(n_cos), np.arange(n_cos), indexing="ij")
    i, j = i.ravel(), j.ravel()
    if head_tail_symmetric:
        # (i, j) ~ (j, i): keep i <= j
        keep, mult = i <= j, np.where(i < j, 2.0, 1.0)
    else:
        # (c_i, c_j) ~ (-c_j, -c_i); GL nodes satisfy c_{n-1-k} = -c_k
        s = i + j
        keep, mult = s <= n_cos - 1, np.where(s < n_cos - 1, 2.0, 1.0)
    i, j, mult = i[keep], j[keep], mult[keep]
    w_pair = wc[i] * wc[j] * mult
    c1 = np.repeat(c[i], n_phi)
    c2 = np.repeat(c[j], n_phi)
    w = (w_pair[:, None] * wp[None, :]).ravel()
    cphi = np.tile(np.cos(phi), i.size)
    return c1, np.sqrt(1.0 - c1 * c1), c2, np.sqrt(1.0 - c2 * c2), cphi, w


def radial_nodes(rc, big_r, nodes_per_panel, core):
    """Radii and weights per orientation (inner panels) and the shared tail.

    rc: (n_orient,) contact distances; big_r: scalar end of the inner region;
    core: fraction of rc below which nothing is integrated (the overlap core).
    """
    x, wx = gauss_legendre(nodes_per_panel)
    # panels core .. 1.4 in units of rc (virial.py's edges, the first one moved to the core)
    inner = jnp.asarray((core, *(e for e in PANEL_EDGES[1:-1] if e > core)))
    edges = jnp.concatenate(
        [rc[:, None] * inner[None, :], jnp.broadcast_to(big_r, rc.shape)[:, None]], axis=1
    )
    a, b = edges[:, :-1, None], edges[:, 1:, None]
    r_in = (a + (b - a) * x).reshape(rc.shape[0], -1)
    w_in = ((b - a) * wx).reshape(rc.shape[0], -1)
    r_tail = big_r / x
    w_tail = big_r / x**2 * wx
    return r_in, w_in, r_tail, w_tail


def expm1_capped(x):
    """expm1(x) with x capped below at -700: the result is -1 either way, and the cap keeps
    the computation out of subnormal numbers (slow on x86) and out of inf * 0 in gradients."""
    return jnp.expm1(jnp.maximum(x, -700.0))


def beta(T_K):
    """1 / (R T), mol/kJ, for temperatures in K."""
    return 1.0 / (GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(T_K, dtype=float))


def orientation_grid(potential, params, nodes_per_panel, n_cos, n_phi, phi_rule):
    """Flat quadrature grid: radii, weights w_angle * w_r * r^2, and the angles.

    The nodes depend on the parameters only through the contact distances
    (panel placement), which changes the result at the level of the
    quadrature error; derivatives are taken at fixed nodes (see
    :func:`bayesff.observables.orientational.second_virial_linear`).
    """
    c1, s1, c2, s2, cphi, w_ang = (
        jnp.asarray(a) for a in angular_rule(n_cos, n_phi, potential.head_tail_symmetric, phi_rule)
    )
    p = {k: jax.lax.stop_gradient(v) for k, v in params.items()}
    rc = potential.contact_distance(c1, s1, c2, s2, cphi, **p)
    big_r = 2.0 * jnp.max(rc)
    core = potential.overlap_core
    r_in, w_in, r_tail, w_tail = radial_nodes(rc, big_r, nodes_per_panel, core)
    # the overlap core r < core * rc contributes int_0^{core rc} (-1) r^2 dr per orientation
    core_volume = jnp.sum(w_ang * (core * rc) ** 3) / 3.0
    n_o, n_in, n_t = rc.shape[0], r_in.shape[1], r_tail.shape[0]
    r = jnp.concatenate([r_in, jnp.broadcast_to(r_tail, (n_o, n_t))], axis=1)
    w_r = jnp.concatenate([w_in, jnp.broadcast_to(w_tail, (n_o, n_t))], axis=1)
    weight = (w_ang[:, None] * w_r * r * r).ravel()
    ang = tuple(jnp.repeat(a, n_in + n_t) for a in (c1, s1, c2, s2, cphi))
    return r.ravel(), weight, ang, core_volume


def inside_domain(potential, params: dict, T_K):
    """True where a B2 quadrature means something: a positive length scale and T > 0.

    A length scale <= 0 (sigma < 0) runs the radial panels backwards, giving B2 with its
    sign flipped (or, for a two-centre molecule, the B2 of |sigma|), and T <= 0 has no
    Boltzmann factor: the B2 observables are NaN there (physics audit, 2026-11-30). No
    gradient; the shape of ``T_K``.
    """
    scale = jax.lax.stop_gradient(potential.length_scale(**params))
    T = jax.lax.stop_gradient(jnp.asarray(T_K, dtype=float))
    return (scale > 0.0) & (T > 0.0)
