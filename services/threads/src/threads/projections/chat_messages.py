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

from sqlalchemy import BigInteger, BindParameter, Integer, String, Text, TextClause, Uuid, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections import PairFn, ProjectionFn
from threads.projections.threads import touching
from threads.store.event_store import StoredEvent
from threads.store.tables import messages

# Each message event is one statement: the row, then its thread's count and activity (see
# `touching`). A chat posts two messages per command, on the path to the first token, and
# PostChat's pair goes in as one statement with one touch (+2): the same rows, one round trip
# fewer. Replay projects them one by one; the replay-equivalence tests compare the two.
_COLUMNS = """(id, seq, thread_id, user_id, role, content, artifact_data, metadata, status,
               provider, model, attempt, created_at)"""
_USER_ROW = (
    """(:user_message_id, :user_seq, :thread_id,
        (SELECT o.user_id FROM threads o WHERE o.id = :thread_id),
        'user', :content, :artifact_data, :metadata, 'complete', DEFAULT, DEFAULT, DEFAULT,
        :user_at)""",
    bindparam("user_message_id", type_=Uuid()),
    bindparam("user_seq", type_=BigInteger()),
    bindparam("content", type_=Text()),
    bindparam("artifact_data", type_=messages.c.artifact_data.type),
    bindparam("metadata", type_=messages.c.metadata.type),
    bindparam("user_at", type_=messages.c.created_at.type),
)
_ANSWER_ROW = (
    """(:message_id, :seq, :thread_id, :user_id, 'assistant', '', DEFAULT, DEFAULT,
        'streaming', :provider, :model, :attempt, :answer_at)""",
    bindparam("message_id", type_=Uuid()),
    bindparam("seq", type_=BigInteger()),
    bindparam("user_id", type_=Uuid()),
    bindparam("provider", type_=String()),
    bindparam("model", type_=String()),
    bindparam("attempt", type_=Integer()),
    bindparam("answer_at", type_=messages.c.created_at.type),
)


def _inserting(*rows: tuple[Any, ...]) -> TextClause:
    values = ", ".join(row[0] for row in rows)
    params = [param for row in rows for param in row[1:]]
    insert = f"INSERT INTO messages {_COLUMNS} VALUES {values} RETURNING 1"  # noqa: S608  (constants)
    return touching(insert, *params)


_INSERT_USER = _inserting(_USER_ROW)
_INSERT_ANSWER = _inserting(_ANSWER_ROW)
_INSERT_CHAT = _inserting(_USER_ROW, _ANSWER_ROW)


def _user_params(event: StoredEvent) -> dict[str, Any]:
    d = event.data
    return {
        "user_message_id": d["message_id"],
        "user_seq": event.position,
        "thread_id": d["thread_id"],
        "content": d["content"],
        "artifact_data": d.get("artifact_data"),
        "metadata": d.get("metadata"),
        "user_at": event.recorded_at,
    }


def _answer_params(event: StoredEvent) -> dict[str, Any]:
    d = event.data
    return {
        "message_id": d["message_id"],
        "seq": event.position,
        "thread_id": d["thread_id"],
        "user_id": d["user_id"],
        "provider": d["provider"],
        "model": d["model"],
        "attempt": d.get("attempt", 1),
        "answer_at": event.recorded_at,
    }


async def user_message_posted(conn: AsyncConnection, event: StoredEvent) -> None:
    await conn.execute(_INSERT_USER, {**_user_params(event), "at": event.recorded_at, "delta": 1})


async def assistant_message_requested(conn: AsyncConnection, event: StoredEvent) -> None:
    params = {**_answer_params(event), "at": event.recorded_at, "delta": 1}
    await conn.execute(_INSERT_ANSWER, params)


async def chat_posted(conn: AsyncConnection, posted: StoredEvent, requested: StoredEvent) -> None:
    """UserMessagePosted and the AssistantMessageRequested appended right after it."""
    at = max(posted.recorded_at, requested.recorded_at)
    params = {**_user_params(posted), **_answer_params(requested), "at": at, "delta": 2}
    await conn.execute(_INSERT_CHAT, params)


def _finishing(extra: str = "", *params: BindParameter[Any]) -> TextClause:
    """The outcome in one statement; the thread's activity moves only if the message is still
    there (it may have been deleted while it streamed)."""
    return touching(
        f"""
        UPDATE messages SET content = :content, attempt = :attempt, status = :status {extra}
        WHERE id = :message_id
        RETURNING 1
        """,  # noqa: S608  (only this module's constant fragments, never input)
        bindparam("message_id", type_=Uuid()),
        bindparam("content", type_=Text()),
        bindparam("attempt", type_=Integer()),
        bindparam("status", type_=String()),
        *params,
    )


_COMPLETE = _finishing(", usage = :usage", bindparam("usage", type_=messages.c.usage.type))
_FAIL = _finishing(", metadata = :error", bindparam("error", type_=messages.c.metadata.type))
_CANCEL = _finishing()


async def _finish(
    conn: AsyncConnection, statement: TextClause, event: StoredEvent, status: str, **extra: Any
) -> None:
    d = event.data
    await conn.execute(
        statement,
        {
            "message_id": d["message_id"],
            "content": d.get("content", ""),
            "attempt": d.get("attempt", 1),
            "status": status,
            "thread_id": d["thread_id"],
            "at": event.recorded_at,
            "delta": 0,
            **extra,
        },
    )


async def assistant_message_completed(conn: AsyncConnection, event: StoredEvent) -> None:
    await _finish(conn, _COMPLETE, event, "complete", usage=event.data.get("usage"))


async def assistant_message_failed(conn: AsyncConnection, event: StoredEvent) -> None:
    error = {"error_code": event.data["code"], "error": event.data.get("error", "")}
    await _finish(conn, _FAIL, event, "failed", error=error)


async def assistant_message_cancelled(conn: AsyncConnection, event: StoredEvent) -> None:
    await _finish(conn, _CANCEL, event, "cancelled")


PAIRS: dict[tuple[str, str], PairFn] = {
    ("UserMessagePosted", "AssistantMessageRequested"): chat_posted,
}
HANDLERS: dict[str, ProjectionFn] = {
    "UserMessagePosted": user_message_posted,
    "AssistantMessageRequested": assistant_message_requested,
    "AssistantMessageCompleted": assistant_message_completed,
    "AssistantMessageFailed": assistant_message_failed,
    "AssistantMessageCancelled": assistant_message_cancelled,
}
