"""Read model `messages`: every message of every thread, ordered by `seq`, the global position
of the event that posted it (so order is the log's order, whatever the clocks say).

A message stored as given (MessagePosted) and a user's chat turn are `complete` at once. An answer's
row appears at AssistantMessageRequested as `streaming` with empty content (and the caller's
generation options in `metadata.options`), and its outcome fills it in: completed (content, usage),
failed (partial content, metadata naming the error) or cancelled (the partial content exactly as
streamed); each outcome keeps the `reasoning` streamed apart. Deleting a message or its thread
removes the row. The thread's count and activity move in `threads.projections.threads`.

The conversation tree is defined here too: each row's `parent_id`, and the thread row's
`active_leaf_id`, which every new message takes and a deletion or ActiveLeafSet moves. An event
stored before the tree (`chained`, see `threads.store.upcasters`) follows the active leaf as it
was before the event, and a chained deletion takes one link out: what followed it now follows
its parent. So the leaf moves only after the row went in, and before a row goes out.
"""

from __future__ import annotations

from typing import Any

from threads.projections.changes import Changes, Definition, Event, Ref, deletes_with, fields
from threads.store.tables import messages, threads


def _place(out: Changes, event: Event, row: dict[str, Any]) -> None:
    """The row (its user the thread's) below its parent; then it is the thread's active leaf."""
    d = event.data
    thread_id = d["thread_id"]
    refs = {"user_id": Ref(threads, thread_id, "user_id")}
    if d.get("chained"):
        refs["parent_id"] = Ref(threads, thread_id, "active_leaf_id")
    out.insert(messages, row, refs)
    out.update(threads, thread_id, set={"active_leaf_id": d["message_id"]})


def _posted(event: Event, role: str, status: str, **more: Any) -> dict[str, Any]:
    """A posted message's row: its content, artifact data, metadata and parent as given."""
    d = event.data
    return {
        "id": d["message_id"],
        "seq": event.position,
        "thread_id": d["thread_id"],
        "role": role,
        "content": d["content"],
        "artifact_data": d.get("artifact_data"),
        "metadata": d.get("metadata"),
        "status": status,
        **more,
        "created_at": event.recorded_at,
        "parent_id": d.get("parent_id"),
    }


def message_posted(out: Changes, event: Event) -> None:
    d = event.data
    made_by = fields(d, maybe=("provider", "model", "usage"))
    _place(out, event, _posted(event, d["role"], d.get("status", "complete"), **made_by))


def user_message_posted(out: Changes, event: Event) -> None:
    _place(out, event, _posted(event, "user", "complete"))


def assistant_message_requested(out: Changes, event: Event) -> None:
    d = event.data
    row = {
        "id": d["message_id"],
        "seq": event.position,
        "thread_id": d["thread_id"],
        "user_id": d["user_id"],
        "role": "assistant",
        "content": "",
        "status": "streaming",
        "provider": d["provider"],
        "model": d["model"],
        "attempt": d.get("attempt", 1),
        "created_at": event.recorded_at,
        "parent_id": d["user_message_id"],
    }
    if d.get("options"):  # the caller's, as given (unset ones left out)
        options = {k: v for k, v in d["options"].items() if v is not None}
        row["metadata"] = {"options": options}
    out.insert(messages, row)
    out.update(threads, d["thread_id"], set={"active_leaf_id": d["message_id"]})


def _outcome(out: Changes, event: Event, status: str, **extra: Any) -> None:
    d = event.data
    values = {
        "content": d.get("content", ""),
        "attempt": d.get("attempt", 1),
        "status": status,
        "reasoning": d.get("reasoning"),  # None for events before reasoning
        **extra,
    }
    out.update(messages, d["message_id"], set=values)


def assistant_message_completed(out: Changes, event: Event) -> None:
    """`metadata`, when the worker sent it, is the answer's whole metadata (with `context`)."""
    metadata = event.data.get("metadata")
    extra = {"metadata": metadata} if metadata is not None else {}
    _outcome(out, event, "complete", usage=event.data.get("usage"), **extra)


def assistant_message_failed(out: Changes, event: Event) -> None:
    error = {"error_code": event.data["code"], "error": event.data.get("error", "")}
    _outcome(out, event, "failed", metadata=error)


def assistant_message_cancelled(out: Changes, event: Event) -> None:
    _outcome(out, event, "cancelled")


def message_deleted(out: Changes, event: Event) -> None:
    d = event.data
    gone = d["message_id"]
    if d.get("chained"):
        parent = Ref(messages, gone, "parent_id")
        out.update_where(threads, "active_leaf_id", gone, {"active_leaf_id": parent})
        out.update_where(messages, "parent_id", gone, {"parent_id": parent})
        out.delete(messages, gone)
        return
    for message_id in (gone, *d.get("below", ())):
        out.delete(messages, message_id)
    if d.get("active_leaf_moved"):
        out.update(threads, d["thread_id"], set={"active_leaf_id": d.get("active_leaf_id")})


def active_leaf_set(out: Changes, event: Event) -> None:
    d = event.data
    out.update(threads, d["thread_id"], set={"active_leaf_id": d["message_id"]})


CHANGES: Definition = {
    "MessagePosted": message_posted,
    "UserMessagePosted": user_message_posted,
    "AssistantMessageRequested": assistant_message_requested,
    "AssistantMessageCompleted": assistant_message_completed,
    "AssistantMessageFailed": assistant_message_failed,
    "AssistantMessageCancelled": assistant_message_cancelled,
    "MessageDeleted": message_deleted,
    "ActiveLeafSet": active_leaf_set,
    "ThreadDeleted": deletes_with(messages, "thread_id"),
}
