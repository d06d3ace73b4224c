"""Parallel tempering (``sampler = "tempered"``, bayesff/inference/tempering.py) on a
posterior whose two modes and their weights are known.

The problem: a user's potential u(r) = 4 (0.2 + x^2) E0 [(sigma/r)^12 - (sigma/r)^6]
(LJ with well depth (0.2 + x^2) E0, E0 = 1 kJ/mol, sigma = 3.4 angstrom fixed) whose
B2 depends on x only through x^2, so the likelihood is exactly symmetric in x; the
prior on x, Normal(0.3, 1), is not. Synthetic B2 (made here at x = 1, noise-free; not
measurements) at three temperatures with 70 % errors make two modes, near x = -1 and
x = +1, separated by a valley of 17 nats at x = 0 (there the well is 6 times
shallower). The reference: P(x > 0) by quadrature of prior x likelihood over a grid
of 24001 points in x (the same forward model: this checks the sampler, not the
physics), 0.643 for these settings.

- NUTS from dispersed starts does not cross the valley in 4 x 300 draws: each chain
  keeps the mode it started in, and R-hat flags it (or, where every chain started on
  one side, the weight is plainly wrong): the negative control, the same problem and
  settings but the sampler.
- Tempered NUTS (4 replicas, the hottest at T = 30: the valley is 0.6 nats there)
  crosses: its P(x > 0) lies within 4 Monte Carlo standard errors of the quadrature
  (the MCSE from the ESS of the indicator), every chain visits both modes, R-hat <=
  1.01, and the run file records the ladder and the exchange acceptance. A sign error
  in the exchange's acceptance ratio, or a received position kept with its old
  potential energy, fails it (both tried, 2026-11-29).
"""

from __future__ import annotations

import textwrap

import arviz as az
import numpy as np
import pytest

from bayesff.errors import ProblemError

from support import write_manifest

MODULE = textwrap.dedent(
    '''
    """Tempering test: LJ with well depth 0.2 + x^2 kJ/mol (symmetric in x)."""
    import jax.numpy as jnp

    from bayesff.potentials import PairPotential, ParamSpec
    from bayesff.potentials.plugins import potential_factory
    from bayesff.priors import PriorSpec, Support


    def energy(r, x, sigma):
        """u(r) in kJ/mol; x dimensionless, r and sigma in angstrom."""
        s6 = (sigma / r) ** 6
        # 0.2 + x^2: B2 smooth in x (x^2 alone made B2 -> 0 like x^(1/2) at x = 0, a
        # narrow spurious well there)
        return 4.0 * (0.2 + x**2) * (s6 * s6 - s6)


    MIRROR = PairPotential(
        name="mirror_lj",
        energy=energy,
        params=(
            ParamSpec("x", "dimensionless", Support("real"),
                      PriorSpec("Normal", {"loc": 0.3, "scale": 1.0}), "1",
                      "well depth 0.2 + x^2 kJ/mol, either sign of x"),
            ParamSpec("sigma", "length", Support("positive"),
                      PriorSpec("LogNormal", {"median": 3.4, "scale": 0.1}), "angstrom",
                      "diameter"),
        ),
        length_scale=lambda x, sigma: sigma,
        description="LJ with well depth 0.2 + x^2 kJ/mol",
        reference="synthetic test potential",
    )


    @potential_factory
    def mirror():
        return MIRROR
    '''
)

PROBLEM = """
[problem]
name = "mirror_b2"
description = "two modes of known weight (x and -x give the same B2)"

[potential]
kind = "tempering_mirror:mirror"

[parameters]
x = {{ unit = "1", prior = {{ dist = "Normal", loc = 0.3, scale = 1.0 }} }}
sigma = {{ unit = "angstrom", value = 3.4 }}

[[targets]]
name = "B2"
observable = "second_virial"
data = "data/b2.csv"

[inference]
chains = 4
warmup = 300
samples = {samples}
prior_draws = 20
seed = 3
sampler = "{sampler}"
{ladder}
"""

T_K = np.array([150.0, 250.0, 400.0])
REL_ERROR = 0.7  # of |B2| at x = 1: wide, a valley of 17 nats at x = 0


def _b2(mod, x, T):
    """B2 (cm3/mol) at the temperatures T for each x of a vector."""
    import jax

    from bayesff.observables import second_virial

    one = jax.jit(jax.vmap(lambda v: second_virial(mod.MIRROR, {"x": v, "sigma": 3.4}, T)))
    return np.asarray(one(np.atleast_1d(np.asarray(x, float))))


def _mirror_module(root):
    """The test potential's module, written into ``root`` by the fixture."""
    import importlib
    import sys

    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("tempering_mirror")
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """(directory with data/ and models/, reference P(x > 0), reference valley depth)."""

    root = tmp_path_factory.mktemp("tempering")
    (root / "tempering_mirror.py").write_text(MODULE)
    mod = _mirror_module(root)
    b2 = _b2(mod, 1.0, T_K)[0]
    u = REL_ERROR * np.abs(b2)
    (root / "data").mkdir()
    (root / "models").mkdir()
    rows = "".join(f"{t:.10g},{b:.12g},{e:.6g}\n" for t, b, e in zip(T_K, b2, u, strict=True))
    (root / "data" / "b2.csv").write_text("T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n" + rows)
    write_manifest(root / "data")
    grid, w, loglik = _exact_posterior(mod, b2, u)
    p_positive = w[grid > 0].sum() / w.sum()
    valley = loglik.max() - loglik[grid.size // 2]
    return root, float(p_positive), float(valley)


def _exact_posterior(mod, b2, u):
    """The posterior of x on a grid of 24001 points in [-4, 4]: (grid, unnormalised
    density, log-likelihood), prior x Gaussian likelihood."""
    grid = np.linspace(-4.0, 4.0, 24001)
    model = _b2(mod, np.linspace(0.0, 4.0, 12001), T_K)
    loglik_half = -0.5 * np.sum(((model - b2) / u) ** 2, axis=1)
    loglik = np.concatenate([loglik_half[:0:-1], loglik_half])  # symmetric in x
    logpost = -0.5 * (grid - 0.3) ** 2 + loglik
    return grid, np.exp(logpost - logpost.max()), loglik


def _problem(root, sampler, samples, ladder="", seed=3):
    from bayesff.problem import Problem

    path = root / "models" / f"mirror_{sampler}.toml"
    text = PROBLEM.format(sampler=sampler, samples=samples, ladder=ladder)
    path.write_text(text.replace("seed = 3", f"seed = {seed}"))
    return Problem.from_toml(path, allow_plugins=("tempering_mirror",))


def _import_path(root, monkeypatch):
    monkeypatch.syspath_prepend(str(root))


def test_the_reference_posterior_has_two_modes_and_a_valley(mirror):
    """The test's premise: a valley NUTS will not cross, one tempering at T = 30 does."""
    _, p_positive, valley = mirror
    assert 0.55 < p_positive < 0.65  # the prior's tilt: about sigmoid(2 x 0.3) = 0.65
    assert 8.0 < valley < 30.0, valley  # nats at x = 0 below the modes


@pytest.mark.slow
def test_nuts_alone_is_flagged_and_tempering_recovers_the_weights(mirror, monkeypatch):
    from bayesff import runfile
    from bayesff.inference import calibrate

    root, p_positive, _ = mirror
    _import_path(root, monkeypatch)

    # negative control: NUTS keeps each chain in the mode it starts in
    nuts = calibrate(_problem(root, "nuts", 300), progress=False, log=None)
    x = nuts.datatree["posterior"]["x"].values
    per_chain = (x > 0).mean(axis=1)
    assert np.all((per_chain < 0.02) | (per_chain > 0.98)), per_chain
    # flagged by R-hat where the chains started on both sides; plainly wrong otherwise
    assert float(az.rhat(x)) > 1.1 or abs((x > 0).mean() - p_positive) > 0.3

    lines = []
    out = root / "runs" / "tempered.nc"
    run = calibrate(
        _problem(root, "tempered", 1500, "temperatures = 4\nmax_temperature = 30.0"),
        out=out,
        progress=False,
        log=lines.append,
    )
    x = run.datatree["posterior"]["x"].values
    positive = (x > 0).astype(float)
    assert np.all((positive.mean(axis=1) > 0.2) & (positive.mean(axis=1) < 0.9)), positive.mean(1)
    ess = float(az.ess(positive))
    mcse = np.sqrt(p_positive * (1 - p_positive) / ess)
    assert abs(positive.mean() - p_positive) < 4 * mcse, (positive.mean(), p_positive, mcse)
    assert float(az.rhat(x)) <= 1.01
    attrs = runfile.read(out).attrs
    assert attrs["sampler"] == "tempered" and int(attrs["temperatures"]) == 4
    rates = np.asarray(attrs["swap_acceptance"])
    assert rates.shape == (3,) and np.all((rates > 0) & (rates <= 1)), rates
    steps = np.asarray(attrs["replica_leapfrog_steps"])
    cold = int(run.datatree["sample_stats"]["n_steps"].sum())  # kept draws only
    assert steps.shape == (4,) and steps[0] > cold, (steps, cold)
    assert any("exchange acceptance" in str(line) for line in lines)


@pytest.mark.slow
def test_a_laplace_start_that_finds_two_modes_names_the_tempered_sampler(mirror, monkeypatch):
    """The Laplace start's optimisations end in both modes (x near +-1, 0.6 nats apart by
    the prior's tilt): its log line says so and, for NUTS, names the sampler that passes
    between them; a tempered run's line does not."""
    from bayesff.inference import calibrate

    root, _, _ = mirror
    _import_path(root, monkeypatch)
    for sampler, ladder in (("nuts", ""), ("tempered", "temperatures = 3")):
        said = []
        # seed 2: the optimisations start from draws on both sides of x = 0 (so do seeds
        # 4 and 6; with 0, 1, 3 and 5 all four start at x > 0 and find one mode)
        problem = _problem(root, sampler, 10, f'init = "laplace"\n{ladder}', seed=2)
        calibrate(problem, progress=False, log=said.append)
        (start,) = [str(x) for x in said if str(x).startswith("laplace start")]
        assert "2 competing modes: chains start at each" in start, start
        assert ("sampler = 'tempered'" in start) == (sampler == "nuts"), start


def test_a_ladder_without_tempering_is_refused(mirror, monkeypatch):
    root, _, _ = mirror
    _import_path(root, monkeypatch)
    with pytest.raises(ProblemError, match="set the replicas of sampler = 'tempered'"):
        _problem(root, "nuts", 100, "temperatures = 4")
    with pytest.raises(ProblemError, match=r"temperatures must be an integer in \[2, 64\]"):
        _problem(root, "tempered", 100, "temperatures = 1")
    with pytest.raises(ProblemError, match=r"max_temperature must be a number in \(1, 1e6\]"):
        _problem(root, "tempered", 100, "max_temperature = 0.5")


def test_the_ladder_is_geometric():
    from bayesff.inference.tempering import ladder

    b = ladder(4, 27.0)
    np.testing.assert_allclose(b, [1.0, 1 / 3, 1 / 9, 1 / 27])
    np.testing.assert_allclose(ladder(1, 10.0), [1.0])


@pytest.mark.slow
def test_the_draws_record_their_laplace_mode_and_a_poorly_mixed_split_is_flagged(
    mirror, monkeypatch
):
    """With both modes found by the Laplace start (seed 2), every kept draw records its
    nearest mode (``sample_stats.laplace_mode``): here the side of x = 0, the best mode
    labelled 0. NUTS's chains each keep the mode they start in, and the diagnostics say
    the split between the modes is poorly estimated (the negative control); tempering
    passes between them often enough that its split (P(x > 0) = 0.643 by quadrature)
    is not flagged, and every chain visits both."""
    from bayesff import sites
    from bayesff.inference import calibrate

    root, _, _ = mirror
    _import_path(root, monkeypatch)
    runs = {}
    for sampler, samples, ladder in (
        ("nuts", 300, ""),
        ("tempered", 3000, "temperatures = 4\nmax_temperature = 30.0"),
    ):
        problem = _problem(root, sampler, samples, f'init = "laplace"\n{ladder}', seed=2)
        runs[sampler] = run = calibrate(problem, progress=False, log=None)
        x = run.datatree["posterior"]["x"].values
        labels = run.datatree["sample_stats"][sites.LAPLACE_MODE].values
        assert labels.shape == x.shape
        best_positive = (x[labels == 0] > 0).mean() > 0.5
        assert np.array_equal(labels == 0, (x > 0) == best_positive), sampler
    flagged = [w for w in runs["nuts"].diagnostics.warnings if "competing modes" in w]
    assert len(flagged) == 1 and "sampler = 'tempered'" in flagged[0], flagged
    tempered = runs["tempered"]
    assert not [w for w in tempered.diagnostics.warnings if "competing modes" in w]
    labels = tempered.datatree["sample_stats"][sites.LAPLACE_MODE].values
    assert np.all((labels == 1).any(axis=1) & (labels == 0).any(axis=1))


@pytest.mark.slow
def test_a_batch_labels_only_the_problems_whose_laplace_start_found_several_modes(
    mirror, monkeypatch, tmp_path
):
    """Two problems in one batch (one program): seed 2's Laplace start finds both modes,
    seed 3's one. The first run file records each draw's mode and reads it back (and a
    re-prediction keeps it); the second, whose draws the batch labels -1, has no such
    statistic."""
    from bayesff import runfile, sites
    from bayesff.inference import calibrate_many, repredict

    root, _, _ = mirror
    _import_path(root, monkeypatch)
    problems = [_problem(root, "nuts", 100, 'init = "laplace"', seed=s) for s in (2, 3)]
    outs = [tmp_path / "two.nc", tmp_path / "one.nc"]
    runs = calibrate_many(problems, outs=outs, batch_size=2, progress=False, log=None)
    two, one = (runfile.read(o)["sample_stats"] for o in outs)
    assert sites.LAPLACE_MODE in two and sites.LAPLACE_MODE not in one
    labels = two[sites.LAPLACE_MODE].values
    assert set(np.unique(labels)) == {0, 1}
    again = repredict(problems[0], runs[0], out=tmp_path / "again.nc", log=None)
    kept = again.datatree["sample_stats"][sites.LAPLACE_MODE].values
    assert np.array_equal(kept, labels)


@pytest.mark.slow
def test_a_resumed_run_labels_its_draws_as_the_uninterrupted_one(mirror, monkeypatch, tmp_path):
    """The Laplace start's modes go into the checkpoint: a run interrupted (Ctrl-C) after
    100 kept draws and resumed ends with the uninterrupted run's draws and mode labels,
    bit for bit (without them in the checkpoint it had no labels at all)."""
    from bayesff import sites
    from bayesff.errors import BayesffError
    from bayesff.inference import calibrate, sampling

    root, _, _ = mirror
    _import_path(root, monkeypatch)
    out = tmp_path / "posterior.nc"
    real = sampling._append

    def append(done, block):
        real(done, block)
        if sum(a.shape[2] for a in done["energy"]) >= 100:
            raise KeyboardInterrupt

    def problem():
        return _problem(root, "nuts", 300, 'init = "laplace"', seed=2)

    with monkeypatch.context() as m:
        m.setattr(sampling, "_append", append)
        with pytest.raises(BayesffError):
            calibrate(problem(), out=out, checkpoint_every=50, progress=False, log=None)
    resumed = calibrate(problem(), out=out, resume=True, progress=False, log=None)
    whole = calibrate(problem(), progress=False, log=None)
    for group, name in (("posterior", "x"), ("sample_stats", sites.LAPLACE_MODE)):
        np.testing.assert_array_equal(
            resumed.datatree[group][name].values, whole.datatree[group][name].values
        )


@pytest.mark.slow
def test_importance_sampling_weighs_the_modes_as_quadrature_does(mirror, tmp_path):
    """benchmarks/mode_weights.py (the third estimate of methane-Mie-B2+VLE's minor mode,
    docs/atlas.md) on the two-mode posterior of known split: P(x > 0) and P(x > 1) by
    importance sampling lie within 4 of their standard errors of the quadrature (0.643
    and 0.281; 0.638 +- 0.008 and 0.295 +- 0.013 when written), with Pareto k below 0.7. The
    proposal is shaped by a NUTS run whose chains each keep one mode (two and two: 0.5 of
    its draws at x > 0), so a weight borrowed from the chains would not pass; nor do
    weights without the proposal's density (tried: P(x > 1) off by far more)."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from bayesff.inference import calibrate

    root, p_positive, _ = mirror
    problem = _problem(root, "nuts", 300, 'init = "laplace"', seed=2)  # chains in both modes
    run = tmp_path / "nuts.nc"
    calibrate(problem, out=run, progress=False, log=None)
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(repo)])}
    mod = _mirror_module(root)
    b2 = _b2(mod, 1.0, T_K)[0]
    grid, w, _ = _exact_posterior(mod, b2, REL_ERROR * np.abs(b2))
    assert abs(w[grid > 0].sum() / w.sum() - p_positive) < 1e-12
    for split in (0.0, 1.0):
        out = subprocess.run(
            [sys.executable, str(repo / "benchmarks" / "mode_weights.py"),
             str(root / "models" / "mirror_nuts.toml"), str(run), "--split", f"x={split}",
             "--draws", "4000", "--allow-plugin", "tempering_mirror"],
            capture_output=True, text=True, env=env, cwd=root, check=True,
        ).stdout  # fmt: skip
        k = float(re.search(r"Pareto k (-?[0-9.]+)", out).group(1))
        found = re.search(rf"x > {split}: ([0-9.]+) \+- ([0-9.]+)", out)
        mass, se = map(float, found.groups())
        exact = w[grid > split].sum() / w.sum()
        assert k < 0.7, out
        assert abs(mass - exact) < 4 * se, (split, mass, se, exact)
    x = calibrate(problem, progress=False, log=None).datatree["posterior"]["x"].values
    assert abs((x > 0).mean() - p_positive) > 4 * se  # the chains' own split is off
