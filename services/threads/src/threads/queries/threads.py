"""Queries about threads: the global list (offset or keyset pages), one thread, its events."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.queries import ListThreads
from contracts.views import EventView, ThreadDetailView, ThreadPageView, ThreadView
from threads.domain.errors import invalid
from threads.queries.views import message_view, thread_view
from threads.store.event_store import load_stream
from threads.store.tables import messages, threads


def encode_cursor(last_activity_at: datetime, thread_id: UUID) -> str:
    raw = json.dumps([last_activity_at.isoformat(), str(thread_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, ident = json.loads(raw)
        return datetime.fromisoformat(at), UUID(ident)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise invalid("Invalid cursor") from exc


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_threads(conn: AsyncConnection, user_id: UUID, q: ListThreads) -> ThreadPageView:
    where: list[Any] = [threads.c.user_id == user_id]
    if q.project_id is not None:
        where.append(threads.c.project_id == q.project_id)
    if q.q:
        where.append(threads.c.title.ilike(f"%{_escape_like(q.q)}%", escape="\\"))
    total = int(await conn.scalar(select(func.count()).select_from(threads).where(*where)) or 0)
    query = select(threads).where(*where)
    if q.cursor:
        at, ident = decode_cursor(q.cursor)
        query = query.where(
            tuple_(threads.c.last_activity_at, threads.c.id) < tuple_(at, ident)  # type: ignore[arg-type]
        )
    else:
        query = query.offset(q.offset)
    rows = (
        await conn.execute(
            query.order_by(threads.c.last_activity_at.desc(), threads.c.id.desc()).limit(
                q.limit + 1
            )
        )
    ).all()
    has_more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = (
        encode_cursor(rows[-1].last_activity_at, rows[-1].id) if has_more and rows else None
    )
    return ThreadPageView(
        threads=[thread_view(r) for r in rows],
        total=total,
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
    rows = (
        await conn.execute(
            select(messages).where(messages.c.thread_id == thread_id).order_by(messages.c.seq)
        )
    ).all()
    return ThreadDetailView(**view.model_dump(), messages=[message_view(r) for r in rows])


async def thread_events(
    conn: AsyncConnection, user_id: UUID, thread_id: UUID
) -> list[EventView] | None:
    if await fetch_thread(conn, user_id, thread_id) is None:
        return None
    _, stored = await load_stream(conn, f"thread-{thread_id}")
    return [
        EventView(
            position=e.position,
            version=e.version,
            type=e.type,
            data=e.data,
            recorded_at=e.recorded_at,
        )
        for e in stored
    ]
