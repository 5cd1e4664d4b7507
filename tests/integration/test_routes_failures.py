"""The threads service's request server: a command whose handling fails unexpectedly is
answered at once (503-coded, nothing applied) rather than left for the gateway to time out on,
and a body that is not a JSON object gets an `invalid` reply, never silence.

The service under test listens on a NATS server of its own: on the session's server, the
running stack's threads service shares the queue group and could answer in its place."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import nats
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import subjects
from contracts.commands import RegisterUser
from contracts.replies import Reply
from devstack.nats import start_nats
from tests.support.servers import free_port
from threads.bootstrap import build_service
from threads.config import Settings
from threads.entrypoints.nats_routes import build_routes
from threads.entrypoints.request_server import RequestServer
from threads.store.event_store import StoredEvent
from threads.store.tables import events


async def test_a_failing_command_is_answered_at_once_and_applies_nothing(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    own_nats = start_nats(
        tmp_path / "nats",
        free_port(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        sync_always=False,
    )
    try:
        await _fails_at_once(own_nats.url, database_url, engine)
    finally:
        own_nats.stop()


async def _fails_at_once(nats_url: str, database_url: str, engine: AsyncEngine) -> None:
    service = build_service(Settings(database_url=database_url, nats_url=nats_url), engine)

    async def broken_projection(conn: AsyncConnection, event: StoredEvent) -> None:
        raise RuntimeError("a bug in a projection")

    service.uow.project = broken_projection
    nc = await nats.connect(nats_url)
    server = RequestServer(nc, build_routes(service), subjects.THREADS_QUEUE)
    await server.start()
    try:
        user_id = uuid.uuid4()
        cmd = RegisterUser(user_id=user_id, email=f"{user_id}@example.com", password_hash="h")
        started = time.monotonic()
        msg = await nc.request(subjects.USER_REGISTER, cmd.model_dump_json().encode(), timeout=5)
        elapsed = time.monotonic() - started
    finally:
        await server.stop()
        await nc.close()
    reply = Reply.model_validate(orjson.loads(msg.data))
    assert not reply.ok
    assert reply.error is not None and reply.error.code == "unavailable"
    assert "bug" not in reply.error.detail  # internals stay in our log
    assert elapsed < 5
    async with engine.connect() as conn:
        n = await conn.scalar(
            select(func.count()).select_from(events).where(events.c.stream_id == f"user-{user_id}")
        )
    assert n == 0


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"", b'"a string"'])
async def test_a_body_that_is_not_a_json_object_gets_an_invalid_reply(
    tmp_path: Path, database_url: str, engine: AsyncEngine, body: bytes
) -> None:
    own_nats = start_nats(
        tmp_path / "nats",
        free_port(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        sync_always=False,
    )
    service = build_service(Settings(database_url=database_url, nats_url=own_nats.url), engine)
    nc = await nats.connect(own_nats.url)
    server = RequestServer(nc, build_routes(service), subjects.THREADS_QUEUE)
    try:
        await server.start()
        msg = await nc.request(subjects.USER_REGISTER, body, timeout=5)
        reply = Reply.model_validate(orjson.loads(msg.data))
        assert not reply.ok
        assert reply.error is not None and reply.error.code == "invalid"
    finally:
        await server.stop()
        await nc.close()
        own_nats.stop()
