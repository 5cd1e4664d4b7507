"""One replay at a time per database: the shadow schema's name is fixed, so a second replay
would drop the first one's tables. A session advisory lock, held for the whole replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

REPLAY_LOCK_KEY = 0x7265706C6179  # "replay"


class ReplayAlreadyRunning(RuntimeError):
    """Another replay holds the lock on this database."""


@asynccontextmanager
async def exclusive(conn: AsyncConnection) -> AsyncIterator[None]:
    async with conn.begin():
        got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": REPLAY_LOCK_KEY})
    if not got:
        raise ReplayAlreadyRunning(
            "another replay is running on this database (it holds advisory lock "
            f"{REPLAY_LOCK_KEY}); wait for it to finish, then run again"
        )
    try:
        yield
    finally:
        try:
            async with conn.begin():
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": REPLAY_LOCK_KEY}
                )
        except Exception:
            # A session lock outlives transactions: never hand a connection that may still
            # hold it back to the pool. Closing it releases the lock.
            await conn.invalidate()
