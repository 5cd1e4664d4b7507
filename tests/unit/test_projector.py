"""The projector and its SQL compiler: one append's changes go in as few statements as their
dependencies allow (a chat's question and answer request, and an answer's outcome, in one
each), and a change that must see an earlier one's effect starts a new statement."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from threads.projections import Projector, default_projector
from threads.projections.changes import Change, Delete, Insert, Ref, Update
from threads.projections.sql import compile_changes
from threads.store.tables import messages, projects, threads

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def event(type_: str, position: int = 1, **data: Any) -> Any:
    return SimpleNamespace(type=type_, position=position, recorded_at=NOW, data=data)


class Conn:
    """Records the statements a projector sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def execute(self, clause: Any, params: dict[str, Any]) -> None:
        self.sent.append(clause.text)


def chat(thread: str = "t1") -> list[Any]:
    return [
        event("UserMessagePosted", 1, thread_id=thread, message_id="m1", content="hi"),
        event(
            "AssistantMessageRequested",
            2,
            thread_id=thread,
            message_id="m2",
            user_id="u1",
            user_message_id="m1",
            provider="echo",
            model="echo",
        ),
    ]


async def test_a_chat_post_is_one_statement() -> None:
    conn = Conn()
    await default_projector().project_all(conn, chat())  # type: ignore[arg-type]
    assert len(conn.sent) == 1
    sql = conn.sent[0]
    assert sql.count('INSERT INTO "messages"') == 1  # both rows in one INSERT
    assert sql.count('UPDATE "threads"') == 1  # one touch, +2
    # the project row is locked before the thread row
    assert sql.index('UPDATE "projects"') < sql.index('UPDATE "threads"')


async def test_an_outcome_is_one_statement_guarded_by_its_message() -> None:
    conn = Conn()
    done = event(
        "AssistantMessageCompleted", 3, thread_id="t1", message_id="m2", content="yo", usage=None
    )
    await default_projector().project_all(conn, [done])  # type: ignore[arg-type]
    assert len(conn.sent) == 1
    assert 'EXISTS (SELECT 1 FROM "messages"' in conn.sent[0]


async def test_calling_the_projector_projects_one_event() -> None:
    conn = Conn()
    projector = default_projector()
    for e in chat():
        await projector(conn, e)  # type: ignore[arg-type]
    assert len(conn.sent) == 2


async def test_project_all_goes_through_call_for_each_event() -> None:
    """A projector that wraps another (a fault injected after an event) sees every event."""
    seen: list[str] = []

    class Wrapping(Projector):
        async def __call__(self, conn: Any, e: Any) -> None:
            seen.append(e.type)
            await super().__call__(conn, e)

    await Wrapping().project_all(Conn(), chat())  # type: ignore[arg-type]
    assert seen == ["UserMessagePosted", "AssistantMessageRequested"]


def test_definitions_run_in_the_order_given() -> None:
    calls: list[str] = []

    def named(name: str) -> Any:
        def fn(out: Any, e: Any) -> None:
            calls.append(name)

        return fn

    projector = Projector({"X": named("a")}, {"X": named("b"), "Y": named("c")})
    projector.changes(event("X"))
    assert calls == ["a", "b"]


def test_a_read_after_an_update_of_that_row_reads_its_returning() -> None:
    """A name read after its project row is updated (so locked) is the locked row's."""
    changes: list[Change] = [
        Update(projects, "p1", add={"thread_count": 1}),
        Insert(threads, {"id": "t1"}, {"project_name": Ref(projects, "p1", "name")}),
    ]
    [(clause, _)] = compile_changes(changes)
    assert 'SELECT r."name" FROM s0' in clause.text


def test_a_change_that_must_see_an_earlier_one_starts_a_statement() -> None:
    deleted_then_read: list[Change] = [
        Delete(threads, "t1"),
        Update(projects, Ref(threads, "t1", "project_id"), add={"thread_count": 1}),
    ]
    assert len(compile_changes(deleted_then_read)) == 2
    deleted_then_inserted: list[Change] = [Delete(messages, "m1"), Insert(messages, {"id": "m1"})]
    assert len(compile_changes(deleted_then_inserted)) == 2
    two_rows: list[Change] = [
        Update(projects, "p1", set={"name": "a"}),
        Update(projects, "p2", set={"name": "b"}),
    ]
    assert len(compile_changes(two_rows)) == 2


def test_updates_of_one_row_merge_only_if_nothing_between_reads_it() -> None:
    read_between: list[Change] = [
        Update(threads, "t1", set={"title": "a"}),
        Insert(messages, {"id": "m1"}, {"user_id": Ref(threads, "t1", "title")}),
        Update(threads, "t1", set={"title": "b"}),
    ]
    assert len(compile_changes(read_between)) == 2
    unrelated_between: list[Change] = [
        Update(threads, "t1", set={"title": "a"}),
        Insert(messages, {"id": "m1"}),
        Update(threads, "t1", set={"title": "b"}),
    ]
    assert len(compile_changes(unrelated_between)) == 1
