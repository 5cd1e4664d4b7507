"""PostChat → UserMessagePosted + AssistantMessageRequested, in one append to the thread.

The question goes below `parent_id`, or the active leaf when none is given. The relay then
hands the request to the chat workers; the reply names the ids the gateway's `message_start`
announces. The chat context goes with it (see `threads.chat_context_push`)."""

from __future__ import annotations

from contracts.commands import PostChat
from contracts.replies import Reply
from threads.domain import branches, chat, thread
from threads.handlers.starting import start_answer
from threads.store.tree_loads import tree_facts
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[PostChat], *, push_max_bytes: int = 0) -> Reply:
    cmd = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    thread.require_owned(state, user_id)
    facts = await tree_facts(ctx.conn, cmd.thread_id, cmd.parent_id)
    parent = branches.parent_for(cmd.parent_id, facts.node, facts.active_leaf_id)
    events = chat.decide_post_chat(state, cmd, user_id=user_id, parent_id=parent)
    return await start_answer(ctx, stream, version, events, push_max_bytes)
