"""PostChat → UserMessagePosted + AssistantMessageRequested, in one append to the thread.

The relay then hands the request to the chat workers; the reply names the ids the gateway's
`message_start` announces. The chat context is read in the same transaction and announced
(`push.chat.context.<message id>`), so the worker that gets the request has it without asking:
one round trip and a query fewer before the first token. A context over `push_max_bytes`
(large documents) is not pushed; the worker asks for it then."""

from __future__ import annotations

from contracts.commands import PostChat
from contracts.events import AssistantMessageRequested
from contracts.replies import Reply
from contracts.subjects import chat_context_push_subject
from contracts.views import ChatStartedView
from threads.domain import chat
from threads.handlers.lookups import load_thread_for_write
from threads.queries.chat import context_to_push
from threads.store.unit_of_work import HandlerContext


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
    if push_max_bytes > 0:
        await _push_context(ctx, requested, push_max_bytes)
    return reply


async def _push_context(
    ctx: HandlerContext[PostChat], requested: AssistantMessageRequested, max_bytes: int
) -> None:
    view = await context_to_push(
        ctx.conn, requested.user_id, requested.thread_id, requested.message_id, requested.provider
    )
    if view is None:
        return
    payload = view.model_dump_json().encode()
    if len(payload) <= max_bytes:
        ctx.announce(chat_context_push_subject(requested.message_id), payload)
