"""Torsion potentials: conventions, symmetry, and the Fourier <-> RB conversions."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from bayesff.potentials import (
    FOURIER,
    RYCKAERT_BELLEMANS,
    fourier,
    fourier_to_ryckaert_bellemans,
    get_potential,
    ryckaert_bellemans,
    ryckaert_bellemans_to_fourier,
)
from bayesff.units import INTERNAL_UNITS, known_units, to_internal

# Identities below are exact in real arithmetic; float64 rounding of O(10-100)
# kJ/mol sums of cosines gives ~1e-13 absolute, hence atol 1e-10 kJ/mol.
ATOL = 1e-10
PHI = jnp.linspace(-math.pi, math.pi, 181)


def _random_v(seed: int):
    """V1..V4 drawn from the default prior Normal(0, 10) kJ/mol."""
    return tuple(np.random.default_rng(seed).normal(0.0, 10.0, 4))


def test_fourier_hand_values():
    """OPLS form by hand: 0 at trans, V1 + V3 at cis, V1/2 + V2 + V3/2 at phi = pi/2."""
    v1, v2, v3, v4 = 3.0, -1.0, 2.0, 0.5
    np.testing.assert_allclose(fourier(math.pi, v1, v2, v3, v4), 0.0, atol=ATOL)
    np.testing.assert_allclose(fourier(0.0, v1, v2, v3, v4), v1 + v3, atol=ATOL)
    np.testing.assert_allclose(
        fourier(math.pi / 2, v1, v2, v3, v4), v1 / 2 + v2 + v3 / 2, atol=ATOL
    )


@pytest.mark.parametrize("seed", range(5))
def test_periodic_and_even(seed):
    """u(phi + 2 pi) = u(phi) and u(-phi) = u(phi) for both forms (cosine series)."""
    v = _random_v(seed)
    c = np.random.default_rng(100 + seed).normal(0.0, 10.0, 6)
    for fn, args in ((fourier, v), (ryckaert_bellemans, tuple(c))):
        u = fn(PHI, *args)
        np.testing.assert_allclose(fn(PHI + 2 * math.pi, *args), u, atol=ATOL)
        np.testing.assert_allclose(fn(-PHI, *args), u, atol=ATOL)


def test_ryckaert_bellemans_butane_original_coefficients():
    """RB 1975 butane: a_n/k_B = 1116, 1462, -1578, -368, 3156, -3788 K (polymer angle).

    Values as quoted with the paper's citation (e.g. the CHARMM parameter
    documentation). Trans (phi = pi) must be the minimum at 0 (sum a_n = 0),
    and cis (phi = 0) is sum (-1)^n a_n = 5388 K = 44.80 kJ/mol. A wrong angle
    convention (psi = phi) swaps the two.
    """
    c = [to_internal(a, "K", "energy") for a in (1116, 1462, -1578, -368, 3156, -3788)]
    np.testing.assert_allclose(ryckaert_bellemans(math.pi, *c), 0.0, atol=ATOL)
    np.testing.assert_allclose(
        ryckaert_bellemans(0.0, *c), to_internal(5388.0, "K", "energy"), rtol=1e-12
    )
    u = ryckaert_bellemans(PHI, *c)
    assert float(jnp.min(u)) >= -ATOL


@pytest.mark.parametrize("seed", range(10))
def test_ryckaert_bellemans_equals_its_fourier_form(seed):
    """RB with fourier_to_ryckaert_bellemans(V) reproduces fourier(V) at every phi."""
    v = _random_v(seed)
    c = fourier_to_ryckaert_bellemans(*v)
    assert float(c.C5) == 0.0
    np.testing.assert_allclose(ryckaert_bellemans(PHI, *c), fourier(PHI, *v), atol=ATOL)
    np.testing.assert_allclose(sum(c), 0.0, atol=ATOL)  # zero at trans, like OPLS


@pytest.mark.parametrize("seed", range(10))
def test_conversion_round_trips(seed):
    """V -> C -> V is the identity with zero offset; C -> (V, offset) reproduces RB."""
    v = _random_v(seed)
    back = ryckaert_bellemans_to_fourier(*fourier_to_ryckaert_bellemans(*v))
    np.testing.assert_allclose(back[:4], v, atol=ATOL)
    np.testing.assert_allclose(back.offset, 0.0, atol=ATOL)

    c = (*np.random.default_rng(200 + seed).normal(0.0, 10.0, 5), 0.0)
    f = ryckaert_bellemans_to_fourier(*c)
    np.testing.assert_allclose(f.offset, sum(c), atol=ATOL)
    np.testing.assert_allclose(
        fourier(PHI, *f[:4]) + f.offset, ryckaert_bellemans(PHI, *c), atol=ATOL
    )
    np.testing.assert_allclose(fourier_to_ryckaert_bellemans(*f[:4])[1:], c[1:], atol=ATOL)


def test_ryckaert_bellemans_to_fourier_needs_c5_zero():
    """A cos^5 term has no Fourier-OPLS equivalent: ValueError eagerly, NaN under jit."""
    with pytest.raises(ValueError, match="C5 == 0"):
        ryckaert_bellemans_to_fourier(1.0, 2.0, 3.0, 4.0, 5.0, 0.1)
    f = jax.jit(ryckaert_bellemans_to_fourier)(1.0, 2.0, 3.0, 4.0, 5.0, 0.1)
    assert all(bool(jnp.isnan(x)) for x in f)
    f0 = jax.jit(ryckaert_bellemans_to_fourier)(1.0, 2.0, 3.0, 4.0, 5.0, 0.0)
    assert not any(bool(jnp.isnan(x)) for x in f0)


def test_gradients_against_central_differences():
    """jax.grad vs central differences (check_grads, step 1e-4, float64).

    Central-difference error ~ eps^2 |u'''|/6 ~ 1e-8 x O(4^3 V) relative to
    O(V) derivatives, inside rtol = atol = 1e-5.
    """
    check_grads(fourier, (1.1, 3.0, -1.0, 2.0, 0.5), order=2, eps=1e-4, atol=1e-5, rtol=1e-5)
    check_grads(
        ryckaert_bellemans, (2.3, 9.3, 12.2, -13.1, -3.1, 26.2, -31.5), order=2, eps=1e-4,
        atol=1e-5, rtol=1e-5,
    )  # fmt: skip


@pytest.mark.parametrize("spec", [FOURIER, RYCKAERT_BELLEMANS])
def test_registry_entries(spec):
    """Registered by name; energies in kJ/mol, priors inside supports, cited with a DOI."""
    assert get_potential(spec.name) is spec
    assert spec.kind == "torsion"
    for p in spec.params:
        assert p.dimension == "energy" and p.unit == INTERNAL_UNITS["energy"]
        assert p.prior_unit in known_units(p.dimension)
        p.default_prior.check_within(p.support)
    assert "doi:" in spec.reference
    assert FOURIER.param_names == ("V1", "V2", "V3", "V4")
    assert RYCKAERT_BELLEMANS.param_names == ("C0", "C1", "C2", "C3", "C4", "C5")
