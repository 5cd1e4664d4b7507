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
the keys grouped by), built from the grouped rows alone: a year of daily rows grouped by day
is about a thousand groups, and validating a model per group here and again in the gateway
cost more than the statement itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Table, cast, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.prices import Price, built_in_price, cost_usd
from contracts.queries import GetUsage
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


class _Sum:
    __slots__ = ("cost", "counts")

    def __init__(self) -> None:
        self.counts = [0, 0, 0, 0]
        self.cost: float | None = 0.0

    def add(self, counts: tuple[int, ...], cost: float | None) -> None:
        for i, n in enumerate(counts):
            self.counts[i] += n
        self.cost = None if cost is None or self.cost is None else self.cost + cost

    def fields(self) -> dict[str, Any]:
        return {**dict(zip(COUNTERS, self.counts, strict=True)), "cost_usd": self.cost}


def _key_value(name: str, value: Any) -> Any:
    """A group key as JSON: a day as its ISO date, a project or user as its id (None: none)."""
    if name == "project":
        text = str(value)
        return None if text == NO_PROJECT else text
    if name == "day":
        return value.isoformat()
    if name == "user":
        return str(value)
    return value


def _whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first day of the first and of the last whole month from `start` through `end`."""
    first = start if start.day == 1 else (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    after = end + timedelta(days=1)
    last = (after.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else None


def _parts(names: list[str], start: date, end: date) -> list[tuple[Table, Any]]:
    """The tables (and their range conditions) that together hold the range's usage with the
    keys `names`, reading the fewest rows: whole months from the monthly rollup when the day
    is not asked, the days around them from the daily rollup where it has the keys, else the
    ledger."""
    fine = daily if set(names) <= _DAILY_KEYS else ledger
    months = None if "day" in names else _whole_months(start, end)
    if months is None:
        return [(fine, fine.c.day.between(start, end))]
    first, last = months
    parts: list[tuple[Table, Any]] = [(monthly, monthly.c.month.between(first, last))]
    if start < first:
        parts.append((fine, fine.c.day.between(start, first - timedelta(days=1))))
    after_last = (last + timedelta(days=32)).replace(day=1)
    if after_last <= end:
        parts.append((fine, fine.c.day.between(after_last, end)))
    return parts


async def _grouped(
    conn: AsyncConnection, user_id: UUID | None, names: list[str], start: date, end: date
) -> Any:
    """The range's counters summed per `names` as bigint; `user_id` None: every user's."""
    selects = []
    for table, in_range in _parts(names, start, end):
        labeled = [table.c[_COLUMNS.get(n, n)].label(n) for n in names]
        stmt = select(*labeled, *(table.c[c] for c in COUNTERS)).where(in_range)
        if user_id is not None:
            stmt = stmt.where(table.c.user_id == user_id)
        selects.append(stmt)
    rows = selects[0].subquery() if len(selects) == 1 else union_all(*selects).subquery()
    keys = [rows.c[n] for n in names]
    sums = [cast(func.sum(rows.c[c]), BigInteger) for c in COUNTERS]
    return await conn.execute(select(*keys, *sums).group_by(*keys))


async def get_usage(conn: AsyncConnection, user_id: UUID | None, query: GetUsage) -> dict[str, Any]:
    return await usage_of(conn, query.group_by, query.start, query.end, only=user_id or _NOBODY)


async def usage_of(
    conn: AsyncConnection, group_by: Sequence[str], start: date, end: date, only: UUID | None
) -> dict[str, Any]:
    """The reply of GetUsage for the user `only` (None: every user's, `user` a group key)."""
    group = list(dict.fromkeys(group_by))
    names = list(dict.fromkeys([*group, "provider", "model"]))
    rows = await _grouped(conn, only, names, start, end)
    set_prices = await prices(conn)
    found: dict[tuple[str, str], Price | None] = {}
    at = [names.index(n) for n in group]
    provider_at, model_at, width = names.index("provider"), names.index("model"), len(names)
    groups: dict[tuple[Any, ...], _Sum] = {}
    totals = _Sum()
    for row in rows:
        provider, model = row[provider_at], row[model_at]
        if (provider, model) not in found:
            found[provider, model] = set_prices.get((provider, model)) or built_in_price(model)
        counts = tuple(row[width:])
        tokens = counts[1:]
        cost = cost_usd(found[provider, model], provider, *tokens) if any(tokens) else 0.0
        key = tuple(_key_value(n, row[i]) for n, i in zip(group, at, strict=True))
        group_sum = groups.get(key)
        if group_sum is None:
            group_sum = groups[key] = _Sum()
        group_sum.add(counts, cost)
        totals.add(counts, cost)
    ordered = sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0]))
    return {
        "rows": [
            {**dict(zip(group, key, strict=True)), **group_sum.fields()}
            for key, group_sum in ordered
        ],
        "totals": totals.fields(),
    }
