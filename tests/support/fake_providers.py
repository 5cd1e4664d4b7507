"""A local stand-in for the LLM providers, speaking their real wire formats, for tests.

One HTTP server (Starlette on uvicorn, in a background thread of the test process, on a free
port) answers the three API families the adapters use:

- OpenAI Chat Completions: `POST /v1/chat/completions` (SSE `chat.completion.chunk`s, a usage
  chunk when `stream_options.include_usage`, then `data: [DONE]`), `GET /v1/models`;
- Anthropic Messages: `POST /v1/messages` (SSE `message_start`, `content_block_start`, `ping`,
  `content_block_delta`…, `content_block_stop`, `message_delta`, `message_stop`),
  `GET /v1/models`;
- Gemini: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`, `GET /v1beta/models`
  (the `v1` paths too).

Point an SDK at `openai_base_url`, `anthropic_base_url` or `google_base_url`. Every request is
recorded (`requests`) so tests can see the prompt that reached the provider. Behaviour per request
comes from `script(...)` (consumed in order, per provider and optionally per model), else from the
model name: `fail-401`, `fail-403`, `fail-429`, `fail-500`, `fail-503`, `context-too-long`, `drop`
(connection dropped after two tokens), `hang` (no answer for a long time), `slow` (50 ms between
tokens), `think` (reasoning first, in each format's real shape: Anthropic's `thinking` block with
`thinking_delta`s and a `signature_delta`, DeepSeek's `delta.reasoning_content`, Gemini's `thought:
true` parts, with reasoning token counts where the provider reports them), `think-openrouter`
(OpenRouter's and Ollama's `delta.reasoning`), `think-slow` (`think` with 50 ms between chunks);
anything else answers normally. `expected_keys` makes the server refuse other keys with its
provider's 401, as the real ones do.

    with FakeProviders() as fake:
        client = openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key="sk-test")
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Provider = Literal["openai", "anthropic", "google"]
Kind = Literal["ok", "status", "drop", "hang", "error_event"]
_WORDS = re.compile(r"\s*\S+")
THOUGHT = "The user greets me. I should answer politely."


@dataclass
class Behaviour:
    """What one request gets. `status` with kind "status" (401, 429, 500 ...); "drop" closes
    the connection after `drop_after` tokens; "hang" waits `hang_seconds` before anything;
    "error_event" sends an error inside a 200 stream after the tokens (Anthropic: `event:
    error` of `error_type`; OpenAI: a `data: {"error": ...}` frame)."""

    kind: Kind = "ok"
    status: int = 200
    answer: str | None = None
    drop_after: int = 2
    hang_seconds: float = 60.0
    interval: float = 0.0
    first_delay: float = 0.0
    retry_after: str | None = None
    error_type: str = "overloaded_error"
    message: str | None = None
    reasoning: str | None = None  # sent before the answer, in the format's reasoning shape
    reasoning_field: str = "reasoning_content"  # OpenAI-compatible: DeepSeek's, or `reasoning`


@dataclass
class Recorded:
    provider: Provider
    path: str
    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    def texts(self) -> str:
        """Every piece of text the request carried (system prompt and messages), joined."""
        return json.dumps(self.body, ensure_ascii=False)


def _anthropic_key(request: Request) -> str | None:
    """Anthropic's SDK sends `x-api-key`, newer releases `Authorization: Bearer`."""
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return request.headers.get("x-api-key") or bearer or None


def asks_for_thoughts(body: dict[str, Any]) -> bool:
    """Gemini's `thinkingConfig.includeThoughts` (protobuf JSON: snake_case is read too)."""
    config = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
    return bool(config.get("includeThoughts") or config.get("include_thoughts"))


def _by_model_name(model: str) -> Behaviour | None:
    if m := re.fullmatch(r"fail-(\d{3})", model):
        return Behaviour(kind="status", status=int(m.group(1)))
    if model == "context-too-long":
        return Behaviour(kind="status", status=400, message="context_length_exceeded")
    if model == "drop":
        return Behaviour(kind="drop")
    if model == "hang":
        return Behaviour(kind="hang")
    if model == "slow":
        return Behaviour(interval=0.05)
    if model in ("think", "think-slow"):
        return Behaviour(reasoning=THOUGHT, interval=0.05 if model == "think-slow" else 0.0)
    if model == "think-openrouter":
        return Behaviour(reasoning=THOUGHT, reasoning_field="reasoning")
    return None


class FakeProviders:
    def __init__(
        self,
        answer: str = "Hello from the fake provider, streamed word by word.",
        *,
        expected_keys: dict[str, str] | None = None,
        models: dict[str, list[str]] | None = None,
        context_lengths: dict[str, int] | None = None,
    ) -> None:
        self.answer = answer
        self.expected_keys = expected_keys or {}
        self.models = models or {
            "openai": ["gpt-fake", "gpt-fake-mini"],
            "anthropic": ["claude-fake"],
            "google": ["gemini-fake"],
        }
        # Context windows the listings state: OpenRouter's `context_length` on /v1/models (only
        # the models named here, as OpenAI's own listing says none), Ollama's `/api/show`
        # `model_info`, Gemini's `inputTokenLimit` (every model, 1,048,576 unless named).
        self.context_lengths = context_lengths or {}
        self.requests: list[Recorded] = []
        self._scripts: list[tuple[str, str | None, Behaviour]] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def google_base_url(self) -> str:
        return self.url

    def start(self) -> FakeProviders:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            log_level="warning",
            access_log=False,
            timeout_keep_alive=65,
            timeout_graceful_shutdown=0.5,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake providers did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- scripting -----------------------------------------------------------------------------

    def script(self, provider: str, *behaviours: Behaviour, model: str | None = None) -> None:
        """The next requests to `provider` (`"*"` for any; only `model` if given) get these
        behaviours in order; later ones fall back to the model-name rules."""
        with self._lock:
            self._scripts.extend((provider, model, b) for b in behaviours)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()

    def requests_for(self, provider: str, model: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.provider == provider and (model is None or r.model == model)
        ]

    def _behaviour(self, provider: Provider, model: str) -> Behaviour:
        with self._lock:
            for i, (p, m, b) in enumerate(self._scripts):
                if p in (provider, "*") and m in (None, model):
                    del self._scripts[i]
                    return b
        return _by_model_name(model) or Behaviour()

    def _record(
        self, provider: Provider, request: Request, model: str, body: dict[str, Any]
    ) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(provider, request.url.path, model, body, headers))

    def _tokens(self, behaviour: Behaviour) -> list[str]:
        return _WORDS.findall(behaviour.answer if behaviour.answer is not None else self.answer)

    @staticmethod
    def _thoughts(behaviour: Behaviour) -> list[str]:
        return _WORDS.findall(behaviour.reasoning or "")

    def _key_ok(self, provider: str, given: str | None) -> bool:
        expected = self.expected_keys.get(provider)
        return expected is None or given == expected

    # -- the app ---------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai_chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/api/show", self._ollama_show, methods=["POST"]),
                Route("/v1/messages", self._anthropic_messages, methods=["POST"]),
                Route("/v1beta/models", self._google_models, methods=["GET"]),
                Route("/v1beta/models/{rest:path}", self._google_generate, methods=["POST"]),
                Route("/v1/models/{rest:path}", self._google_generate, methods=["POST"]),
            ]
        )

    async def _stream(
        self, behaviour: Behaviour, chunks: list[bytes], head: list[bytes], tail: list[bytes]
    ) -> AsyncIterator[bytes]:
        if behaviour.first_delay:
            await asyncio.sleep(behaviour.first_delay)
        for part in head:
            yield part
        for i, chunk in enumerate(chunks):
            if behaviour.kind == "drop" and i == behaviour.drop_after:
                raise ConnectionResetError("fake provider dropped the stream")
            if behaviour.interval and i:
                await asyncio.sleep(behaviour.interval)
            yield chunk
        for part in tail:
            yield part

    # OpenAI -------------------------------------------------------------------------------------

    def _openai_error(self, status: int, message: str | None, key: str | None) -> Response:
        texts = {
            401: f"Incorrect API key provided: {key}. You can find your API key at ...",
            403: "You are not allowed to use this model.",
            429: "Rate limit reached for requests",
            400: message or "Bad request",
        }
        code = "context_length_exceeded" if message == "context_length_exceeded" else None
        text = texts.get(status, "The server had an error while processing your request.")
        if code:
            text = "This model's maximum context length is 128000 tokens. Please reduce the length."
        return JSONResponse(
            {
                "error": {
                    "message": text,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": code,
                }
            },
            status_code=status,
        )

    async def _openai_chat(self, request: Request) -> Response:
        body = await request.json()
        model = str(body.get("model", ""))
        self._record("openai", request, model, body)
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not self._key_ok("openai", key):
            return self._openai_error(401, None, key)
        behaviour = self._behaviour("openai", model)
        if behaviour.kind == "hang":
            await asyncio.sleep(behaviour.hang_seconds)
        if behaviour.kind == "status":
            response = self._openai_error(behaviour.status, behaviour.message, key)
            if behaviour.retry_after:
                response.headers["retry-after"] = behaviour.retry_after
            return response
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        tokens = self._tokens(behaviour)
        thoughts = self._thoughts(behaviour)

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
            data: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if usage is not None or include_usage:
                data["usage"] = usage
            return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if not body.get("stream"):
            return JSONResponse({"error": {"message": "only streaming is faked"}}, status_code=400)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        tail = [chunk({}, "stop")]
        if include_usage:
            completion = len(tokens) + len(thoughts)
            usage: dict[str, Any] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion,
            }
            if thoughts:  # DeepSeek's and OpenRouter's count of the reasoning
                usage["completion_tokens_details"] = {"reasoning_tokens": len(thoughts)}
            final = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            tail.append(b"data: " + json.dumps(final).encode() + b"\n\n")
        tail.append(b"data: [DONE]\n\n")
        if behaviour.kind == "error_event":  # an error frame inside the 200 stream
            error = {"message": "The server had an error", "type": "server_error", "code": 500}
            tail = [b"data: " + json.dumps({"error": error}).encode() + b"\n\n"]
        head = [chunk({"role": "assistant", "content": "", "refusal": None})]
        field = behaviour.reasoning_field
        reasoning = [chunk({"content": None, field: t}) for t in thoughts]
        chunks = reasoning + [chunk({"content": t, field: None}) for t in tokens]
        return StreamingResponse(
            self._stream(behaviour, chunks, head, tail), media_type="text/event-stream"
        )

    async def _models(self, request: Request) -> Response:
        """GET /v1/models: OpenAI's shape, or Anthropic's when the request carries its headers."""
        if "x-goog-api-key" in request.headers:
            return await self._google_models(request)
        if "anthropic-version" in request.headers or "x-api-key" in request.headers:
            key = _anthropic_key(request)
            if not self._key_ok("anthropic", key):
                return self._anthropic_error(401, "authentication_error", "invalid x-api-key")
            data = [
                {
                    "type": "model",
                    "id": m,
                    "display_name": m.replace("-", " ").title(),
                    "created_at": "2025-01-01T00:00:00Z",
                }
                for m in self.models["anthropic"]
            ]
            return JSONResponse(
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"] if data else None,
                    "last_id": data[-1]["id"] if data else None,
                }
            )
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not self._key_ok("openai", key):
            return self._openai_error(401, None, key)
        listed: list[dict[str, Any]] = []
        for m in self.models["openai"]:
            entry: dict[str, Any] = {
                "id": m,
                "object": "model",
                "created": 1700000000,
                "owned_by": "fake",
            }
            if m in self.context_lengths:  # OpenRouter's entry: name, context_length, pricing
                entry.update(
                    name=m,
                    context_length=self.context_lengths[m],
                    pricing={"prompt": "0.000001", "completion": "0.000002"},
                )
            listed.append(entry)
        return JSONResponse({"object": "list", "data": listed})

    async def _ollama_show(self, request: Request) -> Response:
        """Ollama's `POST /api/show`: the model's details and its `model_info`."""
        body = await request.json()
        model = str(body.get("model") or body.get("name") or "")
        if model not in self.models["openai"]:
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        return JSONResponse(
            {
                "modelfile": f"FROM {model}",
                "parameters": "stop <|eot_id|>",
                "template": "{{ .Prompt }}",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
                "model_info": {
                    "general.architecture": "llama",
                    "general.parameter_count": 3212749888,
                    "llama.context_length": self.context_lengths.get(model, 131072),
                    "llama.embedding_length": 3072,
                },
            }
        )

    # Anthropic ----------------------------------------------------------------------------------

    def _anthropic_error(self, status: int, kind: str, message: str) -> Response:
        return JSONResponse(
            {"type": "error", "error": {"type": kind, "message": message}}, status_code=status
        )

    async def _anthropic_messages(self, request: Request) -> Response:
        body = await request.json()
        model = str(body.get("model", ""))
        self._record("anthropic", request, model, body)
        if not self._key_ok("anthropic", _anthropic_key(request)):
            return self._anthropic_error(401, "authentication_error", "invalid x-api-key")
        behaviour = self._behaviour("anthropic", model)
        if behaviour.kind == "hang":
            await asyncio.sleep(behaviour.hang_seconds)
        if behaviour.kind == "status":
            kinds = {
                400: "invalid_request_error",
                401: "authentication_error",
                403: "permission_error",
                413: "request_too_large",
                429: "rate_limit_error",
                529: "overloaded_error",
            }
            message = behaviour.message or "error"
            if message == "context_length_exceeded":
                message = "prompt is too long: 250000 tokens > 200000 maximum"
            response = self._anthropic_error(
                behaviour.status, kinds.get(behaviour.status, "api_error"), message
            )
            if behaviour.retry_after:
                response.headers["retry-after"] = behaviour.retry_after
            return response
        tokens = self._tokens(behaviour)
        thoughts = self._thoughts(behaviour)
        text_index = 1 if thoughts else 0

        def sse(name: str, data: dict[str, Any]) -> bytes:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        def block_start(index: int, block: dict[str, Any]) -> bytes:
            data = {"type": "content_block_start", "index": index, "content_block": block}
            return sse("content_block_start", data)

        def block_delta(index: int, delta: dict[str, Any]) -> bytes:
            data = {"type": "content_block_delta", "index": index, "delta": delta}
            return sse("content_block_delta", data)

        # extended thinking: a `thinking` block first, its deltas, its signature, its stop
        thinking = (
            [block_start(0, {"type": "thinking", "thinking": "", "signature": ""})]
            + [block_delta(0, {"type": "thinking_delta", "thinking": t}) for t in thoughts]
            + [
                block_delta(0, {"type": "signature_delta", "signature": "EqQBCkYIARgCKkD"}),
                sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ]
            if thoughts
            else []
        )

        msg_id = "msg_" + uuid.uuid4().hex[:20]
        head = [
            sse(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "content": [],
                        "model": model,
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 12, "output_tokens": 1},
                    },
                },
            ),
            sse("ping", {"type": "ping"}),
        ]
        chunks = [
            *thinking,
            block_start(text_index, {"type": "text", "text": ""}),
            *(block_delta(text_index, {"type": "text_delta", "text": t}) for t in tokens),
        ]
        if behaviour.kind == "error_event":
            tail = [
                sse(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": behaviour.error_type, "message": "Overloaded"},
                    },
                )
            ]
        else:
            tail = [
                sse("content_block_stop", {"type": "content_block_stop", "index": text_index}),
                sse(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                        # thinking is billed as output, with no count of its own
                        "usage": {"output_tokens": len(tokens) + len(thoughts)},
                    },
                ),
                sse("message_stop", {"type": "message_stop"}),
            ]
        return StreamingResponse(
            self._stream(behaviour, chunks, head, tail), media_type="text/event-stream"
        )

    # Gemini -------------------------------------------------------------------------------------

    def _google_error(self, status: int, message: str | None = None) -> Response:
        statuses = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        text = message or "error"
        if message == "context_length_exceeded":
            text = "The input token count (2000000) exceeds the maximum number of tokens allowed."
        if status == 401:
            text = "API key not valid. Please pass a valid API key."
        return JSONResponse(
            {"error": {"code": status, "message": text, "status": statuses.get(status, "UNKNOWN")}},
            status_code=status,
        )

    async def _google_models(self, request: Request) -> Response:
        if not self._key_ok("google", request.headers.get("x-goog-api-key")):
            return self._google_error(401)
        return JSONResponse(
            {
                "models": [
                    {
                        "name": f"models/{m}",
                        "displayName": m.replace("-", " ").title(),
                        "inputTokenLimit": self.context_lengths.get(m, 1_048_576),
                        "outputTokenLimit": 65536,
                        "supportedGenerationMethods": ["generateContent", "countTokens"],
                    }
                    for m in self.models["google"]
                ]
                + [
                    {
                        "name": "models/embedding-fake",
                        "displayName": "Embedding",
                        "supportedGenerationMethods": ["embedContent"],
                    }
                ]
            }
        )

    async def _google_generate(self, request: Request) -> Response:
        rest = request.path_params["rest"]
        model, _, method = rest.partition(":")
        body = await request.json()
        self._record("google", request, model, body)
        if method != "streamGenerateContent":
            return self._google_error(400, f"only streamGenerateContent is faked, not {method}")
        if not self._key_ok("google", request.headers.get("x-goog-api-key")):
            return self._google_error(401)
        behaviour = self._behaviour("google", model)
        if behaviour.kind == "hang":
            await asyncio.sleep(behaviour.hang_seconds)
        if behaviour.kind == "status":
            response = self._google_error(behaviour.status, behaviour.message)
            if behaviour.retry_after:
                response.headers["retry-after"] = behaviour.retry_after
            return response
        tokens = self._tokens(behaviour)
        thoughts = self._thoughts(behaviour)
        if thoughts and not asks_for_thoughts(body):
            thoughts = []  # Gemini sends thoughts only when asked to include them

        def chunk(text: str, finish: str | None = None, thought: bool = False) -> bytes:
            part: dict[str, Any] = {"text": text, "thought": True} if thought else {"text": text}
            candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
            if finish:
                candidate["finishReason"] = finish
            usage: dict[str, Any] = {
                "promptTokenCount": 9,
                "candidatesTokenCount": len(tokens),
                "totalTokenCount": 9 + len(tokens) + len(thoughts),
            }
            if thoughts:
                usage["thoughtsTokenCount"] = len(thoughts)
            data = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}
            return b"data: " + json.dumps(data).encode() + b"\r\n\r\n"

        chunks = [chunk(t, thought=True) for t in thoughts]
        chunks += [chunk(t) for t in tokens[:-1]] + [chunk(tokens[-1] if tokens else "", "STOP")]
        return StreamingResponse(
            self._stream(behaviour, chunks, [], []), media_type="text/event-stream"
        )
