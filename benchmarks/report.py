"""docs/benchmarks.md is shared by every benchmark: each owns one section between its own
markers and rewrites only that section."""

from __future__ import annotations

import datetime
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def replace_section(key: str, body: str, path: Path = DOC) -> None:
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_section(title: str, lines: list[str], key: str | None = None) -> None:
    today = datetime.date.today().isoformat()
    slug = key or title.split("`")[1].replace("make ", "") if "`" in title else title.lower()
    replace_section(slug, "\n".join([f"## {title}", "", *lines, "", f"Run {today}."]))
