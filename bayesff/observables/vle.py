r"""Vapour-liquid equilibrium and single-phase properties from equations of state of model fluids.

Registered observables (reporting units; the density columns count molecules):

==============================  =================  ==========================  ==========
observable                      env                value column                unit
==============================  =================  ==========================  ==========
``saturated_liquid_density``    T_K                rho_l_mol_per_L             mol/L
``saturated_vapour_density``    T_K                rho_v_mol_per_L             mol/L
``vapour_pressure``             T_K                p_sat_MPa                   MPa
``enthalpy_of_vaporisation``    T_K                dH_vap_kJ_per_mol           kJ/mol
``eos_pressure``                T_K, rho_per_A3    p_MPa                       MPa
``eos_residual_energy``         T_K, rho_per_A3    E_res_kJ_per_mol            kJ/mol
``compressed_liquid_density``   T_K, p_MPa         rho_mol_per_L               mol/L
==============================  =================  ==========================  ==========

(uncertainty columns: ``u_`` + the value column). The single-phase pair uses
the columns of ``liquid_pressure``/``liquid_energy``, so the atlas's liquid
data files serve both.

Each potential with an equation of state has one entry in
:data:`FLUID_EOS` (:func:`register_fluid_eos`): the
:class:`~bayesff.observables.eos.ReducedEOS` and the exact map from the
potential's parameters (internal units: epsilon kJ/mol, sigma angstrom) to the
EOS's energy and length scales and shape parameters; the reduced state is then

.. math::

    T^* = \frac{R T}{\epsilon}, \qquad \rho^* = \rho \sigma^3, \qquad
    p = \frac{p^* \epsilon}{\sigma^3}, \qquad \Delta H = \Delta h^* \epsilon,

so every gradient in the force-field parameters is exact. An observable used
with a potential that has no entry, or with a cut-off convention (the EOS
describe the full potential), is a :class:`~bayesff.errors.ProblemError` when
the problem is built.

Where the phase-equilibrium solve fails (above the model's critical
temperature, below the EOS's validity, not converged) the prediction is NaN,
which the model turns into a rejected proposal; :func:`vle_predictions`
returns the status codes for counting
(:class:`~bayesff.observables.eos.thermo.SolveStatus`).

Each observable carries its EOS's validated error as a forward-model floor
(``Observable.error_floor``; :class:`EOSErrorFloor`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import ProblemError
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.eos import ReducedEOS
from bayesff.observables.eos.coexistence import (
    enthalpy_of_vaporisation,
    liquid_density,
    solve_coexistence,
)
from bayesff.observables.eos.lj import LJ_THOL2016
from bayesff.observables.eos.thermo import critical_point, pressure, residual_energy
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA, factor

__all__ = [
    "COMPRESSED_LIQUID_DENSITY",
    "ENTHALPY_OF_VAPORISATION",
    "EOS_PRESSURE",
    "EOS_RESIDUAL_ENERGY",
    "FLUID_EOS",
    "SATURATED_LIQUID_DENSITY",
    "SATURATED_VAPOUR_DENSITY",
    "VAPOUR_PRESSURE",
    "EOSErrorFloor",
    "FluidEOS",
    "VLEPrediction",
    "constant_critical_point",
    "fluid_eos_of",
    "register_fluid_eos",
    "vle_predictions",
]

#: 1 mol/L in the internal number density (1/angstrom^3).
_MOL_PER_L = factor("mol/L", "number_density")


# ----------------------------------------------------------------------------- error floors


@dataclass(frozen=True)
class EOSErrorFloor:
    """An EOS's validated error, per property and region, as forward-model floors.

    Parameters
    ----------
    T_r_edges
        Upper edges of the coexistence regions in T / Tc (Tc: the model's own
        critical temperature); the last region runs to Tc.
    vle_rel
        Relative error per coexistence property (``"rho_l"``, ``"rho_v"``,
        ``"p_sat"``, ``"dH_vap"``), one value per region (len(T_r_edges) + 1).
    single_phase
        Per single-phase region (``"vapour"``: T < Tc, rho < rho_c; ``"liquid"``:
        T < Tc, rho >= rho_c; ``"supercritical"``: T >= Tc) the absolute errors
        (dp*, du*) in reduced units and the relative density error of the
        compressed liquid at given (T, p).
    source
        Where the numbers come from.
    """

    T_r_edges: tuple[float, ...]
    vle_rel: dict[str, tuple[float, ...]]
    single_phase: dict[str, tuple[float, float, float]]
    source: str

    def vle(self, prop: str, T_r) -> np.ndarray:
        """Relative floor of a coexistence property at reduced temperatures T/Tc."""
        idx = np.searchsorted(np.asarray(self.T_r_edges), np.asarray(T_r, float), side="right")
        return np.asarray(self.vle_rel[prop])[idx]

    def single(self, T_r, rho_r) -> np.ndarray:
        """(n, 3) single-phase floors (dp*, du*, drho/rho) at T/Tc, rho/rho_c."""
        t, r = np.broadcast_arrays(np.asarray(T_r, float), np.asarray(rho_r, float))
        region = np.where(t >= 1.0, "supercritical", np.where(r >= 1.0, "liquid", "vapour"))
        return np.array([self.single_phase[str(g)] for g in region.ravel()]).reshape((*t.shape, 3))


#: The Thol et al. (2016) LJ EOS's error floor. NOT the paper's own statement of its
#: deviations from simulation data (we could not read the paper here; where its
#: per-property figures are larger, they should replace these). Per T/Tc region, the
#: largest relative difference of each coexistence property (a) between the Thol and the
#: Kolafa-Nezbeda (1994) LJ EOS (doi:10.1016/0378-3812(94)80001-4), an independent fit to
#: simulation data, over T* = 0.661 ... 0.99 Tc, and (b) between the Thol EOS and
#: correlations of simulation data over 0.7 <= T* <= 1.3: the vapour pressure of Lotfi,
#: Vrabec and Fischer, Mol. Phys. 76, 1319 (1992), and the saturated densities of Stephan,
#: Thol, Vrabec and Hasse, J. Chem. Inf. Model. 59, 4248 (2019). Single phase: the largest
#: |dp*|, |du*| between the two EOS and the relative density difference of the dense fluid
#: at equal (T, p) (rho* >= 0.5) over T* 0.7-6, rho* 0.005-1, p* <= 65 (two-phase states
#: excluded). All evaluated with teqp 0.23.2, rounded up to two significant figures, by
#: ``python benchmarks/vle_bench.py --floors`` (benchmarks/results/vle_floors.json);
#: tests/observables/test_vle.py checks that the table bounds the recomputed EOS spread.
LJ_THOL2016_FLOOR = EOSErrorFloor(
    T_r_edges=(0.8, 0.9, 0.95),
    vle_rel={
        "rho_l": (0.0021, 0.0037, 0.0035, 0.034),
        "rho_v": (0.011, 0.0079, 0.022, 0.048),
        "p_sat": (0.021, 0.0055, 0.0058, 0.012),
        "dH_vap": (0.0021, 0.0029, 0.0026, 0.13),
    },
    single_phase={
        "vapour": (0.00082, 0.0077, 0.0),
        "liquid": (0.15, 0.012, 0.0035),
        "supercritical": (0.051, 0.03, 0.0011),
    },
    source=(
        "Thol et al. (2016) LJ EOS against the Kolafa-Nezbeda (1994) EOS and correlations of "
        "simulation data (Lotfi et al. 1992; Stephan et al. 2019), teqp 0.23.2 "
        "(benchmarks/vle_bench.py --floors); a proxy for the paper's own deviation figures"
    ),
)


# ----------------------------------------------------------------------------- potential table


@dataclass(frozen=True)
class FluidEOS:
    """The equation of state of a potential's fluid and the map to its reduced variables.

    Parameters
    ----------
    eos
        The reduced Helmholtz-energy model.
    reduce
        ``reduce(params) -> (epsilon_kJ_per_mol, sigma_angstrom, shape)``: the energy
        and length that make T* = R T / epsilon and rho* = rho sigma^3, and the EOS's
        shape parameters as a dict, from the potential's parameters (internal units,
        JAX arrays; exact algebra so that gradients are exact).
    floor
        The EOS's validated error (``None``: no floor).
    """

    eos: ReducedEOS
    reduce: Callable
    floor: EOSErrorFloor | None = None


#: Potential registry name -> its fluid's equation of state.
FLUID_EOS: dict[str, FluidEOS] = {}


def register_fluid_eos(potential_name: str, fluid: FluidEOS) -> FluidEOS:
    """Give a registered potential an equation of state for the VLE observables.

    Examples (the one-line additions for the other model fluids)::

        register_fluid_eos("mie", FluidEOS(SAFT_VR_MIE, lambda p: (
            p["epsilon"], p["sigma"],
            {"segments": 1.0, "lambda_r": p["n"], "lambda_a": p["m"]})))
        register_fluid_eos("two_centre_lj_quadrupole", FluidEOS(TWO_CENTRE_LJQ, lambda p: (
            p["epsilon"], p["sigma"],
            {"L_star": p["L"] / p["sigma"],
             "Q2_star": p["Q"] ** 2 * COULOMB_KJ_PER_MOL_ANGSTROM
                        / (p["epsilon"] * p["sigma"] ** 5)})))
    """
    if potential_name in FLUID_EOS and FLUID_EOS[potential_name] is not fluid:
        raise ValueError(f"potential {potential_name!r} already has an equation of state")
    FLUID_EOS[potential_name] = fluid
    return fluid


register_fluid_eos(
    "lennard_jones",
    FluidEOS(LJ_THOL2016, lambda p: (p["epsilon"], p["sigma"], {}), LJ_THOL2016_FLOOR),
)


def fluid_eos_of(potential, observable: str = "this observable") -> FluidEOS:
    """The :class:`FluidEOS` of a potential, or a ProblemError saying why there is none."""
    if getattr(potential, "unwrapped", None) is not None:
        raise ProblemError(
            f"{observable} predicts from the equation of state of the full "
            f"{potential.unwrapped.name} potential; the potential here carries a cut-off "
            f'convention ({potential.name}): give this target cutoff = {{ scheme = "none" }}'
        )
    if potential.name not in FLUID_EOS:
        raise ProblemError(
            f"{observable} needs an equation of state of the potential's fluid; "
            f"{potential.name!r} has none (potentials with one: {', '.join(sorted(FLUID_EOS))})"
        )
    return FLUID_EOS[potential.name]


# ----------------------------------------------------------------------------- predictions


class VLEPrediction(NamedTuple):
    """Coexistence properties at each temperature, reporting units (NaN where status != OK).

    Attributes
    ----------
    rho_l, rho_v
        Saturated liquid and vapour densities, mol/L (molecules).
    p_sat
        Vapour pressure, MPa.
    dH_vap
        Enthalpy of vaporisation, kJ/mol.
    status
        :class:`~bayesff.observables.eos.thermo.SolveStatus` codes (int32).
    """

    rho_l: jax.Array
    rho_v: jax.Array
    p_sat: jax.Array
    dH_vap: jax.Array
    status: jax.Array


def constant_critical_point(eos: ReducedEOS):
    """The critical point of an EOS without shape parameters, computed once per EOS name.

    Returns concrete numbers (a :class:`~bayesff.observables.eos.thermo.CriticalPoint`)
    when called outside a trace (builders and floors run eagerly), so that a compiled
    sampler for such a model holds no critical-point solve. ``None`` for an EOS with
    shape parameters (its critical point depends on the parameters).
    """
    if eos.shape:
        return None
    fn = _CRITICAL_FNS.get(eos.name)
    if fn is None:
        fn = _CRITICAL_FNS[eos.name] = jax.jit(lambda: critical_point(eos))
    return fn()


#: Compiled critical-point solves of shape-free EOS, by EOS name (see constant_critical_point).
_CRITICAL_FNS: dict[str, Callable] = {}


def vle_predictions(
    fluid: FluidEOS, params: dict, T_K, *, critical=None, max_iter: int = 50
) -> VLEPrediction:
    """All four coexistence properties at temperatures ``T_K`` from one phase-equilibrium solve.

    Parameters
    ----------
    fluid
        The potential's equation of state (:func:`fluid_eos_of`).
    params
        Potential parameters, internal units (epsilon kJ/mol, sigma angstrom).
    T_K
        Temperatures in K, shape (n,).
    critical
        The EOS's critical point when it does not depend on the parameters
        (:func:`constant_critical_point`); ``None``: solved here.
    max_iter
        Newton step limit of the coexistence solve.

    Returns
    -------
    VLEPrediction
        Arrays of shape (n,).
    """
    eps, sig, shape = fluid.reduce(params)
    eos = fluid.eos
    t_star = GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(T_K, dtype=float) / eps
    # only the solver's starts and its above-Tc test use the critical point
    crit = (
        critical if critical is not None else critical_point(eos, **jax.lax.stop_gradient(shape))
    )

    def one(t):
        c = solve_coexistence(eos, t, critical=crit, max_iter=max_iter, **shape)
        return c, enthalpy_of_vaporisation(eos, t, c, **shape)

    coex, dh = jax.vmap(one)(t_star)
    to_mol_per_L = 1.0 / (sig**3 * _MOL_PER_L)
    return VLEPrediction(
        rho_l=coex.rho_l * to_mol_per_L,
        rho_v=coex.rho_v * to_mol_per_L,
        p_sat=coex.p * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA,
        dH_vap=dh * eps,
        status=coex.status,
    )


def _build_vle(prop: str, name: str):
    def build(potential):
        fluid = fluid_eos_of(potential, f"observable {name!r}")
        crit = constant_critical_point(fluid.eos)

        def predict(params, env):
            return getattr(vle_predictions(fluid, params, env["T_K"], critical=crit), prop)

        return predict

    return build


def _build_single(quantity: str, name: str):
    def build(potential):
        fluid = fluid_eos_of(potential, f"observable {name!r}")
        eos = fluid.eos

        def predict(params, env):
            eps, sig, shape = fluid.reduce(params)
            t = GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(env["T_K"], dtype=float) / eps
            rho = jnp.asarray(env["rho_per_A3"], dtype=float) * sig**3
            if quantity == "pressure":
                p = jax.vmap(lambda a, b: pressure(eos, a, b, **shape))(t, rho)
                return p * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA
            return jax.vmap(lambda a, b: residual_energy(eos, a, b, **shape))(t, rho) * eps

        return predict

    return build


def _build_compressed(potential):
    fluid = fluid_eos_of(potential, "observable 'compressed_liquid_density'")
    eos = fluid.eos
    const_crit = constant_critical_point(eos)

    def predict(params, env):
        eps, sig, shape = fluid.reduce(params)
        t = GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(env["T_K"], dtype=float) / eps
        p = jnp.asarray(env["p_MPa"], dtype=float) / KJ_PER_MOL_PER_A3_IN_MPA * sig**3 / eps
        crit = const_crit
        if crit is None:
            crit = critical_point(eos, **jax.lax.stop_gradient(shape))
        sol = jax.vmap(lambda a, b: liquid_density(eos, a, b, critical=crit, **shape))(t, p)
        return sol.rho / (sig**3 * _MOL_PER_L)

    return predict


# ----------------------------------------------------------------------------- floors


def _reduced_centre(potential, params, observable: str):
    """(fluid, epsilon, sigma, Tc*, rho_c*) at the given (prior-centre) parameters, NumPy.

    Called when a problem is built (``Problem._apply_floors``): a potential without an
    equation of state, or with a cut-off convention, is a ProblemError here, before
    anything is traced.
    """
    fluid = fluid_eos_of(potential, f"observable {observable!r}")
    eps, sig, shape = fluid.reduce({k: jnp.asarray(v, float) for k, v in params.items()})
    crit = constant_critical_point(fluid.eos)
    if crit is None:
        crit = critical_point(fluid.eos, **shape)
    return fluid, float(eps), float(sig), float(crit.T_star), float(crit.rho_star)


def _vle_floor(prop: str, observable: str):
    """floor(potential, params, env, values, options): relative EOS error x |value|."""

    def floor(potential, params, env, values, options):
        n = np.shape(values)[0]
        centre = _reduced_centre(potential, params, observable)
        if centre[0].floor is None or not np.isfinite(centre[3]):
            return np.zeros(n)
        fluid, eps, _, t_c, _ = centre
        t_r = GAS_CONSTANT_KJ_PER_MOL_K * np.asarray(env["T_K"], float) / eps / t_c
        return fluid.floor.vle(prop, t_r) * np.abs(np.asarray(values, float))

    return floor


def _single_floor(kind: str, observable: str):
    """Single-phase floors: dp* epsilon / sigma^3, du* epsilon, or drho/rho |rho|."""

    def floor(potential, params, env, values, options):
        n = np.shape(values)[0]
        centre = _reduced_centre(potential, params, observable)
        if centre[0].floor is None or not np.isfinite(centre[3]):
            return np.zeros(n)
        fluid, eps, sig, t_c, rho_c = centre
        t_r = GAS_CONSTANT_KJ_PER_MOL_K * np.asarray(env["T_K"], float) / eps / t_c
        if kind == "density":
            rho_r = np.full(n, np.inf)  # a compressed liquid: the liquid/supercritical floors
            return fluid.floor.single(t_r, rho_r)[:, 2] * np.abs(np.asarray(values, float))
        rho_r = np.asarray(env["rho_per_A3"], float) * sig**3 / rho_c
        f = fluid.floor.single(t_r, rho_r)
        if kind == "pressure":
            return f[:, 0] * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA
        return f[:, 1] * eps

    return floor


# ----------------------------------------------------------------------------- registration

_T = EnvField("T_K", "temperature", "temperature")
_RHO = EnvField("rho_per_A3", "number_density", "number density")
_P = EnvField("p_MPa", "pressure", "pressure")
_REF = (
    "equations of state of model fluids (bayesff.observables.eos: LJ: M. Thol et al., J. Phys. "
    "Chem. Ref. Data 45, 023101 (2016), doi:10.1063/1.4945000); coexistence by Newton's method "
    "with implicit differentiation (bayesff.observables.eos.coexistence)"
)
_KINDS = ("pair", "linear")


def _register(name, env, column, dimension, unit, build, description, floor):
    return register_observable(
        Observable(
            name=name,
            env=env,
            value_column=column,
            uncertainty_column=f"u_{column}",
            dimension=dimension,
            unit=unit,
            build=build,
            potential_kind=_KINDS,
            description=description,
            reference=_REF,
            options=None,
            error_floor=floor,
        )
    )


SATURATED_LIQUID_DENSITY = _register(
    "saturated_liquid_density",
    (_T,),
    "rho_l_mol_per_L",
    "number_density",
    "mol/L",
    _build_vle("rho_l", "saturated_liquid_density"),
    "saturated liquid density (molecules) from the potential's EOS; NaN at or above its Tc",
    _vle_floor("rho_l", "saturated_liquid_density"),
)
SATURATED_VAPOUR_DENSITY = _register(
    "saturated_vapour_density",
    (_T,),
    "rho_v_mol_per_L",
    "number_density",
    "mol/L",
    _build_vle("rho_v", "saturated_vapour_density"),
    "saturated vapour density (molecules) from the potential's EOS; NaN at or above its Tc",
    _vle_floor("rho_v", "saturated_vapour_density"),
)
VAPOUR_PRESSURE = _register(
    "vapour_pressure",
    (_T,),
    "p_sat_MPa",
    "pressure",
    "MPa",
    _build_vle("p_sat", "vapour_pressure"),
    "vapour pressure from the potential's EOS; NaN at or above its Tc",
    _vle_floor("p_sat", "vapour_pressure"),
)
ENTHALPY_OF_VAPORISATION = _register(
    "enthalpy_of_vaporisation",
    (_T,),
    "dH_vap_kJ_per_mol",
    "energy",
    "kJ/mol",
    _build_vle("dH_vap", "enthalpy_of_vaporisation"),
    "enthalpy of vaporisation du_res + p (1/rho_v - 1/rho_l) from the potential's EOS",
    _vle_floor("dH_vap", "enthalpy_of_vaporisation"),
)
EOS_PRESSURE = _register(
    "eos_pressure",
    (_T, _RHO),
    "p_MPa",
    "pressure",
    "MPa",
    _build_single("pressure", "eos_pressure"),
    "pressure at (T, rho) from the potential's EOS (same columns as liquid_pressure)",
    _single_floor("pressure", "eos_pressure"),
)
EOS_RESIDUAL_ENERGY = _register(
    "eos_residual_energy",
    (_T, _RHO),
    "E_res_kJ_per_mol",
    "energy",
    "kJ/mol",
    _build_single("energy", "eos_residual_energy"),
    "residual internal energy per molecule at (T, rho) from the potential's EOS "
    "(same columns as liquid_energy)",
    _single_floor("energy", "eos_residual_energy"),
)
COMPRESSED_LIQUID_DENSITY = _register(
    "compressed_liquid_density",
    (_T, _P),
    "rho_mol_per_L",
    "number_density",
    "mol/L",
    _build_compressed,
    "density (molecules) of the compressed liquid (or dense supercritical fluid) at (T, p) "
    "from the potential's EOS",
    _single_floor("density", "compressed_liquid_density"),
)
