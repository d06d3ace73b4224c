"""Equilibration detection and uncertainties of MD averages (pymbar's timeseries)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from bayesff.errors import DataError
from bayesff.simulate.timeseries import average, equilibration

pytest.importorskip("pymbar", reason="pymbar is not installed (optional extra 'molecular')")


def _ar1(n, phi, rng, x0=0.0):
    x = np.empty(n)
    x[0] = x0
    e = rng.normal(size=n) * math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def test_equilibration_is_found_after_a_transient():
    """An AR(1) series (phi = 0.9, unit variance, 3000 samples) drifting in as
    10 exp(-t/100), the shape of an MD run relaxing from its start: the detected
    start lies where the drift has fallen to about one standard deviation or below
    (t > 150, where it is 2.2; 10 exp(-t/100) = 1 at t = 230) and not far beyond
    (t < 700); g there is the AR(1) value (1 + phi)/(1 - phi) = 19 within 30 % (the
    estimate from ~2800 samples scatters by ~15 %, five seeds gave 13.6-25)."""
    rng = np.random.default_rng(0)
    x = _ar1(3000, 0.9, rng) + 10.0 * np.exp(-np.arange(3000) / 100.0)
    eq = equilibration(x)
    assert 150 < eq.t0 < 700
    assert eq.g == pytest.approx(19.0, rel=0.3)
    assert eq.n_eff == pytest.approx((x.size - eq.t0) / eq.g)


def test_a_stationary_series_keeps_at_least_half_its_samples():
    """Stationary AR(1) series (no transient: x0 drawn from the stationary law), 120
    samples with a correlation time of 30 samples, like the MD workflow's liquid runs
    (120 frames): pymbar's ``detect_equilibration``, searching every start, leaves fewer
    than 20 samples in a large fraction of them (measured 2026-11-28: 50 % of 200 series;
    here at least 20 % of 60 is required, a band far below that); ``equilibration`` never
    leaves fewer than half, and its start is at the search's bound in a minority (measured
    12.5 %; here at most 35 %, the binomial 4-sigma band above that)."""
    from pymbar import timeseries as ts

    rng = np.random.default_rng(5)
    phi = math.exp(-1.0 / 30.0)
    late_pymbar = at_bound = 0
    for _ in range(60):
        x = _ar1(120, phi, rng, x0=rng.normal())
        late_pymbar += x.size - ts.detect_equilibration(x)[0] < 20
        eq = equilibration(x)
        assert x.size - eq.t0 >= 60
        assert eq.n_eff == pytest.approx((x.size - eq.t0) / eq.g)
        at_bound += eq.at_bound
    assert late_pymbar >= 12
    assert at_bound <= 21


def test_a_series_drifting_throughout_is_at_the_bound():
    """A series that drifts over its whole length (AR(1), phi = 0.5, plus a linear fall of
    8 standard deviations, as a liquid still compressing) has no equilibrated part: the
    start is the latest searched, half the series, and says so; the whole-series search
    (max_t0_fraction = 1) finds a later one."""
    rng = np.random.default_rng(3)
    x = _ar1(200, 0.5, rng) + np.linspace(8.0, 0.0, 200)
    eq = equilibration(x)
    assert eq.t0 == 99 and eq.at_bound
    assert equilibration(x, max_t0_fraction=1.0).t0 > 99
    with pytest.raises(ValueError, match="max_t0_fraction"):
        equilibration(x, max_t0_fraction=0.0)


def test_standard_error_covers_the_true_mean():
    """Coverage over 200 AR(1) series (phi = 0.8, 2000 samples, true mean 0): the
    reported +-1 standard error interval holds the true mean in 68 % +- 7 % of them
    (binomial 2-sigma band: sqrt(0.68 * 0.32 / 200) = 3.3 %, widened for the
    small bias of g estimated from each series); a naive error ignoring g would
    cover only ~37 %."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(200):
        a = average(_ar1(2000, 0.8, rng, x0=rng.normal()), t0=0)
        hits += abs(a.mean) <= a.sem
    assert 0.61 <= hits / 200 <= 0.75


def test_constant_and_bad_series():
    """A constant series is its own mean with zero error; a series with NaN or too
    few samples is a DataError naming it."""
    a = average(np.full(50, 3.0))
    assert (a.mean, a.sem, a.g) == (3.0, 0.0, 1.0)
    with pytest.raises(DataError, match="density: the time series holds non-finite"):
        average([1.0, np.nan, 2.0, 3.0, 4.0], where="density")
    with pytest.raises(DataError, match="at least 4 samples"):
        equilibration([1.0, 2.0])


def test_using_timeseries_changes_no_jax_setting():
    """pymbar's MBAR module switches JAX to float64 when it runs; importing and using
    bayesff.simulate.timeseries must leave jax_enable_x64 as it was (False by
    default), in a fresh process."""
    code = (
        "import jax; before = jax.config.jax_enable_x64;"
        "import numpy as np; from bayesff.simulate import timeseries as ts;"
        "ts.average(np.random.default_rng(0).normal(size=500));"
        "assert jax.config.jax_enable_x64 == before, before; print('ok', before)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "ok False" in out.stdout, out.stderr
