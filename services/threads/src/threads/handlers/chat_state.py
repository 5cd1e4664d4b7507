"""Loads one assistant message's lifecycle from its thread's stream, for the chat handlers."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.domain import chat
from threads.store.event_store import _row_to_event
from threads.store.tables import events


async def load_answer(
    conn: AsyncConnection, stream_id: str, message_id: UUID
) -> chat.AnswerState | None:
    """Only this message's events are read (filtered in SQL), however long the thread."""
    rows = (
        await conn.execute(
            select(events)
            .where(
                events.c.stream_id == stream_id,
                events.c.event_type.in_(chat.ANSWER_EVENTS),
                events.c.data["message_id"].astext == str(message_id),
            )
            .order_by(events.c.stream_version)
        )
    ).all()
    return chat.fold_answer([_row_to_event(r).to_domain() for r in rows])
