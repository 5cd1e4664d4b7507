"""The end every command asking for an answer shares (PostChat, RegenerateAnswer,
EditMessage): append, reply with the ids `message_start` announces, stage the context push;
and the whole of the two that add a sibling beside a message (regenerate, edit), which differ
only in what they decide."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from contracts.base import DomainEvent
from contracts.commands import EditMessage, RegenerateAnswer
from contracts.events import AssistantMessageRequested
from contracts.replies import Reply
from contracts.views import ChatStartedView
from threads import chat_context_push
from threads.domain import thread
from threads.store.tree_loads import tree_facts
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write

# (state, command, *, user_id, node, streaming) -> events, as `branches.decide_edit`
DecideBeside = Callable[..., list[DomainEvent]]


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


async def answer_beside(
    ctx: HandlerContext[Any], decide: DecideBeside, push_max_bytes: int
) -> Reply:
    """A new sibling of the command's message, as `decide` makes it, and its answer started."""
    cmd: RegenerateAnswer | EditMessage = ctx.command
    user_id = cmd.meta.user_id
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    thread.require_owned(state, user_id)
    facts = await tree_facts(ctx.conn, cmd.thread_id, cmd.message_id)
    events = decide(state, cmd, user_id=user_id, node=facts.node, streaming=facts.streaming)
    return await start_answer(ctx, stream, version, events, push_max_bytes)
