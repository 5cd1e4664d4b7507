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
