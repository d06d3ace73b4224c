"""JAX set-up shared by the numerical core.

bayesff computes in float64 by default (DESIGN.md section 7): B2 near the
Boyle temperature and the integral equations lose digits in float32. JAX
reads this flag when arrays are created, so it is set when the numerical core
is imported, before any array exists. Set ``BAYESFF_X64=0`` to run in float32
for benchmarking only.
"""

from __future__ import annotations

import os

import jax

if os.environ.get("BAYESFF_X64", "1") != "0":
    jax.config.update("jax_enable_x64", True)

__all__ = ["jax"]
