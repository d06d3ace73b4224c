r"""MD engines for molecular systems behind one interface.

``run(system, state, settings) -> Trajectory``: ``system`` is a
:class:`SimulatedSystem` (the :class:`~bayesff.potentials.forcefield.System`
and its nonbonded parameters), ``state`` a :class:`State` (positions and
box), ``settings`` a :class:`RunSettings` (engine, ensemble, T, p, time step,
thermostat, barostat, lengths). Two ensembles:

- ``"npt"``: the periodic liquid at (T, p); Langevin thermostat and Monte
  Carlo barostat (isotropic, molecular centres scaled);
- ``"gas"``: isolated molecules of one type (no box, no cut-off, no
  interaction between molecules: ``count`` independent copies sampled at
  once) at T, Langevin; the potential energy per molecule is the
  intramolecular energy of the ideal-gas state.

Two engines, chosen by ``settings.engine``:

- ``"openmm"`` (:mod:`.openmm_engine`): OpenMM's ``LangevinMiddleIntegrator``
  and ``MonteCarloBarostat``, constraints by SHAKE/SETTLE-style CCMA, CPU,
  Reference or CUDA platform;
- ``"jax-md"`` (:mod:`.jaxmd_engine`): the force field of
  :mod:`bayesff.potentials.forcefield` in JAX, jax-md's neighbour list, a
  geodesic BAOAB Langevin integrator with SHAKE/RATTLE constraints and a
  Monte Carlo barostat written here (jax-md has neither constraints nor a
  molecular barostat).

The :class:`Trajectory` stores every sampled frame: positions (molecules
whole), box, the engine's potential energy and the volume. The engine's
energies are a check; reweighting (:mod:`bayesff.observables.molecular_reweight`)
recomputes every energy with the float64 JAX force field. A run that blows up
(non-finite energies or positions, a constraint that fails, a lost
neighbour list) raises :class:`EngineError` naming the engine and the state.

The engine modules import their backend (``openmm``, ``jax_md``) at their top;
:func:`run` imports the one it needs by name, so that a missing optional
backend only matters when it is asked for.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bayesff.errors import ProblemError
from bayesff.potentials.forcefield import System, check_box, check_params
from bayesff.units import AVOGADRO

__all__ = [
    "ENGINES",
    "ENSEMBLES",
    "EngineError",
    "RunSettings",
    "SimulatedSystem",
    "State",
    "Trajectory",
    "available_engines",
    "run",
]

#: Engine names and the module that implements each.
ENGINES = {
    "openmm": "bayesff.simulate.engines.openmm_engine",
    "jax-md": "bayesff.simulate.engines.jaxmd_engine",
}
# The package each engine's backend is, and the extra of bayesff that installs it.
_BACKENDS = {"openmm": ("openmm", "molecular"), "jax-md": ("jax_md", "md")}
ENSEMBLES = ("npt", "gas")
THERMOSTATS = ("langevin",)
BAROSTATS = ("monte_carlo",)

_KG_M3 = 1e27 / AVOGADRO


class EngineError(RuntimeError):
    """A simulation failed (blew up, lost atoms, a constraint or neighbour list failed)."""


@dataclass(frozen=True, eq=False)
class SimulatedSystem:
    """A system and the nonbonded parameters to simulate it with.

    Parameters
    ----------
    system
        Topology and composition.
    params
        Nonbonded parameters, internal units (kJ/mol, angstrom), floats.
    """

    system: System
    params: Mapping[str, float]

    def __post_init__(self):
        checked = check_params(self.system.topology, self.params, "SimulatedSystem.params")
        values = {}
        for k, v in checked.items():
            x = float(np.asarray(v))
            if not math.isfinite(x):
                raise ProblemError(f"parameter {k} must be finite, found {x}", "params")
            values[k] = x
        object.__setattr__(self, "params", values)


@dataclass(frozen=True, eq=False)
class State:
    """Positions (angstrom, (N, 3)), box edges (angstrom, (3,); None for the gas phase)
    and optional velocities (angstrom/ps)."""

    positions: np.ndarray
    box: np.ndarray | None
    velocities: np.ndarray | None = None


@dataclass(frozen=True)
class RunSettings:
    """What to simulate and how.

    Parameters
    ----------
    T_K
        Temperature, K.
    n_steps
        Production steps (sampled every ``sample_every``).
    engine
        ``"openmm"`` or ``"jax-md"`` (:data:`ENGINES`).
    ensemble
        ``"npt"`` (periodic liquid) or ``"gas"`` (one isolated molecule).
    p_MPa
        Pressure, MPa (npt).
    dt_fs
        Time step, fs (2 fs with fixed bonds; harmonic C-C bonds need <= 1 fs).
    n_equil
        Steps run and discarded before production (equilibration is then
        detected from the time series: :mod:`bayesff.simulate.timeseries`).
    sample_every
        Steps between stored frames.
    thermostat, friction_per_ps
        ``"langevin"`` and its friction, 1/ps.
    barostat, barostat_every
        ``"monte_carlo"`` (isotropic volume moves, molecular scaling) and the
        steps between volume moves.
    minimize
        Minimise the energy before the run (a lattice start is strained).
    seed
        Seed of velocities, thermostat noise and volume moves.
    threads
        CPU threads (OpenMM CPU platform).
    platform
        OpenMM platform (``"CPU"``, ``"Reference"``, ``"CUDA"``); ignored by jax-md.
    constraint_tolerance
        Relative tolerance of the bond constraints.
    """

    T_K: float
    n_steps: int
    engine: str = "openmm"
    ensemble: str = "npt"
    p_MPa: float = 0.101325
    dt_fs: float = 2.0
    n_equil: int = 0
    sample_every: int = 500
    thermostat: str = "langevin"
    friction_per_ps: float = 1.0
    barostat: str = "monte_carlo"
    barostat_every: int = 25
    minimize: bool = True
    seed: int = 0
    threads: int = 2
    platform: str = "CPU"
    constraint_tolerance: float = 1e-8

    def __post_init__(self):
        w = "RunSettings"
        if self.engine not in ENGINES:
            raise ProblemError(
                f"unknown engine {self.engine!r}; expected one of {list(ENGINES)}", f"{w}.engine"
            )
        if self.ensemble not in ENSEMBLES:
            raise ProblemError(
                f"unknown ensemble {self.ensemble!r}; expected one of {ENSEMBLES}", f"{w}.ensemble"
            )
        if self.thermostat not in THERMOSTATS:
            raise ProblemError(
                f"unknown thermostat {self.thermostat!r}; expected one of {THERMOSTATS}",
                f"{w}.thermostat",
            )
        if self.barostat not in BAROSTATS:
            raise ProblemError(
                f"unknown barostat {self.barostat!r}; expected one of {BAROSTATS}", f"{w}.barostat"
            )
        for name in ("T_K", "dt_fs", "friction_per_ps", "constraint_tolerance"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ProblemError(
                    f"{name} must be a finite number > 0, found {v!r}", f"{w}.{name}"
                )
        if not (isinstance(self.p_MPa, int | float) and math.isfinite(self.p_MPa)):
            raise ProblemError(
                f"p_MPa must be a finite number, found {self.p_MPa!r}", f"{w}.p_MPa"
            )
        for name, low in (
            ("n_steps", 1),
            ("n_equil", 0),
            ("sample_every", 1),
            ("barostat_every", 1),
            ("threads", 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ProblemError(
                    f"{name} must be a whole number >= {low}, found {v!r}", f"{w}.{name}"
                )
        if self.n_steps < self.sample_every:
            raise ProblemError(
                f"n_steps = {self.n_steps} gives no frame at sample_every = {self.sample_every}",
                f"{w}.n_steps",
            )

    def describe(self) -> str:
        """The state in words, for error messages."""
        if self.ensemble == "gas":
            return f"gas phase at T = {self.T_K:g} K"
        return f"NPT at T = {self.T_K:g} K, p = {self.p_MPa:g} MPa"

    def record(self) -> dict:
        """The settings as a plain dict (for provenance)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Frames of one run (internal units, NumPy float64).

    Attributes
    ----------
    positions
        (F, N, 3) angstrom; each molecule whole.
    box
        (F, 3) angstrom edges (NaN for the gas phase).
    potential_energy
        (F,) the engine's own potential energy, kJ/mol (tail included where
        the topology asks for it; in the gas phase the sum over the
        independent molecules).
    volume
        (F,) angstrom^3 (NaN for the gas phase).
    time_ps
        (F,) simulated time of each frame since the start of production.
    engine, settings, params
        What produced it.
    wall_s, ns_per_day
        Wall time of the whole run (equilibration included) and the speed of
        the production phase.
    """

    system: System
    params: Mapping[str, float]
    settings: RunSettings
    engine: str
    positions: np.ndarray
    box: np.ndarray
    potential_energy: np.ndarray
    volume: np.ndarray
    time_ps: np.ndarray
    wall_s: float
    ns_per_day: float
    info: dict = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of stored frames F."""
        return int(self.positions.shape[0])

    @property
    def density_kg_per_m3(self) -> np.ndarray:
        """Mass density of each frame, kg/m^3."""
        return self.system.total_mass_g_per_mol / self.volume * _KG_M3


def available_engines() -> tuple[str, ...]:
    """The engines whose backend is installed here (found, not imported)."""
    return tuple(e for e, (backend, _) in _BACKENDS.items() if _installed(backend))


def _installed(backend: str) -> bool:
    try:
        return importlib.util.find_spec(backend) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken entry
        return False


def _check_state(system: SimulatedSystem, state: State, settings: RunSettings) -> State:
    s = system.system
    R = np.asarray(state.positions, dtype=float)
    if R.shape != (s.n_sites, 3) or not np.all(np.isfinite(R)):
        raise ProblemError(
            f"positions must be {s.n_sites} finite rows of 3 (angstrom), found shape {R.shape}",
            "state.positions",
        )
    if settings.ensemble == "gas":
        if len(s.counts) != 1:
            raise ProblemError(
                "the gas phase simulates isolated molecules of one type, found "
                f"{[n for n, _ in s.counts]}",
                "system.counts",
            )
        return State(R, None, state.velocities)
    if state.box is None:
        raise ProblemError("an NPT run needs a box", "state.box")
    return State(R, check_box(s, state.box, "state.box"), state.velocities)


def run(system: SimulatedSystem, state: State, settings: RunSettings) -> Trajectory:
    """Run MD with the engine named in ``settings`` (module docstring).

    Raises
    ------
    ProblemError
        For bad input, or an engine whose backend is not installed (before anything
        runs).
    EngineError
        If the run blows up, naming the engine and the state.
    """
    state = _check_state(system, state, settings)
    return _engine_module(settings.engine).run(system, state, settings)


def _engine_module(engine: str):
    """Import an engine's module, or say in one line what to install (before any work).

    jax-md imports its backend lazily (it starts JAX's backend when imported), so the
    backend is looked up here as well as imported by the module.
    """
    backend, extra = _BACKENDS[engine]
    try:
        if not _installed(backend):
            raise ImportError(f"no module named {backend!r}")
        return importlib.import_module(ENGINES[engine])
    except ImportError as err:
        others = [e for e in available_engines() if e != engine]
        alternative = f"; engines installed here: {', '.join(others)}" if others else ""
        raise ProblemError(
            f"engine {engine!r} needs the package {backend!r}, which is not installed "
            f"({err}); install it with `pip install 'bayesff[{extra}]'`{alternative}",
            "RunSettings.engine",
        ) from err
