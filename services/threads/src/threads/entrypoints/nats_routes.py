"""Every command and query subject of the threads service, in the `threads` queue group.

Commands go through the unit of work; queries read the read models. Every reply is a
`contracts.replies.Reply` as JSON. A malformed message gets an `invalid` reply, never silence.

`build_routes` gives each subject's handler twice: as a FastStream router (which describes
every subject to the AsyncAPI document, and can serve them), and as a plain map from subject to
handler, which `request_server` serves with nats-py in the running service.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from faststream.nats import NatsRouter
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import commands as c
from contracts import queries as q
from contracts import subjects as s
from contracts.asyncapi import payload_of
from contracts.base import Command, Query
from contracts.errors import ErrorCode
from contracts.replies import Reply
from threads.domain.errors import DomainError
from threads.entrypoints.admission import Admission
from threads.handlers import (
    add_document,
    cancel_generation,
    complete_assistant_message,
    configure_provider,
    create_project,
    create_thread,
    delete_document,
    delete_message,
    delete_project,
    delete_thread,
    fail_assistant_message,
    post_chat,
    post_message,
    record_cancelled_message,
    register_user,
    remove_provider,
    set_generated_title,
    set_task_routes,
    update_project,
    update_thread,
)
from threads.queries import chat as chat_queries
from threads.queries import documents as document_queries
from threads.queries import messages as message_queries
from threads.queries import projects as project_queries
from threads.queries import providers as provider_queries
from threads.queries import threads as thread_queries
from threads.queries import users as user_queries
from threads.service import ThreadsService
from threads.store.unit_of_work import Handler, _is_unavailable, is_disconnect

log = structlog.get_logger(__name__)
C = TypeVar("C", bound=Command)
Q = TypeVar("Q", bound=Query)
REPLIES = "Request/reply: answered with a `Reply` (contracts.replies), `data` or `error`."
QueryFn = Callable[[AsyncConnection, Any], Awaitable[BaseModel | dict[str, Any] | None]]


def _malformed(exc: ValidationError) -> dict[str, Any]:
    """Which fields are wrong, never their values (a command may carry an API key)."""
    where = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    )
    return Reply.failure(ErrorCode.INVALID, where[:500]).model_dump(mode="json")


def _bind(message: Command | Query) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        correlation_id=str(message.meta.correlation_id),
        user_id=str(message.meta.user_id) if message.meta.user_id else None,
    )


async def _run_query(reads: AsyncEngine, fn: QueryFn, qry: Query) -> Any:
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


ADMITTED_PER_CONNECTION = 8  # messages a subscription takes in per database connection


BodyHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class Routes:
    router: NatsRouter
    handlers: dict[str, BodyHandler] = field(default_factory=dict)
    max_in_flight: int = 1  # messages one subject takes in at once


def build_router(service: ThreadsService) -> NatsRouter:
    return build_routes(service).router


def build_routes(service: ThreadsService) -> Routes:
    router = NatsRouter()
    # Subscriptions take messages freely; handlers then queue in one line (see `admission`).
    # Twice as many slots as connections: one handler's Python work overlaps another's
    # round trip, and the pool hands out connections in order to the rest.
    workers = ADMITTED_PER_CONNECTION * service.settings.db_pool_size
    routes = Routes(router, max_in_flight=workers)
    admission = Admission(2 * service.settings.db_pool_size)
    reads = service.engine.execution_options(isolation_level="AUTOCOMMIT")

    def command(subject: str, model: type[C], handler: Handler[C], *, urgent: bool = False) -> None:
        @payload_of(model)
        async def on_command(body: dict[str, Any]) -> dict[str, Any]:
            async with admission.slot(urgent=urgent):
                return await handle_command(body)

        async def handle_command(body: dict[str, Any]) -> dict[str, Any]:
            try:
                cmd = model.model_validate(body)
            except ValidationError as exc:
                return _malformed(exc)
            _bind(cmd)
            try:
                reply = await service.uow.run(cmd, handler)
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

        router.subscriber(
            subject,
            queue=s.THREADS_QUEUE,
            title=model.__name__,
            description=REPLIES,
            max_workers=workers,
        )(on_command)
        routes.handlers[subject] = on_command

    def query(
        subject: str,
        model: type[Q],
        fn: QueryFn,
        what: str,
        title: str | None = None,
        *,
        urgent: bool = False,
    ) -> None:
        @payload_of(model)
        async def on_query(body: dict[str, Any]) -> dict[str, Any]:
            async with admission.slot(urgent=urgent):
                return await handle_query(body)

        async def handle_query(body: dict[str, Any]) -> dict[str, Any]:
            try:
                qry = model.model_validate(body)
            except ValidationError as exc:
                return _malformed(exc)
            _bind(qry)
            try:
                result = await _run_query(reads, fn, qry)
            except DomainError as err:
                return Reply.failure(err.code, err.detail).model_dump(mode="json")
            except Exception as exc:
                if _is_unavailable(exc):
                    return Reply.failure(ErrorCode.UNAVAILABLE, "Database unavailable").model_dump(
                        mode="json"
                    )
                # A bug, not the caller's fault: answer at once (the gateway would otherwise
                # wait its whole timeout) and keep the details in our own log only.
                log.exception("query failed", query=model.__name__)
                return Reply.failure(ErrorCode.UNAVAILABLE, "Query failed").model_dump(mode="json")
            if result is None:
                return Reply.failure(ErrorCode.NOT_FOUND, f"{what} not found").model_dump(
                    mode="json"
                )
            data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            return Reply.success(data).model_dump(mode="json")

        router.subscriber(
            subject,
            queue=s.THREADS_QUEUE,
            title=title or model.__name__,
            description=REPLIES,
            max_workers=workers,
        )(on_query)
        routes.handlers[subject] = on_query

    settings = service.settings

    # -- commands --
    command(s.USER_REGISTER, c.RegisterUser, register_user.handle)
    command(
        s.THREAD_CREATE,
        c.CreateThread,
        functools.partial(create_thread.handle, default_provider=settings.default_provider),
    )

    keyring = settings.secret_keyring()
    command(
        s.PROVIDER_CONFIGURE,
        c.ConfigureProvider,
        functools.partial(configure_provider.handle, keyring=keyring),
    )
    command(s.PROVIDER_REMOVE, c.RemoveProvider, remove_provider.handle)
    command(s.TASK_ROUTES_SET, c.SetTaskRoutes, set_task_routes.handle)

    # -- projects, threads, messages, documents --
    command(s.PROJECT_CREATE, c.CreateProject, create_project.handle)
    command(s.PROJECT_UPDATE, c.UpdateProject, update_project.handle)
    command(s.PROJECT_DELETE, c.DeleteProject, delete_project.handle)
    command(s.THREAD_UPDATE, c.UpdateThread, update_thread.handle)
    command(s.THREAD_DELETE, c.DeleteThread, delete_thread.handle)
    command(s.MESSAGE_POST, c.PostMessage, post_message.handle)
    command(s.MESSAGE_DELETE, c.DeleteMessage, delete_message.handle)
    command(
        s.DOCUMENT_ADD,
        c.AddDocument,
        functools.partial(add_document.handle, max_bytes=settings.max_document_bytes),
    )
    command(s.DOCUMENT_DELETE, c.DeleteDocument, delete_document.handle)

    # -- chat (PostChat and CancelGeneration from the gateway, the rest from chat workers) --
    command(
        s.CHAT_POST,
        c.PostChat,
        functools.partial(post_chat.handle, push_max_bytes=settings.context_push_max_bytes),
    )
    # The workers' outcomes and lookups finish chats under way: they go ahead of new requests.
    command(
        s.CHAT_COMPLETE,
        c.CompleteAssistantMessage,
        complete_assistant_message.handle,
        urgent=True,
    )
    command(s.CHAT_FAIL, c.FailAssistantMessage, fail_assistant_message.handle, urgent=True)
    command(s.CHAT_CANCEL, c.CancelGeneration, cancel_generation.handle)
    command(
        s.CHAT_RECORD_CANCELLED,
        c.RecordCancelledMessage,
        record_cancelled_message.handle,
        urgent=True,
    )
    command(s.THREAD_SET_TITLE, c.SetGeneratedTitle, set_generated_title.handle)

    # -- queries --
    def uid(m: Query) -> Any:
        return m.meta.user_id

    query(
        s.CHAT_CONTEXT,
        q.GetChatContext,
        lambda conn, m: chat_queries.chat_context(
            conn,
            uid(m),
            m.thread_id,
            m.message_id,
            credentials_for=m.credentials_for,
            ring=keyring,
        ),
        "Thread",
        urgent=True,
    )
    query(
        s.CHAT_MESSAGE,
        q.GetChatMessage,
        lambda conn, m: chat_queries.chat_message(conn, uid(m), m.thread_id, m.message_id),
        "Message",
    )

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
        lambda conn, m: (
            thread_queries.get_thread_detail if m.with_messages else thread_queries.fetch_thread
        )(conn, uid(m), m.thread_id),
        "Thread",
    )
    query(
        s.THREAD_EVENTS,
        q.ThreadEvents,
        lambda conn, m: thread_queries.thread_events(conn, uid(m), m.thread_id),
        "Thread",
    )
    query(
        s.PROJECTS_LIST,
        q.ListProjects,
        lambda conn, m: project_queries.list_projects(conn, uid(m)),
        "Projects",
    )
    query(
        s.PROJECT_GET,
        q.GetProject,
        lambda conn, m: project_queries.fetch_project(conn, uid(m), m.project_id),
        "Project",
    )
    query(
        s.MESSAGES_LIST,
        q.ListMessages,
        lambda conn, m: message_queries.list_messages(conn, uid(m), m.thread_id),
        "Thread",
    )
    query(
        s.MESSAGE_GET,
        q.GetMessage,
        lambda conn, m: message_queries.get_message(conn, uid(m), m.thread_id, m.message_id),
        "Message",
    )
    query(
        s.DOCUMENTS_LIST,
        q.ListDocuments,
        lambda conn, m: document_queries.list_documents(conn, uid(m), m),
        "Documents",
    )
    query(
        s.DOCUMENT_GET,
        q.GetDocument,
        lambda conn, m: document_queries.get_document(conn, uid(m), m.document_id),
        "Document",
    )

    query(
        s.PROVIDERS_LIST,
        q.ListProviders,
        lambda conn, m: provider_queries.list_providers(conn, uid(m)),
        "Providers",
    )
    query(
        s.PROVIDER_CREDENTIALS,
        q.GetProviderCredentials,
        lambda conn, m: provider_queries.get_credentials(conn, keyring, uid(m), m.provider),
        "Provider",
        urgent=True,
    )
    query(
        s.TASK_ROUTES_GET,
        q.GetTaskRoutes,
        lambda conn, m: provider_queries.get_task_routes(conn, uid(m)),
        "Task routes",
    )

    async def health(conn: AsyncConnection, _: Query) -> dict[str, Any]:
        await conn.scalar(text("select 1"))
        return {"status": "ok"}

    query(s.HEALTH_THREADS, Query, health, "Health", title="HealthThreads")
    return routes
