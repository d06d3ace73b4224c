"""Inference: one sampling path for every problem, compiled once per structure.

:func:`calibrate` (one problem) and :func:`calibrate_many` (many; same-structure
problems batched) sample with the kernels of :mod:`bayesff.inference.kernels`
and write run files through :mod:`bayesff.runfile`; :func:`repredict` post-processes a
stored run's draws again under a problem whose held-out side changed; :func:`laplace_modes`
runs a calibration's Laplace start alone, to see its competing modes before sampling.
"""

from bayesff.inference.cache import cache_info, clear_cache
from bayesff.inference.calibrate import (
    Interrupted,
    Run,
    StartModes,
    calibrate,
    calibrate_many,
    laplace_modes,
)
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
    "StartModes",
    "cache_info",
    "calibrate",
    "calibrate_many",
    "clear_cache",
    "diagnose",
    "format_summary",
    "laplace_modes",
    "repredict",
]
