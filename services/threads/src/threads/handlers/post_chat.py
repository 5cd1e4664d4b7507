"""PostChat → UserMessagePosted + AssistantMessageRequested, in one append to the thread.

The relay then hands the request to the chat workers; the reply names the ids the gateway's
`message_start` announces. The chat context goes with it (see `threads.chat_context_push`)."""

from __future__ import annotations

from contracts.commands import PostChat
from contracts.events import AssistantMessageRequested
from contracts.replies import Reply
from contracts.views import ChatStartedView
from threads import chat_context_push
from threads.domain import chat
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[PostChat], *, push_max_bytes: int = 0) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    events = chat.decide_post_chat(state, cmd, user_id=cmd.meta.user_id)
    requested = events[1]
    assert isinstance(requested, AssistantMessageRequested)
    view = ChatStartedView(
        thread_id=requested.thread_id,
        user_message_id=requested.user_message_id,
        message_id=requested.message_id,
        provider=requested.provider,
        model=requested.model,
    )
    reply = Reply.success(view.model_dump(mode="json"))
    await ctx.append(stream, version, events, reply=reply)  # the reply is settled already
    await chat_context_push.stage(ctx, requested, push_max_bytes)
    return reply
