"""The bulk phase's read: every event its snapshot sees, in position order, folded in memory.

Read with asyncpg through a cursor in batches, the data as text decoded by orjson (the
SQLAlchemy codec would decode it with the standard library), upcast like `event_store` does.
`recorded_at` is read as PostgreSQL sends it in binary, microseconds since 2000-01-01 UTC
(`Micros`): comparing and COPYing integers costs a fraction of what datetimes do. The next batch is
requested before the current one is folded, so PostgreSQL sends while Python folds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.replay.driver import driver_connection
from threads.replay.fold import Folder
from threads.replay.fold.state import Event, ReadModels
from threads.store.upcasters import UPCASTERS, upcast

Progress = Callable[[int, int], None]  # (events done, events known)
EVENTS = (
    "SELECT global_position, event_type, schema_version, data::text,"
    " timestamptz_send(recorded_at)"
    " FROM public.events ORDER BY global_position"
)


async def read_and_fold(
    conn: AsyncConnection,
    folder: Folder,
    *,
    total: int,
    batch: int = 10_000,
    progress: Progress | None = None,
) -> tuple[ReadModels, int]:
    """The read models as of the snapshot of `conn`'s transaction, and the events read."""
    driver = await driver_connection(conn)
    cursor = await driver.cursor(EVENTS)
    dispatch = folder.dispatch
    upcast_types = {event_type for event_type, _ in UPCASTERS}
    loads, from_bytes, make = orjson.loads, int.from_bytes, tuple.__new__  # the hot loop's
    models = ReadModels()
    done = 0
    pending = asyncio.ensure_future(cursor.fetch(batch))
    try:
        while rows := await pending:
            pending = asyncio.ensure_future(cursor.fetch(batch))
            await asyncio.sleep(0)  # the request for the next batch goes out now
            for position, event_type, version, raw, stamp in rows:
                fold = dispatch.get(event_type)
                if fold is None:
                    continue
                try:
                    data = loads(raw)
                except orjson.JSONDecodeError:  # what orjson refuses and the stdlib reads
                    data = json.loads(raw)
                if event_type in upcast_types:
                    _, data = upcast(event_type, version, data)
                micros = from_bytes(stamp, "big", signed=True)
                # Event(...) without the NamedTuple's Python-level __new__
                fold(models, make(Event, (position, event_type, data, micros, raw)))
            done += len(rows)
            if progress is not None:
                progress(done, total)
    finally:
        if not pending.done():  # a fold failed: let the fetch in flight end, or the
            with contextlib.suppress(Exception):  # connection could not even roll back
                await pending
    return models, done
