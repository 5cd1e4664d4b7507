"""Register → log in → me → create thread → list → get, through the gateway and NATS."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import User, register


async def test_register_login_me(client: httpx.AsyncClient) -> None:
    email = f"Mixed-{uuid.uuid4().hex[:8]}@Example.com"
    r = await client.post(
        "/api/auth/register",
        json={"email": email, "password": "password123", "display_name": "Ada"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == email.lower()
    assert body["user"]["display_name"] == "Ada"

    r = await client.post("/api/auth/login", json={"email": email, "password": "password123"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    r = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["id"] == body["user"]["id"]
    assert "password" not in r.text


async def test_duplicate_email_is_409(client: httpx.AsyncClient, user: User) -> None:
    r = await client.post(
        "/api/auth/register", json={"email": user.email.upper(), "password": "another-password"}
    )
    assert r.status_code == 409


async def test_short_password_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/auth/register", json={"email": "short@example.com", "password": "1234567"}
    )
    assert r.status_code == 422
    assert "1234567" not in r.text


async def test_wrong_password_and_unknown_email_are_401(
    client: httpx.AsyncClient, user: User
) -> None:
    r = await client.post("/api/auth/login", json={"email": user.email, "password": "nope-nope"})
    assert r.status_code == 401
    r = await client.post(
        "/api/auth/login", json={"email": "nobody-" + user.email, "password": "nope-nope"}
    )
    assert r.status_code == 401


async def test_protected_endpoints_need_a_valid_token(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic eDp5"}):
        r = await client.get("/api/threads", headers=headers)
        assert r.status_code == 401, headers


async def test_create_list_and_get_thread(user: User) -> None:
    r = await user.post("/api/threads", json={"title": "First", "model_provider": "echo"})
    assert r.status_code == 201, r.text
    thread = r.json()
    assert thread["title"] == "First"
    assert thread["model_provider"] == thread["provider"] == "echo"
    assert thread["model"] == "echo"
    assert thread["thread_type"] == "ba_assistant"
    assert thread["agent_type"] == "chat"
    assert thread["project_id"] is None and thread["project_name"] is None
    assert thread["message_count"] == 0
    assert thread["user_id"] == user.id

    r = await user.post("/api/threads", json={})
    assert r.status_code == 201
    default = r.json()
    assert default["title"] == "New Chat"
    assert default["model_provider"] == "anthropic"

    r = await user.get("/api/threads")
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2
    assert [t["id"] for t in page["threads"]] == [default["id"], thread["id"]]
    assert page["page"] == 1 and page["page_size"] == 25 and page["has_more"] is False

    r = await user.get(f"/api/threads/{thread['id']}")
    assert r.status_code == 200
    assert r.json()["messages"] == []
    assert r.json()["id"] == thread["id"]


async def test_provider_alias_and_invalid_provider(user: User) -> None:
    r = await user.post("/api/threads", json={"provider": "echo"})
    assert r.status_code == 201 and r.json()["model_provider"] == "echo"
    r = await user.post("/api/threads", json={"model_provider": "skynet"})
    assert r.status_code == 400
    assert r.json()["detail"] == (
        "Invalid provider. Valid options: anthropic, deepseek, echo, google, ollama, openai, "
        "openrouter"
    )


async def test_other_users_thread_is_404(user: User, client: httpx.AsyncClient) -> None:
    thread = (await user.post("/api/threads", json={})).json()
    stranger = await register(client)
    r = await stranger.get(f"/api/threads/{thread['id']}")
    assert r.status_code == 404
    r = await stranger.get(f"/api/threads/{uuid.uuid4()}")
    assert r.status_code == 404
    assert (await stranger.get("/api/threads")).json()["total"] == 0


async def test_idempotency_key_returns_first_result(user: User) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await user.post("/api/threads", json={"title": "once"}, headers=key)
    again = await user.post("/api/threads", json={"title": "once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert (await user.get("/api/threads")).json()["total"] == 1
