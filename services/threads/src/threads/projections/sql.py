"""The live interpreter of `projections.changes`: one append's changes compiled into as few
statements as their dependencies allow, run in the appending transaction.

A statement is a chain of data-modifying CTEs ("steps"), each run after the one before it (its
WHERE reads the previous step's row count: an InitPlan, evaluated before it touches a row), so
rows are locked in the order the changes name them. Every step sees the snapshot the statement
started with, never what an earlier step wrote, except through that step's RETURNING. So a
change joins the statement only if that makes no difference to its result:

- merged into a step that changes the same table: an Insert into a table another step inserts
  into (one multi-row INSERT), or an Update of the same row whose values compose (numbers
  `add` up, the `later` of the times wins, a `set` replaces), when no step in between depends
  on it;
- chained as a new step: it changes a table no step has changed, and every row it reads is
  unchanged so far, or was changed by one step naming that row by the same key, whose
  RETURNING it reads (so a value read after its row was locked is the locked row's).

Anything else starts a new statement. `plan.Statement` holds those rules, `render` the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from threads.projections.changes import Change, When
from threads.projections.plan import Guards, Statement
from threads.projections.render import render

_TEXTS: dict[str, TextClause] = {}  # one compiled statement per distinct SQL text
_TEXTS_KEPT = 2048  # shapes are few (one or two per kind of append); past this, not kept


def _flatten(changes: Sequence[Change], guards: Guards = ()) -> Iterator[tuple[Any, Guards]]:
    for change in changes:
        if type(change) is When:
            yield from _flatten(change.changes, (*guards, (change.table, change.key)))
        else:
            yield change, guards


def compile_changes(changes: Sequence[Change]) -> list[tuple[TextClause, dict[str, Any]]]:
    """The statements, in order, with their parameters."""
    statements = [Statement()]
    for change, guards in _flatten(changes):
        if not statements[-1].add(change, guards):
            statements.append(Statement())
            if not statements[-1].add(change, guards):
                raise ValueError(f"{change!r}: cannot be compiled")
    compiled = []
    for statement in statements:
        if not statement.steps:
            continue
        sql, types, params = render(statement)
        clause = _TEXTS.get(sql)
        if clause is None:
            binds = [bindparam(f"p{i}", type_=t) for i, t in enumerate(types)]
            clause = text(sql).bindparams(*binds)
            if len(_TEXTS) < _TEXTS_KEPT:
                _TEXTS[sql] = clause
        compiled.append((clause, params))
    return compiled


async def execute(conn: AsyncConnection, changes: Sequence[Change]) -> None:
    for clause, params in compile_changes(changes):
        await conn.execute(clause, params)
