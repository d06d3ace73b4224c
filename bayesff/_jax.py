"""Kept for imports of the numerical core; it sets nothing.

Importing bayesff changes no global JAX setting. float64 and the persistent
compilation cache are switched on by :func:`bayesff.configure`, which the
CLI and :func:`bayesff.calibrate` call (see :mod:`bayesff.runtime`).
"""

from __future__ import annotations

import jax

__all__ = ["jax"]
