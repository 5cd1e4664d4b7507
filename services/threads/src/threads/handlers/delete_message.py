"""DeleteMessage → MessageDeleted on the message's thread stream."""

from __future__ import annotations

from sqlalchemy import select

from contracts.commands import DeleteMessage
from contracts.replies import Reply
from threads.domain import thread
from threads.domain.errors import not_found
from threads.store.tables import messages
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
    still_there = await ctx.conn.scalar(find) == thread_id  # re-read under the stream's lock
    events = thread.decide_delete_message(
        state, cmd.message_id, user_id=user_id, exists=still_there
    )
    await ctx.append(stream, version, events)
    return Reply.success({"message": "Message deleted"})
