"""Importing conversations: each source conversation becomes a thread through the same events
a thread made here gets (ThreadCreated, MessagePosted below its parent, ActiveLeafSet,
DocumentAdded), plus ConversationImported on the conversation's own stream, the idempotency
map replay rebuilds: importing it again returns the thread it made.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from contracts.base import DomainEvent
from contracts.commands import CreateThread, ImportConversation, ImportConversations
from contracts.events import (
    ActiveLeafSet,
    ConversationImported,
    DocumentAdded,
    ImportedItem,
    MessagePosted,
)
from threads.domain import thread
from threads.domain.errors import invalid
from threads.domain.text import require_json, require_text

_SOURCES = uuid5(NAMESPACE_URL, "switchboard:imported-source")


def source_stream(user_id: UUID, source: str, source_id: str) -> str:
    """The stream of one user's one source conversation (its claim)."""
    return f"imported-{uuid5(_SOURCES, f'{user_id}/{source}/{source_id}')}"


def import_stream(import_id: UUID) -> str:
    return f"import-{import_id}"


def new_thread_id(import_id: UUID, source_id: str) -> UUID:
    """The same on every rerun of the import."""
    return uuid5(import_id, source_id)


def message_id(thread_id: UUID, ref: str) -> UUID:
    return uuid5(thread_id, ref)


def decide_conversation(
    cmd: ImportConversations,
    conv: ImportConversation,
    *,
    user_id: UUID,
    default_provider: str,
    max_document_bytes: int,
) -> tuple[UUID, list[DomainEvent], list[DocumentAdded], ConversationImported]:
    """(thread id, the thread stream's events, its documents (each on its own stream), the
    claim event) for a conversation not yet imported, or whose thread is gone."""
    thread_id = new_thread_id(cmd.import_id, conv.source_id)
    create = CreateThread(
        thread_id=thread_id,
        project_id=cmd.project_id,
        title=conv.title[: thread.TITLE_MAX],
        provider=cmd.provider or conv.provider,
        model=cmd.model if cmd.provider else conv.model,
    )
    events: list[DomainEvent] = list(
        thread.decide_create(
            None, create, user_id=user_id, default_provider=default_provider, routed_model=None
        )
    )
    seen: set[str] = set()
    where = f"conversation {conv.source_id!r}"
    for m in conv.messages:
        if m.ref in seen:
            raise invalid(f"{where}: message {m.ref!r} appears twice")
        if m.parent_ref is not None and m.parent_ref not in seen:
            raise invalid(f"{where}: message {m.ref!r} comes before its parent")
        if len(m.content) > thread.CONTENT_MAX:
            raise invalid(f"{where}: message {m.ref!r} is longer than {thread.CONTENT_MAX}")
        seen.add(m.ref)
        events.append(
            MessagePosted(
                message_id=message_id(thread_id, m.ref),
                thread_id=thread_id,
                role=m.role,
                content=require_text(m.content, "content"),
                artifact_data=require_json(m.artifact_data, "artifact_data"),
                metadata=require_json(m.metadata, "metadata"),
                parent_id=message_id(thread_id, m.parent_ref) if m.parent_ref else None,
                provider=m.provider,
                model=m.model,
                usage=m.usage,
                status=m.status,
            )
        )
    if conv.active_ref is not None:
        if conv.active_ref not in seen:
            raise invalid(f"{where}: the active message {conv.active_ref!r} is not in it")
        events.append(
            ActiveLeafSet(thread_id=thread_id, message_id=message_id(thread_id, conv.active_ref))
        )
    documents: list[DocumentAdded] = []
    for n, doc in enumerate(conv.documents):
        size = len(require_text(doc.content, "document").encode("utf-8"))
        if size > max_document_bytes:
            raise invalid(f"{where}: document {doc.filename!r} is over {max_document_bytes} bytes")
        documents.append(
            DocumentAdded(
                document_id=uuid5(thread_id, f"document/{n}"),
                user_id=user_id,
                project_id=None,
                thread_id=thread_id,
                filename=require_text(doc.filename, "filename")[:255] or "document",
                content_type=doc.content_type[:127] or "text/plain",
                content=doc.content,
                size=size,
            )
        )
    claim = ConversationImported(
        import_id=cmd.import_id,
        user_id=user_id,
        source=cmd.source,
        source_id=conv.source_id,
        thread_id=thread_id,
    )
    return thread_id, events, documents, claim


def item(conv: ImportConversation, thread_id: UUID, title: str) -> ImportedItem:
    return ImportedItem(seq=conv.seq, source_id=conv.source_id, thread_id=thread_id, title=title)


def skipped(conv: ImportConversation) -> ImportedItem:
    return ImportedItem(seq=conv.seq, source_id=conv.source_id, thread_id=None, reason=conv.skip)
