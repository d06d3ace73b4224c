"""Inference: one sampling path for every problem, compiled once per structure.

:func:`calibrate` (one problem) and :func:`calibrate_many` (many; same-structure
problems batched) sample with the kernels of :mod:`bayesff.inference.kernels`
and write run files through :mod:`bayesff.runfile`; :func:`repredict` post-processes a
stored run's draws again under a problem whose held-out side changed.
"""

from bayesff.inference.cache import cache_info, clear_cache
from bayesff.inference.calibrate import Interrupted, Run, calibrate, calibrate_many
from bayesff.inference.diagnostics import (
    EBFMI_MIN,
    ESS_BULK_MIN,
    RHAT_MAX,
    Diagnostics,
    DiagnosticsError,
    diagnose,
    format_summary,
)
from bayesff.inference.repredict import RepredictError, repredict

__all__ = [
    "EBFMI_MIN",
    "ESS_BULK_MIN",
    "RHAT_MAX",
    "Diagnostics",
    "DiagnosticsError",
    "Interrupted",
    "RepredictError",
    "Run",
    "cache_info",
    "calibrate",
    "calibrate_many",
    "clear_cache",
    "diagnose",
    "format_summary",
    "repredict",
]
