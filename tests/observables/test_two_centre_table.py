r"""The tabulated reduced B2 of 2CLJ and 2CLJQ against the quadrature it replaces.

References, each recomputed inside the test that uses it:

* the orientational quadrature of :mod:`bayesff.observables.orientational`
  (``method="quadrature"``) at the settings the table was computed with
  (``TABLES[name].quadrature``): the table's interpolation error is measured
  against it. Its own error at those settings, against finer ones, is in the
  module docstring of :mod:`bayesff.observables.two_centre_table`;
* the quadrature's explicit JVP for the gradients;
* the LJ series of Hirschfelder, Curtiss and Bird (1954), eq. 3.6-8
  (``lj_b2_star`` of ``tests/observables/test_virial.py``, 2e-15) for L* = 0,
  where 2CLJ is LJ with well depth 4 epsilon;
* the stored file itself (its sha256 in the JSON beside it, and its grid
  values recomputed by :func:`~bayesff.observables.two_centre_table.tabulate`).

Tolerances: ``VALUE_RTOL`` and ``GRAD_RTOL`` come from the accuracy the module
docstring states (measured over 600 random points per table by
``scripts/make_two_centre_table.py --check 24``), with a factor of 2 to 4 of
margin; the error is |table - quadrature| / max(|quadrature|, N_A sigma^3) for
values, and relative to the gradient's largest component for gradients (which
are tested at T* >= 0.7, outside the corner T* < 0.7, L* > 1.3 of 2CLJ where
the quadrature's own derivative in L* is not converged).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from observables.test_virial import lj_b2_star

from bayesff.observables import orientational
from bayesff.observables import two_centre_table as tc
from bayesff.potentials import LENNARD_JONES
from bayesff.potentials.molecular import STOCKMAYER, TWO_CENTRE_LJ, TWO_CENTRE_LJ_QUADRUPOLE
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM as KE
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K as R

N_A = 6.02214076e23
POTENTIALS = {p.name: p for p in (TWO_CENTRE_LJ, TWO_CENTRE_LJ_QUADRUPOLE)}

#: Largest value error of the table (module docstring: 2.9e-6 over the 2CLJ table, 3.5e-6
#: for 2CLJQ at Q*^2 < 8, where the test's 2CLJQ points lie), times 2.
VALUE_RTOL = {"two_centre_lj": 6e-6, "two_centre_lj_quadrupole": 7e-6}
#: Q*^2 of the test points at most this (module docstring: the accuracy by Q*^2).
Q_STAR2_TEST_MAX = 8.0
#: Largest gradient error at T* >= 0.7 (module docstring: 2.5e-5 for 2CLJ, 5.8e-5 for
#: 2CLJQ, relative to max(|g|, 1) per reduced coordinate), times 2 to 4.
GRAD_RTOL = {"two_centre_lj": 1e-4, "two_centre_lj_quadrupole": 1.2e-4}


def physical_point(name, rng, t_min=None):
    """Random (params in internal units, T in K) inside the table's domain, off its grid.

    Reduced coordinates uniform in (ln T*, L*, w) over 95 % of each range (T* from
    ``t_min`` if given), then epsilon/k in [30, 250] K and sigma in [2.5, 4.5] angstrom.
    """
    spec = tc.TABLES[name]
    s0, s1 = np.log(spec.t_star)
    if t_min is not None:
        s0 = np.log(t_min)
    pad = 0.025
    t_star = np.exp(rng.uniform(s0 + pad * (s1 - s0), s1 - pad * (s1 - s0), 3))
    l_star = rng.uniform(0.025, 0.975) * spec.l_star[1]
    eps = rng.uniform(30.0, 250.0) * R
    sig = rng.uniform(2.5, 4.5)
    params = {"epsilon": eps, "sigma": sig, "L": l_star * sig}
    if spec.has_quadrupole:
        q_hi = min(Q_STAR2_TEST_MAX, float(np.min(spec.q_max(t_star, l_star))))
        q_star2 = rng.uniform(0.025, 0.975) * q_hi
        params["Q"] = math.sqrt(q_star2 * eps * sig**5 / KE)
    return params, t_star * eps / R


@functools.cache
def _quadrature(name):
    n, c, p = tc.TABLES[name].quadrature
    return jax.jit(
        lambda params, T: orientational.second_virial_linear(
            POTENTIALS[name], params, T, nodes_per_panel=n, n_cos=c, n_phi=p, method="quadrature"
        )
    )


def quadrature(name, params, T):
    """The direct quadrature at the table's own settings (jitted: fused, 3-5x faster)."""
    return _quadrature(name)(params, jnp.asarray(T))


def table(name, params, T):
    return orientational.second_virial_linear(POTENTIALS[name], params, T, method="table")


# ------------------------------------------------------------------ the stored file


def test_table_file_matches_its_provenance():
    """The .npz's sha256, grid shapes and specs are those its JSON records."""
    meta = json.loads(tc.TABLE_PATH.with_suffix(".json").read_text())
    assert hashlib.sha256(tc.TABLE_PATH.read_bytes()).hexdigest() == meta["sha256"]
    assert tc.TABLE_PATH.stat().st_size < 5e6
    for name, spec in tc.TABLES.items():
        rec = meta["tables"][name]
        assert tuple(rec["degrees"]) == spec.degrees
        assert tuple(rec["quadrature"]) == spec.quadrature
        assert tuple(rec["t_star"]) == spec.t_star and tuple(rec["l_star"]) == spec.l_star
        assert tuple(rec["grid_shape"]) == tuple(n + 1 for n in spec.degrees)


@pytest.mark.parametrize("name", list(tc.TABLES))
def test_tabulate_reproduces_stored_values(name):
    """tabulate() at two L* columns and two T* rows gives the stored numbers (rtol 1e-12).

    Same quadrature, same nodes: only rounding (and XLA's summation order) can differ.
    """
    spec = tc.TABLES[name]
    l_index, t_index = [1, spec.degrees[1] // 2], [3, spec.degrees[0] - 2]
    got = tc.tabulate(spec, l_index=l_index, t_index=t_index)
    with np.load(tc.TABLE_PATH, allow_pickle=False) as d:
        stored = d[f"{name}/b2_star"][np.ix_(t_index, l_index)]
        np.testing.assert_array_equal(got["l_star"], d[f"{name}/l_star"][l_index])
    np.testing.assert_allclose(got["b2_star"], stored, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", list(tc.TABLES))
def test_split_energy_is_the_quadrature(name):
    """tabulate's shared-energy sum equals second_virial_linear node for node (rtol 1e-12).

    At cheap settings (8, 8, 8); the sum is the same, only the energy is split as
    u = u_2CLJ + Q*^2 u_QQ(Q*^2 = 1) so that it is computed once per L*.
    """
    run = tc._reduced_quadrature(name, (8, 8, 8))
    t_star, l_star = np.array([0.7, 3.0, 40.0]), 0.63
    q_star2 = np.array([0.0, 2.5, 7.0]) if name == "two_centre_lj_quadrupole" else np.zeros(3)
    got = np.asarray(run(l_star, jnp.asarray(t_star), jnp.asarray(q_star2)))
    want = []
    for t, q in zip(t_star, q_star2, strict=True):
        params = {"epsilon": 1.0, "sigma": 1.0, "L": l_star}
        if name == "two_centre_lj_quadrupole":
            params["Q"] = math.sqrt(q / KE)
        b2 = orientational.second_virial_linear(
            POTENTIALS[name], params, t / R, nodes_per_panel=8, n_cos=8, n_phi=8
        )
        want.append(float(b2) / (N_A * 1e-24))
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ------------------------------------------------------------------ accuracy


@pytest.mark.slow
@pytest.mark.parametrize("name", list(tc.TABLES))
def test_table_matches_quadrature_in_physical_units(name):
    """B2 (cm^3/mol) from the table vs the direct quadrature at 4 random draws x 3 T.

    Off-grid points in physical units (epsilon/k 30-250 K, sigma 2.5-4.5 angstrom);
    error |table - quadrature| / max(|quadrature|, N_A sigma^3), within VALUE_RTOL.
    """
    rng = np.random.default_rng(20261124)
    for _ in range(4):
        params, T = physical_point(name, rng)
        got = np.asarray(table(name, params, T))
        want = np.asarray(quadrature(name, params, T))
        scale = np.maximum(np.abs(want), N_A * 1e-24 * params["sigma"] ** 3)
        assert np.all(np.abs(got - want) / scale <= VALUE_RTOL[name]), (params, T, got, want)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(tc.TABLES))
def test_table_gradients_match_quadrature_jvp(name):
    """d B2 / d(epsilon, sigma, L, Q) from the table vs the quadrature's explicit JVP.

    Summed over three temperatures (T* >= 0.7); relative to the gradient's largest
    component, within GRAD_RTOL.
    """
    rng = np.random.default_rng(7)
    for _ in range(2):
        params, T = physical_point(name, rng, t_min=0.7)
        g_tab = jax.grad(lambda p, T=T: jnp.sum(table(name, p, T)))(params)
        g_quad = jax.grad(lambda p, T=T: jnp.sum(quadrature(name, p, T)))(params)
        scale = max(abs(float(v)) for v in g_quad.values())
        for k in params:
            assert abs(float(g_tab[k]) - float(g_quad[k])) <= GRAD_RTOL[name] * scale, (
                k,
                params,
                g_tab,
                g_quad,
            )


def test_zero_elongation_is_lj_with_four_epsilon():
    """L* = 0: both tables give LJ(4 epsilon, sigma), the HCB series (rtol 1e-7).

    1e-7 is above the table's error at L* = 0 (a node of the grid in L*, so only the
    interpolation in T* and Q*^2 = 0 remains) and far above the series' 2e-15.
    """
    eps, sig = 40.0 * R, 3.3
    T = np.geomspace(0.45, 180.0, 25) * eps / R
    b0 = 2.0 * math.pi * N_A * sig**3 / 3.0 * 1e-24
    want = b0 * lj_b2_star(R * T / (4.0 * eps))
    for name, pot in POTENTIALS.items():
        params = {"epsilon": eps, "sigma": sig, "L": 0.0} | (
            {"Q": 0.0} if name == "two_centre_lj_quadrupole" else {}
        )
        got = np.asarray(orientational.second_virial_linear(pot, params, T, method="table"))
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7 * b0)


def test_interpolant_is_smooth():
    """First and second derivatives of the interpolant agree with central differences.

    At one point inside each table, in every coordinate: the gradient against central
    differences of the value, the Hessian's diagonal against central differences of the
    gradient (step 1e-4, relative error ~1e-7 expected for a smooth function; tolerance
    1e-5). A piecewise (C^0 or C^1) interpolant fails the second check at a seam.
    """
    cases = [
        ("two_centre_lj", np.array([1.7, 0.8, 0.0]), 2),
        ("two_centre_lj_quadrupole", np.array([2.3, 0.55, 3.1]), 3),
    ]
    for name, x0, dims in cases:
        f = jax.jit(lambda x, name=name: tc.reduced_second_virial(name, x[0], x[1], x[2]))
        g = jax.jit(jax.grad(f))
        hvp = jax.jit(lambda x, v, g=g: jax.jvp(g, (x,), (v,))[1])  # Hessian-vector product
        h = 1e-4
        gx = np.asarray(g(jnp.asarray(x0)))
        for i in range(dims):
            e = np.zeros(3)
            e[i] = h
            fd = (float(f(jnp.asarray(x0 + e))) - float(f(jnp.asarray(x0 - e)))) / (2 * h)
            assert fd == pytest.approx(gx[i], rel=1e-5, abs=1e-8), (name, i)
            fd2 = (np.asarray(g(jnp.asarray(x0 + e))) - np.asarray(g(jnp.asarray(x0 - e))))[i]
            hii = float(hvp(jnp.asarray(x0), jnp.asarray(e / h))[i])
            assert fd2 / (2 * h) == pytest.approx(hii, rel=1e-5, abs=1e-6), (name, i)


def test_vmap_over_draws_and_jit():
    """The forward model of build(..., method="table") vmaps over draws under jit, and a
    batched draw equals the same draw alone to rounding (rtol 1e-11: the contractions
    are summed in another order, and B2 = K - exp(y) turns y's rounding, 1e-15 of
    ln|B2*| ~ 10, into ~1e-13 of B2)."""
    predict = orientational.build(TWO_CENTRE_LJ_QUADRUPOLE, method="table")
    eps = jnp.array([35.0, 60.0, 130.0]) * R
    params = {"epsilon": eps, "sigma": jnp.array([3.3, 3.0, 2.9]), "L": jnp.array([1.1, 1.2, 2.2])}
    params["Q"] = jnp.array([0.3, 0.2, 0.8])
    env = {"T_K": jnp.linspace(220.0, 600.0, 7)}
    out = jax.jit(jax.vmap(predict, in_axes=(0, None)))(params, env)
    assert out.shape == (3, 7)
    one = predict({k: v[1] for k, v in params.items()}, env)
    np.testing.assert_allclose(out[1], one, rtol=1e-11)


# ------------------------------------------------------------------ domain and errors


def test_nan_outside_the_domain():
    """T*, L* or Q*^2 outside the table: NaN, never an extrapolation; inside: finite."""
    for name, spec in tc.TABLES.items():
        lo, hi = spec.t_star
        lmax = spec.l_star[1]
        assert np.isfinite(tc.reduced_second_virial(name, 1.0, 0.5 * lmax, 0.0))
        for args in [(0.99 * lo, 0.3, 0.0), (1.01 * hi, 0.3, 0.0), (2.0, 1.01 * lmax, 0.0)]:
            assert np.isnan(tc.reduced_second_virial(name, *args)), (name, args)
        assert np.isnan(tc.reduced_second_virial(name, 2.0, -0.01, 0.0))
    q_hi = float(tc.TABLES["two_centre_lj_quadrupole"].q_max(2.0, 0.5))
    assert np.isnan(tc.reduced_second_virial("two_centre_lj_quadrupole", 2.0, 0.5, 1.01 * q_hi))
    assert np.isnan(tc.reduced_second_virial("two_centre_lj_quadrupole", 2.0, 0.5, -0.01))
    assert np.isfinite(tc.reduced_second_virial("two_centre_lj_quadrupole", 2.0, 0.5, q_hi))
    # through the forward model: epsilon so small that T* leaves the table
    params = {"epsilon": 0.5 * R, "sigma": 3.3, "L": 1.0}
    b2 = orientational.second_virial_linear(TWO_CENTRE_LJ, params, [150.0, 300.0], method="table")
    assert np.all(np.isnan(b2))


def test_table_method_is_validated_before_tracing():
    """method="table" on a potential without a table, or with quadrature options, raises."""
    with pytest.raises(ValueError, match="'auto' or 'quadrature' or 'closed_form'"):
        orientational.build(STOCKMAYER, method="table")
    with pytest.raises(ValueError, match="tabulated potential"):
        orientational.second_virial_linear(
            STOCKMAYER, {"epsilon": 1.0, "sigma": 3.0, "mu": 0.3}, 300.0, method="table"
        )
    with pytest.raises(ValueError, match="n_cos"):
        orientational.build(TWO_CENTRE_LJ, method="table", n_cos=8)
    with pytest.raises(ValueError, match="kind 'linear'"):
        orientational.build(LENNARD_JONES, method="table")
