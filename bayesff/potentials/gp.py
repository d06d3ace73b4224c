r"""Gaussian-process pair potentials: a physical base plus a GP correction.

.. math::

    u(r) = u_{base}(r; \theta) + f(r), \qquad
    f(r) = s(r) \sum_{j=1}^{m} \phi_j(r)\, \sqrt{S_{\alpha,\ell}(\sqrt{\lambda_j})}\; w_j,
    \qquad w_j \sim \mathcal{N}(0, 1)

f is a squared-exponential GP (amplitude :math:`\alpha` in kJ/mol, length scale
:math:`\ell` in angstrom) in the Hilbert-space basis approximation (HSGP;
Solin and Särkkä 2020, Riutort-Mayol et al. 2023) on the box
:math:`[r_{min}, r_c]`: :math:`\phi_j` are the Dirichlet eigenfunctions of the
Laplacian there (sines, ``numpyro.contrib.hsgp.laplacian.eigenfunctions``) and
:math:`S` the SE spectral density at their square-root eigenvalues
(``numpyro.contrib.hsgp.spectral_densities``). The weights are the
non-centred coordinates of the GP, so NUTS sees a standard normal prior.

Design (see ``docs/gp.md``):

- **Box = [r_min, r_c].** The sine basis vanishes at both ends, so f = 0 at
  r_min and at r_c whatever the weights. The prior is therefore the SE GP
  *pinned to zero at both ends* (by the method of images, the exact
  infinite-m limit is :math:`k(x - x') - k(x + x' + 2L) - \ldots`,
  see ``tests/potentials/test_gp.py``); away from the ends by more than
  ~2 length scales it is the stationary SE GP.
- **Smooth switch.** f is multiplied by
  :math:`s(r) = S_5((r - r_{min})/w)\, S_5((r_c - r)/w)` with the quintic
  smoothstep :math:`S_5(t) = 10 t^3 - 15 t^4 + 6 t^5` on [0, 1] (clipped).
  Since the sine basis already vanishes at the ends, f, f' and f'' are all
  zero at r_min and r_c: u is as smooth as the base (C^2 at the box ends).
- **Outside the box f = 0**: below r_min the base potential's repulsive wall
  is the whole potential (choose r_min where the base is already several kT
  high), beyond r_c the base's tail is (a cut-off wrapper applies to the sum).
- **Quadrature panels, not breakpoints.** u is C^2, so the GP adds no
  breakpoints (the liquid solver treats those as jumps). But the base's B2
  panels (multiples of sigma up to 2 sigma, then one mapped tail panel) cannot
  resolve a correction that wiggles on the length scale out to r_c: with
  16 nodes per panel B2 was off by more than 100 % for prior draws. The
  potential therefore publishes ``quadrature_edges``: r_min, r_c and m - 1
  equally spaced points between them (one panel per sine half-wave of the
  highest basis function), which the B2 quadrature adds to its panel ends.
  Measured against a converged composite rule (600 panels x 32 nodes), B2
  then agrees to <= 1.1e-5 relative for m = 12 and 9e-7 for m = 24
  (``tests/potentials/test_gp.py``).
- **Amplitude is a standard deviation** (kJ/mol). numpyro's
  ``diag_spectral_density_squared_exponential(alpha=...)`` is linear in its
  ``alpha``, i.e. takes the kernel variance, so alpha**2 is passed.

Parameters are scalar: the base's (e.g. epsilon, sigma), ``amplitude``
(kJ/mol), ``length_scale`` (angstrom) and the m weights ``w_00`` ...
(dimensionless, standard normal), so problem files, the model and the run
file need nothing new: the weights are ordinary parameters with a default
prior N(0, 1) and the posterior holds one variable per weight.

References
----------
A. Solin and S. Särkkä, Hilbert space methods for reduced-rank Gaussian process
regression, Stat. Comput. 30, 419 (2020), doi:10.1007/s11222-019-09886-w.
G. Riutort-Mayol, P.-C. Bürkner, M. R. Andersen, A. Solin and A. Vehtari, Practical
Hilbert space approximate Bayesian Gaussian processes for probabilistic
programming, Stat. Comput. 33, 17 (2023), doi:10.1007/s11222-022-10167-2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import ProblemError
from bayesff.potentials import pair as _pair  # noqa: F401  (registers the bases)
from bayesff.potentials._spec import PairPotential, ParamSpec, get_potential, register
from bayesff.priors import PriorSpec, Support

__all__ = [
    "GP",
    "GPPairPotential",
    "WeightPosterior",
    "condition",
    "gp_pair_potential",
    "log_marginal_likelihood",
    "predict",
    "smoothstep",
]

_REFERENCE = (
    "HSGP: A. Solin and S. Särkkä, Stat. Comput. 30, 419 (2020), "
    "doi:10.1007/s11222-019-09886-w; G. Riutort-Mayol et al., Stat. Comput. 33, 17 (2023), "
    "doi:10.1007/s11222-022-10167-2"
)
#: Keys of a problem file's ``[potential]`` table that a GP potential accepts.
OPTION_KEYS = ("base", "basis", "r_min_angstrom", "r_c_angstrom", "switch_angstrom")


def smoothstep(t):
    r"""Quintic smoothstep :math:`S_5(t) = 10 t^3 - 15 t^4 + 6 t^5`, t clipped to [0, 1].

    S_5(0) = 0, S_5(1) = 1, and its first and second derivatives vanish at both ends.
    """
    t = jnp.clip(t, 0.0, 1.0)
    return t**3 * (10.0 + t * (-15.0 + 6.0 * t))


@dataclass(frozen=True)
class GPPairPotential(PairPotential):
    """A pair potential u = u_base + f with f an HSGP on [r_min, r_c] (module docstring).

    Build it with :func:`gp_pair_potential`; the extra attributes record its
    configuration.

    Attributes
    ----------
    base
        The base pair potential (keeps the repulsive wall).
    basis
        Number m of basis functions.
    r_min, r_c
        Ends of the GP box, angstrom; f = 0 outside.
    switch_width
        Width w of the smooth switch at each end, angstrom.
    quadrature_edges
        ``quadrature_edges(**params) -> radii`` (angstrom): r_min, r_c and m - 1
        equally spaced points between them, where B2 quadrature panels end
        (u is smooth there: these are not breakpoints, see the module docstring).
    """

    base: PairPotential | None = None
    basis: int = 0
    r_min: float = 0.0
    r_c: float = 0.0
    switch_width: float = 0.0
    quadrature_edges: Callable = field(default=lambda **p: ())

    @property
    def weight_names(self) -> tuple[str, ...]:
        """Names of the m weight parameters, ``w_00``, ``w_01``, ... (zero-padded)."""
        return _weight_names(self.basis)

    @property
    def half_width(self) -> float:
        """Half-width L of the box, angstrom."""
        return 0.5 * (self.r_c - self.r_min)

    def basis_functions(self, r):
        """Switched eigenfunctions s(r) phi_j(r), shape ``r.shape + (m,)``, 1/sqrt(angstrom)."""
        return _basis(self.r_min, self.r_c, self.switch_width, self.basis, r)

    def spectral_sd(self, amplitude, length_scale):
        """sqrt(S(sqrt(lambda_j))) for j = 1..m, shape ``(..., m)``, kJ/mol sqrt(angstrom)."""
        return _spectral_sd(self.half_width, self.basis, amplitude, length_scale)

    def design(self, r, amplitude, length_scale):
        """Matrix A with f(r) = A w: ``basis_functions(r) * spectral_sd``, kJ/mol."""
        return self.basis_functions(r) * self.spectral_sd(amplitude, length_scale)

    def correction(self, r, **params):
        """f(r) in kJ/mol for the weights and hyperparameters in ``params``."""
        w = jnp.stack([jnp.asarray(params[n], dtype=float) for n in self.weight_names], -1)
        a = self.design(r, params["amplitude"], params["length_scale"])
        return jnp.sum(a * w, axis=-1)

    def base_params(self, params: dict) -> dict:
        """The base potential's parameters out of the full dict."""
        return {k: params[k] for k in self.base.param_names}

    def weights_as_params(self, w) -> dict:
        """``{w_00: w[0], ...}`` from a weight vector of length m."""
        w = jnp.asarray(w, dtype=float)
        if w.shape[-1:] != (self.basis,):
            raise ValueError(f"expected {self.basis} weights (last axis), got shape {w.shape}")
        return {n: w[..., j] for j, n in enumerate(self.weight_names)}

    def file_options(self) -> dict:
        """The ``[potential]`` options that :meth:`configure` builds this potential from
        (what a problem written from its objects records: two boxes are two problems)."""
        return {
            "base": self.base.name,
            "basis": self.basis,
            "r_min_angstrom": self.r_min,
            "r_c_angstrom": self.r_c,
            "switch_angstrom": self.switch_width,
        }

    def configure(self, options: dict, where: str = "[potential]") -> GPPairPotential:
        """A GP potential from a problem file's ``[potential]`` options (validated).

        ``options``: ``base`` (a registered pair potential's name), ``basis``
        (int m >= 1, default 24), ``r_min_angstrom``, ``r_c_angstrom`` (box,
        0 < r_min < r_c), ``switch_angstrom`` (optional switch width).
        """
        extra = sorted(set(options) - set(OPTION_KEYS))
        if extra:
            raise ProblemError(
                f"unknown key(s) {', '.join(extra)} for a gp potential; expected kind, cutoff, "
                f"{', '.join(OPTION_KEYS)}",
                where,
            )
        missing = [k for k in ("base", "r_min_angstrom", "r_c_angstrom") if k not in options]
        if missing:
            raise ProblemError(
                f"a gp potential needs {', '.join(missing)} (the base potential's name and the "
                "GP box in angstrom; lengths are never guessed)",
                where,
            )
        base = options["base"]
        if not isinstance(base, str):
            raise ProblemError(f"base must be a potential name, got {base!r}", f"{where}.base")
        base = get_potential(base, f"{where}.base")
        try:
            return gp_pair_potential(
                base,
                basis=options.get("basis", 24),
                r_min=options["r_min_angstrom"],
                r_c=options["r_c_angstrom"],
                switch_width=options.get("switch_angstrom"),
            )
        except ValueError as e:
            raise ProblemError(str(e), where) from None


def _weight_names(m: int) -> tuple[str, ...]:
    width = max(2, len(str(m - 1)))
    return tuple(f"w_{j:0{width}d}" for j in range(m))


def _basis(r_min, r_c, width, m, r):
    # numpyro is imported when a GP potential is evaluated, not when the registry of
    # potentials loads: `bayesff check` and `bayesff list` read that registry and need
    # no numpyro (its import, measured here: 4.5-7.7 s under load, ~0.5 s idle)
    from numpyro.contrib.hsgp.laplacian import eigenfunctions

    r = jnp.asarray(r, dtype=float)
    half = 0.5 * (r_c - r_min)
    # clipped: phi_j and s vanish at the ends, so f = 0 outside the box with zero gradient
    rc = jnp.clip(r, r_min, r_c)
    phi = eigenfunctions(x=(rc - (r_min + half)).ravel(), ell=half, m=m).reshape((*r.shape, m))
    s = smoothstep((rc - r_min) / width) * smoothstep((r_c - rc) / width)
    return phi * s[..., None]


def _spectral_sd(half, m, amplitude, length_scale):
    # on first use, as in _basis
    from numpyro.contrib.hsgp.spectral_densities import (
        diag_spectral_density_squared_exponential,
    )

    def one(a, ell):
        # numpyro's ``alpha`` multiplies S linearly: it is the kernel's variance, so the
        # amplitude (an energy, the prior sd of f) enters squared
        return jnp.sqrt(
            diag_spectral_density_squared_exponential(
                alpha=a * a, length=ell, ell=half, m=m, dim=1
            )
        )

    return jnp.vectorize(one, signature="(),()->(m)")(
        jnp.asarray(amplitude, dtype=float), jnp.asarray(length_scale, dtype=float)
    )


def _check_number(name, value, where=""):
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}")
    return float(value)


def gp_pair_potential(
    base: PairPotential | str = "lennard_jones",
    *,
    basis: int = 24,
    r_min,
    r_c,
    switch_width=None,
    name: str | None = None,
) -> GPPairPotential:
    r"""A pair potential u = u_base + f, f an HSGP correction on [r_min, r_c].

    Parameters
    ----------
    base
        Base pair potential or its registry name (e.g. ``"lennard_jones"``).
        It keeps the repulsive wall and the tail beyond r_c; its parameters
        come first in the new potential's table.
    basis
        Number m of basis functions (sines on the box). The HSGP resolves
        length scales down to about :math:`1.75 (r_c - r_{min}) / (2 m)`
        (Riutort-Mayol et al. 2023, with boundary factor 1); the default
        prior on ``length_scale`` keeps most of its mass above that for
        m = 24 on a 9 angstrom box.
    r_min, r_c
        Box ends in angstrom, 0 < r_min < r_c. f = 0 outside the box.
    switch_width
        Width w of the smoothstep at each end, angstrom, 0 < w <= (r_c - r_min)/2;
        default (r_c - r_min)/20.
    name
        Name of the potential; default ``"gp(<base>, m=..., r=[...])"``.

    Returns
    -------
    GPPairPotential
        Not registered. Parameters: the base's, ``amplitude`` (kJ/mol, SE
        amplitude alpha, default prior HalfNormal(1 kJ/mol)), ``length_scale``
        (angstrom, default LogNormal(median 1, sd of ln 0.5)) and ``w_00`` ...
        (dimensionless, N(0, 1)).

    Raises
    ------
    ValueError
        For a base that is not a pair potential (or is itself a GP), a basis
        size that is not a positive int, or a box or switch width out of range.

    Examples
    --------
    >>> from bayesff.potentials.gp import gp_pair_potential
    >>> gp = gp_pair_potential("lennard_jones", basis=12, r_min=3.0, r_c=12.0)
    >>> p = {"epsilon": 0.996, "sigma": 3.405, "amplitude": 0.3, "length_scale": 1.0}
    >>> p.update(gp.weights_as_params([0.0] * 12))
    >>> round(float(gp.energy(2 ** (1 / 6) * 3.405, **p)), 6)  # weights zero: LJ minimum
    -0.996
    """
    base, r_min, r_c, width = _check_gp_args(base, basis, r_min, r_c, switch_width)
    wnames = _weight_names(basis)
    _check_no_clash(base, wnames)
    base_names = base.param_names
    energy = _gp_energy(base, wnames, basis, r_min, r_c, width)
    params = _gp_params(base, wnames, basis)

    def split(p):
        return {k: p[k] for k in base_names}

    edges = tuple(float(x) for x in np.linspace(r_min, r_c, basis + 1))

    return GPPairPotential(
        name=name or f"gp({base.name}, m={basis}, r=[{r_min:g}, {r_c:g}])",
        energy=energy,
        params=params,
        length_scale=lambda **p: base.length_scale(**split(p)),
        breakpoints=lambda **p: tuple(base.breakpoints(**split(p))),
        hard_core=base.hard_core,
        description=(
            f"{base.name} + HSGP correction f(r) (squared exponential, {basis} sine basis "
            f"functions on [{r_min:g}, {r_c:g}] angstrom, smoothstep width {width:g}); "
            "f = 0 outside the box"
        ),
        reference=f"{base.reference}; {_REFERENCE}".lstrip("; "),
        base=base,
        basis=basis,
        r_min=r_min,
        r_c=r_c,
        switch_width=width,
        quadrature_edges=lambda **p: edges,
    )


def _check_gp_args(base, basis, r_min, r_c, switch_width):
    """The checked base (resolved from its name), r_min, r_c and switch width."""
    if isinstance(base, str):
        base = get_potential(base)
    if not isinstance(base, PairPotential) or base.kind != "pair":
        raise ValueError(f"the base of a GP potential must be a pair potential, got {base!r}")
    if isinstance(base, GPPairPotential):
        raise ValueError(f"the base of a GP potential cannot itself be a GP, got {base.name}")
    if not isinstance(basis, int) or isinstance(basis, bool) or basis < 1:
        raise ValueError(f"basis (number of basis functions) must be an int >= 1, got {basis!r}")
    r_min = _check_number("r_min", r_min, " (angstrom)")
    r_c = _check_number("r_c", r_c, " (angstrom)")
    if not 0.0 < r_min < r_c:
        raise ValueError(f"the GP box needs 0 < r_min < r_c (angstrom), got [{r_min}, {r_c}]")
    half = 0.5 * (r_c - r_min)
    width = 0.1 * half if switch_width is None else _check_number("switch_width", switch_width)
    if not 0.0 < width <= half:
        raise ValueError(
            f"switch_width must be in (0, (r_c - r_min)/2 = {half:g}] angstrom, got {width!r}"
        )
    return base, r_min, r_c, width


def _check_no_clash(base, wnames):
    """The base's parameter names must not be among those of the GP part."""
    gp_names = ("amplitude", "length_scale", *wnames)
    clash = sorted(set(base.param_names) & set(gp_names))
    if clash:
        raise ValueError(f"base {base.name} has parameter(s) {clash} that the GP part uses")


def _gp_energy(base, wnames, basis, r_min, r_c, width):
    """u(r, **params) = u_base + the HSGP correction (basis times prior scales times weights)."""
    base_names = base.param_names
    u_base = base.energy
    half = 0.5 * (r_c - r_min)

    def energy(r, **params):
        r = jnp.asarray(r, dtype=float)
        u0 = u_base(r, **{k: params[k] for k in base_names})
        w = jnp.stack([jnp.asarray(params[n], dtype=float) for n in wnames], -1)
        a = _basis(r_min, r_c, width, basis, r) * _spectral_sd(
            half, basis, params["amplitude"], params["length_scale"]
        )
        return u0 + jnp.sum(a * w, axis=-1)

    return energy


def _gp_params(base, wnames, basis):
    """The parameter table: the base's, then amplitude, length_scale and the weights."""
    return (
        *base.params,
        ParamSpec(
            name="amplitude",
            dimension="energy",
            support=Support("positive"),
            default_prior=PriorSpec("HalfNormal", {"scale": 1.0}),
            prior_unit="kJ/mol",
            description="GP amplitude alpha (prior sd of the correction f)",
        ),
        ParamSpec(
            name="length_scale",
            dimension="length",
            support=Support("positive"),
            default_prior=PriorSpec("LogNormal", {"median": 1.0, "scale": 0.5}),
            prior_unit="angstrom",
            description="GP length scale ell (squared-exponential kernel)",
        ),
        *(
            ParamSpec(
                name=n,
                dimension="dimensionless",
                support=Support("real"),
                default_prior=PriorSpec("Normal", {"loc": 0.0, "scale": 1.0}),
                prior_unit="1",
                description=f"HSGP weight {j + 1} of {basis} (standard normal)",
            )
            for j, n in enumerate(wnames)
        ),
    )


#: Registered template (``kind = "gp"``). A problem file configures its own
#: copy through ``[potential]`` options (base, basis, r_min_angstrom,
#: r_c_angstrom), so this one is what ``bayesff list`` shows.
GP = register(gp_pair_potential("lennard_jones", basis=24, r_min=3.0, r_c=12.0, name="gp"))


# --------------------------------------------------------- exact conditioning


class WeightPosterior(NamedTuple):
    """Gaussian posterior of the HSGP weights given energies at fixed hyperparameters.

    Attributes
    ----------
    mean
        Posterior mean of the weights, shape (m,).
    cov
        Posterior covariance, shape (m, m).
    """

    mean: jax.Array
    cov: jax.Array


def _residual_system(gp: GPPairPotential, params: dict, r, u):
    r = jnp.atleast_1d(jnp.asarray(r, dtype=float))
    u = jnp.atleast_1d(jnp.asarray(u, dtype=float))
    if r.ndim != 1 or r.shape != u.shape:
        raise ValueError(f"r and u must be 1-d of the same length, got {r.shape} and {u.shape}")
    y = u - gp.base.energy(r, **gp.base_params(params))
    a = gp.design(r, params["amplitude"], params["length_scale"])
    return a, y


def condition(gp: GPPairPotential, params: dict, r, u, noise_sd) -> WeightPosterior:
    r"""Condition the HSGP weights on energies u at radii r (exact, linear-Gaussian).

    With :math:`y = u - u_{base}(r) = A w + \epsilon`, :math:`w \sim N(0, I)`,
    :math:`\epsilon \sim N(0, \sigma_n^2 I)`:

    .. math::

        \Sigma = (I + A^T A / \sigma_n^2)^{-1}, \qquad \mu = \Sigma A^T y / \sigma_n^2

    Base parameters and the hyperparameters (``amplitude``, ``length_scale``)
    are held at the values in ``params``; weights there are ignored.

    Parameters
    ----------
    gp
        The GP potential.
    params
        Base parameters and hyperparameters, internal units.
    r, u
        Radii (angstrom) and energies (kJ/mol) to condition on, 1-d.
    noise_sd
        Standard deviation of u, kJ/mol (scalar or per point), > 0; a tiny
        value (1e-6 kJ/mol) makes the mean interpolate noise-free data when
        the number of points does not exceed m.

    Returns
    -------
    WeightPosterior
    """
    a, y = _residual_system(gp, params, r, u)
    s = jnp.broadcast_to(jnp.asarray(noise_sd, dtype=float), y.shape)
    aw = a / s[:, None]
    m = gp.basis
    # Woodbury-free form: m is small (tens); solve with the Cholesky factor
    precision = jnp.eye(m) + aw.T @ aw
    chol = jnp.linalg.cholesky(precision)
    cov = jax.scipy.linalg.cho_solve((chol, True), jnp.eye(m))
    mean = jax.scipy.linalg.cho_solve((chol, True), aw.T @ (y / s))
    return WeightPosterior(mean=mean, cov=cov)


def predict(gp: GPPairPotential, params: dict, posterior: WeightPosterior, r):
    """Posterior mean and sd of u(r) (kJ/mol) under a :class:`WeightPosterior`.

    Returns
    -------
    mean, sd : jax.Array
        Shape of ``r``. The sd is that of f (the base is held fixed); it is 0
        outside the box, where f = 0.
    """
    r = jnp.asarray(r, dtype=float)
    a = gp.design(r, params["amplitude"], params["length_scale"])
    mean = gp.base.energy(r, **gp.base_params(params)) + a @ posterior.mean
    var = jnp.einsum("...i,ij,...j->...", a, posterior.cov, a)
    return mean, jnp.sqrt(jnp.maximum(var, 0.0))


def log_marginal_likelihood(gp: GPPairPotential, params: dict, r, u, noise_sd):
    r"""log p(u | hyperparameters) with the weights integrated out.

    :math:`y = u - u_{base}(r) \sim N(0, A A^T + \sigma_n^2 I)`; used to choose
    ``amplitude`` and ``length_scale`` (type-II maximum likelihood or MAP).
    Computed in weight space (m x m, eigenvalues >= 1), so that a tiny noise
    does not make it ill-conditioned:

    .. math::

        \log p = -\tfrac12 \left(\lVert (y - A\mu)/\sigma_n \rVert^2 + \mu^T\mu\right)
                  - \tfrac12 \log\det(I + A^T A/\sigma_n^2) - \sum \log\sigma_n
                  - \tfrac{n}{2}\log 2\pi

    with :math:`\mu` the posterior mean of the weights (:func:`condition`).
    """
    a, y = _residual_system(gp, params, r, u)
    s = jnp.broadcast_to(jnp.asarray(noise_sd, dtype=float), y.shape)
    aw = a / s[:, None]
    precision = jnp.eye(gp.basis) + aw.T @ aw
    chol = jnp.linalg.cholesky(precision)
    mu = jax.scipy.linalg.cho_solve((chol, True), aw.T @ (y / s))
    quad = jnp.sum(((y - a @ mu) / s) ** 2) + mu @ mu
    logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(chol))) + 2.0 * jnp.sum(jnp.log(s))
    return -0.5 * (quad + logdet) - 0.5 * y.size * math.log(2 * math.pi)
