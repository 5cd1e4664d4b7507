"""The one exception the domain raises: a refusal with a stable code."""

from __future__ import annotations

from contracts.errors import ErrorCode


class DomainError(Exception):
    def __init__(self, code: ErrorCode, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


def not_found(what: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found")


def invalid(detail: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, detail)


def conflict(detail: str) -> DomainError:
    return DomainError(ErrorCode.CONFLICT, detail)


def forbidden(detail: str) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, detail)
