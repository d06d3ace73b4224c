r"""Second virial coefficient and the low-density equation of state.

.. math::

    B_2(T) = -2\pi N_A \int_0^\infty \left(e^{-u(r)/k_B T} - 1\right) r^2 \, dr

evaluated by fixed Gauss-Legendre quadrature, so that it is jit-able,
vmap-able over temperatures and parameter draws, and differentiable in the
potential's parameters.

Quadrature rule
---------------
Radii are measured in units of the potential's ``length_scale`` s (sigma for
LJ and Mie). Panels end at ``PANEL_EDGES`` times s and at the potential's
breakpoints (hard core, well edge, cut-off); each panel carries
``nodes_per_panel`` Gauss-Legendre nodes. Beyond the last edge R the tail is
mapped to t = R/r in (0, 1]; for u ~ r^-m the integrand there is
~ t^(m-4), a polynomial in t when the potential's exponents are integers (LJ,
Mie n-m with integer n and m).

Known limitation: for a non-integer attractive exponent m the tail integrand
t^(m-4) is not smooth at t = 0 and the error grows to 1.7e-7 relative at
m = 5.5 and 7e-5 at m = 4.5 (measured against adaptive quadrature in
``tests/observables/test_virial.py``). That is far below the uncertainty of
any B2 data, but use integer exponents where 1e-8 matters.

The Mayer function is evaluated with ``expm1`` so that the tail keeps its
digits. With the default 16 nodes (112 in all) the
result agrees with the exact LJ series to <= 1e-11 relative over T* = 0.3 to 100
(``tests/observables/test_virial.py``). Other repulsive exponents are less smooth on
the panels: Mie n-6 against a 30-digit reference (physics audit, 2026-11-30) is within
1.5e-7 at n = 7-8, 1.4e-8 at n = 36 and 6.4e-7 at n = 50, T* = 0.3 (2e-15 with 32
nodes, ``nodes_per_panel``). A piecewise-constant Boltzmann factor
(square well, truncated potentials) is integrated exactly, and so is its
gradient with respect to the breakpoints.

Units: T in K, energies in kJ/mol, lengths in angstrom, B2 in cm^3/mol,
number density in 1/angstrom^3, pressure in MPa, kappa_T in 1/MPa.
"""

from __future__ import annotations

import jax.numpy as jnp

from bayesff.observables import orientational
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.quadrature import DEFAULT_NODES, PANEL_EDGES, inside_domain
from bayesff.observables.quadrature import radial_rule as quadrature_rule
from bayesff.potentials._spec import PairPotential
from bayesff.units import AVOGADRO, GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "ISOTHERMAL_COMPRESSIBILITY",
    "LOW_DENSITY_PRESSURE",
    "PANEL_EDGES",
    "SECOND_VIRIAL",
    "isothermal_compressibility",
    "low_density_pressure",
    "quadrature_rule",
    "second_virial",
]

#: Å^3 per molecule -> cm^3/mol.
_A3_TO_CM3_PER_MOL = AVOGADRO * 1e-24


def _mayer(potential: PairPotential, params: dict, r, T_K):
    """exp(-u/kT) - 1 on a grid r (n,) for temperatures T_K (m,) -> (m, n)."""
    u = potential.energy(r, **params)
    beta = 1.0 / (GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(T_K))[..., None]
    if potential.hard_core:
        # u = +inf inside the core: the Mayer function is exactly -1 there. Keep
        # inf out of the arithmetic so that gradients stay finite (0 * inf = nan).
        core = jnp.isinf(u)
        return jnp.where(core, -1.0, jnp.expm1(-beta * jnp.where(core, 0.0, u)))
    return jnp.expm1(-beta * u)


def second_virial(
    potential: PairPotential, params: dict, T_K, *, nodes_per_panel: int = DEFAULT_NODES
):
    r"""Second virial coefficient B2(T) of a pair potential, in cm^3/mol.

    Parameters
    ----------
    potential
        A pair potential (possibly wrapped by a cut-off convention).
    params
        Its parameters in internal units (energies kJ/mol, lengths angstrom).
    T_K
        Temperature(s) in K, any shape; the potential is evaluated once and
        shared across temperatures.
    nodes_per_panel
        Gauss-Legendre nodes per panel (see module docstring).

    Returns
    -------
    jax.Array
        B2 in cm^3/mol, shape of ``T_K``.

    Notes
    -----
    .. math:: B_2(T) = -2\pi N_A \int_0^\infty (e^{-u(r)/k_BT} - 1)\, r^2\, dr

    References
    ----------
    D. A. McQuarrie, *Statistical Mechanics* (University Science Books, 2000), ch. 12.
    """
    T = jnp.asarray(T_K)
    r, w = quadrature_rule(potential, params, nodes_per_panel)
    f = _mayer(potential, params, r, T.reshape(-1))
    b2_a3 = -2.0 * jnp.pi * jnp.sum(w * f * r**2, axis=-1)
    ok = inside_domain(potential, params, T.reshape(-1))  # else NaN, not a number
    return (jnp.where(ok, b2_a3, jnp.nan) * _A3_TO_CM3_PER_MOL).reshape(T.shape)


def low_density_pressure(potential, params, T_K, rho_per_A3, *, nodes_per_panel=DEFAULT_NODES):
    r"""Pressure from the virial expansion truncated after B2, in MPa.

    .. math:: p = \rho k_B T \,(1 + B_2 \rho)

    Parameters
    ----------
    T_K, rho_per_A3
        Temperature in K and number density in 1/angstrom^3 (broadcast).

    Returns
    -------
    jax.Array
        Pressure in MPa. Valid where B3 rho^2 is negligible (dilute gas).
    """
    T, rho = jnp.broadcast_arrays(jnp.asarray(T_K), jnp.asarray(rho_per_A3))
    b2 = second_virial(potential, params, T, nodes_per_panel=nodes_per_panel) / _A3_TO_CM3_PER_MOL
    kt = GAS_CONSTANT_KJ_PER_MOL_K * T
    return rho * kt * (1.0 + b2 * rho) * KJ_PER_MOL_PER_A3_IN_MPA


def isothermal_compressibility(
    potential, params, T_K, rho_per_A3, *, nodes_per_panel=DEFAULT_NODES
):
    r"""Isothermal compressibility from the B2-truncated virial EOS, in 1/MPa.

    .. math:: \kappa_T = \frac{1}{\rho k_B T\,(1 + 2 B_2 \rho)}
              = \frac{1}{\rho_m R T\,(1 + 2 B_{2,m} \rho_m)}

    with molar density rho_m and molar B2 in the second form.

    Parameters
    ----------
    T_K, rho_per_A3
        Temperature in K and number density in 1/angstrom^3 (broadcast).

    Returns
    -------
    jax.Array
        kappa_T in 1/MPa; not meaningful where 1 + 2 B2 rho <= 0 (beyond the
        dilute gas), where it returns NaN rather than a misleading number.
    """
    T, rho = jnp.broadcast_arrays(jnp.asarray(T_K), jnp.asarray(rho_per_A3))
    b2 = second_virial(potential, params, T, nodes_per_panel=nodes_per_panel) / _A3_TO_CM3_PER_MOL
    kt = GAS_CONSTANT_KJ_PER_MOL_K * T
    denom = rho * kt * (1.0 + 2.0 * b2 * rho) * KJ_PER_MOL_PER_A3_IN_MPA
    return jnp.where(denom > 0, 1.0 / denom, jnp.nan)


def _checked_nodes(n):
    """``nodes_per_panel`` as given in a problem file: a whole number >= 1 (or None)."""
    if n is not None and not (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 1000):
        raise ValueError(f"nodes_per_panel must be a whole number from 1 to 1000, got {n!r}")
    return n


def _build_b2(potential, nodes_per_panel=None, **options):
    _checked_nodes(nodes_per_panel)
    if potential.kind == "linear":
        # rigid linear molecules: B2 averaged over the relative orientation (None: the
        # default rule, or no rule at all for method = "table")

        return orientational.build(potential, nodes_per_panel=nodes_per_panel, **options)
    nodes_per_panel = DEFAULT_NODES if nodes_per_panel is None else nodes_per_panel
    if options:
        raise ValueError(
            f"option(s) {', '.join(sorted(options))} apply to linear molecules only; "
            f"{potential.name} is a {potential.kind} potential"
        )

    def predict(params, env):
        return second_virial(potential, params, env["T_K"], nodes_per_panel=nodes_per_panel)

    return predict


def _build_p(potential, nodes_per_panel=DEFAULT_NODES):
    _checked_nodes(nodes_per_panel)

    def predict(params, env):
        return low_density_pressure(
            potential, params, env["T_K"], env["rho_per_A3"], nodes_per_panel=nodes_per_panel
        )

    return predict


def _build_kappa(potential, nodes_per_panel=DEFAULT_NODES):
    _checked_nodes(nodes_per_panel)

    def predict(params, env):
        return isothermal_compressibility(
            potential, params, env["T_K"], env["rho_per_A3"], nodes_per_panel=nodes_per_panel
        )

    return predict


_T = EnvField("T_K", "temperature", "temperature")
_RHO = EnvField("rho_per_A3", "number_density", "number density")
_MCQUARRIE = "D. A. McQuarrie, Statistical Mechanics (2000), ch. 12"

SECOND_VIRIAL = register_observable(
    Observable(
        name="second_virial",
        env=(_T,),
        value_column="B2_cm3_per_mol",
        uncertainty_column="u_B2_cm3_per_mol",
        dimension="molar_volume",
        unit="cm^3/mol",
        build=_build_b2,
        description="second virial coefficient B2(T) by Gauss-Legendre quadrature",
        reference=_MCQUARRIE,
        options=("nodes_per_panel", "n_cos", "n_phi", "phi_rule", "method"),
        potential_kind=("pair", "linear"),
    )
)
LOW_DENSITY_PRESSURE = register_observable(
    Observable(
        name="low_density_pressure",
        env=(_T, _RHO),
        value_column="p_MPa",
        uncertainty_column="u_p_MPa",
        dimension="pressure",
        unit="MPa",
        build=_build_p,
        description="pressure p = rho kT (1 + B2 rho) of the dilute gas",
        reference=_MCQUARRIE,
        options=("nodes_per_panel",),
    )
)
ISOTHERMAL_COMPRESSIBILITY = register_observable(
    Observable(
        name="isothermal_compressibility",
        env=(_T, _RHO),
        value_column="kappa_T_per_MPa",
        uncertainty_column="u_kappa_T_per_MPa",
        dimension="inverse_pressure",
        unit="1/MPa",
        build=_build_kappa,
        description="kappa_T = 1 / (rho kT (1 + 2 B2 rho)) of the dilute gas",
        reference=_MCQUARRIE,
        options=("nodes_per_panel",),
    )
)
