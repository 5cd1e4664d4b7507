"""RecordThreadSummary → ThreadSummarized: the chat worker's summary of a thread's oldest
turns, kept for the answers below it (urgent: an answer waits for it)."""

from __future__ import annotations

from contracts.commands import RecordThreadSummary
from contracts.replies import Reply
from threads.domain import context
from threads.store.unit_of_work import HandlerContext
from threads.store.write_state import load_thread_for_write


async def handle(ctx: HandlerContext[RecordThreadSummary]) -> Reply:
    cmd = ctx.command
    stream, version, state = await load_thread_for_write(ctx, cmd.thread_id)
    events = context.decide_record_summary(state, cmd, user_id=cmd.meta.user_id)
    await ctx.append(stream, version, events)
    return Reply.success({"message": "Summary recorded"})
