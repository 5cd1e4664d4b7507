"""Integration fixtures: the threads service's parts against the real database and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest_asyncio
from nats.aio.client import Client
from nats.js import JetStreamContext

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
