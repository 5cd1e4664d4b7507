"""RegenerateAnswer → AssistantMessageRequested beside the given answer (same question, same
ancestors), answered by the workers exactly like a chat's."""

from __future__ import annotations

from contracts.commands import RegenerateAnswer
from contracts.replies import Reply
from threads.domain import branches
from threads.handlers.starting import answer_beside
from threads.store.unit_of_work import HandlerContext


async def handle(ctx: HandlerContext[RegenerateAnswer], *, push_max_bytes: int = 0) -> Reply:
    return await answer_beside(ctx, branches.decide_regenerate, push_max_bytes)
