"""Reading an import file in the gateway: the first problem named (which conversation, which
node), the tree kept through left-out nodes, batches that fit a NATS message."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.imports.problems import ImportProblem
from gateway.imports.reading import batches, read


def node(nid: str, parent: str | None, role: str | None = "user", text: str = "hi") -> Any:
    message = None
    if role is not None:
        message = {"author": {"role": role}, "content": {"content_type": "text", "parts": [text]}}
    return {"id": nid, "parent": parent, "children": [], "message": message}


def conv(cid: str, *nodes: Any, current: str | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "title": cid,
        "current_node": current,
        "mapping": {n["id"]: n for n in nodes},
    }


def problem(data: Any) -> str:
    with pytest.raises(ImportProblem) as caught:
        read(orjson.dumps(data))
    return str(caught.value)


def test_left_out_nodes_pass_their_children_to_the_nearest_kept_ancestor() -> None:
    data = [
        conv(
            "c1",
            node("r", None, role=None),
            node("q", "r"),
            node("t", "q", role="tool"),
            node("a", "t", role="assistant", text="answer"),
            node("s", "q", role="system"),
            node("b", "s", role="assistant", text="other answer"),
            current="a",
        )
    ]
    source, (c,) = read(orjson.dumps(data))
    assert source == "chatgpt"
    assert [(m.ref, m.parent_ref) for m in c.messages] == [("q", None), ("a", "q"), ("b", "q")]
    assert c.active_ref == "a"


def test_the_current_node_on_a_left_out_node_is_its_kept_ancestor() -> None:
    data = [conv("c1", node("q", None), node("t", "q", role="tool"), current="t")]
    assert read(orjson.dumps(data))[1][0].active_ref == "q"


def test_problems_name_the_conversation_and_the_node() -> None:
    cycle = conv("loop", node("a", "b"), node("b", "a"))
    assert "conversation 'loop'" in problem([cycle]) and "cycle" in problem([cycle])
    missing = conv("c2", node("a", None), current="zz")
    assert "current_node 'zz'" in problem([missing])
    parts = conv("c3", node("a", None))
    parts["mapping"]["a"]["message"]["content"]["parts"] = "text"
    assert problem([parts]) == "conversation 'c3', node 'a': message.content.parts is not a list"
    twice = [conv("same", node("a", None)), conv("same", node("b", None))]
    assert "'same' appears twice" in problem(twice)
    assert problem([{"mapping": {}}]) == "conversation #0 has no id (conversation_id or id)"
    assert "nor ChatGPT" in problem({"format": "something.else"})


def test_batches_fit_the_limit_and_a_conversation_over_it_is_refused() -> None:
    data = [conv(f"c{i}", node("q", None, text="x" * 1000)) for i in range(10)]
    _, conversations = read(orjson.dumps(data))
    packed = list(batches(conversations, 4000))
    assert [c.source_id for b in packed for c in b] == [f"c{i}" for i in range(10)]
    assert all(sum(len(c.model_dump_json()) for c in b) <= 4000 for b in packed)
    assert len(packed) > 1
    with pytest.raises(ImportProblem, match=r"'c0' is .* bytes"):
        list(batches(conversations, 500))


def test_a_conversation_over_a_batch_goes_alone_up_to_what_one_message_carries() -> None:
    small = [conv(f"s{i}", node("q", None, text="x" * 100)) for i in range(3)]
    large = conv("large", node("q", None, text="y" * 3000))
    _, conversations = read(orjson.dumps([small[0], large, *small[1:]]))
    packed = list(batches(conversations, 1000, alone_bytes=4000))
    assert [[c.source_id for c in b] for b in packed] == [["s0"], ["large"], ["s1", "s2"]]
    with pytest.raises(ImportProblem, match=r"'large' is .* bytes; .* at most 2000"):
        list(batches(conversations, 1000, alone_bytes=2000))
