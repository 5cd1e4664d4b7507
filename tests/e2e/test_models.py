"""GET /api/models end to end: the chat worker asks every usable provider through its official
SDK (openai, anthropic, google-genai) against local servers speaking their wire formats; one
provider refuses the key (401), one is unreachable (closed port), one hangs past the deadline.
None of them fails the call; each is named in `errors`. The catalogue's deadline is the
gateway's share of its request timeout when that is shorter than the worker's own, so even a
gateway with a short timeout gets its answer (the hanging provider in `errors`), never a 503;
and many users waiting on hanging providers at once are answered side by side, not in turn.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from tests.conftest import User, register
from tests.support.fake_providers import FakeProviders
from tests.support.gateways import lone_gateway
from tests.support.servers import Infra, free_port
from tests.support.stack import Stack

KEYS = {
    "openai": f"sk-openai-{uuid.uuid4().hex}",
    "anthropic": f"sk-ant-{uuid.uuid4().hex}",
    "google": f"AIza-{uuid.uuid4().hex}",
}
DEADLINE = 2.0  # the worker's default WORKER_MODELS_DEADLINE
SHORT_TIMEOUT = 1.5  # a gateway request timeout below DEADLINE: its share is 1 s


class HangingModels(FakeProviders):
    """Model listings that answer only when released (or after a minute)."""

    def __init__(self) -> None:
        super().__init__()
        self.released = False

    async def _models(self, request: Request) -> Response:
        for _ in range(600):
            if self.released:
                break
            await asyncio.sleep(0.1)
        return await super()._models(request)

    def stop(self) -> None:
        self.released = True
        super().stop()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(expected_keys=KEYS) as server:
        yield server


@pytest.fixture(scope="module")
def hanging() -> Iterator[HangingModels]:
    server = HangingModels()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def models_when_ready(user: User, attempts: int = 150) -> httpx.Response:
    """GET /api/models once a chat worker answers (it may still be starting: 503)."""
    for _ in range(attempts):
        r = await user.get("/api/models")
        if r.status_code != 503:
            return r
        await asyncio.sleep(0.2)
    return r


async def configure(user: User, provider: str, **body: object) -> None:
    r = await user.put(f"/api/providers/{provider}/config", json=body)
    assert r.status_code == 200, r.text


async def configure_all(user: User, fake: FakeProviders, hanging: HangingModels) -> None:
    await configure(user, "openai", api_key=KEYS["openai"], base_url=fake.openai_base_url)
    await configure(user, "anthropic", api_key=KEYS["anthropic"], base_url=fake.anthropic_base_url)
    await configure(user, "google", api_key=KEYS["google"], base_url=fake.google_base_url)
    # The same server, a key it refuses: 401.
    await configure(
        user, "deepseek", api_key="sk-not-the-right-key-0000", base_url=fake.url + "/v1"
    )
    # Nothing listens there.
    await configure(
        user, "openrouter", api_key="sk-or-123456789", base_url=f"http://127.0.0.1:{free_port()}/v1"
    )
    # Keyless, configured, and hanging.
    await configure(user, "ollama", base_url=hanging.openai_base_url)


async def test_only_echo_without_configuration(user: User) -> None:
    r = await models_when_ready(user)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "models": [
            {
                "provider": "echo",
                "id": "echo",
                "display_name": r.json()["models"][0]["display_name"],
                "context_window": None,
            },
            {
                "provider": "echo",
                "id": "echo-slow",
                "display_name": r.json()["models"][1]["display_name"],
                "context_window": None,
            },
        ],
        "errors": [],
    }


async def test_union_of_providers_with_failures_named(
    user: User, fake: FakeProviders, hanging: HangingModels
) -> None:
    await models_when_ready(user)  # a worker is up: the timing below is the catalogue's own
    await configure_all(user, fake, hanging)
    started = time.perf_counter()
    r = await user.get("/api/models")
    first = time.perf_counter() - started
    assert r.status_code == 200, r.text
    body = r.json()
    listed = {(m["provider"], m["id"]) for m in body["models"]}
    assert listed == {
        ("openai", "gpt-fake"),
        ("openai", "gpt-fake-mini"),
        ("anthropic", "claude-fake"),
        ("google", "gemini-fake"),  # the embedding-only model is left out
        ("echo", "echo"),
        ("echo", "echo-slow"),
    }
    display = {(m["provider"], m["id"]): m["display_name"] for m in body["models"]}
    assert display[("anthropic", "claude-fake")] == "Claude Fake"
    assert display[("google", "gemini-fake")] == "Gemini Fake"
    errors = {e["provider"]: e["detail"] for e in body["errors"]}
    assert set(errors) == {"deepseek", "openrouter", "ollama"}
    assert "401" in errors["deepseek"]
    assert "sk-not-the-right-key" not in r.text
    assert errors["ollama"] == f"No answer within {DEADLINE:g} s"
    print(f"\nGET /api/models, one provider hanging, cold: {first * 1000:.0f} ms")
    print(f"errors: {errors}")

    started = time.perf_counter()
    again = await user.get("/api/models")
    cached = time.perf_counter() - started
    print(f"GET /api/models again (cached, failures too): {cached * 1000:.0f} ms")
    assert again.json()["models"] == body["models"]


async def test_a_changed_key_is_used_at_once(user: User, fake: FakeProviders) -> None:
    await configure(user, "openai", api_key=KEYS["openai"], base_url=fake.openai_base_url)
    r = await models_when_ready(user)
    assert "openai" in {m["provider"] for m in r.json()["models"]}
    await configure(user, "openai", api_key="sk-revoked-key-123456")
    r = await user.get("/api/models")
    assert "openai" not in {m["provider"] for m in r.json()["models"]}
    assert "401" in {e["provider"]: e["detail"] for e in r.json()["errors"]}["openai"]


async def test_disabled_and_removed_providers_are_not_listed(
    user: User, fake: FakeProviders
) -> None:
    await configure(user, "anthropic", api_key=KEYS["anthropic"], base_url=fake.anthropic_base_url)
    await configure(user, "google", api_key=KEYS["google"], base_url=fake.google_base_url)
    r = await models_when_ready(user)
    assert {"anthropic", "google"} <= {m["provider"] for m in r.json()["models"]}
    await configure(user, "anthropic", enabled=False)
    assert (await user.delete("/api/providers/google")).status_code == 200
    r = await user.get("/api/models")
    assert {m["provider"] for m in r.json()["models"]} == {"echo"}
    assert r.json()["errors"] == []


async def test_catalogues_are_per_user(user: User, other_user: User, fake: FakeProviders) -> None:
    await configure(user, "openai", api_key=KEYS["openai"], base_url=fake.openai_base_url)
    assert "openai" in {m["provider"] for m in (await models_when_ready(user)).json()["models"]}
    theirs = await models_when_ready(other_user)
    assert {m["provider"] for m in theirs.json()["models"]} == {"echo"}


async def test_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/models")).status_code == 401


@pytest.fixture(scope="module")
def impatient_gateway(infra: Infra, stack: Stack, artifacts_dir: Path) -> Iterator[str]:
    """A gateway whose request timeout is shorter than the worker's catalogue deadline."""
    log_dir = Path(tempfile.mkdtemp(prefix="models-timeout-", dir=artifacts_dir))
    with lone_gateway(
        log_dir, infra.nats_url, ready=True, GATEWAY_REQUEST_TIMEOUT=str(SHORT_TIMEOUT)
    ) as base_url:
        yield base_url


async def test_a_short_gateway_timeout_still_gets_a_partial_list(
    impatient_gateway: str, user: User, fake: FakeProviders, hanging: HangingModels
) -> None:
    await models_when_ready(user)
    await configure(user, "openai", api_key=KEYS["openai"], base_url=fake.openai_base_url)
    await configure(user, "ollama", base_url=hanging.openai_base_url)
    async with httpx.AsyncClient(base_url=impatient_gateway, timeout=30) as impatient:
        r = await impatient.get("/api/models", headers=user.headers)
    assert r.status_code == 200, r.text  # not a 503: the worker answered within the share
    body = r.json()
    assert {(m["provider"], m["id"]) for m in body["models"]} >= {
        ("openai", "gpt-fake"),
        ("echo", "echo"),
    }
    errors = {e["provider"]: e["detail"] for e in body["errors"]}
    assert set(errors) == {"ollama"}
    assert errors["ollama"] == "No answer within 1 s"  # the gateway's share, not the 2 s


async def test_many_users_waiting_on_hanging_providers_are_answered_side_by_side(
    client: httpx.AsyncClient, hanging: HangingModels
) -> None:
    """Each listing waits out its deadline; one at a time, the later ones would pass the
    gateway's timeout and answer 503."""
    users = [await register(client) for _ in range(6)]
    await models_when_ready(users[0])
    for u in users:
        await configure(u, "ollama", base_url=hanging.openai_base_url)
    answers = await asyncio.gather(*(u.get("/api/models") for u in users))
    assert [r.status_code for r in answers] == [200] * len(users), [r.text for r in answers]
    for r in answers:
        assert [e["provider"] for e in r.json()["errors"]] == ["ollama"]
        assert {m["provider"] for m in r.json()["models"]} == {"echo"}
