"""Every shipped problem in models/ loads and runs with tiny sample counts.

Like numpyro's test_examples.py: a problem file that no longer matches the
package fails here, not in a user's hands.
"""

from __future__ import annotations

import dataclasses
import tomllib
import warnings

import pytest

from bayesff.errors import ProblemError
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
# argon_md needs its prepared reference runs (`bayesff prepare`: four MD runs, ~3 min on
# CI's 2 cores); the same machinery (prepare, reweighting inside NUTS, the refine loop,
# recovery of known parameters) is tested on a small system in tests/test_workflows_md.py
# and tests/observables/test_md_targets.py, and the file is loaded and checked below.
RUN = [p for p in RUN if p.stem != "argon_md"]
# argon_joint_mie_sq_gp is argon_joint_mie (Mie, B2 + S(q)) with the S(q) target of
# argon_joint_sq_gp (full grid, GP discrepancy); both of those run here.
RUN = [p for p in RUN if p.stem != "argon_joint_mie_sq_gp"]


def test_there_are_shipped_problems():
    assert len(PROBLEMS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("path", RUN, ids=[p.stem for p in RUN])
def test_shipped_problem_runs(path):
    problem = Problem.from_toml(path)
    # a smoke run: few prior draws, short trees (early warm-up of an OZ problem can take
    # 1023 leapfrog steps per draw), no thinning (the shipped thin = 4 is for long runs)
    problem = problem.replace(
        inference=dataclasses.replace(problem.inference, prior_draws=5, thin=1, max_tree_depth=4)
    )
    run = calibrate(problem, progress=False, log=None, chains=1, warmup=30, samples=30)
    post = run.datatree["posterior"]
    for name in problem.free_parameters:
        assert post[name].sizes == {"chain": 1, "draw": 30}
        assert post[name].notnull().all()


def test_argon_md_loads_and_builds(tmp_path):
    """The MD problem file matches the package: it loads without its prepared runs (as
    `bayesff prepare` loads it), its forward models build from its options (which checks
    them; nothing is simulated), it needs four reference runs (one per liquid state,
    shared by the pressure and energy targets), and loaded for calibration without them
    it says to run `bayesff prepare models/argon_md.toml`."""
    from bayesff.model import structure_of
    from bayesff.prepared import plan

    path = ROOT / "models" / "argon_md.toml"
    problem = Problem.from_toml(path, prepared=False)
    names = [t.observable.name for t in problem.targets]
    assert "md_pressure" in names and "md_energy" in names
    assert structure_of(problem).free == ("epsilon", "sigma")
    for t in problem.targets:
        t.forward(problem).build()
    runs = plan(problem)
    assert len(runs) == 4 and all(set(r.targets) == {"p_liquid", "E_liquid"} for r in runs)
    with pytest.raises(ProblemError, match=r"run `bayesff prepare .*argon_md.toml`"):
        Problem.from_toml(path, prepared=tmp_path)


def test_alkane_md_problems_load_and_plan(tmp_path):
    """The TraPPE-UA study's files (models/alkanes/) match the package: they load without
    their prepared runs, their forward models build (options checked), they need one
    prepared file per molecule (six) with the states of the rows they train on or hold out
    (3 per training molecule, 2 per held-out one: 15 liquid runs), the CH3-fixed variant
    plans the very same files (so it can use the main model's runs), and without them
    loading says to run `bayesff prepare`."""
    from bayesff.model import structure_of
    from bayesff.prepared_molecular import plan_molecular

    main = Problem.from_toml(ROOT / "models" / "alkanes" / "trappe_ua.toml", prepared=False)
    variant = Problem.from_toml(
        ROOT / "models" / "alkanes" / "trappe_ua_ch2_only.toml", prepared=False
    )
    assert structure_of(main).free == ("epsilon_CH3", "sigma_CH3", "epsilon_CH2", "sigma_CH2")
    assert structure_of(variant).free == ("epsilon_CH2", "sigma_CH2")
    for t in main.targets:
        t.forward(main).build()
    runs = plan_molecular(main)
    states = {r.molecule: len(r.states) for r in runs}
    assert states == {"propane": 3, "n-butane": 3, "n-pentane": 3, "n-hexane": 2,
                      "n-octane": 2, "n-decane": 2}  # fmt: skip
    assert {r.fingerprint for r in runs} == {r.fingerprint for r in plan_molecular(variant)}
    trained = {t.name for t in main.targets if t.train.any()}
    assert trained == {f"{p}_{m}" for p in ("rho", "dhvap") for m in ("propane", "butane",
                                                                      "pentane")}  # fmt: skip
    with pytest.raises(ProblemError, match=r"run `bayesff prepare .*trappe_ua.toml`"):
        Problem.from_toml(ROOT / "models" / "alkanes" / "trappe_ua.toml", prepared=tmp_path)


def test_a_force_field_cutoff_inside_the_core_is_refused_before_any_md():
    """r_cut below the largest site sigma at the prior centre (TraPPE-UA's CH2: 3.95
    angstrom) is refused when the problem is read, naming [potential].r_cut; before (input
    audit, 2026-11-30) ``bayesff check`` passed and ``bayesff prepare`` failed in OpenMM with
    NaN coordinates. 4 angstrom (just outside) is accepted: the rule is the core, not a
    convention."""
    path = ROOT / "models" / "alkanes" / "trappe_ua.toml"
    doc = tomllib.loads(path.read_text())
    base = (ROOT,)
    for r_cut, ok in ((1.0, False), (3.9, False), (4.0, True)):
        doc["potential"]["r_cut"] = r_cut
        if ok:
            Problem.from_dict(doc, base_dirs=base, prepared=False)
            continue
        says = r"\[potential\]\.r_cut: r_cut = .*\(sigma_CH2 is 3\.95"
        with pytest.raises(ProblemError, match=says):
            Problem.from_dict(doc, base_dirs=base, prepared=False)


SWEEPS = sorted(
    p for p in (ROOT / "models").glob("**/*.toml") if "sweep" in tomllib.loads(p.read_text())
)


@pytest.mark.parametrize("path", SWEEPS, ids=[str(p.relative_to(ROOT / "models")) for p in SWEEPS])
def test_shipped_sweep_expands_to_valid_problems(path, tmp_path):
    """Every task of a shipped sweep file is a valid problem (data paths, merged tables),
    checked as ``bayesff sweep`` checks them before any sampling."""
    from bayesff.sweep import _prepare, expand

    # atlas_sample.toml is the atlas cut to two fluids: [[when]] blocks of the others
    # match no task there (a UserWarning, by design); every other sweep uses all of its
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, tasks = expand(path, tmp_path)
    unused = [str(w.message) for w in caught if "no task" in str(w.message)]
    assert (path.name == "atlas_sample.toml") == bool(unused), unused
    assert tasks
    ok = _prepare(tasks, log=lambda *a: None)
    assert [t.name for t in tasks if t.error] == [], [t.error for t in tasks if t.error]
    assert len(ok) == len(tasks)
