"""Read model `users`: one row per registered user (email unique), with its role, whether it
is disabled, and its token quotas (None: unlimited)."""

from __future__ import annotations

from threads.projections.changes import ChangeFn, Changes, Definition, Event
from threads.store.tables import users


def user_registered(out: Changes, event: Event) -> None:
    d = event.data
    row = {
        "id": d["user_id"],
        "email": d["email"],
        "display_name": d.get("display_name"),
        "password_hash": d["password_hash"],
        "created_at": event.recorded_at,
        "role": "user",
        "disabled": False,
        "tokens_per_day": None,
        "tokens_per_month": None,
    }
    out.insert(users, row)


def _sets(**fixed: object) -> ChangeFn:
    """The change that sets the user's columns: `fixed` values, else the event's fields."""

    def change(out: Changes, event: Event) -> None:
        d = event.data
        values = fixed or {k: d[k] for k in d if k != "user_id"}
        out.update(users, d["user_id"], set=dict(values))

    return change


CHANGES: Definition = {
    "UserRegistered": user_registered,
    "UserRoleSet": _sets(),
    "UserDisabled": _sets(disabled=True),
    "UserEnabled": _sets(disabled=False),
    "UserQuotaSet": _sets(),
}
