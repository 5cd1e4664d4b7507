"""Task routes through the gateway: replace as a whole, refuse unknown tasks and providers, and
the `chat` route choosing new threads' default model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import User
from tests.support.fake_providers import FakeProviders
from threads.store.tables import preferences, task_routes

ROUTES = {
    "use_separate_models": True,
    "routes": [
        {"task": "chat", "provider": "echo", "model": "echo-slow"},
        {"task": "title", "provider": "openai", "model": "gpt-4o-mini"},
    ],
}


async def test_no_routes_by_default(user: User) -> None:
    r = await user.get("/api/task-routes")
    assert r.status_code == 200
    assert r.json() == {"use_separate_models": False, "routes": []}


async def test_put_replaces_the_routes(user: User) -> None:
    r = await user.put("/api/task-routes", json=ROUTES)
    assert r.status_code == 200, r.text
    assert r.json() == ROUTES
    assert (await user.get("/api/task-routes")).json() == ROUTES
    only_title = {
        "use_separate_models": False,
        "routes": [{"task": "title", "provider": "echo", "model": "echo"}],
    }
    r = await user.put("/api/task-routes", json=only_title)
    assert r.json() == only_title
    assert (await user.get("/api/task-routes")).json() == only_title


async def test_unknown_task_or_provider_is_400_and_changes_nothing(
    user: User, engine: AsyncEngine
) -> None:
    await user.put("/api/task-routes", json=ROUTES)
    bad_bodies = [
        {
            "use_separate_models": False,
            "routes": [{"task": "summarise", "provider": "echo", "model": "m"}],
        },
        {
            "use_separate_models": False,
            "routes": [
                {"task": "chat", "provider": "echo", "model": "echo"},
                {"task": "title", "provider": "nope", "model": "m"},
            ],
        },
        {
            "use_separate_models": False,
            "routes": [
                {"task": "chat", "provider": "echo", "model": "echo"},
                {"task": "chat", "provider": "openai", "model": "gpt-4o"},
            ],
        },
    ]
    for body in bad_bodies:
        r = await user.put("/api/task-routes", json=body)
        assert r.status_code == 400, (body, r.text)
    r = await user.put(
        "/api/task-routes",
        json={"routes": [{"task": "chat", "provider": "nope", "model": "m"}]},
    )
    assert r.json()["detail"].startswith("Invalid provider. Valid options: anthropic, deepseek")
    assert (await user.get("/api/task-routes")).json() == ROUTES
    async with engine.connect() as conn:
        separate = await conn.scalar(
            select(preferences.c.use_separate_models).where(
                preferences.c.user_id == uuid.UUID(user.id)
            )
        )
        count = len(
            (
                await conn.execute(
                    select(task_routes).where(task_routes.c.user_id == uuid.UUID(user.id))
                )
            ).all()
        )
    assert separate is True and count == 2


async def test_schema_violations_are_422(user: User) -> None:
    for body in (
        {"routes": [{"task": "chat", "provider": "echo", "model": ""}]},
        {"routes": [{"task": "chat", "provider": "echo"}]},
        {"use_separate_models": "sometimes", "routes": []},
        {"routes": "chat"},
    ):
        r = await user.put("/api/task-routes", json=body)
        assert r.status_code == 422, body


async def test_routes_are_per_user(user: User, other_user: User) -> None:
    await user.put("/api/task-routes", json=ROUTES)
    r = await other_user.get("/api/task-routes")
    assert r.json() == {"use_separate_models": False, "routes": []}


async def test_chat_route_gives_new_threads_their_default_model(user: User) -> None:
    await user.put("/api/task-routes", json=ROUTES)  # chat → echo / echo-slow
    r = await user.post("/api/threads", json={"model_provider": "echo"})
    assert r.status_code == 201
    assert r.json()["model"] == "echo-slow"
    # Another provider keeps its own default; an explicit model always wins.
    r = await user.post("/api/threads", json={"model_provider": "openai"})
    assert r.json()["model"] == "gpt-4o-mini"
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo"})
    assert r.json()["model"] == "echo"
    # The provider list shows the routed model as echo's default for new threads.
    listed = {p["provider"]: p for p in (await user.get("/api/providers")).json()["providers"]}
    assert listed["echo"]["default_model"] == "echo-slow"
    assert listed["openai"]["default_model"] == "gpt-4o-mini"


ROUTED_TITLE = "Routed Title From The Fake"


@pytest.fixture(scope="module")
def title_provider() -> Iterator[FakeProviders]:
    with FakeProviders(answer=ROUTED_TITLE) as fake:
        yield fake


async def titled(user: User, thread_id: str, attempts: int = 150) -> str:
    """The thread's title once the worker has generated one (it starts as `New Chat`)."""
    title = "New Chat"
    for _ in range(attempts):
        title = (await user.get(f"/api/threads/{thread_id}")).json()["title"]
        if title != "New Chat":
            break
        await asyncio.sleep(0.2)
    return title


async def chat_once(user: User, content: str) -> str:
    thread = (await user.post("/api/threads", json={"model_provider": "echo"})).json()
    r = await user.post(f"/api/threads/{thread['id']}/chat", json={"content": content})
    assert r.status_code == 200 and "event: message_end" in r.text, r.text
    return str(thread["id"])


async def test_title_route_is_read_by_the_worker(user: User, title_provider: FakeProviders) -> None:
    key = f"sk-title-{uuid.uuid4().hex}"
    r = await user.put(
        "/api/providers/openai/config",
        json={"api_key": key, "base_url": title_provider.openai_base_url},
    )
    assert r.status_code == 200
    routes = {
        "use_separate_models": True,
        "routes": [{"task": "title", "provider": "openai", "model": "gpt-title"}],
    }
    assert (await user.put("/api/task-routes", json=routes)).status_code == 200

    thread_id = await chat_once(user, "what is the capital of France")
    assert await titled(user, thread_id) == ROUTED_TITLE
    asked = title_provider.requests_for("openai", "gpt-title")
    assert len(asked) == 1
    assert asked[0].headers["authorization"] == f"Bearer {key}"

    # Switched off: titles use the thread's own model (echo) and the route is left alone.
    routes["use_separate_models"] = False
    assert (await user.put("/api/task-routes", json=routes)).status_code == 200
    thread_id = await chat_once(user, "what is the capital of Spain")
    title = await titled(user, thread_id)
    assert title not in ("New Chat", ROUTED_TITLE)
    assert len(title_provider.requests_for("openai", "gpt-title")) == 1
