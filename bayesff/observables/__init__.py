"""Forward models: ``(params, environment) -> predictions``, pure JAX."""

from bayesff.observables import (  # noqa: F401  (registers observables)
    configurations,
    conformers,
    conventions,
    md_targets,
    molecular_targets,
    structure,
    vle,
)
from bayesff.observables._spec import (
    EnvField,
    Observable,
    get_observable,
    list_observables,
    register_observable,
)
from bayesff.observables.virial import (
    ISOTHERMAL_COMPRESSIBILITY,
    LOW_DENSITY_PRESSURE,
    SECOND_VIRIAL,
    isothermal_compressibility,
    low_density_pressure,
    quadrature_rule,
    second_virial,
)

__all__ = [
    "ISOTHERMAL_COMPRESSIBILITY",
    "LOW_DENSITY_PRESSURE",
    "SECOND_VIRIAL",
    "EnvField",
    "Observable",
    "get_observable",
    "isothermal_compressibility",
    "list_observables",
    "low_density_pressure",
    "quadrature_rule",
    "register_observable",
    "second_virial",
]
