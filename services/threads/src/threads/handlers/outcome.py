"""What the three commands ending an answer share (CompleteAssistantMessage,
FailAssistantMessage, RecordCancelledMessage): the decision is one (`chat.decide_outcome`),
and so is the rest: load the answer under the thread's lock, append, reply with its status."""

from __future__ import annotations

from typing import TypeVar

from contracts.replies import Reply
from threads.domain import chat
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_for_answer

E = TypeVar("E", bound=chat.Outcome)


async def record_outcome(ctx: HandlerContext[E], status: str) -> Reply:
    """Once per answer: a second outcome of the same message is refused with a conflict."""
    cmd = ctx.command
    stream, version, state, answer = await load_for_answer(ctx, cmd.thread_id, cmd.message_id)
    events = chat.decide_outcome(state, answer, cmd, user_id=cmd.meta.user_id)
    reply = Reply.success({"message_id": str(cmd.message_id), "status": status})
    await ctx.append(stream, version, events, reply=reply)  # the reply is settled already
    return reply
