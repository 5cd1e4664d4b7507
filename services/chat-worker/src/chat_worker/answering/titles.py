"""A short title for a thread after its first exchange, while it is still called `New Chat`.

The model is the one the user routes the `title` task to, else the thread's own. Reasoning
text (`<think>…</think>`) and decoration are stripped. Any failure leaves the title alone: a
title is a nicety, never a reason to fail or repeat an answer, so it is written after the
answer's delivery is acknowledged. Echo titles are deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import structlog

from chat_worker.answering.outcome import Outcome
from chat_worker.answering.task_prompt import run_task_prompt, task_model
from chat_worker.config import Settings
from chat_worker.credentials import CredentialResolver
from chat_worker.providers.base import ChatMessage, ChatRequest, ProviderError
from chat_worker.providers.echo import echo_title
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.threads_client import Refused, ThreadsClient, ThreadsUnavailable
from contracts.base import Envelope
from contracts.commands import SetGeneratedTitle
from contracts.events import AssistantMessageRequested
from contracts.text import DEFAULT_TITLE
from contracts.views import ChatContextView

log = structlog.get_logger(__name__)
TitleJob = Callable[[], Awaitable[None]]

TITLE_SYSTEM = (
    "You name conversations. Reply with a title of at most six words that says what the "
    "conversation is about. Reply with the title only: no quotes, no trailing punctuation."
)
MAX_TITLE = 80
QUOTES = "\"'\u201c\u201d\u2018\u2019"
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<(think|thinking|reasoning)>.*", re.DOTALL | re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(title|thread title)\s*[:\-]\s*", re.IGNORECASE)
# Markdown that means something only when rendered: fence and rule lines (table separators
# too), images and links (their text stays), line openers (headings, quotes, list marks, a
# table row's first pipe), emphasis, the pipes between cells and code marks. Line by line.
_FENCE_OR_RULE = re.compile(r"^[ \t]*(?:(?:```|~~~).*|[|:\- \t]*-{3,}[|:\- \t]*)$", re.MULTILINE)
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_LINE_START = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]*|[-*+][ \t]+(?:\[[ xX]\][ \t]+)?|\d+[.)][ \t]+|\|[ \t]*)",
    re.MULTILINE,
)
_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|`)(?=\S)(.+?)(?<=\S)\1")
_CELLS_AND_TICKS = re.compile(r"[ \t]*\|[ \t]*|`+")


def strip_markdown(text: str) -> str:
    """`text` as it reads once rendered, without the markup: `**Plan** the [trip](url)` is
    `Plan the trip`. For titles, which are shown as plain text."""
    text = _FENCE_OR_RULE.sub("", text)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _LINE_START.sub("", text)
    for _ in range(3):  # nested emphasis: ***both*** or **`code`**
        text = _EMPHASIS.sub(r"\2", text)
    return _CELLS_AND_TICKS.sub(" ", text)


def clean_title(raw: str) -> str | None:
    """The title in a model's reply, or None if there is none."""
    text = strip_markdown(_OPEN_THINK.sub("", _THINK.sub("", raw)))
    lines = [line for line in (raw_line.strip() for raw_line in text.splitlines()) if line]
    if not lines:
        return None
    title = _PREFIX.sub("", lines[0])
    title = title.strip().strip("#*_`").strip().strip(QUOTES).strip().rstrip(".!:;,")
    title = " ".join(title.split())[:MAX_TITLE].strip()
    return title or None


def title_request(first_question: str, answer: str) -> list[ChatMessage]:
    return [
        ChatMessage(
            "user",
            f"User: {first_question[:2000]}\n\nAssistant: {answer[:2000]}\n\n"
            "Title for this conversation:",
        )
    ]


class Title(NamedTuple):
    text: str | None
    provider: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None


async def generate_title(
    ctx: ChatContextView,
    answer: str,
    meta: Envelope,
    registry: ProviderRegistry,
    credentials: CredentialResolver,
    *,
    max_tokens: int,
    timeout: float,
) -> Title:
    """The title, with what made it: the provider's usage goes to the usage ledger (an echo
    title calls no provider and has none)."""
    question = next((m.content for m in ctx.history if m.role == "user"), "")
    provider, model = task_model(ctx, ctx.title_task)
    if provider == "echo":  # made from the first message: the markup goes
        return Title(echo_title(strip_markdown(question)))
    chat = ChatRequest(model, TITLE_SYSTEM, title_request(question, answer), max_tokens)
    reply = await run_task_prompt(registry, credentials, meta, provider, chat, timeout)
    return Title(clean_title(reply.text), provider, model, reply.usage)


class Titles:
    """Names a thread after its first complete exchange, if it is still `DEFAULT_TITLE`."""

    def __init__(
        self,
        settings: Settings,
        registry: ProviderRegistry,
        credentials: CredentialResolver,
        threads: ThreadsClient,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.credentials = credentials
        self.threads = threads

    def job_for(
        self,
        req: AssistantMessageRequested,
        meta: Envelope,
        ctx: ChatContextView,
        outcome: Outcome,
    ) -> TitleJob | None:
        """What to run once the answer is acknowledged; None when no title is due."""
        due = (
            outcome.kind == "complete" and ctx.first_exchange and ctx.thread.title == DEFAULT_TITLE
        )
        if not due:
            return None
        answer = outcome.content

        async def run() -> None:
            try:
                title = await generate_title(
                    ctx,
                    answer,
                    meta,
                    self.registry,
                    self.credentials,
                    max_tokens=self.settings.title_max_tokens,
                    timeout=self.settings.title_timeout,
                )
                if title.text:
                    await self.threads.call_until_answered(
                        SetGeneratedTitle(
                            meta=meta,
                            command_id=f"title:{req.thread_id}",
                            thread_id=req.thread_id,
                            title=title.text,
                            provider=title.provider,
                            model=title.model,
                            usage=title.usage,
                        )
                    )
            except (ProviderError, ThreadsUnavailable, Refused, TimeoutError) as exc:
                log.info("title not generated", reason=type(exc).__name__)
            except Exception:
                log.exception("title generation failed")

        return run
