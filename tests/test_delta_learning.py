"""Delta learning (studies.delta_learning): a GP on a cheap potential needs fewer points.

Reference curve: Aziz's HFD-ID1 argon potential, R. A. Aziz, J. Chem. Phys.
99, 4518 (1993), doi:10.1063/1.466106 (bayesff.potentials.reference.hfdid1).
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesff.potentials import LENNARD_JONES
from bayesff.potentials.gp import predict
from bayesff.potentials.reference import hfdid1
from studies import delta_learning as dl


@pytest.mark.slow
def test_delta_model_beats_the_direct_model_with_few_points():
    gps = dl.models()
    n = 5
    r = dl.training_radii(n)
    u = np.asarray(hfdid1(r))
    r_test = np.linspace(*dl.TEST_RANGE, 200)
    rms = {}
    for name in ("delta", "direct"):
        params, post, _ = dl.fit(gps[name], r, u)
        rms[name] = dl.rms_error(gps[name], params, post, r_test)
        # both interpolate their training points to within the assumed accuracy (2 sd)
        mean, _ = predict(gps[name], params, post, r)
        assert np.all(np.abs(np.asarray(mean) - u) <= 2 * dl.noise_sd(u) + 1e-12)
    # Why delta wins: with LJ as the base the GP only has to learn LJ -> HFD-ID1,
    # a correction several times smaller than the whole attraction (LJ misses the
    # 143 K well by 23 K and has a too-strong r^-6 tail; the WCA base misses all of
    # it); with the same hyperpriors and the same 5 points, a smaller, smoother
    # residual is interpolated with a smaller error. Measured with the study
    # (500-point grid): 0.070 (delta) against 0.111 kJ/mol (direct) at n = 5;
    # the margin asked here, 25 %, is inside that.
    assert rms["delta"] < 0.75 * rms["direct"], rms
    # and 5 accurate points already improve on the cheap potential alone (0.097)
    lj = np.asarray(LENNARD_JONES.energy(r_test, **dl.LJ_ARGON))
    assert rms["delta"] < np.sqrt(np.mean((lj - np.asarray(hfdid1(r_test))) ** 2)), rms
