"""Tests of the MD targets (bayesff.observables.md_targets): reweighting inside NUTS.

LJ in argon-like units: epsilon/k_B = 120 K, sigma = 3.4 angstrom, one state at
T* = 2 (240 K), rho* = 0.6 (0.01527 1/angstrom^3), N = 108, r_cut = 2.5 sigma
(L/2 = 2.82 sigma), 1000 + 2000 steps, a frame every 20 steps (100 frames). Small
and short on purpose: the reweighting identities hold for any run, and the
recovery test only needs MD-quality data of the same model. Every run is cached
in-process (module-scoped fixtures, and md_targets' own cache), so the file
makes four simulations (reference, synthetic data, a far reference, the direct
check of test_pressure_at_reference_is_the_plain_average) on one compiled setup.

Cost, measured on the 2 shared cores under load ~4 (nice -n 19): the 19 fast tests
42 s wall (importing jax-md ~10 s, one compilation ~10 s, each run 3-10 s); the slow
NUTS recovery test (2 chains x 80 + 80, two refine() checks) 84 s + 11 s setup.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax_md")  # optional extra: pip install bayesff[md]

import jax

from bayesff.observables import get_observable, liquid, md, md_targets
from bayesff.potentials import get_potential
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


def build(name, **options):
    return get_observable(name).build(LJ, **{**OPTIONS, **options})


@pytest.fixture(scope="module")
def pressure():
    return build("md_pressure")


@pytest.fixture(scope="module")
def reference_run(pressure):
    return pressure.md_engine.reference(T_K, RHO).result


# ------------------------------------------------------------------- identities


def test_pressure_at_reference_is_the_plain_average(pressure, reference_run):
    """At params == reference the weights are uniform: the prediction is the plain average
    of the reference run, which is the run md.simulate makes with the same settings (same
    seed, same compiled code: bit-identical). Tolerance 1e-10 relative: only the summation
    order of the pair energies differs (each pair once here, twice and halved in md)."""
    direct = md.simulate(LJ, TRUTH, T_K, RHO, seed=0, store_frames=False, **RUN)
    assert direct.status == md.OK
    assert reference_run.pressure_MPa == direct.pressure_MPa
    p = float(pressure(TRUTH, ENV)[0])
    assert p == pytest.approx(direct.pressure_MPa, rel=1e-10)
    # under jit (the environment closed over, as bayesff.model does) and for the energy
    p_jit = float(jax.jit(lambda prm: pressure(prm, ENV))(TRUTH)[0])
    assert p_jit == pytest.approx(direct.pressure_MPa, rel=1e-10)
    e = float(build("md_energy")(TRUTH, ENV)[0])
    assert e == pytest.approx(direct.energy_kJ_per_mol, rel=1e-10)
    rw = pressure.md_engine.reweighted(TRUTH, T_K, RHO)
    assert float(rw.ess_fraction) == pytest.approx(1.0, rel=1e-12)


def test_structure_factor_at_reference_is_the_run_s_of_q(reference_run):
    """md_structure_factor at the run's own shells is its S(q) (1e-10); between shells a
    linear interpolation; outside the box's range (q < 2 pi / L or > q_max) NaN."""
    q = reference_run.q
    mid = 0.5 * (q[3] + q[4])
    env = {
        "T_K": np.full(4, T_K),
        "rho_per_A3": np.full(4, RHO),
        "q_inv_angstrom": np.array([q[3], mid, 0.5 * q[0], q[-1] + 1.0]),
    }
    s = np.asarray(build("md_structure_factor")(TRUTH, env))
    assert s[0] == pytest.approx(reference_run.S[3], rel=1e-10)
    assert s[1] == pytest.approx(0.5 * (reference_run.S[3] + reference_run.S[4]), rel=1e-10)
    assert np.isnan(s[2]) and np.isnan(s[3])


def test_rejected_outside_the_trust_region(pressure):
    """sigma +20 %: ESS/n is at its floor 1/n (one frame carries all the weight; at
    N = 108 the trust region ends near sigma +1 %, docs/md.md) and the prediction is
    NaN, which the model turns into a rejected proposal. epsilon +2 % stays inside
    (ESS/n 0.98 at this state) and is finite."""
    far = {**TRUTH, "sigma": 1.2 * SIGMA}
    assert np.isnan(float(pressure(far, ENV)[0]))
    assert float(pressure.md_engine.ess_fraction(far, T_K, RHO)) < 0.05
    near = {**TRUTH, "epsilon": 1.02 * TRUTH["epsilon"]}
    assert np.isfinite(float(pressure(near, ENV)[0]))


def test_gradient_matches_central_differences(pressure):
    """jax.grad of the md_pressure prediction in epsilon vs a central difference of the
    same reweighted estimate, h = 1e-5 kJ/mol: truncation O(h^2 p''') ~ 1e-10 relative,
    rounding ~ 1e-16 * p / h ~ 1e-9 MPa per kJ/mol against a slope of ~100; rtol 1e-6."""
    x0 = {**TRUTH, "epsilon": 1.01 * TRUTH["epsilon"], "sigma": 1.002 * SIGMA}

    def p(eps):
        return pressure({**x0, "epsilon": eps}, ENV)[0]

    grad = float(jax.grad(p)(x0["epsilon"]))
    h = 1e-5
    fd = (float(p(x0["epsilon"] + h)) - float(p(x0["epsilon"] - h))) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-6)
    assert abs(grad) > 1.0  # not trivially zero


# ------------------------------------------------------------------- ie_corrected


def test_ie_corrected_is_md_at_reference_and_moves_like_the_ie(reference_run):
    """IE(theta) + [MD(theta_0) - IE(theta_0)]: at theta_0 the MD value (to 1e-8 MPa: the
    same IE solve, traced and eager, converged to 1e-10); at epsilon +5 % it differs from
    the MD value at theta_0 by exactly the IE's own change (liquid.solve, same closure and
    grid), to the same 1e-8."""
    opts = {"mode": "ie_corrected", "closure": "vm", "n": 1024}
    p_ie = build("md_pressure", **opts)
    e_ie = build("md_energy", **opts)
    assert float(p_ie(TRUTH, ENV)[0]) == pytest.approx(reference_run.pressure_MPa, abs=1e-8)
    assert float(e_ie(TRUTH, ENV)[0]) == pytest.approx(reference_run.energy_kJ_per_mol, abs=1e-8)
    moved = {**TRUTH, "epsilon": 1.05 * TRUTH["epsilon"]}
    sol0 = liquid.solve(LJ, TRUTH, T_K, RHO, closure="vm", n=1024)
    sol1 = liquid.solve(LJ, moved, T_K, RHO, closure="vm", n=1024)
    dp = float(sol1.pressure_MPa - sol0.pressure_MPa)
    assert abs(dp) > 1.0  # the IE does move
    assert float(p_ie(moved, ENV)[0]) == pytest.approx(reference_run.pressure_MPa + dp, abs=1e-8)
    de = float(sol1.energy_kJ_per_mol - sol0.energy_kJ_per_mol)
    assert float(e_ie(moved, ENV)[0]) == pytest.approx(
        reference_run.energy_kJ_per_mol + de, abs=1e-8
    )


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "mc"}, "option 'mode' must be one of 'reweight', 'ie_corrected', got 'mc'"),
        ({"reference": None}, "option 'reference' is required"),
        ({"ess_min": 0.0}, r"option 'ess_min' must be a number in \(0, 1\]"),
        ({"ess_min": 1.5}, r"option 'ess_min' must be a number in \(0, 1\]"),
        ({"ess_min": "0.3"}, r"option 'ess_min' must be a number in \(0, 1\]"),
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
def test_bad_options_raise_before_any_simulation(options, message, monkeypatch):
    def no_simulation(*a, **k):  # pragma: no cover - reached only if validation is missing
        raise AssertionError("simulated before the options were validated")

    monkeypatch.setattr(md, "simulate", no_simulation)
    opts = {**OPTIONS, **options}
    if opts["reference"] is None:
        del opts["reference"]
    with pytest.raises(ValueError, match=message):
        predict = get_observable("md_pressure").build(LJ, **opts)
        predict(TRUTH, ENV)


def test_traced_states_are_refused(monkeypatch):
    """A hierarchical target vmaps the forward model over rows, so T and rho are traced:
    a clear error, before any simulation."""
    monkeypatch.setattr(md, "simulate", None)
    predict = build("md_energy", seed=99)
    with pytest.raises(ValueError, match="need concrete states"):
        jax.vmap(predict, in_axes=(None, 0))(TRUTH, ENV)


# ------------------------------------------------------------------- recovery with NUTS


def _problem(reference, data_run, ref_run):
    """md_pressure + md_energy at the test state; priors narrow enough that every chain
    starts inside the trust region (init_to_central draws from the central 50 % of each
    prior: epsilon/K within 120 +- 3.4 %, sigma within 3.4 +- 0.6 %; ESS/n >= 0.3 reaches
    sigma +-1 % and epsilon +-20 % here)."""
    from bayesff.priors import PriorSpec
    from bayesff.problem import InferenceSettings, Parameter, Problem
    from bayesff.targets import Target

    # u: the two runs' block standard errors combined, x 1.5 because a 10-block standard
    # error is itself uncertain by ~1/sqrt(2 x 9) = 24 % (3 of its sd ~ 1.5x at worst)
    u_p = 1.5 * np.hypot(ref_run.pressure_se_MPa, data_run.pressure_se_MPa)
    u_e = 1.5 * np.hypot(ref_run.energy_se_kJ_per_mol, data_run.energy_se_kJ_per_mol)
    env = {"T_K": [T_K], "rho_per_A3": [RHO]}
    p = Target.from_arrays("p", get_observable("md_pressure"), env, [data_run.pressure_MPa], [u_p])
    e = Target.from_arrays(
        "e", get_observable("md_energy"), env, [data_run.energy_kJ_per_mol], [u_e]
    )
    for t in (p, e):
        t.options = {**OPTIONS, "reference": reference}
    return Problem(
        name="md_truth",
        potential=LJ,
        parameters={
            "epsilon": Parameter(
                "epsilon", "K", PriorSpec("LogNormal", {"median": 120.0, "scale": 0.05})
            ),
            "sigma": Parameter(
                "sigma", "angstrom", PriorSpec("Uniform", {"low": 3.36, "high": 3.44})
            ),
        },
        targets=[p, e],
        inference=InferenceSettings(
            chains=2, warmup=80, samples=80, seed=0, prior_draws=10, max_tree_depth=6
        ),
    )


@pytest.mark.slow
def test_known_truth_recovery_and_refine(reference_run):
    """Synthetic MD data at the truth (seed 1, the same settings), reference run at
    the truth (seed 0): NUTS (2 chains x 80 + 80, tree depth <= 6) puts the truth
    inside each parameter's 95 % interval, and refine() finds the draws inside the
    trust region (median ESS/n >= 0.5, none below ess_min): no re-simulation.
    Negative control: the same draws against a reference at sigma +1.5 % (ESS/n ~ 0.03
    at the truth) are mostly rejected: refine() says re-simulate, and proposes the
    same posterior mean as the new reference."""
    from bayesff.inference import calibrate

    data_run = md.simulate(LJ, TRUTH, T_K, RHO, seed=1, store_frames=False, **RUN)
    assert data_run.status == md.OK
    problem = _problem(TRUTH, data_run, reference_run)
    run = calibrate(problem, progress=False, log=None)
    post = run.datatree["posterior"]
    for name, truth in (("epsilon", EPS_K), ("sigma", SIGMA)):
        lo, hi = np.quantile(post[name].values.ravel(), [0.025, 0.975])
        assert lo < truth < hi, (name, lo, hi)
    report = md_targets.refine(problem, run)
    print("\n" + report.format())
    assert not report.needs_resimulation, report.reasons
    assert {s.target for s in report.states} == {"p", "e"}
    assert report.reference["sigma"] == pytest.approx(SIGMA, rel=0.01)

    far = {**TRUTH, "sigma": 1.015 * SIGMA}
    negative = md_targets.refine(_problem(far, data_run, reference_run), run)
    print(negative.format())
    assert negative.needs_resimulation
    assert all(s.rejected > 0.5 for s in negative.states)
    assert negative.reference == pytest.approx(report.reference)
