"""Errors a caller can branch on: bad input (with the field at fault), not found, refused,
and a database that is away."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: names the argument or input field at fault and a stable code."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


class NotFound(Exception):
    """No such object, or none the caller may see: the two are never told apart."""

    def __init__(self, what: str = "object", field: str | None = None) -> None:
        super().__init__(f"No such {what}.")
        self.what = what
        self.field = field


class Refused(Exception):
    """The caller may not do this (mutations only; reads of hidden rows are NotFound)."""

    def __init__(self, message: str, code: str = "FORBIDDEN") -> None:
        super().__init__(message)
        self.code = code


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now (restarting, pool connections dropped).

    Answered as SERVICE_UNAVAILABLE with HTTP 503 and Retry-After; nothing was written."""

    def __init__(self, retry_after: int = 2) -> None:
        super().__init__("The database is unavailable; try again shortly.")
        self.retry_after = retry_after
