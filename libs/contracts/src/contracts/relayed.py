"""The JSON of an event on the JetStream stream EVENTS, as the threads service's outbox relay
publishes it (subject `events.<aggregate>.<id>.<EventType>`, see `subjects.event_subject`).

Headers: `Nats-Msg-Id` (the event id, for JetStream's duplicate window) and `correlation_id`
(the request that caused the event, when it has one). The relay builds this JSON by hand for
speed; this model states the shape for readers and for the AsyncAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

E = TypeVar("E")


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
