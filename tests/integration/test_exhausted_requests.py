"""A request that runs out of deliveries unanswered is failed, not left `streaming` forever.

The threads service (`wired`, see conftest) and a chat worker's real parts run against a real
NATS server and Postgres. A "dead worker" takes the only delivery the consumer allows and never
acknowledges it; JetStream's MAX_DELIVERIES advisory then reaches the worker, which records the
answer as failed and ends its token stream with `error`. An answer that got its outcome in the
meantime keeps it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from nats.js import JetStreamContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from chat_worker.answering.token_stream import TokenStreams
from chat_worker.bootstrap import bootstrap
from chat_worker.config import Settings as WorkerSettings
from chat_worker.streams import provision_consumer, provision_tokens_stream
from contracts.commands import CompleteAssistantMessage, PostChat
from contracts.subjects import CHAT_WORKER_DURABLE, EVENTS_STREAM, REQUEST_EXHAUSTED_ADVISORY
from messaging.routes import Listen, RouteTable
from messaging.server import RouteServer
from tests.integration.conftest import Wired
from tests.support.chats import post_echo_chat
from threads.handlers import complete_assistant_message
from threads.store.tables import messages


@dataclass
class Scene:
    wired: Wired
    js: JetStreamContext  # the worker's
    tokens: TokenStreams
    dead: JetStreamContext.PullSubscription  # takes deliveries and never acknowledges them


@pytest_asyncio.fixture
async def scene(wired: Wired) -> AsyncIterator[Scene]:
    settings = WorkerSettings(
        nats_url=wired.nats_url, max_deliver=1, backoff=[], ack_wait=1.0, heartbeat_interval=0.2
    )
    worker = await bootstrap(settings)
    # The worker's own advisory route alone: the dead worker is the only one taking requests.
    advisory = [r for r in worker.routes.of(Listen) if r.subject == REQUEST_EXHAUSTED_ADVISORY]
    server = RouteServer(worker.nc, RouteTable(worker.routes.service, advisory))
    dead: JetStreamContext.PullSubscription | None = None
    try:
        await provision_tokens_stream(worker.js, settings)
        await provision_consumer(worker.js, settings)
        await server.start()
        dead = await worker.js.pull_subscribe_bind(
            durable=CHAT_WORKER_DURABLE, stream=EVENTS_STREAM
        )
        yield Scene(wired, worker.js, TokenStreams(worker.js, settings.request_timeout), dead)
    finally:
        if dead is not None:  # a pull subscription left behind would hold up the drain
            await dead.unsubscribe()
        await server.stop()
        await worker.stop()


async def _requested(scene: Scene) -> PostChat:
    """A chat posted, and its request taken by the dead worker."""
    cmd = await post_echo_chat(scene.wired.service.uow, "Anyone there?")
    [msg] = await scene.dead.fetch(1, timeout=5)
    assert str(cmd.assistant_message_id) in msg.data.decode()
    return cmd


async def _status(engine: AsyncEngine, message_id: uuid.UUID, waiting_for: str) -> dict[str, Any]:
    for _ in range(100):
        async with engine.connect() as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).one()
        if row.status == waiting_for:
            break
        await asyncio.sleep(0.1)
    return dict(row._mapping)


async def test_a_request_out_of_deliveries_is_failed_and_its_stream_ends(
    scene: Scene, engine: AsyncEngine
) -> None:
    cmd = await _requested(scene)
    row = await _status(engine, cmd.assistant_message_id, "failed")
    assert row["status"] == "failed"
    assert row["content"] == ""
    assert row["metadata"]["error_code"] == "provider_unavailable"
    last = await scene.tokens.last_token(cmd.thread_id, cmd.assistant_message_id)
    assert last is not None and last["kind"] == "error"
    assert last["code"] == "provider_unavailable"


async def test_an_answer_recorded_before_the_advisory_keeps_its_outcome(
    scene: Scene, engine: AsyncEngine
) -> None:
    cmd = await _requested(scene)
    # Its worker recorded the outcome, then died before acknowledging the delivery.
    reply = await scene.wired.service.uow.run(
        CompleteAssistantMessage(
            meta=cmd.meta,
            thread_id=cmd.thread_id,
            message_id=cmd.assistant_message_id,
            content="Here I am",
            finish_reason="stop",
        ),
        complete_assistant_message.handle,
    )
    assert reply.ok, reply.error
    with capture_logs() as logs:  # the worker's word that it heard the advisory and kept it
        for _ in range(100):
            if any(e["event"] == "exhausted answer keeps the outcome it had" for e in logs):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the advisory was not handled")
    row = await _status(engine, cmd.assistant_message_id, "complete")
    assert (row["status"], row["content"]) == ("complete", "Here I am")
    assert await scene.tokens.last_token(cmd.thread_id, cmd.assistant_message_id) is None
