"""Unit slips in the data of the EOS observables, refused when a problem is built.

Found by an input audit: argon's saturation data with kg/m^3 in the mol/L columns, kPa in
the MPa column and J/mol in the kJ/mol column passed ``bayesff check``, trained or held
out, and so did a compressed liquid in kg/m^3 (F3); a compressed liquid at 100 Pa, far
below the model's vapour pressure, passed too and failed 20 s into ``calibrate`` with a
message that never named the vapour pressure (F5). What is checked here: each is a
one-line ProblemError naming the problem file, the target, the data file and the row,
with the bound at the prior centre and its source, and argon's data in its own units
(data/vle/saturation_argon.csv: the Tegeler-Span-Wagner EOS via CoolProp) still builds.

References: teqp 0.23.2's Thol et al. (2016) LJ EOS (``LJ126_TholJPCRD2016``: its
``solve_pure_critical`` for T*c, rho*c and p*c = rho*c T*c (1 + Ar01) and its
``pure_VLE_T`` for the vapour pressure), the EOS's validated density (Thol et al.:
rho* <= 1.08, ``LJ_THOL2016.validity``) and SAFT-VR Mie's (rho* <= 1.05 molecules, a
chain's packing limit near 1.05 / segments). Units: SI 2019 constants.
"""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest
import teqp

from bayesff.errors import ProblemError
from bayesff.observables.eos import two_centre_correlations as corr
from bayesff.observables.eos.lj import ancillary
from bayesff.potentials import get_potential
from bayesff.priors import Parameter, PriorSpec
from bayesff.problem import InferenceSettings, Problem
from bayesff.targets import Target

from support import ROOT, VLE_LJ_PRIORS, vle_file_problem, vle_target

jax.config.update("jax_enable_x64", True)

TEQP = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
Z1 = np.array([1.0])
KB, NA = 1.380649e-23, 6.02214076e23  # J/K, 1/mol (exact, SI 2019)
EPS_K, SIGMA = 120.0, 3.4  # the prior centre of the problems below (argon's LJ)
MPA_PER_EPS_SIGMA3 = KB * EPS_K / (SIGMA * 1e-10) ** 3 / 1e6  # p* = 1 in MPa
R_KJ = KB * NA / 1000.0

_LJ_PRIORS = VLE_LJ_PRIORS
_SAT_COLUMNS = (
    "T_K,rho_l_mol_per_L,u_rho_l_mol_per_L,p_sat_MPa,u_p_sat_MPa,"
    "dH_vap_kJ_per_mol,u_dH_vap_kJ_per_mol,rho_v_mol_per_L,u_rho_v_mol_per_L\n"
)
#: argon at 90-110 K with kg/m^3 in the mol/L columns, kPa in the MPa column and J/mol in
#: the kJ/mol column (the audit's file: CoolProp's values x 39.95 g/mol, x 1000, x 1000)
_SLIPPED = _SAT_COLUMNS + (
    "90,1378,1,133,0.1,6300,20,5.4,0.01\n"
    "100,1314,1,324,0.1,6100,20,12.9,0.01\n"
    "110,1246,1,665,0.1,5800,20,25.0,0.01\n"
)
_SAT_UNITS = {
    "T_K": "K",
    "rho_l_mol_per_L": "mol/L",
    "u_rho_l_mol_per_L": "mol/L",
    "p_sat_MPa": "MPa",
    "u_p_sat_MPa": "MPa",
    "dH_vap_kJ_per_mol": "kJ/mol",
    "u_dH_vap_kJ_per_mol": "kJ/mol",
    "rho_v_mol_per_L": "mol/L",
    "u_rho_v_mol_per_L": "mol/L",
}
_CLD_COLUMNS = "T_K,p_MPa,rho_mol_per_L,u_rho_mol_per_L\n"
_CLD_UNITS = {"T_K": "K", "p_MPa": "MPa", "rho_mol_per_L": "mol/L", "u_rho_mol_per_L": "mol/L"}
#: a trained target in argon's units (CoolProp's saturated liquid, 90 and 100 K), so that a
#: held-out target has a problem to sit in
_GOOD = "T_K,rho_l_mol_per_L,u_rho_l_mol_per_L\n90,34.5,0.01\n100,33.1,0.01\n"
_GOOD_UNITS = {"T_K": "K", "rho_l_mol_per_L": "mol/L", "u_rho_l_mol_per_L": "mol/L"}
_GOOD_TARGET = (
    '[[targets]]\nname = "good"\nobservable = "saturated_liquid_density"\n'
    'data = "good.csv"\nnoise = { column = "u_rho_l_mol_per_L" }\n'
)


_target = vle_target


def _file_problem(tmp_path, files: dict, targets: str, kind="lennard_jones", priors=_LJ_PRIORS):
    return vle_file_problem(
        tmp_path,
        files,
        targets,
        source="tests/observables/test_vle_unit_slips.py",
        name="slips",
        kind=kind,
        priors=priors,
    )


def _teqp_critical():
    """(T*c, rho*c, p*c) of the Thol LJ EOS (from above the spinodal, as test_vle_inputs)."""
    t, r = TEQP.solve_pure_critical(1.33, 0.31)
    return t, r, r * t * (1 + TEQP.get_Ar01(t, r, Z1))


def _teqp_p_sat_MPa(T_K: float) -> float:
    """The Thol LJ EOS's vapour pressure at T_K at the prior centre (teqp's pure_VLE_T)."""
    t = T_K / EPS_K
    _, rl0, rv0 = (float(x) for x in ancillary(t))
    _, rv = TEQP.pure_VLE_T(t, rl0, rv0, 100)
    return rv * t * (1 + TEQP.get_Ar01(t, rv, Z1)) * MPA_PER_EPS_SIGMA3


def _expected(observable: str) -> list[str]:
    """What the refusal of the slipped argon file names: the first row, its value, the
    bound at the prior centre from teqp's Thol LJ EOS, and the unit to check."""
    t_c, _, p_c = _teqp_critical()
    # 1.08 molecules per sigma^3 (the EOS's highest validated density) in mol/L
    rho_top = 1.08 / ((SIGMA * 1e-9) ** 3 * NA)
    return {
        "saturated_liquid_density": [
            "the row at T_K = 90 (and 2 more rows): the observed density 1378 mol/L",
            f"is {rho_top:.4g} mol/L",
            "(mol/L, not mol/m^3 or kg/m^3)",
        ],
        "compressed_liquid_density": [
            "the row at T_K = 90 (and 1 more rows): the observed density 1400 mol/L",
            f"is {rho_top:.4g} mol/L",
            "(mol/L, not mol/m^3 or kg/m^3)",
        ],
        "vapour_pressure": [
            "the row at T_K = 90 (and 2 more rows): the observed vapour pressure 133 MPa",
            f"critical pressure is {p_c * MPA_PER_EPS_SIGMA3:.4g} MPa",
            "(MPa, not kPa or bar)",
        ],
        "enthalpy_of_vaporisation": [
            "the row at T_K = 90 (and 2 more rows): the observed enthalpy of vaporisation "
            "6300 kJ/mol",
            f"R Tc = {t_c * EPS_K * R_KJ:.4g} kJ/mol",
            "(kJ/mol, not J/mol)",
        ],
    }[observable]


_SLIPS = [
    ("saturated_liquid_density", "rho_l_mol_per_L", "sat.csv"),
    ("vapour_pressure", "p_sat_MPa", "sat.csv"),
    ("enthalpy_of_vaporisation", "dH_vap_kJ_per_mol", "sat.csv"),
    ("compressed_liquid_density", "rho_mol_per_L", "cld.csv"),
]


@pytest.mark.parametrize("train", [True, False], ids=["trained", "held_out"])
@pytest.mark.parametrize(("observable", "column", "data"), _SLIPS, ids=[s[0] for s in _SLIPS])
def test_argon_in_the_wrong_units_is_refused(tmp_path, observable, column, data, train):
    """F3: argon's liquid density in kg/m^3 (x 39.95), vapour pressure in kPa and enthalpy
    of vaporisation in J/mol (x 1000), and a compressed liquid in kg/m^3 (1400 and 1340
    at 90 and 100 K, 10 MPa), trained or held out, are one-line ProblemErrors naming the
    file, target and row, the model's bound at the prior centre (eps/k 120 K, sigma 3.4
    angstrom: teqp's Thol LJ values) and the unit to check. Before: all eight built."""
    files = {
        "sat.csv": (_SLIPPED, _SAT_UNITS),
        "cld.csv": (_CLD_COLUMNS + "90,10,1400,1\n100,10,1340,1\n", _CLD_UNITS),
        "good.csv": (_GOOD, _GOOD_UNITS),
    }
    targets = _target("slip", observable, data, column, "" if train else "train = false\n")
    if not train:
        targets += _GOOD_TARGET
    with pytest.raises(ProblemError) as err:
        _file_problem(tmp_path, files, targets)
    msg = str(err.value)
    assert f"p.toml: target 'slip', data {data}" in msg, msg
    assert f"observable {observable!r}" in msg and "\n" not in msg, msg
    for part in _expected(observable):
        assert part in msg, (part, msg)


def test_argon_in_its_units_builds(tmp_path):
    """The same four observables on argon's CoolProp values (data/vle/saturation_argon.csv,
    83.81-143.15 K, to 0.95 Tc) and a compressed liquid at 90-110 K and 1-100 MPa (values
    near argon's liquid, 34-35 mol/L) build: the bounds sit far above real fluids. (This
    one passed before the checks too: it guards against bounds set too tight.)"""
    text = (ROOT / "data" / "vle" / "saturation_argon.csv").read_text()
    units = {**_SAT_UNITS, "T_over_Tc": "1"}
    cld = _CLD_COLUMNS + "90,1,34.6,0.01\n100,10,33.6,0.01\n110,100,34.0,0.01\n"
    files = {"sat.csv": (text, units), "cld.csv": (cld, _CLD_UNITS)}
    targets = "".join(_target(o, o, d, c) for o, c, d in _SLIPS)
    problem = _file_problem(tmp_path, files, targets)
    assert len(problem.targets) == 4


def _chain_problem(values, segments=4.0):
    """A Mie chain (n 12, m 6, segments fixed) at eps/k 250 K, sigma 3.8 angstrom."""
    fixed = {"n": ("1", 12.0), "m": ("1", 6.0), "segments": ("1", segments)}
    params = {n: Parameter(n, u, None, value=v) for n, (u, v) in fixed.items()}
    for n, (u, v) in {"epsilon": ("K", 250.0), "sigma": ("angstrom", 3.8)}.items():
        params[n] = Parameter(n, u, PriorSpec("LogNormal", {"median": v, "scale": 0.1}))
    t = Target.from_arrays(
        "rho_l", "saturated_liquid_density", {"T_K": np.array([300.0, 350.0])}, values, 0.1
    )
    return Problem(
        name="chain",
        potential=get_potential("mie_chain"),
        parameters=params,
        targets=[t],
        inference=InferenceSettings(chains=1, warmup=10, samples=10),
    )


def test_a_chain_s_liquid_density_is_bounded_per_segment():
    """A chain's highest liquid density is SAFT-VR Mie's validated rho* = 1.05 per
    segment, 1.05 / 4 molecules per sigma^3 for 4 segments (as the pressure-reach check
    reads it): at sigma 3.8 angstrom that is 7.986 mol/L, and 3 times it 23.96 mol/L. A
    row of 30 mol/L (below the per-molecule 95.8 mol/L) is refused, one of 8 builds."""
    top = 1.05 / 4.0 / ((3.8e-9) ** 3 * NA)
    with pytest.raises(ProblemError) as err:
        _chain_problem([8.0, 30.0])
    msg = str(err.value)
    assert "the row at T_K = 350: the observed density 30 mol/L" in msg, msg
    assert f"is {top:.4g} mol/L" in msg and "per molecule (1.05 / 4 segments)" in msg, msg
    _chain_problem([8.0, 7.0])


_2CLJ_PRIORS = """[parameters.epsilon]
unit = "K"
prior = { dist = "LogNormal", median = 100.0, scale = 0.3 }
[parameters.sigma]
unit = "angstrom"
prior = { dist = "LogNormal", median = 3.5, scale = 0.15 }
[parameters.L]
unit = "angstrom"
value = 0.35
"""


def test_a_vapour_pressure_in_kpa_is_refused_with_the_correlations(tmp_path):
    """The check holds for method = "correlation" (the Madin et al. forward model) too:
    2CLJ at eps/k 100 K, sigma 3.5 angstrom, L* 0.1 has Tc = 499.5 K (Stoll et al.'s
    correlation, as test_vle_inputs) and a critical pressure of about 15 MPa; 700 and 1500
    kPa written as MPa at 300 and 350 K (0.6-0.7 Tc) are refused, 0.7 and 1.5 MPa build."""
    cols = "T_K,p_sat_MPa,u_p_sat_MPa\n"
    units = {"T_K": "K", "p_sat_MPa": "MPa", "u_p_sat_MPa": "MPa"}
    target = _target("p", "vapour_pressure", "d.csv", "p_sat_MPa")
    target += 'options = { method = "correlation" }\n'
    bad = {"d.csv": (cols + "300,700,1\n350,1500,1\n", units)}
    with pytest.raises(ProblemError, match=r"the row at T_K = 300 \(and 1 more rows\).*kPa"):
        _file_problem(tmp_path, bad, target, "two_centre_lj", _2CLJ_PRIORS)
    good = {"d.csv": (cols + "300,0.7,0.01\n350,1.5,0.01\n", units)}
    _file_problem(tmp_path, good, target, "two_centre_lj", _2CLJ_PRIORS)


def test_swapped_saturated_densities_are_refused_with_the_correlations(tmp_path):
    """Audit, 2026-11-29: with method = "correlation" a saturated-liquid column holding
    the vapour's densities (0.3 and 0.6 mol/L at 0.6-0.7 Tc of 2CLJ at eps/k 100 K,
    sigma 3.5 angstrom, L* 0.1, whose critical density is about 10 mol/L) built, while the
    EOS method refused it. Now both refuse it; the liquid's values (19 and 17 mol/L)
    build."""
    cols = "T_K,rho_l_mol_per_L,u_rho_l_mol_per_L\n"
    units = {"T_K": "K", "rho_l_mol_per_L": "mol/L", "u_rho_l_mol_per_L": "mol/L"}
    target = _target("rho_l", "saturated_liquid_density", "d.csv", "rho_l_mol_per_L")
    target += 'options = { method = "correlation" }\n'
    swapped = {"d.csv": (cols + "300,0.3,0.01\n350,0.6,0.01\n", units)}
    with pytest.raises(ProblemError, match=r"the row at T_K = 300 .*0.3 mol/L is a vapour's"):
        _file_problem(tmp_path, swapped, target, "two_centre_lj", _2CLJ_PRIORS)
    good = {"d.csv": (cols + "300,19,0.1\n350,17,0.1\n", units)}
    _file_problem(tmp_path, good, target, "two_centre_lj", _2CLJ_PRIORS)


def test_single_phase_pressure_in_kpa_and_energy_in_j_per_mol_are_refused(tmp_path):
    """Audit, 2026-11-29: eos_pressure rows in kPa and eos_residual_energy rows in J/mol
    (x 1000) built, as the saturation observables' slips did before F3. At the prior
    centre (eps/k 120 K, sigma 3.4 angstrom) two supercritical dense states, T* 1.67 and
    2.08 at rho* 0.8 and 0.9: their pressures and energies from teqp's Thol LJ EOS build;
    x 1000 each is refused, the pressure against 30 times teqp's pressure at the EOS's
    highest validated density (rho* 1.08) at that T, the energy against 200 epsilon."""
    t_k, rho_star = np.array([200.0, 250.0]), np.array([0.8, 0.9])
    t = t_k / EPS_K
    p = [
        r * x * (1 + TEQP.get_Ar01(x, r, Z1)) * MPA_PER_EPS_SIGMA3
        for x, r in zip(t, rho_star, strict=True)
    ]
    e = [x * TEQP.get_Ar10(x, r, Z1) * EPS_K * R_KJ for x, r in zip(t, rho_star, strict=True)]
    top = 1.08 * t[0] * (1 + TEQP.get_Ar01(t[0], 1.08, Z1)) * MPA_PER_EPS_SIGMA3
    cols = "T_K,rho_per_A3,p_MPa,u_p_MPa,E_res_kJ_per_mol,u_E_res_kJ_per_mol\n"
    units = dict.fromkeys(cols.strip().split(","), "1") | {
        "T_K": "K", "rho_per_A3": "1/angstrom^3", "p_MPa": "MPa", "u_p_MPa": "MPa",
        "E_res_kJ_per_mol": "kJ/mol", "u_E_res_kJ_per_mol": "kJ/mol",
    }  # fmt: skip

    def data(fp, fe):
        rows = zip(t_k, rho_star / SIGMA**3, p, e, strict=True)
        return cols + "".join(
            ",".join(repr(float(x)) for x in (tk, r, pi * fp, fp, ei * fe, 0.01 * fe)) + "\n"
            for tk, r, pi, ei in rows
        )

    pt = _target("p", "eos_pressure", "d.csv", "p_MPa")
    et = _target("E", "eos_residual_energy", "d.csv", "E_res_kJ_per_mol")
    _file_problem(tmp_path, {"d.csv": (data(1, 1), units)}, pt + et)
    with pytest.raises(ProblemError) as err:
        _file_problem(tmp_path, {"d.csv": (data(1000, 1), units)}, pt + et)
    msg = str(err.value)
    assert f"the row at T_K = 200, p_MPa = {p[0] * 1000:g} (and 1 more rows)" in msg, msg
    assert f"the model reaches {top:.4g} MPa" in msg and "(MPa, not kPa or Pa)" in msg, msg
    with pytest.raises(ProblemError) as err:
        _file_problem(tmp_path, {"d.csv": (data(1, 1000), units)}, pt + et)
    msg = str(err.value)
    assert f"residual energy {e[0] * 1000:.5g} kJ/mol" in msg, msg
    assert f"200 epsilon = {200 * EPS_K * R_KJ:.4g} kJ/mol" in msg and "not J/mol" in msg, msg


def _p_sat_named(msg: str, T_K: float) -> float:
    """The vapour pressure (MPa) a refusal names at T_K."""
    m = re.search(rf"vapour pressure at {T_K:g} K is ([0-9.e+-]+) MPa", msg)
    assert m, msg
    return float(m.group(1))


def test_a_compressed_liquid_far_below_the_vapour_pressure_is_refused(tmp_path):
    """F5: compressed-liquid rows at 100 Pa (1e-4 MPa) at 90 and 100 K have no liquid at
    the prior centre (the forward model's BELOW_VAPOUR_PRESSURE: NaN), and calibrate used
    to fail after compiling with "non-finite ... check the priors' centre". Refused when
    the problem is built, naming the row, the pressure and the model's vapour pressure
    there: teqp's pure_VLE_T for the Thol LJ EOS at T* = 0.75, 0.1108 MPa, to 0.1 % (the
    check reads the EOS's ancillary equation, within 0.07 % of it). A row at 1/2 of it
    builds (a draw with a deeper well has a lower p_sat: the factor 10 leaves it to the
    draws), as do real compressed liquids at 1-100 MPa (test above)."""
    p_sat = _teqp_p_sat_MPa(90.0)
    rows = "90,0.0001,34.5,0.01\n100,0.0001,33.1,0.01\n"
    files = {"c.csv": (_CLD_COLUMNS + rows, _CLD_UNITS)}
    target = _target("c", "compressed_liquid_density", "c.csv", "rho_mol_per_L")
    with pytest.raises(ProblemError) as err:
        _file_problem(tmp_path, files, target)
    msg = str(err.value)
    assert "target 'c', data c.csv" in msg and "\n" not in msg, msg
    assert "the row at T_K = 90, p_MPa = 0.0001 (and 1 more rows)" in msg, msg
    assert "below it there is no stable liquid" in msg, msg
    assert abs(_p_sat_named(msg, 90.0) / p_sat - 1) < 1e-3, (p_sat, msg)
    near = {"c.csv": (_CLD_COLUMNS + f"90,{p_sat / 2:.6g},34.5,0.01\n", _CLD_UNITS)}
    _file_problem(tmp_path, near, target)


@pytest.mark.slow  # compiles a 2CLJ critical-point and coexistence solve (seconds)
def test_a_compressed_liquid_below_the_vapour_pressure_of_a_shaped_eos_is_solved(tmp_path):
    """For an EOS with shape parameters the check solves the model's coexistence at the
    prior centre for the rows an LJ-shaped estimate flags: 2CLJ (Lisal et al. 2004) at
    eps/k 100 K, sigma 3.5 angstrom, L* = 0.1, 300 K (T* = 3, 0.6 Tc). A row at 1e-4 MPa
    is refused naming teqp's vapour pressure (2CLJF-Quadrupole, author 2CLJF_Lisal, Q*^2 =
    0: pure_VLE_T) to the 4 digits shown; a row at half of it (flagged, solved, within
    the factor 10) builds."""
    model = teqp.make_model(
        {"kind": "2CLJF-Quadrupole", "model": {"author": "2CLJF_Lisal", "L^*": 0.1, "(Q^*)^2": 0}}
    )
    t = 3.0
    rl0 = float(corr.saturated_liquid_density(t, 0.1, 0.0))
    rv0 = float(corr.saturated_vapour_density(t, 0.1, 0.0))
    _, rv = model.pure_VLE_T(t, rl0, rv0, 100)
    p_sat = rv * t * (1 + model.get_Ar01(t, rv, Z1)) * KB * 100.0 / (3.5e-10) ** 3 / 1e6
    target = _target("c", "compressed_liquid_density", "c.csv", "rho_mol_per_L")
    bad = {"c.csv": (_CLD_COLUMNS + "300,0.0001,25,0.1\n", _CLD_UNITS)}
    with pytest.raises(ProblemError) as err:
        _file_problem(tmp_path, bad, target, "two_centre_lj", _2CLJ_PRIORS)
    msg = str(err.value)
    assert "the row at T_K = 300, p_MPa = 0.0001:" in msg, msg
    assert abs(_p_sat_named(msg, 300.0) / p_sat - 1) < 2e-4, (p_sat, msg)  # 4 digits shown
    near = {"c.csv": (_CLD_COLUMNS + f"300,{p_sat / 2:.6g},25,0.1\n", _CLD_UNITS)}
    _file_problem(tmp_path, near, target, "two_centre_lj", _2CLJ_PRIORS)


@pytest.mark.parametrize(
    ("observable", "column"),
    [(o, c) for o, c, _ in _SLIPS[:3]] + [("saturated_vapour_density", "rho_v_mol_per_L")],
)
def test_a_saturation_row_its_file_puts_above_tc_is_refused(tmp_path, observable, column):
    """Audit: argon's saturation file with one row's T_over_Tc set to 1.05 (the file's own
    statement that the row is above argon's Tc = 150.687 K, Tegeler et al. 1999, where no
    two phases coexist) was read: the model's Tc at the prior centre lay above the row's
    T_K. Each saturation observable now refuses it when the file is read, naming the row."""
    lines = (ROOT / "data" / "vle" / "saturation_argon.csv").read_text().splitlines()
    head = lines[0].split(",")
    row = lines[5].split(",")
    row[head.index("T_over_Tc")] = "1.05"
    lines[5] = ",".join(row)
    files = {"sat.csv": ("\n".join(lines) + "\n", {**_SAT_UNITS, "T_over_Tc": "1"})}
    with pytest.raises(ProblemError, match=r"1 row\(s\) with T_over_Tc > 1, the first \(T_K = "):
        _file_problem(tmp_path, files, _target("t", observable, "sat.csv", column))
