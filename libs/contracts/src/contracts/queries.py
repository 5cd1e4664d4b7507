"""Queries: questions answered from read models over NATS request/reply. Each is scoped to
`meta.user_id`: another user's data is answered as not found."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from contracts.base import Query


class GetUser(Query):
    user_id: UUID


class GetCredentials(Query):
    email: str


class ListProjects(Query):
    pass


class GetProject(Query):
    project_id: UUID


class ListThreads(Query):
    """Offset mode (offset/limit) unless `cursor` is given, then keyset mode."""

    offset: int = 0
    limit: int = 25
    project_id: UUID | None = None
    q: str | None = None
    cursor: str | None = None


class GetThread(Query):
    thread_id: UUID
    with_messages: bool = True


class ThreadEvents(Query):
    thread_id: UUID


class ListMessages(Query):
    thread_id: UUID


class GetMessage(Query):
    thread_id: UUID
    message_id: UUID


class ListDocuments(Query):
    project_id: UUID | None = None
    thread_id: UUID | None = None


class GetDocument(Query):
    document_id: UUID


class GetChatContext(Query):
    """For the chat worker: thread, history, documents, provider binding; with
    `credentials_for`, also the user's own credentials for that provider (one round trip
    instead of two on the way to the first token)."""

    thread_id: UUID
    message_id: UUID
    credentials_for: str | None = Field(default=None, max_length=40)


class GetChatMessage(Query):
    """An assistant message with its outcome (finish reason or error), for the gateway."""

    thread_id: UUID
    message_id: UUID


class ListProviders(Query):
    pass


class GetProviderCredentials(Query):
    provider: str


class GetTaskRoutes(Query):
    pass


class ListModels(Query):
    # Seconds the asker waits for the answer (the gateway's share of its request timeout):
    # the catalogue answers within it, naming the providers it had no time for in `errors`.
    # None: the worker's own WORKER_MODELS_DEADLINE alone.
    deadline: float | None = Field(default=None, gt=0, le=3600)
