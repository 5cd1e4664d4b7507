"""CompleteAssistantMessage → AssistantMessageCompleted, once: a second completion of the
same message (another worker's, or a late retry) is refused with a conflict."""

from __future__ import annotations

from contracts.commands import CompleteAssistantMessage
from contracts.replies import Reply
from threads.domain import chat
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_for_answer


async def handle(ctx: HandlerContext[CompleteAssistantMessage]) -> Reply:
    cmd = ctx.command
    stream, version, state, answer = await load_for_answer(ctx, cmd.thread_id, cmd.message_id)
    events = chat.decide_outcome(state, answer, cmd, user_id=cmd.meta.user_id)
    reply = Reply.success({"message_id": str(cmd.message_id), "status": "complete"})
    await ctx.append(stream, version, events, reply=reply)  # the reply is settled already
    return reply
