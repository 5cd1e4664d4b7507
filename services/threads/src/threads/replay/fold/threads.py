"""Fold of `threads.projections.threads`: thread rows with their project name, message count
and activity, projects' thread counts and activity, users' thread totals.

Activity only moves forward (`max`, as the projection's `greatest`); a row that is not there is
left alone, as an UPDATE matching nothing would.
"""

from __future__ import annotations

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import Micros, ThreadRow
from threads.replay.fold.state import Event, ReadModels


def touch_thread(m: ReadModels, thread_id: str, at: Micros | None, delta: int) -> None:
    """A message came (+1) or went (-1); `at` moves activity forward, None leaves it."""
    row = m.threads.get(thread_id)
    if row is None:
        return
    if row.project_id is not None and at is not None:
        project = m.projects.get(row.project_id)
        if project is not None and at > project.last_activity_at:
            project.last_activity_at = at
    row.message_count += delta
    if at is not None and at > row.last_activity_at:
        row.last_activity_at = at


def _count_in_project(m: ReadModels, project_id: str, delta: int, at: Micros | None) -> None:
    project = m.projects.get(project_id)
    if project is None:
        return
    project.thread_count += delta
    if at is not None and at > project.last_activity_at:
        project.last_activity_at = at


def _count_for_user(m: ReadModels, user_id: str, delta: int) -> None:
    m.user_thread_counts[user_id] = m.user_thread_counts.get(user_id, 0) + delta


def _project_name(m: ReadModels, project_id: str) -> str | None:
    project = m.projects.get(project_id)
    return project.name if project is not None else None


def _place(m: ReadModels, row: ThreadRow, project_id: str | None) -> None:
    """Set the row's project, keeping `project_threads` exact."""
    if row.project_id is not None:
        m.project_threads[row.project_id].discard(row.id)
    row.project_id = project_id
    if project_id is not None:
        m.project_threads.setdefault(project_id, set()).add(row.id)


def thread_created(m: ReadModels, event: Event) -> None:
    d, at = event.data, event.recorded_at
    project_id = d.get("project_id")
    project_name = None
    if project_id:
        project_name = _project_name(m, project_id)
        _count_in_project(m, project_id, +1, at)
    row = ThreadRow(
        d["thread_id"],
        d["user_id"],
        None,
        project_name,
        d["title"],
        d["model_provider"],
        d["model"],
        d["thread_type"],
        d["agent_type"],
        0,
        at,
        at,
        at,
    )
    m.threads[row.id] = row
    _place(m, row, project_id)
    _count_for_user(m, d["user_id"], +1)


def thread_renamed(m: ReadModels, event: Event) -> None:
    """Renaming is not activity: last_activity_at stays."""
    row = m.threads.get(event.data["thread_id"])
    if row is not None:
        row.title = event.data["title"]
        row.updated_at = event.recorded_at


def thread_moved(m: ReadModels, event: Event) -> None:
    d = event.data
    source, target = d.get("from_project_id"), d.get("to_project_id")
    changes = {source: -1, target: +1}  # the same dict as the projection's, same edge cases
    for project_id, delta in changes.items():
        if project_id:
            at = event.recorded_at if project_id == target else None
            _count_in_project(m, project_id, delta, at)
    project_name = _project_name(m, target) if target else None
    row = m.threads.get(d["thread_id"])
    if row is not None:
        _place(m, row, target)
        row.project_name = project_name
        row.updated_at = event.recorded_at


def thread_deleted(m: ReadModels, event: Event) -> None:
    row = m.threads.get(event.data["thread_id"])
    if row is None:
        return
    if row.project_id is not None:
        _count_in_project(m, row.project_id, -1, None)
    _place(m, row, None)
    del m.threads[row.id]
    _count_for_user(m, row.user_id, -1)


def project_updated(m: ReadModels, event: Event) -> None:
    """The denormalised project name follows a rename."""
    name = event.data.get("name")
    if name is not None:
        for thread_id in m.project_threads.get(event.data["project_id"], ()):
            m.threads[thread_id].project_name = name


def project_deleted(m: ReadModels, event: Event) -> None:
    """Its threads stay the user's, now without a project."""
    for thread_id in m.project_threads.pop(event.data["project_id"], set()):
        row = m.threads[thread_id]
        row.project_id = None
        row.project_name = None


def message_posted(m: ReadModels, event: Event) -> None:
    touch_thread(m, event.data["thread_id"], event.recorded_at, +1)


def message_deleted(m: ReadModels, event: Event) -> None:
    touch_thread(m, event.data["thread_id"], None, -1)


HANDLERS: dict[str, FoldFn] = {
    "ThreadCreated": thread_created,
    "ThreadRenamed": thread_renamed,
    "ThreadMoved": thread_moved,
    "ThreadDeleted": thread_deleted,
    "ProjectUpdated": project_updated,
    "ProjectDeleted": project_deleted,
    "MessagePosted": message_posted,
    "MessageDeleted": message_deleted,
}
