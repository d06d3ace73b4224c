"""The run file: the only module that knows its groups, names, dims, coords and attributes.

A run file (``posterior.nc``) is an ArviZ DataTree (netCDF-4/HDF5, written and read with
the netCDF4 library: about five times faster to write and to read than h5netcdf, the same
file read back identical; benchmarks/RESULTS.md, Part O).
docs/runfile.md is the written schema; this module writes it
(:func:`build`, :func:`write`) and reads it (:func:`read`,
:func:`targets`, :func:`rows`, :func:`info`). Everything else in bayesff
(transferability, report, compare, active learning, sweeps) reads through
these functions and never builds a variable name itself.

Groups
------
``posterior``, ``prior``, ``log_prior``
    latent sites: parameters in the problem's units, inadequacy and nuisance
    terms (``tau_<target>``, ``omega_<param>_<target>``, ``offset_<target>``...).
``sample_stats``
    ``diverging``, ``energy``, ``n_steps``, ``tree_depth``,
    ``acceptance_rate``, ``lp``, ``step_size``; and ``laplace_mode`` where the
    Laplace start found several competing modes: the index of each draw's
    nearest one (0 the best; :func:`bayesff.inference.diagnostics.diagnose`
    checks how well the chains estimate the modes' shares).
``observed_data``, ``log_likelihood``, ``posterior_predictive``, ``prior_predictive``,
``constant_data``
    training rows of each target: ``<target>`` (observed, pointwise
    log-likelihood, replicated), ``<target>_model`` (the model mean f), and in
    ``constant_data`` ``<target>_u`` (standard uncertainty) and
    ``<target>_floor`` (forward-model error floor).
``predictions``, ``predictions_constant_data``
    held-out rows: ``<target>``, ``<target>_model``, ``<target>_log_likelihood``
    (the model's log density of each held-out observation at each draw; one per
    curve for a correlated target); ``<target>_observed``,
    ``<target>_u``, ``<target>_floor``; the held-out group of each row is the
    coordinate ``<target>_group``.
``candidates``
    the bare forward model at named parameter sets, every row of every target.
``targets/<target>``
    one node per target whose attributes describe it (observable, unit,
    inadequacy, tolerance, environment columns and units, data provenance).

Dimensions and coordinates
--------------------------
A target's rows lie along one dimension, named after the environment column
that varies along it (``T``, ``q``, ``rho``...), or after the observable's row
label (``config``), else ``environment``; a name another target of the same group
uses with other values gets the target's name appended (``T_p``). Every
environment column is a coordinate ``<target>_<short name>`` along it
(``B2_T``, ``S_q_rho``), with its unit. Vector rows add the observable's
value dimensions (``atom``, ``xyz``).

Attributes
----------
The root carries ``bayesff_runfile_version`` (:data:`VERSION`; a reader
refuses a newer one), the problem's name, text, path and fingerprint, the
potential's name and source, sampler settings, seed, device, the number of
devices the chains were split over (``chain_devices``), host, times, float64,
and ``version_<package>`` for every package that shaped the run.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NamedTuple

import dask
import jax
import numpy as np
import xarray as xr

from bayesff import sites
from bayesff.errors import BayesffError, RunExistsError
from bayesff.io import atomic_write_bytes, not_a_file
from bayesff.potentials import get_potential
from bayesff.schemas import parse_toml
from bayesff.units import INTERNAL_UNITS, from_internal, to_internal

__all__ = [
    "VERSION",
    "DamagedRunFileError",
    "Rows",
    "RunContent",
    "RunFileError",
    "TargetInfo",
    "build",
    "candidate_rows",
    "check_version",
    "info",
    "latent_units",
    "latents",
    "parameter_names",
    "read",
    "read_attrs",
    "replaceable",
    "rows",
    "sampler_stats",
    "short_name",
    "targets",
    "versions",
    "write",
]

#: The netCDF engine of every run file written and read (one place, so that none differs)
_ENGINE = "netcdf4"

#: Schema version written to ``bayesff_runfile_version``; bump on incompatible changes.
VERSION = 1
_PACKAGES = (
    "bayesff",
    "jax",
    "jaxlib",
    "numpyro",
    "arviz",
    "xarray",
    "numpy",
    "scipy",
    "netCDF4",
)


class RunFileError(BayesffError):
    """A run file is missing, unreadable, of another schema version, or malformed."""


class DamagedRunFileError(RunFileError):
    """An HDF5 file that cannot be read (truncated or damaged): ``--force`` may replace it."""


# ------------------------------------------------------------------------------ names


def short_name(column: str) -> str:
    """Short name of an environment column: the part before the unit (``T_K`` -> ``T``)."""
    return column.split("_")[0] if "_" in column else column


def _model(t: str) -> str:
    return sites.mean(t)


def _env_coord(t: str, column: str) -> str:
    return f"{t}_{short_name(column)}"


def _heldout_ll(t: str) -> str:
    return f"{t}_log_likelihood"


def _group_coord(t: str) -> str:
    return f"{t}_group"


# ------------------------------------------------------------------------------ writing


@dataclass
class _Claims:
    """Dimension names taken in one group, with their coordinate values."""

    taken: dict

    def claim(self, name: str, t: str, values) -> str:
        v = None if values is None else np.asarray(values)
        if name in self.taken:
            old = self.taken[name]
            same = (
                old is not None
                and v is not None
                and old.shape == v.shape
                and np.array_equal(old, v)
            )
            if not same:
                name = f"{name}_{t}"
        self.taken[name] = v
        return name


def _row_dim(t, idx: np.ndarray, claims: _Claims) -> tuple[str, np.ndarray | None]:
    """Name and index values of target ``t``'s row dimension for rows ``idx``."""
    obs = t.observable
    if t.labels is not None:
        return claims.claim(obs.row_dim or "row", t.name, t.labels[idx]), t.labels[idx]
    varying = [
        c for c in obs.env_columns if np.ndim(t.env[c]) == 1 and np.unique(t.env[c][idx]).size > 1
    ]
    if len(varying) == 1:
        v = t.env_display(varying[0])[idx]
        if np.unique(v).size == v.size:
            return claims.claim(short_name(varying[0]), t.name, v), v
    if idx.size == 1 and len(varying) == 0:
        c = obs.env_columns[0]
        if np.ndim(t.env[c]) == 1:
            v = t.env_display(c)[idx]
            return claims.claim(short_name(c), t.name, v), v
    return claims.claim(obs.row_dim or "environment", t.name, np.arange(idx.size)), None


def _coords(t, idx: np.ndarray, dim: str, index) -> dict:
    """Coordinates of target ``t``'s rows ``idx`` along ``dim`` (file units, with units)."""

    coords = {}
    if index is not None:
        coords[dim] = index
    else:
        coords[dim] = np.arange(idx.size)

    dims = {f.column: f.dimension for f in t.observable.env}
    for c in t.observable.env_columns:
        if np.ndim(t.env[c]) != 1:
            continue
        unit = t.file_units.get(c) or INTERNAL_UNITS[dims[c]]
        coords[_env_coord(t.name, c)] = xr.Variable(
            (dim,), t.env_display(c)[idx], attrs={"units": unit}
        )
    return coords


def _value_dims(t, dim: str, claims: _Claims) -> tuple[str, ...]:
    dims = [dim]
    for name, size in zip(t.observable.value_dims, t.value_shape, strict=False):
        dims.append(claims.claim(name, t.name, np.arange(size)))
    return tuple(dims)


def _array(values, dims, coords, unit=None):

    da = xr.DataArray(np.asarray(values), dims=dims, coords=coords)
    if unit is not None:
        da.attrs["units"] = unit
    return da


def latent_units(problem, structure) -> dict[str, str]:
    """Unit of every latent site: parameters in the problem's units, inadequacy terms."""
    out = {n: problem.parameters[n].unit for n in structure.free}
    roles = structure.site_roles()
    for q in structure.pooled if structure.spread else ():
        out[sites.omega(q, sites.POOLED)] = "1 (log-deviation)"
        out[sites.group_value(q)] = problem.parameters[q].unit
    for q in structure.trend:
        out[sites.slope(q)] = "1 (log-change per unit of the covariate)"
    for t in problem.targets:
        scale_unit = {"relative": "1", "log": "1 (sd of ln)"}.get(
            t.inadequacy.form, t.observable.unit
        )
        unit_of_role = {
            "tau": scale_unit,
            "alpha": scale_unit,
            "omega": "1",
            "eta": "1 (log-deviation)",
            "length": "scaled coordinate (range = 2)",
            "beta": "1",
            "delta_amplitude": t.observable.unit,
            "delta_length": "scaled coordinate (range 1)",
        }
        for n, (target, role) in roles.items():
            if target == t.name and role in unit_of_role:
                out[n] = unit_of_role[role]
        for nu in t.nuisance.values():
            out[sites.nuisance(nu.name, t.name)] = nu.unit
    return out


def _latent_dataset(draws: dict, names, units: dict, roles: dict):
    """posterior / prior / log_prior: arrays (chain, draw, ...) with named vector dims
    (``roles``: site -> (target, role), :meth:`bayesff.model.Structure.site_roles`)."""

    ds = xr.Dataset()
    for n in names:
        v = np.asarray(draws[n])
        extra = []
        for i in range(v.ndim - 2):
            target, role = roles.get(n, (n, ""))
            tn = target
            kind = {"eta": "band", "beta": "basis"}.get(role, "dim")
            if role == "group_value":
                kind = "group"  # one value per trained group of targets
            extra.append(f"{kind}_{tn}" if i == 0 else f"{kind}{i}_{tn}")
        ds[n] = xr.DataArray(v, dims=("chain", "draw", *extra))
        if units.get(n):
            ds[n].attrs["units"] = units[n]
    return ds.assign_coords(chain=np.arange(ds.sizes["chain"]), draw=np.arange(ds.sizes["draw"]))


def _pooling_coords(structure) -> dict:
    """The pooling's trained groups on its ``group_pooled`` dim (none without pooling)."""
    if not (structure.pooled and structure.spread):
        return {}
    return {f"group_{sites.POOLED}": list(structure.groups)}


#: sample_stats variable -> (the sampler's statistic it holds, dtype); ``lp`` is
#: minus the sampler's ``potential_energy`` and ``tree_depth`` is derived from ``n_steps``.
_STATS = {
    "diverging": ("diverging", bool),
    "energy": ("energy", float),
    "n_steps": ("num_steps", int),
    "acceptance_rate": ("accept_prob", float),
    "step_size": ("step_size", float),
}


def _stats_dataset(stats: dict):

    cd = ("chain", "draw")
    data = {k: (cd, np.asarray(stats[name]).astype(kind)) for k, (name, kind) in _STATS.items()}
    steps = np.asarray(stats["num_steps"])
    data["tree_depth"] = (cd, np.floor(np.log2(steps + 1)).astype(int))
    data["lp"] = (cd, -np.asarray(stats["potential_energy"], float))
    order = _STATS_ORDER
    # -1 throughout: a problem batched with others that had several modes, itself one
    if sites.LAPLACE_MODE in stats and np.any(np.asarray(stats[sites.LAPLACE_MODE]) >= 0):
        data[sites.LAPLACE_MODE] = (cd, np.asarray(stats[sites.LAPLACE_MODE]).astype(np.int8))
        order = (*order, sites.LAPLACE_MODE)
    ds = xr.Dataset({k: data[k] for k in order})
    return ds.assign_coords(chain=np.arange(ds.sizes["chain"]), draw=np.arange(ds.sizes["draw"]))


_STATS_ORDER = (
    "diverging", "energy", "n_steps", "tree_depth", "acceptance_rate", "lp", "step_size"
)  # fmt: skip


def sampler_stats(dt) -> dict:
    """A run's sample statistics under the sampler's names (the inverse of what the run
    file stores): site -> (chain, draw) array, as :func:`build` was given them."""
    st = dt["sample_stats"]
    out = {name: np.asarray(st[k].values) for k, (name, _) in _STATS.items()}
    out["potential_energy"] = -np.asarray(st["lp"].values)
    if sites.LAPLACE_MODE in st:
        out[sites.LAPLACE_MODE] = np.asarray(st[sites.LAPLACE_MODE].values)
    return out


def _target_groups(problem, out: RunContent):
    """Observed, predictive, log-likelihood and held-out variables of every target."""
    pp, ll, prior_pp, pred = out.pp, out.ll, out.prior_pp, out.pred

    g = {k: {} for k in ("obs", "const", "pp", "ll", "prior_pp", "pred", "pconst")}
    claims_tr, claims_ho = _Claims({}), _Claims({})
    cd = {"chain": np.arange(out.chains), "draw": np.arange(out.draws)}
    pc = {"chain": [0], "draw": np.arange(out.prior_draws)}
    for t in problem.targets:
        unit = t.observable.unit
        tr = np.flatnonzero(t.train)
        if tr.size:
            dim, index = _row_dim(t, tr, claims_tr)
            dims = _value_dims(t, dim, claims_tr)
            co = _coords(t, tr, dim, index)
            g["obs"][t.name] = _array(t.values[tr], dims, co, unit)
            g["const"][f"{t.name}_u"] = _array(t.uncertainties[tr], dims, co, unit)
            g["const"][f"{t.name}_floor"] = _array(t.floor[tr], (dim,), co, unit)
            _env_arrays(t, tr, dim, co, g["const"], claims_tr)
            full = ("chain", "draw", *dims)
            g["pp"][t.name] = _array(pp[t.name], full, {**cd, **co}, unit)
            g["pp"][_model(t.name)] = _array(pp[_model(t.name)], full, {**cd, **co}, unit)
            if t.error_model.correlated:  # one observation per curve
                g["ll"][t.name] = _array(ll[t.name], ("chain", "draw", f"curve_{t.name}"), cd)
            else:
                g["ll"][t.name] = _array(ll[t.name], ("chain", "draw", dim), {**cd, **co})
            g["prior_pp"][t.name] = _array(prior_pp[t.name], full, {**pc, **co}, unit)
            g["prior_pp"][_model(t.name)] = _array(
                prior_pp[_model(t.name)], full, {**pc, **co}, unit
            )
        ho = np.flatnonzero(t.holdout_mask())
        if ho.size:
            dim, index = _row_dim(t, ho, claims_ho)
            dims = _value_dims(t, dim, claims_ho)
            co = _coords(t, ho, dim, index)
            co[_group_coord(t.name)] = xr.Variable((dim,), t.holdout_labels()[ho])
            full = ("chain", "draw", *dims)
            g["pred"][t.name] = _array(pred[t.name], full, {**cd, **co}, unit)
            g["pred"][_model(t.name)] = _array(pred[_model(t.name)], full, {**cd, **co}, unit)
            if t.name in out.pred_ll:
                if t.error_model.correlated:  # one observation per curve
                    ll_dims, ll_coords = ("chain", "draw", f"curve_{t.name}"), cd
                else:
                    ll_dims, ll_coords = ("chain", "draw", dim), {**cd, **co}
                g["pred"][_heldout_ll(t.name)] = _array(out.pred_ll[t.name], ll_dims, ll_coords)
            g["pconst"][f"{t.name}_observed"] = _array(t.values[ho], dims, co, unit)
            g["pconst"][f"{t.name}_u"] = _array(t.uncertainties[ho], dims, co, unit)
            g["pconst"][f"{t.name}_floor"] = _array(t.floor[ho], (dim,), co, unit)
            _env_arrays(t, ho, dim, co, g["pconst"], claims_ho)
    return g


def _env_arrays(t, idx, dim, coords, into: dict, claims: _Claims) -> None:
    """Environment columns that are arrays per row (positions (N, 3)) as data variables."""
    for c in t.observable.env_columns:
        v = np.asarray(t.env[c])
        if v.ndim > 1:
            names = ("atom", "xyz") if v.ndim == 3 and v.shape[-1] == 3 else ()
            names = names or tuple(f"{short_name(c)}_dim{i}" for i in range(1, v.ndim))
            dims = (
                dim,
                *(
                    claims.claim(n, t.name, np.arange(k))
                    for n, k in zip(names, v.shape[1:], strict=True)
                ),
            )
            into[f"{t.name}_{short_name(c)}"] = _array(
                v[idx], dims, {dim: coords[dim]}, t.file_units.get(c)
            )


def _candidates(problem, cand: dict):
    """The ``candidates`` group: bare forward model at named parameter sets, all rows."""

    if not cand:
        return None
    names = [c["name"] for c in problem.candidates]
    ds = xr.Dataset()
    claims = _Claims({})
    for t in problem.targets:
        idx = np.arange(t.n)
        dim, index = _row_dim(t, idx, claims)
        dims = _value_dims(t, dim, claims)
        co = _coords(t, idx, dim, index)
        co[_group_coord(t.name)] = xr.Variable((dim,), t.holdout_labels())
        ds[t.name] = _array(
            np.stack([cand[n][t.name] for n in names]),
            ("candidate", *dims),
            {"candidate": names, **co},
            t.observable.unit,
        )
        ds[f"{t.name}_observed"] = _array(t.values, dims, co, t.observable.unit)
    for p in problem.parameters:
        ds[f"parameter_{p}"] = xr.DataArray(
            [float(c["values"].get(p, np.nan)) for c in problem.candidates],
            dims=("candidate",),
            attrs={"units": problem.parameters[p].unit},
        )
    return ds


def _target_attrs(problem, t) -> dict:
    inad = t.inadequacy
    tol = problem.tolerance.get(t.name, {})
    a = {
        "observable": t.observable.name,
        "units": t.observable.unit,
        "inadequacy": inad.kind,
        "inadequacy_form": inad.form,
        "inadequacy_prior_scale": float(inad.prior_scale),
        # the trained targets whose tau its held-out rows borrow ([pooling])
        "inadequacy_borrowed": list(problem.borrowed_inadequacy(t)) or [""],
        # the name of its shared scale (variable tau_<name>), "" its own
        "inadequacy_shared": inad.shared or "",
        "tolerance_rel": float(tol.get("rel", math.nan)),
        "tolerance_abs": float(tol.get("abs", math.nan)),
        "env_columns": list(t.observable.env_columns),
        "env_units": [t.file_units.get(c, "") for c in t.observable.env_columns],
        "value_dims": list(t.observable.value_dims),
        "trained": int(t.train.any()),
        "n_rows": int(t.n),
        "n_train": int(t.train.sum()),
        "holdout_groups": list(t.holdout),
        "error_model": t.error_model.kind,
        "excluded_rows": int(t.excluded_mask().sum()),
        "excluded_lines": [str(x) for x in t.file_excluded] or [""],
        "options": ", ".join(f"{k}={v}" for k, v in sorted(t.options.items())),
        "data_path": t.data_path or "",
    }
    if t.provenance is not None:
        p = t.provenance.as_dict()
        for k in ("kind", "title", "source", "licence", "script", "sha256", "uncertainty"):
            a[f"data_{k}"] = str(p.get(k, ""))
    return a


def _versions() -> dict[str, str]:
    """Package -> installed version of every package that shapes a run."""
    return dict(_installed_versions())


@functools.cache  # installed versions do not change in a process; ~0.05 s per run file
def _installed_versions() -> tuple[tuple[str, str], ...]:
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "not installed"
    return tuple(out.items())


def text_sha256(text: str) -> str:
    """sha256 of a text's UTF-8 bytes (``problem_text_sha256``: the problem text as
    written, so that a reader can tell an edited text from the run's own)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_attrs(problem, settings: dict) -> dict:
    """Root attributes of a run (see the module docstring)."""

    src = problem.potential_source or {}
    dev = jax.devices()[0]
    a = {
        "bayesff_runfile_version": VERSION,
        "problem_name": problem.name,
        "problem_path": str(problem.path or ""),
        "problem_text": problem.document_text(),
        "problem_text_sha256": text_sha256(problem.document_text()),
        "problem_fingerprint": problem.fingerprint(),
        "potential_name": problem.potential.name,
        "potential_kind": str(src.get("kind", "")),
        "potential_module": str(src.get("module", "")),
        "potential_qualname": str(src.get("qualname", "")),
        "potential_version": str(src.get("version", "")),
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "host": platform.node(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "float64": int(bool(jax.config.jax_enable_x64)),
    }
    for k, v in settings.items():
        a[k] = v
    for k, v in _versions().items():
        a[f"version_{k}"] = v
    return a


class RunContent(NamedTuple):
    """The arrays of one run, as :func:`build` turns them into the run file's groups.

    Attributes
    ----------
    posterior, prior, log_prior
        Site -> (chain, draw, ...) draws in problem units (the prior has one chain).
    stats
        Sample statistics -> (chain, draw).
    pp, prior_pp
        Training rows: ``<target>`` replicated observations and its model mean
        (:func:`bayesff.sites.mean`) -> (chain, draw, rows, ...).
    ll
        Target -> pointwise log-likelihood of the training rows (chain, draw, rows),
        or (chain, draw, 1) for a correlated target.
    pred
        Held-out rows, as ``pp``.
    pred_ll
        Target -> log-likelihood of the held-out observations (the model's own at
        each draw), as ``ll``.
    candidates
        Candidate name -> target -> rows of the bare forward model, or None.
    chains, draws, prior_draws
        The counts.
    """

    posterior: dict
    prior: dict
    log_prior: dict
    stats: dict
    pp: dict
    ll: dict
    prior_pp: dict
    pred: dict
    pred_ll: dict
    candidates: dict | None
    chains: int
    draws: int
    prior_draws: int


def build(problem, structure, out: RunContent, settings: dict):
    """The DataTree of a run.

    Parameters
    ----------
    problem, structure
        The problem and its model structure.
    out
        The run's arrays (:class:`RunContent`, from :mod:`bayesff.inference`).
    settings
        Root attributes of the run (seed, chains, sampler, times...).
    """

    units = latent_units(problem, structure)
    names = structure.latent_names
    roles = structure.site_roles()
    g = _target_groups(problem, out)
    latent = {
        k: _latent_dataset(v, names, u, roles).assign_coords(_pooling_coords(structure))
        for k, v, u in (
            ("posterior", out.posterior, units),
            ("prior", out.prior, units),
            ("log_prior", out.log_prior, {}),
        )
    }
    groups = {
        **latent,
        "sample_stats": _stats_dataset(out.stats),
        "observed_data": xr.Dataset(g["obs"]),
        "constant_data": xr.Dataset(g["const"]),
        "posterior_predictive": xr.Dataset(g["pp"]),
        "log_likelihood": xr.Dataset(g["ll"]),
        "prior_predictive": xr.Dataset(g["prior_pp"]),
    }
    if g["pred"]:
        groups["predictions"] = xr.Dataset(g["pred"])
        groups["predictions_constant_data"] = xr.Dataset(g["pconst"])
    cand = _candidates(problem, out.candidates)
    if cand is not None:
        groups["candidates"] = cand
    for t in problem.targets:
        groups[f"targets/{t.name}"] = xr.Dataset(attrs=_target_attrs(problem, t))
    dt = xr.DataTree.from_dict(groups)
    dt.attrs.update(run_attrs(problem, settings))
    return dt


def write(dt, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a DataTree to netCDF atomically (temporary file, then rename).

    The temporary file is removed on any failure (a full disk included), so
    a failed write leaves the previous file, if any, untouched.

    Raises
    ------
    RunExistsError
        If ``path`` exists and ``force`` is false.
    RunFileError
        If the file cannot be written (naming it and the reason).
    """

    path = Path(path)
    if path.exists() and not force:
        raise RunExistsError(
            "a run file is already there; pass force=True (--force) to replace it", str(path)
        )
    # Serialised in memory first, then written by plain file I/O: HDF5 meeting a full
    # disk mid-write fails on close and then crashes the process when the half-closed
    # file is collected (a segfault, measured with h5py 3 on a full tmpfs), which left the
    # temporary file behind; a plain write fails with OSError and atomic_path removes it.
    # The synchronous scheduler: inside a Dask worker xarray would otherwise guard the
    # in-memory buffer with a distributed.Lock named after the BytesIO object, which the
    # scheduler does not know ("Semaphore or Lock ... not known"); nothing here is lazy.
    with dask.config.set(scheduler="synchronous"):
        data = dt.to_netcdf(engine=_ENGINE)
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        reason = " ".join(str(e.strerror or e).split())
        raise RunFileError(f"cannot write the run file: {reason}", str(path)) from None
    return path


# ------------------------------------------------------------------------------ reading


#: Run files read in this process, kept while unchanged on disk (key: path, mtime, size):
#: a sweep's summary, its atlas page and its resume check all read the same files, and
#: opening a many-group netCDF file costs ~0.3 s. Bounded by the files' total size.
_READ_CACHE: dict = {}
_READ_CACHE_BYTES = 256 * 2**20


def _checked_path(path) -> Path:
    path = Path(path)
    why = not_a_file(path)
    if why is not None:
        raise RunFileError(f"{why}, expected a run file (posterior.nc)", str(path))
    if not path.is_file():
        raise RunFileError("run file not found", str(path))
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic != b"\x89HDF\r\n\x1a\n":
        raise RunFileError(
            "not a run file: expected a netCDF-4/HDF5 file (posterior.nc written by bayesff)",
            str(path),
        )
    return path


def _damaged(path, e: Exception) -> DamagedRunFileError:
    what = " ".join(str(e).split())  # one line, whatever h5py says
    return DamagedRunFileError(
        f"cannot read the run file ({type(e).__name__}: {what}); it may be truncated or damaged",
        str(path),
    )


def read(path: str | os.PathLike):
    """Open a run file, checking that it is one and that its schema version is known.

    A file read before in this process and unchanged since (same modification
    time and size) is not read again: the call returns a shallow copy of the
    same tree (its arrays are shared: do not modify them in place).

    Raises
    ------
    RunFileError
        For a missing or unreadable file, a file that is not netCDF/HDF5, a
        file without ``bayesff_runfile_version``, or a newer schema version.
    """

    path = _checked_path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    hit = _READ_CACHE.pop(key, None)
    if hit is not None:
        _READ_CACHE[key] = hit  # most recently used last
        return hit.copy(deep=False)
    try:
        dt = xr.open_datatree(path, engine=_ENGINE)
        dt = dt.load()
    except Exception as e:  # netCDF4 and HDF5 raise several types for a damaged file
        raise _damaged(path, e) from None
    check_version(dt, str(path))
    _READ_CACHE[key] = dt
    while sum(k[2] for k in _READ_CACHE) > _READ_CACHE_BYTES and len(_READ_CACHE) > 1:
        del _READ_CACHE[next(iter(_READ_CACHE))]
    return dt.copy(deep=False)


def read_attrs(path: str | os.PathLike) -> dict:
    """The root attributes of a run file, without reading its groups (fast).

    Raises
    ------
    RunFileError
        As :func:`read`.
    """

    path = _checked_path(path)
    try:
        with xr.open_dataset(path, engine=_ENGINE) as ds:
            attrs = dict(ds.attrs)
    except Exception as e:
        raise _damaged(path, e) from None
    if "bayesff_runfile_version" not in attrs:
        raise RunFileError(
            "not a bayesff run file: the root attribute 'bayesff_runfile_version' is missing",
            str(path),
        )
    return attrs


def replaceable(path: str | os.PathLike) -> bool:
    """Whether ``--force`` may replace the file at ``path``: a bayesff run file, or an HDF5
    file named ``*.nc`` that cannot be read (a damaged one); not another program's
    readable netCDF, nor a file of another format (a problem file, a user's notes)."""
    path = Path(path)
    try:
        read_attrs(path)
    except DamagedRunFileError:
        return path.suffix == ".nc"
    except BayesffError:
        return False
    return True


def check_version(dt, where: str = "run file") -> None:
    """Refuse a run file without a schema version or with a newer one than this bayesff,
    or whose attributes do not hold what a writer puts there (:func:`check_attributes`)."""
    v = dt.attrs.get("bayesff_runfile_version")
    if v is None:
        raise RunFileError(
            "no bayesff_runfile_version attribute: not a bayesff run file, or one written "
            "before the schema was versioned (re-run bayesff calibrate)",
            where,
        )
    try:
        v = int(np.asarray(v).item())
    except (TypeError, ValueError):
        raise RunFileError(
            f"bayesff_runfile_version is {v!r}, expected an integer", where
        ) from None
    if v > VERSION:
        raise RunFileError(
            f"run-file schema version {v} is newer than this bayesff reads ({VERSION}); "
            "upgrade bayesff",
            where,
        )
    for g in ("posterior", "sample_stats"):
        if g not in dt.children:
            raise RunFileError(f"the group {g!r} is missing", where)
    check_attributes(dt, where)


#: Attributes that hold numbers (root, then ``targets/<name>``), where a writer puts them.
_INT_ATTRS = (
    "seed",
    "chains",
    "warmup",
    "samples",
    "thin",
    "prior_draws",
    "chain_devices",
    "max_tree_depth",
    "dense_mass",
    "adapt_mass",
    "batch_size",
    "float64",
    "temperatures",
)
_FLOAT_ATTRS = ("wall_time_s", "sampling_time_s", "target_accept", "max_temperature")
_TARGET_INT_ATTRS = ("trained", "n_rows", "n_train", "excluded_rows")
_TARGET_FLOAT_ATTRS = ("inadequacy_prior_scale", "tolerance_rel", "tolerance_abs")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_numbers(attrs, ints, floats, where: str) -> None:
    for kinds, names, what in (("iub", ints, "an integer"), ("iufb", floats, "a number")):
        for k in names:
            if k in attrs:
                a = np.asarray(attrs[k])
                if a.size != 1 or a.dtype.kind not in kinds:
                    raise RunFileError(
                        f"attribute {k!r} holds {_shown(attrs[k])}, expected {what}", where
                    )


def _shown(v) -> str:
    one = isinstance(v, (np.ndarray, np.generic)) and np.size(v) == 1
    text = repr(np.asarray(v).item() if one else v)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_parameter_units(dt, doc: dict, where: str) -> None:
    """Each sampled parameter's ``units`` is the unit its problem text gives it (reports
    print the draws in that unit: another would be shown without a word)."""
    post = dt["posterior"].data_vars if "posterior" in dt.children else {}
    params = doc.get("parameters", {})
    for n, spec in params.items() if isinstance(params, dict) else ():
        said = spec.get("unit") if isinstance(spec, dict) else None
        have = post[n].attrs.get("units") if n in post else None
        if said is not None and have is not None and str(have) != str(said):
            raise RunFileError(
                f"posterior/{n} is in {_shown(have)}, but the run's problem gives "
                f"{n} in {_shown(said)}",
                where,
            )


#: Data variables whose values a writer keeps finite (a suffix of ``<target>``):
#: standard uncertainties > 0, floors >= 0, held-out observations any finite number.
_VALUE_RULES = (("_u", "> 0", np.greater), ("_floor", ">= 0", np.greater_equal))


def _first_bad(values: np.ndarray, ok: np.ndarray) -> str:
    k = np.unravel_index(int(np.flatnonzero(~ok)[0]), values.shape)
    return f"{_shown(values[k])} at index {tuple(int(i) for i in k)} ({int((~ok).sum())} such)"


def _check_values(dt, where: str) -> None:
    """Refuse the data a run file carries where bayesff never writes it so: latent draws
    that are not finite, observations that are not finite, uncertainties that are not
    > 0, floors that are not >= 0. A report built on them would print NaN intervals or
    divide by zero without a word (tampered or damaged files; forward-model values may
    be NaN by design, a failed prediction, and are not checked)."""
    checks = []
    for group in ("posterior", "prior"):
        if group in dt.children:
            checks += [(group, v, None) for v in dt[group].data_vars]
    if "observed_data" in dt.children:
        checks += [("observed_data", v, None) for v in dt["observed_data"].data_vars]
    for group in ("constant_data", "predictions_constant_data"):
        if group not in dt.children:
            continue
        for v in dt[group].data_vars:
            rule = next((r for r in _VALUE_RULES if v.endswith(r[0])), None)
            if rule is not None or v.endswith("_observed"):
                checks.append((group, v, rule))
    for group, v, rule in checks:
        values = np.asarray(dt[group][v].values)
        if values.dtype.kind not in "iuf":
            continue
        ok = np.isfinite(values)
        if rule is not None:
            ok &= rule[2](np.where(ok, values, 0.0), 0.0)
        if not ok.all():
            expected = "finite" if rule is None else f"finite and {rule[1]}"
            raise RunFileError(
                f"{group}/{v} holds {_first_bad(values, ok)}, expected {expected} values "
                "(bayesff writes none else: a damaged or edited run file)",
                where,
            )


def check_attributes(dt, where: str = "run file") -> None:
    """Refuse attributes that do not hold what bayesff writes: numbers that are not
    numbers, a ``problem_text`` that is not TOML, ``parameters`` that are not posterior
    variables, column names that are not names, held-out groups without rows.

    A run file is data that may come from anyone: a malformed attribute is an error
    naming the file and the attribute, never a report built on what it happened to
    hold.

    Raises
    ------
    RunFileError
        Naming ``where`` (the file), the node and the attribute.
    """
    a = dt.attrs
    _check_numbers(a, _INT_ATTRS, _FLOAT_ATTRS, where)
    text = a.get("problem_text")
    if text is not None:
        if not isinstance(text, str):
            raise RunFileError(
                f"attribute 'problem_text' holds {_shown(text)}, expected text", where
            )
        try:  # parse_toml: tomllib's RecursionError and ValueError are "not TOML" too
            doc = parse_toml(text, where, RunFileError)
        except RunFileError as e:
            raise RunFileError(
                f"attribute 'problem_text' is not a TOML problem file ({e.message})", where
            ) from None
        _check_parameter_units(dt, doc, where)
        want = a.get("problem_text_sha256")  # runs written before 2026-11-28 have none
        if want is not None and str(want) != text_sha256(text):
            raise RunFileError(
                "attribute 'problem_text' is not the text the run was made from (its sha256 "
                "differs from 'problem_text_sha256'): the problem was edited in the run file; "
                "use the run as written, or calibrate the edited problem",
                where,
            )
    if "parameters" in a:
        post = dt["posterior"].data_vars
        for n in _strings(a["parameters"]):
            if n not in post:
                raise RunFileError(
                    f"attribute 'parameters' names {n!r}, which is not a variable of the "
                    f"posterior ({', '.join(sorted(post))})",
                    where,
                )
    _check_values(dt, where)
    if "targets" not in dt.children:
        return
    pred = dt["predictions"] if "predictions" in dt.children else None
    for name, node in dt["targets"].children.items():
        w = f"{where}: targets/{name}"
        ta = node.attrs
        _check_numbers(ta, _TARGET_INT_ATTRS, _TARGET_FLOAT_ATTRS, w)
        for k in ("tolerance_rel", "tolerance_abs"):  # NaN: no tolerance of that kind
            tol = float(np.asarray(ta[k]).item()) if k in ta else math.nan
            if not (math.isnan(tol) or (0.0 < tol < math.inf)):
                raise RunFileError(
                    f"attribute {k!r} holds {_shown(ta[k])}, expected a positive finite "
                    "number (or NaN for none)",
                    w,
                )
        for k in ("env_columns", "value_dims"):
            for c in _strings(ta.get(k)):
                if not _COLUMN.match(c):
                    raise RunFileError(
                        f"attribute {k!r} holds {_shown(c)}, expected column names", w
                    )
        coord = _group_coord(name)
        if pred is not None and coord in pred.coords:
            have = {str(g) for g in np.atleast_1d(pred.coords[coord].values)}
            for g in _strings(ta.get("holdout_groups")):
                if g not in have:
                    raise RunFileError(
                        f"attribute 'holdout_groups' names {_shown(g)}, which has no "
                        f"held-out rows (groups: {', '.join(sorted(have))})",
                        w,
                    )


@dataclass
class TargetInfo:
    """A target as a run file describes it (the attributes of ``targets/<name>``)."""

    name: str
    observable: str
    unit: str
    inadequacy: str
    inadequacy_form: str
    tolerance: dict
    env_columns: list
    env_units: list
    trained: bool
    holdout_groups: list
    attrs: dict
    value_dims: list = field(default_factory=list)
    n_rows: int = 0
    n_train: int = 0
    excluded_rows: int = 0
    excluded_lines: list = field(default_factory=list)
    data_path: str = ""
    options: str = ""

    @property
    def provenance(self) -> dict:
        """The data file's manifest entry as recorded (``kind``, ``title``, ``source``,
        ``licence``, ``script``, ``sha256``, ``uncertainty``); empty for arrays from Python."""
        return {
            k[len(_DATA_PREFIX) :]: str(v)
            for k, v in self.attrs.items()
            if k.startswith(_DATA_PREFIX) and k != "data_path" and str(v)
        }


_DATA_PREFIX = "data_"


def _strings(v) -> list[str]:
    return [str(x) for x in np.atleast_1d(v) if str(x)] if v is not None else []


def targets(dt) -> list[TargetInfo]:
    """The targets of a run, in problem order."""
    if "targets" not in dt.children:
        raise RunFileError("the group 'targets' is missing")
    out = []
    for name, node in dt["targets"].children.items():
        a = dict(node.attrs)
        tol = {
            k: float(a[f"tolerance_{k}"])
            for k in ("rel", "abs")
            if f"tolerance_{k}" in a and np.isfinite(float(a[f"tolerance_{k}"]))
        }
        out.append(
            TargetInfo(
                name=name,
                observable=str(a.get("observable", "")),
                unit=str(a.get("units", "")),
                inadequacy=str(a.get("inadequacy", "none")),
                inadequacy_form=str(a.get("inadequacy_form", "relative")),
                tolerance=tol,
                env_columns=[str(c) for c in np.atleast_1d(a.get("env_columns", []))],
                env_units=[str(c) for c in np.atleast_1d(a.get("env_units", []))],
                trained=bool(int(a.get("trained", 0))),
                holdout_groups=_strings(a.get("holdout_groups")),
                attrs=a,
                value_dims=_strings(a.get("value_dims")),
                n_rows=int(a.get("n_rows", 0)),
                n_train=int(a.get("n_train", 0)),
                excluded_rows=int(a.get("excluded_rows", 0)),
                excluded_lines=_strings(a.get("excluded_lines")),
                data_path=str(a.get("data_path", "")),
                options=str(a.get("options", "")),
            )
        )
    return out


@dataclass
class Rows:
    """One target's rows of one kind (training or held out), as arrays.

    Attributes
    ----------
    model
        Model means f, (chain, draw, n, *value shape).
    replicated
        Replicated observations (posterior predictive), same shape.
    observed, u, floor
        (n, *value shape) observations, standard uncertainties; (n,) floor.
    env
        Short environment name (``T``) -> (n,) values in file units.
    env_units
        Short name -> unit.
    group
        (n,) held-out group label ("" for training rows).
    dim
        Name of the row dimension.
    loglik
        Pointwise log-likelihood (chain, draw, n), or (chain, draw, 1) for a
        correlated target (one observation per curve): of the training rows, or of
        the held-out rows (the model's density of the held-out observations at each
        draw, -inf where the forward model failed); None where the run has none.
    index
        (n,) values of the row dimension's coordinate (environment values or
        row labels such as configuration ids).
    """

    model: np.ndarray
    replicated: np.ndarray
    observed: np.ndarray
    u: np.ndarray
    floor: np.ndarray
    env: dict
    env_units: dict
    group: np.ndarray
    dim: str
    loglik: np.ndarray | None = None
    index: np.ndarray | None = None


def _env_of(da, t: str, dt=None) -> tuple[dict, dict]:
    """Environment coordinates of target ``t`` on ``da``, by short name.

    Only the target's own environment columns (from ``targets/<t>``) are read,
    so a target named ``E`` does not pick up ``E_trimers_group``.
    """
    columns = None
    if dt is not None and "targets" in dt.children and t in dt["targets"].children:
        columns = _strings(dt["targets"][t].attrs.get("env_columns"))
    env, env_units = {}, {}
    for col in columns if columns is not None else []:
        c = da.coords.get(_env_coord(t, col))
        if c is not None and c.ndim == 1:
            env[short_name(col)] = np.asarray(c.values)
            env_units[short_name(col)] = str(c.attrs.get("units", ""))
    if columns is None:  # no target node: every coordinate with the target's prefix
        prefix = f"{t}_"
        for k, c in da.coords.items():
            if k.startswith(prefix) and k != _group_coord(t) and c.ndim == 1:
                env[k[len(prefix) :]] = np.asarray(c.values)
                env_units[k[len(prefix) :]] = str(c.attrs.get("units", ""))
    return env, env_units


def _index(da, dim: str) -> np.ndarray:
    return np.asarray(da[dim].values) if dim in da.coords else np.arange(da.sizes[dim])


def rows(dt, target: str, kind: str = "train") -> Rows | None:
    """Training (``kind="train"``) or held-out (``"holdout"``) rows of a target; None if none."""
    if kind == "train":
        pp = dt.get("posterior_predictive") if "posterior_predictive" in dt.children else None
        if pp is None or target not in pp.data_vars:
            return None
        rep = pp[target]
        dim = rep.dims[2]
        cd = dt["constant_data"]
        env, eu = _env_of(rep, target, dt)
        ll = dt["log_likelihood"][target] if "log_likelihood" in dt.children else None
        return Rows(
            model=np.asarray(pp[_model(target)].transpose("chain", "draw", dim, ...).values),
            replicated=np.asarray(rep.transpose("chain", "draw", dim, ...).values),
            observed=np.asarray(dt["observed_data"][target].values),
            u=np.asarray(cd[f"{target}_u"].values),
            floor=np.asarray(cd[f"{target}_floor"].values),
            env=env,
            env_units=eu,
            group=np.full(rep.sizes[dim], ""),
            dim=dim,
            loglik=None if ll is None else np.asarray(ll.transpose("chain", "draw", ...).values),
            index=_index(rep, dim),
        )
    if "predictions" not in dt.children or target not in dt["predictions"].data_vars:
        return None
    pr = dt["predictions"]
    pc = dt["predictions_constant_data"]
    rep = pr[target]
    dim = rep.dims[2]
    env, eu = _env_of(rep, target, dt)
    ll = pr[_heldout_ll(target)] if _heldout_ll(target) in pr.data_vars else None
    return Rows(
        model=np.asarray(pr[_model(target)].transpose("chain", "draw", dim, ...).values),
        replicated=np.asarray(rep.transpose("chain", "draw", dim, ...).values),
        observed=np.asarray(pc[f"{target}_observed"].values),
        u=np.asarray(pc[f"{target}_u"].values),
        floor=np.asarray(pc[f"{target}_floor"].values),
        env=env,
        env_units=eu,
        group=np.asarray(rep.coords[_group_coord(target)].values).astype(str),
        dim=dim,
        loglik=None if ll is None else np.asarray(ll.transpose("chain", "draw", ...).values),
        index=_index(rep, dim),
    )


def candidate_rows(dt, target: str):
    """The ``candidates`` group for one target, or None.

    A dict: ``names`` (candidate names), ``predicted`` (candidate, n, ...),
    ``observed`` (n, ...), ``group`` (n,) held-out group ("" for other rows),
    ``index`` (n,) row-dimension coordinate and ``dim`` its name, ``env`` and ``env_units`` (short
    name -> (n,) values in file units, unit), ``parameters`` (name -> (values
    per candidate, unit)).
    """
    if "candidates" not in dt.children or target not in dt["candidates"].data_vars:
        return None
    ds = dt["candidates"]
    da = ds[target]
    env, eu = _env_of(da, target, dt)
    return {
        "names": [str(n) for n in da.coords["candidate"].values],
        "predicted": np.asarray(da.values),
        "observed": np.asarray(ds[f"{target}_observed"].values),
        "group": np.asarray(da.coords[_group_coord(target)].values).astype(str),
        "index": _index(da, da.dims[1]),
        "dim": str(da.dims[1]),
        "env": env,
        "env_units": eu,
        "parameters": {
            k[len("parameter_") :]: (np.asarray(v.values), str(v.attrs.get("units", "")))
            for k, v in ds.data_vars.items()
            if k.startswith("parameter_")
        },
    }


def info(dt) -> dict:
    """The root attributes of a run (problem, potential, sampler, versions) as a dict."""
    return {
        k: (v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v) for k, v in dt.attrs.items()
    }


def parameter_names(dt) -> list[str]:
    """The potential's sampled parameters, in the potential's order."""
    names = dt.attrs.get("parameters")
    if names is None:
        raise RunFileError("the root attribute 'parameters' is missing")
    return [str(n) for n in np.atleast_1d(names)]


def latents(dt, which: str = "posterior"):
    """Draws of the latent sites (parameters in the problem's units, inadequacy and
    nuisance terms): ``which`` = ``"posterior"`` (chain, draw, ...) or ``"prior"``
    (one chain of prior draws). An ``xarray.Dataset`` with a ``units`` attribute
    on each variable, or None when the run has no such group."""
    if which not in ("posterior", "prior"):
        raise ValueError(f'which must be "posterior" or "prior", got {which!r}')
    if which not in dt.children:
        return None
    return dt[which].to_dataset()


def potential_kind(dt, where: str = "run file") -> str:
    """The ``[potential] kind`` of a run's problem text ("" when the run has none)."""
    text = str(dt.attrs.get("problem_text", ""))
    if not text:
        return ""
    return str(parse_toml(text, where).get("potential", {}).get("kind", ""))


def derived_parameters(dt, which: str = "posterior"):
    """Draws of the parameters of the potential's usual form that the sampled ones
    determine: ``epsilon`` of a ``mie_vdw`` or ``mie_chain_vdw`` run, epsilon_vdw /
    alpha(n, m) draw by draw (:class:`bayesff.potentials.DerivedParam`).

    Parameters
    ----------
    dt
        A run file (:func:`read`).
    which
        ``"posterior"`` or ``"prior"``, as :func:`latents`.

    Returns
    -------
    xarray.Dataset
        One variable per derived parameter, dims as the group's parameters, ``units``
        those of the parameter it rescales (as the problem gave it); empty when the
        potential derives none, or the run lacks the group or an input.
    """
    post = latents(dt, which)
    if post is None:
        return xr.Dataset()
    try:
        potential = get_potential(potential_kind(dt))
        doc = parse_toml(str(dt.attrs.get("problem_text", "")), "run file")
    except BayesffError:
        return xr.Dataset()
    values, units = {}, {}
    for name, spec in doc.get("parameters", {}).items():
        if isinstance(spec, dict) and isinstance(spec.get("value"), int | float):
            values[name], units[name] = float(spec["value"]), str(spec.get("unit", ""))
    for name in potential.param_names:
        if name in post.data_vars:
            values[name] = post[name].values
            units[name] = str(post[name].attrs.get("units", ""))
    out = xr.Dataset()
    dims = {p.name: p.dimension for p in potential.params}
    for d in getattr(potential, "derived", ()):
        # the draws' shape: unit_from's, or (a dimensional one) any sampled input's
        like = [n for n in (d.unit_from, *d.inputs) if n in post.data_vars][:1]
        if not like or (not d.dimension and like[0] != d.unit_from):
            continue
        if any(n not in values for n in d.inputs):
            continue
        if d.dimension:  # computed in internal units (Q of a 2CLJQ form sampled in ln Q*^2)
            args = [to_internal(values[n], units[n], dims[n]) for n in d.inputs]
            v, unit = from_internal(d.value(*args), d.unit, d.dimension), d.unit
        else:  # a dimensionless rescale of unit_from, in its unit
            v, unit = d.value(*(values[n] for n in d.inputs)), units[d.unit_from]
        v = np.broadcast_to(v, post[like[0]].shape)
        out[d.name] = xr.DataArray(np.asarray(v), dims=post[like[0]].dims)
        out[d.name].attrs["units"] = unit
        out[d.name].attrs["derived"] = d.description
    return out


def versions(dt) -> dict[str, str]:
    """Package -> version of every package that shaped the run (python included)."""
    prefix = "version_"
    return {k[len(prefix) :]: str(v) for k, v in dt.attrs.items() if k.startswith(prefix)}
