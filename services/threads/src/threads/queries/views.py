"""Read-model rows → the view models of `contracts.views`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from contracts.views import (
    DocumentView,
    ForkedFrom,
    MessageView,
    ProjectView,
    ThreadView,
    UserView,
)

V = TypeVar("V", bound=BaseModel)


def from_row(model: type[V], row: Any, **given: Any) -> V:
    """`model` with each field the row has a column for read from it, but for `given`; a field
    the row does not hold takes its default (a message read without its place among its
    siblings)."""
    columns = row._mapping
    read = {name: columns[name] for name in model.model_fields if name in columns}
    return model(**{**read, **given})


def user_view(row: Any) -> UserView:
    return from_row(UserView, row)


def project_view(row: Any) -> ProjectView:
    return from_row(ProjectView, row)


def thread_view(row: Any) -> ThreadView:
    forked_from = (
        ForkedFrom(thread_id=row.forked_from_thread_id, message_id=row.forked_from_message_id)
        if row.forked_from_thread_id is not None
        else None
    )
    return from_row(ThreadView, row, forked_from=forked_from)


def message_view(row: Any) -> MessageView:
    return from_row(MessageView, row)


def document_view(row: Any) -> DocumentView:
    return from_row(DocumentView, row)
