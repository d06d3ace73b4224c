"""``bayesff prepare``: run the reference simulations of a problem's MD targets.

Forward models never simulate (:mod:`bayesff.observables.md_targets`): the
reference runs they reweight are made here, once per distinct (T, rho) and
run settings, and stored as data files with provenance in
``prepared/<problem name>/`` (format and location: :mod:`bayesff.prepared`).
Loading the problem reads them into its targets; a missing or stale file is
an error that says to run this step.

Usage::

    bayesff prepare models/argon_md.toml            # simulate what is missing or stale
    bayesff prepare models/argon_md.toml --force    # every run again, at the file's reference

or from Python, for a problem built there::

    from bayesff import prepared
    from bayesff.workflows.prepare import prepare
    prepare(problem)                          # simulates, writes prepared/NAME/
    problem, _ = prepared.attach(problem)     # a copy with the runs in its MD targets
    run = bayesff.calibrate(problem)
"""

from __future__ import annotations

import dataclasses
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from bayesff import prepared, prepared_molecular
from bayesff.errors import BayesffError, ProblemError
from bayesff.observables import md_targets, molecular_targets
from bayesff.observables import molecular_reweight as mr
from bayesff.potentials import forcefield as ff
from bayesff.problem import Problem
from bayesff.runtime import ensure_configured, usable_cores
from bayesff.simulate import engines, timeseries
from bayesff.simulate import lj_md as md
from bayesff.simulate.molecules import conformer, lattice_configuration, thermal_conformers

__all__ = ["prepare"]


def _versions() -> dict[str, str]:

    out = {}
    for p in ("bayesff", "jax", "jaxlib", "jax-md", "numpy", "openmm", "pymbar", "scipy"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "not installed"
    return out


def _load(problem):
    """(problem without prepared data, its label)."""
    if isinstance(problem, Problem):
        return problem, str(problem.path or problem.name)
    return Problem.from_toml(Path(problem), prepared=False), str(problem)


def _header_of(directory: Path, run) -> dict | None:
    """The header of an up-to-date run file (readable, matching, intact), else None."""

    try:
        return prepared.read(directory, run)[1]
    except ProblemError:
        return None


def _simulate(run, reference: dict, log) -> tuple[dict, dict]:
    """One reference run -> (arrays, header additions)."""

    kw = run.settings.simulate_kwargs(run.potential)
    t0 = time.perf_counter()
    res = md.simulate(run.potential, reference, run.T_K, run.rho_per_A3, store_frames=True, **kw)
    if res.status != md.OK:
        raise BayesffError(
            f"reference MD run at T = {run.T_K:g} K, rho = {run.rho_per_A3:g} /angstrom^3, "
            f"reference {reference} failed: {md.STATUS_MESSAGES[res.status]}",
            f"targets {', '.join(run.targets)}",
        )
    arrays = md_targets.state_arrays(run.potential, res, reference)
    diag = {k: v for k, v in res.diagnostics.items() if isinstance(v, (int, float, str, bool))}
    extra = {
        "reference": {k: float(v) for k, v in reference.items()},
        "run": {
            "pressure_MPa": float(res.pressure_MPa),
            "pressure_se_MPa": float(res.pressure_se_MPa),
            "energy_kJ_per_mol": float(res.energy_kJ_per_mol),
            "energy_se_kJ_per_mol": float(res.energy_se_kJ_per_mol),
            "temperature_kinetic_K": float(res.temperature_kinetic_K),
            "n_frames": int(arrays["r"].shape[0]),
            "diagnostics": diag,
        },
        "versions": _versions(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_s": time.perf_counter() - t0,
    }
    log(
        f"  p = {res.pressure_MPa:.4g} +- {res.pressure_se_MPa:.2g} MPa, "
        f"E = {res.energy_kJ_per_mol:.5g} +- {res.energy_se_kJ_per_mol:.2g} kJ/mol "
        f"({extra['wall_s']:.0f} s)"
    )
    return arrays, extra


def _check_reference(run, reference: dict) -> dict:

    try:
        where = f"targets {', '.join(run.targets)}"
        if isinstance(run, prepared_molecular.PlannedMolecularRun):
            opts = {"molecule": run.molecule, "reference": dict(reference)}
            molecular_targets.parse_options(run.potential, opts, where)
        else:
            md_targets.parse_options(run.potential, {"reference": dict(reference)}, where)
    except ValueError as e:
        raise ProblemError(str(e), "prepare(reference=...)") from None
    return {k: float(reference[k]) for k in run.potential.param_names}


#: Liquid frames a molecular reference run must keep after the detected equilibration.
MIN_KEPT_FRAMES = 20
#: Times a liquid run whose equilibration is detected too late is continued by n_steps.
MAX_EXTENSIONS = 2


def _joined(a, b):
    """Trajectory ``a`` continued by ``b`` (frames, energies, volumes and times appended)."""
    cat = {k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in
           ("positions", "box", "potential_energy", "volume")}  # fmt: skip
    cat["time_ps"] = np.concatenate([a.time_ps, a.time_ps[-1] + b.time_ps])
    wall = a.wall_s + b.wall_s
    return dataclasses.replace(a, **cat, wall_s=wall, ns_per_day=b.ns_per_day)


def _equilibrated_liquid(model, R, box, p, s, common, where, log):
    """The NPT run of one state, continued while its equilibration is detected too late
    (fewer than :data:`MIN_KEPT_FRAMES` frames after it, or at the latest start searched:
    :func:`~bayesff.simulate.timeseries.trajectory_start`).

    Returns (trajectory, its averages, detected t0, extensions made, whether t0 is still
    the latest start searched); raises
    :class:`BayesffError` if fewer than :data:`MIN_KEPT_FRAMES` frames remain after
    :data:`MAX_EXTENSIONS` extensions.
    """

    def liquid_run(R, box, n_equil, seed):
        settings = engines.RunSettings(
            p_MPa=p, n_equil=n_equil, n_steps=s.n_steps, sample_every=s.sample_every,
            dt_fs=s.dt_fs, **{**common, "seed": seed},
        )  # fmt: skip
        return engines.run(model, engines.State(R, box), settings)

    seed = common["seed"]
    traj = liquid_run(R, box, s.n_equil, seed)
    extensions = 0
    while True:
        t0, at_bound = timeseries.trajectory_start(traj)
        kept = traj.n_frames - t0
        if (kept >= MIN_KEPT_FRAMES and not at_bound) or extensions == MAX_EXTENSIONS:
            break
        # the start is the latest searched (half the run: a drift may last longer) or
        # leaves too few frames: continue the run by another n_steps from its last frame
        # and detect again on the whole
        extensions += 1
        why = "the latest start searched" if at_bound else f"{kept} frames after it"
        log(f"  {where}: equilibration at frame {t0} ({why}); extending by {s.n_steps} steps")
        more = liquid_run(traj.positions[-1], traj.box[-1], 0, seed + 1000 * extensions)
        traj = _joined(traj, more)
    if kept < MIN_KEPT_FRAMES:  # a short run: t0 <= (N - 1) / 2 leaves at least half of it
        raise BayesffError(
            f"the liquid run is not equilibrated: equilibration was detected at frame {t0} "
            f"of {traj.n_frames} (after {extensions} extension(s) of {s.n_steps} steps), "
            f"leaving {kept} frames (at least {MIN_KEPT_FRAMES} are needed); more frames "
            "are needed: raise n_steps or lower sample_every (or raise n_equil)",
            where,
        )
    if at_bound:
        # weak evidence of drift (a stationary series' start falls at the bound by chance,
        # docs/molecular.md): the second half is kept, said here and in the file's header
        log(
            f"  {where}: equilibration detected at the latest start searched, frame {t0} "
            f"of {traj.n_frames}, after {extensions} extension(s): kept the second half "
            "(the run may still be drifting; its header records equilibration_at_bound)"
        )
    return traj, timeseries.trajectory_averages(traj, t0=t0), t0, extensions, at_bound


def _state_record(T, p, traj, gas, av, start, gas_molecules, u_gas) -> dict:
    """What the header records of one state's runs (``u_gas``: the gas run's average
    energy per molecule, a timeseries average; ``start``: (t0, extensions, at_bound) of
    :func:`_equilibrated_liquid`)."""
    rho, u = av["density_kg_per_m3"], av["potential_energy_kJ_per_mol"]
    t0, extensions, at_bound = start
    return {
        "T_K": T,
        "p_MPa": p,
        "engine": traj.engine,
        "equilibration_frame": int(t0),
        "extensions": extensions,
        "equilibration_at_bound": bool(at_bound),
        "frames": int(traj.n_frames),
        "statistical_inefficiency_density": float(rho.g),
        "density_kg_per_m3": float(rho.mean),
        "density_sem_kg_per_m3": float(rho.sem),
        "potential_energy_kJ_per_mol": float(u.mean),
        "potential_energy_sem_kJ_per_mol": float(u.sem),
        "ns_per_day_liquid": float(traj.ns_per_day),
        "wall_s_liquid": float(traj.wall_s),
        "wall_s_gas": float(gas.wall_s),
        "gas_samples": int(gas.n_frames * gas_molecules),
        "gas_energy_kJ_per_mol": float(u_gas.mean),
        "gas_energy_sem_kJ_per_mol": float(u_gas.sem),
    }


def _distinct(params: list[dict]) -> list[dict]:
    """The parameter sets in order of first appearance, each once."""
    out = []
    for q in params:
        q = {k: float(v) for k, v in q.items()}
        if q not in out:
            out.append(q)
    return out


def _molecule_header(run, reference, records, prep, wall_s) -> dict:
    """Header additions of a molecule's prepared file (provenance and manifest text)."""
    s = run.settings
    refs_used = _distinct([r[3] for r in prep.runs if r[0] == "liquid"])
    ref_text = ", ".join(f"{k} = {v:.10g}" for k, v in reference.items())
    if len(refs_used) > 1:
        ref_text += (
            f" (the first-order expansion's point; the runs of {len(refs_used)} references "
            "are pooled by MBAR: all in the header's references)"
        )
    record = sorted(s.run_record().items())
    settings_text = ", ".join(f"{k} = {v}" for k, v in record if k != "reference")
    extra = {
        "reference": {k: float(v) for k, v in reference.items()},
        "runs": records,
        # every run MBAR pools, in the pooled order: what a later round needs to add to them
        "reference_runs": [
            {"kind": kind, "T_K": T, "p_MPa": p, "params": params, "rows": rows}
            for kind, T, p, params, rows in prep.runs
        ],
        "references": refs_used,
        "mbar_f_liquid": [float(x) for x in prep.f_liquid],
        "mbar_f_gas": [float(x) for x in prep.f_gas],
        "versions": _versions(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_s": wall_s,
        "manifest": {
            "title": (
                f"NPT MD of liquid {s.molecule} ({s.n_molecules} molecules) and MD of isolated "
                f"molecules at {run._states_text()}: per-frame energy statistics for MBAR "
                "reweighting (simulated, not measured)"
            ),
            "source": (
                f"bayesff.simulate.engines ({s.engine}; Langevin, Monte Carlo barostat) with "
                f"{settings_text}; "
                f"reference parameters (kJ/mol, angstrom) {ref_text}; equilibration detected by "
                "pymbar.timeseries; MBAR by pymbar"
            ),
        },
    }
    return extra


def _previous_runs(arrays: dict, head: dict) -> list[mr.StoredRun]:
    """The runs of a molecule's prepared file, as :class:`mr.StoredRun` s.

    Files from before pooling (no ``reference_runs`` in the header) hold one
    reference: a liquid and a gas run per state, in the order of the states."""
    listed = head.get("reference_runs")
    if listed is None:
        ref = head["reference"]
        T, p = arrays["state_T_K"], arrays["state_p_MPa"]
        listed = [
            {"kind": "liquid", "T_K": t, "p_MPa": q, "params": ref, "rows": n}
            for t, q, n in zip(T, p, arrays["state_frames_liq"], strict=True)
        ] + [
            {"kind": "gas", "T_K": t, "p_MPa": 0.0, "params": ref, "rows": n}
            for t, n in zip(T, arrays["state_frames_gas"], strict=True)
        ]
    meta = [(r["kind"], r["T_K"], r["p_MPa"], r["params"], int(r["rows"])) for r in listed]
    return mr.stored_runs(arrays, meta)


def _frames_per_run(runs, states) -> tuple[list[float], list[float]]:
    """Mean rows per run at each state, liquid and gas, over every pooled reference.

    The ESS fraction of the trust region is the Kish ESS over one run's worth of
    frames; with runs pooled from several references, that is their mean at the
    state (pooled frames can exceed it: the fraction can pass 1 between references)."""
    liq, gas = [], []
    for T, p in states:
        liq.append(np.mean([r[4] for r in runs if r[0] == "liquid" and r[1] == T and r[2] == p]))
        gas.append(np.mean([r[4] for r in runs if r[0] == "gas" and r[1] == T]))
    return liq, gas


def _gas_covered(run, arrays: dict, reference: dict) -> bool:
    """Whether a molecule's prepared gas runs hold the trust edge at ``reference``."""
    s = run.settings
    e = molecular_targets.gas_ess_fractions(run.potential, s, reference, arrays)
    return bool(np.all(e >= s.ess_min + s.ess_width / 2))


def _gas_start(topo, molecule, reference, T, n_mol, seed, spacing) -> np.ndarray:
    """Isolated molecules in shapes drawn from their Boltzmann distribution at T, on a
    line ``spacing`` angstrom apart: a gas run of 100 ps started all-trans keeps most
    torsions trans (bayesff.simulate.molecules)."""
    shapes = thermal_conformers(topo, molecule, reference, T, n_mol, seed=seed)
    return np.concatenate([x + np.array([spacing * j, 0.0, 0.0]) for j, x in enumerate(shapes)])


def _simulate_molecule(run, reference: dict, log, previous=None, anchor=None) -> tuple[dict, dict]:
    """The liquid and gas runs of one molecule at every state -> (arrays, header additions).

    ``previous``: the (arrays, header) of the molecule's prepared file, whose runs are
    pooled with the new ones (MBAR over both references) instead of replaced.
    ``anchor``: where the first-order expansion is taken (default ``reference``).
    """
    s = run.settings
    liquid, _, _ = molecular_targets.systems(run.potential, s)
    topo = run.potential.topology
    gas_system = ff.System(topo, ((s.molecule, s.gas_molecules),))
    x0 = conformer(topo.molecule(s.molecule))
    # apart; they do not interact (the all-trans chain is the longest shape)
    spacing = 2.0 * float(np.ptp(x0, axis=0).max()) + 10.0
    threads = usable_cores()
    n_gas_mol = s.gas_molecules
    t_start = time.perf_counter()
    refs, n_liq, n_gas, records, sems = [], [], [], [], []
    last = None
    # a pooled round draws new random numbers (same settings, different seed)
    round_k = 0 if previous is None else len(previous[1].get("references", [None]))
    for k, (T, p) in enumerate(run.states):
        where = f"{s.molecule} at T = {T:g} K, p = {p:.4g} MPa"
        seed = s.seed + k + 100 * round_k
        common = {"engine": s.engine, "seed": seed, "threads": threads, "T_K": T}
        if last is None:
            # flexible molecules start in shapes drawn at T, not all-trans: MD turns a
            # torsion about once a nanosecond (bayesff.simulate.molecules)
            shapes = thermal_conformers(topo, s.molecule, reference, T, liquid.n_molecules,
                                        seed=s.seed)  # fmt: skip
            R, box = lattice_configuration(liquid, s.start_density_kg_per_m3, seed=s.seed,
                                           conformers={s.molecule: shapes})  # fmt: skip
        else:
            # the states are in increasing T: each starts from the last frame of the one
            # before, a liquid already, so its equilibration is short (n_equil still applies)
            R, box = last
        model = engines.SimulatedSystem(liquid, reference)
        traj, av, *start = _equilibrated_liquid(model, R, box, p, s, common, where, log)
        t0 = start[0]
        kept = traj.n_frames - t0
        last = (traj.positions[-1], traj.box[-1])
        gas_start = _gas_start(topo, s.molecule, reference, T, n_gas_mol, seed, spacing)
        gas = engines.run(
            engines.SimulatedSystem(gas_system, reference),
            engines.State(gas_start, None),
            engines.RunSettings(
                ensemble="gas", n_equil=5000, n_steps=s.gas_steps,
                sample_every=s.gas_sample_every, dt_fs=s.dt_fs, **common,
            ),
        )  # fmt: skip
        refs.append(mr.ReferenceRun("liquid", traj.positions[t0:], traj.box[t0:], T, p, reference))
        refs.append(mr.ReferenceRun("gas", gas.positions, None, T, 0.0, reference))
        n_liq.append(kept)
        n_gas.append(gas.n_frames * s.gas_molecules)
        rho, u = av["density_kg_per_m3"], av["potential_energy_kJ_per_mol"]
        u_gas = timeseries.average(gas.potential_energy / s.gas_molecules, where=f"{where} (gas)")
        m_mol = liquid.total_mass_g_per_mol / liquid.n_molecules
        # the MD statistical error of the reference averages (kg/m^3 = g/L -> mol/L)
        sems.append((rho.sem / m_mol, float(np.hypot(u.sem / liquid.n_molecules, u_gas.sem))))
        records.append(_state_record(T, p, traj, gas, av, start, s.gas_molecules, u_gas))
        log(
            f"  {where}: rho = {rho.mean:.1f} +- {rho.sem:.1f} kg/m^3 ({kept} frames after "
            f"t0 = {t0}, {traj.ns_per_day:.0f} ns/day); gas {gas.n_frames * s.gas_molecules} "
            "samples"
        )
    for r in records:
        r["reference"] = {k: float(v) for k, v in reference.items()}
    if previous is not None:
        old_arrays, old_head = previous
        if _gas_covered(run, old_arrays, reference):
            # the gas runs already there cover the new reference: pooling more isolated
            # molecules would only make every evaluation of Delta H_vap slower (the gas
            # samples are most of its cost); the new runs' figures stay in the records
            refs = [r for r in refs if r.kind != "gas"]
            for r in records:
                r["gas_pooled"] = False
            log(f"  {s.molecule}: the gas runs there cover this reference; new ones not pooled")
        refs = [*_previous_runs(old_arrays, old_head), *refs]
        old_records = [{**r, "reference": r.get("reference", old_head["reference"])}
                       for r in old_head["runs"]]  # fmt: skip
        records = [*old_records, *records]
    prep = mr.prepare(liquid, refs)
    if previous is not None:
        n_liq, n_gas = _frames_per_run(prep.runs, run.states)
    anchor = reference if anchor is None else _check_reference(run, anchor)
    arrays = molecular_targets.prepared_arrays(
        run.potential, s, prep, run.states, n_liq, n_gas, anchor
    )
    # the MD error of the newest runs (one run's worth of frames, as the ESS fraction)
    arrays["sem_density0"] = np.array([a for a, _ in sems])
    arrays["sem_dhvap0"] = np.array([b for _, b in sems])
    extra = _molecule_header(run, anchor, records, prep, time.perf_counter() - t_start)
    return arrays, extra


def _remove_unused(directory: Path, keep: set[str], log) -> None:
    """Remove run files of this format that the problem no longer needs."""

    for js in sorted(directory.glob("*.json")):
        h = prepared.read_header(js)
        if h is None or h.get("fingerprint") in keep:
            continue
        npz = directory / str(h.get("npz", ""))
        log(f"removing {js.name} and {npz.name}: not needed by the problem any more")
        js.unlink(missing_ok=True)
        if npz.suffix == ".npz":
            npz.unlink(missing_ok=True)


def prepare(
    problem,
    *,
    force: bool = False,
    log=print,
    directory=None,
    reference: dict | None = None,
    origin: str | None = None,
    pool: bool = False,
    molecules=None,
    expand_about: dict | None = None,
) -> list[Path]:
    """Run and store the reference simulations of every MD target of a problem.

    One NVT run (:func:`bayesff.simulate.lj_md.simulate`) per distinct (T,
    rho) and run settings, shared by the targets that need it; each is stored
    as ``<stem>.npz`` + ``<stem>.json`` with a ``manifest.toml``
    (:mod:`bayesff.prepared`). Runs that are already there and up to date
    (same fingerprint, intact) are kept, unless ``force`` or ``reference``.

    Parameters
    ----------
    problem
        A problem file's path, or a :class:`~bayesff.problem.Problem` (then
        :func:`bayesff.prepared.attach` gives the copy that reads the runs).
    force
        Simulate every run again, at the reference of the problem's options
        (this undoes a ``bayesff refine``).
    log
        Where progress lines go (``None``: nowhere).
    directory
        The prepared directory (default ``prepared/<problem name>`` in the
        current directory).
    reference
        Simulate every run at these parameters (internal units, every
        parameter of the potential) instead of the options' ``reference``:
        what :func:`bayesff.workflows.refine.refine` does with a posterior
        mean. The options' reference stays the one the fingerprint records.
    origin
        Where the reference came from, recorded in the headers.
    pool
        With ``reference``: keep the molecular runs already prepared (up to
        date, at earlier references) and add the new ones to them, MBAR
        pooling every reference, so that the trust region covers all of them
        (what ``bayesff refine`` does). Pair MD runs (one file per state) are
        replaced as without it.
    molecules
        Simulate only the molecular runs of these molecules (names); every
        other run must be prepared already and is kept as it is (what
        ``bayesff refine`` does when it adds tail references).
    expand_about
        Molecular runs: the parameters (internal units) about which the
        first-order fallback expansion is taken, and which the header and the
        targets' ``reference`` record (default: the new reference). Refine's
        tail references keep it at the posterior mean.

    Returns
    -------
    list of Path
        The ``.npz`` file of every run the problem needs (written now or up to
        date), in the order of its targets and states.

    Raises
    ------
    ProblemError
        For a problem that does not load, invalid MD options or reference.
    BayesffError
        If a simulation fails (status not OK).
    """

    log = log or (lambda *a, **k: None)
    prob, label = _load(problem)
    runs = prepared.plan(prob) + prepared_molecular.plan_molecular(prob)
    d = Path(directory) if directory is not None else prepared.default_directory(prob.name)
    if directory is None:  # prepared/NAME linked elsewhere: refused before any simulation
        prepared.output_directory(d)
    if not runs:
        log(f"{label}: no MD targets, nothing to prepare")
        return []
    ensure_configured()  # float64 (md.simulate needs it)
    only = None if molecules is None else {str(m) for m in molecules}

    def simulate(run, where):
        return _simulate_and_write(run, d, where, reference, pool, origin, expand_about, log)

    headers = _headers(runs, d, only, force or reference is not None, simulate, log)
    paths = [d / head["npz"] for head in headers]
    _remove_unused(d, {r.fingerprint for r in runs}, log)
    script = f"bayesff prepare {label} (bayesff.workflows.prepare)"
    manifest = prepared.write_manifest(d, headers, script)
    log(f"prepared {len(runs)} reference run(s) in {d} ({manifest.name})")
    return paths


def _headers(runs, d: Path, only, redo: bool, simulate, log) -> list[dict]:
    """The header of every planned run: read back where up to date, else ``simulate``d.

    ``redo``: simulate the chosen runs even where up to date; ``only``: the molecules
    whose runs may be simulated (``None``: all), every other run must be up to date.
    """
    headers = []
    for i, run in enumerate(runs, 1):
        where = f"[{i}/{len(runs)}] {run.describe()}"
        chosen = only is None or (
            isinstance(run, prepared_molecular.PlannedMolecularRun)
            and run.settings.molecule in only
        )
        head = None if redo and chosen else _header_of(d, run)
        if not chosen and head is None:
            raise ProblemError(
                f"only {sorted(only)} are to be simulated, but this run is not prepared "
                f"(or stale) in {d}: run `bayesff prepare` first",
                where,
            )
        if head is not None:
            log(f"{where}: up to date ({run.stem}.npz, reference {head['reference']})")
        else:
            head = simulate(run, where)
        headers.append(head)
    return headers


def _simulate_and_write(run, d: Path, where: str, reference, pool, origin, expand_about, log):
    """Simulate one planned run (pair or molecular) and store it; its header as read back."""
    ref = run.settings.reference_params if reference is None else _check_reference(run, reference)
    s = run.settings
    if isinstance(run, prepared_molecular.PlannedMolecularRun):
        log(
            f"{where}: simulating {s.n_molecules} molecules with {s.engine}, "
            f"{s.n_equil} + {s.n_steps} steps per state, and the gas phase (targets "
            f"{', '.join(run.targets)})"
        )
        previous = None
        if pool and reference is not None and _header_of(d, run) is not None:
            previous = prepared.read(d, run)
            n_old = len(_previous_runs(*previous))
            log(f"  the {n_old} liquid and gas runs there are kept and pooled (MBAR)")
        arrays, extra = _simulate_molecule(run, ref, log, previous, expand_about)
    else:
        log(
            f"{where}: simulating N = {s.n_particles}, {s.n_equil} + {s.n_steps} "
            f"steps, {s.n_frames} frames, reference {ref} (targets "
            f"{', '.join(run.targets)})"
        )
        arrays, extra = _simulate(run, ref, log)
    extra["origin"] = origin or (
        "bayesff prepare (the problem's reference option)"
        if reference is None
        else "bayesff prepare with a given reference"
    )
    prepared.write(d, run, arrays, extra)
    return prepared.read(d, run)[1]
