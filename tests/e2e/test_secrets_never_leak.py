"""A recognisable API key goes in through PUT /api/providers/.../config and is then looked for
everywhere it must never appear: HTTP responses (including errors and the SSE chat stream), the
events (HTTP history, the raw table, the JetStream stream EVENTS), every other table in
plaintext, the services' log files, and the metrics output. A personal API key (`sb-...`) made
through POST /api/keys and used on /api and /v1 is looked for in the same places: only the 201
that made it may show it.

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
    metrics_ports: dict[str, int]  # the services other than the gateway


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
    metrics = {"threads": free_port()}  # the chat worker serves no metrics
    env = {
        "THREADS_METRICS_PORT": str(metrics["threads"]),
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
            yield Isolated(stack, nats_server.url, database_url, metrics)
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
    body = key.removeprefix("sk-").removeprefix("sb-")
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
        personal = await personal_key_uses(await register(client), isolated)
        await check_everything(await register(client), isolated, hostile_provider, personal)


@dataclass
class PersonalKey:
    key: str
    key_id: str
    user_id: str
    responses: list[tuple[str, str]]


async def personal_key_uses(user: User, isolated: Isolated) -> PersonalKey:
    """A personal API key made, used on /api and /v1, listed, refused in its variants, then
    deleted and refused: every response but the 201 is kept to be searched."""
    responses: list[tuple[str, str]] = []

    async def seen(what: str, response: httpx.Response) -> httpx.Response:
        responses.append((what, response.text))
        return response

    made = await user.post("/api/keys", json={"name": "leakcheck"})
    assert made.status_code == 201, made.text
    key, key_id = made.json()["key"], made.json()["id"]
    assert key.startswith("sb-") and key.startswith(made.json()["prefix"])
    keyed = {"Authorization": f"Bearer {key}"}
    client = user.client
    me = await seen("GET /api/me with the key", await client.get("/api/me", headers=keyed))
    assert me.status_code == 200 and me.json()["id"] == user.id
    for _ in range(150):  # a chat worker may still be starting: 503
        v1 = await client.get("/v1/models", headers=keyed)
        if v1.status_code != 503:
            break
        await asyncio.sleep(0.2)
    await seen("GET /v1/models with the key", v1)
    assert v1.status_code == 200, v1.text
    thread = await client.post("/api/threads", headers=keyed, json={"model_provider": "echo"})
    await seen("POST /api/threads with the key", thread)
    assert thread.status_code == 201, thread.text
    chat = await client.post(
        f"/api/threads/{thread.json()['id']}/chat", headers=keyed, json={"content": "hi"}
    )
    await seen("POST chat with the key", chat)
    listed = await seen("GET /api/keys", await user.get("/api/keys"))
    assert [k["id"] for k in listed.json()["keys"]] == [key_id]
    history = await user.get(f"/api/threads/{thread.json()['id']}/events")
    await seen("GET thread events", history)
    assert history.status_code == 200
    # Refused: the key in a body, a forged or truncated key, the key as a name too long.
    for what, r in [
        (
            "401 (forged key)",
            await client.get("/api/me", headers={"Authorization": keyed["Authorization"] + "x"}),
        ),
        (
            "401 (cut key)",
            await client.get("/v1/models", headers={"Authorization": keyed["Authorization"][:-1]}),
        ),
        ("422 (key as a name)", await user.post("/api/keys", json={"name": key * 3})),
        (
            "422 (key as expiry)",
            await user.post("/api/keys", json={"name": "x", "expires_at": key}),
        ),
        ("404 (key as an id)", await user.delete(f"/api/keys/{key}")),
    ]:
        await seen(what, r)
        assert r.status_code in (401, 404, 422), (what, r.status_code)
    for name, port in isolated.metrics_ports.items():
        async with httpx.AsyncClient(timeout=10) as plain:
            scraped = await plain.get(f"http://127.0.0.1:{port}/metrics")
        await seen(f"the {name} metrics", scraped)
        assert scraped.status_code == 200
    await seen("GET /metrics", await client.get("/metrics"))
    deleted = await user.delete(f"/api/keys/{key_id}")
    assert deleted.status_code == 204
    await seen("GET /api/me with the deleted key", await client.get("/api/me", headers=keyed))
    return PersonalKey(key, key_id, user.id, responses)


async def check_everything(
    user: User, isolated: Isolated, hostile_provider: str, personal: PersonalKey
) -> None:
    key = f"sk-LEAKCHECK-{uuid.uuid4().hex}{uuid.uuid4().hex}"
    responses: list[tuple[str, str]] = list(personal.responses)
    secrets_ = (key, personal.key)

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

    for name, port in isolated.metrics_ports.items():
        async with httpx.AsyncClient(timeout=10) as plain:
            await seen(f"the {name} metrics", await plain.get(f"http://127.0.0.1:{port}/metrics"))

    for what, body in responses:
        for secret in secrets_:
            assert_absent(secret, what, body)

    # -- storage: only the sealed row holds it, and not in plaintext --------------------------
    uid = uuid.UUID(user.id)
    engine = create_async_engine(isolated.database_url)
    async with engine.connect() as conn:
        sealed = (
            await conn.execute(select(secrets.c.ciphertext).where(secrets.c.user_id == uid))
        ).scalars()
        for blob in sealed:
            for secret in secrets_:
                assert_absent(secret, "provider_secrets ciphertext", bytes(blob))
        for table in metadata.sorted_tables:
            for secret in secrets_:
                if table is secrets and secret is key:
                    continue
                hits = await conn.scalar(
                    text(f'SELECT count(*) FROM "{table.name}" t WHERE t::text LIKE :p'),
                    {"p": f"%{secret[3:20]}%"},
                )
                assert hits == 0, f"the API key leaked into table {table.name}"
        key_events = (
            await conn.execute(
                select(events.c.event_type, events.c.data, events.c.metadata).where(
                    events.c.stream_id == f"apikey-{personal.key_id}"
                )
            )
        ).all()
        provider_events = (
            await conn.execute(
                select(events.c.event_type, events.c.data).where(
                    events.c.stream_id == f"providers-{uid}"
                )
            )
        ).all()
    assert [e.event_type for e in provider_events].count("ProviderConfigured") == 2
    assert all(e.data["key_hint"] == key[-4:] for e in provider_events if "key_hint" in e.data)
    assert [e.event_type for e in key_events] == ["ApiKeyCreated", "ApiKeyDeleted"]
    for e in key_events:  # ApiKeyCreated holds the key's hash and prefix, never the key
        assert_absent(personal.key, f"the {e.event_type} event", orjson.dumps([e.data, e.metadata]))

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
    keyed = await jetstream_messages(isolated.nats_url, f"events.apikey.{personal.key_id}.>")
    assert len(keyed) == 2
    relayed += keyed + await jetstream_messages(isolated.nats_url, "events.>")
    for message in relayed:
        for secret in secrets_:
            assert_absent(secret, "the EVENTS stream", message)

    # -- every log line of every service, all flushed: the stack is stopped first -------------
    isolated.stack.stop()
    logs = {name: svc.log_path.read_bytes() for name, svc in isolated.stack.services.items()}
    assert b"ConfigureProvider" in logs["threads"]  # the lines about this very key are here
    assert b"model listing failed" in logs["chat-worker-1"]
    assert b"CreateApiKey" in logs["threads"]
    for name, content in logs.items():
        for secret in secrets_:
            assert_absent(secret, f"the {name} log", content)
