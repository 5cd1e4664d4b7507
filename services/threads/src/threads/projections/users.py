"""Read model `users`: one row per registered user (email unique)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import users


async def user_registered(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    await conn.execute(
        users.insert().values(
            id=d["user_id"],
            email=d["email"],
            display_name=d.get("display_name"),
            password_hash=d["password_hash"],
            created_at=event.recorded_at,
        )
    )


HANDLERS: dict[str, ProjectionFn] = {"UserRegistered": user_registered}
