"""The services' FastStream brokers, built by their own builders from their real routers,
without connecting to anything.

Settings are the defaults only (never the environment), so the document is the same on every
machine. Nothing here touches the network: a broker connects only when started, a database
engine only when first used, and the worker's provider adapters are built on first use.
"""

from __future__ import annotations

from faststream.nats import NatsBroker

from chat_worker.config import Settings as WorkerSettings
from chat_worker.entrypoints import build_broker
from chat_worker.handlers import context_push, exhausted, generate_reply
from chat_worker.providers.options import ClientOptions
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.worker import Worker
from threads.bootstrap import build_service
from threads.config import Settings as ThreadsSettings
from threads.entrypoints.nats_routes import build_router
from threads.entrypoints.serve import make_broker


def threads_broker() -> NatsBroker:
    settings = ThreadsSettings.model_construct()
    broker = make_broker(settings, "threads")
    broker.include_router(build_router(build_service(settings)))
    return broker


def worker_broker() -> NatsBroker:
    settings = WorkerSettings.model_construct()
    options = ClientOptions(
        connect_timeout=settings.provider_connect_timeout,
        read_timeout=settings.provider_read_timeout,
    )
    worker = Worker(settings=settings, registry=ProviderRegistry(options))
    broker = build_broker(worker)
    generate_reply.document(broker, worker)  # read with nats-py, described like the rest
    context_push.document(broker)
    exhausted.document(broker)
    return broker
