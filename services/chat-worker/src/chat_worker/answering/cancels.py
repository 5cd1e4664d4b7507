"""The answers this process is generating now, so a cancel can reach the right one.

Every worker hears every GenerationCancelled (core NATS on the relayed events, `hear`), and
stops the answer if it runs here. A cancel is cooperative: the generation loop sees the flag
(and a wake-up in its queue) and stops between two deltas, so what was published is exactly
what gets stored. A cancel recorded before any worker picked the request up is not lost
either: the asked chat context says `cancel_requested`, and a pushed one is covered by the
cancels `InFlight` keeps for answers not started yet.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

import structlog
from nats.aio.msg import Msg

from contracts.events import GenerationCancelled
from contracts.relayed import relayed_event

log = structlog.get_logger(__name__)
WAKE = object()  # put in the generation's queue to make it look at the flag at once


class CancelHandle:
    def __init__(self) -> None:
        self.requested = False
        self.event = asyncio.Event()
        self.queue: asyncio.Queue[object] | None = None

    def request(self) -> None:
        self.requested = True
        self.event.set()
        if self.queue is not None:
            self.queue.put_nowait(WAKE)


class InFlight:
    """The answers under way here, and the cancels heard for answers not started yet.

    A worker that answers from a pushed context (see `context`) never asked whether a
    cancel was recorded after that push; every worker hears every cancel, so one heard before
    its answer starts is kept for `remember` seconds and applies as soon as it registers."""

    def __init__(self, remember: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.remember = remember
        self.clock = clock
        self._handles: dict[UUID, CancelHandle] = {}
        self._early: OrderedDict[UUID, float] = OrderedDict()  # cancel heard -> kept until

    def register(self, message_id: UUID) -> CancelHandle:
        handle = self._handles.get(message_id)
        if handle is None:
            handle = self._handles[message_id] = CancelHandle()
        until = self._early.pop(message_id, None)
        if until is not None and until > self.clock():
            handle.request()
        return handle

    def active(self, message_id: UUID) -> bool:
        """True while this process is generating that message."""
        return message_id in self._handles

    def release(self, message_id: UUID) -> None:
        self._handles.pop(message_id, None)

    def cancel(self, message_id: UUID) -> bool:
        """True if this process is generating that message; otherwise the cancel is kept."""
        handle = self._handles.get(message_id)
        if handle is None:
            self._keep(message_id)
            return False
        handle.request()
        return True

    async def hear(self, msg: Msg) -> None:
        """The GenerationCancelled listener."""
        try:
            event, record = relayed_event(msg.data, GenerationCancelled)
        except ValueError:
            log.warning("malformed GenerationCancelled ignored")
            return
        if self.cancel(event.message_id):
            correlation = (record.get("metadata") or {}).get("correlation_id")
            log.info(
                "cancelling generation",
                message_id=str(event.message_id),
                correlation_id=correlation,
            )

    def _keep(self, message_id: UUID) -> None:
        if self.remember <= 0:
            return
        now = self.clock()
        while self._early and next(iter(self._early.values())) <= now:
            self._early.popitem(last=False)
        self._early.pop(message_id, None)
        self._early[message_id] = now + self.remember

    def __len__(self) -> int:
        return len(self._handles)
