r"""The transferability atlas of a sweep: fluids x potential forms (x training sets) x
held-out groups.

A sweep whose file has a ``[sweep.atlas]`` table (``models/atlas/atlas.toml``)
ends with :func:`write_atlas`, which reads every task's run file (through
:mod:`bayesff.runfile` only), judges its held-out groups with
:func:`bayesff.transferability.evaluate`, compares the potential forms of each
fluid with :func:`bayesff.transferability.compare` (PSIS-LOO on the shared
training data) and by their held-out log predictive density
(:func:`heldout_elpd`), and writes, in ``reports/SWEEP/``:

``index.html``
    The atlas (self-contained, opens offline): the matrix of fluids x forms x
    held-out groups coloured by verdict (one matrix per training set when the
    sweep has an axis named ``training``, :data:`TRAINING_AXIS`), with the
    tolerance probabilities in the cells and the details on hover; diagnostics
    flags; the answers across the phase boundary (per fluid and form: trained on
    B2, does it predict the liquid? trained on VLE, does it predict the gas?);
    posterior means and 90 % intervals of every parameter; corresponding-states
    plots (epsilon/k against Tc, N_A sigma^3 against the critical molar volume);
    Mie n per fluid; the model comparison; links to a page per fluid.
``fluid_FLUID.html``
    One page per fluid: its constants and flags, each form's groups with their
    states where the forward model failed, parameters, comparison, and links
    to each task's own report.
``tasks.html``
    The sweep's task list (:func:`bayesff.report.sweep.render_index`).
``atlas.csv``
    Every number, one row per fluid, form and training set, columns named with
    their units (``training``, ``epsilon_K_mean``, ``sigma_angstrom_q05``,
    ``verdict[B2/low T]``, ``p_all_within_mcse[B2/low T]``, ``verdict_mc[B2/low T]``, ...).
``atlas.json``
    The same, with the per-state lists, as JSON.

Verdicts are those of :func:`~bayesff.transferability.evaluate` (docs/architecture.md,
Transferability criteria), unchanged, with its Monte Carlo error: a group whose verdict
Monte Carlo error alone could change (``mc_verdict``,
:func:`bayesff.transferability.criteria.verdict_range`) is shown as "within MC error of
the threshold" with the verdicts it could take, not as one of them. A held-out state where
the forward model failed for some posterior draws (outside its equation of state's range,
no coexistence above the model's critical temperature, a closure that did not converge)
has NaN predictions for those draws; evaluate counts them as outside tolerance, and the
atlas names every such state with the fraction of draws that failed.

Held-out comparison. The held-out rows were not used in fitting, so their log
predictive density is an out-of-sample score, no leave-one-out approximation
needed:

.. math::

    \mathrm{elpd}_i = \log \frac{1}{S} \sum_s p(y_i \mid \theta_s),

with :math:`p(y_i \mid \theta_s)` the model's own likelihood of the held-out
observation at draw s (:mod:`bayesff.model`, evaluated when the run was made
and stored in the run file: every inadequacy term and error model, a
hierarchical target's new environment, the forward model's error floor). Per
group, the sum over its states, with the standard error
:math:`\sqrt{n\,\mathrm{var}(\mathrm{elpd}_i)}`; two forms are compared on the
same states with the paired standard error of the difference. Draws whose
forward model failed (NaN prediction) count as zero density, so a form that
fails at a state is penalised there, never silently excused.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from html import escape
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from bayesff import runfile
from bayesff.errors import DataError, ProblemError
from bayesff.inference import diagnose
from bayesff.io import atomic_path
from bayesff.report.html import _CHECK_JS, _CSS, fmt_number, fmt_probability
from bayesff.report.plots import agg_backend
from bayesff.report.plots import png_bytes as _png
from bayesff.report.sweep import render_index, runs_tag
from bayesff.transferability import compare, evaluate
from bayesff.transferability.compare import CompareError
from bayesff.transferability.criteria import mc_label, worse_verdict

__all__ = [
    "MODEL_CLASSES",
    "AtlasEntry",
    "carried_entry",
    "collect",
    "heldout_elpd",
    "read_fluids",
    "read_previous",
    "render_atlas",
    "write_atlas",
]

#: Avogadro constant (CODATA 2018, exact), 1/mol: N_A sigma^3 in cm^3/mol.
_AVOGADRO = 6.02214076e23
_A3_TO_CM3 = 1e-24
#: R-hat above this flags a run (docs/architecture.md, Inference defaults).
RHAT_LIMIT = 1.01
#: ... and so does a bulk ESS below this.
ESS_LIMIT = 400
#: The sweep axis that names the training set, when the sweep has one (models/atlas/atlas.toml).
TRAINING_AXIS = "training"
#: Entry statuses with results: a run file of this sweep (``done`` now, ``skipped`` as
#: written before), or an entry of an earlier page carried over (:func:`carried_entry`).
RESULT_STATUSES = ("done", "skipped", "carried")
#: The questions across the phase boundary: (trained on, held-out targets that answer it).
GAS_TARGETS = ("B2",)
LIQUID_TARGETS = ("rho_l", "p_sat")

_VERDICT_CLASS = {
    "transferable": "v-transferable",
    "uncertain": "v-uncertain",
    "not transferable": "v-not-transferable",
}
_VERDICT_MARK = {"transferable": "\u2713", "uncertain": "?", "not transferable": "\u2717"}

_ATLAS_CSS = """
table.atlas td, table.atlas th { text-align: center; padding: 2px 5px; }
table.atlas th.fluid, table.atlas td.fluid { text-align: left; white-space: nowrap; }
td.v-transferable { background: #7fc97f; } td.v-uncertain { background: #fdd96a; }
td.v-not-transferable { background: #f08080; } td.na { background: #eeeeee; color: #888; }
td.failed { background: #555; color: #fff; } td.diag-bad { outline: 2px solid #c0392b; }
span.flag { color: #b35900; font-weight: bold; } td.cell { min-width: 52px; }
td.mc-open, .legend span.mc-open { background-image:
repeating-linear-gradient(45deg, transparent 0 6px, rgba(255,255,255,.55) 6px 9px); }
.legend span.v-transferable { background: #7fc97f; } .legend span.v-uncertain
{ background: #fdd96a; } .legend span.v-not-transferable { background: #f08080; }
"""


# ------------------------------------------------------------------------------------ fluids


def read_fluids(path: str | Path, where: str = "[sweep.atlas].fluids") -> dict[str, dict]:
    """Fluid -> its row of a fluids table (``data/atlas/fluids.csv``), numbers as floats.

    Needs the columns ``fluid``, ``Tc_K`` and ``Vc_cm3_per_mol``; ``quantum_flag``,
    ``q1_over_u_max``, ``model_class``, ``formula`` and ``note`` are used when present.
    A cell is a number when it is a plain finite decimal (``150.687``, ``1.5e-3``); one
    that only Python's ``float`` reads (``inf``, ``nan``, ``1_50``, `` 1.5``) is refused,
    and so are a column named twice, a row with another number of fields than the
    header, a ``model_class`` not in :data:`MODEL_CLASSES` and text that a spreadsheet
    would read as a formula (it begins with ``=``, ``+``, ``-`` or ``@``; some of it is
    copied into ``atlas.csv``), each naming the file, line and column. ``where``: the
    field that names the table (``SWEEP: [sweep.atlas].fluids``), for a missing table.
    """

    path = Path(path)
    if not path.is_file():
        raise DataError(f"fluids table not found: {path}", where)
    lines = _csv_lines(path)
    need = ("fluid", "Tc_K", "Vc_cm3_per_mol")
    header = lines[0][1] if lines else []
    missing = [c for c in need if lines and c not in header]
    if len(lines) < 2 or missing:
        raise DataError(
            f"expected a table with columns {', '.join(need)}; "
            f"missing {', '.join(missing) or 'rows'}",
            str(path),
        )
    _check_header(header, path, lines[0][0])
    out, first = {}, {}
    for n, r in lines[1:]:
        if len(r) != len(header):
            raise DataError(
                f"{len(r)} fields, expected {len(header)}: one per column of the header "
                f"(line {lines[0][0]})",
                f"{path}: line {n}"
                + (f", column {len(header) + 1}" if len(r) > len(header) else ""),
            )
        d = {
            k: _fluid_cell(v, k, f"{path}: line {n}, column {j + 1} ({k})")
            for j, (k, v) in enumerate(zip(header, r, strict=True))
        }
        for c in ("Tc_K", "Vc_cm3_per_mol"):
            if not isinstance(d[c], float) or not d[c] > 0:
                raise DataError(
                    f"{c} must be a positive number, got {r[header.index(c)]!r}",
                    f"{path}: line {n}, column {header.index(c) + 1} ({c})",
                )
        name = str(d["fluid"])
        if name in out:  # the last row would silently replace the first's Tc and Vc
            raise DataError(
                f"fluid {name!r} has a second row (the first is line {first[name]}): one row "
                "per fluid",
                f"{path}: line {n}",
            )
        out[name], first[name] = d, n
    return out


#: The model classes a fluids table may give (``model_class``; the atlas's tables are made
#: by data/scripts/make_atlas_data.py and make_polar_gases_data.py), or none (empty).
MODEL_CLASSES = ("spherical", "two-centre", "polar")
#: A number in a fluids table: a plain decimal, sign and exponent allowed.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: How text that a spreadsheet reads as a formula begins.
_FORMULA_START = ("=", "+", "-", "@")


def _csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-empty record of a CSV file (UTF-8)."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            try:
                return [(reader.line_num, r) for r in reader if r]
            except csv.Error as e:
                raise DataError(
                    f"not a CSV table: {e}", f"{path}: line {reader.line_num}"
                ) from None
    except UnicodeDecodeError as e:
        raise DataError(f"not UTF-8 text: {e.reason} at byte {e.start}", str(path)) from None


def _check_header(header: list[str], path: Path, line: int) -> None:
    """A fluids table's header names each column once (else the last one read would win)."""
    seen: dict[str, int] = {}
    for j, name in enumerate(header):
        if name in seen:
            raise DataError(
                f"column {name!r} is named twice in the header (columns {seen[name] + 1} and "
                f"{j + 1}): expected each column once",
                f"{path}: line {line}, column {j + 1}",
            )
        seen[name] = j


def _fluid_cell(v: str, column: str, where: str) -> float | str:
    """One cell of a fluids table: a finite plain decimal as a float, else checked text."""
    if _PLAIN_NUMBER.fullmatch(v):
        x = float(v)
        if not math.isfinite(x):
            raise DataError(f"expected a finite number, got {v!r} (too large)", where)
        return x
    try:
        float(v)
    except ValueError:
        pass
    else:
        raise DataError(
            f"expected a plain finite decimal number (e.g. 150.687 or 1.5e-3), got {v!r}", where
        )
    if column == "model_class" and v not in ("", *MODEL_CLASSES):
        raise DataError(f"expected one of {', '.join(MODEL_CLASSES)} (or empty), got {v!r}", where)
    if v.startswith(_FORMULA_START):
        raise DataError(
            f"text beginning with {v[0]!r} would be a formula in a spreadsheet (atlas.csv); "
            f"expected text that does not begin with {', '.join(_FORMULA_START)}, got {v!r}",
            where,
        )
    return v


# ------------------------------------------------------------------------------- one run


@dataclass
class AtlasEntry:
    """What the atlas shows of one task (a fluid and a potential form).

    ``params``: name -> {unit, fixed, mean, sd, q05, q50, q95} in the problem's
    units (fixed parameters: ``value``); ``derived``: the same for
    ``NA_sigma3`` (cm^3/mol) and ``Tc_over_epsilon`` (k Tc / epsilon); ``groups``:
    :func:`~bayesff.transferability.evaluate` groups, each with ``failed_states``
    (states where some draws' forward model failed) and ``elpd`` (held out);
    ``training``: evaluate's training entries with the PSIS-LOO of the run.
    """

    fluid: str
    potential: str
    task: str
    status: str
    message: str = ""
    training_set: str = ""  # the training set ("B2", "VLE", "B2+VLE"), "" without that axis
    run: str = ""
    report: str = ""
    potential_name: str = ""
    params: dict = field(default_factory=dict)
    derived: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)
    wall_time_s: float = 0.0  # the run's own wall time, when it was calibrated
    groups: list = field(default_factory=list)
    training: dict = field(default_factory=dict)
    loo: dict = field(default_factory=dict)
    fingerprint: str = ""  # the run file's problem fingerprint (Problem.fingerprint)
    settings: str = ""  # ... and its sweep settings stamp (repr of InferenceSettings)
    carried_from: str = ""  # the earlier atlas.json this entry was read from, if any

    @property
    def ok(self) -> bool:
        return self.status in RESULT_STATUSES and bool(self.groups or self.params)

    def group(self, target: str, group: str) -> dict | None:
        return next(
            (g for g in self.groups if g["target"] == target and g["group"] == group), None
        )


def _stats(x: np.ndarray) -> dict:
    x = np.asarray(x, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": None, "sd": None, "q05": None, "q50": None, "q95": None}
    q = np.quantile(x, [0.05, 0.5, 0.95])
    return {
        "mean": float(x.mean()),
        "sd": float(x.std(ddof=1)) if x.size > 1 else 0.0,
        "q05": float(q[0]),
        "q50": float(q[1]),
        "q95": float(q[2]),
    }


def _fixed_values(dt) -> dict:
    """Fixed parameters (``value = ...`` in the problem text) with their units."""

    text = runfile.info(dt).get("problem_text", "")
    try:
        doc = tomllib.loads(str(text))
    except (ValueError, RecursionError):  # not TOML, or past tomllib's limits
        return {}
    return {
        n: {"unit": p.get("unit", ""), "value": float(p["value"])}
        for n, p in doc.get("parameters", {}).items()
        if isinstance(p, dict) and "value" in p
    }


def _parameters(dt, fluid: dict | None) -> tuple[dict, dict]:
    post = runfile.latents(dt, "posterior")
    params = {}
    for n in runfile.parameter_names(dt):
        unit = str(post[n].attrs.get("units", ""))
        params[n] = {"unit": unit, "fixed": False, **_stats(post[n].values)}
    for n, f in _fixed_values(dt).items():
        params.setdefault(n, {"unit": f["unit"], "fixed": True, "value": f["value"]})
    derived_params = runfile.derived_parameters(dt)  # epsilon of a mie_vdw run
    for n, da in derived_params.data_vars.items():
        params[n] = {"unit": str(da.attrs.get("units", "")), "fixed": False, "derived": True}
        params[n].update(_stats(da.values))
    for n in post.data_vars:  # inadequacy terms (tau_B2, ...)
        if n not in params:
            params[n] = {
                "unit": str(post[n].attrs.get("units", "")),
                "fixed": False,
                "latent": True,
                **_stats(post[n].values),
            }
    derived = {}
    # sampled, or derived (a two-centre form in critical-point coordinates)
    sig = post["sigma"] if "sigma" in post else derived_params.get("sigma")
    if sig is not None and str(sig.attrs.get("units", "")) == "angstrom":
        derived["NA_sigma3"] = {
            "unit": "cm^3/mol",
            **_stats(_AVOGADRO * _A3_TO_CM3 * sig.values**3),
        }
    eps = post["epsilon"] if "epsilon" in post else derived_params.get("epsilon")
    if fluid is not None and eps is not None and str(eps.attrs.get("units")) == "K":
        derived["Tc_over_epsilon"] = {"unit": "1", **_stats(fluid["Tc_K"] / eps.values)}
    return params, derived


def _failed_states(dt, target: str) -> dict[str, list[dict]]:
    """Held-out states of a target where some draws' forward model is not finite, by group."""
    rows = runfile.rows(dt, target, "holdout")
    if rows is None:
        return {}
    model = np.asarray(rows.model, dtype=float)
    m = model.reshape(-1, model.shape[2], *model.shape[3:])
    bad = ~np.isfinite(m)
    if bad.ndim > 2:
        bad = bad.reshape(bad.shape[0], bad.shape[1], -1).any(axis=2)
    frac = bad.mean(axis=0)
    out: dict[str, list[dict]] = {}
    for i in np.flatnonzero(frac > 0):
        env = {k: float(np.asarray(v)[i]) for k, v in rows.env.items()}
        out.setdefault(str(rows.group[i]), []).append(
            {"env": env, "env_units": dict(rows.env_units), "fraction_failed": float(frac[i])}
        )
    return out


def heldout_elpd(dt) -> dict[tuple[str, str], dict]:
    """Log predictive density of every held-out group of a run (module docstring).

    From the model's own pointwise log-likelihood of the held-out observations,
    which the run file holds (:func:`bayesff.runfile.rows`, ``loglik``): every
    inadequacy and error model is covered, nothing is computed again here. A
    correlated target's held-out rows are one observation (one density per
    curve), reported under their group when they form one, else under all their
    groups joined by " + ".

    Returns
    -------
    dict
        ``(target, group)`` -> ``elpd`` (nats, summed over the group's states),
        ``se``, ``n``, ``elpd_i`` (per state, or per curve), ``observed`` (the
        states' values, to check that two runs are compared on the same data).
        Runs written before the held-out log-likelihood was stored have none.
    """
    out = {}
    for info in runfile.targets(dt):
        rows = runfile.rows(dt, info.name, "holdout")
        if rows is None or rows.loglik is None or rows.observed.shape[0] == 0:
            continue
        c, d = rows.loglik.shape[:2]
        elpd_i = _logmeanexp(rows.loglik.reshape(c * d, -1))
        groups = np.asarray(rows.group)
        if elpd_i.size != groups.size:  # one observation per curve
            parts = [(" + ".join(dict.fromkeys(groups.tolist())), np.ones(groups.size, bool))]
            curve = True
        else:
            parts = [(g, groups == g) for g in dict.fromkeys(groups.tolist())]
            curve = False
        for g, sel in parts:
            e = elpd_i if curve else elpd_i[sel]
            n = int(e.size)
            finite = np.isfinite(e).all()
            out[(info.name, str(g))] = {
                "elpd": float(e.sum()) if finite else -math.inf,
                "se": float(np.sqrt(n * np.var(e, ddof=1))) if finite and n > 1 else None,
                "n": n,
                "elpd_i": e,
                "observed": np.asarray(rows.observed, float)[sel],
            }
    return out


def _logmeanexp(a: np.ndarray) -> np.ndarray:
    """log mean exp over axis 0, stable; -inf where every draw is -inf."""
    m = np.max(a, axis=0)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(m), safe + np.log(np.mean(np.exp(a - safe), axis=0)), -np.inf)


def training_name(label: str) -> str:
    """The training set a label of the training axis names: ``B2_VLE`` is ``B2+VLE`` (a
    label is part of a task name, which takes no ``+``)."""
    return label.replace("_", "+")


def _entry(
    task, status: str, message: str, report_folder: Path, fluids: dict, fa: str, pa: str
) -> AtlasEntry:

    fluid, pot = task.labels.get(fa, ""), task.labels.get(pa, "")
    training = training_name(task.labels.get(TRAINING_AXIS, ""))
    e = AtlasEntry(fluid, pot, task.name, status, message, training)
    if status not in ("done", "skipped") or not Path(task.out).is_file():
        return e
    dt = runfile.read(task.out)
    e.run = str(task.out)
    page = Path(report_folder) / task.name / "index.html"
    e.report = str(page) if page.is_file() else ""
    e.potential_name = str(runfile.info(dt).get("potential_name", ""))
    e.wall_time_s = float(dt.attrs.get("wall_time_s", 0.0))
    e.fingerprint = str(dt.attrs.get("problem_fingerprint", ""))
    e.settings = str(dt.attrs.get("sweep_settings", ""))
    e.params, e.derived = _parameters(dt, fluids.get(fluid))
    d = diagnose(dt)
    e.diagnostics = {
        "rhat_max": d.rhat_max,
        "ess_bulk_min": d.ess_bulk_min,
        "divergences": int(d.divergences),
        # False for NaN (a chain that never moved)
        "rhat_ok": bool(d.rhat_max <= RHAT_LIMIT),
        "ess_ok": bool(d.ess_bulk_min >= ESS_LIMIT),
        # the share of the draws in each of the Laplace start's modes (diagnose)
        "modes_ok": bool(d.modes_ok),
        "ok": bool(d.ok),
        "warnings": list(d.warnings),
        "draws": int(np.prod([dt["posterior"].sizes[k] for k in ("chain", "draw")])),
    }
    res = evaluate(dt)
    e.training = {k: dict(v) for k, v in res.training.items()}
    failed = {t.name: _failed_states(dt, t.name) for t in runfile.targets(dt)}
    elpd = heldout_elpd(dt)
    for g in res.groups:
        g = dict(g)
        g["failed_states"] = failed.get(g["target"], {}).get(g["group"], [])
        h = elpd.get((g["target"], g["group"]))
        g["elpd"] = None if h is None else {k: v for k, v in h.items()}
        e.groups.append(g)
    e._dt = dt  # kept for the comparison; not written anywhere
    return e


def _arrays(elpd: dict | None) -> dict | None:
    """A held-out elpd read back from JSON, where a non-finite number was written as null:
    ``elpd`` and ``elpd_i`` are log densities, so null there was -inf (every draw's forward
    model failed); ``observed`` null was NaN."""
    if not elpd:
        return elpd
    out = dict(elpd)
    for k, fill in (("elpd_i", -np.inf), ("observed", np.nan)):
        if k in out:
            out[k] = np.array([fill if v is None else v for v in out[k]], dtype=float)
    if out.get("elpd", 0.0) is None:
        out["elpd"] = -np.inf
    return out


def carried_entry(d: dict, source: str) -> AtlasEntry:
    """An entry of an earlier page's ``atlas.json`` (``d``), shown again without its run file.

    Its numbers are the earlier page's; what needs the run file itself (PSIS-LOO against
    forms run since) is not recomputed (:func:`write_atlas`). ``source`` names the file
    (and when it was read: the file is usually the page's own, which the new page
    replaces); an entry that page had itself carried over keeps its first source.
    """

    names = {f.name for f in fields(AtlasEntry)}
    e = AtlasEntry(**{k: v for k, v in d.items() if k in names})
    e.status, e.carried_from = "carried", str(d.get("carried_from") or source)
    e.message = f"carried over from {e.carried_from} (its run file is not here)"
    e.groups = [{**g, "elpd": _arrays(g.get("elpd"))} for g in e.groups]
    for g in e.groups:
        if g.get("elpd_rank"):
            _finite_again(g["elpd_rank"])
    return e


def read_previous(path: str | Path, sweep: str) -> tuple[dict[str, dict], dict]:
    """The entries (task -> entry) and comparisons of an earlier page's ``atlas.json``.

    Raises
    ------
    bayesff.errors.DataError
        For a file that is not such a page's JSON (naming the field that is not as
        :func:`write_atlas` writes it, e.g. ``comparisons.argon.x``, and what was
        expected there), or one of another sweep than ``sweep``.
    """

    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            "no such file: expected an atlas.json written by bayesff", str(path)
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"not JSON: {err}", str(path)) from None
    _check_json(doc, _PAGE, "", path)
    if doc["sweep"] != sweep:
        raise DataError(f"this page is of sweep {doc['sweep']!r}, not {sweep!r}", f"{path}: sweep")
    comparisons = doc.get("comparisons") or {}
    for fl, per_fluid in comparisons.items():
        for key, c in per_fluid.items():
            for i, r in enumerate((c["loo"] or {}).get("ranking", [])):
                if r["run"] not in c["loo"]["runs"]:
                    raise DataError(
                        f"names the form {r['run']!r}, which loo.runs lacks: expected one of "
                        f"{', '.join(map(repr, c['loo']['runs'])) or 'none'}",
                        f"{path}: comparisons.{fl}.{key}.loo.ranking[{i}].run",
                    )
            for ranks in c["heldout"].values():
                for r in ranks.values():
                    _finite_again(r)
    return {e["task"]: e for e in doc["entries"]}, comparisons


# The structure of an earlier page's atlas.json that read_previous reads (_check_json), as
# {field: kind}: a field ending in "?" may be missing, a kind ending in "?" may be null; a
# kind that is a dict is an object with those fields, ("each", kind) an object whose every
# value is of that kind, ("items", kind) a list whose every item is, ("nullable", kind)
# null or of that kind.
_NUMBERS = ("items", "number?")
_RANK = {
    "rank": "int",
    "elpd": "number?",
    "elpd_diff": "number?",
    "n_failed?": "int",
    "dse?": "number?",
}
_ELPD = {
    "elpd": "number?",
    "se?": "number?",
    "n?": "int",
    "elpd_i?": _NUMBERS,
    "observed?": _NUMBERS,
}
_FAILED_STATE = {
    "env": ("each", "number"),
    "env_units?": ("each", "text"),
    "fraction_failed": "number",
}
_GROUP = {
    "target": "text",
    "group": "text",
    "verdict": "text",
    "p_all_within_tolerance": "number?",
    "n": "int",
    "n_pass": "int",
    "n_uncertain": "int",
    "n_fail": "int",
    "coverage90": "number?",
    "env_range": "text",
    "tolerance": "object?",
    "failed_states": ("items", _FAILED_STATE),
    "p_all_within_mcse?": "number?",
    "mc_verdict?": "object?",
    "elpd?": ("nullable", _ELPD),
    "elpd_rank?": ("nullable", _RANK),
}
_PARAM = {
    "unit": "text",
    "fixed?": "bool",
    "value?": "number?",
    "mean?": "number?",
    "sd?": "number?",
    "q05?": "number?",
    "q50?": "number?",
    "q95?": "number?",
}
_FIELD_KINDS = {"str": "text", "float": "number", "dict": "object", "list": "list"}
_ENTRY = {
    **{
        f.name + ("" if f.default is MISSING and f.default_factory is MISSING else "?"): (
            _FIELD_KINDS[str(f.type)]
        )
        for f in fields(AtlasEntry)
    },
    "params?": ("each", _PARAM),
    "derived?": ("each", _PARAM),
    "groups?": ("items", _GROUP),
    "training?": ("each", "object"),
}
_LOO_RANK = {"run": "text", "rank": "int", "elpd_diff": "number?", "dse": "number?"}
_LOO = {
    "ranking": ("items", _LOO_RANK),
    "runs": ("each", {"elpd": "number?", "se": "number?", "reliable": "bool"}),
    "weights?": ("nullable", ("each", "number?")),
}
_COMPARISON = {
    "loo": ("nullable", _LOO),
    "loo_error": "text",
    "heldout": ("each", ("each", _RANK)),
}
_PAGE = {
    "sweep": "text",
    "entries": ("items", _ENTRY),
    "comparisons?": ("each", ("each", _COMPARISON)),
}
_BASIC = {
    "object": (lambda v: isinstance(v, dict), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "text": (lambda v: isinstance(v, str), "text (a string)"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
}


def _check_json(v, kind, where: str, path: Path) -> None:
    """Refuse ``v``, the field ``where`` (dotted, e.g. ``comparisons.argon.x``) of the JSON
    file ``path``, unless it is of ``kind`` (see :data:`_PAGE`), naming what was expected."""
    at = f"{path}: {where}" if where else str(path)
    if isinstance(kind, dict):
        need = [k for k in kind if not k.endswith("?")]
        if not isinstance(v, dict):
            raise DataError(f"expected an object with {', '.join(need)}, got {_shown(v)}", at)
        for key, k in kind.items():
            name = key.removesuffix("?")
            if name in v:
                _check_json(v[name], k, f"{where}.{name}" if where else name, path)
            elif name == key:
                raise DataError(
                    f"expected an object with {', '.join(need)}; {name!r} is missing", at
                )
        return
    if isinstance(kind, tuple):
        how, inner = kind
        if how == "nullable":
            if v is not None:
                _check_json(v, inner, where, path)
            return
        items = how == "items"
        if not isinstance(v, list if items else dict):
            raise DataError(f"expected {'a list' if items else 'an object'}, got {_shown(v)}", at)
        for key, item in enumerate(v) if items else v.items():
            _check_json(item, inner, f"{where}[{key}]" if items else f"{where}.{key}", path)
        return
    test, words = _BASIC[kind.removesuffix("?")]
    if not (test(v) or (v is None and kind.endswith("?"))):
        nullable = " or null" if kind.endswith("?") else ""
        raise DataError(f"expected {words}{nullable}, got {_shown(v)}", at)


def _shown(v) -> str:
    """A JSON value as it is written, cut short."""
    text = json.dumps(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite_again(rank: dict) -> dict:
    """A held-out rank read back from JSON: a difference written as null was +inf (a state
    where every draw of this form failed), an elpd written as null -inf."""
    if "elpd_diff" in rank and rank["elpd_diff"] is None:
        rank["elpd_diff"] = math.inf
    if "elpd" in rank and rank["elpd"] is None:
        rank["elpd"] = -math.inf
    return rank


def collect(
    res,
    report_folder: Path,
    fluids: dict,
    fluid_axis: str = "fluid",
    potential_axis: str = "potential",
    carried: dict[str, AtlasEntry] | None = None,
) -> list[AtlasEntry]:
    """One :class:`AtlasEntry` per task of a :class:`~bayesff.sweep.SweepResult`; a task
    of status ``carried`` takes its entry from ``carried`` (task -> entry)."""

    out = []
    for t in res.tasks:
        if res.status.get(t.name) == "carried":
            out.append(carried[t.name])
            continue
        for a in (fluid_axis, potential_axis):
            if a not in t.labels:
                raise ProblemError(
                    f"task {t.name!r} has no {a!r} axis (axes: {', '.join(t.labels) or 'none'}); "
                    "set fluid_axis and potential_axis in [sweep.atlas]",
                    "[sweep.atlas]",
                )
        out.append(
            _entry(
                t,
                res.status.get(t.name, "failed"),
                res.messages.get(t.name, ""),
                report_folder,
                fluids,
                fluid_axis,
                potential_axis,
            )
        )
    return out


# ---------------------------------------------------------------------------- comparison


def _compare_fluid(entries: list[AtlasEntry], previous: dict | None = None) -> dict:
    """PSIS-LOO on the training data and held-out elpd per group, across one fluid's forms.

    Entries carried over from an earlier page have no run file. When every entry is one
    of them, the earlier page's comparison (``previous``) is shown again; when only some
    are, PSIS-LOO is not computed (it needs every form's pointwise log-likelihood) and the
    forms' earlier LOO figures are dropped; the held-out ranking needs only the entries.
    """

    carried = [e.task for e in entries if e.status == "carried"]
    if carried and previous is not None and len(carried) == len(entries):
        return previous
    runs = {e.potential: e._dt for e in entries if e.ok and hasattr(e, "_dt")}
    out = {"loo": None, "loo_error": "", "heldout": {}}
    if carried:
        for e in entries:
            e.loo = {}
        out["loo_error"] = (
            "not compared: the runs of " + ", ".join(carried) + " are carried over from an "
            "earlier page without their run files; run them again to compare"
        )
    elif runs:
        try:
            c = compare(runs)
            out["loo"] = {
                "ranking": c["ranking"],
                "runs": {
                    k: {
                        kk: v[kk]
                        for kk in (
                            "elpd",
                            "se",
                            "p",
                            "reliable",
                            "pareto_k_max",
                            "n_k_above_good",
                            "n_data_points",
                        )
                    }
                    for k, v in c["loo"].items()
                },
                "weights": c["weights"],
                "n_rows": c["n_rows"],
            }
            for e in entries:
                if e.potential in c["loo"]:
                    e.loo = dict(out["loo"]["runs"][e.potential])
                    r = next(r for r in c["ranking"] if r["run"] == e.potential)
                    e.loo.update(rank=r["rank"], elpd_diff=r["elpd_diff"], dse=r["dse"])
                    if c["weights"]:
                        e.loo["weight"] = c["weights"].get(e.potential)
        except CompareError as err:
            out["loo_error"] = str(err)
    keys = []
    for e in entries:
        keys += [(g["target"], g["group"]) for g in e.groups if g.get("elpd")]
    for key in dict.fromkeys(keys):
        have = {
            e.potential: e.group(*key)["elpd"]
            for e in entries
            if e.ok and e.group(*key) and e.group(*key).get("elpd")
        }
        out["heldout"][f"{key[0]}/{key[1]}"] = _rank_heldout(have)
        for e in entries:
            g = e.group(*key) if e.ok else None
            if g and g.get("elpd") and e.potential in out["heldout"][f"{key[0]}/{key[1]}"]:
                g["elpd_rank"] = out["heldout"][f"{key[0]}/{key[1]}"][e.potential]
    return out


def _rank_heldout(have: dict[str, dict]) -> dict[str, dict]:
    """Forms ranked by held-out elpd, with differences to the best and paired SEs."""
    if not have:
        return {}
    ref = next(iter(have.values()))["observed"]
    same = {k: v for k, v in have.items() if np.array_equal(v["observed"], ref)}
    order = sorted(same, key=lambda k: -same[k]["elpd"])
    best = same[order[0]]
    out = {}
    for r, k in enumerate(order):
        # states where both forms failed at every draw are -inf - -inf: not finite, and the
        # difference is then reported as infinite below, without a warning
        with np.errstate(invalid="ignore"):
            diff = best["elpd_i"] - same[k]["elpd_i"]
        finite = np.isfinite(diff).all()
        elpd_i = np.asarray(same[k]["elpd_i"], float)
        out[k] = {
            "rank": r,
            "elpd": same[k]["elpd"],
            # states where the forward model failed at every draw: elpd is -inf there
            "n_failed": int((~np.isfinite(elpd_i)).sum()),
            "elpd_diff": 0.0 if k == order[0] else (float(diff.sum()) if finite else math.inf),
            "dse": 0.0
            if k == order[0]
            else (
                float(np.sqrt(diff.size * np.var(diff, ddof=1)))
                if finite and diff.size > 1
                else None
            ),
        }
    return out


# ------------------------------------------------------------------------------------ table


def _columns(entries: list[AtlasEntry]) -> list[tuple[str, str]]:
    cols = []
    for e in entries:
        cols += [(g["target"], g["group"]) for g in e.groups]
    return list(dict.fromkeys(cols))


def _unit_key(unit: str) -> str:
    u = unit.replace("^", "").replace("/", "_per_").replace(" ", "")
    return {"1": ""}.get(u, u)


def _num(x):
    if x is None:
        return ""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def atlas_rows(entries: list[AtlasEntry], fluids: dict) -> list[dict]:
    """``atlas.csv``: one row per fluid and form with every number, units in the names."""
    cols = _columns(entries)
    rows = []
    for e in entries:
        f = fluids.get(e.fluid, {})
        r = {
            "fluid": e.fluid,
            "potential": e.potential,
            "training": e.training_set,
            "potential_kind": e.potential_name,
            "task": e.task,
            "status": e.status,
            "message": e.message,
            "Tc_K": f.get("Tc_K"),
            "Vc_cm3_per_mol": f.get("Vc_cm3_per_mol"),
            "model_class": f.get("model_class", ""),
            "quantum_flag": f.get("quantum_flag", ""),
            "q1_over_u_max": f.get("q1_over_u_max", ""),
        }
        for n, p in {**e.params, **e.derived}.items():
            key = f"{n}_{_unit_key(p['unit'])}" if _unit_key(p["unit"]) else n
            if p.get("fixed"):
                r[f"{key}_fixed"] = p["value"]
                continue
            for s in ("mean", "sd", "q05", "q50", "q95"):
                r[f"{key}_{s}"] = _num(p.get(s))
        for k in (
            "rhat_max", "ess_bulk_min", "divergences", "rhat_ok", "ess_ok", "modes_ok", "draws"
        ):  # fmt: skip
            r[k] = _num(e.diagnostics.get(k))
        r["diagnostics_warnings"] = "; ".join(e.diagnostics.get("warnings", []))
        for k in (
            "elpd",
            "se",
            "p",
            "rank",
            "elpd_diff",
            "dse",
            "weight",
            "reliable",
            "pareto_k_max",
        ):
            r[f"loo_{k}" + ("_nats" if k in ("elpd", "se", "elpd_diff", "dse") else "")] = _num(
                e.loo.get(k)
            )
        for t, tr in e.training.items():
            r[f"train_rel_rmse[{t}]"] = _num(tr.get("rel_rmse"))
            r[f"train_p_all_within[{t}]"] = _num(tr.get("p_all_within_tolerance"))
        for t, g in cols:
            key = f"{t}/{g}"
            grp = e.group(t, g)
            if grp is None:
                r[f"verdict[{key}]"] = "" if e.ok else e.status
                continue
            r[f"verdict[{key}]"] = grp["verdict"]
            r[f"p_all_within[{key}]"] = _num(grp["p_all_within_tolerance"])
            # Monte Carlo error: the standard error of P(all within) and the verdicts
            # that error alone could give (transferability.criteria.verdict_range)
            mc = grp.get("mc_verdict") or {}
            r[f"p_all_within_mcse[{key}]"] = _num(grp.get("p_all_within_mcse"))
            r[f"verdict_mc[{key}]"] = mc_label(mc)
            r[f"n_states_within_mc_error[{key}]"] = _num(mc.get("n_states"))
            for k in (
                "n",
                "n_pass",
                "n_uncertain",
                "n_fail",
                "coverage90",
                "transferability_index_rel",
            ):
                r[f"{k}[{key}]"] = _num(grp.get(k))
            r[f"n_failed_states[{key}]"] = len(grp["failed_states"])
            el = grp.get("elpd") or {}
            r[f"heldout_elpd_nats[{key}]"] = _num(el.get("elpd"))
            r[f"heldout_elpd_se_nats[{key}]"] = _num(el.get("se"))
            rk = grp.get("elpd_rank") or {}
            r[f"heldout_elpd_rank[{key}]"] = _num(rk.get("rank"))
            r[f"heldout_elpd_diff_nats[{key}]"] = _num(rk.get("elpd_diff"))
            r[f"heldout_elpd_dse_nats[{key}]"] = _num(rk.get("dse"))
        r["run"] = e.run
        r["report"] = e.report
        rows.append(r)
    return rows


def _write_csv(rows: list[dict], path: Path) -> None:

    cols = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, restval="")
    w.writeheader()
    w.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


# ---------------------------------------------------------------------------------- plots


def _png_b64(fig) -> str:

    return base64.b64encode(_png(fig)).decode("ascii")


_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _errorbar(ax, x, p: dict, **kw):
    lo, hi = p["q05"], p["q95"]
    ax.errorbar([x], [p["mean"]], yerr=[[p["mean"] - lo], [hi - p["mean"]]], capsize=2, **kw)


def corresponding_states_figure(entries, fluids, potentials, training: str = "") -> dict | None:
    """epsilon/k against Tc and N_A sigma^3 against Vc, one point per fluid and form."""
    if not any(e.ok for e in entries):
        return None

    with agg_backend():
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
        tc = np.array([f["Tc_K"] for f in fluids.values()])
        vc = np.array([f["Vc_cm3_per_mol"] for f in fluids.values()])
        for i, pot in enumerate(potentials):
            label_done = False
            for e in entries:
                if e.potential != pot or not e.ok or e.fluid not in fluids:
                    continue
                f = fluids[e.fluid]
                kw = dict(
                    fmt=_MARKERS[i % len(_MARKERS)],
                    color=f"C{i}",
                    ms=5,
                    alpha=0.85,
                    label=None if label_done else pot,
                )
                label_done = True
                if "epsilon" in e.params and not e.params["epsilon"].get("fixed"):
                    _errorbar(axes[0], f["Tc_K"], e.params["epsilon"], **kw)
                if "NA_sigma3" in e.derived:
                    kw["label"] = None
                    _errorbar(axes[1], f["Vc_cm3_per_mol"], e.derived["NA_sigma3"], **kw)
        x = np.linspace(0, tc.max() * 1.08, 50)
        axes[0].plot(x, x / 1.31, "k--", lw=0.8, label="k Tc / epsilon = 1.31 (LJ)")
        x = np.linspace(0, vc.max() * 1.08, 50)
        axes[1].plot(x, 0.316 * x, "k--", lw=0.8, label="N_A sigma^3 = 0.316 Vc (LJ)")
        axes[0].set_xlabel("critical temperature Tc [K]")
        axes[0].set_ylabel("epsilon / k [K]")
        axes[1].set_xlabel("critical molar volume Vc [cm^3/mol]")
        axes[1].set_ylabel("N_A sigma^3 [cm^3/mol]")
        for ax in axes:
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        b64 = _png_b64(fig)
    return {
        "key": "corresponding_states" + (f"_{training}" if training else ""),
        "title": "Corresponding states" + (f", trained on {training}" if training else ""),
        "caption": (
            "Posterior mean and 90 % interval of epsilon/k against the critical temperature "
            "(left) and of N_A sigma^3 against the critical molar volume (right), one point per "
            "fluid and potential form. Dashed: the LJ critical point (T* = 1.31, rho* = 0.316; "
            "Potoff and Panagiotopoulos 1998, doi:10.1063/1.477787). For 2CLJ and 2CLJQ the "
            "parameters are those of one site, so they fall below the lines by construction."
        ),
        "png": b64,
    }


def mie_n_figure(entries, fluids, potential: str, training: str = "") -> dict | None:
    """Mie's repulsive exponent n per fluid (posterior mean and 90 % interval)."""

    pts = [
        e
        for e in entries
        if e.potential == potential and e.ok and "n" in e.params and not e.params["n"].get("fixed")
    ]
    if not pts:
        return None
    with agg_backend():
        fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(pts) + 2), 3.8))
        for i, e in enumerate(pts):
            _errorbar(ax, i, e.params["n"], fmt="o", color="C1", ms=5)
        ax.axhline(12, color="k", ls="--", lw=0.8, label="n = 12 (LJ)")
        ax.set_xticks(range(len(pts)), [e.fluid for e in pts], rotation=45, ha="right")
        ax.set_ylabel("Mie repulsive exponent n")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        b64 = _png_b64(fig)
    return {
        "key": "mie_n" + (f"_{training}" if training else ""),
        "title": "Mie n per fluid" + (f", trained on {training}" if training else ""),
        "caption": (
            "Posterior mean and 90 % interval of the repulsive exponent n of the Mie n-6 form "
            "(m = 6 fixed). B2 over a middle range of T/Tc constrains n weakly; compare with "
            "the prior (in the sweep's base problem, TruncatedNormal(16, 5) in the atlas) "
            "before reading much into it."
        ),
        "png": b64,
    }


# ------------------------------------------------------------------------------------- html


def _e(x) -> str:
    return escape(str(x))


def _fmt(x, digits=4) -> str:
    # escaped: a value read from a data file (fluids.csv) may be text, which fmt_number
    # returns as it is
    return _e(fmt_number(x, digits)) if x is not None else "-"


def _col_label(t: str, g: str) -> str:
    return _e(t if t == g else f"{t} {g}")


def _mc_text(grp: dict) -> str:
    """ "" for a settled verdict, else what Monte Carlo error leaves open."""
    mc = grp.get("mc_verdict") or {}
    if not mc or mc["settled"]:
        return ""
    return (
        f"within MC error of the threshold ({mc['n_states']} state(s)): "
        f"{mc['best'].upper()} to {mc['worst'].upper()}"
    )


def _cell(e: AtlasEntry | None, t: str, g: str, fluid: str, pot: str) -> str:
    attrs = (
        f'data-fluid="{_e(fluid)}" data-potential="{_e(pot)}" data-target="{_e(t)}" '
        f'data-group="{_e(g)}"'
    )
    if e is not None and e.training_set:
        attrs += f' data-training="{_e(e.training_set)}"'
    if e is None:
        return (
            f'<td class="cell na" {attrs} data-verdict="" title="not in the sweep">&middot;</td>'
        )
    if not e.ok:
        msg = f"task {e.task}: {e.status} {e.message}"
        return (
            f'<td class="cell failed" {attrs} data-verdict="{_e(e.status)}" '
            f'title="{_e(msg)}">{_e(e.status)}</td>'
        )
    grp = e.group(t, g)
    if grp is None:
        why = (
            f"no such held-out group in this run: {t} {g} is trained on, or not a target "
            "of this form's problem"
        )
        return f'<td class="cell na" {attrs} data-verdict="" title="{_e(why)}">n/a</td>'
    v = str(grp["verdict"])
    p = grp["p_all_within_tolerance"]
    lines = [
        f"{e.task}: {t} {g}" if t != g else f"{e.task}: {t}",
        f"verdict: {v.upper()}",
        f"P(all {grp['n']} states within tolerance) = {fmt_probability(p)}",
        f"states: {grp['n_pass']} pass, {grp['n_uncertain']} uncertain, {grp['n_fail']} fail",
        f"90 % predictive coverage: {fmt_probability(grp['coverage90'])}",
        f"range: {grp['env_range']}",
        f"tolerance: {json.dumps(grp['tolerance'])}",
    ]
    if grp.get("p_all_within_mcse") is not None:
        lines[2] += f" (Monte Carlo standard error {grp['p_all_within_mcse']:.2g})"
    mc = _mc_text(grp)
    if mc:
        lines.insert(2, mc)
    nf = len(grp["failed_states"])
    if nf:
        lines.append(
            f"forward model gave no value (outside its EOS's range, above the model's Tc, "
            f"not converged) for some draws at {nf} state(s): see the fluid's page"
        )
    if e.status == "carried":
        lines.append(e.message)
    diag = e.diagnostics
    bad = not _converged(diag)
    if bad:
        lines.append(
            f"FLAG: R-hat {diag['rhat_max']:.4f} (limit {RHAT_LIMIT}), bulk ESS "
            f"{diag['ess_bulk_min']:.0f} (limit {ESS_LIMIT})"
            + ("" if diag.get("modes_ok", True) else "; the modes' shares poorly estimated")
        )
    cls = _VERDICT_CLASS.get(v, "")
    if bad:
        cls += " diag-bad"
    mark = _VERDICT_MARK.get(v, "")
    if mc:
        cls += " mc-open"
        mark = "&asymp;"
    extra = f" <span class='flag'>{nf}!</span>" if nf else ""
    return (
        f'<td class="cell {cls}" {attrs} data-verdict="{_e(v)}" data-p="{_e(json.dumps(p))}" '
        f'data-mc="{"open" if mc else "settled"}" '
        f'data-failed-states="{nf}" title="{_e(chr(10).join(lines))}">{mark} '
        f"{_e(fmt_probability(p))}{extra}</td>"
    )


def _fluid_label(fluid: str, fluids: dict, link: bool = True) -> str:
    f = fluids.get(fluid, {})
    name = _e(fluid)
    if link:
        name = f'<a href="fluid_{_e(fluid)}.html">{name}</a>'
    flag = ""
    if f.get("quantum_flag") in (1.0, "1"):
        flag = (
            f' <span class="flag" title="quantum corrections to B2 exceed the data '
            f"uncertainty at low T (up to {_fmt(f.get('q1_over_u_max'), 3)} u_B2): "
            f'{_e(f.get("note", ""))}">[quantum]</span>'
        )
    return f"{name}{flag}"


def _matrix(entries, fluids, fluid_order, potentials, cols) -> str:
    by = {(e.fluid, e.potential): e for e in entries}
    head1 = (
        '<tr><th class="fluid" rowspan="2">fluid</th>'
        + "".join(f'<th colspan="{len(cols) + 1}">{_e(p)}</th>' for p in potentials)
        + "</tr>"
    )
    head2 = (
        "<tr>"
        + "".join(
            "".join(f"<th>{_col_label(t, g)}</th>" for t, g in cols) + "<th>R-hat</th>"
            for _ in potentials
        )
        + "</tr>"
    )
    body = []
    for fl in fluid_order:
        cells = []
        for p in potentials:
            e = by.get((fl, p))
            cells += [_cell(e, t, g, fl, p) for t, g in cols]
            if e is None or not e.ok:
                cells.append('<td class="na">-</td>')
            else:
                r = e.diagnostics["rhat_max"]
                ok = _converged(e.diagnostics)
                cls = "" if ok else "bad"
                title = f"bulk ESS min {e.diagnostics['ess_bulk_min']:.0f}; " + (
                    "; ".join(e.diagnostics["warnings"]) or "diagnostics ok"
                )
                cells.append(
                    f'<td class="num {cls}" data-task="{_e(e.task)}" data-rhat="{r:.6g}" '
                    f'data-ess="{e.diagnostics["ess_bulk_min"]:.6g}" '
                    f'title="{_e(title)}">{r:.3f}{"" if ok else " !"}</td>'
                )
        body.append(f'<tr><td class="fluid">{_fluid_label(fl, fluids)}</td>{"".join(cells)}</tr>')
    return (
        f'<div class="scroll"><table class="atlas" id="matrix">{head1}{head2}'
        f"{''.join(body)}</table></div>"
    )


def _trainings(entries) -> list[str]:
    """The training sets of the entries, in sweep order ([""] without a training axis)."""
    return list(dict.fromkeys(e.training_set for e in entries)) or [""]


def _matrices(entries, fluids, fluid_order, potentials) -> str:
    """One matrix per training set (one matrix without a training axis)."""
    out = []
    for tr in _trainings(entries):
        sub = [e for e in entries if e.training_set == tr]
        if tr:
            out.append(f"<h3 id='matrix-{_e(tr)}'>Trained on {_e(tr)}</h3>")
        out.append(_matrix(sub, fluids, fluid_order, potentials, _columns(sub)))
    return "".join(out)


def _answer(e: AtlasEntry | None, targets: tuple[str, ...]) -> dict | None:
    """The verdict on a question: the worse of the groups of ``targets`` (held out whole,
    i.e. not trained on), with whether Monte Carlo error leaves any of them open."""
    if e is None or not e.ok:
        return None
    groups = [g for g in e.groups if g["target"] in targets]
    if not groups:
        return None
    verdict = worse_verdict(*(g["verdict"] for g in groups))
    mc = [g for g in groups if not (g.get("mc_verdict") or {"settled": True})["settled"]]
    best = worse_verdict(*(g.get("mc_verdict", {}).get("best", g["verdict"]) for g in groups))
    worst = worse_verdict(*(g.get("mc_verdict", {}).get("worst", g["verdict"]) for g in groups))
    return {
        "verdict": verdict,
        "settled": best == worst,
        "best": best,
        "worst": worst,
        "groups": [
            (f"{g['target']} {g['group']}" if g["group"] != g["target"] else g["target"])
            + f": {g['verdict']} (P(all within) = {fmt_probability(g['p_all_within_tolerance'])})"
            for g in groups
        ],
        "n_open": len(mc),
    }


def _answer_cell(a: dict | None) -> str:
    if a is None:
        return "<td class='na'>-</td>"
    cls = _VERDICT_CLASS.get(a["verdict"], "")
    text = _VERDICT_MARK.get(a["verdict"], "") + " " + a["verdict"].upper()
    title = "; ".join(a["groups"])
    if not a["settled"]:
        cls += " mc-open"
        text = f"&asymp; {_e(a['best'].upper())} to {_e(a['worst'].upper())}"
        title += "; within Monte Carlo error of a threshold"
    else:
        text = _e(text)
    return (
        f"<td class='cell {cls}' data-verdict='{_e(a['verdict'])}' "
        f"data-mc='{'settled' if a['settled'] else 'open'}' title='{_e(title)}'>{text}</td>"
    )


def _phase_answers(entries, fluids, fluid_order, potentials) -> str:
    """Per fluid and form: fitted to the gas, does it predict the liquid? And the reverse."""
    by = {(e.fluid, e.potential, e.training_set): e for e in entries}
    rows = []
    for fl in fluid_order:
        for p in potentials:
            gas, liq = by.get((fl, p, "B2")), by.get((fl, p, "VLE"))
            if gas is None and liq is None:
                continue
            rows.append(
                f"<tr data-fluid='{_e(fl)}' data-potential='{_e(p)}'>"
                f"<td class='fluid'>{_fluid_label(fl, fluids)}</td><td>{_e(p)}</td>"
                + _answer_cell(_answer(gas, LIQUID_TARGETS))
                + _answer_cell(_answer(gas, ("rho_v", "dH_vap")))
                + _answer_cell(_answer(gas, ("p", "E_res")))
                + _answer_cell(_answer(liq, GAS_TARGETS))
                + _answer_cell(_answer(liq, ("rho_v", "dH_vap")))
                + _answer_cell(_answer(liq, ("p", "E_res")))
                + "</tr>"
            )
    if not rows:
        return ""
    return (
        "<h2 id='phase'>Across the phase boundary</h2>"
        "<p>Per fluid and form, the verdict on each question: the worse of the verdicts of "
        "the held-out groups that answer it. <em>Fitted to the gas</em> (training B2): "
        "does it predict the liquid, i.e. the saturated liquid density and the vapour "
        "pressure (rho_l, p_sat, every temperature 0.55-0.95 Tc)? and the saturated vapour "
        "density and enthalpy of vaporisation, and the dense supercritical states? "
        "<em>Fitted to the liquid</em> (training VLE: rho_l and p_sat at 0.65-0.85 Tc): "
        "does it predict the gas, i.e. B2 at every temperature? and the same other "
        "properties. Hover for the groups and their probabilities.</p>"
        "<div class='scroll'><table class='atlas' id='phase-answers'><tr>"
        "<th class='fluid' rowspan='2'>fluid</th><th rowspan='2'>form</th>"
        "<th colspan='3'>fitted to the gas (B2)</th><th colspan='3'>fitted to the liquid "
        "(VLE)</th></tr><tr><th>liquid: rho_l, p_sat</th><th>rho_v, dH_vap</th>"
        "<th>dense p, E_res</th><th>gas: B2</th><th>rho_v, dH_vap</th><th>dense p, E_res</th>"
        "</tr>" + "".join(rows) + "</table></div>"
    )


def _params_table(entries, fluid_order, potentials) -> str:
    names = []
    for e in entries:
        names += [n for n in {**e.params, **e.derived}]
    names = list(dict.fromkeys(names))
    by = {(e.fluid, e.potential, e.training_set): e for e in entries}
    head = (
        "<tr><th>fluid</th><th>form</th><th>training</th>"
        + "".join(f"<th>{_e(n)}</th>" for n in names)
        + "</tr>"
    )
    rows = []
    for fl, p, tr in (
        (fl, p, tr) for fl in fluid_order for p in potentials for tr in _trainings(entries)
    ):
        if True:
            e = by.get((fl, p, tr))
            if e is None:
                continue
            cells = []
            for n in names:
                q = {**e.params, **e.derived}.get(n)
                if q is None or not e.ok:
                    cells.append("<td></td>")
                elif q.get("fixed"):
                    cells.append(f'<td class="num">{_fmt(q["value"])} (fixed)</td>')
                else:
                    cells.append(
                        f'<td class="num">{_fmt(q["mean"])} [{_fmt(q["q05"])}, {_fmt(q["q95"])}]'
                        "</td>"
                    )
            rows.append(
                f"<tr><td>{_e(fl)}</td><td>{_e(p)}</td><td>{_e(tr)}</td>{''.join(cells)}</tr>"
            )
    units = []
    for n in names:
        u = next(
            (
                ({**e.params, **e.derived}[n]["unit"])
                for e in entries
                if n in {**e.params, **e.derived}
            ),
            "",
        )
        units.append(f"{n} [{u}]" if u and u != "1" else n)
    return (
        "<p>Posterior mean [5 %, 95 %] (the 90 % equal-tailed interval) in the units: "
        + _e(", ".join(units))
        + ". tau_B2 (tau_rho_l, tau_p_sat) is the inferred relative inadequacy of B2 (of the "
        "saturated liquid density, the vapour pressure); NA_sigma3 = N_A sigma^3; "
        "Tc_over_epsilon = k Tc / epsilon.</p>"
        f'<div class="scroll"><table id="parameters">{head}{"".join(rows)}</table></div>'
    )


def _comparison_table(comparisons: dict, fluid_order) -> str:
    rows = []
    for fl in fluid_order:
        c = comparisons.get(fl)
        if not c:
            continue
        if c["loo"] is None:
            rows.append(f"<tr><td>{_e(fl)}</td><td colspan='6'>{_e(c['loo_error'])}</td></tr>")
            continue
        for r in c["loo"]["ranking"]:
            run = c["loo"]["runs"][r["run"]]
            w = (c["loo"]["weights"] or {}).get(r["run"])
            rel = "" if run["reliable"] else " (Pareto k high)"
            rows.append(
                f"<tr><td>{_e(fl)}</td><td>{_e(r['run'])}</td><td class='num'>{r['rank']}</td>"
                f"<td class='num'>{_fmt(run['elpd'])} &plusmn; {_fmt(run['se'], 3)}</td>"
                f"<td class='num'>{_fmt(r['elpd_diff'])} &plusmn; {_fmt(r['dse'], 3)}</td>"
                f"<td class='num'>{_fmt(w, 3)}</td><td>{_e(rel)}</td></tr>"
            )
    return (
        "<table id='loo'><tr><th>fluid</th><th>form</th><th>rank</th><th>elpd_loo (nats)</th>"
        "<th>difference to best</th><th>stacking weight</th><th>note</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _heldout_table(comparisons: dict, fluid_order) -> str:
    rows = []
    for fl in fluid_order:
        c = comparisons.get(fl) or {}
        for key, ranks in c.get("heldout", {}).items():
            for pot, r in sorted(ranks.items(), key=lambda kv: kv[1]["rank"]):
                nf = r.get("n_failed", 0)
                elpd = (
                    f"-inf: no prediction at {nf} state{'s' if nf > 1 else ''}"
                    if nf
                    else _fmt(r["elpd"])
                )
                diff = (
                    "not finite"
                    if not math.isfinite(r["elpd_diff"])
                    else f"{_fmt(r['elpd_diff'])} &plusmn; {_fmt(r['dse'], 3)}"
                )
                rows.append(
                    f"<tr><td>{_e(fl)}</td><td>{_e(key)}</td><td>{_e(pot)}</td>"
                    f"<td class='num'>{r['rank']}</td><td class='num'>{elpd}</td>"
                    f"<td class='num'>{diff}</td></tr>"
                )
    return (
        "<table id='heldout-elpd'><tr><th>fluid</th><th>held-out group</th><th>form</th>"
        "<th>rank</th><th>elpd (nats)</th><th>difference to best</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _figure_html(f: dict | None) -> str:
    if not f:
        return ""
    return (
        f'<figure id="fig-{_e(f["key"])}"><img src="data:image/png;base64,{f["png"]}" '
        f'alt="{_e(f["title"])}"><figcaption><strong>{_e(f["title"])}.</strong> '
        f"{_e(f['caption'])}</figcaption></figure>"
    )


def _page(title: str, body: str, runs: str | Path | None = None) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="generator" content="bayesff">'
        f"{runs_tag(runs)}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}{_ATLAS_CSS}</style>"
        f"<script>{_CHECK_JS}</script></head>"
        f'<body data-render-check="pending">{body}</body></html>\n'
    )


_LEGEND = (
    "<p class='legend'><span class='v-transferable'>&#10003; TRANSFERABLE</span>"
    "<span class='v-uncertain'>? UNCERTAIN</span>"
    "<span class='v-not-transferable'>&#10007; NOT TRANSFERABLE</span>"
    "<span class='v-uncertain mc-open'>&asymp; within Monte Carlo error of a threshold "
    "(striped; colour: the verdict at the estimate)</span>"
    "<span style='background:#eee'>n/a: not predicted</span>"
    "<span style='background:#555;color:#fff'>failed task</span></p>"
)


def _converged(diag: dict) -> bool:
    """R-hat, bulk ESS and the modes' shares within their limits (an atlas written before
    a check was added lacks its key: not failed)."""
    return bool(
        diag.get("rhat_ok", True) and diag.get("ess_ok", True) and diag.get("modes_ok", True)
    )


def _carried_note(entries) -> str:
    """Which entries are an earlier page's, and from where ("" when none is)."""
    carried = [e for e in entries if e.status == "carried"]
    if not carried:
        return ""
    sources = ", ".join(dict.fromkeys(e.carried_from for e in carried))
    return (
        f"<p class='warn'>{len(carried)} of {len(entries)} runs are carried over from an "
        f"earlier page ({_e(sources)}): their run files are not here, and their figures are "
        "that page's, each for the same problem and sampler settings as this sweep file's "
        "task (the rule by which a sweep skips a task). Forms are compared by PSIS-LOO only "
        "where all of a fluid's runs of a training set are carried over (that page's "
        "comparison) or none is; the runs made for this page: "
        + _e(", ".join(e.task for e in entries if e.ok and e.status != "carried") or "none")
        + ".</p>"
    )


def _atlas_notes(entries, fluids, fluid_order) -> tuple[str, str, str]:
    """The notes under the matrices: convergence, failed states and MC error, quantum fluids."""
    flagged = [e.task for e in entries if e.ok and not _converged(e.diagnostics)]
    n_open = sum(
        1
        for e in entries
        if e.ok
        for g in e.groups
        if not (g.get("mc_verdict") or {"settled": True})["settled"]
    )
    failed_states = sum(len(g["failed_states"]) for e in entries if e.ok for g in e.groups)
    quantum = [f for f in fluid_order if fluids.get(f, {}).get("quantum_flag") in (1.0, "1")]
    qnote = ""
    if quantum:
        qnote = (
            "<p class='warn'><strong>Quantum corrections.</strong> For "
            + ", ".join(_e(q) for q in quantum)
            + " the estimated first quantum correction to B2 exceeds the data's uncertainty at "
            "low temperatures (data/atlas/fluids.csv, quantum_flag and q1_over_u_max; marked "
            "[quantum] below). The potentials here are classical: their low-T B2 verdicts test "
            "a classical model against a quantum fluid.</p>"
        )
    unchecked = sum(e.ok and "modes_ok" not in e.diagnostics for e in entries)
    diag = (
        (
            f"<p class='ok'>Every run has R-hat &lt;= {RHAT_LIMIT} and bulk ESS &gt;= "
            f"{ESS_LIMIT}, and so has the share of its draws in each of its Laplace start's "
            "modes" + (", where that was checked" if unchecked else "") + ".</p>"
        )
        if not flagged
        else f"<p class='warn'>R-hat &gt; {RHAT_LIMIT} or bulk ESS &lt; {ESS_LIMIT}, of a "
        "parameter or of the share of the draws in a Laplace mode (flagged "
        f"in the matrix with a red outline and '!'): {_e(', '.join(flagged))}.</p>"
    )
    if unchecked:
        diag += (
            f"<p>{unchecked} "
            + ("run was" if unchecked == 1 else "runs were")
            + " made before the share of the draws in each Laplace mode was checked "
            "(diagnostics without modes_ok): only R-hat and bulk ESS are checked there.</p>"
        )
    diag += _carried_note(entries)
    fail_note = (
        f"<p>Held-out states where the forward model gave no value for some posterior draws "
        f"(outside its equation of state's validated range, no coexistence above the model's "
        f"critical temperature, or not converged): {failed_states} in total, counted as "
        "outside tolerance for those draws, marked with the number of such states ('3!') in "
        "the cell and listed on each fluid's page.</p>"
        f"<p>Monte Carlo error: {n_open} cell(s) lie within their Monte Carlo error of a "
        "verdict threshold (striped, '&asymp;'): a state's tolerance probability or its place "
        "in its predictive distribution is within two Monte Carlo standard errors (from the "
        "effective sample size of its pass indicator, ArviZ's mcse) of a threshold that "
        "would change the verdict; the hover text gives the verdicts that error alone could "
        "give. Another seed could give either, so the cell does not claim one.</p>"
    )
    return diag, fail_note, qnote


def _atlas_intro(name, entries, fluid_order, potentials, wall_time_s, description) -> str:
    """The page's heading, what it holds and where its numbers are."""
    n_ok = sum(e.ok for e in entries)
    trainings = _trainings(entries)
    return "".join(
        [
            f"<h1>Transferability atlas: {_e(name)}</h1>",
            f"<p>{_e(description)}</p>" if description else "",
            f"<p>{len(entries)} runs ({n_ok} with results) of {len(fluid_order)} fluids and "
            f"{len(potentials)} potential forms"
            + (f" x {len(trainings)} training sets; " if trainings != [""] else "; ")
            + (
                f"this sweep's wall time {wall_time_s:.1f} s (tasks already done are skipped). "
                if wall_time_s > 0
                else "page written from the existing run files (bayesff atlas). "
            )
            + f"The runs' own wall times sum to {sum(e.wall_time_s for e in entries):.0f} s. "
            + "Every "
            "number is in <a href='atlas.csv'>atlas.csv</a> and atlas.json beside this page; "
            "the task list is in <a href='tasks.html'>tasks.html</a>.</p>",
        ]
    )


def render_atlas(
    name,
    entries,
    fluids,
    *,
    fluid_order,
    potentials,
    comparisons,
    figures,
    wall_time_s: float,
    description: str = "",
    runs: str | Path | None = None,
) -> str:
    """The atlas page (``index.html``) as one string; ``runs``: the run folder it is made
    from, recorded in a tag (:func:`bayesff.report.sweep.runs_tag`)."""
    diag, fail_note, qnote = _atlas_notes(entries, fluids, fluid_order)
    nav = " ".join(f'<a href="fluid_{_e(f)}.html">{_e(f)}</a>' for f in fluid_order)
    body = "".join(
        [
            _atlas_intro(name, entries, fluid_order, potentials, wall_time_s, description),
            f"<nav>Fluids: {nav}</nav>",
            "<h2 id='matrix-h'>Verdicts</h2>",
            "<p>Each cell: the verdict of a held-out group (bayesff.transferability.evaluate, "
            "the worse of the tolerance verdict and the 90 % coverage verdict: "
            "docs/architecture.md, Transferability criteria) and P(all states of the group "
            "within tolerance). Hover for the states, "
            "the coverage and the tolerance. The R-hat column is the worst R-hat of the "
            "run.</p>",
            _LEGEND,
            _matrices(entries, fluids, fluid_order, potentials),
            diag,
            fail_note,
            qnote,
            _phase_answers(entries, fluids, fluid_order, potentials),
            "<h2 id='parameters-h'>Parameters</h2>",
            _params_table(entries, fluid_order, potentials),
            "<h2 id='figures'>Corresponding states and Mie n</h2>",
            "".join(_figure_html(f) for f in figures),
            "<h2 id='comparison'>Model comparison per fluid</h2>",
            "<p>PSIS-LOO (bayesff.transferability.compare) on the training data, which every "
            "form of a fluid shares: higher elpd is better; the difference to the best with its "
            "paired standard error.</p>",
            _comparison_table(comparisons, list(comparisons)),
            "<p>Held-out groups: the log predictive density of the held-out states under each "
            "form's posterior predictive (the model's own likelihood, no refit needed: these "
            "states were not used in fitting); draws whose forward model failed count as zero "
            "density. Forms are compared on the same states only.</p>",
            _heldout_table(comparisons, list(comparisons)),
        ]
    )
    return _page(f"atlas {name}", body, runs)


def _fluid_page(fluid, entries, fluids, potentials, comparison, folder: Path) -> str:
    f = fluids.get(fluid, {})
    props = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in f.items() if str(v) != "")
    parts = [
        f"<h1>{_fluid_label(fluid, fluids, link=False)}</h1>",
        "<p><a href='index.html'>back to the atlas</a></p>",
        f"<dl>{props}</dl>",
    ]
    for p, tr in ((p, tr) for p in potentials for tr in _trainings(entries)):
        e = next(
            (x for x in entries if x.fluid == fluid and x.potential == p and x.training_set == tr),
            None,
        )
        if e is None:
            continue
        link = (
            f"<a href='{_e(os.path.relpath(e.report, folder))}'>report of {_e(e.task)}</a>"
            if e.report
            else "no task report"
        )
        trained = f", trained on {_e(tr)}" if tr else ""
        parts.append(f"<h2>{_e(p)} ({_e(e.potential_name)}){trained}: {link}</h2>")
        if not e.ok:
            parts.append(f"<p class='err'>{_e(e.status)}: {_e(e.message)}</p>")
            continue
        d = e.diagnostics
        parts.append(
            f"<p>R-hat max {d['rhat_max']:.4f}, bulk ESS min {d['ess_bulk_min']:.0f} of "
            f"{d['draws']} kept draws, {d['divergences']} divergences. "
            + _e("; ".join(d["warnings"]) or "no warnings")
            + "</p>"
        )
        rows = []
        for g in e.groups:
            el = g.get("elpd") or {}
            failed = "; ".join(
                ", ".join(
                    f"{k} = {v:g} {s['env_units'].get(k, '')}".rstrip()
                    for k, v in s["env"].items()
                )
                + f" ({100 * s['fraction_failed']:.0f} % of draws)"
                for s in g["failed_states"]
            )
            cls = _VERDICT_CLASS.get(g["verdict"], "")
            mc = _mc_text(g)
            rows.append(
                f"<tr><td>{_col_label(g['target'], g['group'])}</td><td>{_e(g['env_range'])}</td>"
                f"<td class='{cls}'>{_e(str(g['verdict']).upper())}"
                + (f"<br><small>{_e(mc)}</small>" if mc else "")
                + "</td>"
                f"<td class='num'>{_e(fmt_probability(g['p_all_within_tolerance']))}</td>"
                f"<td class='num'>{g['n_pass']}/{g['n_uncertain']}/{g['n_fail']}</td>"
                f"<td class='num'>{_e(fmt_probability(g['coverage90']))}</td>"
                f"<td class='num'>{_fmt(el.get('elpd'))}</td>"
                f"<td>{_e(failed or 'none')}</td></tr>"
            )
        parts.append(
            "<table><tr><th>held-out group</th><th>range</th><th>verdict</th>"
            "<th>P(all within)</th><th>pass/uncertain/fail</th><th>90 % coverage</th>"
            "<th>held-out elpd</th><th>states where the forward model failed</th></tr>"
            + "".join(rows)
            + "</table>"
        )
        prow = []
        for n, q in {**e.params, **e.derived}.items():
            if q.get("fixed"):
                prow.append(
                    f"<tr><td>{_e(n)}</td><td>{_e(q['unit'])}</td>"
                    f"<td colspan='3'>{_fmt(q['value'])} (fixed)</td></tr>"
                )
            else:
                prow.append(
                    f"<tr><td>{_e(n)}</td><td>{_e(q['unit'])}</td>"
                    f"<td class='num'>{_fmt(q['mean'])}</td><td class='num'>"
                    f"{_fmt(q['q05'])}</td><td class='num'>{_fmt(q['q95'])}</td></tr>"
                )
        parts.append(
            "<table><tr><th>parameter</th><th>unit</th><th>mean</th><th>5 %</th>"
            "<th>95 %</th></tr>" + "".join(prow) + "</table>"
        )
    parts.append("<h2>Comparison</h2>")
    parts.append(_comparison_table(comparison, list(comparison)))
    parts.append(_heldout_table(comparison, list(comparison)))
    return _page(f"atlas: {fluid}", "".join(parts))


# ------------------------------------------------------------------------------------ write


def write_atlas(
    res,
    folder: str | Path,
    fluids_csv: str | Path,
    *,
    fluid_axis: str = "fluid",
    potential_axis: str = "potential",
    description: str = "",
    log=print,
    carried: dict[str, AtlasEntry] | None = None,
    previous_comparisons: dict | None = None,
) -> Path:
    """Write the atlas of a finished sweep into ``folder`` (see the module docstring).

    Parameters
    ----------
    res
        The :class:`~bayesff.sweep.SweepResult` (tasks with their axis labels, status,
        summary rows).
    folder
        ``reports/SWEEP``.
    fluids_csv
        The fluids table (:func:`read_fluids`).
    fluid_axis, potential_axis
        The sweep's axes that name the fluid and the potential form.
    description
        One line shown under the title (the sweep's description).
    carried, previous_comparisons
        Entries of an earlier page for the tasks of status ``carried`` (task -> entry,
        :func:`carried_entry`) and that page's comparisons (fluid -> key -> comparison,
        :func:`read_previous`): :func:`bayesff.sweep.build_atlas` with ``previous``.

    Returns
    -------
    Path
        ``folder/index.html``.
    """

    log = log or (lambda *a, **k: None)
    folder = Path(folder)
    fluids = read_fluids(fluids_csv)
    entries = collect(res, folder, fluids, fluid_axis, potential_axis, carried)
    fluid_order = list(dict.fromkeys(e.fluid for e in entries))
    potentials = list(dict.fromkeys(e.potential for e in entries))
    trainings = _trainings(entries)
    before = previous_comparisons or {}
    # forms are compared on the same training data only: per fluid and training set
    comparisons = {fl: {} for fl in fluid_order}
    for fl in fluid_order:
        for tr in trainings:
            key = f"{fl} ({tr})" if tr else fl
            comparisons[fl][key] = _compare_fluid(
                [e for e in entries if e.fluid == fl and e.training_set == tr],
                (before.get(fl) or {}).get(key),
            )
    figures = []
    for tr in trainings:
        sub = [e for e in entries if e.training_set == tr]
        figures.append(corresponding_states_figure(sub, fluids, potentials, tr))
        if "mie" in potentials:
            figures.append(mie_n_figure(sub, fluids, "mie", tr))
    figures = [f for f in figures if f]
    rows = atlas_rows(entries, fluids)
    _write_csv(rows, folder / "atlas.csv")
    payload = {
        "sweep": res.name,
        "fluids": fluids,
        "potentials": potentials,
        "entries": [
            {k: v for k, v in e.__dict__.items() if not k.startswith("_")} for e in entries
        ],
        "comparisons": comparisons,
    }
    with atomic_path(folder / "atlas.json") as tmp:
        tmp.write_text(json.dumps(_jsonable(payload), indent=1), encoding="utf-8")
    for fl in fluid_order:
        page = _fluid_page(
            fl, [e for e in entries if e.fluid == fl], fluids, potentials, comparisons[fl], folder
        )
        with atomic_path(folder / f"fluid_{fl}.html") as tmp:
            tmp.write_text(page, encoding="utf-8")
    with atomic_path(folder / "tasks.html") as tmp:
        tmp.write_text(render_index(res, getattr(res, "rows", []), folder), encoding="utf-8")
    index = folder / "index.html"
    html = render_atlas(
        res.name,
        entries,
        fluids,
        fluid_order=fluid_order,
        potentials=potentials,
        comparisons={k: v for c in comparisons.values() for k, v in c.items()},
        figures=figures,
        wall_time_s=res.wall_time_s,
        description=description,
        runs=getattr(res, "runs", None),
    )
    with atomic_path(index) as tmp:
        tmp.write_text(html, encoding="utf-8")
    log(f"atlas {index} ({len(entries)} runs, {len(fluid_order)} fluids)")
    return index
