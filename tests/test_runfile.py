"""bayesff.runfile: reading a run once per process, and its root attributes alone.

A sweep's resume check, its summary and its atlas page read the same run files;
reading each once (issue 13: the re-run with nothing changed took 63 s for 42
runs, 21 s after) must never return a stale tree for a file that changed.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from handmade_runs import build_run, target, vdw_alpha_closed_form, vdw_run

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


@pytest.mark.parametrize("m_fixed", [True, False])
def test_derived_parameters_give_epsilon_of_a_run_sampled_in_epsilon_vdw(m_fixed):
    """A mie_vdw run's derived epsilon is epsilon_vdw / alpha(n, m) draw by draw, in the unit
    of epsilon_vdw (K), with m fixed in the problem or sampled; a run of a potential that
    derives nothing, or whose problem text names no registered potential, has none."""
    dt, draws = vdw_run(m_fixed=m_fixed)
    got = runfile.derived_parameters(dt)
    m = np.array(draws.get("m", [5.5] * 3))
    want = np.array(draws["epsilon_vdw"]) / vdw_alpha_closed_form(np.array(draws["n"]), m)
    np.testing.assert_allclose(got["epsilon"].values[0], want, rtol=1e-13)
    assert got["epsilon"].attrs["units"] == "K" and got["epsilon"].dims == ("chain", "draw")
    assert list(got.data_vars) == ["epsilon"]
    assert not runfile.derived_parameters(vdw_run(kind="lennard_jones")[0]).data_vars
    assert not runfile.derived_parameters(vdw_run(kind="no_such_potential")[0]).data_vars


def test_atlas_reads_the_derived_epsilon_of_avdw_run():
    """The atlas's parameter table of a mie_vdw run has epsilon (derived, K) and k Tc /
    epsilon from it, as a mie run's has from its sampled epsilon."""
    from bayesff.report.atlas import _parameters

    dt, draws = vdw_run()
    params, derived = _parameters(dt, {"Tc_K": 150.0})
    eps = np.array(draws["epsilon_vdw"]) / vdw_alpha_closed_form(np.array(draws["n"]), 5.5)
    assert params["epsilon"]["derived"] and params["epsilon"]["unit"] == "K"
    assert params["epsilon"]["mean"] == pytest.approx(eps.mean(), rel=1e-12)
    assert derived["Tc_over_epsilon"]["mean"] == pytest.approx(np.mean(150.0 / eps), rel=1e-12)


def test_sweep_summary_row_has_the_derived_epsilon_columns():
    """A sweep's summary row of a mie_vdw run carries epsilon_K_mean and its quantiles
    (derived: epsilon_vdw / alpha(n, m)) beside epsilon_vdw_K_*, so the forms of an atlas
    share columns whichever coordinates they were sampled in."""
    from bayesff.inference.diagnostics import Diagnostics
    from bayesff.sweep import _row

    dt, draws = vdw_run()
    diagnostics = Diagnostics(
        rhat={"x": 1.0}, ess_bulk={"x": 500.0}, ess_tail={"x": 500.0}, divergences=0, ebfmi=[]
    )
    row = _row("argon-mie_vdw-B2", dt, diagnostics, None, 1.0)
    eps = np.array(draws["epsilon_vdw"]) / vdw_alpha_closed_form(np.array(draws["n"]), 5.5)
    assert row["epsilon_K_mean"] == pytest.approx(eps.mean(), rel=1e-12)
    assert row["epsilon_K_q50"] == pytest.approx(np.median(eps), rel=1e-12)
    assert row["epsilon_vdw_K_mean"] == pytest.approx(110.0, rel=1e-12)


def test_a_parameter_in_another_unit_than_its_problem_gives_is_refused():
    """A run file is data from anyone: posterior/epsilon relabelled 'furlong' was read and
    reported as furlong (input audit, 2026-11-28). Its unit must be the problem text's."""
    dt = _run(1.0)
    said = dt["posterior"]["epsilon"].attrs["units"]
    runfile.check_attributes(dt, "x.nc")
    dt["posterior"]["epsilon"].attrs["units"] = "furlong"
    with pytest.raises(
        RunFileError,
        match=rf"x\.nc: posterior/epsilon is in 'furlong', but .* gives epsilon in '{said}'",
    ):
        runfile.check_attributes(dt, "x.nc")
