"""Append with an expected version, load a stream, read the log. All in the caller's transaction.

Appending writes the event rows and their outbox rows together; the relay publishes the outbox
after commit. A stale expected version violates unique (stream_id, stream_version) and raises
`ConcurrencyError`, which the unit of work turns into a retry on fresh state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import DomainEvent, Envelope
from contracts.events import EVENT_TYPES
from threads.store.tables import events, outbox
from threads.store.upcasters import upcast


class ConcurrencyError(Exception):
    """Someone appended to the stream since we read it."""


@dataclass(frozen=True)
class StoredEvent:
    position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    def to_domain(self) -> DomainEvent:
        """The event as its current class (after upcasting)."""
        return EVENT_TYPES[self.type].model_validate(
            {**self.data, "schema_version": self.schema_version}
        )


def _row_to_event(row: Any) -> StoredEvent:
    version, data = upcast(row.event_type, row.schema_version, row.data)
    return StoredEvent(
        position=row.global_position,
        stream_id=row.stream_id,
        version=row.stream_version,
        event_id=row.event_id,
        type=row.event_type,
        schema_version=version,
        data=data,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
    )


def is_stream_conflict(exc: IntegrityError) -> bool:
    return "uq_events_stream_version" in str(exc.orig)


async def stream_version(conn: AsyncConnection, stream_id: str) -> int:
    """0 for a stream that does not exist yet."""
    result = await conn.execute(
        select(func.coalesce(func.max(events.c.stream_version), 0)).where(
            events.c.stream_id == stream_id
        )
    )
    return int(result.scalar_one())


async def load_stream(
    conn: AsyncConnection, stream_id: str, types: Sequence[str] | None = None
) -> tuple[int, list[StoredEvent]]:
    """The stream's version and its events (only `types`, when given), oldest first."""
    version = await stream_version(conn, stream_id)
    if version == 0:
        return 0, []
    query = select(events).where(events.c.stream_id == stream_id)
    if types is not None:
        query = query.where(events.c.event_type.in_(list(types)))
    rows = (await conn.execute(query.order_by(events.c.stream_version))).all()
    return version, [_row_to_event(r) for r in rows]


async def append(
    conn: AsyncConnection,
    stream_id: str,
    expected_version: int,
    new_events: Sequence[DomainEvent],
    meta: Envelope,
    command_id: str | None = None,
) -> list[StoredEvent]:
    """Append after `expected_version`; raises ConcurrencyError if the stream moved on."""
    if not new_events:
        return []
    metadata = {
        "user_id": str(meta.user_id) if meta.user_id else None,
        "correlation_id": str(meta.correlation_id),
        "causation_id": str(meta.message_id),
        "command_id": command_id,
    }
    rows: list[dict[str, Any]] = [
        {
            "stream_id": stream_id,
            "stream_version": expected_version + i,
            "event_id": uuid4(),
            "event_type": e.type_name(),
            "schema_version": e.schema_version,
            "data": e.model_dump(mode="json", exclude={"schema_version"}),
            "metadata": metadata,
        }
        for i, e in enumerate(new_events, start=1)
    ]
    try:
        result = await conn.execute(
            insert(events).returning(
                events.c.global_position, events.c.recorded_at, events.c.event_id
            ),
            rows,
        )
        returned = {r.event_id: r for r in result.all()}
        await conn.execute(
            insert(outbox), [{"global_position": r.global_position} for r in returned.values()]
        )
    except IntegrityError as exc:
        if is_stream_conflict(exc):
            raise ConcurrencyError(stream_id) from exc
        raise
    return [
        StoredEvent(
            position=returned[row["event_id"]].global_position,
            stream_id=stream_id,
            version=row["stream_version"],
            event_id=row["event_id"],
            type=row["event_type"],
            schema_version=row["schema_version"],
            data=row["data"],
            metadata=metadata,
            recorded_at=returned[row["event_id"]].recorded_at,
        )
        for row in rows
    ]


async def read_all(
    conn: AsyncConnection, after_position: int = 0, limit: int = 1000
) -> list[StoredEvent]:
    """The global log in position order (for replay and history)."""
    rows = (
        await conn.execute(
            select(events)
            .where(events.c.global_position > after_position)
            .order_by(events.c.global_position)
            .limit(limit)
        )
    ).all()
    return [_row_to_event(r) for r in rows]
