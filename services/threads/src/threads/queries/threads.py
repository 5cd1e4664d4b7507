"""Queries about threads: the global list (offset or keyset pages), one thread, its events."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import ScalarSelect

from contracts.queries import ListThreads
from contracts.replies import Reply
from contracts.text import problem
from contracts.views import EventView, ThreadDetailView, ThreadPageView, ThreadView
from threads.domain import thread
from threads.domain.errors import invalid, not_found
from threads.queries.messages import thread_messages
from threads.queries.views import thread_view
from threads.store.event_store import load_stream
from threads.store.tables import projects, threads, user_thread_counts


def encode_cursor(last_activity_at: datetime, thread_id: UUID) -> str:
    raw = json.dumps([last_activity_at.isoformat(), str(thread_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, ident = json.loads(raw)
        when = datetime.fromisoformat(at)
        thread_id = UUID(ident)
        if when.tzinfo is None:
            raise ValueError("naive time")
        when = when.astimezone(UTC)
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise invalid("Invalid cursor") from exc
    return when, thread_id


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _total(user_id: UUID, q: ListThreads, where: list[Any]) -> ScalarSelect[Any]:
    """From the counters the projections keep, unless a title search must count matches.
    For a project that is not the user's it is NULL."""
    if q.q:
        matches = select(func.count()).select_from(threads).where(*where)
        return matches.correlate(None).scalar_subquery()  # its own scan, not the page's rows
    if q.project_id is not None:
        return (
            select(projects.c.thread_count)
            .where(projects.c.id == q.project_id, projects.c.user_id == user_id)
            .scalar_subquery()
        )
    return (
        select(func.coalesce(func.max(user_thread_counts.c.thread_count), 0))
        .where(user_thread_counts.c.user_id == user_id)
        .scalar_subquery()
    )


async def list_threads(conn: AsyncConnection, user_id: UUID, q: ListThreads) -> ThreadPageView:
    """Newest activity first. A `project_id` that is not the user's answers not found.

    One statement in the common case: the page's ids come from the (user, last_activity_at, id)
    index alone and only those rows are read (a deferred join, so a deep offset walks index
    entries, not table rows), with the total alongside."""
    where: list[Any] = [threads.c.user_id == user_id]
    if q.project_id is not None:
        where.append(threads.c.project_id == q.project_id)
    if q.q:
        if problem(q.q) is not None:
            raise invalid("q contains characters that cannot be searched")
        where.append(threads.c.title.ilike(f"%{_escape_like(q.q)}%", escape="\\"))
    order = (threads.c.last_activity_at.desc(), threads.c.id.desc())
    ids = select(threads.c.id).where(*where)
    if q.cursor:
        at, ident = decode_cursor(q.cursor)
        ids = ids.where(
            tuple_(threads.c.last_activity_at, threads.c.id) < tuple_(at, ident)  # type: ignore[arg-type]
        )
    else:
        ids = ids.offset(q.offset)
    page = ids.order_by(*order).limit(q.limit + 1).subquery()
    total = _total(user_id, q, where)
    rows = (
        await conn.execute(
            select(threads, total.label("total"))
            .join(page, threads.c.id == page.c.id)
            .order_by(*order)
        )
    ).all()
    count = rows[0].total if rows else await conn.scalar(select(total))
    if count is None:  # only for a project that is not the user's
        raise not_found("Project")
    has_more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = (
        encode_cursor(rows[-1].last_activity_at, rows[-1].id) if has_more and rows else None
    )
    return ThreadPageView(
        threads=[thread_view(r) for r in rows],
        total=int(count),
        page=q.offset // q.limit + 1 if not q.cursor else 0,
        page_size=q.limit,
        has_more=has_more,
        next_cursor=next_cursor,
    )


async def fetch_thread(conn: AsyncConnection, user_id: UUID, thread_id: UUID) -> ThreadView | None:
    row = (
        await conn.execute(
            select(threads).where(and_(threads.c.id == thread_id, threads.c.user_id == user_id))
        )
    ).first()
    return thread_view(row) if row else None


async def thread_reply(conn: AsyncConnection, user_id: UUID | None, thread_id: UUID) -> Reply:
    """The reply to a command that made or changed a thread: the thread as it now is (the
    command's own transaction wrote it, so it is there)."""
    assert user_id is not None
    view = await fetch_thread(conn, user_id, thread_id)
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))


async def get_thread_detail(
    conn: AsyncConnection, user_id: UUID, thread_id: UUID
) -> ThreadDetailView | None:
    view = await fetch_thread(conn, user_id, thread_id)
    if view is None:
        return None
    return ThreadDetailView(**view.model_dump(), messages=await thread_messages(conn, thread_id))


async def thread_events(
    conn: AsyncConnection, user_id: UUID, thread_id: UUID
) -> dict[str, Any] | None:
    """The thread's stream, oldest first, upcast to current shapes: `{events: [...]}`."""
    if await fetch_thread(conn, user_id, thread_id) is None:
        return None
    _, stored = await load_stream(conn, thread.stream_id(thread_id))
    history = [EventView.model_validate(e, from_attributes=True) for e in stored]
    return {"events": [e.model_dump(mode="json") for e in history]}
