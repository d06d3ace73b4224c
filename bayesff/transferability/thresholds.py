"""Every threshold of the transferability verdicts, named and explained in one place.

The criteria (docs/architecture.md, Transferability criteria) are probabilities and counts; these
constants turn them into the words "pass", "fail", "uncertain",
"transferable", "not transferable". Functions take them as defaults and
accept other values, and every verdict records the thresholds it used.
"""

from __future__ import annotations

__all__ = [
    "COVERAGE_NOT_TRANSFERABLE_P",
    "COVERAGE_PROB",
    "COVERAGE_UNCERTAIN_P",
    "EPS_G_MAX",
    "EPS_P_MAX",
    "FAIL_PROB",
    "LOEO_BANDS",
    "MC_ERROR_Z",
    "PASS_PROB",
    "RESIDUAL_ALPHA",
]

#: A held-out state *passes* when the posterior probability that the forward model
#: predicts it within tolerance is at least this: the field's deterministic rule
#: holds for 90 % of the plausible parameter sets.
PASS_PROB = 0.9
#: ... and *fails* when that probability is at most this (the rule holds for at
#: most 10 % of them); in between the posterior does not know yet ("uncertain").
FAIL_PROB = 0.1

#: A probability estimated from posterior draws lies *within its Monte Carlo error* of a
#: threshold when it is at most this many Monte Carlo standard errors from it (about a
#: 95 % interval for the estimate's run-to-run scatter). The standard error is that of
#: the mean of the 0/1 indicator over the draws, from its effective sample size
#: (:func:`bayesff.transferability.criteria.indicator_mcse`, ArviZ's ``mcse``): a
#: verdict that such a shift could change is reported as not settled, not flipped
#: between runs of different seeds or machines.
MC_ERROR_Z = 2.0

#: Central probability of the predictive interval whose coverage decides the
#: coverage verdict of a held-out group (and of a target without a tolerance).
COVERAGE_PROB = 0.9
#: A group is *not transferable* by coverage when a calibrated predictive would
#: leave as many of its states outside their 90 % intervals with binomial
#: probability below this (P(X >= k | n, 1 - COVERAGE_PROB) < 0.01) ...
COVERAGE_NOT_TRANSFERABLE_P = 0.01
#: ... and *uncertain* when that probability is below this (the usual 5 % level).
COVERAGE_UNCERTAIN_P = 0.05

#: Environment bands per target for leave-one-environment-out when none are given:
#: five contiguous bands of about equal row counts (K-fold with K = 5 by environment).
LOEO_BANDS = 5

#: The residual check (:func:`bayesff.transferability.residual_check`) calls a fit
#: inadequate when the posterior predictive p-value of its chi^2 discrepancy is below
#: this: the data scatter about the model more than the noise model allows.
RESIDUAL_ALPHA = 0.01

#: Conformer criterion: RMS population error epsilon_p <= 0.02, twice the 0.01
#: standard uncertainty typical of conformer populations from NMR couplings or IR
#: band intensities (and assumed for the shipped data); at p ~ 0.2-0.6 it is a
#: 3-10 % relative error.
EPS_P_MAX = 0.02
#: Conformer criterion: largest free-energy error epsilon_G <= 0.5 kJ/mol
#: (0.12 kcal/mol, 0.2 RT at 300 K): a 20 % error in a basin population
#: (dp/p = dG/RT); same order as epsilon_p for a gauche basin with p ~ 0.2, and
#: well below the ~1 kcal/mol "chemical accuracy" that is too loose to tell
#: torsion parametrisations apart.
EPS_G_MAX = 0.5
