"""The user's usage ledger over a range of days, summed per group, costed at today's prices.

One range scan of the ledger's key (user_id, day, ...) sums the rows per group and per
provider and model (a price is a model's), then each group's cost is the sum of its models'
at the price an admin set or the built-in one (`contracts.prices`): null when tokens of a
model without a price are in it. Costs are computed here, never stored, so a new price
recosts old usage and replay has nothing to agree on.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.prices import Price, built_in_price, cost_usd
from contracts.queries import GetUsage
from contracts.views import UsageRowView, UsageTotalsView, UsageView
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
    if name == "project":
        return None if str(value) == NO_PROJECT else value
    return value


async def get_usage(conn: AsyncConnection, user_id: UUID | None, query: GetUsage) -> UsageView:
    group = list(dict.fromkeys(query.group_by))
    names = list(dict.fromkeys([*group, "provider", "model"]))
    keys = [ledger.c[_COLUMNS.get(n, n)] for n in names]
    sums = [func.sum(ledger.c[c]).label(c) for c in COUNTERS]
    rows = await conn.execute(
        select(*keys, *sums)
        .where(ledger.c.user_id == user_id, ledger.c.day.between(query.start, query.end))
        .group_by(*keys)
    )
    set_prices = await prices(conn)
    groups: dict[tuple[Any, ...], _Sum] = {}
    totals = _Sum()
    for row in rows:
        values = dict(zip(names, row[: len(names)], strict=True))
        counts = tuple(int(n) for n in row[len(names) :])
        provider, model = values["provider"], values["model"]
        price = set_prices.get((provider, model)) or built_in_price(model)
        tokens = counts[1:]
        cost = cost_usd(price, provider, *tokens) if any(tokens) else 0.0
        key = tuple(_key_value(n, values[n]) for n in group)
        groups.setdefault(key, _Sum()).add(counts, cost)
        totals.add(counts, cost)
    ordered = sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0]))
    return UsageView(
        rows=[
            UsageRowView(**dict(zip(group, key, strict=True)), **summed.fields())
            for key, summed in ordered
        ],
        totals=UsageTotalsView(**totals.fields()),
    )
