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

from contracts.subjects import CHAT_CONTEXT_PUSH_FILTER, THREADS_QUEUE
from devstack.nats import start_nats
from tests.support.adapters import close_all
from tests.support.servers import Infra, free_port
from threads.bootstrap import build_service
from threads.config import Settings
from threads.entrypoints.nats_routes import build_routes
from threads.entrypoints.request_server import RequestServer
from threads.service import ThreadsService
from threads.store.announcer import announcer
from threads.store.relay import RELAY_LOCK_KEY, OutboxRelay
from threads.streams import provision_events_stream


@pytest_asyncio.fixture
async def nc(infra: Infra) -> AsyncIterator[Client]:
    client = await nats.connect(infra.nats_url)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def js(nc: Client) -> JetStreamContext:
    context = nc.jetstream()
    await provision_events_stream(context)
    return context


@pytest_asyncio.fixture(autouse=True)
async def _close_adapters() -> AsyncIterator[None]:
    """Provider adapters a test built (`tests.support.adapters.closing`) close when it ends."""
    yield
    await close_all()


@dataclass
class Wired:
    """A threads service serving its subjects on a NATS server of its own, its commit hooks
    wired as `threads serve` wires them, and what a listener heard of the chat-context pushes
    and the thread events (core NATS, in the order they were published)."""

    service: ThreadsService
    nats_url: str
    nc: Client
    heard: list[Msg]


@pytest_asyncio.fixture
async def wired(tmp_path: Path, database_url: str, engine: AsyncEngine) -> AsyncIterator[Wired]:
    # A server of its own, and the relay lock held throughout: the session stack's worker would
    # otherwise answer these requests, which its relay would publish from the shared outbox.
    lock_holder = await engine.connect()
    await lock_holder.execute(select(func.pg_advisory_lock(RELAY_LOCK_KEY)))
    server = start_nats(
        tmp_path / "nats", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    nc = await nats.connect(server.url)
    listener = await nats.connect(server.url)
    requests: RequestServer | None = None
    relay: OutboxRelay | None = None
    try:
        js = nc.jetstream()
        await provision_events_stream(js)
        service = build_service(Settings(database_url=database_url, nats_url=server.url), engine)
        relay = OutboxRelay(engine, js)
        service.uow.on_announce = announcer(nc)
        service.uow.on_commit = relay.relay_committed
        requests = RequestServer(nc, build_routes(service), THREADS_QUEUE)
        await requests.start()
        heard: list[Msg] = []

        async def hear(msg: Msg) -> None:
            heard.append(msg)

        await listener.subscribe(CHAT_CONTEXT_PUSH_FILTER, cb=hear)
        await listener.subscribe("events.thread.>", cb=hear)
        await listener.flush()
        yield Wired(service, server.url, nc, heard)
    finally:
        if requests is not None:
            await requests.stop()
        if relay is not None:
            await relay.flush()
        await listener.close()
        await nc.close()
        server.stop()
        await lock_holder.execute(select(func.pg_advisory_unlock(RELAY_LOCK_KEY)))
        await lock_holder.close()
