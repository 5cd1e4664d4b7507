"""The worker's keeping of pushed chat contexts, and of cancels heard before an answer starts
(which a pushed context, read before the cancel, cannot know about)."""

from __future__ import annotations

import uuid

from chat_worker.answering.cancels import InFlight
from chat_worker.answering.context import PushedContexts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_pushed_context_is_taken_once() -> None:
    kept = PushedContexts(ttl=30, max_bytes=1000)
    message_id = uuid.uuid4()
    kept.put(str(message_id), b"context")
    assert kept.take(uuid.uuid4()) is None
    assert kept.take(message_id) == b"context"
    assert kept.take(message_id) is None
    assert len(kept) == 0


def test_a_pushed_context_expires() -> None:
    clock = Clock()
    kept = PushedContexts(ttl=30, max_bytes=1000, clock=clock)
    old, new = uuid.uuid4(), uuid.uuid4()
    kept.put(str(old), b"old")
    clock.now += 20
    kept.put(str(new), b"new")
    clock.now += 15  # old is 35 s old, new 15 s
    assert kept.take(old) is None
    assert kept.take(new) == b"new"


def test_expired_and_oldest_contexts_make_room() -> None:
    clock = Clock()
    kept = PushedContexts(ttl=30, max_bytes=10, clock=clock)
    ids = [uuid.uuid4() for _ in range(4)]
    for message_id in ids[:3]:
        kept.put(str(message_id), b"1234")  # the third goes past 10 bytes: the first goes
    assert len(kept) == 2 and kept.take(ids[0]) is None
    clock.now += 31
    kept.put(str(ids[3]), b"1234")  # the other two expired on the way
    assert len(kept) == 1
    assert kept.take(ids[3]) == b"1234"
    kept.put(str(uuid.uuid4()), b"x" * 11)  # bigger than the whole budget: not kept
    assert len(kept) == 0


async def test_a_disconnect_forgets_every_push() -> None:
    kept = PushedContexts(ttl=30, max_bytes=1000)
    message_id = uuid.uuid4()
    kept.put(str(message_id), b"context")
    await kept.forget_all()
    assert kept.take(message_id) is None
    kept.put(str(message_id), b"again")
    assert kept.take(message_id) == b"again"


def test_no_ttl_keeps_nothing() -> None:
    kept = PushedContexts(ttl=0, max_bytes=1000)
    message_id = uuid.uuid4()
    kept.put(str(message_id), b"context")
    assert kept.take(message_id) is None


def test_a_cancel_heard_before_the_answer_starts_applies_when_it_does() -> None:
    inflight = InFlight(remember=30)
    message_id = uuid.uuid4()
    assert inflight.cancel(message_id) is False  # nobody generates it yet
    handle = inflight.register(message_id)
    assert handle.requested
    inflight.release(message_id)
    assert not inflight.register(message_id).requested  # applied once, not forever


def test_an_early_cancel_is_kept_for_a_while_only() -> None:
    clock = Clock()
    inflight = InFlight(remember=30, clock=clock)
    stale, fresh = uuid.uuid4(), uuid.uuid4()
    inflight.cancel(stale)
    clock.now += 20
    inflight.cancel(fresh)
    clock.now += 15
    assert not inflight.register(stale).requested
    assert inflight.register(fresh).requested
    assert not InFlight(remember=0).register(stale).requested


def test_a_cancel_reaches_an_answer_under_way() -> None:
    inflight = InFlight(remember=30)
    message_id = uuid.uuid4()
    handle = inflight.register(message_id)
    assert not handle.requested
    assert inflight.cancel(message_id) is True
    assert handle.requested
