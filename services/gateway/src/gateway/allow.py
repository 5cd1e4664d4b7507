"""The `Allow` header of a 405: every method of the resource, across all the routes serving its
path. Starlette names only the first route whose path matched, and a resource such as
/api/threads is served by several (GET lists, POST creates)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Match

METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(routes: list[BaseRoute], path: str) -> str:
    """The methods some route fully matches for `path`, asked through the routes' own matching
    (the public `matches`), so included routers and path converters count as they route."""
    allowed = []
    for method in METHODS:
        scope = {"type": "http", "path": path, "root_path": "", "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)
