"""One answer's prompt within its context window (`budget`), the oldest turns truncated or
summarized (`summaries`) as the thread's `context_policy` says, and what `metadata.context`
records of it: `{omitted_messages, summarized_through, estimated_input_tokens}`.

A summary among the answer's ancestors is reused while the turns after it fit; once they do
not, it is outgrown and folded with the next oldest turns into a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from chat_worker.answering import budget
from chat_worker.answering.summaries import Summaries, with_summary
from chat_worker.providers.base import ChatMessage
from contracts.base import Envelope
from contracts.views import ChatContextView, MessageView, ThreadSummaryView

# (the context with the history to send) -> (system prompt, history): the prompt module's
Prompt = Callable[[ChatContextView], tuple[str, list[ChatMessage]]]


@dataclass(frozen=True)
class Composed:
    system: str
    history: list[ChatMessage]
    fit: budget.Fit
    system_tokens: int
    summary: ThreadSummaryView | None

    @property
    def context(self) -> dict[str, Any]:
        summarized = self.summary.summarized_messages if self.summary else 0
        return {
            "omitted_messages": summarized + len(self.fit.omitted),
            "summarized_through": str(self.summary.through_message_id) if self.summary else None,
            "estimated_input_tokens": self.fit.tokens,
        }


def _after(history: list[MessageView], message_id: UUID) -> list[MessageView] | None:
    """The messages after `message_id` in `history`; None if it is not there."""
    for i, message in enumerate(history):
        if message.id == message_id:
            return history[i + 1 :]
    return None


class Composer:
    def __init__(self, prompt: Prompt, summaries: Summaries) -> None:
        self.prompt = prompt
        self.summaries = summaries

    async def compose(
        self, ctx: ChatContextView, meta: Envelope, model: str, max_tokens: int, answer_id: UUID
    ) -> Composed:
        limit = budget.input_budget(budget.window_of(ctx, model), max_tokens)
        base = self.prompt(ctx.model_copy(update={"history": []}))[0]
        history = list(ctx.history)
        summary = ctx.summary if ctx.thread.context_policy == "summarize" else None
        rest = _after(history, summary.through_message_id) if summary else None
        if rest is None:
            summary, rest = None, history
        system = with_summary(base, summary.text if summary else None)
        fitted = budget.fit(budget.estimate(system), rest, limit)
        if fitted.omitted and limit is not None and ctx.thread.context_policy == "summarize":
            folded = await self._fold(ctx, meta, base, summary, rest, limit, answer_id)
            if folded is not None:
                summary = folded
                system = with_summary(base, folded.text)
                kept = _after(rest, folded.through_message_id) or []
                fitted = budget.fit(budget.estimate(system), kept, limit)
        return self._composed(ctx, system, fitted, summary)

    async def _fold(
        self,
        ctx: ChatContextView,
        meta: Envelope,
        base: str,
        summary: ThreadSummaryView | None,
        rest: list[MessageView],
        limit: int,
        answer_id: UUID,
    ) -> ThreadSummaryView | None:
        """A new summary: `summary` (outgrown) and the oldest turns of `rest`, as many as
        must go for the others to fit beside a summary of at most a quarter of `limit`."""
        room = min(self.summaries.max_tokens, limit // 4)
        cut = budget.fit(budget.estimate(base) + room, rest, limit)
        if not cut.omitted:  # the old summary alone outgrew it: fold the next turn in
            cut = budget.without_oldest_turn(cut)
        if not cut.omitted:
            return None
        return await self.summaries.fold(
            ctx, meta, summary, cut.omitted, answer_id, max_tokens=room
        )

    def shrink(self, ctx: ChatContextView, sent: Composed) -> Composed | None:
        """After a provider's context-length error: less history, or None."""
        smaller = budget.shrink(sent.system_tokens, sent.fit)
        if smaller is None:
            return None
        return self._composed(ctx, sent.system, smaller, sent.summary)

    def _composed(
        self,
        ctx: ChatContextView,
        system: str,
        fitted: budget.Fit,
        summary: ThreadSummaryView | None,
    ) -> Composed:
        trimmed = ctx.model_copy(update={"history": fitted.kept})
        prompt_system, history = self.prompt(trimmed)
        # the prompt module's system (instructions, documents) with the summary after it
        full = with_summary(prompt_system, summary.text if summary else None)
        return Composed(full, history, fitted, budget.estimate(system), summary)
