"""A fresh database per test session, migrated to head with Alembic."""

from __future__ import annotations

import asyncio
import uuid

from threads.migrations.runner import ensure_database, upgrade


def asyncpg_url(admin_dsn: str, database: str) -> str:
    base = admin_dsn.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{database}"


def create_migrated_database(admin_dsn: str, prefix: str = "sb_test") -> str:
    url = asyncpg_url(admin_dsn, f"{prefix}_{uuid.uuid4().hex[:10]}")
    asyncio.run(ensure_database(url))
    upgrade(url)
    return url
