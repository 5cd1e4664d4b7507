"""The vocabulary every read model is written in: the row changes one event makes.

A read model is a set of functions, one per event type, that read nothing but the event and
say its row changes to a `Changes`; nothing else. Two interpreters take them: a `Recorder`
collects them for `projections.sql`, which compiles one append's changes into as few
statements as their dependencies allow (the live path, inside the appending transaction), and
`replay.memory` applies each as it is said to in-memory rows (replay's bulk phase, where a
million events leave no time for building and dispatching objects). So a read model has one
definition, and replay rebuilds what the live path built.

Values are bound as their column's type. Semantics are those of the changes applied one after
the other, in order; a change whose row is not there does nothing, as an UPDATE or DELETE
matching no row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Table


class Event(Protocol):
    """What a definition may read of an event: never the clock, so replay agrees."""

    @property
    def position(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def recorded_at(self) -> datetime | int: ...  # replay holds microseconds (`replay.memory`)


class Ref(NamedTuple):
    """The `column` of `table`'s row with primary key `key` (a plain value) as it is when the
    change is applied; None without that row."""

    table: Table
    key: Any
    column: str


class Insert(NamedTuple):
    """A new row. Columns left out take their default (SQL NULL for a JSONB column; None given
    for one is JSON `null`); `refs` fills columns from other rows."""

    table: Table
    values: dict[str, Any]
    refs: dict[str, Ref] | None = None


class Upsert(NamedTuple):
    """Insert `values` (and `refs`), or, if a row has that primary key, change that row:
    `set` its columns to values, `add` numbers to them."""

    table: Table
    values: dict[str, Any]
    refs: dict[str, Ref] | None = None
    set: dict[str, Any] | None = None
    add: dict[str, int] | None = None


class Update(NamedTuple):
    """The row with primary key `key` (a value, a tuple for a composite key, or a `Ref`):
    `set` columns to values, fill them from other rows (`refs`), `add` numbers to them, or
    move them to the `later` of their value and the one given (None leaves the column)."""

    table: Table
    key: Any
    set: dict[str, Any] | None = None
    refs: dict[str, Ref] | None = None
    add: dict[str, int] | None = None
    later: dict[str, Any] | None = None


class UpdateWhere(NamedTuple):
    """Every row whose `column` is `value`: `set` columns to values; a `Ref` among them is
    read once, as it is when the change is applied."""

    table: Table
    column: str
    value: Any
    set: dict[str, Any]


class Delete(NamedTuple):
    table: Table
    key: Any


class DeleteWhere(NamedTuple):
    table: Table
    column: str
    value: Any


class When(NamedTuple):
    """`changes` apply only if `table` has a row with primary key `key` when this is reached.
    They must not delete or insert that table's rows before their last change."""

    table: Table
    key: Any
    changes: Sequence[Change]


Change = Insert | Upsert | Update | UpdateWhere | Delete | DeleteWhere | When


class Changes(Protocol):
    """Where a definition says its changes, each as the class of the same name means it."""

    def insert(self, table: Table, values: dict[str, Any], refs: Refs = None) -> None: ...

    def upsert(
        self,
        table: Table,
        values: dict[str, Any],
        refs: Refs = None,
        set: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
    ) -> None: ...

    def update(
        self,
        table: Table,
        key: Any,
        set: dict[str, Any] | None = None,
        refs: Refs = None,
        add: dict[str, int] | None = None,
        later: dict[str, Any] | None = None,
    ) -> None: ...

    def update_where(self, table: Table, column: str, value: Any, set: dict[str, Any]) -> None: ...

    def delete(self, table: Table, key: Any) -> None: ...

    def delete_where(self, table: Table, column: str, value: Any) -> None: ...

    def when(self, table: Table, key: Any, then: Callable[..., None], *args: Any) -> None:
        """`then(self, *args)` says the changes that apply only if the row is there."""


Refs = dict[str, Ref] | None
ChangeFn = Callable[[Changes, Any], None]  # (changes, an `Event`): one read model's changes
Definition = dict[str, ChangeFn]  # event type -> its changes: one read model


def fields(data: dict[str, Any], *names: str, maybe: Sequence[str] = ()) -> dict[str, Any]:
    """The event's fields `names` as the row's columns of the same names, and those in `maybe`
    too, None where the event has none."""
    return {name: data[name] for name in names} | {name: data.get(name) for name in maybe}


def deletes(table: Table, key: str) -> ChangeFn:
    """The definition that deletes the row whose primary key is the event's field `key`."""

    def delete(out: Changes, event: Event) -> None:
        out.delete(table, event.data[key])

    return delete


def deletes_with(table: Table, column: str) -> ChangeFn:
    """The definition that deletes the rows going with what the event deleted: those whose
    `column` is the event's field of that name (a thread's, a project's)."""

    def delete_where(out: Changes, event: Event) -> None:
        out.delete_where(table, column, event.data[column])

    return delete_where


def _keep(kind: Callable[..., Change]) -> Callable[..., None]:
    def keep(self: Recorder, *args: Any, **kwargs: Any) -> None:
        self.changes.append(kind(*args, **kwargs))

    return keep


class Recorder:
    """A `Changes` that keeps the changes said, in order, for the SQL compiler: each method
    makes the change of its name from its arguments (the fields bear the parameters' names)."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    insert = _keep(Insert)
    upsert = _keep(Upsert)
    update = _keep(Update)
    update_where = _keep(UpdateWhere)
    delete = _keep(Delete)
    delete_where = _keep(DeleteWhere)

    def when(self, table: Table, key: Any, then: Callable[..., None], *args: Any) -> None:
        outer, self.changes = self.changes, []
        try:
            then(self, *args)
        finally:
            guarded, self.changes = self.changes, outer
        self.changes.append(When(table, key, guarded))
