"""Data files and their manifest.

Every data file is listed in a ``manifest.toml`` (in its directory or the
nearest ancestor that has one) with its source, licence, units, sha256 and the
script that made it. Loading checks the hash, the columns, that every value
is a finite number and that its unit is known, and converts columns to
internal units. Errors name the file, row and column.
"""

from __future__ import annotations

import csv
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bayesff import units
from bayesff.errors import DataError

__all__ = ["ManifestEntry", "Table", "find_manifest", "load_table", "sha256_of"]

_KINDS = ("measured", "reference-equation", "synthetic")
_REQUIRED_KEYS = ("path", "kind", "title", "source", "licence", "script", "sha256", "units")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    """One file's provenance, as listed in ``manifest.toml``."""

    path: str
    kind: str
    title: str
    source: str
    licence: str
    script: str
    sha256: str
    units: dict[str, str]
    uncertainty: str = ""
    manifest: str = ""

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "title": self.title,
            "source": self.source,
            "licence": self.licence,
            "script": self.script,
            "sha256": self.sha256,
            "units": dict(self.units),
            "uncertainty": self.uncertainty,
        }


def find_manifest(data_file: Path) -> Path:
    """The ``manifest.toml`` that covers ``data_file`` (nearest ancestor)."""
    for d in Path(data_file).resolve().parents:
        m = d / "manifest.toml"
        if m.is_file():
            return m
    raise DataError(
        "no manifest.toml found in this file's directory or any parent; every data file "
        "needs an entry with source, licence, units, sha256 and script "
        f"(sha256 of this file: {sha256_of(data_file)})",
        str(data_file),
    )


def _manifest_entry(data_file: Path) -> ManifestEntry:
    mpath = find_manifest(data_file)
    try:
        doc = tomllib.loads(mpath.read_text())
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"not valid TOML: {e}", str(mpath)) from None
    rel = Path(data_file).resolve().relative_to(mpath.parent).as_posix()
    for i, entry in enumerate(doc.get("files", [])):
        if entry.get("path") != rel:
            continue
        where = f"{mpath}: files[{i}] (path = {rel!r})"
        missing = [k for k in _REQUIRED_KEYS if k not in entry]
        if missing:
            raise DataError(f"manifest entry lacks {', '.join(missing)}", where)
        if entry["kind"] not in _KINDS:
            raise DataError(
                f"kind must be one of {', '.join(_KINDS)}, found {entry['kind']!r}", where
            )
        return ManifestEntry(
            **{k: entry[k] for k in _REQUIRED_KEYS},
            uncertainty=entry.get("uncertainty", ""),
            manifest=str(mpath),
        )
    raise DataError(
        f"not listed in {mpath}; add a [[files]] entry with path = {rel!r}, kind, title, "
        f"source, licence, script, units and sha256 = {sha256_of(data_file)!r}",
        str(data_file),
    )


@dataclass
class Table:
    """Columns of a data file in internal units, with provenance.

    Attributes
    ----------
    columns
        Column name -> float array, converted to internal units.
    file_units
        Column name -> unit as the manifest states it (the file's own unit).
    entry
        The manifest entry.
    path
        The file.
    """

    columns: dict
    file_units: dict[str, str]
    entry: ManifestEntry
    path: Path
    n_rows: int = field(default=0)


def load_table(
    path: str | Path,
    columns: dict[str, str],
    *,
    where: str | None = None,
    positive: tuple[str, ...] = (),
    key_columns: tuple[str, ...] = (),
) -> Table:
    """Load the given columns of a CSV data file, checked and in internal units.

    Parameters
    ----------
    path
        The CSV file (one header line, one row per observation).
    columns
        Column name -> physical dimension (see :data:`bayesff.units.DIMENSIONS`).
    where
        The problem file and field that asked for this file (for messages).
    positive
        Further columns that must be > 0 (the noise column of a target).

    Raises
    ------
    DataError
        If the file is missing or not in a manifest, its sha256 differs, a
        column is missing, a value is not a finite number, or a range check
        fails (temperatures and uncertainties must be > 0). The message names
        the file, row and column.
    UnitError
        If the manifest gives no unit, or an unknown one, for a column.
    """
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}", where)
    entry = _manifest_entry(path)
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise DataError(
            f"sha256 is {actual} but {entry.manifest} says {entry.sha256}: the file changed "
            "since its provenance was recorded; re-run its script or update the manifest",
            str(path),
        )
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError("file is empty; expected a header line", str(path)) from None
        rows = [row for row in reader if row and any(c.strip() for c in row)]
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(columns)}, "
            f"found {', '.join(header)}",
            str(path),
        )
    if not rows:
        raise DataError("file has a header but no rows", str(path))
    out, file_units = {}, {}
    for col, dim in columns.items():
        unit = entry.units.get(col)
        f = units.factor(unit, dim, where=f"{entry.manifest}: units of column {col!r} in {path}")
        j = header.index(col)
        vals = np.empty(len(rows))
        for i, row in enumerate(rows):
            # i + 2: 1-based, and the header is line 1.
            here = f"{path}, line {i + 2}, column {col!r}"
            if j >= len(row):
                raise DataError(f"row has {len(row)} fields, expected {len(header)}", here)
            try:
                v = float(row[j])
            except ValueError:
                raise DataError(f"expected a number, found {row[j]!r}", here) from None
            if not math.isfinite(v):
                raise DataError(f"expected a finite number, found {row[j]!r}", here)
            if dim == "temperature" and v <= 0:
                raise DataError(f"temperature must be > 0 K, found {v!r}", here)
            if (col.startswith("u_") or col in positive) and v <= 0:
                raise DataError(f"a standard uncertainty must be > 0, found {v!r}", here)
            vals[i] = v * f
        out[col] = vals
        file_units[col] = unit
    return Table(columns=out, file_units=file_units, entry=entry, path=path, n_rows=len(rows))
