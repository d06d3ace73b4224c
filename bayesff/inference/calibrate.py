"""Calibrate one problem or many: the single sampling path of bayesff.

:func:`calibrate` samples one problem's posterior; :func:`calibrate_many`
samples many, running problems of the same structure as one batched program
(ragged target arrays padded and masked). Both use the compiled kernels of
:mod:`bayesff.inference.kernels`, so a second problem of the same structure
in the same process compiles nothing, and :mod:`bayesff.inference.predictive`
for everything the run file holds besides the draws.

Flow of one batch: validate settings and outputs (before any tracing) ->
model data of every problem (padded) -> kernel (cache) -> chain starts ->
warm-up and sampling in blocks (progress, checkpoints, Ctrl-C) ->
constrained draws -> predictive quantities -> run file
(:func:`bayesff.runfile.build`) -> diagnostics -> atomic write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from bayesff import interrupts, runfile, sites
from bayesff.errors import (
    BayesffError,
    DiagnosticsError,
    Interrupted,
    ProblemError,
    RunExistsError,
)
from bayesff.inference.assemble import Drawn, assemble, forward_at
from bayesff.inference.cache import get_kernel
from bayesff.inference.diagnostics import Diagnostics, diagnose, format_summary
from bayesff.inference.kernels import SamplerSettings, latent_dim, ravel_chains, unravel_chains
from bayesff.inference.laplace import ModeMap, laplace_start
from bayesff.inference.predictive import get_postprocessor
from bayesff.inference.sampling import BatchCheckpoint, Draws, run_blocks, save_finished
from bayesff.inference.tempering import TemperedState, replica_steps, swap_acceptance
from bayesff.io import Lock, check_writable
from bayesff.model import ModelData, Structure, arrays, pad_arrays, structure_of
from bayesff.runtime import ensure_configured
from bayesff.settings import SAMPLERS, InferenceSettings

__all__ = [
    "Interrupted",
    "Run",
    "StartModes",
    "calibrate",
    "calibrate_many",
    "laplace_modes",
    "merge_row_counts",
    "row_counts",
]

#: Wall time one block of iterations aims at: the progress bar moves, Ctrl-C is
#: answered and checkpoints are written at this pace.
BLOCK_SECONDS = 1.0
#: Tries at finding chain starts with a finite log density and gradient.
START_TRIES = 100


@dataclass
class Run:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    datatree
        The run (ArviZ DataTree; schema in :mod:`bayesff.runfile`).
    path
        Where it was written, or ``None``.
    diagnostics
        R-hat, ESS, divergences, E-BFMI and their warnings.
    wall_time_s
        Wall time of the calibration (for a batch: of the whole batch).
    timings
        ``sampling_s``, ``postprocess_s``, ``batch_size``.
    """

    datatree: object
    path: Path | None
    diagnostics: Diagnostics
    wall_time_s: float
    timings: dict

    def summary(self) -> str:
        """The posterior summary table (see :func:`bayesff.inference.format_summary`)."""
        return format_summary(self.datatree, self.diagnostics)


# --------------------------------------------------------------------------- settings


def _positive_int(name: str, v, allow_zero: bool = False):
    if v is None:
        return None
    lo = 0 if allow_zero else 1
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ProblemError(
            f"{name} must be an integer >= {lo}, got {v!r}", f"--{name.replace('_', '-')}"
        )
    return int(v)


def _settings(problem, overrides: dict):
    """The problem's inference settings with the caller's overrides, validated."""

    ov = dict(overrides)
    for k in ("chains", "warmup", "samples", "thin", "prior_draws"):
        ov[k] = _positive_int(k, ov.get(k))
    ov["seed"] = _positive_int("seed", ov.get("seed"), allow_zero=True)
    if ov.get("sampler") is not None and ov["sampler"] not in SAMPLERS:
        raise ProblemError(
            f"sampler must be one of {', '.join(SAMPLERS)}, got {ov['sampler']!r}", "--sampler"
        )
    try:
        return problem.inference.replace(**ov)
    except ProblemError as e:
        raise ProblemError(e.message, "command-line or keyword settings") from None


def _kernel_settings(s):

    return SamplerSettings(
        chains=s.chains,
        warmup=s.warmup,
        target_accept=float(s.target_accept),
        max_tree_depth=s.max_tree_depth,
        dense_mass=s.dense_mass,
        adapt_mass=s.adapt_mass,
        sampler=s.sampler,
        # the ladder is compiled in only where it is used: NUTS's settings stay as before
        temperatures=s.temperatures if s.sampler == "tempered" else 1,
        max_temperature=float(s.max_temperature) if s.sampler == "tempered" else 1.0,
    )


# ----------------------------------------------------------------------------- outputs


def _prepare_output(out, force: bool, strict: bool, expected_bytes: int):
    """Check an output before any work: exists (without force), writable, room, not locked."""

    if out is None:
        return None, None
    if str(out).endswith(("/", os.sep)):  # Path() drops the slash: "DIR/" was written as file DIR
        raise RunExistsError(
            "names a folder (it ends in '/'), expected the run file's name, e.g. "
            f"{str(out).rstrip('/' + os.sep)}/posterior.nc",
            str(out),
        )
    path = Path(out)
    check_writable(path, expected_bytes)  # names, permissions, room: before anything else
    if path.is_dir():
        raise RunExistsError("a folder is in the way of the run file", str(path))
    if path.exists() and not runfile.replaceable(path):
        # never the problem file, a data file or anything else that --out names by mistake
        raise RunExistsError(
            "a file that is not a bayesff run file is there, and --force (force=True) "
            "replaces only a run file (or a damaged *.nc); write elsewhere with --out",
            str(path),
        )
    if path.exists() and not force:
        raise RunExistsError(
            "a run file is already there; pass --force (force=True) to replace it, or --out "
            "to write elsewhere",
            str(path),
        )
    return path, Lock(path).acquire()


def _estimate_bytes(problem, s) -> int:
    rows = sum(int(np.prod(t.values.shape)) for t in problem.targets)
    n = s.chains * (s.samples // s.thin)
    return 8 * (3 * rows + 16) * n + 8 * 3 * rows * s.prior_draws + 1_000_000


# ------------------------------------------------------------------------------ batches


def calibrate(
    problem,
    *,
    out: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool | None = None,
    chains: int | None = None,
    warmup: int | None = None,
    samples: int | None = None,
    seed: int | None = None,
    thin: int | None = None,
    sampler: str | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
    strict: bool = False,
    log=print,
) -> Run:
    """Sample a problem's posterior; write the run file if ``out`` is given.

    Parameters
    ----------
    problem
        A validated :class:`~bayesff.problem.Problem`.
    out
        Run file path (``runs/NAME/posterior.nc`` is the CLI's default);
        ``None`` writes nothing. An existing file is an error, raised before
        any work, unless ``force``.
    progress
        Show a progress bar (default: when stderr is a terminal).
    chains, warmup, samples, seed, thin, sampler
        Override the problem's ``[inference]`` settings.
    checkpoint_every
        Save the sampler state and the draws so far every this many draws
        (per chain) to ``checkpoint.npz`` beside ``out``; 0 = only when
        interrupted (Ctrl-C).
    resume
        Continue from that checkpoint (same problem and settings, else an error).
    strict
        Diagnostics that fail are an error (:class:`DiagnosticsError`); the run
        is then written beside ``out`` as ``NAME.failed.nc``, never over it.
    log
        Where one-line messages go (``None`` for silence).

    Returns
    -------
    Run
        The DataTree, the path written, diagnostics and timings.
    """
    overrides = dict(
        chains=chains, warmup=warmup, samples=samples, seed=seed, thin=thin, sampler=sampler
    )
    return _calibrate(
        [problem],
        [out],
        overrides,
        force=force,
        progress=progress,
        checkpoint_every=checkpoint_every,
        resume=resume,
        strict=strict,
        log=log,
    )[0]


def calibrate_many(
    problems,
    *,
    outs=None,
    force: bool = False,
    progress: bool | None = None,
    batch_size: int | None = None,
    pad_rows: dict | None = None,
    log=print,
    **overrides,
) -> list[Run]:
    """Calibrate many problems; same-structure problems run as one batched program.

    Parameters
    ----------
    problems
        Validated problems.
    outs
        One run-file path (or ``None``) per problem; default: write nothing.
    batch_size
        Most problems in one batched program. Default (:func:`default_batch_size`):
        all problems of a structure for ChEES or on a GPU; one for NUTS on a CPU,
        where the problems then run one after another on the same compiled sampler
        (vectorised NUTS waits at every step for the deepest tree of all its
        chains: 20 argon B2 problems batched took 231 s on 2 cores against ~6 s
        each alone, ``benchmarks/RESULTS.md`` part C).
    pad_rows
        Row counts to pad every batch to, as :func:`row_counts` returns them (for
        example those of a larger set of problems that should share one compiled
        sampler, as a sweep's workers do). Every batch is padded to at least the
        largest row counts of all the given problems of its structure, so that the
        batches of one structure compile one sampler, not one per row count; padded
        rows are masked out of the likelihood and their predictions dropped.
    overrides
        ``chains``, ``warmup``, ``samples``, ``seed``, ``thin``, ``sampler``
        for every problem.

    Returns
    -------
    list of Run
        One per problem, in order. Each agrees with :func:`calibrate` of that
        problem alone within Monte Carlo error (and bit for bit for a batch of
        one with the same seed).
    """
    problems = list(problems)
    outs = list(outs) if outs is not None else [None] * len(problems)
    if len(outs) != len(problems):
        raise ProblemError(f"{len(outs)} outputs for {len(problems)} problems", "outs")
    bs = _positive_int("batch_size", batch_size)
    runs: list = [None] * len(problems)
    pads: dict = {}  # a group's row counts, computed once for all its batches
    for idx, group in _groups(problems, overrides, bs, members=True):
        key = tuple(group)
        if key not in pads:
            pads[key] = merge_row_counts(row_counts([problems[i] for i in group]), pad_rows)
        pad = pads[key]
        batch = _calibrate(
            [problems[i] for i in idx],
            [outs[i] for i in idx],
            overrides,
            force=force,
            progress=progress,
            log=log,
            pad_rows=pad,
        )
        for i, r in zip(idx, batch, strict=True):
            runs[i] = r
    return runs


class StartModes(NamedTuple):
    """Result of :func:`laplace_modes`.

    Attributes
    ----------
    modes
        Distinct competing modes the Laplace start found (1: one; ``None``: the problem
        has no Laplace start, ``init = "central"``).
    mode_map
        The competing modes (:class:`~bayesff.inference.laplace.ModeMap`, the best
        first, unconstrained coordinates) where there are several; else ``None``.
    summary
        The calibration's log line: how many optimisations reached the best optimum
        and how far below it (nats) the others ended.
    """

    modes: int | None
    mode_map: ModeMap | None
    summary: str


def laplace_modes(problem, *, pad_rows: dict | None = None, **overrides) -> StartModes:
    """The competing modes a calibration of ``problem`` starts from, without sampling.

    Runs the problem's Laplace start as :func:`calibrate` does (its settings, seed and
    keys, the same starting draws; one optimisation per chain) and stops there. A
    posterior whose start finds several competing modes (local optima within
    :data:`~bayesff.inference.laplace.COMPETING_NATS` of the best and more than 3 Laplace
    sd from it) gets its draws labelled by them, and the diagnostics check the modes'
    shares; with one there is nothing for that check to check. Costs the compilation of
    the log density and a few hundred evaluations of it.

    Parameters
    ----------
    problem
        A validated problem.
    pad_rows
        Row counts to pad to, as :func:`calibrate_many` takes them (a sweep's workers pad
        each structure's tasks to the group's; the optima do not depend on it).
    overrides
        ``chains``, ``seed``, ... as for :func:`calibrate`.

    Returns
    -------
    StartModes
    """
    ensure_configured()
    s = _settings(problem, overrides)
    batch = _batch([problem], [s], pad_rows)
    kernel = get_kernel(batch.structure, _kernel_settings(s))
    lines: list[str] = []
    _, _, maps = _start(kernel, batch, lines.append)
    summary = next((x for x in lines if x.startswith("laplace start")), None)
    if summary is None:
        return StartModes(None, None, f"no Laplace start (init = {s.init!r})")
    return StartModes(1 if maps[0] is None else len(maps[0].centres), maps[0], summary)


def default_batch_size(sampler: str, n: int, backend: str | None = None) -> int:
    """Problems per batched program when none is given: ``n`` (all) for ChEES, whose
    chains share one trajectory length, or on an accelerator; 1 for NUTS (tempered or not)
    on a CPU. ``backend`` is where the batch will run (``"cpu"``, ``"gpu"``, ...; default
    this process's JAX backend): a sweep asks its workers (:mod:`bayesff.sweep`)."""

    if sampler in ("nuts", "tempered") and (backend or jax.default_backend()) == "cpu":
        return 1
    return n


def _shape_free(structure):
    """A structure with row counts reduced to 'has rows': problems that can share a batch."""

    return dataclasses.replace(
        structure,
        targets=tuple(dataclasses.replace(t, n_rows=int(t.n_rows > 0)) for t in structure.targets),
    )


def _groups(problems, overrides, batch_size, members: bool = False) -> list:
    """Batches of problem indices, same structure (up to row counts) and sampler settings
    in each; with ``members``, (batch, every index of the batch's group) pairs."""

    groups: dict = {}
    for i, p in enumerate(problems):
        key = (_shape_free(structure_of(p)), _kernel_settings(_settings(p, overrides)))
        groups.setdefault(key, []).append(i)
    out = []
    for (_, ks), idx in groups.items():
        step = batch_size or default_batch_size(ks.sampler, len(idx))
        out += [
            (idx[j : j + step], idx) if members else idx[j : j + step]
            for j in range(0, len(idx), step)
        ]
    return out


def row_counts(problems) -> dict[str, dict[str, int]]:
    """The largest row counts of ``problems``, per target: what a batch pads to.

    Returns
    -------
    dict
        ``{"train": {target: rows}, "holdout": {target: rows}, "groups": {target:
        held-out groups}}``, plain integers (JSON-safe: a sweep sends it to its workers).
    """
    problems = list(problems)
    return {
        "train": _max_rows(problems, "train"),
        "holdout": _max_rows(problems, "holdout"),
        "groups": _max_groups(problems),
    }


def merge_row_counts(a: dict | None, b: dict | None) -> dict:
    """The larger of two :func:`row_counts` results, target by target."""
    out: dict = {}
    for part in ("train", "holdout", "groups"):
        merged = dict((a or {}).get(part, {}))
        for name, n in (b or {}).get(part, {}).items():
            merged[name] = max(int(merged.get(name, 0)), int(n))
        out[part] = merged
    return out


def _calibrate(
    problems,
    outs,
    overrides,
    *,
    force,
    progress,
    log,
    checkpoint_every=0,
    resume=False,
    strict=False,
    pad_rows=None,
) -> list[Run]:

    t0 = time.perf_counter()
    log = log or (lambda *a, **k: None)
    settings = [_settings(p, overrides) for p in problems]
    if len({_kernel_settings(s) for s in settings}) > 1:
        raise ProblemError("problems of one batch must share their sampler settings", "batch")
    checkpoint_every = _positive_int("checkpoint_every", checkpoint_every, allow_zero=True)
    s0 = settings[0]
    if checkpoint_every and checkpoint_every > s0.samples:
        raise ProblemError(
            f"checkpoint-every ({checkpoint_every}) must be at most the draws per chain "
            f"({s0.samples})",
            "--checkpoint-every",
        )
    if checkpoint_every and s0.samples % checkpoint_every:
        # refused, not rounded: the checkpoints land where the user asked, or nowhere
        near = _divisors_near(s0.samples, checkpoint_every)
        raise ProblemError(
            f"checkpoint-every ({checkpoint_every}) must divide the draws per chain "
            f"({s0.samples}); the nearest that do are {' and '.join(map(str, near))}",
            "--checkpoint-every",
        )
    if (checkpoint_every or resume) and (len(problems) > 1 or outs[0] is None):
        raise ProblemError(
            "checkpoints need one problem and an output file (out=...)", "--checkpoint-every"
        )
    with contextlib.ExitStack() as stack:
        paths = []
        for p, o, s in zip(problems, outs, settings, strict=True):
            path, lock = _prepare_output(o, force or resume, strict, _estimate_bytes(p, s))
            if lock is not None:
                stack.callback(lock.release)
            paths.append(path)
        ensure_configured()
        options = _Options(bool(sys.stderr.isatty() if progress is None else progress), log)
        batch = _batch(problems, settings, pad_rows)
        ckpt = _checkpoint(batch, paths)
        if resume:
            ckpt.check()  # a checkpoint of this problem is there: before any compiling
        t = time.perf_counter()
        # Ctrl-C: inside the block loop run_blocks saves a checkpoint; before it (compiling,
        # the start) there is nothing to save; after it the finished draws are saved
        try:
            kernel = get_kernel(batch.structure, _kernel_settings(batch.s))
            draws, maps = _sample(kernel, batch, ckpt, options, checkpoint_every, resume)
        except KeyboardInterrupt:
            interrupts.acknowledge()
            raise _interrupted_before(ckpt, resume) from None
        try:
            interrupts.raise_if_lost()  # one swallowed in the last block: draws saved below
            timings = {"batch_size": len(problems), "sampling_s": time.perf_counter() - t}
            tempering = _tempering_attrs(draws.state, batch, options.log)
            kept = _with_modes(draws.thinned(batch.s.thin), maps)
            runs = _runs(kernel, batch, kept, options, timings)
            wall = time.perf_counter() - t0
            for i, (run, path) in enumerate(zip(runs, paths, strict=True)):
                run.datatree.attrs.update(tempering[i])
                run.wall_time_s = wall
                run.timings = dict(timings)
                run.datatree.attrs.update(
                    wall_time_s=float(wall),
                    sampling_time_s=float(timings["sampling_s"]),
                    batch_size=len(problems),
                )
                run.path = _write(run, path, strict)
        except KeyboardInterrupt:
            interrupts.acknowledge()
            if ckpt is None:
                raise Interrupted(None) from None
            save_finished(ckpt, draws, batch.s.warmup + batch.s.samples)
            raise Interrupted(str(ckpt.path)) from None
        if ckpt is not None:
            ckpt.remove()
        return runs


def _tempering_attrs(state, batch: Batch, log) -> list[dict]:
    """Per problem, the run-file attributes of parallel tempering (empty for the other
    samplers): the exchange acceptance between neighbouring replicas and each replica's
    leapfrog steps, both logged."""
    if not isinstance(state, TemperedState):
        return [{} for _ in batch.problems]
    out = []
    for prob, rates, steps in zip(
        batch.problems, swap_acceptance(state), replica_steps(state), strict=True
    ):
        log(
            f"tempering ({prob.name}): exchange acceptance between neighbouring replicas "
            f"(coldest first): {', '.join(f'{a:.2f}' for a in rates)}"
            + ("; below 0.1: add temperatures" if np.nanmin(rates) < 0.1 else "")
            + f"; leapfrog steps of all replicas {int(steps.sum())} "
            f"({steps.sum() / max(int(steps[0]), 1):.2f}x the cold one's)"
        )
        out.append(
            {
                "swap_acceptance": [float(a) for a in rates],
                "replica_leapfrog_steps": [int(n) for n in steps],
            }
        )
    return out


def _divisors_near(n: int, k: int) -> tuple[int, ...]:
    """The divisors of n closest to k from below and from above (one if they coincide)."""
    below = next(d for d in range(k, 0, -1) if n % d == 0)
    above = next(d for d in range(k, n + 1) if n % d == 0)
    return tuple(dict.fromkeys((below, above)))


def _interrupted_before(ckpt, resume: bool) -> Interrupted:
    """Ctrl-C before the first block: a checkpoint being resumed is still there."""
    if resume and ckpt is not None:
        return Interrupted(str(ckpt.path))
    return Interrupted(
        None, "interrupted before sampling began; nothing to save: run the same command again"
    )


# ------------------------------------------------------------------------------- steps


class _Options(NamedTuple):
    """How a calibration talks: a progress bar (or lines), and where its lines go."""

    progress: bool
    log: Callable[..., None]


class RunKeys(NamedTuple):
    """A batch's random keys (raw JAX keys, uint32 pairs): the chains' (P, C, 2), and per
    problem the posterior predictive's, the prior's and the Laplace start's."""

    chains: np.ndarray
    post: tuple
    prior: tuple
    laplace: tuple


@dataclass(frozen=True)
class Batch:
    """Problems of one structure and sampler settings, and everything their program reads.

    ``train`` and ``holdout`` are each problem's model data padded to the batch's
    largest; ``data`` is ``train`` stacked along a leading problem axis (P).
    """

    problems: tuple
    settings: tuple
    structure: Structure
    train: tuple
    holdout: tuple
    data: ModelData
    keys: RunKeys

    @property
    def s(self) -> InferenceSettings:
        """The settings the compiled program shares (those of the first problem)."""
        return self.settings[0]


def _batch(problems, settings, pad_rows=None) -> Batch:
    # the batch's own largest row counts, or more where pad_rows asks (only for the
    # batch's targets: pad_rows may come from problems of other structures too)
    rows = merge_row_counts(row_counts(problems), pad_rows)
    names = {t.name for t in problems[0].targets}
    n_train, n_holdout, groups = (
        {k: v for k, v in rows[part].items() if k in names}
        for part in ("train", "holdout", "groups")
    )
    # a target that reads another's solve (mean_of: the same rows) is padded as that one
    # is, or the two would differ in length (pad_rows may pad them apart) and it be NaN
    for t in structure_of(problems[0]).targets:
        for n in (n_train, n_holdout):
            if t.mean_of and t.name in n and t.mean_of in n:
                n[t.name] = n[t.mean_of] = max(n[t.name], n[t.mean_of])
    train = tuple(pad_arrays(arrays(p, "train"), n_train) for p in problems)
    holdout = tuple(pad_arrays(arrays(p, "holdout"), n_holdout, groups=groups) for p in problems)
    keys = [_seed_keys(s.seed, settings[0].chains) for s in settings]
    return Batch(
        problems=tuple(problems),
        settings=tuple(settings),
        structure=structure_of(problems[0], n_train),
        train=train,
        holdout=holdout,
        data=jax.tree.map(lambda *a: np.stack(a), *train),
        keys=RunKeys(
            chains=np.stack([k[3] for k in keys]),
            post=tuple(k[1] for k in keys),
            prior=tuple(k[2] for k in keys),
            laplace=tuple(k[4] for k in keys),
        ),
    )


def _template(kernel, batch: Batch) -> dict:
    """One init_to_central draw per chain, unconstrained: the latent values' shapes."""
    return jax.tree.map(np.asarray, kernel.draw(batch.keys.chains, batch.data))


def _start(kernel, batch: Batch, log):
    """Chain states at init_to_central draws (retried) or at Laplace starts, the
    sampler's data (:meth:`Kernel.sampler_data`: with the coordinate scale), and each
    problem's competing modes (:func:`_laplace`; ``None`` without a Laplace start)."""
    z = _template(kernel, batch)
    d = latent_dim(z)
    inv = kernel.unit_inverse_mass(len(batch.problems), d)
    sdata = kernel.sampler_data(batch.data, kernel.unit_scale(z))
    maps = [None] * len(batch.problems)
    if batch.s.init == "laplace" or batch.s.sampler == "chees":
        # each optimisation starts from a chain's draw with a density: one started where
        # there is none ends there at once (argon_lj_vle: 3 of 4 prior draws put the
        # data's temperatures above the critical point). Draws still without one after
        # the tries are left to the optimiser, which needs only one to reach a mode.
        z, state = _finite_draws(kernel, batch, z, inv, sdata)
        # a problem none of whose draws has a density gives the optimiser nowhere to
        # go: say why (the forward model at the priors' centre) rather than that the
        # optimiser ended without a density (a prior in the wrong unit, say)
        none = ~_finite_state(state).any(axis=1)
        if none.any():
            raise _start_error(batch.problems[int(np.flatnonzero(none)[0])])
        # many chains from the central half of wide priors can start in a secondary
        # mode that ChEES's common trajectory length never leaves: start at the mode
        z, inv, maps = _laplace(kernel, batch, z, log)
        sdata = kernel.sampler_data(batch.data, laplace_scale(z, inv))
    z, state = _finite_draws(kernel, batch, z, inv, sdata)
    bad = ~_finite_state(state)
    if bad.any():
        raise _start_error(batch.problems[int(np.flatnonzero(bad.any(axis=1))[0])])
    return state, sdata, maps


def laplace_scale(z: dict, inverse_mass: np.ndarray) -> dict:
    """The sampler's coordinate scale from the Laplace starts' inverse mass matrices.

    Parameters
    ----------
    z
        Latent values, site -> (P, C, ...) (their layout: NumPyro's ravelling).
    inverse_mass
        (P, D, D) or (P, D): each problem's Laplace covariance of the unconstrained
        coordinates.

    Returns
    -------
    dict
        Site -> (P, ...): each coordinate's Laplace sd, floored at 1e-12 and 1 where
        not finite (:class:`bayesff.inference.kernels.Scaled` says why NUTS moves in
        these coordinates).
    """
    var = np.diagonal(inverse_mass, axis1=1, axis2=2) if inverse_mass.ndim == 3 else inverse_mass
    sd = np.sqrt(np.where(np.isfinite(var) & (var > 0), var, 1.0))
    sd = np.maximum(sd, 1e-12)
    out = unravel_chains(sd, {k: v.shape[2:] for k, v in z.items()})
    return {k: v.astype(z[k].dtype) for k, v in out.items()}


def _finite_draws(kernel, batch: Batch, z, inv, sdata):
    """``z`` with each chain's draw that has no finite density redrawn (START_TRIES tries).

    Returns the draws and their chain states; draws still without a density stay as
    they are (the caller decides).
    """
    keys = batch.keys.chains
    state = kernel.init_at(keys, sdata, z, inv)
    for attempt in range(START_TRIES):
        bad = ~_finite_state(state)
        if not bad.any():
            break
        retry = np.asarray(
            jax.vmap(jax.vmap(lambda k, n=attempt + 2: jax.random.fold_in(k, n)))(keys)
        )
        znew = jax.tree.map(np.asarray, kernel.draw(retry, batch.data))
        z = jax.tree.map(lambda a, b, m=bad: np.where(_expand(m, a), b, a), z, znew)
        state = kernel.init_at(keys, sdata, z, inv)
    return z, state


def _optima_summary(log_densities: np.ndarray) -> str:
    """How the Laplace optimisations ended, for the log: how many reached the best one."""
    # an optimisation that ended without a density reports -1e30: not an optimum
    found = log_densities > -1e29
    best = log_densities.max()
    at_best = int(np.sum(log_densities > best - 0.1))
    text = f"{at_best} reached the best optimum"
    below = best - log_densities[found & (log_densities <= best - 0.1)]
    if below.size:
        text += f", {below.size} ended {below.min():.1f}-{below.max():.1f} nats below it"
    if not found.all():
        text += f", {int((~found).sum())} ended without a density"
    return text


def _laplace(kernel, batch: Batch, z, log):
    """Laplace starts of every chain of every problem, their inverse mass matrices, and
    each problem's competing modes (a :class:`ModeMap`; ``None`` where it found a single
    mode)."""
    s = batch.s
    one = jax.tree.map(lambda a: a[0, 0], z)
    x_all = ravel_chains(z)  # (P, C, D)
    folded_sites = set(batch.structure.folded_names)
    # in ravel_chains's order
    folded = np.concatenate([np.full(np.size(z[k][0, 0]), k in folded_sites) for k in sorted(z)])
    starts, invs, maps = [], [], []
    for i, prob in enumerate(batch.problems):
        # one optimisation from each chain's draw: one alone can end in a local mode
        x0 = x_all[i]
        data_i = jax.tree.map(lambda a, i=i: a[i], batch.data)
        t = time.perf_counter()
        ls = laplace_start(kernel, data_i, x0, one, batch.keys.laplace[i], s.chains, folded=folded)
        # an optimisation that ended without a density reports -1e30: not an optimum
        log(
            f"laplace start ({prob.name}): {len(x0)} optimisations, {ls.evaluations} "
            f"evaluations, {time.perf_counter() - t:.1f} s; {_optima_summary(ls.log_densities)}"
            + (f", {ls.modes} competing modes: chains start at each" if ls.modes > 1 else "")
            + (
                " (should R-hat flag the run, its chains may not pass between them: "
                "[inference] sampler = 'tempered' does)"
                if ls.modes > 1 and s.sampler != "tempered"
                else ""
            )
        )
        starts.append(unravel_chains(ls.starts, {k: v.shape[2:] for k, v in z.items()}))
        inv = ls.inverse_mass_matrix
        invs.append(inv if s.dense_mass else np.diag(inv))
        maps.append(ls.mode_map if ls.modes > 1 else None)
    return {k: np.stack([st[k] for st in starts]) for k in z}, np.stack(invs), maps


#: Draws in the first slow window of NumPyro's warm-up (``build_adaptation_schedule``),
#: the first estimate of the mass matrix.
DENSE_WINDOW = 25


def _sample(kernel, batch: Batch, ckpt, options: _Options, checkpoint_every: int, resume: bool):
    """Warm-up and sampling of every chain (from a checkpoint if resuming): the kept draws,
    and each problem's competing modes from its Laplace start (``None`` where it found a
    single mode; a resumed run reads them from its checkpoint)."""
    s = batch.s
    # the sampler's block and then the post-processing compile in the background
    # while the start is found and the chains run
    latent = kernel.precompile(batch.keys.chains, batch.data)
    if s.sampler in ("nuts", "tempered"):
        _postprocess_ahead(batch, latent)
    if resume:
        template = _template(kernel, batch)
        inv = kernel.unit_inverse_mass(len(batch.problems), latent_dim(template))
        sdata = kernel.sampler_data(batch.data, kernel.unit_scale(template))
        state = kernel.init_at(batch.keys.chains, sdata, template, inv)
        state, done, it, scale = ckpt.load_into(state, kernel.unit_scale(template))
        sdata = kernel.sampler_data(batch.data, scale)  # the coordinates the state is in
        options.log(f"resuming from {ckpt.path}: {it} of {s.warmup + s.samples} iterations done")
        maps = [None if ckpt.modes is None else ModeMap(**ckpt.modes)]  # one problem
    else:
        (state, sdata, maps), done, it = _start(kernel, batch, options.log), {}, 0
        if ckpt is not None and maps[0] is not None:
            ckpt.modes = dataclasses.asdict(maps[0])
    options.log(
        f"sampling {', '.join(p.name for p in batch.problems)}: "
        f"{s.sampler.upper()}, {s.chains} chains x ({s.warmup} warm-up + {s.samples} draws)"
    )
    dim = latent_dim(latent)
    if s.sampler == "nuts" and s.dense_mass and s.adapt_mass and dim >= DENSE_WINDOW:
        options.log(
            f"note: {dim} latent dimensions and a dense mass matrix, which NUTS's warm-up "
            f"first estimates from {DENSE_WINDOW} draws (singular in {dim} dimensions); if "
            "the warm-up slows to the largest tree depth, set [inference] dense_mass = false, "
            "or adapt_mass = false with init = 'laplace'"
        )
    draws = run_blocks(
        kernel,
        state,
        sdata,
        s,
        it=it,
        done=done,
        ckpt=ckpt,
        checkpoint_every=checkpoint_every,
        progress=options.progress,
        log=options.log,
        block_seconds=BLOCK_SECONDS,
    )
    return draws, maps


def _postprocess_ahead(batch: Batch, z) -> None:
    """Start compiling the post-processing in the background (``z``: abstract latents)."""
    latent = {k: (a.shape[2:], a.dtype) for k, a in z.items()}
    post = get_postprocessor(batch.structure)
    kept = -(-batch.s.samples // batch.s.thin)
    for i, s in enumerate(batch.settings):
        post.prepare(
            latent,
            batch.keys.post[i],
            batch.keys.prior[i],
            batch.train[i],
            batch.holdout[i],
            batch.s.chains * kept,
            s.prior_draws,
        )


def _checkpoint(batch: Batch, paths) -> BatchCheckpoint | None:
    """The checkpoint of a single problem written to a file (else none)."""
    if len(batch.problems) != 1 or paths[0] is None:
        return None
    problem = batch.problems[0]
    header = {"problem_fingerprint": problem.fingerprint(), "settings": repr(batch.s)}
    also = {"problem_fingerprint": (problem.legacy_fingerprint(),)}
    return BatchCheckpoint(paths[0].with_name("checkpoint.npz"), header, also)


def _with_modes(draws: Draws, maps: list) -> Draws:
    """``draws`` with the statistic ``laplace_mode`` (each draw's nearest competing mode of
    its problem's Laplace start: :meth:`ModeMap.labels`) where a problem had several.

    Problems of a batch have the same statistics, so where only some had several modes
    the others' draws are all labelled -1 (no modes to tell apart), and the run file
    leaves them out (:func:`bayesff.runfile.build`).
    """
    if all(m is None for m in maps):
        return draws
    x = ravel_chains(draws.z, lead_dims=3)  # (P, C, N, D)
    none = np.full(x.shape[1:3], -1, np.int8)
    labels = np.stack([none if m is None else m.labels(x[i]) for i, m in enumerate(maps)])
    return draws._replace(stats={**draws.stats, sites.LAPLACE_MODE: labels})


def _runs(kernel, batch: Batch, draws: Draws, options: _Options, timings: dict) -> list[Run]:
    """Each problem's run (DataTree and diagnostics) from the batch's kept draws."""
    t = time.perf_counter()
    runs = []
    for i, problem in enumerate(batch.problems):
        drawn = Drawn(
            z={k: v[i] for k, v in draws.z.items()},
            stats={k: v[i] for k, v in draws.stats.items()},
            train=batch.train[i],
            holdout=batch.holdout[i],
            key_post=batch.keys.post[i],
            key_prior=batch.keys.prior[i],
        )
        dt = assemble(
            problem,
            batch.structure,
            batch.settings[i],
            drawn,
            chain_devices=getattr(kernel, "shards", 1),
            progress=options.progress,
            log=options.log,
        )
        runs.append(Run(dt, None, diagnose(dt), 0.0, {}))
    timings["postprocess_s"] = time.perf_counter() - t
    return runs


def _write(run: Run, path, strict: bool):
    failed = strict and not run.diagnostics.ok
    if path is None:
        if failed:
            raise DiagnosticsError("; ".join(run.diagnostics.warnings), run=run)
        return None
    if failed:
        # --strict never replaces a good run: the failed one goes beside it
        bad = path.with_name(f"{path.stem}.failed.nc")
        runfile.write(run.datatree, bad, force=True)
        raise DiagnosticsError(
            f"diagnostics failed and --strict was given; the run was written to {bad}, "
            f"not to {path}",
            run=run,
        )
    runfile.write(run.datatree, path, force=True)
    return path


def _seed_keys(seed: int, chains: int) -> tuple[np.ndarray, ...]:
    """A run's random keys from its seed: MCMC, posterior predictive, prior, per chain, Laplace.

    Raw JAX keys (uint32 pairs) from NumPy's ``SeedSequence``, whose spawned
    children are independent streams by design; ``jax.random`` would compile a
    program for this in a new process (~0.3 s with its tracing).
    """
    mcmc, post, prior, laplace = np.random.SeedSequence(int(seed)).spawn(4)

    def key(s):
        return s.generate_state(2, dtype=np.uint32)

    per_chain = np.stack([key(c) for c in mcmc.spawn(chains)])
    return key(mcmc), key(post), key(prior), per_chain, key(laplace)


def _max_rows(problems, kind: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in problems:
        for t in p.targets:
            n = int(t.train.sum()) if kind == "train" else int(t.holdout_mask().sum())
            out[t.name] = max(out.get(t.name, 0), n)
    return out


def _max_groups(problems) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in problems:
        for t in p.targets:
            out[t.name] = max(out.get(t.name, 0), len(t.holdout))
    return out


def _expand(mask, a):
    return mask.reshape(mask.shape + (1,) * (np.ndim(a) - mask.ndim))


def _finite_state(state) -> np.ndarray:
    """(P, C): chains whose start has a finite log density and gradient."""

    pe = np.asarray(state.potential_energy)
    ok = np.isfinite(pe)
    for g in jax.tree.leaves(state.z_grad):
        g = np.asarray(g)
        ok &= np.all(np.isfinite(g.reshape(*pe.shape, -1)), axis=-1)
    return ok


def _start_error(problem) -> BayesffError:
    """Why no chain could start: a forward model that is not finite at the prior's centre."""

    params = {n: (p.value if p.fixed else p.prior.median()) for n, p in problem.parameters.items()}
    shown = ", ".join(f"{n} = {v:.6g} {problem.parameters[n].unit}" for n, v in params.items())
    for t in problem.targets:
        f = forward_at(problem, t, params)
        if not np.all(np.isfinite(f)):
            bad = int(np.flatnonzero(~np.isfinite(np.reshape(f, (t.n, -1))).any(axis=1))[0])
            return BayesffError(
                f"potential {problem.potential.name!r} gives a non-finite {t.observable.name} "
                f"(target {t.name!r}, row {bad}: {float(np.reshape(f, (t.n, -1))[bad][0])}) at "
                f"the centre of the priors ({shown}); the sampler cannot start. Check the "
                "priors' centre (a value in another unit?) and the potential's energy "
                "function there (overflow, log of a negative number, a hard core everywhere)",
                f"problem {problem.name!r}",
            )
    return BayesffError(
        f"no starting point with a finite log density was found in {START_TRIES} draws from the "
        f"central half of the priors (centre: {shown}); the data may be impossible under every "
        "prior draw, or an uncertainty is zero",
        f"problem {problem.name!r}",
    )
