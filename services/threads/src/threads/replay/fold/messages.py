"""Fold of `threads.projections.messages`: messages stored as given, `seq` the position of the
posting event; deleting a message or its thread removes the row (chat messages too)."""

from __future__ import annotations

import sys

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import MessageRow, json_field
from threads.replay.fold.state import Event, ReadModels


def owner(m: ReadModels, thread_id: str) -> tuple[str, str | None]:
    """The thread's id and user, as the projection's subquery reads it. The id is the thread
    row's own string when there is one: a million messages then share a few thousand ids."""
    thread = m.threads.get(thread_id)
    return (thread.id, thread.user_id) if thread is not None else (thread_id, None)


def add_message(m: ReadModels, row: MessageRow) -> None:
    m.messages[row.id] = row
    ids = m.thread_messages.get(row.thread_id)
    if ids is None:
        m.thread_messages[row.thread_id] = [row.id]
    else:
        ids.append(row.id)


def message_posted(m: ReadModels, event: Event) -> None:
    d = event.data
    thread_id, user_id = owner(m, d["thread_id"])
    add_message(
        m,
        MessageRow(
            d["message_id"],
            event.position,
            thread_id,
            user_id,
            sys.intern(d["role"]),
            d["content"],
            json_field(d, event.raw, "artifact_data"),
            json_field(d, event.raw, "metadata"),
            "complete",
            None,
            None,
            None,
            1,
            event.recorded_at,
        ),
    )


def message_deleted(m: ReadModels, event: Event) -> None:
    m.messages.pop(event.data["message_id"], None)


def thread_deleted(m: ReadModels, event: Event) -> None:
    for message_id in m.thread_messages.pop(event.data["thread_id"], ()):
        m.messages.pop(message_id, None)


HANDLERS: dict[str, FoldFn] = {
    "MessagePosted": message_posted,
    "MessageDeleted": message_deleted,
    "ThreadDeleted": thread_deleted,
}
