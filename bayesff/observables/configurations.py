"""Energies of given geometries: the dimer energy u(r) of a pair potential.

``pair_energy`` is the simplest configuration observable: the interaction
energy of two atoms at distance r, which for a pair potential is u(r) itself.
It is the target of energy matching against a reference dimer curve (an
ab-initio or a published accurate pair potential) and of Gaussian-process
potentials (``docs/``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from bayesff.observables._spec import EnvField, Observable, register_observable

__all__ = ["PAIR_ENERGY", "PAIR_FORCE", "pair_energy", "pair_force"]


def pair_energy(potential, params, r_angstrom):
    """Dimer interaction energy u(r) in kJ/mol at distances ``r_angstrom`` (angstrom)."""
    return potential.energy(jnp.asarray(r_angstrom, dtype=float), **params)


def pair_force(potential, params, r_angstrom):
    """Radial force F(r) = -du/dr in kJ/mol/angstrom at distances ``r_angstrom`` (angstrom).

    Positive F pushes the pair apart (repulsion).
    """
    du = jax.grad(lambda r: potential.energy(r, **params))
    return -jnp.vectorize(du)(jnp.asarray(r_angstrom, dtype=float))


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
