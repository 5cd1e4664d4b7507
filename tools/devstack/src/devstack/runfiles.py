"""Pid files under the data folder: one supervisor per folder, and no orphans after a `kill -9`.

The children run in their own sessions (so Ctrl-C reaches only the supervisor, which stops them in
order); the price is that they outlive a supervisor killed with SIGKILL. We record each child's
pid and start time, and the next run stops the ones still there before it starts anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import psutil

from devstack.console import Console
from devstack.supervised import Supervised


class RunFiles:
    def __init__(self, data_dir: Path) -> None:
        self.pidfile = data_dir / "devstack.pid"
        self.childfile = data_dir / "devstack.children.json"
        self._children: dict[str, dict[str, float | int]] = {}

    def running_supervisor(self) -> int | None:
        """The pid of another live supervisor using this data folder, if any."""
        try:
            pid = int(self.pidfile.read_text().strip())
            process = psutil.Process(pid)
            cmdline = " ".join(process.cmdline())
        except (OSError, ValueError, psutil.Error):
            return None
        if pid != os.getpid() and ("switchboard-up" in cmdline or "devstack" in cmdline):
            return pid
        return None

    def claim(self) -> None:
        self.pidfile.write_text(f"{os.getpid()}\n")

    def release(self) -> None:
        self.pidfile.unlink(missing_ok=True)
        self.childfile.unlink(missing_ok=True)

    def record(self, member: Supervised) -> None:
        if member.process is None:
            return
        try:
            started = psutil.Process(member.process.pid).create_time()
        except psutil.Error:
            return
        self._children[member.name] = {
            "pid": member.process.pid,
            "create_time": started,
            "signal": int(member.stop_signal),
        }
        tmp = self.childfile.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._children, indent=1))
        tmp.replace(self.childfile)

    def stop_leftovers(self, console: Console, timeout: float) -> None:
        """Stop children of an earlier supervisor that died without stopping them."""
        try:
            recorded = json.loads(self.childfile.read_text())
        except (OSError, ValueError):
            return
        leftovers: list[psutil.Process] = []
        for name, entry in recorded.items():
            try:
                process = psutil.Process(int(entry["pid"]))
                if abs(process.create_time() - float(entry["create_time"])) > 0.01:
                    continue  # the pid was reused by something else
                console.say(f"stopping leftover {name} (pid {process.pid}) of an earlier run")
                process.send_signal(signal.Signals(int(entry["signal"])))
                leftovers.append(process)
            except (psutil.Error, KeyError, ValueError, TypeError):
                continue
        _, alive = psutil.wait_procs(leftovers, timeout=timeout)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.childfile.unlink(missing_ok=True)
