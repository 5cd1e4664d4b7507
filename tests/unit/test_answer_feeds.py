"""One feed per answer: every reader gets each event once, in order, whenever it joins."""

from __future__ import annotations

import uuid
from typing import Any, cast

import orjson
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts.subjects import tokens_subject
from gateway.answer_feeds import feeds_of
from gateway.answer_stream import AnswerStreamReader


class Subscribing:
    """Stands in for JetStream: counts subscriptions, keeps the callback."""

    def __init__(self) -> None:
        self.subscriptions = 0
        self.cb: Any = None

    async def subscribe(self, subject: str, **kwargs: Any) -> object:
        self.subscriptions += 1
        self.cb = kwargs["cb"]
        return self


async def publish(js: Subscribing, seq: int, text: str) -> None:
    reply = f"$JS.ACK.TOKENS.c.1.{seq}.{seq}.1700000000000000000.0"
    data = orjson.dumps({"kind": "delta", "text": text, "seq": seq})
    await js.cb(Msg(cast(Any, None), subject="t", reply=reply, data=data))


def recording(got: list[tuple[int, str]]) -> Any:
    def render(seq: int, raw: bytes) -> bytes:
        got.append((seq, orjson.loads(raw)["text"]))
        return b"x"

    return render


async def test_readers_of_one_answer_share_one_subscription_and_miss_nothing() -> None:
    js = Subscribing()
    thread_id, message_id = uuid.uuid4(), uuid.uuid4()
    first: list[tuple[int, str]] = []
    late: list[tuple[int, str]] = []
    resumed: list[tuple[int, str]] = []
    a = AnswerStreamReader(cast(JetStreamContext, js), thread_id, message_id, recording(first))
    assert await a.open()
    await publish(js, 1, "a")
    await publish(js, 2, "b")
    b = AnswerStreamReader(cast(JetStreamContext, js), thread_id, message_id, recording(late))
    c = AnswerStreamReader(
        cast(JetStreamContext, js), thread_id, message_id, recording(resumed), after=1
    )
    assert await b.open() and await c.open()
    await publish(js, 3, "c")
    assert js.subscriptions == 1
    assert first == late == [(1, "a"), (2, "b"), (3, "c")]
    assert resumed == [(2, "b"), (3, "c")]
    feed = feeds_of(cast(JetStreamContext, js)).feed(tokens_subject(thread_id, message_id))
    for reader in (a, b, c):
        await reader.close()
    assert not feed.readers


async def test_a_held_reader_renders_nothing_until_released_then_everything_in_order() -> None:
    """The chat's reply and its first token race: a token that arrives first waits, so the
    renderer has learnt what the reply says (a bare provider's model, say) before it renders."""
    js = Subscribing()
    got: list[tuple[int, str]] = []
    model = ["echo"]  # what the renderer knows before the reply

    def render(seq: int, raw: bytes) -> bytes:
        got.append((seq, f"{model[0]}:{orjson.loads(raw)['text']}"))
        return b"x"

    reader = AnswerStreamReader(
        cast(JetStreamContext, js), uuid.uuid4(), uuid.uuid4(), render, held=True
    )
    assert await reader.open()
    await publish(js, 1, "a")
    await publish(js, 2, "b")
    assert got == [] and not reader.pending
    model[0] = "echo/echo"  # the reply
    reader.release()
    await publish(js, 3, "c")
    assert got == [(1, "echo/echo:a"), (2, "echo/echo:b"), (3, "echo/echo:c")]
    assert await reader.next(0.1) == b"xxx"
    await reader.close()
