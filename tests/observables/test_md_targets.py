"""Tests of the MD forward models (bayesff.observables.md_targets) on prepared frames.

LJ in argon-like units: epsilon/k_B = 120 K, sigma = 3.4 angstrom, one state at
T* = 2 (240 K), rho* = 0.6 (0.01527 1/angstrom^3), N = 108, r_cut = 2.5 sigma
(L/2 = 2.82 sigma), 1000 + 2000 steps, a frame every 20 steps (100 frames). Small
and short on purpose: the reweighting identities hold for any run. The reference
run is a module fixture, turned into the prepared arrays by
md_targets.state_arrays (what `bayesff prepare` stores), so this file simulates
twice (the reference, and a direct re-run with the same seed for the identity
test), on one compiled setup. The prepare step, the files and the refine loop are
tested in tests/test_workflows_md.py.

Cost, measured on the 2 shared cores under load 4-8: about 60 s for the file
(importing jax-md ~10 s, each run 7-20 s, the IE tests' compilations ~10 s each).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax_md")  # optional extra: pip install bayesff[md]

import jax
import jax.numpy as jnp

from bayesff.observables import get_observable, liquid, md, md_targets
from bayesff.potentials import get_potential
from bayesff.simulate import lj_md
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

LJ = get_potential("lennard_jones")
EPS_K, SIGMA = 120.0, 3.4
TRUTH = {"epsilon": EPS_K * GAS_CONSTANT_KJ_PER_MOL_K, "sigma": SIGMA}  # kJ/mol, angstrom
T_K, RHO = 2.0 * EPS_K, 0.6 / SIGMA**3
ENV = {"T_K": np.array([T_K]), "rho_per_A3": np.array([RHO])}
RUN = {
    "n_particles": 108,
    "n_steps": 2000,
    "n_equil": 1000,
    "r_cut_angstrom": 2.5 * SIGMA,
    "sample_every": 20,
}
OPTIONS = {"reference": TRUTH, **RUN}
SETTINGS = md_targets.parse_options(LJ, OPTIONS)


def build(name, **options):
    return get_observable(name).build(LJ, **{**OPTIONS, **options})


def aux_for(name, state, **options):
    settings = md_targets.parse_options(LJ, {**OPTIONS, **options})
    return md_targets.target_aux([state], md_targets.quantity_of(name), settings)


@pytest.fixture(scope="module")
def reference_run():
    res = lj_md.simulate(LJ, TRUTH, T_K, RHO, store_frames=True, **SETTINGS.simulate_kwargs(LJ))
    assert res.status == lj_md.OK
    return res


@pytest.fixture(scope="module")
def state(reference_run):
    return md_targets.state_arrays(LJ, reference_run, TRUTH)


@pytest.fixture(scope="module")
def pressure(state):
    return build("md_pressure"), aux_for("md_pressure", state)


# ------------------------------------------------------------------- identities


def test_pressure_at_reference_is_the_plain_average(pressure, reference_run, state):
    """At params == reference the weights are uniform: the prediction is the plain average
    of the reference run, which is the run lj_md.simulate makes with the same settings (same
    seed, same compiled code: bit-identical). Tolerance 1e-10 relative: only the summation
    order of the pair energies differs (each pair once here, twice and halved in md).
    The same under jit with env and aux traced (arguments), as the model passes them."""
    predict, aux = pressure
    kw = {**SETTINGS.simulate_kwargs(LJ), "store_frames": False}
    direct = lj_md.simulate(LJ, TRUTH, T_K, RHO, **kw)
    assert direct.status == lj_md.OK
    assert reference_run.pressure_MPa == direct.pressure_MPa
    p = float(predict(TRUTH, ENV, aux=aux)[0])
    assert p == pytest.approx(direct.pressure_MPa, rel=1e-10)
    p_jit = float(jax.jit(lambda prm, e, a: predict(prm, e, aux=a))(TRUTH, ENV, aux)[0])
    assert p_jit == pytest.approx(direct.pressure_MPa, rel=1e-10)
    e = float(build("md_energy")(TRUTH, ENV, aux=aux_for("md_energy", state))[0])
    assert e == pytest.approx(direct.energy_kJ_per_mol, rel=1e-10)
    ess = md_targets.ess_fractions(LJ, TRUTH, aux)
    assert float(ess[0]) == pytest.approx(1.0, rel=1e-12)


def test_prediction_is_the_reweighting_estimator(pressure, reference_run):
    """Inside the trust region (epsilon +5 %, sigma +0.3 %: ESS/n 0.84) the prediction
    is md.reweight's estimate on the same frames (one shared estimator; md.reweight is
    checked against a direct simulation at epsilon +5 % in test_md.py), to 1e-10 relative
    (summation order over the padded pair arrays)."""
    predict, aux = pressure
    new = {"epsilon": 1.05 * TRUTH["epsilon"], "sigma": 1.003 * SIGMA}
    rw = md.reweight(reference_run.trajectory, new)
    assert float(rw.ess_fraction) > 0.5
    assert float(md_targets.ess_fractions(LJ, new, aux)[0]) == pytest.approx(
        float(rw.ess_fraction), rel=1e-10
    )
    assert float(predict(new, ENV, aux=aux)[0]) == pytest.approx(float(rw.pressure_MPa), rel=1e-10)


def test_structure_factor_at_reference_is_the_run_s_of_q(reference_run, state):
    """md_structure_factor at the run's own shells is its S(q) (1e-10); between shells a
    linear interpolation; outside the box's range (q < 2 pi / L or > q_max) NaN."""
    q = reference_run.q
    mid = 0.5 * (q[3] + q[4])
    env = {
        "T_K": np.full(4, T_K),
        "rho_per_A3": np.full(4, RHO),
        "q_inv_angstrom": np.array([q[3], mid, 0.5 * q[0], q[-1] + 1.0]),
    }
    aux = aux_for("md_structure_factor", state)
    s = np.asarray(build("md_structure_factor")(TRUTH, env, aux=aux))
    assert s[0] == pytest.approx(reference_run.S[3], rel=1e-10)
    assert s[1] == pytest.approx(0.5 * (reference_run.S[3] + reference_run.S[4]), rel=1e-10)
    assert np.isnan(s[2]) and np.isnan(s[3])


def test_rows_are_mapped_to_their_states_inside_jax(pressure):
    """Rows find their state in aux under jit (env and aux traced) and under vmap over
    rows (a hierarchical inadequacy): a second state is the first with T = 300 K and its
    value0 shifted (an index check, not physics); a row at a state without prepared data
    predicts NaN."""
    predict, aux = pressure
    two = {k: np.concatenate([v, v]) for k, v in aux.items()}
    two["T_K"] = np.array([T_K, 300.0])
    two["value0"] = two["value0"] + np.array([0.0, 50.0])
    far = {**TRUTH, "sigma": 1.2 * SIGMA}  # ESS/n ~ 1/n: the linear fallback, value0 + ...
    env = {"T_K": np.array([T_K, 300.0, T_K, 500.0]), "rho_per_A3": np.full(4, RHO)}
    out = np.asarray(jax.jit(lambda p, e, a: predict(p, e, aux=a))(far, env, two))
    assert out[0] == out[2]
    assert out[1] == pytest.approx(out[0] + 50.0, rel=1e-12)
    assert np.isnan(out[3])
    rows = jax.vmap(
        lambda t, r: predict(far, {"T_K": t[None], "rho_per_A3": r[None]}, aux=two)[0]
    )(jnp.asarray(env["T_K"][:3]), jnp.asarray(env["rho_per_A3"][:3]))
    np.testing.assert_allclose(np.asarray(rows), out[:3], rtol=1e-12)


# ------------------------------------------------------------------- smooth trust region


def test_trust_weight_is_a_c2_switch():
    """Perlin's smootherstep in the ESS fraction: 0 below ess_min - w/2, 1 above
    ess_min + w/2 (exactly; 1e-9 off the edges, where 0.3 - 0.1 rounds), 1/2 at ess_min,
    monotone, with zero first derivative at both edges (exact polynomial identities:
    tolerance rounding, 1e-12)."""
    e = jnp.linspace(0.0, 1.0, 201)
    s = np.asarray(md_targets.trust_weight(e, 0.3, 0.2))
    assert np.all(s[e < 0.2 - 1e-9] == 0.0) and np.all(s[e > 0.4 + 1e-9] == 1.0)
    assert float(md_targets.trust_weight(0.3, 0.3, 0.2)) == pytest.approx(0.5, abs=1e-12)
    assert np.all(np.diff(s) >= 0.0)
    ds = jax.vmap(jax.grad(lambda x: md_targets.trust_weight(x, 0.3, 0.2)))
    assert np.allclose(np.asarray(ds(jnp.array([0.2, 0.4]))), 0.0, atol=1e-12)
    assert float(ds(jnp.array([0.3]))[0]) == pytest.approx(15.0 / 8.0 / 0.2, rel=1e-12)


def test_smooth_trust_region_is_finite_and_differentiable_across_ess_min(
    pressure, reference_run, state
):
    """Along sigma from the reference to +3 % the ESS fraction falls from 1 to ~0.02,
    crossing the band [0.2, 0.4] around ess_min = 0.3. Everywhere the prediction and its
    gradient are finite; above the band it is exactly the reweighted average, below it
    exactly the linear fallback value0 + gradient0 . dtheta (same arithmetic: 1e-12);
    and jax.grad matches central differences (h = 1e-6 angstrom: truncation
    O(h^2 p''') < 1e-6 relative, rounding 1e-16 p / h ~ 1e-8) at points inside the band,
    where the switch is active, so the log density NUTS sees is C^1 across ess_min.

    The fallback's value0 and gradient0 (which state_arrays fills with jax.jacfwd) are
    first checked against md.reweight on the reference frames, not against themselves:
    value0 is md.reweight's pressure at the reference (1e-10, summation order), and
    gradient0, the pressure's and the energy's, is the central difference of md.reweight
    in each parameter, in the potential's order (epsilon, sigma), with h = 1e-6 relative.
    Measured on this run: the difference is 1.4e-7 relative at h = 1e-5 and falls as h^2,
    so the truncation at h = 1e-6 is ~1.4e-9, and rounding left <= 1e-9 at h = 1e-6 and
    1e-7; rtol 1e-6. A flipped sign, swapped parameters or a unit slip (per K instead of
    per kJ/mol: a factor 120) miss by 100 % or more."""
    predict, aux = pressure
    at_ref = md.reweight(reference_run.trajectory, TRUTH)
    assert aux["value0"][0] == pytest.approx(float(at_ref.pressure_MPa), rel=1e-10)
    energy_aux = aux_for("md_energy", state)
    for field, grad0 in (("pressure_MPa", aux["gradient0"][0]),
                         ("energy_kJ_per_mol", energy_aux["gradient0"][0])):  # fmt: skip
        for k, name in enumerate(LJ.param_names):
            h = 1e-6 * TRUTH[name]
            up = md.reweight(reference_run.trajectory, {**TRUTH, name: TRUTH[name] + h})
            down = md.reweight(reference_run.trajectory, {**TRUTH, name: TRUTH[name] - h})
            fd = (float(getattr(up, field)) - float(getattr(down, field))) / (2 * h)
            assert grad0[k] == pytest.approx(fd, rel=1e-6), (field, name, grad0, fd)

    def p_of(sig):
        return predict({**TRUTH, "sigma": sig}, ENV, aux=aux)[0]

    grad = jax.jit(jax.value_and_grad(p_of))
    sigmas = SIGMA * np.linspace(1.0, 1.03, 31)
    ess = np.array([float(md_targets.ess_fractions(LJ, {**TRUTH, "sigma": s}, aux)[0])
                    for s in sigmas])  # fmt: skip
    assert ess[0] == pytest.approx(1.0) and ess[-1] < 0.05
    assert np.any((ess > 0.2) & (ess < 0.4)), "the path must cross the band"
    for s, e in zip(sigmas, ess, strict=True):
        v, g = grad(s)
        assert np.isfinite(float(v)) and np.isfinite(float(g)), (s, e)
        theta = jnp.array([TRUTH["epsilon"], s])
        linear = aux["value0"][0] + aux["gradient0"][0] @ (np.asarray(theta) - aux["reference"][0])
        rw = md.reweight(reference_run.trajectory, {"epsilon": TRUTH["epsilon"], "sigma": s})
        if e >= 0.4:
            assert float(v) == pytest.approx(float(rw.pressure_MPa), rel=1e-10)
        if e <= 0.2:
            assert float(v) == pytest.approx(float(linear), rel=1e-12)
    inside = [s for s, e in zip(sigmas, ess, strict=True) if 0.2 < e < 0.4]
    h = 1e-6
    for s in inside:
        fd = (float(p_of(s + h)) - float(p_of(s - h))) / (2 * h)
        assert float(grad(s)[1]) == pytest.approx(fd, rel=1e-5)


def test_gradient_and_hessian_match_central_differences(pressure):
    """jax.grad of the md_pressure prediction in epsilon vs a central difference of the
    same estimate, h = 1e-5 kJ/mol: truncation O(h^2 p''') ~ 1e-10 relative, rounding
    ~1e-16 * p / h ~ 1e-9 MPa per kJ/mol against a slope of ~100; rtol 1e-6. The Hessian
    (the Laplace start differentiates twice) is symmetric and matches central
    differences of the gradient (h = 1e-5 relative; rtol 1e-4)."""
    predict, aux = pressure
    x0 = {**TRUTH, "epsilon": 1.01 * TRUTH["epsilon"], "sigma": 1.002 * SIGMA}

    def p(eps):
        return predict({**x0, "epsilon": eps}, ENV, aux=aux)[0]

    grad = float(jax.grad(p)(x0["epsilon"]))
    h = 1e-5
    fd = (float(p(x0["epsilon"] + h)) - float(p(x0["epsilon"] - h))) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-6)
    assert abs(grad) > 1.0  # not trivially zero

    def f(th):
        return predict({"epsilon": th[0], "sigma": th[1]}, ENV, aux=aux)[0]

    th = jnp.array([x0["epsilon"], x0["sigma"]])
    hess = np.asarray(jax.hessian(f)(th))
    assert hess[0, 1] == pytest.approx(hess[1, 0], rel=1e-8)
    g = jax.grad(f)
    for k in range(2):
        dk = 1e-5 * float(th[k]) * np.eye(2)[k]
        col = (np.asarray(g(th + dk)) - np.asarray(g(th - dk))) / (2 * dk[k])
        np.testing.assert_allclose(hess[:, k], col, rtol=1e-4)


# ------------------------------------------------------------------- ie_corrected


def test_ie_corrected_is_md_at_reference_and_moves_like_the_ie(reference_run, state):
    """IE(theta) + [MD(theta_0) - IE(theta_0)]: MD(theta_0) is the prepared plain average,
    which equals the run's own average to 1e-10 relative (summation order); at theta_0 the
    prediction is that MD value (to 1e-8 MPa: the same IE solve twice, converged to
    1e-10); at epsilon +5 % it differs from it by exactly the IE's own change
    (liquid.solve, same closure and grid), to the same 1e-8."""
    assert float(state["pressure_MPa"]) == pytest.approx(reference_run.pressure_MPa, rel=1e-10)
    assert float(state["energy_kJ_per_mol"]) == pytest.approx(
        reference_run.energy_kJ_per_mol, rel=1e-10
    )
    opts = {"mode": "ie_corrected", "closure": "vm", "n": 1024}
    p_ie, p_aux = build("md_pressure", **opts), aux_for("md_pressure", state, **opts)
    e_ie, e_aux = build("md_energy", **opts), aux_for("md_energy", state, **opts)
    assert "r" not in p_aux  # ie_corrected needs no frames
    p0, e0 = float(state["pressure_MPa"]), float(state["energy_kJ_per_mol"])
    assert float(p_ie(TRUTH, ENV, aux=p_aux)[0]) == pytest.approx(p0, abs=1e-8)
    assert float(e_ie(TRUTH, ENV, aux=e_aux)[0]) == pytest.approx(e0, abs=1e-8)
    moved = {**TRUTH, "epsilon": 1.05 * TRUTH["epsilon"]}
    sol0 = liquid.solve(LJ, TRUTH, T_K, RHO, closure="vm", n=1024)
    sol1 = liquid.solve(LJ, moved, T_K, RHO, closure="vm", n=1024)
    dp = float(sol1.pressure_MPa - sol0.pressure_MPa)
    assert abs(dp) > 1.0  # the IE does move
    assert float(p_ie(moved, ENV, aux=p_aux)[0]) == pytest.approx(p0 + dp, abs=1e-8)
    de = float(sol1.energy_kJ_per_mol - sol0.energy_kJ_per_mol)
    assert float(e_ie(moved, ENV, aux=e_aux)[0]) == pytest.approx(e0 + de, abs=1e-8)


def test_ie_fallback_takes_over_outside_the_trust_region(state):
    """fallback = "ie_corrected": far outside the trust region (sigma +3 %, ESS/n < 0.05)
    the reweight-mode prediction is the ie_corrected one (weight exactly 0: to 1e-10, the
    same solves traced twice), with a finite gradient."""
    opts = {"closure": "vm", "n": 1024}
    p_fb = build("md_pressure", fallback="ie_corrected", **opts)
    aux_fb = aux_for("md_pressure", state, fallback="ie_corrected", **opts)
    p_ie = build("md_pressure", mode="ie_corrected", **opts)
    aux_ie = aux_for("md_pressure", state, mode="ie_corrected", **opts)
    far = {**TRUTH, "sigma": 1.03 * SIGMA}
    assert float(md_targets.ess_fractions(LJ, far, aux_fb)[0]) < 0.05
    v = float(p_fb(far, ENV, aux=aux_fb)[0])
    assert v == pytest.approx(float(p_ie(far, ENV, aux=aux_ie)[0]), rel=1e-10)
    g = jax.grad(lambda s: p_fb({**TRUTH, "sigma": s}, ENV, aux=aux_fb)[0])(far["sigma"])
    assert np.isfinite(float(g)) and abs(float(g)) > 1.0


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "mc"}, "option 'mode' must be one of 'reweight', 'ie_corrected', got 'mc'"),
        ({"fallback": "zero"}, "option 'fallback' must be one of 'linear', 'ie_corrected'"),
        ({"reference": None}, "option 'reference' is required"),
        ({"ess_min": 0.0}, r"option 'ess_min' must be a number in \(0, 1\)"),
        ({"ess_min": 1.5}, r"option 'ess_min' must be a number in \(0, 1\)"),
        ({"ess_min": "0.3"}, r"option 'ess_min' must be a number in \(0, 1\)"),
        ({"ess_min": 0.1, "ess_width": 0.3}, r"band \[-0.05, 0.25\]; it must lie inside"),
        ({"ess_width": 1.0}, r"option 'ess_width' must be a number in \(0, 1\)"),
        ({"reference": {"epsilon": 1.0}}, "must be a table of every parameter"),
        ({"reference": {"epsilon": -1.0, "sigma": 3.4}}, "outside the support"),
        ({"reference": {"epsilon": float("nan"), "sigma": 3.4}}, "finite number"),
        ({"n_particles": 100.5}, "option 'n_particles' must be an integer >= 2"),
        ({"n_steps": 200}, "10 frames; need at least 20"),
        ({"closure": "msa"}, "option 'closure' must be one of"),
        ({"r_cut_angstrom": -1.0}, "option 'r_cut_angstrom' must be a number > 0"),
        ({"frames": 10}, r"unknown option\(s\) frames"),
    ],
)
def test_bad_options_raise_when_built(options, message, monkeypatch):
    """Options are checked when the forward model is built (before any tracing); nothing
    in the forward model ever simulates (lj_md.simulate made to fail)."""

    def no_simulation(*a, **k):  # pragma: no cover - reached only if a model simulates
        raise AssertionError("a forward model simulated")

    monkeypatch.setattr(lj_md, "simulate", no_simulation)
    opts = {**OPTIONS, **options}
    if opts["reference"] is None:
        del opts["reference"]
    with pytest.raises(ValueError, match=message):
        get_observable("md_pressure").build(LJ, **opts)


def test_without_prepared_data_predict_says_to_prepare(monkeypatch):
    """No aux (no prepared data): a clear error naming `bayesff prepare`, and no
    simulation (lj_md.simulate made to fail), also while traced."""
    monkeypatch.setattr(lj_md, "simulate", None)
    predict = build("md_energy", seed=99)
    with pytest.raises(ValueError, match=r"no prepared MD data.*bayesff prepare"):
        predict(TRUTH, ENV)
    with pytest.raises(ValueError, match="bayesff prepare"):
        jax.jit(lambda p: predict(p, ENV, aux={"T_K": np.array([T_K])}))(TRUTH)
