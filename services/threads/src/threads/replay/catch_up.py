"""The catch-up: the projector (the read models' definitions compiled to SQL, as on the live
path) applies, to the shadow tables, every event the bulk phase's snapshot could not see; then
the shadow tables are swapped in, or compared.

First in rounds without any lock, each from a fresh snapshot, while there is much to apply
(writes went on during the bulk phase); then one last round under
`LOCK TABLE events IN EXCLUSIVE MODE` (readers go on; writers wait), which only has what was
written during the round before it, so the lock stays brief. A check needs no lock at all: its
last round and the comparison share one REPEATABLE READ snapshot, in which the live read models
are exactly what the events visible in it made (projections commit with their events).
"""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import Projector
from threads.replay.compare import Difference, compare
from threads.replay.shadow import drop_shadow, swap_in, use_shadow
from threads.store.event_store import _row_to_event
from threads.store.tables import READ_MODELS

# Events a snapshot could not see: committed after it (late, possibly with a lower position)
# or written since. Their transaction ids are never below the snapshot's xmin.
UNSEEN = text(
    "SELECT * FROM public.events"
    " WHERE transaction_id >= pg_snapshot_xmin(CAST(CAST(:snap AS text) AS pg_snapshot))"
    " AND NOT pg_visible_in_snapshot(transaction_id, CAST(CAST(:snap AS text) AS pg_snapshot))"
    " ORDER BY global_position"
)
ENOUGH_FOR_THE_LOCK = 100  # events: fewer than this in a round, and the next one is locked
MAX_UNLOCKED_ROUNDS = 5


async def _apply_unseen(conn: AsyncConnection, projector: Projector, snapshot: str) -> int:
    await use_shadow(conn)
    rows = (await conn.execute(UNSEEN, {"snap": snapshot})).all()
    for row in rows:
        await projector(conn, _row_to_event(row))
    return len(rows)


async def catch_up_unlocked(
    conn: AsyncConnection, projector: Projector, snapshot: str
) -> tuple[str, int]:
    """Rounds without a lock; returns the snapshot the locked round starts from and the
    number of events applied."""
    applied = 0
    for _ in range(MAX_UNLOCKED_ROUNDS):
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            # the first statement fixes this transaction's snapshot: UNSEEN then finds what
            # it sees and the previous one did not
            newer = str(await conn.scalar(text("SELECT pg_current_snapshot()::text")))
            count = await _apply_unseen(conn, projector, snapshot)
        await conn.execution_options(isolation_level="READ COMMITTED")
        applied += count
        snapshot = newer
        if count < ENOUGH_FOR_THE_LOCK:
            break
    return snapshot, applied


async def catch_up_and_swap(
    conn: AsyncConnection, projector: Projector, snapshot: str
) -> tuple[int, float]:
    """The last round and the swap, in one READ COMMITTED transaction holding the locks;
    returns the events applied and the seconds the lock was held."""
    async with conn.begin():
        await conn.execute(text("SET LOCAL lock_timeout = '3s'"))
        await conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
        locked_at = time.perf_counter()
        names = ", ".join(f'public."{t.name}"' for t in READ_MODELS)
        await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
        applied = await _apply_unseen(conn, projector, snapshot)
        await swap_in(conn)
        return applied, time.perf_counter() - locked_at


async def catch_up_and_compare(
    conn: AsyncConnection, projector: Projector, snapshot: str
) -> tuple[int, list[Difference]]:
    """The last round and the comparison in one snapshot, no lock; the shadow tables are
    dropped. Returns the events applied and the differences."""
    await conn.execution_options(isolation_level="REPEATABLE READ")
    try:
        async with conn.begin():
            await conn.execute(text("SELECT pg_current_snapshot()"))  # fixes the snapshot
            applied = await _apply_unseen(conn, projector, snapshot)
            differences = await compare(conn)
            await drop_shadow(conn)
    finally:
        await conn.execution_options(isolation_level="READ COMMITTED")
    return applied, differences
