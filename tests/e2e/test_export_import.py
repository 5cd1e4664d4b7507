"""Export and import through the real stack: a thread's JSON export imports back as the same
tree (contents, parents, active path, documents), a ChatGPT conversations.json keeps its
branches and current node while system and tool nodes drop out, importing again makes
nothing twice, a malformed file stores nothing, another user's thread or import is not found.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

from tests.conftest import User
from tests.e2e.test_conversation_tree import chat, listed, make_thread, regenerate, thread_of

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt_conversations.json"


def chatgpt() -> list[dict[str, Any]]:
    return list(json.loads(FIXTURE.read_text()))


async def imported(user: User, body: Any, status: int = 201, **kw: Any) -> dict[str, Any]:
    r = await user.post("/api/imports", json=body, **kw)
    assert r.status_code == status, r.text
    return dict(r.json())


async def thread_count(user: User) -> int:
    return int((await user.get("/api/threads")).json()["total"])


def shape(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each message as (role, content, its parent's content), ids left out."""
    content = {m["id"]: m["content"] for m in messages}
    return [(m["role"], m["content"], content.get(m["parent_id"])) for m in messages]


async def branched_thread(user: User) -> str:
    """A thread with two answers to its second question, the older one active, a document."""
    tid = (await make_thread(user, title="Round trip"))["id"]
    await chat(user, tid, "first question")
    second = await chat(user, tid, "second *question*")
    await regenerate(user, tid, second[0].data["message_id"], body={"model": "echo-slow"})
    await user.put(
        f"/api/threads/{tid}/active-leaf", json={"message_id": second[0].data["message_id"]}
    )
    doc = {"filename": "notes.txt", "content": "the notes ✓"}
    assert (await user.post(f"/api/threads/{tid}/documents", json=doc)).status_code == 201
    return str(tid)


async def test_a_json_export_imports_back_as_the_same_tree(user: User) -> None:
    tid = await branched_thread(user)
    r = await user.get(f"/api/threads/{tid}/export", params={"format": "json"})
    assert r.status_code == 200
    export = r.json()
    assert export["format"] == "switchboard.thread.v1"
    assert len(export["messages"]) == 5 and export["documents"][0]["content"] == "the notes ✓"
    assert all("parent_id" in m for m in export["messages"])

    result = await imported(user, export)
    (made,) = result["threads"]
    assert made["source_id"] == tid and made["title"] == "Round trip" and result["skipped"] == []
    new = made["id"]
    assert new != tid
    assert shape(await listed(user, new, "all")) == shape(await listed(user, tid, "all"))
    old_path, new_path = await listed(user, tid), await listed(user, new)
    assert [m["content"] for m in new_path] == [m["content"] for m in old_path]
    assert [m["model"] for m in new_path] == [m["model"] for m in old_path]
    assert new_path[-1]["metadata"]["imported"]["id"] == old_path[-1]["id"]
    assert new_path[-1]["metadata"]["imported"]["created_at"] == old_path[-1]["created_at"]
    thread = await thread_of(user, new)
    assert (thread["provider"], thread["model"]) == ("echo", "echo")
    docs = (await user.get(f"/api/threads/{new}/documents")).json()["documents"]
    assert [d["filename"] for d in docs] == ["notes.txt"]
    again = (await user.get(f"/api/threads/{new}/export")).json()
    assert again["documents"][0]["content"] == "the notes ✓"


async def test_markdown_export_is_the_active_path(user: User) -> None:
    tid = await branched_thread(user)
    r = await user.get(f"/api/threads/{tid}/export", params={"format": "markdown"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    text = r.text
    assert text.startswith("# Round trip")
    assert "## You" in text and "second *question*" in text
    assert text.count("## Assistant") == 2  # the active path's two answers, not the branch
    assert "(echo-slow)" not in text
    r = await user.get(f"/api/threads/{tid}/export", params={"format": "pdf"})
    assert r.status_code == 422


async def test_a_chatgpt_export_keeps_branches_and_drops_system_and_tool_nodes(user: User) -> None:
    result = await imported(user, chatgpt(), params={"model_provider": "echo"})
    by_source = {t["source_id"]: t for t in result["threads"]}
    assert set(by_source) == {"conv-ice-1", "conv-soup-3"}
    assert result["skipped"] == [
        {"source_id": "conv-empty-2", "reason": "no user or assistant text in it"}
    ]
    ice = by_source["conv-ice-1"]["id"]
    assert (await thread_of(user, ice))["title"] == "Glaciers and ice"
    every = await listed(user, ice, "all")
    assert len(every) == 5  # q1, a1, q2 and its two answers; system, tool call, tool gone
    content = {m["id"]: m for m in every}
    question = next(m for m in every if m["content"] == "How fast do glaciers move?")
    answers = [m for m in every if m["parent_id"] == question["id"]]
    assert sorted(a["content"] for a in answers) == [
        "About a metre a day.",
        "Typically a few metres a day; surging ones faster.",
    ]
    path = await listed(user, ice)
    assert [m["role"] for m in path] == ["user", "assistant", "user", "assistant"]
    assert path[-1]["content"].startswith("Typically")  # current_node, below the tool node
    assert path[0]["parent_id"] is None
    assert path[0]["content"] == "[image]\nWhat is in this photo of a glacier?"
    meta = path[0]["metadata"]["imported"]
    assert meta == {
        "source": "chatgpt",
        "id": "q1",
        "created_at": "2023-11-14T22:13:21.250000+00:00",
        "placeholders": ["[image]"],
    }
    assert path[1]["model"] == "gpt-4o" and content[path[1]["parent_id"]]["role"] == "user"
    soup = await listed(user, by_source["conv-soup-3"]["id"])
    assert [m["content"] for m in soup] == ["A good leek soup?", "Leeks, potatoes, stock, butter."]


async def test_importing_the_same_conversations_again_makes_nothing_twice(user: User) -> None:
    first = await imported(user, chatgpt())
    count = await thread_count(user)
    second = await imported(user, chatgpt())
    assert second["threads"] == first["threads"]
    assert second["id"] != first["id"]
    assert await thread_count(user) == count
    files = {"file": ("conversations.json", json.dumps(chatgpt()[2:]), "application/json")}
    r = await user.post("/api/imports", files=files)
    assert r.status_code == 201, r.text
    assert r.json()["threads"] == first["threads"][1:]
    # a deleted thread's conversation is imported again, as a new thread
    gone = first["threads"][1]["id"]
    assert (await user.delete(f"/api/threads/{gone}")).status_code == 200
    third = await imported(user, chatgpt())
    assert third["threads"][0] == first["threads"][0]
    assert third["threads"][1]["id"] != gone
    assert await thread_count(user) == count


async def test_a_malformed_file_stores_nothing_and_names_the_problem(user: User) -> None:
    count = await thread_count(user)
    broken = chatgpt()
    broken[2]["mapping"]["s2"]["parent"] = "nowhere"
    r = await user.post("/api/imports", json=broken)
    assert r.status_code == 400
    assert "conv-soup-3" in r.json()["detail"] and "s2" in r.json()["detail"]
    no_role = chatgpt()
    del no_role[0]["mapping"]["a1"]["message"]["author"]
    r = await user.post("/api/imports", json=no_role)
    assert r.status_code == 400 and "'a1'" in r.json()["detail"]
    for body in ({"hello": 1}, "not a list", [{"title": "no id", "mapping": {}}]):
        r = await user.post("/api/imports", json=body)
        assert r.status_code == 400, r.text
    r = await user.post(
        "/api/imports", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "not JSON" in r.json()["detail"]
    assert await thread_count(user) == count
    # a Switchboard export whose message names a parent that is not in it
    tid = (await make_thread(user))["id"]
    await chat(user, tid, "hello")
    export = (await user.get(f"/api/threads/{tid}/export")).json()
    bad = copy.deepcopy(export)
    bad["messages"][1]["parent_id"] = "00000000-0000-0000-0000-000000000000"
    r = await user.post("/api/imports", json=bad)
    assert r.status_code == 400 and tid in r.json()["detail"]
    assert await thread_count(user) == count + 1


async def test_another_users_thread_and_import_are_not_found(user: User, other_user: User) -> None:
    tid = (await make_thread(user))["id"]
    for fmt in ("json", "markdown"):
        r = await other_user.get(f"/api/threads/{tid}/export", params={"format": fmt})
        assert r.status_code == 404
    result = await imported(user, chatgpt())
    assert (await other_user.get(f"/api/imports/{result['id']}")).status_code == 404
    mine = await user.get(f"/api/imports/{result['id']}")
    assert mine.status_code == 200 and mine.json()["status"] == "done"
    # the other user importing the same file gets threads of their own
    theirs = await imported(other_user, chatgpt())
    assert {t["id"] for t in theirs["threads"]}.isdisjoint({t["id"] for t in result["threads"]})
    r = await user.post("/api/imports", json=chatgpt(), params={"project_id": "not-a-uuid"})
    assert r.status_code == 422
    other_project = (await other_user.post("/api/projects", json={"name": "p"})).json()["id"]
    r = await user.post("/api/imports", json=chatgpt(), params={"project_id": other_project})
    assert r.status_code == 404


def many_conversations(n: int, words: int) -> list[dict[str, Any]]:
    text = " ".join(f"w{i}" for i in range(words))
    out = []
    for c in range(n):
        mapping = {
            "r": {"id": "r", "parent": None, "children": ["u"], "message": None},
            "u": {
                "id": "u",
                "parent": "r",
                "children": ["a"],
                "message": {
                    "author": {"role": "user"},
                    "content": {"content_type": "text", "parts": [f"q{c} {text}"]},
                },
            },
            "a": {
                "id": "a",
                "parent": "u",
                "children": [],
                "message": {
                    "author": {"role": "assistant"},
                    "content": {"content_type": "text", "parts": [text]},
                },
            },
        }
        out.append(
            {"id": f"bulk-{c}", "title": f"bulk {c}", "current_node": "a", "mapping": mapping}
        )
    return out


async def test_a_file_of_several_batches_imports_as_a_job_with_progress(user: User) -> None:
    r = await user.post("/api/imports", json=many_conversations(60, 2500))  # about 2 MB
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "running" and job["total"] == 60 and 0 < job["handled"] < 60
    assert r.headers["location"] == f"/api/imports/{job['id']}"
    for _ in range(200):
        progress = (await user.get(f"/api/imports/{job['id']}")).json()
        if progress["status"] == "done":
            break
        await asyncio.sleep(0.1)
    assert progress["status"] == "done" and progress["handled"] == 60
    assert [t["source_id"] for t in progress["threads"]] == [f"bulk-{c}" for c in range(60)]
    path = await listed(user, progress["threads"][59]["id"])
    assert path[0]["content"].startswith("q59 w0")


async def test_a_conversation_larger_than_a_batch_imports_on_its_own(user: User) -> None:
    """Two messages of about 480,000 characters each: over the 768 KiB of a batch, so the
    conversation is sent alone, which one NATS message carries (the stack's servers allow
    8 MB)."""
    body = many_conversations(1, 70_000) + many_conversations(2, 10)[1:]
    assert len(json.dumps(body)) > 768 * 1024
    result = await imported(user, body, status=202)
    for _ in range(200):
        progress = (await user.get(f"/api/imports/{result['id']}")).json()
        if progress["status"] == "done":
            break
        await asyncio.sleep(0.1)
    assert progress["status"] == "done" and progress["handled"] == 2
    threads = {t["source_id"]: t["id"] for t in progress["threads"]}
    path = await listed(user, threads["bulk-0"])
    assert [len(m["content"]) for m in path] == [len(c) for c in _parts(body[0])]
    assert path[-1]["content"].endswith("w69999")


def _parts(conversation: dict[str, Any]) -> list[str]:
    mapping = conversation["mapping"]
    return [mapping[n]["message"]["content"]["parts"][0] for n in ("u", "a")]
