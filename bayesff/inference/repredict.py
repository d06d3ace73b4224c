"""Predict again from a stored run's draws, without sampling again.

A run's held-out predictions depend on more than its posterior: the held-out rows, and
how a target without training rows borrows an inadequacy scale
(``[pooling] new_group_inadequacy``). When only those change, the posterior draws are
still draws of the same training model and a calibration of hours need not be
repeated: :func:`repredict` post-processes the stored draws under the new problem
(posterior predictive, held-out predictions and log-likelihoods, prior draws), as
:func:`bayesff.calibrate` would have.

It refuses a run whose posterior is not one of the problem's training model, checked
in two steps: before any work, the latent sites, their shapes and every trained
target's observations must be the run's; after post-processing and before anything is
written, the log prior and the training log-likelihood at every draw must equal the
stored ones (to 1e-8 relative and absolute), which they do only when the priors,
likelihoods and forward models of the training rows are unchanged.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
from numpyro.distributions.transforms import biject_to
from numpyro.handlers import substitute, trace

from bayesff import runfile
from bayesff.errors import BayesffError
from bayesff.inference.assemble import Drawn, assemble
from bayesff.inference.calibrate import Run, _batch, _prepare_output
from bayesff.inference.diagnostics import diagnose
from bayesff.model import model_of
from bayesff.runtime import ensure_configured
from bayesff.settings import InferenceSettings

__all__ = ["RepredictError", "repredict"]

#: Relative and absolute tolerance of the log prior and training log-likelihood check.
TOLERANCE = 1e-8


class RepredictError(BayesffError):
    """A run's draws are not of the problem's training model."""


def repredict(problem, run, *, out=None, force: bool = False, progress=None, log=print) -> Run:
    """The run of ``problem`` from the posterior draws of an earlier run, not sampled again.

    Parameters
    ----------
    problem
        The :class:`~bayesff.problem.Problem` to predict under: the run's training model
        (same parameters, priors, training rows and likelihood); held-out rows and
        the inadequacy of new pooling groups may differ.
    run
        The earlier run: a run file's path, a DataTree, or a :class:`Run`.
    out
        Where to write the new run file (atomically); ``None``: not written.
    force
        Replace an existing file at ``out`` (the source itself included).
    progress, log
        As :func:`bayesff.calibrate`.

    Returns
    -------
    Run
        Its datatree holds the stored posterior draws and sample statistics, and the
        new predictions; ``wall_time_s`` is the post-processing's, and the run file's
        ``wall_time_s`` and ``sampling_time_s`` stay those of the sampling.

    Raises
    ------
    RepredictError
        The draws are not of this problem's training model (see the module docstring).
    """
    t0 = time.perf_counter()
    where = str(run) if isinstance(run, (str, Path)) else "the run"
    old = _datatree(run)
    settings = _settings(problem, old)
    path, lock = _prepare_output(out, force, False, 0)
    try:
        dt = _predict(problem, old, settings, where, progress, log)
        wall = time.perf_counter() - t0
        result = Run(dt, None, diagnose(dt), wall, {"postprocess_s": wall})
        if path is not None:
            runfile.write(dt, path, force=True)
            result.path = path
    finally:
        if lock is not None:
            lock.release()
    return result


def _predict(problem, old, settings, where: str, progress, log):
    """The new run's DataTree from the stored draws (checked before and after)."""
    ensure_configured()
    batch = _batch([problem], [settings])
    structure = batch.structure
    post = runfile.latents(old, "posterior")
    _check_sites(structure, post, where)
    _check_training_data(problem, old, where)
    drawn = Drawn(
        z=_unconstrained(structure, batch.train[0], post),
        stats=runfile.sampler_stats(old),
        train=batch.train[0],
        holdout=batch.holdout[0],
        key_post=batch.keys.post[0],
        key_prior=batch.keys.prior[0],
    )
    devices = int(old.attrs.get("chain_devices", 1))
    dt = assemble(
        problem, structure, settings, drawn, chain_devices=devices, progress=bool(progress),
        log=log,
    )  # fmt: skip
    _check_same_density(old, dt, where)
    for k in ("wall_time_s", "sampling_time_s", "batch_size"):
        if k in old.attrs:
            dt.attrs[k] = old.attrs[k]
    dt.attrs["repredicted_from"] = str(old.attrs.get("problem_fingerprint", ""))
    return dt


def _datatree(run):
    if isinstance(run, (str, Path)):
        return runfile.read(run)
    return getattr(run, "datatree", run)


def _settings(problem, dt):
    """The problem's settings with the sampler settings the run records (its root
    attributes named as :class:`InferenceSettings`' fields, read as their types)."""
    given = {
        f.name: type(f.default)(np.asarray(dt.attrs[f.name]).item())
        for f in dataclasses.fields(InferenceSettings)
        if f.name in dt.attrs
    }
    return dataclasses.replace(problem.inference, **given)


def _check_sites(structure, post, where: str) -> None:
    names = tuple(structure.latent_names)
    stored = tuple(post.data_vars)
    if set(names) != set(stored):
        raise RepredictError(
            f"the run's posterior has sites {sorted(stored)}, the problem's model "
            f"{sorted(names)}: its draws are of another model; calibrate the problem",
            where,
        )


def _check_training_data(problem, dt, where: str) -> None:
    obs = dt["observed_data"]
    for t in problem.targets:
        y = np.asarray(t.values)[np.asarray(t.train)]
        if not y.size:
            continue
        if t.name not in obs.data_vars or obs[t.name].shape != y.shape:
            raise RepredictError(
                f"target {t.name!r} has {len(y)} training rows, which the run does not "
                "hold: its draws are of other data; calibrate the problem",
                where,
            )
        if not np.array_equal(np.asarray(obs[t.name].values), y, equal_nan=True):
            raise RepredictError(
                f"the training observations of target {t.name!r} differ from the run's: "
                "its draws are of other data; calibrate the problem",
                where,
            )


def _unconstrained(structure, train, post) -> dict:
    """Site -> (C, N, ...) unconstrained values of the stored draws (each site's support
    transform, read from one trace of the model at the first draw)."""
    first = {k: np.asarray(post[k].values)[0, 0] for k in structure.latent_names}
    tr = trace(substitute(model_of(structure), data=first)).get_trace(train)
    return {
        k: np.asarray(biject_to(tr[k]["fn"].support).inv(np.asarray(post[k].values)))
        for k in structure.latent_names
    }


def _check_same_density(old, new, where: str) -> None:
    """The log prior and the training log-likelihood at every draw equal the stored ones."""
    for group in ("log_prior", "log_likelihood"):
        a, b = old[group], new[group]
        for k in a.data_vars:
            x = np.asarray(a[k].values)
            y = np.asarray(b[k].values) if k in b.data_vars else None
            if (
                y is None
                or x.shape != y.shape
                or not np.allclose(x, y, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True)
            ):
                raise RepredictError(
                    f"the {group.replace('_', ' ')} of {k!r} at the stored draws differs "
                    "from the run's: the problem's priors or training likelihood are not "
                    "those the draws were sampled under; calibrate the problem",
                    where,
                )
