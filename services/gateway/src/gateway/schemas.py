"""HTTP request bodies. Responses use the view models of `contracts.views` directly."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AliasChoices, BaseModel, EmailStr, Field, SecretStr

from contracts.views import (
    DocumentView,
    EventView,
    MessageView,
    ProjectView,
    ProviderView,
    UserView,
)

MAX_JSON_DEPTH = 32


def _storable(value: str) -> str:
    """Postgres stores neither NUL characters nor lone surrogates (invalid UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 (no lone surrogates)") from None
    return value


def _json_object(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Every key and string storable; nesting at most MAX_JSON_DEPTH deep."""

    def check(item: Any, depth: int) -> None:
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str):
            _storable(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _storable(key)
                check(inner, depth + 1)
        elif isinstance(item, list):
            for inner in item:
                check(inner, depth + 1)

    check(value, 0)
    return value


Text = Annotated[str, AfterValidator(_storable)]
JsonObject = Annotated[dict[str, Any] | None, AfterValidator(_json_object)]


class RegisterIn(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=1024)
    display_name: str | None = Field(default=None, max_length=255)


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class RegisterOut(TokenOut):
    user: UserView


class ThreadIn(BaseModel):
    title: Text | None = Field(default=None, max_length=255)
    project_id: UUID | None = None
    model_provider: Text | None = Field(
        default=None, max_length=40, validation_alias=AliasChoices("model_provider", "provider")
    )
    model: Text | None = Field(default=None, max_length=255)
    thread_type: Text | None = Field(default=None, max_length=40)
    agent_type: Text | None = Field(default=None, max_length=50)


class MessageOut(BaseModel):
    message: str


# -- projects, threads, messages, documents ---------------------------------------------------


class ProjectIn(BaseModel):
    name: Text = Field(min_length=1, max_length=255)
    description: Text | None = Field(default=None, max_length=10_000)


class ProjectPatch(BaseModel):
    """Fields left out stay as they are; `description: null` clears the description."""

    name: Text | None = Field(default=None, min_length=1, max_length=255)
    description: Text | None = Field(default=None, max_length=10_000)


class ProjectsOut(BaseModel):
    projects: list[ProjectView]


class ThreadPatch(BaseModel):
    """`title` renames; `project_id` moves (null: out of any project). Left out: unchanged."""

    title: Text | None = Field(default=None, min_length=1, max_length=255)
    project_id: UUID | None = None


class MessageIn(BaseModel):
    role: Literal["user", "assistant"]
    content: Text = Field(default="", max_length=1_000_000)
    artifact_data: JsonObject = None
    metadata: JsonObject = None


class MessagesOut(BaseModel):
    messages: list[MessageView]


class DocumentIn(BaseModel):
    filename: Text = Field(min_length=1, max_length=255)
    content: Text
    content_type: Text = Field(default="text/plain", min_length=1, max_length=127)


class DocumentsOut(BaseModel):
    documents: list[DocumentView]


class EventsOut(BaseModel):
    events: list[EventView]


# -- providers and task routes --------------------------------------------------------------


class ProviderConfigIn(BaseModel):
    """Fields left out keep their value. `api_key`: "" deletes the stored key, null changes
    nothing (a form cannot show the key back). `base_url`: "" or null returns to the default."""

    api_key: SecretStr | None = Field(default=None, max_length=1024)
    base_url: str | None = Field(default=None, max_length=2048)
    enabled: bool | None = None


class ProvidersOut(BaseModel):
    providers: list[ProviderView]


class TaskRouteIn(BaseModel):
    task: str = Field(min_length=1, max_length=20)
    provider: str = Field(min_length=1, max_length=40)
    model: str = Field(min_length=1, max_length=255)


class TaskRoutesIn(BaseModel):
    use_separate_models: bool = False
    routes: list[TaskRouteIn] = Field(default_factory=list, max_length=16)
