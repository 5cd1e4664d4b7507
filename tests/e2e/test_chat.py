"""Chat through the gateway with the offline `echo` provider: the stream, what is stored, and
reading the stream again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import nats
import pytest

from contracts.subjects import TOKENS_STREAM, tokens_subject
from tests.conftest import User
from tests.support.servers import Infra
from tests.support.sse_client import Event, events, read_all, text_of
from tests.support.stack import Stack


async def make_thread(user: User, **fields: Any) -> dict[str, Any]:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo", **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def chat(user: User, thread_id: str, content: str, **kw: Any) -> list[Event]:
    async with user.client.stream(
        "POST",
        f"/api/threads/{thread_id}/chat",
        json={"content": content},
        headers={**user.headers, **kw.pop("headers", {})},
        **kw,
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return await read_all(response)


async def messages(user: User, thread_id: str) -> list[dict[str, Any]]:
    r = await user.get(f"/api/threads/{thread_id}/messages")
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def test_the_answer_streams_and_is_stored_as_streamed(user: User) -> None:
    thread = await make_thread(user)
    evs = await chat(user, thread["id"], "hello there, streaming world")

    start = evs[0]
    assert start.event == "message_start"
    assert start.data["thread_id"] == thread["id"]
    assert start.data["provider"] == "echo" and start.data["model"] == "echo"
    assert {"user_message_id", "message_id"} <= start.data.keys()
    tokens = [e for e in evs if e.event == "token"]
    assert tokens
    ids = [e.id for e in tokens]
    assert all(i is not None for i in ids) and ids == sorted(ids) and len(set(ids)) == len(ids)
    end = evs[-1]
    assert end.event == "message_end"
    assert end.data["message_id"] == start.data["message_id"]
    assert end.data["finish_reason"] == "stop"
    assert end.data["usage"]["output_tokens"] > 0
    streamed = text_of(evs)
    assert "hello there, streaming world" in streamed

    stored = await messages(user, thread["id"])
    assert [(m["role"], m["status"]) for m in stored] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert stored[0]["id"] == start.data["user_message_id"]
    assert stored[0]["content"] == "hello there, streaming world"
    assert stored[1]["id"] == start.data["message_id"]
    assert stored[1]["content"] == streamed
    assert stored[1]["provider"] == "echo" and stored[1]["model"] == "echo"
    assert stored[1]["usage"] == end.data["usage"]


async def test_messages_move_count_and_activity(user: User) -> None:
    thread = await make_thread(user, title="Kept title")
    await chat(user, thread["id"], "one")
    await chat(user, thread["id"], "two")
    r = await user.get(f"/api/threads/{thread['id']}")
    body = r.json()
    assert body["message_count"] == 4
    assert body["last_activity_at"] > thread["last_activity_at"]
    assert body["title"] == "Kept title"


async def test_a_finished_answer_streams_again_from_its_tokens(user: User) -> None:
    thread = await make_thread(user)
    first = await chat(user, thread["id"], "say it twice")
    message_id = first[0].data["message_id"]
    async with user.client.stream(
        "GET", f"/api/threads/{thread['id']}/messages/{message_id}/stream", headers=user.headers
    ) as response:
        assert response.status_code == 200
        again = await read_all(response)
    assert again[0].event == "message_start"
    assert again[0].data["message_id"] == message_id
    assert again[0].data["user_message_id"] == first[0].data["user_message_id"]
    assert [(e.event, e.id, e.data) for e in again[1:]] == [
        (e.event, e.id, e.data) for e in first[1:]
    ]


async def test_resume_with_last_event_id_gets_exactly_the_rest(user: User) -> None:
    thread = await make_thread(user, model="echo-slow")
    words = " ".join(f"w{i}" for i in range(30))
    seen: list[Event] = []
    async with user.client.stream(
        "POST", f"/api/threads/{thread['id']}/chat", json={"content": words}, headers=user.headers
    ) as response:
        async for ev in events(response):
            seen.append(ev)
            if sum(e.event == "token" for e in seen) == 3:
                break  # the client goes away mid-answer
    message_id = seen[0].data["message_id"]
    last_id = [e for e in seen if e.event == "token"][-1].id
    async with user.client.stream(
        "GET",
        f"/api/threads/{thread['id']}/messages/{message_id}/stream",
        headers={**user.headers, "Last-Event-ID": str(last_id)},
    ) as response:
        rest = await read_all(response)
    assert rest[0].event == "message_start"
    assert all(e.id is not None and e.id > last_id for e in rest[1:])
    assert rest[-1].event == "message_end"
    combined = text_of(seen) + text_of(rest)
    assert combined == f"Echo: {words}"
    stored = await messages(user, thread["id"])
    assert stored[-1]["content"] == combined


async def test_expired_tokens_stream_the_stored_answer(user: User, infra: Infra) -> None:
    thread = await make_thread(user)
    first = await chat(user, thread["id"], "remember me")
    message_id = first[0].data["message_id"]
    nc = await nats.connect(infra.nats_url)
    try:
        await nc.jetstream().purge_stream(
            TOKENS_STREAM, subject=tokens_subject(thread["id"], message_id)
        )
    finally:
        await nc.close()
    url = f"/api/threads/{thread['id']}/messages/{message_id}/stream"
    async with user.client.stream("GET", url, headers=user.headers) as response:
        replayed = await read_all(response)
    assert [e.event for e in replayed] == ["message_start", "token", "message_end"]
    assert text_of(replayed) == text_of(first)
    # A reconnecting client (it had seen part of it) is told to start over, then gets it all.
    async with user.client.stream(
        "GET", url, headers={**user.headers, "Last-Event-ID": str(first[1].id)}
    ) as response:
        resumed = await read_all(response)
    assert [e.event for e in resumed] == ["message_start", "restart", "token", "message_end"]
    assert text_of(resumed) == text_of(first)


async def test_cancel_stores_exactly_what_was_streamed(user: User) -> None:
    thread = await make_thread(user, model="echo-slow")
    words = " ".join(f"word{i}" for i in range(200))
    seen: list[Event] = []
    async with user.client.stream(
        "POST", f"/api/threads/{thread['id']}/chat", json={"content": words}, headers=user.headers
    ) as response:
        async for ev in events(response):
            seen.append(ev)
            if ev.event == "token" and sum(e.event == "token" for e in seen) == 3:
                message_id = seen[0].data["message_id"]
                r = await user.post(f"/api/threads/{thread['id']}/messages/{message_id}/cancel")
                assert r.status_code == 202, r.text
                assert r.json()["status"] == "streaming"
            if ev.event in ("message_end", "error", "cancelled"):
                break
    assert seen[-1].event == "cancelled"
    assert seen[-1].data == {"message_id": message_id}
    streamed = text_of(seen)
    assert 0 < len(streamed) < len(f"Echo: {words}")
    stored = await messages(user, thread["id"])
    assert stored[-1]["status"] == "cancelled"
    assert stored[-1]["content"] == streamed
    # Cancelling a finished answer changes nothing.
    r = await user.post(f"/api/threads/{thread['id']}/messages/{message_id}/cancel")
    assert r.status_code == 202
    assert r.json()["status"] == "cancelled"


async def test_titles_are_generated_once_for_new_chats(user: User, stack: Stack) -> None:
    thread = await make_thread(user)
    assert thread["title"] == "New Chat"
    await chat(user, thread["id"], "Planning the quarterly roadmap review meeting agenda")
    title = await wait_for_title(user, thread["id"])
    assert title == "Planning the quarterly roadmap review meeting"
    evs = await chat(user, thread["id"], "Something else entirely now")
    settled = await stack.logged(
        "chat-worker", "delivery settled", message_id=evs[0].data["message_id"]
    )
    assert settled["title_job"] is False
    r = await user.get(f"/api/threads/{thread['id']}")
    assert r.json()["title"] == title


async def wait_for_title(user: User, thread_id: str, timeout: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        r = await user.get(f"/api/threads/{thread_id}")
        if r.json()["title"] != "New Chat":
            return str(r.json()["title"])
        await asyncio.sleep(0.1)
    raise AssertionError("no title was generated")


async def test_a_user_chosen_title_is_never_replaced(user: User, stack: Stack) -> None:
    thread = await make_thread(user, title="Mine")
    evs = await chat(user, thread["id"], "Words that would make a title")
    settled = await stack.logged(
        "chat-worker", "delivery settled", message_id=evs[0].data["message_id"]
    )
    assert settled["title_job"] is False
    r = await user.get(f"/api/threads/{thread['id']}")
    assert r.json()["title"] == "Mine"


async def test_a_provider_without_a_key_fails_cleanly(user: User) -> None:
    thread = await make_thread(user, model_provider="anthropic", model="claude-x")
    evs = await chat(user, thread["id"], "anyone there?")
    assert [e.event for e in evs] == ["message_start", "error"]
    assert evs[-1].data["code"] == "provider_not_configured"
    stored = await messages(user, thread["id"])
    assert stored[-1]["status"] == "failed"
    assert stored[-1]["metadata"]["error_code"] == "provider_not_configured"


async def test_idempotency_key_streams_the_same_answer(user: User) -> None:
    thread = await make_thread(user, title="Idempotent")
    key = {"Idempotency-Key": f"chat-{uuid.uuid4()}"}
    first = await chat(user, thread["id"], "only once", headers=key)
    again = await chat(user, thread["id"], "only once", headers=key)
    assert again[0].data == first[0].data
    assert text_of(again) == text_of(first)
    assert len(await messages(user, thread["id"])) == 2


async def test_another_users_thread_is_404(user: User, other_user: User) -> None:
    thread = await make_thread(user)
    evs = await chat(user, thread["id"], "private")
    message_id = evs[0].data["message_id"]
    r = await other_user.post(f"/api/threads/{thread['id']}/chat", json={"content": "hi"})
    assert r.status_code == 404
    r = await other_user.get(f"/api/threads/{thread['id']}/messages/{message_id}/stream")
    assert r.status_code == 404
    r = await other_user.post(f"/api/threads/{thread['id']}/messages/{message_id}/cancel")
    assert r.status_code == 404
    r = await user.get(f"/api/threads/{thread['id']}/messages/{uuid.uuid4()}/stream")
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"content": ""}, 422), ({"content": "   "}, 400), ({"content": 5}, 422)],
)
async def test_bad_chat_bodies_are_refused(user: User, body: dict[str, Any], status: int) -> None:
    thread = await make_thread(user)
    r = await user.post(f"/api/threads/{thread['id']}/chat", json=body)
    assert r.status_code == status, r.text
    assert await messages(user, thread["id"]) == []


async def test_unauthenticated_chat_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post(f"/api/threads/{uuid.uuid4()}/chat", json={"content": "x"})
    assert r.status_code == 401
