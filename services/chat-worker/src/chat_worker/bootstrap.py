"""Composition root of the chat worker: the only place that picks concrete parts.

`bootstrap` connects and returns the wired worker; `wire` builds it on a given connection
without any I/O (the AsyncAPI tool wires a connection that never connects).
"""

from __future__ import annotations

from nats.aio.client import Client as NATS

from chat_worker.answering.answerer import Answerer
from chat_worker.answering.cancels import InFlight
from chat_worker.answering.consumer import RequestConsumer
from chat_worker.answering.context import ContextSource, PushedContexts
from chat_worker.answering.exhausted import ExhaustedRequests
from chat_worker.answering.summaries import Summaries
from chat_worker.answering.titles import Titles
from chat_worker.answering.token_stream import TokenStreams
from chat_worker.config import Settings
from chat_worker.credentials import CredentialResolver
from chat_worker.list_models import ModelListing
from chat_worker.providers.options import ClientOptions
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.routes import SERVICE, build_routes
from chat_worker.threads_client import ThreadsClient
from chat_worker.worker import ChatWorker
from messaging.connection import connect
from messaging.routes import RouteTable
from messaging.server import RouteServer


async def bootstrap(settings: Settings) -> ChatWorker:
    """Connected, wired, the SDKs imported: `start` it to serve."""
    pushed = pushed_contexts(settings)
    # Pushes and cancels sent while the connection is down are lost to this worker.
    nc = await connect(
        settings.nats_url,
        name=SERVICE,
        auth=settings.nats_auth,
        on_disconnect=pushed.forget_all,
    )
    registry = provider_registry(settings)
    registry.warm()
    return wire(settings, nc, registry, pushed)


def document_routes(settings: Settings) -> RouteTable:
    """The route table as `wire` builds it, on a connection that never connects (no I/O:
    the provider adapters are built on first use)."""
    return wire(settings, NATS(), provider_registry(settings), pushed_contexts(settings)).routes


def pushed_contexts(settings: Settings) -> PushedContexts:
    return PushedContexts(settings.context_push_ttl, settings.context_push_cache_bytes)


def provider_registry(settings: Settings) -> ProviderRegistry:
    options = ClientOptions(
        connect_timeout=settings.provider_connect_timeout,
        read_timeout=settings.provider_read_timeout,
    )
    return ProviderRegistry(options)


def wire(
    settings: Settings, nc: NATS, registry: ProviderRegistry, pushed: PushedContexts
) -> ChatWorker:
    js = nc.jetstream(timeout=settings.request_timeout)
    threads = ThreadsClient(nc, settings.request_timeout)
    credentials = CredentialResolver(settings, threads)
    # A cancel heard early is kept while the context it would override may still be used.
    inflight = InFlight(remember=settings.context_push_ttl)
    streams = TokenStreams(js, settings.request_timeout)
    answerer = Answerer(
        settings,
        ContextSource(pushed, threads, credentials, streams),
        inflight,
        streams,
        registry,
        threads,
        Titles(settings, registry, credentials, threads),
        Summaries(
            registry,
            credentials,
            threads,
            max_tokens=settings.summary_max_tokens,
            timeout=settings.summary_timeout,
        ),
    )
    models = ModelListing(settings, registry, credentials)
    routes = build_routes(
        settings,
        requests=RequestConsumer(answerer, js, settings.concurrency),
        pushed=pushed,
        inflight=inflight,
        exhausted_requests=ExhaustedRequests(streams, threads),
        models=models,
    )
    return ChatWorker(
        settings, nc, js, registry, inflight, pushed, models, routes, RouteServer(nc, routes)
    )
