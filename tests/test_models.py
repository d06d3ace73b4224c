"""Every shipped problem in models/ loads and runs with tiny sample counts.

Like numpyro's test_examples.py: a problem file that no longer matches the
package fails here, not in a user's hands.
"""

from __future__ import annotations

import dataclasses

import pytest

from bayesff.inference import calibrate
from bayesff.problem import Problem

from support import ROOT

PROBLEMS = sorted((ROOT / "models").glob("*.toml"))
# The B2-only and structure-only variants of the joint argon and square-well problems use
# the same targets, observables and options as their joint problem (which runs here); they
# are loaded and checked in tests/test_argon_joint.py and tests/test_square_well_joint.py.
# Running each through the OZ solver again would cost CI minutes and test nothing new.
RUN = [p for p in PROBLEMS if not p.stem.endswith(("_b2", "_structure")) or "joint" not in p.stem]
RUN = [p for p in RUN if not (p.stem.startswith("argon_sw_") and p.stem != "argon_sw_joint")]
# argon_md's smoke run is four reference MD runs (~3 min on CI's 2 cores); the same
# machinery (reference runs, reweighting inside NUTS, recovery of known parameters) is
# tested at smaller N in tests/observables/test_md_targets.py, and the file is loaded and
# its model built below.
RUN = [p for p in RUN if p.stem != "argon_md"]


def test_there_are_shipped_problems():
    assert len(PROBLEMS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("path", RUN, ids=[p.stem for p in RUN])
def test_shipped_problem_runs(path):
    problem = Problem.from_toml(path)
    # a smoke run: few prior draws, short trees (early warm-up of an OZ problem can take
    # 1023 leapfrog steps per draw), no thinning (the shipped thin = 4 is for long runs)
    problem.inference = dataclasses.replace(
        problem.inference, prior_draws=5, thin=1, max_tree_depth=4
    )
    run = calibrate(problem, progress=False, log=None, chains=1, warmup=30, samples=30)
    post = run.datatree["posterior"]
    for name in problem.free_parameters:
        assert post[name].sizes == {"chain": 1, "draw": 30}
        assert post[name].notnull().all()


def test_argon_md_loads_and_builds():
    """The MD problem file matches the package: it loads, and its model builds (the
    reference simulations run only when the model is first traced, so none runs here)."""
    from bayesff.model import build_model

    problem = Problem.from_toml(ROOT / "models" / "argon_md.toml")
    cp = build_model(problem)
    names = [t.observable.name for t in problem.targets]
    assert "md_pressure" in names and "md_energy" in names
    assert cp.free == ["epsilon", "sigma"]
