"""The services' FastStream brokers, without connecting to anything: each declares its
service's route table (`tables.broker_for`).

Settings are the defaults only (never the environment), so the document is the same on every
machine. Nothing here touches the network: a broker connects only when started, a database
engine only when first used, and the worker's provider adapters are built on first use.
"""

from __future__ import annotations

from faststream.nats import NatsBroker

from asyncapi_gen.tables import broker_for
from chat_worker.bootstrap import document_routes as worker_routes
from chat_worker.config import Settings as WorkerSettings
from threads.bootstrap import document_routes
from threads.config import Settings as ThreadsSettings


def threads_broker() -> NatsBroker:
    return broker_for(document_routes(ThreadsSettings.model_construct()))


def worker_broker() -> NatsBroker:
    return broker_for(worker_routes(WorkerSettings.model_construct()))
