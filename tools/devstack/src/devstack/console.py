"""One terminal for many processes: every line is prefixed `name | `, whole lines never interleave.

Each child's merged stdout/stderr is read by a daemon thread, so a chatty child never blocks on a
full pipe and a quiet one costs nothing.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import IO, TextIO

_COLORS = ("36", "33", "32", "35", "34", "91", "96", "93", "92", "95")
_OWN = "1"  # bold, for the supervisor's own lines


class Console:
    def __init__(self, *, width: int, color: bool, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._width = width
        self._color = color
        self._lock = threading.Lock()
        self._palette: dict[str, str] = {}
        self._pumps: list[threading.Thread] = []

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self._width}} |"
        if self._color:
            prefix = f"\033[{self._color_of(name)}m{prefix}\033[0m"
        with self._lock:
            self._stream.write(f"{prefix} {text}\n")
            self._stream.flush()

    def say(self, text: str) -> None:
        """A line from the supervisor itself."""
        self.line("devstack", text)

    def follow(self, name: str, process: subprocess.Popen[bytes]) -> threading.Thread:
        """Copy the process's output, line by line, until it closes its end of the pipe."""
        if process.stdout is None:
            raise ValueError(f"{name}: start the process with stdout=PIPE to follow it")
        thread = threading.Thread(
            target=self._pump, args=(name, process.stdout), name=f"log-{name}", daemon=True
        )
        thread.start()
        self._pumps = [t for t in self._pumps if t.is_alive()] + [thread]
        return thread

    def drain(self, timeout: float) -> None:
        """Let the pumps of exited processes print their last lines (at most `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._pumps):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _pump(self, name: str, pipe: IO[bytes]) -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                self.line(name, raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    def _color_of(self, name: str) -> str:
        if name == "devstack":
            return _OWN
        kind = name.split(".", 1)[0]
        if kind not in self._palette:
            self._palette[kind] = _COLORS[len(self._palette) % len(_COLORS)]
        return self._palette[kind]


def wants_color(setting: str, stream: TextIO | None = None) -> bool:
    if setting != "auto":
        return setting == "always"
    return (stream if stream is not None else sys.stdout).isatty()
