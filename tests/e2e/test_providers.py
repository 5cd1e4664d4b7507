"""Provider settings through the gateway: list, configure, validate, remove."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.providers import PROVIDERS
from tests.conftest import User
from threads.store.tables import provider_settings, secrets, task_routes


def a_key() -> str:
    return f"sk-test-{uuid.uuid4().hex}"


async def providers_of(user: User) -> dict[str, dict[str, object]]:
    r = await user.get("/api/providers")
    assert r.status_code == 200, r.text
    return {p["provider"]: p for p in r.json()["providers"]}


async def test_lists_every_known_provider_unconfigured(user: User) -> None:
    listed = await providers_of(user)
    assert list(listed) == list(PROVIDERS)
    for name, entry in listed.items():
        assert entry["display_name"] == PROVIDERS[name].display_name
        assert entry["default_model"] == PROVIDERS[name].default_model
        assert entry["key_hint"] is None and entry["base_url"] is None
    assert listed["echo"]["configured"] is True and listed["echo"]["enabled"] is True
    assert listed["openai"]["configured"] is False and listed["openai"]["enabled"] is False


async def test_configure_key_shows_only_a_hint(user: User) -> None:
    key = a_key()
    r = await user.put("/api/providers/openai/config", json={"api_key": key})
    assert r.status_code == 200, r.text
    entry = r.json()
    assert entry["provider"] == "openai"
    assert entry["configured"] is True and entry["enabled"] is True
    assert entry["key_hint"] == key[-4:]
    assert key not in r.text and key[:-4] not in r.text
    listed = await providers_of(user)
    assert listed["openai"] == entry
    assert key[:-4] not in str(listed)


async def test_key_is_stored_encrypted_in_the_secrets_table(
    user: User, engine: AsyncEngine
) -> None:
    key = a_key()
    assert (await user.put("/api/providers/deepseek/config", json={"api_key": key})).is_success
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(secrets).where(
                    secrets.c.user_id == uuid.UUID(user.id), secrets.c.provider == "deepseek"
                )
            )
        ).one()
    assert key.encode() not in row.ciphertext
    assert len(row.ciphertext) >= len(key) + 12 + 16  # nonce + tag
    assert row.key_id


async def test_short_key_gets_no_hint(user: User) -> None:
    r = await user.put("/api/providers/anthropic/config", json={"api_key": "abc12345"})
    assert r.status_code == 200
    assert r.json()["key_hint"] is None and r.json()["configured"] is True


async def test_fields_left_out_keep_their_value(user: User) -> None:
    key = a_key()
    await user.put(
        "/api/providers/openai/config",
        json={"api_key": key, "base_url": "http://127.0.0.1:9/v1/"},
    )
    r = await user.put("/api/providers/openai/config", json={"enabled": False})
    assert r.status_code == 200
    entry = r.json()
    assert entry["enabled"] is False
    assert entry["base_url"] == "http://127.0.0.1:9/v1"  # trailing slash trimmed
    assert entry["key_hint"] == key[-4:]
    r = await user.put("/api/providers/openai/config", json={"api_key": None, "enabled": True})
    assert r.json()["key_hint"] == key[-4:] and r.json()["enabled"] is True


async def test_empty_key_clears_the_stored_key(user: User, engine: AsyncEngine) -> None:
    await user.put("/api/providers/openai/config", json={"api_key": a_key()})
    r = await user.put("/api/providers/openai/config", json={"api_key": ""})
    assert r.status_code == 200
    assert r.json()["key_hint"] is None and r.json()["configured"] is False
    async with engine.connect() as conn:
        left = await conn.scalar(
            select(secrets.c.provider).where(secrets.c.user_id == uuid.UUID(user.id))
        )
    assert left is None


async def test_base_url_can_be_reset_to_the_default(user: User) -> None:
    await user.put("/api/providers/ollama/config", json={"base_url": "http://10.0.0.5:11434/v1"})
    r = await user.put("/api/providers/ollama/config", json={"base_url": ""})
    assert r.json()["base_url"] is None
    assert r.json()["configured"] is True  # Ollama needs no key: a saved config is enough


async def test_unknown_provider_is_404(user: User) -> None:
    r = await user.put("/api/providers/nope/config", json={"api_key": a_key()})
    assert r.status_code == 404
    assert r.json()["detail"] == "Provider not found"
    assert (await user.delete("/api/providers/nope")).status_code == 404


async def test_bad_base_urls_are_400_and_change_nothing(user: User) -> None:
    await user.put("/api/providers/openai/config", json={"base_url": "https://proxy.example/v1"})
    before = await providers_of(user)
    for url in (
        "ftp://example.com",
        "javascript:alert(1)",
        "not a url",
        "http://",
        "https://user:secret@example.com/v1",
        "file:///etc/passwd",
    ):
        r = await user.put("/api/providers/openai/config", json={"base_url": url})
        assert r.status_code == 400, (url, r.text)
        assert "secret" not in r.text
    assert await providers_of(user) == before


async def test_schema_violations_are_422_without_echoing_the_key(user: User) -> None:
    long_key = "sk-" + "x" * 2000
    r = await user.put("/api/providers/openai/config", json={"api_key": long_key})
    assert r.status_code == 422
    assert "xxxxxxxx" not in r.text
    r = await user.put("/api/providers/openai/config", json={"enabled": "maybe"})
    assert r.status_code == 422
    r = await user.put("/api/providers/openai/config", json={"api_key": 12345})
    assert r.status_code == 422


async def test_settings_are_per_user(user: User, other_user: User) -> None:
    key = a_key()
    await user.put("/api/providers/google/config", json={"api_key": key})
    theirs = await providers_of(other_user)
    assert theirs["google"]["configured"] is False and theirs["google"]["key_hint"] is None
    assert (await providers_of(user))["google"]["key_hint"] == key[-4:]


async def test_idempotency_key_returns_the_first_result(user: User) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await user.put(
        "/api/providers/openai/config", json={"base_url": "http://a.example"}, headers=headers
    )
    again = await user.put(
        "/api/providers/openai/config", json={"base_url": "http://b.example"}, headers=headers
    )
    assert again.status_code == 200 and again.json() == first.json()
    assert (await providers_of(user))["openai"]["base_url"] == "http://a.example"


async def test_delete_answers_200_even_when_nothing_was_configured(user: User) -> None:
    r = await user.delete("/api/providers/openrouter")
    assert r.status_code == 200
    assert "message" in r.json()


async def test_delete_removes_config_key_and_routes_together(
    user: User, engine: AsyncEngine
) -> None:
    uid = uuid.UUID(user.id)
    await user.put("/api/providers/openai/config", json={"api_key": a_key()})
    await user.put("/api/providers/echo/config", json={"enabled": True})
    r = await user.put(
        "/api/task-routes",
        json={
            "use_separate_models": True,
            "routes": [
                {"task": "chat", "provider": "openai", "model": "gpt-4o"},
                {"task": "title", "provider": "echo", "model": "echo"},
            ],
        },
    )
    assert r.status_code == 200, r.text

    r = await user.delete("/api/providers/openai")
    assert r.status_code == 200
    listed = await providers_of(user)
    assert listed["openai"]["configured"] is False and listed["openai"]["key_hint"] is None
    routes = (await user.get("/api/task-routes")).json()
    assert routes == {
        "use_separate_models": True,
        "routes": [{"task": "title", "provider": "echo", "model": "echo"}],
    }
    async with engine.connect() as conn:
        assert (
            await conn.scalar(
                select(secrets.c.provider).where(
                    secrets.c.user_id == uid, secrets.c.provider == "openai"
                )
            )
        ) is None
        assert (
            await conn.scalar(
                select(provider_settings.c.provider).where(
                    provider_settings.c.user_id == uid, provider_settings.c.provider == "openai"
                )
            )
        ) is None
        left = (
            await conn.execute(select(task_routes.c.task).where(task_routes.c.user_id == uid))
        ).scalars()
        assert list(left) == ["title"]


async def test_threads_bound_to_a_removed_provider_stay(user: User) -> None:
    await user.put("/api/providers/openai/config", json={"api_key": a_key()})
    r = await user.post("/api/threads", json={"model_provider": "openai"})
    assert r.status_code == 201
    thread = r.json()
    assert (await user.delete("/api/providers/openai")).status_code == 200
    r = await user.get(f"/api/threads/{thread['id']}")
    assert r.status_code == 200 and r.json()["provider"] == "openai"
