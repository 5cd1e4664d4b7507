"""The one interface every provider adapter implements, and the errors they raise.

An adapter turns (model, system prompt, history) into a stream of `Delta`s through its
official SDK (answer text, and reasoning where the model streams it apart), and lists its
models. It maps SDK errors to `ProviderError` with a stable code;
nothing else leaves an adapter. Keys arrive in `ProviderCredentials` and never appear in an
error message or a log line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ErrorKind = Literal[
    "provider_not_configured",
    "provider_auth_failed",
    "rate_limited",
    "provider_unavailable",
    "provider_error",
    "context_too_long",
]
TRANSIENT: frozenset[str] = frozenset({"rate_limited", "provider_unavailable"})


class ProviderError(Exception):
    """`code` is one of ErrorKind; `message` is safe to show a user (no secrets)."""

    def __init__(self, code: ErrorKind, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT


@dataclass(frozen=True)
class ProviderCredentials:
    provider: str
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """What an adapter is asked: one answer of `model` to a system prompt and a history.
    `temperature`, `top_p` and `stop` are the caller's (None / empty: the provider's default);
    each adapter sends them in its SDK's own parameters."""

    model: str
    system: str
    messages: list[ChatMessage]
    max_tokens: int = 4096
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()


DeltaKind = Literal["text", "reasoning"]


@dataclass(frozen=True, slots=True)
class Delta:
    """One piece of an answer: its text, or reasoning (thinking) the provider streamed apart
    from it. Reasoning is shown and stored beside the answer, never part of it."""

    text: str
    kind: DeltaKind = "text"


async def answer_text(deltas: AsyncIterator[Delta]) -> str:
    """The answer's text of a whole stream, its reasoning left out (titles, summaries)."""
    return "".join([d.text async for d in deltas if d.kind == "text"])


@dataclass
class StreamResult:
    """Filled in by the adapter as the stream ends."""

    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class ModelInfo:
    id: str
    display_name: str
    context_window: int | None = None  # input tokens, when the provider's listing says


class ProviderAdapter(Protocol):
    name: str

    def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        """Yields deltas (text or reasoning); sets `result` at the end (`usage` with
        `reasoning_tokens` where the provider counts them); raises ProviderError."""
        ...

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        """The provider's models through its SDK's listing call; raises ProviderError."""
        ...

    async def aclose(self) -> None:
        """Close the SDK clients (their HTTP sessions) this adapter built."""
        ...
