r"""Fixed-charge electrostatics: Coulomb with charge scaling, dielectric screening, ECC.

Conventions
-----------
Energies in kJ/mol, distances in angstrom, charges in e;
:math:`k_e = e^2 N_A/(4\pi\varepsilon_0) = 1389.35457\ \mathrm{kJ\,mol^{-1}\,\AA\,e^{-2}}`
(:data:`bayesff.units.COULOMB_KJ_PER_MOL_ANGSTROM`, CODATA 2018).

*Charge scaling.* Every charge is multiplied by a factor s, so the energy of
two charges is

.. math:: u(r) = \frac{k_e\, s^2 q_i q_j}{\varepsilon_r\, r}

with a uniform relative permittivity :math:`\varepsilon_r` (1 in vacuum).
s and :math:`\varepsilon_r` enter as :math:`s^2/\varepsilon_r` only, so a
calibration should free one of them and fix the other.

*Electronic continuum correction (ECC).* A non-polarisable model in a medium
of high-frequency (electronic) permittivity :math:`\varepsilon_{el}` (about
1.78 for water, the square of its refractive index) uses scaled charges
:math:`s = 1/\sqrt{\varepsilon_{el}}` (:func:`ecc_scaling`): the medium's
electronic polarisation screens every charge-charge interaction by
:math:`\varepsilon_{el}` (I. V. Leontyev and A. A. Stuchebrukhov,
Phys. Chem. Chem. Phys. 13, 2613 (2011), doi:10.1039/c0cp01971b).

*Distance-dependent screening.* :func:`screened_coulomb` replaces
:math:`\varepsilon_r` by the sigmoidal effective permittivity of Mehler and
Solmajer (Protein Eng. 4, 903 (1991), doi:10.1093/protein/4.8.903),

.. math::

    \varepsilon(r) = A + \frac{B}{1 + k\,e^{-\lambda B r}}, \qquad
    B = \varepsilon_s - A,

with their parameters A = -8.5525, k = 7.7839, lambda = 0.003627 1/angstrom
for water (:math:`\varepsilon_s = 78.4`): :math:`\varepsilon(0) \approx 1.35`,
rising to the bulk :math:`\varepsilon_s` over about 15 angstrom.
:func:`debye_huckel` screens the Coulomb energy exponentially with a Debye
length :math:`\lambda_D` (P. Debye and E. Hückel, Phys. Z. 24, 185 (1923)),

.. math:: u(r) = \frac{k_e\, s^2 q_i q_j}{\varepsilon_r\, r}\, e^{-r/\lambda_D},

the point-ion (Yukawa) form of the linearised Poisson-Boltzmann solution.

*Composition with Lennard-Jones.* An ion pair needs a repulsive core: the
registered ``lj_coulomb``, ``lj_screened_coulomb`` and ``lj_debye_huckel``
are :math:`u_{LJ}(r;\varepsilon,\sigma) + u_{el}(r)`, the sum of the
potentials (:func:`add_pair_potentials`), with epsilon and sigma those of
the pair (mixed already).

Pair potentials here have parameters ``q_i`` and ``q_j`` (the two charges):
problems fix them (they are data, not calibrated); a cluster takes them per
site from the ``charge_e`` column (:func:`fixed_charge_cluster`,
:func:`bayesff.potentials.cluster.cluster_from_pair`). Second virial
coefficients of net charges do not exist (the 1/r tail makes the integral
diverge): these potentials are for energies of given geometries
(``pair_energy``, configuration energies). Their ``length_scale`` is NaN
for a charged pair (bare charges always; LJ plus unscreened or
Mehler-Solmajer Coulomb when q_i q_j != 0), so that a B2 quadrature or a
grid built on it returns NaN instead of a finite wrong number;
``lj_debye_huckel`` keeps sigma (the screened tail decays exponentially and
its B2 is finite).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from bayesff.potentials._spec import PairPotential, ParamSpec, register
from bayesff.potentials.cluster import (
    STATUS_OK,
    ClusterPotential,
    SiteColumn,
    pair_distances,
)
from bayesff.potentials.pair import LENNARD_JONES, lennard_jones
from bayesff.priors import PriorSpec, Support
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM

__all__ = [
    "COULOMB",
    "DEBYE_HUCKEL",
    "FIXED_CHARGE",
    "LJ_COULOMB",
    "LJ_DEBYE_HUCKEL",
    "LJ_SCREENED_COULOMB",
    "MEHLER_SOLMAJER_WATER",
    "SCREENED_COULOMB",
    "add_pair_potentials",
    "coulomb",
    "debye_huckel",
    "ecc_scaling",
    "fixed_charge_cluster",
    "lorentz_berthelot_lj",
    "mehler_solmajer_permittivity",
    "screened_coulomb",
    "type_params",
]

#: Mehler and Solmajer's (1991) parameters for water: eps_s, A, k, lambda (1/angstrom).
MEHLER_SOLMAJER_WATER = {"eps_s": 78.4, "ms_a": -8.5525, "ms_k": 7.7839, "ms_lambda": 0.003627}


def ecc_scaling(eps_el):
    r"""Charge-scaling factor of the electronic continuum correction (ECC).

    .. math:: s = 1/\sqrt{\varepsilon_{el}}

    Parameters
    ----------
    eps_el
        High-frequency (electronic) relative permittivity of the medium,
        dimensionless, >= 1 (about n^2, n the refractive index: 1.78 for water).

    Returns
    -------
    s
        Dimensionless factor for every charge (0.75 for water).

    References
    ----------
    I. V. Leontyev and A. A. Stuchebrukhov, Phys. Chem. Chem. Phys. 13, 2613
    (2011), doi:10.1039/c0cp01971b.
    """
    eps_el = np.asarray(eps_el, dtype=float)
    if np.any(eps_el < 1.0):
        raise ValueError(f"eps_el must be >= 1 (a permittivity), got {eps_el}")
    return 1.0 / np.sqrt(eps_el)


def coulomb(r, q_i, q_j, s, eps_r):
    r"""Scaled Coulomb energy of two point charges in a uniform dielectric, kJ/mol.

    .. math:: u(r) = \frac{k_e\, s^2 q_i q_j}{\varepsilon_r\, r}

    Parameters
    ----------
    r
        Distance, angstrom.
    q_i, q_j
        Charges, e.
    s
        Charge-scaling factor, dimensionless (1: full charges; ECC:
        :func:`ecc_scaling`).
    eps_r
        Relative permittivity, dimensionless (1: vacuum).
    """
    return COULOMB_KJ_PER_MOL_ANGSTROM * s * s * q_i * q_j / (eps_r * r)


def mehler_solmajer_permittivity(r, eps_s, ms_a, ms_k, ms_lambda):
    r"""Sigmoidal distance-dependent permittivity of Mehler and Solmajer (1991).

    .. math::

        \varepsilon(r) = A + \frac{\varepsilon_s - A}
                                  {1 + k\,e^{-\lambda(\varepsilon_s - A) r}}

    Parameters
    ----------
    r
        Distance, angstrom.
    eps_s
        Bulk relative permittivity reached at large r, dimensionless.
    ms_a, ms_k
        A and k, dimensionless (water: -8.5525 and 7.7839).
    ms_lambda
        lambda, 1/angstrom (water: 0.003627).

    Returns
    -------
    eps
        Dimensionless. Positive for all r only if
        :math:`A + (\varepsilon_s - A)/(1 + k) > 0`; the registered priors
        keep it so, other values give negative or infinite energies.

    References
    ----------
    E. L. Mehler and T. Solmajer, Protein Eng. 4, 903 (1991),
    doi:10.1093/protein/4.8.903.
    """
    b = eps_s - ms_a
    return ms_a + b / (1.0 + ms_k * jnp.exp(-ms_lambda * b * r))


def screened_coulomb(r, q_i, q_j, s, eps_s, ms_a, ms_k, ms_lambda):
    r"""Coulomb energy screened by the Mehler-Solmajer permittivity, kJ/mol.

    .. math:: u(r) = \frac{k_e\, s^2 q_i q_j}{\varepsilon(r)\, r}

    with :math:`\varepsilon(r)` of :func:`mehler_solmajer_permittivity`.
    """
    eps = mehler_solmajer_permittivity(r, eps_s, ms_a, ms_k, ms_lambda)
    return COULOMB_KJ_PER_MOL_ANGSTROM * s * s * q_i * q_j / (eps * r)


def debye_huckel(r, q_i, q_j, s, eps_r, debye_length):
    r"""Debye-Hückel (Yukawa) screened Coulomb energy of two point ions, kJ/mol.

    .. math:: u(r) = \frac{k_e\, s^2 q_i q_j}{\varepsilon_r\, r}\, e^{-r/\lambda_D}

    Parameters
    ----------
    debye_length
        Screening length :math:`\lambda_D`, angstrom (about 3.04/sqrt(I/M)
        angstrom in water at 298 K for ionic strength I).

    References
    ----------
    P. Debye and E. Hückel, Phys. Z. 24, 185 (1923).
    """
    return (
        COULOMB_KJ_PER_MOL_ANGSTROM * s * s * q_i * q_j / (eps_r * r) * jnp.exp(-r / debye_length)
    )


def add_pair_potentials(name, first, second, *, description="", reference="", length_scale=None):
    """The sum of two pair potentials as one registered-style spec.

    Parameters of the two must have distinct names; the breakpoints are those
    of ``first`` (the part with the repulsive core) and so is the length
    scale unless ``length_scale`` is given.
    """
    clash = set(first.param_names) & set(second.param_names)
    if clash:
        raise ValueError(f"{first.name} and {second.name} share parameter(s) {sorted(clash)}")
    n1 = first.param_names

    def energy(r, **params):
        p1 = {k: v for k, v in params.items() if k in n1}
        p2 = {k: v for k, v in params.items() if k not in n1}
        return first.energy(r, **p1) + second.energy(r, **p2)

    return PairPotential(
        name=name,
        energy=energy,
        params=first.params + second.params,
        length_scale=length_scale or first.length_scale,
        breakpoints=first.breakpoints,
        description=description or f"{first.name} + {second.name}",
        reference=reference or f"{first.reference}; {second.reference}",
    )


# ----------------------------------------------------------- parameter specs


def _charge(name, which):
    return ParamSpec(
        name=name,
        dimension="charge",
        support=Support("real"),
        default_prior=PriorSpec("Normal", {"loc": 0.0, "scale": 1.0}),
        prior_unit="e",
        description=f"charge of {which} (data: fix it in a problem)",
    )


_S = ParamSpec(
    name="s",
    dimension="dimensionless",
    support=Support("interval", 0.0, 2.0),
    # full charges 1; ECC in water 0.75; scaled ionic models 0.7-0.85
    default_prior=PriorSpec(
        "TruncatedNormal", {"loc": 0.85, "scale": 0.25, "low": 0.3, "high": 1.5}
    ),
    prior_unit="1",
    description="charge-scaling factor (energy ~ s^2; ECC: 1/sqrt(eps_el))",
)
_EPS_R = ParamSpec(
    name="eps_r",
    dimension="dimensionless",
    support=Support("interval", 1.0, 1000.0),
    default_prior=PriorSpec(
        "TruncatedNormal", {"loc": 20.0, "scale": 40.0, "low": 1.0, "high": 100.0}
    ),
    prior_unit="1",
    description="uniform relative permittivity (1: vacuum); usually fixed",
)
_MS_SPECS = (
    ParamSpec(
        name="eps_s",
        dimension="dimensionless",
        support=Support("interval", 1.0, 1000.0),
        default_prior=PriorSpec(
            "TruncatedNormal", {"loc": 40.0, "scale": 40.0, "low": 1.0, "high": 150.0}
        ),
        prior_unit="1",
        description="bulk permittivity reached at large r (water 78.4)",
    ),
    ParamSpec(
        name="ms_a",
        dimension="dimensionless",
        support=Support("interval", -50.0, 0.0),
        default_prior=PriorSpec(
            "TruncatedNormal", {"loc": -8.5525, "scale": 2.0, "low": -20.0, "high": -1.0}
        ),
        prior_unit="1",
        description="Mehler-Solmajer A (water -8.5525)",
    ),
    ParamSpec(
        name="ms_k",
        dimension="dimensionless",
        support=Support("positive"),
        default_prior=PriorSpec("LogNormal", {"median": 7.7839, "scale": 0.3}),
        prior_unit="1",
        description="Mehler-Solmajer k (water 7.7839)",
    ),
    ParamSpec(
        name="ms_lambda",
        dimension="inverse_length",
        support=Support("positive"),
        default_prior=PriorSpec("LogNormal", {"median": 0.003627, "scale": 0.5}),
        prior_unit="1/angstrom",
        description="Mehler-Solmajer lambda (water 0.003627 1/angstrom)",
    ),
)
_DEBYE = ParamSpec(
    name="debye_length",
    dimension="length",
    support=Support("positive"),
    default_prior=PriorSpec("LogNormal", {"median": 10.0, "scale": 1.0}),
    prior_unit="angstrom",
    description="Debye screening length",
)


def _no_core(**_):
    """Length scale of bare charges: NaN, so that B2 and grids built on it fail visibly.

    A pair of net charges has no repulsive core and no finite second virial
    coefficient (the 1/r tail makes the integral diverge, and opposite charges
    collapse at r -> 0); a finite number from the quadrature would be wrong.
    """
    return jnp.asarray(jnp.nan)


def _sigma_if_neutral(sigma, q_i, q_j, **_):
    """LJ + long-ranged Coulomb: sigma for a neutral pair (q_i q_j = 0), else NaN (_no_core)."""
    return jnp.where(q_i * q_j == 0.0, sigma, jnp.nan)


_LEONTYEV = "I. V. Leontyev and A. A. Stuchebrukhov, PCCP 13, 2613 (2011), doi:10.1039/c0cp01971b"
_MS = "E. L. Mehler and T. Solmajer, Protein Eng. 4, 903 (1991), doi:10.1093/protein/4.8.903"
_DH = "P. Debye and E. Hückel, Phys. Z. 24, 185 (1923)"
_QQ = (_charge("q_i", "site i"), _charge("q_j", "site j"))

COULOMB = register(
    PairPotential(
        name="coulomb",
        energy=coulomb,
        params=(*_QQ, _S, _EPS_R),
        length_scale=_no_core,
        description="k_e s^2 q_i q_j / (eps_r r): scaled point charges, uniform dielectric",
        reference=f"Coulomb's law; k_e from CODATA 2018; ECC: {_LEONTYEV}",
    )
)
SCREENED_COULOMB = register(
    PairPotential(
        name="screened_coulomb",
        energy=screened_coulomb,
        params=(*_QQ, _S, *_MS_SPECS),
        length_scale=_no_core,
        description="k_e s^2 q_i q_j / (eps(r) r), eps(r) sigmoidal (Mehler-Solmajer)",
        reference=_MS,
    )
)
DEBYE_HUCKEL = register(
    PairPotential(
        name="debye_huckel",
        energy=debye_huckel,
        params=(*_QQ, _S, _EPS_R, _DEBYE),
        length_scale=_no_core,
        description="k_e s^2 q_i q_j exp(-r/lambda_D) / (eps_r r): Debye-Hueckel screening",
        reference=_DH,
    )
)


LJ_COULOMB = register(
    add_pair_potentials(
        "lj_coulomb",
        LENNARD_JONES,
        COULOMB,
        description="LJ 12-6 (repulsive core) + k_e s^2 q_i q_j / (eps_r r)",
        length_scale=_sigma_if_neutral,
    )
)
LJ_SCREENED_COULOMB = register(
    add_pair_potentials(
        "lj_screened_coulomb",
        LENNARD_JONES,
        SCREENED_COULOMB,
        description="LJ 12-6 + Coulomb screened by the Mehler-Solmajer eps(r)",
        length_scale=_sigma_if_neutral,
    )
)
LJ_DEBYE_HUCKEL = register(
    add_pair_potentials(
        "lj_debye_huckel",
        LENNARD_JONES,
        DEBYE_HUCKEL,
        description="LJ 12-6 + Debye-Hueckel screened Coulomb",
    )
)


# ------------------------------------------------------------ cluster model


def type_params(n_types: int, *, epsilon_median_K: float = 100.0) -> tuple[ParamSpec, ...]:
    """Per-type Lennard-Jones parameter specs ``epsilon_0, sigma_0, epsilon_1, ...``."""
    out = []
    for t in range(n_types):
        out.append(
            ParamSpec(
                name=f"epsilon_{t}",
                dimension="energy",
                support=Support("positive"),
                default_prior=PriorSpec("LogNormal", {"median": epsilon_median_K, "scale": 1.5}),
                prior_unit="K",
                description=f"LJ well depth of site type {t} (Lorentz-Berthelot mixing)",
            )
        )
        out.append(
            ParamSpec(
                name=f"sigma_{t}",
                dimension="length",
                support=Support("positive"),
                default_prior=PriorSpec("LogNormal", {"median": 3.0, "scale": 0.3}),
                prior_unit="angstrom",
                description=f"LJ diameter of site type {t} (Lorentz-Berthelot mixing)",
            )
        )
    return tuple(out)


def lorentz_berthelot_lj(i, j, r, types, params, n_types):
    """LJ energies of pairs (i, j) at distances r with per-type parameters, kJ/mol.

    Lorentz-Berthelot: eps_ij = sqrt(eps_i eps_j), sigma_ij = (sigma_i + sigma_j)/2
    (H. A. Lorentz, Ann. Phys. 248, 127 (1881); D. Berthelot, C. R. Acad. Sci.
    126, 1703 (1898)).
    """
    eps = jnp.stack([jnp.asarray(params[f"epsilon_{t}"], dtype=float) for t in range(n_types)])
    sig = jnp.stack([jnp.asarray(params[f"sigma_{t}"], dtype=float) for t in range(n_types)])
    ti, tj = types[i], types[j]
    return lennard_jones(r, jnp.sqrt(eps[ti] * eps[tj]), 0.5 * (sig[ti] + sig[tj]))


CHARGE_COLUMN = SiteColumn("charge_e", "charge", "point charge of the site, e (before scaling)")
TYPE_COLUMN = SiteColumn("type", "index", "site type 0 .. n_types - 1 (selects LJ, alpha)")

_SCREENING = {
    "none": ((_EPS_R,), lambda r, qq, p: coulomb(r, qq, 1.0, p["s"], p["eps_r"])),
    "mehler_solmajer": (
        _MS_SPECS,
        lambda r, qq, p: screened_coulomb(
            r, qq, 1.0, p["s"], p["eps_s"], p["ms_a"], p["ms_k"], p["ms_lambda"]
        ),
    ),
    "debye_huckel": (
        (_EPS_R, _DEBYE),
        lambda r, qq, p: debye_huckel(r, qq, 1.0, p["s"], p["eps_r"], p["debye_length"]),
    ),
}


def fixed_charge_cluster(
    n_types: int = 2, screening: str = "none", *, name: str | None = None
) -> ClusterPotential:
    r"""Fixed-charge cluster model: per-type LJ plus scaled (screened) Coulomb.

    .. math::

        E = \sum_{i<j}\left[u_{LJ}(r_{ij};\varepsilon_{t_it_j},\sigma_{t_it_j})
            + u_{el}(r_{ij};\, q_i q_j)\right]

    with Lorentz-Berthelot mixing of the per-type LJ parameters and
    :math:`u_{el}` one of :func:`coulomb` (``screening="none"``, parameters
    s, eps_r), :func:`screened_coulomb` (``"mehler_solmajer"``: s, eps_s,
    ms_a, ms_k, ms_lambda) or :func:`debye_huckel` (``"debye_huckel"``: s,
    eps_r, debye_length). Site columns ``charge_e`` (e) and ``type``.
    Every pair of sites interacts (no exclusions): meant for clusters of
    atoms and atomic ions.

    Parameters
    ----------
    n_types
        Number of site types; LJ parameters ``epsilon_t``, ``sigma_t`` for
        t = 0 .. n_types - 1.
    screening
        ``"none"``, ``"mehler_solmajer"`` or ``"debye_huckel"``.
    name
        Registry name (default ``"fixed_charge"`` plus the screening).
    """
    if screening not in _SCREENING:
        raise ValueError(f"screening must be one of {', '.join(_SCREENING)}, got {screening!r}")
    if not isinstance(n_types, int) or n_types < 1:
        raise ValueError(f"n_types must be a positive integer, got {n_types!r}")
    el_specs, el = _SCREENING[screening]

    def energy_and_status(positions, sites, **params):
        x = jnp.asarray(positions, dtype=float)
        i, j, r = pair_distances(x)
        q = jnp.asarray(sites["charge_e"], dtype=float)
        types = jnp.asarray(sites["type"], dtype=jnp.int32)
        e = jnp.sum(
            lorentz_berthelot_lj(i, j, r, types, params, n_types) + el(r, q[i] * q[j], params)
        )
        return e, jnp.asarray(STATUS_OK, dtype=jnp.int32)

    return ClusterPotential(
        name=name or ("fixed_charge" if screening == "none" else f"fixed_charge_{screening}"),
        energy_and_status=energy_and_status,
        params=(_S, *el_specs, *type_params(n_types)),
        site_columns=(CHARGE_COLUMN, TYPE_COLUMN),
        n_types=n_types,
        description=(
            f"per-type LJ (Lorentz-Berthelot, {n_types} types) + "
            f"{'Coulomb' if screening == 'none' else screening + ' screened Coulomb'} "
            "of scaled charges s q_i, summed over site pairs"
        ),
        reference={"none": _LEONTYEV, "mehler_solmajer": _MS, "debye_huckel": _DH}[screening],
    )


FIXED_CHARGE = register(fixed_charge_cluster(2))
