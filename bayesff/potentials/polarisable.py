r"""Polarisable cluster model: point charges, induced point dipoles with Thole damping, LJ.

Model
-----
N sites at :math:`\mathbf r_i` with charges :math:`s\,q_i` (``charge_e``
column, scaled by s) and isotropic polarisabilities :math:`\alpha_i`
(polarisability volumes, angstrom^3) given per site type: the ``type``
column (0 .. n_types - 1) selects one of the parameters ``alpha_0``,
``alpha_1``, ... (and the LJ parameters, Lorentz-Berthelot mixed). A type
with alpha = 0 is not polarisable. The energy is

.. math::

    E = \sum_{i<j}\left[u_{LJ}(r_{ij}) + \frac{k_e s^2 q_i q_j}{r_{ij}}\right]
        - \frac{k_e}{2}\sum_i \boldsymbol\mu_i\cdot\mathbf E^0_i,

with the field of the (scaled) charges at site i,
:math:`\mathbf E^0_i = \sum_{j\ne i} s q_j \lambda_3(u_{ij})\,\mathbf r_{ij}/r_{ij}^3`
(:math:`\mathbf r_{ij} = \mathbf r_i - \mathbf r_j`, e/angstrom^2), and the
induced dipoles (e angstrom) solving the self-consistent equations

.. math::

    \boldsymbol\mu_i = \alpha_i\Bigl(\mathbf E^0_i
        + \sum_{j\ne i} \mathsf T_{ij}\boldsymbol\mu_j\Bigr),
    \qquad
    \mathsf T_{ij} = \frac{3\lambda_5(u_{ij})\,\mathbf r_{ij}\mathbf r_{ij}^{\mathsf T}}{r_{ij}^5}
        - \frac{\lambda_3(u_{ij})\,\mathbf 1}{r_{ij}^3}.

The last term of E is the induction energy at self-consistency (the
polarisation work included; C. J. F. Böttcher, *Theory of Electric
Polarization*, vol. 1 (Elsevier, 1973); Thole 1981).

Solved as one linear system
---------------------------
With :math:`\mathsf D = \mathrm{diag}(\alpha_i)\otimes\mathbf 1_3` and
:math:`\boldsymbol\mu = \mathsf D^{1/2}\boldsymbol\nu`, the equations become
the symmetric 3N x 3N system

.. math:: \mathsf B\boldsymbol\nu = \mathsf D^{1/2}\mathbf E^0, \qquad
          \mathsf B = \mathbf 1 - \mathsf D^{1/2}\mathsf T\mathsf D^{1/2},

and

.. math:: E_{ind} = -\frac{k_e}{2}(\mathsf D^{1/2}\mathbf E^0)^{\mathsf T}
          \mathsf B^{-1}(\mathsf D^{1/2}\mathbf E^0).

B is positive definite exactly when the induced dipoles are bounded; it
stops being so at the *polarisation catastrophe* (two undamped sites along
their axis at :math:`r^6 \le 4\alpha_i\alpha_j`). The system is solved
directly, never iterated: one Cholesky factorisation inside
``jax.lax.custom_linear_solve``, the way ``jax.numpy.linalg.solve`` wraps
its LU factors. Cholesky rather than LU because the factorisation *is* the
test of positive definiteness (LU with pivoting cannot tell), so one
factorisation gives both the dipoles and the status; it has half the flops
of LU, though at 300 x 300 both take about the same time on this CPU
(``benchmarks/electrostatics_bench.py``). The derivatives are those
of the exact solution (implicit differentiation:
:math:`d\boldsymbol\nu = \mathsf B^{-1}(d\mathbf b - d\mathsf B\,\boldsymbol\nu)`),
so a gradient costs two triangular solves more, not a differentiated
factorisation.

Status instead of NaN
---------------------
``energy_and_status`` returns (E, status): status
:data:`~bayesff.potentials.cluster.STATUS_POLARISATION_CATASTROPHE` when the
factorisation fails or a pivot falls below ``1e-10`` (B singular to working
precision; its diagonal is 1), and E is then NaN. A model turns the status
into a rejected proposal (:mod:`bayesff.potentials.cluster`);
:func:`bayesff.potentials.cluster.check_energy` raises an error naming the
sites (the largest components of B's lowest eigenvector) and parameters.

Thole damping
-------------
Exponential damping of B. T. Thole, Chem. Phys. 59, 341 (1981),
doi:10.1016/0301-0104(81)85176-2, in the form used by AMOEBA (P. Ren and
J. W. Ponder, J. Phys. Chem. B 107, 5933 (2003), doi:10.1021/jp027815+):

.. math::

    u_{ij} = \frac{r_{ij}}{(\alpha_i\alpha_j)^{1/6}}, \quad
    \lambda_3 = 1 - e^{-a u^3}, \quad
    \lambda_5 = 1 - (1 + a u^3)\,e^{-a u^3},

with a dimensionless damping parameter a (``thole_a``; AMOEBA uses 0.39).
It smears each induced dipole over a charge density
:math:`\propto e^{-a u^3}`, so the dipole field stays finite as
:math:`r \to 0` and the catastrophe needs much closer approach;
:math:`\lambda \to 1` (no damping) as :math:`a u^3 \to \infty`.
``polarisable_cluster(damping=False)`` builds the undamped model (point
dipoles), the reference of the closed-form checks.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve

from bayesff.potentials._spec import ParamSpec, register
from bayesff.potentials.cluster import (
    STATUS_OK,
    STATUS_POLARISATION_CATASTROPHE,
    ClusterPotential,
    pair_distances,
)
from bayesff.potentials.electrostatics import (
    _S,
    CHARGE_COLUMN,
    TYPE_COLUMN,
    lorentz_berthelot_lj,
    type_params,
)
from bayesff.priors import PriorSpec, Support
from bayesff.units import COULOMB_KJ_PER_MOL_ANGSTROM

__all__ = [
    "PIVOT_TOL",
    "POLARISABLE",
    "induced_dipoles",
    "polarisable_cluster",
    "thole_factors",
]

#: Smallest accepted Cholesky pivot of B (whose diagonal is 1): below it B is
#: taken as singular, the system at the catastrophe.
PIVOT_TOL = 1e-10

_THOLE_A = ParamSpec(
    name="thole_a",
    dimension="dimensionless",
    support=Support("positive"),
    # AMOEBA's 0.39 (Ren and Ponder 2003); van Duijnen and Swart (1998) fitted
    # values of the same order for their exponential variant
    default_prior=PriorSpec("LogNormal", {"median": 0.39, "scale": 0.5}),
    prior_unit="1",
    description="Thole damping parameter a (exponential form; AMOEBA 0.39)",
)


def _alpha_specs(n_types):
    return tuple(
        ParamSpec(
            name=f"alpha_{t}",
            dimension="polarisability",
            support=Support("interval", 0.0, 100.0),
            # ions: Li+ 0.03, Na+ 0.15-0.4, K+ 0.8, F- ~1, Cl- ~3.5, Br- ~4.5, I- ~7 angstrom^3
            default_prior=PriorSpec(
                "TruncatedNormal", {"loc": 2.0, "scale": 4.0, "low": 0.0, "high": 20.0}
            ),
            prior_unit="angstrom^3",
            description=f"isotropic polarisability volume of site type {t} (0: not polarisable)",
        )
        for t in range(n_types)
    )


def thole_factors(r, alpha_i, alpha_j, a):
    r"""Thole's exponential damping factors :math:`\lambda_3, \lambda_5` (module docstring).

    Parameters
    ----------
    r
        Distances, angstrom.
    alpha_i, alpha_j
        Polarisability volumes, angstrom^3 (0 allowed: no damping then).
    a
        Damping parameter, dimensionless.

    Returns
    -------
    lam3, lam5
        Dimensionless, in [0, 1].
    """
    aa = alpha_i * alpha_j
    pos = aa > 0.0
    # a u^3 = a r^3 / sqrt(alpha_i alpha_j); double where keeps gradients finite at alpha = 0
    au3 = jnp.where(pos, a * r**3 / jnp.sqrt(jnp.where(pos, aa, 1.0)), jnp.inf)
    # exp(-100) = 4e-44 leaves lambda = 1 to the last bit; capping keeps exp out of the
    # subnormal range (x86 arithmetic on subnormals is ~100x slower, which made gradients
    # of a 100-site cluster take 0.5 s instead of 3 ms)
    damp = jnp.exp(-jnp.minimum(jnp.where(pos, au3, 0.0), 100.0))
    lam3 = jnp.where(pos, 1.0 - damp, 1.0)
    lam5 = jnp.where(pos, 1.0 - (1.0 + jnp.where(pos, au3, 0.0)) * damp, 1.0)
    return lam3, lam5


def _system(positions, charge, types, params, n_types, damping):
    """B (3N x 3N), b = D^1/2 E0 (3N,), sqrt(alpha) (N,), and the pair geometry."""
    x = jnp.asarray(positions, dtype=float)
    n = x.shape[0]
    alpha = jnp.stack([jnp.asarray(params[f"alpha_{t}"], dtype=float) for t in range(n_types)])[
        types
    ]
    q = params["s"] * charge
    rij = x[:, None, :] - x[None, :, :]  # r_i - r_j
    off = ~jnp.eye(n, dtype=bool)
    r2 = jnp.where(off, jnp.sum(rij * rij, axis=-1), 1.0)
    r = jnp.sqrt(r2)
    if damping:
        lam3, lam5 = thole_factors(r, alpha[:, None], alpha[None, :], params["thole_a"])
    else:
        lam3 = lam5 = jnp.ones_like(r)
    inv3 = jnp.where(off, lam3 / (r2 * r), 0.0)
    inv5 = jnp.where(off, 3.0 * lam5 / (r2 * r2 * r), 0.0)
    e0 = jnp.sum((q[None, :] * inv3)[:, :, None] * rij, axis=1)  # (N, 3), e/angstrom^2
    # T and B laid out as (i, a, j, b) so that the reshape to (3N, 3N) needs no transpose
    r_ia = rij.transpose(0, 2, 1)  # (N, 3, N): component a of r_ij
    t = (
        inv5[:, None, :, None] * r_ia[:, :, :, None] * rij[:, None, :, :]
        - inv3[:, None, :, None] * jnp.eye(3)[None, :, None, :]
    )
    sa = jnp.sqrt(alpha)
    b_mat = jnp.eye(3 * n) - (sa[:, None, None, None] * t * sa[None, None, :, None]).reshape(
        3 * n, 3 * n
    )
    b_vec = (sa[:, None] * e0).reshape(3 * n)
    return b_mat, b_vec, sa


def _solve(b_mat, b_vec):
    """nu = B^-1 b by one Cholesky factorisation; status from its pivots."""
    chol = jnp.linalg.cholesky(jax.lax.stop_gradient(b_mat))
    pivots = jnp.diagonal(chol)
    ok = jnp.all(jnp.isfinite(chol)) & (jnp.min(pivots) ** 2 > PIVOT_TOL)
    nu = jax.lax.custom_linear_solve(
        lambda v: b_mat @ v,
        b_vec,
        solve=lambda _, v: cho_solve((chol, True), v),
        symmetric=True,
    )
    return nu, ok


def _energy_and_status(positions, sites, params, n_types, damping):
    x = jnp.asarray(positions, dtype=float)
    charge = jnp.asarray(sites["charge_e"], dtype=float)
    types = jnp.asarray(sites["type"], dtype=jnp.int32)
    b_mat, b_vec, _ = _system(x, charge, types, params, n_types, damping)
    nu, ok = _solve(b_mat, b_vec)
    e_ind = -0.5 * COULOMB_KJ_PER_MOL_ANGSTROM * jnp.dot(b_vec, nu)
    i, j, r = pair_distances(x)
    q = params["s"] * charge
    e_pair = jnp.sum(
        lorentz_berthelot_lj(i, j, r, types, params, n_types)
        + COULOMB_KJ_PER_MOL_ANGSTROM * q[i] * q[j] / r
    )
    energy = jnp.where(ok, e_pair + e_ind, jnp.nan)
    status = jnp.where(ok, STATUS_OK, STATUS_POLARISATION_CATASTROPHE).astype(jnp.int32)
    return energy, status


def induced_dipoles(potential: ClusterPotential, positions, sites, **params):
    """Induced dipoles (N, 3) in e angstrom and the status, of a polarisable cluster potential.

    Parameters
    ----------
    potential
        Built by :func:`polarisable_cluster`.
    positions, sites, params
        As for ``energy_and_status``.

    Returns
    -------
    mu : jax.Array
        (N, 3), e angstrom; NaN past the catastrophe.
    status : jax.Array
        int32 scalar.
    """
    if potential.details is None:
        raise ValueError(f"{potential.name} has no induced dipoles")
    out = potential.details(positions, sites, **params)
    return out["induced_dipole_e_angstrom"], out["status"]


def _details(positions, sites, params, n_types, damping):
    x = jnp.asarray(positions, dtype=float)
    charge = jnp.asarray(sites["charge_e"], dtype=float)
    types = jnp.asarray(sites["type"], dtype=jnp.int32)
    b_mat, b_vec, sa = _system(x, charge, types, params, n_types, damping)
    nu, ok = _solve(b_mat, b_vec)
    mu = sa[:, None] * nu.reshape(-1, 3)
    e0 = jnp.where(
        sa[:, None] > 0, b_vec.reshape(-1, 3) / jnp.where(sa > 0, sa, 1.0)[:, None], 0.0
    )
    status = jnp.where(ok, STATUS_OK, STATUS_POLARISATION_CATASTROPHE).astype(jnp.int32)
    return {
        "induced_dipole_e_angstrom": jnp.where(ok, mu, jnp.nan),
        "permanent_field_e_per_angstrom2": e0,
        "status": status,
    }


def polarisable_cluster(
    n_types: int = 2, *, damping: bool = True, name: str | None = None
) -> ClusterPotential:
    """Polarisable cluster model (module docstring) with ``n_types`` site types.

    Parameters
    ----------
    n_types
        Number of site types: parameters ``alpha_t``, ``epsilon_t``,
        ``sigma_t`` for t = 0 .. n_types - 1, plus ``s`` and (with damping)
        ``thole_a``.
    damping
        Thole damping (default); ``False`` gives undamped point dipoles.
    name
        Registry name (default ``"polarisable"``, ``"polarisable_undamped"``).

    Returns
    -------
    ClusterPotential
        Site columns ``charge_e`` and ``type``; status
        ``STATUS_POLARISATION_CATASTROPHE`` past the catastrophe.
    """
    if not isinstance(n_types, int) or n_types < 1:
        raise ValueError(f"n_types must be a positive integer, got {n_types!r}")

    def energy_and_status(positions, sites, **params):
        return _energy_and_status(positions, sites, params, n_types, damping)

    def diagnose(positions, sites, params, status):
        del status
        charge = jnp.asarray(sites["charge_e"], dtype=float)
        types = np.asarray(sites["type"], dtype=int)
        b_mat, _, sa = _system(
            jnp.asarray(positions), charge, jnp.asarray(types), params, n_types, damping
        )
        w, v = np.linalg.eigh(np.asarray(b_mat))
        weight = (np.asarray(v[:, 0]) ** 2).reshape(-1, 3).sum(axis=1)
        # Heaviest first; weights equal to 1e-6 (the two sites of a symmetric pair, whose
        # eigenvector order is the platform's LAPACK's choice) are ordered by index so
        # that the message is the same on every machine.
        order = np.lexsort((np.arange(weight.size), -np.round(weight, 6)))
        top = [int(k) for k in order[:3] if weight[k] > 0.05]
        alpha = np.asarray(sa) ** 2
        parts = [f"lowest eigenvalue of B {w[0]:.3g}; sites most involved:"]
        for k in top:
            parts.append(
                f"site {k} (type {types[k]}, alpha {alpha[k]:.4g} angstrom^3, "
                f"weight {weight[k]:.2f})"
            )
        if len(top) >= 2:
            a, b = sorted(top[:2])
            d = float(np.linalg.norm(np.asarray(positions)[a] - np.asarray(positions)[b]))
            limit = (4.0 * alpha[a] * alpha[b]) ** (1.0 / 6.0)
            parts.append(
                f"sites {a} and {b} are {d:.4g} angstrom apart; undamped point dipoles "
                f"reach the catastrophe below (4 alpha_{a} alpha_{b})^(1/6) = {limit:.4g} angstrom"
            )
        return " ".join(parts), tuple(top)

    return ClusterPotential(
        name=name or ("polarisable" if damping else "polarisable_undamped"),
        energy_and_status=energy_and_status,
        params=(
            _S,
            *((_THOLE_A,) if damping else ()),
            *_alpha_specs(n_types),
            *type_params(n_types),
        ),
        site_columns=(CHARGE_COLUMN, TYPE_COLUMN),
        n_types=n_types,
        description=(
            "scaled charges + induced point dipoles "
            f"({'Thole-damped' if damping else 'undamped'}, alpha per type) solved as one "
            f"linear system + per-type LJ ({n_types} types)"
        ),
        reference=(
            "B. T. Thole, Chem. Phys. 59, 341 (1981), doi:10.1016/0301-0104(81)85176-2; "
            "P. Ren and J. W. Ponder, J. Phys. Chem. B 107, 5933 (2003), doi:10.1021/jp027815+"
        ),
        diagnose=diagnose,
        details=lambda positions, sites, **params: _details(
            positions, sites, params, n_types, damping
        ),
    )


POLARISABLE = register(polarisable_cluster(2))
