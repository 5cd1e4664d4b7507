"""Read model `messages`, chat side: user turns and generated answers.

A user turn is stored `complete`. The answer's row appears at AssistantMessageRequested as
`streaming` with empty content, and its outcome fills it in: completed (content, usage),
failed (partial content, metadata naming the error) or cancelled (the partial content exactly as
streamed). Every message moves its thread's count and activity through `touch_thread`; an
outcome moves only the activity. Only event data and `recorded_at` are used, so replay yields
the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import ProjectionFn
from threads.projections.threads import touch_thread
from threads.store.event_store import StoredEvent
from threads.store.tables import messages, threads


def _owner(thread_id: Any) -> Any:
    return select(threads.c.user_id).where(threads.c.id == thread_id).scalar_subquery()


async def user_message_posted(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    await conn.execute(
        messages.insert().values(
            id=d["message_id"],
            seq=event.position,
            thread_id=d["thread_id"],
            user_id=_owner(d["thread_id"]),
            role=literal("user"),
            content=d["content"],
            artifact_data=d.get("artifact_data"),
            metadata=d.get("metadata"),
            status=literal("complete"),
            created_at=event.recorded_at,
        )
    )
    await touch_thread(conn, d["thread_id"], event.recorded_at, +1)


async def assistant_message_requested(conn: AsyncConnection, event: StoredEvent) -> None:
    d = event.data
    await conn.execute(
        messages.insert().values(
            id=d["message_id"],
            seq=event.position,
            thread_id=d["thread_id"],
            user_id=d["user_id"],
            role=literal("assistant"),
            content=literal(""),
            status=literal("streaming"),
            provider=d["provider"],
            model=d["model"],
            attempt=d.get("attempt", 1),
            created_at=event.recorded_at,
        )
    )
    await touch_thread(conn, d["thread_id"], event.recorded_at, +1)


async def _finish(event: StoredEvent, conn: AsyncConnection, **values: Any) -> None:
    d = event.data
    result = await conn.execute(
        messages.update()
        .where(messages.c.id == d["message_id"])
        .values(content=d.get("content", ""), attempt=d.get("attempt", 1), **values)
    )
    if result.rowcount:  # the message may have been deleted while it streamed
        await touch_thread(conn, d["thread_id"], event.recorded_at, 0)


async def assistant_message_completed(conn: AsyncConnection, event: StoredEvent) -> None:
    await _finish(event, conn, status="complete", usage=event.data.get("usage"))


async def assistant_message_failed(conn: AsyncConnection, event: StoredEvent) -> None:
    error = {"error_code": event.data["code"], "error": event.data.get("error", "")}
    await _finish(event, conn, status="failed", metadata=error)


async def assistant_message_cancelled(conn: AsyncConnection, event: StoredEvent) -> None:
    await _finish(event, conn, status="cancelled")


HANDLERS: dict[str, ProjectionFn] = {
    "UserMessagePosted": user_message_posted,
    "AssistantMessageRequested": assistant_message_requested,
    "AssistantMessageCompleted": assistant_message_completed,
    "AssistantMessageFailed": assistant_message_failed,
    "AssistantMessageCancelled": assistant_message_cancelled,
}
