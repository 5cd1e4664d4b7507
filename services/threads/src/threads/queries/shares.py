"""Share links: the snapshot a link shows (asked without a user: the link is the permission)
and the links of one of the user's threads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import SharedThreadView, ShareListView, ShareView
from threads.store.tables import shares, threads


async def get_shared(conn: AsyncConnection, share_id: str) -> SharedThreadView | None:
    row = (
        await conn.execute(
            select(shares.c.title, shares.c.messages, shares.c.created_at).where(
                shares.c.share_id == share_id
            )
        )
    ).first()
    if row is None:
        return None
    return SharedThreadView(title=row.title, messages=row.messages, created_at=row.created_at)


async def list_shares(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID
) -> dict[str, Any] | None:
    owned = await conn.scalar(
        select(threads.c.id).where(threads.c.id == thread_id, threads.c.user_id == user_id)
    )
    if owned is None:
        return None
    rows = await conn.execute(
        select(shares.c.share_id, shares.c.thread_id, shares.c.created_at)
        .where(shares.c.thread_id == thread_id)
        .order_by(shares.c.created_at.desc(), shares.c.share_id)
    )
    views = [
        ShareView(share_id=r.share_id, thread_id=r.thread_id, created_at=r.created_at) for r in rows
    ]
    return ShareListView(shares=views).model_dump(mode="json")
