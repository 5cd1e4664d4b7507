"""Queries about threads: the global list (offset or keyset pages), one thread, its events."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.queries import ListThreads
from contracts.views import EventView, ThreadDetailView, ThreadPageView, ThreadView
from threads.domain.errors import invalid, not_found
from threads.domain.text import storable
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


async def _total(
    conn: AsyncConnection, user_id: UUID, where: list[Any], searched: bool, in_project: int | None
) -> int:
    """From the counters the projections keep, unless a title search must count matches."""
    if searched:
        return int(await conn.scalar(select(func.count()).select_from(threads).where(*where)) or 0)
    if in_project is not None:
        return in_project
    total = await conn.scalar(
        select(user_thread_counts.c.thread_count).where(user_thread_counts.c.user_id == user_id)
    )
    return int(total or 0)


async def list_threads(conn: AsyncConnection, user_id: UUID, q: ListThreads) -> ThreadPageView:
    """Newest activity first. A `project_id` that is not the user's answers not found.

    The page's ids come from the (user, last_activity_at, id) index alone, then only those rows
    are read (a deferred join), so a deep offset walks index entries, not table rows."""
    where: list[Any] = [threads.c.user_id == user_id]
    in_project: int | None = None
    if q.project_id is not None:
        in_project = await conn.scalar(
            select(projects.c.thread_count).where(
                projects.c.id == q.project_id, projects.c.user_id == user_id
            )
        )
        if in_project is None:
            raise not_found("Project")
        where.append(threads.c.project_id == q.project_id)
    if q.q:
        if not storable(q.q):
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
    rows = (
        await conn.execute(select(threads).join(page, threads.c.id == page.c.id).order_by(*order))
    ).all()
    has_more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = (
        encode_cursor(rows[-1].last_activity_at, rows[-1].id) if has_more and rows else None
    )
    return ThreadPageView(
        threads=[thread_view(r) for r in rows],
        total=await _total(conn, user_id, where, bool(q.q), in_project),
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
    _, stored = await load_stream(conn, f"thread-{thread_id}")
    history = [
        EventView(
            position=e.position,
            version=e.version,
            type=e.type,
            data=e.data,
            recorded_at=e.recorded_at,
        )
        for e in stored
    ]
    return {"events": [e.model_dump(mode="json") for e in history]}
