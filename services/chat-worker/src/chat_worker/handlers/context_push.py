"""Hears the chat contexts the threads service pushes with PostChat (core NATS, every worker
hears every push) and keeps each until its request arrives (see `pushed_contexts`).

Plain nats-py, like the request consumer: the push is on the way to the first token, and a
bare callback stores it before the request (published after it, on the same connection)
reaches `Answerer`. `document` describes the subscription to the AsyncAPI document.
"""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from chat_worker.worker import Worker
from contracts.asyncapi import payload_of
from contracts.subjects import CHAT_CONTEXT_PUSH_FILTER
from contracts.views import ChatContextView


async def subscribe(worker: Worker) -> Subscription:
    pushed = worker.pushed

    async def on_push(msg: Msg) -> None:
        pushed.put(msg.subject.rpartition(".")[2], msg.data)

    return await worker.nc.subscribe(CHAT_CONTEXT_PUSH_FILTER, cb=on_push)


def document(broker: NatsBroker) -> None:
    """Declares the subscription on `broker` for the AsyncAPI document only (never started)."""

    @broker.subscriber(
        CHAT_CONTEXT_PUSH_FILTER,
        no_reply=True,
        title="ChatContextPushed",
        description="Core NATS, from the threads service when PostChat commits (before its "
        "events): every worker hears it; the one that gets the request answers its first "
        "delivery from it instead of asking qry.chat.context.",
    )
    @payload_of(ChatContextView)
    async def on_chat_context_pushed(body: Any) -> None:
        raise NotImplementedError  # documentation only: `subscribe` reads these
