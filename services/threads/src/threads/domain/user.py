"""The user aggregate (stream `user-<id>`): registration only, for now."""

from __future__ import annotations

from contracts.commands import RegisterUser
from contracts.events import UserRegistered
from threads.domain.errors import conflict


def stream_id(user_id: object) -> str:
    return f"user-{user_id}"


def decide_register(version: int, cmd: RegisterUser, *, email_taken: bool) -> list[UserRegistered]:
    if version != 0 or email_taken:
        raise conflict("Email already registered")
    return [
        UserRegistered(
            user_id=cmd.user_id,
            email=cmd.email,
            display_name=cmd.display_name,
            password_hash=cmd.password_hash,
        )
    ]
