r"""Equations of state of the two-centre Lennard-Jones fluid, without and with a point quadrupole.

The 2CLJ fluid: two LJ sites (epsilon, sigma) a distance L apart on each rigid
molecule (:func:`bayesff.potentials.molecular.two_centre_lj`); the 2CLJQ fluid
adds a point quadrupole Q on the axis at the centre
(:func:`~bayesff.potentials.molecular.two_centre_lj_quadrupole`). The residual
Helmholtz energy per molecule is that of teqp's ``"2CLJF"`` and
``"2CLJF-Quadrupole"`` models (same equations, coefficients and reduced
variables; verified to 1e-8 relative with its first and second derivatives):

.. math::

    \alpha^r = \alpha^{hd}(\eta, \alpha_L)
      + \sum_{i=1}^{34} c_i \tau^{m_i} \delta^{n_i} \alpha_L^{o_i} e^{p_i \delta^{q_i}}
      + \sum_{j=1}^{17} c^Q_j \tau^{n^Q_j/2} \delta^{m^Q_j/2} (Q^{*2})^{k^Q_j/4}
        e^{-o^Q_j \delta^2},

    \alpha^{hd} = (\alpha_L^2 - 1)\ln(1 - \eta)
      + \frac{(\alpha_L^2 + 3\alpha_L)\eta - 3\alpha_L\eta^2}{(1 - \eta)^2},
    \qquad \eta = \frac{\rho^*\,\hat\eta(L^*)}{a + (1 - a)\tau^{g}},

with tau = T*/T_red(L*) and delta = rho*/rho_red(L*). The first term is the hard
dumbbell of Mecke et al. (1997) with its non-sphericity alpha_L(L*) and packing
factor eta-hat(L*); the second the attractive
contribution fitted to 2CLJ simulation data by Mecke et al. (1997) or, revised,
by Lisal et al. (2004, the default); the third the quadrupolar contribution of
Saager and Fischer (1992) in the functional form teqp takes from Kriebel and
Winkelmann, evaluated at the same tau and delta. Coefficients:
``data/2clj_eos.json`` (sha256 checked on import; read from teqp's source by a
parser, which the tests against teqp confirm).

Reduced variables: T* = k_B T / epsilon and rho* = N sigma^3 / V with N the
number of *molecules* (teqp's ``rho_dimer_star``; a molecule has two sites),
L* = L / sigma, Q*^2 = Q^2 / (4 pi eps0 epsilon sigma^5), all with the site-site
LJ parameters; :func:`reduced_variables` maps bayesff's internal units onto
them exactly. teqp special-cases L* = 0 (exactly) as the LJ fluid at T*/4, a
discontinuity in L*; bayesff does not: at L* = 0 the two coinciding sites are
one LJ site of energy 4 epsilon, so bayesff's alpha^r(T*, rho*, 0) equals teqp's
at (T*/4, rho*), and it is continuous and differentiable in L* there.

Differentiability: alpha^r is smooth in T* > 0, 0 < rho* (eta < 1) and L* > 0;
at L* = 0 its first and second L*-derivatives are finite (powers L*^2.5,
L*^3.5). In Q*^2 it is differentiable once at Q*^2 = 0 (lowest power
(Q*^2)^(7/4)); the second Q*^2-derivative diverges there (finite for Q*^2 > 0).
Outside the physical domain (eta >= 1, negative arguments) the value is NaN.

Validity. Both ``Validity`` records give the range of the simulation study of
Stoll et al. (2001) (0 <= L* <= 0.8, 0 <= Q*^2 <= 4, 0.55 to 0.95 T*c), against
whose VLE data this module is tested; the ranges the EOS papers state could not
be read here. What the data show (Stoll et al., Table 1, at about 0.80 T*c;
tests/observables/eos/test_two_centre.py): for Q*^2 <= 1, and at L* = 0.505
for every Q*^2, the EOS's saturated liquid density is within 1.1 %, its vapour
density within 6 % and its vapour pressure within 5 % of the simulations. Away
from L* = 0.505 at large Q*^2 it is not: at Q*^2 = 4 the liquid density is 2.6
to 5.7 % low and the vapour pressure 13 to 39 % high (L* = 0, 0.2, 0.8). Stoll
et al. (2001, section 4) report the same and give the reason: the quadrupolar
term was fitted to simulations of a 2CLJQ fluid with L* = 0.505 only. For
quadrupolar fluids far from L* = 0.505 with Q*^2 > 1, prefer the correlations
of :mod:`~bayesff.observables.eos.two_centre_correlations`, which are fits to
those simulations. ``critical_estimate`` is the Stoll et al. critical-point
correlation; it is within 3 % of the EOS's own critical point over that range.

References
----------
M. Mecke, A. Mueller, J. Winkelmann and J. Fischer, An equation of state for
two-center Lennard-Jones fluids, Int. J. Thermophys. 18, 683-698 (1997),
doi:10.1007/BF02575128.

M. Lisal, K. Aim, M. Mecke and J. Fischer, Revised equation of state for
two-center Lennard-Jones fluids, Int. J. Thermophys. 25, 159-173 (2004),
doi:10.1023/B:IJOT.0000022332.12319.06.

B. Saager and J. Fischer, Fluid Phase Equilib. 72, 67-88 (1992),
doi:10.1016/0378-3812(92)85019-5 (the quadrupolar term).

J. Stoll, J. Vrabec, H. Hasse and J. Fischer, Comprehensive study of the
vapour-liquid equilibria of the pure two-centre Lennard-Jones plus
pointquadrupole fluid, Fluid Phase Equilib. 179, 339-362 (2001),
doi:10.1016/S0378-3812(00)00506-9 (simulation data and critical estimate).

I. H. Bell, U. K. Deiters and A. M. M. Leal, Implementing an equation of state
without derivatives: teqp, Ind. Eng. Chem. Res. 61, 6010-6027 (2022),
doi:10.1021/acs.iecr.2c00237 (the implementation reproduced, version 0.23.2).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from bayesff.observables.eos import two_centre_correlations as _corr
from bayesff.observables.eos._base import ReducedEOS, Validity, load_coefficients
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM, GAS_CONSTANT_KJ_PER_MOL_K

__all__ = [
    "AUTHORS",
    "TWO_CENTRE_LJ",
    "TWO_CENTRE_LJ_MECKE1997",
    "TWO_CENTRE_LJ_QUADRUPOLE",
    "TWO_CENTRE_LJ_QUADRUPOLE_MECKE1997",
    "alphar_2clj",
    "alphar_2cljq",
    "reduced_variables",
]

_SHA256 = "36add0c831d9ef3a01d4836f04a483345ac644351135128a0e1318b760b06d0d"
_DATA = load_coefficients("2clj_eos.json", _SHA256)
_HD = _DATA["hard_dumbbell"]
_Q = _DATA["quadrupole_saager1992"]

#: The attractive parts available: Mecke et al. (1997) and its revision, Lisal et al. (2004).
AUTHORS = ("lisal2004", "mecke1997")


def _f(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


_ALPHA, _ETA_RHO = _f(_HD["alpha"]), _f(_HD["eta_over_rho"])
_HD_A, _HD_G = float(_HD["a"]), float(_HD["g"])


def _attractive(author: str) -> dict:
    a = {k: _f(v) for k, v in _DATA[author]["attractive"].items()}
    # p_i delta^q_i with q_i in {0, 1, 2} (p_i = 0 where q_i = 0) as p1 delta + p2 delta^2
    if not set(a["q"][a["p"] != 0]) <= {1.0, 2.0}:
        raise RuntimeError(f"2clj_eos.json {author}: exponents q outside {{1, 2}}")
    a["p1"] = np.where(a["q"] == 1, a["p"], 0.0)
    a["p2"] = np.where(a["q"] == 2, a["p"], 0.0)
    a["rho_red"] = _f(_DATA[author]["rho_red"])
    a["T_red"] = _f(_DATA[author]["T_red"])
    return a


_ATT = {author: _attractive(author) for author in AUTHORS}
_QC, _QN, _QM, _QK, _QO = (_f(_Q[k]) for k in ("c", "n", "m", "k", "o"))


def _shape_functions(L_star, author):
    """(T_red, rho_red, alpha_L, eta_hat): the L*-dependent reducing functions."""
    L = L_star
    a, e = _ALPHA, _ETA_RHO
    alpha = a[0] + a[1] * L**2 + a[2] * L**3.5 + a[3] * L**4
    eta_hat = e[0] + e[1] * L**2 + e[2] * L**2.5 + e[3] * L**4
    r, t = _ATT[author]["rho_red"], _ATT[author]["T_red"]
    rho_red = (r[0] + r[1] * L) / (1.0 + r[2] * L + r[3] * L**2)
    T_red = jnp.sqrt((t[0] + t[1] * L) / (1.0 + t[2] * L + t[3] * L**2))
    return T_red, rho_red, alpha, eta_hat


def _alphar(T_star, rho_star, L_star, Q2_star, author):
    T_red, rho_red, alpha, eta_hat = _shape_functions(L_star, author)
    tau = T_star / T_red
    delta = rho_star / rho_red
    # hard dumbbell (Mecke et al. 1997)
    eta = rho_star * eta_hat / (_HD_A + (1.0 - _HD_A) * tau**_HD_G)
    hd = (alpha**2 - 1.0) * jnp.log1p(-eta) + (
        (alpha**2 + 3.0 * alpha) * eta - 3.0 * alpha * eta**2
    ) / (1.0 - eta) ** 2
    # attractive part: all 34 powers tau^m delta^n alpha^o and the
    # exponentials exp(p delta^q) (q = 1 or 2 where p != 0) as one exponential,
    # a single fused kernel (tau, delta, alpha > 0).
    c = _ATT[author]
    log_tau, log_delta = jnp.log(tau), jnp.log(delta)
    att = jnp.sum(
        c["c"]
        * jnp.exp(
            c["m"] * log_tau
            + c["n"] * log_delta
            + c["o"] * jnp.log(alpha)
            + c["p1"] * delta
            + c["p2"] * delta**2
        )
    )
    out = hd + att
    if Q2_star is not None:
        # quadrupolar part (Saager and Fischer 1992, as in teqp); (Q*^2)^(k/4) by
        # jnp.power: at Q*^2 = 0 its first derivative is the limit 0, its second
        # the true infinity (k = 7), never a NaN or a made-up zero
        quad = jnp.sum(
            _QC
            * jnp.exp(0.5 * _QN * log_tau + 0.5 * _QM * log_delta - _QO * delta**2)
            * jnp.power(Q2_star, 0.25 * _QK)
        )
        out = out + quad
    return out


def alphar_2clj(T_star, rho_star, L_star, *, author="lisal2004"):
    """Residual Helmholtz energy A_res / (N k_B T) per molecule of the 2CLJ fluid.

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon (scalar, > 0), epsilon the site-site LJ energy.
    rho_star
        Reduced density N sigma^3 / V with N molecules (scalar, > 0).
    L_star
        Reduced elongation L / sigma (scalar, >= 0).
    author
        ``"lisal2004"`` (default) or ``"mecke1997"``: whose attractive part.

    Returns
    -------
    jax.Array
        alpha^r (dimensionless scalar), differentiable to second order in every argument.
    """
    if author not in AUTHORS:
        raise ValueError(f"author: expected one of {AUTHORS}, found {author!r}")
    return _alphar(T_star, rho_star, L_star, None, author)


def alphar_2cljq(T_star, rho_star, L_star, Q2_star, *, author="lisal2004"):
    """Residual Helmholtz energy A_res / (N k_B T) per molecule of the 2CLJQ fluid.

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon (scalar, > 0).
    rho_star
        Reduced density N sigma^3 / V with N molecules (scalar, > 0).
    L_star
        Reduced elongation L / sigma (scalar, >= 0).
    Q2_star
        Squared reduced quadrupole Q^2 / (4 pi eps0 epsilon sigma^5) (scalar, >= 0).
    author
        ``"lisal2004"`` (default) or ``"mecke1997"``: whose 2CLJ attractive part.

    Returns
    -------
    jax.Array
        alpha^r (dimensionless scalar); differentiable to second order, except the
        second derivative in Q2_star at Q2_star = 0 (see the module docstring).
    """
    if author not in AUTHORS:
        raise ValueError(f"author: expected one of {AUTHORS}, found {author!r}")
    return _alphar(T_star, rho_star, L_star, Q2_star, author)


def reduced_variables(T, rho, epsilon, sigma, L, Q=0.0):
    r"""Map bayesff's internal units onto the reduced variables of the 2CLJ(Q) EOS.

    .. math::

        T^* = \frac{R T}{\varepsilon}, \quad \rho^* = \rho\sigma^3, \quad
        L^* = \frac{L}{\sigma}, \quad
        Q^{*2} = \frac{Q^2}{4\pi\varepsilon_0\,\varepsilon\,\sigma^5}

    (exact algebra, so gradients in the force-field parameters are exact).

    Parameters
    ----------
    T
        Temperature, K.
    rho
        Number density of molecules, 1/angstrom^3.
    epsilon
        Site-site LJ energy, kJ/mol (the ``epsilon`` of ``two_centre_lj``).
    sigma
        Site-site LJ diameter, angstrom.
    L
        Site-site distance (elongation), angstrom.
    Q
        Quadrupole moment (Buckingham's definition), e angstrom^2.

    Returns
    -------
    tuple
        (T*, rho*, L*, Q*^2). Pressures convert back as p = p* epsilon / sigma^3
        (kJ/mol/angstrom^3) and surface tensions as gamma = gamma* epsilon / sigma^2.
    """
    T_star = GAS_CONSTANT_KJ_PER_MOL_K * T / epsilon
    Q2_star = COULOMB_KJ_PER_MOL_ANGSTROM * Q * Q / (epsilon * sigma**5)
    return T_star, rho * sigma**3, L / sigma, Q2_star


#: Largest relative error of the Stoll et al. critical temperature (``critical_estimate``)
#: against the EOS's solved T*c: -2.9 % to +1.7 % on a grid of L* 0-0.8 x Q*^2 0-4 (17 x 17,
#: 2026-11-28; 2CLJ: -2.8 % to -0.9 %), rounded up.
CRITICAL_ESTIMATE_ERROR = 0.03
#: The same for Stoll et al.'s critical density: up to 3.0 % (L* 0, Q*^2 4) on a 5 x 5 grid
#: (2026-11-28); rounded up.
CRITICAL_DENSITY_ESTIMATE_ERROR = 0.04


def _critical_2clj(L_star):
    return _corr.critical_temperature(L_star, 0.0), _corr.critical_density(L_star, 0.0)


def _critical_2cljq(L_star, Q2_star):
    return _corr.critical_temperature(L_star, Q2_star), _corr.critical_density(L_star, Q2_star)


def _make(author: str, quadrupole: bool) -> ReducedEOS:
    ref = f"{_DATA[author]['reference']}, doi:{_DATA[author]['doi']}"
    validity = _corr.STOLL2001_VALIDITY
    if quadrupole:
        ref += f"; quadrupole: {_Q['reference']}, doi:{_Q['doi']}"

        def fn(T_star, rho_star, L_star, Q2_star):
            return _alphar(T_star, rho_star, L_star, Q2_star, author)

        return ReducedEOS(
            name=f"2cljq_{author}_saager1992",
            alphar=fn,
            shape=("L_star", "Q2_star"),
            critical_estimate=_critical_2cljq,
            validity=validity,
            reference=ref,
            critical_estimate_error=CRITICAL_ESTIMATE_ERROR,
            critical_density_estimate_error=CRITICAL_DENSITY_ESTIMATE_ERROR,
        )

    def fn(T_star, rho_star, L_star):
        return _alphar(T_star, rho_star, L_star, None, author)

    return ReducedEOS(
        name=f"2clj_{author}",
        alphar=fn,
        shape=("L_star",),
        critical_estimate=_critical_2clj,
        validity=Validity(
            T_star=validity.T_star,
            rho_star_max=validity.rho_star_max,
            shape={"L_star": validity.shape["L_star"]},
            T_over_Tc_min=validity.T_over_Tc_min,
        ),
        reference=ref,
        critical_estimate_error=CRITICAL_ESTIMATE_ERROR,
        critical_density_estimate_error=CRITICAL_DENSITY_ESTIMATE_ERROR,
    )


#: 2CLJ fluid, Lisal et al. (2004): shape ("L_star",). Critical estimate: Stoll et al. (2001).
TWO_CENTRE_LJ = _make("lisal2004", quadrupole=False)
#: 2CLJ fluid, Mecke et al. (1997): shape ("L_star",).
TWO_CENTRE_LJ_MECKE1997 = _make("mecke1997", quadrupole=False)
#: 2CLJQ fluid, Lisal et al. (2004) + Saager and Fischer (1992): shape ("L_star", "Q2_star").
TWO_CENTRE_LJ_QUADRUPOLE = _make("lisal2004", quadrupole=True)
#: 2CLJQ fluid, Mecke et al. (1997) + Saager and Fischer (1992): shape ("L_star", "Q2_star").
TWO_CENTRE_LJ_QUADRUPOLE_MECKE1997 = _make("mecke1997", quadrupole=True)
