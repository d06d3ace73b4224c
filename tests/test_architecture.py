"""The layers of docs/architecture.md, Layers, checked on the import graph (issue 15 item 3).

A module may import modules of its own layer or of lower layers, never of a
higher one (function-level imports included: they are dependencies too), and
the module-level import graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PKG = ROOT / "bayesff"

#: Layer of each module (prefix match, longest first); docs/architecture.md, Layers, with the
#: utility modules (errors, units, io, runtime, schemas) at the bottom.
LAYERS = {
    "bayesff.errors": 0,
    "bayesff.units": 0,
    "bayesff.io": 0,
    "bayesff.runtime": 0,
    "bayesff.schemas": 0,
    "bayesff.priors": 1,
    "bayesff.potentials": 1,
    "bayesff.observables": 2,
    "bayesff.data": 3,
    "bayesff.configdata": 3,
    "bayesff.prepared": 3,
    "bayesff.targets": 3,
    "bayesff.problem": 3,
    "bayesff.problem_text": 3,
    "bayesff.model": 4,
    "bayesff.inference": 5,
    "bayesff.runfile": 5,
    "bayesff.transferability": 6,
    "bayesff.sensitivity": 6,
    "bayesff.report": 7,
    "bayesff.workflows": 8,
    "bayesff.active": 8,
    "bayesff.sweep": 8,
    "bayesff.cli": 9,
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int | None:
    best = None
    for prefix, layer in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, layer)
    return None if best is None else best[1]


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules a file imports; ``from pkg import sub`` counts as ``pkg.sub`` when sub is a
    module (importing a submodule runs its package's __init__ first, as every import does)."""
    mods = _modules()
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(mods)
            out |= subs or {node.module}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m.startswith("bayesff")}


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in PKG.rglob("*.py")}


def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m != "bayesff" and _layer(m) is None]
    assert not missing, f"modules without a layer in LAYERS: {missing}"


def test_no_module_imports_a_higher_layer():
    mods = _modules()
    bad = []
    for name, path in mods.items():
        if name == "bayesff":
            continue  # the public API re-exports every layer (lazily)
        mine = _layer(name)
        for imp in _imports(path, top_level_only=False):
            theirs = _layer(imp)
            if imp != "bayesff" and theirs is not None and theirs > mine:
                bad.append(f"{name} (layer {mine}) imports {imp} (layer {theirs})")
    assert not bad, "\n".join(bad)


def test_module_level_imports_have_no_cycle():
    mods = _modules()
    graph = {
        m: {i for i in _imports(p, top_level_only=True) if i in mods and i != m}
        for m, p in mods.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in graph:
        if m not in state and (cycle := visit(m)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_the_checker_catches_a_violation(tmp_path):
    """Negative control: a forward model importing the model layer is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bayesff.model import model_of\n")
    imps = _imports(bad, top_level_only=True)
    assert "bayesff.model" in imps and _layer("bayesff.model") > _layer("bayesff.observables.x")


def test_importing_bayesff_changes_no_jax_setting():
    """Issue 15 item 5: x64 and the compilation cache are set by configure(), not by import."""
    import subprocess
    import sys

    code = (
        "import jax; c = jax.config;"
        "before = (c.jax_enable_x64, c.jax_compilation_cache_dir, c.jax_num_cpu_devices);"
        "import bayesff, bayesff.problem, bayesff.inference, bayesff.observables;"
        "after = (c.jax_enable_x64, c.jax_compilation_cache_dir, c.jax_num_cpu_devices);"
        "assert before == after, (before, after); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_configure_splits_the_cpu_only_before_jax_starts():
    """configure(host_devices=N) gives N CPU devices in a new process; after JAX's first
    operation it leaves the devices alone and says so (host_devices None); a bad
    BAYESFF_HOST_DEVICES is a clear error."""
    import os
    import subprocess
    import sys

    code = (
        "import bayesff, jax; n = jax.local_device_count;"
        "s = bayesff.configure(host_devices=3); print(s['host_devices'], n());"
        "t = bayesff.configure(host_devices=2); print(t['host_devices'], n())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["3 3", "None 3"], out.stdout
    env = {**os.environ, "BAYESFF_HOST_DEVICES": "two"}
    bad = subprocess.run(
        [sys.executable, "-c", "import bayesff; bayesff.configure()"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode != 0
    assert "BAYESFF_HOST_DEVICES must be a whole number" in bad.stderr and "'two'" in bad.stderr
