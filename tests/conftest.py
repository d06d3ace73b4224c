"""Shared fixtures: a self-contained problem directory that tests can break."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import hypothesis.configuration
import pytest

import bayesff
from bayesff.runtime import usable_cores

from support import ARGON_B2, PROBLEM_TOML, write_manifest

# float64 and the persistent compilation cache, as the CLI and calibrate set them: importing
# bayesff changes no global JAX setting, so the tests of forward models ask for float64 here.
# Each pytest-xdist worker gets its share of the cores as JAX devices, as a sweep's Dask
# workers do (with -n 2 on 2 cores: one each; measured once each, the suite took 960 s
# with two devices per worker and 706 s with one). The split of the chains over devices
# is tested in a new process of its own
# (tests/test_inference.py::test_chains_split_over_cpu_devices).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
bayesff.configure(
    host_devices=None
    if "BAYESFF_HOST_DEVICES" in os.environ
    else max(1, usable_cores() // _WORKERS)
)

# Hypothesis keeps its example database and collected constants in ./.hypothesis, which is
# the repository when the suite runs from its root: tests never write into the repository
hypothesis.configuration.set_hypothesis_home_dir(
    Path(tempfile.gettempdir()) / f"bayesff-tests-hypothesis-{os.getuid()}"
)


@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler for the test, as in a new ``bayesff`` process (an
    earlier test in this worker, a Dask cluster, may have left another), restored after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def problem_dir(tmp_path: Path) -> Path:
    """tmp/models/toy.toml + tmp/data/b2.csv (a copy of the argon data) + manifest."""
    (tmp_path / "models").mkdir()
    (tmp_path / "data").mkdir()
    shutil.copy(ARGON_B2, tmp_path / "data" / "b2.csv")
    write_manifest(tmp_path / "data")
    (tmp_path / "models" / "toy.toml").write_text(PROBLEM_TOML)
    return tmp_path


@pytest.fixture(autouse=True, scope="module")
def _fresh_compiled_state():
    """Each test module starts without the compiled functions of the modules before it.

    A worker process of the suite runs hundreds of calibrations; their kernels,
    post-processors, built forward models and JAX's in-memory executables would
    otherwise all stay alive until the end (the persistent cache on disk is kept).
    """
    yield
    import gc

    import jax

    from bayesff.inference import cache, predictive
    from bayesff.targets import _build

    cache.clear_cache()
    predictive.clear_postprocessors()
    _build.cache_clear()
    jax.clear_caches()
    gc.collect()


#: The longest tests of CI (durations of the clean-clone run of 2026-11-25: 281, 135, 123,
#: 103, 96 and 94 s). They run first, so that no xdist worker ends the run alone with one
#: of them (that tail cost about 5 minutes of the 30-minute budget); the other tests keep
#: their order (the sort is stable).
_LONGEST_FIRST = (
    "test_sweep_scale.py::",
    "test_sweep.py::test_a_killed_worker",
    "test_public_api.py::test_pip_install",
    "test_madin_2cljq.py::test_miniature",
    "test_likelihoods.py::test_refining_the_grid_keeps",
    "test_sweep.py::test_a_sweep_killed",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next(
            (i for i, key in enumerate(_LONGEST_FIRST) if key in item.nodeid),
            len(_LONGEST_FIRST),
        )

    items.sort(key=rank)
