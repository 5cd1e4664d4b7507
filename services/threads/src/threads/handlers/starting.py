"""The end every command asking for an answer shares (PostChat, RegenerateAnswer,
EditMessage): the user's token quotas checked (nothing is stored, no provider called, when
over one), append, reply with the ids `message_start` announces, stage the context push;
and the whole of the two that add a sibling beside a message (regenerate, edit), which differ
only in what they decide."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from contracts.base import DomainEvent
from contracts.commands import EditMessage, RegenerateAnswer
from contracts.events import AssistantMessageRequested
from contracts.replies import Reply
from contracts.views import ChatStartedView, UserTokensView
from threads import chat_context_push
from threads.domain import quota, thread
from threads.queries import admin
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
    await _require_within_quota(ctx, requested.user_id)
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


async def _require_within_quota(ctx: HandlerContext[Any], user_id: Any) -> None:
    """In the command's transaction: the quotas (one key lookup), and only when there is one
    the ledger's totals of today and this month. The ledger counts finished answers, so
    answers already running are what concurrent chats can overshoot by."""
    owner = await admin.user_row(ctx.conn, user_id)
    if owner is None or (owner.tokens_per_day is None and owner.tokens_per_month is None):
        return
    now = datetime.now(UTC)
    spent = (await admin.tokens_of(ctx.conn, [user_id], now.date())).get(user_id)
    spent = spent or UserTokensView()
    quota.require_within(owner, spent.tokens_today, spent.tokens_this_month, now)


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
