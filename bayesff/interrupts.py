"""A Ctrl-C that a library swallowed is noticed and raised again where it is safe.

A SIGINT raises ``KeyboardInterrupt`` wherever the main thread happens to be. Code that
catches it there and goes on (a library's ``except BaseException``, a callback from C++
whose error is dropped, a garbage-collector callback) loses it: the interrupted
``bayesff calibrate`` then sampled to the end and exited 0 (seen in CI, SIGINT 3 s after
start, rarely and not reproduced on an idle machine, so the place that swallowed it is
not known). While a command of the CLI runs, :func:`counting` replaces Python's handler
with one that also counts the signals; the code that handles a Ctrl-C calls
:func:`acknowledge`; :func:`raise_if_lost`, called at a safe point (between two blocks
of sampling), raises again a Ctrl-C that nothing acknowledged, and the CLI reports one
that was lost until its command had finished.

Outside the CLI (bayesff used as a library), and in any thread but the main one, nothing
is replaced and these functions do nothing: the program that calls bayesff owns its
signals.

A redelivery is sent from a timer thread; the state it reads is behind one lock, and a
redelivery that arrives after the Ctrl-C was acknowledged (the timer had already fired)
is dropped by the handler, so it can never land in the code that handles the Ctrl-C (a
checkpoint being saved) or after the command.
"""

from __future__ import annotations

import _thread
import contextlib
import importlib.machinery
import signal
import threading
from collections.abc import Iterator

#: seconds before a Ctrl-C that arrived during a C extension's initialisation is delivered
#: again
DEFER_S = 0.05

_lock = threading.RLock()  # re-entrant: the handler may run inside acknowledge()
_active = False  # inside counting(), with this module's handler in place
_received = 0
_acknowledged = 0
_pending = False  # a redelivery is scheduled and has not fired
_redelivering = False  # a redelivery fired: the next call of the handler is it
_timer: threading.Timer | None = None


def _in_extension_init(frame) -> bool:
    """Whether the main thread is initialising a C extension module: the frame or one of
    its callers is an ``ExtensionFileLoader``'s ``create_module`` or ``exec_module``."""
    while frame is not None:
        if frame.f_code.co_name in ("create_module", "exec_module") and isinstance(
            frame.f_locals.get("self"), importlib.machinery.ExtensionFileLoader
        ):
            return True
        frame = frame.f_back
    return False


def _count_and_raise(signum, frame) -> None:
    """Python's default SIGINT handler, counting, and holding the signal back while a C
    extension module initialises: a KeyboardInterrupt raised there (numpy's and jaxlib's
    initialisation call back into Python) broke the import ("numpy.core.multiarray failed
    to import", exit 1) or aborted the process (exit -6) where a Ctrl-C 0.28-0.38 s
    after start should end with one line (measured 2026-11-30). It is delivered again
    every ``DEFER_S`` until that initialisation is done (a fraction of a second).
    Holding it back through every import instead delayed a Ctrl-C at start-up by the
    3-6 s the command's imports take on a busy machine."""
    global _received, _redelivering
    with _lock:
        again, _redelivering = _redelivering, False
        if again and not (_active and _received > _acknowledged):
            return  # a redelivery of a Ctrl-C handled since it fired
        if not again:
            _received += 1
    if _active and _in_extension_init(frame):
        redeliver_soon(DEFER_S)
        return
    raise KeyboardInterrupt


def _redeliver() -> None:
    """The timer's work: SIGINT to the main thread, if the Ctrl-C is still unhandled."""
    global _pending, _redelivering
    with _lock:
        _pending = False
        if _active and _received > _acknowledged:
            _redelivering = True
            _thread.interrupt_main(signal.SIGINT)


def redeliver_soon(delay_s: float) -> None:
    """Deliver SIGINT to the main thread again in ``delay_s`` seconds, from a timer
    thread (raised at once, where it was held back or swallowed, it would be lost
    again), unless :func:`acknowledge` comes first; one pending delivery at a time."""
    global _pending, _timer
    with _lock:
        if _pending or not _active:
            return
        _pending = True
        _timer = threading.Timer(delay_s, _redeliver)
        _timer.daemon = True
        _timer.start()


def swallowed() -> None:
    """A KeyboardInterrupt was dropped where Python cannot raise it (a garbage-collector
    callback, a ``__del__``): count it as lost, if its signal was not counted, and
    deliver it again."""
    global _received
    with _lock:
        if not _active:
            return
        if _received == _acknowledged:
            _received += 1
    redeliver_soon(0.01)


def _cancel() -> None:
    global _pending
    with _lock:
        _pending = False
        if _timer is not None:
            _timer.cancel()


@contextlib.contextmanager
def counting() -> Iterator[None]:
    """Count SIGINTs while the block runs, holding them back while a C extension module
    initialises (only where Python's own handler is in place, in the main thread: a
    signal that is ignored or handled by the calling program stays as it is)."""
    global _active
    ours = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    if not ours:
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, _count_and_raise)
        with _lock:
            _active = True
            acknowledge()  # a Ctrl-C of an earlier command is not this one's
        yield
    finally:
        try:
            try:
                signal.signal(signal.SIGINT, previous)
            except KeyboardInterrupt:
                # Python ran a pending handler (ours) before swapping: swap now, then
                # let the Ctrl-C end the command
                signal.signal(signal.SIGINT, previous)
                raise
        finally:
            with _lock:
                _active = False
            _cancel()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def acknowledge() -> None:
    """Every Ctrl-C so far has reached code that handles it (a pending redelivery is
    cancelled, or dropped if it has fired)."""
    global _acknowledged
    if not _main_thread():
        return
    with _lock:
        _acknowledged = _received
    _cancel()


def lost() -> bool:
    """Whether a Ctrl-C arrived, inside :func:`counting`, that no handling code
    acknowledged (always ``False`` outside it, and in other threads)."""
    with _lock:
        return _active and _main_thread() and _received > _acknowledged


def raise_if_lost() -> None:
    """Raise ``KeyboardInterrupt`` again for a Ctrl-C that was swallowed since the last
    acknowledgement; call it only where a ``KeyboardInterrupt`` is handled safely."""
    if lost():
        acknowledge()
        raise KeyboardInterrupt
