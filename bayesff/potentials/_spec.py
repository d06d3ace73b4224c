"""Potential specifications: a potential publishes its parameters as data.

Like numpyro's ``arg_constraints``, each potential declares a table of
:class:`ParamSpec` (name, physical dimension, support, default prior); the
model builder derives units, transforms and priors from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bayesff.errors import ProblemError
from bayesff.priors import PriorSpec, Support
from bayesff.units import INTERNAL_UNITS

__all__ = [
    "DerivedParam",
    "PairPotential",
    "ParamSpec",
    "TorsionPotential",
    "energy_in_K",
    "get_potential",
    "list_potentials",
    "register",
]


@dataclass(frozen=True)
class DerivedParam:
    """A parameter of a potential's usual form that another form's parameters determine.

    ``mie_vdw`` samples epsilon_vdw = alpha(n, m) epsilon; its derived ``epsilon`` is
    epsilon_vdw / alpha(n, m), which reports, atlases and exports show beside the
    sampled parameters (:func:`bayesff.runfile.derived_parameters`).

    Parameters
    ----------
    name
        Its name in the usual form (``"epsilon"``).
    unit_from
        The sampled parameter whose unit it has: it rescales that parameter by a
        dimensionless factor (the other inputs are dimensionless), so it is computed
        in whatever unit that one is given.
    inputs
        The potential's parameters it is computed from, in the order ``value`` takes.
    value
        ``value(*inputs) -> array``, elementwise.
    description
        One line.
    dimension, unit
        For a parameter that is not a dimensionless rescale of one input (``Q`` of
        ``two_centre_lj_quadrupole_qstar``, from epsilon, sigma and ln Q*^2): its physical
        dimension, when ``value`` takes every input in internal units and returns this
        dimension's internal unit, and the unit reports show it in. ``unit_from`` is
        then the sampled input whose draws' shape it has.
    """

    name: str
    unit_from: str
    inputs: tuple[str, ...]
    value: Callable
    description: str = ""
    dimension: str = ""
    unit: str = ""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a potential.

    Parameters
    ----------
    name
        Keyword name in ``energy(r, **params)``.
    dimension
        Physical dimension (a key of :data:`bayesff.units.INTERNAL_UNITS`);
        the potential receives the value in the internal unit of that dimension.
    support
        Where the parameter may live.
    default_prior
        Weakly informative prior, in ``prior_unit``.
    prior_unit
        Unit of ``default_prior`` (e.g. ``"K"`` for an energy quoted as E/k_B).
    description
        One line for ``bayesff list``.
    """

    name: str
    dimension: str
    support: Support
    default_prior: PriorSpec
    prior_unit: str
    description: str = ""

    @property
    def unit(self) -> str:
        """Internal unit in which ``energy`` receives this parameter."""
        return INTERNAL_UNITS[self.dimension]


def energy_in_K(name: str, median_K: float, description: str) -> ParamSpec:
    """A positive energy parameter (a well depth) whose default prior is quoted in K
    (E/k_B): LogNormal(median_K, 1.0)."""
    return ParamSpec(
        name=name,
        dimension="energy",
        support=Support("positive"),
        default_prior=PriorSpec("LogNormal", {"median": median_K, "scale": 1.0}),
        prior_unit="K",
        description=description,
    )


@dataclass(frozen=True)
class PairPotential:
    """A pair potential u(r) with its parameter table.

    Parameters
    ----------
    name
        Registry name, e.g. ``"lennard_jones"``.
    energy
        Pure JAX function ``energy(r, **params) -> u``: r in angstrom, u in
        kJ/mol, scalar in r (callers broadcast).
    params
        Parameter table.
    length_scale
        ``length_scale(**params) -> angstrom``: the size of the repulsive core,
        used to place quadrature panels.
    breakpoints
        ``breakpoints(**params) -> tuple of radii`` (angstrom) where u or du/dr
        is discontinuous (hard core, well edge, cut-off). Quadrature panels end
        there so that piecewise-smooth integrands are integrated to full accuracy.
    quadrature_edges
        ``quadrature_edges(**params) -> tuple of radii`` (angstrom) where B2
        quadrature panels should also end although u is smooth there (e.g. the
        box of a GP correction, whose wiggles the sigma-based panels do not
        resolve). Unlike breakpoints they are not discontinuities: the liquid
        solver and MD ignore them.
    hard_core
        ``True`` if u = +inf below the first breakpoint (exp(-u/kT) = 0 there).
    description, reference
        Formula in words, and the citation.
    """

    name: str
    energy: Callable
    params: tuple[ParamSpec, ...]
    length_scale: Callable
    breakpoints: Callable = field(default=lambda **p: ())
    hard_core: bool = False
    description: str = ""
    reference: str = ""
    kind: str = field(default="pair", init=False)
    #: The potential before a cut-off wrapper was applied (None: not wrapped).
    unwrapped: object = field(default=None, compare=False)
    #: Smooth extra B2 panel ends (see ``quadrature_edges`` above); last so that
    #: positional construction is unchanged.
    quadrature_edges: Callable = field(default=lambda **p: ())
    #: Parameters of the usual form its own determine (:class:`DerivedParam`).
    derived: tuple[DerivedParam, ...] = ()
    #: The cut-off a wrapper applies: ``(scheme, r_c in angstrom)``; ``None``: not wrapped.
    cut_off: tuple[str, float] | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


@dataclass(frozen=True)
class TorsionPotential:
    """A torsion potential u(phi) with its parameter table.

    ``energy(phi, **params) -> u``: phi in radians (IUPAC convention, trans =
    pi), u in kJ/mol.
    """

    name: str
    energy: Callable
    params: tuple[ParamSpec, ...]
    description: str = ""
    reference: str = ""
    kind: str = field(default="torsion", init=False)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


_REGISTRY: dict[str, PairPotential | TorsionPotential] = {}


def register(spec: PairPotential | TorsionPotential) -> PairPotential | TorsionPotential:
    """Add a potential to the registry (names are unique)."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"a potential named {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def get_potential(name: str, where: str | None = None) -> PairPotential | TorsionPotential:
    """Look a potential up by name, with an error listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ProblemError(
            f"unknown potential {name!r}; expected one of {', '.join(sorted(_REGISTRY))}", where
        ) from None


def list_potentials() -> dict[str, PairPotential | TorsionPotential]:
    """All registered potentials by name."""
    return dict(sorted(_REGISTRY.items()))
