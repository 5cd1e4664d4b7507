"""FastAPI dependencies: the bus, the current user, the envelope of a user's request, the
Idempotency-Key, and a command's sender made of them.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a
hop to another thread and back on every request; none of these block, so none needs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from contracts.base import Command, Envelope
from gateway.api_keys import KEY_PREFIX
from gateway.bus import Bus
from gateway.config import Settings
from gateway.correlation import correlation_from
from gateway.security import AccessTokens, Passwords

C = TypeVar("C", bound=Command[Any])
R = TypeVar("R", bound=BaseModel)

bearer = HTTPBearer(
    auto_error=False, description="Access token from /api/auth/login, or a personal API key"
)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_bus(request: Request) -> Bus:
    return request.app.state.bus  # type: ignore[no-any-return]


async def get_access_tokens(request: Request) -> AccessTokens:
    return request.app.state.access_tokens  # type: ignore[no-any-return]


async def get_passwords(request: Request) -> Passwords:
    return request.app.state.passwords  # type: ignore[no-any-return]


async def current_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UUID:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    access_tokens: AccessTokens = request.app.state.access_tokens
    token = credentials.credentials
    if token.startswith(KEY_PREFIX):
        user_id = await access_tokens.keys.resolve(request.app.state.bus, token)
        if user_id in access_tokens.disabled:
            user_id = None
    else:
        user_id = access_tokens.verify(token)
    if user_id is None:
        raise HTTPException(401, "Invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return user_id


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Same key from the same user: the first result, nothing applied twice",
        ),
    ] = None,
) -> str:
    """The command id: the client's key when given, else a fresh one."""
    return f"key:{key}" if key else str(uuid4())


def envelope(request: Request, user_id: UUID | None) -> Envelope:
    """A new conversation's envelope with the request's correlation id (see `correlation`):
    X-Request-ID when it is a UUID, else one id made once per request."""
    correlation = request.scope.get("state", {}).get("correlation_id")
    if correlation is None:  # an app built without the middleware (some tests)
        correlation = correlation_from(request.headers.get("x-request-id"))
    return Envelope(correlation_id=correlation, user_id=user_id)


UserId = Annotated[UUID, Depends(current_user_id)]


async def user_envelope(request: Request, user_id: UserId) -> Envelope:
    """The envelope of the signed-in user's request, for a route that sends one message."""
    return envelope(request, user_id)


Meta = Annotated[Envelope, Depends(user_envelope)]
BusDep = Annotated[Bus, Depends(get_bus)]
CommandId = Annotated[str, Depends(idempotency_key)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AccessTokensDep = Annotated[AccessTokens, Depends(get_access_tokens)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]


@dataclass(frozen=True, slots=True)
class Sender:
    """How a route sends the one command it makes: with the signed-in user's envelope and the
    request's command id (its Idempotency-Key), so no route assembles them by hand."""

    bus: Bus
    meta: Envelope
    command_id: str

    def command(self, kind: type[C], **fields: Any) -> C:
        return kind(meta=self.meta, command_id=self.command_id, **fields)

    async def __call__(self, kind: type[Command[R]], **fields: Any) -> R:
        """The command's reply as its reply model (a refusal raises its HTTP status)."""
        return await self.bus.call(self.command(kind, **fields))


async def sender(bus: BusDep, meta: Meta, command_id: CommandId) -> Sender:
    return Sender(bus, meta, command_id)


Send = Annotated[Sender, Depends(sender)]
