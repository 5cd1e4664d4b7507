"""Queries for chat: what the worker needs to answer a message, and one answer with its outcome.

Both are scoped to the asking user: another user's thread or message is answered as missing.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import (
    JSON,
    BigInteger,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.replies import PartlyRaw
from contracts.views import (
    ChatContextView,
    ChatMessageView,
    DocumentTextView,
    MessageView,
    ProviderCredentialsView,
    TaskRouteView,
    ThreadSummaryView,
)
from threads.domain import chat
from threads.domain.errors import DomainError
from threads.domain.provider_settings import require_known
from threads.domain.thread import stream_id as thread_stream
from threads.queries.providers import credentials_view
from threads.queries.views import message_view, thread_view
from threads.store.crypto import KeyRing
from threads.store.event_store import _row_to_event
from threads.store.tables import (
    documents,
    events,
    messages,
    preferences,
    projects,
    provider_settings,
    secrets,
    task_routes,
    thread_summaries,
    threads,
)
from threads.store.tree_loads import path_up

log = structlog.get_logger(__name__)
HISTORY_STATUSES = ("complete", "cancelled")


async def _message_events(conn: AsyncConnection, thread_id: UUID, message_id: UUID) -> list[Any]:
    rows = (
        await conn.execute(
            select(events)
            .where(
                events.c.stream_id == thread_stream(thread_id),
                events.c.event_type.in_(chat.ANSWER_EVENTS),
                events.c.data["message_id"].astext == str(message_id),
            )
            .order_by(events.c.stream_version)
        )
    ).all()
    return [_row_to_event(r) for r in rows]


# The chat context is one statement, built once: the worker waits for it before every answer.
# The thread's messages and documents come along as JSON arrays (subqueries), with the title
# route and whether a cancel was asked for.
def _json_array(rows: Any, *order: Any) -> Any:
    """`rows` (a json_build_object) aggregated in `order`, `[]` when there are none."""
    return func.coalesce(
        func.json_agg(aggregate_order_by(rows, *order)), literal_column("'[]'::json")
    )


def _object(table: Any, names: tuple[str, ...]) -> Any:
    """json_build_object('name', table.name, ...) for these columns."""
    pairs: list[Any] = []
    for name in names:
        pairs += [literal_column(f"'{name}'"), table.c[name]]
    return func.json_build_object(*pairs)


_MESSAGE_FIELDS = (
    *("id", "thread_id", "role", "content", "artifact_data", "metadata"),
    *("status", "provider", "model", "usage", "created_at", "parent_id"),
)
# The answer and its ancestors, root first: a generation never sees a sibling branch.
_ANSWER_ID = bindparam("answer_id", type_=Uuid())
_UP = path_up(_ANSWER_ID, bindparam("thread_id", type_=Uuid()))
# The history sent is the answer's ancestors, but for answers with nothing to send (failed,
# still streaming, or empty): a `list[MessageView]` as JSON text, passed on as it is.
_SENT = and_(
    _UP.c.id != _ANSWER_ID,
    or_(_UP.c.role != "assistant", and_(_UP.c.status.in_(HISTORY_STATUSES), _UP.c.content != "")),
)
_HISTORY = (
    select(_json_array(_object(_UP, _MESSAGE_FIELDS), _UP.c.seq)).where(_SENT).scalar_subquery()
)
_ANSWER = select(_object(_UP, _MESSAGE_FIELDS)).where(_UP.c.id == _ANSWER_ID).scalar_subquery()
# A push (`push_limit` given) whose history's texts alone are over its limit would not be sent:
# its history is then neither built nor read (NULL). The path is read once for all of them.
_HISTORY_TEXT_BYTES = select(func.sum(func.octet_length(_UP.c.content))).scalar_subquery()
_PUSHED_HISTORY = case(
    (bindparam("push_limit", type_=BigInteger()) < _HISTORY_TEXT_BYTES, null()),
    else_=_HISTORY,
)
# Any answer of the thread, on any branch, before this one: titles are made once per thread.
_EARLIER = messages.alias("earlier")
_ANSWERED_BEFORE = (
    select(_EARLIER.c.id)
    .where(
        _EARLIER.c.thread_id == threads.c.id,
        _EARLIER.c.role == "assistant",
        _EARLIER.c.id != _ANSWER_ID,
        _EARLIER.c.seq
        < func.coalesce(
            select(messages.c.seq).where(messages.c.id == _ANSWER_ID).scalar_subquery(),
            literal_column("9223372036854775807"),
        ),
    )
    .exists()
)
_DOCUMENTS = (
    select(
        _json_array(
            _object(documents, ("filename", "content")),
            # the thread's documents, then its project's, each oldest first
            documents.c.thread_id.is_(None),
            documents.c.created_at,
            documents.c.id,
        )
    )
    .where(
        or_(
            documents.c.thread_id == threads.c.id,
            # NULL when the thread is in no project: matches nothing
            documents.c.project_id == threads.c.project_id,
        )
    )
    .scalar_subquery()
)


def _title_route(column: Any, task: str = "title") -> Any:
    """The `title` (or `summary`) route's provider or model, when the user routes tasks to
    separate models."""
    return (
        select(column)
        .join(preferences, preferences.c.user_id == task_routes.c.user_id)
        .where(
            task_routes.c.user_id == bindparam("user_id", type_=Uuid()),
            task_routes.c.task == task,
            preferences.c.use_separate_models.is_(True),
        )
        .scalar_subquery()
    )


# The summary running through the deepest of the history's messages, if any.
_SUMMARY = (
    select(_object(thread_summaries, ("through_message_id", "text", "summarized_messages")))
    .join(_UP, _UP.c.id == thread_summaries.c.through_message_id)
    .where(thread_summaries.c.thread_id == threads.c.id, _SENT)
    .order_by(_UP.c.seq.desc())
    .limit(1)
    .scalar_subquery()
)


# NULL when the thread is in no project, or the project has none.
_PROJECT_INSTRUCTIONS = (
    select(projects.c.instructions).where(projects.c.id == threads.c.project_id).scalar_subquery()
)

_CANCELLED = (
    select(events.c.global_position)
    .where(
        events.c.stream_id == bindparam("stream_id", type_=String()),
        events.c.event_type == "GenerationCancelled",
        events.c.data["message_id"].astext == bindparam("message_id", type_=String()),
    )
    .exists()
)


def _saved(column: Any, table: Table) -> Any:
    """A column of the user's saved config (or sealed key) for the provider asked about;
    NULL when there is none, or no provider was asked about (`:provider` NULL)."""
    return (
        select(column)
        .where(
            table.c.user_id == bindparam("user_id", type_=Uuid()),
            table.c.provider == bindparam("provider", type_=String()),
        )
        .scalar_subquery()
    )


_CONTEXT = select(
    threads,
    _CANCELLED.label("cancel_requested"),
    _ANSWERED_BEFORE.label("answered_before"),
    _title_route(task_routes.c.provider).label("title_provider"),
    _title_route(task_routes.c.model).label("title_model"),
    _title_route(task_routes.c.provider, "summary").label("summary_provider"),
    _title_route(task_routes.c.model, "summary").label("summary_model"),
    type_coerce(_SUMMARY, JSON()).label("summary"),
    cast(_PUSHED_HISTORY, Text).label("history"),  # JSON text, sent on as it is
    type_coerce(_ANSWER, JSON()).label("answer"),
    type_coerce(_DOCUMENTS, JSON()).label("documents"),
    _PROJECT_INSTRUCTIONS.label("project_instructions"),
    # the provider's saved config and sealed key: no second round trip for the credentials
    _saved(
        func.json_build_object(
            literal_column("'enabled'"),
            provider_settings.c.enabled,
            literal_column("'base_url'"),
            provider_settings.c.base_url,
            literal_column("'key_set'"),
            provider_settings.c.key_set,
        ),
        provider_settings,
    ).label("saved_config"),
    _saved(secrets.c.key_id, secrets).label("key_id"),
    _saved(secrets.c.ciphertext, secrets).label("ciphertext"),
).where(
    threads.c.id == bindparam("thread_id", type_=Uuid()),
    threads.c.user_id == bindparam("user_id", type_=Uuid()),
)


async def chat_context(
    conn: AsyncConnection,
    user_id: UUID | None,
    thread_id: UUID,
    message_id: UUID,
    *,
    credentials_for: str | None = None,
    ring: KeyRing | None = None,
) -> PartlyRaw | None:
    """One read for the thread, its messages and documents, its title route, whether a
    cancel was asked for and, if asked for, the user's saved credentials for a provider: a
    `ChatContextView`. The worker waits for this before calling the provider, so it is one
    request and one round trip."""
    if user_id is None:
        return None
    provider = credentials_for if ring is not None else None
    row = await context_row(conn, user_id, thread_id, message_id, provider)
    if row is None:
        return None
    credentials = None
    if provider is not None and ring is not None:
        try:
            require_known(provider)
            saved = row.saved_config
            credentials = credentials_view(
                ring,
                user_id,
                provider,
                SimpleNamespace(**saved, key_id=row.key_id, ciphertext=row.ciphertext)
                if saved is not None
                else None,
            )
        except DomainError as err:  # unknown provider or undecryptable key: as if none saved
            log.warning("credentials not available", provider=provider, reason=err.detail)
    return context_view(row, credentials)


async def context_row(
    conn: AsyncConnection,
    user_id: UUID,
    thread_id: UUID,
    message_id: UUID,
    provider: str | None,
    push_limit: int | None = None,
) -> Any:
    """The context's one statement; `saved_config` and the sealed key are those of `provider`.
    With `push_limit`, `history` is None when its texts alone are over it."""
    params = {
        "push_limit": push_limit,
        "thread_id": thread_id,
        "user_id": user_id,
        "stream_id": thread_stream(thread_id),
        "message_id": str(message_id),
        "answer_id": message_id,
        "provider": provider,
    }
    return (await conn.execute(_CONTEXT, params)).first()


def context_view(row: Any, credentials: ProviderCredentialsView | None) -> PartlyRaw:
    """The `ChatContextView` of a `context_row` (with its history), its history as the
    database wrote it."""
    answer = MessageView.model_validate(row.answer) if row.answer is not None else None
    title_task = (
        TaskRouteView(task="title", provider=row.title_provider, model=row.title_model)
        if row.title_provider
        else None
    )
    summary_task = (
        TaskRouteView(task="summary", provider=row.summary_provider, model=row.summary_model)
        if row.summary_provider
        else None
    )
    view = ChatContextView(
        thread=thread_view(row),
        credentials=credentials,
        summary_task=summary_task,
        summary=ThreadSummaryView.model_validate(row.summary) if row.summary else None,
        history=[],
        documents=[DocumentTextView.model_validate(d) for d in row.documents],
        message_status=answer.status if answer is not None else None,
        title_task=title_task,
        cancel_requested=bool(row.cancel_requested),
        message=answer,
        first_exchange=not row.answered_before,
        project_instructions=row.project_instructions,
    )
    return PartlyRaw(view, history=row.history)


async def chat_message(
    conn: AsyncConnection, user_id: UUID | None, thread_id: UUID, message_id: UUID
) -> ChatMessageView | None:
    row = (
        await conn.execute(
            select(messages).where(
                messages.c.id == message_id,
                messages.c.thread_id == thread_id,
                messages.c.user_id == user_id,
            )
        )
    ).first()
    if row is None:
        return None
    view = ChatMessageView(message=message_view(row), attempt=row.attempt)
    for event in await _message_events(conn, thread_id, message_id):
        d = event.data
        if event.type == "AssistantMessageRequested":
            view.user_message_id = UUID(d["user_message_id"])
        elif event.type == "AssistantMessageCompleted":
            view.finish_reason = d.get("finish_reason")
        elif event.type == "AssistantMessageFailed":
            view.error_code, view.error = d.get("code"), d.get("error")
    return view
