"""Runs a replay: bulk phase from one snapshot, catch-up ending under a brief lock, then swap
or compare.

Bulk phase: read the log as one REPEATABLE READ snapshot sees it and apply the read models'
changes in memory (`bulk`, `memory`), then COPY
the rows into fresh shadow tables and build their keys and indexes (`load`, `shadow`).
Catch-up (`catch_up`): the same definitions, as SQL, apply every event the snapshot could not see;
its last round holds the lock and swaps the shadow tables in, or (a check) compares them in
one snapshot, without a lock.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from threads.projections import Projector
from threads.replay.bulk import Progress, read_and_apply
from threads.replay.catch_up import (
    catch_up_and_compare,
    catch_up_and_swap,
    catch_up_unlocked,
)
from threads.replay.compare import Difference
from threads.replay.load import load_shadow
from threads.replay.lock import exclusive
from threads.store.tables import events
from threads.store.unit_of_work import RETRYABLE_SQLSTATES, sqlstate

Phase = Callable[[str], None]  # "read", "load", "catch-up": what the replay does now
Hook = Callable[[], Awaitable[None]]


@dataclass
class ReplayReport:
    events: int = 0
    caught_up: int = 0
    rows: int = 0
    seconds: float = 0.0
    read_seconds: float = 0.0  # reading and applying in memory
    load_seconds: float = 0.0  # COPY, indexes, statistics
    lock_seconds: float = 0.0
    swapped: bool = False
    differences: list[Difference] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The bulk phase makes millions of objects and no reference cycles: the cyclic collector would
    walk them over and over (more than doubling the time) and free nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _build_shadow(
    engine: AsyncEngine,
    conn: AsyncConnection,
    projector: Projector,
    batch: int,
    progress: Progress | None,
    phase: Phase | None,
    report: ReplayReport,
) -> str:
    """Read, apply and load; returns the snapshot. The rows in memory are freed on return."""
    started = time.perf_counter()
    await conn.execution_options(isolation_level="REPEATABLE READ")
    async with conn.begin():
        # Everything in this transaction sees one snapshot; remember it for the catch-up.
        snapshot = str(await conn.scalar(text("SELECT pg_current_snapshot()::text")))
        total = int(await conn.scalar(select(func.count()).select_from(events)) or 0)
        if progress is not None:
            progress(0, total)
        models, report.events = await read_and_apply(
            conn, projector, total=total, batch=batch, progress=progress
        )
    await conn.execution_options(isolation_level="READ COMMITTED")
    loading = time.perf_counter()
    report.read_seconds = loading - started
    if phase is not None:
        phase("load")
    report.rows = await load_shadow(engine, models)
    del models
    report.load_seconds = time.perf_counter() - loading
    return snapshot


async def _swap(
    conn: AsyncConnection, projector: Projector, snapshot: str, attempts: int
) -> tuple[int, float]:
    """A writer caught between reading a read model and appending can deadlock with the
    locked round; then the round is rerun."""
    for attempt in range(attempts):
        try:
            return await catch_up_and_swap(conn, projector, snapshot)
        except DBAPIError as exc:
            if sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def replay(
    engine: AsyncEngine,
    projector: Projector,
    *,
    check: bool = False,
    batch: int = 10_000,
    progress: Progress | None = None,
    phase: Phase | None = None,
    before_catch_up: Hook | None = None,
    lock_attempts: int = 5,
) -> ReplayReport:
    """Rebuild every read model; swap it in, or with `check` compare it with the live one.

    `projector` holds the read models' definitions: applied in memory for the bulk phase, as
    SQL for the catch-up (it must be the live one). `before_catch_up` is awaited between the
    two, with no lock held (tests write there). Raises `ReplayAlreadyRunning` if another
    replay runs."""
    report = ReplayReport()
    started = time.perf_counter()
    async with engine.connect() as conn, exclusive(conn):
        if phase is not None:
            phase("read")
        with _gc_paused():
            snapshot = await _build_shadow(engine, conn, projector, batch, progress, phase, report)
        if before_catch_up is not None:
            await before_catch_up()
        if phase is not None:
            phase("catch-up")
        snapshot, unlocked = await catch_up_unlocked(conn, projector, snapshot)
        if check:
            last, report.differences = await catch_up_and_compare(conn, projector, snapshot)
        else:
            last, report.lock_seconds = await _swap(conn, projector, snapshot, lock_attempts)
            report.swapped = True
        report.caught_up = unlocked + last
    report.events += report.caught_up
    report.seconds = time.perf_counter() - started
    return report
