"""PostChat → UserMessagePosted + AssistantMessageRequested, in one append to the thread.

The question goes below `parent_id`, or the active leaf when none is given. The relay then
hands the request to the chat workers; the reply names the ids the gateway's `message_start`
announces. The chat context goes with it (see `threads.chat_context_push`)."""

from __future__ import annotations

from contracts.commands import PostChat
from contracts.replies import Reply
from threads.domain import chat
from threads.handlers.starting import start_answer
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_to_post


async def handle(ctx: HandlerContext[PostChat], *, push_max_bytes: int = 0) -> Reply:
    cmd = ctx.command
    stream, version, state, parent = await load_to_post(ctx, cmd.thread_id, cmd.parent_id)
    events = chat.decide_post_chat(state, cmd, user_id=cmd.meta.user_id, parent_id=parent)
    return await start_answer(ctx, stream, version, events, push_max_bytes)
