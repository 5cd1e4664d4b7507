"""Token quotas per UTC day and month: whether a user may ask for another answer, and how
long until the period that refuses it ends (`Retry-After`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contracts.errors import ErrorCode
from threads.domain.errors import DomainError


def _next_day(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _next_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def require_within(quota: Any, tokens_today: int, tokens_this_month: int, now: datetime) -> None:
    """`quota`: the user's row (tokens_per_day, tokens_per_month; None: unlimited). At or over
    a quota → quota_exceeded with the seconds until every exceeded period has ended."""
    ends = []
    if quota.tokens_per_month is not None and tokens_this_month >= quota.tokens_per_month:
        ends.append(_next_month(now))
    if quota.tokens_per_day is not None and tokens_today >= quota.tokens_per_day:
        ends.append(_next_day(now))
    if ends:
        wait = max(1, int((max(ends) - now).total_seconds() + 0.999))
        raise DomainError(ErrorCode.QUOTA_EXCEEDED, "Token quota exceeded", retry_after=wait)
