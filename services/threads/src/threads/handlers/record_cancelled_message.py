"""RecordCancelledMessage → AssistantMessageCancelled: the partial answer exactly as streamed,
once."""

from __future__ import annotations

from contracts.commands import RecordCancelledMessage
from contracts.replies import Reply
from threads.handlers.outcome import record_outcome
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[RecordCancelledMessage]) -> Reply:
    return await record_outcome(ctx, "cancelled")
