"""Problem files are data: a ``module:factory`` name runs code only when the user allows it
(issue 28 item 1).

The module a file names is imported only if the person running bayesff allowed it
(``--allow-plugin``, the user's configuration file, ``allow_plugins=`` in Python), and
the attribute must be a declared potential or factory. Each test says what it fails on
in the code before this round, where a problem file could import any module and call
any attribute of it.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib

import pytest

from bayesff.cli import main
from bayesff.errors import ProblemError
from bayesff.potentials import plugins
from bayesff.problem import Problem, load_problem
from bayesff.sweep import run_batch

from support import ARGON_B2, PROBLEM_TOML, ROOT, write_manifest

#: A plug-in module that leaves a mark when imported, with one declared factory and one
#: function that is not declared.
MODULE = textwrap.dedent(
    """
    import pathlib

    from bayesff.potentials import LENNARD_JONES
    from bayesff.potentials.plugins import potential_factory

    pathlib.Path(__file__).with_name("IMPORTED").write_text("imported")


    @potential_factory
    def lj():
        return LENNARD_JONES


    def undeclared():
        return LENNARD_JONES
    """
)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """The developer's own ~/.config/bayesff/config.toml must not change these tests."""
    monkeypatch.delenv("BAYESFF_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _project(tmp_path, monkeypatch, kind: str):
    """tmp/markplugin_xyz.py on sys.path, tmp/data/b2.csv, tmp/models/toy.toml naming kind."""
    (tmp_path / "markplugin_xyz.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("markplugin_xyz", None)
    (tmp_path / "data").mkdir()
    shutil.copy(ARGON_B2, tmp_path / "data" / "b2.csv")
    write_manifest(tmp_path / "data")
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "toy.toml"
    path.write_text(PROBLEM_TOML.replace('kind = "lennard_jones"', f'kind = "{kind}"'))
    return path


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_problem_file_naming_os_abort_is_refused_not_run(tmp_path):
    """``kind = "os:abort"``: exit 2 and one line naming the file, the field and how to
    allow a module; before, ``bayesff check`` imported os and called abort (exit 134)."""
    (tmp_path / "data").mkdir()
    shutil.copy(ARGON_B2, tmp_path / "data" / "b2.csv")
    write_manifest(tmp_path / "data")
    path = tmp_path / "evil.toml"
    path.write_text(PROBLEM_TOML.replace('kind = "lennard_jones"', 'kind = "os:abort"'))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env.pop("BAYESFF_CONFIG", None)
    res = subprocess.run(
        [sys.executable, "-m", "bayesff.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    line = _one_line(res.stderr)
    assert f"{path}: [potential].kind" in line
    assert "'os:abort'" in line and "not allowed" in line and "--allow-plugin os" in line


def test_a_module_is_imported_only_when_the_user_allows_it(tmp_path, monkeypatch, capsys):
    """Refused before the import (the module's mark is not written); with
    ``--allow-plugin`` the same file checks. Before, the module was imported at once."""
    path = _project(tmp_path, monkeypatch, "markplugin_xyz:lj")
    assert main(["check", str(path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "--allow-plugin markplugin_xyz" in line and "config.toml" in line
    assert not (tmp_path / "IMPORTED").exists()
    assert main(["check", str(path), "--allow-plugin", "markplugin_xyz"]) == 0
    assert (tmp_path / "IMPORTED").exists()
    # the flag's permission ended with the command
    assert plugins.allowed_modules() == ()


@pytest.mark.parametrize(
    ("kind", "found"),
    [("os:getcwd", "builtin_function_or_method"), ("markplugin_xyz:undeclared", "function")],
)
def test_an_allowed_module_must_declare_the_potential(tmp_path, monkeypatch, kind, found):
    """Allowing a module is not enough: ``os.getcwd`` or an unmarked function is refused
    before it is called, naming what is expected (before, both were called)."""
    path = _project(tmp_path, monkeypatch, kind)
    with pytest.raises(ProblemError) as e:
        load_problem(path, allow_plugins=("os", "markplugin_xyz"))
    msg = str(e.value)
    assert f"[potential].kind: {kind!r} is a {found}, not a declared bayesff potential" in msg
    assert "@bayesff.potentials.plugins.potential_factory" in msg


def test_the_user_configuration_file_allows_modules(tmp_path, monkeypatch, capsys):
    """``[plugins] allow`` in $XDG_CONFIG_HOME/bayesff/config.toml allows, $BAYESFF_CONFIG
    points to another file, and a malformed one is an error naming its file and field."""
    path = _project(tmp_path, monkeypatch, "markplugin_xyz:lj")
    cfg = tmp_path / "xdg" / "bayesff" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[plugins]\nallow = ["markplugin_xyz"]\n')
    assert load_problem(path).potential.name == "lennard_jones"
    other = tmp_path / "other.toml"
    other.write_text('[plugins]\nallow = "markplugin_xyz"\n')
    monkeypatch.setenv("BAYESFF_CONFIG", str(other))
    assert main(["check", str(path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"{other}: [plugins].allow: expected a list of module names" in line


def test_the_python_api_allows_for_one_call_or_a_block(tmp_path, monkeypatch):
    """``load_problem(..., allow_plugins=...)`` and ``with allow_plugins(...)`` allow only
    while they last."""
    path = _project(tmp_path, monkeypatch, "markplugin_xyz:lj")
    assert load_problem(path, allow_plugins=("markplugin_xyz",)).potential.name == (
        "lennard_jones"
    )
    with pytest.raises(ProblemError, match="which you have not allowed"):
        load_problem(path)
    with plugins.allow_plugins("markplugin_xyz"):
        assert plugins.allowed_modules() == ("markplugin_xyz",)
        load_problem(path)
    assert plugins.allowed_modules() == ()
    with pytest.raises(ProblemError, match="expected a module name"):
        load_problem(path, allow_plugins=("../evil",))


def test_another_version_of_a_plugin_is_another_fingerprint(tmp_path, monkeypatch):
    """Review, 2026-11-30: an upgraded plug-in potential (same name, another energy) kept the
    fingerprint, so a checkpoint or a sweep's run of the old version was resumed or skipped
    as the new one's. A plug-in's module, qualname and version are hashed; bayesff's own
    potentials' fingerprints do not depend on them (they are unchanged)."""
    path = _project(tmp_path, monkeypatch, "markplugin_xyz:lj")
    loaded = load_problem(path, allow_plugins=("markplugin_xyz",))
    assert loaded.potential_source["provider"] == "markplugin_xyz"
    src = {**loaded.potential_source, "module": "markplugin_xyz", "qualname": "energy"}
    p = loaded.replace(potential_source={**src, "version": "1.0"})
    upgraded = p.replace(potential_source={**src, "version": "2.0"})
    assert upgraded.fingerprint() != p.fingerprint()
    assert upgraded.source_text == ""  # the text no longer says which potential ran
    # a plug-in made of bayesff's pieces (its energy's module is bayesff's): another
    # cut-off of it is another problem, and its provider's version is hashed
    fps = set()
    for body in ("return LENNARD_JONES", "return truncated(LENNARD_JONES, 8.0)",
                 "return truncated(LENNARD_JONES, 12.0)"):  # fmt: skip
        text = MODULE.replace("return LENNARD_JONES", body, 1)
        text = text.replace("import LENNARD_JONES", "import LENNARD_JONES, truncated")
        (tmp_path / "markplugin_xyz.py").write_text(text)
        sys.modules.pop("markplugin_xyz", None)
        q = load_problem(path, allow_plugins=("markplugin_xyz",))
        assert q.potential_source["module"].startswith("bayesff.")
        fps.add(q.fingerprint())
        assert (
            q.replace(
                potential_source={**q.potential_source, "provider_version": "9"}
            ).fingerprint()
            != q.fingerprint()
        )
    assert len(fps) == 3
    builtin = Problem.from_toml(ROOT / "models" / "argon_lj_b2.toml")
    bsrc = builtin.potential_source
    assert bsrc["module"].startswith("bayesff.")
    same = builtin.replace(potential_source={**bsrc, "version": "0.0"})
    assert same.fingerprint() == builtin.fingerprint()


def test_sweep_workers_allow_exactly_what_the_parent_allowed(tmp_path, monkeypatch):
    """A Dask worker runs :func:`run_batch` in a thread of its own (no context of the
    parent): the task spec carries the parent's list, and the worker's own configuration
    file does not widen it. The task's data file is missing, so an allowed plug-in gets
    as far as the data (no sampling)."""
    path = _project(tmp_path, monkeypatch, "markplugin_xyz:lj")
    doc = tomllib.loads(path.read_text())
    spec = {
        "name": "t",
        "document": doc,
        "base_dirs": (str(tmp_path / "nowhere"),),
        "out": str(tmp_path / "runs" / "s" / "t" / "posterior.nc"),
        "settings": "",
        "report_root": str(tmp_path / "reports"),
    }
    cfg = tmp_path / "worker.toml"
    cfg.write_text('[plugins]\nallow = ["markplugin_xyz"]\n')
    monkeypatch.setenv("BAYESFF_CONFIG", str(cfg))

    def in_worker(allowed):
        # a fresh context, as in a worker's thread
        return contextvars.Context().run(run_batch, [{**spec, "allow_plugins": allowed}], False)

    refused = in_worker(())
    assert refused[0]["status"] == "failed" and "not allowed" in refused[0]["message"]
    allowed = in_worker(("markplugin_xyz",))
    assert allowed[0]["status"] == "failed" and "not allowed" not in allowed[0]["message"]
    assert "b2.csv" in allowed[0]["message"]


def test_potential_factory_marks_only_callables():
    with pytest.raises(TypeError, match="marks a function or class"):
        plugins.potential_factory(3.0)
