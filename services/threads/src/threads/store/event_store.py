"""Append with an expected version, load a stream, read the log. All in the caller's transaction.

Appending writes the event rows and their outbox rows together; the relay publishes the outbox
after commit. A stale expected version violates unique (stream_id, stream_version) and raises
`ConcurrencyError`, which the unit of work turns into a retry on fresh state.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, Select, String, bindparam, func, select, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import DomainEvent, Envelope
from contracts.events import EVENT_TYPES
from threads.store.tables import events
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


# Statements are built once per kind of read: building one per call costs more CPU than its
# round trip. The stream id (and any other parameter a condition names) is bound at execution.
STREAM = bindparam("stream_id", type_=String())


def stream_query(
    condition: ColumnElement[bool] | None = None, *, try_lock: ColumnElement[bool] | None = None
) -> Select[Any]:
    """One round trip for the stream's version, its events matching `condition` (oldest
    first) and the result of `try_lock` (see `store.locks`)."""
    version = (
        select(func.coalesce(func.max(events.c.stream_version), 0))
        .where(events.c.stream_id == STREAM)
        .scalar_subquery()
    )
    head = select(
        version.label("current_version"),
        (try_lock if try_lock is not None else true()).label("locked"),
    ).subquery("head")
    body = select(events).where(events.c.stream_id == STREAM)
    if condition is not None:
        body = body.where(condition)
    found = body.subquery("found")
    return (
        select(head.c.current_version, head.c.locked, found)
        .select_from(head.outerjoin(found, true()))
        .order_by(found.c.stream_version)
    )


async def read_stream(
    conn: AsyncConnection, query: Select[Any], stream_id: str, **params: Any
) -> tuple[int, list[StoredEvent], bool]:
    """Run a `stream_query`: (version, events, whether the lock was taken)."""
    rows = (await conn.execute(query, {"stream_id": stream_id, **params})).all()
    stored = [_row_to_event(r) for r in rows if r.global_position is not None]
    return int(rows[0].current_version), stored, bool(rows[0].locked)


@functools.cache
def _query_of_types(types: tuple[str, ...] | None) -> Select[Any]:
    return stream_query(events.c.event_type.in_(types) if types is not None else None)


async def load_stream(
    conn: AsyncConnection, stream_id: str, types: Sequence[str] | None = None
) -> tuple[int, list[StoredEvent]]:
    """The stream's version and its events (only `types`, when given), oldest first."""
    query = _query_of_types(tuple(types) if types is not None else None)
    version, stored, _ = await read_stream(conn, query, stream_id)
    return version, stored


# Events and their outbox rows in one statement, one round trip on every command. The rows
# travel as one JSON array (one cached statement whatever their number), inserted in version
# order so positions follow versions. `_APPEND_RECORDING` also inserts the unit of work's
# processed-command row (see `append`'s `processed`).
_APPEND_SQL = """
    WITH appended AS (
        INSERT INTO events
            (stream_id, stream_version, event_id, event_type, schema_version, data, metadata)
        SELECT :stream_id, r.stream_version, r.event_id, r.event_type, r.schema_version, r.data,
               :metadata
        FROM jsonb_to_recordset(:rows) AS r(stream_version integer, event_id uuid,
             event_type text, schema_version integer, data jsonb)
        ORDER BY r.stream_version
        RETURNING global_position, recorded_at, event_id
    ), queued AS (
        INSERT INTO outbox (global_position) SELECT global_position FROM appended
    ){recording}
    SELECT global_position, recorded_at, event_id FROM appended
"""
_RECORDING = """, recorded AS (
        INSERT INTO processed_commands (actor, command_id, command_type, reply)
        VALUES (:actor, :command_id, :command_type, :reply)
    )"""
_EVENT_PARAMS = (
    bindparam("stream_id", type_=String()),
    bindparam("metadata", type_=JSONB()),
    bindparam("rows", type_=JSONB()),
)
_APPEND = text(_APPEND_SQL.format(recording="")).bindparams(*_EVENT_PARAMS)
_APPEND_RECORDING = text(_APPEND_SQL.format(recording=_RECORDING)).bindparams(
    *_EVENT_PARAMS,
    bindparam("actor", type_=String()),
    bindparam("command_id", type_=String()),
    bindparam("command_type", type_=String()),
    bindparam("reply", type_=JSONB()),
)


async def append(
    conn: AsyncConnection,
    stream_id: str,
    expected_version: int,
    new_events: Sequence[DomainEvent],
    meta: Envelope,
    command_id: str | None = None,
    *,
    processed: dict[str, Any] | None = None,
) -> list[StoredEvent]:
    """Append after `expected_version`; raises ConcurrencyError if the stream moved on.

    `processed` (actor, command_id, command_type, reply) is the unit of work's
    processed-command row, inserted by the same statement when the handler's reply is known
    before its append: one round trip fewer. A command id seen before then fails the whole
    statement (IntegrityError on `pk_processed_commands`), as the row's own insert would."""
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
            "stream_version": expected_version + i,
            "event_id": str(uuid4()),
            "event_type": e.type_name(),
            "schema_version": e.schema_version,
            "data": e.model_dump(mode="json", exclude={"schema_version"}),
        }
        for i, e in enumerate(new_events, start=1)
    ]
    try:
        params = {"stream_id": stream_id, "metadata": metadata, "rows": rows}
        if processed is None:
            result = await conn.execute(_APPEND, params)
        else:
            result = await conn.execute(_APPEND_RECORDING, {**params, **processed})
        returned = {str(r.event_id): r for r in result.all()}
    except IntegrityError as exc:
        if is_stream_conflict(exc):
            raise ConcurrencyError(stream_id) from exc
        raise
    return [
        StoredEvent(
            position=returned[row["event_id"]].global_position,
            stream_id=stream_id,
            version=row["stream_version"],
            event_id=returned[row["event_id"]].event_id,
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
