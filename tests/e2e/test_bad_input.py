"""Bad input gets a clear 4xx, never a 500, and changes nothing: malformed JSON, wrong types,
over-long strings, invalid UUIDs, invalid UTF-8, oversized and chunked bodies, no token; and
503 with Retry-After when the threads service cannot answer."""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from devstack.nats import start_nats
from tests.conftest import User
from tests.support.servers import free_port
from tests.support.stack import ServiceProcess, executable, service_env

MAX_BODY = 2 * 1024 * 1024  # the gateway's default max_body_bytes
JSON = {"Content-Type": "application/json"}


async def fresh(user: User) -> tuple[str, str, str]:
    """A project, a thread and a message of the user's: (project, thread, message) ids."""
    project = (await user.post("/api/projects", json={"name": "P"})).json()["id"]
    thread = (await user.post("/api/threads", json={"project_id": project})).json()["id"]
    message = (
        await user.post(f"/api/threads/{thread}/messages", json={"role": "user", "content": "m"})
    ).json()["id"]
    return project, thread, message


async def unchanged(user: User, project: str, thread: str) -> None:
    detail = (await user.get(f"/api/threads/{thread}")).json()
    assert detail["message_count"] == 1 and len(detail["messages"]) == 1
    assert detail["title"] == "New Chat" and detail["project_id"] == project
    assert (await user.get(f"/api/projects/{project}")).json()["name"] == "P"
    assert (await user.get("/api/threads")).json()["total"] == 1


def write_urls(project: str, thread: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/projects"),
        ("PATCH", f"/api/projects/{project}"),
        ("POST", f"/api/projects/{project}/threads"),
        ("POST", "/api/threads"),
        ("PATCH", f"/api/threads/{thread}"),
        ("POST", f"/api/threads/{thread}/messages"),
        ("POST", f"/api/threads/{thread}/documents"),
        ("POST", f"/api/projects/{project}/documents"),
    ]


async def test_malformed_json_and_wrong_types_are_422(user: User) -> None:
    project, thread, _ = await fresh(user)
    for method, url in write_urls(project, thread):
        for raw in (b"{", b"[1, 2]", b'"text"', b"null", b'{"name": }', b"\xff\xfe{}"):
            r = await user.client.request(
                method, url, content=raw, headers={**user.headers, **JSON}
            )
            assert r.status_code in (400, 422), (method, url, raw, r.status_code, r.text)
            assert "detail" in r.json()
    typed = [
        ("POST", "/api/projects", {"name": ["list"]}),
        ("PATCH", f"/api/projects/{project}", {"description": {"a": 1}}),
        ("POST", "/api/threads", {"title": 42}),
        ("POST", "/api/threads", {"project_id": "not-a-uuid"}),
        ("POST", "/api/threads", {"model_provider": None, "model": ["x"]}),
        ("PATCH", f"/api/threads/{thread}", {"project_id": 7}),
        ("PATCH", f"/api/threads/{thread}", {"title": True}),
        ("POST", f"/api/threads/{thread}/messages", {"role": "user", "metadata": [1]}),
        ("POST", f"/api/threads/{thread}/messages", {"role": None}),
    ]
    for method, url, body in typed:
        r = await user.client.request(method, url, json=body, headers=user.headers)
        assert r.status_code == 422, (method, url, body, r.text)
        assert isinstance(r.json()["detail"], list)
    await unchanged(user, project, thread)


async def test_over_long_strings_are_422(user: User) -> None:
    project, thread, _ = await fresh(user)
    for method, url, body in (
        ("POST", "/api/projects", {"name": "n" * 256}),
        ("PATCH", f"/api/projects/{project}", {"description": "d" * 10_001}),
        ("POST", "/api/threads", {"title": "t" * 256}),
        ("POST", "/api/threads", {"model": "m" * 256}),
        ("POST", "/api/threads", {"model_provider": "p" * 41}),
        ("POST", "/api/threads", {"agent_type": "a" * 51}),
        ("PATCH", f"/api/threads/{thread}", {"title": "t" * 256}),
        ("POST", f"/api/threads/{thread}/messages", {"role": "user", "content": "c" * 1_000_001}),
        ("POST", f"/api/threads/{thread}/documents", {"filename": "f" * 256, "content": "x"}),
    ):
        r = await user.client.request(method, url, json=body, headers=user.headers)
        assert r.status_code == 422, (method, url, r.text)
        assert "c" * 100 not in r.text  # the input is not echoed back
    r = await user.post("/api/threads", json={}, headers={"Idempotency-Key": "k" * 201})
    assert r.status_code == 422
    await unchanged(user, project, thread)


async def test_invalid_uuids_are_422(user: User) -> None:
    project, thread, _ = await fresh(user)
    bad = "not-a-uuid"
    for method, url in (
        ("GET", f"/api/projects/{bad}"),
        ("PATCH", f"/api/projects/{bad}"),
        ("DELETE", f"/api/projects/{bad}"),
        ("GET", f"/api/projects/{bad}/threads"),
        ("GET", f"/api/projects/{bad}/documents"),
        ("GET", f"/api/threads/{bad}"),
        ("PATCH", f"/api/threads/{bad}"),
        ("DELETE", f"/api/threads/{bad}"),
        ("GET", f"/api/threads/{bad}/events"),
        ("GET", f"/api/threads/{bad}/messages"),
        ("POST", f"/api/threads/{bad}/messages"),
        ("DELETE", f"/api/messages/{bad}"),
        ("GET", f"/api/documents/{bad}"),
        ("DELETE", f"/api/documents/{bad}"),
        ("GET", f"/api/threads?project_id={bad}"),
        ("GET", "/api/threads/12345678-1234-1234-1234-1234567890123"),
    ):
        body = {"role": "user"} if method in ("POST", "PATCH") else None
        r = await user.client.request(method, url, json=body, headers=user.headers)
        assert r.status_code == 422, (method, url, r.status_code, r.text)
    await unchanged(user, project, thread)


async def test_invalid_text_is_refused(user: User) -> None:
    """NUL characters and lone surrogates cannot be stored as Postgres text, NaN is not JSON,
    and integers past 64 bits would not come back exactly: 422, never a 500 or a silent change."""
    project, thread, _ = await fresh(user)
    for raw in (
        b'{"role": "user", "content": "a\\u0000b"}',
        b'{"role": "user", "content": "\\ud800"}',
        b'{"role": "user", "metadata": {"\\u0000": 1}}',
        b'{"role": "user", "artifact_data": {"k": ["\\udfff"]}}',
        b'{"role": "user", "metadata": {"n": NaN}}',
        b'{"role": "user", "metadata": {"n": [1e400]}}',
        b'{"role": "user", "metadata": {"n": 123456789012345678901234567890}}',
    ):
        r = await user.client.post(
            f"/api/threads/{thread}/messages", content=raw, headers={**user.headers, **JSON}
        )
        assert r.status_code == 422, (raw, r.text)
    for method, url, raw in (
        ("POST", "/api/projects", b'{"name": "a\\u0000"}'),
        ("PATCH", f"/api/threads/{thread}", b'{"title": "\\ud83d"}'),
        ("POST", "/api/threads", b'{"agent_type": "x\\u0000"}'),
        ("POST", f"/api/threads/{thread}/documents", b'{"filename": "\\u0000", "content": "x"}'),
    ):
        r = await user.client.request(method, url, content=raw, headers={**user.headers, **JSON})
        assert r.status_code == 422, (url, raw, r.text)
    await unchanged(user, project, thread)


async def test_registering_with_unstorable_text_is_refused(user: User) -> None:
    """A display name must be storable text and a password encodable to hash: a NUL or a lone
    surrogate is a 422 (found by the schema-driven client as a 500), and no account is made."""
    email = f"nul-{uuid.uuid4().hex[:8]}@example.com"
    for fields in (
        b'"display_name": "a\\u0000b", "password": "password-123"',
        b'"display_name": "\\ud800", "password": "password-123"',
        b'"password": "password-\\udfff"',
    ):
        raw = b'{"email": "' + email.encode() + b'", ' + fields + b"}"
        r = await user.client.post("/api/auth/register", content=raw, headers=JSON)
        assert r.status_code == 422, (raw, r.text)
        assert "password-" not in r.text  # a refused password is never echoed
    raw = b'{"email": "' + email.encode() + b'", "password": "password-\\ud800"}'
    r = await user.client.post("/api/auth/login", content=raw, headers=JSON)
    assert r.status_code == 422, r.text
    login = {"email": email, "password": "password-123"}
    assert (await user.client.post("/api/auth/login", json=login)).status_code == 401
    route = b'{"routes": [{"task": "title", "provider": "echo", "model": "m\\u0000"}]}'
    r = await user.client.put("/api/task-routes", content=route, headers={**user.headers, **JSON})
    assert r.status_code == 422, r.text
    assert (await user.get("/api/task-routes")).json()["routes"] == []


async def test_deeply_nested_json_is_refused(user: User) -> None:
    project, thread, _ = await fresh(user)
    nested: object = "leaf"
    for _ in range(40):
        nested = {"k": nested}
    r = await user.post(
        f"/api/threads/{thread}/messages", json={"role": "user", "metadata": nested}
    )
    assert r.status_code == 422
    deep = b'{"role": "user", "metadata": {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    r = await user.client.post(
        f"/api/threads/{thread}/messages", content=deep, headers={**user.headers, **JSON}
    )
    assert r.status_code in (400, 422), r.text
    await unchanged(user, project, thread)


async def test_a_cursor_the_service_did_not_make_is_400(user: User) -> None:
    project, _, _ = await fresh(user)
    for url in ("/api/threads", f"/api/projects/{project}/threads"):
        r = await user.get(url, params={"cursor": "not-a-cursor"})
        assert r.status_code == 400 and r.json() == {"detail": "Invalid cursor"}, r.text


async def test_unknown_names_keep_their_documented_answers(user: User) -> None:
    """The names are enums in the document, yet an unknown one is still the domain's answer
    (400 with the valid options, 404 for a provider's settings), never a 422."""
    r = await user.post("/api/threads", json={"model_provider": "nope"})
    assert r.status_code == 400 and r.json()["detail"].startswith("Invalid provider.")
    r = await user.post("/api/threads", json={"thread_type": "nope"})
    assert r.status_code == 400 and "thread_type" in r.json()["detail"]
    route = {"task": "nope", "provider": "echo", "model": "echo"}
    r = await user.put("/api/task-routes", json={"routes": [route]})
    assert r.status_code == 400 and r.json()["detail"].startswith("Invalid task.")
    r = await user.put("/api/providers/nope/config", json={"enabled": True})
    assert r.status_code == 404


async def test_a_wrong_method_names_every_method_of_the_resource(user: User) -> None:
    _, thread, _ = await fresh(user)
    for method, url, allow in (
        ("PUT", "/api/threads", "GET, POST"),
        ("PUT", f"/api/threads/{thread}", "DELETE, GET, PATCH"),
        ("DELETE", f"/api/threads/{thread}/messages", "GET, POST"),
    ):
        r = await user.client.request(method, url, headers=user.headers)
        assert r.status_code == 405 and r.headers["allow"] == allow, (method, url, r.headers)


async def test_body_over_the_limit_is_413(user: User) -> None:
    project, thread, _ = await fresh(user)
    big = b'{"role": "user", "content": "' + b"x" * MAX_BODY + b'"}'
    r = await user.client.post(
        f"/api/threads/{thread}/messages", content=big, headers={**user.headers, **JSON}
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/json"
    assert "limit" in r.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"role": "user", "content": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    r = await user.client.post(
        f"/api/threads/{thread}/messages", content=chunks(), headers={**user.headers, **JSON}
    )
    assert r.status_code == 413, r.text
    assert "limit" in r.json()["detail"]
    await unchanged(user, project, thread)

    async def small() -> AsyncIterator[bytes]:
        yield b'{"role": "user",'
        yield b' "content": "chunked"}'

    r = await user.client.post(
        f"/api/threads/{thread}/messages", content=small(), headers={**user.headers, **JSON}
    )
    assert r.status_code == 201 and r.json()["content"] == "chunked"


async def test_every_endpoint_needs_a_token(client: httpx.AsyncClient) -> None:
    some = str(uuid.uuid4())
    for method, url in [
        *write_urls(some, some),
        ("GET", "/api/projects"),
        ("GET", f"/api/projects/{some}"),
        ("DELETE", f"/api/projects/{some}"),
        ("GET", f"/api/projects/{some}/threads"),
        ("GET", f"/api/threads/{some}"),
        ("DELETE", f"/api/threads/{some}"),
        ("GET", f"/api/threads/{some}/events"),
        ("GET", f"/api/threads/{some}/messages"),
        ("DELETE", f"/api/messages/{some}"),
        ("GET", f"/api/documents/{some}"),
        ("DELETE", f"/api/documents/{some}"),
        ("GET", f"/api/threads/{some}/documents"),
    ]:
        for headers in ({}, {"Authorization": "Bearer forged.token.here"}):
            r = await client.request(method, url, json={}, headers=headers)
            assert r.status_code == 401, (method, url, r.text)


@pytest.fixture(scope="module")
def gateway_without_threads(artifacts_dir: Path) -> Iterator[str]:
    """A gateway on a NATS server where no threads service listens."""
    root = Path(tempfile.mkdtemp(prefix="lonely-", dir=artifacts_dir))
    nats = start_nats(root / "nats", free_port(), stdout=subprocess.DEVNULL, sync_always=False)
    port = free_port()
    env = service_env({"GATEWAY_NATS_URL": nats.url, "GATEWAY_PORT": str(port)})
    gateway = ServiceProcess("gateway", [executable("switchboard-gateway")], env, root / "gw.log")
    gateway.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        gateway.stop()
        nats.stop()


async def test_unavailable_threads_service_is_503(gateway_without_threads: str, user: User) -> None:
    async with httpx.AsyncClient(base_url=gateway_without_threads, headers=user.headers) as c:
        for method, url, body in (
            ("POST", "/api/projects", {"name": "x"}),
            ("GET", "/api/projects", None),
            ("POST", f"/api/threads/{uuid.uuid4()}/messages", {"role": "user"}),
            ("GET", "/api/threads", None),
        ):
            r = await c.request(method, url, json=body)
            assert r.status_code == 503, (url, r.text)
            assert r.headers["retry-after"] == "2"
            assert "detail" in r.json()
    assert (await user.get("/api/projects")).json() == {"projects": []}
