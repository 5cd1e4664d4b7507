"""The asyncpg connection under a SQLAlchemy connection: the bulk phase reads and COPYs through
it directly (no per-row SQLAlchemy work) while staying in the same transaction and snapshot."""

from __future__ import annotations

from typing import cast

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection


async def driver_connection(conn: AsyncConnection) -> asyncpg.Connection:
    """Call inside a transaction SQLAlchemy has already started (it begins lazily, at the
    first statement it runs)."""
    raw = await conn.get_raw_connection()
    return cast(asyncpg.Connection, raw.driver_connection)
