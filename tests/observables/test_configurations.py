"""Configuration observables: dimer energy and force, configuration energies and forces."""

import jax
import numpy as np
import pytest

from bayesff.configdata import random_trimers
from bayesff.observables import get_observable
from bayesff.observables.configurations import (
    configuration_energy,
    configuration_forces,
    energies_and_forces,
)
from bayesff.potentials.pair import LENNARD_JONES


def test_pair_energy_is_the_potential_at_its_closed_form_points():
    # LJ closed form: u(sigma) = 0 and u(2^(1/6) sigma) = -epsilon exactly.
    predict = get_observable("pair_energy").build(LENNARD_JONES)
    eps, sig = 0.99607, 3.405  # kJ/mol, angstrom
    r = np.array([sig, 2 ** (1 / 6) * sig])
    got = predict({"epsilon": eps, "sigma": sig}, {"r_angstrom": r})
    np.testing.assert_allclose(got, [0.0, -eps], atol=1e-12)


def test_pair_force_is_minus_the_lj_derivative_in_closed_form():
    # LJ closed form: F(r) = 24 eps/r (2 (sigma/r)^12 - (sigma/r)^6); zero at 2^(1/6) sigma.
    predict = get_observable("pair_force").build(LENNARD_JONES)
    eps, sig = 0.99607, 3.405  # kJ/mol, angstrom
    r = np.array([3.2, 2 ** (1 / 6) * sig, 4.5, 8.0])
    want = 24 * eps / r * (2 * (sig / r) ** 12 - (sig / r) ** 6)
    got = predict({"epsilon": eps, "sigma": sig}, {"r_angstrom": r})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- configurations
LJ = {"epsilon": 0.99607, "sigma": 3.405}  # kJ/mol, angstrom (119.8 K, Michels et al. 1949)


def _cluster(n=5, seed=0):
    """n atoms on a loose random cluster, all pair distances >= 3 angstrom."""
    rng = np.random.default_rng(seed)
    x = [np.zeros(3)]
    while len(x) < n:
        y = rng.uniform(-5.0, 5.0, 3)
        if min(np.linalg.norm(y - z) for z in x) >= 3.0:
            x.append(y)
    return np.array(x)


def test_dimer_energy_is_the_pair_potential():
    # Closed form: a two-atom configuration has E = u(r) exactly.
    r = 3.9
    x = np.array([[0.1, -0.2, 0.3], [0.1, -0.2, 0.3]]) + np.array([[0, 0, 0], [0.6, 0.0, -r]])
    rr = np.linalg.norm(x[1] - x[0])
    got = configuration_energy(LENNARD_JONES, LJ, x)
    np.testing.assert_allclose(got, LENNARD_JONES.energy(rr, **LJ), rtol=1e-14)


def test_forces_are_minus_the_gradient_by_central_differences():
    # Central differences with step h = 1e-5 angstrom: truncation error ~ h^2 u''' ~ 1e-9
    # and rounding ~ 1e-16 / h ~ 1e-11, so rtol 1e-7 is safe.
    x = _cluster()
    f = np.asarray(configuration_forces(LENNARD_JONES, LJ, x))
    h = 1e-5
    fd = np.zeros_like(x)
    for i in range(x.shape[0]):
        for a in range(3):
            xp, xm = x.copy(), x.copy()
            xp[i, a] += h
            xm[i, a] -= h
            ep = float(configuration_energy(LENNARD_JONES, LJ, xp))
            em = float(configuration_energy(LENNARD_JONES, LJ, xm))
            fd[i, a] = -(ep - em) / (2 * h)
    np.testing.assert_allclose(f, fd, rtol=1e-7, atol=1e-9)


def test_newton_third_law_and_invariances():
    # Exact symmetries: sum F = 0; E invariant and F covariant under rigid motions.
    x = _cluster(6, seed=1)
    e = float(configuration_energy(LENNARD_JONES, LJ, x))
    f = np.asarray(configuration_forces(LENNARD_JONES, LJ, x))
    np.testing.assert_allclose(f.sum(axis=0), 0.0, atol=1e-12)
    q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((3, 3)))
    y = x @ q.T + np.array([10.0, -3.0, 0.5])
    np.testing.assert_allclose(configuration_energy(LENNARD_JONES, LJ, y), e, rtol=1e-12)
    np.testing.assert_allclose(configuration_forces(LENNARD_JONES, LJ, y), f @ q.T, atol=1e-12)


def test_batched_equals_single_and_is_jittable():
    xs = random_trimers(np.random.default_rng(3), 4, 3.0, 7.0)
    e, f = jax.jit(lambda p, x: energies_and_forces(LENNARD_JONES, p, x))(LJ, xs)
    for m in range(4):
        np.testing.assert_allclose(e[m], configuration_energy(LENNARD_JONES, LJ, xs[m]))
        np.testing.assert_allclose(f[m], configuration_forces(LENNARD_JONES, LJ, xs[m]))
    assert e.shape == (4,) and f.shape == (4, 3, 3)


def test_bad_shapes_are_refused_before_tracing():
    with pytest.raises(ValueError, match=r"shape \(N, 3\).*got shape \(3, 2\)"):
        configuration_energy(LENNARD_JONES, LJ, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\(M, N, 3\).*got shape \(3, 3\)"):
        energies_and_forces(LENNARD_JONES, LJ, np.zeros((3, 3)))


def test_coincident_atoms_are_not_a_silent_zero():
    x = np.zeros((2, 3))
    assert not np.isfinite(float(configuration_energy(LENNARD_JONES, LJ, x)))


# ------------------------------------------------------- cluster potentials (issue 14)
ION_SITES = {"charge_e": np.array([1.0, -1.0, 1.0]), "type": np.array([0, 1, 0])}
POL_PARAMS = {  # internal units: kJ/mol, angstrom, angstrom^3
    "s": 1.0,
    "thole_a": 0.39,
    "alpha_0": 0.2,
    "alpha_1": 3.0,
    "epsilon_0": 0.5,
    "sigma_0": 2.2,
    "epsilon_1": 0.5,
    "sigma_1": 3.8,
}


def _ion_trimers(m=5, seed=4):
    """m cation-anion-cation triangles, distances 2.3-3.5 angstrom from the anion."""
    rng = np.random.default_rng(seed)
    d1, d2 = rng.uniform(2.3, 3.5, (2, m))
    th = rng.uniform(1.3, np.pi, m)
    x = np.zeros((m, 3, 3))
    x[:, 0, 0] = d1
    x[:, 2, 0] = d2 * np.cos(th)
    x[:, 2, 1] = d2 * np.sin(th)
    return x + rng.normal(size=(m, 1, 3))


def _fixed(potential, values, free):
    """Problem parameters in internal units: all fixed except ``free`` (name -> PriorSpec)."""
    from bayesff.problem import Parameter

    units = {
        "charge": "e",
        "length": "angstrom",
        "energy": "kJ/mol",
        "polarisability": "angstrom^3",
        "dimensionless": "1",
    }
    out = {}
    for spec in potential.params:
        unit = units[spec.dimension]
        if spec.name in free:
            out[spec.name] = Parameter(spec.name, unit, free[spec.name])
        else:
            out[spec.name] = Parameter(spec.name, unit, None, values[spec.name])
    return out


def _cluster_problem(potential, values, configs, free):
    from bayesff.problem import Problem
    from bayesff.targets import configuration_targets

    targets = configuration_targets(configs, noise_E=0.1, noise_F=0.1, offset=0.0)
    return Problem("ions", potential, _fixed(potential, values, free), targets)


def _predict(problem, target, params):
    """The target's forward model at ``params`` (internal units), through the model's arrays."""
    from bayesff.model import arrays, structure_of

    st = structure_of(problem)
    t = next(t for t in st.targets if t.name == target)
    td = arrays(problem).targets[target]
    return np.asarray(t.forward.build()(params, td.env, **td.nuisance_fixed))


def test_cluster_energies_through_a_problem_equal_the_direct_energy():
    """The polarisable cluster through configuration targets equals the potential itself.

    Reference: ``energy_and_status`` of the registered ``polarisable`` potential, evaluated
    configuration by configuration (checked against closed forms in
    tests/potentials/test_electrostatics.py), and forces as minus its gradient by central
    differences (step 1e-5 angstrom: truncation ~1e-10 x |E'''|, rtol 1e-6). The problem
    path reads the site columns from the target's environment, where they are float arrays
    of shape (configurations, atoms); agreement to 1e-12 relative is round-off.
    """
    from bayesff.configdata import Configurations
    from bayesff.potentials import POLARISABLE
    from bayesff.priors import PriorSpec

    x = _ion_trimers()
    configs = Configurations.from_arrays(
        x, np.zeros(5), np.zeros_like(x), name="tri", sites=ION_SITES
    )
    prob = _cluster_problem(
        POLARISABLE, POL_PARAMS, configs, {"s": PriorSpec("Uniform", {"low": 0.5, "high": 1.5})}
    )
    e = _predict(prob, "E_tri", POL_PARAMS)
    f = _predict(prob, "F_tri", POL_PARAMS)
    for m in range(5):
        want, status = POLARISABLE.energy_and_status(x[m], ION_SITES, **POL_PARAMS)
        assert int(status) == 0
        np.testing.assert_allclose(e[m], float(want), rtol=1e-12)
    h, m = 1e-5, 2
    for i, a in ((0, 0), (1, 2), (2, 1)):
        xp, xm = x[m].copy(), x[m].copy()
        xp[i, a] += h
        xm[i, a] -= h
        ep = float(POLARISABLE.energy(xp, ION_SITES, **POL_PARAMS))
        em = float(POLARISABLE.energy(xm, ION_SITES, **POL_PARAMS))
        np.testing.assert_allclose(f[m, i, a], -(ep - em) / (2 * h), rtol=1e-6, atol=1e-6)


def test_site_columns_are_read_from_a_configuration_file(tmp_path):
    """charge_e and type columns of a configuration file become (n, N) environment arrays.

    Reference: the values written into the file; E and F are placeholders (zeros): only the
    reading is tested.
    """
    from bayesff.configdata import load_configurations
    from bayesff.targets import Target

    rows = [
        "config_id,atom,x_angstrom,y_angstrom,z_angstrom,charge_e,type,E_kJ_per_mol,"
        "Fx_kJ_per_mol_A,Fy_kJ_per_mol_A,Fz_kJ_per_mol_A"
    ]
    for c in range(2):
        for i, (q, t) in enumerate(((1, 0), (-1, 1), (1, 0))):
            rows.append(f"{c},{i},{i * 2.5},{c},0,{q},{t},-5.0,0,0,0")
    csv = tmp_path / "ions.csv"
    csv.write_text("\n".join(rows) + "\n")
    units = {
        "config_id": "1",
        "atom": "1",
        "x_angstrom": "angstrom",
        "y_angstrom": "angstrom",
        "z_angstrom": "angstrom",
        "charge_e": "e",
        "type": "1",
        "E_kJ_per_mol": "kJ/mol",
        "Fx_kJ_per_mol_A": "kJ/mol/angstrom",
        "Fy_kJ_per_mol_A": "kJ/mol/angstrom",
        "Fz_kJ_per_mol_A": "kJ/mol/angstrom",
    }
    _write_manifest(tmp_path, "ions.csv", units)
    c = load_configurations(csv)
    np.testing.assert_array_equal(c.sites["charge_e"], [[1, -1, 1], [1, -1, 1]])
    np.testing.assert_array_equal(c.sites["type"], [[0, 1, 0], [0, 1, 0]])
    t = Target.from_file("E", "configuration_energy", csv, noise_value=0.1)
    assert t.env["charge_e"].shape == (2, 3) and t.env["type"].shape == (2, 3)
    # a non-integer type is refused, naming the file, line and column
    csv.write_text(csv.read_text().replace(",1,0,-5.0", ",1,0.5,-5.0", 1))
    _write_manifest(tmp_path, "ions.csv", units)
    with pytest.raises(Exception, match=r"ions.csv, line 2, column 'type'"):
        load_configurations(csv)


def _write_manifest(folder, name, units):
    import hashlib

    sha = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    lines = "\n".join(f'{k} = "{v}"' for k, v in units.items())
    (folder / "manifest.toml").write_text(
        f'[[files]]\npath = "{name}"\nkind = "synthetic"\ntitle = "test"\nsource = "test"\n'
        f'licence = "MIT"\nscript = "tests"\nsha256 = "{sha}"\n[files.units]\n{lines}\n'
    )


def test_bad_site_data_is_a_clear_error_when_the_problem_is_built():
    """Missing site columns and out-of-range types fail before any tracing, naming the column."""
    from bayesff.configdata import Configurations
    from bayesff.errors import DataError
    from bayesff.potentials import FIXED_CHARGE
    from bayesff.priors import PriorSpec

    values = {
        "s": 1.0,
        "eps_r": 1.0,
        "epsilon_0": 0.5,
        "sigma_0": 2.2,
        "epsilon_1": 0.5,
        "sigma_1": 3.8,
    }
    free = {"s": PriorSpec("Uniform", {"low": 0.5, "high": 1.5})}
    x = _ion_trimers(2)
    bare = Configurations.from_arrays(x, np.zeros(2), np.zeros_like(x), name="tri")
    with pytest.raises(DataError, match=r"fixed_charge needs site column\(s\) charge_e, type"):
        _cluster_problem(FIXED_CHARGE, values, bare, free)
    bad = {"charge_e": ION_SITES["charge_e"], "type": np.array([0, 2, 0])}
    c = Configurations.from_arrays(x, np.zeros(2), np.zeros_like(x), name="tri", sites=bad)
    with pytest.raises(DataError, match=r"'type' must be in 0 \.\. 1 .*got \[0, 2\]") as e:
        _cluster_problem(FIXED_CHARGE, values, c, free)
    # the message names the problem and the target (it named neither: input audit)
    assert e.value.where.startswith("problem ") and "target " in e.value.where


def test_coincident_sites_are_refused_when_the_problem_is_built():
    """Two atoms at one position (a duplicated line) make every pair energy infinite, so
    every draw was rejected after compiling, with advice about the Laplace start (input
    audit, 2026-11-28): now a DataError naming the configuration row and the sites, for a
    pair potential as for a cluster one. Distinct sites pass."""
    from bayesff.configdata import Configurations
    from bayesff.errors import DataError
    from bayesff.priors import PriorSpec

    x = _ion_trimers(2)
    x[1, 2] = x[1, 0]
    c = Configurations.from_arrays(x, np.zeros(2), np.zeros_like(x), name="tri")
    free = {"epsilon": PriorSpec("LogNormal", {"median": 1.0, "scale": 0.3})}
    with pytest.raises(DataError, match=r"configuration row 1: sites 0 and 2 coincide") as e:
        _cluster_problem(LENNARD_JONES, {"sigma": 3.4}, c, free)
    assert "target " in e.value.where
    ok = Configurations.from_arrays(_ion_trimers(2), np.zeros(2), np.zeros_like(x), name="tri")
    _cluster_problem(LENNARD_JONES, {"sigma": 3.4}, ok, free)


def test_site_columns_a_pair_potential_would_ignore_are_refused():
    """An ion trimer file (charges +1, -1, +1; types 0, 1, 0) fitted with one LJ pair
    potential: the charges and types were read and ignored without a word (audit,
    2026-11-27). Now a DataError naming the column, the potential and the target; a file
    whose charges are all zero and whose atoms are of one type says nothing the pair
    potential does not assume, and builds."""
    from bayesff.configdata import Configurations
    from bayesff.errors import DataError
    from bayesff.priors import PriorSpec

    x = _ion_trimers(2)
    free = {"epsilon": PriorSpec("LogNormal", {"median": 1.0, "scale": 0.3})}
    neutral = {"charge_e": np.zeros(3), "type": np.array([0, 1, 0])}
    for sites, says in ((ION_SITES, "column 'charge_e': configuration row 0 carries nonzero"),
                        (neutral, r"column 'type': .*several types \(0, 1\)")):  # fmt: skip
        c = Configurations.from_arrays(x, np.zeros(2), np.zeros_like(x), name="tri", sites=sites)
        with pytest.raises(DataError, match=says) as e:
            _cluster_problem(LENNARD_JONES, {"sigma": 3.4}, c, free)
        assert "'lennard_jones'" in str(e.value) and "target " in e.value.where
    plain = {"charge_e": np.zeros(3), "type": np.zeros(3, int)}
    c = Configurations.from_arrays(x, np.zeros(2), np.zeros_like(x), name="tri", sites=plain)
    _cluster_problem(LENNARD_JONES, {"sigma": 3.4}, c, free)


def test_forces_that_are_energy_gradients_are_refused():
    """Reference forces written as energy gradients dE/dx (= -F, as several
    electronic-structure codes print them) were fitted as forces: the posterior then
    explains the sign by an absurd potential. Reference: the LJ forces at the true
    parameters (LJ: epsilon 0.996 kJ/mol, sigma 3.405 angstrom; -dE/dx, checked against
    central differences above). At a prior centre 9 % off in sigma their cosine with the model's
    is near 1, the negated file's near -1 (below -0.5): a DataError naming the target and
    saying what to do; the forces themselves build."""
    from bayesff.configdata import Configurations
    from bayesff.errors import DataError
    from bayesff.priors import PriorSpec

    x = _ion_trimers(4)
    e, f = (np.asarray(a) for a in energies_and_forces(LENNARD_JONES, LJ, x))
    free = {"sigma": PriorSpec("LogNormal", {"median": 3.1, "scale": 0.1})}
    gradients = Configurations.from_arrays(x, e, -f, name="tri")
    with pytest.raises(DataError, match=r"point against the model's .* energy gradients") as err:
        _cluster_problem(LENNARD_JONES, {"epsilon": 1.0}, gradients, free)
    assert "target " in err.value.where and "F_tri" in err.value.where
    forces = Configurations.from_arrays(x, e, f, name="tri")
    _cluster_problem(LENNARD_JONES, {"epsilon": 1.0}, forces, free)


def test_polarisation_catastrophe_is_an_error_at_check_and_minus_inf_in_the_model():
    """Undamped point dipoles closer than (4 alpha_0 alpha_1)^(1/6) are at the catastrophe.

    Reference: the closed form of the two-ion axial problem (the 2 x 2 system is singular at
    r^6 = 4 alpha_0 alpha_1; tests/potentials/test_electrostatics.py). A pair at 1.2
    angstrom is past it for alpha_0 alpha_1 >= 1.2^6 / 4 = 0.746 angstrom^6, i.e. alpha_1 >=
    3.73 with alpha_0 = 0.2. At the centre of the priors (alpha_1 = 4) building the problem
    fails with an error naming the configuration row and the sites; with the centre below
    the limit the problem builds, and the model's log density is -inf where alpha_1 puts a
    configuration past it (a rejected proposal) and finite where it does not.
    """
    from numpyro.infer.util import log_density

    from bayesff.configdata import Configurations
    from bayesff.model import arrays, model_of, structure_of
    from bayesff.potentials import ClusterEnergyError, polarisable_cluster
    from bayesff.priors import PriorSpec

    undamped = polarisable_cluster(2, damping=False, name="polarisable_undamped_test")
    x = np.array([[[0.0, 0.0, 0.0], [1.2, 0.0, 0.0]], [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]]])
    sites = {"charge_e": np.array([1.0, -1.0]), "type": np.array([0, 1])}
    c = Configurations.from_arrays(x, np.zeros(2), np.zeros_like(x), name="pair", sites=sites)
    values = {k: v for k, v in POL_PARAMS.items() if k != "thole_a"}
    wide = {"alpha_1": PriorSpec("Uniform", {"low": 0.0, "high": 8.0})}  # centre 4: past it
    with pytest.raises(ClusterEnergyError, match=r"configuration row 0 .*sites 0 and 1"):
        _cluster_problem(undamped, values, c, wide)
    low = {"alpha_1": PriorSpec("Uniform", {"low": 0.0, "high": 4.0})}  # centre 2: fine
    prob = _cluster_problem(undamped, values, c, low)
    model, data = model_of(structure_of(prob)), arrays(prob)
    lp_ok, _ = log_density(model, (data,), {}, {"alpha_1": 1.0})
    lp_bad, _ = log_density(model, (data,), {}, {"alpha_1": 3.9})  # 0.2 * 3.9 > 0.746
    assert np.isfinite(float(lp_ok))
    assert float(lp_bad) == -np.inf


# ------------------------------------------------- solvent environments (issue 14)
KE = 1.602176634e-19**2 * 6.02214076e23 / (4 * np.pi * 8.8541878128e-12) / 1e-10 / 1e3


def test_solvated_pair_energy_conventions_against_coulombs_law():
    """The three conventions on LJ + Coulomb, against Coulomb's law typed in here.

    Reference: k_e = e^2 N_A / (4 pi eps0) from CODATA 2018 values (1389.35457 kJ mol^-1
    angstrom e^-2) and u = 4 eps ((sigma/r)^12 - (sigma/r)^6) + k_e s'^2 q_i q_j / (eps' r)
    with (s', eps') = (s, eps_r of the parameters) for "effective", (s, eps_r of the
    solvent) for "static" and (s / n, eps_r / n^2) for "ecc" (Leontyev and Stuchebrukhov
    2011), which for a uniform dielectric is the same energy as "static" (the n^2 cancels).
    Agreement to 1e-12 relative is round-off.
    """
    from bayesff.potentials import LJ_COULOMB

    obs = get_observable("solvated_pair_energy")
    p = {"epsilon": 0.3, "sigma": 3.5, "q_i": 1.0, "q_j": -1.0, "s": 0.9, "eps_r": 20.0}
    env = {
        "r_angstrom": np.array([3.0, 5.0, 9.0, 3.0]),
        "eps_r": np.array([78.4, 78.4, 78.4, 1.89]),
        "n_refractive": np.array([1.333, 1.333, 1.333, 1.3748]),
    }
    r = env["r_angstrom"]
    lj = 4 * 0.3 * ((3.5 / r) ** 12 - (3.5 / r) ** 6)
    want = {
        "effective": lj - KE * 0.81 / (20.0 * r),
        "static": lj - KE * 0.81 / (env["eps_r"] * r),
        "ecc": lj - KE * 0.81 / (env["eps_r"] * r),
    }
    for convention, w in want.items():
        got = obs.build(LJ_COULOMB, convention=convention)(p, env)
        np.testing.assert_allclose(got, w, rtol=1e-12)


def test_ecc_screening_is_electronic_only_in_a_nonpolar_solvent():
    """Under ECC with the sigmoid's A = 1, a solvent with eps_r = n^2 screens by n^2 at all r.

    Reference: Mehler-Solmajer eps(r) = A + (eps_s - A)/(1 + k exp(-lambda (eps_s - A) r))
    is identically 1 for A = eps_s = 1 whatever k and lambda, so W = LJ + k_e q_i q_j /
    (n^2 r) (Coulomb's law with the electronic permittivity); under "static" the same
    parameters with eps_s = 1.89 and the published A = -8.5525 give eps(r) < 0 at short
    range (the water-fitted sigmoid's failure in a non-polar solvent).
    """
    from bayesff.observables.configurations import solvent_parameters
    from bayesff.potentials import LJ_SCREENED_COULOMB
    from bayesff.potentials.electrostatics import mehler_solmajer_permittivity

    obs = get_observable("solvated_pair_energy")
    n = np.sqrt(1.89)
    p = {
        "epsilon": 0.3,
        "sigma": 3.5,
        "q_i": 1.0,
        "q_j": -1.0,
        "s": 1.0,
        "eps_s": 44.0,
        "ms_a": 1.0,
        "ms_k": 137.0,
        "ms_lambda": 0.02,
    }
    r = np.array([2.5, 3.0, 6.0, 12.0])
    env = {"r_angstrom": r, "eps_r": np.full(4, 1.89), "n_refractive": np.full(4, n)}
    lj = 4 * 0.3 * ((3.5 / r) ** 12 - (3.5 / r) ** 6)
    got = obs.build(LJ_SCREENED_COULOMB, convention="ecc")(p, env)
    np.testing.assert_allclose(got, lj - KE / (1.89 * r), rtol=1e-12)
    q = solvent_parameters(
        LJ_SCREENED_COULOMB,
        {**p, "ms_a": -8.5525, "ms_k": 7.7839, "ms_lambda": 0.003627},
        1.89,
        n,
        "static",
    )
    eps = mehler_solmajer_permittivity(r, q["eps_s"], q["ms_a"], q["ms_k"], q["ms_lambda"])
    assert np.all(np.asarray(eps) < 0)


def test_solvent_target_checks_are_clear():
    """A potential without a permittivity, or an unknown convention, fails when checked."""
    from bayesff.errors import ProblemError
    from bayesff.observables.configurations import permittivity_parameter
    from bayesff.potentials import LENNARD_JONES, LJ_COULOMB

    obs = get_observable("solvated_pair_energy")
    env = {"r_angstrom": np.ones(2), "eps_r": np.array([78.4, 0.5]), "n_refractive": np.ones(2)}
    with pytest.raises(ProblemError, match="lennard_jones has no permittivity parameter"):
        permittivity_parameter(LENNARD_JONES)
    with pytest.raises(ProblemError, match="convention must be one of effective, static, ecc"):
        obs.error_floor(LJ_COULOMB, {}, env, np.zeros(2), {"convention": "vacuum"})
    with pytest.raises(ProblemError, match=r"eps_r must be >= 1 .*found 0\.5"):
        obs.error_floor(LJ_COULOMB, {}, env, np.zeros(2), {})
