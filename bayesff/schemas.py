"""JSON Schemas of problem and sweep files, and validation with readable errors.

The schemas fix the *shape* of a file: which sections and keys exist and the
type of every value. :func:`validate` runs ``jsonschema`` and turns its first
error into a :class:`~bayesff.errors.ProblemError` that names the file and the
field (``models/x.toml: targets[0].noise``), says what was expected and what
was found. What the shape cannot say (a unit of the right dimension, a
parameter the potential has, a data file that exists) is checked afterwards
by :mod:`bayesff.problem`.

Names that become file or folder names (problems, sweeps, tasks) or run-file
variables (targets) follow :data:`NAME_PATTERN` and :data:`TARGET_NAME_PATTERN`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib

import jsonschema

from bayesff.errors import BayesffError, ProblemError

__all__ = [
    "GROUP_NAME_PATTERN",
    "MAX_DEPTH",
    "NAME_PATTERN",
    "PROBLEM_SCHEMA",
    "SWEEP_SCHEMA",
    "TARGET_NAME_PATTERN",
    "check_document",
    "check_name",
    "parse_toml",
    "validate",
]

#: Problem, sweep and task names: they become folder names under runs/ and
#: reports/. A letter or digit first (so never "." or ".."), then letters,
#: digits, "_", "-", "."; at most 64 characters.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: Target names: they become run-file variables and parts of latent names
#: (``tau_B2``). A letter first, then letters, digits, "_"; at most 48.
TARGET_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,47}$"
#: Held-out group names: one line of a verdict and a report's label ("low T", "gas,
#: 350-400 K", "A = 1 kJ/mol"). A letter or digit first, then printable ASCII (no
#: control or direction characters, no newline), not ending in a space ("low T " beside
#: "low T" would be two groups that read the same); at most 64 characters.
GROUP_NAME_PATTERN = r"^[A-Za-z0-9]([ -~]{0,62}[!-~])?$"

_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_RANGE = {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2}
_SELECTION = {"type": "object", "additionalProperties": _RANGE, "minProperties": 1}
_PRIOR = {
    "type": "object",
    "required": ["dist"],
    "properties": {"dist": _STRING},
    "additionalProperties": _NUMBER,
}
_PARAMETER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["unit"],
    "properties": {"unit": _STRING, "prior": _PRIOR, "value": _NUMBER},
}
_CUTOFF = {
    "type": "object",
    "additionalProperties": False,
    "required": ["scheme"],
    "properties": {"scheme": _STRING, "r_c": _NUMBER, "unit": _STRING},
}
_INADEQUACY = {
    "oneOf": [
        _STRING,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind"],
            "properties": {
                "kind": _STRING,
                "form": _STRING,
                "prior_scale": _NUMBER,
                "parameters": {"type": "array", "items": _STRING},
                "bands": {"type": "integer"},
                "gp_basis": {"type": "integer"},
                "shared": _STRING,
            },
        },
    ]
}
_TARGET = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "observable", "data"],
    "properties": {
        "name": {"type": "string", "pattern": TARGET_NAME_PATTERN},
        "observable": _STRING,
        "data": _STRING,
        "train": {"oneOf": [_SELECTION, {"const": False}]},
        "rows": _SELECTION,
        "noise": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"column": _STRING, "value": _NUMBER},
            "minProperties": 1,
            "maxProperties": 1,
        },
        "inadequacy": _INADEQUACY,
        "cutoff": _CUTOFF,
        "repair": {
            "oneOf": [
                _STRING,
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["method"],
                    "properties": {"method": _STRING, "reference_T_K": _NUMBER},
                },
            ]
        },
        "options": {"type": "object"},
        "fixed": {"type": "object", "additionalProperties": _NUMBER},
        "group": {"type": "string", "pattern": TARGET_NAME_PATTERN},
        "nuisance": {"type": "object", "additionalProperties": _PARAMETER},
        "duplicates": {"enum": ["error", "drop"]},
        "error_model": {
            "oneOf": [
                _STRING,
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kind"],
                    "properties": {
                        "kind": _STRING,
                        "data": _STRING,
                        "replicates": _STRING,
                        "block_length": {"type": "integer"},
                        "amplitude_scale": _NUMBER,
                        "length_scale": _NUMBER,
                    },
                },
            ]
        },
    },
}
_INFERENCE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "chains": {"type": "integer"},
        "warmup": {"type": "integer"},
        "samples": {"type": "integer"},
        "seed": {"type": "integer"},
        "target_accept": _NUMBER,
        "max_tree_depth": {"type": "integer"},
        "prior_draws": {"type": "integer"},
        "dense_mass": {"type": "boolean"},
        "adapt_mass": {"type": "boolean"},
        "thin": {"type": "integer"},
        "init": _STRING,
        "sampler": _STRING,
        "temperatures": {"type": "integer"},
        "max_temperature": _NUMBER,
    },
}

#: Shape of a problem file (``models/*.toml``); see docs and ``models/argon_lj_b2.toml``.
PROBLEM_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["problem", "potential", "targets"],
    "properties": {
        "problem": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "description": _STRING,
            },
        },
        "potential": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": _STRING, "cutoff": _CUTOFF},
        },
        "parameters": {"type": "object", "additionalProperties": _PARAMETER},
        # molecules of a forcefield potential: checked field by field by
        # bayesff.potentials.topology.molecule_from_dict
        "molecules": {"type": "array", "items": {"type": "object"}, "minItems": 1},
        "targets": {"type": "array", "items": _TARGET, "minItems": 1},
        "transferability": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "holdout": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["target", "select"],
                        "properties": {
                            "target": _STRING,
                            "select": _SELECTION,
                            "name": _STRING,
                        },
                    },
                },
                "tolerance": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {"rel": _NUMBER, "abs": _NUMBER},
                    },
                },
                "candidates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": _STRING},
                        "additionalProperties": _NUMBER,
                    },
                },
            },
        },
        "pooling": {
            "type": "object",
            "additionalProperties": False,
            "required": ["parameters"],
            "properties": {
                "parameters": {"type": "array", "items": _STRING, "minItems": 1},
                "prior_scale": _NUMBER,
                "trend_scale": _NUMBER,
                "new_group_inadequacy": {"enum": ["borrowed", "none"]},
                "covariate": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "additionalProperties": _NUMBER},
                },
            },
        },
        "inference": _INFERENCE,
    },
}

#: Shape of a sweep file (``bayesff sweep SWEEP.toml``); see :mod:`bayesff.sweep`.
SWEEP_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sweep"],
    "properties": {
        "sweep": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "description": _STRING,
                "base": _STRING,
                "problems": {"type": "array", "items": _STRING},
                "report": {"type": "boolean"},
                "retries": {"type": "integer", "minimum": 0},
                "atlas": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["fluids"],
                    "properties": {
                        "fluids": _STRING,
                        "fluid_axis": _STRING,
                        "potential_axis": _STRING,
                    },
                },
            },
        },
        "axes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "values"],
                "properties": {
                    "name": {"type": "string", "pattern": TARGET_NAME_PATTERN},
                    "values": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["label"],
                            "properties": {
                                "label": {"type": "string", "pattern": NAME_PATTERN},
                                "set": {"type": "object"},
                                "base": _STRING,
                            },
                            "additionalProperties": False,
                        },
                    },
                },
            },
        },
        "when": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "match": {
                        "type": "object",
                        "additionalProperties": {
                            "oneOf": [_STRING, {"type": "array", "items": _STRING, "minItems": 1}]
                        },
                    },
                    "set": {"type": "object"},
                    "exclude": {"type": "boolean"},
                },
            },
        },
        "inference": _INFERENCE,
    },
}


_SECTIONS = (
    "problem",
    "potential",
    "parameters",
    "transferability",
    "pooling",
    "inference",
    "sweep",
)


def _field(path) -> str:
    """A field as the docs name it: ``[parameters.sigma].prior``, ``targets[0].noise``."""
    path = list(path)
    if not path:
        return ""
    head, rest = path[0], path[1:]
    if head in _SECTIONS:
        out = f"[{head}.{rest.pop(0)}]" if head == "parameters" and rest else f"[{head}]"
    else:
        out = str(head)
    for part in rest:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _type_name(value) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _message(err) -> str:
    v = err.validator
    inst = err.instance
    if v == "type":
        want = err.validator_value
        want = want if isinstance(want, str) else " or ".join(want)
        want = {
            "object": "a table",
            "array": "an array",
            "number": "a number",
            "string": "a string",
            "integer": "an integer",
            "boolean": "true or false",
        }.get(want, want)
        return f"expected {want}, got {_type_name(inst)} {inst!r}"
    if v == "additionalProperties" and err.validator_value is False:
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(inst) - set(allowed))
        what = "section(s)" if not err.absolute_path else "key(s)"
        return f"unknown {what} {', '.join(extra)}; expected {', '.join(allowed)}"
    if v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        name = missing[0] if missing else "?"
        if name == "unit":
            return "missing 'unit' (a parameter's unit is never guessed)"
        return f"missing {name!r}" if err.absolute_path else f"missing section [{name}]"
    if v == "pattern":
        return (
            f"{inst!r} is not an allowed name: {describe_pattern(err.validator_value)} "
            f"(pattern {err.validator_value})"
        )
    if v in ("minItems", "maxItems") and err.schema.get("minItems") == 2 == err.schema.get(
        "maxItems"
    ):
        return f"expected [low, high], got {inst!r}"
    if v == "minItems" and err.validator_value == 1:
        return "at least one entry is needed"
    if v == "enum":
        return f"expected one of {', '.join(map(repr, err.validator_value))}, got {inst!r}"
    if v == "const":
        return f"expected {err.validator_value!r}, got {inst!r}"
    if v == "oneOf":
        return f"unexpected value {inst!r}"
    return err.message


#: Deepest nesting of tables and arrays a document may have. The deepest real one is
#: a sweep's ``axes[i].values[j].set.targets.B2.train.T_K[k]`` (8 levels). Reading a
#: deeper one recurses once or more per level (JSON Schema validation, copies, the repr
#: in error messages) and would end in a RecursionError past Python's limit (1000).
MAX_DEPTH = 32
_INT64 = (-(2**63), 2**63 - 1)


def check_document(doc, where: str) -> None:
    """Refuse what TOML cannot hold and what the readers cannot take, before any of
    them walks the document: nesting deeper than :data:`MAX_DEPTH`, keys that are not
    printable text (which would break the one-line error naming them), and integers
    outside 64 bits (the TOML spec's range, which :mod:`tomllib` does not enforce;
    ``10**400`` would overflow float conversions and, past 4300 digits, even the
    repr of an error message).

    Iterative, so that it cannot itself exceed the recursion limit.

    Raises
    ------
    ProblemError
        Naming ``where`` and the field.
    """
    stack = [(doc, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            field = _field(path[:4])
            raise ProblemError(
                f"tables or arrays nested more than {MAX_DEPTH} levels deep (from {field}); "
                "a problem, sweep or molecule file needs fewer than 10",
                where,
            )
        if isinstance(node, dict):
            for k in node:
                if not (isinstance(k, str) and k.isprintable()):
                    # a newline, NUL or right-to-left override in a key would break or
                    # disguise every message that names the field
                    field = _field(path)
                    shown = json.dumps(k) if isinstance(k, str) else repr(k)
                    raise ProblemError(
                        f"the key {shown} is not printable text (keys are names: no "
                        "control, format or line-separator characters)",
                        f"{where}: {field}" if field else where,
                    )
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
        elif isinstance(node, int) and not isinstance(node, bool):
            if not _INT64[0] <= node <= _INT64[1]:
                field = _field(path)
                raise ProblemError(
                    f"an integer of about {int(node.bit_length() * math.log10(2)) + 1} digits, "
                    "outside TOML's 64-bit range (-2^63 to 2^63 - 1)",
                    f"{where}: {field}" if field else where,
                )


def parse_toml(text: str, where: str, error: type[BayesffError] = ProblemError) -> dict:
    """TOML text as a document; any text that is not TOML raises one ``error`` line.

    :mod:`tomllib` raises more than ``TOMLDecodeError``: ``ValueError`` for an
    integer past Python's 4300-digit conversion limit and ``RecursionError`` for
    arrays or inline tables nested some hundreds of levels deep.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"not valid TOML: {e}", where) from None
    except ValueError:
        raise error(
            "not valid TOML: an integer of more than 4300 digits (TOML integers are 64-bit)",
            where,
        ) from None
    except RecursionError:
        raise error(
            "not valid TOML for bayesff: arrays or inline tables nested hundreds of levels deep",
            where,
        ) from None


def validate(doc: dict, schema: dict, path: str) -> None:
    """Raise :class:`ProblemError` naming ``path`` and the field if ``doc`` breaks ``schema``.

    Of several errors the deepest (most specific) one is reported. The document is
    first checked by :func:`check_document` (depth, integer range).
    """

    check_document(doc, path)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(doc))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    if err.validator == "oneOf" and err.context:
        err = max(err.context, key=lambda e: len(e.absolute_path))
    field = _field(err.absolute_path)
    raise ProblemError(_message(err), f"{path}: {field}" if field else path)


def describe_pattern(pattern: str) -> str:
    """A name pattern of this module in words (others: the pattern itself)."""
    return {
        NAME_PATTERN: "letters, digits, '_', '.' and '-', a letter or digit first, at most "
        "64 characters",
        TARGET_NAME_PATTERN: "letters, digits and '_', a letter first, at most 48 characters",
        GROUP_NAME_PATTERN: "printable ASCII on one line, a letter or digit first, no space "
        "at the end, at most 64 characters",
    }.get(pattern, f"a name matching {pattern}")


def check_name(name, pattern: str, where: str, what: str = "name") -> str:
    """Check a name against a pattern (:data:`NAME_PATTERN`, ...) and return it."""
    if not isinstance(name, str) or not re.fullmatch(pattern, name):
        raise ProblemError(
            f"{what} {name!r} is not allowed: expected {describe_pattern(pattern)} (pattern "
            f"{pattern})",
            where,
        )
    return name
