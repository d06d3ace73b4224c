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
``liquid_pressure``      T_K, rho_per_A3                     p_MPa (MPa), virial route
``liquid_energy``        T_K, rho_per_A3                     E_res_kJ_per_mol (kJ/mol)
``structure_factor_zero`` T_K, rho_per_A3                    S0 (1), compressibility
``liquid_compressibility`` T_K, rho_per_A3                   kappa_T_per_MPa (1/MPa)
``liquid_density``       T_K, p_MPa                          rho_per_A3 (1/angstrom^3)
=======================  ==================================  =======================

Thermodynamics from the OZ solution
-----------------------------------
``liquid_pressure``, ``liquid_energy``, ``structure_factor_zero`` and
``liquid_compressibility`` are the solver's own routes (``docs/liquid.md``):
virial pressure, excess energy per particle, and S(0) = 1 / (1 - rho c(0)) with
kappa_T = S(0) / (rho k_B T). They inherit the closure's error: for VM on LJ
liquids up to 0.3 in p* (about 10 MPa for argon at 85 K), 0.5-1.8 % in u* and
10-50 % in S(0) (docs/liquid.md, Thol EOS comparison). ``liquid_density`` is
the density at which the virial pressure equals the given p at the given T, by
secant iteration from a corresponding-states guess (prediction only; see
:func:`liquid_density`); because dp/drho of a dense liquid is large
(~1/(rho kappa_T), about 25 MPa per percent of density at 90 K), a pressure
error of 10 MPa becomes a density error of a few tenths of a percent, which is
what a held-out saturated-liquid density shows.

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

from bayesff.errors import ProblemError
from bayesff.observables import liquid
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.eos.lj import LJ_THOL2016, THOL2016_CRITICAL
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as GAS_CONSTANT
from bayesff.units import KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "COORDINATION_NUMBER",
    "FIRST_PEAK_HEIGHT",
    "FIRST_PEAK_POSITION",
    "LIQUID_COMPRESSIBILITY",
    "LIQUID_DENSITY",
    "LIQUID_ENERGY",
    "LIQUID_PRESSURE",
    "Q_DIMENSION",
    "RADIAL_DISTRIBUTION",
    "STRUCTURE_FACTOR",
    "STRUCTURE_FACTOR_ZERO",
    "coordination_number",
    "first_peak",
    "liquid_density",
    "one_sided_g",
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
_DEFAULTS = {"closure": "vm", "n": 2048, "dr": None, "max_iter": 1000, "tol": 1e-10, "ramp": 4}
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
        tol=opts["tol"],
        ramp=opts["ramp"],
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


def first_peak(r, g, limits=None):
    """Position and height of the first (highest) peak of g(r), parabola-refined.

    ``limits``: g's limits from below and from above at each node (:func:`one_sided_g`)
    for a potential with discontinuities. A peak at a jump of g (the contact value of a
    hard core or a square well) is then that node and its larger limit, not a parabola
    through the jump: through the solver's mean value at the node, the parabola put
    the hard-sphere contact peak 1.5 dr out and 1-6 % high (audit, 2026-11-30).
    """
    if limits is None:
        return parabolic_extremum(r, g, jnp.argmax(g))
    below, above = limits
    top = jnp.maximum(below, above)
    return _extremum_of_branch(r, below, above, top, jnp.argmax(top))


def _extremum_of_branch(r, below, above, value, i):
    """The extremum at grid node ``i`` of a g given by its one-sided limits: the node and
    ``value`` there if g jumps at it, else the parabola through the branch of g that
    holds the node (the limit from above at node i - 1, from below at i + 1)."""
    i = jnp.clip(i, 1, r.shape[0] - 2)
    jump = jnp.abs(above - below) > JUMP_TOLERANCE * jnp.abs(value)
    branch = below.at[i - 1].set(above[i - 1])
    x_v, y_v = parabolic_extremum(r, branch, i)
    return jnp.where(jump[i], r[i], x_v), jnp.where(jump[i], value[i], y_v)


def _first_minimum(r, g, r_peak, limits=None):
    lo, hi = FIRST_MIN_WINDOW
    window = (r > lo * r_peak) & (r < hi * r_peak)
    if limits is None:
        return parabolic_extremum(r, g, jnp.argmin(jnp.where(window, g, jnp.inf)))
    below, above = limits
    bottom = jnp.minimum(below, above)
    return _extremum_of_branch(
        r, below, above, bottom, jnp.argmin(jnp.where(window, bottom, jnp.inf))
    )


def coordination_number(r, g, rho, limits=None):
    r"""n = 4 pi rho \int_0^{r_min} r^2 g(r) dr, r_min the first minimum of g after its peak.

    ``limits`` as for :func:`first_peak` (the peak and minimum at a jump of g are found
    from g's one-sided limits; the integral uses ``g``, whose value at a jump is the
    mean of its limits, the rectangle rule's value there).

    Returns
    -------
    (n, r_min)
    """
    r_peak, _ = first_peak(r, g, limits)
    r_min, _ = _first_minimum(r, g, r_peak, limits)
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


#: Relative difference of exp(-beta u)'s one-sided limits at a node above which u jumps
#: there (a hard core, a square well's edge, a truncation); a kink (a shifted cut-off) or
#: a smooth u gives limits 1e-7 dr apart that differ by far less.
JUMP_TOLERANCE = 1e-3


def _discontinuous(potential, params) -> bool:
    """Whether u has breakpoints (a static property of the potential, not traced)."""
    return bool(tuple(potential.breakpoints(**params)))


def one_sided_g(potential, params, T_K, sol):
    """g's limits from below and from above at each node of a solution's grid.

    At a node where u jumps the solver's g is the mean of the two limits (it takes
    exp(-beta u) as the mean there); the cavity function y = g exp(beta u) is
    continuous, so the limits are y times the one-sided Boltzmann factors. Elsewhere both
    are g itself (no division: in a steep core exp(-beta u) underflows, and dividing by
    it made every gradient NaN). ``None`` for a potential without breakpoints. A jump
    that falls between nodes (a ``dr`` that does not put it on one) is not seen.
    """
    if not _discontinuous(potential, params):
        return None
    below, above = liquid.boltzmann_limits(potential, params, sol.r, T_K, sol.r[1] - sol.r[0])
    mean = 0.5 * (below + above)  # > 0 wherever the limits differ
    jump = jax.lax.stop_gradient(jnp.abs(above - below) > JUMP_TOLERANCE * mean)
    y = sol.g / jnp.where(jump, mean, 1.0)
    return jnp.where(jump, y * below, sol.g), jnp.where(jump, y * above, sol.g)


def _interp_one_sided(r, grid, below, above):
    """g at radii ``r`` by linear interpolation within each grid cell between the limit from
    above at its left node and the limit from below at its right node: across a node where
    u jumps, the branch of g on the cell's side of it (plain linear interpolation where g
    is continuous)."""
    dr = grid[1] - grid[0]
    i = jnp.clip(jnp.searchsorted(grid, r, side="right") - 1, 0, grid.shape[0] - 2)
    t = jnp.clip((r - grid[i]) / dr, 0.0, 1.0)
    return (1.0 - t) * above[i] + t * below[i + 1]


def _build_gr(potential, **options):
    opts = {**_DEFAULTS, **options}

    def predict(params, env):
        T, rho, same = _one_state(env)
        sol = _solve(potential, params, T, rho, opts)
        r = jnp.asarray(env["r_angstrom"], dtype=float)
        limits = one_sided_g(potential, params, T, sol)
        if limits is not None:
            # across a jump of u, interpolating g itself went through the node's mean value
            # (25-50 % low in the first cell beyond a hard core)
            g = _interp_one_sided(r, sol.r, *limits)
        else:
            g = jnp.interp(r, sol.r, sol.g)
        ok = same & (sol.status == liquid.CONVERGED) & (r <= sol.r[-1])
        return jnp.where(ok, g, jnp.nan)

    return predict


def _peak_builder(feature):
    def build(potential, **options):
        opts = {**_DEFAULTS, **options}

        def one(params, T, rho):
            sol = _solve(potential, params, T, rho, opts)
            val = feature(sol, rho, one_sided_g(potential, params, T, sol))
            return jnp.where(sol.status == liquid.CONVERGED, val, jnp.nan)

        def predict(params, env):
            T, rho = jnp.broadcast_arrays(
                jnp.asarray(env["T_K"], dtype=float), jnp.asarray(env["rho_per_A3"], dtype=float)
            )
            if T.size == 1:
                # one state: solve it unbatched, the same computation as the curve
                # observables at that state, so that XLA shares one forward solve
                # between the targets of a model (common-subexpression elimination)
                return one(params, T.ravel()[0], rho.ravel()[0]).reshape(T.shape)
            if jax.default_backend() == "cpu":
                # one state after another, each vectorised over whatever is batched
                # outside (draws, chains): a vectorised while loop runs every member
                # as long as its slowest one, so with the states vectorised too, one
                # state near the closure's spinodal (hundreds of iterations) set the
                # cost of all of them; on a CPU the states gain nothing from running
                # side by side (on an accelerator they do, and stay vectorised)
                out = jax.lax.map(lambda td: one(params, *td), (T.ravel(), rho.ravel()))
            else:
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
_OPTS = (
    "options: closure (default 'vm'), n (2048), dr (sigma/100), max_iter (1000), tol (1e-10), "
    "ramp (4)"
)


def _closure_floor(quantity: str):
    """The validated closure error of a thermodynamic observable, as a per-row floor.

    ``floor(potential, params, env, values, options) -> (n,)`` in the observable's
    unit, from :func:`bayesff.observables.liquid.closure_error_floor` (errors
    against the Thol et al. 2016 LJ EOS by state region) with the potential's
    ``epsilon`` (kJ/mol) and ``sigma`` (angstrom) for the reduced state and the
    conversion: dp = dp* epsilon / sigma^3, du = du* epsilon, dkappa = rel |kappa|.
    Potentials without epsilon and sigma get no floor (zeros).
    """

    def floor(potential, params, env, values, options):
        n = np.shape(values)[0]
        if "epsilon" not in params or "sigma" not in params:
            return np.zeros(n)
        eps, sig = float(params["epsilon"]), float(params["sigma"])
        t_star = GAS_CONSTANT * np.asarray(env["T_K"], float) / eps
        rho_star = np.asarray(env["rho_per_A3"], float) * sig**3
        f = liquid.closure_error_floor(
            options.get("closure", _DEFAULTS["closure"]), t_star, rho_star
        )
        if quantity == "pressure":
            return np.asarray(f.dp_star) * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA
        if quantity == "energy":
            return np.asarray(f.du_star) * eps
        return np.asarray(f.dkappa_rel) * np.abs(np.asarray(values, float))

    return floor


#: The Lennard-Jones triple point that Thol et al. (2016) take as their EOS's lower limit,
#: T* = 0.661. Below it the stable phase is the solid, no reference exists for the liquid,
#: and the closure's error is unknown: VM at T* = 0.5, rho* = 0.9 gives p* = -1.09 where
#: the Thol EOS extrapolates to -0.55, and at T* = 0.6 0.10 against 0.30, where the liquid
#: floor of :func:`~bayesff.observables.liquid.closure_error_floor` is 0.072.
LJ_TRIPLE_POINT_T_STAR = LJ_THOL2016.validity.T_star[0]
#: A liquid-side LJ row is refused when its T* at the prior centre lies below the triple
#: point by this factor (T* 0.601): it is then below the triple point even for an epsilon
#: 10 % shallower than the centre's, while argon's 85 K liquid (T* 0.708 at 120 K) builds
#: for centres up to 141 K. Cut-off LJ, whose triple point lies lower (about 0.62 for the
#: truncated and shifted potential at 2.5 sigma), is held to the same line.
SUPERCOOLED_MARGIN = 1.1


def _refuse_supercooled_lj(name, potential, params, env) -> None:
    """A ProblemError naming the coldest row of a Lennard-Jones target (cut off or not)
    that lies, at the prior centre, below :data:`LJ_TRIPLE_POINT_T_STAR` /
    :data:`SUPERCOOLED_MARGIN` at a liquid-side density (rho* >= the Thol EOS's critical
    density 0.31); a dilute gas there is kept."""
    if (getattr(potential, "unwrapped", None) or potential).name != "lennard_jones":
        return
    eps, sig = float(params["epsilon"]), float(params["sigma"])
    T_K = np.asarray(env["T_K"], float)
    t_star = GAS_CONSTANT * T_K / eps
    rho_star = np.asarray(env["rho_per_A3"], float) * sig**3
    lowest = LJ_TRIPLE_POINT_T_STAR / SUPERCOOLED_MARGIN
    bad = (t_star < lowest) & (rho_star >= THOL2016_CRITICAL[1])
    if np.any(bad):
        rows = np.flatnonzero(bad)
        i = int(rows[np.argmin(T_K[rows])])  # the row the advised epsilon is set by
        more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
        raise ProblemError(
            f"observable {name!r}, the row at T_K = {T_K[i]:g}, rho_per_A3 = "
            f"{float(np.asarray(env['rho_per_A3'])[i]):g}{more}: at the prior centre "
            f"(epsilon/k_B = {eps / GAS_CONSTANT:.6g} K, sigma = {sig:.6g} angstrom) it is "
            f"T* = {t_star[i]:.4g}, rho* = {rho_star[i]:.4g}: a liquid below the "
            f"Lennard-Jones triple point T* = {LJ_TRIPLE_POINT_T_STAR:g} (refused below "
            f"{lowest:.3g}), where no reference exists and the closure's error is not known "
            f"(validated for T* >= 0.72 against the Thol et al. 2016 EOS); leave out the rows "
            f"or centre epsilon below {T_K[rows].min() / lowest:.5g} K"
        )


def _checked_floor(name, floor):
    """The observable's error floor (zeros without one), after the build-time check of
    its rows (:func:`_refuse_supercooled_lj`)."""

    def checked(potential, params, env, values, options):
        if "epsilon" in params and "sigma" in params:
            _refuse_supercooled_lj(name, potential, params, env)
        if floor is None:
            return np.zeros(np.shape(values)[0])
        return floor(potential, params, env, values, options)

    return checked


def _oz_observable(
    name, env, value_column, dimension, unit, build, description, *, curve=False, floor=None
):
    """Register an observable of the OZ solution (uncertainty column ``u_<value_column>``)."""
    return register_observable(
        Observable(
            name=name,
            env=env,
            value_column=value_column,
            uncertainty_column=f"u_{value_column}",
            dimension=dimension,
            unit=unit,
            build=build,
            potential_kind="pair",
            description=f"{description}; {_OPTS}",
            reference=_REF,
            options=_OPTION_NAMES,
            curve=curve,
            error_floor=_checked_floor(name, floor),
        )
    )


STRUCTURE_FACTOR = _oz_observable(
    "structure_factor",
    (_T, _RHO, _Q),
    "S_q",
    "dimensionless",
    "1",
    _build_sq,
    "static structure factor S(q) at one state from the OZ equation",
    curve=True,
)
RADIAL_DISTRIBUTION = _oz_observable(
    "radial_distribution",
    (_T, _RHO, _R),
    "g_r",
    "dimensionless",
    "1",
    _build_gr,
    "radial distribution function g(r) at one state from the OZ equation",
    curve=True,
)
FIRST_PEAK_POSITION = _oz_observable(
    "first_peak_position",
    (_T, _RHO),
    "r_peak_angstrom",
    "length",
    "angstrom",
    _peak_builder(lambda sol, rho, limits: first_peak(sol.r, sol.g, limits)[0]),
    "position of the first peak of g(r) (parabola through the grid maximum)",
)
FIRST_PEAK_HEIGHT = _oz_observable(
    "first_peak_height",
    (_T, _RHO),
    "g_peak",
    "dimensionless",
    "1",
    _peak_builder(lambda sol, rho, limits: first_peak(sol.r, sol.g, limits)[1]),
    "height of the first peak of g(r) (parabola through the grid maximum)",
)
COORDINATION_NUMBER = _oz_observable(
    "coordination_number",
    (_T, _RHO),
    "n_coord",
    "dimensionless",
    "1",
    _peak_builder(lambda sol, rho, limits: coordination_number(sol.r, sol.g, rho, limits)[0]),
    "4 pi rho integral r^2 g(r) dr up to the first minimum of g(r)",
)


# ------------------------------------------------------------------- thermodynamics


def _thermo_builder(field):
    """Builder of a one-number-per-state observable that reads a solution field."""
    return _peak_builder(lambda sol, rho, limits: getattr(sol, field))


LIQUID_PRESSURE = _oz_observable(
    "liquid_pressure",
    (_T, _RHO),
    "p_MPa",
    "pressure",
    "MPa",
    _thermo_builder("pressure_MPa"),
    "pressure of the fluid by the virial route of the OZ solution (VM's "
    "error up to 0.3 in p*, ~10 MPa for liquid argon: docs/liquid.md)",
    floor=_closure_floor("pressure"),
)
LIQUID_ENERGY = _oz_observable(
    "liquid_energy",
    (_T, _RHO),
    "E_res_kJ_per_mol",
    "energy",
    "kJ/mol",
    _thermo_builder("energy_kJ_per_mol"),
    "excess (residual) internal energy per particle, 2 pi rho int u g r^2 dr",
    floor=_closure_floor("energy"),
)
STRUCTURE_FACTOR_ZERO = _oz_observable(
    "structure_factor_zero",
    (_T, _RHO),
    "S0",
    "dimensionless",
    "1",
    _thermo_builder("S0"),
    "S(0) = 1 / (1 - rho c_hat(0)) = rho k_B T kappa_T (compressibility route, tails included)",
    floor=_closure_floor("kappa"),
)
LIQUID_COMPRESSIBILITY = _oz_observable(
    "liquid_compressibility",
    (_T, _RHO),
    "kappa_T_per_MPa",
    "inverse_pressure",
    "1/MPa",
    _thermo_builder("kappa_T_per_MPa"),
    "isothermal compressibility S(0) / (rho k_B T) (compressibility route)",
    floor=_closure_floor("kappa"),
)

# ------------------------------------------------------------------------ liquid density

#: Corresponding-states start of :func:`liquid_density`: LJ critical point
#: (T* = 1.31, rho* = 0.316; e.g. Potoff and Panagiotopoulos, J. Chem. Phys. 109,
#: 10914 (1998), doi:10.1063/1.477787) and Guggenheim's saturated-liquid rule
#: rho_l / rho_c = 1 + 3/4 (1 - T/Tc) + 7/4 (1 - T/Tc)^(1/3) (J. Chem. Phys. 13, 253
#: (1945), doi:10.1063/1.1724033). Only a starting point: the secant iteration
#: converges to the closure's own density.
_TC_STAR, _RHOC_STAR = 1.31, 0.316
#: Largest relative change of the density in one iteration step.
_MAX_STEP = 0.1
#: Relative size of the last step below which the density counts as converged.
_DENSITY_TOL = 1e-6


def _well(potential, params):
    """(well depth in kJ/mol, length scale in angstrom) of a pair potential."""
    ls = potential.length_scale(**params)
    r = ls * jnp.linspace(0.85, 2.5, 331)
    u = jax.vmap(lambda x: potential.energy(x, **params))(r)
    return -jnp.min(u), ls


def liquid_density(
    potential,
    params: dict,
    T_K,
    p_MPa,
    *,
    closure: str = "vm",
    n: int = 2048,
    dr=None,
    max_iter: int = 1000,
    steps: int = 8,
    tol: float = 1e-10,
    ramp: int = 4,
):
    r"""Liquid density at which the OZ virial pressure equals ``p_MPa`` at ``T_K``.

    Start: Guggenheim's saturated-liquid density at the LJ critical point scaled
    by the potential's well depth and length scale (``T* = R T / well``, capped at
    0.97 T*_c). Step 1 is a Newton step with the compressibility-route slope
    dp/drho = 1 / (rho kappa_T) of the same solve; steps 2 .. ``steps`` are secant
    steps on the virial pressure (each a solve warm-started from the last), each
    limited to 10 % of rho. For a subcritical liquid this converges in 4-6 steps.

    It finds the liquid branch of the closure's isotherm, so a closure with a
    pressure error delta_p gives a density error of about rho kappa_T delta_p
    (docs/joint.md: for VM on argon, a few tenths of a percent).

    Prediction only: jit- and vmap-compatible, but derivatives through the
    fixed number of iterations are not meant for calibration.

    Parameters
    ----------
    potential, params
        A pair potential and its parameters (internal units).
    T_K
        Temperature, K (scalar).
    p_MPa
        Pressure, MPa (scalar), e.g. the vapour pressure for a saturated liquid.
    closure, n, dr, max_iter, tol, ramp
        As in :func:`bayesff.observables.liquid.solve`.
    steps
        Solves in all (>= 2).

    Returns
    -------
    jax.Array
        Number density, 1/angstrom^3; NaN if a solve failed (e.g. the
        iteration left the liquid branch) or the last step was larger than
        1e-6 relative.
    """
    if not (isinstance(steps, int) and steps >= 2):
        raise ValueError(f"liquid_density: steps must be an int >= 2, got {steps!r}")
    T = jnp.asarray(T_K, dtype=float)
    p = jnp.asarray(p_MPa, dtype=float)
    well, ls = _well(potential, params)
    t_red = jnp.clip(GAS_CONSTANT * T / well / _TC_STAR, 0.2, 0.97)
    rho_star = _RHOC_STAR * (1.0 + 0.75 * (1.0 - t_red) + 1.75 * (1.0 - t_red) ** (1.0 / 3.0))
    rho0 = rho_star / ls**3

    def solve(rho, gamma0=None):
        return liquid.solve(
            potential,
            params,
            T,
            rho,
            closure=closure,
            n=n,
            dr=dr,
            max_iter=max_iter,
            tol=tol,
            ramp=ramp,
            gamma0=gamma0,
        )

    def clip_step(rho, new):
        return jnp.clip(new, rho * (1.0 - _MAX_STEP), rho * (1.0 + _MAX_STEP))

    sol0 = solve(rho0)
    p0 = sol0.pressure_MPa
    rho1 = clip_step(rho0, rho0 - (p0 - p) * rho0 * sol0.kappa_T_per_MPa)

    def body(carry, _):
        rho_prev, p_prev, rho, gamma, _ = carry
        sol = solve(rho, gamma)
        pk = sol.pressure_MPa
        dp = pk - p_prev
        safe = jnp.where(dp != 0.0, dp, 1.0)
        step = jnp.where(dp != 0.0, -(pk - p) * (rho - rho_prev) / safe, 0.0)
        new = clip_step(rho, rho + step)
        return (rho, pk, new, sol.gamma, jnp.abs(new - rho) / rho), None

    init = (rho0, p0, rho1, sol0.gamma, jnp.asarray(1.0))
    (_, _, rho, _, last), _ = jax.lax.scan(body, init, None, length=steps - 1)
    ok = jnp.isfinite(p0) & jnp.isfinite(rho) & (last <= _DENSITY_TOL)
    return jnp.where(ok, rho, jnp.nan)


def _build_density(potential, **options):
    opts = {**_DEFAULTS, "steps": 8, **options}
    kw = {k: opts[k] for k in ("closure", "n", "dr", "max_iter", "tol", "ramp", "steps")}

    def predict(params, env):
        T, p = jnp.broadcast_arrays(
            jnp.asarray(env["T_K"], dtype=float), jnp.asarray(env["p_MPa"], dtype=float)
        )
        out = jax.vmap(lambda t, q: liquid_density(potential, params, t, q, **kw))(
            T.ravel(), p.ravel()
        )
        return out.reshape(T.shape)

    return predict


LIQUID_DENSITY = register_observable(
    Observable(
        name="liquid_density",
        env=(_T, EnvField("p_MPa", "pressure", "pressure")),
        value_column="rho_per_A3",
        uncertainty_column="u_rho_per_A3",
        dimension="number_density",
        unit="1/angstrom^3",
        build=_build_density,
        potential_kind="pair",
        description="liquid density at which the OZ virial pressure equals p at T (secant "
        "iteration from a corresponding-states guess; prediction only, e.g. the saturated "
        f"liquid at p = p_sat); {_OPTS}, steps (8)",
        reference=_REF,
        options=(*_OPTION_NAMES, "steps"),
    )
)
