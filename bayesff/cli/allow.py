"""``--allow-plugin MODULE``: the one way a command line lets a file name code.

Every command that reads a problem or sweep file (directly, or from a run
file's recorded problem) takes the flag (:mod:`bayesff.cli.arguments`) and runs
wrapped in :func:`allowing_plugins`; a file may then name
``kind = "MODULE:factory"`` (:mod:`bayesff.potentials.plugins`). The modules
of the user's configuration file count too; the file being read never does.
"""

from __future__ import annotations

import argparse
import functools

from bayesff.potentials.plugins import allow_plugins

__all__ = ["allowing_plugins"]


def allowing_plugins(run):
    """``run(args)`` with the modules of ``--allow-plugin`` allowed while it runs."""

    @functools.wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        with allow_plugins(*args.allow_plugin):
            return run(args)

    return wrapped
