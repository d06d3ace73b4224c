r"""Torsion potentials u(phi): OPLS Fourier series and Ryckaert-Bellemans.

Convention: phi in radians, IUPAC/OPLS, with cis = 0 and trans = pi; u in
kJ/mol. Ryckaert-Bellemans is written in the polymer angle
:math:`\psi = \phi - \pi` (trans = 0), as in its original paper and in GROMACS.

Conversion between the two forms (derived with :math:`c = \cos\phi = -\cos\psi`,
:math:`\cos 2\phi = 2c^2 - 1`, :math:`\cos 3\phi = 4c^3 - 3c`,
:math:`\cos 4\phi = 8c^4 - 8c^2 + 1`):

.. math::

    C_0 = V_2 + \tfrac12 (V_1 + V_3), \quad
    C_1 = \tfrac12 (-V_1 + 3 V_3), \quad
    C_2 = -V_2 + 4 V_4, \quad
    C_3 = -2 V_3, \quad
    C_4 = -4 V_4, \quad
    C_5 = 0.

The OPLS Fourier form is zero at trans; a Ryckaert-Bellemans form is zero
there only if :math:`\sum_n C_n = 0`. The inverse conversion therefore
returns that trans energy as an explicit constant ``offset``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from bayesff.potentials._spec import ParamSpec, TorsionPotential, register
from bayesff.priors import PriorSpec, Support

__all__ = [
    "FOURIER",
    "RYCKAERT_BELLEMANS",
    "FourierCoefficients",
    "RyckaertBellemansCoefficients",
    "fourier",
    "fourier_to_ryckaert_bellemans",
    "ryckaert_bellemans",
    "ryckaert_bellemans_to_fourier",
]


def fourier(phi, V1, V2, V3, V4):
    r"""OPLS Fourier torsion potential.

    .. math::

        u(\phi) = \tfrac{V_1}{2}(1 + \cos\phi) + \tfrac{V_2}{2}(1 - \cos 2\phi)
                + \tfrac{V_3}{2}(1 + \cos 3\phi) + \tfrac{V_4}{2}(1 - \cos 4\phi)

    Zero at trans (phi = pi); even and 2 pi-periodic in phi.

    Parameters
    ----------
    phi
        Dihedral angle, rad (IUPAC: cis = 0, trans = pi).
    V1, V2, V3, V4
        Fourier coefficients, kJ/mol.

    Returns
    -------
    u
        Torsion energy, kJ/mol.

    References
    ----------
    W. L. Jorgensen, D. S. Maxwell and J. Tirado-Rives, J. Am. Chem. Soc. 118,
    11225 (1996), doi:10.1021/ja9621760.
    """
    return 0.5 * (
        V1 * (1.0 + jnp.cos(phi))
        + V2 * (1.0 - jnp.cos(2.0 * phi))
        + V3 * (1.0 + jnp.cos(3.0 * phi))
        + V4 * (1.0 - jnp.cos(4.0 * phi))
    )


def ryckaert_bellemans(phi, C0, C1, C2, C3, C4, C5):
    r"""Ryckaert-Bellemans torsion potential.

    .. math::

        u(\phi) = \sum_{n=0}^{5} C_n \cos^n \psi, \qquad \psi = \phi - \pi

    Parameters
    ----------
    phi
        Dihedral angle, rad (IUPAC: cis = 0, trans = pi); the polymer angle
        psi = phi - pi is zero at trans.
    C0, C1, C2, C3, C4, C5
        Coefficients, kJ/mol.

    Returns
    -------
    u
        Torsion energy, kJ/mol (equal to sum C_n at trans).

    References
    ----------
    J.-P. Ryckaert and A. Bellemans, Chem. Phys. Lett. 30, 123 (1975),
    doi:10.1016/0009-2614(75)85513-8.
    """
    x = -jnp.cos(phi)  # cos(phi - pi)
    # Horner's scheme
    return C0 + x * (C1 + x * (C2 + x * (C3 + x * (C4 + x * C5))))


class RyckaertBellemansCoefficients(NamedTuple):
    """Ryckaert-Bellemans coefficients C0..C5, kJ/mol."""

    C0: jax.Array
    C1: jax.Array
    C2: jax.Array
    C3: jax.Array
    C4: jax.Array
    C5: jax.Array


class FourierCoefficients(NamedTuple):
    """OPLS Fourier coefficients V1..V4 and a constant ``offset``, all kJ/mol.

    The Ryckaert-Bellemans form equals ``fourier(phi, V1, V2, V3, V4) + offset``.
    """

    V1: jax.Array
    V2: jax.Array
    V3: jax.Array
    V4: jax.Array
    offset: jax.Array


def fourier_to_ryckaert_bellemans(V1, V2, V3, V4) -> RyckaertBellemansCoefficients:
    r"""Ryckaert-Bellemans coefficients of an OPLS Fourier torsion.

    ``ryckaert_bellemans(phi, *fourier_to_ryckaert_bellemans(V1, V2, V3, V4))``
    equals ``fourier(phi, V1, V2, V3, V4)`` for every phi (module docstring
    for the derivation).

    Parameters
    ----------
    V1, V2, V3, V4
        Fourier coefficients, kJ/mol (floats or arrays).

    Returns
    -------
    RyckaertBellemansCoefficients
        ``(C0, C1, C2, C3, C4, C5)`` in kJ/mol; C5 = 0 and sum C_n = 0.
    """
    V1, V2, V3, V4 = (jnp.asarray(v) for v in (V1, V2, V3, V4))
    return RyckaertBellemansCoefficients(
        C0=V2 + 0.5 * (V1 + V3),
        C1=0.5 * (3.0 * V3 - V1),
        C2=4.0 * V4 - V2,
        C3=-2.0 * V3,
        C4=-4.0 * V4,
        C5=jnp.zeros_like(V1 + V2 + V3 + V4),
    )


def ryckaert_bellemans_to_fourier(C0, C1, C2, C3, C4, C5=0.0) -> FourierCoefficients:
    r"""OPLS Fourier coefficients of a Ryckaert-Bellemans torsion, with its offset.

    A Fourier-OPLS series has no constant term (it is zero at trans) and no
    :math:`\cos^5` term, so only RB forms with C5 = 0 convert, and the RB
    constant that OPLS lacks is returned as ``offset`` = u_RB(trans) =
    :math:`\sum_n C_n`:

    .. math::

        V_1 = -2 C_1 - \tfrac32 C_3, \quad V_2 = -C_2 - C_4, \quad
        V_3 = -\tfrac12 C_3, \quad V_4 = -\tfrac14 C_4, \quad
        \text{offset} = C_0 + C_1 + C_2 + C_3 + C_4.

    Parameters
    ----------
    C0, C1, C2, C3, C4, C5
        Ryckaert-Bellemans coefficients, kJ/mol. C5 must be zero.

    Returns
    -------
    FourierCoefficients
        ``(V1, V2, V3, V4, offset)`` in kJ/mol, such that
        ``ryckaert_bellemans(phi, C0, ..., C5) == fourier(phi, V1, ..., V4) + offset``.

    Raises
    ------
    ValueError
        If C5 is a concrete non-zero value (a cos^5 term has no Fourier-OPLS
        equivalent). Under ``jit``/``vmap`` C5 cannot be inspected; the
        results are then NaN wherever C5 != 0 (a failure as a value).
    """
    c5 = jnp.asarray(C5)
    if not isinstance(c5, jax.core.Tracer) and bool(jnp.any(c5 != 0)):
        raise ValueError(
            f"ryckaert_bellemans_to_fourier needs C5 == 0 (a cos^5 psi term has no "
            f"Fourier-OPLS equivalent up to V4); got C5 = {C5!r}"
        )
    C0, C1, C2, C3, C4 = (jnp.asarray(c) for c in (C0, C1, C2, C3, C4))
    bad = c5 != 0

    def ok(v):
        return jnp.where(bad, jnp.nan, v)

    return FourierCoefficients(
        V1=ok(-2.0 * C1 - 1.5 * C3),
        V2=ok(-C2 - C4),
        V3=ok(-0.5 * C3),
        V4=ok(-0.25 * C4),
        offset=ok(C0 + C1 + C2 + C3 + C4),
    )


def _fourier_param(name: str, description: str) -> ParamSpec:
    return ParamSpec(
        name=name,
        dimension="energy",
        support=Support("real"),
        default_prior=PriorSpec("Normal", {"loc": 0.0, "scale": 10.0}),
        prior_unit="kJ/mol",
        description=description,
    )


FOURIER = register(
    TorsionPotential(
        name="fourier",
        energy=fourier,
        params=tuple(
            _fourier_param(f"V{k}", f"coefficient of the {k}-fold term") for k in (1, 2, 3, 4)
        ),
        description="sum_k V_k/2 [1 -(-1)^k cos(k phi)], k = 1..4 (OPLS; trans = pi, u = 0)",
        reference="W. L. Jorgensen, D. S. Maxwell and J. Tirado-Rives, J. Am. Chem. Soc. 118, "
        "11225 (1996), doi:10.1021/ja9621760",
    )
)

RYCKAERT_BELLEMANS = register(
    TorsionPotential(
        name="ryckaert_bellemans",
        energy=ryckaert_bellemans,
        params=tuple(
            _fourier_param(f"C{k}", f"coefficient of cos^{k}(phi - pi)") for k in range(6)
        ),
        description="sum_n C_n cos^n(phi - pi), n = 0..5 (polymer angle; trans = pi)",
        reference="J.-P. Ryckaert and A. Bellemans, Chem. Phys. Lett. 30, 123 (1975), "
        "doi:10.1016/0009-2614(75)85513-8",
    )
)
