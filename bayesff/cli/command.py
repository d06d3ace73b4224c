"""What a command of :mod:`bayesff.cli` is, and what the commands share.

A command module holds ``COMMANDS``, name -> :class:`Command`; the entry
(:data:`bayesff.cli.COMMANDS`) names the module and the help of each. This
module imports only the standard library, so that building the parser stays
fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "Command", "logger"]

#: Exit statuses.
EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class Command(NamedTuple):
    """One subcommand: ``arguments(parser)`` adds its options, ``run(args)`` runs it and
    returns the exit status."""

    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def logger(args: argparse.Namespace) -> Callable[..., None]:
    """A ``log`` for the library's functions: print, flushed; nothing with ``--quiet``."""
    if getattr(args, "quiet", False):
        return lambda *a, **k: None
    return lambda *a, **k: print(*a, **k, flush=True)
