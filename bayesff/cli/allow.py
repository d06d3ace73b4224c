"""``--allow-plugin MODULE``: the one way a command line lets a file name code.

Every command that reads a problem or sweep file (directly, or from a run
file's recorded problem) takes the flag; a file may then name
``kind = "MODULE:factory"`` (:mod:`bayesff.potentials.plugins`). The modules
of the user's configuration file count too; the file being read never does.
"""

from __future__ import annotations

import argparse
import functools
import re

from bayesff.potentials.plugins import allow_plugins

__all__ = ["add_allow_plugin", "allowing_plugins"]

_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _module(text: str) -> str:
    if not _MODULE.match(text):
        raise argparse.ArgumentTypeError(
            f"expected a module name such as 'mypackage.potentials', got {text!r}"
        )
    return text


def add_allow_plugin(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--allow-plugin MODULE`` flag."""
    parser.add_argument(
        "--allow-plugin",
        action="append",
        default=[],
        type=_module,
        metavar="MODULE",
        help="let the problem or sweep file name kind = 'MODULE:factory' (imports MODULE: "
        "allow only code you trust; repeatable; also [plugins] allow in "
        "~/.config/bayesff/config.toml)",
    )


def allowing_plugins(run):
    """``run(args)`` with the modules of ``--allow-plugin`` allowed while it runs."""

    @functools.wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        with allow_plugins(*args.allow_plugin):
            return run(args)

    return wrapped
