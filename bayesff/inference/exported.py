"""Compiled samplers carried to the next process without tracing them again.

JAX's persistent compilation cache (:func:`bayesff.configure`) spares a new
process XLA's compilation, but not Python's tracing and lowering, which the
cache needs to find its entry: for the argon B2 problem about 1.2 s of every
new process (the NUTS block, its start, the Laplace log density and the
post-processing). :func:`persistent` wraps a jitted kernel function so that
the first process exports it (``jax.export``: serialized StableHLO, data,
never Python code) next to the compilation cache, and later processes read it
back and only compile it, from the compilation cache.

The file is found again only under the same key: the problem structure (each
target's observable and potential by registry name, options, shapes, priors'
families), the function's argument types and shardings, and the environment
(jax, jaxlib, numpyro and bayesff versions, float64, the devices, and the
sha256 of every file of the installed ``bayesff`` package, so that an edited
source file is never served stale code, and a copy or a checkout with new
modification times but the same content finds its files again). Structures that
involve code from outside bayesff (a plug-in or Python-built potential or
observable, a cut-off wrapper, options holding objects) have no key and are
traced as before: their code could change without their names changing.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jax
import jaxlib
import numpyro
from jax import export
from jax.api_util import shaped_abstractify

from bayesff.io import atomic_write_bytes
from bayesff.observables._spec import list_observables
from bayesff.potentials import list_potentials
from bayesff.runtime import env_flag, settings

__all__ = [
    "ONE_SHOT",
    "STATS",
    "background_compilation",
    "persistent",
    "precompile",
    "register_pytrees",
    "structure_key",
]

#: Functions of this process by where they came from: ``"exported"`` (read back
#: from disk), ``"traced"`` (traced, then written) and ``"jit"`` (not exported); and
#: compilations ahead (:func:`precompile`) that a call used (``"ahead"``) or could
#: not use (``"ahead_unused"``: compiled again in the calling thread).
STATS = {"exported": 0, "traced": 0, "jit": 0, "ahead": 0, "ahead_unused": 0}

#: Primitive option values whose repr is the same in every process.
_PRIMITIVE = (str, int, float, bool, type(None))


def _stable(value) -> bool:
    if isinstance(value, tuple):
        return all(_stable(v) for v in value)
    return isinstance(value, _PRIMITIVE)


def _ours(obj) -> bool:
    return getattr(obj, "__module__", "").startswith("bayesff.")


def _forward_key(fwd) -> tuple | None:

    pot = fwd.potential
    name = getattr(pot, "name", None)
    if list_potentials().get(name) is not pot or not _ours(type(pot)):
        return None
    obs = [o.name for o in list_observables().values() if o.build is fwd.builder]
    if len(obs) != 1 or not _ours(fwd.builder) or not _stable(fwd.options):
        return None
    return (obs[0], name, fwd.options)


def structure_key(structure, *extra) -> str | None:
    """A text that names ``structure`` (and ``extra``) in every process, or ``None``.

    ``None`` when some target's forward model involves code from outside
    bayesff (see the module docstring).
    """

    targets = []
    for t in structure.targets:
        fk = _forward_key(t.forward)
        if fk is None:
            return None
        fields = {f.name: getattr(t, f.name) for f in dataclasses.fields(t) if f.name != "forward"}
        targets.append((fk, tuple(sorted(fields.items()))))
    # every other field too (the pooling's parameters, groups, trends): two structures
    # that differ only there compile to different models
    rest = tuple(
        (f.name, getattr(structure, f.name))
        for f in dataclasses.fields(structure)
        if f.name not in ("params", "targets")
    )
    return repr((structure.params, tuple(targets), rest, extra))


@functools.cache
def _environment() -> str:
    """Versions, devices and the installed package's files (see the module docstring)."""
    root = Path(__file__).resolve().parents[1]  # the installed bayesff package
    # the package's content, not its files' times (hashing its ~2 MB takes a few ms)
    files = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            path = os.path.join(dirpath, f)
            files.update(os.path.relpath(path, root).encode() + b"\0")
            files.update(Path(path).read_bytes())
    devices = jax.devices()
    return repr(
        (
            jax.__version__,
            jaxlib.__version__,
            numpyro.__version__,
            bool(jax.config.jax_enable_x64),
            jax.default_backend(),
            len(devices),
            devices[0].device_kind,
            files.hexdigest(),
        )
    )


def _directory() -> Path | None:

    cache = settings().get("compilation_cache")
    return None if cache is None else Path(cache) / "exported"


#: NamedTuple types registered for serialization (:func:`register_pytrees`).
_REGISTERED: set = set()


def register_pytrees(*types) -> None:
    """Let exported functions take and return these NamedTuple types (once per type).

    The serialized name is the type's module and name, the same in every process.
    """
    for cls in types:
        if cls not in _REGISTERED:
            export.register_namedtuple_serialization(
                cls, serialized_name=f"{cls.__module__}.{cls.__qualname__}"
            )
            _REGISTERED.add(cls)


@functools.cache
def _serializable() -> bool:
    """Whether jax.export can serialize here (it needs the flatbuffers package)."""
    return importlib.util.find_spec("flatbuffers") is not None


def _signature(args) -> str:
    """Argument types: pytree structure, shapes, dtypes, weak types and shardings."""

    leaves, tree = jax.tree.flatten(args)
    parts = [str(tree)]
    for leaf in leaves:
        spec = list(getattr(getattr(leaf, "sharding", None), "spec", None) or ())
        while spec and spec[-1] is None:  # P(None, "chains") is P(None, "chains", None)
            spec.pop()
        parts.append(f"{shaped_abstractify(leaf).str_short()}|{spec}")
    return ";".join(parts)


class _Persistent:
    """A jitted function, exported to disk (when it has a key) and compiled ahead if asked."""

    def __init__(self, jitted, name: str, key: str | None, compiler_options: dict | None):
        self.jitted, self.name, self.key = jitted, name, key
        self.compiler_options = compiler_options
        self._calls: dict = {}

    def __call__(self, *args):
        sig = _signature(args)
        f = self._calls.get(sig)
        if f is None:
            f, origin = self._function(args, sig)
            self._calls[sig] = f
            STATS[origin] += 1
        elif isinstance(f, _Pending):
            compiled = f.result()
            if compiled is not None:
                try:
                    out = compiled(*args)
                except TypeError:  # the arguments differ from the prepared ones after all
                    out = None
                if out is not None:
                    self._calls[sig] = compiled
                    STATS["ahead"] += 1
                    return out
            STATS["ahead_unused"] += 1
            f = self._calls[sig] = f.function
        return f(*args)

    def prepare(self, *args) -> None:
        """Compile for ``args``' types in a background thread (see :func:`precompile`).

        ``args`` may be arrays or ``jax.ShapeDtypeStruct`` (with the sharding
        the call will have). Tracing (and export) happens here, in the calling
        thread; a later call with the same argument types waits for the
        compiled code instead of compiling it.
        """
        sig = _signature(args)
        if sig in self._calls or not background_compilation():
            return
        f, origin = self._function(args, sig)
        STATS[origin] += 1
        lowered = f.lower(*args)
        self._calls[sig] = _Pending(_executor().submit(lowered.compile), f)

    def _function(self, args, sig: str):

        folder = _directory()
        if self.key is None or folder is None or not _serializable():
            return self.jitted, "jit"
        digest = hashlib.sha256(
            "\n".join((self.name, self.key, sig, _environment())).encode()
        ).hexdigest()[:40]
        path = folder / f"{self.name}-{digest}.jaxexport"
        exp, origin = None, "exported"
        if path.exists():
            try:
                exp = export.deserialize(bytearray(path.read_bytes()))
            except Exception:  # a damaged or foreign file: export it again
                exp = None
        if exp is None:
            try:
                exp, origin = export.export(self.jitted)(*args), "traced"
            except NotImplementedError:
                # what jax.export cannot serialize (host callbacks, used by some forward
                # models) is traced in every process, as without this module
                return self.jitted, "jit"
            try:
                atomic_write_bytes(path, bytes(exp.serialize()))
            except OSError:
                pass  # an unwritable cache must not stop a calibration
        return jax.jit(exp.call, compiler_options=self.compiler_options), origin


class _Pending:
    """A compilation running in the background, and the function to fall back on."""

    def __init__(self, future, function):
        self.future, self.function = future, function

    def result(self):
        """The compiled function, or ``None`` if compiling failed (the fallback then
        compiles again in the calling thread and raises the error there)."""
        try:
            return self.future.result()
        except Exception:
            return None


_EXECUTOR = None


def _executor():
    """One background thread for ahead-of-time compilation (created on first use)."""
    global _EXECUTOR
    if _EXECUTOR is None:
        # one thread: the calling thread goes on tracing, compiling what it needs
        # now and sampling, so a second background compilation would only compete
        _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bayesff-compile")
    return _EXECUTOR


def background_compilation() -> bool:
    """Whether :func:`precompile` compiles ahead (``BAYESFF_BACKGROUND_COMPILE=0``: no)."""
    return env_flag("BAYESFF_BACKGROUND_COMPILE", True)


def precompile(function, *args) -> None:
    """Start compiling ``function`` (made by :func:`persistent`) for ``args`` in the background.

    XLA compiles with Python's lock released, so on a machine with two or
    more cores the sampler's main program compiles while the calling thread
    finds the chains' start (their own programs, the Laplace optimisation)
    and the post-processing compiles while the chains run. Functions that are
    not :func:`persistent` wrappers are left alone.
    """
    if isinstance(function, _Persistent):
        function.prepare(*args)


#: XLA options for programs that run once or twice per calibration (the chains' start):
#: LLVM's optimisation off halves their compile time (argon B2: the start program 0.71
#: -> 0.35 s, the draw 0.30 -> 0.20 s) at a cost of well under a millisecond per call
ONE_SHOT = {"xla_backend_optimization_level": 0}


def persistent(jitted, name: str, key: str | None, compiler_options: dict | None = None):
    """``jitted`` (a ``jax.jit`` function), exported to disk and read back in later processes.

    Parameters
    ----------
    jitted
        The jitted function; every argument an array (no static arguments).
    name
        Which function of the structure this is (``"run_block"``, ...).
    key
        :func:`structure_key` of what determines its code; ``None``: never
        exported (traced in every process), but still compiled ahead on request
        (:func:`precompile`).
    compiler_options
        XLA options ``jitted`` was made with (``jax.jit(..., compiler_options=)``),
        used again for the function read back from disk (e.g. :data:`ONE_SHOT`).
    """
    return _Persistent(jitted, name, key, compiler_options)
