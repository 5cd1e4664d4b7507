"""Fold of `threads.projections.chat_messages`: user turns, and answers from `streaming` to
their outcome (content, attempt, usage or the error in metadata). A message moves its thread's
count and activity; an outcome moves only the activity, and only if the message is still there."""

from __future__ import annotations

import sys

from threads.replay.fold import FoldFn
from threads.replay.fold.messages import add_message, owner
from threads.replay.fold.rows import MessageRow, json_field, jsonb
from threads.replay.fold.state import Event, ReadModels
from threads.replay.fold.threads import touch_thread


def user_message_posted(m: ReadModels, event: Event) -> None:
    d = event.data
    thread_id, user_id = owner(m, d["thread_id"])
    add_message(
        m,
        MessageRow(
            d["message_id"],
            event.position,
            thread_id,
            user_id,
            "user",
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
    touch_thread(m, d["thread_id"], event.recorded_at, +1)


def assistant_message_requested(m: ReadModels, event: Event) -> None:
    d = event.data
    add_message(
        m,
        MessageRow(
            d["message_id"],
            event.position,
            owner(m, d["thread_id"])[0],
            d["user_id"],
            "assistant",
            "",
            None,
            None,
            "streaming",
            sys.intern(d["provider"]),
            sys.intern(d["model"]),
            None,
            d.get("attempt", 1),
            event.recorded_at,
        ),
    )
    touch_thread(m, d["thread_id"], event.recorded_at, +1)


def _finish(m: ReadModels, event: Event, status: str) -> MessageRow | None:
    d = event.data
    row = m.messages.get(d["message_id"])
    if row is None:  # deleted while it streamed
        return None
    row.content = d.get("content", "")
    row.attempt = d.get("attempt", 1)
    row.status = status
    touch_thread(m, d["thread_id"], event.recorded_at, 0)
    return row


def assistant_message_completed(m: ReadModels, event: Event) -> None:
    row = _finish(m, event, "complete")
    if row is not None:
        row.usage = json_field(event.data, event.raw, "usage")


def assistant_message_failed(m: ReadModels, event: Event) -> None:
    row = _finish(m, event, "failed")
    if row is not None:
        row.metadata = jsonb(
            {"error_code": event.data["code"], "error": event.data.get("error", "")}
        )


def assistant_message_cancelled(m: ReadModels, event: Event) -> None:
    _finish(m, event, "cancelled")


HANDLERS: dict[str, FoldFn] = {
    "UserMessagePosted": user_message_posted,
    "AssistantMessageRequested": assistant_message_requested,
    "AssistantMessageCompleted": assistant_message_completed,
    "AssistantMessageFailed": assistant_message_failed,
    "AssistantMessageCancelled": assistant_message_cancelled,
}
