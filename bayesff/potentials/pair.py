"""Pair potentials u(r): Lennard-Jones 12-6, Mie n-m and square well.

Each is a pure JAX function ``energy(r, **params)`` with r in angstrom and u
in kJ/mol, written for a scalar r and elementwise over broadcastable arrays.
Cut-offs and shifts are wrappers (:mod:`bayesff.potentials.cutoff`), not
branches here.
"""

from __future__ import annotations

import jax.numpy as jnp

from bayesff.potentials._spec import (
    DerivedParam,
    PairPotential,
    ParamSpec,
    energy_in_K,
    register,
)
from bayesff.priors import PriorSpec, Support

__all__ = [
    "LENNARD_JONES",
    "MIE",
    "MIE_CRITICAL",
    "MIE_VDW",
    "SQUARE_WELL",
    "epsilon_from_vdw",
    "lennard_jones",
    "mie",
    "mie_critical",
    "mie_critical_point",
    "mie_vdw",
    "square_well",
    "vdw_alpha",
]


def lennard_jones(r, epsilon, sigma):
    r"""Lennard-Jones 12-6 pair potential.

    .. math::

        u(r) = 4 \varepsilon \left[ \left(\frac{\sigma}{r}\right)^{12}
               - \left(\frac{\sigma}{r}\right)^{6} \right]

    The minimum is at :math:`r = 2^{1/6} \sigma` with depth :math:`-\varepsilon`.
    Smooth for r > 0.

    Parameters
    ----------
    r
        Pair distance, angstrom.
    epsilon
        Well depth, kJ/mol.
    sigma
        Distance at which u = 0, angstrom.

    Returns
    -------
    u
        Pair energy, kJ/mol.

    References
    ----------
    J. E. Jones, Proc. R. Soc. Lond. A 106, 463 (1924), doi:10.1098/rspa.1924.0082.
    """
    s6 = (sigma / r) ** 6
    return 4.0 * epsilon * (s6 * s6 - s6)


def mie(r, epsilon, sigma, n, m):
    r"""Mie n-m pair potential (generalised Lennard-Jones).

    .. math::

        u(r) = C \varepsilon \left[ \left(\frac{\sigma}{r}\right)^{n}
               - \left(\frac{\sigma}{r}\right)^{m} \right],
        \qquad C = \frac{n}{n-m} \left(\frac{n}{m}\right)^{m/(n-m)}

    The prefactor C makes the well depth :math:`\varepsilon` at
    :math:`r_{min} = \sigma (n/m)^{1/(n-m)}`; n = 12, m = 6 gives
    Lennard-Jones (C = 4).

    Parameters
    ----------
    r
        Pair distance, angstrom.
    epsilon
        Well depth, kJ/mol.
    sigma
        Distance at which u = 0, angstrom.
    n, m
        Repulsive and attractive exponents, dimensionless, n > m > 3: a finite
        second virial coefficient, a finite tail correction and a fluid with a
        thermodynamic limit all need the attraction to decay faster than r^-3. The
        registered supports (n in [6.5, 50], m in [4, 6]) keep every allowed pair
        there.

    Returns
    -------
    u
        Pair energy, kJ/mol; NaN where n <= m (C is undefined at n = m and the curve
        has no well below it) or m <= 3 (before 2026-11-30 m > 0: B2 at m = 3 came out
        as a finite -2356 cm^3/mol where the integral diverges), as bayesff's forward
        models mark a state outside their domain.

    References
    ----------
    G. Mie, Ann. Phys. 316, 657 (1903), doi:10.1002/andp.19033160802.
    """
    n, m = jnp.asarray(n), jnp.asarray(m)
    ok = (n > m) & (m > 3.0)
    # safe stand-ins where the pair is refused, so that C and its gradient stay finite
    # in the branch jnp.where discards (its tangent is multiplied by 0, not NaN)
    n_ok, m_ok = jnp.where(ok, n, 12.0), jnp.where(ok, m, 6.0)
    c = n_ok / (n_ok - m_ok) * (n_ok / m_ok) ** (m_ok / (n_ok - m_ok))
    x = sigma / r
    return jnp.where(ok, c * epsilon * (x**n_ok - x**m_ok), jnp.nan)


def vdw_alpha(n, m):
    r"""The dimensionless van der Waals attraction of the Mie n-m potential.

    .. math::

        \alpha(n, m) = -\frac{1}{\varepsilon \sigma^3} \int_\sigma^\infty u(r) r^2 dr
                     = C \left[\frac{1}{m - 3} - \frac{1}{n - 3}\right],

    with C the Mie prefactor (:func:`bayesff.potentials.mie`); the van der Waals
    constant of the fluid is :math:`a = 2 \pi \varepsilon \sigma^3 \alpha`.
    Lennard-Jones (12, 6): alpha = 8/9.

    Parameters
    ----------
    n, m
        Repulsive and attractive exponents, dimensionless, n > m > 3.

    Returns
    -------
    alpha
        Dimensionless.

    References
    ----------
    N. S. Ramrattan, C. Avendano, E. A. Muller and A. Galindo, Mol. Phys. 113, 932
    (2015), eq. 6.
    """
    c = n / (n - m) * (n / m) ** (m / (n - m))
    return c * (1.0 / (m - 3.0) - 1.0 / (n - 3.0))


def epsilon_from_vdw(epsilon_vdw, n, m):
    """The Mie well depth of a van der Waals energy: epsilon_vdw / alpha(n, m).

    Parameters
    ----------
    epsilon_vdw
        Segment van der Waals energy alpha(n, m) epsilon, in any energy unit.
    n, m
        Repulsive and attractive exponents, dimensionless.

    Returns
    -------
    epsilon
        Well depth, in the unit of ``epsilon_vdw``.
    """
    return epsilon_vdw / vdw_alpha(n, m)


def mie_vdw(r, epsilon_vdw, sigma, n, m):
    """Mie n-m pair potential from its van der Waals energy: :func:`mie` at epsilon =
    epsilon_vdw / alpha(n, m) (:func:`vdw_alpha`).

    VLE and B2 data fix the integrated attraction alpha epsilon more tightly than
    epsilon and n apart (B2 = b - a / k T + ..., a = 2 pi epsilon sigma^3 alpha), so a
    sampler in (epsilon_vdw, sigma, n) sees nearly independent coordinates where one in
    (epsilon, sigma, n) sees a curved ridge.

    Parameters
    ----------
    r
        Pair distance, angstrom.
    epsilon_vdw
        Van der Waals energy alpha(n, m) epsilon, kJ/mol.
    sigma
        Distance at which u = 0, angstrom.
    n, m
        Repulsive and attractive exponents, dimensionless, n > m > 3.

    Returns
    -------
    u
        Pair energy, kJ/mol.
    """
    return mie(r, epsilon_from_vdw(epsilon_vdw, n, m), sigma, n, m)


#: The well depth of a potential sampled in its van der Waals energy (``mie_vdw``,
#: ``mie_chain_vdw``).
EPSILON_FROM_VDW = DerivedParam(
    "epsilon",
    "epsilon_vdw",
    ("epsilon_vdw", "n", "m"),
    epsilon_from_vdw,
    "well depth epsilon_vdw / alpha(n, m)",
)


#: ln T*c and ln rho*c of the Mie n-6 fluid (SAFT-VR Mie, one segment: the EOS of the VLE
#: observables) as quintics in x = 12 / n (coefficients of x^0 ... x^5): a least-squares fit
#: by ``scripts/fit_mie_critical_coordinate.py`` to the critical points that
#: :func:`bayesff.observables.eos.thermo.critical_point` solves at 175 n in [6.5, 50];
#: within 0.09 % in T*c (0.082 % at n = 6.5) and 0.6 % in rho*c there (rho*c has a kink
#: near n = 15, the model's gamma_c switch, that a quintic smooths). bayesff's fit, not
#: published. They only define a coordinate: any smooth function of n would be a valid
#: one; the closer they follow the fluid's critical point, the straighter the posterior's
#: ridge.
MIE_CRITICAL_LN_T_STAR = (-0.44933, 1.08497, -0.77471, 0.61963, -0.25334, 0.04427)
MIE_CRITICAL_LN_RHO_STAR = (-0.38393, -3.2682, 5.49731, -4.67741, 1.94006, -0.31022)


def _quintic(c, x):
    return c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * (c[4] + x * c[5]))))


def mie_critical_point(n):
    """Approximate reduced critical point (T*c, rho*c) of the Mie n-6 fluid.

    T*c = k_B Tc / epsilon and rho*c = N sigma^3 / V of SAFT-VR Mie's monomer (Lafitte et
    al. 2013) from :data:`MIE_CRITICAL_LN_T_STAR` and :data:`MIE_CRITICAL_LN_RHO_STAR`
    (a fit over 6.5 <= n <= 50).

    Parameters
    ----------
    n
        Repulsive exponent, dimensionless (array-like).

    Returns
    -------
    tuple
        (T*c, rho*c), dimensionless, the shape of ``n``.
    """
    x = 12.0 / jnp.asarray(n)
    return jnp.exp(_quintic(MIE_CRITICAL_LN_T_STAR, x)), jnp.exp(
        _quintic(MIE_CRITICAL_LN_RHO_STAR, x)
    )


def epsilon_from_mie_critical(epsilon_c, n):
    """Mie n-6 well depth epsilon = epsilon_c / T*c(n), in the unit of ``epsilon_c``."""
    return epsilon_c / mie_critical_point(n)[0]


def sigma_from_mie_critical(l_c, n):
    """Mie n-6 sigma = l_c rho*c(n)^(1/3), in the unit of ``l_c``."""
    return l_c * jnp.cbrt(mie_critical_point(n)[1])


def mie_critical(r, epsilon_c, l_c, n):
    """Mie n-6 pair potential in critical-point coordinates: :func:`mie` at epsilon =
    epsilon_c / T*c(n), sigma = l_c rho*c(n)^(1/3) and m = 6 (:func:`mie_critical_point`).

    Saturation data fix the model fluid's critical temperature and volume, epsilon T*c(n)
    and sigma^3 / rho*c(n), and leave n loose; sampled in (epsilon, sigma, n) the
    posterior is a ridge that bends with n (through the logit of n's bounded prior), which
    this form straightens (docs/atlas.md).

    Parameters
    ----------
    r
        Pair distance, angstrom.
    epsilon_c
        k_B Tc of the Mie n-6 fluid of this n, epsilon T*c(n), kJ/mol.
    l_c
        Cube root of its critical volume per molecule, sigma / rho*c(n)^(1/3), angstrom.
    n
        Repulsive exponent, dimensionless, n > 6.

    Returns
    -------
    u
        Pair energy, kJ/mol.
    """
    epsilon = epsilon_from_mie_critical(epsilon_c, n)
    return mie(r, epsilon, sigma_from_mie_critical(l_c, n), n, 6.0)


#: The usual Mie form's parameters of ``mie_critical``.
EPSILON_FROM_MIE_CRITICAL = DerivedParam(
    "epsilon",
    "epsilon_c",
    ("epsilon_c", "n"),
    epsilon_from_mie_critical,
    "well depth epsilon_c / T*c(n)",
)
SIGMA_FROM_MIE_CRITICAL = DerivedParam(
    "sigma", "l_c", ("l_c", "n"), sigma_from_mie_critical, "sigma = l_c rho*c(n)^(1/3)"
)


def square_well(r, epsilon, sigma, lam):
    r"""Square-well pair potential: a hard core with a flat attractive well.

    .. math::

        u(r) = \begin{cases}
            +\infty & r < \sigma \\
            -\varepsilon & \sigma \le r < \lambda \sigma \\
            0 & r \ge \lambda \sigma
        \end{cases}

    **Not differentiable** at r = sigma and r = lam * sigma (u jumps there),
    so gradients of u with respect to r or to sigma and lam do not exist
    pointwise. Gradients of integrated observables are still exact: the
    spec's ``breakpoints`` returns ``(sigma, lam * sigma)``, quadrature panels
    end there, and within each panel the Boltzmann factor exp(-u/kT) is
    constant (0, exp(eps/kT) or 1), so Gauss quadrature integrates it exactly
    and B2 and its gradient (through the panel ends) equal the closed form.
    Liquid-state work (integral equations, MD) needs a continuous variant,
    which is not provided yet. exp(-u/kT) = 0 in the core without NaN in its
    gradient, because the core branch does not depend on the parameters.

    Parameters
    ----------
    r
        Pair distance, angstrom.
    epsilon
        Well depth, kJ/mol.
    sigma
        Hard-core diameter, angstrom.
    lam
        Well width in units of sigma, dimensionless, lam > 1.

    Returns
    -------
    u
        Pair energy, kJ/mol (``inf`` inside the core).

    References
    ----------
    J. A. Barker and D. Henderson, Rev. Mod. Phys. 48, 587 (1976),
    doi:10.1103/RevModPhys.48.587 (square well as a reference fluid).
    """
    well = jnp.where(r < lam * sigma, -epsilon, jnp.zeros_like(epsilon))
    return jnp.where(r < sigma, jnp.inf, well)


def epsilon_vdw_spec(median_K: float, what: str) -> ParamSpec:
    """The ``epsilon_vdw`` parameter of a potential sampled in its van der Waals energy
    (``mie_vdw``, ``mie_chain_vdw``), its default prior LogNormal(median_K, 1.0) in K."""
    return energy_in_K(
        "epsilon_vdw",
        median_K,
        f"{what} alpha(n, m) epsilon (prior quoted as /k_B); epsilon = epsilon_vdw / alpha(n, m)",
    )


def _epsilon_spec() -> ParamSpec:
    return energy_in_K("epsilon", 100.0, "well depth (prior quoted as epsilon/k_B)")


def _sigma_spec(description: str) -> ParamSpec:
    return ParamSpec(
        name="sigma",
        dimension="length",
        support=Support("positive"),
        default_prior=PriorSpec("LogNormal", {"median": 3.5, "scale": 0.3}),
        prior_unit="angstrom",
        description=description,
    )


LENNARD_JONES = register(
    PairPotential(
        name="lennard_jones",
        energy=lennard_jones,
        params=(_epsilon_spec(), _sigma_spec("distance where u = 0")),
        length_scale=lambda sigma, **kw: sigma,
        breakpoints=lambda **kw: (),
        description="4 eps [(sigma/r)^12 - (sigma/r)^6]",
        reference="J. E. Jones, Proc. R. Soc. Lond. A 106, 463 (1924), doi:10.1098/rspa.1924.0082",
    )
)

MIE = register(
    PairPotential(
        name="mie",
        energy=mie,
        params=(
            _epsilon_spec(),
            _sigma_spec("distance where u = 0"),
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
                support=Support("interval", 4.0, 6.0),
                default_prior=PriorSpec("Uniform", {"low": 5.0, "high": 6.0}),
                prior_unit="1",
                description="attractive exponent (> 3 for a finite B2)",
            ),
        ),
        length_scale=lambda sigma, **kw: sigma,
        breakpoints=lambda **kw: (),
        description="C eps [(sigma/r)^n - (sigma/r)^m], C = n/(n-m) (n/m)^(m/(n-m))",
        reference="G. Mie, Ann. Phys. 316, 657 (1903), doi:10.1002/andp.19033160802",
    )
)

MIE_VDW = register(
    PairPotential(
        name="mie_vdw",
        energy=mie_vdw,
        params=(
            # alpha(12, 6) = 8/9 times the epsilon prior median of the other pair potentials
            epsilon_vdw_spec(90.0, "van der Waals energy"),
            *MIE.params[1:],
        ),
        length_scale=lambda sigma, **kw: sigma,
        breakpoints=lambda **kw: (),
        description="mie parameterised by its van der Waals energy alpha(n, m) eps "
        "(alpha = C [1/(m-3) - 1/(n-3)]) in place of eps",
        derived=(EPSILON_FROM_VDW,),
        reference="N. S. Ramrattan et al., Mol. Phys. 113, 932 (2015), "
        "doi:10.1080/00268976.2015.1025112; G. Mie, Ann. Phys. 316, 657 (1903)",
    )
)

MIE_CRITICAL = register(
    PairPotential(
        name="mie_critical",
        energy=mie_critical,
        params=(
            energy_in_K(
                "epsilon_c",
                150.0,
                "k_B Tc of the Mie n-6 fluid with this n (epsilon T*c(n); prior quoted in K)",
            ),
            ParamSpec(
                name="l_c",
                dimension="length",
                support=Support("positive"),
                default_prior=PriorSpec("LogNormal", {"median": 5.0, "scale": 0.3}),
                prior_unit="angstrom",
                description="cube root of the Mie n-6 fluid's critical volume per molecule, "
                "sigma / rho*c(n)^(1/3)",
            ),
            MIE.params[2],
        ),
        length_scale=lambda l_c, n, **kw: sigma_from_mie_critical(l_c, n),
        breakpoints=lambda **kw: (),
        description="mie (m = 6) sampled in epsilon_c = epsilon T*c(n), "
        "l_c = sigma / rho*c(n)^(1/3) and n",
        derived=(EPSILON_FROM_MIE_CRITICAL, SIGMA_FROM_MIE_CRITICAL),
        reference="G. Mie, Ann. Phys. 316, 657 (1903); T*c, rho*c: SAFT-VR Mie, T. Lafitte "
        "et al., J. Chem. Phys. 139, 154504 (2013), doi:10.1063/1.4819786",
    )
)

SQUARE_WELL = register(
    PairPotential(
        name="square_well",
        energy=square_well,
        params=(
            _epsilon_spec(),
            _sigma_spec("hard-core diameter"),
            ParamSpec(
                name="lam",
                dimension="dimensionless",
                support=Support("interval", 1.0, 3.0),
                default_prior=PriorSpec("Uniform", {"low": 1.1, "high": 2.5}),
                prior_unit="1",
                description="well width in units of sigma",
            ),
        ),
        length_scale=lambda sigma, **kw: sigma,
        breakpoints=lambda epsilon, sigma, lam: (sigma, lam * sigma),
        hard_core=True,
        description="inf for r < sigma, -eps for sigma <= r < lam sigma, 0 beyond",
        reference="J. A. Barker and D. Henderson, Rev. Mod. Phys. 48, 587 (1976), "
        "doi:10.1103/RevModPhys.48.587",
    )
)
