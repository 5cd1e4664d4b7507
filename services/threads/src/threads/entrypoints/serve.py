"""Runs the threads service until SIGINT/SIGTERM: what `bootstrap.running_service` wires, with
the Prometheus endpoint beside it."""

from __future__ import annotations

import asyncio
import gc
import signal

import structlog

from messaging.connection import redacted
from observability.metrics import serve_metrics
from threads.bootstrap import running_service
from threads.config import Settings

log = structlog.get_logger(__name__)


async def serve(settings: Settings) -> None:
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, settings.metrics_host)
    async with running_service(settings):
        gc.freeze()  # startup objects out of the collector's way: shorter full collections
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("threads service ready", nats=redacted(settings.nats_url))
        await stop.wait()
        log.info("threads service stopping")
