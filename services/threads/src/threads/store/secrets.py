"""The `provider_secrets` table: one sealed API key per (user, provider), outside the event store.

Rows are mutable on purpose: deleting one really erases the key, which an append-only event
could never do. Writes happen in the caller's transaction, next to the event that records only
that a key was set (and its hint).
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from threads.store.crypto import KeyRing, associated_data
from threads.store.tables import secrets


async def put_secret(
    conn: AsyncConnection, ring: KeyRing, user_id: UUID, provider: str, api_key: str
) -> None:
    key_id, blob = ring.seal(api_key, associated_data(user_id, provider))
    stmt = pg_insert(secrets).values(
        user_id=user_id, provider=provider, key_id=key_id, ciphertext=blob
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[secrets.c.user_id, secrets.c.provider],
            set_={"key_id": key_id, "ciphertext": blob, "updated_at": func.now()},
        )
    )


async def delete_secret(conn: AsyncConnection, user_id: UUID, provider: str) -> bool:
    """True if a key was stored (and is now gone)."""
    result = await conn.execute(
        delete(secrets).where(secrets.c.user_id == user_id, secrets.c.provider == provider)
    )
    return bool(result.rowcount)


async def get_secret(
    conn: AsyncConnection, ring: KeyRing, user_id: UUID, provider: str
) -> str | None:
    """The decrypted key, or None if none is stored; raises SecretDecryptError."""
    row = (
        await conn.execute(
            select(secrets.c.key_id, secrets.c.ciphertext).where(
                secrets.c.user_id == user_id, secrets.c.provider == provider
            )
        )
    ).first()
    if row is None:
        return None
    return ring.open(row.key_id, row.ciphertext, associated_data(user_id, provider))


async def rotate_secrets(engine: AsyncEngine, ring: KeyRing, batch_size: int = 500) -> int:
    """Re-seal every row not under the active key; returns how many. Each batch commits on its
    own, rows locked while re-sealed, so it can run while the service serves."""
    total = 0
    while True:
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(secrets)
                    .where(secrets.c.key_id != ring.active_id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                aad = associated_data(row.user_id, row.provider)
                key_id, blob = ring.seal(ring.open(row.key_id, row.ciphertext, aad), aad)
                await conn.execute(
                    secrets.update()
                    .where(secrets.c.user_id == row.user_id, secrets.c.provider == row.provider)
                    .values(key_id=key_id, ciphertext=blob, updated_at=func.now())
                )
        total += len(rows)
        if len(rows) < batch_size:
            return total
