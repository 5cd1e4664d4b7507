"""DeleteMessage → MessageDeleted on the message's thread stream: the message and everything
below it; an active leaf among them moves to the parent's newest remaining branch."""

from __future__ import annotations

from sqlalchemy import select

from contracts.commands import DeleteMessage
from contracts.replies import Reply
from threads.domain import branches
from threads.domain.errors import not_found
from threads.store.tables import messages
from threads.store.tree_loads import load_tree
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[DeleteMessage]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    find = select(messages.c.thread_id).where(
        messages.c.id == cmd.message_id, messages.c.user_id == user_id
    )
    thread_id = await ctx.conn.scalar(find)
    if thread_id is None:
        raise not_found("Message")
    stream, version, state = await load_thread_for_write(ctx, thread_id)
    # read under the stream's lock: the tree as the thread's events leave it
    events = branches.decide_delete_message(
        state,
        cmd.message_id,
        user_id=user_id,
        tree=await load_tree(ctx.conn, thread_id),
    )
    await ctx.append(stream, version, events)
    return Reply.success({"message": "Message deleted"})
