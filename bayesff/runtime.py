"""Process-wide JAX settings: float64, the persistent compilation cache, CPU devices.

Importing bayesff changes nothing global. :func:`configure` switches on

* **float64** (docs/architecture.md, Inference defaults: B2 near the Boyle temperature and the
  integral equations lose digits in float32), and
* JAX's **persistent compilation cache**, so that a new process finds the
  sampler compiled by an earlier one (``$BAYESFF_CACHE_DIR``, default
  ``~/.cache/bayesff/jax``), and
* **one JAX device per CPU core** (``jax_num_cpu_devices``), so that the
  chains of a calibration run side by side on the cores rather than as one
  vectorised program on one (:mod:`bayesff.inference.kernels`; about 1.8x
  faster sampling on 2 cores, ``benchmarks/RESULTS.md``). JAX takes this
  setting only before its first operation: later, the devices stay as they
  are and the chains are vectorised on one device. The same seed gives the
  same draws for the same number of devices (a run records it as
  ``chain_devices``; set ``BAYESFF_HOST_DEVICES`` to repeat a run bit for bit
  on another machine).

A process that compiles the programs of many different problems (a study, a sweep's
worker) would keep every one: :func:`make_room` forgets the package's compiled
programs of other problem structures when the process holds many memory mappings
(each large program holds thousands; Linux allows a process ``vm.max_map_count``,
65530 by default), before a new one is compiled.

The CLI calls it at start-up and :func:`bayesff.calibrate` calls
:func:`ensure_configured`, which applies the defaults once, unless you called
:func:`configure` yourself first: your choice then stands. Environment
variables give the defaults: ``BAYESFF_X64=0`` (float32, for benchmarks only)
``BAYESFF_CACHE_DIR=off`` (no persistent cache) and ``BAYESFF_HOST_DEVICES=N``
(N CPU devices; 1 for one).
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import jax

from bayesff.errors import BayesffError

__all__ = [
    "configure",
    "ensure_configured",
    "env_flag",
    "make_room",
    "register_compiled_cache",
    "settings",
    "usable_cores",
]

_STATE: dict = {}
_CLEARERS: list[Callable[..., None]] = []
#: Share of ``vm.max_map_count`` above which :func:`make_room` forgets compiled programs.
#: One n-alkane chain model (docs/chains.md) holds about 18500 mappings with its sampler
#: and post-processing compiled (1400 once they are freed); a study of four of them in
#: one process stopped with "LLVM compilation error: Cannot allocate memory" when the
#: fourth compiled (2026-11-27). At 0.4 a new program of that size still fits.
MAP_SHARE = 0.4


def register_compiled_cache(clear: Callable[..., None]) -> None:
    """Register ``clear(keep)``, which forgets a cache's compiled programs but those of
    the structure ``keep`` (all if ``None``), for :func:`make_room`."""
    if clear not in _CLEARERS:
        _CLEARERS.append(clear)


def _count_lines(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def _map_limit() -> int | None:
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return None


def make_room(keep=None, share: float = MAP_SHARE) -> bool:
    """Forget the compiled programs of every registered cache but those of the structure
    ``keep`` if this process holds more than ``share`` of the memory mappings Linux
    allows it; called before a new program is compiled. Elsewhere (no ``/proc``) it
    does nothing. Returns whether it cleared.

    A program in use is not freed (its caller holds it); forgotten ones are compiled
    again, or read back from the persistent cache, if needed later.
    """
    limit = _map_limit()
    if limit is None:
        return False
    held = _count_lines(f"/proc/{os.getpid()}/maps")
    if held is None or held <= share * limit:
        return False
    for clear in _CLEARERS:
        clear(keep)
    gc.collect()  # the programs go with their last reference (cycles included)
    return True


#: Words an on/off environment variable (``BAYESFF_X64``) accepts, lower case.
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def env_flag(name: str, default: bool) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off (any case);
    unset or empty: ``default``. Any other value is an error naming the variable (a
    ``BAYESFF_X64=no`` read as "not 0", so on, was a silent float64)."""
    v = os.environ.get(name)
    if v is None or not v.strip():
        return default
    w = v.strip().lower()
    if w in _ON or w in _OFF:
        return w in _ON
    raise BayesffError(
        f"expected one of {', '.join(_ON)} (on) or {', '.join(_OFF)} (off), got {v!r}", name
    )


def _default_cache_dir() -> str | None:
    v = os.environ.get("BAYESFF_CACHE_DIR")
    if v is not None and v.strip().lower() in ("", "0", "off", "none", "false"):
        return None
    # ~ as a shell would expand it (a quoted '~/cache' made a folder named ~ here)
    return str(Path(v).expanduser() if v else Path.home() / ".cache" / "bayesff" / "jax")


def _usable_cache(cache: str) -> str | None:
    """``cache``, made if missing, or None with a warning where it cannot hold the
    compiled programs (a file, a path under a file, a folder without write access): the
    calibration goes on, compiling afresh in every process, but says so."""
    try:
        Path(cache).mkdir(parents=True, exist_ok=True)
        if not os.access(cache, os.W_OK | os.X_OK):
            raise PermissionError(13, "no write access")
    except OSError as e:
        warnings.warn(
            f"the compilation cache folder {cache!r} cannot be used ({e.strerror or e}): "
            "compiled programs are not kept for the next process; set BAYESFF_CACHE_DIR to "
            "a writable folder, or to 'off'",
            UserWarning,
            stacklevel=3,
        )
        return None
    return cache


def _default_host_devices() -> int:
    v = os.environ.get("BAYESFF_HOST_DEVICES", "").strip()
    if v:
        try:
            n = int(v)
        except ValueError:
            raise BayesffError(
                f"expected a whole number of CPU devices >= 1, got {v!r}",
                "BAYESFF_HOST_DEVICES",
            ) from None
        if n < 1:
            raise BayesffError(f"expected >= 1 CPU devices, got {n}", "BAYESFF_HOST_DEVICES")
        return n
    return max(1, min(usable_cores(), 8))


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure(
    *,
    x64: bool | None = None,
    compilation_cache: str | os.PathLike | bool | None = None,
    host_devices: int | None = None,
):
    """Set float64, the compilation cache and the CPU devices for this process.

    Parameters
    ----------
    x64
        Compute in float64 (default: yes, unless ``BAYESFF_X64=0``). Set it
        before creating arrays: JAX arrays keep the dtype they were made with.
    compilation_cache
        A directory for JAX's persistent compilation cache, ``True`` for the
        default (``$BAYESFF_CACHE_DIR`` or ``~/.cache/bayesff/jax``), ``False``
        to leave the cache off.
    host_devices
        Split the CPU into this many JAX devices, over which the chains of a
        calibration are spread (default: ``$BAYESFF_HOST_DEVICES``, else the
        number of usable cores, at most 8). JAX accepts it only before its
        first operation; called later, the devices stay as they are
        (``host_devices`` in the returned settings is then ``None``).

    Returns
    -------
    dict
        The settings now in force (``x64``, ``compilation_cache``,
        ``host_devices``).
    """

    # read later, when a sampler compiles: a bad value fails here, before any work
    env_flag("BAYESFF_BACKGROUND_COMPILE", True)
    if x64 is None:
        x64 = env_flag("BAYESFF_X64", True)
    jax.config.update("jax_enable_x64", bool(x64))
    if compilation_cache is None or compilation_cache is True:
        cache = _default_cache_dir()
    elif compilation_cache is False:
        cache = None
    else:
        cache = str(compilation_cache)
    if cache is not None:
        cache = _usable_cache(cache)  # an unusable one must not stop a calibration
    if cache is not None:
        jax.config.update("jax_compilation_cache_dir", cache)
        # every program, however small: a new process otherwise compiles again the ~20
        # small ones (random keys, slicing) a calibration makes, ~0.5 s in all
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    n = _default_host_devices() if host_devices is None else int(host_devices)
    if n < 1:
        raise ValueError(f"host_devices must be >= 1, got {n}")
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:
        n = None  # JAX has started: its devices stand (chains then vectorise on one)
    _STATE.update(x64=bool(x64), compilation_cache=cache, host_devices=n)
    return settings()


def ensure_configured() -> dict:
    """Apply :func:`configure`'s defaults once, unless the user configured already."""
    if not _STATE:
        configure()
    return settings()


def settings() -> dict:
    """The settings :func:`configure` put in force (empty if it was never called)."""
    return dict(_STATE)
