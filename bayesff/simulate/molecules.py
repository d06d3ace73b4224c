r"""Start configurations of molecular systems: molecules on a lattice, no overlaps.

:func:`lattice_configuration` places the molecules of a
:class:`~bayesff.potentials.forcefield.System` at the centres of a simple
cubic lattice in a cubic box sized for a target mass density, each in its
start geometry (:func:`conformer`) with a random orientation, retried until
no site comes closer than ``min_distance_angstrom`` to a site of another
molecule. A start this dense is not an equilibrium liquid: the engines
equilibrate it (``n_equil``) and :mod:`bayesff.simulate.timeseries` detects
how much of the run to discard.

:func:`thermal_conformers` draws the start shapes of flexible molecules from
the isolated molecule's Boltzmann distribution at T (Metropolis moves of the
dihedral angles, bonds and angles at their start values). MD alone cannot do
it: a torsion crosses its barrier about once a nanosecond at these
temperatures (n-butane, 13.8 kJ/mol from trans), so gas runs of 100 ps that
start all-trans keep most molecules trans and their mean intramolecular energy
too low (measured: 1.43 against the exact 2.08 kJ/mol for n-butane's torsion at
244 K), which biases Delta H_vap low by about 0.6 kJ/mol per torsion.

Units: angstrom, kg/m^3, g/mol.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import ProblemError
from bayesff.potentials import forcefield as ff
from bayesff.potentials.forcefield import System, check_box
from bayesff.potentials.topology import MoleculeType, Topology
from bayesff.units import AVOGADRO, GAS_CONSTANT_KJ_PER_MOL_K

__all__ = [
    "box_for_density",
    "check_overlaps",
    "conformer",
    "density_kg_per_m3",
    "lattice_configuration",
    "rotatable_bonds",
    "thermal_conformers",
]

#: kg/m^3 per (g/mol / angstrom^3): 1e-3 kg/g / N_A / 1e-30 m^3.
_KG_M3 = 1e27 / AVOGADRO


def density_kg_per_m3(system: System, volume_A3) -> float:
    """Mass density of the system in a box of ``volume_A3`` (angstrom^3), kg/m^3."""
    return system.total_mass_g_per_mol / volume_A3 * _KG_M3


def box_for_density(system: System, density_kg_per_m3: float) -> float:
    """Edge of the cubic box (angstrom) holding the system at a mass density (kg/m^3)."""
    rho = float(density_kg_per_m3)
    if not (math.isfinite(rho) and rho > 0):
        raise ProblemError(f"density must be finite and > 0 kg/m^3, found {rho!r}", "density")
    return (system.total_mass_g_per_mol * _KG_M3 / rho) ** (1.0 / 3.0)


def conformer(molecule: MoleculeType) -> np.ndarray:
    """A start geometry of a molecule, angstrom, shape (n_sites, 3).

    The molecule's own ``coordinates_angstrom`` when given; otherwise, for an
    unbranched chain, the planar all-trans zig-zag with the bond lengths and
    the equilibrium angles of its terms (109.47 deg where a chain angle has
    no term). Centred at the origin (geometric centre).

    Raises
    ------
    ProblemError
        For a branched or cyclic molecule without coordinates.
    """
    if molecule.coordinates_angstrom is not None:
        xyz = np.asarray(molecule.coordinates_angstrom, dtype=float)
        return xyz - xyz.mean(axis=0)
    n = molecule.n_sites
    if n == 1:
        return np.zeros((1, 3))
    adj = molecule.graph.neighbours()
    ends = [k for k in range(n) if len(adj[k]) == 1]
    if any(len(a) > 2 for a in adj) or len(ends) != 2 or len(molecule.bonds) != n - 1:
        raise ProblemError(
            "a branched or cyclic molecule needs start coordinates (coordinates = [[x, y, z], "
            "...] in angstrom); only unbranched chains are built automatically",
            f"molecules[{molecule.name}].coordinates",
        )
    order = [ends[0]]
    while len(order) < n:
        nxt = [k for k in adj[order[-1]] if k not in order]
        order.append(nxt[0])
    length = {(min(b.i, b.j), max(b.i, b.j)): b.length_angstrom for b in molecule.bonds}
    theta = {a.j: a.theta0_rad for a in molecule.angles}
    xyz = np.zeros((n, 3))
    heading = 0.0
    for step in range(1, n):
        prev, cur = order[step - 1], order[step]
        if step > 1:
            # turn by (pi - theta) at the previous site, alternating sides: all trans
            turn = math.pi - theta.get(prev, math.radians(109.47))
            heading += turn if step % 2 == 0 else -turn
        b = length[(min(prev, cur), max(prev, cur))]
        xyz[cur] = xyz[prev] + b * np.array([math.cos(heading), math.sin(heading), 0.0])
    return xyz - xyz.mean(axis=0)


def rotatable_bonds(molecule: MoleculeType) -> list[tuple[int, int, np.ndarray]]:
    """The bonds a dihedral move can turn: ``(i, j, side)`` with ``side`` the sites on
    j's side of the bond (the smaller side), for every bond that is in no ring and has
    at least two sites on each side (turning a lone end site about its own bond moves
    nothing)."""
    adj = molecule.graph.neighbours()
    n = molecule.n_sites
    out = []
    for b in molecule.bonds:
        i, j = b.i, b.j
        seen, stack = {j}, [j]
        while stack:  # the sites reachable from j without crossing the bond i-j
            a = stack.pop()
            for c in adj[a]:
                if c not in seen and not (a == j and c == i):
                    seen.add(c)
                    stack.append(c)
        if i in seen or len(seen) < 2 or n - len(seen) < 2:
            continue
        if len(seen) > n - len(seen):  # turn the smaller side
            i, j = j, i
            seen = set(range(n)) - seen
        out.append((i, j, np.array(sorted(seen), dtype=int)))
    return out


def _turn(X: np.ndarray, i: int, j: int, side: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate the ``side`` sites of every conformer in X (K, n, 3) about its bond i-j by
    ``angle`` (K,) radians (Rodrigues' formula)."""
    axis = X[:, j] - X[:, i]
    k = axis / np.linalg.norm(axis, axis=1, keepdims=True)
    v = X[:, side] - X[:, j][:, None, :]
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    kk = k[:, None, :]
    v = v * c + np.cross(kk, v) * s + kk * np.sum(kk * v, axis=-1, keepdims=True) * (1.0 - c)
    out = X.copy()
    out[:, side] = X[:, j][:, None, :] + v
    return out


def thermal_conformers(
    topology: Topology,
    molecule: str,
    params,
    T_K: float,
    n: int,
    *,
    seed: int = 0,
    sweeps: int = 200,
) -> np.ndarray:
    r"""``n`` start shapes of one molecule drawn from its isolated Boltzmann distribution.

    Each conformer is its own Metropolis chain in the dihedral angles: a move turns the
    smaller side of a rotatable bond (:func:`rotatable_bonds`) by an angle uniform in
    (-pi, pi] and is accepted with probability min(1, exp(-Delta U / k_B T)), U the
    isolated molecule's whole potential energy at ``params``
    (:func:`bayesff.potentials.forcefield.energy`: torsions, intramolecular pairs beyond
    the exclusions, 1-4 pairs). Bond lengths and angles stay at the start geometry's
    (:func:`conformer`); MD relaxes them within picoseconds. With fixed bonds and angles
    the volume element does not depend on the dihedrals, so the chain's stationary
    distribution is :math:`\propto e^{-U/k_B T}` in them: for n-butane (no pair beyond
    1-4) each dihedral follows :math:`e^{-u(\phi)/k_B T}` exactly.

    Parameters
    ----------
    topology
        The force field's topology.
    molecule
        Name of the molecule type.
    params
        Nonbonded parameters, internal units (kJ/mol, angstrom).
    T_K
        Temperature, K.
    n
        Number of conformers.
    seed
        Seed of the moves.
    sweeps
        Moves per rotatable bond per conformer (200: each dihedral jumps its barriers
        tens of times, measured acceptance 0.3-0.5 for the n-alkanes).

    Returns
    -------
    numpy.ndarray
        (n, n_sites, 3), angstrom, each centred at the origin. A rigid molecule (no
        rotatable bond) gives ``n`` copies of :func:`conformer`.
    """
    mol = topology.molecule(molecule)
    x0 = conformer(mol)
    X = np.broadcast_to(x0, (n, *x0.shape)).copy()
    bonds = rotatable_bonds(mol)
    if not bonds or n == 0:
        return X
    if not (math.isfinite(T_K) and T_K > 0.0):
        raise ProblemError(f"the temperature must be finite and > 0 K, found {T_K!r}", "T_K")
    single = System(topology, ((molecule, 1),))
    p = {k: float(v) for k, v in params.items()}
    energy = jax.jit(jax.vmap(lambda x: ff.energy(single, x, None, p)))
    beta = 1.0 / (GAS_CONSTANT_KJ_PER_MOL_K * T_K)
    rng = np.random.default_rng(seed)
    U = np.array(energy(jnp.asarray(X)))
    for _ in range(sweeps):
        for b in rng.permutation(len(bonds)):
            i, j, side = bonds[b]
            trial = _turn(X, i, j, side, rng.uniform(-math.pi, math.pi, n))
            U_new = np.asarray(energy(jnp.asarray(trial)))
            log_u = np.log(rng.uniform(size=n))
            ok = np.isfinite(U_new) & (log_u < -beta * (U_new - U))
            X[ok] = trial[ok]
            U[ok] = U_new[ok]
    return X - X.mean(axis=1, keepdims=True)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation matrix (QR of a Gaussian matrix, sign-fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def check_overlaps(
    system: System,
    positions,
    box,
    min_distance_angstrom: float,
    where: str = "start configuration",
) -> None:
    """Raise if two sites of different molecules are closer than ``min_distance_angstrom``.

    Raises
    ------
    ProblemError
        Naming the two sites, their molecules and the distance.
    """
    R = np.asarray(positions, dtype=float)
    mol = system.arrays["site_molecule"]
    box = None if box is None else np.broadcast_to(np.asarray(box, dtype=float), (3,))
    for i in range(R.shape[0] - 1):
        d = R[i + 1 :] - R[i]
        if box is not None:
            d -= box * np.round(d / box)
        r = np.sqrt(np.sum(d * d, axis=1))
        other = mol[i + 1 :] != mol[i]
        close = np.flatnonzero(other & (r < min_distance_angstrom))
        if close.size:
            j = i + 1 + int(close[0])
            raise ProblemError(
                f"overlapping molecules: site {i} (molecule {_label(system, mol[i])}) and site "
                f"{j} (molecule {_label(system, mol[j])}) are {r[close[0]]:.3g} angstrom apart, "
                f"below {min_distance_angstrom:g}",
                where,
            )


def _label(system: System, imol: int) -> str:
    kind = system.arrays["molecule_kind"][imol]
    return f"{imol}, {system.topology.molecules[kind].name}"


def lattice_configuration(
    system: System,
    density_kg_per_m3: float,
    *,
    seed: int = 0,
    min_distance_angstrom: float = 2.5,
    max_tries: int = 200,
    conformers=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Molecules on a simple cubic lattice in a cubic box at a mass density.

    Randomly oriented first; where that leaves overlaps (long chains at liquid
    densities), aligned along z on a lattice whose z spacing holds the longest
    molecule, turned about z at random, each in its all-trans :func:`conformer`
    (the aligned start is the only one that needs straight chains).

    Parameters
    ----------
    system
        The molecules (in the order of ``system.counts``).
    density_kg_per_m3
        Target mass density; the box edge follows (:func:`box_for_density`)
        and must be at least twice the cut-off.
    seed
        Seed of the random orientations.
    min_distance_angstrom
        Smallest allowed distance between sites of different molecules.
    max_tries
        Orientations tried per molecule before giving up.
    conformers
        Optional ``{molecule name: (K, n_sites, 3) array}`` of start shapes (for
        example :func:`thermal_conformers`); the k-th molecule of a type takes shape
        ``k % K``. Default: every molecule in its :func:`conformer`.

    Returns
    -------
    positions, box
        (N, 3) and (3,), angstrom; molecules whole, centres in the box.

    Raises
    ------
    ProblemError
        If the box is smaller than twice the cut-off, or a molecule cannot be
        placed without overlap (naming it: lower the start density).
    """
    L = box_for_density(system, density_kg_per_m3)
    box = check_box(system, L, "start configuration box")
    conformers = _checked_shapes(system.topology, conformers)
    try:
        return _random_lattice(system, L, box, seed, min_distance_angstrom, max_tries,
                               density_kg_per_m3, conformers)  # fmt: skip
    except ProblemError as random_error:
        # long chains do not fit in randomly oriented cubic cells at liquid densities;
        # aligned along z on a lattice with a long z spacing they do (the usual start of
        # an alkane liquid), and the first nanoseconds of MD melt the order
        try:
            return _aligned_lattice(system, L, box, seed, min_distance_angstrom, max_tries)
        except ProblemError:
            raise random_error from None


def _checked_shapes(topo: Topology, conformers) -> dict[str, np.ndarray]:
    """``{name: (K, n_sites, 3)}`` start shapes, centred, or a ProblemError naming the
    molecule and the shape expected."""
    out = {}
    for name, xyz in (conformers or {}).items():
        m = topo.molecule(name)
        xyz = np.asarray(xyz, dtype=float)
        if xyz.ndim != 3 or xyz.shape[0] == 0 or xyz.shape[1:] != (m.n_sites, 3):
            raise ProblemError(
                f"start shapes of {name} must be (K, {m.n_sites}, 3) with K >= 1, found "
                f"shape {xyz.shape}",
                "start configuration",
            )
        out[name] = xyz - xyz.mean(axis=1, keepdims=True)
    return out


def _along_z(xyz: np.ndarray) -> np.ndarray:
    """A conformer centred, its longest principal axis along z (a proper rotation)."""
    x = xyz - xyz.mean(axis=0)
    if x.shape[0] < 2:
        return x
    _, _, vt = np.linalg.svd(x, full_matrices=True)
    rot = vt[[2, 1, 0]].T  # columns: third, second, first principal axis -> x, y, z
    if np.linalg.det(rot) < 0:
        rot[:, 0] *= -1.0
    return x @ rot


def _rotation_z(angle: float, flip: bool) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    r = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    if flip:  # half a turn about x: the molecule's ends swapped
        r = r @ np.diag([1.0, -1.0, -1.0])
    return r


def _aligned_lattice(system, L, box, seed, dmin, max_tries):
    """Molecules with their long axes along z, on an nx x ny x nz lattice whose z spacing
    holds the longest molecule; random turns about z and flips."""
    rng = np.random.default_rng(seed)
    shapes = {m.name: _along_z(conformer(m)) for m in system.topology.molecules}
    length = max(float(np.ptp(x[:, 2])) for x in shapes.values()) + dmin
    n_mol = system.n_molecules
    nz = max(1, min(n_mol, int(L // length)))
    n_xy = math.ceil(n_mol / nz)
    nx = math.ceil(math.sqrt(n_xy))
    ny = math.ceil(n_xy / nx)
    cells = [(i, j, k) for k in range(nz) for i in range(nx) for j in range(ny)][:n_mol]
    centres = (np.asarray(cells, dtype=float) + 0.5) * (L / np.array([nx, ny, nz]))
    placed: list[np.ndarray] = []
    imol = 0
    for name, count in system.counts:
        for _ in range(count):
            for _try in range(max_tries):
                r = _rotation_z(rng.uniform(0.0, 2.0 * math.pi), bool(rng.integers(2)))
                xyz = shapes[name] @ r.T + centres[imol]
                if not placed or _clear(np.concatenate(placed), xyz, box, dmin):
                    break
            else:
                raise ProblemError(
                    f"could not place molecule {imol} ({name}) aligned either",
                    "start configuration",
                )
            placed.append(xyz)
            imol += 1
    return np.concatenate(placed), box


def _random_lattice(system, L, box, seed, min_distance_angstrom, max_tries, density_kg_per_m3,
                    conformers=None):  # fmt: skip
    rng = np.random.default_rng(seed)
    topo = system.topology
    shapes = {m.name: conformer(m)[None] for m in topo.molecules} | (conformers or {})
    n_mol = system.n_molecules
    per_edge = math.ceil(n_mol ** (1.0 / 3.0) - 1e-9)
    a = L / per_edge
    cells = np.array(np.meshgrid(*[np.arange(per_edge)] * 3, indexing="ij")).reshape(3, -1).T
    centres = (cells[:n_mol] + 0.5) * a
    placed: list[np.ndarray] = []
    imol = 0
    for name, count in system.counts:
        for k in range(count):
            shape = shapes[name][k % shapes[name].shape[0]]
            done = False
            for _try in range(max_tries):
                xyz = shape @ _random_rotation(rng).T + centres[imol]
                if not placed or _clear(np.concatenate(placed), xyz, box, min_distance_angstrom):
                    done = True
                    break
            if not done:
                raise ProblemError(
                    f"could not place molecule {imol} ({name}) without a site closer than "
                    f"{min_distance_angstrom:g} angstrom to another molecule in {max_tries} "
                    f"orientations at {density_kg_per_m3:g} kg/m^3; start at a lower density "
                    "and let the barostat compress",
                    "start configuration",
                )
            placed.append(xyz)
            imol += 1
    return np.concatenate(placed), box


def _clear(others: np.ndarray, xyz: np.ndarray, box, dmin: float) -> bool:
    d = others[:, None, :] - xyz[None, :, :]
    d -= box * np.round(d / box)
    return bool(np.min(np.sum(d * d, axis=-1)) >= dmin * dmin)
