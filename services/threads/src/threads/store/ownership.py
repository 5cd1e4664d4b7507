"""Cross-aggregate checks a command handler makes inside its own transaction, on the read
models: does this user own that project or thread, and which project is a thread in.

Rows are read `FOR KEY SHARE`: a concurrent delete of the project or thread waits for this
command to commit (and then sees what it wrote) or, if it came first, this command sees the
row gone. Another user's row is answered exactly like a missing one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.domain.errors import not_found
from threads.store.tables import projects, threads


async def require_project(
    conn: AsyncConnection, user_id: UUID | None, project_id: UUID | None
) -> None:
    """No project (None) is nobody else's: nothing to check."""
    if project_id is None:
        return
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


async def owned_row(
    conn: AsyncConnection, column: Column[Any], key: Column[Any], value: Any, user_id: UUID | None
) -> Any:
    """`column` of the user's row of its table whose `key` is `value` (read without a lock: a
    row the command itself then deletes or revokes); None when there is no such row."""
    if user_id is None:
        return None
    owner = column.table.c.user_id
    return await conn.scalar(select(column).where(key == value, owner == user_id))


async def thread_project(conn: AsyncConnection, thread_id: UUID) -> UUID | None:
    """The project the thread is in now, per the read model."""
    return await conn.scalar(select(threads.c.project_id).where(threads.c.id == thread_id))
