"""`GET /asyncapi.json`: the AsyncAPI document of the NATS contracts, public like `/docs`.

The document is generated from the services' FastStream routers (`make asyncapi`) and shipped
inside `contracts`; the gateway only serves the committed file (it imports no service code).
No HTML viewer: the usual AsyncAPI viewers load their scripts from a CDN.
"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from contracts.asyncapi import read_document

router = APIRouter(include_in_schema=False)


@cache
def _document() -> bytes:
    return read_document()


@router.get("/asyncapi.json")
async def asyncapi_document() -> Response:
    return Response(_document(), media_type="application/json")
