"""Messages through HTTP: stored as given, listed oldest first, deleted; the thread's
message_count and last_activity_at kept by the projection; forty concurrent posts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from tests.conftest import User


async def new_thread(user: User, **body: object) -> dict:
    r = await user.post("/api/threads", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def post(user: User, thread_id: str, **body: object) -> dict:
    r = await user.post(f"/api/threads/{thread_id}/messages", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_post_stores_the_message_as_given(user: User) -> None:
    thread = await new_thread(user)
    artifact = {"kind": "table", "rows": [[1, "a"], [2, "b"]], "nested": {"ok": True}}
    message = await post(
        user,
        thread["id"],
        role="assistant",
        content="Here it is ✓",
        artifact_data=artifact,
        metadata={"source": "import"},
    )
    assert message["thread_id"] == thread["id"]
    assert message["role"] == "assistant" and message["content"] == "Here it is ✓"
    assert message["artifact_data"] == artifact and message["metadata"] == {"source": "import"}
    assert message["status"] == "complete"
    assert message["provider"] is None and message["model"] is None and message["usage"] is None
    assert set(message) == {
        "id",
        "thread_id",
        "role",
        "content",
        "artifact_data",
        "metadata",
        "status",
        "provider",
        "model",
        "usage",
        "created_at",
        "parent_id",
        "sibling_index",
        "sibling_count",
        "reasoning",
    }
    assert message["reasoning"] is None  # only an answer's streamed reasoning fills it
    bare = await post(user, thread["id"], role="user")
    assert bare["content"] == "" and bare["artifact_data"] is None and bare["metadata"] is None


async def test_an_assistant_message_with_only_artifact_data_is_stored(user: User) -> None:
    """`content: null` with an artifact (the spec's `content?`) is a 201, not a 422: stored with
    empty content and the artifact as given, and listed like any other message."""
    thread = await new_thread(user)
    artifact = {"kind": "chart", "series": [1, 2, 3]}
    message = await post(user, thread["id"], role="assistant", content=None, artifact_data=artifact)
    assert message["role"] == "assistant" and message["status"] == "complete"
    assert message["content"] == "" and message["artifact_data"] == artifact
    assert message["metadata"] is None
    listed = (await user.get(f"/api/threads/{thread['id']}/messages")).json()["messages"]
    assert listed == [message]
    detail = (await user.get(f"/api/threads/{thread['id']}")).json()
    assert detail["messages"] == [message] and detail["message_count"] == 1
    events = (await user.get(f"/api/threads/{thread['id']}/events")).json()["events"]
    posted = [e["data"] for e in events if e["type"] == "MessagePosted"]
    assert [(d["content"], d["artifact_data"]) for d in posted] == [("", artifact)]


async def test_explicit_nulls_and_the_message_fields_types(user: User) -> None:
    """`artifact_data` and `metadata` null are stored as null; ids are UUIDs and `created_at`
    is ISO 8601 with a timezone."""
    thread = await new_thread(user)
    message = await post(
        user, thread["id"], role="user", content="x", artifact_data=None, metadata=None
    )
    assert message["artifact_data"] is None and message["metadata"] is None
    assert str(uuid.UUID(message["id"])) == message["id"]
    assert message["thread_id"] == thread["id"]
    created = datetime.fromisoformat(message["created_at"])
    assert created.tzinfo is not None and created.utcoffset() is not None


async def test_a_missing_thread_or_message_is_404(user: User) -> None:
    missing = uuid.uuid4()
    r = await user.get(f"/api/threads/{missing}/messages")
    assert r.status_code == 404 and r.json() == {"detail": "Thread not found"}
    r = await user.delete(f"/api/messages/{missing}")
    assert r.status_code == 404 and r.json() == {"detail": "Message not found"}


async def test_list_oldest_first_and_thread_includes_messages(user: User) -> None:
    thread = await new_thread(user)
    posted = [await post(user, thread["id"], role="user", content=f"m{i}") for i in range(3)]
    r = await user.get(f"/api/threads/{thread['id']}/messages")
    assert r.status_code == 200
    assert r.json() == {"messages": posted}
    detail = (await user.get(f"/api/threads/{thread['id']}")).json()
    assert detail["messages"] == posted and detail["message_count"] == 3


async def test_count_and_activity_move_with_messages(user: User) -> None:
    older = await new_thread(user, title="older")
    newer = await new_thread(user, title="newer")
    ids = [t["id"] for t in (await user.get("/api/threads")).json()["threads"]]
    assert ids == [newer["id"], older["id"]]

    first = await post(user, older["id"], role="user", content="bump")
    listed = (await user.get("/api/threads")).json()["threads"]
    assert [t["id"] for t in listed] == [older["id"], newer["id"]]
    assert listed[0]["message_count"] == 1
    assert listed[0]["last_activity_at"] == first["created_at"]
    assert listed[0]["last_activity_at"] > older["last_activity_at"]

    second = await post(user, older["id"], role="assistant", content="again")
    assert second["parent_id"] == first["id"]
    r = await user.delete(f"/api/messages/{second['id']}")
    assert r.status_code == 200 and r.json() == {"message": "Message deleted"}
    after = (await user.get(f"/api/threads/{older['id']}")).json()
    assert after["message_count"] == 1
    assert [m["id"] for m in after["messages"]] == [first["id"]]
    assert after["active_leaf_id"] == first["id"]  # the active path moved to the parent
    assert after["last_activity_at"] == second["created_at"]  # deleting is not activity
    assert (await user.delete(f"/api/messages/{second['id']}")).status_code == 404
    # a message goes with everything below it
    await post(user, older["id"], role="assistant", content="below")
    assert (await user.delete(f"/api/messages/{first['id']}")).status_code == 200
    emptied = (await user.get(f"/api/threads/{older['id']}")).json()
    assert (emptied["message_count"], emptied["messages"], emptied["active_leaf_id"]) == (
        0,
        [],
        None,
    )


async def test_invalid_messages_are_refused(user: User) -> None:
    thread = await new_thread(user)
    url = f"/api/threads/{thread['id']}/messages"
    for body in (
        {},
        {"role": "system", "content": "x"},
        {"role": "user", "content": 5},
        {"role": "user", "artifact_data": [1, 2]},
        {"role": "user", "artifact_data": "text"},
        {"role": "user", "metadata": 3},
        {"role": "user", "content": "nul \u0000 inside"},
        {"role": "user", "metadata": {"k": "nul \u0000"}},
    ):
        r = await user.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
    assert (
        await user.post(f"/api/threads/{uuid.uuid4()}/messages", json={"role": "user"})
    ).status_code == 404
    after = (await user.get(f"/api/threads/{thread['id']}")).json()
    assert after["message_count"] == 0 and after["messages"] == []


async def test_other_users_messages_are_not_found(user: User, other_user: User) -> None:
    thread = await new_thread(user)
    message = await post(user, thread["id"], role="user", content="private")
    r = await other_user.delete(f"/api/messages/{message['id']}")
    assert r.status_code == 404 and r.json() == {"detail": "Message not found"}
    r = await other_user.get(f"/api/threads/{thread['id']}/messages")
    assert r.status_code == 404 and "private" not in r.text
    assert (await user.get(f"/api/threads/{thread['id']}")).json()["message_count"] == 1


async def test_idempotent_post_and_delete(user: User) -> None:
    thread = await new_thread(user)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    url = f"/api/threads/{thread['id']}/messages"
    a = await user.post(url, json={"role": "user", "content": "once"}, headers=key)
    b = await user.post(url, json={"role": "user", "content": "once"}, headers=key)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert (await user.get(f"/api/threads/{thread['id']}")).json()["message_count"] == 1

    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert (await user.delete(f"/api/messages/{a.json()['id']}", headers=key)).status_code == 200
    assert (await user.delete(f"/api/messages/{a.json()['id']}", headers=key)).status_code == 200
    assert (await user.get(f"/api/threads/{thread['id']}")).json()["message_count"] == 0


async def test_forty_concurrent_posts_all_land_in_order(user: User) -> None:
    thread = await new_thread(user)
    tid = thread["id"]
    replies = await asyncio.gather(
        *(
            user.post(f"/api/threads/{tid}/messages", json={"role": "user", "content": f"#{i}"})
            for i in range(40)
        )
    )
    assert [r.status_code for r in replies] == [201] * 40, [r.text for r in replies if r.is_error]
    posted_ids = {r.json()["id"] for r in replies}
    assert len(posted_ids) == 40

    detail = (await user.get(f"/api/threads/{tid}")).json()
    assert detail["message_count"] == 40
    listed = [m["id"] for m in detail["messages"]]
    assert set(listed) == posted_ids

    events = (await user.get(f"/api/threads/{tid}/events")).json()["events"]
    assert [e["version"] for e in events] == list(range(1, 42))  # contiguous, none lost
    in_log_order = [e["data"]["message_id"] for e in events if e["type"] == "MessagePosted"]
    assert listed == in_log_order  # the list's order is the log's order
    assert max(m["created_at"] for m in detail["messages"]) == detail["last_activity_at"]
