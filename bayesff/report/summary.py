"""summary.json: every number of the report, machine readable, and its schema.

:func:`build_summary` reads a run file (an ArviZ DataTree written by
:func:`bayesff.calibrate`) and returns plain JSON builtins; the HTML page is
rendered from this dictionary only (plus the figures), so every number on the
page is in summary.json. :func:`validate_summary` checks a summary against
:data:`SCHEMA`, a small JSON-Schema-like description (types, required keys,
enums), without a jsonschema dependency.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bayesff import runfile
from bayesff._version import __version__
from bayesff.errors import BayesffError
from bayesff.inference import diagnose
from bayesff.transferability import compare, evaluate, jsonable
from bayesff.transferability.states import states_of

__all__ = [
    "METHOD_CITATIONS",
    "SCHEMA",
    "SCHEMA_ID",
    "SummaryError",
    "build_summary",
    "comparison_section",
    "predictive_axis",
    "transferability_section",
    "validate_summary",
]

SCHEMA_ID = "bayesff.report.summary/2"

#: Methods the report relies on, cited on the page.
METHOD_CITATIONS = [
    {
        "key": "nuts",
        "what": "No-U-Turn Sampler (NUTS)",
        "text": "M. D. Hoffman and A. Gelman, The No-U-Turn Sampler: adaptively setting path "
        "lengths in Hamiltonian Monte Carlo, J. Mach. Learn. Res. 15, 1593-1623 (2014).",
        "url": "https://jmlr.org/papers/v15/hoffman14a.html",
    },
    {
        "key": "numpyro",
        "what": "NumPyro (probabilistic programming, NUTS implementation)",
        "text": "D. Phan, N. Pradhan and M. Jankowiak, Composable effects for flexible and "
        "accelerated probabilistic programming in NumPyro, arXiv:1912.11554 (2019).",
        "url": "https://arxiv.org/abs/1912.11554",
    },
    {
        "key": "arviz",
        "what": "ArviZ (run file format, diagnostics, plots via arviz-plots)",
        "text": "R. Kumar, C. Carroll, A. Hartikainen and O. Martin, ArviZ a unified library "
        "for exploratory analysis of Bayesian models in Python, J. Open Source Softw. 4(33), "
        "1143 (2019), doi:10.21105/joss.01143.",
        "url": "https://doi.org/10.21105/joss.01143",
    },
    {
        "key": "rhat_ess",
        "what": "Rank-normalised R-hat, bulk and tail ESS, rank plots",
        "text": "A. Vehtari, A. Gelman, D. Simpson, B. Carpenter and P.-C. Bürkner, "
        "Rank-normalization, folding, and localization: an improved R-hat for assessing "
        "convergence of MCMC, Bayesian Anal. 16(2), 667-718 (2021), doi:10.1214/20-BA1221.",
        "url": "https://doi.org/10.1214/20-BA1221",
    },
    {
        "key": "rank_ecdf",
        "what": "Rank ECDF plot and its simultaneous uniformity test",
        "text": "T. Säilynoja, P.-C. Bürkner and A. Vehtari, Graphical test for discrete "
        "uniformity and its applications in goodness-of-fit evaluation and multiple sample "
        "comparison, Stat. Comput. 32, 32 (2022), doi:10.1007/s11222-022-10090-6.",
        "url": "https://doi.org/10.1007/s11222-022-10090-6",
    },
    {
        "key": "ebfmi",
        "what": "E-BFMI (energy Bayesian fraction of missing information)",
        "text": "M. Betancourt, Diagnosing suboptimal cotangent disintegrations in Hamiltonian "
        "Monte Carlo, arXiv:1604.00695 (2016).",
        "url": "https://arxiv.org/abs/1604.00695",
    },
    {
        "key": "psis_loo",
        "what": "PSIS-LOO cross-validation (model comparison)",
        "text": "A. Vehtari, A. Gelman and J. Gabry, Practical Bayesian model evaluation using "
        "leave-one-out cross-validation and WAIC, Stat. Comput. 27, 1413-1432 (2017), "
        "doi:10.1007/s11222-016-9696-4.",
        "url": "https://doi.org/10.1007/s11222-016-9696-4",
    },
    {
        "key": "matplotlib",
        "what": "Matplotlib (figures)",
        "text": "J. D. Hunter, Matplotlib: a 2D graphics environment, Comput. Sci. Eng. 9(3), "
        "90-95 (2007), doi:10.1109/MCSE.2007.55.",
        "url": "https://doi.org/10.1109/MCSE.2007.55",
    },
]


class SummaryError(BayesffError):
    """A summary dictionary does not match :data:`SCHEMA`."""


# --------------------------------------------------------------------------------------------
# Schema: a small subset of JSON Schema (type, required, properties, values, items, enum)
# --------------------------------------------------------------------------------------------

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_STR = {"type": "string"}
_INT = {"type": "integer"}
_PAIR = {"type": "array", "items": _NUM_OR_NULL, "minItems": 2, "maxItems": 2}
_TOL = {"type": ["object", "null"], "values": _NUM}

_STATE = {
    "type": "object",
    "required": [
        "target",
        "group",
        "env",
        "observed",
        "u",
        "pred_mean",
        "pred_sd",
        "pi50",
        "pi90",
        "model_mean",
        "model_pi90",
        "rel_error",
        "z",
        "tail_p",
        "tolerance",
        "p_within_tolerance",
        "verdict",
    ],
    "properties": {
        "target": _STR,
        "group": _STR,
        "env": {"type": "object", "values": _NUM_OR_NULL},
        "observed": _NUM,
        "u": _NUM_OR_NULL,
        # over the draws with a value; null where no draw has one. How many draws the
        # forward model gave no value (outside its EOS's range, above the model's Tc) is
        # fraction_no_value; the verdict counts those draws as outside the tolerance and
        # the predictive intervals
        "pred_mean": _NUM_OR_NULL,
        "pred_sd": _NUM_OR_NULL,
        "pi50": _PAIR,
        "pi90": _PAIR,
        "model_mean": _NUM_OR_NULL,
        "model_pi90": _PAIR,
        "fraction_no_value": {"type": "number", "minimum": 0, "maximum": 1},
        "rel_error": _NUM_OR_NULL,
        "z": _NUM_OR_NULL,
        "tail_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "tolerance": _TOL,
        "p_within_tolerance": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "verdict": {"type": "string", "enum": ["pass", "fail", "uncertain"]},
    },
}

_GROUP = {
    "type": "object",
    "required": [
        "target",
        "group",
        "n",
        "p_all_within_tolerance",
        "coverage50",
        "coverage90",
        "transferability_index",
        "verdict",
    ],
    "properties": {
        "target": _STR,
        "group": _STR,
        "n": {"type": "integer", "minimum": 1},
        "p_all_within_tolerance": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "coverage50": {"type": "number", "minimum": 0, "maximum": 1},
        "coverage90": {"type": "number", "minimum": 0, "maximum": 1},
        "transferability_index": _NUM_OR_NULL,
        "verdict": {
            "type": "string",
            "enum": ["transferable", "not transferable", "uncertain"],
        },
    },
}

_PARAM = {
    "type": "object",
    "required": ["name", "unit", "mean", "sd", "q05", "q50", "q95", "rhat", "ess_bulk"],
    "properties": {
        "name": _STR,
        "unit": _STR,
        "mean": _NUM,
        "sd": {"type": "number", "minimum": 0},
        "q05": _NUM,
        "q50": _NUM,
        "q95": _NUM,
        "rhat": _NUM_OR_NULL,
        "ess_bulk": _NUM_OR_NULL,
        "ess_tail": _NUM_OR_NULL,
        "prior": {
            "type": ["object", "null"],
            "required": ["mean", "q05", "q95"],
            "values": _NUM_OR_NULL,
        },
    },
}

_ROWS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["x", "observed", "u", "pred_mean", "pi50", "pi90", "model_mean"],
        "properties": {
            "x": _NUM,
            "group": _STR,
            "observed": _NUM,
            "u": _NUM_OR_NULL,
            "pred_mean": _NUM_OR_NULL,  # null as in _STATE: a draw without a value
            "pi50": _PAIR,
            "pi90": _PAIR,
            "model_mean": _NUM_OR_NULL,
        },
    },
}

#: The schema of summary.json (see :func:`validate_summary`).
SCHEMA = {
    "type": "object",
    "required": [
        "schema",
        "generated_utc",
        "bayesff_version",
        "run",
        "problem",
        "targets",
        "tolerance",
        "provenance",
        "parameters",
        "diagnostics",
        "predictive",
        "transferability",
        "comparison",
        "figures",
        "citations",
    ],
    "properties": {
        "schema": {"type": "string", "enum": [SCHEMA_ID]},
        # optional: runs with a log_prior group (bayesff.sensitivity.SensitivityResult.to_dict)
        "sensitivity": {
            "type": ["object", "null"],
            "required": ["parameters", "targets", "prior", "likelihood", "by_target", "lines"],
        },
        "generated_utc": _STR,
        "bayesff_version": _STR,
        "run": {
            "type": "object",
            "required": ["path", "sha256", "seed", "chains", "warmup", "samples", "device"],
            "properties": {
                "path": _STR,
                "sha256": _STR,
                "seed": _INT,
                "chains": {"type": "integer", "minimum": 1},
                "warmup": {"type": "integer", "minimum": 0},
                "samples": {"type": "integer", "minimum": 1},
                "device": _STR,
                "wall_time_s": _NUM_OR_NULL,
                "sampling_time_s": _NUM_OR_NULL,
                "package_versions": {"type": "object", "values": _STR},
                "sampler": _STR,
                "tempering": {
                    "type": ["object", "null"],
                    "required": [
                        "temperatures",
                        "max_temperature",
                        "swap_acceptance",
                        "replica_leapfrog_steps",
                    ],
                    "properties": {
                        "temperatures": {"type": "integer", "minimum": 2},
                        "max_temperature": _NUM,
                        "swap_acceptance": {"type": "array", "items": _NUM},
                        "replica_leapfrog_steps": {"type": "array", "items": _INT},
                    },
                },
            },
        },
        "problem": {
            "type": "object",
            "required": ["name", "description", "text", "potential"],
            "properties": {
                "name": _STR,
                "description": _STR,
                "text": _STR,
                "potential": {
                    "type": "object",
                    "required": ["name", "kind", "module", "qualname", "version"],
                    "values": _STR,
                },
            },
        },
        "targets": {
            "type": "object",
            "values": {
                "type": "object",
                "required": [
                    "unit",
                    "env_columns",
                    "n_train",
                    "n_holdout",
                    "excluded_rows",
                    "excluded_lines",
                ],
                "properties": {
                    "unit": _STR,
                    "env_columns": {"type": "array", "items": _STR},
                    "n_train": {"type": "integer", "minimum": 0},
                    "n_holdout": {"type": "integer", "minimum": 0},
                    "excluded_rows": {"type": "integer", "minimum": 0},
                    "excluded_lines": {"type": "array", "items": _STR},
                },
            },
        },
        "tolerance": {"type": "object", "values": _TOL},
        "provenance": {"type": "object", "values": {"type": ["object", "null"]}},
        "parameters": {"type": "array", "items": _PARAM, "minItems": 1},
        "diagnostics": {
            "type": "object",
            "required": ["ok", "divergences", "ebfmi", "warnings", "thresholds"],
            "properties": {
                "ok": {"type": "boolean"},
                "divergences": {"type": "integer", "minimum": 0},
                "ebfmi": {"type": "array", "items": _NUM_OR_NULL},
                "warnings": {"type": "array", "items": _STR},
                "thresholds": {"type": "object", "values": _NUM},
            },
        },
        "predictive": {
            "type": "object",
            "values": {
                "type": "object",
                "required": ["x_label", "training", "held_out"],
                "properties": {"x_label": _STR, "training": _ROWS, "held_out": _ROWS},
            },
        },
        "transferability": {
            "type": ["object", "null"],
            "required": ["states", "groups", "training", "verdict_lines"],
            "properties": {
                "states": {"type": "array", "items": _STATE},
                "groups": {"type": "array", "items": _GROUP},
                "training": {"type": "object", "values": {"type": "object"}},
                "verdict_lines": {"type": "array", "items": _STR},
                "pass_prob": {"type": "number", "minimum": 0, "maximum": 1},
                "fail_prob": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "comparison": {
            "type": ["object", "null"],
            "required": ["runs", "files", "loo", "ranking", "loeo"],
            "properties": {
                "runs": {"type": "array", "items": _STR, "minItems": 2},
                "files": {"type": "object", "values": _STR},
                "loo": {"type": "object", "values": {"type": "object"}},
                "ranking": {"type": "array", "items": {"type": "object"}},
                "loeo": {"type": "object"},
            },
        },
        "figures": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "title", "made_with", "error"],
                "properties": {
                    "key": _STR,
                    "title": _STR,
                    "made_with": _STR,
                    "error": {"type": ["string", "null"]},
                },
            },
        },
        "citations": {
            "type": "object",
            "required": ["data", "methods"],
            "properties": {
                "data": {"type": "array", "items": {"type": "object", "required": ["target"]}},
                "methods": {
                    "type": "array",
                    "items": {"type": "object", "required": ["key", "text", "url"]},
                },
            },
        },
    },
}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: (
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ),
}


def _check(value, schema: Mapping, path: str, errors: list[str]) -> None:
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else list(types)
        if not any(_TYPES[t](value) for t in types):
            found = type(value).__name__
            if isinstance(value, float) and not math.isfinite(value):
                found = repr(value)
            errors.append(f"{path}: expected {' or '.join(types)}, found {found}")
            return
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: expected one of {schema['enum']}, found {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: expected >= {schema['minimum']}, found {value!r}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: expected <= {schema['maximum']}, found {value!r}")
    if isinstance(value, dict):
        for k in schema.get("required", ()):
            if k not in value:
                errors.append(f"{path}: missing required key {k!r}")
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                _check(v, props[k], f"{path}.{k}", errors)
            elif "values" in schema:
                _check(v, schema["values"], f"{path}.{k}", errors)
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(
                f"{path}: expected at least {schema['minItems']} items, found {len(value)}"
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(
                f"{path}: expected at most {schema['maxItems']} items, found {len(value)}"
            )
        if "items" in schema:
            for i, v in enumerate(value):
                _check(v, schema["items"], f"{path}[{i}]", errors)


def validate_summary(d, schema: Mapping = SCHEMA) -> None:
    """Check a summary dictionary against :data:`SCHEMA`.

    Numbers must be finite (NaN and inf are written as null), integers must
    not be booleans, and required keys must be present.

    Raises
    ------
    SummaryError
        Listing every mismatch as ``path: expected ..., found ...``.
    """
    errors: list[str] = []
    _check(d, schema, "summary", errors)
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise SummaryError(
            f"{len(errors)} schema violation(s):\n  " + "\n  ".join(shown), "summary.json"
        )


# --------------------------------------------------------------------------------------------
# Building the summary (the run is read through bayesff.runfile only)
# --------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _description(text: str) -> str:
    try:
        return str(tomllib.loads(text).get("problem", {}).get("description", ""))
    except tomllib.TOMLDecodeError:
        return ""


def _run_section(dt, run_path: Path | None) -> dict:
    a = runfile.info(dt)
    post = runfile.latents(dt, "posterior")
    return {
        "path": "" if run_path is None else str(run_path),
        "sha256": "" if run_path is None else _sha256(run_path),
        "seed": int(a.get("seed", 0)),
        "chains": int(a.get("chains", post.sizes["chain"])),
        "warmup": int(a.get("warmup", 0)),
        "samples": int(a.get("samples", post.sizes["draw"])),
        "thin": int(a.get("thin", 1)),
        "sampler": str(a.get("sampler", "nuts")),
        "device": str(a.get("device", "")),
        "host": str(a.get("host", "")),
        "float64": bool(int(a.get("float64", 0))),
        "wall_time_s": a.get("wall_time_s"),
        "sampling_time_s": a.get("sampling_time_s"),
        "created_utc": str(a.get("created_utc", "")),
        "runfile_version": int(a.get("bayesff_runfile_version", 0)),
        "package_versions": runfile.versions(dt),
        "tempering": _tempering(a),
    }


def _tempering(a) -> dict | None:
    """The replica ladder and its exchange figures of a ``sampler = "tempered"`` run
    (docs/runfile.md); ``None`` for the other samplers."""

    if str(a.get("sampler", "nuts")) != "tempered":
        return None
    return {
        "temperatures": int(a.get("temperatures", 0)),
        "max_temperature": float(a.get("max_temperature", math.nan)),
        "swap_acceptance": [float(x) for x in np.atleast_1d(a.get("swap_acceptance", []))],
        "replica_leapfrog_steps": [
            int(x) for x in np.atleast_1d(a.get("replica_leapfrog_steps", []))
        ],
    }


def _problem_section(dt) -> dict:
    a = runfile.info(dt)
    text = str(a.get("problem_text", "") or "")
    return {
        "name": str(a.get("problem_name", "")),
        "description": _description(text),
        "path": str(a.get("problem_path", "")),
        "fingerprint": str(a.get("problem_fingerprint", "")),
        "text": text,
        "potential": {
            k: str(a.get(f"potential_{k}", ""))
            for k in ("name", "kind", "module", "qualname", "version")
        },
    }


def _target_entry(info: runfile.TargetInfo) -> dict:
    return {
        "observable": info.observable,
        "unit": info.unit,
        "env_columns": list(info.env_columns),
        "env_units": dict(zip(info.env_columns, info.env_units, strict=False)),
        "value_dims": list(info.value_dims),
        "inadequacy": {
            "kind": info.inadequacy,
            "form": info.inadequacy_form if info.inadequacy != "none" else None,
            "prior_scale": info.attrs.get("inadequacy_prior_scale")
            if info.inadequacy != "none"
            else None,
            # the name of the scale it shares with other targets (tau_<shared>), or None
            "shared": str(info.attrs.get("inadequacy_shared", "")) or None,
        },
        "holdout_groups": list(info.holdout_groups),
        "data": info.data_path,
        "options": info.options,
        "n_train": int(info.n_train),
        "n_holdout": int(info.n_rows - info.n_train - info.excluded_rows),
        "excluded_rows": int(info.excluded_rows),
        "excluded_lines": list(info.excluded_lines),
    }


def _parameters(dt, diag: dict) -> list[dict]:
    post = runfile.latents(dt, "posterior")
    prior = runfile.latents(dt, "prior")
    out = []
    for n in post.data_vars:
        x = np.asarray(post[n].values, float).ravel()
        q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        p = None
        if prior is not None and n in prior:
            xp = np.asarray(prior[n].values, float).ravel()
            p = {
                "mean": float(xp.mean()),
                "q05": float(np.quantile(xp, 0.05)),
                "q95": float(np.quantile(xp, 0.95)),
            }
        out.append(
            {
                "name": str(n),
                "unit": str(post[n].attrs.get("units", "")),
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)),
                "q05": float(q05),
                "q50": float(q50),
                "q95": float(q95),
                "rhat": diag.get("rhat", {}).get(n),
                "ess_bulk": diag.get("ess_bulk", {}).get(n),
                "ess_tail": diag.get("ess_tail", {}).get(n),
                "prior": p,
            }
        )
    return out


def _diagnostics(dt) -> tuple[dict, dict]:
    """(the diagnostics section, the raw diagnostics) from bayesff.inference.diagnose."""

    d = diagnose(dt).as_dict()
    post = runfile.latents(dt, "posterior")
    section = {
        "ok": not d["warnings"],
        "divergences": int(d["divergences"]),
        "ebfmi": d["ebfmi"],
        "warnings": list(d["warnings"]),
        "thresholds": d["thresholds"],
        "n_draws_total": int(post.sizes["chain"] * post.sizes["draw"]),
    }
    return section, d


def predictive_axis(parts) -> tuple[str | None, str]:
    """The x axis of a target's predictive rows: ``(column, label)``.

    The target's one environment column, or among several the one whose value
    varies over its rows (q of S(q) at one state, T of a saturation line);
    ``(None, ...)`` (row order) when none or several vary (vector rows vary in
    their component indices).
    """
    parts = [p for p in parts if p is not None]
    if not parts:
        return None, "row"
    cols = list(parts[0].env)
    units = parts[0].env_units
    if len(cols) != 1:
        vary = [c for c in cols if np.ptp(np.concatenate([p.env[c] for p in parts])) > 0]
        cols = vary if len(vary) == 1 else []
    if not cols:
        return None, "row order: training rows first, then held-out rows (see the tables)"
    c = cols[0]
    unit = units.get(c, "")
    short = c.split("_")[0]
    return c, f"{short} [{unit}]" if unit not in ("", "1") else short


def _rows(st, x: np.ndarray, groups: bool) -> list[dict]:
    """Per state: observation and posterior predictive summaries."""
    q = np.quantile(st.replicated, [0.05, 0.25, 0.75, 0.95], axis=0)
    pred_mean = st.replicated.mean(axis=0)
    model_mean = st.model.mean(axis=0)
    rows = []
    for i in range(st.n):
        r = {
            "x": float(x[i]),
            "observed": float(st.observed[i]),
            "u": float(st.u[i]),
            "pred_mean": float(pred_mean[i]),
            "pi50": [float(q[1, i]), float(q[2, i])],
            "pi90": [float(q[0, i]), float(q[3, i])],
            "model_mean": float(model_mean[i]),
        }
        if groups:
            r["group"] = str(st.group[i])
        rows.append(r)
    return rows


def _predictive(dt, infos: dict) -> dict:

    out = {}
    for t, info in infos.items():
        train, held = states_of(dt, info, "train"), states_of(dt, info, "holdout")
        col, label = predictive_axis([train, held])
        rec = {
            "x_label": label,
            "x_column": col,
            # an environment column is a continuum (lines); a row label is not (points)
            "x_continuous": col in info.env_columns,
            "training": [],
            "held_out": [],
        }
        n_train = 0 if train is None else train.n
        if train is not None:
            x = train.env[col] if col else np.arange(n_train, dtype=float)
            rec["training"] = _rows(train, x, groups=False)
        if held is not None:
            x = held.env[col] if col else n_train + np.arange(held.n, dtype=float)
            rec["held_out"] = _rows(held, x, groups=True)
        out[t] = rec
    return out


def transferability_section(dt) -> dict | None:
    """Transferability of the run (:func:`bayesff.transferability.evaluate`), as builtins.

    The only place the report depends on the keys of
    :class:`bayesff.transferability.TransferabilityResult`. None when the run
    has no held-out rows.
    """

    res = evaluate(dt)
    if not res.groups and not res.conformers and not res.candidates:
        return None
    d = res.as_dict()
    d["verdict_lines"] = list(res.verdict_lines())
    return d


def comparison_section(runs: Mapping[str, object], files: Mapping[str, str]) -> dict:
    """Model comparison (:func:`bayesff.transferability.compare`) of several runs."""

    d = jsonable(compare(dict(runs)))
    d["files"] = dict(files)
    return d


_DOI = re.compile(r"doi:\s*(10\.\d{4,9}/[^\s,;)]+[^\s,;.)])", re.IGNORECASE)


def _citations(provenance: dict) -> dict:
    data = []
    for t, p in provenance.items():
        if not p:
            data.append({"target": t, "source": "no provenance recorded", "dois": []})
            continue
        src = str(p.get("source", ""))
        data.append(
            {
                "target": t,
                "title": str(p.get("title", "")),
                "source": src,
                "licence": str(p.get("licence", "")),
                "dois": sorted(dict.fromkeys(m.group(1) for m in _DOI.finditer(src))),
            }
        )
    return {"data": data, "methods": [dict(c) for c in METHOD_CITATIONS]}


def build_summary(dt, run_path: str | Path | None, *, comparison: dict | None = None) -> dict:
    """Everything the report shows, as JSON builtins (NaN and inf as None).

    Parameters
    ----------
    dt
        The run DataTree (loaded; :func:`bayesff.runfile.read`).
    run_path
        Its file (recorded with its sha256), or None for a run held in memory.
    comparison
        The model comparison section (:func:`comparison_section`), or None.

    The ``figures`` entry is empty here; :func:`bayesff.report.report` fills
    it with :func:`bayesff.report.plots.figure_records` once the figures,
    drawn from this summary, exist.
    """

    runfile.check_version(dt)
    infos = {i.name: i for i in runfile.targets(dt)}
    diagnostics, diag = _diagnostics(dt)
    provenance = {t: i.provenance or None for t, i in infos.items()}
    summary = {
        "schema": SCHEMA_ID,
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "bayesff_version": __version__,
        "run": _run_section(dt, None if run_path is None else Path(run_path)),
        "problem": _problem_section(dt),
        "targets": {t: _target_entry(i) for t, i in infos.items()},
        "tolerance": {t: dict(i.tolerance) for t, i in infos.items() if i.tolerance},
        "provenance": provenance,
        "parameters": _parameters(dt, diag),
        "diagnostics": diagnostics,
        "predictive": _predictive(dt, infos),
        "transferability": transferability_section(dt),
        "comparison": comparison,
        "figures": [],
        "citations": _citations(provenance),
    }
    return jsonable(summary)
