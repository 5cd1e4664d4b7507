"""The conversation tree through the real stack: regenerate, edit, branch, switch branch, fork,
subtree delete, every branch listed, and the refusals.

The echo provider answers `Echo: <the last user message>`, and its usage counts the words of
everything it was sent (system prompt and history), so `usage.input_tokens` tells exactly
which messages a generation received: `input_tokens(answer) - words(its ancestors)` is the
system prompt's word count, the same for every answer of a thread."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import User
from tests.support.sse_client import TERMINAL, Event, events, read_all, text_of

MessageList = list[dict[str, Any]]


async def make_thread(user: User, **fields: Any) -> dict[str, Any]:
    r = await user.post("/api/threads", json={"model_provider": "echo", "model": "echo", **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def stream(
    user: User, url: str, body: dict[str, Any] | None = None, **kw: Any
) -> list[Event]:
    """An answer stream read to its terminal event."""
    async with user.client.stream(
        "POST", url, json=body or {}, headers={**user.headers, **kw.pop("headers", {})}, **kw
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return await read_all(response)


async def chat(
    user: User, thread_id: str, content: str, headers: dict[str, str] | None = None, **fields: Any
) -> list[Event]:
    url = f"/api/threads/{thread_id}/chat"
    return await stream(user, url, {"content": content, **fields}, headers=headers or {})


async def regenerate(user: User, thread_id: str, message_id: str, **kw: Any) -> list[Event]:
    return await stream(user, f"/api/threads/{thread_id}/messages/{message_id}/regenerate", **kw)


async def edit(user: User, thread_id: str, message_id: str, content: str, **kw: Any) -> list[Event]:
    url = f"/api/threads/{thread_id}/messages/{message_id}/edit"
    return await stream(user, url, {"content": content}, **kw)


async def listed(user: User, thread_id: str, path: str | None = None) -> MessageList:
    params = {"path": path} if path else {}
    r = await user.get(f"/api/threads/{thread_id}/messages", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def thread_of(user: User, thread_id: str) -> dict[str, Any]:
    r = await user.get(f"/api/threads/{thread_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def ids(messages: MessageList) -> list[str]:
    return [m["id"] for m in messages]


def by_id(messages: MessageList) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in messages}


def answered(evs: list[Event]) -> tuple[str, str]:
    """(question id, answer id) that a stream's message_start names."""
    assert evs[0].event == "message_start", evs
    assert evs[-1].event == "message_end", evs
    return evs[0].data["user_message_id"], evs[0].data["message_id"]


def words(messages: MessageList) -> int:
    return sum(len(m["content"].split()) for m in messages)


async def turns(user: User, thread_id: str, *contents: str) -> list[tuple[str, str]]:
    """Chats one after another, each after the active leaf: (question, answer) ids."""
    return [answered(await chat(user, thread_id, content)) for content in contents]


# -- the fields -------------------------------------------------------------------------------


async def test_a_chain_has_parents_siblings_and_an_active_leaf(user: User) -> None:
    thread = await make_thread(user)
    assert thread["active_leaf_id"] is None and thread["forked_from"] is None
    (q1, a1), (q2, a2) = await turns(user, thread["id"], "first", "second")

    detail = await thread_of(user, thread["id"])
    assert detail["active_leaf_id"] == a2
    assert detail["forked_from"] is None
    assert ids(detail["messages"]) == [q1, a1, q2, a2]
    assert [m["parent_id"] for m in detail["messages"]] == [None, q1, a1, q2]
    assert all((m["sibling_index"], m["sibling_count"]) == (0, 1) for m in detail["messages"])
    assert await listed(user, thread["id"]) == detail["messages"]
    assert await listed(user, thread["id"], "active") == detail["messages"]
    assert await listed(user, thread["id"], "all") == detail["messages"]


async def test_an_unknown_path_is_422(user: User) -> None:
    thread = await make_thread(user)
    for path in ("newest", "ALL", ""):
        r = await user.get(f"/api/threads/{thread['id']}/messages", params={"path": path})
        assert r.status_code == 422, (path, r.text)


# -- regenerate ----------------------------------------------------------------------------


async def test_regenerate_adds_a_sibling_answer_that_becomes_the_active_leaf(user: User) -> None:
    thread = await make_thread(user)
    ((q1, a1),) = await turns(user, thread["id"], "tell me again")

    evs = await regenerate(user, thread["id"], a1)
    start = evs[0].data
    assert start["thread_id"] == thread["id"]
    assert start["user_message_id"] == q1
    assert start["message_id"] not in (q1, a1)
    assert (start["provider"], start["model"]) == ("echo", "echo")
    assert len(evs) > 2 and {e.event for e in evs[1:-1]} == {"token"}
    assert evs[-1].data["message_id"] == start["message_id"]
    assert text_of(evs) == "Echo: tell me again"
    a2 = start["message_id"]

    detail = await thread_of(user, thread["id"])
    assert detail["active_leaf_id"] == a2
    assert detail["message_count"] == 3
    assert ids(detail["messages"]) == [q1, a2]
    everything = await listed(user, thread["id"], "all")
    assert ids(everything) == [q1, a1, a2]
    rows = by_id(everything)
    assert rows[a1]["parent_id"] == rows[a2]["parent_id"] == q1
    assert (rows[a1]["sibling_index"], rows[a1]["sibling_count"]) == (0, 2)
    assert (rows[a2]["sibling_index"], rows[a2]["sibling_count"]) == (1, 2)
    assert rows[a1]["content"] == rows[a2]["content"] == "Echo: tell me again"
    assert rows[a2]["status"] == "complete"
    assert rows[a2]["usage"] == evs[-1].data["usage"]
    assert rows[a2]["usage"]["input_tokens"] == rows[a1]["usage"]["input_tokens"]


async def test_regenerate_may_use_another_model_of_the_provider(user: User) -> None:
    thread = await make_thread(user)
    ((_, a1),) = await turns(user, thread["id"], "which model")
    evs = await regenerate(user, thread["id"], a1, body={"model": "echo-slow"})
    assert evs[0].data["model"] == "echo-slow"
    rows = by_id(await listed(user, thread["id"], "all"))
    assert rows[evs[0].data["message_id"]]["model"] == "echo-slow"
    assert rows[a1]["model"] == "echo"
    assert (await thread_of(user, thread["id"]))["model"] == "echo"  # the binding stays

    url = f"/api/threads/{thread['id']}/messages/{a1}/regenerate"
    r = await user.post(url, json={"model": "no-such-model"})
    assert r.status_code == 400, r.text
    assert len(await listed(user, thread["id"], "all")) == 3


async def test_a_regenerated_answer_resumes_and_cancels_like_a_chat(user: User) -> None:
    thread = await make_thread(user, model="echo-slow")
    question = " ".join(f"w{i}" for i in range(30))
    ((_, a1),) = await turns(user, thread["id"], question)
    url = f"/api/threads/{thread['id']}/messages/{a1}/regenerate"
    seen: list[Event] = []
    async with user.client.stream("POST", url, json={}, headers=user.headers) as response:
        assert response.status_code == 200
        async for ev in events(response):
            seen.append(ev)
            if sum(e.event == "token" for e in seen) == 3:
                break  # the client goes away mid-answer
    a2 = seen[0].data["message_id"]
    last_id = [e for e in seen if e.event == "token"][-1].id
    assert last_id is not None
    async with user.client.stream(
        "GET",
        f"/api/threads/{thread['id']}/messages/{a2}/stream",
        headers={**user.headers, "Last-Event-ID": str(last_id)},
    ) as response:
        rest = await read_all(response)
    assert rest[0].event == "message_start" and rest[0].data["message_id"] == a2
    assert all(e.id is not None and e.id > last_id for e in rest[1:])
    assert rest[-1].event == "message_end"
    assert text_of(seen) + text_of(rest) == f"Echo: {question}"

    # Cancelled mid-answer: stored as cancelled with exactly what was streamed.
    got: list[Event] = []
    async with user.client.stream("POST", url, json={}, headers=user.headers) as response:
        async for ev in events(response):
            got.append(ev)
            if ev.event == "token" and sum(e.event == "token" for e in got) == 2:
                a3 = got[0].data["message_id"]
                r = await user.post(f"/api/threads/{thread['id']}/messages/{a3}/cancel")
                assert r.status_code == 202, r.text
            if ev.event in TERMINAL:
                break
    assert got[-1].event == "cancelled"
    rows = by_id(await listed(user, thread["id"], "all"))
    assert rows[a3]["status"] == "cancelled"
    assert rows[a3]["content"] == text_of(got)
    assert rows[a3]["sibling_count"] == 3


# -- edit -------------------------------------------------------------------------------------


async def test_edit_adds_a_sibling_question_and_its_answer(user: User) -> None:
    thread = await make_thread(user)
    (q1, a1), (q2, a2) = await turns(user, thread["id"], "first", "secnod")

    evs = await edit(user, thread["id"], q2, "second, spelt right")
    q3, a3 = answered(evs)
    assert q3 not in (q1, q2) and a3 not in (a1, a2)
    assert text_of(evs) == "Echo: second, spelt right"

    detail = await thread_of(user, thread["id"])
    assert detail["active_leaf_id"] == a3
    assert ids(detail["messages"]) == [q1, a1, q3, a3]
    assert detail["message_count"] == 6
    rows = by_id(await listed(user, thread["id"], "all"))
    assert rows[q3]["role"] == "user" and rows[q3]["content"] == "second, spelt right"
    assert rows[q2]["content"] == "secnod"  # nothing overwritten
    assert rows[q3]["parent_id"] == rows[q2]["parent_id"] == a1
    assert (rows[q2]["sibling_index"], rows[q2]["sibling_count"]) == (0, 2)
    assert (rows[q3]["sibling_index"], rows[q3]["sibling_count"]) == (1, 2)
    assert rows[a3]["parent_id"] == q3
    assert (rows[a3]["sibling_index"], rows[a3]["sibling_count"]) == (0, 1)


async def test_edit_keeps_artifact_data_and_metadata(user: User) -> None:
    thread = await make_thread(user)
    ((q1, _),) = await turns(user, thread["id"], "plain")
    url = f"/api/threads/{thread['id']}/messages/{q1}/edit"
    body = {"content": "with extras", "artifact_data": {"kind": "table"}, "metadata": {"n": 1}}
    q2, _ = answered(await stream(user, url, body))
    row = by_id(await listed(user, thread["id"], "all"))[q2]
    assert (row["artifact_data"], row["metadata"]) == ({"kind": "table"}, {"n": 1})
    assert row["parent_id"] is None and row["sibling_index"] == 1


# -- branches ----------------------------------------------------------------------------------


async def test_a_chat_with_parent_id_branches_and_active_leaf_switches(user: User) -> None:
    thread = await make_thread(user)
    (q1, a1), (q2, a2) = await turns(user, thread["id"], "root question", "one way")
    q3, a3 = answered(await chat(user, thread["id"], "another way", parent_id=a1))

    assert ids(await listed(user, thread["id"])) == [q1, a1, q3, a3]
    everything = await listed(user, thread["id"], "all")
    assert ids(everything) == [q1, a1, q2, a2, q3, a3]  # oldest first
    created = [m["created_at"] for m in everything]
    assert created == sorted(created)
    rows = by_id(everything)
    assert rows[q2]["parent_id"] == rows[q3]["parent_id"] == a1
    assert [rows[q]["sibling_index"] for q in (q2, q3)] == [0, 1]
    assert [rows[q]["sibling_count"] for q in (q2, q3)] == [2, 2]
    assert (await thread_of(user, thread["id"]))["message_count"] == 6

    leaf = f"/api/threads/{thread['id']}/active-leaf"
    r = await user.put(leaf, json={"message_id": q2})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == thread["id"]
    assert r.json()["active_leaf_id"] == a2  # down from q2: its newest child
    assert ids(await listed(user, thread["id"])) == [q1, a1, q2, a2]
    assert ids((await thread_of(user, thread["id"]))["messages"]) == [q1, a1, q2, a2]

    # Above a fork in the road: the newest child at each level below it.
    r = await user.put(leaf, json={"message_id": q1})
    assert r.status_code == 200, r.text
    assert r.json()["active_leaf_id"] == a3
    assert ids(await listed(user, thread["id"])) == [q1, a1, q3, a3]

    # A chat without parent_id goes on from the active leaf.
    await user.put(leaf, json={"message_id": a2})
    q4, a4 = answered(await chat(user, thread["id"], "and on"))
    assert ids(await listed(user, thread["id"])) == [q1, a1, q2, a2, q4, a4]
    assert (await thread_of(user, thread["id"]))["active_leaf_id"] == a4


async def test_a_generation_sees_its_ancestors_only(user: User) -> None:
    """Each answer's input is the system prompt plus exactly the path above it: never a
    sibling branch (a long one here, so leaking it would show)."""
    thread = await make_thread(user)
    long_branch = " ".join(f"aside{i}" for i in range(60))
    (q1, a1), (_q2, a2) = await turns(user, thread["id"], "short start", long_branch)
    q3, a3 = answered(await chat(user, thread["id"], "a different turn", parent_id=a1))
    a4 = (await regenerate(user, thread["id"], a3))[0].data["message_id"]
    _q5, a5 = answered(await edit(user, thread["id"], q3, "edited turn, longer than before"))
    rows = by_id(await listed(user, thread["id"], "all"))

    def received(answer: str) -> int:
        return int(rows[answer]["usage"]["input_tokens"])

    def path_to(message: str | None) -> MessageList:
        path: MessageList = []
        while message is not None:
            path.insert(0, rows[message])
            message = rows[message]["parent_id"]
        return path

    system = received(a1) - words(path_to(q1))
    assert system >= 0
    for answer in (a2, a3, a4, a5):
        assert received(answer) == system + words(path_to(rows[answer]["parent_id"])), answer
    assert received(a3) < received(a2)  # the long sibling branch was not sent
    assert received(a4) == received(a3)


async def test_fork_copies_the_path_and_names_its_source(user: User) -> None:
    thread = await make_thread(user, title="Source", model="echo-slow", thread_type="assistant")
    (q1, a1), (q2, a2) = await turns(user, thread["id"], "keep this", "and this not")

    r = await user.post(f"/api/threads/{thread['id']}/fork", json={"message_id": a1})
    assert r.status_code == 201, r.text
    fork = r.json()
    assert fork["id"] != thread["id"]
    assert fork["forked_from"] == {"thread_id": thread["id"], "message_id": a1}
    for field in ("model_provider", "provider", "model", "project_id", "thread_type"):
        assert fork[field] == thread[field], field
    assert fork["message_count"] == 2

    copies = await listed(user, fork["id"], "all")
    source = by_id(await listed(user, thread["id"], "all"))
    assert [(m["role"], m["content"]) for m in copies] == [
        (source[q1]["role"], source[q1]["content"]),
        (source[a1]["role"], source[a1]["content"]),
    ]
    assert not set(ids(copies)) & set(source)  # copies, with their own ids
    assert [m["thread_id"] for m in copies] == [fork["id"]] * 2
    assert [m["parent_id"] for m in copies] == [None, copies[0]["id"]]
    assert fork["active_leaf_id"] == copies[1]["id"]
    detail = await thread_of(user, fork["id"])
    assert detail["forked_from"] == fork["forked_from"]
    assert ids(detail["messages"]) == ids(copies)

    # The fork goes on by itself; the source is untouched.
    q3, a3 = answered(await chat(user, fork["id"], "only in the fork"))
    assert ids(await listed(user, fork["id"])) == [*ids(copies), q3, a3]
    assert ids(await listed(user, thread["id"], "all")) == [q1, a1, q2, a2]
    assert (await thread_of(user, thread["id"]))["active_leaf_id"] == a2
    r = await user.get("/api/threads")
    assert {t["id"] for t in r.json()["threads"]} == {thread["id"], fork["id"]}


async def test_deleting_a_message_deletes_its_subtree_and_moves_the_active_leaf(
    user: User,
) -> None:
    thread = await make_thread(user)
    (q1, a1), (q2, a2) = await turns(user, thread["id"], "root", "left")
    q3, a3 = answered(await chat(user, thread["id"], "right", parent_id=a1))
    q4, a4 = answered(await chat(user, thread["id"], "right, deeper"))
    assert ids(await listed(user, thread["id"])) == [q1, a1, q3, a3, q4, a4]

    r = await user.delete(f"/api/messages/{q3}")
    assert r.status_code == 200, r.text
    detail = await thread_of(user, thread["id"])
    assert detail["active_leaf_id"] == a2  # the parent's newest remaining branch
    assert ids(detail["messages"]) == [q1, a1, q2, a2]
    assert detail["message_count"] == 4
    everything = await listed(user, thread["id"], "all")
    assert ids(everything) == [q1, a1, q2, a2]
    assert (by_id(everything)[q2]["sibling_index"], by_id(everything)[q2]["sibling_count"]) == (
        0,
        1,
    )
    for gone in (q3, a3, q4, a4):
        r = await user.delete(f"/api/messages/{gone}")
        assert r.status_code == 404, gone

    # Deleting a branch that is not active leaves the active leaf where it is.
    q5, _a5 = answered(await chat(user, thread["id"], "third way", parent_id=a1))
    await user.put(f"/api/threads/{thread['id']}/active-leaf", json={"message_id": a2})
    r = await user.delete(f"/api/messages/{q5}")
    assert r.status_code == 200, r.text
    assert (await thread_of(user, thread["id"]))["active_leaf_id"] == a2

    # The whole tree: nothing left, no active leaf.
    r = await user.delete(f"/api/messages/{q1}")
    assert r.status_code == 200, r.text
    detail = await thread_of(user, thread["id"])
    assert (detail["active_leaf_id"], detail["messages"], detail["message_count"]) == (None, [], 0)


async def test_v1_with_the_thread_header_goes_on_from_the_active_leaf(user: User) -> None:
    thread = await make_thread(user)
    (q1, a1), (q2, a2) = await turns(user, thread["id"], "start", "branch one")
    q3, _a3 = answered(await chat(user, thread["id"], "branch two", parent_id=a1))
    r = await user.put(f"/api/threads/{thread['id']}/active-leaf", json={"message_id": a2})
    assert r.status_code == 200, r.text

    r = await user.post(
        "/v1/chat/completions",
        json={"model": "echo/echo", "messages": [{"role": "user", "content": "via openai"}]},
        headers={"X-Switchboard-Thread": thread["id"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "Echo: via openai"
    path = await listed(user, thread["id"])
    assert ids(path)[:4] == [q1, a1, q2, a2]
    assert [(m["role"], m["content"]) for m in path[4:]] == [
        ("user", "via openai"),
        ("assistant", "Echo: via openai"),
    ]
    assert path[4]["parent_id"] == a2
    assert (await thread_of(user, thread["id"]))["active_leaf_id"] == path[5]["id"]
    assert q3 in ids(await listed(user, thread["id"], "all"))


# -- refusals ---------------------------------------------------------------------------------


async def test_regenerate_or_edit_while_an_answer_streams_is_409(user: User) -> None:
    thread = await make_thread(user, model="echo-slow")
    ((q1, a1),) = await turns(user, thread["id"], "quick one")
    long = " ".join(f"word{i}" for i in range(200))
    base = f"/api/threads/{thread['id']}/messages"
    seen: list[Event] = []
    async with user.client.stream(
        "POST", f"/api/threads/{thread['id']}/chat", json={"content": long}, headers=user.headers
    ) as response:
        async for ev in events(response):
            seen.append(ev)
            if ev.event == "token" and sum(e.event == "token" for e in seen) == 2:
                q2, a2 = seen[0].data["user_message_id"], seen[0].data["message_id"]
                for url, body in (
                    (f"{base}/{a1}/regenerate", {}),
                    (f"{base}/{a2}/regenerate", {}),
                    (f"{base}/{q1}/edit", {"content": "changed"}),
                    (f"{base}/{q2}/edit", {"content": "changed"}),
                ):
                    r = await user.post(url, json=body)
                    assert r.status_code == 409, (url, r.text)
                r = await user.post(f"{base}/{a2}/cancel")
                assert r.status_code == 202, r.text
            if ev.event in TERMINAL:
                break
    assert seen[-1].event == "cancelled"
    assert ids(await listed(user, thread["id"], "all")) == [q1, a1, q2, a2]
    # Once nothing streams, the same requests are taken.
    evs = await regenerate(user, thread["id"], a2, body={"model": "echo"})
    assert text_of(evs) == f"Echo: {long}"


async def test_messages_of_another_thread_or_user_are_404(user: User, other_user: User) -> None:
    mine = await make_thread(user)
    also_mine = await make_thread(user)
    theirs = await make_thread(other_user)
    ((_q1, a1),) = await turns(user, mine["id"], "mine")
    ((q2, a2),) = await turns(user, also_mine["id"], "also mine")
    ((q3, a3),) = await turns(other_user, theirs["id"], "theirs")
    before = {
        t: ids(await listed(u, t, "all"))
        for u, t in ((user, mine["id"]), (user, also_mine["id"]), (other_user, theirs["id"]))
    }

    t = mine["id"]
    strangers = (a2, a3, str(uuid.uuid4()))
    for answer in strangers:
        r = await user.post(f"/api/threads/{t}/messages/{answer}/regenerate", json={})
        assert r.status_code == 404, r.text
    for question in (q2, q3, str(uuid.uuid4())):
        r = await user.post(f"/api/threads/{t}/messages/{question}/edit", json={"content": "x"})
        assert r.status_code == 404, r.text
    for parent in (*strangers, q2, q3):
        r = await user.post(f"/api/threads/{t}/chat", json={"content": "x", "parent_id": parent})
        assert r.status_code == 404, r.text
        r = await user.put(f"/api/threads/{t}/active-leaf", json={"message_id": parent})
        assert r.status_code == 404, r.text
        r = await user.post(f"/api/threads/{t}/fork", json={"message_id": parent})
        assert r.status_code == 404, r.text
    # Another user's thread, even with its own messages.
    t = theirs["id"]
    for r in (
        await user.post(f"/api/threads/{t}/messages/{a3}/regenerate", json={}),
        await user.post(f"/api/threads/{t}/messages/{q3}/edit", json={"content": "x"}),
        await user.post(f"/api/threads/{t}/chat", json={"content": "x", "parent_id": a3}),
        await user.put(f"/api/threads/{t}/active-leaf", json={"message_id": a3}),
        await user.post(f"/api/threads/{t}/fork", json={"message_id": a3}),
        await user.get(f"/api/threads/{t}/messages", params={"path": "all"}),
    ):
        assert r.status_code == 404, (r.request.url, r.text)

    after = {
        t: ids(await listed(u, t, "all"))
        for u, t in ((user, mine["id"]), (user, also_mine["id"]), (other_user, theirs["id"]))
    }
    assert after == before
    assert (await thread_of(user, mine["id"]))["active_leaf_id"] == a1
    assert (await thread_of(other_user, theirs["id"]))["active_leaf_id"] == a3
    r = await user.get("/api/threads")
    assert {th["id"] for th in r.json()["threads"]} == {mine["id"], also_mine["id"]}  # no fork


async def test_regenerating_a_question_or_editing_an_answer_is_400(user: User) -> None:
    thread = await make_thread(user)
    ((q1, a1),) = await turns(user, thread["id"], "a question")
    base = f"/api/threads/{thread['id']}/messages"
    r = await user.post(f"{base}/{q1}/regenerate", json={})
    assert r.status_code == 400, r.text
    r = await user.post(f"{base}/{a1}/edit", json={"content": "not a question"})
    assert r.status_code == 400, r.text
    assert ids(await listed(user, thread["id"], "all")) == [q1, a1]


async def test_bad_edit_and_regenerate_bodies_are_refused(user: User) -> None:
    thread = await make_thread(user)
    ((q1, a1),) = await turns(user, thread["id"], "a question")
    base = f"/api/threads/{thread['id']}/messages"
    for body in ({}, {"content": ""}, {"content": 5}, {"content": "a\x00b"}):
        r = await user.post(f"{base}/{q1}/edit", json=body)
        assert r.status_code == 422, (body, r.text)
    r = await user.post(f"{base}/{q1}/edit", json={"content": "   "})
    assert r.status_code == 400, r.text  # blank: the domain's refusal, as for a chat
    for body in ({"model": ""}, {"model": 7}):
        r = await user.post(f"{base}/{a1}/regenerate", json=body)
        assert r.status_code == 422, (body, r.text)
    for url in (f"/api/threads/{thread['id']}/active-leaf", f"/api/threads/{thread['id']}/fork"):
        method = "PUT" if url.endswith("active-leaf") else "POST"
        for body in ({}, {"message_id": "nope"}):
            r = await user.client.request(method, url, json=body, headers=user.headers)
            assert r.status_code == 422, (url, body, r.text)
    r = await user.post(
        f"/api/threads/{thread['id']}/chat", json={"content": "x", "parent_id": "nope"}
    )
    assert r.status_code == 422
    assert ids(await listed(user, thread["id"], "all")) == [q1, a1]


# -- idempotency -----------------------------------------------------------------------------


async def test_every_tree_write_replays_with_its_idempotency_key(user: User) -> None:
    thread = await make_thread(user)
    (_q1, a1), (q2, a2) = await turns(user, thread["id"], "one", "two")

    def key() -> dict[str, str]:
        return {"Idempotency-Key": f"tree-{uuid.uuid4()}"}

    k = key()
    first = await regenerate(user, thread["id"], a2, headers=k)
    again = await regenerate(user, thread["id"], a2, headers=k)
    assert again[0].data == first[0].data
    assert text_of(again) == text_of(first)
    assert len(await listed(user, thread["id"], "all")) == 5

    k = key()
    first = await edit(user, thread["id"], q2, "two, edited", headers=k)
    again = await edit(user, thread["id"], q2, "two, edited", headers=k)
    assert again[0].data == first[0].data
    assert text_of(again) == text_of(first)
    assert len(await listed(user, thread["id"], "all")) == 7

    k = key()
    q3, a3 = answered(await chat(user, thread["id"], "branch", parent_id=a1, headers=k))
    assert answered(await chat(user, thread["id"], "branch", parent_id=a1, headers=k)) == (q3, a3)
    assert len(await listed(user, thread["id"], "all")) == 9

    k = key()
    leaf = f"/api/threads/{thread['id']}/active-leaf"
    r1 = await user.put(leaf, json={"message_id": a2}, headers=k)
    await user.put(leaf, json={"message_id": a3})
    r2 = await user.put(leaf, json={"message_id": a2}, headers=k)
    assert r1.status_code == r2.status_code == 200
    assert r1.json()["active_leaf_id"] == r2.json()["active_leaf_id"] == a2
    # The replay is the first answer again, nothing applied: the leaf stays where it was moved.
    assert (await thread_of(user, thread["id"]))["active_leaf_id"] == a3

    k = key()
    url = f"/api/threads/{thread['id']}/fork"
    f1 = await user.post(url, json={"message_id": a1}, headers=k)
    f2 = await user.post(url, json={"message_id": a1}, headers=k)
    assert f1.status_code == f2.status_code == 201
    assert f1.json()["id"] == f2.json()["id"]
    r = await user.get("/api/threads")
    assert [t["id"] for t in r.json()["threads"]].count(f1.json()["id"]) == 1
    assert r.json()["total"] == 2
