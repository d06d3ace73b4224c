r"""Molecular-liquid targets: MBAR reweighting of prepared NPT and gas runs inside NUTS.

Three registered observables turn the stored reference runs of one molecule
(NPT liquid at each state, isolated molecules in the gas phase; made by
``bayesff prepare``) into ``predict(params, env, aux=...)`` functions of the
force field's nonbonded parameters (``kind = "forcefield"``,
:mod:`bayesff.potentials.molecular_ff`), with the columns of the saturation
and compressed-liquid data files of ``data/alkanes/``:

===============================  =====================  ==============================
observable                       environment            value (unit)
===============================  =====================  ==============================
``md_saturated_liquid_density``  T_K, p_sat_MPa         rho_l_mol_per_L (mol/L)
``md_enthalpy_of_vaporisation``  T_K, p_sat_MPa         dH_vap_kJ_per_mol (kJ/mol)
``md_liquid_density``            T_K, p_MPa             rho_mol_per_L (mol/L)
===============================  =====================  ==============================

The liquid of a saturation row is simulated and reweighted at the row's own
(T, p_sat): the liquid branch at its vapour pressure. The enthalpy of
vaporisation is :math:`\Delta H_{vap} = \langle U_{gas}\rangle - \langle
U_{liq}\rangle/N + k_B T - p \langle V_{liq}\rangle / N` with an ideal vapour
(:mod:`bayesff.observables.molecular_reweight`); its error, the residual
enthalpy of the real saturated vapour, grows with p_sat (docs/alkanes.md gives
it per molecule and temperature from the reference equations of state).

Prepared data, never a simulation
---------------------------------
``predict`` is a pure function of arrays. ``bayesff prepare PROBLEM`` makes,
for every molecule and run settings, one NPT run per distinct state the
targets use and one gas run per temperature, keeps the frames after the
detected equilibration, and stores their sufficient statistics and MBAR
free energies (:func:`bayesff.observables.molecular_reweight.prepare`) with
the averages at the reference and their gradients (:func:`prepared_arrays`);
loading the problem puts those arrays into :attr:`bayesff.targets.Target.aux`.

The trust region, made smooth
-----------------------------
As for the argon MD targets (:mod:`bayesff.observables.md_targets`), the
prediction at parameters theta blends the reweighted average with its
first-order expansion about the reference, through Perlin's smootherstep of
the Kish ESS fraction e of the weights at the row's state
(:func:`bayesff.observables.md_targets.trust_weight`):
:math:`A = s(e) A_{rw} + [1 - s(e)] [A(\theta_0) + \nabla A(\theta_0)\cdot(\theta -
\theta_0)]`, with e the liquid's ESS over that state's frame count for the
density and the smaller of the liquid's and the gas's for
:math:`\Delta H_{vap}`. The posterior is never truncated; the ESS of each
state at the posterior draws says whether to re-simulate there.

Units: T in K, p in MPa, densities in mol/L, energies in kJ/mol per molecule;
parameters in internal units (kJ/mol, angstrom).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables import molecular_reweight as mr
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.observables.md_targets import trust_weight
from bayesff.potentials import forcefield as ff
from bayesff.units import AVOGADRO

__all__ = [
    "ENGINE_NAMES",
    "GAS_CONSTANT_KEYS",
    "MOLECULAR_OBSERVABLES",
    "OPTION_NAMES",
    "STATE_MATCH_RTOL",
    "MolecularSettings",
    "gas_ess_fractions",
    "parse_options",
    "prepared_arrays",
    "quantity_of",
    "state_index",
    "systems",
    "with_gas_constants",
]

#: Rows are matched to prepared states when T and p agree to this relative tolerance
#: (p also absolutely to 1e-9 MPa: vapour pressures near the triple point are ~1e-7 MPa).
STATE_MATCH_RTOL = 1e-9
#: The MD engines a target may name (those of bayesff.simulate.engines, which a forward
#: model never imports; tests/observables/test_molecular_targets.py checks they agree).
ENGINE_NAMES = ("openmm", "jax-md")
#: Densest liquid the box check assumes, kg/m^3 (n-alkanes: < 800 below 0.7 Tc).
_MAX_DENSITY_KG_M3 = 1000.0


@dataclass(frozen=True)
class MolecularSettings:
    """Validated options of a molecular MD target (internal units).

    Attributes
    ----------
    molecule
        Name of a molecule of the problem's ``[[molecules]]``.
    reference
        ``((name, value), ...)``: every parameter of the force field at which the
        reference runs are made, kJ/mol and angstrom (required; Mie exponents
        are taken from here and are not reweighted).
    n_molecules
        Molecules in the periodic liquid (128). The box at 1000 kg/m^3 must hold
        twice the cut-off.
    engine
        ``"openmm"`` (default) or ``"jax-md"`` (:mod:`bayesff.simulate.engines`).
    n_equil, n_steps, sample_every, dt_fs
        Liquid: steps discarded, production steps, steps between frames, time
        step in fs (25000, 50000, 250, 2.0).
    gas_molecules, gas_steps, gas_sample_every
        Gas phase: independent molecules sampled at once, production steps and
        steps between frames (64, 50000, 250; after 5000 steps discarded).
    start_density_kg_per_m3
        Density of the lattice start; the barostat takes it to the liquid's (500).
    seed
        Seed of the runs (0).
    ess_min, ess_width
        The trust band of the ESS fraction (0.3, 0.2; module docstring).
    """

    molecule: str
    reference: tuple[tuple[str, float], ...]
    n_molecules: int = 128
    engine: str = "openmm"
    n_equil: int = 25000
    n_steps: int = 50000
    sample_every: int = 250
    dt_fs: float = 2.0
    gas_molecules: int = 64
    gas_steps: int = 50000
    gas_sample_every: int = 250
    start_density_kg_per_m3: float = 500.0
    seed: int = 0
    ess_min: float = 0.3
    ess_width: float = 0.2

    @property
    def reference_params(self) -> dict[str, float]:
        return dict(self.reference)

    def run_record(self) -> dict:
        """What the reference runs depend on (the prepared files' fingerprint covers it)."""
        d = asdict(self)
        for k in ("ess_min", "ess_width"):
            d.pop(k)
        d["reference"] = self.reference_params
        return d


#: Option names a problem file may set in a molecular MD target's ``options`` table.
OPTION_NAMES = tuple(f.name for f in fields(MolecularSettings))
_INTS = {
    "n_molecules": 2,
    "n_equil": 0,
    "n_steps": 1,
    "sample_every": 1,
    "gas_molecules": 1,
    "gas_steps": 1,
    "gas_sample_every": 1,
    "seed": 0,
}
_MIN_FRAMES = 20


def _number(v) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def parse_options(potential, options: Mapping, where: str = "molecular md target"):
    """Check a molecular MD target's options before anything is simulated or traced.

    Raises
    ------
    ValueError
        Naming the option, what was expected and what was given: a potential
        that is not a force field, an unknown option, an unknown molecule, a
        missing or incomplete ``reference``, bad numbers, fewer than 20 frames,
        an unknown engine, a trust band outside (0, 1], or a liquid box that
        cannot hold twice the cut-off.
    """
    topo = getattr(potential, "topology", None)
    if getattr(potential, "kind", None) != "molecular" or topo is None:
        raise ValueError(
            f"{where}: needs a forcefield potential (kind = 'forcefield' with [[molecules]]), "
            f"got {getattr(potential, 'name', potential)!r}"
        )
    options = {k: v for k, v in options.items() if k != "nodes_per_panel"}
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise ValueError(
            f"{where}: unknown option(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(OPTION_NAMES)}"
        )
    for req in ("molecule", "reference"):
        if req not in options:
            raise ValueError(f"{where}: option {req!r} is required")
    names = [m.name for m in topo.molecules]
    if options["molecule"] not in names:
        raise ValueError(
            f"{where}: option 'molecule' must name one of the problem's molecules {names}, got "
            f"{options['molecule']!r}"
        )
    kw = {"molecule": options["molecule"], "reference": _reference(potential, options, where)}
    kw |= _numbers(options, where)
    s = MolecularSettings(**kw)
    _check_settings(s, topo, where)
    return s


def _reference(potential, options, where) -> tuple[tuple[str, float], ...]:
    """The ``reference`` option: every force-field parameter, finite and in its support."""
    ref = options["reference"]
    pnames = potential.param_names
    if not isinstance(ref, Mapping) or set(ref) != set(pnames):
        got = sorted(ref) if isinstance(ref, Mapping) else repr(ref)
        raise ValueError(
            f"{where}: option 'reference' must be a table of every force-field parameter "
            f"({', '.join(pnames)}) in internal units (kJ/mol, angstrom), got {got}"
        )
    specs = {s.name: s for s in potential.params}
    reference = []
    for n in pnames:
        v = ref[n]
        if not (_number(v) and math.isfinite(float(v)) and specs[n].support.contains(float(v))):
            raise ValueError(
                f"{where}: option 'reference': {n} must be a finite number in "
                f"{specs[n].support.describe()} ({specs[n].unit}), got {v!r}"
            )
        reference.append((n, float(v)))
    return tuple(reference)


def _numbers(options, where) -> dict:
    """The numeric and engine options, checked one by one."""
    kw = {}
    for name, low in _INTS.items():
        if name in options:
            v = options[name]
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
                raise ValueError(
                    f"{where}: option {name!r} must be an integer >= {low}, got {v!r}"
                )
            kw[name] = int(v)
    for name in ("dt_fs", "start_density_kg_per_m3"):
        if name in options:
            v = options[name]
            if not (_number(v) and math.isfinite(float(v)) and float(v) > 0):
                raise ValueError(f"{where}: option {name!r} must be a number > 0, got {v!r}")
            kw[name] = float(v)
    for name in ("ess_min", "ess_width"):
        if name in options:
            v = options[name]
            if not (_number(v) and 0.0 < float(v) < 1.0):
                raise ValueError(
                    f"{where}: option {name!r} must be a number in (0, 1) (a fraction of the "
                    f"frames), got {v!r}"
                )
            kw[name] = float(v)
    if "engine" in options and options["engine"] not in ENGINE_NAMES:
        raise ValueError(
            f"{where}: option 'engine' must be one of {', '.join(map(repr, ENGINE_NAMES))}, got "
            f"{options['engine']!r}"
        )
    if "engine" in options:
        kw["engine"] = options["engine"]
    return kw


def _check_settings(s: MolecularSettings, topo, where) -> None:
    """What the options mean together: the trust band, frame counts, the box."""
    lo, hi = s.ess_min - s.ess_width / 2, s.ess_min + s.ess_width / 2
    if lo <= 0.0 or hi > 1.0:
        raise ValueError(
            f"{where}: the trust band ess_min +- ess_width/2 = [{lo:g}, {hi:g}] must lie in (0, 1]"
        )
    for label, steps, every in (
        ("liquid", s.n_steps, s.sample_every),
        ("gas", s.gas_steps, s.gas_sample_every),
    ):
        if steps // every < _MIN_FRAMES:
            raise ValueError(
                f"{where}: the {label} run stores {steps // every} frames "
                f"({steps} steps, one every {every}); at least {_MIN_FRAMES} are needed"
            )
    mol = topo.molecule(s.molecule)
    mass = topo.molar_mass(mol) * s.n_molecules / AVOGADRO * 1e-3  # kg
    edge = (mass / _MAX_DENSITY_KG_M3) ** (1.0 / 3.0) * 1e10
    if edge < 2.0 * topo.r_cut_angstrom:
        raise ValueError(
            f"{where}: {s.n_molecules} molecules of {s.molecule} fill a box of only "
            f"{edge:.1f} angstrom at {_MAX_DENSITY_KG_M3:g} kg/m^3, less than twice the cut-off "
            f"({topo.r_cut_angstrom:g} angstrom); use more molecules or a shorter cut-off"
        )


def systems(potential, settings: MolecularSettings):
    """(liquid system, gas system of one molecule, exponents) of a target's molecule."""
    topo = potential.topology
    liquid = ff.System(topo, ((settings.molecule, settings.n_molecules),))
    gas = ff.System(topo, ((settings.molecule, 1),))
    with jax.ensure_compile_time_eval():  # constants, also when built inside a trace
        exps = mr._exponents(liquid, settings.reference_params)
    return liquid, gas, exps


# ----------------------------------------------------------------------------- arrays

#: aux keys besides the liq_* and gas_* statistics of molecular_reweight.prepare
STATE_KEYS = ("state_T_K", "state_p_MPa", "state_frames_liq", "state_frames_gas")


def _prep(potential, settings, aux) -> mr.PreparedReweighting:
    liquid, gas, exps = systems(potential, settings)
    stats = {k: v for k, v in aux.items() if k.startswith(("liq_", "gas_"))}
    return mr.PreparedReweighting(liquid, gas, exps, stats, np.zeros(1), np.zeros(1), ())


#: aux keys of the gas averages at each state when they do not depend on the parameters
#: (:func:`bayesff.observables.molecular_reweight.gas_is_parameter_free`): energy per
#: molecule (kJ/mol) and Kish ESS of the gas samples. Older prepared files lack them.
GAS_CONSTANT_KEYS = ("state_gas_energy", "state_gas_ess")


def _gas_constant(potential, settings, aux) -> bool:
    mol = potential.topology.molecule(settings.molecule)
    return mr.gas_is_parameter_free(mol) and all(k in aux for k in GAS_CONSTANT_KEYS)


def _at_states(potential, settings, names, theta, aux, gas: bool = True):
    """(density mol/L, dH_vap kJ/mol, e_density, e_dhvap) at every prepared state, (S,) each.

    ``gas=False``: the liquid only (a density's targets), dH_vap and e_dhvap NaN. A
    molecule whose gas energy does not depend on the parameters takes its gas averages
    from ``aux`` (:data:`GAS_CONSTANT_KEYS`) instead of reweighting every gas sample
    again: they are most of the work.
    """
    prep = _prep(potential, settings, aux)
    mass = prep.liquid.total_mass_g_per_mol / prep.liquid.n_molecules
    params = {n: theta[i] for i, n in enumerate(names)}
    constant = gas and _gas_constant(potential, settings, aux)
    # the frames' energies do not depend on the state: once, then reweighted per state
    energies = mr.frame_energies_of(prep, params, gas=gas and not constant)
    n_states = jnp.shape(aux["state_T_K"])[0]
    nan = jnp.full((n_states,), jnp.nan)
    e_gas_c = aux["state_gas_energy"] if constant else nan
    ess_gas_c = aux["state_gas_ess"] if constant else nan

    def one(T, p, n_liq, n_gas, e_gas, ess_gas):
        out = mr.averages(prep, energies, T, p)
        e_l = out.ess_liquid / n_liq
        if constant:
            dh = mr.dhvap(e_gas, out.energy_liquid_kJ_per_mol, out.volume_A3_per_molecule, T, p)
            e_g = ess_gas / n_gas
        else:
            dh, e_g = out.dHvap_kJ_per_mol, out.ess_gas / n_gas
        # kg/m^3 = g/L; over the molar mass: mol/L
        return out.density_kg_per_m3 / mass, dh, e_l, jnp.minimum(e_l, e_g)

    return jax.vmap(one)(*(aux[k] for k in STATE_KEYS), e_gas_c, ess_gas_c)


def gas_ess_fractions(potential, settings: MolecularSettings, params, aux) -> np.ndarray:
    """ESS fraction of the gas samples at each prepared state, at ``params`` (NumPy).

    ``params``: the reweightable parameters (internal units); ``aux``: a molecule's
    prepared arrays. What a pooled ``bayesff prepare`` asks before it adds new gas runs:
    an isolated molecule's energy depends on the nonbonded parameters only through its
    intramolecular pairs beyond 1-4 (none in propane or n-butane), so the gas runs of
    one reference usually cover a whole posterior.
    """
    prep = _prep(potential, settings, aux)
    names = mr.reweightable_parameters(potential.topology)
    energies = mr.frame_energies_of(prep, {n: jnp.asarray(float(params[n])) for n in names})
    out = []
    for T, p, n_gas in zip(aux["state_T_K"], aux["state_p_MPa"], aux["state_frames_gas"],
                           strict=True):  # fmt: skip
        out.append(float(mr.averages(prep, energies, float(T), float(p)).ess_gas) / float(n_gas))
    return np.asarray(out)


def with_gas_constants(potential, settings: MolecularSettings, aux: Mapping,
                       params: Mapping | None = None) -> dict:  # fmt: skip
    """``aux`` with the gas averages at each state (:data:`GAS_CONSTANT_KEYS`) where the
    molecule's gas energy does not depend on the parameters, else ``aux`` unchanged.

    Any parameter point gives the same averages (``params``: the reference by default,
    internal units). What :func:`prepared_arrays` stores, and what attaching a file
    prepared before these keys existed adds (NumPy in, NumPy out). Without JAX's float64
    (:func:`bayesff.configure`) it adds nothing: the model then reweights every gas
    sample, which gives the same numbers more slowly.
    """
    out = dict(aux)
    mol = potential.topology.molecule(settings.molecule)
    if not mr.gas_is_parameter_free(mol) or all(k in out for k in GAS_CONSTANT_KEYS):
        return out
    if not jax.config.jax_enable_x64:
        return out
    names = mr.reweightable_parameters(potential.topology)
    params = settings.reference_params if params is None else params
    jaux = {k: jnp.asarray(v) for k, v in out.items()}
    pr = _prep(potential, settings, jaux)
    energies = mr.frame_energies_of(pr, {n: jnp.asarray(float(params[n])) for n in names})
    states = zip(out["state_T_K"], out["state_p_MPa"], strict=True)
    gas_avg = [mr.averages(pr, energies, float(T), float(p)) for T, p in states]
    out["state_gas_energy"] = np.array([float(a.energy_gas_kJ_per_mol) for a in gas_avg])
    out["state_gas_ess"] = np.array([float(a.ess_gas) for a in gas_avg])
    return out


def prepared_arrays(potential, settings: MolecularSettings, prep: mr.PreparedReweighting,
                    states, frames_liq, frames_gas, reference: Mapping) -> dict:  # fmt: skip
    """What the targets of one molecule need, as NumPy arrays (internal units).

    Parameters
    ----------
    potential, settings
        The force field and the targets' options.
    prep
        :func:`bayesff.observables.molecular_reweight.prepare` of the molecule's runs.
    states
        ``[(T_K, p_MPa), ...]`` of the liquid runs, in the order of ``frames_liq``.
    frames_liq, frames_gas
        Frames kept of each state's liquid and gas run.
    reference
        The parameters the runs were made at (internal units): the options'
        ``reference``, or the posterior mean a ``bayesff refine`` round moved them to.

    Returns
    -------
    dict
        The ``liq_*`` and ``gas_*`` statistics and MBAR log-mixtures of ``prep``,
        the states (:data:`STATE_KEYS`), ``reference`` (the reweighted
        parameters' values), and per state the reweighted averages at the
        reference with their gradients: ``density0`` (mol/L), ``d_density0``,
        ``dhvap0`` (kJ/mol), ``d_dhvap0`` ((S, P) per internal unit); for a molecule
        whose gas energy does not depend on the parameters also the gas averages at
        each state (:data:`GAS_CONSTANT_KEYS`).
    """
    names = mr.reweightable_parameters(potential.topology)
    aux = {k: np.asarray(v, dtype=float) for k, v in prep.aux.items()}
    aux["state_T_K"] = np.array([s[0] for s in states], dtype=float)
    aux["state_p_MPa"] = np.array([s[1] for s in states], dtype=float)
    aux["state_frames_liq"] = np.asarray(frames_liq, dtype=float)
    aux["state_frames_gas"] = np.asarray(frames_gas, dtype=float)
    theta0 = jnp.asarray([float(reference[n]) for n in names])
    aux = with_gas_constants(potential, settings, aux, reference)
    jaux = {k: jnp.asarray(v) for k, v in aux.items()}

    def f(th):
        return _at_states(potential, settings, names, th, jaux)[:2]

    rho0, dh0 = f(theta0)
    d_rho, d_dh = jax.jacfwd(f)(theta0)
    aux["reference"] = np.asarray(theta0)
    aux["density0"], aux["dhvap0"] = np.asarray(rho0), np.asarray(dh0)
    aux["d_density0"], aux["d_dhvap0"] = np.asarray(d_rho), np.asarray(d_dh)
    return aux


# ----------------------------------------------------------------------------- predict


def state_index(T, p, state_T, state_p, xp=jnp):
    """Each row's prepared state and whether it has one: T to :data:`STATE_MATCH_RTOL`
    relative, p relative or to 1e-9 MPa absolute (NumPy with ``xp=np``, or traceable)."""
    dT = xp.abs(T[:, None] / state_T[None, :] - 1.0)
    scale = xp.maximum(xp.abs(state_p[None, :]), 1e-9 / STATE_MATCH_RTOL)
    d = xp.maximum(dT, xp.abs(p[:, None] - state_p[None, :]) / scale)
    return xp.argmin(d, axis=1), xp.min(d, axis=1) <= STATE_MATCH_RTOL


class _Predict:
    """``predict(params, env, aux=...)`` of one molecular observable (module docstring)."""

    def __init__(self, name, quantity, pressure_column, potential, settings):
        self.name, self.quantity, self.pressure_column = name, quantity, pressure_column
        self.potential, self.settings = potential, settings
        self.names = mr.reweightable_parameters(potential.topology)

    def _require(self, aux):
        need = (*STATE_KEYS, "reference", "density0", "d_density0", "dhvap0", "d_dhvap0",
                "liq_log_mix", "gas_log_mix")  # fmt: skip
        missing = [k for k in need if aux is None or k not in aux]
        if missing:
            raise ValueError(
                f"{self.name}: no prepared MD data (aux lacks {', '.join(missing)}): the "
                "reference runs are made beforehand; run `bayesff prepare PROBLEM` and load "
                "the problem again"
            )

    def per_state(self, theta, aux):
        """Blended predictions at each prepared state, (S,)."""
        s = self.settings
        gas = self.quantity != "density"
        rho, dh, e_rho, e_dh = _at_states(self.potential, s, self.names, theta, aux, gas=gas)
        delta = theta - aux["reference"]
        if self.quantity == "density":
            rw, e, v0, g0 = rho, e_rho, aux["density0"], aux["d_density0"]
        else:
            rw, e, v0, g0 = dh, e_dh, aux["dhvap0"], aux["d_dhvap0"]
        b = trust_weight(e, s.ess_min, s.ess_width)
        return b * rw + (1.0 - b) * (v0 + g0 @ delta)

    def ess_fractions(self, params, aux):
        """ESS fraction (the one the blend uses) at each prepared state, (S,)."""
        aux = {k: jnp.asarray(v) for k, v in aux.items()}
        theta = jnp.stack([jnp.asarray(params[n], dtype=float) for n in self.names])
        gas = self.quantity != "density"
        out = _at_states(self.potential, self.settings, self.names, theta, aux, gas=gas)
        return out[3] if gas else out[2]

    def __call__(self, params, env, aux=None):
        self._require(aux)
        aux = {k: jnp.asarray(v) for k, v in aux.items()}
        theta = jnp.stack([jnp.asarray(params[n], dtype=float) for n in self.names])
        T = jnp.ravel(jnp.asarray(env["T_K"], dtype=float))
        p = jnp.ravel(jnp.asarray(env[self.pressure_column], dtype=float))
        idx, found = state_index(T, p, aux["state_T_K"], aux["state_p_MPa"])
        return jnp.where(found, self.per_state(theta, aux)[idx], jnp.nan)


def _builder(name, quantity, pressure_column):
    def build(potential, **options):
        settings = parse_options(potential, options, name)
        return _Predict(name, quantity, pressure_column, potential, settings)

    build.__doc__ = f"Build ``predict(params, env, aux=...)`` of {name} (MolecularSettings)."
    return build


# ----------------------------------------------------------------------------- registry

_T = EnvField("T_K", "temperature", "temperature")
_PSAT = EnvField("p_sat_MPa", "pressure", "vapour pressure: the liquid is simulated at it")
_P = EnvField("p_MPa", "pressure", "pressure")
_REF = (
    "NPT MD of the molecular liquid and of isolated molecules (OpenMM or bayesff's jax-md "
    "engine), prepared by `bayesff prepare`, reweighted by MBAR: M. R. Shirts and J. D. "
    "Chodera, J. Chem. Phys. 129, 124105 (2008), doi:10.1063/1.2978177"
)
_OPTS = (
    "options: molecule and reference (required, internal units), n_molecules (128), engine "
    "('openmm' | 'jax-md'), n_equil (25000), n_steps (50000), sample_every (250), dt_fs (2), "
    "gas_molecules (64), gas_steps (50000), gas_sample_every (250), start_density_kg_per_m3 "
    "(500), seed (0), ess_min (0.3), ess_width (0.2); needs `bayesff prepare`"
)


def _register(name, env, column, dimension, unit, quantity, description):
    return register_observable(
        Observable(
            name=name,
            env=env,
            value_column=column,
            uncertainty_column=f"u_{column}",
            dimension=dimension,
            unit=unit,
            build=_builder(name, quantity, env[1].column),
            potential_kind="molecular",
            description=f"{description}; {_OPTS}",
            reference=_REF,
            options=OPTION_NAMES,
        )
    )


MD_SATURATED_LIQUID_DENSITY = _register(
    "md_saturated_liquid_density",
    (_T, _PSAT),
    "rho_l_mol_per_L",
    "number_density",
    "mol/L",
    "density",
    "density of the liquid at its vapour pressure from NPT MD of the molecules, reweighted",
)
MD_ENTHALPY_OF_VAPORISATION = _register(
    "md_enthalpy_of_vaporisation",
    (_T, _PSAT),
    "dH_vap_kJ_per_mol",
    "energy",
    "kJ/mol",
    "dhvap",
    "enthalpy of vaporisation <U_gas> - <U_liq>/N + k_B T - p <V_liq>/N (ideal vapour) from "
    "NPT MD of the liquid and MD of isolated molecules, reweighted",
)
MD_LIQUID_DENSITY = _register(
    "md_liquid_density",
    (_T, _P),
    "rho_mol_per_L",
    "number_density",
    "mol/L",
    "density",
    "density of the (compressed) liquid at (T, p) from NPT MD of the molecules, reweighted",
)

#: Molecular observable name -> the quantity it predicts.
MOLECULAR_OBSERVABLES = {
    o.name: q
    for o, q in (
        (MD_SATURATED_LIQUID_DENSITY, "density"),
        (MD_ENTHALPY_OF_VAPORISATION, "dhvap"),
        (MD_LIQUID_DENSITY, "density"),
    )
}


def quantity_of(observable) -> str | None:
    """``"density"`` or ``"dhvap"`` for a molecular MD observable (or its name), else None."""
    return MOLECULAR_OBSERVABLES.get(getattr(observable, "name", observable))
