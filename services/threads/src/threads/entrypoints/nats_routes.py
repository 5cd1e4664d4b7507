"""Subscribes every command and query subject in the `threads` queue group.

Commands go through the unit of work; queries read the read models. Every reply is a
`contracts.replies.Reply` as JSON. A malformed message gets an `invalid` reply, never silence.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from faststream.nats import NatsRouter
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import commands as c
from contracts import queries as q
from contracts import subjects as s
from contracts.base import Command, Query
from contracts.errors import ErrorCode
from contracts.replies import Reply
from threads.domain.errors import DomainError
from threads.handlers import create_thread, register_user
from threads.queries import threads as thread_queries
from threads.queries import users as user_queries
from threads.service import ThreadsService
from threads.store.unit_of_work import Handler, _is_unavailable

log = structlog.get_logger(__name__)
C = TypeVar("C", bound=Command)
Q = TypeVar("Q", bound=Query)
QueryFn = Callable[[AsyncConnection, Any], Awaitable[BaseModel | dict[str, Any] | None]]


def _bind(message: Command | Query) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        correlation_id=str(message.meta.correlation_id),
        user_id=str(message.meta.user_id) if message.meta.user_id else None,
    )


def build_router(service: ThreadsService) -> NatsRouter:
    router = NatsRouter()

    def command(subject: str, model: type[C], handler: Handler[C]) -> None:
        async def on_command(body: dict[str, Any]) -> dict[str, Any]:
            try:
                cmd = model.model_validate(body)
            except ValidationError as exc:
                return Reply.failure(ErrorCode.INVALID, str(exc)[:500]).model_dump(mode="json")
            _bind(cmd)
            reply = await service.uow.run(cmd, handler)
            log.info(
                "command",
                type=model.__name__,
                ok=reply.ok,
                error=reply.error.code if reply.error else None,
            )
            return reply.model_dump(mode="json")

        router.subscriber(subject, queue=s.THREADS_QUEUE, title=model.__name__)(on_command)

    def query(subject: str, model: type[Q], fn: QueryFn, what: str) -> None:
        async def on_query(body: dict[str, Any]) -> dict[str, Any]:
            try:
                qry = model.model_validate(body)
            except ValidationError as exc:
                return Reply.failure(ErrorCode.INVALID, str(exc)[:500]).model_dump(mode="json")
            _bind(qry)
            try:
                async with service.engine.connect() as conn:
                    result = await fn(conn, qry)
            except DomainError as err:
                return Reply.failure(err.code, err.detail).model_dump(mode="json")
            except Exception as exc:
                if _is_unavailable(exc):
                    return Reply.failure(ErrorCode.UNAVAILABLE, "Database unavailable").model_dump(
                        mode="json"
                    )
                raise
            if result is None:
                return Reply.failure(ErrorCode.NOT_FOUND, f"{what} not found").model_dump(
                    mode="json"
                )
            data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            return Reply.success(data).model_dump(mode="json")

        router.subscriber(subject, queue=s.THREADS_QUEUE, title=model.__name__)(on_query)

    settings = service.settings

    # -- commands --
    command(s.USER_REGISTER, c.RegisterUser, register_user.handle)
    command(
        s.THREAD_CREATE,
        c.CreateThread,
        functools.partial(create_thread.handle, default_provider=settings.default_provider),
    )

    # -- queries --
    def uid(m: Query) -> Any:
        return m.meta.user_id

    query(s.USER_GET, q.GetUser, lambda conn, m: user_queries.get_user(conn, m.user_id), "User")
    query(
        s.USER_CREDENTIALS,
        q.GetCredentials,
        lambda conn, m: user_queries.get_credentials(conn, m.email),
        "User",
    )
    query(
        s.THREADS_LIST,
        q.ListThreads,
        lambda conn, m: thread_queries.list_threads(conn, uid(m), m),
        "Threads",
    )
    query(
        s.THREAD_GET,
        q.GetThread,
        lambda conn, m: thread_queries.get_thread_detail(conn, uid(m), m.thread_id),
        "Thread",
    )

    async def health(conn: AsyncConnection, _: Query) -> dict[str, Any]:
        await conn.scalar(text("select 1"))
        return {"status": "ok"}

    query(s.HEALTH_THREADS, Query, health, "Health")
    return router
