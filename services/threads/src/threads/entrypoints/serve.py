"""Runs the threads service until SIGINT/SIGTERM: NATS routes, the EVENTS stream, the relay.

The FastStream broker owns the NATS connection (connect, reconnect, drain); the routes are
served on it with nats-py (see `request_server`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

import structlog
from faststream.nats import NatsBroker
from nats.errors import Error as NatsError

from contracts.subjects import THREADS_QUEUE
from observability.metrics import serve_metrics
from threads.bootstrap import build_service
from threads.config import Settings
from threads.entrypoints.nats_routes import build_routes
from threads.entrypoints.request_server import RequestServer
from threads.store.announcer import announcer
from threads.store.relay import OutboxRelay
from threads.streams import provision_events_stream

log = structlog.get_logger(__name__)


async def connect_broker(broker: NatsBroker, deadline: float = 30.0) -> None:
    """nats-py does not retry a first connection; we do, so start order does not matter."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while True:
        try:
            await broker.start()
            return
        except Exception as exc:
            if loop.time() > until:
                raise
            log.warning("waiting for NATS", error=type(exc).__name__)
            await asyncio.sleep(0.5)


def make_broker(settings: Settings, name: str) -> NatsBroker:
    return NatsBroker(
        settings.nats_url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=2,
        drain_timeout=5,  # a stop never waits on a stuck subscription past this
        # FastStream logs "Received"/"Processed" for every message at the level given here;
        # at INFO that is ~1 ms of CPU per command. Our own handlers log what matters.
        log_level=logging.DEBUG,
    )


async def serve(settings: Settings) -> None:
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, settings.metrics_host)
    service = build_service(settings)
    broker = make_broker(settings, "threads")
    await connect_broker(broker)
    server = RequestServer(broker.connection, build_routes(service), THREADS_QUEUE)
    js = broker.connection.jetstream()
    await provision_events_stream(js)
    relay = OutboxRelay(
        service.engine,
        js,
        batch_size=settings.relay_batch_size,
        poll_interval=settings.relay_poll_interval,
        publish_timeout=settings.nats_timeout,
    )
    service.relay = relay
    service.uow.on_announce = announcer(broker.connection)  # before the relay's: see there
    service.uow.on_commit = relay.relay_committed
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
    await server.start()
    gc.freeze()  # startup objects out of the collector's way: shorter full collections

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("threads service ready", nats=settings.nats_url)
    await stop.wait()
    log.info("threads service stopping")
    await server.stop()
    with contextlib.suppress(Exception):
        await relay.flush()
    relay_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay_task
    try:
        await broker.stop()  # drains the connection
    except NatsError:  # NATS away (reconnecting), or the drain timed out: just close
        with contextlib.suppress(Exception):
            await broker.connection.close()
    await service.engine.dispose()
