"""Runs the chat worker until SIGINT/SIGTERM: one FastStream broker, a router per handler,
and the consumer of answer requests (`handlers.generate_reply`, plain nats-py on the broker's
connection).

To add a handler, add its `build_router(worker)` to `ROUTERS`. Start order: connect, attach
the connection to the worker, provision TOKENS and the durable consumer, then start the
subscribers and the request consumer (so they bind to a consumer that already has the
configured settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable

import structlog
from faststream.nats import NatsBroker, NatsRouter
from nats.errors import Error as NatsError

from chat_worker.bootstrap import build_worker
from chat_worker.config import Settings
from chat_worker.handlers import cancel, context_push, exhausted, generate_reply, list_models
from chat_worker.streams import provision_consumer, provision_tokens_stream
from chat_worker.worker import Worker

log = structlog.get_logger(__name__)

RouterFactory = Callable[[Worker], NatsRouter]
# Every handler module of the worker; the model catalogue's router goes here too.
ROUTERS: list[RouterFactory] = [
    cancel.build_router,
    list_models.build_router,
]


def make_broker(
    settings: Settings, on_disconnect: Callable[[], Awaitable[None]] | None = None
) -> NatsBroker:
    return NatsBroker(
        settings.nats_url,
        disconnected_cb=on_disconnect,
        name="chat-worker",
        log_level=logging.DEBUG,  # one line per delivery is noise (and CPU) at INFO
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=2,
        drain_timeout=5,  # a stop never waits on a stuck subscription past this
    )


async def connect(broker: NatsBroker, deadline: float = 30.0) -> None:
    """nats-py does not retry a first connection; we do, so start order does not matter."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while True:
        try:
            await broker.connect()
            return
        except Exception as exc:
            if loop.time() > until:
                raise
            log.warning("waiting for NATS", error=type(exc).__name__)
            await asyncio.sleep(0.5)


def build_broker(worker: Worker, routers: list[RouterFactory] | None = None) -> NatsBroker:
    # Pushes and cancels sent while the connection is down are lost to this worker.
    broker = make_broker(worker.settings, on_disconnect=worker.pushed.forget_all)
    for factory in routers if routers is not None else ROUTERS:
        broker.include_router(factory(worker))
    return broker


async def serve(settings: Settings) -> None:
    worker = build_worker(settings)
    broker = build_broker(worker)
    await connect(broker)
    worker.attach(broker.connection)
    await provision_tokens_stream(worker.js, settings)
    await provision_consumer(worker.js, settings)
    await broker.start()
    await context_push.subscribe(worker)  # before requests are fetched
    await exhausted.subscribe(worker)
    requests = generate_reply.RequestConsumer(worker, worker.js)
    await requests.start()
    # Everything built at start (modules, SDKs, clients) is moved out of the collector's way: a
    # full collection then walks only what answers allocate, not ~1e6 startup objects.
    gc.freeze()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "chat worker ready",
        nats=settings.nats_url,
        concurrency=settings.concurrency,
        ack_wait=settings.effective_ack_wait,
    )
    await stop.wait()
    log.info("chat worker stopping", in_flight=len(worker.inflight))
    await requests.stop()
    try:
        await broker.stop()  # drains the connection
    except NatsError:  # NATS away (reconnecting), or the drain timed out: just close
        with contextlib.suppress(Exception):
            await broker.connection.close()
    await worker.registry.aclose()
