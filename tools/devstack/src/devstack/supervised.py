"""A named child process kept alive: when it dies it is started again after a doubling backoff."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable

from devstack.console import Console

Spawn = Callable[[], "subprocess.Popen[bytes]"]
OnSpawn = Callable[["Supervised"], None]

STABLE_AFTER = 30.0  # seconds alive after which a crash is news again: the backoff starts over


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Supervised:
    def __init__(
        self,
        name: str,
        spawn: Spawn,
        *,
        console: Console,
        stop_signal: signal.Signals = signal.SIGTERM,
        signal_group: bool = True,
        backoff: float = 0.5,
        backoff_max: float = 10.0,
        on_spawn: OnSpawn | None = None,
    ) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.stopping = False
        self._spawn = spawn
        self._console = console
        self._signal_group = signal_group  # services get their own session: signal all of it
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._delay = backoff
        self._due: float | None = None
        self._started_at = 0.0
        self._on_spawn = on_spawn

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> bool:
        """Spawn now; on failure say why and schedule another try."""
        self._due = None
        self._started_at = time.monotonic()
        try:
            self.process = self._spawn()
        except Exception as exc:
            self.process = None
            self._console.say(f"{self.name} could not start: {exc}")
            self._schedule()
            return False
        if self._on_spawn is not None:
            self._on_spawn(self)
        again = f", restart #{self.restarts}" if self.restarts else ""
        self._console.say(f"{self.name} started (pid {self.process.pid}{again})")
        return True

    def check(self) -> None:
        """Called from the supervisor's loop: notice a death, restart when the backoff is over."""
        if self.stopping:
            return
        now = time.monotonic()
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return
            self.process = None
            if now - self._started_at >= STABLE_AFTER:
                self._delay = self._backoff
            self._console.say(
                f"{self.name} {describe_exit(code)}; restarting in {self._delay:.1f}s"
            )
            self._schedule()
        elif self._due is not None and now >= self._due:
            self.restarts += 1
            self.start()

    def send(self, sig: signal.Signals) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            if self._signal_group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            pass

    def _schedule(self) -> None:
        self._due = time.monotonic() + self._delay
        self._delay = min(self._delay * 2, self._backoff_max)


def stop_all(
    members: list[Supervised], *, timeout: float, hurry: Callable[[], bool], console: Console
) -> None:
    """Ask politely (each its own stop signal), wait up to `timeout`, then SIGKILL stragglers."""
    for member in members:
        member.stopping = True
        member.send(member.stop_signal)
    deadline = time.monotonic() + timeout
    while any(m.alive for m in members) and time.monotonic() < deadline and not hurry():
        time.sleep(0.05)
    for member in members:
        if member.alive:
            console.say(f"{member.name} still running: SIGKILL")
            member.send(signal.SIGKILL)
    for member in members:
        if member.process is not None:
            member.process.wait()
