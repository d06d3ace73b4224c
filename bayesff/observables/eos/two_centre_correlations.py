r"""Closed-form correlations of the 2CLJQ fluid's vapour-liquid equilibrium from simulation.

Stoll, Vrabec, Hasse and Fischer (2001) simulated the vapour-liquid equilibrium
of 30 two-centre Lennard-Jones plus point quadrupole (2CLJQ) fluids (L* = 0,
0.2, 0.4, 0.505, 0.6, 0.8; Q*^2 = 0 to 4; 0.55 to 0.95 of each critical
temperature) and fitted global correlations of the critical temperature and
density, the saturated densities and the vapour pressure. Werth, Horsch and
Hasse (2015) simulated the vapour-liquid surface tension of the same 30 fluids
and correlated it. Madin et al. (2021) used both as the analytic forward model
of their Bayesian selection among UA, AUA and AUA+Q two-centre models. The
functions here are those correlations, pure JAX and differentiable in every
argument: a fast forward model of the same VLE that
:mod:`bayesff.observables.eos.two_centre` gives through a coexistence solve.

Variables (all reduced with the site-site LJ parameters epsilon, sigma, as in
both papers): T* = k_B T / epsilon, rho* = N sigma^3 / V (N molecules), p* = p
sigma^3 / epsilon, gamma* = gamma sigma^2 / epsilon, L* = L / sigma and Q*^2 =
Q^2 / (4 pi eps0 epsilon sigma^5). The correlations are polynomials in q = Q*^2
(Stoll et al., Table 3: "q is Q*2"), so their q^2 and q^3 are Q*^4 and Q*^6. At
L* = 0 the two sites coincide: T*, p* and Q*^2 are four times those of the
one-site LJ(Q) fluid, densities are the same.

.. math::

    T_c^* = \sum_i b_i x_i(L^*, q), \quad \rho_c^* = \sum_i b_i y_i(L^*, q),

    \rho'^* = \rho_c^* + C_1 t^{1/3} + C_2' t + C_3' t^{3/2}, \quad
    \rho''^* = \rho_c^* - C_1 t^{1/3} + C_2'' t + C_3'' t^{3/2}, \quad t = T_c^* - T^*,

    \ln p_\sigma^* = c_1 + c_2 / T^* + c_3 / T^{*4}, \qquad
    \gamma^* = A(L^*, q)\,(1 - T^*/T_c^*)^{B},

with the elementary functions and coefficients of Stoll et al. (Table 3, Eqs.
2 and 3) and Werth et al. (Table 3, Eqs. 8 and 9), stored in
``data/2cljq_vle_correlations.json`` (sha256 checked on import). At and above
the correlation's own T*c the saturated densities, the vapour pressure and the
surface tension are NaN, with finite (zero) gradients, so they can be used
inside jit.

What they reproduce (tests/observables/eos/test_two_centre_correlations.py):

- Stoll et al.'s own data: T*c and rho*c of their Table 2 to 0.8 % and 1.2 %;
  at about 0.80 T*c (Table 1) the liquid density to 0.5 %, the vapour pressure
  to 5.3 % and the vapour density to 18 %. The paper warns that the vapour
  density correlation is not to be used below 0.60 T*c (at 0.55 T*c it is off
  by up to 100 %), and the vapour pressures simulated there are uncertain.
- The LJ limit L* = Q*^2 = 0: T*c/4 = 1.3102 and rho*c = 0.3143 against
  1.3120(7) and 0.316(1) of Potoff and Panagiotopoulos (1998); against the LJ
  EOS of Thol et al. (2016) from 0.6 to 0.95 T*c, the liquid density to 0.2 %,
  the vapour pressure to 4 % and the vapour density to 9 %.
- Werth et al.'s surface tensions (their Table 2, 120 points): with b3 as
  printed in their Table 3 (+9.70532e-3, what Madin et al. use) the mean
  relative deviation is 5.7 % and up to 28 % at L* = 0.8, Q*^2 = 4, with 67 %
  of the points within their stated uncertainty; with b3 = -9.70532e-3 it is
  1.4 %, at most 10 %, and 97 % within uncertainty, which is what the paper says
  of its correlation (mean 1.9 %, "generally within the statistical
  uncertainties"). The printed sign looks like a misprint; ``variant`` selects
  either (default ``"printed"``, to reproduce Madin et al.).
- Madin et al.'s code: the values and parameter gradients printed in the tests
  of their repository (bayesiantesting), to the digits printed there.

References
----------
J. Stoll, J. Vrabec, H. Hasse and J. Fischer, Comprehensive study of the
vapour-liquid equilibria of the pure two-centre Lennard-Jones plus
pointquadrupole fluid, Fluid Phase Equilib. 179, 339-362 (2001),
doi:10.1016/S0378-3812(00)00506-9.

S. Werth, M. Horsch and H. Hasse, Surface tension of the two center
Lennard-Jones plus quadrupole model fluid, Fluid Phase Equilib. 392, 12-18
(2015), doi:10.1016/j.fluid.2015.02.003.

O. C. Madin, S. Boothroyd, R. A. Messerly, J. D. Chodera, J. Fass and M. R.
Shirts, Bayesian-inference-driven model parameterization and model selection for
2CLJQ fluid models, arXiv:2105.07863 (2021).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from bayesff.observables.eos._base import Validity, load_coefficients

__all__ = [
    "STOLL2001_VALIDITY",
    "SURFACE_TENSION_VARIANTS",
    "WERTH_VALIDITY",
    "critical_density",
    "critical_temperature",
    "saturated_liquid_density",
    "saturated_vapour_density",
    "surface_tension",
    "vapour_pressure",
]

_SHA256 = "4bc513706146019879e66ce53920a8495ef2025354515cbbcc6b54f8e470ac6d"
_DATA = load_coefficients("2cljq_vle_correlations.json", _SHA256)
_S = _DATA["stoll2001"]
_W = _DATA["werth_surface_tension"]


def _b(block: dict) -> np.ndarray:
    return np.asarray(block["b"], dtype=float)


_B_TC = _b(_S["critical_temperature"])
_B_RC = _b(_S["critical_density"])
_SAT = _S["saturated_density"]
_B_C1 = _b(_SAT["C1"])
_B_C2L, _B_C3L = _b(_SAT["C2_liquid"]), _b(_SAT["C3_liquid"])
_B_C2V, _B_C3V = _b(_SAT["C2_vapour"]), _b(_SAT["C3_vapour"])
_PS = _S["vapour_pressure"]
_B_P1, _B_P2, _B_P3 = _b(_PS["c1"]), _b(_PS["c2"]), _b(_PS["c3"])

#: Readings of Werth et al.'s Table 3 :func:`surface_tension` offers (see the module docstring).
SURFACE_TENSION_VARIANTS = ("printed", "b3_negative")


def _tc(L, q, xp=jnp):
    x = xp.stack(
        [
            xp.ones_like(L * q),
            q**2,
            q**3,
            1.0 / (0.1 + L**2),
            1.0 / (0.1 + L**5),
            q**2 / (0.1 + L**2),
            q**2 / (0.1 + L**5),
            q**3 / (0.1 + L**2),
            q**3 / (0.1 + L**5),
        ]
    )
    return xp.dot(_B_TC, x)


def _rc(L, q, xp=jnp):
    a, b = L**2 / (0.11 + L**2), L**5 / (0.11 + L**5)
    x = xp.stack([xp.ones_like(L * q), q**2, q**3, a, b, a * q**2, b * q**2, a * q**3, b * q**3])
    return xp.dot(_B_RC, x)


def _c1(L, q, xp=jnp):
    s = L + 0.4
    x = xp.stack(
        [
            xp.ones_like(L * q),
            q**2,
            q**3,
            L**3 / s**3,
            L**4 / s**5,
            q**2 * L**2 / s,
            q**2 * L**3 / s**7,
            q**3 * L**2 / s,
            q**3 * L**3 / s**7,
        ]
    )
    return xp.dot(_B_C1, x)


def _c2(L, q, b, xp=jnp):
    x = xp.stack(
        [xp.ones_like(L * q), q**2, q**3, L**2, L**3, q**2 * L**2, q**2 * L**3, q**3 * L**2]
    )
    return xp.dot(b, x)


def _c3(L, q, b, xp=jnp):
    x = xp.stack([xp.ones_like(L * q), q**2, q**3, L, L**4, q**2 * L, q**2 * L**4, q**3 * L**4])
    return xp.dot(b, x)


def _below_tc(T_star, tc, xp=jnp):
    """(mask T* < Tc*, t = Tc* - T* made safe) so NaN above Tc* has finite gradients."""
    ok = T_star < tc
    return ok, xp.where(ok, tc - T_star, 1.0)


def _rho(T_star, L, q, sign, xp=jnp):
    tc = _tc(L, q, xp)
    ok, t = _below_tc(T_star, tc, xp)
    if sign > 0:
        c2, c3 = _c2(L, q, _B_C2L, xp), _c3(L, q, _B_C3L, xp)
    else:
        c2, c3 = _c2(L, q, _B_C2V, xp), _c3(L, q, _B_C3V, xp)
    rho = _rc(L, q, xp) + sign * _c1(L, q, xp) * xp.cbrt(t) + c2 * t + c3 * t**1.5
    return xp.where(ok, rho, xp.nan)


def critical_temperature(L_star, Q2_star):
    """Critical temperature T*c = k_B Tc / epsilon of the 2CLJQ fluid (Stoll et al. 2001).

    Parameters
    ----------
    L_star
        Reduced elongation L / sigma (0 to 0.8 fitted).
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5) (0 to 4 fitted).

    Returns
    -------
    jax.Array
        T*c, dimensionless; broadcasts over its arguments.
    """
    return _tc(jnp.asarray(L_star, float), jnp.asarray(Q2_star, float))


def critical_density(L_star, Q2_star):
    """Critical density rho*c = N sigma^3 / V (molecules) of the 2CLJQ fluid (Stoll et al. 2001).

    Parameters
    ----------
    L_star
        Reduced elongation L / sigma.
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5).

    Returns
    -------
    jax.Array
        rho*c, dimensionless.
    """
    return _rc(jnp.asarray(L_star, float), jnp.asarray(Q2_star, float))


def saturated_liquid_density(T_star, L_star, Q2_star):
    r"""Saturated liquid density rho'* (molecules sigma^3 / V) of the 2CLJQ fluid.

    .. math:: \rho'^* = \rho_c^* + C_1 t^{1/3} + C_2' t + C_3' t^{3/2}, \quad t = T_c^* - T^*

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon.
    L_star
        Reduced elongation L / sigma.
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5).

    Returns
    -------
    jax.Array
        rho'*, NaN at and above T*c.
    """
    return _rho(
        jnp.asarray(T_star, float), jnp.asarray(L_star, float), jnp.asarray(Q2_star, float), +1
    )


def saturated_vapour_density(T_star, L_star, Q2_star):
    r"""Saturated vapour density rho''* (molecules sigma^3 / V) of the 2CLJQ fluid.

    .. math:: \rho''^* = \rho_c^* - C_1 t^{1/3} + C_2'' t + C_3'' t^{3/2}, \quad t = T_c^* - T^*

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon.
    L_star
        Reduced elongation L / sigma.
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5).

    Returns
    -------
    jax.Array
        rho''*, NaN at and above T*c. Its relative error is largest at low T*
        (a small difference of large terms; see the module docstring).
    """
    return _rho(
        jnp.asarray(T_star, float), jnp.asarray(L_star, float), jnp.asarray(Q2_star, float), -1
    )


def vapour_pressure(T_star, L_star, Q2_star):
    r"""Vapour pressure p*_sigma = p sigma^3 / epsilon of the 2CLJQ fluid.

    .. math:: \ln p_\sigma^* = c_1(L^*, q) + c_2(L^*, q)/T^* + c_3(L^*, q)/T^{*4}

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon.
    L_star
        Reduced elongation L / sigma.
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5).

    Returns
    -------
    jax.Array
        p*_sigma, NaN at and above the correlation's T*c.
    """
    T = jnp.asarray(T_star, float)
    L, q = jnp.asarray(L_star, float), jnp.asarray(Q2_star, float)
    ok, _ = _below_tc(T, _tc(L, q))
    T_safe = jnp.where(ok, T, 1.0)
    one = jnp.ones_like(L * q)
    a1, a2 = L**2 / (L**2 + 0.75), L**3 / (L**3 + 0.75)
    s2, s3 = L**2 / (L + 0.75) ** 2, L**3 / (L + 0.75) ** 3
    c1 = jnp.dot(
        _B_P1, jnp.stack([one, q**2, q**3, a1, a2, a1 * q**2, a2 * q**2, a1 * q**3, a2 * q**3])
    )
    c2 = jnp.dot(
        _B_P2, jnp.stack([one, q**2, q**3, s2, s3, s2 * q**2, s3 * q**2, s2 * q**3, s3 * q**3])
    )
    c3 = jnp.dot(_B_P3, jnp.stack([q**2, q**5, jnp.sqrt(L)]))
    return jnp.where(ok, jnp.exp(c1 + c2 / T_safe + c3 / T_safe**4), jnp.nan)


def surface_tension(T_star, L_star, Q2_star, *, variant="printed"):
    r"""Vapour-liquid surface tension gamma* = gamma sigma^2 / epsilon of the 2CLJQ fluid.

    .. math:: \gamma^* = A(L^*, q)\,(1 - T^*/T_c^*)^{B}

    (Werth et al. 2015, Eqs. 8 and 9) with T*c from :func:`critical_temperature`,
    as the paper and Madin et al. evaluate it.

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon.
    L_star
        Reduced elongation L / sigma.
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5).
    variant
        ``"printed"``: the coefficients of the paper's Table 3 as printed (what
        Madin et al. use); ``"b3_negative"``: the Q*^6 coefficient b3 with the
        opposite sign, which reproduces the paper's simulation data as the paper
        says its correlation does (see the module docstring).

    Returns
    -------
    jax.Array
        gamma*, NaN at and above T*c.

    Raises
    ------
    ValueError
        An unknown ``variant`` (checked before any tracing).
    """
    if variant not in SURFACE_TENSION_VARIANTS:
        raise ValueError(f"variant: expected one of {SURFACE_TENSION_VARIANTS}, found {variant!r}")
    T = jnp.asarray(T_star, float)
    L, q = jnp.asarray(L_star, float), jnp.asarray(Q2_star, float)
    tc = _tc(L, q)
    ok, t = _below_tc(T, tc)
    b, d, e = _W["b"], _W["d"], _W["e"]
    b3 = b[2] if variant == "printed" else -b[2]
    amp = (
        _W["a"]
        + b[0] * q
        + b[1] * q**2
        + b3 * q**3
        + _W["c"] / (L**2 + 0.1)
        + d[0] * q**2 * L**2
        + d[1] * q**2 * L**3
        + e[0] * q**2 / (L**2 + 0.1)
        + e[1] * q**2 / (L**5 + 0.1)
    )
    return jnp.where(ok, amp * (t / tc) ** _W["B"], jnp.nan)


def _validity(block: dict) -> Validity:
    """The fitted range as a :class:`Validity`, computed with numpy (no JAX work at import)."""
    v = block["validity"]
    lo, hi = v["T_over_Tc"]
    L, q = np.array(v["L_star"], float), np.array(v["Q2_star"], float)
    # T* bounds over the whole (L*, Q*^2) box: the lowest T/Tc at the lowest Tc*
    # (longest, non-polar), the highest at the highest Tc* (L* = 0, largest Q*^2);
    # the densest liquid is the LJ limit at the lowest T/Tc.
    tc_min, tc_max = float(_tc(L[1], q[0], np)), float(_tc(L[0], q[1], np))
    rho_max = float(_rho(lo * float(_tc(L[0], q[0], np)), L[0], q[0], +1, np))
    return Validity(
        T_star=(lo * tc_min, hi * tc_max),
        rho_star_max=rho_max,
        shape={"L_star": (float(L[0]), float(L[1])), "Q2_star": (float(q[0]), float(q[1]))},
        # simulated from lo = 0.55 Tc; 1.1 leaves room for an EOS's Tc to differ from the
        # simulations' (the correlations' own floor, vle.CORRELATION_T_R_MIN, is the same 0.5)
        T_over_Tc_min=lo / 1.1,
    )


#: Where the Stoll et al. (2001) correlations were fitted (their simulated range).
STOLL2001_VALIDITY = _validity(_S)
#: Where the Werth et al. surface-tension correlation was fitted (the simulated points).
WERTH_VALIDITY = _validity(_W)
