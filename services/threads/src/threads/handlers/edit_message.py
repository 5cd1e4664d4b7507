"""EditMessage → UserMessagePosted beside the given question, + AssistantMessageRequested."""

from __future__ import annotations

from contracts.commands import EditMessage
from contracts.replies import Reply
from threads.domain import branches
from threads.handlers.starting import answer_beside
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[EditMessage], *, push_max_bytes: int = 0) -> Reply:
    return await answer_beside(ctx, branches.decide_edit, push_max_bytes)
