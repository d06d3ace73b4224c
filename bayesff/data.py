"""Data files and their manifest.

Every data file is listed in a ``manifest.toml`` (in its directory or the
nearest ancestor that has one) with its source, licence, units, sha256 and the
script that made it. :func:`load_table` reads a CSV file, checks it against its
entry and converts columns to internal units. Every rule below is checked
before any expensive work, and a broken one raises
:class:`~bayesff.errors.DataError` naming the file (and line, column or
manifest field), what was expected and what was found.

Rules
-----
Encoding
    Files are UTF-8. A UTF-8 byte-order mark (BOM) at the start of a CSV file
    or a manifest is accepted and ignored (spreadsheet programs write one); a
    UTF-16 BOM is refused by name; any other non-UTF-8 byte is refused with
    its value, byte offset and line.
Manifest
    ``[[files]]`` is an array of tables; each entry has exactly the fields of
    :data:`MANIFEST_FIELDS` (``uncertainty`` optional, no others), each of its
    type: ``path`` a relative path (no ``..``), ``kind`` one of
    :data:`KINDS`, ``title``/``source``/``licence``/``script`` non-empty
    strings, ``sha256`` 64 hexadecimal digits, ``units`` a table of column =
    unit string. A path is listed once.
Header
    The first line names the columns; every name is non-empty and unique.
    Names with invisible characters are shown escaped in messages.
Rows
    Every row has one field per header column. Blank lines are skipped (and
    still counted in line numbers); a row of empty cells only is skipped and
    reported in :attr:`Table.excluded`.
Numbers
    A cell of a loaded column is a plain decimal or scientific number: an
    optional sign, ASCII digits with an optional decimal point, an optional
    exponent (``90``, ``-1.5``, ``.5``, ``2.5e-3``, ``1E+05``); spaces and tabs
    around it are allowed, as around header names. Refused, although Python's
    ``float`` reads them: underscores (``9_0``), non-ASCII digits, ``nan`` and
    ``inf`` in any spelling, other whitespace. Hexadecimal (``0x10``) and
    empty cells are refused too. A number beyond the float64 range (about
    1.8e308), in the file or once converted to internal units, is refused;
    so is a non-zero number below the smallest normal float64 (2.2e-308) in
    magnitude, which float64 cannot hold to full precision.
Ranges
    Temperatures and densities are > 0 (:data:`POSITIVE_DIMENSIONS`), wave numbers >= 0
    (:data:`NONNEGATIVE_DIMENSIONS`). A standard uncertainty (a loaded ``u_*`` column
    or a column in ``positive``) is > 0 and, in internal units,
    ``u >= max(UNCERTAINTY_REL_FLOOR * |value|, UNCERTAINTY_ABS_FLOOR)``
    (see the constants for the reasons); the relative part applies where the
    value column is known (``u_X`` pairs with ``X``, or ``uncertainty_pairs``),
    and the absolute part lets a value cross zero (B2 at the Boyle
    temperature).
Units in column names
    Where a column's name ends in a unit of :data:`UNIT_SUFFIXES` (``T_K``,
    ``B2_cm3_per_mol``, ``rho_per_A3``), that unit must convert to the
    column's internal unit with the same factor as the manifest's unit (same
    dimension, ratio 1): ``B2_L_per_mol`` with a manifest unit of
    ``cm^3/mol`` is an error, not a silent factor 1000. Names without a
    recognised suffix are not compared (see :func:`unit_from_column_name`).
Duplicates and conflicts
    Two rows equal in every column (numbers compared as numbers) are exact
    duplicates. With ``key_columns`` (the environment, e.g. ``T_K``), two rows
    with the same environment are duplicates if their loaded values agree and
    a conflict if they do not. Duplicates are an error unless
    ``duplicates = "drop"`` (the first is kept, the others are reported in
    :attr:`Table.excluded`); conflicts are always an error naming both lines.
Hash
    The sha256 of the bytes read must equal the manifest's; the same bytes are
    then parsed (one read).
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import io
import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np

from bayesff import units
from bayesff.errors import DataError, UnitError

__all__ = [
    "KINDS",
    "MANIFEST_FIELDS",
    "NONNEGATIVE_DIMENSIONS",
    "POSITIVE_DIMENSIONS",
    "UNCERTAINTY_ABS_CEILING",
    "UNCERTAINTY_ABS_FLOOR",
    "UNCERTAINTY_REL_FLOOR",
    "UNIT_SUFFIXES",
    "Excluded",
    "LoadedRows",
    "ManifestEntry",
    "Table",
    "find_manifest",
    "load_table",
    "read_manifest",
    "sha256_of",
    "unit_from_column_name",
]

#: Kinds of data a manifest entry may declare.
KINDS = ("measured", "reference-equation", "synthetic")
#: Fields of a ``[[files]]`` entry; all but ``uncertainty`` are required.
MANIFEST_FIELDS = (
    "path",
    "kind",
    "title",
    "source",
    "licence",
    "script",
    "sha256",
    "units",
    "uncertainty",
)
_REQUIRED_KEYS = MANIFEST_FIELDS[:-1]
_TEXT_FIELDS = ("title", "source", "licence", "script")

#: Relative floor of a standard uncertainty: ``u >= 1e-12 |value|``. Below it the
#: model would have to match the value to better than the round-off of its own
#: float64 evaluation: 1e-12 is about 4500 ulps (float64 epsilon 2.2e-16), and the
#: forward models' quadrature, series and unit-conversion errors are 1e-14 to 1e-10
#: relative, so residuals (y - f)/u would measure numerical noise, not physics.
#: Every shipped file has u/|value| >= 1e-4.
UNCERTAINTY_REL_FLOOR = 1e-12
#: Absolute floor of a standard uncertainty, in internal units (angstrom, kJ/mol,
#: cm^3/mol, ...): ``u >= 1e-150``. Below it u**2 (< 1e-300) and 1/u**2 (> 1e300)
#: leave or approach the range of normal float64 numbers (2.2e-308 to 1.8e308), so
#: the Gaussian log-likelihood -(y - f)**2 / (2 u**2) and its gradient overflow to
#: inf or nan. It is the floor that applies where a value is zero.
UNCERTAINTY_ABS_FLOOR = 1e-150
#: Dimensions whose every number is > 0 (what a row of that dimension is called): a
#: temperature and a number density (mol/L data are converted to it). A zero or negative
#: one is a typo or a sign slip that no forward model can use (a density of -0.001 reached
#: the compressibility's solver and failed there as a prior's fault; input audit,
#: 2026-11-30). Columns read only for selections (``load_table(..., signed=True)``) keep
#: the temperature rule alone.
POSITIVE_DIMENSIONS = {"temperature": "temperature", "number_density": "density"}
#: Dimensions whose every number is >= 0: a wave number q (S(0) is the compressibility
#: route's limit; q < 0 was trained on before 2026-11-30).
NONNEGATIVE_DIMENSIONS = {"inverse_length": "wave number"}
#: Absolute ceiling of a standard uncertainty, in internal units: ``u <= 1e150``. Above it
#: u**2 (> 1e300), and u**2 plus a forward-model floor or an inadequacy term, overflow
#: to inf, and the row rejects every draw, after the sampler has been compiled.
UNCERTAINTY_ABS_CEILING = 1e150

#: Unit suffixes of column names (after the last quantity token, joined by ``_``)
#: and the unit they name, as spelled in :mod:`bayesff.units`. Case-sensitive (K is
#: kelvin, k would be kilo). Bare single letters that are also common labels (``A``,
#: ``L``, ``m``) count only inside a compound (``per_A3``, ``kJ_per_mol_A``,
#: ``L_per_mol``).
UNIT_SUFFIXES: dict[str, str] = {
    # temperature, and energies quoted as E/k_B
    "K": "K",
    # energy
    "kJ_per_mol": "kJ/mol",
    "kcal_per_mol": "kcal/mol",
    "J_per_mol": "J/mol",
    "eV": "eV",
    # length
    "angstrom": "angstrom",
    "nm": "nm",
    "pm": "pm",
    "bohr": "bohr",
    # number density
    "per_A3": "1/angstrom^3",
    "inv_A3": "1/angstrom^3",
    "per_angstrom3": "1/angstrom^3",
    "inv_angstrom3": "1/angstrom^3",
    "per_nm3": "1/nm^3",
    "mol_per_L": "mol/L",
    "mol_per_m3": "mol/m^3",
    "mol_per_cm3": "mol/cm^3",
    # molar volume (and per-molecule volume in angstrom^3)
    "cm3_per_mol": "cm^3/mol",
    "m3_per_mol": "m^3/mol",
    "L_per_mol": "L/mol",
    "A3": "angstrom^3",
    "angstrom3": "angstrom^3",
    # pressure
    "MPa": "MPa",
    "kPa": "kPa",
    "Pa": "Pa",
    "bar": "bar",
    # inverse pressure
    "per_MPa": "1/MPa",
    "per_kPa": "1/kPa",
    "per_Pa": "1/Pa",
    "per_bar": "1/bar",
    "inv_MPa": "1/MPa",
    # inverse length
    "inv_angstrom": "1/angstrom",
    "per_angstrom": "1/angstrom",
    "inv_A": "1/angstrom",
    "per_A": "1/angstrom",
    "inv_nm": "1/nm",
    "per_nm": "1/nm",
    # angle
    "deg": "deg",
    "rad": "rad",
    # force
    "kJ_per_mol_A": "kJ/mol/angstrom",
    "kJ_per_mol_angstrom": "kJ/mol/angstrom",
    "kJ_per_mol_nm": "kJ/mol/nm",
    "kcal_per_mol_A": "kcal/mol/angstrom",
    "kcal_per_mol_angstrom": "kcal/mol/angstrom",
    "eV_per_A": "eV/angstrom",
    "eV_per_angstrom": "eV/angstrom",
}
# tokens that occur in unit suffixes: a suffix preceded by one of them is part of a
# longer unit the table does not know (kJ_per_mol_K), so nothing is read from it.
_UNIT_TOKENS = frozenset(t for k in UNIT_SUFFIXES for t in k.split("_")) | {"m", "s"}

# A plain decimal or scientific number, ASCII only (\d would match other digits).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SMALLEST_NORMAL = sys.float_info.min  # 2.2250738585072014e-308
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks (never the whole file at once).

    :func:`hashlib.file_digest` streams the file through a fixed 256 KiB buffer,
    so memory does not grow with the file's size.
    """
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def unit_from_column_name(name: str) -> str | None:
    """The unit a column's name ends in, or ``None`` if it names none.

    The longest suffix of ``_``-separated tokens found in :data:`UNIT_SUFFIXES`
    is the unit (``kappa_T_per_MPa`` -> ``1/MPa``, ``F_kJ_per_mol_A`` ->
    ``kJ/mol/angstrom``). Nothing is read when no suffix is in the table
    (``S_q``, ``g_r``, ``p``), when the name is only a unit (``K``), or when the
    token before the suffix is itself a unit token, i.e. the name ends in a
    longer unit the table does not know (``Cv_kJ_per_mol_K`` is kJ/(mol K), not
    K): such names are not checked against the manifest.

    Examples
    --------
    >>> unit_from_column_name("B2_cm3_per_mol"), unit_from_column_name("S_q")
    ('cm^3/mol', None)
    """
    split = _split_unit(name)
    return None if split is None else UNIT_SUFFIXES[split[1]]


def _split_unit(name: str) -> tuple[str, str] | None:
    """``(stem, suffix)`` of a column name that ends in a unit of :data:`UNIT_SUFFIXES`
    (``p_sat_MPa`` -> ``("p_sat", "MPa")``), else ``None`` (see
    :func:`unit_from_column_name`)."""
    tokens = name.split("_")
    for n in range(len(tokens) - 1, 0, -1):
        suffix = "_".join(tokens[-n:])
        if suffix not in UNIT_SUFFIXES:
            continue
        before = tokens[-n - 1]
        if not before or before in _UNIT_TOKENS:
            return None
        return "_".join(tokens[:-n]), suffix
    return None


# ---------------------------------------------------------------- reading text


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 text of a file's bytes, a leading UTF-8 byte-order mark removed."""
    if data.startswith(_UTF16_BOMS):
        raise DataError(
            f"starts with a UTF-16 byte-order mark (bytes 0x{data[0]:02x} 0x{data[1]:02x}); "
            "expected UTF-8 text: save the file as UTF-8",
            str(path),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"not UTF-8 text: byte 0x{data[e.start]:02x} at offset {e.start} (line {line}) "
            "is not valid UTF-8; save the file as UTF-8",
            str(path),
        ) from None
    # A UTF-8 byte-order mark carries no information; spreadsheet programs write one.
    return text.removeprefix("\ufeff")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror or e}", str(path)) from None


def _show_name(name: str) -> str:
    """A column name as written, or escaped when it holds invisible characters."""
    return name if name.isprintable() and name.strip() == name else repr(name)


def _show_toml(value) -> str:
    """A TOML value and its type, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    kind = {int: "an integer", float: "a float", list: "an array", dict: "a table"}.get(
        type(value), type(value).__name__
    )
    return f"{value!r} ({kind})"


# ---------------------------------------------------------------- manifest


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


def _is_relative_path(p: str) -> bool:
    pp = PurePosixPath(p)
    return bool(p.strip()) and not pp.is_absolute() and ".." not in pp.parts and "\\" not in p


def _entry(e: dict, where: str, mpath: Path) -> ManifestEntry:
    missing = [k for k in _REQUIRED_KEYS if k not in e]
    if missing:
        raise DataError(f"lacks {', '.join(missing)}", where)
    unknown = sorted(k for k in e if k not in MANIFEST_FIELDS)
    if unknown:
        raise DataError(
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(MANIFEST_FIELDS)}",
            where,
        )
    if not isinstance(e["kind"], str) or e["kind"] not in KINDS:
        raise DataError(
            f"expected one of {', '.join(KINDS)}, found {_show_toml(e['kind'])}", f"{where}.kind"
        )
    for k in _TEXT_FIELDS:
        if not isinstance(e[k], str) or not e[k].strip():
            raise DataError(
                f"expected a non-empty string, found {_show_toml(e[k])}", f"{where}.{k}"
            )
    if not isinstance(e.get("uncertainty", ""), str):
        raise DataError(
            f"expected a string, found {_show_toml(e['uncertainty'])}", f"{where}.uncertainty"
        )
    sha = e["sha256"]
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise DataError(
            f"expected 64 hexadecimal digits, found {_show_toml(sha)} (the entry's sha256 is "
            "the hex digest of the file's bytes)",
            f"{where}.sha256",
        )
    u = e["units"]
    if not isinstance(u, dict):
        raise DataError(
            f"expected a table of column = unit, found {_show_toml(u)}", f"{where}.units"
        )
    for col, unit in u.items():
        if not isinstance(unit, str):
            raise DataError(
                f"expected a unit string, found {_show_toml(unit)}", f"{where}.units.{col}"
            )
    return ManifestEntry(
        path=e["path"],
        kind=e["kind"],
        title=e["title"],
        source=e["source"],
        licence=e["licence"],
        script=e["script"],
        sha256=sha.lower(),
        units=dict(u),
        uncertainty=e.get("uncertainty", ""),
        manifest=str(mpath),
    )


def read_manifest(path: str | Path) -> dict[str, ManifestEntry]:
    """Read and check a ``manifest.toml``: every entry, its fields and their types.

    Parameters
    ----------
    path
        The manifest file.

    Returns
    -------
    dict
        Entry path (relative to the manifest's directory, as written) -> entry.

    Raises
    ------
    DataError
        If the file is not UTF-8 or not TOML, has keys other than ``files``, or
        an entry breaks a rule (see the module docstring); the message names the
        manifest, the entry (``files[i] (path = ...)``) and the field.
    """
    mpath = Path(path)
    text = _decode(_read_bytes(mpath), mpath)
    return dict(_parsed_manifest(text, str(mpath)))


@functools.lru_cache(maxsize=16)
def _parsed_manifest(text: str, where: str) -> dict[str, ManifestEntry]:
    """:func:`read_manifest` of a manifest's text, kept by text and path: building the
    atlas's 126 problems parsed data/manifest.toml 1890 times (67 s of 122 s). Keyed on
    the text read now, so an edited manifest is parsed again; entries are frozen."""
    mpath = Path(where)
    try:
        doc = tomllib.loads(text)
    # tomllib also raises ValueError (an integer past 4300 digits) and RecursionError
    # (arrays nested hundreds deep); TOMLDecodeError is a ValueError
    except (ValueError, RecursionError) as e:
        raise DataError(f"not valid TOML: {type(e).__name__}: {e}"[:300], str(mpath)) from None
    unknown = sorted(k for k in doc if k != "files")
    if unknown:
        raise DataError(
            f"unknown top-level key(s) {', '.join(unknown)}; expected files ([[files]] entries)",
            str(mpath),
        )
    files = doc.get("files", [])
    if not isinstance(files, list):
        raise DataError(
            f"expected an array of tables ([[files]] entries), found {_show_toml(files)}",
            f"{mpath}: files",
        )
    entries: dict[str, ManifestEntry] = {}
    index: dict[str, int] = {}
    for i, e in enumerate(files):
        where = f"{mpath}: files[{i}]"
        if not isinstance(e, dict):
            raise DataError(f"expected a table ([[files]] entry), found {_show_toml(e)}", where)
        if "path" not in e:
            raise DataError("lacks path", where)
        p = e["path"]
        if not isinstance(p, str) or not _is_relative_path(p):
            raise DataError(
                "expected a relative path string (below the manifest's folder, no '..'), "
                f"found {_show_toml(p)}",
                f"{where}.path",
            )
        key = PurePosixPath(p).as_posix()
        if key in index:
            raise DataError(
                f"path {p!r} is listed again (files[{index[key]}] lists it too); "
                "one entry per file",
                where,
            )
        index[key] = i
        entries[key] = _entry(e, f"{where} (path = {p!r})", mpath)
    return entries


#: Largest unlisted file whose sha256 the "not listed in the manifest" error computes for the
#: user (bytes); the tables in data/ are at most a few hundred kB
HASHED_IN_MESSAGE_BYTES = 16 * 2**20


def _refuse_link_out_of_its_folder(data_file: Path) -> None:
    """A data file reached through a symbolic link that leaves its manifest's folder.

    The manifest that covers the path as written (the link's folder) is the one the
    user means; provenance is recorded only for files inside that folder, so a link out
    of it is refused with a message that says so (not "no manifest found", which is
    what the resolved path's folder gives).
    """
    written = Path(os.path.abspath(data_file))
    real = written.resolve()
    if real == written:
        return
    for d in written.parents:
        if (d / "manifest.toml").is_file():
            folder = d.resolve()
            if not real.is_relative_to(folder):
                raise DataError(
                    f"reached through a symbolic link to {real}, outside {folder}, the folder "
                    f"of its manifest {d / 'manifest.toml'}; data files are read only inside "
                    "their manifest's folder: copy the file there and list it in the manifest",
                    str(data_file),
                )
            return


def _manifest_entry(data_file: Path) -> ManifestEntry:
    _refuse_link_out_of_its_folder(data_file)
    mpath = find_manifest(data_file)
    entries = read_manifest(mpath)
    rel = Path(data_file).resolve().relative_to(mpath.parent).as_posix()
    if rel in entries:
        return entries[rel]
    # the refusal reads the file only to offer its sha256, and only a file of table size:
    # a path that names some large unlisted file is refused without reading it
    size = Path(data_file).stat().st_size
    sha = (
        repr(sha256_of(data_file))
        if size <= HASHED_IN_MESSAGE_BYTES
        else f"its sha256 ({size} bytes, not read: sha256sum prints it)"
    )
    raise DataError(
        f"not listed in {mpath}; add a [[files]] entry with path = {rel!r}, kind, title, "
        f"source, licence, script, units and sha256 = {sha}",
        str(data_file),
    )


# ---------------------------------------------------------------- tables


#: The reason given for a row with empty cells only: not a data row (a blank line).
EMPTY_ROW = "no values (empty cells only)"


class Excluded(NamedTuple):
    """A data row that :func:`load_table` did not return, and why."""

    line: int
    reason: str


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
    n_rows
        Number of rows returned.
    lines
        The file line (1-based, header = 1) of each returned row.
    excluded
        Rows not returned (empty rows, dropped duplicates), with the reason.
    """

    columns: dict
    file_units: dict[str, str]
    entry: ManifestEntry
    path: Path
    n_rows: int = field(default=0)
    lines: tuple[int, ...] = ()
    excluded: list[Excluded] = field(default_factory=list)


class _NotANumber(Exception):
    """A cell broke a number rule; the caller adds the file, line and column."""


def _parse_number(cell: str) -> float:
    """A cell as a float, by the rules of the module docstring.

    Raises :class:`_NotANumber` with the message (the caller knows where).
    """
    s = cell.strip(" \t")
    if _NUMBER.fullmatch(s):
        v = float(s)
        if not math.isfinite(v):
            raise _NotANumber(
                f"expected a finite number, found {cell!r} (beyond the float64 range, "
                "about 1.8e308)"
            )
        if (v == 0.0 and any(c in "123456789" for c in s.lower().partition("e")[0])) or (
            0.0 < abs(v) < _SMALLEST_NORMAL
        ):
            raise _NotANumber(
                f"found {cell!r}, a non-zero number smaller in magnitude than the smallest "
                "normal float64 (2.2e-308), which cannot be held to full precision"
            )
        return v
    if not s:
        raise _NotANumber(f"empty cell; expected a number, found {cell!r}")
    if _NON_FINITE.fullmatch(s):
        raise _NotANumber(f"expected a finite number, found {cell!r}")
    if "_" in s:
        why = " (underscores are not allowed)"
    elif re.match(r"[+-]?0[xX]", s):
        why = " (hexadecimal is not allowed)"
    elif "\ufeff" in s:
        why = " (it contains U+FEFF, a byte-order mark)"
    elif any(c.isdigit() and not c.isascii() for c in s):
        why = " (only the ASCII digits 0-9 are allowed)"
    else:
        why = ""
    raise _NotANumber(
        "expected a number in plain decimal or scientific notation (like 90, -1.5 or "
        f"2.5e-3), found {cell!r}{why}"
    )


def _read_csv(text: str, path: Path):
    """Header, data rows, their line numbers and the skipped rows of a CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
        if first is None:
            raise DataError("file is empty; expected a header line", str(path))
        header = [h.strip() for h in first]
        if not any(header):
            raise DataError(
                "line 1 is empty; expected the header (column names separated by commas)",
                str(path),
            )
        seen: dict[str, int] = {}
        for j, h in enumerate(header):
            if not h:
                raise DataError(f"column {j + 1} has no name", f"{path}, line 1")
            if h in seen:
                raise DataError(
                    f"column {h!r} appears twice (columns {seen[h] + 1} and {j + 1}); "
                    "column names must be unique",
                    f"{path}, line 1",
                )
            seen[h] = j
        rows, lines, excluded = [], [], []
        prev = reader.line_num
        for row in reader:
            start, prev = prev + 1, reader.line_num
            if not row:
                continue  # a blank line
            if not any(c.strip() for c in row):
                excluded.append(Excluded(start, EMPTY_ROW))
                continue
            if len(row) != len(header):
                raise DataError(
                    f"row has {len(row)} fields, expected {len(header)} (one per column: "
                    f"{', '.join(_show_name(h) for h in header)})",
                    f"{path}, line {start}",
                )
            rows.append(row)
            lines.append(start)
    except csv.Error as e:
        raise DataError(f"not readable as CSV: {e}", f"{path}, line {reader.line_num}") from None
    return header, rows, lines, excluded


def _check_name_unit(col: str, unit: str, dim: str, where: str) -> None:
    """The unit in a column's name (if any) must equal the manifest's unit."""
    said = unit_from_column_name(col)
    if said is None:
        return
    try:
        f_said = units.factor(said, dim)
    except UnitError:
        dims = [d for d in units.DIMENSIONS if said in units.known_units(d)]
        article = "an" if dim[0] in "aeiou" else "a"
        raise DataError(
            f"the column's name says {said}, which is not {article} {dim} unit (it is a unit "
            f"of {' or '.join(dims)}); the manifest gives {unit!r}: rename the column or "
            "correct the manifest",
            where,
        ) from None
    f_manifest = units.factor(unit, dim)
    if not math.isclose(f_said, f_manifest, rel_tol=1e-12):
        ratio = max(f_said, f_manifest) / min(f_said, f_manifest)
        raise DataError(
            f"the column's name says {said} but the manifest gives {unit!r}: they differ by a "
            f"factor of {ratio:.6g}, so one of them is wrong; rename the column or correct "
            "the manifest",
            where,
        )


def load_table(
    path: str | Path,
    columns: dict[str, str],
    *,
    where: str | None = None,
    positive: tuple[str, ...] = (),
    key_columns: tuple[str, ...] | None = None,
    duplicates: str = "error",
    uncertainty_pairs: dict[str, str] | None = None,
    signed: bool = False,
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
        Further columns that are standard uncertainties (the noise column of a
        target): > 0 and above the floors, like ``u_*`` columns.
    key_columns
        The columns that name an observation's environment (e.g. ``("T_K",)``):
        two rows with the same environment are a duplicate if their other
        loaded columns agree and a conflict (always an error) if not.
        ``None``: only rows equal in every column are duplicates.
    duplicates
        ``"error"`` (default): a duplicate row is an error. ``"drop"``: keep the
        first, report the others in :attr:`Table.excluded`.
    uncertainty_pairs
        Uncertainty column -> the value column it is the uncertainty of, for
        the relative floor. ``u_X`` pairs with ``X`` without being listed.
    signed
        Densities and wave numbers may be any sign (columns read beside a target's own,
        for selections, which may hold differences such as ``drho_mol_per_L``); only
        temperatures must be > 0.

    Returns
    -------
    Table
        The columns in internal units, the rows' line numbers and the rows
        not returned.

    Raises
    ------
    DataError
        If the file is missing, not in a valid manifest entry, its sha256
        differs, or it breaks a rule of the module docstring (encoding,
        header, rows, numbers, ranges, units in column names, duplicates).
        The message names the file, line and column or manifest field.
    UnitError
        If the manifest gives no unit, or an unknown one, for a column.
    """
    path = Path(path)
    keys = _check_load_args(columns, where, key_columns, duplicates)
    entry, header, rows, lines, excluded = _read_checked(path, columns, where)
    factors, file_units = _column_units(columns, entry, path)
    noise, pairs = _noise_columns(columns, positive, uncertainty_pairs, where)
    ranged = {"temperature"} if signed else set(POSITIVE_DIMENSIONS) | set(NONNEGATIVE_DIMENSIONS)
    raw = _parse_columns(columns, header, rows, lines, factors, file_units, noise, path, ranged)
    _check_floors(
        columns,
        header,
        rows,
        lines=lines,
        raw=raw,
        factors=factors,
        file_units=file_units,
        noise=noise,
        pairs=pairs,
        path=path,
    )
    keep = _deduplicate(
        header,
        rows,
        lines,
        raw=raw,
        columns=columns,
        keys=keys,
        duplicates=duplicates,
        path=path,
        excluded=excluded,
    )
    excluded.sort()
    out = {col: raw[col][keep] * factors[col] for col in columns}
    return Table(
        columns=out,
        file_units=file_units,
        entry=entry,
        path=path,
        n_rows=len(keep),
        lines=tuple(lines[i] for i in keep),
        excluded=excluded,
    )


def _check_load_args(columns, where, key_columns, duplicates) -> tuple[str, ...]:
    """The key columns, after checking ``duplicates`` and that the keys are loaded."""
    if duplicates not in ("error", "drop"):
        raise DataError(f"duplicates must be 'error' or 'drop', found {duplicates!r}", where)
    keys = tuple(key_columns or ())
    stray = [k for k in keys if k not in columns]
    if stray:
        raise DataError(
            f"key column(s) {', '.join(stray)} are not among the columns loaded "
            f"({', '.join(columns)})",
            where,
        )
    return keys


def _read_checked(path: Path, columns, where):
    """Manifest entry, header, rows, line numbers and skipped rows of a verified file."""
    if not path.is_file():
        raise DataError(f"data file not found: {path}", where)
    entry = _manifest_entry(path)
    data = _read_bytes(path)
    # hash the bytes that are parsed below: nothing can change in between
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        raise DataError(
            f"sha256 is {actual} but {entry.manifest} says {entry.sha256}: the file changed "
            "since its provenance was recorded; re-run its script or update the manifest",
            str(path),
        )
    header, rows, lines, excluded = _read_csv(_decode(data, path), path)
    missing = [c for c in columns if c not in header]
    if missing:
        # the field that asked for the file (a problem file's target) comes first
        at = f"{where}: {path}" if where else str(path)
        seps = [s for s in (";", "\t") if len(header) == 1 and s in header[0]]
        if seps:
            raise DataError(
                f"not comma-separated: the header is one field holding {seps[0]!r} "
                f"({_show_name(header[0])}); expected the columns {', '.join(columns)} "
                "separated by commas",
                at,
            )
        shown = [c + _near_column(c, header, columns) for c in missing]
        raise DataError(
            f"missing column(s) {', '.join(shown)}; expected {', '.join(columns)}, "
            f"found {', '.join(_show_name(h) for h in header)}",
            at,
        )
    if not rows:
        raise DataError("file has a header but no rows", str(path))
    return entry, header, rows, lines, excluded


def _near_column(missing: str, header, columns) -> str:
    """`` (the file has X: ...)`` for a column of the file that is not asked for and is
    near ``missing``: the same quantity in another unit (``p_sat_kPa`` for ``p_sat_MPa``,
    ``T_C`` for ``T_K``) or a close spelling, an uncertainty (``u_``) for an uncertainty
    only; else ``""``."""
    u = missing.startswith("u_")
    others = [h for h in header if h not in columns and h.startswith("u_") == u]
    split = _split_unit(missing)
    near = []
    if split is not None:
        stem = split[0]
        near = [
            h
            for h in others
            if (_split_unit(h) or ("",))[0] == stem
            or (h.startswith(f"{stem}_") and "_" not in h[len(stem) + 1 :])
        ]
    near = near or difflib.get_close_matches(missing, others, n=1, cutoff=0.8)
    if not near:
        return ""
    must = f"hold {UNIT_SUFFIXES[split[1]]}, named" if split else "be named"
    return f" (the file has {_show_name(near[0])}: the column must {must} {missing})"


def _column_units(columns, entry: ManifestEntry, path: Path):
    """Conversion factors to internal units and the manifest's unit of each column."""
    factors, file_units = {}, {}
    for col, dim in columns.items():
        unit = entry.units.get(col)
        uwhere = f"{entry.manifest}: units of column {col!r} in {path}"
        factors[col] = units.factor(unit, dim, where=uwhere)
        file_units[col] = unit
        _check_name_unit(col, unit, dim, uwhere)
    return factors, file_units


def _noise_columns(columns, positive, uncertainty_pairs, where):
    """The uncertainty columns and the value column each is paired with (if any)."""
    explicit = dict(uncertainty_pairs or {})
    noise = [c for c in columns if c.startswith("u_") or c in positive or c in explicit]
    pairs = {c: c[2:] for c in noise if c.startswith("u_") and c[2:] in columns}
    pairs.update(explicit)
    stray = [f"{u} -> {v}" for u, v in pairs.items() if u not in columns or v not in columns]
    if stray:
        raise DataError(
            f"uncertainty pair(s) {', '.join(stray)} name columns that are not loaded", where
        )
    return noise, pairs


def _parse_columns(columns, header, rows, lines, factors, file_units, noise, path, ranged):
    """Each column's numbers in file units; errors name the line and column. ``ranged``:
    the dimensions whose sign is checked (:data:`POSITIVE_DIMENSIONS`,
    :data:`NONNEGATIVE_DIMENSIONS`)."""

    raw: dict[str, np.ndarray] = {}
    for col, dim in columns.items():
        j = header.index(col)
        vals = np.empty(len(rows))
        f = factors[col]
        positive_only = col in noise or (dim in ranged and dim in POSITIVE_DIMENSIONS)
        nonnegative = dim in ranged and dim in NONNEGATIVE_DIMENSIONS
        what = "a standard uncertainty" if col in noise else POSITIVE_DIMENSIONS.get(dim)
        for i, row in enumerate(rows):
            try:
                v = _parse_number(row[j])
                if positive_only and v <= 0:
                    raise _NotANumber(f"{what} must be > 0 {file_units[col]}, found {v!r}")
                if nonnegative and v < 0:
                    raise _NotANumber(
                        f"{NONNEGATIVE_DIMENSIONS[dim]} must be >= 0 {file_units[col]}, "
                        f"found {v!r}"
                    )
                if not math.isfinite(v * f):
                    raise _NotANumber(
                        f"{row[j].strip()} {file_units[col]} is beyond the float64 range once "
                        f"converted to {units.INTERNAL_UNITS[dim]}"
                    )
            except _NotANumber as e:
                raise DataError(str(e), f"{path}, line {lines[i]}, column {col!r}") from None
            vals[i] = v
        raw[col] = vals
    return raw


def _check_floors(columns, header, rows, *, lines, raw, factors, file_units, noise, pairs, path):
    """Every uncertainty must be above the absolute and (if paired) relative floor."""

    for col in noise:
        u = raw[col] * factors[col]
        floor = np.full(len(rows), UNCERTAINTY_ABS_FLOOR)
        if col in pairs:
            floor = np.maximum(
                floor, UNCERTAINTY_REL_FLOOR * np.abs(raw[pairs[col]] * factors[pairs[col]])
            )
        high = np.flatnonzero(u > UNCERTAINTY_ABS_CEILING)
        if high.size:
            i = int(high[0])
            cell = rows[i][header.index(col)].strip()
            raise DataError(
                f"a standard uncertainty must be at most {UNCERTAINTY_ABS_CEILING:g} in "
                f"internal units ({units.INTERNAL_UNITS[columns[col]]}), found {cell} "
                f"{file_units[col]}: above it u**2 overflows and the likelihood is not "
                "computable (a row with no information is left out, not given a huge u)",
                f"{path}, line {lines[i]}, column {col!r}",
            )
        bad = np.flatnonzero(u < floor)
        if bad.size:
            i = int(bad[0])
            cell = rows[i][header.index(col)].strip()
            here = f"{path}, line {lines[i]}, column {col!r}"
            if floor[i] > UNCERTAINTY_ABS_FLOOR:
                raise DataError(
                    f"a standard uncertainty must be at least {UNCERTAINTY_REL_FLOOR:g} x "
                    f"|{pairs[col]}| = {floor[i] / factors[col]:.3g} {file_units[col]} here, "
                    f"found {cell}: a smaller one asks the model to match the value more "
                    "closely than float64 round-off allows, so the likelihood is numerically "
                    "meaningless",
                    here,
                )
            raise DataError(
                f"a standard uncertainty must be at least {UNCERTAINTY_ABS_FLOOR:g} in "
                f"internal units ({units.INTERNAL_UNITS[columns[col]]}), found {cell} "
                f"{file_units[col]}: below it u**2 underflows and the Gaussian likelihood "
                "is not computable",
                here,
            )


def _norm(cell: str):
    """A cell for comparing rows: numbers as numbers (2e2 == 200), other text stripped."""
    s = cell.strip(" \t")
    return float(s) if _NUMBER.fullmatch(s) else s


def _deduplicate(header, rows, lines, *, raw, columns, keys, duplicates, path, excluded):
    """Indices of the rows to keep; raises on conflicts and (unless dropping) duplicates."""
    hint = "remove it, or load with duplicates = 'drop' to keep only the first"
    others = [c for c in columns if c not in keys]
    first_row: dict[tuple, int] = {}
    first_env: dict[tuple, int] = {}
    keep = []
    for i, row in enumerate(rows):
        here = f"{path}, line {lines[i]}"
        whole = tuple(_norm(c) for c in row)
        if whole in first_row:
            reason = f"exact duplicate of line {lines[first_row[whole]]}"
            if duplicates == "error":
                raise DataError(f"{reason}; {hint}", here)
            excluded.append(Excluded(lines[i], reason))
            continue
        first_row[whole] = i
        if keys:
            env = tuple(float(raw[k][i]) for k in keys)
            if env in first_env:
                i0 = first_env[env]
                shown = ", ".join(f"{k} = {row[header.index(k)].strip()}" for k in keys)
                diff = [c for c in others if raw[c][i] != raw[c][i0]]
                if diff:
                    c, j = diff[0], header.index(diff[0])
                    raise DataError(
                        f"same environment as line {lines[i0]} ({shown}) but {c} differs: "
                        f"{row[j].strip()} here, {rows[i0][j].strip()} on line {lines[i0]}; "
                        "one environment has one observation: remove one row or combine them",
                        here,
                    )
                reason = f"same environment and values as line {lines[i0]}"
                if duplicates == "error":
                    raise DataError(
                        f"{reason} ({shown}); it would count as a second, independent "
                        f"observation: {hint}",
                        here,
                    )
                excluded.append(Excluded(lines[i], reason))
                continue
            first_env[env] = i
        keep.append(i)
    return keep


@dataclass
class LoadedRows:
    """Rows read from a data file by an observable's own loader.

    ``env`` (column -> (n, ...) internal units), ``values`` and
    ``uncertainties`` ((n, *value shape), the observable's unit; ``None``
    uncertainties when the file has none: the target must give a constant),
    ``file_units`` of the environment columns, ``entry`` (manifest),
    ``labels`` (n,) row labels for the run file (e.g. configuration ids),
    ``excluded`` rows left out (``"line N: reason"``), ``extra`` the file's
    other numeric columns (file units), ``lines`` each row's file line.
    """

    env: dict
    values: np.ndarray
    uncertainties: np.ndarray | None
    file_units: dict
    entry: ManifestEntry | None
    labels: np.ndarray | None = None
    excluded: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    lines: tuple = ()
