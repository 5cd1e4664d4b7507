"""CompleteAssistantMessage → AssistantMessageCompleted, once: a second completion of the
same message (another worker's, or a late retry) is refused with a conflict."""

from __future__ import annotations

from contracts.commands import CompleteAssistantMessage
from contracts.replies import Reply
from threads.handlers.outcome import record_outcome
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[CompleteAssistantMessage]) -> Reply:
    return await record_outcome(ctx, "complete")
