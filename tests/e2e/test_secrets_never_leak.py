"""A recognisable API key goes in through PUT /api/providers/.../config and is then looked for
everywhere it must never appear: HTTP responses (including errors and the SSE chat stream), the
events (HTTP history, the raw table, the JetStream stream EVENTS), every other table in
plaintext, the services' log files, and the metrics output.

The stack is its own (database, NATS, services at DEBUG level with unbuffered output) and is
stopped before its logs are read, so every line any service wrote is on disk and looked at.

The provider it points at is hostile in the way real ones are: its 401 body quotes the rejected
key back ("Incorrect API key provided: sk-..."), so an adapter that passes error text through
would leak it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import orjson
import pytest
import pytest_asyncio
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.subjects import EVENTS_STREAM
from devstack.nats import start_nats
from tests.conftest import User, register, start_stack
from tests.support.database import create_migrated_database
from tests.support.servers import Infra, free_port
from tests.support.stack import Stack
from threads.store.tables import events, metadata, outbox, secrets


async def _hostile_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request with OpenAI's 401 shape, quoting the bearer token back."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
        length = int(headers.get(b"content-length", b"0") or 0)
        if length:
            await reader.readexactly(length)
        token = headers.get(b"authorization", b"").removeprefix(b"Bearer ").decode()
        body = orjson.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {token}. Find your key at ...",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        )
        writer.write(
            b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@dataclass
class Isolated:
    stack: Stack
    nats_url: str
    database_url: str


@pytest.fixture(scope="module")
def isolated(infra: Infra, artifacts_dir: Path) -> Iterator[Isolated]:
    root = Path(tempfile.mkdtemp(prefix="leakcheck-", dir=artifacts_dir))
    nats_server = start_nats(
        root / "nats",
        free_port(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        sync_always=False,
    )
    database_url = create_migrated_database(infra.admin_dsn, prefix="sb_leak")
    env = {
        "PYTHONUNBUFFERED": "1",
        "THREADS_LOG_LEVEL": "DEBUG",
        "GATEWAY_LOG_LEVEL": "DEBUG",
        "WORKER_LOG_LEVEL": "DEBUG",
    }
    try:
        stack = start_stack(
            Infra(infra.admin_dsn, nats_server.url), database_url, root, extra_env=env
        )
        try:
            yield Isolated(stack, nats_server.url, database_url)
        finally:
            stack.stop()
    finally:
        nats_server.stop()


@pytest_asyncio.fixture
async def hostile_provider() -> AsyncIterator[str]:
    server = await asyncio.start_server(_hostile_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/v1"
    server.close()
    with contextlib.suppress(Exception):
        await server.wait_closed()


async def models_when_ready(user: User, attempts: int = 150) -> httpx.Response:
    """GET /api/models once a chat worker answers (it may still be starting: 503)."""
    for _ in range(attempts):
        r = await user.get("/api/models")
        if r.status_code != 503:
            return r
        await asyncio.sleep(0.2)
    return r


def assert_absent(key: str, where: str, content: str | bytes) -> None:
    text = content.decode(errors="replace") if isinstance(content, bytes) else content
    assert key not in text, f"the API key leaked into {where}"
    # A key cut in half is still a leak: no run of 12 characters of it may appear either.
    body = key.removeprefix("sk-")
    for i in range(0, len(body) - 12, 4):
        assert body[i : i + 12] not in text, f"part of the API key leaked into {where}"


async def jetstream_messages(nats_url: str, subject: str) -> list[bytes]:
    """Every message on `subject` in EVENTS, read with an ephemeral consumer."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            subject,
            stream=EVENTS_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
        )
        found: list[bytes] = []
        while True:
            try:
                batch = await sub.fetch(256, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):  # nothing more to read
                return found
            found += [m.data for m in batch]
            for m in batch:
                await m.ack()
    finally:
        await nc.close()


@pytest.mark.timeout(120)
async def test_the_key_appears_nowhere(isolated: Isolated, hostile_provider: str) -> None:
    async with httpx.AsyncClient(base_url=isolated.stack.base_url, timeout=30) as client:
        await check_everything(await register(client), isolated, hostile_provider)


async def check_everything(user: User, isolated: Isolated, hostile_provider: str) -> None:
    key = f"sk-LEAKCHECK-{uuid.uuid4().hex}{uuid.uuid4().hex}"
    responses: list[tuple[str, str]] = []

    async def seen(what: str, response: httpx.Response) -> httpx.Response:
        responses.append((what, response.text))
        return response

    # -- the key goes in, through every path that takes it ------------------------------------
    r = await user.put(
        "/api/providers/openai/config", json={"api_key": key, "base_url": hostile_provider}
    )
    await seen("PUT reply", r)
    assert r.status_code == 200 and r.json()["key_hint"] == key[-4:]
    r = await user.put(  # a local base URL: a test never sends a key to a real provider
        "/api/providers/deepseek/config", json={"api_key": key, "base_url": hostile_provider}
    )
    await seen("PUT reply (deepseek)", r)
    # Refused requests carrying the key: the error must not quote it, and nothing is stored.
    r = await user.put(
        "/api/providers/anthropic/config", json={"api_key": key, "base_url": "ftp://nope"}
    )
    await seen("400 reply", r)
    assert r.status_code == 400
    r = await user.put("/api/providers/nope/config", json={"api_key": key})
    await seen("404 reply", r)
    assert r.status_code == 404
    r = await user.put("/api/providers/openai/config", json={"api_key": key + "x" * 1100})
    await seen("422 reply", r)
    assert r.status_code == 422
    r = await user.put("/api/providers/openai/config", json={"api_key": [key]})
    await seen("422 reply (wrong type)", r)
    assert r.status_code == 422

    # -- everything that reads it back or uses it ---------------------------------------------
    listed = await seen("GET /api/providers", await user.get("/api/providers"))
    assert {p["provider"]: p for p in listed.json()["providers"]}["anthropic"]["key_hint"] is None
    models = await models_when_ready(user)
    await seen("GET /api/models", models)
    assert models.status_code == 200, models.text
    assert "openai" in {e["provider"] for e in models.json()["errors"]}
    thread = (await user.post("/api/threads", json={"model_provider": "openai"})).json()
    chat = await user.post(f"/api/threads/{thread['id']}/chat", json={"content": "hello"})
    await seen("POST chat (SSE stream)", chat)
    assert chat.status_code == 200, chat.text
    assert "event: error" in chat.text  # the hostile provider refused the key
    detail = await user.get(f"/api/threads/{thread['id']}")
    await seen("GET thread with messages", detail)
    history = await user.get(f"/api/threads/{thread['id']}/events")
    await seen("GET thread events", history)
    assert history.status_code == 200
    metrics = await user.client.get("/metrics")
    await seen("GET /metrics", metrics)
    assert metrics.status_code == 200
    r = await user.delete("/api/providers/deepseek")
    await seen("DELETE reply", r)

    for what, body in responses:
        assert_absent(key, what, body)

    # -- storage: only the sealed row holds it, and not in plaintext --------------------------
    uid = uuid.UUID(user.id)
    engine = create_async_engine(isolated.database_url)
    async with engine.connect() as conn:
        sealed = (
            await conn.execute(select(secrets.c.ciphertext).where(secrets.c.user_id == uid))
        ).scalars()
        for blob in sealed:
            assert_absent(key, "provider_secrets ciphertext", bytes(blob))
        for table in metadata.sorted_tables:
            if table is secrets:
                continue
            hits = await conn.scalar(
                text(f'SELECT count(*) FROM "{table.name}" t WHERE t::text LIKE :p'),
                {"p": f"%{key[3:20]}%"},
            )
            assert hits == 0, f"the API key leaked into table {table.name}"
        provider_events = (
            await conn.execute(
                select(events.c.event_type, events.c.data).where(
                    events.c.stream_id == f"providers-{uid}"
                )
            )
        ).all()
    assert [e.event_type for e in provider_events].count("ProviderConfigured") == 2
    assert all(e.data["key_hint"] == key[-4:] for e in provider_events if "key_hint" in e.data)

    # -- the JetStream stream EVENTS, once the relay has caught up ----------------------------
    for _ in range(100):
        async with engine.connect() as conn:
            pending = await conn.scalar(select(text("count(*)")).select_from(outbox))
        if not pending:
            break
        await asyncio.sleep(0.1)
    await engine.dispose()
    relayed = await jetstream_messages(isolated.nats_url, f"events.providers.{uid}.>")
    assert len(relayed) >= len(provider_events)
    relayed += await jetstream_messages(isolated.nats_url, f"events.thread.{thread['id']}.>")
    for message in relayed:
        assert_absent(key, "the EVENTS stream", message)

    # -- every log line of every service, all flushed: the stack is stopped first -------------
    isolated.stack.stop()
    logs = {name: svc.log_path.read_bytes() for name, svc in isolated.stack.services.items()}
    assert b"ConfigureProvider" in logs["threads"]  # the lines about this very key are here
    assert b"model listing failed" in logs["chat-worker-1"]
    for name, content in logs.items():
        assert_absent(key, f"the {name} log", content)
