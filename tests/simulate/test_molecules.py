"""Start configurations of molecular systems: geometry, density, overlaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesff.errors import ProblemError
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import Bond, MoleculeType, trappe_alkane, trappe_topology
from bayesff.simulate.molecules import (
    box_for_density,
    check_overlaps,
    conformer,
    density_kg_per_m3,
    lattice_configuration,
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
