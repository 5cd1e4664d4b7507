"""SQL text of a planned statement (`projections.plan`): every parameter cast to its column's
type, table names unqualified (replay's catch-up resolves them to its shadow tables).

Only names from the table metadata and the definitions' code go into the text, never a value:
every value is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Column, String, Table, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from threads.projections import changes
from threads.projections.plan import Statement, Step, primary_key

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@functools.cache
def _sql_type(type_: TypeEngine[Any]) -> str:
    if isinstance(type_, String) and not isinstance(type_, Text):
        return "VARCHAR"  # a cast to VARCHAR(n) would cut a long value short, not refuse it
    return type_.compile(dialect=_DIALECT)


class _Render:
    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self.types: list[TypeEngine[Any]] = []
        self.params: dict[str, Any] = {}
        self.served: set[int] = set()

    def bind(self, value: Any, column: Column[Any]) -> str:
        name = f"p{len(self.types)}"
        self.types.append(column.type)
        self.params[name] = value
        return f"CAST(:{name} AS {_sql_type(column.type)})"

    def ref(self, ref: changes.Ref, position: int) -> str:
        (pk,) = primary_key(ref.table)
        source = self.statement.source(ref, position)
        key = self.bind(ref.key, ref.table.c[pk])
        if source is None:
            relation = f'"{ref.table.name}"'
        else:
            self.served.add(int(source))
            relation = f"s{source}"
        return f'(SELECT r."{ref.column}" FROM {relation} AS r WHERE r."{pk}" = {key})'

    def value(self, value: Any, column: Column[Any], position: int) -> str:
        return self.ref(value, position) if type(value) is changes.Ref else self.bind(value, column)

    def matches(self, table: Table, key: Any, position: int, alias: str) -> str:
        pk = primary_key(table)
        keys = key if len(pk) > 1 else (key,)
        return " AND ".join(
            f'{alias}."{c}" = {self.value(k, table.c[c], position)}'
            for c, k in zip(pk, keys, strict=True)
        )

    def conditions(self, step: Step, position: int) -> str:
        found = [f"(SELECT count(*) FROM s{position - 1}) >= 0"] if position else []
        for table, key in step.guards:
            match = self.matches(table, key, position, "g")
            found.append(f'EXISTS (SELECT 1 FROM "{table.name}" AS g WHERE {match})')
        return " AND ".join(found) or "TRUE"

    def sets(self, step: Step, position: int) -> str:
        t, parts = step.table, []
        for column, values in step.values.items():
            col, current = t.c[column], f'"{t.name}"."{column}"'
            part = values[0][0]
            if part == "add":
                rhs = current + "".join(f" + {self.bind(n, col)}" for _, n in values)
            elif part == "later":
                rhs = f"greatest({current}, {', '.join(self.bind(at, col) for _, at in values)})"
            elif part == "refs":
                rhs = self.ref(values[-1][1], position)
            else:
                rhs = self.bind(values[-1][1], col)
            parts.append(f'"{column}" = {rhs}')
        return ", ".join(parts)

    def insert(self, step: Step, position: int) -> str:
        t = step.table
        columns: dict[str, None] = {}
        for values, refs in step.rows:
            columns.update(dict.fromkeys(values))
            columns.update(dict.fromkeys(refs or ()))
        rows = []
        for values, refs in step.rows:
            exprs = []
            for c in columns:
                if refs and c in refs:
                    exprs.append(self.ref(refs[c], position))
                elif c in values:
                    exprs.append(self.bind(values[c], t.c[c]))
                else:
                    exprs.append(_default(t.c[c]))
            rows.append(f"({', '.join(exprs)})")
        names = ", ".join(f'"{c}"' for c in columns)
        where = self.conditions(step, position)
        sql = f'INSERT INTO "{t.name}" ({names}) SELECT * FROM (VALUES {", ".join(rows)}) AS v'
        return f"{sql} WHERE {where}"

    def step(self, step: Step, position: int) -> str:
        t, kind = step.table, step.kind
        if kind is changes.Insert:
            return self.insert(step, position)
        if kind is changes.Upsert:
            changed = []
            for column, value in (step.change.set or {}).items():
                changed.append(f'"{column}" = {self.bind(value, t.c[column])}')
            for column, n in (step.change.add or {}).items():
                current = f'"{t.name}"."{column}"'
                changed.append(f'"{column}" = {current} + {self.bind(n, t.c[column])}')
            pk = ", ".join(f'"{c}"' for c in primary_key(t))
            conflict = f"ON CONFLICT ({pk}) DO UPDATE SET {', '.join(changed)}"
            return f"{self.insert(step, position)} {conflict}"
        where = self.conditions(step, position)
        if kind is changes.Update:
            sets, match = (
                self.sets(step, position),
                self.matches(t, step.key, position, f'"{t.name}"'),
            )
            return f'UPDATE "{t.name}" SET {sets} WHERE {match} AND {where}'
        if kind is changes.Delete:
            match = self.matches(t, step.change.key, position, f'"{t.name}"')
            return f'DELETE FROM "{t.name}" WHERE {match} AND {where}'
        change = step.change
        match = f'"{t.name}"."{change.column}" = {self.bind(change.value, t.c[change.column])}'
        if kind is changes.UpdateWhere:
            return f'UPDATE "{t.name}" SET {self.sets(step, position)} WHERE {match} AND {where}'
        assert kind is changes.DeleteWhere, kind
        return f'DELETE FROM "{t.name}" WHERE {match} AND {where}'


def _default(column: Column[Any]) -> str:
    default = column.server_default
    arg = getattr(default, "arg", None)
    literal = "NULL" if arg is None else f"'{arg}'" if isinstance(arg, str) else str(arg)
    return f"CAST({literal} AS {_sql_type(column.type)})"


def render(statement: Statement) -> tuple[str, list[TypeEngine[Any]], dict[str, Any]]:
    """The statement's SQL, its parameters' types (p0, p1, ...) and values."""
    r = _Render(statement)
    bodies = [r.step(step, i) for i, step in enumerate(statement.steps)]
    if len(bodies) == 1:
        return bodies[0], r.types, r.params
    ctes = ", ".join(
        f"s{i} AS ({body} RETURNING {'*' if i in r.served else '1'})"
        for i, body in enumerate(bodies)
    )
    return f"WITH {ctes} SELECT count(*) FROM s{len(bodies) - 1}", r.types, r.params
