r"""Which data drive which parameter, and how much the priors matter.

For a finished run (a run file written by :func:`bayesff.calibrate`):

* **Power-scaling sensitivity** (Kallioinen, Paananen, Buerkner and Vehtari,
  Stat. Comput. 34, 57 (2024), doi:10.1007/s11222-023-10366-5), computed by
  ArviZ (:func:`arviz_stats.psense`): the posterior is reweighted as if one
  component of the joint density were raised to the power
  :math:`\alpha \in \{0.99, 1.01\}`,

  .. math:: p_\alpha(\theta \mid y) \propto p(\theta)^{\alpha} p(y \mid \theta)
     \quad\text{(prior)}, \qquad
     p(\theta)\, p(y_t \mid \theta)^{\alpha} \prod_{s \ne t} p(y_s \mid \theta)
     \quad\text{(target } t\text{)},

  by Pareto-smoothed importance weights, and the sensitivity of each parameter
  is the derivative of the cumulative Jensen-Shannon distance between the
  reweighted and the original marginal at :math:`\alpha = 1`. Components: all
  priors together, the prior of each parameter alone, the whole likelihood,
  and each target's likelihood alone (the run file's ``log_prior`` group has one
  variable per latent site, ``log_likelihood`` one per target). Following the
  paper, a sensitivity of 0.05 or more is "sensitive": prior >= 0.05 with
  likelihood < 0.05 means the prior dominates (weak likelihood), both >= 0.05
  a possible prior-data conflict. A flat (uniform) prior has a constant log
  density and cannot be power-scaled; its influence is read from how much of
  the posterior lies at its bounds instead.
* **Leave-one-target-out posteriors**: the posterior without target t's
  likelihood, by Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman,
  Yao and Gabry, JMLR 25, 72 (2024), arXiv:1507.02646) with log weights
  :math:`-\log p(y_t \mid \theta^{(s)})` (:meth:`arviz_stats` ``psislw``),
  and its Pareto :math:`\hat k`. Where :math:`\hat k > 0.7` the weights are not
  reliable and, with ``refit=True``, the posterior is sampled again without
  the target (:func:`bayesff.inference.calibrate`, the run's own sampler
  settings); refits are kept beside the run file
  (``<run folder>/sensitivity/without_<target>.nc``) and reused while the
  problem and its data are unchanged.

The result (:class:`SensitivityResult`) says in words which target drives which
parameter and whether a prior dominates (:meth:`SensitivityResult.lines`),
prints as a table (:meth:`SensitivityResult.table`), and is the command
``bayesff sensitivity RUN`` (:mod:`bayesff.cli.runs`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from arviz_stats import ess, psense

from bayesff import runfile
from bayesff.errors import BayesffError
from bayesff.inference import calibrate
from bayesff.inference.diagnostics import diagnose
from bayesff.problem import Problem
from bayesff.transferability.compare import PSIS_MIN_DRAWS, psis_shortfall

__all__ = [
    "K_REFIT",
    "SENSITIVE",
    "LeftOut",
    "SensitivityError",
    "SensitivityResult",
    "psense_view",
    "read_run",
    "sensitivity",
]

#: Power-scaling sensitivity at or above which a parameter counts as sensitive
#: to a component (Kallioinen et al. 2024, section 3.3).
SENSITIVE = 0.05
#: Pareto k above which importance weights are unreliable and a leave-one-target-out
#: posterior is refitted (Vehtari et al. 2024: k > 0.7 for any sample size above ~2,000).
K_REFIT = 0.7
#: A leave-one-target-out change of the posterior mean by this many posterior sd, or of
#: the sd by this factor, counts as the target driving the parameter.
SHIFT_DRIVES = 1.0
WIDEN_DRIVES = 1.5
#: Fraction of the posterior within 1 % of the prior range's ends above which a flat
#: prior's bound is said to hold the parameter.
AT_BOUND = 0.05
_ALPHAS = (0.99, 1.01)
_SAMPLE_DIMS = ["chain", "draw"]


class SensitivityError(BayesffError):
    """A run lacks what the sensitivity analysis needs, or cannot be refitted."""


@dataclass
class LeftOut:
    """The posterior without one target's likelihood.

    Attributes
    ----------
    target
        The target left out.
    pareto_k
        Pareto k of the importance weights that remove it (NaN for "prior").
    method
        ``"psis"`` (importance weights, k <= 0.7), ``"refit"`` (sampled again),
        ``"psis, unreliable"`` (k > 0.7 and no refit) or ``"prior"`` (the only
        trained target: what is left is the prior, read from the run's prior draws).
    mean, sd, q05, q95
        Parameter -> posterior mean, sd and 5 %, 95 % quantiles without the target.
    shift
        Parameter -> (mean without - mean with) / sd with: how far the target pulls.
    widen
        Parameter -> sd without / sd with: how much the target narrows.
    refit_path
        The refitted run file, when there is one.
    diagnostics
        The refit's convergence warnings (R-hat, bulk ESS, divergences, E-BFMI;
        :func:`bayesff.inference.diagnostics.diagnose`); empty when it converged or
        was not refitted. A refit with warnings is indicative only.
    """

    target: str
    pareto_k: float
    method: str
    mean: dict
    sd: dict
    q05: dict
    q95: dict
    shift: dict = field(default_factory=dict)
    widen: dict = field(default_factory=dict)
    refit_path: str | None = None
    diagnostics: list = field(default_factory=list)

    @property
    def shown_method(self) -> str:
        """``method``, with ", not converged" for a refit with diagnostics warnings."""
        return self.method + (", not converged" if self.diagnostics else "")


@dataclass
class SensitivityResult:
    """Power-scaling sensitivities and leave-one-target-out posteriors of a run.

    Attributes
    ----------
    run
        The run file (or the problem name for a run in memory).
    parameters
        The potential's sampled parameters; ``units`` their units.
    targets
        Trained targets (those with a likelihood).
    posterior
        Parameter -> ``{"mean", "sd", "q05", "q95"}`` of the full posterior.
    prior, likelihood
        Parameter -> power-scaling sensitivity to all priors / the whole likelihood.
    by_prior
        Latent site -> parameter -> sensitivity to that site's prior alone.
    by_target
        Target -> parameter -> sensitivity to that target's likelihood alone.
    pareto_k
        Component (``"prior"``, ``"likelihood"``, ``"prior:<site>"``,
        ``"likelihood:<target>"``) -> largest Pareto k of its power-scaling weights
        (above 0.7 the sensitivity is an estimate from unreliable weights).
    flat_priors
        Latent sites whose log prior density is constant over the draws (uniform
        priors): power-scaling cannot see them.
    at_bound
        Parameter -> fraction of posterior draws within 1 % of either end of the
        prior draws' range, for parameters with a flat prior.
    left_out
        Target -> :class:`LeftOut`.
    timings
        Seconds spent in power-scaling, importance sampling and refits.
    """

    run: str
    parameters: list
    units: dict
    targets: list
    posterior: dict
    prior: dict
    likelihood: dict
    by_prior: dict
    by_target: dict
    pareto_k: dict
    flat_priors: list
    at_bound: dict
    left_out: dict
    timings: dict = field(default_factory=dict)

    # ----------------------------------------------------------------- reading
    def diagnosis(self, p: str) -> str:
        """ArviZ's diagnosis of parameter ``p`` (Kallioinen et al. 2024), with flat priors.

        A parameter whose flat prior's bound holds it (:data:`AT_BOUND`) is said so first:
        its own prior cannot be power-scaled, and the sensitivity it shows to "the priors"
        comes from the other parameters' priors through the posterior correlation.
        """
        pr, li = self.prior[p], self.likelihood[p]
        if self.at_bound.get(p, 0.0) >= AT_BOUND:
            return "held by a bound of its flat prior"
        if pr >= SENSITIVE and li >= SENSITIVE:
            return "prior-data conflict"
        if pr >= SENSITIVE > li:
            return "prior dominates (weak likelihood)"
        if li < SENSITIVE:
            return "weakly informed"
        return "data dominate"

    def drivers(self, p: str) -> list[str]:
        """Targets that drive parameter ``p``, strongest first.

        A target drives ``p`` when its likelihood's power-scaling sensitivity is at
        least :data:`SENSITIVE`, or leaving it out moves the mean by at least
        :data:`SHIFT_DRIVES` sd or widens the sd by :data:`WIDEN_DRIVES`.
        """

        def strength(t):
            lo = self.left_out.get(t)
            shift = abs(lo.shift.get(p, 0.0)) if lo else 0.0
            widen = lo.widen.get(p, 1.0) if lo else 1.0
            return (self.by_target[t][p], shift, widen)

        out = []
        for t in self.targets:
            s, shift, widen = strength(t)
            reliable = t in self.left_out and self.left_out[t].method != "psis, unreliable"
            if s >= SENSITIVE or (reliable and (shift >= SHIFT_DRIVES or widen >= WIDEN_DRIVES)):
                out.append(t)
        return sorted(out, key=lambda t: strength(t), reverse=True)

    def lines(self) -> list[str]:
        """The findings in words, one line per parameter, then one per prior and warning."""
        out = []
        for p in self.parameters:
            drv = self.drivers(p)
            parts = []
            for t in drv:
                lo = self.left_out.get(t)
                bits = [f"sensitivity {self.by_target[t][p]:.3f}"]
                if lo is not None and lo.method != "psis, unreliable":
                    bits.append(
                        f"without it the mean moves {lo.shift[p]:+.1f} sd and the sd is "
                        f"x{lo.widen[p]:.2g} ({lo.shown_method})"
                    )
                parts.append(f"{t} ({'; '.join(bits)})")
            who = "; ".join(parts) if parts else "no single target (none reaches 0.05)"
            out.append(f"{p}: driven by {who}. {self._prior_words(p)}")
        for site in self.flat_priors:
            if site in self.parameters:
                continue
            out.append(f"prior of {site} is flat: power-scaling cannot assess it")
        for comp, k in self.pareto_k.items():
            if k > K_REFIT:
                out.append(
                    f"warning: power-scaling weights of {comp} have Pareto k {k:.2f} > "
                    f"{K_REFIT}: its sensitivities are rough"
                )
        for t, lo in self.left_out.items():
            if lo.diagnostics:
                out.append(
                    f"warning: the refit without {t} did not converge ("
                    + "; ".join(lo.diagnostics)
                    + "): its numbers are indicative only"
                )
            if lo.method == "psis, unreliable":
                out.append(
                    f"warning: leaving {t} out by importance sampling is unreliable (Pareto k "
                    f"{lo.pareto_k:.2f} > {K_REFIT}); run with refit to sample it again"
                )
        return out

    def _prior_words(self, p: str) -> str:
        d = self.diagnosis(p)
        own = self.by_prior.get(p, {}).get(p, math.nan)
        if p in self.flat_priors:
            frac = self.at_bound.get(p, 0.0)
            if frac >= AT_BOUND:
                return (
                    f"Its prior is flat (not power-scalable) and {100 * frac:.0f} % of the "
                    "posterior lies within 1 % of a bound of it: the bound, not the data, "
                    "holds it there."
                )
            return "Its prior is flat and the posterior stays away from its bounds."
        if d == "prior-data conflict":
            return (
                f"Possible prior-data conflict: prior sensitivity {self.prior[p]:.3f} and "
                f"likelihood {self.likelihood[p]:.3f} both >= {SENSITIVE}."
            )
        if d == "prior dominates (weak likelihood)":
            return (
                f"The prior dominates: prior sensitivity {self.prior[p]:.3f}, likelihood "
                f"{self.likelihood[p]:.3f} < {SENSITIVE}."
            )
        return (
            f"No prior dominates (own prior {own:.3f}, all priors {self.prior[p]:.3f}; "
            f"likelihood {self.likelihood[p]:.3f})."
        )

    def table(self) -> str:
        """Two plain-text tables: power-scaling sensitivities and leave-one-target-out."""
        ts = self.targets
        head = ["parameter", "mean", "sd", "prior", "lik.", *ts, "diagnosis"]
        rows = []
        for p in self.parameters:
            post = self.posterior[p]
            unit = self.units.get(p, "")
            rows.append(
                [
                    f"{p} [{unit}]" if unit and unit != "1" else p,
                    f"{post['mean']:.4g}",
                    f"{post['sd']:.3g}",
                    f"{self.prior[p]:.3f}",
                    f"{self.likelihood[p]:.3f}",
                    *(f"{self.by_target[t][p]:.3f}" for t in ts),
                    self.diagnosis(p),
                ]
            )
        out = ["power-scaling sensitivity (>= 0.05: sensitive; Kallioinen et al. 2024)"]
        out += _format(head, rows)
        if self.left_out:
            out.append("")
            out.append("leave one target out (mean shift in posterior sd; sd ratio)")
            head2 = ["left out", "Pareto k", "method"] + [
                f"{p} shift, sd x" for p in self.parameters
            ]
            rows2 = []
            for t, lo in self.left_out.items():
                rows2.append(
                    [
                        t,
                        "-" if not np.isfinite(lo.pareto_k) else f"{lo.pareto_k:.2f}",
                        lo.shown_method,
                        *(f"{lo.shift[p]:+.2f}, x{lo.widen[p]:.2f}" for p in self.parameters),
                    ]
                )
            out += _format(head2, rows2)
        return "\n".join(out)

    def to_dict(self) -> dict:
        """Every number, as plain JSON-able values (NaN as None)."""

        def clean(x):
            if isinstance(x, dict):
                return {str(k): clean(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [clean(v) for v in x]
            if isinstance(x, (float, np.floating)):
                return float(x) if np.isfinite(x) else None
            if isinstance(x, np.integer):
                return int(x)
            return x

        d = dataclasses.asdict(self)
        d["diagnosis"] = {p: self.diagnosis(p) for p in self.parameters}
        d["drivers"] = {p: self.drivers(p) for p in self.parameters}
        d["lines"] = self.lines()
        return clean(d)


def _format(head: list, rows: list) -> list[str]:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join
    out = [line(str(h).ljust(w) for h, w in zip(head, widths, strict=True))]
    out += [line(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return [s.rstrip() for s in out]


# ------------------------------------------------------------------------------ computing


def read_run(run_or_path):
    """(DataTree, run file path or None) of a run file, a calibrate() result or a DataTree."""

    if isinstance(run_or_path, (str, os.PathLike)):
        return runfile.read(run_or_path), Path(run_or_path)
    if isinstance(run_or_path, xr.DataTree):
        runfile.check_version(run_or_path)
        return run_or_path, None
    path = getattr(run_or_path, "path", None)
    if path is not None:
        return runfile.read(path), Path(path)
    runfile.check_version(run_or_path.datatree)
    return run_or_path.datatree, None


def _check_groups(dt, where: str) -> None:
    for g in ("posterior", "log_prior", "log_likelihood"):
        if g not in dt.children:
            raise SensitivityError(
                f"the run has no {g!r} group; re-run bayesff calibrate with this version",
                where,
            )


def _check_draws(dt, where: str) -> None:
    """SensitivityError for a run with too few draws to Pareto-smooth: power-scaling and
    leave-one-target-out both reweight the draws by PSIS (:data:`PSIS_MIN_DRAWS`, ArviZ's
    rule); with fewer, arviz warns and then fails with a bare ValueError."""
    why = psis_shortfall(dt)
    if why is not None:
        raise SensitivityError(
            f"power-scaling sensitivity cannot be computed ({why}): calibrate with more "
            f"draws (at least {PSIS_MIN_DRAWS} over all chains)",
            where,
        )


def _summary(draws: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Mean, sd, 5 % and 95 % of flat draws with optional normalised weights."""
    x = np.ravel(draws)
    w = np.full(x.size, 1.0 / x.size) if w is None else np.ravel(w)
    mean = float(np.sum(w * x))
    sd = float(np.sqrt(max(np.sum(w * (x - mean) ** 2), 0.0)))
    order = np.argsort(x)
    cdf = np.cumsum(w[order])
    q = [float(x[order][min(np.searchsorted(cdf, a), x.size - 1)]) for a in (0.05, 0.95)]
    return {"mean": mean, "sd": sd, "q05": q[0], "q95": q[1]}


def psense_view(dt, params, sites, targets):
    """What :func:`arviz_stats.psense` reads, one (chain, draw) array per component.

    ArviZ sums every variable of ``log_prior`` / ``log_likelihood`` after stacking
    them with ``Dataset.to_stacked_array``, which refuses variables whose
    coordinates differ (each target's rows carry their own, ``B2_T``, ``Sq_q``):
    on a run file with two targets ``psense(dt, group="likelihood")`` raises
    "coordinate 'B2_T' not present in all datasets". Summing each variable over
    its own dimensions first gives the same sums.
    """

    def summed(group, names):
        return xr.Dataset(
            {n: xr.DataArray(_component(dt, group, [n]), dims=_SAMPLE_DIMS) for n in names}
        )

    post = dt["posterior"].to_dataset()[params]
    post = post.drop_vars([c for c in post.coords if c not in _SAMPLE_DIMS])
    return xr.DataTree.from_dict(
        {
            "posterior": post,
            "log_prior": summed("log_prior", sites),
            "log_likelihood": summed("log_likelihood", targets),
        }
    )


def _psense_all(dt, params, sites, targets) -> tuple[dict, dict, dict, dict]:
    """Power-scaling sensitivities: all priors, each prior, all likelihood, each target."""

    dt = psense_view(dt, params, sites, targets)

    def sens(group, names=None):
        ds = psense(
            dt,
            var_names=params,
            group=group,
            alphas=_ALPHAS,
            group_var_names=names,
            sample_dims=_SAMPLE_DIMS,
        )
        return {p: float(ds[p].values) for p in params}

    prior = sens("prior")
    lik = sens("likelihood")
    by_prior = {s: sens("prior", [s]) for s in sites}
    by_target = {t: sens("likelihood", [t]) for t in targets}
    return prior, lik, by_prior, by_target


def _component(dt, group: str, names) -> np.ndarray:
    """Sum of a group's variables (over their non-sample dims): (chain, draw)."""
    ds = dt[group]
    tot = 0.0
    for n in names:
        da = ds[n]
        extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
        tot = tot + np.asarray(da.sum(extra).transpose(*_SAMPLE_DIMS).values, dtype=float)
    return tot


def _khat_power(comp: np.ndarray) -> float:
    """Largest Pareto k of the power-scaling log weights (alpha - 1) * comp, both alphas."""

    ks = []
    for a in _ALPHAS:
        da = xr.DataArray((a - 1.0) * comp, dims=_SAMPLE_DIMS)
        if np.ptp(comp) == 0:
            ks.append(-np.inf)
            continue
        ks.append(float(da.azstats.pareto_khat(sample_dims=_SAMPLE_DIMS, log_weights=True)))
    return max(ks)


def _r_eff(dt, params) -> float:
    """Relative efficiency of the draws (ArviZ's rule for PSIS-LOO: mean ESS / draws)."""

    post = dt["posterior"].to_dataset()[params]
    n = post.sizes["chain"] * post.sizes["draw"]
    if post.sizes["chain"] == 1:
        return 1.0
    e = ess(post, method="mean")
    return float(np.mean([float(e[p].values) for p in params])) / n


def _psis_leave_out(dt, t: str, params, r_eff) -> tuple[float, np.ndarray]:
    """Pareto k and normalised PSIS weights (flat) that remove target t's likelihood."""

    ll = _component(dt, "log_likelihood", [t])
    da = xr.DataArray(ll, dims=_SAMPLE_DIMS)
    # psislw takes the log-likelihood and smooths the weights exp(-ll) (PSIS-LOO's convention)
    lw, k = da.azstats.psislw(r_eff=r_eff, dim=_SAMPLE_DIMS)
    lw = np.ravel(np.asarray(lw.transpose(*_SAMPLE_DIMS).values))
    w = np.exp(lw - lw.max())
    return float(k), w / w.sum()


def _same_sampler(kept: dict, inference) -> bool:
    """Whether a kept refit ran with the problem's other sampler settings (the fingerprint
    leaves ``[inference]`` out since 2026-11-27; before, a file problem's text held it)."""
    for k in ("sampler", "init"):
        if k in kept and str(kept[k]) != str(getattr(inference, k)):
            return False
    for k in ("target_accept", "max_tree_depth", "dense_mass", "adapt_mass"):
        if k in kept and float(kept[k]) != float(getattr(inference, k)):
            return False
    return True


def _problem_of(dt, problem, where: str):
    """The run's problem, rebuilt from its file (or given), checked against the run."""

    info = runfile.info(dt)
    want = str(info.get("problem_fingerprint", ""))
    if problem is None:
        path = Path(str(info.get("problem_path", "")))
        text = str(info.get("problem_text", ""))
        if path.is_file():
            problem = Problem.from_toml(path)
            if not problem.matches(want) and text:
                # data paths as Problem.from_toml resolves them: the file's folder, its parent
                base = (path.resolve().parent, path.resolve().parent.parent, Path.cwd())
                problem = Problem.from_dict(
                    tomllib.loads(text), path=str(path), source_text=text, base_dirs=base
                )
        elif text:
            problem = Problem.from_dict(tomllib.loads(text), path=str(path), source_text=text)
        else:
            raise SensitivityError("the run records no problem to refit", where)
    if want and not problem.matches(want):
        raise SensitivityError(
            "cannot refit: the problem or its data changed since the run (fingerprints "
            "differ); calibrate again, or pass refit=False",
            where,
        )
    return problem


def _without(problem, target: str):
    """The problem without target's likelihood, nothing held out, no candidates."""

    keep = []
    for t in problem.targets:
        if t.name == target or not t.train.any():
            continue
        keep.append(t.replace(holdout={}))
    names = {t.name for t in keep}
    # Problem.replace: the refit's run records the problem it solved, not the file's text
    return problem.replace(
        targets=keep,
        tolerance={k: v for k, v in problem.tolerance.items() if k in names},
        candidates=[],
        inference=problem.inference.replace(prior_draws=1),
    )


def _refit_path(run_path, t: str) -> Path:
    return Path(run_path).parent / "sensitivity" / f"without_{t}.nc"


def _kept_refit(run_path, t: str):
    """The run DataTree of a kept refit without t, if one is there (no fingerprint check:
    ``refit="cached"`` trusts the folder, as the report does), else None."""

    if run_path is None or not _refit_path(run_path, t).is_file():
        return None
    try:
        return runfile.read(_refit_path(run_path, t))
    except runfile.RunFileError:
        return None


def _refit(dt, run_path, problem, t: str, settings: dict | None, log):
    """The run DataTree without target t (sampled, or a kept refit) and its path."""

    reduced = _without(problem, t)
    info = runfile.info(dt)
    kw = {k: int(info[k]) for k in ("chains", "warmup", "samples", "seed", "thin") if k in info}
    kw.update(settings or {})
    out = None
    if run_path is not None:
        out = _refit_path(run_path, t)
        if out.is_file():
            try:
                old = runfile.read(out)
                kept = runfile.info(old)
                same = (
                    reduced.matches(str(kept.get("problem_fingerprint", "")))
                    and all(int(kept.get(k, -1)) == v for k, v in kw.items())
                    and _same_sampler(kept, reduced.inference)
                )
                if same:
                    log(f"sensitivity: reusing {out}")
                    return old, str(out)
            except runfile.RunFileError:
                pass  # damaged or old: sample again
        out.parent.mkdir(parents=True, exist_ok=True)
    log(f"sensitivity: refitting without {t} ({kw})")
    run = calibrate(reduced, out=out, force=True, progress=False, log=None, **kw)
    return run.datatree, None if out is None else str(out)


def sensitivity(
    run_or_path,
    *,
    refit: bool | str = True,
    problem=None,
    refit_settings: dict | None = None,
    log=None,
) -> SensitivityResult:
    """Power-scaling sensitivity and leave-one-target-out posteriors of a run.

    Parameters
    ----------
    run_or_path
        A run file (``runs/NAME/posterior.nc``), a :class:`~bayesff.inference.Run`
        or a run DataTree.
    refit
        ``True``: sample the posterior again without a target where importance
        sampling is unreliable (Pareto k > :data:`K_REFIT`). The problem is rebuilt
        from the run (its file, checked by fingerprint) unless ``problem`` is
        given. Refits are written to ``<run folder>/sensitivity/without_<target>.nc``
        and reused while the problem's fingerprint is the same. ``"cached"``: use
        such kept refits where they exist, never sample (the report's choice).
        ``False``: importance sampling only (unreliable ones are flagged).
    problem
        The run's problem (needed to refit a problem built in Python).
    refit_settings
        Sampler settings of the refits (``chains``, ``warmup``, ``samples``,
        ``seed``, ``thin``); default the run's own.
    log
        Where progress lines go (``None``: nowhere).

    Returns
    -------
    SensitivityResult

    Raises
    ------
    SensitivityError
        A run without ``log_prior`` or ``log_likelihood`` groups, with too few draws to
        Pareto-smooth (``PSIS_MIN_DRAWS``), whose draws do not vary, or (refitting)
        whose problem or data changed since it was written.
    """

    log = log or (lambda *a, **k: None)
    t0 = time.perf_counter()
    dt, run_path = read_run(run_or_path)
    where = str(run_path) if run_path else str(runfile.info(dt).get("problem_name", "run"))
    _check_groups(dt, where)
    _check_draws(dt, where)
    params = runfile.parameter_names(dt)
    post = dt["posterior"].to_dataset()
    units = {p: str(post[p].attrs.get("units", "")) for p in params}
    targets = [t for t in dt["log_likelihood"].to_dataset().data_vars]
    flat, prior, lik, by_prior, by_target, ks = _power_scaling(dt, params, targets)
    t_psense = time.perf_counter() - t0

    draws = {p: np.asarray(post[p].transpose(*_SAMPLE_DIMS).values) for p in params}
    full = {p: _summary(draws[p]) for p in params}
    prior_ds = runfile.latents(dt, "prior")
    at_bound = _at_bound(draws, params, flat, prior_ds)

    t1 = time.perf_counter()
    left, t_refit = _leave_one_out(
        dt,
        run_path,
        where,
        params,
        targets,
        draws,
        full,
        prior_ds,
        refit=refit,
        problem=problem,
        refit_settings=refit_settings,
        log=log,
    )
    timings = {
        "psense_s": t_psense,
        "leave_out_s": time.perf_counter() - t1 - t_refit,
        "refit_s": t_refit,
        "total_s": time.perf_counter() - t0,
    }
    return SensitivityResult(
        run=where,
        parameters=params,
        units=units,
        targets=targets,
        posterior=full,
        prior=prior,
        likelihood=lik,
        by_prior=by_prior,
        by_target=by_target,
        pareto_k=ks,
        flat_priors=flat,
        at_bound=at_bound,
        left_out=left,
        timings=timings,
    )


def _power_scaling(dt, params: list, targets: list):
    """Power-scaling sensitivities and their Pareto k of a run.

    Returns ``(flat, prior, likelihood, by_prior, by_target, pareto_k)``: the prior
    sites that are flat (constant log prior, not power-scalable) and the numbers of
    :class:`SensitivityResult` of the same names.
    """

    post = dt["posterior"].to_dataset()
    stuck = [p for p in params if p in post and float(np.ptp(np.asarray(post[p].values))) == 0.0]
    if stuck:  # psense divides by the draws' spread: arviz failed with a bare ValueError
        raise SensitivityError(
            f"the posterior draws of {', '.join(stuck)} do not vary (the chains never moved): "
            "power-scaling needs draws that do; run longer or from another start"
        )
    sites = [s for s in dt["log_prior"].to_dataset().data_vars]
    lp = dt["log_prior"].to_dataset()
    flat = [s for s in sites if float(np.ptp(np.asarray(lp[s].values))) == 0.0]
    scalable = [s for s in sites if s not in flat]
    # arviz warns through logging about "potential issues"; the result says it in words
    logging.getLogger("arviz_stats.psense").setLevel(logging.ERROR)
    if scalable:
        prior, lik, by_prior, by_target = _psense_all(dt, params, scalable, targets)
    else:
        _, lik, _, by_target = _psense_all(dt, params, [], targets)
        prior, by_prior = {p: 0.0 for p in params}, {}
    ks = {"likelihood": _khat_power(_component(dt, "log_likelihood", targets))}
    if scalable:
        ks["prior"] = _khat_power(_component(dt, "log_prior", scalable))
    for s in scalable:
        ks[f"prior:{s}"] = _khat_power(_component(dt, "log_prior", [s]))
    for t in targets:
        ks[f"likelihood:{t}"] = _khat_power(_component(dt, "log_likelihood", [t]))
    return flat, prior, lik, by_prior, by_target, ks


def _at_bound(draws: dict, params: list, flat: list, prior_ds) -> dict:
    """Share of the posterior within 1 % of the range of a flat prior's bounds."""
    at_bound = {}
    for p in params:
        if p in flat and prior_ds is not None and p in prior_ds:
            lo, hi = float(prior_ds[p].min()), float(prior_ds[p].max())
            tol = 0.01 * (hi - lo)
            x = draws[p]
            at_bound[p] = float(np.mean((x <= lo + tol) | (x >= hi - tol)))
    return at_bound


def _leave_one_out(
    dt,
    run_path,
    where,
    params,
    targets,
    draws,
    full,
    prior_ds,
    *,
    refit,
    problem,
    refit_settings,
    log,
):
    """Posteriors without each target: PSIS, or a refit where Pareto k > K_REFIT.

    Returns ``(left_out, refit_seconds)``.
    """
    r_eff = _r_eff(dt, params)
    left = {}
    rebuilt = None
    t_refit = 0.0
    for t in targets:
        if len(targets) == 1:
            if prior_ds is None:
                continue
            s = {p: _summary(np.asarray(prior_ds[p].values)) for p in params}
            left[t] = _left(t, math.nan, "prior", s, full)
            continue
        k, w = _psis_leave_out(dt, t, params, r_eff)
        if k > K_REFIT and refit:
            tr = time.perf_counter()
            tree, path, rebuilt = _refit_left_out(
                dt,
                run_path,
                where,
                t,
                refit=refit,
                rebuilt=rebuilt,
                problem=problem,
                refit_settings=refit_settings,
                log=log,
            )
            t_refit += time.perf_counter() - tr
            if tree is not None:
                ds = tree["posterior"]
                s = {p: _summary(np.asarray(ds[p].values)) for p in params}
                left[t] = _left(t, k, "refit", s, full, path)
                left[t].diagnostics = list(diagnose(tree).warnings)
                continue
        s = {p: _summary(draws[p], w) for p in params}
        left[t] = _left(t, k, "psis" if k <= K_REFIT else "psis, unreliable", s, full)
    return left, t_refit


def _refit_left_out(dt, run_path, where, t, *, refit, rebuilt, problem, refit_settings, log):
    """The run without target t from a kept refit (``refit="cached"``) or a new one.

    Returns ``(DataTree or None, path or None, rebuilt problem or None)``; the problem
    is rebuilt once (``rebuilt`` passes it on between targets).
    """
    if refit == "cached":
        ds, path = _kept_refit(run_path, t), None
        if ds is not None:
            path = str(_refit_path(run_path, t))
    else:
        if rebuilt is None:
            rebuilt = _problem_of(dt, problem, where)
        ds, path = _refit(dt, run_path, rebuilt, t, refit_settings, log)
    return ds, path, rebuilt


def _left(t, k, method, s: dict, full: dict, path=None) -> LeftOut:
    params = list(full)
    return LeftOut(
        target=t,
        pareto_k=k,
        method=method,
        mean={p: s[p]["mean"] for p in params},
        sd={p: s[p]["sd"] for p in params},
        q05={p: s[p]["q05"] for p in params},
        q95={p: s[p]["q95"] for p in params},
        shift={
            p: (s[p]["mean"] - full[p]["mean"]) / full[p]["sd"] if full[p]["sd"] > 0 else 0.0
            for p in params
        },
        widen={p: s[p]["sd"] / full[p]["sd"] if full[p]["sd"] > 0 else 1.0 for p in params},
        refit_path=path,
    )
