"""Every shipped problem in models/ loads and runs with tiny sample counts.

Like numpyro's test_examples.py: a problem file that no longer matches the
package fails here, not in a user's hands.
"""

from __future__ import annotations

import pytest

from bayesff.inference import calibrate
from bayesff.problem import Problem

from support import ROOT

PROBLEMS = sorted((ROOT / "models").glob("*.toml"))


def test_there_are_shipped_problems():
    assert len(PROBLEMS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("path", PROBLEMS, ids=[p.stem for p in PROBLEMS])
def test_shipped_problem_runs(path):
    problem = Problem.from_toml(path)
    run = calibrate(
        problem, write=False, progress=False, log=None, chains=1, warmup=30, samples=30
    )
    post = run.datatree["posterior"]
    for name in problem.free_parameters:
        assert post[name].sizes == {"chain": 1, "draw": 30}
        assert post[name].notnull().all()
