"""Say once, loudly, when the gateway's /readyz first answers 200: then the whole stack works."""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

from devstack.console import Console
from devstack.flag import Flag


def answers_ok(base_url: str, path: str = "/readyz", timeout: float = 1.0) -> bool:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def watch(
    base_url: str,
    *,
    started: float,
    stop: Flag,
    console: Console,
    patience: float,
) -> threading.Thread:
    """Poll in the background; warn once if it takes longer than `patience` seconds."""

    def run() -> None:
        warned = False
        while not stop.is_set():
            if answers_ok(base_url):
                took = time.monotonic() - started
                console.say(f"Switchboard is ready: {base_url} (took {took:.1f}s)")
                return
            if not warned and time.monotonic() - started > patience:
                console.say(f"{base_url}/readyz is still not 200 after {patience:.0f}s")
                warned = True
            stop.wait(0.25)  # each miss costs a warning in the gateway's log

    thread = threading.Thread(target=run, name="readiness", daemon=True)
    thread.start()
    return thread
