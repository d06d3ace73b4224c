"""The two-centre forms sampled in L* = L / sigma (``two_centre_lj_lstar``,
``two_centre_lj_quadrupole_lstar``) are the usual forms at L = L* sigma.

They exist so that the two-centre EOS's validated edge (L* <= 0.8, Lisal et al. 2004) is a
bound of one sampled coordinate rather than the curved surface L = 0.8 sigma. Nothing
else may change: every observable must give what the usual form gives at L = L* sigma.
The references are the usual forms themselves, which their own tests check against teqp,
the stored B2 table's quadrature and published values. Tolerances: the energy is the same
arithmetic (1e-14); B2 by quadrature and the VLE solves agree to 1e-10 (L* sigma / sigma
is L* up to one rounding, and the solves converge far below that); the B2 table is read
at the same L* up to one rounding (1e-12).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from bayesff.observables import get_observable, orientational
from bayesff.potentials import get_potential
from bayesff.potentials.molecular import L_FROM_L_STAR, usual_parameters
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

R = GAS_CONSTANT_KJ_PER_MOL_K
PAIRS = (
    ("two_centre_lj_lstar", "two_centre_lj"),
    ("two_centre_lj_quadrupole_lstar", "two_centre_lj_quadrupole"),
)


def _params(quad: bool, l_star: float = 0.55) -> tuple[dict, dict]:
    """(own, usual): carbon-dioxide-like values, internal units (kJ/mol, angstrom, e A^2)."""
    own = {"epsilon": 133.0 * R, "sigma": 2.98, "L_star": l_star}
    if quad:
        own["Q"] = 0.6
    usual = {k: v for k, v in own.items() if k != "L_star"} | {"L": l_star * 2.98}
    return own, usual


@pytest.mark.parametrize(("name", "base"), PAIRS)
def test_energy_equals_the_usual_form_at_l_equal_l_star_sigma(name, base):
    own, usual = _params("quadrupole" in name)
    rng = np.random.default_rng(0)
    r = rng.uniform(3.0, 9.0, 200)
    t1, t2, ph = rng.uniform(0, np.pi, 200), rng.uniform(0, np.pi, 200), rng.uniform(0, 6, 200)
    u_own = get_potential(name).energy(r, t1, t2, ph, **own)
    u_usual = get_potential(base).energy(r, t1, t2, ph, **usual)
    np.testing.assert_allclose(u_own, u_usual, rtol=1e-14, atol=0.0)


@pytest.mark.parametrize(("name", "base"), PAIRS)
def test_usual_parameters_and_the_derived_l(name, base):
    own, usual = _params("quadrupole" in name)
    got = usual_parameters(get_potential(name), own)
    assert set(got) == set(usual)
    for k, v in usual.items():
        assert float(got[k]) == pytest.approx(v, rel=1e-15)
    assert get_potential(name).derived == (L_FROM_L_STAR,)
    assert L_FROM_L_STAR.value(2.98, 0.55) == pytest.approx(1.639, rel=1e-15)
    # a form without a base is passed through untouched
    assert usual_parameters(get_potential(base), usual) is usual


@pytest.mark.parametrize(("name", "base"), PAIRS)
@pytest.mark.parametrize("method", ["table", "quadrature"])
def test_b2_equals_the_usual_form(name, base, method):
    own, usual = _params("quadrupole" in name)
    T = jnp.array([200.0, 300.0, 600.0])
    b_own = orientational.build(get_potential(name), method=method)(own, {"T_K": T})
    b_usual = orientational.build(get_potential(base), method=method)(usual, {"T_K": T})
    assert np.all(np.isfinite(np.asarray(b_usual)))
    rtol = 1e-12 if method == "table" else 1e-10
    np.testing.assert_allclose(b_own, b_usual, rtol=rtol)


@pytest.mark.parametrize(("name", "base"), PAIRS)
@pytest.mark.parametrize(
    "observable",
    ["saturated_liquid_density", "vapour_pressure", "enthalpy_of_vaporisation"],
)
def test_vle_equals_the_usual_form(name, base, observable):
    own, usual = _params("quadrupole" in name)
    T = jnp.array([180.0, 220.0, 260.0])
    obs = get_observable(observable)
    y_own = obs.build(get_potential(name))(own, {"T_K": T})
    y_usual = obs.build(get_potential(base))(usual, {"T_K": T})
    assert np.all(np.isfinite(np.asarray(y_usual)))
    np.testing.assert_allclose(y_own, y_usual, rtol=1e-10)


def test_beyond_the_eos_edge_both_forms_are_nan_and_a_table_is_named():
    """At L* = 0.85 (beyond 0.8) the VLE is NaN in either form: the L* form moves the
    edge into the prior's bound, it does not extend the EOS."""
    own, usual = _params(False, l_star=0.85)
    T = jnp.array([220.0])
    obs = get_observable("saturated_liquid_density")
    assert np.isnan(float(obs.build(get_potential("two_centre_lj_lstar"))(own, {"T_K": T})[0]))
    assert np.isnan(float(obs.build(get_potential("two_centre_lj"))(usual, {"T_K": T})[0]))
    names = orientational.table_potentials()
    assert {"two_centre_lj_lstar", "two_centre_lj_quadrupole_lstar"} <= set(names)
