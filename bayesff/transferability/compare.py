"""Model comparison of runs fitted to the same data: PSIS-LOO and leave-one-environment-out.

The pointwise log-likelihood of the training rows is read from each run
through :mod:`bayesff.runfile`; the elpd estimates are ArviZ's (``arviz_stats.loo``,
``arviz_stats.compare``, which ``arviz`` re-exports; importing ``arviz`` itself would also
load arviz_plots and matplotlib, about 3 s of every command's start-up).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import arviz_stats as az
import numpy as np
import xarray as xr

from bayesff import runfile
from bayesff.errors import BayesffError
from bayesff.transferability.states import as_run
from bayesff.transferability.thresholds import LOEO_BANDS

__all__ = ["PSIS_MIN_DRAWS", "CompareError", "DifferentDataError", "compare", "psis_shortfall"]

#: Fewest posterior draws S (chains x draws, pooled) that ArviZ can Pareto-smooth. arviz_stats
#: 1.3 (base/diagnostics.py, ``_get_ps_tails``) fits the generalized Pareto distribution to
#: the largest ``floor(S / 5)`` draws when ``S * r_eff <= 225``, else to
#: ``floor(3 sqrt(S / r_eff))``; below 5 tail draws ``_ps_tail`` raises "n_draws_tail must be
#: at least 5" (``psislw`` of PSIS-LOO, ``pareto_khat`` of log weights) and the two-tailed fit
#: of ``psense`` (``_power_scale_lw``) warns "Number of tail draws cannot be less than 5" and
#: pads to 5. ``floor(S / 5) >= 5`` needs S >= 25. The other branch needs
#: ``S * r_eff > 225`` with ``r_eff <= log10(S)`` (``_ess`` caps the ESS at ``S log10(S)``:
#: ``tau_hat >= 1 / log10(S)``), so S >= 111, where ``floor(3 sqrt(S / log10 S)) >= 22``.
PSIS_MIN_DRAWS = 25


class CompareError(BayesffError):
    """Runs cannot be compared as asked (no run, no log-likelihood, bad environment groups)."""


class DifferentDataError(CompareError):
    """Runs were fitted to different observations, so their elpd values are not comparable."""


# ------------------------------------------------------------------------------ data


def psis_shortfall(dt) -> str | None:
    """Why Pareto-smoothed importance sampling cannot use a run's posterior draws, or None.

    E.g. "20 draws, 1 chain x 20; Pareto-smoothed importance sampling needs at least 25"
    (:data:`PSIS_MIN_DRAWS`). None also for a run without a posterior (other checks say so).
    """
    if "posterior" not in dt.children:
        return None
    sizes = dt["posterior"].sizes
    c, d = int(sizes.get("chain", 1)), int(sizes.get("draw", 0))
    if c * d >= PSIS_MIN_DRAWS:
        return None
    return (
        f"{c * d} draws, {c} chain{'' if c == 1 else 's'} x {d}; Pareto-smoothed importance "
        f"sampling needs at least {PSIS_MIN_DRAWS}"
    )


def _check_draws(runs: Mapping) -> None:
    """CompareError naming the first run (its file where known) with too few draws for PSIS."""
    for label, dt in runs.items():
        why = psis_shortfall(dt)
        if why is None:
            continue
        source = dt.encoding.get("source")
        run = f" for run {label!r}" if source and str(source) != label else ""
        raise CompareError(
            f"PSIS-LOO cannot be computed{run} ({why}): calibrate it with more draws (at "
            f"least {PSIS_MIN_DRAWS} over all chains)",
            str(source or label),
        )


def _training(dt, label: str) -> dict[str, runfile.Rows]:
    """Training rows of every trained target of a run, in problem order."""
    out = {}
    for info in runfile.targets(dt):
        r = runfile.rows(dt, info.name, "train") if info.trained else None
        if r is not None and r.observed.shape[0]:
            out[info.name] = r
    if not out:
        raise CompareError("the run has no training rows to compare on", label)
    return out


def _same_rows(a: runfile.Rows, b: runfile.Rows) -> bool:
    return (
        a.observed.shape == b.observed.shape
        and np.allclose(a.observed, b.observed, rtol=1e-12, atol=0, equal_nan=True)
        and set(a.env) == set(b.env)
        and all(np.array_equal(a.env[k], b.env[k]) for k in a.env)
        and np.array_equal(np.asarray(a.index), np.asarray(b.index))
    )


def _check_same_data(data: Mapping[str, dict]) -> list[str]:
    """The trained targets shared by every run; DifferentDataError unless all agree."""
    names = list(data)
    ref_name, ref = names[0], data[names[0]]
    for n in names[1:]:
        other = data[n]
        if list(other) != list(ref):
            raise DifferentDataError(
                f"runs {ref_name!r} and {n!r} were fitted to different data: trained targets "
                f"{list(ref)} vs {list(other)}"
            )
        for t in ref:
            if not _same_rows(ref[t], other[t]):
                raise DifferentDataError(
                    f"runs {ref_name!r} and {n!r} were fitted to different data: the training "
                    f"rows of {t!r} differ (environments or values); elpd values are only "
                    "comparable on the same observations"
                )
    return list(ref)


def _pointwise_ll(rows: Mapping[str, runfile.Rows], label: str):
    """``(chain, draw, rows)`` log-likelihood of all training rows, and a label per row."""
    blocks, ids = [], []
    for t, r in rows.items():
        if r.loglik is None:
            raise CompareError(
                f"no pointwise log-likelihood for {t!r} (needed for PSIS-LOO)", label
            )
        blocks.append(np.asarray(r.loglik, dtype=float))
        ids += [f"{t}[{i}]" for i in range(r.loglik.shape[-1])]
    return np.concatenate(blocks, axis=-1), ids


# ------------------------------------------------------------------------------ groups


def _axis(r: runfile.Rows, info: runfile.TargetInfo) -> tuple[np.ndarray, str, str]:
    """(position, label, unit) of training rows along the target's environment axis."""
    index = np.asarray(r.index)
    shorts = [runfile.short_name(c) for c in info.env_columns if runfile.short_name(c) in r.env]
    if len(shorts) == 1:
        s = shorts[0]
        return np.asarray(r.env[s], float), s, r.env_units.get(s, "")
    if r.dim in r.env and np.issubdtype(index.dtype, np.number):
        return index.astype(float), r.dim, r.env_units.get(r.dim, "")
    if shorts:
        s = shorts[0]
        return np.asarray(r.env[s], float), s, r.env_units.get(s, "")
    if np.issubdtype(index.dtype, np.number):
        return index.astype(float), r.dim, ""
    return np.arange(index.size, dtype=float), "row", ""


def _bands(x: np.ndarray, n_bands: int, name: str, label: str, unit: str) -> np.ndarray:
    """Split rows into ``n_bands`` contiguous bands of ~equal counts along ``x``."""
    labels = np.empty(x.size, dtype=object)
    order = np.argsort(x, kind="stable")
    for chunk in np.array_split(order, min(n_bands, x.size)):
        lo, hi = x[chunk].min(), x[chunk].max()
        r = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
        labels[chunk] = f"{name} {label} {r} {unit}".rstrip()
    return labels


def _env_labels(dt, rows: Mapping[str, runfile.Rows], env_groups) -> dict[str, np.ndarray]:
    """Environment label of every training row (see :func:`compare`)."""
    n_rows = {t: r.observed.shape[0] for t, r in rows.items()}
    if env_groups is None or isinstance(env_groups, int):
        n_bands = LOEO_BANDS if env_groups is None else int(env_groups)
        if n_bands < 1:
            raise CompareError(f"env_groups as a number of bands must be >= 1, got {n_bands}")
        infos = {i.name: i for i in runfile.targets(dt)}
        lab = {}
        for t, r in rows.items():
            x, label, unit = _axis(r, infos[t])
            lab[t] = _bands(x, n_bands, t, label, unit)
    elif isinstance(env_groups, Mapping):
        missing = [t for t in rows if t not in env_groups]
        if missing:
            raise CompareError(f"env_groups has no labels for target(s) {missing}")
        lab = {t: np.asarray(env_groups[t], dtype=object) for t in rows}
    else:
        if len(rows) != 1:
            raise CompareError(
                "env_groups as one sequence of labels needs a single trained target; give "
                f"{{target: labels}} for {list(rows)}"
            )
        lab = {t: np.asarray(env_groups, dtype=object) for t in rows}
    for t in rows:
        if lab[t].shape != (n_rows[t],):
            raise CompareError(
                f"env_groups for {t!r}: {lab[t].shape[0]} labels for {n_rows[t]} training rows"
            )
    return lab


# ------------------------------------------------------------------------------ elpd


def _one_row_groups(n_groups: int, n_rows: int) -> list[str]:
    """The warning when every environment group holds one row (more bands asked than
    rows, ``--bands 1000`` with 27 rows): LOEO is then LOO."""
    if n_groups != n_rows or n_rows < 2:
        return []
    return [
        f"every environment group holds one training row ({n_groups} groups for {n_rows} "
        "rows), so elpd_loeo is elpd_loo: ask for fewer bands"
    ]


def _loo_tree(dt, ll: np.ndarray, dim: str, coord):
    """A DataTree in ArviZ's layout (posterior, log_likelihood) for ``arviz.loo``."""

    c, d = ll.shape[:2]
    da = xr.DataArray(
        ll,
        dims=("chain", "draw", dim),
        coords={"chain": np.arange(c), "draw": np.arange(d), dim: coord},
    )
    post = runfile.latents(dt, "posterior")
    ll_ds = xr.Dataset({"log_lik": da})
    return xr.DataTree.from_dict({"posterior": post, "log_likelihood": ll_ds})


def _loo(tree, coord_labels) -> tuple[dict, np.ndarray, list[str]]:

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = az.loo(tree, pointwise=True, var_name="log_lik")
    k = np.asarray(r.pareto_k.values, float)
    good_k = float(r.good_k)
    out = {
        "elpd": float(r.elpd),
        "se": float(r.se),
        "p": float(r.p),
        "n_samples": int(r.n_samples),
        "n_data_points": int(r.n_data_points),
        "good_k": good_k,
        "pareto_k_max": float(np.max(k)) if k.size else None,
        "n_k_above_good": int(np.sum(k > good_k)),
        "pareto_k": {str(lab): float(kk) for lab, kk in zip(coord_labels, k, strict=True)},
        "reliable": bool(np.all(k <= good_k)),
    }
    return out, np.asarray(r.elpd_i.values, float), [str(w.message) for w in caught]


def _rank(elpd_i: dict[str, np.ndarray], summary: dict[str, dict]) -> list[dict]:
    """Rank by elpd; differences to the best with paired standard errors.

    ``se(Δ) = sqrt(N var_n(elpd_best,n - elpd_m,n))`` (Vehtari et al. 2017, eq. 24).
    """
    order = sorted(elpd_i, key=lambda n: -summary[n]["elpd"])
    best = order[0]
    out = []
    for r, n in enumerate(order):
        diff = elpd_i[best] - elpd_i[n]
        n_pts = diff.size
        dse = float(np.sqrt(n_pts * np.var(diff, ddof=1))) if n_pts > 1 else float("nan")
        out.append(
            {
                "run": n,
                "rank": r,
                "elpd": summary[n]["elpd"],
                "elpd_diff": float(summary[best]["elpd"] - summary[n]["elpd"]),
                "dse": 0.0 if n == best else dse,
            }
        )
    return out


def _elpd_all(runs, data, members, group_names):
    """PSIS-LOO and grouped PSIS-LOO (LOEO) of every run, with the trees and warnings."""
    loo, loo_i, loeo, loeo_i, msgs, trees = {}, {}, {}, {}, [], {}
    for n, dt in runs.items():
        ll, row_ids = _pointwise_ll(data[n], n)
        trees[n] = _loo_tree(dt, ll, "obs", np.arange(ll.shape[-1]))
        loo[n], loo_i[n], w = _loo(trees[n], row_ids)
        msgs += [f"{n} (LOO): {m}" for m in w]
        gll = np.stack([ll[..., m].sum(axis=-1) for m in members], axis=-1)
        gtree = _loo_tree(dt, gll, "env_group", np.asarray(group_names))
        loeo[n], loeo_i[n], w = _loo(gtree, group_names)
        msgs += [f"{n} (LOEO): {m}" for m in w]
    return (loo, loo_i), (loeo, loeo_i), msgs, trees


def _stacking_weights(trees: dict, msgs: list[str]) -> dict | None:

    if len(trees) < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = az.compare(trees, var_name="log_lik", round_to="none")
        return {str(k): float(v) for k, v in table["weight"].items()}
    except Exception as e:  # stacking weights are an optional extra
        msgs.append(f"arviz.compare failed, no stacking weights: {e}")
        return None


def compare(
    runs: Mapping,
    env_groups: Mapping[str, Sequence] | Sequence | int | None = None,
) -> dict:
    """Compare runs fitted to the same data: PSIS-LOO and leave-one-environment-out elpd.

    Parameters
    ----------
    runs
        ``{label: run}``, each run a DataTree (:func:`bayesff.runfile.read`) or
        the path of a run file: runs of different models (e.g. potential
        families) calibrated on the same training observations.
    env_groups
        How training rows are grouped into environments for
        leave-one-environment-out (LOEO): None (default) =
        :data:`~bayesff.transferability.thresholds.LOEO_BANDS` contiguous
        bands per target along its environment coordinate (e.g. temperature),
        each with about the same number of rows; an ``int`` = that many
        bands; a sequence of labels, one per training row (single-target
        runs); or ``{target: labels}``. Rows with equal labels form one
        environment, also across targets (so a label such as ``"300 K"`` used
        for a structure and a thermodynamic target leaves out both).

    Returns
    -------
    dict
        ``loo``: per run ``elpd`` (elpd_loo, log density summed over training
        rows, in nats), its ``se``, ``p`` (p_loo, effective number of
        parameters), ``pareto_k`` per row, ``good_k`` (arviz's threshold
        ``min(1 - 1/log10(S), 0.7)``), ``n_k_above_good`` and ``reliable``;
        ``ranking``: runs by decreasing elpd with ``elpd_diff`` (best minus this
        run, >= 0) and ``dse``, the paired standard error of the difference
        ``sqrt(N var_n(elpd_best,n - elpd_m,n))`` from the pointwise values;
        ``weights``: stacking weights from ``arviz.compare`` (None if it
        failed); ``loeo``: the same for environments, with the group labels and
        sizes; ``warnings``: messages arviz raised (e.g. high Pareto k).

    Raises
    ------
    CompareError
        No run given, a run with fewer than :data:`PSIS_MIN_DRAWS` draws, without training
        rows or log-likelihood, or environment groups that do not fit the rows.
    DifferentDataError
        The runs' training observations differ (elpd values are only
        comparable on the same observations).
    bayesff.runfile.RunFileError
        A path that is not a readable run file.

    Notes
    -----
    PSIS-LOO (Vehtari, Gelman and Gabry 2017, doi:10.1007/s11222-016-9696-4)
    estimates ``elpd = sum_n log p(y_n | y_-n)`` by Pareto-smoothed importance
    sampling from the full posterior, with weights ``1/p(y_n | theta_s)``.

    LOEO replaces the pointwise log-likelihood by the grouped one,
    ``log p(y_g | theta_s) = sum_{n in g} log p(y_n | theta_s)`` (the rows are
    conditionally independent given theta), and runs PSIS-LOO on the groups:
    the PSIS approximation to refitting without a whole environment band and
    predicting it, ``elpd_LOEO = sum_g log p(y_g | y_-g)``. Leaving out a band
    moves the posterior much more than leaving out one row, so the importance
    weights are heavier-tailed: Pareto k above ``good_k`` (reported per group)
    means that group's estimate is unreliable and only an actual refit
    without it (K-fold by environment) gives a trustworthy number.
    """
    if not runs:
        raise CompareError("compare needs at least one run")
    runs = {str(k): as_run(v) for k, v in runs.items()}
    _check_draws(runs)
    data = {n: _training(dt, n) for n, dt in runs.items()}
    targets = _check_same_data(data)
    first = next(iter(runs))
    lab = _env_labels(runs[first], data[first], env_groups)
    row_labels = np.concatenate([lab[t] for t in targets]).astype(str)
    group_names = list(dict.fromkeys(row_labels))
    members = [row_labels == g for g in group_names]
    (loo, loo_i), (loeo, loeo_i), msgs, trees = _elpd_all(runs, data, members, group_names)
    msgs += _one_row_groups(len(group_names), int(row_labels.size))
    return {
        "runs": list(runs),
        "targets": targets,
        "n_rows": int(row_labels.size),
        "loo": loo,
        "ranking": _rank(loo_i, loo),
        "weights": _stacking_weights(trees, msgs),
        "loeo": {
            "groups": [
                {"label": g, "n_rows": int(m.sum())}
                for g, m in zip(group_names, members, strict=True)
            ],
            "runs": loeo,
            "ranking": _rank(loeo_i, loeo),
        },
        "warnings": msgs,
        "method": (
            "PSIS-LOO (arviz.loo) on the pointwise log-likelihood of the training rows; LOEO = "
            "PSIS-LOO on the log-likelihood summed within environment groups (an approximation "
            "to refitting without each group; check pareto_k against good_k)"
        ),
    }
