"""Shadow tables for replay, and the swap that puts them in place of the live ones.

The shadow tables come from the same SQLAlchemy metadata as the live ones, with the same naming
convention, so a swap leaves exactly the schema the migrations made (names of keys and indexes
included). They are loaded bare: primary keys, unique constraints and indexes are added from the
same metadata once the rows are in (`threads.replay.load`), which builds each index in one
sort instead of maintaining it row by row.
"""

from __future__ import annotations

from sqlalchemy import MetaData, PrimaryKeyConstraint, Table, UniqueConstraint, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import Constraint, CreateTable, DropConstraint

from threads.store.tables import READ_MODELS, metadata

SHADOW = "replay_shadow"
RETIRED = "replay_retired"


def shadow_tables() -> list[Table]:
    shadow = MetaData(naming_convention=metadata.naming_convention)
    return [table.to_metadata(shadow, schema=SHADOW) for table in READ_MODELS]


def keys_of(table: Table) -> list[Constraint]:
    return [c for c in table.constraints if isinstance(c, PrimaryKeyConstraint | UniqueConstraint)]


async def create_shadow(conn: AsyncConnection) -> list[Table]:
    """Empty shadow tables, bare: created as the metadata says (columns, defaults, NOT NULL),
    then their keys dropped while they are empty, to be added back after the load."""
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE"))
    await conn.execute(text(f"CREATE SCHEMA {SHADOW}"))
    tables = shadow_tables()
    for table in tables:
        await conn.execute(CreateTable(table))
        for key in keys_of(table):
            await conn.execute(DropConstraint(key))
    return tables


async def drop_shadow(conn: AsyncConnection) -> None:
    await conn.execute(text(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE"))


async def use_shadow(conn: AsyncConnection) -> None:
    """Unqualified table names now resolve to the shadow copies first (events stay public)."""
    await conn.execute(text(f"SET LOCAL search_path TO {SHADOW}, public"))


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
