"""FailAssistantMessage → AssistantMessageFailed (stable error code, partial content), once."""

from __future__ import annotations

from contracts.commands import FailAssistantMessage
from contracts.replies import Reply
from threads.handlers.outcome import record_outcome
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[FailAssistantMessage]) -> Reply:
    return await record_outcome(ctx, "failed")
