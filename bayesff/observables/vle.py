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
EOS's energy and length scales and shape parameters:

==============================  ===========================  =====================================
potential                       EOS                          shape parameters
==============================  ===========================  =====================================
``lennard_jones``               Thol et al. (2016)           none
``mie``                         SAFT-VR Mie (Lafitte 2013)   segments = 1, lambda_r = n,
                                                             lambda_a = m
``mie_vdw``                     as ``mie``, epsilon =        as ``mie``
                                epsilon_vdw / alpha(n, m)
``mie_critical``                as ``mie``, m = 6, epsilon,  lambda_r = n, lambda_a = 6
                                sigma from epsilon_c, l_c, n
``mie_chain``                   SAFT-VR Mie (Lafitte 2013)   segments, lambda_r = n, lambda_a = m
``mie_chain_vdw``               as ``mie_chain``, epsilon =  as ``mie_chain``
                                epsilon_vdw / alpha(n, m)
``two_centre_lj``               2CLJ, Lisal et al. (2004)    L* = L / sigma
``two_centre_lj_quadrupole``    2CLJQ, Lisal et al. (2004)   L* = L / sigma, Q*^2 = Q^2 /
                                + Saager-Fischer (1992)      (4 pi eps0 epsilon sigma^5)
``two_centre_lj*_lstar``        as the two above, L sampled  L* as sampled (never L / sigma)
                                as L* (L = L* sigma)
``two_centre_lj*_critical``     as the two above, sampled    L* as sampled; epsilon, sigma
                                in epsilon_c, l_c and L*     from epsilon_c, l_c, L*
``two_centre_lj_quadrupole``    2CLJQ, Q sampled as          L* = L / sigma, Q*^2 =
``_qstar``                      ln Q*^2 (Q derived)          exp(lnQ2_star)
==============================  ===========================  =====================================

The reduced state is then

.. math::

    T^* = \frac{R T}{\epsilon}, \qquad \rho^* = \rho \sigma^3, \qquad
    p = \frac{p^* \epsilon}{\sigma^3}, \qquad \Delta H = \Delta h^* \epsilon,

so every gradient in the force-field parameters is exact. An observable used
with a potential that has no entry, or with a cut-off convention (the EOS
describe the full potential), is a :class:`~bayesff.errors.ProblemError` when
the problem is built.

Where the phase-equilibrium solve fails (above the model's critical
temperature, below the EOS's validity, not converged), or a shape parameter
lies outside the range the EOS was validated over, the prediction is NaN,
which the model turns into a rejected proposal; :func:`vle_predictions`
returns the status codes for counting
(:class:`~bayesff.observables.eos.thermo.SolveStatus`). The single-phase
observables are NaN outside the EOS's temperature, density and shape range.
When a problem is built, the same limits are checked at the centre of the
priors (fixed values where fixed), in float64 whatever JAX's setting: a shape
parameter outside the range, or a row outside the EOS's temperature range or
at or above the model's critical temperature there, is a
:class:`~bayesff.errors.ProblemError` naming the observable and the row. So is an
observation far above anything the model gives there (a unit slip: a liquid density
above 3 times the EOS's highest validated density, a vapour pressure above 5 times the
critical pressure, an enthalpy of vaporisation above 50 R Tc) and a compressed-liquid
row more than 10 times below the model's vapour pressure there. The
EOS observables need float64 (``bayesff.configure()``); traced in float32
they raise a ProblemError.

Each observable carries its EOS's validated error as a forward-model floor
(``Observable.error_floor``; :class:`EOSErrorFloor`).

For the two-centre potentials the saturated densities and the vapour pressure may
instead come from the closed-form correlations of Stoll et al. (2001)
(``options = { method = "correlation" }``; :func:`correlation_predictions`,
:data:`CORRELATION_FLOOR`), the forward model of Madin et al. (2021).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import ProblemError
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.eos import ReducedEOS
from bayesff.observables.eos import two_centre_correlations as stoll
from bayesff.observables.eos.coexistence import (
    enthalpy_of_vaporisation,
    liquid_density,
    solve_coexistence,
)
from bayesff.observables.eos.lj import LJ_THOL2016, THOL2016_CRITICAL, ancillary_reduced
from bayesff.observables.eos.saft_vr_mie import SAFT_VR_MIE
from bayesff.observables.eos.thermo import (
    CriticalPoint,
    SolveStatus,
    critical_point,
    dp_drho,
    pressure,
    residual_energy,
)
from bayesff.observables.eos.two_centre import (
    TWO_CENTRE_LJ,
    TWO_CENTRE_LJ_QUADRUPOLE,
    reduced_variables,
)
from bayesff.potentials import get_potential
from bayesff.potentials.chain import reduced_state
from bayesff.potentials.molecular import usual_parameters
from bayesff.potentials.pair import (
    epsilon_from_mie_critical,
    epsilon_from_vdw,
    sigma_from_mie_critical,
)
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA, factor

__all__ = [
    "COMPRESSED_LIQUID_DENSITY",
    "CORRELATION_FLOOR",
    "CORRELATION_POTENTIALS",
    "CORRELATION_T_R_MIN",
    "ENTHALPY_OF_VAPORISATION",
    "EOS_PRESSURE",
    "EOS_RESIDUAL_ENERGY",
    "ESTIMATE_MARGIN",
    "FLUID_EOS",
    "SATURATED_LIQUID_DENSITY",
    "SATURATED_VAPOUR_DENSITY",
    "VAPOUR_PRESSURE",
    "VLE_METHODS",
    "BandedFloor",
    "EOSErrorFloor",
    "FluidEOS",
    "VLEPrediction",
    "constant_critical_point",
    "correlation_predictions",
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

    def at(self, shape: dict) -> EOSErrorFloor:
        """The floor at these shape parameters: this one (it does not depend on them)."""
        return self

    def vle(self, prop: str, T_r, tc_error: float = 0.0) -> np.ndarray:
        """Relative floor of a coexistence property at reduced temperatures T/Tc.

        ``tc_error``: relative error of the Tc that ``T_r`` was computed with (an EOS's
        ``critical_estimate_error``; 0 for a solved critical point). The floor is the
        largest of the regions the row's exact T/Tc may lie in (between T_r (1 - e) and
        T_r / (1 - e): the widest reading of an error e of the estimate, relative to
        either Tc), so that a row near a region's edge never gets the smaller
        neighbour's floor for want of the exact Tc (:meth:`single` reads rho/rho_c so
        too).
        """
        t = np.asarray(T_r, float)
        edges, rel = np.asarray(self.T_r_edges), np.asarray(self.vle_rel[prop])
        lo = np.searchsorted(edges, t * (1.0 - tc_error), side="right")
        hi = np.searchsorted(edges, t / (1.0 - tc_error), side="right")
        # the largest floor of regions lo..hi, row by row
        pairs = zip(lo.ravel(), hi.ravel(), strict=True)
        return np.array([rel[a : b + 1].max() for a, b in pairs]).reshape(t.shape)

    def single(self, T_r, rho_r, tc_error: float = 0.0, rhoc_error: float = 0.0) -> np.ndarray:
        """(n, 3) single-phase floors (dp*, du*, drho/rho) at T/Tc, rho/rho_c: the largest
        of the regions' floors within ``tc_error`` of Tc and ``rhoc_error`` of rho_c (the
        relative errors of the critical point the ratios were read with, as :meth:`vle`)."""
        t, r = np.broadcast_arrays(np.asarray(T_r, float), np.asarray(rho_r, float))

        def at(tt, rr):
            region = np.where(tt >= 1.0, "supercritical", np.where(rr >= 1.0, "liquid", "vapour"))
            rows = [self.single_phase[str(g)] for g in region.ravel()]
            return np.array(rows).reshape((*t.shape, 3))

        ends_t = (t * (1.0 - tc_error), t / (1.0 - tc_error))
        ends_r = (r * (1.0 - rhoc_error), r / (1.0 - rhoc_error))
        return np.maximum.reduce([at(a, b) for a in ends_t for b in ends_r])


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


#: SAFT-VR Mie's (Lafitte et al. 2013) error floor, for the Mie and Mie-chain fluids. NOT the
#: paper's deviation table (not readable here): per T/Tc region (Tc: SAFT-VR Mie's own), the
#: largest relative difference of each coexistence property between SAFT-VR Mie's LJ fluid
#: (one segment, lambda_r 12, lambda_a 6) and the Thol et al. (2016) LJ EOS at equal T*
#: (0.661 <= T* <= 0.99 Tc), plus the Thol EOS's own floor (:data:`LJ_THOL2016_FLOOR`, its
#: distance from simulation data); single phase likewise (|dp*|, |du*|, the relative density
#: difference of the dense fluid at equal (T*, p*)). teqp 0.23.2, rounded up to two
#: significant figures, by ``python benchmarks/vle_bench.py --saft-floors``
#: (benchmarks/results/saft_vr_mie_floors.json). A lower bound for chains and for other
#: exponents: the chain term's own error is not in it. Without a floor, a calibration on
#: reference-EOS data (0.02 % in vapour pressure) sees a ridge a thousand times narrower than
#: the EOS is right, and NUTS a funnel where the inferred scale goes to zero (docs/chains.md).
SAFT_VR_MIE_FLOOR = EOSErrorFloor(
    T_r_edges=(0.8, 0.9, 0.95),
    vle_rel={
        "rho_l": (0.013, 0.0093, 0.012, 0.11),
        "rho_v": (0.028, 0.026, 0.059, 0.17),
        "p_sat": (0.049, 0.036, 0.039, 0.049),
        "dH_vap": (0.018, 0.02, 0.018, 0.34),
    },
    single_phase={
        "vapour": (0.0031, 0.12, 0.0),
        "liquid": (1.4, 0.12, 0.03),
        "supercritical": (2.0, 0.16, 0.025),
    },
    source=(
        "SAFT-VR Mie's LJ fluid against the Thol et al. (2016) LJ EOS plus the latter's floor, "
        "teqp 0.23.2 (benchmarks/vle_bench.py --saft-floors); a proxy for Lafitte et al.'s own "
        "deviation figures and a lower bound for chains"
    ),
)


@dataclass(frozen=True)
class BandedFloor:
    """Error floors that depend on one shape parameter, in bands of its value.

    Parameters
    ----------
    parameter
        The EOS's shape parameter (``"Q2_star"``).
    edges
        Upper edges of the bands (inclusive), increasing; a value above the last edge
        gets the last band's floor.
    floors
        One :class:`EOSErrorFloor` per band.
    """

    parameter: str
    edges: tuple[float, ...]
    floors: tuple[EOSErrorFloor, ...]

    def at(self, shape: dict) -> EOSErrorFloor:
        """The band's floor at these shape parameters (at the prior centre)."""
        i = int(np.searchsorted(np.asarray(self.edges), float(shape[self.parameter]), "left"))
        return self.floors[min(i, len(self.floors) - 1)]


#: The two-centre floors' T/Tc regions: 0.50-0.55 (the EOS's lowest T/Tc to the lowest of
#: Stoll et al.'s simulations: the correlations are extrapolated there, and at L* = 0.8,
#: Q*^2 = 4 the EOS's vapour pressure is 3.2 times theirs at 0.50 Tc), 0.55-0.8, 0.8-0.9,
#: 0.9-0.95 and 0.95-1.
TWO_CENTRE_T_R_EDGES = (0.55, 0.8, 0.9, 0.95)


def _two_centre_floor(rho_l, rho_v, p_sat, band: str) -> EOSErrorFloor:
    return EOSErrorFloor(
        T_r_edges=TWO_CENTRE_T_R_EDGES,
        vle_rel={"rho_l": rho_l, "rho_v": rho_v, "p_sat": p_sat, "dH_vap": _TWO_CENTRE_DH},
        single_phase=_TWO_CENTRE_SINGLE,
        source=(
            f"Lisal et al. (2004) 2CLJ EOS (+ Saager and Fischer 1992 quadrupole), {band}: "
            "against the Stoll et al. (2001) correlations of simulation data plus their own "
            "error; Delta H_vap and single phase from the LJ limit against the Thol et al. "
            "(2016) EOS plus its floor (benchmarks/vle_bench.py --two-centre-floors); lower "
            "bounds there for elongated and quadrupolar molecules"
        ),
    )


#: The two-centre EOS's enthalpy-of-vaporisation floor per T/Tc region (edges
#: :data:`TWO_CENTRE_T_R_EDGES`): its LJ limit
#: (L* = Q*^2 = 0) against the Thol et al. (2016) LJ EOS plus Thol's floor. A lower bound.
_TWO_CENTRE_DH = (0.0039, 0.0039, 0.0085, 0.0082, 0.26)
#: Single-phase floors (|dp*|, |du*| in the two-centre reduced units, drho/rho), LJ limit.
_TWO_CENTRE_SINGLE = {
    "vapour": (0.0076, 0.11, 0.0),
    "liquid": (0.62, 0.065, 0.005),
    "supercritical": (0.24, 0.19, 0.003),
}

#: The 2CLJ EOS's (Lisal et al. 2004) error floor. NOT the paper's own deviation figures (not
#: readable here): per T/Tc region (Tc: the EOS's own), the largest relative difference of
#: rho_l, rho_v and p_sat between the EOS and the correlations of Stoll, Vrabec, Hasse and
#: Fischer (Fluid Phase Equilib. 179, 339 (2001)) fitted to their simulations, over L* = 0 to
#: 0.8 and 0.50-0.99 Tc, plus the correlations' own error against those simulations
#: (:data:`CORRELATION_FLOOR`); below 0.55 Tc, where Stoll et al. did not simulate and their
#: correlations are extrapolated, at least the 0.55-0.8 region's figure. rho_v is compared from 0.7
#: of the correlation's Tc only (the correlation is poor below) and is floored at least at p_sat's
#: figure (a near-ideal vapour). The EOS's critical temperature lies 1-3 % above the correlation's,
#: so the last region (above 0.95 Tc) carries tens of percent. Delta H_vap and the single-phase
#: floors: the LJ limit (L* = 0) against the Thol et al. (2016) EOS plus its floor, lower bounds
#: for elongated molecules. bayesff's EOS and solvers, rounded up to two significant figures, by
#: ``python benchmarks/vle_bench.py --two-centre-floors``
#: (benchmarks/results/two_centre_floors.json).
TWO_CENTRE_LJ_FLOOR = _two_centre_floor(
    (0.017, 0.017, 0.03, 0.063, 0.39),
    (0.35, 0.35, 0.24, 0.28, 0.58),
    (0.15, 0.14, 0.093, 0.097, 0.12),
    "Q = 0",
)

#: The 2CLJQ EOS's error floor, as :data:`TWO_CENTRE_LJ_FLOOR`, in two bands of Q*^2 at the
#: prior centre: up to 1 (where Stoll et al. find the EOS good; Q*^2 0-1 compared) and above
#: (Q*^2 1.5-4, where the EOS's liquid density is low and its vapour pressure high: at L* =
#: 0.8, Q*^2 = 4 and 0.55 Tc the vapour pressure is twice the correlation's).
TWO_CENTRE_LJ_QUADRUPOLE_FLOOR = BandedFloor(
    parameter="Q2_star",
    edges=(1.0, 4.0),
    floors=(
        _two_centre_floor(
            (0.017, 0.017, 0.03, 0.063, 0.39),
            (0.36, 0.36, 0.25, 0.29, 0.58),
            (0.2, 0.18, 0.11, 0.12, 0.13),
            "Q*^2 <= 1",
        ),
        _two_centre_floor(
            (0.06, 0.06, 0.081, 0.11, 0.34),
            (2.3, 1.1, 0.63, 0.65, 0.73),
            (2.3, 1.1, 0.42, 0.38, 0.37),
            "Q*^2 > 1",
        ),
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
        The EOS's validated error (``None``: no floor), or floors in bands of a shape
        parameter (:class:`BandedFloor`); either's ``at(shape)`` gives the one to use.
    shape_from
        For messages: each shape parameter in terms of the potential's parameters
        (``{"lambda_a": "m"}``, ``{"L_star": "L/sigma"}``).
    """

    eos: ReducedEOS
    reduce: Callable
    floor: EOSErrorFloor | BandedFloor | None = None
    shape_from: dict[str, str] = field(default_factory=dict)


#: Potential registry name -> its fluid's equation of state.
FLUID_EOS: dict[str, FluidEOS] = {}


def register_fluid_eos(potential_name: str, fluid: FluidEOS) -> FluidEOS:
    """Give a registered potential an equation of state for the VLE observables.

    Parameters
    ----------
    potential_name
        Registry name of the potential (:mod:`bayesff.potentials`).
    fluid
        Its fluid's EOS and the exact map from its parameters to the reduced
        variables.

    Returns
    -------
    FluidEOS
        ``fluid``.

    Example (the entry of the Mie n-m pair potential below)::

        register_fluid_eos("mie", FluidEOS(SAFT_VR_MIE, lambda p: (
            p["epsilon"], p["sigma"],
            {"segments": 1.0, "lambda_r": p["n"], "lambda_a": p["m"]})))
    """
    if potential_name in FLUID_EOS and FLUID_EOS[potential_name] is not fluid:
        raise ValueError(f"potential {potential_name!r} already has an equation of state")
    FLUID_EOS[potential_name] = fluid
    return fluid


def _lj(p):
    return p["epsilon"], p["sigma"], {}


def _mie(p):
    # the Mie n-m monomer is the SAFT-VR Mie chain of one segment (its chain term is 0)
    return p["epsilon"], p["sigma"], {"segments": 1.0, "lambda_r": p["n"], "lambda_a": p["m"]}


def _mie_vdw(p):
    return _mie({**p, "epsilon": epsilon_from_vdw(p["epsilon_vdw"], p["n"], p["m"])})


def _mie_critical(p):
    eps = epsilon_from_mie_critical(p["epsilon_c"], p["n"])
    return _mie(
        {"epsilon": eps, "sigma": sigma_from_mie_critical(p["l_c"], p["n"]), "n": p["n"], "m": 6.0}
    )


def _mie_chain(p):
    _, _, shape = reduced_state(0.0, 0.0, p["epsilon"], p["sigma"], p["n"], p["m"], p["segments"])
    return p["epsilon"], p["sigma"], shape


def _mie_chain_vdw(p):
    eps = epsilon_from_vdw(p["epsilon_vdw"], p["n"], p["m"])
    return _mie_chain({**p, "epsilon": eps})


def _two_centre(p):
    _, _, l_star, _ = reduced_variables(0.0, 0.0, p["epsilon"], p["sigma"], p["L"])
    return p["epsilon"], p["sigma"], {"L_star": l_star}


def _two_centre_quadrupole(p):
    _, _, l_star, q2_star = reduced_variables(0.0, 0.0, p["epsilon"], p["sigma"], p["L"], p["Q"])
    return p["epsilon"], p["sigma"], {"L_star": l_star, "Q2_star": q2_star}


def _reparameterised(name: str, usual_adapter):
    """The adapter of a two-centre form in other coordinates (``*_lstar``, ``*_critical``):
    its usual form's adapter at the parameters the form derives (``usual_parameters``)."""
    potential = get_potential(name)
    return lambda p: usual_adapter(usual_parameters(potential, p))


_MIE_SHAPE = {"segments": "segments", "lambda_r": "n", "lambda_a": "m"}
_L_STAR = "L/sigma"
_Q2_STAR = "Q^2/(4 pi eps0 epsilon sigma^5)"

register_fluid_eos("lennard_jones", FluidEOS(LJ_THOL2016, _lj, LJ_THOL2016_FLOOR))
# SAFT-VR Mie (Lafitte et al. 2013) with its floor; the Mie monomer is its one-segment chain
register_fluid_eos(
    "mie",
    FluidEOS(SAFT_VR_MIE, _mie, SAFT_VR_MIE_FLOOR, {"lambda_r": "n", "lambda_a": "m"}),
)
register_fluid_eos(
    "mie_vdw",
    FluidEOS(SAFT_VR_MIE, _mie_vdw, SAFT_VR_MIE_FLOOR, {"lambda_r": "n", "lambda_a": "m"}),
)
register_fluid_eos(
    "mie_critical", FluidEOS(SAFT_VR_MIE, _mie_critical, SAFT_VR_MIE_FLOOR, {"lambda_r": "n"})
)
register_fluid_eos("mie_chain", FluidEOS(SAFT_VR_MIE, _mie_chain, SAFT_VR_MIE_FLOOR, _MIE_SHAPE))
register_fluid_eos(
    "mie_chain_vdw", FluidEOS(SAFT_VR_MIE, _mie_chain_vdw, SAFT_VR_MIE_FLOOR, _MIE_SHAPE)
)
# 2CLJ / 2CLJQ (Lisal et al. 2004 + Saager and Fischer 1992, as teqp's 2CLJF models):
# molecules of two LJ sites; densities count molecules
register_fluid_eos(
    "two_centre_lj",
    FluidEOS(TWO_CENTRE_LJ, _two_centre, TWO_CENTRE_LJ_FLOOR, {"L_star": _L_STAR}),
)
register_fluid_eos(
    "two_centre_lj_quadrupole",
    FluidEOS(
        TWO_CENTRE_LJ_QUADRUPOLE,
        _two_centre_quadrupole,
        TWO_CENTRE_LJ_QUADRUPOLE_FLOOR,
        {"L_star": _L_STAR, "Q2_star": _Q2_STAR},
    ),
)
# the same fluids in other coordinates (bayesff.potentials.molecular): in L* = L / sigma
# (*_lstar) the EOS's validated edge L* <= 0.8 is a bound of one coordinate; in critical-point
# coordinates (*_critical) the ridge that saturation data leave is straightened
for _suffix in ("_lstar", "_critical"):
    for _usual, _adapter, _eos, _floor, _shape in (
        ("two_centre_lj", _two_centre, TWO_CENTRE_LJ, TWO_CENTRE_LJ_FLOOR, {"L_star": _L_STAR}),
        (
            "two_centre_lj_quadrupole",
            _two_centre_quadrupole,
            TWO_CENTRE_LJ_QUADRUPOLE,
            TWO_CENTRE_LJ_QUADRUPOLE_FLOOR,
            {"L_star": _L_STAR, "Q2_star": _Q2_STAR},
        ),
    ):
        _name = _usual + _suffix
        register_fluid_eos(
            _name, FluidEOS(_eos, _reparameterised(_name, _adapter), _floor, _shape)
        )
# 2CLJQ in ln Q*^2 (*_qstar): the EOS's validated edge Q*^2 <= 4 is a bound of one coordinate
register_fluid_eos(
    "two_centre_lj_quadrupole_qstar",
    FluidEOS(
        TWO_CENTRE_LJ_QUADRUPOLE,
        _reparameterised("two_centre_lj_quadrupole_qstar", _two_centre_quadrupole),
        TWO_CENTRE_LJ_QUADRUPOLE_FLOOR,
        {"L_star": _L_STAR, "Q2_star": _Q2_STAR},
    ),
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


def _critical_x64(eos: ReducedEOS, shape: dict) -> CriticalPoint:
    """The critical point at concrete shape parameters, solved in float64, as NumPy numbers.

    ``jax.enable_x64`` as a context: the solve runs in float64 whatever JAX's global
    setting is now (a problem may be built before bayesff turns float64 on), and the
    NumPy results carry no JAX dtype into the programs that use them.
    """
    with jax.enable_x64(True):
        args = {k: jnp.asarray(v, jnp.float64) for k, v in shape.items()}
        c = jax.device_get(jax.jit(functools.partial(critical_point, eos))(**args))
    return CriticalPoint(
        np.float64(c.T_star),
        np.float64(c.rho_star),
        np.float64(c.p_star),
        np.int32(c.status),
        np.int32(c.iterations),
    )


def constant_critical_point(eos: ReducedEOS) -> CriticalPoint | None:
    """The critical point of an EOS without shape parameters, computed once per EOS name.

    Solved in float64 whatever JAX's x64 setting is at the call, and returned as NumPy
    float64 numbers (a :class:`~bayesff.observables.eos.thermo.CriticalPoint`): the
    observables' builders call it when a problem is built, which the command line does
    before it turns float64 on, and the constants then enter the programs traced later
    in either precision, so that a compiled sampler for such a model holds no
    critical-point solve. ``None`` for an EOS with shape parameters (its critical point
    depends on the parameters and is solved inside the prediction).
    """
    if eos.shape:
        return None
    crit = _CONSTANT_CRITICAL.get(eos.name)
    if crit is None:
        crit = _CONSTANT_CRITICAL[eos.name] = _critical_x64(eos, {})
    return crit


#: Critical points of shape-free EOS (NumPy float64), by EOS name (constant_critical_point).
_CONSTANT_CRITICAL: dict[str, CriticalPoint] = {}


def _inside_shape_validity(eos: ReducedEOS, shape: dict):
    """True where every shape parameter lies in ``eos.validity.shape`` and the shape's
    ``shape_gaps`` hold (no gradient)."""
    inside = jnp.asarray(True)
    value = {k: jax.lax.stop_gradient(jnp.asarray(v, dtype=float)) for k, v in shape.items()}
    for name, (lo, hi) in eos.validity.shape.items():
        inside = inside & (value[name] >= lo) & (value[name] <= hi)
    for larger, smaller, gap in eos.validity.shape_gaps:
        inside = inside & (value[larger] - value[smaller] >= gap)
    return inside


def _box_middle(eos: ReducedEOS, name: str) -> float:
    """The middle of a shape parameter's validated range (a stand-in value: finite EOS)."""
    lo, hi = eos.validity.shape[name]
    return 0.5 * (lo + hi)


def _above_fitted_fraction_of_tc(eos, t, shape):
    """True where T* is at or above the fraction of the model's T*c that its EOS was
    fitted down to (``validity.T_over_Tc_min``; 0: no such floor), with T*c from the
    model's ``critical_estimate`` (2CLJ(Q): Stoll et al., within 3 %; no gradient).

    A single-phase state of a 2CLJ fluid at L* = 0 and 0.22 T*c (T* = 0.3 in LJ terms,
    far below the triple point) was inside the EOS's T* box, built for every L* at
    once, and gave -493 MPa (audit, 2026-11-30); coexistence stopped at 0.5 T*c."""
    if eos.validity.T_over_Tc_min <= 0.0:
        return jnp.ones(jnp.shape(t), dtype=bool)
    tc = eos.critical_estimate(**jax.lax.stop_gradient(shape))[0]
    return jax.lax.stop_gradient(t) >= eos.validity.T_over_Tc_min * tc


def _positive_scales(eps, sig):
    """True where epsilon and sigma are positive (no gradient): a sigma <= 0 reduces to a
    density and pressure of the wrong sign (or infinite) that the solver itself accepts."""
    eps, sig = jax.lax.stop_gradient(eps), jax.lax.stop_gradient(sig)
    return (eps > 0.0) & (sig > 0.0)


def _require_float64(observable: str) -> None:
    """The EOS solvers converge to 1e-8 and take finite differences: float32 cannot."""
    if not jax.config.jax_enable_x64:
        raise ProblemError(
            f"observable {observable!r} needs float64 (its phase-equilibrium and density "
            "solves converge to 1e-8) but JAX is running in float32 (BAYESFF_X64=0 or "
            "jax_enable_x64 off); call bayesff.configure() or unset BAYESFF_X64"
        )


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
        Arrays of shape (n,). NaN with the solver's status where the solve fails
        (:func:`~bayesff.observables.eos.solve_coexistence`), and with
        ``OUTSIDE_VALIDITY`` where a shape parameter lies outside the range the EOS
        was validated over (``eos.validity.shape``): never an extrapolation. A failed
        row leaves the others' reverse-mode gradients finite (``jax.grad`` of a sum over
        the finite rows equals its forward-mode value).

    Notes
    -----
    Call it under :func:`jax.jit` (with ``fluid`` closed over, the parameters and
    temperatures as arguments) when it is called more than once: run eagerly, its
    solver loops are compiled again at every call (about 15 s each on a 2-core CPU, and a
    hundred such calls exhausted the compiler's memory in an audit, 2026-11-30); jitted,
    the compilation is paid once and a call takes milliseconds.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from bayesff.potentials import get_potential
    >>> fluid = fluid_eos_of(get_potential("lennard_jones"))
    >>> predict = jax.jit(lambda p, T: vle_predictions(fluid, p, T))
    >>> out = predict({"epsilon": 0.9977, "sigma": 3.405}, jnp.array([90.0, 110.0]))
    >>> out.rho_l.shape
    (2,)
    """
    eps, sig, shape = fluid.reduce(params)
    eos = fluid.eos
    # outside the validated box (where the EOS may be NaN), and at a temperature that is not
    # finite and > 0, the solve runs at a stand-in (the box's middle, T* = 1) and the row is
    # OUTSIDE_VALIDITY at the end: a NaN inside would make every row's gradient NaN (below;
    # T itself is replaced first, or d(T / eps)/d eps would be NaN under the jnp.where)
    T_K = jnp.asarray(T_K, dtype=float)
    t_ok = jnp.isfinite(T_K) & (T_K > 0.0)
    t_star = GAS_CONSTANT_KJ_PER_MOL_K * jnp.where(t_ok, T_K, 1.0) / eps
    t_ok = jax.lax.stop_gradient(t_ok & jnp.isfinite(t_star) & (t_star > 0.0))
    t_star = jnp.where(t_ok, t_star, 1.0)
    inside = _inside_shape_validity(eos, shape) & _positive_scales(eps, sig)
    shape = {k: jnp.where(inside, v, _box_middle(eos, k)) for k, v in shape.items()}
    # only the solver's starts and its above-Tc test use the critical point
    crit = (
        critical if critical is not None else critical_point(eos, **jax.lax.stop_gradient(shape))
    )

    # a failed member's NaN must not meet anything that depends on the parameters before the
    # last jnp.where: its cotangent there is 0, and 0 x NaN would make the reverse-mode
    # gradient NaN for every row of the batch. It is given the critical density (finite at
    # every shape, chains included) and a zero pressure instead, and is NaN again at the end
    stand_in = jax.lax.stop_gradient(jnp.where(jnp.isfinite(crit.rho_star), crit.rho_star, 0.1))

    def one(t):
        c = solve_coexistence(eos, t, critical=crit, max_iter=max_iter, **shape)
        good = c.status == SolveStatus.OK
        c = c._replace(
            rho_l=jnp.where(good, c.rho_l, stand_in),
            rho_v=jnp.where(good, c.rho_v, stand_in),
            p=jnp.where(good, c.p, 0.0),
        )
        return c, enthalpy_of_vaporisation(eos, t, c, **shape)

    coex, dh = jax.vmap(one)(t_star)
    # outside the validated shape range, or at a stand-in T, the solve's own verdict is moot
    status = jnp.where(inside & t_ok, coex.status, jnp.int32(SolveStatus.OUTSIDE_VALIDITY))
    ok = status == SolveStatus.OK
    to_mol_per_L = 1.0 / (sig**3 * _MOL_PER_L)
    return VLEPrediction(
        rho_l=jnp.where(ok, coex.rho_l * to_mol_per_L, jnp.nan),
        rho_v=jnp.where(ok, coex.rho_v * to_mol_per_L, jnp.nan),
        p_sat=jnp.where(ok, coex.p * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA, jnp.nan),
        dH_vap=jnp.where(ok, dh * eps, jnp.nan),
        status=status,
    )


# ----------------------------------------------------------------------------- correlations

#: Methods of the coexistence observables: ``"eos"`` (the potential's EOS, every potential of
#: :data:`FLUID_EOS`) and ``"correlation"`` (two-centre potentials only: the closed-form
#: correlations of Stoll, Vrabec, Hasse and Fischer, Fluid Phase Equilib. 179, 339 (2001),
#: :mod:`~bayesff.observables.eos.two_centre_correlations`, which Madin et al. (2021) used as
#: their forward model). A target picks one with ``options = { method = "correlation" }``.
VLE_METHODS = ("eos", "correlation")

#: Potentials whose coexistence properties the Stoll et al. (2001) correlations describe.
CORRELATION_POTENTIALS = (
    *(
        f"two_centre_lj{q}{form}"
        for q in ("", "_quadrupole")
        for form in ("", "_lstar", "_critical")  # the same models in other coordinates
    ),
    "two_centre_lj_quadrupole_qstar",
)

#: Lowest T / T*c(L*, Q*^2) at which the correlations are used: Stoll et al. simulated 0.55 to
#: 0.95 T*c; the liquid-density and vapour-pressure correlations are smooth closed forms that
#: the LJ limit checks down to 0.6 T*c (module docstring of two_centre_correlations), and 0.5
#: leaves room for the model's T*c to differ from the fluid's by 10 % at the lowest trained
#: row (0.55 Tc) without a wall in the posterior. Below it the prediction is NaN.
CORRELATION_T_R_MIN = 0.5

#: A coexistence row below a model's lowest T/Tc (the correlations' CORRELATION_T_R_MIN, a
#: 2CLJ(Q) EOS's ``validity.T_over_Tc_min``, both 0.5) is refused when the problem is built
#: only where it lies below that at the prior centre by this factor (0.4 Tc): nearer, the
#: draws decide (NaN where their Tc puts it below 0.5 Tc).
T_OVER_TC_REFUSAL_MARGIN = 1.25

#: Validated relative error of the correlations against the simulations they were fitted to,
#: used as the correlation method's forward-model floor: the largest deviation from Stoll et
#: al.'s Table 1 (30 fluids at about 0.80 T*c) measured by
#: tests/observables/eos/test_two_centre_correlations.py (liquid density 0.5 %, vapour
#: pressure 5.3 %, vapour density 18 %; the paper warns that its vapour-density correlation
#: is poor below 0.6 T*c). One figure for every temperature: the paper gives no breakdown
#: by region. The enthalpy of vaporisation has no correlation.
CORRELATION_FLOOR = {"rho_l": 0.005, "rho_v": 0.18, "p_sat": 0.053}


def _method(potential, prop: str, observable: str, method) -> str:
    """The checked ``method`` option; a ProblemError names what was expected."""
    if method not in VLE_METHODS:
        raise ProblemError(
            f"observable {observable!r}: options.method must be one of "
            f"{', '.join(VLE_METHODS)}, found {method!r}"
        )
    if method == "correlation":
        if potential.name not in CORRELATION_POTENTIALS:
            raise ProblemError(
                f"observable {observable!r}: method = 'correlation' needs a two-centre potential "
                f"({', '.join(CORRELATION_POTENTIALS)}), found {potential.name!r}"
            )
        if prop not in CORRELATION_FLOOR:
            raise ProblemError(
                f"observable {observable!r}: Stoll et al. (2001) give no correlation of this "
                "property; use method = 'eos'"
            )
    return method


def correlation_predictions(fluid: FluidEOS, params: dict, T_K) -> VLEPrediction:
    """Saturated densities and vapour pressure from the Stoll et al. (2001) correlations.

    Parameters
    ----------
    fluid
        The two-centre potential's entry of :data:`FLUID_EOS` (for its exact map to
        T* = R T / epsilon, L* = L / sigma and Q*^2).
    params
        Potential parameters, internal units (epsilon kJ/mol, sigma angstrom, L angstrom,
        Q e angstrom^2).
    T_K
        Temperatures in K, shape (n,).

    Returns
    -------
    VLEPrediction
        ``rho_l``, ``rho_v`` (mol/L, molecules) and ``p_sat`` (MPa); ``dH_vap`` is NaN (no
        correlation). NaN with status ``ABOVE_CRITICAL`` at or above the correlation's
        T*c and ``OUTSIDE_VALIDITY`` below :data:`CORRELATION_T_R_MIN` T*c or outside its
        fitted L* 0-0.8, Q*^2 0-4: never an extrapolation.
    """
    eps, sig, shape = fluid.reduce(params)
    L, q = shape["L_star"], shape.get("Q2_star", jnp.zeros_like(shape["L_star"]))
    t = GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(T_K, dtype=float) / eps
    tc = stoll.critical_temperature(L, q)
    t_ng, tc_ng = jax.lax.stop_gradient(t), jax.lax.stop_gradient(tc)
    inside = _positive_scales(eps, sig)
    for name, (lo, hi) in stoll.STOLL2001_VALIDITY.shape.items():
        v = jax.lax.stop_gradient(jnp.asarray(shape.get(name, 0.0), dtype=float))
        inside = inside & (v >= lo) & (v <= hi)
    status = jnp.where(
        (t_ng >= tc_ng) & _positive_scales(eps, sig),
        jnp.int32(SolveStatus.ABOVE_CRITICAL),
        jnp.where(
            inside & (t_ng >= CORRELATION_T_R_MIN * tc_ng),
            jnp.int32(SolveStatus.OK),
            jnp.int32(SolveStatus.OUTSIDE_VALIDITY),
        ),
    )
    ok = status == SolveStatus.OK
    to_mol_per_L = 1.0 / (sig**3 * _MOL_PER_L)
    # the correlations are NaN above their T*c (with zero gradients there); a NaN times a
    # parameter-dependent unit factor would give a NaN gradient in that parameter (NaN x 0),
    # so the reduced values are made finite before the conversion and NaN again after it
    t_safe = jnp.where(ok, t, 0.8 * tc_ng)

    def reduced(f):
        return jnp.where(ok, f(t_safe, L, q), 1.0)

    rho_l = reduced(stoll.saturated_liquid_density) * to_mol_per_L
    rho_v = reduced(stoll.saturated_vapour_density) * to_mol_per_L
    p_sat = reduced(stoll.vapour_pressure) * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA
    nan = jnp.full_like(t, jnp.nan)
    return VLEPrediction(
        rho_l=jnp.where(ok, rho_l, jnp.nan),
        rho_v=jnp.where(ok, rho_v, jnp.nan),
        p_sat=jnp.where(ok, p_sat, jnp.nan),
        dH_vap=nan,
        status=status,
    )


def _correlation_floor(prop, observable, potential, params, env, values) -> np.ndarray:
    """Build-time check (shape range, rows above the correlation's Tc at the prior centre)
    and the constant relative floor :data:`CORRELATION_FLOOR`."""
    fluid = fluid_eos_of(potential, f"observable {observable!r}")
    with jax.enable_x64(True):
        eps, _, shape = fluid.reduce({k: jnp.asarray(v, jnp.float64) for k, v in params.items()})
        shape = {k: float(v) for k, v in shape.items()}
        eps = float(eps)
        tc = float(stoll.critical_temperature(shape["L_star"], shape.get("Q2_star", 0.0)))
    for name, (lo, hi) in stoll.STOLL2001_VALIDITY.shape.items():
        v = shape.get(name, 0.0)
        if not lo <= v <= hi:
            raise ProblemError(
                f"observable {observable!r}: at the prior centre (or fixed value) {name} = "
                f"{fluid.shape_from.get(name, name)} = {v:.6g} lies outside the range the Stoll "
                f"et al. (2001) correlations were fitted over, {lo:g} to {hi:g}; predictions "
                "there are NaN: centre the prior (or fix the value) inside that range"
            )
    T_K = np.asarray(env["T_K"], float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / eps
    # refused only far below: the correlation's Tc depends on L* and Q as well as epsilon,
    # and a prior centre may sit 10 % off the data's Tc (oxygen's AUA problem in
    # models/madin_2cljq: 168.7 K at the centre for 154.6 K, its triple-point row held out
    # at 0.465 Tc of the centre and 0.51 Tc of the fluid); rows below 0.4 Tc at the centre
    # are NaN for every draw whose Tc is within 25 % of the centre's
    at = f"at the prior centre (epsilon/k_B = {eps / GAS_CONSTANT_KJ_PER_MOL_K:.6g} K)"
    _refuse_far_below_tc(
        observable,
        T_K,
        t / tc,
        CORRELATION_T_R_MIN,
        tc * eps / GAS_CONSTANT_KJ_PER_MOL_K,
        f"{at} it",
        "the Stoll et al. (2001) correlations were",
        "use method = 'eos'",
    )
    above = t >= tc
    if np.any(above):
        i, more = _extreme_row(above, T_K, largest=True)
        eps_K = eps / GAS_CONSTANT_KJ_PER_MOL_K
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: at the prior centre "
            f"(epsilon/k_B = {eps_K:.6g} K) the correlation's critical temperature is "
            f"{tc * eps_K:.5g} K (T*c = {tc:.5g}); there is no coexistence at or above it and "
            f"the prediction is NaN: centre the epsilon prior above {T_K[i] / tc:.5g} K or "
            "leave out the rows at or above Tc"
        )
    return CORRELATION_FLOOR[prop] * np.abs(np.asarray(values, float))


def build_vle_all(potential, method: str = "eos"):
    """``predict(params, env) -> VLEPrediction``: every coexistence property of the rows.

    The joint forward model of the four coexistence observables (their builders carry
    it as ``build.joint``): the model predicts targets of different coexistence
    properties with one vmapped call of this function and picks each target's property,
    so a problem with saturated densities, vapour pressures and enthalpies of
    vaporisation compiles one phase-equilibrium solver, not one per property.
    ``method`` as for the single observables (already checked by their builders).
    """
    fluid = fluid_eos_of(potential, "the coexistence observables")
    if method == "correlation":

        def predict_correlation(params, env):
            return correlation_predictions(fluid, params, env["T_K"])

        return predict_correlation
    crit = constant_critical_point(fluid.eos)

    def predict(params, env):
        _require_float64("the coexistence observables")
        return vle_predictions(fluid, params, env["T_K"], critical=crit)

    # A jit boundary: the model is traced many times (initialisation, the sampler, each
    # post-processing program), and tracing a coexistence solve in Python costs seconds
    # (SAFT-VR Mie: most of a chain calibration's time, docs/chains.md). Under jit the
    # solve is traced once per argument shape and its jaxpr reused by every outer trace,
    # vmap and derivative.
    return jax.jit(predict)


def _build_vle(prop: str, name: str):
    def build(potential, method: str = "eos"):
        fluid_eos_of(potential, f"observable {name!r}")
        _method(potential, prop, name, method)
        predict_all = build_vle_all(potential, method)

        def predict(params, env):
            return getattr(predict_all(params, env), prop)

        return predict

    # (joint builder, field): targets of several coexistence properties share one solve
    build.joint = (build_vle_all, prop)
    return build


def _build_single(quantity: str, name: str):
    def build(potential):
        fluid = fluid_eos_of(potential, f"observable {name!r}")
        eos = fluid.eos
        t_lo, t_hi = eos.validity.T_star

        def predict(params, env):
            _require_float64(name)
            eps, sig, shape = fluid.reduce(params)
            # a shape outside the box is evaluated at the box's middle (the EOS may be NaN
            # there, and 0 x NaN would make the gradient NaN), and is NaN at the end
            inside = _inside_shape_validity(eos, shape)
            shape = {k: jnp.where(inside, v, _box_middle(eos, k)) for k, v in shape.items()}
            # molecules per sigma^3 (a chain's segments pack closer: 1.05 / segments)
            rho_hi = jax.lax.stop_gradient(eos.validity.rho_star_limit(shape))
            t = GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(env["T_K"], dtype=float) / eps
            rho = jnp.asarray(env["rho_per_A3"], dtype=float) * sig**3
            # outside the EOS's validated (T*, rho*, shape) the value is NaN, not extrapolated
            valid = (
                inside
                & _positive_scales(eps, sig)
                & _above_fitted_fraction_of_tc(eos, t, shape)
                & (jax.lax.stop_gradient(t) >= t_lo)
                & (jax.lax.stop_gradient(t) <= t_hi)
                & (jax.lax.stop_gradient(rho) <= rho_hi)
                & (jax.lax.stop_gradient(rho) > 0.0)
            )
            # rows outside are evaluated at a valid stand-in state (NaN there would make
            # every row's reverse-mode gradient NaN, 0 x NaN) and are NaN again at the end
            t_in, rho_in = jnp.where(valid, t, t_lo), jnp.where(valid, rho, 0.5 * rho_hi)
            # inside the spinodal (dp/drho <= 0) no homogeneous fluid exists: the EOS's
            # value there is a van der Waals loop, never what a simulation or a measurement
            # of that (T, rho) gives (two phases), so NaN, not a silently wrong number
            slope = jax.vmap(lambda a, b: dp_drho(eos, a, b, **shape))(t_in, rho_in)
            valid = valid & (jax.lax.stop_gradient(slope) > 0.0)
            if quantity == "pressure":
                p = jax.vmap(lambda a, b: pressure(eos, a, b, **shape))(t_in, rho_in)
                out = p * eps / sig**3 * KJ_PER_MOL_PER_A3_IN_MPA
            else:
                out = jax.vmap(lambda a, b: residual_energy(eos, a, b, **shape))(t_in, rho_in)
                out = out * eps
            return jnp.where(valid, out, jnp.nan)

        return predict

    return build


def _build_compressed(potential):
    name = "compressed_liquid_density"
    fluid = fluid_eos_of(potential, f"observable {name!r}")
    eos = fluid.eos
    const_crit = constant_critical_point(eos)
    t_hi = eos.validity.T_star[1]

    def predict(params, env):
        _require_float64(name)
        eps, sig, shape = fluid.reduce(params)
        t = GAS_CONSTANT_KJ_PER_MOL_K * jnp.asarray(env["T_K"], dtype=float) / eps
        p = jnp.asarray(env["p_MPa"], dtype=float) / KJ_PER_MOL_PER_A3_IN_MPA * sig**3 / eps
        crit = const_crit
        if crit is None:
            crit = critical_point(eos, **jax.lax.stop_gradient(shape))
        sol = jax.vmap(lambda a, b: liquid_density(eos, a, b, critical=crit, **shape))(t, p)
        # liquid_density flags T* below the range and rho* above it; the rest here
        valid = _inside_shape_validity(eos, shape) & (jax.lax.stop_gradient(t) <= t_hi)
        # sigma <= 0 gave a density of the wrong sign (audit, 2026-11-30); below the T/Tc
        # the EOS was fitted down to, NaN as for coexistence
        valid = valid & _positive_scales(eps, sig) & _above_fitted_fraction_of_tc(eos, t, shape)
        valid = valid & jnp.isfinite(sol.rho)
        # finite before the parameter-dependent unit factor (NaN x 0 in reverse mode)
        rho = jnp.where(valid, sol.rho, 1.0)
        return jnp.where(valid, rho / (sig**3 * _MOL_PER_L), jnp.nan)

    return predict


# ----------------------------------------------------------------------------- build-time checks


#: A shape-dependent EOS's critical temperature at the prior centre is its
#: ``critical_estimate`` (SAFT-VR Mie: within 0.6 %; 2CLJ(Q): within 3 %), not a solve (a
#: SAFT-VR Mie critical point compiles for ~20 s); a row is refused only where it lies this
#: factor above the estimate, i.e. certainly above the model's Tc.
ESTIMATE_MARGIN = 1.05


class _Centre(NamedTuple):
    """The reduced model at the prior centre (NumPy floats)."""

    fluid: FluidEOS
    epsilon: float  # kJ/mol
    sigma: float  # angstrom
    shape: dict
    T_c_star: float
    rho_c_star: float
    exact: bool  # critical point solved (True) or the EOS's estimate (False)
    # the parameter whose prior sets epsilon, and its value per unit of epsilon at the
    # centre (epsilon_vdw = alpha(n, m) epsilon for mie_vdw): messages name its prior
    prior_name: str = "epsilon"
    prior_ratio: float = 1.0

    @property
    def epsilon_K(self) -> float:
        return self.epsilon / GAS_CONSTANT_KJ_PER_MOL_K

    def prior_K(self, epsilon_K: float) -> tuple[str, str]:
        """'the epsilon prior above X K' phrased for the parameter the problem samples."""
        return f"the {self.prior_name} prior", f"{epsilon_K * self.prior_ratio:.5g} K"


def _centre(potential, params, observable: str) -> _Centre:
    """The reduced model at the given (prior-centre) parameters, checked.

    Called when a problem is built (``Problem._apply_floors``), in float64 whatever
    JAX's setting: a potential without an equation of state, with a cut-off convention,
    or whose shape parameters lie outside the EOS's validated range at the prior
    centre is a ProblemError here, before anything is traced.
    """
    fluid = fluid_eos_of(potential, f"observable {observable!r}")
    eos = fluid.eos
    with jax.enable_x64(True):
        eps, sig, shape = fluid.reduce({k: jnp.asarray(v, jnp.float64) for k, v in params.items()})
        shape = {k: float(v) for k, v in shape.items()}
        for name, (lo, hi) in eos.validity.shape.items():
            v = shape[name]
            if not lo <= v <= hi:
                source = fluid.shape_from.get(name, name)
                raise ProblemError(
                    f"observable {observable!r}: at the prior centre (or fixed value) the "
                    f"{eos.name} EOS's {name} = {source} = {v:.6g} lies outside the range it "
                    f"was validated over, {lo:g} to {hi:g}; predictions there are NaN, not "
                    f"extrapolations: centre the prior (or fix the value) inside that range"
                )
        for larger, smaller, gap in eos.validity.shape_gaps:
            if not shape[larger] - shape[smaller] >= gap:
                names = (fluid.shape_from.get(n, n) for n in (larger, smaller))
                raise ProblemError(
                    f"observable {observable!r}: at the prior centre (or fixed value) the "
                    f"{eos.name} EOS's {larger} - {smaller} = %s - %s = "
                    f"{shape[larger] - shape[smaller]:.6g} is below {gap:g}, the least gap "
                    f"it answers for (the EOS is NaN as they meet): centre the priors (or fix "
                    f"the values) further apart" % tuple(names)
                )
        crit = constant_critical_point(eos)
        if crit is not None:
            t_c, rho_c, exact = float(crit.T_star), float(crit.rho_star), True
        else:
            t_c, rho_c = (float(x) for x in eos.critical_estimate(**shape))
            exact = False
    name, ratio = "epsilon", 1.0
    for d in getattr(potential, "derived", ()):  # e.g. epsilon of mie_vdw's epsilon_vdw
        if d.name == "epsilon" and d.unit_from in params:
            name, ratio = d.unit_from, float(params[d.unit_from]) / float(eps)
    return _Centre(fluid, float(eps), float(sig), shape, t_c, rho_c, exact, name, ratio)


def _first_rows(mask: np.ndarray) -> tuple[int, str]:
    rows = np.flatnonzero(mask)
    more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
    return int(rows[0]), more


def _extreme_row(mask: np.ndarray, key, *, largest: bool) -> tuple[int, str]:
    """Like :func:`_first_rows`, but the flagged row with the largest (or smallest)
    ``key``: a refusal's advice ("centre the epsilon prior above X K") must hold for every
    flagged row, whatever the file's row order (audit, 2026-11-30: propane's rows above
    the model's Tc were answered from the coldest of them, and the advised centre was
    refused again at the hottest)."""
    rows = np.flatnonzero(mask)
    k = np.asarray(key, float)[rows]
    i = rows[int(np.argmax(k) if largest else np.argmin(k))]
    more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
    return int(i), more


def _check_temperatures(c: _Centre, T_K, observable: str, *, coexistence: bool) -> np.ndarray:
    """T* at the centre; a ProblemError naming the row outside the EOS's range that its advice
    is for (the hottest above the range, the coldest below it).

    Coexistence rows must lie below the model's critical temperature (certainly below
    for an estimated one, :data:`ESTIMATE_MARGIN`) and at or above the EOS's lowest
    temperature; single-phase rows within its temperature range.
    """
    T_K = np.asarray(T_K, float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon
    eos = c.fluid.eos
    t_lo, t_hi = eos.validity.T_star
    via = (
        f", from {c.prior_name}/k_B = {c.epsilon_K * c.prior_ratio:.6g} K"
        if c.prior_name != "epsilon"
        else ""
    )
    at = f"at the prior centre (epsilon/k_B = {c.epsilon_K:.6g} K{via})"
    if coexistence:
        limit = c.T_c_star * (1.0 if c.exact else ESTIMATE_MARGIN)
        above = t >= limit
        if np.any(above):
            i, more = _extreme_row(above, T_K, largest=True)
            how = "" if c.exact else f", estimated; refused above {ESTIMATE_MARGIN:g} x that"
            raise ProblemError(
                f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: {at} the "
                f"model's critical temperature is {c.T_c_star * c.epsilon_K:.5g} K "
                f"(T*c = {c.T_c_star:.5g}{how}); there is no coexistence at or above it and "
                f"the prediction is NaN: centre %s above %s or leave out the rows at or "
                f"above Tc" % c.prior_K(T_K[i] / c.T_c_star)
            )
        _refuse_far_below_tc(  # an EOS fitted over a range of T/Tc (0: none)
            observable,
            T_K,
            t / c.T_c_star,
            eos.validity.T_over_Tc_min,
            c.T_c_star * c.epsilon_K,
            f"{at} it",
            f"the {eos.name} EOS was",
            "centre the priors where the model's Tc is lower",
        )
    else:
        above = t > t_hi
        if np.any(above):
            i, more = _extreme_row(above, T_K, largest=True)
            raise ProblemError(
                f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: {at} T* = "
                f"{t[i]:.5g} is above the highest temperature the {eos.name} EOS was "
                f"validated at (T* = {t_hi:g}); the prediction is NaN there: centre %s "
                f"above %s or leave out the row" % c.prior_K(T_K[i] / t_hi)
            )
    below = t < t_lo
    if np.any(below):
        i, more = _extreme_row(below, T_K, largest=False)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: {at} T* = "
            f"{t[i]:.5g} is below the lowest temperature the {eos.name} EOS was validated at "
            f"(T* = {t_lo:g}); the prediction is NaN there: centre %s below %s or leave "
            f"out the rows below {t_lo * c.epsilon_K:.5g} K" % c.prior_K(T_K[i] / t_lo)
        )
    return t


def _refuse_far_below_tc(observable, T_K, t_r, r_min, tc_K, at, fitted, advice) -> None:
    """A ProblemError naming the first row whose T/Tc at the prior centre, ``t_r``, lies
    below ``r_min`` by more than :data:`T_OVER_TC_REFUSAL_MARGIN` (nothing where r_min = 0)."""
    far = t_r < r_min / T_OVER_TC_REFUSAL_MARGIN
    if r_min > 0 and np.any(far):
        i, more = _first_rows(far)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: {at} lies below "
            f"{r_min:.3g} Tc = {r_min * tc_K:.5g} K (refused below 1/"
            f"{T_OVER_TC_REFUSAL_MARGIN:g} of that), below the range {fitted} fitted over; "
            f"the prediction is NaN there: leave out the rows below {r_min * tc_K:.5g} K or "
            f"{advice}"
        )


def _require_positive(observable: str, what: str, x, env_T) -> None:
    """A ProblemError naming the first row whose ``what`` is not > 0 (a sign or unit slip:
    never a state the EOS can predict, or an observation it can be compared with)."""
    x, T_K = np.asarray(x, float), np.asarray(env_T, float)
    bad = ~(x > 0)
    if np.any(bad):
        i, more = _first_rows(bad)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: expected {what} "
            f"> 0, got {float(x[i]):g}"
        )


def _check_densities(c: _Centre, rho_per_A3, observable: str) -> np.ndarray:
    """rho* at the centre; a ProblemError naming the first row above the EOS's range."""
    rho = np.asarray(rho_per_A3, float) * c.sigma**3
    v = c.fluid.eos.validity
    hi = float(v.rho_star_limit(c.shape))
    if np.any(rho > hi):
        i, more = _extreme_row(rho > hi, rho, largest=True)
        per = (
            f": {v.rho_star_max:g} / {v.rho_star_max / hi:g} segments"
            if hi != v.rho_star_max
            else ""
        )
        raise ProblemError(
            f"observable {observable!r}, the row at rho_per_A3 = {rho_per_A3[i]:g}{more}: at "
            f"the prior centre (sigma = {c.sigma:.6g} angstrom) rho* = {rho[i]:.5g} molecules "
            f"per sigma^3 is above the highest density the {c.fluid.eos.name} EOS was "
            f"validated at (rho* = {hi:.4g}{per}); the prediction is NaN there: "
            "centre the sigma prior below "
            f"{(hi / rho_per_A3[i]) ** (1 / 3):.5g} angstrom or leave out the row"
        )
    return rho


def _check_stable(c: _Centre, T_K, rho_per_A3, rho_star, observable: str) -> None:
    """A ProblemError naming the first (T, rho) row inside the model's spinodal at the
    prior centre (dp/drho <= 0): no homogeneous fluid has that state (a simulation or a
    measurement there sees two phases), and the forward model is NaN there."""
    T_K = np.asarray(T_K, float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon
    # only rows that may lie below Tc (above it there is no spinodal): the dense
    # supercritical rows of the atlas evaluate nothing (eager SAFT-VR Mie: seconds)
    below = np.flatnonzero(t < ESTIMATE_MARGIN * c.T_c_star)
    if below.size == 0:
        return
    with jax.enable_x64(True):
        slope = jax.vmap(lambda a, b: dp_drho(c.fluid.eos, a, b, **c.shape))(
            jnp.asarray(t[below], jnp.float64),
            jnp.asarray(np.asarray(rho_star)[below], jnp.float64),
        )
    bad = np.zeros(t.shape, bool)
    bad[below] = ~(np.asarray(slope) > 0.0)
    if np.any(bad):
        i, more = _extreme_row(bad, T_K, largest=False)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}, rho_per_A3 = "
            f"{float(np.asarray(rho_per_A3)[i]):g}{more}: at the prior centre (epsilon/k = "
            f"{c.epsilon_K:.6g} K, sigma = {c.sigma:.6g} angstrom) the state T* = {t[i]:.5g}, "
            f"rho* = {float(rho_star[i]):.5g} lies inside the model's spinodal (dp/drho <= 0, "
            f"below its T*c ~ {c.T_c_star:.4g}): no single-phase fluid has it, a simulation "
            f"or measurement there sees two phases, and the prediction is NaN; leave out the "
            f"row, check the density's unit, or centre %s below %s"
            % c.prior_K(T_K[i] / c.T_c_star)
        )


#: A compressed-liquid row whose pressure lies more than this factor above the model's
#: pressure at the EOS's highest validated density (at the row's T, prior centre) is
#: refused: no liquid the EOS answers for has it at any draw near the centre (a pressure
#: in Pa or kPa in the MPa column). The factor leaves room for a centre off in epsilon
#: and sigma (p scales as epsilon / sigma^3).
PRESSURE_REACH_FACTOR = 30.0


#: (EOS name, id, T*, rho*, shape) -> (EOS, p*): the build-time pressure check's values,
#: evaluated op by op (0.2-0.5 s for SAFT-VR Mie); the atlas builds each fluid's problem
#: once per training set, at one prior centre. The EOS is kept with its values, so an id
#: is never reused for another while its entry lives.
_TOP_PRESSURE: dict = {}


def _top_pressure_star(eos, t_star, rho_star: float, shape: dict) -> np.ndarray:
    """p* of ``eos`` at reduced temperatures ``t_star`` and density ``rho_star``."""
    t_star = np.asarray(t_star, float)
    shape_key = tuple(sorted((k, float(v)) for k, v in shape.items()))
    key = (eos.name, id(eos), t_star.tobytes(), float(rho_star), shape_key)
    hit = _TOP_PRESSURE.get(key)
    if hit is not None and hit[0] is eos:
        return hit[1]
    with jax.enable_x64(True):
        p_star = jax.vmap(lambda a: pressure(eos, a, rho_star, **shape))(
            jnp.asarray(t_star, jnp.float64)
        )
    value = np.asarray(p_star)
    value.flags.writeable = False
    if len(_TOP_PRESSURE) >= 256:
        del _TOP_PRESSURE[next(iter(_TOP_PRESSURE))]
    _TOP_PRESSURE[key] = (eos, value)
    return value


def _check_reachable_pressure(c: _Centre, T_K, p_MPa, observable: str) -> None:
    """A ProblemError naming the first row whose pressure the model cannot reach within
    its EOS's validated densities at the prior centre (:data:`PRESSURE_REACH_FACTOR`)."""
    T_K, p_MPa = np.asarray(T_K, float), np.asarray(p_MPa, float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon
    # a chain's packing limit lies near rho* = 1 / segments (docs/vle.md)
    rho_max = float(c.fluid.eos.validity.rho_star_limit(c.shape))
    p_top = _top_pressure_star(c.fluid.eos, t, rho_max, c.shape)
    p_top = p_top * c.epsilon / c.sigma**3 * KJ_PER_MOL_PER_A3_IN_MPA
    wrong = np.isfinite(p_top) & (p_top > 0) & (p_MPa > PRESSURE_REACH_FACTOR * p_top)
    if np.any(wrong):
        i, more = _first_rows(wrong)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}, p_MPa = {p_MPa[i]:g}"
            f"{more}: at the prior centre (epsilon/k = {c.epsilon_K:.6g} K, sigma = "
            f"{c.sigma:.6g} angstrom) the model reaches {p_top[i]:.4g} MPa at the highest "
            f"density its EOS is validated for (rho* = {rho_max:.4g}); a pressure more than "
            f"{PRESSURE_REACH_FACTOR:g} times that has no fluid state the EOS answers for, "
            "and the prediction is NaN: check the pressure's unit (MPa, not kPa or Pa)"
        )


#: A residual energy per molecule larger in size than this many epsilon per segment (at
#: the prior centre) is refused as a unit slip (J/mol in the kJ/mol column): a dense
#: Lennard-Jones liquid has u_res = -7.5 epsilon (rho* 1.08, T* 0.7), a two-centre
#: molecule with its four site pairs a few times that; 200 leaves room for a centre's
#: epsilon 5 times too small, and J/mol gives 1000 times the kJ/mol value.
RESIDUAL_ENERGY_FACTOR = 200.0


def _check_energy_scale(c: _Centre, E_kJ_per_mol, T_K, observable: str) -> None:
    """A ProblemError naming the first row whose observed residual energy is larger in
    size than :data:`RESIDUAL_ENERGY_FACTOR` epsilon per segment at the prior centre."""
    E, T_K = np.asarray(E_kJ_per_mol, float), np.asarray(T_K, float)
    segments = float(c.shape.get("segments", 1.0))
    top = RESIDUAL_ENERGY_FACTOR * c.epsilon * segments
    wrong = np.abs(E) > top
    if np.any(wrong):
        i, more = _first_rows(wrong)
        per = f" x {segments:g} segments" if segments != 1.0 else ""
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: the observed "
            f"residual energy {E[i]:.5g} kJ/mol is larger in size than "
            f"{RESIDUAL_ENERGY_FACTOR:g} epsilon{per} = {top:.4g} kJ/mol at the prior centre "
            f"(epsilon/k = {c.epsilon_K:.6g} K), far beyond any fluid's (a dense LJ liquid: "
            "-7.5 epsilon): check the column's unit (kJ/mol, not J/mol)"
        )


#: Rows at or above this factor times the model's critical temperature (prior centre) are
#: supercritical even for a centre 20 % off in epsilon: there every fluid state has p > 0
#: (dp/drho > 0 at every density above Tc, and p = 0 at rho = 0). Below, a stretched
#: liquid's p < 0 is real (review, 2026-11-30: at 1.1 a centre 20 % shallow refused a
#: liquid at 0.88 of the fluid's Tc).
SUPERCRITICAL_MARGIN = 1.3


def _check_supercritical_pressure_sign(c: _Centre, p_MPa, T_K, observable: str) -> None:
    """A ProblemError naming the first row with an observed pressure <= 0 at a temperature
    :data:`SUPERCRITICAL_MARGIN` above the model's Tc at the prior centre (a sign slip)."""
    p, T_K = np.asarray(p_MPa, float), np.asarray(T_K, float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon
    wrong = (p <= 0.0) & (t >= SUPERCRITICAL_MARGIN * c.T_c_star)
    if np.any(wrong):
        i, more = _first_rows(wrong)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: the observed "
            f"pressure {p[i]:g} MPa is not > 0, but the row lies {t[i] / c.T_c_star:.3g} "
            f"times above the model's critical temperature at the prior centre "
            f"({c.T_c_star * c.epsilon_K:.5g} K), where every fluid state has p > 0: check "
            "the value's sign and unit"
        )


#: An observed residual energy > 0 is refused where the model's at the prior centre is
#: below minus this many epsilon per molecule (a flipped sign): a centre's error cannot
#: turn so attractive a state repulsive (the LJ fluid's u_res stays negative up to T* ~ 30
#: at liquid densities).
ATTRACTIVE_ENERGY_EPSILON = 1.0


def _check_energy_sign(c: _Centre, E_kJ_per_mol, T_K, rho_star, observable: str) -> None:
    """A ProblemError naming the first row whose observed residual energy is > 0 where the
    model's at the prior centre is below -:data:`ATTRACTIVE_ENERGY_EPSILON` epsilon (the
    EOS is evaluated only at such rows: real data seldom have them)."""
    E, T_K = np.asarray(E_kJ_per_mol, float), np.asarray(T_K, float)
    suspect = np.flatnonzero(E > 0.0)
    if suspect.size == 0:
        return
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K[suspect] / c.epsilon
    with jax.enable_x64(True):
        u_star = jax.vmap(lambda a, b: residual_energy(c.fluid.eos, a, b, **c.shape))(
            jnp.asarray(t, jnp.float64), jnp.asarray(np.asarray(rho_star)[suspect], jnp.float64)
        )
    u_all = np.full(E.shape, np.nan)
    u_all[suspect] = np.asarray(u_star)
    wrong = u_all < -ATTRACTIVE_ENERGY_EPSILON
    if np.any(wrong):
        i, more = _first_rows(wrong)
        u = float(u_all[i])
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: the observed "
            f"residual energy {E[i]:.5g} kJ/mol is > 0 where the model's at the prior centre "
            f"is {u * c.epsilon:.4g} kJ/mol ({u:.3g} epsilon, epsilon/k = {c.epsilon_K:.6g} "
            "K): residual energies of such states are negative (attraction); check the "
            "value's sign"
        )


#: A liquid's density (saturated, or compressed below Tc) lies above the critical
#: density, a saturated vapour's below it: a row more than this factor on the wrong
#: side of the model's critical density at the prior centre is refused as the other
#: phase's value (a swapped column, a unit slip). Real fluids: rho_l/rho_c >= 1.3 and
#: rho_v/rho_c <= 0.7 up to 0.99 Tc; the factor leaves room for a prior centre's sigma
#: off by 25 % (rho_c by a factor 2).
PHASE_SIDE_FACTOR = 2.0


def _check_phase_side(c: _Centre, values, T_K, observable: str, phase: str) -> None:
    """A ProblemError naming the first row of a liquid (or vapour) density that lies on
    the other phase's side of the critical density at the prior centre
    (:data:`PHASE_SIDE_FACTOR`); values in mol/L."""
    rho_c = c.rho_c_star / (c.sigma**3 * _MOL_PER_L)  # mol/L
    v, T_K = np.asarray(values, float), np.asarray(T_K, float)
    if phase == "vapour":
        wrong, side, other = v > PHASE_SIDE_FACTOR * rho_c, "below", "a liquid's"
    else:
        wrong, side, other = v < rho_c / PHASE_SIDE_FACTOR, "above", "a vapour's"
        if phase == "compressed":  # above Tc a dense fluid may lie below rho_c
            wrong &= GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon < 0.95 * c.T_c_star
    if np.any(wrong):
        i, more = _first_rows(wrong)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: the observed "
            f"density {v[i]:.5g} mol/L is {other} (at the prior centre, sigma = "
            f"{c.sigma:.6g} angstrom, the model's critical density is {rho_c:.5g} mol/L and "
            f"a {phase} density lies {side} it below Tc; refused beyond a factor "
            f"{PHASE_SIDE_FACTOR:g}): check that the column is this phase's and its unit"
        )


#: An observed liquid density (saturated, or compressed at any T) above this factor times
#: the highest density the model's EOS was validated at, at the prior centre, is refused as
#: a unit slip. A real liquid lies below that density (the LJ fluid's triple-point liquid
#: has rho* = 0.845, the Thol EOS is validated to 1.08; argon's 35.5 mol/L at 83.8 K,
#: data/vle/saturation_argon.csv, is rho* 0.83 at sigma 3.4 angstrom), and the factor 3
#: leaves room for a prior centre's sigma 50 % too large (rho* ~ sigma^3). A density in
#: mol/m^3 is 1000 times too large, one in kg/m^3 (g/L) M/(g/mol) times: 20 for neon, 40
#: for argon, 16-170 for methane to n-dodecane. Not caught: kg/m^3 for hydrogen or helium.
LIQUID_DENSITY_FACTOR = 3.0

#: An observed vapour pressure above this factor times the model's critical pressure at the
#: prior centre is refused: no vapour pressure exceeds p_c (the shipped fluids' data end at
#: or below 0.95 Tc, under 0.8 p_c), and as p_c ~ epsilon / sigma^3 the factor 5 leaves room
#: for a centre's sigma 40 % too large and epsilon 40 % too small at once (4.6). A vapour
#: pressure in kPa is 1000 times, one in bar 10 times too large (the bar slip is caught
#: near Tc only).
CRITICAL_PRESSURE_FACTOR = 5.0

#: Where the critical point at the prior centre is the EOS's estimate (shape parameters
#: free: a solve compiles for ~20 s, :data:`ESTIMATE_MARGIN`), p*c is taken as
#: Z_c rho*c T*c with van der Waals' Z_c = 3/8: measured against the solved p*c
#: (SAFT-VR Mie over segments 1-16, lambda_r 6.5-50, lambda_a 5-7; 2CLJQ over L* 0-0.8,
#: Q*^2 0-4; 2026-11-29), 0.97 to 1.38 times it.
CRITICAL_COMPRESSIBILITY = 0.375

#: An observed enthalpy of vaporisation above this factor times R Tc of the model at the
#: prior centre is refused. Real fluids stay below 12 R Tc down to 0.4 Tc: argon 5.2 R Tc
#: at its triple point, CO2 6.1 at its (0.71 Tc), n-dodecane 11.9 at 0.40 Tc (the largest of
#: the shipped data files, data/vle/ and data/alkanes/saturation_*.csv: reference EOS via
#: CoolProp); Pitzer's correlation, 7.08 (1 - Tr)^0.354 + 10.95 omega (1 - Tr)^0.456, gives
#: 15.5 R Tc for an acentric factor of 1 at 0.3 Tc (beyond its fitted range). The Thol LJ
#: EOS gives 6.8 epsilon = 5.1 R Tc at its triple point (T* 0.694). The factor 50 leaves room
#: for a centre's Tc 4 times too low; a value in J/mol (x 1000, at least 4800 R Tc of the
#: fluid) exceeds it unless the centre's Tc is 100 times too high.
ENTHALPY_OF_VAPORISATION_FACTOR = 50.0


def _top_density(c: _Centre) -> tuple[float, str]:
    """The EOS's highest validated density at the prior centre (mol/L, molecules) and how
    it is counted: a chain's packing limit lies near rho* = 1 / segments (docs/vle.md)."""
    v = c.fluid.eos.validity
    hi, per_molecule = v.rho_star_max, float(v.rho_star_limit(c.shape))
    per = f" ({hi:g} / {hi / per_molecule:g} segments)" if per_molecule != hi else ""
    top = per_molecule / (c.sigma**3 * _MOL_PER_L)
    return top, f"rho* = {per_molecule:.4g} per molecule{per}"


def _critical_pressure(c: _Centre) -> tuple[float, str]:
    """The model's critical pressure at the prior centre (MPa): the solved one where the
    EOS has no shape parameters, else :data:`CRITICAL_COMPRESSIBILITY` rho*c T*c from the
    critical estimate; and how it was had, for messages."""
    crit = constant_critical_point(c.fluid.eos) if c.exact else None
    if crit is not None:
        p_star, how = float(crit.p_star), ""
    else:
        p_star = CRITICAL_COMPRESSIBILITY * c.rho_c_star * c.T_c_star
        how = f", estimated as {CRITICAL_COMPRESSIBILITY:g} rho_c R Tc"
    return p_star * c.epsilon / c.sigma**3 * KJ_PER_MOL_PER_A3_IN_MPA, how


def _check_observed_scale(c: _Centre, prop: str, values, T_K, observable: str) -> None:
    """A ProblemError naming the first row whose observed liquid density (``prop``
    ``rho_l`` or ``compressed``), vapour pressure (``p_sat``) or enthalpy of vaporisation
    (``dH_vap``) lies far above anything the model can give at the prior centre: a unit
    slip (:data:`LIQUID_DENSITY_FACTOR`, :data:`CRITICAL_PRESSURE_FACTOR`,
    :data:`ENTHALPY_OF_VAPORISATION_FACTOR`). Closed forms at the centre: no EOS solve."""
    v, T_K = np.asarray(values, float), np.asarray(T_K, float)
    at = f"at the prior centre (epsilon/k = {c.epsilon_K:.6g} K, sigma = {c.sigma:.6g} angstrom)"
    if prop in ("rho_l", "compressed"):
        top, how = _top_density(c)
        factor, what, unit = LIQUID_DENSITY_FACTOR, "density", "mol/L"
        bound = (
            f"is above any liquid's of the model: {at} the highest density its "
            f"{c.fluid.eos.name} EOS was validated at, {how}, is {top:.4g} mol/L"
        )
        hint = "mol/L, not mol/m^3 or kg/m^3"
    elif prop == "p_sat":
        top, how = _critical_pressure(c)
        factor, what, unit = CRITICAL_PRESSURE_FACTOR, "vapour pressure", "MPa"
        bound = (
            f"is above the model's critical pressure, which no vapour pressure exceeds: {at} "
            f"the critical pressure is {top:.4g} MPa{how}"
        )
        hint = "MPa, not kPa or bar"
    elif prop == "dH_vap":
        top = c.T_c_star * c.epsilon  # R Tc, kJ/mol
        factor, what, unit = ENTHALPY_OF_VAPORISATION_FACTOR, "enthalpy of vaporisation", "kJ/mol"
        how = "" if c.exact else ", estimated"
        bound = (
            f"is above any the model can give: {at} its critical temperature "
            f"{c.T_c_star * c.epsilon_K:.5g} K{how} gives R Tc = {top:.4g} kJ/mol, and real "
            f"fluids stay below 12 R Tc down to 0.4 Tc"
        )
        hint = "kJ/mol, not J/mol"
    else:
        return
    wrong = np.isfinite(top) & (v > factor * top)
    if np.any(wrong):
        i, more = _first_rows(wrong)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}{more}: the observed "
            f"{what} {v[i]:.5g} {unit} {bound}, and values above {factor:g} times that "
            f"({factor * top:.4g} {unit}) are refused; check the column's unit ({hint})"
        )


#: A compressed-liquid row whose pressure lies this factor below the model's vapour
#: pressure at the prior centre is refused: at the centre it has no stable liquid (the
#: forward model's BELOW_VAPOUR_PRESSURE, NaN), and calibrate could not start there. Nearer
#: the draws decide (docs/vle.md): the LJ fluid's p_sat at a given T falls 10 times for an
#: epsilon 23 % (at 0.5 Tc) to 45 % (at 0.85 Tc) deeper than the centre's (the Thol EOS's
#: ancillary equation), so a row within the factor may be a real liquid that the centre
#: puts below its vapour pressure.
BELOW_VAPOUR_PRESSURE_FACTOR = 10.0

#: Only rows below this factor times the LJ-shaped estimate of the vapour pressure
#: (the Thol EOS's ancillary p/p_c at T/Tc, times the centre's p_c) over
#: :data:`BELOW_VAPOUR_PRESSURE_FACTOR` are solved for (a coexistence solve compiles for
#: 4-8 s, 20 s or more with a critical-point solve): the model's p_sat is at most 2.6 times
#: the estimate (measured over the grid of :data:`CRITICAL_COMPRESSIBILITY` at 0.45-0.99 Tc:
#: SAFT-VR Mie lambda_r 6.5, lambda_a 5, one segment, at 0.45 Tc; chains, steep Mie and
#: 2CLJQ lie below the LJ shape, down to 1e-3 of it).
P_SAT_ESTIMATE_MARGIN = 3.0


def _saturation_solver(eos: ReducedEOS):
    """``solve(t, shape, critical) -> (p*, status)`` at reduced temperatures ``t``, jitted
    once per EOS (``critical`` None: solved in the same program)."""
    solver = _SATURATION_SOLVERS.get(eos.name)
    if solver is None:

        def solve(t, shape, critical):
            crit = critical if critical is not None else critical_point(eos, **shape)
            coex = jax.vmap(lambda x: solve_coexistence(eos, x, critical=crit, **shape))(t)
            return coex.p, coex.status

        solver = _SATURATION_SOLVERS[eos.name] = jax.jit(solve)
    return solver


#: Jitted coexistence solves of the build-time check, by EOS name (_saturation_solver).
_SATURATION_SOLVERS: dict[str, Callable] = {}


#: The LJ ancillary's p/p_c at one T/Tc, jitted: evaluated op by op it compiled each
#: operation for ~2 s when a problem was built.
_ancillary_jit = jax.jit(ancillary_reduced)


def _ancillary_p_r(t_r: np.ndarray) -> np.ndarray:
    """p/p_c of the Thol LJ EOS's ancillary equation at each T/Tc (NaN at or above 1): one
    call of a jitted scalar function per distinct value (one compilation per process)."""
    u, inv = np.unique(np.asarray(t_r, float), return_inverse=True)
    with jax.enable_x64(True):
        p_r = np.array([float(_ancillary_jit(jnp.float64(x))[0]) for x in u])
    return p_r[inv]


def _saturation_pressure_star(c: _Centre, t: np.ndarray) -> tuple[np.ndarray, str]:
    """The model's p*_sat at reduced temperatures ``t`` at the prior centre (NaN where there
    is none), and its source for messages. The Thol LJ EOS has the paper's ancillary
    equation, within 0.07 % of the EOS's own curve at T* 0.661-1.31 (teqp's pure_VLE_T,
    2026-11-29): no solve. Other EOS: a coexistence solve (and a critical point where it
    depends on the shape), compiled once per EOS and process."""
    eos = c.fluid.eos
    if eos.name == LJ_THOL2016.name:  # reduced by the paper's critical point (ancillary)
        t_c, _, p_c = THOL2016_CRITICAL
        return p_c * _ancillary_p_r(t / t_c), " (the Thol EOS's ancillary equation)"
    with jax.enable_x64(True):
        shape = {k: jnp.asarray(v, jnp.float64) for k, v in c.shape.items()}
        p_star, status = _saturation_solver(eos)(
            jnp.asarray(t, jnp.float64), shape, constant_critical_point(eos)
        )
    return np.where(np.asarray(status) == SolveStatus.OK, np.asarray(p_star), np.nan), ""


def _check_above_vapour_pressure(c: _Centre, T_K, p_MPa, observable: str) -> None:
    """A ProblemError naming the first compressed-liquid row whose pressure lies more than
    :data:`BELOW_VAPOUR_PRESSURE_FACTOR` below the model's vapour pressure at its T at the
    prior centre; a coexistence solve there only for rows the LJ-shaped estimate flags
    (:data:`P_SAT_ESTIMATE_MARGIN`), so a problem of real liquids solves nothing."""
    T_K, p = np.asarray(T_K, float), np.asarray(p_MPa, float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon
    below = t < c.T_c_star
    if not np.any(below):
        return
    p_c, _ = _critical_pressure(c)
    p_r = _ancillary_p_r(np.clip(t / c.T_c_star, 0.05, 0.999))
    suspect = below & (p * BELOW_VAPOUR_PRESSURE_FACTOR < P_SAT_ESTIMATE_MARGIN * p_c * p_r)
    if not np.any(suspect):
        return
    temps = np.unique(t[suspect])
    p_star, how = _saturation_pressure_star(c, temps)
    p_sat = np.full(t.shape, np.nan)
    p_sat[suspect] = p_star[np.searchsorted(temps, t[suspect])]
    p_sat *= c.epsilon / c.sigma**3 * KJ_PER_MOL_PER_A3_IN_MPA
    wrong = suspect & np.isfinite(p_sat) & (p * BELOW_VAPOUR_PRESSURE_FACTOR < p_sat)
    if np.any(wrong):
        i, more = _first_rows(wrong)
        raise ProblemError(
            f"observable {observable!r}, the row at T_K = {T_K[i]:g}, p_MPa = {p[i]:g}{more}: "
            f"at the prior centre (epsilon/k = {c.epsilon_K:.6g} K, sigma = {c.sigma:.6g} "
            f"angstrom) the model's vapour pressure at {T_K[i]:g} K is {p_sat[i]:.4g} MPa{how}, "
            f"{p_sat[i] / p[i]:.3g} times this row's pressure (refused beyond a factor "
            f"{BELOW_VAPOUR_PRESSURE_FACTOR:g}): below it there is no stable liquid and the "
            "prediction is NaN (BELOW_VAPOUR_PRESSURE); check the pressure's unit (MPa: a "
            "value in GPa reads 1000 times too low) and that the row is a compressed "
            "liquid's, not a vapour's"
        )


def _floor_critical(c: _Centre) -> tuple[float, float]:
    """(T*c, rho*c) for the floor's regions: the exact point, or the EOS's estimate.

    The estimate (``critical_estimate``: within 0.7 % of the solved T*c for SAFT-VR Mie
    at lambda_r 8-50 and 4.5 % below, 3 % for the two-centre EOS) only picks a floor's
    region (edges 0.8, 0.9, 0.95 Tc; 0.55 too for the two-centre EOS); a row within that
    error of an edge gets the larger of the two regions' floors
    (:meth:`EOSErrorFloor.vle`, ``tc_error``). Solving instead compiled a critical-point
    program for every new shape when a problem was built (about 20 s each): the shipped
    sweeps' Mie-chain problems then took minutes to build.
    """
    return c.T_c_star, c.rho_c_star


# ----------------------------------------------------------------------------- floors


def _tc_error(c: _Centre, which: str = "critical_estimate_error") -> float:
    """Relative error of the Tc (or, ``which = "critical_density_estimate_error"``, the
    rho_c) a floor's regions are read with: 0 for a solved critical point, else the
    EOS's estimate's error."""
    if c.exact:
        return 0.0
    e = getattr(c.fluid.eos, which)
    return float(e(**c.shape) if callable(e) else e)


#: Vapour pressures whose ratio to the model's at the prior centre lies between these
#: factors at both the coldest and the warmest row below Tc, the two ratios within
#: :data:`VAPOUR_PRESSURE_RATIO_SPREAD` of each other, are refused: a value in bar in the
#: MPa column is 10 times too large at every row alike. A centre off in epsilon moves
#: p_sat most at the coldest row and least near Tc (the LJ fluid's p_sat at a given T
#: falls 10 times for an epsilon 23 % deeper at 0.5 Tc, 45 % at 0.85 Tc: the Thol EOS's
#: ancillary equation), so ratios that differ between the ends, or far beyond 10 (a
#: transferable chain model's centre can be thousands of times off for one molecule),
#: are a centre's, not a unit's. Rows are solved for only where the LJ-shaped estimate
#: flags them (:data:`P_SAT_ESTIMATE_MARGIN`); a chain's p_sat lies far below that shape,
#: so a bar slip in a chain's data is caught only where the estimate flags it too.
VAPOUR_PRESSURE_RATIO_BAND = (5.0, 50.0)
VAPOUR_PRESSURE_RATIO_SPREAD = 2.0
#: The check needs rows that span this ratio of temperatures (argon's 83.8-122.5 K data:
#: 1.46): over a narrower range, or at one row, a centre off in epsilon shifts the ends
#: alike (review, 2026-11-30: one row at 104 K under a 145 K centre was 5.4 times off).
VAPOUR_PRESSURE_RATIO_T_SPAN = 1.25


def _check_vapour_pressure_ratio(c: _Centre, values, T_K, observable: str) -> None:
    """A ProblemError when the observed vapour pressures at the coldest and the warmest
    row below the model's Tc, at least :data:`VAPOUR_PRESSURE_RATIO_T_SPAN` apart in T, are
    alike many times the model's at the prior centre (:data:`VAPOUR_PRESSURE_RATIO_BAND`,
    :data:`VAPOUR_PRESSURE_RATIO_SPREAD`): a unit slip, bar in the MPa column."""
    v, T_K = np.asarray(values, float), np.asarray(T_K, float)
    t = GAS_CONSTANT_KJ_PER_MOL_K * T_K / c.epsilon
    below = np.flatnonzero(t < c.T_c_star)
    if below.size == 0:
        return
    ends = np.unique(below[[np.argmax(t[below]), np.argmin(t[below])]])
    if t[ends].max() < VAPOUR_PRESSURE_RATIO_T_SPAN * t[ends].min():
        return
    p_c, _ = _critical_pressure(c)
    estimate = p_c * _ancillary_p_r(np.clip(t[ends] / c.T_c_star, 0.05, 0.999))
    low, high = VAPOUR_PRESSURE_RATIO_BAND
    if not np.all(v[ends] * P_SAT_ESTIMATE_MARGIN > low * estimate):
        return
    temps = np.unique(t[ends])
    p_star, how = _saturation_pressure_star(c, temps)
    p_sat = p_star[np.searchsorted(temps, t[ends])] * c.epsilon / c.sigma**3
    ratio = v[ends] / (p_sat * KJ_PER_MOL_PER_A3_IN_MPA)
    alike = ratio.max() <= VAPOUR_PRESSURE_RATIO_SPREAD * ratio.min()
    if np.all(np.isfinite(ratio) & (ratio > low) & (ratio < high)) and alike:
        rows = " and ".join(f"{T_K[i]:g}" for i in ends)
        times = " and ".join(f"{r:.3g}" for r in ratio)
        raise ProblemError(
            f"observable {observable!r}, the rows at T_K = {rows}: the observed vapour "
            f"pressures are {times} times the model's at the prior centre (epsilon/k = "
            f"{c.epsilon_K:.6g} K, sigma = {c.sigma:.6g} angstrom){how}: refused where the "
            f"coldest and the warmest row are alike {low:g} to {high:g} times it (a centre "
            f"off in epsilon moves the coldest row most): check the column's unit (MPa, not "
            f"bar: 1 bar = 0.1 MPa) or centre epsilon's prior nearer"
        )


def _check_phase_and_scale(c: _Centre, prop: str, values, T_K, observable: str) -> None:
    """The phase side of a saturated density (a swapped liquid/vapour column) and the
    observed value's scale (a unit slip), at the prior centre ``c``."""
    if prop in ("rho_l", "rho_v"):
        phase = "liquid" if prop == "rho_l" else "vapour"
        _check_phase_side(c, values, T_K, observable, phase)
    _check_observed_scale(c, prop, values, T_K, observable)
    if prop == "p_sat":
        _check_vapour_pressure_ratio(c, values, T_K, observable)


def _vle_floor(prop: str, observable: str):
    """floor(potential, params, env, values, options): relative EOS error x |value|.

    Also the build-time check of the target's rows (:func:`_check_temperatures`).
    """

    def floor(potential, params, env, values, options):
        n = np.shape(values)[0]
        method = _method(potential, prop, observable, (options or {}).get("method", "eos"))
        _require_positive(observable, "an observed value", values, env["T_K"])
        if method == "correlation":
            out = _correlation_floor(prop, observable, potential, params, env, values)
            # the EOS's centre (its Tc and rho_c from the EOS's critical estimate, not the
            # Stoll correlations', within a few %): enough for the unit-slip and phase-side
            # checks, whose factors are far wider
            c = _centre(potential, params, observable)
            _check_phase_and_scale(c, prop, values, env["T_K"], observable)
            return out
        c = _centre(potential, params, observable)
        _check_temperatures(c, env["T_K"], observable, coexistence=True)
        _check_phase_and_scale(c, prop, values, env["T_K"], observable)
        if c.fluid.floor is None:
            return np.zeros(n)
        t_c, _ = _floor_critical(c)
        if not np.isfinite(t_c):
            return np.zeros(n)
        t_r = GAS_CONSTANT_KJ_PER_MOL_K * np.asarray(env["T_K"], float) / c.epsilon / t_c
        floor = c.fluid.floor.at(c.shape).vle(prop, t_r, _tc_error(c))
        return floor * np.abs(np.asarray(values, float))

    return floor


def _single_floor(kind: str, observable: str):
    """Single-phase floors: dp* epsilon / sigma^3, du* epsilon, or drho/rho |rho|.

    Also the build-time check of the target's rows (temperatures, densities).
    """

    def floor(potential, params, env, values, options):
        n = np.shape(values)[0]
        if kind == "density":
            _require_positive(observable, "a pressure p_MPa", env["p_MPa"], env["T_K"])
            _require_positive(observable, "an observed density", values, env["T_K"])
        else:
            _require_positive(observable, "a density rho_per_A3", env["rho_per_A3"], env["T_K"])
        c = _centre(potential, params, observable)
        _check_temperatures(c, env["T_K"], observable, coexistence=False)
        if kind != "density":
            rho = _check_densities(c, env["rho_per_A3"], observable)
            _check_stable(c, env["T_K"], env["rho_per_A3"], rho, observable)
            if kind == "pressure":  # a unit slip: kPa or Pa in the MPa column
                _check_reachable_pressure(c, env["T_K"], values, observable)
                _check_supercritical_pressure_sign(c, values, env["T_K"], observable)
            else:  # J/mol in the kJ/mol column
                _check_energy_scale(c, values, env["T_K"], observable)
                _check_energy_sign(c, values, env["T_K"], rho, observable)
        else:
            _check_phase_side(c, values, env["T_K"], observable, "compressed")
            _check_observed_scale(c, "compressed", values, env["T_K"], observable)
            _check_reachable_pressure(c, env["T_K"], env["p_MPa"], observable)
            _check_above_vapour_pressure(c, env["T_K"], env["p_MPa"], observable)
        if c.fluid.floor is None:
            return np.zeros(n)
        t_c, rho_c = _floor_critical(c)
        if not np.isfinite(t_c):
            return np.zeros(n)
        t_r = GAS_CONSTANT_KJ_PER_MOL_K * np.asarray(env["T_K"], float) / c.epsilon / t_c
        if kind == "density":
            rho_r = np.full(n, np.inf)  # a compressed liquid: the liquid/supercritical floors
            floor = c.fluid.floor.at(c.shape).single(t_r, rho_r, _tc_error(c))
            return floor[:, 2] * np.abs(np.asarray(values, float))
        rhoc_error = _tc_error(c, "critical_density_estimate_error")
        f = c.fluid.floor.at(c.shape).single(t_r, rho / rho_c, _tc_error(c), rhoc_error)
        if kind == "pressure":
            return f[:, 0] * c.epsilon / c.sigma**3 * KJ_PER_MOL_PER_A3_IN_MPA
        return f[:, 1] * c.epsilon

    return floor


# ----------------------------------------------------------------------------- registration

_T = EnvField("T_K", "temperature", "temperature")
_RHO = EnvField("rho_per_A3", "number_density", "number density")
_P = EnvField("p_MPa", "pressure", "pressure")
_REF = (
    "equations of state of model fluids (bayesff.observables.eos: LJ: M. Thol et al., J. Phys. "
    "Chem. Ref. Data 45, 023101 (2016), doi:10.1063/1.4945000; Mie and Mie chains: SAFT-VR Mie, "
    "T. Lafitte et al., J. Chem. Phys. 139, 154504 (2013), doi:10.1063/1.4819786; 2CLJ(Q): "
    "M. Lisal et al., Int. J. Thermophys. 25, 159 (2004), doi:10.1023/B:IJOT.0000022332.12319.06, "
    "quadrupole: B. Saager and J. Fischer, Fluid Phase Equilib. 72, 67 (1992)); coexistence by "
    "Newton's method with implicit differentiation (bayesff.observables.eos.coexistence)"
)
_KINDS = ("pair", "linear", "chain")


def _register(name, env, column, dimension, unit, build, description, floor, options=None):
    # the four saturation properties of T alone; the single-phase ones take (T, rho) or (T, p)
    subcritical = env == (_T,)
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
            options=options,
            error_floor=floor,
            subcritical=subcritical,
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
    ("method",),
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
    ("method",),
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
    ("method",),
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
    ("method",),
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
