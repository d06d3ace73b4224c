r"""Cluster potentials: the energy of a whole configuration of sites.

A :class:`ClusterPotential` (``kind = "cluster"``) is the energy of N sites
(atoms, ions) at given positions, where the sites carry per-site data (their
charge, their type) and the potential has global parameters. It is the
contract for every model whose energy is not a sum of one pair potential
with global parameters: point charges taken from the data, induced dipoles
(a many-body term), per-type Lennard-Jones parameters.

Contract
--------
``energy_and_status(positions, sites, **params) -> (E, status)``

* ``positions``: shape (N, 3), angstrom, open boundaries (no box);
* ``sites``: a mapping of per-site arrays, each of shape (N,), named by
  :attr:`ClusterPotential.site_columns` (e.g. ``{"charge_e": q, "type": t}``);
  they are data, not parameters (no gradient is taken through them);
* ``params``: the potential's parameters, internal units, scalars;
* ``E``: the total interaction energy, kJ/mol, a scalar;
* ``status``: an int32 scalar, :data:`STATUS_OK` (0) when E is valid, else a
  failure code whose meaning is :data:`STATUS_MESSAGES` [code]; E is then NaN.

It is pure JAX (jit-able), vmap-able over configurations (positions with a
leading batch axis and site arrays broadcast or batched alike) and over
parameter draws, and differentiable in the positions (forces) and in the
parameters. ``energy`` drops the status (for plots and eager use only),
:func:`forces` is minus the gradient, and :func:`energies_and_forces` maps a
batch of configurations of the same size.

Failures are values
-------------------
Inside a compiled model a failure is a status, never an exception and never
a silent number: the model turns a non-zero status into a rejected proposal,
e.g.

.. code-block:: python

    e, status = potential.energy_and_status(x, sites, **params)
    log_lik = jnp.where(status == STATUS_OK, log_lik_of(e), -jnp.inf)

NUTS treats a -inf log density as a divergent transition and rejects it, so
the sampler steps back from the failing region; count the statuses in the
run's diagnostics. Outside jit, :func:`check_energy` raises an error that
names the sites and parameters instead.

Any pair potential with global parameters, or with per-pair parameters taken
from site columns (charges), is summed over a cluster by
:func:`cluster_from_pair`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import BayesffError, DataError
from bayesff.potentials._spec import PairPotential, ParamSpec

__all__ = [
    "STATUS_MESSAGES",
    "STATUS_OK",
    "STATUS_POLARISATION_CATASTROPHE",
    "ClusterEnergyError",
    "ClusterPotential",
    "SiteColumn",
    "check_energy",
    "check_sites",
    "cluster_from_pair",
    "energies_and_forces",
    "forces",
    "pair_distances",
]

#: The energy is valid.
STATUS_OK = 0
#: The induced-dipole matrix is not positive definite (or singular to
#: working precision): the polarisation catastrophe.
STATUS_POLARISATION_CATASTROPHE = 1

STATUS_MESSAGES = {
    STATUS_OK: "ok",
    STATUS_POLARISATION_CATASTROPHE: (
        "polarisation catastrophe: the induced-dipole system (1 - alpha^1/2 T alpha^1/2) is not "
        "positive definite, so induced dipoles grow without bound; sites are too close for "
        "their polarisabilities (increase the Thole damping a, lower alpha, or check the "
        "geometry)"
    ),
}


class ClusterEnergyError(BayesffError):
    """A cluster energy could not be evaluated (e.g. the polarisation catastrophe).

    Attributes
    ----------
    status
        The failure code (:data:`STATUS_MESSAGES`).
    sites
        Indices of the sites most involved.
    """

    def __init__(self, message, where=None, *, status=None, sites=()):
        super().__init__(message, where)
        self.status = status
        self.sites = tuple(sites)


@dataclass(frozen=True)
class SiteColumn:
    """One per-site data column of a cluster potential.

    Parameters
    ----------
    name
        Column name in data files and in the ``sites`` mapping, with its unit
        in the name where it has one (``"charge_e"``).
    dimension
        Physical dimension (:data:`bayesff.units.INTERNAL_UNITS`); ``"index"``
        for integer labels (site types 0 .. n_types - 1).
    description
        One line.
    """

    name: str
    dimension: str
    description: str = ""


@dataclass(frozen=True)
class ClusterPotential:
    """Energy of a configuration of sites, ``kind = "cluster"`` (module docstring).

    Parameters
    ----------
    name
        Registry name.
    energy_and_status
        ``(positions (N, 3), sites, **params) -> (E kJ/mol, status int32)``.
    params
        Parameter table (global parameters only).
    site_columns
        The per-site columns ``sites`` must hold.
    n_types
        Number of site types (``sites["type"]`` in 0 .. n_types - 1), or
        ``None`` if the potential has no type column.
    description, reference
        Formula in words, and the citation.
    diagnose
        Optional eager ``(positions, sites, params, status) -> (message, sites)``
        used by :func:`check_energy` to name the sites behind a failure.
    details
        Optional ``(positions, sites, **params) -> dict`` of named by-products
        (per-site arrays with units in their names, and ``"status"``), e.g.
        the induced dipoles of the polarisable model.
    """

    name: str
    energy_and_status: Callable
    params: tuple[ParamSpec, ...]
    site_columns: tuple[SiteColumn, ...]
    n_types: int | None = None
    description: str = ""
    reference: str = ""
    diagnose: Callable | None = field(default=None, compare=False)
    details: Callable | None = field(default=None, compare=False)
    kind: str = field(default="cluster", init=False)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def site_column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.site_columns)

    def energy(self, positions, sites, **params):
        """Energy in kJ/mol, NaN where the status is not OK (eager use and plots only)."""
        return self.energy_and_status(positions, sites, **params)[0]


def pair_distances(positions):
    """Upper-triangle pair indices (numpy) and distances (angstrom) of an (N, 3) array."""
    n = positions.shape[-2]
    i, j = np.triu_indices(n, k=1)
    d = positions[..., i, :] - positions[..., j, :]
    return i, j, jnp.sqrt(jnp.sum(d * d, axis=-1))


def cluster_from_pair(
    pair: PairPotential,
    site_params: Mapping[str, tuple[str, str]] | None = None,
    *,
    name: str | None = None,
    site_columns: tuple[SiteColumn, ...] | None = None,
) -> ClusterPotential:
    r"""Sum a pair potential over every pair of sites of a cluster.

    .. math:: E = \sum_{i<j} u(r_{ij};\ \theta, d_i, d_j)

    Parameters
    ----------
    pair
        A pair potential (kind ``"pair"``).
    site_params
        Pair-potential parameters taken from site data instead of being
        global: ``{parameter: (column, "i" or "j")}``, e.g.
        ``{"q_i": ("charge_e", "i"), "q_j": ("charge_e", "j")}`` for the
        Coulomb potentials. The remaining parameters stay global.
    name
        Registry name of the result (default ``pair.name + "_cluster"``).
    site_columns
        Descriptions of the columns (default: one per column named in
        ``site_params``, dimension ``"charge"`` if the name ends in ``_e``).

    Returns
    -------
    ClusterPotential
        Its status is always :data:`STATUS_OK` (a pair sum has no failure
        mode; coincident sites give inf or NaN like the pair potential).
    """
    site_params = dict(site_params or {})
    names = pair.param_names
    for p, (_col, end) in site_params.items():
        if p not in names:
            raise ValueError(f"{pair.name} has no parameter {p!r}; its parameters are {names}")
        if end not in ("i", "j"):
            raise ValueError(f"site parameter {p!r} must come from site 'i' or 'j', got {end!r}")
    cols = sorted({c for c, _ in site_params.values()})
    if site_columns is None:
        site_columns = tuple(
            SiteColumn(c, "charge" if c.endswith("_e") else "dimensionless") for c in cols
        )

    def energy_and_status(positions, sites, **params):
        i, j, r = pair_distances(jnp.asarray(positions, dtype=float))
        per_pair = {
            p: jnp.asarray(sites[col], dtype=float)[i if end == "i" else j]
            for p, (col, end) in site_params.items()
        }
        e = jnp.sum(pair.energy(r, **params, **per_pair))
        return e, jnp.asarray(STATUS_OK, dtype=jnp.int32)

    return ClusterPotential(
        name=name or f"{pair.name}_cluster",
        energy_and_status=energy_and_status,
        params=tuple(p for p in pair.params if p.name not in site_params),
        site_columns=tuple(site_columns),
        description=f"sum over site pairs of {pair.name}: {pair.description}",
        reference=pair.reference,
    )


def check_sites(potential: ClusterPotential, positions, sites, where: str | None = None):
    """Validate positions and site data eagerly (before jit), with a clear error.

    Positions must be (N, 3) or (M, N, 3) with N >= 2, finite; every column of
    ``potential.site_columns`` present, of shape (N,) (or (M, N)), finite;
    types integers in 0 .. n_types - 1.

    Raises
    ------
    DataError
        Naming the column, the expected and the found shape or value.
    """
    x = np.asarray(positions, dtype=float)
    if x.ndim not in (2, 3) or x.shape[-1] != 3 or x.shape[-2] < 2:
        raise DataError(
            f"positions must have shape (N, 3) or (M, N, 3) in angstrom with N >= 2, "
            f"got shape {x.shape}",
            where,
        )
    if not np.all(np.isfinite(x)):
        raise DataError("positions contain NaN or inf", where)
    n = x.shape[-2]
    missing = [c for c in potential.site_column_names if c not in sites]
    if missing:
        raise DataError(
            f"{potential.name} needs site column(s) {', '.join(missing)}; got "
            f"{', '.join(sites) or 'none'}",
            where,
        )
    for col in potential.site_columns:
        v = np.asarray(sites[col.name])
        if v.shape[-1:] != (n,):
            raise DataError(
                f"site column {col.name!r} must have one value per site ({n}), "
                f"got shape {v.shape}",
                where,
            )
        if not np.all(np.isfinite(v.astype(float))):
            raise DataError(f"site column {col.name!r} contains NaN or inf", where)
        if col.dimension == "index":
            if not np.all(v == np.round(v)):
                raise DataError(f"site column {col.name!r} must hold integers, got {v}", where)
            if potential.n_types is not None and (v.min() < 0 or v.max() >= potential.n_types):
                raise DataError(
                    f"site column {col.name!r} must be in 0 .. {potential.n_types - 1} "
                    f"({potential.name} has {potential.n_types} site types), got {sorted(set(v))}",
                    where,
                )


def check_energy(potential: ClusterPotential, params, positions, sites, where=None):
    """Energy of one configuration, evaluated eagerly, raising on a failure status.

    For scripts, data generation and tests; inside a compiled model use
    ``energy_and_status`` and turn the status into a rejection (module
    docstring). ``params`` is a dict in internal units, positions (N, 3) in
    angstrom, ``where`` names the data (file, configuration) in errors.

    Raises
    ------
    DataError
        Bad positions or site data (:func:`check_sites`).
    ClusterEnergyError
        A non-zero status, with the sites involved and the parameters.
    """
    check_sites(potential, positions, sites, where)
    if np.asarray(positions).ndim != 2:
        raise DataError("check_energy takes one configuration, positions (N, 3)", where)
    e, status = potential.energy_and_status(jnp.asarray(positions, dtype=float), sites, **params)
    status = int(status)
    if status == STATUS_OK:
        return float(e)
    what = STATUS_MESSAGES.get(status, f"unknown status {status}")
    involved: tuple = ()
    if potential.diagnose is not None:
        detail, involved = potential.diagnose(np.asarray(positions, float), sites, params, status)
        what = f"{what}. {detail}"
    shown = ", ".join(f"{k}={float(v):.6g}" for k, v in params.items())
    raise ClusterEnergyError(
        f"{potential.name}: {what} (parameters, internal units: {shown})",
        where,
        status=status,
        sites=involved,
    )


def forces(potential: ClusterPotential, params, positions, sites):
    """Forces -dE/dx on the sites, shape (N, 3), kJ/mol/angstrom (NaN with a failure).

    ``params`` is a dict in internal units; positions (N, 3) in angstrom.
    """
    x = jnp.asarray(positions, dtype=float)
    return -jax.grad(lambda y: potential.energy_and_status(y, sites, **params)[0])(x)


def energies_and_forces(potential: ClusterPotential, params, positions, sites):
    """Energies, forces and statuses of a batch of configurations of the same size.

    The argument order is that of
    :func:`bayesff.observables.configurations.energies_and_forces` (pair
    potentials), plus the site columns.

    Parameters
    ----------
    potential
        A cluster potential.
    params
        Its parameters, internal units (scalars, or arrays under an outer vmap).
    positions
        Shape (M, N, 3), angstrom.
    sites
        Per-site columns, each of shape (N,) (shared by the batch) or (M, N).

    Returns
    -------
    energy : jax.Array
        (M,), kJ/mol.
    forces : jax.Array
        (M, N, 3), kJ/mol/angstrom.
    status : jax.Array
        (M,), int32.
    """
    x = jnp.asarray(positions, dtype=float)
    site_arrays = {k: jnp.asarray(v) for k, v in sites.items()}
    axes = {k: (0 if v.ndim == 2 else None) for k, v in site_arrays.items()}

    def one(xi, si):
        (e, status), g = jax.value_and_grad(
            lambda y: potential.energy_and_status(y, si, **params), has_aux=True
        )(xi)
        return e, -g, status

    return jax.vmap(one, in_axes=(0, axes))(x, site_arrays)
