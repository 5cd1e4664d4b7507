"""The user aggregate (stream `user-<id>`): registration, role, disabling, quotas.

Who may change whom is decided here from the read model's rows (the acting admin's, the
target's) and the count of enabled admins, which the handler reads under the deployment's
admin lock (`ADMINS_LOCK`), so two admins demoting each other cannot both succeed.
"""

from __future__ import annotations

from typing import Any

from contracts.base import DomainEvent
from contracts.commands import RegisterUser, UpdateUser
from contracts.events import UserDisabled, UserEnabled, UserQuotaSet, UserRegistered, UserRoleSet
from threads.domain.errors import conflict, forbidden

# The advisory lock (a stream lock's name, see `store.locks`) held by whatever may make the
# first admin or end the last one: a first registration and a change of an admin.
ADMINS_LOCK = "deployment-admins"


def stream_id(user_id: object) -> str:
    return f"user-{user_id}"


def decide_register(
    version: int, cmd: RegisterUser, *, email_taken: bool, first: bool = False
) -> list[DomainEvent]:
    """`first`: no account exists yet (read under ADMINS_LOCK), so this one is the admin."""
    if version != 0 or email_taken:
        raise conflict("Email already registered")
    events: list[DomainEvent] = [
        UserRegistered(
            user_id=cmd.user_id,
            email=cmd.email,
            display_name=cmd.display_name,
            password_hash=cmd.password_hash,
        )
    ]
    if first:
        events.append(UserRoleSet(user_id=cmd.user_id, role="admin"))
    return events


def require_admin(actor: Any) -> None:
    """`actor`: the acting user's row (None: unknown). Disabled admins are no admins."""
    if actor is None or actor.role != "admin" or actor.disabled:
        raise forbidden("Admins only")


def decide_role(target: Any, role: str, *, enabled_admins: int) -> list[DomainEvent]:
    if target.role == role:
        return []
    if role != "admin" and not target.disabled and enabled_admins <= 1:
        raise conflict("The last admin cannot be removed")
    return [UserRoleSet(user_id=target.id, role=role)]  # type: ignore[arg-type]


def decide_update(
    actor: Any, target: Any, cmd: UpdateUser, *, enabled_admins: int
) -> list[DomainEvent]:
    """An admin's PATCH, all of it or nothing. The last enabled admin can be neither demoted
    nor disabled (the deployment would have no admin but through the CLI)."""
    require_admin(actor)
    events: list[DomainEvent] = []
    removes_admin = (
        target.role == "admin"
        and not target.disabled
        and (cmd.role == "user" or cmd.disabled is True)
    )
    if removes_admin and enabled_admins <= 1:
        raise conflict("The last admin cannot be removed")
    if cmd.role is not None and cmd.role != target.role:
        events.append(UserRoleSet(user_id=target.id, role=cmd.role))
    if cmd.disabled is not None and cmd.disabled != target.disabled:
        kind = UserDisabled if cmd.disabled else UserEnabled
        events.append(kind(user_id=target.id))
    if cmd.quota is not None:
        day = cmd.quota.get("tokens_per_day", target.tokens_per_day)
        month = cmd.quota.get("tokens_per_month", target.tokens_per_month)
        if (day, month) != (target.tokens_per_day, target.tokens_per_month):
            events.append(
                UserQuotaSet(user_id=target.id, tokens_per_day=day, tokens_per_month=month)
            )
    return events
