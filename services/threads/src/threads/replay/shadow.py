"""Shadow tables for replay, and the swap that puts them in place of the live ones."""

from __future__ import annotations

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.store.tables import READ_MODELS

SHADOW = "replay_shadow"
RETIRED = "replay_retired"


async def create_shadow(conn: AsyncConnection) -> None:
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE"))
    await conn.execute(text(f"CREATE SCHEMA {SHADOW}"))
    shadow = MetaData()
    for table in READ_MODELS:
        table.to_metadata(shadow, schema=SHADOW)
    await conn.run_sync(shadow.create_all)


async def drop_shadow(conn: AsyncConnection) -> None:
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE"))


async def use_shadow(conn: AsyncConnection) -> None:
    """Unqualified table names now resolve to the shadow copies first (events stay public)."""
    await conn.execute(text(f"SET LOCAL search_path TO {SHADOW}, public"))


async def use_live(conn: AsyncConnection) -> None:
    await conn.execute(text("SET LOCAL search_path TO public"))


async def swap_in(conn: AsyncConnection) -> None:
    """Live tables out to a retired schema, shadow tables into public, retired dropped.
    Runs inside the caller's transaction, under its locks: readers wait a moment, never see
    a half-swapped state."""
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE"))
    await conn.execute(text(f"CREATE SCHEMA {RETIRED}"))
    for table in READ_MODELS:
        await conn.execute(text(f'ALTER TABLE public."{table.name}" SET SCHEMA {RETIRED}'))
        await conn.execute(text(f'ALTER TABLE {SHADOW}."{table.name}" SET SCHEMA public'))
    await conn.execute(text(f"DROP SCHEMA {RETIRED} CASCADE"))
    await conn.execute(text(f"DROP SCHEMA {SHADOW} CASCADE"))
