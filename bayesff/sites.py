"""Names of the model's sites, which are also the run file's variable names: one place.

:mod:`bayesff.model` samples its latent variables and records its model means
under these names, and :mod:`bayesff.runfile` writes and reads them; no other
module builds a name (``tau_B2``) itself. Every name ends in the target's name, or in
:data:`POOLED` for the problem-level pooling of parameters over groups of targets.
"""

from __future__ import annotations

__all__ = [
    "LAPLACE_MODE",
    "POOLED",
    "alpha",
    "beta",
    "delta_amplitude",
    "delta_length",
    "eta",
    "group_value",
    "length",
    "mean",
    "nuisance",
    "omega",
    "reserved",
    "reserved_by_pooling",
    "slope",
    "tau",
    "valid",
    "znew",
]


#: The owner of the problem-level pooling's sites (``omega_epsilon_pooled``): not a
#: target name (a problem with ``[pooling]`` refuses a target of this name).
POOLED = "pooled"

#: The run file's sample statistic of each draw's nearest competing mode of the Laplace
#: start (0 the best), where it found several (not a model site).
LAPLACE_MODE = "laplace_mode"


def mean(target: str) -> str:
    """The model mean f of a target's rows (a deterministic site)."""
    return f"{target}_model"


def nuisance(param: str, target: str) -> str:
    """A nuisance parameter of a target (an energy offset ``offset_E``)."""
    return f"{param}_{target}"


def tau(target: str) -> str:
    """The inferred inadequacy scale of a target."""
    return f"tau_{target}"


def omega(param: str, target: str) -> str:
    """The between-band spread of a pooled parameter (hierarchical inadequacy), or with
    ``target`` :data:`POOLED` its spread between groups of targets."""
    return f"omega_{param}_{target}"


def eta(param: str, target: str) -> str:
    """The log-deviations of a pooled parameter per band (hierarchical inadequacy)."""
    return f"eta_{param}_{target}"


def group_value(param: str) -> str:
    """A pooled parameter's own value per trained group of targets (the problem's unit)."""
    return f"{param}_{POOLED}"


def slope(param: str) -> str:
    """The slope of a pooled parameter's trend in the groups' covariate (log-change per
    unit of the covariate)."""
    return f"slope_{param}_{POOLED}"


def znew(param: str, target: str) -> str:
    """The standard-normal deviation of a new environment per held-out group (with
    ``target`` :data:`POOLED`: of each group of targets with no training rows)."""
    return f"znew_{param}_{target}"


def borrowed(target: str) -> str:
    """The uniform draw that picks, per posterior draw, which trained target's inadequacy
    scale a target with no training rows of a new group borrows (held-out rows only)."""
    return f"borrowed_{target}"


def alpha(target: str) -> str:
    """The amplitude of a GP inadequacy."""
    return f"alpha_{target}"


def length(target: str) -> str:
    """The length scale of a GP inadequacy (scaled coordinate)."""
    return f"length_{target}"


def beta(target: str) -> str:
    """The basis weights of a GP inadequacy."""
    return f"beta_{target}"


def delta_amplitude(target: str) -> str:
    """The amplitude of a GP discrepancy error model (observable's unit)."""
    return f"delta_amplitude_{target}"


def delta_length(target: str) -> str:
    """The length scale of a GP discrepancy error model (scaled coordinate)."""
    return f"delta_length_{target}"


def valid(target: str) -> str:
    """The factor that rejects parameters where the forward model fails."""
    return f"valid_{target}"


def reserved(target: str, parameters, nuisances=()) -> tuple[str, ...]:
    """Every site name a target can give the model besides its own (its observed site),
    for any inadequacy, error model or pooling: ``parameters`` are the problem's parameter
    names, ``nuisances`` the target's. A target named as one of these (``tau_x`` beside a
    target ``x``) would make two sites of one name, which NumPyro refuses only when the
    model is traced. Every name a target could give is reserved, whether or not its
    settings use it (parameter and nuisance names come from the package, not the file)."""
    per_target = (
        mean, tau, valid, borrowed, alpha, length, beta, delta_amplitude, delta_length,
    )  # fmt: skip
    names = [f(target) for f in per_target]
    names += [nuisance(n, target) for n in nuisances]
    names += [f(q, target) for q in parameters for f in (omega, eta, znew)]
    return tuple(names)


def reserved_by_pooling(parameters) -> tuple[str, ...]:
    """The site names the problem-level pooling of ``parameters`` can give the model."""
    return tuple(
        name
        for q in parameters
        for name in (omega(q, POOLED), group_value(q), slope(q), znew(q, POOLED))
    )
