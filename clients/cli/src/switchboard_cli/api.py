"""The HTTP API as the client uses it: a small synchronous httpx wrapper that turns error
replies into `ApiError` with the server's `detail`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}" if status else detail)
        self.status = status
        self.detail = detail


@dataclass
class Event:
    """One server-sent event of a chat stream."""

    name: str
    data: dict[str, Any]
    id: str | None = None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI's validation errors
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    return str(detail)


class Api:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = self.http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise ApiError(0, f"Cannot reach {self.base_url} ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.json() if response.content else None

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def text(self, path: str, **kw: Any) -> str:
        """A GET answered with text rather than JSON (a Markdown export)."""
        try:
            response = self.http.get(path, **kw)
        except httpx.TransportError as exc:
            raise ApiError(0, f"Cannot reach {self.base_url} ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response.text

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.request("PUT", path, **kw)

    @contextmanager
    def stream(self, path: str, body: dict[str, Any]) -> Iterator[Iterator[Event]]:
        """POST and read the answer as events; the connection closes when the block ends."""
        timeout = httpx.Timeout(30.0, read=300.0)
        try:
            with self.http.stream("POST", path, json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise ApiError(response.status_code, _detail(response))
                yield events(response.iter_lines())
        except httpx.TransportError as exc:
            raise ApiError(0, f"Connection to {self.base_url} lost ({type(exc).__name__})") from exc


def events(lines: Iterator[str]) -> Iterator[Event]:
    name: str = "message"
    ident: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield Event(name, json.loads("\n".join(data)), ident)
            name, ident, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "id":
                ident = value
            elif key == "data":
                data.append(value)
