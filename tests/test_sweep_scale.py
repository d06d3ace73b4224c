"""Sweeps at scale, with faults (issue 28 item 4), and the limit on a sweep's size.

A sweep of 200 tiny calibrations (argon B2, Lennard-Jones 12-6, one chain of 30 + 30
draws: cheap, but each a real calibration through the sweep's normal path) of which 20
(10 %) have bad input, run on a Dask scheduler and workers started as separate
processes (``dask scheduler``, ``dask worker``). One worker is killed while it computes
a task, then the scheduler itself; a new scheduler and new workers are started on the
same address and the sweep is run again. What is checked is the bookkeeping, not the
posteriors (tests/test_inference.py checks those): every good task's run file is
written exactly once (counted in the sweep's journal, ``runs/SWEEP/journal.jsonl``,
which every worker appends to), every bad task is in the summary with its reason, the
sweep that lost its scheduler stops with one clear line, and the resumed sweep
recomputes nothing that had finished (journal, modification times and inodes).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dask
import pytest

from bayesff import runfile
from bayesff import sweep as sweep_module
from bayesff.cli import main
from bayesff.errors import BayesffError, ProblemError
from bayesff.sweep import check_sweep, expand, read_sweep, run_sweep

from support import ARGON_B2

SEEDS = [f"s{i:02d}" for i in range(20)]
MEDIANS = [100, 105, 110, 115, 120, 125, 130, 135, 140]  # epsilon/K prior medians
# the bad tasks: the tenth value of the prior axis, made bad in three ways by seed
BAD = {
    "missing column": SEEDS[:7],
    "negative uncertainty": SEEDS[7:14],
    "prior out of support": SEEDS[14:],
}
BIN = Path(sys.executable).parent
WORKER_ENV = {
    # as the sweep's own LocalCluster: one single-threaded XLA and one JAX device per
    # worker process (bayesff.sweep._cluster)
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "BAYESFF_HOST_DEVICES": "1",
    "PYTHONUNBUFFERED": "1",
}

BASE = """\
[problem]
name = "tiny"
description = "argon B2, LJ 12-6: the cheapest real calibration"

[potential]
kind = "lennard_jones"

[parameters.epsilon]
unit = "K"
prior = { dist = "LogNormal", median = 120.0, scale = 0.3 }

[parameters.sigma]
unit = "angstrom"
prior = { dist = "Uniform", low = 3.0, high = 4.0 }

[[targets]]
name = "B2"
observable = "second_virial"
data = "data/b2.csv"
noise = { column = "u_B2_cm3_per_mol" }

[inference]
chains = 1
warmup = 30
samples = 30
prior_draws = 5
"""


def _data(tmp_path: Path) -> None:
    """data/: the argon B2 table, a copy without its uncertainty column and a copy with
    one negative uncertainty, all three in a manifest with their real sha256."""
    d = tmp_path / "data"
    d.mkdir()
    lines = ARGON_B2.read_text().splitlines()
    (d / "b2.csv").write_text("\n".join(lines) + "\n")
    no_u = [",".join(c for i, c in enumerate(line.split(",")) if i != 2) for line in lines]
    (d / "b2_no_u.csv").write_text("\n".join(no_u) + "\n")
    row = lines[5].split(",")
    row[2] = "-" + row[2]
    (d / "b2_negative_u.csv").write_text("\n".join([*lines[:5], ",".join(row), *lines[6:]]) + "\n")
    entries = []
    for name in ("b2.csv", "b2_no_u.csv", "b2_negative_u.csv"):
        sha = hashlib.sha256((d / name).read_bytes()).hexdigest()
        units = 'T_K = "K"\nB2_cm3_per_mol = "cm^3/mol"\n'
        if name != "b2_no_u.csv":
            units += 'u_B2_cm3_per_mol = "cm^3/mol"\n'
        entries.append(
            f'[[files]]\npath = "{name}"\nkind = "synthetic"\ntitle = "test copy"\n'
            f'source = "copy of data/argon/b2.csv, edited for tests"\nlicence = "MIT"\n'
            f'script = "tests/test_sweep_scale.py"\nsha256 = "{sha}"\n[files.units]\n{units}'
        )
    (d / "manifest.toml").write_text("\n".join(entries))


def _sweep(tmp_path: Path) -> Path:
    """200 tasks: 20 seeds x 10 prior values, the tenth made bad three ways by seed."""
    _data(tmp_path)
    (tmp_path / "base.toml").write_text(BASE)
    seeds = ", ".join(
        f'{{ label = "{s}", set = {{ inference = {{ seed = {i} }} }} }}'
        for i, s in enumerate(SEEDS)
    )
    priors = ", ".join(
        f'{{ label = "m{m}", set = {{ parameters = {{ epsilon = {{ unit = "K", prior = '
        f'{{ dist = "LogNormal", median = {m}.0, scale = 0.3 }} }} }} }} }}'
        for m in MEDIANS
    )
    sets = {
        "missing column": '{ targets = { B2 = { data = "data/b2_no_u.csv" } } }',
        "negative uncertainty": '{ targets = { B2 = { data = "data/b2_negative_u.csv" } } }',
        "prior out of support": '{ parameters = { sigma = { unit = "angstrom", prior = '
        '{ dist = "Uniform", low = -1.0, high = 4.0 } } } }',
    }
    whens = "".join(
        f'\n[[when]]\nmatch = {{ prior = "bad", seed = {json.dumps(BAD[k])} }}\nset = {v}\n'
        for k, v in sets.items()
    )
    path = tmp_path / "scale.toml"
    path.write_text(
        '[sweep]\nname = "scale"\nbase = "base.toml"\nreport = false\nretries = 2\n\n'
        f'[[axes]]\nname = "seed"\nvalues = [{seeds}]\n\n'
        f'[[axes]]\nname = "prior"\nvalues = [{priors}, {{ label = "bad" }}]\n' + whens
    )
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """A process in its own session (so that its group can be killed), output to ``log``."""
    with log.open("ab") as fh:
        return subprocess.Popen(
            args,
            cwd=cwd,
            env={**os.environ, **WORKER_ENV},
            start_new_session=True,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def _scheduler(port: int, tmp_path: Path) -> subprocess.Popen:
    cmd = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
    return _spawn([*cmd, "--no-dashboard"], tmp_path, tmp_path / "scheduler.log")


def _workers(address: str, tmp_path: Path) -> subprocess.Popen:
    """Two single-threaded worker processes under one nanny process each."""
    cmd = [str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1"]
    return _spawn([*cmd, "--no-dashboard"], tmp_path, tmp_path / "workers.log")


def _stop(proc: subprocess.Popen, grace: float = 0.0) -> None:
    """Stop a process started here: SIGTERM and ``grace`` seconds to close (a dask worker
    then closes its worker processes), then SIGKILL to everything in its session."""
    if grace and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _wait(cond, timeout: float, step: float = 0.2) -> bool:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(step)
    return False


def _journal(root: Path) -> list[dict]:
    path = root / "journal.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _written(events: list[dict]) -> list[str]:
    return [e["task"] for e in events if e["event"] == "written"]


def _summary(root: Path) -> dict[str, dict]:
    with (root / "summary.csv").open() as fh:
        return {r["task"]: r for r in csv.DictReader(fh)}


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Task -> (inode, mtime in ns) of its run file: a rewrite (an atomic rename of a new
    file) changes both."""
    out = {}
    for f in root.glob("*/posterior.nc"):
        st = f.stat()
        out[f.parent.name] = (st.st_ino, st.st_mtime_ns)
    return out


@pytest.mark.slow
def test_200_tasks_with_bad_input_a_killed_worker_and_a_restarted_scheduler(tmp_path):
    """200 tasks, 20 with bad input (a data file without its uncertainty column, a
    negative uncertainty, a prior outside sigma's support); one Dask worker process
    SIGKILLed while it computes a task, then the scheduler SIGKILLed; a new scheduler and
    new workers on the same address, and the sweep run again. Expected (exact counts,
    no tolerance): the interrupted sweep stops with one line naming the lost scheduler and
    how to resume, keeps every run file it wrote complete, and lists the other tasks as
    'not run'; the resumed sweep computes only those; in the end each of the 180 good
    tasks was written exactly once (journal) and each of the 20 bad tasks is 'failed' in
    the summary with its reason, never sent to a worker."""
    path = _sweep(tmp_path)
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    root = runs / "scale"
    bad = {f"{s}-bad": reason for reason, seeds in BAD.items() for s in seeds}
    good = {f"{s}-m{m}" for s in SEEDS for m in MEDIANS}
    assert len(good) == 180 and len(bad) == 20
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_scheduler(port, tmp_path), _workers(address, tmp_path)]
    sweep_cmd = [sys.executable, "-m", "bayesff.cli", "sweep", str(path)]
    sweep_cmd += ["--scheduler", address, "--runs", str(runs), "--reports", str(reports)]
    t0 = time.perf_counter()
    sweep = _spawn([*sweep_cmd, "--no-progress"], tmp_path, tmp_path / "sweep.log")
    procs.append(sweep)
    try:
        # 1. a worker killed while it computes a task (its last event is a start)
        assert _wait(lambda: len(_written(_journal(root))) >= 16, 300), "no tasks written"
        victim: list[dict] = []

        def busy() -> bool:
            last = {}
            for e in _journal(root):
                last[e["pid"]] = e
            started = [e for e in last.values() if e["event"] == "start"]
            victim[:] = started[:1]
            return bool(victim)

        assert _wait(busy, 60, step=0.05)
        os.kill(victim[0]["pid"], signal.SIGKILL)
        print(f"worker killed at {time.perf_counter() - t0:.1f} s")
        # 2. the scheduler killed once more tasks are written (the worker restarted)
        n_before = len(_written(_journal(root)))
        assert _wait(lambda: len(_written(_journal(root))) >= n_before + 30, 300)
        _stop(procs[0])
        print(f"scheduler killed at {time.perf_counter() - t0:.1f} s")
        assert sweep.wait(timeout=120) == 2
        _wait(lambda: procs[1].poll() is not None, 30)  # the workers close on their own
        _stop(procs[1])
    finally:
        for p in procs:
            _stop(p)
    log = (tmp_path / "sweep.log").read_text()
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    assert "Traceback" not in log and len(errors) == 1, log
    assert errors[0].startswith(f"error: --scheduler {address}: lost the connection to the Dask")
    assert "run the same sweep, which computes only the" in errors[0]
    first = _summary(root)
    before = _files(root)
    events_before = _journal(root)
    written_before = set(_written(events_before))
    # what the interrupted sweep wrote is complete, and its summary says what is missing
    # (a worker may still finish its task after the sweep stopped: 'not run' there, and
    # skipped by the resume)
    assert set(before) == written_before and written_before <= good
    finished = {t for t, r in first.items() if r["status"] in ("done", "skipped")}
    assert finished <= written_before and len(finished) >= 40
    assert {t for t, r in first.items() if r["status"] == "not run"} == good - finished
    assert {t for t, r in first.items() if r["status"] == "failed"} == set(bad)
    for f in sorted(root.glob("*/posterior.nc"))[:3]:  # written atomically: a few suffice
        assert runfile.read(f)["posterior"].sizes["draw"] == 30
    # the killed worker's task: started by it, never written by it
    by_victim = [e for e in events_before if e["pid"] == victim[0]["pid"]]
    assert by_victim[-1]["event"] == "start" and by_victim[-1]["task"] == victim[0]["task"]

    # 3. a new scheduler on the same address, new workers; the sweep resumed
    print(f"resumed at {time.perf_counter() - t0:.1f} s")
    procs = [_scheduler(port, tmp_path), _workers(address, tmp_path)]
    try:
        res = run_sweep(
            path, out_root=runs, report_root=reports, scheduler=address, report=False, log=None
        )
    finally:
        for p in procs[::-1]:
            _stop(p, grace=20)
    assert {t for t, s in res.status.items() if s == "skipped"} == written_before
    assert {t for t, s in res.status.items() if s == "done"} == good - written_before
    after = _files(root)
    assert set(after) == good
    assert {t: after[t] for t in before} == before  # nothing finished was written again
    events = _journal(root)
    resumed = events[len(events_before) :]
    assert not {e["task"] for e in resumed if e["event"] in ("start", "written")} & set(before)
    counts = {t: _written(events).count(t) for t in good}
    assert set(counts.values()) == {1}, {t: n for t, n in counts.items() if n != 1}
    assert not {e["task"] for e in events} & set(bad)  # bad tasks never reach a worker
    # a task a worker skips (Dask recomputing a result that died with the killed worker)
    # had been written before
    for i, e in enumerate(events):
        if e["event"] == "skipped":
            assert e["task"] in _written(events[:i]), e
    assert not list(root.glob("*/.*.tmp"))
    final = _summary(root)
    assert {t: r["status"] for t, r in final.items() if t in bad} == dict.fromkeys(bad, "failed")
    for task, reason in bad.items():
        message = final[task]["message"]
        if reason == "missing column":
            assert "b2_no_u.csv" in message and "u_B2_cm3_per_mol" in message, message
        elif reason == "negative uncertainty":
            assert "b2_negative_u.csv" in message and "> 0" in message, message
        else:
            assert "sigma" in message and "support" in message, message


def _never_enumerate(*args, **kwargs):
    raise AssertionError("the sweep's combinations were enumerated before its size was checked")


def test_axes_that_multiply_beyond_the_limit_are_refused_before_any_work(
    tmp_path, capsys, monkeypatch
):
    """Three axes of 1000 values (10^9 tasks) are refused before any combination is formed
    (nothing built, no folder written) with the file, each axis and its size, the product,
    the limit and how to raise it; the same sweep with its axes cut fits, and the limit can
    be raised (Python keyword and --max-tasks)."""
    path = tmp_path / "huge.toml"
    axes = "".join(
        f'\n[[axes]]\nname = "{a}"\nvalues = [{", ".join(f"{{ label = {chr(34)}{a}{i}{chr(34)} }}" for i in range(n))}]\n'  # noqa: E501
        for a, n in (("seed", 1000), ("fluid", 1000), ("form", 1000))
    )
    path.write_text('[sweep]\nname = "huge"\nbase = "base.toml"\n' + axes)
    # refused before any task is formed: enumerating the combinations fails the test
    with monkeypatch.context() as m:
        m.setattr(sweep_module, "_combinations", _never_enumerate)
        with pytest.raises(ProblemError) as err:
            run_sweep(path, out_root=tmp_path / "runs", log=None)
    msg = str(err.value)
    assert msg.startswith(f"{path}: [[axes]]: 1,000,000,000 tasks, more than the limit of 10,000")
    assert "seed: 1,000 x fluid: 1,000 x form: 1,000 = 1,000,000,000" in msg
    assert "--max-tasks N" in msg and "max_tasks=N" in msg
    assert not (tmp_path / "runs").exists()

    small = tmp_path / "small.toml"
    (tmp_path / "base.toml").write_text(BASE)
    _data(tmp_path)
    small.write_text(
        '[sweep]\nname = "small"\nbase = "base.toml"\n[[axes]]\nname = "seed"\nvalues = ['
        + ", ".join(f'{{ label = "s{i}" }}' for i in range(12))
        + "]\n"
    )
    with pytest.raises(ProblemError, match="12 tasks, more than the limit of 10 tasks"):
        expand(small, tmp_path / "runs", max_tasks=10)
    assert len(expand(small, tmp_path / "runs", max_tasks=12)[1]) == 12
    assert main(["sweep", str(small), "--max-tasks", "10", "--runs", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: {small}: [[axes]]: 12 tasks, more than the limit of 10")
    assert not (tmp_path / "r").exists()


def test_an_unreachable_scheduler_is_one_error_naming_it(tmp_path):
    """--scheduler at an address where nothing listens: a BayesffError naming the address
    (distributed's connect timeout set to 1 s here; 30 s by default), nothing run."""
    _data(tmp_path)
    (tmp_path / "base.toml").write_text(BASE)
    path = tmp_path / "one.toml"
    path.write_text(
        '[sweep]\nname = "one"\nbase = "base.toml"\nreport = false\n[[axes]]\nname = "seed"\n'
        'values = [{ label = "s0" }]\n'
    )
    address = f"tcp://127.0.0.1:{_free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(BayesffError, match="cannot reach the Dask scheduler") as err:
            run_sweep(path, out_root=tmp_path / "runs", scheduler=address, log=None)
    assert str(err.value).startswith(f"--scheduler {address}: ")
    assert not list((tmp_path / "runs").glob("one/*/posterior.nc"))


def _no_cluster(*args, **kwargs):
    raise AssertionError("a Dask cluster was started for a sweep with nothing to run")


_SELECTION = """\
[sweep]
name = "sel"
base = "base.toml"
report = false

[[axes]]
name = "potential"
values = [{ label = "lj" }, { label = "mie" }]

[[axes]]
name = "training"
values = [{ label = "b2" }, { label = "rho" }]

[[when]]
match = { potential = "mie" }
set = { inference = { seed = 3 } }

[[when]]
match = { training = "rho", potential = "lj" }
exclude = true
"""


def test_an_only_that_selects_no_task_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """Input audit: ``--only potential=lj --only training=rho``, each label one of its axis's
    but their combination removed by a [[when]] exclude, ran nothing, exited 0 and wrote a
    summary and an index of no task (``--check``: "0 tasks checked", exit 0). Now refused
    before any work (no cluster, no folder), naming the selection and the block; a selection
    whose tasks are all done is not empty and runs as before (nothing to compute)."""
    _data(tmp_path)
    (tmp_path / "base.toml").write_text(BASE)
    path = tmp_path / "sel.toml"
    path.write_text(_SELECTION)
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    monkeypatch.setattr(sweep_module, "_cluster", _no_cluster)
    says = (
        f"{path}: --only potential=lj --only training=rho selects no task: every task with "
        'these labels is excluded by when[1] (match = { training = "rho", potential = "lj" }, '
        "exclude = true); expected labels that select at least one task"
    )
    only = {"potential": ["lj"], "training": ["rho"]}
    with pytest.raises(ProblemError) as err:
        run_sweep(path, out_root=runs, report_root=reports, log=None, only=only)
    assert str(err.value) == says
    with pytest.raises(ProblemError) as err:
        check_sweep(path, only=only)
    assert str(err.value) == says
    argv = ["--only", "potential=lj", "--only", "training=rho", str(path)]
    roots = ["--runs", str(runs), "--reports", str(reports)]
    assert main(["sweep", *argv, *roots]) == 2
    assert main(["sweep", "--check", *argv]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {says}"] * 2
    assert not runs.exists() and not reports.exists()
    # the same labels with another: one task selected; all done (skipped) is not empty (a
    # stand-in for its run file: the summary's row and stamp of a skipped task read it)
    monkeypatch.setattr(sweep_module, "_done", lambda t: t.name == "mie-rho")
    monkeypatch.setattr(sweep_module, "_existing_row", lambda t, *a: {"task": t.name})
    monkeypatch.setattr(sweep_module, "_run_stamp", lambda path: "stamp")
    res = run_sweep(
        path,
        out_root=runs,
        report_root=reports,
        log=None,
        only={"potential": ["lj", "mie"], "training": ["rho"]},
    )
    assert res.status == {"lj-b2": "not run", "mie-b2": "not run", "mie-rho": "skipped"}
    assert {t: r["status"] for t, r in _summary(runs / "sel").items()} == res.status


def test_a_problem_file_given_as_a_sweep_file_says_so(tmp_path, capsys):
    """Input audit: a problem file given to ``bayesff sweep`` or ``bayesff atlas`` was
    refused as "unknown section(s) parameters, potential, problem, ..."; as the reverse
    case (a sweep file given to a problem command) it now says what the file is and which
    command takes it."""
    _data(tmp_path)
    base = tmp_path / "base.toml"
    base.write_text(BASE)
    says = f"{base}: a problem file, not a sweep file: run it with bayesff calibrate {base}"
    for call in (read_sweep, expand, check_sweep):
        with pytest.raises(ProblemError) as err:
            call(base)
        assert str(err.value) == says
    runs = ["--runs", str(tmp_path / "runs"), "--reports", str(tmp_path / "reports")]
    assert main(["sweep", str(base), *runs]) == 2
    assert main(["sweep", "--check", str(base)]) == 2
    assert main(["atlas", str(base), *runs]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {says}"] * 3
    assert not (tmp_path / "runs").exists() and not (tmp_path / "reports").exists()
