"""The user's usage ledger over a range of days, summed per group, costed at today's prices.

One statement groups the range's rows by the asked keys and by provider and model (a price is
a model's) and sums them as integers; each group's cost is then the sum of its models' at the
price an admin set or the built-in one (`contracts.prices`): null when tokens of a model
without a price are in it. Costs are computed here, never stored, so a new price recosts old
usage and replay has nothing to agree on.

The reply is already the JSON of a `UsageView` as GET /api/usage answers it (a row holds only
the keys grouped by), built from the grouped rows alone: a year of daily rows grouped by day
is about a thousand groups, and validating a model per group here and again in the gateway
cost more than the statement itself.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.prices import Price, built_in_price, cost_usd
from contracts.queries import GetUsage
from threads.projections.usage import NO_PROJECT
from threads.store.tables import model_prices
from threads.store.tables import usage_ledger as ledger

COUNTERS = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")
_COLUMNS = {"project": "project_key"}  # a group key's column, where it is not its name


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
    """A group key as JSON: a day as its ISO date, a project as its id (None: none)."""
    if name == "project":
        text = str(value)
        return None if text == NO_PROJECT else text
    if name == "day":
        return value.isoformat()
    return value


async def get_usage(conn: AsyncConnection, user_id: UUID | None, query: GetUsage) -> dict[str, Any]:
    group = list(dict.fromkeys(query.group_by))
    names = list(dict.fromkeys([*group, "provider", "model"]))
    keys = [ledger.c[_COLUMNS.get(n, n)] for n in names]
    sums = [cast(func.sum(ledger.c[c]), BigInteger) for c in COUNTERS]
    rows = await conn.execute(
        select(*keys, *sums)
        .where(ledger.c.user_id == user_id, ledger.c.day.between(query.start, query.end))
        .group_by(*keys)
    )
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
        summed = groups.get(key)
        if summed is None:
            summed = groups[key] = _Sum()
        summed.add(counts, cost)
        totals.add(counts, cost)
    ordered = sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0]))
    return {
        "rows": [
            {**dict(zip(group, key, strict=True)), **summed.fields()} for key, summed in ordered
        ],
        "totals": totals.fields(),
    }
