"""PostMessage → MessagePosted: a message stored as given, appended to the thread's stream,
below `parent_id` or the active leaf; it becomes the active leaf.

Concurrent posts to one thread queue on the stream's lock, so a burst all lands, in order."""

from __future__ import annotations

from contracts.commands import PostMessage
from contracts.replies import Reply
from threads.domain import thread
from threads.queries.messages import fetch_message
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_to_post


async def handle(ctx: HandlerContext[PostMessage]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state, parent = await load_to_post(ctx, cmd.thread_id, cmd.parent_id)
    events = thread.decide_post_message(state, cmd, user_id=user_id, parent_id=parent)
    await ctx.append(stream, version, events)
    view = await fetch_message(ctx.conn, user_id, cmd.message_id)  # type: ignore[arg-type]
    assert view is not None
    return Reply.success(view.model_dump(mode="json"))
