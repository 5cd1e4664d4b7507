"""Read-model rows → the view models of `contracts.views`."""

from __future__ import annotations

from typing import Any

from contracts.views import (
    DocumentView,
    ForkedFrom,
    MessageView,
    ProjectView,
    ThreadView,
    UserView,
)


def user_view(row: Any) -> UserView:
    return UserView(
        id=row.id, email=row.email, display_name=row.display_name, created_at=row.created_at
    )


def project_view(row: Any) -> ProjectView:
    return ProjectView(
        id=row.id,
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        thread_count=row.thread_count,
        instructions=row.instructions,
    )


def thread_view(row: Any) -> ThreadView:
    return ThreadView(
        id=row.id,
        title=row.title,
        project_id=row.project_id,
        project_name=row.project_name,
        user_id=row.user_id,
        provider=row.provider,
        model=row.model,
        thread_type=row.thread_type,
        agent_type=row.agent_type,
        message_count=row.message_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_activity_at=row.last_activity_at,
        active_leaf_id=row.active_leaf_id,
        forked_from=ForkedFrom(
            thread_id=row.forked_from_thread_id, message_id=row.forked_from_message_id
        )
        if row.forked_from_thread_id is not None
        else None,
        context_window=row.context_window,
        context_policy=row.context_policy,
        instructions=row.instructions,
    )


def message_view(row: Any) -> MessageView:
    return MessageView(
        id=row.id,
        thread_id=row.thread_id,
        role=row.role,
        content=row.content,
        artifact_data=row.artifact_data,
        metadata=row.metadata,
        status=row.status,
        provider=row.provider,
        model=row.model,
        usage=row.usage,
        created_at=row.created_at,
        parent_id=row.parent_id,
        # present when the row was read with its place among its siblings
        sibling_index=getattr(row, "sibling_index", 0),
        sibling_count=getattr(row, "sibling_count", 1),
    )


def document_view(row: Any) -> DocumentView:
    return DocumentView(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        project_id=row.project_id,
        thread_id=row.thread_id,
        created_at=row.created_at,
    )
