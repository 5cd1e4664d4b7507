"""Queries about messages: a thread's messages oldest first (by `seq`), one message."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import MessageView
from threads.queries.views import message_view
from threads.store.tables import messages, threads


async def thread_messages(conn: AsyncConnection, thread_id: UUID) -> list[MessageView]:
    """Every message of the thread, oldest first; the caller has checked ownership."""
    rows = (
        await conn.execute(
            select(messages).where(messages.c.thread_id == thread_id).order_by(messages.c.seq)
        )
    ).all()
    return [message_view(r) for r in rows]


async def list_messages(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID
) -> dict[str, Any] | None:
    owned = await conn.scalar(
        select(threads.c.id).where(threads.c.id == thread_id, threads.c.user_id == user_id)
    )
    if owned is None:
        return None
    return {"messages": [m.model_dump(mode="json") for m in await thread_messages(conn, thread_id)]}


async def fetch_message(
    conn: AsyncConnection, user_id: UUID | None, message_id: UUID
) -> MessageView | None:
    row = (
        await conn.execute(
            select(messages).where(messages.c.id == message_id, messages.c.user_id == user_id)
        )
    ).first()
    return message_view(row) if row else None


async def get_message(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID, message_id: UUID
) -> MessageView | None:
    """One message of one thread (the thread must be the user's and hold the message)."""
    view = await fetch_message(conn, user_id, message_id)
    return view if view is not None and view.thread_id == thread_id else None
