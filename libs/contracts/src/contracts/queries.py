"""Queries: questions answered from read models over NATS request/reply. Each is scoped to
`meta.user_id`: another user's data is answered as not found."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from contracts import subjects as s
from contracts.base import Query
from contracts.views import (
    AdminUsageView,
    AdminUserPageView,
    ApiKeyListView,
    ApiKeyOwnerView,
    ChatContextView,
    ChatMessageView,
    CredentialsView,
    DocumentDetailView,
    DocumentListView,
    EventListView,
    HealthView,
    ImportView,
    MessageListView,
    MessageView,
    ModelsView,
    ProjectListView,
    ProjectView,
    ProviderCredentialsView,
    ProviderListView,
    RevocationsView,
    SearchPageView,
    SharedThreadView,
    ShareListView,
    TaskRoutesView,
    ThreadDetailView,
    ThreadPageView,
    ThreadView,
    UsageView,
    UserView,
)


class GetUser(Query[UserView]):
    subject: ClassVar[str] = s.USER_GET
    user_id: UUID


class GetCredentials(Query[CredentialsView]):
    subject: ClassVar[str] = s.USER_CREDENTIALS
    email: str


class ListUsers(Query[AdminUserPageView]):
    """Every user, oldest first, with this UTC day's and month's tokens (admins only)."""

    subject: ClassVar[str] = s.ADMIN_USERS
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


class ListProjects(Query[ProjectListView]):
    subject: ClassVar[str] = s.PROJECTS_LIST


class GetProject(Query[ProjectView]):
    subject: ClassVar[str] = s.PROJECT_GET
    project_id: UUID


class ListThreads(Query[ThreadPageView]):
    """Offset mode (offset/limit) unless `cursor` is given, then keyset mode."""

    subject: ClassVar[str] = s.THREADS_LIST

    offset: int = 0
    limit: int = 25
    project_id: UUID | None = None
    q: str | None = None
    cursor: str | None = None


# The thread with its messages; `with_messages` false leaves them out: `GetThreadAlone`.
class GetThread(Query[ThreadDetailView]):
    subject: ClassVar[str] = s.THREAD_GET
    thread_id: UUID
    with_messages: bool = True


class GetThreadAlone(Query[ThreadView]):
    """`GetThread` without the messages, typed as such: the same subject and the same wire
    shape (`with_messages` false), so the route serving `GetThread` answers it."""

    subject: ClassVar[str] = s.THREAD_GET
    thread_id: UUID
    with_messages: Literal[False] = False


class ThreadEvents(Query[EventListView]):
    subject: ClassVar[str] = s.THREAD_EVENTS
    thread_id: UUID


class ListMessages(Query[MessageListView]):
    """The active path, root first; with `path` "all", every message of every branch, oldest
    first."""

    subject: ClassVar[str] = s.MESSAGES_LIST
    thread_id: UUID
    path: Literal["active", "all"] = "active"


class GetMessage(Query[MessageView]):
    subject: ClassVar[str] = s.MESSAGE_GET
    thread_id: UUID
    message_id: UUID


class ListDocuments(Query[DocumentListView]):
    subject: ClassVar[str] = s.DOCUMENTS_LIST
    project_id: UUID | None = None
    thread_id: UUID | None = None


class GetDocument(Query[DocumentDetailView]):
    subject: ClassVar[str] = s.DOCUMENT_GET
    document_id: UUID


class GetChatContext(Query[ChatContextView]):
    """For the chat worker: thread, history, documents, provider binding; with
    `credentials_for`, also the user's own credentials for that provider (one round trip
    instead of two on the way to the first token)."""

    subject: ClassVar[str] = s.CHAT_CONTEXT

    thread_id: UUID
    message_id: UUID
    credentials_for: str | None = Field(default=None, max_length=40)


class GetChatMessage(Query[ChatMessageView]):
    """An assistant message with its outcome (finish reason or error), for the gateway."""

    subject: ClassVar[str] = s.CHAT_MESSAGE

    thread_id: UUID
    message_id: UUID


class ListProviders(Query[ProviderListView]):
    subject: ClassVar[str] = s.PROVIDERS_LIST


class GetProviderCredentials(Query[ProviderCredentialsView]):
    subject: ClassVar[str] = s.PROVIDER_CREDENTIALS
    provider: str


class GetTaskRoutes(Query[TaskRoutesView]):
    subject: ClassVar[str] = s.TASK_ROUTES_GET


class ListModels(Query[ModelsView]):
    subject: ClassVar[str] = s.MODELS_LIST
    # Seconds the asker waits for the answer (the gateway's share of its request timeout):
    # the catalogue answers within it, naming the providers it had no time for in `errors`.
    # None: the worker's own WORKER_MODELS_DEADLINE alone.
    deadline: float | None = Field(default=None, gt=0, le=3600)


class CheckHealth(Query[HealthView]):
    """Answered by a threads service that reaches its database."""

    subject: ClassVar[str] = s.HEALTH_THREADS


class ListShares(Query[ShareListView]):
    subject: ClassVar[str] = s.SHARES_LIST
    thread_id: UUID


class GetSharedThread(Query[SharedThreadView]):
    """Asked without a user: the link is the permission. A revoked link, or one of a deleted
    thread, is not found."""

    subject: ClassVar[str] = s.SHARED_GET
    share_id: str = Field(max_length=64)


class GetImport(Query[ImportView]):
    subject: ClassVar[str] = s.IMPORT_GET
    import_id: UUID


class SearchMessages(Query[SearchPageView]):
    """Full-text search over the user's messages (every branch) and thread titles, best match
    first; `cursor` is the `next_cursor` of the page before."""

    subject: ClassVar[str] = s.SEARCH

    q: str = Field(min_length=1, max_length=500)
    project_id: UUID | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=500)


USAGE_GROUP_KEYS: tuple[str, ...] = ("day", "provider", "model", "project", "task")


class GetUsage(Query[UsageView]):
    """The user's usage from `start` through `end` (UTC days, both included), summed per
    group of `group_by` (none: one row); `cost_usd` at today's prices."""

    subject: ClassVar[str] = s.USAGE

    start: date
    end: date
    group_by: list[Literal["day", "provider", "model", "project", "task"]] = []


ADMIN_USAGE_GROUP_KEYS: tuple[str, ...] = (*USAGE_GROUP_KEYS, "user")


class GetAdminUsage(Query[AdminUsageView]):
    """Every user's usage from `start` through `end`, as GetUsage sums it; `user` groups per
    user (admins only)."""

    subject: ClassVar[str] = s.ADMIN_USAGE

    start: date
    end: date
    group_by: list[Literal["day", "provider", "model", "project", "task", "user"]] = []


class ListApiKeys(Query[ApiKeyListView]):
    subject: ClassVar[str] = s.APIKEYS_LIST


class VerifyApiKey(Query[ApiKeyOwnerView]):
    """Asked by a gateway without a user: the live key whose keyed hash is `hash`."""

    subject: ClassVar[str] = s.APIKEY_VERIFY
    hash: str = Field(min_length=64, max_length=64)


class GetRevocations(Query[RevocationsView]):
    """Asked by a gateway as it connects: the revocations still in force."""

    subject: ClassVar[str] = s.REVOCATIONS
