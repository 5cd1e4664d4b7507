"""The projector's dispatch: one append's events in order, a known pair (a chat's question and
its answer request) written by its pair function, anything else event by event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from threads.projections import Projector


@dataclass
class Ev:
    type: str


def recording(calls: list[str], name: str) -> Any:
    async def fn(conn: object, *events: Ev) -> None:
        calls.append(f"{name}:" + ",".join(e.type for e in events))

    return fn


async def test_a_pair_is_written_together_and_the_rest_one_by_one() -> None:
    calls: list[str] = []
    projector = Projector(
        {"Q": recording(calls, "q"), "R": recording(calls, "r"), "X": recording(calls, "x")},
        pairs={("Q", "R"): recording(calls, "pair")},
    )
    events = [Ev("X"), Ev("Q"), Ev("R"), Ev("R"), Ev("Q")]
    await projector.project_all(None, events)  # type: ignore[arg-type]
    assert calls == ["x:X", "pair:Q,R", "r:R", "q:Q"]


async def test_replay_still_projects_event_by_event() -> None:
    calls: list[str] = []
    projector = Projector(
        {"Q": recording(calls, "q"), "R": recording(calls, "r")},
        pairs={("Q", "R"): recording(calls, "pair")},
    )
    for event in (Ev("Q"), Ev("R")):
        await projector(None, event)  # type: ignore[arg-type]
    assert calls == ["q:Q", "r:R"]


def test_a_pair_must_stand_for_the_only_projection_of_its_types() -> None:
    calls: list[str] = []
    with pytest.raises(ValueError):
        Projector(
            {"Q": recording(calls, "q"), "R": recording(calls, "r")},
            {"Q": recording(calls, "other")},
            pairs={("Q", "R"): recording(calls, "pair")},
        )
