r"""Equilibration, statistical inefficiency and the uncertainty of MD averages.

A thin layer over pymbar 4's ``timeseries`` module (J. D. Chodera, J. Chem.
Theory Comput. 12, 1799 (2016), doi:10.1021/acs.jctc.5b00784, for the
equilibration detection; the statistical inefficiency g = 1 + 2 sum_t
(1 - t/N) C(t) of W. Janke, in *Quantum Simulations of Complex Many-Body
Systems*, NIC Series 10, 423 (2002)). For a series :math:`A_t`:

- :func:`equilibration`: the start :math:`t_0` maximising the number of
  effectively uncorrelated samples of :math:`A_{t_0:}`, with g and
  :math:`N_{eff}` there;
- :func:`average`: the mean of the production part and its standard error
  :math:`\sqrt{g\, s^2 / N}`;
- :func:`trajectory_averages`: both for the density, the potential energy and
  the volume of an :class:`~bayesff.simulate.engines.Trajectory`, with one
  common :math:`t_0` (the latest of the three) so that the frames kept for
  reweighting are the same for every quantity.

pymbar is imported inside :func:`_pymbar_timeseries` and nowhere at module
level: importing pymbar imports its MBAR solvers, which use JAX and switch
JAX to float64 globally when they run; bayesff's import must change no JAX
setting (tests/simulate/test_timeseries.py checks that this module leaves
``jax_enable_x64`` as it found it).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from bayesff.errors import DataError

__all__ = ["Average", "Equilibration", "average", "equilibration", "trajectory_averages"]


def _pymbar_timeseries():
    # Deferred import (unavoidable): importing pymbar at module level would import its
    # JAX-based MBAR solvers with bayesff, and they change JAX's global float64 setting.
    from pymbar import timeseries

    return timeseries


class Equilibration(NamedTuple):
    """Where a series is equilibrated.

    Attributes
    ----------
    t0
        Index of the first production sample.
    g
        Statistical inefficiency of ``x[t0:]`` (>= 1), in samples.
    n_eff
        Effectively uncorrelated samples in ``x[t0:]``: (N - t0) / g.
    """

    t0: int
    g: float
    n_eff: float


class Average(NamedTuple):
    """Mean of the production part of a series and its uncertainty.

    Attributes
    ----------
    mean
        Mean of ``x[t0:]``.
    sem
        Standard error of the mean, sqrt(g var / n).
    g
        Statistical inefficiency, samples.
    n_eff
        Effectively uncorrelated samples.
    t0
        First sample used.
    """

    mean: float
    sem: float
    g: float
    n_eff: float
    t0: int


def _series(x, where) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or a.size < 4:
        raise DataError(
            f"expected a time series of at least 4 samples, found shape {a.shape}", where
        )
    if not np.all(np.isfinite(a)):
        raise DataError("the time series holds non-finite values", where)
    return a


def equilibration(x, *, fast: bool = False, where: str = "time series") -> Equilibration:
    """Detect equilibration (pymbar ``detect_equilibration``).

    Parameters
    ----------
    x
        The series, one sample per frame.
    fast
        pymbar's faster, less exact estimate of g.
    where
        Named in errors.
    """
    a = _series(x, where)
    if np.ptp(a) == 0.0:  # a constant series is equilibrated and uncorrelated
        return Equilibration(0, 1.0, float(a.size))
    t0, g, _ = _pymbar_timeseries().detect_equilibration(a, fast=fast)
    return Equilibration(int(t0), float(g), (a.size - int(t0)) / float(g))


def average(x, *, t0: int | None = None, where: str = "time series") -> Average:
    """Mean and standard error of ``x[t0:]``; t0 detected when not given.

    The standard error uses pymbar's statistical inefficiency g of the kept
    part: :math:`\\sigma_{\\bar x} = \\sqrt{g\\, s^2 / n}` with s^2 the sample
    variance (ddof = 1) of the n kept samples.
    """
    a = _series(x, where)
    if t0 is None:
        t0 = equilibration(a, where=where).t0
    kept = a[int(t0) :]
    if kept.size < 2:
        raise DataError(f"only {kept.size} sample(s) after t0 = {t0}", where)
    if np.ptp(kept) == 0.0:
        return Average(float(kept[0]), 0.0, 1.0, float(kept.size), int(t0))
    g = float(_pymbar_timeseries().statistical_inefficiency(kept))
    sem = math.sqrt(g * np.var(kept, ddof=1) / kept.size)
    return Average(float(kept.mean()), sem, g, kept.size / g, int(t0))


def trajectory_averages(traj) -> dict[str, Average]:
    """Averages of a trajectory's density, potential energy and volume.

    One equilibration time for all three (the latest detected), so that the
    frames after it serve every quantity and reweighting alike.

    Parameters
    ----------
    traj
        A :class:`~bayesff.simulate.engines.Trajectory`.

    Returns
    -------
    dict
        ``{"density_kg_per_m3", "potential_energy_kJ_per_mol", "volume_A3"}``
        (NPT) or ``{"potential_energy_kJ_per_mol"}`` (gas), each an
        :class:`Average`; ``"t0"`` is the common first production frame.
    """
    series = {"potential_energy_kJ_per_mol": traj.potential_energy}
    if traj.settings.ensemble == "npt":
        series["density_kg_per_m3"] = traj.density_kg_per_m3
        series["volume_A3"] = traj.volume
    t0 = max(equilibration(x, where=f"trajectory.{k}").t0 for k, x in series.items())
    out = {k: average(x, t0=t0, where=f"trajectory.{k}") for k, x in series.items()}
    return out
