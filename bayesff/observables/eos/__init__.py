"""Equations of state of model fluids (LJ, Mie, two-centre LJ, Mie chains), pure JAX.

See :mod:`bayesff.observables.eos._base` for the contract every model fulfils,
:mod:`~bayesff.observables.eos.thermo` for the thermodynamics and the critical
point of any model, and :mod:`~bayesff.observables.eos.coexistence` for the
phase equilibrium.
"""

from bayesff.observables.eos._base import ReducedEOS, Validity, load_coefficients
from bayesff.observables.eos.coexistence import (
    Coexistence,
    SinglePhase,
    enthalpy_of_vaporisation,
    liquid_density,
    solve_coexistence,
)
from bayesff.observables.eos.lj import LJ_THOL2016
from bayesff.observables.eos.thermo import (
    CriticalPoint,
    SolveStatus,
    compressibility_factor,
    critical_point,
    dp_drho,
    ln_fugacity_coefficient,
    pressure,
    residual_chemical_potential,
    residual_energy,
    status_counts,
)

__all__ = [
    "LJ_THOL2016",
    "Coexistence",
    "CriticalPoint",
    "ReducedEOS",
    "SinglePhase",
    "SolveStatus",
    "Validity",
    "compressibility_factor",
    "critical_point",
    "dp_drho",
    "enthalpy_of_vaporisation",
    "liquid_density",
    "ln_fugacity_coefficient",
    "load_coefficients",
    "pressure",
    "residual_chemical_potential",
    "residual_energy",
    "solve_coexistence",
    "status_counts",
]
