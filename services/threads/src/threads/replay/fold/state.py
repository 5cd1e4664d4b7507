"""The read models held in memory while the bulk phase folds the log: a dict per table keyed by
its primary key, plus the few secondary indexes the cascades need (a project's threads, a
thread's messages, a scope's documents), so no event ever scans a table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, NamedTuple

from threads.replay.fold.rows import (
    DocumentRow,
    MessageRow,
    Micros,
    ProjectRow,
    ProviderSettingRow,
    TaskRouteRow,
    ThreadRow,
    UserRow,
)


class Event(NamedTuple):
    """What a fold reads of a stored event (upcast): no more than a projection may use."""

    position: int
    type: str
    data: dict[str, Any]
    recorded_at: Micros
    raw: str  # the data as stored, for `rows.exact`


@dataclass
class ReadModels:
    users: dict[str, UserRow] = field(default_factory=dict)
    projects: dict[str, ProjectRow] = field(default_factory=dict)
    threads: dict[str, ThreadRow] = field(default_factory=dict)
    user_thread_counts: dict[str, int] = field(default_factory=dict)
    messages: dict[str, MessageRow] = field(default_factory=dict)
    documents: dict[str, DocumentRow] = field(default_factory=dict)
    provider_settings: dict[tuple[str, str], ProviderSettingRow] = field(default_factory=dict)
    task_routes: dict[str, list[TaskRouteRow]] = field(default_factory=dict)
    preferences: dict[str, bool] = field(default_factory=dict)
    # Secondary indexes. The id lists may keep ids of rows deleted since: a cascade pops them
    # with a default. `project_threads` is exact: the threads whose project_id is the key.
    project_threads: dict[str, set[str]] = field(default_factory=dict)
    thread_messages: dict[str, list[str]] = field(default_factory=dict)
    project_documents: dict[str, list[str]] = field(default_factory=dict)
    thread_documents: dict[str, list[str]] = field(default_factory=dict)

    def records(self) -> dict[str, Iterable[tuple[Any, ...]]]:
        """Every table's rows as tuples in column order, by table name, for COPY."""
        routes = (r for user_routes in self.task_routes.values() for r in user_routes)
        return {
            "users": _tuples(UserRow, self.users.values()),
            "projects": _tuples(ProjectRow, self.projects.values()),
            "threads": _tuples(ThreadRow, self.threads.values()),
            "user_thread_counts": self.user_thread_counts.items(),
            "messages": _tuples(MessageRow, self.messages.values()),
            "documents": _tuples(DocumentRow, self.documents.values()),
            "provider_settings": _tuples(ProviderSettingRow, self.provider_settings.values()),
            "task_routes": _tuples(TaskRouteRow, routes),
            "preferences": self.preferences.items(),
        }


def _tuples(row_type: type, rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    getter = attrgetter(*(f.name for f in fields(row_type)))
    return map(getter, rows)
