"""Imports: `POST /api/imports` takes a Switchboard thread export or ChatGPT's
conversations.json (a JSON body, or a multipart `file`) and makes a thread of each
conversation; `GET /api/imports/{id}` says how far one got.

The whole file is read and checked here first (a malformed one → 400 naming the first
problem, nothing stored), then sent in batches that each fit a NATS message. A file of one
batch answers 201 with its threads; a larger one answers 202 once its first batch is in, and
the rest follows in the background (`GET /api/imports/{id}` until `status` is `done`).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from contracts.commands import ImportConversation
from contracts.queries import GetImport
from contracts.views import ImportView
from gateway.api.responses import error, not_found
from gateway.deps import BusDep, CommandId, Meta, SettingsDep
from gateway.imports.job import ImportJob
from gateway.imports.problems import ImportProblem
from gateway.imports.reading import batches, read

router = APIRouter(tags=["imports"])
_RUNNING: set[asyncio.Task[None]] = set()  # background imports, kept from the collector
_KEYS = UUID("5b1c2f3e-8d4a-4c1e-9a57-0c7e3f1d2b64")
OPTIONS = ("model_provider", "model", "project_id")


async def _upload(request: Request) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and the options, from a JSON body or a multipart form."""
    options: dict[str, Any] = {k: request.query_params.get(k) for k in OPTIONS}
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_part_size=request.app.state.settings.max_import_bytes)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "A multipart import needs a `file` part")
        for k in OPTIONS:
            value = form.get(k)
            if isinstance(value, str) and value:
                options[k] = value
        return await upload.read(), options
    return await request.body(), options


def _binding(options: dict[str, Any]) -> dict[str, Any]:
    project = options.get("project_id")
    try:
        project_id = UUID(project) if project else None
    except ValueError:
        raise HTTPException(422, "project_id is not a UUID") from None
    return {
        "provider": options.get("model_provider") or None,
        "model": options.get("model") or None,
        "project_id": project_id,
    }


ENVELOPE_BYTES = 64 * 1024  # room in a NATS message for the command around a conversation


def _read(
    raw: bytes, batch_bytes: int, alone_bytes: int
) -> tuple[list[list[ImportConversation]], str]:
    source, conversations = read(raw)
    return list(batches(conversations, batch_bytes, alone_bytes)) or [[]], source


@router.post(
    "/api/imports",
    status_code=201,
    responses={
        201: {"description": "Imported: `{id, threads, skipped}`"},
        202: {"description": "Importing in the background; see GET /api/imports/{id}"},
        400: error("Not an export this reads, or malformed: the first problem, named"),
        404: not_found("project")[404],
    },
    summary="Import a Switchboard thread export or ChatGPT's conversations.json",
)
async def post_import(
    request: Request, bus: BusDep, meta: Meta, command_id: CommandId, settings: SettingsDep
) -> JSONResponse:
    raw, options = await _upload(request)
    binding = _binding(options)
    try:  # in a thread: a large file takes seconds, and the loop serves everyone else
        # a conversation over a batch goes alone, as large as the NATS server lets a message be
        alone = bus.nc.max_payload - ENVELOPE_BYTES
        packed, source = await asyncio.to_thread(_read, raw, settings.import_batch_bytes, alone)
    except ImportProblem as exc:
        raise HTTPException(400, str(exc)) from None
    keyed = command_id.startswith("key:")
    import_id = uuid5(_KEYS, f"{meta.user_id}/{command_id}") if keyed else uuid4()
    timeout = settings.import_batch_timeout
    job = ImportJob(bus, timeout, meta, command_id, import_id, source, packed, **binding)
    first = await job.send(0)
    body = {"id": str(import_id), **first.model_dump(mode="json")}
    if len(packed) == 1:
        return JSONResponse(body, status_code=201)
    task = asyncio.create_task(job.run_in_background())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    progress = {"status": "running", "total": job.total, "handled": len(packed[0])}
    location = {"Location": f"/api/imports/{import_id}"}
    return JSONResponse({**body, **progress}, status_code=202, headers=location)


@router.get("/api/imports/{import_id}", response_model=ImportView, responses=not_found("import"))
async def get_import(import_id: UUID, bus: BusDep, meta: Meta) -> ImportView:
    return await bus.call(GetImport(meta=meta, import_id=import_id))
