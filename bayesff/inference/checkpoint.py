"""Checkpoints of long runs: arrays and JSON, never pickle.

A checkpoint (``checkpoint.npz`` beside the run file it belongs to) holds the
sampler state of every chain, the draws so far and a JSON header: format
version, the problem fingerprint, the sampler settings and how many
iterations are done. :meth:`Checkpoint.load` reads the header first (NumPy
loads the members of an ``.npz`` one at a time, and ``allow_pickle=False``
refuses object arrays), and loads no array unless the header matches: a file
that belongs to another problem or settings, or that is not a checkpoint,
is refused with a message. Old ``checkpoint.pkl`` files are refused with the
reason (pickle files can run code when read).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jax
import numpy as np

from bayesff.errors import BayesffError
from bayesff.io import atomic_write_bytes

__all__ = ["FORMAT", "Checkpoint", "CheckpointError"]

#: Format version of the checkpoint header.
FORMAT = 1


class CheckpointError(BayesffError):
    """A checkpoint is missing, foreign, damaged or of an unsafe format."""


def _flatten(tree, prefix: str) -> dict[str, np.ndarray]:

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {f"{prefix}{jax.tree_util.keystr(k)}": np.asarray(v) for k, v in leaves}


def _unflatten(template, prefix: str, arrays: dict, where: str):

    paths, treedef = jax.tree_util.tree_flatten_with_path(template)
    leaves = []
    for k, v in paths:
        name = f"{prefix}{jax.tree_util.keystr(k)}"
        if name not in arrays:
            raise CheckpointError(f"the checkpoint lacks {name!r}", where)
        a = arrays[name]
        if a.shape != np.shape(v) or a.dtype != np.asarray(v).dtype:
            raise CheckpointError(
                f"{name!r} has shape {a.shape} and dtype {a.dtype}, expected "
                f"{np.shape(v)} and {np.asarray(v).dtype}",
                where,
            )
        leaves.append(a)
    return jax.tree_util.tree_unflatten(treedef, leaves)


class Checkpoint:
    """The checkpoint of one output.

    Parameters
    ----------
    path
        The ``.npz`` file (beside the run file; one per output).
    header
        What must match for a resume: problem fingerprints and sampler settings.
    also
        Other values a header entry may hold in a file written before (key -> values):
        the problem's legacy fingerprint (``Problem.legacy_fingerprint``), so that a run
        interrupted before 2026-11-27 resumes.
    """

    def __init__(self, path: str | Path, header: dict, also: dict | None = None):
        self.path = Path(path)
        self.header = {"format": FORMAT, **header}
        self.also = {k: tuple(v) for k, v in (also or {}).items()}

    def save(self, state, trace: dict, iteration: int) -> None:
        """Write the state, the draws so far and the iteration count atomically."""

        meta = {**self.header, "iteration": int(iteration)}
        arrays = {
            "header": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            **_flatten(state, "state"),
            **{f"trace/{k}": np.asarray(v) for k, v in trace.items()},
        }
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(self.path, buf.getvalue())

    def _check_header(self, meta: dict) -> None:
        where = str(self.path)
        if meta.get("format") != FORMAT:
            raise CheckpointError(
                f"checkpoint format {meta.get('format')!r}, this bayesff reads {FORMAT}", where
            )
        for k, v in self.header.items():
            if meta.get(k) != v and meta.get(k) not in self.also.get(k, ()):
                raise CheckpointError(
                    f"the checkpoint was written for another {k.replace('_', ' ')} "
                    f"({meta.get(k)!r}, this run has {v!r}); run without --resume to start again",
                    where,
                )

    def check(self) -> None:
        """Whether there is a checkpoint to resume from, of this problem and settings: the
        checks of :meth:`load` that need no state, before anything is compiled.

        Raises
        ------
        CheckpointError
            As :meth:`load`.
        """
        self._read(header_only=True)

    def load(self, state_template):
        """(state, trace arrays, iteration), after checking the header.

        Raises
        ------
        CheckpointError
            No checkpoint, an old pickle checkpoint, a file that is not one,
            or one written for another problem or settings.
        """
        meta, arrays = self._read(header_only=False)
        where = str(self.path)
        state = _unflatten(state_template, "state", arrays, where)
        trace = {k[len("trace/") :]: v for k, v in arrays.items() if k.startswith("trace/")}
        return state, trace, int(meta["iteration"])

    def _read(self, header_only: bool) -> tuple[dict, dict]:
        """(header, arrays: none when ``header_only``), the header checked."""
        where = str(self.path)
        pkl = self.path.with_suffix(".pkl")
        if not self.path.is_file():
            if pkl.is_file():
                raise CheckpointError(
                    f"{pkl.name} is a checkpoint of an older bayesff in pickle format, which can "
                    "run code when read; it is not loaded. Start the run again without --resume",
                    str(pkl),
                )
            raise CheckpointError("no checkpoint to resume from", where)
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                if "header" not in npz.files:
                    raise CheckpointError("not a bayesff checkpoint (no header)", where)
                meta = json.loads(npz["header"].tobytes().decode())
                if not isinstance(meta, dict):
                    raise CheckpointError("not a bayesff checkpoint (bad header)", where)
                self._check_header(meta)
                names = () if header_only else npz.files
                arrays = {k: npz[k] for k in names if k != "header"}
        except CheckpointError:
            raise
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
            raise CheckpointError(
                f"cannot read the checkpoint ({type(e).__name__}: {e})", where
            ) from None
        return meta, arrays

    def remove(self) -> None:
        if self.path.exists():
            self.path.unlink()
