"""Force-field export for OpenMM, LAMMPS and GROMACS (issue 31 item 6)."""

from __future__ import annotations

import dataclasses
import io
import re
from functools import partial

import h5py
import jax
import numpy as np
import pytest

from bayesff.errors import ProblemError
from bayesff.export import render, render_ensemble
from bayesff.potentials import forcefield as ff
from bayesff.potentials.topology import TRAPPE_UA_ALKANE, trappe_topology
from bayesff.simulate.molecules import lattice_configuration
from bayesff.units import CALORIE_J

PUB = TRAPPE_UA_ALKANE.published_parameters()
PARAMS = {k: PUB[k] for k in ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")}
FP = "sha256:0123abcd runs/alkanes/posterior.nc"


def _openmm_energy(xml: str, system: ff.System, R, box, r_cut, *, as_the_header_says=False):
    """Load the XML with OpenMM's ForceField, build the same molecules, and return the
    Reference-platform energy of the configuration (kJ/mol). By default the tail is off
    on both sides; ``as_the_header_says``: the system is built as the exported file's
    header tells a user (createSystem with the cut-off only, and, where the header says
    so, the CustomNonbondedForce's long-range correction switched on by hand)."""
    openmm = pytest.importorskip("openmm", reason="OpenMM is not installed (optional extra)")
    from openmm import app, unit

    forcefield = app.ForceField(io.StringIO(xml))
    top = app.Topology()
    chain = top.addChain()
    for name, count in system.counts:
        mol = system.topology.molecule(name)
        for _ in range(count):
            res = top.addResidue(name, chain)
            atoms = [top.addAtom(f"S{k}", None, res) for k in range(mol.n_sites)]
            for b in mol.bonds:
                top.addBond(atoms[b.i], atoms[b.j])
    top.setPeriodicBoxVectors(np.diag(box) * 0.1 * unit.nanometer)
    # the tail off: useDispersionCorrection is a NonbondedForce option
    tail = (
        {}
        if as_the_header_says or "<NonbondedForce" not in xml
        else {"useDispersionCorrection": False}
    )
    oms = forcefield.createSystem(
        top,
        nonbondedMethod=app.CutoffPeriodic,
        nonbondedCutoff=r_cut * 0.1 * unit.nanometer,
        constraints=app.AllBonds,
        **tail,
    )
    long_range = as_the_header_says and "setUseLongRangeCorrection(True)" in xml
    for f in oms.getForces():
        if isinstance(f, openmm.CustomNonbondedForce):
            f.setUseLongRangeCorrection(long_range)
    ctx = openmm.Context(
        oms, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    ctx.setPositions(R * 0.1)
    return ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


@pytest.mark.parametrize(("form", "rule"), [("lj", "lorentz_berthelot"), ("mie", "geometric")])
def test_openmm_xml_loads_and_gives_the_same_energy(form, rule):
    """The exported ForceField XML, loaded by OpenMM's app.ForceField and applied to a
    box of butanes and pentanes (constraints=AllBonds, no tail), gives the energy of
    bayesff's force field at the same configuration to 1e-8 relative (Reference
    platform): units (nm, kJ/mol), types, templates, angles, RB torsions, 1-4
    exclusion and combining rule all carried over. Mie 16-6/14-6 with the geometric
    rule goes through a CustomNonbondedForce."""
    topo = dataclasses.replace(
        trappe_topology([4, 5], r_cut_angstrom=7.0, tail=False), form=form, combining_rule=rule
    )
    p = dict(PARAMS)
    if form == "mie":
        p |= {"n_CH3": 16.0, "m_CH3": 6.0, "n_CH2": 14.0, "m_CH2": 6.0}
    system = ff.System(topo, (("n-butane", 10), ("n-pentane", 6)))
    R, box = lattice_configuration(system, 450.0, seed=2)
    R = R + np.random.default_rng(2).normal(0, 0.1, R.shape)
    xml = render("openmm", p, topo, FP)
    assert FP in xml and "constraints=app.AllBonds" in xml
    mine = float(jax.jit(partial(ff.energy, system))(R, box, p))
    assert _openmm_energy(xml, system, R, box, 7.0) == pytest.approx(mine, rel=1e-8)


@pytest.mark.parametrize(
    ("form", "rule", "tail"),
    [
        ("lj", "lorentz_berthelot", True),
        ("lj", "lorentz_berthelot", False),
        ("mie", "geometric", True),
        ("mie", "geometric", False),
    ],
)
def test_openmm_xml_carries_the_tail_as_calibrated(form, rule, tail):
    """Export audit (2026-11-30): the header said the tail was createSystem's
    useDispersionCorrection, which OpenMM refuses for a CustomNonbondedForce (Mie, the
    geometric rule, every chain), so its tail was lost; and the NonbondedForce XML did not
    say, so OpenMM's default (on) added a tail to a model calibrated without one. Built as
    the header says, OpenMM's energy equals bayesff's with or without the tail: to 1e-8
    without it, and with it to 2 % of the tail (OpenMM's correction averages over the
    type pairs of all sites, intramolecular ones included; 0.05-0.25 % of the tail here,
    as the audit measured)."""
    topo = dataclasses.replace(
        trappe_topology([4, 5], r_cut_angstrom=7.0, tail=tail), form=form, combining_rule=rule
    )
    p = dict(PARAMS)
    if form == "mie":
        p |= {"n_CH3": 16.0, "m_CH3": 6.0, "n_CH2": 14.0, "m_CH2": 6.0}
    system = ff.System(topo, (("n-butane", 10), ("n-pentane", 6)))
    R, box = lattice_configuration(system, 450.0, seed=2)
    R = R + np.random.default_rng(2).normal(0, 0.1, R.shape)
    xml = render("openmm", p, topo, FP)
    mine = float(jax.jit(partial(ff.energy, system))(R, box, p))
    theirs = _openmm_energy(xml, system, R, box, 7.0, as_the_header_says=True)
    if not tail:
        assert theirs == pytest.approx(mine, rel=1e-8)
        return
    bare = ff.System(dataclasses.replace(topo, tail=False), system.counts)
    tail_mine = mine - float(jax.jit(partial(ff.energy, bare))(R, box, p))
    assert tail_mine < -0.05  # a tail worth testing
    assert theirs - mine == pytest.approx(0.0, abs=0.02 * abs(tail_mine))


def _parse_lammps(text):
    coeffs, style = {}, {}
    for line in text.splitlines():
        line = line.split("#")[0].split()
        if not line:
            continue
        if line[0] == "pair_coeff":
            coeffs[(int(line[1]), int(line[2]))] = [float(x) for x in line[3:]]
        elif line[0] == "mass":  # one per atom type: type -> g/mol
            style.setdefault("mass", {})[int(line[1])] = float(line[2])
        else:
            style[line[0]] = line[1:]
    return style, coeffs


def test_lammps_include_parses_back_to_the_parameters():
    """An independent parser of the LAMMPS include: pair_style lj/cut with the
    cut-off in angstrom, shift off and tail on, special_bonds lj 0 0 0 (TraPPE excludes 1-4), and
    pair_coeff i j eps sigma for every i <= j equal to the Lorentz-Berthelot values
    converted to kcal/mol (1 kcal = 4.184 kJ exactly) to 1e-11 relative (12 digits
    written), and one mass per atom type (TraPPE-UA: CH3 15.035, CH2 14.027 g/mol; the
    masses were missing before 2026-11-28)."""
    topo = trappe_topology([4], r_cut_angstrom=14.0)
    style, coeffs = _parse_lammps(render("lammps", PARAMS, topo, FP))
    assert style["mass"] == {1: 15.035, 2: 14.027}
    assert style["pair_style"] == ["lj/cut", "14"]
    # truncated, not shifted, as calibrated (shift no is LAMMPS's default; written anyway)
    assert style["pair_modify"] == ["shift", "no", "tail", "yes"]
    assert style["special_bonds"] == ["lj", "0.0", "0.0", "0"]
    e3, e2 = PARAMS["epsilon_CH3"], PARAMS["epsilon_CH2"]
    s3, s2 = PARAMS["sigma_CH3"], PARAMS["sigma_CH2"]
    expected = {
        (1, 1): (e3, s3),
        (1, 2): (np.sqrt(e3 * e2), 0.5 * (s3 + s2)),
        (2, 2): (e2, s2),
    }
    assert set(coeffs) == set(expected)
    for k, (eps, sig) in expected.items():
        np.testing.assert_allclose(coeffs[k], [eps / CALORIE_J, sig], rtol=1e-11)


def _parse_gromacs(text):
    section, out = None, {}
    for line in text.splitlines():
        line = line.split(";")[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"\[\s*(\w+)\s*\]", line)
        if m:
            section = m.group(1)
            out[section] = []
        else:
            out[section].append(line.split())
    return out


def test_gromacs_itp_parses_back_to_the_parameters():
    """An independent parser of the itp section: [ defaults ] with nbfunc 1, the
    Lorentz-Berthelot comb-rule 2 and fudgeLJ 0 (1-4 excluded); [ atomtypes ] sigma
    in nm and epsilon in kJ/mol with the masses; [ nonbond_params ] the unlike pair;
    values to 1e-11 relative."""
    topo = trappe_topology([4])
    text = render("gromacs", PARAMS, topo, FP)
    # GROMACS's default vdw-modifier (Potential-shift) is not the calibrated, truncated
    # potential: the header must say so (missing before 2026-11-30)
    assert "vdw-modifier = None" in text and "DispCorr = EnerPres" in text
    sec = _parse_gromacs(text)
    assert sec["defaults"] == [["1", "2", "yes", "0", "1.0"]]
    types = {row[0]: [float(x) for x in (row[1], row[4], row[5])] for row in sec["atomtypes"]}
    np.testing.assert_allclose(types["CH3"], [15.035, 0.375, PARAMS["epsilon_CH3"]], rtol=1e-11)
    np.testing.assert_allclose(types["CH2"], [14.027, 0.395, PARAMS["epsilon_CH2"]], rtol=1e-11)
    (row,) = sec["nonbond_params"]
    assert row[:3] == ["CH3", "CH2", "1"]
    np.testing.assert_allclose(
        [float(row[3]), float(row[4])],
        [0.385, np.sqrt(PARAMS["epsilon_CH3"] * PARAMS["epsilon_CH2"])],
        rtol=1e-11,
    )


def test_ensemble_writes_the_mean_and_every_draw():
    """Three posterior draws and the mean give four files, each with the fingerprint
    and its own label in the header, and each with its own parameters."""
    topo = trappe_topology([4])
    draws = {k: v * np.array([0.99, 1.0, 1.01]) for k, v in PARAMS.items()}
    files = render_ensemble("lammps", PARAMS, draws, topo, FP)
    assert sorted(files) == ["draw_0000.lmp", "draw_0001.lmp", "draw_0002.lmp", "mean.lmp"]
    assert all(FP in t for t in files.values())
    assert "posterior draw 3 of 3" in files["draw_0002.lmp"]
    eps = [_parse_lammps(files[f"draw_{k:04d}.lmp"])[1][(1, 1)][0] for k in range(3)]
    np.testing.assert_allclose(
        eps, PARAMS["epsilon_CH3"] / CALORIE_J * np.array([0.99, 1.0, 1.01])
    )


def test_bad_requests_are_refused():
    """Unknown format, missing parameter, multi-line fingerprint, Mie for GROMACS and
    the explicit rule for OpenMM XML: each a one-line ProblemError."""
    topo = trappe_topology([4])
    with pytest.raises(ProblemError, match="unknown format 'charmm'"):
        render("charmm", PARAMS, topo, FP)
    with pytest.raises(ProblemError, match=r"missing \['sigma_CH2'\]"):
        render("lammps", {k: v for k, v in PARAMS.items() if k != "sigma_CH2"}, topo, FP)
    with pytest.raises(ProblemError, match="single-line"):
        render("lammps", PARAMS, topo, "a\nb")
    mie = dataclasses.replace(topo, form="mie")
    p = PARAMS | {"n_CH3": 16.0, "m_CH3": 6.0, "n_CH2": 14.0, "m_CH2": 6.0}
    with pytest.raises(ProblemError, match="GROMACS has no Mie form"):
        render("gromacs", p, mie, FP)
    explicit = dataclasses.replace(topo, combining_rule="explicit")
    q = PARAMS | {"epsilon_CH3_CH2": 0.5, "sigma_CH3_CH2": 3.9}
    with pytest.raises(ProblemError, match="explicit unlike pairs"):
        render("openmm", q, explicit, FP)
    assert "pair_coeff 1 2 " in render("lammps", q, explicit, FP)


def test_names_from_a_run_file_cannot_become_markup_or_commands():
    """Audit, 2026-11-30: a molecule named ``x"/></Residues><InitializationScript>...`` was
    written into the OpenMM XML unescaped, and OpenMM ran the script when it loaded the
    file. Now the residue name is an escaped XML attribute (the file parses, the name
    reads back as given, no element but those bayesff writes); a molecule name that is
    not one printable line is refused where the topology is read; a problem name holding
    "-->" or runs of dashes ("---", a valid name) stays comment text (parsed by the
    standard library); a name with a line break or another control character, which
    would end a LAMMPS or GROMACS comment and make the rest a command, is refused."""
    import xml.etree.ElementTree as ET

    from bayesff.potentials.topology import molecule_from_dict

    written = [
        "AtomTypes", "Residues", "HarmonicBondForce", "HarmonicAngleForce",
        "RBTorsionForce", "NonbondedForce",
    ]  # fmt: skip
    bad = 'x"/></Residues><InitializationScript>open("p","w")</InitializationScript><R n="'
    for name in (bad, "2,2-dimethylpropane", "CO2(l) & <gas>"):
        topo = dataclasses.replace(
            trappe_topology([4]),
            molecules=(molecule_from_dict({"name": name, "alkane": {"carbons": 4}}),),
        )
        root = ET.fromstring(render("openmm", PARAMS, topo, FP))
        assert [c.tag for c in root] == written
        assert [r.get("name") for r in root.iter("Residue")] == [name]
    for name in ("tab\tname", "two\nlines", "   ", "sep\u2028x"):
        with pytest.raises(ProblemError, match=r"must be one line of printable characters"):
            molecule_from_dict({"name": name, "alkane": {"carbons": 4}})
    topo = trappe_topology([4])
    for fp in ("run--><InitializationScript>x</InitializationScript> F", "argon---v2 F", "a--->"):
        root = ET.fromstring(render("openmm", PARAMS, topo, fp))
        assert root.tag == "ForceField" and [c.tag for c in root] == written
    for fmt in ("lammps", "gromacs", "openmm"):
        for fp in ("run\nshell touch p", "run\rx", "run\x0bx", "run\u2028x"):
            with pytest.raises(ProblemError, match="single-line string of printable"):
                render(fmt, PARAMS, topo, fp)


# -------------------------------------------------- bayesff export RUN (issue 31 item 6)

TOPOLOGY_TOML = """
form = "lj"
combining_rule = "lorentz_berthelot"
r_cut = 14.0
r_cut_unit = "angstrom"
[site_types]
CH3 = { mass = 15.035, mass_unit = "g/mol" }
CH2 = { mass = 14.027, mass_unit = "g/mol" }
[[molecules]]
name = "n-butane"
alkane = { carbons = 4 }
"""


def _molecular_run(tmp_path, draws_K, name="butane"):
    """A run file whose posterior holds the TraPPE-UA CH3/CH2 parameters as a molecular
    calibration would (epsilon in K, sigma in angstrom; one chain of hand-chosen draws),
    written by bayesff's own writer. (A calibration from a problem file with molecules
    is not possible yet: issue 31 item 1.)"""
    import xarray as xr

    from bayesff import runfile
    from tests.handmade_runs import build_run, target

    n = len(draws_K["epsilon_CH3"])
    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((n, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    post = dt["posterior"].to_dataset()
    for name, values in draws_K.items():
        post[name] = (("chain", "draw"), np.asarray(values, float)[None])
        post[name].attrs["units"] = "K" if name.startswith("epsilon") else "angstrom"
    dt["posterior"] = xr.DataTree(post)
    path = tmp_path / f"{name}.nc"
    runfile.write(dt, path)
    return path


@pytest.mark.slow  # builds and writes a run file (about 5 s on 2 cores)
def test_export_command_writes_the_posterior_mean_and_evenly_spaced_draws(tmp_path):
    """`bayesff export RUN --format lammps --topology FILE --draws 3` on a run of 5
    hand-chosen draws: four files (mean + draws 0, 2, 4 of the flattened posterior,
    evenly spaced and reproducible), each pair_coeff equal to the draw's values
    converted K -> kJ/mol (R = 8.314462618 J/mol/K, CODATA 2018 exact) -> kcal/mol
    (4.184 J/cal exact) to 1e-11 (12 digits written), the mean file to the mean of
    all 5 draws, and the run's name in every header."""
    from bayesff import cli
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    rng = np.random.default_rng(3)
    draws = {
        "epsilon_CH3": 98.0 + rng.normal(0, 2, 5),
        "sigma_CH3": 3.75 + rng.normal(0, 0.02, 5),
        "epsilon_CH2": 46.0 + rng.normal(0, 1, 5),
        "sigma_CH2": 3.95 + rng.normal(0, 0.02, 5),
    }
    run = _molecular_run(tmp_path, draws)
    (tmp_path / "butane.toml").write_text(TOPOLOGY_TOML)
    out = tmp_path / "exported"
    argv = ["export", str(run), "--format", "lammps", "--topology", str(tmp_path / "butane.toml")]
    assert cli.main([*argv, "--draws", "3", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["draw_0000.lmp", "draw_0001.lmp", "draw_0002.lmp", "mean.lmp"]
    for name, pick in [("draw_0000.lmp", [0]), ("draw_0001.lmp", [2]), ("draw_0002.lmp", [4]),
                       ("mean.lmp", [0, 1, 2, 3, 4])]:  # fmt: skip
        text = (out / name).read_text()
        assert "synthetic" in text.splitlines()[0] + text.splitlines()[1]
        _, coeffs = _parse_lammps(text)
        eps3 = np.mean(draws["epsilon_CH3"][pick]) * R / CALORIE_J
        sig2 = np.mean(draws["sigma_CH2"][pick])
        np.testing.assert_allclose(coeffs[(1, 1)][0], eps3, rtol=1e-11)
        np.testing.assert_allclose(coeffs[(2, 2)][1], sig2, rtol=1e-11)
    # a second export does not overwrite without --force, and leaves the files as they were
    before = (out / "mean.lmp").read_bytes()
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert (out / "mean.lmp").read_bytes() == before
    assert cli.main([*argv, "--draws", "1", "--out", str(out), "--force"]) == 0
    # the earlier export is replaced whole: its draws 1 and 2 are not left beside the new
    # export's one draw (audit, 2026-11-29)
    assert sorted(p.name for p in out.iterdir()) == ["draw_0000.lmp", "mean.lmp"]
    # --force replaced a file of the user's own as readily (audit, 2026-11-28): not now
    (out / "mean.lmp").write_text("precious\n")
    assert cli.main([*argv, "--out", str(out), "--force"]) == 2
    assert (out / "mean.lmp").read_text() == "precious\n"
    assert (out / "draw_0000.lmp").read_bytes().startswith(b"# bayesff export: run")


@pytest.mark.slow  # builds and writes a run file (about 5 s on 2 cores)
def test_export_command_refuses_bad_requests_in_one_line(tmp_path, capsys):
    """Negative controls, each exit 2 with one line naming the place: a run without a
    parameter the topology needs (the message lists what the run has), more draws than
    the run holds, a topology file with an unknown site type (names file and field), a
    topology file that is not TOML, and a missing topology file. Nothing is written."""
    from bayesff import cli

    draws = {"epsilon_CH3": [98.0, 99.0], "sigma_CH3": [3.75, 3.76], "epsilon_CH2": [46.0, 47.0]}
    run = _molecular_run(tmp_path, draws)
    topo = tmp_path / "butane.toml"
    topo.write_text(TOPOLOGY_TOML)
    bad_site = tmp_path / "bad_site.toml"
    bad_site.write_text(TOPOLOGY_TOML + '[[molecules]]\nname = "x"\nsites = ["CH9"]\n')
    not_toml = tmp_path / "not.toml"
    not_toml.write_text("form = [\n")
    out = tmp_path / "never"
    cases = [
        (topo, [], rf"{run}: .*without \['sigma_CH2'\]"),
        (bad_site, [], r"bad_site\.toml: molecules\[x\]\.sites\[0\]: unknown site type 'CH9'"),
        (not_toml, [], r"not\.toml: not valid TOML"),
        (tmp_path / "missing.toml", [], r"missing\.toml: no such topology file"),
    ]
    for path, extra, message in cases:
        argv = ["export", str(run), "--format", "openmm", "--topology", str(path), *extra]
        assert cli.main([*argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and re.search(message, err), err
    full = {**draws, "sigma_CH2": [3.95, 3.96]}
    run = _molecular_run(tmp_path, full, "full")
    argv = ["export", str(run), "--format", "gromacs", "--topology", str(topo), "--draws", "3"]
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert re.search(r"draws must be 0-2", capsys.readouterr().err)
    # the chain export's options on a forcefield run were silently ignored (input audit)
    for extra in (["--molar-mass", "58.12"], ["--segments", "4"], ["--r-cut", "10"]):
        assert cli.main([*argv[:-2], *extra, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert re.search(rf"{extra[0]}: {extra[0]} belong to a mie_chain run's export", err), err
    assert not out.exists()


# --------------------------------------------------------------------------- Mie chains


def _mie_pair(r, eps, sig, n, m):
    """Mie n-m energy written out here (Lafitte et al. 2013, Eq. 1), independent of bayesff."""
    c = n / (n - m) * (n / m) ** (m / (n - m))
    return c * eps * ((sig / r) ** n - (sig / r) ** m)


def test_chain_export_loads_in_openmm_with_the_chain_energy():
    """A 4-bead tangent Mie chain (14-6, epsilon 2.1 kJ/mol, sigma 4.0 angstrom), five
    molecules in a box, through the exported OpenMM XML (Reference platform, cut-off 12
    angstrom, no tail): the energy equals the Mie sum computed here by hand over every pair
    of beads of different molecules and the 1-4 pair of each chain (minimum image, within
    the cut-off) to 1e-9; 1-2 and 1-3 pairs excluded. The bonds are sigma long and fixed."""
    from bayesff.export import chain_topology

    eps, sig, n, m = 2.1, 4.0, 14.0, 6.0
    topo = chain_topology(4, 4 * 35.0, sig, 12.0)
    p = {"epsilon_M": eps, "sigma_M": sig, "n_M": n, "m_M": m}
    xml = render("openmm", p, dataclasses.replace(topo, tail=False), FP)
    assert 'bondCutoff="2"' in xml and 'length="0.4"' in xml
    rng = np.random.default_rng(7)
    box = np.array([26.0, 26.0, 26.0])
    mols = []
    for _ in range(5):  # freely jointed chains of bond length sigma
        x = [rng.uniform(0, 26.0, 3)]
        for _ in range(3):
            d = rng.normal(size=3)
            x.append(x[-1] + sig * d / np.linalg.norm(d))
        mols.append(np.array(x))
    R = np.concatenate(mols)
    mine = 0.0
    for a in range(20):
        for b in range(a + 1, 20):
            same, ia, ib = a // 4 == b // 4, a % 4, b % 4
            if same and abs(ia - ib) < 3:
                continue
            d = R[a] - R[b]
            d -= box * np.round(d / box)
            r = float(np.linalg.norm(d))
            if r < 12.0:
                mine += _mie_pair(r, eps, sig, n, m)
    system = ff.System(topo, (("chain", 5),))
    assert _openmm_energy(xml, system, R, box, 12.0) == pytest.approx(mine, rel=1e-9)


def _chain_run(tmp_path, draws, segments=2.0, name="chain", kind="mie_chain", fixed_more=None):
    """A mie_chain run file: the posterior of epsilon (K), sigma (angstrom) and n (one chain
    of hand-chosen draws), m and segments fixed in its problem text, as per_molecule.toml
    fixes them. ``fixed_more``: more ``{name: (value, unit)}`` fixed in the problem text instead
    of drawn; ``segments=None`` leaves segments unfixed (drawn if ``draws`` has it)."""
    import xarray as xr

    from bayesff import runfile
    from tests.handmade_runs import build_run, target

    k = len(next(iter(draws.values())))
    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((k, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    post = dt["posterior"].to_dataset()
    energy = "epsilon_vdw" if kind == "mie_chain_vdw" else "epsilon"
    for p, unit in ((energy, "K"), ("sigma", "angstrom"), ("n", "1"), ("segments", "1")):
        if p in draws:
            post[p] = (("chain", "draw"), np.asarray(draws[p], float)[None])
            post[p].attrs["units"] = unit
    post = post.drop_vars([p for p in fixed_more or {} if p in post.data_vars])
    dt["posterior"] = xr.DataTree(post)
    dt.attrs["parameters"] = [p for p in post.data_vars if p in (energy, "sigma", "n", "segments")]
    dt.attrs["problem_name"] = name
    fixed = {"m": (6.0, "1"), **({} if segments is None else {"segments": (segments, "1")})}
    fixed.update(fixed_more or {})
    dt.attrs["problem_text"] = (
        f'[problem]\nname = "chain"\n[potential]\nkind = "{kind}"\n'
        + "".join(f'[parameters.{k}]\nunit = "{u}"\nvalue = {v}\n' for k, (v, u) in fixed.items())
    )
    dt.attrs["problem_text_sha256"] = runfile.text_sha256(dt.attrs["problem_text"])
    path = tmp_path / f"{name}.nc"
    runfile.write(dt, path)
    return path


def test_chain_run_parameters_of_a_mie_chain_vdw_run_are_its_well_depths(tmp_path):
    """A ``mie_chain_vdw`` run exports the Mie well depth draw by draw: epsilon = epsilon_vdw
    / alpha(n, 6), alpha = C [1/3 - 1/(n - 3)] written out here (Ramrattan et al. 2015,
    eq. 6), in kJ/mol (K x R); the mean is the mean of those well depths, not the well
    depth of the mean."""
    from bayesff.export import chain_run_parameters
    from bayesff.runfile import read
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    draws = {
        "epsilon_vdw": [160.0, 170.0, 180.0],
        "sigma": [3.9, 3.92, 3.94],
        "n": [8.1, 9.0, 14.0],
    }
    run = _chain_run(tmp_path, draws, kind="mie_chain_vdw")
    mean, got, segments = chain_run_parameters(read(run), 3)
    n = np.array(draws["n"])
    c = n / (n - 6) * (n / 6) ** (6 / (n - 6))
    eps = np.array(draws["epsilon_vdw"]) / (c * (1 / 3 - 1 / (n - 3))) * R
    np.testing.assert_allclose(got["epsilon"], eps, rtol=1e-12)
    assert mean["epsilon"] == pytest.approx(np.mean(eps), rel=1e-12)
    np.testing.assert_allclose(got["m"], 6.0)
    assert segments == 2.0


@pytest.mark.slow  # builds and writes run files (about 5 s on 2 cores)
def test_chain_export_reads_fixed_units_and_sampled_segments(tmp_path):
    """Audit, 2026-11-29. (1) A problem that fixed sigma = 0.385 nm and epsilon = 2.12
    kJ/mol was exported as sigma = 0.385 angstrom and epsilon = 2.12 K x R (the unit was
    dropped): now 3.85 angstrom and 2.12 kJ/mol (internal units). (2) A run that sampled
    segments (draws 1.6-1.7) was exported as a chain of any --segments, e.g. 7: now refused
    outside the posterior's 90 % interval, naming it, and without --segments; a count
    inside it (segments 1.97-2.03, --segments 2) is exported."""
    from bayesff.export import chain_run_parameters, chain_segments
    from bayesff.runfile import read

    n = {"n": [12.0, 12.5, 13.0, 13.5, 14.0]}
    run = _chain_run(tmp_path, n, fixed_more={"epsilon": (2.12, "kJ/mol"), "sigma": (0.385, "nm")})
    mean, draws, segments = chain_run_parameters(read(run), 2)
    assert (mean["epsilon"], mean["sigma"], segments) == pytest.approx((2.12, 3.85, 2.0))
    np.testing.assert_allclose(draws["sigma"], 3.85)
    base = {"epsilon": [250.0] * 5, "sigma": [4.0] * 5, **n}
    odd = read(_chain_run(tmp_path, {**base, "segments": [1.6, 1.62, 1.65, 1.68, 1.7]},
                          segments=None, name="odd"))  # fmt: skip
    for requested, says in (
        (7, r"--segments 7: .* expected --segments N inside the interval"),
        (None, r"no --segments was given"),
        (2, r"90 % interval \[1\.604, 1\.696\]; no whole number lies inside it"),
    ):
        with pytest.raises(ProblemError, match=says):
            chain_segments(odd, requested)
    near = read(_chain_run(tmp_path, {**base, "segments": [1.97, 1.99, 2.0, 2.01, 2.03]},
                           segments=None, name="near"))  # fmt: skip
    assert chain_segments(near, 2) == 2
    with pytest.raises(ProblemError, match=r"whole numbers inside it: \[2\]"):
        chain_segments(near, 3)


def test_a_transferable_chain_run_exports_the_molecule_named_by_segments(tmp_path):
    """Export audit (2026-11-30): a transferable model fixes segments per target (1 + (C -
    1)/3) and gives [parameters.segments] only a default (1.0); the export read that
    default as the run's molecule, wrote one bead and refused --segments 2 ("calibrated
    with segments = 1"). A value some target fixes for itself is no run-wide value: the
    export asks for --segments and uses it."""
    from bayesff.export import chain_run_parameters, chain_segments

    run = _chain_run(tmp_path, {"epsilon": [250.0, 251.0], "sigma": [4.0, 4.01], "n": [13, 14]})
    dt = _with_targets(
        run,
        '[[targets]]\nname = "rho_c4"\nfixed = { segments = 2.0 }\n'
        '[[targets]]\nname = "rho_c7"\nfixed = { segments = 3.0 }\n',
    )
    with pytest.raises(ProblemError, match="give --segments N for the molecule to export"):
        chain_segments(dt, None)
    assert chain_segments(dt, 2) == 2 and chain_segments(dt, 3) == 3
    mean, _, segments = chain_run_parameters(dt, 1)
    assert segments is None and mean["m"] == 6.0  # m is fixed for every target alike


def _with_targets(run, text):
    """The run file at ``run`` with ``text`` (``[[targets]]`` tables) added to its problem."""
    from bayesff.runfile import read, text_sha256, write

    dt = read(run)
    dt.attrs["problem_text"] += text
    dt.attrs["problem_text_sha256"] = text_sha256(dt.attrs["problem_text"])
    write(dt, run, force=True)
    return read(run)


def test_a_chain_run_whose_targets_fix_m_each_for_itself_says_why_it_cannot_export(tmp_path):
    """Audit leftover (2026-11-30): a run whose targets fix the attractive exponent m
    each for itself (6 and 7) failed with "the run has no posterior of 'm' and its problem
    does not fix it", which is untrue and says nothing of why. Now the message names the
    targets' values. Where every target fixes the same value, or some keep the problem's
    and the others fix that same value, it is the run's value and the export goes on."""
    from bayesff.export import chain_run_parameters, chain_segments

    draws = {"epsilon": [250.0, 251.0], "sigma": [4.0, 4.01], "n": [13, 14]}
    two = _with_targets(
        _chain_run(tmp_path, draws, name="two_m"),
        '[[targets]]\nname = "rho_a"\nfixed = { m = 6.0, segments = 2.0 }\n'
        '[[targets]]\nname = "rho_b"\nfixed = { m = 7.0, segments = 3.0 }\n',
    )
    with pytest.raises(ProblemError, match=r"fix m each for itself, to different values "
                       r"\(rho_a: 6, rho_b: 7\).*export a run with one m"):  # fmt: skip
        chain_run_parameters(two, 1)
    with pytest.raises(ProblemError, match=r"segments each for itself.*rho_a: 2, rho_b: 3"):
        chain_segments(two, None)
    same = _with_targets(
        _chain_run(tmp_path, draws, name="same_m"),
        '[[targets]]\nname = "rho_a"\nfixed = { m = 6.0, segments = 2.0 }\n'
        '[[targets]]\nname = "rho_b"\nfixed = { segments = 2.0 }\n',
    )
    mean, _, segments = chain_run_parameters(same, 1)
    assert (mean["m"], segments) == (6.0, 2.0)  # one value for every target: the run's
    assert chain_segments(same, None) == 2


@pytest.mark.slow  # builds and writes a run file (about 5 s on 2 cores)
def test_a_topology_file_with_another_nonbonded_model_is_refused(tmp_path, capsys):
    """Export audit (2026-11-30): --topology replaced the run's combining rule, cut-off and
    tail silently (a TraPPE run re-mixed with another rule, exported with lj/cut 14 and no
    tail). The topology may name other molecules, not another model: refused naming each
    difference; the run's own model with another molecule is exported."""
    from bayesff import cli
    from bayesff.runfile import read, text_sha256, write

    draws = {
        "epsilon_CH3": [98.0, 99.0],
        "sigma_CH3": [3.75, 3.76],
        "epsilon_CH2": [46.0, 47.0],
        "sigma_CH2": [3.95, 3.96],
    }
    run = _molecular_run(tmp_path, draws)
    dt = read(run)
    dt.attrs["problem_text"] = """[problem]
name = "butane"
[potential]
kind = "forcefield"
form = "lj"
combining_rule = "lorentz_berthelot"
r_cut = 11.2
r_cut_unit = "angstrom"
tail = true
site_types.CH3 = { mass = 15.035, mass_unit = "g/mol" }
site_types.CH2 = { mass = 14.027, mass_unit = "g/mol" }
[[molecules]]
name = "n-butane"
alkane = { carbons = 4 }
"""
    dt.attrs["problem_text_sha256"] = text_sha256(dt.attrs["problem_text"])
    write(dt, run, force=True)
    other = tmp_path / "other.toml"
    other.write_text(
        "tail = false\n"
        + TOPOLOGY_TOML.replace("lorentz_berthelot", "geometric").replace("14.0", "10.0")
    )
    argv = ["export", str(run), "--format", "lammps", "--out", str(tmp_path / "x")]
    assert cli.main([*argv, "--topology", str(other)]) == 2
    err = capsys.readouterr().err
    assert (
        "--topology" in err
        and "combining_rule 'geometric' (the run's: 'lorentz_berthelot')" in err
    )
    assert "r_cut_angstrom 10.0 (the run's: 11.2)" in err and "tail False" in err
    # another molecule with the run's model, its cut-off in nm (1.12 nm is 11.200000000000001
    # angstrom once converted: the same cut-off, not another)
    decane = tmp_path / "decane.toml"
    text = TOPOLOGY_TOML.replace("n-butane", "n-decane").replace("= 4", "= 10")
    decane.write_text(
        text.replace('r_cut = 14.0\nr_cut_unit = "angstrom"', 'r_cut = 1.12\nr_cut_unit = "nm"')
    )
    assert "1.12" in decane.read_text()
    assert cli.main([*argv, "--topology", str(decane)]) == 0


def test_forced_export_replaces_an_earlier_export_whole(tmp_path):
    """Audit, 2026-11-29: ``--force`` over an export of 3 draws with one of 1 draw left
    draw_0001.lmp and draw_0002.lmp of the earlier run beside the new files. Now the
    earlier export's files are removed after the new ones are written; a file of the
    user's own and an export of another format (.xml) in the folder stay."""
    from bayesff.export import _MARK, write_files

    def marked(run):
        return f"# {_MARK} {run}\n"

    old = {f: marked("A") for f in ("mean.lmp", "draw_0000.lmp", "draw_0001.lmp", "draw_0002.lmp")}
    write_files({**old, "mean.xml": f"<!-- {_MARK} A -->"}, tmp_path)
    (tmp_path / "notes.lmp").write_text("mine")
    new = {"mean.lmp": marked("B"), "draw_0000.lmp": marked("B")}
    with pytest.raises(ProblemError, match="exist already"):
        write_files(new, tmp_path)
    assert (tmp_path / "draw_0002.lmp").read_text() == marked("A")
    write_files(new, tmp_path, force=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["draw_0000.lmp", "mean.lmp", "mean.xml", "notes.lmp"]
    assert (tmp_path / "mean.lmp").read_text() == marked("B")


@pytest.mark.slow  # builds and writes run files (about 5 s on 2 cores)
def test_export_command_writes_a_mie_chain_run_and_refuses_what_is_no_chain(tmp_path, capsys):
    """`bayesff export RUN --format lammps --molar-mass 58.12 --draws 3` of a mie_chain run
    of 5 draws (segments = 2 fixed): four files, each with pair_style mie/cut, the draw's
    epsilon in kcal/mol (K x R / 4.184), sigma, n and the fixed m = 6, and a bond length
    equal to that draw's sigma in the OpenMM file. Refused in one line each: no molar mass,
    --topology with a chain run, --segments against the calibrated count, and a run
    calibrated with 2.33 segments (no chain of whole beads)."""
    from bayesff import cli
    from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

    draws = {
        "epsilon": [250.0, 252.0, 254.0, 256.0, 258.0],
        "sigma": [3.96, 3.97, 3.98, 3.99, 4.0],
        "n": [12.1, 12.3, 12.5, 12.7, 12.9],
    }
    run = _chain_run(tmp_path, draws)
    out = tmp_path / "lmp"
    argv = ["export", str(run), "--molar-mass", "58.12", "--draws", "3"]
    assert cli.main([*argv, "--format", "lammps", "--out", str(out)]) == 0
    names = sorted(x.name for x in out.iterdir())
    assert names == ["draw_0000.lmp", "draw_0001.lmp", "draw_0002.lmp", "mean.lmp"]
    for file, pick in (("draw_0001.lmp", [2]), ("mean.lmp", [0, 1, 2, 3, 4])):
        style, coeffs = _parse_lammps((out / file).read_text())
        assert style["pair_style"][0] == "mie/cut"
        eps, sig, n, m = coeffs[(1, 1)]
        assert eps == pytest.approx(np.mean(np.array(draws["epsilon"])[pick]) * R / CALORIE_J)
        assert (sig, n, m) == pytest.approx(
            (np.mean(np.array(draws["sigma"])[pick]), np.mean(np.array(draws["n"])[pick]), 6.0)
        )
    xml_out = tmp_path / "xml"
    assert cli.main([*argv, "--format", "openmm", "--out", str(xml_out)]) == 0
    assert 'length="0.398"' in (xml_out / "draw_0001.xml").read_text()  # sigma 3.98 A
    assert 'mass="29.06"' in (xml_out / "mean.xml").read_text()  # 58.12 / 2 beads
    assert _parse_lammps((out / "mean.lmp").read_text())[0]["mass"] == {1: 29.06}
    topo = tmp_path / "topology.toml"
    topo.write_text(TOPOLOGY_TOML)
    odd = _chain_run(tmp_path, draws, segments=2.3333333333, name="odd")
    cases = [
        ([str(run), "--format", "lammps"], r"--molar-mass: .*molar mass"),
        ([str(run), "--format", "lammps", "--molar-mass", "58.12", "--topology", str(topo)],
         r"--topology: a mie_chain run exports its own chain"),
        ([str(run), "--format", "lammps", "--molar-mass", "58.12", "--segments", "3"],
         r"--segments: the run was calibrated with segments = 2;"),
        ([str(odd), "--format", "lammps", "--molar-mass", "72.15"],
         r"segments = 2.33333: its parameters stand for no chain"),
    ]  # fmt: skip
    never = tmp_path / "never"
    for args, message in cases:
        assert cli.main(["export", *args, "--out", str(never)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and re.search(message, err), err
    assert not never.exists()


@pytest.mark.slow  # builds and writes run files (about 5 s on 2 cores)
def test_export_writes_only_where_asked_and_refuses_a_cut_off_inside_the_core(
    tmp_path, capsys, monkeypatch
):
    """Audit, 2026-11-28. A run file is data from elsewhere: its problem name chose the
    default folder exports/NAME/FORMAT, so a name '../../evil' or an absolute path wrote
    outside exports/; now refused, as report refuses it. ``--out`` naming a file said only
    "File exists"; ``--r-cut 1`` (inside the beads' repulsive core, sigma 3.96-4.0
    angstrom) was written as pair_style mie/cut 1. Each is one line, exit 2, nothing
    written; a plain name still writes exports/NAME/lammps."""
    from bayesff import cli

    draws = {"epsilon": [250.0, 252.0], "sigma": [3.96, 4.0], "n": [12.1, 12.3]}
    monkeypatch.chdir(tmp_path)
    base = ["export", "--format", "lammps", "--molar-mass", "58.12"]
    for i, name in enumerate(("../../evil", str(tmp_path / "absevil"))):
        run = _chain_run(tmp_path, draws, name=f"x{i}")
        with h5py.File(run, "r+") as f:
            f.attrs["problem_name"] = name
        assert cli.main([*base, str(run)]) == 2
        err = capsys.readouterr().err.strip()
        assert "cannot name an export folder" in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x0.nc", "x1.nc"]
    run = _chain_run(tmp_path, draws, name="chain")
    (tmp_path / "afile").write_text("mine")
    for extra, says in (
        (["--out", "afile"], "--out: 'afile' is a file: expected a folder"),
        (["--r-cut", "1"], "--r-cut: a cut-off of 1 angstrom lies inside the beads' repulsive"),
        (["--r-cut", "3.98", "--draws", "2"], "sigma up to 4 angstrom"),  # a draw's
    ):
        assert cli.main([*base, str(run), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "exports").exists() and (tmp_path / "afile").read_text() == "mine"
    assert cli.main([*base, str(run), "--r-cut", "12"]) == 0
    assert (tmp_path / "exports" / "chain" / "lammps" / "mean.lmp").is_file()
