"""The error answers the OpenAPI document names: every API route's (`ERRORS`), and the
route-specific wording of a status (`error`), with the `{"detail"}` body they all have."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


class ErrorOut(BaseModel):
    detail: str


def error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


ERRORS: Responses = {
    400: error("Invalid input"),
    401: error("Missing, invalid or expired access token"),
    404: error("No such resource, or not yours"),
    409: error("A conflicting change, or an Idempotency-Key used for another request"),
    413: error("Request body or document over its size limit"),
    429: error("Over a per-user rate limit; see Retry-After"),
    503: error("Temporarily unavailable; see Retry-After"),
}


def not_found(what: str) -> Responses:
    return {404: error(f"No such {what}, or not yours")}
