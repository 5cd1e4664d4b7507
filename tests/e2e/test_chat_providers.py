"""Chat through the gateway to real SDK adapters talking to the fake providers, on a stack of
its own with two workers: the prompt that reaches the provider, provider errors, restarts, and
a worker killed mid-answer."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import User, register
from tests.support.chat_stack import KEYS, ChatStack, isolated_chat_stack
from tests.support.fake_providers import Behaviour
from tests.support.servers import Infra
from tests.support.sse_client import Event, events, read_all, text_of


@pytest.fixture(scope="module")
def chat_stack(infra: Infra, artifacts_dir: Path) -> Iterator[ChatStack]:
    with isolated_chat_stack(infra, artifacts_dir, workers=2) as running:
        yield running


@pytest_asyncio.fixture
async def me(chat_stack: ChatStack) -> AsyncIterator[User]:
    async with httpx.AsyncClient(base_url=chat_stack.stack.base_url, timeout=30) as client:
        yield await register(client)


async def make_thread(user: User, provider: str, model: str, **fields: Any) -> dict[str, Any]:
    r = await user.post("/api/threads", json={"model_provider": provider, "model": model, **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def chat(user: User, thread_id: str, content: str) -> list[Event]:
    async with user.client.stream(
        "POST",
        f"/api/threads/{thread_id}/chat",
        json={"content": content},
        headers=user.headers,
    ) as response:
        assert response.status_code == 200, await response.aread()
        return await read_all(response)


async def stored(user: User, thread_id: str) -> list[dict[str, Any]]:
    r = await user.get(f"/api/threads/{thread_id}/messages")
    return list(r.json()["messages"])


def unique_model(prefix: str = "gpt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_history_reaches_the_provider_on_the_second_turn(
    me: User, chat_stack: ChatStack
) -> None:
    fake = chat_stack.fake
    model = unique_model()
    thread = await make_thread(me, "openai", model, title="History", thread_type="assistant")
    first = await chat(me, thread["id"], "What is event sourcing?")
    assert first[-1].event == "message_end"
    assert text_of(first) == fake.answer
    second = await chat(me, thread["id"], "And what is a projection?")
    assert second[-1].event == "message_end"

    requests = fake.requests_for("openai", model)
    assert len(requests) == 2
    sent = requests[1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert "general-purpose assistant" in sent[0]["content"]
    assert [m["content"] for m in sent[1:]] == [
        "What is event sourcing?",
        fake.answer,
        "And what is a projection?",
    ]
    assert requests[1].headers["authorization"] == f"Bearer {KEYS['openai']}"
    assert [m["content"] for m in await stored(me, thread["id"])] == [
        "What is event sourcing?",
        fake.answer,
        "And what is a projection?",
        fake.answer,
    ]


async def test_documents_of_the_thread_and_its_project_are_in_the_prompt(
    me: User, chat_stack: ChatStack
) -> None:
    r = await me.post("/api/projects", json={"name": "Docs project"})
    assert r.status_code == 201, r.text
    project = r.json()
    model = unique_model()
    thread = await make_thread(me, "openai", model, title="Docs", project_id=project["id"])
    for url, name, text in (
        (f"/api/projects/{project['id']}/documents", "vision.md", "PROJECT-VISION-42"),
        (f"/api/threads/{thread['id']}/documents", "notes.txt", "THREAD-NOTES-17"),
    ):
        r = await me.post(url, json={"filename": name, "content": text})
        assert r.status_code == 201, r.text
    await chat(me, thread["id"], "Summarise the documents")
    [request] = chat_stack.fake.requests_for("openai", model)
    system = request.body["messages"][0]["content"]
    assert "business analyst" in system  # the default thread type
    assert "THREAD-NOTES-17" in system and "PROJECT-VISION-42" in system
    assert system.index("THREAD-NOTES-17") < system.index("PROJECT-VISION-42")
    assert 'name="notes.txt"' in system


def context_source(chat_stack: ChatStack, started: Event) -> str:
    """Where the worker took the answer's chat context from, as its `answering` line says:
    `pushed` with the post, or `asked` for."""
    assert started.event == "message_start"
    message_id = started.data["message_id"]
    for line in chat_stack.logs().splitlines():
        if '"answering"' in line and message_id in line:
            return str(json.loads(line)["context"])
    raise AssertionError(f"no answering line for {message_id}")


async def test_an_answer_starts_from_the_context_pushed_with_the_post(
    me: User, chat_stack: ChatStack
) -> None:
    model = unique_model()
    thread = await make_thread(me, "openai", model, title="Pushed")
    r = await me.post(
        f"/api/threads/{thread['id']}/documents",
        json={"filename": "notes.txt", "content": "PUSHED-NOTES-8"},
    )
    assert r.status_code == 201, r.text
    first = await chat(me, thread["id"], "First question")
    second = await chat(me, thread["id"], "Second question")
    assert [context_source(chat_stack, evs[0]) for evs in (first, second)] == ["pushed"] * 2
    request = chat_stack.fake.requests_for("openai", model)[-1]
    assert "PUSHED-NOTES-8" in request.body["messages"][0]["content"]
    assert [m["role"] for m in request.body["messages"][1:]] == ["user", "assistant", "user"]
    assert "First question" in request.texts() and "Second question" in request.texts()


async def test_a_user_with_a_saved_config_gets_no_push_and_their_key_is_used(
    me: User, chat_stack: ChatStack
) -> None:
    own_key = "sk-own-" + uuid.uuid4().hex
    r = await me.put("/api/providers/openai/config", json={"api_key": own_key})
    assert r.status_code == 200, r.text
    model = unique_model()
    thread = await make_thread(me, "openai", model, title="Own key")
    evs = await chat(me, thread["id"], "Which key?")
    assert context_source(chat_stack, evs[0]) == "asked"
    # The user's key is the one sent; the fake takes only the deployment's, and says 401.
    [request] = chat_stack.fake.requests_for("openai", model)
    assert request.headers["authorization"] == f"Bearer {own_key}"
    assert evs[-1].event == "error" and evs[-1].data["code"] == "provider_auth_failed"
    assert own_key not in chat_stack.logs()


async def test_a_context_too_big_to_push_is_asked_for(me: User, chat_stack: ChatStack) -> None:
    model = unique_model()
    thread = await make_thread(me, "openai", model, title="Big")
    big = "BIG-DOC-5 " + "lorem ipsum " * 25_000  # ~300 KB, past the 256 KiB push limit
    r = await me.post(
        f"/api/threads/{thread['id']}/documents", json={"filename": "big.txt", "content": big}
    )
    assert r.status_code == 201, r.text
    evs = await chat(me, thread["id"], "Read the big one")
    assert evs[-1].event == "message_end"
    assert context_source(chat_stack, evs[0]) == "asked"
    [request] = chat_stack.fake.requests_for("openai", model)
    assert "BIG-DOC-5" in request.body["messages"][0]["content"]


@pytest.mark.parametrize(
    ("model", "code", "requests"),
    [
        ("fail-401", "provider_auth_failed", 1),
        ("fail-429", "rate_limited", 3),  # retried twice, then given up
        ("fail-500", "provider_unavailable", 3),
        ("context-too-long", "context_too_long", 1),
    ],
)
async def test_provider_errors_end_the_stream_and_are_stored(
    me: User, chat_stack: ChatStack, model: str, code: str, requests: int
) -> None:
    thread = await make_thread(me, "openai", model, title="Errors")
    before = len(chat_stack.fake.requests_for("openai", model))
    evs = await chat(me, thread["id"], "Will this work?")
    assert [e.event for e in evs] == ["message_start", "error"]
    assert evs[-1].data["code"] == code
    assert evs[-1].data["message"]
    assert len(chat_stack.fake.requests_for("openai", model)) - before == requests
    answer = (await stored(me, thread["id"]))[-1]
    assert answer["status"] == "failed"
    assert answer["metadata"]["error_code"] == code
    assert all(key not in str(evs) + str(answer) for key in KEYS.values())


async def test_a_stream_dropped_mid_answer_restarts_as_a_new_attempt(
    me: User, chat_stack: ChatStack
) -> None:
    fake = chat_stack.fake
    model = unique_model()
    fake.script(
        "openai",
        Behaviour(kind="drop", drop_after=4, answer="partial words that will vanish soon now"),
        Behaviour(answer="The complete second attempt."),
        model=model,
    )
    thread = await make_thread(me, "openai", model, title="Drop")
    evs = await chat(me, thread["id"], "Tell me something")
    kinds = [e.event for e in evs]
    assert kinds[0] == "message_start" and kinds[-1] == "message_end"
    restart = kinds.index("restart")
    assert "token" in kinds[1:restart] and "token" in kinds[restart:]
    assert evs[restart].data["attempt"] == 2
    ids = [e.id for e in evs if e.id is not None]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert text_of(evs) == "The complete second attempt."
    answer = (await stored(me, thread["id"]))[-1]
    assert (answer["status"], answer["content"]) == ("complete", "The complete second attempt.")


@pytest.mark.parametrize(
    ("provider", "model"), [("anthropic", "claude-fake"), ("google", "gemini-fake")]
)
async def test_each_sdk_answers_through_the_stack(
    me: User, chat_stack: ChatStack, provider: str, model: str
) -> None:
    thread = await make_thread(me, provider, model, title=provider)
    evs = await chat(me, thread["id"], f"Hello {provider}")
    assert evs[-1].event == "message_end"
    assert text_of(evs) == chat_stack.fake.answer
    assert evs[-1].data["usage"]["output_tokens"] > 0
    assert (await stored(me, thread["id"]))[-1]["content"] == chat_stack.fake.answer


async def test_title_comes_from_the_model_without_its_reasoning(
    me: User, chat_stack: ChatStack
) -> None:
    model = unique_model()
    chat_stack.fake.script(
        "openai",
        Behaviour(answer="An answer about budgets."),
        Behaviour(answer='<think>They ask about budgets, so...</think>\n"Budget Planning Basics"'),
        model=model,
    )
    thread = await make_thread(me, "openai", model)
    await chat(me, thread["id"], "How do I plan a budget?")
    for _ in range(100):
        r = await me.get(f"/api/threads/{thread['id']}")
        if r.json()["title"] != "New Chat":
            break
        await asyncio.sleep(0.1)
    assert r.json()["title"] == "Budget Planning Basics"
    title_request = chat_stack.fake.requests_for("openai", model)[1]
    assert "How do I plan a budget?" in title_request.texts()


async def test_a_failed_title_leaves_new_chat(me: User, chat_stack: ChatStack) -> None:
    model = unique_model()
    chat_stack.fake.script(
        "openai",
        Behaviour(answer="Fine."),
        Behaviour(kind="status", status=400, message="bad"),
        model=model,
    )
    thread = await make_thread(me, "openai", model)
    evs = await chat(me, thread["id"], "Hi")
    settled = await chat_stack.stack.logged(
        "chat-worker", "delivery settled", message_id=evs[0].data["message_id"]
    )
    assert settled["title_job"] is True  # tried, refused by the provider
    assert len(chat_stack.fake.requests_for("openai", model)) == 2
    r = await me.get(f"/api/threads/{thread['id']}")
    assert r.json()["title"] == "New Chat"


@pytest.mark.slow
async def test_a_worker_killed_mid_answer_leaves_it_to_another(
    me: User, chat_stack: ChatStack
) -> None:
    thread = await make_thread(me, "echo", "echo-slow", title="Crash")
    words = " ".join(f"w{i}" for i in range(50))  # about 2.5 s at 50 ms a word
    seen: list[Event] = []
    killed = None
    async with me.client.stream(
        "POST", f"/api/threads/{thread['id']}/chat", json={"content": words}, headers=me.headers
    ) as response:
        async for ev in events(response):
            seen.append(ev)
            if killed is None and sum(e.event == "token" for e in seen) == 5:
                message_id = seen[0].data["message_id"]
                killed = next(
                    svc
                    for name, svc in chat_stack.stack.services.items()
                    if name.startswith("chat-worker")
                    and f'"message_id": "{message_id}"' in svc.log_path.read_text()
                )
                killed.kill()  # SIGKILL mid-answer
            if ev.event in ("message_end", "error", "cancelled"):
                break
    try:
        kinds = [e.event for e in seen]
        assert kinds[-1] == "message_end"
        assert "restart" in kinds
        assert text_of(seen) == f"Echo: {words}"
        messages = await stored(me, thread["id"])
        assert [(m["role"], m["status"]) for m in messages] == [
            ("user", "complete"),
            ("assistant", "complete"),
        ]
        assert messages[1]["content"] == f"Echo: {words}"
        r = await me.get(f"/api/threads/{thread['id']}/events")
        outcomes = [
            e["type"]
            for e in r.json()["events"]
            if e["type"].startswith("AssistantMessage") and e["type"] != "AssistantMessageRequested"
        ]
        assert outcomes == ["AssistantMessageCompleted"]
    finally:
        assert killed is not None
        killed.start()


async def test_no_key_ever_reaches_a_log(chat_stack: ChatStack) -> None:
    logs = chat_stack.logs()
    assert logs
    for key in KEYS.values():
        assert key not in logs


async def test_title_uses_the_title_route_when_tasks_are_separate(
    me: User, chat_stack: ChatStack
) -> None:
    model = unique_model("titler")
    chat_stack.fake.script("openai", Behaviour(answer="Routed Title Words"), model=model)
    r = await me.put(
        "/api/task-routes",
        json={
            "use_separate_models": True,
            "routes": [{"task": "title", "provider": "openai", "model": model}],
        },
    )
    assert r.status_code == 200, r.text
    thread = await make_thread(me, "echo", "echo")
    await chat(me, thread["id"], "An echo thread titled by another model")
    for _ in range(100):
        r = await me.get(f"/api/threads/{thread['id']}")
        if r.json()["title"] != "New Chat":
            break
        await asyncio.sleep(0.1)
    assert r.json()["title"] == "Routed Title Words"
    [request] = chat_stack.fake.requests_for("openai", model)
    assert "An echo thread titled by another model" in request.texts()
