r"""SAFT-VR Mie for pure chains of tangent Mie segments (no association), in JAX.

The residual Helmholtz energy of Lafitte et al. (2013) for a molecule of
``segments`` = m tangent spheres interacting through the Mie
(lambda_r, lambda_a) potential of depth epsilon and diameter sigma:

.. math::

    \alpha^r = \frac{A^{res}}{N k_B T}
             = m \left[a^{HS} + \frac{a_1}{k_B T} + \frac{a_2}{(k_B T)^2}
               + \frac{a_3}{(k_B T)^3}\right] - (m - 1) \ln g^{Mie}(\sigma),

with the Carnahan-Starling hard-sphere term at the Barker-Henderson diameter
d(T), the first three terms of the Barker-Henderson expansion of the monomer
(a_2 with the chi correction, a_3 empirical) and the chain term from the
radial distribution function of the monomer fluid at contact, g^Mie(sigma)
(g^HS_d, g_1 and g_2 with the gamma_c correction). Reduced units:
T* = k_B T / epsilon, rho* = N sigma^3 / V counting molecules (the segment
density is m rho*).

Equation numbers are those of the paper's appendix where teqp's source cites
them too (the paper itself was not at hand). The coefficient
tables (phi_{i,n} and the c_k of the effective packing fraction) are package
data, ``data/saft_vr_mie_lafitte2013.json``, checked by sha256 on load.

Written by hand, not wrapped: bayesff needs the model as a pure JAX function
(jit, vmap, gradients in every parameter, including lambda_r and segments),
which teqp, Clapeyron and feos, the well-kept implementations of the field,
do not provide. Verified against teqp's SAFT-VR Mie to 1e-10 relative in the
Helmholtz energy and its derivatives (``tests/observables/eos/test_saft_vr_mie.py``).

The Barker-Henderson diameter is computed as teqp computes it (a 10-point
Gauss-Legendre rule on [r_cut, sigma], where r_cut is the distance at which
exp(-u/kT) falls to the float64 machine epsilon), so that the two agree to
rounding; the rule's own error (measured against adaptive quadrature: 1e-9
relative in d at T* <= 1, 5e-8 at T* = 3, 8e-7 at T* = 10, for lambda_r 8-50)
is then the same in both.

References
----------
T. Lafitte, A. Apostolakou, C. Avendano, A. Galindo, C. S. Adjiman,
E. A. Muller and G. Jackson, J. Chem. Phys. 139, 154504 (2013),
doi:10.1063/1.4819786.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables.eos._base import ReducedEOS, Validity, load_coefficients

__all__ = [
    "SAFT_VR_MIE",
    "VALIDITY",
    "SaftVRMieTerms",
    "alphar",
    "alphar_terms",
    "barker_henderson_diameter",
    "critical_estimate",
    "mie_prefactor",
]

_COEFFICIENT_FILE = "saft_vr_mie_lafitte2013.json"
_COEFFICIENT_SHA256 = "277f2b996d2f8fe70f5fa79d3615858c94bd42a8fc664360d04381437523af9d"

REFERENCE = (
    "T. Lafitte, A. Apostolakou, C. Avendano, A. Galindo, C. S. Adjiman, E. A. Muller and "
    "G. Jackson, J. Chem. Phys. 139, 154504 (2013), doi:10.1063/1.4819786"
)

# Gauss-Legendre rule of the Barker-Henderson integral: 10 points, as teqp (see module
# docstring); numpy's nodes equal teqp's tabulated 16-digit ones to rounding.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(10)
# ln of the float64 machine epsilon: below r_cut, exp(-u/kT) < eps and the integrand
# 1 - exp(-u/kT) of the diameter is 1 to working precision.
_EPS = float(np.finfo(np.float64).eps)
_LOG_EPS = float(np.log(_EPS))
# Halley steps for r_cut from the repulsion-only start (converged to rounding in 2-3).
_HALLEY_STEPS = 4


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(phi[6, 7] of f_1..f_6, phi_7[5] of gamma_c, c[4, 4]) from the checked JSON."""
    data = load_coefficients(_COEFFICIENT_FILE, _COEFFICIENT_SHA256)
    phi = data["phi"]["values"]
    return (
        np.asarray(phi[:6], dtype=np.float64),
        np.asarray(phi[6], dtype=np.float64),
        np.asarray(data["c"]["values"], dtype=np.float64),
    )


@functools.cache
def _critical_fit() -> dict[str, np.ndarray]:
    """Exponents and coefficients of bayesff's own critical-point correlation (not published)."""
    fit = load_coefficients(_COEFFICIENT_FILE, _COEFFICIENT_SHA256)["critical_estimate"]
    out = {k: np.asarray(fit[k], dtype=np.int64) for k in ("poly", "tanh")}
    out.update({k: np.asarray(fit[k], dtype=np.float64) for k in ("ln_Tc", "ln_m_rhoc")})
    return out


class SaftVRMieTerms(NamedTuple):
    """Contributions to alpha^r = A_res / (N k_B T), per molecule.

    ``hard_sphere + a1 + a2 + a3`` is the monomer term (each already
    multiplied by the number of segments and divided by the matching power
    of T*); ``chain`` is -(m - 1) ln g^Mie(sigma).
    """

    hard_sphere: jax.Array
    a1: jax.Array
    a2: jax.Array
    a3: jax.Array
    chain: jax.Array


def mie_prefactor(lambda_r, lambda_a):
    r"""Prefactor C of the Mie potential (Eq. A3).

    .. math::

        C = \frac{\lambda_r}{\lambda_r - \lambda_a}
            \left(\frac{\lambda_r}{\lambda_a}\right)^{\lambda_a / (\lambda_r - \lambda_a)}

    Parameters
    ----------
    lambda_r, lambda_a
        Repulsive and attractive exponents, dimensionless, lambda_r > lambda_a.

    Returns
    -------
    C
        Dimensionless (4 for 12-6).
    """
    return (
        lambda_r
        / (lambda_r - lambda_a)
        * (lambda_r / lambda_a) ** (lambda_a / (lambda_r - lambda_a))
    )


def barker_henderson_diameter(T_star, lambda_r, lambda_a):
    r"""Barker-Henderson diameter d/sigma of the Mie segment (Eq. A9).

    .. math::

        d = \int_0^\sigma \left[1 - e^{-u(r)/k_B T}\right] dr
          = r_{cut} + \int_{r_{cut}}^{\sigma} \left[1 - e^{-u(r)/k_B T}\right] dr

    where r_cut is where exp(-u/kT) equals the float64 machine epsilon and the
    second integral is a 10-point Gauss-Legendre rule, as in teqp. r_cut comes
    from Halley's method in ln(sigma/r), started at the repulsion-only root: four
    steps without derivatives and a fifth with them, whose first and second
    derivatives are those of the root (implicit function theorem).

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon.
    lambda_r, lambda_a
        Mie exponents, dimensionless.

    Returns
    -------
    d
        d / sigma, dimensionless; NaN where r_cut cannot be found inside sigma.
    """
    c = mie_prefactor(lambda_r, lambda_a)

    def halley_step(s, t, c, lr, la):
        # Halley's method on R(s) = -u/kT - ln(eps) in s = ln(sigma/r),
        # u/eps = C (e^(lr s) - e^(la s)).
        er, ea = jnp.exp(lr * s), jnp.exp(la * s)
        r0 = -c * (er - ea) / t - _LOG_EPS
        r1 = -c * (lr * er - la * ea) / t
        r2 = -c * (lr * lr * er - la * la * ea) / t
        den = 2.0 * r1 * r1 - r0 * r2
        ok = den > 0.0  # an ill-conditioned step is not taken (never met for Mie)
        return s - jnp.where(ok, 2.0 * r0 * r1 / jnp.where(ok, den, 1.0), 0.0)

    # The root is found without derivatives (from the repulsion-only root), then one
    # more Halley step with the parameters carries them: at a root, a step of a
    # third-order method has the implicit function's first and second derivatives.
    # This keeps the compiled derivatives small.
    frozen = [jax.lax.stop_gradient(x) for x in (T_star, c, lambda_r, lambda_a)]
    s = jnp.log(-_LOG_EPS * frozen[0] / frozen[1]) / frozen[2]
    for _ in range(_HALLEY_STEPS):
        s = halley_step(s, *frozen)
    s = halley_step(s, T_star, c, lambda_r, lambda_a)
    j = jnp.exp(s)
    r_cut = jnp.exp(-s)
    half = 0.5 * (1.0 - r_cut)
    r = half * _GL_NODES + 0.5 * (1.0 + r_cut)
    log_r = jnp.log(r)
    u = c * (jnp.exp(-lambda_r * log_r) - jnp.exp(-lambda_a * log_r))
    d = r_cut + half * jnp.sum(_GL_WEIGHTS * -jnp.expm1(-u / T_star))
    return jnp.where((j >= 1.0) & (d <= 1.0), d, jnp.nan)


def _powm1_over(k, log_x):
    """(x^k - 1) / k from ln x: expm1 for accuracy at small k ln x, and its limit ln x
    (1 + k ln x / 2) where k ln x is below 1e-8 (k = 0 at lambda = 3 or 4)."""
    kl = k * log_x
    small = jnp.abs(kl) < 1e-8
    return jnp.where(small, log_x * (1.0 + 0.5 * kl), jnp.expm1(kl) / jnp.where(small, 1.0, k))


def _a1_kernel_density_part(lam, zeta_x, log_x0, c_matrix):
    r"""The density-dependent part of x0^lam [a^S_1(lam) + B(lam)] / (2 pi rho_s d^3 eps).

    a^S_1 is the Sutherland term with the effective packing fraction (Eqs. A16, A18)
    and B its correction (Eqs. A12, A14, A15), with I and J written as the
    integrals ``I = int_1^x0 x^(2-lam) dx`` and ``J = int_1^x0 (x - 1) x^(2-lam) dx``.
    At zero density the kernel is -x0^3 / (lam - 3) (:func:`_a1_kernel_zero_density`);
    this returns the rest, written so that it is O(zeta_x) without cancellation:

    .. math::

        x_0^\lambda \left[\frac{\zeta_{eff}(-5/2 + 3\zeta_{eff} - \zeta_{eff}^2)}
        {(\lambda - 3)(1 - \zeta_{eff})^3}
        + \frac{\zeta_x [I (5/2 - 3\zeta_x + \zeta_x^2) - \tfrac{9}{2}(1 + \zeta_x) J]}
        {(1 - \zeta_x)^3}\right]

    (the g_1 and g_2 of the chain term are differences of such kernels whose
    zero-density parts cancel exactly; leaving them out keeps ln g^Mie accurate
    relative to its size at low density). ``lam`` may be a vector; ``log_x0`` is
    ln(sigma/d).
    """
    inv = 1.0 / lam
    ck = c_matrix @ jnp.stack([jnp.ones_like(inv), inv, inv * inv, inv * inv * inv])
    ze = zeta_x * (ck[0] + zeta_x * (ck[1] + zeta_x * (ck[2] + zeta_x * ck[3])))
    d_a1s = ze * (-2.5 + ze * (3.0 - ze)) / ((lam - 3.0) * (1.0 - ze) ** 3)
    big_i = _powm1_over(3.0 - lam, log_x0)
    big_j = _powm1_over(4.0 - lam, log_x0) - big_i
    z = zeta_x
    d_b = z * (big_i * (2.5 + z * (z - 3.0)) - 4.5 * (1.0 + z) * big_j) / (1.0 - z) ** 3
    return jnp.exp(lam * log_x0) * (d_a1s + d_b)


def _a1_kernel_zero_density(lam, log_x0):
    """x0^lam [a^S_1(lam) + B(lam)] / (2 pi rho_s d^3 eps) at zero density: -x0^3/(lam-3)."""
    return -jnp.exp(3.0 * log_x0) / (lam - 3.0)


def _f_k(alpha, phi):
    """f_1..f_6 of Eq. A26, rational functions of the van der Waals constant alpha."""
    powers = alpha ** jnp.arange(4.0)
    num = phi[:, :4] @ powers
    den = 1.0 + phi[:, 4:] @ powers[1:]
    return num / den


def alphar_terms(T_star, rho_star, segments, lambda_r, lambda_a) -> SaftVRMieTerms:
    """Contributions to the residual Helmholtz energy (see :class:`SaftVRMieTerms`).

    Parameters are those of :func:`alphar`.
    """
    phi, phi7, c_matrix = (jnp.asarray(t) for t in _tables())
    lr, la, m = lambda_r, lambda_a, segments
    c = mie_prefactor(lr, la)
    d = barker_henderson_diameter(T_star, lr, la)
    x0 = 1.0 / d  # sigma / d
    rho_s = m * rho_star  # segments per sigma^3
    zeta_x = jnp.pi / 6.0 * rho_s * d**3  # packing fraction (Eq. A13)
    zeta_bar = jnp.pi / 6.0 * rho_s  # with sigma in place of d (Eq. A23)
    beta = 1.0 / T_star  # epsilon / k_B T

    # The five exponents of a_1, a_2 and g_1, g_2: la, lr, 2 la, la + lr, 2 lr.
    lams = jnp.stack([la, lr, 2.0 * la, la + lr, 2.0 * lr])

    def k_hs(z):
        # Isothermal compressibility of hard spheres, Carnahan-Starling (Eq. A21).
        return (1.0 - z) ** 4 / (1.0 + 4.0 * z + 4.0 * z * z - 4.0 * z**3 + z**4)

    # The kernels of the five exponents (zero-density part kern0 plus the rest kernv) and
    # the zeta_x derivative of kernv at fixed T (fixed d): the chain term needs
    # rho_s d/d rho_s of a_1 and of a_2 / (1 + chi) (for g_1 and g_2), and
    # rho_s d/d rho_s = zeta_x d/d zeta_x at fixed T.
    log_x0 = -jnp.log(d)
    kern0 = _a1_kernel_zero_density(lams, log_x0)
    kernv, dkernv = jax.jvp(
        lambda z: _a1_kernel_density_part(lams, z, log_x0, c_matrix),
        (zeta_x,),
        (jnp.ones_like(zeta_x),),
    )
    khs, dkhs = jax.jvp(k_hs, (zeta_x,), (jnp.ones_like(zeta_x),))
    w1 = jnp.array([1.0, -1.0, 0.0, 0.0, 0.0])  # a_1: k(la) - k(lr)
    w2 = jnp.array([0.0, 0.0, 1.0, -2.0, 1.0])  # a_2: k(2la) - 2 k(la + lr) + k(2lr)
    wl = jnp.stack([la, lr, la, la + lr, lr]) * jnp.array([1.0, -1.0, 1.0, -1.0, 1.0])
    # a_1 / (2 pi rho_s d^3 eps) and a_2 / ((1 + chi) 2 pi rho_s d^3 eps^2), where
    # 2 pi rho_s d^3 = 12 zeta_x.
    a1_hat = c * (w1 @ (kern0 + kernv))
    s2_0, s2_v, ds2_v = w2 @ kern0, w2 @ kernv, w2 @ dkernv
    a2_hat = 0.5 * c * c * khs * (s2_0 + s2_v)

    alpha = c * (1.0 / (la - 3.0) - 1.0 / (lr - 3.0))  # a_vdW / (2 pi eps sigma^3)
    f = _f_k(alpha, phi)
    chi = f[0] * zeta_bar + f[1] * zeta_bar**5 + f[2] * zeta_bar**8  # correction of a_2

    a_hs = (4.0 * zeta_x - 3.0 * zeta_x**2) / (1.0 - zeta_x) ** 2  # Carnahan-Starling
    a1 = 12.0 * zeta_x * a1_hat  # a_1 / epsilon per segment
    a2 = 12.0 * zeta_x * (1.0 + chi) * a2_hat  # a_2 / epsilon^2 (Eq. A19)
    a3 = -f[3] * zeta_bar * jnp.exp(f[4] * zeta_bar + f[5] * zeta_bar**2)  # Eq. A25

    # Chain: g^Mie at contact, exp of a first-order expansion in beta about g^HS_d.
    z, z2, z3, z4 = zeta_x, zeta_x**2, zeta_x**3, zeta_x**4
    omz3 = (1.0 - z) ** 3
    k0 = -jnp.log1p(-z) + (42.0 * z - 39.0 * z2 + 9.0 * z3 - 2.0 * z4) / (6.0 * omz3)
    k1 = (z4 + 6.0 * z2 - 12.0 * z) / (2.0 * omz3)
    k2 = -3.0 * z2 / (8.0 * (1.0 - z) ** 2)
    k3 = (-z4 + 3.0 * z2 + 3.0 * z) / (6.0 * omz3)
    log_g_hs = k0 + k1 * x0 + k2 * x0**2 + k3 * x0**3  # Eqs. A29, A30
    # g_1 and g_2^MCA from the density parts of the kernels: the
    # zero-density parts cancel in g_1 exactly, and in g_2^MCA up to the term in
    # dK_HS/dzeta_x (sum_lam lam k0(lam) = 3/2 (w2 . k0) for these exponents).
    a1_hat_v, da1_hat_v = c * (w1 @ kernv), c * (w1 @ dkernv)
    g1 = 3.0 * (a1_hat_v + zeta_x * da1_hat_v) - c * (wl[:2] @ kernv[:2])
    g2_mca = 1.5 * c * c * (
        khs * s2_v + zeta_x * dkhs * (s2_0 + s2_v) + zeta_x * khs * ds2_v
    ) - c * c * khs * (wl[2:] @ kernv[2:])
    theta = jnp.expm1(beta)
    gamma_c = (
        phi7[0]
        * (1.0 - jnp.tanh(phi7[1] * (phi7[2] - alpha)))
        * zeta_bar
        * theta
        * jnp.exp(phi7[3] * zeta_bar + phi7[4] * zeta_bar**2)
    )  # Eq. A37
    g2 = (1.0 + gamma_c) * g2_mca
    log_g_mie = log_g_hs + (beta * g1 + beta * beta * g2) / jnp.exp(log_g_hs)

    # Outside the model (no such fluid or no such state): NaN, never a number.
    bad = (
        (zeta_x >= 1.0)
        | (rho_star < 0.0)
        | (m < 1.0)
        | (la <= 3.0)
        | (lr <= la)
        | jnp.logical_not(T_star > 0.0)
    )

    def guard(x):
        return jnp.where(bad, jnp.nan, x)

    return SaftVRMieTerms(
        hard_sphere=guard(m * a_hs),
        a1=guard(m * beta * a1),
        a2=guard(m * beta**2 * a2),
        a3=guard(m * beta**3 * a3),
        chain=guard(-(m - 1.0) * log_g_mie),
    )


def alphar(T_star, rho_star, segments, lambda_r, lambda_a):
    r"""Residual Helmholtz energy of a SAFT-VR Mie chain, A_res / (N k_B T).

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon.
    rho_star
        Reduced density N sigma^3 / V, molecules (not segments).
    segments
        Number of tangent segments m >= 1, a real number (gradients in it exist).
    lambda_r, lambda_a
        Repulsive and attractive Mie exponents, 3 < lambda_a < lambda_r.

    Returns
    -------
    alphar
        Dimensionless, per molecule; NaN outside the model (packing fraction
        >= 1, negative density, m < 1, lambda_a <= 3, lambda_r <= lambda_a,
        T* <= 0).
    """
    t = alphar_terms(T_star, rho_star, segments, lambda_r, lambda_a)
    return t.hard_sphere + t.a1 + t.a2 + t.a3 + t.chain


def critical_estimate(segments, lambda_r, lambda_a):
    r"""Estimated critical point (T_c*, rho_c*) of the SAFT-VR Mie chain fluid.

    A start for the critical-point Newton, not a prediction: a correlation
    fitted by ``scripts/fit_saft_critical_estimate.py`` to teqp's critical
    points of this model (bayesff's numbers, not published),

    .. math::

        \ln T_c^* = P_T(u, v, w) + t\,Q_T(u, v), \qquad
        \ln (m \rho_c^*) = P_\rho(u, v, w) + t\,Q_\rho(u, v),

    with u = m^(-1/2), v = ln alpha, alpha = C (1/(lambda_a - 3) - 1/(lambda_r - 3)),
    w = lambda_a - 6, t = tanh(10 (0.57 - alpha)) (the switch of gamma_c, Eq. A37),
    P of total degree 4 and Q of degree 1. Fitted on segments 1-16, lambda_r
    8-50, lambda_a 5-7, where it is within 0.6 % in T_c* and 5.3 % in rho_c* of
    teqp's critical point (on the fit's grid and at 500 random points;
    ``tests/observables/eos/test_saft_vr_mie.py`` checks 10 %).

    Parameters
    ----------
    segments, lambda_r, lambda_a
        As for :func:`alphar`.

    Returns
    -------
    T_c_star, rho_c_star
        Reduced critical temperature k_B T_c / epsilon and density
        N sigma^3 / V (molecules).
    """
    fit = _critical_fit()
    c = mie_prefactor(lambda_r, lambda_a)
    alpha = c * (1.0 / (lambda_a - 3.0) - 1.0 / (lambda_r - 3.0))
    u, v, w = segments**-0.5, jnp.log(alpha), lambda_a - 6.0
    t = jnp.tanh(10.0 * (0.57 - alpha))
    p, q = fit["poly"], fit["tanh"]
    terms = jnp.concatenate(
        [u ** p[:, 0] * v ** p[:, 1] * w ** p[:, 2], t * u ** q[:, 0] * v ** q[:, 1]]
    )
    return jnp.exp(terms @ fit["ln_Tc"]), jnp.exp(terms @ fit["ln_m_rhoc"]) / segments


#: Where this implementation was verified against teqp 0.23.2 (Helmholtz energy and its
#: first and second derivatives to 1e-10 relative): segments 1-16, lambda_r 6.5-50,
#: lambda_a 5-7, T* 0.3-10, packing fraction up to 0.55 (rho* <= 1.05 for a monomer; a
#: chain's packing limit is lower, rho* ~ 1/segments, and alphar is NaN at packing
#: fraction 1). Lafitte et al. fitted the model's correlations to simulations of Mie
#: monomers and chains and applied it to real fluids with lambda_r 7.6-42.6 and lambda_a
#: 5.16-6 (their parameter table); as a mean-field-based theory it is accurate away from
#: the critical point and overestimates the critical temperature of the real fluid it was
#: fitted to (with their parameters: methane 195.3 K against 190.6 K, n-decane 626.4 K
#: against 617.7 K), so coexistence near T_c is the model's, not the fluid's.
VALIDITY = Validity(
    T_star=(0.3, 10.0),
    rho_star_max=1.05,
    shape={"segments": (1.0, 16.0), "lambda_r": (6.5, 50.0), "lambda_a": (5.0, 7.0)},
    coexisting_liquid_limit=True,
    sites_per_molecule="segments",  # 1.05 is the monomers' (segments') density
    # lambda_r within 0.6 of lambda_a: the EOS is NaN at low T* (no Barker-Henderson
    # diameter; lambda_a 7: gaps up to 0.6 at T* 0.3, 0.05 up to T* 2; lambda_a 6: up to
    # 0.55; teqp fails alike; 6.8 / 6 is finite in both). 0.75 leaves a margin (2026-11-30)
    shape_gaps=(("lambda_r", "lambda_a", 0.75),),
)

#: Largest relative error of :func:`critical_estimate`'s T*c against the solved critical
#: point (2026-11-28, 140 points of the validated box and the test's grid): 0.61 % over
#: the fit's lambda_r 8-50, up to 4.3 % at lambda_r 6.5-8 (outside the fit; lambda_a 5,
#: 4-16 segments); rounded up.
CRITICAL_ESTIMATE_ERROR = 0.007
CRITICAL_ESTIMATE_ERROR_OUTSIDE_FIT = 0.045
#: The same for its rho*c: up to 5.3 % (segments 8.5, lambda_r 17.4, lambda_a 6.5) on a
#: 5 x 5 x 5 grid of the validated box (2026-11-28); rounded up.
CRITICAL_DENSITY_ESTIMATE_ERROR = 0.06

SAFT_VR_MIE = ReducedEOS(
    name="saft_vr_mie_lafitte2013",
    alphar=alphar,
    shape=("segments", "lambda_r", "lambda_a"),
    critical_estimate=critical_estimate,
    validity=VALIDITY,
    reference=REFERENCE,
    critical_estimate_error=lambda segments, lambda_r, lambda_a: (
        CRITICAL_ESTIMATE_ERROR if lambda_r >= 8.0 else CRITICAL_ESTIMATE_ERROR_OUTSIDE_FIT
    ),
    critical_density_estimate_error=CRITICAL_DENSITY_ESTIMATE_ERROR,
)
