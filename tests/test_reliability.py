"""Bad input and faults: one clear line, no traceback, nothing lost (issue 16).

Each case runs the CLI (`bayesff.cli.main`) on a broken problem, data file, run
file or flag and checks the exit status and that stderr is one line naming the
file, field, row or flag; never a Python traceback. Faults (Ctrl-C, SIGKILL, a
full disk, a concurrent run) are simulated for real where that is possible in a
test (signals to a subprocess) and by injection where it is not (ENOSPC).
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bayesff.cli import main

from support import ARGON_B2, PROBLEM_TOML, ROOT, write_manifest

# the module (bayesff.inference's ``calibrate`` is the function of that name)
calibrate_module = importlib.import_module("bayesff.inference.calibrate")

SHIPPED = str(ROOT / "models" / "argon_lj_b2.toml")


def _run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _problem(tmp_path: Path, toml: str = PROBLEM_TOML, csv: str | None = None) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "data").mkdir(exist_ok=True)
    if csv is None:
        shutil.copy(ARGON_B2, tmp_path / "data" / "b2.csv")
    else:
        (tmp_path / "data" / "b2.csv").write_text(csv)
    write_manifest(tmp_path / "data")
    path = tmp_path / "models" / "toy.toml"
    path.write_text(toml)
    return path


def _csv_rows(edit) -> str:
    lines = ARGON_B2.read_text().splitlines()
    return "\n".join(edit(lines)) + "\n"


# ------------------------------------------------------------------- problem files
PROBLEM_CASES = {
    "problem name ..": (
        'name = "toy"',
        'name = ".."',
        r"\[problem\]\.name: '\.\.' is not an allowed name",
    ),
    "problem name .": ('name = "toy"', 'name = "."', r"not an allowed name"),
    "problem name traversal": ('name = "toy"', 'name = "../../x"', r"not an allowed name"),
    "problem name too long": ('name = "toy"', f'name = "{"a" * 65}"', r"not an allowed name"),
    "target name with /": (
        'name = "B2"',
        'name = "B2/x"',
        r"targets\[0\]\.name: 'B2/x' is not an allowed name",
    ),
    "description not text": (
        'description = "test problem"',
        "description = 42",
        r"\[problem\]\.description: expected a string, got an integer 42",
    ),
    "unknown section": ("[inference]", "[inferense]", r"unknown section\(s\) inferense"),
    "chains a string": (
        "chains = 2",
        'chains = "2"',
        r"\[inference\]\.chains: expected an integer",
    ),
    "chains zero": (
        "chains = 2",
        "chains = 0",
        r"chains must be an integer in \[1, 4096\], got 0",
    ),
    "negative seed": (
        "chains = 2",
        "chains = 2\nseed = -1",
        r"seed must be a non-negative integer",
    ),
    "r_c nan": (
        'kind = "lennard_jones"',
        'kind = "lennard_jones"\ncutoff = { scheme = "truncated", r_c = nan, unit = "angstrom" }',
        r"needs a finite r_c > 0",
    ),
    "r_c inf": (
        'kind = "lennard_jones"',
        'kind = "lennard_jones"\ncutoff = { scheme = "truncated", r_c = inf, unit = "angstrom" }',
        r"needs a finite r_c > 0",
    ),
    "unknown potential": (
        'kind = "lennard_jones"',
        'kind = "lenard"',
        r"unknown potential 'lenard'",
    ),
    "plugin not allowed": (
        'kind = "lennard_jones"',
        'kind = "nope_pkg_xyz:f"',
        r"\[potential\]\.kind: potential 'nope_pkg_xyz:f' would import module 'nope_pkg_xyz', "
        r"which you have not allowed.*--allow-plugin nope_pkg_xyz",
    ),
    "tolerance not positive": ("rel = 0.05", "rel = -0.05", r"rel must be a finite number > 0"),
    "tolerance a string": ("rel = 0.05", 'rel = "5%"', r"tolerance\.B2\.rel: expected a number"),
    "prior outside support": (
        "low = 3.0, high = 4.0",
        "low = -1.0, high = 4.0",
        r"\[parameters\.sigma\]\.prior: Uniform prior covers",
    ),
    "unit missing": ('unit = "K"\n', "", r"missing 'unit'"),
    "unit of wrong dimension": (
        'unit = "K"',
        'unit = "angstrom"',
        r"\[parameters\.epsilon\]\.unit",
    ),
    "selection empty": (
        "select = { T_K = [85.0, 110.0] }",
        "select = { T_K = [200.0, 300.0] }",
        r"holdout\[0\]: the selection keeps no rows",
    ),
    "selection reversed": (
        "select = { T_K = [85.0, 110.0] }",
        "select = { T_K = [110.0, 85.0] }",
        r"low <= high",
    ),
    "not TOML": ("[problem]", "[problem", r"not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(PROBLEM_CASES))
def test_bad_problem_files_get_one_line(tmp_path, capsys, case):
    old, new, pattern = PROBLEM_CASES[case]
    text = PROBLEM_TOML
    assert old in text, case
    path = _problem(tmp_path, text.replace(old, new, 1))
    code, _, err = _run(["check", str(path)], capsys)
    assert code == 2
    import re

    line = _one_line(err)
    assert re.search(pattern, line), line
    assert "toy.toml" in line or "[inference]" in line


def test_a_non_utf8_problem_file(tmp_path, capsys):
    path = _problem(tmp_path)
    path.write_bytes(PROBLEM_TOML.replace("test problem", "t\xe9st").encode("latin-1"))
    code, _, err = _run(["check", str(path)], capsys)
    assert code == 2 and "not UTF-8 text: byte 0xe9" in _one_line(err)


def test_a_byte_order_mark_is_accepted(tmp_path, capsys):
    path = _problem(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + PROBLEM_TOML.encode())
    code, out, _ = _run(["check", str(path)], capsys)
    assert code == 0 and "is valid" in out


# ---------------------------------------------------------------------- data files
DATA_CASES = {
    "duplicate row": (lambda ls: [*ls, ls[5]], r"exact duplicate of line 6"),
    "conflicting row": (
        lambda ls: [*ls, ls[5].split(",")[0] + ",1.0,1.0,1.0"],
        r"line 6|conflict",
    ),
    "duplicated header": (lambda ls: [ls[0] + ",T_K", *(r + ",1" for r in ls[1:])], r"T_K"),
    "underscore number": (
        lambda ls: [ls[0], "9_0," + ls[1].split(",", 1)[1], *ls[2:]],
        r"line 2, column 'T_K'",
    ),
    "tiny uncertainty": (
        lambda ls: [
            ls[0],
            ",".join([*ls[1].split(",")[:2], "1e-320", ls[1].split(",")[3]]),
            *ls[2:],
        ],
        r"u_B2_cm3_per_mol",
    ),
    "zero uncertainty": (
        lambda ls: [ls[0], ",".join([*ls[1].split(",")[:2], "0", ls[1].split(",")[3]]), *ls[2:]],
        r"u_B2_cm3_per_mol",
    ),
    "short row": (lambda ls: [ls[0], "90,1.0", *ls[2:]], r"line 2: row has 2 fields"),
    "nan value": (
        lambda ls: [ls[0], ",".join([ls[1].split(",")[0], "nan", *ls[1].split(",")[2:]]), *ls[2:]],
        r"line 2, column 'B2_cm3_per_mol'",
    ),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_files_get_one_line(tmp_path, capsys, case):
    edit, pattern = DATA_CASES[case]
    path = _problem(tmp_path, csv=_csv_rows(edit))
    code, _, err = _run(["check", str(path)], capsys)
    import re

    line = _one_line(err)
    assert code == 2 and re.search(pattern, line), line
    assert "b2.csv" in line


def test_a_unit_in_a_column_name_that_disagrees_with_the_manifest(tmp_path, capsys):
    path = _problem(tmp_path)
    write_manifest(
        tmp_path / "data",
        units={
            "T_K": "K",
            "B2_cm3_per_mol": "L/mol",
            "u_B2_cm3_per_mol": "L/mol",
            "B2_GERG2008_cm3_per_mol": "cm^3/mol",
        },
    )
    code, _, err = _run(["check", str(path)], capsys)
    assert code == 2 and "factor of 1000" in _one_line(err)


def test_rows_neither_trained_nor_held_out_are_reported(tmp_path, capsys):
    path = _problem(tmp_path)  # trains on 110-500 K, holds out 85-110 K: 520-700 K unused
    code, out, _ = _run(["check", str(path)], capsys)
    assert code == 0
    assert "EXCLUDED 10 rows (T_K 520, 540" in out


# --------------------------------------------------------------------------- flags
FLAG_CASES = {
    "--samples 0": (["--samples", "0"], "--samples: must be an integer >= 1, got 0"),
    "--warmup 0": (["--warmup", "0"], "--warmup: must be an integer >= 1, got 0"),
    "--seed -1": (["--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
    "--chains -1": (["--chains", "-1"], "--chains: must be an integer >= 1, got -1"),
    "--chains x": (["--chains", "x"], "--chains: expected an integer, got 'x'"),
    "--checkpoint-every -1": (["--checkpoint-every", "-1"], "must be an integer >= 0"),
    "--sampler foo": (["--sampler", "foo"], "invalid choice: 'foo'"),
}


@pytest.mark.parametrize("case", sorted(FLAG_CASES))
def test_bad_flags(tmp_path, capsys, case):
    args, msg = FLAG_CASES[case]
    with pytest.raises(SystemExit) as e:
        main(["calibrate", SHIPPED, "--out", str(tmp_path / "x.nc"), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err
    assert not (tmp_path / "x.nc").exists()


def test_checkpoint_every_above_the_draws(tmp_path, capsys):
    code, _, err = _run(
        [
            "calibrate",
            SHIPPED,
            "--out",
            str(tmp_path / "x.nc"),
            "--samples",
            "10",
            "--checkpoint-every",
            "20",
        ],
        capsys,
    )
    assert code == 2 and "checkpoint-every (20) must be at most the draws per chain (10)" in err


@pytest.mark.parametrize(
    "cmd", ["check", "calibrate", "report", "evaluate", "compare", "list", "sweep"]
)
def test_help_works_for_every_subcommand(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0 and "usage: bayesff" in capsys.readouterr().out


# ----------------------------------------------------------------------- run files
RUN_CASES = {
    "truncated": lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40),
    "text": lambda p: p.write_text("not a run"),
    "empty": lambda p: p.write_bytes(b""),
    "missing": lambda p: None,
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
@pytest.mark.parametrize("cmd", ["report", "evaluate", "compare"])
def test_bad_run_files(tmp_path, capsys, case, cmd):
    path = tmp_path / "posterior.nc"
    RUN_CASES[case](path)
    code, _, err = _run([cmd, str(path)], capsys)
    line = _one_line(err)
    assert code == 2 and "posterior.nc" in line, line


# --------------------------------------------------------------------------- faults
def _no_sampling(*args, **kwargs):
    raise AssertionError("sampling started before the output was checked")


def test_an_unusable_output_is_found_before_sampling(tmp_path, capsys, monkeypatch):
    """An --out whose folder cannot be made (a regular file stands where the folder would
    be: refused for every user, root included, unlike a read-only folder) is one line
    naming the path, and the sampler is never reached (it raises if called)."""
    monkeypatch.setattr(calibrate_module, "_sample", _no_sampling)
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    out = afile / "x" / "p.nc"
    code, _, err = _run(["calibrate", SHIPPED, "--out", str(out)], capsys)
    line = _one_line(err)
    assert code == 2 and "cannot write here" in line and str(out) in line, line
    assert afile.read_text() == "not a folder\n"


def test_a_too_long_output_name_is_found_before_sampling(tmp_path, capsys):
    code, _, err = _run(
        ["calibrate", SHIPPED, "--out", str(tmp_path / ("a" * 300) / "p.nc")], capsys
    )
    assert code == 2 and "path component is 300 bytes long" in _one_line(err)


def test_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    """ENOSPC while writing: a clear error naming the file, the old file untouched, no
    temporary file left (injected: the disk cannot be filled in a test)."""
    import xarray as xr

    from bayesff import runfile
    from bayesff.runfile import RunFileError

    out = tmp_path / "posterior.nc"
    out.write_bytes(b"previous good run")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    # the bytes are written, then the disk is found full when they are flushed
    monkeypatch.setattr("bayesff.io.os.fsync", full)
    with pytest.raises(
        RunFileError, match=r"posterior\.nc: cannot write the run file: No space left"
    ):
        runfile.write(xr.DataTree(), out, force=True)
    assert out.read_bytes() == b"previous good run"
    assert [p.name for p in tmp_path.iterdir()] == ["posterior.nc"]


def test_a_second_run_on_the_same_output_is_refused_by_the_lock(tmp_path):
    from bayesff.io import Lock, LockedError

    out = tmp_path / "posterior.nc"
    with Lock(out):
        with pytest.raises(LockedError, match=rf"pid {os.getpid()}"):
            Lock(out).acquire()
    # a stale lock of a dead process is taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = out.with_name(f".{out.name}.lock")
    import json
    import socket

    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "started": 0}))
    with Lock(out):
        pass
    assert not lock.exists()


def test_an_empty_lock_is_its_holders_until_it_has_stayed_empty(tmp_path):
    """Audit, 2026-11-30: an empty lock file was taken over at once, but a lock is empty
    between its holder's O_EXCL create and its first write: a second process reading it
    then deleted the lock and took it, and both held it. Now an empty lock is refused
    ("just now"); one that has stayed empty past the grace period (a holder that died
    in between) is taken over."""
    from bayesff.io import LOCK_WRITE_GRACE_S, Lock, LockedError

    out = tmp_path / "posterior.nc"
    lock = out.with_name(f".{out.name}.lock")
    lock.write_text("")
    with pytest.raises(LockedError, match="taking the lock of this output just now"):
        Lock(out).acquire()
    assert lock.exists()
    old = time.time() - LOCK_WRITE_GRACE_S - 5
    os.utime(lock, (old, old))
    with Lock(out):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()
    # a lock released between our create and our read of it is taken, not refused (review)
    lock.write_text("")
    first = Lock(out)
    real = first._holder

    def released():
        lock.unlink()  # its holder finished just now
        first._holder = real
        return {}

    first._holder = released
    with first:
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_an_empty_lock_that_looks_old_by_a_skewed_clock_is_not_taken_from_its_holder(
    tmp_path,
):
    """Review, 2026-11-30: an empty lock's age came from its mtime, which a shared
    folder's server stamps by its own clock; with that clock behind, a lock created just
    now looked older than the grace period and was taken over while its holder was about
    to write its name, and both held it. Now a lock that looks old is watched on this
    process's clock first: here (mtime an hour back, the holder's name written 0.3 s
    later, within the 2 s watch) the lock is refused naming its holder, and it keeps
    that holder's name."""
    import threading

    from bayesff.io import LOCK_WRITE_CONFIRM_S, Lock, LockedError

    assert LOCK_WRITE_CONFIRM_S > 0.3
    out = tmp_path / "posterior.nc"
    lock = out.with_name(f".{out.name}.lock")
    lock.write_text("")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    holder = {"host": "node-7", "pid": 4242, "started": time.time()}

    def write_name():
        with open(lock, "w") as fh:  # the same file (inode): its holder's first write
            json.dump(holder, fh)

    timer = threading.Timer(0.3, write_name)
    timer.start()
    try:
        with pytest.raises(LockedError, match="pid 4242 on node-7"):
            Lock(out).acquire()
    finally:
        timer.join()
    assert json.loads(lock.read_text()) == holder


def test_an_empty_lock_stamped_in_the_future_by_a_skewed_clock_is_taken_over(tmp_path):
    """Review, 2026-11-30: with the file server's clock ahead, a dead holder's empty lock
    had a negative age and was refused ("just now") until the skew had passed, hours for
    a clock hours ahead. Now it is watched on this process's clock like an old one, and
    taken over when it stays empty."""
    from bayesff.io import Lock

    out = tmp_path / "posterior.nc"
    lock = out.with_name(f".{out.name}.lock")
    lock.write_text("")
    ahead = time.time() + 3600
    os.utime(lock, (ahead, ahead))
    with Lock(out):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_a_temporary_file_of_another_machine_is_not_removed(tmp_path):
    """Audit, 2026-11-30: a temporary file ``.NAME.PID.tmp`` was removed when no process
    of that pid lived on this machine, so on a folder shared between machines another
    machine's file was deleted while it was being written. Temporary files now carry the
    machine's name; only this machine's dead processes' files (and the old names, which
    were this machine's) are removed."""
    from bayesff.io import _host_tag, atomic_write_bytes

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "summary.csv"
    mine = tmp_path / f".summary.csv.{_host_tag()}.{dead.pid}.tmp"
    legacy = tmp_path / f".summary.csv.{dead.pid}.tmp"
    other = tmp_path / f".summary.csv.node-7.cluster.{dead.pid}.tmp"
    for f in (mine, legacy, other):
        f.write_text("partial")
    atomic_write_bytes(out, b"a,b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, other.name])


#: ``python -m bayesff.cli`` with SIGINT handled as at a terminal. A shell without job
#: control starts background jobs with SIGINT ignored, an ignored SIGINT is inherited and
#: Python then installs no KeyboardInterrupt handler: a test run started that way would
#: not test Ctrl-C at all (the run just finished, exit 0). Restoring the handler in the
#: child, not in a preexec_fn (a fork of the multithreaded JAX test process).
CLI = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'bayesff'; runpy.run_module('bayesff.cli', run_name='__main__')"
)


def _calibrate_proc(tmp_path: Path, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-c",
        CLI,
        "calibrate",
        SHIPPED,
        "--out",
        str(tmp_path / "posterior.nc"),
        "--samples",
        "3000",
        "--no-progress",
        *extra,
    ]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait_for_sampling(proc: subprocess.Popen, timeout: float = 300) -> None:
    """Read stdout until the sampler reports it started (its first block has compiled)."""
    t0 = time.time()
    for line in proc.stdout:
        if "warm-up:" in line or "sampling:" in line:
            return
        if time.time() - t0 > timeout:
            break
    raise AssertionError("the calibration never started sampling")


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_a_resume_finishes(tmp_path):
    """SIGINT (Ctrl-C) during sampling: exit 130, one line saying
    how to resume, a checkpoint beside the output; --resume finishes the run."""
    proc = _calibrate_proc(tmp_path)
    try:
        _wait_for_sampling(proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)  # a guard against a hang, not a timing
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()
    assert proc.returncode == 130, err
    assert "run the same command with --resume" in err and "Traceback" not in err
    assert (tmp_path / "checkpoint.npz").exists() and not (tmp_path / "posterior.nc").exists()
    code = main(
        [
            "calibrate",
            SHIPPED,
            "--out",
            str(tmp_path / "posterior.nc"),
            "--samples",
            "3000",
            "--no-progress",
            "--resume",
            "--quiet",
        ]
    )
    assert code == 0 and (tmp_path / "posterior.nc").exists()
    assert not (tmp_path / "checkpoint.npz").exists()


@pytest.mark.slow
def test_sigkill_during_sampling_resumes_from_the_last_checkpoint(tmp_path):
    """SIGKILL cannot be caught: the last periodic checkpoint survives, the lock of the
    dead process is taken over, and --resume finishes the run."""
    proc = _calibrate_proc(tmp_path, "--checkpoint-every", "500")
    try:
        _wait_for_sampling(proc)
        ck = tmp_path / "checkpoint.npz"
        assert _wait_until(lambda: ck.exists(), 300)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        proc.stdout.close()
        proc.stderr.close()
    assert not (tmp_path / "posterior.nc").exists()
    code = main(
        [
            "calibrate",
            SHIPPED,
            "--out",
            str(tmp_path / "posterior.nc"),
            "--samples",
            "3000",
            "--no-progress",
            "--checkpoint-every",
            "500",
            "--resume",
            "--quiet",
        ]
    )
    assert code == 0 and (tmp_path / "posterior.nc").exists()


def _wait_until(cond, timeout: float) -> bool:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.2)
    return False


# --------------------------------------------------------------- property-based
_MUTATIONS = ("delete", "duplicate", "replace_value", "insert_bytes", "rename_key", "swap")


def _mutate(text: str, data, st) -> str:
    lines = text.splitlines()
    kind = data.draw(st.sampled_from(_MUTATIONS))
    i = data.draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "delete" and lines:
        del lines[i]
    elif kind == "duplicate" and lines:
        lines.insert(i, lines[i])
    elif kind == "replace_value" and lines and "=" in lines[i]:
        key = lines[i].split("=", 1)[0]
        value = data.draw(
            st.one_of(
                st.integers(-(10**12), 10**12).map(str),
                st.floats(allow_nan=True, allow_infinity=True).map(
                    lambda x: repr(x).replace("inf", "inf")
                ),
                st.text(max_size=12).map(
                    lambda s: '"' + s.replace('"', "").replace("\\", "") + '"'
                ),
                st.sampled_from(["true", "[]", "{}", "[1.0]", '""', "-0.0", "1e-320", "nan"]),
            )
        )
        lines[i] = f"{key}= {value}"
    elif kind == "insert_bytes":
        junk = data.draw(st.text(min_size=1, max_size=6))
        lines.insert(i, junk)
    elif kind == "rename_key" and lines and "=" in lines[i]:
        lines[i] = "x" + lines[i]
    elif kind == "swap" and len(lines) > 1:
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_random_mutations_of_shipped_files_never_give_a_traceback(tmp_path):
    """Random mutations of a shipped problem file and of its data file, fed to
    `bayesff check`: every outcome is success or one error line, never a traceback
    (600 examples, fixed seed, no example database, so the run is reproducible)."""
    import contextlib
    import io

    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    problem_text = (ROOT / "models" / "argon_lj_b2.toml").read_text()
    csv_text = ARGON_B2.read_text()
    outcomes = {"ok": 0, "error": 0}

    @seed(20261123)
    @settings(
        max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.data())
    def check(data):
        target = data.draw(st.sampled_from(["problem", "data", "both"]))
        toml = _mutate(problem_text, data, st) if target != "data" else problem_text
        csv = _mutate(csv_text, data, st) if target != "problem" else csv_text
        work = tmp_path / "w"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        path = _problem(work, toml.replace("data/argon/b2.csv", "data/b2.csv"), csv=csv)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["check", str(path)])
        assert code in (0, 2), (code, err.getvalue())
        if code == 2:
            text = err.getvalue()
            assert "Traceback" not in text and "unexpected" not in text, text
            assert len(text.strip().splitlines()) == 1, text
        outcomes["ok" if code == 0 else "error"] += 1

    check()
    assert outcomes["error"] > 100 and outcomes["ok"] > 10, outcomes
