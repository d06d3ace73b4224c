"""The argon LJ B2 problem built in Python instead of TOML.

What it shows: the Python API for anything a problem file cannot express
(your own potential or forward model goes where ``get_potential`` is called).
It builds exactly the problem of ``models/argon_lj_b2.toml`` (the test suite
checks that the two agree) and, run as a script, calibrates it briefly:

    python models/argon_lj_b2.py

References: see models/argon_lj_b2.toml.
"""

from pathlib import Path

from bayesff.potentials import get_potential
from bayesff.priors import PriorSpec
from bayesff.problem import InferenceSettings, Parameter, Problem
from bayesff.targets import Inadequacy, Target

ROOT = Path(__file__).resolve().parent.parent


def build() -> Problem:
    """The argon LJ 12-6 / B2 problem."""
    b2 = Target.from_file(
        "B2",
        "second_virial",
        ROOT / "data/argon/b2.csv",
        train={"T_K": [110.0, 500.0]},
        inadequacy=Inadequacy("inferred_scale", form="relative", prior_scale=0.05),
        data_label="data/argon/b2.csv",
    )
    # targets are immutable: a held-out group gives a new target
    b2 = b2.with_holdout("low T", {"T_K": [85.0, 110.0]})
    b2 = b2.with_holdout("high T", {"T_K": [500.0, 700.0]})
    return Problem(
        name="argon_lj_b2",
        description="LJ 12-6 for argon from the second virial coefficient",
        potential=get_potential("lennard_jones"),
        parameters={
            # epsilon / k_B in K; the model converts to kJ/mol for the potential.
            "epsilon": Parameter(
                "epsilon", "K", PriorSpec("LogNormal", {"median": 120.0, "scale": 0.3})
            ),
            "sigma": Parameter(
                "sigma", "angstrom", PriorSpec("Uniform", {"low": 3.0, "high": 4.0})
            ),
        },
        targets=[b2],
        tolerance={"B2": {"rel": 0.05}},
        inference=InferenceSettings(chains=4, warmup=1000, samples=1000, seed=0, init="laplace"),
    )


if __name__ == "__main__":
    from bayesff.inference import calibrate

    problem = build()
    print(problem.describe())
    run = calibrate(problem, warmup=300, samples=300)
    print(run.summary())
