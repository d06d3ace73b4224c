"""Run NUTS on a problem and write the result as an ArviZ DataTree.

The run file (``runs/NAME/posterior.nc``) holds the groups ``posterior``,
``prior``, ``posterior_predictive``, ``prior_predictive``, ``observed_data``,
``log_likelihood``, ``sample_stats``, ``constant_data`` (training
environments), ``predictions`` and ``predictions_constant_data`` (held-out
environments), with named dimensions (``T`` for temperature) and attributes:
the problem file's text, package versions, seed, device and wall time. It is
written atomically (a temporary file renamed into place) and never replaces an
existing run unless ``force=True``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bayesff.errors import RunExistsError
from bayesff.problem import Problem

__all__ = [
    "Checkpoint",
    "Diagnostics",
    "LaplaceStart",
    "Run",
    "Sampler",
    "calibrate",
    "diagnose",
    "enable_compilation_cache",
    "format_summary",
    "init_to_central",
    "laplace_start",
    "write_datatree",
]

#: DESIGN.md section 7: diagnostics that gate a result.
RHAT_MAX = 1.01
ESS_BULK_MIN = 400
EBFMI_MIN = 0.3

_DIM_NAMES = {"T_K": "T", "rho_per_A3": "rho"}


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str:
    """Turn on JAX's persistent compilation cache.

    A cold ``bayesff calibrate`` spends most of its time compiling; the cache
    makes the next process start in a fraction of that. The directory is
    ``$BAYESFF_CACHE_DIR``, else ``~/.cache/bayesff/jax``.
    """
    import jax

    d = Path(path or os.environ.get("BAYESFF_CACHE_DIR") or Path.home() / ".cache/bayesff/jax")
    d.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(d))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(d)


@dataclass
class Diagnostics:
    """Convergence diagnostics and the warnings they raise (DESIGN.md section 7)."""

    rhat: dict[str, float]
    ess_bulk: dict[str, float]
    ess_tail: dict[str, float]
    divergences: int
    ebfmi: list[float]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings

    def as_dict(self) -> dict:
        return {
            "rhat": self.rhat,
            "ess_bulk": self.ess_bulk,
            "ess_tail": self.ess_tail,
            "divergences": self.divergences,
            "ebfmi": self.ebfmi,
            "warnings": self.warnings,
            "thresholds": {
                "rhat_max": RHAT_MAX,
                "ess_bulk_min": ESS_BULK_MIN,
                "ebfmi_min": EBFMI_MIN,
            },
        }


@dataclass
class Run:
    """Result of :func:`calibrate`."""

    datatree: object
    path: Path | None
    diagnostics: Diagnostics
    wall_time_s: float
    timings: dict[str, float]

    def summary(self) -> str:
        """The posterior summary table (see :func:`format_summary`)."""
        return format_summary(self.datatree, self.diagnostics)


def _target_dims(problem: Problem) -> dict[str, str]:
    dims, seen = {}, set()
    for t in problem.targets:
        cols = t.observable.env_columns
        d = _DIM_NAMES.get(cols[0], cols[0]) if len(cols) == 1 else "environment"
        if d in seen:
            d = f"{d}_{t.name}"
        seen.add(d)
        dims[t.name] = d
    return dims


def init_to_central(site=None, low: float = 0.25, high: float = 0.75):
    """numpyro init strategy: a random point in the central part of each prior.

    Each chain starts at the prior quantile ``q ~ Uniform(low, high)`` of every
    latent site (drawn with the chain's own key), so chains start dispersed,
    which makes R-hat meaningful, but never in the far tails (numpyro's
    default, uniform(-2, 2) in unconstrained space, puts epsilon/k near 1 K).
    Falls back to ``init_to_median`` for distributions without ``icdf``.
    """
    import jax
    from numpyro.infer.initialization import init_to_median

    if site is None:
        return functools.partial(init_to_central, low=low, high=high)
    if site["type"] == "sample" and not site["is_observed"] and not site["fn"].support.is_discrete:
        if site["value"] is not None:
            return site["value"]
        shape = site["kwargs"].get("sample_shape", ()) + site["fn"].shape()
        q = jax.random.uniform(site["kwargs"]["rng_key"], shape, minval=low, maxval=high)
        try:
            return site["fn"].icdf(q)
        except NotImplementedError:
            return init_to_median(site)
    return None


@dataclass
class LaplaceStart:
    """Result of :func:`laplace_start` (NumPyro's unconstrained space).

    Attributes
    ----------
    mode
        The posterior mode, constrained values (problem units).
    init_params
        Starting point of each chain: dict site -> array (chains, ...),
        unconstrained (no chain axis for one chain, as NumPyro expects).
    inverse_mass_matrix
        (D, D) inverse Hessian of the negative log density at the mode, over the
        ravelled sites in sorted-name order (NumPyro's ``dense_mass`` layout).
    evaluations
        Log-density evaluations used (optimiser, Hessian and start checks).
    """

    mode: dict
    init_params: dict
    inverse_mass_matrix: np.ndarray
    evaluations: int


def laplace_start(cp, data, key, chains: int, *, widen: float = 2.0) -> LaplaceStart:
    """Posterior mode and Laplace covariance: where chains start and warm-up's first metric.

    The negative log density (NumPyro's potential energy, in unconstrained
    space) is minimised with scipy's L-BFGS-B from the ``init_to_central``
    point; the Hessian at the mode comes from central differences of the
    gradient (the forward models' implicit-function gradients have no
    second derivatives), is symmetrised, and its eigenvalues are floored at
    1e-3 of the largest so that the inverse exists. Each chain starts at
    mode + ``widen`` x a draw from N(0, H^-1), or at the mode if that point
    has no finite density. Raises :class:`~bayesff.errors.BayesffError` if the
    optimiser ends at a point without a finite log density.
    """
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import constrain_fn, initialize_model
    from scipy.optimize import minimize

    from bayesff.errors import BayesffError

    k_start, k_draw = jax.random.split(key)
    info, pe_gen, _, _ = initialize_model(
        k_start, cp.model, model_args=(data,), dynamic_args=True, init_strategy=init_to_central
    )
    pe = pe_gen(data)
    x0, unravel = ravel_pytree(info[0])
    value_and_grad = jax.jit(jax.value_and_grad(lambda x: pe(unravel(x))))
    count = [0]

    def fun(x):
        count[0] += 1
        v, g = value_and_grad(jnp.asarray(x))
        v, g = float(v), np.asarray(g, dtype=float)
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            return 1e30, np.zeros_like(g)  # no density here: the line search backs off
        return v, g

    res = minimize(fun, np.asarray(x0, dtype=float), jac=True, method="L-BFGS-B")
    x_map = res.x
    if fun(x_map)[0] >= 1e30:
        raise BayesffError(
            "laplace start: the optimiser ended where the log density is not finite; "
            'use init = "central"',
            "[inference] init",
        )
    d = x_map.size
    h = 1e-4 * np.maximum(1.0, np.abs(x_map))
    hess = np.empty((d, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = h[i]
        hess[:, i] = (fun(x_map + e)[1] - fun(x_map - e)[1]) / (2.0 * h[i])
    hess = 0.5 * (hess + hess.T)
    w, v = np.linalg.eigh(hess)
    w = np.maximum(w, 1e-3 * max(float(w.max()), 1e-12))
    cov = (v / w) @ v.T
    chol = v / np.sqrt(w)  # cov = chol @ chol.T
    z = np.asarray(jax.random.normal(k_draw, (chains, d)))
    starts = x_map + widen * z @ chol.T
    for c in range(chains):
        if fun(starts[c])[0] >= 1e30:
            starts[c] = x_map
    # numpyro takes one chain's init_params without the chain axis
    starts = jnp.asarray(starts)
    init = unravel(starts[0]) if chains == 1 else jax.vmap(unravel)(starts)
    mode = constrain_fn(cp.model, (data,), {}, unravel(jnp.asarray(x_map)))
    mode = {k: np.asarray(v) for k, v in mode.items() if k in cp.latent_names}
    return LaplaceStart(mode, init, cov, count[0])


_EXTRA_FIELDS = (
    "diverging",
    "energy",
    "num_steps",
    "accept_prob",
    "potential_energy",
    "adapt_state.step_size",
)


class Sampler:
    """NUTS with vectorised chains, compiled once and re-usable on new data.

    The model takes its data as arguments (``jit_model_args``), so running the
    same sampler on other data of the same shape (synthetic data sets,
    checkpoint chunks) does not recompile.

    Parameters
    ----------
    cp
        The compiled problem (:func:`bayesff.model.build_model`).
    chains, warmup, samples
        Chains (vectorised on one device), warm-up and kept draws per chain.
    progress
        Show numpyro's progress bar.
    inverse_mass_matrix
        Initial inverse mass matrix over the ravelled unconstrained latent
        sites (sorted by name), e.g. from :func:`laplace_start`; default the
        identity.
    """

    def __init__(
        self,
        cp,
        *,
        chains: int,
        warmup: int,
        samples: int,
        progress: bool = False,
        inverse_mass_matrix=None,
    ):
        from numpyro.infer import MCMC, NUTS

        s = cp.problem.inference
        self.cp = cp
        self.chains, self.warmup, self.samples = chains, warmup, samples
        if inverse_mass_matrix is not None and not s.dense_mass:
            inverse_mass_matrix = np.diag(inverse_mass_matrix)
        self.kernel = NUTS(
            cp.model,
            target_accept_prob=s.target_accept,
            max_tree_depth=s.max_tree_depth,
            dense_mass=s.dense_mass,
            init_strategy=init_to_central,
            inverse_mass_matrix=inverse_mass_matrix,
        )
        self._mcmc_args = dict(
            num_chains=chains,
            chain_method="vectorized",
            progress_bar=progress,
            jit_model_args=True,
        )
        self.mcmc = MCMC(self.kernel, num_warmup=warmup, num_samples=samples, **self._mcmc_args)

    def run(
        self,
        key,
        data,
        *,
        checkpoint=None,
        checkpoint_every=0,
        resume=False,
        log=None,
        init_params=None,
    ):
        """Sample; return (draws, extra fields) as NumPy arrays grouped by chain.

        ``init_params``: unconstrained starting values, one per chain (leading
        axis), e.g. from :func:`laplace_start`; default the init strategy's.
        """
        if checkpoint is None:
            self.mcmc.run(key, data, extra_fields=_EXTRA_FIELDS, init_params=init_params)
            return self._collect(self.mcmc)
        return self._run_chunked(key, data, checkpoint, checkpoint_every, resume, log, init_params)

    @staticmethod
    def _collect(mcmc):
        post = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
        extra = {k: np.asarray(v) for k, v in mcmc.get_extra_fields(group_by_chain=True).items()}
        return post, extra

    def _run_chunked(self, key, data, ckpt, every, resume, log, init_params=None):
        import jax
        from numpyro.infer import MCMC

        log = log or (lambda *a, **k: None)
        every = every or self.samples
        chunk = min(every, self.samples)
        if self.samples % chunk:
            raise ValueError(
                f"samples ({self.samples}) must be a multiple of checkpoint_every ({chunk})"
            )
        if resume:
            state, post, extra = ckpt.load()
            log(f"resuming from {ckpt.path}: {_n_draws(post)} of {self.samples} draws done")
        else:
            self.mcmc.warmup(key, data, extra_fields=_EXTRA_FIELDS, init_params=init_params)
            state, post, extra = self.mcmc.post_warmup_state, {}, {}
            ckpt.save(state, post, extra)
            log(f"warm-up done; checkpoint {ckpt.path}")
        mcmc = MCMC(self.kernel, num_warmup=0, num_samples=chunk, **self._mcmc_args)
        while _n_draws(post) < self.samples:
            mcmc.post_warmup_state = state
            mcmc.run(state.rng_key, data, extra_fields=_EXTRA_FIELDS)
            p, e = self._collect(mcmc)
            post = {
                k: np.concatenate([post[k], v], axis=1) if k in post else v for k, v in p.items()
            }
            extra = {
                k: np.concatenate([extra[k], v], axis=1) if k in extra else v for k, v in e.items()
            }
            state = jax.tree.map(np.asarray, mcmc.last_state)
            ckpt.save(state, post, extra)
            log(f"{_n_draws(post)} of {self.samples} draws; checkpoint {ckpt.path}")
        return post, extra


def _n_draws(post: dict) -> int:
    return next(iter(post.values())).shape[1] if post else 0


class Checkpoint:
    """Sampler state and draws so far, saved atomically so a run can resume.

    The file records a fingerprint of the problem text and the sampler
    settings; resuming with anything different is an error, so draws from two
    different posteriors are never mixed.
    """

    def __init__(self, path, problem, chains, warmup, samples, seed):
        import hashlib

        self.path = Path(path)
        # everything that shapes the posterior: the problem text, the data as
        # loaded (values, uncertainties, splits) and every sampler setting
        data = [
            [
                t.values.tolist(),
                t.uncertainties.tolist(),
                t.train.tolist(),
                {g: m.tolist() for g, m in t.holdout.items()},
            ]
            for t in problem.targets
        ]
        self.fingerprint = hashlib.sha256(
            json.dumps(
                [
                    problem.source_text or problem.describe(),
                    data,
                    repr(problem.inference),
                    chains,
                    warmup,
                    samples,
                    seed,
                ]
            ).encode()
        ).hexdigest()

    def save(self, state, post, extra) -> None:
        import pickle

        import jax

        payload = {
            "fingerprint": self.fingerprint,
            "state": jax.tree.map(np.asarray, state),
            "post": post,
            "extra": extra,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(payload, fh)
        os.replace(tmp, self.path)

    def load(self):
        import pickle

        from bayesff.errors import BayesffError

        if not self.path.is_file():
            raise BayesffError("no checkpoint to resume from", str(self.path))
        with self.path.open("rb") as fh:
            payload = pickle.load(fh)
        if payload.get("fingerprint") != self.fingerprint:
            raise BayesffError(
                "the checkpoint was written for a different problem text or sampler settings "
                "(chains, warm-up, draws, seed); run without --resume to start again",
                str(self.path),
            )
        return payload["state"], payload["post"], payload["extra"]

    def remove(self) -> None:
        if self.path.exists():
            self.path.unlink()


def calibrate(
    problem: Problem,
    *,
    out: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool | None = None,
    chains: int | None = None,
    warmup: int | None = None,
    samples: int | None = None,
    seed: int | None = None,
    write: bool = True,
    checkpoint_every: int = 0,
    resume: bool = False,
    log=print,
) -> Run:
    """Calibrate a problem with NUTS and write the run file.

    Parameters
    ----------
    problem
        A validated problem.
    out
        Run file path; default ``runs/<problem.name>/posterior.nc``.
    force
        Replace an existing run file. Without it an existing file is an error,
        raised before any work.
    progress
        Show a progress bar (default: when stderr is a terminal).
    chains, warmup, samples, seed
        Override the problem's inference settings.
    write
        Write the run file (``False`` for in-memory use, e.g. tests).
    checkpoint_every
        Save the sampler state and the draws so far every this many draws
        (per chain) to ``checkpoint.pkl`` beside the run file; 0 = never.
        Costs one extra compilation, so it is meant for long runs.
    resume
        Continue from that checkpoint (same problem text and settings, else an
        error) instead of starting again.
    log
        Where one-line messages go (``None`` for silence).

    Returns
    -------
    Run
        The DataTree, the path written, diagnostics and timings.
    """
    t_start = time.perf_counter()
    s = problem.inference
    chains = chains or s.chains
    warmup = warmup or s.warmup
    samples = samples or s.samples
    seed = s.seed if seed is None else seed
    path = Path(out) if out is not None else Path("runs") / problem.name / "posterior.nc"
    if write and path.exists() and not force:
        raise RunExistsError(
            "a run file is already there; pass --force (force=True) to replace it, or --out "
            "to write elsewhere",
            str(path),
        )
    log = log or (lambda *a, **k: None)
    progress = sys.stderr.isatty() if progress is None else progress

    import jax

    from bayesff.model import build_model

    enable_compilation_cache()
    cp = build_model(problem)
    data = cp.data("train")
    key = jax.random.PRNGKey(seed)
    k_mcmc, k_prior, k_pp = jax.random.split(key, 3)
    # a separate stream for the Laplace start: the other keys (and so the draws of
    # problems with init = "central") are unchanged by its existence
    k_init = jax.random.fold_in(key, 7)
    init_params = inverse_mass = None
    start = None
    if s.init == "laplace" and not resume:
        t0 = time.perf_counter()
        start = laplace_start(cp, data, k_init, chains)
        init_params, inverse_mass = start.init_params, start.inverse_mass_matrix
        log(
            f"laplace start: mode found in {start.evaluations} evaluations, "
            f"{time.perf_counter() - t0:.1f} s; "
            + ", ".join(f"{k} = {v:.4g}" for k, v in _scalar_mode(start).items())
        )
    sampler = Sampler(
        cp,
        chains=chains,
        warmup=warmup,
        samples=samples,
        progress=progress,
        inverse_mass_matrix=inverse_mass,
    )
    ckpt = None
    if checkpoint_every or resume:
        ckpt = Checkpoint(path.with_name("checkpoint.pkl"), problem, chains, warmup, samples, seed)
    log(f"sampling {problem.name}: NUTS, {chains} chains x ({warmup} warm-up + {samples} draws)")
    t0 = time.perf_counter()
    post, extra = sampler.run(
        k_mcmc,
        data,
        checkpoint=ckpt,
        checkpoint_every=checkpoint_every,
        resume=resume,
        log=log,
        init_params=init_params,
    )
    t_sample = time.perf_counter() - t0
    if s.thin > 1:
        # every thin-th draw of each chain: arrays are (chain, draw, ...)
        post = {k: v[:, :: s.thin] for k, v in post.items()}
        extra = {k: v[:, :: s.thin] for k, v in extra.items()}

    t0 = time.perf_counter()
    dt = _assemble(cp, post, extra, k_prior, k_pp)
    t_post = time.perf_counter() - t0
    diag = diagnose(dt)
    wall = time.perf_counter() - t_start
    dev = jax.devices()[0]
    dt.attrs.update(
        {
            "problem_name": problem.name,
            "problem_path": str(problem.path or ""),
            "problem_text": problem.source_text,
            "package_versions": json.dumps(_versions()),
            "seed": int(seed),
            "chains": int(chains),
            "warmup": int(warmup),
            "samples": int(samples),
            "thin": int(s.thin),
            "init": s.init,
            "init_mode": json.dumps(_scalar_mode(start)),
            "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
            "host": platform.node(),
            "wall_time_s": float(wall),
            "sampling_time_s": float(t_sample),
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "diagnostics": json.dumps(diag.as_dict()),
            "data_provenance": json.dumps(
                {
                    t.name: (t.provenance.as_dict() if t.provenance else None)
                    for t in problem.targets
                }
            ),
            "tolerance": json.dumps(problem.tolerance),
            "targets": json.dumps(_target_info(problem)),
            "candidates": json.dumps(_candidate_predictions(cp)),
            "float64": int(jax.config.jax_enable_x64),
        }
    )
    written = None
    if write:
        write_datatree(dt, path, force=force)
        written = path
    if ckpt is not None:
        ckpt.remove()
    return Run(dt, written, diag, wall, {"sampling_s": t_sample, "postprocess_s": t_post})


def _scalar_mode(start) -> dict:
    """The scalar sites of a Laplace start's mode (empty without one), for the run file."""
    if start is None:
        return {}
    return {k: float(v) for k, v in start.mode.items() if np.ndim(v) == 0}


def _candidate_predictions(cp) -> list[dict]:
    """Bare forward-model predictions of the problem's candidate parameter sets.

    Every row of every target, with its observed value, environment (file
    units), and held-out group ("" for training rows), for the deterministic
    transferability rule.
    """
    problem = cp.problem
    out = []
    for c in problem.candidates:
        latent = {n: float(c["values"][n]) for n in cp.free}
        params = cp.to_params(latent)
        for n, v in c["values"].items():  # fixed parameters may be overridden too
            if n not in cp.free:
                params[n] = problem.to_internal(n, float(v))
        targets = {}
        for k, t in enumerate(problem.targets):
            env = {col: np.asarray(t.env[col]) for col in t.observable.env_columns}
            f = np.asarray(cp.predicts[k](params, env))
            group = np.full(t.n, "", dtype=object)
            for g, m in t.holdout.items():
                group[m] = g
            targets[t.name] = {
                "env": {col: t.env_display(col).tolist() for col in t.observable.env_columns},
                "observed": t.values.tolist(),
                "predicted": f.tolist(),
                "group": [str(g) for g in group],
            }
        out.append({"name": c["name"], "parameters": c["values"], "targets": targets})
    return out


def _target_info(problem: Problem) -> dict:
    """What downstream tools (transferability, report) need to read a run file."""
    dims = _target_dims(problem)
    return {
        t.name: {
            "observable": t.observable.name,
            "unit": t.observable.unit,
            "dim": dims[t.name],
            "env_columns": list(t.observable.env_columns),
            "env_units": {c: t.file_units.get(c, "") for c in t.observable.env_columns},
            "inadequacy": {
                "kind": t.inadequacy.kind,
                "form": t.inadequacy.form,
                "prior_scale": t.inadequacy.prior_scale,
            },
            "trained": bool(t.train.any()),
            "holdout_groups": list(t.holdout),
            "data": t.data_path,
        }
        for t in problem.targets
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for p in (
        "bayesff",
        "jax",
        "jaxlib",
        "numpyro",
        "arviz",
        "xarray",
        "numpy",
        "scipy",
        "h5netcdf",
    ):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "not installed"
    return out


def _assemble(cp, post: dict, extra: dict, k_prior, k_pp):
    """Build the DataTree from posterior draws."""
    import jax
    import xarray as xr
    from numpyro.infer import Predictive

    from bayesff.model import noise_scale, predict_draws

    problem = cp.problem
    n_chain, n_draw = next(iter(post.values())).shape[:2]
    cd = {"chain": np.arange(n_chain), "draw": np.arange(n_draw)}
    dims = _target_dims(problem)

    posterior = xr.Dataset()
    for n in cp.latent_names:
        shape = post[n].shape[2:]
        extra_dims = tuple(f"{n}_dim_{i}" for i in range(len(shape)))
        posterior[n] = xr.DataArray(post[n], dims=("chain", "draw", *extra_dims))
    posterior = posterior.assign_coords(cd)
    for n in cp.free:
        posterior[n].attrs["units"] = problem.parameters[n].unit
    for t in problem.targets:
        unit = "1" if t.inadequacy.form == "relative" else t.observable.unit
        for n in cp.latent_names:
            if n.endswith(f"_{t.name}") and n.split("_")[0] in ("tau", "omega", "alpha"):
                posterior[n].attrs["units"] = "1" if n.startswith("omega") else unit
            if n == f"length_{t.name}":
                posterior[n].attrs["units"] = "scaled coordinate (range = 2)"

    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), extra["diverging"].astype(bool)),
            "energy": (("chain", "draw"), extra["energy"]),
            "n_steps": (("chain", "draw"), extra["num_steps"]),
            "tree_depth": (("chain", "draw"), np.log2(extra["num_steps"] + 1).astype(int)),
            "acceptance_rate": (("chain", "draw"), extra["accept_prob"]),
            "lp": (("chain", "draw"), -extra["potential_energy"]),
            "step_size": (("chain", "draw"), extra["adapt_state.step_size"]),
        },
        coords=cd,
    )

    groups = {"posterior": posterior, "sample_stats": stats}
    pp, ll, obs, const, preds, pconst = {}, {}, {}, {}, {}, {}
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_pp)).ravel()[-1])
    for k, t in enumerate(problem.targets):
        d = dims[t.name]
        rows = np.arange(t.n)
        mu_all = predict_draws(cp, post, k, rows, rng)  # (chain, draw, rows)
        tau = post[f"tau_{t.name}"][..., None] if f"tau_{t.name}" in post else None
        sig_all = np.broadcast_to(
            np.asarray(noise_scale(t, t.uncertainties, mu_all, tau)), mu_all.shape
        )
        y_rep = mu_all + sig_all * rng.standard_normal(mu_all.shape)
        tr = t.train
        if tr.any():
            coords_tr = _env_coords(t, tr, d)
            obs[t.name] = xr.DataArray(t.values[tr], dims=(d,), coords=coords_tr)
            const.update(_env_vars(t, tr, d, coords_tr))
            const[f"{t.name}_u"] = xr.DataArray(t.uncertainties[tr], dims=(d,), coords=coords_tr)
            pp[t.name] = xr.DataArray(
                y_rep[..., tr], dims=("chain", "draw", d), coords={**cd, **coords_tr}
            )
            pp[f"{t.name}_model"] = xr.DataArray(
                mu_all[..., tr], dims=("chain", "draw", d), coords={**cd, **coords_tr}
            )
            z = (t.values[tr] - mu_all[..., tr]) / sig_all[..., tr]
            ll[t.name] = xr.DataArray(
                -0.5 * z**2 - np.log(sig_all[..., tr]) - 0.5 * math.log(2 * math.pi),
                dims=("chain", "draw", d),
                coords={**cd, **coords_tr},
            )
            for v in (obs[t.name], pp[t.name], pp[f"{t.name}_model"]):
                v.attrs["units"] = t.observable.unit
        ho = np.zeros(t.n, bool)
        group = np.full(t.n, "", dtype=object)
        for g, m in t.holdout.items():
            ho |= m
            group[m] = g
        if ho.any():
            coords_ho = _env_coords(t, ho, d)
            # one coordinate name per dimension, so that targets never clash
            gname = "holdout_group" if d == "T" else f"holdout_group_{d}"
            coords_ho[gname] = (d, group[ho].astype(str))
            preds[t.name] = xr.DataArray(
                y_rep[..., ho], dims=("chain", "draw", d), coords={**cd, **coords_ho}
            )
            preds[f"{t.name}_model"] = xr.DataArray(
                mu_all[..., ho], dims=("chain", "draw", d), coords={**cd, **coords_ho}
            )
            for v in (preds[t.name], preds[f"{t.name}_model"]):
                v.attrs["units"] = t.observable.unit
            pconst.update(_env_vars(t, ho, d, coords_ho))
            pconst[f"{t.name}_observed"] = xr.DataArray(t.values[ho], dims=(d,), coords=coords_ho)
            pconst[f"{t.name}_u"] = xr.DataArray(t.uncertainties[ho], dims=(d,), coords=coords_ho)
            pconst[f"{t.name}_holdout_group"] = xr.DataArray(
                group[ho].astype(str), dims=(d,), coords=coords_ho
            )

    groups["posterior_predictive"] = xr.Dataset(pp)
    groups["log_likelihood"] = xr.Dataset(ll)
    groups["observed_data"] = xr.Dataset(obs)
    groups["constant_data"] = xr.Dataset(const)
    if preds:
        groups["predictions"] = xr.Dataset(preds)
        groups["predictions_constant_data"] = xr.Dataset(pconst)

    # Prior and prior predictive: the model with the observations left out.
    n_prior = problem.inference.prior_draws
    data_prior = cp.data("train", values=[None] * len(problem.targets))
    draws = Predictive(cp.model, num_samples=n_prior)(k_prior, data_prior)
    pc = {"chain": [0], "draw": np.arange(n_prior)}
    prior = xr.Dataset()
    for n in cp.latent_names:
        v = np.asarray(draws[n])[None]
        prior[n] = xr.DataArray(
            v, dims=("chain", "draw", *(f"{n}_dim_{i}" for i in range(v.ndim - 2)))
        )
    groups["prior"] = prior.assign_coords(pc)
    prior_pp = {}
    for t in problem.targets:
        if not t.train.any():
            continue
        d = dims[t.name]
        coords_tr = _env_coords(t, t.train, d)
        prior_pp[t.name] = xr.DataArray(
            np.asarray(draws[t.name])[None], dims=("chain", "draw", d), coords={**pc, **coords_tr}
        )
    groups["prior_predictive"] = xr.Dataset(prior_pp)
    return xr.DataTree.from_dict(groups)


def _env_coords(t, mask, d) -> dict:
    cols = t.observable.env_columns
    if len(cols) == 1:
        return {d: t.env_display(cols[0])[mask]}
    return {d: np.arange(int(mask.sum()))}


def _env_vars(t, mask, d, coords) -> dict:
    import xarray as xr

    out = {}
    for c in t.observable.env_columns:
        da = xr.DataArray(t.env_display(c)[mask], dims=(d,), coords=coords)
        da.attrs["units"] = t.file_units.get(c, "")
        out[f"{t.name}_{c}"] = da
    return out


def diagnose(dt) -> Diagnostics:
    """R-hat, bulk and tail ESS, divergences and E-BFMI, with warnings."""
    import arviz as az

    names = list(dt["posterior"].data_vars)
    rhat = az.rhat(dt, var_names=names)
    ess_b = az.ess(dt, var_names=names, method="bulk")
    ess_t = az.ess(dt, var_names=names, method="tail")
    # vector latents (hierarchical z, GP weights): the worst element counts
    r = {n: float(np.max(rhat[n].values)) for n in names}
    eb = {n: float(np.min(ess_b[n].values)) for n in names}
    et = {n: float(np.min(ess_t[n].values)) for n in names}
    div = int(dt["sample_stats"]["diverging"].values.sum())
    bfmi = [float(x) for x in np.atleast_1d(az.bfmi(dt)["energy"].values)]
    w = []
    bad_r = [f"{n} ({v:.3f})" for n, v in r.items() if not v <= RHAT_MAX]
    if bad_r:
        w.append(f"R-hat above {RHAT_MAX}: {', '.join(bad_r)}")
    bad_e = [f"{n} ({v:.0f})" for n, v in eb.items() if not v >= ESS_BULK_MIN]
    if bad_e:
        w.append(f"bulk ESS below {ESS_BULK_MIN}: {', '.join(bad_e)}")
    if div:
        w.append(f"{div} divergent transitions")
    low = [f"chain {i} ({b:.2f})" for i, b in enumerate(bfmi) if b < EBFMI_MIN]
    if low:
        w.append(f"E-BFMI below {EBFMI_MIN}: {', '.join(low)}")
    return Diagnostics(r, eb, et, div, bfmi, w)


def _fmt(x: float, sd: float) -> str:
    """Format to the precision the posterior spread supports (2 digits of sd)."""
    if not math.isfinite(x):
        return str(x)
    if sd > 0 and math.isfinite(sd):
        decimals = max(0, 1 - math.floor(math.log10(sd)))
        return f"{x:.{min(decimals, 8)}f}"
    return f"{x:.6g}"


def format_summary(dt, diag: Diagnostics | None = None) -> str:
    """Posterior table: mean, sd, 5/50/95 % quantiles (90 % equal-tailed), ESS, R-hat.

    bayesff formats its own table: arviz 1.x defaults to an 89 % interval and
    rounds narrow posteriors to equal bounds.
    """
    diag = diag or diagnose(dt)
    post = dt["posterior"]
    cols = ("mean", "sd", "5%", "50%", "95%")
    head = f"{'parameter':<12} {'unit':<9} " + " ".join(f"{c:>10}" for c in cols)
    head += f" {'ess_bulk':>8} {'ess_tail':>8} {'r_hat':>6}"
    lines = [head, "-" * len(head)]
    vector = [n for n in post.data_vars if post[n].ndim > 2]
    for n in post.data_vars:
        if n in vector:
            continue
        x = np.asarray(post[n].values).ravel()
        mean, sd = float(x.mean()), float(x.std(ddof=1))
        q5, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        unit = post[n].attrs.get("units", "")
        lines.append(
            f"{n:<12} {unit:<9} {_fmt(mean, sd):>10} {_fmt(sd, sd):>10} {_fmt(q5, sd):>10} "
            f"{_fmt(q50, sd):>10} {_fmt(q95, sd):>10} {diag.ess_bulk[n]:>8.0f} "
            f"{diag.ess_tail[n]:>8.0f} {diag.rhat[n]:>6.3f}"
        )
    if vector:
        lines.append(
            f"vector latents {', '.join(vector)}: worst R-hat "
            f"{max(diag.rhat[n] for n in vector):.3f}, min bulk ESS "
            f"{min(diag.ess_bulk[n] for n in vector):.0f}"
        )
    lines.append(
        f"divergences: {diag.divergences}; E-BFMI per chain: "
        + ", ".join(f"{b:.2f}" for b in diag.ebfmi)
    )
    if diag.warnings:
        lines += [f"WARNING: {w}" for w in diag.warnings]
    else:
        lines.append(
            f"diagnostics ok (R-hat <= {RHAT_MAX}, bulk ESS >= {ESS_BULK_MIN}, no divergences, "
            f"E-BFMI >= {EBFMI_MIN})"
        )
    return "\n".join(lines)


def write_datatree(dt, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a DataTree to netCDF atomically (temporary file, then rename).

    Raises
    ------
    RunExistsError
        If ``path`` exists and ``force`` is false.
    """
    path = Path(path)
    if path.exists() and not force:
        raise RunExistsError(
            "a run file is already there; pass force=True to replace it", str(path)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        dt.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
