"""Threads through HTTP: rename and move (PATCH), delete with messages and documents, creation
rules (thread_type, agent_type), ownership, the event history."""

from __future__ import annotations

import uuid

from tests.conftest import User


async def new_thread(user: User, **body: object) -> dict:
    r = await user.post("/api/threads", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def new_project(user: User, name: str = "P") -> dict:
    r = await user.post("/api/projects", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


async def count(user: User, project: dict) -> int:
    return (await user.get(f"/api/projects/{project['id']}")).json()["thread_count"]


async def test_rename_does_not_move_last_activity(user: User) -> None:
    thread = await new_thread(user, title="Before")
    newer = await new_thread(user, title="Newer")
    r = await user.patch(f"/api/threads/{thread['id']}", json={"title": "After"})
    assert r.status_code == 200, r.text
    renamed = r.json()
    assert renamed["title"] == "After"
    assert renamed["last_activity_at"] == thread["last_activity_at"]
    assert renamed["updated_at"] > thread["updated_at"]
    ids = [t["id"] for t in (await user.get("/api/threads")).json()["threads"]]
    assert ids == [newer["id"], thread["id"]]  # the rename did not bring it to the top
    r = await user.patch(f"/api/threads/{thread['id']}", json={"title": "   "})
    assert r.status_code == 400


async def test_move_between_projects_keeps_counts_right(user: User) -> None:
    a, b = await new_project(user, "A"), await new_project(user, "B")
    thread = await new_thread(user, project_id=a["id"])
    assert (await count(user, a), await count(user, b)) == (1, 0)

    r = await user.patch(f"/api/threads/{thread['id']}", json={"project_id": b["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["project_id"] == b["id"] and r.json()["project_name"] == "B"
    assert (await count(user, a), await count(user, b)) == (0, 1)

    r = await user.patch(f"/api/threads/{thread['id']}", json={"project_id": b["id"]})
    assert r.status_code == 200 and (await count(user, b)) == 1  # same project: no change

    r = await user.patch(f"/api/threads/{thread['id']}", json={"project_id": None})
    assert r.status_code == 200
    assert r.json()["project_id"] is None and r.json()["project_name"] is None
    assert (await count(user, a), await count(user, b)) == (0, 0)

    r = await user.patch(
        f"/api/threads/{thread['id']}", json={"project_id": a["id"], "title": "Both"}
    )
    assert r.json()["project_id"] == a["id"] and r.json()["title"] == "Both"
    assert (await count(user, a)) == 1
    r = await user.patch(f"/api/threads/{thread['id']}", json={"title": "Stays in A"})
    assert r.json()["project_id"] == a["id"]  # leaving project_id out does not move it


async def test_move_to_a_project_not_yours_changes_nothing(user: User, other_user: User) -> None:
    mine = await new_project(user, "mine")
    theirs = await new_project(other_user, "theirs")
    thread = await new_thread(user, project_id=mine["id"], title="Original")
    for target in (theirs["id"], str(uuid.uuid4())):
        r = await user.patch(
            f"/api/threads/{thread['id']}", json={"project_id": target, "title": "Changed"}
        )
        assert r.status_code == 404 and r.json() == {"detail": "Project not found"}
    after = (await user.get(f"/api/threads/{thread['id']}")).json()
    assert after["title"] == "Original" and after["project_id"] == mine["id"]
    assert await count(user, mine) == 1 and await count(other_user, theirs) == 0


async def test_delete_takes_messages_and_documents(user: User) -> None:
    project = await new_project(user)
    thread = await new_thread(user, project_id=project["id"])
    tid = thread["id"]
    posted = await user.post(f"/api/threads/{tid}/messages", json={"role": "user", "content": "x"})
    doc = await user.post(
        f"/api/threads/{tid}/documents", json={"filename": "a.txt", "content": "a"}
    )
    assert posted.status_code == doc.status_code == 201

    r = await user.delete(f"/api/threads/{tid}")
    assert r.status_code == 200 and r.json() == {"message": "Thread deleted"}
    assert (await user.get(f"/api/threads/{tid}")).status_code == 404
    assert (await user.get(f"/api/threads/{tid}/messages")).status_code == 404
    assert (await user.get(f"/api/threads/{tid}/events")).status_code == 404
    assert (await user.get(f"/api/documents/{doc.json()['id']}")).status_code == 404
    assert (await user.delete(f"/api/messages/{posted.json()['id']}")).status_code == 404
    assert (await user.get("/api/threads")).json()["total"] == 0
    assert await count(user, project) == 0
    assert (await user.delete(f"/api/threads/{tid}")).status_code == 404
    r = await user.patch(f"/api/threads/{tid}", json={"title": "ghost"})
    assert r.status_code == 404


async def test_other_users_thread_cannot_be_changed(user: User, other_user: User) -> None:
    thread = await new_thread(user, title="Mine")
    tid = thread["id"]
    for r in (
        await other_user.patch(f"/api/threads/{tid}", json={"title": "theirs"}),
        await other_user.delete(f"/api/threads/{tid}"),
        await other_user.get(f"/api/threads/{tid}/events"),
        await other_user.get(f"/api/threads/{tid}/messages"),
        await other_user.post(f"/api/threads/{tid}/messages", json={"role": "user"}),
        await other_user.get(f"/api/threads/{tid}/documents"),
    ):
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
        assert r.json() == {"detail": "Thread not found"}
    after = (await user.get(f"/api/threads/{tid}")).json()
    assert after["title"] == "Mine" and after["message_count"] == 0


async def test_creation_rules(user: User) -> None:
    r = await user.post("/api/threads", json={"thread_type": "pirate"})
    assert r.status_code == 400
    assert r.json() == {"detail": "Invalid thread_type. Valid options: ba_assistant, assistant"}
    t = await new_thread(user, thread_type="assistant", agent_type="x" * 50)
    assert t["thread_type"] == "assistant" and t["agent_type"] == "x" * 50
    assert (await user.post("/api/threads", json={"agent_type": "x" * 51})).status_code == 422
    assert (await user.post("/api/threads", json={"title": "x" * 256})).status_code == 422
    t = await new_thread(user, title="   ", model_provider="echo", model="echo-slow")
    assert t["title"] == "New Chat" and t["model"] == "echo-slow"
    r = await user.post("/api/threads", json={"project_id": str(uuid.uuid4())})
    assert r.status_code == 404 and r.json() == {"detail": "Project not found"}
    assert (await user.get("/api/threads")).json()["total"] == 2  # the refused ones left nothing


async def test_event_history_oldest_first(user: User) -> None:
    project = await new_project(user)
    thread = await new_thread(user, title="Start", model_provider="echo")
    tid = thread["id"]
    await user.patch(f"/api/threads/{tid}", json={"title": "Renamed"})
    await user.patch(f"/api/threads/{tid}", json={"project_id": project["id"]})
    posted = await user.post(
        f"/api/threads/{tid}/messages", json={"role": "assistant", "content": "hello"}
    )
    await user.delete(f"/api/messages/{posted.json()['id']}")

    r = await user.get(f"/api/threads/{tid}/events")
    assert r.status_code == 200
    events = r.json()["events"]
    assert [e["type"] for e in events] == [
        "ThreadCreated",
        "ThreadRenamed",
        "ThreadMoved",
        "MessagePosted",
        "MessageDeleted",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert set(events[0]) == {"position", "version", "type", "data", "recorded_at"}
    assert events[0]["data"]["provider"] == "echo"
    assert events[0]["data"]["title"] == "Start"
    assert events[2]["data"] == {
        "thread_id": tid,
        "from_project_id": None,
        "to_project_id": project["id"],
    }
    assert events[3]["data"]["content"] == "hello"


async def test_patch_that_changes_nothing_appends_nothing(user: User) -> None:
    thread = await new_thread(user, title="Same")
    r = await user.patch(f"/api/threads/{thread['id']}", json={"title": "Same"})
    assert r.status_code == 200 and r.json() == thread
    r = await user.patch(f"/api/threads/{thread['id']}", json={})
    assert r.status_code == 200
    events = (await user.get(f"/api/threads/{thread['id']}/events")).json()["events"]
    assert [e["type"] for e in events] == ["ThreadCreated"]


async def test_idempotent_patch_and_delete(user: User) -> None:
    thread = await new_thread(user, title="t0")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await user.patch(f"/api/threads/{thread['id']}", json={"title": "t1"}, headers=key)
    await user.patch(f"/api/threads/{thread['id']}", json={"title": "t2"})
    again = await user.patch(f"/api/threads/{thread['id']}", json={"title": "t1"}, headers=key)
    assert first.json() == again.json()
    assert (await user.get(f"/api/threads/{thread['id']}")).json()["title"] == "t2"

    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert (await user.delete(f"/api/threads/{thread['id']}", headers=key)).status_code == 200
    replay = await user.delete(f"/api/threads/{thread['id']}", headers=key)
    assert replay.status_code == 200 and replay.json() == {"message": "Thread deleted"}
