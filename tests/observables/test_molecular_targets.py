"""Molecular MD targets in a problem (issue 31 items 1 and 3): the ``forcefield`` potential
with ``[[molecules]]``, the reweighted observables, their trust-region blend, prepared files.

The frames here are not MD: they are random non-overlapping lattice configurations (liquid)
and randomly displaced conformers (gas). Reweighting identities hold for any frames: at the
reference parameters the MBAR weights of one state are uniform, so every prediction must
equal the plain average over the frames, computed here independently with
``forcefield.energy`` (the force field checked against OpenMM in
tests/potentials/test_forcefield.py). The end-to-end test with real MD is in
tests/test_workflows_molecular.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import bayesff
from bayesff import prepared
from bayesff.errors import ProblemError
from bayesff.observables import get_observable
from bayesff.observables import molecular_reweight as mr
from bayesff.observables import molecular_targets as mt
from bayesff.potentials import forcefield as ff
from bayesff.potentials.molecular_ff import FORCEFIELD
from bayesff.potentials.topology import TRAPPE_UA_ALKANE, trappe_alkane
from bayesff.prepared_molecular import plan_molecular
from bayesff.problem import Problem
from bayesff.simulate.molecules import conformer, lattice_configuration
from bayesff.units import AVOGADRO, KJ_PER_MOL_PER_A3_IN_MPA
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R_GAS

from support import write_manifest

PUB = TRAPPE_UA_ALKANE.published_parameters()
REF = {k: PUB[k] for k in ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")}
T0, P0 = 250.0, 0.05
N_MOL = 20
FF_DOC = {
    "form": "lj",
    "combining_rule": "lorentz_berthelot",
    "r_cut": 5.0,
    "r_cut_unit": "angstrom",
    "tail": True,
    "site_types": {
        "CH3": {"mass": 15.035, "mass_unit": "g/mol"},
        "CH2": {"mass": 14.027, "mass_unit": "g/mol"},
    },
    "molecules": [{"name": "n-butane", "alkane": {"carbons": 4}}],
}
OPTIONS = {
    "molecule": "n-butane",
    "n_molecules": N_MOL,
    "n_equil": 100,
    "n_steps": 2000,
    "sample_every": 100,
    "gas_molecules": 4,
    "gas_steps": 2000,
    "gas_sample_every": 100,
    "reference": REF,
}


@pytest.fixture(autouse=True)
def _x64():
    bayesff.configure()


@pytest.fixture(scope="module")
def pot():
    return FORCEFIELD.configure(dict(FF_DOC))


def _frames(pot, n_liq=30, n_gas=30, seed=0):
    """Synthetic frames: liquid lattices at 480-540 kg/m^3 with slightly different boxes, gas
    conformers displaced by 0.05 angstrom."""
    system = ff.System(pot.topology, (("n-butane", N_MOL),))
    R, B = [], []
    for k in range(n_liq):
        r, b = lattice_configuration(system, 480.0 + 2 * k, seed=seed + k)
        R.append(r)
        B.append(b)
    rng = np.random.default_rng(seed)
    x0 = conformer(pot.topology.molecule("n-butane"))
    G = x0[None] + 0.05 * rng.standard_normal((n_gas, *x0.shape))
    return system, np.stack(R), np.stack(B), G


def _arrays(pot, seed=0):
    system, R, B, G = _frames(pot, seed=seed)
    runs = [
        mr.ReferenceRun("liquid", R, B, T0, P0, REF),
        mr.ReferenceRun("gas", G, None, T0, 0.0, REF),
    ]
    prep = mr.prepare(system, runs)
    settings = mt.parse_options(pot, OPTIONS)
    arrays = mt.prepared_arrays(pot, settings, prep, [(T0, P0)], [len(R)], [len(G)], REF)
    arrays["sem_density0"] = np.array([0.02])
    arrays["sem_dhvap0"] = np.array([0.05])
    return arrays, (system, R, B, G)


@pytest.fixture(scope="module")
def prepared_arrays(pot):
    bayesff.configure()
    return _arrays(pot)


def _env(T=T0, p=P0):
    return {"T_K": np.array([T]), "p_sat_MPa": np.array([p])}


def test_problem_file_molecules_build_the_force_field(pot):
    # parameters are the topology's, shared by site type; the bonded terms are TraPPE's
    assert pot.kind == "molecular"
    assert pot.param_names == ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")
    mol = pot.topology.molecule("n-butane")
    assert mol.sites == ("CH3", "CH2", "CH2", "CH3")
    assert pot.topology.r_cut_angstrom == 5.0


def test_reference_predictions_equal_plain_averages_of_the_frames(pot, prepared_arrays):
    """At the reference the weights are uniform: density = <M/V>, Delta H_vap = <U_gas> -
    <U_liq>/N + kT - p<V>/N, with every energy from forcefield.energy (1e-9)."""
    aux, (system, R, B, G) = prepared_arrays
    rho = get_observable("md_saturated_liquid_density").build(pot, **OPTIONS)
    dh = get_observable("md_enthalpy_of_vaporisation").build(pot, **OPTIONS)
    theta = {k: jnp.asarray(v) for k, v in REF.items()}
    m_mol = pot.topology.molar_mass(pot.topology.molecule("n-butane"))
    V = np.prod(B, axis=1)
    want_rho = np.mean(N_MOL * m_mol / V) * 1e27 / AVOGADRO / m_mol  # g/L over g/mol
    energy = jax.jit(lambda x, b: ff.energy(system, x, b, theta))
    u_liq = np.array([float(energy(x, b)) for x, b in zip(R, B, strict=True)])
    gas = ff.System(pot.topology, (("n-butane", 1),))
    e_gas = jax.jit(lambda x: ff.energy(gas, x, None, theta))
    u_gas = np.array([float(e_gas(x)) for x in G])
    kT = R_GAS * T0
    want_dh = (
        u_gas.mean() - u_liq.mean() / N_MOL + kT - P0 / KJ_PER_MOL_PER_A3_IN_MPA * V.mean() / N_MOL
    )
    got_rho = float(rho(theta, _env(), aux=aux)[0])
    got_dh = float(dh(theta, _env(), aux=aux)[0])
    assert got_rho == pytest.approx(want_rho, rel=1e-9)
    assert got_dh == pytest.approx(want_dh, rel=1e-9)
    assert aux["density0"][0] == pytest.approx(want_rho, rel=1e-9)


def test_outside_the_trust_band_the_prediction_is_the_linear_expansion(pot, prepared_arrays):
    """Where the ESS fraction is below ess_min - width/2 the prediction is exactly the
    first-order expansion about the reference (density and Delta H_vap); inside it,
    exactly the reweighted average.

    The expansion's slopes (d_density0, d_dhvap0, which prepared_arrays fills with
    jax.jacfwd) are first checked against central differences of the reweighting
    estimate itself, molecular_reweight.predict on a fresh mr.prepare of the same frames
    (every gas sample reweighted, not the stored gas constants), parameter by parameter
    in reweightable_parameters' order, h = 1e-7 relative. Measured on these frames: the
    difference falls as h^2 from 7e-5 relative at h = 1e-5 (sigma_CH3, the stiffest:
    lattice frames at close contact) to 7e-9 at 1e-7, with rounding <= 1.5e-8 there; rtol
    1e-6. A flipped sign, swapped parameters or a unit slip miss by 100 % or more."""
    aux, (system, R, B, G) = prepared_arrays
    rho = get_observable("md_saturated_liquid_density").build(pot, **OPTIONS)
    names = mr.reweightable_parameters(pot.topology)
    s = rho.settings
    fresh = mr.prepare(system, [mr.ReferenceRun("liquid", R, B, T0, P0, REF),
                                mr.ReferenceRun("gas", G, None, T0, 0.0, REF)])  # fmt: skip
    at = jax.jit(lambda p: mr.predict(fresh, p, T0, P0))
    m_mol = pot.topology.molar_mass(pot.topology.molecule("n-butane"))
    ref = {k: jnp.asarray(v) for k, v in REF.items()}
    for k, name in enumerate(names):
        h = 1e-7 * REF[name]
        up, down = (at({**ref, name: jnp.asarray(REF[name] + d)}) for d in (h, -h))
        d_rho = float(up.density_kg_per_m3 - down.density_kg_per_m3) / m_mol / (2 * h)
        d_dh = float(up.dHvap_kJ_per_mol - down.dHvap_kJ_per_mol) / (2 * h)
        assert aux["d_density0"][0, k] == pytest.approx(d_rho, rel=1e-6), (name, aux["d_density0"])
        assert aux["d_dhvap0"][0, k] == pytest.approx(d_dh, rel=1e-6), (name, aux["d_dhvap0"])
    far = None
    for f in (1.02, 1.05, 1.1, 1.2, 1.4):
        theta = {**REF, "sigma_CH3": REF["sigma_CH3"] * f, "sigma_CH2": REF["sigma_CH2"] * f}
        e = float(rho.ess_fractions(theta, aux)[0])
        if e < s.ess_min - s.ess_width / 2:
            far = theta
            break
    assert far is not None, "no parameter change took the ESS fraction below the band"
    delta = np.array([far[n] - REF[n] for n in names])
    linear = aux["density0"][0] + aux["d_density0"][0] @ delta
    assert float(rho(far, _env(), aux=aux)[0]) == pytest.approx(linear, rel=1e-12)
    # Delta H_vap's blend reads d_dhvap0 (its ESS is the smaller of liquid and gas)
    dh = get_observable("md_enthalpy_of_vaporisation").build(pot, **OPTIONS)
    assert float(dh.ess_fractions(far, aux)[0]) < s.ess_min - s.ess_width / 2
    linear = aux["dhvap0"][0] + aux["d_dhvap0"][0] @ delta
    assert float(dh(far, _env(), aux=aux)[0]) == pytest.approx(linear, rel=1e-12)
    # inside: a tiny change keeps e ~ 1, and the value is the reweighted one
    near = {**REF, "epsilon_CH2": REF["epsilon_CH2"] * 1.0005}
    assert float(rho.ess_fractions(near, aux)[0]) > s.ess_min + s.ess_width / 2
    prep = mt._prep(pot, s, {k: jnp.asarray(v) for k, v in aux.items()})
    rw = mr.predict(prep, {k: jnp.asarray(v) for k, v in near.items()}, T0, P0)
    assert float(rho(near, _env(), aux=aux)[0]) == pytest.approx(
        float(rw.density_kg_per_m3) / m_mol, rel=1e-12
    )


def test_gradients_match_finite_differences_in_the_blend(pot, prepared_arrays):
    """The blended prediction is smooth: its gradient equals central differences (1e-5
    relative) at a point inside the switching band."""
    aux, _ = prepared_arrays
    dh = get_observable("md_enthalpy_of_vaporisation").build(pot, **OPTIONS)
    names = mr.reweightable_parameters(pot.topology)
    s = dh.settings

    def moved(f):
        return {**REF, "sigma_CH2": REF["sigma_CH2"] * f, "epsilon_CH3": REF["epsilon_CH3"] * f}

    def ess(f):
        return float(dh.ess_fractions(moved(f), aux)[0])

    lo, hi = 1.0, 1.3  # e(lo) = 1, e(hi) below the band: bisect to e = ess_min
    assert ess(hi) < s.ess_min - s.ess_width / 2
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(mid) > s.ess_min else (lo, mid)
    point = moved(lo)
    assert abs(ess(lo) - s.ess_min) < s.ess_width / 2
    x0 = np.array([point[n] for n in names])

    def f(x):
        return dh(dict(zip(names, x, strict=True)), _env(), aux=aux)[0]

    g = np.asarray(jax.grad(f)(jnp.asarray(x0)))
    for i in range(len(names)):
        h = 1e-6 * abs(x0[i])
        e = np.zeros_like(x0)
        e[i] = h
        fd = (float(f(x0 + e)) - float(f(x0 - e))) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_rows_without_a_prepared_state_are_nan(pot, prepared_arrays):
    aux, _ = prepared_arrays
    rho = get_observable("md_saturated_liquid_density").build(pot, **OPTIONS)
    out = np.asarray(rho(REF, _env(T=T0 + 1.0), aux=aux))
    assert np.isnan(out).all()
    with pytest.raises(ValueError, match="bayesff prepare"):
        rho(REF, _env(), aux=None)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"molecule": "n-octane"}, "must name one of the problem's molecules"),
        ({"reference": {"epsilon_CH3": 0.8}}, "every force-field parameter"),
        ({"reference": {**REF, "sigma_CH2": -1.0}}, "sigma_CH2 must be a finite number"),
        ({"n_molecules": 4}, "less than twice the cut-off"),
        ({"n_steps": 500}, "at least 20 are needed"),
        ({"engine": "gromacs"}, "option 'engine' must be one of"),
        ({"ess_min": 0.05}, "trust band"),
        ({"n_equil": 1.5}, "must be an integer"),
        ({"thermostat": "nose"}, "unknown option"),
    ],
)
def test_bad_options_are_refused_before_any_work(pot, change, match):
    with pytest.raises(ValueError, match=match):
        mt.parse_options(pot, {**OPTIONS, **change}, "md_saturated_liquid_density")


def test_engine_names_are_the_engines():
    from bayesff.simulate.engines import ENGINES

    assert set(mt.ENGINE_NAMES) == set(ENGINES)


def test_molecular_observables_need_a_forcefield():
    from bayesff.potentials import LENNARD_JONES

    with pytest.raises(ValueError, match="needs a forcefield potential"):
        mt.parse_options(LENNARD_JONES, OPTIONS)


# ----------------------------------------------------------------------------- problem files


def _toml_value(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)


def _problem_text(tmp_path: Path, options=OPTIONS, molecules_extra="", kind="forcefield"):
    data = tmp_path / "sat.csv"
    data.write_text(
        "T_K,p_sat_MPa,rho_l_mol_per_L,u_rho_l_mol_per_L,dH_vap_kJ_per_mol,u_dH_vap_kJ_per_mol\n"
        f"{T0},{P0},10.5,0.01,23.0,0.05\n"
        f"{T0 + 20},{P0 * 2},10.1,0.01,22.0,0.05\n"
    )
    units = {"T_K": "K", "p_sat_MPa": "MPa", "rho_l_mol_per_L": "mol/L"}
    units |= {"u_rho_l_mol_per_L": "mol/L", "dH_vap_kJ_per_mol": "kJ/mol"}
    write_manifest(tmp_path, "sat.csv", units={**units, "u_dH_vap_kJ_per_mol": "kJ/mol"})
    site = "{ CH3 = { mass = 15.035, mass_unit = \"g/mol\" }, CH2 = { mass = 14.027, " \
        "mass_unit = \"g/mol\" } }"  # fmt: skip
    text = f"""
[problem]
name = "tiny_molecular"

[potential]
kind = "{kind}"
form = "lj"
combining_rule = "lorentz_berthelot"
r_cut = 5.0
r_cut_unit = "angstrom"
tail = true
site_types = {site}

[[molecules]]
name = "n-butane"
alkane = {{ carbons = 4 }}
{molecules_extra}
[parameters.epsilon_CH3]
unit = "K"
prior = {{ dist = "LogNormal", median = 98.0, scale = 0.05 }}
[parameters.sigma_CH3]
unit = "angstrom"
prior = {{ dist = "LogNormal", median = 3.75, scale = 0.02 }}
[parameters.epsilon_CH2]
unit = "K"
prior = {{ dist = "LogNormal", median = 46.0, scale = 0.05 }}
[parameters.sigma_CH2]
unit = "angstrom"
prior = {{ dist = "LogNormal", median = 3.95, scale = 0.02 }}

[[targets]]
name = "rho"
observable = "md_saturated_liquid_density"
data = "{data}"
train = {{ T_K = [{T0 - 1}, {T0 + 1}] }}
noise = {{ column = "u_rho_l_mol_per_L" }}
options = {_toml_value(options)}

[[targets]]
name = "dhvap"
observable = "md_enthalpy_of_vaporisation"
data = "{data}"
train = {{ T_K = [{T0 - 1}, {T0 + 1}] }}
noise = {{ column = "u_dH_vap_kJ_per_mol" }}
options = {_toml_value(options)}
"""
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


def test_molecules_only_with_a_forcefield(tmp_path):
    path = _problem_text(tmp_path, kind="lennard_jones")
    with pytest.raises(ProblemError, match=r"molecules.*forcefield potential"):
        Problem.from_toml(path, prepared=False)


def test_bad_molecule_names_its_field(tmp_path):
    extra = (
        '\n[[molecules]]\nname = "odd"\nsites = ["CH3", "CH9"]\n'
        'bonds = [ { sites = [0, 1], length = 1.54, length_unit = "angstrom" } ]\n'
    )
    path = _problem_text(tmp_path, molecules_extra=extra)
    with pytest.raises(ProblemError, match=r"tiny.toml: molecules\[odd\]\.sites\[1\].*CH9"):
        Problem.from_toml(path, prepared=False)


def test_prepared_files_attach_and_go_stale(tmp_path, pot):
    """Both targets share one prepared file; its states are the rows used; loading reads it
    into aux and sets each row's floor to the MD standard error; a changed run setting makes
    it stale, and a damaged file is refused."""
    path = _problem_text(tmp_path)
    bare = Problem.from_toml(path, prepared=False)
    (run,) = plan_molecular(bare)
    assert run.molecule == "n-butane" and run.states == ((T0, P0),)
    assert set(run.targets) == {"rho", "dhvap"}
    d = tmp_path / "prep"
    with pytest.raises(ProblemError, match="bayesff prepare"):
        Problem.from_toml(path, prepared=d)
    arrays, _ = _arrays(pot)
    prepared.write(d, run, arrays, {"reference": REF})
    prob = Problem.from_toml(path, prepared=d)
    rho = next(t for t in prob.targets if t.name == "rho")
    assert rho.aux is not None and rho.aux["state_T_K"].tolist() == [T0]
    assert rho.floor[rho.train][0] == pytest.approx(0.02)
    dh = next(t for t in prob.targets if t.name == "dhvap")
    assert dh.floor[dh.train][0] == pytest.approx(0.05)
    # `bayesff check` describes it (one prepared file, one state, its reference)
    assert "prepared reference runs (bayesff prepare): 1 state(s)" in prob.describe()
    # the run records the file, with the prepared runs named in a comment (review,
    # 2026-11-30: the floors the runs set made Problem.replace drop the file's text)
    assert prob.source_text.startswith(path.read_text()) and prob.source_text != path.read_text()
    assert prob.fingerprint() != bare.fingerprint()  # the runs and their floors are hashed
    # a file prepared before the per-state gas averages existed gains them on attach
    old = tmp_path / "old"
    prepared.write(old, run, {k: v for k, v in arrays.items() if k not in mt.GAS_CONSTANT_KEYS},
                   {"reference": REF})  # fmt: skip
    dh_old = next(t for t in Problem.from_toml(path, prepared=old).targets if t.name == "dhvap")
    for k in mt.GAS_CONSTANT_KEYS:
        np.testing.assert_allclose(dh_old.aux[k], arrays[k], rtol=1e-12)

    stale = _problem_text(tmp_path, options={**OPTIONS, "n_steps": 4000})
    with pytest.raises(ProblemError, match=r"stale.*n_steps"):
        Problem.from_toml(stale, prepared=d)

    path = _problem_text(tmp_path)
    npz = d / f"{run.stem}.npz"
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(ProblemError, match="sha256"):
        Problem.from_toml(path, prepared=d)


def test_a_problem_built_in_python_writes_its_molecules(tmp_path):
    """A forcefield problem built from a dict (no source text) is written out with its
    molecules in full (the run file's problem text), and that text loads back to the same
    force field."""
    import tomllib

    path = _problem_text(tmp_path)
    doc = tomllib.loads(path.read_text())
    prob = Problem.from_dict(doc, path=str(path), base_dirs=(tmp_path,), prepared=False)
    text = bayesff.dump_problem(prob)
    back = tomllib.loads(text)
    assert back["potential"]["kind"] == "forcefield"
    assert back["molecules"][0]["name"] == "n-butane"
    again = Problem.from_dict(back, path="again", base_dirs=(tmp_path,), prepared=False)
    assert again.potential.topology == prob.potential.topology


def _eqn_shapes(jaxpr):
    """Every intermediate's shape in a jaxpr, sub-jaxprs (jit, vmap bodies) included."""
    out = []
    for eq in jaxpr.eqns:
        out += [tuple(getattr(v.aval, "shape", ())) for v in eq.outvars]
        for p in eq.params.values():
            for sub in p if isinstance(p, tuple | list) else (p,):
                inner = getattr(sub, "jaxpr", None)
                if inner is not None:
                    out += _eqn_shapes(getattr(inner, "jaxpr", inner))
    return out


@pytest.fixture(scope="module")
def aux37(pot):
    """Prepared arrays of 30 liquid frames and 37 gas samples (a size nothing else has)."""
    bayesff.configure()
    system, R, B, G = _frames(pot, n_liq=30, n_gas=37, seed=4)
    runs = [
        mr.ReferenceRun("liquid", R, B, T0, P0, REF),
        mr.ReferenceRun("gas", G, None, T0, 0.0, REF),
    ]
    settings = mt.parse_options(pot, OPTIONS)
    return mt.prepared_arrays(pot, settings, mr.prepare(system, runs), [(T0, P0)], [30], [37], REF)


def test_density_targets_do_not_compute_the_gas_samples(pot, aux37):
    """A density needs only the liquid frames; the gas samples (64 x thousands of isolated
    molecules in a real run) are most of the work. With 37 gas samples (a size nothing else
    has), no intermediate of the density's traced prediction has a dimension of 37, while
    Delta H_vap's has (the control)."""
    # without the per-state gas averages of a parameter-free gas (as for n-pentane)
    aux = {k: v for k, v in aux37.items() if k not in mt.GAS_CONSTANT_KEYS}
    theta = {k: jnp.asarray(v * 1.004) for k, v in REF.items()}
    for name, uses_gas in (("md_saturated_liquid_density", False),
                           ("md_enthalpy_of_vaporisation", True)):  # fmt: skip
        model = get_observable(name).build(pot, **OPTIONS)
        jaxpr = jax.make_jaxpr(lambda t, m=model: m(t, _env(), aux=aux))(theta)
        assert any(37 in s for s in _eqn_shapes(jaxpr.jaxpr)) == uses_gas, name


def test_parameter_free_gas_is_averaged_once(pot, aux37):
    """n-butane has no intramolecular pair beyond the exclusions, so its gas averages
    depend on T only: prepared_arrays stores them per state (GAS_CONSTANT_KEYS), and
    Delta H_vap's value and gradient with them equal the full reweighting of every gas
    sample (1e-10) at a point 0.4 % from the reference, while its traced program holds
    no intermediate of the gas sample count (37 here). n-pentane (a 1-5 pair) gets no
    such keys: its gas energy depends on the parameters (the control)."""
    aux = aux37
    assert all(k in aux for k in mt.GAS_CONSTANT_KEYS)
    full = {k: v for k, v in aux.items() if k not in mt.GAS_CONSTANT_KEYS}
    dh = get_observable("md_enthalpy_of_vaporisation").build(pot, **OPTIONS)
    theta = {k: jnp.asarray(v * 1.004) for k, v in REF.items()}
    va, ga = jax.value_and_grad(lambda t: dh(t, _env(), aux=aux)[0])(theta)
    vb, gb = jax.value_and_grad(lambda t: dh(t, _env(), aux=full)[0])(theta)
    assert float(va) == pytest.approx(float(vb), rel=1e-10)
    for k in theta:
        assert float(ga[k]) == pytest.approx(float(gb[k]), rel=1e-8, abs=1e-12)
    jaxpr = jax.make_jaxpr(lambda t: dh(t, _env(), aux=aux))(theta)
    assert not any(37 in s for s in _eqn_shapes(jaxpr.jaxpr))
    jaxpr = jax.make_jaxpr(lambda t: dh(t, _env(), aux=full))(theta)
    assert any(37 in s for s in _eqn_shapes(jaxpr.jaxpr))
    assert mr.gas_is_parameter_free(pot.topology.molecule("n-butane"))
    assert not mr.gas_is_parameter_free(trappe_alkane(5))
