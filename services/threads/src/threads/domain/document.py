"""The document aggregate (stream `document-<id>`): a text document of a project or a thread.

Only text is stored: the content is a string (the gateway decodes uploads as UTF-8), and its
size is counted in UTF-8 bytes against the configured limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import reduce
from uuid import UUID

from contracts.base import DomainEvent
from contracts.commands import AddDocument
from contracts.errors import ErrorCode
from contracts.events import DocumentAdded, DocumentDeleted
from threads.domain.errors import DomainError, conflict, invalid, not_found
from threads.domain.text import require_text

FILENAME_MAX = 255
CONTENT_TYPE_MAX = 127
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+(\s*;.*)?$")


def stream_id(document_id: object) -> str:
    return f"document-{document_id}"


@dataclass(frozen=True)
class DocumentState:
    document_id: UUID
    user_id: UUID
    project_id: UUID | None
    thread_id: UUID | None
    deleted: bool = False


def evolve(state: DocumentState | None, event: DomainEvent) -> DocumentState | None:
    match event:
        case DocumentAdded():
            return DocumentState(
                event.document_id, event.user_id, event.project_id, event.thread_id
            )
        case DocumentDeleted() if state is not None:
            return replace(state, deleted=True)
    return state


def fold(events: list[DomainEvent]) -> DocumentState | None:
    return reduce(evolve, events, None)


def decide_add(
    state: DocumentState | None, cmd: AddDocument, *, user_id: UUID, max_bytes: int
) -> list[DocumentAdded]:
    """Scope ownership (the project or thread is the user's) is checked by the handler."""
    if state is not None:
        raise conflict("Document already exists")
    if (cmd.project_id is None) == (cmd.thread_id is None):
        raise invalid("A document belongs to exactly one project or one thread")
    filename = require_text(cmd.filename, "filename").strip()
    if not filename:
        raise invalid("filename must not be empty")
    if len(filename) > FILENAME_MAX:
        raise invalid(f"filename is longer than {FILENAME_MAX} characters")
    content_type = cmd.content_type.strip() or "text/plain"
    if len(content_type) > CONTENT_TYPE_MAX or not _CONTENT_TYPE.match(content_type):
        raise invalid("content_type must be a media type such as text/plain")
    size = len(require_text(cmd.content, "content").encode("utf-8"))
    if size > max_bytes:
        raise DomainError(
            ErrorCode.TOO_LARGE, f"Document is {size} bytes; the limit is {max_bytes} bytes"
        )
    return [
        DocumentAdded(
            document_id=cmd.document_id,
            user_id=user_id,
            project_id=cmd.project_id,
            thread_id=cmd.thread_id,
            filename=filename,
            content_type=content_type,
            content=cmd.content,
            size=size,
        )
    ]


def decide_delete(state: DocumentState | None, *, user_id: UUID | None) -> list[DocumentDeleted]:
    if state is None or state.deleted or state.user_id != user_id:
        raise not_found("Document")
    return [DocumentDeleted(document_id=state.document_id)]
