"""Command line: ``bayesff check | calibrate | report | evaluate | compare | ...``.

Every command is registered once, in :data:`COMMANDS` (its name, the module of
this package that runs it, and its one-line help). Its arguments are in
:data:`bayesff.cli.arguments.ARGUMENTS`; the module holds ``COMMANDS``, name ->
the function that runs it (``run(args) -> exit status``). One module per group of
commands:

================  ======================================================
module            commands
================  ======================================================
``problem``       ``check``, ``list``
``calibrate``     ``calibrate``, ``repredict``
``runs``          ``report``, ``evaluate``, ``compare``, ``sensitivity``
``sweep``         ``sweep``, ``atlas``
``md``            ``prepare``, ``refine``
``active``        ``active``
``export``        ``export``
================  ======================================================

Start-up. The parser (every command's arguments) imports only the standard
library, so ``bayesff --help``, ``bayesff COMMAND --help`` and a usage error are
answered at once. The module of the one command being run is imported after its
arguments are parsed, and no other: the command modules import the numerical
stack at their top (jax, numpyro, arviz: about 2-3 s in a new process). This is
the package's one lazy import.

Every error that bad input or the environment can cause is printed as one line
(``error: WHERE: WHAT``) with exit status 2; ``--debug`` shows the traceback
instead. Ctrl-C exits with status 130 (a calibration first saves a checkpoint
and says how to resume).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from bayesff import interrupts
from bayesff._version import __version__
from bayesff.cli.arguments import ARGUMENTS
from bayesff.cli.command import EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED
from bayesff.errors import BayesffError, DiagnosticsError, Interrupted

__all__ = ["COMMANDS", "build_parser", "main"]

#: Command -> (module of :mod:`bayesff.cli` that defines it, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("problem", "validate a problem and its data; print what will be fitted"),
    "calibrate": ("calibrate", "sample the posterior; write runs/NAME/posterior.nc"),
    "repredict": (
        "calibrate",
        "predict a run's draws again under a problem whose held-out side changed",
    ),
    "report": ("runs", "write reports/NAME/index.html and summary.json"),
    "evaluate": ("runs", "transferability verdicts of a run's held-out groups"),
    "compare": ("runs", "PSIS-LOO and leave-one-environment-out elpd of runs"),
    "export": ("export", "force-field files (OpenMM, LAMMPS, GROMACS) of a run's posterior"),
    "sweep": (
        "sweep",
        "run many calibrations from a sweep file on Dask (runs/SWEEP/, reports/SWEEP/)",
    ),
    "list": ("problem", "potentials and forward models with parameters and units"),
    "active": (
        "active",
        "which held-out environments of a run to label next (posterior disagreement)",
    ),
    "prepare": (
        "md",
        "run the reference MD simulations of a problem's MD targets (prepared/NAME/)",
    ),
    "refine": (
        "md",
        "calibrate and re-simulate MD references at the posterior mean until converged",
    ),
    "atlas": ("sweep", "write the transferability atlas of a sweep from its existing run files"),
    "sensitivity": (
        "runs",
        "which target drives which parameter; prior and likelihood power-scaling",
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error on one line, as every other error
    (``error: bayesff calibrate: argument --samples: ...``; exit status 2): argparse
    prints its usage block first, which broke the one-line promise (docs/reliability.md)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``bayesff`` parser: every command with its help and its arguments
    (:mod:`bayesff.cli.arguments`; no command module is imported)."""
    p = _Parser(
        prog="bayesff",
        description="Bayesian calibration of force-field parameters, with transferability.",
    )
    p.add_argument("--version", action="version", version=f"bayesff {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (_, text) in COMMANDS.items():
        ARGUMENTS[name](sub.add_parser(name, help=text))
    return p


def _runner(command: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs ``command``: its module is imported now (seconds)."""
    module = importlib.import_module(f"bayesff.cli.{COMMANDS[command][0]}")
    return module.COMMANDS[command]


def _one_line(e: BaseException) -> str:
    """An error as one line: where, what."""
    if isinstance(e, BayesffError):
        return str(e)
    if isinstance(e, OSError):
        name = e.filename or ""
        what = e.strerror or str(e)
        return f"{name}: {what}" if name else what
    if isinstance(e, UnicodeDecodeError):
        return f"not UTF-8 text: {e.reason} at byte {e.start}"
    return f"{type(e).__name__}: {e}"


class _Redeliver:
    """``sys.unraisablehook`` while a command runs: a Ctrl-C that landed where Python cannot
    raise it (a garbage-collector callback, such as the one JAX registers, or a
    ``__del__``) is delivered to the main thread again, instead of being printed as
    "Exception ignored" and lost (the run then went on and exited 0).

    It is delivered from a timer thread a moment later (raised at once, it would land
    inside this hook, where it would be lost again), unless the code that handles a
    Ctrl-C acknowledges one first (:func:`bayesff.interrupts.swallowed`).
    """

    def __init__(self, previous):
        self.previous = previous

    def __call__(self, unraisable) -> None:
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.previous(unraisable)
        else:
            interrupts.swallowed()


def _cancel_stray_timers() -> None:
    """Cancel the timers a Ctrl-C left running in a library's start-up.

    JAX probes for a TPU at start-up behind a 60 s watchdog, a ``threading.Timer``
    started just before the ``try`` that cancels it: a Ctrl-C landing between the two
    left it running, so the interrupted process lived on for a minute and then printed
    JAX's "TPU backend initialization is taking more than 60.0 seconds" after the one
    line (seen once in CI, SIGINT 3 s after start). Nothing of bayesff's own is left
    to run once a command is interrupted.
    """
    for t in threading.enumerate():
        if isinstance(t, threading.Timer):
            t.cancel()


_PACKAGE = Path(__file__).resolve().parent.parent


def _show_warning(fallback, message, category, filename, lineno, file=None, line=None) -> None:
    """bayesff's own UserWarnings as one line, ``warning: MESSAGE`` (not Python's
    ``FILE:LINE: UserWarning: ...`` with a line of source); other warnings as Python
    shows them."""
    try:
        ours = _PACKAGE in Path(filename).resolve().parents
    except (OSError, ValueError):
        ours = False
    if ours and issubclass(category, UserWarning):
        print(f"warning: {message}", file=sys.stderr if file is None else file)
        return
    fallback(message, category, filename, lineno, file, line)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bayesff`` command.

    A Ctrl-C at any moment (while the command's module is imported, while a
    program compiles, samples or a file is written) ends with one line and
    exit status 130, never a traceback: the parser is built inside the same
    ``try`` as the command, because importing the numerical stack takes
    seconds, and a Ctrl-C swallowed by a garbage-collector callback is raised
    again (:class:`_Redeliver`). One swallowed anywhere else is raised again
    between two blocks of sampling, or reported when the command has finished
    (:mod:`bayesff.interrupts`).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = None
    previous = sys.unraisablehook
    sys.unraisablehook = _Redeliver(previous)
    shown = warnings.showwarning
    warnings.showwarning = functools.partial(_show_warning, shown)
    try:
        with interrupts.counting():
            args = build_parser().parse_args(argv)
            code = _runner(args.command)(args)
            if interrupts.lost():
                # a library swallowed the Ctrl-C until the command had finished
                interrupts.acknowledge()
                print(
                    "interrupted (Ctrl-C), but too late to stop the command: it finished, "
                    "and what it writes was written",
                    file=sys.stderr,
                )
                return EXIT_INTERRUPTED
        return code
    except KeyboardInterrupt:  # counting() has ended and cancelled any redelivery
        _cancel_stray_timers()
        print("interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        if args is None or args.debug:
            raise
        if isinstance(e, Interrupted):
            _cancel_stray_timers()
            print(str(e), file=sys.stderr)
            return EXIT_INTERRUPTED
        if isinstance(e, DiagnosticsError):
            print(f"error: {e}", file=sys.stderr)
            return EXIT_FAILED
        expected = (BayesffError, OSError, ValueError, KeyError, UnicodeDecodeError)
        hint = "" if isinstance(e, expected) else " (unexpected; run with --debug and report it)"
        print(f"error: {_one_line(e)}{hint}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        warnings.showwarning = shown
        sys.unraisablehook = previous
