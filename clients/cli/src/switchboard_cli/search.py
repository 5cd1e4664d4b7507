"""Printing search hits: thread and role on one line, the snippet below with the words that
matched in bold (rich `Text`, so nothing in a message is read as markup)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text


def hit_text(hit: dict[str, Any]) -> Text:
    where = f"{hit['role']} · {hit['created_at'][:19].replace('T', ' ')}"
    head = Text.assemble(
        (hit["thread_title"], "bold"),
        "  ",
        (where if hit["message_id"] else "title", "dim"),
        "  ",
        (hit["thread_id"] + (f" {hit['message_id']}" if hit["message_id"] else ""), "cyan"),
    )
    snippet = Text(hit["snippet"])
    for start, end in hit["highlights"]:
        snippet.stylize("bold yellow", start, end)
    return Text.assemble(head, "\n  ", snippet)


def print_hits(console: Console, page: dict[str, Any]) -> None:
    if not page["results"]:
        console.print("Nothing found")
    for hit in page["results"]:
        console.print(hit_text(hit))
    if page["next_cursor"]:
        console.print(Text(f"more: --cursor {page['next_cursor']}", "dim"))
