"""The user's usage ledger over a range of days, summed per group, costed at today's prices.

One statement groups the range's rows by the asked keys and by provider and model (a price is
a model's) and sums them as integers; each group's cost is then the sum of its models' at the
price an admin set or the built-in one (`contracts.prices`): null when tokens of a model
without a price are in it. Costs are computed here, never stored, so a new price recosts old
usage and replay has nothing to agree on.

Where a rollup holds the asked keys it is read instead of the ledger (`_parts`): whole months
from `usage_monthly` when the day is not asked, the partial months at the range's edges and
any range by day from `usage_daily` when only day, provider, model or user are asked, else
from the ledger. The rollups are sums of the ledger's rows, so the integers, and the costs
computed from them, are the same.

The reply is already the JSON of a `UsageView` as GET /api/usage answers it (a row holds only
the keys grouped by): the statement gives each key as its JSON value (a day as its ISO date, a
project or user as its id, no project as null) and the rows are summed as plain tuples, because
a year of daily rows grouped by day and model is about a thousand groups, and a model per group
(validated here and again in the gateway) cost more than the statement itself. The statement's
shape depends only on the keys and on which tables the range reads, so it is built once per
shape and run with the range and user as parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Table, Text, bindparam, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from contracts.prices import Price, built_in_price, cost_usd
from contracts.queries import GetUsage
from contracts.replies import JsonReady
from threads.projections.usage import NO_PROJECT
from threads.store.tables import model_prices
from threads.store.tables import usage_daily as daily
from threads.store.tables import usage_ledger as ledger
from threads.store.tables import usage_monthly as monthly

COUNTERS = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")
_COLUMNS = {"project": "project_key", "user": "user_id"}  # a key's column, if not its name
_DAILY_KEYS = {"day", "provider", "model", "user"}  # the keys usage_daily holds
_NOBODY = UUID(int=0)  # no user's id: a query without a user reads no rows


async def prices(conn: AsyncConnection) -> dict[tuple[str, str], Price]:
    rows = await conn.execute(select(model_prices))
    return {
        (r.provider, r.model): Price(
            r.input_usd_per_mtok, r.output_usd_per_mtok, r.reasoning_usd_per_mtok
        )
        for r in rows
    }


def _whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first day of the first and of the last whole month from `start` through `end`."""
    first = start if start.day == 1 else (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    after = end + timedelta(days=1)
    last = (after.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else None


def _parts(names: Sequence[str], start: date, end: date) -> list[tuple[Table, date, date]]:
    """The tables (and the range of days or months read from each) that together hold the
    range's usage with the keys `names`, reading the fewest rows: whole months from the monthly
    rollup when the day is not asked, the days around them from the daily rollup where it has
    the keys, else the ledger."""
    fine = daily if set(names) <= _DAILY_KEYS else ledger
    months = None if "day" in names else _whole_months(start, end)
    if months is None:
        return [(fine, start, end)]
    first, last = months
    parts: list[tuple[Table, date, date]] = [(monthly, first, last)]
    if start < first:
        parts.append((fine, start, first - timedelta(days=1)))
    after_last = (last + timedelta(days=32)).replace(day=1)
    if after_last <= end:
        parts.append((fine, after_last, end))
    return parts


def _as_json(name: str, column: Any) -> Any:
    """A group key's column as its JSON value."""
    if name == "day":
        return func.to_char(column, "YYYY-MM-DD")
    if name == "project":
        return cast(func.nullif(column, literal(UUID(NO_PROJECT))), Text)
    if name == "user":
        return cast(column, Text)
    return column


@functools.lru_cache(maxsize=128)
def _statement(names: tuple[str, ...], tables: tuple[Table, ...], per_user: bool) -> Select[Any]:
    """The counters of `tables` (part i read from `:lo_i` through `:hi_i`, of `:user` when
    `per_user`) summed per `names` as bigint, each key as its JSON value."""
    selects = []
    for i, table in enumerate(tables):
        period = table.c.month if table is monthly else table.c.day
        stmt = select(
            *(table.c[_COLUMNS.get(n, n)].label(n) for n in names),
            *(table.c[c] for c in COUNTERS),
        ).where(period.between(bindparam(f"lo_{i}"), bindparam(f"hi_{i}")))
        if per_user:
            stmt = stmt.where(table.c.user_id == bindparam("user"))
        selects.append(stmt)
    rows = selects[0].subquery() if len(selects) == 1 else union_all(*selects).subquery()
    keys = [rows.c[n] for n in names]
    sums = [cast(func.sum(rows.c[c]), BigInteger) for c in COUNTERS]
    json_keys = [_as_json(n, k) for n, k in zip(names, keys, strict=True)]
    return select(*json_keys, *sums).group_by(*keys)


async def get_usage(conn: AsyncConnection, user_id: UUID | None, query: GetUsage) -> JsonReady:
    return await usage_of(conn, query.group_by, query.start, query.end, only=user_id or _NOBODY)


async def usage_of(
    conn: AsyncConnection, group_by: Sequence[str], start: date, end: date, only: UUID | None
) -> JsonReady:
    """The reply of GetUsage for the user `only` (None: every user's, `user` a group key)."""
    group = tuple(dict.fromkeys(group_by))
    names = tuple(dict.fromkeys([*group, "provider", "model"]))  # the group's keys lead
    parts = _parts(names, start, end)
    params: dict[str, Any] = {"user": only}
    for i, (_, lo, hi) in enumerate(parts):
        params[f"lo_{i}"], params[f"hi_{i}"] = lo, hi
    stmt = _statement(names, tuple(t for t, _, _ in parts), only is not None)
    rows = (await conn.execute(stmt, params)).all()
    set_prices = await prices(conn)
    price_of: dict[tuple[str, str], Price | None] = {}
    width, provider_at, model_at = len(names), names.index("provider"), names.index("model")
    size = len(group)
    groups: dict[tuple[Any, ...], list[Any]] = {}  # key -> [the four counters, cost]
    for row in rows:
        provider, model = row[provider_at], row[model_at]
        requests, input_tokens, output_tokens, reasoning = row[width:]
        if input_tokens or output_tokens or reasoning:
            try:
                price = price_of[provider, model]
            except KeyError:
                price = price_of[provider, model] = set_prices.get(
                    (provider, model)
                ) or built_in_price(model)
            cost = cost_usd(price, provider, input_tokens, output_tokens, reasoning)
        else:
            cost = 0.0
        key = tuple(row[:size])
        sums = groups.get(key)
        if sums is None:
            groups[key] = [requests, input_tokens, output_tokens, reasoning, cost]
        else:
            sums[0] += requests
            sums[1] += input_tokens
            sums[2] += output_tokens
            sums[3] += reasoning
            sums[4] = None if cost is None or sums[4] is None else sums[4] + cost
    totals: list[Any] = [0, 0, 0, 0, 0.0]
    for requests, input_tokens, output_tokens, reasoning, cost in groups.values():
        totals[0] += requests
        totals[1] += input_tokens
        totals[2] += output_tokens
        totals[3] += reasoning
        totals[4] = None if cost is None or totals[4] is None else totals[4] + cost
    # keys are strings but for no project (null), which sorts as "None"
    ordered = sorted(groups.items(), key=_nulls_as_text if "project" in group else None)
    return JsonReady(
        rows=[_fields(sums, dict(zip(group, key, strict=True))) for key, sums in ordered],
        totals=_fields(totals, {}),
    )


def _nulls_as_text(item: tuple[tuple[Any, ...], list[Any]]) -> tuple[str, ...]:
    return tuple(map(str, item[0]))


def _fields(sums: list[Any], keys: dict[str, Any]) -> dict[str, Any]:
    """A row: its `keys`, then its counters and cost."""
    keys["requests"], keys["input_tokens"], keys["output_tokens"] = sums[0], sums[1], sums[2]
    keys["reasoning_tokens"], keys["cost_usd"] = sums[3], sums[4]
    return keys
