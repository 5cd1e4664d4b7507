"""Versions in a thread's tree, from the public API: the active path (`GET .../messages`) and
every branch (`?path=all`). The versions `/branches` lists and `/switch N` picks from are the
siblings of the last message on the active path that has any: the answers after `/regenerate`,
the questions after `/edit`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard_cli.api import Api

Message = dict[str, Any]


@dataclass
class Versions:
    at: Message  # the version on the active path
    depth: int  # its place on the path, 1 = the first message
    siblings: list[Message]  # every version, in creation order

    @property
    def current(self) -> int:
        """1-based number of the version on the active path."""
        return next(i for i, m in enumerate(self.siblings, 1) if m["id"] == self.at["id"])


def active_path(api: Api, thread_id: str) -> list[Message]:
    return list(api.get(f"/api/threads/{thread_id}/messages")["messages"])


def versions(api: Api, thread_id: str) -> Versions | None:
    """The versions of the deepest message with siblings on the active path, or None."""
    path = active_path(api, thread_id)
    depth = next((i for i in range(len(path), 0, -1) if path[i - 1]["sibling_count"] > 1), 0)
    if not depth:
        return None
    at = path[depth - 1]
    every = api.get(f"/api/threads/{thread_id}/messages", params={"path": "all"})["messages"]
    siblings = [m for m in every if m["parent_id"] == at["parent_id"]]
    siblings.sort(key=lambda m: m["sibling_index"])
    return Versions(at, depth, siblings)


def last_of(path: list[Message], role: str) -> Message | None:
    return next((m for m in reversed(path) if m["role"] == role), None)


def preview(text: str, width: int = 70) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"
