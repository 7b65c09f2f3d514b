"""The daemon's exception tree.

Every error a user can cause is one of these, with a message that says what to
do. The REST layer maps them to HTTP status codes in one place
(``server/base.py``); the CLI prints their message. Anything else that escapes
is a bug and becomes a 500.
"""

from __future__ import annotations


class MlopsError(Exception):
    """Base of all errors the daemon reports to users."""

    code = "error"
    http_status = 500

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(MlopsError):
    """The request is malformed or names something impossible (HTTP 400)."""

    code = "invalid_input"
    http_status = 400


class Unauthorized(MlopsError):
    """The bearer token is missing or wrong (HTTP 401)."""

    code = "unauthorized"
    http_status = 401


class NotFound(MlopsError):
    """The named object does not exist (HTTP 404)."""

    code = "not_found"
    http_status = 404


class Conflict(MlopsError):
    """The request clashes with the object's current state (HTTP 409)."""

    code = "conflict"
    http_status = 409


class Unprocessable(MlopsError):
    """The request is well-formed but its content cannot be processed (HTTP 422),
    e.g. a notebook whose cells fail when run top to bottom."""

    code = "unprocessable"
    http_status = 422


class IllegalTransition(Conflict):
    """A run cannot move from its current status to the one asked for."""

    code = "illegal_transition"


class DaemonUnavailable(MlopsError):
    """The CLI could not reach the daemon (it says how to start one)."""

    code = "daemon_unavailable"
    http_status = 503
