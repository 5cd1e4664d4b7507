"""The sweeper: no answer is left `streaming` because its request was lost.

A request normally ends with an outcome (the worker's, or the failure recorded when its
deliveries run out, on the MAX_DELIVERIES advisory). Both paths can miss: the advisory is core
NATS and is lost across a reconnect, and a JetStream cluster can lose a write it acknowledged
but had not synced. So one process (an advisory lock, like the relay's) looks every `interval`
seconds for answers requested more than `age` seconds ago that are still `streaming`:

1. the first time it finds one, it publishes its AssistantMessageRequested again (a copy with
   its own `Nats-Msg-Id`, past the duplicate window of the lost one), and a worker answers it;
2. if the answer is still `streaming` `age` seconds after that, it records it failed with
   `request_lost`, as a new attempt with no text.

Every request still ends with exactly one outcome: the threads service refuses a second one, so
a worker that was only slow keeps the outcome it records first. What the sweeper republished is
kept in memory: a sweeper taking over after a failover republishes once more, which workers
treat like any redelivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog
from nats.js import JetStreamContext
from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.base import Envelope
from contracts.commands import FailAssistantMessage
from threads.handlers import fail_assistant_message
from threads.store.event_store import StoredEvent, _row_to_event
from threads.store.relay import publish_event
from threads.store.tables import events, messages
from threads.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)
SWEEPER_LOCK_KEY = 0x5357_4254_5357_5052  # any constant shared by all replicas
REQUEST_LOST = "request_lost"
BATCH = 100  # oldest answers looked at per pass


class Sweeper:
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        uow: UnitOfWork,
        *,
        interval: float,
        age: float,
        publish_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.js = js
        self.uow = uow
        self.interval = interval
        self.age = age
        self.publish_timeout = publish_timeout
        self.clock = clock
        self._republished: dict[UUID, float] = {}  # message id -> when

    async def sweep(self) -> tuple[int, int]:
        """One pass: (requests republished, answers failed); (0, 0) when another process
        holds the lock."""
        republished = failed = 0
        async with self.engine.begin() as conn:
            # Held until this pass's transaction ends, whatever happens to it.
            locked = await conn.scalar(select(func.pg_try_advisory_xact_lock(SWEEPER_LOCK_KEY)))
            if not locked:
                return 0, 0
            stale = (await conn.execute(self._stale())).all()
            now = self.clock()
            found = {row.answer_id for row in stale}
            for gone in [m for m in self._republished if m not in found]:
                del self._republished[gone]  # answered meanwhile
            for row in stale:
                since = self._republished.get(row.answer_id)
                if since is None:
                    await publish_event(
                        self.js,
                        _row_to_event(row),
                        self.publish_timeout,
                        msg_id=f"{row.event_id}:swept",
                    )
                    self._republished[row.answer_id] = now
                    republished += 1
                    log.warning("lost answer request republished", message_id=str(row.answer_id))
                elif now - since >= self.age:
                    if await self._fail(_row_to_event(row), row.owner):
                        failed += 1
                    self._republished.pop(row.answer_id, None)
        return republished, failed

    def _stale(self) -> Select[Any]:
        """Streaming answers requested before `age` seconds ago, with their request event
        (the row's `seq` is its position), oldest first."""
        cutoff = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, self.age)
        return (
            select(events, messages.c.id.label("answer_id"), messages.c.user_id.label("owner"))
            .join(events, events.c.global_position == messages.c.seq)
            .where(
                and_(
                    messages.c.role == "assistant",
                    messages.c.status == "streaming",
                    messages.c.created_at < cutoff,
                    events.c.event_type == "AssistantMessageRequested",
                )
            )
            .order_by(messages.c.seq)
            .limit(BATCH)
        )

    async def _fail(self, request: StoredEvent, user_id: UUID) -> bool:
        data = request.data
        metadata = request.metadata or {}
        correlation = metadata.get("correlation_id")
        meta = Envelope(user_id=user_id, causation_id=request.event_id)
        if correlation:
            with contextlib.suppress(ValueError):
                meta = meta.model_copy(update={"correlation_id": UUID(str(correlation))})
        cmd = FailAssistantMessage(
            meta=meta,
            command_id=f"sweep:{data['message_id']}",
            thread_id=UUID(str(data["thread_id"])),
            message_id=UUID(str(data["message_id"])),
            code=REQUEST_LOST,
            error="The request for this answer was lost; ask again",
            attempt=int(data.get("attempt", 1)) + 1,
        )
        reply = await self.uow.run(cmd, fail_assistant_message.handle)
        if reply.ok:
            log.warning("lost answer request failed", message_id=str(cmd.message_id))
        return reply.ok

    async def run(self) -> None:
        """Forever: a pass every `interval` seconds; errors are logged and the next pass
        tries again."""
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sweep failed; will retry", error=type(exc).__name__)
            await asyncio.sleep(self.interval)
