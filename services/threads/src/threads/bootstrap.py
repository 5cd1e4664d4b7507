"""Composition root of the threads service: the only place that picks and wires concrete parts.

`running_service` gives the service fully wired and running (`serve`, the integration tests);
the command line's other tools and the AsyncAPI document take the pieces they need from here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from messaging import connection
from messaging.routes import RouteTable
from messaging.server import RouteServer
from threads import chat_context_push
from threads.config import Settings
from threads.entrypoints.routes import build_routes
from threads.projections import Projector, default_projector
from threads.service import ThreadsService
from threads.store.relay import OutboxRelay
from threads.store.unit_of_work import UnitOfWork
from threads.streams import provision_events_stream
from threads.sweeper import Sweeper

log = structlog.get_logger(__name__)


def build_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        # A fixed set of connections: under a burst, work queues for one instead of opening
        # and closing overflow connections (each new one costs Postgres a process and the
        # service CPU), which makes bursts slower, not faster.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        # No ping before each use (a round trip on every command and query): a connection
        # found dead renews the pool and the command or query reruns once (unit_of_work).
        pool_pre_ping=False,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def build_replay_engine(settings: Settings) -> AsyncEngine:
    """Not the service's engine: its statement timeout would cut a large COPY or index build
    short. Two connections: the replay's own and its loader's."""
    return create_async_engine(
        settings.database_url, pool_size=2, max_overflow=1, connect_args={"timeout": 5}
    )


def build_projector() -> Projector:
    return default_projector()


def document_routes(settings: Settings) -> RouteTable:
    """The route table as the running service builds it, for the AsyncAPI document: nothing
    connects (an engine connects on first use, and this one is never used)."""
    engine = build_engine(settings)
    return build_routes(settings, engine, UnitOfWork(engine, build_projector()))


@contextlib.asynccontextmanager
async def running_service(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    projector: Projector | None = None,
) -> AsyncIterator[ThreadsService]:
    """Connect, provision EVENTS, wire the unit of work to the context push and the relay,
    serve every route; on exit, stop in the reverse order. An `engine` passed in stays open."""
    async with contextlib.AsyncExitStack() as stack:
        if engine is None:
            engine = build_engine(settings)
            stack.push_async_callback(engine.dispose)
        nc = await connection.connect(settings.nats_url, name="threads", auth=settings.nats_auth)
        stack.push_async_callback(connection.close, nc)
        js = nc.jetstream()
        await provision_events_stream(js, settings)
        relay = OutboxRelay(
            engine,
            js,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval,
            publish_timeout=settings.nats_timeout,
        )
        uow = UnitOfWork(
            engine,
            projector or build_projector(),
            retries=settings.command_retries,
            on_announce=chat_context_push.publisher(nc),  # before the relay's: see there
            on_commit=relay.relay_committed,
        )
        server = RouteServer(nc, build_routes(settings, engine, uow))
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        stack.push_async_callback(_stop_relay, relay, relay_task)
        sweeper = Sweeper(
            engine,
            js,
            uow,
            interval=settings.sweeper_interval,
            age=settings.sweeper_age,
            publish_timeout=settings.nats_timeout,
        )
        sweeper_task = asyncio.create_task(sweeper.run(), name="sweeper")
        stack.push_async_callback(_stop_task, sweeper_task)
        stack.push_async_callback(server.stop)
        await server.start()
        yield ThreadsService(settings, engine, uow, nc, relay, server)


async def _stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _stop_relay(relay: OutboxRelay, task: asyncio.Task[None]) -> None:
    """What the fast path has in flight goes out first; the loop then stops."""
    with contextlib.suppress(Exception):
        await relay.flush()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
