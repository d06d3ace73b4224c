"""Configurations (geometries with reference energies and forces) as data.

A configuration file is a CSV listed in a ``manifest.toml`` with one row per
atom: ``config_id, atom, x_angstrom, y_angstrom, z_angstrom, E_kJ_per_mol,
Fx_kJ_per_mol_A, Fy_kJ_per_mol_A, Fz_kJ_per_mol_A`` (E, the configuration's
total energy, repeated on each of its rows), and optionally per-atom site
columns (:data:`SITE_COLUMNS`: ``charge_e``, the atom's charge in e, and
``type``, its site type 0, 1, ...) that cluster potentials
(:class:`bayesff.potentials.ClusterPotential`, e.g. ions with charges and
polarisabilities) read; they enter a target's environment as arrays of shape
(configurations, atoms). :func:`load_configurations`
reads it into :class:`Configurations`; :func:`configuration_rows` gives the
rows of a ``configuration_energy`` or ``configuration_forces`` target (one row
per configuration), with the site columns in its environment.
:func:`random_dimers`, :func:`random_trimers` and
:func:`reference_configurations` make synthetic sets (data/scripts/).
Units: angstrom, kJ/mol, kJ/mol/angstrom.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bayesff.data import LoadedRows, load_table
from bayesff.errors import DataError, ProblemError
from bayesff.observables.configurations import energies_and_forces as pair_energies_and_forces
from bayesff.potentials import cluster
from bayesff.units import INTERNAL_UNITS

__all__ = [
    "CONFIG_COLUMNS",
    "SITE_COLUMNS",
    "Configurations",
    "configuration_rows",
    "load_configurations",
    "random_dimers",
    "random_trimers",
    "reference_configurations",
    "site_units",
]

#: Columns of a configuration file and their physical dimensions.
CONFIG_COLUMNS = {
    "config_id": "dimensionless",
    "atom": "dimensionless",
    "x_angstrom": "length",
    "y_angstrom": "length",
    "z_angstrom": "length",
    "E_kJ_per_mol": "energy",
    "Fx_kJ_per_mol_A": "force",
    "Fy_kJ_per_mol_A": "force",
    "Fz_kJ_per_mol_A": "force",
}

#: Optional per-atom site columns and their physical dimensions: the charge of
#: the atom (e, before any scaling) and its site type (an integer label 0, 1,
#: ... that selects per-type parameters of a cluster potential).
SITE_COLUMNS = {"charge_e": "charge", "type": "dimensionless"}


@dataclass(frozen=True)
class Configurations:
    """Configurations with the same number of atoms, and their reference values.

    Parameters
    ----------
    positions
        Shape (M, N, 3), angstrom.
    energy
        Shape (M,), kJ/mol, or ``None`` (no energies).
    forces
        Shape (M, N, 3), kJ/mol/angstrom, or ``None`` (no forces).
    name
        Label used for the observed-data variables (``E_<name>``, ``F_<name>``);
        letters, digits and underscores.
    config_ids
        Shape (M,), integer ids (default 0..M-1).
    source
        Where the values came from (file path), for messages.
    entry
        The data file's manifest entry (``None`` for arrays given in Python).
    sites
        Per-atom site columns (:data:`SITE_COLUMNS`), each of shape (M, N):
        ``charge_e`` in e, ``type`` integer labels >= 0; empty when the
        configurations carry none (pair potentials need none).
    """

    positions: np.ndarray
    energy: np.ndarray | None = None
    forces: np.ndarray | None = None
    name: str = "configs"
    config_ids: np.ndarray | None = None
    source: str | None = None
    entry: object = None
    sites: dict = field(default_factory=dict)

    def __post_init__(self):
        where = self.source or f"Configurations {self.name!r}"
        if not self.name.replace("_", "a").isalnum():
            raise ProblemError(f"name must be letters, digits, '_'; got {self.name!r}", where)
        x = np.asarray(self.positions, dtype=float)
        if x.ndim != 3 or x.shape[-1] != 3 or x.shape[1] < 2 or x.shape[0] < 1:
            raise ProblemError(
                f"positions must have shape (M, N, 3) with M >= 1, N >= 2; got {x.shape}", where
            )
        object.__setattr__(self, "positions", x)
        m = x.shape[0]
        if self.energy is not None:
            e = np.asarray(self.energy, dtype=float)
            if e.shape != (m,):
                raise ProblemError(f"energy must have shape ({m},), got {e.shape}", where)
            object.__setattr__(self, "energy", e)
        if self.forces is not None:
            f = np.asarray(self.forces, dtype=float)
            if f.shape != x.shape:
                raise ProblemError(f"forces must have shape {x.shape}, got {f.shape}", where)
            object.__setattr__(self, "forces", f)
        ids = np.arange(m) if self.config_ids is None else np.asarray(self.config_ids)
        if ids.shape != (m,):
            raise ProblemError(f"config_ids must have shape ({m},), got {ids.shape}", where)
        object.__setattr__(self, "config_ids", ids)
        for label, v in (("positions", x), ("energy", self.energy), ("forces", self.forces)):
            if v is not None and not np.all(np.isfinite(v)):
                bad = np.argwhere(~np.isfinite(v))[0]
                raise ProblemError(
                    f"{label} must be finite; found {v[tuple(bad)]!r} at index {tuple(bad)} "
                    f"(config_id {ids[bad[0]]})",
                    where,
                )
        object.__setattr__(self, "sites", _check_site_arrays(self.sites, x.shape[:2], ids, where))

    @classmethod
    def from_arrays(
        cls, positions, energy=None, forces=None, *, name="configs", config_ids=None, sites=None
    ):
        """Build from arrays in internal units (angstrom, kJ/mol, kJ/mol/angstrom).

        ``sites``: per-atom site columns (:data:`SITE_COLUMNS`), each (M, N) or
        (N,) (the same for every configuration).
        """
        return cls(
            positions, energy, forces, name=name, config_ids=config_ids, sites=dict(sites or {})
        )

    @property
    def n_configs(self) -> int:
        return self.positions.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.positions.shape[1]

    def replace(self, *, energy=None, forces=None, name=None) -> Configurations:
        """A copy with new energies and/or forces (e.g. with noise added)."""
        return Configurations(
            self.positions,
            self.energy if energy is None else energy,
            self.forces if forces is None else forces,
            name=self.name if name is None else name,
            config_ids=self.config_ids,
            source=self.source,
            sites=self.sites,
        )


def _check_site_arrays(sites, shape: tuple[int, int], ids, where: str) -> dict:
    """Site columns as float arrays of shape (M, N), checked (see :data:`SITE_COLUMNS`)."""
    m, n = shape
    out = {}
    for col, v in dict(sites or {}).items():
        if col not in SITE_COLUMNS:
            raise ProblemError(
                f"unknown site column {col!r}; site columns are {', '.join(SITE_COLUMNS)}", where
            )
        a = np.asarray(v, dtype=float)
        if a.shape == (n,):
            a = np.broadcast_to(a, (m, n)).copy()
        if a.shape != (m, n):
            raise ProblemError(
                f"site column {col!r} must have shape ({m}, {n}) (configurations, atoms) or "
                f"({n},), got {a.shape}",
                where,
            )
        if not np.all(np.isfinite(a)):
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ProblemError(
                f"site column {col!r} must be finite; found {a[tuple(bad)]!r} at atom {bad[1]} "
                f"of config_id {ids[bad[0]]}",
                where,
            )
        if col == "type":
            bad = np.argwhere((a != np.round(a)) | (a < 0))
            if bad.size:
                i, j = bad[0]
                raise ProblemError(
                    f"site column 'type' holds integer labels >= 0; found {a[i, j]!r} at atom "
                    f"{j} of config_id {ids[i]}",
                    where,
                )
        out[col] = a
    return out


def load_configurations(path: str | Path, *, name: str | None = None) -> Configurations:
    """Load a configuration file (one row per atom) into :class:`Configurations`.

    The file must be listed in a ``manifest.toml`` with units for every column
    of :data:`CONFIG_COLUMNS` (checked, with its sha256, by
    :func:`bayesff.data.load_table`, which converts to internal units). Rows of
    a configuration are consecutive, atoms numbered 0..N-1 in order, every
    configuration has the same N, and E is repeated on each row of a
    configuration (the configuration's total energy).

    Parameters
    ----------
    path
        The CSV file.
    name
        Label (default: the file's stem).

    Raises
    ------
    DataError
        Naming the file, line and column of the first offending value.
    """
    # Long because: sites, configurations and their energies/forces are cross-checked
    # row by row here so that every error names the file, configuration and site.

    path = Path(path)
    present = [col for col in SITE_COLUMNS if col in _header(path)]
    columns = {**CONFIG_COLUMNS, **{col: SITE_COLUMNS[col] for col in present}}
    tab = load_table(path, columns, key_columns=("config_id", "atom"))
    c = tab.columns

    def here(i: int, col: str) -> str:
        # i: 0-based data row; +2 for the header and 1-based lines (no blank lines).
        return f"{path}, line {i + 2}, column {col!r}"

    for col in ("config_id", "atom", *(["type"] if "type" in present else [])):
        v = c[col]
        bad = np.flatnonzero((v != np.round(v)) | (v < 0))
        if bad.size:
            raise DataError(
                f"expected a non-negative integer, found {float(v[bad[0]])!r}", here(bad[0], col)
            )
    cid = c["config_id"].astype(int)
    atom = c["atom"].astype(int)
    starts = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1]])
    ids = cid[starts]
    if np.unique(ids).size != ids.size:
        dup = next(i for i in range(1, len(starts)) if ids[i] in ids[:i])
        raise DataError(
            f"config_id {ids[dup]} appears again after other configurations; the rows of a "
            "configuration must be consecutive",
            here(starts[dup], "config_id"),
        )
    sizes = np.diff(np.r_[starts, cid.size])
    n = int(sizes[0])
    for k, (s, size) in enumerate(zip(starts, sizes, strict=True)):
        if size != n:
            raise DataError(
                f"config_id {ids[k]} has {size} atoms but config_id {ids[0]} has {n}; a file "
                "holds configurations with the same number of atoms (one file per kind)",
                here(s, "config_id"),
            )
        want = np.arange(n)
        got = atom[s : s + n]
        if not np.array_equal(got, want):
            j = int(np.flatnonzero(got != want)[0])
            raise DataError(
                f"atoms of config_id {ids[k]} must be numbered 0..{n - 1} in order; expected "
                f"{j}, found {got[j]}",
                here(s + j, "atom"),
            )
        e = c["E_kJ_per_mol"][s : s + n]
        if not np.allclose(e, e[0], rtol=1e-12, atol=0.0):
            j = int(np.flatnonzero(~np.isclose(e, e[0], rtol=1e-12, atol=0.0))[0])
            raise DataError(
                f"E is the configuration's total energy and must be the same on each of its "
                f"rows; expected {float(e[0])!r} (line {s + 2}), found {float(e[j])!r}",
                here(s + j, "E_kJ_per_mol"),
            )
    m = len(starts)
    pos = np.stack([c["x_angstrom"], c["y_angstrom"], c["z_angstrom"]], -1).reshape(m, n, 3)
    frc = np.stack([c["Fx_kJ_per_mol_A"], c["Fy_kJ_per_mol_A"], c["Fz_kJ_per_mol_A"]], -1).reshape(
        m, n, 3
    )
    return Configurations(
        pos,
        c["E_kJ_per_mol"][starts],
        frc,
        name=name or path.stem,
        config_ids=ids,
        source=str(path),
        entry=tab.entry,
        sites={col: c[col].reshape(m, n) for col in present},
    )


def _header(path: Path) -> list[str]:
    """Column names of a CSV file's first line ([] if it cannot be read: load_table says why)."""

    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [h.strip() for h in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError):
        return []


def _random_rotations(rng: np.random.Generator, m: int) -> np.ndarray:
    """m uniformly random rotation matrices (QR of Gaussian matrices, sign-fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((m, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    det = np.linalg.det(q)
    q[:, :, 0] *= det[:, None]  # proper rotations (det = +1)
    return q


def _place(rng, local: np.ndarray, shift: float) -> np.ndarray:
    """Randomly rotate and translate configurations (M, N, 3)."""
    rot = _random_rotations(rng, local.shape[0])
    x = np.einsum("mij,mnj->mni", rot, local)
    return x + rng.uniform(-shift, shift, (local.shape[0], 1, 3))


def random_dimers(rng: np.random.Generator, m: int, r_min: float, r_max: float, *, shift=2.0):
    """m dimers with r uniform in [r_min, r_max] angstrom, random orientation and centre.

    Returns
    -------
    numpy.ndarray
        Positions, shape (m, 2, 3), angstrom.
    """
    r = rng.uniform(r_min, r_max, m)
    local = np.zeros((m, 2, 3))
    local[:, 1, 0] = r
    return _place(rng, local, shift)


def random_trimers(
    rng: np.random.Generator, m: int, side_min: float, side_max: float, *, shift=2.0
):
    """m triangles with all three sides uniform in [side_min, side_max] angstrom.

    Side lengths are drawn independently and triangles that violate the
    triangle inequality are rejected; each is then rotated and translated at
    random.

    Returns
    -------
    numpy.ndarray
        Positions, shape (m, 3, 3), angstrom.
    """
    out = []
    while len(out) < m:
        a, b, c = rng.uniform(side_min, side_max, 3)  # a = |01|, b = |02|, c = |12|
        if not (a < b + c and b < a + c and c < a + b):
            continue
        x2 = (a * a + b * b - c * c) / (2 * a)
        y2 = math.sqrt(max(b * b - x2 * x2, 0.0))
        out.append([[0.0, 0.0, 0.0], [a, 0.0, 0.0], [x2, y2, 0.0]])
    return _place(rng, np.asarray(out), shift)


def reference_configurations(potential, params: dict, positions, *, name="configs", sites=None):
    """Configurations with energies and forces evaluated from a pair or cluster potential.

    Parameters
    ----------
    potential
        A pair potential, or a cluster potential
        (:class:`~bayesff.potentials.ClusterPotential`); ``params`` in internal units.
    positions
        Shape (M, N, 3), angstrom.
    sites
        Per-atom site columns (:data:`SITE_COLUMNS`) a cluster potential reads,
        each (M, N) or (N,).

    Raises
    ------
    ClusterEnergyError
        If a cluster potential fails on a configuration (e.g. the polarisation
        catastrophe), naming the configuration and the sites.
    """
    x = np.asarray(positions, dtype=float)
    if getattr(potential, "kind", "pair") == "cluster":
        c = Configurations(x, name=name, sites=sites)
        cluster.check_sites(potential, x, c.sites, f"configurations {name!r}")
        e, f, status = cluster.energies_and_forces(potential, params, x, c.sites)
        bad = np.flatnonzero(np.asarray(status) != 0)
        if bad.size:  # eager: the error names the sites and parameters
            k = int(bad[0])
            cluster.check_energy(
                potential,
                params,
                x[k],
                {col: v[k] for col, v in c.sites.items()},
                f"configurations {name!r}, configuration {k}",
            )
        return c.replace(energy=np.asarray(e), forces=np.asarray(f))
    e, f = pair_energies_and_forces(potential, params, x)
    return Configurations(positions, np.asarray(e), np.asarray(f), name=name, sites=sites)


def configuration_rows(observable, path, where: str):
    """Rows of a configuration target: one per configuration (see the module docstring).

    Returns a :class:`bayesff.targets.LoadedRows` with the environment
    ``positions_angstrom`` (n, N, 3) and the file's site columns (n, N) (e.g.
    ``charge_e``, ``type``), the energies (n,) or forces (n, N, 3),
    no uncertainties (a target gives ``noise = { value = U }``) and the
    configuration ids as row labels.
    """
    c = load_configurations(path)
    if observable.value_column == "E_kJ_per_mol":
        values = c.energy
    elif observable.value_column == "F_kJ_per_mol_A":
        values = c.forces
    else:
        raise ProblemError(
            f"{observable.name} is not a configuration observable (its value column is "
            f"{observable.value_column!r})",
            where,
        )
    return LoadedRows(
        env={"positions_angstrom": c.positions, **c.sites},
        values=values,
        uncertainties=None,
        file_units={"positions_angstrom": "angstrom", **site_units(c)},
        entry=c.entry,
        labels=np.asarray(c.config_ids),
    )


def site_units(c: Configurations) -> dict:

    return {col: INTERNAL_UNITS[SITE_COLUMNS[col]] for col in c.sites}
