"""Potentials from outside bayesff: ``package.module:factory`` and entry points.

A problem file names its potential by ``kind``:

* a registry name (``"lennard_jones"``; ``bayesff list`` shows them),
* ``"package.module:factory"``: the module is imported and ``factory`` (a
  potential object, or a function of no arguments returning one) is used,
* the name of an entry point in the group ``bayesff.potentials`` of an
  installed package (``[project.entry-points."bayesff.potentials"]`` in its
  pyproject.toml), loaded the same way.

A potential is a :class:`~bayesff.potentials.PairPotential` (or another kind
with ``name``, ``kind``, ``params`` and ``energy``): see docs/extending.md.
The run records where it came from (:func:`describe`). Importing a module a
problem file names runs that module's code: name only modules you trust, as
you would import them yourself.
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import PackageNotFoundError, entry_points, version

from bayesff.errors import ProblemError
from bayesff.potentials._spec import get_potential, list_potentials

__all__ = ["ENTRY_POINT_GROUP", "check_potential", "describe", "resolve"]

#: Entry-point group in which installed packages offer potentials.
ENTRY_POINT_GROUP = "bayesff.potentials"
_QUALIFIED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


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


def resolve(kind: str, where: str | None = None):
    """The potential a problem file names (see the module docstring), and where it came from.

    Returns
    -------
    potential, source
        ``source`` is a dict with ``kind`` (as written), ``module``,
        ``qualname`` and ``version`` of the providing package.
    """
    if kind in list_potentials():
        pot = get_potential(kind, where)
        return pot, describe(pot, kind)
    if _QUALIFIED.match(kind):
        module, attr = kind.split(":")
        try:
            mod = importlib.import_module(module)
        except Exception as e:  # ImportError, or an error raised by the module's own code
            raise ProblemError(
                f"cannot import module {module!r} for potential {kind!r}: {type(e).__name__}: {e}",
                where,
            ) from None
        if not hasattr(mod, attr):
            raise ProblemError(f"module {module!r} has no attribute {attr!r}", where)
        pot = _load(getattr(mod, attr), kind, where)
        return pot, describe(pot, kind)
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
        return pot, describe(pot, kind)
    known = sorted(list_potentials()) + sorted(eps)
    raise ProblemError(
        f"unknown potential {kind!r}; expected one of {', '.join(known)}, a "
        "'package.module:factory' name, or an entry point of the group "
        f"{ENTRY_POINT_GROUP!r}",
        where,
    )


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
