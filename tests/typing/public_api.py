"""The public API as a user writes it, for the type checker (never run by pytest).

``pyright`` (basic mode, configured in pyproject.toml) checks this file and
``bayesff/__init__.py``: every public name resolves through the package's
``TYPE_CHECKING`` block, and the calls below agree with the signatures.
tests/test_public_api.py runs it.
"""

from __future__ import annotations

import bayesff


def build(data: str) -> bayesff.Problem:
    """The argon LJ B2 problem of models/argon_lj_b2.toml, from the public nouns."""
    b2 = bayesff.Target.from_file(
        "B2",
        "second_virial",
        data,
        train={"T_K": [110.0, 500.0]},
        inadequacy=bayesff.Inadequacy("inferred_scale", form="relative", prior_scale=0.05),
    )
    b2 = b2.with_holdout("low T", {"T_K": [85.0, 110.0]})
    epsilon = bayesff.PriorSpec("LogNormal", {"median": 120.0, "scale": 0.3})
    sigma = bayesff.PriorSpec("Uniform", {"low": 3.0, "high": 4.0})
    return bayesff.Problem(
        name="argon_lj_b2",
        potential=bayesff.get_potential("lennard_jones"),
        parameters={
            "epsilon": bayesff.Parameter("epsilon", "K", epsilon),
            "sigma": bayesff.Parameter("sigma", "angstrom", sigma),
        },
        targets=(b2,),
        tolerance={"B2": {"rel": 0.05}},
        inference=bayesff.InferenceSettings(chains=2, warmup=100, samples=100),
    )


def run(problem: bayesff.Problem, out: str) -> bayesff.Run:
    """Calibrate, judge the held-out groups and write the report."""
    bayesff.configure()
    result = bayesff.calibrate(problem, out=out, force=True, progress=False)
    lines: list[str] = bayesff.evaluate(result.datatree).verdict_lines()
    print("\n".join(lines), bayesff.report(out))
    return result


def reload(path: str) -> bayesff.Problem:
    """A problem file in and out."""
    problem = bayesff.load_problem(path)
    text: str = bayesff.dump_problem(problem)
    print(text, bayesff.units.INTERNAL_UNITS, bayesff.load_run)
    return problem.replace(description="reloaded")
