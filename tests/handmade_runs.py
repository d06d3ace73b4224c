"""Run files with hand-chosen draws, written by bayesff's own writer (bayesff.runfile.build).

Tests of the transferability criteria need draws whose tolerance probabilities,
intervals and residuals are known exactly; sampling cannot give those. These
helpers build a real :class:`~bayesff.problem.Problem` from arrays and pass
the chosen draws to :func:`bayesff.runfile.build`, so the run has exactly the
layout :func:`bayesff.calibrate` writes and the code under test reads it
through :mod:`bayesff.runfile` like any other run.
"""

from __future__ import annotations

import numpy as np


def target(name, observable, env, values, *, u=1.0, train=None, holdout=None, file_units=None):
    """A target from arrays (internal units); ``holdout`` = {group: boolean mask}."""
    from bayesff.targets import Target

    t = Target.from_arrays(
        name, observable, env, values, u, train=train, file_units=file_units or {}
    )
    if holdout is not None:
        t = t.replace(holdout={g: np.asarray(m, bool) for g, m in holdout.items()})
    return t


def _stats(s: int, rng) -> dict:
    return {
        "diverging": np.zeros((1, s), bool),
        "energy": rng.standard_normal((1, s)),
        "num_steps": np.full((1, s), 3),
        "accept_prob": np.full((1, s), 0.9),
        "potential_energy": rng.standard_normal((1, s)),
        "step_size": np.full((1, s), 0.1),
    }


def build_run(
    targets,
    draws,
    *,
    tolerance=None,
    candidates=None,
    potential="lennard_jones",
    name="synthetic",
):
    """A run DataTree with one chain of S hand-chosen draws.

    Parameters
    ----------
    targets
        Targets (:func:`target`).
    draws
        ``{target: {"train": {"model", "rep", "ll"}, "holdout": {"model", "rep"}}}``,
        each an ``(S, rows, ...)`` array over the target's training rows or its
        held-out rows (in row order).
    tolerance
        The problem's ``[transferability] tolerance``.
    candidates
        ``{name: (parameter values in the problem's units, {target: (rows,) bare forward
        model at every row})}``: the ``candidates`` group.
    """
    from bayesff import runfile
    from bayesff.model import structure_of
    from bayesff.potentials import get_potential
    from bayesff.problem import Problem

    problem = Problem(
        name=name,
        potential=get_potential(potential),
        parameters={},
        targets=list(targets),
        tolerance=dict(tolerance or {}),
        candidates=[{"name": n, "values": v} for n, (v, _) in (candidates or {}).items()],
    )
    structure = structure_of(problem)
    s = next(np.shape(a)[0] for d in draws.values() for part in d.values() for a in part.values())
    rng = np.random.default_rng(0)
    latent = {n: rng.standard_normal((1, s)) for n in structure.latent_names}
    out = {
        "posterior": latent,
        "prior": latent,
        "log_prior": latent,
        "stats": _stats(s, rng),
        "pp": {},
        "ll": {},
        "prior_pp": {},
        "pred": {},
        "pred_ll": {},
        "candidates": {n: f for n, (_, f) in candidates.items()} if candidates else None,
        "chains": 1,
        "draws": s,
        "prior_draws": s,
    }
    for t, d in draws.items():
        if "train" in d:
            tr = d["train"]
            out["pp"][t] = out["prior_pp"][t] = np.asarray(tr["rep"])[None]
            out["pp"][f"{t}_model"] = out["prior_pp"][f"{t}_model"] = np.asarray(tr["model"])[None]
            out["ll"][t] = np.asarray(tr["ll"])[None]
        if "holdout" in d:
            out["pred"][t] = np.asarray(d["holdout"]["rep"])[None]
            out["pred"][f"{t}_model"] = np.asarray(d["holdout"]["model"])[None]
    settings = {"seed": 0, "chains": 1, "warmup": 0, "samples": s}
    settings["parameters"] = list(structure.free)
    return runfile.build(problem, structure, runfile.RunContent(**out), settings)


def vdw_run(kind="mie_vdw", m_fixed=True):
    """A run of ``kind`` whose posterior holds epsilon_vdw (K), sigma and n by hand, m = 5.5
    fixed in its problem text (or sampled)."""
    import xarray as xr

    from bayesff.runfile import text_sha256

    t = target("B2", "second_virial", {"T_K": np.array([300.0, 400.0])}, np.array([-10.0, -5.0]))
    rows = np.zeros((3, 2))
    dt = build_run([t], {"B2": {"train": {"model": rows, "rep": rows, "ll": rows}}})
    post = dt["posterior"].to_dataset().drop_vars(["epsilon", "sigma"])  # the LJ run's
    draws = {
        "epsilon_vdw": [100.0, 110.0, 120.0],
        "sigma": [3.4, 3.41, 3.42],
        "n": [9.0, 13.0, 20.0],
    }
    if not m_fixed:
        draws["m"] = [5.0, 5.5, 6.0]
    for p, x in draws.items():
        post[p] = (("chain", "draw"), np.asarray(x)[None])
        post[p].attrs["units"] = (
            "K" if p == "epsilon_vdw" else ("angstrom" if p == "sigma" else "1")
        )
    dt["posterior"] = xr.DataTree(post)
    dt.attrs["parameters"] = list(draws)
    fixed = '[parameters.m]\nunit = "1"\nvalue = 5.5\n' if m_fixed else ""
    dt.attrs["problem_text"] = f'[problem]\nname = "x"\n[potential]\nkind = "{kind}"\n{fixed}'
    dt.attrs["problem_text_sha256"] = text_sha256(dt.attrs["problem_text"])  # as written
    return dt, draws


def vdw_alpha_closed_form(n, m):
    # Ramrattan et al. 2015, eq. 6: C [1/(m-3) - 1/(n-3)], C the Mie prefactor
    c = n / (n - m) * (n / m) ** (m / (n - m))
    return c * (1 / (m - 3) - 1 / (n - 3))
