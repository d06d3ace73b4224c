r"""Chains of tangent Mie segments: the molecules of the SAFT-VR Mie route to force fields.

A :class:`ChainPotential` (``kind = "chain"``) is a molecule of ``segments``
identical spheres bonded at contact (bond length sigma), each pair of segments on
different molecules interacting through one Mie (n, m) pair potential. It is not a
pair potential between molecules, so the pair-only forward models (the second
virial coefficient, the integral equations) do not accept it; forward models
of chains do (the equation of state :mod:`bayesff.observables.eos.saft_vr_mie`
through :func:`reduced_state`, and molecular simulation of chains where an
engine takes them).

``energy(r, **params)`` is the segment-segment pair energy (what LAMMPS'
``pair_style mie/cut`` or an OpenMM ``CustomNonbondedForce`` is given), so
exporters and MD use it as they use a pair potential; ``segments`` does not
enter it, it sets how many sites a molecule has.

The equation of state sees the potential in reduced units,
:func:`reduced_state`:

.. math::

    T^* = \frac{R T}{\varepsilon}, \qquad \rho^* = \rho \sigma^3, \qquad
    (m_{seg}, \lambda_r, \lambda_a) = (\text{segments}, n, m),

with epsilon in kJ/mol, R in kJ/(mol K), rho the number density of molecules
in 1/angstrom^3 and sigma in angstrom; exact algebra, so gradients of every
prediction in (epsilon, sigma, n, m, segments) are exact.

Note the names: ``m`` is the Mie attractive exponent, as in the ``mie``
potential; the number of segments (``m`` in the SAFT literature) is
``segments``.

The same chain with its attraction as the parameter, ``mie_chain_vdw``: epsilon
is replaced by the van der Waals energy :math:`\varepsilon_{vdw} = \alpha(n, m)
\varepsilon` (:func:`vdw_alpha`), the integrated attraction that sets a Mie
fluid's vapour-liquid equilibrium nearly alone (Ramrattan et al. 2015). Along
the ridge of a VLE posterior in (epsilon, n), epsilon_vdw stays constant to a
fraction of a per cent (docs/chains.md), so a sampler in (epsilon_vdw, sigma,
n) sees nearly independent coordinates where one in (epsilon, sigma, n) sees a
curved ridge. Both kinds are the same potential: ``epsilon = epsilon_vdw /
alpha(n, m)`` exactly.

References
----------
T. Lafitte, A. Apostolakou, C. Avendano, A. Galindo, C. S. Adjiman, E. A. Muller
and G. Jackson, J. Chem. Phys. 139, 154504 (2013), doi:10.1063/1.4819786;
A. Mejia, C. Herdes and E. A. Muller, Ind. Eng. Chem. Res. 53, 4131 (2014)
(force fields of Mie chains from the equation of state); N. S. Ramrattan, C.
Avendano, E. A. Muller and A. Galindo, Mol. Phys. 113, 932 (2015),
doi:10.1080/00268976.2015.1025112 (the corresponding states of Mie fluids in alpha).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bayesff.potentials._spec import DerivedParam, ParamSpec, register
from bayesff.potentials.pair import (
    EPSILON_FROM_VDW,
    epsilon_from_vdw,
    epsilon_vdw_spec,
    mie,
    vdw_alpha,
)
from bayesff.priors import PriorSpec, Support
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

__all__ = [
    "MIE_CHAIN",
    "MIE_CHAIN_VDW",
    "ChainPotential",
    "epsilon_from_vdw",
    "mie_chain_segment_energy",
    "mie_chain_vdw_segment_energy",
    "reduced_state",
    "vdw_alpha",
]


@dataclass(frozen=True)
class ChainPotential:
    """A molecule of tangent identical segments with a segment pair potential.

    Parameters
    ----------
    name
        Registry name, e.g. ``"mie_chain"``.
    energy
        Pure JAX ``energy(r, **params) -> u``: the pair energy of two segments
        on different molecules at distance r (angstrom), kJ/mol; elementwise.
    params
        Parameter table (including ``segments``).
    length_scale
        ``length_scale(**params) -> angstrom``: the segment diameter.
    bond_length
        ``bond_length(**params) -> angstrom``: the distance of bonded segments
        (sigma for tangent spheres).
    description, reference
        Formula in words, and the citation.
    """

    name: str
    energy: Callable
    params: tuple[ParamSpec, ...]
    length_scale: Callable
    bond_length: Callable
    description: str = ""
    reference: str = ""
    kind: str = field(default="chain", init=False)
    #: No discontinuities (a smooth segment potential); kept for code that reads it.
    breakpoints: Callable = field(default=lambda **p: ())
    #: Parameters of the usual form its own determine (``mie_chain_vdw``: epsilon).
    derived: tuple[DerivedParam, ...] = ()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


def mie_chain_segment_energy(r, epsilon, sigma, n, m, segments=None):
    r"""Pair energy of two segments of different Mie chains.

    .. math::

        u(r) = C \varepsilon \left[ \left(\frac{\sigma}{r}\right)^{n}
               - \left(\frac{\sigma}{r}\right)^{m} \right],
        \qquad C = \frac{n}{n-m} \left(\frac{n}{m}\right)^{m/(n-m)}

    (:func:`bayesff.potentials.mie`).

    Parameters
    ----------
    r
        Segment-segment distance, angstrom.
    epsilon
        Well depth, kJ/mol.
    sigma
        Segment diameter (u = 0), angstrom.
    n, m
        Repulsive and attractive exponents, dimensionless, n > m.
    segments
        Number of segments per molecule; does not enter the pair energy
        (accepted so that ``energy(r, **params)`` takes every parameter).

    Returns
    -------
    u
        kJ/mol.
    """
    del segments  # sets the number of sites, not the segment-segment energy
    return mie(r, epsilon, sigma, n, m)


def reduced_state(T, rho, epsilon, sigma, n, m, segments):
    r"""The SAFT-VR Mie state and shape of a Mie chain, from internal units.

    Parameters
    ----------
    T
        Temperature, K.
    rho
        Number density of molecules (not segments), 1/angstrom^3.
    epsilon
        Segment well depth, kJ/mol.
    sigma
        Segment diameter, angstrom.
    n, m
        Mie repulsive and attractive exponents.
    segments
        Number of tangent segments.

    Returns
    -------
    T_star, rho_star, shape
        k_B T / epsilon = R T / epsilon, rho sigma^3, and the keyword arguments
        ``{"segments": segments, "lambda_r": n, "lambda_a": m}`` of
        :func:`bayesff.observables.eos.saft_vr_mie.alphar`.
    """
    shape = {"segments": segments, "lambda_r": n, "lambda_a": m}
    return GAS_CONSTANT_KJ_PER_MOL_K * T / epsilon, rho * sigma**3, shape


MIE_CHAIN = register(
    ChainPotential(
        name="mie_chain",
        energy=mie_chain_segment_energy,
        params=(
            ParamSpec(
                name="epsilon",
                dimension="energy",
                support=Support("positive"),
                default_prior=PriorSpec("LogNormal", {"median": 200.0, "scale": 1.0}),
                prior_unit="K",
                description="segment well depth (prior quoted as epsilon/k_B)",
            ),
            ParamSpec(
                name="sigma",
                dimension="length",
                support=Support("positive"),
                default_prior=PriorSpec("LogNormal", {"median": 4.0, "scale": 0.3}),
                prior_unit="angstrom",
                description="segment diameter (u = 0; also the bond length)",
            ),
            ParamSpec(
                name="n",
                dimension="dimensionless",
                support=Support("interval", 6.5, 50.0),
                default_prior=PriorSpec("Uniform", {"low": 8.0, "high": 30.0}),
                prior_unit="1",
                description="repulsive exponent (support disjoint from m's: n > m)",
            ),
            ParamSpec(
                name="m",
                dimension="dimensionless",
                support=Support("interval", 5.0, 6.0),
                default_prior=PriorSpec("Uniform", {"low": 5.0, "high": 6.0}),
                prior_unit="1",
                description="attractive exponent (usually fixed at 6; the EOS is fitted for 5-7)",
            ),
            ParamSpec(
                name="segments",
                dimension="dimensionless",
                support=Support("interval", 1.0, 16.0),
                default_prior=PriorSpec("Uniform", {"low": 1.0, "high": 16.0}),
                prior_unit="1",
                description="tangent segments per molecule (real for the EOS, an integer for MD)",
            ),
        ),
        length_scale=lambda sigma, **kw: sigma,
        bond_length=lambda sigma, **kw: sigma,
        description="segments tangent Mie spheres; segment pair energy "
        "C eps [(sigma/r)^n - (sigma/r)^m]",
        reference="T. Lafitte et al., J. Chem. Phys. 139, 154504 (2013), doi:10.1063/1.4819786",
    )
)


def mie_chain_vdw_segment_energy(r, epsilon_vdw, sigma, n, m, segments=None):
    """Pair energy of two segments of different Mie chains, from the van der Waals energy.

    :func:`mie_chain_segment_energy` with epsilon = epsilon_vdw / alpha(n, m)
    (:func:`vdw_alpha`).

    Parameters
    ----------
    r
        Segment-segment distance, angstrom.
    epsilon_vdw
        Segment van der Waals energy alpha(n, m) epsilon, kJ/mol.
    sigma
        Segment diameter (u = 0), angstrom.
    n, m
        Repulsive and attractive exponents, dimensionless, n > m.
    segments
        Number of segments per molecule; does not enter the pair energy.

    Returns
    -------
    u
        kJ/mol.
    """
    del segments
    return mie(r, epsilon_from_vdw(epsilon_vdw, n, m), sigma, n, m)


MIE_CHAIN_VDW = register(
    ChainPotential(
        name="mie_chain_vdw",
        energy=mie_chain_vdw_segment_energy,
        params=(
            # alpha(12, 6) = 8/9 times mie_chain's epsilon prior median
            epsilon_vdw_spec(180.0, "segment van der Waals energy"),
            *MIE_CHAIN.params[1:],
        ),
        length_scale=lambda sigma, **kw: sigma,
        bond_length=lambda sigma, **kw: sigma,
        description="mie_chain parameterised by its van der Waals energy alpha(n, m) eps "
        "(alpha = C [1/(m-3) - 1/(n-3)]) in place of eps",
        derived=(EPSILON_FROM_VDW,),
        reference="N. S. Ramrattan et al., Mol. Phys. 113, 932 (2015), "
        "doi:10.1080/00268976.2015.1025112; T. Lafitte et al., J. Chem. Phys. 139, 154504 (2013)",
    )
)
