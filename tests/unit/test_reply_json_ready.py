"""A reply encoded without pydantic walking it twice is the same JSON as the pydantic-dumped
reply it stands for, and reads back as the same view."""

import json
import uuid
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel, TypeAdapter

from contracts.queries import GetChatContext
from contracts.replies import JsonReady, PartlyRaw, Reply
from contracts.views import ChatContextView, MessageView, ThreadView
from messaging.requests import typed_reply
from messaging.server import encode_reply


def test_success_json_is_the_dumped_success_reply() -> None:
    data = {"rows": [{"day": "2026-01-01", "requests": 3, "cost_usd": None}], "totals": {}}
    assert Reply.success_json(JsonReady(data)) == Reply.success(data).model_dump(mode="json")


def _context() -> ChatContextView:
    at = datetime(2026, 12, 3, 17, 0, 0, 123456, tzinfo=UTC)
    thread = ThreadView(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        title="Zürich 東京",
        project_id=None,
        project_name=None,
        provider="echo",
        model="echo",
        thread_type="assistant",
        agent_type="default",
        message_count=1,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
    )
    message = MessageView(
        id=uuid.uuid4(),
        thread_id=thread.id,
        role="assistant",
        content="naïve \u2028 line",
        metadata={"big": 2**70, "ratio": 0.1, "nested": [{"deep": -(2**65)}]},
        created_at=at,
    )
    return ChatContextView(thread=thread, history=[message], documents=[], message_status=None)


def test_a_view_reply_is_the_dumped_success_reply_even_past_64_bits() -> None:
    view = _context()
    encoded = encode_reply(Reply.success_view(view))
    dumped = Reply.success(view.model_dump(mode="json")).model_dump(mode="json")
    assert orjson.loads(encoded) == orjson.loads(encode_reply(dumped))
    assert Reply.model_validate_json(encoded).data == view.model_dump(mode="json")


def test_atyped_reply_reads_the_view_back_whole() -> None:
    view = _context()
    reply = typed_reply(GetChatContext.reply_model()).model_validate_json(
        encode_reply(Reply.success_view(view))
    )
    assert reply.ok and reply.data == view
    assert reply.data.history[0].metadata == {  # type: ignore[attr-defined]
        "big": 2**70,
        "ratio": 0.1,
        "nested": [{"deep": -(2**65)}],
    }


def test_a_partly_raw_view_is_the_whole_view_on_the_wire() -> None:
    """The history given as JSON text (as the database writes it) reads back as the view it
    stands for, next to fields pydantic serialised, integers past 64 bits kept."""
    view = _context()
    history = TypeAdapter(list[MessageView]).dump_json(view.history).decode()
    partly = PartlyRaw(view.model_copy(update={"history": []}), history=history)
    assert json.loads(partly.to_json()) == json.loads(view.model_dump_json())
    reply = typed_reply(GetChatContext.reply_model()).model_validate_json(
        encode_reply(Reply.success_view(partly))
    )
    assert reply.ok and reply.data == view


def test_partly_raw_fields_join_any_object() -> None:
    class Empty(BaseModel):
        pass

    class One(BaseModel):
        a: int = 1
        b: list[int] = []

    assert json.loads(PartlyRaw(Empty(), b="[2]").to_json()) == {"b": [2]}
    assert json.loads(PartlyRaw(One(), b="[2, 3]").to_json()) == {"a": 1, "b": [2, 3]}
    assert json.loads(PartlyRaw(One()).to_json()) == {"a": 1, "b": []}
    assert json.loads(PartlyRaw(One(), a="7", b="[]").to_json()) == {"a": 7, "b": []}
