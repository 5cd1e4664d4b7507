"""Run Alembic from code (no alembic.ini needed) and create the database if it is missing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

HERE = Path(__file__).parent
log = structlog.get_logger(__name__)
# A Postgres that is starting, or recovering after a crash, takes TCP connections and refuses
# them (CannotConnectNowError) until it is ready: migrating then waits instead of failing.
STARTUP_WAIT = 60.0


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


async def ensure_database(database_url: str) -> None:
    url = make_url(database_url)
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres")
    conn = await _connect_when_ready(admin.render_as_string(hide_password=False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _connect_when_ready(dsn: str, wait: float = STARTUP_WAIT) -> asyncpg.Connection:
    loop = asyncio.get_running_loop()
    until = loop.time() + wait
    while True:
        try:
            return await asyncpg.connect(dsn)
        except (asyncpg.CannotConnectNowError, OSError) as exc:
            if loop.time() > until:
                raise
            log.info("waiting for Postgres", reason=type(exc).__name__)
            await asyncio.sleep(0.5)
