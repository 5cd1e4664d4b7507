"""The chat worker's pure parts: generation (coalescing, retries, restarts, cancel) with a
scripted adapter and an in-memory token stream, title cleaning, prompts, echo."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chat_worker.answering.attempts import Generation, Request
from chat_worker.answering.cancels import CancelHandle
from chat_worker.answering.prompt import build_prompt, normalise
from chat_worker.answering.titles import clean_title
from chat_worker.config import Settings
from chat_worker.providers.base import (
    ChatMessage,
    ChatRequest,
    Delta,
    ModelInfo,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from chat_worker.providers.echo import echo_title, echo_words


class MemoryTokens:
    """TokenStream's interface, recording what would be published."""

    def __init__(self, attempt: int, log: list[tuple[int, str, str]]) -> None:
        self.attempt = attempt
        self.subject = f"tokens.t.m.{attempt}"
        self.seq = 0
        self.started = False
        self.log = log
        self._parts: list[str] = []
        self._thoughts: list[str] = []

    @property
    def content(self) -> str:
        return "".join(self._parts)

    @property
    def reasoning(self) -> str | None:
        return "".join(self._thoughts) if self._thoughts else None

    async def start(self) -> None:
        if not self.started:
            self.started = True
            self.log.append((self.attempt, "start", ""))

    async def delta(self, text: str) -> None:
        await self.start()
        self.seq += 1
        self._parts.append(text)
        self.log.append((self.attempt, "delta", text))

    async def reasoning_delta(self, text: str) -> None:
        await self.start()
        self.seq += 1
        self._thoughts.append(text)
        self.log.append((self.attempt, "reasoning", text))


class Scripted:
    """Each call plays the next script: a list of words (or `Delta`s), ending with an optional
    error."""

    name = "scripted"

    def __init__(self, *scripts: list[Any], delay: float = 0.0) -> None:
        self.scripts = list(scripts)
        self.calls = 0
        self.delay = delay

    async def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        script = self.scripts[min(self.calls, len(self.scripts) - 1)]
        self.calls += 1
        for item in script:
            if isinstance(item, ProviderError):
                raise item
            if self.delay:
                await asyncio.sleep(self.delay)
            yield item if isinstance(item, Delta) else Delta(item)
        result.usage = {"output_tokens": len(script)}

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        return []


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "provider_retry_delay": 0.0,
        "provider_retries": 2,
        "coalesce_interval": 0.05,
        "coalesce_chars": 10,
        **overrides,
    }
    return Settings(**values)


async def generate(adapter: Scripted, cancel: CancelHandle | None = None, **kw: Any) -> Any:
    log: list[tuple[int, str, str]] = []
    gen = Generation(
        settings(**kw), new_stream=lambda a: MemoryTokens(a, log), cancel=cancel or CancelHandle()
    )  # type: ignore[arg-type]
    request = Request(
        adapter, ProviderCredentials("x"), ChatRequest("m", "", [ChatMessage("user", "q")], 99)
    )
    outcome = await gen.run(request, 1)
    return outcome, log


UNAVAILABLE = ProviderError("provider_unavailable", "down")


async def test_first_delta_goes_out_alone_then_text_is_coalesced() -> None:
    outcome, log = await generate(Scripted(["a", "b", "c", "defghijklm", "n"]))
    deltas = [text for _, kind, text in log if kind == "delta"]
    assert deltas[0] == "a"
    assert len(deltas) < 5 and "".join(deltas) == "abcdefghijklmn"
    assert (outcome.kind, outcome.content, outcome.attempt) == ("complete", "abcdefghijklmn", 1)
    assert outcome.usage == {"output_tokens": 5}


async def test_the_first_delta_goes_out_before_the_rest_of_a_buffered_read_is_parsed() -> None:
    """A provider read holding many chunks is parsed without suspending: the first delta
    must not wait behind all of them (time to first token)."""
    words = [f"w{i} " for i in range(200)]
    adapter = Scripted(words)
    produced = [0]  # chunks the adapter has yielded so far
    produced_at_first_delta: list[int] = []
    log: list[tuple[int, str, str]] = []

    class Watching(MemoryTokens):
        async def delta(self, text: str) -> None:
            if not produced_at_first_delta:
                produced_at_first_delta.append(produced[0])
            await super().delta(text)

    async def counting(*args: Any, **kwargs: Any) -> AsyncIterator[Delta]:
        async for word in Scripted.stream_chat(adapter, *args, **kwargs):
            produced[0] += 1
            yield word

    adapter.stream_chat = counting  # type: ignore[method-assign]
    gen = Generation(settings(), new_stream=lambda a: Watching(a, log), cancel=CancelHandle())  # type: ignore[arg-type]
    request = Request(
        adapter, ProviderCredentials("x"), ChatRequest("m", "", [ChatMessage("user", "q")], 99)
    )
    outcome = await gen.run(request, 1)
    assert outcome.content == "".join(words)
    assert produced_at_first_delta == [1]


async def test_the_start_is_on_the_wire_before_the_provider_request_is_built() -> None:
    """nats-py writes a publish from its flusher task, later; building a provider request is
    CPU work that never yields. The attempt's start must be written first, or the first
    delta, which waits for the start's ack, waits for both."""
    log: list[tuple[int, str, str]] = []

    class Flushed(MemoryTokens):
        async def start(self) -> None:
            if self.started:
                return
            self.started = True
            loop = asyncio.get_running_loop()
            acked: asyncio.Future[None] = loop.create_future()

            def flush() -> None:  # what nats-py's flusher task does, a loop turn later
                self.log.append((self.attempt, "start written", ""))
                acked.set_result(None)

            loop.call_soon(flush)
            await acked

    adapter = Scripted(["a", "b"])

    async def building(*args: Any, **kwargs: Any) -> AsyncIterator[Delta]:
        log.append((1, "provider request built", ""))
        async for word in Scripted.stream_chat(adapter, *args, **kwargs):
            yield word

    adapter.stream_chat = building  # type: ignore[method-assign]
    gen = Generation(settings(), new_stream=lambda a: Flushed(a, log), cancel=CancelHandle())  # type: ignore[arg-type]
    request = Request(
        adapter, ProviderCredentials("x"), ChatRequest("m", "", [ChatMessage("user", "q")], 99)
    )
    outcome = await gen.run(request, 1)
    assert outcome.content == "ab"
    kinds = [kind for _, kind, _ in log]
    assert kinds.index("start written") < kinds.index("provider request built")


async def test_transient_error_before_any_token_retries_in_place() -> None:
    adapter = Scripted([UNAVAILABLE], [UNAVAILABLE], ["ok"])
    outcome, log = await generate(adapter)
    assert adapter.calls == 3
    assert (outcome.kind, outcome.content, outcome.attempt) == ("complete", "ok", 1)
    assert [kind for _, kind, _ in log] == ["start", "delta"]


async def test_transient_error_after_tokens_restarts_as_a_new_attempt() -> None:
    outcome, log = await generate(Scripted(["par", "tial", UNAVAILABLE], ["whole"]))
    assert (outcome.kind, outcome.content, outcome.attempt) == ("complete", "whole", 2)
    assert (2, "start", "") in log
    assert "".join(t for a, k, t in log if a == 1 and k == "delta") == "partial"


async def test_exhausted_retries_fail_with_what_was_published() -> None:
    outcome, _ = await generate(Scripted([UNAVAILABLE]), provider_retries=1)
    assert (outcome.kind, outcome.code, outcome.content) == ("failed", "provider_unavailable", "")


async def test_permanent_error_fails_at_once_with_the_partial_text() -> None:
    adapter = Scripted(["some", " text", ProviderError("provider_error", "bad")])
    outcome, log = await generate(adapter)
    assert adapter.calls == 1
    assert (outcome.kind, outcome.code) == ("failed", "provider_error")
    assert outcome.content == "".join(t for _, k, t in log if k == "delta") == "some text"


async def test_cancel_stops_between_deltas_and_keeps_what_was_published() -> None:
    cancel = CancelHandle()
    words = [f"w{i} " for i in range(100)]
    task = asyncio.create_task(generate(Scripted(words, delay=0.01), cancel, coalesce_interval=0))
    await asyncio.sleep(0.1)
    cancel.request()
    outcome, log = await task
    published = "".join(t for _, k, t in log if k == "delta")
    assert outcome.kind == "cancelled"
    assert outcome.content == published
    assert 0 < len(published) < len("".join(words))


def thinking(*words: str) -> list[Delta]:
    return [Delta(w, "reasoning") for w in words]


async def test_reasoning_is_published_apart_and_kept_on_the_outcome() -> None:
    """Reasoning first (its first piece at once), then the answer's first text at once too;
    each kind coalesced on its own, the outcome's content without the reasoning."""
    script = [*thinking("I ", "think ", "so"), "Yes", ", ", "it ", "is", *thinking(" (sure)"), "."]
    outcome, log = await generate(Scripted(script))
    events = [(k, t) for _, k, t in log if k != "start"]
    assert events[0] == ("reasoning", "I ")
    assert events[[k for k, _ in events].index("delta")] == ("delta", "Yes")
    assert "".join(t for k, t in events if k == "reasoning") == "I think so (sure)"
    assert (outcome.content, outcome.reasoning) == ("Yes, it is.", "I think so (sure)")


async def test_a_failed_or_cancelled_answer_keeps_the_reasoning_it_published() -> None:
    adapter = Scripted([*thinking("hmm ", "let me see"), ProviderError("provider_error", "bad")])
    outcome, _ = await generate(adapter)
    assert (outcome.kind, outcome.content, outcome.reasoning) == ("failed", "", "hmm let me see")

    cancel = CancelHandle()
    words = thinking(*(f"w{i} " for i in range(100)))
    task = asyncio.create_task(generate(Scripted(words, delay=0.01), cancel, coalesce_interval=0))
    await asyncio.sleep(0.1)
    cancel.request()
    outcome, log = await task
    assert outcome.kind == "cancelled"
    assert outcome.reasoning == "".join(t for _, k, t in log if k == "reasoning")
    assert outcome.reasoning and outcome.content == ""


async def test_no_reasoning_is_none() -> None:
    outcome, _ = await generate(Scripted(["a", "b"]))
    assert outcome.reasoning is None


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("<think>hmm, budgets</think>\nBudget Planning", "Budget Planning"),
        ('"Quarterly Review."', "Quarterly Review"),
        ("Title: **Team Offsite**", "Team Offsite"),
        ("<think>never closed", None),
        ("   ", None),
    ],
)
def test_titles_are_cleaned(raw: str, title: str | None) -> None:
    assert clean_title(raw) == title


def test_history_starts_with_a_user_turn_and_alternates() -> None:
    history = [
        ChatMessage("assistant", "greeting"),
        ChatMessage("user", "a"),
        ChatMessage("user", "b"),
        ChatMessage("assistant", ""),
        ChatMessage("assistant", "c"),
    ]
    assert normalise(history) == [ChatMessage("user", "a\n\nb"), ChatMessage("assistant", "c")]


def test_system_prompt_follows_the_thread_type_and_carries_documents() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from contracts.views import ChatContextView, DocumentTextView, ThreadView

    now = datetime.now(UTC)
    thread = ThreadView(
        id=uuid4(), title="t", project_id=None, project_name=None, user_id=uuid4(),
        provider="echo", model="echo", thread_type="assistant",
        agent_type="chat", message_count=0, created_at=now, updated_at=now, last_activity_at=now,
    )  # fmt: skip
    ctx = ChatContextView(
        thread=thread,
        history=[],
        documents=[DocumentTextView(filename="a.md", content="ALPHA")],
        message_status="streaming",
    )
    system, _ = build_prompt(ctx, 1000)
    assert "general-purpose assistant" in system and '<document name="a.md">\nALPHA' in system
    ctx.thread.thread_type = "ba_assistant"
    assert "business analyst" in build_prompt(ctx, 1000)[0]


def test_echo_words_rejoin_exactly_and_titles_are_deterministic() -> None:
    assert "".join(echo_words("hello  big\nworld")) == "Echo: hello  big\nworld"
    assert echo_title("one two three four five six seven") == "one two three four five six"
