"""The process's compiled programs: make_room forgets them before the mappings run out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bayesff import runtime
from bayesff.inference import cache, calibrate, predictive
from bayesff.observables import SECOND_VIRIAL
from bayesff.problem import InferenceSettings
from bayesff.targets import Target

from support import lj_problem

LINUX = Path(f"/proc/{os.getpid()}/maps").exists() and Path("/proc/sys/vm/max_map_count").exists()


def _problem():
    t = np.linspace(150.0, 500.0, 6)
    y = -60.0 + 0.1 * t  # any numbers: the run only has to compile and finish
    target = Target.from_arrays("B2", SECOND_VIRIAL, {"T_K": t}, y, np.full(6, 2.0))
    return lj_problem([target], InferenceSettings(chains=1, warmup=20, samples=20))


@pytest.mark.skipif(not LINUX, reason="counts /proc/<pid>/maps and vm.max_map_count (Linux)")
def test_make_room_forgets_compiled_programs_only_when_mappings_run_short():
    """A process that compiled a calibration keeps its kernel and post-processor; above
    the share of vm.max_map_count make_room forgets both (a study of four n-alkane chain
    models in one process died at 65530 mappings, 2026-11-27), but those of the
    structure about to be compiled; below it nothing. The mapping count falls when they
    go. Reference: /proc/<pid>/maps."""
    from bayesff.model import structure_of

    problem = _problem()
    calibrate(problem, progress=False, log=None)
    assert runtime.make_room(structure_of(problem), share=0.0) is True  # its own stay
    assert cache.cache_info()["size"] >= 1 and len(predictive._POSTPROCESSORS) >= 1
    assert cache.cache_info()["size"] >= 1
    assert len(predictive._POSTPROCESSORS) >= 1
    held = runtime._count_lines(f"/proc/{os.getpid()}/maps")
    assert runtime.make_room(share=1.0) is False  # the limit itself: never reached here
    assert cache.cache_info()["size"] >= 1
    assert runtime.make_room(share=0.0) is True
    assert cache.cache_info()["size"] == 0
    assert len(predictive._POSTPROCESSORS) == 0
    assert runtime._count_lines(f"/proc/{os.getpid()}/maps") < held


def test_make_room_calls_every_registered_cache(monkeypatch):
    """Every registered clearer runs, once; registering twice registers once."""
    calls = []

    def clear(keep=None):
        calls.append(keep)

    monkeypatch.setattr(runtime, "_CLEARERS", [])
    runtime.register_compiled_cache(clear)
    runtime.register_compiled_cache(clear)
    monkeypatch.setattr(runtime, "_map_limit", lambda: 100)
    monkeypatch.setattr(runtime, "_count_lines", lambda path: 50)
    assert runtime.make_room("mine", share=0.4) is True and calls == ["mine"]
    monkeypatch.setattr(runtime, "_count_lines", lambda path: 30)
    assert runtime.make_room(share=0.4) is False and calls == ["mine"]
    monkeypatch.setattr(runtime, "_map_limit", lambda: None)  # no /proc: nothing to do
    assert runtime.make_room(share=0.0) is False and calls == ["mine"]


def _configure_in_a_new_process(tmp_path, **env):
    """``bayesff.configure()`` in a fresh process with ``env`` added, run in ``tmp_path``:
    (return code, stdout lines, stderr)."""
    import subprocess
    import sys

    code = (
        "import bayesff, jax; s = bayesff.configure();"
        "print(s['compilation_cache']); print(jax.config.jax_enable_x64)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), **env},
    )
    return out.returncode, out.stdout.split(), out.stderr


def test_environment_variables_are_read_strictly_and_an_unusable_cache_is_said(tmp_path):
    """Audit, 2026-11-28: BAYESFF_X64=no (or false, off) kept float64, as only "0" was
    read as off; BAYESFF_CACHE_DIR naming a file (or a path under one) turned the
    compilation cache off without a word; a quoted '~/cache' made a folder named ~ in
    the working folder. Now the on/off words are read, another value is an error naming
    the variable, an unusable cache is a warning, and ~ is the home folder."""
    (tmp_path / "afile").write_text("")
    rc, out, err = _configure_in_a_new_process(tmp_path, BAYESFF_X64="no")
    assert rc == 0 and out[1] == "False", err
    rc, out, err = _configure_in_a_new_process(tmp_path, BAYESFF_X64="maybe")
    assert rc != 0 and "BAYESFF_X64: expected one of 1, true, yes, on (on)" in err, err
    # read only when a sampler compiles, so checked by configure, before any work
    rc, out, err = _configure_in_a_new_process(tmp_path, BAYESFF_BACKGROUND_COMPILE="later")
    assert rc != 0 and "BAYESFF_BACKGROUND_COMPILE: expected one of" in err, err
    for bad in ("afile", "afile/cache"):
        rc, out, err = _configure_in_a_new_process(tmp_path, BAYESFF_CACHE_DIR=bad)
        assert rc == 0 and out[0] == "None", (out, err)
        assert f"the compilation cache folder '{bad}' cannot be used" in err, err
    rc, out, err = _configure_in_a_new_process(tmp_path, BAYESFF_CACHE_DIR="~/jaxcache")
    assert rc == 0 and out[0] == str(tmp_path / "jaxcache") and not (tmp_path / "~").exists()
