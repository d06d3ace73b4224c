r"""Conformer equilibria from a torsion potential: basin populations and free energies.

For a torsion potential :math:`u(\phi)` (kJ/mol; IUPAC angle, cis = 0,
trans = pi) in an environment that adds a modulation :math:`W(\phi)`, the
population of conformer basin :math:`b = [a_b, c_b)` at temperature T is

.. math::

    p_b(T, A) = \frac{Z_b}{\sum_{b'} Z_{b'}}, \qquad
    Z_b = \int_{a_b}^{c_b} e^{-[u(\phi) + W_A(\phi)]/RT}\, d\phi,

and its free energy is :math:`G_b = -RT \ln p_b` (kJ/mol; relative to the
whole torsion ensemble, so that :math:`\sum_b e^{-G_b/RT} = 1`). The basins
partition the circle; the defaults, in degrees, are trans = [120, 240),
gauche+ = [0, 120), gauche- = [240, 360) (``DEFAULT_BASINS_DEG``, basin index
0, 1, 2).

This is the classical one-dimensional torsion model: the Jacobian of the
dihedral angle is 1 and every other degree of freedom is integrated out into
:math:`u` (a potential of mean force for the gas phase), as in
Ryckaert-Bellemans butane.

Environment modulation
----------------------
The environment adds

.. math:: W_A(\phi) = A\,\frac{1 - \cos\phi}{2},

zero at cis, A at trans and A/4 at the gauche minima (phi = +-60 deg). A = 0 is
the gas phase. A > 0 raises trans by 3A/4 relative to gauche and so favours
gauche, like a solvent that prefers the more compact conformer (the gauche
fraction of n-butane and of 1,2-disubstituted ethanes rises from gas to
liquid); A < 0 favours trans. It is a solvation free energy, added to u
inside the Boltzmann factor.

Quadrature
----------
Each basin is cut into the same number K of equal panels no wider than
``panel_deg`` (30 deg by default, K = 4 for 120-degree basins) with
``nodes_per_panel`` Gauss-Legendre nodes each (16 by default: 64 nodes per
basin). The integrand is entire in phi, so the rule converges spectrally:
at the default it agrees with adaptive ``scipy.integrate.quad`` to about
1e-14 relative for n-butane between 150 and 2000 K
(``tests/observables/test_conformers.py``). Sums run in the log domain
(``logsumexp``), so low temperatures and high barriers do not overflow.
Everything is jit-able, vmap-able over parameter draws and environments, and
differentiable in the potential's parameters.

Transferability metrics
-----------------------
:func:`population_errors` gives the field's two numbers for one environment,
:math:`\epsilon_p = \sqrt{\tfrac1B \sum_b (p_b^{pred} - p_b^{obs})^2}` (RMS
population error) and :math:`\epsilon_G = \max_b |G_b^{pred} - G_b^{obs}|`
(largest free-energy error, kJ/mol);
:func:`bayesff.transferability.conformer_transferability` evaluates them per
posterior draw for every environment (T, A) of a run file, against the
thresholds of :mod:`bayesff.transferability.thresholds`.

Units: phi in rad internally (data files give ``phi_deg`` in degrees, converted
on load), T in K, energies and A in kJ/mol, populations dimensionless.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

__all__ = [
    "BASIN_NAMES",
    "CONFORMER_FREE_ENERGY",
    "CONFORMER_POPULATION",
    "DEFAULT_BASINS_DEG",
    "TORSION_ENERGY",
    "basin_free_energies",
    "basin_populations",
    "modulation",
    "population_errors",
    "quadrature_rule",
    "relative_torsion_energy",
]

#: Basin boundaries in degrees (IUPAC, trans = 180): trans, gauche+, gauche-.
DEFAULT_BASINS_DEG = ((120.0, 240.0), (0.0, 120.0), (240.0, 360.0))
BASIN_NAMES = ("trans", "gauche+", "gauche-")
DEFAULT_NODES = 16
DEFAULT_PANEL_DEG = 30.0


def modulation(phi):
    r"""Shape of the environment modulation, :math:`(1 - \cos\phi)/2` (0 at cis, 1 at trans)."""
    return 0.5 * (1.0 - jnp.cos(phi))


def _check_basins(basins_deg) -> tuple[tuple[float, float], ...]:
    """Basins as (lo, hi) degrees with hi > lo, checked to partition the circle."""
    try:
        basins = tuple((float(lo), float(hi)) for lo, hi in basins_deg)
    except (TypeError, ValueError):
        raise ValueError(
            f"basins_deg must be a sequence of (low, high) pairs in degrees, got {basins_deg!r}"
        ) from None
    if len(basins) < 2:
        raise ValueError(f"at least two basins are needed, got {basins!r}")
    out = []
    for lo, hi in basins:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"basin boundaries must be finite, got {(lo, hi)!r}")
        if hi <= lo:  # a basin through 0/360, e.g. (300, 60)
            hi += 360.0
        if not 0.0 < hi - lo <= 360.0:
            raise ValueError(f"basin {(lo, hi)!r} has a width outside (0, 360] degrees")
        out.append((lo, hi))
    width = sum(hi - lo for lo, hi in out)
    starts = sorted(lo % 360.0 for lo, _ in out)
    ends = sorted(hi % 360.0 for _, hi in out)
    if abs(width - 360.0) > 1e-9 or not np.allclose(starts, ends, atol=1e-9):
        raise ValueError(
            f"basins must partition the circle (no gap, no overlap, total 360 degrees); got "
            f"{basins!r} with total width {width:g} degrees"
        )
    return tuple(out)


@functools.cache
def _rule(basins: tuple, nodes_per_panel: int, panel_deg: float):
    x, w = np.polynomial.legendre.leggauss(nodes_per_panel)
    x, w = 0.5 * (x + 1.0), 0.5 * w  # on [0, 1]
    k = max(math.ceil(max(hi - lo for lo, hi in basins) / panel_deg - 1e-9), 1)
    phi, wt = [], []
    for lo, hi in basins:
        edges = np.deg2rad(np.linspace(lo, hi, k + 1))
        a, b = edges[:-1, None], edges[1:, None]
        phi.append((a + (b - a) * x).ravel())
        wt.append(((b - a) * w).ravel())
    return np.asarray(phi), np.asarray(wt)


def quadrature_rule(
    basins_deg=DEFAULT_BASINS_DEG,
    nodes_per_panel: int = DEFAULT_NODES,
    panel_deg: float = DEFAULT_PANEL_DEG,
):
    """Nodes (rad) and weights of the per-basin Gauss-Legendre rule.

    Returns
    -------
    phi, w : numpy.ndarray
        Shape (B, K * nodes_per_panel): ``sum(w[b] * f(phi[b]))`` approximates
        the integral of f over basin b. Nodes may exceed 2 pi for a basin
        through 360 degrees (the integrand is periodic).
    """
    if not (isinstance(nodes_per_panel, int) and nodes_per_panel >= 1):
        raise ValueError(f"nodes_per_panel must be a positive integer, got {nodes_per_panel!r}")
    if not (panel_deg > 0 and math.isfinite(panel_deg)):
        raise ValueError(f"panel_deg must be a positive number, got {panel_deg!r}")
    return _rule(_check_basins(basins_deg), nodes_per_panel, float(panel_deg))


def _log_populations(potential, params, T_K, W, rule):
    """log p_b, shape broadcast(T_K, W) + (B,)."""
    phi, w = rule
    u = potential.energy(jnp.asarray(phi), **params)  # (B, M)
    m = modulation(jnp.asarray(phi))
    T = jnp.asarray(T_K, dtype=float)[..., None, None]
    A = jnp.asarray(W, dtype=float)[..., None, None]
    log_z = jax.scipy.special.logsumexp(
        -(u + A * m) / (GAS_CONSTANT_KJ_PER_MOL_K * T) + jnp.log(w), axis=-1
    )  # (..., B)
    return log_z - jax.scipy.special.logsumexp(log_z, axis=-1, keepdims=True)


def basin_populations(
    potential,
    params: dict,
    T_K,
    W_kJ_per_mol=0.0,
    *,
    basins_deg=DEFAULT_BASINS_DEG,
    nodes_per_panel: int = DEFAULT_NODES,
    panel_deg: float = DEFAULT_PANEL_DEG,
):
    r"""Boltzmann populations of the conformer basins.

    Parameters
    ----------
    potential
        A torsion potential (``potential.energy(phi, **params)``, phi in rad).
    params
        Its parameters, kJ/mol.
    T_K
        Temperature(s) in K.
    W_kJ_per_mol
        Amplitude A of the environment modulation
        :math:`W_A(\phi) = A (1 - \cos\phi)/2`, kJ/mol (0 = gas phase);
        broadcast with ``T_K``.
    basins_deg
        Basin boundaries ``((lo, hi), ...)`` in degrees; they must partition
        the circle. Default trans, gauche+, gauche-.
    nodes_per_panel, panel_deg
        Quadrature setting (module docstring).

    Returns
    -------
    jax.Array
        Populations, shape ``broadcast(T_K, W_kJ_per_mol).shape + (B,)``;
        they sum to one over the last axis.
    """
    rule = quadrature_rule(basins_deg, nodes_per_panel, panel_deg)
    return jnp.exp(_log_populations(potential, params, T_K, W_kJ_per_mol, rule))


def basin_free_energies(
    potential,
    params: dict,
    T_K,
    W_kJ_per_mol=0.0,
    *,
    basins_deg=DEFAULT_BASINS_DEG,
    nodes_per_panel: int = DEFAULT_NODES,
    panel_deg: float = DEFAULT_PANEL_DEG,
):
    r"""Basin free energies :math:`G_b = -RT \ln p_b`, kJ/mol.

    Same arguments and shape as :func:`basin_populations`. Relative to the
    whole torsion ensemble (:math:`G_b \ge 0`); differences
    :math:`G_b - G_{b'} = -RT \ln(p_b / p_{b'})` are conformer free energies.
    """
    rule = quadrature_rule(basins_deg, nodes_per_panel, panel_deg)
    log_p = _log_populations(potential, params, T_K, W_kJ_per_mol, rule)
    T = jnp.asarray(T_K, dtype=float)[..., None]
    return -GAS_CONSTANT_KJ_PER_MOL_K * T * log_p


def relative_torsion_energy(potential, params: dict, phi):
    """u(phi) - u(pi): torsion energy relative to trans, kJ/mol (phi in rad)."""
    phi = jnp.asarray(phi, dtype=float)
    return potential.energy(phi, **params) - potential.energy(jnp.asarray(jnp.pi), **params)


def _select_basin(values, basin, n_basins: int):
    """values (..., B) at integer basin index (...,); NaN for an index not in 0..B-1."""
    b = jnp.asarray(basin, dtype=float)
    hit = jnp.round(b)[..., None] == jnp.arange(n_basins)
    ok = jnp.any(hit, axis=-1) & (jnp.round(b) == b)
    return jnp.where(ok, jnp.sum(jnp.where(hit, values, 0.0), axis=-1), jnp.nan)


def _build_energy(potential, **_options):
    """``predict(params, env)``: u(phi) - u(trans) at ``env["phi_deg"]`` (rad internally)."""

    def predict(params, env):
        return relative_torsion_energy(potential, params, env["phi_deg"])

    return predict


def _build_population(
    potential,
    basins_deg=DEFAULT_BASINS_DEG,
    nodes_per_panel: int = DEFAULT_NODES,
    panel_deg: float = DEFAULT_PANEL_DEG,
    **_options,
):
    rule = quadrature_rule(basins_deg, nodes_per_panel, panel_deg)
    n_basins = rule[0].shape[0]

    def predict(params, env):
        log_p = _log_populations(potential, params, env["T_K"], env["W_kJ_per_mol"], rule)
        return _select_basin(jnp.exp(log_p), env["basin"], n_basins)

    return predict


def _build_free_energy(
    potential,
    basins_deg=DEFAULT_BASINS_DEG,
    nodes_per_panel: int = DEFAULT_NODES,
    panel_deg: float = DEFAULT_PANEL_DEG,
    **_options,
):
    rule = quadrature_rule(basins_deg, nodes_per_panel, panel_deg)
    n_basins = rule[0].shape[0]

    def predict(params, env):
        log_p = _log_populations(potential, params, env["T_K"], env["W_kJ_per_mol"], rule)
        T = jnp.asarray(env["T_K"], dtype=float)[..., None]
        dg = -GAS_CONSTANT_KJ_PER_MOL_K * T * (log_p - log_p[..., :1])
        return _select_basin(dg, env["basin"], n_basins)

    return predict


_PHI = EnvField("phi_deg", "angle", "dihedral angle (IUPAC, trans = 180 deg)")
_T = EnvField("T_K", "temperature", "temperature")
_BASIN = EnvField(
    "basin", "dimensionless", "conformer basin index (default 0 = trans, 1 = gauche+, 2 = gauche-)"
)
_W = EnvField(
    "W_kJ_per_mol",
    "energy",
    "amplitude A of the environment modulation W(phi) = A (1 - cos phi)/2 (0 = gas phase)",
)
_REF = (
    "Boltzmann populations of torsion basins; J.-P. Ryckaert and A. Bellemans, "
    "Chem. Phys. Lett. 30, 123 (1975), doi:10.1016/0009-2614(75)85513-8"
)

TORSION_ENERGY = register_observable(
    Observable(
        name="torsion_energy",
        env=(_PHI,),
        value_column="E_kJ_per_mol",
        uncertainty_column="u_E_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_energy,
        potential_kind="torsion",
        description="torsion energy scan u(phi) - u(trans), relative to trans (phi = 180 deg)",
        reference=_REF,
    )
)
CONFORMER_POPULATION = register_observable(
    Observable(
        name="conformer_population",
        env=(_T, _BASIN, _W),
        value_column="p",
        uncertainty_column="u_p",
        dimension="dimensionless",
        unit="1",
        build=_build_population,
        options=("nodes_per_panel", "basins_deg", "panel_deg"),
        potential_kind="torsion",
        description="population of a conformer basin, exp(-(u + W)/RT) integrated over the basin "
        "(Gauss-Legendre) and normalised",
        reference=_REF,
    )
)
CONFORMER_FREE_ENERGY = register_observable(
    Observable(
        name="conformer_free_energy",
        env=(_T, _BASIN, _W),
        value_column="dG_kJ_per_mol",
        uncertainty_column="u_dG_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_free_energy,
        options=("nodes_per_panel", "basins_deg", "panel_deg"),
        potential_kind="torsion",
        description="conformer free energy G_b - G_0 = -RT ln(p_b / p_0), relative to basin 0 "
        "(trans)",
        reference=_REF,
    )
)


# --------------------------------------------------------------------------------------------
# Transferability metrics (numpy only)
# --------------------------------------------------------------------------------------------


def population_errors(pred_p, obs_p, T_K) -> dict:
    r"""The conformer metrics of one environment.

    .. math::

        \epsilon_p = \sqrt{\frac{1}{B}\sum_b (p_b^{pred} - p_b^{obs})^2}, \qquad
        \epsilon_G = \max_b \left| G_b^{pred} - G_b^{obs} \right|
                   = RT \max_b \left| \ln\frac{p_b^{pred}}{p_b^{obs}} \right|

    with :math:`G_b = -RT \ln p_b` (kJ/mol).

    Parameters
    ----------
    pred_p
        Predicted populations, shape ``(..., B)`` (e.g. one row per posterior draw).
    obs_p
        Observed populations, shape ``(B,)``.
    T_K
        Temperature of the environment, K.

    Returns
    -------
    dict
        ``epsilon_p`` (dimensionless) and ``epsilon_G`` (kJ/mol), each of shape
        ``pred_p.shape[:-1]`` (floats for a single prediction). A population
        of 0 on either side gives ``epsilon_G = inf``.
    """
    pred = np.asarray(pred_p, dtype=float)
    obs = np.asarray(obs_p, dtype=float)
    if obs.ndim != 1 or pred.shape[-1:] != obs.shape:
        raise ValueError(
            f"pred_p must have shape (..., B) and obs_p (B,); got {pred.shape} and {obs.shape}"
        )
    eps_p = np.sqrt(np.mean((pred - obs) ** 2, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        dlog = np.abs(np.log(pred) - np.log(obs))
    dlog = np.where(np.isnan(dlog), np.inf, dlog)
    eps_g = GAS_CONSTANT_KJ_PER_MOL_K * float(T_K) * np.max(dlog, axis=-1)
    if eps_p.ndim == 0:
        return {"epsilon_p": float(eps_p), "epsilon_G": float(eps_g)}
    return {"epsilon_p": eps_p, "epsilon_G": eps_g}
