r"""Molecule definitions for molecular force fields: sites, bonded terms, exclusions.

A :class:`MoleculeType` is a set of sites, each of a *site type* (``"CH3"``,
``"CH2"``), joined by bonds (fixed lengths, i.e. constraints, or harmonic
springs), with harmonic angles, torsions in the existing Fourier or
Ryckaert-Bellemans forms (:mod:`bayesff.potentials.torsion`) and a 1-4
scaling convention (:mod:`bayesff.potentials.scaling`). A :class:`Topology`
holds the site types (with their masses), the molecule types and the
nonbonded model: LJ 12-6 or Mie between site types, a combining rule, a
cut-off and whether the analytic long-range tail is added. The nonbonded
parameters themselves (``epsilon_CH3``, ``sigma_CH3``, ...) are *not* part of
the topology: they are the calibrated parameters, shared by every molecule
through the site types, and are passed to the energy functions of
:mod:`bayesff.potentials.forcefield` as a dict (:func:`parameter_names`).

Exclusions. Pairs of sites of one molecule are classified by their
topological distance (:func:`bayesff.potentials.scaling.pair_classes`,
shortest path): 1-2 and 1-3 pairs are always excluded, 1-4 pairs are scaled
by the convention's ``lj14`` factor (0: excluded, as in the united-atom
TraPPE model, which has no nonbonded interaction within three bonds), pairs
further apart interact fully. Pairs of different molecules always interact
fully.

Units: lengths angstrom, energies kJ/mol, angles rad, masses g/mol. Bond
and angle energies are :math:`\tfrac{k}{2}(x - x_0)^2` (the OpenMM and
GROMACS convention; TraPPE quotes its bending constant in the same
convention).

The TraPPE-UA n-alkanes come from :func:`trappe_alkane`; a molecule written
as a plain dict (the ``[[molecules]]`` table of a problem file) from
:func:`topology_from_dict`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from bayesff import units
from bayesff.errors import ProblemError
from bayesff.potentials._spec import ParamSpec
from bayesff.potentials.scaling import (
    AMBER,
    CHARMM,
    OPLS,
    Convention,
    Molecule,
    pair_classes,
    topological_distances,
)
from bayesff.priors import PriorSpec, Support
from bayesff.schemas import check_document

__all__ = [
    "BOND_LENGTH_RANGE_ANGSTROM",
    "COMBINING_RULES",
    "COORDINATE_BOND_TOLERANCE",
    "COORDINATE_FLEXIBLE_BOND_TOLERANCE",
    "FORMS",
    "MAX_ALKANE_CARBONS",
    "MIN_THETA0_DEG",
    "SCALING",
    "SITE_MASS_RANGE_G_PER_MOL",
    "TRAPPE_UA",
    "TRAPPE_UA_ALKANE",
    "Angle",
    "Bond",
    "MoleculeType",
    "SiteType",
    "Topology",
    "Torsion",
    "parameter_names",
    "parameter_specs",
    "topology_from_dict",
    "topology_to_dict",
    "trappe_alkane",
    "trappe_topology",
]

#: Nonbonded forms: LJ 12-6, or Mie n-m with per-type exponents ``n_T``, ``m_T``.
FORMS = ("lj", "mie")
#: Combining rules for unlike site types (:func:`bayesff.potentials.forcefield.pair_tables`).
COMBINING_RULES = ("lorentz_berthelot", "geometric", "explicit")

TRAPPE_UA = Convention("TraPPE-UA", 0.0, 0.0)
"""TraPPE-UA: no nonbonded interaction within three bonds (1-4 excluded, lj14 = 0).

M. G. Martin and J. I. Siepmann, J. Phys. Chem. B 102, 2569 (1998),
doi:10.1021/jp972543+ (intramolecular LJ only between sites more than three
bonds apart).
"""

#: Scaling conventions by name: 1-4 LJ factor of each (0 = 1-4 excluded).
SCALING: dict[str, Convention] = {
    "trappe": TRAPPE_UA,
    "opls": OPLS,
    "amber": AMBER,
    "charmm": CHARMM,
}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class SiteType:
    """A site type: its name and mass.

    Parameters
    ----------
    name
        Label used in parameter names (``epsilon_<name>``); letters, digits
        and ``_`` only.
    mass_g_per_mol
        Mass of the site, g/mol (> 0).
    """

    name: str
    mass_g_per_mol: float


@dataclass(frozen=True)
class Bond:
    """A bond between sites i and j.

    Parameters
    ----------
    i, j
        Site indices (0-based, within the molecule).
    length_angstrom
        Equilibrium (or fixed) length, angstrom.
    k_kJ_per_mol_A2
        Force constant k of :math:`\\tfrac{k}{2}(r - r_0)^2`, kJ/mol/angstrom^2;
        ``None`` for a fixed bond (a holonomic constraint, no energy term).
    """

    i: int
    j: int
    length_angstrom: float
    k_kJ_per_mol_A2: float | None = None

    @property
    def fixed(self) -> bool:
        """True for a constraint (no energy term)."""
        return self.k_kJ_per_mol_A2 is None


@dataclass(frozen=True)
class Angle:
    """A harmonic bending term :math:`\\tfrac{k}{2}(\\theta - \\theta_0)^2` at the middle site j.

    Parameters
    ----------
    i, j, k
        Site indices; i-j and j-k must be bonded.
    theta0_rad
        Equilibrium angle, rad.
    k_kJ_per_mol_rad2
        Force constant, kJ/mol/rad^2.
    """

    i: int
    j: int
    k: int
    theta0_rad: float
    k_kJ_per_mol_rad2: float


@dataclass(frozen=True)
class Torsion:
    """A torsion about the j-k bond of the chain i-j-k-l.

    Parameters
    ----------
    i, j, k, l
        Site indices; i-j, j-k and k-l must be bonded.
    form
        ``"fourier"`` (OPLS V1..V4, :func:`bayesff.potentials.torsion.fourier`)
        or ``"ryckaert_bellemans"`` (C0..C5,
        :func:`bayesff.potentials.torsion.ryckaert_bellemans`).
    coefficients_kJ_per_mol
        V1..V4 (4 numbers) or C0..C5 (6 numbers), kJ/mol. The dihedral angle
        follows the IUPAC convention (cis = 0, trans = pi).
    """

    i: int
    j: int
    k: int
    l: int  # noqa: E741 - the fourth site of a dihedral is l by convention
    form: str
    coefficients_kJ_per_mol: tuple[float, ...]

    def ryckaert_bellemans(self) -> tuple[float, ...]:
        """The term as Ryckaert-Bellemans coefficients C0..C5, kJ/mol (exact for Fourier).

        The conversion of :func:`bayesff.potentials.torsion.fourier_to_ryckaert_bellemans`,
        written again in float64 NumPy here so that these constants do not depend on
        JAX's x64 setting (JAX computes in float32 without it); the two are checked
        equal in tests/potentials/test_topology.py.
        """
        c = tuple(float(x) for x in self.coefficients_kJ_per_mol)
        if self.form == "ryckaert_bellemans":
            return c
        v1, v2, v3, v4 = c
        return (
            v2 + 0.5 * (v1 + v3),
            0.5 * (3.0 * v3 - v1),
            4.0 * v4 - v2,
            -2.0 * v3,
            -4.0 * v4,
            0.0,
        )


_TORSION_SIZES = {"fourier": 4, "ryckaert_bellemans": 6}

#: Plausible bond lengths, angstrom: covalent bonds are 0.74 (H-H) to about 3 (I-I 2.67),
#: coarse-grained bonds (MARTINI and its like) up to about 5. Outside this range a
#: length is a unit slip (1.54 with ``length_unit = "nm"`` is a 15.4 angstrom C-C bond).
BOND_LENGTH_RANGE_ANGSTROM = (0.5, 10.0)
#: Smallest plausible equilibrium bond angle, deg (cyclopropane's 60 deg is the smallest
#: in a molecule); below it theta0 is a unit slip (1.99 rad written as 1.99 deg).
MIN_THETA0_DEG = 30.0
#: Plausible site masses, g/mol: the lightest atom is H (1.008), a coarse-grained bead
#: weighs a few hundred, a heavy one (C60 as one site, 720; a polymer's Kuhn segment) up
#: to a few thousand; outside, a unit slip (15.035 with ``mass_unit = "kg/mol"`` is 15035
#: g/mol; review 2026-11-30: 1000 refused heavy beads).
SITE_MASS_RANGE_G_PER_MOL = (0.5, 5000.0)
#: Largest relative difference between a bonded pair's distance in given start
#: coordinates and its bond length. The coordinates only start a run: the engines
#: project them onto the constraints (SHAKE, OpenMM applyConstraints) and minimise
#: before any frame is kept, so a hand-typed geometry need not be exact (the branched
#: test molecule of tests/simulate/test_molecules.py is 12.5 % off); what must be
#: refused is a geometry the projection cannot repair or that belongs to another
#: molecule: two sites at one point (a division by zero in SHAKE), a unit slip (a
#: factor 1.89 or more: bohr, nm) or rows out of order (a 1-3 distance is 1.4 or more
#: times a bond). 20 % lies well between the two, for a fixed bond (a constraint).
COORDINATE_BOND_TOLERANCE = 0.2
#: The same for a flexible (harmonic) bond, whose length in a snapshot of a soft
#: coarse-grained model spreads by 10 % or more at one sd (review, 2026-11-30): a unit
#: slip (a factor 1.89 or more) and two sites at one point are still refused.
COORDINATE_FLEXIBLE_BOND_TOLERANCE = 0.5


@dataclass(frozen=True)
class MoleculeType:
    """A molecule: typed sites, bonds, angles, torsions and its 1-4 convention.

    Validated on construction (:class:`~bayesff.errors.ProblemError` naming
    ``molecules[<name>].<field>``): indices in range, every angle and torsion
    on bonded sites, one connected molecule, and plausible values, so that a
    unit slip is refused with a hint to the unit: bond lengths in
    :data:`BOND_LENGTH_RANGE_ANGSTROM`, theta0 from :data:`MIN_THETA0_DEG` to
    180 deg, 1-4 factors in [0, 1], and given coordinates that place every
    bonded pair within :data:`COORDINATE_BOND_TOLERANCE` of its bond length.

    Parameters
    ----------
    name
        Molecule name (``"butane"``).
    sites
        Site type name of each site.
    bonds, angles, torsions
        Bonded terms (:class:`Bond`, :class:`Angle`, :class:`Torsion`).
    scaling
        1-4 convention: :data:`TRAPPE_UA`, :data:`~bayesff.potentials.scaling.OPLS`,
        ... (only ``lj14`` is used: the model has no charges).
    coordinates_angstrom
        A start geometry, shape (n_sites, 3), angstrom, or ``None`` (then
        :mod:`bayesff.simulate.molecules` builds an all-trans zig-zag, which
        needs an unbranched chain).
    """

    name: str
    sites: tuple[str, ...]
    bonds: tuple[Bond, ...] = ()
    angles: tuple[Angle, ...] = ()
    torsions: tuple[Torsion, ...] = ()
    scaling: Convention = TRAPPE_UA
    coordinates_angstrom: tuple[tuple[float, float, float], ...] | None = field(
        default=None, compare=False
    )

    def __post_init__(self):
        object.__setattr__(self, "sites", tuple(self.sites))
        object.__setattr__(self, "bonds", tuple(self.bonds))
        object.__setattr__(self, "angles", tuple(self.angles))
        object.__setattr__(self, "torsions", tuple(self.torsions))
        self._check()

    def _where(self, what: str) -> str:
        return f"molecules[{self.name}].{what}"

    def _check_angles(self, is_bond) -> None:
        angled = {}
        for a, angle in enumerate(self.angles):
            where = self._where(f"angles[{a}]")
            self._indices(where, (angle.i, angle.j, angle.k))
            if angle.i == angle.k:
                raise ProblemError(
                    f"an angle on sites ({angle.i}, {angle.j}, {angle.k}) is one bond taken "
                    "twice; an angle needs three different sites",
                    where,
                )
            key = (min(angle.i, angle.k), angle.j, max(angle.i, angle.k))
            if key in angled:  # the same angle read backwards is the same term
                raise ProblemError(
                    f"duplicates angles[{angled[key]}] (sites {key[0]}-{key[1]}-{key[2]}): its "
                    "energy would count twice",
                    where,
                )
            angled[key] = a
            for x, y in ((angle.i, angle.j), (angle.j, angle.k)):
                if not is_bond(x, y):
                    raise ProblemError(
                        f"an angle on sites ({angle.i}, {angle.j}, {angle.k}) needs bonds "
                        f"{angle.i}-{angle.j} and {angle.j}-{angle.k}; sites {x} and {y} "
                        "are not bonded",
                        where,
                    )
            _check_theta0(angle.theta0_rad, f"{where}.theta0")
            _positive(angle.k_kJ_per_mol_rad2, "k", where)

    def _check_torsions(self, is_bond) -> None:
        twisted = {}
        for t, tor in enumerate(self.torsions):
            where = self._where(f"torsions[{t}]")
            idx = (tor.i, tor.j, tor.k, tor.l)
            self._indices(where, idx)
            if len(set(idx)) < 4:
                raise ProblemError(
                    f"a torsion on sites {idx} repeats a site; a torsion needs four different "
                    "sites",
                    where,
                )
            key = min(idx, idx[::-1])
            if key in twisted:  # each entry is a whole series: two would count twice
                raise ProblemError(
                    f"duplicates torsions[{twisted[key]}] (sites {key}); give one entry per "
                    "torsion with all its coefficients",
                    where,
                )
            twisted[key] = t
            for x, y in itertools.pairwise(idx):
                if not is_bond(x, y):
                    raise ProblemError(
                        f"a torsion on sites {idx} needs the chain {idx[0]}-{idx[1]}-{idx[2]}-"
                        f"{idx[3]} bonded; sites {x} and {y} are not bonded",
                        where,
                    )
            size = _TORSION_SIZES.get(tor.form)
            if size is None:
                raise ProblemError(
                    f"unknown torsion form {tor.form!r}; expected one of {sorted(_TORSION_SIZES)}",
                    where,
                )
            if len(tor.coefficients_kJ_per_mol) != size:
                raise ProblemError(
                    f"form {tor.form!r} takes {size} coefficients, found "
                    f"{len(tor.coefficients_kJ_per_mol)}",
                    where,
                )
            if not all(math.isfinite(float(c)) for c in tor.coefficients_kJ_per_mol):
                raise ProblemError("torsion coefficients must be finite numbers", where)

    def _check(self):
        if not isinstance(self.name, str) or not self.name.strip() or not self.name.isprintable():
            # the name goes into exported force fields (an OpenMM residue name, escaped
            # there) and messages: one line, no control characters (audit, 2026-11-30)
            raise ProblemError(
                f"molecule name {self.name!r} must be one line of printable characters",
                f"molecules[{self.name!r}].name",
            )
        n = len(self.sites)
        if n == 0:
            raise ProblemError(
                "a molecule needs at least one site, found none", self._where("sites")
            )
        bonded = self._check_bonds()

        def is_bond(a, b):
            return (min(a, b), max(a, b)) in bonded

        self._check_angles(is_bond)
        self._check_torsions(is_bond)
        if n > 1 and (self.distances() < 0).any():
            raise ProblemError(
                "the bonds leave the molecule in several pieces; a molecule type must be one "
                "connected molecule",
                self._where("bonds"),
            )
        for what, factor in (("LJ", self.scaling.lj14), ("Coulomb", self.scaling.coulomb14)):
            _check_factor14(factor, f"the 1-4 {what} factor", self._where("scaling"))
        if self.coordinates_angstrom is not None:
            self._check_coordinates()

    def _check_bonds(self) -> set[tuple[int, int]]:
        """Indices, duplicates, lengths (:data:`BOND_LENGTH_RANGE_ANGSTROM`) and k of
        the bonds; returns the bonded pairs (i < j)."""
        bonded = set()
        lo, hi = BOND_LENGTH_RANGE_ANGSTROM
        for b, bond in enumerate(self.bonds):
            where = self._where(f"bonds[{b}]")
            self._indices(where, (bond.i, bond.j))
            if bond.i == bond.j:
                raise ProblemError(f"bonds site {bond.i} to itself", where)
            key = (min(bond.i, bond.j), max(bond.i, bond.j))
            if key in bonded:
                raise ProblemError(f"duplicates the bond between sites {key}", where)
            bonded.add(key)
            length = _positive(bond.length_angstrom, "length", where)
            if not lo <= length <= hi:
                raise ProblemError(
                    f"expected a bond length of {lo:g}-{hi:g} angstrom (covalent bonds "
                    f"0.74-3, coarse-grained up to about 5), found {length:.6g} angstrom "
                    "(check length_unit)",
                    f"{where}.length",
                )
            if bond.k_kJ_per_mol_A2 is not None:
                _positive(bond.k_kJ_per_mol_A2, "k", where)
        return bonded

    def _check_coordinates(self) -> None:
        """Shape and finiteness of the start coordinates, and every bonded pair's
        distance within :data:`COORDINATE_BOND_TOLERANCE` of its bond length
        (:data:`COORDINATE_FLEXIBLE_BOND_TOLERANCE` for a harmonic bond)."""
        n = len(self.sites)
        where = self._where("coordinates")
        try:
            xyz = np.asarray(self.coordinates_angstrom, dtype=float)
        except (TypeError, ValueError, OverflowError):  # ragged rows, text, 10**400
            xyz = np.full((0,), np.nan)
        if xyz.shape != (n, 3) or not np.all(np.isfinite(xyz)):
            raise ProblemError(
                f"coordinates must be {n} rows of 3 finite numbers, found shape {xyz.shape}",
                where,
            )
        for b, bond in enumerate(self.bonds):
            tol = COORDINATE_BOND_TOLERANCE if bond.fixed else COORDINATE_FLEXIBLE_BOND_TOLERANCE
            # in Python floats: coordinates near 1e308 give inf here, not a NumPy overflow
            (xi, yi, zi), (xj, yj, zj) = xyz[bond.i].tolist(), xyz[bond.j].tolist()
            r = math.hypot(xi - xj, yi - yj, zi - zj)
            length = float(bond.length_angstrom)
            if abs(r - length) > tol * length:
                raise ProblemError(
                    f"sites {bond.i} and {bond.j} are {r:.4g} angstrom apart, but bonds[{b}] "
                    f"is {length:.4g} angstrom long; expected the distance within "
                    f"{tol:.0%} of the bond length (check the rows' order and that the "
                    "coordinates are in angstrom)",
                    where,
                )

    def _indices(self, where, idx):
        n = len(self.sites)
        for x in idx:
            if isinstance(x, bool) or not isinstance(x, int | np.integer) or not 0 <= x < n:
                raise ProblemError(
                    f"site index {x!r} is not a site of this molecule (0..{n - 1}, {n} sites)",
                    where,
                )

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return len(self.sites)

    @property
    def graph(self) -> Molecule:
        """The bond graph as a :class:`bayesff.potentials.scaling.Molecule`."""
        return Molecule(self.sites, [(b.i, b.j) for b in self.bonds])

    def distances(self) -> np.ndarray:
        """Topological distances (bond counts) between sites, (n, n); -1 if disconnected."""
        return topological_distances(self.graph)

    @functools.cached_property
    def pair_lists(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """Intramolecular site pairs i < j by treatment.

        Returns
        -------
        dict
            ``"excluded"``: 1-2, 1-3 and (when ``lj14 == 0``) 1-4 pairs;
            ``"scaled14"``: 1-4 pairs with ``lj14 > 0``; ``"full"``: pairs
            more than three bonds apart (full LJ, subject to the cut-off).
        """
        if self.n_sites == 1:
            return {"excluded": (), "scaled14": (), "full": ()}
        classes = pair_classes(self.graph)
        excluded = [*classes["1-2"], *classes["1-3"]]
        scaled = []
        if self.scaling.lj14 == 0.0:
            excluded += classes["1-4"]
        else:
            scaled = classes["1-4"]
        return {
            "excluded": tuple(sorted(excluded)),
            "scaled14": tuple(scaled),
            "full": tuple(classes["nonbonded"]),
        }


def _positive(value, name, where):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ProblemError(f"{name} must be a number, found {value!r}", where) from None
    if not (math.isfinite(v) and v > 0.0):
        raise ProblemError(f"{name} must be finite and > 0, found {value!r}", where)
    return v


def _check_mass(mass, where) -> None:
    """A site mass in :data:`SITE_MASS_RANGE_G_PER_MOL`."""
    v = _positive(mass, "mass", where)
    lo, hi = SITE_MASS_RANGE_G_PER_MOL
    if not lo <= v <= hi:
        raise ProblemError(
            f"expected a site mass of {lo:g}-{hi:g} g/mol (an atom or united atom 1-250, a "
            f"coarse-grained bead a few hundred), found {v:.6g} g/mol (check mass_unit)",
            where,
        )


def _check_theta0(theta0_rad, where) -> None:
    """An equilibrium bond angle in [:data:`MIN_THETA0_DEG`, 180] deg (given in rad)."""
    try:
        v = float(theta0_rad)
    except (TypeError, ValueError):
        raise ProblemError(f"theta0 must be a number, found {theta0_rad!r}", where) from None
    lo = math.radians(MIN_THETA0_DEG)
    if not (math.isfinite(v) and lo <= v <= math.pi):
        # the number read in the other unit, where that is a bond angle: the likely slip
        hint = ""
        if math.isfinite(v) and lo <= math.degrees(v) <= math.pi:
            hint = f": {math.degrees(v):.6g} rad would be {math.degrees(math.degrees(v)):.4g} deg"
        elif math.isfinite(v) and lo <= math.radians(v) <= math.pi:
            hint = f": {v:.6g} deg would be {math.radians(v):.4g} rad"
        raise ProblemError(
            f"expected a bond angle theta0 of {MIN_THETA0_DEG:g}-180 deg, found "
            f"{math.degrees(v):.6g} deg = {v:.6g} rad (check theta0_unit{hint})",
            where,
        )


def _check_factor14(value, what, where) -> None:
    """A 1-4 scaling factor in [0, 1] (0: excluded, 1: full strength)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ProblemError(f"{what} must be a number, found {value!r}", where) from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ProblemError(
            f"expected {what} in [0, 1] (0: 1-4 pairs excluded, 1: full strength), "
            f"found {value!r}",
            where,
        )


@dataclass(frozen=True)
class Topology:
    """Site types, molecule types and the nonbonded model of a system.

    Parameters
    ----------
    site_types
        The site types; every site of every molecule must name one. Their masses
        must lie in :data:`SITE_MASS_RANGE_G_PER_MOL` (g/mol).
    molecules
        Molecule types (unique names).
    form
        ``"lj"`` or ``"mie"`` (:data:`FORMS`).
    combining_rule
        ``"lorentz_berthelot"`` (eps_ab = sqrt(eps_a eps_b), sigma_ab =
        (sigma_a + sigma_b)/2), ``"geometric"`` (both geometric means) or
        ``"explicit"`` (unlike pairs are parameters ``epsilon_A_B``,
        ``sigma_A_B``). Mie exponents of unlike pairs are arithmetic means
        (J. J. Potoff and D. A. Bernard-Brunel, J. Phys. Chem. B 113, 14725
        (2009), doi:10.1021/jp9072137).
    r_cut_angstrom
        Cut-off of the nonbonded pairs (truncated, not shifted), angstrom.
    tail
        Add the analytic long-range corrections of energy and pressure
        (g = 1 beyond the cut-off).
    """

    site_types: tuple[SiteType, ...]
    molecules: tuple[MoleculeType, ...]
    form: str = "lj"
    combining_rule: str = "lorentz_berthelot"
    r_cut_angstrom: float = 14.0
    tail: bool = True

    def __post_init__(self):
        object.__setattr__(self, "site_types", tuple(self.site_types))
        object.__setattr__(self, "molecules", tuple(self.molecules))
        where = "topology"
        if self.form not in FORMS:
            raise ProblemError(f"unknown form {self.form!r}; expected one of {FORMS}", where)
        if self.combining_rule not in COMBINING_RULES:
            raise ProblemError(
                f"unknown combining rule {self.combining_rule!r}; expected one of "
                f"{COMBINING_RULES}",
                where,
            )
        _positive(self.r_cut_angstrom, "r_cut", f"{where}.r_cut")
        names = [t.name for t in self.site_types]
        for t in self.site_types:
            if not t.name or not t.name.replace("_", "").isalnum():
                raise ProblemError(
                    f"site type name {t.name!r} must be letters, digits and _ only",
                    f"site_types.{t.name}",
                )
            _check_mass(t.mass_g_per_mol, f"site_types.{t.name}.mass")
        if len(set(names)) != len(names):
            raise ProblemError(f"site type names must be unique, found {names}", "site_types")
        if not self.molecules:
            raise ProblemError("at least one molecule type is needed", "molecules")
        mnames = [m.name for m in self.molecules]
        if len(set(mnames)) != len(mnames):
            raise ProblemError(f"molecule names must be unique, found {mnames}", "molecules")
        for m in self.molecules:
            for s, t in enumerate(m.sites):
                if t not in names:
                    raise ProblemError(
                        f"unknown site type {t!r}; expected one of {names}",
                        f"molecules[{m.name}].sites[{s}]",
                    )

    @property
    def type_names(self) -> tuple[str, ...]:
        """Site type names, in the order of the parameter tables."""
        return tuple(t.name for t in self.site_types)

    def type_index(self, name: str) -> int:
        """Index of a site type in :attr:`type_names`."""
        return self.type_names.index(name)

    def molecule(self, name: str) -> MoleculeType:
        """The molecule type called ``name``."""
        for m in self.molecules:
            if m.name == name:
                return m
        raise ProblemError(
            f"unknown molecule {name!r}; expected one of {[m.name for m in self.molecules]}",
            "molecules",
        )

    def masses(self, molecule: MoleculeType) -> np.ndarray:
        """Site masses of a molecule, g/mol, shape (n_sites,)."""
        by_name = {t.name: t.mass_g_per_mol for t in self.site_types}
        return np.array([by_name[s] for s in molecule.sites], dtype=float)

    def molar_mass(self, molecule: MoleculeType) -> float:
        """Molar mass of a molecule, g/mol."""
        return float(np.sum(self.masses(molecule)))


# --------------------------------------------------------------------------- parameters


def _unlike_pairs(topology: Topology) -> list[tuple[str, str]]:
    names = topology.type_names
    return [(a, b) for k, a in enumerate(names) for b in names[k + 1 :]]


def parameter_names(topology: Topology) -> tuple[str, ...]:
    """Names of the nonbonded parameters of a topology, in a fixed order.

    ``epsilon_T`` (kJ/mol) and ``sigma_T`` (angstrom) per site type T; for
    Mie also ``n_T`` and ``m_T`` (dimensionless); for the explicit rule also
    ``epsilon_A_B`` and ``sigma_A_B`` per unlike pair (types in topology order).
    """
    out = []
    for t in topology.type_names:
        out += [f"epsilon_{t}", f"sigma_{t}"]
        if topology.form == "mie":
            out += [f"n_{t}", f"m_{t}"]
    if topology.combining_rule == "explicit":
        for a, b in _unlike_pairs(topology):
            out += [f"epsilon_{a}_{b}", f"sigma_{a}_{b}"]
    return tuple(out)


def parameter_specs(topology: Topology) -> tuple[ParamSpec, ...]:
    """:class:`~bayesff.potentials.ParamSpec` of each of :func:`parameter_names`.

    Energies are kJ/mol internally with priors quoted as epsilon/k_B in K;
    sigma in angstrom; Mie exponents with the supports of
    :data:`bayesff.potentials.pair.MIE`.
    """
    specs = []
    for name in parameter_names(topology):
        kind = name.split("_", 1)[0]
        if kind == "epsilon":
            specs.append(
                ParamSpec(
                    name=name,
                    dimension="energy",
                    support=Support("positive"),
                    default_prior=PriorSpec("LogNormal", {"median": 100.0, "scale": 1.0}),
                    prior_unit="K",
                    description=f"LJ/Mie well depth of {name[8:]} (prior as epsilon/k_B)",
                )
            )
        elif kind == "sigma":
            specs.append(
                ParamSpec(
                    name=name,
                    dimension="length",
                    support=Support("positive"),
                    default_prior=PriorSpec("LogNormal", {"median": 3.7, "scale": 0.2}),
                    prior_unit="angstrom",
                    description=f"LJ/Mie diameter of {name[6:]}",
                )
            )
        elif kind == "n":
            specs.append(
                ParamSpec(
                    name=name,
                    dimension="dimensionless",
                    support=Support("interval", 6.5, 50.0),
                    default_prior=PriorSpec("Uniform", {"low": 8.0, "high": 30.0}),
                    prior_unit="1",
                    description=f"Mie repulsive exponent of {name[2:]}",
                )
            )
        else:
            specs.append(
                ParamSpec(
                    name=name,
                    dimension="dimensionless",
                    support=Support("interval", 4.0, 6.0),
                    default_prior=PriorSpec("Uniform", {"low": 5.0, "high": 6.0}),
                    prior_unit="1",
                    description=f"Mie attractive exponent of {name[2:]}",
                )
            )
    return tuple(specs)


# --------------------------------------------------------------------------- TraPPE-UA

_R = units.GAS_CONSTANT_KJ_PER_MOL_K


@dataclass(frozen=True)
class _TrappeAlkane:
    """TraPPE-UA n-alkane constants (Martin and Siepmann 1998), internal units.

    ``bond_angstrom`` 1.54 (fixed); bending CHx-CH2-CHy theta0 = 114 deg,
    k_theta/k_B = 62500 K/rad^2 in u = (k_theta/2)(theta - theta0)^2; torsion
    u = c1 [1 + cos phi] + c2 [1 - cos 2 phi] + c3 [1 + cos 3 phi] with
    c1/k_B = 355.03 K, c2/k_B = -68.19 K, c3/k_B = 791.32 K (trans = 180 deg),
    i.e. OPLS Fourier V_k = 2 c_k; nonbonded LJ within three bonds excluded;
    published LJ: CH3 98 K / 3.75 angstrom, CH2 46 K / 3.95 angstrom,
    Lorentz-Berthelot; masses CH3 15.035, CH2 14.027 g/mol.
    """

    bond_angstrom: float = 1.54
    theta0_deg: float = 114.0
    k_theta_K_per_rad2: float = 62500.0
    torsion_c_K: tuple[float, float, float] = (355.03, -68.19, 791.32)
    epsilon_K: Mapping[str, float] = field(
        default_factory=lambda: {"CH3": 98.0, "CH2": 46.0, "CH4": 148.0}
    )
    sigma_angstrom: Mapping[str, float] = field(
        default_factory=lambda: {"CH3": 3.75, "CH2": 3.95, "CH4": 3.73}
    )
    mass_g_per_mol: Mapping[str, float] = field(
        default_factory=lambda: {"CH3": 15.035, "CH2": 14.027, "CH4": 16.043}
    )
    reference: str = (
        "M. G. Martin and J. I. Siepmann, J. Phys. Chem. B 102, 2569 (1998), doi:10.1021/jp972543+"
    )

    def published_parameters(self) -> dict[str, float]:
        """TraPPE-UA's published epsilon (kJ/mol) and sigma (angstrom) of CH3, CH2 and CH4."""
        out = {}
        for t in ("CH3", "CH2", "CH4"):
            out[f"epsilon_{t}"] = self.epsilon_K[t] * _R
            out[f"sigma_{t}"] = self.sigma_angstrom[t]
        return out


#: Longest n-alkane :func:`trappe_alkane` builds. The pair lists take O(n^2) time and
#: memory (2 s at 1000 carbons, measured; 10**6 carbons would ask for 7 TiB), and a
#: file's ``carbons = N`` must not make a few characters cost hours.
MAX_ALKANE_CARBONS = 1000

#: The TraPPE-UA n-alkane constants and published parameters (see :class:`_TrappeAlkane`).
TRAPPE_UA_ALKANE = _TrappeAlkane()


def trappe_alkane(n_carbons: int, *, where: str = "n_carbons") -> MoleculeType:
    """The TraPPE-UA united-atom n-alkane with ``n_carbons`` carbons.

    Sites CH3-(CH2)_{n-2}-CH3 (methane: one CH4 site), fixed bonds of
    1.54 angstrom, TraPPE bending and torsion terms as fixed defaults, 1-4
    pairs excluded. The CH3 and CH2 epsilon and sigma are parameters
    (:func:`parameter_names`), not part of the molecule.

    Parameters
    ----------
    n_carbons
        Number of carbon atoms, >= 1.
    where
        The field named by the error for a bad count (``molecules[<name>].alkane.carbons``
        for a problem file's molecule).

    Returns
    -------
    MoleculeType
        Named ``"methane"``, ``"ethane"``, ..., ``"n-decane"`` or ``"C<n>"``.

    References
    ----------
    M. G. Martin and J. I. Siepmann, J. Phys. Chem. B 102, 2569 (1998),
    doi:10.1021/jp972543+.
    """
    if (
        isinstance(n_carbons, bool)
        or not isinstance(n_carbons, int)
        or not 1 <= n_carbons <= MAX_ALKANE_CARBONS
    ):
        raise ProblemError(
            f"an n-alkane needs a whole number of carbons from 1 to {MAX_ALKANE_CARBONS}, "
            f"found {n_carbons!r}",
            where,
        )
    c = TRAPPE_UA_ALKANE
    n = n_carbons
    if n == 1:
        return MoleculeType("methane", ("CH4",), scaling=TRAPPE_UA)
    sites = ("CH3", *("CH2",) * (n - 2), "CH3")
    bonds = tuple(Bond(k, k + 1, c.bond_angstrom) for k in range(n - 1))
    k_theta = c.k_theta_K_per_rad2 * _R
    theta0 = math.radians(c.theta0_deg)
    angles = tuple(Angle(k, k + 1, k + 2, theta0, k_theta) for k in range(n - 2))
    c1, c2, c3 = (x * _R for x in c.torsion_c_K)
    fourier = (2.0 * c1, 2.0 * c2, 2.0 * c3, 0.0)
    torsions = tuple(Torsion(k, k + 1, k + 2, k + 3, "fourier", fourier) for k in range(n - 3))
    return MoleculeType(_ALKANE_NAMES.get(n, f"C{n}"), sites, bonds, angles, torsions, TRAPPE_UA)


_ALKANE_NAMES = {
    1: "methane",
    2: "ethane",
    3: "propane",
    4: "n-butane",
    5: "n-pentane",
    6: "n-hexane",
    7: "n-heptane",
    8: "n-octane",
    9: "n-nonane",
    10: "n-decane",
}


def trappe_topology(
    carbons: Sequence[int], *, r_cut_angstrom: float = 14.0, tail: bool = True
) -> Topology:
    """A topology of TraPPE-UA n-alkanes (LJ, Lorentz-Berthelot, cut-off with tail).

    The TraPPE papers use a 14 angstrom cut-off with analytic tail corrections
    (Martin and Siepmann 1998), the defaults here.

    Parameters
    ----------
    carbons
        Carbon counts of the molecule types, e.g. ``[4]`` for n-butane.
    r_cut_angstrom, tail
        Nonbonded cut-off (angstrom) and whether the long-range tail is added.
    """
    mols = tuple(trappe_alkane(int(n), where=f"carbons[{k}]") for k, n in enumerate(carbons))
    used = sorted({s for m in mols for s in m.sites}, key=("CH3", "CH2", "CH4").index)
    types = tuple(SiteType(t, TRAPPE_UA_ALKANE.mass_g_per_mol[t]) for t in used)
    return Topology(types, mols, "lj", "lorentz_berthelot", r_cut_angstrom, tail)


# --------------------------------------------------------------------------- from a dict


def _number(value, where, what) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(f"{what} must be a number, found {value!r}", where)
    try:
        v = float(value)
    except OverflowError:  # an int past 1e308
        raise ProblemError(
            f"{what} must be finite, found an integer beyond 1e308", where
        ) from None
    if not math.isfinite(v):
        raise ProblemError(f"{what} must be finite, found {value!r}", where)
    return v


def _keys(table, allowed, required, where):
    if not isinstance(table, Mapping):
        raise ProblemError(f"expected a table, found {table!r}", where)
    extra = set(table) - set(allowed)
    if extra:
        raise ProblemError(
            f"unknown key(s) {', '.join(sorted(extra))}; expected {', '.join(allowed)}", where
        )
    missing = [k for k in required if k not in table]
    if missing:
        raise ProblemError(f"missing key(s) {', '.join(missing)}", where)


def _per(unit, denominators: Mapping[str, float], where) -> float:
    """Factor of a compound unit ``"<energy>/<denominator>"`` to kJ/mol per internal unit.

    ``denominators`` maps allowed denominators to their factor to the internal
    unit (e.g. ``{"angstrom^2": 1.0, "nm^2": 100.0}``).
    """
    if not isinstance(unit, str):
        raise ProblemError(f"a unit must be a string, found {unit!r}", where)
    for den, f in denominators.items():
        suffix = "/" + den
        if unit.endswith(suffix):
            energy = units.factor(unit[: -len(suffix)], "energy", where=where)
            return energy / f
    raise ProblemError(
        f"unknown unit {unit!r}; expected an energy unit over one of "
        f"{', '.join(denominators)} (for example 'K/{next(iter(denominators))}')",
        where,
    )


_BOND_DEN = {"angstrom^2": 1.0, "nm^2": 100.0}
_ANGLE_DEN = {"rad^2": 1.0, "deg^2": (math.pi / 180.0) ** 2}


def _sites_of(entry, n, where, count):
    s = entry.get("sites")
    if not isinstance(s, list | tuple) or len(s) != count:
        raise ProblemError(f"sites must be a list of {count} site indices, found {s!r}", where)
    for x in s:
        if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < n:
            raise ProblemError(
                f"site index {x!r} is not a site of this molecule (0..{n - 1}): a bond or term "
                "to a missing site",
                where,
            )
    return tuple(int(x) for x in s)


def _bond_from(entry, n, where) -> Bond:
    _keys(
        entry,
        ("sites", "length", "length_unit", "k", "k_unit"),
        ("sites", "length", "length_unit"),
        where,
    )
    i, j = _sites_of(entry, n, where, 2)
    length = units.to_internal(
        _number(entry["length"], where, "length"),
        entry["length_unit"],
        "length",
        where=f"{where}.length_unit",
    )
    k = None
    if "k" in entry:
        if "k_unit" not in entry:
            raise ProblemError("k needs k_unit (for example 'kJ/mol/angstrom^2')", where)
        k = _number(entry["k"], where, "k") * _per(entry["k_unit"], _BOND_DEN, f"{where}.k_unit")
    return Bond(i, j, length, k)


def _angle_from(entry, n, where) -> Angle:
    _keys(
        entry,
        ("sites", "theta0", "theta0_unit", "k", "k_unit"),
        ("sites", "theta0", "theta0_unit", "k", "k_unit"),
        where,
    )
    i, j, k = _sites_of(entry, n, where, 3)
    theta0 = units.to_internal(
        _number(entry["theta0"], where, "theta0"),
        entry["theta0_unit"],
        "angle",
        where=f"{where}.theta0_unit",
    )
    kk = _number(entry["k"], where, "k") * _per(entry["k_unit"], _ANGLE_DEN, f"{where}.k_unit")
    return Angle(i, j, k, theta0, kk)


def _torsion_from(entry, n, where) -> Torsion:
    _keys(
        entry,
        ("sites", "form", "coefficients", "unit"),
        ("sites", "form", "coefficients", "unit"),
        where,
    )
    idx = _sites_of(entry, n, where, 4)
    if not isinstance(entry["form"], str):
        raise ProblemError(f"form must be a string, found {entry['form']!r}", f"{where}.form")
    coeffs = entry["coefficients"]
    if not isinstance(coeffs, list | tuple):
        raise ProblemError(f"coefficients must be a list of numbers, found {coeffs!r}", where)
    f = units.factor(entry["unit"], "energy", where=f"{where}.unit")
    values = tuple(_number(c, where, "a coefficient") * f for c in coeffs)
    return Torsion(*idx, entry["form"], values)


def _scaling_from(value, where) -> Convention:
    if isinstance(value, str):
        try:
            return SCALING[value.lower()]
        except KeyError:
            raise ProblemError(
                f"unknown scaling {value!r}; expected one of {sorted(SCALING)} or {{ lj14 = x }}",
                where,
            ) from None
    _keys(value, ("lj14",), ("lj14",), where)
    lj14 = _number(value["lj14"], f"{where}.lj14", "lj14")
    _check_factor14(lj14, "lj14", f"{where}.lj14")
    return Convention("custom", lj14, 1.0)


_MOLECULE_KEYS = (
    "name",
    "sites",
    "bonds",
    "angles",
    "torsions",
    "scaling",
    "coordinates",
    "alkane",
)


def molecule_from_dict(entry: Mapping, index: int = 0) -> MoleculeType:
    """A :class:`MoleculeType` from one ``[[molecules]]`` table (validated).

    Either ``{ name, alkane = { carbons = N } }`` (TraPPE-UA n-alkane, the
    name overriding the default), or ``{ name, sites = [...], bonds = [...],
    angles = [...], torsions = [...], scaling = "trappe", coordinates = [...] }``
    with ``sites`` the site type of each site and the terms as in
    ``docs/molecular.md``. Errors name ``molecules[<name or index>].<field>``.
    """
    where0 = f"molecules[{index}]"
    _keys(entry, _MOLECULE_KEYS, ("name",), where0)
    name = entry["name"]
    if not isinstance(name, str) or not name:
        raise ProblemError(f"name must be a non-empty string, found {name!r}", f"{where0}.name")
    where = f"molecules[{name}]"
    if "alkane" in entry:
        other = set(entry) - {"name", "alkane"}
        if other:
            raise ProblemError(
                f"an alkane = {{ carbons = N }} molecule takes no other keys, found "
                f"{', '.join(sorted(other))}",
                where,
            )
        _keys(entry["alkane"], ("carbons",), ("carbons",), f"{where}.alkane")
        mol = trappe_alkane(entry["alkane"]["carbons"], where=f"{where}.alkane.carbons")
        return MoleculeType(name, mol.sites, mol.bonds, mol.angles, mol.torsions, mol.scaling)
    if "sites" not in entry:
        raise ProblemError("missing key sites (or alkane = { carbons = N })", where)
    sites = entry["sites"]
    if not isinstance(sites, list | tuple) or not all(isinstance(s, str) for s in sites):
        raise ProblemError(
            f"sites must be a list of site type names, found {sites!r}", f"{where}.sites"
        )
    n = len(sites)
    terms = {}
    for key, maker in (
        ("bonds", _bond_from),
        ("angles", _angle_from),
        ("torsions", _torsion_from),
    ):
        items = entry.get(key, [])
        if not isinstance(items, list | tuple):
            raise ProblemError(f"expected a list of tables, found {items!r}", f"{where}.{key}")
        terms[key] = tuple(maker(e, n, f"{where}.{key}[{k}]") for k, e in enumerate(items))
    scaling = _scaling_from(entry.get("scaling", "trappe"), f"{where}.scaling")
    coords = entry.get("coordinates")
    if coords is not None:
        try:
            xyz = np.asarray(coords, dtype=float)
        except (TypeError, ValueError, OverflowError):  # ragged rows, words, 10**400
            raise ProblemError(
                "coordinates must be rows of 3 numbers (angstrom)", f"{where}.coordinates"
            ) from None
        # the shape and finiteness are checked by MoleculeType, naming the molecule
        coords = tuple(map(tuple, xyz.tolist())) if xyz.ndim == 2 else xyz.tolist()
    return MoleculeType(
        name, tuple(sites), terms["bonds"], terms["angles"], terms["torsions"], scaling, coords
    )


_TOPOLOGY_KEYS = (
    "site_types",
    "molecules",
    "form",
    "combining_rule",
    "r_cut",
    "r_cut_unit",
    "tail",
)


def topology_from_dict(doc: Mapping) -> Topology:
    """A :class:`Topology` from a plain dict (the problem-file form), validated.

    Example (TOML)::

        form = "lj"                       # or "mie"
        combining_rule = "lorentz_berthelot"
        r_cut = 14.0
        r_cut_unit = "angstrom"
        tail = true
        [site_types]
        CH3 = { mass = 15.035, mass_unit = "g/mol" }
        CH2 = { mass = 14.027, mass_unit = "g/mol" }
        [[molecules]]
        name = "n-butane"
        alkane = { carbons = 4 }

    Every error is a one-line :class:`~bayesff.errors.ProblemError` (a
    :class:`~bayesff.errors.UnitError` for a unit) naming the field: an unknown
    site type, a bond to a missing site, a torsion on sites that are not bonded,
    unknown keys or units, and values no molecule has (a unit slip: a bond
    length outside 0.5-10 angstrom, theta0 below 30 deg, a site mass above
    1000 g/mol, a 1-4 factor outside [0, 1], coordinates that disagree with the
    bond lengths).
    """
    check_document(doc, "topology")  # depth, keys and integers, before anything walks it
    _keys(doc, _TOPOLOGY_KEYS, ("site_types", "molecules", "r_cut", "r_cut_unit"), "topology")
    st = doc["site_types"]
    if not isinstance(st, Mapping) or not st:
        raise ProblemError(f"expected a table of site types, found {st!r}", "site_types")
    types = []
    for tname, entry in st.items():
        where = f"site_types.{tname}"
        _keys(entry, ("mass", "mass_unit"), ("mass", "mass_unit"), where)
        mass = units.to_internal(
            _number(entry["mass"], where, "mass"), entry["mass_unit"], "molar_mass",
            where=f"{where}.mass_unit",
        )  # fmt: skip
        types.append(SiteType(str(tname), mass))
    mols = doc["molecules"]
    if not isinstance(mols, list | tuple) or not mols:
        raise ProblemError("expected a non-empty list of [[molecules]] tables", "molecules")
    molecules = tuple(molecule_from_dict(m, k) for k, m in enumerate(mols))
    r_cut = units.to_internal(
        _number(doc["r_cut"], "topology.r_cut", "r_cut"), doc["r_cut_unit"], "length",
        where="topology.r_cut_unit",
    )  # fmt: skip
    tail = doc.get("tail", True)
    if not isinstance(tail, bool):
        raise ProblemError(f"tail must be true or false, found {tail!r}", "topology.tail")
    return Topology(
        tuple(types),
        molecules,
        doc.get("form", "lj"),
        doc.get("combining_rule", "lorentz_berthelot"),
        r_cut,
        tail,
    )


def _angle_dict(a: Angle) -> dict:
    return {
        "sites": [a.i, a.j, a.k],
        "theta0": a.theta0_rad,
        "theta0_unit": "rad",
        "k": a.k_kJ_per_mol_rad2,
        "k_unit": "kJ/mol/rad^2",
    }


def _torsion_dict(t: Torsion) -> dict:
    return {
        "sites": [t.i, t.j, t.k, t.l],
        "form": t.form,
        "coefficients": list(t.coefficients_kJ_per_mol),
        "unit": "kJ/mol",
    }


def topology_to_dict(topology: Topology) -> dict:
    """The problem-file form of a topology: the inverse of :func:`topology_from_dict`.

    Every value in internal units with its unit named (angstrom, rad, kJ/mol); molecules
    by their sites and terms (an ``alkane = { carbons = N }`` molecule is written out
    in full). ``topology_from_dict(topology_to_dict(t)) == t`` (tested).
    """
    conventions = {c: n for n, c in SCALING.items()}
    mols = []
    for m in topology.molecules:
        d = {
            "name": m.name,
            "sites": list(m.sites),
            "bonds": [
                {"sites": [b.i, b.j], "length": b.length_angstrom, "length_unit": "angstrom"}
                | ({} if b.fixed else {"k": b.k_kJ_per_mol_A2, "k_unit": "kJ/mol/angstrom^2"})
                for b in m.bonds
            ],
            "angles": [_angle_dict(a) for a in m.angles],
            "torsions": [_torsion_dict(t) for t in m.torsions],
            "scaling": conventions.get(m.scaling, {"lj14": m.scaling.lj14}),
        }
        if m.coordinates_angstrom is not None:
            d["coordinates"] = [list(map(float, row)) for row in m.coordinates_angstrom]
        mols.append(d)
    return {
        "form": topology.form,
        "combining_rule": topology.combining_rule,
        "r_cut": topology.r_cut_angstrom,
        "r_cut_unit": "angstrom",
        "tail": topology.tail,
        "site_types": {
            t.name: {"mass": t.mass_g_per_mol, "mass_unit": "g/mol"} for t in topology.site_types
        },
        "molecules": mols,
    }
