"""The `summary` task: the oldest turns of a long thread folded into a few paragraphs.

The model is the one the user routes `summary` to (with separate models), else the thread's
own. The summary is recorded with the threads service (ThreadSummarized) so later answers
below the same messages reuse it; a summary that cannot be made leaves the answer to
truncation, never failing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from chat_worker.answering.task_prompt import run_task_prompt, task_model
from chat_worker.credentials import CredentialResolver
from chat_worker.providers.base import ChatMessage, ChatRequest, ProviderError
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.threads_client import Refused, ThreadsClient, ThreadsUnavailable
from contracts.base import Envelope
from contracts.commands import RecordThreadSummary
from contracts.views import ChatContextView, MessageView, ThreadSummaryView

log = structlog.get_logger(__name__)

SUMMARY_SYSTEM = (
    "You summarize conversations so they can go on without their full text. Write a compact "
    "summary of the conversation you are given: the user's goals, facts and decisions, open "
    "questions, and anything the assistant promised. Reply with the summary only."
)
SUMMARY_INTRO = "Summary of the earlier part of this conversation (its messages are left out):"


def with_summary(system: str, summary: str | None) -> str:
    """The system prompt with the summary after it."""
    if not summary:
        return system
    return f"{system}\n\n{SUMMARY_INTRO}\n{summary}" if system else f"{SUMMARY_INTRO}\n{summary}"


def summary_request(previous: str | None, messages: Sequence[MessageView]) -> list[ChatMessage]:
    lines = [f"Earlier summary: {previous}"] if previous else []
    lines += [f"{m.role.capitalize()}: {m.content}" for m in messages]
    transcript = "\n\n".join(lines)
    return [ChatMessage("user", f"{transcript}\n\nSummary of this conversation:")]


class Summaries:
    def __init__(
        self,
        registry: ProviderRegistry,
        credentials: CredentialResolver,
        threads: ThreadsClient,
        *,
        max_tokens: int,
        timeout: float,
    ) -> None:
        self.registry = registry
        self.credentials = credentials
        self.threads = threads
        self.max_tokens = max_tokens
        self.timeout = timeout

    async def fold(
        self,
        ctx: ChatContextView,
        meta: Envelope,
        previous: ThreadSummaryView | None,
        messages: Sequence[MessageView],
        answer_id: object,
        *,
        max_tokens: int,
    ) -> ThreadSummaryView | None:
        """`previous` and `messages` (the next ones after it) as one new summary of at most
        `max_tokens`, recorded; None when it could not be made."""
        provider, model = task_model(ctx, ctx.summary_task)
        chat = ChatRequest(
            model,
            SUMMARY_SYSTEM,
            summary_request(previous.text if previous else None, messages),
            min(max_tokens, self.max_tokens),
        )
        try:
            reply = await run_task_prompt(
                self.registry, self.credentials, meta, provider, chat, self.timeout
            )
        except (ProviderError, TimeoutError) as exc:
            log.info("summary not made; truncating instead", reason=type(exc).__name__)
            return None
        text = reply.text.strip()
        if not text:
            return None
        summary = ThreadSummaryView(
            through_message_id=messages[-1].id,
            text=text,
            summarized_messages=(previous.summarized_messages if previous else 0) + len(messages),
        )
        await self._record(ctx, meta, summary, answer_id, (provider, model, reply.usage))
        return summary

    async def _record(
        self,
        ctx: ChatContextView,
        meta: Envelope,
        summary: ThreadSummaryView,
        answer_id: object,
        made_by: tuple[str, str, dict[str, object] | None],
    ) -> None:
        """Kept for later answers; an answer never waits on it failing. `made_by`: the
        summary task's provider, model and reported usage, for the usage ledger."""
        provider, model, usage = made_by
        command = RecordThreadSummary(
            meta=meta,
            command_id=f"summary:{answer_id}:{summary.through_message_id}",
            thread_id=ctx.thread.id,
            through_message_id=summary.through_message_id,
            text=summary.text,
            summarized_messages=summary.summarized_messages,
            message_id=answer_id,
            usage=usage,
            provider=provider,
            model=model,
        )
        try:
            await self.threads.call_until_answered(command)
        except (ThreadsUnavailable, Refused) as exc:
            log.warning("summary not recorded", reason=type(exc).__name__)
