"""Which changes share a statement (see `projections.sql`): each statement's steps, what each
writes and reads, and where a read is served from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from threads.projections.changes import (
    Delete,
    DeleteWhere,
    Insert,
    Ref,
    Update,
    UpdateWhere,
    Upsert,
)

Guards = tuple[tuple[Table, Any], ...]  # rows that must exist (`When`)
ALL = "*"  # a read of a row's existence, a write that adds or removes rows


@dataclass
class Step:
    kind: type
    table: Table
    guards: Guards
    change: Any  # Delete, DeleteWhere, UpdateWhere, Upsert: as given
    key: Any = None  # Update
    # Update, UpdateWhere: column -> its values, each ("set" | "refs" | "add" | "later", value)
    values: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    rows: list[tuple[dict[str, Any], dict[str, Ref] | None]] = field(default_factory=list)
    writes: set[str] = field(default_factory=set)
    reads: set[tuple[str, str]] = field(default_factory=set)


_PARTS = ("set", "refs", "add", "later")


def entries(change: Update) -> dict[str, tuple[str, Any]]:
    """An Update's columns, each with how it changes."""
    found: dict[str, tuple[str, Any]] = {}
    for part in _PARTS:
        for column, value in (getattr(change, part) or {}).items():
            found[column] = (part, value)
    return found


def _refs(change: Any) -> list[Ref]:
    kind = type(change)
    refs: list[Ref] = []
    if kind is Update and type(change.key) is Ref:
        refs.append(change.key)
    if kind in (Insert, Upsert, Update):
        refs.extend((change.refs or {}).values())
    if kind is UpdateWhere:
        refs.extend(v for v in change.set.values() if type(v) is Ref)
    return refs


def _writes(change: Any) -> set[str]:
    if type(change) is Update:
        return set(entries(change))
    if type(change) is UpdateWhere:
        return set(change.set)
    return {ALL}


def primary_key(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _names_row(step: Step, key: Any) -> bool:
    """The step changed the row with primary key `key` (and returns it as it is now)."""
    if step.kind is Update:
        return bool(step.key == key)
    if step.kind is Insert or step.kind is Upsert:
        pk = primary_key(step.table)
        return len(pk) == 1 and any(values.get(pk[0]) == key for values, _ in step.rows)
    return False


def _composes(step: Step, change: Update) -> bool:
    """Numbers add up, the latest of the times wins, a value replaces; nothing else."""
    if change.refs:
        return False
    for column, (part, _) in entries(change).items():
        present = step.values.get(column)
        if (present is not None and present[0][0] != part) or part == "refs":
            return False
    return True


class Statement:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.writer: dict[str, int] = {}  # table name -> the one step changing it

    def source(self, ref: Ref, position: int) -> int | bool | None:
        """Where step `position` reads `ref`: the index of the step whose RETURNING has it,
        None for the statement's snapshot, False if neither gives the right value."""
        k = self.writer.get(ref.table.name)
        if k is None or k >= position:
            return None
        step = self.steps[k]
        if _names_row(step, ref.key):
            return k
        if ALL in step.writes or ref.column in step.writes:
            return False
        return None

    def _readable(self, change: Any, guards: Guards, position: int) -> bool:
        for table, _ in guards:
            k = self.writer.get(table.name)
            if k is not None and k < position and ALL in self.steps[k].writes:
                return False
        return all(self.source(ref, position) is not False for ref in _refs(change))

    def add(self, change: Any, guards: Guards) -> bool:
        """Takes the change into this statement, or says it must start the next one."""
        if type(change) is Update and not entries(change):
            return True
        reads = {(r.table.name, r.column) for r in _refs(change)}
        reads.update((t.name, ALL) for t, _ in guards)
        k = self.writer.get(change.table.name)
        if k is not None:
            return self._merge(k, change, guards, reads)
        if not self._readable(change, guards, len(self.steps)):
            return False
        step = Step(type(change), change.table, guards, change)
        self._fill(step, change)
        step.writes, step.reads = _writes(change), reads
        self.writer[change.table.name] = len(self.steps)
        self.steps.append(step)
        return True

    def _merge(self, k: int, change: Any, guards: Guards, reads: set[tuple[str, str]]) -> bool:
        step, kind = self.steps[k], type(change)
        if step.guards != guards or kind is not step.kind or kind not in (Insert, Update):
            return False
        if kind is Update and not (step.key == change.key and _composes(step, change)):
            return False
        writes = _writes(change)
        name = change.table.name
        for later in self.steps[k + 1 :]:
            if any(
                t == name and (c == ALL or ALL in writes or c in writes) for t, c in later.reads
            ):
                return False  # a later step reads what this would change
            for t, c in reads:
                if t == later.table.name and (ALL in later.writes or c in later.writes):
                    return False  # this reads what a later step changed
        if not self._readable(change, guards, k):
            return False
        self._fill(step, change)
        step.writes |= writes
        step.reads |= reads
        return True

    @staticmethod
    def _fill(step: Step, change: Any) -> None:
        kind = type(change)
        if kind is Insert or kind is Upsert:
            step.rows.append((change.values, change.refs))
        elif kind is Update:
            step.key = change.key
            for column, (part, value) in entries(change).items():
                present = step.values.setdefault(column, [])
                if part == "set":
                    present.clear()  # a value replaces
                present.append((part, value))
        elif kind is UpdateWhere:
            step.values = {
                c: [("refs" if type(v) is Ref else "set", v)] for c, v in change.set.items()
            }
        else:
            assert kind in (Delete, DeleteWhere), kind
