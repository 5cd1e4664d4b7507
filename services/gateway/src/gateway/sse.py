"""Server-sent events of the chat stream, rendered straight to bytes (orjson, no pydantic):
this runs once per streamed chunk, on the way of every token to its client. Token events are
read with `contracts.tokens` (orjson into a `TypedDict`).

The events (see the HTTP spec, "Chat"):
- `message_start` {thread_id, user_message_id, message_id, provider, model}
- `token` {text}, `id` = the TOKENS stream sequence of that chunk (ids only grow)
- `reasoning` {text}: thinking the provider streamed apart from the answer, before and
  between tokens, with ids like tokens (so `Last-Event-ID` resumes it too); not answer text
- `restart` {message_id, attempt}: the answer restarted (its worker died, or the provider
  dropped the stream); discard this message's text so far, the new attempt follows. Events
  of an older attempt after a newer one's `start` are dropped: one attempt at a time
- then exactly one of `message_end` {message_id, finish_reason, usage}, `error` {code,
  message}, `cancelled` {message_id}
"""

from __future__ import annotations

from typing import Any

import orjson

from contracts.tokens import TokenFields, decode_token, is_terminal
from contracts.views import ChatMessageView

KEEP_ALIVE = b": keep-alive\n\n"


def event(name: bytes, data: Any, ident: int | None = None) -> bytes:
    payload = data if isinstance(data, bytes) else orjson.dumps(data)
    head = b"id: %d\n" % ident if ident is not None else b""
    return head + b"event: " + name + b"\ndata: " + payload + b"\n\n"


def terminal(message_id: str, token: TokenFields, ident: int | None) -> bytes:
    """The SSE event of a terminal token event (`end`, `error`, `cancelled`)."""
    kind = token.get("kind")
    if kind == "end":
        return event(
            b"message_end",
            {
                "message_id": message_id,
                "finish_reason": token.get("finish_reason") or "stop",
                "usage": token.get("usage"),
            },
            ident,
        )
    if kind == "error":
        return event(
            b"error",
            {"code": token.get("code") or "provider_error", "message": token.get("error") or ""},
            ident,
        )
    return event(b"cancelled", {"message_id": message_id}, ident)


class TokenRenderer:
    """Token events of one message, in stream order → SSE bytes. Tracks the text shown for the
    current attempt, so a fallback to stored content can tell whether it must restart."""

    def __init__(self, message_id: str, *, resuming: bool) -> None:
        self.message_id = message_id
        self.resuming = resuming
        self.attempt: int | None = None
        self.shown: list[str] = []
        self.thought: list[str] = []
        self.emitted = False
        self.done = False
        self.last_id: int | None = None

    def render(self, seq: int, raw: bytes) -> bytes:
        token = decode_token(raw)
        kind = token.get("kind")
        self.last_id = seq
        current = self.attempt
        if current is not None and token.get("attempt", 1) < current:
            return b""  # a superseded attempt's (workers fence them out; this is the backstop)
        if kind == "delta":
            text = token.get("text", "")
            self.shown.append(text)
            self.emitted = True
            return b"id: %d\nevent: token\ndata: %s\n\n" % (seq, orjson.dumps({"text": text}))
        if kind == "reasoning":
            text = token.get("text", "")
            self.thought.append(text)
            self.emitted = True
            return event(b"reasoning", {"text": text}, seq)
        if kind == "start":
            attempt = int(token.get("attempt", 1))
            previous, self.attempt = self.attempt, attempt
            if previous == attempt:
                return b""
            if attempt > 1 and (self.emitted or self.resuming):
                self.shown.clear()
                self.thought.clear()
                self.emitted = True
                return event(b"restart", {"message_id": self.message_id, "attempt": attempt}, seq)
            return b""
        if is_terminal(token):
            self.done = True
            return terminal(self.message_id, token, seq)
        return b""

    @property
    def text(self) -> str:
        return "".join(self.shown)


def stored_answer(view: ChatMessageView, renderer: TokenRenderer) -> bytes:
    """A finished answer from storage (its tokens expired, or its stream ended without a
    terminal event): the text not yet shown on this connection, then the terminal event."""
    message = view.message
    message_id = str(message.id)
    out: list[bytes] = []
    shown = renderer.text
    thought = "".join(renderer.thought) or None
    if message.content != shown or message.reasoning != thought:
        if renderer.emitted or renderer.resuming:
            out.append(event(b"restart", {"message_id": message_id, "attempt": view.attempt}))
        if message.reasoning:
            out.append(event(b"reasoning", {"text": message.reasoning}))
        if message.content:
            out.append(event(b"token", {"text": message.content}))
    if message.status == "complete":
        token = TokenFields(kind="end", finish_reason=view.finish_reason, usage=message.usage)
    elif message.status == "failed":
        token = TokenFields(kind="error", code=view.error_code, error=view.error)
    else:
        token = TokenFields(kind="cancelled")
    out.append(terminal(message_id, token, None))
    renderer.done = True
    return b"".join(out)
