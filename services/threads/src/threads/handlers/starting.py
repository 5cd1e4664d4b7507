"""The end every command asking for an answer shares (PostChat, RegenerateAnswer,
EditMessage): append, reply with the ids `message_start` announces, stage the context push."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.base import DomainEvent
from contracts.events import AssistantMessageRequested
from contracts.replies import Reply
from contracts.views import ChatStartedView
from threads import chat_context_push
from threads.store.unit_of_work import HandlerContext


async def start_answer(
    ctx: HandlerContext[Any],
    stream: str,
    version: int,
    events: Sequence[DomainEvent],
    push_max_bytes: int,
) -> Reply:
    requested = events[-1]
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
