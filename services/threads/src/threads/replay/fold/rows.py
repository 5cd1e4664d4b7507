"""The rows of each read model as the bulk phase holds them: one class per table, its fields the
table's columns in order (a unit test checks), so a row is COPYed as it stands.

Timestamps are `Micros`: PostgreSQL's own representation, microseconds since 2000-01-01 UTC
(what its binary format carries), compared and COPYed as integers.

JSONB columns hold JSON text. `jsonb(None)` is the text `null`, not SQL NULL: that is what the
live projections store when they pass None for a JSONB column (SQLAlchemy's JSON type binds None
as JSON null); a column the projection leaves out stays None here, SQL NULL there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

Micros = int  # a timestamptz: microseconds since 2000-01-01 00:00 UTC


def _lost_precision(value: Any) -> bool:
    """A float as large as 2**63 somewhere in `value`: orjson reads an integer beyond 64 bits
    as a float; the live path kept it exact. (Ordinary floats read the same either way.)"""
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is float and abs(v) >= 9.2e18:
            return True
        if kind is dict:
            stack.extend(v.values())
        elif kind is list:
            stack.extend(v)
    return False


def jsonb(value: Any) -> str:
    """JSON text of `value`, exactly as the projections write it."""
    if value is None:
        return "null"
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):  # an integer beyond 64 bits, say
        return json.dumps(value)


def exact(value: Any, raw: str, key: str) -> Any:
    """`value`, the field `key` of the event data `raw` as orjson decoded it, or decoded again by
    the standard library (integers of any size exact) if it may have lost precision."""
    if value is None or not _lost_precision(value):
        return value
    return json.loads(raw)[key]


def json_field(data: dict[str, Any], raw: str, key: str) -> str:
    """The JSONB text a projection writes for the event's field `key` (absent or None: `null`)."""
    value = data.get(key)
    return "null" if value is None else jsonb(exact(value, raw, key))


@dataclass(slots=True)
class UserRow:
    id: str
    email: str
    display_name: str | None
    password_hash: str
    created_at: Micros


@dataclass(slots=True)
class ProjectRow:
    id: str
    user_id: str
    name: str
    description: str | None
    thread_count: int
    created_at: Micros
    updated_at: Micros
    last_activity_at: Micros


@dataclass(slots=True)
class ThreadRow:
    id: str
    user_id: str
    project_id: str | None
    project_name: str | None
    title: str
    model_provider: str
    model: str
    thread_type: str
    agent_type: str
    message_count: int
    created_at: Micros
    updated_at: Micros
    last_activity_at: Micros


@dataclass(slots=True)
class MessageRow:
    id: str
    seq: int
    thread_id: str
    user_id: str | None
    role: str
    content: str
    artifact_data: str | None
    metadata: str | None
    status: str
    provider: str | None
    model: str | None
    usage: str | None
    attempt: int
    created_at: Micros


@dataclass(slots=True)
class DocumentRow:
    id: str
    user_id: str
    project_id: str | None
    thread_id: str | None
    filename: str
    content_type: str
    size: int
    content: str
    created_at: Micros


@dataclass(slots=True)
class ProviderSettingRow:
    user_id: str
    provider: str
    base_url: str | None
    enabled: bool
    key_set: bool
    key_hint: str | None
    updated_at: Micros


@dataclass(slots=True)
class TaskRouteRow:
    user_id: str
    task: str
    provider: str
    model: str
