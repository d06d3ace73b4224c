"""The Mie chain potential (bayesff.potentials.chain): segment energy, registry entry, and
the exact map to the SAFT-VR Mie reduced state.

References: the Mie potential's closed-form minimum (u(r_min) = -epsilon at r_min =
sigma (n/m)^(1/(n-m))); teqp 0.23.2's SAFT-VR Mie in SI units for the end-to-end unit
chain (K, angstrom, mol/L -> reduced state -> Ar01).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
import teqp

from bayesff.observables import get_observable
from bayesff.observables.eos.saft_vr_mie import alphar
from bayesff.potentials import get_potential, mie
from bayesff.potentials.chain import (
    MIE_CHAIN,
    MIE_CHAIN_VDW,
    epsilon_from_vdw,
    mie_chain_segment_energy,
    mie_chain_vdw_segment_energy,
    reduced_state,
    vdw_alpha,
)
from bayesff.units import INTERNAL_UNITS, known_units, to_internal

jax.config.update("jax_enable_x64", True)


def test_segment_energy_is_the_mie_pair_energy():
    """u(r) of two segments is the Mie n-m energy, whatever the segment count; its minimum
    is -epsilon at sigma (n/m)^(1/(n-m)) (closed form) to 1e-12 relative."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        eps, sigma = rng.uniform(0.5, 5.0), rng.uniform(3.0, 5.0)
        n, m, segments = rng.uniform(8.0, 40.0), rng.uniform(5.0, 6.0), rng.uniform(1, 16)
        r = np.linspace(0.9, 3.0, 7) * sigma
        np.testing.assert_array_equal(
            mie_chain_segment_energy(r, eps, sigma, n, m, segments), mie(r, eps, sigma, n, m)
        )
        r_min = sigma * (n / m) ** (1.0 / (n - m))
        u = mie_chain_segment_energy(r_min, eps, sigma, n, m, segments)
        np.testing.assert_allclose(u, -eps, rtol=1e-12)
        du = jax.grad(mie_chain_segment_energy)(r_min, eps, sigma, n, m, segments)
        assert abs(float(du)) < 1e-10 * eps / sigma


def test_registry_entry():
    """Registered as ``mie_chain`` of kind ``chain``; every parameter has a known unit and a
    prior inside its support; n > m for every allowed pair; the bond is sigma."""
    assert get_potential("mie_chain") is MIE_CHAIN
    assert MIE_CHAIN.kind == "chain"
    assert MIE_CHAIN.param_names == ("epsilon", "sigma", "n", "m", "segments")
    for p in MIE_CHAIN.params:
        assert p.unit == INTERNAL_UNITS[p.dimension]
        assert p.prior_unit in known_units(p.dimension)
        p.default_prior.check_within(p.support)  # raises ProblemError otherwise
        assert p.support.contains(p.default_prior.median())
    spec = {p.name: p.support for p in MIE_CHAIN.params}
    assert spec["n"].low > spec["m"].high
    assert (spec["segments"].low, spec["segments"].high) == (1.0, 16.0)
    params = {p.name: p.default_prior.median() for p in MIE_CHAIN.params}
    assert MIE_CHAIN.length_scale(**params) == MIE_CHAIN.bond_length(**params) == 4.0


def test_vdw_alpha_is_the_integrated_attraction():
    """alpha(n, m) = -(1 / (epsilon sigma^3)) int_sigma^inf u(r) r^2 dr: against scipy's
    adaptive quadrature of the Mie energy to 1e-9 relative at random exponents, and
    Lennard-Jones's 8/9 exactly (C = 4, 4 (1/3 - 1/9))."""
    from scipy.integrate import quad

    rng = np.random.default_rng(1)
    for _ in range(8):
        n, m = rng.uniform(6.5, 40.0), rng.uniform(4.0, 6.0)
        integral, _ = quad(lambda r, n=n, m=m: float(mie(r, 1.0, 1.0, n, m)) * r * r, 1.0, np.inf)
        np.testing.assert_allclose(vdw_alpha(n, m), -integral, rtol=1e-9)
    assert vdw_alpha(12.0, 6.0) == pytest.approx(8.0 / 9.0, rel=1e-15)


def test_mie_chain_vdw_is_mie_chain_at_epsilon_vdw_over_alpha():
    """``mie_chain_vdw`` is registered (kind ``chain``, epsilon_vdw in place of epsilon, the
    other parameters mie_chain's own), and its segment energy at epsilon_vdw is mie_chain's
    at epsilon = epsilon_vdw / alpha(n, m), whose well depth is then -epsilon_vdw / alpha
    (closed form)."""
    assert get_potential("mie_chain_vdw") is MIE_CHAIN_VDW
    assert MIE_CHAIN_VDW.kind == "chain"
    assert MIE_CHAIN_VDW.param_names == ("epsilon_vdw", "sigma", "n", "m", "segments")
    assert MIE_CHAIN_VDW.params[1:] == MIE_CHAIN.params[1:]
    assert MIE_CHAIN_VDW.params[0].dimension == "energy"
    MIE_CHAIN_VDW.params[0].default_prior.check_within(MIE_CHAIN_VDW.params[0].support)
    rng = np.random.default_rng(2)
    for _ in range(5):
        e_vdw, sigma = rng.uniform(0.5, 5.0), rng.uniform(3.0, 5.0)
        n, m = rng.uniform(8.0, 40.0), rng.uniform(5.0, 6.0)
        r = np.linspace(0.9, 3.0, 7) * sigma
        eps = epsilon_from_vdw(e_vdw, n, m)
        np.testing.assert_allclose(
            mie_chain_vdw_segment_energy(r, e_vdw, sigma, n, m, 3.0),
            mie_chain_segment_energy(r, eps, sigma, n, m, 3.0),
            rtol=1e-14,
        )
        r_min = sigma * (n / m) ** (1.0 / (n - m))
        u = mie_chain_vdw_segment_energy(r_min, e_vdw, sigma, n, m)
        np.testing.assert_allclose(u, -e_vdw / vdw_alpha(n, m), rtol=1e-12)


@pytest.mark.parametrize("name", ["second_virial", "structure_factor", "liquid_pressure"])
def test_pair_only_observables_reject_chains(name):
    """B2 and the integral equations are pair-potential forward models: they refuse a chain
    (Observable.accepts, which Problem validation calls)."""
    obs = get_observable(name)
    assert obs.accepts("pair")
    assert not obs.accepts(MIE_CHAIN.kind)


def test_reduced_state_is_exact_algebra():
    """T* = R T / epsilon and rho* = rho sigma^3 exactly: epsilon quoted as 150 K gives
    T* = T / 150 to rounding, and the gradients are the analytic -T*/epsilon and
    3 rho sigma^2."""
    eps = to_internal(150.0, "K", "energy")
    t_star, rho_star, shape = reduced_state(300.0, 0.01, eps, 3.8, 14.0, 6.0, 2.5)
    assert t_star == pytest.approx(2.0, rel=1e-14)
    assert rho_star == pytest.approx(0.01 * 3.8**3, rel=1e-15)
    assert shape == {"segments": 2.5, "lambda_r": 14.0, "lambda_a": 6.0}
    d_eps = jax.grad(lambda e: reduced_state(300.0, 0.01, e, 3.8, 14.0, 6.0, 2.5)[0])(eps)
    assert float(d_eps) == pytest.approx(-t_star / eps, rel=1e-14)
    d_sig = jax.grad(lambda s: reduced_state(300.0, 0.01, eps, s, 14.0, 6.0, 2.5)[1])(3.8)
    assert float(d_sig) == pytest.approx(3 * 0.01 * 3.8**2, rel=1e-14)


def test_reduced_state_matches_teqp_in_si_units():
    """Kelvin, angstrom and mol/L through bayesff's units and ``reduced_state`` into the EOS
    give teqp's Ar00 and Ar01 for the same chain in SI units (K, m, mol/m^3) to 1e-11
    (the EOS agrees to rounding; a wrong factor in the map would show at O(1))."""
    eps_k, sigma_a, n, m, segments = 250.0, 4.1, 16.0, 6.0, 2.4
    model = teqp.make_model(
        {
            "kind": "SAFT-VR-Mie",
            "model": {
                "coeffs": [
                    {
                        "name": "chain",
                        "m": segments,
                        "sigma_m": sigma_a * 1e-10,
                        "epsilon_over_k": eps_k,
                        "lambda_r": n,
                        "lambda_a": m,
                        "BibTeXKey": "test",
                    }
                ]
            },
        }
    )
    eps = to_internal(eps_k, "K", "energy")
    value_and_slope = jax.jit(jax.value_and_grad(alphar, 1))
    for t_k, rho_mol_per_l in [(300.0, 0.05), (250.0, 6.0), (400.0, 3.0)]:
        rho = to_internal(rho_mol_per_l, "mol/L", "number_density")
        t_star, rho_star, shape = reduced_state(t_k, rho, eps, sigma_a, n, m, segments)
        a, da = value_and_slope(t_star, rho_star, **shape)
        z = np.array([1.0])
        np.testing.assert_allclose(float(a), model.get_Ar00(t_k, 1e3 * rho_mol_per_l, z), 1e-11)
        np.testing.assert_allclose(
            float(rho_star * da), model.get_Ar01(t_k, 1e3 * rho_mol_per_l, z), rtol=1e-11
        )
