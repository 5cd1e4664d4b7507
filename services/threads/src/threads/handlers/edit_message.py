"""EditMessage → UserMessagePosted beside the given question, + AssistantMessageRequested."""

from __future__ import annotations

from contracts.commands import EditMessage
from contracts.replies import Reply
from threads.domain import branches, thread
from threads.handlers.starting import start_answer
from threads.store.tree_loads import tree_facts
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[EditMessage], *, push_max_bytes: int = 0) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    thread.require_owned(state, user_id)
    facts = await tree_facts(ctx.conn, cmd.thread_id, cmd.message_id)
    events = branches.decide_edit(
        state, cmd, user_id=user_id, node=facts.node, streaming=facts.streaming
    )
    return await start_answer(ctx, stream, version, events, push_max_bytes)
