"""Sweeps on Dask: tasks, skipping finished work, faults, invalid tasks (issue 12 item 6).

The sweeps vary the argon LJ B2 problem (models/argon_lj_b2.toml) over seeds and
training ranges with short runs; what is checked is the bookkeeping (run files,
skips, retries, messages), not the posteriors, which tests/test_inference.py checks.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from bayesff import sweep as sweep_module
from bayesff.cli import main
from bayesff.errors import DataError, ProblemError, RunExistsError
from bayesff.sweep import expand, run_sweep

from support import ROOT

pytestmark = pytest.mark.slow

SHORT = "[inference]\nchains = 2\nwarmup = 60\nsamples = 60\nprior_draws = 10\n"


def _sweep_file(
    tmp_path: Path, seeds=(0, 1, 2, 3), extra_values: str = "", settings: str = SHORT
) -> Path:
    values = ", ".join(
        f'{{ label = "s{s}", set = {{ inference = {{ seed = {s} }} }} }}' for s in seeds
    )
    text = (
        f'[sweep]\nname = "tiny"\nbase = "{ROOT / "models" / "argon_lj_b2.toml"}"\n'
        f'report = false\n\n[[axes]]\nname = "seed"\nvalues = [{values}{extra_values}]\n\n'
        + settings
    )
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


def _summary(root: Path) -> dict[str, dict]:
    with (root / "tiny" / "summary.csv").open() as fh:
        return {r["task"]: r for r in csv.DictReader(fh)}


def test_expand_names_tasks_and_merges_by_target_name(tmp_path):
    name, tasks = expand(_sweep_file(tmp_path), tmp_path / "runs")
    assert name == "tiny" and [t.name for t in tasks] == ["s0", "s1", "s2", "s3"]
    assert tasks[2].document["inference"]["seed"] == 2
    assert tasks[2].document["inference"]["samples"] == 60
    assert tasks[0].out == tmp_path / "runs" / "tiny" / "s0" / "posterior.nc"
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'[sweep]\nname = "x"\nbase = "{ROOT / "models" / "argon_lj_b2.toml"}"\n[[axes]]\n'
        'name = "d"\nvalues = [{ label = "a", set = { targets = { B3 = { data = "x" } } } }]\n'
    )
    with pytest.raises(ProblemError, match="no target named 'B3'"):
        expand(bad)
    # a repeated label names the file and the axis (it said only "[[axes]]": input audit)
    bad.write_text(
        f'[sweep]\nname = "x"\nbase = "{ROOT / "models" / "argon_lj_b2.toml"}"\n[[axes]]\n'
        'name = "d"\nvalues = [{ label = "a", set = {} }, { label = "a", set = {} }]\n'
    )
    with pytest.raises(ProblemError, match=r"bad\.toml: axes\[0\]: labels repeat in axis 'd'"):
        expand(bad)
    bad.write_text('[sweep]\nname = "../x"\nbase = "a.toml"\n')
    with pytest.raises(ProblemError, match="not an allowed name"):
        expand(bad)


def test_a_value_or_when_that_sets_inference_overrides_the_sweeps(tmp_path):
    """The sweep's [inference] is every task's default (over the base problem's); a value
    or a [[when]] that sets inference keys wins for its tasks (longer chains for the runs
    that need them), and the other keys stay the sweep's."""
    path = _sweep_file(tmp_path, seeds=(0, 1, 2))
    path.write_text(
        path.read_text().replace(
            '{ label = "s1", set = { inference = { seed = 1 } } }',
            '{ label = "s1", set = { inference = { seed = 1, samples = 90 } } }',
        )
        + '[[when]]\nmatch = { seed = "s2" }\nset = { inference = { warmup = 75 } }\n'
    )
    _, tasks = expand(path, tmp_path / "runs")
    inf = {t.name: t.document["inference"] for t in tasks}
    assert (inf["s0"]["samples"], inf["s0"]["warmup"]) == (60, 60)
    assert (inf["s1"]["samples"], inf["s1"]["warmup"], inf["s1"]["seed"]) == (90, 60, 1)
    assert (inf["s2"]["samples"], inf["s2"]["warmup"], inf["s2"]["chains"]) == (60, 75, 2)
    # the sweep's [inference] still overrides the base problem's own (argon_lj_b2.toml
    # asks for more draws than SHORT)
    assert inf["s0"]["chains"] == 2 and inf["s0"]["prior_draws"] == 10


def test_a_when_that_matches_no_task_is_a_warning(tmp_path):
    """A [[when]] whose match names a combination that an exclude removed (or that no
    axis value gives) has no effect; it was dropped without a word (input audit,
    2026-11-28). A warning, not an error: cutting a sweep's axes down leaves such blocks
    legitimately (models/atlas/atlas_sample.toml)."""
    path = _sweep_file(tmp_path, seeds=(0, 1, 2))
    path.write_text(
        path.read_text()
        + '[[when]]\nmatch = { seed = "s2" }\nexclude = true\n'
        + '[[when]]\nmatch = { seed = "s2" }\nset = { inference = { warmup = 75 } }\n'
        + '[[when]]\nmatch = { seed = "s1" }\nset = { inference = { warmup = 80 } }\n'
    )
    with pytest.warns(UserWarning, match=r"when\[1\] sets values for no task") as record:
        _, tasks = expand(path, tmp_path / "runs")
    assert len(record) == 1  # when[0] excludes s2, when[2] sets s1's warm-up
    assert {t.name: t.document["inference"]["warmup"] for t in tasks} == {"s0": 60, "s1": 80}


def test_sweep_check_prints_an_unused_when_as_one_warning_line(tmp_path, capsys):
    """The CLI showed the warning above as Python does (``/path/bayesff/sweep.py:885:
    UserWarning: ...`` and a line of bayesff's source; audit, 2026-11-28): now one line,
    ``warning: ...``."""
    path = _sweep_file(tmp_path, seeds=(0, 1))
    when = '[[when]]\nmatch = { seed = "s1" }\nset = { inference = { warmup = 75 } }\n'
    drop = '[[when]]\nmatch = { seed = "s1" }\nexclude = true\n'
    path.write_text(path.read_text() + drop + when)
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # pytest's filterwarnings = error would raise it
        assert main(["sweep", str(path), "--check"]) == 0
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if "when[1]" in x]
    assert lines == [f"warning: {path}: when[1] sets values for no task: no task has the "
                     "labels of its match {'seed': 's1'} (or an exclude removed them); it has "
                     "no effect"], err  # fmt: skip
    assert "UserWarning" not in err and "sweep.py" not in err


@pytest.mark.parametrize("where", ["value", "when"])
def test_a_set_of_the_problem_name_is_refused(tmp_path, where):
    """A value's or a [[when]]'s ``set = { problem = { name = ... } }`` passed sweep
    --check and was ignored: the task's problem is named after the sweep and its labels
    (audit, 2026-11-28). Now a ProblemError naming the set."""
    path = _sweep_file(tmp_path, seeds=(0, 1))
    text = path.read_text()
    if where == "value":
        text = text.replace(
            "set = { inference = { seed = 1 } }",
            'set = { inference = { seed = 1 }, problem = { name = "x/../y" } }',
        )
        says = r"axis 'seed' value 's1'\.set: sets problem\.name = 'x/\.\./y', which would be"
    else:
        text += '[[when]]\nmatch = { seed = "s0" }\nset = { problem = { name = "other" } }\n'
        says = r"when\[0\]\.set: sets problem\.name = 'other', which would be ignored"
    path.write_text(text)  # fmt: skip
    with pytest.raises(ProblemError, match=says):
        expand(path, tmp_path / "runs")


def test_a_value_frees_a_fixed_parameter_or_fixes_a_sampled_one(tmp_path):
    """A parameter takes a prior or a value, and a merged set cannot delete the base's
    key: setting { prior } on a fixed parameter gave "give exactly one of 'prior' or
    'value'" (input audit, 2026-11-28). Now the set's one replaces the base's other."""
    base = (ROOT / "models" / "argon_lj_b2.toml").read_text()
    fixed = base.replace('prior = { dist = "Uniform", low = 3.0, high = 4.0 }', "value = 3.4", 1)
    assert fixed != base
    (tmp_path / "fixed.toml").write_text(fixed.replace('"data/', f'"{ROOT}/data/'))
    prior = '{ dist = "Uniform", low = 3.2, high = 3.6 }'
    path = tmp_path / "free.toml"
    path.write_text(
        f'[sweep]\nname = "free"\nbase = "{tmp_path / "fixed.toml"}"\nreport = false\n'
        f'[[axes]]\nname = "sigma"\nvalues = [\n'
        f'  {{ label = "free", set = {{ parameters = {{ sigma = {{ prior = {prior} }} }} }} }},\n'
        f'  {{ label = "fixed", set = {{ parameters = {{ sigma = {{ value = 3.3 }} }} }} }},\n'
        f'  {{ label = "kept", set = {{ parameters = {{ sigma = {{ unit = "angstrom" }} }} }} }},'
        "\n]\n"
    )
    _, tasks = expand(path, tmp_path / "runs")
    problems = {t.name: sweep_module._problem(t) for t in tasks}
    assert problems["free"].free_parameters == ["epsilon", "sigma"]
    assert problems["free"].parameters["sigma"].prior.args == {"low": 3.2, "high": 3.6}
    assert problems["fixed"].free_parameters == ["epsilon"]
    assert problems["fixed"].parameters["sigma"].value == 3.3
    assert problems["kept"].parameters["sigma"].value == 3.4


def test_a_set_replaces_a_targets_train_and_noise_and_a_parameters_prior_whole(tmp_path):
    """A value's ``set`` of ``train``, ``noise`` or a ``prior`` replaces the base's table
    (models/argon_lj_b2.toml: train T_K [110, 500], noise from a column, epsilon LogNormal).
    Merged key by key (an input audit, 2026-11-28), a selection on another column was
    added to the base's, and the task trained on the intersection of the two without a
    word; a noise column could not become a value, nor a prior change its family. A prior
    that does not name its dist still changes only the numbers it names."""
    from bayesff.sweep import _problem

    extra = (
        ', { label = "p", set = { targets = { B2 = { '
        "train = { B2_GERG2008_cm3_per_mol = [-100.0, 0.0] }, "
        "noise = { value = 0.5 } } }, parameters = { epsilon = { prior = "
        '{ dist = "TruncatedNormal", loc = 120.0, scale = 10.0, low = 0.0, high = 1000.0 } }, '
        "sigma = { prior = { high = 4.5 } } } } }"
        ', { label = "q", set = { parameters = '
        '{ epsilon = { prior = { dist = "LogNormal", median = 150.0 } } } } }'
    )
    _, tasks = expand(_sweep_file(tmp_path, seeds=(0,), extra_values=extra), tmp_path / "runs")
    doc = {t.name: t.document for t in tasks}["p"]
    b2 = doc["targets"][0]
    assert b2["train"] == {"B2_GERG2008_cm3_per_mol": [-100.0, 0.0]}  # not also T_K
    assert b2["noise"] == {"value": 0.5}
    assert doc["parameters"]["epsilon"]["prior"] == {
        "dist": "TruncatedNormal",
        "loc": 120.0,
        "scale": 10.0,
        "low": 0.0,
        "high": 1000.0,
    }
    # a prior without dist changes the base's numbers (sigma: Uniform(3, 4) angstrom)
    assert doc["parameters"]["sigma"]["prior"] == {"dist": "Uniform", "low": 3.0, "high": 4.5}
    # and the task builds (before, the merged noise and prior were refused)
    assert _problem({t.name: t for t in tasks}["p"]).targets[0].train.sum() > 0
    # the same family restated keeps the base's scale (found by a review of this change)
    q = {t.name: t.document for t in tasks}["q"]
    assert q["parameters"]["epsilon"]["prior"] == {
        "dist": "LogNormal",
        "median": 150.0,
        "scale": 0.3,
    }


def test_tasks_of_one_structure_are_padded_to_its_largest_row_counts(tmp_path):
    """Tasks that differ in their training rows (110-500 K: 27 rows; 200-500 K: fewer)
    have one structure up to row counts; every batch of the group is sent the group's
    largest row counts (``pad_rows`` in the worker's spec), so a worker compiles one
    sampler for both (benchmarks/RESULTS.md: a new row count cost a task 46-75 s).
    Reference: the row counts of the problems themselves (problem.targets[].train)."""
    from bayesff.sweep import _batches, _prepare, _spec

    extra = (
        ', { label = "narrow", set = { targets = { B2 = { train = { T_K = [200.0, 500.0] } } } } }'
    )
    _, tasks = expand(_sweep_file(tmp_path, seeds=(0,), extra_values=extra), tmp_path / "runs")
    built: dict = {}
    tasks = _prepare(tasks, print, built)
    rows = [int(built[t.name].targets[0].train.sum()) for t in tasks]
    assert rows[0] > rows[1] > 0, rows
    batches = _batches(tasks, 2, built)
    assert len(batches) == 2  # NUTS on a CPU: one task per batch
    specs = [_spec(t, tmp_path / "reports") for b in batches for t in b]
    assert [sp["pad_rows"]["train"] for sp in specs] == [{"B2": rows[0]}] * 2
    # workers on a GPU (a login node's sweep, say): the group is one batch per worker
    assert [len(b) for b in _batches(tasks, 1, built, backend="gpu")] == [2]
    assert [len(b) for b in _batches(tasks, 1, built, backend="cpu")] == [1, 1]


def test_sweep_runs_four_tasks_and_skips_them_the_second_time(tmp_path, monkeypatch):
    """4 tasks on a 2-worker LocalCluster write 4 run files; an invalid task (a prior outside
    its support) fails with a clear message in the summary while the others finish; a
    re-run recomputes nothing (modification times unchanged) and takes the finished tasks'
    summary rows from the last summary.csv without reading their run files, except for a
    run file written since (its row is computed from it)."""
    bad = ', { label = "bad", set = { parameters = { sigma = { unit = "angstrom", prior = { dist = "Uniform", low = -1.0, high = 4.0 } } } } }'  # noqa: E501
    path = _sweep_file(tmp_path, extra_values=bad)
    runs = tmp_path / "runs"
    res = run_sweep(path, out_root=runs, report_root=tmp_path / "reports", workers=2, log=None)
    assert {t: s for t, s in res.status.items()} == {
        "s0": "done",
        "s1": "done",
        "s2": "done",
        "s3": "done",
        "bad": "failed",
    }
    files = {t: runs / "tiny" / t / "posterior.nc" for t in ("s0", "s1", "s2", "s3")}
    assert all(f.is_file() for f in files.values())
    rows = _summary(runs)
    assert "sigma" in rows["bad"]["message"] and "support" in rows["bad"]["message"]
    assert float(rows["s1"]["epsilon_K_mean"]) > 100
    assert (tmp_path / "reports" / "tiny" / "index.html").is_file()
    mtimes = {t: f.stat().st_mtime_ns for t, f in files.items()}
    again = run_sweep(path, out_root=runs, report_root=tmp_path / "reports", workers=2, log=None)
    assert [again.status[t] for t in files] == ["skipped"] * 4
    assert {t: f.stat().st_mtime_ns for t, f in files.items()} == mtimes
    first = {r["task"]: r for r in res.rows}
    for r in again.rows:
        if r["task"] in files:
            assert {**r, "status": "done"} == first[r["task"]], r["task"]
    # a third run reads no run file whole; one rewritten since is read (only that one)
    read, calls = sweep_module.runfile.read, []
    monkeypatch.setattr(
        sweep_module.runfile, "read", lambda p, **k: calls.append(p) or read(p, **k)
    )
    run_sweep(path, out_root=runs, report_root=tmp_path / "reports", workers=2, log=None)
    assert calls == []
    dt = read(files["s0"])
    dt.attrs["created_utc"] = "2000-01-01T00:00:00+00:00"
    sweep_module.runfile.write(dt, files["s0"], force=True)
    run_sweep(path, out_root=runs, report_root=tmp_path / "reports", workers=2, log=None)
    assert [Path(c).name for c in calls] == ["posterior.nc"] and Path(calls[0]).parent.name == "s0"


def test_only_runs_the_selected_tasks_and_lists_the_others_as_not_run(tmp_path):
    """--only seed=s1 runs s1 alone; s0 is "not run" (no run file) with the selection named;
    a later run without --only computes s0 and skips s1. An axis or label the sweep does not
    have is refused before any work, naming what it has."""
    path = _sweep_file(tmp_path, seeds=(0, 1))
    runs = tmp_path / "runs"
    for bad, says in (({"seeds": ["s1"]}, "its axes are seed"), ({"seed": ["s9"]}, "'s9'")):
        with pytest.raises(ProblemError, match=says):
            run_sweep(path, out_root=runs, workers=1, log=None, only=bad)
    assert not (runs / "tiny").exists()
    lines = []
    res = run_sweep(
        path,
        out_root=runs,
        report_root=tmp_path / "r",
        workers=1,
        log=lambda *a, **k: lines.append(" ".join(map(str, a))),
        only={"seed": ["s1"]},
    )
    assert res.status == {"s0": "not run", "s1": "done"}
    assert "2 tasks, 1 to run, 0 done before, 0 invalid, 1 not selected" in lines[0]
    rows = _summary(runs)
    assert rows["s0"]["status"] == "not run" and "--only seed=s1" in rows["s0"]["message"]
    assert rows["s0"]["run"] == "" and not (runs / "tiny" / "s0" / "posterior.nc").exists()
    again = run_sweep(path, out_root=runs, report_root=tmp_path / "r", workers=1, log=None)
    assert again.status == {"s0": "done", "s1": "skipped"}


def _start(path: Path, tmp_path: Path, workers: int = 2) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "bayesff.cli",
        "sweep",
        str(path),
        "--runs",
        str(tmp_path / "runs"),
        "--reports",
        str(tmp_path / "reports"),
        "--workers",
        str(workers),
        "--no-progress",
        "--no-report",
    ]
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(cond, timeout: float) -> bool:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.5)
    return False


def test_a_sweep_killed_in_the_middle_resumes_with_only_the_missing_tasks(tmp_path):
    """Kill the whole sweep (SIGKILL to its process group) once some run files exist; the
    re-run leaves those files untouched and writes the others."""
    path = _sweep_file(tmp_path, seeds=range(12))
    out = tmp_path / "runs" / "tiny"
    proc = _start(path, tmp_path, workers=2)
    try:
        assert _wait(lambda: len(list(out.glob("*/posterior.nc"))) >= 2, 600)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    done = {f: f.stat().st_mtime_ns for f in out.glob("*/posterior.nc")}
    # killed within a poll (0.5 s) of the second file: two workers cannot write the other
    # ten in it, even if a loaded machine delays the poll several times over
    assert 2 <= len(done) < 12, len(done)
    res = run_sweep(
        path,
        out_root=tmp_path / "runs",
        report_root=tmp_path / "reports",
        workers=2,
        report=False,
        log=None,
    )
    assert all(res.status[f.parent.name] == "skipped" for f in done)
    assert sum(s == "done" for s in res.status.values()) == 12 - len(done)
    assert {f: f.stat().st_mtime_ns for f in done} == done
    assert len(list(out.glob("*/posterior.nc"))) == 12
    # a temporary file of a killed writer is removed when its task is written again; one
    # of a task that was already complete may stay (its pid is dead, the next write of
    # that path removes it) but never replaces the run file
    stale = [p for p in out.glob("*/.*.tmp") if p.parent / "posterior.nc" not in done]
    assert not stale


def _worker_pids(root_pid: int) -> list[int]:
    import psutil

    procs = psutil.Process(root_pid).children(recursive=True)
    return [p.pid for p in procs if "spawn_main" in " ".join(p.cmdline())]


def _busy_worker(root_pid: int, cpu_s: float) -> int | None:
    """A worker process that has used at least ``cpu_s`` of CPU (past its imports)."""
    import psutil

    for pid in _worker_pids(root_pid):
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        if t.user + t.system >= cpu_s:
            return pid
    return None


def test_a_killed_worker_loses_only_its_task_which_dask_runs_again(tmp_path):
    """SIGKILL one worker process while it samples: Dask restarts it and retries the task;
    the sweep ends with every run file complete. Two tasks, one per worker, each warming
    up for 20000 iterations (~6 s; warm-up draws are not kept, so the files stay small): a
    tiny task now ends before a fixed wait could catch it (CI found that). The worker is
    killed once it has used 4 s of CPU, past its imports (~2 s)."""
    long = SHORT.replace("warmup = 60", "warmup = 20000")
    # two tasks, one per worker: the killed one's task is run again (four took 66 s alone
    # and 130 s beside another test on 2 cores)
    path = _sweep_file(tmp_path, seeds=range(2), settings=long)
    proc = _start(path, tmp_path, workers=2)
    try:
        assert _wait(lambda: len(_worker_pids(proc.pid)) >= 2, 120), "no workers started"
        busy: list[int] = []

        def found() -> bool:
            pid = _busy_worker(proc.pid, 4.0)
            busy.extend([] if pid is None else [pid])
            return bool(busy)

        assert _wait(found, 120), "no task started"
        os.kill(busy[0], signal.SIGKILL)
        out, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == 0, out
    files = list((tmp_path / "runs" / "tiny").glob("*/posterior.nc"))
    assert len(files) == 2, out
    from bayesff import runfile

    for f in files:
        assert runfile.read(f)["posterior"].sizes["draw"] == 60


def test_slurm_cluster_is_constructed_from_the_jobqueue_config():
    """--cluster slurm: tested as far as its construction without a batch system (issue 12
    notes): the job script asks SLURM for the configured resources and starts one worker."""
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is the optional 'hpc' extra")
    import dask

    from bayesff.sweep import slurm_cluster

    cfg = {
        "jobqueue.slurm.cores": 2,
        "jobqueue.slurm.memory": "4GB",
        "jobqueue.slurm.walltime": "01:00:00",
        "jobqueue.slurm.queue": "short",
        # any free dashboard port: another test's cluster may hold 8787 (CI, 2 workers)
        "jobqueue.slurm.scheduler-options": {"dashboard_address": ":0"},
    }
    with dask.config.set(cfg):
        cluster = slurm_cluster()
        try:
            script = cluster.job_script()
        finally:
            cluster.close()
    assert "#SBATCH" in script and "-p short" in script and "distributed" in script
    assert "intra_op_parallelism_threads=1" in script


def test_a_sweep_takes_gpu_memory_on_demand_in_every_process(monkeypatch):
    """On an H200 the sweep's own process, building the problems, took JAX's default 75 %
    of the card and its worker logged a CUDA out-of-memory error for every smaller
    allocation it retried (benchmarks/RESULTS.md Part N). run_sweep now sets
    XLA_PYTHON_CLIENT_PREALLOCATE=false unless the user set it, and the LocalCluster's
    workers inherit it; they report the backend their batches are sized for, configured
    first (asking JAX for its backend starts it, and the CPU's devices are fixed then)."""
    import os

    import bayesff.sweep as sw
    from bayesff import runtime

    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    sw._gpu_memory_on_demand()
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # the user's choice stands
    sw._gpu_memory_on_demand()
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    client, cluster = sw._cluster(None, 1, None)
    try:
        (seen,) = client.run(os.environ.get, "XLA_PYTHON_CLIENT_PREALLOCATE").values()
        backend = client.submit(sw._worker_backend, pure=False).result()
        # configured before its backend started, as for a batch (float64, its devices)
        (state,) = client.run(runtime.settings).values()
    finally:
        client.close()
        cluster.close()
    assert seen == "false"
    assert backend == "cpu"  # CI has no GPU
    assert state["x64"] is True and state["host_devices"] == 1, state


def test_a_connection_closed_while_gathering_is_a_lost_scheduler(monkeypatch):
    """A scheduler killed while a batch's result is being gathered surfaces as
    CommClosedError, not CancelledError (seen in a loaded run of tests/test_sweep_scale.py:
    one task reported 'failed' with 'Connection reset by peer'). It must count as the lost
    scheduler: the batch already collected stays done, every other task is 'not run'
    (none 'failed'), and the loop says why. Dask, the batching and the task specs are
    replaced by stand-ins here; test_sweep_scale.py does it with real processes."""
    from distributed.comm.core import CommClosedError

    import bayesff.sweep as sw

    tasks = [SimpleNamespace(name=f"t{k}") for k in range(4)]
    done_rows = [{"task": "t0", "status": "done"}, {"task": "t1", "status": "done"}]
    reset = CommClosedError("in <TCP (closed) ConnectionPool.gather>: Connection reset by peer")

    class Future:
        def __init__(self, rows=None, error=None):
            self.rows, self.error = rows, error

        def result(self):
            if self.error is not None:
                raise self.error
            return self.rows

    queue = [Future(rows=done_rows), Future(error=reset)]

    class Client:
        status = "connecting"

        def scheduler_info(self):
            return {"workers": {"w": {}}}

        def submit(self, fn, *args, **kwargs):
            return Future(rows="cpu") if fn is sw._worker_backend else queue.pop(0)

        def close(self):
            pass

    monkeypatch.setattr(sw, "_cluster", lambda *a: (Client(), None))
    monkeypatch.setattr(sw, "_batches", lambda todo, n, built, backend: [todo[:2], todo[2:]])
    monkeypatch.setattr(sw, "_spec", lambda t, *a: {"name": t.name})
    monkeypatch.setattr(sw, "as_completed", list)
    monkeypatch.setattr(sw, "_done", lambda t: False)
    res = sw.SweepResult("s", tasks)
    lost = sw._run_on_dask(tasks, res, {}, (None, 1, None), 0, False, Path("r"), False,
                           lambda *a: None, None)  # fmt: skip
    assert (
        lost
        == "status connecting: in <TCP (closed) ConnectionPool.gather>: Connection reset by peer"
    )
    assert res.status == {"t0": "done", "t1": "done", "t2": "not run", "t3": "not run"}


def test_a_lost_scheduler_counts_only_the_selected_tasks_it_did_not_run(tmp_path):
    """With --only, the closing line and a lost scheduler's message count the selected tasks
    that were not run apart from the tasks --only left out (before, both were "not run")."""
    import bayesff.sweep as sw

    res = sw.SweepResult("s", [SimpleNamespace(name=f"t{k}") for k in range(5)])
    res.status = {"t0": "done", "t1": "not run", "t2": "not run", "t3": "not run", "t4": "done"}
    res.messages = {"t1": "not run: the connection to the Dask scheduler was lost"}
    res.messages |= {t: "not selected (--only form=a)" for t in ("t2", "t3")}
    res.summary = tmp_path / "summary.csv"
    lines = []
    with pytest.raises(sw.SweepInterrupted) as e:
        sw._end(res, tmp_path / "journal.jsonl", "gone", None, lines.append)
    assert "2 done, 0 skipped, 0 failed, 1 not run, 2 not selected" in lines[0]
    assert "1 of the 3 selected tasks were not run" in str(e.value)
    assert "computes only the 1 tasks not run" in str(e.value)
    end = json.loads((tmp_path / "journal.jsonl").read_text().splitlines()[-1])
    assert (end["not_run"], end["not_selected"]) == (1, 2)


def test_a_setting_added_since_a_run_matches_its_default_only():
    """A run file stamped before InferenceSettings had ``adapt_mass`` (added 2026-11-25;
    its default is the behaviour before) counts as done for a task that leaves it at its
    default, not for one that sets it; any other difference, a setting the package no
    longer has, or a stamp that is not one, does not count."""
    from bayesff.settings import InferenceSettings
    from bayesff.sweep import same_settings

    now = repr(InferenceSettings(init="laplace", prior_draws=250))
    before = now.replace(", adapt_mass=True", "")
    assert before != now
    assert same_settings(before, now)
    assert not same_settings(before, repr(InferenceSettings(init="laplace", adapt_mass=False)))
    assert not same_settings(now.replace("seed=0", "seed=1"), now)
    assert not same_settings(now.replace(")", ", retired=3)"), now)
    assert not same_settings("junk", now) and not same_settings("", now)


def test_a_run_recording_the_legacy_fingerprint_is_still_done(tmp_path):
    """Run files written before the fingerprint hashed the canonical problem (2026-11-27)
    record the hash of the task's text: a sweep finds them done through
    Problem.legacy_fingerprint, and runs a task whose file records neither again."""
    path = _sweep_file(tmp_path, seeds=(0,))
    runs = tmp_path / "runs"
    reports = tmp_path / "reports"
    done = run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None)
    assert done.status == {"s0": "done"}
    out = runs / "tiny" / "s0" / "posterior.nc"
    (task,) = expand(path, runs)[1]
    problem = sweep_module._problem(task)
    assert problem.legacy_fingerprint() != problem.fingerprint()
    for recorded, status in (
        (problem.legacy_fingerprint(), "skipped"),
        ("0" * 64, "done"),
    ):
        dt = sweep_module.runfile.read(out)
        dt.attrs["problem_fingerprint"] = recorded
        sweep_module.runfile.write(dt, out, force=True)
        res = run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None, force=True)
        assert res.status == {"s0": status}, recorded
    assert sweep_module.runfile.read_attrs(out)["problem_fingerprint"] == problem.fingerprint()


def test_a_run_file_of_other_settings_or_problem_is_replaced_only_with_force(tmp_path):
    """A task whose run file was made with other settings (here the seed) or from another
    problem is not run again silently: without force the sweep stops before any sampling,
    naming the file and what changed, and leaves the file as it was; with force it is
    replaced and the log says so. Before (input audit, 2026-11-30) a changed seed replaced
    the run file and the sweep said only "1 done", while ``bayesff calibrate`` refused."""
    path = _sweep_file(tmp_path, seeds=(0,))
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None)
    out = runs / "tiny" / "s0" / "posterior.nc"
    before = out.read_bytes()
    changed = tmp_path / "sweep_seed7.toml"
    text = path.read_text()
    assert "seed = 0" in text
    changed.write_text(text.replace("seed = 0", "seed = 7"))
    says = r"s0: .*posterior\.nc: made with other settings: seed 0 -> 7"
    with pytest.raises(RunExistsError, match=says) as e:
        run_sweep(changed, out_root=runs, report_root=reports, workers=1, log=None)
    assert out.read_bytes() == before and "--force" in str(e.value)
    assert "\n" not in str(e.value)  # one line, as every error
    # another problem: its fingerprint is not the task's
    dt = sweep_module.runfile.read(out)
    dt.attrs["problem_fingerprint"] = "0" * 64
    sweep_module.runfile.write(dt, out, force=True)
    with pytest.raises(RunExistsError, match="made from another problem"):
        run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None)
    lines = []
    res = run_sweep(
        changed,
        out_root=runs,
        report_root=reports,
        workers=1,
        log=lambda *a, **k: lines.append(" ".join(map(str, a))),
        force=True,
    )
    assert res.status == {"s0": "done"}
    assert any(line.startswith("replacing 1 run file") for line in lines)
    assert sweep_module.runfile.read_attrs(out)["sweep_settings"].count("seed=7") == 1
    # a file that is no run file is never replaced, --force or not (audit, 2026-11-30: it
    # was replaced with --force, where calibrate --force refuses it)
    out.write_text("precious user data\n")
    for force in (False, True):
        with pytest.raises(RunExistsError, match=r"not a bayesff run file .*even with --force"):
            run_sweep(
                changed, out_root=runs, report_root=reports, workers=1, log=None, force=force
            )
    assert out.read_text() == "precious user data\n"


def test_a_missing_task_report_is_written_and_no_output_leaves_its_folder(tmp_path):
    """Audit, 2026-11-30. (1) A worker killed between writing a task's run file and its
    report left the task without a report for good: every later sweep skipped the task
    as done. Here the report is deleted after a sweep; the next sweep skips the task and
    writes its report again. (2) A run or report folder that is a symbolic link out of
    --runs / --reports made the sweep write there (calibrate and report refuse it): now
    refused before any work, the file outside untouched."""
    from bayesff.io import OutputError

    path = _sweep_file(tmp_path, seeds=(0,))
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None, report=True)
    page = reports / "tiny" / "s0" / "index.html"
    assert page.is_file()
    shutil.rmtree(page.parent)
    lines = []
    res = run_sweep(
        path, out_root=runs, report_root=reports, workers=1, log=lines.append, report=True
    )
    assert res.status == {"s0": "skipped"} and page.is_file()
    assert any("its report was missing and was written" in line for line in lines)
    assert _summary(runs)["s0"]["report"] == str(page)  # linked in this sweep's summary
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = ((tmp_path / "runs2", "sweep run folder"), (tmp_path / "rep2", "sweep report folder"))
    for root, what in linked:
        root.mkdir()
        (root / "tiny").symlink_to(elsewhere, target_is_directory=True)
        kw = {"out_root": runs, "report_root": reports}
        kw["out_root" if what.endswith("run folder") else "report_root"] = root
        with pytest.raises(OutputError, match=rf"{what} .* outside its output folder"):
            run_sweep(path, workers=1, log=None, **kw)
        assert list(elsewhere.iterdir()) == []


def test_two_axes_of_one_name_are_refused(tmp_path):
    """Two [[axes]] named alike: the later used to replace the earlier's values, settings and
    labels in every task, so that tasks "a-c" and "b-c" were the same problem under two
    names (found by an input audit). Refused before any task is made, naming both axes."""
    base = ROOT / "models" / "argon_lj_b2.toml"
    axis = '[[axes]]\nname = "pot"\nvalues = [{{ label = "{}" }}, {{ label = "{}" }}]\n'
    text = (
        f'[sweep]\nname = "x"\nbase = "{base}"\n\n' + axis.format("a", "b") + axis.format("c", "d")
    )
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(ProblemError, match=r"'pot' is used by axes\[0\] and axes\[1\]") as e:
        expand(path)
    assert "axes[1].name" in str(e.value)


def test_a_bad_atlas_table_is_refused_before_any_task_runs(tmp_path):
    """[sweep.atlas] used to be read only when the page was written, after every task had
    sampled (an input audit): a missing fluids table, an axis name that is not one of the
    sweep's, and a fluids table that is not UTF-8 are now refused by expand, which runs
    before any task."""
    base = ROOT / "models" / "argon_lj_b2.toml"
    fluids = ROOT / "data" / "atlas" / "fluids.csv"
    axes = (
        '[[axes]]\nname = "fluid"\nvalues = [{ label = "argon" }]\n'
        '[[axes]]\nname = "potential"\nvalues = [{ label = "lj" }]\n'
    )
    bad_utf8 = tmp_path / "latin1.csv"
    bad_utf8.write_bytes(fluids.read_bytes() + "\nx\u00e9,1,1\n".encode("latin-1"))
    for atlas, says in (
        (f'fluids = "{tmp_path / "nope.csv"}"', "fluids table not found"),
        (f'fluids = "{fluids}"\nfluid_axis = "flud"', "'flud' is not an axis of the sweep"),
        (f'fluids = "{bad_utf8}"', "not UTF-8 text"),
    ):
        path = tmp_path / "sweep.toml"
        path.write_text(f'[sweep]\nname = "x"\nbase = "{base}"\n[sweep.atlas]\n{atlas}\n\n{axes}')
        with pytest.raises((ProblemError, DataError), match=says):
            expand(path)
    path.write_text(
        f'[sweep]\nname = "x"\nbase = "{base}"\n[sweep.atlas]\nfluids = "{fluids}"\n\n{axes}'
    )
    assert [t.name for t in expand(path)[1]] == ["argon-lj"]


def test_a_sweep_and_an_atlas_replace_only_pages_a_sweep_wrote(tmp_path):
    """A foreign index.html in reports/SWEEP or summary.csv in runs/SWEEP (a user's own
    website or table) is refused before any task runs, naming the file; so are a foreign
    atlas.csv and fluid page for ``bayesff atlas``. Before (input audit, 2026-11-28) both
    were replaced without a word, while ``bayesff report`` already refused such a folder
    (docs/reliability.md). The committed atlas's files are recognised as a sweep's."""
    from bayesff.io import OutputError
    from bayesff.sweep import build_atlas

    path = _sweep_file(tmp_path, seeds=(0,))
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    (reports / "tiny").mkdir(parents=True)
    (reports / "tiny" / "index.html").write_text("<html>MY OWN WEBSITE</html>")
    with pytest.raises(OutputError, match=r"index\.html there is not one that a bayesff sweep"):
        run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None)
    assert not (runs / "tiny" / "s0").exists()  # nothing ran
    (reports / "tiny" / "index.html").unlink()
    (runs / "tiny").mkdir(parents=True, exist_ok=True)
    (runs / "tiny" / "summary.csv").write_text("my,own,csv\n1,2,3\n")
    with pytest.raises(OutputError, match=r"summary\.csv there is not one"):
        run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None)
    assert (runs / "tiny" / "summary.csv").read_text() == "my,own,csv\n1,2,3\n"
    # the atlas page: a foreign atlas.csv or fluid page is refused before any problem is built
    atlas = ROOT / "models" / "atlas" / "atlas_sample.toml"
    for name in ("atlas.csv", "fluid_argon.html"):
        folder = tmp_path / "atlas_reports" / name / "atlas"
        folder.mkdir(parents=True)
        (folder / name).write_text("precious\n")
        with pytest.raises(OutputError, match=name.replace(".", r"\.")):
            with warnings.catch_warnings():  # the sample's [[when]] blocks of other fluids
                warnings.filterwarnings("ignore", ".*sets values for no task")
                build_atlas(atlas, out_root=runs, report_root=folder.parent, log=None)
        assert (folder / name).read_text() == "precious\n"
    from bayesff.report.sweep import _ours, check_sweep_outputs

    committed = ROOT / "reports" / "atlas"
    for name in ("index.html", "tasks.html", "atlas.csv", "atlas.json", "fluid_argon.html"):
        assert _ours(committed / name), name
    # a single problem's report is not a sweep's page, and a user's own fluid_notes.html
    # beside an atlas is not one the atlas writes (a review of this change)
    assert not _ours(ROOT / "reports" / "argon_lj_b2" / "index.html")
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "fluid_notes.html").write_text("<html>my notes</html>")
    check_sweep_outputs(folder, None, atlas=True, fluids=["argon", "neon"])
    (folder / "fluid_neon.html").write_text("<html>my notes</html>")
    with pytest.raises(OutputError, match=r"fluid_neon\.html"):
        check_sweep_outputs(folder, None, atlas=True, fluids=["argon", "neon"])


def test_a_page_made_from_another_run_folder_is_not_replaced(tmp_path, monkeypatch):
    """A sweep's index page records the run folder it was made from, and a sweep or
    ``bayesff atlas`` whose run files are elsewhere refuses to replace it, before any
    work, naming both folders. Before, a slice of the atlas run with ``--runs
    /tmp/x`` replaced the committed page of 126 runs by one of 2 runs and 124 shown as
    missing (2026-11-29). The same folder given relative or absolute is the same."""
    from bayesff.io import OutputError
    from bayesff.report.sweep import check_sweep_outputs, runs_tag
    from bayesff.sweep import build_atlas

    path = _sweep_file(tmp_path, seeds=(0,))
    runs, reports = tmp_path / "runs", tmp_path / "reports"
    run_sweep(path, out_root=runs, report_root=reports, workers=1, log=None)
    page = reports / "tiny" / "index.html"
    before = page.read_text()
    assert runs_tag(runs / "tiny") in before
    other = tmp_path / "elsewhere"
    with pytest.raises(OutputError, match=r"made from the run files in .*runs.tiny") as e:
        run_sweep(path, out_root=other, report_root=reports, workers=1, log=None)
    assert str(page) in str(e.value) and "elsewhere" in str(e.value)
    assert page.read_text() == before and not (other / "tiny" / "s0").exists()
    # the same run folder again, relative this time: accepted, the task is skipped
    monkeypatch.chdir(tmp_path)
    again = run_sweep(path, out_root="runs", report_root=reports, workers=1, log=None)
    assert again.status == {"s0": "skipped"}
    assert runs_tag(Path("runs") / "tiny") in page.read_text()
    check_sweep_outputs(reports / "tiny", None, atlas=False, runs=runs / "tiny")
    # an atlas page made from another folder: refused before any problem is built
    folder = tmp_path / "atlas_reports" / "atlas"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(
        f'<html><head><meta name="generator" content="bayesff">{runs_tag(runs / "atlas")}'
    )
    atlas = ROOT / "models" / "atlas" / "atlas_sample.toml"
    with pytest.raises(OutputError, match=r"index\.html there was made from the run files"):
        with warnings.catch_warnings():  # the sample's [[when]] blocks of other fluids
            warnings.filterwarnings("ignore", ".*sets values for no task")
            build_atlas(atlas, out_root=other, report_root=folder.parent, log=None)
    # a page written before the tag is replaced as before
    (folder / "index.html").write_text('<html><meta name="generator" content="bayesff">')
    check_sweep_outputs(folder, None, atlas=True, runs=other / "atlas")
