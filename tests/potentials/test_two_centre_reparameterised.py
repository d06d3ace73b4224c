"""The two-centre forms in other coordinates are the usual forms at the mapped parameters.

* In L* = L / sigma (``two_centre_lj_lstar``, ``two_centre_lj_quadrupole_lstar``): L = L*
  sigma, so that the two-centre EOS's validated edge (L* <= 0.8, Lisal et al. 2004) is a
  bound of one sampled coordinate rather than the curved surface L = 0.8 sigma.
* In critical-point coordinates (``two_centre_lj_critical``,
  ``two_centre_lj_quadrupole_critical``): epsilon = epsilon_c / T*c(L*), sigma = l_c
  rho*c(L*)^(1/3), L = L* sigma, to straighten the ridge of a vapour-liquid fit (the data
  fix the model's critical temperature and volume).

Nothing else may change: every observable must give what the usual form gives at the
mapped parameters. The references are the usual forms themselves, which their own tests
check against teqp, the stored B2 table's quadrature and published values. Tolerances:
the energy is the same arithmetic up to the map's roundings (1e-13); B2 by table and
quadrature and the VLE solves agree to 1e-10 (the mapped L* is the sampled one up to a
rounding, and the solves converge far below that).

The critical map's T*c(L*) and rho*c(L*) are a fit, so they are checked against what they
were fitted to: the critical point that bayesff solves from the Lisal et al. (2004) EOS
(itself checked against teqp in tests/observables/eos/), within the fit's stated 0.3 %
and 0.1 %, and against the independent correlation of Stoll et al. (2001) within 3 %, its
own scatter about their simulations being about 1 %.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesff.observables import get_observable, orientational
from bayesff.observables.eos import two_centre_correlations as stoll
from bayesff.observables.eos.thermo import critical_point
from bayesff.observables.vle import FLUID_EOS
from bayesff.potentials import get_potential
from bayesff.potentials.molecular import (
    L_FROM_L_STAR,
    two_centre_critical_point,
    usual_parameters,
)
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM, GAS_CONSTANT_KJ_PER_MOL_K

R = GAS_CONSTANT_KJ_PER_MOL_K
Q = 0.4  # e angstrom^2: Q*^2 of 1-2 at the values below, inside the EOS's Q*^2 <= 4


def _lstar(l_star: float) -> tuple[dict, dict]:
    """(own, usual) for the L* forms: carbon-dioxide-like, internal units."""
    own = {"epsilon": 133.0 * R, "sigma": 2.98, "L_star": l_star}
    return own, {"epsilon": 133.0 * R, "sigma": 2.98, "L": l_star * 2.98}


def _critical(l_star: float) -> tuple[dict, dict]:
    """(own, usual) for the critical-point forms: carbon-dioxide-like, internal units."""
    tc, rc = (float(x) for x in two_centre_critical_point(l_star))
    sigma = 4.6 * rc ** (1 / 3)
    own = {"epsilon_c": 300.0 * R, "l_c": 4.6, "L_star": l_star}
    return own, {"epsilon": 300.0 * R / tc, "sigma": sigma, "L": l_star * sigma}


def _qstar(l_star: float, q: float = Q) -> tuple[dict, dict]:
    """(own, usual) for the ln Q*^2 form: ln Q*^2 = ln(Q^2 / (4 pi eps0 epsilon sigma^5))
    written out by hand (Q*^2 = 0.86 here)."""
    eps, sig = 133.0 * R, 2.98
    usual = {"epsilon": eps, "sigma": sig, "L": l_star * sig, "Q": q}
    ln_q2 = np.log(COULOMB_KJ_PER_MOL_ANGSTROM * q * q / (eps * sig**5))
    return {"epsilon": eps, "sigma": sig, "L": l_star * sig, "lnQ2_star": ln_q2}, usual


#: form -> (usual form, parameter maker)
FORMS = {
    "two_centre_lj_lstar": ("two_centre_lj", _lstar),
    "two_centre_lj_quadrupole_lstar": ("two_centre_lj_quadrupole", _lstar),
    "two_centre_lj_critical": ("two_centre_lj", _critical),
    "two_centre_lj_quadrupole_critical": ("two_centre_lj_quadrupole", _critical),
    "two_centre_lj_quadrupole_qstar": ("two_centre_lj_quadrupole", _qstar),
}
#: the names of the usual form's parameters each form derives
DERIVED = {"lstar": ["L"], "critical": ["epsilon", "sigma", "L"], "qstar": ["Q"]}


def _params(name: str, l_star: float = 0.55) -> tuple[dict, dict]:
    own, usual = FORMS[name][1](l_star)
    if "quadrupole" in name and "Q" not in usual:
        own, usual = own | {"Q": Q}, usual | {"Q": Q}
    return own, usual


@pytest.mark.parametrize("name", FORMS)
def test_energy_equals_the_usual_form_at_the_mapped_parameters(name):
    own, usual = _params(name)
    rng = np.random.default_rng(0)
    r = rng.uniform(3.0, 9.0, 200)
    t1, t2, ph = rng.uniform(0, np.pi, 200), rng.uniform(0, np.pi, 200), rng.uniform(0, 6, 200)
    u_own = get_potential(name).energy(r, t1, t2, ph, **own)
    u_usual = get_potential(FORMS[name][0]).energy(r, t1, t2, ph, **usual)
    np.testing.assert_allclose(u_own, u_usual, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", FORMS)
def test_usual_parameters_are_the_derived_ones(name):
    own, usual = _params(name)
    got = usual_parameters(get_potential(name), own)
    assert set(got) == set(usual)
    for k, v in usual.items():
        assert float(got[k]) == pytest.approx(v, rel=1e-14)
    derived = [d.name for d in get_potential(name).derived]
    assert derived == DERIVED[name.rsplit("_", 1)[1]]
    # a form without a base is passed through untouched
    base = get_potential(FORMS[name][0])
    assert usual_parameters(base, usual) is usual


def test_the_derived_l_of_the_l_star_forms():
    assert get_potential("two_centre_lj_lstar").derived == (L_FROM_L_STAR,)
    assert L_FROM_L_STAR.value(2.98, 0.55) == pytest.approx(1.639, rel=1e-15)


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("method", ["table", "quadrature"])
def test_b2_equals_the_usual_form(name, method):
    own, usual = _params(name)
    T = jnp.array([200.0, 300.0, 600.0])
    b_own = orientational.build(get_potential(name), method=method)(own, {"T_K": T})
    b_usual = orientational.build(get_potential(FORMS[name][0]), method=method)(usual, {"T_K": T})
    assert np.all(np.isfinite(np.asarray(b_usual)))
    np.testing.assert_allclose(b_own, b_usual, rtol=1e-10)


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize(
    "observable",
    ["saturated_liquid_density", "vapour_pressure", "enthalpy_of_vaporisation"],
)
def test_vle_equals_the_usual_form(name, observable):
    own, usual = _params(name)
    T = jnp.array([180.0, 220.0, 260.0])
    obs = get_observable(observable)
    y_own = obs.build(get_potential(name))(own, {"T_K": T})
    y_usual = obs.build(get_potential(FORMS[name][0]))(usual, {"T_K": T})
    assert np.all(np.isfinite(np.asarray(y_usual)))
    np.testing.assert_allclose(y_own, y_usual, rtol=1e-10)


def test_the_gradient_in_epsilon_c_and_l_c_is_the_chain_rule_of_the_usual_form():
    """d rho_l / d epsilon_c through the map equals the usual form's gradient times the
    map's derivatives (epsilon = epsilon_c / T*c: d epsilon / d epsilon_c = 1 / T*c)."""
    own, usual = _params("two_centre_lj_critical")
    T = {"T_K": jnp.array([220.0])}
    obs = get_observable("saturated_liquid_density")
    g_own = jax.grad(lambda p: obs.build(get_potential("two_centre_lj_critical"))(p, T)[0])(own)
    g_usual = jax.grad(lambda p: obs.build(get_potential("two_centre_lj"))(p, T)[0])(usual)
    tc, rc = (float(x) for x in two_centre_critical_point(own["L_star"]))
    want_eps = g_usual["epsilon"] / tc
    want_lc = (g_usual["sigma"] + g_usual["L"] * own["L_star"]) * rc ** (1 / 3)
    assert float(g_own["epsilon_c"]) == pytest.approx(float(want_eps), rel=1e-8)
    assert float(g_own["l_c"]) == pytest.approx(float(want_lc), rel=1e-8)


@pytest.mark.parametrize("l_star", [0.0, 0.15, 0.35, 0.505, 0.65, 0.8])
def test_the_critical_coordinate_follows_the_critical_point_of_the_eos(l_star):
    """epsilon_c and l_c are k_B Tc and (Vc / N_A)^(1/3) of the 2CLJ fluid to the fit's
    0.3 % and 0.1 %."""
    tc, rc = (float(x) for x in two_centre_critical_point(l_star))
    cp = critical_point(FLUID_EOS["two_centre_lj"].eos, L_star=l_star)
    assert float(cp.T_star) == pytest.approx(tc, rel=3e-3)
    assert float(cp.rho_star) == pytest.approx(rc, rel=1e-3)
    assert float(stoll.critical_temperature(l_star, 0.0)) == pytest.approx(tc, rel=0.03)
    assert float(stoll.critical_density(l_star, 0.0)) == pytest.approx(rc, rel=0.03)


@pytest.mark.parametrize("name", ["two_centre_lj_lstar", "two_centre_lj_critical"])
def test_beyond_the_eos_edge_both_forms_are_nan(name):
    """At L* = 0.85 (beyond 0.8) the VLE is NaN in either form: the forms move the edge
    into the prior's bound, they do not extend the EOS."""
    own, usual = _params(name, l_star=0.85)
    T = jnp.array([220.0])
    obs = get_observable("saturated_liquid_density")
    assert np.isnan(float(obs.build(get_potential(name))(own, {"T_K": T})[0]))
    assert np.isnan(float(obs.build(get_potential("two_centre_lj"))(usual, {"T_K": T})[0]))


def test_tables_and_equations_of_state_know_every_form():
    assert set(FORMS) <= set(orientational.table_potentials())
    assert set(FORMS) <= set(FLUID_EOS)


def test_beyond_q_star2_of_4_the_vle_is_nan_and_the_default_prior_stops_there():
    """At Q*^2 = 4.4 (beyond the 2CLJQ EOS's validated 4) the VLE is NaN in either form;
    the ln Q*^2 form's default prior is bounded at ln 4, so its draws never get there
    (Stoll et al. 2001 simulated Q*^2 up to 4; docs/vle.md)."""
    own, usual = _qstar(0.55)
    q44 = float(
        np.sqrt(4.4 * usual["epsilon"] * usual["sigma"] ** 5 / COULOMB_KJ_PER_MOL_ANGSTROM)
    )
    own, usual = _qstar(0.55, q44)
    assert float(np.exp(own["lnQ2_star"])) == pytest.approx(4.4, rel=1e-12)
    T = jnp.array([220.0])
    obs = get_observable("saturated_liquid_density")
    name = "two_centre_lj_quadrupole_qstar"
    assert np.isnan(float(obs.build(get_potential(name))(own, {"T_K": T})[0]))
    assert np.isnan(
        float(obs.build(get_potential("two_centre_lj_quadrupole"))(usual, {"T_K": T})[0])
    )
    prior = {p.name: p for p in get_potential(name).params}["lnQ2_star"].default_prior
    assert prior.dist == "TruncatedNormal" and prior.args["high"] == pytest.approx(np.log(4.0))


def test_the_derived_q_of_a_run_sampled_in_ln_q_star2_is_in_buckingham():
    """A run sampled in ln Q*^2 reports Q draw by draw, in B (the usual form's unit), from
    epsilon in K and sigma in angstrom as the run file holds them: Q = sqrt(Q*^2 4 pi eps0
    epsilon sigma^5), written out here with 1 B = 0.20819434 e angstrom^2 (1 D = 0.20819434
    e angstrom; CODATA) and k_B / (e^2 / 4 pi eps0) by hand."""
    import xarray as xr
    from handmade_runs import build_run, target

    from bayesff import runfile

    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((3, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    post = dt["posterior"].to_dataset()
    draws = {
        "epsilon": [50.0, 55.0, 60.0],
        "sigma": [2.8, 2.7, 2.6],
        "lnQ2_star": [-1.0, 0.0, 1.0],
    }
    for p, x in draws.items():
        post[p] = (("chain", "draw"), np.asarray(x)[None])
        post[p].attrs["units"] = {"epsilon": "K", "sigma": "angstrom", "lnQ2_star": "1"}[p]
    dt["posterior"] = xr.DataTree(post)
    dt.attrs["parameters"] = list(draws)
    dt.attrs["problem_text"] = (
        '[problem]\nname = "x"\n[potential]\nkind = "two_centre_lj_quadrupole_qstar"\n'
        '[parameters.L]\nunit = "angstrom"\nvalue = 1.4\n'
    )
    dt.attrs["problem_text_sha256"] = runfile.text_sha256(dt.attrs["problem_text"])
    got = runfile.derived_parameters(dt)
    assert list(got.data_vars) == ["Q"] and got["Q"].attrs["units"] == "B"
    # epsilon sigma^5 in K angstrom^5 times k_B, over e^2 / (4 pi eps0) = 167101.0 K angstrom
    k_over_coulomb = 1.0 / 167101.0
    eps, sig, lnq2 = (np.array(draws[k]) for k in ("epsilon", "sigma", "lnQ2_star"))
    want = np.sqrt(np.exp(lnq2) * eps * sig**5 * k_over_coulomb) / 0.20819434
    np.testing.assert_allclose(got["Q"].values[0], want, rtol=1e-5)
    # ln Q*^2 fixed in the problem, with a blank (dimensionless) unit: Q still varies with
    # epsilon and sigma draw by draw
    dt["posterior"] = xr.DataTree(post.drop_vars("lnQ2_star"))
    dt.attrs["parameters"] = ["epsilon", "sigma"]
    dt.attrs["problem_text"] += '[parameters.lnQ2_star]\nunit = ""\nvalue = 0.5\n'
    got = runfile.derived_parameters(dt)
    want = np.sqrt(np.exp(0.5) * eps * sig**5 * k_over_coulomb) / 0.20819434
    np.testing.assert_allclose(got["Q"].values[0], want, rtol=1e-5)
    assert got["Q"].dims == ("chain", "draw")
