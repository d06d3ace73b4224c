"""bayesff.interrupts: Ctrl-C counted, held back, raised again, acknowledged.

The CLI's behaviour (exit 130, one line) is tested in tests/test_reliability_round2.py;
these are the module's own contracts.
"""

from __future__ import annotations

import signal
import time

import pytest

from bayesff import interrupts


def _wait(seconds: float) -> None:
    for _ in range(int(seconds / 0.01)):
        time.sleep(0.01)


def _swallow() -> None:
    try:
        signal.raise_signal(signal.SIGINT)
        _wait(0.2)
    except KeyboardInterrupt:
        pass  # a library that drops it


def test_a_swallowed_ctrl_c_is_raised_at_the_next_safe_point(python_sigint):
    with interrupts.counting():
        _swallow()
        assert interrupts.lost()
        with pytest.raises(KeyboardInterrupt):
            interrupts.raise_if_lost()
        assert not interrupts.lost()
        interrupts.raise_if_lost()  # once only


def test_a_handled_ctrl_c_is_not_raised_again(python_sigint):
    with interrupts.counting():
        try:
            signal.raise_signal(signal.SIGINT)
            _wait(0.2)
        except KeyboardInterrupt:
            interrupts.acknowledge()  # the code that handles it
        interrupts.raise_if_lost()
        assert not interrupts.lost()


def test_acknowledging_cancels_a_pending_redelivery(python_sigint):
    """A redelivery still pending when the Ctrl-C is handled would land inside the
    handling code (a checkpoint being saved): acknowledging cancels it."""
    with interrupts.counting():
        interrupts.redeliver_soon(0.1)
        interrupts.acknowledge()
        _wait(0.4)  # a KeyboardInterrupt here fails the test


def test_a_redelivery_not_acknowledged_arrives(python_sigint):
    with interrupts.counting(), pytest.raises(KeyboardInterrupt):
        _swallow()
        interrupts.redeliver_soon(0.05)
        _wait(2.0)


def test_a_redelivery_with_nothing_lost_is_not_sent(python_sigint):
    with interrupts.counting():
        interrupts.redeliver_soon(0.05)
        _wait(0.3)  # a KeyboardInterrupt here fails the test


def test_a_redelivery_that_fired_before_the_acknowledgement_is_dropped(python_sigint):
    """The timer thread may have sent SIGINT just before the main thread acknowledged
    the Ctrl-C (Timer.cancel cannot stop it then): the handler drops that delivery, so it
    does not land in the code handling the Ctrl-C."""
    with interrupts.counting():
        _swallow()
        with interrupts._lock:  # the timer's work, as if it had just fired
            interrupts._redelivering = True
        interrupts.acknowledge()
        interrupts._count_and_raise(signal.SIGINT, None)  # returns: dropped
        assert not interrupts.lost()
        with pytest.raises(KeyboardInterrupt):  # a new Ctrl-C is not
            interrupts._count_and_raise(signal.SIGINT, None)


def test_a_keyboardinterrupt_dropped_by_a_gc_callback_counts_as_lost(python_sigint):
    """What the CLI's unraisable hook reports (a KeyboardInterrupt raised inside a
    garbage-collector callback, counted or not) is lost, and delivered again."""
    with interrupts.counting(), pytest.raises(KeyboardInterrupt):
        interrupts.swallowed()
        assert interrupts.lost()
        _wait(2.0)


def test_a_sigint_pending_when_the_command_ends_still_restores_the_handler(python_sigint):
    """Python runs a pending handler before signal.signal swaps it: a Ctrl-C at the very
    end of a command ended it, and the restore never happened (review, 2026-11-30)."""
    real = signal.signal
    calls = []

    def pending_on_restore(signum, handler):
        calls.append(handler)
        if handler is signal.default_int_handler and calls.count(handler) == 1:
            raise KeyboardInterrupt  # the pending Ctrl-C, run before the swap
        return real(signum, handler)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(signal, "signal", pending_on_restore)
        with pytest.raises(KeyboardInterrupt), interrupts.counting():
            pass
    assert calls.count(signal.default_int_handler) == 2  # tried again after the Ctrl-C
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupts.lost()


def test_outside_a_command_nothing_is_counted(python_sigint):
    """bayesff used as a library: the calling program owns SIGINT; the handler is
    Python's, and a Ctrl-C it swallows is its business."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    try:
        signal.raise_signal(signal.SIGINT)
        _wait(0.2)
    except KeyboardInterrupt:
        pass
    interrupts.raise_if_lost()
    assert not interrupts.lost()


def test_the_handler_is_restored_after_the_command(python_sigint):
    with interrupts.counting():
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
