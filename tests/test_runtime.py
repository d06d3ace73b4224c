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
