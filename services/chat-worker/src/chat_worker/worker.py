"""The running chat worker, as `bootstrap` wires it: its connection, its parts, the route
table and the server that runs it. Every field is set when it is built."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from chat_worker.answering.cancels import InFlight
from chat_worker.answering.context import PushedContexts
from chat_worker.config import Settings
from chat_worker.list_models import ModelListing
from chat_worker.providers.registry import ProviderRegistry
from chat_worker.streams import provision_consumer, provision_tokens_stream
from messaging.connection import close
from messaging.routes import RouteTable
from messaging.server import RouteServer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ChatWorker:
    settings: Settings
    nc: NATS
    js: JetStreamContext
    registry: ProviderRegistry
    inflight: InFlight
    pushed: PushedContexts
    models: ModelListing
    routes: RouteTable
    server: RouteServer

    async def start(self) -> None:
        """TOKENS and the durable consumer are provisioned first, so the request consumer
        binds to a consumer that already has the configured settings; the SDKs warm up
        meanwhile."""
        self.models.warm_up_soon()
        await provision_tokens_stream(self.js, self.settings)
        await provision_consumer(self.js, self.settings)
        await self.server.start()

    async def stop(self) -> None:
        """Requests under way are handed back, then the connection drains (or just closes
        when NATS is away), then the SDK clients close."""
        log.info("chat worker stopping", in_flight=len(self.inflight))
        await self.server.stop()
        await close(self.nc)
        await self.registry.aclose()
