"""The atlas and polar-gas data (data/atlas/, data/polar_gases/) and the scripts that make them.

* Every shipped CSV loads with bayesff.data.load_table under its manifest units,
  and the B2 / liquid files carry the exact columns of the observables that will
  consume them (second_virial, liquid_pressure, liquid_energy). No CoolProp needed.
* The LJ B2 of the scripts' quantum-flag estimate (scipy adaptive quadrature)
  equals bayesff's own Gauss-Legendre B2 (an independent implementation).
* With CoolProp and teqp (the ``[data]`` extra): the script's B2 of argon equals
  CoolProp's ``Bvirial`` and teqp's independent evaluation of the same
  Tegeler-Span-Wagner equation, and data/argon/b2.csv; its saturated-liquid rows
  reproduce CoolProp's saturation pressure and teqp's p and residual energy at the
  same (T, rho); the shipped argon and water files equal a fresh regeneration.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
import tomllib

import numpy as np
import pytest

from bayesff import units
from bayesff.data import load_table
from bayesff.observables import get_observable

from support import ROOT

DATA = ROOT / "data"
SCRIPTS = ROOT / "data" / "scripts"
ENTRIES = [
    e
    for e in tomllib.loads((DATA / "manifest.toml").read_text())["files"]
    if e["path"].startswith(("atlas/", "polar_gases/"))
]
NEEDS_COOLPROP = "CoolProp is in the [data] extra"


def _dimension(column: str, unit: str) -> str | None:
    """The bayesff dimension that accepts this unit (None: a unit bayesff does not know)."""
    if unit == "K":  # K is also an energy unit (E/k_B); these columns are temperatures
        return "temperature"
    for dim in units.DIMENSIONS:
        if unit in units.known_units(dim) or (dim == "dimensionless" and unit == "1"):
            return dim
    return None


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def scripts():
    mods = {n: _script(n) for n in ("make_atlas_data", "make_polar_gases_data")}
    yield mods
    for n in mods:
        sys.modules.pop(n, None)


def test_atlas_and_polar_files_are_all_listed():
    """Every CSV under data/atlas and data/polar_gases has an entry (and vice versa)."""
    on_disk = sorted(
        str(p.relative_to(DATA)) for d in ("atlas", "polar_gases") for p in (DATA / d).glob("*")
    )
    assert on_disk == sorted(e["path"] for e in ENTRIES)
    # 14 fluids x (B2, liquid) + fluids + bond lengths; 8 polar B2 + fluids + dipoles
    assert len(ENTRIES) == 30 + 10


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["path"])
def test_csv_loads_with_manifest_units(entry):
    """Each numeric column loads through load_table with its manifest unit.

    Columns with units bayesff does not know (g/mol, D) must still be finite
    numbers; ``text`` columns are free text. The header must equal the manifest's
    unit table (no undocumented column).
    """
    path = DATA / entry["path"]
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header == list(entry["units"]), "manifest units must list every column, in order"
    known, foreign = {}, []
    for col, unit in entry["units"].items():
        if unit == "text":
            continue
        dim = _dimension(col, unit)
        if dim is None:
            foreign.append(col)
        else:
            known[col] = dim
    table = load_table(path, known)
    assert table.n_rows == len(body) > 0
    for col in known:
        assert np.all(np.isfinite(table.columns[col])), col
    for col in foreign:
        vals = [float(r[header.index(col)]) for r in body]
        assert all(math.isfinite(v) for v in vals), col


def _observable_columns(name: str) -> dict[str, str]:
    obs = get_observable(name)
    cols = {f.column: f.dimension for f in obs.env}
    cols[obs.value_column] = obs.dimension
    cols[obs.uncertainty_column] = obs.dimension
    return cols


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if "/b2_" in e["path"] or "/liquid_" in e["path"]],
    ids=lambda e: e["path"],
)
def test_files_feed_the_observables(entry):
    """B2 files have second_virial's columns; liquid files those of liquid_pressure/energy."""
    names = ("second_virial",) if "/b2_" in entry["path"] else ("liquid_pressure", "liquid_energy")
    for name in names:
        t = load_table(DATA / entry["path"], _observable_columns(name))
        obs = get_observable(name)
        assert np.all(t.columns[obs.uncertainty_column] > 0)
    if "/liquid_" in entry["path"]:
        t = load_table(DATA / entry["path"], {"branch": "dimensionless", "T_K": "temperature"})
        # the three branches are separable by temperature alone (selections use T_K)
        T0 = t.columns["T_K"][t.columns["branch"] == 0]
        T12 = t.columns["T_K"][t.columns["branch"] > 0]
        assert T0.max() < T12.min()


def test_neon_is_flagged_quantum_and_argon_is_not():
    """fluids.csv carries the quantum flag the report shows (estimate, see the script).

    Reference: the first quantum correction grows as 1/(m eps sigma^2) (de Boer
    parameter); neon is the lightest, most weakly bound fluid of the set, xenon the
    heaviest, so the flag must rank them so.
    """
    with (DATA / "atlas" / "fluids.csv").open() as fh:
        rows = {r["fluid"]: r for r in csv.DictReader(fh)}
    assert rows["neon"]["quantum_flag"] == "1"
    assert rows["argon"]["quantum_flag"] == "0"
    assert float(rows["neon"]["q1_over_u_max"]) > float(rows["argon"]["q1_over_u_max"])
    assert float(rows["argon"]["q1_over_u_max"]) > float(rows["xenon"]["q1_over_u_max"])


def test_lj_b2_of_the_quantum_estimate_matches_bayesff(scripts):
    """The scripts' LJ B2 (scipy quad) against bayesff.second_virial (Gauss-Legendre).

    Two independent quadratures of the same integral; bayesff's is converged to
    better than 1e-8 relative (tests/observables/test_virial.py), scipy's quad to
    its default 1.5e-8 relative tolerance: agreement to 1e-6 relative (abs 1e-6
    cm^3/mol near the Boyle temperature).
    """
    from bayesff.observables.virial import second_virial
    from bayesff.potentials import LENNARD_JONES

    mod = scripts["make_atlas_data"]
    eps_K, sigma = 119.8, 3.405
    T = np.array([80.0, 150.0, 400.0, 1000.0])
    ref = np.asarray(
        second_virial(
            LENNARD_JONES,
            {"epsilon": eps_K * units.GAS_CONSTANT_KJ_PER_MOL_K, "sigma": sigma},
            T,
        )
    )
    got = mod.lj_b2_classical(T, eps_K, sigma)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------- with CoolProp


@pytest.fixture(scope="module")
def coolprop():
    CP = pytest.importorskip("CoolProp.CoolProp", reason=NEEDS_COOLPROP)
    teqp = pytest.importorskip("teqp", reason=NEEDS_COOLPROP)
    return CP, teqp


def _fluid(mod, key):
    return next(f for f in mod.FLUIDS if f.key == key)


def test_script_b2_reproduces_coolprop_and_teqp(scripts, coolprop):
    """B2 of argon from the script at 100, 300, 700 K.

    References: CoolProp's Bvirial (the source, m^3/mol; tolerance 1e-12
    relative: same call, checks the unit conversion), teqp's own implementation
    of the same Tegeler-Span-Wagner equation (independent code; agreement 1e-9
    relative, both exact derivatives of the same Helmholtz energy), and
    data/argon/b2.csv written by make_argon_b2.py (4 decimals: 1e-4 cm^3/mol).
    """
    CP, teqp = coolprop
    mod = scripts["make_atlas_data"]
    argon = _fluid(mod, "argon")
    T = [100.0, 300.0, 700.0]
    rows = mod.b2_table(argon, T)
    got = np.array([r["B2_cm3_per_mol"] for r in rows])
    cp = np.array([CP.PropsSI("Bvirial", "T", t, "Dmolar", 1e-10, "Argon") * 1e6 for t in T])
    np.testing.assert_allclose(got, cp, rtol=1e-12)
    model = teqp.build_multifluid_model(["Argon"], teqp.get_datapath())
    tq = np.array([model.get_B2vir(t, np.array([1.0])) * 1e6 for t in T])
    np.testing.assert_allclose(got, tq, rtol=1e-9)
    with (DATA / "argon" / "b2.csv").open() as fh:
        ref = {float(r["T_K"]): float(r["B2_cm3_per_mol"]) for r in csv.DictReader(fh)}
    np.testing.assert_allclose(got, [ref[t] for t in T], atol=1.5e-4)
    # the uncertainty rule: GERG spread and the 1 % floor (argon is in the "stated" tier)
    for r in rows:
        floor = max(0.5, 0.01 * abs(r["B2_cm3_per_mol"]))
        d = abs(r["B2_cm3_per_mol"] - r["B2_GERG2008_cm3_per_mol"])
        assert r["u_B2_cm3_per_mol"] == pytest.approx(math.hypot(d, floor), rel=1e-12)


def test_script_saturated_liquid_reproduces_coolprop_and_teqp(scripts, coolprop):
    """The shipped saturated-liquid argon rows (branch 0) at their (T, rho).

    References: CoolProp's saturation pressure at T (the state is the saturated
    liquid up to the density rounding of 7 significant digits, which moves p by at
    most 1e-6 rho (dp/drho) = 1e-6 / kappa_T), and teqp's independent evaluation
    of the same equation at the written (T, rho): p = rho R T (1 + Ar01) and
    E_res = R T Ar10, agreement 1e-7 relative (the file keeps 8 digits).
    """
    CP, teqp = coolprop
    model = teqp.build_multifluid_model(["Argon"], teqp.get_datapath())
    z = np.array([1.0])
    R = model.get_R(z)
    t = load_table(
        DATA / "atlas" / "liquid_argon.csv",
        {
            "T_K": "temperature",
            "rho_per_A3": "number_density",
            "branch": "dimensionless",
            "p_MPa": "pressure",
            "E_res_kJ_per_mol": "energy",
        },
    )
    c = t.columns
    sat = c["branch"] == 0
    assert sat.sum() == scripts["make_atlas_data"].N_SAT
    for T, rho, p, e in zip(
        c["T_K"][sat],
        c["rho_per_A3"][sat],
        c["p_MPa"][sat],
        c["E_res_kJ_per_mol"][sat],
        strict=True,
    ):
        rho_m = rho / (units.AVOGADRO * 1e-30)
        p_tq = rho_m * R * T * (1.0 + model.get_Ar01(T, rho_m, z)) * 1e-6
        e_tq = R * T * model.get_Ar10(T, rho_m, z) * 1e-3
        assert p == pytest.approx(p_tq, rel=1e-7, abs=1e-8)
        assert e == pytest.approx(e_tq, rel=1e-7)
        p_sat = CP.PropsSI("P", "T", T, "Q", 0, "Argon") * 1e-6
        dpdrho = CP.PropsSI("d(P)/d(Dmolar)|T", "T", T, "Dmolar", rho_m, "Argon") * 1e-6
        assert abs(p - p_sat) <= 1e-6 * rho_m * dpdrho + 1e-9


@pytest.mark.parametrize(
    ("script", "key", "names"),
    [
        ("make_atlas_data", "argon", ("atlas/b2_argon.csv", "atlas/liquid_argon.csv")),
        ("make_polar_gases_data", "water", ("polar_gases/b2_water.csv",)),
    ],
)
def test_shipped_files_equal_a_fresh_regeneration(scripts, coolprop, script, key, names):
    """Regenerate one fluid and compare with the shipped files.

    Byte-identical with the CoolProp and teqp versions the manifest records;
    with other versions the numbers must still agree to 1e-6 relative (values
    written to 8 digits; uncertainties, 3 digits, to 1e-2).
    """
    CP, teqp = coolprop
    mod = scripts[script]
    files, _ = mod.build((key,))
    same_versions = all(
        v in e["source"]
        for e in ENTRIES
        if e["path"] in names
        for v in (f"CoolProp {CP.get_global_param_string('version')}", f"teqp {teqp.__version__}")
    )
    for name in names:
        fresh = files[name.split("/", 1)[1]]
        shipped = (DATA / name).read_bytes()
        if same_versions:
            assert fresh == shipped, name
            continue
        a = list(csv.reader(fresh.decode().splitlines()))
        b = list(csv.reader(shipped.decode().splitlines()))
        assert a[0] == b[0] and len(a) == len(b)
        for ra, rb in zip(a[1:], b[1:], strict=True):
            for col, x, y in zip(a[0], ra, rb, strict=True):
                tol = 1e-2 if col.startswith(("u_", "dB2", "q1")) else 1e-6
                assert float(x) == pytest.approx(float(y), rel=tol, abs=1e-9), (name, col)
