"""Generates one answer: provider stream → coalesced deltas on TOKENS → an outcome to record.

Retries and restarts:
- A transient error (rate limited, unavailable) before any token of the attempt was published
  is retried in place with exponential backoff, up to `provider_retries` times.
- A transient error after tokens were published (a stream dropped mid-answer) restarts the
  answer as a new attempt, announced by a new `start` event, never spliced onto the old text;
  restarts share the same retry budget.
- Anything else, or an exhausted budget, fails the answer with the error's stable code and the
  partial text that was published.

Coalescing: the first delta goes out at once (time to first token); later text is gathered
until `coalesce_chars` characters or `coalesce_interval` seconds, whichever comes first, and
naturally while the previous publish waits for its ack.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from chat_worker.config import Settings
from chat_worker.inflight import WAKE, CancelHandle
from chat_worker.providers.base import (
    ChatMessage,
    ProviderAdapter,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from chat_worker.token_stream import TokenStream

log = structlog.get_logger(__name__)
_END = object()
OutcomeKind = Literal["complete", "failed", "cancelled"]


def storable(text: str) -> str:
    """Text Postgres can store: no NUL, valid UTF-8 (what is streamed is what is stored)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


@dataclass
class Outcome:
    kind: OutcomeKind
    attempt: int
    content: str = ""
    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None
    code: str = ""
    error: str = ""


@dataclass
class Request:
    adapter: ProviderAdapter
    creds: ProviderCredentials
    model: str
    system: str
    messages: list[ChatMessage]
    max_tokens: int


@dataclass
class Generation:
    settings: Settings
    new_stream: Callable[[int], TokenStream]  # attempt → a publisher for that attempt
    cancel: CancelHandle
    attempts: list[TokenStream] = field(default_factory=list)

    async def run(self, request: Request, first_attempt: int) -> Outcome:
        tokens = self.new_stream(first_attempt)
        budget = self.settings.provider_retries
        delay = self.settings.provider_retry_delay
        while True:
            try:
                return await self._attempt(request, tokens)
            except ProviderError as err:
                if self.cancel.requested:
                    return Outcome("cancelled", tokens.attempt, tokens.content)
                if not err.transient or budget <= 0:
                    return Outcome(
                        "failed", tokens.attempt, tokens.content, code=err.code, error=err.message
                    )
                budget -= 1
                wait = min(max(delay, err.retry_after or 0), self.settings.provider_retry_max_delay)
                log.info(
                    "transient provider error, retrying",
                    code=err.code,
                    attempt=tokens.attempt,
                    restart=tokens.seq > 0,
                    wait=wait,
                )
                if await self._cancelled_within(wait):
                    return Outcome("cancelled", tokens.attempt, tokens.content)
                delay *= 2
                if tokens.seq > 0:  # text was shown: the retry is a new, announced attempt
                    tokens = self.new_stream(tokens.attempt + 1)

    async def _cancelled_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.cancel.event.wait(), seconds)
        return self.cancel.requested

    async def _attempt(self, request: Request, tokens: TokenStream) -> Outcome:
        if tokens not in self.attempts:
            self.attempts.append(tokens)
        queue: asyncio.Queue[object] = asyncio.Queue()
        result = StreamResult()
        self.cancel.queue = queue
        first_out = asyncio.Event()

        async def pump() -> None:
            try:
                async for text in request.adapter.stream_chat(
                    request.creds,
                    request.model,
                    request.system,
                    request.messages,
                    result,
                    max_tokens=request.max_tokens,
                ):
                    if text:
                        queue.put_nowait(storable(text))
                        if not first_out.is_set():
                            # A read from the provider often holds many chunks, and parsing
                            # them never suspends: let the first one be published before
                            # parsing on (time to first token).
                            await first_out.wait()
                queue.put_nowait(_END)
            except asyncio.CancelledError:
                raise
            except ProviderError as err:
                queue.put_nowait(err)
            except Exception as exc:  # an adapter bug must not hang the answer
                log.exception("adapter failed unexpectedly", provider=request.creds.provider)
                queue.put_nowait(ProviderError("provider_error", type(exc).__name__))

        # The attempt's `start` goes out before the provider call: building that request is
        # CPU work that never yields, and the first delta waits for the start's ack.
        starting = asyncio.ensure_future(tokens.start())
        await asyncio.sleep(0)  # its publish is queued (and then flushed) before the pump runs
        producer = asyncio.create_task(pump(), name=f"provider-{tokens.subject}")
        try:
            await starting
            return await self._relay(queue, tokens, result, first_out)
        finally:
            if not starting.done():
                starting.cancel()
            self.cancel.queue = None
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer

    async def _relay(
        self,
        queue: asyncio.Queue[object],
        tokens: TokenStream,
        result: StreamResult,
        first_out: asyncio.Event,
    ) -> Outcome:
        loop = asyncio.get_running_loop()
        interval = self.settings.coalesce_interval
        limit = self.settings.coalesce_chars
        buffer: list[str] = []
        size = 0
        deadline = 0.0

        async def flush() -> None:
            nonlocal size
            if buffer:
                text = "".join(buffer)
                buffer.clear()
                size = 0
                try:
                    await tokens.delta(text)
                finally:
                    first_out.set()

        while True:
            if self.cancel.requested:
                return Outcome("cancelled", tokens.attempt, tokens.content)
            if not buffer:
                item = await queue.get()
            else:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        await flush()
                        continue
                    try:
                        item = await asyncio.wait_for(queue.get(), remaining)
                    except TimeoutError:
                        await flush()
                        continue
            if item is WAKE:
                continue
            if item is _END:
                await flush()
                return Outcome(
                    "complete",
                    tokens.attempt,
                    tokens.content,
                    finish_reason=result.finish_reason or "stop",
                    usage=result.usage,
                )
            if isinstance(item, ProviderError):
                await flush()  # what arrived before the error is part of the partial answer
                raise item
            text = str(item)
            buffer.append(text)
            size += len(text)
            if tokens.seq == 0 or size >= limit or interval <= 0:
                await flush()
            elif len(buffer) == 1:
                deadline = loop.time() + interval
