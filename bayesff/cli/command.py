"""What the commands of :mod:`bayesff.cli` share: exit statuses and the log.

A command module holds ``COMMANDS``, name -> the function that runs the command
(``run(args) -> exit status``); the entry (:data:`bayesff.cli.COMMANDS`) names the
module and the help of each, :data:`bayesff.cli.arguments.ARGUMENTS` its
arguments. This module imports only the standard library.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "logger"]

#: Exit statuses.
EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def logger(args: argparse.Namespace) -> Callable[..., None]:
    """A ``log`` for the library's functions: print, flushed; nothing with ``--quiet``."""
    if getattr(args, "quiet", False):
        return lambda *a, **k: None
    return lambda *a, **k: print(*a, **k, flush=True)
