"""Composition root of the threads service: the only place that picks concrete parts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from threads.config import Settings
from threads.projections import default_projector
from threads.service import ThreadsService
from threads.store.unit_of_work import UnitOfWork


def build_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        # A fixed set of connections: under a burst, work queues for one instead of opening
        # and closing overflow connections (each new one costs Postgres a process and the
        # service milliseconds of CPU, which made bursts slower, not faster).
        pool_size=settings.db_pool_size,
        max_overflow=0,
        # No ping before each use (a round trip on every command and query): a connection
        # found dead renews the pool and the command or query reruns once (unit_of_work).
        pool_pre_ping=False,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def build_service(settings: Settings, engine: AsyncEngine | None = None) -> ThreadsService:
    engine = engine or build_engine(settings)
    projector = default_projector()
    uow = UnitOfWork(engine, projector, retries=settings.command_retries)
    return ThreadsService(settings=settings, engine=engine, projector=projector, uow=uow)
