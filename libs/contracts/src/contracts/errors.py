"""Stable error codes carried in replies; the gateway maps each to one HTTP status."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"  # 404: missing, or another user's
    INVALID = "invalid"  # 400: schema-valid but refused by the domain
    CONFLICT = "conflict"  # 409: concurrent change retries could not resolve, duplicate email
    TOO_LARGE = "too_large"  # 413
    UNAUTHORIZED = "unauthorized"  # 401
    UNAVAILABLE = "unavailable"  # 503: a dependency (Postgres) is down
    FORBIDDEN = "forbidden"  # 403: an admin's request by a non-admin
    QUOTA_EXCEEDED = "quota_exceeded"  # 429: at or over a token quota; see `retry_after`
