r"""Equilibration, statistical inefficiency and the uncertainty of MD averages.

A thin layer over pymbar 4's ``timeseries`` module (J. D. Chodera, J. Chem.
Theory Comput. 12, 1799 (2016), doi:10.1021/acs.jctc.5b00784, for the
equilibration detection; the statistical inefficiency g = 1 + 2 sum_t
(1 - t/N) C(t) of W. Janke, in *Quantum Simulations of Complex Many-Body
Systems*, NIC Series 10, 423 (2002)). For a series :math:`A_t`:

- :func:`equilibration`: the start :math:`t_0` maximising the number of
  effectively uncorrelated samples of :math:`A_{t_0:}`, with g and
  :math:`N_{eff}` there, searched over the first half of the series (below);
- :func:`average`: the mean of the production part and its standard error
  :math:`\sqrt{g\, s^2 / N}`;
- :func:`trajectory_averages`: both for the density, the potential energy and
  the volume of an :class:`~bayesff.simulate.engines.Trajectory`, with one
  common :math:`t_0` (the latest of the three) so that the frames kept for
  reweighting are the same for every quantity.

**Why the search stops at half the series.** Chodera's criterion estimates g
of every tail :math:`A_{t_0:}`; a tail of a few samples of a strongly
correlated series has an estimate near 1 by chance, and its :math:`N_{eff}`
then beats the whole series'. pymbar's ``detect_equilibration``, which searches
every :math:`t_0`, left fewer than 20 of the samples of a *stationary* AR(1)
series (no transient at all) in 37 % and 50 % of 200 series of 120 samples
with correlation times of 10 and 30 samples, and in 20 % and 35 % of 360
samples with 30 and 60 (pymbar's defaults, ``fast=True``; 2026-11-28;
tests/simulate/test_timeseries.py): the MD
workflow extended such runs, or refused them, for nothing. Searching
:math:`t_0 \le (N - 1)/2` keeps every tail long enough for its g (on a
series of a few samples the bound is met often and means little); a start at that
bound (``Equilibration.at_bound``) says the transient may last longer, and
the workflow then continues the run (docs/molecular.md).

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

__all__ = [
    "MAX_T0_FRACTION",
    "Average",
    "Equilibration",
    "average",
    "equilibration",
    "trajectory_averages",
    "trajectory_start",
]

#: The latest equilibration start searched, as a fraction of the series' length
#: (the module docstring says why).
MAX_T0_FRACTION = 0.5


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
    at_bound
        Whether ``t0`` is the latest start searched (:data:`MAX_T0_FRACTION` of
        the series): the transient may last longer.
    """

    t0: int
    g: float
    n_eff: float
    at_bound: bool = False


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


def equilibration(
    x,
    *,
    fast: bool = False,
    where: str = "time series",
    max_t0_fraction: float = MAX_T0_FRACTION,
) -> Equilibration:
    """Detect equilibration: Chodera's maximum of N_eff over starts up to a bound.

    Chodera's criterion, as pymbar's ``detect_equilibration`` applies it (t0
    maximising the effective sample count (N - t0) / g(x[t0:]), g from pymbar's
    ``statistical_inefficiency``; pymbar counts N - t0 + 1 and rounds g to
    float32), searched over t0 <= ``max_t0_fraction`` (N - 1) only: the module
    docstring says why.

    Parameters
    ----------
    x
        The series, one sample per frame.
    fast
        pymbar's faster, less exact estimate of g.
    where
        Named in errors.
    max_t0_fraction
        The latest start searched, as a fraction of the series (0 < f <= 1;
        1 searches every start but the last, as pymbar does).
    """
    a = _series(x, where)
    if not 0.0 < max_t0_fraction <= 1.0:
        raise ValueError(f"max_t0_fraction must lie in (0, 1], got {max_t0_fraction}")
    if np.ptp(a) == 0.0:  # a constant series is equilibrated and uncorrelated
        return Equilibration(0, 1.0, float(a.size))
    ts = _pymbar_timeseries()
    last = int(max_t0_fraction * (a.size - 1))
    g = np.empty(last + 1)
    for t in range(last + 1):
        try:
            g[t] = ts.statistical_inefficiency(a[t:], fast=fast)
        except ts.ParameterError:  # a constant tail (pymbar's own fallback)
            g[t] = a.size - t
    n_eff = (a.size - np.arange(last + 1)) / g
    t0 = int(np.argmax(n_eff))
    return Equilibration(t0, float(g[t0]), float(n_eff[t0]), bool(t0 == last and last > 0))


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


def trajectory_averages(traj, *, t0: int | None = None) -> dict[str, Average]:
    """Averages of a trajectory's density, potential energy and volume.

    One equilibration time for all three (the latest detected), so that the
    frames after it serve every quantity and reweighting alike.

    Parameters
    ----------
    traj
        A :class:`~bayesff.simulate.engines.Trajectory`.
    t0
        The first production frame, if already known (:func:`trajectory_start`);
        detected when not given.

    Returns
    -------
    dict
        ``{"density_kg_per_m3", "potential_energy_kJ_per_mol", "volume_A3"}``
        (NPT) or ``{"potential_energy_kJ_per_mol"}`` (gas), each an
        :class:`Average`, each with the common first production frame as ``t0``.
    """
    series = _trajectory_series(traj)
    if t0 is None:
        t0, _ = trajectory_start(traj)
    out = {k: average(x, t0=t0, where=f"trajectory.{k}") for k, x in series.items()}
    return out


def _trajectory_series(traj) -> dict[str, np.ndarray]:
    series = {"potential_energy_kJ_per_mol": traj.potential_energy}
    if traj.settings.ensemble == "npt":
        series["density_kg_per_m3"] = traj.density_kg_per_m3
        series["volume_A3"] = traj.volume
    return series


def trajectory_start(traj) -> tuple[int, bool]:
    """The first production frame common to a trajectory's series, and whether it
    may come too early.

    Returns
    -------
    t0 : int
        The latest of the starts detected by :func:`equilibration` in the
        potential energy and (NPT) the density and the volume.
    at_bound : bool
        Whether any of them is the latest start searched: that series may
        still be drifting at half the run.
    """
    found = [
        equilibration(x, where=f"trajectory.{k}") for k, x in _trajectory_series(traj).items()
    ]
    return max(e.t0 for e in found), any(e.at_bound for e in found)
