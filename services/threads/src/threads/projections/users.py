"""Read model `users`: one row per registered user (email unique)."""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event
from threads.store.tables import users


def user_registered(out: Changes, event: Event) -> None:
    d = event.data
    row = {
        "id": d["user_id"],
        "email": d["email"],
        "display_name": d.get("display_name"),
        "password_hash": d["password_hash"],
        "created_at": event.recorded_at,
    }
    out.insert(users, row)


CHANGES: Definition = {"UserRegistered": user_registered}
