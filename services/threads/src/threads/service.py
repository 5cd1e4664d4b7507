"""The running threads service, as `bootstrap.running_service` wired it."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.server import RouteServer
from threads.config import Settings
from threads.store.relay import OutboxRelay
from threads.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ThreadsService:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWork  # its commit hooks publish the context push, then relay the events
    nc: NATS
    relay: OutboxRelay
    server: RouteServer  # serves `entrypoints.routes.build_routes` on `nc`
