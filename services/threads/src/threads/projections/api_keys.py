"""Read models `api_keys` and `revoked_tokens`: the live personal keys by their keyed hash,
and the logged-out login tokens with the time they would have expired."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from threads.projections.changes import Changes, Definition, Event, deletes, fields
from threads.store.tables import api_keys, revoked_tokens

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # replay's timestamps: microseconds since then


def _time(event: Event, value: Any) -> datetime | int | None:
    """A time the event carries (ISO text), as its path binds one: a datetime live, `Micros`
    in replay (which holds `recorded_at` as such)."""
    if value is None:
        return None
    at = datetime.fromisoformat(value)
    if isinstance(event.recorded_at, datetime):
        return at
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def api_key_created(out: Changes, event: Event) -> None:
    d = event.data
    row = fields(d, "key_id", "user_id", "name", "prefix", "hash")
    row["created_at"] = event.recorded_at
    row["expires_at"] = _time(event, d.get("expires_at"))
    out.insert(api_keys, row)


def token_revoked(out: Changes, event: Event) -> None:
    d = event.data
    values = {"user_id": d["user_id"], "expires_at": _time(event, d["expires_at"])}
    out.upsert(revoked_tokens, {"jti": d["jti"], **values}, set=values)


CHANGES: Definition = {
    "ApiKeyCreated": api_key_created,
    "ApiKeyDeleted": deletes(api_keys, "key_id"),
    "TokenRevoked": token_revoked,
}
