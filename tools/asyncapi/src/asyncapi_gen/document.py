"""The document: both services' subscriptions, plus what they publish with nats-py directly.

FastStream documents what a broker subscribes to. The outbox relay (EVENTS) and the chat
worker's token streams (TOKENS) publish with plain nats-py for speed, so FastStream never sees
those publishes: they are declared here as publishers, for the document only.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any, Union

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, create_model

from asyncapi_gen.brokers import threads_broker, worker_broker
from contracts.events import EVENT_TYPES
from contracts.relayed import RelayedEvent
from contracts.subjects import EVENTS_STREAM, EVENTS_SUBJECTS, TOKENS_STREAM, TOKENS_SUBJECTS
from contracts.tokens import TokenEvent

DESCRIPTION = """\
Every NATS subject of Switchboard and its message, generated from the threads service's and
the chat worker's FastStream routers (`make asyncapi`). Commands (`cmd.*`) and queries (`qry.*`)
are request/reply and are answered with a `Reply`; they carry the request's correlation id in
their envelope (`meta.correlation_id`) and in a `correlation_id` header. Relayed events carry it
in `metadata` and in a `correlation_id` header beside `Nats-Msg-Id` (the event id). Token
events carry no headers."""


def _any_relayed_event() -> type[BaseModel]:
    """`RelayedEvent` whose `data` is any of the domain events, under a short name."""
    any_event: Any = Union[tuple(EVENT_TYPES.values())]  # noqa: UP007
    return create_model(
        "RelayedDomainEvent", __base__=RelayedEvent, __doc__=RelayedEvent.__doc__, data=any_event
    )


def _declare_direct_publishes(threads: NatsBroker, worker: NatsBroker) -> None:
    threads.publisher(
        EVENTS_SUBJECTS,
        title=EVENTS_STREAM,
        description="The outbox relay: every committed event, on the JetStream stream EVENTS "
        "(subject `events.<aggregate>.<id>.<EventType>`).",
        schema=_any_relayed_event(),
    )
    worker.publisher(
        TOKENS_SUBJECTS,
        title=TOKENS_STREAM,
        description="An answer as it is generated, on the JetStream stream TOKENS (subject "
        "`tokens.<thread id>.<message id>`); no headers.",
        schema=TokenEvent,
    )


def build() -> AsyncAPI:
    threads, worker = threads_broker(), worker_broker()
    _declare_direct_publishes(threads, worker)
    return AsyncAPI(
        threads,
        worker,
        title="Switchboard NATS contracts",
        version=version("switchboard-contracts"),
        description=DESCRIPTION,
    )


def render() -> bytes:
    """The document as committed: sorted keys, so it changes only when the contracts do."""
    document = build().to_specification().to_jsonable()
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
