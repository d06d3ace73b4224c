"""``mie_critical``: the Mie n-6 form sampled in critical-point coordinates.

epsilon = epsilon_c / T*c(n), sigma = l_c rho*c(n)^(1/3), m = 6, with T*c(n) and rho*c(n)
the reduced critical point of SAFT-VR Mie's monomer as a quintic fit in 12 / n (bayesff's
fit, scripts/fit_mie_critical_coordinate.py). The form only changes coordinates, so every
observable must give what ``mie`` gives at the mapped parameters: the references are the
usual form itself, which tests/potentials/test_pair.py checks against closed forms and
tests/observables/ against teqp. Tolerances: the energy is the same arithmetic up to the
map's roundings (1e-13); B2 by quadrature agrees to 1e-10; the VLE observables see the
form only through its map to the EOS's reduced variables, which equals ``mie``'s to 1e-14.

The map's T*c(n) and rho*c(n) are a fit, so they are checked against what they were fitted
to, bayesff's solved critical point of the EOS, within the fit's stated 0.09 % and 0.6 %
(rounded up to 0.1 % and 0.7 %), and against an independent code of the same model,
teqp 0.23's SAFT-VR Mie (``solve_pure_critical``), within the same tolerances.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import teqp

from bayesff.observables import get_observable
from bayesff.observables.eos.thermo import critical_point
from bayesff.observables.vle import FLUID_EOS
from bayesff.potentials import MIE, get_potential, mie, mie_critical, mie_critical_point
from bayesff.units import GAS_CONSTANT_KJ_PER_MOL_K

jax.config.update("jax_enable_x64", True)

R = GAS_CONSTANT_KJ_PER_MOL_K
AVOGADRO = 6.02214076e23
SIGMA_M, EPS_K = 3.5e-10, 150.0  # teqp works in SI; the reduced critical point is scale-free


def _params(n: float = 14.0) -> tuple[dict, dict]:
    """(own, usual): an argon-like Mie n-6 fluid, internal units (kJ/mol, angstrom)."""
    tc, rc = (float(x) for x in mie_critical_point(n))
    own = {"epsilon_c": 150.0 * R, "l_c": 5.0, "n": n}
    return own, {"epsilon": 150.0 * R / tc, "sigma": 5.0 * rc ** (1 / 3), "n": n, "m": 6.0}


def test_energy_is_mie_n_6_at_the_mapped_parameters():
    assert get_potential("mie_critical").param_names == ("epsilon_c", "l_c", "n")
    assert get_potential("mie_critical").params[2] == MIE.params[2]  # n: mie's support
    for n in (8.0, 12.0, 23.5, 45.0):
        own, usual = _params(n)
        r = np.linspace(3.0, 12.0, 50)
        np.testing.assert_allclose(mie_critical(r, **own), mie(r, **usual), rtol=1e-13)


def test_derived_parameters_are_epsilon_and_sigma():
    own, usual = _params()
    derived = get_potential("mie_critical").derived
    assert [d.name for d in derived] == ["epsilon", "sigma"]
    for d in derived:
        got = d.value(*(own[k] for k in d.inputs))
        assert float(got) == pytest.approx(usual[d.name], rel=1e-14)


def test_b2_equals_mie():
    own, usual = _params()
    T = {"T_K": jnp.array([100.0, 200.0, 600.0])}
    obs = get_observable("second_virial")
    b_own = obs.build(get_potential("mie_critical"))(own, T)
    b_usual = obs.build(get_potential("mie"))(usual, T)
    assert np.all(np.isfinite(np.asarray(b_usual)))
    np.testing.assert_allclose(b_own, b_usual, rtol=1e-10)


def test_vle_maps_to_the_mie_state():
    """The VLE observables see ``mie_critical`` through its map to SAFT-VR Mie, which must be
    ``mie``'s at the derived epsilon and sigma (the reduced energy, length and shape to
    1e-14): the solves then give ``mie``'s numbers, which tests/observables/test_vle_fluids.py
    checks against teqp. The map's derivatives equal central differences (step 1e-6,
    1e-7 relative), so the gradients of every VLE observable follow by the chain rule
    through the solver that those tests check; and all four VLE observables accept the
    potential."""
    own, usual = _params()
    crit = FLUID_EOS["mie_critical"]
    eps, sig, shape = crit.reduce({k: jnp.float64(v) for k, v in own.items()})
    want = FLUID_EOS["mie"].reduce({k: jnp.float64(v) for k, v in usual.items()})
    assert float(eps) == pytest.approx(float(want[0]), rel=1e-14)
    assert float(sig) == pytest.approx(float(want[1]), rel=1e-14)
    assert {k: float(v) for k, v in shape.items()} == {k: float(v) for k, v in want[2].items()}
    assert crit.eos is FLUID_EOS["mie"].eos
    for i in (0, 1):  # d epsilon and d sigma in every sampled parameter
        grad = jax.grad(lambda p, i=i: crit.reduce(p)[i])(
            {k: jnp.float64(v) for k, v in own.items()}
        )
        for k, h in (("epsilon_c", 1e-6 * own["epsilon_c"]), ("l_c", 1e-6), ("n", 1e-5)):
            up = crit.reduce({**own, k: own[k] + h})[i]
            down = crit.reduce({**own, k: own[k] - h})[i]
            assert float(grad[k]) == pytest.approx(float(up - down) / (2 * h), rel=1e-7, abs=1e-12)
    for name in (
        "saturated_liquid_density",
        "saturated_vapour_density",
        "vapour_pressure",
        "enthalpy_of_vaporisation",
    ):
        get_observable(name).build(get_potential("mie_critical"))


N_GRID = [6.5, 7.3, 8.0, 10.0, 12.0, 14.7, 16.0, 19.0, 24.0, 31.0, 40.0, 50.0]


def test_the_coordinate_follows_the_critical_point_of_the_eos():
    n = jnp.array(N_GRID)
    tc, rc = mie_critical_point(n)
    solve = jax.vmap(
        lambda x: critical_point(FLUID_EOS["mie"].eos, segments=1.0, lambda_r=x, lambda_a=6.0)
    )
    cp = jax.jit(solve)(n)
    np.testing.assert_allclose(cp.T_star, tc, rtol=1e-3)
    np.testing.assert_allclose(cp.rho_star, rc, rtol=7e-3)


@pytest.mark.parametrize("n", [7.0, 12.0, 20.0, 36.0])
def test_the_coordinate_follows_teqps_critical_point(n):
    coeffs = {
        "name": "mie",
        "m": 1.0,
        "sigma_m": SIGMA_M,
        "epsilon_over_k": EPS_K,
        "lambda_r": n,
        "lambda_a": 6.0,
        "BibTeXKey": "Lafitte-JCP-2013",
    }
    model = teqp.make_model({"kind": "SAFT-VR-Mie", "model": {"coeffs": [coeffs]}})
    tc, rc = (float(x) for x in mie_critical_point(n))
    t_k, rho_molar = model.solve_pure_critical(tc * EPS_K, rc / (AVOGADRO * SIGMA_M**3))
    assert t_k / EPS_K == pytest.approx(tc, rel=1e-3)
    assert rho_molar * AVOGADRO * SIGMA_M**3 == pytest.approx(rc, rel=7e-3)


def test_the_coordinate_is_smooth_and_monotone_in_t_over_the_support():
    """T*c falls with n over the support (a harder core, less attraction per contact at the
    same epsilon); the coordinate must not fold, or two n would share an epsilon_c."""
    n = np.linspace(6.5, 50.0, 500)
    tc, _ = mie_critical_point(n)
    assert np.all(np.diff(np.asarray(tc)) < 0)
