"""The supervisor's stop flag is set from a signal handler while the main thread waits on it:
the wait must end promptly (threading.Event could deadlock here: its set() takes the lock the
interrupted wait() holds)."""

from __future__ import annotations

import signal
import time

from devstack.flag import Flag


def test_flag_set_by_a_signal_during_wait_ends_the_wait() -> None:
    flag = Flag()
    previous = signal.signal(signal.SIGALRM, lambda *_: flag.set())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        started = time.monotonic()
        assert flag.wait(5.0) is True
        assert time.monotonic() - started < 4.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_wait_times_out_when_nobody_sets_it() -> None:
    flag = Flag()
    assert flag.wait(0.1) is False
    assert not flag.is_set()


def test_one_ctrl_c_delivered_twice_stops_politely_and_a_second_one_hurries() -> None:
    """The terminal and `uv run` both deliver one Ctrl-C: that is one stop request, not the
    "kill at once" a second Ctrl-C asks for."""
    from devstack.up import StopRequest

    now = [100.0]
    stop = StopRequest(clock=lambda: now[0])
    stop._handle(signal.SIGINT, None)
    now[0] += 0.01
    stop._handle(signal.SIGINT, None)  # the same Ctrl-C, forwarded
    assert stop.requested.is_set() and not stop.hurry.is_set()
    assert stop.received == ["SIGINT"]
    now[0] += 2.0
    stop._handle(signal.SIGINT, None)  # the user presses again
    assert stop.hurry.is_set()
