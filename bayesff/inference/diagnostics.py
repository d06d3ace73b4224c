"""Convergence diagnostics that gate a result, and the summary table.

The thresholds are those of docs/architecture.md (Inference defaults).

The numbers come from ArviZ (``arviz.rhat``, ``arviz.ess``, ``arviz.bfmi``,
``arviz.summary``); this module names the thresholds, turns them into
warnings, and formats the table the CLI prints.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import arviz_stats as az
import numpy as np

from bayesff import sites
from bayesff.errors import DiagnosticsError

__all__ = [
    "EBFMI_MIN",
    "ESS_BULK_MIN",
    "RHAT_MAX",
    "Diagnostics",
    "DiagnosticsError",
    "diagnose",
    "format_summary",
    "misfit_notes",
]

#: R-hat above this is a warning (rank-normalised split R-hat; Vehtari et al. 2021,
#: doi:10.1214/20-BA1221).
RHAT_MAX = 1.01
#: Bulk ESS below this is a warning (enough for 5 % MCSE of the 90 % interval ends).
ESS_BULK_MIN = 400
#: E-BFMI below this is a warning (Betancourt 2016, arXiv:1604.00695).
EBFMI_MIN = 0.3


@dataclass
class Diagnostics:
    """Convergence diagnostics and the warnings they raise."""

    rhat: dict[str, float]
    ess_bulk: dict[str, float]
    ess_tail: dict[str, float]
    divergences: int
    ebfmi: list[float]
    warnings: list[str] = field(default_factory=list)
    #: False when the share of the draws in the Laplace start's modes is poorly estimated
    #: (its ESS or R-hat fails: :func:`_mode_shares`); True without competing modes
    modes_ok: bool = True

    @property
    def ok(self) -> bool:
        return not self.warnings

    @property
    def rhat_max(self) -> float:
        """Largest R-hat over the parameters: NaN if any is NaN (a chain that never moved,
        which Python's ``max`` would skip unless it came first) or there are none."""
        v = np.array(list(self.rhat.values()), float)
        return float(np.max(v)) if v.size else float("nan")

    @property
    def ess_bulk_min(self) -> float:
        """Smallest bulk ESS over the parameters: NaN if any is NaN or there are none."""
        v = np.array(list(self.ess_bulk.values()), float)
        return float(np.min(v)) if v.size else float("nan")

    def as_dict(self) -> dict:
        return {
            "rhat": self.rhat,
            "ess_bulk": self.ess_bulk,
            "ess_tail": self.ess_tail,
            "divergences": self.divergences,
            "ebfmi": self.ebfmi,
            "warnings": self.warnings,
            "modes_ok": self.modes_ok,
            "thresholds": {
                "rhat_max": RHAT_MAX,
                "ess_bulk_min": ESS_BULK_MIN,
                "ebfmi_min": EBFMI_MIN,
            },
        }


def _worst(ds, reduce) -> dict[str, float]:
    # vector latents (hierarchical z, GP weights): the worst element counts
    return {n: float(reduce(np.asarray(ds[n].values))) for n in ds.data_vars}


def _stuck(dt) -> dict[str, list[int]]:
    """Latents with a chain that never moved (every kept draw equal): name -> chains."""
    post = dt["posterior"]
    out = {}
    for n in post.data_vars:
        v = np.asarray(post[n].values)  # (chain, draw, ...)
        if v.ndim < 2 or v.shape[1] < 2:
            continue
        flat = v.reshape(v.shape[0], v.shape[1], -1)
        still = np.all(flat == flat[:, :1], axis=1).any(axis=1)  # per chain
        if still.any():
            out[n] = [int(c) for c in np.flatnonzero(still)]
    return out


def diagnose(dt) -> Diagnostics:
    """R-hat, bulk and tail ESS, divergences and E-BFMI of a run, with warnings.

    A chain that never moved (a collapsed or exploded step size after a short
    warm-up) has no R-hat or ESS: they are NaN, and a warning names it.
    """

    # a chain without variance makes ArviZ divide by zero: that case is named below
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = _worst(az.rhat(dt), np.max)
        eb = _worst(az.ess(dt, method="bulk"), np.min)
        et = _worst(az.ess(dt, method="tail"), np.min)
    stuck = _stuck(dt)
    for n in stuck:
        rhat[n] = eb[n] = et[n] = math.nan
    div = int(dt["sample_stats"]["diverging"].values.sum())
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # one draw per chain: no variance
            bfmi = [float(x) for x in np.atleast_1d(az.bfmi(dt)["energy"].values)]
    except (KeyError, ValueError):
        bfmi = []
    w = []
    if stuck:
        w.append(
            "chains that never moved (every draw the same: warm-up too short, or the step "
            "size collapsed): "
            + ", ".join(f"{n} (chain {', '.join(map(str, c))})" for n, c in stuck.items())
        )
    # NaN without a stuck chain: ArviZ has too little to compute R-hat from
    unknown = [n for n, v in rhat.items() if math.isnan(v) and n not in stuck]
    if unknown:
        post = dt["posterior"]
        chains, draws = post.sizes.get("chain", 1), post.sizes.get("draw", 0)
        if chains < 2 or draws < 4:
            why = "one chain" if chains < 2 else f"{draws} draw(s) per chain"
            why += ": run 2 or more chains of 4 or more draws to check convergence"
        else:
            why = "draws that are not all finite"
        w.append(f"R-hat cannot be computed ({why}): {', '.join(unknown)}")
    bad_r = [f"{n} ({v:.3f})" for n, v in rhat.items() if v > RHAT_MAX]
    bad_r += [f"{n} (nan)" for n in rhat if math.isnan(rhat[n]) and n in stuck]
    if bad_r:
        w.append(f"R-hat above {RHAT_MAX}: {', '.join(bad_r)}" + _modes_hint(dt, rhat))
    bad_e = [f"{n} ({v:.0f})" for n, v in eb.items() if not v >= ESS_BULK_MIN]
    if bad_e:
        w.append(f"bulk ESS below {ESS_BULK_MIN}: {', '.join(bad_e)}")
    if div:
        n = dt["sample_stats"]["diverging"].size
        w.append(f"{div} divergent transitions ({100 * div / n:.1f} % of the draws)")
    low = [f"chain {i} ({b:.2f})" for i, b in enumerate(bfmi) if b < EBFMI_MIN]
    if low:
        w.append(f"E-BFMI below {EBFMI_MIN}: {', '.join(low)}")
    shares = _mode_shares(dt)
    if shares:
        w.append(shares)
    return Diagnostics(rhat, eb, et, div, bfmi, w, modes_ok=not shares)


def _mode_shares(dt) -> str:
    """A warning when the draws' split between the Laplace start's competing modes is
    poorly estimated (empty otherwise, and for a run without them).

    The share of the draws nearest each mode (the run's ``laplace_mode``) is a function
    of the draws like any other, so it gets the same checks: its ESS for the mean and its
    R-hat against :data:`ESS_BULK_MIN` and :data:`RHAT_MAX`. R-hat and ESS of the
    parameters alone can pass while a minor mode is visited in a few long stays: the
    atlas's methane-Mie-B2+VLE, NUTS at 4 x 20000 draws (re-run: max R-hat 1.0084, min
    bulk ESS 489), put 0.005-6.7 % of each chain's draws in a mode that importance
    sampling gives 4.25 %; this check flags it (a share's ESS 214, R-hat 1.020;
    docs/atlas.md). A mode no chain visited is not checked (no draw says anything).
    """
    st = dt["sample_stats"]
    if sites.LAPLACE_MODE not in st:
        return ""
    lab = np.asarray(st[sites.LAPLACE_MODE].values)
    if lab.ndim != 2 or lab.shape[0] < 2 or lab.shape[1] < 4:
        return ""
    bad = []
    for k in np.unique(lab)[1:]:  # the first mode visited: the complement of the others
        ind = (lab == k).astype(float)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            ess, rh = float(az.ess(ind, method="mean")), float(az.rhat(ind))
        if not (ess >= ESS_BULK_MIN and rh <= RHAT_MAX):
            bad.append(f"mode {k} holds {100 * ind.mean():.1f} % (ESS {ess:.0f}, R-hat {rh:.3f})")
    if not bad:
        return ""
    passes = np.sum(lab[:, 1:] != lab[:, :-1], axis=1)
    hint = (
        "more draws or temperatures"
        if dt.attrs.get("sampler") == "tempered"
        else "[inference] sampler = 'tempered' (parallel tempering) passes between them"
    )
    return (
        "the draws' split between the competing modes the Laplace start found is poorly "
        f"estimated: {'; '.join(bad)}; the chains passed between modes "
        f"{passes.min()}-{passes.max()} times each; {hint}"
    )


def _modes_hint(dt, rhat: dict) -> str:
    """A hint for R-hat warnings whose chains sit apart: two chains of the worst variable
    whose interquartile ranges do not overlap are each held in a region (often a mode)
    the other does not visit, which more draws of the same sampler cross slowly or never;
    parallel tempering moves between modes. Empty when the run was tempered already or no
    two chains sit apart."""

    if dt.attrs.get("sampler") == "tempered":
        return ""
    finite = {n: v for n, v in rhat.items() if math.isfinite(v)}
    if not finite:
        return ""
    name = max(finite, key=finite.get)
    v = np.asarray(dt["posterior"][name].values, dtype=float)
    v = v.reshape(v.shape[0], v.shape[1], -1)
    q25, q75 = np.percentile(v, 25, axis=1), np.percentile(v, 75, axis=1)  # (chain, k)
    apart = (q25[:, None] > q75[None, :]).any(axis=-1)  # chain i wholly above chain j
    if not apart.any():
        return ""
    i, j = (int(x) for x in np.argwhere(apart)[0])
    return (
        f"; chains {j} and {i} sit apart in {name} (their interquartile ranges do not "
        "overlap): the posterior may have modes the sampler does not pass between; "
        "[inference] sampler = 'tempered' (parallel tempering) moves between them"
    )


#: An inferred relative model error (posterior median of tau, relative or log form)
#: above both this and MISFIT_PRIOR_RATIO times its prior scale is noted under the
#: summary: a model missing its data by that much is more often a unit slip (bar read as
#: MPa, a prior in kJ/mol meant as K) than a force field that far off.
MISFIT_TAU = 0.25
MISFIT_PRIOR_RATIO = 5.0


def misfit_notes(dt) -> list[str]:
    """One line per trained target whose inferred relative error is large (see
    :data:`MISFIT_TAU`): what the model misses the data by and what to check. Notes,
    not warnings: the sampling may be fine, and ``--strict`` does not fail on them."""
    if "targets" not in dt.children or "posterior" not in dt.children:
        return []
    post, out = dt["posterior"], []
    for name, node in dt["targets"].children.items():
        a = node.attrs
        if a.get("inadequacy") != "inferred_scale" or not int(a.get("trained", 0)):
            continue
        if a.get("inadequacy_form") not in ("relative", "log"):
            continue
        var = sites.tau(a.get("inadequacy_shared") or name)  # the run file's name
        if var not in post.data_vars:
            continue
        tau = float(np.median(np.abs(np.asarray(post[var].values))))
        scale = float(a.get("inadequacy_prior_scale", math.nan))
        if tau > MISFIT_TAU and tau > MISFIT_PRIOR_RATIO * scale:
            data = f" ({a['data_path']})" if a.get("data_path") else ""
            out.append(
                f"target {name}: the inferred relative model error is about "
                f"{100 * tau:.0f} % (posterior median of {var} {tau:.2f}, prior scale "
                f"{scale:g}){_observed_miss(dt, name)}; if the force field cannot be that far "
                f"off, check the unit of the data{data} and of the priors"
            )
    return out


def _observed_miss(dt, name: str) -> str:
    """``"; the posterior-median model misses the observed values by a median X %, at
    worst by ..."`` from the run's model draws (``posterior_predictive/<name>_model``),
    or ``""`` where the run file lacks them. tau is a typical miss: the worst row can be
    far off (audit, 2026-11-30: water with LJ, tau 0.26, vapour pressure 4.1 times the
    data)."""
    if "posterior_predictive" not in dt.children or "observed_data" not in dt.children:
        return ""
    pp, obs = dt["posterior_predictive"], dt["observed_data"]
    if f"{name}_model" not in pp.data_vars or name not in obs.data_vars:
        return ""
    model = np.median(np.asarray(pp[f"{name}_model"].values, float), axis=(0, 1)).ravel()
    y = np.asarray(obs[name].values, float).ravel()
    ok = np.isfinite(model) & np.isfinite(y) & (y != 0.0)
    if not ok.any() or model.size != y.size:
        return ""
    rel = np.abs(model[ok] - y[ok]) / np.abs(y[ok])
    ratio = model[ok] / y[ok]
    k = int(np.argmax(rel))
    far = max(abs(ratio[k]), 1.0 / max(abs(ratio[k]), 1e-300))
    worst = f"a factor {far:.2g}" if ratio[k] > 0 and far >= 2.0 else f"{100 * rel[k]:.0f} %"
    return (
        f"; the posterior-median model misses the observed values by a median "
        f"{100 * np.median(rel):.0f} %, at worst by {worst}"
    )


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

    The statistics are ArviZ's (``arviz.summary`` with a 90 % equal-tailed
    interval); the formatting keeps two significant digits of the sd, so that
    narrow posteriors do not print as equal bounds.
    """

    diag = diag or diagnose(dt)
    post = dt["posterior"]
    scalar = [n for n in post.data_vars if post[n].ndim == 2]
    vector = [n for n in post.data_vars if post[n].ndim > 2]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # stuck chains: diagnose names them
        s = az.summary(dt, var_names=scalar, ci_prob=0.9, ci_kind="eti", round_to="none")
    med = {n: float(np.median(post[n].values)) for n in scalar}
    cols = ("mean", "sd", "5%", "50%", "95%")
    head = f"{'parameter':<14} {'unit':<9} " + " ".join(f"{c:>10}" for c in cols)
    head += f" {'ess_bulk':>8} {'ess_tail':>8} {'r_hat':>6}"
    lines = [head, "-" * len(head)]
    for n in scalar:
        r = s.loc[n]
        sd = float(r["sd"])
        vals = (r["mean"], sd, r["eti90_lb"], med[n], r["eti90_ub"])
        unit = str(post[n].attrs.get("units", ""))
        lines.append(
            f"{n:<14} {unit:<9} "
            + " ".join(f"{_fmt(float(v), sd):>10}" for v in vals)
            + f" {diag.ess_bulk[n]:>8.0f} {diag.ess_tail[n]:>8.0f} {diag.rhat[n]:>6.3f}"
        )
    if vector:
        lines.append(
            f"vector latents {', '.join(vector)}: worst R-hat "
            f"{np.max([diag.rhat[n] for n in vector]):.3f}, min bulk ESS "
            f"{np.min([diag.ess_bulk[n] for n in vector]):.0f}"
        )
    lines.append(
        f"divergences: {diag.divergences}; E-BFMI per chain: "
        + ", ".join(f"{b:.2f}" for b in diag.ebfmi)
    )
    lines += [f"NOTE: {n}" for n in misfit_notes(dt)]
    if diag.warnings:
        lines += [f"WARNING: {w}" for w in diag.warnings]
    else:
        lines.append(
            f"diagnostics ok (R-hat <= {RHAT_MAX}, bulk ESS >= {ESS_BULK_MIN}, no divergences, "
            f"E-BFMI >= {EBFMI_MIN})"
        )
    return "\n".join(lines)
