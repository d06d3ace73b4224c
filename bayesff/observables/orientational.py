r"""Orientation-averaged second virial coefficient of rigid linear molecules.

.. math::

    B_2(T) = -2\pi N_A \int_0^\infty r^2
             \left\langle e^{-u(r,\Omega)/k_BT} - 1\right\rangle_\Omega dr,
    \qquad
    \langle F\rangle_\Omega = \frac14\int_{-1}^{1}\!d\cos\theta_1
        \int_{-1}^{1}\!d\cos\theta_2\,\frac{1}{\pi}\int_0^{\pi}\!d\phi\; F

for a :class:`~bayesff.potentials.molecular.LinearPairPotential` (angles as
in :mod:`bayesff.potentials.molecular`; the potential depends on
:math:`\phi` through :math:`\cos\phi` only, so [0, pi] covers it). Fixed
Gauss quadrature throughout, so that B2 is jit-able, vmap-able over
temperatures and parameter draws, and differentiable in every parameter
(float64).

Quadrature rule
---------------
*Angles* (:func:`angular_rule`). Gauss-Legendre with ``n_cos`` nodes in each
of :math:`\cos\theta_1` and :math:`\cos\theta_2`, and ``n_phi`` nodes of the
Gauss rule in :math:`\phi \in [0, \pi]` for functions of :math:`\cos\phi`
(Gauss-Chebyshev, the midpoint rule in phi; ``phi_rule="legendre"`` gives
Gauss-Legendre in phi, which needs about twice the nodes for the same
error). For head-tail symmetric molecules (2CLJ, 2CLJQ)
:math:`u(c_1, c_2, \cos\phi) = u(-c_1, c_2, -\cos\phi)`, likewise for
:math:`c_2`, so the cosines run over [0, 1] only; the exchange symmetry of
identical molecules then halves the work again.

*Distance, orientation by orientation.* The panels of
:mod:`bayesff.observables.virial` (edges 0, 0.6, 0.8, 0.95, 1.1, 1.4 in units
of a length) are placed in units of the potential's ``contact_distance`` in
that orientation (where the closest sites are sigma apart: sigma at L = 0,
sigma + L head to tail), so that the steep rise of the Boltzmann factor falls
inside the same panel in every orientation; ``nodes_per_panel``
Gauss-Legendre nodes each. The last panel ends at a common radius
:math:`R = 2\max_\Omega r_c(\Omega)` and the tail :math:`r \in (R, \infty)`,
mapped to :math:`t = R/r \in (0, 1]`, uses the same nodes in every
orientation. There the angular sum cancels the dipole-dipole energy exactly
(the rule integrates :math:`\cos\theta_1\cos\theta_2` and :math:`\cos\phi`
exactly), which is what makes the integral converge (at fixed orientation
:math:`r^2 f \sim r^{-1}` for dipoles). At L = 0 every contact distance is
sigma and the radial rule is that of
:func:`bayesff.observables.virial.second_virial`, node for node.

*Overlap core.* A potential may declare an ``overlap_core`` x: below
:math:`x\,r_c(\Omega)` the Mayer function is taken as -1 and integrated in
closed form. 2CLJQ needs it (x = 0.4): its point quadrupole diverges as the
centres meet while the site-site repulsion stays finite, so its B2 is
infinite without it; the value of x is immaterial between 0.3 and 0.5
(``tests/observables/test_orientational.py``). 2CLJ and Stockmayer have none
(the integral is the exact one).

*Closed-form orientation averages.* A potential that publishes an
``orientation_average`` (Stockmayer: the average over the second dipole is
analytic and the rest an entire series with positive coefficients, see
:func:`~bayesff.potentials.molecular.stockmayer_mayer_average`) is integrated
with the radial rule of :mod:`~bayesff.observables.virial` alone (sigma
panels); ``method="quadrature"`` forces the angular quadrature (the two
agree to 1e-13, and both agree with Stockmayer's exact series, in the tests).

Derivatives
-----------
The quadrature path has an explicit JVP (:func:`_b2_quadrature`): the
derivative of the integral is the integral of the derivative of the Mayer
function at fixed nodes. Reverse mode then keeps an (n_T x n_params)
matrix instead of every Boltzmann factor, and a gradient costs about two
value evaluations. Forward and reverse mode both work (checked against
central differences).

Accuracy and cost
-----------------
Defaults ``nodes_per_panel = 16, n_cos = 16, n_phi = 16`` (2176 orientations
x 112 radii for head-tail symmetric molecules). Relative error against
(24, 32, 32) for 2CLJQ with L/sigma in {0.3, 0.6, 0.8},
Q*^2 = Q^2/(4 pi eps0 eps sigma^5) in {0, 1, 4} and T* = kT/eps in
{1, 2, 5, 20, 60} (``benchmarks/electrostatics_bench.py``,
``benchmarks/results/electrostatics_bench.json``):

* (16, 16, 16): <= 7e-10 for L/sigma <= 0.6; at L/sigma = 0.8 <= 3e-9
  without a quadrupole, <= 2.4e-8 with Q*^2 = 1, and up to 1.8e-6 with
  Q*^2 = 4 at T* = 1 (strong, sharply oriented quadrupolar attraction);
* (16, 24, 24): <= 5.5e-10 everywhere on the grid, 3-5x the cost;
* (12, 12, 12): <= 1.6e-8 for L/sigma <= 0.6, 1e-6 (Q*^2 <= 1) and 3.3e-5
  (Q*^2 = 4) at L/sigma = 0.8, a third of the cost.

Measured cost on the 2-core CPU for 20 temperatures, value / value +
gradient: (16, 16, 16) ~19 / ~54 ms, (12, 12, 12) ~5.5 / ~10 ms. The
Stockmayer closed form with 14 nodes per panel is within 1.2e-9 of its
converged value (1000 draws x 64 temperatures) and runs at ~1e6
evaluations per second.

Tabulated B2 (``method="table"``)
---------------------------------
For the two registered two-centre potentials (2CLJ, 2CLJQ) B2 is
:math:`N_A\sigma^3 B_2^*(T^*, L^*, Q^{*2})` exactly, and
:mod:`bayesff.observables.two_centre_table` interpolates a stored table of
:math:`B_2^*` computed once by this quadrature at converged settings: about a
microsecond per temperature for value and gradient instead of 70-90 (the
(8, 8, 8) rule), within 3e-6 relative of the converged quadrature where the
atlas's posteriors lie and 1.2e-4 in the far corners of the domain (that
module's docstring gives the domain and the accuracy), NaN outside the domain. The
quadrature options (``nodes_per_panel``, ``n_cos``, ``n_phi``, ``phi_rule``) do
not apply to it and are an error with it.

Units: T in K, energies in kJ/mol, lengths in angstrom, B2 in cm^3/mol.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from bayesff.observables.quadrature import (
    angular_rule,
    inside_domain,
    orientation_grid,
    radial_rule,
)
from bayesff.observables.quadrature import beta as _beta
from bayesff.observables.quadrature import expm1_capped as _mayer
from bayesff.observables.two_centre_table import (
    second_virial_table,
    table_name,
    table_potentials,
)
from bayesff.potentials.molecular import LinearPairPotential
from bayesff.units import AVOGADRO

__all__ = [
    "DEFAULT_NODES",
    "DEFAULT_N_COS",
    "DEFAULT_N_PHI",
    "angular_rule",
    "build",
    "orientation_averaged_mayer",
    "second_virial_linear",
]

DEFAULT_NODES = 16
DEFAULT_N_COS = 16
DEFAULT_N_PHI = 16

#: Å^3 per molecule -> cm^3/mol.
_A3_TO_CM3_PER_MOL = AVOGADRO * 1e-24


def _b2_quadrature(potential, params, T, nodes_per_panel, n_cos, n_phi, phi_rule):
    """-2 pi sum(W expm1(-beta u)) in angstrom^3, with an explicit JVP.

    The derivative of the integral with respect to a parameter p (or T) is
    the integral of d/dp of the Mayer function at fixed nodes,
    -2 pi sum W (-beta e^{-beta u}) du/dp (Leibniz's rule; the nodes move with
    the parameters only to place panels, which does not change the exact
    integral). The JVP rule forms the Jacobian (n_T x n_params) in one pass
    over the grid, so reverse mode stores that small matrix instead of the
    (n_T x nodes) Boltzmann factors, and a gradient costs about one more
    forward evaluation.
    """
    names = tuple(sorted(params))

    def energy(vals, r, ang):
        return potential.orientation_energy(r, *ang, **dict(zip(names, vals, strict=True)))

    @jax.custom_jvp
    def b2(vals, T):
        r, w, ang, core = orientation_grid(potential, dict(zip(names, vals, strict=True)), *opts)
        u = energy(vals, r, ang)
        f = _mayer(-_beta(T)[:, None] * u)
        return -2.0 * jnp.pi * (jnp.sum(w * f, axis=-1) - core)

    @b2.defjvp
    def b2_jvp(primals, tangents):
        vals, T = primals
        dvals, dT = tangents
        r, w, ang, core = orientation_grid(potential, dict(zip(names, vals, strict=True)), *opts)
        u = energy(vals, r, ang)
        # du/dp for every parameter: one forward-mode pass per parameter (cheap, elementwise)
        cols = [
            jax.jvp(
                lambda x, k=k: energy((*vals[:k], x, *vals[k + 1 :]), r, ang),
                (vals[k],),
                (jnp.ones_like(vals[k]),),
            )[1]
            for k in range(len(vals))
        ]
        beta = _beta(T)
        em1 = _mayer(-beta[:, None] * u)  # (n_T, N)
        b2_val = -2.0 * jnp.pi * (em1 @ w - core)
        boltz = em1 + 1.0
        # d(-beta u)/dp = -beta du/dp ; d(-beta u)/dT = beta u / T
        mat = jnp.stack([w * c for c in cols] + [w * u], axis=1)  # (N, n_p + 1)
        m = boltz @ mat  # (n_T, n_p + 1)
        jac_p = 2.0 * jnp.pi * beta[:, None] * m[:, :-1]
        jac_T = -2.0 * jnp.pi * beta / T * m[:, -1]
        tangent = jac_p @ jnp.stack([jnp.asarray(d, dtype=float) for d in dvals]) + jac_T * dT
        return b2_val, tangent

    opts = (nodes_per_panel, n_cos, n_phi, phi_rule)
    return b2(tuple(jnp.asarray(params[k], dtype=float) for k in names), T)


def _b2_closed_form(potential, params, T, nodes_per_panel):
    # the radial rule of virial.py needs only length_scale (and no breakpoints)
    r, w = radial_rule(_RadialView(potential), params, nodes_per_panel)
    f = potential.orientation_average(r[None, :], _beta(T)[:, None], **params)
    return -2.0 * jnp.pi * jnp.sum(w * r**2 * f, axis=-1)


class _RadialView:
    """What :func:`bayesff.observables.virial.quadrature_rule` reads of a potential."""

    def __init__(self, potential):
        self.length_scale = potential.length_scale

    @staticmethod
    def breakpoints(**_):
        return ()

    @staticmethod
    def quadrature_edges(**_):
        return ()


def orientation_averaged_mayer(
    potential: LinearPairPotential,
    params: dict,
    r,
    T_K,
    *,
    n_cos: int = DEFAULT_N_COS,
    n_phi: int = DEFAULT_N_PHI,
    phi_rule: str = "chebyshev",
):
    r"""Orientation average :math:`\langle e^{-u/k_BT}\rangle_\Omega - 1` at given distances.

    By the angular rule alone (never the closed form), for checks and plots.

    Parameters
    ----------
    potential
        A linear-molecule potential.
    params
        Its parameters, internal units.
    r
        Distances, angstrom, shape (n,).
    T_K
        Temperatures, K, shape (m,).

    Returns
    -------
    jax.Array
        Shape (m, n), dimensionless.
    """
    c1, s1, c2, s2, cphi, w = (
        jnp.asarray(a) for a in angular_rule(n_cos, n_phi, potential.head_tail_symmetric, phi_rule)
    )
    r = jnp.atleast_1d(jnp.asarray(r, dtype=float))
    u = potential.orientation_energy(
        r[None, :], c1[:, None], s1[:, None], c2[:, None], s2[:, None], cphi[:, None], **params
    )
    beta = _beta(jnp.atleast_1d(jnp.asarray(T_K, dtype=float)))[:, None, None]
    return jnp.einsum("o,tok->tk", w, jnp.expm1(-beta * u))


_METHODS = ("auto", "quadrature", "closed_form", "table")


def _check_method(potential, method, nodes_per_panel, n_cos, n_phi, phi_rule):
    """Validate ``method`` and the quadrature options against it, before tracing."""
    if method not in _METHODS:
        raise ValueError(
            f"method must be one of {', '.join(repr(m) for m in _METHODS)}, got {method!r}"
        )
    if getattr(potential, "kind", None) != "linear":
        name = getattr(potential, "name", potential)
        raise ValueError(
            f"the orientation-averaged B2 needs a potential of kind 'linear', got {name!r} "
            f"of kind {getattr(potential, 'kind', None)!r}"
        )
    if method == "closed_form" and potential.orientation_average is None:
        raise ValueError(f"{potential.name} has no closed-form orientation average")
    if method == "table":
        if table_name(potential) is None:
            usable = ["'auto'", "'quadrature'"]
            if potential.orientation_average is not None:
                usable.append("'closed_form'")
            raise ValueError(
                f"method 'table' needs a tabulated potential ({', '.join(table_potentials())}), "
                f"got {potential.name!r}; for it use method {' or '.join(usable)}"
            )
        given = [
            k
            for k, v in (
                ("nodes_per_panel", nodes_per_panel),
                ("n_cos", n_cos),
                ("n_phi", n_phi),
                ("phi_rule", phi_rule),
            )
            if v is not None
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)} set the quadrature and do not apply to method 'table' "
                f"(its table was computed once at converged settings); drop them"
            )


def second_virial_linear(
    potential: LinearPairPotential,
    params: dict,
    T_K,
    *,
    nodes_per_panel: int | None = None,
    n_cos: int | None = None,
    n_phi: int | None = None,
    phi_rule: str | None = None,
    method: str = "auto",
):
    r"""Orientation-averaged second virial coefficient B2(T), cm^3/mol.

    Parameters
    ----------
    potential
        A :class:`~bayesff.potentials.molecular.LinearPairPotential`.
    params
        Its parameters in internal units (kJ/mol, angstrom, e angstrom,
        e angstrom^2).
    T_K
        Temperature(s), K, any shape; energies are evaluated once and shared
        across temperatures.
    nodes_per_panel
        Gauss-Legendre nodes per radial panel (6 panels and the tail);
        default :data:`DEFAULT_NODES`.
    n_cos, n_phi, phi_rule
        Angular rule (:func:`angular_rule`), default :data:`DEFAULT_N_COS`,
        :data:`DEFAULT_N_PHI`, ``"chebyshev"``; unused by the closed form.
        None of the four may be given with ``method="table"``.
    method
        ``"auto"`` (the potential's closed-form orientation average where it
        has one, else the angular quadrature), ``"quadrature"``,
        ``"closed_form"``, or ``"table"`` (2CLJ and 2CLJQ only: the stored
        table of :mod:`bayesff.observables.two_centre_table`).

    Returns
    -------
    jax.Array
        B2 in cm^3/mol, shape of ``T_K``. NaN where the Stockmayer
        series is out of range (see
        :func:`~bayesff.potentials.molecular.stockmayer_mayer_average`) and,
        with ``method="table"``, outside the table's domain.

    Notes
    -----
    .. math:: B_2 = -2\pi N_A\int_0^\infty r^2
              \langle e^{-u(r,\Omega)/k_BT} - 1\rangle_\Omega\,dr

    References
    ----------
    C. G. Gray and K. E. Gubbins, *Theory of Molecular Fluids*, vol. 1
    (Oxford, 1984), ch. 3 and 6.
    """
    _check_method(potential, method, nodes_per_panel, n_cos, n_phi, phi_rule)
    if method == "table":
        return second_virial_table(potential, params, T_K)
    nodes_per_panel = DEFAULT_NODES if nodes_per_panel is None else nodes_per_panel
    n_cos = DEFAULT_N_COS if n_cos is None else n_cos
    n_phi = DEFAULT_N_PHI if n_phi is None else n_phi
    phi_rule = "chebyshev" if phi_rule is None else phi_rule
    closed = potential.orientation_average is not None
    T = jnp.asarray(T_K, dtype=float)
    flat = T.reshape(-1)
    if method == "closed_form" or (method == "auto" and closed):
        b2 = _b2_closed_form(potential, params, flat, nodes_per_panel)
    else:
        b2 = _b2_quadrature(potential, params, flat, nodes_per_panel, n_cos, n_phi, phi_rule)
    return (b2 * _A3_TO_CM3_PER_MOL).reshape(T.shape)


def build(
    potential: LinearPairPotential,
    *,
    nodes_per_panel: int | None = None,
    n_cos: int | None = None,
    n_phi: int | None = None,
    phi_rule: str | None = None,
    method: str = "auto",
):
    """Forward model ``predict(params, env) -> B2`` for a linear-molecule potential.

    The same contract as the builders of :mod:`bayesff.observables.virial`:
    ``env = {"T_K": array (n,)}`` in K, params in internal units, B2 in
    cm^3/mol of shape (n,). Pure, jit- and vmap-compatible (over ``params``
    and ``env``), differentiable in every parameter.

    Parameters
    ----------
    potential
        A potential of kind ``"linear"``.
    nodes_per_panel, n_cos, n_phi, phi_rule, method
        As for :func:`second_virial_linear`; validated here, before tracing
        (``method="table"`` on a potential without a table, or with a
        quadrature option, is a ``ValueError``).
    """
    for name, v in (("nodes_per_panel", nodes_per_panel), ("n_cos", n_cos), ("n_phi", n_phi)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if phi_rule not in (None, "chebyshev", "legendre"):
        raise ValueError(f"phi_rule must be 'chebyshev' or 'legendre', got {phi_rule!r}")
    _check_method(potential, method, nodes_per_panel, n_cos, n_phi, phi_rule)

    def predict(params, env):
        b2 = second_virial_linear(
            potential,
            params,
            env["T_K"],
            nodes_per_panel=nodes_per_panel,
            n_cos=n_cos,
            n_phi=n_phi,
            phi_rule=phi_rule,
            method=method,
        )
        return jnp.where(inside_domain(potential, params, env["T_K"]), b2, jnp.nan)

    return predict
