"""Read model `threads`: the global thread list with project name, message count, activity;
with it each user's thread total and each project's thread count and last activity.

`message_count` and `last_activity_at` move here as messages come and go, so listing threads
never touches the messages table; an answer's outcome moves only the activity, and only while
the message is there (it may have been deleted while it streamed). Activity only moves forward.
Where a project row and a thread row both change, the project row changes first, the order
every writer follows, so concurrent writers never deadlock. A message deleted takes everything
below it from the count. The row's `active_leaf_id` is the conversation tree's, defined with
the messages (`threads.projections.messages`).
"""

from __future__ import annotations

from typing import Any

from threads.projections.changes import Changes, Definition, Event, Ref
from threads.store.tables import messages, projects, threads, user_thread_counts


def touch(out: Changes, thread_id: str, at: Any, delta: int) -> None:
    """A message came (`delta` +1), went (-1) or was answered (0). `at` moves the thread's and
    its project's last activity forward; None leaves activity alone."""
    add = {"message_count": delta} if delta else None
    if at is None:
        out.update(threads, thread_id, add=add)
        return
    later = {"last_activity_at": at}
    out.update(projects, Ref(threads, thread_id, "project_id"), later=later)
    out.update(threads, thread_id, add=add, later=later)


def thread_created(out: Changes, event: Event) -> None:
    d, at = event.data, event.recorded_at
    project_id = d.get("project_id")
    refs = None
    if project_id:
        # The name is read after the project row is updated (and so held): a rename
        # committing meanwhile is seen, a later one waits for this transaction.
        out.update(projects, project_id, add={"thread_count": 1}, later={"last_activity_at": at})
        refs = {"project_name": Ref(projects, project_id, "name")}
    row = {
        "id": d["thread_id"],
        "user_id": d["user_id"],
        "project_id": project_id,
        "project_name": None,
        "title": d["title"],
        "provider": d["provider"],
        "model": d["model"],
        "thread_type": d["thread_type"],
        "agent_type": d["agent_type"],
        "message_count": 0,
        "created_at": at,
        "updated_at": at,
        "last_activity_at": at,
        "forked_from_thread_id": (d.get("forked_from") or {}).get("thread_id"),
        "forked_from_message_id": (d.get("forked_from") or {}).get("message_id"),
        "instructions": d.get("instructions"),
    }
    out.insert(threads, row, refs)
    # the user's thread total, so the list never counts rows for it
    counted = {"user_id": d["user_id"], "thread_count": 1}
    out.upsert(user_thread_counts, counted, add={"thread_count": 1})


def thread_renamed(out: Changes, event: Event) -> None:
    """Renaming is not activity: last_activity_at stays."""
    d = event.data
    out.update(threads, d["thread_id"], set={"title": d["title"], "updated_at": event.recorded_at})


def thread_context_configured(out: Changes, event: Event) -> None:
    """Settings, not activity: neither updated_at's list order nor last_activity_at moves."""
    d = event.data
    values = {"context_window": d.get("context_window"), "context_policy": d["context_policy"]}
    out.update(threads, d["thread_id"], set={**values, "updated_at": event.recorded_at})


def thread_instructions_set(out: Changes, event: Event) -> None:
    """Settings, not activity: last_activity_at stays."""
    d = event.data
    values = {"instructions": d.get("instructions"), "updated_at": event.recorded_at}
    out.update(threads, d["thread_id"], set=values)


def thread_moved(out: Changes, event: Event) -> None:
    d = event.data
    source, target = d.get("from_project_id"), d.get("to_project_id")
    moves = {source: -1, target: +1}
    for project_id in sorted((p for p in moves if p), key=str):  # id order, then the thread
        later = {"last_activity_at": event.recorded_at} if project_id == target else None
        out.update(projects, project_id, add={"thread_count": moves[project_id]}, later=later)
    values = {"project_id": target, "updated_at": event.recorded_at}
    if target:
        refs = {"project_name": Ref(projects, target, "name")}
        out.update(threads, d["thread_id"], set=values, refs=refs)
    else:
        out.update(threads, d["thread_id"], set={**values, "project_name": None})


def _delete_thread(out: Changes, thread_id: str) -> None:
    out.update(projects, Ref(threads, thread_id, "project_id"), add={"thread_count": -1})
    uncounted = {"thread_count": -1}
    owner = {"user_id": Ref(threads, thread_id, "user_id")}
    out.upsert(user_thread_counts, uncounted, owner, add={"thread_count": -1})
    out.delete(threads, thread_id)


def thread_deleted(out: Changes, event: Event) -> None:
    thread_id = event.data["thread_id"]
    out.when(threads, thread_id, _delete_thread, thread_id)


def project_updated(out: Changes, event: Event) -> None:
    """The denormalised project name follows a rename."""
    name = event.data.get("name")
    if name is not None:
        out.update_where(threads, "project_id", event.data["project_id"], {"project_name": name})


def project_deleted(out: Changes, event: Event) -> None:
    """Its threads stay the user's, now without a project."""
    values = {"project_id": None, "project_name": None}
    out.update_where(threads, "project_id", event.data["project_id"], values)


def posted(out: Changes, event: Event) -> None:
    touch(out, event.data["thread_id"], event.recorded_at, +1)


def message_deleted(out: Changes, event: Event) -> None:
    """The message and everything below it."""
    d = event.data
    touch(out, d["thread_id"], None, -1 - len(d.get("below", ())))


def answered(out: Changes, event: Event) -> None:
    d = event.data
    out.when(messages, d["message_id"], touch, d["thread_id"], event.recorded_at, 0)


CHANGES: Definition = {
    "ThreadCreated": thread_created,
    "ThreadRenamed": thread_renamed,
    "ThreadMoved": thread_moved,
    "ThreadContextConfigured": thread_context_configured,
    "ThreadInstructionsSet": thread_instructions_set,
    "ThreadDeleted": thread_deleted,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
    "MessagePosted": posted,
    "UserMessagePosted": posted,
    "AssistantMessageRequested": posted,
    "AssistantMessageCompleted": answered,
    "AssistantMessageFailed": answered,
    "AssistantMessageCancelled": answered,
    "MessageDeleted": message_deleted,
}
