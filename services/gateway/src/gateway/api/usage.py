"""The signed-in user's usage: requests and tokens per group, with their cost at today's
prices (`threads.queries.usage`). The threads service shapes the reply as this route answers
it (a row holds only the keys grouped by), so it is passed through without validating and
re-serialising a year's groups once more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Response

from contracts.queries import USAGE_GROUP_KEYS, GetUsage
from contracts.views import UsageView
from gateway.api.responses import error
from gateway.deps import BusDep, Meta

router = APIRouter(tags=["usage"])
DEFAULT_DAYS = 30  # the range when `from` is not given: the last 30 days through `to`


DATE_RANGE = error("A bad date, `from` after `to`, or an unknown group_by key")


FromDay = Annotated[date | None, Query(alias="from", description="first UTC day")]
ToDay = Annotated[date | None, Query(alias="to", description="last UTC day (included)")]
GroupBy = Annotated[
    str | None,
    Query(max_length=100, description="comma-separated: day, provider, model, project, task"),
]


def group_keys(group_by: str | None, valid_keys: tuple[str, ...] = USAGE_GROUP_KEYS) -> list[str]:
    keys = [k.strip() for k in (group_by or "").split(",") if k.strip()]
    unknown = [k for k in keys if k not in valid_keys]
    if unknown:
        valid = ", ".join(valid_keys)
        raise HTTPException(422, f"Unknown group_by key {unknown[0]!r}. Valid keys: {valid}")
    return list(dict.fromkeys(keys))


def usage_range(
    start: date | None, end: date | None, group_by: str | None, valid_keys: tuple[str, ...]
) -> tuple[date, date, list[str]]:
    """The range asked (defaults: the last 30 days through today) and its group keys; 422 on
    an unknown key or `from` after `to`."""
    keys = group_keys(group_by, valid_keys)
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise HTTPException(422, "`from` is after `to`")
    return start, end, keys


Asked = tuple[date, date, list[str]]


def asked_range(valid_keys: tuple[str, ...]) -> Callable[..., Awaitable[Asked]]:
    """A dependency reading `from`, `to` and `group_by` (one of `valid_keys` each)."""

    async def asked(start: FromDay = None, end: ToDay = None, group_by: GroupBy = None) -> Asked:
        return usage_range(start, end, group_by, valid_keys)

    return asked


@router.get(
    "/api/usage",
    response_model=UsageView,
    response_model_exclude_unset=True,
    responses={422: DATE_RANGE},
)
async def get_usage(
    bus: BusDep, meta: Meta, asked: Annotated[Asked, Depends(asked_range(USAGE_GROUP_KEYS))]
) -> Response:
    """Your own usage from `from` through `to` (UTC days; defaults: the last 30 days through
    today), one row per group (no group_by: one row). A row holds only the keys grouped by
    (`project` null: outside any project). `cost_usd` is null where a model's price is
    unknown."""
    start, end, keys = asked
    view = await bus.call_raw(GetUsage(meta=meta, start=start, end=end, group_by=keys))
    return Response(orjson.dumps(view), media_type="application/json")
