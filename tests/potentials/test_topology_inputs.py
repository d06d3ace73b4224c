"""Implausible molecule definitions are refused before any work, naming file, field and value.

Input audit (molecular liquids): unit slips in a hand-written topology passed ``bayesff
check`` (a C-C bond of 1.54 nm, a bond angle of 1.99 deg, a CH3 site of 15.035 kg/mol,
1-4 pairs at twice full strength, start coordinates with two bonded sites at one point);
a unit error in a topology lost the problem file's name; and a bad alkane carbon count
did not say which molecule. Each case here failed before its fix.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import numpy as np
import pytest

from bayesff.errors import BayesffError, ProblemError, UnitError
from bayesff.potentials.molecular_ff import FORCEFIELD
from bayesff.potentials.scaling import Convention
from bayesff.potentials.topology import (
    COORDINATE_BOND_TOLERANCE,
    Bond,
    MoleculeType,
    SiteType,
    Topology,
    topology_from_dict,
    trappe_alkane,
    trappe_topology,
)
from bayesff.problem import Problem
from bayesff.simulate.molecules import conformer

from support import write_manifest

#: The hand-written butane of docs/molecular.md (a [potential] table with its molecules).
BUTANE = {
    "form": "lj",
    "combining_rule": "lorentz_berthelot",
    "r_cut": 14.0,
    "r_cut_unit": "angstrom",
    "tail": True,
    "site_types": {
        "CH3": {"mass": 15.035, "mass_unit": "g/mol"},
        "CH2": {"mass": 14.027, "mass_unit": "g/mol"},
    },
    "molecules": [
        {"name": "butane-by-hand", "sites": ["CH3", "CH2", "CH2", "CH3"], "scaling": "trappe",
         "bonds": [{"sites": [0, 1], "length": 1.54, "length_unit": "angstrom"},
                   {"sites": [1, 2], "length": 1.54, "length_unit": "angstrom",
                    "k": 96500.0, "k_unit": "K/angstrom^2"},
                   {"sites": [2, 3], "length": 1.54, "length_unit": "angstrom"}],
         "angles": [{"sites": [0, 1, 2], "theta0": 114.0, "theta0_unit": "deg",
                     "k": 62500.0, "k_unit": "K/rad^2"},
                    {"sites": [1, 2, 3], "theta0": 114.0, "theta0_unit": "deg",
                     "k": 62500.0, "k_unit": "K/rad^2"}],
         "torsions": [{"sites": [0, 1, 2, 3], "form": "fourier",
                       "coefficients": [710.06, -136.38, 1582.64, 0.0], "unit": "K"}]},
        {"name": "propane", "alkane": {"carbons": 3}},
    ],
}  # fmt: skip

WHERE = "p.toml: [potential]"  # what a problem file's loader passes to configure
MOL = "p.toml: molecules[butane-by-hand]"


def _edited(edit):
    doc = copy.deepcopy(BUTANE)
    edit(doc)
    return doc


def _hand(doc):
    return doc["molecules"][0]


def _butane_xyz():
    return conformer(trappe_alkane(4)).tolist()


def _configure_error(doc, cls=BayesffError):
    with pytest.raises(cls) as err:
        FORCEFIELD.configure(doc, WHERE)
    msg = str(err.value)
    assert "\n" not in msg
    return err.value, msg


def test_the_documented_butane_and_its_coordinates_are_accepted():
    """Positive control: the docs' butane, with its own all-trans coordinates and with
    coordinates 15 % stretched (inside the 20 % tolerance), configures."""
    assert FORCEFIELD.configure(copy.deepcopy(BUTANE), WHERE).topology is not None
    doc = _edited(lambda d: _hand(d).__setitem__("coordinates", _butane_xyz()))
    FORCEFIELD.configure(doc, WHERE)
    stretched = (1.0 + COORDINATE_BOND_TOLERANCE - 0.05) * np.asarray(_butane_xyz())
    doc = _edited(lambda d: _hand(d).__setitem__("coordinates", stretched.tolist()))
    FORCEFIELD.configure(doc, WHERE)


@pytest.mark.parametrize(
    ("edit", "field", "value"),
    [
        # a C-C bond of 1.54 nm = 15.4 angstrom
        (lambda d: _hand(d)["bonds"][0].__setitem__("length_unit", "nm"),
         r"molecules\[butane-by-hand\]\.bonds\[0\]\.length",
         r"found 15\.4 angstrom \(check length_unit\)"),
        # 1.54 pm = 0.0154 angstrom
        (lambda d: _hand(d)["bonds"][2].__setitem__("length_unit", "pm"),
         r"molecules\[butane-by-hand\]\.bonds\[2\]\.length", r"found 0\.0154 angstrom"),
        # a radian value written in degrees
        (lambda d: _hand(d)["angles"][0].update(theta0=1.99),
         r"molecules\[butane-by-hand\]\.angles\[0\]\.theta0",
         r"found 1\.99 deg .*check theta0_unit: 1\.99 rad would be 114 deg"),
        # a degree value written in radians
        (lambda d: _hand(d)["angles"][1].update(theta0_unit="rad"),
         r"molecules\[butane-by-hand\]\.angles\[1\]\.theta0",
         r"= 114 rad \(check theta0_unit: 114 deg would be 1\.99 rad\)"),
        (lambda d: _hand(d).__setitem__("scaling", {"lj14": 2.0}),
         r"molecules\[butane-by-hand\]\.scaling\.lj14", r"in \[0, 1\].*found 2\.0"),
        (lambda d: _hand(d).__setitem__("scaling", {"lj14": -0.5}),
         r"molecules\[butane-by-hand\]\.scaling\.lj14", r"in \[0, 1\].*found -0\.5"),
        # two bonded sites at the same point
        (lambda d: _hand(d).__setitem__(
            "coordinates", [[0, 0, 0], [1.54, 0, 0], [1.54, 0, 0], [3, 1, 0]]),
         r"molecules\[butane-by-hand\]\.coordinates",
         r"sites 1 and 2 are 0 angstrom apart, but bonds\[1\] is 1\.54 angstrom long"),
        # the all-trans geometry written in nm
        (lambda d: _hand(d).__setitem__(
            "coordinates", (0.1 * np.asarray(_butane_xyz())).tolist()),
         r"molecules\[butane-by-hand\]\.coordinates",
         r"sites 0 and 1 are 0\.154 angstrom apart, but bonds\[0\] is 1\.54 angstrom"),
    ],
)  # fmt: skip
def test_implausible_molecule_values_name_file_field_and_value(edit, field, value):
    """Each unit slip of the audit is one ProblemError naming the problem file, the TOML
    path of the field, the value found and the unit to check."""
    _, msg = _configure_error(_edited(edit), ProblemError)
    assert re.match(rf"p\.toml: {field}: ", msg), msg
    assert re.search(value, msg), msg


@pytest.mark.parametrize(
    ("mass", "unit", "found"),
    [(15.035, "kg/mol", "15035 g/mol"), (0.015035, "g/mol", "0.015035 g/mol")],
)
def test_implausible_site_mass_names_file_field_and_value(mass, unit, found):
    """A CH3 site of 15.035 kg/mol (and the reverse slip, a kg/mol number in g/mol)."""
    doc = _edited(lambda d: d["site_types"]["CH3"].update(mass=mass, mass_unit=unit))
    _, msg = _configure_error(doc, ProblemError)
    assert msg.startswith(r"p.toml: [potential].site_types.CH3.mass: "), msg
    assert f"found {found} (check mass_unit)" in msg


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["site_types"]["CH3"].__setitem__("mass_unit", "amu"),
         "p.toml: [potential].site_types.CH3.mass_unit: unknown molar_mass unit 'amu'"),
        (lambda d: d.__setitem__("r_cut_unit", "A"),
         "p.toml: [potential].r_cut_unit: unknown length unit 'A'"),
        (lambda d: _hand(d)["bonds"][0].__setitem__("length_unit", "furlong"),
         f"{MOL}.bonds[0].length_unit: unknown length unit 'furlong'"),
        (lambda d: _hand(d)["angles"][0].__setitem__("k_unit", "K/grad^2"),
         f"{MOL}.angles[0].k_unit: unknown unit 'K/grad^2'"),
        (lambda d: _hand(d)["angles"][0].__setitem__("k_unit", "furlong/rad^2"),
         f"{MOL}.angles[0].k_unit: unknown energy unit 'furlong'"),
    ],
)  # fmt: skip
def test_unit_errors_in_a_topology_name_the_file_and_keep_their_class(edit, where):
    """A unit error keeps its class (UnitError where bayesff.units raised one) and, like
    every other topology error, starts with the problem file."""
    doc = _edited(edit)
    with pytest.raises(BayesffError) as direct:
        topology_from_dict(doc)
    e, msg = _configure_error(doc)
    assert type(e) is type(direct.value)
    assert msg.startswith(where), msg


def test_a_unit_error_is_a_unit_error_after_configure():
    doc = _edited(lambda d: d.__setitem__("r_cut_unit", "A"))
    e, _ = _configure_error(doc)
    assert isinstance(e, UnitError) and e.where == "p.toml: [potential].r_cut_unit"


def test_bad_carbon_count_names_the_molecule():
    """molecules[<name>].alkane.carbons, from the dict form, the problem file and the
    Python builders."""
    doc = _edited(lambda d: d["molecules"][1]["alkane"].__setitem__("carbons", 0))
    with pytest.raises(ProblemError, match=r"^molecules\[propane\]\.alkane\.carbons: .*found 0$"):
        topology_from_dict(doc)
    _, msg = _configure_error(doc, ProblemError)
    assert msg.startswith("p.toml: molecules[propane].alkane.carbons: "), msg
    with pytest.raises(ProblemError, match=r"^carbons\[1\]: .*found 0$"):
        trappe_topology([4, 0])
    with pytest.raises(ProblemError, match=r"^n_carbons: .*found 0$"):
        trappe_alkane(0)


def _problem(tmp_path: Path, molecules: str) -> Path:
    """A one-target molecular problem file with the given [[molecules]] tables."""
    data = tmp_path / "sat.csv"
    data.write_text("T_K,p_sat_MPa,rho_l_mol_per_L,u_rho_l_mol_per_L\n250.0,0.05,10.5,0.01\n")
    write_manifest(
        tmp_path,
        "sat.csv",
        units={"T_K": "K", "p_sat_MPa": "MPa", "rho_l_mol_per_L": "mol/L",
               "u_rho_l_mol_per_L": "mol/L"},
    )  # fmt: skip
    path = tmp_path / "p.toml"
    path.write_text(f"""
[problem]
name = "implausible"

[potential]
kind = "forcefield"
form = "lj"
combining_rule = "lorentz_berthelot"
r_cut = 10.0
r_cut_unit = "angstrom"
site_types = {{ CH3 = {{ mass = 15.035, mass_unit = "kg/mol" }} }}

{molecules}

[parameters.epsilon_CH3]
unit = "K"
prior = {{ dist = "LogNormal", median = 98.0, scale = 0.05 }}
[parameters.sigma_CH3]
unit = "angstrom"
prior = {{ dist = "LogNormal", median = 3.75, scale = 0.02 }}

[[targets]]
name = "rho"
observable = "md_saturated_liquid_density"
data = "{data}"
noise = {{ column = "u_rho_l_mol_per_L" }}
options = {{ molecule = "ethane" }}
""")
    return path


def test_a_problem_file_names_itself(tmp_path):
    """End to end: Problem.from_toml refuses the kg/mol site naming the file's path."""
    path = _problem(tmp_path, '[[molecules]]\nname = "ethane"\nalkane = { carbons = 2 }')
    with pytest.raises(ProblemError) as err:
        Problem.from_toml(path, prepared=False)
    assert str(err.value).startswith(f"{path}: [potential].site_types.CH3.mass: ")
    assert "found 15035 g/mol (check mass_unit)" in str(err.value)
    path = _problem(tmp_path, '[[molecules]]\nname = "ethane"\nalkane = { carbons = 0 }')
    with pytest.raises(ProblemError, match=r"molecules\[ethane\]\.alkane\.carbons: .*found 0"):
        Problem.from_toml(path, prepared=False)


# --------------------------------------------------------------------------- the ranges


@pytest.mark.parametrize("length", [0.5, 0.74, 1.54, 4.7, 10.0])
def test_plausible_bond_lengths_pass(length):
    """H-H (0.74), C-C (1.54), a MARTINI-like coarse-grained bond (4.7) and the limits."""
    MoleculeType("m", ("A", "A"), (Bond(0, 1, length),))


@pytest.mark.parametrize("length", [0.49, 10.01, 15.4])
def test_python_api_refuses_implausible_bond_lengths(length):
    with pytest.raises(ProblemError, match=r"^molecules\[m\]\.bonds\[0\]\.length: .*length_unit"):
        MoleculeType("m", ("A", "A"), (Bond(0, 1, length),))


@pytest.mark.parametrize(("theta_deg", "ok"), [(29.9, False), (30.0, True), (60.0, True),
                                               (180.0, True), (180.1, False)])  # fmt: skip
def test_theta0_range(theta_deg, ok):
    """Cyclopropane's 60 deg and a linear 180 deg pass; below 30 deg is refused."""
    doc = _edited(lambda d: _hand(d)["angles"][0].update(theta0=theta_deg))
    if ok:
        topology_from_dict(doc)
    else:
        with pytest.raises(ProblemError, match=r"angles\[0\]\.theta0: .*30-180 deg"):
            topology_from_dict(doc)


@pytest.mark.parametrize(("mass", "ok"), [(0.49, False), (1.008, True), (1200.0, True),
                                          (5000.0, True), (5000.1, False)])  # fmt: skip
def test_site_mass_range(mass, ok):
    """H (1.008 g/mol) and a coarse-grained bead of 300 g/mol pass."""
    if ok:
        Topology((SiteType("A", mass),), (MoleculeType("m", ("A",)),))
    else:
        with pytest.raises(ProblemError, match=r"^site_types\.A\.mass: .*0\.5-5000 g/mol"):
            Topology((SiteType("A", mass),), (MoleculeType("m", ("A",)),))


@pytest.mark.parametrize(
    ("lj14", "coulomb14", "ok"),
    [(0.0, 0.0, True), (0.5, 0.8333, True), (1.0, 1.0, True), (1.5, 1.0, False),
     (0.5, 1.2, False), (math.nan, 1.0, False)],
)  # fmt: skip
def test_14_factors_in_the_unit_interval(lj14, coulomb14, ok):
    """Every 1-4 factor of a convention lies in [0, 1] (excluded .. full strength)."""
    m = trappe_alkane(4)
    build = lambda: MoleculeType(  # noqa: E731
        "b", m.sites, m.bonds, m.angles, m.torsions, Convention("c", lj14, coulomb14)
    )
    if ok:
        build()
    else:
        with pytest.raises(ProblemError, match=r"^molecules\[b\]\.scaling: expected the 1-4"):
            build()


def test_coordinates_tolerance_is_relative_to_each_bond():
    """A fixed bond 1.2 times its length (the tolerance) passes, 1.21 times is refused; a
    harmonic bond (a soft coarse-grained one: MARTINI-like 4.7 angstrom, review of
    2026-11-30) may be 1.26 times its length in a snapshot, and is refused at 1.89 times
    (bohr for angstrom) and at one point."""
    bonds = (Bond(0, 1, 1.54),)
    edge = 1.54 * (1.0 + COORDINATE_BOND_TOLERANCE) - 1e-9
    MoleculeType("m", ("A", "A"), bonds, coordinates_angstrom=((0, 0, 0), (edge, 0, 0)))
    with pytest.raises(ProblemError, match=r"^molecules\[m\]\.coordinates: sites 0 and 1"):
        MoleculeType("m", ("A", "A"), bonds, coordinates_angstrom=((0, 0, 0), (1.87, 0, 0)))
    soft = (Bond(0, 1, 4.7, 12.5),)
    MoleculeType("cg", ("B", "B"), soft, coordinates_angstrom=((0, 0, 0), (5.9, 0, 0)))
    for x in (4.7 * 1.89, 0.0):
        with pytest.raises(ProblemError, match=r"^molecules\[cg\]\.coordinates: sites 0 and 1"):
            MoleculeType("cg", ("B", "B"), soft, coordinates_angstrom=((0, 0, 0), (x, 0, 0)))
