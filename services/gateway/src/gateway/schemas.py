"""HTTP request bodies. Responses use the view models of `contracts.views` directly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)

from contracts.generation import INSTRUCTIONS_MAX, STOP_CHARS_MAX, STOP_MAX, GenerationOptions
from contracts.views import UserView
from gateway.known_names import ProviderName, TaskName, ThreadType
from gateway.storable import JsonObject, Password, Secret, Text


class RegisterIn(BaseModel):
    email: EmailStr
    password: Password = Field(min_length=8, max_length=1024)
    display_name: Text | None = Field(default=None, max_length=255)


class LoginIn(BaseModel):
    email: Text = Field(max_length=320)
    password: Password = Field(max_length=1024)


class AccessTokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class RegisterOut(AccessTokenOut):
    user: UserView


# A project's or a thread's instructions for the model (blank: none).
Instructions = Annotated[Text, Field(max_length=INSTRUCTIONS_MAX)]


StopSequence = Annotated[Text, Field(min_length=1, max_length=STOP_CHARS_MAX)]


class OptionsIn(GenerationOptions):
    """Generation options of one answer; an unknown key is refused (422), never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    stop: list[StopSequence] | None = Field(default=None, max_length=STOP_MAX)

    def contract(self) -> GenerationOptions:
        return GenerationOptions(**self.model_dump())


# A thread's own context window, in tokens: a JSON integer above 0 (not "8000", 8000.5 or true).
ContextWindow = Annotated[int, Field(strict=True, gt=0, le=100_000_000)]
ContextPolicy = Literal["truncate", "summarize"]


class ThreadIn(BaseModel):
    title: Text | None = Field(default=None, max_length=255)
    project_id: UUID | None = None
    model_provider: ProviderName | None = Field(
        default=None, max_length=40, validation_alias=AliasChoices("model_provider", "provider")
    )
    model: Text | None = Field(default=None, max_length=255)
    thread_type: ThreadType | None = Field(default=None, max_length=40)
    agent_type: Text | None = Field(default=None, max_length=50)
    context_window: ContextWindow | None = None
    context_policy: ContextPolicy | None = None
    instructions: Instructions | None = None


# -- projects, threads, messages, documents ---------------------------------------------------


class ProjectIn(BaseModel):
    name: Text = Field(min_length=1, max_length=255)
    description: Text | None = Field(default=None, max_length=10_000)
    instructions: Instructions | None = None


class ProjectPatch(BaseModel):
    """Fields left out stay as they are; `description: null` clears the description,
    `instructions: null` the instructions."""

    name: Text | None = Field(default=None, min_length=1, max_length=255)
    description: Text | None = Field(default=None, max_length=10_000)
    instructions: Instructions | None = None


class ThreadPatch(BaseModel):
    """`title` renames; `project_id` moves (null: out of any project); `instructions` sets
    them (null: clears). Left out: unchanged."""

    title: Text | None = Field(default=None, min_length=1, max_length=255)
    project_id: UUID | None = None
    context_window: ContextWindow | None = None  # null: back to the model's window
    context_policy: ContextPolicy | None = None
    instructions: Instructions | None = None


class MessageIn(BaseModel):
    """`content` may be left out or null (an assistant message carrying only `artifact_data`):
    the message is then stored with empty content, as the Message view's `content` is text."""

    role: Literal["user", "assistant"]
    content: Text | None = Field(default=None, max_length=1_000_000)
    artifact_data: JsonObject = None
    metadata: JsonObject = None
    parent_id: UUID | None = None  # as for a chat: absent, after the active leaf


class QuestionIn(BaseModel):
    """A user turn (an edited question): checked like any stored message, no NUL or lone
    surrogates, JSON that JSONB and the relay can carry."""

    content: Text = Field(min_length=1)
    artifact_data: JsonObject = None
    metadata: JsonObject = None
    options: OptionsIn | None = None  # for this answer: temperature, top_p, max_tokens, stop


class ChatIn(QuestionIn):
    """`parent_id` absent: after the thread's active leaf; given (any message of the thread):
    a new branch there."""

    parent_id: UUID | None = None


class RegenerateIn(BaseModel):
    """`model`: another model of the thread's provider for this answer only (an unknown one is
    the domain's 400); absent, the thread's model. The thread's binding never changes."""

    model: Text | None = Field(default=None, min_length=1, max_length=200)
    options: OptionsIn | None = None


class MessageRef(BaseModel):
    """The message a tree operation starts from: any message of the thread."""

    message_id: UUID


class DocumentIn(BaseModel):
    filename: Text = Field(min_length=1, max_length=255)
    content: Text
    content_type: Text = Field(default="text/plain", min_length=1, max_length=127)


# -- providers and task routes --------------------------------------------------------------


class ProviderConfigIn(BaseModel):
    """Fields left out keep their value. `api_key`: "" deletes the stored key, null changes
    nothing (a form cannot show the key back). `base_url`: "" or null returns to the default."""

    api_key: Secret | None = Field(default=None, max_length=1024)
    base_url: Text | None = Field(default=None, max_length=2048)
    enabled: bool | None = None


class TaskRouteIn(BaseModel):
    task: TaskName = Field(min_length=1, max_length=20)
    provider: ProviderName = Field(min_length=1, max_length=40)
    model: Text = Field(min_length=1, max_length=255)


class TaskRoutesIn(BaseModel):
    use_separate_models: bool = False
    routes: list[TaskRouteIn] = Field(default_factory=list, max_length=16)


class ApiKeyIn(BaseModel):
    """A personal API key to make: its name, and when it stops working (never when absent)."""

    name: Text = Field(min_length=1, max_length=100)
    expires_at: AwareDatetime | None = None

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name must not be blank")
        return name.strip()

    @field_validator("expires_at")
    @classmethod
    def _ahead(cls, expires_at: datetime | None) -> datetime | None:
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise ValueError("expires_at must be in the future")
        return expires_at


class ApiKeyCreatedOut(BaseModel):
    """The only time the key is shown."""

    id: UUID
    name: str
    key: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None


TokenQuota = Annotated[int, Field(strict=True, ge=0, le=10**15)]


class QuotaPatch(BaseModel):
    """The quotas given are set (null: unlimited); the ones left out stay."""

    model_config = ConfigDict(extra="forbid")

    tokens_per_day: TokenQuota | None = None
    tokens_per_month: TokenQuota | None = None


class AdminUserPatch(BaseModel):
    """An admin's change of a user; every field left out stays."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "user"] | None = None
    disabled: Annotated[bool, Field(strict=True)] | None = None
    quota: QuotaPatch | None = None
