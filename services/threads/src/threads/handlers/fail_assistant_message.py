"""FailAssistantMessage → AssistantMessageFailed (stable error code, partial content), once."""

from __future__ import annotations

from contracts.commands import FailAssistantMessage
from contracts.replies import Reply
from threads.domain import chat
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_for_answer


async def handle(ctx: HandlerContext[FailAssistantMessage]) -> Reply:
    cmd = ctx.command
    stream, version, state, answer = await load_for_answer(ctx, cmd.thread_id, cmd.message_id)
    events = chat.decide_outcome(state, answer, cmd, user_id=cmd.meta.user_id)
    await ctx.append(stream, version, events)
    return Reply.success({"message_id": str(cmd.message_id), "status": "failed"})
