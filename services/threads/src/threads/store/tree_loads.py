"""What the tree commands read of a thread's tree, from the read models, under the thread
stream's lock (so they agree with its events): the active leaf and one message in one round
trip for a chat, the whole tree for the rarer commands that walk it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Uuid, and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.domain.branches import Original
from threads.domain.tree import Node, Tree
from threads.store.tables import messages, threads, written


@dataclass(frozen=True)
class TreeFacts:
    active_leaf_id: UUID | None
    node: Node | None  # the message asked about, if it is this thread's
    streaming: bool  # an answer of the thread is streaming


_STREAMING = (
    exists()
    .where(messages.c.thread_id == threads.c.id, messages.c.status == "streaming")
    .correlate(threads)
)
_FACTS = (
    select(
        threads.c.active_leaf_id,
        messages.c.id,
        messages.c.parent_id,
        messages.c.role,
        messages.c.status,
        _STREAMING.label("streaming"),
    )
    .select_from(
        threads.outerjoin(
            messages,
            and_(
                messages.c.id == bindparam("message_id", type_=Uuid()),
                messages.c.thread_id == threads.c.id,
            ),
        )
    )
    .where(threads.c.id == bindparam("thread_id", type_=Uuid()))
)


async def tree_facts(conn: AsyncConnection, thread_id: UUID, message_id: UUID | None) -> TreeFacts:
    row = (await conn.execute(_FACTS, {"thread_id": thread_id, "message_id": message_id})).first()
    if row is None:
        return TreeFacts(None, None, False)
    node = Node(row.id, row.parent_id, row.role, row.status) if row.id is not None else None
    return TreeFacts(row.active_leaf_id, node, bool(row.streaming))


_TREE = (
    select(messages.c.id, messages.c.parent_id, messages.c.role, messages.c.status)
    .where(messages.c.thread_id == bindparam("thread_id", type_=Uuid()))
    .order_by(messages.c.seq)
)


_ACTIVE_LEAF = select(threads.c.active_leaf_id).where(
    threads.c.id == bindparam("thread_id", type_=Uuid())
)


async def load_tree(conn: AsyncConnection, thread_id: UUID) -> Tree:
    rows = (await conn.execute(_TREE, {"thread_id": thread_id})).all()
    leaf = await conn.scalar(_ACTIVE_LEAF, {"thread_id": thread_id})
    return Tree(tuple(Node(r.id, r.parent_id, r.role, r.status) for r in rows), leaf)


def path_up(message_id: Any, thread_id: Any) -> Any:
    """A recursive CTE: the message (if it is the thread's) and its ancestors."""
    names = [c.name for c in written(messages)]  # not the search vector
    start = (
        select(*(messages.c[n] for n in names))
        .where(messages.c.id == message_id, messages.c.thread_id == thread_id)
        .cte("path", recursive=True)
    )
    up = messages.alias("up")
    return start.union_all(select(*(up.c[n] for n in names)).where(up.c.id == start.c.parent_id))


_PATH = path_up(bindparam("message_id", type_=Uuid()), bindparam("thread_id", type_=Uuid()))


async def load_path(conn: AsyncConnection, thread_id: UUID, message_id: UUID) -> list[Original]:
    """Root first, down to the message; empty if it is not the thread's."""
    query = select(_PATH).order_by(_PATH.c.seq)
    rows = (await conn.execute(query, {"thread_id": thread_id, "message_id": message_id})).all()
    return [
        Original(
            r.id,
            r.role,
            r.content,
            r.artifact_data,
            r.metadata,
            r.provider,
            r.model,
            r.usage,
            r.status,
        )
        for r in rows
    ]
