"""Read model `users`: one row per registered user (email unique)."""

from __future__ import annotations

from threads.projections.changes import Change, Definition, Event, Insert
from threads.store.tables import users


def user_registered(event: Event) -> list[Change]:
    d = event.data
    return [
        Insert(
            users,
            {
                "id": d["user_id"],
                "email": d["email"],
                "display_name": d.get("display_name"),
                "password_hash": d["password_hash"],
                "created_at": event.recorded_at,
            },
        )
    ]


CHANGES: Definition = {"UserRegistered": user_registered}
