"""The data folder's own rule: every data file has a manifest entry (DESIGN.md, data/README.md)."""

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
