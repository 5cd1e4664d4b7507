"""Replay's in-memory interpreter of the read models' changes: every read-model table, rows
COPYed in column order, and the semantics the SQL path has (a guard, a cascade through an index
that keeps stale keys, JSON null against SQL NULL, activity that only moves forward)."""

from __future__ import annotations

from threads.projections.changes import DeleteWhere, Insert, Ref, Update, UpdateWhere, When
from threads.replay.memory import Memory, Tables
from threads.store.tables import READ_MODELS, messages, projects, threads, written


def thread(tid: str, project: str | None) -> Insert:
    return Insert(threads, {"id": tid, "project_id": project, "message_count": 0, "title": tid})


def test_every_read_model_table_copies_in_column_order() -> None:
    tables = Tables(READ_MODELS)
    memory = Memory(tables)
    assert sorted(tables.by_name) == sorted(t.name for t in READ_MODELS)
    memory.apply([thread("t1", None)])
    (record,) = tables[threads].records()
    assert len(record) == len(written(threads))
    assert record[[c.name for c in written(threads)].index("title")] == "t1"


def test_a_cascade_follows_moves_and_never_acts_twice() -> None:
    tables = Tables(READ_MODELS)
    memory = Memory(tables)
    memory.apply([thread("t1", "p1"), thread("t2", "p1")])
    for target in ("p2", "p1", "p2"):  # t1 listed under p1 and p2 more than once
        memory.apply([Update(threads, "t1", set={"project_id": target})])
    memory.apply([UpdateWhere(threads, "project_id", "p1", {"project_name": "one"})])
    assert tables[threads].value("t1", "project_name") is None
    assert tables[threads].value("t2", "project_name") == "one"
    memory.apply([DeleteWhere(threads, "project_id", "p2")])
    assert list(tables[threads].rows) == ["t2"]


def test_a_guard_a_reference_and_activity_moving_forward() -> None:
    tables = Tables(READ_MODELS)
    memory = Memory(tables)
    memory.apply(
        [
            Insert(projects, {"id": "p1", "name": "one", "last_activity_at": 5}),
            thread("t1", "p1"),
        ]
    )
    touch = [
        Update(projects, Ref(threads, "t1", "project_id"), later={"last_activity_at": 9}),
        Update(threads, "t1", add={"message_count": 1}),
    ]
    memory.apply([When(messages, "gone", touch)])
    assert tables[projects].value("p1", "last_activity_at") == 5
    memory.apply(touch)
    memory.apply([Update(projects, "p1", later={"last_activity_at": 7})])
    memory.apply([Update(projects, "p1", later={"last_activity_at": None})])
    assert tables[projects].value("p1", "last_activity_at") == 9
    assert tables[threads].value("t1", "message_count") == 1


def test_json_null_is_not_sql_null() -> None:
    tables = Tables(READ_MODELS)
    memory = Memory(tables)
    memory.apply([Insert(messages, {"id": "m1", "metadata": None, "usage": {"n": 1}})])
    row = tables[messages].as_dict("m1")
    assert row is not None
    assert (row["metadata"], row["artifact_data"], row["usage"]) == ("null", None, '{"n":1}')
    assert row["attempt"] == 1  # the column's default


def test_an_index_entry_grows_from_one_key_to_many_and_is_checked_against_its_row() -> None:
    """Most values are listed under one key (a leaf, a parent): held as the key itself until a
    second comes, and a hit that moved on since is not acted on."""
    tables = Tables(READ_MODELS)
    memory = Memory(tables)
    memory.apply([thread("t1", "p1")])
    memory.apply([UpdateWhere(threads, "project_id", "p1", {"title": "indexed"})])
    memory.apply([thread("t2", "p1"), thread("t3", "p2")])  # p1: one key, then two
    memory.apply([Update(threads, "t3", set={"project_id": "p1"})])  # and three
    memory.apply([Update(threads, "t1", set={"project_id": "p2"})])  # t1 moved on
    memory.apply([UpdateWhere(threads, "project_id", "p1", {"project_name": "one"})])
    names = {key: tables[threads].value(key, "project_name") for key in ("t1", "t2", "t3")}
    assert names == {"t1": None, "t2": "one", "t3": "one"}
    memory.apply([DeleteWhere(threads, "project_id", "p2")])
    assert sorted(tables[threads].rows) == ["t2", "t3"]
