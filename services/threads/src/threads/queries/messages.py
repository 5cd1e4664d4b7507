"""Queries about messages: a thread's active path (root first, walked up from its active leaf)
or every message of every branch (oldest first, by `seq`), each with its place among its
siblings; one message."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Uuid, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.views import MessageView
from threads.queries.views import message_view
from threads.store.tables import messages, threads
from threads.store.tree_loads import path_up

_THREAD = bindparam("thread_id", type_=Uuid())


def _among_siblings(m: Any, *, before: bool) -> Any:
    """How many messages share `m`'s parent (roots: no parent, in its thread); with `before`,
    only those created before it. Two index lookups, one per case, never a scan."""
    s = messages.alias("s")

    def count(same_parent: Any) -> Any:
        where = [s.c.thread_id == m.c.thread_id, same_parent]
        if before:
            where.append(s.c.seq < m.c.seq)
        return select(func.count()).where(*where).scalar_subquery()

    return case(
        (m.c.parent_id.is_(None), count(s.c.parent_id.is_(None))),
        else_=count(s.c.parent_id == m.c.parent_id),
    )


_LEAF = select(threads.c.active_leaf_id).where(threads.c.id == _THREAD).scalar_subquery()
_UP = path_up(_LEAF, _THREAD)
_ACTIVE_PATH = select(
    _UP,
    _among_siblings(_UP, before=True).label("sibling_index"),
    _among_siblings(_UP, before=False).label("sibling_count"),
).order_by(_UP.c.seq)

_GROUP = (messages.c.parent_id,)
_EVERY = (
    select(
        messages,
        (func.row_number().over(partition_by=_GROUP, order_by=messages.c.seq) - 1).label(
            "sibling_index"
        ),
        func.count().over(partition_by=_GROUP).label("sibling_count"),
    )
    .where(messages.c.thread_id == _THREAD)
    .order_by(messages.c.seq)
)


async def thread_messages(
    conn: AsyncConnection, thread_id: UUID, path: str = "active"
) -> list[MessageView]:
    """The active path, root first, or (`path` "all") every message oldest first; the caller
    has checked ownership."""
    query = _EVERY if path == "all" else _ACTIVE_PATH
    rows = (await conn.execute(query, {"thread_id": thread_id})).all()
    return [message_view(r) for r in rows]


async def list_messages(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID, path: str = "active"
) -> dict[str, Any] | None:
    owned = await conn.scalar(
        select(threads.c.id).where(threads.c.id == thread_id, threads.c.user_id == user_id)
    )
    if owned is None:
        return None
    views = await thread_messages(conn, thread_id, path)
    return {"messages": [m.model_dump(mode="json") for m in views]}


_ONE = messages.alias("one")
_MESSAGE = select(
    _ONE,
    _among_siblings(_ONE, before=True).label("sibling_index"),
    _among_siblings(_ONE, before=False).label("sibling_count"),
).where(
    _ONE.c.id == bindparam("message_id", type_=Uuid()),
    _ONE.c.user_id == bindparam("user_id", type_=Uuid()),
)


async def fetch_message(
    conn: AsyncConnection, user_id: UUID | None, message_id: UUID
) -> MessageView | None:
    row = (await conn.execute(_MESSAGE, {"message_id": message_id, "user_id": user_id})).first()
    return message_view(row) if row else None


async def get_message(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID, message_id: UUID
) -> MessageView | None:
    """One message of one thread (the thread must be the user's and hold the message)."""
    view = await fetch_message(conn, user_id, message_id)
    return view if view is not None and view.thread_id == thread_id else None
