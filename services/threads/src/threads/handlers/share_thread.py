"""ShareThread → ThreadShared carrying the snapshot of the active path as it is now."""

from __future__ import annotations

from contracts.commands import ShareThread
from contracts.replies import Reply
from contracts.views import ShareView
from threads.domain import sharing
from threads.queries.messages import thread_messages
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_owned_thread


async def handle(ctx: HandlerContext[ShareThread]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state = await load_owned_thread(ctx, cmd.thread_id)
    events = sharing.decide_share(
        state,
        user_id=user_id,
        share_id=cmd.share_id,
        path=await thread_messages(ctx.conn, cmd.thread_id),
    )
    stored = await ctx.append(stream, version, events)
    view = ShareView(
        share_id=cmd.share_id, thread_id=cmd.thread_id, created_at=stored[0].recorded_at
    )
    return Reply.success(view.model_dump(mode="json"))
