"""Integration fixtures: the threads service's parts against the real database and NATS."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest_asyncio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.subjects import CHAT_CONTEXT_PUSH_FILTER
from devstack.nats import start_nats
from tests.support.adapters import close_all
from tests.support.servers import Infra, free_port
from threads.bootstrap import running_service
from threads.config import Settings
from threads.service import ThreadsService
from threads.store.relay import RELAY_LOCK_KEY
from threads.streams import provision_events_stream


@pytest_asyncio.fixture
async def nc(infra: Infra) -> AsyncIterator[Client]:
    client = await nats.connect(infra.nats_url)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def js(nc: Client) -> JetStreamContext:
    context = nc.jetstream()
    await provision_events_stream(context, Settings())
    return context


@pytest_asyncio.fixture(autouse=True)
async def _close_adapters() -> AsyncIterator[None]:
    """Provider adapters a test built (`tests.support.adapters.closing`) close when it ends."""
    yield
    await close_all()


@dataclass
class Wired:
    """The threads service as `threads serve` runs it (`bootstrap.running_service`), on a NATS
    server of its own, and what a listener heard of the chat-context pushes and the thread
    events (core NATS, in the order they were published)."""

    service: ThreadsService
    nats_url: str
    nc: Client
    heard: list[Msg]


@pytest_asyncio.fixture
async def relay_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """The relay lock held throughout: a test's own threads service then relays only its own
    commands' events (the fast path), never the shared outbox to its own NATS server."""
    lock_holder = await engine.connect()
    await lock_holder.execute(select(func.pg_advisory_lock(RELAY_LOCK_KEY)))
    try:
        yield
    finally:
        await lock_holder.execute(select(func.pg_advisory_unlock(RELAY_LOCK_KEY)))
        await lock_holder.close()


@pytest_asyncio.fixture
async def wired(
    tmp_path: Path, database_url: str, engine: AsyncEngine, relay_lock: None
) -> AsyncIterator[Wired]:
    # A server of its own: on the session's, the session stack's worker would answer these
    # requests.
    server = start_nats(
        tmp_path / "nats", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    settings = Settings(database_url=database_url, nats_url=server.url)
    try:
        listener = await nats.connect(server.url)
        try:
            heard: list[Msg] = []

            async def hear(msg: Msg) -> None:
                heard.append(msg)

            await listener.subscribe(CHAT_CONTEXT_PUSH_FILTER, cb=hear)
            await listener.subscribe("events.thread.>", cb=hear)
            await listener.flush()
            async with running_service(settings, engine=engine) as service:
                yield Wired(service, server.url, service.nc, heard)
        finally:
            await listener.close()
    finally:
        server.stop()
