r"""The Lennard-Jones 12-6 fluid: the equation of state of Thol et al. (2016).

.. math::

    \alpha^r(\tau, \delta) = \sum_{i=1}^{6} n_i \tau^{t_i} \delta^{d_i}
      + \sum_{i=7}^{12} n_i \tau^{t_i} \delta^{d_i} e^{-\delta^{l_i}}
      + \sum_{i=13}^{23} n_i \tau^{t_i} \delta^{d_i}
        e^{-\eta_i (\delta - \varepsilon_i)^2 - \beta_i (\tau - \gamma_i)^2},
    \qquad \tau = 1.32 / T^*, \quad \delta = \rho^* / 0.31,

for the full (untruncated) LJ potential, in reduced units T* = k_B T / epsilon,
rho* = N sigma^3 / V. Coefficients: ``data/lj_thol2016.json`` (sha256 checked
when this module is imported), with the citation, the paper's critical point
(T*c = 1.32, rho*c = 0.31, p*c = 0.13006) and its ancillary equations for the
saturation curve (:func:`ancillary`), which give the coexistence solve its
starts. Validity (the paper's abstract): 0.5 < T/Tc < 7 (T* from the triple
point 0.661 to 9.24), p/pc <= 500 (p* <= 65).

Reference
---------
M. Thol, G. Rutkai, A. Koester, R. Lustig, R. Span and J. Vrabec, Equation of
State for the Lennard-Jones Fluid, J. Phys. Chem. Ref. Data 45, 023101 (2016),
doi:10.1063/1.4945000.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from bayesff.observables.eos._base import ReducedEOS, Validity, load_coefficients

__all__ = ["LJ_THOL2016", "THOL2016_CRITICAL", "alphar", "ancillary", "ancillary_reduced"]

_SHA256 = "d56180617256c804d137b6bbd09f63bee19b7735bdb73168a8902e42378a20c4"
_DATA = load_coefficients("lj_thol2016.json", _SHA256)
_A = _DATA["alphar"]
_T_RED = float(_A["reducing"]["T_star"])
_RHO_RED = float(_A["reducing"]["rho_star"])


def _arr(block: dict, key: str) -> np.ndarray:
    return np.asarray(block[key], dtype=float)


# All 23 terms in one set of arrays: polynomial terms have no exponential factor
# (l = 0, eta = beta = 0), exponential terms l > 0, Gaussian terms eta, beta > 0.
_POL, _EXP, _GAU = _A["polynomial"], _A["exponential"], _A["gaussian"]
_N = np.concatenate([_arr(_POL, "n"), _arr(_EXP, "n"), _arr(_GAU, "n")])
_T = np.concatenate([_arr(_POL, "t"), _arr(_EXP, "t"), _arr(_GAU, "t")])
_D = np.concatenate([_arr(_POL, "d"), _arr(_EXP, "d"), _arr(_GAU, "d")])
_L_EXP = _arr(_EXP, "l")
_ETA, _BETA = _arr(_GAU, "eta"), _arr(_GAU, "beta")
_GAMMA, _EPS = _arr(_GAU, "gamma"), _arr(_GAU, "epsilon")
_N_POL, _N_EXP = len(_POL["n"]), len(_EXP["n"])

#: The paper's critical point (T*c, rho*c, p*c): the parameters it adopts and reduces with.
THOL2016_CRITICAL = (
    float(_DATA["critical_point"]["T_star"]),
    float(_DATA["critical_point"]["rho_star"]),
    float(_DATA["critical_point"]["p_star"]),
)


def alphar(T_star, rho_star):
    r"""Residual Helmholtz energy A_res / (N k_B T) of the LJ fluid (Thol et al. 2016).

    Parameters
    ----------
    T_star
        Reduced temperature k_B T / epsilon (scalar, > 0).
    rho_star
        Reduced number density rho sigma^3 (scalar, > 0).

    Returns
    -------
    jax.Array
        alpha^r (dimensionless scalar), differentiable to any order in both arguments.
    """
    tau = _T_RED / T_star
    delta = rho_star / _RHO_RED
    # tau^t delta^d as one exponential: a single fused kernel for the 23 terms
    log_tau, log_delta = jnp.log(tau), jnp.log(delta)
    base = _N * jnp.exp(_T * log_tau + _D * log_delta)
    pol = base[:_N_POL]
    ex = base[_N_POL : _N_POL + _N_EXP] * jnp.exp(-jnp.exp(_L_EXP * log_delta))
    gau = base[_N_POL + _N_EXP :] * jnp.exp(
        -_ETA * (delta - _EPS) ** 2 - _BETA * (tau - _GAMMA) ** 2
    )
    return jnp.sum(pol) + jnp.sum(ex) + jnp.sum(gau)


def _lj_alphar(T_star, rho_star):
    return alphar(T_star, rho_star)


def _critical_estimate():
    return THOL2016_CRITICAL[0], THOL2016_CRITICAL[1]


def ancillary_reduced(T_r):
    """The ancillary saturation curve in critical-reduced form (see :func:`ancillary`).

    Parameters
    ----------
    T_r
        T / T_c (any shape).

    Returns
    -------
    tuple of jax.Array
        ``(p/p_c, rho_l/rho_c, rho_v/rho_c)`` of the paper's ancillary equations;
        NaN for T_r >= 1.
    """
    anc = _DATA["ancillary"]
    T_r = jnp.asarray(T_r)
    theta = jnp.where(T_r < 1.0, 1.0 - T_r, jnp.nan)[..., None]
    liq, vap, ps = anc["liquid_density"], anc["vapour_density"], anc["vapour_pressure"]
    rl = 1.0 + jnp.sum(_arr(liq, "n") * theta ** _arr(liq, "t"), axis=-1)
    rv = jnp.exp(jnp.sum(_arr(vap, "n") * theta ** _arr(vap, "t"), axis=-1))
    pr = jnp.exp(jnp.sum(_arr(ps, "n") * theta ** _arr(ps, "t"), axis=-1) / T_r)
    return pr, rl, rv


def ancillary(T_star):
    r"""The paper's ancillary equations: (p*_sat, rho*_l, rho*_v) at T*.

    With theta = 1 - T*/T*c and the paper's critical point (1.32, 0.31, 0.13006)
    (Thol et al. 2016, Eqs. 44-46):

    .. math::

        \ln\frac{p_\sigma}{p_c} = \frac{T_c}{T}\sum_i n_i\theta^{t_i}, \qquad
        \frac{\rho'}{\rho_c} = 1 + \sum_i n_i\theta^{t_i}, \qquad
        \ln\frac{\rho''}{\rho_c} = \sum_i n_i\theta^{t_i}.

    They follow the EOS's own saturation curve to about 0.2 % (0.7 <= T* <= 1.3):
    starts for the coexistence solve, never the answer.

    Parameters
    ----------
    T_star
        Reduced temperature(s) k_B T / epsilon.

    Returns
    -------
    tuple of jax.Array
        Vapour pressure p*, saturated liquid and vapour densities rho* (NaN at or
        above T*c = 1.32).
    """
    t_c, rho_c, p_c = THOL2016_CRITICAL
    pr, rl, rv = ancillary_reduced(jnp.asarray(T_star) / t_c)
    return pr * p_c, rl * rho_c, rv * rho_c


#: The Thol et al. (2016) LJ EOS as a :class:`ReducedEOS` (no shape parameters).
LJ_THOL2016 = ReducedEOS(
    name="lj_thol2016",
    alphar=_lj_alphar,
    shape=(),
    critical_estimate=_critical_estimate,
    validity=Validity(
        T_star=tuple(float(x) for x in _DATA["validity"]["T_star"]),
        # the corner of the validity box (T/Tc = 7, p/pc = 500: rho* = 1.077); at lower T the
        # melting line bounds the fluid at lower densities
        rho_star_max=1.08,
        shape={},
    ),
    reference=f"{_DATA['reference']}, doi:{_DATA['doi']}",
)
