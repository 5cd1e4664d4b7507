"""GET /api/usage read from the rollups (usage_daily, usage_monthly) answers what summing the
ledger's rows would, for ranges of whole months, partial edge months and days within one
month, under every kind of grouping; and GET /api/admin/usage (issue 17): every user's usage,
`user` a group key with the user's email, admins only.

The usage is projected through the live projection from usage events dated over five months
(a chat answer's `recorded_at` is always now, so the events are made here and projected as the
store's unit of work projects them)."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.prices import built_in_price, cost_usd
from tests.conftest import User, register
from tests.e2e.test_admin import an_admin
from threads.projections import Projector
from threads.projections import usage as usage_model
from threads.queries.usage import prices
from threads.store.tables import usage_daily, usage_ledger, usage_monthly

COUNTS = ("requests", "input_tokens", "output_tokens", "reasoning_tokens")
FIRST, LAST = date(2025, 10, 1), date(2026, 2, 28)
MODELS = (("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o-mini"), ("ollama", "llama3.1"))
RANGES = (
    (FIRST, LAST),  # whole months only
    (date(2025, 10, 15), date(2026, 2, 10)),  # partial months at both ends
    (date(2025, 11, 3), date(2025, 11, 20)),  # within one month
    (date(2025, 12, 1), date(2026, 1, 17)),  # a whole first month
    (date(2025, 10, 20), date(2025, 12, 31)),  # a whole last month
    (date(2025, 9, 1), date(2026, 3, 31)),  # beyond the usage on both sides
)
GROUPINGS = ("", "day", "model", "provider", "project,task", "day,provider,model", "task,day")


async def project_usage(engine: AsyncEngine, user_id: str, seed: int) -> None:
    """Answers and summaries of `user_id` over FIRST..LAST, in and outside two projects."""
    rng = random.Random(seed)
    projects = (None, str(uuid.uuid4()), str(uuid.uuid4()))
    evs = []
    for n in range(600):
        day = FIRST + timedelta(days=rng.randrange((LAST - FIRST).days + 1))
        provider, model = rng.choice(MODELS)
        used = {
            "input_tokens": rng.randint(1, 5000),
            "output_tokens": rng.randint(1, 900),
            "reasoning_tokens": rng.choice((0, rng.randint(1, 300))),
        }
        data = {
            "user_id": user_id,
            "provider": provider,
            "model": model,
            "project_id": rng.choice(projects),
            "usage": used,
            "message_id": str(uuid.uuid4()),
            "thread_id": str(uuid.uuid4()),
        }
        kind = "ThreadSummarized" if n % 5 == 0 else "AssistantMessageCompleted"
        at = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), UTC)
        evs.append(SimpleNamespace(type=kind, position=n, recorded_at=at, data=data))
    projector = Projector(usage_model.CHANGES)  # the usage read models' own definition
    async with engine.begin() as conn:
        for ev in evs:
            await projector(conn, ev)


Project = Callable[[str, int], Awaitable[None]]


@pytest_asyncio.fixture
async def projected(engine: AsyncEngine) -> AsyncIterator[Project]:
    """`project_usage`, and afterwards the rows it made are taken out again: they have no
    events behind them, and every later replay check of the shared test database would find
    them live only."""
    users: list[uuid.UUID] = []

    async def project(user_id: str, seed: int) -> None:
        users.append(uuid.UUID(user_id))
        await project_usage(engine, user_id, seed)

    yield project
    async with engine.begin() as conn:
        for table in (usage_ledger, usage_daily, usage_monthly):
            await conn.execute(table.delete().where(table.c.user_id.in_(users)))


async def ledger_sums(
    engine: AsyncEngine, user_id: str, start: date, end: date, group: list[str]
) -> dict[tuple[str, ...], tuple[tuple[int, ...], float | None]]:
    """Brute force: every ledger row of the range, summed per group in Python."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(usage_ledger).where(
                    usage_ledger.c.user_id == uuid.UUID(user_id),
                    usage_ledger.c.day.between(start, end),
                )
            )
        ).all()
        set_prices = await prices(conn)
    per_model: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        values = {
            "day": r.day.isoformat(),
            "provider": r.provider,
            "model": r.model,
            "task": r.task,
            "project": None if str(r.project_key) == usage_model.NO_PROJECT else str(r.project_key),
        }
        key = (tuple(values[g] for g in group), r.provider, r.model)
        for i, c in enumerate(COUNTS):
            per_model[key][i] += getattr(r, c)
    out: dict[tuple[Any, ...], tuple[list[int], float | None]] = {}
    for (key, provider, model), summed in per_model.items():
        price = set_prices.get((provider, model)) or built_in_price(model)
        cost = cost_usd(price, provider, *summed[1:]) if any(summed[1:]) else 0.0
        counts, so_far = out.get(key, ([0, 0, 0, 0], 0.0))
        total = None if cost is None or so_far is None else so_far + cost
        out[key] = ([a + b for a, b in zip(counts, summed, strict=True)], total)
    return {k: (tuple(c), cost) for k, (c, cost) in out.items()}


async def test_rollups_answer_what_the_ledger_sums(
    user: User, engine: AsyncEngine, projected: Project
) -> None:
    await projected(user.id, 17)
    for start, end in RANGES:
        for grouping in GROUPINGS:
            group = [g for g in grouping.split(",") if g]
            params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": grouping}
            r = await user.get("/api/usage", params=params)
            assert r.status_code == 200, r.text
            got = {
                tuple(row[g] for g in group): (tuple(row[c] for c in COUNTS), row["cost_usd"])
                for row in r.json()["rows"]
            }
            want = await ledger_sums(engine, user.id, start, end, group)
            if not group and not want:  # nothing in range: one row of zeros
                want = {(): ((0, 0, 0, 0), 0.0)}
            assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in want.items()}, (
                start,
                end,
                grouping,
            )
            for key, (_, cost) in want.items():
                expected = None if cost is None else pytest.approx(cost, rel=1e-12)
                assert got[key][1] == expected, (start, end, grouping)


async def test_admin_usage_is_every_users_and_groups_by_user(
    client: httpx.AsyncClient, database_url: str, projected: Project
) -> None:
    admin = await an_admin(client, database_url)
    first, second = await register(client), await register(client)
    await projected(first.id, 1)
    await projected(second.id, 2)
    start, end = RANGES[1]
    span = {"from": start.isoformat(), "to": end.isoformat()}

    r = await first.get("/api/admin/usage", params=span)
    assert r.status_code == 403, r.text
    r = await admin.get("/api/admin/usage", params={**span, "group_by": "user,model"})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    for who in (first, second):
        own = await who.get("/api/usage", params={**span, "group_by": "model"})
        mine = [row for row in rows if row["user"] == who.id]
        assert {row["email"] for row in mine} == {who.email}
        assert [{k: v for k, v in row.items() if k not in ("user", "email")} for row in mine] == (
            own.json()["rows"]
        )
    totals = (await admin.get("/api/admin/usage", params=span)).json()["totals"]
    assert totals["requests"] >= sum(
        row["requests"]
        for row in rows
        if row["user"]
        in (
            first.id,
            second.id,
        )
    )
    for bad in ({"group_by": "user,colour"}, {"from": "2026-02-02", "to": "2026-02-01"}):
        r = await admin.get("/api/admin/usage", params=bad)
        assert r.status_code == 422, r.text
