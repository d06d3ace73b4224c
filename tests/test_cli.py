"""The command line end to end on the shipped problem, with few draws."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayesff.cli import main

from support import ROOT

SHIPPED = str(ROOT / "models" / "argon_lj_b2.toml")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["calibrate", "--help"], ["sweep", "--help"], ["calibrate", "--samples", "0"]],
)
def test_help_and_usage_errors_do_not_import_the_numerical_stack(argv):
    """`bayesff --help`, a command's --help and a usage error must answer at once: jax,
    numpyro and arviz load only when a command runs (a command's help took 7-10 s)."""
    code = (
        "import sys, bayesff.cli as c\n"
        f"try:\n    c.main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('jax', 'numpyro', 'arviz', 'xarray') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "bayesff" in r.stdout + r.stderr


def test_check_prints_what_will_be_fitted(capsys):
    assert main(["check", SHIPPED]) == 0
    out = capsys.readouterr().out
    assert "potential lennard_jones" in out
    assert "27 training rows of 42" in out
    assert out.strip().endswith("is valid")


def test_check_does_not_import_numpyro_or_arviz():
    code = (
        "import sys\nfrom bayesff.cli import main\n"
        f"assert main(['check', {SHIPPED!r}]) == 0\n"
        "heavy = [m for m in ('numpyro', 'arviz') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_check_reports_bad_input_with_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(SHIPPED).read_text().replace('unit = "K"', 'unit = "Kelvin degrees"'))
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: [parameters.epsilon].unit: unknown energy unit 'Kelvin degrees'" in err


def test_sweep_check_builds_every_task_and_names_the_invalid_one(tmp_path, capsys):
    """`bayesff sweep --check` builds each task's problem and reads its data, samples
    nothing (no run file is written), prints one line per task and exits 1 when one is
    invalid: here a value that sets the B2 target's data to a file that does not exist."""
    base = ROOT / "models" / "argon_lj_b2.toml"
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        f'[sweep]\nname = "s"\nbase = "{base}"\n[[axes]]\nname = "d"\nvalues = [\n'
        '  { label = "good", set = { inference = { seed = 1 } } },\n'
        '  { label = "gone", set = { targets = { B2 = { data = "no_such.csv" } } } },\n]\n'
    )
    runs = tmp_path / "runs"
    assert main(["sweep", str(sweep), "--check", "--runs", str(runs)]) == 1
    out, err = capsys.readouterr()
    assert "good: ok, 2 sampled parameters (epsilon, sigma), 1 of 1 targets trained" in out
    assert "sweep s: 2 tasks checked, 1 valid, 1 invalid" in out
    assert "gone: invalid:" in err and "no_such.csv" in err
    assert not runs.exists()
    assert main(["sweep", str(sweep), "--check", "--only", "d=good", "--quiet"]) == 0
    assert "1 tasks checked, 1 valid, 0 invalid" in capsys.readouterr().out
    assert main(["check", str(sweep)]) == 2  # a sweep given to check: told which command
    assert "a sweep file, not a problem file: check it with bayesff sweep --check" in (
        capsys.readouterr().err
    )


def test_list_shows_potentials_and_units(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("lennard_jones", "mie", "square_well", "fourier", "ryckaert_bellemans"):
        assert word in out
    assert "epsilon  [kJ/mol] > 0" in out
    assert "second_virial (pair|linear): T_K -> B2_cm3_per_mol [cm^3/mol]" in out


@pytest.mark.slow
def test_calibrate_end_to_end(tmp_path):
    """`bayesff calibrate` in a subprocess: summary, run file, no silent overwrite."""
    out = tmp_path / "run" / "posterior.nc"
    cmd = [sys.executable, "-m", "bayesff.cli", "calibrate", SHIPPED, "--out", str(out)]
    cmd += ["--chains", "2", "--warmup", "150", "--samples", "150", "--no-progress"]
    env = {**os.environ, "BAYESFF_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "epsilon" in r.stdout and "sigma" in r.stdout and "r_hat" in r.stdout
    assert f"wrote {out}" in r.stdout
    dt = xr.open_datatree(out, engine="h5netcdf")
    assert dt["posterior"].sizes == {"chain": 2, "draw": 150}
    # a second run refuses to overwrite
    r2 = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r2.returncode == 2
    assert "a run file is already there; pass --force" in r2.stderr


@pytest.mark.slow
def test_report_and_compare_end_to_end(tmp_path, capsys):
    """`bayesff report` ends with the page's path; `bayesff compare` ranks two
    runs on the same data (shipped problem vs. the same with inadequacy none)."""
    runs = []
    for kind in ("inferred_scale", "none"):
        text = Path(SHIPPED).read_text()
        if kind == "none":
            text = text.replace(
                'inadequacy = { kind = "inferred_scale", form = "relative", prior_scale = 0.05 }',
                'inadequacy = "none"',
            ).replace('name = "argon_lj_b2"', 'name = "argon_lj_b2_none"')
        # outside the checkout (tests never write into it), its data paths made absolute
        toml = tmp_path / f"{kind}.toml"
        toml.write_text(text.replace('data = "data/', f'data = "{ROOT}/data/'))
        out = tmp_path / kind / "posterior.nc"
        args = ["calibrate", str(toml), "--out", str(out), "--chains", "2"]
        assert main([*args, "--warmup", "150", "--samples", "150", "--no-progress"]) == 0
        runs.append(out)
    printed = capsys.readouterr().out
    assert "transferability of the held-out environments:" in printed
    assert "B2 low T (5 states, 85-105 K):" in printed
    assert main(["report", str(runs[0]), "--out", str(tmp_path / "rep"), "--quiet"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == str(tmp_path / "rep" / "index.html")
    assert (tmp_path / "rep" / "summary.json").is_file()
    assert main(["compare", *map(str, runs)]) == 0
    table = capsys.readouterr().out
    assert "elpd_loo" in table and "argon_lj_b2_none" in table and "argon_lj_b2 " in table
    # `bayesff repredict`: the same problem gives the same predictions from the same draws;
    # draws of another training model (no inadequacy term) are refused (exit 2)
    again = tmp_path / "again.nc"
    assert main(["repredict", SHIPPED, str(runs[0]), "--out", str(again), "--no-progress"]) == 0
    assert f"wrote {again}" in capsys.readouterr().out
    a, b = xr.open_datatree(again, engine="h5netcdf"), xr.open_datatree(runs[0], engine="h5netcdf")
    for k in b["predictions"].data_vars:
        np.testing.assert_allclose(a["predictions"][k].values, b["predictions"][k].values)
    assert main(["repredict", SHIPPED, str(runs[1]), "--out", str(tmp_path / "x.nc")]) == 2
    assert "its draws are of another model" in capsys.readouterr().err


@pytest.mark.slow
def test_strict_turns_diagnostic_warnings_into_exit_code_1(tmp_path, capsys):
    """Bulk ESS < 400 is a warning, an error with --strict (docs/architecture.md, Inference
    defaults).
    20 draws of one chain cannot reach a bulk ESS of 400, so this run must fail."""
    out = tmp_path / "posterior.nc"
    args = ["calibrate", SHIPPED, "--out", str(out), "--chains", "1", "--warmup", "20"]
    assert main([*args, "--samples", "20", "--no-progress", "--strict"]) == 1
    captured = capsys.readouterr()
    assert "WARNING: bulk ESS below 400" in captured.out
    assert "diagnostics failed and --strict was given" in captured.err
    # the failed run is kept beside the output, never in its place (issue 16)
    assert not out.exists() and (tmp_path / "posterior.failed.nc").exists()
    assert "posterior.failed.nc" in captured.err
    # and with --force it does not replace a good run either (a run file stands for it:
    # --force replaces nothing else)
    (tmp_path / "posterior.failed.nc").rename(out)
    good = out.read_bytes()
    assert main([*args, "--samples", "20", "--no-progress", "--strict", "--force"]) == 1
    assert out.read_bytes() == good


def test_every_command_is_registered_once_and_answers_help(capsys):
    """One registry (bayesff.cli.COMMANDS) names the module of each command; that module
    runs it, no command module defines one the registry lacks, each has its arguments
    (bayesff.cli.arguments) and answers --help."""
    import importlib
    import pkgutil

    import bayesff.cli as cli
    from bayesff.cli.arguments import ARGUMENTS

    defined = {}
    for m in pkgutil.iter_modules(cli.__path__):
        if m.name == "__main__":
            continue  # running it is the command itself
        mod = importlib.import_module(f"bayesff.cli.{m.name}")
        for name in getattr(mod, "COMMANDS", {}):
            assert name not in defined, f"{name} defined in {defined.get(name)} and {m.name}"
            defined[name] = m.name
    assert defined == {k: module for k, (module, _) in cli.COMMANDS.items()}
    assert set(ARGUMENTS) == set(cli.COMMANDS)
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0
        assert f"bayesff {name}" in capsys.readouterr().out


@pytest.mark.parametrize("arg", ["potential", "potential=", "=lj", "potential=,", "potential lj"])
def test_sweep_only_refuses_a_malformed_selection(arg, capsys):
    """--only takes AXIS=LABEL[,LABEL...]; anything else is a usage error naming the form."""
    with pytest.raises(SystemExit) as e:
        main(["sweep", "models/atlas/atlas.toml", "--only", arg])
    assert e.value.code == 2
    assert "expected AXIS=LABEL[,LABEL...]" in capsys.readouterr().err


def test_sweep_only_joins_repeated_axes():
    """Repeated --only options are one selection; an axis given twice keeps both lists."""
    from bayesff.cli.argtypes import axis_labels
    from bayesff.cli.sweep import _only

    pairs = [axis_labels(a) for a in ("potential=lj", "training=B2, VLE", "potential=mie")]
    assert _only(pairs) == {"potential": ["lj", "mie"], "training": ["B2", "VLE"]}
    assert _only([]) is None
