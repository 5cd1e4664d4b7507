"""The chat stream never ends before the client has every rendered event.

Token events are rendered as the answer's feed hands them over, so a fast answer can be rendered to
its end (the renderer is `done`) before the response has taken a single chunk from the queue.
The stream must still send every token and the terminal event (a bug once ended such streams
right after `message_start`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
from nats.js import JetStreamContext

from gateway.answer_stream import AnswerStreamReader
from gateway.api.chat import _answer_events
from gateway.api.v1 import _stream
from gateway.bus import Bus
from gateway.sse import TokenRenderer
from gateway.v1_wire import Answer

TOKENS = [
    {"kind": "start", "attempt": 1},
    {"kind": "delta", "text": "Echo: "},
    {"kind": "delta", "text": "hello"},
    {"kind": "end", "finish_reason": "stop", "usage": {"input_tokens": 1, "output_tokens": 2}},
]


class Joined:
    """Stands in for the answer's feed, which only `close` touches here."""

    def leave(self, reader: object) -> None:
        return None


async def delivered_before_first_read(reader: AnswerStreamReader) -> None:
    reader._feed = cast(Any, Joined())
    for seq, token in enumerate(TOKENS, start=1):
        reader.deliver(seq, orjson.dumps(token))


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_the_sse_stream_sends_what_was_rendered_before_its_first_step() -> None:
    thread_id, message_id = uuid.uuid4(), uuid.uuid4()
    renderer = TokenRenderer(str(message_id), resuming=False)
    reader = AnswerStreamReader(
        cast(JetStreamContext, None), thread_id, message_id, renderer.render
    )
    await delivered_before_first_read(reader)
    assert renderer.done

    body = await collect(
        _answer_events(
            cast(Any, None),
            cast(Bus, None),
            uuid.uuid4(),
            thread_id,
            message_id,
            renderer,
            reader,
            b"event: message_start\ndata: {}\n\n",
        )
    )
    names = [line[7:] for line in body.decode().splitlines() if line.startswith("event: ")]
    assert names == ["message_start", "token", "token", "message_end"]
    assert b'"hello"' in body


async def test_the_openai_stream_sends_what_was_rendered_before_its_first_step() -> None:
    thread_id, message_id = uuid.uuid4(), uuid.uuid4()
    answer = Answer("chatcmpl-x", "echo/echo", include_usage=False)
    reader = AnswerStreamReader(cast(JetStreamContext, None), thread_id, message_id, answer.render)
    await delivered_before_first_read(reader)
    assert answer.done

    body = await collect(
        _stream(
            cast(Any, None), cast(Bus, None), uuid.uuid4(), thread_id, message_id, answer, reader
        )
    )
    assert b'"hello"' in body
    assert b'"finish_reason":"stop"' in body
    assert body.endswith(b"data: [DONE]\n\n")
