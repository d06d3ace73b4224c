"""Many calibrations from one sweep file, run on Dask.

A sweep file names a base problem and the axes to vary, or lists problem
files::

    [sweep]
    name = "argon_forms"
    base = "../argon_lj_b2.toml"        # relative to the sweep file
    retries = 2                        # Dask retries of a task whose worker died

    [[axes]]
    name = "potential"
    values = [
      { label = "lj" },
      { label = "mie", set = { potential = { kind = "mie" } } },
    ]

    [inference]                        # every task's, unless a set below says otherwise
    samples = 1000

Each value's ``set`` is merged into the base problem's document (tables
merge key by key, except a target's ``train``, ``select``, ``rows`` and ``noise``
and a parameter's ``prior`` of another family (``dist``), which a ``set`` replaces
whole: ``train = { T_K = [80, 120] }`` selects on T_K alone, whatever the base
selected on, and ``prior = { median = 150.0 }`` changes only the median; targets are
addressed by name: ``set = { targets = { B2 = { data = "..." } } }``). The
tasks are the product of the axes, named by their labels (``lj``, ``mie``;
``lj-argon`` for two axes), and each is an ordinary problem whose run file is
``runs/SWEEP/TASK/posterior.nc``.

Three additions serve sweeps whose axes do not combine freely (the atlas of
``models/atlas/atlas.toml``: fluids x potential forms):

* **A base per value.** A value may name its own ``base`` problem file
  (relative to the sweep file), used instead of ``[sweep].base`` for the
  tasks that take this value: potential forms with different targets
  (``{ label = "2clj", base = "2clj.toml" }``). ``[sweep].base`` may then be
  left out if every task gets a base from a value; two values of one task
  that both name a base are an error.
* **Conditional sets**, ``[[when]]``: ``match`` names labels per axis (a
  label or a list of labels; all named axes must match; no ``match`` matches
  every task), ``set`` is merged into the matching tasks' documents after the
  axes' own sets, in file order::

      [[when]]
      match = { fluid = "nitrogen", potential = ["2clj", "2cljq"] }
      set = { parameters = { L = { unit = "angstrom", value = 1.09768 } } }

* **Excluded combinations**: a ``[[when]]`` with ``exclude = true`` (and no
  ``set``) removes the matching combinations from the sweep (``match``
  required): ``{ match = { fluid = ["argon"], potential = ["2clj"] },
  exclude = true }``.

A label in ``match`` that no value of its axis has, or an axis that does not
exist, is an error (a typo would otherwise match nothing silently); a
``[[when]]`` whose labels exist but match no task (their combination excluded)
is a ``UserWarning``: it has no effect. Two ``[[when]]`` blocks that match one task
and set one key of it to different values are a :class:`WhenConflictWarning` (one per
pair of blocks and key, naming both, the key, both values and the tasks): the later
block's value is used, but the earlier block's was lost without a word. A later block
that matches only some of the earlier block's tasks (a narrower ``match``) overrides
it without a warning: a rule for many tasks, then its exceptions. The merge
order is: base, ``[inference]``, the axes' sets in axis order, then the
matching ``[[when]]`` sets in file order: the sweep's ``[inference]`` overrides
the base problem's, and a value or ``[[when]]`` that sets ``inference`` keys
overrides both for its tasks (``set = { inference = { samples = 3000 } }``:
longer chains for the runs that need them). A parameter set to ``{ prior = ... }``
loses the base's ``value`` (a fixed parameter is sampled) and one set to ``{ value =
... }`` loses its ``prior`` (a sampled one is fixed). A sweep that lists ``problems``
applies its ``[inference]`` over each problem's. Each task records its axis labels
(:attr:`Task.labels`) and which value or block set each key of its document
(:attr:`Task.sources`): a task whose problem is refused for a key that an axis value,
a ``[[when]]`` block or the sweep's ``[inference]`` set says which, e.g. ``... (set by
[[when]] block 3 of atlas.toml (when[2], line 225), which matches potential=mie,
training=VLE)``; an error in a key of the base problem is left as it is.

``[sweep.atlas]`` asks for the transferability atlas page
(:mod:`bayesff.report.atlas`) as ``reports/SWEEP/index.html``, the task list
then going to ``reports/SWEEP/tasks.html``: ``fluids`` (a CSV with one row per
fluid: ``fluid``, ``Tc_K``, ``Vc_cm3_per_mol``, ``quantum_flag``, ...),
``fluid_axis`` and ``potential_axis`` (default ``"fluid"``, ``"potential"``).

:func:`run_sweep` expands the file, checks every task's problem before any
sampling (an invalid one is reported in the summary, the others run), skips
tasks whose run file exists with the same problem fingerprint and settings,
groups same-structure tasks into batches (:func:`bayesff.calibrate_many`) and
submits them to a Dask cluster: an embedded ``LocalCluster`` by default, or
the scheduler at ``scheduler="tcp://HOST:PORT"``. A worker that dies loses the
batch it was running, which Dask runs again (``retries``); a task of that
batch whose run file the dead worker had already written is not computed
again. If the connection to the scheduler is lost (the scheduler died), the
sweep stops with :class:`SweepInterrupted` after writing the summary (the
tasks not finished are listed as ``not run``); running it again computes only
those. At the end, ``runs/SWEEP/summary.csv`` and ``reports/SWEEP/index.html``
list every task. A skipped task's row is taken from the last ``summary.csv`` when
its ``run_written`` column (the run file's ``created_utc`` and size) still matches the
file, else computed from the run file (``bayesff atlas`` always computes them, to
rebuild rows after a change to the verdicts' code).

Every attempt at a task is logged in ``runs/SWEEP/journal.jsonl``, one JSON
line per event appended by the process that did it (``start``, ``written``,
``failed``, ``skipped`` on a worker; ``sweep`` and ``end`` by the process that
runs the sweep), with the time, host and process id: how many times a task was
computed, and where, can be read there.

A sweep has at most ``max_tasks`` tasks (:data:`DEFAULT_MAX_TASKS`, or the
``--max-tasks`` flag): axes whose sizes multiply beyond it are refused before
any combination is built.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import math
import os
import platform
import re
import sys
import time
import warnings
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jax
import numpy as np
import tomli_w
from dask.distributed import Client, LocalCluster, as_completed
from distributed.comm.core import CommClosedError
from tqdm.auto import tqdm

from bayesff import runfile
from bayesff.defaults import DEFAULT_MAX_TASKS
from bayesff.errors import BayesffError, ProblemError, RunExistsError
from bayesff.inference import calibrate_many, diagnose
from bayesff.inference.calibrate import (
    _groups,
    _kernel_settings,
    default_batch_size,
    row_counts,
)
from bayesff.io import atomic_path, confined
from bayesff.potentials import plugins
from bayesff.problem import Problem, read_text
from bayesff.report import report as write_report
from bayesff.report.atlas import (
    RESULT_STATUSES,
    AtlasEntry,
    carried_entry,
    read_fluids,
    read_previous,
    write_atlas,
)
from bayesff.report.sweep import check_sweep_outputs, write_index
from bayesff.runtime import ensure_configured
from bayesff.schemas import (
    NAME_PATTERN,
    SWEEP_SCHEMA,
    check_document,
    check_name,
    parse_toml,
    validate,
)
from bayesff.settings import InferenceSettings
from bayesff.transferability import evaluate
from bayesff.transferability.criteria import mc_label

__all__ = [
    "DEFAULT_MAX_TASKS",
    "SweepInterrupted",
    "SweepResult",
    "Task",
    "WhenConflictWarning",
    "build_atlas",
    "check_sweep",
    "expand",
    "read_sweep",
    "run_sweep",
    "write_summary",
]

#: Status of the tasks a sweep did not reach because it lost its scheduler.
NOT_RUN = "not run"
#: the message of a task that ``--only`` left out (status :data:`NOT_RUN`)
_UNSELECTED = "not selected"


class WhenConflictWarning(UserWarning):
    """Two ``[[when]]`` blocks of a sweep match one task and set one key of it to different
    values (the later block's value is used)."""


class SweepInterrupted(BayesffError):
    """The sweep lost its Dask scheduler; ``result`` is what it had done (summary written).

    Run files written before are complete (atomic writes); running the sweep again
    computes only the tasks listed as ``not run``.
    """

    def __init__(self, message: str, where: str | None, result: SweepResult):
        super().__init__(message, where)
        self.result = result


@dataclass
class Task:
    """One calibration of a sweep.

    Attributes
    ----------
    name
        Task name (labels of its axis values joined by '-').
    document
        The problem document (a problem file's tables).
    base_dirs
        Where relative data paths are looked up.
    out
        The run file.
    error
        Why the task cannot run (an invalid problem), or ``None``.
    labels
        Axis name -> this task's label on it (empty for a list of problems).
    sources
        Key path of :attr:`document` (targets by name: ``("targets", "B2", "train")``)
        -> what in the sweep file set it last (an axis value, a ``[[when]]`` block, the
        sweep's ``[inference]``); keys of the base problem are not listed. A refused
        problem's error names the source of the key it names.
    """

    name: str
    document: dict
    base_dirs: tuple
    out: Path
    error: str | None = None
    fingerprint: str = ""
    legacy_fingerprint: str = ""  # Problem.legacy_fingerprint: run files made before 2026-11-27
    settings: str = ""
    pad_rows: dict | None = None  # row counts of its structure group (calibrate_many)
    labels: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


@dataclass
class SweepResult:
    """What :func:`run_sweep` did: the tasks, their status and where the summary is."""

    name: str
    tasks: list[Task]
    status: dict[str, str] = field(default_factory=dict)  # task -> done | skipped | failed
    messages: dict[str, str] = field(default_factory=dict)
    summary: Path | None = None
    index: Path | None = None
    wall_time_s: float = 0.0
    runs: Path | None = None  # runs/SWEEP: the run folder its pages are made from


#: A target's tables that a sweep's ``set`` replaces whole instead of merging key by
#: key: its row selection (``train``, ``select``, the row filter ``rows``: merged, a new
#: column's range was added to the base's, and the task trained on the intersection,
#: silently fewer rows than asked for) and uncertainty (``noise``: a column could not
#: become a value). A ``prior`` that names another ``dist`` than the base's is replaced
#: whole too (merged, a Normal kept the base LogNormal's median); one of the same family
#: (``prior = { median = 33.9 }``, or with its ``dist`` restated) changes the base's
#: numbers.
REPLACED_TABLES = frozenset({"train", "select", "rows", "noise"})


def _new_family(old, new) -> bool:
    """Whether ``new`` is a prior table of another family than ``old``."""
    return (
        isinstance(old, dict)
        and isinstance(new, dict)
        and "dist" in new
        and new["dist"] != old.get("dist")
    )


def _merge(
    base: dict,
    change: dict,
    where: str,
    replace: frozenset = frozenset(),
    paths: list | None = None,
    prefix: tuple = (),
) -> dict:
    """``change`` merged into ``base`` (tables key by key, but the keys in ``replace``, a
    target's :data:`REPLACED_TABLES`, and a prior of a new family whole; targets by
    name).

    With ``paths`` (a list), the key paths the merge sets are appended to it, each with
    the value it gets: a leaf, or a table replaced whole (a new table, one of
    ``replace``, a prior of a new family); targets by name (``(("targets", "B2",
    "train"), {...})``); a parameter's ``value`` or ``prior`` that the other removes as
    a :class:`_Removed`. ``prefix`` is where ``base`` lies in the whole document.
    """
    out = copy.deepcopy(base)
    for k, v in change.items():
        p = (*prefix, k)
        if k in replace or (k == "prior" and _new_family(out.get(k), v)):
            out[k] = copy.deepcopy(v)
            _note(paths, p, v)
        elif k == "targets" and isinstance(v, dict):
            _merge_targets(out, v, f"{where}.targets", paths, p)
        elif k == "parameters" and isinstance(v, dict) and isinstance(out.get(k), dict):
            if paths is not None:
                paths += _removed_keys(out[k], v, p)
            out[k] = _merge(_free_or_fix(out[k], v), v, f"{where}.{k}", frozenset(), paths, p)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, f"{where}.{k}", frozenset(), paths, p)
        else:
            out[k] = copy.deepcopy(v)
            _note(paths, p, v)
    return out


def _note(paths: list | None, path: tuple, value) -> None:
    if paths is not None:
        paths.append((path, value))


def _merge_targets(out: dict, change: dict, where: str, paths: list | None, p: tuple) -> None:
    """The targets of ``change`` (a table by name) merged into ``out``'s array of
    ``[[targets]]`` tables, in place (:func:`_merge`)."""
    base_targets = out.get("targets", [])
    if not isinstance(base_targets, list) or not all(isinstance(t, dict) for t in base_targets):
        raise ProblemError(
            "targets are set by name, but the base problem's targets are not an "
            "array of [[targets]] tables",
            where,
        )
    by_name = {t.get("name"): t for t in base_targets}
    for tname, tchange in change.items():
        if tname not in by_name:
            raise ProblemError(
                f"no target named {tname!r} in the base problem; targets are "
                f"{', '.join(map(repr, by_name))}",
                where,
            )
        if not isinstance(tchange, dict):
            raise ProblemError(
                f"expected a table of the target's keys, got {tchange!r}", f"{where}.{tname}"
            )
        by_name[tname].update(
            _merge(
                by_name[tname], tchange, f"{where}.{tname}", REPLACED_TABLES, paths, (*p, tname)
            )
        )


def _free_or_fix(base: dict, change: dict) -> dict:
    """The base's parameters with ``value`` dropped where ``change`` gives that parameter
    a ``prior`` only (a fixed parameter sampled), and ``prior`` where it gives a ``value``
    only (a sampled one fixed): a parameter takes exactly one of the two, and TOML has no
    way to delete a key."""
    out = dict(base)
    for name, c in change.items():
        b = out.get(name)
        if isinstance(c, dict) and isinstance(b, dict) and ("prior" in c) != ("value" in c):
            out[name] = {k: x for k, x in b.items() if k != ("value" if "prior" in c else "prior")}
    return out


# --------------------------------------------------------------- where a task's keys came from

#: a key a value lacks (:func:`_get`)
_MISSING = object()


@dataclass(frozen=True)
class _Removed:
    """The "value" of a parameter's ``prior`` or ``value`` that a set removes by giving
    it the other (:func:`_free_or_fix`); ``by``: the key given."""

    by: str


def _removed_keys(base: dict, change: dict, prefix: tuple) -> list:
    """The parameters' ``value`` or ``prior`` keys that ``change`` removes from ``base``
    (:func:`_free_or_fix`), as :func:`_merge`'s ``paths`` entries of a :class:`_Removed`."""
    out = []
    for name, c in change.items():
        b = base.get(name)
        if isinstance(c, dict) and isinstance(b, dict) and ("prior" in c) != ("value" in c):
            given = "prior" if "prior" in c else "value"
            other = "value" if given == "prior" else "prior"
            if other in b:
                out.append(((*prefix, name, other), _Removed(given)))
    return out


def _under(key: tuple, path: tuple) -> bool:
    """Whether ``path`` lies strictly inside ``key``."""
    return len(path) > len(key) and path[: len(key)] == key


def _traced_merge(d: dict, change: dict, at: str, source: str, sources: dict):
    """:func:`_merge`, recording ``source`` as the setter of each key path it sets (in
    ``sources``, key path -> source; what an earlier source set inside a table replaced
    whole is dropped). Returns the merged document and the paths set, with their values."""
    paths = []
    merged = _merge(d, change, at, paths=paths)
    for p, v in paths:
        for gone in [q for q in sources if q == p or _under(p, q)]:
            del sources[gone]
        if not isinstance(v, _Removed):
            sources[p] = source
    return merged, paths


def _get(value, rel: tuple):
    """``value`` at the key path ``rel`` inside it, or :data:`_MISSING`."""
    for k in rel:
        if not isinstance(value, dict) or k not in value:
            return _MISSING
        value = value[k]
    return value


def _nest(leaves: dict) -> dict:
    """Key paths -> values as nested tables."""
    out: dict = {}
    for rel, v in leaves.items():
        node = out
        for k in rel[:-1]:
            node = node.setdefault(k, {})
        node[rel[-1]] = v
    return out


def _when_clashes(set_by: dict, paths: list, block: int) -> list[tuple]:
    """``(earlier block, key path, its value, this block's value)`` for each key that
    ``paths`` (the set of the ``[[when]]`` block ``block``, :func:`_merge`) gives a
    value other than the one an earlier block of the same task gave it; ``set_by`` (key
    path -> (block, value), the blocks' keys so far) is updated. A block that replaces a
    table whole clashes with an earlier block's keys inside it that it does not repeat;
    one that sets a key inside a table an earlier block set whole, only where that table
    gave the key another value."""
    out = []
    for key, new in paths:
        inside: dict[int, dict] = {}  # earlier block -> its keys inside `key`
        for path, (j, old) in set_by.items():
            if path == key or _under(path, key):
                sub = _get(old, key[len(path) :])
                if sub is not _MISSING and sub != new:
                    out.append((j, key, sub, new))
            elif _under(key, path):
                inside.setdefault(j, {})[path[len(key) :]] = old
        for j, leaves in inside.items():
            if any(_get(new, rel) != v for rel, v in leaves.items()):
                out.append((j, key, _nest(leaves), new))
        for gone in [q for q in set_by if q == key or _under(key, q)]:
            del set_by[gone]
        if not isinstance(new, _Removed):
            set_by[key] = (block, new)
    return out


def _short_match(match: dict) -> str:
    """A ``[[when]]`` match in a line: ``potential=2clj|2cljq, training=VLE``."""
    parts = []
    for axis, want in match.items():
        labels = [str(x) for x in _as_list(want)]
        shown = "|".join(labels) if len(labels) <= 4 else "|".join(labels[:3]) + "|..."
        parts.append(f"{axis}={shown}" + (f" ({len(labels)} labels)" if len(labels) > 4 else ""))
    return ", ".join(parts) or "every task"


#: a ``[[when]]`` header line of a sweep file
_WHEN_HEADER = re.compile(r"\s*\[\[\s*when\s*\]\]\s*(#.*)?$")


def _when_refs(path: Path, whens: list) -> list[str]:
    """Each ``[[when]]`` block's index and line: ``when[2], line 225`` (``when[2]`` where
    the file's ``[[when]]`` header lines are not one per block: ``when = [...]``)."""
    text = read_text(path, "sweep file")
    heads = [n for n, x in enumerate(text.splitlines(), 1) if _WHEN_HEADER.match(x)]
    lines = [f", line {n}" for n in heads] if len(heads) == len(whens) else [""] * len(whens)
    return [f"when[{i}]{line}" for i, line in enumerate(lines)]


def _when_names(path: Path, whens: list, refs: list[str]) -> list[str]:
    """Each ``[[when]]`` block as a task's error names it: ``[[when]] block 3 of atlas.toml
    (when[2], line 225), which matches potential=mie, training=VLE``."""
    return [
        f"[[when]] block {i + 1} of {path.name} ({refs[i]}), which matches "
        + _short_match(w.get("match", {}))
        for i, w in enumerate(whens)
    ]


#: one part of an error's field: ``[[targets]]``, ``[0]``, ``[parameters.sigma]``,
#: ``target 'B2'``, `` (B2)`` (a target's name after its index), ``.train``
_FIELD_PART = re.compile(
    r"\[\[(?P<array>[\w.-]+)\]\]|\[(?P<index>\d+)\]|\[(?P<table>[\w.-]+)\]"
    r"|target '(?P<target>[^']*)'| \((?P<name>[\w.-]+)\)|\.?(?P<key>[\w-]+)"
)


def _field_path(field: str, doc: dict) -> tuple:
    """An error's field (``targets[1] (p_sat).train``, ``[parameters.sigma].unit``,
    ``target 'B2'.noise``) as a key path of the task's document, targets by name
    (``("targets", "p_sat", "train")``); it ends where the field does (``": "``)."""
    out: list = []
    pos = 0
    while m := _FIELD_PART.match(field, pos):
        pos, kind, text = m.end(), m.lastgroup, m.group(m.lastgroup)
        if kind in ("array", "table"):
            out += text.split(".")
        elif kind == "index":
            out.append(int(text))
        elif kind == "target":
            out += ["targets", text]
        elif kind == "name" and out and isinstance(out[-1], int):
            out[-1] = text
        elif kind == "key":
            out.append(text)
        else:
            break
    if len(out) > 1 and out[0] == "targets" and isinstance(out[1], int):
        target = _node(doc, tuple(out[:2]))
        if isinstance(target, dict):
            out[1] = target.get("name", out[1])
    return tuple(out)


def _node(doc: dict, key: tuple):
    """The document's value at ``key`` (targets by name or index), or :data:`_MISSING`."""
    node = doc
    for k in key:
        if isinstance(node, dict):
            node = node.get(k, _MISSING)
        elif isinstance(node, list) and isinstance(k, int) and k < len(node):
            node = node[k]
        elif isinstance(node, list):
            node = next((t for t in node if isinstance(t, dict) and t.get("name") == k), _MISSING)
        else:
            return _MISSING
    return node


def _source_of(sources: dict, key: tuple) -> str | None:
    """What set ``key`` or the nearest table around it that was set whole, if anything."""
    for n in range(len(key), 0, -1):
        if key[:n] in sources:
            return sources[key[:n]]
    return None


def _source_note(sources: dict, key: tuple, message: str, doc: dict) -> str | None:
    """Which entry of the sweep file set the key an error names, or ``None`` (the base
    problem's key). Of a table, the keys the message names (before its ``; expected``
    list: ``unknown key(s) seeed``, ``target_accept must be in (0, 1)``) are looked up;
    if it names none, the table itself, else the sources of the keys set inside it."""
    node = _node(doc, key)
    said = re.split(r";\s*expected\b", message, maxsplit=1)[0]
    named = [
        k
        for k in (node if isinstance(node, dict) else ())
        if isinstance(k, str) and re.search(rf"(?<!\w){re.escape(k)}(?!\w)", said)
    ]
    if named:
        by: dict[str, list[str]] = {}
        for k in named:
            if (s := _source_of(sources, (*key, k))) is not None:
                by.setdefault(s, []).append(k)
        return "; ".join(f"{', '.join(ks)} set by {s}" for s, ks in by.items()) or None
    if (s := _source_of(sources, key)) is not None:
        return f"set by {s}"
    inside = list(dict.fromkeys(s for p, s in sources.items() if _under(key, p)))
    if not isinstance(node, dict) or not inside:
        return None
    more = f"; and {len(inside) - 3} more" if len(inside) > 3 else ""
    return "keys of it set by " + "; ".join(inside[:3]) + more


def _name_source(e: BayesffError, task: Task, where: str) -> None:
    """Add to ``e`` (refusing ``task``'s problem, built at ``where``) the axis value or
    ``[[when]]`` block that set the key it names (:attr:`Task.sources`), if one did."""
    head = f"{where}: "
    if not task.sources or not e.where or not e.where.startswith(head):
        return
    key = _field_path(e.where[len(head) :], task.document)
    note = _source_note(task.sources, key, e.message, task.document) if key else None
    filtered = _filtered_target(key, task.document) if "rows filter" in e.message else None
    if filtered is not None:
        # a training or held-out selection was left nothing by the target's rows filter:
        # its setter is as much the cause (review and audit, 2026-11-30)
        by = _source_of(task.sources, ("targets", filtered, "rows"))
        if by is not None:
            note = "; ".join(x for x in (note, f"the rows filter set by {by}") if x)
    if note:
        e.message = f"{e.message} ({note})"
        e.args = (f"{e.where}: {e.message}",)


def _filtered_target(key: tuple, doc: dict) -> str | None:
    """The target whose rows filter a refusal at ``key`` blames: a target's ``train`` or
    ``error_model`` (``("targets", NAME, "train")``) or a ``[transferability]`` held-out
    group's."""
    if len(key) >= 3 and key[0] == "targets" and key[2] in ("train", "error_model"):
        return key[1]
    if key[:2] == ("transferability", "holdout") and len(key) >= 3:
        group = _node(doc, key[:3])
        if isinstance(group, dict) and isinstance(group.get("target"), str):
            return group["target"]
    return None


def read_sweep(path: str | Path) -> dict:
    """A sweep file's document, checked against :data:`bayesff.schemas.SWEEP_SCHEMA`."""

    path = Path(path)
    text = read_text(path, "sweep file")
    doc = parse_toml(text, str(path))
    if "problem" in doc and "sweep" not in doc:  # a problem file's own table, no sweep's
        raise ProblemError(
            f"a problem file, not a sweep file: run it with bayesff calibrate {path}",
            str(path),
        )
    validate(doc, SWEEP_SCHEMA, str(path))
    s = doc["sweep"]
    value_bases = any("base" in v for a in doc.get("axes", []) for v in a["values"])
    if "problems" in s and ("base" in s or value_bases):
        raise ProblemError(
            "give exactly one of 'base' (with axes) or 'problems'", f"{path}: [sweep]"
        )
    if "problems" not in s and "base" not in s and not value_bases:
        raise ProblemError(
            "give exactly one of 'base' (with axes) or 'problems'", f"{path}: [sweep]"
        )
    if "problems" in s and (doc.get("axes") or doc.get("when")):
        raise ProblemError(
            "axes and [[when]] vary a base problem; a list of problems takes none", str(path)
        )
    _check_axis_names(doc, path)
    _check_when(doc, path)
    _check_atlas(doc, path)
    return doc


def _check_atlas(doc: dict, path: Path) -> None:
    """A ``[sweep.atlas]`` table is checked before any task runs (the page is written after
    them all): its fluids table is read, and its fluid and potential axes exist."""
    atlas = doc["sweep"].get("atlas")
    if atlas is None:
        return
    fluids_path = (path.parent / atlas["fluids"]).resolve()
    fluids = read_fluids(fluids_path, f"{path}: [sweep.atlas].fluids")
    names = [a["name"] for a in doc.get("axes", [])]
    for key, default in (("fluid_axis", "fluid"), ("potential_axis", "potential")):
        if atlas.get(key, default) not in names:
            raise ProblemError(
                f"{key} = {atlas.get(key, default)!r} is not an axis of the sweep; its axes are "
                f"{', '.join(names) or 'none'}",
                f"{path}: [sweep.atlas].{key}",
            )
    # every fluid of the axis needs its row (Tc, Vc): the page's corresponding-states
    # figure and each fluid's page read it; a missing one used to be left out silently
    axis = atlas.get("fluid_axis", "fluid")
    (fluid_axis,) = [a for a in doc["axes"] if a["name"] == axis]
    for i, v in enumerate(fluid_axis["values"]):
        label = str(v["label"])
        if label not in fluids:
            raise ProblemError(
                f"fluid {label!r} has no row in the atlas's fluids table {fluids_path} "
                f"(its fluids: {', '.join(sorted(fluids))})",
                f"{path}: axis {axis!r}, value {i}",
            )


def _check_axis_names(doc: dict, path: Path) -> None:
    """No two axes share a name (the later would silently replace the earlier's values,
    settings and labels in every task)."""
    seen: dict[str, int] = {}
    for i, a in enumerate(doc.get("axes", [])):
        if a["name"] in seen:
            raise ProblemError(
                f"axis name {a['name']!r} is used by axes[{seen[a['name']]}] and axes[{i}]; "
                "each axis needs a name of its own",
                f"{path}: axes[{i}].name",
            )
        seen[a["name"]] = i


def _check_when(doc: dict, path: Path) -> None:
    """Every ``[[when]]`` names existing axes and labels, and sets or excludes (not both)."""
    labels = {a["name"]: [v["label"] for v in a["values"]] for a in doc.get("axes", [])}
    for i, w in enumerate(doc.get("when", [])):
        where = f"{path}: when[{i}]"
        if w.get("exclude") and "set" in w:
            raise ProblemError("give either set or exclude = true, not both", where)
        if not w.get("exclude") and "set" not in w:
            raise ProblemError("expected set = {...} or exclude = true", where)
        if w.get("exclude") and not w.get("match"):
            raise ProblemError("exclude = true needs a match (it would remove every task)", where)
        _check_labels(labels, w.get("match", {}), f"{where}.match")


def _check_labels(labels: dict[str, list[str]], match: dict, where: str, what: str = "") -> None:
    """Every axis of ``match`` (axis -> label or labels) exists and has those labels;
    ``what`` prefixes the message (e.g. ``"--only potential=...: "``)."""
    for axis, want in match.items():
        if axis not in labels:
            raise ProblemError(
                f"{what}no axis named {axis!r}; its axes are {', '.join(labels) or 'none'}",
                where,
            )
        unknown = [x for x in _as_list(want) if x not in labels[axis]]
        if unknown:
            raise ProblemError(
                f"{what}no value labelled {', '.join(map(repr, unknown))} in axis {axis!r}; "
                f"its labels are {', '.join(labels[axis])}",
                f"{where}.{axis}" if not what else where,
            )


def _as_list(x) -> list:
    return list(x) if isinstance(x, list) else [x]


def _warn_unused_whens(whens: list, used: set[int], path: Path) -> None:
    """A UserWarning for each ``[[when]]`` that matches no task (its combination does not
    occur, or is excluded by an earlier block): it has no effect, which is allowed (a
    sweep's axes may be cut down) but worth a line."""
    for i, w in enumerate(whens):
        if i not in used:
            what = "excludes" if w.get("exclude") else "sets values for"
            warnings.warn(
                f"{path}: when[{i}] {what} no task: no task has the labels of its match "
                f"{w.get('match', {})} (or an exclude removed them); it has no effect",
                UserWarning,
                stacklevel=4,  # the caller of expand
            )


def _matches(when: dict, labels: dict) -> bool:
    return all(labels[a] in _as_list(want) for a, want in when.get("match", {}).items())


def _base_document(path: Path, named_at: str) -> tuple[dict, tuple]:
    """A base (or listed) problem's document; ``named_at``: the sweep field naming it."""
    try:
        text = read_text(path, "problem file")
    except ProblemError as e:  # missing, a folder: say which field of the sweep named it
        raise ProblemError(f"{e.message} (the base problem named here)", named_at) from None
    doc = parse_toml(text, str(path))
    if "sweep" in doc and "problem" not in doc:
        raise ProblemError(
            f"{path} is a sweep file, not a problem file: a sweep's base is a problem file",
            named_at,
        )
    check_document(doc, str(path))  # before the merges copy and walk it
    d = path.resolve().parent
    return doc, (d, d.parent, Path.cwd())


def _problem_table(doc: dict, path: Path) -> dict:
    """The document's ``[problem]`` table (made if missing), where the task's name goes."""
    table = doc.setdefault("problem", {})
    if not isinstance(table, dict):
        raise ProblemError(f"expected a table, got {table!r}", f"{path}: [problem]")
    return table


def _check_size(path: Path, doc: dict, max_tasks: int) -> None:
    """Refuse, before expanding anything, a sweep with more than ``max_tasks`` tasks."""
    if isinstance(max_tasks, bool) or not isinstance(max_tasks, int) or max_tasks < 1:
        raise ProblemError(f"expected a whole number >= 1, got {max_tasks!r}", "max_tasks")
    s = doc["sweep"]
    if "problems" in s:
        n, where, what = len(s["problems"]), f"{path}: [sweep].problems", "problems are listed"
    else:
        sizes = [(a["name"], len(a["values"])) for a in doc.get("axes", [])]
        n = math.prod(k for _, k in sizes)
        where = f"{path}: [[axes]]"
        what = "the axes multiply into that many tasks (" + (
            " x ".join(f"{a}: {k:,}" for a, k in sizes) + f" = {n:,})"
        )
    if n > max_tasks:
        raise ProblemError(
            f"{n:,} tasks, more than the limit of {max_tasks:,} tasks per sweep: {what}; "
            f"split the sweep, or raise the limit with --max-tasks N (Python: "
            f"max_tasks=N) if this many calibrations is what you want",
            where,
        )


def _combinations(axes: list[dict], path: Path) -> list[tuple[str, dict, dict]]:
    """(task name, axis -> value, axis -> label) for every combination of the axes."""
    combos = [("", {}, {})]
    for i, axis in enumerate(axes):
        labels = [v["label"] for v in axis["values"]]
        if len(set(labels)) != len(labels):
            raise ProblemError(
                f"labels repeat in axis {axis['name']!r}: {labels}", f"{path}: axes[{i}]"
            )
        combos = [
            (
                f"{name}-{v['label']}" if name else v["label"],
                {**values, axis["name"]: v},
                {**labs, axis["name"]: v["label"]},
            )
            for name, values, labs in combos
            for v in axis["values"]
        ]
    return combos


def _task_base(path: Path, s: dict, values: dict, tname: str) -> Path:
    """The base problem file of a task: a value's own ``base``, else ``[sweep].base``."""
    own = [(a, v["base"]) for a, v in values.items() if "base" in v]
    if len(own) > 1:
        raise ProblemError(
            f"task {tname!r}: values of axes {', '.join(a for a, _ in own)} both name a base "
            "problem; give it in one axis only",
            f"{path}: [[axes]]",
        )
    rel = own[0][1] if own else s.get("base")
    if rel is None:
        raise ProblemError(
            f"task {tname!r} has no base problem: give [sweep].base or a base on one of its "
            "values",
            f"{path}: [sweep]",
        )
    return (path.parent / rel).resolve()


def expand(
    path: str | Path, out_root: str | Path = "runs", *, max_tasks: int = DEFAULT_MAX_TASKS
) -> tuple[str, list[Task]]:
    """The sweep's name and its tasks (nothing is built or sampled).

    Warns
    -----
    UserWarning
        For a ``[[when]]`` block that matches no task.
    WhenConflictWarning
        For two ``[[when]]`` blocks that set one key of a task to different values, the
        later not matching only some of the earlier's tasks (one warning per pair of
        blocks and key).

    Raises
    ------
    bayesff.errors.ProblemError
        For an invalid sweep file, or one with more than ``max_tasks`` tasks (the
        product of the axes' sizes, exclusions not counted, or the number of listed
        problems), checked before any task is built.
    """
    path = Path(path)
    doc = read_sweep(path)
    _check_size(path, doc, max_tasks)
    s = doc["sweep"]
    name = s["name"]
    root = Path(out_root) / name
    inference = doc.get("inference", {})
    tasks = []
    if "problems" in s:
        for i, rel in enumerate(s["problems"]):
            p = (path.parent / rel).resolve()
            pdoc, dirs = _base_document(p, f"{path}: [sweep].problems[{i}]")
            sources: dict = {}
            pdoc = _with_inference(pdoc, inference, path, sources)
            tname = _problem_table(pdoc, p).get("name", p.stem)
            tasks.append(Task(tname, pdoc, dirs, root / tname / "posterior.nc", sources=sources))
    else:
        tasks = _axes_tasks(doc, path, root)
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ProblemError(f"task names repeat: {names}", str(path))
    for t in tasks:
        check_name(t.name, NAME_PATTERN, f"{path}: task", "task name")
    return name, tasks


def _with_inference(d: dict, inference: dict, path: Path, sources: dict) -> dict:
    """The sweep's ``[inference]`` merged into a task's document (over its base's)."""
    if not inference:  # nothing of the sweep's to name in an error
        return _merge(d, {"inference": inference}, str(path))
    source = f"the [inference] table of {path.name}"
    return _traced_merge(d, {"inference": inference}, str(path), source, sources)[0]


def _axes_tasks(doc: dict, path: Path, root: Path) -> list[Task]:
    """The tasks of a sweep of axes (:func:`expand`): every combination not excluded,
    its document merged from its base, the axes' sets and its ``[[when]]`` blocks'."""
    s, name = doc["sweep"], doc["sweep"]["name"]
    bases: dict[Path, tuple[dict, tuple]] = {}
    whens = doc.get("when", [])
    refs = _when_refs(path, whens) if whens else []
    block_names = _when_names(path, whens, refs)
    used: set[int] = set()  # the [[when]] blocks that match a task
    matched: dict[int, list[str]] = {}  # [[when]] block -> the tasks it sets values of
    clashes: dict[tuple, list] = {}  # (earlier block, block, key) -> [old, new, tasks]
    tasks = []
    for tname, values, labels in _combinations(doc.get("axes", []), path):
        hits = {i for i, w in enumerate(whens) if _matches(w, labels)}
        excluded = {i for i in hits if whens[i].get("exclude")}
        used |= excluded or hits
        if excluded:
            continue
        tname = tname or name
        for i in hits:
            matched.setdefault(i, []).append(tname)
        bpath = _task_base(path, s, values, tname)
        if bpath not in bases:
            own = [f"axis {a!r} value {v['label']!r}" for a, v in values.items() if "base" in v]
            at = f"{path}: {own[0] if own else '[sweep]'}.base"
            bases[bpath] = _base_document(bpath, at)
        d, dirs = bases[bpath]
        # the sweep's [inference] is every task's default; an axis value or a [[when]]
        # that sets inference keys overrides it for its tasks (longer chains where a run
        # needs them)
        sources: dict = {}
        d = _with_inference(d, doc.get("inference", {}), path, sources)
        for axis, v in values.items():
            at = f"{path}: axis {axis!r}"
            change = _no_name_set(v.get("set", {}), f"{at} value {v['label']!r}.set")
            source = f"axis {axis!r} value {v['label']!r} of {path.name}"
            d = _traced_merge(d, change, at, source, sources)[0]
        set_by: dict = {}  # key path -> ([[when]] block, value): the blocks' keys so far
        for i in sorted(i for i in hits if "set" in whens[i]):
            at = f"{path}: when[{i}]"
            change = _no_name_set(whens[i]["set"], f"{at}.set")
            d, paths = _traced_merge(d, change, at, block_names[i], sources)
            for j, key, old, new in _when_clashes(set_by, paths, i):
                clashes.setdefault((j, i, key), [old, new, []])[2].append(tname)
        _problem_table(d, bpath)["name"] = f"{name}-{tname}"[:64]
        tasks.append(
            Task(tname, d, dirs, root / tname / "posterior.nc", labels=labels, sources=sources)
        )
    if not tasks:
        raise ProblemError("every combination of the axes is excluded", str(path))
    _warn_unused_whens(whens, used, path)
    _warn_clashes(clashes, matched, path, refs)
    return tasks


def _warn_clashes(clashes: dict, matched: dict, path: Path, refs: list) -> None:
    """A :class:`WhenConflictWarning` for each pair of ``[[when]]`` blocks and key that
    they set to different values in some task (``clashes``: (earlier, later, key) ->
    [earlier's value, later's, tasks]), unless the later block is narrower (the tasks it
    matches, ``matched``, a strict subset of the earlier's, whatever its match names:
    review, 2026-11-30): the usual way to make an exception to a rule. ``refs``: each
    block's ``when[i], line N`` (:func:`_when_refs`)."""
    for (j, i, key), (old, new, tasks) in clashes.items():
        if set(matched[i]) < set(matched[j]):
            continue
        n = len(tasks)
        shown = ", ".join(tasks[:3]) + (f" and {n - 3} more" if n > 3 else "")
        warnings.warn(
            f"{path}: [[when]] blocks {j + 1} ({refs[j]}) and {i + 1} ({refs[i]}) both set "
            f"{'.'.join(map(str, key))} for {n} task{'s' * (n > 1)} ({shown}), to different "
            f"values: block {j + 1} sets {_fmt_value(old)}, block {i + 1} sets "
            f"{_fmt_value(new)}; block {i + 1}'s value is used (blocks are merged in file "
            f"order); if block {i + 1} is meant to override block {j + 1}, give it a narrower "
            "match (a later block that matches only some of an earlier block's tasks "
            "overrides it without a warning), else remove one of the two settings",
            WhenConflictWarning,
            stacklevel=4,
        )


def _fmt_value(value) -> str:
    """A setting's value in a line: JSON (``false``, ``{"T_K": [90.0, 140.0]}``), cut at
    120 characters; a removed key says so."""
    if isinstance(value, _Removed):
        gone = "value" if value.by == "prior" else "prior"
        return f"none (its {value.by} for the parameter removes the {gone})"
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _no_name_set(setting: dict, where: str) -> dict:
    """``setting``, refused if it sets the problem's name: a task's problem is named
    ``<sweep>-<task>`` whatever the set says (the run's folder is the task's name)."""
    problem = setting.get("problem")
    if isinstance(problem, dict) and "name" in problem:
        raise ProblemError(
            f"sets problem.name = {problem['name']!r}, which would be ignored: each task's "
            "problem is named after the sweep and the task's labels (runs/SWEEP/TASK/)",
            where,
        )
    return setting


# ------------------------------------------------------------------------------ tasks


def _problem(task: Task):
    """The task's problem; its errors name the task and its axis labels (the values whose
    ``set`` made it), e.g. ``task q (a = q): [inference]: unknown key(s) seeed``, and the
    axis value or ``[[when]]`` block that set the key they name, if one did
    (:func:`_name_source`): ``... (seeed set by axis 'a' value 'q' of sweep.toml)``."""
    text = tomli_w.dumps(task.document)
    labels = ", ".join(f"{a} = {v}" for a, v in task.labels.items())
    where = f"task {task.name}" + (f" ({labels})" if labels else "")
    try:
        return Problem.from_dict(
            task.document, path=where, source_text=text, base_dirs=task.base_dirs
        )
    except BayesffError as e:  # name the value or [[when]] block that set the key
        _name_source(e, task, where)
        raise


def _done(task: Task) -> bool:
    """Whether the task's run file exists with the same problem and settings."""
    if not task.out.is_file():
        return False

    try:
        a = runfile.read_attrs(task.out)  # the root attributes only: fast
    except Exception:  # a damaged or foreign file: run the task again (atomically replaced)
        return False
    return _same_stamp(a.get("problem_fingerprint"), a.get("sweep_settings", ""), task)


def _why_stale(task: Task) -> str:
    """Why a task's existing run file is not the task's (it is not :func:`_done`)."""
    try:
        a = runfile.read_attrs(task.out)
    except Exception as e:  # damaged, another program's file, a newer format: say which
        return f"not readable as a run file ({e})"
    fingerprint = a.get("problem_fingerprint")
    if fingerprint not in (task.fingerprint, task.legacy_fingerprint) or not fingerprint:
        return "made from another problem (its data, priors or model changed)"
    old, new = _settings_fields(str(a.get("sweep_settings", ""))), _settings_fields(task.settings)
    if old is None or new is None:
        return "made with other settings"
    changed = [
        f"{k} {old.get(k, '(absent)')} -> {new.get(k, '(absent)')}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]
    return "made with other settings: " + ", ".join(changed)


def _refuse_replacing(todo: list[Task], force: bool, log) -> None:
    """Run files that a sweep would replace (made from another problem or settings): an
    error without ``force``, before any sampling; with it, each is named in the log."""
    stale = [t for t in todo if t.out.exists()]
    if not stale:
        return
    foreign = [t for t in stale if not t.out.is_file() or not runfile.replaceable(t.out)]
    if foreign:  # never replaced, --force or not: as calibrate --force
        raise RunExistsError(
            f"{len(foreign)} task(s) have at their run file's place a file that is not a "
            f"bayesff run file ({'; '.join(f'{t.name}: {t.out}' for t in foreign[:5])}), and "
            "a sweep replaces only run files, even with --force; move it away",
            str(foreign[0].out),
        )
    lines = [f"{t.name}: {t.out}: {_why_stale(t)}" for t in stale]
    if not force:  # one line, as every error (docs/reliability.md)
        shown = lines[:20] + ([f"... and {len(lines) - 20} more"] if len(lines) > 20 else [])
        raise RunExistsError(
            f"{len(stale)} task(s) to run have a run file made from another problem or other "
            f"settings, which the sweep would replace ({'; '.join(shown)}); pass --force "
            "(force=True) to replace them, or move them away first",
            str(stale[0].out.parent.parent),
        )
    log(f"replacing {len(stale)} run file(s) made from another problem or settings (--force):")
    for line in lines:
        log(f"  {line}")


def _same_stamp(fingerprint, settings, task: Task) -> bool:
    """Whether a run's problem fingerprint and settings stamp are the task's."""
    same = fingerprint in (task.fingerprint, task.legacy_fingerprint)
    return bool(fingerprint) and same and same_settings(str(settings), task.settings)


_SETTING = re.compile(r"(\w+)=('[^']*'|[^,()]+)")


def _settings_fields(stamp: str) -> dict[str, str] | None:
    """``InferenceSettings(a=1, b='x')`` -> {"a": "1", "b": "'x'"} (text only; None for
    any other text)."""
    stamp = stamp.strip()
    if not (stamp.startswith("InferenceSettings(") and stamp.endswith(")")):
        return None
    return dict(_SETTING.findall(stamp[len("InferenceSettings(") : -1]))


def same_settings(stored: str, current: str) -> bool:
    """Whether a run file's settings stamp (``repr`` of its :class:`InferenceSettings`)
    names the settings ``current`` names.

    A setting added to the package since the run was written (``adapt_mass``, new on
    2026-11-25) is absent from its stamp; it matches when ``current`` gives it its
    default, which is the behaviour the package had before the setting existed (new
    settings are added that way). Any other difference, a setting that the package no
    longer has, or a stamp that is not one, does not match.
    """
    if stored == current:
        return True
    old, new = _settings_fields(stored), _settings_fields(current)
    if not old or not new or set(old) - set(new):
        return False
    defaults = {f.name: repr(f.default) for f in dataclasses.fields(InferenceSettings)}
    return all(old[k] == v if k in old else defaults.get(k) == v for k, v in new.items())


def run_batch(tasks: list[dict], report: bool) -> list[dict]:
    """Calibrate a batch of same-structure tasks (runs on a Dask worker).

    ``tasks`` are plain dicts (name, document, base_dirs, out, settings,
    fingerprint, journal, allow_plugins), so that nothing but data crosses to
    the worker; the worker allows exactly the plug-in modules the parent
    allowed (its own configuration file aside). Returns one row per task. An
    input error (a :class:`~bayesff.errors.BayesffError`) becomes a failed row,
    so that Dask does not retry it; a crash of the worker is retried by Dask,
    and a task of the retried batch whose run file the crashed worker had
    already written (same fingerprint and settings) is not computed again (its
    row says ``skipped``). Each attempt is logged in the sweep's journal.
    """

    ensure_configured()
    objs = [
        Task(
            t["name"],
            t["document"],
            tuple(Path(d) for d in t["base_dirs"]),
            Path(t["out"]),
            fingerprint=t.get("fingerprint", ""),
            legacy_fingerprint=t.get("legacy_fingerprint", ""),
            settings=t["settings"],
        )
        for t in tasks
    ]
    journal = tasks[0].get("journal") if tasks else None
    rows: dict[str, dict] = {}
    todo = []
    for t, spec in zip(objs, tasks, strict=True):
        if t.fingerprint and _done(t):
            row = _existing_row(t, Path(spec["report_root"]))
            rows[t.name] = {**row, "status": "skipped", "message": "written by an earlier attempt"}
            _journal(journal, "skipped", t.name)
        else:
            todo.append((t, spec))
    for t, _ in todo:
        _journal(journal, "start", t.name)
    t0 = time.perf_counter()
    allowed = tasks[0].get("allow_plugins", ()) if tasks else ()
    try:
        with plugins.allow_plugins(*allowed, config=False):
            problems = [_problem(t) for t, _ in todo]
        runs = calibrate_many(
            problems,
            outs=[None] * len(todo),
            force=True,
            progress=False,
            log=None,
            pad_rows=todo[0][1].get("pad_rows") if todo else None,
        )
    except BayesffError as e:
        for t, _ in todo:
            rows[t.name] = {"task": t.name, "status": "failed", "message": str(e)}
            _journal(journal, "failed", t.name)
        runs = []
    for (t, spec), run in zip(todo, runs, strict=False):
        rows[t.name] = _finish_task(t, run, spec, report, time.perf_counter() - t0)
    return [rows[t.name] for t in objs]


def _journal(path: str | Path | None, event: str, task: str = "", **extra) -> None:
    """Append one event to a sweep's journal (``runs/SWEEP/journal.jsonl``).

    One ``os.write`` of one line to a file opened with ``O_APPEND``: lines
    appended by several processes stay whole on a local file system (on a network
    file system they may interleave; the journal is a record, not a lock). A
    failure to write it is ignored: it must never cost a calibration (a full disk
    fails the run file's own write, with its error).
    """
    if not path:
        return
    record = {
        "utc": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": event,
        "task": task,
        "host": platform.node(),
        "pid": os.getpid(),
        **extra,
    }
    try:
        # O_NOFOLLOW: a link planted at the journal's place is not followed out of runs/
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, (json.dumps(record) + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def _finish_task(t: Task, run, spec: dict, report: bool, wall: float) -> dict:
    """Write a task's run file (with the sweep's settings stamp) and its report."""

    run.datatree.attrs["sweep_settings"] = spec["settings"]
    runfile.write(run.datatree, t.out, force=True)
    _journal(spec.get("journal"), "written", t.name)
    page = None
    if report:
        page = str(write_report(t.out, Path(spec["report_root"]) / t.name, log=None))
    return _row(t.name, run.datatree, run.diagnostics, page, wall)


def _row(name: str, dt, d, page, wall: float) -> dict:
    """A summary row: posterior means and 5/50/95 % quantiles, diagnostics, verdicts."""

    post = runfile.latents(dt, "posterior")
    row = {"task": name, "status": "done", "message": "", "wall_time_s": round(wall, 2)}
    row["potential"] = str(dt.attrs.get("potential_name", ""))
    # the sampled parameters, then those of the usual form they determine (epsilon of a
    # mie_vdw run), so that forms sampled differently share columns
    derived = runfile.derived_parameters(dt)
    for da in [post[n] for n in runfile.parameter_names(dt)] + list(derived.data_vars.values()):
        x = da.values.ravel()
        unit = str(da.attrs.get("units", "")).replace("/", "_per_").replace(" ", "")
        key = f"{da.name}_{unit}" if unit not in ("", "1") else da.name
        row[f"{key}_mean"] = float(x.mean())
        for q in (5, 50, 95):
            row[f"{key}_q{q:02d}"] = float(_quantile(x, q / 100))
    row["rhat_max"] = d.rhat_max  # NaN where a chain never moved
    row["ess_bulk_min"] = d.ess_bulk_min
    row["divergences"] = d.divergences
    row["diagnostics_ok"] = bool(d.ok)
    row.update(_verdicts(dt))
    row["report"] = page or ""
    return row


def _quantile(x, q):

    return np.quantile(x, q)


def _verdicts(dt) -> dict:

    out = {}
    for g in evaluate(dt).groups:
        key = f"{g['target']}/{g['group']}"
        out[f"verdict[{key}]"] = g["verdict"]
        out[f"p_all_within[{key}]"] = g["p_all_within_tolerance"]
        # a verdict Monte Carlo error alone could change says so (as atlas.csv does)
        out[f"verdict_mc[{key}]"] = mc_label(g.get("mc_verdict"))
    return out


# ------------------------------------------------------------------------------ running


def _cluster(scheduler: str | None, workers: int | None, cluster: str | None):

    if scheduler:
        try:
            return Client(scheduler), None
        except OSError as e:  # no scheduler there (distributed waits its connect timeout)
            raise BayesffError(
                f"cannot reach the Dask scheduler: {e}; start it (dask scheduler) or leave "
                "--scheduler out to run on this machine",
                f"--scheduler {scheduler}",
            ) from None
    if cluster == "slurm":
        c = slurm_cluster()
        c.scale(workers or 1)
        return Client(c), c
    n = workers or max(1, min(os.cpu_count() or 1, 8))
    # one single-threaded process per worker: XLA's own threads fill a core each,
    # so more threads per worker would only compete
    c = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        # None still binds the default port 8787, and a second sweep on the machine
        # (another user's, a test's) then fails to start: any free port
        dashboard_address=":0",
        # and one JAX device per worker (bayesff.configure would split the CPU in each);
        # the workers inherit GPU memory on demand from run_sweep (_gpu_memory_on_demand)
        env={
            "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
            "BAYESFF_HOST_DEVICES": "1",
        },
    )
    return Client(c), c


def _gpu_memory_on_demand() -> None:
    """Let this process and the LocalCluster workers it starts take GPU memory as they
    need it, unless ``XLA_PYTHON_CLIENT_PREALLOCATE`` is set. JAX's default gives 75 % of
    the card to the first process that uses it: the sweep's own process (building the
    problems puts their data on the device) then held it idle, and each worker retried
    ever smaller allocations, logging a CUDA out-of-memory error each time (seen on
    an H200, benchmarks/RESULTS.md Part N). No effect on a CPU, nor in a process whose
    GPU is already in use; the setting stays in this process's environment."""

    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def _worker_backend() -> str:
    """The JAX backend (``"cpu"``, ``"gpu"``, ...) of the process it runs in: submitted to
    a sweep's worker, where its batches will run. It configures the worker first, as
    :func:`run_batch` does: asking JAX for its backend starts it, after which the CPU's
    device count can no longer be set."""

    ensure_configured()
    return jax.default_backend()


def slurm_cluster():
    """A dask-jobqueue ``SLURMCluster`` configured from ``~/.config/dask/jobqueue.yaml``.

    Its workers are single-threaded (XLA fills the core) and run with the same
    XLA flags as a LocalCluster's. Needs the ``hpc`` extra (dask-jobqueue).
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise BayesffError(
            "--cluster slurm needs dask-jobqueue: pip install 'bayesff[hpc]'", "--cluster"
        ) from None
    return SLURMCluster(
        processes=1,
        job_script_prologue=[
            'export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"'
        ],
    )


def _batches(
    tasks: list[Task], n_workers: int, built: dict | None = None, backend: str | None = None
) -> list[list[Task]]:
    """Same-structure tasks in batches, about one per worker per structure; one task per
    batch where batching does not pay (NUTS on a CPU: :func:`default_batch_size`), the
    worker process then reusing its compiled sampler from task to task. ``built`` (task
    name -> problem, from :func:`_prepare`) spares building each problem a second time;
    ``backend`` is the workers' JAX backend (:func:`_worker_backend`; default this
    process's)."""

    built = built or {}
    problems = [built[t.name] if t.name in built else _problem(t) for t in tasks]
    out = []
    # whole groups (a batch size of every problem), split into batches below
    for idx in _groups(problems, {}, len(problems)):
        sampler = _kernel_settings(problems[idx[0]].inference).sampler
        size = max(1, math.ceil(len(idx) / n_workers))
        size = min(size, default_batch_size(sampler, size, backend))
        # every batch of the group is padded to the group's largest row counts: a worker
        # then compiles one sampler per structure, not one per row count (a bootstrap's
        # resamples differ in their distinct rows; benchmarks/RESULTS.md)
        pad = row_counts([problems[i] for i in idx])
        for i in idx:
            tasks[i].pad_rows = pad
        out += [[tasks[i] for i in idx[j : j + size]] for j in range(0, len(idx), size)]
    return out


def _prepare(tasks: list[Task], log, built: dict | None = None) -> list[Task]:
    """Check every task's problem now; mark invalid ones, fingerprint the others (and keep
    each valid problem in ``built``, task name -> problem, when given)."""
    ok = []
    for t in tasks:
        try:
            p = _problem(t)
        except BayesffError as e:
            t.error = str(e)
            log(f"  task {t.name}: invalid problem: {e}")
            continue
        t.fingerprint = p.fingerprint()
        t.legacy_fingerprint = p.legacy_fingerprint()
        t.settings = repr(p.inference)
        if built is not None:
            built[t.name] = p
        ok.append(t)
    return ok


def check_sweep(
    path: str | Path,
    *,
    max_tasks: int = DEFAULT_MAX_TASKS,
    only: dict[str, list[str]] | None = None,
) -> tuple[str, dict[str, Problem], dict[str, str]]:
    """Build every task's problem (and read its data) without sampling anything.

    What ``bayesff sweep --check`` prints: the check ``run_sweep`` does before its first
    calibration, with each invalid task's message rather than only a count.

    Parameters
    ----------
    path
        Sweep file.
    max_tasks
        Refuse a sweep of more tasks, before any is built.
    only
        Axis name -> labels: check only these tasks (as ``run_sweep``'s ``only``).

    Returns
    -------
    name, problems, errors
        The sweep's name; task name -> problem for the valid tasks; task name -> the
        one-line error of each invalid one.

    Raises
    ------
    bayesff.errors.ProblemError
        For an invalid sweep file, or an ``only`` naming an axis or label it lacks or
        selecting no task (an exclude removed every task with its labels).
    """
    name, tasks = expand(path, max_tasks=max_tasks)
    selected = _selection(read_sweep(path), only, Path(path), tasks)
    tasks = [t for t in tasks if selected(t.labels)]
    built: dict[str, Problem] = {}
    _prepare(tasks, lambda *a, **k: None, built)
    return name, built, {t.name: t.error for t in tasks if t.error}


def run_sweep(
    path: str | Path,
    *,
    out_root: str | Path = "runs",
    report_root: str | Path = "reports",
    scheduler: str | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    report: bool | None = None,
    log=print,
    progress: bool | None = None,
    max_tasks: int = DEFAULT_MAX_TASKS,
    only: dict[str, list[str]] | None = None,
    force: bool = False,
) -> SweepResult:
    """Run a sweep file (see the module docstring) and write its summary and index.

    ``only`` (axis name -> labels, e.g. ``{"potential": ["lj"]}``) runs only the tasks
    whose label on every named axis is one of those given; the others are not run (a
    run file written before still counts), and the summary and the atlas list them as
    ``not run``.

    A task whose run file is there but was made from another problem or with other
    settings (a changed data file, prior or ``[inference]``) is run again only with
    ``force``: without it the sweep stops before any sampling and names each such file
    and what changed, so that no run file is replaced unasked.

    On a GPU, this process and the LocalCluster workers take the card's memory as they
    need it (``XLA_PYTHON_CLIENT_PREALLOCATE=false`` unless that is set), so that the
    workers can share it; same-structure tasks are batched when the workers' backend is
    an accelerator.

    Raises
    ------
    bayesff.errors.ProblemError
        For an invalid sweep file or one with more than ``max_tasks`` tasks, or an
        ``only`` that names an axis or label the sweep does not have or selects no task,
        before any work (an invalid task's problem is not an error: it is reported in the
        summary; a selection whose tasks are all done is not empty).
    bayesff.errors.RunExistsError
        Without ``force``, when a task to run has a run file made from another problem
        or settings, before any sampling.
    SweepInterrupted
        When the connection to the Dask scheduler was lost, after the summary is written.
    """

    t0 = time.perf_counter()
    log = log or (lambda *a, **k: None)
    name, tasks = expand(path, out_root, max_tasks=max_tasks)
    doc = read_sweep(path)
    selected = _selection(doc, only, Path(path), tasks)
    report = doc["sweep"].get("report", True) if report is None else report
    retries = int(doc["sweep"].get("retries", 2))
    runs = Path(out_root) / name
    _confine_outputs(tasks, runs, Path(out_root), Path(report_root) / name, Path(report_root))
    check_sweep_outputs(
        Path(report_root) / name,
        runs / "summary.csv",
        "atlas" in doc["sweep"],
        _fluid_labels(doc, tasks),
        runs=runs,
    )
    res = SweepResult(name, tasks, runs=runs)
    _gpu_memory_on_demand()  # before the problems below put their data on a device
    built: dict = {}  # task name -> problem: built once, read again by _batches
    todo = _to_run(res, _prepare(tasks, log, built), selected, only, log)
    _refuse_replacing(todo, force, log)
    journal = Path(out_root).absolute() / name / "journal.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    _journal(journal, "sweep", tasks=len(tasks), to_run=len(todo), scheduler=scheduler or "")
    rows: dict[str, dict] = {}
    lost = _run_on_dask(
        todo,
        res,
        rows,
        (scheduler, workers, cluster),
        retries,
        report,
        report_root,
        progress,
        log,
        journal,
        built,
    )
    res.wall_time_s = time.perf_counter() - t0
    if report:
        _missing_reports(res, rows, Path(report_root) / name, log)
    _write_pages(res, rows, doc, Path(path), Path(out_root), Path(report_root), log)
    if "atlas" in doc["sweep"]:  # the atlas page reads every run file: its time counts
        res.wall_time_s = time.perf_counter() - t0
    _end(res, journal, lost, scheduler, log)
    return res


def _confine_outputs(tasks, runs: Path, out_root: Path, reports: Path, report_root: Path) -> None:
    """Before any work: the sweep's run and report folders, and each task's run file and
    report folder, lie inside ``out_root`` and ``report_root`` with symbolic links
    followed (a ``runs/SWEEP`` linked elsewhere had the sweep write there, where
    ``calibrate`` and ``report`` refuse the same: audit, 2026-11-30)."""
    confined(runs, out_root, "sweep run folder")
    confined(reports, report_root, "sweep report folder")
    for t in tasks:
        confined(t.out, runs, f"task {t.name}'s run file")
        confined(reports / t.name, reports, f"task {t.name}'s report folder")


def _missing_reports(res: SweepResult, rows: dict, reports: Path, log) -> None:
    """The report of each finished or skipped task whose report is not there.

    A worker killed between writing a run file and its report left the task with no
    report for good: the retry, and every later sweep, skipped the task as done (audit,
    2026-11-30). A report that cannot be made is logged; the sweep goes on."""
    for t in res.tasks:
        page = reports / t.name / "index.html"
        if res.status.get(t.name) not in ("done", "skipped") or page.is_file():
            continue
        if not t.out.is_file():
            continue
        try:
            write_report(t.out, reports / t.name, log=None)
            log(f"{t.name}: its report was missing and was written ({page})")
            if t.name in rows:  # a row of this sweep's workers: link the report now
                rows[t.name]["report"] = str(page)
        except BayesffError as e:
            log(f"{t.name}: its report is missing and could not be written: {e}")


def _to_run(res: SweepResult, runnable: list[Task], selected, only, log) -> list[Task]:
    """The tasks to compute; every other task gets its status (failed, skipped, not run)."""
    tasks = res.tasks
    for t in tasks:
        if t.error:
            res.status[t.name], res.messages[t.name] = "failed", t.error
    todo = [t for t in runnable if not _done(t)]
    for t in runnable:
        if t not in todo:
            res.status[t.name] = "skipped"
        elif not selected(t.labels):
            res.status[t.name], res.messages[t.name] = (
                NOT_RUN,
                f"{_UNSELECTED} ({_fmt_only(only)})",
            )
    todo = [t for t in todo if selected(t.labels)]
    unselected = sum(res.status.get(t.name) == NOT_RUN for t in runnable)
    log(
        f"sweep {res.name}: {len(tasks)} tasks, {len(todo)} to run, "
        f"{len(runnable) - len(todo) - unselected} done before, {len(tasks) - len(runnable)} "
        "invalid" + (f", {unselected} not selected ({_fmt_only(only)})" if unselected else "")
    )
    return todo


def _write_pages(
    res: SweepResult, rows: dict, doc: dict, path: Path, out_root: Path, report_root: Path, log
) -> None:
    """summary.csv, and the sweep's index page or, with ``[sweep.atlas]``, its atlas."""
    res.summary = write_summary(
        res, rows, out_root / res.name / "summary.csv", report_root / res.name
    )
    atlas = doc["sweep"].get("atlas")
    if atlas is None:
        res.index = _index(res, rows, report_root / res.name)
        return
    res.index = write_atlas(
        res,
        report_root / res.name,
        (path.parent / atlas["fluids"]).resolve(),
        fluid_axis=atlas.get("fluid_axis", "fluid"),
        potential_axis=atlas.get("potential_axis", "potential"),
        description=doc["sweep"].get("description", ""),
        log=log,
    )


def _end(res: SweepResult, journal: Path, lost, scheduler: str | None, log) -> None:
    """The journal's end event and the closing line; a lost scheduler is raised here."""
    counts = {k: sum(s == k for s in res.status.values()) for k in ("done", "skipped", "failed")}
    unselected = sum(
        s == NOT_RUN and res.messages.get(t, "").startswith(_UNSELECTED)
        for t, s in res.status.items()
    )
    # tasks that were to run and did not (a lost scheduler), apart from those --only left out
    not_run = sum(s == NOT_RUN for s in res.status.values()) - unselected
    _journal(journal, "end", **counts, not_run=not_run, not_selected=unselected)
    log(
        f"sweep {res.name}: {counts['done']} done, {counts['skipped']} skipped, "
        f"{counts['failed']} failed"
        + (f", {not_run} not run" if not_run else "")
        + (f", {unselected} not selected" if unselected else "")
        + f" in {res.wall_time_s:.1f} s; summary {res.summary}"
    )
    if lost is not None:
        raise SweepInterrupted(
            f"lost the connection to the Dask scheduler ({lost}); {not_run} of the "
            f"{len(res.tasks) - unselected} selected tasks were not run, the run files written "
            f"before are complete and kept, and {res.summary} lists every task: start the "
            "scheduler and its workers again and run the same sweep, which computes only the "
            f"{not_run} tasks not run",
            f"--scheduler {scheduler}" if scheduler else f"sweep {res.name}",
            res,
        )


def _fmt_only(only: dict[str, list[str]] | None) -> str:
    return " ".join(f"--only {a}={','.join(v)}" for a, v in (only or {}).items())


def _selection(doc: dict, only: dict[str, list[str]] | None, path: Path, tasks: list[Task]):
    """``labels -> bool``: is a task in the selection ``only`` (checked against the axes,
    and refused when no task of ``tasks`` is in it)."""
    if not only:
        return lambda labels: True
    axes = {a["name"]: [v["label"] for v in a["values"]] for a in doc.get("axes", [])}
    for axis, want in only.items():
        if not want:
            raise ProblemError(f"--only {axis}=...: expected at least one label", str(path))
        _check_labels(axes, {axis: want}, str(path), f"--only {axis}=...: ")

    def selected(labels: dict) -> bool:
        return all(labels.get(a) in w for a, w in only.items())

    if not any(selected(t.labels) for t in tasks):
        _refuse_empty_selection(doc, only, selected, path)
    return selected


def _refuse_empty_selection(doc: dict, only: dict[str, list[str]], selected, path: Path):
    """Raise for an ``only`` that selects no task: each label is one of its axis's, but an
    exclude removed their combination. It ran nothing, exited 0 and wrote an empty summary
    and index (input audit): now it names the ``[[when]]`` blocks that excluded it."""
    whens = doc.get("when", [])
    blocks = sorted(
        {
            i
            for _, _, labels in _combinations(doc.get("axes", []), path)
            if selected(labels)
            for i, w in enumerate(whens)
            if w.get("exclude") and _matches(w, labels)
        }
    )
    why = (
        "every task with these labels is excluded by "
        + "; ".join(
            f"when[{i}] (match = {_fmt_match(whens[i]['match'])}, exclude = true)" for i in blocks
        )
        if blocks
        else "the sweep has no task with these labels"
    )
    raise ProblemError(
        f"{_fmt_only(only)} selects no task: {why}; expected labels that select at least one task",
        str(path),
    )


def _fmt_match(match: dict) -> str:
    """A ``[[when]]`` match as written in the sweep file: ``{ axis = "label", ... }``."""
    return "{ " + ", ".join(f"{a} = {json.dumps(v)}" for a, v in match.items()) + " }"


def _run_on_dask(
    todo, res, rows, where, retries, report, report_root, progress, log, journal, built=None
) -> str | None:
    """Submit the batches of ``todo`` and collect their rows into ``res`` and ``rows``.

    Returns ``None``, or why the scheduler was lost: the futures of a lost scheduler
    are cancelled by Dask, and their tasks are marked ``not run`` (or ``done`` where
    a worker had written the run file before the loss).
    """
    # Long because: the Dask submit / as_completed loop, skipping, failures and progress
    # share one state (futures, done set, summary rows) that must stay consistent.
    if not todo:
        return None
    scheduler, workers, cluster = where
    client, cluster_obj = _cluster(scheduler, workers, cluster)
    lost = None
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        futures = {}
        allowed = plugins.allowed_modules()  # the workers get the parent's list
        # batching pays on the workers' accelerators, whatever this process runs on (a
        # login node without a GPU, say)
        backend = client.submit(_worker_backend, pure=False).result()
        for batch in _batches(todo, n_workers, built, backend):
            specs = [_spec(t, report_root, allowed, journal) for t in batch]
            f = client.submit(run_batch, specs, report, retries=retries, pure=False)
            futures[f] = batch
        if built:
            built.clear()  # not needed any more: free the problems' data during the sweep
        bar = _SweepProgress(
            len(todo), progress if progress is not None else sys.stderr.isatty(), log
        )
        for f in as_completed(futures):
            # forget the future once read: Dask recomputes the results a dead worker held
            # for futures still referenced, which would compute finished tasks again
            batch = futures.pop(f)
            try:
                for row in f.result():
                    rows[row["task"]] = row
                    res.status[row["task"]] = row["status"]
                    res.messages[row["task"]] = row.get("message", "")
            except (CancelledError, CommClosedError) as e:
                # nothing here cancels a future: the scheduler forgot it (it died, or
                # the client lost it); the rest cannot finish either. A scheduler killed
                # while a result is being gathered surfaces as a closed connection
                # instead (measured: 1 task of 200 reported failed with "CommClosedError:
                # ... Connection reset by peer" in a loaded run): the same loss
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                lost = f"status {client.status}: {first}"
                break
            except Exception as e:  # a crash that survived the retries
                for t in batch:
                    res.status[t.name] = "failed"
                    res.messages[t.name] = f"{type(e).__name__}: {e}"
            bar.update(len(batch), sum(1 for s in res.status.values() if s == "failed"))
        bar.close()
    finally:
        client.close()
        if cluster_obj is not None:
            cluster_obj.close()
    if lost is not None:
        for t in todo:
            if t.name in res.status:
                continue
            if _done(t):  # written by a worker before the scheduler was lost
                res.status[t.name] = "skipped"
                res.messages[t.name] = "written before the scheduler was lost"
            else:
                res.status[t.name] = NOT_RUN
                res.messages[t.name] = (
                    "not run: the connection to the Dask scheduler was lost; run the sweep "
                    "again to compute it"
                )
    return lost


def _spec(
    t: Task, report_root, allow_plugins: tuple[str, ...] = (), journal: Path | None = None
) -> dict:
    """What a worker gets of a task: data only, with absolute paths (a worker started
    by ``dask worker`` elsewhere has its own working directory)."""
    return {
        "allow_plugins": tuple(allow_plugins),
        "name": t.name,
        "document": t.document,
        "base_dirs": tuple(str(d) for d in t.base_dirs),
        "out": str(t.out.absolute()),
        "settings": t.settings,
        "pad_rows": t.pad_rows,
        "fingerprint": t.fingerprint,
        "legacy_fingerprint": t.legacy_fingerprint,
        "journal": str(journal) if journal else "",
        "report_root": str(Path(report_root).absolute() / t.out.parent.parent.name),
    }


class _SweepProgress:
    """Tasks done / running / failed and the ETA: a tqdm bar, or log lines."""

    def __init__(self, total: int, bar: bool, log):
        self.total, self.done, self.log = total, 0, log
        self.t0 = time.perf_counter()
        self.bar = None
        if bar:
            self.bar = tqdm(total=total, unit="task", desc="sweep")

    def update(self, n: int, failed: int) -> None:
        self.done += n
        rate = self.done / max(time.perf_counter() - self.t0, 1e-9)
        eta = (self.total - self.done) / max(rate, 1e-9)
        text = f"{self.done}/{self.total} tasks done, {failed} failed, ETA {eta:.0f} s"
        if self.bar is not None:
            self.bar.set_postfix_str(f"failed {failed}")
            self.bar.update(n)
        else:
            self.log(f"  {text}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _existing_row(t: Task, report_folder: Path, previous: dict | None = None) -> dict:
    """A summary row of a task skipped because its run file is there: ``previous`` (its
    row in the sweep's last summary.csv) when that row is of this very run file (same
    :func:`_run_stamp`), else computed from the run file (which reads all of it: about
    0.7 s per task on a 2-core machine, 14 s of a re-run of 20 finished tasks)."""

    page = Path(report_folder) / t.name / "index.html"
    if previous and previous.get(RUN_STAMP) == _run_stamp(t.out):
        return {**previous, "report": str(page) if page.is_file() else ""}
    dt = runfile.read(t.out)
    return _row(
        t.name,
        dt,
        diagnose(dt),
        str(page) if page.is_file() else None,
        float(dt.attrs.get("wall_time_s", 0.0)),
    )


#: Column of summary.csv naming the run file a row was computed from (see _run_stamp).
RUN_STAMP = "run_written"


def _run_stamp(path: Path) -> str:
    """When a run file was written (its ``created_utc``) and its size: what tells a later
    sweep that the row it wrote for the file still describes it."""
    try:
        created = runfile.read_attrs(path).get("created_utc", "")
        return f"{created} ({path.stat().st_size} bytes)"
    except Exception:  # unreadable: no stamp, so no row is reused
        return ""


def _previous_rows(path: Path) -> dict[str, dict]:
    """The rows of the summary.csv a sweep wrote before, by task, with their values typed
    as :func:`_row` gives them (nothing but the file's text is read; {} without one)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, csv.Error, UnicodeDecodeError):
        return {}
    out = {}
    for r in rows:
        if r.get("task") and r.get("status") in ("done", "skipped") and r.get(RUN_STAMP):
            try:
                out[r["task"]] = _typed_row(r)
            except ValueError:  # a hand-edited or damaged row: computed again
                continue
    return out


def _typed_row(r: dict) -> dict:
    """A summary.csv row's text as :func:`_row`'s types (an empty cell: a column of other
    tasks only, left out as ``_row`` leaves it)."""
    out = {}
    for k, v in r.items():
        if k is None or v is None:
            raise ValueError("ragged row")
        if v == "" and k not in ("message", "report", "run"):
            continue
        if k == "diagnostics_ok":
            out[k] = v == "True"
        elif k == "divergences":
            out[k] = int(v)
        elif (
            k in ("wall_time_s", "rhat_max", "ess_bulk_min")
            or k.startswith("p_all_within[")
            or k.endswith("_mean")
            or (k[-4:-2] == "_q" and k[-2:].isdigit())
        ):
            out[k] = float(v)
        else:
            out[k] = v
    return out


def _fluid_labels(doc: dict, tasks: list[Task]) -> list[str]:
    """The labels of an atlas sweep's fluid axis (none without ``[sweep.atlas]``)."""
    atlas = doc["sweep"].get("atlas")
    if atlas is None:
        return []
    axis = atlas.get("fluid_axis", "fluid")
    return [str(t.labels[axis]) for t in tasks if axis in t.labels]


def build_atlas(
    sweep: str | Path,
    *,
    out_root: str | Path = "runs",
    report_root: str | Path = "reports",
    log=print,
    max_tasks: int = DEFAULT_MAX_TASKS,
    previous: str | Path | None = None,
) -> Path:
    """Write ``report_root/NAME/index.html`` (and ``atlas.csv``, ...) from existing runs.

    ``bayesff sweep`` writes the atlas page at its end when the sweep file has a
    ``[sweep.atlas]`` table (:mod:`bayesff.report.atlas`). This writes the same
    page without sampling anything: every task whose run file exists with the
    same problem fingerprint and settings (the rule by which a sweep skips a
    task) is shown; a task without one is shown as ``missing`` (an invalid task
    as ``failed``, with its message). It serves to rebuild the page after a
    change to the report code, or to look at a sweep that is still running or
    was stopped (``bayesff atlas SWEEP``).

    Parameters
    ----------
    sweep
        A sweep file with a ``[sweep.atlas]`` table, e.g. ``models/atlas/atlas.toml``.
    out_root, report_root
        Where the sweep's run files are (``out_root/NAME/TASK/posterior.nc``) and where
        the atlas goes, as for ``bayesff sweep``.
    max_tasks
        The most tasks the sweep may have (:data:`DEFAULT_MAX_TASKS`).
    previous
        The ``atlas.json`` of an earlier page of this sweep. A task without an up-to-date
        run file here takes that page's entry, shown as ``carried``, when the entry was made
        from the same problem fingerprint and sampler settings as the task now (the rule by
        which a sweep skips a task); otherwise it is ``missing``, as without ``previous``.
        So a page can be brought up to date after re-running some of its tasks on a
        machine that does not hold the others' run files. The page says which entries are
        carried over and from where. The file is read before the new page replaces it.

    Returns
    -------
    Path
        The atlas page.

    Raises
    ------
    bayesff.errors.ProblemError
        For a sweep file that is not valid or has no ``[sweep.atlas]`` table.
    """

    log = log or (lambda *a, **k: None)
    sweep = Path(sweep)
    doc = read_sweep(sweep)
    atlas = doc["sweep"].get("atlas")
    if atlas is None:
        raise ProblemError(
            "no [sweep.atlas] table: add one (fluids = 'path/to/fluids.csv') to make an atlas",
            f"{sweep}: [sweep]",
        )
    name, tasks = expand(sweep, out_root, max_tasks=max_tasks)
    before, comparisons = read_previous(previous, name) if previous else ({}, {})
    res = SweepResult(name, tasks, runs=Path(out_root) / name)
    folder = Path(report_root) / name
    check_sweep_outputs(folder, None, atlas=True, fluids=_fluid_labels(doc, tasks), runs=res.runs)
    carried = _atlas_statuses(res, _prepare(tasks, log), folder, before, previous)
    res.summary = folder / "atlas.csv"  # the numbers of tasks.html (no summary.csv here)
    have = sum(s == "skipped" for s in res.status.values())
    log(
        f"atlas {name}: {have} of {len(tasks)} tasks have a run file"
        + (f", {len(carried)} carried over from {previous}" if previous else "")
    )
    return write_atlas(
        res,
        folder,
        (sweep.parent / atlas["fluids"]).resolve(),
        fluid_axis=atlas.get("fluid_axis", "fluid"),
        potential_axis=atlas.get("potential_axis", "potential"),
        description=doc["sweep"].get("description", ""),
        log=log,
        carried=carried,
        previous_comparisons=comparisons,
    )


def _atlas_statuses(
    res: SweepResult, ok: list[Task], folder: Path, before: dict, previous
) -> dict[str, AtlasEntry]:
    """Each task's status for a page made from existing runs (``build_atlas``), in
    ``res.status``, ``res.messages`` and the task list's ``res.rows``: ``failed``
    (invalid), ``skipped`` (an up-to-date run file), ``carried`` (the entry of the earlier
    page ``before``, task -> entry, read from ``previous``) or ``missing``. Returns the
    carried entries, task -> entry."""
    # the file is usually the page's own atlas.json, which this page replaces: say when
    source = f"{previous} as read on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    rows, carried = [], {}
    for t in res.tasks:
        if t.error:
            res.status[t.name], res.messages[t.name] = "failed", t.error
        elif t in ok and _done(t):
            res.status[t.name] = "skipped"
            rows.append({**_existing_row(t, folder), "status": "skipped"})
        elif t in ok and _same_run(before.get(t.name), t):
            carried[t.name] = carried_entry(before[t.name], source)
            res.status[t.name], res.messages[t.name] = "carried", carried[t.name].message
        else:
            res.status[t.name] = "missing"
            res.messages[t.name] = f"not run: no up-to-date run file {t.out}"
            if t.name in before:
                res.messages[t.name] += (
                    f" (the entry of {previous} is of another problem or sampler settings)"
                )
        if res.status[t.name] != "skipped":  # the task list shows every task
            rows.append(
                {"task": t.name, "status": res.status[t.name], "message": res.messages[t.name]}
            )
    res.rows = rows
    return carried


def _same_run(entry: dict | None, task: Task) -> bool:
    """Whether an earlier page's entry has results of the task's problem and settings."""
    if not entry or entry.get("status") not in RESULT_STATUSES:
        return False
    return _same_stamp(entry.get("fingerprint"), entry.get("settings", ""), task)


def write_summary(
    res: SweepResult, rows: dict, path: Path, report_folder: Path | None = None
) -> Path:
    """``summary.csv``: one row per task (status, posterior means and intervals, diagnostics,
    verdicts), written atomically. ``report_folder`` (default ``reports/SWEEP``) is where
    the task reports of skipped tasks are looked for."""

    table = []
    previous = _previous_rows(path)  # rows of finished tasks need not be computed again
    for t in res.tasks:
        st = res.status.get(t.name, "failed")
        if st == "done" and t.name in rows:
            row = dict(rows[t.name])
        elif st == "skipped":
            folder = report_folder or Path("reports") / t.out.parent.parent.name
            row = {**_existing_row(t, folder, previous.get(t.name)), "status": "skipped"}
        else:
            row = {"task": t.name, "status": st, "message": res.messages.get(t.name, "")}
        row["run"] = "" if st in ("failed", NOT_RUN) else str(t.out)
        if st in ("done", "skipped"):
            row[RUN_STAMP] = _run_stamp(t.out)
        table.append(row)
    cols = []
    for row in table:
        cols += [c for c in row if c not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, restval="")
    w.writeheader()
    w.writerows(table)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
    res.rows = table
    return path


def _index(res: SweepResult, rows: dict, folder: Path) -> Path:

    return write_index(res, getattr(res, "rows", []), folder)
