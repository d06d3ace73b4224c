"""Shared fixtures: a self-contained problem directory that tests can break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bayesff

from support import ARGON_B2, PROBLEM_TOML, write_manifest

# float64 and the persistent compilation cache, as the CLI and calibrate set them: importing
# bayesff changes no global JAX setting, so the tests of forward models ask for float64 here.
bayesff.configure()


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

    from bayesff.inference import kernels, predictive
    from bayesff.targets import _build

    kernels.clear_cache()
    predictive.get_postprocessor.cache_clear()
    _build.cache_clear()
    jax.clear_caches()
    gc.collect()
