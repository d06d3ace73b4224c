"""argparse types of the ``bayesff`` subcommands: numbers with their allowed range.

Each raises :class:`argparse.ArgumentTypeError` with a message naming what was
expected and what was given, so that every numeric flag is checked the same way
(every command of :mod:`bayesff.cli`).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

__all__ = ["axis_labels", "count", "folder", "fraction", "module_name", "nonnegative"]


def count(lo: int):
    """argparse type: an integer >= lo, with a message naming the bound."""

    def parse(text: str) -> int:
        try:
            v = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lo}, got {v}")
        return v

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def nonnegative(text: str) -> float:
    """argparse type: a number >= 0."""
    v = _number(text)
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return v


def positive(text: str) -> float:
    """argparse type: a finite number > 0."""
    v = _number(text)
    if not (0.0 < v < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return v


def fraction(text: str) -> float:
    """argparse type: a number in [0, 1)."""
    v = _number(text)
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {v}")
    return v


def axis_labels(text: str) -> tuple[str, list[str]]:
    """argparse type: ``AXIS=LABEL[,LABEL...]`` -> (axis, labels)."""
    axis, sep, rest = text.partition("=")
    labels = [x.strip() for x in rest.split(",") if x.strip()]
    if not sep or not axis.strip() or not labels:
        raise argparse.ArgumentTypeError(
            f"expected AXIS=LABEL[,LABEL...] (e.g. potential=lj), got {text!r}"
        )
    return axis.strip(), labels


def folder(text: str) -> str:
    """argparse type: a folder to write into, which may not exist yet but is not a file."""
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, expected a folder")
    return text


_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def module_name(text: str) -> str:
    """argparse type: a dotted Python module name (``--allow-plugin``)."""
    if not _MODULE.match(text):
        raise argparse.ArgumentTypeError(
            f"expected a module name such as 'mypackage.potentials', got {text!r}"
        )
    return text
