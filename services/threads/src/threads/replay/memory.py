"""The in-memory interpreter of `projections.changes`: replay's bulk phase has every event's
definitions say their changes straight to `Memory`, which applies each to rows held in dicts
(no change object is built); `load` then COPYs the rows.

A row is a dict of every column of its table, keyed in its table by its primary key. Values are
what the live path binds, except: timestamps are `Micros` (PostgreSQL's own representation,
microseconds since 2000-01-01 UTC, compared and COPYed as integers), and a JSONB column holds
its JSON text (a given None is the text `null`, as the live path binds it; a column left out
stays SQL NULL). A table answers `UpdateWhere` and `DeleteWhere` from an index on the column,
built the first time it is asked for; an index may keep keys of rows changed since, so every
hit is checked against its row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Boolean, Integer, Table
from sqlalchemy.dialects.postgresql import JSONB

from threads.projections.changes import (
    Change,
    Delete,
    DeleteWhere,
    Insert,
    Ref,
    Refs,
    Update,
    UpdateWhere,
    Upsert,
    When,
)

Micros = int  # a timestamptz: microseconds since 2000-01-01 00:00 UTC


def jsonb(value: Any) -> str:
    """JSON text of `value`, the document the live path's JSONB parameter stores."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):  # an integer beyond 64 bits, say
        return json.dumps(value)


def _default(column: Any) -> Any:
    arg = getattr(column.server_default, "arg", None)
    if not isinstance(arg, str):
        return None
    if isinstance(column.type, Integer):
        return int(arg)
    if isinstance(column.type, Boolean):
        return arg == "true"
    return arg


class MemoryTable:
    __slots__ = ("columns", "defaults", "indexes", "json", "key", "name", "rows", "watched")

    def __init__(self, table: Table) -> None:
        self.name = table.name
        self.columns = [c.name for c in table.columns]
        self.defaults = {c.name: _default(c) for c in table.columns}
        self.json = tuple(c.name for c in table.columns if isinstance(c.type, JSONB))
        pk = [c.name for c in table.primary_key.columns]
        self.key: Callable[[dict[str, Any]], Any] = itemgetter(*pk)
        self.rows: dict[Any, dict[str, Any]] = {}
        self.indexes: dict[str, dict[Any, list[Any]]] = {}
        self.watched = frozenset(self.json)  # columns a plain `set` must not just overwrite

    def index(self, column: str) -> dict[Any, list[Any]]:
        index = self.indexes.get(column)
        if index is None:
            index = self.indexes[column] = {}
            self.watched = self.watched | {column}
            for key, row in self.rows.items():
                if row[column] is not None:
                    index.setdefault(row[column], []).append(key)
        return index

    def put(self, row: dict[str, Any]) -> None:
        key = self.key(row)
        self.rows[key] = row
        for column, index in self.indexes.items():
            value = row[column]
            if value is not None:
                entry = index.get(value)
                if entry is None:
                    index[value] = [key]
                else:
                    entry.append(key)

    def matching(self, column: str, value: Any) -> list[dict[str, Any]]:
        rows = self.rows
        found = (rows.get(key) for key in self.index(column).get(value, ()))
        return [row for row in found if row is not None and row[column] == value]

    def records(self) -> Iterable[tuple[Any, ...]]:
        """The rows as tuples in column order, for COPY."""
        return map(itemgetter(*self.columns), self.rows.values())


class Tables(dict[Table, MemoryTable]):
    """Every read model's rows, by `Table` (and `by_name`)."""

    def __init__(self, tables: Sequence[Table]) -> None:
        super().__init__((t, MemoryTable(t)) for t in tables)
        self.by_name = {t.name: self[t] for t in tables}


def _set(table: MemoryTable, row: dict[str, Any], values: dict[str, Any]) -> None:
    if table.watched.isdisjoint(values):
        row.update(values)
        return
    for column, value in values.items():
        if column in table.json:
            value = "null" if value is None else jsonb(value)
        index = table.indexes.get(column)
        if index is not None and value is not None and value != row[column]:
            index.setdefault(value, []).append(table.key(row))
        row[column] = value


class Memory:
    """A `projections.changes.Changes` applying each change to `tables` as it is said."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def resolve(self, ref: Ref) -> Any:
        row = self.tables[ref.table].rows.get(ref.key)
        return None if row is None else row[ref.column]

    def _row(self, table: MemoryTable, values: dict[str, Any], refs: Refs) -> dict[str, Any]:
        row = {**table.defaults, **values}
        if refs:
            tables = self.tables
            for column, ref in refs.items():
                found = tables[ref.table].rows.get(ref.key)
                row[column] = None if found is None else found[ref.column]
        for column in table.json:
            if column in values:
                value = values[column]
                row[column] = "null" if value is None else jsonb(value)
        return row

    def insert(self, table: Table, values: dict[str, Any], refs: Refs = None) -> None:
        t = self.tables[table]
        t.put(self._row(t, values, refs))

    def upsert(
        self,
        table: Table,
        values: dict[str, Any],
        refs: Refs = None,
        set: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
    ) -> None:
        t = self.tables[table]
        row = self._row(t, values, refs)
        present = t.rows.get(t.key(row))
        if present is None:
            t.put(row)
            return
        if set:
            _set(t, present, set)
        if add:
            for column, n in add.items():
                present[column] += n

    def update(
        self,
        table: Table,
        key: Any,
        set: dict[str, Any] | None = None,
        refs: Refs = None,
        add: dict[str, int] | None = None,
        later: dict[str, Any] | None = None,
    ) -> None:
        tables = self.tables
        if type(key) is Ref:
            found = tables[key.table].rows.get(key.key)
            if found is None:
                return
            key = found[key.column]
        t = tables[table]
        row = t.rows.get(key)
        if row is None:
            return
        if later:
            for column, at in later.items():
                if at is not None and at > row[column]:
                    row[column] = at
        if add:
            for column, n in add.items():
                row[column] += n
        if set:
            _set(t, row, set)
        if refs:
            _set(t, row, {c: self.resolve(ref) for c, ref in refs.items()})

    def update_where(self, table: Table, column: str, value: Any, set: dict[str, Any]) -> None:
        t = self.tables[table]
        if any(type(v) is Ref for v in set.values()):  # read before any row changes
            set = {c: self.resolve(v) if type(v) is Ref else v for c, v in set.items()}
        for row in t.matching(column, value):
            _set(t, row, set)

    def delete(self, table: Table, key: Any) -> None:
        self.tables[table].rows.pop(key, None)

    def delete_where(self, table: Table, column: str, value: Any) -> None:
        t = self.tables[table]
        index = t.index(column)
        for row in t.matching(column, value):
            t.rows.pop(t.key(row), None)  # a key may be listed twice
        index.pop(value, None)

    def when(self, table: Table, key: Any, then: Callable[..., None], *args: Any) -> None:
        if key in self.tables[table].rows:
            then(self, *args)

    def apply(self, changes: Iterable[Change]) -> None:
        """Changes given as objects (a `Recorder`'s)."""
        for change in changes:
            if type(change) is When:
                self.when(change.table, change.key, Memory.apply, change.changes)
            else:
                getattr(self, _METHODS[type(change)])(*change)


_METHODS = {
    Insert: "insert",
    Upsert: "upsert",
    Update: "update",
    UpdateWhere: "update_where",
    Delete: "delete",
    DeleteWhere: "delete_where",
}
