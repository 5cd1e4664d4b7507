"""Loading the rows built in memory into fresh shadow tables: binary COPY through asyncpg, then
keys, indexes and statistics.

PostgreSQL does a COPY's per-row work (a message's search vector is computed there) and an
index build in the backend that runs it, one CPU each, so `LOADERS` connections share the
work: the largest tables' rows in slices, then the index builds and statistics. The shadow
tables are created and committed first, so every loader sees them; a load that fails leaves
them half filled, and the next replay drops them (`create_shadow`). Keys go on between the
two steps, from one connection: adding one locks its table against everything else.

Each loader's connection gets a codec of its own, timestamps as `Micros` (microseconds since
2000-01-01, what the binary format carries) instead of datetimes, about a third of the COPY's
cost; it is closed afterwards rather than returned to the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import AddConstraint, CreateIndex

from threads.replay.driver import driver_connection
from threads.replay.memory import Micros, Row, Tables
from threads.replay.shadow import SHADOW, create_shadow, keys_of
from threads.store.tables import written

LOADERS = 2  # connections loading at once
SLICE = 50_000  # a table with more rows than this is copied in LOADERS slices at once

Step = Callable[[AsyncConnection], Awaitable[int]]


def _encode(micros: Micros) -> tuple[int]:
    return (micros,)


def _decode(value: tuple[int]) -> Micros:
    return value[0]


@asynccontextmanager
async def _loader(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        try:
            driver = await driver_connection(conn)
            await driver.set_type_codec(
                "timestamptz", schema="pg_catalog", encoder=_encode, decoder=_decode, format="tuple"
            )
            yield conn
        finally:
            await conn.invalidate()


async def _run(engine: AsyncEngine, steps: Sequence[Step]) -> int:
    """Every step once, taken in order by whichever loader is free; the sum of their counts."""
    queue = list(reversed(steps))

    async def loader() -> int:
        done = 0
        async with _loader(engine) as conn:
            while queue:
                step = queue.pop()
                async with conn.begin():
                    done += await step(conn)
        return done

    return sum(await asyncio.gather(*(loader() for _ in range(min(LOADERS, len(steps))))))


def _copy(table: Table, rows: Sequence[Row]) -> Step:
    async def step(conn: AsyncConnection) -> int:
        status = await (await driver_connection(conn)).copy_records_to_table(
            table.name,
            schema_name=table.schema,
            columns=[column.name for column in written(table)],
            records=rows,
        )
        return int(status.split()[-1])

    return step


def _statement(sql: object) -> Step:
    async def step(conn: AsyncConnection) -> int:
        await conn.execute(sql)  # type: ignore[call-overload]
        return 0

    return step


def _copies(tables: list[Table], models: Tables) -> list[Step]:
    """One COPY per table, the largest first, and the largest tables' rows in slices."""
    steps: list[tuple[int, Step]] = []
    for table in tables:
        rows = list(models.by_name[table.name].records())
        parts = LOADERS if len(rows) > SLICE else 1
        size = -(-len(rows) // parts) or 1
        for start in range(0, max(len(rows), 1), size):
            piece = rows[start : start + size]
            steps.append((len(piece), _copy(table, piece)))
    return [step for _, step in sorted(steps, key=lambda s: -s[0])]


def _builds(tables: list[Table], models: Tables) -> list[Step]:
    """Every index, those of the largest tables first, then every table's statistics."""
    by_size = sorted(tables, key=lambda t: -len(models.by_name[t.name].rows))
    indexes = [
        _statement(CreateIndex(index))
        for table in by_size
        for index in sorted(table.indexes, key=lambda ix: str(ix.name))
    ]
    analyses = [_statement(text(f'ANALYZE {SHADOW}."{t.name}"')) for t in by_size]
    return indexes + analyses


async def load_shadow(engine: AsyncEngine, models: Tables) -> int:
    """Every row of `models` into new shadow tables; returns the number of rows."""
    async with engine.connect() as conn, conn.begin():
        tables = await create_shadow(conn)
    copied = await _run(engine, _copies(tables, models))
    async with engine.connect() as conn, conn.begin():
        for table in tables:  # which also checks that the rows are unique
            for key in keys_of(table):
                await conn.execute(AddConstraint(key))
    await _run(engine, _builds(tables, models))
    return copied
