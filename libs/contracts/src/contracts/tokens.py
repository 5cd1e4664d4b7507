"""Token events on the JetStream stream TOKENS, subject `tokens.<thread id>.<message id>`.

A stream of one answer is: `start` (once per attempt), `delta`s with increasing `seq`, then one
terminal event (`end`, `error` or `cancelled`). A restarted attempt publishes a new `start` with
the next attempt number, announced to clients rather than spliced into the earlier text.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

TokenKind = Literal["start", "delta", "end", "error", "cancelled"]


class TokenEvent(BaseModel):
    kind: TokenKind
    message_id: UUID
    attempt: int = 1
    seq: int = 0  # deltas: 1, 2, 3 ... within an attempt
    text: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    code: str | None = None  # error events
    error: str | None = None
