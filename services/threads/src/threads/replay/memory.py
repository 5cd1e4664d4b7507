"""The in-memory interpreter of `projections.changes`: replay's bulk phase applies every event's
changes to rows held in dicts, then COPYs them (`load`).

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

    def resolve(self, ref: Ref) -> Any:
        row = self[ref.table].rows.get(ref.key)
        return None if row is None else row[ref.column]

    def apply(self, changes: Iterable[Change]) -> None:
        applying = APPLY
        for change in changes:
            applying[type(change)](self, change)


def _new_row(m: Tables, change: Insert | Upsert) -> tuple[MemoryTable, dict[str, Any]]:
    table = m[change.table]
    values = change.values
    row = {**table.defaults, **values}
    refs = change.refs
    if refs:
        for column, ref in refs.items():
            found = m[ref.table].rows.get(ref.key)
            row[column] = None if found is None else found[ref.column]
    for column in table.json:
        if column in values:
            value = values[column]
            row[column] = "null" if value is None else jsonb(value)
    return table, row


def _insert(m: Tables, change: Insert) -> None:
    table, row = _new_row(m, change)
    key = table.key(row)  # `put`, inlined: the most frequent change
    table.rows[key] = row
    if table.indexes:
        for column, index in table.indexes.items():
            value = row[column]
            if value is not None:
                entry = index.get(value)
                if entry is None:
                    index[value] = [key]
                else:
                    entry.append(key)


def _upsert(m: Tables, change: Upsert) -> None:
    table, row = _new_row(m, change)
    present = table.rows.get(table.key(row))
    if present is None:
        table.put(row)
        return
    if change.set:
        _set(table, present, change.set)
    if change.add:
        for column, n in change.add.items():
            present[column] += n


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


def _update(m: Tables, change: Update) -> None:
    table, key, values, refs, add, later = change
    if type(key) is Ref:
        found = m[key.table].rows.get(key.key)
        if found is None:
            return
        key = found[key.column]
    row = m[table].rows.get(key)
    if row is None:
        return
    if later:
        for column, at in later.items():
            if at is not None and at > row[column]:
                row[column] = at
    if add:
        for column, n in add.items():
            row[column] += n
    if values:
        _set(m[table], row, values)
    if refs:
        _set(m[table], row, {c: m.resolve(ref) for c, ref in refs.items()})


def _update_where(m: Tables, change: UpdateWhere) -> None:
    table = m[change.table]
    for row in table.matching(change.column, change.value):
        _set(table, row, change.set)


def _delete(m: Tables, change: Delete) -> None:
    m[change.table].rows.pop(change.key, None)


def _delete_where(m: Tables, change: DeleteWhere) -> None:
    table = m[change.table]
    index = table.index(change.column)
    for row in table.matching(change.column, change.value):
        table.rows.pop(table.key(row), None)  # a key may be listed twice
    index.pop(change.value, None)


def _when(m: Tables, change: When) -> None:
    if change.key in m[change.table].rows:
        m.apply(change.changes)


APPLY: dict[type, Callable[[Tables, Any], None]] = {
    Insert: _insert,
    Upsert: _upsert,
    Update: _update,
    UpdateWhere: _update_where,
    Delete: _delete,
    DeleteWhere: _delete_where,
    When: _when,
}
