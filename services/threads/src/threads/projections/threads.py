"""Read model `threads`: the global thread list with project name, message count, activity;
with it each user's thread total and each project's thread count and last activity.

`message_count` and `last_activity_at` move here as messages come and go, so listing threads
never touches the messages table; an answer's outcome moves only the activity, and only while
the message is there (it may have been deleted while it streamed). Activity only moves forward.
Where a project row and a thread row both change, the project row changes first, the order
every writer follows, so concurrent writers never deadlock.
"""

from __future__ import annotations

from typing import Any

from threads.projections.changes import (
    Change,
    Definition,
    Delete,
    Event,
    Insert,
    Ref,
    Update,
    UpdateWhere,
    Upsert,
    When,
)
from threads.store.tables import messages, projects, threads, user_thread_counts


def touch(thread_id: str, at: Any, delta: int) -> list[Change]:
    """A message came (`delta` +1), went (-1) or was answered (0). `at` moves the thread's and
    its project's last activity forward; None leaves activity alone."""
    add = {"message_count": delta} if delta else None
    if at is None:
        return [Update(threads, thread_id, add=add)]
    later = {"last_activity_at": at}
    project = Ref(threads, thread_id, "project_id")
    return [
        Update(projects, project, later=later),
        Update(threads, thread_id, add=add, later=later),
    ]


def _count_for_user(user: Any, delta: int) -> Change:
    """The user's thread total, so the list never counts rows for it."""
    add = {"thread_count": delta}
    if isinstance(user, Ref):
        return Upsert(user_thread_counts, {"thread_count": delta}, {"user_id": user}, add=add)
    return Upsert(user_thread_counts, {"user_id": user, "thread_count": delta}, add=add)


def thread_created(event: Event) -> list[Change]:
    d, at = event.data, event.recorded_at
    project_id = d.get("project_id")
    changes: list[Change] = []
    refs = None
    if project_id:
        # The name is read after the project row is updated (and so held): a rename
        # committing meanwhile is seen, a later one waits for this transaction.
        changes.append(
            Update(projects, project_id, add={"thread_count": 1}, later={"last_activity_at": at})
        )
        refs = {"project_name": Ref(projects, project_id, "name")}
    row = {
        "id": d["thread_id"],
        "user_id": d["user_id"],
        "project_id": project_id,
        "project_name": None,
        "title": d["title"],
        "model_provider": d["model_provider"],
        "model": d["model"],
        "thread_type": d["thread_type"],
        "agent_type": d["agent_type"],
        "message_count": 0,
        "created_at": at,
        "updated_at": at,
        "last_activity_at": at,
    }
    changes.append(Insert(threads, row, refs))
    changes.append(_count_for_user(d["user_id"], +1))
    return changes


def thread_renamed(event: Event) -> list[Change]:
    """Renaming is not activity: last_activity_at stays."""
    d = event.data
    values = {"title": d["title"], "updated_at": event.recorded_at}
    return [Update(threads, d["thread_id"], set=values)]


def thread_moved(event: Event) -> list[Change]:
    d = event.data
    source, target = d.get("from_project_id"), d.get("to_project_id")
    moves = {source: -1, target: +1}
    changes: list[Change] = []
    for project_id in sorted((p for p in moves if p), key=str):  # id order, then the thread
        later = {"last_activity_at": event.recorded_at} if project_id == target else None
        add = {"thread_count": moves[project_id]}
        changes.append(Update(projects, project_id, add=add, later=later))
    values = {"project_id": target, "updated_at": event.recorded_at}
    if target:
        refs = {"project_name": Ref(projects, target, "name")}
        changes.append(Update(threads, d["thread_id"], set=values, refs=refs))
    else:
        changes.append(Update(threads, d["thread_id"], set={**values, "project_name": None}))
    return changes


def thread_deleted(event: Event) -> list[Change]:
    thread_id = event.data["thread_id"]
    project = Ref(threads, thread_id, "project_id")
    owner = Ref(threads, thread_id, "user_id")
    return [
        When(
            threads,
            thread_id,
            [
                Update(projects, project, add={"thread_count": -1}),
                _count_for_user(owner, -1),
                Delete(threads, thread_id),
            ],
        )
    ]


def project_updated(event: Event) -> list[Change]:
    """The denormalised project name follows a rename."""
    name = event.data.get("name")
    if name is None:
        return []
    return [UpdateWhere(threads, "project_id", event.data["project_id"], {"project_name": name})]


def project_deleted(event: Event) -> list[Change]:
    """Its threads stay the user's, now without a project."""
    values = {"project_id": None, "project_name": None}
    return [UpdateWhere(threads, "project_id", event.data["project_id"], values)]


def posted(event: Event) -> list[Change]:
    return touch(event.data["thread_id"], event.recorded_at, +1)


def message_deleted(event: Event) -> list[Change]:
    return touch(event.data["thread_id"], None, -1)


def answered(event: Event) -> list[Change]:
    d = event.data
    return [When(messages, d["message_id"], touch(d["thread_id"], event.recorded_at, 0))]


CHANGES: Definition = {
    "ThreadCreated": thread_created,
    "ThreadRenamed": thread_renamed,
    "ThreadMoved": thread_moved,
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
