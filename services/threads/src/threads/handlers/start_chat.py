"""StartChat → ThreadCreated, a MessagePosted for each earlier message, UserMessagePosted and
AssistantMessageRequested: one append to the new thread's stream, after the quota check, so
nothing is stored when any part is refused."""

from __future__ import annotations

from contracts.commands import CreateThread, PostMessage, StartChat
from contracts.replies import Reply
from threads.domain import chat, thread
from threads.domain.errors import invalid
from threads.handlers.create_thread import creation
from threads.handlers.starting import start_answer
from threads.store.unit_of_work import HandlerContext

# what StartChat says of its thread, as CreateThread says it
_THREAD = {"meta", "command_id", "thread_id", "provider", "model", "thread_type", "agent_type"}


async def handle(
    ctx: HandlerContext[StartChat], *, default_provider: str, push_max_bytes: int = 0
) -> Reply:
    cmd = ctx.command
    if cmd.parent_id is not None:
        raise invalid("parent_id: a new thread has no message to answer below")
    new = CreateThread.model_validate(cmd.model_dump(include=_THREAD))
    stream, version, events = await creation(ctx, new, default_provider=default_provider)
    state = thread.fold(events)
    user_id, parent = cmd.meta.user_id, None
    for message in cmd.earlier:
        post = PostMessage(
            meta=cmd.meta,
            command_id=cmd.command_id,
            thread_id=cmd.thread_id,
            parent_id=parent,
            **message.model_dump(),
        )
        events += thread.decide_post_message(state, post, user_id=user_id, parent_id=parent)
        parent = message.message_id
    events += chat.decide_post_chat(state, cmd, user_id=user_id, parent_id=parent)
    return await start_answer(ctx, stream, version, events, push_max_bytes)
