"""The conversation tree's decisions (threads.domain.tree, threads.domain.branches), and the
upcast that reads events stored before the tree as a chain."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from contracts.commands import EditMessage, ForkThread, RegenerateAnswer
from contracts.events import ActiveLeafSet, AssistantMessageRequested, MessageDeleted
from threads.domain import branches
from threads.domain.errors import DomainError
from threads.domain.thread import ThreadState
from threads.domain.tree import Node, Tree
from threads.store.upcasters import upcast

USER = uuid.uuid4()
THREAD = ThreadState(uuid.uuid4(), USER, None, "T", "echo", "echo", thread_type="assistant")


def ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def code_of(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)  # type: ignore[operator]
    return str(err.value.code)


# q1 → a1 → q2 → a2, a2' (regenerated, newest) ; q1' (an edit of q1, newest root) → a3
Q1, A1, Q2, A2, A2b, Q1b, A3 = ids(7)
TREE = Tree(
    (
        Node(Q1, None, "user", "complete"),
        Node(A1, Q1, "assistant", "complete"),
        Node(Q2, A1, "user", "complete"),
        Node(A2, Q2, "assistant", "complete"),
        Node(A2b, Q2, "assistant", "complete"),
        Node(Q1b, None, "user", "complete"),
        Node(A3, Q1b, "assistant", "complete"),
    )
)


def at(leaf: uuid.UUID) -> Tree:
    """The tree with its active path ending at `leaf`."""
    return dataclasses.replace(TREE, active_leaf=leaf)


def test_walks() -> None:
    assert TREE.newest_leaf(Q1) == A2b
    assert TREE.newest_leaf(None) == A3
    assert [n.id for n in TREE.path(A2)] == [Q1, A1, Q2, A2]
    assert TREE.subtree(A1) == [A1, Q2, A2, A2b]
    assert code_of(TREE.node, uuid.uuid4()) == "not_found"


def test_set_active_leaf_goes_down_the_newest_branch() -> None:
    [event] = branches.decide_set_active_leaf(THREAD, Q1, user_id=USER, tree=at(A3))
    assert event == ActiveLeafSet(thread_id=THREAD.thread_id, message_id=A2b)
    assert branches.decide_set_active_leaf(THREAD, A3, user_id=USER, tree=at(A3)) == []
    assert (
        code_of(
            branches.decide_set_active_leaf,
            THREAD,
            Q1,
            user_id=USER,
            tree=Tree(()),
        )
        == "not_found"
    )


def test_delete_takes_the_subtree_and_moves_the_active_leaf() -> None:
    [event] = branches.decide_delete_message(THREAD, A2b, user_id=USER, tree=at(A2b))
    assert isinstance(event, MessageDeleted)
    assert (event.below, event.active_leaf_moved, event.active_leaf_id) == ([], True, A2)
    [event] = branches.decide_delete_message(THREAD, Q1b, user_id=USER, tree=at(A3))
    assert (event.below, event.active_leaf_id) == ([A3], A2b)  # the other root's newest branch
    [event] = branches.decide_delete_message(THREAD, A1, user_id=USER, tree=at(A3))
    assert (event.below, event.active_leaf_moved) == ([Q2, A2, A2b], False)


def test_regenerate_rules() -> None:
    new = uuid.uuid4()
    cmd = RegenerateAnswer(thread_id=THREAD.thread_id, message_id=A2, assistant_message_id=new)
    node = TREE.node(A2)
    [event] = branches.decide_regenerate(THREAD, cmd, user_id=USER, node=node, streaming=False)
    assert isinstance(event, AssistantMessageRequested)
    assert (event.user_message_id, event.model, event.provider) == (Q2, "echo", "echo")
    slow = cmd.model_copy(update={"model": "echo-slow"})
    [event] = branches.decide_regenerate(THREAD, slow, user_id=USER, node=node, streaming=False)
    assert event.model == "echo-slow"  # type: ignore[attr-defined]
    unknown = cmd.model_copy(update={"model": "gpt-4o"})
    regen = branches.decide_regenerate
    assert code_of(regen, THREAD, unknown, user_id=USER, node=node, streaming=False) == "invalid"
    assert code_of(regen, THREAD, cmd, user_id=USER, node=node, streaming=True) == "conflict"
    question = TREE.node(Q2)
    assert code_of(regen, THREAD, cmd, user_id=USER, node=question, streaming=False) == "invalid"
    assert code_of(regen, THREAD, cmd, user_id=USER, node=None, streaming=False) == "not_found"
    assert code_of(regen, THREAD, cmd, user_id=uuid.uuid4(), node=node, streaming=False) == (
        "not_found"
    )


def test_edit_rules() -> None:
    cmd = EditMessage(
        thread_id=THREAD.thread_id,
        message_id=Q2,
        user_message_id=uuid.uuid4(),
        assistant_message_id=uuid.uuid4(),
        content="again",
    )
    user_turn, request = branches.decide_edit(
        THREAD, cmd, user_id=USER, node=TREE.node(Q2), streaming=False
    )
    assert user_turn.parent_id == A1  # type: ignore[attr-defined]
    assert request.user_message_id == cmd.user_message_id  # type: ignore[attr-defined]
    edit = branches.decide_edit
    answer = TREE.node(A2)
    assert code_of(edit, THREAD, cmd, user_id=USER, node=answer, streaming=False) == "invalid"
    assert code_of(edit, THREAD, cmd, user_id=USER, node=TREE.node(Q2), streaming=True) == (
        "conflict"
    )
    empty = cmd.model_copy(update={"content": "  "})
    assert code_of(edit, THREAD, empty, user_id=USER, node=TREE.node(Q2), streaming=False) == (
        "invalid"
    )


def test_fork_copies_the_path() -> None:
    new_thread = uuid.uuid4()
    cmd = ForkThread(thread_id=THREAD.thread_id, message_id=A1, new_thread_id=new_thread)

    def original(message_id: uuid.UUID, role: str, status: str = "complete") -> branches.Original:
        return branches.Original(message_id, role, "x", None, None, None, None, None, status)  # type: ignore[arg-type]

    path = [original(Q1, "user"), original(A1, "assistant")]
    created, first, second = branches.decide_fork(
        THREAD, None, cmd, user_id=USER, project_id=None, path=path
    )
    assert created.forked_from.message_id == A1  # type: ignore[attr-defined]
    assert created.thread_type == "assistant"  # type: ignore[attr-defined]
    assert first.parent_id is None and second.parent_id == first.message_id  # type: ignore[attr-defined]
    assert second.message_id == branches.copy_id(new_thread, A1)  # type: ignore[attr-defined]
    fork = branches.decide_fork
    streaming = [original(Q1, "user"), original(A1, "assistant", "streaming")]
    kwargs = {"user_id": USER, "project_id": None}
    assert code_of(fork, THREAD, None, cmd, path=streaming, **kwargs) == "conflict"
    assert code_of(fork, THREAD, None, cmd, path=[], **kwargs) == "not_found"
    assert code_of(fork, THREAD, THREAD, cmd, path=path, **kwargs) == "conflict"


def test_events_stored_before_the_tree_read_as_a_chain() -> None:
    data = {"message_id": str(Q1), "thread_id": str(THREAD.thread_id), "content": "hi"}
    assert upcast("UserMessagePosted", 1, data) == (2, {**data, "chained": True})
    assert upcast("MessagePosted", 1, data)[1]["chained"] is True
    assert upcast("MessageDeleted", 1, data)[1]["chained"] is True
    assert upcast("UserMessagePosted", 2, data) == (2, data)
