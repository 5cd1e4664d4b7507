"""The thread aggregate's decisions: create, rename/move, delete, messages."""

from __future__ import annotations

import uuid

import pytest

from contracts.commands import CreateThread, PostMessage, UpdateThread
from contracts.events import MessageDeleted, MessagePosted, ThreadMoved, ThreadRenamed
from threads.domain import branches, thread
from threads.domain.errors import DomainError
from threads.domain.tree import Node, Tree

OWNER = uuid.uuid4()


def created(title: str = "T", project_id: uuid.UUID | None = None) -> thread.ThreadState:
    cmd = CreateThread(thread_id=uuid.uuid4(), title=title, project_id=project_id)
    events = thread.decide_create(
        None, cmd, user_id=OWNER, default_provider="anthropic", routed_model=None
    )
    state = thread.fold(list(events))
    assert state is not None
    return state


def code_of(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)  # type: ignore[operator]
    return str(err.value.code)


def test_create_defaults_and_refusals() -> None:
    cmd = CreateThread(thread_id=uuid.uuid4())
    [event] = thread.decide_create(
        None, cmd, user_id=OWNER, default_provider="echo", routed_model=None
    )
    assert (event.title, event.provider, event.model) == ("New Chat", "echo", "echo")
    assert (event.thread_type, event.agent_type) == ("ba_assistant", "chat")
    routed = thread.decide_create(
        None, cmd, user_id=OWNER, default_provider="openai", routed_model="gpt-x"
    )
    assert routed[0].model == "gpt-x"
    for bad in (
        CreateThread(thread_id=uuid.uuid4(), thread_type="pirate"),
        CreateThread(thread_id=uuid.uuid4(), provider="skynet"),
        CreateThread(thread_id=uuid.uuid4(), agent_type="a" * 51),
        CreateThread(thread_id=uuid.uuid4(), title="t" * 256),
        CreateThread(thread_id=uuid.uuid4(), title="nul\x00"),
    ):
        assert (
            code_of(
                thread.decide_create,
                None,
                bad,
                user_id=OWNER,
                default_provider="anthropic",
                routed_model=None,
            )
            == "invalid"
        )


def test_update_renames_and_moves_only_when_something_changes() -> None:
    p1, p2 = uuid.uuid4(), uuid.uuid4()
    state = created("T", p1)
    tid = state.thread_id

    def decide(**kw: object) -> list[ThreadRenamed | ThreadMoved]:
        return thread.decide_update(
            state, UpdateThread(thread_id=tid, **kw), user_id=OWNER, current_project_id=p1
        )

    assert decide() == []
    assert decide(title=" T ") == []
    assert decide(project_id=p2) == []  # move=False: project_id is ignored
    assert decide(move=True, project_id=p1) == []
    assert decide(title="U") == [ThreadRenamed(thread_id=tid, title="U")]
    assert decide(move=True, project_id=None) == [
        ThreadMoved(thread_id=tid, from_project_id=p1, to_project_id=None)
    ]
    assert decide(title="U", move=True, project_id=p2) == [
        ThreadRenamed(thread_id=tid, title="U"),
        ThreadMoved(thread_id=tid, from_project_id=p1, to_project_id=p2),
    ]
    assert code_of(decide, title="  ") == "invalid"
    assert (
        code_of(
            thread.decide_update,
            state,
            UpdateThread(thread_id=tid, title="x"),
            user_id=uuid.uuid4(),
            current_project_id=p1,
        )
        == "not_found"
    )


def test_messages_and_delete() -> None:
    state = created()
    mid = uuid.uuid4()
    cmd = PostMessage(
        thread_id=state.thread_id, message_id=mid, role="user", content="hi", metadata={"a": [1]}
    )
    [posted] = thread.decide_post_message(state, cmd, user_id=OWNER)
    assert posted == MessagePosted(
        message_id=mid, thread_id=state.thread_id, role="user", content="hi", metadata={"a": [1]}
    )
    assert code_of(thread.decide_post_message, state, cmd, user_id=uuid.uuid4()) == "not_found"
    nul = cmd.model_copy(update={"metadata": {"k": {"deep": "\x00"}}})
    assert code_of(thread.decide_post_message, state, nul, user_id=OWNER) == "invalid"

    tree = Tree((Node(mid, None, "user", "complete"),), active_leaf=mid)
    assert branches.decide_delete_message(state, mid, user_id=OWNER, tree=tree) == [
        MessageDeleted(
            message_id=mid, thread_id=state.thread_id, active_leaf_moved=True, active_leaf_id=None
        )
    ]
    empty = Tree(())
    assert (
        code_of(branches.decide_delete_message, state, mid, user_id=OWNER, tree=empty)
        == "not_found"
    )

    [deleted] = thread.decide_delete(state, user_id=OWNER)
    gone = thread.evolve(state, deleted)
    assert code_of(thread.decide_delete, gone, user_id=OWNER) == "not_found"
    assert code_of(thread.decide_post_message, gone, cmd, user_id=OWNER) == "not_found"
