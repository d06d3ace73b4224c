"""Process-wide JAX settings: float64 and the persistent compilation cache.

Importing bayesff changes nothing global. :func:`configure` switches on

* **float64** (DESIGN.md section 7: B2 near the Boyle temperature and the
  integral equations lose digits in float32), and
* JAX's **persistent compilation cache**, so that a new process finds the
  sampler compiled by an earlier one (``$BAYESFF_CACHE_DIR``, default
  ``~/.cache/bayesff/jax``).

The CLI calls it at start-up and :func:`bayesff.calibrate` calls
:func:`ensure_configured`, which applies the defaults once, unless you called
:func:`configure` yourself first: your choice then stands. Environment
variables give the defaults: ``BAYESFF_X64=0`` (float32, for benchmarks only)
and ``BAYESFF_CACHE_DIR=off`` (no persistent cache).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["configure", "ensure_configured", "settings"]

_STATE: dict = {}


def _default_cache_dir() -> str | None:
    v = os.environ.get("BAYESFF_CACHE_DIR")
    if v is not None and v.strip().lower() in ("", "0", "off", "none", "false"):
        return None
    return str(Path(v) if v else Path.home() / ".cache" / "bayesff" / "jax")


def configure(
    *, x64: bool | None = None, compilation_cache: str | os.PathLike | bool | None = None
):
    """Set float64 and the compilation cache for this process.

    Parameters
    ----------
    x64
        Compute in float64 (default: yes, unless ``BAYESFF_X64=0``). Set it
        before creating arrays: JAX arrays keep the dtype they were made with.
    compilation_cache
        A directory for JAX's persistent compilation cache, ``True`` for the
        default (``$BAYESFF_CACHE_DIR`` or ``~/.cache/bayesff/jax``), ``False``
        to leave the cache off.

    Returns
    -------
    dict
        The settings now in force (``x64``, ``compilation_cache``).
    """
    import jax

    if x64 is None:
        x64 = os.environ.get("BAYESFF_X64", "1") != "0"
    jax.config.update("jax_enable_x64", bool(x64))
    if compilation_cache is None or compilation_cache is True:
        cache = _default_cache_dir()
    elif compilation_cache is False:
        cache = None
    else:
        cache = str(compilation_cache)
    if cache is not None:
        try:
            Path(cache).mkdir(parents=True, exist_ok=True)
        except OSError:
            cache = None  # an unwritable cache directory must not stop a calibration
    if cache is not None:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _STATE.update(x64=bool(x64), compilation_cache=cache)
    return settings()


def ensure_configured() -> dict:
    """Apply :func:`configure`'s defaults once, unless the user configured already."""
    if not _STATE:
        configure()
    return settings()


def settings() -> dict:
    """The settings :func:`configure` put in force (empty if it was never called)."""
    return dict(_STATE)
