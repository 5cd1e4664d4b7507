"""Loads a thread and one of its assistant messages for a chat command, in one read.

The stream is locked first (writers of one thread queue up, see `store.locks`), then a single
query reads the thread's own events and this message's lifecycle events (filtered in SQL by
message id, however long the thread): the outcome commands sit on the path of every answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

from threads.domain import chat, thread
from threads.store.event_store import _row_to_event, stream_version
from threads.store.locks import lock_stream
from threads.store.tables import events
from threads.store.unit_of_work import HandlerContext


async def load_for_answer(
    ctx: HandlerContext[Any], thread_id: UUID, message_id: UUID
) -> tuple[str, int, thread.ThreadState | None, chat.AnswerState | None]:
    """(stream id, version, thread state, answer state), under the stream's lock."""
    stream = thread.stream_id(thread_id)
    await lock_stream(ctx.conn, stream)
    version = await stream_version(ctx.conn, stream)
    rows = (
        await ctx.conn.execute(
            select(events)
            .where(
                events.c.stream_id == stream,
                or_(
                    events.c.event_type.in_(thread.STATE_EVENTS),
                    (events.c.event_type.in_(chat.ANSWER_EVENTS))
                    & (events.c.data["message_id"].astext == str(message_id)),
                ),
            )
            .order_by(events.c.stream_version)
        )
    ).all()
    loaded = [_row_to_event(r) for r in rows]
    state = thread.fold([e.to_domain() for e in loaded if e.type in thread.STATE_EVENTS])
    answer = chat.fold_answer([e.to_domain() for e in loaded if e.type in chat.ANSWER_EVENTS])
    return stream, version, state, answer
