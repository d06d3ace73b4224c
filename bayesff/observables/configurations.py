"""Energies and forces of given geometries under a pair potential.

``pair_energy`` is the simplest configuration observable: the interaction
energy of two atoms at distance r, which for a pair potential is u(r) itself.
It is the target of energy matching against a reference dimer curve (an
ab-initio or a published accurate pair potential) and of Gaussian-process
potentials (``docs/``).

``configuration_energy`` and ``configuration_forces`` take a whole N-atom
configuration (positions in angstrom, no periodic box): the total energy is
the sum of u(r_ij) over the N(N-1)/2 pairs and the forces are its negative
gradient, one vector per atom. ``energies_and_forces`` maps them over a batch
of configurations with the same number of atoms (vmap in one place). They are
the forward model of force matching: the registered observables
``configuration_energy`` (one energy per configuration, with a nuisance
energy offset b: E_ref = E(X) + b, b being a reference energy the potential
cannot know, such as the energy of isolated atoms in an ab-initio
calculation) and ``configuration_forces`` (one (N, 3) force array per
configuration) make force matching an ordinary problem (``models/argon_forcematch.toml``).

Both also accept cluster potentials (:class:`bayesff.potentials.ClusterPotential`,
``kind = "cluster"``: fixed charges with per-type Lennard-Jones, induced
dipoles), whose energy is not a sum of one pair potential: they read the
per-atom site columns (``charge_e``, ``type``) that the configuration file
carries (:mod:`bayesff.configdata`) from the target's environment, arrays of
shape (configurations, atoms). A configuration on which the cluster potential
fails (status not OK, e.g. the polarisation catastrophe) is predicted as NaN,
which the model turns into a rejected proposal (log density -inf). Before
anything is traced, the problem checks the site columns against the
potential and evaluates every configuration at the centre of the priors
(:func:`check_configuration_sites`), so that missing or bad site data and a
catastrophe at the starting point are clear errors at ``bayesff check``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from bayesff.errors import DataError, ProblemError
from bayesff.observables._spec import EnvField, Observable, register_observable
from bayesff.potentials._spec import ParamSpec
from bayesff.potentials.cluster import (
    STATUS_OK,
    ClusterEnergyError,
    check_energy,
    check_sites,
)
from bayesff.potentials.cluster import energies_and_forces as cluster_energies_and_forces
from bayesff.priors import PriorSpec, Support

__all__ = [
    "CONFIGURATION_ENERGY",
    "CONFIGURATION_FORCES",
    "PAIR_ENERGY",
    "PAIR_FORCE",
    "PERMITTIVITY_PARAMETERS",
    "SOLVATED_PAIR_ENERGY",
    "SOLVENT_CONVENTIONS",
    "check_configuration_sites",
    "cluster_energies",
    "configuration_energy",
    "configuration_forces",
    "energies_and_forces",
    "pair_energy",
    "pair_force",
    "permittivity_parameter",
    "solvated_pair_energy",
    "solvent_parameters",
]


def pair_energy(potential, params, r_angstrom):
    """Dimer interaction energy u(r) in kJ/mol at distances ``r_angstrom`` (angstrom)."""
    return potential.energy(jnp.asarray(r_angstrom, dtype=float), **params)


def pair_force(potential, params, r_angstrom):
    """Radial force F(r) = -du/dr in kJ/mol/angstrom at distances ``r_angstrom`` (angstrom).

    Positive F pushes the pair apart (repulsion).
    """
    du = jax.grad(lambda r: potential.energy(r, **params))
    return -jnp.vectorize(du)(jnp.asarray(r_angstrom, dtype=float))


def _check_positions(positions, batched: bool):
    """Shape check before tracing: (N, 3) or, batched, (M, N, 3) with N >= 2."""
    shape = tuple(getattr(positions, "shape", np.shape(positions)))
    want = "(M, N, 3)" if batched else "(N, 3)"
    ndim = 3 if batched else 2
    if len(shape) != ndim or shape[-1] != 3 or shape[-2] < 2:
        raise ValueError(
            f"positions must have shape {want} (angstrom) with N >= 2 atoms, got shape {shape}"
        )


def configuration_energy(potential, params, positions):
    r"""Total pair energy of one configuration, in kJ/mol.

    .. math:: E = \sum_{i<j} u(|\mathbf{r}_i - \mathbf{r}_j|)

    Parameters
    ----------
    potential
        A :class:`~bayesff.potentials.PairPotential`.
    params
        Its parameters, internal units (kJ/mol, angstrom).
    positions
        Atom positions, shape (N, 3), angstrom; open boundaries (no box).

    Returns
    -------
    jax.Array
        Scalar energy, kJ/mol. Coincident atoms give r = 0, where the pair
        potentials are not finite: the result is then inf or NaN, never a
        silent zero.
    """
    _check_positions(positions, batched=False)
    x = jnp.asarray(positions, dtype=float)
    i, j = np.triu_indices(x.shape[0], k=1)
    r = jnp.sqrt(jnp.sum((x[i] - x[j]) ** 2, axis=-1))
    return jnp.sum(potential.energy(r, **params))


def configuration_forces(potential, params, positions):
    """Forces on the atoms of one configuration, -dE/dr_i, in kJ/mol/angstrom.

    Parameters
    ----------
    potential, params, positions
        As for :func:`configuration_energy`; positions (N, 3) in angstrom.

    Returns
    -------
    jax.Array
        Shape (N, 3), kJ/mol/angstrom. They sum to zero (Newton's third law).
    """
    _check_positions(positions, batched=False)
    return -jax.grad(lambda x: configuration_energy(potential, params, x))(
        jnp.asarray(positions, dtype=float)
    )


def energies_and_forces(potential, params, positions):
    """Energies and forces of a batch of configurations with the same atom count.

    Parameters
    ----------
    potential
        A pair potential.
    params
        Its parameters, internal units; scalars (shared by the batch).
    positions
        Shape (M, N, 3), angstrom.

    Returns
    -------
    energy : jax.Array
        Shape (M,), kJ/mol.
    forces : jax.Array
        Shape (M, N, 3), kJ/mol/angstrom.
    """
    _check_positions(positions, batched=True)

    def one(x):
        e, g = jax.value_and_grad(lambda y: configuration_energy(potential, params, y))(x)
        return e, -g

    return jax.vmap(one)(jnp.asarray(positions, dtype=float))


def _build_pair_force(potential, **_options):
    def predict(params, env):
        return pair_force(potential, params, env["r_angstrom"])

    return predict


def _build_pair_energy(potential, **_options):
    def predict(params, env):
        return pair_energy(potential, params, env["r_angstrom"])

    return predict


PAIR_ENERGY = register_observable(
    Observable(
        name="pair_energy",
        env=(EnvField("r_angstrom", "length", "pair distance r"),),
        value_column="E_kJ_per_mol",
        uncertainty_column="u_E_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_pair_energy,
        potential_kind="pair",
        description="dimer interaction energy u(r) of two atoms at distance r",
        reference="the pair potential itself (energy of an isolated pair)",
    )
)
PAIR_FORCE = register_observable(
    Observable(
        name="pair_force",
        env=(EnvField("r_angstrom", "length", "pair distance r"),),
        value_column="F_kJ_per_mol_A",
        uncertainty_column="u_F_kJ_per_mol_A",
        dimension="force",
        unit="kJ/mol/angstrom",
        build=_build_pair_force,
        potential_kind="pair",
        description="radial force -du/dr between two atoms at distance r (positive: repulsive)",
        reference="minus the derivative of the pair potential",
    )
)


def _site_arrays(potential, env) -> dict:
    """The site columns a cluster potential reads, from a target's environment."""
    return {c: env[c] for c in potential.site_column_names}


def cluster_energies(potential, params, positions, sites):
    """Energies of a batch of configurations under a cluster potential, NaN where it fails.

    Parameters
    ----------
    potential
        A :class:`~bayesff.potentials.ClusterPotential`.
    params
        Its parameters, internal units.
    positions
        Shape (M, N, 3), angstrom.
    sites
        Its site columns, each (M, N) or (N,) (``type`` may hold integers
        stored as floats: the potential casts it).

    Returns
    -------
    jax.Array
        (M,) energies in kJ/mol; NaN for a configuration whose status is not
        :data:`~bayesff.potentials.STATUS_OK` (never a silent number: the
        model rejects a proposal with a non-finite prediction).
    """
    x = jnp.asarray(positions, dtype=float)
    s = {k: jnp.asarray(v) for k, v in sites.items()}
    axes = {k: (0 if v.ndim == 2 else None) for k, v in s.items()}

    def one(xi, si):
        e, status = potential.energy_and_status(xi, si, **params)
        return jnp.where(status == STATUS_OK, e, jnp.nan)

    return jax.vmap(one, in_axes=(0, axes))(x, s)


def _build_configuration_energy(potential, **_options):
    if potential.kind == "cluster":

        def predict(params, env, offset=0.0):
            x, sites = env["positions_angstrom"], _site_arrays(potential, env)
            return cluster_energies(potential, params, x, sites) + offset

        return predict

    def predict(params, env, offset=0.0):
        x = jnp.asarray(env["positions_angstrom"], dtype=float)
        return jax.vmap(lambda y: configuration_energy(potential, params, y))(x) + offset

    return predict


def _build_configuration_forces(potential, **_options):
    if potential.kind == "cluster":

        def predict(params, env):
            x, sites = env["positions_angstrom"], _site_arrays(potential, env)
            _, f, status = cluster_energies_and_forces(potential, params, x, sites)
            return jnp.where((status == STATUS_OK)[:, None, None], f, jnp.nan)

        return predict

    def predict(params, env):
        x = jnp.asarray(env["positions_angstrom"], dtype=float)
        return jax.vmap(lambda y: configuration_forces(potential, params, y))(x)

    return predict


def check_configuration_sites(potential, params, env, where: str | None = None) -> None:
    """Check a configuration target's site data against a potential, eagerly (before jit).

    For a cluster potential: the site columns it needs are present, one value
    per atom, finite, types within its range
    (:func:`bayesff.potentials.cluster.check_sites`); and every configuration
    has a valid energy at ``params`` (the centre of the priors, where the
    chains start). Pair potentials read no site data: charges that are not all zero or
    atoms of more than one type are refused (they would be ignored).

    Parameters
    ----------
    potential
        The problem's potential.
    params
        Parameter values, internal units (the centre of the priors).
    env
        The target's environment: ``positions_angstrom`` (M, N, 3) and the
        site columns (M, N).
    where
        The target, for messages.

    Raises
    ------
    DataError
        Missing or bad site data, naming the column.
    ClusterEnergyError
        A configuration fails at ``params`` (e.g. the polarisation
        catastrophe), naming the configuration row, the sites and parameters.
    """
    where = where or "configuration target"
    x = np.asarray(env["positions_angstrom"], dtype=float)
    _check_distinct_sites(x, where)
    if getattr(potential, "kind", None) != "cluster":
        _refuse_ignored_sites(potential, env, where)
        return
    given = {c: np.asarray(v) for c, v in env.items() if c != "positions_angstrom"}
    check_sites(potential, x, given, where)
    sites = _site_arrays(potential, given)
    e = np.asarray(jax.jit(lambda p: cluster_energies(potential, p, x, sites))(params))
    bad = np.flatnonzero(~np.isfinite(e))
    if bad.size:
        k = int(bad[0])
        at = (
            f"{where}: configuration row {k} ({bad.size} of {len(e)} fail) at the centre of "
            "the priors, where the chains start"
        )
        check_energy(potential, params, x[k], {c: v[k] for c, v in sites.items()}, at)
        # check_energy raised unless the status is OK and the energy itself is not finite
        raise ClusterEnergyError(f"the energy is {e[k]!r} (coincident sites?)", at)


def _refuse_ignored_sites(potential, env: dict, where: str) -> None:
    """A DataError where the site columns say more than a pair potential reads: charges
    that are not all zero, or atoms of more than one type. One pair potential gives every
    pair the same u(r), so such data would be ignored without a word (the fit of an ionic
    or mixed cluster by a neutral one-type potential); all-zero charges and one type say
    nothing the potential does not assume and are accepted."""
    name = getattr(potential, "name", type(potential).__name__)
    advice = 'use a cluster potential (kind = "cluster") that reads them, or drop the column'
    q = env.get("charge_e")
    if q is not None and np.any(np.asarray(q, float) != 0.0):
        k = int(np.flatnonzero(np.any(np.asarray(q, float) != 0.0, axis=-1))[0])
        raise DataError(
            f"column 'charge_e': configuration row {k} carries nonzero charges, but the "
            f"potential {name!r} is one pair potential for every pair and reads no charges: "
            f"they would be ignored; {advice}",
            where,
        )
    t = env.get("type")
    if t is not None and np.unique(np.asarray(t)).size > 1:
        kinds = ", ".join(f"{v:g}" for v in np.unique(np.asarray(t, float))[:5])
        raise DataError(
            f"column 'type': the configurations have atoms of several types ({kinds}), but "
            f"the potential {name!r} is one pair potential for every pair and reads no "
            f"types: they would be ignored; {advice}",
            where,
        )


#: Two sites of one configuration closer than this (angstrom) coincide: every pair
#: potential is infinite (or NaN) there, so every draw would be rejected.
COINCIDENT_ANGSTROM = 1e-6


def _check_distinct_sites(x: np.ndarray, where: str) -> None:
    """A DataError naming the first configuration with two sites at one position (a
    duplicated atom line, a unit slip of 0 positions), before anything is traced."""
    if x.ndim != 3 or x.shape[1] < 2:
        return
    i, j = np.triu_indices(x.shape[1], k=1)
    # pair distances in blocks of configurations (M x N^2 at once could be large)
    r = np.concatenate(
        [np.linalg.norm(b[:, i] - b[:, j], axis=-1) for b in np.array_split(x, -(-len(x) // 256))]
    )
    close = r < COINCIDENT_ANGSTROM
    if close.any():
        k, p = np.argwhere(close)[0]
        raise DataError(
            f"configuration row {k}: sites {i[p]} and {j[p]} coincide (r = {r[k, p]:.3g} "
            f"angstrom, below {COINCIDENT_ANGSTROM:g}); every energy there is infinite, so "
            f"every draw would be rejected: check the positions ({int(close.any(axis=1).sum())} "
            "configuration(s) affected)",
            where,
        )


def _site_check(potential, params, env, values, _options):
    """Observable hook run when a problem is built: the site check; no error floor (zeros)."""
    check_configuration_sites(potential, params, env)
    return np.zeros(len(values))


#: Observed forces whose cosine with the model's at the prior centre (over every
#: component of every configuration) lies below this point against the model: a file of
#: energy gradients dE/dx (= -F), as several electronic-structure codes print, read as
#: forces. A model merely off at its centre keeps a clearly positive cosine (the
#: repulsive walls point the same way); -0.5 leaves room for a poor centre.
GRADIENT_COSINE = -0.5


def _forces_check(potential, params, env, values, options):
    """The site check, then the sign of the observed forces against the model's at the
    prior centre (:data:`GRADIENT_COSINE`); no error floor (zeros)."""
    floor = _site_check(potential, params, env, values, options)
    observed = np.asarray(values, float)
    with jax.enable_x64(True):
        p = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
        model = np.asarray(jax.jit(_build_configuration_forces(potential))(p, env))
    ok = np.isfinite(model).all(axis=(1, 2))
    a, b = observed[ok].ravel(), model[ok].ravel()
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    cosine = float(a @ b / norm) if norm > 0 else 1.0
    if cosine < GRADIENT_COSINE:
        raise DataError(
            f"the observed forces point against the model's at the prior centre (cosine "
            f"{cosine:.2f} over {int(ok.sum())} configurations; below {GRADIENT_COSINE:g} "
            f"is refused): they look like energy gradients dE/dx = -F, not forces; negate "
            f"the column (forces are -dE/dr_i) or check its sign convention",
            "configuration_forces",
        )
    return floor


# ------------------------------------------------------------- solvent environments

#: How a solvent environment enters the potential's parameters (see
#: :func:`solvated_pair_energy`).
SOLVENT_CONVENTIONS = ("effective", "static", "ecc")
#: Names a potential may give its uniform or bulk relative permittivity, in the
#: order they are looked for.
PERMITTIVITY_PARAMETERS = ("eps_r", "eps_s")


def permittivity_parameter(potential) -> str:
    """The parameter of ``potential`` that is its (bulk) relative permittivity.

    ``eps_r`` for :func:`~bayesff.potentials.electrostatics.coulomb` and
    Debye-Hückel forms, ``eps_s`` for the Mehler-Solmajer screened forms.

    Raises
    ------
    ProblemError
        If the potential has none (it has no dielectric to set).
    """

    names = potential.param_names
    for p in PERMITTIVITY_PARAMETERS:
        if p in names:
            return p
    raise ProblemError(
        f"{potential.name} has no permittivity parameter ({' or '.join(PERMITTIVITY_PARAMETERS)})"
        f"; a solvent environment sets one. Its parameters are {', '.join(names)}"
    )


def solvent_parameters(potential, params, eps_r, n_refractive, convention: str) -> dict:
    r"""The potential's parameters in a solvent of permittivity eps_r and refractive index n.

    Parameters
    ----------
    potential
        A pair potential with a charge-scaling factor ``s`` and a permittivity
        parameter (:func:`permittivity_parameter`), e.g. ``lj_coulomb`` or
        ``lj_screened_coulomb``.
    params
        Its parameters as calibrated, internal units.
    eps_r
        Static relative permittivity of the solvent, dimensionless (water
        78.4, n-hexane 1.89 at 298 K).
    n_refractive
        Refractive index of the solvent, dimensionless; its high-frequency
        (electronic) permittivity is :math:`arepsilon_{el} = n^2` (water
        1.78, n-hexane 1.89).
    convention
        ``"effective"``: the solvent does not enter; the calibrated
        permittivity parameter is an effective screening that knows no
        solvent. ``"static"``: the permittivity parameter is the solvent's
        :math:`arepsilon_r`. ``"ecc"`` (electronic continuum correction):
        the charges carry the electronic screening,
        :math:`s 	o s/\sqrt{arepsilon_{el}}`, and the permittivity
        parameter is the rest, the orientational part
        :math:`arepsilon_r/arepsilon_{el}`; the energy then tends to
        :math:`k_e s^2 q_i q_j / (arepsilon_r r)` at large r as under
        ``"static"``, and in a solvent without orientational polarisation
        (:math:`arepsilon_r = arepsilon_{el}`) the permittivity
        parameter is 1.

    Returns
    -------
    dict
        The parameters to call ``potential.energy`` with (arrays broadcast
        against eps_r where the solvent enters).

    References
    ----------
    I. V. Leontyev and A. A. Stuchebrukhov, Phys. Chem. Chem. Phys. 13, 2613
    (2011), doi:10.1039/c0cp01971b (ECC).
    """
    if convention == "effective":
        return dict(params)
    perm = permittivity_parameter(potential)
    out = dict(params)
    if convention == "static":
        out[perm] = eps_r
    elif convention == "ecc":
        eps_el = n_refractive * n_refractive
        out["s"] = params["s"] / jnp.sqrt(eps_el)
        out[perm] = eps_r / eps_el
    else:
        raise ValueError(
            f"convention must be one of {', '.join(SOLVENT_CONVENTIONS)}, got {convention!r}"
        )
    return out


def solvated_pair_energy(potential, params, r_angstrom, eps_r, n_refractive, convention="static"):
    r"""Interaction energy (potential of mean force) of two solutes in a solvent continuum, kJ/mol.

    .. math:: W(r) = uigl(r;\ 	heta(arepsilon_r, n)igr)

    the pair potential with its permittivity and charge scaling set from the
    solvent by ``convention`` (:func:`solvent_parameters`). Elementwise over
    rows: r, eps_r and n broadcast together.

    Parameters
    ----------
    potential, params
        A pair potential with ``s`` and a permittivity parameter; internal units.
    r_angstrom
        Distances, angstrom.
    eps_r, n_refractive
        The solvent's static relative permittivity and refractive index
        (dimensionless), one per row.
    convention
        ``"effective"``, ``"static"`` or ``"ecc"``.
    """
    r = jnp.asarray(r_angstrom, dtype=float)
    p = solvent_parameters(
        potential, params, jnp.asarray(eps_r, float), jnp.asarray(n_refractive, float), convention
    )
    return potential.energy(r, **p)


def _build_solvated_pair_energy(potential, convention="static", **_options):
    def predict(params, env):
        return solvated_pair_energy(
            potential, params, env["r_angstrom"], env["eps_r"], env["n_refractive"], convention
        )

    return predict


def _solvent_check(potential, _params, env, values, options):
    """Problem-time check of a solvated_pair_energy target (hook; no floor: zeros)."""

    convention = options.get("convention", "static")
    if convention not in SOLVENT_CONVENTIONS:
        raise ProblemError(
            f"options.convention must be one of {', '.join(SOLVENT_CONVENTIONS)}, "
            f"got {convention!r}"
        )
    if convention != "effective":
        permittivity_parameter(potential)
        if convention == "ecc" and "s" not in potential.param_names:
            raise ProblemError(
                f"the 'ecc' convention scales the charges by 1/n; {potential.name} has no "
                "charge-scaling parameter s"
            )
    for col, low in (("eps_r", 1.0), ("n_refractive", 1.0)):
        v = np.asarray(env[col], float)
        if np.any(v < low):
            raise ProblemError(
                f"environment column {col} must be >= {low:g} (a relative permittivity or a "
                f"refractive index), found {float(v.min())!r}"
            )
    return np.zeros(len(values))


SOLVATED_PAIR_ENERGY = register_observable(
    Observable(
        name="solvated_pair_energy",
        env=(
            EnvField("r_angstrom", "length", "distance r between the two solutes"),
            EnvField("eps_r", "dimensionless", "static relative permittivity of the solvent"),
            EnvField(
                "n_refractive",
                "dimensionless",
                "refractive index of the solvent (electronic permittivity n^2)",
            ),
        ),
        value_column="W_kJ_per_mol",
        uncertainty_column="u_W_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_solvated_pair_energy,
        potential_kind="pair",
        options=("convention",),
        description=(
            "potential of mean force W(r) of two solutes in a solvent continuum: the pair "
            "potential with its permittivity (and, for ECC, charge scaling) set by the solvent"
        ),
        reference=(
            "ECC: I. V. Leontyev and A. A. Stuchebrukhov, PCCP 13, 2613 (2011), "
            "doi:10.1039/c0cp01971b"
        ),
        error_floor=_solvent_check,
    )
)


_POSITIONS = EnvField("positions_angstrom", "length", "atom positions (N, 3) of a configuration")
_FORCE_MATCHING = (
    "force matching: Ercolessi and Adams, Europhys. Lett. 26, 583 (1994), "
    "doi:10.1209/0295-5075/26/8/005"
)
#: The energy offset b of configuration energies: E_ref = E(X) + b (kJ/mol).
OFFSET = ParamSpec(
    "offset",
    "energy",
    Support("real"),
    PriorSpec("Normal", {"loc": 0.0, "scale": 10.0}),
    "kJ/mol",
    "energy offset b between the reference energies and the potential's (kJ/mol)",
)

CONFIGURATION_ENERGY = register_observable(
    Observable(
        name="configuration_energy",
        env=(_POSITIONS,),
        value_column="E_kJ_per_mol",
        uncertainty_column="u_E_kJ_per_mol",
        dimension="energy",
        unit="kJ/mol",
        build=_build_configuration_energy,
        potential_kind=("pair", "cluster"),
        description="total energy of a configuration (pair sum or cluster potential) plus an "
        "offset b (nuisance)",
        reference=_FORCE_MATCHING,
        nuisance=(OFFSET,),
        row_dim="config",
        layout="configurations",
        # not a floor: the eager check of the site data (_site_check); error_floor is the
        # one hook Problem runs with the potential on a target's environment before tracing
        error_floor=_site_check,
    )
)
CONFIGURATION_FORCES = register_observable(
    Observable(
        name="configuration_forces",
        env=(_POSITIONS,),
        value_column="F_kJ_per_mol_A",
        uncertainty_column="u_F_kJ_per_mol_A",
        dimension="force",
        unit="kJ/mol/angstrom",
        build=_build_configuration_forces,
        potential_kind=("pair", "cluster"),
        description="force vectors -dE/dr_i on every atom of a configuration",
        reference=_FORCE_MATCHING,
        value_dims=("atom", "xyz"),
        row_dim="config",
        layout="configurations",
        error_floor=_forces_check,
    )
)
