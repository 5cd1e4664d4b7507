"""Queries for chat: what the worker needs to answer a message, and one answer with its outcome.

Both are scoped to the asking user: another user's thread or message is answered as missing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import (
    ChatContextView,
    ChatMessageView,
    DocumentTextView,
    MessageView,
    TaskRouteView,
)
from threads.domain import chat
from threads.queries.threads import fetch_thread
from threads.queries.views import message_view
from threads.store.event_store import _row_to_event
from threads.store.tables import documents, events, messages, preferences, task_routes

HISTORY_STATUSES = ("complete", "cancelled")


async def _message_events(conn: AsyncConnection, thread_id: UUID, message_id: UUID) -> list[Any]:
    rows = (
        await conn.execute(
            select(events)
            .where(
                events.c.stream_id == f"thread-{thread_id}",
                events.c.event_type.in_(chat.ANSWER_EVENTS),
                events.c.data["message_id"].astext == str(message_id),
            )
            .order_by(events.c.stream_version)
        )
    ).all()
    return [_row_to_event(r) for r in rows]


async def _documents(
    conn: AsyncConnection, thread_id: UUID, project_id: UUID | None
) -> list[DocumentTextView]:
    """The thread's documents, then its project's, each oldest first."""
    scope = documents.c.thread_id == thread_id
    if project_id is not None:
        scope = or_(scope, documents.c.project_id == project_id)
    rows = (
        await conn.execute(
            select(documents.c.filename, documents.c.content, documents.c.thread_id)
            .where(scope)
            .order_by(documents.c.thread_id.is_(None), documents.c.created_at, documents.c.id)
        )
    ).all()
    return [DocumentTextView(filename=r.filename, content=r.content) for r in rows]


async def _title_task(conn: AsyncConnection, user_id: UUID) -> TaskRouteView | None:
    """Where the `title` task goes when the user routes tasks to separate models."""
    separate = await conn.scalar(
        select(preferences.c.use_separate_models).where(preferences.c.user_id == user_id)
    )
    if not separate:
        return None
    row = (
        await conn.execute(
            select(task_routes).where(
                and_(task_routes.c.user_id == user_id, task_routes.c.task == "title")
            )
        )
    ).first()
    return TaskRouteView(task=row.task, provider=row.provider, model=row.model) if row else None


async def chat_context(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID, message_id: UUID
) -> ChatContextView | None:
    if user_id is None:
        return None
    thread = await fetch_thread(conn, user_id, thread_id)
    if thread is None:
        return None
    rows = (
        await conn.execute(
            select(messages).where(messages.c.thread_id == thread_id).order_by(messages.c.seq)
        )
    ).all()
    answer = next((r for r in rows if r.id == message_id), None)
    history: list[MessageView] = []
    answers_before = 0
    for r in rows:
        if answer is not None and r.seq >= answer.seq:
            break
        if r.role == "assistant":
            answers_before += 1
            if r.status not in HISTORY_STATUSES or not r.content:
                continue
        history.append(message_view(r))
    state = chat.fold_answer(
        [e.to_domain() for e in await _message_events(conn, thread_id, message_id)]
    )
    return ChatContextView(
        thread=thread,
        history=history,
        documents=await _documents(conn, thread_id, thread.project_id),
        message_status=answer.status if answer is not None else None,
        title_task=await _title_task(conn, user_id),
        cancel_requested=bool(state and state.cancel_requested),
        message=message_view(answer) if answer is not None else None,
        first_exchange=answers_before == 0,
    )


async def chat_message(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID, message_id: UUID
) -> ChatMessageView | None:
    row = (
        await conn.execute(
            select(messages).where(
                messages.c.id == message_id,
                messages.c.thread_id == thread_id,
                messages.c.user_id == user_id,
            )
        )
    ).first()
    if row is None:
        return None
    view = ChatMessageView(message=message_view(row), attempt=row.attempt)
    for event in await _message_events(conn, thread_id, message_id):
        d = event.data
        if event.type == "AssistantMessageRequested":
            view.user_message_id = UUID(d["user_message_id"])
        elif event.type == "AssistantMessageCompleted":
            view.finish_reason = d.get("finish_reason")
        elif event.type == "AssistantMessageFailed":
            view.error_code, view.error = d.get("code"), d.get("error")
    return view
