"""The conversation tree's routes send the commands and queries the threads service serves,
with every field from the request, and answer with what it replies: the chat stream for
regenerate and edit, the thread for active-leaf and fork, its refusals as their statuses.

The bus is the gateway's own `Bus` with only its transport replaced (`exchange`), so the error
codes go through the real mapping; JetStream is a stand-in that delivers a whole answer as
soon as it is subscribed to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import pytest
from fastapi.testclient import TestClient
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from contracts.base import Request
from contracts.commands import (
    EditMessage,
    ForkThread,
    PostChat,
    PostMessage,
    RegenerateAnswer,
    SetActiveLeaf,
)
from contracts.errors import ErrorCode
from contracts.queries import ListMessages
from contracts.replies import Reply
from gateway.bus import Bus
from gateway.main import create_app
from gateway.ratelimit import CHAT_PATH
from tests.support.sse_client import Event

ANSWER = [
    {"kind": "start", "attempt": 1},
    {"kind": "delta", "text": "Echo: again"},
    {"kind": "end", "finish_reason": "stop", "usage": {"input_tokens": 1, "output_tokens": 2}},
]


class Subscribed:
    async def unsubscribe(self) -> None:
        return None


class AnsweringJetStream:
    """Delivers `ANSWER` to every subscriber at once."""

    async def subscribe(self, subject: str, **kw: Any) -> Subscribed:
        for seq, token in enumerate(ANSWER, start=1):
            reply = f"$JS.ACK.TOKENS.c.1.{seq}.{seq}.1700000000000000000.0"
            msg = Msg(cast(Any, None), subject=subject, reply=reply, data=orjson.dumps(token))
            await kw["cb"](msg)
        return Subscribed()


class Connection:
    is_connected = True

    def jetstream(self, **kw: Any) -> AnsweringJetStream:
        return AnsweringJetStream()


class RecordingBus(Bus):
    """Records each request and replies with `reply(request)`."""

    def __init__(self) -> None:
        super().__init__(cast(NATS, Connection()), 1.0)
        self.sent: list[Request[Any]] = []
        self.refusal: tuple[ErrorCode, str] | None = None

    async def exchange(self, request: Request[Any], timeout: float | None = None) -> bytes:
        self.sent.append(request)
        if self.refusal is not None:
            reply = Reply.failure(*self.refusal)
        else:
            reply = Reply.success(reply_for(request))
        return orjson.dumps(reply.model_dump(mode="json"))


def thread_data(thread_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "id": str(thread_id),
        "title": "T",
        "project_id": None,
        "project_name": None,
        "user_id": str(uuid.uuid4()),
        "model_provider": "echo",
        "provider": "echo",
        "model": "echo",
        "thread_type": "assistant",
        "agent_type": "chat",
        "message_count": 2,
        "created_at": now,
        "updated_at": now,
        "last_activity_at": now,
        **extra,
    }


def reply_for(request: Request[Any]) -> dict[str, Any]:
    if isinstance(request, PostChat | RegenerateAnswer | EditMessage):
        return {
            "thread_id": str(request.thread_id),
            "user_message_id": str(getattr(request, "user_message_id", uuid.uuid4())),
            "message_id": str(request.assistant_message_id),
            "provider": "echo",
            "model": "echo",
        }
    if isinstance(request, SetActiveLeaf):
        return thread_data(request.thread_id, active_leaf_id=str(request.message_id))
    if isinstance(request, ForkThread):
        source = {"thread_id": str(request.thread_id), "message_id": str(request.message_id)}
        return thread_data(request.new_thread_id, forked_from=source)
    if isinstance(request, ListMessages):
        return {"messages": []}
    if isinstance(request, PostMessage):
        return {
            "id": str(request.message_id),
            "thread_id": str(request.thread_id),
            "role": request.role,
            "content": request.content,
            "status": "complete",
            "created_at": datetime.now(UTC).isoformat(),
            "parent_id": str(request.parent_id) if request.parent_id else None,
        }
    raise AssertionError(f"unexpected request {type(request).__name__}")


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def client(bus: RecordingBus) -> TestClient:
    app = create_app()
    app.state.bus = bus  # no lifespan: nothing connects
    token = app.state.access_tokens.issue(uuid.uuid4())
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def sse_events(body: str) -> list[Event]:
    out: list[Event] = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append(Event(fields["event"], orjson.loads(fields["data"])))
    return out


T, M = uuid.uuid4(), uuid.uuid4()


def test_regenerate_streams_the_answer_of_a_regenerate_command(
    client: TestClient, bus: RecordingBus
) -> None:
    r = client.post(
        f"/api/threads/{T}/messages/{M}/regenerate",
        json={"model": "echo-slow"},
        headers={"Idempotency-Key": "again-1"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    (cmd,) = bus.sent
    assert isinstance(cmd, RegenerateAnswer)
    assert (cmd.thread_id, cmd.message_id, cmd.model) == (T, M, "echo-slow")
    assert cmd.command_id == "key:again-1"
    evs = sse_events(r.text)
    assert [e.event for e in evs] == ["message_start", "token", "message_end"]
    assert evs[0].data["message_id"] == str(cmd.assistant_message_id)
    assert evs[-1].data["message_id"] == str(cmd.assistant_message_id)


def test_regenerate_without_a_body_keeps_the_threads_model(
    client: TestClient, bus: RecordingBus
) -> None:
    url = f"/api/threads/{T}/messages/{M}/regenerate"
    for r in (client.post(url, json={}), client.post(url)):  # an empty object, or no body
        assert r.status_code == 200, r.text
        cmd = bus.sent[-1]
        assert isinstance(cmd, RegenerateAnswer) and cmd.model is None


def test_edit_streams_the_answer_of_an_edit_command(client: TestClient, bus: RecordingBus) -> None:
    body = {"content": "better question", "artifact_data": {"a": 1}, "metadata": {"m": True}}
    r = client.post(
        f"/api/threads/{T}/messages/{M}/edit", json=body, headers={"Idempotency-Key": "e-1"}
    )
    assert r.status_code == 200, r.text
    (cmd,) = bus.sent
    assert isinstance(cmd, EditMessage)
    assert (cmd.thread_id, cmd.message_id, cmd.content) == (T, M, "better question")
    assert (cmd.artifact_data, cmd.metadata, cmd.command_id) == ({"a": 1}, {"m": True}, "key:e-1")
    assert cmd.user_message_id != cmd.assistant_message_id
    evs = sse_events(r.text)
    assert [e.event for e in evs] == ["message_start", "token", "message_end"]
    assert evs[0].data["user_message_id"] == str(cmd.user_message_id)


def test_chat_and_a_posted_message_take_a_parent(client: TestClient, bus: RecordingBus) -> None:
    parent = uuid.uuid4()
    r = client.post(f"/api/threads/{T}/chat", json={"content": "branch", "parent_id": str(parent)})
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/threads/{T}/messages",
        json={"role": "user", "content": "x", "parent_id": str(parent)},
    )
    assert r.status_code == 201, r.text
    chat, post = bus.sent
    assert isinstance(chat, PostChat) and chat.parent_id == parent
    assert isinstance(post, PostMessage) and post.parent_id == parent
    r = client.post(f"/api/threads/{T}/chat", json={"content": "after the leaf"})
    assert isinstance(bus.sent[-1], PostChat) and bus.sent[-1].parent_id is None


@pytest.mark.parametrize(
    ("path", "expected"), [(None, "active"), ("active", "active"), ("all", "all")]
)
def test_the_message_list_asks_for_the_path(
    client: TestClient, bus: RecordingBus, path: str | None, expected: str
) -> None:
    params = {"path": path} if path else {}
    r = client.get(f"/api/threads/{T}/messages", params=params)
    assert r.status_code == 200, r.text
    (query,) = bus.sent
    assert isinstance(query, ListMessages) and query.path == expected


def test_an_unknown_path_is_422_and_asks_nothing(client: TestClient, bus: RecordingBus) -> None:
    r = client.get(f"/api/threads/{T}/messages", params={"path": "newest"})
    assert r.status_code == 422
    assert bus.sent == []


def test_active_leaf_answers_the_thread(client: TestClient, bus: RecordingBus) -> None:
    r = client.put(
        f"/api/threads/{T}/active-leaf",
        json={"message_id": str(M)},
        headers={"Idempotency-Key": "leaf-1"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["active_leaf_id"] == str(M)
    (cmd,) = bus.sent
    assert isinstance(cmd, SetActiveLeaf)
    assert (cmd.thread_id, cmd.message_id, cmd.command_id) == (T, M, "key:leaf-1")


def test_fork_makes_a_new_thread_naming_its_source(client: TestClient, bus: RecordingBus) -> None:
    r = client.post(f"/api/threads/{T}/fork", json={"message_id": str(M)})
    assert r.status_code == 201, r.text
    (cmd,) = bus.sent
    assert isinstance(cmd, ForkThread)
    assert (cmd.thread_id, cmd.message_id) == (T, M)
    assert cmd.new_thread_id not in (T, M)
    assert r.json()["id"] == str(cmd.new_thread_id)
    assert r.json()["forked_from"] == {"thread_id": str(T), "message_id": str(M)}


WRITES = [
    ("POST", f"/api/threads/{T}/messages/{M}/regenerate", {}),
    ("POST", f"/api/threads/{T}/messages/{M}/edit", {"content": "x"}),
    ("PUT", f"/api/threads/{T}/active-leaf", {"message_id": str(M)}),
    ("POST", f"/api/threads/{T}/fork", {"message_id": str(M)}),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
@pytest.mark.parametrize(
    ("code", "status"),
    [(ErrorCode.NOT_FOUND, 404), (ErrorCode.INVALID, 400), (ErrorCode.CONFLICT, 409)],
)
def test_the_threads_services_refusals_are_their_statuses(
    client: TestClient,
    bus: RecordingBus,
    method: str,
    url: str,
    body: dict[str, Any],
    code: ErrorCode,
    status: int,
) -> None:
    bus.refusal = (code, "refused")
    r = client.request(method, url, json=body)
    assert r.status_code == status
    assert r.json() == {"detail": "refused"}


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"/api/threads/{T}/messages/{M}/edit", {}),
        (f"/api/threads/{T}/messages/{M}/edit", {"content": ""}),
        (f"/api/threads/{T}/messages/{M}/edit", {"content": "a\x00b"}),
        (f"/api/threads/{T}/messages/{M}/regenerate", {"model": ""}),
        (f"/api/threads/{T}/messages/{M}/regenerate", {"model": "m" * 201}),
        (f"/api/threads/{T}/messages/not-a-uuid/regenerate", {}),
        (f"/api/threads/{T}/fork", {}),
        (f"/api/threads/{T}/fork", {"message_id": "not-a-uuid"}),
        (f"/api/threads/{T}/chat", {"content": "x", "parent_id": "nope"}),
    ],
)
def test_bad_bodies_are_422_and_send_nothing(
    client: TestClient, bus: RecordingBus, url: str, body: dict[str, Any]
) -> None:
    r = client.post(url, json=body)
    assert r.status_code == 422, r.text
    assert bus.sent == []


@pytest.mark.parametrize("action", ["regenerate", "edit"])
def test_regenerate_and_edit_count_as_chats(action: str) -> None:
    """They ask a provider for an answer and hold a stream open, like a chat."""
    assert CHAT_PATH.fullmatch(f"/api/threads/{T}/messages/{M}/{action}")
    assert not CHAT_PATH.fullmatch(f"/api/threads/{T}/messages/{M}/cancel")
