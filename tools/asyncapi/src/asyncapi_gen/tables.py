"""A service's route table declared on a FastStream broker, for the document only.

FastStream writes the AsyncAPI document from a broker's subscribers and publishers. Each entry
of a `messaging.routes.RouteTable` becomes one of them, with the entry's payload model as its
message; the handlers are stand-ins that are never called (the broker never connects: the
service serves its table itself with `messaging.server.RouteServer`).
"""

from __future__ import annotations

from typing import Any

from faststream.nats import JStream, NatsBroker, PullSub
from pydantic import BaseModel

from messaging.routes import Answer, Consume, Listen, Publish, Route, RouteTable

DOCUMENT_SERVER = "nats://127.0.0.1:4222"  # the local default, so the document is stable


def broker_for(table: RouteTable, *, url: str = DOCUMENT_SERVER) -> NatsBroker:
    broker = NatsBroker(url, name=table.service)
    for route in table.routes:
        declare(broker, route)
    return broker


def declare(broker: NatsBroker, route: Route) -> None:
    if isinstance(route, Publish):
        broker.publisher(
            route.subject, title=route.title, description=route.description, schema=route.payload
        )
        return
    how: dict[str, Any] = {}
    if isinstance(route, Answer):
        how = {"queue": route.queue}
    elif isinstance(route, Listen):
        how = {"queue": route.queue or "", "no_reply": True}
    elif isinstance(route, Consume):
        how = {
            "stream": JStream(route.stream, declare=False),
            "durable": route.config.durable_name,
            "config": route.config,
            "pull_sub": PullSub(batch_size=1),
        }
    broker.subscriber(  # type: ignore[call-overload]
        route.subject, title=route.title, description=route.description, **how
    )(_stand_in(route.payload))


def _stand_in(payload: type[BaseModel] | None) -> Any:
    """A handler whose one parameter is typed as `payload`: what FastStream documents."""

    async def handler(body: Any) -> None:
        raise RuntimeError("documentation only")

    handler.__annotations__ = {"body": payload if payload is not None else Any, "return": None}
    return handler
