r"""Conformer populations and free energies from a torsion potential.

References used below, each recomputed inside the test that needs it:

* the defining integrals
  :math:`p_b = Z_b / \sum_{b'} Z_{b'}`,
  :math:`Z_b = \int_b e^{-[u(\phi) + W(\phi)]/RT}\,d\phi`, by adaptive
  ``scipy.integrate.quad`` (an algorithm independent of the Gauss-Legendre
  rule under test), with the Ryckaert-Bellemans energy typed in here from
  its formula rather than taken from bayesff;
* exact limits: normalisation, mirror symmetry of an even potential, and
  :math:`T \to \infty` where :math:`p_b \to` (basin width) / 360 deg;
* central differences for gradients (``jax.test_util.check_grads``).

The published n-butane parameters (GROMACS reference manual table of
Ryckaert-Bellemans constants; Ryckaert and Bellemans 1975/1978) are the
test potential: barriers of 12 and 45 kJ/mol make exp(-u/RT) span 1e-9 at
250 K, a stiff test of the quadrature.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.integrate import quad

import bayesff.observables.conformers as conf  # registers the observables
from bayesff import transferability as tf
from bayesff.observables import get_observable
from bayesff.potentials._spec import TorsionPotential
from bayesff.potentials.torsion import FOURIER, RYCKAERT_BELLEMANS

from support import ROOT

# exact in the 2019 SI; typed in so that the references do not reuse bayesff's constant
R = 1.380649e-23 * 6.02214076e23 / 1000.0  # kJ/(mol K)

BUTANE = {"C0": 9.28, "C1": 12.16, "C2": -13.12, "C3": -3.06, "C4": 26.24, "C5": -31.5}


def rb_reference(phi):
    """Ryckaert-Bellemans u(phi), kJ/mol, from its formula (psi = phi - pi)."""
    c = np.cos(phi - np.pi)
    return sum(BUTANE[f"C{n}"] * c**n for n in range(6))


def quad_populations(T, A=0.0, basins=conf.DEFAULT_BASINS_DEG, energy=rb_reference):
    """Populations by adaptive quadrature of the defining integrals."""

    def f(phi):
        return math.exp(-(energy(phi) + A * 0.5 * (1.0 - math.cos(phi))) / (R * T))

    z = []
    for lo, hi in basins:
        hi = hi + 360.0 if hi <= lo else hi
        z.append(
            quad(f, math.radians(lo), math.radians(hi), epsabs=0.0, epsrel=1e-13, limit=200)[0]
        )
    z = np.asarray(z)
    return z / z.sum()


def pop_env(T, A, basin):
    T, A, basin = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (T, A, basin)))
    return {"T_K": jnp.asarray(T), "W_kJ_per_mol": jnp.asarray(A), "basin": jnp.asarray(basin)}


# ------------------------------------------------------------------------------ exact limits


@pytest.mark.parametrize("T", [150.0, 300.0, 1000.0])
@pytest.mark.parametrize("A", [0.0, 1.0, -3.0])
def test_populations_sum_to_one(T, A):
    """Normalisation: sum_b p_b = 1 by construction (to float64 rounding, 1e-15)."""
    p = conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, T, A)
    assert p.shape == (3,)
    assert np.all(np.asarray(p) > 0)
    assert abs(float(jnp.sum(p)) - 1.0) < 1e-14
    # and through the observable, one row per basin
    predict = conf.CONFORMER_POPULATION.build(RYCKAERT_BELLEMANS)
    rows = predict(BUTANE, pop_env(T, A, [0, 1, 2]))
    assert abs(float(jnp.sum(rows)) - 1.0) < 1e-14


def test_symmetric_potential_gives_equal_gauche_populations():
    """u(phi) = u(-phi) and mirror-image basins -> p(g+) = p(g-) exactly.

    Reference: symmetry. An RB (or Fourier) torsion is a function of cos(phi);
    the g+ basin [0, 120) and the g- basin [240, 360) are mirror images. A
    potential with a sin(phi) term breaks the symmetry (negative control).
    """
    rng = np.random.default_rng(1)
    for _ in range(5):
        params = {f"C{n}": float(v) for n, v in enumerate(rng.normal(0.0, 5.0, 6))}
        for T in (200.0, 300.0, 800.0):
            p = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, params, T, 2.0))
            assert abs(p[1] - p[2]) <= 1e-14
    fp = {"V1": 3.0, "V2": -1.0, "V3": 12.0, "V4": 0.5}
    p = np.asarray(conf.basin_populations(FOURIER, fp, 300.0))
    assert abs(p[1] - p[2]) < 1e-14

    chiral = TorsionPotential(
        name="chiral_test",
        energy=lambda phi, k: RYCKAERT_BELLEMANS.energy(phi, **BUTANE) + k * jnp.sin(phi),
        params=(),
    )
    p = np.asarray(conf.basin_populations(chiral, {"k": 1.0}, 300.0))
    assert p[2] - p[1] > 0.01  # +sin(phi) raises g+ (phi ~ 60 deg) and lowers g- (~300 deg)


@pytest.mark.parametrize(
    "basins",
    [
        conf.DEFAULT_BASINS_DEG,
        ((100.0, 260.0), (0.0, 100.0), (260.0, 360.0)),
        ((300, 60), (60, 300)),
    ],
)
def test_high_temperature_limit_is_basin_width_over_360(basins):
    """T -> inf: exp(-u/RT) -> 1, so p_b -> width_b / 360 deg.

    Tolerance from the first-order bound |p_b - w_b/360| <= 2 max|u| / RT
    (max|u| = 44.8 kJ/mol for butane at cis; RT = 8.3e7 kJ/mol at 1e10 K,
    so ~1e-6).
    """
    T = 1e10
    p = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, T, basins_deg=basins))
    widths = np.array([(hi - lo) % 360.0 or 360.0 for lo, hi in basins])
    bound = 2.0 * 44.8 / (R * T)
    np.testing.assert_allclose(p, widths / 360.0, rtol=0, atol=bound)
    # the trend: at 2000 K the populations are already closer to uniform than at 300 K
    p300 = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, 300.0))
    p2000 = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, 2000.0))
    assert np.abs(p2000 - 1 / 3).max() < np.abs(p300 - 1 / 3).max()


# ----------------------------------------------------------------------------- quadrature


@pytest.mark.parametrize("T", [150.0, 250.0, 300.0, 400.0, 2000.0])
@pytest.mark.parametrize("A", [0.0, 1.0, -2.0])
def test_quadrature_matches_adaptive_quad(T, A):
    """Default rule (4 panels x 16 nodes per basin) vs scipy quad: <= 1e-10 relative.

    Measured: <= 4e-14 over this grid (150 K is the stiffest: exp(-u/RT) spans
    1e-16 there). quad's own tolerance is 1e-13 relative.
    """
    p = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, T, A))
    ref = quad_populations(T, A)
    np.testing.assert_allclose(p, ref, rtol=1e-10, atol=0)


def test_quadrature_converges_spectrally_with_nodes():
    """Error vs nodes per panel at 150 K: falls faster than any power (entire integrand).

    Measured errors (relative): 5e-3 (4 nodes), 2e-6 (8), 2e-10 (12), 3e-14 (16).
    The test asks for a drop of >= 100x per 4 extra nodes until the float64
    floor (1e-13), which no fixed algebraic order achieves over 8 -> 12 -> 16
    nodes (an order-q rule would gain only (16/12)^q).
    """
    ref = quad_populations(150.0)
    errs = []
    for n in (4, 8, 12, 16):
        p = np.asarray(
            conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, 150.0, nodes_per_panel=n)
        )
        errs.append(float(np.max(np.abs(p / ref - 1.0))))
    for a, b in itertools.pairwise(errs):
        assert b < max(a / 100.0, 1e-13)
    assert errs[-1] < 1e-12


def test_custom_basins_match_adaptive_quad():
    """A basin through 0/360 deg and unequal widths: vs scipy quad, 1e-10 relative."""
    basins = ((150.0, 210.0), (210.0, 330.0), (330.0, 150.0))
    p = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, 300.0, basins_deg=basins))
    np.testing.assert_allclose(p, quad_populations(300.0, 0.0, basins), rtol=1e-10)


def test_basins_must_partition_the_circle():
    for bad in (
        ((0.0, 120.0), (120.0, 240.0)),  # gap
        ((0.0, 200.0), (100.0, 360.0)),  # overlap
        ((0.0, 360.0),),  # one basin
        "trans",
    ):
        with pytest.raises(ValueError):
            conf.quadrature_rule(bad)


# -------------------------------------------------------------------- observables, jax


def test_torsion_energy_is_relative_to_trans():
    """u(phi) - u(180 deg): 0 at trans, the RB formula minus sum C_n elsewhere."""
    predict = conf.TORSION_ENERGY.build(RYCKAERT_BELLEMANS)
    params = dict(BUTANE, C0=100.0)  # a constant must cancel
    phi = jnp.deg2rad(jnp.arange(0.0, 360.0, 15.0))
    e = np.asarray(predict(params, {"phi_deg": phi}))
    ref = np.array([rb_reference(x) - rb_reference(np.pi) for x in np.asarray(phi)])
    np.testing.assert_allclose(e, ref, rtol=0, atol=1e-12)
    assert e[12] == 0.0  # phi = 180 deg
    assert abs(e[0] - 44.8) < 1e-12  # cis barrier of butane, sum (-1)^n C_n


def test_observables_are_registered_for_torsion_potentials():
    for name in ("torsion_energy", "conformer_population", "conformer_free_energy"):
        obs = get_observable(name)
        assert obs.potential_kind == "torsion"
    assert conf.CONFORMER_POPULATION.env_columns == ("T_K", "basin", "W_kJ_per_mol")


def test_jit_and_vmap_over_draws_and_environments():
    """predict is jit-able and vmap-able over parameter draws; rows broadcast."""
    predict = conf.CONFORMER_POPULATION.build(RYCKAERT_BELLEMANS)
    env = pop_env([250.0, 300.0, 300.0, 400.0], [0.0, 0.0, 1.0, 1.0], [0, 1, 2, 0])
    draws = {k: jnp.full(7, v) + 0.01 * jnp.arange(7) for k, v in BUTANE.items()}
    out = jax.jit(jax.vmap(predict, in_axes=(0, None)))(draws, env)
    assert out.shape == (7, 4)
    one = predict({k: v[3] for k, v in draws.items()}, env)
    np.testing.assert_allclose(out[3], one, rtol=1e-14)
    # a scalar environment row (how a hierarchical model calls predict)
    row = {k: v[1] for k, v in env.items()}
    assert predict(BUTANE, row).shape == ()


def test_unknown_basin_index_is_nan_not_zero():
    """Failures are values: a basin index outside 0..B-1 or non-integer gives NaN."""
    predict = conf.CONFORMER_POPULATION.build(RYCKAERT_BELLEMANS)
    out = np.asarray(predict(BUTANE, pop_env(300.0, 0.0, [0.0, 3.0, -1.0, 1.5])))
    assert np.isfinite(out[0]) and np.all(np.isnan(out[1:]))


def test_gradients_match_central_differences():
    """jax.grad vs central differences (check_grads: eps 1e-4, float64 tolerances).

    Populations and free energies are smooth in the coefficients; both
    forward and reverse mode are checked (NUTS uses reverse mode).
    """
    env = pop_env([250.0, 300.0, 400.0], [0.0, 1.0, -1.0], [0, 1, 2])
    pop = conf.CONFORMER_POPULATION.build(RYCKAERT_BELLEMANS)
    dg = conf.CONFORMER_FREE_ENERGY.build(RYCKAERT_BELLEMANS)
    en = conf.TORSION_ENERGY.build(RYCKAERT_BELLEMANS)
    names = list(BUTANE)
    c = jnp.asarray([BUTANE[n] for n in names])

    def wrap(predict, env):
        return jax.jit(lambda v: predict(dict(zip(names, v, strict=True)), env))

    check_grads(wrap(pop, env), (c,), order=1, modes=["fwd", "rev"], eps=1e-4)
    check_grads(wrap(dg, env), (c,), order=1, modes=["fwd", "rev"], eps=1e-4)
    check_grads(wrap(en, {"phi_deg": jnp.linspace(0.1, 6.2, 9)}), (c,), order=1, eps=1e-4)


def test_free_energies_consistent_with_populations():
    """G_b = -RT ln p_b: sum_b exp(-G_b/RT) = 1, and G_b - G_0 from the observable.

    Reference: the definitions, evaluated here from the populations (1e-12 kJ/mol
    is float64 rounding of RT ln p at |ln p| ~ 2).
    """
    for T, A in ((250.0, 0.0), (300.0, 1.0), (400.0, -2.0)):
        p = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, T, A))
        g = np.asarray(conf.basin_free_energies(RYCKAERT_BELLEMANS, BUTANE, T, A))
        np.testing.assert_allclose(g, -R * T * np.log(p), rtol=1e-12)
        assert abs(np.exp(-g / (R * T)).sum() - 1.0) < 1e-14
        dg = conf.CONFORMER_FREE_ENERGY.build(RYCKAERT_BELLEMANS)(BUTANE, pop_env(T, A, [0, 1, 2]))
        np.testing.assert_allclose(np.asarray(dg), g - g[0], rtol=0, atol=1e-12)
    # butane: gauche above trans by ~3.3 kJ/mol in free energy at 300 K (2.93 kJ/mol in
    # energy at the minimum plus the narrower gauche well)
    g = np.asarray(conf.basin_free_energies(RYCKAERT_BELLEMANS, BUTANE, 300.0))
    assert 3.0 < g[1] - g[0] < 3.6


def test_modulation_favours_gauche_for_positive_amplitude():
    """W = A (1 - cos phi)/2 raises trans by 3A/4 relative to gauche.

    A > 0: trans down, gauche up, monotonically in A; A < 0: the reverse.
    Reference for the size: at T -> 0 the populations follow the energies at the
    minima, so dG_gt(A) - dG_gt(0) -> -3A/4; at 250 K the shift is within 0.1 kJ/mol
    of that (the wells are narrow, but W's slope over them shifts them a little).
    """
    amps = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    p = np.asarray(conf.basin_populations(RYCKAERT_BELLEMANS, BUTANE, 300.0, amps))
    assert np.all(np.diff(p[:, 0]) < 0) and np.all(np.diff(p[:, 1]) > 0)
    g = np.asarray(conf.basin_free_energies(RYCKAERT_BELLEMANS, BUTANE, 250.0, [0.0, 1.0]))
    shift = (g[1, 1] - g[1, 0]) - (g[0, 1] - g[0, 0])
    assert abs(shift - (-0.75)) < 0.1


# --------------------------------------------------------------------------------- metrics


def test_population_errors_by_hand():
    """epsilon_p = RMS over basins, epsilon_G = RT max |ln(p_pred / p_obs)|, by hand."""
    obs = np.array([0.6, 0.2, 0.2])
    pred = np.array([0.5, 0.25, 0.25])
    out = conf.population_errors(pred, obs, 300.0)
    assert out["epsilon_p"] == pytest.approx(math.sqrt((0.01 + 0.0025 + 0.0025) / 3), rel=1e-14)
    # |ln(0.5/0.6)| = 0.18232, |ln(0.25/0.2)| = 0.22314 -> the gauche term is the max
    assert out["epsilon_G"] == pytest.approx(R * 300.0 * math.log(1.25), rel=1e-12)
    # per draw: leading axes are kept
    draws = np.stack([obs, pred, obs])
    out = conf.population_errors(draws, obs, 300.0)
    np.testing.assert_allclose(out["epsilon_p"], [0.0, math.sqrt(0.015 / 3), 0.0], atol=1e-16)
    # a vanishing population is an infinite free-energy error, not NaN
    assert conf.population_errors([1.0, 0.0, 0.0], obs, 300.0)["epsilon_G"] == math.inf
    with pytest.raises(ValueError):
        conf.population_errors(pred, obs[:2], 300.0)


def _conformer_run(model_ho, model_tr, T, W, basin, obs, group, T_tr, W_tr, b_tr, obs_tr):
    """A run with these draws, written by bayesff's own writer (tests/handmade_runs.py):
    a conformer_population target ``populations`` (three environment columns)."""
    from handmade_runs import build_run, target

    n_tr = len(obs_tr)
    env = {
        "T_K": np.r_[T_tr, T],
        "W_kJ_per_mol": np.r_[W_tr, W],
        "basin": np.r_[b_tr, basin].astype(float),
    }
    labels = np.r_[[""] * n_tr, group]
    t = target(
        "populations",
        "conformer_population",
        env,
        np.r_[obs_tr, obs],
        u=0.01,
        train=np.arange(labels.size) < n_tr,
        holdout={g: labels == g for g in dict.fromkeys(group)},
        file_units={"T_K": "K", "W_kJ_per_mol": "kJ/mol", "basin": "1"},
    )
    draws = {
        "train": {"model": model_tr, "rep": model_tr, "ll": np.zeros(model_tr.shape)},
        "holdout": {"model": model_ho, "rep": model_ho},
    }
    return build_run([t], {"populations": draws}, potential="ryckaert_bellemans")


def test_conformer_transferability_by_hand():
    """Per-environment probabilities from 4 hand-made draws; a known failure is flagged.

    Held out: (350 K, A = 0), rows in basin order 2, 0, 1 (the reader must sort
    them), and (300 K, A = 1). Draws 0-2 at 350 K are exact, draw 3 is off by
    0.05 in trans: P(eps_p <= 0.02) = 3/4. At A = 1 every draw predicts the
    gas-phase populations (a gas-phase force field used in solution without
    its solvent term): eps_p = 0.047 > 0.02 in every draw -> not transferable.
    """
    obs350 = quad_populations(350.0)
    obs_mod = quad_populations(300.0, 1.0)
    gas300 = quad_populations(300.0)
    order = [2, 0, 1]
    good = obs350[order]
    bad = good + np.array([-0.025, 0.05, -0.025])
    model_ho = np.stack([np.r_[good, gas300]] * 3 + [np.r_[bad, gas300]])
    T = np.r_[[350.0] * 3, [300.0] * 3]
    W = np.r_[[0.0] * 3, [1.0] * 3]
    basin = np.r_[order, [0, 1, 2]]
    obs = np.r_[good, obs_mod]
    group = ["gas"] * 3 + ["solvent"] * 3
    model_tr = np.stack([gas300] * 4)
    dt = _conformer_run(model_ho, model_tr, T, W, basin, obs, group, [300.0] * 3, [0.0] * 3,
                        [0, 1, 2], gas300)  # fmt: skip

    res = tf.conformer_transferability(dt, "populations", eps_p_max=0.02, eps_G_max=0.5)
    assert [(r["group"], r["held_out"]) for r in res] == [
        ("gas", True),
        ("solvent", True),
        ("training", False),
    ]
    gas, solvent, train = res
    assert gas["basins"] == [0, 1, 2] and gas["complete"]
    np.testing.assert_allclose(gas["observed"], obs350, rtol=1e-15)
    assert gas["P_epsilon_p"] == 0.75  # draw 3: eps_p = sqrt((0.05^2 + 2 0.025^2)/3) = 0.0354
    eps_g3 = (
        R
        * 350.0
        * max(
            abs(math.log((obs350[b] + d) / obs350[b]))
            for b, d in zip([0, 1, 2], [0.05, -0.025, -0.025], strict=True)
        )
    )
    assert eps_g3 < 0.5  # 0.40 kJ/mol: the third draw's epsilon_G is within the threshold
    assert gas["P_epsilon_G"] == 1.0
    assert gas["P_both"] == 0.75 and gas["verdict"] == "uncertain"
    eps_mod = math.sqrt(np.mean((gas300 - obs_mod) ** 2))
    assert solvent["epsilon_p_mean"] == pytest.approx(eps_mod, rel=1e-12)
    assert eps_mod > 0.04  # 0.047: the solvent term moves trans by 0.066 at 300 K
    assert solvent["P_both"] == 0.0 and solvent["verdict"] == "not transferable"
    assert train["epsilon_p_mean"] < 1e-15 and train["verdict"] == "transferable"
    # looser thresholds pass the solvent case
    loose = tf.conformer_transferability(dt, "populations", eps_p_max=0.1, eps_G_max=2.0)
    assert loose[1]["verdict"] == "transferable"
    with pytest.raises(tf.CriteriaError, match="no model draws"):
        tf.conformer_transferability(dt, "scan")
    # the defaults are the documented thresholds, and evaluate() reports the same rows
    assert tf.conformer_transferability(dt, "populations") == res
    assert tf.evaluate(dt).conformers == res


# ------------------------------------------------------------------- shipped data, problem


def test_shipped_data_match_the_forward_model_at_the_published_parameters():
    """data/butane/*.csv (scipy quad, rounded to 6 decimals) vs bayesff at the truth.

    Populations: within the rounding, 5e-7. Scan: E_exact to its 6 decimals,
    and the noisy E within 4 sd (u_E = 0.2 kJ/mol) of it.
    """
    from bayesff.targets import Target

    pops = Target.from_file("p", "conformer_population", ROOT / "data/butane/populations.csv")
    predict = conf.CONFORMER_POPULATION.build(RYCKAERT_BELLEMANS)
    f = np.asarray(predict(BUTANE, {k: jnp.asarray(v) for k, v in pops.env.items()}))
    assert pops.n == 24
    np.testing.assert_allclose(f, pops.values, rtol=0, atol=5.1e-7)

    scan = Target.from_file("s", "torsion_energy", ROOT / "data/butane/torsion_scan.csv")
    e = np.asarray(conf.TORSION_ENERGY.build(RYCKAERT_BELLEMANS)(BUTANE, scan.env))
    raw = np.genfromtxt(ROOT / "data/butane/torsion_scan.csv", delimiter=",", names=True)
    np.testing.assert_allclose(e, raw["E_exact_kJ_per_mol"], rtol=0, atol=5.1e-7)
    assert np.max(np.abs(scan.values - e)) < 4 * 0.2
    np.testing.assert_allclose(scan.env["phi_deg"], np.deg2rad(raw["phi_deg"]), rtol=1e-15)


def test_shipped_problem_loads():
    from bayesff.problem import Problem

    p = Problem.from_toml(ROOT / "models/butane_rb.toml")
    assert p.potential.name == "ryckaert_bellemans"
    assert p.free_parameters == ["C1", "C2", "C3", "C4", "C5"]
    pops = next(t for t in p.targets if t.name == "populations")
    assert int(pops.train.sum()) == 3
    assert sorted(pops.holdout) == ["gas, 250 K", "gas, 350-400 K", "modulated, A = 1 kJ/mol"]
    assert sum(int(m.sum()) for m in pops.holdout.values()) == 21
