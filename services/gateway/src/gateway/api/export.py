"""`GET /api/threads/{id}/export`: `format=json` holds everything an import needs to make the
thread again (every branch with its parents, the active leaf, the documents with their text);
`format=markdown` the active path, to read."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from contracts.queries import GetDocument, GetThread, ListDocuments, ListMessages
from gateway import export_markdown
from gateway.api.responses import not_found
from gateway.deps import BusDep, Meta
from gateway.imports.switchboard import FORMAT

router = APIRouter(tags=["imports"])


class ExportFormat(StrEnum):
    json = "json"
    markdown = "markdown"


@router.get(
    "/api/threads/{thread_id}/export",
    responses={
        **not_found("thread"),
        200: {"content": {"application/json": {}, "text/markdown": {}}},
    },
    summary="The thread as a Switchboard export (JSON) or its active path as Markdown",
)
async def export_thread(
    thread_id: UUID, bus: BusDep, meta: Meta, format: ExportFormat = ExportFormat.json
) -> Response:
    detail = await bus.call(GetThread(meta=meta, thread_id=thread_id))
    if format is ExportFormat.markdown:
        text = export_markdown.render(detail, detail.messages)
        filename = f"thread-{thread_id}.md"
        return Response(
            text,
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    every = await bus.call(ListMessages(meta=meta, thread_id=thread_id, path="all"))
    listed = await bus.call(ListDocuments(meta=meta, thread_id=thread_id))
    documents = [
        (await bus.call(GetDocument(meta=meta, document_id=d.id))).model_dump(mode="json")
        for d in listed.documents
    ]
    thread = detail.model_dump(mode="json", exclude={"messages", "user_id"})
    body = {
        "format": FORMAT,
        "thread": thread,
        "messages": [m.model_dump(mode="json") for m in every.messages],
        "documents": documents,
    }
    return JSONResponse(body)
