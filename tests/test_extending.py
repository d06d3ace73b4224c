"""A potential written by a user, named in a problem file (issue 15 item 5), end to end.

The Morse potential u(r) = D [(1 - exp(-a (r - r_e)))^2 - 1] is defined in a module
written by the test (not part of bayesff), named as ``kind = "module:factory"`` and
allowed by the caller (``allow_plugins``; a problem file alone cannot import it),
calibrated on synthetic B2 data made from known parameters, reported, and recorded
in the run file. Truth: D/k = 120 K, a = 1.8 1/angstrom, r_e = 3.8 angstrom
(argon-like; synthetic, not measurements).
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from bayesff.errors import BayesffError

from support import write_manifest

MODULE = textwrap.dedent(
    '''
    """A user's Morse potential for bayesff (docs/extending.md)."""
    import jax.numpy as jnp

    from bayesff.potentials import PairPotential, ParamSpec
    from bayesff.potentials.plugins import potential_factory
    from bayesff.priors import PriorSpec, Support


    def energy(r, D, a, r_e):
        """u(r) in kJ/mol; D in kJ/mol, a in 1/angstrom, r and r_e in angstrom."""
        x = jnp.exp(-a * (r - r_e))
        return D * ((1.0 - x) ** 2 - 1.0)


    MORSE = PairPotential(
        name="morse",
        energy=energy,
        params=(
            ParamSpec("D", "energy", Support("positive"),
                      PriorSpec("LogNormal", {"median": 100.0, "scale": 0.5}), "K", "well depth"),
            ParamSpec("a", "inverse_length", Support("positive"),
                      PriorSpec("LogNormal", {"median": 2.0, "scale": 0.5}), "1/angstrom",
                      "range"),
            ParamSpec("r_e", "length", Support("interval", 2.0, 6.0),
                      PriorSpec("Uniform", {"low": 3.0, "high": 4.5}), "angstrom",
                      "position of the minimum"),
        ),
        length_scale=lambda D, a, r_e: r_e - 1.0 / a,
        description="Morse potential",
        reference="P. M. Morse, Phys. Rev. 34, 57 (1929), doi:10.1103/PhysRev.34.57",
    )


    @potential_factory
    def morse():
        return MORSE


    def undeclared():
        return MORSE


    @potential_factory
    def broken():
        import dataclasses
        return dataclasses.replace(MORSE, name="broken", energy=lambda r, D, a, r_e: jnp.nan * r)
    '''
)

TRUTH = {"D": 120.0, "a": 1.8, "r_e": 3.8}

PROBLEM = """
[problem]
name = "morse_b2"
description = "a user's Morse potential on synthetic B2"

[potential]
kind = "{kind}"

[[targets]]
name = "B2"
observable = "second_virial"
data = "data/b2.csv"
train = {{ T_K = [150.0, 600.0] }}

[transferability]
holdout = [ {{ target = "B2", name = "low T", select = {{ T_K = [100.0, 140.0] }} }} ]
tolerance = {{ B2 = {{ rel = 0.05, abs = 0.5 }} }}

[inference]
chains = 2
warmup = 300
samples = 300
prior_draws = 20
"""


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """tmp/mymorse_pkg.py, tmp/data/b2.csv (synthetic Morse B2) + manifest, tmp/models."""
    from bayesff.observables import second_virial
    from bayesff.units import to_internal

    (tmp_path / "mymorse_pkg.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    mod = importlib.import_module("mymorse_pkg")
    T = np.linspace(100.0, 600.0, 21)
    params = {"D": to_internal(TRUTH["D"], "K", "energy"), "a": TRUTH["a"], "r_e": TRUTH["r_e"]}
    b2 = np.asarray(second_virial(mod.MORSE, params, T))
    u = np.maximum(0.5, 0.01 * np.abs(b2))
    (tmp_path / "data").mkdir()
    (tmp_path / "models").mkdir()
    rows = "".join(f"{t:.10g},{b:.12g},{e:.6g}\n" for t, b, e in zip(T, b2, u, strict=True))
    (tmp_path / "data" / "b2.csv").write_text("T_K,B2_cm3_per_mol,u_B2_cm3_per_mol\n" + rows)
    write_manifest(tmp_path / "data")
    return tmp_path


@pytest.mark.slow
def test_a_user_potential_runs_from_toml_to_report(user_dir):
    from bayesff import report, runfile
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    path = user_dir / "models" / "morse.toml"
    path.write_text(PROBLEM.format(kind="mymorse_pkg:morse"))
    problem = Problem.from_toml(path, allow_plugins=("mymorse_pkg",))
    assert problem.potential.name == "morse"
    assert problem.potential_source["module"] == "mymorse_pkg"
    out = user_dir / "runs" / "posterior.nc"
    run = calibrate(problem, out=out, progress=False, log=None)
    post = run.datatree["posterior"]
    # noise-free synthetic data: the truth inside the central 90 % interval
    for name, truth in TRUTH.items():
        lo, hi = np.quantile(post[name].values, [0.05, 0.95])
        assert lo <= truth <= hi, (name, lo, truth, hi)
    assert post["D"].attrs["units"] == "K" and post["a"].attrs["units"] == "1/angstrom"
    dt = runfile.read(out)
    assert dt.attrs["potential_name"] == "morse"
    assert dt.attrs["potential_module"] == "mymorse_pkg"
    assert "mymorse_pkg:morse" in dt.attrs["problem_text"]
    page = report(out, user_dir / "reports" / "morse_b2")
    assert "morse" in page.read_text()


def test_a_potential_that_is_not_finite_gets_a_clear_error(user_dir):
    """A user potential returning NaN: an error naming the potential, the parameter values
    and the observable, before any sampling (not numpyro's 'Cannot find valid initial
    parameters')."""
    from bayesff.inference import calibrate
    from bayesff.problem import Problem

    path = user_dir / "models" / "broken.toml"
    path.write_text(PROBLEM.format(kind="mymorse_pkg:broken"))
    problem = Problem.from_toml(path, allow_plugins=("mymorse_pkg",))
    with pytest.raises(BayesffError, match=r"potential 'broken' gives a non-finite second_virial"):
        calibrate(problem, progress=False, log=None, warmup=10, samples=10)
    with pytest.raises(BayesffError, match=r"D = \d"):
        calibrate(problem, progress=False, log=None, warmup=10, samples=10)


def test_a_bad_plugin_name_is_a_clear_error(user_dir):
    from bayesff.problem import Problem

    path = user_dir / "models" / "bad.toml"
    for kind, match in (
        ("mymorse_pkg:nothing", "module 'mymorse_pkg' has no attribute 'nothing'"),
        ("mymorse_pkg:undeclared", "'mymorse_pkg:undeclared' is a function, not a declared"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
        ("lenard_jones", "unknown potential 'lenard_jones'"),
    ):
        path.write_text(PROBLEM.format(kind=kind))
        with pytest.raises(BayesffError, match=match):
            Problem.from_toml(path, allow_plugins=("mymorse_pkg", "no_such_module_xyz"))
