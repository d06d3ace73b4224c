"""Potentials: pure JAX functions with their parameter tables.

Pair potentials take r in angstrom and return kJ/mol; torsion potentials take
phi in radians. Cut-off conventions are wrappers (:mod:`bayesff.potentials.cutoff`),
not branches inside the potentials.
"""

from bayesff.potentials._spec import (
    PairPotential,
    ParamSpec,
    TorsionPotential,
    get_potential,
    list_potentials,
    register,
)
from bayesff.potentials.cutoff import force_shifted, shifted, tail_correction, truncated
from bayesff.potentials.gp import GP, GPPairPotential, gp_pair_potential
from bayesff.potentials.pair import (
    LENNARD_JONES,
    MIE,
    SQUARE_WELL,
    lennard_jones,
    mie,
    square_well,
)
from bayesff.potentials.reference import ARGON_HFDID1, hfdid1
from bayesff.potentials.scaling import (
    AMBER,
    CHARMM,
    CONVENTIONS,
    OPLS,
    Convention,
    Molecule,
    pair_classes,
    remap_system,
    solve_remap,
)
from bayesff.potentials.torsion import (
    FOURIER,
    RYCKAERT_BELLEMANS,
    fourier,
    fourier_to_ryckaert_bellemans,
    ryckaert_bellemans,
    ryckaert_bellemans_to_fourier,
)

__all__ = [
    "AMBER",
    "ARGON_HFDID1",
    "CHARMM",
    "CONVENTIONS",
    "FOURIER",
    "GP",
    "LENNARD_JONES",
    "MIE",
    "OPLS",
    "RYCKAERT_BELLEMANS",
    "SQUARE_WELL",
    "Convention",
    "GPPairPotential",
    "Molecule",
    "PairPotential",
    "ParamSpec",
    "TorsionPotential",
    "force_shifted",
    "fourier",
    "fourier_to_ryckaert_bellemans",
    "get_potential",
    "gp_pair_potential",
    "hfdid1",
    "lennard_jones",
    "list_potentials",
    "mie",
    "pair_classes",
    "register",
    "remap_system",
    "ryckaert_bellemans",
    "ryckaert_bellemans_to_fourier",
    "shifted",
    "solve_remap",
    "square_well",
    "tail_correction",
    "truncated",
]
