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


def _vdw_run(kind="mie_vdw", m_fixed=True):
    """A run of ``kind`` whose posterior holds epsilon_vdw (K), sigma and n by hand, m = 5.5
    fixed in its problem text (or sampled)."""
    import xarray as xr

    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((3, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    post = dt["posterior"].to_dataset().drop_vars(["epsilon", "sigma"])  # the LJ run's
    draws = {
        "epsilon_vdw": [100.0, 110.0, 120.0],
        "sigma": [3.4, 3.41, 3.42],
        "n": [9.0, 13.0, 20.0],
    }
    if not m_fixed:
        draws["m"] = [5.0, 5.5, 6.0]
    for p, x in draws.items():
        post[p] = (("chain", "draw"), np.asarray(x)[None])
        post[p].attrs["units"] = (
            "K" if p == "epsilon_vdw" else ("angstrom" if p == "sigma" else "1")
        )
    dt["posterior"] = xr.DataTree(post)
    dt.attrs["parameters"] = list(draws)
    fixed = '[parameters.m]\nunit = "1"\nvalue = 5.5\n' if m_fixed else ""
    dt.attrs["problem_text"] = f'[problem]\nname = "x"\n[potential]\nkind = "{kind}"\n{fixed}'
    return dt, draws


def _alpha(n, m):
    # Ramrattan et al. 2015, eq. 6: C [1/(m-3) - 1/(n-3)], C the Mie prefactor
    c = n / (n - m) * (n / m) ** (m / (n - m))
    return c * (1 / (m - 3) - 1 / (n - 3))


@pytest.mark.parametrize("m_fixed", [True, False])
def test_derived_parameters_give_epsilon_of_a_run_sampled_in_epsilon_vdw(m_fixed):
    """A mie_vdw run's derived epsilon is epsilon_vdw / alpha(n, m) draw by draw, in the unit
    of epsilon_vdw (K), with m fixed in the problem or sampled; a run of a potential that
    derives nothing, or whose problem text names no registered potential, has none."""
    dt, draws = _vdw_run(m_fixed=m_fixed)
    got = runfile.derived_parameters(dt)
    m = np.array(draws.get("m", [5.5] * 3))
    want = np.array(draws["epsilon_vdw"]) / _alpha(np.array(draws["n"]), m)
    np.testing.assert_allclose(got["epsilon"].values[0], want, rtol=1e-13)
    assert got["epsilon"].attrs["units"] == "K" and got["epsilon"].dims == ("chain", "draw")
    assert list(got.data_vars) == ["epsilon"]
    assert not runfile.derived_parameters(_vdw_run(kind="lennard_jones")[0]).data_vars
    assert not runfile.derived_parameters(_vdw_run(kind="no_such_potential")[0]).data_vars


def test_atlas_reads_the_derived_epsilon_of_a_vdw_run():
    """The atlas's parameter table of a mie_vdw run has epsilon (derived, K) and k Tc /
    epsilon from it, as a mie run's has from its sampled epsilon."""
    from bayesff.report.atlas import _parameters

    dt, draws = _vdw_run()
    params, derived = _parameters(dt, {"Tc_K": 150.0})
    eps = np.array(draws["epsilon_vdw"]) / _alpha(np.array(draws["n"]), 5.5)
    assert params["epsilon"]["derived"] and params["epsilon"]["unit"] == "K"
    assert params["epsilon"]["mean"] == pytest.approx(eps.mean(), rel=1e-12)
    assert derived["Tc_over_epsilon"]["mean"] == pytest.approx(np.mean(150.0 / eps), rel=1e-12)


def test_sweep_summary_row_has_the_derived_epsilon_columns():
    """A sweep's summary row of a mie_vdw run carries epsilon_K_mean and its quantiles
    (derived: epsilon_vdw / alpha(n, m)) beside epsilon_vdw_K_*, so the forms of an atlas
    share columns whichever coordinates they were sampled in."""
    from types import SimpleNamespace

    from bayesff.sweep import _row

    dt, draws = _vdw_run()
    diagnostics = SimpleNamespace(rhat={"x": 1.0}, ess_bulk={"x": 500.0}, divergences=0, ok=True)
    row = _row("argon-mie_vdw-B2", dt, diagnostics, None, 1.0)
    eps = np.array(draws["epsilon_vdw"]) / _alpha(np.array(draws["n"]), 5.5)
    assert row["epsilon_K_mean"] == pytest.approx(eps.mean(), rel=1e-12)
    assert row["epsilon_K_q50"] == pytest.approx(np.median(eps), rel=1e-12)
    assert row["epsilon_vdw_K_mean"] == pytest.approx(110.0, rel=1e-12)
