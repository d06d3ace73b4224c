r"""The contract every equation of state of a model fluid fulfils.

An equation of state here is a residual Helmholtz energy in reduced units,

.. math::

    \alpha^r(T^*, \rho^*; \theta) = \frac{A^{res}}{N k_B T},
    \qquad T^* = \frac{k_B T}{\epsilon}, \qquad \rho^* = \frac{N}{V}\sigma^3,

with epsilon and sigma the (site or segment) energy and length of the
potential and theta its dimensionless shape parameters (Mie exponents,
two-centre elongation L* = L/sigma and squared quadrupole Q*^2, number of
chain segments). Density is counted in molecules (a chain of m segments is one
molecule). Everything thermodynamic (pressure, chemical potential, energy,
coexistence) follows from alpha^r by automatic differentiation
(:mod:`bayesff.observables.eos.thermo`), so a model is one pure function.

Mapping a potential's parameters (internal units: epsilon in kJ/mol, sigma in
angstrom) to (T*, rho*, theta) is exact algebra, so gradients of every
prediction in the force-field parameters are exact.

Coefficients of an EOS are package data (JSON, never pickled) whose sha256 is
checked when read (:func:`load_coefficients`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["ReducedEOS", "Validity", "load_coefficients"]


@dataclass(frozen=True)
class Validity:
    """Where an equation of state was fitted and validated, in reduced units.

    Parameters
    ----------
    T_star
        (lowest, highest) reduced temperature k_B T / epsilon.
    rho_star_max
        Highest reduced density N sigma^3 / V (molecules).
    shape
        (lowest, highest) of each shape parameter, by name.
    T_over_Tc_min
        Lowest T / Tc of a coexistence solve (0: only ``T_star``'s floor), for an EOS
        fitted over a range of T/Tc rather than of T*.
    coexisting_liquid_limit
        Whether a coexisting liquid denser than ``rho_star_max`` is outside the model
        (SAFT-VR Mie's steep monomers far below Tc); not for the two-centre EOS, whose
        ``rho_star_max`` is the non-polar fluid's and which a quadrupole legitimately
        exceeds inside the fitted range.
    sites_per_molecule
        The shape parameter that counts sites per molecule when ``rho_star_max`` is a
        density of sites (SAFT-VR Mie's ``segments``: a chain of m tangent segments packs
        m times as many sites), else ``None``; :meth:`rho_star_limit` applies it.
    shape_gaps
        ``(larger, smaller, gap)`` triples: ``shape[larger] - shape[smaller] >= gap`` too
        (SAFT-VR Mie's repulsive exponent must exceed the attractive one: as they meet,
        the Barker-Henderson diameter has no solution and the EOS is NaN).
    """

    T_star: tuple[float, float]
    rho_star_max: float
    shape: dict[str, tuple[float, float]] = field(default_factory=dict)
    T_over_Tc_min: float = 0.0
    coexisting_liquid_limit: bool = False
    sites_per_molecule: str | None = None
    shape_gaps: tuple[tuple[str, str, float], ...] = ()

    def rho_star_limit(self, shape):
        """Highest molecule density rho* = N sigma^3 / V at ``shape`` (a float or array).

        ``rho_star_max`` divided by the sites per molecule where it counts sites
        (``sites_per_molecule``), else ``rho_star_max``.
        """
        if self.sites_per_molecule is None:
            return self.rho_star_max
        return self.rho_star_max / shape[self.sites_per_molecule]


@dataclass(frozen=True)
class ReducedEOS:
    """A Helmholtz-energy model of a model fluid, in reduced units.

    Parameters
    ----------
    name
        Short name, e.g. ``"lj_thol2016"``.
    alphar
        ``alphar(T_star, rho_star, **shape) -> scalar``: A_res / (N k_B T),
        pure JAX, float64, scalar inputs (callers vmap), differentiable in
        every argument to second order.
    shape
        Names of the dimensionless shape parameters ``alphar`` takes.
    critical_estimate
        ``critical_estimate(**shape) -> (Tc_star, rhoc_star)``: a start for the
        critical-point solve, within about 10 %.
    validity
        Where the model was fitted and validated.
    reference
        Citation with DOI.
    critical_estimate_error
        The largest relative error of ``critical_estimate``'s T*c against the solved
        critical point over ``validity`` (measured; 0.1, the start's bound, if not), or
        ``critical_estimate_error(**shape) -> float`` where it depends on the shape:
        where a row's T/Tc is taken from the estimate, the error floor takes the larger
        floor of every T/Tc region the exact value may lie in.
    critical_density_estimate_error
        The same for ``critical_estimate``'s rho*c (a single-phase row's rho/rho_c picks
        its vapour or liquid floor).
    """

    name: str
    alphar: Callable
    shape: tuple[str, ...]
    critical_estimate: Callable
    validity: Validity
    reference: str
    critical_estimate_error: float | Callable = 0.1
    critical_density_estimate_error: float | Callable = 0.1


def load_coefficients(filename: str, sha256: str) -> dict:
    """Read an EOS coefficient file from the package data, checking its sha256.

    Parameters
    ----------
    filename
        Name of a JSON file in ``bayesff/observables/eos/data/``.
    sha256
        Expected hex digest of the file's bytes.

    Raises
    ------
    RuntimeError
        The file's digest differs (an edited or corrupted installation).
    """
    raw = resources.files("bayesff.observables.eos").joinpath("data", filename).read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != sha256:
        raise RuntimeError(
            f"bayesff/observables/eos/data/{filename}: sha256 {got} differs from the "
            f"expected {sha256}; the coefficient file was edited or corrupted, reinstall bayesff"
        )
    return json.loads(raw)
