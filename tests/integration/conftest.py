"""Integration fixtures: the threads service's parts against the real database and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest_asyncio
from nats.aio.client import Client
from nats.js import JetStreamContext

from tests.support.adapters import close_all
from tests.support.servers import Infra
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
