"""Exceptions raised by bayesff.

Every error raised on bad input says *where* (file, field or row), *what was
expected* and *what was found*, and is raised before any expensive work (no
tracing, no sampling).
"""

from __future__ import annotations

__all__ = [
    "BayesffError",
    "DataError",
    "DiagnosticsError",
    "Interrupted",
    "ProblemError",
    "RunExistsError",
    "UnitError",
]


class BayesffError(ValueError):
    """Base class of bayesff's input errors.

    Parameters
    ----------
    message
        What was expected and what was found.
    where
        The file, field or row the problem is in, e.g.
        ``"models/argon.toml: [parameters.sigma].prior.low"``.
    """

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class UnitError(BayesffError):
    """A unit is missing, unknown, or of the wrong dimension."""


class DataError(BayesffError):
    """A data file is missing, malformed, or disagrees with its manifest."""


class ProblemError(BayesffError):
    """A calibration problem (TOML file or Python object) is invalid."""


class RunExistsError(BayesffError):
    """A run file exists and would be overwritten without ``force=True``."""


class Interrupted(BayesffError):
    """Sampling was interrupted (Ctrl-C); the checkpoint to resume from is named.

    ``message`` replaces the default line (e.g. for an interruption before
    sampling began, when there is nothing to save).
    """

    def __init__(self, checkpoint: str | None, message: str | None = None):
        self.checkpoint = checkpoint
        msg = (
            f"interrupted; the state is saved in {checkpoint}: run the same command with "
            "--resume to continue"
            if checkpoint
            else "interrupted (no checkpoint: the run was not written to a file)"
        )
        super().__init__(message or msg)


class DiagnosticsError(RuntimeError):
    """Diagnostics failed and ``strict`` was asked for; ``run`` is the failed run."""

    def __init__(self, message: str, run=None):
        super().__init__(message)
        self.run = run
