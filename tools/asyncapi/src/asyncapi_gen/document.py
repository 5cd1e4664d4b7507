"""The document: both services' route tables, subscriptions and publications alike (EVENTS,
the context push and TOKENS are `Publish` entries of the tables that publish them)."""

from __future__ import annotations

import json
from importlib.metadata import version

from faststream.specification import AsyncAPI

from asyncapi_gen.brokers import threads_broker, worker_broker

DESCRIPTION = """\
Every NATS subject of Switchboard and its message, generated from the threads service's and
the chat worker's routes (`make asyncapi`). Commands (`cmd.*`) and queries (`qry.*`)
are request/reply and are answered with a `Reply`; they carry the request's correlation id in
their envelope (`meta.correlation_id`) and in a `correlation_id` header. Relayed events carry it
in `metadata` and in a `correlation_id` header beside `Nats-Msg-Id` (the event id). Token
events carry no headers."""


def build() -> AsyncAPI:
    threads, worker = threads_broker(), worker_broker()
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
