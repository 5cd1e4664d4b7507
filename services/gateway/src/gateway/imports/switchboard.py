"""Switchboard's own thread export (`switchboard.thread.v1`): every message of every branch
with its parent, the active leaf, the documents. Imported as it was: same contents, same tree,
same active path; each message's own id and time go into `metadata.imported`."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from contracts.commands import ImportConversation, ImportDocument, ImportMessage
from gateway.imports.problems import ImportProblem, at

FORMAT = "switchboard.thread.v1"


def _message(thread_id: str, m: Any, seen: set[str]) -> ImportMessage:
    if not isinstance(m, dict) or not isinstance(m.get("id"), str):
        raise ImportProblem(f"{at(thread_id)}: a message has no id")
    ref, parent = m["id"], m.get("parent_id")
    if parent is not None and parent not in seen:
        raise ImportProblem(f"{at(thread_id, ref)}: its parent {parent!r} does not come before it")
    metadata: dict[str, Any] = m["metadata"] if isinstance(m.get("metadata"), dict) else {}
    imported = {"source": "switchboard", "id": ref, "created_at": m.get("created_at")}
    status = m.get("status", "complete")
    try:
        return ImportMessage(
            ref=ref,
            parent_ref=parent,
            role=m.get("role"),
            content=m.get("content"),
            artifact_data=m.get("artifact_data"),
            metadata={**metadata, "imported": imported},
            provider=m.get("provider"),
            model=m.get("model"),
            usage=m.get("usage"),
            status="cancelled" if status == "streaming" else status,
        )
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ImportProblem(f"{at(thread_id, ref)}: {field} is not valid") from None


def read(data: dict[str, Any]) -> list[ImportConversation]:
    thread = data.get("thread")
    if not isinstance(thread, dict) or not isinstance(thread.get("id"), str):
        raise ImportProblem("the export has no thread.id")
    thread_id = thread["id"]
    raw = data.get("messages")
    if not isinstance(raw, list):
        raise ImportProblem(f"{at(thread_id)}: messages is not a list")
    seen: set[str] = set()
    messages = []
    for m in raw:
        message = _message(thread_id, m, seen)
        seen.add(message.ref)
        messages.append(message)
    active = thread.get("active_leaf_id")
    if active is not None and active not in seen:
        raise ImportProblem(f"{at(thread_id)}: active_leaf_id is not one of its messages")
    documents = []
    for d in data.get("documents") or []:
        if not isinstance(d, dict) or not isinstance(d.get("content"), str):
            raise ImportProblem(f"{at(thread_id)}: a document has no content")
        documents.append(
            ImportDocument(
                filename=str(d.get("filename") or "document"),
                content_type=str(d.get("content_type") or "text/plain"),
                content=d["content"],
            )
        )
    title = thread.get("title") if isinstance(thread.get("title"), str) else ""
    return [
        ImportConversation(
            seq=0,
            source_id=thread_id,
            title=title or "Imported chat",
            messages=messages,
            active_ref=active,
            documents=documents,
            skip=None if messages or documents else "no messages in it",
            provider=thread.get("provider") if isinstance(thread.get("provider"), str) else None,
            model=thread.get("model") if isinstance(thread.get("model"), str) else None,
        )
    ]
