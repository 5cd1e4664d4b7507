"""The outbox relay: publishes committed events to the JetStream stream EVENTS.

Each outbox row is deleted only in the transaction that saw JetStream acknowledge its event,
so a crash between publish and delete republishes (JetStream drops the copy by `Nats-Msg-Id`
inside its duplicate window; consumers are idempotent beyond it) and nothing is ever lost.
Rows are read from the outbox rather than by position, so an event whose transaction commits
after a later position was already relayed is still found and published: no gap can be skipped.
One relay at a time holds the advisory lock, so any number of service replicas can run one.

A command's own events are in hand when it commits: `relay_committed` publishes them at once
(no read), which takes the relay off the path to the first token. Their outbox rows are
dropped a moment later (`delete_delay`), many commands' at once: one statement for a batch
instead of one per command, and not on the event loop while the next request is being served.
A crash before that delete republishes them, like any other.
The polling loop stays the guarantee: whatever that fast path misses (a failed publish, a
crash before the delete) is still in the outbox and goes out on the loop's next pass; a
copy it publishes twice is dropped by JetStream's duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Union
from uuid import UUID

import structlog
from nats.js import JetStreamContext
from pydantic import BaseModel, create_model
from sqlalchemy import ARRAY, BigInteger, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.events import EVENT_TYPES
from contracts.relayed import RelayedEvent, encode_relayed
from contracts.subjects import event_subject
from observability.metrics import RELAY_LAG, RELAY_LAG_SECONDS, RELAY_PUBLISHED
from threads.store.event_store import StoredEvent, _row_to_event
from threads.store.tables import events, outbox

log = structlog.get_logger(__name__)
RELAY_LOCK_KEY = 0x5357_4254_524C_5931  # any constant shared by all replicas


@functools.cache
def relayed_event_model() -> type[BaseModel]:
    """What the relay publishes: a `RelayedEvent` whose `data` is any domain event."""
    any_event: Any = Union[tuple(EVENT_TYPES.values())]  # noqa: UP007
    return create_model(
        "RelayedDomainEvent", __base__=RelayedEvent, __doc__=RelayedEvent.__doc__, data=any_event
    )


def _headers(event_id: UUID, metadata: dict[str, Any]) -> dict[str, str]:
    """`Nats-Msg-Id` for JetStream's dedupe, and the request's correlation id so a reader can
    follow it without parsing the body."""
    correlation = metadata.get("correlation_id")
    if correlation:
        return {"Nats-Msg-Id": str(event_id), "correlation_id": str(correlation)}
    return {"Nats-Msg-Id": str(event_id)}


def _public(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data without its private fields (a password hash stays in the store)."""
    cls = EVENT_TYPES.get(event_type)
    hidden = cls.private_fields if cls is not None else frozenset()
    return {k: v for k, v in data.items() if k not in hidden} if hidden else data


async def publish_event(
    js: JetStreamContext, e: StoredEvent, timeout: float, msg_id: str | None = None
) -> None:
    """One stored event on EVENTS, as every consumer reads it; `msg_id` replaces the event id
    as `Nats-Msg-Id` for a deliberate second copy (the sweeper's)."""
    headers = _headers(e.event_id, e.metadata)
    if msg_id is not None:
        headers["Nats-Msg-Id"] = msg_id
    await js.publish(
        event_subject(e.stream_id, e.type),
        encode_relayed(
            event_id=e.event_id,
            event_type=e.type,
            schema_version=e.schema_version,
            stream_id=e.stream_id,
            version=e.version,
            position=e.position,
            recorded_at=e.recorded_at,
            data=_public(e.type, e.data),
            metadata=e.metadata,
        ),
        timeout=timeout,
        headers=headers,
    )


# The delete's commit does not wait for its WAL flush (`synchronous_commit` off for this
# transaction, set by an InitPlan before any row is touched): a delete lost in a crash only
# republishes, which the duplicate window drops. One fsync fewer per command, off the disk
# while the next request's first token is being written.
_NO_FLUSH_WAIT = (
    select(func.set_config("synchronous_commit", "off", True)).scalar_subquery().is_not(None)
)
_DELETE = delete(outbox).where(
    _NO_FLUSH_WAIT,
    outbox.c.global_position == func.any(bindparam("positions", type_=ARRAY(BigInteger()))),
)


@dataclass(eq=False)
class OutboxRelay:
    engine: AsyncEngine
    js: JetStreamContext
    _: KW_ONLY
    batch_size: int = 256
    poll_interval: float = 0.5
    publish_timeout: float = 5.0
    delete_delay: float = 0.1
    published_total: int = field(default=0, init=False)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    # published by the fast path, outbox rows not deleted yet
    _acked: list[int] = field(default_factory=list, init=False)
    _deleting: asyncio.Task[None] | None = field(default=None, init=False)
    _lag_measured_at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    async def publish_pending(self) -> int:
        """One batch: returns how many events were published (0 if none, or another relay
        holds the lock)."""
        await self.delete_acked()  # what the fast path published is not read again
        async with self.engine.begin() as conn:
            # The lock is tried in the same round trip (an InitPlan, evaluated once): without
            # it, no rows, as if the outbox were empty.
            locked = select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY)).scalar_subquery()
            rows = (
                await conn.execute(
                    select(events)
                    .join(outbox, outbox.c.global_position == events.c.global_position)
                    .where(locked)
                    .order_by(events.c.global_position)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            stored = [_row_to_event(r) for r in rows]
            await self._publish(stored)
            await conn.execute(_DELETE, {"positions": [e.position for e in stored]})
        return len(stored)

    def relay_committed(self, stored: list[StoredEvent]) -> None:
        """The unit of work's commit hook: publish these events now, in the background."""
        task = asyncio.create_task(self._publish_committed(stored))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _publish_committed(self, stored: list[StoredEvent]) -> None:
        try:
            await self._publish(stored)
        except Exception as exc:
            log.info("fast publish failed; the loop will retry", error=type(exc).__name__)
            self._wakeup.set()
            return
        self._acked.extend(e.position for e in stored)
        if self._deleting is None:
            self._deleting = asyncio.create_task(self._delete_acked_soon())

    async def _delete_acked_soon(self) -> None:
        try:
            while self._acked:
                await asyncio.sleep(self.delete_delay)
                await self.delete_acked()
        finally:
            self._deleting = None

    async def delete_acked(self) -> None:
        """Drop the outbox rows of events the fast path has published. If the database is not
        there, the rows stay and the loop publishes them again (JetStream drops the copies)."""
        positions, self._acked = self._acked, []
        if not positions:
            return
        try:
            async with self._autocommit.connect() as conn:
                await conn.execute(_DELETE, {"positions": positions})
        except Exception as exc:
            log.info("outbox delete failed; the loop will republish", error=type(exc).__name__)

    async def flush(self) -> None:
        """Wait for the fast path's publishes in flight, then delete what they published."""
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self.delete_acked()

    async def _publish(self, stored: list[StoredEvent]) -> None:
        """Publish in order and wait for JetStream's acknowledgements."""
        await asyncio.gather(*(publish_event(self.js, e, self.publish_timeout) for e in stored))
        self.published_total += len(stored)
        RELAY_PUBLISHED.inc(len(stored))

    async def measure_lag(self) -> None:
        """Outbox size and the age of its oldest event, for the relay-lag metrics."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.min(events.c.recorded_at))
                    .select_from(outbox)
                    .join(events, events.c.global_position == outbox.c.global_position)
                )
            ).one()
            age = await conn.scalar(select(func.extract("epoch", func.now() - row[1])))
        RELAY_LAG.set(row[0])
        RELAY_LAG_SECONDS.set(float(age or 0.0))

    async def pending(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(outbox)) or 0)

    async def run(self) -> None:
        """Forever: drain, then wait for a wake-up or the poll interval; back off on errors."""
        backoff = self.poll_interval
        while True:
            # Cleared before draining: a commit that lands during the drain sets it again and
            # is published at once instead of at the next poll.
            self._wakeup.clear()
            try:
                while await self.publish_pending() == self.batch_size:
                    pass
                backoff = self.poll_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "relay publish failed; will retry",
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                )
                backoff = min(backoff * 2, 5.0)
                await asyncio.sleep(backoff)
                continue
            now = asyncio.get_running_loop().time()
            if now - self._lag_measured_at >= 1.0:
                self._lag_measured_at = now
                with contextlib.suppress(Exception):
                    await self.measure_lag()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.poll_interval)
