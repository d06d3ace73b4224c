"""Fuzzing the readers of files people share (issue 28, item 5).

Problem files (TOML text and documents), sweep files, molecule definitions and
run-file attributes come from other people: every input must either load or
raise a :class:`~bayesff.errors.BayesffError` with a one-line message. The
properties checked on every example:

* no other exception type (no ``KeyError``, ``TypeError``, ``RecursionError``
  traceback): the example fails the test with its traceback;
* no hang: each example runs under an alarm (:data:`HANG_S`, a real time
  limit that interrupts a loop) and Hypothesis's deadline (:data:`DEADLINE`);
* no file written anywhere under the sandbox (the problem's folder, the
  working directory, and the folders above them that ``../`` in a data path or
  a name can reach): a listing of the sandbox before and after each example
  must be the same.

Inputs start from shipped, valid examples (``models/argon_lj_b2.toml``,
``models/argon_lj_vle.toml``, the sweep form of ``tests/test_sweep.py``, the
hand-written TraPPE butane of ``tests/potentials/test_topology.py``, a run file
written by bayesff's own writer through ``tests/handmade_runs.py``) and mutate
them: keys dropped or added, values replaced by wrong types, huge, negative,
NaN or infinite numbers, unicode, ``../`` paths and names, absurd units,
TOML dates, deeply nested structures; plus random TOML-like text. Each
seed is checked to load before it is mutated, so a fuzz test cannot pass by
mutating something that never loaded.

Profiles. ``BAYESFF_FUZZ_PROFILE=ci`` (the default) runs 1,110 examples in
all (33 s measured for this file on the 2-core machine under load); ``=full`` runs
ten times as many (11,100). Both are derandomised (the same examples every
run) and keep no example database. Bugs that fuzzing found are kept as
``@example``\\ s of the test that found them.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import math
import os
import shutil
import signal
import threading
import tomllib
from pathlib import Path

import h5py
import numpy as np
import pytest
import tomli_w
from handmade_runs import build_run, target
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bayesff import runfile, sweep
from bayesff.cli import main
from bayesff.errors import BayesffError
from bayesff.potentials.topology import topology_from_dict
from bayesff.problem import load_problem, problem_from_dict
from bayesff.report.summary import build_summary
from bayesff.transferability import evaluate

from support import ROOT

# ------------------------------------------------------------------------- profiles

#: The profile: ``ci`` (default) or ``full`` (ten times the examples).
PROFILE = os.environ.get("BAYESFF_FUZZ_PROFILE", "ci")
if PROFILE not in ("ci", "full"):
    raise ValueError(f"BAYESFF_FUZZ_PROFILE must be 'ci' or 'full', found {PROFILE!r}")
#: Per-example time limits. An example takes milliseconds (parsing and validation,
#: no JAX tracing); the alarm turns a real hang into a failure, the deadline a slow one.
HANG_S = 30.0
DEADLINE = datetime.timedelta(seconds=10)
settings.register_profile(
    "bayesff-fuzz-ci",
    max_examples=100,  # a unit: each test runs a multiple of it (see _examples)
    deadline=DEADLINE,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "bayesff-fuzz-full", settings.get_profile("bayesff-fuzz-ci"), max_examples=1000
)
_PROFILE = settings.get_profile(f"bayesff-fuzz-{PROFILE}")


def _examples(weight: float) -> settings:
    """Settings of one test: ``weight`` units of the profile's examples."""
    return settings(_PROFILE, max_examples=max(1, round(weight * _PROFILE.max_examples)))


# ------------------------------------------------------------------------- sandbox


class _Hang(BaseException):
    """An example ran past :data:`HANG_S` (a BaseException: no ``except Exception``
    in the code under test can swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float = HANG_S):
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; the deadline still applies
        return

    def fire(signum, frame):
        raise _Hang(f"no answer within {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _listing(root: Path) -> dict:
    """Every path under ``root`` with its size and modification time."""
    out = {}
    for p in root.rglob("*"):
        st_ = p.lstat()
        out[str(p.relative_to(root))] = (st_.st_size, st_.st_mtime_ns)
    return out


def _outcome(fn, *args, **kwargs):
    """``fn(...)`` under the time limit: (result, None), or (None, the BayesffError).

    Any other exception propagates: it fails the example with its traceback.
    """
    try:
        with _time_limit():
            return fn(*args, **kwargs), None
    except BayesffError as e:
        message = str(e)
        assert message.strip(), f"{type(e).__name__} with an empty message"
        assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
        return None, e


class Sandbox:
    """A folder tree in tmp: ``root/a/b/c/{proj,cwd}``; ``../`` up to three levels from
    ``proj`` or ``cwd`` stays inside ``root``, where every write would be seen."""

    def __init__(self, root: Path):
        self.root = root
        self.base = root / "a" / "b" / "c"
        self.proj = self.base / "proj"
        self.cwd = self.base / "cwd"
        self.cwd.mkdir(parents=True)
        data = self.proj / "data"
        (self.proj / "models").mkdir(parents=True)
        manifest = tomllib.loads((ROOT / "data" / "manifest.toml").read_text(encoding="utf-8"))
        wanted = ("argon/b2.csv", "vle/saturation_argon.csv")
        entries = [e for e in manifest["files"] if e["path"] in wanted]
        assert len(entries) == len(wanted)
        for rel in wanted:
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "data" / rel, data / rel)
        # a manifest of the two files only: the shipped one (114 entries) takes ~80 ms
        # to parse, which would dominate every example
        (data / "manifest.toml").write_text(tomli_w.dumps({"files": entries}), encoding="utf-8")
        self.config = self.base / "config.toml"  # no plug-ins allowed by a user config
        self.config.write_text("[plugins]\nallow = []\n", encoding="utf-8")
        for decoy in (root / "a" / "b" / "secret.csv", self.base / "secret.csv"):
            shutil.copy(ROOT / "data" / "argon" / "b2.csv", decoy)  # outside, no manifest

    @contextlib.contextmanager
    def unchanged(self):
        """Run inside ``cwd``; fail if anything under ``root`` appeared, changed or went."""
        before = _listing(self.root)
        with contextlib.chdir(self.cwd):
            yield
        after = _listing(self.root)
        assert after == before, (
            f"files written or removed: {sorted(set(after) ^ set(before))} "
            f"changed: {[k for k in after if k in before and after[k] != before[k]]}"
        )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(autouse=True)
def _no_user_plugins(monkeypatch, sandbox):
    """The user's own configuration file must not allow plug-ins to these tests."""
    monkeypatch.setenv("BAYESFF_CONFIG", str(sandbox.config))


# ------------------------------------------------------------------------- values

_NAMES = [
    "../../x", "../../../etc/passwd", "/etc/passwd", "..", ".", "~/.ssh/id_rsa",
    "data/../../../b2.csv", "../../../secret.csv", "../../secret.csv", "a/b", "a\\b",
    "C:\\x", "con", "x" * 300, "", " ", "é",
    "\u202eevil", "\x00", "a\nb", "𝜎", "B2", "toy", "data", "models", "-rf",
]  # fmt: skip
_WORDS = [
    "lennard_jones", "mie", "square_well", "second_virial", "vapour_pressure",
    "saturated_liquid_density", "none", "truncated", "shifted", "force_shifted",
    "inferred_scale", "hierarchical", "gp", "relative", "absolute", "Uniform",
    "LogNormal", "Normal", "HalfNormal", "laplace", "K", "kelvin", "angstrom", "nm",
    "kJ/mol", "kcal/mol", "cm^3/mol", "1", "furlong", "K/angstrom^2", "1/angstrom^3",
    "angstrom^-1e400", "os:getcwd", "json:dumps", "no_such_module:f",
    "bayesff.potentials.pair:lennard_jones", "T_K", "u_B2_cm3_per_mol", "drop", "error",
    "independent", "trappe", "opls", "fourier", "ryckaert_bellemans", "g/mol",
]  # fmt: skip
_NUMBERS = [
    0, -1, 1, 2**63 - 1, -(2**63), 2**64, 10**400, -(10**400), 0.0, -0.0, math.nan,
    math.inf, -math.inf, 1e308, -1e308, 5e-324, 1e-300, 0.5, 3.4, 120.0, 1e6,
]  # fmt: skip
_DATES = [
    datetime.date(1979, 5, 27),
    datetime.time(7, 32),
    datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.UTC),
]


class Deep:
    """A value nested ``depth`` levels deep (lists or one-key tables), built only when
    the example runs (:func:`built`): Hypothesis prints the examples it draws, and its
    printer, like much else, recurses once per level."""

    def __init__(self, depth: int, leaf, kind: str):
        self.depth, self.leaf, self.kind = depth, leaf, kind

    def __repr__(self) -> str:
        return f"Deep({self.depth}, {self.leaf!r}, {self.kind!r})"

    def build(self):
        out = self.leaf
        for _ in range(self.depth):  # a loop, not recursion
            out = [out] if self.kind == "list" else {"x": out}
        return out


def built(doc):
    """``doc`` with every :class:`Deep` built (``doc`` itself is shallow)."""
    if isinstance(doc, Deep):
        return doc.build()
    if isinstance(doc, dict):
        return {k: built(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [built(v) for v in doc]
    return doc


def scalars(python: bool = False):
    """Scalars a TOML file can hold (``python``: also None, what a dict may hold)."""
    options = [
        st.sampled_from(_NUMBERS),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(),
        st.sampled_from(_NAMES + _WORDS),
        st.text(max_size=12),
        st.booleans(),
        st.sampled_from(_DATES),
    ]
    if python:
        options.append(st.none())
    return st.one_of(*options)


def values(python: bool = False):
    """Scalars, short lists and tables, and deeply nested lists and tables."""
    leaf = scalars(python)
    small = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(_WORDS), inner, max_size=3),
        ),
        max_leaves=6,
    )
    deep = st.builds(Deep, st.integers(20, 3000), leaf, st.sampled_from(["list", "dict"]))
    return st.one_of(leaf, leaf, small, small, deep)


def _paths(doc, prefix=(), depth: int = 8):
    """Every path into a document to ``depth`` levels, the root included (not into
    the deeply nested values, which are edited as a whole)."""
    yield prefix
    if len(prefix) >= depth:
        return
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


@st.composite
def mutated(draw, seed: dict, python: bool = False, targeted: tuple = (), max_edits: int = 4):
    """``seed`` with 1 to ``max_edits`` edits at random places (or the ``targeted`` paths:
    (path, strategy of values) pairs the file's meaning hangs on)."""
    doc = copy.deepcopy(seed)
    for _ in range(draw(st.sampled_from([1, 1, 2, max_edits]))):  # one edit reaches deepest
        paths = [p for p in _paths(doc) if p]
        ops = ["delete", "replace", "replace", "add", "wrap"] + ["targeted"] * 4 * bool(targeted)
        op = draw(st.sampled_from(ops) if paths else st.just("add"))
        if op == "targeted" and targeted:
            path, strategy = draw(st.sampled_from(targeted))
            try:
                parent = _get(doc, path[:-1])
                parent[path[-1]] = draw(strategy)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier edit removed or replaced the place
            continue
        if op in ("delete", "replace", "wrap", "targeted"):
            path = draw(st.sampled_from(paths))
            parent, key = _get(doc, path[:-1]), path[-1]
            if op == "delete":
                del parent[key]
            elif op == "wrap":
                parent[key] = draw(st.sampled_from([[parent[key]], {"x": parent[key]}]))
            else:
                parent[key] = draw(values(python))
        else:  # add a key to a table, or an item to a list
            tables = [p for p in _paths(doc) if isinstance(_get(doc, p), dict | list)]
            where = _get(doc, draw(st.sampled_from(tables)))
            if isinstance(where, dict):
                where[draw(st.sampled_from(_WORDS) | st.text(max_size=8))] = draw(values(python))
            else:
                where.append(draw(values(python)))
    return doc


def _toml(doc) -> str | None:
    """The document as TOML text, or None where TOML cannot hold it (None values,
    nesting deeper than tomli_w writes)."""
    try:
        return tomli_w.dumps(built(doc))
    except (TypeError, ValueError, RecursionError):
        return None


# ------------------------------------------------------------------------- problems


def _problem_seed(name: str, data: dict) -> dict:
    doc = tomllib.loads((ROOT / "models" / name).read_text(encoding="utf-8"))
    for t in doc["targets"]:
        t["data"] = data[t["data"]]
    return doc


_DATA = {
    "data/argon/b2.csv": "data/argon/b2.csv",
    "data/vle/saturation_argon.csv": "data/vle/saturation_argon.csv",
}
ARGON = _problem_seed("argon_lj_b2.toml", _DATA)
VLE = _problem_seed("argon_lj_vle.toml", _DATA)

_PROBLEM_TARGETED = (
    (("targets", 0, "data"), st.sampled_from(_NAMES)),
    (("problem", "name"), st.sampled_from(_NAMES)),
    (("potential", "kind"), st.sampled_from(_WORDS)),
    (("parameters", "sigma", "unit"), st.sampled_from(_WORDS)),
    (("parameters", "epsilon", "value"), st.sampled_from(_NUMBERS)),
    (("parameters", "sigma", "prior", "low"), st.sampled_from(_NUMBERS)),
    (("targets", 0, "train", "T_K"), st.lists(st.sampled_from(_NUMBERS), max_size=3)),
    (("targets", 0, "noise"), st.fixed_dictionaries({"value": st.sampled_from(_NUMBERS)})),
    (("targets", 0, "observable"), st.sampled_from(_WORDS)),
    (
        ("targets", 0, "cutoff"),
        st.fixed_dictionaries(
            {
                "scheme": st.sampled_from(_WORDS),
                "r_c": st.sampled_from(_NUMBERS),
                "unit": st.sampled_from(_WORDS),
            }
        ),
    ),
    (("inference", "chains"), st.sampled_from(_NUMBERS)),
    (("inference", "samples"), st.sampled_from(_NUMBERS)),
    (("transferability", "tolerance"), values()),
)


def _load_dict(doc, sandbox: Sandbox):
    return problem_from_dict(
        doc, path="fuzz.toml", base_dirs=(sandbox.proj / "models", sandbox.proj, sandbox.cwd)
    )


def test_seeds_load(sandbox):
    """The unmutated seeds load (the fuzz tests below start from valid inputs); also
    warms the caches, so that no example pays a first import."""
    with sandbox.unchanged():
        for doc in (ARGON, VLE):
            assert _load_dict(copy.deepcopy(doc), sandbox).targets
        assert topology_from_dict(copy.deepcopy(BUTANE)).molecules


def _with(doc: dict, path: tuple, value) -> dict:
    """A copy of ``doc`` with the value at ``path`` replaced (for the examples)."""
    doc = copy.deepcopy(doc)
    _get(doc, path[:-1])[path[-1]] = value
    return doc


_KEY_WITH_NEWLINE = copy.deepcopy(ARGON)
_KEY_WITH_NEWLINE["parameters"]["sigma"]["prior"]["a\nb"] = 1.0


@_examples(3.5)
@given(
    doc=st.sampled_from([ARGON, VLE]).flatmap(
        lambda seed: mutated(seed, python=True, targeted=_PROBLEM_TARGETED)
    )
)
# found by fuzzing (each raised another exception type, or a message of two lines):
@example(doc=_with(ARGON, ("transferability", "tolerance"), Deep(2000, 1, "dict")))  # Recursion
@example(doc=_with(ARGON, ("targets", 0, "data"), "x" * 300))  # OSError: name too long
@example(doc=_with(ARGON, ("parameters", "epsilon", "value"), 10**400))  # OverflowError
@example(doc=_KEY_WITH_NEWLINE)  # a key with a newline: a message of two lines
def test_problem_documents(sandbox, doc):
    """Mutated problem documents (Python dicts: wrong types, None, NaN, 10**400,
    ``../`` data paths and names, unknown potentials, nesting 3,000 deep) either load
    or raise a one-line BayesffError; nothing is written."""
    with sandbox.unchanged():
        _outcome(_load_dict, built(doc), sandbox)


def _random_toml():
    """Random TOML-like text: tables, keys, values, brackets and quotes, some valid."""
    line = st.one_of(
        st.builds(lambda k: f"[{k}]", st.sampled_from(["problem", "potential", "x", ""])),
        st.builds(lambda k: f"[[{k}]]", st.sampled_from(["targets", "problem", "x"])),
        st.builds(
            lambda k, v: f"{k} = {v}",
            st.sampled_from(["name", "kind", "data", "unit", "x", "a.b", '"q"', '"a\\nb"']),
            st.sampled_from(['"toy"', "1", "1e400", "nan", "-inf", "[", "{", '"', "1979-05-27",
                             "[" * 500 + "]" * 500, "{a=" * 400 + "1" + "}" * 400, "true",
                             '"lennard_jones"', '"../../x"', "0x10", "1_000", "9" * 5000]),
        ),
        st.builds(lambda n: "[" + ".".join(["a"] * n) + "]", st.integers(1, 2000)),
        st.text(max_size=20),
    )  # fmt: skip
    return st.lists(line, max_size=12).map("\n".join)


def _with_bytes(text: str, at: int, junk: bytes) -> bytes:
    raw = text.encode()
    return raw[:at] + junk + raw[at:]


def _problem_files():
    """Problem files as bytes: a mutated shipped problem, random TOML-like text, a
    shipped problem with bytes that are not UTF-8 inserted."""
    mutated_text = (
        st.sampled_from([ARGON, VLE])
        .flatmap(lambda seed: mutated(seed, targeted=_PROBLEM_TARGETED))
        .map(lambda doc: (_toml(doc) or "x = " + "[" * 400 + "]" * 400).encode())
    )
    shipped = tomli_w.dumps(ARGON)
    damaged = st.builds(
        _with_bytes,
        st.just(shipped),
        st.integers(0, len(shipped)),
        st.binary(min_size=1, max_size=4),
    )
    random_text = _random_toml().map(lambda t: t.encode("utf-8", "surrogatepass"))
    return st.one_of(mutated_text, mutated_text, random_text, damaged)


@_examples(1.5)
@given(raw=_problem_files())
# found by fuzzing: tomllib raised RecursionError and ValueError, not TOMLDecodeError
@example(raw=b"x = " + b"[" * 500 + b"]" * 500)
@example(raw=b"x = " + b"9" * 5000)
@example(raw=("[" + ".".join(["a"] * 2000) + "]").encode())  # tables 2000 deep: validation
def test_problem_files_and_check(sandbox, raw):
    """Problem files as bytes (a mutated shipped problem written as TOML, random
    TOML-like text, bytes that are not UTF-8) through ``load_problem`` and through
    ``bayesff check`` in this process: a one-line BayesffError or success; ``check``
    exits 0 or 2 with one line on stderr, never an unexpected error; nothing written."""
    path = sandbox.proj / "models" / "fuzz.toml"
    path.write_bytes(raw)
    try:
        with sandbox.unchanged():
            _outcome(load_problem, path)
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code, _ = _outcome(main, ["check", str(path)])
        assert code in (0, 2), (code, err.getvalue())
        if code == 2:
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1 and "(unexpected;" not in lines[0], err.getvalue()
    finally:
        path.unlink()


# ------------------------------------------------------------------------- sweeps


def _sweep_seed() -> dict:
    """The sweep of tests/test_sweep.py (seeds of the argon problem) with a second axis
    and [[when]] tables, relative to a base problem in the sandbox."""
    values_ = [{"label": f"s{s}", "set": {"inference": {"seed": s}}} for s in (0, 1)]
    return {
        "sweep": {"name": "tiny", "base": "argon.toml", "report": False},
        "axes": [
            {"name": "seed", "values": values_},
            {
                "name": "form",
                "values": [
                    {"label": "lj"},
                    {
                        "label": "mie",
                        "set": {
                            "potential": {"kind": "mie"},
                            "parameters": {
                                "n": {
                                    "unit": "1",
                                    "prior": {"dist": "Uniform", "low": 10.0, "high": 30.0},
                                },
                                "m": {"unit": "1", "value": 6.0},
                            },
                        },
                    },
                ],
            },
        ],
        "when": [
            {
                "match": {"form": "mie"},
                "set": {"targets": {"B2": {"train": {"T_K": [120.0, 500.0]}}}},
            },
            {"match": {"seed": "s1", "form": ["lj"]}, "exclude": True},
        ],
        "inference": {"chains": 2, "warmup": 60, "samples": 60, "prior_draws": 10},
    }


SWEEP = _sweep_seed()
_SWEEP_TARGETED = (
    (("sweep", "base"), st.sampled_from([*_NAMES, "argon.toml", "../models/argon.toml"])),
    (("sweep", "name"), st.sampled_from(_NAMES)),
    (("axes", 0, "values", 0, "label"), st.sampled_from(_NAMES)),
    (("axes", 1, "values", 1, "set"), values()),
    (("axes", 1, "values", 1, "set", "targets"), values()),
    (("axes", 1, "values", 0, "base"), st.sampled_from([*_NAMES, "argon.toml"])),
    (("when", 0, "set", "targets", "B2"), values()),
    (("when", 0, "match"), values()),
    (("when", 1, "match", "seed"), st.sampled_from(_NAMES)),
    (("sweep", "problems"), st.lists(st.sampled_from([*_NAMES, "argon.toml"]), max_size=3)),
)


def _expand_and_check(path: Path, sandbox: Sandbox):
    """What ``bayesff sweep`` does before it samples: expand, then check every task."""
    _, tasks = sweep.expand(path, sandbox.cwd / "runs")
    sweep._prepare(tasks, lambda *a, **k: None)
    for t in tasks:
        assert t.error is None or (t.error.strip() and "\n" not in t.error), t.error
    return tasks


_BASE_PROBLEM_STRING = copy.deepcopy(ARGON)
_BASE_PROBLEM_STRING["problem"] = "x"


@_examples(2)
@given(
    base=st.one_of(st.just(ARGON), mutated(ARGON, targeted=_PROBLEM_TARGETED, max_edits=2)),
    doc=mutated(SWEEP, targeted=_SWEEP_TARGETED),
)
# found by fuzzing (AttributeError, TypeError, OSError from the merge and the base's path):
@example(base=ARGON, doc=_with(SWEEP, ("when", 0, "set", "targets", "B2"), 1.5))
@example(base=_with(ARGON, ("targets",), 5), doc=SWEEP)
@example(base=_BASE_PROBLEM_STRING, doc=SWEEP)
@example(base=ARGON, doc=_with(SWEEP, ("sweep", "base"), "x" * 300))
def test_sweep_files(sandbox, base, doc):
    """Mutated sweep files (and, for half, a mutated base problem) are expanded and every
    task checked: a one-line BayesffError (for the file, or per task in the summary's
    message), never another exception; nothing written under the sandbox."""
    models = sandbox.proj / "models"
    base_text, text = _toml(base), _toml(doc)
    (models / "argon.toml").write_text(base_text or tomli_w.dumps(ARGON), encoding="utf-8")
    path = models / "sweep.toml"
    path.write_text(text or "[sweep]\nname = " + "[" * 600 + "]" * 600, encoding="utf-8")
    try:
        with sandbox.unchanged():
            _outcome(_expand_and_check, path, sandbox)
    finally:
        path.unlink()
        (models / "argon.toml").unlink()


# ------------------------------------------------------------------------- molecules

BUTANE = {
    "site_types": {
        "CH3": {"mass": 15.035, "mass_unit": "g/mol"},
        "CH2": {"mass": 14.027, "mass_unit": "g/mol"},
    },
    "r_cut": 1.4,
    "r_cut_unit": "nm",
    "molecules": [
        {
            "name": "butane-by-hand",
            "sites": ["CH3", "CH2", "CH2", "CH3"],
            "bonds": [
                {"sites": [0, 1], "length": 1.54, "length_unit": "angstrom"},
                {
                    "sites": [1, 2],
                    "length": 0.154,
                    "length_unit": "nm",
                    "k": 96500.0,
                    "k_unit": "K/angstrom^2",
                },
                {"sites": [2, 3], "length": 1.54, "length_unit": "angstrom"},
            ],
            "angles": [
                {
                    "sites": [0, 1, 2],
                    "theta0": 114.0,
                    "theta0_unit": "deg",
                    "k": 62500.0,
                    "k_unit": "K/rad^2",
                },
                {
                    "sites": [1, 2, 3],
                    "theta0": 114.0,
                    "theta0_unit": "deg",
                    "k": 62500.0,
                    "k_unit": "K/rad^2",
                },
            ],
            "torsions": [
                {
                    "sites": [0, 1, 2, 3],
                    "form": "fourier",
                    "coefficients": [710.06, -136.38, 1582.64, 0.0],
                    "unit": "K",
                }
            ],
            "scaling": "trappe",
            "coordinates": [[0.0, 0.0, 0.0], [1.54, 0.0, 0.0], [2.0, 1.4, 0.0], [3.5, 1.4, 0.3]],
        },
        {"name": "pentane", "alkane": {"carbons": 5}},
    ],
}  # fmt: skip  (the butane of tests/potentials/test_topology.py, with coordinates)

_MOL = ("molecules", 0)
_TOPOLOGY_TARGETED = (
    ((*_MOL, "sites", 1), st.sampled_from([*_NAMES, "CH3", "CH9"])),
    ((*_MOL, "bonds", 0, "sites"), st.lists(st.sampled_from([*_NUMBERS, True, "0"]), max_size=3)),
    ((*_MOL, "bonds", 1, "k_unit"), st.sampled_from([*_WORDS, "K/nm^2", "kJ/mol/"])),
    ((*_MOL, "angles", 0, "theta0"), st.sampled_from(_NUMBERS)),
    ((*_MOL, "torsions", 0, "form"), values()),
    ((*_MOL, "torsions", 0, "coefficients"), st.lists(st.sampled_from(_NUMBERS), max_size=6)),
    ((*_MOL, "coordinates"), values()),
    ((*_MOL, "coordinates", 2), st.lists(st.sampled_from(_NUMBERS), max_size=4)),
    ((*_MOL, "scaling"), values()),
    (("molecules", 1, "alkane", "carbons"), st.sampled_from(_NUMBERS)),
    (("site_types", "CH2", "mass"), st.sampled_from(_NUMBERS)),
    (("r_cut",), st.sampled_from(_NUMBERS)),
    (("form",), values()),
    (("combining_rule",), values()),
)


_BUTANE_RAGGED = copy.deepcopy(BUTANE)
_BUTANE_RAGGED["molecules"][0]["coordinates"][0] = [0.0, 0.0]


@_examples(2.5)
@given(doc=mutated(BUTANE, python=True, targeted=_TOPOLOGY_TARGETED))
# found by fuzzing (ValueError, TypeError, OverflowError, MemoryError, RecursionError):
@example(doc=_BUTANE_RAGGED)
@example(doc=_with(BUTANE, (*_MOL, "torsions", 0, "form"), ["fourier"]))
@example(doc=_with(BUTANE, ("r_cut",), 10**400))
@example(doc=_with(BUTANE, ("molecules", 1, "alkane", "carbons"), 10**6))
@example(doc=_with(BUTANE, ("site_types", "CH3", "mass"), Deep(2134, "x", "list")))
def test_molecule_definitions(sandbox, doc):
    """Mutated molecule definitions (TraPPE butane by hand and an alkane by carbon count:
    missing sites, bonds to missing sites, torsions on non-bonded sites, unknown site
    types and units, 10**400 carbons or masses, NaN coordinates): a Topology or a
    one-line BayesffError, in well under the time limit."""
    with sandbox.unchanged():
        _outcome(topology_from_dict, built(doc))


# ------------------------------------------------------------------------- run files


@pytest.fixture(scope="module")
def run_tree(tmp_path_factory):
    """A run file written by bayesff's writer and read back (once per module): one
    B2 target with two training rows and one held-out group."""
    t = target(
        "B2",
        "second_virial",
        {"T_K": np.array([100.0, 200.0, 300.0])},
        np.array([-1.0, -0.5, -0.2]),
        train=np.array([True, True, False]),
        holdout={"hot": np.array([False, False, True])},
    )
    m, h = np.full((5, 2), -0.8), np.full((5, 1), -0.2)
    draws = {
        "B2": {
            "train": {"model": m, "rep": m, "ll": np.zeros((5, 2))},
            "holdout": {"model": h, "rep": h},
        }
    }
    path = tmp_path_factory.mktemp("run") / "posterior.nc"
    runfile.write(build_run([t], draws, tolerance={"B2": {"rel": 0.05}}), path)
    return runfile.read(path)


def _attr_values():
    """What a netCDF attribute can hold: text, numbers, arrays of numbers or text."""
    text = st.one_of(
        st.sampled_from(_NAMES + _WORDS),
        st.text(max_size=12),
        st.sampled_from(
            [
                '{"a": 1',
                "[problem",
                "x = [" * 300,
                "{}",
                "null",
                "[]",
                "1e400",
                "x = " + "[" * 500 + "]" * 500,
            ]
        ),
    )
    number = st.one_of(
        st.sampled_from([n for n in _NUMBERS if abs(n) < 2**63]).map(np.asarray),
        st.integers(-(2**63), 2**63 - 1).map(np.int64),
        st.floats().map(np.float64),
        st.booleans().map(np.bool_),
    )
    array = st.one_of(
        st.lists(st.floats(), max_size=3).map(lambda v: np.asarray(v, dtype=float)),
        st.lists(st.integers(-5, 5), max_size=3).map(lambda v: np.asarray(v, dtype=np.int64)),
        st.lists(text, max_size=3),
    )
    return st.one_of(text, number, array)


_ROOT_KEYS = [
    "bayesff_runfile_version", "problem_text", "parameters", "seed", "chains", "samples",
    "warmup", "thin", "wall_time_s", "target_accept", "problem_name", "potential_kind",
    "version_bayesff", "sweep_settings", "created_utc", "problem_fingerprint", "x",
]  # fmt: skip
_TARGET_KEYS = [
    "observable", "units", "inadequacy", "inadequacy_form", "inadequacy_prior_scale",
    "tolerance_rel", "tolerance_abs", "env_columns", "env_units", "value_dims", "trained",
    "n_rows", "n_train", "holdout_groups", "error_model", "excluded_rows", "excluded_lines",
    "options", "data_path", "data_sha256", "x",
]  # fmt: skip


@st.composite
def attribute_edits(draw):
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        node = draw(st.sampled_from(["", "targets/B2"]))
        key = draw(st.sampled_from(_TARGET_KEYS if node else _ROOT_KEYS))
        value = draw(st.one_of(st.just(None), _attr_values()))  # None: delete
        edits.append((node, key, value))
    return edits


def _read_run(dt):
    """What ``bayesff report``/``evaluate`` read from a run, after the version check."""
    runfile.check_version(dt, "fuzz.nc")
    runfile.info(dt)
    runfile.versions(dt)
    runfile.parameter_names(dt)
    for info in runfile.targets(dt):
        runfile.rows(dt, info.name, "train")
        runfile.rows(dt, info.name, "holdout")
    build_summary(dt, None)
    evaluate(dt)


@_examples(1.5)
@given(edits=attribute_edits())
# found by fuzzing: tomllib's RecursionError and ValueError escaped the problem_text check
@example(edits=[("", "problem_text", "x = " + "[" * 500 + "]" * 500)])
@example(edits=[("", "problem_text", "x = " + "9" * 5000)])
def test_run_file_attributes(sandbox, run_tree, edits):
    """A run whose root or target attributes were edited (deleted, or set to wrong types,
    malformed TOML or JSON text, NaN, huge numbers, arrays where a scalar belongs): the
    version check, the readers, the summary and the verdicts either work or raise a
    one-line BayesffError (RunFileError); nothing is written."""
    dt = run_tree.copy(deep=False)  # attributes are copied: the module's tree is untouched
    for node, key, value in edits:
        attrs = dt[node].attrs if node else dt.attrs
        if value is None:
            attrs.pop(key, None)
        else:
            attrs[key] = value
    with sandbox.unchanged():
        _outcome(_read_run, dt)


@pytest.fixture(scope="module")
def run_file_bytes(run_tree, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("run_bytes") / "posterior.nc"
    runfile.write(run_tree, path)
    return path.read_bytes()


@_examples(0.1)
@given(edits=attribute_edits())
def test_run_file_attributes_on_disk(sandbox, run_file_bytes, tmp_path_factory, edits):
    """The same edits made in the netCDF file itself (h5py), read back by
    :func:`bayesff.runfile.read`: the decoding of attributes by h5netcdf and xarray
    is part of the path a shared run file takes. Fewer examples: a read costs ~0.2 s."""
    path = tmp_path_factory.mktemp("edited") / "posterior.nc"
    path.write_bytes(run_file_bytes)
    with h5py.File(path, "r+") as f:
        for node, key, value in edits:
            attrs = f[node].attrs if node else f.attrs
            if value is None:
                attrs.pop(key, None)
                continue
            try:
                attrs[key] = value
            except (TypeError, ValueError):  # a value HDF5 cannot hold: not a file anyone has
                continue
    with sandbox.unchanged():
        _outcome(lambda: _read_run(runfile.read(path)))
