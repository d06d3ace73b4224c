"""Input checks of bayesff.targets that an input audit (2026-11-28) found missing: settings
that would be silently ignored, and Python-built targets with unusable environments."""

from __future__ import annotations

import numpy as np
import pytest

from bayesff.errors import ProblemError
from bayesff.targets import ErrorModel, Inadequacy, Target


def test_an_inadequacy_of_kind_none_with_other_fields_is_refused():
    """{ kind = "none", prior_scale = 0.05 } used to be read as no inadequacy, the scale
    dropped; a user who wrote a scale meant an inferred one."""
    with pytest.raises(ProblemError, match="kind 'none' takes no other fields, got prior_scale"):
        Inadequacy.from_value({"kind": "none", "prior_scale": 0.05}, "targets[0].inadequacy")
    assert Inadequacy.from_value({"kind": "none"}).kind == "none"
    assert Inadequacy.from_value("none").kind == "none"


@pytest.mark.parametrize("kind", ["independent", "discrepancy_gp"])
def test_covariance_settings_on_another_error_model_are_refused(kind):
    """data, replicates and block_length mean something only to a covariance error model."""
    with pytest.raises(ProblemError, match=f"data belong to a covariance error model; a {kind}"):
        ErrorModel(kind=kind, data="cov.csv")


@pytest.mark.parametrize("kind", ["independent", "covariance"])
@pytest.mark.parametrize("field", ["amplitude_scale", "length_scale"])
def test_gp_settings_on_another_error_model_are_refused(kind, field):
    """amplitude_scale and length_scale set the GP discrepancy's priors; on another error
    model they were silently ignored (found by the audit of 2026-11-28)."""
    extra = {"data": "cov.csv"} if kind == "covariance" else {}
    with pytest.raises(ProblemError, match=f"{field} belong to a discrepancy_gp error model"):
        ErrorModel(kind=kind, **{field: 0.5}, **extra)
    gp = ErrorModel(kind="discrepancy_gp", **{field: 0.5})
    assert getattr(gp, field) == 0.5
    assert ErrorModel(kind="discrepancy_gp").gp_length_scale == 0.1  # the documented default


@pytest.mark.parametrize(
    ("T", "says"),
    [([90.0, np.nan, 110.0], "'T_K' must be finite and > 0, got nan at row 1"),
     ([90.0, -5.0, 110.0], "'T_K' must be finite and > 0, got -5.0 at row 1"),
     ([90.0, "warm", 110.0], "must be numbers")],
)  # fmt: skip
def test_from_arrays_refuses_unusable_temperatures_with_the_row(T, says):
    """A NaN temperature made every draw's prediction NaN; a negative one was caught only
    by the EOS's range check, in reduced units; text raised NumPy's own error."""
    with pytest.raises(ProblemError, match=says) as e:
        Target.from_arrays("B2", "second_virial", {"T_K": T}, [-50.0, -40.0, -30.0], 1.0)
    assert "target 'B2'" in str(e.value)


def test_from_arrays_refuses_a_density_not_above_zero_with_the_row():
    """The density of an (T, rho) observable is > 0 like T (bayesff.data.POSITIVE_DIMENSIONS;
    input audit, 2026-11-30: a negative one reached the solver)."""
    env = {"T_K": [100.0, 120.0], "rho_per_A3": [0.02, -0.001]}
    with pytest.raises(
        ProblemError, match=r"'rho_per_A3' must be finite and > 0, got -0\.001 at row 1"
    ):
        Target.from_arrays("p", "eos_pressure", env, [1.0, 2.0], 0.1)
    env["rho_per_A3"] = [0.02, 0.001]
    assert len(Target.from_arrays("p", "eos_pressure", env, [1.0, 2.0], 0.1).values) == 2


def test_from_arrays_refuses_uncertainties_of_another_shape():
    with pytest.raises(ProblemError, match=r"the values' shape \(3,\)"):
        Target.from_arrays(
            "B2", "second_virial", {"T_K": [1.0, 2.0, 3.0]}, [1.0, 2.0, 3.0], [1.0, 2.0]
        )


def test_from_arrays_names_the_row_of_a_two_dimensional_environment_column():
    """A column of several numbers per row (coefficients): the row, not the flat index."""
    env = {"T_K": [100.0, 200.0, 300.0], "c": [[1.0, 2.0], [3.0, np.inf], [5.0, 6.0]]}
    with pytest.raises(ProblemError, match="'c' must be finite, got inf at row 1"):
        Target.from_arrays("B2", "second_virial", env, [-50.0, -40.0, -30.0], 1.0)
