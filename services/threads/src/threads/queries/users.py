"""Queries about users: profile, and credentials for the gateway's login."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import CredentialsView, UserView
from threads.queries.views import user_view
from threads.store.tables import users


async def get_user(conn: AsyncConnection, user_id: UUID) -> UserView | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return user_view(row) if row else None


async def get_credentials(conn: AsyncConnection, email: str) -> CredentialsView | None:
    row = (
        await conn.execute(
            select(users.c.id, users.c.password_hash, users.c.disabled).where(
                users.c.email == email.strip().lower()
            )
        )
    ).first()
    if row is None:
        return None
    return CredentialsView(user_id=row.id, password_hash=row.password_hash, disabled=row.disabled)
