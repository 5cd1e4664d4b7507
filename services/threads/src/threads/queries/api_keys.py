"""API keys: a user's keys as listed (never their hashes), the live key of a hash (a gateway's
cache miss), and the logged-out tokens still in force and the disabled users (a gateway that
starts)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import ApiKeyListView, ApiKeyOwnerView, ApiKeyView, RevocationsView
from threads.store.tables import api_key_last_used, api_keys, revoked_tokens, users


async def list_api_keys(conn: AsyncConnection, user_id: UUID | None) -> dict[str, Any]:
    rows = await conn.execute(
        select(
            api_keys.c.key_id.label("id"),
            api_keys.c.name,
            api_keys.c.prefix,
            api_keys.c.created_at,
            api_keys.c.expires_at,
            api_key_last_used.c.last_used_at,
        )
        .outerjoin(api_key_last_used, api_key_last_used.c.key_id == api_keys.c.key_id)
        .where(api_keys.c.user_id == user_id)
        .order_by(api_keys.c.created_at.desc(), api_keys.c.key_id)
    )
    keys = [ApiKeyView.model_validate(r._mapping) for r in rows]
    return ApiKeyListView(keys=keys).model_dump(mode="json")


async def verify_api_key(conn: AsyncConnection, key_hash: str) -> ApiKeyOwnerView | None:
    row = (
        await conn.execute(
            select(api_keys.c.key_id, api_keys.c.user_id, api_keys.c.expires_at).where(
                api_keys.c.hash == key_hash,
                or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > func.now()),
            )
        )
    ).first()
    if row is None:
        return None
    return ApiKeyOwnerView(key_id=row.key_id, user_id=row.user_id, expires_at=row.expires_at)


async def revocations(conn: AsyncConnection) -> RevocationsView:
    rows = await conn.execute(
        select(revoked_tokens.c.jti, revoked_tokens.c.expires_at).where(
            revoked_tokens.c.expires_at > func.now()
        )
    )
    disabled = await conn.scalars(select(users.c.id).where(users.c.disabled.is_(True)))
    return RevocationsView(
        tokens={r.jti: r.expires_at for r in rows}, disabled_users=list(disabled)
    )
