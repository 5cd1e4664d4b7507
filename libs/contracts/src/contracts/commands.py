"""Commands: orders to the threads service over NATS request/reply (`contracts.subjects`).

Every command carries the acting user in `meta.user_id` (except registration) and a
`command_id` for idempotency. Ids of new things are chosen by the sender, so a retried command
names the same thing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.base import Command
from contracts.events import TaskRoute
from contracts.views import MessageRole


class RegisterUser(Command):
    user_id: UUID
    email: str
    display_name: str | None = None
    password_hash: str


class CreateProject(Command):
    project_id: UUID
    name: str
    description: str | None = None


class UpdateProject(Command):
    project_id: UUID
    name: str | None = None
    description: str | None = None
    description_set: bool = False


class DeleteProject(Command):
    project_id: UUID


class CreateThread(Command):
    thread_id: UUID
    project_id: UUID | None = None
    title: str | None = None
    model_provider: str | None = None
    model: str | None = None
    thread_type: str | None = None
    agent_type: str | None = None


class UpdateThread(Command):
    """`move` says whether project_id was given at all: moving to null makes it project-less."""

    thread_id: UUID
    title: str | None = None
    move: bool = False
    project_id: UUID | None = None


class SetGeneratedTitle(Command):
    """From the chat worker: applied only while the thread is still titled `New Chat`."""

    thread_id: UUID
    title: str


class DeleteThread(Command):
    thread_id: UUID


class PostMessage(Command):
    thread_id: UUID
    message_id: UUID
    role: MessageRole
    content: str = ""
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class DeleteMessage(Command):
    message_id: UUID


class AddDocument(Command):
    document_id: UUID
    project_id: UUID | None = None
    thread_id: UUID | None = None
    filename: str
    content_type: str = "text/plain"
    content: str


class DeleteDocument(Command):
    document_id: UUID


# -- chat ------------------------------------------------------------------------------------


class PostChat(Command):
    thread_id: UUID
    user_message_id: UUID
    assistant_message_id: UUID
    content: str
    artifact_data: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class CompleteAssistantMessage(Command):
    thread_id: UUID
    message_id: UUID
    content: str
    finish_reason: str
    usage: dict[str, Any] | None = None
    attempt: int = 1


class FailAssistantMessage(Command):
    thread_id: UUID
    message_id: UUID
    code: str
    error: str
    content: str = ""
    attempt: int = 1


class CancelGeneration(Command):
    thread_id: UUID
    message_id: UUID


class RecordCancelledMessage(Command):
    thread_id: UUID
    message_id: UUID
    content: str
    attempt: int = 1


# -- provider settings -----------------------------------------------------------------------


class ConfigureProvider(Command):
    """`api_key` travels only gateway → threads over NATS and is encrypted before storage."""

    provider: str
    api_key: str | None = Field(default=None, repr=False)
    api_key_set: bool = False  # the field was present (an empty string clears the key)
    base_url: str | None = None
    base_url_set: bool = False
    enabled: bool | None = None


class RemoveProvider(Command):
    provider: str


class SetTaskRoutes(Command):
    use_separate_models: bool
    routes: list[TaskRoute]


class Ack(BaseModel):
    """Data of a reply that only confirms."""

    message: str
