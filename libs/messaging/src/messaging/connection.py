"""Connecting to NATS the same way in every service: any server of a comma-separated list,
reconnecting forever, and a first connection retried (nats-py does not retry it), so the
order in which services and NATS start does not matter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.client import Client as NATS

log = structlog.get_logger(__name__)
Callback = Callable[[], Awaitable[None]]
DRAIN_TIMEOUT = 5  # seconds a stop waits for subscriptions to drain before closing


def servers(url: str) -> list[str]:
    """`nats://a:4222,nats://b:4222` → both: any of them will do, the rest are fallbacks."""
    return [part.strip() for part in url.split(",") if part.strip()]


async def connect(
    url: str,
    *,
    name: str,
    deadline: float = 30.0,
    on_disconnect: Callback | None = None,
    on_reconnect: Callback | None = None,
) -> NATS:
    nc = NATS()

    async def disconnected() -> None:
        if not nc.is_closed:  # a close is no news
            log.warning("nats disconnected")
        if on_disconnect is not None:
            await on_disconnect()

    async def reconnected() -> None:
        log.info("nats reconnected")
        if on_reconnect is not None:
            await on_reconnect()

    async def error(exc: Exception) -> None:
        log.warning("nats error", error=type(exc).__name__)

    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while True:
        try:
            await nc.connect(
                servers(url),
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                connect_timeout=2,
                allow_reconnect=True,
                drain_timeout=DRAIN_TIMEOUT,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
            return nc
        except Exception as exc:
            if loop.time() > until:
                raise
            log.warning("waiting for NATS", error=type(exc).__name__)
            await asyncio.sleep(0.5)


async def close(nc: NATS) -> None:
    """Drain, or just close when NATS is away (reconnecting) or the drain times out."""
    try:
        await nc.drain()
    except Exception:
        with contextlib.suppress(Exception):
            await nc.close()
