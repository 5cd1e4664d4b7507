"""Replies to commands and queries: either `data` or an `error`, never both."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

from contracts.errors import ErrorCode


class JsonReady(dict[str, Any]):
    """A reply's data made of JSON values only (str, int, float, bool, None, lists and dicts of
    them): encoded as it is, without pydantic walking every value of a large reply again."""


class PartlyRaw:
    """A view serialised by pydantic but for fields given as JSON text, embedded as they are:
    a large part the database built as JSON (a long thread's messages) goes on the wire
    without being parsed and encoded again here. Whoever reads it validates it whole, as the
    view; the text must be JSON of that field's type."""

    __slots__ = ("raw", "view")

    def __init__(self, view: BaseModel, **raw: str) -> None:
        self.view = view
        self.raw = raw

    def to_json(self) -> bytes:
        body = self.view.__pydantic_serializer__.to_json(self.view, exclude=set(self.raw))
        fields = b",".join(
            b'"%s":%s' % (name.encode(), text.encode()) for name, text in self.raw.items()
        )
        if not fields:
            return body
        return body[:-1] + (b"," if body != b"{}" else b"") + fields + b"}"


class ErrorInfo(BaseModel):
    code: ErrorCode
    detail: str
    retry_after: int | None = None  # seconds, where waiting helps (quota_exceeded)


class Reply(BaseModel):
    """`data` is a JSON object shaped by the view models in `contracts.views`."""

    ok: bool = True
    data: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    replayed: bool = False  # the first reply to this command id, returned again

    @classmethod
    def success(cls, data: dict[str, Any] | None = None) -> Reply:
        return cls(ok=True, data=data)

    @staticmethod
    def success_json(data: JsonReady) -> dict[str, Any]:
        """`Reply.success(data).model_dump(mode="json")`, for data that is JSON already."""
        return {**_SUCCESS, "data": data}

    @staticmethod
    def success_view(view: BaseModel | PartlyRaw) -> dict[str, Any]:
        """`Reply.success(view.model_dump(mode="json")).model_dump(mode="json")` as orjson
        encodes it: the view serialised once, by pydantic's own encoder, and embedded as it
        is (no Python copy of a large view for pydantic to walk twice)."""
        if isinstance(view, PartlyRaw):
            return {**_SUCCESS, "data": orjson.Fragment(view.to_json())}
        return {**_SUCCESS, "data": orjson.Fragment(view.__pydantic_serializer__.to_json(view))}

    @classmethod
    def failure(cls, code: ErrorCode, detail: str, retry_after: int | None = None) -> Reply:
        return cls(ok=False, error=ErrorInfo(code=code, detail=detail, retry_after=retry_after))


_SUCCESS = Reply.success().model_dump(mode="json")
