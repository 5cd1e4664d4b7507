"""The document: both services' subscriptions and publications.

The threads service's route table declares what it publishes (EVENTS, the context push). The
chat worker's token streams (TOKENS) are published with plain nats-py, which FastStream never
sees: they are declared here as a publisher, for the document only.
"""

from __future__ import annotations

import json
from importlib.metadata import version

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

from asyncapi_gen.brokers import threads_broker, worker_broker
from contracts.subjects import TOKENS_STREAM, TOKENS_SUBJECTS
from contracts.tokens import TokenEvent

DESCRIPTION = """\
Every NATS subject of Switchboard and its message, generated from the threads service's and
the chat worker's routes (`make asyncapi`). Commands (`cmd.*`) and queries (`qry.*`)
are request/reply and are answered with a `Reply`; they carry the request's correlation id in
their envelope (`meta.correlation_id`) and in a `correlation_id` header. Relayed events carry it
in `metadata` and in a `correlation_id` header beside `Nats-Msg-Id` (the event id). Token
events carry no headers."""


def _declare_direct_publishes(worker: NatsBroker) -> None:
    worker.publisher(
        TOKENS_SUBJECTS,
        title=TOKENS_STREAM,
        description="An answer as it is generated, on the JetStream stream TOKENS (subject "
        "`tokens.<thread id>.<message id>`); no headers.",
        schema=TokenEvent,
    )


def build() -> AsyncAPI:
    threads, worker = threads_broker(), worker_broker()
    _declare_direct_publishes(worker)
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
