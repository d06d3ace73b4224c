"""bayesff.prepared: the files of prepared MD runs are data from elsewhere (audit).

A header (``prepared/NAME/<stem>.json``) is written by ``bayesff prepare`` and read
back by :func:`bayesff.prepared.read`; the text of the runs it names goes into the
problem's TOML text (:func:`bayesff.prepared.provenance_comment`) and so into the run
file and the problem's fingerprint. Checked here: a header's fields are what
:func:`~bayesff.prepared.write` records (else a ProblemError naming the header and the
field, ending with the hint, before the npz is hashed or loaded), nothing from a header
can leave its comment line, the npz must lie in the header's folder, and ``write``
refuses a prepared folder that is a symbolic link to elsewhere.

Fast: no simulation; a planned pair-MD run (Lennard-Jones) and small arrays written by
``write`` itself, then edited as a damaged or hostile file would be.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from bayesff import prepared
from bayesff.errors import ProblemError
from bayesff.io import OutputError
from bayesff.observables import md_targets as mdt
from bayesff.potentials import get_potential

LJ = get_potential("lennard_jones")
REF = {"epsilon": 0.998, "sigma": 3.4}  # kJ/mol, angstrom
OPTIONS = {
    "reference": REF,
    "n_particles": 64,
    "n_steps": 2000,
    "n_equil": 1000,
    "sample_every": 20,
}
HINT = "run `bayesff prepare models/x.toml`"
#: The audit's origin: it closed the comment line and declared a TOML table of its own.
INJECTED = 'bayesff prepare)\n[injected]\nnote = "x"\n# ('


def _run() -> prepared.PlannedRun:
    settings = mdt.parse_options(LJ, OPTIONS, "md_pressure")
    fingerprint = hashlib.sha256(b"bayesff tests/test_prepared.py").hexdigest()
    return prepared.PlannedRun(240.0, 0.015, LJ, settings, fingerprint, ("p",))


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, prepared.PlannedRun, Path]:
    """(prepared folder, its run, the run's header) as ``write`` leaves them."""
    run = _run()
    d = tmp_path / "prepared" / "x"
    arrays = {"r": np.zeros((3, 4)), "reference": np.array([REF["epsilon"], REF["sigma"]])}
    _, js = prepared.write(d, run, arrays, {"reference": REF, "origin": "bayesff prepare"})
    return d, run, js


def _edit(js: Path, **fields) -> None:
    head = json.loads(js.read_text())
    head.update(fields)
    js.write_text(json.dumps(head))


def _refused(d: Path, run, js: Path, field: str) -> str:
    """The message of read's ProblemError, checked to name the header and the field."""
    with pytest.raises(ProblemError) as e:
        prepared.read(d, run, hint=HINT, where="models/x.toml: target 'p'")
    message = str(e.value)
    assert message.startswith(f"models/x.toml: target 'p': {js}: field '{field}'"), message
    assert message.endswith(f"; {HINT}"), message
    return message


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("origin", INJECTED, "origin"),
        ("state_text", "T = 240 K\n[injected]\nnote = 1\n#", "state_text"),
        ("npz", "x\n[injected]\n#.npz", "npz"),
        (
            "reference",
            {"epsilon\n[injected]": 1.0, "sigma": 3.4},
            "reference.epsilon\\n[injected]",
        ),
        ("origin", "tab\there", "origin"),
        ("origin", "line\u2028separator", "origin"),
    ],
)
def test_header_text_with_a_line_break_is_refused(written, field, value, named):
    """A header string (or key) holding a newline or another control character could end a
    line of the provenance comment and add TOML of its own to the problem's text (the
    audit's origin added an [injected] table): read refuses it, naming the header and the
    field, and read_header does not take the file for a prepared run (so prepare's clean-up
    and the stale-run search skip it)."""
    d, run, js = written
    _edit(js, **{field: value})
    message = _refused(d, run, js, named)
    assert "control character or line break" in message
    assert prepared.read_header(js) is None


@pytest.mark.parametrize("where", ["origin", "state_text", "npz"])
def test_provenance_comment_keeps_every_value_in_its_comment(written, where):
    """provenance_comment writes a control character of a header value escaped, so the
    comment stays comment lines: the problem's text gains no table, and two such headers
    do not make it invalid TOML (the audit's 'Cannot declare ('injected',) twice')."""
    d, run, _ = written
    _, head = prepared.read(d, run)
    bad = {**head, where: INJECTED}
    text = prepared.provenance_comment(d, [bad, bad])
    assert tomllib.loads("[problem]\nname = 'x'\n" + text) == {"problem": {"name": "x"}}
    assert all(line.startswith("#") for line in text.splitlines()), text
    assert "[injected]\\nnote" in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "x"),
        ("reference", None),
        ("reference", {"epsilon": "a", "sigma": 3.4}),
        ("reference", {"epsilon": float("nan"), "sigma": 3.4}),
        ("reference", {"epsilon": True, "sigma": 3.4}),
        ("arrays", {"r": 5}),
        ("arrays", [1]),
        ("arrays", {"r": {"shape": ["3", 4], "dtype": "float64", "unit": "angstrom"}}),
        ("arrays", {"r": {"shape": [3, 4], "dtype": "float64"}}),
        ("sha256", 5),
        ("sha256", "not hex"),
        ("npz", 5),
        ("potential", {"name": "lennard_jones", "param_names": "epsilon"}),
        ("potential", "lennard_jones"),
        ("simulate", [1]),
        ("T_K", "240"),
        ("rho_per_A3", None),
        ("origin", 5),
        ("state_text", ["T = 240 K"]),
        ("targets", "p"),
        ("version", "1"),
        ("manifest", {"title": "x", "kind": "measured"}),
    ],
)
def test_header_fields_of_another_type_are_refused(written, field, value):
    """Each header field that write records is checked for its type before it is used: a
    reference that is text or null was an AttributeError, a text epsilon 'Unknown format
    code g', an array spec that is a number or a list a TypeError or AttributeError. Now
    each is a ProblemError naming the header and the field, saying what was expected, and
    ending with the hint to run bayesff prepare."""
    d, run, js = written
    _edit(js, **{field: value})
    assert "expected" in _refused(d, run, js, field)


@pytest.mark.parametrize("field", ["reference", "arrays", "simulate", "T_K"])
def test_header_lacking_a_field_is_refused(written, field):
    """A header without a field write always records (the reference, the arrays, the run
    settings, a pair run's state) is refused by read with the header named, not a KeyError
    later in provenance_comment or write_manifest."""
    d, run, js = written
    head = json.loads(js.read_text())
    del head[field]
    js.write_text(json.dumps(head))
    with pytest.raises(ProblemError, match=rf"{re.escape(str(js))}: the header lacks.* {field}"):
        prepared.read(d, run, hint=HINT)


@pytest.mark.parametrize("name", ["absolute", "../elsewhere.npz", "sub/elsewhere.npz"])
def test_npz_outside_the_header_folder_is_refused(written, tmp_path, name):
    """The header's npz was joined to its folder as given: an absolute path or one with
    '..' read a file from elsewhere (here an intact copy, whose sha256 matches). Now npz
    must be a plain file name in the header's folder."""
    d, run, js = written
    head = json.loads(js.read_text())
    target = tmp_path / "elsewhere.npz" if name == "absolute" else d / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(d / head["npz"], target)
    _edit(js, npz=str(target) if name == "absolute" else name)
    assert "a file name <stem>.npz in the header's folder" in _refused(d, run, js, "npz")


def test_npz_linked_outside_the_header_folder_is_refused(written, tmp_path):
    """A plain npz name that is a symbolic link to a file outside the header's folder is
    refused too (the path is resolved, links followed, before anything is read)."""
    d, run, js = written
    head = json.loads(js.read_text())
    outside = tmp_path / "elsewhere.npz"
    shutil.copy(d / head["npz"], outside)
    (d / "link.npz").symlink_to(outside)
    _edit(js, npz="link.npz")
    assert f"resolves to {outside.resolve()}, outside the header's folder" in _refused(
        d, run, js, "npz"
    )


def test_damaged_neighbour_header_gives_the_missing_message(written):
    """A stale header of the same state with a text temperature made the search for stale
    runs fail in np.isclose (a TypeError); now it is not taken for a prepared run and the
    message is the ordinary 'no prepared MD run'."""
    d, run, js = written
    head = json.loads(js.read_text())
    (d / "other.json").write_text(json.dumps({**head, "fingerprint": "0" * 64, "T_K": "240"}))
    js.unlink()
    with pytest.raises(ProblemError, match=r"no prepared MD run for T = 240 K"):
        prepared.read(d, run, hint=HINT)


def test_a_header_of_another_version_at_the_same_state_is_named(written):
    """Review, 2026-11-30: a header of the same state that lacks a field this version
    records (an older bayesff's, or a damaged one) was skipped by the search for stale
    runs, so the message said "no prepared MD run"; it now names the file and the field."""
    d, run, js = written
    head = json.loads(js.read_text())
    old = {k: v for k, v in head.items() if k != "simulate"}
    (d / "older.json").write_text(json.dumps({**old, "fingerprint": "0" * 64}))
    js.unlink()
    with pytest.raises(
        ProblemError, match=r"of another version of bayesff or damaged \(older\.json: .*simulate"
    ):
        prepared.read(d, run, hint=HINT)


def test_the_default_prepared_folder_linked_elsewhere_is_refused(tmp_path):
    """prepared/NAME as a symbolic link to a folder elsewhere had `bayesff prepare` write
    there; output_directory (which prepare and refine call on the default folder) refuses
    it in the words calibrate, report and export use for their default output folders
    (bayesff.io.confined). A folder the caller names is the caller's choice: write goes
    there, links included (review, 2026-11-30: an explicit scratch link was refused)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "prepared").mkdir()
    (tmp_path / "prepared" / "x").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match=r"prepared folder .* resolves to .*, outside"):
        prepared.output_directory(tmp_path / "prepared" / "x")
    assert prepared.output_directory(tmp_path / "prepared" / "y") == tmp_path / "prepared" / "y"
    prepared.write(
        tmp_path / "prepared" / "x", _run(), {"r": np.zeros((3, 4))}, {"reference": REF}
    )
    assert len(list(elsewhere.iterdir())) == 2  # the npz and its header


def test_prepare_refuses_a_linked_folder_before_any_simulation(tmp_path, monkeypatch):
    """The same refusal of the default folder from `bayesff prepare` itself, before any
    simulation (the runs are written only after they are simulated, minutes later): the
    simulation step is replaced by one that fails the test if it is reached."""
    from bayesff.workflows import prepare as prepare_module

    from support import ROOT

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "prepared").mkdir()
    (tmp_path / "prepared" / "argon_md").symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.chdir(tmp_path)  # the default folder prepared/argon_md is relative to it

    def reached(*args, **kwargs):
        raise AssertionError("simulated before the output folder was checked")

    monkeypatch.setattr(prepare_module, "_simulate_and_write", reached)
    with pytest.raises(OutputError, match=r"prepared folder .* outside its output folder"):
        prepare_module.prepare(ROOT / "models" / "argon_md.toml")
    assert list(elsewhere.iterdir()) == []
