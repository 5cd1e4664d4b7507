"""Runs the chat worker until SIGINT/SIGTERM, then stops it cleanly: requests under way are
handed back for another worker, the connection drains (or closes, when NATS is away) and the
SDK clients close."""

from __future__ import annotations

import asyncio
import gc
import signal

import structlog

from chat_worker.bootstrap import bootstrap
from chat_worker.config import Settings
from messaging.connection import redacted

log = structlog.get_logger(__name__)


async def serve(settings: Settings) -> None:
    worker = await bootstrap(settings)
    await worker.start()
    # Everything built at start (modules, SDKs, clients) is moved out of the collector's way: a
    # full collection then walks only what answers allocate, not the startup objects.
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "chat worker ready",
        nats=redacted(settings.nats_url),
        concurrency=settings.concurrency,
        ack_wait=settings.effective_ack_wait,
    )
    await stop.wait()
    await worker.stop()
