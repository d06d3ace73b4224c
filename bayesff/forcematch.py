r"""Energy and force matching as a likelihood.

The usual force-matching loss of the field,

.. math::

    L(\theta, b) = w_E \sum_m \left(E_\theta(X_m) + b - E_m\right)^2
                 + w_F \sum_{m,i,\alpha} \left(F_{\theta,i\alpha}(X_m) - F_{m,i\alpha}\right)^2,

is, up to a constant, minus twice the log-likelihood of independent Gaussian
errors with :math:`\sigma_E = 1/\sqrt{2 w_E}` on the configuration energies and
:math:`\sigma_F = 1/\sqrt{2 w_F}` on every Cartesian force component (vectors,
not magnitudes). The energy offset b (a reference energy that the potential
cannot know, e.g. the energy of isolated atoms in an ab-initio calculation) is
a parameter with a prior. With priors on the potential's parameters (their
:class:`~bayesff.potentials.ParamSpec` defaults unless given) the posterior is
sampled with NUTS; :func:`fit` returns an ArviZ DataTree.

Data: :class:`Configurations` (positions, energies, forces of configurations
with the same number of atoms), loaded by :func:`load_configurations` from a
CSV listed in a ``manifest.toml`` (one row per atom; see ``docs/forcematch.md``)
or built with :meth:`Configurations.from_arrays`. Units: angstrom, kJ/mol,
kJ/mol/angstrom.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bayesff import units
from bayesff.errors import DataError, ProblemError
from bayesff.priors import PriorSpec

__all__ = [
    "CONFIG_COLUMNS",
    "Configurations",
    "ResidualCheck",
    "build_model",
    "fit",
    "load_configurations",
    "random_dimers",
    "random_trimers",
    "reference_configurations",
    "residual_check",
]

#: Columns of a configuration file and their physical dimensions.
CONFIG_COLUMNS = {
    "config_id": "dimensionless",
    "atom": "dimensionless",
    "x_angstrom": "length",
    "y_angstrom": "length",
    "z_angstrom": "length",
    "E_kJ_per_mol": "energy",
    "Fx_kJ_per_mol_A": "force",
    "Fy_kJ_per_mol_A": "force",
    "Fz_kJ_per_mol_A": "force",
}

#: Default prior of the energy offset b, kJ/mol.
DEFAULT_OFFSET_PRIOR = PriorSpec("Normal", {"loc": 0.0, "scale": 10.0})


# --------------------------------------------------------------------- data
@dataclass(frozen=True)
class Configurations:
    """Configurations with the same number of atoms, and their reference values.

    Parameters
    ----------
    positions
        Shape (M, N, 3), angstrom.
    energy
        Shape (M,), kJ/mol, or ``None`` (no energies).
    forces
        Shape (M, N, 3), kJ/mol/angstrom, or ``None`` (no forces).
    name
        Label used for the observed-data variables (``E_<name>``, ``F_<name>``);
        letters, digits and underscores.
    config_ids
        Shape (M,), integer ids (default 0..M-1).
    source
        Where the values came from (file path), for messages.
    """

    positions: np.ndarray
    energy: np.ndarray | None = None
    forces: np.ndarray | None = None
    name: str = "configs"
    config_ids: np.ndarray | None = None
    source: str | None = None

    def __post_init__(self):
        where = self.source or f"Configurations {self.name!r}"
        if not self.name.replace("_", "a").isalnum():
            raise ProblemError(f"name must be letters, digits, '_'; got {self.name!r}", where)
        x = np.asarray(self.positions, dtype=float)
        if x.ndim != 3 or x.shape[-1] != 3 or x.shape[1] < 2 or x.shape[0] < 1:
            raise ProblemError(
                f"positions must have shape (M, N, 3) with M >= 1, N >= 2; got {x.shape}", where
            )
        object.__setattr__(self, "positions", x)
        m = x.shape[0]
        if self.energy is not None:
            e = np.asarray(self.energy, dtype=float)
            if e.shape != (m,):
                raise ProblemError(f"energy must have shape ({m},), got {e.shape}", where)
            object.__setattr__(self, "energy", e)
        if self.forces is not None:
            f = np.asarray(self.forces, dtype=float)
            if f.shape != x.shape:
                raise ProblemError(f"forces must have shape {x.shape}, got {f.shape}", where)
            object.__setattr__(self, "forces", f)
        ids = np.arange(m) if self.config_ids is None else np.asarray(self.config_ids)
        if ids.shape != (m,):
            raise ProblemError(f"config_ids must have shape ({m},), got {ids.shape}", where)
        object.__setattr__(self, "config_ids", ids)
        for label, v in (("positions", x), ("energy", self.energy), ("forces", self.forces)):
            if v is not None and not np.all(np.isfinite(v)):
                bad = np.argwhere(~np.isfinite(v))[0]
                raise ProblemError(
                    f"{label} must be finite; found {v[tuple(bad)]!r} at index {tuple(bad)} "
                    f"(config_id {ids[bad[0]]})",
                    where,
                )

    @classmethod
    def from_arrays(cls, positions, energy=None, forces=None, *, name="configs", config_ids=None):
        """Build from arrays in internal units (angstrom, kJ/mol, kJ/mol/angstrom)."""
        return cls(positions, energy, forces, name=name, config_ids=config_ids)

    @property
    def n_configs(self) -> int:
        return self.positions.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.positions.shape[1]

    def replace(self, *, energy=None, forces=None, name=None) -> Configurations:
        """A copy with new energies and/or forces (e.g. with noise added)."""
        return Configurations(
            self.positions,
            self.energy if energy is None else energy,
            self.forces if forces is None else forces,
            name=self.name if name is None else name,
            config_ids=self.config_ids,
            source=self.source,
        )


def load_configurations(path: str | Path, *, name: str | None = None) -> Configurations:
    """Load a configuration file (one row per atom) into :class:`Configurations`.

    The file must be listed in a ``manifest.toml`` with units for every column
    of :data:`CONFIG_COLUMNS` (checked, with its sha256, by
    :func:`bayesff.data.load_table`, which converts to internal units). Rows of
    a configuration are consecutive, atoms numbered 0..N-1 in order, every
    configuration has the same N, and E is repeated on each row of a
    configuration (the configuration's total energy).

    Parameters
    ----------
    path
        The CSV file.
    name
        Label (default: the file's stem).

    Raises
    ------
    DataError
        Naming the file, line and column of the first offending value.
    """
    from bayesff.data import load_table

    path = Path(path)
    tab = load_table(path, CONFIG_COLUMNS)
    c = tab.columns

    def here(i: int, col: str) -> str:
        # i: 0-based data row; +2 for the header and 1-based lines (no blank lines).
        return f"{path}, line {i + 2}, column {col!r}"

    for col in ("config_id", "atom"):
        v = c[col]
        bad = np.flatnonzero((v != np.round(v)) | (v < 0))
        if bad.size:
            raise DataError(
                f"expected a non-negative integer, found {float(v[bad[0]])!r}", here(bad[0], col)
            )
    cid = c["config_id"].astype(int)
    atom = c["atom"].astype(int)
    starts = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1]])
    ids = cid[starts]
    if np.unique(ids).size != ids.size:
        dup = next(i for i in range(1, len(starts)) if ids[i] in ids[:i])
        raise DataError(
            f"config_id {ids[dup]} appears again after other configurations; the rows of a "
            "configuration must be consecutive",
            here(starts[dup], "config_id"),
        )
    sizes = np.diff(np.r_[starts, cid.size])
    n = int(sizes[0])
    for k, (s, size) in enumerate(zip(starts, sizes, strict=True)):
        if size != n:
            raise DataError(
                f"config_id {ids[k]} has {size} atoms but config_id {ids[0]} has {n}; a file "
                "holds configurations with the same number of atoms (one file per kind)",
                here(s, "config_id"),
            )
        want = np.arange(n)
        got = atom[s : s + n]
        if not np.array_equal(got, want):
            j = int(np.flatnonzero(got != want)[0])
            raise DataError(
                f"atoms of config_id {ids[k]} must be numbered 0..{n - 1} in order; expected "
                f"{j}, found {got[j]}",
                here(s + j, "atom"),
            )
        e = c["E_kJ_per_mol"][s : s + n]
        if not np.allclose(e, e[0], rtol=1e-12, atol=0.0):
            j = int(np.flatnonzero(~np.isclose(e, e[0], rtol=1e-12, atol=0.0))[0])
            raise DataError(
                f"E is the configuration's total energy and must be the same on each of its "
                f"rows; expected {float(e[0])!r} (line {s + 2}), found {float(e[j])!r}",
                here(s + j, "E_kJ_per_mol"),
            )
    m = len(starts)
    pos = np.stack([c["x_angstrom"], c["y_angstrom"], c["z_angstrom"]], -1).reshape(m, n, 3)
    frc = np.stack([c["Fx_kJ_per_mol_A"], c["Fy_kJ_per_mol_A"], c["Fz_kJ_per_mol_A"]], -1).reshape(
        m, n, 3
    )
    return Configurations(
        pos,
        c["E_kJ_per_mol"][starts],
        frc,
        name=name or path.stem,
        config_ids=ids,
        source=str(path),
    )


def _random_rotations(rng: np.random.Generator, m: int) -> np.ndarray:
    """m uniformly random rotation matrices (QR of Gaussian matrices, sign-fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((m, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    det = np.linalg.det(q)
    q[:, :, 0] *= det[:, None]  # proper rotations (det = +1)
    return q


def _place(rng, local: np.ndarray, shift: float) -> np.ndarray:
    """Randomly rotate and translate configurations (M, N, 3)."""
    rot = _random_rotations(rng, local.shape[0])
    x = np.einsum("mij,mnj->mni", rot, local)
    return x + rng.uniform(-shift, shift, (local.shape[0], 1, 3))


def random_dimers(rng: np.random.Generator, m: int, r_min: float, r_max: float, *, shift=2.0):
    """m dimers with r uniform in [r_min, r_max] angstrom, random orientation and centre.

    Returns
    -------
    numpy.ndarray
        Positions, shape (m, 2, 3), angstrom.
    """
    r = rng.uniform(r_min, r_max, m)
    local = np.zeros((m, 2, 3))
    local[:, 1, 0] = r
    return _place(rng, local, shift)


def random_trimers(
    rng: np.random.Generator, m: int, side_min: float, side_max: float, *, shift=2.0
):
    """m triangles with all three sides uniform in [side_min, side_max] angstrom.

    Side lengths are drawn independently and triangles that violate the
    triangle inequality are rejected; each is then rotated and translated at
    random.

    Returns
    -------
    numpy.ndarray
        Positions, shape (m, 3, 3), angstrom.
    """
    out = []
    while len(out) < m:
        a, b, c = rng.uniform(side_min, side_max, 3)  # a = |01|, b = |02|, c = |12|
        if not (a < b + c and b < a + c and c < a + b):
            continue
        x2 = (a * a + b * b - c * c) / (2 * a)
        y2 = math.sqrt(max(b * b - x2 * x2, 0.0))
        out.append([[0.0, 0.0, 0.0], [a, 0.0, 0.0], [x2, y2, 0.0]])
    return _place(rng, np.asarray(out), shift)


def reference_configurations(potential, params: dict, positions, *, name="configs"):
    """Configurations with energies and forces evaluated from a pair potential.

    Parameters
    ----------
    potential
        A pair potential; ``params`` in internal units.
    positions
        Shape (M, N, 3), angstrom.
    """
    from bayesff.observables.configurations import energies_and_forces

    e, f = energies_and_forces(potential, params, np.asarray(positions, dtype=float))
    return Configurations(positions, np.asarray(e), np.asarray(f), name=name)


# -------------------------------------------------------------------- model
class _Noise(NamedTuple):
    fixed: float | None
    prior: PriorSpec | None


def _noise(value, label: str) -> _Noise | None:
    if value is None:
        return None
    if isinstance(value, PriorSpec):
        if value.support_interval()[0] < 0:
            raise ProblemError(f"the prior of {label} must be on (0, inf); got {value.describe()}")
        return _Noise(None, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ProblemError(
            f"{label} must be a positive number or a PriorSpec (e.g. HalfNormal), got {value!r}"
        )
    return _Noise(float(value), None)


def _parameters(potential, priors: dict | None):
    """(free names, {name: (PriorSpec, unit, factor)}, {name: fixed internal value})."""
    from bayesff.problem import Parameter

    priors = dict(priors or {})
    specs = {s.name: s for s in potential.params}
    unknown = [k for k in priors if k not in specs]
    if unknown:
        raise ProblemError(
            f"priors for unknown parameter(s) {', '.join(unknown)}; {potential.name!r} has "
            f"{', '.join(specs)}",
            "fit(priors=...)",
        )
    free, table, fixed = [], {}, {}
    for n, spec in specs.items():
        p = priors.get(n, spec.default_prior)
        where = f"fit(priors={{{n!r}: ...}})"
        if isinstance(p, PriorSpec):
            p = Parameter(n, spec.prior_unit, p)
        elif isinstance(p, (int, float)) and not isinstance(p, bool):
            p = Parameter(n, spec.prior_unit, None, float(p))
        elif not isinstance(p, Parameter):
            raise ProblemError(
                f"expected a PriorSpec, a bayesff.problem.Parameter or a number (fixed value "
                f"in {spec.prior_unit}), got {p!r}",
                where,
            )
        factor = units.factor(p.unit, spec.dimension, where=f"{where}.unit")
        if p.fixed:
            if not spec.support.contains(p.value * factor):
                raise ProblemError(
                    f"value {p.value!r} {p.unit} is outside the support "
                    f"({spec.support.describe()} {spec.unit})",
                    where,
                )
            fixed[n] = p.value * factor
            continue
        if p.prior is None:
            raise ProblemError("a parameter needs a prior or a fixed value", where)
        p.prior.scaled(factor).check_within(spec.support, where)
        free.append(n)
        table[n] = (p.prior, p.unit, factor)
    return free, table, fixed


def build_model(
    potential,
    configurations,
    *,
    priors: dict | None = None,
    sigma_E=None,
    sigma_F=None,
    offset=DEFAULT_OFFSET_PRIOR,
):
    """The NumPyro model of energy and force matching.

    Parameters
    ----------
    potential
        A registered :class:`~bayesff.potentials.PairPotential`.
    configurations
        A :class:`Configurations` or a sequence of them (e.g. dimers and trimers).
    priors
        Parameter name -> :class:`~bayesff.priors.PriorSpec` (in the spec's
        ``prior_unit``, e.g. K for epsilon), :class:`~bayesff.problem.Parameter`
        (own unit) or a number (fixed, in ``prior_unit``). Missing names use the
        potential's default priors.
    sigma_E, sigma_F
        Noise scales of energies (kJ/mol, per configuration) and of force
        components (kJ/mol/angstrom): a positive number (fixed) or a PriorSpec
        (sampled as ``sigma_E`` / ``sigma_F``). ``None`` leaves that term out.
    offset
        PriorSpec of the energy offset b (kJ/mol), or ``None`` for b = 0.

    Returns
    -------
    model, data, info
        ``model(data)``, the data tuple (per set: positions, energies, forces;
        passed as arguments so that the compiled model is reusable on other
        data of the same shapes), and a dict with ``free`` (parameter
        names), ``latent`` (all sampled names), ``to_params`` and ``units``.
    """
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    from bayesff.observables.configurations import energies_and_forces

    if getattr(potential, "kind", None) != "pair":
        raise ProblemError(f"force matching needs a pair potential, got {potential!r}", "fit")
    sets = [configurations] if isinstance(configurations, Configurations) else list(configurations)
    if not sets or not all(isinstance(c, Configurations) for c in sets):
        raise ProblemError(
            "configurations must be a Configurations or a non-empty sequence of them", "fit"
        )
    names = [c.name for c in sets]
    if len(set(names)) != len(names):
        raise ProblemError(f"configuration sets need distinct names, got {names}", "fit")
    nE, nF = _noise(sigma_E, "sigma_E"), _noise(sigma_F, "sigma_F")
    if nE is None and nF is None:
        raise ProblemError("give sigma_E, sigma_F or both (None leaves a term out)", "fit")
    for c in sets:
        if nE is not None and c.energy is None:
            raise ProblemError(f"sigma_E is given but set {c.name!r} has no energies", "fit")
        if nF is not None and c.forces is None:
            raise ProblemError(f"sigma_F is given but set {c.name!r} has no forces", "fit")
    if nE is None:
        offset = None
    if offset is not None and not isinstance(offset, PriorSpec):
        raise ProblemError(f"offset must be a PriorSpec or None, got {offset!r}", "fit")

    free, table, fixed = _parameters(potential, priors)
    dists = {n: table[n][0].to_numpyro() for n in free}
    fixed_j = {n: jnp.asarray(v) for n, v in fixed.items()}

    def to_params(theta):
        return {**fixed_j, **{n: theta[n] * table[n][2] for n in free}}

    latent = list(free)
    unit_of = {n: table[n][1] for n in free}
    if offset is not None:
        latent.append("b")
        unit_of["b"] = "kJ/mol"
    if nE is not None and nE.prior is not None:
        latent.append("sigma_E")
        unit_of["sigma_E"] = "kJ/mol"
    if nF is not None and nF.prior is not None:
        latent.append("sigma_F")
        unit_of["sigma_F"] = "kJ/mol/angstrom"
    # jitted: numpyro runs the model eagerly while initialising, where every
    # primitive would otherwise be compiled on its own (hundreds of compilations)
    forward = jax.jit(lambda params, x: energies_and_forces(potential, params, x))

    def model(data):
        theta = {n: numpyro.sample(n, dists[n]) for n in free}
        params = to_params(theta)
        b = numpyro.sample("b", offset.to_numpyro()) if offset is not None else 0.0
        sE = sF = None
        if nE is not None:
            sE = nE.fixed if nE.prior is None else numpyro.sample("sigma_E", nE.prior.to_numpyro())
        if nF is not None:
            sF = nF.fixed if nF.prior is None else numpyro.sample("sigma_F", nF.prior.to_numpyro())
        for name, (x, e_obs, f_obs) in zip(names, data, strict=True):
            e, f = forward(params, x)
            # A non-finite prediction (e.g. a parameter draw that makes the
            # potential overflow) rejects the proposal with log density -inf;
            # the likelihood itself is kept finite so that no NaN reaches NUTS.
            ok = jnp.all(jnp.isfinite(e)) & jnp.all(jnp.isfinite(f))
            numpyro.factor(f"valid_{name}", jnp.where(ok, 0.0, -jnp.inf))
            if sE is not None:
                mu = jnp.where(jnp.isfinite(e), e + b, 0.0) if e_obs is not None else e + b
                numpyro.sample(f"E_{name}", dist.Normal(mu, sE), obs=e_obs)
            if sF is not None:
                mu = jnp.where(jnp.isfinite(f), f, 0.0) if f_obs is not None else f
                numpyro.sample(f"F_{name}", dist.Normal(mu, sF), obs=f_obs)

    data = tuple(
        (
            jnp.asarray(c.positions),
            None if nE is None else jnp.asarray(c.energy),
            None if nF is None else jnp.asarray(c.forces),
        )
        for c in sets
    )
    info = {
        "free": free,
        "latent": latent,
        "to_params": to_params,
        "units": unit_of,
        "sets": sets,
        "sigma_E": nE,
        "sigma_F": nF,
        "offset": offset,
    }
    return model, data, info


# ---------------------------------------------------------------------- fit
def _laplace_starts(model, data, key, chains: int, n_starts: int = 4):
    """Chain starting points: the posterior mode and its Laplace approximation.

    Force and energy data pin the parameters very tightly (relative widths of
    1e-3 are common) while the default priors are wide, so NUTS started in the
    prior's bulk spends its whole warm-up finding the mode, and chains can stay
    stuck in the steep repulsive wall. Instead the mode is found by L-BFGS in
    the unconstrained space from ``n_starts`` central prior points (the best
    kept), and each chain starts at a draw from N(mode, H^-1) (H the Hessian
    of the negative log density there), i.e. dispersed on the posterior's own
    scale, which keeps R-hat meaningful. If H is not positive definite the
    chains start at the mode with a 1e-3 jitter.

    Returns
    -------
    init_params, cov, info
        Unconstrained starting values with a leading chain axis, the Laplace
        covariance (``None`` if H is not positive definite; used as the initial
        NUTS metric), and a one-line description for the run's attributes.
    """
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import initialize_model
    from scipy.optimize import minimize

    from bayesff.inference import init_to_central

    k_init, k_jitter = jax.random.split(key)
    # one trace and one compilation: a batch of starting points, one jitted density
    init = initialize_model(
        jax.random.split(k_init, n_starts),
        model,
        model_args=(data,),
        init_strategy=init_to_central,
        dynamic_args=True,
    )
    x0s = jax.vmap(lambda z: ravel_pytree(z)[0])(init.param_info.z)
    unravel = ravel_pytree(jax.tree.map(lambda v: v[0], init.param_info.z))[1]

    def neg_log_density(x, d):
        return init.potential_fn(d)(unravel(x))

    vg = jax.jit(jax.value_and_grad(neg_log_density))

    def f(x):
        v, g = vg(jnp.asarray(x), data)
        return float(v), np.asarray(g, dtype=float)

    best = None
    for x0 in np.asarray(x0s):
        res = minimize(f, x0, jac=True, method="L-BFGS-B")
        if np.isfinite(res.fun) and (best is None or res.fun < best[0]):
            best = (res.fun, res.x)
    if best is None:
        raise ProblemError(
            f"could not find a finite posterior density from {n_starts} central prior points; "
            "check that the priors cover parameters at which the potential is finite on these "
            "configurations",
            "fit",
        )
    fun, x_map = best
    # Hessian by central differences of the (already compiled) gradient: a few
    # parameters, so 2 n gradient calls beat compiling a third derivative.
    step = 1e-5 * np.maximum(1.0, np.abs(x_map))
    h = np.empty((x_map.size, x_map.size))
    for i in range(x_map.size):
        e = np.zeros_like(x_map)
        e[i] = step[i]
        h[:, i] = (f(x_map + e)[1] - f(x_map - e)[1]) / (2 * step[i])
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_jitter)).ravel()[-1])
    try:
        cov = np.linalg.inv(0.5 * (h + h.T))
        chol = np.linalg.cholesky(cov)
        starts = x_map + rng.standard_normal((chains, x_map.size)) @ chol.T
        how = "Laplace draws"
    except np.linalg.LinAlgError:
        cov = None
        starts = x_map + 1e-3 * rng.standard_normal((chains, x_map.size))
        how = "mode + 1e-3 jitter (Hessian not positive definite)"
    init_params = jax.vmap(unravel)(jnp.asarray(starts))
    laplace = {"x_map": x_map, "unravel": unravel, "postprocess": init.postprocess_fn(data)}
    info = f"L-BFGS mode (-log density {fun:.6g}); chains start at {how}"
    return init_params, cov, info, laplace


def fit(
    potential,
    configurations,
    *,
    priors: dict | None = None,
    sigma_E=None,
    sigma_F=None,
    offset=DEFAULT_OFFSET_PRIOR,
    chains: int = 4,
    warmup: int = 500,
    samples: int = 500,
    seed: int = 0,
    dense_mass: bool = True,
    target_accept: float = 0.8,
    progress: bool = False,
    method: str = "nuts",
):
    """Calibrate a pair potential to configuration energies and forces with NUTS.

    Parameters
    ----------
    potential
        A pair potential (e.g. ``get_potential("lennard_jones")``).
    configurations
        :class:`Configurations` or a sequence of them.
    priors, sigma_E, sigma_F, offset
        See :func:`build_model`. sigma_E in kJ/mol, sigma_F in kJ/mol/angstrom;
        a weighted loss with weights w_E, w_F corresponds to
        sigma = 1/sqrt(2 w).
    chains, warmup, samples, seed
        NUTS settings: vectorised chains on one device, warm-up and kept draws
        per chain, PRNG seed.
    dense_mass, target_accept
        Dense (default) or diagonal metric, and NUTS target acceptance
        probability.
    method
        ``"nuts"`` (default) or ``"laplace"``: ``chains * samples`` independent
        draws from the Gaussian approximation at the posterior mode (in the
        unconstrained space), a quick look in a few seconds; no MCMC
        diagnostics, and only as good as the posterior is Gaussian.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior`` (parameters in their prior units, ``b`` in kJ/mol,
        sampled noise scales), ``sample_stats``, ``observed_data``
        (``E_<set>`` over ``config_<set>``; ``F_<set>`` over ``config_<set>``,
        ``atom_<set>``, ``xyz``), ``posterior_predictive`` (``E_<set>_model`` and
        ``F_<set>_model``: model means with b), ``log_likelihood`` (per
        configuration, energies and forces separately) and ``constant_data``
        (positions, fixed noise scales). Attributes: seed, settings,
        diagnostics warnings, wall time.
    """
    import jax
    import jax.numpy as jnp

    if method not in ("nuts", "laplace"):
        raise ProblemError(f"method must be 'nuts' or 'laplace', got {method!r}", "fit")
    for k, v in (("chains", chains), ("warmup", warmup), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ProblemError(f"{k} must be a positive integer, got {v!r}", "fit")
    model, data, info = build_model(
        potential, configurations, priors=priors, sigma_E=sigma_E, sigma_F=sigma_F, offset=offset
    )
    t0 = time.perf_counter()
    key_init, key_run = jax.random.split(jax.random.PRNGKey(seed))
    init_params, cov, map_info, laplace = _laplace_starts(model, data, key_init, chains)
    if method == "laplace":
        if cov is None:
            raise ProblemError(
                "method='laplace' needs a positive definite Hessian at the mode; use 'nuts'",
                "fit",
            )
        rng = np.random.default_rng(seed)
        z = laplace["x_map"] + rng.standard_normal((chains * samples, cov.shape[0])) @ (
            np.linalg.cholesky(cov).T
        )
        draws = jax.vmap(lambda x: laplace["postprocess"](laplace["unravel"](x)))(jnp.asarray(z))
        post = {k: np.asarray(v).reshape(chains, samples) for k, v in draws.items()}
        extra = None
    else:
        post, extra = _nuts(
            model,
            data,
            key_run,
            init_params,
            cov,
            chains,
            warmup,
            samples,
            dense_mass,
            target_accept,
            progress,
        )
    wall = time.perf_counter() - t0
    return _datatree(potential, info, post, extra, chains, samples, wall, seed, warmup, map_info)


def _nuts(
    model,
    data,
    key,
    init_params,
    cov,
    chains,
    warmup,
    samples,
    dense_mass,
    target_accept,
    progress,
):
    import jax.numpy as jnp
    from numpyro.infer import MCMC, NUTS

    from bayesff.inference import _EXTRA_FIELDS, init_to_central

    if cov is not None and not dense_mass:
        cov = np.diag(cov)
    kernel = NUTS(
        model,
        # The Laplace covariance is the metric, not adapted: numpyro's windowed
        # estimate is shrunk towards 1e-3 I, far wider than these posteriors
        # (relative widths ~1e-4 in log sigma), which costs ~100 leapfrog steps
        # per draw; the Laplace metric gives a handful. Warm-up tunes the step size.
        inverse_mass_matrix=None if cov is None else jnp.asarray(cov),
        adapt_mass_matrix=cov is None,
        init_strategy=init_to_central,
        dense_mass=dense_mass,
        target_accept_prob=target_accept,
    )
    mcmc = MCMC(
        kernel,
        num_warmup=warmup,
        num_samples=samples,
        num_chains=chains,
        chain_method="vectorized",
        progress_bar=progress,
    )
    mcmc.run(key, data, init_params=init_params, extra_fields=_EXTRA_FIELDS)
    post = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = {k: np.asarray(v) for k, v in mcmc.get_extra_fields(group_by_chain=True).items()}
    return post, extra


def _datatree(potential, info, post, extra, chains, samples, wall, seed, warmup, map_info):
    import jax
    import xarray as xr

    from bayesff.inference import diagnose
    from bayesff.observables.configurations import energies_and_forces

    cd = {"chain": np.arange(chains), "draw": np.arange(samples)}
    posterior = xr.Dataset({n: (("chain", "draw"), post[n]) for n in info["latent"]}, coords=cd)
    for n, u in info["units"].items():
        posterior[n].attrs["units"] = u
    stats = (
        None
        if extra is None
        else xr.Dataset(
            {
                "diverging": (("chain", "draw"), extra["diverging"].astype(bool)),
                "energy": (("chain", "draw"), extra["energy"]),
                "n_steps": (("chain", "draw"), extra["num_steps"]),
                "acceptance_rate": (("chain", "draw"), extra["accept_prob"]),
                "lp": (("chain", "draw"), -extra["potential_energy"]),
                "step_size": (("chain", "draw"), extra["adapt_state.step_size"]),
            },
            coords=cd,
        )
    )

    # model means at every draw: energies_and_forces vmapped over draws
    flat = {n: post[n].reshape(-1) for n in info["free"]}

    def at(theta, x):
        return energies_and_forces(potential, info["to_params"](theta), x)

    nE, nF = info["sigma_E"], info["sigma_F"]
    b = post["b"] if "b" in post else np.zeros((chains, samples))
    sE = post["sigma_E"] if "sigma_E" in post else (nE.fixed if nE else None)
    sF = post["sigma_F"] if "sigma_F" in post else (nF.fixed if nF else None)
    obs, pp, ll, const = {}, {}, {}, {}
    for c in info["sets"]:
        dc, da = f"config_{c.name}", f"atom_{c.name}"
        coords = {dc: c.config_ids, da: np.arange(c.n_atoms), "xyz": ["x", "y", "z"]}
        e, f = jax.jit(jax.vmap(at, in_axes=(0, None)))(flat, c.positions)
        e = np.asarray(e).reshape(chains, samples, -1)
        f = np.asarray(f).reshape(chains, samples, *c.positions.shape)
        const[f"positions_{c.name}"] = xr.DataArray(
            c.positions, dims=(dc, da, "xyz"), coords={k: coords[k] for k in (dc, da, "xyz")}
        )
        const[f"positions_{c.name}"].attrs["units"] = "angstrom"
        if nE is not None:
            mu = e + b[..., None]
            s = np.asarray(sE)[..., None] if np.ndim(sE) else sE
            obs[f"E_{c.name}"] = xr.DataArray(c.energy, dims=(dc,), coords={dc: c.config_ids})
            pp[f"E_{c.name}_model"] = xr.DataArray(
                mu, dims=("chain", "draw", dc), coords={**cd, dc: c.config_ids}
            )
            z = (c.energy - mu) / s
            ll[f"E_{c.name}"] = xr.DataArray(
                -0.5 * z**2 - np.log(s) - 0.5 * math.log(2 * math.pi),
                dims=("chain", "draw", dc),
                coords={**cd, dc: c.config_ids},
            )
            for v in (obs[f"E_{c.name}"], pp[f"E_{c.name}_model"]):
                v.attrs["units"] = "kJ/mol"
        if nF is not None:
            s = np.asarray(sF)[..., None, None, None] if np.ndim(sF) else sF
            obs[f"F_{c.name}"] = xr.DataArray(
                c.forces, dims=(dc, da, "xyz"), coords={k: coords[k] for k in (dc, da, "xyz")}
            )
            pp[f"F_{c.name}_model"] = xr.DataArray(
                f, dims=("chain", "draw", dc, da, "xyz"), coords={**cd, **coords}
            )
            z = (c.forces - f) / s
            lf = -0.5 * z**2 - np.log(s) - 0.5 * math.log(2 * math.pi)
            ll[f"F_{c.name}"] = xr.DataArray(
                lf.sum(axis=(-1, -2)),
                dims=("chain", "draw", dc),
                coords={**cd, dc: c.config_ids},
            )
            for v in (obs[f"F_{c.name}"], pp[f"F_{c.name}_model"]):
                v.attrs["units"] = "kJ/mol/angstrom"
    if nE is not None and nE.fixed is not None:
        const["sigma_E"] = xr.DataArray(nE.fixed, attrs={"units": "kJ/mol"})
    if nF is not None and nF.fixed is not None:
        const["sigma_F"] = xr.DataArray(nF.fixed, attrs={"units": "kJ/mol/angstrom"})

    groups = (
        {"posterior": posterior}
        if stats is None
        else {"posterior": posterior, "sample_stats": stats}
    )
    dt = xr.DataTree.from_dict(
        {
            **groups,
            "observed_data": xr.Dataset(obs),
            "posterior_predictive": xr.Dataset(pp),
            "log_likelihood": xr.Dataset(ll),
            "constant_data": xr.Dataset(const),
        }
    )
    if stats is None:
        warn = "method='laplace': Gaussian approximation at the mode, no MCMC diagnostics"
    else:
        warn = "; ".join(diagnose(dt).warnings) or "none"
    dt.attrs.update(
        {
            "potential": potential.name,
            "seed": seed,
            "chains": chains,
            "warmup": warmup,
            "samples": samples,
            "wall_time_s": wall,
            "device": str(jax.devices()[0]),
            "method": "laplace" if stats is None else "nuts",
            "diagnostics_warnings": warn,
            "map_start": map_info,
            "likelihood": "energy: N(E_model + b, sigma_E) per configuration; force: "
            "N(F_model, sigma_F) per Cartesian component",
        }
    )
    return dt


# ------------------------------------------------------------- model checks
class ResidualCheck(NamedTuple):
    """Standardised residuals of a force-matching fit and a posterior predictive check.

    Attributes
    ----------
    rms_z_E, rms_z_F
        Root mean square of (observed - posterior-mean model) / sigma over the
        energies and the force components (NaN when the term was left out);
        about 1 when the model explains the data to within the noise.
    max_abs_z_E, max_abs_z_F
        Largest |z|.
    p_value
        Posterior predictive tail probability of the chi^2 discrepancy
        T = sum z^2 (all terms): P(T(y_rep) >= T(y)); small values (< 0.01)
        say the data scatter more than the noise model allows.
    adequate
        ``p_value >= alpha`` of :func:`residual_check`.
    """

    rms_z_E: float
    rms_z_F: float
    max_abs_z_E: float
    max_abs_z_F: float
    p_value: float
    adequate: bool


def residual_check(dt, *, alpha: float = 0.01, seed: int = 0) -> ResidualCheck:
    """Flag a fit whose residuals are larger than its noise model (model inadequacy).

    Parameters
    ----------
    dt
        DataTree returned by :func:`fit`.
    alpha
        Threshold on the posterior predictive p-value.
    seed
        Seed of the replicated data.
    """
    rng = np.random.default_rng(seed)
    post = dt["posterior"]
    const = dt["constant_data"]
    t_obs = t_rep = 0.0
    zE, zF = [], []
    for name, var in dt["observed_data"].data_vars.items():
        y = var.values
        mu = dt["posterior_predictive"][f"{name}_model"].values  # (chain, draw, ...)
        key = "sigma_E" if name.startswith("E_") else "sigma_F"
        s = post[key].values if key in post else float(const[key].values)
        s = np.reshape(s, np.shape(s) + (1,) * (mu.ndim - np.ndim(s)))
        z = (y - mu) / s
        axes = tuple(range(2, mu.ndim))
        t_obs = t_obs + np.sum(z**2, axis=axes)
        t_rep = t_rep + np.sum(rng.standard_normal(mu.shape) ** 2, axis=axes)
        zbar = (y - mu.mean(axis=(0, 1))) / np.mean(s, axis=(0, 1))
        (zE if name.startswith("E_") else zF).append(np.ravel(zbar))
    p = float(np.mean(t_rep >= t_obs))

    def rms(v):
        return float(np.sqrt(np.mean(np.concatenate(v) ** 2))) if v else math.nan

    def mx(v):
        return float(np.max(np.abs(np.concatenate(v)))) if v else math.nan

    return ResidualCheck(rms(zE), rms(zF), mx(zE), mx(zF), p, p >= alpha)
