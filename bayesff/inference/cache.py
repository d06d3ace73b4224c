"""Compiled kernels kept per process: one per (structure, sampler settings).

A second problem of the same structure (another fluid, a bootstrap resample,
other priors or seeds) finds its kernel here and compiles nothing.
"""

from __future__ import annotations

from bayesff.inference.kernels import Kernel, SamplerSettings
from bayesff.inference.tempering import TemperedKernel
from bayesff.model import Structure
from bayesff.runtime import make_room, register_compiled_cache

__all__ = ["cache_info", "clear_cache", "get_kernel"]

_CACHE: dict = {}
_STATS = {"hits": 0, "misses": 0}


def get_kernel(structure: Structure, settings: SamplerSettings) -> Kernel:
    """The kernel for a structure and settings, built once per process."""
    key = (structure, settings)
    k = _CACHE.get(key)
    if k is None:
        _STATS["misses"] += 1
        make_room(structure)  # a long process of many structures: forget the old programs
        if settings.sampler == "chees":
            # Imported on first use, not at the top: importing blackjax starts JAX's
            # backend, which must wait for bayesff.configure() (float64, the CPU's
            # split into devices); a NUTS-only process never imports it.
            from bayesff.inference.chees import CheesKernel

            k = CheesKernel(structure, settings)
        elif settings.sampler == "tempered":
            k = TemperedKernel(structure, settings)
        else:
            k = Kernel(structure, settings)
        _CACHE[key] = k
    else:
        _STATS["hits"] += 1
    return k


def cache_info() -> dict:
    """Kernel cache counters: ``hits``, ``misses`` and ``size``."""
    return {**_STATS, "size": len(_CACHE)}


def clear_cache(keep: Structure | None = None) -> None:
    """Forget every kernel (and its compiled functions), or all but those of ``keep``."""
    if keep is None:
        _CACHE.clear()
        _STATS.update(hits=0, misses=0)
        return
    for key in [k for k in _CACHE if k[0] != keep]:
        del _CACHE[key]


register_compiled_cache(clear_cache)
