r"""Liquid structure observables from the Ornstein-Zernike solver.

Forward models built on :func:`bayesff.observables.liquid.solve` (see
``docs/liquid.md`` for the solver and ``docs/structure.md`` for these
observables and the measured data they are meant for):

=======================  ==================================  =======================
observable               environment                         value (unit)
=======================  ==================================  =======================
``structure_factor``     T_K, rho_per_A3, q_inv_angstrom     S_q (1)
``radial_distribution``  T_K, rho_per_A3, r_angstrom         g_r (1)
``first_peak_position``  T_K, rho_per_A3                     r_peak_angstrom (angstrom)
``first_peak_height``    T_K, rho_per_A3                     g_peak (1)
``coordination_number``  T_K, rho_per_A3                     n_coord (1)
=======================  ==================================  =======================

State handling
--------------
``structure_factor`` and ``radial_distribution`` are curves at one
thermodynamic state: all rows of a target must share T and rho, and the OZ
equation is solved once per call. With concrete (non-traced) environments a
mixed state raises ``ValueError``; under ``jit`` it cannot be checked before
tracing and the predictions are NaN instead. The three peak observables are
one number per state: their rows may be different states and are solved one
by one (``jax.vmap``).

Failures
--------
If the solver does not converge (``status != 0``) every prediction of the
call is NaN, which :mod:`bayesff.model` turns into a rejected proposal.

Differentiability
-----------------
S(q) at the data q is the solver's sine transform of c(r) evaluated at those
q (not an interpolation between its k grid points; see
:func:`structure_factor_at`). Peak position and
height come from a parabola through the grid maximum and its two neighbours,
the first minimum likewise; the coordination number integrates
4 pi rho r^2 g(r) (rectangle rule, as the solver does) up to the interpolated
first minimum. All are differentiable in the parameters wherever the grid
index of the extremum does not change (the discrete argmax carries no
gradient; the parabola does).

Units: T in K, rho in 1/angstrom^3, q in 1/angstrom, r in angstrom.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from bayesff import _jax  # noqa: F401  (float64)
from bayesff.observables import liquid
from bayesff.observables._spec import EnvField, Observable, register_observable

__all__ = [
    "COORDINATION_NUMBER",
    "FIRST_PEAK_HEIGHT",
    "FIRST_PEAK_POSITION",
    "Q_DIMENSION",
    "RADIAL_DISTRIBUTION",
    "STRUCTURE_FACTOR",
    "coordination_number",
    "first_peak",
    "parabolic_extremum",
    "structure_factor_at",
]

# ---------------------------------------------------------------------------------------
# NOTE (unit system): bayesff.units has no inverse-length dimension yet. q is declared
# with the honest dimension "inverse_length" (internal unit 1/angstrom). Until
# bayesff/units.py gains
#     INTERNAL_UNITS["inverse_length"] = "1/angstrom"
#     _FACTORS["inverse_length"] = {"1/angstrom": 1.0, "1/nm": 0.1}
# loading a structure_factor target raises UnitError("unknown dimension
# 'inverse_length'") -- loudly, rather than pretending q is dimensionless.
# ---------------------------------------------------------------------------------------
Q_DIMENSION = "inverse_length"

#: Window for the first minimum of g(r), in units of the first-peak position.
FIRST_MIN_WINDOW = (1.05, 1.75)
_DEFAULTS = {"closure": "vm", "n": 2048, "dr": None, "max_iter": 1000}
#: Options a problem file may set in a structure target's ``options`` table.
_OPTION_NAMES = tuple(_DEFAULTS)


def _concrete(x):
    """``x`` as a NumPy array, or None while it is traced (under jit or grad)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _one_state(env):
    """(T, rho, same) for a target at one state; raises for a concrete mixed state."""
    T = jnp.ravel(jnp.asarray(env["T_K"], dtype=float))
    rho = jnp.ravel(jnp.asarray(env["rho_per_A3"], dtype=float))
    t_np, r_np = _concrete(T), _concrete(rho)
    if t_np is not None and r_np is not None:
        if np.any(t_np != t_np[0]) or np.any(r_np != r_np[0]):
            raise ValueError(
                "structure observables solve one thermodynamic state per target: all rows "
                f"must share T_K and rho_per_A3, found T_K in {sorted(set(t_np.tolist()))} and "
                f"rho_per_A3 in {sorted(set(r_np.tolist()))}; split the data into one target "
                "per state"
            )
    same = jnp.all(T == T[0]) & jnp.all(rho == rho[0])
    return T[0], rho[0], same


def _solve(potential, params, T, rho, opts):
    return liquid.solve(
        potential,
        params,
        T,
        rho,
        closure=opts["closure"],
        n=opts["n"],
        dr=opts["dr"],
        max_iter=opts["max_iter"],
    )


def structure_factor_at(sol: liquid.LiquidSolution, q, rho):
    r"""S(q) at arbitrary q from a solution, by the Fourier integral of c(r) on the grid.

    .. math:: \hat c(q) = 4\pi \sum_i r_i^2 c(r_i) \frac{\sin q r_i}{q r_i} \Delta r,
              \qquad S(q) = \frac{1}{1 - \rho \hat c(q)}

    This is the solver's own sine transform evaluated off its k grid (so it
    equals ``sol.S`` at the grid points), i.e. exact trigonometric
    interpolation rather than a linear one. c(r) beyond the grid (-beta u) is
    left out, so S(q -> 0) differs from the compressibility-route ``sol.S0``
    (tails included) by the tail: 1e-3 relative for LJ at N = 1024
    (grid end 10 sigma), 1e-4 at N = 2048 and 2e-5 at N = 4096.

    Parameters
    ----------
    sol
        A solution of :func:`bayesff.observables.liquid.solve`.
    q
        Wave numbers, 1/angstrom, any shape.
    rho
        The number density of the solve, 1/angstrom^3.

    Returns
    -------
    jax.Array
        S(q), shape of ``q``; NaN where the solve failed or q < 0.
    """
    q = jnp.asarray(q, dtype=float)
    dr = sol.r[1] - sol.r[0]
    qf = q.reshape(-1, 1)
    ck = 4.0 * jnp.pi * dr * jnp.sum(sol.r**2 * sol.c * jnp.sinc(qf * sol.r / jnp.pi), axis=-1)
    s = (1.0 / (1.0 - rho * ck)).reshape(q.shape)
    ok = (sol.status == liquid.CONVERGED) & (q >= 0)
    return jnp.where(ok, s, jnp.nan)


def parabolic_extremum(x, y, i):
    """Vertex of the parabola through (x, y)[i-1:i+2] on a uniform grid.

    Parameters
    ----------
    x, y
        Uniform grid and values.
    i
        Index of the grid extremum (may be traced); clipped to 1..len-2.

    Returns
    -------
    (x_v, y_v)
        Abscissa and value of the vertex (differentiable in ``x`` and ``y``).
    """
    i = jnp.clip(i, 1, x.shape[0] - 2)
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    curv = y0 - 2.0 * y1 + y2
    delta = 0.5 * (y0 - y2) / curv
    dx = x[1] - x[0]
    return x[i] + delta * dx, y1 - 0.25 * (y0 - y2) * delta


def first_peak(r, g):
    """Position and height of the first (highest) peak of g(r), parabola-refined."""
    return parabolic_extremum(r, g, jnp.argmax(g))


def _first_minimum(r, g, r_peak):
    lo, hi = FIRST_MIN_WINDOW
    masked = jnp.where((r > lo * r_peak) & (r < hi * r_peak), g, jnp.inf)
    return parabolic_extremum(r, g, jnp.argmin(masked))


def coordination_number(r, g, rho):
    r"""n = 4 pi rho \int_0^{r_min} r^2 g(r) dr, r_min the first minimum of g after its peak.

    Returns
    -------
    (n, r_min)
    """
    r_peak, _ = first_peak(r, g)
    r_min, _ = _first_minimum(r, g, r_peak)
    dr = r[1] - r[0]
    cum = 4.0 * jnp.pi * rho * dr * jnp.cumsum(r**2 * g)
    # cum[i] covers (0, r_i + dr/2]: interpolate at those cell edges.
    return jnp.interp(r_min, r + 0.5 * dr, cum), r_min


# --------------------------------------------------------------------------------- builders


def _build_sq(potential, **options):
    opts = {**_DEFAULTS, **options}

    def predict(params, env):
        T, rho, same = _one_state(env)
        sol = _solve(potential, params, T, rho, opts)
        s = structure_factor_at(sol, env["q_inv_angstrom"], rho)
        return jnp.where(same, s, jnp.nan)

    return predict


def _build_gr(potential, **options):
    opts = {**_DEFAULTS, **options}

    def predict(params, env):
        T, rho, same = _one_state(env)
        sol = _solve(potential, params, T, rho, opts)
        r = jnp.asarray(env["r_angstrom"], dtype=float)
        g = jnp.interp(r, sol.r, sol.g)
        ok = same & (sol.status == liquid.CONVERGED) & (r <= sol.r[-1])
        return jnp.where(ok, g, jnp.nan)

    return predict


def _peak_builder(feature):
    def build(potential, **options):
        opts = {**_DEFAULTS, **options}

        def one(params, T, rho):
            sol = _solve(potential, params, T, rho, opts)
            val = feature(sol, rho)
            return jnp.where(sol.status == liquid.CONVERGED, val, jnp.nan)

        def predict(params, env):
            T, rho = jnp.broadcast_arrays(
                jnp.asarray(env["T_K"], dtype=float), jnp.asarray(env["rho_per_A3"], dtype=float)
            )
            out = jax.vmap(lambda t, d: one(params, t, d))(T.ravel(), rho.ravel())
            return out.reshape(T.shape)

        return predict

    return build


_T = EnvField("T_K", "temperature", "temperature")
_RHO = EnvField("rho_per_A3", "number_density", "number density")
_Q = EnvField("q_inv_angstrom", Q_DIMENSION, "scattering wave number q (1/angstrom)")
_R = EnvField("r_angstrom", "length", "pair distance r")
_REF = (
    "Ornstein-Zernike equation with a closure (bayesff.observables.liquid; VM: Verlet, "
    "Mol. Phys. 41, 183 (1980)); Hansen & McDonald, Theory of Simple Liquids (2013), ch. 4"
)
_OPTS = "options: closure (default 'vm'), n (2048), dr (sigma/100), max_iter (1000)"

STRUCTURE_FACTOR = register_observable(
    Observable(
        name="structure_factor",
        env=(_T, _RHO, _Q),
        value_column="S_q",
        uncertainty_column="u_S_q",
        dimension="dimensionless",
        unit="1",
        build=_build_sq,
        potential_kind="pair",
        description=f"static structure factor S(q) at one state from the OZ equation; {_OPTS}",
        reference=_REF,
        options=_OPTION_NAMES,
    )
)
RADIAL_DISTRIBUTION = register_observable(
    Observable(
        name="radial_distribution",
        env=(_T, _RHO, _R),
        value_column="g_r",
        uncertainty_column="u_g_r",
        dimension="dimensionless",
        unit="1",
        build=_build_gr,
        potential_kind="pair",
        description=f"radial distribution function g(r) at one state from the OZ equation; "
        f"{_OPTS}",
        reference=_REF,
        options=_OPTION_NAMES,
    )
)
FIRST_PEAK_POSITION = register_observable(
    Observable(
        name="first_peak_position",
        env=(_T, _RHO),
        value_column="r_peak_angstrom",
        uncertainty_column="u_r_peak_angstrom",
        dimension="length",
        unit="angstrom",
        build=_peak_builder(lambda sol, rho: first_peak(sol.r, sol.g)[0]),
        potential_kind="pair",
        description=f"position of the first peak of g(r) (parabola through the grid maximum); "
        f"{_OPTS}",
        reference=_REF,
        options=_OPTION_NAMES,
    )
)
FIRST_PEAK_HEIGHT = register_observable(
    Observable(
        name="first_peak_height",
        env=(_T, _RHO),
        value_column="g_peak",
        uncertainty_column="u_g_peak",
        dimension="dimensionless",
        unit="1",
        build=_peak_builder(lambda sol, rho: first_peak(sol.r, sol.g)[1]),
        potential_kind="pair",
        description=f"height of the first peak of g(r) (parabola through the grid maximum); "
        f"{_OPTS}",
        reference=_REF,
        options=_OPTION_NAMES,
    )
)
COORDINATION_NUMBER = register_observable(
    Observable(
        name="coordination_number",
        env=(_T, _RHO),
        value_column="n_coord",
        uncertainty_column="u_n_coord",
        dimension="dimensionless",
        unit="1",
        build=_peak_builder(lambda sol, rho: coordination_number(sol.r, sol.g, rho)[0]),
        potential_kind="pair",
        description=f"4 pi rho integral r^2 g(r) dr up to the first minimum of g(r); {_OPTS}",
        reference=_REF,
        options=_OPTION_NAMES,
    )
)
