r"""Energy and virial of a periodic configuration of molecules, pure JAX.

A :class:`System` is a :class:`~bayesff.potentials.topology.Topology` with a
composition (how many molecules of each type), flattened once into index
arrays. :func:`energy_terms` gives the potential energy of a configuration,
term by term, differentiable in the positions, the box and every nonbonded
parameter (``epsilon_T``, ``sigma_T``, ...: :func:`~bayesff.potentials.topology.parameter_names`):

.. math::

    U = \sum_{\text{pairs } ij,\ r_{ij} < r_c} u_{ab}(r_{ij})
      + s_{14} \sum_{1\text{-}4} u_{ab}(r_{ij})
      + \sum_{\text{bonds}} \tfrac{k_b}{2}(r - r_0)^2
      + \sum_{\text{angles}} \tfrac{k_\theta}{2}(\theta - \theta_0)^2
      + \sum_{\text{torsions}} u_t(\phi)
      + U_{tail}

The first sum runs over intermolecular pairs and intramolecular pairs more
than three bonds apart (exclusions and 1-4 pairs: :class:`MoleculeType
<bayesff.potentials.topology.MoleculeType>`), with the minimum-image
convention in an orthorhombic box and u truncated (not shifted) at r_c; 1-4
pairs are computed without cut-off, as bonded terms (the OpenMM and GROMACS
convention). Pair energies are the existing
:func:`~bayesff.potentials.pair.lennard_jones` and
:func:`~bayesff.potentials.pair.mie`, torsions
:func:`~bayesff.potentials.torsion.ryckaert_bellemans` (Fourier terms are
converted exactly), the tail :func:`~bayesff.potentials.cutoff.tail_correction`
per pair of site types:

.. math::

    U_{tail} = \frac{1}{V} \sum_{a,b} N_a N_b\, 2\pi \int_{r_c}^\infty u_{ab}(r) r^2 dr,
    \qquad
    p_{tail} = -\frac{2\pi}{3 V^2} \sum_{a,b} N_a N_b \int_{r_c}^\infty r^3 u_{ab}'(r) dr

(M. P. Allen and D. J. Tildesley, *Computer Simulation of Liquids*, 2nd ed.,
Oxford 2017, section 2.8; every site pair counted, g = 1 beyond r_c).

Pressure. :func:`molecular_virial` is :math:`W = \mathrm{d}U/\mathrm{d}\lambda`
at :math:`\lambda = 1` when every molecule's centre of mass and the box are
scaled by :math:`\lambda` at fixed internal geometry (the molecular virial;
constraint forces, being intramolecular, do not enter), so that
:math:`p = N_{mol} k_B T / V - W / (3V) + p_{tail}`
(:func:`molecular_pressure`); the tail's own volume dependence is in
:math:`p_{tail}`, and W is that of the truncated pairs without the impulsive
term at r_c, which :math:`p_{tail}` contains.

Neighbour pairs. The pair sum runs over a list of candidate pairs, shape
(2, M), padding entries equal to the number of sites N (the format of
jax-md's ``OrderedSparse`` neighbour list, which the jax-md engine passes:
:mod:`bayesff.simulate.engines.jaxmd_engine`), or over all pairs i < j when
none is given (small systems and tests). Candidates beyond r_c, excluded
pairs and padding are masked, evaluated at a safe distance so that no NaN
reaches values or gradients. The list itself (and its overflow flag) is the
simulator's business, not this module's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import ProblemError
from bayesff.potentials.cutoff import tail_correction
from bayesff.potentials.pair import LENNARD_JONES, MIE, lennard_jones, mie
from bayesff.potentials.topology import Topology, parameter_names
from bayesff.potentials.torsion import ryckaert_bellemans
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K, KJ_PER_MOL_PER_A3_IN_MPA

__all__ = [
    "EnergyTerms",
    "PairTables",
    "System",
    "all_pairs",
    "bonded_energy",
    "check_box",
    "check_params",
    "energy",
    "energy_terms",
    "minimum_image",
    "molecular_pressure",
    "molecular_virial",
    "pair_tables",
    "tail",
    "unwrap",
]


# --------------------------------------------------------------------------- system


@dataclass(frozen=True)
class System:
    """A topology and a composition, flattened into site-level index arrays.

    Sites are numbered molecule by molecule, in the order of ``counts``.
    The arrays (NumPy, constants of the compiled energy) are built on first
    use and cached on the object.

    Parameters
    ----------
    topology
        Site types, molecule types and the nonbonded model.
    counts
        ``((molecule name, number), ...)``; each name a molecule of the topology.
    """

    topology: Topology
    counts: tuple[tuple[str, int], ...]

    def __post_init__(self):
        counts = tuple((str(n), c) for n, c in dict(self.counts).items())
        object.__setattr__(self, "counts", counts)
        if not counts:
            raise ProblemError("a system needs at least one molecule", "counts")
        for name, c in counts:
            self.topology.molecule(name)
            if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 1:
                raise ProblemError(
                    f"the number of {name} molecules must be a whole number >= 1, found {c!r}",
                    f"counts.{name}",
                )
        # built now, never while a caller is being traced
        object.__setattr__(self, "_arrays", _flatten(self))

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Index arrays of the system (NumPy): site types, molecules, exclusion tables,
        1-4 pairs, bonded terms, constraints, type counts."""
        return self._arrays

    @property
    def n_sites(self) -> int:
        """Total number of sites N."""
        return int(self.arrays["site_type"].shape[0])

    @property
    def n_molecules(self) -> int:
        """Total number of molecules."""
        return int(self.arrays["molecule_first"].shape[0])

    @property
    def masses(self) -> np.ndarray:
        """Site masses, g/mol, shape (N,)."""
        return self.arrays["mass"]

    @property
    def total_mass_g_per_mol(self) -> float:
        """Sum of the site masses, g/mol."""
        return float(np.sum(self.arrays["mass"]))


def _flatten(system: System) -> dict[str, np.ndarray]:
    topo = system.topology
    kinds = {m.name: k for k, m in enumerate(topo.molecules)}
    max_sites = max(m.n_sites for m in topo.molecules)
    excl = np.zeros((len(topo.molecules), max_sites, max_sites), dtype=bool)
    for k, m in enumerate(topo.molecules):
        np.fill_diagonal(excl[k], True)
        for group in ("excluded", "scaled14"):
            for i, j in m.pair_lists[group]:
                excl[k, i, j] = excl[k, j, i] = True
    site_type, site_mol, site_local, site_kind, mass = [], [], [], [], []
    mol_first, mol_kind = [], []
    p14, s14, angles, th0, kth, tors, rb = [], [], [], [], [], [], []
    hb, hb_r0, hb_k, cons, cons_len = [], [], [], [], []
    offset = 0
    imol = 0
    for name, count in system.counts:
        m = topo.molecule(name)
        k = kinds[name]
        types = [topo.type_index(s) for s in m.sites]
        masses = topo.masses(m)
        for _ in range(count):
            mol_first.append(offset)
            mol_kind.append(k)
            site_type += types
            site_mol += [imol] * m.n_sites
            site_local += list(range(m.n_sites))
            site_kind += [k] * m.n_sites
            mass += list(masses)
            for i, j in m.pair_lists["scaled14"]:
                p14.append((offset + i, offset + j))
                s14.append(m.scaling.lj14)
            for b in m.bonds:
                if b.fixed:
                    cons.append((offset + b.i, offset + b.j))
                    cons_len.append(b.length_angstrom)
                else:
                    hb.append((offset + b.i, offset + b.j))
                    hb_r0.append(b.length_angstrom)
                    hb_k.append(b.k_kJ_per_mol_A2)
            for a in m.angles:
                angles.append((offset + a.i, offset + a.j, offset + a.k))
                th0.append(a.theta0_rad)
                kth.append(a.k_kJ_per_mol_rad2)
            for t in m.torsions:
                tors.append((offset + t.i, offset + t.j, offset + t.k, offset + t.l))
                rb.append(t.ryckaert_bellemans())
            offset += m.n_sites
            imol += 1

    def ints(x, width):
        return np.asarray(x, dtype=np.int32).reshape(-1, width)

    def floats(x, width=None):
        a = np.asarray(x, dtype=float)
        return a.reshape(-1, width) if width else a.reshape(-1)

    site_type = np.asarray(site_type, dtype=np.int32)
    return {
        "site_type": site_type,
        "site_molecule": np.asarray(site_mol, dtype=np.int32),
        "site_local": np.asarray(site_local, dtype=np.int32),
        "site_kind": np.asarray(site_kind, dtype=np.int32),
        "mass": np.asarray(mass, dtype=float),
        "molecule_first": np.asarray(mol_first, dtype=np.int32),
        "molecule_kind": np.asarray(mol_kind, dtype=np.int32),
        "excluded": excl,
        "pairs14": ints(p14, 2),
        "scale14": floats(s14),
        "bonds": ints(hb, 2),
        "bond_r0": floats(hb_r0),
        "bond_k": floats(hb_k),
        "constraints": ints(cons, 2),
        "constraint_length": floats(cons_len),
        "angles": ints(angles, 3),
        "theta0": floats(th0),
        "k_theta": floats(kth),
        "torsions": ints(tors, 4),
        "rb": floats(rb, 6),
        "type_counts": np.bincount(site_type, minlength=len(topo.site_types)).astype(float),
    }


def all_pairs(system: System) -> np.ndarray:
    """Every site pair i < j, shape (2, N(N-1)/2), for small systems and checks."""
    i, j = np.triu_indices(system.n_sites, k=1)
    return np.stack([i, j]).astype(np.int32)


def check_box(system: System, box_angstrom, where: str = "box") -> np.ndarray:
    """The box as a (3,) array of edge lengths, checked against the cut-off.

    Raises
    ------
    ProblemError
        If an edge is not finite and > 0, or is shorter than twice the cut-off
        (the minimum-image convention would miss pairs).
    """
    box = np.broadcast_to(np.asarray(box_angstrom, dtype=float), (3,)).copy()
    if not np.all(np.isfinite(box) & (box > 0)):
        raise ProblemError(f"box edges must be finite and > 0 angstrom, found {box}", where)
    rc = system.topology.r_cut_angstrom
    if np.any(box < 2.0 * rc):
        raise ProblemError(
            f"box edge {box.min():.4g} angstrom is smaller than twice the cut-off "
            f"(2 x {rc:g} angstrom): add molecules or lower r_cut",
            where,
        )
    return box


def check_params(topology: Topology, params, where: str = "params") -> dict:
    """Check that ``params`` holds exactly the topology's parameters (names only).

    Values are returned as JAX arrays (possibly traced). Raises
    :class:`~bayesff.errors.ProblemError` naming missing and unknown keys.
    """
    names = parameter_names(topology)
    missing = [n for n in names if n not in params]
    extra = sorted(set(params) - set(names))
    if missing or extra:
        raise ProblemError(
            f"expected parameters {list(names)}; missing {missing}, unknown {extra}", where
        )
    return {k: jnp.asarray(params[k]) for k in names}


# --------------------------------------------------------------------------- parameters


class PairTables(NamedTuple):
    """Nonbonded parameters of every pair of site types, shape (T, T) each.

    ``epsilon`` kJ/mol, ``sigma`` angstrom, ``n`` and ``m`` the exponents (12
    and 6 for LJ).
    """

    epsilon: jax.Array
    sigma: jax.Array
    n: jax.Array
    m: jax.Array


def pair_tables(topology: Topology, params) -> PairTables:
    """Combine per-type parameters into (T, T) tables (the topology's combining rule)."""
    names = topology.type_names
    eps = jnp.stack([jnp.asarray(params[f"epsilon_{t}"], dtype=float) for t in names])
    sig = jnp.stack([jnp.asarray(params[f"sigma_{t}"], dtype=float) for t in names])
    if topology.combining_rule == "geometric":
        sig_t = jnp.sqrt(sig[:, None] * sig[None, :])
    else:
        sig_t = 0.5 * (sig[:, None] + sig[None, :])
    eps_t = jnp.sqrt(eps[:, None] * eps[None, :])
    if topology.combining_rule == "explicit":
        for a_i, a in enumerate(names):
            for b_i in range(a_i + 1, len(names)):
                b = names[b_i]
                e = jnp.asarray(params[f"epsilon_{a}_{b}"], dtype=float)
                s = jnp.asarray(params[f"sigma_{a}_{b}"], dtype=float)
                eps_t = eps_t.at[a_i, b_i].set(e).at[b_i, a_i].set(e)
                sig_t = sig_t.at[a_i, b_i].set(s).at[b_i, a_i].set(s)
    if topology.form == "mie":
        n = jnp.stack([jnp.asarray(params[f"n_{t}"], dtype=float) for t in names])
        m = jnp.stack([jnp.asarray(params[f"m_{t}"], dtype=float) for t in names])
        n_t = 0.5 * (n[:, None] + n[None, :])
        m_t = 0.5 * (m[:, None] + m[None, :])
    else:
        n_t = jnp.full(eps_t.shape, 12.0)
        m_t = jnp.full(eps_t.shape, 6.0)
    return PairTables(eps_t, sig_t, n_t, m_t)


def _pair_energy(form: str, r, eps, sig, n, m):
    if form == "lj":
        return lennard_jones(r, eps, sig)
    return mie(r, eps, sig, n, m)


# --------------------------------------------------------------------------- geometry


def minimum_image(dr, box):
    """Minimum-image displacement in an orthorhombic box (``box`` None: no periodicity)."""
    if box is None:
        return dr
    return dr - box * jnp.round(dr / box)


def unwrap(system: System, positions, box):
    """Positions with every molecule whole (sites placed by minimum image from its first).

    Needs every site within half a box edge of its molecule's first site.
    """
    a = system.arrays
    first = positions[a["molecule_first"][a["site_molecule"]]]
    return first + minimum_image(positions - first, box)


def _angle(ri, rj, rk, box):
    u = minimum_image(ri - rj, box)
    v = minimum_image(rk - rj, box)
    cross = jnp.linalg.norm(jnp.cross(u, v), axis=-1)
    return jnp.arctan2(cross, jnp.sum(u * v, axis=-1))


def _dihedral(ri, rj, rk, rl, box):
    """IUPAC dihedral angle (cis = 0, trans = pi), atan2 form (stable gradients)."""
    b1 = minimum_image(rj - ri, box)
    b2 = minimum_image(rk - rj, box)
    b3 = minimum_image(rl - rk, box)
    n1 = jnp.cross(b1, b2)
    n2 = jnp.cross(b2, b3)
    b2n = jnp.linalg.norm(b2, axis=-1, keepdims=True)
    y = jnp.sum(jnp.cross(n1, n2) * b2 / b2n, axis=-1)
    x = jnp.sum(n1 * n2, axis=-1)
    return jnp.arctan2(y, x)


# --------------------------------------------------------------------------- energy


class EnergyTerms(NamedTuple):
    """Potential energy of a configuration by term, kJ/mol (scalars).

    Attributes
    ----------
    nonbonded
        Truncated pair sum (intermolecular and intramolecular beyond 1-4).
    pairs14
        Scaled 1-4 pairs (zero when 1-4 pairs are excluded).
    bonds, angles, torsions
        Bonded terms (fixed bonds contribute nothing).
    tail
        Long-range correction U_tail (zero without ``tail`` or without a box).
    total
        The sum.
    """

    nonbonded: jax.Array
    pairs14: jax.Array
    bonds: jax.Array
    angles: jax.Array
    torsions: jax.Array
    tail: jax.Array
    total: jax.Array

    @property
    def intramolecular_bonded(self):
        """bonds + angles + torsions + pairs14, kJ/mol."""
        return self.bonds + self.angles + self.torsions + self.pairs14


def _nonbonded(system: System, tables: PairTables, R, box, pairs):
    a = system.arrays
    n = R.shape[0]
    i, j = pairs[0], pairs[1]
    valid = (i < n) & (j < n)
    ii = jnp.minimum(i, n - 1)
    jj = jnp.minimum(j, n - 1)
    dr = minimum_image(R[ii] - R[jj], box)
    r2 = jnp.sum(dr * dr, axis=-1)
    mol = jnp.asarray(a["site_molecule"])
    loc = jnp.asarray(a["site_local"])
    kind = jnp.asarray(a["site_kind"])
    excl = jnp.asarray(a["excluded"])[kind[ii], loc[ii], loc[jj]] & (mol[ii] == mol[jj])
    mask = valid & ~excl
    if box is not None:
        rc2 = system.topology.r_cut_angstrom**2
        mask = mask & (r2 < rc2)
        safe = rc2
    else:
        safe = 1.0e4
    r = jnp.sqrt(jnp.where(mask, r2, safe))
    t = jnp.asarray(a["site_type"])
    ti, tj = t[ii], t[jj]
    u = _pair_energy(
        system.topology.form,
        r,
        tables.epsilon[ti, tj],
        tables.sigma[ti, tj],
        tables.n[ti, tj],
        tables.m[ti, tj],
    )
    return jnp.sum(jnp.where(mask, u, 0.0))


def _pairs14(system: System, tables: PairTables, R, box):
    a = system.arrays
    if a["pairs14"].shape[0] == 0:
        return jnp.zeros((), R.dtype)
    p = a["pairs14"]
    t = a["site_type"]
    ti, tj = t[p[:, 0]], t[p[:, 1]]
    r = jnp.linalg.norm(minimum_image(R[p[:, 0]] - R[p[:, 1]], box), axis=-1)
    u = _pair_energy(
        system.topology.form,
        r,
        tables.epsilon[ti, tj],
        tables.sigma[ti, tj],
        tables.n[ti, tj],
        tables.m[ti, tj],
    )
    return jnp.sum(jnp.asarray(a["scale14"]) * u)


def _bonded(system: System, R, box):
    a = system.arrays
    zero = jnp.zeros((), R.dtype)
    e_bond = e_angle = e_tors = zero
    if a["bonds"].shape[0]:
        b = a["bonds"]
        r = jnp.linalg.norm(minimum_image(R[b[:, 0]] - R[b[:, 1]], box), axis=-1)
        e_bond = jnp.sum(0.5 * a["bond_k"] * (r - a["bond_r0"]) ** 2)
    if a["angles"].shape[0]:
        t = a["angles"]
        theta = _angle(R[t[:, 0]], R[t[:, 1]], R[t[:, 2]], box)
        e_angle = jnp.sum(0.5 * a["k_theta"] * (theta - a["theta0"]) ** 2)
    if a["torsions"].shape[0]:
        q = a["torsions"]
        phi = _dihedral(R[q[:, 0]], R[q[:, 1]], R[q[:, 2]], R[q[:, 3]], box)
        c = a["rb"]
        e_tors = jnp.sum(ryckaert_bellemans(phi, *(c[:, k] for k in range(6))))
    return e_bond, e_angle, e_tors


def bonded_energy(system: System, positions, box):
    """Bonds + angles + torsions of a configuration, kJ/mol: the part of U that no
    nonbonded parameter changes (``box`` None for isolated molecules)."""
    R = jnp.asarray(positions)
    box = None if box is None else jnp.broadcast_to(jnp.asarray(box, dtype=R.dtype), (3,))
    return sum(_bonded(system, R, box))


@functools.lru_cache(maxsize=64)
def _tail_coefficients_fn(form: str, r_cut: float):
    """(T, T) tables of 2 pi int u r^2 dr (kJ/mol A^3) and -(2 pi/3) int r^3 u' dr (MPa A^6)."""
    pot = LENNARD_JONES if form == "lj" else MIE

    def one(eps, sig, n, m):
        p = {"epsilon": eps, "sigma": sig}
        if form == "mie":
            p |= {"n": n, "m": m}
        tc = tail_correction(pot, p, r_cut, 1.0)
        return tc.energy_per_particle, tc.pressure

    return jax.vmap(jax.vmap(one))


def tail(system: System, params, volume_A3):
    """Long-range corrections of the truncated pairs: (U_tail kJ/mol, p_tail MPa).

    Zero when the topology has ``tail = False``. Differentiable in the
    parameters and the volume.
    """
    topo = system.topology
    if not topo.tail:
        z = jnp.zeros((), dtype=jnp.asarray(volume_A3).dtype)
        return z, z
    tables = pair_tables(topo, params)
    e_ab, p_ab = _tail_coefficients_fn(topo.form, float(topo.r_cut_angstrom))(*tables)
    counts = jnp.asarray(system.arrays["type_counts"])
    nn = counts[:, None] * counts[None, :]
    return jnp.sum(nn * e_ab) / volume_A3, jnp.sum(nn * p_ab) / volume_A3**2


def energy_terms(system: System, positions, box, params, pairs=None) -> EnergyTerms:
    """Potential energy of one configuration, term by term (pure JAX).

    Parameters
    ----------
    system
        The system (topology and composition).
    positions
        Site positions, angstrom, shape (N, 3); molecules need not be whole.
    box
        Orthorhombic box edges, angstrom, shape (3,) or scalar; ``None`` for
        an isolated cluster (no periodicity, no cut-off, no tail: the gas
        phase).
    params
        Nonbonded parameters (:func:`~bayesff.potentials.topology.parameter_names`),
        internal units; scalars, possibly traced.
    pairs
        Candidate pairs, (2, M) int with padding N (jax-md ``OrderedSparse``
        format), or None for all pairs (O(N^2)).

    Returns
    -------
    EnergyTerms
        kJ/mol.
    """
    R = jnp.asarray(positions)
    box_arr = None if box is None else jnp.broadcast_to(jnp.asarray(box, dtype=R.dtype), (3,))
    tables = pair_tables(system.topology, params)
    if pairs is None:
        pairs = all_pairs(system)
    e_nb = _nonbonded(system, tables, R, box_arr, jnp.asarray(pairs))
    e_14 = _pairs14(system, tables, R, box_arr)
    e_b, e_a, e_t = _bonded(system, R, box_arr)
    if box_arr is None:
        e_tail = jnp.zeros((), R.dtype)
    else:
        e_tail = tail(system, params, jnp.prod(box_arr))[0]
    total = e_nb + e_14 + e_b + e_a + e_t + e_tail
    return EnergyTerms(e_nb, e_14, e_b, e_a, e_t, e_tail, total)


def energy(system: System, positions, box, params, pairs=None):
    """Total potential energy, kJ/mol (:func:`energy_terms` ``.total``)."""
    return energy_terms(system, positions, box, params, pairs).total


def molecular_virial(system: System, positions, box, params, pairs=None):
    r"""Molecular virial :math:`W = \mathrm{d}U/\mathrm{d}\lambda|_{\lambda=1}`, kJ/mol.

    U (without the tail, whose volume dependence :func:`tail` gives as
    p_tail) of the configuration whose molecular centres of mass and box are
    scaled by lambda at fixed internal geometry. Intramolecular terms do not
    contribute; for pairs of different molecules
    :math:`W = \sum u'(r_{ij})\, \mathbf{r}_{ij} \cdot \mathbf{R}_{IJ} / r_{ij}`,
    with :math:`\mathbf{R}_{IJ}` the centre-of-mass separation in the image of
    the pair. Computed by forward-mode differentiation of :func:`energy_terms`.
    """
    R = jnp.asarray(positions)
    box = jnp.broadcast_to(jnp.asarray(box, dtype=R.dtype), (3,))
    a = system.arrays
    whole = unwrap(system, R, box)
    m = jnp.asarray(a["mass"])
    mol = a["site_molecule"]
    n_mol = system.n_molecules
    com = (
        jax.ops.segment_sum(m[:, None] * whole, mol, n_mol)
        / jax.ops.segment_sum(m, mol, n_mol)[:, None]
    )
    shift = com[mol]

    def scaled(lam):
        t = energy_terms(system, whole + (lam - 1.0) * shift, lam * box, params, pairs)
        return t.total - t.tail

    one = jnp.ones((), R.dtype)
    return jax.jvp(scaled, (one,), (one,))[1]


def molecular_pressure(system: System, positions, box, params, T_K, pairs=None):
    r"""Instantaneous molecular pressure, MPa.

    .. math::

        p = \frac{N_{mol} k_B T}{V} - \frac{W}{3V} + p_{tail}

    with the thermostat's T (its ensemble average equals that of the
    molecular kinetic pressure) and W of :func:`molecular_virial`.
    """
    box = jnp.broadcast_to(jnp.asarray(box, dtype=float), (3,))
    vol = jnp.prod(box)
    w = molecular_virial(system, positions, box, params, pairs)
    p = (system.n_molecules * GAS_CONSTANT_KJ_PER_MOL_K * T_K / vol - w / (3.0 * vol)) * (
        KJ_PER_MOL_PER_A3_IN_MPA
    )
    return p + tail(system, params, vol)[1]
