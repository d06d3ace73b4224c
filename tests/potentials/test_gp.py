"""GP pair potentials (bayesff.potentials.gp): the HSGP correction on a base potential.

References used for tolerances: the HSGP's spectral form and its error in m
and L, A. Solin and S. Särkkä, Stat. Comput. 30, 419 (2020),
doi:10.1007/s11222-019-09886-w, and G. Riutort-Mayol et al., Stat. Comput. 33,
17 (2023), doi:10.1007/s11222-022-10167-2 (section 3 and 4: how the number of
basis functions m and the box half-width L control the approximation).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.special import erfc

from bayesff.errors import ProblemError
from bayesff.observables import liquid
from bayesff.observables.configurations import pair_energy, pair_force
from bayesff.observables.virial import second_virial
from bayesff.potentials._spec import get_potential
from bayesff.potentials.gp import (
    GPPairPotential,
    condition,
    gp_pair_potential,
    log_marginal_likelihood,
    predict,
)
from bayesff.potentials.pair import LENNARD_JONES
from bayesff.problem import Problem
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

from support import ARGON_B2

LJ_AR = {"epsilon": 119.8 * GAS_CONSTANT_KJ_PER_MOL_K, "sigma": 3.405}
T_B2 = jnp.array([85.0, 100.0, 200.0, 400.0, 700.0])


def _params(gp, amplitude=0.3, length_scale=1.0, seed=0, scale=1.0):
    """Base LJ argon, hyperparameters and standard-normal weights (a prior draw)."""
    w = scale * np.random.default_rng(seed).standard_normal(gp.basis)
    return {**LJ_AR, "amplitude": amplitude, "length_scale": length_scale,
            **gp.weights_as_params(w)}  # fmt: skip


def _correction(gp, p):
    return jax.jit(lambda r: gp.correction(r, **p))


@pytest.fixture(scope="module")
def gp12():
    return gp_pair_potential("lennard_jones", basis=12, r_min=3.0, r_c=12.0)


def test_parameter_table_and_registry(gp12):
    names = gp12.param_names
    assert names[:4] == ("epsilon", "sigma", "amplitude", "length_scale")
    assert names[4:] == tuple(f"w_{j:02d}" for j in range(12))
    specs = {s.name: s for s in gp12.params}
    assert specs["amplitude"].unit == "kJ/mol" and specs["length_scale"].unit == "angstrom"
    assert specs["w_03"].default_prior.dist == "Normal"
    assert isinstance(get_potential("gp"), GPPairPotential)
    assert gp_pair_potential("mie", basis=3, r_min=3, r_c=9).param_names[:4] == (
        "epsilon",
        "sigma",
        "n",
        "m",
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"basis": 0}, "basis"),
        ({"basis": 2.5}, "basis"),
        ({"r_min": 5.0, "r_c": 4.0}, "r_min < r_c"),
        ({"r_min": float("nan")}, "finite"),
        ({"switch_width": 10.0}, "switch_width"),
        ({"base": "fourier"}, "pair potential"),
    ],
)
def test_factory_rejects_bad_input(kwargs, match):
    args = {"base": "lennard_jones", "basis": 4, "r_min": 3.0, "r_c": 12.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        gp_pair_potential(args.pop("base"), **args)


def test_zero_weights_give_the_base_exactly(gp12):
    p = _params(gp12, scale=0.0)
    r = jnp.linspace(2.0, 15.0, 301)
    # f = A @ 0 = 0 exactly, so u is the base to the last bit
    np.testing.assert_array_equal(gp12.energy(r, **p), LENNARD_JONES.energy(r, **LJ_AR))
    np.testing.assert_array_equal(pair_energy(gp12, p, r), LENNARD_JONES.energy(r, **LJ_AR))
    # B2: same integrand; the GP's extra panel ends change the rule, and both rules are
    # exact for LJ to rounding (virial.py: <= 1e-11 relative against the LJ series)
    b_gp = jax.jit(lambda q: second_virial(gp12, q, T_B2))(p)
    b_lj = jax.jit(lambda q: second_virial(LENNARD_JONES, q, T_B2))(LJ_AR)
    np.testing.assert_allclose(b_gp, b_lj, rtol=1e-10)


def test_correction_vanishes_smoothly_at_the_box_ends(gp12):
    p = _params(gp12, seed=3)
    f = _correction(gp12, p)
    df = jax.jit(jax.grad(f))
    d2f = jax.jit(jax.grad(jax.grad(f)))
    for end in (gp12.r_min, gp12.r_c):
        # exact: the sine basis is 0 at the ends and the smoothstep has s = s' = s'' = 0
        assert abs(float(f(end))) < 1e-15
        assert abs(float(df(end))) < 1e-12
        assert abs(float(d2f(end))) < 1e-10
    # continuity from inside: f'' -> 0 linearly (the quintic step's third derivative jumps)
    for h in (1e-2, 1e-3):
        assert abs(float(d2f(gp12.r_c - h))) < 50.0 * h
    # zero outside the box, including gradients
    out = jnp.array([1.0, 2.9, 12.01, 30.0])
    np.testing.assert_array_equal(f(out), 0.0)
    np.testing.assert_array_equal(jax.jit(jax.vmap(df))(out), 0.0)
    # and not zero inside (the weights matter)
    assert float(jnp.max(jnp.abs(f(jnp.linspace(4.0, 11.0, 50))))) > 0.05


def test_gradients_match_finite_differences(gp12):
    # jax.test_util.check_grads: central differences, step eps=1e-4, float64 tolerances
    p = _params(gp12, seed=1)
    u = jax.jit(lambda x: gp12.energy(x, **p))
    for r in (3.3, 4.2, 7.7, 11.5):
        check_grads(u, (r,), order=2, modes=("rev",))
    keys = ("amplitude", "length_scale", "w_00", "w_11", "epsilon")
    x0 = jnp.array([p[k] for k in keys])

    @jax.jit
    def u_of(x):
        q = {**p, **dict(zip(keys, x, strict=True))}
        return jnp.sum(gp12.energy(jnp.array([3.4, 5.0, 8.0, 11.0]), **q))

    check_grads(u_of, (x0,), order=1, modes=("rev",))


def test_noise_free_gp_reproduces_its_training_points(gp12):
    # Exact conditioning: with y = A w + e, e ~ N(0, s^2), the posterior mean at the
    # training points misses y by s^2 (A A^T + s^2 I)^-1 y, whose norm is at most
    # s^2 |y| / lambda_min(A A^T) (closed form; the tolerance below is that bound).
    gp = gp_pair_potential("lennard_jones", basis=24, r_min=2.9, r_c=12.0, switch_width=0.2)
    p = {**LJ_AR, "amplitude": 0.3, "length_scale": 0.8}
    r = np.linspace(3.4, 9.0, 10)
    u = np.asarray(LENNARD_JONES.energy(r, **LJ_AR)) + 0.1 * np.sin(2.0 * r)
    s = 1e-6
    post = condition(gp, p, r, u, s)
    mean, sd = predict(gp, p, post, r)
    a = np.asarray(gp.design(r, p["amplitude"], p["length_scale"]))
    y = u - np.asarray(LENNARD_JONES.energy(r, **LJ_AR))
    bound = s**2 * np.linalg.norm(y) / np.linalg.eigvalsh(a @ a.T).min()
    assert bound < 1e-6  # the case is well posed: the bound is a real check
    assert np.max(np.abs(np.asarray(mean) - u)) <= bound * (1 + 1e-6) + 1e-12
    assert float(jnp.max(sd)) < 1e-5  # and it is certain there
    # the same weights as parameters give the same curve through energy()
    q = {**p, **gp.weights_as_params(post.mean)}
    np.testing.assert_allclose(gp.energy(r, **q), mean, rtol=0, atol=1e-12)


def _se(d, alpha, ell):
    return alpha**2 * np.exp(-0.5 * (d / ell) ** 2)


def test_hsgp_covariance_against_the_exact_squared_exponential():
    # Prior covariance of f, K_m = A A^T, against the exact SE kernel at points in the
    # middle of the box, where the boundary (image) terms are below e^-50.
    # Truncation bound: K_inf - K_m = (1/2L) sum_{j>m} S(j pi/2L) [cos - cos], so
    # |K_m - K_inf| <= (1/L) sum_{j>m} S_j <= (2/pi) int_{m pi/2L}^inf S(w) dw
    #              = 2 alpha^2 erfc(m pi ell / (2 sqrt(2) L))
    # (S decreasing; S(w) = alpha^2 sqrt(2 pi) ell exp(-ell^2 w^2 / 2)). Riutort-Mayol
    # et al. (2023) recommend m >= 1.75 c / (ell / S) with boundary factor c = L / S
    # (S: half-range of the inputs), here m >= 17.5: the error must be small there.
    alpha, ell = 0.7, 0.5
    gp = gp_pair_potential("lennard_jones", basis=4, r_min=0.5, r_c=10.5, switch_width=0.01)
    half = gp.half_width
    x = np.linspace(3.0, 8.0, 21)  # 2.5 angstrom = 5 ell from each end
    exact = _se(x[:, None] - x[None, :], alpha, ell)
    errors = {}
    for m in (10, 20, 40, 60):
        g = gp_pair_potential("lennard_jones", basis=m, r_min=0.5, r_c=10.5, switch_width=0.01)
        a = np.asarray(g.design(x, alpha, ell))
        errors[m] = np.max(np.abs(a @ a.T - exact))
        image = 2.0 * _se(2 * 2.5, alpha, ell)  # nearest image term, e^-50 alpha^2
        bound = 2.0 * alpha**2 * erfc(m * math.pi * ell / (2 * math.sqrt(2) * half)) + image
        # + 1e-14 alpha^2: rounding of the m-term sums in float64
        assert errors[m] <= bound + 1e-14 * alpha**2, (m, errors[m], bound)
    assert errors[10] > errors[20] > errors[40] > errors[60]
    assert errors[20] < 0.1 * alpha**2  # m >= 17.5: the recommended size is accurate
    assert errors[60] < 1e-5 * alpha**2


def test_hsgp_is_the_gp_pinned_at_both_ends():
    # With many basis functions the HSGP kernel on [-L, L] tends to the method-of-images
    # kernel of a GP that vanishes at +-L (Poisson summation of the sine series):
    # K_inf(x, x') = sum_n [k(x - x' + 4nL) - k(x + x' + 2L + 4nL)]. With m = 300 the
    # truncation bound above is 2 alpha^2 erfc(7.4) ~ 1e-25, so they agree to rounding.
    alpha, ell = 1.0, 0.8
    gp = gp_pair_potential("lennard_jones", basis=300, r_min=3.0, r_c=9.0, switch_width=1e-3)
    half = gp.half_width
    r = np.linspace(3.05, 8.95, 25)  # including points near both ends
    x = r - (gp.r_min + half)
    a = np.asarray(gp.design(r, alpha, ell))
    images = sum(
        _se(x[:, None] - x[None, :] + 4 * n * half, alpha, ell)
        - _se(x[:, None] + x[None, :] + 2 * half + 4 * n * half, alpha, ell)
        for n in range(-3, 4)
    )
    np.testing.assert_allclose(a @ a.T, images, atol=1e-12)
    # near the ends the pinned GP is far from stationary: the variance drops to 0
    assert images[0, 0] < 0.1 * alpha**2 < 0.99 * alpha**2 < images[12, 12]


def test_uncertainty_grows_away_from_the_data():
    # GP posterior: variance shrinks near data and returns towards the prior
    # variance alpha^2 more than a few length scales away (closed form, exact
    # conditioning of the weights).
    gp = gp_pair_potential("lennard_jones", basis=24, r_min=2.9, r_c=12.0, switch_width=0.2)
    p = {**LJ_AR, "amplitude": 0.2, "length_scale": 0.6}
    r_train = np.linspace(3.5, 5.5, 8)
    u = np.asarray(LENNARD_JONES.energy(r_train, **LJ_AR)) - 0.05
    post = condition(gp, p, r_train, u, 1e-3)
    _, sd_in = predict(gp, p, post, np.linspace(3.5, 5.5, 41))
    _, sd_out = predict(gp, p, post, np.linspace(7.5, 10.5, 31))
    assert float(jnp.max(sd_in)) < 0.01
    assert float(jnp.min(sd_out)) > 5 * float(jnp.max(sd_in))
    assert float(jnp.max(sd_out)) > 0.5 * p["amplitude"]


def test_log_marginal_likelihood_against_the_dense_gaussian(gp12):
    # y ~ N(0, A A^T + s^2 I): scipy's multivariate normal as the reference
    from scipy.stats import multivariate_normal

    p = _params(gp12, amplitude=0.4, length_scale=1.1)
    r = np.linspace(3.5, 9.0, 7)
    base = np.asarray(LENNARD_JONES.energy(r, **LJ_AR))
    u = base + 0.1 * np.sin(r)
    a = np.asarray(gp12.design(r, 0.4, 1.1))
    ref = multivariate_normal(np.zeros(7), a @ a.T + 0.05**2 * np.eye(7)).logpdf(u - base)
    np.testing.assert_allclose(log_marginal_likelihood(gp12, p, r, u, 0.05), ref, rtol=1e-12)


def _b2_reference(pot, p, T, panels=600, nodes=32):
    """B2 by a dense composite Gauss-Legendre rule to r_c, then t = r_c / r to infinity.

    600 panels of 0.02 angstrom with 32 nodes each: halving both changes B2 by
    < 1e-10 relative (checked when this test was written).
    """
    x, w = np.polynomial.legendre.leggauss(nodes)
    x, w = 0.5 * (x + 1), 0.5 * w
    edges = np.linspace(1e-3, pot.r_c, panels + 1)
    a, b = edges[:-1, None], edges[1:, None]
    r = np.concatenate([(a + (b - a) * x).ravel(), pot.r_c / x])
    wt = np.concatenate([((b - a) * w).ravel(), pot.r_c / x**2 * w])
    u = np.asarray(pot.energy(jnp.asarray(r), **p))
    beta = 1.0 / (GAS_CONSTANT_KJ_PER_MOL_K * np.asarray(T)[:, None])
    return -2 * np.pi * np.sum(wt * np.expm1(-beta * u) * r**2, -1) * 6.02214076e23 * 1e-24


@pytest.mark.parametrize(("m", "ell"), [(12, 1.0), (24, 0.6)])
def test_b2_of_a_gp_potential_is_accurate(m, ell):
    # The GP's quadrature_edges put one panel per sine half-wave into the B2 rule;
    # without them (sigma-based panels only) the error was > 100 % for such prior
    # draws. Measured: <= 1.1e-5 relative (m = 12), 9e-7 (m = 24); tolerance 1e-4.
    gp = gp_pair_potential("lennard_jones", basis=m, r_min=3.0, r_c=12.0)
    p = _params(gp, amplitude=0.3, length_scale=ell, seed=1)
    b2 = np.asarray(jax.jit(lambda q: second_virial(gp, q, T_B2))(p))
    ref = _b2_reference(gp, p, np.asarray(T_B2))
    assert np.all(np.isfinite(b2))
    np.testing.assert_allclose(b2, ref, rtol=1e-4, atol=1e-3)
    # and the weights matter: B2 moved by far more than the tolerance
    assert np.max(np.abs(ref - np.asarray(second_virial(LENNARD_JONES, LJ_AR, T_B2)))) > 1.0


@pytest.mark.slow
def test_forward_models_run_and_are_finite(gp12):
    p = _params(gp12, amplitude=0.1, seed=2)
    r = jnp.linspace(3.2, 11.0, 30)
    assert np.all(np.isfinite(pair_energy(gp12, p, r)))
    assert np.all(np.isfinite(pair_force(gp12, p, r)))
    g = jax.jit(jax.grad(lambda a: jnp.sum(second_virial(gp12, {**p, "amplitude": a}, T_B2))))(0.1)
    assert np.isfinite(g)
    # liquid argon near its triple point (T = 85 K, rho = 0.0210 1/angstrom^3), HNC
    sol = jax.jit(lambda q: liquid.solve(gp12, q, 85.0, 0.0210, closure="hnc", n=1024))(p)
    assert int(sol.status) == liquid.CONVERGED
    assert np.all(np.isfinite(sol.g)) and np.all(np.isfinite(sol.c))


# ----------------------------------------------------------------- problem files

_GP_TOML = {
    "problem": {"name": "gp_toy"},
    "potential": {
        "kind": "gp",
        "base": "lennard_jones",
        "basis": 6,
        "r_min_angstrom": 3.0,
        "r_c_angstrom": 10.0,
    },
    "parameters": {
        "epsilon": {"unit": "K", "value": 119.8},
        "sigma": {"unit": "angstrom", "value": 3.405},
    },
    "targets": [{"name": "B2", "observable": "second_virial", "data": str(ARGON_B2)}],
}


def _doc(**potential):
    doc = {k: (dict(v) if isinstance(v, dict) else v) for k, v in _GP_TOML.items()}
    doc["potential"] = {**doc["potential"], **potential}
    return {k: v for k, v in doc.items() if v is not None}


def test_problem_file_builds_a_gp_potential():
    prob = Problem.from_dict(_doc())
    pot = prob.potential
    assert isinstance(pot, GPPairPotential)
    assert (pot.basis, pot.r_min, pot.r_c) == (6, 3.0, 10.0)
    assert prob.free_parameters == ["amplitude", "length_scale", *pot.weight_names]
    assert prob.parameters["w_05"].prior.dist == "Normal"
    params = {
        n: prob.to_internal(n, p.value if p.fixed else 0.5) for n, p in prob.parameters.items()
    }
    predict = prob.targets[0].forward(prob).build()
    assert np.isfinite(predict(params, {"T_K": jnp.array([100.0, 300.0])})).all()


def test_a_gp_problem_written_from_its_objects_keeps_its_box():
    """Review, 2026-11-30: the document of a problem built in Python wrote the GP
    potential as kind = "gp" alone, so two boxes (or bases) had one document and one
    fingerprint, and the document could not be read back. Its options are written, and
    they build the same potential."""
    prob = Problem.from_dict(_doc())
    wide = Problem.from_dict(_doc(r_c_angstrom=12.0))
    assert prob.source_text == ""  # no text given: the document is written from the objects
    written = prob.document()["potential"]
    assert written == {**_doc()["potential"], "switch_angstrom": prob.potential.switch_width}
    again = Problem.from_dict({**_doc(), "potential": written}).potential
    assert again.file_options() == prob.potential.file_options()
    assert prob.fingerprint() != wide.fingerprint()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"r_c_angstrom": None}, "needs r_c_angstrom"),
        ({"colour": "blue"}, "unknown key"),
        ({"base": "fourier"}, "pair potential"),
        ({"base": "nope"}, "unknown potential"),
        ({"basis": 0}, "basis"),
    ],
)
def test_problem_file_errors_name_the_field(change, match):
    doc = _doc(**change)
    doc["potential"] = {k: v for k, v in doc["potential"].items() if v is not None}
    with pytest.raises(ProblemError, match=match) as e:
        Problem.from_dict(doc, path="models/x.toml")
    assert "[potential]" in str(e.value)


def test_options_on_a_potential_without_them_are_an_error():
    doc = _doc(kind="lennard_jones", base=None, basis=None)
    doc["potential"] = {"kind": "lennard_jones", "basis": 6}
    doc["parameters"] = {}
    with pytest.raises(ProblemError, match=r"unknown key.*basis"):
        Problem.from_dict(doc, path="models/x.toml")
