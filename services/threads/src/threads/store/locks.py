"""Queue writers of one contended stream instead of letting them race.

Optimistic concurrency alone makes N simultaneous writers to one stream fail N-1 times per
round; with a bounded number of retries a burst (forty messages posted to one thread at once)
would end in conflicts. A transaction-scoped advisory lock on the stream id, taken before the
stream is loaded, makes them wait their turn; OCC stays the guarantee, the lock only avoids
the wasted rounds. It is released at commit or rollback.

`load_locked` tries the lock in the same round trip as the read. When the lock was free (the
common case) that read stands; a writer that committed in between would only make the append
conflict and rerun. When it was held, it waits for the lock and reads again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, text
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.store.event_store import STREAM, StoredEvent, read_stream, stream_query

# The two-key form (namespace, hash) lives apart from single-bigint advisory locks (the
# relay's), so a hash can never collide with them.
STREAM_LOCK_NAMESPACE = 0x5354  # "ST"
_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:stream_id))")


async def lock_stream(conn: AsyncConnection, stream_id: str) -> None:
    """Wait until no other transaction holds `stream_id`'s lock, then hold it until commit."""
    await conn.execute(_LOCK, {"namespace": STREAM_LOCK_NAMESPACE, "stream_id": stream_id})


@dataclass(frozen=True)
class LockedRead:
    """The statements of one kind of locked read, built once (at import)."""

    trying: Select[Any]
    plain: Select[Any]

    @classmethod
    def of(cls, condition: ColumnElement[bool] | None = None) -> LockedRead:
        try_lock = func.pg_try_advisory_xact_lock(STREAM_LOCK_NAMESPACE, func.hashtext(STREAM))
        return cls(stream_query(condition, try_lock=try_lock), stream_query(condition))


async def load_locked(
    conn: AsyncConnection, read: LockedRead, stream_id: str, **params: Any
) -> tuple[int, list[StoredEvent]]:
    """Hold `stream_id`'s lock until commit and read the stream (version, matching events)."""
    version, stored, locked = await read_stream(conn, read.trying, stream_id, **params)
    if locked:
        return version, stored
    await lock_stream(conn, stream_id)
    version, stored, _ = await read_stream(conn, read.plain, stream_id, **params)
    return version, stored
