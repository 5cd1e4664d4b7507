"""Anthropic Messages streaming through the official `anthropic` SDK.

The caller's `stop` goes as `stop_sequences`; `temperature` and `top_p` under their API names
in the SDK's `extra_body` (its 2.x `messages.create` has no parameters of theirs).

Text arrives in `content_block_delta` events; extended thinking in the deltas of a `thinking`
block (`thinking_delta`, yielded as reasoning; its `signature_delta` is not text and is
ignored). The stop reason and output token count in `message_delta` (thinking tokens are
counted in it, not apart: no `reasoning_tokens`); input tokens in `message_start`. An `error` event
inside the stream is mapped like an HTTP error of the same kind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
from anthropic.types import (
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    TextDelta,
    ThinkingDelta,
)

from chat_worker.providers.base import (
    ChatRequest,
    Delta,
    ModelInfo,
    ProviderCredentials,
    StreamResult,
)
from chat_worker.providers.errors import stainless_errors
from chat_worker.providers.options import ClientCache, ClientOptions

STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class AnthropicAdapter:
    name = "anthropic"

    def __init__(self, options: ClientOptions) -> None:
        self._options = options
        self._clients: ClientCache[anthropic.AsyncAnthropic] = ClientCache(
            self._build, anthropic.AsyncAnthropic.close
        )

    def _build(self, base_url: str | None, api_key: str | None) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=self._options.httpx2_timeout(),
            http_client=anthropic.DefaultAioHttpClient(timeout=self._options.httpx2_timeout()),
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

    async def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        async with self._clients.lease(creds.base_url, creds.api_key) as client:
            extra: dict[str, Any] = {"system": chat.system} if chat.system else {}
            if chat.stop:
                extra["stop_sequences"] = list(chat.stop)
            # This SDK release types no sampling parameters: they go as the SDK's extra body.
            sampling = {"temperature": chat.temperature, "top_p": chat.top_p}
            if sampled := {k: v for k, v in sampling.items() if v is not None}:
                extra["extra_body"] = sampled
            usage: dict[str, Any] = {}
            with stainless_errors(self.name, anthropic.APIError, creds.api_key):
                wire: list[Any] = [{"role": m.role, "content": m.content} for m in chat.messages]
                stream = await client.messages.create(
                    model=chat.model,
                    max_tokens=chat.max_tokens,
                    messages=wire,
                    stream=True,
                    **extra,
                )
                async with stream:
                    async for event in stream:
                        if isinstance(event, RawContentBlockDeltaEvent):
                            delta = event.delta
                            if isinstance(delta, TextDelta) and delta.text:
                                yield Delta(delta.text)
                            elif isinstance(delta, ThinkingDelta) and delta.thinking:
                                yield Delta(delta.thinking, "reasoning")
                        elif isinstance(event, RawMessageStartEvent):
                            usage["input_tokens"] = event.message.usage.input_tokens
                        elif isinstance(event, RawMessageDeltaEvent):
                            reason = event.delta.stop_reason
                            if reason:
                                result.finish_reason = STOP_REASONS.get(reason, reason)
                            usage["output_tokens"] = event.usage.output_tokens
                result.usage = usage or None

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        async with self._clients.lease(creds.base_url, creds.api_key) as client:
            with stainless_errors(self.name, anthropic.APIError, creds.api_key):
                return [
                    ModelInfo(id=m.id, display_name=m.display_name or m.id)
                    async for m in client.models.list()
                ]
