"""The JSON of an event on the JetStream stream EVENTS, as the threads service's outbox relay
publishes it (subject `events.<aggregate>.<id>.<EventType>`, see `subjects.event_subject`).

Headers: `Nats-Msg-Id` (the event id, for JetStream's duplicate window) and `correlation_id`
(the request that caused the event, when it has one). The relay encodes with `encode_relayed`
and every reader decodes with `decode_relayed` (then validates `data` as the event it names);
`RelayedEvent` states the shape for readers and for the AsyncAPI document.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Generic, TypedDict, TypeVar, cast
from uuid import UUID

import orjson
from pydantic import BaseModel

from contracts.base import DomainEvent

E = TypeVar("E")
D = TypeVar("D", bound=DomainEvent)


class RelayedEvent(BaseModel, Generic[E]):
    """`data` is the event named by `type` (`contracts.events`), without its
    `schema_version`, which is given beside it."""

    event_id: UUID
    type: str
    schema_version: int
    stream_id: str
    version: int
    position: int
    recorded_at: datetime
    data: E
    metadata: dict[str, Any]  # user_id, correlation_id, causation_id, command_id


class RelayedFields(TypedDict):
    """A decoded relayed event: the fields of `RelayedEvent`, as JSON gives them."""

    event_id: str
    type: str
    schema_version: int
    stream_id: str
    version: int
    position: int
    recorded_at: str
    data: dict[str, Any]
    metadata: dict[str, Any]


def encode_relayed(
    *,
    event_id: UUID,
    event_type: str,
    schema_version: int,
    stream_id: str,
    version: int,
    position: int,
    recorded_at: datetime,
    data: dict[str, Any],
    metadata: dict[str, Any],
) -> bytes:
    payload = {
        "event_id": str(event_id),
        "type": event_type,
        "schema_version": schema_version,
        "stream_id": stream_id,
        "version": version,
        "position": position,
        "recorded_at": recorded_at.isoformat(),
        "data": data,
        "metadata": metadata,
    }
    try:
        return orjson.dumps(payload)
    except TypeError:
        # What orjson refuses (integers past 64 bits, which JSONB stores): one odd event must
        # never stall the relay for everyone behind it.
        return json.dumps(payload, ensure_ascii=False).encode()


def decode_relayed(raw: bytes | None) -> RelayedFields:
    """Raises `ValueError` on bytes that are not a relayed event."""
    decoded = orjson.loads(raw or b"")
    if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), dict):
        raise ValueError("relayed event: expected a JSON object with `data`")
    return cast(RelayedFields, decoded)


def relayed_event(raw: bytes | None, model: type[D]) -> tuple[D, RelayedFields]:
    """The relayed event as `model`, with its record (metadata, ids). Raises `ValueError`
    (pydantic's `ValidationError` is one) when it is not that event."""
    record = decode_relayed(raw)
    return model.model_validate(record["data"]), record
