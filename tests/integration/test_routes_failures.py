"""The threads service's routes as `running_service` serves them: a command whose handling
fails unexpectedly is answered at once (503-coded, nothing applied) rather than left for the
gateway to time out on, and a body that is not a JSON object gets an `invalid` reply, never
silence.

The service under test listens on a NATS server of its own (on the session's server, the
running stack's threads service shares the queue group and could answer in its place), with
the relay lock held (`relay_lock`)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.commands import RegisterUser
from contracts.replies import Reply
from devstack.nats import start_nats
from tests.support.servers import free_port
from threads.bootstrap import running_service
from threads.config import Settings
from threads.store.event_store import StoredEvent
from threads.store.tables import events


async def test_a_failing_command_is_answered_at_once_and_applies_nothing(
    tmp_path: Path, database_url: str, engine: AsyncEngine, relay_lock: None
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


class BrokenProjector:
    """A bug in a projection: every append fails inside its transaction."""

    async def __call__(self, conn: AsyncConnection, event: StoredEvent) -> None:
        raise RuntimeError("a bug in a projection")

    async def project_all(self, conn: AsyncConnection, events: Sequence[StoredEvent]) -> None:
        raise RuntimeError("a bug in a projection")


async def _fails_at_once(nats_url: str, database_url: str, engine: AsyncEngine) -> None:
    settings = Settings(database_url=database_url, nats_url=nats_url)
    broken: Any = BrokenProjector()
    nc = await nats.connect(nats_url)
    try:
        async with running_service(settings, engine=engine, projector=broken):
            # A round trip first: a connection's first request right after another one
            # subscribed can still find no responder.
            await nc.flush()
            user_id = uuid.uuid4()
            cmd = RegisterUser(user_id=user_id, email=f"{user_id}@example.com", password_hash="h")
            started = time.monotonic()
            msg = await nc.request(cmd.subject, cmd.model_dump_json().encode(), timeout=5)
            elapsed = time.monotonic() - started
    finally:
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
    tmp_path: Path, database_url: str, engine: AsyncEngine, relay_lock: None, body: bytes
) -> None:
    own_nats = start_nats(
        tmp_path / "nats",
        free_port(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        sync_always=False,
    )
    settings = Settings(database_url=database_url, nats_url=own_nats.url)
    try:
        nc = await nats.connect(own_nats.url)
        try:
            async with running_service(settings, engine=engine):
                await nc.flush()  # as in `_fails_at_once`
                msg = await nc.request(RegisterUser.subject, body, timeout=5)
        finally:
            await nc.close()
        reply = Reply.model_validate(orjson.loads(msg.data))
        assert not reply.ok
        assert reply.error is not None and reply.error.code == "invalid"
    finally:
        own_nats.stop()
