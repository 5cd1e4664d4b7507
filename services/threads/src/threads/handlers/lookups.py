"""Cross-aggregate checks a handler makes inside its own transaction, on the read models.

Rows are read `FOR KEY SHARE`: a concurrent delete of the project or thread waits for this
command to commit (and then sees what it wrote) or, if it came first, this command sees the
row gone. Another user's row is answered exactly like a missing one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.domain import thread
from threads.domain.errors import not_found
from threads.store.locks import LockedRead, load_locked
from threads.store.tables import events, projects, threads
from threads.store.unit_of_work import HandlerContext

_THREAD_STATE = LockedRead.of(events.c.event_type.in_(thread.STATE_EVENTS))


async def require_project(conn: AsyncConnection, user_id: UUID | None, project_id: UUID) -> None:
    owner = await conn.scalar(
        select(projects.c.user_id)
        .where(projects.c.id == project_id)
        .with_for_update(key_share=True)
    )
    if owner is None or owner != user_id:
        raise not_found("Project")


async def require_thread(conn: AsyncConnection, user_id: UUID | None, thread_id: UUID) -> None:
    owner = await conn.scalar(
        select(threads.c.user_id).where(threads.c.id == thread_id).with_for_update(key_share=True)
    )
    if owner is None or owner != user_id:
        raise not_found("Thread")


async def thread_project(conn: AsyncConnection, thread_id: UUID) -> UUID | None:
    """The project the thread is in now, per the read model."""
    return await conn.scalar(select(threads.c.project_id).where(threads.c.id == thread_id))


async def load_thread_for_write(
    ctx: HandlerContext[Any], thread_id: UUID
) -> tuple[str, int, thread.ThreadState | None]:
    """Queue behind other writers of the thread, then load its state: (stream, version, state)."""
    stream = thread.stream_id(thread_id)
    version, stored = await load_locked(ctx.conn, _THREAD_STATE, stream)
    return stream, version, thread.fold([e.to_domain() for e in stored])
