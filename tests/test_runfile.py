"""bayesff.runfile: reading a run once per process, and its root attributes alone.

A sweep's resume check, its summary and its atlas page read the same run files;
reading each once (issue 13: the re-run with nothing changed took 63 s for 42
runs, 21 s after) must never return a stale tree for a file that changed.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from handmade_runs import build_run, target

from bayesff import runfile
from bayesff.runfile import RunFileError


def _run(value: float):
    t = target("B2", "second_virial", {"T_K": np.array([100.0, 200.0])}, np.array([-1.0, -0.5]))
    model = np.full((5, 2), value)
    draws = {"B2": {"train": {"model": model, "rep": model, "ll": np.zeros((5, 2))}}}
    return build_run([t], draws)


def test_a_file_is_read_once_until_it_changes(tmp_path, monkeypatch):
    import xarray as xr

    path = tmp_path / "posterior.nc"
    runfile.write(_run(1.0), path)
    opened = []
    real = xr.open_datatree
    monkeypatch.setattr(xr, "open_datatree", lambda *a, **k: opened.append(a) or real(*a, **k))
    a = runfile.read(path)
    b = runfile.read(path)
    assert len(opened) == 1
    # copies: changing one's attributes changes neither the other nor what a reader gets next
    b.attrs["note"] = "changed"
    assert "note" not in a.attrs and "note" not in runfile.read(path).attrs
    # a new file at the same path (atomic replace, as calibrate writes) is read again
    runfile.write(_run(2.0), path, force=True)
    c = runfile.read(path)
    assert len(opened) == 2
    before = a["posterior_predictive"]["B2"].values
    after = c["posterior_predictive"]["B2"].values
    assert np.all(before == 1.0) and np.all(after == 2.0)


def test_root_attributes_alone(tmp_path):
    path = tmp_path / "posterior.nc"
    runfile.write(_run(1.0), path)
    attrs = runfile.read_attrs(path)
    assert attrs["bayesff_runfile_version"] == runfile.VERSION
    assert attrs["problem_fingerprint"] == runfile.read(path).attrs["problem_fingerprint"]
    # an HDF5 file that is not a run file, and a file that is not HDF5: clear errors
    other = tmp_path / "other.nc"
    with h5py.File(other, "w") as f:
        f.attrs["x"] = 1
    with pytest.raises(RunFileError, match="bayesff_runfile_version"):
        runfile.read_attrs(other)
    text = tmp_path / "text.nc"
    text.write_text("not a run")
    with pytest.raises(RunFileError, match="not a run file"):
        runfile.read_attrs(text)
