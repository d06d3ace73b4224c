"""The public API (issue 27 item 7) and the installed package (item 1).

* Every public name of ``bayesff`` resolves, and the ``TYPE_CHECKING`` block that
  type checkers read names the same ones (so pyright and mypy see the API).
* pyright in basic mode is clean on the public API (``[tool.pyright]`` in
  pyproject.toml: ``bayesff/__init__.py`` and a user's script,
  tests/typing/public_api.py), and catches a wrong call (negative control).
* ``pip install`` of the package into a new venv outside the checkout: every
  command answers ``--help``, and the argon calibration runs from a copied problem
  file and its data, then reports. By default the new venv gets its dependencies
  from this interpreter's site-packages (a path in a .pth file; nothing of the
  checkout) and installs bayesff alone, ``pip check`` confirming the declared
  dependencies are met; ``BAYESFF_FULL_INSTALL_TEST=1`` installs every dependency
  from the package index instead (about 10 minutes here, most of it unpacking).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import bayesff

from support import ROOT


def _type_checking_names() -> set[str]:
    tree = ast.parse((ROOT / "bayesff" / "__init__.py").read_text())
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n)
    )
    return {a.asname or a.name for n in block.body for a in n.names}


def test_every_public_name_resolves_and_type_checkers_see_it():
    assert _type_checking_names() | {"__version__"} == set(bayesff.__all__)
    for name in bayesff.__all__:
        assert getattr(bayesff, name) is not None, name
    assert bayesff.Run is bayesff.inference.Run  # type: ignore[attr-defined]
    assert isinstance(bayesff.PriorSpec("Uniform", {"low": 0.0, "high": 1.0}), bayesff.PriorSpec)


def _pyright(*args: str, cwd: Path = ROOT) -> dict:
    exe = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")
    if exe is None:
        pytest.skip("pyright is not installed (the dev dependency group has it)")
    out = subprocess.run(
        [exe, "--outputjson", "--pythonpath", sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )
    return json.loads(out.stdout)


def test_pyright_basic_is_clean_on_the_public_api(tmp_path):
    report = _pyright()
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert report["summary"]["filesAnalyzed"] >= 2
    assert not errors, "\n".join(
        f"{d['file']}:{d['range']['start']['line']}: {d['message']}" for d in errors
    )
    # negative control: a wrong call through the public API is an error
    bad = tmp_path / "bad.py"
    bad.write_text('import bayesff\nbayesff.Problem(nme="x")\n')
    report = _pyright(str(bad))
    assert report["summary"]["errorCount"] >= 1


def _new_venv(where: Path, full: bool) -> Path:
    """A venv with bayesff installed from a copy of this tree; returns its python."""
    src = where / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "bayesff", src / "bayesff", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    py = where / "venv" / "bin" / "python"
    if full:
        cmd = [str(py), "-m", "pip", "install", "-q", str(src)]
    else:
        # the dependencies from this interpreter's site-packages (not the checkout)
        site = Path(
            subprocess.check_output(
                [str(py), "-c", "import site; print(site.getsitepackages()[0])"], text=True
            ).strip()
        )
        (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        cmd = [str(py), "-m", "pip", "install", "-q", "--no-deps", str(src)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    shutil.rmtree(src)  # nothing of the source tree is left to import from
    return py


#: Run by the installed package's python: {command: (exit status, stdout)} of
#: ``bayesff COMMAND --help`` for every command, as JSON.
_EVERY_HELP = """
import contextlib, io, json
from bayesff.cli import COMMANDS, main
out = {}
for c in COMMANDS:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            code = main([c, "--help"])
        except SystemExit as e:
            code = e.code
    out[c] = (code, buf.getvalue())
print(json.dumps(out))
"""


@pytest.mark.slow
def test_pip_install_outside_the_checkout_runs_every_command_and_a_calibration(tmp_path):
    full = os.environ.get("BAYESFF_FULL_INSTALL_TEST", "") == "1"
    py = _new_venv(tmp_path, full)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    work = tmp_path / "work"
    (work / "models").mkdir(parents=True)
    (work / "data" / "argon").mkdir(parents=True)

    def run(*args, check=True):
        r = subprocess.run(
            [str(py), *args], capture_output=True, text=True, cwd=work, env=env, timeout=1200
        )
        assert not check or r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-3000:])
        return r

    where = run("-c", "import bayesff; print(bayesff.__file__)").stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where
    if not full:
        deps = run("-m", "pip", "check", check=False)
        assert deps.returncode == 0, deps.stdout
    bayesff_cmd = str(py.parent / "bayesff")
    from bayesff.cli import COMMANDS

    out = subprocess.run(
        [bayesff_cmd, "--help"], capture_output=True, text=True, cwd=work, env=env
    )
    assert out.returncode == 0 and all(c in out.stdout for c in COMMANDS), out.stderr
    # every command's own help from the installed package, in one process
    helps = json.loads(run("-c", _EVERY_HELP).stdout)
    assert set(helps) == set(COMMANDS)
    for command, (code, text) in helps.items():
        assert code == 0 and f"bayesff {command}" in text, (command, code, text[-2000:])
    # the shipped problem and its data, copied: what a user of the wheel has
    shutil.copy(ROOT / "models" / "argon_lj_b2.toml", work / "models")
    shutil.copy(ROOT / "data" / "argon" / "b2.csv", work / "data" / "argon")
    shutil.copy(ROOT / "data" / "manifest.toml", work / "data")
    out = subprocess.run(
        [bayesff_cmd, "calibrate", "models/argon_lj_b2.toml", "--chains", "2", "--warmup", "150",
         "--samples", "150", "--no-progress", "--quiet"],
        capture_output=True, text=True, cwd=work, env=env, timeout=1200,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "transferability of the held-out environments" in out.stdout
    assert (work / "runs" / "argon_lj_b2" / "posterior.nc").is_file()
    out = subprocess.run(
        [bayesff_cmd, "report", "runs/argon_lj_b2/posterior.nc", "--quiet"],
        capture_output=True, text=True, cwd=work, env=env, timeout=1200,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert (work / "reports" / "argon_lj_b2" / "index.html").is_file()
