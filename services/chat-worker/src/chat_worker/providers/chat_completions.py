"""OpenAI Chat Completions streaming through the official `openai` SDK.

One adapter class serves every provider that speaks this API: `openai` itself, and `deepseek`,
`openrouter` and `ollama` at their base URLs. Usage arrives in a last chunk because the request asks
for `stream_options.include_usage` (with `completion_tokens_details.reasoning_tokens` where the
server counts them). Reasoning arrives beside the text in each chunk's delta: DeepSeek's
`reasoning_content`, OpenRouter's (and Ollama's) `reasoning`. SDK retries are off: the worker
retries, and only while no token of the attempt has been delivered.

The SDK builds and sends the request, authenticates and raises its typed errors. Two of its
costs are skipped, both on the way to the first token or per chunk:
- the request goes through the client's `post` (the SDK's documented way to call an endpoint
  with a body of one's own) rather than `chat.completions.create`, whose parameter transform
  walks every message of the history through typing introspection, CPU spent before every
  answer on plain JSON it leaves unchanged;
- the stream's `data:` frames are read as plain JSON rather than as one pydantic model per
  chunk, which would cost CPU on every chunk of every answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from chat_worker.providers.base import (
    ChatRequest,
    Delta,
    ModelInfo,
    ProviderCredentials,
    StreamResult,
)
from chat_worker.providers.errors import stainless_errors, stream_error
from chat_worker.providers.options import ClientCache, ClientOptions
from chat_worker.providers.sse import sse_json

NO_KEY = "no-key"  # the SDK insists on some key; keyless servers (Ollama) ignore it


class ChatCompletionsAdapter:
    def __init__(self, name: str, options: ClientOptions) -> None:
        self.name = name
        self._options = options
        self._clients: ClientCache[openai.AsyncOpenAI] = ClientCache(
            self._build, openai.AsyncOpenAI.close
        )

    def _build(self, base_url: str | None, api_key: str | None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=base_url,
            max_retries=0,
            timeout=self._options.httpx2_timeout(),
            http_client=openai.DefaultAioHttpClient(timeout=self._options.httpx2_timeout()),
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

    def _limit(self, max_tokens: int) -> dict[str, Any]:
        # OpenAI's newer models accept only max_completion_tokens; compatible servers know
        # max_tokens.
        key = "max_completion_tokens" if self.name == "openai" else "max_tokens"
        return {key: max_tokens}

    async def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        async with self._clients.lease(creds.base_url, creds.api_key) as client:
            wire: list[Any] = [{"role": "system", "content": chat.system}] if chat.system else []
            wire += [{"role": m.role, "content": m.content} for m in chat.messages]
            body: dict[str, Any] = {
                "model": chat.model,
                "messages": wire,
                "stream": True,
                "stream_options": {"include_usage": True},
                **self._limit(chat.max_tokens),
            }
            if chat.temperature is not None:
                body["temperature"] = chat.temperature
            if chat.top_p is not None:
                body["top_p"] = chat.top_p
            if chat.stop:
                body["stop"] = list(chat.stop)
            with stainless_errors(self.name, openai.APIError, creds.api_key):
                # An error status raises the SDK's typed error here; a success comes back unread.
                response = await client.post(
                    "/chat/completions", cast_to=httpx2.Response, body=body, stream=True
                )
                try:
                    async for chunk in sse_json(response.aiter_bytes()):
                        if "error" in chunk:
                            raise stream_error(self.name, chunk["error"], creds.api_key)
                        usage = chunk.get("usage")
                        if usage:
                            result.usage = _usage(usage)
                        for choice in chunk.get("choices") or ():
                            if choice.get("finish_reason"):
                                result.finish_reason = choice["finish_reason"]
                            delta = choice.get("delta") or {}
                            thought = delta.get("reasoning_content") or delta.get("reasoning")
                            if thought and isinstance(thought, str):
                                yield Delta(thought, "reasoning")
                            text = delta.get("content")
                            if text:
                                yield Delta(text)
                finally:
                    await response.aclose()

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        """OpenRouter's listing names each model's `context_length`; Ollama's does not, and
        is asked `/api/show` per model (its `model_info` holds `<arch>.context_length`)."""
        async with self._clients.lease(creds.base_url, creds.api_key) as client:
            with stainless_errors(self.name, openai.APIError, creds.api_key):
                listed = [
                    ModelInfo(m.id, m.id, _positive(getattr(m, "context_length", None)))
                    async for m in client.models.list()
                ]
                if self.name != "ollama":
                    return listed
                windows = await asyncio.gather(*(_ollama_window(client, m.id) for m in listed))
                return [ModelInfo(m.id, m.id, w) for m, w in zip(listed, windows, strict=True)]


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    counted = {
        "input_tokens": usage.get("prompt_tokens"),
        "output_tokens": usage.get("completion_tokens"),
    }
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    if isinstance(reasoning, int) and reasoning > 0:
        counted["reasoning_tokens"] = reasoning
    return counted


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def _ollama_window(client: openai.AsyncOpenAI, model: str) -> int | None:
    """`POST /api/show` at the server's root (the base URL less `/v1`)."""
    root = str(client.base_url).rstrip("/").removesuffix("/v1")
    shown = await client.post(f"{root}/api/show", cast_to=object, body={"model": model})
    info = shown.get("model_info") if isinstance(shown, dict) else None
    if not isinstance(info, dict):
        return None
    arch = info.get("general.architecture")
    return _positive(info.get(f"{arch}.context_length"))
