"""Attempts at one answer: provider stream → coalesced deltas on TOKENS → an outcome to record.

Retries and restarts:
- A transient error (rate limited, unavailable) before any token of the attempt was published
  is retried in place with exponential backoff, up to `provider_retries` times.
- A transient error after tokens were published (a stream dropped mid-answer) restarts the
  answer as a new attempt, announced by a new `start` event, never spliced onto the old text;
  restarts share the same retry budget.
- Anything else, or an exhausted budget, fails the answer with the error's stable code and the
  partial text that was published.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from chat_worker.answering.cancels import CancelHandle
from chat_worker.answering.coalescing import END, Coalescing
from chat_worker.answering.outcome import Outcome, streamed
from chat_worker.answering.token_stream import TokenStream
from chat_worker.config import Settings
from chat_worker.providers.base import (
    ChatRequest,
    Delta,
    ProviderAdapter,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from contracts.text import make_storable

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Request:
    """One call to a provider, made again by each attempt."""

    adapter: ProviderAdapter
    creds: ProviderCredentials
    chat: ChatRequest


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
                    return streamed("cancelled", tokens)
                if not err.transient or budget <= 0:
                    return streamed("failed", tokens, code=err.code, error=err.message)
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
                    return streamed("cancelled", tokens)
                delay *= 2
                if tokens.seq > 0:  # text or reasoning shown: the retry is a new, announced attempt
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
        coalescing = Coalescing(self.settings.coalesce_interval, self.settings.coalesce_chars)
        # The attempt's `start` goes out before the provider call: building that request is
        # CPU work that never yields, and the first delta waits for the start's ack.
        starting = asyncio.ensure_future(tokens.start())
        await asyncio.sleep(0)  # its publish is queued (and then flushed) before the pump runs
        producer = asyncio.create_task(
            pump(request, result, queue, first_out), name=f"provider-{tokens.subject}"
        )
        try:
            await starting
            return await coalescing.relay(queue, tokens, result, first_out, self.cancel)
        finally:
            if not starting.done():
                starting.cancel()
            self.cancel.queue = None
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer


async def pump(
    request: Request, result: StreamResult, queue: asyncio.Queue[object], first_out: asyncio.Event
) -> None:
    """The provider's stream into `queue`: storable deltas, then END or the ProviderError."""
    try:
        async for delta in request.adapter.stream_chat(request.creds, request.chat, result):
            if delta.text:
                queue.put_nowait(Delta(make_storable(delta.text), delta.kind))
                if not first_out.is_set():
                    # A read from the provider often holds many chunks, and parsing them never
                    # suspends: let the first one be published before parsing on.
                    await first_out.wait()
        queue.put_nowait(END)
    except asyncio.CancelledError:
        raise
    except ProviderError as err:
        queue.put_nowait(err)
    except Exception as exc:  # an adapter bug must not hang the answer
        log.exception("adapter failed unexpectedly", provider=request.creds.provider)
        queue.put_nowait(ProviderError("provider_error", type(exc).__name__))
