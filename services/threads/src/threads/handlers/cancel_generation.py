"""CancelGeneration → GenerationCancelled while the answer streams; afterwards a no-op.

The reply says whether a cancel was recorded and the message's status as the handler saw it."""

from __future__ import annotations

from contracts.commands import CancelGeneration
from contracts.replies import Reply
from threads.domain import chat
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_for_answer


async def handle(ctx: HandlerContext[CancelGeneration]) -> Reply:
    cmd = ctx.command
    stream, version, state, answer = await load_for_answer(ctx, cmd.thread_id, cmd.message_id)
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
