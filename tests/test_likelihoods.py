"""Error models of curves (issue 18): the likelihood itself, grid refinement and coverage.

The synthetic curves are second virial coefficients B2(T) of a Lennard-Jones fluid
(bayesff's registered ``second_virial`` forward model, exact to 1e-11) at T = 110-500 K,
with errors made of a smooth correlated part (a Gaussian process with the Matern-5/2
kernel, amplitude ``A`` cm^3/mol and length ``ELL`` on the temperature scaled to [0, 1])
plus independent noise of standard deviation ``W`` (the stated per-point uncertainty).
That is the situation of a measured or simulated curve whose neighbouring points share
their errors: refining the grid adds points but not information.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from support import lj_problem

#: Synthetic noise: white part (the stated u), correlated amplitude and length (scaled T).
W, A, ELL = 0.5, 2.0, 0.15
#: Truth of the synthetic curves: the classic LJ argon parameters (Rowley, Nicholson and
#: Parsonage 1975; any values inside the prior would do).
TRUTH = {"epsilon": 120.0, "sigma": 3.4}
T_RANGE = (110.0, 500.0)


def matern52(x1, x2, amplitude, length):
    """Matern-5/2 covariance (Rasmussen and Williams 2006, eq. 4.17), written out here so
    that the model's kernel (tinygp) is checked against an independent formula."""
    r = np.sqrt(5.0) * np.abs(np.subtract.outer(x1, x2)) / length
    return amplitude**2 * (1.0 + r + r**2 / 3.0) * np.exp(-r)


def b2(temps, epsilon=TRUTH["epsilon"], sigma=TRUTH["sigma"]):
    """LJ B2 (cm^3/mol) by bayesff's forward model; epsilon in K, sigma in angstrom."""
    from bayesff.observables import get_observable
    from bayesff.potentials import get_potential
    from bayesff.units import to_internal

    predict = get_observable("second_virial").build(get_potential("lennard_jones"))
    params = {"epsilon": to_internal(epsilon, "K", "energy"), "sigma": sigma}
    return np.asarray(predict(params, {"T_K": np.asarray(temps, float)}))


def scaled(temps):
    t = np.asarray(temps, float)
    return (t - t.min()) / (t.max() - t.min())


def curve_target(temps, values, kind, *, cov=None, amplitude_scale=A, length_scale=ELL):
    """A B2 target with the given error model (``cov``: the covariance model's matrix)."""
    from bayesff.targets import ErrorModel, Target

    t = Target.from_arrays("B2", "second_virial", {"T_K": temps}, values, W)
    if kind == "covariance":
        t = t.replace(
            error_model=ErrorModel(kind="covariance", data="synthetic (known covariance)"),
            covariance=np.asarray(cov, float),
        )
    elif kind == "discrepancy_gp":
        t = t.replace(
            error_model=ErrorModel(
                kind="discrepancy_gp", amplitude_scale=amplitude_scale, length_scale=length_scale
            )
        )
    return t


def settings(**kw):
    from bayesff.problem import InferenceSettings

    base = dict(chains=2, warmup=400, samples=600, seed=0, prior_draws=4)
    return InferenceSettings(**{**base, **kw})


# ----------------------------------------------------------------------- the likelihood


@pytest.mark.parametrize(
    ("kind", "n", "pad"),
    [
        ("covariance", 20, 0),
        ("covariance", 20, 5),
        ("discrepancy_gp", 30, 0),
        ("discrepancy_gp", 30, 6),
        ("discrepancy_gp", 150, 0),  # tinygp's quasiseparable solver (n > QUASISEP_MIN_ROWS)
        ("discrepancy_gp", 150, 9),
    ],
)
def test_curve_log_likelihood_is_the_multivariate_normal(kind, n, pad):
    """The stored log-likelihood of a curve is log N(y; f, C) for the whole curve.

    Reference: scipy.stats.multivariate_normal.logpdf with C built here from the
    Matern-5/2 formula (R&W eq. 4.17) plus diag(u^2) (discrepancy_gp), or the given
    covariance plus the inferred scale tau^2 on the diagonal (covariance with
    ``inferred_scale``, absolute). Rows are given in shuffled order (the quasiseparable
    solver sorts them) and, with ``pad``, padded as in a batch of ragged problems (the
    padded rows must leave exactly -log(2 pi)/2 each, which assemble removes).
    Tolerance 1e-9 relative: both sides are double-precision Cholesky factorisations.
    """
    from numpyro.infer.util import log_likelihood

    from bayesff.model import QUASISEP_MIN_ROWS, arrays, model_of, pad_arrays, structure_of
    from bayesff.targets import Inadequacy

    assert (n > QUASISEP_MIN_ROWS) == (n == 150)
    rng = np.random.default_rng(n + pad)
    temps = rng.permutation(np.linspace(*T_RANGE, n))
    u = 0.3 + rng.random(n)
    y = b2(temps) + 3.0 * rng.standard_normal(n)
    x = scaled(temps)
    cov = matern52(x, x, 1.7, 0.2) + np.diag(u**2)
    t = curve_target(temps, y, kind, cov=cov).replace(uncertainties=u)
    if kind == "covariance":
        t = t.replace(
            inadequacy=Inadequacy(kind="inferred_scale", form="absolute", prior_scale=1.0)
        )
    problem = lj_problem([t], settings())
    eps, sig, amp, ell, tau = 117.0, 3.43, 2.3, 0.12, 0.8
    latent = {"epsilon": np.array([eps]), "sigma": np.array([sig])}
    if kind == "discrepancy_gp":
        latent |= {"delta_amplitude_B2": np.array([amp]), "delta_length_B2": np.array([ell])}
        ref_cov = matern52(x, x, amp, ell) + np.diag(u**2)
    else:
        latent |= {"tau_B2": np.array([tau])}
        ref_cov = cov + tau**2 * np.eye(n)
    ref = stats.multivariate_normal(b2(temps, eps, sig), ref_cov).logpdf(y)
    structure = structure_of(problem, {"B2": n + pad})
    data = pad_arrays(arrays(problem), {"B2": n + pad})
    got = float(log_likelihood(model_of(structure), latent, data)["B2"][0])
    got += 0.5 * np.log(2 * np.pi) * pad  # what bayesff.inference.assemble removes
    assert got == pytest.approx(ref, rel=1e-9)


def test_block_bootstrap_keeps_a_trajectory_s_correlation():
    """bootstrap_covariance on a correlated trajectory: blocks recover the variance of the
    mean, single draws underestimate it (negative control).

    Reference: an AR(1) series x_k = phi x_(k-1) + e_k, e_k ~ N(0, 1), has Var(mean of R)
    = (1 + phi) / ((1 - phi) (1 - phi^2) R) for R >> 1/(1 - phi) (Priestley 1981,
    eq. 5.3.33). With phi = 0.9: block_length 1 gives (1 - phi)/(1 + phi) = 0.053 of it.
    Tolerance: one trajectory of 10,000 holds ~100 blocks of 100, so the estimate has
    ~15 % relative sd (sqrt(2/100)) and the moving-block bias is ~ -10 % (Kuensch 1989);
    [0.6, 1.4] is ~2.5 sd either side. The negative control must stay below 0.2.
    """
    from bayesff.targets import bootstrap_covariance

    phi, r = 0.9, 10_000
    rng = np.random.default_rng(4)
    e = rng.standard_normal((r, 2))
    x = np.empty_like(e)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for k in range(1, r):
        x[k] = phi * x[k - 1] + e[k]
    exact = (1 + phi) / ((1 - phi) * (1 - phi**2) * r)
    blocks = bootstrap_covariance(x, block_length=100, n_boot=400, seed=1)
    single = bootstrap_covariance(x, block_length=1, n_boot=400, seed=1)
    assert blocks.shape == (2, 2)
    assert 0.6 < blocks[0, 0] / exact < 1.4
    assert 0.6 < blocks[1, 1] / exact < 1.4
    assert single[0, 0] / exact < 0.2


def test_bootstrap_of_independent_replicates_is_covariance_over_r():
    """Independent replicate curves (block_length 1): the covariance of their mean is C/R.

    Reference: the replicates' own sample covariance over R (numpy.cov), which the
    bootstrap estimates; tolerance 15 %: 2,000 resamples give a variance to
    sqrt(2/2000) = 3 % and a covariance entry to ~4 %.
    """
    from bayesff.targets import bootstrap_covariance

    rng = np.random.default_rng(5)
    x = np.linspace(0, 1, 6)
    c = matern52(x, x, 1.0, 0.3) + 0.01 * np.eye(6)
    curves = rng.multivariate_normal(np.zeros(6), c, size=300)
    got = bootstrap_covariance(curves, block_length=1, n_boot=2000, seed=0)
    ref = np.cov(curves, rowvar=False) / 300
    np.testing.assert_allclose(got, ref, rtol=0.15, atol=0.15 * ref[0, 0] * 0.1)


def test_problem_files_declare_the_error_model_and_check_reports_it():
    """The S(q) target of models/argon_joint_sq_gp.toml (and of its Mie counterpart and
    of argon_sq_sigma.toml) is a GP discrepancy with the priors
    written in the file, and ``bayesff check`` (Problem.describe) says so; a curve target
    that declares none (models/argon_joint.toml's thinned S(q) with its declaration
    removed) gets the default for curves, the GP discrepancy, with a_0 = 3 x the median
    stated u (0.02 -> 0.06); the shipped file declares "independent" (thinned to about
    one independent value per point, as docs/joint.md was computed).

    Reference: the problem files, and the default documented in ErrorModel and
    docs/likelihoods.md.
    """
    from bayesff.problem import Problem

    from support import ROOT

    for name in ("argon_joint_sq_gp", "argon_joint_mie_sq_gp", "argon_sq_sigma"):
        gp = Problem.from_toml(ROOT / "models" / f"{name}.toml")
        sq = next(t for t in gp.targets if t.name == "Sq")
        assert sq.error_model.kind == "discrepancy_gp", name
        assert (sq.error_model.amplitude_scale, sq.error_model.length_scale) == (0.06, 0.1)
        assert int(sq.train.sum()) == 238, name
        text = gp.describe()
        assert "error model discrepancy_gp" in text and "HalfNormal(0.06)" in text
    import tomllib

    shipped = Problem.from_toml(ROOT / "models" / "argon_joint.toml")
    assert next(t for t in shipped.targets if t.name == "Sq").error_model.kind == "independent"
    doc = tomllib.loads((ROOT / "models" / "argon_joint.toml").read_text())
    for t in doc["targets"]:
        t.pop("error_model", None)
    default = Problem.from_dict(doc, base_dirs=(ROOT / "models", ROOT))
    sq = next(t for t in default.targets if t.name == "Sq")
    b2_target = next(t for t in default.targets if t.name == "B2")
    assert sq.error_model.kind == "discrepancy_gp" and sq.error_model.amplitude_scale is None
    assert b2_target.error_model.kind == "independent"
    assert "HalfNormal(0.06)" in default.describe()


# --------------------------------------------------------- grid refinement and coverage


def correlated_noise(temps, rng):
    """One draw of the synthetic curve errors on ``temps``: GP(0, A^2 k_5/2(d/ELL)) plus
    white noise of sd W (k_5/2 on the temperature scaled over T_RANGE)."""
    x = (np.asarray(temps, float) - T_RANGE[0]) / (T_RANGE[1] - T_RANGE[0])
    c = matern52(x, x, A, ELL) + 1e-10 * np.eye(x.size)
    return rng.multivariate_normal(np.zeros(x.size), c) + W * rng.standard_normal(x.size)


def three_models(temps, y, name):
    """The same curve under the three error models, each honest about the pointwise sd:

    * independent, with u = sqrt(W^2 + A^2), the true marginal sd of each point (so that
      only the correlation is ignored);
    * covariance, with the true covariance A^2 K + W^2 I;
    * discrepancy_gp, with u = W and the GP's hyperparameters learned (priors
      a ~ HalfNormal(A), ell ~ LogNormal(ln ELL, 0.75): centred on, not fixed at, the truth).
    """
    x = scaled(temps)
    cov = matern52(x, x, A, ELL) + W**2 * np.eye(x.size)
    ind = curve_target(temps, y, "independent").replace(
        uncertainties=np.full(x.size, np.hypot(W, A))
    )
    return {
        "independent": lj_problem([ind], settings(), name=f"{name}_ind"),
        "covariance": lj_problem(
            [curve_target(temps, y, "covariance", cov=cov)], settings(), name=f"{name}_cov"
        ),
        "discrepancy_gp": lj_problem(
            [curve_target(temps, y, "discrepancy_gp")], settings(), name=f"{name}_gp"
        ),
    }


def refinement_study(
    kinds=("independent", "covariance", "discrepancy_gp"), sizes=(12, 24, 48), data_seed=18, **kw
) -> dict:
    """Posterior sd of epsilon and sigma under each error model on nested grids.

    One error curve is drawn on the finest grid and subsampled, so that every grid sees
    the same error curve. Returns {(model, n): {parameter: sd}}.
    """
    import bayesff

    rng = np.random.default_rng(data_seed)
    fine = np.linspace(*T_RANGE, max(sizes))
    y = b2(fine) + correlated_noise(fine, rng)
    problems, keys = [], []
    for n in sizes:
        s = slice(None, None, max(sizes) // n)
        assert fine[s].size == n
        for kind, p in three_models(fine[s], y[s], f"n{n}").items():
            if kind in kinds:
                problems.append(p)
                keys.append((kind, n))
    runs = bayesff.calibrate_many(problems, log=None, **kw)
    return {
        k: {p: float(r.datatree["posterior"][p].std()) for p in TRUTH}
        for k, r in zip(keys, runs, strict=True)
    }


@pytest.mark.slow
def test_refining_the_grid_narrows_only_the_independent_posterior():
    """One correlated error curve, observed on 12, 24 and 48 points of the same range.

    Reference (issue 18 item 2): refining the grid adds points but no information about
    the smooth part of the error, so an honest likelihood's posterior sd must stay
    (within 10 %, the issue's bound; the linearised model's Fisher information with the
    true covariance gives sd changes below 1 % from 12 to 96 points), while the
    independent model's shrinks as 1/sqrt(n) (Fisher information proportional to n): 4x
    the points, half the sd; accepted [0.40, 0.62]. Monte Carlo error of an sd from 2 x
    700 NUTS draws (ESS >= ~400) is ~3.5 %, of a ratio ~5 %: the 10 % bound is 2 of those.
    """
    sd = refinement_study(("independent", "covariance"), chains=2, warmup=300, samples=700, seed=1)
    for p in TRUTH:
        shrink = sd[("independent", 48)][p] / sd[("independent", 12)][p]
        assert 0.40 < shrink < 0.62, (p, shrink)
        for n in (24, 48):
            ratio = sd[("covariance", n)][p] / sd[("covariance", 12)][p]
            assert abs(ratio - 1.0) < 0.10, ("covariance", n, p, ratio)


def refinement_sets_study(
    kinds=("discrepancy_gp",), n_sets=8, sizes=(12, 24, 48), first_seed=18, **kw
) -> dict:
    """The refinement study over ``n_sets`` data sets (data seeds ``first_seed``,
    ``first_seed + 1``, ...): {(model, seed, n): {parameter: sd}}, each sd estimated from
    the interquartile range (:func:`robust_sd`).

    Each set's error curve is drawn on ``max(sizes)`` temperatures and subsampled; the
    sets of one model and grid size run through :func:`bayesff.calibrate_many` (one
    compiled sampler for all of them).
    """
    import bayesff

    curves = {}
    for s in range(first_seed, first_seed + n_sets):
        fine = np.linspace(*T_RANGE, max(sizes))
        curves[s] = (fine, b2(fine) + correlated_noise(fine, np.random.default_rng(s)))
    sd = {}
    for kind in kinds:
        for n in sizes:
            step = max(sizes) // n
            problems = [
                three_models(fine[::step], y[::step], f"set{s}_n{n}")[kind]
                for s, (fine, y) in curves.items()
            ]
            runs = bayesff.calibrate_many(problems, log=None, progress=False, **kw)
            for s, r in zip(curves, runs, strict=True):
                sd[(kind, s, n)] = {p: robust_sd(r.datatree["posterior"][p]) for p in TRUTH}
    return sd


def robust_sd(draws) -> float:
    """The posterior sd estimated as IQR / 1.349 (exact for a Normal). The GP
    discrepancy's posterior has heavy tails that one chain of 700 draws may or may not
    visit: with the chains on two devices (another random stream) data seed 20 at 24
    points had chain sds of 7.34 and 3.68 (ESS 163), its sample-sd ratio to 12 points
    1.65 and the mean of the 8 sets' ratios 1.14 (the test's bound is 0.10), while the
    mean IQR ratios were 0.99-1.03 on either stream (24 and 48 points; 2026-12-01)."""
    q25, q75 = np.quantile(np.asarray(draws).ravel(), [0.25, 0.75])
    return float((q75 - q25) / 1.3489795003921634)


@pytest.mark.slow
def test_refining_the_grid_keeps_the_gp_discrepancy_sd_on_average():
    """The GP discrepancy's posterior sd (IQR / 1.349: :func:`robust_sd`), averaged over 8
    data sets, changes by less than 10 % (issue 18's bound) from 12 to 24 and to 48 points
    of the same error curves, whatever the chains' random stream (one device per
    process, as in CI, or two, as in a single-process run).

    Reference: as the refinement test above (refining adds no information about the
    smooth part of the error). One data set is not enough: its sd ratio scatters by
    +/- 10-25 % with the data (the GP's amplitude and length are learned from that one
    curve; data seed 18 alone gives 0.88 from 12 to 24 points) and by ~5 % Monte Carlo
    error; the mean of 8 has a standard error of ~4 % (measured:
    benchmarks/results/likelihood_refinement.json). About 4 minutes on 2 cores.
    """
    sd = refinement_sets_study(("discrepancy_gp",), 8, chains=2, warmup=300, samples=700, seed=1)
    seeds = sorted({s for _, s, _ in sd})
    for n in (24, 48):
        for p in TRUTH:
            ratio = np.mean(
                [sd[("discrepancy_gp", s, n)][p] / sd[("discrepancy_gp", s, 12)][p] for s in seeds]
            )
            assert abs(ratio - 1.0) < 0.10, (n, p, ratio)


#: Data sets of the coverage test and the binomial band their hit count must fall in.
N_SETS = 40


def binomial_band(n: int, p: float = 0.9, level: float = 0.99) -> tuple[int, int]:
    """Central ``level`` interval of Binomial(n, p): the accepted counts of hits."""
    return int(stats.binom.ppf((1 - level) / 2, n, p)), int(stats.binom.isf((1 - level) / 2, n, p))


def coverage_study(
    kinds=("independent", "covariance", "discrepancy_gp"),
    n_sets=N_SETS,
    n_points=16,
    data_seed=1973,
    **kw,
) -> dict:
    """Hits of the 90 % equal-tailed intervals of epsilon and sigma on the truth, per
    error model, over ``n_sets`` synthetic curves. Returns {model: {parameter: hits}}."""
    import bayesff

    rng = np.random.default_rng(data_seed)
    temps = np.linspace(*T_RANGE, n_points)
    truth_curve = b2(temps)
    by_kind = {k: [] for k in kinds}
    for i in range(n_sets):
        y = truth_curve + correlated_noise(temps, rng)
        for kind, p in three_models(temps, y, f"set{i}").items():
            if kind in kinds:
                by_kind[kind].append(p)
    hits = {}
    for kind, problems in by_kind.items():
        runs = bayesff.calibrate_many(problems, log=None, **kw)
        hits[kind] = {}
        for p in TRUTH:
            q = [np.quantile(r.datatree["posterior"][p].values, [0.05, 0.95]) for r in runs]
            hits[kind][p] = int(sum(a <= TRUTH[p] <= b for a, b in q))
    return hits


@pytest.mark.slow
def test_covariance_model_covers_at_the_nominal_rate_and_independent_does_not():
    """90 % equal-tailed posterior intervals of epsilon and sigma against the truth, over
    40 synthetic curves of 16 points with correlated errors.

    Reference (issue 18 item 3): a calibrated error model covers at 90 %; the number of
    hits of 40 is then Binomial(40, 0.9), and its central 99 % interval [30, 40] (scipy)
    is the accepted band for each parameter (a 1 % chance of failing a correct model per
    parameter). The independent model with the right pointwise sd counts the 16 points as
    16 independent values where the errors leave a handful (correlation length 0.15 of
    the range): its intervals are ~2x too narrow (Fisher information, ratio 2.0 at 16
    points) and must miss the truth more often than the band allows (fewer than 30 hits;
    the expectation is ~55 %). The GP discrepancy's coverage is not tested here (40 fits
    of it take too long for CI on 2 cores; docs/likelihoods.md).
    """
    lo, hi = binomial_band(N_SETS)
    assert (lo, hi) == (30, 40)
    hits = coverage_study(
        ("independent", "covariance"), data_seed=7, chains=2, warmup=250, samples=300
    )
    for p in TRUTH:
        assert lo <= hits["covariance"][p] <= hi, ("covariance", p, hits["covariance"][p])
        assert hits["independent"][p] < lo, ("independent", p, hits["independent"][p])


def test_run_with_a_correlated_curve_and_held_out_rows_is_evaluated():
    """A run whose trained curve has correlated errors stores one log-likelihood for the
    whole curve (not one per row); the transferability verdicts, the LOO table and the
    sensitivity summary read it without assuming one value per row.

    Reference: the run's own shapes (238 rows of argon S(q) under discrepancy_gp once
    failed here with "cannot reshape array of size 1000 into shape (238)"), and the
    held-out rows' verdict, which must exist for the group that was held out.
    """
    from bayesff.inference import calibrate
    from bayesff.transferability import evaluate

    temps = np.linspace(*T_RANGE, 24)
    y = b2(temps) + correlated_noise(temps, np.random.default_rng(3))
    t = curve_target(temps, y, "discrepancy_gp").replace(train=temps <= 400.0)
    t = t.with_holdout("hot", {"T_K": [400.5, 500.0]})
    p = lj_problem([t], settings(warmup=100, samples=100, prior_draws=10), name="gp_holdout")
    run = calibrate(p, progress=False, log=None)
    ll = run.datatree["log_likelihood"]["B2"]
    assert ll.shape == (2, 100, 1)
    res = evaluate(run.datatree)
    assert [(g["target"], g["group"]) for g in res.groups] == [("B2", "hot")]
    assert res.groups[0]["n"] == int((temps > 400.0).sum())
