"""The envelope every message carries across NATS, and the base classes of commands and events.

The envelope answers "who asked, in answer to what, as part of which conversation": the
correlation id follows one user request across every hop; the causation id names the message
that directly caused this one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Generic
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeVar


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: UUID = Field(default_factory=uuid4)
    correlation_id: UUID = Field(default_factory=uuid4)
    causation_id: UUID | None = None
    user_id: UUID | None = None
    sent_at: datetime = Field(default_factory=utcnow)

    def caused(self, *, user_id: UUID | None = None) -> Envelope:
        """An envelope for a message caused by the one carrying this envelope."""
        return Envelope(
            correlation_id=self.correlation_id,
            causation_id=self.message_id,
            user_id=user_id if user_id is not None else self.user_id,
        )


class Message(BaseModel):
    """Anything sent over NATS. `schema_version` lets a reader upcast older shapes."""

    model_config = ConfigDict(extra="ignore")

    # A subclass whose shape changes redeclares this with the next number.
    schema_version: int = 1


R = TypeVar("R", bound=BaseModel, default=BaseModel, covariant=True)


class Request(Message, Generic[R]):
    """A message sent with NATS request/reply. Each concrete request names its `subject` and,
    as its type parameter, the model of its reply's `data` (`PostChat(Command[ChatStartedView])`):
    the route that serves it and the caller that sends it both read them from here, so a
    subject is declared once and `bus.call(request)` returns a typed reply."""

    subject: ClassVar[str]
    meta: Envelope = Field(default_factory=Envelope)

    @classmethod
    def reply_model(cls) -> type[BaseModel]:
        """The model of a successful reply's `data` (the type parameter)."""
        for klass in cls.__mro__:
            args: tuple[Any, ...] = getattr(klass, "__pydantic_generic_metadata__", {}).get(
                "args", ()
            )
            if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
                return args[0]
        return BaseModel


class Command(Request[R], Generic[R]):
    """An order to the threads service. `command_id` makes it idempotent: the same id from the
    same user gets the first reply again and changes nothing more (HTTP `Idempotency-Key`)."""

    command_id: str = Field(default_factory=lambda: str(uuid4()), max_length=255)


class Query(Request[R], Generic[R]):
    """A question answered from read models (or the chat worker's catalogue); never changes
    anything."""


class DomainEvent(Message):
    """Something that happened; past tense, immutable. Its type name is its class name."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # Fields kept in the event store but never published on the bus (secrets of one service).
    private_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__
