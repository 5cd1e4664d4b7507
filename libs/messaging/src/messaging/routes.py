"""A service's route table: every subject it serves, declared once.

Each entry says how the subject is served (request/reply, a plain subscription, a JetStream
pull consumer, or a publication the service makes) and what crosses it. `RouteServer` serves
the table on a nats-py connection; the AsyncAPI tool (`make asyncapi`) documents the same
table. Nothing else declares a subject, so the running service and its document cannot drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from pydantic import BaseModel

from contracts.base import Request

BodyHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
MsgHandler = Callable[[Msg], Awaitable[None]]
REPLIES = "Request/reply: answered with a `Reply` (contracts.replies), `data` or `error`."


class Consumer(Protocol):
    """A JetStream consumer loop of the service's own (its fetch policy is the service's)."""

    async def start(self, nc: NATS) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Answer:
    """Request/reply: a JSON object in, a `Reply` as JSON out."""

    subject: str
    handler: BodyHandler
    payload: type[BaseModel]
    reply: type[BaseModel] | None
    queue: str
    title: str
    description: str = REPLIES
    max_in_flight: int = 64  # messages of this subject handled at once


@dataclass(frozen=True)
class Listen:
    """A core NATS subscription that answers nothing (pushes, advisories, relayed events)."""

    subject: str
    handler: MsgHandler
    payload: type[BaseModel] | None
    title: str
    description: str
    queue: str | None = None


@dataclass(frozen=True)
class Consume:
    """A durable JetStream pull consumer, read by the service's own loop."""

    subject: str
    stream: str
    consumer: Consumer
    config: ConsumerConfig
    payload: type[BaseModel]
    title: str
    description: str
    max_in_flight: int = 1


@dataclass(frozen=True)
class Publish:
    """What the service publishes (no subscription): declared for the document only."""

    subject: str
    payload: type[BaseModel]
    title: str
    description: str


Route = Answer | Listen | Consume | Publish


@dataclass
class RouteTable:
    """One service's routes, in declaration order."""

    service: str
    routes: list[Route] = field(default_factory=list)

    def answer(
        self,
        request: type[Request[Any]],
        handler: BodyHandler,
        *,
        queue: str,
        max_in_flight: int = 64,
        title: str | None = None,
        description: str = REPLIES,
    ) -> None:
        """Serve `request` on its own `subject`, replying with its `reply_model`."""
        reply = request.reply_model()
        self.add(
            Answer(
                request.subject,
                handler,
                request,
                None if reply is BaseModel else reply,
                queue,
                title or request.__name__,
                description,
                max_in_flight,
            )
        )

    def add(self, route: Route) -> None:
        if any(r.subject == route.subject and type(r) is type(route) for r in self.routes):
            raise ValueError(f"{self.service}: {route.subject} declared twice")
        self.routes.append(route)

    def of(self, kind: type[Any]) -> list[Any]:
        return [r for r in self.routes if isinstance(r, kind)]
