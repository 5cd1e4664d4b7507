"""The bulk phase's read: every event its snapshot sees, in position order, its changes applied
in memory (`memory`) as the projector's definitions say them.

Read with asyncpg through a cursor in batches, the data as text decoded by orjson (the
SQLAlchemy codec would decode it with the standard library), upcast like `event_store` does.
orjson reads an integer beyond 64 bits as a float, where the live path keeps it exact: data
holding such a float is decoded again by the standard library. `recorded_at` is read
as PostgreSQL sends it in binary, microseconds since 2000-01-01 UTC (`Micros`): comparing and
COPYing integers costs a fraction of what datetimes do. The next batch is requested before the
current one is applied, so PostgreSQL sends while Python works.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import Projector
from threads.replay.driver import driver_connection
from threads.replay.memory import Memory, Micros, Tables
from threads.store.tables import READ_MODELS
from threads.store.upcasters import UPCASTERS, upcast

Progress = Callable[[int, int], None]  # (events done, events known)
EVENTS = (
    "SELECT global_position, event_type, schema_version, data::text,"
    " timestamptz_send(recorded_at)"
    " FROM public.events ORDER BY global_position"
)
_BEYOND_64_BITS = 1.8e19


def _lost_precision(data: dict[str, Any]) -> bool:
    """A float as large as 2**64 inside a JSON object or array of `data`, where the JSONB
    columns' values come from (ordinary floats read the same either way; a top-level number
    goes to a numeric column, which refuses it on either path)."""
    for value in data.values():
        if (type(value) is dict or type(value) is list) and _holds_a_huge_float(value):
            return True
    return False


def _holds_a_huge_float(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is float and abs(v) >= _BEYOND_64_BITS:
            return True
        if kind is dict:
            stack.extend(v.values())
        elif kind is list:
            stack.extend(v)
    return False


class Event(NamedTuple):
    """What a definition reads of a stored event (upcast)."""

    position: int
    type: str
    data: dict[str, Any]
    recorded_at: Micros


# rows of `EVENTS`: position, type, schema version, data as text, recorded_at as sent
Apply = Callable[[Iterable[Any]], None]


def applier(projector: Projector, memory: Memory) -> Apply:
    """Applies rows read by `EVENTS` to `memory`, as the projector's definitions say."""
    definitions = projector.definitions
    upcasters = UPCASTERS  # (type, version) of the shapes to upcast
    loads, lost_precision, from_bytes = orjson.loads, _lost_precision, int.from_bytes
    make = tuple.__new__  # Event(...) without the NamedTuple's Python-level __new__

    def apply(rows: Iterable[Any]) -> None:
        for position, event_type, version, raw, stamp in rows:
            fns = definitions.get(event_type)
            if fns is None:
                continue
            try:
                data = loads(raw)
            except orjson.JSONDecodeError:  # what orjson refuses and the stdlib reads
                data = json.loads(raw)
            if (raw.find("{", 1) > 0 or "[" in raw) and lost_precision(data):
                data = json.loads(raw)  # only data with an object or array inside
            if (event_type, version) in upcasters:
                _, data = upcast(event_type, version, data)
            event = make(Event, (position, event_type, data, from_bytes(stamp, "big", signed=True)))
            for fn in fns:
                fn(memory, event)

    return apply


async def read_and_apply(
    conn: AsyncConnection,
    projector: Projector,
    *,
    total: int,
    batch: int = 10_000,
    progress: Progress | None = None,
) -> tuple[Tables, int]:
    """The read models as of the snapshot of `conn`'s transaction, and the events read."""
    driver = await driver_connection(conn)
    cursor = await driver.cursor(EVENTS)
    tables = Tables(READ_MODELS)
    apply = applier(projector, Memory(tables))
    done = 0
    pending = asyncio.ensure_future(cursor.fetch(batch))
    try:
        while rows := await pending:
            pending = asyncio.ensure_future(cursor.fetch(batch))
            await asyncio.sleep(0)  # the request for the next batch goes out now
            apply(rows)
            done += len(rows)
            if progress is not None:
                progress(done, total)
    finally:
        if not pending.done():  # a change failed: let the fetch in flight end, or the
            with contextlib.suppress(Exception):  # connection could not even roll back
                await pending
    return tables, done
