"""The threads service's route table: every subject it serves or publishes, declared once.

`messaging.server.RouteServer` serves it and `make asyncapi` documents it. Each command and
query is served on its contract class's own subject, in the queue group `threads` that every
replica shares; commands run in the unit of work, queries read the read models (see
`answers`). Every reply is a `contracts.replies.Reply` as JSON.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import commands as c
from contracts import queries as q
from contracts.base import Command, Query
from contracts.subjects import EVENTS_STREAM, EVENTS_SUBJECTS, THREADS_QUEUE
from contracts.views import HealthView
from messaging.routes import Publish, RouteTable
from threads import chat_context_push
from threads.config import Settings
from threads.entrypoints import answers
from threads.entrypoints.admission import Admission
from threads.handlers import (
    add_document,
    cancel_generation,
    complete_assistant_message,
    configure_provider,
    create_api_key,
    create_project,
    create_thread,
    delete_api_key,
    delete_document,
    delete_message,
    delete_project,
    delete_thread,
    edit_message,
    fail_assistant_message,
    fork_thread,
    import_conversations,
    post_chat,
    post_message,
    record_cancelled_message,
    record_thread_summary,
    regenerate_answer,
    register_user,
    remove_provider,
    revoke_share,
    revoke_token,
    set_active_leaf,
    set_generated_title,
    set_model_price,
    set_task_routes,
    share_thread,
    start_chat,
    touch_api_key,
    update_project,
    update_thread,
    update_user,
)
from threads.queries import admin as admin_queries
from threads.queries import api_keys as api_key_queries
from threads.queries import chat as chat_queries
from threads.queries import documents as document_queries
from threads.queries import imports as import_queries
from threads.queries import messages as message_queries
from threads.queries import projects as project_queries
from threads.queries import providers as provider_queries
from threads.queries import search as search_queries
from threads.queries import shares as share_queries
from threads.queries import threads as thread_queries
from threads.queries import usage as usage_queries
from threads.queries import users as user_queries
from threads.store.relay import relayed_event_model
from threads.store.unit_of_work import Handler, UnitOfWork

C = TypeVar("C", bound=Command[Any])
Q = TypeVar("Q", bound=Query[Any])
ADMITTED_PER_CONNECTION = 8  # messages a subscription takes in per database connection


def build_routes(settings: Settings, engine: AsyncEngine, uow: UnitOfWork) -> RouteTable:
    table = RouteTable("threads")
    # Subscriptions take messages freely; handlers then queue in one line (see `admission`).
    # Twice as many slots as connections: one handler's Python work overlaps another's
    # round trip, and the pool hands out connections in order to the rest.
    in_flight = ADMITTED_PER_CONNECTION * settings.db_pool_size
    admission = Admission(2 * settings.db_pool_size)
    reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    def command(model: type[C], handler: Handler[C], *, urgent: bool = False) -> None:
        answer = answers.command(model, handler, uow)
        on_body = answers.admitted(model, answer, admission, urgent=urgent)
        table.answer(model, on_body, queue=THREADS_QUEUE, max_in_flight=in_flight)

    def query(
        model: type[Q],
        fn: answers.QueryFn,
        what: str,
        *,
        urgent: bool = False,
        title: str | None = None,
    ) -> None:
        answer = answers.query(model, fn, what, reads)
        on_body = answers.admitted(model, answer, admission, urgent=urgent)
        table.answer(model, on_body, queue=THREADS_QUEUE, max_in_flight=in_flight, title=title)

    # -- commands --
    command(c.RegisterUser, register_user.handle)
    command(c.SetUserRole, update_user.set_role)
    command(c.UpdateUser, update_user.handle)
    command(
        c.CreateThread,
        functools.partial(create_thread.handle, default_provider=settings.default_provider),
    )

    keyring = settings.secret_keyring()
    command(
        c.ConfigureProvider,
        functools.partial(configure_provider.handle, keyring=keyring),
    )
    command(c.RemoveProvider, remove_provider.handle)
    command(c.SetTaskRoutes, set_task_routes.handle)
    command(c.SetModelPrice, set_model_price.handle)

    # -- projects, threads, messages, documents --
    command(c.CreateProject, create_project.handle)
    command(c.UpdateProject, update_project.handle)
    command(c.DeleteProject, delete_project.handle)
    command(c.UpdateThread, update_thread.handle)
    command(c.DeleteThread, delete_thread.handle)
    command(c.SetActiveLeaf, set_active_leaf.handle)
    command(c.ForkThread, fork_thread.handle)
    command(c.PostMessage, post_message.handle)
    command(c.DeleteMessage, delete_message.handle)
    command(
        c.AddDocument,
        functools.partial(add_document.handle, max_bytes=settings.max_document_bytes),
    )
    command(c.DeleteDocument, delete_document.handle)

    # -- share links and imports --
    command(c.ShareThread, share_thread.handle)
    command(c.RevokeShare, revoke_share.handle)
    command(
        c.ImportConversations,
        functools.partial(
            import_conversations.handle,
            default_provider=settings.default_provider,
            max_document_bytes=settings.max_document_bytes,
        ),
    )

    # -- API keys and logout --
    command(c.CreateApiKey, create_api_key.handle)
    command(c.DeleteApiKey, delete_api_key.handle)
    command(c.TouchApiKey, touch_api_key.handle)
    command(c.RevokeToken, revoke_token.handle)

    # -- chat (PostChat and CancelGeneration from the gateway, the rest from chat workers) --
    push = settings.context_push_max_bytes
    command(c.PostChat, functools.partial(post_chat.handle, push_max_bytes=push))
    command(
        c.StartChat,
        functools.partial(
            start_chat.handle, default_provider=settings.default_provider, push_max_bytes=push
        ),
    )
    command(c.RegenerateAnswer, functools.partial(regenerate_answer.handle, push_max_bytes=push))
    command(c.EditMessage, functools.partial(edit_message.handle, push_max_bytes=push))
    # The workers' outcomes and lookups finish chats under way: they go ahead of new requests.
    command(
        c.CompleteAssistantMessage,
        complete_assistant_message.handle,
        urgent=True,
    )
    command(c.FailAssistantMessage, fail_assistant_message.handle, urgent=True)
    command(c.CancelGeneration, cancel_generation.handle)
    command(
        c.RecordCancelledMessage,
        record_cancelled_message.handle,
        urgent=True,
    )
    command(c.SetGeneratedTitle, set_generated_title.handle)
    command(c.RecordThreadSummary, record_thread_summary.handle, urgent=True)

    # -- queries --
    def uid(m: Query) -> Any:
        return m.meta.user_id

    query(
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
        q.GetChatMessage,
        lambda conn, m: chat_queries.chat_message(conn, uid(m), m.thread_id, m.message_id),
        "Message",
    )

    query(q.GetUser, lambda conn, m: user_queries.get_user(conn, m.user_id), "User")
    query(q.ListUsers, lambda conn, m: admin_queries.list_users(conn, uid(m), m), "Users")
    query(q.GetAdminUsage, lambda conn, m: admin_queries.admin_usage(conn, uid(m), m), "Usage")
    query(
        q.GetCredentials,
        lambda conn, m: user_queries.get_credentials(conn, m.email),
        "User",
    )
    query(
        q.ListThreads,
        lambda conn, m: thread_queries.list_threads(conn, uid(m), m),
        "Threads",
    )
    query(
        q.GetThread,
        lambda conn, m: (
            thread_queries.get_thread_detail if m.with_messages else thread_queries.fetch_thread
        )(conn, uid(m), m.thread_id),
        "Thread",
    )
    query(
        q.ThreadEvents,
        lambda conn, m: thread_queries.thread_events(conn, uid(m), m.thread_id),
        "Thread",
    )
    query(
        q.ListProjects,
        lambda conn, m: project_queries.list_projects(conn, uid(m)),
        "Projects",
    )
    query(
        q.GetProject,
        lambda conn, m: project_queries.fetch_project(conn, uid(m), m.project_id),
        "Project",
    )
    query(
        q.ListMessages,
        lambda conn, m: message_queries.list_messages(conn, uid(m), m.thread_id, m.path),
        "Thread",
    )
    query(
        q.GetMessage,
        lambda conn, m: message_queries.get_message(conn, uid(m), m.thread_id, m.message_id),
        "Message",
    )
    query(
        q.ListDocuments,
        lambda conn, m: document_queries.list_documents(conn, uid(m), m),
        "Documents",
    )
    query(
        q.GetDocument,
        lambda conn, m: document_queries.get_document(conn, uid(m), m.document_id),
        "Document",
    )

    query(
        q.GetSharedThread,
        lambda conn, m: share_queries.get_shared(conn, m.share_id),
        "Share",
    )
    query(
        q.ListShares,
        lambda conn, m: share_queries.list_shares(conn, uid(m), m.thread_id),
        "Thread",
    )
    query(q.ListApiKeys, lambda conn, m: api_key_queries.list_api_keys(conn, uid(m)), "API keys")
    query(
        q.VerifyApiKey,
        lambda conn, m: api_key_queries.verify_api_key(conn, m.hash),
        "API key",
        urgent=True,
    )
    query(q.GetRevocations, lambda conn, m: api_key_queries.revocations(conn), "Revocations")
    query(
        q.GetImport,
        lambda conn, m: import_queries.get_import(conn, uid(m), m.import_id),
        "Import",
    )
    query(
        q.SearchMessages,
        lambda conn, m: search_queries.search(
            conn, uid(m), m, candidates=settings.search_candidates
        ),
        "Search",
    )
    query(
        q.GetUsage,
        lambda conn, m: usage_queries.get_usage(conn, uid(m), m),
        "Usage",
    )

    query(
        q.ListProviders,
        lambda conn, m: provider_queries.list_providers(conn, uid(m)),
        "Providers",
    )
    query(
        q.GetProviderCredentials,
        lambda conn, m: provider_queries.get_credentials(conn, keyring, uid(m), m.provider),
        "Provider",
        urgent=True,
    )
    query(
        q.GetTaskRoutes,
        lambda conn, m: provider_queries.get_task_routes(conn, uid(m)),
        "Task routes",
    )

    async def health(conn: AsyncConnection, _: Query) -> HealthView:
        await conn.scalar(text("select 1"))
        return HealthView(status="ok")

    query(q.CheckHealth, health, "Health", title="HealthThreads")

    # -- what the service publishes --
    table.add(
        Publish(
            EVENTS_SUBJECTS,
            relayed_event_model(),
            title=EVENTS_STREAM,
            description="The outbox relay: every committed event, on the JetStream stream "
            "EVENTS (subject `events.<aggregate>.<id>.<EventType>`).",
        )
    )
    table.add(chat_context_push.ROUTE)
    return table
