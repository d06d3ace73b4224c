"""Multiplicative inadequacy (``form = "log"``): ln y ~ N(ln f, sqrt((u^2 + e^2)/f^2 + tau^2)).

Known truth: B2 of LJ (epsilon/k 119.8 K, sigma 3.405 angstrom) at 30 temperatures
above the Boyle temperature (450-1200 K, where B2 > 0), each multiplied by exp(0.3 z),
z standard normal: a log-normal error of known scale tau = 0.3, the kind of factor
misfit a transferable model makes in vapour pressure. Stated u = 0.01 cm3/mol, far
below it.

* the posterior of tau holds 0.3 in its 90 % interval (30 draws of the error give
  tau to about +-13 %);
* the held-out log-likelihood the run stores is the log-normal density of y (SciPy's
  ``lognorm``, evaluated on the run file's own draws), to 1e-9: one likelihood, also of
  y, so that LOO compares it with the normal forms';
* bad input: a log form on a hierarchical term, or on a target with a non-positive
  observation, is refused naming the target and row.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from bayesff import runfile
from bayesff.errors import ProblemError
from bayesff.inference import calibrate
from bayesff.observables import SECOND_VIRIAL
from bayesff.potentials import get_potential
from bayesff.problem import InferenceSettings
from bayesff.report.atlas import heldout_elpd
from bayesff.targets import Inadequacy, Target
from bayesff.units import to_internal

from support import lj_problem

T = np.linspace(450.0, 1200.0, 30)
TRAIN = T <= 1000.0
TAU = 0.3
U = 0.01
SETTINGS = InferenceSettings(chains=2, warmup=300, samples=400, prior_draws=5, seed=4)


def _b2(eps_k=119.8, sigma=3.405):
    params = {"epsilon": to_internal(eps_k, "K", "energy"), "sigma": sigma}
    return np.asarray(SECOND_VIRIAL.build(get_potential("lennard_jones"))(params, {"T_K": T}))


def _target(y=None, inadequacy=None) -> Target:
    if y is None:
        y = _b2() * np.exp(TAU * np.random.default_rng(8).normal(size=T.size))
    inad = inadequacy or Inadequacy("inferred_scale", form="log", prior_scale=0.5)
    t = Target.from_arrays("B2", SECOND_VIRIAL, {"T_K": T}, y, U, train=TRAIN, inadequacy=inad)
    return t.replace(holdout={"hot": ~TRAIN})


@pytest.fixture(scope="module")
def run():
    return calibrate(lj_problem([_target()], SETTINGS, name="log_form"), progress=False, log=None)


def test_log_form_recovers_a_known_multiplicative_scale(run):
    tau = np.asarray(run.datatree["posterior"]["tau_B2"]).ravel()
    lo, hi = np.quantile(tau, [0.05, 0.95])
    assert lo < TAU < hi, (lo, hi)
    assert run.datatree["posterior"]["tau_B2"].attrs["units"] == "1 (sd of ln)"


def test_log_form_heldout_density_is_the_log_normal_of_y(run):
    dt = run.datatree
    rows = runfile.rows(dt, "B2", "holdout")
    f = np.asarray(rows.model, float).reshape(-1, rows.observed.size)
    tau = np.asarray(runfile.latents(dt, "posterior")["tau_B2"].values, float).reshape(-1, 1)
    y = np.asarray(rows.observed, float)
    var = np.asarray(rows.u, float) ** 2 + np.asarray(rows.floor, float) ** 2
    s = np.sqrt(var / f**2 + tau**2)
    lp = stats.lognorm.logpdf(y, s=s, scale=f)
    want = float(np.sum(logsumexp(lp, axis=0) - np.log(lp.shape[0])))
    assert heldout_elpd(dt)[("B2", "hot")]["elpd"] == pytest.approx(want, rel=1e-9)


def test_log_form_is_refused_where_it_has_no_meaning():
    with pytest.raises(ProblemError, match="error model of inferred_scale"):
        Inadequacy("hierarchical", form="log")
    y = _b2().copy()
    y[3] = -1.0
    with pytest.raises(ProblemError) as e:
        lj_problem([_target(y)], SETTINGS)
    msg = str(e.value)
    assert "target 'B2'.inadequacy.form" in msg and "row 3 (T_K 527.586) is -1. " in msg, msg
    assert "np.float64" not in msg, msg  # the number as a reader writes it
