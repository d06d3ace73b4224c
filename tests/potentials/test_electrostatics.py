"""Coulomb, screening and the polarisable cluster model against closed forms.

References, each recomputed in the test that uses it:

* Coulomb's law with k_e = e^2 N_A / (4 pi eps0) from CODATA 2018 values
  typed in here (1389.35457 kJ mol^-1 angstrom e^-2).
* Two polarisable ions on an axis: the 2 x 2 problem in closed form. With
  fields E_1 = -q_2 lambda3 / r^2, E_2 = q_1 lambda3 / r^2 along the axis
  (from 1 towards 2) and the axial dipole coupling t = (3 lambda5 - lambda3) / r^3,
  mu_1 = alpha_1 (E_1 + t mu_2), mu_2 = alpha_2 (E_2 + t mu_1), so
  mu_1 = alpha_1 (E_1 + t alpha_2 E_2) / (1 - t^2 alpha_1 alpha_2) and
  E_ind = -(k_e / 2)(mu_1 E_1 + mu_2 E_2); undamped lambda = 1, t = 2 / r^3,
  catastrophe at r^6 = 4 alpha_1 alpha_2.
* Larger clusters: the self-consistency equations themselves, with the
  dipole tensor built site pair by site pair in a NumPy loop (not the
  module's vectorised construction), and the invariance of the energy under
  rotations and translations.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.spatial.transform import Rotation

from bayesff.errors import DataError
from bayesff.potentials import LENNARD_JONES, get_potential
from bayesff.potentials.cluster import (
    STATUS_OK,
    STATUS_POLARISATION_CATASTROPHE,
    ClusterEnergyError,
    check_energy,
    check_sites,
    cluster_from_pair,
    energies_and_forces,
    forces,
)
from bayesff.potentials.electrostatics import (
    COULOMB,
    DEBYE_HUCKEL,
    LJ_COULOMB,
    MEHLER_SOLMAJER_WATER,
    SCREENED_COULOMB,
    ecc_scaling,
    fixed_charge_cluster,
    mehler_solmajer_permittivity,
)
from bayesff.potentials.polarisable import (
    POLARISABLE,
    induced_dipoles,
    polarisable_cluster,
    thole_factors,
)
from bayesff.units import factor

E_C = 1.602176634e-19
EPS0 = 8.8541878128e-12
N_A = 6.02214076e23
KE = E_C**2 * N_A / (4 * math.pi * EPS0) / 1e-10 / 1e3

UNDAMPED = polarisable_cluster(2, damping=False)
ION_PARAMS = {
    "s": 1.0,
    "alpha_0": 0.4,  # a small cation
    "alpha_1": 3.5,  # a large anion
    "epsilon_0": 0.3,
    "epsilon_1": 0.5,
    "sigma_0": 2.4,
    "sigma_1": 4.0,
}
ION_SITES = {"charge_e": np.array([1.0, -1.0]), "type": np.array([0, 1])}


def _axis(r, direction=(0.0, 0.0, 1.0)):
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    return jnp.asarray(np.stack([np.zeros(3), r * d]))


def _lj(r, eps, sig):
    s6 = (sig / r) ** 6
    return 4 * eps * (s6 * s6 - s6)


def _two_ion_closed_form(r, a1, a2, q1, q2, lam3=1.0, lam5=1.0):
    e1, e2 = -q2 * lam3 / r**2, q1 * lam3 / r**2
    t = (3 * lam5 - lam3) / r**3
    den = 1.0 - t * t * a1 * a2
    mu1 = a1 * (e1 + t * a2 * e2) / den
    mu2 = a2 * (e2 + t * a1 * e1) / den
    return mu1, mu2, -0.5 * KE * (mu1 * e1 + mu2 * e2)


# ------------------------------------------------------------ fixed charges


def test_two_ions_in_vacuum():
    """u = -k_e / r for +1 and -1 e in vacuum, k_e = 1389.35457 (CODATA 2018; rtol 1e-12)."""
    r = np.array([2.0, 2.8, 5.0, 10.0])
    got = COULOMB.energy(r, q_i=1.0, q_j=-1.0, s=1.0, eps_r=1.0)
    np.testing.assert_allclose(got, -KE / r, rtol=1e-12)
    np.testing.assert_allclose(got * r, -1389.35457, atol=1e-5)  # the 9 digits quoted
    cl = fixed_charge_cluster(1)
    e = cl.energy(_axis(2.8), {"charge_e": [1.0, -1.0], "type": [0, 0]},
                  s=1.0, eps_r=1.0, epsilon_0=0.0, sigma_0=3.0)  # fmt: skip
    assert float(e) == pytest.approx(-KE / 2.8, rel=1e-12)


def test_scaling_permittivity_and_ecc():
    """Energy ~ s^2 / eps_r; ECC's s = 1/sqrt(eps_el) equals screening by eps_el."""
    r = 3.1
    base = COULOMB.energy(r, q_i=1.0, q_j=1.0, s=1.0, eps_r=1.0)
    assert COULOMB.energy(r, q_i=1.0, q_j=1.0, s=0.8, eps_r=2.5) == pytest.approx(
        base * 0.64 / 2.5, rel=1e-14
    )
    s = float(ecc_scaling(1.78))
    assert s == pytest.approx(0.7495316, rel=1e-6)
    assert COULOMB.energy(r, q_i=1.0, q_j=-1.0, s=s, eps_r=1.0) == pytest.approx(
        COULOMB.energy(r, q_i=1.0, q_j=-1.0, s=1.0, eps_r=1.78), rel=1e-14
    )
    with pytest.raises(ValueError, match="eps_el must be >= 1"):
        ecc_scaling(0.5)


def test_mehler_solmajer_limits():
    """eps(0) = A + B/(1 + k) (1.3466 for water), eps -> eps_s at large r, monotonic rise."""
    p = MEHLER_SOLMAJER_WATER
    a, k, eps_s = p["ms_a"], p["ms_k"], p["eps_s"]
    assert float(mehler_solmajer_permittivity(0.0, **p)) == pytest.approx(
        a + (eps_s - a) / (1 + k), rel=1e-14
    )
    assert float(mehler_solmajer_permittivity(0.0, **p)) == pytest.approx(1.3466, abs=1e-4)
    r = np.linspace(0.0, 60.0, 121)
    eps = np.asarray(mehler_solmajer_permittivity(r, **p))
    assert np.all(np.diff(eps) > 0)
    assert eps[-1] == pytest.approx(eps_s, rel=1e-4)
    # the screened Coulomb energy tends to Coulomb in the bulk dielectric
    u = SCREENED_COULOMB.energy(60.0, q_i=1.0, q_j=-1.0, s=1.0, **p)
    assert float(u) == pytest.approx(-KE / (eps_s * 60.0), rel=1e-4)


def test_debye_huckel():
    """u = Coulomb x exp(-r / lambda_D); tends to Coulomb as lambda_D -> inf."""
    r = np.array([3.0, 7.0, 15.0])
    c = COULOMB.energy(r, q_i=1.0, q_j=-1.0, s=0.9, eps_r=78.4)
    dh = DEBYE_HUCKEL.energy(r, q_i=1.0, q_j=-1.0, s=0.9, eps_r=78.4, debye_length=9.6)
    np.testing.assert_allclose(dh, c * np.exp(-r / 9.6), rtol=1e-14)
    far = DEBYE_HUCKEL.energy(r, q_i=1.0, q_j=-1.0, s=0.9, eps_r=78.4, debye_length=1e12)
    np.testing.assert_allclose(far, c, rtol=1e-10)


def test_lj_composition_and_pair_sum_cluster():
    """lj_coulomb = LJ + Coulomb; a pair-summed cluster equals a direct double loop."""
    r = np.linspace(2.5, 8.0, 5)
    p = {"epsilon": 0.4, "sigma": 3.0, "q_i": 1.0, "q_j": -1.0, "s": 0.85, "eps_r": 1.0}
    np.testing.assert_allclose(
        LJ_COULOMB.energy(r, **p),
        LENNARD_JONES.energy(r, epsilon=0.4, sigma=3.0) + COULOMB.energy(r, 1.0, -1.0, 0.85, 1.0),
        rtol=1e-14,
    )
    cl = cluster_from_pair(LJ_COULOMB, {"q_i": ("charge_e", "i"), "q_j": ("charge_e", "j")})
    assert cl.kind == "cluster" and cl.site_column_names == ("charge_e",)
    assert [s.name for s in cl.params] == ["epsilon", "sigma", "s", "eps_r"]
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 6, (5, 3))
    q = np.array([1.0, -1.0, 1.0, -1.0, 0.5])
    ref = sum(
        _lj(np.linalg.norm(x[i] - x[j]), 0.4, 3.0)
        + KE * 0.85**2 * q[i] * q[j] / np.linalg.norm(x[i] - x[j])
        for i in range(5)
        for j in range(i + 1, 5)
    )
    e, status = cl.energy_and_status(jnp.asarray(x), {"charge_e": q}, epsilon=0.4, sigma=3.0,
                                     s=0.85, eps_r=1.0)  # fmt: skip
    assert int(status) == STATUS_OK
    assert float(e) == pytest.approx(ref, rel=1e-12)


def test_fixed_charge_cluster_lorentz_berthelot():
    """Two types: LJ with eps_ij = sqrt(eps_i eps_j), sigma_ij = mean, plus scaled Coulomb."""
    cl = fixed_charge_cluster(2)
    x = jnp.asarray([[0.0, 0.0, 0.0], [2.9, 0.0, 0.0], [0.0, 3.3, 0.0]])
    sites = {"charge_e": np.array([1.0, -1.0, 1.0]), "type": np.array([0, 1, 0])}
    p = {"s": 0.8, "eps_r": 1.0, "epsilon_0": 0.2, "sigma_0": 2.5, "epsilon_1": 0.6,
         "sigma_1": 4.1}  # fmt: skip
    xs = np.asarray(x)
    ref = 0.0
    for i in range(3):
        for j in range(i + 1, 3):
            ti, tj = sites["type"][i], sites["type"][j]
            eps = math.sqrt(p[f"epsilon_{ti}"] * p[f"epsilon_{tj}"])
            sig = 0.5 * (p[f"sigma_{ti}"] + p[f"sigma_{tj}"])
            r = np.linalg.norm(xs[i] - xs[j])
            ref += _lj(r, eps, sig) + KE * 0.64 * sites["charge_e"][i] * sites["charge_e"][j] / r
    assert float(cl.energy(x, sites, **p)) == pytest.approx(ref, rel=1e-12)
    ms = fixed_charge_cluster(2, "mehler_solmajer")
    assert {"eps_s", "ms_a", "ms_k", "ms_lambda"} <= set(ms.param_names)
    dh = fixed_charge_cluster(2, "debye_huckel")
    assert "debye_length" in dh.param_names
    with pytest.raises(ValueError, match="screening must be one of"):
        fixed_charge_cluster(2, "yukawa")


# -------------------------------------------------------------- polarisation


@pytest.mark.parametrize("r", [2.6, 3.5, 6.0])
def test_two_ions_induced_dipoles_closed_form(r):
    """Undamped +1/-1 ions: dipoles and induction energy = the 2 x 2 axial closed form (1e-12).

    The pair is placed along a tilted axis so the check also covers the
    rotation of the axial problem into Cartesian components.
    """
    a1, a2 = ION_PARAMS["alpha_0"], ION_PARAMS["alpha_1"]
    direction = np.array([1.0, -2.0, 0.5])
    x = _axis(r, direction)
    mu1, mu2, e_ind = _two_ion_closed_form(r, a1, a2, 1.0, -1.0)
    mu, status = induced_dipoles(UNDAMPED, x, ION_SITES, **ION_PARAMS)
    assert int(status) == STATUS_OK
    d = direction / np.linalg.norm(direction)
    np.testing.assert_allclose(
        np.asarray(mu), np.stack([mu1 * d, mu2 * d]), rtol=1e-12, atol=1e-15
    )
    eps01 = math.sqrt(ION_PARAMS["epsilon_0"] * ION_PARAMS["epsilon_1"])
    sig01 = 0.5 * (ION_PARAMS["sigma_0"] + ION_PARAMS["sigma_1"])
    ref = _lj(r, eps01, sig01) - KE / r + e_ind
    e, status = UNDAMPED.energy_and_status(x, ION_SITES, **ION_PARAMS)
    assert int(status) == STATUS_OK
    assert float(e) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("r", [1.5, 2.5, 4.0])
def test_two_ions_thole_damped_closed_form(r):
    """Thole-damped pair: the same 2 x 2 closed form with lambda3, lambda5 (rtol 1e-12)."""
    a1, a2, a = ION_PARAMS["alpha_0"], ION_PARAMS["alpha_1"], 0.39
    au3 = a * r**3 / math.sqrt(a1 * a2)
    lam3 = 1 - math.exp(-au3)
    lam5 = 1 - (1 + au3) * math.exp(-au3)
    mu1, mu2, e_ind = _two_ion_closed_form(r, a1, a2, 1.0, -1.0, lam3, lam5)
    p = {**ION_PARAMS, "thole_a": a, "epsilon_0": 0.0, "epsilon_1": 0.0}
    e, status = POLARISABLE.energy_and_status(_axis(r), ION_SITES, **p)
    assert int(status) == STATUS_OK
    assert float(e) == pytest.approx(-KE / r + e_ind, rel=1e-12)
    mu, _ = induced_dipoles(POLARISABLE, _axis(r), ION_SITES, **p)
    np.testing.assert_allclose(np.asarray(mu)[:, 2], [mu1, mu2], rtol=1e-12)
    l3, l5 = thole_factors(jnp.asarray(r), a1, a2, a)
    assert (float(l3), float(l5)) == pytest.approx((lam3, lam5), rel=1e-14)


def test_thole_damping_tends_to_undamped():
    """|E_ind(damped) / E_ind(undamped) - 1| falls like exp(-a r^3 / sqrt(a1 a2)) with r.

    Relative differences at r = 3, 4, 5, 8 angstrom: each at most 3 x the damping factor
    exp(-a u^3) (the field and the coupling both carry it), and below 1e-13 at 8 angstrom.
    """
    a1, a2, a = ION_PARAMS["alpha_0"], ION_PARAMS["alpha_1"], 0.39
    p0 = {**ION_PARAMS, "epsilon_0": 0.0, "epsilon_1": 0.0}
    for r in (3.0, 4.0, 5.0, 8.0):
        coul = -KE / r
        e_d = float(POLARISABLE.energy(_axis(r), ION_SITES, thole_a=a, **p0)) - coul
        e_u = float(UNDAMPED.energy(_axis(r), ION_SITES, **p0)) - coul
        damp = math.exp(-a * r**3 / math.sqrt(a1 * a2))
        assert abs(e_d / e_u - 1) <= 3 * damp + 1e-14
    assert abs(e_d / e_u - 1) < 1e-13


def test_polarisation_catastrophe_detected():
    """Undamped ions closer than (4 a1 a2)^(1/6) = 1.333 angstrom: status 1, NaN, a clear error.

    Just outside the limit the status is OK; with Thole damping the same
    close pair is fine (damping removes the catastrophe at this distance).
    """
    limit = (4 * ION_PARAMS["alpha_0"] * ION_PARAMS["alpha_1"]) ** (1 / 6)
    e, status = UNDAMPED.energy_and_status(_axis(0.98 * limit), ION_SITES, **ION_PARAMS)
    assert int(status) == STATUS_POLARISATION_CATASTROPHE and np.isnan(float(e))
    _, status = UNDAMPED.energy_and_status(_axis(1.02 * limit), ION_SITES, **ION_PARAMS)
    assert int(status) == STATUS_OK
    _, status = POLARISABLE.energy_and_status(
        _axis(0.98 * limit), ION_SITES, thole_a=0.39, **ION_PARAMS
    )
    assert int(status) == STATUS_OK
    with pytest.raises(
        ClusterEnergyError, match=r"sites 0 and 1 are 1\.306 angstrom apart"
    ) as err:
        check_energy(UNDAMPED, ION_PARAMS, _axis(0.98 * limit), ION_SITES)
    assert set(err.value.sites) == {0, 1}
    assert "alpha_1=3.5" in str(err.value)
    # under jit and vmap the status is a value
    rs = jnp.array([0.9, 1.1, 1.5, 3.0]) * limit
    xs = jax.vmap(lambda r: jnp.stack([jnp.zeros(3), jnp.array([0.0, 0.0, 1.0]) * r]))(rs)
    _, _, st = jax.jit(lambda x: energies_and_forces(UNDAMPED, ION_PARAMS, x, ION_SITES))(xs)
    np.testing.assert_array_equal(st, [1, 0, 0, 0])


def test_polarisation_catastrophe_message_is_deterministic():
    """The two sites named in the catastrophe message come in index order, whatever order.

    The weights of a symmetric pair in the lowest eigenvector are equal, and which of
    the two LAPACK lists first differs between machines (issue 28: "sites 1 and 0" on
    one CPU, "sites 0 and 1" on another). With the sites given in the other order, the
    message still names the lower index first, and names the same distance.
    """
    limit = (4 * ION_PARAMS["alpha_0"] * ION_PARAMS["alpha_1"]) ** (1 / 6)
    x = _axis(0.98 * limit)
    swapped_sites = {"charge_e": ION_SITES["charge_e"][::-1], "type": ION_SITES["type"][::-1]}
    for positions, sites in ((x, ION_SITES), (x[::-1], swapped_sites)):
        with pytest.raises(ClusterEnergyError, match=r"sites 0 and 1 are 1\.306 angstrom"):
            check_energy(UNDAMPED, ION_PARAMS, positions, sites)


def _cluster(n=6, seed=0):
    rng = np.random.default_rng(seed)
    grid = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], float)
    x = 2.9 * grid[:n] + rng.normal(scale=0.15, size=(n, 3))
    q = np.array([1.0, -1.0] * (n // 2))[:n]
    return x, {"charge_e": q, "type": (q < 0).astype(int)}


def _numpy_self_consistency_residual(x, sites, mu, p):
    """max |mu_i - alpha_i (E0_i + sum_j T_ij mu_j)| with T built pair by pair (Thole)."""
    n = len(x)
    alpha = np.array([p[f"alpha_{t}"] for t in sites["type"]])
    q = p["s"] * np.asarray(sites["charge_e"])
    res = 0.0
    for i in range(n):
        field = np.zeros(3)
        for j in range(n):
            if i == j:
                continue
            rv = x[i] - x[j]
            r = np.linalg.norm(rv)
            au3 = p["thole_a"] * r**3 / math.sqrt(alpha[i] * alpha[j])
            l3 = 1 - math.exp(-au3)
            l5 = 1 - (1 + au3) * math.exp(-au3)
            field += q[j] * l3 * rv / r**3
            field += (3 * l5 * np.outer(rv, rv) / r**5 - l3 * np.eye(3) / r**3) @ mu[j]
        res = max(res, np.max(np.abs(mu[i] - alpha[i] * field)))
    return res


def test_induced_dipoles_solve_the_self_consistent_equations():
    """Six ions: the returned dipoles satisfy mu_i = alpha_i (E0_i + sum T_ij mu_j) to 1e-12."""
    x, sites = _cluster(6)
    p = {**ION_PARAMS, "thole_a": 0.39, "s": 0.9}
    mu, status = induced_dipoles(POLARISABLE, jnp.asarray(x), sites, **p)
    assert int(status) == STATUS_OK
    mu = np.asarray(mu)
    assert np.max(np.abs(mu)) > 0.01  # non-trivial
    assert _numpy_self_consistency_residual(x, sites, mu, p) < 1e-12


@pytest.mark.parametrize("model", ["polarisable", "fixed_charge"])
def test_cluster_energy_invariant_under_rotation_and_translation(model):
    """E(R x + t) = E(x) (rtol 1e-12), F(R x + t) = R F(x), and the forces sum to zero."""
    x, sites = _cluster(6, seed=3)
    if model == "polarisable":
        pot, p = POLARISABLE, {**ION_PARAMS, "thole_a": 0.39, "s": 0.9}
    else:
        pot = get_potential("fixed_charge")
        p = {k: v for k, v in ION_PARAMS.items() if not k.startswith("alpha")}
        p.update(s=0.9, eps_r=1.0)
    e0 = float(pot.energy(jnp.asarray(x), sites, **p))
    f0 = np.asarray(forces(pot, p, x, sites))
    np.testing.assert_allclose(f0.sum(axis=0), 0.0, atol=1e-9 * np.abs(f0).max())
    rng = np.random.default_rng(11)
    for _ in range(3):
        rot = Rotation.random(random_state=rng)
        y = rot.apply(x) + rng.normal(scale=5.0, size=3)
        assert float(pot.energy(jnp.asarray(y), sites, **p)) == pytest.approx(e0, rel=1e-12)
        np.testing.assert_allclose(
            np.asarray(forces(pot, p, y, sites)), rot.apply(f0), rtol=1e-9, atol=1e-9
        )


@pytest.mark.slow
def test_gradients_central_differences():
    """check_grads (fwd and rev, order 1) of the polarisable energy in every parameter and
    in the positions (the derivative through the linear solve is exact)."""
    x, sites = _cluster(4, seed=5)
    names = ("s", "thole_a", "alpha_0", "alpha_1", "epsilon_0", "epsilon_1", "sigma_0", "sigma_1")
    p = {**ION_PARAMS, "thole_a": 0.39, "s": 0.9}

    def f(x, *vals):
        return POLARISABLE.energy_and_status(x, sites, **dict(zip(names, vals, strict=True)))[0]

    args = (jnp.asarray(x), *(p[k] for k in names))
    check_grads(f, args, order=1, modes=["rev"], eps=1e-5)
    # forward mode through the solve, in the parameters only (positions as a constant)
    check_grads(lambda *v: f(args[0], *v), args[1:], order=1, modes=["fwd"], eps=1e-5)


def test_batch_energies_and_forces_match_single():
    """energies_and_forces over a batch (vmap) equals one-by-one evaluation; so does a vmap
    over parameter draws."""
    xs = np.stack([_cluster(4, seed=s)[0] for s in range(3)])
    _, sites = _cluster(4)
    p = {**ION_PARAMS, "thole_a": 0.39}
    e, f, st = jax.jit(lambda x: energies_and_forces(POLARISABLE, p, x, sites))(xs)
    for m in range(3):
        assert float(e[m]) == pytest.approx(
            float(POLARISABLE.energy(xs[m], sites, **p)), rel=1e-13
        )
        np.testing.assert_allclose(f[m], forces(POLARISABLE, p, xs[m], sites), rtol=1e-12)
    np.testing.assert_array_equal(st, 0)
    # and over parameter draws (s and alpha_1 batched, the rest shared)
    draws = {"s": jnp.array([0.8, 0.9, 1.0]), "alpha_1": jnp.array([2.0, 3.0, 4.0])}

    def one(d):
        return POLARISABLE.energy_and_status(xs[0], sites, **{**p, **d})

    e_draws, st_draws = jax.jit(jax.vmap(one))(draws)
    for k in range(3):
        single = POLARISABLE.energy(xs[0], sites, **{**p, "s": draws["s"][k],
                                                    "alpha_1": draws["alpha_1"][k]})  # fmt: skip
        assert float(e_draws[k]) == pytest.approx(float(single), rel=1e-13)
    np.testing.assert_array_equal(st_draws, 0)


def test_site_data_errors_are_clear():
    """Missing columns, wrong lengths and types out of range are DataErrors naming the column."""
    x, sites = _cluster(4)
    with pytest.raises(DataError, match="needs site column"):
        check_sites(POLARISABLE, x, {"charge_e": sites["charge_e"]})
    with pytest.raises(DataError, match="one value per site"):
        check_sites(POLARISABLE, x, {**sites, "type": np.array([0, 1])})
    with pytest.raises(DataError, match=r"must be in 0 \.\. 1"):
        check_sites(POLARISABLE, x, {**sites, "type": np.array([0, 1, 2, 0])})
    with pytest.raises(DataError, match="shape"):
        check_sites(POLARISABLE, x[:, :2], sites)


@pytest.mark.parametrize(
    "name",
    ["coulomb", "screened_coulomb", "debye_huckel", "lj_coulomb", "lj_screened_coulomb",
     "lj_debye_huckel", "fixed_charge", "polarisable"],
)  # fmt: skip
def test_registered_priors_inside_support(name):
    """Every registered electrostatic potential: known units, default priors inside supports."""
    pot = get_potential(name)
    assert pot.kind in ("pair", "cluster")
    for spec in pot.params:
        spec.default_prior.scaled(factor(spec.prior_unit, spec.dimension)).check_within(
            spec.support
        )
    if pot.kind == "cluster":
        assert pot.site_column_names == ("charge_e", "type") and pot.n_types == 2


def test_b2_of_charged_pairs_is_nan_not_a_wrong_number():
    """B2 of a net-charged pair diverges: the quadrature returns NaN, never a finite number.

    Neutral LJ + Coulomb (a zero charge) is plain LJ (rtol 1e-14 against virial.py's LJ
    B2); Debye-Hueckel screening makes the charged B2 finite (an exponentially decaying tail).
    """
    from bayesff.observables.virial import second_virial
    from bayesff.potentials.electrostatics import LJ_DEBYE_HUCKEL

    lj = {"epsilon": 1.0, "sigma": 3.0}
    el = {"s": 1.0, "eps_r": 78.4}
    assert np.isnan(float(second_virial(COULOMB, {"q_i": 1.0, "q_j": -1.0, **el}, 300.0)))
    assert np.isnan(float(second_virial(LJ_COULOMB, {**lj, "q_i": 1.0, "q_j": 1.0, **el}, 300.0)))
    neutral = float(second_virial(LJ_COULOMB, {**lj, "q_i": 0.0, "q_j": 1.0, **el}, 300.0))
    assert neutral == pytest.approx(float(second_virial(LENNARD_JONES, lj, 300.0)), rel=1e-14)
    dh = {**lj, "q_i": 1.0, "q_j": 1.0, **el, "debye_length": 5.0}
    assert np.isfinite(float(second_virial(LJ_DEBYE_HUCKEL, dh, 300.0)))
