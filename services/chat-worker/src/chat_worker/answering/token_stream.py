"""Publishes one attempt of one answer to the TOKENS stream, on `tokens.<thread>.<message>`.

`start`, then deltas and reasoning numbered 1, 2, 3 ..., then one terminal event (`end`, `error`,
`cancelled`), each encoded by `contracts.tokens`. Each publish waits for JetStream's ack, so
`content` (the deltas published) and `reasoning` are exactly what a reader of the stream can get:
what is stored for a cancelled or failed answer is this, never more. No `Nats-Msg-Id`: a publish is
never retried in place (a failed one fails the delivery, and the redelivery is a new, announced
attempt).

Fenced: every publish says which message it follows on the answer's subject
(`Nats-Expected-Last-Subject-Sequence`, the one header, a parse per chunk for readers).
JetStream refuses it if anything else was published there since, so an attempt superseded by
another delivery's (its worker was paused past the ack wait, and the request redelivered)
learns it at its next publish (`Superseded`), and nothing of it lands after the new attempt's
`start`. Each `start` is fenced too, on the message its attempt number was chosen after, so
attempt numbers only grow along a stream.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from nats.js import JetStreamContext
from nats.js.errors import BadRequestError

from contracts.subjects import TOKENS_STREAM, tokens_subject
from contracts.tokens import TokenFields, TokenKind, encode_token
from messaging.answer_tokens import last_token

FENCE = "Nats-Expected-Last-Subject-Sequence"
WRONG_LAST_SEQUENCE = 10071  # JetStream's error code for a refused fence


class Superseded(Exception):
    """Another attempt published on this answer's subject: this one must stop."""


class Fence:
    """The stream sequence of the newest message this delivery knows on the answer's subject
    (0: none). Shared by the attempts of one delivery: a restart follows its own attempt."""

    def __init__(self, seq: int = 0) -> None:
        self.seq = seq


class TokenStream:
    def __init__(
        self,
        js: JetStreamContext,
        thread_id: UUID,
        message_id: UUID,
        attempt: int,
        timeout: float,
        fence: Fence | None = None,
    ) -> None:
        self.js = js
        self.subject = tokens_subject(thread_id, message_id)
        self.message_id = str(message_id)
        self.attempt = attempt
        self.timeout = timeout
        self.fence = fence if fence is not None else Fence()
        self.seq = 0
        self.started = False
        self._parts: list[str] = []
        self._thoughts: list[str] = []

    @property
    def content(self) -> str:
        return "".join(self._parts)

    @property
    def reasoning(self) -> str | None:
        """The reasoning published, None if there was none."""
        return "".join(self._thoughts) if self._thoughts else None

    async def _publish(self, kind: TokenKind, seq: int, **fields: Any) -> None:
        payload = encode_token(kind, self.message_id, self.attempt, seq, **fields)
        try:
            ack = await self.js.publish(
                self.subject,
                payload,
                stream=TOKENS_STREAM,
                timeout=self.timeout,
                headers={FENCE: str(self.fence.seq)},
            )
        except BadRequestError as err:
            if err.err_code == WRONG_LAST_SEQUENCE:
                raise Superseded(self.subject) from err
            raise
        self.fence.seq = ack.seq

    async def start(self) -> None:
        if not self.started:
            await self._publish("start", 0)
            self.started = True

    async def delta(self, text: str) -> None:
        await self.start()
        self.seq += 1
        await self._publish("delta", self.seq, text=text)
        self._parts.append(text)

    async def reasoning_delta(self, text: str) -> None:
        await self.start()
        self.seq += 1
        await self._publish("reasoning", self.seq, text=text)
        self._thoughts.append(text)

    async def end(self, finish_reason: str, usage: dict[str, Any] | None) -> None:
        await self._publish("end", self.seq, finish_reason=finish_reason, usage=usage)

    async def error(self, code: str, message: str) -> None:
        await self._publish("error", self.seq, code=code, error=message)

    async def cancelled(self) -> None:
        await self._publish("cancelled", self.seq)


class TokenStreams:
    """Opens the stream of an answer's attempt, and reads back the newest event of an answer
    (an earlier delivery may have published tokens, or all but the terminal one)."""

    def __init__(self, js: JetStreamContext, timeout: float) -> None:
        self.js = js
        self.timeout = timeout

    def open(
        self, thread_id: UUID, message_id: UUID, attempt: int, fence: Fence | None = None
    ) -> TokenStream:
        return TokenStream(self.js, thread_id, message_id, attempt, self.timeout, fence)

    async def last_token(self, thread_id: UUID, message_id: UUID) -> TokenFields | None:
        """The newest token event of a message, or None if it has none (or they expired)."""
        last = await self.newest(thread_id, message_id)
        return last[1] if last is not None else None

    async def newest(self, thread_id: UUID, message_id: UUID) -> tuple[int, TokenFields] | None:
        """(stream sequence, event) of the newest token event: what a fence follows."""
        return await last_token(self.js, thread_id, message_id)


def next_attempt(requested: int, last: TokenFields | None) -> int:
    """The attempt this delivery answers as: past any attempt an earlier one published."""
    return max(requested, int(last.get("attempt", 1)) + 1 if last else 1)
