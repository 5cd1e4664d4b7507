"""A stop flag that signal handlers can set safely."""

from __future__ import annotations

import time


class Flag:
    """An Event without a lock. A signal handler runs in the main thread between two bytecodes,
    possibly while that thread sits inside `threading.Event.wait()` holding the event's lock;
    `Event.set()` from the handler would then wait for that lock forever (seen: SIGTERM hung
    `make up`). Setting a plain attribute is safe; waiting polls it."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            remaining = 0.05 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(0.05, remaining))
        return True
