"""Fold of `threads.projections.users`: one row per registered user."""

from __future__ import annotations

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import UserRow
from threads.replay.fold.state import Event, ReadModels


def user_registered(m: ReadModels, event: Event) -> None:
    d = event.data
    m.users[d["user_id"]] = UserRow(
        d["user_id"], d["email"], d.get("display_name"), d["password_hash"], event.recorded_at
    )


HANDLERS: dict[str, FoldFn] = {"UserRegistered": user_registered}
