"""Stream and consumer setup that waits out a JetStream cluster electing its leaders.

While a cluster starts, or right after a server holding a leader went away, the JetStream API
answers "no responders", times out, or says there is no meta leader or not enough servers yet
(503s): none of that is a misconfiguration, so setup tries again, bounded, saying why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, NotFoundError, ServiceUnavailableError

log = structlog.get_logger(__name__)
T = TypeVar("T")
RETRY_EVERY = 0.5  # seconds between tries


def electing(exc: BaseException) -> bool:
    """Is this what a cluster without its leaders answers?"""
    if isinstance(exc, NotFoundError):
        return False  # a real answer: the caller decides
    if isinstance(
        exc, (NoRespondersError, NatsTimeoutError, TimeoutError, ServiceUnavailableError)
    ):
        return True
    if isinstance(exc, APIError):
        text = (exc.description or "").lower()
        return exc.code == 503 or "leader" in text or "insufficient resources" in text
    return False


async def while_electing(what: str, attempt: Callable[[], Awaitable[T]], timeout: float) -> T:
    """`attempt()` until it gives a real answer, for at most `timeout` seconds."""
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not electing(exc) or loop.time() > until:
                raise
            log.warning("waiting for the JetStream cluster", step=what, error=_why(exc))
            await asyncio.sleep(RETRY_EVERY)


def _why(exc: BaseException) -> str:
    description = getattr(exc, "description", None)
    return f"{type(exc).__name__}: {description}" if description else type(exc).__name__
