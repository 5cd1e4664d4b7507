"""The worker's parts, shared by its NATS handlers: settings, adapters, the threads client,
JetStream, the answers in flight, and the chat contexts pushed for answers to come. Built by
`bootstrap.build_worker`; the NATS connection is attached once the broker has connected."""

from __future__ import annotations

from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from chat_worker.config import Settings
from chat_worker.credentials import CredentialResolver
from chat_worker.inflight import InFlight
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.pushed_contexts import PushedContexts
from chat_worker.threads_client import ThreadsClient


@dataclass
class Worker:
    settings: Settings
    registry: ProviderRegistry
    inflight: InFlight = field(init=False)
    pushed: PushedContexts = field(init=False)
    _nc: NATS | None = None
    _js: JetStreamContext | None = None
    _threads: ThreadsClient | None = None
    _credentials: CredentialResolver | None = None

    def __post_init__(self) -> None:
        ttl = self.settings.context_push_ttl
        self.pushed = PushedContexts(ttl, self.settings.context_push_cache_bytes)
        # A cancel heard early is kept while the context it would override may still be used.
        self.inflight = InFlight(remember=ttl)

    @property
    def nc(self) -> NATS:
        assert self._nc is not None, "worker not attached to NATS yet"
        return self._nc

    def attach(self, nc: NATS) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=self.settings.request_timeout)
        self._threads = ThreadsClient(nc, self.settings.request_timeout)
        self._credentials = CredentialResolver(self.settings, self._threads)

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None, "worker not attached to NATS yet"
        return self._js

    @property
    def threads(self) -> ThreadsClient:
        assert self._threads is not None, "worker not attached to NATS yet"
        return self._threads

    @property
    def credentials(self) -> CredentialResolver:
        assert self._credentials is not None, "worker not attached to NATS yet"
        return self._credentials
