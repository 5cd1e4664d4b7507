"""DeleteThread → ThreadDeleted; the projections remove its messages and documents and
decrement its project's thread count."""

from __future__ import annotations

from contracts.commands import DeleteThread
from contracts.replies import Reply
from threads.domain import thread
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[DeleteThread]) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    await ctx.append(stream, version, thread.decide_delete(state, user_id=cmd.meta.user_id))
    return Reply.success({"message": "Thread deleted"})
