"""``bayesff refine``: calibrate, re-simulate the MD references at the posterior, repeat.

MD targets reweight reference runs made at parameters theta_0
(:mod:`bayesff.observables.md_targets`). The reweighted average is trusted
where the Kish ESS fraction e(theta) of the frames is at least
``ess_min + ess_width / 2``; below, the prediction blends smoothly into a
fallback. If the data pull the posterior away from theta_0, its draws leave
that trust region and the fallback carries them. The loop

1. calibrates the problem (:func:`bayesff.inference.calibrate`), keeping
   each round's run in ``runs/<name>/refine/round-<k>/posterior.nc``;
2. checks the ESS fractions of the posterior draws at every trained state
   of every MD target (:func:`check_trust`);
3. stops when no state needs a re-simulation (:func:`decide`), or when the
   rounds are used up, or when re-simulating cannot help; else it
   re-simulates every reference run at the posterior mean
   (:func:`bayesff.workflows.prepare.prepare` with ``reference=``) and goes
   back to 1.

**The stopping rule** (:func:`decide`; thresholds in :data:`MAX_OUTSIDE` and
:data:`STALL_ESS`). A trained state *needs re-simulation* when more than
``max_outside`` (5 %) of the posterior draws have e below the trust region's
edge ``ess_min + ess_width / 2``, i.e. where the prediction is not purely the
reweighted average. Then

* no state needs it: **converged**;
* every state that needs it already has e >= :data:`STALL_ESS` (0.9) at the
  posterior mean, so the reference *is* at the posterior mean and a new run
  there would change nothing: **stalled**: the posterior is wider than the
  trust region (fewer particles widen the region, as 1/sqrt(N); or read the
  tails as carried by the fallback);
* the last round is done: **max_rounds**;
* otherwise **re-simulate** at the posterior mean and calibrate again.

**Molecular targets, pooled** (``pool=True``, the default): their new runs are
added to the ones already prepared (MBAR over every reference,
:mod:`bayesff.observables.molecular_reweight`), so the loop can do what one
reference cannot: hold a posterior wider than one trust region. Where the mean
is already covered but the tails are not (the *stalled* case above), it adds
references *in the tails* (:func:`tail_references`: the draws outside the trust
region are split along their principal axis and each half's centroid becomes a
reference) for the molecules whose trained states need them, and calibrates again.

After ``bayesff refine`` the prepared runs stay at the last reference, so a
plain ``bayesff calibrate`` uses them.

**The rounds' folder** (``runs/<name>/refine``). Refine writes there only its
own round files (:data:`RUN_FILE`, :data:`CHECKPOINT_FILE` and the copies in
:data:`PREPARED_COPY`), never through a symbolic link that leads out of it;
``force`` removes an earlier refine's round files and nothing else, and refuses
a file of that name that refine did not write. Ctrl-C during a calibration
saves its state in ``round-<k>/checkpoint.npz``; ``resume`` continues that
round from it (the rounds before it kept), and a refine without ``resume``
refuses to start while a checkpoint is there (``force`` discards it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np

from bayesff import prepared, prepared_molecular, runfile
from bayesff.defaults import REFINE_MAX_OUTSIDE, REFINE_N_DRAWS
from bayesff.errors import Interrupted, ProblemError, RunExistsError
from bayesff.inference import calibrate
from bayesff.inference.checkpoint import Checkpoint, CheckpointError
from bayesff.io import confined
from bayesff.observables import md_targets
from bayesff.observables.molecular_reweight import reweightable_parameters
from bayesff.observables.molecular_targets import state_index
from bayesff.prepared import md_targets as md_entries
from bayesff.problem import Problem
from bayesff.workflows.prepare import prepare

__all__ = [
    "CHECKPOINT_FILE",
    "MAX_OUTSIDE",
    "N_DRAWS",
    "PREPARED_COPY",
    "RUN_FILE",
    "STALL_ESS",
    "Decision",
    "RefineResult",
    "RoundResult",
    "StateTrust",
    "TrustReport",
    "check_trust",
    "decide",
    "refine",
    "tail_references",
]

#: Largest fraction of posterior draws of a trained state allowed outside the trust region.
MAX_OUTSIDE = REFINE_MAX_OUTSIDE
#: ESS fraction of the current runs at the posterior mean above which the reference counts
#: as already there (re-simulating would change nothing: the loop has stalled).
STALL_ESS = 0.9
#: Posterior draws at which the ESS fractions are evaluated (evenly thinned).
N_DRAWS = REFINE_N_DRAWS
#: What refine writes in a round's folder ``round-<k>``: the run file, the checkpoint of
#: an interrupted calibration, and the folder of the prepared headers' copies.
RUN_FILE, CHECKPOINT_FILE, PREPARED_COPY = "posterior.nc", "checkpoint.npz", "prepared"
_ROUND = re.compile(r"round-([1-9][0-9]*)")


# ----------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class StateTrust:
    """ESS fractions of the posterior draws at one state of an MD target.

    ``outside``: fraction of draws with e below ``edge`` = ess_min +
    ess_width / 2 (the prediction not purely reweighted); ``below_min``:
    fraction with e < ess_min (mostly fallback); ``at_mean``: e at the
    posterior mean.
    """

    target: str
    T_K: float
    rho_per_A3: float
    trained: bool
    ess_min: float
    edge: float
    min: float
    median: float
    below_min: float
    outside: float
    at_mean: float
    #: The pressure of a molecular target's state, MPa (its rho_per_A3 is NaN).
    p_MPa: float = float("nan")


@dataclass
class TrustReport:
    """Result of :func:`check_trust`.

    Attributes
    ----------
    states
        One :class:`StateTrust` per (MD target in reweight mode, state).
    reference
        The posterior mean: every parameter of the potential (fixed ones at
        their value), internal units (kJ/mol, angstrom): the next reference.
    reference_problem_units
        The posterior mean of the free parameters in the problem's units.
    needs_resimulation
        True if a trained state has more than ``max_outside`` of its draws
        outside the trust region.
    reasons
        Which states and why (empty if none).
    n_draws, max_outside
        Draws evaluated and the threshold used.
    divergent_fraction
        Fraction of divergent transitions of the run (None if unknown).
    """

    states: list[StateTrust]
    reference: dict[str, float]
    reference_problem_units: dict[str, float]
    needs_resimulation: bool
    reasons: list[str]
    n_draws: int
    max_outside: float
    divergent_fraction: float | None = None
    #: Where the draws outside a trained molecular state's trust region lie
    #: (:func:`tail_references`; internal units, every potential parameter).
    tail_references: list[dict[str, float]] = field(default_factory=list)
    #: The molecules with a trained state that needs re-simulation.
    tail_molecules: list[str] = field(default_factory=list)

    def format(self) -> str:
        """A table of the ESS figures and the verdict."""
        lines = [
            f"ESS / n_frames of the MD reference runs at {self.n_draws} posterior draws "
            f"(re-simulate if > {self.max_outside:.0%} of a trained state's draws are below "
            "the trust edge):",
            f"{'target':<14} {'T_K':>8} {'rho /A^3|p MPa':>14} {'edge':>5} {'min':>6} "
            f"{'median':>7} {'at mean':>7} {'<ess_min':>8} {'<edge':>7}",
        ]
        for s in self.states:
            flag = "" if s.trained else "  (held out)"
            lines.append(
                f"{s.target:<14} {s.T_K:>8.2f} {_state_column(s):>14} {s.edge:>5.2f} "
                f"{s.min:>6.3f} {s.median:>7.3f} {s.at_mean:>7.3f} {s.below_min:>8.1%} "
                f"{s.outside:>7.1%}{flag}"
            )
        if self.divergent_fraction is not None:
            lines.append(f"divergent transitions: {self.divergent_fraction:.2%}")
        ref = ", ".join(f"{k} = {v:.6g}" for k, v in self.reference.items())
        lines.append(f"posterior mean (internal units): {ref}")
        for k, r in enumerate(self.tail_references, 1):
            ref = ", ".join(f"{n} = {v:.6g}" for n, v in r.items())
            lines.append(f"tail reference {k} ({', '.join(self.tail_molecules)}): {ref}")
        if self.needs_resimulation:
            lines.append("outside the trust region: " + "; ".join(self.reasons))
        else:
            lines.append("inside the trust region: no re-simulation needed")
        return "\n".join(lines)


def _state_column(s: StateTrust) -> str:
    return f"p {s.p_MPa:.4g}" if np.isnan(s.rho_per_A3) else f"{s.rho_per_A3:.6f}"


def _load(problem, prepared=True):

    if isinstance(problem, Problem):
        return problem
    return Problem.from_toml(Path(problem), prepared=prepared)


def _datatree(run):
    if isinstance(run, (str, Path)):
        return runfile.read(run)
    return getattr(run, "datatree", run)


def _posterior_draws(run, free) -> tuple[dict, float | None]:
    """Flat draws {name: (n,)} of the free parameters (problem units) and the divergences."""
    if isinstance(run, Mapping) and all(n in run for n in free):
        return {n: np.asarray(run[n], dtype=float).ravel() for n in free}, None
    dt = _datatree(run)
    post = dt["posterior"]
    draws = {n: np.asarray(post[n].values, dtype=float).ravel() for n in free}
    try:
        divergent = float(np.mean(np.asarray(dt["sample_stats"]["diverging"].values)))
    except KeyError:
        divergent = None
    return draws, divergent


def _internal(problem, draws: dict) -> dict:
    """Every potential parameter in internal units, arrays over draws."""
    n = len(next(iter(draws.values())))
    out = {}
    for p, par in problem.parameters.items():
        v = np.full(n, par.value) if par.fixed else np.asarray(draws[p])
        out[p] = np.asarray(problem.to_internal(p, v), dtype=float)
    return out


def _mean_reference(problem, draws):
    mean = {n: float(np.mean(v)) for n, v in draws.items()}
    internal = {
        p: float(problem.to_internal(p, par.value if par.fixed else mean[p]))
        for p, par in problem.parameters.items()
    }
    return internal, mean


def _ess_at(potential, params: dict, aux: dict, batch_size: int) -> np.ndarray:
    """ESS fractions (draws, states) of a target's prepared runs."""

    def one(p):
        return md_targets.ess_fractions(potential, p, aux)

    f = jax.jit(lambda ps: jax.lax.map(one, ps, batch_size=batch_size))
    return np.asarray(f({k: np.asarray(v) for k, v in params.items()}))


def _molecular_trust(problem, params, reference, max_outside, batch_size):
    """StateTrust of every state of every molecular MD target (rho_per_A3 is NaN there),
    the reasons, which draws lie outside a failing trained state, and its molecules."""
    states, reasons = [], []
    n = len(next(iter(params.values())))
    outside_any = np.zeros(n, dtype=bool)
    molecules: list[str] = []
    for t, pot, settings, _ in prepared_molecular.molecular_targets(problem):
        if t.aux is None:
            raise ProblemError(
                "no prepared data attached; load the problem with its prepared runs",
                f"target {t.name!r}",
            )
        pred = t.observable.build(pot, **t.options)
        aux = {k: np.asarray(v) for k, v in t.aux.items()}

        def ess_of(ps, b, pred=pred, aux=aux):
            def one(q):
                return pred.ess_fractions(q, aux)

            f = jax.jit(lambda qs: jax.lax.map(one, qs, batch_size=b))
            return np.asarray(f({k: np.asarray(v) for k, v in ps.items()}))

        ess = ess_of(params, batch_size)
        at_mean = ess_of({k: np.array([v]) for k, v in reference.items()}, 1)[0]
        pcol = t.observable.env[1].column
        T = np.asarray(t.env["T_K"], float).ravel()
        p = np.asarray(t.env[pcol], float).ravel()
        rows = state_index(T, p, aux["state_T_K"], aux["state_p_MPa"], np)[0]
        edge = settings.ess_min + settings.ess_width / 2
        for s in range(ess.shape[1]):
            e = ess[:, s]
            st = StateTrust(
                target=t.name,
                T_K=float(aux["state_T_K"][s]),
                rho_per_A3=float("nan"),
                trained=bool(t.train[rows == s].any()),
                ess_min=settings.ess_min,
                edge=edge,
                min=float(e.min()),
                median=float(np.median(e)),
                below_min=float(np.mean(e < settings.ess_min)),
                outside=float(np.mean(e < edge)),
                at_mean=float(at_mean[s]),
                p_MPa=float(aux["state_p_MPa"][s]),
            )
            states.append(st)
            if st.trained and st.outside > max_outside:
                reasons.append(
                    f"{t.name} at T = {st.T_K:g} K, p = {st.p_MPa:.4g} MPa: "
                    f"{st.outside:.0%} of the draws below e = {edge:g}"
                )
                outside_any |= e < edge
                if settings.molecule not in molecules:
                    molecules.append(settings.molecule)
    return states, reasons, outside_any, molecules


def tail_references(
    draws: Mapping[str, np.ndarray], outside: np.ndarray, min_draws: int = 3
) -> list[dict[str, float]]:
    """Where to add references so that pooled runs cover a posterior's tails.

    The draws outside the trust region of a posterior wider than it lie on both
    sides of the mean (the mean is covered). In coordinates standardised by the
    draws' standard deviations, their principal axis (about the mean) is the
    direction they leave along; splitting them by the sign of their projection
    on it and taking each half's centroid gives one reference per side, about
    where the uncovered posterior mass is.

    Parameters
    ----------
    draws
        ``{name: (n,)}`` of every potential parameter (fixed ones constant).
    outside
        (n,) bool: the draws outside a trust region that needs re-simulation.
    min_draws
        A side with fewer outside draws gets no reference.

    Returns
    -------
    list of dict
        Zero, one or two parameter sets (same names and units as ``draws``).
    """
    names = list(draws)
    X = np.stack([np.asarray(draws[n], dtype=float) for n in names], axis=1)
    outside = np.asarray(outside, dtype=bool)
    if outside.sum() < min_draws:
        return []
    mean, sd = X.mean(axis=0), X.std(axis=0)
    free = sd > 0
    Z = np.zeros_like(X)
    Z[:, free] = (X[:, free] - mean[free]) / sd[free]
    Zo = Z[outside]
    # principal axis of the outside draws about the mean (not about their centroid,
    # which sits near the mean when they fall out on both sides)
    axis = np.linalg.eigh(Zo.T @ Zo)[1][:, -1]
    side = Zo @ axis >= 0.0
    out = []
    for half in (side, ~side):
        if half.sum() >= min_draws:
            c = X[outside][half].mean(axis=0)
            out.append({n: float(v) for n, v in zip(names, c, strict=True)})
    return out


def _state_of_rows(target, aux) -> np.ndarray:
    T = np.asarray(target.env["T_K"], float).reshape(target.n, -1)[:, 0]
    rho = np.asarray(target.env["rho_per_A3"], float).reshape(target.n, -1)[:, 0]
    d = np.abs(T[:, None] / aux["T_K"][None] - 1) + np.abs(
        rho[:, None] / aux["rho_per_A3"][None] - 1
    )
    return np.argmin(d, axis=1)


def check_trust(
    problem,
    run,
    *,
    n_draws: int = N_DRAWS,
    max_outside: float = MAX_OUTSIDE,
    batch_size: int = 8,
) -> TrustReport:
    """How much of a run's posterior lies outside its MD targets' trust regions.

    For every MD target in ``reweight`` mode and each of its states, the
    ESS fraction e of the prepared reference run is computed at ``n_draws``
    posterior draws (evenly thinned over all chains) and at the posterior mean.

    Parameters
    ----------
    problem
        The :class:`~bayesff.problem.Problem` that was calibrated, with its
        prepared data (or its TOML path: loaded with the prepared data now in
        ``prepared/<name>``).
    run
        A :class:`~bayesff.inference.Run`, its DataTree, a run-file path, or a
        dict of draws (problem units) of every free parameter.
    n_draws
        Posterior draws evaluated.
    max_outside
        Largest tolerated fraction of a trained state's draws with e below
        the trust edge (0 <= max_outside < 1).
    batch_size
        Draws evaluated at once (memory: batch x frames x pairs floats).

    Returns
    -------
    TrustReport
    """

    if not 0.0 <= max_outside < 1.0:
        raise ProblemError(f"max_outside must be in [0, 1), got {max_outside!r}", "refine")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ProblemError(f"n_draws must be an integer >= 1, got {n_draws!r}", "refine")
    problem = _load(problem)
    draws, divergent = _posterior_draws(run, problem.free_parameters)
    total = len(next(iter(draws.values())))
    pick = np.unique(np.linspace(0, total - 1, min(n_draws, total)).round().astype(int))
    params = _internal(problem, {k: v[pick] for k, v in draws.items()})
    reference, mean = _mean_reference(problem, draws)
    states, reasons = [], []
    for t, pot, settings, _ in md_entries(problem):
        if settings.mode != "reweight":
            continue
        if t.aux is None:
            raise ProblemError(
                "no prepared data attached; load the problem with its prepared runs",
                f"target {t.name!r}",
            )
        aux = {k: np.asarray(v) for k, v in t.aux.items()}
        ess = _ess_at(pot, params, aux, batch_size)
        at_mean = _ess_at(pot, {k: np.array([v]) for k, v in reference.items()}, aux, 1)[0]
        rows = _state_of_rows(t, aux)
        edge = settings.ess_min + settings.ess_width / 2
        for s in range(ess.shape[1]):
            e = ess[:, s]
            st = StateTrust(
                target=t.name,
                T_K=float(aux["T_K"][s]),
                rho_per_A3=float(aux["rho_per_A3"][s]),
                trained=bool(t.train[rows == s].any()),
                ess_min=settings.ess_min,
                edge=edge,
                min=float(e.min()),
                median=float(np.median(e)),
                below_min=float(np.mean(e < settings.ess_min)),
                outside=float(np.mean(e < edge)),
                at_mean=float(at_mean[s]),
            )
            states.append(st)
            if st.trained and st.outside > max_outside:
                reasons.append(
                    f"{t.name} at T = {st.T_K:g} K, rho = {st.rho_per_A3:g} /angstrom^3: "
                    f"{st.outside:.0%} of the draws below e = {edge:g}"
                )
    states_m, reasons_m, outside_m, molecules = _molecular_trust(
        problem, params, reference, max_outside, batch_size
    )
    states += states_m
    reasons += reasons_m
    return TrustReport(
        tail_references=tail_references(params, outside_m) if molecules else [],
        tail_molecules=molecules,
        states=states,
        reference=reference,
        reference_problem_units=mean,
        needs_resimulation=bool(reasons),
        reasons=reasons,
        n_draws=len(pick),
        max_outside=max_outside,
        divergent_fraction=divergent,
    )


# ----------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class Decision:
    """What the loop does after a round: ``status`` is ``"converged"``,
    ``"resimulate"``, ``"stalled"`` or ``"max_rounds"``; ``reason`` says why."""

    status: str
    reason: str

    @property
    def resimulate(self) -> bool:
        return self.status == "resimulate"


def decide(
    report: TrustReport,
    round_no: int,
    max_rounds: int,
    *,
    stall_ess: float = STALL_ESS,
    pool: bool = False,
) -> Decision:
    """The stopping rule of :func:`refine` (see the module docstring); with ``pool``,
    a covered mean and uncovered tails mean adding tail references, not a stall."""
    if not report.needs_resimulation:
        return Decision("converged", "the posterior lies inside every trust region")
    failing = [s for s in report.states if s.trained and s.outside > report.max_outside]
    covered = failing and all(s.at_mean >= stall_ess for s in failing)
    if covered and pool and report.tail_references and round_no < max_rounds:
        return Decision(
            "resimulate",
            f"the posterior mean is covered but its tails are not: adding "
            f"{len(report.tail_references)} reference(s) in the tails for "
            f"{', '.join(report.tail_molecules)}",
        )
    if covered:
        worst = max(failing, key=lambda s: s.outside)
        return Decision(
            "stalled",
            f"the reference runs are already at the posterior mean (ESS/n >= {stall_ess:g} "
            f"there) but {worst.outside:.0%} of the draws at {worst.target}, T = "
            f"{worst.T_K:g} K lie outside the trust region: the posterior is wider than the "
            "region (fewer particles widen it, as 1/sqrt(N); the tails are carried by the "
            "fallback)",
        )
    if round_no >= max_rounds:
        return Decision(
            "max_rounds",
            f"{max_rounds} round(s) done and the posterior still leaves the trust region; "
            "run more rounds",
        )
    return Decision("resimulate", "re-simulating at the posterior mean")


# ----------------------------------------------------------------------------- the loop


@dataclass
class RoundResult:
    """One round: the run file, the MD reference it used, the check and the decision."""

    round: int
    run_path: Path | None
    reference: dict[str, float]
    report: TrustReport
    decision: Decision
    diagnostics: object = None


@dataclass
class RefineResult:
    """Result of :func:`refine`: every round, the final status and reference."""

    rounds: list[RoundResult] = field(default_factory=list)
    status: str = ""
    reference: dict[str, float] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def run_path(self) -> Path | None:
        """The last round's run file."""
        return self.rounds[-1].run_path if self.rounds else None


def _reference_in_use(problem) -> dict[str, float]:

    for t, pot, _, _ in md_entries(problem):
        if t.aux is not None:
            ref = np.asarray(t.aux["reference"])[0]
            return {n: float(v) for n, v in zip(pot.param_names, ref, strict=True)}
    for t, pot, _, _ in prepared_molecular.molecular_targets(problem):
        if t.aux is not None:
            names = reweightable_parameters(pot.topology)
            ref = np.asarray(t.aux["reference"])
            return {n: float(v) for n, v in zip(names, ref, strict=True)}
    return {}


def _keep_prepared(directory: Path, dest: Path) -> None:
    """Copy the prepared headers and manifest used in a round (not the frames)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in [*directory.glob("*.json"), directory / "manifest.toml"]:
        if f.is_file():
            shutil.copy2(f, dest / f.name)


def refine(
    problem,
    *,
    max_rounds: int = 3,
    out=None,
    force: bool = False,
    resume: bool = False,
    n_draws: int = N_DRAWS,
    max_outside: float = MAX_OUTSIDE,
    progress: bool | None = None,
    log=print,
    directory=None,
    pool: bool = True,
    **overrides,
) -> RefineResult:
    """Calibrate, re-simulate the MD references at the posterior mean, until converged.

    Parameters
    ----------
    problem
        A problem file's path, or a :class:`~bayesff.problem.Problem`
        (prepared, and a copy with the new runs attached, each round).
    max_rounds
        At most this many calibrations (>= 1).
    out
        Folder of the rounds' runs (default ``runs/<name>/refine``): each
        round writes ``round-<k>/posterior.nc`` and a copy of the prepared
        runs' headers and manifest (``round-<k>/prepared/``).
    force
        Remove the round files of an earlier refine in ``out`` (run files,
        checkpoints, prepared copies; else an error before any work). Any
        other file is left as it is, and a file with a round file's name that
        refine did not write is refused.
    resume
        Continue the round that was interrupted (Ctrl-C) from its
        ``round-<k>/checkpoint.npz``, with the prepared runs as they are; the
        rounds before it are kept and not repeated (``RefineResult.rounds``
        starts at the resumed round). The same problem and sampler settings as
        before, else an error before any sampling.
    n_draws, max_outside
        As for :func:`check_trust`.
    progress, log
        Progress bar of each calibration, and where progress lines go.
    directory
        The prepared directory (default ``prepared/<name>``).
    pool
        Keep the molecular runs of earlier references and add each round's to
        them (MBAR over all: the trust region grows around every reference the
        loop has visited), instead of replacing them. Pair MD runs (argon) are
        one file per state and are always replaced.
    **overrides
        ``chains``, ``warmup``, ``samples``, ``seed``, ``thin`` for every
        calibration (:func:`bayesff.inference.calibrate`).

    Returns
    -------
    RefineResult
        Every round run now (run file, reference used, :class:`TrustReport`,
        :class:`Decision`), the final status (``converged``, ``stalled`` or
        ``max_rounds``) and the reference the prepared runs are now at.
    """

    log = log or (lambda *a, **k: None)
    given, d, paths, start = _set_up(problem, max_rounds, out, directory, force, resume, log)
    result = RefineResult()
    for k in range(start, max_rounds + 1):
        prob = prepared.attach(given, d)[0] if given else Problem.from_toml(problem, prepared=d)
        ref = _reference_in_use(prob)
        log(f"refine round {k}/{max_rounds}: calibrating with the MD reference {ref}")
        run = _calibrate_round(
            prob, paths[k - 1], k, bool(resume) and k == start, progress, log, overrides
        )
        _keep_prepared(d, paths[k - 1].parent / PREPARED_COPY)
        log(run.summary())
        report = check_trust(prob, run, n_draws=n_draws, max_outside=max_outside)
        decision = decide(report, k, max_rounds, pool=pool)
        log(report.format())
        log(f"round {k}: {decision.status}: {decision.reason}")
        result.rounds.append(RoundResult(k, run.path, ref, report, decision, run.diagnostics))
        result.status = decision.status
        result.reference = ref
        if not decision.resimulate:
            break
        moved = _resimulate(given or problem, d, report, run, k, pool, max_outside, log)
        if moved is not None:
            result.reference = moved
    return result


def _set_up(problem, max_rounds, out, directory, force: bool, resume: bool, log):
    """Everything before the first round, checked before any work: the problem given as
    a :class:`Problem` (or None), the prepared directory, each round's run file and the
    round to start from; the MD references prepared unless a round is resumed."""
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ProblemError(f"max_rounds must be an integer >= 1, got {max_rounds!r}", "refine")
    given = problem if isinstance(problem, Problem) else None
    base = given or Problem.from_toml(Path(problem), prepared=False)
    if not prepared.plan(base) and not prepared_molecular.plan_molecular(base):
        raise ProblemError("the problem has no MD target: nothing to refine", str(problem))
    d = Path(directory) if directory is not None else prepared.default_directory(base.name)
    if directory is None:  # prepared/NAME linked elsewhere: refused before any work
        prepared.output_directory(d)
    out = Path(out) if out is not None else Path("runs") / base.name / "refine"
    paths = [out / f"round-{k}" / RUN_FILE for k in range(1, max_rounds + 1)]
    start = _check_rounds(out, max_rounds, force, bool(resume))
    if resume:  # the checkpoint was made with the prepared runs as they are now
        log(f"refine: resuming round {start} from {paths[start - 1].with_name(CHECKPOINT_FILE)}")
    else:
        prepare(given or problem, log=log, directory=d)
    return given, d, paths, start


def _calibrate_round(prob, path: Path, k: int, resume: bool, progress, log, overrides):
    """Round ``k``'s calibration into ``path``; on Ctrl-C, an :class:`Interrupted` that
    says how to go on with ``bayesff refine`` (resume the round, or start again)."""
    try:
        return calibrate(
            prob, out=path, force=True, resume=resume, progress=progress, log=log, **overrides
        )
    except Interrupted as e:
        if e.checkpoint:
            msg = (
                f"interrupted in round {k}; its state is saved in {e.checkpoint}: run the same "
                "bayesff refine command with --resume (resume=True) to continue that round"
            )
        elif k == 1:
            msg = "interrupted before sampling began; nothing to save: run the same command again"
        else:
            msg = (
                f"interrupted in round {k} before sampling began; nothing to save for it (rounds "
                f"1-{k - 1} are in {path.parent.parent}): run the same command with --force to "
                "start again from round 1"
            )
        raise Interrupted(e.checkpoint, msg) from None


def _check_rounds(out: Path, max_rounds: int, force: bool, resume: bool) -> int:
    """Check the rounds' folder before any work; return the round to start from.

    A fresh refine starts at round 1: the round files an earlier one wrote in ``out``
    (any round) are refused, or with ``force`` removed; nothing else is touched. With
    ``resume`` it starts at the round whose checkpoint is there: the rounds before it
    are kept, and the files of that round (but its checkpoint) and of later ones are
    handled as for a fresh refine. No path that leads out of ``out`` is written or removed.
    """
    for k in range(1, max_rounds + 1):  # calibrate writes here: never through a link out
        confined(out / f"round-{k}" / RUN_FILE, out, "round file")
    rounds = _round_folders(out)
    start = _interrupted_round(out, rounds, max_rounds) if resume else 1
    found = []
    for k, folder in rounds.items():
        if k >= start:
            found += [
                (path, kind)
                for path, kind in _round_files(folder, out)
                if not (resume and k == start and kind == CHECKPOINT_FILE)
            ]
    if found and not force:
        kinds = {kind for _, kind in found}
        raise RunExistsError(
            "a checkpoint of an interrupted refine is there: pass --resume (resume=True) to "
            "continue its round, or --force (force=True) to start again, which removes it and "
            "the earlier rounds' files"
            if CHECKPOINT_FILE in kinds
            else "a round file of an earlier refine is already there; pass --force (force=True) "
            "to replace the rounds, or --out to write elsewhere",
            str(next((p for p, kind in found if kind == CHECKPOINT_FILE), found[0][0])),
        )
    for path, kind in found:  # every one checked before any is removed
        if not _written_by_refine(path, kind):
            raise RunExistsError(
                f"not a file bayesff refine wrote (expected {_EXPECTED[kind]}); --force "
                "(force=True) replaces only refine's own round files: move it away, or write "
                "elsewhere with --out",
                str(path),
            )
    for path, _ in found:
        path.unlink()
    for k, folder in rounds.items():  # folders the removal left empty
        for f in (folder / PREPARED_COPY, folder):
            if k >= start and f.is_dir() and not f.is_symlink() and not any(f.iterdir()):
                f.rmdir()
    return start


#: What a round file is expected to be, by kind (:func:`_round_files`).
_EXPECTED = {
    RUN_FILE: "a bayesff run file",
    CHECKPOINT_FILE: "a bayesff checkpoint",
    PREPARED_COPY: "a copy of a prepared header (*.json) or manifest.toml",
}


def _round_folders(out: Path) -> dict[int, Path]:
    """The round folders ``round-<k>`` in ``out``, by k (other names are not refine's)."""
    if not out.is_dir():
        return {}
    found = {}
    for f in out.iterdir():
        m = _ROUND.fullmatch(f.name)
        if m:
            found[int(m.group(1))] = f
    return dict(sorted(found.items()))


def _round_files(folder: Path, out: Path) -> list[tuple[Path, str]]:
    """(path, kind) of the round files in a round's folder: its run file, its checkpoint
    and the copies in its prepared folder; refused where one leads out of ``out``."""
    confined(folder, out, "round folder")
    names = [(folder / RUN_FILE, RUN_FILE), (folder / CHECKPOINT_FILE, CHECKPOINT_FILE)]
    copies = folder / PREPARED_COPY
    if os.path.lexists(copies):
        confined(copies, out, "round folder")
        if copies.is_dir():
            names += [(f, PREPARED_COPY) for f in sorted(copies.glob("*.json"))]
            names.append((copies / "manifest.toml", PREPARED_COPY))
        else:
            names.append((copies, PREPARED_COPY))  # refused below: not a folder of copies
    found = [(p, kind) for p, kind in names if os.path.lexists(p)]
    for p, _ in found:
        confined(p, out, "round file")
    return found


def _written_by_refine(path: Path, kind: str) -> bool:
    """Whether ``path`` is what refine writes there (a run file that reads as one, a
    checkpoint with a bayesff header, a plain file among the prepared copies)."""
    if not path.is_file():
        return False
    if kind == RUN_FILE:
        return runfile.replaceable(path)
    if kind == CHECKPOINT_FILE:
        try:
            Checkpoint(path, {}).check()
        except CheckpointError:
            return False
        return True
    return path.parent.name == PREPARED_COPY


def _interrupted_round(out: Path, rounds: dict[int, Path], max_rounds: int) -> int:
    """The round whose checkpoint ``resume`` continues (exactly one must be there)."""
    found = [k for k, f in rounds.items() if os.path.lexists(f / CHECKPOINT_FILE)]
    if not found:
        raise CheckpointError(
            f"no checkpoint of an interrupted refine to resume: expected "
            f"round-<k>/{CHECKPOINT_FILE} in this folder; run without --resume to start",
            str(out),
        )
    if len(found) > 1:
        raise CheckpointError(
            f"checkpoints in rounds {', '.join(map(str, found))}: expected one, of the round "
            "that was interrupted; pass --force without --resume to start again",
            str(out),
        )
    k = found[0]
    if k > max_rounds:
        raise ProblemError(
            f"the checkpoint is of round {k}, but at most {max_rounds} round(s) were asked "
            f"for: pass --rounds {k} or more to resume it",
            str(rounds[k] / CHECKPOINT_FILE),
        )
    return k


def _resimulate(problem, d: Path, report, run, k: int, pool: bool, max_outside, log):
    """One round's new reference runs: at the posterior mean, or (pooled, with the mean
    already covered) at the tail references. The new reference, or None if unmoved."""
    moved = None
    failing = [s for s in report.states if s.trained and s.outside > max_outside]
    mean_covered = bool(failing) and all(s.at_mean >= STALL_ESS for s in failing)
    if not (pool and mean_covered):
        prepare(
            problem,
            log=log,
            directory=d,
            reference=report.reference,
            origin=f"bayesff refine round {k}: posterior mean of {run.path}",
            pool=pool,
        )
        moved = dict(report.reference)
    if pool and mean_covered:
        for j, ref in enumerate(report.tail_references, 1):
            prepare(
                problem,
                log=log,
                directory=d,
                reference=ref,
                origin=f"bayesff refine round {k}: tail reference {j} of {run.path}",
                pool=True,
                molecules=report.tail_molecules,
                expand_about=report.reference,
            )
    return moved
