r"""Tabulated reduced second virial coefficient of the 2CLJ and 2CLJQ models.

Both models are exactly :math:`\varepsilon\,\phi(r/\sigma, \Omega; L^*, Q^{*2})`,
with :math:`L^* = L/\sigma` and
:math:`Q^{*2} = Q^2/(4\pi\varepsilon_0\varepsilon\sigma^5)` (Q in e angstrom^2,
:math:`1/(4\pi\varepsilon_0)` = ``COULOMB_KJ_PER_MOL_ANGSTROM``, as in
:func:`~bayesff.potentials.molecular.quadrupole_quadrupole`); the overlap core of
2CLJQ is a fraction of the contact distance, which scales with sigma too. Hence

.. math::

    B_2(T) = N_A\sigma^3\, B_2^*(T^*, L^*, Q^{*2}), \qquad T^* = k_BT/\varepsilon,

exactly (2CLJ: :math:`Q^{*2} = 0`), and one table of :math:`B_2^*` serves every
parameter draw. This module computes the table once with the angular x radial
quadrature of :mod:`bayesff.observables.orientational` (:func:`tabulate`,
``scripts/make_two_centre_table.py``), stores it as package data
(``tables/two_centre_b2.npz`` with its provenance in ``two_centre_b2.json``), and
interpolates it in pure JAX (:func:`reduced_second_virial`,
:func:`second_virial_table`): microseconds per (draw, temperature) instead of the
milliseconds of the quadrature.

Interpolant
-----------
Tensor-product Chebyshev interpolation (Chebyshev-Lobatto nodes, so the domain's
edges, L* = 0 included, are nodes) of :math:`y = \ln(K - B_2^*)`, K = 10 (above
the largest B2* of both tables, 4.4), in

* :math:`s = \ln T^*`: at high T* B2* behaves like :math:`T^{*-1/4}` (the soft
  r^-12 core), which has a branch point at 1/T* = 0 but is analytic in ln T*;
  at low T* :math:`B_2^* \sim -e^{c/T^*}` and y is nearly linear in 1/T*;
* L*, over [0, L*_max] (B2* is even and analytic in L*);
* for 2CLJQ, :math:`w = Q^{*2}/Q^{*2}_{max}(T^*, L^*) \in [0, 1]` with
  :math:`Q^{*2}_{max} = ((g(L^*)T^*)^{-4} + c(L^*)^{-4})^{-1/4}`, a smooth
  minimum of :math:`g T^*` and c (:class:`TableSpec`). The domain is thus a box
  in (ln T*, L*, w); in (T*, Q*^2) it keeps the quadrupolar coupling
  :math:`Q^{*2}/T^* = Q^2/(4\pi\varepsilon_0\sigma^5k_BT)` (independent of
  epsilon) below g. Beyond, B2* is astronomically negative and the quadrature
  loses its accuracy (the Boltzmann factor becomes a sharp peak in
  orientation; (16, 16, 16) is then wrong by 1e-3 to 100 %), soonest at large
  L*: hence g falls from 20 at L* = 0 to 8 at L* = 1.

Why ln(K - B2*): it is ln|B2*| where B2* is large and negative, so a uniform
absolute error of y is a relative error of B2*, and it is analytic wherever B2*
is real and below K. arcsinh(B2*), tried first, has complex singularities where
B2* = ±i, i.e. close to the real ln T* axis where B2* crosses zero steeply
(near the Boyle temperature): its Chebyshev coefficients in ln T* were still
1e-4 at degree 64, against 1e-10 at degree 40 for ln(K - B2*). The error of
B2* is :math:`(K - B_2^*)|\Delta y|`, at most about 10 |Δy| where |B2*| < 1.

A global polynomial is infinitely differentiable (NUTS and the finite
differences of the Laplace start need continuous gradients; a piecewise table
would be C^0 or C^1 at its seams). Evaluation: the Chebyshev basis by its
three-term recurrence (no arccos, so derivatives stay finite up to the edges),
contracted with the coefficient tensor.

Outside the domain the result is NaN (docs/architecture.md, Contracts: a failure value that
NUTS rejects), never an extrapolation.

Domain
------
Chosen for the transferability atlas (``models/atlas/atlas.toml``), whose B2 data
run from 0.5 Tc (0.71 Tc for CO2) to 300-1100 K:

* T* in [0.4, 200], both tables. The posteriors of the 2 x 300 atlas
  (``reports/atlas/atlas.csv``) need T* from about 1.0 (CO2, F2, ethane: lowest
  data temperature over the 95 % quantile of epsilon) to about 30 (N2 at 1000 K);
  at the lowest data temperature the prior median is T* ~ 1.4 and T* = 0.4 is
  epsilon at +3 prior standard deviations; T* = 200 at 1000 K is epsilon/k = 5 K.
* 2CLJ: L* in [0, 2]. The fixed-L fluids have L* 0.3-0.6; CO2-2CLJ's posterior
  has L* ~ 1.1 (up to ~1.5), its prior reaches L* = 2 only with L at the top of its
  range and sigma 2 standard deviations low.
* 2CLJQ: L* in [0, 1] and Q*^2 <= Q*^2_max(T*, L*): at L* = 0 it is 8, 20,
  32 and 40 at T* = 0.4, 1, 1.8 and above 10; at L* = 1 it is 3.2, 7.9, 13 and
  16. That covers the atlas's 2CLJQ posteriors (Q*^2/T* up to ~6 at their
  lowest temperature, Q*^2 up to ~12) and the central half of every prior, from
  which the Laplace start begins (up to Q*^2 = 28 at T* = 1.8 for F2, whose
  small sigma makes Q*^2 large; a start outside the table has no finite
  density and the start fails). Beyond L* = 1 the model itself breaks down: the
  point quadrupole overwhelms the site-site repulsion at the edge of the overlap
  core, so that B2 depends on the arbitrary core size (x = 0.3 instead of 0.4
  changes B2 by more than 1e-6 at L* = 1.0 with Q*^2 >= 12, at L* = 1.05 with
  Q*^2 >= 6, at L* = 1.1 with Q*^2 >= 3, at L* = 1.2 with Q*^2 >= 1, and then by
  orders of magnitude) and explodes (L* = 1.2, Q*^2 = 5, T* = 2: B2* = -2e22).
  Up to L* = 0.9 the core is immaterial (< 3e-9) for every Q*^2 <= 24.

Accuracy
--------
Measured by ``scripts/make_two_centre_table.py --check 24`` (recorded in the
JSON): 600 random points per table, uniform in the box, against the direct
quadrature at the table's own settings; error
:math:`|\Delta B_2^*|/\max(|B_2^*|, 1)`, gradients relative to
:math:`\max(|g|, 1)`:

* 2CLJ, quadrature (24, 64, 64), degrees (56, 64): values <= 6.5e-7 for
  L* <= 1 (1e-8 for T* >= 0.7), <= 2.9e-6 for L* in (1, 2] at T* < 0.7 and
  4.5e-8 at T* >= 0.7. The quadrature against (24, 80, 80): <= 5e-15 at
  L* <= 1, 2.5e-6 at L* = 1.5, 1.6e-7 at L* = 2. Gradients: d/dT* <= 1.1e-5;
  d/dL* <= 8e-5 for L* <= 1 (3e-6 for T* >= 0.6), but up to 2.5e-3 for
  L* >= 1.5 at T* < 0.7, where the quadrature's own JVP and its central
  difference differ by as much (its derivative in L* is not converged there).
  At low T* and large L* the function is hard for any polynomial: the most
  bound configuration of two elongated dumbbells changes with L*, and at low
  T* ln|B2*| follows it with a near-kink.
* 2CLJQ, quadrature (24, 48, 48), degrees (48, 28, 32): values <= 3.5e-6 for
  Q*^2 < 8 and <= 1.6e-5 for Q*^2 < 16 (the atlas's posteriors), up to 1.2e-4
  at Q*^2 = 16-40 (high T*, L* ~ 0.85-0.95: the far corner of the domain, put
  there for the Laplace start's prior draws, where the model is close to its
  overlap-core breakdown); median 3e-7 (a further 480 points, split by
  Q*^2). Gradients <= 5.8e-5 (d/dL*), 2.2e-5 (d/dT*), 4.9e-6 (d/dQ*^2). The
  quadrature against (24, 64, 64): <= 1.2e-13 at L* <= 0.5, 5e-10 at
  L* = 0.75, 1.5e-7 at L* = 1. A first table with half the Q*^2 range
  (Q*^2/T* <= 8, Q*^2 <= 16) and degrees (48, 24, 24) reached 3e-7 everywhere,
  but four of the seven 2CLJQ atlas tasks then started the Laplace optimiser
  outside it (NaN density) and failed.

For comparison the atlas's B2 data have standard uncertainties of at least
0.5 cm^3/mol and |B2| below about 1000 cm^3/mol: 3e-6 is 0.003 cm^3/mol or
less. A gradient error does not bias the sampler: the gradient used is the exact
gradient of the interpolant whose value defines the density, so NUTS's
Hamiltonian stays consistent with its acceptance test.

Cost: about 1 microsecond per (draw, temperature), value and gradient, on one
CPU core: 0.10 ms for 4 chains x 25 temperatures with either table, against
7.2 ms (2CLJ) and 9.2 ms (2CLJQ) for the (8, 8, 8) quadrature (measured
2026-11-24 on the 2-core CPU, jit(vmap(value_and_grad)) of a sum of squares).
When L* is a scalar (one draw) its basis is contracted with the coefficients
first, so that each temperature costs (n_s + 1)(n_w + 1) multiply-adds.

Draws outside the domain get NaN, which the model turns into a rejected
proposal; the prior mass outside (large Q, whose LogNormal(2 B, 1) prior puts
Q*^2 far above any physical value) has B2 far from every data point anyway.

The grids, quadrature settings and measured accuracy are in :data:`TABLES` and
in the JSON beside the table; ``tests/observables/test_two_centre_table.py``
checks them against the direct quadrature.

Units: T in K, epsilon in kJ/mol, sigma and L in angstrom, Q in e angstrom^2,
B2 in cm^3/mol; B2* in units of sigma^3 per molecule (B2 / (N_A sigma^3)).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.observables.quadrature import expm1_capped, orientation_grid
from bayesff.potentials import get_potential, list_potentials
from bayesff.potentials.molecular import quadrupole_quadrupole, two_centre_lj, usual_parameters
from bayesff.units import AVOGADRO, COULOMB_KJ_PER_MOL_ANGSTROM, GAS_CONSTANT_KJ_PER_MOL_K

__all__ = [
    "TABLES",
    "TABLE_PATH",
    "TableSpec",
    "chebyshev_lobatto",
    "load_table",
    "reduced_second_virial",
    "second_virial_table",
    "table_potentials",
    "tabulate",
]

#: The stored table (``np.savez``, read with ``allow_pickle=False``) and its provenance.
TABLE_PATH = Path(__file__).parent / "tables" / "two_centre_b2.npz"

#: Å^3 per molecule -> cm^3/mol.
_A3_TO_CM3_PER_MOL = AVOGADRO * 1e-24

#: The interpolated quantity is ln(K - B2*) (module docstring); K is above every B2*.
_K = 10.0


@dataclass(frozen=True)
class TableSpec:
    """Domain, grid and quadrature of one potential's table.

    Parameters
    ----------
    potential
        Registry name (``"two_centre_lj"`` or ``"two_centre_lj_quadrupole"``).
    t_star
        (min, max) of T* = k_B T / epsilon.
    l_star
        (min, max) of L* = L / sigma; min is 0.
    degrees
        Chebyshev degrees (n_s, n_L) or (n_s, n_L, n_w); the grid has n + 1
        Chebyshev-Lobatto nodes in each.
    quadrature
        (nodes_per_panel, n_cos, n_phi) of the orientational quadrature.
    g_max, q_cap
        For 2CLJQ, each (value at L* = 0, value at L* = L*_max), joined by
        :math:`u = (L^*/L^*_{max})^4`: :math:`g(L^*) = g_0 + (g_1 - g_0)u`, likewise
        :math:`c(L^*)`, and :math:`Q^{*2}_{max}(T^*, L^*) = ((g T^*)^{-4} + c^{-4})^{-1/4}`,
        a smooth minimum of :math:`g T^*` and c; ``None`` for 2CLJ.
    """

    potential: str
    t_star: tuple[float, float]
    l_star: tuple[float, float]
    degrees: tuple[int, ...]
    quadrature: tuple[int, int, int]
    g_max: tuple[float, float] | None = None
    q_cap: tuple[float, float] | None = None

    @property
    def has_quadrupole(self) -> bool:
        return self.g_max is not None

    def q_max(self, t_star, l_star):
        """Largest tabulated Q*^2 at (T*, L*) (2CLJQ); numpy or JAX arrays."""
        u = (l_star / self.l_star[1]) ** 4
        g = self.g_max[0] + (self.g_max[1] - self.g_max[0]) * u
        c = self.q_cap[0] + (self.q_cap[1] - self.q_cap[0]) * u
        return ((g * t_star) ** -4 + c**-4) ** -0.25


TABLES = {
    "two_centre_lj": TableSpec(
        potential="two_centre_lj",
        t_star=(0.4, 200.0),
        l_star=(0.0, 2.0),
        degrees=(56, 64),
        quadrature=(24, 64, 64),
    ),
    "two_centre_lj_quadrupole": TableSpec(
        potential="two_centre_lj_quadrupole",
        t_star=(0.4, 200.0),
        l_star=(0.0, 1.0),
        degrees=(48, 28, 32),
        quadrature=(24, 48, 48),
        g_max=(20.0, 8.0),
        q_cap=(40.0, 16.0),
    ),
}


def table_potentials() -> tuple[str, ...]:
    """Names of the potentials that have a table (a reparameterised form uses its base's)."""
    return tuple(n for n, pot in list_potentials().items() if table_name(pot) is not None)


def table_name(potential) -> str | None:
    """The table a potential reads: its own, its usual form's (``base``), or ``None``."""
    name = getattr(potential, "base", "") or getattr(potential, "name", "")
    return name if name in TABLES else None


# ------------------------------------------------------------------ Chebyshev


def chebyshev_lobatto(n: int) -> np.ndarray:
    """The n + 1 Chebyshev-Lobatto nodes cos(pi k / n), k = 0..n, on [-1, 1] (descending)."""
    return np.cos(np.pi * np.arange(n + 1) / n)


def _values_to_coefficients(values: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients of the interpolant through values at Lobatto nodes, per axis.

    DCT-I along each axis: c_j = (2/n) sum_k'' y_k cos(pi j k / n), the first and
    last terms of the sum and c_0, c_n halved.
    """
    c = np.asarray(values, dtype=float)
    for axis in range(c.ndim):
        n = c.shape[axis] - 1
        k = np.arange(n + 1)
        m = np.cos(np.pi * np.outer(k, k) / n) * (2.0 / n)
        m[:, 0] *= 0.5
        m[:, -1] *= 0.5
        m[0, :] *= 0.5
        m[-1, :] *= 0.5
        c = np.moveaxis(np.tensordot(m, np.moveaxis(c, axis, 0), axes=1), 0, axis)
    return c


def _basis(x, n: int):
    """T_0(x) .. T_n(x) by the three-term recurrence, stacked on a last axis."""
    x = jnp.asarray(x, dtype=float)
    out = [jnp.ones_like(x), x]
    for _ in range(n - 1):
        out.append(2.0 * x * out[-1] - out[-2])
    return jnp.stack(out[: n + 1], axis=-1)


def _to_unit(v, lo, hi):
    return (2.0 * v - (lo + hi)) / (hi - lo)


# ------------------------------------------------------------------ generation


def _axes(spec: TableSpec):
    """Grid coordinates of the table: T* (n_s+1,), L* (n_L+1,), and w (n_w+1,) for 2CLJQ."""
    (s0, s1), (l0, l1) = np.log(spec.t_star), spec.l_star
    xs = [chebyshev_lobatto(n) for n in spec.degrees]
    t_star = np.exp(0.5 * (s0 + s1) + 0.5 * (s1 - s0) * xs[0])
    l_star = 0.5 * (l0 + l1) + 0.5 * (l1 - l0) * xs[1]
    out = [t_star, l_star]
    if spec.has_quadrupole:
        out.append(0.5 + 0.5 * xs[2])
    return out


@functools.cache
def _reduced_quadrature(potential_name: str, quadrature: tuple[int, int, int]):
    r"""Jitted ``(L*, T* (n,), Q*^2 (n,)) -> B2* (n,)`` by the orientational quadrature.

    The quadrature of :func:`~bayesff.observables.orientational.second_virial_linear`
    (its grid, overlap core and Mayer function, node for node) at epsilon = 1 kJ/mol
    and sigma = 1 angstrom, with the energy split as
    :math:`u^* = u^*_{2CLJ} + Q^{*2}\,u^*_{QQ}(Q^{*2} = 1)`: the grid depends on L*
    only, so its energies are computed once per L* and shared by every (T*, Q*^2).
    """

    potential = get_potential(potential_name)
    quad = potential_name == "two_centre_lj_quadrupole"
    q_unit = 1.0 / np.sqrt(COULOMB_KJ_PER_MOL_ANGSTROM)  # Q (e A^2) with Q*^2 = 1
    nodes_per_panel, n_cos, n_phi = quadrature

    @jax.jit
    def run(l_star, t_star, q_star2):
        params = {"epsilon": 1.0, "sigma": 1.0, "L": l_star} | ({"Q": 0.0} if quad else {})
        r, w, ang, core = orientation_grid(
            potential, params, nodes_per_panel, n_cos, n_phi, "chebyshev"
        )
        u_lj = two_centre_lj(r, *ang, epsilon=1.0, sigma=1.0, L=l_star)
        u_qq = quadrupole_quadrupole(r, *ang, Q=q_unit) if quad else jnp.zeros_like(r)

        def one(tq):
            t, q = tq
            f = expm1_capped(-(u_lj + q * u_qq) / t)
            return -2.0 * jnp.pi * (jnp.sum(w * f) - core)

        return jax.lax.map(one, (t_star, q_star2))

    return run


def tabulate(
    spec: TableSpec,
    *,
    l_index: Sequence[int] | None = None,
    t_index: Sequence[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    r"""Compute :math:`B_2^*` on the Chebyshev grid of ``spec`` by direct quadrature.

    Parameters
    ----------
    spec
        The table's domain, degrees and quadrature settings (:data:`TABLES`).
    l_index, t_index
        Optional subsets of the L* and T* nodes (indices into the full grid), to
        recompute a few stored values; default all.
    progress
        Optional callable ``progress(done, total)``, called after each L* node.

    Returns
    -------
    dict
        ``t_star`` (n_s+1,), ``l_star`` (n_L+1,), for 2CLJQ ``w`` (n_w+1,) and
        ``q_star2`` (n_s+1, n_L+1, n_w+1) (the Q*^2 of each node), and
        ``b2_star`` of shape (n_s+1, n_L+1[, n_w+1]): B2 / (N_A sigma^3),
        dimensionless, float64 (rows and columns restricted to ``t_index`` and
        ``l_index`` when given).

    Notes
    -----
    Each value is the orientational quadrature of
    :func:`~bayesff.observables.orientational.second_virial_linear` at
    ``spec.quadrature`` for epsilon = 1 kJ/mol, sigma = 1 angstrom,
    L = L*, :math:`Q = (Q^{*2}/\text{COULOMB})^{1/2}` e angstrom^2 and
    T = T*/R K, divided by :math:`N_A\sigma^3`, with the energies of a grid
    shared between temperatures and quadrupoles (the tests check that this
    reproduces ``second_virial_linear`` to rounding).
    """
    axes = _axes(spec)
    t_star, l_star = axes[0], axes[1]
    if t_index is not None:
        t_star = t_star[list(t_index)]
    if l_index is not None:
        l_star = l_star[list(l_index)]
    run = _reduced_quadrature(spec.potential, tuple(spec.quadrature))
    out = {"t_star": t_star, "l_star": l_star}
    if spec.has_quadrupole:
        w = axes[2]
        # Q*^2 of each (T*, L*, w) node, (n_s+1, n_L+1, n_w+1)
        q = spec.q_max(t_star[:, None], l_star[None, :])[:, :, None] * w[None, None, :]
        out |= {"w": w, "q_star2": q}
    values = []
    for i, lv in enumerate(l_star):
        if spec.has_quadrupole:
            qi = q[:, i, :]
            tt = np.broadcast_to(t_star[:, None], qi.shape).ravel()
            b = np.asarray(run(float(lv), jnp.asarray(tt), jnp.asarray(qi.ravel())))
            values.append(b.reshape(qi.shape))
        else:
            zero = jnp.zeros_like(jnp.asarray(t_star))
            values.append(np.asarray(run(float(lv), jnp.asarray(t_star), zero)))
        if progress is not None:
            progress(i + 1, len(l_star))
    out["b2_star"] = np.stack(values, axis=1)
    return out


# ------------------------------------------------------------------ the stored table


@functools.cache
def load_table(path: str = str(TABLE_PATH)) -> dict[str, dict[str, np.ndarray]]:
    """The stored tables, read with ``allow_pickle=False``, as Chebyshev coefficients.

    Parameters
    ----------
    path
        The ``.npz`` file (default: the package's table).

    Returns
    -------
    dict
        Per potential name: ``coef`` (Chebyshev coefficients of ln(K - B2*)) and
        the grid arrays of :func:`tabulate`.

    Raises
    ------
    FileNotFoundError
        The table is missing (regenerate it with ``scripts/make_two_centre_table.py``).
    ValueError
        The file's grid does not match :data:`TABLES`.
    """
    out = {}
    with np.load(path, allow_pickle=False) as data:
        for name, spec in TABLES.items():
            b2 = np.asarray(data[f"{name}/b2_star"], dtype=float)
            want = tuple(n + 1 for n in spec.degrees)
            if b2.shape != want or not np.all(np.isfinite(b2)) or b2.max() > _K - 1.0:
                raise ValueError(
                    f"{path}: table {name!r} has shape {b2.shape} (expected {want} from "
                    f"TABLES), or values that are not finite or not below {_K - 1.0}; "
                    "regenerate it with scripts/make_two_centre_table.py"
                )
            out[name] = {
                "coef": _values_to_coefficients(np.log(_K - b2)),
                **{k.split("/", 1)[1]: data[k] for k in data.files if k.startswith(name + "/")},
            }
    return out


def reduced_second_virial(potential_name: str, t_star, l_star, q_star2=0.0):
    r"""Interpolated :math:`B_2^*(T^*, L^*, Q^{*2}) = B_2/(N_A\sigma^3)`.

    Pure JAX, jit-, vmap- and grad-compatible, float64.

    Parameters
    ----------
    potential_name
        ``"two_centre_lj"`` or ``"two_centre_lj_quadrupole"``.
    t_star
        k_B T / epsilon, any shape.
    l_star
        L / sigma, broadcast against ``t_star``.
    q_star2
        :math:`Q^2/(4\pi\varepsilon_0\varepsilon\sigma^5)` (2CLJQ; must be 0 for 2CLJ),
        broadcast against ``t_star``.

    Returns
    -------
    jax.Array
        B2*, dimensionless; NaN outside the table's domain (:data:`TABLES`).
    """
    spec = TABLES[potential_name]
    coef = jnp.asarray(load_table()[potential_name]["coef"])
    t_star, l_star, q_star2 = (jnp.asarray(a, dtype=float) for a in (t_star, l_star, q_star2))
    shape = jnp.broadcast_shapes(t_star.shape, l_star.shape, q_star2.shape)
    # L* enters once per draw when it is a scalar (as in second_virial_table): contract its
    # basis with the coefficients first, then each temperature costs n_s x n_w, not the
    # whole tensor
    xl = _to_unit(l_star, *spec.l_star)
    bl = _basis(jnp.clip(xl, -1.0, 1.0), spec.degrees[1])
    t_star = jnp.broadcast_to(t_star, shape)
    s = jnp.log(jnp.where(t_star > 0, t_star, 1.0))
    xs = _to_unit(s, *np.log(spec.t_star))
    inside = (t_star > 0) & (jnp.abs(xs) <= 1.0) & (jnp.abs(xl) <= 1.0)
    bs = _basis(jnp.clip(xs, -1.0, 1.0), spec.degrees[0])
    if spec.has_quadrupole:
        w = q_star2 / spec.q_max(jnp.where(t_star > 0, t_star, 1.0), jnp.clip(l_star, 0.0))
        xw = 2.0 * w - 1.0
        inside = inside & (jnp.abs(xw) <= 1.0)
        bw = _basis(jnp.clip(xw, -1.0, 1.0), spec.degrees[2])
        c_l = jnp.einsum("...j,ijk->...ik", bl, coef)
        y = jnp.einsum("...i,...ik,...k->...", bs, c_l, bw)
    else:
        inside = inside & (q_star2 == 0.0)
        c_l = jnp.einsum("...j,ij->...i", bl, coef)
        y = jnp.einsum("...i,...i->...", bs, c_l)
    return jnp.where(inside, _K - jnp.exp(y), jnp.nan)


def second_virial_table(potential, params: dict, T_K):
    """B2(T) in cm^3/mol of a 2CLJ or 2CLJQ potential from the table.

    Parameters
    ----------
    potential
        :data:`~bayesff.potentials.molecular.TWO_CENTRE_LJ` or
        :data:`~bayesff.potentials.molecular.TWO_CENTRE_LJ_QUADRUPOLE` (by name).
    params
        ``epsilon`` (kJ/mol), ``sigma``, ``L`` (angstrom) and, for 2CLJQ, ``Q``
        (e angstrom^2).
    T_K
        Temperatures, K, any shape.

    Returns
    -------
    jax.Array
        B2 in cm^3/mol, shape of ``T_K``; NaN where (T*, L*, Q*^2) is outside the
        table (:data:`TABLES`).
    """
    name = table_name(potential)
    if name is None:
        raise ValueError(
            f"no B2 table for {potential.name!r}; tables exist for {', '.join(table_potentials())}"
        )
    params = usual_parameters(potential, params)  # a form sampled in L*: L = L* sigma
    eps = jnp.asarray(params["epsilon"], dtype=float)
    sig = jnp.asarray(params["sigma"], dtype=float)
    T = jnp.asarray(T_K, dtype=float)
    t_star = GAS_CONSTANT_KJ_PER_MOL_K * T / eps
    l_star = jnp.asarray(params["L"], dtype=float) / sig
    if TABLES[name].has_quadrupole:
        q = jnp.asarray(params["Q"], dtype=float)
        q_star2 = COULOMB_KJ_PER_MOL_ANGSTROM * q * q / (eps * sig**5)
    else:
        q_star2 = 0.0
    b2 = reduced_second_virial(name, t_star, l_star, q_star2)
    return _A3_TO_CM3_PER_MOL * sig**3 * b2
