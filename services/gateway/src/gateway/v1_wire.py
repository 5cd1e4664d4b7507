"""OpenAI's chat-completions wire format, as the /v1 API speaks it: the
request body, the error shape, and the rendering of Switchboard token events into
`chat.completion.chunk` server-sent events or one `chat.completion` object.

Reasoning goes as DeepSeek sends it, the extension OpenAI-compatible clients read:
`delta.reasoning_content` in a chunk, `message.reasoning_content` in a whole reply (absent
when there is none), and `usage.completion_tokens_details.reasoning_tokens` where counted."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import orjson
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contracts.generation import MAX_TOKENS_CAP, STOP_MAX, GenerationOptions
from contracts.providers import PROVIDERS
from contracts.tokens import decode_token, is_terminal
from contracts.views import ChatMessageView
from gateway.schemas import StopSequence
from gateway.storable import Text

OPENAI_PREFIX = "/v1"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    502: "api_error",
    503: "service_unavailable_error",
}
# The code when the caller gives none, as OpenAI names these cases.
DEFAULT_CODES = {
    401: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    503: "service_unavailable",
}
ZERO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
STREAM_ERROR_STATUS = {"provider_not_configured": 400, "rate_limited": 429}


def speaks_openai(path: str) -> bool:
    """Paths whose clients are OpenAI SDKs: their errors must have OpenAI's shape."""
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


def openai_error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """`{"error": {message, type, param, code}}`: what the openai SDKs parse into their
    `APIStatusError` subclasses (`AuthenticationError`, `RateLimitError`, ...)."""
    body = {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(status, "api_error"),
            "param": param,
            "code": code or DEFAULT_CODES.get(status),
        }
    }
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def error_response(
    path: str, status: int, detail: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error in the shape the path's clients parse: OpenAI's under /v1, else `{"detail"}`.
    For the middlewares and handlers that answer before (or without) a route."""
    if speaks_openai(path):
        return openai_error(
            status, detail if isinstance(detail, str) else str(detail), None, None, headers
        )
    return JSONResponse(
        {"detail": detail}, status_code=status, headers=dict(headers) if headers else None
    )


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: Text | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: Text | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        if any(p.type != "text" for p in self.content):
            raise HTTPException(400, "Only text content parts are supported")
        return "".join(p.text or "" for p in self.content)


class StreamOptions(BaseModel):
    include_usage: bool = False


# Parameters that change nothing Switchboard does, or that it does anyway (it stores every
# exchange), accepted as they are. Any other parameter this model does not declare is refused.
ACCEPTED_EXTRAS = frozenset({"user", "store", "metadata", "service_tier", "parallel_tool_calls"})
# Parameters /v1 cannot honour, refused when set to anything but these (their "off") values.
REFUSED_UNLESS: dict[str, tuple[Any, ...]] = {
    "n": (None, 1),
    "logprobs": (None, False),
    "top_logprobs": (None,),
    "tools": (None, []),
    "tool_choice": (None, "none"),
    "functions": (None, []),
    "function_call": (None, "none"),
    "response_format": (None, {"type": "text"}),
    "logit_bias": (None, {}),
    "seed": (None,),
    "presence_penalty": (None, 0, 0.0),
    "frequency_penalty": (None, 0, 0.0),
    "modalities": (None, ["text"]),
    "audio": (None,),
    "prediction": (None,),
    "reasoning_effort": (None,),
    "web_search_options": (None,),
}


class CompletionIn(BaseModel):
    """OpenAI's request body. `temperature`, `top_p`, `max_tokens` (or
    `max_completion_tokens`) and `stop` are passed to the provider; a parameter it cannot
    honour is refused by `refused_parameter`, never ignored."""

    model_config = ConfigDict(extra="allow")
    model: Text = Field(min_length=1, max_length=300)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=10_000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_CAP)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_CAP)
    temperature: float | None = Field(default=None, ge=0, le=2, allow_inf_nan=False)
    top_p: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    stop: StopSequence | Annotated[list[StopSequence], Field(max_length=STOP_MAX)] | None = None

    def refused_parameter(self) -> str | None:
        """The first parameter given that /v1 cannot honour, by its name."""
        for name, value in (self.model_extra or {}).items():
            if name in ACCEPTED_EXTRAS:
                continue
            if name not in REFUSED_UNLESS or value not in REFUSED_UNLESS[name]:
                return name
        return None

    def options(self) -> GenerationOptions | None:
        """The generation options the provider gets; None when none is given."""
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        options = GenerationOptions(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_completion_tokens or self.max_tokens,
            stop=stop or None,
        )
        return options if options.given() else None

    def instructions(self) -> str | None:
        """The `system` and `developer` messages, in their order: this answer's instructions."""
        texts = [m.text() for m in self.messages if m.role in ("system", "developer")]
        joined = "\n\n".join(t.strip() for t in texts if t.strip())
        return joined or None


def split_model(model: str) -> tuple[str, str | None]:
    """`provider/model` → (provider, model); a bare provider name means its default model."""
    provider, _, name = model.partition("/")
    if provider not in PROVIDERS or (_ and not name):
        raise HTTPException(404, f"The model `{model}` does not exist (use provider/model)")
    return provider, name or None


def usage_of(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    prompt = int(raw.get("input_tokens") or raw.get("prompt_tokens") or 0)
    completion = int(raw.get("output_tokens") or raw.get("completion_tokens") or 0)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if reasoning := raw.get("reasoning_tokens"):
        usage["completion_tokens_details"] = {"reasoning_tokens": int(reasoning)}
    return usage


class Answer:
    """The answer's token events → OpenAI chunks (as SSE bytes), remembering the text, the
    finish reason, the usage and any error for the final chunk or the non-streamed reply."""

    def __init__(self, completion_id: str, model: str, *, include_usage: bool) -> None:
        self.id = completion_id
        self.model = model
        self.created = int(time.time())
        self.include_usage = include_usage
        self.parts: list[str] = []
        self.thoughts: list[str] = []
        self.attempt: int | None = None
        self.done = False
        self.finish_reason = "stop"
        self.usage: dict[str, Any] | None = None
        self.error: tuple[str, str] | None = None

    def chunk(self, delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
        """One `chat.completion.chunk`; `delta` None makes the usage chunk (no choices)."""
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            **extra,
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    def first(self) -> bytes:
        return self.chunk({"role": "assistant", "content": ""})

    def render(self, _seq: int, raw: bytes) -> bytes:
        token = decode_token(raw)
        kind = token.get("kind")
        if kind == "delta":
            text = token.get("text", "")
            self.parts.append(text)
            return self.chunk({"content": text})
        if kind == "reasoning":
            text = token.get("text", "")
            self.thoughts.append(text)
            return self.chunk({"reasoning_content": text})
        if kind == "start":  # a restarted attempt: the reply keeps only the last attempt's text
            attempt = int(token.get("attempt", 1))
            if self.attempt is not None and attempt != self.attempt:
                self.parts.clear()
                self.thoughts.clear()
            self.attempt = attempt
            return b""
        if not is_terminal(token):
            return b""
        if kind == "end":
            self.finish_reason = token.get("finish_reason") or "stop"
            self.usage = usage_of(token.get("usage"))
        elif kind == "error":
            self.error = (token.get("code") or "provider_error", token.get("error") or "")
        self.done = True
        return self.last()

    def finish_from(self, view: ChatMessageView) -> bytes:
        """The stored outcome, when the stream ended without its terminal event."""
        message = view.message
        shown = "".join(self.parts)
        out = b""
        if message.content.startswith(shown) and message.content != shown:
            rest = message.content[len(shown) :]
            self.parts.append(rest)
            out = self.chunk({"content": rest})
        if message.status == "complete":
            self.finish_reason = view.finish_reason or "stop"
            self.usage = usage_of(message.usage)
        elif message.status == "failed":
            self.error = (view.error_code or "provider_error", view.error or "")
        self.done = True
        return out + self.last()

    def last(self) -> bytes:
        if self.error is not None:
            code, message = self.error
            body = {
                "error": {
                    "message": message or code,
                    "type": "api_error",
                    "param": None,
                    "code": code,
                }
            }
            return b"data: " + orjson.dumps(body) + b"\n\ndata: [DONE]\n\n"
        out = self.chunk({}, self.finish_reason)
        if self.include_usage:
            out += self.chunk(None, usage=self.usage or dict(ZERO_USAGE))
        return out + b"data: [DONE]\n\n"

    def completion(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": self.finish_reason,
                    "logprobs": None,
                    "message": self.message(),
                }
            ],
            "usage": self.usage or dict(ZERO_USAGE),
        }

    def message(self) -> dict[str, Any]:
        message = {"role": "assistant", "content": "".join(self.parts)}
        if self.thoughts:
            message["reasoning_content"] = "".join(self.thoughts)
        return message
