"""`replay-status`, from the public API only: `/readyz` (NATS and the threads service answer),
then, for the user's most recent threads, the read model (`message_count`) beside what the
thread's event history says it should be (messages posted or requested, minus deleted). The
two agree when the projections are caught up; a replay rebuilds read models from the same
events, so a mismatch is what a replay would change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from switchboard_cli.api import Api

ADDS = ("MessagePosted", "UserMessagePosted", "AssistantMessageRequested")


def expected_messages(events: Iterable[dict[str, Any]]) -> int:
    """Messages added minus removed; a deletion removes its message and everything below it
    (`below`: the branches under it in the conversation tree)."""
    count = 0
    for e in events:
        if e["type"] in ADDS:
            count += 1
        elif e["type"] == "MessageDeleted":
            count -= 1 + len((e.get("data") or {}).get("below") or [])
    return count


def replay_status(api: Api, console: Console, limit: int) -> bool:
    response = api.http.get("/readyz")
    ready = response.status_code == 200
    checks = response.json().get("checks", {}) if response.content else {}
    marks = ", ".join(f"{k} {'ok' if v else 'DOWN'}" for k, v in checks.items())
    console.print(f"System: {'[green]ready[/]' if ready else '[red]not ready[/]'} ({marks})")
    page = api.get("/api/threads", params={"limit": limit})
    t = Table(title=f"Your {len(page['threads'])} most recent threads", title_justify="left")
    for name in (
        "thread",
        "title",
        "events",
        "last event",
        "messages (read model)",
        "messages (from events)",
        "in sync",
    ):
        t.add_column(name)
    all_ok = ready
    for thread in page["threads"]:
        events = api.get(f"/api/threads/{thread['id']}/events")["events"]
        expected = expected_messages(events)
        same = expected == thread["message_count"]
        all_ok &= same
        last = events[-1] if events else None
        t.add_row(
            thread["id"][:8],
            thread["title"],
            str(len(events)),
            f"{last['type']} {last['recorded_at'][:19]}" if last else "—",
            str(thread["message_count"]),
            str(expected),
            "[green]yes[/]" if same else "[red]no[/]",
        )
    console.print(t)
    return all_ok
