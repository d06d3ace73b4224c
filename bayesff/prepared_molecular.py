"""Prepared data of molecular-liquid targets: one file per molecule and run settings.

The molecular MD targets (:mod:`bayesff.observables.molecular_targets`)
reweight, by MBAR, every liquid and gas run of their molecule together, so
their prepared data are one file per (molecule, run settings, set of
states), not one per state as for the pair MD targets of
:mod:`bayesff.prepared` (whose ``write``, ``read``, manifest and provenance
comment this module shares; same directory ``prepared/<problem name>/``).

``<molecule>_<fingerprint>.npz``
    :func:`~bayesff.observables.molecular_targets.prepared_arrays`: per-frame
    sufficient statistics of the nonbonded energy of every kept liquid frame
    and gas sample, the MBAR log-mixtures, the states, and the averages at the
    reference with their gradients (units in :data:`ARRAY_UNITS`).
``<molecule>_<fingerprint>.json``
    Header: the fingerprint's record (force field, molecule, run settings,
    states), the reference the runs were made at, each run's engine, speed,
    detected equilibration, statistical inefficiency and direct averages with
    their standard errors, package versions, time and the npz's sha256.

Fingerprint: sha256 of the format, the site types, the nonbonded model and
the molecule's definition, the run settings with the ``reference`` option,
and the sorted states (T, p). A change in any of them makes the file stale:
loading the problem says so and to run ``bayesff prepare``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from bayesff.errors import ProblemError
from bayesff.observables import molecular_targets as mt

__all__ = ["ARRAY_UNITS", "FORMAT", "PlannedMolecularRun", "attach_molecular", "plan_molecular"]

FORMAT = "bayesff-prepared-molecular-md"
VERSION = 1
ARRAY_UNITS = {
    "liq_rep": "angstrom^-n per unordered site-type pair",
    "liq_att": "angstrom^-m per unordered site-type pair",
    "liq_rep14": "angstrom^-n (scaled 1-4 pairs)",
    "liq_att14": "angstrom^-m (scaled 1-4 pairs)",
    "liq_bonded": "kJ/mol",
    "liq_volume": "angstrom^3",
    "liq_log_mix": "1 (log sum_k N_k exp(f_k - u_k))",
    "gas_rep": "angstrom^-n per unordered site-type pair",
    "gas_att": "angstrom^-m per unordered site-type pair",
    "gas_rep14": "angstrom^-n (scaled 1-4 pairs)",
    "gas_att14": "angstrom^-m (scaled 1-4 pairs)",
    "gas_bonded": "kJ/mol",
    "gas_volume": "angstrom^3 (NaN: no box)",
    "gas_log_mix": "1 (log sum_k N_k exp(f_k - u_k))",
    "state_T_K": "K",
    "state_p_MPa": "MPa",
    "state_frames_liq": "1 (mean kept frames per liquid run at the state: the ESS denominator)",
    "state_frames_gas": "1 (mean samples per gas run at the state)",
    "state_gas_energy": "kJ/mol (gas energy per molecule at the state; molecules whose gas "
    "energy does not depend on the parameters only)",
    "state_gas_ess": "1 (Kish ESS of the gas samples at the state; the same molecules)",
    "reference": "kJ/mol and angstrom (header param_names order)",
    "density0": "mol/L",
    "d_density0": "mol/L per internal unit of each parameter",
    "dhvap0": "kJ/mol",
    "d_dhvap0": "kJ/mol per internal unit of each parameter",
    "sem_density0": "mol/L (standard error of the direct average, pymbar.timeseries)",
    "sem_dhvap0": "kJ/mol (standard error of <U_gas> - <U_liq>/N, pymbar.timeseries)",
}


def _json_ready(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.floating | np.integer):
        return obj.item()
    raise TypeError(type(obj).__name__)


def _topology_record(potential, molecule: str) -> dict:
    topo = potential.topology
    return json.loads(
        json.dumps(
            {
                "site_types": [asdict(t) for t in topo.site_types],
                "form": topo.form,
                "combining_rule": topo.combining_rule,
                "r_cut_angstrom": topo.r_cut_angstrom,
                "tail": topo.tail,
                "molecule": asdict(topo.molecule(molecule)),
            },
            default=_json_ready,
        )
    )


@dataclass(frozen=True)
class PlannedMolecularRun:
    """The reference runs of one molecule (every state its targets use)."""

    molecule: str
    states: tuple[tuple[float, float], ...]
    potential: object
    settings: mt.MolecularSettings
    fingerprint: str
    targets: tuple[str, ...]

    format = FORMAT
    array_units = ARRAY_UNITS

    @property
    def stem(self) -> str:
        safe = "".join(c if c.isalnum() else "_" for c in self.molecule)
        return f"{safe}_{self.fingerprint[:12]}"

    def record(self) -> dict:
        return {
            "potential": {
                "name": self.potential.name,
                "param_names": list(self.potential.param_names),
            },
            "forcefield": _topology_record(self.potential, self.molecule),
            "simulate": json.loads(json.dumps(self.settings.run_record(), default=_json_ready)),
        }

    def header_fields(self) -> dict:
        return {
            "molecule": self.molecule,
            "states": [list(s) for s in self.states],
            "state_text": f"{self.molecule} at {self._states_text()}",
        }

    def _states_text(self) -> str:
        return ", ".join(f"({T:g} K, {p:.4g} MPa)" for T, p in self.states)

    def describe(self) -> str:
        return f"{self.molecule} at (T, p) = {self._states_text()}"

    def same_state(self, header: dict) -> bool:
        return header.get("molecule") == self.molecule

    def record_keys(self) -> tuple[str, ...]:
        return ("potential", "forcefield", "simulate", "states")


def _fingerprint(potential, settings, states) -> str:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "forcefield": _topology_record(potential, settings.molecule),
        "param_names": list(potential.param_names),
        "simulate": json.loads(json.dumps(settings.run_record(), default=_json_ready)),
        "states": [[float(T).hex(), float(p).hex()] for T, p in states],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _where(problem, target) -> str:
    return f"{problem.path or f'problem {problem.name!r}'}: target {target.name!r}"


def molecular_targets(problem) -> list[tuple]:
    """``(target, potential, settings, quantity)`` of every molecular MD target.

    Raises
    ------
    ProblemError
        For invalid options, naming the target.
    """
    out = []
    for t in problem.targets:
        quantity = mt.quantity_of(t.observable)
        if quantity is None:
            continue
        potential = t.forward(problem).potential
        try:
            settings = mt.parse_options(potential, t.options, t.observable.name)
        except ValueError as e:
            raise ProblemError(str(e), _where(problem, t)) from None
        out.append((t, potential, settings, quantity))
    return out


def target_states(target) -> list[tuple[float, float]]:
    """Distinct (T_K, p_MPa) of the rows a target trains on or predicts."""
    used = target.train | target.holdout_mask()
    pcol = target.observable.env[1].column
    T = np.asarray(target.env["T_K"], dtype=float).reshape(target.n, -1)[:, 0][used]
    p = np.asarray(target.env[pcol], dtype=float).reshape(target.n, -1)[:, 0][used]
    return [tuple(map(float, s)) for s in np.unique(np.stack([T, p], axis=1), axis=0)]


def _key(settings) -> str:
    return json.dumps(settings.run_record(), sort_keys=True, default=_json_ready)


def plan_molecular(problem) -> list[PlannedMolecularRun]:
    """One planned entry per (molecule, run settings): the union of its targets' states."""
    groups: dict[str, dict] = {}
    for t, pot, settings, _ in molecular_targets(problem):
        g = groups.setdefault(
            _key(settings), {"pot": pot, "settings": settings, "states": set(), "targets": []}
        )
        g["states"].update(target_states(t))
        g["targets"].append(t.name)
    out = []
    for g in groups.values():
        states = tuple(sorted(g["states"]))
        fp = _fingerprint(g["pot"], g["settings"], states)
        out.append(
            PlannedMolecularRun(
                g["settings"].molecule, states, g["pot"], g["settings"], fp, tuple(g["targets"])
            )
        )
    return out


def attach_molecular(problem, directory, hint: str, read_run) -> tuple[list, list[dict]]:
    """(targets with their prepared arrays in ``aux``, headers used) of a problem.

    ``read_run(directory, run, hint=, where=)`` reads and checks one prepared file
    (:func:`bayesff.prepared.read`, which shares its format checks).

    Raises
    ------
    ProblemError
        Naming the target: no prepared file, a stale or damaged one, or a Mie
        exponent of the problem that differs from the reference runs' (exponents
        are not reweighted).
    """
    runs = {r.fingerprint: r for r in plan_molecular(problem)}
    if not runs:
        return list(problem.targets), []
    by_key = {_key(r.settings): r for r in runs.values()}
    read: dict[str, tuple] = {}
    with_aux = {}
    for t, pot, settings, _ in molecular_targets(problem):
        run = by_key[_key(settings)]
        if run.fingerprint not in read:
            where = _where(problem, t)
            read[run.fingerprint] = read_run(directory, run, hint=hint, where=where)
        _check_exponents(problem, t, settings)
        # files prepared before the per-state gas averages were stored gain them here
        arrays = mt.with_gas_constants(pot, settings, read[run.fingerprint][0])
        with_aux[t.name] = t.replace(aux=arrays, floor=_md_floor(t, arrays))
    targets = [with_aux.get(t.name, t) for t in problem.targets]
    return targets, [h for _, h in read.values()]


def _md_floor(target, arrays) -> np.ndarray:
    """Each row's floor: at least the MD standard error of its state's reference average.

    The reference runs' statistical error is shared by every posterior draw (the
    frames are fixed), so it enters the likelihood as a forward-model error, like the
    validated error of an equation of state (docs/inadequacy.md).
    """
    key = "sem_density0" if mt.quantity_of(target.observable) == "density" else "sem_dhvap0"
    pcol = target.observable.env[1].column
    T = np.asarray(target.env["T_K"], float).ravel()
    p = np.asarray(target.env[pcol], float).ravel()
    idx, found = mt.state_index(T, p, arrays["state_T_K"], arrays["state_p_MPa"], np)
    sem = np.where(found, np.asarray(arrays[key], float)[idx], 0.0)
    given = target.floor if target.floor_given is None else target.floor_given
    return np.maximum(np.asarray(given, dtype=float), sem)


def _check_exponents(problem, target, settings) -> None:
    ref = settings.reference_params
    for name, par in problem.parameters.items():
        if not name.startswith(("n_", "m_")) or name not in ref:
            continue
        value = None if par.fixed is False else problem.to_internal(name, par.value)
        if value is None or not np.isclose(float(value), ref[name], rtol=1e-12):
            raise ProblemError(
                f"Mie exponent {name} must be fixed at the reference runs' value {ref[name]:g} "
                "(exponents are not reweighted)",
                _where(problem, target),
            )
