"""Publishes a committed command's announcements on core NATS (see `HandlerContext.announce`).

An announcement is a hint, never the record: nobody may be listening, and a lost one only
costs its listener the round trip it would have saved. It goes out before the command's
events: the unit of work calls this hook before the relay's, each schedules one task, and
asyncio runs tasks in the order they were scheduled, so on the one NATS connection the
announcement's PUB precedes the events' (a worker has PostChat's context before its request).
"""

from __future__ import annotations

import asyncio

import structlog
from nats.aio.client import Client as NATS

from threads.store.unit_of_work import Announce

log = structlog.get_logger(__name__)


def announcer(nc: NATS) -> Announce:
    in_flight: set[asyncio.Task[None]] = set()

    async def publish(items: list[tuple[str, bytes]]) -> None:
        try:
            for subject, payload in items:
                await nc.publish(subject, payload)
        except Exception as exc:  # NATS away: the listener asks instead
            log.info("announcement not published", error=type(exc).__name__)

    def announce(items: list[tuple[str, bytes]]) -> None:
        task = asyncio.create_task(publish(items))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    return announce
