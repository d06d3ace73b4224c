"""The critical-point and coexistence solvers on chain fluids: they are not LJ-specific.

The model here is PC-SAFT for non-associating chains of ``segments`` tangent spheres (J.
Gross and G. Sadowski, Ind. Eng. Chem. Res. 40, 1244 (2001), doi:10.1021/ie0003887; the
universal constants of their Table 1 as teqp 0.23.2 carries them), written as a
:class:`ReducedEOS` in the units of its segment (T* = kT/epsilon, rho* = N sigma^3 per
molecule). It is a test model only: its critical temperatures run from 1.28 (one segment)
to 3.5 (16 segments) and its critical densities from 0.28 to 0.012, the range the SAFT-VR
Mie chains of the atlas span. Reference: teqp's own PC-SAFT (``kind = "PCSAFT"``, SI units,
converted here with sigma = 3 angstrom, epsilon/k = 100 K), its ``solve_pure_critical``
and ``pure_VLE_T``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import teqp

from bayesff.observables.eos import ReducedEOS, SolveStatus, Validity, solve_coexistence, thermo

jax.config.update("jax_enable_x64", True)

pytestmark = pytest.mark.slow  # compiles the solvers for a second model

_AB = np.array(
    [
        [0.9105631445, -0.3084016918, -0.0906148351, 0.7240946941, -0.5755498075, 0.0976883116],
        [0.6361281449, 0.1860531159, 0.4527842806, 2.2382791861, 0.6995095521, -0.2557574982],
        [2.6861347891, -2.5030047259, 0.5962700728, -4.0025849485, 3.8925673390, -9.1558561530],
        [-26.547362491, 21.419793629, -1.7241829131, -21.003576815, -17.215471648, 20.642075974],
        [97.759208784, -65.255885330, -4.1302112531, 26.855641363, 192.67226447, -38.804430052],
        [-159.59154087, 83.318680481, 13.776631870, 206.55133841, -161.82646165, 93.626774077],
        [91.297774084, -33.746922930, -8.6728470368, -355.60235612, -165.20769346, -29.666905585],
    ]
)


def _pcsaft_alphar(T_star, rho_star, segments):
    """Residual Helmholtz energy of PC-SAFT (pure, no association), reduced units."""
    m = segments
    d = 1.0 - 0.12 * jnp.exp(-3.0 / T_star)
    eta = jnp.pi / 6.0 * rho_star * m * d**3
    a_hs = (4.0 * eta - 3.0 * eta**2) / (1.0 - eta) ** 2
    g_hs = (1.0 - eta / 2.0) / (1.0 - eta) ** 3
    f1 = (m - 1.0) / m
    f2 = (m - 2.0) / m * f1
    a = _AB[:, 0] + _AB[:, 1] * f1 + _AB[:, 2] * f2
    b = _AB[:, 3] + _AB[:, 4] * f1 + _AB[:, 5] * f2
    powers = eta ** jnp.arange(7.0)
    i1, i2 = jnp.sum(a * powers), jnp.sum(b * powers)
    c1 = (
        1.0
        + m * (8.0 * eta - 2.0 * eta**2) / (1.0 - eta) ** 4
        + (1.0 - m)
        * (20 * eta - 27 * eta**2 + 12 * eta**3 - 2 * eta**4)
        / ((1.0 - eta) * (2.0 - eta)) ** 2
    )
    a_disp = -2 * jnp.pi * rho_star * m**2 * i1 / T_star - jnp.pi * rho_star * m**3 * i2 / (
        c1 * T_star**2
    )
    return m * a_hs - (m - 1.0) * jnp.log(g_hs) + a_disp


def _estimate(segments):
    # a rough guess (within ~15 %): Tc* grows from 1.3 towards 3.5, rho_c* falls as 0.3/m
    return 1.3 + 2.0 * (1.0 - 1.0 / segments), 0.3 / segments


PCSAFT = ReducedEOS(
    name="pcsaft_test",
    alphar=_pcsaft_alphar,
    shape=("segments",),
    critical_estimate=_estimate,
    validity=Validity(T_star=(0.3, 100.0), rho_star_max=1.5, shape={"segments": (1.0, 20.0)}),
    reference="J. Gross and G. Sadowski, Ind. Eng. Chem. Res. 40, 1244 (2001)",
)
SIGMA_A, EPS_K = 3.0, 100.0
TO_SI = 1.0 / (6.02214076e23 * 1e-30 * SIGMA_A**3)  # mol/m^3 per unit rho*
SEGMENTS = (1.0, 2.0, 4.0, 8.0, 16.0)


def _teqp(m):
    return teqp.make_model(
        {
            "kind": "PCSAFT",
            "model": {
                "coeffs": [
                    {
                        "name": "chain",
                        "m": m,
                        "sigma_Angstrom": SIGMA_A,
                        "epsilon_over_k": EPS_K,
                        "BibTeXKey": "Gross-IECR-2001",
                    }
                ]
            },
        }
    )


_CRIT = jax.jit(lambda m: thermo.critical_point(PCSAFT, segments=m))
_COEX = jax.jit(
    jax.vmap(
        lambda t, m: solve_coexistence(PCSAFT, t, critical=_CRIT(m), segments=m),
        in_axes=(0, None),
    )
)


def test_the_test_model_is_teqps_pcsaft():
    """alpha^r of the test model equals teqp's PC-SAFT to 1e-12 (so teqp is its oracle)."""
    for m in SEGMENTS:
        model = _teqp(m)
        for t, r in ((1.5, 0.3 / m), (2.5, 0.8 / m), (0.9, 0.02 / m)):
            want = model.get_Ar00(t * EPS_K, r * TO_SI, np.array([1.0]))
            assert abs(float(_pcsaft_alphar(t, r, m)) / want - 1) < 1e-12


@pytest.mark.parametrize("m", SEGMENTS)
def test_critical_point_of_chains(m):
    """T*c and rho*c of 1-16 segment chains equal teqp's solve_pure_critical to 1e-9."""
    cp = _CRIT(jnp.float64(m))
    assert int(cp.status) == SolveStatus.OK
    t_ref, r_ref = _teqp(m).solve_pure_critical(
        float(cp.T_star) * EPS_K, float(cp.rho_star) * TO_SI
    )
    assert abs(float(cp.T_star) / (t_ref / EPS_K) - 1) < 1e-9
    assert abs(float(cp.rho_star) / (r_ref / TO_SI) - 1) < 1e-9


@pytest.mark.parametrize("m", SEGMENTS)
def test_coexistence_of_chains_from_035_to_099_tc(m):
    """Saturated densities of chains at 30 temperatures from 0.35 to 0.99 Tc converge from
    the solver's own starts (no hand-chosen guess) and equal teqp's pure_VLE_T to 1e-9."""
    cp = _CRIT(jnp.float64(m))
    ts = np.linspace(0.35, 0.99, 30) * float(cp.T_star)
    c = _COEX(jnp.asarray(ts), jnp.float64(m))
    assert np.all(np.asarray(c.status) == SolveStatus.OK), np.asarray(c.status)
    model = _teqp(m)
    for i, t in enumerate(ts):
        rl, rv = model.pure_VLE_T(
            t * EPS_K, float(c.rho_l[i]) * TO_SI, float(c.rho_v[i]) * TO_SI, 100
        )
        assert abs(float(c.rho_l[i]) / (rl / TO_SI) - 1) < 1e-9
        assert abs(float(c.rho_v[i]) / (rv / TO_SI) - 1) < 1e-9


def test_derivatives_in_a_shape_parameter_are_exact():
    """d/dm of T*c (implicit function theorem) and of rho_l, rho_v, p at fixed T* against
    central differences in m (step 1e-5, truncation ~1e-10 relative: tolerance 1e-6)."""
    m0, h = 3.0, 1e-5
    # forward mode, one compiled function per quantity giving value and derivative (reverse
    # mode compiles the transposed implicit derivative of a 4th-order density series)
    tc = jax.jit(
        lambda m: jax.jvp(
            lambda x: thermo.critical_point(PCSAFT, segments=x).T_star, (m,), (jnp.ones_like(m),)
        )
    )
    fd_tc = (tc(jnp.float64(m0 + h))[0] - tc(jnp.float64(m0 - h))[0]) / (2 * h)
    assert abs(float(tc(jnp.float64(m0))[1]) / float(fd_tc) - 1) < 1e-6

    crit = _CRIT(jnp.float64(m0))  # only the starts use it: no derivative flows through it

    def props(m):
        c = solve_coexistence(PCSAFT, 1.8, critical=crit, segments=m)
        return jnp.stack([c.rho_l, c.rho_v, c.p])

    f = jax.jit(lambda m: jax.jvp(props, (m,), (jnp.ones_like(m),)))
    fd = (f(jnp.float64(m0 + h))[0] - f(jnp.float64(m0 - h))[0]) / (2 * h)
    jac = f(jnp.float64(m0))[1]
    np.testing.assert_allclose(jac, fd, rtol=1e-6)
    assert np.all(np.abs(np.asarray(jac)) > 0)
