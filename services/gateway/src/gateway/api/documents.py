"""Text documents of a project or a thread: add (JSON or a multipart upload), list, get, delete.

Uploads must be UTF-8 text. Bytes that do not decode as UTF-8, or that hold NUL characters
(binary files), answer 415 Unsupported Media Type; a document over `max_document_bytes`
(UTF-8 bytes of its content) answers 413.
"""

from __future__ import annotations

import codecs
import posixpath
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from contracts.commands import AddDocument, DeleteDocument
from contracts.queries import GetDocument, ListDocuments
from contracts.text import problem
from contracts.views import AckView, DocumentDetailView, DocumentListView, DocumentView
from gateway.api.responses import Responses, error, not_found
from gateway.deps import BusDep, Meta, Send, SettingsDep
from gateway.schemas import DocumentIn

router = APIRouter(tags=["documents"])
NOT_FOUND = not_found("project, thread or document")
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "filename": {"type": "string", "maxLength": 255},
                        "content_type": {"type": "string", "maxLength": 127},
                    },
                }
            },
        },
    }
}
ADD_RESPONSES: Responses = {
    **NOT_FOUND,
    413: error("Document over the size limit"),
    415: error(
        "Neither JSON nor multipart/form-data, or a file that is not UTF-8 text "
        "(bytes that do not decode, or NUL bytes)"
    ),
}
TEXTUAL_SUFFIXES = ("json", "xml", "yaml", "csv", "javascript", "x-sh", "toml", "sql")


def _invalid(loc: tuple[str | int, ...], msg: str, kind: str = "value_error") -> Exception:
    return RequestValidationError([{"type": kind, "loc": ("body", *loc), "msg": msg}])


def _too_large(size: int, limit: int) -> HTTPException:
    return HTTPException(413, f"Document is over the {limit} byte limit ({size}+ bytes)")


def _decode_text(data: bytes) -> str:
    """Strict UTF-8 (a leading BOM is dropped); anything else is not a text document."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(415, "Only UTF-8 text documents are supported") from None
    if problem(text) is not None:  # strict UTF-8 already: NUL bytes, so not a text file
        raise HTTPException(415, "Only text documents are supported (the file holds NUL bytes)")
    return text


def _media_type(given: str | None) -> str:
    media = (given or "").split(";")[0].strip().lower()
    if media.startswith("text/") or media.endswith(TEXTUAL_SUFFIXES):
        return media[:127]
    return "text/plain"


async def _from_json(request: Request, limit: int) -> DocumentIn:
    raw = await request.body()
    try:
        body = DocumentIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
    size = len(body.content.encode("utf-8"))
    if size > limit:
        raise _too_large(size, limit)
    return body


async def _from_upload(request: Request, limit: int) -> DocumentIn:
    form = await request.form(max_files=1, max_fields=8)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _invalid(("file",), "Field required (a file)", "missing")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise _too_large(len(data), limit)
        content = _decode_text(data)
        name = form.get("filename")
        filename = name if isinstance(name, str) and name else upload.filename or ""
        filename = posixpath.basename(filename.replace("\\", "/")).strip()
        given_type = form.get("content_type")
        content_type = _media_type(
            given_type if isinstance(given_type, str) else upload.content_type
        )
    finally:
        await form.close()
    try:
        return DocumentIn(filename=filename, content=content, content_type=content_type)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


async def read_document(request: Request, limit: int) -> DocumentIn:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        return await _from_upload(request, limit)
    if media == "application/json" or media.endswith("+json"):
        return await _from_json(request, limit)
    raise HTTPException(
        415, "Send JSON {filename, content, content_type?} or multipart/form-data with a file"
    )


@dataclass(frozen=True)
class Owner:
    """Whose documents: a project's or a thread's (exactly one id is set)."""

    project_id: UUID | None = None
    thread_id: UUID | None = None


async def project_owner(project_id: UUID) -> Owner:
    return Owner(project_id=project_id)


async def thread_owner(thread_id: UUID) -> Owner:
    return Owner(thread_id=thread_id)


def owner_routes(kind: str, path: str, owner: Callable[..., Awaitable[Owner]]) -> None:
    """Add and list, the same for a project's documents and a thread's: only the owner's id,
    taken from its path, differs."""
    # A default, not an Annotated alias: annotations are strings here, and `owner` is local.
    of_owner = Depends(owner)

    @router.post(
        f"{path}/documents",
        name=f"post_{kind}_document",
        status_code=201,
        response_model=DocumentView,
        responses=ADD_RESPONSES,
        openapi_extra=UPLOAD_BODY,
    )
    async def post_document(
        request: Request, send: Send, settings: SettingsDep, of: Owner = of_owner
    ) -> DocumentView:
        body = await read_document(request, settings.max_document_bytes)
        fields = {**asdict(of), **body.model_dump()}  # the command's names for both
        return await send(AddDocument, document_id=uuid4(), **fields)

    @router.get(
        f"{path}/documents",
        name=f"get_{kind}_documents",
        response_model=DocumentListView,
        responses=NOT_FOUND,
    )
    async def get_documents(bus: BusDep, meta: Meta, of: Owner = of_owner) -> DocumentListView:
        query = ListDocuments(meta=meta, project_id=of.project_id, thread_id=of.thread_id)
        return await bus.call(query)


owner_routes("project", "/api/projects/{project_id}", project_owner)
owner_routes("thread", "/api/threads/{thread_id}", thread_owner)


@router.get("/api/documents/{document_id}", response_model=DocumentDetailView, responses=NOT_FOUND)
async def get_document(document_id: UUID, bus: BusDep, meta: Meta) -> DocumentDetailView:
    query = GetDocument(meta=meta, document_id=document_id)
    return await bus.call(query)


@router.delete("/api/documents/{document_id}", response_model=AckView, responses=NOT_FOUND)
async def delete_document(document_id: UUID, send: Send) -> AckView:
    return await send(DeleteDocument, document_id=document_id)
