"""The data folder's own rule: every data file has a manifest entry (data/README.md)."""

from __future__ import annotations

import hashlib
import tomllib

from support import ROOT

DATA = ROOT / "data"
# documentation and the scripts that make the data: described by the entries, not data
NOT_DATA = {"manifest.toml", "README.md"}


def test_every_data_file_is_in_the_manifest_with_its_sha256():
    entries = {e["path"]: e for e in tomllib.loads((DATA / "manifest.toml").read_text())["files"]}
    files = sorted(
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.is_file()
        and p.relative_to(DATA).parts[0] != "scripts"
        and str(p.relative_to(DATA)) not in NOT_DATA
        and "__pycache__" not in p.parts
    )
    assert files, "no data files found"
    missing = [f for f in files if f not in entries]
    assert not missing, f"data files without a [[files]] entry in data/manifest.toml: {missing}"
    for f in files:
        e = entries[f]
        for key in ("source", "script", "sha256", "units", "kind"):
            assert e.get(key), f"{f}: manifest entry lacks {key!r}"
        assert (ROOT / e["script"]).is_file(), f"{f}: script {e['script']} does not exist"
        digest = hashlib.sha256((DATA / f).read_bytes()).hexdigest()
        assert digest == e["sha256"], f"{f}: sha256 differs from its manifest entry"


def _dimension(unit: str) -> str:
    """The dimension a manifest unit belongs to (temperature first for K, which is also
    an energy unit as E/k_B)."""
    from bayesff import units
    from bayesff.errors import UnitError

    dims = []
    for d in units.DIMENSIONS:
        try:
            units.factor(unit, d)
            dims.append(d)
        except UnitError:
            pass
    assert dims, f"unit {unit!r} belongs to no dimension"
    return "temperature" if "temperature" in dims else dims[0]


def test_every_shipped_file_loads_with_all_its_columns():
    """Every file of data/manifest.toml passes every rule of bayesff.data.load_table
    (encoding, header, strict numbers, units in column names against the manifest,
    uncertainty floors for each u_X paired with X, no duplicate rows), loading every
    column with the dimension of its manifest unit."""
    from bayesff.data import load_table, read_manifest, unit_from_column_name

    entries = read_manifest(DATA / "manifest.toml")
    checked_names = 0
    for rel, e in entries.items():
        header = (DATA / rel).read_text().splitlines()[0].split(",")
        assert set(header) == set(e.units), f"{rel}: columns and manifest units differ"
        # text columns (fluid names, references in data/atlas/fluids.csv) are not numbers
        numeric = [c for c in header if e.units[c] != "text"]
        t = load_table(DATA / rel, {c: _dimension(e.units[c]) for c in numeric})
        assert t.n_rows > 0 and t.excluded == [], rel
        checked_names += sum(unit_from_column_name(c) is not None for c in header)
    # the unit-suffix rule really applied to the shipped names (T_K, B2_cm3_per_mol, ...)
    assert checked_names >= 60


def test_refined_sq_files_are_the_measured_rows_plus_a_spline_and_reproducible():
    """data/argon_yarnell1973/sq_85K_target_x2.csv and _x4.csv (DERIVED, for the grid-
    refinement study of docs/likelihoods.md) hold every measured row of
    sq_85K_target.csv unchanged, in order, with k - 1 rows between neighbours, and are
    what data/scripts/make_argon_sq_refined.py writes, byte for byte.

    Reference: the measured file itself; the inserted S values against linear
    interpolation of their neighbours, within 0.05 (the largest second-difference term
    of the measured curve, dq^2 |S''| / 8, is ~0.01 at the first peak: a spline that
    overshoots by 0.05 would not be an interpolation of this curve).
    """
    import importlib.util

    import numpy as np

    spec = importlib.util.spec_from_file_location(
        "make_argon_sq_refined", DATA / "scripts" / "make_argon_sq_refined.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    src = (DATA / "argon_yarnell1973" / "sq_85K_target.csv").read_text()
    measured = src.splitlines()[1:]
    for k in (2, 4):
        path = DATA / "argon_yarnell1973" / f"sq_85K_target_x{k}.csv"
        assert path.read_bytes() == mod.refine(src, k), f"{path.name} differs from its script"
        body = path.read_text().splitlines()[1:]
        assert len(body) == k * (len(measured) - 1) + 1
        assert body[::k] == measured
        q = np.array([float(r.split(",")[2]) for r in body])
        s = np.array([float(r.split(",")[3]) for r in body])
        assert np.all(np.diff(q) > 0)
        for j in range(1, k):
            lo, hi, mid = s[:-k:k], s[k::k], s[j::k]
            linear = lo + (hi - lo) * j / k
            assert np.max(np.abs(mid - linear)) < 0.05, (k, j)
