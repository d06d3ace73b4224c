"""The block loop: warm-up and sampling in blocks, with progress, checkpoints and Ctrl-C.

Each call of the compiled :meth:`~bayesff.inference.kernels.Kernel.run_block`
advances every chain of every problem by ``n`` iterations; ``n`` adapts so
that one block takes about ``BLOCK_SECONDS``. Between blocks the loop moves
the progress bar, copies the kept draws to the host (one copy per block),
writes a checkpoint when one is due, and answers Ctrl-C: a KeyboardInterrupt
saves a checkpoint (when the run has an output file) and raises
:class:`~bayesff.inference.calibrate.Interrupted` naming it.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import numpy as np
from tqdm.auto import tqdm

from bayesff import interrupts
from bayesff.errors import Interrupted
from bayesff.inference.checkpoint import Checkpoint

__all__ = [
    "STAT_FIELDS",
    "BatchCheckpoint",
    "Draws",
    "Progress",
    "run_blocks",
    "save_finished",
]

#: Sample statistics recorded per kept draw (fields of the kernel's Trace).
STAT_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "potential_energy", "step_size")


class Draws(NamedTuple):
    """Kept draws of a batch: ``z`` site -> (P, C, N, ...) unconstrained values, and
    ``stats`` (:data:`STAT_FIELDS`) -> (P, C, N) sample statistics; ``state``: the
    chains' state after the last iteration (for a checkpoint of the finished loop;
    ``None`` once thinned)."""

    z: dict
    stats: dict
    state: object = None

    def thinned(self, thin: int) -> Draws:
        """Every ``thin``-th draw of each chain."""
        return Draws(
            {k: v[:, :, ::thin] for k, v in self.z.items()},
            {k: v[:, :, ::thin] for k, v in self.stats.items()},
        )


class BatchCheckpoint(Checkpoint):
    """A :class:`Checkpoint` of the block loop: state, kept draws and iteration count.

    ``modes`` (name -> array, or ``None``): the competing modes of the problem's Laplace
    start (:class:`~bayesff.inference.laplace.ModeMap`'s fields), saved with every block
    and read back by :meth:`load_into`, so a resumed run labels its draws as the
    uninterrupted one does.
    """

    modes: dict | None = None

    def load_into(self, template, scale=None):
        """(state, kept draws (dict of lists of blocks), iteration, coordinate scale).

        ``scale`` (site -> array) is returned where the checkpoint has none (one written
        by a sampler without scaled coordinates)."""
        state, flat, it = self.load(template)
        done, saved, modes = {}, {}, {}
        for k, v in flat.items():
            if k.startswith("z/"):
                done.setdefault("z", {})[k[2:]] = [v]
            elif k.startswith("scale/"):
                saved[k[6:]] = v
            elif k.startswith("modes/"):
                modes[k[6:]] = v
            else:
                done[k] = [v]
        self.modes = modes or None
        return state, done, it, saved or scale

    def save_blocks(self, state, done: dict, it: int, scale: dict | None = None) -> None:
        """Save the state, the kept draws and, for a state in scaled coordinates
        (:class:`~bayesff.inference.kernels.Scaled`), their scale."""
        flat = {f"scale/{k}": np.asarray(v) for k, v in (scale or {}).items()}
        flat.update({f"modes/{k}": np.asarray(v) for k, v in (self.modes or {}).items()})
        for k, v in _joined(done).items():
            if k == "z":
                flat.update({f"z/{s}": a for s, a in v.items()})
            else:
                flat[k] = v
        self.save(state, flat, it)


def _joined(done: dict) -> dict:
    """Blocks of kept draws joined along the draw axis (axis 2 of (P, C, N, ...))."""
    out = {}
    for k, v in done.items():
        if k == "z":
            out["z"] = {s: np.concatenate(b, axis=2) for s, b in v.items()}
        else:
            out[k] = np.concatenate(v, axis=2)
    return out


def _host_block(trace, n: int, skip: int = 0) -> dict:
    """Rows ``skip:n`` of a block (the kept ones), as (P, C, n - skip, ...) host arrays."""

    def move(a):
        a = np.asarray(jax.device_get(a))[skip:n]
        return np.moveaxis(a, 0, 2)

    out = {"z": {k: move(v) for k, v in trace.z.items()}}
    for f in STAT_FIELDS:
        out[f] = move(getattr(trace, f))
    return out


def _append(done: dict, block: dict) -> None:
    for k, v in block.items():
        if k == "z":
            for s, a in v.items():
                done.setdefault("z", {}).setdefault(s, []).append(a)
        else:
            done.setdefault(k, []).append(v)


class Progress:
    """A tqdm bar on a terminal; otherwise a log line every ~10 % (at most every 5 s)."""

    def __init__(
        self,
        total: int,
        start: int,
        enabled: bool,
        log,
        label: str,
        unit: str = "iterations",
        quiet_for: float = 0.0,
    ):
        # quiet_for: no log line (the final one included) before this many seconds
        self.total, self.log, self.label, self.unit = total, log, label, unit
        self.quiet_for = quiet_for
        self.bar = None
        self.t0 = time.perf_counter()
        self.start = self.it = start
        self.last_log = 0.0
        self.next_frac = 0.1
        if enabled:
            self.bar = tqdm(total=total, initial=start, desc=label, unit=unit[:4], leave=False)

    def update(self, it: int, phase: str) -> None:
        """Progress is now at ``it`` of ``total``."""
        n, self.it = it - self.it, it
        if self.bar is not None:
            self.bar.set_description(f"{self.label} ({phase})", refresh=False)
            self.bar.update(n)
            return
        frac = it / self.total
        now = time.perf_counter()
        if now - self.t0 < self.quiet_for:
            return
        if (frac >= self.next_frac and now - self.last_log >= 5.0) or it == self.total:
            rate = (it - self.start) / max(now - self.t0, 1e-9)
            eta = (self.total - it) / max(rate, 1e-9)
            self.log(
                f"  {phase}: {it}/{self.total} {self.unit} ({100 * frac:.0f} %), ETA {eta:.0f} s"
            )
            self.last_log = now
            self.next_frac = frac + 0.1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _next_n(it, s, block, per_iter, checkpoint_every, block_seconds) -> int:
    """Iterations of the next block: ~block_seconds long, ending at phase and checkpoint marks."""
    total = s.warmup + s.samples
    n = block if per_iter is None else int(block_seconds / max(per_iter, 1e-9))
    n = max(1, min(n, block, total - it))
    if it < s.warmup:
        n = min(n, s.warmup - it)
    elif checkpoint_every:
        done = it - s.warmup
        n = min(n, checkpoint_every - done % checkpoint_every)
    if per_iter is None:
        n = min(n, 10)  # the first call compiles: keep it short so the rate is known soon
    return n


def run_blocks(
    kernel,
    state,
    data,
    s,
    *,
    it: int = 0,
    done: dict | None = None,
    ckpt: BatchCheckpoint | None = None,
    checkpoint_every: int = 0,
    progress: bool = False,
    log=print,
    block_seconds: float = 1.0,
) -> Draws:
    """Advance the chains from iteration ``it`` to warm-up + samples; return the kept draws.

    Parameters
    ----------
    kernel, state, data
        The compiled kernel, the chains' state and the model's data (batched).
    s
        The sampler settings (warm-up and kept draws per chain).
    it, done
        The iteration to start from and the kept draws so far (a resumed run).
    ckpt, checkpoint_every
        Where and how often (draws per chain; 0: only on Ctrl-C) to save.
    progress, log, block_seconds
        Progress bar, one-line messages, and the wall time one block aims at.
    """
    done = {} if done is None else done
    scale = getattr(data, "scale", None)  # the state's coordinates, saved with it
    total = s.warmup + s.samples
    bar = Progress(total, it, progress, log, "sampling")
    per_iter, calls = None, 0
    # (state, iteration) after the last complete block: a Ctrl-C between two statements
    # must never save a state that does not match the draws kept with it
    committed = (state, it)
    try:
        if getattr(kernel, "warmup_in_one_call", False) and it < s.warmup:
            # ChEES: blackjax adapts in one compiled call
            state = kernel.warmup_all(state, data)
            it = s.warmup
            committed = (state, it)
            bar.update(it, "warm-up")
            if ckpt is not None and _due(it, s, checkpoint_every):
                ckpt.save_blocks(state, done, it, scale)
        while it < total:
            interrupts.raise_if_lost()  # a Ctrl-C a library swallowed while compiling
            n = _next_n(it, s, kernel.settings.block, per_iter, checkpoint_every, block_seconds)
            t = time.perf_counter()
            state, trace = kernel.run_block(state, data, n)
            if it + n > s.warmup:
                _append(done, _host_block(trace, n, skip=max(s.warmup - it, 0)))
            else:
                trace.energy.block_until_ready()
            it += n
            committed = (state, it)
            calls += 1
            if calls > 1:  # the first call may include compiling: its time says nothing
                per_iter = (time.perf_counter() - t) / n
            bar.update(it, "warm-up" if it <= s.warmup else "sampling")
            if ckpt is not None and _due(it, s, checkpoint_every):
                ckpt.save_blocks(state, done, it, scale)
        bar.close()
        joined = _joined(done)  # inside the try: a Ctrl-C here still saves the draws
        return Draws(joined["z"], {k: joined[k] for k in STAT_FIELDS}, state)
    except KeyboardInterrupt:
        interrupts.acknowledge()
        bar.close()
        if ckpt is None:
            raise Interrupted(None) from None
        state, it = committed
        _trim(done, max(it - s.warmup, 0))
        ckpt.save_blocks(state, done, it, scale)
        raise Interrupted(str(ckpt.path)) from None


def save_finished(ckpt: BatchCheckpoint, draws: Draws, it: int) -> None:
    """Checkpoint of a finished loop (``it`` = warm-up + samples, every draw kept): a
    Ctrl-C while the run is post-processed or written loses no sampling, and
    ``--resume`` goes straight to writing."""
    done = {"z": {k: [v] for k, v in draws.z.items()}}
    done.update({k: [v] for k, v in draws.stats.items()})
    ckpt.save_blocks(draws.state, done, it)


def _trim(done: dict, n: int) -> None:
    """Keep the first n kept draws (drop a block appended after the last commit)."""
    if not done:
        return
    joined = _joined(done)
    for k, v in joined.items():
        if k == "z":
            done["z"] = {s: [a[:, :, :n]] for s, a in v.items()}
        else:
            done[k] = [v[:, :, :n]]


def _due(it: int, s, every: int) -> bool:
    if not every:
        return False
    if it == s.warmup:
        return True
    return it > s.warmup and (it - s.warmup) % every == 0
