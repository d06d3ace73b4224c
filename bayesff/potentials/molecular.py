r"""Orientation-dependent pair potentials of rigid linear molecules.

A :class:`LinearPairPotential` (``kind = "linear"``) is the interaction energy
of two identical rigid linear molecules as a function of their centre-centre
distance and relative orientation.

Angle convention
----------------
The intermolecular vector :math:`\mathbf r = r\hat{\mathbf z}` points from the
centre of molecule 1 to the centre of molecule 2. Molecule i's axis is the
unit vector

.. math::

    \mathbf e_1 = (\sin\theta_1, 0, \cos\theta_1), \qquad
    \mathbf e_2 = (\sin\theta_2\cos\phi, \sin\theta_2\sin\phi, \cos\theta_2),

so :math:`\theta_i \in [0, \pi]` is the angle between molecule i's axis and
:math:`\mathbf r` (the *same* vector for both molecules, 1 -> 2) and
:math:`\phi \in [0, 2\pi)` is the azimuth of molecule 2's axis about
:math:`\mathbf r` relative to that of molecule 1. This is the convention of
C. G. Gray and K. E. Gubbins, *Theory of Molecular Fluids*, vol. 1 (Oxford,
1984), section 2.4, and of J. Vrabec, J. Stoll and H. Hasse, J. Phys. Chem. B
105, 12126 (2001), doi:10.1021/jp012542o. Head-to-tail alignment along
:math:`\mathbf r` is :math:`\theta_1 = \theta_2 = 0`; side by side parallel
is :math:`\theta_1 = \theta_2 = \pi/2, \phi = 0`; a T shape is
:math:`\theta_1 = 0, \theta_2 = \pi/2`. Energies of these achiral molecules
depend on :math:`\phi` only through :math:`\cos\phi`. For a polar molecule
(Stockmayer) :math:`\mathbf e_i` is the direction of the dipole.

Units: r in angstrom, angles in radians, energies in kJ/mol; the dipole
moment in e angstrom and the quadrupole moment in e angstrom^2 internally
(priors in debye and buckingham), see :mod:`bayesff.units`.

Each potential is written once in terms of the cosines and sines of the
angles (``orientation_energy(r, c1, s1, c2, s2, cphi, **params)``), which is
what the orientation quadrature of :mod:`bayesff.observables.orientational`
evaluates; :meth:`LinearPairPotential.energy` is the same function of the
angles themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from math import comb, factorial, lgamma, log, sinh, sqrt

import jax.numpy as jnp
import numpy as np

from bayesff.potentials._spec import (
    DerivedParam,
    ParamSpec,
    energy_in_K,
    get_potential,
    register,
)
from bayesff.priors import PriorSpec, Support
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM

__all__ = [
    "STOCKMAYER",
    "TWO_CENTRE_LJ",
    "TWO_CENTRE_LJ_CRITICAL",
    "TWO_CENTRE_LJ_LSTAR",
    "TWO_CENTRE_LJ_QUADRUPOLE",
    "TWO_CENTRE_LJ_QUADRUPOLE_CRITICAL",
    "TWO_CENTRE_LJ_QUADRUPOLE_LSTAR",
    "TWO_CENTRE_LJ_QUADRUPOLE_QSTAR",
    "LinearPairPotential",
    "dipole_dipole",
    "quadrupole_quadrupole",
    "stockmayer",
    "stockmayer_average_coefficients",
    "two_centre_contact_distance",
    "two_centre_critical_point",
    "two_centre_lj",
    "two_centre_lj_quadrupole",
    "usual_parameters",
]


@dataclass(frozen=True)
class LinearPairPotential:
    """Pair potential of two identical rigid linear molecules, ``kind = "linear"``.

    Parameters
    ----------
    name
        Registry name, e.g. ``"two_centre_lj"``.
    orientation_energy
        Pure JAX function ``(r, c1, s1, c2, s2, cphi, **params) -> u`` with r
        in angstrom, ``c_i, s_i`` the cosine and sine of :math:`\\theta_i`,
        ``cphi`` the cosine of :math:`\\phi` (module docstring), u in kJ/mol;
        elementwise over broadcastable arrays.
    params
        Parameter table.
    length_scale
        ``length_scale(**params) -> angstrom``: size of a site's repulsive core
        (sigma), used to place the radial quadrature panels.
    contact_distance
        ``contact_distance(c1, s1, c2, s2, cphi, **params) -> angstrom``: the
        centre-centre distance at which, in this orientation, the repulsive
        wall is reached (for site models: the closest pair of sites is
        sigma apart). Radial panels are placed in units of it, orientation by
        orientation.
    head_tail_symmetric
        ``True`` if u is unchanged when either molecule alone is turned
        end over end (:math:`\\mathbf e_i \\to -\\mathbf e_i`): two-centre
        models and quadrupoles are, dipoles are not. The quadrature then
        integrates :math:`\\cos\\theta_i` over [0, 1] only.
    orientation_average
        Optional exact reduction ``(r, beta, **params) -> <exp(-beta u)> - 1``
        of the orientation average of the Mayer function at distance r (any
        shape) and inverse temperature beta (mol/kJ, broadcast against r),
        for potentials where the angular integral can be done in closed form
        or as a convergent series (Stockmayer). Used by the B2 quadrature in
        place of the angular quadrature when present.
    overlap_core
        Fraction x of the contact distance below which the B2 quadrature
        takes the Mayer function to be exactly -1 (the molecules overlap),
        0 for none. Needed where a point multipole sits inside the molecule
        and the site-site repulsion stays finite as the centres meet: for
        2CLJQ with L > 0, u_QQ ~ -Q^2/r^5 wins as r -> 0 in T-shaped
        orientations and the B2 integral diverges; the core removes that
        unphysical region. Its value does not matter where the model makes
        sense: 2CLJQ B2 changes by < 1e-12 relative between x = 0.3 and 0.5
        for L/sigma <= 0.8 and kT/epsilon <= 60
        (``tests/observables/test_orientational.py``).
    description, reference
        Formula in words, and the citation.
    derived
        Parameters of the usual form that this form's parameters determine
        (:class:`~bayesff.potentials.DerivedParam`): ``L`` of a two-centre model
        sampled in L* = L / sigma.
    base
        Registry name of the usual form this one reparameterises (``""``: none);
        observables that dispatch on the usual form's name (the B2 table, the
        equations of state) read ``base`` and :func:`usual_parameters`.
    """

    name: str
    orientation_energy: Callable
    params: tuple[ParamSpec, ...]
    length_scale: Callable
    contact_distance: Callable
    head_tail_symmetric: bool = False
    orientation_average: Callable | None = None
    overlap_core: float = 0.0
    description: str = ""
    reference: str = ""
    derived: tuple[DerivedParam, ...] = ()
    base: str = ""
    kind: str = field(default="linear", init=False)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def energy(self, r, theta1, theta2, phi, **params):
        """Pair energy in kJ/mol at distance r (angstrom) and angles (rad).

        Parameters
        ----------
        r
            Centre-centre distance, angstrom.
        theta1, theta2
            Angles between each molecule's axis and the vector from molecule 1
            to molecule 2, rad, in [0, pi].
        phi
            Relative azimuth of the two axes about that vector, rad.
        **params
            The potential's parameters, internal units.

        Returns
        -------
        u
            kJ/mol, broadcast over the arguments.
        """
        return self.orientation_energy(
            r,
            jnp.cos(theta1),
            jnp.sin(theta1),
            jnp.cos(theta2),
            jnp.sin(theta2),
            jnp.cos(phi),
            **params,
        )


# ---------------------------------------------------------------- the physics


def _lj_from_d2(d2, epsilon, sigma):
    s6 = (sigma * sigma / d2) ** 3
    return 4.0 * epsilon * (s6 * s6 - s6)


def _site_pairs(L):
    """Signed site offsets (a on molecule 1, b on molecule 2) along the axes."""
    h = 0.5 * L
    return ((h, h), (h, -h), (-h, h), (-h, -h))


def two_centre_lj(r, c1, s1, c2, s2, cphi, *, epsilon, sigma, L):
    r"""Two-centre Lennard-Jones (2CLJ) energy of two linear molecules.

    Each molecule carries two identical LJ sites at :math:`\pm (L/2)\mathbf e_i`
    from its centre; the energy is the sum over the four intermolecular site
    pairs,

    .. math::

        u = \sum_{a, b = \pm L/2} 4\varepsilon\left[\left(\frac{\sigma}{d_{ab}}\right)^{12}
            - \left(\frac{\sigma}{d_{ab}}\right)^{6}\right], \qquad
        d_{ab}^2 = |r\hat{\mathbf z} + b\,\mathbf e_2 - a\,\mathbf e_1|^2
                 = r^2 + a^2 + b^2 + 2r(b\cos\theta_2 - a\cos\theta_1)
                   - 2ab\,\mathbf e_1\cdot\mathbf e_2,

    with :math:`\mathbf e_1\cdot\mathbf e_2 = \sin\theta_1\sin\theta_2\cos\phi
    + \cos\theta_1\cos\theta_2`. At L = 0 the four sites coincide and u is LJ
    with well depth :math:`4\varepsilon`.

    Parameters
    ----------
    r
        Centre-centre distance, angstrom.
    c1, s1, c2, s2, cphi
        cos and sin of :math:`\theta_1`, :math:`\theta_2`, and cos of :math:`\phi`.
    epsilon
        Site-site LJ well depth, kJ/mol.
    sigma
        Site-site LJ diameter, angstrom.
    L
        Site-site distance within a molecule (elongation), angstrom.

    Returns
    -------
    u
        kJ/mol. Infinite (not NaN) where two sites coincide.

    References
    ----------
    J. Fischer, R. Lustig, H. Breitenfelder-Manske and W. Lemming, Mol. Phys.
    52, 485 (1984), doi:10.1080/00268978400101351; J. Vrabec, J. Stoll and
    H. Hasse, J. Phys. Chem. B 105, 12126 (2001), doi:10.1021/jp012542o.
    """
    e12 = s1 * s2 * cphi + c1 * c2
    u = 0.0
    for a, b in _site_pairs(L):
        d2 = r * r + a * a + b * b + 2.0 * r * (b * c2 - a * c1) - 2.0 * a * b * e12
        u = u + _lj_from_d2(d2, epsilon, sigma)
    return u


def quadrupole_quadrupole(r, c1, s1, c2, s2, cphi, Q):
    r"""Energy of two identical linear point quadrupoles, kJ/mol.

    .. math::

        u_{QQ} = \frac{3}{4}\frac{Q^2}{4\pi\varepsilon_0 r^5}\left[1
            - 5\cos^2\theta_1 - 5\cos^2\theta_2 - 15\cos^2\theta_1\cos^2\theta_2
            + 2\left(\sin\theta_1\sin\theta_2\cos\phi
            - 4\cos\theta_1\cos\theta_2\right)^2\right]

    with :math:`Q = \frac12\sum_k q_k(3z_k^2 - r_k^2)` (Buckingham's
    definition) along the axis. The sign of Q does not matter (it enters
    squared).

    Parameters
    ----------
    r
        Distance, angstrom.
    c1, s1, c2, s2, cphi
        As for :func:`two_centre_lj`.
    Q
        Quadrupole moment, e angstrom^2.

    References
    ----------
    Gray and Gubbins (1984), eq. 2.197 (with the angles of the module
    docstring); Vrabec, Stoll and Hasse (2001), doi:10.1021/jp012542o, eq. 2.
    """
    c1s, c2s = c1 * c1, c2 * c2
    ang = (
        1.0
        - 5.0 * c1s
        - 5.0 * c2s
        - 15.0 * c1s * c2s
        + 2.0 * (s1 * s2 * cphi - 4.0 * c1 * c2) ** 2
    )
    return 0.75 * COULOMB_KJ_PER_MOL_ANGSTROM * Q * Q / r**5 * ang


def dipole_dipole(r, c1, s1, c2, s2, cphi, mu):
    r"""Energy of two identical point dipoles, kJ/mol.

    .. math::

        u_{\mu\mu} = \frac{\mu^2}{4\pi\varepsilon_0 r^3}
            \left(\mathbf e_1\cdot\mathbf e_2 - 3\cos\theta_1\cos\theta_2\right)
          = \frac{\mu^2}{4\pi\varepsilon_0 r^3}
            \left(\sin\theta_1\sin\theta_2\cos\phi - 2\cos\theta_1\cos\theta_2\right)

    Head to tail (:math:`\theta_1 = \theta_2 = 0`) it is
    :math:`-2\mu^2/(4\pi\varepsilon_0 r^3)`.

    Parameters
    ----------
    mu
        Dipole moment, e angstrom.

    References
    ----------
    W. H. Stockmayer, J. Chem. Phys. 9, 398 (1941), doi:10.1063/1.1750922.
    """
    return COULOMB_KJ_PER_MOL_ANGSTROM * mu * mu / r**3 * (s1 * s2 * cphi - 2.0 * c1 * c2)


def two_centre_lj_quadrupole(r, c1, s1, c2, s2, cphi, *, epsilon, sigma, L, Q):
    r"""2CLJ plus a point quadrupole on each molecule's axis at its centre (2CLJQ).

    .. math:: u = u_{2CLJ}(r, \Omega; \varepsilon, \sigma, L) + u_{QQ}(r, \Omega; Q)

    See :func:`two_centre_lj` and :func:`quadrupole_quadrupole`; Q in
    e angstrom^2.

    References
    ----------
    Vrabec, Stoll and Hasse (2001), doi:10.1021/jp012542o.
    """
    u_lj = two_centre_lj(r, c1, s1, c2, s2, cphi, epsilon=epsilon, sigma=sigma, L=L)
    return u_lj + quadrupole_quadrupole(r, c1, s1, c2, s2, cphi, Q)


def stockmayer(r, c1, s1, c2, s2, cphi, *, epsilon, sigma, mu):
    r"""Stockmayer potential: LJ 12-6 plus a point dipole at each centre.

    .. math::

        u = 4\varepsilon\left[\left(\frac{\sigma}{r}\right)^{12}
            - \left(\frac{\sigma}{r}\right)^{6}\right]
          - \frac{\mu^2}{4\pi\varepsilon_0 r^3}
            \left(2\cos\theta_1\cos\theta_2 - \sin\theta_1\sin\theta_2\cos\phi\right)

    Parameters
    ----------
    epsilon
        LJ well depth, kJ/mol.
    sigma
        LJ diameter, angstrom.
    mu
        Dipole moment, e angstrom.

    References
    ----------
    W. H. Stockmayer, J. Chem. Phys. 9, 398 (1941), doi:10.1063/1.1750922.
    """
    return _lj_from_d2(r * r, epsilon, sigma) + dipole_dipole(r, c1, s1, c2, s2, cphi, mu)


def two_centre_contact_distance(c1, s1, c2, s2, cphi, sigma, L, **_):
    r"""Centre-centre distance at which the closest two sites are sigma apart, angstrom.

    For sites a on molecule 1 and b on molecule 2 with
    :math:`\Delta = b\mathbf e_2 - a\mathbf e_1`, the distance
    :math:`|r\hat{\mathbf z} + \Delta| = \sigma` is reached at
    :math:`r = -\Delta_z + \sqrt{\sigma^2 - \Delta_\perp^2}`; the contact
    distance is the largest of the four. It equals sigma at L = 0, sigma + L
    head to tail. Used to place quadrature panels only.
    """
    e12 = s1 * s2 * cphi + c1 * c2
    best = None
    for a, b in _site_pairs(L):
        dz = b * c2 - a * c1
        d2 = a * a + b * b - 2.0 * a * b * e12
        perp2 = jnp.maximum(d2 - dz * dz, 0.0)
        rc = -dz + jnp.sqrt(jnp.maximum(sigma * sigma - perp2, 0.0))
        best = rc if best is None else jnp.maximum(best, rc)
    return best


# ------------------------------------------- Stockmayer orientation average

#: Terms of the series of :func:`stockmayer_mayer_average`; see
#: :func:`stockmayer_series_range` for the y up to which they suffice.
STOCKMAYER_SERIES_TERMS = 64


@functools.cache
def _coefficients(terms: int) -> tuple[float, ...]:
    out = []
    for n in range(terms):
        s = sum(Fraction(comb(n, k) * 3**k, 2 * k + 1) for k in range(n + 1))
        out.append(float(s / factorial(2 * n + 1)))
    return tuple(out)


def stockmayer_average_coefficients(terms: int) -> np.ndarray:
    r"""Coefficients :math:`c_n` of the orientation average of :math:`e^{-y f}`.

    For two point dipoles, :math:`\beta u_{\mu\mu} = y f(\Omega)` with
    :math:`y = \beta\mu^2/(4\pi\varepsilon_0 r^3)` and
    :math:`f = \mathbf e_1\cdot\mathbf e_2 - 3 c_1 c_2`. Averaging
    :math:`e^{-y\,\mathbf e_2\cdot\mathbf v}` over :math:`\mathbf e_2` for fixed
    :math:`\mathbf v = (\mathbf 1 - 3\hat{\mathbf z}\hat{\mathbf z})\mathbf e_1`,
    :math:`|\mathbf v| = \sqrt{1 + 3c_1^2}`, gives
    :math:`\sinh(y|\mathbf v|)/(y|\mathbf v|)`, and then over :math:`c_1`

    .. math::

        G(y) = \langle e^{-yf}\rangle = \int_0^1
               \frac{\sinh\!\left(y\sqrt{1+3c^2}\right)}{y\sqrt{1+3c^2}}\,dc
             = \sum_{n\ge 0} c_n y^{2n}, \qquad
        c_n = \frac{1}{(2n+1)!}\sum_{k=0}^{n}\binom{n}{k}\frac{3^k}{2k+1},

    an entire function with positive coefficients (:math:`c_1 = 1/3`,
    :math:`c_2 = 1/25`). These are the coefficients of Stockmayer's series
    for B2 (Stockmayer 1941; also tabulated by K. Bartke and R. Hentschke,
    Phys. Rev. E 75, 061503 (2007), doi:10.1103/PhysRevE.75.061503).

    Parameters
    ----------
    terms
        Number of coefficients, n = 0 .. terms - 1.

    Returns
    -------
    numpy.ndarray
        ``c_0 .. c_{terms-1}`` as float64, computed in exact rational
        arithmetic and rounded once.
    """
    return np.asarray(_coefficients(terms))


def _expm1_from_exp(x, ex):
    """exp(x) - 1 given ex = exp(x), to ~1e-13 relative, without a second transcendental.

    |x| < 1e-3: Taylor to x^5 (remainder < x^6/720, 1.4e-18 relative); else ex - 1
    (rounding of ex costs at most 2.2e-16/|x| <= 2.2e-13 relative).
    """
    small = jnp.abs(x) < 1e-3
    xs = jnp.where(small, x, 0.0)
    taylor = xs * (1.0 + xs * (0.5 + xs * (1.0 / 6.0 + xs * (1.0 / 24.0 + xs / 120.0))))
    return jnp.where(small, taylor, ex - 1.0)


#: Interleaved Horner chains in :func:`_split_horner` (measured fastest on CPU).
STOCKMAYER_HORNER_WAYS = 4


def _split_horner(coef, z, ways):
    """sum_k coef[k] z^k as ``ways`` interleaved Horner chains in z^ways.

    p(z) = sum_j z^j p_j(z^ways), p_j with the coefficients j, j + ways, ...:
    the same number of multiply-adds as one Horner chain, but ``ways``
    independent dependency chains, which a CPU overlaps (one long chain is
    bound by the latency of each multiply-add).
    """
    w = z**ways
    total = None
    zj = None
    for j in range(min(ways, len(coef))):
        part = coef[j::ways]
        acc = jnp.full_like(z, part[-1])
        for cn in part[-2::-1]:
            acc = cn + w * acc
        zj = jnp.ones_like(z) if zj is None else zj * z
        total = acc * zj if total is None else total + acc * zj
    return total


@functools.cache
def stockmayer_series_range(terms: int, rel: float = 1e-17) -> float:
    r"""Largest y for which ``terms`` terms of G(y) leave a relative remainder <= ``rel``.

    Rigorous bounds: the remainder from :math:`c_n \le 4^n/(2n+1)!` (as
    :math:`1 + 3c^2 \le 4`), a geometric series beyond the first omitted
    term; the sum from below by the integrand's value at
    :math:`c_0 = \max(0, 1 - 1/y)` over :math:`[c_0, 1]` (it increases
    with c), :math:`G(y) \ge (1 - c_0)\sinh(y a_0)/(y a_0)`,
    :math:`a_0 = \sqrt{1 + 3c_0^2}`. The true remainder is smaller.
    """

    def remainder_ok(y):
        # first omitted term is n = N = terms; with c_n y^2n <= (2y)^2n / (2n+1)! the
        # remainder is <= (2y)^(2N) / (2N+1)! / (1 - (2y)^2 / ((2N+2)(2N+3)))
        n = terms
        q = (2 * y) ** 2 / ((2 * n + 2) * (2 * n + 3))
        if q >= 1:
            return False
        log_rem = 2 * n * log(2 * y) - lgamma(2 * n + 2) - log(1 - q)
        c0 = max(0.0, 1.0 - 1.0 / y)
        a0 = sqrt(1.0 + 3.0 * c0 * c0)
        log_g = log(1.0 - c0) + log(sinh(y * a0) / (y * a0))
        return log_rem - log_g <= log(rel)

    lo, hi = 1e-3, 300.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if remainder_ok(mid) else (lo, mid)
    return lo


def stockmayer_mayer_average(r, beta, epsilon, sigma, mu, *, terms=STOCKMAYER_SERIES_TERMS):
    r"""Orientation average :math:`\langle e^{-\beta u}\rangle - 1` of the Stockmayer potential.

    .. math::

        \langle e^{-\beta u}\rangle - 1 = \left(e^{-\beta u_{LJ}} - 1\right)
            + e^{-\beta u_{LJ}}\,\bigl(G(y) - 1\bigr), \qquad
        y = \frac{\beta\mu^2}{4\pi\varepsilon_0 r^3},

    with :math:`G - 1 = \sum_{n=1}^{N-1} c_n y^{2n}` from
    :func:`stockmayer_average_coefficients` (all terms positive, so no
    cancellation; evaluated as four interleaved Horner chains in
    :math:`y^2`, which a CPU overlaps), and :math:`e^{-\beta u_{LJ}} - 1`
    from the one exponential (a fifth-order Taylor polynomial where
    :math:`|\beta u_{LJ}| < 10^{-3}`, so the tail keeps its digits to
    ~1e-13 without a second transcendental). The series is used where
    :math:`y \le y_{max}` (:func:`stockmayer_series_range`, relative
    remainder below 1e-17). Beyond, :math:`G(y) \le e^{2y}` (as
    :math:`|f| \le 2`) bounds the term: where
    :math:`e^{-\beta u_{LJ} + 2y} < e^{-50}` it is set to -1 (exact to
    2e-22), and where it is not the result is NaN, a failure value meaning
    "dipole too strong for this series at this temperature". With the
    default 64 terms :math:`y_{max} = 25.6`, and NaN needs
    :math:`Y = \mu^2/(4\pi\varepsilon_0\sigma^3 k_BT) = \mu^{*2}/T^*` above
    12.8 at T* = 0.5, 11 at T* = 1, 7.5 at T* = 5 (scanned on a grid of
    r/sigma; water with sigma of the order of 2.7 angstrom and mu = 1.85 D at
    273 K has Y = 4.6). No NaN occurred for 1000 draws with
    mu <= 2.5 D, sigma >= 2.6 angstrom, eps/k_B >= 150 K, T >= 250 K
    (``benchmarks/electrostatics_bench.py``).

    Parameters
    ----------
    r
        Distances, angstrom.
    beta
        1/(RT), mol/kJ, broadcast against r.
    epsilon, sigma, mu
        kJ/mol, angstrom, e angstrom.
    terms
        N, number of series coefficients (n = 0 .. N-1).
    """
    c = stockmayer_average_coefficients(terms)
    y_max = stockmayer_series_range(terms)
    r = jnp.asarray(r)
    bu_lj = beta * _lj_from_d2(r * r, epsilon, sigma)
    y = beta * COULOMB_KJ_PER_MOL_ANGSTROM * mu * mu / r**3
    ok = y <= y_max
    z = jnp.where(ok, y * y, 0.0)
    g_minus_1 = z * _split_horner(c[1:], z, STOCKMAYER_HORNER_WAYS)
    # cap at exp(-700) ~ 1e-304: below, exp would return subnormals (slow on x86); the
    # Boltzmann factor is then negligible and its derivative, now 0, was ~1e-304
    boltz = jnp.exp(-jnp.minimum(bu_lj, 700.0))
    series = _expm1_from_exp(-bu_lj, boltz) + boltz * g_minus_1
    negligible = (-bu_lj + 2.0 * y) < -50.0
    return jnp.where(ok, series, jnp.where(negligible, -1.0, jnp.nan))


# ------------------------------------------------------------- registration


def _epsilon_spec(median_K: float, description: str) -> ParamSpec:
    return energy_in_K("epsilon", median_K, description)


def _sigma_spec(description: str) -> ParamSpec:
    return ParamSpec(
        name="sigma",
        dimension="length",
        support=Support("positive"),
        default_prior=PriorSpec("LogNormal", {"median": 3.4, "scale": 0.3}),
        prior_unit="angstrom",
        description=description,
    )


_L_SPEC = ParamSpec(
    name="L",
    dimension="length",
    support=Support("interval", 0.0, 5.0),
    # 2CLJ elongations of small molecules: N2 1.05, F2 1.43, ethane 2.38,
    # CO2 2.42 angstrom (Vrabec et al. 2001); fix L from the geometry or give
    # it a tight prior where the data (B2 alone) cannot separate L and sigma.
    default_prior=PriorSpec("Uniform", {"low": 0.0, "high": 3.5}),
    prior_unit="angstrom",
    description="site-site distance within a molecule (elongation)",
)

_Q_SPEC = ParamSpec(
    name="Q",
    dimension="quadrupole",
    support=Support("positive"),
    # |Q| of small linear molecules: N2 1.5, C2H2 ~ 5, CO2 4.3 B (Gray and Gubbins 1984, app. D)
    default_prior=PriorSpec("LogNormal", {"median": 2.0, "scale": 1.0}),
    prior_unit="B",
    description="magnitude of the point quadrupole on the axis (enters squared)",
)

_MU_SPEC = ParamSpec(
    name="mu",
    dimension="dipole",
    support=Support("positive"),
    # gas-phase dipoles of small polar molecules: NH3 1.47, SO2 1.63, CH3OH 1.70,
    # H2O 1.85, CH2F2 1.98 D (CRC Handbook); 90 % of the prior in [0.44, 5.2] D
    default_prior=PriorSpec("LogNormal", {"median": 1.5, "scale": 0.75}),
    prior_unit="D",
    description="magnitude of the point dipole (enters squared)",
)

_VRABEC = (
    "J. Vrabec, J. Stoll and H. Hasse, J. Phys. Chem. B 105, 12126 (2001), doi:10.1021/jp012542o"
)

TWO_CENTRE_LJ = register(
    LinearPairPotential(
        name="two_centre_lj",
        orientation_energy=two_centre_lj,
        params=(
            _epsilon_spec(80.0, "site-site LJ well depth (prior quoted as epsilon/k_B)"),
            _sigma_spec("site-site LJ diameter"),
            _L_SPEC,
        ),
        length_scale=lambda sigma, **kw: sigma,
        contact_distance=two_centre_contact_distance,
        head_tail_symmetric=True,
        description="two LJ 12-6 sites per molecule at +-L/2 on the axis; sum over 4 site pairs",
        reference=(
            "J. Fischer et al., Mol. Phys. 52, 485 (1984), doi:10.1080/00268978400101351; "
            + _VRABEC
        ),
    )
)

TWO_CENTRE_LJ_QUADRUPOLE = register(
    LinearPairPotential(
        name="two_centre_lj_quadrupole",
        orientation_energy=two_centre_lj_quadrupole,
        params=(
            _epsilon_spec(80.0, "site-site LJ well depth (prior quoted as epsilon/k_B)"),
            _sigma_spec("site-site LJ diameter"),
            _L_SPEC,
            _Q_SPEC,
        ),
        length_scale=lambda sigma, **kw: sigma,
        contact_distance=two_centre_contact_distance,
        head_tail_symmetric=True,
        # B2 diverges without it (u_QQ -> -inf as r -> 0 where the sites stay apart)
        overlap_core=0.4,
        description="2CLJ plus a point quadrupole Q at the centre, on the axis",
        reference=_VRABEC,
    )
)


# ------------------------------------ the two-centre forms in L* = L / sigma

#: The two-centre equations of state are validated for L* = L / sigma <= 0.8 (Lisal et al.
#: 2004, from the simulations of Stoll et al. 2001; :mod:`bayesff.observables.vle`) and are
#: NaN beyond. Sampled in L, that edge is the curved surface L = 0.8 sigma, which a chain
#: meets as a wall of divergences (carbon dioxide's atlas runs, docs/atlas.md); sampled in
#: L*, it is a bound of one coordinate, which the sampler's transform never crosses.
_L_STAR_SPEC = ParamSpec(
    name="L_star",
    dimension="dimensionless",
    support=Support("interval", 0.0, 2.0),
    default_prior=PriorSpec("Uniform", {"low": 0.0, "high": 0.8}),
    prior_unit="1",
    description="reduced elongation L / sigma (the two-centre EOS: 0 to 0.8)",
)


def l_from_l_star(sigma, L_star):
    """Site-site distance L = L* sigma, in the unit of ``sigma``."""
    return L_star * sigma


#: L of a two-centre model sampled in L* (``two_centre_lj_lstar``, ...).
L_FROM_L_STAR = DerivedParam(
    "L", "sigma", ("sigma", "L_star"), l_from_l_star, "site-site distance L* sigma"
)


def usual_parameters(potential, params: dict) -> dict:
    """The parameters of ``potential``'s usual form (``potential.base``) from its own.

    Each :class:`~bayesff.potentials.DerivedParam` of ``potential`` is computed from
    ``params`` (internal units); the potential's own parameters that the usual form does
    not have are dropped, everything else is passed through. A potential without a
    ``base`` gets ``params`` back unchanged.
    """
    if not getattr(potential, "base", ""):
        return params
    usual = set(get_potential(potential.base).param_names)
    own = set(potential.param_names) - usual
    out = {k: v for k, v in params.items() if k not in own}
    for d in potential.derived:
        out[d.name] = d.value(*(params[k] for k in d.inputs))
    return out


def _two_centre_lj_lstar(r, c1, s1, c2, s2, cphi, *, epsilon, sigma, L_star):
    return two_centre_lj(r, c1, s1, c2, s2, cphi, epsilon=epsilon, sigma=sigma, L=L_star * sigma)


def _two_centre_lj_quadrupole_lstar(r, c1, s1, c2, s2, cphi, *, epsilon, sigma, L_star, Q):
    return two_centre_lj_quadrupole(
        r, c1, s1, c2, s2, cphi, epsilon=epsilon, sigma=sigma, L=L_star * sigma, Q=Q
    )


def _contact_lstar(c1, s1, c2, s2, cphi, sigma, L_star, **_):
    return two_centre_contact_distance(c1, s1, c2, s2, cphi, sigma, L_star * sigma)


TWO_CENTRE_LJ_LSTAR = register(
    LinearPairPotential(
        name="two_centre_lj_lstar",
        orientation_energy=_two_centre_lj_lstar,
        params=(*TWO_CENTRE_LJ.params[:2], _L_STAR_SPEC),
        length_scale=lambda sigma, **kw: sigma,
        contact_distance=_contact_lstar,
        head_tail_symmetric=True,
        description="two_centre_lj sampled in L* = L / sigma in place of L",
        reference=TWO_CENTRE_LJ.reference,
        derived=(L_FROM_L_STAR,),
        base="two_centre_lj",
    )
)

TWO_CENTRE_LJ_QUADRUPOLE_LSTAR = register(
    LinearPairPotential(
        name="two_centre_lj_quadrupole_lstar",
        orientation_energy=_two_centre_lj_quadrupole_lstar,
        params=(*TWO_CENTRE_LJ_QUADRUPOLE.params[:2], _L_STAR_SPEC, _Q_SPEC),
        length_scale=lambda sigma, **kw: sigma,
        contact_distance=_contact_lstar,
        head_tail_symmetric=True,
        overlap_core=TWO_CENTRE_LJ_QUADRUPOLE.overlap_core,
        description="two_centre_lj_quadrupole sampled in L* = L / sigma in place of L",
        reference=TWO_CENTRE_LJ_QUADRUPOLE.reference,
        derived=(L_FROM_L_STAR,),
        base="two_centre_lj_quadrupole",
    )
)


# --------------------- the two-centre forms in critical-point coordinates

#: ln T*c and ln rho*c of the 2CLJ fluid as quartics in L* (coefficients of L*^0 ... L*^4):
#: a least-squares fit to the critical points of the Lisal et al. (2004) EOS that the VLE
#: observables use (:func:`bayesff.observables.eos.thermo.critical_point` at L* = 0, 0.05,
#: ..., 0.8; within 0.26 % in T*c and 0.09 % in rho*c there, checked by
#: ``tests/potentials/test_two_centre_reparameterised.py``). bayesff's fit, not published. They
#: only define a coordinate (any smooth function of L* would be a valid one): the closer
#: they follow the fluid's critical point, the straighter the posterior's ridge.
CRITICAL_LN_T_STAR = (1.67171, -0.21632, -5.15484, 8.01078, -3.80049)
CRITICAL_LN_RHO_STAR = (-1.16907, -0.16822, -3.35428, 4.99489, -2.25974)


def _quartic(c, x):
    return c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * c[4])))


def two_centre_critical_point(L_star):
    """Approximate reduced critical point (T*c, rho*c) of the 2CLJ fluid at elongation L*.

    T*c = k_B Tc / epsilon and rho*c = N sigma^3 / V from :data:`CRITICAL_LN_T_STAR` and
    :data:`CRITICAL_LN_RHO_STAR` (a fit to the Lisal et al. 2004 EOS over 0 <= L* <= 0.8).

    Parameters
    ----------
    L_star
        Reduced elongation L / sigma (array-like).

    Returns
    -------
    tuple
        (T*c, rho*c), dimensionless, the shape of ``L_star``.
    """
    x = jnp.asarray(L_star)
    return jnp.exp(_quartic(CRITICAL_LN_T_STAR, x)), jnp.exp(_quartic(CRITICAL_LN_RHO_STAR, x))


def epsilon_from_critical(epsilon_c, L_star):
    """Site-site epsilon = epsilon_c / T*c(L*), in the unit of ``epsilon_c``."""
    return epsilon_c / two_centre_critical_point(L_star)[0]


def sigma_from_critical(l_c, L_star):
    """Site-site sigma = l_c rho*c(L*)^(1/3), in the unit of ``l_c``."""
    return l_c * jnp.cbrt(two_centre_critical_point(L_star)[1])


def l_from_critical(l_c, L_star):
    """Site-site distance L = L* sigma, in the unit of ``l_c``."""
    return L_star * sigma_from_critical(l_c, L_star)


#: The usual form's parameters of a two-centre form sampled in critical-point coordinates.
EPSILON_FROM_CRITICAL = DerivedParam(
    "epsilon",
    "epsilon_c",
    ("epsilon_c", "L_star"),
    epsilon_from_critical,
    "site-site epsilon = epsilon_c / T*c(L*)",
)
SIGMA_FROM_CRITICAL = DerivedParam(
    "sigma",
    "l_c",
    ("l_c", "L_star"),
    sigma_from_critical,
    "site-site sigma = l_c rho*c(L*)^(1/3)",
)
L_FROM_CRITICAL = DerivedParam(
    "L", "l_c", ("l_c", "L_star"), l_from_critical, "site-site distance L* sigma"
)

_EPSILON_C_SPEC = energy_in_K(
    "epsilon_c",
    250.0,
    "k_B Tc of the 2CLJ fluid with this L* (epsilon T*c(L*); prior quoted in K)",
)
_L_C_SPEC = ParamSpec(
    name="l_c",
    dimension="length",
    support=Support("positive"),
    default_prior=PriorSpec("LogNormal", {"median": 5.0, "scale": 0.3}),
    prior_unit="angstrom",
    description="cube root of the 2CLJ fluid's critical volume per molecule, sigma / rho*c^(1/3)",
)


def _usual_from_critical(epsilon_c, l_c, L_star):
    sigma = sigma_from_critical(l_c, L_star)
    return {
        "epsilon": epsilon_from_critical(epsilon_c, L_star),
        "sigma": sigma,
        "L": L_star * sigma,
    }


def _two_centre_lj_critical(r, c1, s1, c2, s2, cphi, *, epsilon_c, l_c, L_star):
    return two_centre_lj(r, c1, s1, c2, s2, cphi, **_usual_from_critical(epsilon_c, l_c, L_star))


def _two_centre_lj_quadrupole_critical(r, c1, s1, c2, s2, cphi, *, epsilon_c, l_c, L_star, Q):
    usual = _usual_from_critical(epsilon_c, l_c, L_star)
    return two_centre_lj_quadrupole(r, c1, s1, c2, s2, cphi, Q=Q, **usual)


def _contact_critical(c1, s1, c2, s2, cphi, l_c, L_star, **_):
    sigma = sigma_from_critical(l_c, L_star)
    return two_centre_contact_distance(c1, s1, c2, s2, cphi, sigma, L_star * sigma)


_CRITICAL_DERIVED = (EPSILON_FROM_CRITICAL, SIGMA_FROM_CRITICAL, L_FROM_CRITICAL)

#: Sampled in (epsilon, sigma, L*), a fit to vapour-liquid data is a curved ridge: the data
#: fix the model's critical temperature and volume, epsilon T*c(L*) and sigma^3 / rho*c(L*),
#: and leave L* loose, so epsilon and sigma bend with it (ethylene's 2CLJ posterior:
#: correlations 0.99 among ln epsilon, ln sigma and L*, 146 divergences). These forms sample
#: those two combinations themselves, epsilon_c and l_c, beside L* (correlations 0.26 or
#: less on the same posterior; docs/atlas.md).
TWO_CENTRE_LJ_CRITICAL = register(
    LinearPairPotential(
        name="two_centre_lj_critical",
        orientation_energy=_two_centre_lj_critical,
        params=(_EPSILON_C_SPEC, _L_C_SPEC, _L_STAR_SPEC),
        length_scale=lambda l_c, L_star, **kw: sigma_from_critical(l_c, L_star),
        contact_distance=_contact_critical,
        head_tail_symmetric=True,
        description="two_centre_lj sampled in epsilon_c = epsilon T*c(L*), "
        "l_c = sigma / rho*c(L*)^(1/3) and L* = L / sigma",
        reference=TWO_CENTRE_LJ.reference,
        derived=_CRITICAL_DERIVED,
        base="two_centre_lj",
    )
)

TWO_CENTRE_LJ_QUADRUPOLE_CRITICAL = register(
    LinearPairPotential(
        name="two_centre_lj_quadrupole_critical",
        orientation_energy=_two_centre_lj_quadrupole_critical,
        params=(_EPSILON_C_SPEC, _L_C_SPEC, _L_STAR_SPEC, _Q_SPEC),
        length_scale=lambda l_c, L_star, **kw: sigma_from_critical(l_c, L_star),
        contact_distance=_contact_critical,
        head_tail_symmetric=True,
        overlap_core=TWO_CENTRE_LJ_QUADRUPOLE.overlap_core,
        description="two_centre_lj_quadrupole sampled in epsilon_c = epsilon T*c(L*) (of the "
        "2CLJ fluid: Q does not enter), l_c = sigma / rho*c(L*)^(1/3), L* and Q",
        reference=TWO_CENTRE_LJ_QUADRUPOLE.reference,
        derived=_CRITICAL_DERIVED,
        base="two_centre_lj_quadrupole",
    )
)


# ------------------------------------ the 2CLJQ form in ln Q*^2

#: The 2CLJQ equation of state is validated for Q*^2 = Q^2 / (4 pi eps0 epsilon sigma^5)
#: <= 4 (Stoll et al. 2001's simulations; :mod:`bayesff.observables.vle`) and is NaN beyond.
#: Sampled in Q, that edge is the curved surface Q^2 = 4 (4 pi eps0) epsilon sigma^5; trained
#: on B2 alone, a 2CLJQ posterior also meets a steep wall near Q*^2 = 4.6, where B2's
#: Q^4 / T term takes over (fluorine's atlas run: 15 % of its draws beyond 4, chains
#: adapting step sizes 30x apart; docs/atlas.md). Sampled in ln Q*^2 with a prior bounded
#: at ln 4, the edge is a bound of one coordinate and the wall lies outside the support.
_LN_Q2_STAR_SPEC = ParamSpec(
    name="lnQ2_star",
    dimension="dimensionless",
    support=Support("real"),
    # Q*^2 of the published 2CLJQ models: 0.07 (ethane) to 2.35 (ethylene), 3.3 (CO2)
    # (Vrabec, Stoll and Hasse 2001); centre 0.5, bounded at the EOS's edge, 4
    default_prior=PriorSpec(
        "TruncatedNormal", {"loc": log(0.5), "scale": 1.0, "low": log(1e-3), "high": log(4.0)}
    ),
    prior_unit="1",
    description="ln Q*^2 = ln(Q^2 / (4 pi eps0 epsilon sigma^5)) (the 2CLJQ EOS: Q*^2 <= 4)",
)


def q_from_ln_q2_star(epsilon, sigma, lnQ2_star):
    """Quadrupole Q (e angstrom^2) from epsilon (kJ/mol), sigma (angstrom) and ln Q*^2."""
    return jnp.sqrt(jnp.exp(lnQ2_star) * epsilon * sigma**5 / COULOMB_KJ_PER_MOL_ANGSTROM)


#: Q of the 2CLJQ form sampled in ln Q*^2 (``two_centre_lj_quadrupole_qstar``).
Q_FROM_LN_Q2_STAR = DerivedParam(
    "Q",
    "lnQ2_star",
    ("epsilon", "sigma", "lnQ2_star"),
    q_from_ln_q2_star,
    "quadrupole sqrt(Q*^2 4 pi eps0 epsilon sigma^5)",
    dimension="quadrupole",
    unit="B",
)


def _two_centre_lj_quadrupole_qstar(r, c1, s1, c2, s2, cphi, *, epsilon, sigma, L, lnQ2_star):
    q = q_from_ln_q2_star(epsilon, sigma, lnQ2_star)
    return two_centre_lj_quadrupole(
        r, c1, s1, c2, s2, cphi, epsilon=epsilon, sigma=sigma, L=L, Q=q
    )


TWO_CENTRE_LJ_QUADRUPOLE_QSTAR = register(
    LinearPairPotential(
        name="two_centre_lj_quadrupole_qstar",
        orientation_energy=_two_centre_lj_quadrupole_qstar,
        params=(*TWO_CENTRE_LJ_QUADRUPOLE.params[:3], _LN_Q2_STAR_SPEC),
        length_scale=lambda sigma, **kw: sigma,
        contact_distance=two_centre_contact_distance,
        head_tail_symmetric=True,
        overlap_core=TWO_CENTRE_LJ_QUADRUPOLE.overlap_core,
        description="two_centre_lj_quadrupole sampled in ln Q*^2 in place of Q",
        reference=TWO_CENTRE_LJ_QUADRUPOLE.reference,
        derived=(Q_FROM_LN_Q2_STAR,),
        base="two_centre_lj_quadrupole",
    )
)


def _stockmayer_average(r, beta, epsilon, sigma, mu):
    return stockmayer_mayer_average(r, beta, epsilon, sigma, mu)


STOCKMAYER = register(
    LinearPairPotential(
        name="stockmayer",
        orientation_energy=stockmayer,
        params=(
            _epsilon_spec(200.0, "LJ well depth (prior quoted as epsilon/k_B)"),
            _sigma_spec("LJ diameter"),
            _MU_SPEC,
        ),
        length_scale=lambda sigma, **kw: sigma,
        contact_distance=lambda c1, s1, c2, s2, cphi, sigma, **kw: sigma * jnp.ones_like(c1),
        head_tail_symmetric=False,
        orientation_average=_stockmayer_average,
        description="LJ 12-6 plus a point dipole mu at the centre",
        reference="W. H. Stockmayer, J. Chem. Phys. 9, 398 (1941), doi:10.1063/1.1750922",
    )
)
