"""The in-memory interpreter of `projections.changes`: replay's bulk phase has every event's
definitions say their changes straight to `Memory`, which applies each to rows held in memory
(no change object is built); `load` then COPYs the rows.

A row is a list of its table's columns in column order, keyed in its table by its primary key:
what COPY takes as it is, and a fraction of a dict's memory. Each `MemoryTable` is compiled
once from its `Table` (column places, defaults, which columns are JSONB or indexed), so a
change costs a lookup per column it names. Values are what the live path binds, except:
timestamps are `Micros` (PostgreSQL's own representation, microseconds since 2000-01-01 UTC,
compared and COPYed as integers), and a JSONB column holds its JSON text (a given None is the
text `null`, as the live path binds it; a column left out stays SQL NULL). A table answers
`UpdateWhere` and `DeleteWhere` from an index on the column, built the first time it is asked
for; an index may keep keys of rows changed since, so every hit is checked against its row.
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
from threads.store.tables import written

Micros = int  # a timestamptz: microseconds since 2000-01-01 00:00 UTC
Row = list[Any]  # a table's columns in column order


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


def _list(index: dict[Any, Any], value: Any, key: Any) -> None:
    """Lists `key` under `value`: the key itself while it is the only one (most are: a leaf,
    a parent), a list once there are more (a key is never a list)."""
    entry = index.get(value)
    if entry is None:
        index[value] = key
    elif type(entry) is list:
        entry.append(key)
    else:
        index[value] = [entry, key]


class MemoryTable:
    __slots__ = (
        "columns",
        "defaults",
        "indexed",
        "indexes",
        "json",
        "json_places",
        "key",
        "key_of_values",
        "name",
        "place",
        "rows",
        "watched",
    )

    def __init__(self, table: Table) -> None:
        self.name = table.name
        columns = written(table)
        self.columns = [c.name for c in columns]
        self.place = {name: i for i, name in enumerate(self.columns)}
        self.defaults = [_default(c) for c in columns]
        self.json = frozenset(c.name for c in columns if isinstance(c.type, JSONB))
        self.json_places = tuple((c, i) for c, i in self.place.items() if c in self.json)
        pk = [self.place[c.name] for c in table.primary_key.columns]
        self.key: Callable[[Row], Any] = itemgetter(*pk)
        # the same key read from the values an insert is given
        self.key_of_values: Callable[[dict[str, Any]], Any] = itemgetter(
            *(c.name for c in table.primary_key.columns)
        )
        self.rows: dict[Any, Row] = {}
        self.indexes: dict[str, dict[Any, Any]] = {}  # value -> a key, or a list of keys
        self.indexed: tuple[tuple[int, dict[Any, Any]], ...] = ()  # (place, index)
        self.watched = self.json  # columns a plain `set` must not just overwrite

    def new_row(self, values: dict[str, Any]) -> Row:
        """`values` in column order, the defaults where a column is left out."""
        return list(map(values.get, self.columns, self.defaults))

    def value(self, key: Any, column: str) -> Any:
        """The `column` of the row keyed `key`; None without that row."""
        row = self.rows.get(key)
        return None if row is None else row[self.place[column]]

    def as_dict(self, key: Any) -> dict[str, Any] | None:
        """The row keyed `key` by column name (for reading it, not on the hot path)."""
        row = self.rows.get(key)
        return None if row is None else dict(zip(self.columns, row, strict=True))

    def index(self, column: str) -> dict[Any, Any]:
        index = self.indexes.get(column)
        if index is None:
            index = self.indexes[column] = {}
            self.watched = self.watched | {column}
            i = self.place[column]
            self.indexed = (*self.indexed, (i, index))
            for key, row in self.rows.items():
                if row[i] is not None:
                    _list(index, row[i], key)
        return index

    def put(self, row: Row) -> None:
        key = self.key(row)
        self.rows[key] = row
        for i, index in self.indexed:
            if row[i] is not None:
                _list(index, row[i], key)

    def set(self, row: Row, values: dict[str, Any]) -> None:
        place = self.place
        if self.watched.isdisjoint(values):
            for column, value in values.items():
                row[place[column]] = value
            return
        for column, value in values.items():
            i = place[column]
            if column in self.json:
                value = "null" if value is None else jsonb(value)
            index = self.indexes.get(column)
            if index is not None and value is not None and value != row[i]:
                _list(index, value, self.key(row))
            row[i] = value

    def matching(self, column: str, value: Any) -> list[Row]:
        rows, i = self.rows, self.place[column]
        entry = self.index(column).get(value)
        keys = () if entry is None else entry if type(entry) is list else (entry,)
        found = (rows.get(key) for key in keys)
        return [row for row in found if row is not None and row[i] == value]

    def records(self) -> Iterable[Row]:
        """The rows in column order, for COPY."""
        return self.rows.values()


class Tables(dict[Table, MemoryTable]):
    """Every read model's rows, by `Table` (and `by_name`)."""

    def __init__(self, tables: Sequence[Table]) -> None:
        super().__init__((t, MemoryTable(t)) for t in tables)
        self.by_name = {t.name: self[t] for t in tables}


class Memory:
    """A `projections.changes.Changes` applying each change to `tables` as it is said."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._tables = dict(tables)  # an exact dict: the interpreter's fast subscript

    def resolve(self, ref: Ref) -> Any:
        t = self._tables[ref.table]
        row = t.rows.get(ref.key)
        return None if row is None else row[t.place[ref.column]]

    def _row(self, t: MemoryTable, values: dict[str, Any], refs: Refs) -> Row:
        row = list(map(values.get, t.columns, t.defaults))
        if refs:
            place, tables = t.place, self._tables
            for column, ref in refs.items():
                source = tables[ref.table]
                found = source.rows.get(ref.key)
                row[place[column]] = None if found is None else found[source.place[ref.column]]
        for column, i in t.json_places:
            if column in values:
                value = values[column]
                row[i] = "null" if value is None else jsonb(value)
        return row

    def insert(self, table: Table, values: dict[str, Any], refs: Refs = None) -> None:
        t = self._tables[table]
        t.put(self._row(t, values, refs))

    def upsert(
        self,
        table: Table,
        values: dict[str, Any],
        refs: Refs = None,
        set: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
    ) -> None:
        t = self._tables[table]
        try:  # without building the row, when the values hold its key
            present = None if refs else t.rows.get(t.key_of_values(values))
        except KeyError:
            present = None
        if present is None:
            row = self._row(t, values, refs)
            present = t.rows.get(t.key(row))
            if present is None:
                t.put(row)
                return
        if set:
            t.set(present, set)
        if add:
            place = t.place
            for column, n in add.items():
                present[place[column]] += n

    def update(
        self,
        table: Table,
        key: Any,
        set: dict[str, Any] | None = None,
        refs: Refs = None,
        add: dict[str, int] | None = None,
        later: dict[str, Any] | None = None,
    ) -> None:
        tables = self._tables
        if type(key) is Ref:
            t = tables[key.table]
            found = t.rows.get(key.key)
            if found is None:
                return
            key = found[t.place[key.column]]
        t = tables[table]
        row = t.rows.get(key)
        if row is None:
            return
        place = t.place
        if later:
            for column, at in later.items():
                i = place[column]
                if at is not None and at > row[i]:
                    row[i] = at
        if add:
            for column, n in add.items():
                row[place[column]] += n
        if set:
            t.set(row, set)
        if refs:
            t.set(row, {c: self.resolve(ref) for c, ref in refs.items()})

    def update_where(self, table: Table, column: str, value: Any, set: dict[str, Any]) -> None:
        t = self._tables[table]
        if any(type(v) is Ref for v in set.values()):  # read before any row changes
            set = {c: self.resolve(v) if type(v) is Ref else v for c, v in set.items()}
        for row in t.matching(column, value):
            t.set(row, set)

    def delete(self, table: Table, key: Any) -> None:
        self._tables[table].rows.pop(key, None)

    def delete_where(self, table: Table, column: str, value: Any) -> None:
        t = self._tables[table]
        index = t.index(column)
        for row in t.matching(column, value):
            t.rows.pop(t.key(row), None)  # a key may be listed twice
        index.pop(value, None)

    def when(self, table: Table, key: Any, then: Callable[..., None], *args: Any) -> None:
        if key in self._tables[table].rows:
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
