"""Start configurations of molecular systems: geometry, density, overlaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesff.errors import ProblemError
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import (
    TRAPPE_UA_ALKANE,
    Bond,
    MoleculeType,
    trappe_alkane,
    trappe_topology,
)
from bayesff.simulate.molecules import (
    box_for_density,
    check_overlaps,
    conformer,
    density_kg_per_m3,
    lattice_configuration,
    rotatable_bonds,
    thermal_conformers,
)


def test_conformer_is_the_all_trans_chain():
    """n-octane's start geometry: bonds of 1.54 angstrom, angles of 114 deg and every
    dihedral trans (180 deg), to rounding, by its construction as a planar zig-zag."""
    x = conformer(trappe_alkane(8))
    b = np.linalg.norm(np.diff(x, axis=0), axis=1)
    np.testing.assert_allclose(b, 1.54, rtol=1e-14)
    for k in range(6):
        u, v = x[k] - x[k + 1], x[k + 2] - x[k + 1]
        assert math.degrees(math.acos(u @ v / np.linalg.norm(u) / np.linalg.norm(v))) == (
            pytest.approx(114.0, rel=1e-12)
        )
    for k in range(5):
        b1, b2, b3 = x[k + 1] - x[k], x[k + 2] - x[k + 1], x[k + 3] - x[k + 2]
        n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
        assert n1 @ n2 / np.linalg.norm(n1) / np.linalg.norm(n2) == pytest.approx(-1.0, abs=1e-12)


def test_lattice_start_has_the_density_and_no_overlap():
    """100 butanes at 500 kg/m^3: the box holds that mass density exactly (molar mass
    58.12 g/mol from the site masses), no two sites of different molecules are closer
    than the requested 2.5 angstrom, and every molecule keeps its geometry."""
    topo = trappe_topology([4], r_cut_angstrom=10.0)
    system = ff.System(topo, (("n-butane", 100),))
    R, box = lattice_configuration(system, 500.0, seed=4)
    assert density_kg_per_m3(system, float(np.prod(box))) == pytest.approx(500.0, rel=1e-12)
    assert system.total_mass_g_per_mol / 100 == pytest.approx(2 * 15.035 + 2 * 14.027)
    check_overlaps(system, R, box, 2.5)
    bonds = np.linalg.norm(R[1::4] - R[0::4], axis=1)
    np.testing.assert_allclose(bonds, 1.54, rtol=1e-12)


def test_long_chains_start_aligned_at_liquid_density():
    """128 n-decanes at 650 kg/m^3 (liquid; random orientations in cubic cells leave
    overlaps even at 300): the start has that density, no two sites of different molecules
    closer than 2.5 angstrom, and every molecule its all-trans geometry (pair distances
    within a molecule equal the conformer's to 1e-12: a rigid rotation)."""
    topo = trappe_topology([10], r_cut_angstrom=10.0)
    system = ff.System(topo, (("n-decane", 128),))
    R, box = lattice_configuration(system, 650.0, seed=0)
    assert density_kg_per_m3(system, float(np.prod(box))) == pytest.approx(650.0, rel=1e-12)
    check_overlaps(system, R, box, 2.5)
    x = conformer(topo.molecules[0])
    d0 = np.linalg.norm(x[:, None] - x[None], axis=-1)
    for m in range(128):
        y = R[10 * m : 10 * m + 10]
        np.testing.assert_allclose(np.linalg.norm(y[:, None] - y[None], axis=-1), d0, atol=1e-12)


def test_overlaps_and_small_boxes_are_refused():
    """Negative controls: two molecules on top of each other are named with their
    distance; a box below twice the cut-off and a density too high to place the
    molecules are one-line ProblemErrors."""
    topo = trappe_topology([4], r_cut_angstrom=10.0)
    system = ff.System(topo, (("n-butane", 2),))
    x = conformer(topo.molecules[0])
    R = np.concatenate([x, x + 0.3])
    with pytest.raises(
        ProblemError, match=r"overlapping molecules: site 0 \(molecule 0, n-butane\)"
    ):
        check_overlaps(system, R, np.full(3, 40.0), 2.5)
    with pytest.raises(ProblemError, match="smaller than twice the cut-off"):
        lattice_configuration(system, 500.0)
    big = ff.System(topo, (("n-butane", 200),))
    with pytest.raises(ProblemError, match=r"could not place molecule \d+ \(n-butane\)"):
        lattice_configuration(big, 2000.0, max_tries=5)
    assert box_for_density(big, 600.0) > 20.0


def test_branched_molecule_needs_coordinates():
    """A branched molecule without coordinates cannot be built automatically: the
    error names its coordinates field; with coordinates it is used as given (centred)."""
    bonds = (Bond(0, 1, 1.54), Bond(1, 2, 1.54), Bond(1, 3, 1.54))
    iso = MoleculeType("isobutane", ("CH3", "CH", "CH3", "CH3"), bonds)
    with pytest.raises(ProblemError, match=r"molecules\[isobutane\]\.coordinates"):
        conformer(iso)
    xyz = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (2.0, 0.0, 0.0), (1.0, 2.0, 0.0))
    given = MoleculeType("isobutane", iso.sites, bonds, coordinates_angstrom=xyz)
    np.testing.assert_allclose(conformer(given), np.asarray(xyz) - np.mean(xyz, axis=0))


# --------------------------------------------------------------------------- thermal conformers

_R = 8.314462618e-3  # kJ/mol/K (CODATA 2018 R)
_TRAPPE = {
    k: v for k, v in TRAPPE_UA_ALKANE.published_parameters().items() if k.endswith(("CH3", "CH2"))
}


def _dihedrals(X, k):
    """IUPAC dihedral (trans = pi) of sites k..k+3 of every conformer in X (K, n, 3)."""
    b1, b2, b3 = (X[:, k + q + 1] - X[:, k + q] for q in range(3))
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    y = np.sum(np.cross(n1, n2) * b2 / np.linalg.norm(b2, axis=1, keepdims=True), axis=1)
    return np.arctan2(y, np.sum(n1 * n2, axis=1))


def _trappe_torsion(phi):
    c1, c2, c3 = (x * _R for x in (355.03, -68.19, 791.32))  # Martin and Siepmann 1998
    return c1 * (1 + np.cos(phi)) + c2 * (1 - np.cos(2 * phi)) + c3 * (1 + np.cos(3 * phi))


def test_rotatable_bonds_of_chains_branches_and_rings():
    """n-octane: its 5 inner C-C bonds (not the two ending in a lone CH3); isobutane:
    none (every bond ends in one site); a four-ring: none (ring bonds cannot turn)."""
    octane = [(min(i, j), max(i, j)) for i, j, _ in rotatable_bonds(trappe_alkane(8))]
    assert sorted(octane) == [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    side = {
        (min(i, j), max(i, j)): set(s.tolist()) for i, j, s in rotatable_bonds(trappe_alkane(8))
    }
    assert side[(1, 2)] == {0, 1} and side[(3, 4)] in ({0, 1, 2, 3}, {4, 5, 6, 7})
    bonds = (Bond(0, 1, 1.54), Bond(1, 2, 1.54), Bond(1, 3, 1.54))
    assert rotatable_bonds(MoleculeType("isobutane", ("CH3", "CH", "CH3", "CH3"), bonds)) == []
    ring = tuple(Bond(k, (k + 1) % 4, 1.54) for k in range(4))
    xyz = ((0, 0, 0), (1.54, 0, 0), (1.54, 1.54, 0), (0, 1.54, 0))
    assert rotatable_bonds(MoleculeType("c4", ("CH2",) * 4, ring, coordinates_angstrom=xyz)) == []


def test_butane_conformers_follow_the_torsional_boltzmann_distribution():
    """n-butane has no pair beyond 1-4 (TraPPE-UA excludes 1-4 LJ), and with bonds and
    angles fixed the volume element does not depend on the dihedral, so its dihedral
    follows exp(-u(phi)/k_B T) exactly. At 244.44 K the mean torsion energy is 2.0791
    kJ/mol and the gauche fraction 0.2701 (quadrature on 200001 points); 4000 conformers
    must match within 4 standard errors of their own spread. The all-trans start that MD
    used before gives 0 and 0; bonds (1.54 angstrom) and angles (114 deg) stay exact."""
    topo = trappe_topology([4], r_cut_angstrom=10.0)
    T = 244.44
    X = thermal_conformers(topo, "n-butane", _TRAPPE, T, 4000, seed=3)
    np.testing.assert_allclose(np.linalg.norm(np.diff(X, axis=1), axis=2), 1.54, rtol=1e-12)
    u, v = X[:, 0] - X[:, 1], X[:, 2] - X[:, 1]
    cos = np.sum(u * v, axis=1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(np.degrees(np.arccos(cos)), 114.0, rtol=1e-10)
    phi = _dihedrals(X, 0)
    e = _trappe_torsion(phi)
    grid = np.linspace(-np.pi, np.pi, 200001)
    w = np.exp(-_trappe_torsion(grid) / (_R * T))
    exact_e = float(np.sum(_trappe_torsion(grid) * w) / np.sum(w))
    gauche = np.abs(grid) < 2 * np.pi / 3
    exact_g = float(np.sum(w[gauche]) / np.sum(w))
    assert exact_e == pytest.approx(2.0791, abs=1e-4) and exact_g == pytest.approx(
        0.2701, abs=1e-4
    )
    assert abs(e.mean() - exact_e) < 4 * e.std() / np.sqrt(len(e))
    g = np.abs(phi) < 2 * np.pi / 3
    assert abs(g.mean() - exact_g) < 4 * np.sqrt(exact_g * (1 - exact_g) / len(g))


def test_pentane_conformers_feel_the_one_five_pair():
    """n-pentane's two dihedrals are coupled by the CH3-CH3 LJ pair four bonds apart
    (the 'pentane effect': g+g- brings the ends to ~2.5 angstrom). Its exact mean of
    torsions + that pair at 270.08 K is a 2-D quadrature over (phi1, phi2) of the chain
    built independently here (bonds 1.54, angles 114 deg); 4000 conformers must match it
    within 4 standard errors, and the torsion-only answer (no pair) must be excluded."""
    topo = trappe_topology([5], r_cut_angstrom=10.0)
    T = 270.08
    X = thermal_conformers(topo, "n-pentane", _TRAPPE, T, 4000, seed=5)
    eps, sig = _TRAPPE["epsilon_CH3"], _TRAPPE["sigma_CH3"]

    def lj(r):
        return 4 * eps * ((sig / r) ** 12 - (sig / r) ** 6)

    def energy(p1, p2, r15):
        return _trappe_torsion(p1) + _trappe_torsion(p2) + lj(r15)

    e_mc = energy(_dihedrals(X, 0), _dihedrals(X, 1), np.linalg.norm(X[:, 4] - X[:, 0], axis=1))
    # the chain on a grid of dihedrals (natural extension of a reference frame)
    k = 721
    p1, p2 = np.meshgrid(np.linspace(-np.pi, np.pi, k), np.linspace(-np.pi, np.pi, k))
    th = np.radians(114.0)
    a = np.array([0.0, 0.0, 0.0])
    b = np.array([1.54, 0.0, 0.0])
    c = b + 1.54 * np.array([-np.cos(th), np.sin(th), 0.0])

    def place(x1, x2, x3, phi):
        bc = (x3 - x2) / np.linalg.norm(x3 - x2, axis=-1, keepdims=True)
        n = np.cross(x2 - x1, bc)
        n = n / np.linalg.norm(n, axis=-1, keepdims=True)
        m = np.cross(n, bc)
        d2 = np.stack([-np.cos(th) * np.ones_like(phi), np.sin(th) * np.cos(phi),
                       np.sin(th) * np.sin(phi)], axis=-1)  # fmt: skip
        return x3 + 1.54 * (d2[..., :1] * bc + d2[..., 1:2] * m + d2[..., 2:] * n)

    shape = (*p1.shape, 3)
    A, B, C = (np.broadcast_to(x, shape) for x in (a, b, c))
    D = place(A, B, C, p1)
    E = place(B, C, D, p2)
    r15 = np.linalg.norm(E - A, axis=-1)
    U = energy(p1, p2, r15)
    w = np.exp(-(U - U.min()) / (_R * T))
    exact = float(np.sum(U * w) / np.sum(w))
    free = _trappe_torsion(p1) + _trappe_torsion(p2)
    wf = np.exp(-(free - free.min()) / (_R * T))
    torsion_only = float(np.sum(U * wf) / np.sum(wf))  # the pair ignored in the sampling
    se = e_mc.std() / np.sqrt(len(e_mc))
    assert abs(e_mc.mean() - exact) < 4 * se
    assert abs(torsion_only - exact) > 10 * se


def test_lattice_start_places_the_given_shapes():
    """With ``conformers``, molecule k of a type takes shape k % K (each a rigid motion of
    it: its pair distances equal the shape's to 1e-12); a shape of the wrong size is a
    ProblemError naming the expected shape."""
    topo = trappe_topology([5], r_cut_angstrom=8.0)
    system = ff.System(topo, (("n-pentane", 27),))
    shapes = thermal_conformers(topo, "n-pentane", _TRAPPE, 300.0, 4, seed=2)
    R, box = lattice_configuration(system, 450.0, seed=1, conformers={"n-pentane": shapes})
    check_overlaps(system, R, box, 2.5)

    def dist(x):
        return np.linalg.norm(x[:, None] - x[None], axis=-1)

    for m in range(27):
        np.testing.assert_allclose(dist(R[5 * m : 5 * m + 5]), dist(shapes[m % 4]), atol=1e-12)
    with pytest.raises(ProblemError, match=r"start shapes of n-pentane must be \(K, 5, 3\)"):
        lattice_configuration(system, 450.0, conformers={"n-pentane": shapes[:, :4]})
