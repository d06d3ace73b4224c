"""Transferability of a calibrated force field to held-out environments.

The criteria are listed in docs/architecture.md (Transferability criteria).

Every criterion is computed from the posterior draws of a run file, read
through :mod:`bayesff.runfile`, per held-out state, then summarised per
held-out group and per target:

- **tolerance probability** ``P(|f - y| <= a + r |y|)`` from the noise-free
  forward-model draws: the Bayesian version of the field's deterministic rule
  (:func:`deterministic_rule` applies that rule to named candidate parameter
  sets); the probability that *all* held-out states are within tolerance
  jointly, and the **joint** probability over several targets;
- **central interval coverage** (50 %, 90 %) of the posterior predictive and
  **standardised residuals**; the **posterior predictive tail probability**;
- the **transferability index** RMSE(held out) / RMSE(training);
- for conformers, epsilon_p and epsilon_G (:func:`conformer_transferability`);
- **model comparison** (:func:`compare`): PSIS-LOO and leave-one-environment-out
  elpd across runs fitted to the same data;
- a **residual check** of the fit (:func:`residual_check`): is the noise model
  enough, or is the model inadequate?

Modules: :mod:`~bayesff.transferability.criteria` (the criteria on arrays and
the verdict rules), :mod:`~bayesff.transferability.thresholds` (every
threshold, documented), :mod:`~bayesff.transferability.states` (a run's rows
as scalar states), :mod:`~bayesff.transferability.evaluate`,
:mod:`~bayesff.transferability.compare`, :mod:`~bayesff.transferability.checks`
and :mod:`~bayesff.transferability.result`. Only numpy, scipy, xarray and
arviz are used (jax only for conformer targets).
"""

from __future__ import annotations

from bayesff.transferability.checks import (
    ResidualCheck,
    conformer_metrics,
    conformer_transferability,
    residual_check,
)
from bayesff.transferability.compare import CompareError, DifferentDataError, compare
from bayesff.transferability.criteria import (
    CriteriaError,
    all_within_tolerance_probability,
    check_tolerance,
    interval_coverage,
    joint_tolerance_probability,
    standardized_residuals,
    tail_probability,
    tolerance_probability,
    tolerance_width,
    transferability_index,
)
from bayesff.transferability.evaluate import deterministic_rule, evaluate
from bayesff.transferability.result import TransferabilityResult, jsonable

__all__ = [
    "CompareError",
    "CriteriaError",
    "DifferentDataError",
    "ResidualCheck",
    "TransferabilityResult",
    "all_within_tolerance_probability",
    "check_tolerance",
    "compare",
    "conformer_metrics",
    "conformer_transferability",
    "deterministic_rule",
    "evaluate",
    "interval_coverage",
    "joint_tolerance_probability",
    "jsonable",
    "residual_check",
    "standardized_residuals",
    "tail_probability",
    "tolerance_probability",
    "tolerance_width",
    "transferability_index",
]
