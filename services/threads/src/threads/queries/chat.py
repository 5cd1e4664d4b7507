"""Queries for chat: what the worker needs to answer a message, and one answer with its outcome.

Both are scoped to the asking user: another user's thread or message is answered as missing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import String, Uuid, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import (
    ChatContextView,
    ChatMessageView,
    DocumentTextView,
    MessageView,
    TaskRouteView,
)
from threads.domain import chat
from threads.domain.errors import DomainError
from threads.queries.providers import get_credentials
from threads.queries.views import message_view, thread_view
from threads.store.crypto import KeyRing
from threads.store.event_store import _row_to_event
from threads.store.tables import documents, events, messages, preferences, task_routes, threads

log = structlog.get_logger(__name__)
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


# The chat context's statements are built once: the worker waits for them before every answer.
_DOCUMENTS = (
    select(documents.c.filename, documents.c.content, documents.c.thread_id)
    .where(
        or_(
            documents.c.thread_id == bindparam("thread_id", type_=Uuid()),
            # NULL when the thread is in no project: matches nothing
            documents.c.project_id == bindparam("project_id", type_=Uuid()),
        )
    )
    .order_by(documents.c.thread_id.is_(None), documents.c.created_at, documents.c.id)
)
_HISTORY = (
    select(messages)
    .where(messages.c.thread_id == bindparam("thread_id", type_=Uuid()))
    .order_by(messages.c.seq)
)


async def _documents(
    conn: AsyncConnection, thread_id: UUID, project_id: UUID | None
) -> list[DocumentTextView]:
    """The thread's documents, then its project's, each oldest first."""
    rows = (
        await conn.execute(_DOCUMENTS, {"thread_id": thread_id, "project_id": project_id})
    ).all()
    return [DocumentTextView(filename=r.filename, content=r.content) for r in rows]


def _title_route(column: Any) -> Any:
    """The `title` route's provider or model, when the user routes tasks to separate models."""
    return (
        select(column)
        .join(preferences, preferences.c.user_id == task_routes.c.user_id)
        .where(
            task_routes.c.user_id == bindparam("user_id", type_=Uuid()),
            task_routes.c.task == "title",
            preferences.c.use_separate_models.is_(True),
        )
        .scalar_subquery()
    )


_CANCELLED = (
    select(events.c.global_position)
    .where(
        events.c.stream_id == bindparam("stream_id", type_=String()),
        events.c.event_type == "GenerationCancelled",
        events.c.data["message_id"].astext == bindparam("message_id", type_=String()),
    )
    .exists()
)
_THREAD = select(
    threads,
    _CANCELLED.label("cancel_requested"),
    _title_route(task_routes.c.provider).label("title_provider"),
    _title_route(task_routes.c.model).label("title_model"),
).where(
    threads.c.id == bindparam("thread_id", type_=Uuid()),
    threads.c.user_id == bindparam("user_id", type_=Uuid()),
)


async def chat_context(
    conn: AsyncConnection,
    user_id: UUID | None,
    thread_id: UUID,
    message_id: UUID,
    *,
    credentials_for: str | None = None,
    ring: KeyRing | None = None,
) -> ChatContextView | None:
    """Three reads: the thread (with the title route and whether a cancel was asked for, as
    subqueries), its messages, its documents; then, if asked for, the user's credentials for
    a provider. The worker waits for this before calling the provider, so it is one request
    and few round trips."""
    if user_id is None:
        return None
    params = {
        "thread_id": thread_id,
        "user_id": user_id,
        "stream_id": f"thread-{thread_id}",
        "message_id": str(message_id),
    }
    row = (await conn.execute(_THREAD, params)).first()
    if row is None:
        return None
    thread = thread_view(row)
    rows = (await conn.execute(_HISTORY, {"thread_id": thread_id})).all()
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
    title_task = (
        TaskRouteView(task="title", provider=row.title_provider, model=row.title_model)
        if row.title_provider
        else None
    )
    credentials = None
    if credentials_for is not None and ring is not None:
        try:
            credentials = await get_credentials(conn, ring, user_id, credentials_for)
        except DomainError as err:  # unknown provider or undecryptable key: as if none saved
            log.warning("credentials not available", provider=credentials_for, reason=err.detail)
    return ChatContextView(
        thread=thread,
        credentials=credentials,
        history=history,
        documents=await _documents(conn, thread_id, thread.project_id),
        message_status=answer.status if answer is not None else None,
        title_task=title_task,
        cancel_requested=bool(row.cancel_requested),
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
