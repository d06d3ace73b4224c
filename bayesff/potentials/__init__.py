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
from bayesff.potentials.chain import MIE_CHAIN, MIE_CHAIN_VDW, epsilon_from_vdw, vdw_alpha
from bayesff.potentials.cluster import (
    STATUS_MESSAGES,
    STATUS_OK,
    STATUS_POLARISATION_CATASTROPHE,
    ClusterEnergyError,
    ClusterPotential,
    SiteColumn,
    check_energy,
    cluster_from_pair,
)
from bayesff.potentials.cutoff import force_shifted, shifted, tail_correction, truncated
from bayesff.potentials.electrostatics import (
    COULOMB,
    DEBYE_HUCKEL,
    FIXED_CHARGE,
    LJ_COULOMB,
    LJ_DEBYE_HUCKEL,
    LJ_SCREENED_COULOMB,
    SCREENED_COULOMB,
    ecc_scaling,
    fixed_charge_cluster,
)
from bayesff.potentials.gp import GP, GPPairPotential, gp_pair_potential
from bayesff.potentials.molecular import (
    STOCKMAYER,
    TWO_CENTRE_LJ,
    TWO_CENTRE_LJ_QUADRUPOLE,
    LinearPairPotential,
)
from bayesff.potentials.molecular_ff import FORCEFIELD, ForceFieldPotential
from bayesff.potentials.pair import (
    LENNARD_JONES,
    MIE,
    SQUARE_WELL,
    lennard_jones,
    mie,
    square_well,
)
from bayesff.potentials.polarisable import POLARISABLE, induced_dipoles, polarisable_cluster
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
    "COULOMB",
    "DEBYE_HUCKEL",
    "FIXED_CHARGE",
    "FORCEFIELD",
    "FOURIER",
    "GP",
    "LENNARD_JONES",
    "LJ_COULOMB",
    "LJ_DEBYE_HUCKEL",
    "LJ_SCREENED_COULOMB",
    "MIE",
    "MIE_CHAIN",
    "MIE_CHAIN_VDW",
    "OPLS",
    "POLARISABLE",
    "RYCKAERT_BELLEMANS",
    "SCREENED_COULOMB",
    "SQUARE_WELL",
    "STATUS_MESSAGES",
    "STATUS_OK",
    "STATUS_POLARISATION_CATASTROPHE",
    "STOCKMAYER",
    "TWO_CENTRE_LJ",
    "TWO_CENTRE_LJ_QUADRUPOLE",
    "ClusterEnergyError",
    "ClusterPotential",
    "Convention",
    "ForceFieldPotential",
    "GPPairPotential",
    "LinearPairPotential",
    "Molecule",
    "PairPotential",
    "ParamSpec",
    "SiteColumn",
    "TorsionPotential",
    "check_energy",
    "cluster_from_pair",
    "ecc_scaling",
    "epsilon_from_vdw",
    "fixed_charge_cluster",
    "force_shifted",
    "fourier",
    "fourier_to_ryckaert_bellemans",
    "get_potential",
    "gp_pair_potential",
    "hfdid1",
    "induced_dipoles",
    "lennard_jones",
    "list_potentials",
    "mie",
    "pair_classes",
    "polarisable_cluster",
    "register",
    "remap_system",
    "ryckaert_bellemans",
    "ryckaert_bellemans_to_fourier",
    "shifted",
    "solve_remap",
    "square_well",
    "tail_correction",
    "truncated",
    "vdw_alpha",
]
