"""A request lost on its way to the workers still ends with exactly one outcome.

The threads service runs as `threads serve` runs it, with a quick sweeper, on a database and a
NATS server of its own (the sweeper looks at every answer of its database). A chat is posted
while no worker listens, and its relayed AssistantMessageRequested is deleted from EVENTS, as a
cluster that lost an unsynced write would. The sweeper republishes it, and a worker started
afterwards answers it; with no worker at all, the sweeper records the answer failed
(`request_lost`). Either way one outcome event is stored, and sweeping on changes nothing."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio
from sqlalchemy import select

from chat_worker.bootstrap import bootstrap
from chat_worker.config import Settings as WorkerSettings
from contracts.commands import PostChat
from contracts.subjects import EVENTS_STREAM
from devstack.nats import start_nats
from tests.support.chats import post_echo_chat
from tests.support.database import create_migrated_database
from tests.support.servers import Infra, free_port
from threads.bootstrap import running_service
from threads.config import Settings
from threads.service import ThreadsService
from threads.store.tables import events, messages

AGE = 1.0  # the sweeper's: republished after a second, failed a second after that
OUTCOMES = ("AssistantMessageCompleted", "AssistantMessageFailed", "AssistantMessageCancelled")


@dataclass
class Scene:
    service: ThreadsService
    nats_url: str


@pytest.fixture(scope="module")
def sweeper_database(infra: Infra) -> str:
    return create_migrated_database(infra.admin_dsn, prefix="sb_sweeper")


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    server = start_nats(
        tmp_path / "nats", free_port(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        yield server.url
    finally:
        server.stop()


@pytest_asyncio.fixture
async def scene(sweeper_database: str, nats_url: str) -> AsyncIterator[Scene]:
    settings = Settings(
        database_url=sweeper_database, nats_url=nats_url, sweeper_interval=0.2, sweeper_age=AGE
    )
    async with running_service(settings) as service:
        yield Scene(service, nats_url)


async def lost_request(scene: Scene) -> PostChat:
    """A chat posted, its request relayed to EVENTS and then deleted from the stream."""
    cmd = await post_echo_chat(scene.service.uow, "Is anyone there?")
    nc = await nats.connect(scene.nats_url)
    try:
        js = nc.jetstream()
        subject = f"events.thread.{cmd.thread_id}.AssistantMessageRequested"
        for _ in range(100):  # the relay publishes right after the commit
            try:
                stored = await js.get_last_msg(EVENTS_STREAM, subject)
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the request was never relayed")
        assert str(cmd.assistant_message_id) in (stored.data or b"").decode()
        assert await js.delete_msg(EVENTS_STREAM, stored.seq)
    finally:
        await nc.close()
    return cmd


async def answer_row(scene: Scene, message_id: uuid.UUID, until: str) -> dict[str, Any]:
    for _ in range(200):
        async with scene.service.engine.connect() as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).one()
        if row.status == until:
            return dict(row._mapping)
        await asyncio.sleep(0.1)
    raise AssertionError(f"answer still {row.status}, not {until}")


async def outcome_events(scene: Scene, message_id: uuid.UUID) -> list[str]:
    async with scene.service.engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.event_type).where(
                events.c.event_type.in_(OUTCOMES),
                events.c.data["message_id"].astext == str(message_id),
            )
        )
        return [r.event_type for r in rows]


async def test_a_lost_request_is_republished_and_answered_once(scene: Scene) -> None:
    cmd = await lost_request(scene)
    worker = await bootstrap(WorkerSettings(nats_url=scene.nats_url))
    await worker.start()
    try:
        row = await answer_row(scene, cmd.assistant_message_id, "complete")
    finally:
        await worker.stop()
    assert row["content"] == "Echo: Is anyone there?"
    await asyncio.sleep(3 * AGE)  # sweeps go on: nothing more is republished nor recorded
    assert await outcome_events(scene, cmd.assistant_message_id) == ["AssistantMessageCompleted"]


async def test_a_lost_request_nobody_answers_is_failed_once(scene: Scene) -> None:
    cmd = await lost_request(scene)
    row = await answer_row(scene, cmd.assistant_message_id, "failed")
    assert row["content"] == ""
    assert row["metadata"]["error_code"] == "request_lost"
    await asyncio.sleep(3 * AGE)
    assert await outcome_events(scene, cmd.assistant_message_id) == ["AssistantMessageFailed"]
