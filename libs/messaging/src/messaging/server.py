"""Serves a `RouteTable` with plain nats-py: decode, call the handler, respond.

A bare subscription per subject rather than a framework's per-message pipeline (decoder,
argument resolution, middlewares), which every request and the first token of every chat would
pay for (docs/benchmarks.md, "NATS request path"). nats-py runs a subscription's callbacks one
after another, so each request gets its own task, at most `max_in_flight` per subject; beyond
that, messages wait in the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.errors import ErrorCode
from contracts.replies import Reply
from messaging.routes import Answer, BodyHandler, Consume, Listen, RouteTable

log = structlog.get_logger(__name__)
STOP_GRACE = 5.0  # seconds requests under way get to finish when the service stops
NOT_AN_OBJECT = orjson.dumps(
    Reply.failure(ErrorCode.INVALID, "body: expected a JSON object").model_dump(mode="json")
)


def encode_reply(reply: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(reply)
    except TypeError:  # integers past 64 bits, which JSONB stores and orjson refuses
        import json

        return json.dumps(reply, ensure_ascii=False).encode()


class RouteServer:
    def __init__(self, nc: NATS, table: RouteTable) -> None:
        self.nc = nc
        self.table = table
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._consumers: list[Consume] = []

    async def start(self) -> None:
        """Listeners first (a push must be heard before the request it goes with is fetched),
        then the request subjects (the NATS server has taken them all when this returns), then the
        JetStream consumers."""
        for listen in self.table.of(Listen):
            await self._listen(listen)
        for answer in self.table.of(Answer):
            await self._answer_on(answer)
        await self.nc.flush()
        for consume in self.table.of(Consume):
            await consume.consumer.start(self.nc)
            self._consumers.append(consume)

    async def _listen(self, route: Listen) -> None:
        sub = await self.nc.subscribe(route.subject, queue=route.queue or "", cb=route.handler)
        self._subs.append(sub)

    async def _answer_on(self, route: Answer) -> None:
        slots = asyncio.Semaphore(route.max_in_flight)
        handler = route.handler

        async def take(msg: Msg) -> None:
            await slots.acquire()
            task = asyncio.create_task(self._answer(handler, msg, slots))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._subs.append(await self.nc.subscribe(route.subject, queue=route.queue, cb=take))

    async def _answer(self, handler: BodyHandler, msg: Msg, slots: asyncio.Semaphore) -> None:
        try:
            try:
                body = orjson.loads(msg.data)
            except orjson.JSONDecodeError:
                body = None
            reply = encode_reply(await handler(body)) if isinstance(body, dict) else NOT_AN_OBJECT
            if msg.reply:
                await msg.respond(reply)
        except Exception:
            # The handlers answer every failure themselves; this is a dropped connection.
            log.exception("request not answered", subject=msg.subject)
        finally:
            slots.release()

    async def stop(self) -> None:
        """No new messages; requests under way get `STOP_GRACE` seconds to answer; consumers
        stop (handing back what they hold)."""
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        for consume in self._consumers:
            with contextlib.suppress(Exception):
                await consume.consumer.stop()
        self._consumers.clear()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
