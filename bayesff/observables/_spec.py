"""Observable (forward model) specifications and registry.

An observable turns a potential into ``predict(params, env) -> array``: a pure
JAX map from potential parameters (internal units, see :mod:`bayesff.units`)
and an environment (a dict of arrays of conditions, internal units) to
predictions in the observable's reporting unit. ``predict`` is jit- and
vmap-compatible and differentiable in ``params``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bayesff.errors import ProblemError

__all__ = ["EnvField", "Observable", "get_observable", "list_observables", "register_observable"]


@dataclass(frozen=True)
class EnvField:
    """One environment coordinate: its data-file column and physical dimension."""

    column: str
    dimension: str
    description: str = ""


@dataclass(frozen=True)
class Observable:
    """A forward model and how its data look in a file.

    Parameters
    ----------
    name
        Registry name used in problem files (``observable = "second_virial"``).
    env
        Environment coordinates, in the order ``predict`` expects them.
    value_column, uncertainty_column
        Data-file columns of the observed value and its standard uncertainty.
    dimension
        Physical dimension of the value; ``unit`` is the unit ``predict`` returns.
    build
        ``build(potential, **options) -> predict(params, env)``.
    potential_kind
        ``"pair"`` or ``"torsion"``: what potentials this observable accepts.
    options
        Names of the keyword options ``build`` accepts from a problem file's
        ``options`` table (e.g. ``closure``); ``None`` accepts none.
    nuisance
        Parameters of the observation rather than of the potential (e.g. the
        energy offset b of configuration energies), as
        :class:`~bayesff.potentials.ParamSpec` (dimension, support, default
        prior). ``predict`` receives them as keyword arguments in internal
        units; a problem may give them other priors or fix them.
    value_dims
        Names of the dimensions of one row's value when it is a vector (the
        forces of a configuration: ``("atom", "xyz")``); empty for a scalar.
    row_dim
        Name of the run file's row dimension when rows are not labelled by an
        environment column (``"config"`` for configurations); ``None``: named
        after the environment column that varies.
    layout
        How its data files are laid out: ``"rows"`` (one row per observation:
        ``env`` columns, ``value_column`` and an uncertainty column) or
        ``"configurations"`` (one row per atom of each configuration; read by
        :mod:`bayesff.configdata`).

    curve
        Rows of one target are points of a dense curve (S(q), g(r)) whose
        errors are correlated: the default error model is then
        ``discrepancy_gp`` (:class:`bayesff.targets.ErrorModel`).

    error_floor
        ``error_floor(potential, params, env, values, options) -> (n,)``: the
        forward model's own validated error at each row (observable's unit),
        used as a floor of the model error (the integral-equation closures'
        errors against a reference EOS); ``None``: no floor.

    ``predict(params, env, **nuisance)`` receives environment arrays with a
    leading row axis and returns an array of shape ``(rows, *value shape)``.
    A target with prepared arrays (:attr:`bayesff.targets.Target.aux`) also
    passes ``aux=`` (a dict of arrays).
    """

    name: str
    env: tuple[EnvField, ...]
    value_column: str
    uncertainty_column: str
    dimension: str
    unit: str
    build: Callable
    potential_kind: str = "pair"
    description: str = ""
    reference: str = ""
    options: tuple[str, ...] | None = None
    nuisance: tuple = ()
    value_dims: tuple[str, ...] = ()
    row_dim: str | None = None
    layout: str = "rows"
    curve: bool = False
    error_floor: Callable | None = None
    #: Rows describe two coexisting phases, which exist only below the fluid's critical
    #: temperature: a data file's ``T_over_Tc`` column above 1 is refused when read.
    subcritical: bool = False

    def accepts(self, kind: str) -> bool:
        """Whether a potential of this kind (``"pair"``, ``"torsion"``, ...) can be used."""
        kinds = (
            (self.potential_kind,) if isinstance(self.potential_kind, str) else self.potential_kind
        )
        return kind in kinds

    @property
    def env_columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.env)


_OBSERVABLES: dict[str, Observable] = {}


def register_observable(obs: Observable) -> Observable:
    """Add an observable to the registry (names are unique)."""
    if obs.name in _OBSERVABLES and _OBSERVABLES[obs.name] is not obs:
        raise ValueError(f"an observable named {obs.name!r} is already registered")
    _OBSERVABLES[obs.name] = obs
    return obs


def get_observable(name: str, where: str | None = None) -> Observable:
    """Look an observable up by name, with an error listing the known ones."""
    try:
        return _OBSERVABLES[name]
    except KeyError:
        raise ProblemError(
            f"unknown observable {name!r}; expected one of {', '.join(sorted(_OBSERVABLES))}",
            where,
        ) from None


def list_observables() -> dict[str, Observable]:
    """All registered observables by name."""
    return dict(sorted(_OBSERVABLES.items()))
