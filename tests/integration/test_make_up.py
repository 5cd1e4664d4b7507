"""`make up` end to end: the stack comes up, and one Ctrl-C stops every process politely.

A terminal sends Ctrl-C's SIGINT to the whole foreground process group, and `uv run` (which
`make up` goes through) forwards it once more: that is one stop request, so the services get
SIGTERM and their time to finish, Postgres its fast shutdown, NATS its SIGTERM, and nothing is
SIGKILLed (a killed Postgres recovers at the next start; a killed NATS rebuilds its index)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]


def test_make_up_then_one_ctrl_c_stops_everything_politely(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"),
        "SWITCHBOARD_PG_PORT": str(free_port()),
        "SWITCHBOARD_NATS_PORT": str(free_port()),
        "SWITCHBOARD_NATS_MONITOR_PORT": "0",
        "SWITCHBOARD_GATEWAY_PORT": str(free_port()),
        "SWITCHBOARD_COLOR": "never",
    }
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["make", "up"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        deadline = time.monotonic() + 120
        while "Switchboard is ready" not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.25)
        # A while running first: the worker's pull requests expire and are renewed meanwhile
        # (one left to expire mid-drain once held a stop past its timeout).
        time.sleep(6)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = log_path.read_text(errors="replace")
    assert "everything stopped" in out, out[-3000:]
    assert "SIGKILL" not in out, out[-3000:]
    assert "database system is shut down" in out, out[-3000:]
    assert "Server Exiting" in out, out[-3000:]  # nats-server's own last words
