"""Shared fixtures: a self-contained problem directory that tests can break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import ARGON_B2, PROBLEM_TOML, write_manifest


@pytest.fixture
def problem_dir(tmp_path: Path) -> Path:
    """tmp/models/toy.toml + tmp/data/b2.csv (a copy of the argon data) + manifest."""
    (tmp_path / "models").mkdir()
    (tmp_path / "data").mkdir()
    shutil.copy(ARGON_B2, tmp_path / "data" / "b2.csv")
    write_manifest(tmp_path / "data")
    (tmp_path / "models" / "toy.toml").write_text(PROBLEM_TOML)
    return tmp_path
