"""One likelihood: the held-out log predictive density is the model's own (issue 27 item 5).

The run file stores the model's log density of every held-out observation at every
draw (``predictions/<target>_log_likelihood``, computed by the model's code when the
run is made), and the atlas's held-out elpd (``bayesff.report.atlas.heldout_elpd``)
is built from it. Here each is checked against an independent formula, evaluated by
SciPy on the run file's own stored draws (held-out model means f_s, inadequacy draws,
u, floor, observations), for the targets the atlas used to skip or compute apart:

* ``inferred_scale`` (relative): y_i ~ N(f_i, sqrt(u_i^2 + e_i^2 + tau^2 f_i^2));
* ``hierarchical``: y_i ~ N(f_i, sqrt(u_i^2 + e_i^2)) with f_i at the group's new
  environment (the same draws as the stored predictions);
* ``gp`` (an HSGP inadequacy): as hierarchical, f_i including the GP term;
* ``discrepancy_gp`` error model: the held-out rows jointly,
  y ~ MVN(f, a^2 k52(|x_i - x_j| / l) + diag(u^2 + e^2)) (docs/likelihoods.md), x the
  curve coordinate scaled over all the target's rows.

elpd_i = log mean_s p(y_i | draw s). Tolerance 1e-9 relative: both sides evaluate the
same normal densities in double precision (the MVN through different Cholesky codes).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from bayesff import runfile
from bayesff.inference import calibrate
from bayesff.observables import SECOND_VIRIAL
from bayesff.potentials import get_potential
from bayesff.problem import InferenceSettings
from bayesff.report.atlas import heldout_elpd
from bayesff.targets import ErrorModel, Inadequacy, Target
from bayesff.units import to_internal

from support import lj_problem

#: 20 temperatures, K: 14 trained (150-400 K) and two held-out groups at each end.
T = np.linspace(110.0, 560.0, 20)
TRAIN = (T >= 150.0) & (T <= 400.0)
GROUPS = {"cold": T < 150.0, "hot": T > 400.0}
SETTINGS = InferenceSettings(chains=2, warmup=150, samples=100, prior_draws=5, seed=3)


def _b2(eps_k=119.8, sigma=3.405):
    params = {"epsilon": to_internal(eps_k, "K", "energy"), "sigma": sigma}
    return np.asarray(SECOND_VIRIAL.build(get_potential("lennard_jones"))(params, {"T_K": T}))


def _target(inadequacy=None, error_model=None):
    """B2 of LJ (epsilon/k 119.8 K, sigma 3.405 angstrom) with a 2 % bias at high T, so
    that the inadequacy terms have something to learn."""
    rng = np.random.default_rng(0)
    y = _b2() * (1.0 + 0.02 * (T > 300.0)) + rng.normal(0.0, 0.3, T.size)
    t = Target.from_arrays(
        "B2", SECOND_VIRIAL, {"T_K": T}, y, 0.3, train=TRAIN, inadequacy=inadequacy
    )
    t = t.replace(holdout={g: m & ~TRAIN for g, m in GROUPS.items()})
    return t if error_model is None else t.replace(error_model=error_model)


def _reference(dt, t: Target, kind: str) -> dict[str, float]:
    """Held-out elpd per group by SciPy from the run file's stored draws."""
    rows = runfile.rows(dt, "B2", "holdout")
    post = runfile.latents(dt, "posterior")
    f = np.asarray(rows.model, float).reshape(-1, rows.observed.size)  # (S, n)
    var = np.asarray(rows.u, float) ** 2 + np.asarray(rows.floor, float) ** 2
    y = np.asarray(rows.observed, float)
    if kind == "discrepancy_gp":
        x = t.curve_coordinate()[t.holdout_mask()]
        a = np.asarray(post["delta_amplitude_B2"].values, float).ravel()
        ell = np.asarray(post["delta_length_B2"].values, float).ravel()
        lp = []
        for s in range(f.shape[0]):
            q = np.sqrt(5.0) * np.abs(x[:, None] - x[None, :]) / ell[s]
            cov = a[s] ** 2 * (1 + q + q * q / 3) * np.exp(-q) + np.diag(var)
            lp.append(stats.multivariate_normal(f[s], cov).logpdf(y))
        e = logsumexp(lp) - np.log(len(lp))
        return {" + ".join(GROUPS): float(e)}
    if kind == "inferred_scale":
        tau = np.asarray(post["tau_B2"].values, float).reshape(-1, 1)
        var = var + (tau * np.abs(f)) ** 2
    lp = stats.norm.logpdf(y, f, np.sqrt(var))
    e_i = logsumexp(lp, axis=0) - np.log(lp.shape[0])
    group = np.asarray(rows.group)
    return {g: float(e_i[group == g].sum()) for g in GROUPS}


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    ["inferred_scale", "hierarchical", "gp", "discrepancy_gp"],
)
def test_atlas_heldout_elpd_is_the_model_s_likelihood(kind):
    if kind == "discrepancy_gp":
        t = _target(error_model=ErrorModel("discrepancy_gp", amplitude_scale=1.0))
    elif kind == "hierarchical":
        t = _target(Inadequacy("hierarchical", bands=2, prior_scale=0.05))
    else:
        t = _target(Inadequacy(kind, prior_scale=0.05))
    run = calibrate(lj_problem([t], SETTINGS, name=f"heldout_{kind}"), progress=False, log=None)
    got = heldout_elpd(run.datatree)
    want = _reference(run.datatree, t, kind)
    assert {g for _, g in got} == set(want)
    for g, value in want.items():
        assert np.isfinite(value)
        assert got[("B2", g)]["elpd"] == pytest.approx(value, rel=1e-9), (kind, g)


def test_a_failed_forward_model_is_density_zero():
    """Negative control of the atlas's reading: a draw whose held-out log-likelihood is
    -inf (the model's value where the forward model failed) makes that state's elpd
    -inf, never a finite number."""
    from handmade_runs import build_run, target

    tgt = target(
        "B2", "second_virial", {"T_K": np.array([100.0, 200.0])}, [-100.0, -40.0],
        train=np.array([False, True]), holdout={"low": np.array([True, False])},
    )  # fmt: skip
    draws = {"B2": {"train": {"model": np.zeros((3, 1)), "rep": np.zeros((3, 1)),
                              "ll": np.zeros((3, 1))},
                    "holdout": {"model": np.zeros((3, 1)), "rep": np.zeros((3, 1))}}}  # fmt: skip
    dt = build_run([tgt], draws)
    dt["predictions"]["B2_log_likelihood"] = dt["predictions"]["B2"] * 0 + np.array(
        [-1.0, -np.inf, -2.0]
    ).reshape(1, 3, 1)
    e = heldout_elpd(dt)[("B2", "low")]
    assert np.isfinite(e["elpd"])  # one of three draws failed: density averages to > 0
    dt["predictions"]["B2_log_likelihood"] = dt["predictions"]["B2"] * 0 - np.inf
    assert heldout_elpd(dt)[("B2", "low")]["elpd"] == -np.inf
