"""Energies and forces of given geometries under a pair potential.

``pair_energy`` is the simplest configuration observable: the interaction
energy of two atoms at distance r, which for a pair potential is u(r) itself.
It is the target of energy matching against a reference dimer curve (an
ab-initio or a published accurate pair potential) and of Gaussian-process
potentials (``docs/``).

``configuration_energy`` and ``configuration_forces`` take a whole N-atom
configuration (positions in angstrom, no periodic box): the total energy is
the sum of u(r_ij) over the N(N-1)/2 pairs and the forces are its negative
gradient, one vector per atom. ``energies_and_forces`` maps them over a batch
of configurations with the same number of atoms (vmap in one place). They are
the forward model of force matching: the registered observables
``configuration_energy`` (one energy per configuration, with a nuisance
energy offset b: E_ref = E(X) + b, b being a reference energy the potential
cannot know, such as the energy of isolated atoms in an ab-initio
calculation) and ``configuration_forces`` (one (N, 3) force array per
configuration) make force matching an ordinary problem (``models/argon_forcematch.toml``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.potentials._spec import ParamSpec
from bayesff.priors import PriorSpec, Support

__all__ = [
    "CONFIGURATION_ENERGY",
    "CONFIGURATION_FORCES",
    "PAIR_ENERGY",
    "PAIR_FORCE",
    "configuration_energy",
    "configuration_forces",
    "energies_and_forces",
    "pair_energy",
    "pair_force",
]


def pair_energy(potential, params, r_angstrom):
    """Dimer interaction energy u(r) in kJ/mol at distances ``r_angstrom`` (angstrom)."""
    return potential.energy(jnp.asarray(r_angstrom, dtype=float), **params)


def pair_force(potential, params, r_angstrom):
    """Radial force F(r) = -du/dr in kJ/mol/angstrom at distances ``r_angstrom`` (angstrom).

    Positive F pushes the pair apart (repulsion).
    """
    du = jax.grad(lambda r: potential.energy(r, **params))
    return -jnp.vectorize(du)(jnp.asarray(r_angstrom, dtype=float))


def _check_positions(positions, batched: bool):
    """Shape check before tracing: (N, 3) or, batched, (M, N, 3) with N >= 2."""
    shape = tuple(getattr(positions, "shape", np.shape(positions)))
    want = "(M, N, 3)" if batched else "(N, 3)"
    ndim = 3 if batched else 2
    if len(shape) != ndim or shape[-1] != 3 or shape[-2] < 2:
        raise ValueError(
            f"positions must have shape {want} (angstrom) with N >= 2 atoms, got shape {shape}"
        )


def configuration_energy(potential, params, positions):
    r"""Total pair energy of one configuration, in kJ/mol.

    .. math:: E = \sum_{i<j} u(|\mathbf{r}_i - \mathbf{r}_j|)

    Parameters
    ----------
    potential
        A :class:`~bayesff.potentials.PairPotential`.
    params
        Its parameters, internal units (kJ/mol, angstrom).
    positions
        Atom positions, shape (N, 3), angstrom; open boundaries (no box).

    Returns
    -------
    jax.Array
        Scalar energy, kJ/mol. Coincident atoms give r = 0, where the pair
        potentials are not finite: the result is then inf or NaN, never a
        silent zero.
    """
    _check_positions(positions, batched=False)
    x = jnp.asarray(positions, dtype=float)
    i, j = np.triu_indices(x.shape[0], k=1)
    r = jnp.sqrt(jnp.sum((x[i] - x[j]) ** 2, axis=-1))
    return jnp.sum(potential.energy(r, **params))


def configuration_forces(potential, params, positions):
    """Forces on the atoms of one configuration, -dE/dr_i, in kJ/mol/angstrom.

    Parameters
    ----------
    potential, params, positions
        As for :func:`configuration_energy`; positions (N, 3) in angstrom.

    Returns
    -------
    jax.Array
        Shape (N, 3), kJ/mol/angstrom. They sum to zero (Newton's third law).
    """
    _check_positions(positions, batched=False)
    return -jax.grad(lambda x: configuration_energy(potential, params, x))(
        jnp.asarray(positions, dtype=float)
    )


def energies_and_forces(potential, params, positions):
    """Energies and forces of a batch of configurations with the same atom count.

    Parameters
    ----------
    potential
        A pair potential.
    params
        Its parameters, internal units; scalars (shared by the batch).
    positions
        Shape (M, N, 3), angstrom.

    Returns
    -------
    energy : jax.Array
        Shape (M,), kJ/mol.
    forces : jax.Array
        Shape (M, N, 3), kJ/mol/angstrom.
    """
    _check_positions(positions, batched=True)

    def one(x):
        e, g = jax.value_and_grad(lambda y: configuration_energy(potential, params, y))(x)
        return e, -g

    return jax.vmap(one)(jnp.asarray(positions, dtype=float))


def _build_pair_force(potential, **_options):
    def predict(params, env):
        return pair_force(potential, params, env["r_angstrom"])

    return predict


def _build_pair_energy(potential, **_options):
    def predict(params, env):
        return pair_energy(potential, params, env["r_angstrom"])

    return predict


PAIR_ENERGY = register_observable(
    Observable(
        name="pair_energy",
        env=(EnvField("r_angstrom", "length", "pair distance r"),),
        value_column="E_kJ_per_mol",
        uncertainty_column="u_E_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_pair_energy,
        potential_kind="pair",
        description="dimer interaction energy u(r) of two atoms at distance r",
        reference="the pair potential itself (energy of an isolated pair)",
    )
)
PAIR_FORCE = register_observable(
    Observable(
        name="pair_force",
        env=(EnvField("r_angstrom", "length", "pair distance r"),),
        value_column="F_kJ_per_mol_A",
        uncertainty_column="u_F_kJ_per_mol_A",
        dimension="force",
        unit="kJ/mol/angstrom",
        build=_build_pair_force,
        potential_kind="pair",
        description="radial force -du/dr between two atoms at distance r (positive: repulsive)",
        reference="minus the derivative of the pair potential",
    )
)


def _build_configuration_energy(potential, **_options):
    def predict(params, env, offset=0.0):
        x = jnp.asarray(env["positions_angstrom"], dtype=float)
        return jax.vmap(lambda y: configuration_energy(potential, params, y))(x) + offset

    return predict


def _build_configuration_forces(potential, **_options):
    def predict(params, env):
        x = jnp.asarray(env["positions_angstrom"], dtype=float)
        return jax.vmap(lambda y: configuration_forces(potential, params, y))(x)

    return predict


_POSITIONS = EnvField("positions_angstrom", "length", "atom positions (N, 3) of a configuration")
_FORCE_MATCHING = (
    "force matching: Ercolessi and Adams, Europhys. Lett. 26, 583 (1994), "
    "doi:10.1209/0295-5075/26/8/005"
)
#: The energy offset b of configuration energies: E_ref = E(X) + b (kJ/mol).
OFFSET = ParamSpec(
    "offset",
    "energy",
    Support("real"),
    PriorSpec("Normal", {"loc": 0.0, "scale": 10.0}),
    "kJ/mol",
    "energy offset b between the reference energies and the potential's (kJ/mol)",
)

CONFIGURATION_ENERGY = register_observable(
    Observable(
        name="configuration_energy",
        env=(_POSITIONS,),
        value_column="E_kJ_per_mol",
        uncertainty_column="u_E_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_configuration_energy,
        description="total pair energy of a configuration plus an offset b (nuisance)",
        reference=_FORCE_MATCHING,
        nuisance=(OFFSET,),
        row_dim="config",
        layout="configurations",
    )
)
CONFIGURATION_FORCES = register_observable(
    Observable(
        name="configuration_forces",
        env=(_POSITIONS,),
        value_column="F_kJ_per_mol_A",
        uncertainty_column="u_F_kJ_per_mol_A",
        dimension="force",
        unit="kJ/mol/angstrom",
        build=_build_configuration_forces,
        description="force vectors -dE/dr_i on every atom of a configuration",
        reference=_FORCE_MATCHING,
        value_dims=("atom", "xyz"),
        row_dim="config",
        layout="configurations",
    )
)
