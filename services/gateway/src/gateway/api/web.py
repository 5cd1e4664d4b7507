"""The web page: static files (HTML, ES modules, CSS) shipped inside the gateway package and
served as they are, no build step. The page uses only the public HTTP API.

A strict Content-Security-Policy (scripts from this origin only, no inline script or event
handlers) backs up the page's own rule of never inserting unescaped model output."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

WEB = Path(__file__).resolve().parent.parent / "web"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _file(name: str, folder: Path = WEB) -> FileResponse:
    path = folder / name
    media = TYPES.get(path.suffix)
    if media is None or "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, "Not found")
    return FileResponse(path, media_type=media, headers=HEADERS)


@router.get("/")
async def index() -> FileResponse:
    return _file("index.html")


@router.get("/shared/{share_id}", name="shared_page")
async def shared_page(share_id: str) -> FileResponse:
    """A share link's page: read-only, it fetches `/api/shared/{share_id}` itself."""
    return _file("shared.html")


@router.get("/web/{name}")
async def asset(name: str) -> FileResponse:
    return _file(name)


@router.get("/web/vendor/{name}")
async def vendored(name: str) -> FileResponse:
    """Third-party modules kept as published (web/vendor/README.md says which and why)."""
    return _file(name, WEB / "vendor")
