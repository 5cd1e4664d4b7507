"""A thread's active path as Markdown, readable as it is: the title, then each message under
its speaker's heading. Message text is Markdown already and goes in unchanged."""

from __future__ import annotations

from contracts.views import MessageView, ThreadView

SPEAKERS = {"user": "You", "assistant": "Assistant"}


def render(thread: ThreadView, path: list[MessageView]) -> str:
    title = thread.title.replace("\n", " ")
    lines = [f"# {title}", "", f"*{thread.provider} / {thread.model}*", ""]
    for m in path:
        speaker = SPEAKERS.get(m.role, m.role)
        if m.role == "assistant" and m.model:
            speaker = f"{speaker} ({m.model})"
        lines += [f"## {speaker}", "", f"*{m.created_at.isoformat(timespec='seconds')}*", ""]
        lines += [m.content.rstrip() or "*(no text)*", ""]
    return "\n".join(lines)
