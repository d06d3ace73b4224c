"""Prepared data: reference simulations stored as data files and read into ``Target.aux``.

MD targets (:mod:`bayesff.observables.md_targets`) predict from the frames of
reference runs made beforehand, never at trace time. ``bayesff prepare
PROBLEM`` (:func:`bayesff.workflows.prepare.prepare`) makes the runs; this
module owns their files (format, location, fingerprint, provenance) and
attaches them to a problem's targets when the problem is loaded
(:func:`attach`; :meth:`bayesff.problem.Problem.from_toml` calls it).

Location
--------
``prepared/<problem name>/`` in the current directory, as ``runs/`` is
(``prepared/`` is not committed), or a directory given to
``Problem.from_toml(path, prepared=DIR)``, :func:`attach` or ``prepare``.

Files
-----
One reference run per distinct (T, rho) and run settings, shared by every
target that needs it (the pressure and the energy of one state):

``<stem>.npz``
    The arrays of :func:`~bayesff.observables.md_targets.state_arrays`
    (NumPy's npz, read with ``allow_pickle=False``; units in :data:`ARRAY_UNITS`).
``<stem>.json``
    Its header: format and version, fingerprint, state, potential, run
    settings, the reference the run was made at and the one the problem asks
    for, where it came from (``prepare``, or a ``refine`` round and the run
    whose posterior mean it is), the arrays' shapes and units, the run's
    averages and diagnostics, package versions, time, and the sha256 of the npz.
``manifest.toml``
    One ``[[files]]`` entry per npz, in the layout of ``data/manifest.toml``:
    kind ``"synthetic"``, title, source (the MD settings, reference
    parameters and package versions), licence, script, sha256, units, and
    the fingerprint.

Fingerprint
-----------
sha256 of the format version, the potential (name, parameters, module and
function), the run settings (those of :meth:`MDSettings.simulate_kwargs`,
with the resolved cut-off) and the problem's ``reference`` option, and the
state. When any of them changes, the prepared file no longer matches and
loading the problem is an error that says to run ``bayesff prepare``. The
reference a run was *made* at is not part of it: ``bayesff refine`` moves it
to the posterior mean, and a later ``bayesff calibrate`` uses the refined
runs (the header and the problem text stored in the run say which).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tomli_w

from bayesff.data import sha256_of
from bayesff.errors import ProblemError
from bayesff.io import atomic_path, confined
from bayesff.observables import md_targets as mdt
from bayesff.potentials import plugins
from bayesff.prepared_molecular import attach_molecular

__all__ = [
    "ARRAY_UNITS",
    "FORMAT",
    "MARKER",
    "VERSION",
    "PlannedRun",
    "attach",
    "default_directory",
    "md_targets",
    "output_directory",
    "plan",
    "provenance_comment",
    "read",
    "read_header",
    "strip_provenance",
    "target_states",
    "write",
    "write_manifest",
]

FORMAT = "bayesff-prepared-md"
#: Formats of prepared files: pair MD (this module) and molecular liquids
#: (:mod:`bayesff.prepared_molecular`).
FORMATS = (FORMAT, "bayesff-prepared-molecular-md")
#: Format version (in the fingerprint: a new version makes old files stale).
VERSION = 1
#: Units of the stored arrays (internal units; parameters in the potential's order).
ARRAY_UNITS = {
    "T_K": "K",
    "rho_per_A3": "1/angstrom^3",
    "n_particles": "1",
    "volume_A3": "angstrom^3",
    "r_cut_angstrom": "angstrom",
    "tail": "1 (1.0: long-range tail added)",
    "reference": "internal unit of each parameter (header param_names)",
    "r": "angstrom",
    "mask": "1 (true: a pair within r_cut)",
    "u_ref": "kJ/mol",
    "S_frames": "1",
    "q": "1/angstrom",
    "pressure_MPa": "MPa",
    "energy_kJ_per_mol": "kJ/mol",
    "S": "1",
    "d_pressure": "MPa per internal unit of each parameter",
    "d_energy": "kJ/mol per internal unit of each parameter",
    "d_S": "1 per internal unit of each parameter",
    "pressure_se_MPa": "MPa",
    "energy_se_kJ_per_mol": "kJ/mol",
    "S_se": "1",
}
#: First line of the comment :func:`provenance_comment` appends to a problem's text.
MARKER = "# --- bayesff prepared data (appended when the problem was loaded) ---"


def default_directory(problem_name: str) -> Path:
    """``prepared/<problem name>`` in the current directory."""
    return Path("prepared") / problem_name


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PlannedRun:
    """One reference run a problem needs (see the module docstring)."""

    T_K: float
    rho_per_A3: float
    potential: object
    settings: object  # md_targets.MDSettings
    fingerprint: str
    targets: tuple[str, ...]

    format = FORMAT

    @property
    def stem(self) -> str:
        return f"T{self.T_K:.6g}K_rho{self.rho_per_A3:.6g}_{self.fingerprint[:12]}"

    def record(self) -> dict:
        """What the fingerprint covers, as JSON-ready values."""
        return _record(self.potential, self.settings)

    def header_fields(self) -> dict:
        """The state, as the header records it."""
        return {"T_K": self.T_K, "rho_per_A3": self.rho_per_A3}

    def describe(self) -> str:
        return f"T = {self.T_K:g} K, rho = {self.rho_per_A3:g} /angstrom^3"

    def same_state(self, header: dict) -> bool:
        """Whether a header is of this run's state (another fingerprint: stale)."""
        T, rho = header.get("T_K"), header.get("rho_per_A3")
        return (
            _finite(T)
            and _finite(rho)
            and bool(np.isclose(T, self.T_K, rtol=1e-9))
            and bool(np.isclose(rho, self.rho_per_A3, rtol=1e-9))
        )

    def record_keys(self) -> tuple[str, ...]:
        return ("potential", "simulate", "reference_option")


def _potential_record(potential) -> dict:

    d = plugins.describe(potential)
    return {
        "name": d["name"],
        "module": d["module"],
        "qualname": d["qualname"],
        "param_names": list(potential.param_names),
    }


def _record(potential, settings) -> dict:
    return {
        "potential": _potential_record(potential),
        "simulate": settings.simulate_kwargs(potential),
        "reference_option": settings.reference_params,
    }


def _fingerprint(potential, settings, T_K: float, rho: float) -> str:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        **_record(potential, settings),
        "T_K": float(T_K).hex(),
        "rho_per_A3": float(rho).hex(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def md_targets(problem) -> list[tuple]:
    """``(target, potential, settings, quantity)`` of every MD target of a problem.

    Raises
    ------
    ProblemError
        For invalid options, naming the target.
    """

    out = []
    for t in problem.targets:
        quantity = mdt.quantity_of(t.observable)
        if quantity is None:
            continue
        potential = t.forward(problem).potential
        try:
            settings = mdt.parse_options(potential, t.options, t.observable.name)
        except ValueError as e:
            raise ProblemError(str(e), _where(problem, t)) from None
        out.append((t, potential, settings, quantity))
    return out


def target_states(target) -> list[tuple[float, float]]:
    """Distinct (T_K, rho_per_A3) of the rows a target trains on or predicts."""
    used = target.train | target.holdout_mask()
    T = np.asarray(target.env["T_K"], dtype=float).reshape(target.n, -1)[:, 0][used]
    rho = np.asarray(target.env["rho_per_A3"], dtype=float).reshape(target.n, -1)[:, 0][used]
    return [tuple(map(float, p)) for p in np.unique(np.stack([T, rho], axis=1), axis=0)]


def plan(problem) -> list[PlannedRun]:
    """The reference runs a problem needs, each once (targets that share it listed)."""
    runs: dict[str, PlannedRun] = {}
    for t, pot, settings, _ in md_targets(problem):
        for T, rho in target_states(t):
            fp = _fingerprint(pot, settings, T, rho)
            old = runs.get(fp)
            names = (*old.targets, t.name) if old else (t.name,)
            runs[fp] = PlannedRun(T, rho, pot, settings, fp, names)
    return list(runs.values())


def _where(problem, target) -> str:
    return f"{problem.path or f'problem {problem.name!r}'}: target {target.name!r}"


# ----------------------------------------------------------------------------- files


def output_directory(directory) -> Path:
    """The default prepared folder ``directory``, refused if it resolves outside its parent.

    ``prepared/<name>`` that is a symbolic link to a folder elsewhere would have
    ``bayesff prepare`` write there: refused as ``calibrate``, ``report`` and
    ``export`` refuse their default folders (:func:`bayesff.io.confined`).
    ``prepared/`` itself may be a link (as ``runs/`` may), and a folder the user
    names explicitly is not checked (as ``--out`` is not).

    Raises
    ------
    bayesff.io.OutputError
        If ``directory`` resolves (symbolic links followed) outside its parent.
    """
    d = Path(directory)
    confined(d, d.parent, "prepared folder")
    return d


def write(directory, run, arrays: dict, header: dict) -> tuple[Path, Path]:
    """Write one run's arrays (npz) and header (JSON) atomically; returns both paths.

    ``header`` adds to what this function records itself (format, version,
    fingerprint, state, the fingerprint's record, array shapes and units, sha256).

    The default folder ``prepared/NAME`` is checked by ``bayesff prepare`` and
    ``bayesff refine`` before any simulation (:func:`output_directory`); a folder given
    explicitly is the caller's choice, links included.
    """

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    npz = d / f"{run.stem}.npz"
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    units_ = getattr(run, "array_units", ARRAY_UNITS)
    with atomic_path(npz) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    head = {
        "format": run.format,
        "version": VERSION,
        "fingerprint": run.fingerprint,
        **run.header_fields(),
        "targets": list(run.targets),
        **run.record(),
        **header,
        "arrays": {
            k: {"shape": list(v.shape), "dtype": str(v.dtype), "unit": units_.get(k, "")}
            for k, v in arrays.items()
        },
        "npz": npz.name,
        "sha256": sha256_of(npz),
    }
    js = d / f"{run.stem}.json"
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(head, indent=1, sort_keys=True, default=float) + "\n")
    return npz, js


def _load_header(path) -> dict | None:
    """A JSON object of a prepared format from ``path``, its fields not yet checked."""
    try:
        h = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return h if isinstance(h, dict) and h.get("format") in FORMATS else None


def read_header(path) -> dict | None:
    """The header (JSON) of a prepared run, or None if the file is not one.

    Not one: unreadable, not JSON, of another format, or with a field that is not
    what :func:`write` records (a control character or line break in its text, an
    ``npz`` that is not a plain file name, a field of another type, ...);
    :func:`read` says which field.
    """
    h = _load_header(path)
    return h if h is not None and _header_problem(h) is None else None


def _prepare_hint(problem) -> str:
    target = problem.path or "PROBLEM"
    return f"run `bayesff prepare {target}`"


def _differences(expected: dict, found: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(expected) | set(found)):
        a, b = expected.get(k), found.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: {b!r} there, {a!r} now")
    return out


def _missing_message(directory: Path, run, hint: str) -> str:
    state = run.describe()
    if directory.is_dir():
        for js in sorted(directory.glob("*.json")):
            h = _load_header(js)
            if h is None or h.get("fingerprint") == run.fingerprint or h["format"] != run.format:
                continue
            problem = _header_problem(h)
            if problem is not None:  # another version's header, or a damaged one
                if run.same_state(h):
                    return (
                        f"the prepared MD run for {state} in {directory} is of another "
                        f"version of bayesff or damaged ({js.name}: {problem}); {hint}"
                    )
                continue
            if run.same_state(h):
                found = {k: h.get(k) for k in run.record_keys()}
                if h.get("version") != VERSION:
                    diff = [f"format version {h.get('version')} there, {VERSION} now"]
                else:
                    diff = _differences(json.loads(json.dumps(run.record())), found)
                return (
                    f"the prepared MD run for {state} in {directory} is stale ("
                    f"{'; '.join(diff[:4]) or 'other settings'}); {hint}"
                )
    return f"no prepared MD run for {state} in {directory}; {hint}"


# ----------------------------------------------------------------------------- header fields

#: Characters no string of a header may hold: C0 and C1 controls (line breaks, tabs,
#: NUL), DEL, and Unicode's line and paragraph separators. ``bayesff prepare`` writes
#: none; one would break a line of the provenance comment (TOML) out of its comment.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHA256 = re.compile("[0-9a-f]{64}")
#: What every header must hold (``write`` records them all).
_REQUIRED = ("npz", "sha256", "potential", "reference", "arrays", "simulate")
#: What a pair MD header must hold besides (its state; :meth:`PlannedRun.header_fields`).
_REQUIRED_PAIR = ("T_K", "rho_per_A3")


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _text_list(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _npz_name(v) -> bool:
    """A plain file name ``<stem>.npz``: no folder, no ``..``, not absolute."""
    return isinstance(v, str) and "\\" not in v and Path(v).name == v and Path(v).suffix == ".npz"


def _potential(v) -> bool:
    return (
        isinstance(v, dict) and isinstance(v.get("name"), str) and _text_list(v.get("param_names"))
    )


def _numbers(v) -> bool:
    return isinstance(v, dict) and all(_finite(x) for x in v.values())


def _array_specs(v) -> bool:
    return isinstance(v, dict) and all(
        isinstance(s, dict)
        and isinstance(s.get("shape"), list)
        and all(_count(n) for n in s["shape"])
        and isinstance(s.get("dtype"), str)
        and isinstance(s.get("unit"), str)
        for s in v.values()
    )


#: Each header field that :func:`write` and ``bayesff prepare`` write: (name, check,
#: what it must be). Checked where present; those of ``_REQUIRED`` must be.
_FIELDS = (
    ("npz", _npz_name, "a file name <stem>.npz in the header's folder (no folder, no '..')"),
    ("sha256", lambda v: isinstance(v, str) and bool(_SHA256.fullmatch(v)), "64 hex digits"),
    ("potential", _potential, "a table with name (text) and param_names (list of text)"),
    ("reference", _numbers, "a table of finite numbers (parameter = value)"),
    ("arrays", _array_specs, "a table of {shape = list of counts, dtype = text, unit = text}"),
    ("simulate", lambda v: isinstance(v, dict), "a table (the run settings)"),
    ("version", _count, "a count"),
    ("T_K", _finite, "a finite number"),
    ("rho_per_A3", _finite, "a finite number"),
    ("state_text", lambda v: isinstance(v, str), "text"),
    ("origin", lambda v: isinstance(v, str), "text"),
    ("targets", _text_list, "a list of text (target names)"),
    ("versions", lambda v: isinstance(v, dict), "a table (package = version)"),
    (
        "manifest",
        lambda v: (
            isinstance(v, dict)
            and set(v) <= {"title", "source"}
            and all(isinstance(x, str) for x in v.values())
        ),
        "a table of title and source (text)",
    ),
)


def _control_field(head: dict) -> str | None:
    """A field (dotted path) of a header with a control character in a key or text, or None."""
    stack: list[tuple[str, object]] = [("", head)]
    while stack:
        field, value = stack.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                return field
            continue
        if isinstance(value, dict):
            items = [(f"{field}.{k}" if field else str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(f"{field}[{i}]", v) for i, v in enumerate(value)]
        else:
            continue
        for name, v in reversed(items):
            if _CONTROL.search(name):
                return name
            stack.append((name, v))
    return None


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _header_problem(head: dict) -> str | None:
    """What is wrong with a header's fields (None: each is what ``write`` gives it)."""
    field = _control_field(head)
    if field is not None:
        return (
            f"field {field!r} holds a control character or line break; a header's text must "
            "be printable characters on one line"
        )
    required = _REQUIRED + (_REQUIRED_PAIR if head.get("format") == FORMAT else ())
    lacking = [k for k in required if k not in head]
    if lacking:
        return f"the header lacks or mangles {', '.join(lacking)}"
    for name, ok, expected in _FIELDS:
        if name in head and not ok(head[name]):
            return f"field {name!r} is {_shown(head[name])}, expected {expected}"
    return None


def _checked_npz(d: Path, js: Path, head: dict, hint: str, where) -> Path:
    """The npz a checked header names, refused unless it resolves inside the header's folder."""
    npz = d / head["npz"]
    root = d.resolve()
    if root not in npz.resolve().parents:
        raise ProblemError(
            f"{js}: field 'npz' {head['npz']!r} resolves to {npz.resolve()}, outside the "
            f"header's folder {root} (check any symbolic links); {hint}",
            where,
        )
    return npz


def _matching_header(d: Path, js: Path, run, hint: str, where) -> dict:
    """The header of ``run`` in ``d``, its fields checked; ProblemError if missing or stale."""
    head = _load_header(js) if js.is_file() else None
    if js.is_file() and head is None:
        raise ProblemError(
            f"{js} is there but is not the JSON header of a prepared run (truncated, "
            f"edited or damaged since it was prepared); {hint}",
            where,
        )
    if head is None or head.get("fingerprint") != run.fingerprint:
        raise ProblemError(_missing_message(d, run, hint), where)
    problem = _header_problem(head)
    if problem is not None:
        raise ProblemError(
            f"{js}: {problem} (edited or damaged since it was prepared); {hint}", where
        )
    return head


def read(directory, run, *, hint: str = "run `bayesff prepare PROBLEM`", where=None):
    """One run's arrays and header, checked against the plan.

    The header is data from a file: each field it has is checked against what
    :func:`write` records (types; text on one line, without control characters;
    ``npz`` a plain file name in the header's folder, which it must resolve
    inside, symbolic links followed) before the npz is hashed or read.

    Raises
    ------
    ProblemError
        If the files are missing or stale (another fingerprint: the message
        lists what changed), a header field is missing or not what ``write``
        records (the message names the header and the field), the npz lies
        outside the folder or does not match its sha256, or an array is
        missing or of another shape; each message ends with ``hint``.
    """
    d = Path(directory)
    js = d / f"{run.stem}.json"
    head = _matching_header(d, js, run, hint, where)
    npz = _checked_npz(d, js, head, hint, where)
    if not npz.is_file() or sha256_of(npz) != head["sha256"]:
        raise ProblemError(
            f"{npz} is missing or does not match the sha256 of its header {js.name} "
            f"(changed or damaged since it was prepared); {hint}",
            where,
        )
    with np.load(npz, allow_pickle=False) as f:
        arrays = {k: np.asarray(f[k]) for k in f.files}
    for k, spec in head["arrays"].items():
        if k not in arrays or list(arrays[k].shape) != spec["shape"]:
            raise ProblemError(f"{npz}: array {k!r} missing or of another shape; {hint}", where)
    if head["potential"]["param_names"] != list(run.potential.param_names):
        names = head["potential"]["param_names"]
        raise ProblemError(f"{js}: parameters {names}; {hint}", where)
    return arrays, head


def write_manifest(directory, headers: list[dict], script: str) -> Path:
    """``manifest.toml`` of a prepared directory: one entry per run (see the module docstring)."""

    files = []
    for h in headers:
        if "manifest" in h:  # a format that describes itself (molecular runs)
            files.append(
                {
                    "path": h["npz"],
                    "header": f"{Path(h['npz']).stem}.json",
                    "kind": "synthetic",
                    **h["manifest"],
                    "licence": "generated by bayesff; same licence as bayesff (MIT)",
                    "script": script,
                    "sha256": h["sha256"],
                    "fingerprint": h["fingerprint"],
                    "units": {k: v["unit"] for k, v in h["arrays"].items()},
                }
            )
            continue
        sim = h["simulate"]
        ref = ", ".join(f"{k} = {v:.10g}" for k, v in h["reference"].items())
        versions = ", ".join(f"{k} {v}" for k, v in sorted(h.get("versions", {}).items()))
        files.append(
            {
                "path": h["npz"],
                "header": f"{Path(h['npz']).stem}.json",
                "kind": "synthetic",
                "title": (
                    f"NVT MD reference run of {h['potential']['name']} at T = {h['T_K']:g} K, "
                    f"rho = {h['rho_per_A3']:g} /angstrom^3 (frames for reweighting; simulated, "
                    "not measured)"
                ),
                "source": (
                    f"bayesff.simulate.lj_md.simulate (jax-md BAOAB Langevin NVT) with "
                    f"{', '.join(f'{k} = {v}' for k, v in sorted(sim.items()))}; reference "
                    f"parameters (internal units, kJ/mol and angstrom) {ref}; "
                    f"{h.get('origin', '')}; {versions}"
                ),
                "licence": "generated by bayesff; same licence as bayesff (MIT)",
                "script": script,
                "sha256": h["sha256"],
                "fingerprint": h["fingerprint"],
                "units": {k: v["unit"] for k, v in h["arrays"].items()},
            }
        )
    path = Path(directory) / "manifest.toml"
    text = (
        "# Prepared MD reference runs (bayesff.prepared): written by bayesff prepare/refine.\n"
        + tomli_w.dumps({"files": files})
    )
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- attach


def attach(problem, directory=None) -> tuple:
    """A copy of a problem whose MD targets' ``aux`` holds their prepared MD runs.

    Parameters
    ----------
    problem
        A :class:`~bayesff.problem.Problem` (built from a file or in Python).
    directory
        The prepared directory; default ``prepared/<problem name>`` in the
        current directory.

    Returns
    -------
    problem, headers
        The new problem (the same one if it has no MD target), and the headers
        of the runs used (empty if it has no MD target).

    Raises
    ------
    ProblemError
        Naming the target: no prepared run, a stale one (settings, reference
        option or potential changed), a damaged file, or an S(q) row whose q
        lies outside the run's shells; each says to run ``bayesff prepare``.
    """

    entries = md_targets(problem)
    d = Path(directory) if directory is not None else default_directory(problem.name)
    hint = _prepare_hint(problem)
    targets, headers = attach_molecular(problem, d, hint, read)
    if headers:
        problem = problem.replace(targets=targets)
    if not entries:
        return problem, headers
    cache: dict[str, tuple] = {}
    with_aux = {}
    for t, pot, settings, quantity in entries:
        states = []
        for T, rho in target_states(t):
            run = PlannedRun(T, rho, pot, settings, _fingerprint(pot, settings, T, rho), ())
            if run.fingerprint not in cache:
                cache[run.fingerprint] = read(d, run, hint=hint, where=_where(problem, t))
            states.append(cache[run.fingerprint][0])
        aux = mdt.target_aux(states, quantity, settings)
        if quantity == "structure":
            _check_q(problem, t, aux)
        with_aux[t.name] = t.replace(aux=aux)
    targets = [with_aux.get(t.name, t) for t in problem.targets]
    return problem.replace(targets=targets), headers + [h for _, h in cache.values()]


def _check_q(problem, target, aux) -> None:
    T = np.asarray(target.env["T_K"], float).ravel()
    rho = np.asarray(target.env["rho_per_A3"], float).ravel()
    q = np.asarray(target.env["q_inv_angstrom"], float).ravel()
    used = target.train | target.holdout_mask()
    for i in np.flatnonzero(used):
        s = int(np.argmin(np.abs(aux["T_K"] / T[i] - 1) + np.abs(aux["rho_per_A3"] / rho[i] - 1)))
        lo, hi = aux["q"][s, 0], aux["q_max"][s]
        if not lo <= q[i] <= hi:
            raise ProblemError(
                f"row {i}: q = {q[i]:g} /angstrom lies outside the prepared run's shells "
                f"[{lo:g}, {hi:g}] (2 pi / L to q_max) at T = {T[i]:g} K, rho = {rho[i]:g}; "
                "select rows inside it, or use more particles (a larger box reaches lower q)",
                _where(problem, target),
            )


# ----------------------------------------------------------------------------- provenance


def strip_provenance(text: str) -> str:
    """A problem's text without a comment block that :func:`provenance_comment` appended."""
    i = text.find(MARKER)
    return text if i < 0 else text[:i].rstrip("\n") + "\n"


def _one_line(text: str) -> str:
    """``text`` with every control character or line break escaped as Python writes it."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


def provenance_comment(directory, headers: list[dict]) -> str:
    """A TOML comment naming the prepared runs a problem was loaded with.

    Appended to the problem's text (so it goes into the run file and the
    problem's fingerprint): the directory, and for each run its state, file,
    sha256, the reference it was made at and where that came from. Every line
    is a comment: a control character or line break in a value (which
    :func:`read` refuses in a header) is written escaped (``\\n``), so that no
    value can end its comment line and add TOML of its own.
    """
    lines = [MARKER, f"# directory: {Path(directory)}"]
    for h in headers:
        ref = ", ".join(f"{k} = {v:.10g}" for k, v in h["reference"].items())
        state = h.get("state_text") or f"T = {h['T_K']:g} K, rho = {h['rho_per_A3']:g}"
        lines.append(
            f"# {state}: {h['npz']} sha256 {h['sha256']}; "
            f"reference {{ {ref} }} ({h.get('origin', '')})"
        )
    return "\n".join(_one_line(line) for line in lines) + "\n"
