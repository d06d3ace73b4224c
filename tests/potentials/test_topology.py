"""Molecule definitions: the TraPPE-UA builder, exclusions and 1-4 pairs, the dict form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesff.errors import BayesffError, ProblemError
from bayesff.potentials.topology import (
    SCALING,
    TRAPPE_UA_ALKANE,
    MoleculeType,
    parameter_names,
    topology_from_dict,
    trappe_alkane,
    trappe_topology,
)
from bayesff.potentials.torsion import fourier, fourier_to_ryckaert_bellemans, ryckaert_bellemans
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R


def test_trappe_butane_terms_are_the_published_ones():
    """n-butane from the carbon count carries TraPPE-UA's fixed terms: four sites
    CH3-CH2-CH2-CH3, three fixed 1.54 angstrom bonds, two 114 deg angles with
    k/k_B = 62500 K/rad^2 and one torsion c1..c3 = 355.03, -68.19, 791.32 K
    (Martin and Siepmann, J. Phys. Chem. B 102, 2569 (1998), Table 1; the torsion
    is checked against their formula written out here at 7 angles, to rounding)."""
    m = trappe_alkane(4)
    assert m.sites == ("CH3", "CH2", "CH2", "CH3")
    assert [(b.i, b.j, b.length_angstrom, b.fixed) for b in m.bonds] == [
        (0, 1, 1.54, True),
        (1, 2, 1.54, True),
        (2, 3, 1.54, True),
    ]
    assert len(m.angles) == 2 and len(m.torsions) == 1
    for a in m.angles:
        assert a.theta0_rad == pytest.approx(math.radians(114.0), rel=1e-15)
        assert a.k_kJ_per_mol_rad2 == pytest.approx(62500.0 * R, rel=1e-15)
    t = m.torsions[0]
    phi = np.linspace(0.0, 2.0 * np.pi, 7)
    c1, c2, c3 = (x * R for x in (355.03, -68.19, 791.32))
    published = c1 * (1 + np.cos(phi)) + c2 * (1 - np.cos(2 * phi)) + c3 * (1 + np.cos(3 * phi))
    np.testing.assert_allclose(fourier(phi, *t.coefficients_kJ_per_mol), published, rtol=1e-13)
    np.testing.assert_allclose(
        ryckaert_bellemans(phi, *t.ryckaert_bellemans()), published, rtol=1e-12, atol=1e-12
    )
    # the NumPy conversion equals the JAX one (float64 here: conftest configures x64)
    np.testing.assert_allclose(
        t.ryckaert_bellemans(),
        [float(c) for c in fourier_to_ryckaert_bellemans(*t.coefficients_kJ_per_mol)],
        rtol=1e-15,
        atol=1e-15,
    )


def test_trappe_chain_lengths_and_names():
    """Term counts of an n-alkane: n sites, n-1 bonds, n-2 angles, n-3 torsions;
    methane is one CH4 site; the published parameters are TraPPE-UA's 98 K / 3.75 A
    (CH3) and 46 K / 3.95 A (CH2)."""
    for n in range(1, 11):
        m = trappe_alkane(n)
        assert m.n_sites == n
        assert (len(m.bonds), len(m.angles), len(m.torsions)) == (
            max(n - 1, 0),
            max(n - 2, 0),
            max(n - 3, 0),
        )
    assert trappe_alkane(10).name == "n-decane"
    assert trappe_alkane(1).sites == ("CH4",)
    pub = TRAPPE_UA_ALKANE.published_parameters()
    assert pub["epsilon_CH3"] == pytest.approx(98.0 * R)
    assert pub["sigma_CH2"] == 3.95
    with pytest.raises(ProblemError, match="carbons"):
        trappe_alkane(0)


def test_exclusions_and_14_pairs_hand_counted():
    """Pairs of united-atom alkanes counted by hand: butane's 6 intramolecular
    pairs are all within three bonds (none interacts under TraPPE); pentane has one
    1-5 pair (0, 4); hexane three pairs beyond 1-4: (0, 4), (0, 5), (1, 5). Under
    OPLS butane's one 1-4 pair (0, 3) is scaled by 0.5, the 1-2 and 1-3 pairs
    (3 + 2) are excluded."""
    butane = trappe_alkane(4).pair_lists
    assert len(butane["excluded"]) == 6 and butane["full"] == () and butane["scaled14"] == ()
    pentane = trappe_alkane(5).pair_lists
    assert pentane["full"] == ((0, 4),) and len(pentane["excluded"]) == 9
    assert trappe_alkane(6).pair_lists["full"] == ((0, 4), (0, 5), (1, 5))
    m = trappe_alkane(4)
    opls = MoleculeType(m.name, m.sites, m.bonds, m.angles, m.torsions, SCALING["opls"])
    assert opls.pair_lists["scaled14"] == ((0, 3),)
    assert set(opls.pair_lists["excluded"]) == {(0, 1), (1, 2), (2, 3), (0, 2), (1, 3)}
    assert opls.scaling.lj14 == 0.5


def test_parameter_names_per_form_and_rule():
    """Parameter names: epsilon/sigma per site type; Mie adds n, m per type; the
    explicit rule adds epsilon_A_B and sigma_A_B per unlike pair."""
    t = trappe_topology([4])
    assert parameter_names(t) == ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")
    doc = _doc()
    doc["form"] = "mie"
    doc["combining_rule"] = "explicit"
    names = parameter_names(topology_from_dict(doc))
    assert names[:4] == ("epsilon_CH3", "sigma_CH3", "n_CH3", "m_CH3")
    assert names[-2:] == ("epsilon_CH3_CH2", "sigma_CH3_CH2")


def _doc():
    return {
        "site_types": {
            "CH3": {"mass": 15.035, "mass_unit": "g/mol"},
            "CH2": {"mass": 14.027, "mass_unit": "g/mol"},
        },
        "r_cut": 1.4,
        "r_cut_unit": "nm",
        "molecules": [
            {"name": "butane-by-hand", "sites": ["CH3", "CH2", "CH2", "CH3"],
             "bonds": [{"sites": [0, 1], "length": 1.54, "length_unit": "angstrom"},
                       {"sites": [1, 2], "length": 0.154, "length_unit": "nm",
                        "k": 96500.0, "k_unit": "K/angstrom^2"},
                       {"sites": [2, 3], "length": 1.54, "length_unit": "angstrom"}],
             "angles": [{"sites": [0, 1, 2], "theta0": 114.0, "theta0_unit": "deg",
                         "k": 62500.0, "k_unit": "K/rad^2"},
                        {"sites": [1, 2, 3], "theta0": 114.0, "theta0_unit": "deg",
                         "k": 62500.0, "k_unit": "K/rad^2"}],
             "torsions": [{"sites": [0, 1, 2, 3], "form": "fourier",
                           "coefficients": [710.06, -136.38, 1582.64, 0.0], "unit": "K"}],
             "scaling": "trappe"},
            {"name": "pentane", "alkane": {"carbons": 5}},
        ],
    }  # fmt: skip


def test_dict_form_builds_the_same_molecule_as_the_builder():
    """A butane written out by hand in the dict form (units converted: nm, K, deg)
    equals the builder's butane term by term (to 1e-15 relative), apart from its
    one harmonic bond (k = 96500 K/angstrom^2 converted to kJ/mol/angstrom^2)."""
    topo = topology_from_dict(_doc())
    assert topo.r_cut_angstrom == pytest.approx(14.0)
    hand, built = topo.molecule("butane-by-hand"), trappe_alkane(4)
    assert hand.sites == built.sites
    assert hand.bonds[1].k_kJ_per_mol_A2 == pytest.approx(96500.0 * R)
    assert hand.bonds[1].length_angstrom == pytest.approx(1.54, rel=1e-15)
    for a, b in zip(hand.angles, built.angles, strict=True):
        assert a.theta0_rad == pytest.approx(b.theta0_rad, rel=1e-15)
        assert a.k_kJ_per_mol_rad2 == pytest.approx(b.k_kJ_per_mol_rad2, rel=1e-15)
    np.testing.assert_allclose(
        hand.torsions[0].coefficients_kJ_per_mol,
        built.torsions[0].coefficients_kJ_per_mol,
        rtol=1e-15,
    )
    assert topo.molecule("pentane").n_sites == 5


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["molecules"][0]["sites"].__setitem__(1, "CH9"),
         r"molecules\[butane-by-hand\]\.sites\[1\]: unknown site type 'CH9'"),
        (lambda d: d["molecules"][0]["bonds"][0].__setitem__("sites", [0, 7]),
         r"molecules\[butane-by-hand\]\.bonds\[0\]: site index 7 .*missing site"),
        (lambda d: d["molecules"][0]["torsions"][0].__setitem__("sites", [0, 1, 3, 2]),
         r"molecules\[butane-by-hand\]\.torsions\[0\]: a torsion on sites .* not bonded"),
        (lambda d: d["molecules"][0]["angles"][0].__setitem__("sites", [0, 2, 1]),
         r"angles\[0\]: an angle on sites .* not bonded"),
        (lambda d: d["molecules"][0]["angles"][0].pop("k_unit"),
         r"angles\[0\]: missing key\(s\) k_unit"),
        (lambda d: d["molecules"][0]["torsions"][0].__setitem__("unit", "furlong"),
         r"torsions\[0\]\.unit: unknown energy unit 'furlong'"),
        (lambda d: d["molecules"][0].__setitem__("colour", "red"),
         r"molecules\[0\]: unknown key\(s\) colour"),
        (lambda d: d["molecules"][0].__setitem__("scaling", "gromos"),
         r"scaling: unknown scaling 'gromos'"),
        (lambda d: d["molecules"][1].__setitem__("alkane", {"carbons": -2}),
         r"alkane\.carbons"),
        (lambda d: d["molecules"][0]["bonds"].pop(1),
         r"molecules\[butane-by-hand\]\.(angles|torsions)\[\d\]: .* not bonded"),
        (lambda d: d.__setitem__("combining_rule", "waldman_hagler"),
         r"unknown combining rule 'waldman_hagler'"),
        # the same angle twice, forwards and backwards: its energy counted twice
        (lambda d: d["molecules"][0]["angles"].append(
            dict(d["molecules"][0]["angles"][0], sites=[2, 1, 0])),
         r"angles\[2\]: duplicates angles\[0\] \(sites 0-1-2\)"),
        # one bond taken twice (sites 0-1-0)
        (lambda d: d["molecules"][0]["angles"][0].__setitem__("sites", [0, 1, 0]),
         r"angles\[0\]: an angle on sites \(0, 1, 0\) is one bond taken twice"),
        (lambda d: d["molecules"][0]["torsions"].append(
            dict(d["molecules"][0]["torsions"][0], sites=[3, 2, 1, 0])),
         r"torsions\[1\]: duplicates torsions\[0\] \(sites \(0, 1, 2, 3\)\)"),
        (lambda d: d["molecules"][0]["torsions"][0].__setitem__("sites", [0, 1, 2, 1]),
         r"torsions\[0\]: a torsion on sites \(0, 1, 2, 1\) repeats a site"),
    ],
)  # fmt: skip
def test_dict_form_errors_name_the_field(edit, message):
    """Negative controls: each broken table raises one ProblemError (a UnitError for
    a unit) whose single line names the molecule and field, what was expected and
    what was found."""
    doc = _doc()
    edit(doc)
    with pytest.raises(BayesffError, match=message) as err:
        topology_from_dict(doc)
    assert "\n" not in str(err.value)


def test_dict_form_round_trips():
    """topology_to_dict is the inverse of topology_from_dict: the hand-written butane (with
    its harmonic bond, custom units), the builder's alkanes and a custom 1-4 scaling come
    back equal, field by field (a run file's problem text holds them this way)."""
    from bayesff.potentials.topology import topology_to_dict

    doc = _doc()
    doc["molecules"][0]["scaling"] = {"lj14": 0.5}
    topo = topology_from_dict(doc)
    again = topology_from_dict(topology_to_dict(topo))
    assert again == topo
    assert again.molecule("butane-by-hand").scaling.lj14 == 0.5
    assert topology_from_dict(topology_to_dict(trappe_topology([3, 8]))) == trappe_topology([3, 8])
