"""CancelGeneration → GenerationCancelled while the answer streams; afterwards a no-op.

The reply says whether a cancel was recorded and the message's status as the handler saw it."""

from __future__ import annotations

from contracts.commands import CancelGeneration
from contracts.replies import Reply
from threads.domain import chat
from threads.handlers.chat_state import load_answer
from threads.handlers.lookups import load_thread_for_write
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[CancelGeneration]) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    answer = await load_answer(ctx.conn, stream, cmd.message_id)
    events = chat.decide_cancel(state, answer, cmd.message_id, user_id=cmd.meta.user_id)
    await ctx.append(stream, version, events)
    assert answer is not None
    return Reply.success(
        {
            "message_id": str(cmd.message_id),
            "status": answer.status,
            "cancel_requested": bool(events) or answer.cancel_requested,
        }
    )
