"""How a request body becomes its reply: admitted, validated, run, every failure answered.

A malformed body gets an `invalid` reply naming the wrong fields, never their values (a
command may carry an API key). A bug answers `unavailable` at once (the gateway would
otherwise wait its whole timeout), its details kept in our own log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.base import Command, Query, Request
from contracts.errors import ErrorCode
from contracts.replies import JsonReady, PartlyRaw, Reply
from messaging.routes import BodyHandler
from threads.domain.errors import DomainError
from threads.entrypoints.admission import Admission
from threads.store.unit_of_work import Handler, UnitOfWork, _is_unavailable, is_disconnect

log = structlog.get_logger(__name__)
C = TypeVar("C", bound=Command[Any])
Q = TypeVar("Q", bound=Query[Any])
M = TypeVar("M", bound=Request[Any])
QueryFn = Callable[[AsyncConnection, Any], Awaitable[BaseModel | PartlyRaw | dict[str, Any] | None]]
Answerer = Callable[[M], Awaitable[dict[str, Any]]]


def admitted(
    model: type[M], answer: Answerer[M], admission: Admission, *, urgent: bool
) -> BodyHandler:
    """The body handler of one subject: a database slot, then the validated request's answer."""

    async def on_body(body: dict[str, Any]) -> dict[str, Any]:
        async with admission.slot(urgent=urgent):
            try:
                request = model.model_validate(body)
            except ValidationError as exc:
                return _malformed(exc)
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(
                correlation_id=str(request.meta.correlation_id),
                user_id=str(request.meta.user_id) if request.meta.user_id else None,
            )
            return await answer(request)

    return on_body


def command(model: type[C], handler: Handler[C], uow: UnitOfWork) -> Answerer[C]:
    """Run the command in the unit of work."""

    async def answer(cmd: C) -> dict[str, Any]:
        try:
            reply = await uow.run(cmd, handler)
        except Exception:
            # A bug: its transaction rolled back, so nothing was applied; say so at once.
            log.exception("command failed", type=model.__name__)
            reply = Reply.failure(ErrorCode.UNAVAILABLE, "Command failed; nothing was applied")
        log.info(
            "command",
            type=model.__name__,
            ok=reply.ok,
            error=reply.error.code if reply.error else None,
        )
        return reply.model_dump(mode="json")

    return answer


def query(model: type[Q], fn: QueryFn, what: str, reads: AsyncEngine) -> Answerer[Q]:
    """Answer from the read models; `what` names the thing in a `not_found` reply."""
    missing = _failure(ErrorCode.NOT_FOUND, f"{what} not found")

    async def answer(qry: Q) -> dict[str, Any]:
        try:
            result = await run_query(reads, fn, qry)
        except DomainError as err:
            return _failure(err.code, err.detail)
        except Exception as exc:
            if _is_unavailable(exc):
                return _failure(ErrorCode.UNAVAILABLE, "Database unavailable")
            log.exception("query failed", query=model.__name__)
            return _failure(ErrorCode.UNAVAILABLE, "Query failed")
        if result is None:
            return missing
        if isinstance(result, JsonReady):
            return Reply.success_json(result)
        if isinstance(result, BaseModel | PartlyRaw):
            return Reply.success_view(result)
        return Reply.success(result).model_dump(mode="json")

    return answer


async def run_query(reads: AsyncEngine, fn: QueryFn, qry: Query) -> Any:
    """Run a query; once more on a new connection if the pooled one turned out dead.

    `reads` runs in autocommit: no BEGIN and ROLLBACK, two round trips saved on every read. A
    query of several statements may then see a write that committed between them; no view
    promises more than that (a thread's `message_count` is kept by the same transaction that
    adds the message, and each statement sees whole transactions)."""
    try:
        async with reads.connect() as conn:
            return await fn(conn, qry)
    except DBAPIError as exc:
        if not is_disconnect(exc):
            raise
    async with reads.connect() as conn:
        return await fn(conn, qry)


def _failure(code: ErrorCode, detail: str) -> dict[str, Any]:
    return Reply.failure(code, detail).model_dump(mode="json")


def _malformed(exc: ValidationError) -> dict[str, Any]:
    """Which fields are wrong, never their values."""
    where = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    )
    return _failure(ErrorCode.INVALID, where[:500])
