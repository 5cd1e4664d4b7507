"""SetActiveLeaf → ActiveLeafSet: the path to the message, then the newest child below it."""

from __future__ import annotations

from contracts.commands import SetActiveLeaf
from contracts.replies import Reply
from threads.domain import branches
from threads.queries.threads import thread_reply
from threads.store.tree_loads import load_tree
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_owned_thread


async def handle(ctx: HandlerContext[SetActiveLeaf]) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state = await load_owned_thread(ctx, cmd.thread_id)
    events = branches.decide_set_active_leaf(
        state,
        cmd.message_id,
        user_id=user_id,
        tree=await load_tree(ctx.conn, cmd.thread_id),
    )
    await ctx.append(stream, version, events)
    return await thread_reply(ctx.conn, user_id, cmd.thread_id)
