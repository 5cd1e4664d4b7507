"""Runs a replay: bulk phase in a snapshot, catch-up under a brief lock, swap or compare."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from threads.projections import Projector
from threads.replay.compare import Difference, compare
from threads.replay.shadow import create_shadow, drop_shadow, swap_in, use_shadow
from threads.store.event_store import _row_to_event
from threads.store.tables import READ_MODELS, events
from threads.store.unit_of_work import RETRYABLE_SQLSTATES, sqlstate

# Events the bulk phase's snapshot could not see: committed after it (late, possibly with a
# lower position) or written since. Their transaction ids are never below the snapshot's xmin.
UNSEEN = text(
    "SELECT * FROM public.events"
    " WHERE transaction_id >= pg_snapshot_xmin(CAST(CAST(:snap AS text) AS pg_snapshot))"
    " AND NOT pg_visible_in_snapshot(transaction_id, CAST(CAST(:snap AS text) AS pg_snapshot))"
    " ORDER BY global_position"
)
Progress = Callable[[int, int], None]  # (events done, events known)


@dataclass
class ReplayReport:
    events: int = 0
    caught_up: int = 0
    seconds: float = 0.0
    lock_seconds: float = 0.0
    swapped: bool = False
    differences: list[Difference] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def _apply_all(
    conn: AsyncConnection,
    projector: Projector,
    query: object,
    batch: int,
    progress: Progress | None,
    total: int,
    done: int,
) -> int:
    """Stream rows of `query` and project each; returns the count."""
    result = await conn.stream(query.execution_options(yield_per=batch))  # type: ignore[attr-defined]
    async for partition in result.partitions(batch):
        for row in partition:
            await projector(conn, _row_to_event(row))
        done += len(partition)
        if progress is not None:
            progress(done, total)
    return done


async def _catch_up(
    conn: AsyncConnection, projector: Projector, snapshot: str, check: bool, report: ReplayReport
) -> None:
    async with conn.begin():
        await conn.execute(text("SET LOCAL lock_timeout = '3s'"))
        await conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
        locked_at = time.perf_counter()
        names = ", ".join(f'public."{t.name}"' for t in READ_MODELS)
        await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
        await use_shadow(conn)
        rows = (await conn.execute(UNSEEN, {"snap": snapshot})).all()
        for row in rows:
            await projector(conn, _row_to_event(row))
        report.caught_up = len(rows)
        if check:
            report.differences = await compare(conn)
            await drop_shadow(conn)
        else:
            await swap_in(conn)
            report.swapped = True
        report.lock_seconds = time.perf_counter() - locked_at


async def replay(
    engine: AsyncEngine,
    projector: Projector,
    *,
    check: bool = False,
    batch: int = 2000,
    progress: Progress | None = None,
    lock_attempts: int = 5,
) -> ReplayReport:
    report = ReplayReport()
    started = time.perf_counter()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            await create_shadow(conn)
        async with conn.begin():
            # Everything in this transaction sees one snapshot; remember it for the catch-up.
            snapshot = await conn.scalar(text("SELECT pg_current_snapshot()::text"))
            total = int(await conn.scalar(select(func.count()).select_from(events)) or 0)
            await use_shadow(conn)
            report.events = await _apply_all(
                conn,
                projector,
                select(events).order_by(events.c.global_position),
                batch,
                progress,
                total,
                0,
            )
        # Catch-up and swap: one READ COMMITTED transaction holding the locks. A writer caught
        # between reading a read model and appending can deadlock with it; then it is rerun.
        await conn.execution_options(isolation_level="READ COMMITTED")
        for attempt in range(lock_attempts):
            try:
                await _catch_up(conn, projector, snapshot, check, report)
                break
            except DBAPIError as exc:
                if sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == lock_attempts - 1:
                    raise
    report.events += report.caught_up
    report.seconds = time.perf_counter() - started
    return report
