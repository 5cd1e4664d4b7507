"""A small SSE reader for tests: the chat stream's events as (event, id, data) tuples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    event: str
    data: Any
    id: int | None = None


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    name, ident, data = "message", None, []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield Event(name, json.loads("\n".join(data)), ident)
            name, ident, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "id":
                ident = int(value)
            elif field == "data":
                data.append(value)


TERMINAL = ("message_end", "error", "cancelled")


async def read_all(response: httpx.Response) -> list[Event]:
    """Every event up to and including the terminal one."""
    got: list[Event] = []
    async for ev in events(response):
        got.append(ev)
        if ev.event in TERMINAL:
            break
    return got


def text_of(evs: list[Event], event: str = "token") -> str:
    """The answer as a client shows it (`event="reasoning"`: its reasoning): a `restart`
    discards the text before it."""
    parts: list[str] = []
    for ev in evs:
        if ev.event == "restart":
            parts.clear()
        elif ev.event == event:
            parts.append(ev.data["text"])
    return "".join(parts)
