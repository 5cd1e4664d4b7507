"""HTTP request bodies. Responses use the view models of `contracts.views` directly."""

from __future__ import annotations

from uuid import UUID

from pydantic import AliasChoices, BaseModel, EmailStr, Field

from contracts.views import UserView


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
    title: str | None = Field(default=None, max_length=255)
    project_id: UUID | None = None
    model_provider: str | None = Field(
        default=None, max_length=40, validation_alias=AliasChoices("model_provider", "provider")
    )
    model: str | None = Field(default=None, max_length=255)
    thread_type: str | None = Field(default=None, max_length=40)
    agent_type: str | None = Field(default=None, max_length=50)


class MessageOut(BaseModel):
    message: str
