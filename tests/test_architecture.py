"""The layers of docs/architecture.md, Layers, checked on the import graph (issues 15 and 27).

A module may import modules of its own layer or of lower layers, never of a
higher one; the import graph has no cycle; forward models never import the
simulator; imports sit at the top of a module (the few exceptions below say
why); nothing imports JAX's private modules. Every import statement counts,
those inside functions included: they are dependencies too, and a cycle hidden
inside a function is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PKG = ROOT / "bayesff"

#: Layer of each module (prefix match, longest first); docs/architecture.md, Layers, with the
#: utility modules (errors, interrupts, units, io, runtime, schemas, defaults) at the bottom.
LAYERS = {
    "bayesff._version": 0,
    "bayesff.sites": 0,
    "bayesff.errors": 0,
    "bayesff.interrupts": 0,
    "bayesff.units": 0,
    "bayesff.io": 0,
    "bayesff.runtime": 0,
    "bayesff.schemas": 0,
    # the defaults the library and the command line's help share (imports nothing)
    "bayesff.defaults": 0,
    "bayesff.priors": 1,
    "bayesff.potentials": 1,
    "bayesff.observables": 2,
    # beside the forward models, never imported by them (test below)
    "bayesff.simulate": 2,
    "bayesff.data": 3,
    "bayesff.configdata": 3,
    "bayesff.prepared": 3,
    "bayesff.prepared_molecular": 3,
    "bayesff.targets": 3,
    "bayesff.settings": 3,
    "bayesff.problem": 3,
    "bayesff.problem_text": 3,
    "bayesff.model": 4,
    "bayesff.inference": 5,
    "bayesff.runfile": 5,
    "bayesff.transferability": 6,
    "bayesff.sensitivity": 6,
    "bayesff.report": 7,
    # force fields written for MD engines from a parameter table or a run file
    "bayesff.export": 7,
    "bayesff.workflows": 8,
    "bayesff.sweep": 8,
    "bayesff.cli": 9,
}

#: The imports that may sit inside a function, and why (everything else imports at the top).
LATE_IMPORTS = {
    # optional extras: the import says what to install when it is missing
    "bayesff.simulate.lj_md": "jax_md (the 'md' extra)",
    "bayesff.simulate.engines.jaxmd_engine": "jax_md (the 'md' extra; starts JAX on import)",
    # pymbar switches JAX's float64 on when imported (its issue tracker; bayesff's import
    # changes no JAX setting): imported where MBAR or its timeseries module is used
    "bayesff.simulate.timeseries": "pymbar (the 'molecular' extra)",
    "bayesff.observables.molecular_reweight": "pymbar (the 'molecular' extra)",
    "bayesff.sweep": "dask_jobqueue (the 'hpc' extra)",
    # blackjax starts JAX's backend when imported, before bayesff.configure() could split
    # the CPU into devices: only a ChEES run imports it
    "bayesff.inference.cache": "bayesff.inference.chees (blackjax)",
    # bayesff check / list load the potential registry and need no numpyro (measured)
    "bayesff.potentials.gp": "numpyro.contrib.hsgp",
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


def _modules() -> dict[str, Path]:
    return {_name(p): p for p in PKG.rglob("*.py")}


def _import_nodes(tree: ast.Module) -> list[tuple[ast.stmt, bool]]:
    """Every import statement of a module and whether it sits inside a function."""
    out = []

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append((child, in_function))
            walk(child, inside)

    walk(tree, False)
    return out


def _imports(path: Path, module: str = "", mods: dict | None = None) -> set[str]:
    """bayesff modules a file imports, anywhere in it (relative imports resolved);
    ``from pkg import sub`` counts as ``pkg.sub`` when sub is a module (importing a
    submodule runs its package's __init__ first, as every import does)."""
    mods = _modules() if mods is None else mods
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node, _ in _import_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            subs = {f"{base}.{a.name}" for a in node.names} & set(mods)
            out |= subs or {base}
        else:
            out |= {a.name for a in node.names}
    return {m for m in out if m == "bayesff" or m.startswith("bayesff.")}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {
        m: {i for i in _imports(p, m, mods) if i in mods and i != m and not m.startswith(i + ".")}
        for m, p in mods.items()
    }


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m != "bayesff" and _layer(m) is None]
    assert not missing, f"modules without a layer in LAYERS: {missing}"


def test_no_module_imports_a_higher_layer():
    bad = []
    for name, imports in _graph().items():
        if name == "bayesff":
            continue  # the public API names every layer (for type checkers; loaded lazily)
        mine = _layer(name)
        for imp in imports:
            theirs = _layer(imp)
            if imp != "bayesff" and theirs is not None and theirs > mine:
                bad.append(f"{name} (layer {mine}) imports {imp} (layer {theirs})")
    assert not bad, "\n".join(bad)


def test_no_import_circle():
    """No cycle in the import graph, function-level imports included."""
    circles = _circles(_graph())
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_forward_models_never_import_the_simulator():
    bad = [
        f"{m} imports {i}"
        for m, imports in _graph().items()
        if m.startswith("bayesff.observables")
        for i in imports
        if i.startswith("bayesff.simulate")
    ]
    assert not bad, "\n".join(bad)


def test_imports_sit_at_the_top():
    """An import inside a function only where LATE_IMPORTS says why; no jax._src anywhere."""
    late, private = [], []
    for name, path in _modules().items():
        for node, in_function in _import_nodes(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n.startswith("jax._src") for n in names):
                private.append(f"{name}:{node.lineno}")
            if in_function and name not in LATE_IMPORTS:
                late.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert not private, f"imports of JAX's private modules: {private}"
    assert not late, "imports inside functions:\n" + "\n".join(late)


def test_the_checker_catches_a_violation(tmp_path):
    """Negative controls: a forward model importing the model layer is reported, and a
    cycle closed by an import inside a function is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from bayesff.model import model_of\n")
    imps = _imports(bad, "bayesff.observables.bad")
    assert "bayesff.model" in imps and _layer("bayesff.model") > _layer("bayesff.observables.x")
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


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
    assert "BAYESFF_HOST_DEVICES: expected a whole number" in bad.stderr and "'two'" in bad.stderr


def test_importing_every_module_leaves_jax_unstarted():
    """Imports at the top must not start JAX's backend: configure() after importing every
    module (but ChEES's, see LATE_IMPORTS) still splits the CPU and turns on float64."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, bayesff\n"
        "for m in pkgutil.walk_packages(bayesff.__path__, 'bayesff.'):\n"
        "    if not m.name.endswith(('__main__', '.chees')):\n"
        "        importlib.import_module(m.name)\n"
        "s = bayesff.configure(host_devices=2)\n"
        "import jax\n"
        "print(s['host_devices'], jax.local_device_count(), jax.config.jax_enable_x64)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2", "True"], out.stdout
