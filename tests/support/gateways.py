"""A gateway process of its own, for tests that need settings the session's stack does not
have (low limits, a short timeout) or a NATS that is not there. On the session's NATS it
shares the session's threads service and chat workers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import Infra
from tests.support.stack import start_stack


@contextmanager
def lone_gateway(log_dir: Path, nats_url: str, *, ready: bool, **env: str) -> Iterator[str]:
    """Its base URL once /readyz answers 200 (`ready`: NATS and the threads service are
    there) or else once /healthz does; stopped on exit."""
    stack = start_stack(
        Infra("", nats_url), None, log_dir, workers=0, threads=0, extra_env=env, ready=ready
    )
    try:
        yield stack.base_url
    finally:
        stack.stop()
