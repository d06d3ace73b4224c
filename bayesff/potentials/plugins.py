"""Potentials from outside bayesff: ``package.module:factory`` and entry points.

A problem file names its potential by ``kind``:

* a registry name (``"lennard_jones"``; ``bayesff list`` shows them),
* the name of an entry point in the group ``bayesff.potentials`` of an
  installed package (``[project.entry-points."bayesff.potentials"]`` in its
  pyproject.toml): installing the package is the consent to run it,
* ``"package.module:factory"``, only for a module the person running bayesff
  has allowed (below): the module is imported and ``factory`` is used if it is
  a bayesff potential object or a function marked with :func:`potential_factory`
  (called with no arguments, it returns one).

Problem files, sweep files and run files are data that people share. Importing
a module runs its code, so a file alone can never make bayesff import one: the
module must be allowed by the user, and the check comes before the import.
A module is allowed, with its submodules, by

* ``--allow-plugin MODULE`` on the command line (repeatable, every command
  that reads a problem or sweep file),
* the user's configuration file, ``[plugins] allow = ["MODULE", ...]`` in
  ``$BAYESFF_CONFIG``, else ``$XDG_CONFIG_HOME/bayesff/config.toml``, else
  ``~/.config/bayesff/config.toml`` (:func:`config_path`),
* in Python, ``load_problem(path, allow_plugins=("MODULE",))`` or, around any
  code that reads problems (sweeps, workflows), ``with allow_plugins("MODULE"):``.

Even in an allowed module, the attribute named must declare itself: an object
such as ``os.abort`` is refused before it is called. A potential is a
:class:`~bayesff.potentials.PairPotential` (or another kind with ``name``,
``kind``, ``params`` and ``energy``): see docs/extending.md. The run records
where it came from (:func:`describe`).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import re
import tomllib
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path

from bayesff.errors import ProblemError
from bayesff.potentials._spec import (
    PairPotential,
    TorsionPotential,
    get_potential,
    list_potentials,
)
from bayesff.potentials.chain import ChainPotential
from bayesff.potentials.cluster import ClusterPotential
from bayesff.potentials.molecular import LinearPairPotential
from bayesff.potentials.molecular_ff import ForceFieldPotential

__all__ = [
    "ENTRY_POINT_GROUP",
    "allow_plugins",
    "allowed_modules",
    "check_potential",
    "config_path",
    "describe",
    "potential_factory",
    "resolve",
]

#: Entry-point group in which installed packages offer potentials.
ENTRY_POINT_GROUP = "bayesff.potentials"
_QUALIFIED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
#: The attribute :func:`potential_factory` sets on what it marks.
_MARK = "__bayesff_potential_factory__"
#: Potential objects that need no mark: bayesff's own kinds (a user's instance of one).
_POTENTIAL_TYPES = (
    PairPotential,
    TorsionPotential,
    ChainPotential,
    ClusterPotential,
    LinearPairPotential,
    ForceFieldPotential,
)

#: (modules allowed by the code around, whether the user's config file counts too).
_ALLOWED: contextvars.ContextVar[tuple[tuple[str, ...], bool]] = contextvars.ContextVar(
    "bayesff_allowed_plugins", default=((), True)
)


def potential_factory(obj):
    """Mark a function (or class) as a bayesff potential factory; returns it unchanged.

    A problem file may name ``"module:obj"`` only if ``obj`` is a bayesff
    potential object or is marked so, and only if the user allowed ``module``
    (module docstring). Called with no arguments, ``obj`` returns a potential.

    Examples
    --------
    >>> from bayesff.potentials.plugins import potential_factory
    >>> @potential_factory
    ... def morse():
    ...     return MORSE  # doctest: +SKIP
    """
    if not callable(obj):
        raise TypeError(f"potential_factory marks a function or class, got {obj!r}")
    setattr(obj, _MARK, True)
    return obj


def _checked_modules(modules, where: str) -> tuple[str, ...]:
    out = []
    for m in modules:
        if not (isinstance(m, str) and _MODULE.match(m)):
            raise ProblemError(
                f"expected a module name such as 'mypackage.potentials', found {m!r}", where
            )
        out.append(m)
    return tuple(out)


@contextlib.contextmanager
def allow_plugins(*modules: str, config: bool = True):
    """Allow problem files read inside the ``with`` block to name these modules.

    Parameters
    ----------
    *modules
        Module names (``"mypackage"`` also allows ``"mypackage.sub"``); added
        to those already allowed around the block.
    config
        ``False``: ignore the user's configuration file inside the block (a
        sweep's workers get exactly the parent's list, the file included).
    """
    outer, outer_config = _ALLOWED.get()
    mods = _checked_modules(modules, "allowed plug-in modules")
    token = _ALLOWED.set((tuple(dict.fromkeys(outer + mods)), outer_config and config))
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def config_path() -> Path:
    """The user's configuration file: ``$BAYESFF_CONFIG``, else
    ``$XDG_CONFIG_HOME/bayesff/config.toml``, else ``~/.config/bayesff/config.toml``."""
    given = os.environ.get("BAYESFF_CONFIG")
    if given:
        return Path(given).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "bayesff" / "config.toml"


def _config_modules() -> tuple[str, ...]:
    """``[plugins].allow`` of the user's configuration file (none if there is no file)."""
    path = config_path()
    if not path.is_file():
        if os.environ.get("BAYESFF_CONFIG"):
            raise ProblemError("configuration file not found (BAYESFF_CONFIG)", str(path))
        return ()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    # ValueError covers TOMLDecodeError, UnicodeDecodeError and tomllib's integer limit
    except (ValueError, RecursionError) as e:
        raise ProblemError(f"not valid TOML: {type(e).__name__}: {e}"[:300], str(path)) from None
    table = doc.get("plugins", {})
    where = f"{path}: [plugins]"
    if not isinstance(table, dict) or set(table) - {"allow"}:
        raise ProblemError("expected a table with one key, allow = [module names]", where)
    allow = table.get("allow", [])
    if not isinstance(allow, list):
        raise ProblemError(f"expected a list of module names, found {allow!r}", f"{where}.allow")
    return _checked_modules(allow, f"{where}.allow")


def allowed_modules() -> tuple[str, ...]:
    """The modules problem files may name now: those allowed in code around the call
    (:func:`allow_plugins`, ``--allow-plugin``) and in the user's configuration file."""
    mods, use_config = _ALLOWED.get()
    if use_config:
        mods = tuple(dict.fromkeys(mods + _config_modules()))
    return mods


def _is_allowed(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def check_potential(obj, where: str):
    """Raise unless ``obj`` looks like a potential (name, kind, params, energy)."""
    missing = [a for a in ("name", "kind", "params", "energy") if not hasattr(obj, a)]
    if missing:
        raise ProblemError(
            f"{obj!r} is not a potential: it lacks {', '.join(missing)} (build one with "
            "bayesff.potentials.PairPotential; see docs/extending.md)",
            where,
        )
    return obj


def _load(target, label: str, where: str):
    obj = target
    if callable(obj) and not hasattr(obj, "params"):
        try:
            obj = obj()
        except Exception as e:  # a user's factory failed: say which, keep its message
            raise ProblemError(f"{label}() raised {type(e).__name__}: {e}", where) from None
    return check_potential(obj, where)


def _declared(obj) -> bool:
    return isinstance(obj, _POTENTIAL_TYPES) or getattr(obj, _MARK, False) is True


def _qualified(kind: str, where: str | None):
    """The potential of an allowed ``module:factory`` name (refused before any import)."""
    module, attr = kind.split(":")
    if not _is_allowed(module, allowed_modules()):
        raise ProblemError(
            f"potential {kind!r} would import module {module!r}, which you have not allowed: "
            "a problem file may name registered potentials (bayesff list) and installed "
            f"entry points ({ENTRY_POINT_GROUP!r}); to run {module!r}, pass "
            f"--allow-plugin {module}, add allow = [{module!r}] to [plugins] in "
            f"{config_path()}, or in Python load_problem(..., allow_plugins=({module!r},))",
            where,
        )
    try:
        mod = importlib.import_module(module)
    except Exception as e:  # ImportError, or an error raised by the module's own code
        raise ProblemError(
            f"cannot import module {module!r} for potential {kind!r}: {type(e).__name__}: {e}",
            where,
        ) from None
    if not hasattr(mod, attr):
        raise ProblemError(f"module {module!r} has no attribute {attr!r}", where)
    target = getattr(mod, attr)
    if not _declared(target):
        raise ProblemError(
            f"{kind!r} is a {type(target).__name__}, not a declared bayesff potential: "
            "expected a potential object (bayesff.potentials.PairPotential) or a function "
            "marked @bayesff.potentials.plugins.potential_factory (docs/extending.md)",
            where,
        )
    return _load(target, kind, where)


def resolve(kind: str, where: str | None = None):
    """The potential a problem file names (see the module docstring), and where it came from.

    Returns
    -------
    potential, source
        ``source`` is a dict with ``kind`` (as written), ``module``,
        ``qualname`` and ``version`` of the energy's package; for a plug-in also
        ``provider`` and ``provider_version``, the module its name points to.

    Raises
    ------
    ProblemError
        For an unknown name, a module not allowed (before importing it), or an
        attribute that is not a declared potential or factory.
    """
    if kind in list_potentials():
        pot = get_potential(kind, where)
        return pot, describe(pot, kind)
    if _QUALIFIED.match(kind):
        pot = _qualified(kind, where)
        return pot, {**describe(pot, kind), **_provider(kind)}
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if kind in eps:
        try:
            target = eps[kind].load()
        except Exception as e:
            raise ProblemError(
                f"entry point {kind!r} ({eps[kind].value}) failed to load: "
                f"{type(e).__name__}: {e}",
                where,
            ) from None
        pot = _load(target, eps[kind].value, where)
        return pot, {**describe(pot, kind), **_provider(eps[kind].value)}
    known = sorted(list_potentials()) + sorted(eps)
    raise ProblemError(
        f"unknown potential {kind!r}; expected one of {', '.join(known)}, an entry point "
        f"of the group {ENTRY_POINT_GROUP!r}, or an allowed 'package.module:factory' name",
        where,
    )


def _provider(target: str) -> dict:
    """The module a plug-in's ``module:factory`` names and its package's version: what
    provides the potential, even where the factory returns bayesff's own pieces (a
    truncated LJ), whose energy's module is bayesff's."""
    module = target.split(":")[0]
    try:
        ver = version(module.split(".")[0])
    except PackageNotFoundError:
        ver = ""
    return {"provider": module, "provider_version": ver}


def describe(potential, kind: str | None = None) -> dict:
    """Where a potential comes from: kind as written, module, qualname, package version."""
    fn = getattr(potential, "energy", None)
    module = getattr(fn, "__module__", None) or type(potential).__module__
    qualname = getattr(fn, "__qualname__", "") or ""
    top = (module or "").split(".")[0]
    try:
        ver = version(top) if top and top != "__main__" else ""
    except PackageNotFoundError:
        ver = ""
    return {
        "kind": kind or getattr(potential, "name", ""),
        "name": getattr(potential, "name", ""),
        "module": module or "",
        "qualname": qualname,
        "version": ver,
    }
