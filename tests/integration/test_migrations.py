"""Alembic owns every table: up from empty to head, down to base, up again; and an upgrade
from an earlier revision keeps the data that was there."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.postgres import PG_USER, start_postgres
from tests.support.database import asyncpg_url
from tests.support.servers import Infra, free_port
from threads.migrations.runner import alembic_config, downgrade, ensure_database, upgrade
from threads.store.tables import metadata


def fresh_url(infra: Infra) -> str:
    url = asyncpg_url(infra.admin_dsn, f"mig_{uuid.uuid4().hex[:10]}")
    asyncio.run(ensure_database(url))
    return url


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        )
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_upgrade_downgrade_upgrade(infra: Infra) -> None:
    url = fresh_url(infra)
    upgrade(url)
    assert asyncio.run(tables(url)) == set(metadata.tables)
    downgrade(url, "base")
    assert asyncio.run(tables(url)) == set()
    upgrade(url)
    assert asyncio.run(tables(url)) == set(metadata.tables)


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")  # every type reflected
def test_head_matches_the_models(infra: Infra) -> None:
    """No drift: autogenerate against head finds nothing to change."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = fresh_url(infra)
    upgrade(url)

    async def diff() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            await engine.dispose()

    assert asyncio.run(diff()) == []


def test_upgrade_from_first_revision_keeps_data(infra: Infra) -> None:
    url = fresh_url(infra)
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = list(reversed(list(script.walk_revisions())))
    upgrade(url, revisions[0].revision)
    user_id, event_id = uuid.uuid4(), uuid.uuid4()

    async def seed() -> None:
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            await conn.execute(
                "INSERT INTO events (stream_id, stream_version, event_id, event_type,"
                " schema_version, data, metadata) VALUES ($1, 1, $2, 'UserRegistered', 1,"
                " $3::jsonb, '{}'::jsonb)",
                f"user-{user_id}",
                event_id,
                json.dumps(
                    {
                        "user_id": str(user_id),
                        "email": "old@example.com",
                        "display_name": None,
                        "password_hash": "h",
                    }
                ),
            )
            await conn.execute(
                "INSERT INTO users (id, email, display_name, password_hash, created_at)"
                " VALUES ($1, 'old@example.com', NULL, 'h', now())",
                user_id,
            )
        finally:
            await conn.close()

    async def read() -> tuple[int, str]:
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            n = await conn.fetchval("SELECT count(*) FROM events WHERE event_id = $1", event_id)
            email = await conn.fetchval("SELECT email FROM users WHERE id = $1", user_id)
            return n, email
        finally:
            await conn.close()

    asyncio.run(seed())
    upgrade(url)
    assert asyncio.run(read()) == (1, "old@example.com")


async def test_migrating_waits_for_a_postgres_that_is_still_starting(tmp_path: Path) -> None:
    """`switchboard-threads migrate` against a Postgres that is not up yet (or still recovering
    after a crash, when it refuses connections) waits for it instead of failing: `make up`
    after an unclean stop once failed exactly so."""
    port = free_port()
    url = f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/waited"
    waiting = asyncio.create_task(ensure_database(url))
    await asyncio.sleep(1.0)
    assert not waiting.done()  # refused so far: still trying
    pg = await asyncio.to_thread(
        start_postgres,
        tmp_path / "pg",
        port,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        fsync=False,
    )
    try:
        await asyncio.wait_for(waiting, 60)
        conn = await asyncpg.connect(f"postgresql://{PG_USER}@127.0.0.1:{port}/waited")
        await conn.close()
    finally:
        pg.stop()
