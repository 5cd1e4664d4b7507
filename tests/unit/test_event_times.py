"""Times carried inside an event (an API key's or a revoked token's `expires_at`, ISO text) are
bound the way the event's path binds `recorded_at`: a datetime live, microseconds since
2000-01-01 UTC in replay. If the two disagreed, replay would rebuild api_keys and
revoked_tokens with other expiries than the live rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from threads.projections.api_keys import _time

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Event:
    recorded_at: datetime | int
    position: int = 1
    type: str = "TokenRevoked"
    data: dict[str, Any] = field(default_factory=dict)


LIVE = Event(recorded_at=datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
REPLAY = Event(recorded_at=843_652_800_000_000)


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("2000-01-01T00:00:00+00:00", 0),
        ("2000-01-01T00:00:00.000001Z", 1),
        ("2000-01-01T00:00:01Z", 1_000_000),
        ("1999-12-31T23:59:59.999999Z", -1),  # before the epoch: days < 0
        ("2000-01-02T00:00:00+02:00", 86_400_000_000 - 7_200_000_000),  # the offset counts
        ("2026-12-02T12:00:00Z", 849_528_000_000_000),
    ],
)
def test_replay_gets_microseconds_since_2000_utc(text: str, micros: int) -> None:
    assert _time(REPLAY, text) == micros
    assert PG_EPOCH + timedelta(microseconds=micros) == datetime.fromisoformat(text)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2027, 1, 31, 23, 59, 59, 123_456, tzinfo=UTC),
        datetime(2026, 6, 1, 8, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_both_paths_name_the_same_instant(at: datetime) -> None:
    """What the event store dumps (pydantic's ISO text) comes back as the same instant on
    either path."""
    text = at.isoformat().replace("+00:00", "Z")
    live = _time(LIVE, text)
    assert isinstance(live, datetime) and live == at
    replayed = _time(REPLAY, text)
    assert isinstance(replayed, int)
    assert PG_EPOCH + timedelta(microseconds=replayed) == at


def test_no_time_is_none_on_both_paths() -> None:
    assert _time(LIVE, None) is None
    assert _time(REPLAY, None) is None
