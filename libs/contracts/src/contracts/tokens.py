"""Token events on the JetStream stream TOKENS, subject `tokens.<thread id>.<message id>`.

A stream of one answer is: `start` (once per attempt), `delta`s (answer text) and `reasoning`s
(thinking the provider streamed apart, before and between the deltas) numbered by one increasing
`seq`, then one terminal event (`end`, `error` or `cancelled`). A restarted attempt publishes a new
`start` with the next attempt number, announced to clients rather than spliced into the earlier
text.

Every producer encodes with `encode_token` and every reader decodes with `decode_token`: plain
orjson and a `TypedDict`, because a token event is the one message sent per chunk of every
answer. `TokenEvent` states the same shape as a model, for the AsyncAPI document and for tests.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, cast
from uuid import UUID

import orjson
from pydantic import BaseModel

TokenKind = Literal["start", "delta", "reasoning", "end", "error", "cancelled"]
TERMINAL_KINDS: frozenset[str] = frozenset({"end", "error", "cancelled"})


class TokenEvent(BaseModel):
    kind: TokenKind
    message_id: UUID
    attempt: int = 1
    seq: int = 0  # deltas and reasoning: 1, 2, 3 ... within an attempt
    text: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    code: str | None = None  # error events
    error: str | None = None


class TokenFields(TypedDict, total=False):
    """A decoded token event: the fields of `TokenEvent`, ids as strings."""

    kind: str
    message_id: str
    attempt: int
    seq: int
    text: str
    finish_reason: str | None
    usage: dict[str, Any] | None
    code: str | None
    error: str | None


def encode_token(kind: TokenKind, message_id: str, attempt: int, seq: int, **fields: Any) -> bytes:
    """One token event as published; `fields` are the optional ones of `TokenEvent`."""
    return orjson.dumps(
        {"kind": kind, "message_id": message_id, "attempt": attempt, "seq": seq, **fields}
    )


def decode_token(raw: bytes | None) -> TokenFields:
    """A token event as read from TOKENS; `{}` for an empty body. Raises `ValueError` on
    bytes that are not a JSON object."""
    decoded = orjson.loads(raw or b"{}")
    if not isinstance(decoded, dict):
        raise ValueError("token event: expected a JSON object")
    return cast(TokenFields, decoded)


def is_terminal(token: TokenFields) -> bool:
    return token.get("kind") in TERMINAL_KINDS
