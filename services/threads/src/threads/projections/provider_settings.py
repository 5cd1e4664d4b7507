"""Read model `provider_settings`: one row per configured (user, provider), without the key."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import provider_settings


async def provider_configured(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    values = {
        "base_url": d.get("base_url"),
        "enabled": d["enabled"],
        "key_set": d["key_set"],
        "key_hint": d.get("key_hint"),
        "updated_at": event.recorded_at,
    }
    stmt = pg_insert(provider_settings).values(
        user_id=d["user_id"], provider=d["provider"], **values
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[provider_settings.c.user_id, provider_settings.c.provider],
            set_=values,
        )
    )


async def provider_removed(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    await conn.execute(
        provider_settings.delete().where(
            provider_settings.c.user_id == d["user_id"],
            provider_settings.c.provider == d["provider"],
        )
    )


HANDLERS: dict[str, ProjectionFn] = {
    "ProviderConfigured": provider_configured,
    "ProviderRemoved": provider_removed,
}
