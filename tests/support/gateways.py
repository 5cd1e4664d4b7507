"""A gateway process of its own, for tests that need settings the session's stack does not
have (low limits, a short timeout) or a NATS that is not there. On the session's NATS it
shares the session's threads service and chat workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.stack import ServiceProcess, executable, service_env, wait_ready


@contextmanager
def lone_gateway(log_dir: Path, nats_url: str, *, ready: bool, **env: str) -> Iterator[str]:
    """Its base URL once /readyz answers 200 (`ready`: NATS and the threads service are
    there) or else once /healthz does; stopped on exit."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    gateway = ServiceProcess(
        "gateway",
        [executable("switchboard-gateway")],
        service_env(
            {
                "GATEWAY_NATS_URL": nats_url,
                "GATEWAY_PORT": str(port),
                "GATEWAY_ARGON2_MEMORY_KIB": "1024",
                "GATEWAY_ARGON2_TIME_COST": "1",
                "PYTHONUNBUFFERED": "1",
                **env,
            }
        ),
        log_dir / f"gateway-{port}.log",
    )
    gateway.start()
    try:
        if ready:
            wait_ready(base_url, [gateway])
        else:
            _wait_healthy(base_url, gateway)
        yield base_url
    finally:
        gateway.stop()


def _wait_healthy(base_url: str, gateway: ServiceProcess, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not gateway.alive():
            raise RuntimeError(f"gateway exited early:\n{gateway.log_tail()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(gateway.log_tail())
