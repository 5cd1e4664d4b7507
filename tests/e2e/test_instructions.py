"""Instructions on projects and threads (issue 16): set on create and by PATCH (null clears,
left out keeps), shown in every project and thread view, refused over 32,000 characters with
nothing changed, copied by a fork, and composed into the system prompt each SDK sends: the
thread type's prompt, then the project's, then the thread's, then the documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from contracts.generation import INSTRUCTIONS_MAX
from tests.conftest import User, register
from tests.support.chat_stack import KEYS, ChatStack
from tests.support.provider_chat import (
    answer_request,
    chat,
    context_source,
    new_thread,
    unique_model,
)
from tests.support.sse_client import Event

TYPE_PROMPT = "general-purpose assistant"  # in the `assistant` thread type's prompt


@pytest_asyncio.fixture
async def me(provider_stack: ChatStack) -> AsyncIterator[User]:
    async with httpx.AsyncClient(base_url=provider_stack.stack.base_url, timeout=30) as client:
        yield await register(client)


async def project(user: User, **body: Any) -> dict[str, Any]:
    r = await user.post("/api/projects", json={"name": "Guided", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def system_sent(stack: ChatStack, provider: str, model: str) -> str:
    """The system prompt as it went over the wire, in each API's own place."""
    body = answer_request(stack, provider, model).body
    if provider == "anthropic":
        return str(body["system"])
    if provider == "google":
        return "".join(p["text"] for p in body["systemInstruction"]["parts"])
    first = body["messages"][0]
    assert first["role"] == "system"
    return str(first["content"])


def in_order(text: str, *parts: str) -> bool:
    places = [text.find(p) for p in parts]
    return -1 not in places and places == sorted(places)


async def test_set_on_create_in_every_view_changed_and_cleared(me: User) -> None:
    p = await project(me, instructions="Answer as the project's architect.")
    assert p["instructions"] == "Answer as the project's architect."
    r = await me.post(
        f"/api/projects/{p['id']}/threads",
        json={"model_provider": "echo", "instructions": "Reply in haiku."},
    )
    assert r.status_code == 201, r.text
    thread = r.json()
    assert thread["instructions"] == "Reply in haiku."

    assert (await me.get(f"/api/projects/{p['id']}")).json()["instructions"] == p["instructions"]
    [listed] = [x for x in (await me.get("/api/projects")).json()["projects"] if x["id"] == p["id"]]
    assert listed["instructions"] == p["instructions"]
    detail = (await me.get(f"/api/threads/{thread['id']}")).json()
    assert detail["instructions"] == "Reply in haiku."
    for url in ("/api/threads", f"/api/projects/{p['id']}/threads"):
        [row] = (await me.get(url)).json()["threads"]
        assert row["instructions"] == "Reply in haiku.", url

    # PATCH: a change, a field left out keeps them, null clears
    r = await me.patch(f"/api/threads/{thread['id']}", json={"instructions": "Reply in prose."})
    assert r.status_code == 200 and r.json()["instructions"] == "Reply in prose."
    r = await me.patch(f"/api/threads/{thread['id']}", json={"title": "Renamed"})
    assert r.json()["instructions"] == "Reply in prose."
    r = await me.patch(f"/api/threads/{thread['id']}", json={"instructions": None})
    assert r.status_code == 200 and r.json()["instructions"] is None
    r = await me.patch(f"/api/projects/{p['id']}", json={"description": "kept instructions"})
    assert r.json()["instructions"] == p["instructions"]
    r = await me.patch(f"/api/projects/{p['id']}", json={"instructions": None})
    assert r.status_code == 200 and r.json()["instructions"] is None
    assert (await me.get(f"/api/projects/{p['id']}")).json()["instructions"] is None

    # without any: null in the views
    plain = await new_thread(me, "echo", "echo")
    assert plain["instructions"] is None
    assert (await project(me))["instructions"] is None


async def test_over_the_limit_is_422_and_nothing_changes(me: User) -> None:
    longest, too_long = "x" * INSTRUCTIONS_MAX, "x" * (INSTRUCTIONS_MAX + 1)
    before = len((await me.get("/api/projects")).json()["projects"])
    r = await me.post("/api/projects", json={"name": "Too long", "instructions": too_long})
    assert r.status_code == 422, r.text
    r = await me.post("/api/threads", json={"model_provider": "echo", "instructions": too_long})
    assert r.status_code == 422, r.text
    assert len((await me.get("/api/projects")).json()["projects"]) == before
    assert (await me.get("/api/threads")).json()["total"] == 0

    p = await project(me, instructions="kept")
    thread = await new_thread(me, "echo", "echo", instructions="kept too")
    for url in (f"/api/projects/{p['id']}", f"/api/threads/{thread['id']}"):
        body = {"instructions": too_long, "title": "never applied", "name": "never applied"}
        r = await me.patch(url, json=body)
        assert r.status_code == 422, r.text
        after = (await me.get(url)).json()
        assert after["instructions"] in ("kept", "kept too")
        assert "never applied" not in (after.get("title"), after.get("name"))
        r = await me.patch(url, json={"instructions": 42})
        assert r.status_code == 422, r.text

    r = await me.patch(f"/api/threads/{thread['id']}", json={"instructions": longest})
    assert r.status_code == 200 and len(r.json()["instructions"]) == INSTRUCTIONS_MAX


async def test_another_users_project_or_thread_is_404(me: User, provider_stack: ChatStack) -> None:
    p = await project(me, instructions="mine")
    thread = await new_thread(me, "echo", "echo", instructions="mine too")
    async with httpx.AsyncClient(base_url=provider_stack.stack.base_url, timeout=30) as client:
        other = await register(client)
        for url in (f"/api/projects/{p['id']}", f"/api/threads/{thread['id']}"):
            r = await other.patch(url, json={"instructions": "theirs"})
            assert r.status_code == 404, r.text
            assert (await me.get(url)).json()["instructions"] in ("mine", "mine too")


async def test_a_fork_keeps_the_thread_instructions(me: User) -> None:
    thread = await new_thread(me, "echo", "echo", instructions="Stay formal.")
    started = (await chat(me, thread["id"], "hello"))[0]
    r = await me.post(
        f"/api/threads/{thread['id']}/fork", json={"message_id": started.data["message_id"]}
    )
    assert r.status_code == 201, r.text
    assert r.json()["instructions"] == "Stay formal."


async def instructed_chat(
    me: User, provider: str, model: str, *, with_documents: bool = True
) -> list[Event]:
    p = await project(me, instructions="PROJECT-RULE: cite the source.")
    thread = await new_thread(
        me,
        provider,
        model,
        project_id=p["id"],
        thread_type="assistant",
        instructions="THREAD-RULE: answer in one line.",
    )
    if with_documents:
        r = await me.post(
            f"/api/threads/{thread['id']}/documents",
            json={"filename": "notes.txt", "content": "DOC-TEXT-5"},
        )
        assert r.status_code == 201, r.text
    return await chat(me, thread["id"], "What do the notes say?")


@pytest.mark.parametrize(
    ("provider", "prefix"), [("openai", "gpt"), ("anthropic", "claude"), ("google", "gemini")]
)
async def test_the_provider_gets_type_prompt_project_thread_then_documents(
    me: User, provider_stack: ChatStack, provider: str, prefix: str
) -> None:
    model = unique_model(prefix)
    evs = await instructed_chat(me, provider, model)
    assert evs[-1].event == "message_end", evs[-1]
    system = system_sent(provider_stack, provider, model)
    assert in_order(
        system, TYPE_PROMPT, "PROJECT-RULE: cite the source.", "THREAD-RULE", "DOC-TEXT-5"
    ), system
    # each block a paragraph of its own, the instructions exactly as written
    assert "\n\nPROJECT-RULE: cite the source.\n\nTHREAD-RULE: answer in one line.\n\n" in system


async def test_the_context_asked_for_carries_them_as_the_pushed_one_does(
    me: User, provider_stack: ChatStack
) -> None:
    """A user with a config of their own for the provider gets no push: the worker asks."""
    pushed_model, asked_model = unique_model(), unique_model()
    first = await instructed_chat(me, "openai", pushed_model)
    r = await me.put("/api/providers/openai/config", json={"api_key": KEYS["openai"]})
    assert r.status_code == 200, r.text
    second = await instructed_chat(me, "openai", asked_model)
    sources = [context_source(provider_stack, evs[0]) for evs in (first, second)]
    assert sources == ["pushed", "asked"]
    pushed = system_sent(provider_stack, "openai", pushed_model)
    assert "PROJECT-RULE" in pushed and "THREAD-RULE" in pushed
    assert system_sent(provider_stack, "openai", asked_model) == pushed
