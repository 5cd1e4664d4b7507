"""The threads service's parts wired together: database engine, unit of work, relay.

`ThreadsService` is built by `bootstrap.build_service` and used by the NATS routes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from threads.config import Settings
from threads.projections import Projector
from threads.store.relay import OutboxRelay
from threads.store.unit_of_work import UnitOfWork


@dataclass
class ThreadsService:
    settings: Settings
    engine: AsyncEngine
    projector: Projector
    uow: UnitOfWork
    relay: OutboxRelay | None = None
