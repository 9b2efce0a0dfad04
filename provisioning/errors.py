"""Errors the services raise; each face (web, API, CLI) turns them into its own answer."""

from __future__ import annotations


class ServiceError(Exception):
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidRequest(ServiceError):
    """Bad input; ``fields`` names each field and what is wrong with it (HTTP 400)."""

    code = "invalid"


class PolicyRefused(ServiceError):
    """Over budget or over quota, with the numbers (HTTP 400)."""

    code = "policy_refused"


class Forbidden(ServiceError):
    """A visible object, an action this person may not take (HTTP 403)."""

    code = "forbidden"


class Conflict(ServiceError):
    """The environment already has an active change, or the change moved on (HTTP 409)."""

    code = "conflict"
