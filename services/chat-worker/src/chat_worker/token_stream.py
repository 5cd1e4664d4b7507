"""Publishes one attempt of one answer to the TOKENS stream, on `tokens.<thread>.<message>`.

`start`, then deltas numbered 1, 2, 3 ..., then one terminal event (`end`, `error`,
`cancelled`). Each publish waits for JetStream's ack, so `content` (the deltas published) is
exactly what a reader of the stream can get: the text stored for a cancelled or failed answer
is this, never more. No headers (no `Nats-Msg-Id`): a publish is never retried in place (a
failed one fails the delivery, and the redelivery is a new, announced attempt), and headers
would cost every reader a parse per chunk.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from contracts.subjects import TOKENS_STREAM, tokens_subject


class TokenStream:
    def __init__(
        self, js: JetStreamContext, thread_id: UUID, message_id: UUID, attempt: int, timeout: float
    ) -> None:
        self.js = js
        self.subject = tokens_subject(thread_id, message_id)
        self.message_id = str(message_id)
        self.attempt = attempt
        self.timeout = timeout
        self.seq = 0
        self.started = False
        self._parts: list[str] = []

    @property
    def content(self) -> str:
        return "".join(self._parts)

    async def _publish(self, kind: str, seq: int, **fields: Any) -> None:
        payload = {
            "kind": kind,
            "message_id": self.message_id,
            "attempt": self.attempt,
            "seq": seq,
            **fields,
        }
        await self.js.publish(
            self.subject, orjson.dumps(payload), stream=TOKENS_STREAM, timeout=self.timeout
        )

    async def start(self) -> None:
        if not self.started:
            await self._publish("start", 0)
            self.started = True

    async def delta(self, text: str) -> None:
        await self.start()
        self.seq += 1
        await self._publish("delta", self.seq, text=text)
        self._parts.append(text)

    async def end(self, finish_reason: str, usage: dict[str, Any] | None) -> None:
        await self._publish("end", self.seq, finish_reason=finish_reason, usage=usage)

    async def error(self, code: str, message: str) -> None:
        await self._publish("error", self.seq, code=code, error=message)

    async def cancelled(self) -> None:
        await self._publish("cancelled", self.seq)


async def last_event(
    js: JetStreamContext, thread_id: UUID, message_id: UUID
) -> dict[str, Any] | None:
    """The newest token event of a message, or None if it has none (or they expired)."""
    try:
        msg = await js.get_last_msg(TOKENS_STREAM, tokens_subject(thread_id, message_id))
    except NotFoundError:
        return None
    data: dict[str, Any] = orjson.loads(msg.data or b"{}")
    return data
