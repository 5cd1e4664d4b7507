"""Google Gemini streaming through the official `google-genai` SDK.

`generate_content_stream` reads the `streamGenerateContent?alt=sse` stream; the assistant role is
called `model` there, and the system prompt travels as `system_instruction`. Thoughts are asked for
(`include_thoughts`: models that do not think send none) and arrive as parts marked `thought`,
yielded as reasoning; `usage_metadata.thoughts_token_count` is `reasoning_tokens`. SDK retries are
switched off (one attempt): the worker retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from chat_worker.providers.base import (
    ChatRequest,
    Delta,
    ModelInfo,
    ProviderCredentials,
    ProviderError,
    StreamResult,
)
from chat_worker.providers.errors import from_status, scrub, transport_error
from chat_worker.providers.options import ClientCache, ClientOptions

API_VERSION = "v1beta"  # set explicitly: with a custom base URL the SDK would drop it
FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter"}


async def _close(client: genai.Client) -> None:
    await client.aio.aclose()


class GoogleAdapter:
    name = "google"

    def __init__(self, options: ClientOptions) -> None:
        self._options = options
        self._clients: ClientCache[genai.Client] = ClientCache(self._build, _close)

    def _build(self, base_url: str | None, api_key: str | None) -> genai.Client:
        return genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version=API_VERSION,
                timeout=int(self._options.read_timeout * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

    def _error(self, exc: Exception, creds: ProviderCredentials) -> ProviderError:
        if isinstance(exc, genai_errors.APIError):
            detail = f"{exc.status or ''} {exc.message or ''}".strip()
            return from_status(self.name, int(exc.code or 500), detail, secret=creds.api_key)
        if mapped := transport_error(self.name, exc):
            return mapped
        return ProviderError(
            "provider_error", f"{self.name} error: {scrub(str(exc), creds.api_key)}"
        )

    async def stream_chat(
        self, creds: ProviderCredentials, chat: ChatRequest, result: StreamResult
    ) -> AsyncIterator[Delta]:
        async with self._clients.lease(creds.base_url, creds.api_key) as client:
            contents = [
                types.Content(
                    role="user" if m.role == "user" else "model", parts=[types.Part(text=m.content)]
                )
                for m in chat.messages
            ]
            config = types.GenerateContentConfig(
                system_instruction=chat.system or None,
                max_output_tokens=chat.max_tokens,
                temperature=chat.temperature,
                top_p=chat.top_p,
                stop_sequences=list(chat.stop) or None,
                thinking_config=types.ThinkingConfig(include_thoughts=True),
            )
            try:
                stream = await client.aio.models.generate_content_stream(
                    model=chat.model, contents=contents, config=config
                )
                async for chunk in stream:
                    if (counted := chunk.usage_metadata) is not None:
                        result.usage = {
                            "input_tokens": counted.prompt_token_count,
                            "output_tokens": counted.candidates_token_count,
                        }
                        if counted.thoughts_token_count:
                            result.usage["reasoning_tokens"] = counted.thoughts_token_count
                    for candidate in chunk.candidates or ():
                        if candidate.finish_reason:
                            raw = candidate.finish_reason
                            reason = str(getattr(raw, "value", raw))
                            result.finish_reason = FINISH_REASONS.get(reason, reason.lower())
                        parts = candidate.content.parts if candidate.content else None
                        for part in parts or ():
                            if part.text:
                                yield Delta(part.text, "reasoning" if part.thought else "text")
            except ProviderError:
                raise
            except Exception as exc:
                raise self._error(exc, creds) from None

    async def list_models(self, creds: ProviderCredentials) -> list[ModelInfo]:
        async with self._clients.lease(creds.base_url, creds.api_key) as client:
            try:
                pager = await client.aio.models.list(config={"page_size": 100})
                found: list[ModelInfo] = []
                async for model in pager:
                    actions = model.supported_actions or []
                    if actions and "generateContent" not in actions:
                        continue
                    ident = (model.name or "").removeprefix("models/")
                    if ident:
                        name = model.display_name or ident
                        found.append(ModelInfo(ident, name, model.input_token_limit or None))
                return found
            except Exception as exc:
                raise self._error(exc, creds) from None
