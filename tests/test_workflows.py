"""The workflows' command-line parsers and the inadequacy study's problem variants.

Fast checks without sampling: the parsers accept what the docs show and need
no heavy import; ``bayesff active`` prints the ranking of a run with
hand-chosen draws (spreads known exactly); each inadequacy variant is the
base problem with only its inadequacy term (and name) changed.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import numpy as np
import pytest

from support import ROOT


def _parser():
    from bayesff.cli import build_parser

    return build_parser()


def _run_command(args) -> int:
    from bayesff.cli.active import COMMANDS

    return COMMANDS[args.command](args)


def test_parsers_take_the_documented_commands():
    p = _parser()
    a = p.parse_args(["active", "runs/x/posterior.nc", "-k", "3", "--target", "pool"])
    assert (a.run, a.k, a.target, a.method, a.threshold) == (
        "runs/x/posterior.nc",
        3,
        "pool",
        "committee",
        None,
    )
    with pytest.raises(SystemExit):
        p.parse_args(["active", "r.nc", "-k", "0"])


def test_studies_take_the_documented_options():
    """The studies' own command lines (``python -m studies.NAME``, studies/README.md)."""
    from studies import argon_joint, classical_vs_ml, delta_learning, inadequacy, square_well

    a = square_well.parser().parse_args(["--reuse", "--no-report"])
    assert a.reuse and a.no_report and a.runs == "runs" and a.out == "reports/argon_sw_joint"
    a = argon_joint.parser().parse_args(["--chains", "2", "--skip", "argon_joint"])
    assert a.chains == 2 and a.skip == "argon_joint"
    assert classical_vs_ml.parser().parse_args(["--quick"]).quick
    assert delta_learning.parser().parse_args([]).out == "reports/argon_gp"
    assert inadequacy.parser().parse_args(["--no-doc"]).no_doc


def test_building_the_parsers_imports_no_jax():
    """``bayesff --help`` and ``bayesff COMMAND --help`` must answer at once: the parser,
    with every command's arguments, imports only the standard library."""
    code = (
        "import sys\n"
        "from bayesff.cli import build_parser\n"
        "p = build_parser()\n"
        "assert p.parse_args(['active', 'r.nc', '-k', '3']).k == 3\n"
        "print(any(m.split('.')[0] in ('jax', 'numpyro', 'arviz') for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "False"


def test_active_command_ranks_a_runs_pool(tmp_path, capsys):
    """Two draws differing by 0, 2, 4, 1 at 2.6, 2.8, 6.0, 7.0 angstrom: sd = that / sqrt 2."""
    from handmade_runs import build_run, target

    from bayesff import runfile
    from bayesff.observables import get_observable

    obs = get_observable("pair_force")
    units = {"r_angstrom": "angstrom"}
    f = target("F", obs, {"r_angstrom": [3.0, 4.0]}, [1.0, -0.5], u=0.1, file_units=units)
    pool = target(
        "pool",
        obs,
        {"r_angstrom": [2.6, 2.8, 6.0, 7.0]},
        np.zeros(4),
        u=0.1,
        train=np.zeros(4, bool),
        file_units=units,
    )
    m = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 4.0, 1.0]])
    tr = np.zeros((2, 2))
    dt = build_run(
        [f, pool],
        {
            "F": {"train": {"model": tr, "rep": tr, "ll": tr}},
            "pool": {"holdout": {"model": m, "rep": m}},
        },
    )
    path = runfile.write(dt, tmp_path / "posterior.nc")
    args = _parser().parse_args(["active", str(path), "-k", "2"])
    assert _run_command(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 of 4 candidates of pool, by committee score:"
    assert lines[1] == "rank  r [angstrom]  score [kJ/mol/angstrom]"
    assert lines[2].split() == ["1", "6", f"{4 / np.sqrt(2):.4g}"]
    assert lines[3].split() == ["2", "2.8", f"{2 / np.sqrt(2):.4g}"]
    args = _parser().parse_args(["active", str(path), "--threshold", "10"])
    assert _run_command(args) == 0
    assert "converged: no candidate scores 10" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["none", "inferred_scale", "hierarchical", "gp"])
def test_inadequacy_variants_change_only_the_inadequacy(kind):
    from studies import inadequacy

    base = (ROOT / inadequacy.BASE).read_text()
    text = inadequacy.variant(kind, base)
    doc, ref = tomllib.loads(text), tomllib.loads(base)
    assert doc["problem"]["name"] == f"{ref['problem']['name']}_{kind}"
    (t,), (t0,) = doc["targets"], ref["targets"]
    assert {k: v for k, v in t.items() if k != "inadequacy"} == {
        k: v for k, v in t0.items() if k != "inadequacy"
    }
    problem = inadequacy.variant_problem(kind, ROOT / inadequacy.BASE, ROOT)
    assert problem.targets[0].inadequacy.kind == kind
    accept = 0.95 if kind in ("hierarchical", "gp") else ref["inference"].get("target_accept", 0.8)
    assert problem.inference.target_accept == accept
    with pytest.raises(ValueError, match="unknown inadequacy"):
        inadequacy.variant("wide", base)
