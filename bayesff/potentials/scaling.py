r"""1-4 scaling conventions and re-mapping per-atom parameters between them.

A force field scales the non-bonded interactions of a pair of atoms by its
topological distance: 1-2 and 1-3 pairs are excluded, 1-4 pairs are scaled by
``lj14`` (Lennard-Jones) and ``coulomb14`` (Coulomb), pairs further apart
(and pairs in different fragments) are unscaled. Conventions differ in the
two 1-4 factors (:data:`OPLS`, :data:`AMBER`, :data:`CHARMM`).

Re-mapping. Given a molecule parameterised for convention A, look for per-atom
factors that make convention B reproduce every intramolecular pair energy of
A: :math:`\varepsilon_i' = \varepsilon_i f_i^2` and :math:`q_i' = q_i g_i`.
With the geometric epsilon rule :math:`\varepsilon_{ij} = \sqrt{\varepsilon_i
\varepsilon_j}` (OPLS-AA and Lorentz-Berthelot alike) the LJ energy of a pair
at fixed :math:`\sigma_{ij}` is linear in :math:`\varepsilon_{ij}`, which
scales by :math:`f_i f_j`; the Coulomb energy scales by :math:`g_i g_j`.
Matching pair ij means :math:`s_B(ij) f_i f_j = s_A(ij)`, i.e.

.. math::

    \ln f_i + \ln f_j = b_{ij} = \ln \frac{s_A(ij)}{s_B(ij)}
    \qquad \text{for every interacting pair } ij,

:math:`b_{ij} = \ln(s^{14}_A / s^{14}_B)` for 1-4 pairs and 0 for the others
(excluded pairs give no equation). In matrix form :math:`M x = b` with
:math:`M` the unsigned pair-atom incidence matrix of the *interaction graph*
(atoms joined by their interacting pairs). Its rank is n minus the number of
bipartite connected components of that graph (isolated atoms included); the
system is consistent iff the alternating sum of b around every even closed
walk is zero. Consequences, proved in ``docs/scaling_14.md``: a molecule of
topological diameter <= 3 is always consistent (f uniform), one of diameter
>= 5 never is (whenever :math:`s_A^{14} \ne s_B^{14}`), diameter 4 depends.

The residual :math:`r_{ij} = b_{ij} - (x_i + x_j) = \ln(E^A_{ij} / E^{B'}_{ij})`
is the log-ratio of the target pair energy to the re-mapped one: a relative
energy error per pair, whatever the units of the energies (kJ/mol) or
charges (e).

Scope: intramolecular pairs only. Intermolecular pairs are unscaled in both
conventions and force :math:`f_i f_j = 1` (``intermolecular=True`` adds those
rows, for two copies of the molecule); the re-mapped charges need not keep
the net charge. Special 1-4 LJ parameters (CHARMM's ``eps14``/``Rmin14``) and
differences in the sigma combining rule are outside this re-mapping.

The Bayesian version (a prior on the factors, the irreducible residual
sigma_res as an inferred inadequacy scale) is a calibration problem built on
this system: ``bayesian_remap`` in studies/remap.py (an example beside the package).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

__all__ = [
    "AMBER",
    "CHARMM",
    "CONVENTIONS",
    "OPLS",
    "Convention",
    "Molecule",
    "Pair",
    "RemapResult",
    "RemapSystem",
    "pair_classes",
    "remap_system",
    "solve_remap",
    "topological_distances",
]

Kind = Literal["lj", "coulomb"]
_KINDS = ("lj", "coulomb")
_CLASSES = ("1-2", "1-3", "1-4", "nonbonded")


# --------------------------------------------------------------------------- molecules


@dataclass(frozen=True)
class Molecule:
    """A molecular graph: atom labels and bonds between atom indices.

    Parameters
    ----------
    atoms
        Element or type label of each atom (only used for display and for
        :meth:`with_hydrogens`).
    bonds
        Bonds as pairs of 0-based atom indices. Each bond once, no self bonds.
        Disconnected fragments are allowed; pairs across fragments are
        non-bonded (unscaled) pairs.

    Raises
    ------
    ValueError
        On an empty atom list, a bond that is not a pair of integers, an index
        out of range, a self bond or a duplicate bond (in either order).
    """

    atoms: tuple[str, ...]
    bonds: tuple[tuple[int, int], ...]

    def __init__(self, atoms, bonds):
        atoms = tuple(atoms)
        if not atoms:
            raise ValueError("Molecule: expected at least one atom, found none")
        for k, a in enumerate(atoms):
            if not isinstance(a, str):
                raise ValueError(f"Molecule: atom {k} must be a label string, found {a!r}")
        n = len(atoms)
        seen: dict[tuple[int, int], int] = {}
        norm = []
        for k, bond in enumerate(bonds):
            try:
                i, j = bond
            except (TypeError, ValueError):
                raise ValueError(
                    f"Molecule: bond {k} must be a pair of atom indices, found {bond!r}"
                ) from None
            for idx in (i, j):
                if isinstance(idx, bool) or not isinstance(idx, int | np.integer):
                    raise ValueError(
                        f"Molecule: bond {k} = {bond!r}: atom indices must be integers"
                    )
                if not 0 <= idx < n:
                    raise ValueError(
                        f"Molecule: bond {k} = {bond!r}: atom index {idx} out of range "
                        f"0..{n - 1} ({n} atoms)"
                    )
            i, j = int(i), int(j)
            if i == j:
                raise ValueError(f"Molecule: bond {k} = {bond!r} bonds atom {i} to itself")
            key = (min(i, j), max(i, j))
            if key in seen:
                raise ValueError(
                    f"Molecule: bond {k} = {bond!r} duplicates bond {seen[key]} "
                    f"= {bonds[seen[key]]!r}"
                )
            seen[key] = k
            norm.append(key)
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "bonds", tuple(norm))

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.atoms)

    def neighbours(self) -> list[list[int]]:
        """Adjacency lists, atoms in index order."""
        adj: list[list[int]] = [[] for _ in self.atoms]
        for i, j in self.bonds:
            adj[i].append(j)
            adj[j].append(i)
        return adj

    @classmethod
    def chain(cls, n: int, element: str = "C") -> Molecule:
        """Linear chain 0-1-...-(n-1), e.g. united-atom n-alkane heavy atoms."""
        if n < 1:
            raise ValueError(f"Molecule.chain: n must be >= 1, found {n}")
        return cls([element] * n, [(k, k + 1) for k in range(n - 1)])

    @classmethod
    def ring(cls, n: int, element: str = "C") -> Molecule:
        """Ring of n >= 3 atoms, e.g. united-atom cycloalkane heavy atoms."""
        if n < 3:
            raise ValueError(f"Molecule.ring: a ring needs n >= 3 atoms, found {n}")
        return cls([element] * n, [(k, (k + 1) % n) for k in range(n)])

    def with_hydrogens(self, valence: dict[str, int] | None = None) -> Molecule:
        """All-atom version: add H to each atom up to its valence (default C: 4).

        Hydrogens are appended after the existing atoms, in the order of their
        parent atom. Atoms whose label is not in ``valence`` get none.
        """
        valence = {"C": 4} if valence is None else valence
        atoms = list(self.atoms)
        bonds = list(self.bonds)
        for i, nb in enumerate(self.neighbours()):
            missing = valence.get(self.atoms[i], len(nb)) - len(nb)
            if missing < 0:
                raise ValueError(
                    f"with_hydrogens: atom {i} ({self.atoms[i]}) has {len(nb)} bonds, "
                    f"more than its valence {valence[self.atoms[i]]}"
                )
            for _ in range(missing):
                bonds.append((i, len(atoms)))
                atoms.append("H")
        return Molecule(atoms, bonds)


def topological_distances(mol: Molecule) -> np.ndarray:
    """Shortest-path bond counts between all atoms (breadth-first search).

    Returns
    -------
    d
        Integer array (n, n); ``d[i, j]`` = number of bonds on a shortest path,
        -1 where i and j are in different fragments.
    """
    adj = mol.neighbours()
    n = mol.n_atoms
    d = np.full((n, n), -1, dtype=np.int64)
    for s in range(n):
        d[s, s] = 0
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for v in adj[u]:
                if d[s, v] < 0:
                    d[s, v] = d[s, u] + 1
                    queue.append(v)
    return d


def pair_classes(mol: Molecule) -> dict[str, list[tuple[int, int]]]:
    """Classify every atom pair i < j by shortest-path topological distance.

    Returns
    -------
    classes
        ``{"1-2": [...], "1-3": [...], "1-4": [...], "nonbonded": [...]}``:
        distance 1, 2, 3, and > 3 or in different fragments. A pair joined by
        paths of several lengths (rings) takes the shortest, as GROMACS'
        ``nrexcl = 3`` exclusions do.
    """
    d = topological_distances(mol)
    out: dict[str, list[tuple[int, int]]] = {c: [] for c in _CLASSES}
    for i in range(mol.n_atoms):
        for j in range(i + 1, mol.n_atoms):
            dij = int(d[i, j])
            cls = {1: "1-2", 2: "1-3", 3: "1-4"}.get(dij, "nonbonded")
            out[cls].append((i, j))
    return out


# --------------------------------------------------------------------------- conventions


class Convention(NamedTuple):
    """A 1-4 scaling convention (1-2 and 1-3 excluded, beyond 1-4 unscaled).

    Parameters
    ----------
    name
        Label.
    lj14
        Factor on the 1-4 Lennard-Jones energy (GROMACS ``fudgeLJ``), > 0.
    coulomb14
        Factor on the 1-4 Coulomb energy (GROMACS ``fudgeQQ``), > 0.
    """

    name: str
    lj14: float
    coulomb14: float

    def check(self) -> Convention:
        """Return self, or raise ValueError if a factor is not finite and > 0.

        A zero factor (1-4 excluded) cannot be matched by finite per-atom
        factors, and the re-mapping works in logarithms.
        """
        for field in ("lj14", "coulomb14"):
            v = getattr(self, field)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(
                    f"Convention {self.name!r}: {field} must be a finite number > 0, found {v!r}"
                )
        return self

    def scale14(self, kind: Kind) -> float:
        """The 1-4 factor for ``kind`` ("lj" or "coulomb")."""
        return self.lj14 if _check_kind(kind) == "lj" else self.coulomb14


OPLS = Convention("OPLS-AA", 0.5, 0.5)
"""OPLS-AA: 1-4 LJ and Coulomb halved.

W. L. Jorgensen, D. S. Maxwell, J. Tirado-Rives, J. Am. Chem. Soc. 118, 11225
(1996), doi:10.1021/ja9621760; GROMACS ``oplsaa.ff``: fudgeLJ 0.5, fudgeQQ 0.5.
"""

AMBER = Convention("AMBER", 0.5, 1.0 / 1.2)
"""AMBER (ff94 onwards, GAFF): 1-4 LJ / 2 (SCNB = 2), 1-4 Coulomb / 1.2 (SCEE = 1.2).

W. D. Cornell et al., J. Am. Chem. Soc. 117, 5179 (1995), doi:10.1021/ja00124a002;
GROMACS ``amber99.ff``: fudgeLJ 0.5, fudgeQQ 0.8333.
"""

CHARMM = Convention("CHARMM", 1.0, 1.0)
"""CHARMM22/27/36: 1-4 pairs unscaled (e14fac = 1); some atom types carry special
1-4 LJ parameters, which a scale factor does not describe.

A. D. MacKerell Jr. et al., J. Phys. Chem. B 102, 3586 (1998), doi:10.1021/jp973084f;
GROMACS ``charmm27.ff``: fudgeLJ 1.0, fudgeQQ 1.0.
"""

CONVENTIONS = {"opls": OPLS, "amber": AMBER, "charmm": CHARMM}


def _check_kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, found {kind!r}")
    return kind


def _convention(c: Convention | str) -> Convention:
    if isinstance(c, str):
        try:
            return CONVENTIONS[c.lower()]
        except KeyError:
            raise ValueError(
                f"unknown convention {c!r}; known: {sorted(CONVENTIONS)} or a Convention"
            ) from None
    if not isinstance(c, Convention):
        raise ValueError(f"expected a Convention or a name, found {c!r}")
    return c.check()


# --------------------------------------------------------------------------- linear system


class Pair(NamedTuple):
    """One interacting pair: atoms i < j and its class.

    ``cls`` is "1-4", "nonbonded" or "intermolecular" (atom i of one copy of
    the molecule with atom j of another; then i <= j).
    """

    i: int
    j: int
    cls: str


class RemapSystem(NamedTuple):
    """The linear system M x = b in x = ln f (LJ) or ln g (Coulomb).

    Attributes
    ----------
    M
        (m, n) float array; row k has 1 at ``pairs[k].i`` and ``pairs[k].j``
        (2 on the diagonal for an intermolecular i-i row).
    b
        (m,) float array, :math:`\\ln(s_A/s_B)` of each pair.
    pairs
        The m pairs, in row order.
    """

    M: np.ndarray
    b: np.ndarray
    pairs: tuple[Pair, ...]


def remap_system(
    mol: Molecule,
    conv_from: Convention | str,
    conv_to: Convention | str,
    kind: Kind = "lj",
    *,
    intermolecular: bool = False,
) -> RemapSystem:
    """Build M x = b whose solution re-maps ``conv_from`` parameters to ``conv_to``.

    Parameters
    ----------
    mol
        The molecule.
    conv_from, conv_to
        Conventions (or names "opls", "amber", "charmm"): the energies of
        ``conv_from`` are the target, the re-mapped parameters are used with
        ``conv_to``.
    kind
        "lj": x = ln f with :math:`\\varepsilon_i' = \\varepsilon_i f_i^2`;
        "coulomb": x = ln g with :math:`q_i' = q_i g_i`.
    intermolecular
        Also require the pairs between two copies of the molecule (all i <= j,
        unscaled in both conventions, b = 0) to match.

    Returns
    -------
    RemapSystem
        Rows in the order: 1-4 pairs, non-bonded pairs, intermolecular pairs.
    """
    a, bconv = _convention(conv_from), _convention(conv_to)
    _check_kind(kind)
    b14 = math.log(a.scale14(kind) / bconv.scale14(kind))
    classes = pair_classes(mol)
    pairs = [Pair(i, j, "1-4") for i, j in classes["1-4"]]
    pairs += [Pair(i, j, "nonbonded") for i, j in classes["nonbonded"]]
    if intermolecular:
        n = mol.n_atoms
        pairs += [Pair(i, j, "intermolecular") for i in range(n) for j in range(i, n)]
    M = np.zeros((len(pairs), mol.n_atoms))
    for k, p in enumerate(pairs):
        M[k, p.i] += 1.0
        M[k, p.j] += 1.0
    b = np.array([b14 if p.cls == "1-4" else 0.0 for p in pairs], dtype=float)
    return RemapSystem(M, b, tuple(pairs))


class RemapResult(NamedTuple):
    """Least-squares re-mapping and its diagnosis (see :func:`solve_remap`).

    Attributes
    ----------
    kind
        "lj" or "coulomb".
    log_factors
        x = ln f (LJ) or ln g (Coulomb), shape (n,): the minimum-norm
        least-squares solution.
    factors
        f (epsilon_i' = epsilon_i f_i^2) or g (q_i' = q_i g_i), dimensionless.
    residual
        b - M x per pair, shape (m,): ln(E_target / E_remapped) of each pair.
    rms_residual
        Root mean square of ``residual`` (0 when there are no pairs).
    max_abs_residual
        Largest ``|residual|``.
    rank
        Rank of M.
    n_unknowns
        n, the number of atoms.
    n_equations
        m, the number of interacting pairs.
    consistent
        True when ``max_abs_residual <= tol``: every pair energy is matched.
    diagnosis
        "inconsistent" (least-squares residual > tol), else "under-determined"
        (rank < n: a family of exact solutions, the minimum-norm one returned),
        else "over-determined and consistent" (m > rank = n), else "exact"
        (m = rank = n).
    pairs
        The m pairs, in row order.
    residual_pairs
        The pairs with ``|residual| > tol``, the ones that carry the residual.
    """

    kind: str
    log_factors: np.ndarray
    factors: np.ndarray
    residual: np.ndarray
    rms_residual: float
    max_abs_residual: float
    rank: int
    n_unknowns: int
    n_equations: int
    consistent: bool
    diagnosis: str
    pairs: tuple[Pair, ...]
    residual_pairs: tuple[Pair, ...]

    @property
    def redundancy(self) -> int:
        """m - rank: the number of independent consistency conditions."""
        return self.n_equations - self.rank


def solve_remap(
    mol: Molecule,
    conv_from: Convention | str,
    conv_to: Convention | str,
    kind: Kind = "lj",
    *,
    intermolecular: bool = False,
    tol: float = 1e-10,
) -> RemapResult:
    """Least-squares per-atom factors that carry ``conv_from`` energies into ``conv_to``.

    Solves :math:`\\min_x \\lVert M x - b \\rVert_2` (minimum-norm solution by
    SVD, :func:`numpy.linalg.lstsq`) for the system of :func:`remap_system`.

    Parameters
    ----------
    mol, conv_from, conv_to, kind, intermolecular
        As in :func:`remap_system`.
    tol
        Absolute tolerance on a residual, in ln units (relative energy). The
        default 1e-10 is far above float64 SVD round-off for these integer
        matrices (~1e-15 |b|) and far below any physical mismatch.

    Returns
    -------
    RemapResult
    """
    M, b, pairs = remap_system(mol, conv_from, conv_to, kind, intermolecular=intermolecular)
    m, n = M.shape
    if m:
        x = np.linalg.lstsq(M, b, rcond=None)[0]
        rank = int(np.linalg.matrix_rank(M))
    else:
        x, rank = np.zeros(n), 0
    r = b - M @ x
    max_abs = float(np.max(np.abs(r))) if m else 0.0
    consistent = max_abs <= tol
    if not consistent:
        diagnosis = "inconsistent"
    elif rank < n:
        diagnosis = "under-determined"
    elif m > rank:
        diagnosis = "over-determined and consistent"
    else:
        diagnosis = "exact"
    return RemapResult(
        kind=kind,
        log_factors=x,
        factors=np.exp(x),
        residual=r,
        rms_residual=float(np.sqrt(np.mean(r**2))) if m else 0.0,
        max_abs_residual=max_abs,
        rank=rank,
        n_unknowns=n,
        n_equations=m,
        consistent=consistent,
        diagnosis=diagnosis,
        pairs=pairs,
        residual_pairs=tuple(p for p, rk in zip(pairs, r, strict=True) if abs(rk) > tol),
    )
