"""Read model `messages`: messages stored as given, ordered by `seq`, the global position of
the event that posted them (so order is the log's order, whatever the clocks say).

Chat messages (user turns and generated answers) are projected by `chat_messages`; deleting a
message or its thread removes the row whichever way it came.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.store.event_store import StoredEvent
from threads.store.tables import messages, threads


async def message_posted(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    owner = select(threads.c.user_id).where(threads.c.id == d["thread_id"]).scalar_subquery()
    await conn.execute(
        messages.insert().values(
            id=d["message_id"],
            seq=event.position,
            thread_id=d["thread_id"],
            user_id=owner,
            role=d["role"],
            content=d["content"],
            artifact_data=d.get("artifact_data"),
            metadata=d.get("metadata"),
            status=literal("complete"),
            created_at=event.recorded_at,
        )
    )


async def message_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(messages.delete().where(messages.c.id == event.data["message_id"]))


async def thread_deleted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(messages.delete().where(messages.c.thread_id == event.data["thread_id"]))


HANDLERS: dict[str, ProjectionFn] = {
    "MessagePosted": message_posted,
    "MessageDeleted": message_deleted,
    "ThreadDeleted": thread_deleted,
}
