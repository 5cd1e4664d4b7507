"""Connecting to NATS the same way in every service: any server of a comma-separated list,
reconnecting forever, and a first connection retried (nats-py does not retry it), so the
order in which services and NATS start does not matter.

On a cluster's rolling restart a server about to stop says so (lame duck mode): the client
moves to another server at once instead of waiting to be cut off, and whatever it publishes
meanwhile waits in its buffer and goes out on the new server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import structlog
from nats.aio.client import Client as NATS

log = structlog.get_logger(__name__)
Callback = Callable[[], Awaitable[None]]
DRAIN_TIMEOUT = 5  # seconds a stop waits for subscriptions to drain before closing


@dataclass(frozen=True)
class Auth:
    """User and password, or a creds file; applies to every server, discovered ones too."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    creds: str | None = None

    def options(self) -> dict[str, Any]:
        if self.creds is not None:
            return {"user_credentials": self.creds}
        if self.user is not None:
            return {"user": self.user, "password": self.password}
        return {}


NO_AUTH = Auth()


def servers(url: str) -> list[str]:
    """`nats://a:4222,nats://b:4222` → both: any of them will do, the rest are fallbacks."""
    return [part.strip() for part in url.split(",") if part.strip()]


def redacted(url: str) -> str:
    """The servers of `url` without any user or password in them, for logs."""
    return ",".join(_without_userinfo(server) for server in servers(url))


def _without_userinfo(server: str) -> str:
    parts = urlsplit(server if "://" in server else f"nats://{server}")
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def options(
    nc: NATS,
    url: str,
    *,
    name: str,
    auth: Auth = NO_AUTH,
    on_disconnect: Callback | None = None,
    on_reconnect: Callback | None = None,
) -> dict[str, Any]:
    """`nc.connect` keyword arguments: reconnect forever, log what happens, leave lame ducks."""

    async def disconnected() -> None:
        if not nc.is_closed:  # a close is no news
            log.warning("nats disconnected")
        if on_disconnect is not None:
            await on_disconnect()

    async def reconnected() -> None:
        log.info("nats reconnected", server=_server(nc))
        if on_reconnect is not None:
            await on_reconnect()

    async def error(exc: Exception) -> None:
        log.warning("nats error", error=type(exc).__name__)

    async def lame_duck() -> None:
        log.info("nats server in lame duck mode: moving to another", server=_server(nc))
        await nc.force_reconnect()

    return {
        "servers": servers(url),
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "connect_timeout": 2,
        "allow_reconnect": True,
        "drain_timeout": DRAIN_TIMEOUT,
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
        "error_cb": error,
        "lame_duck_mode_cb": lame_duck,
        **auth.options(),
    }


def _server(nc: NATS) -> str | None:
    url = nc.connected_url
    return f"{url.hostname}:{url.port}" if url is not None else None


async def connect(
    url: str,
    *,
    name: str,
    auth: Auth = NO_AUTH,
    deadline: float = 30.0,
    on_disconnect: Callback | None = None,
    on_reconnect: Callback | None = None,
) -> NATS:
    nc = NATS()
    kwargs = options(
        nc, url, name=name, auth=auth, on_disconnect=on_disconnect, on_reconnect=on_reconnect
    )
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while True:
        try:
            await nc.connect(**kwargs)
            return nc
        except Exception as exc:
            if loop.time() > until:
                raise
            log.warning("waiting for NATS", error=type(exc).__name__)
            await asyncio.sleep(0.5)


async def connect_in_background(
    url: str,
    *,
    name: str,
    auth: Auth = NO_AUTH,
    wait: float = 5.0,
    on_reconnect: Callback | None = None,
) -> tuple[NATS, asyncio.Task[None]]:
    """A client whose first connection is retried forever in a task (awaited up to `wait`
    seconds): a process that answers without NATS (503s, health) starts before NATS does."""
    nc = NATS()
    kwargs = options(nc, url, name=name, auth=auth, on_reconnect=on_reconnect)

    async def first_connect() -> None:
        while True:
            try:
                await nc.connect(**kwargs)
                return
            except Exception as exc:
                log.warning("waiting for NATS", error=type(exc).__name__)
                await asyncio.sleep(1)

    task = asyncio.create_task(first_connect())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), wait)
    return nc, task


async def close(nc: NATS) -> None:
    """Drain, or just close when NATS is away (reconnecting) or the drain times out."""
    try:
        await nc.drain()
    except Exception:
        with contextlib.suppress(Exception):
            await nc.close()
